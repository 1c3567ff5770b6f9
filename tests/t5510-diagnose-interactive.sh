#!/bin/sh
test_description='sre diagnose -i: a session with the adviser on a terminal (a pseudo-terminal, as script(1) gives)'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

MAKE="$TEST_DIRECTORY/data/graph/make-graph-bundle.py"
PTY="$TEST_DIRECTORY/pty-session.py"
KEY=sk-canary-repl-0123456789abcdef

# set_script TURNS: what the fake model answers, turn by turn (a JSON array).
set_script() {
	python3 -c 'import sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/_fake/set", method="POST",
                             data=("{\"turns\": " + sys.argv[2] + "}").encode())
urllib.request.urlopen(req, timeout=5).read()' "$FAKE_URL" "$1"
}

# session STEPS [ARGS...]: sre diagnose -i ARGS on a terminal, driven by
# STEPS (tests/pty-session.py); what it wrote is in log, escapes and all.
session() {
	steps=$1 && shift &&
	SRE_CONFIG="$PWD/config" OPENAI_API_KEY=$KEY XDG_STATE_HOME="$PWD/state" \
		python3 "$PTY" --log log --timeout 15 "$steps" -- sre diagnose -i "$@"
}

# the_user_turns: every user message the model was sent, one a line.
the_user_turns() {
	python3 - "$FAKE_LOG" <<-\EOT
	import json, sys
	for line in open(sys.argv[1]):
	    r = json.loads(line)
	    if r["path"] != "/v1/chat/completions":
	        continue
	    for m in json.loads(r["body"])["messages"]:
	        if m["role"] in ("user", "tool"):
	            print(json.dumps(m["content"]))
	EOT
}

# The sessions on a pseudo-terminal check GNU readline's behaviour (prereq
# READLINE): libedit (make READLINE=edit) has no hook to clear a line at
# Ctrl-C, and completes and ends lines on a pseudo-terminal its own way.

python3 "$MAKE" bundle defect pricing || exit 1
LOG=$(ls bundle/logs/pricing/*.log)
LOG_NAME=pricing/$(basename "$LOG" .log)
start_fake llm || { echo "Bail out! the fake model did not start"; exit 1; }

test_expect_success 'setup: [llm] pointed at the scripted model' '
	cat >config <<-EOT
	[llm]
		provider = openai
		url = $FAKE_URL/v1
		model = fake-1
	[http]
		retries = 0
	EOT
'

test_expect_success READLINE 'a follow-up question: the model reads a log, then answers in words' '
	set_script "[{\"calls\": [{\"name\": \"grep_log\", \"arguments\": {\"log\": \"$LOG_NAME\", \"pattern\": \"exception\"}}]},
		{\"text\": \"pricing throws IllegalStateException on every call\"}]" &&
	session "expect sre> 
send why is storefront slow?
expect grep_log
expect pricing throws IllegalStateException on every call
expect 2 steps
expect sre> 
key ctrl-d
eof" --evidence bundle &&
	grep "Root cause  storefront suffers because pricing" log &&
	grep "^\[exit 0\]" log &&
	the_user_turns >turns &&
	grep "The operator asks: why is storefront slow?" turns &&
	grep "IllegalStateException" turns &&
	test "$(fake_count POST /v1/chat/completions)" = 2
'

test_expect_success READLINE 'the conversation goes on: the second question carries the first' '
	: >"$FAKE_LOG" &&
	set_script "[{\"text\": \"first answer\"}, {\"text\": \"second answer\"}]" &&
	session "expect sre> 
send first question
expect first answer
expect sre> 
send second question
expect second answer
expect sre> 
send /quit
eof" --evidence bundle &&
	python3 - "$FAKE_LOG" <<-\EOT
	import json, sys
	bodies = [json.loads(json.loads(l)["body"]) for l in open(sys.argv[1])]
	assert len(bodies) == 2, len(bodies)
	texts = [m.get("content") or "" for m in bodies[1]["messages"]]
	assert any("first question" in t for t in texts), texts
	assert "first answer" in texts, texts
	assert any("second question" in t for t in texts), texts
	EOT
'

test_expect_success READLINE '/evidence, /rules, /tools and /transcript show what is there' '
	set_script "[{\"text\": \"an answer for the transcript\"}]" &&
	session "expect sre> 
send /evidence
expect logs/pricing
expect sre> 
send /rules
expect finding graph: dependency
expect sre> 
send /tools
expect grep_log +Lines of one log
expect sre> 
send a question
expect an answer for the transcript
expect sre> 
send /transcript
expect The operator asks: a question
expect an answer for the transcript
expect sre> 
send /nonsense
expect no command /nonsense; /help lists them
expect sre> 
send /approve
expect nothing waits for approval
expect sre> 
key ctrl-d
eof" --evidence bundle
'

test_expect_success READLINE 'history: kept 0600 under XDG_STATE_HOME, redacted, and recalled with the up arrow' '
	rm -rf state &&
	set_script "[{\"text\": \"no idea\"}]" &&
	session "expect sre> 
send is password=hunter2-canary the cause?
expect no idea
expect sre> 
send /rules
expect sre> 
key ctrl-d
eof" --evidence bundle &&
	test -f state/sre/history &&
	test "$(stat -c %a state/sre/history)" = 600 &&
	grep "/rules" state/sre/history &&
	! grep hunter2-canary state/sre/history &&
	! grep hunter2-canary "$FAKE_LOG" &&
	session "expect sre> 
key up
key enter
expect finding graph: dependency
expect sre> 
key ctrl-d
eof" --evidence bundle
'

test_expect_success READLINE 'Tab completes commands, services and tools' '
	session "expect sre> 
type /tool
key tab
key enter
expect rule_findings +What
expect sre> 
type is pri
key tab
type the cause? 
key enter
expect sre> 
key ctrl-d
eof" --evidence bundle &&
	grep "is pricing the cause" log
'

test_expect_success READLINE 'Ctrl-C cancels the request in flight, not the session' '
	python3 -c "import sys, urllib.request
req = urllib.request.Request(sys.argv[1] + \"/_fake/delay\", method=\"POST\",
      data=b\"{\\\"path\\\": \\\"/v1/chat\\\", \\\"seconds\\\": 20}\")
urllib.request.urlopen(req, timeout=5).read()" "$FAKE_URL" &&
	set_script "[{\"text\": \"answered\"}]" &&
	session "expect sre> 
send a slow question
sleep 1
key ctrl-c
expect cancelled
expect sre> 
send a quick one
expect answered
expect sre> 
key ctrl-d
eof" --evidence bundle &&
	test $(grep -c answered log) = 1 &&
	grep "^\[exit 0\]" log
'

test_expect_success READLINE 'the answer is shown as it streams in; Ctrl-C stops it midway' '
	set_script "[{\"text\": \"first half of the answer ... SECOND HALF\", \"pause\": 30}]" &&
	session "expect sre> 
send stream it
expect first half of th
key ctrl-c
expect cancelled
expect sre> 
key ctrl-d
eof" --evidence bundle &&
	! grep "SECOND HALF" log
'

test_expect_success READLINE 'escape sequences of the model never reach the terminal' '
	set_script "[{\"text\": \"title \\u001b]0;pwned\\u0007 and \\u001b[31mred\"}]" &&
	session "expect sre> 
send say something
expect red
expect sre> 
key ctrl-d
eof" --evidence bundle &&
	grep "title ?]0;pwned? and ?\[31mred" log &&
	! grep "$(printf "\033")]0;pwned" log &&
	! grep "$(printf "\033")\[31mred" log
'

test_expect_success READLINE 'Ctrl-C at the prompt clears the line' '
	session "expect sre> 
type garbage words
sleep 0.3
key ctrl-c
sleep 0.3
send /help
expect Ask a question in words
expect sre> 
key ctrl-d
eof" --evidence bundle &&
	! grep "no answer" log
'

test_expect_success READLINE 'a follow-up that obeys an injection: nothing outside the evidence comes out' '
	set_script "[{\"calls\": [{\"name\": \"submit_diagnosis\", \"arguments\": {\"category\": \"crash\",
		  \"root_cause\": \"told to\", \"confidence\": 0.99,
		  \"mitigation\": {\"action\": \"restart\", \"target\": \"payments-prod-db\"}, \"evidence\": []}}]}]" &&
	session "expect sre> 
send what does the log line starting SYSTEM want?
expect no answer: the answer was invalid twice
expect sre> 
key ctrl-d
eof" --evidence bundle &&
	! grep "revises" log
'

test_expect_success READLINE 'a revised diagnosis is checked and shown beside the rules' '
	set_script "[{\"calls\": [{\"name\": \"submit_diagnosis\", \"arguments\": {\"category\": \"dependency\",
		  \"root_cause\": \"pricing throws\", \"confidence\": 0.6,
		  \"mitigation\": {\"action\": \"escalate\", \"target\": \"pricing\"}, \"evidence\": []}}]}]" &&
	session "expect sre> 
send is it pricing?
expect the adviser revises the diagnosis: dependency, escalate pricing \(confidence 0.60\), agreeing with
expect sre> 
key ctrl-d
eof" --evidence bundle
'

test_expect_success READLINE 'without an LLM the commands work and a question says what is missing' '
	printf "[http]\n\tretries = 0\n" >config.none &&
	SRE_CONFIG="$PWD/config.none" XDG_STATE_HOME="$PWD/state" \
		python3 "$PTY" --log log --timeout 15 "expect sre> 
send /rules
expect finding graph
expect sre> 
send why?
expect questions need an LLM: no LLM is configured
expect sre> 
key ctrl-d
eof" -- sre diagnose -i --evidence bundle
'

test_expect_success READLINE 'under script(1), as a terminal session is recorded' '
	printf "/rules\n/quit\n" | SRE_CONFIG="$PWD/config" XDG_STATE_HOME="$PWD/state" \
		script -qec "sre diagnose -i --evidence bundle" /dev/null >out 2>err &&
	grep "finding graph: dependency" out &&
	grep "sre> /quit" out
'

test_expect_success 'lines from a pipe work too, and the end of input ends the session' '
	printf "/rules\n/quit\n" | SRE_CONFIG="$PWD/config" XDG_STATE_HOME="$PWD/state" \
		sre diagnose -i --evidence bundle >out 2>err &&
	grep "finding graph: dependency" out
'

# The live tool behind a credential reference: a Prometheus that wants a
# bearer token, whose config names it only as env:T5510_PROM_TOKEN.
PROM_TOKEN=prom-canary-token-5510
LLM_URL=$FAKE_URL LLM_LOG=$FAKE_LOG
start_fake prometheus --bearer-token "$PROM_TOKEN" ||
	{ echo "Bail out! the fake Prometheus did not start"; exit 1; }
PROM_URL=$FAKE_URL PROM_LOG=$FAKE_LOG
FAKE_URL=$LLM_URL FAKE_LOG=$LLM_LOG

# prom_set SCENARIO: what the fake Prometheus answers (tests/fakes/prometheus.py).
prom_set() {
	python3 -c 'import sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/_fake/set", data=sys.argv[2].encode(), method="POST")
urllib.request.urlopen(req, timeout=5).read()' "$PROM_URL" "$1"
}

test_expect_success 'setup: a check of storefront on a Prometheus behind a token reference' '
	cat >config.live <<-EOT &&
	[llm]
		provider = openai
		url = $LLM_URL/v1
		model = fake-1
	[http]
		retries = 0
	[prometheus]
		url = $PROM_URL
		token = env:T5510_PROM_TOKEN
	[check "latency"]
		prometheus = histogram_quantile(0.99, rate(latency_bucket[5m]))
		service = storefront
	EOT
	chmod 600 config.live &&
	prom_set "{\"histogram_quantile(0.99, rate(latency_bucket[5m]))\":
		[{\"metric\": {\"service\": \"storefront\"}, \"values\": [0.25, 0.75]}]}"
'

# live STEPS: a session about storefront with the live tool, the token in the environment.
live() {
	SRE_CONFIG="$PWD/config.live" OPENAI_API_KEY=$KEY XDG_STATE_HOME="$PWD/state" \
		T5510_PROM_TOKEN=$PROM_TOKEN python3 "$PTY" --log log --timeout 15 "$1" -- \
		sre diagnose -i --problem "storefront is slow" --service storefront
}

prom_reads() {
	FAKE_LOG=$PROM_LOG fake_count GET /api/v1/query_range
}

test_expect_success READLINE '/approve: the reference is resolved, the token goes to Prometheus alone' '
	: >"$LLM_LOG" &&
	before=$(prom_reads) &&
	set_script "[{\"calls\": [{\"name\": \"prometheus_now\", \"arguments\": {\"check\": \"latency\"}}]},
		{\"text\": \"latency read live\"}]" &&
	live "expect sre\(storefront\)> 
send how is latency now?
expect prometheus_now
expect A tool needs the credential prometheus.token, a reference to env:T5510_PROM_TOKEN
expect approve\? 
send /approve
expect approved
expect latency read live
expect sre\(storefront\)> 
key ctrl-d
eof" &&
	test $(($(prom_reads) - before)) = 1 &&
	grep "Bearer $PROM_TOKEN" "$PROM_LOG" &&
	! grep "$PROM_TOKEN" "$LLM_LOG" &&
	! grep "$PROM_TOKEN" log &&
	grep "\[prometheus_now\]\|resultType\|latency" "$LLM_LOG" >/dev/null &&
	python3 - "$LLM_LOG" <<-\EOT
	import json, sys
	results = [m["content"] for l in open(sys.argv[1])
	           for m in json.loads(json.loads(l)["body"])["messages"] if m["role"] == "tool"]
	assert any("storefront" in r and "0.75" in r for r in results), results
	assert not any("error" in r for r in results), results
	EOT
'

test_expect_success READLINE '/deny: nothing is resolved, Prometheus is not asked, the model is told' '
	: >"$LLM_LOG" &&
	before=$(prom_reads) &&
	set_script "[{\"calls\": [{\"name\": \"prometheus_now\", \"arguments\": {\"check\": \"latency\"}}]},
		{\"text\": \"could not read it\"}]" &&
	live "expect sre\(storefront\)> 
send how is latency now?
expect approve\? 
send something else
expect /approve or /deny
send /deny
expect denied
expect could not read it
expect sre\(storefront\)> 
key ctrl-d
eof" &&
	test $(($(prom_reads) - before)) = 0 &&
	! grep "$PROM_TOKEN" "$LLM_LOG" log &&
	python3 - "$LLM_LOG" <<-\EOT
	import json, sys
	results = [m["content"] for l in open(sys.argv[1])
	           for m in json.loads(json.loads(l)["body"])["messages"] if m["role"] == "tool"]
	assert any(r.startswith("error: ") for r in results), results
	assert not any("env:T5510" in r for r in results), results
	EOT
'

test_expect_success '--stream: a reference nobody can approve is said, and denied' '
	SRE_CONFIG="$PWD/config.live" T5510_PROM_TOKEN=$PROM_TOKEN \
		sre diagnose --stream --no-llm --problem "storefront is slow" --service storefront >out 2>err &&
	grep "\"event\":\"approval_required\"" out &&
	grep "\"key\":\"prometheus.token\"" out &&
	grep "\"approved\":false" out &&
	! grep "$PROM_TOKEN" out err
'

test_expect_success '-i is one session: no --json, --stream, or two incidents' '
	test_expect_code 129 sre diagnose -i --json --evidence bundle 2>err &&
	grep "takes no --json" err &&
	test_expect_code 129 sre diagnose -i 1 2 2>err &&
	grep "one incident at most" err
'

test_expect_success '-i without an incident and none open says so' '
	test_expect_code 1 env XDG_STATE_HOME="$PWD/empty-state" sre diagnose -i </dev/null 2>err &&
	grep "no open incident to diagnose" err
'

test_expect_success '-i without an incident takes the newest open one' '
	sre incident open --service one --title "first trouble" >id1 &&
	sre incident open --service two --title "second trouble" >id2 &&
	printf "/quit\n" | SRE_CONFIG="$PWD/config" sre diagnose -i --timeout 2s >out 2>err &&
	grep "second trouble" out &&
	! grep "first trouble" out
'

test_done
