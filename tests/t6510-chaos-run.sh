#!/bin/sh
test_description='sre chaos run: Chaos Toolkit experiments, their journal, rollbacks, signals, refusals'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the target service and the journal checks"
fi

start_fake target || { echo "Bail out! the target service did not start"; exit 1; }

# jf <journal> <python expression over j>: a field of a journal.
jf() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

W=$TRASH_DIRECTORY/w
mkdir -p "$W"

# An experiment whose hypothesis is "marker exists" (test -f, exit 0),
# whose method runs $1 (a JSON activity list), and whose rollback creates
# rolled-back.
experiment() {
	cat <<-EOT
	{
	  "title": "marker stays",
	  "description": "a file as the steady state",
	  "configuration": {"dir": "$W"},
	  "steady-state-hypothesis": {"title": "marker is there", "probes": [
	    {"type": "probe", "name": "marker-exists", "tolerance": 0,
	     "provider": {"type": "process", "path": "test", "arguments": ["-f", "\${dir}/marker"]}}
	  ]},
	  "method": $1,
	  "rollbacks": [
	    {"type": "action", "name": "note-rollback",
	     "provider": {"type": "process", "path": "touch", "arguments": "\${dir}/rolled-back"}}
	  ]
	}
	EOT
}

TOUCH_MADE='[{"type": "action", "name": "make", "provider": {"type": "process", "path": "touch", "arguments": "${dir}/made"}}]'
RM_MARKER='[{"type": "action", "name": "break", "provider": {"type": "process", "path": "rm", "arguments": ["${dir}/marker"]}}]'

reset() {
	rm -f "$W"/* journal.json && touch "$W/marker"
}

test_expect_success 'completed: steady state met before and after, method run, rollbacks played' '
	reset &&
	experiment "$TOUCH_MADE" >ok.json &&
	sre chaos run ok.json 2>err &&
	test_grep "experiment completed; journal: journal.json" err &&
	test -f "$W/made" && test -f "$W/rolled-back" &&
	test "$(jf journal.json "j[\"status\"]")" = completed &&
	test "$(jf journal.json "j[\"deviated\"]")" = False &&
	test "$(jf journal.json "j[\"steady_states\"][\"before\"][\"probes\"][0][\"tolerance_met\"]")" = True &&
	test "$(jf journal.json "j[\"steady_states\"][\"after\"][\"steady_state_met\"]")" = True &&
	test "$(jf journal.json "j[\"run\"][0][\"status\"]")" = succeeded &&
	test "$(jf journal.json "j[\"run\"][0][\"output\"][\"status\"]")" = 0 &&
	test "$(jf journal.json "j[\"rollbacks\"][0][\"status\"]")" = succeeded &&
	test "$(jf journal.json "j[\"sre\"][\"faults\"]")" = "[]" &&
	test "$(stat -c %a journal.json)" = 600
'

test_expect_success 'the journal holds the experiment as written (no substitution) and the fields of the spec' '
	test "$(jf journal.json "j[\"experiment\"][\"method\"][0][\"provider\"][\"arguments\"]")" = "\${dir}/made" &&
	test "$(jf journal.json "len([k for k in (\"chaoslib-version\", \"platform\", \"node\", \"start\", \"end\", \"duration\", \"run\", \"rollbacks\", \"steady_states\") if k in j])")" = 9
'

test_expect_success 'deviated: the steady state after fails, exit 1, rollbacks still played by default' '
	reset &&
	experiment "$RM_MARKER" >dev.json &&
	test_expect_code 1 sre chaos run dev.json 2>err &&
	test_grep "steady state after deviated" err &&
	test "$(jf journal.json "j[\"status\"]")" = failed &&
	test "$(jf journal.json "j[\"deviated\"]")" = True &&
	test "$(jf journal.json "j[\"steady_states\"][\"after\"][\"probes\"][0][\"tolerance_met\"]")" = False &&
	test -f "$W/rolled-back"
'

test_expect_success 'failed before: no method, no rollbacks under the default strategy' '
	rm -f "$W"/* &&
	experiment "$TOUCH_MADE" >ok.json &&
	test_expect_code 1 sre chaos run ok.json 2>err &&
	test_grep "steady state before not met: the method is not run" err &&
	test "$(jf journal.json "j[\"status\"]")" = failed &&
	test "$(jf journal.json "j[\"deviated\"]")" = False &&
	test "$(jf journal.json "len(j[\"run\"])")" = 0 &&
	! test -f "$W/made" && ! test -f "$W/rolled-back"
'

test_expect_success 'rollback strategies: always plays them after a failure, never does not' '
	rm -f "$W"/* &&
	test_expect_code 1 sre chaos run --rollback-strategy always ok.json 2>err &&
	test -f "$W/rolled-back" &&
	reset &&
	sre chaos run --rollback-strategy never ok.json 2>err &&
	test_grep "rollbacks not played (strategy never)" err &&
	test -f "$W/made" && ! test -f "$W/rolled-back"
'

test_expect_success 'rollback strategy deviated: played after a deviation only' '
	reset &&
	sre chaos run --rollback-strategy deviated ok.json 2>err &&
	! test -f "$W/rolled-back" &&
	reset &&
	test_expect_code 1 sre chaos run --rollback-strategy deviated dev.json 2>err &&
	test -f "$W/rolled-back"
'

test_expect_success 'the experiment runtime strategy is read, the command line wins over it' '
	reset &&
	python3 -c "import json, sys; e = json.load(open(\"ok.json\")); e[\"runtime\"] = {\"rollbacks\": {\"strategy\": \"never\"}}; json.dump(e, open(\"never.json\", \"w\"))" &&
	sre chaos run never.json 2>err &&
	! test -f "$W/rolled-back" &&
	reset &&
	sre chaos run --rollback-strategy always never.json 2>err &&
	test -f "$W/rolled-back"
'

test_expect_success '--dry-run says each step and runs nothing, not even probes' '
	rm -f "$W"/* journal.json &&
	sre chaos run --dry-run ok.json >out 2>err &&
	test_grep "would probe marker-exists: run test -f $W/marker (no shell)" out &&
	test_grep "would action make: run touch $W/made (no shell)" out &&
	test_grep "would write the journal to journal.json" out &&
	! test -f "$W/made" && ! test -f "$W/rolled-back" && ! test -f journal.json
'

test_expect_success 'SIGTERM during a pause: interrupted, rollbacks played (always)' '
	reset &&
	experiment "[{\"type\": \"action\", \"name\": \"wait\", \"pauses\": {\"after\": 30},
	  \"provider\": {\"type\": \"process\", \"path\": \"touch\", \"arguments\": \"\${dir}/made\"}}]" >slow.json &&
	{ sre chaos run --rollback-strategy always slow.json 2>err & } &&
	pid=$! &&
	i=0 && while ! grep -q "pause 30 s after wait" err 2>/dev/null; do
		i=$((i + 1)) && test $i -lt 200 && sleep 0.05 || break
	done &&
	kill -TERM $pid &&
	{ wait $pid; rc=$?; } &&
	test $rc = 1 &&
	test "$(jf journal.json "j[\"status\"]")" = interrupted &&
	test -f "$W/rolled-back" &&
	test "$(jf journal.json "j[\"rollbacks\"][0][\"status\"]")" = succeeded &&
	test "$(jf journal.json "float(j[\"duration\"]) < 20")" = True
'

test_expect_success 'a python provider is refused, naming where' '
	cat >py.json <<-\EOT &&
	{"title": "t", "description": "d", "method": [
	  {"type": "action", "name": "py", "provider": {"type": "python", "module": "os", "func": "remove"}}]}
	EOT
	test_expect_code 128 sre chaos run py.json 2>err &&
	test_grep "py.json: \$.method\[0\].provider.type: sre runs no Python: use process or http" err
'

test_expect_success 'bad experiments: one error naming the JSON path, exit 128, no crash' '
	printf "{\"title\": \"t\", \"method\": [{\"type\": \"action\", \"name\": \"a\", \"provider\": {\"type\": \"process\"}}]}" >b1.json &&
	test_expect_code 128 sre chaos run b1.json 2>err &&
	test_grep "\$.method\[0\].provider.path: a process provider needs a path" err &&
	printf "{\"title\": \"t\"}" >b2.json &&
	test_expect_code 128 sre chaos run b2.json 2>err &&
	test_grep "\$.method: an experiment needs a method" err &&
	printf "[1," >b3.json &&
	test_expect_code 128 sre chaos run b3.json 2>err &&
	test_grep "\$: not JSON" err &&
	printf "{\"title\": \"t\", \"method\": [], \"secrets\": {\"s\": {\"k\": \"inline\"}}}" >b4.json &&
	test_expect_code 128 sre chaos run b4.json 2>err &&
	test_grep "\$.secrets.s.k: a secret written in the experiment is refused" err &&
	! test -f journal.json.tmp-*
'

test_expect_success 'a process path with shell metacharacters runs as an argv, never through a shell' '
	rm -f journal.json pwned* &&
	cat >meta.json <<-\EOT &&
	{"title": "t", "description": "d", "method": [
	  {"type": "action", "name": "argv", "provider": {"type": "process", "path": "echo", "arguments": "a;touch pwned1 $(touch pwned2)"}},
	  {"type": "action", "name": "path", "provider": {"type": "process", "path": "touch pwned3; touch pwned4"}}]}
	EOT
	test_expect_code 1 sre chaos run meta.json 2>err &&
	! test -e pwned1 && ! test -e pwned2 && ! test -e pwned3 && ! test -e pwned4 &&
	test "$(jf journal.json "j[\"run\"][0][\"output\"][\"stdout\"]")" = "a;touch pwned1 \$(touch pwned2)" &&
	test "$(jf journal.json "j[\"run\"][1][\"status\"]")" = failed
'

test_expect_success 'a secret from the environment is used but never written to the journal' '
	cat >secret.json <<-\EOT &&
	{"title": "t", "description": "d",
	 "secrets": {"app": {"token": {"type": "env", "key": "CHAOS_TEST_TOKEN"}}},
	 "method": [{"type": "action", "name": "say", "provider": {"type": "process", "path": "echo", "arguments": ["tok=${token}"]}}]}
	EOT
	CHAOS_TEST_TOKEN=s3cr3t-value sre chaos run secret.json 2>err &&
	test "$(jf journal.json "j[\"run\"][0][\"output\"][\"stdout\"]")" = "tok=<redacted>" &&
	! grep -q s3cr3t-value journal.json err &&
	test_expect_code 128 sre chaos run secret.json 2>err &&
	test_grep "the environment variable CHAOS_TEST_TOKEN is not set" err
'

test_expect_success 'http probes and actions against a local service: deviated when it starts failing' '
	cat >web.json <<-EOT &&
	{"title": "web stays up", "description": "d",
	 "configuration": {"base": "$FAKE_URL"},
	 "steady-state-hypothesis": {"title": "up", "probes": [
	   {"type": "probe", "name": "health", "tolerance": 200,
	    "provider": {"type": "http", "url": "\${base}/health", "timeout": 5}},
	   {"type": "probe", "name": "body", "tolerance": {"type": "regex", "pattern": "^ok"},
	    "provider": {"type": "http", "url": "\${base}/health"}}]},
	 "method": [{"type": "action", "name": "break-it",
	   "provider": {"type": "http", "method": "POST", "url": "\${base}/_fake/set",
	     "headers": {"Content-Type": "application/json"},
	     "arguments": {"path": "/health", "status": 503, "body": "down"}, "expected_status": 200}}]}
	EOT
	test_expect_code 1 sre chaos run web.json 2>err &&
	test "$(jf journal.json "j[\"steady_states\"][\"before\"][\"steady_state_met\"]")" = True &&
	test "$(jf journal.json "j[\"run\"][0][\"output\"][\"status\"]")" = 200 &&
	test "$(jf journal.json "j[\"steady_states\"][\"after\"][\"probes\"][0][\"output\"][\"status\"]")" = 503 &&
	test "$(jf journal.json "j[\"deviated\"]")" = True &&
	# Two probes before, and after only the first: the hypothesis stops at its first miss.
	test "$(grep -c "\"path\": \"/health\"" "$FAKE_LOG")" = 3
'

test_expect_success 'an http url that is not http or https is refused' '
	printf "{\"title\": \"t\", \"method\": [{\"type\": \"action\", \"name\": \"f\", \"provider\": {\"type\": \"http\", \"url\": \"file:///etc/passwd\"}}]}" >file.json &&
	test_expect_code 128 sre chaos run file.json 2>err &&
	test_grep "\$.method\[0\].provider.url: only http and https URLs are fetched" err
'

test_expect_success 'the sre provider: a service outside chaos.allow is refused, naming it' '
	mkdir -p .sre &&
	cat >.sre/config <<-\EOT &&
	[service "web"]
		runtime = process
	EOT
	cat >fault.json <<-\EOT &&
	{"title": "t", "description": "d", "method": [
	  {"type": "action", "name": "kill-web", "expect": {"category": "crash"},
	   "provider": {"type": "sre", "fault": "process-kill", "target": "web"}}]}
	EOT
	test_expect_code 1 sre chaos run fault.json 2>err &&
	test_grep "web is not in chaos.allow: refused" err &&
	test "$(jf journal.json "j[\"run\"][0][\"status\"]")" = failed &&
	test "$(jf journal.json "j[\"sre\"][\"faults\"]")" = "[]"
'

test_expect_success 'the sre provider: an allowed service gets its fault, the loop'"'"'s outcome in the journal, and the fault undone' '
	mkdir -p run &&
	cat >start-web <<-EOT &&
	#!/bin/sh
	sleep 300 >/dev/null 2>&1 </dev/null &
	echo \$! >"$PWD/run/web.pid"
	EOT
	chmod +x start-web &&
	./start-web &&
	cat >.sre/config <<-EOT &&
	[service "web"]
		runtime = process
		pidfile = $PWD/run/web.pid
		start = $PWD/start-web
	[chaos]
		allow = web
	EOT
	cat >stop.json <<-\EOT &&
	{"title": "web stops", "description": "d", "method": [
	  {"type": "action", "name": "stop-web", "expect": {"category": "crash"},
	   "provider": {"type": "sre", "fault": "process-stop", "target": "web"}},
	  {"type": "action", "name": "detect",
	   "provider": {"type": "process", "path": "sre", "arguments": ["incident", "open", "--service", "web", "--title", "web stopped answering"]}}]}
	EOT
	sre chaos run stop.json 2>err &&
	test "$(jf journal.json "j[\"run\"][0][\"status\"]")" = succeeded &&
	test "$(jf journal.json "j[\"sre\"][\"faults\"][0][\"fault\"]")" = process-stop &&
	test "$(jf journal.json "j[\"sre\"][\"faults\"][0][\"chaos_id\"]")" = 1 &&
	test "$(jf journal.json "j[\"sre\"][\"faults\"][0][\"expect\"][\"category\"]")" = crash &&
	test "$(jf journal.json "j[\"sre\"][\"faults\"][0][\"incident\"]")" = 1 &&
	test "$(jf journal.json "j[\"sre\"][\"faults\"][0][\"mttd_s\"] >= 0")" = True &&
	test "$(jf journal.json "j[\"sre\"][\"rollback\"]")" = done &&
	sre chaos status >status &&
	test_grep "^no fault in place" status &&
	state=$(sed -n "s/^[0-9]* (.*) \([A-Z]\) .*/\1/p" "/proc/$(cat run/web.pid)/stat") &&
	test "$state" != T &&
	sre incident resolve --reason "continued" 1 &&
	sre chaos gameday stop.json >gameday.out &&
	test_grep "^stop.json *process-stop *web *[0-9]*s *- (not expected) *- *- *0s\$" gameday.out &&
	test_grep "^score 0.33: 1 of 1 faults detected, 0 of 1 diagnosed as expected, 0 resolved; 1 of 1 experiments healed\$" gameday.out &&
	kill "$(cat run/web.pid)"
'

test_expect_success 'an action of its own that names its target is a fault of the run: recorded, its incident tagged, closed at the end' '
	cat >own.json <<-\EOT &&
	{"title": "web breaks", "description": "d", "method": [
	  {"type": "action", "name": "break-web", "expect": {"category": "crash", "target": "web"},
	   "provider": {"type": "process", "path": "touch", "arguments": "broken"}},
	  {"type": "action", "name": "detect",
	   "provider": {"type": "process", "path": "sre", "arguments": ["incident", "open", "--service", "web", "--title", "web broke"]}}]}
	EOT
	sre chaos run --journal own-journal.json own.json 2>err &&
	test -f broken &&
	test "$(jf own-journal.json "j[\"sre\"][\"faults\"][0][\"fault\"]")" = break-web &&
	test "$(jf own-journal.json "j[\"sre\"][\"faults\"][0][\"target\"]")" = web &&
	test "$(jf own-journal.json "j[\"sre\"][\"rollback\"]")" = done &&
	id=$(jf own-journal.json "j[\"sre\"][\"faults\"][0][\"incident\"]") &&
	sre incident show --json "$id" >inc.json &&
	python3 -c "import json, sys
assert any(e[\"kind\"] == \"chaos\" for e in json.load(open(sys.argv[1]))[\"events\"])" inc.json &&
	test_grep "undone: its experiment.s rollbacks undo it" err &&
	sre chaos status >status &&
	test_grep "^no fault in place" status &&
	sre incident resolve --reason "done" "$id" &&
	rm -f broken &&
	sed -i "/allow = web/d" .sre/config &&
	test_expect_code 1 sre chaos run --journal own-journal.json own.json 2>err &&
	test_grep "web is outside chaos.allow: refused" err &&
	! test -f broken
'

test_expect_success 'a fault felt by its callers: each target recorded, the first incident any opened graded' '
	cp .sre/config config.before &&
	test_when_finished "cp config.before .sre/config" &&
	cat >.sre/config <<-EOT &&
	[service "web"]
		runtime = process
	[service "front"]
		runtime = process
	[chaos]
		allow = *
	EOT
	cat >felt.json <<-\EOT &&
	{"title": "web slows its callers", "description": "d", "method": [
	  {"type": "action", "name": "slow-web", "expect": {"category": "latency", "target": ["web", "front"]},
	   "provider": {"type": "process", "path": "true"}},
	  {"type": "action", "name": "detect",
	   "provider": {"type": "process", "path": "sre", "arguments": ["incident", "open", "--service", "front", "--title", "front is slow"]}}]}
	EOT
	sre chaos run --journal felt-journal.json felt.json 2>err &&
	test "$(jf felt-journal.json "j[\"sre\"][\"faults\"][0][\"target\"]")" = web &&
	test "$(jf felt-journal.json "len(j[\"sre\"][\"faults\"][0][\"chaos_ids\"])")" = 2 &&
	id=$(jf felt-journal.json "j[\"sre\"][\"faults\"][0][\"incident\"]") &&
	sre incident show --json "$id" >inc.json &&
	test "$(jf inc.json "j[\"service\"]")" = front &&
	test "$(jf inc.json "any(e[\"kind\"] == \"chaos\" for e in j[\"events\"])")" = True &&
	sre incident resolve --reason "done" "$id" &&
	sed -i "s/allow = \*/allow = web/" .sre/config &&
	test_expect_code 1 sre chaos run --journal felt-journal.json felt.json 2>err &&
	test_grep "front is outside chaos.allow: refused" err
'

test_expect_success 'the journal against the Chaos Toolkit schema (when the fixtures are there)' '
	schema=/work/shared/fixtures/chaostoolkit/chaostoolkit-docs/schema.json &&
	if ! test -f "$schema"; then
		say "skipped: no $schema on this machine"
	else
		# The schema is draft-04 with broken references ("#definitions/step",
		# "#/definitions/probes" whose step refuses every activity of Chaos
		# Toolkit, its own examples included): its keywords are checked
		# (type, required, properties, enum, items), its $refs are not.
		experiment "$TOUCH_MADE" >ok.json && reset &&
		sre chaos run ok.json 2>err &&
		python3 - "$schema" journal.json <<-\EOT
		import json, sys
		schema = json.load(open(sys.argv[1]))
		journal = json.load(open(sys.argv[2]))
		types = {"object": dict, "array": list, "string": str, "boolean": bool, "number": (int, float)}
		def check(v, s, at):
		    t = s.get("type")
		    if t and not isinstance(v, types[t]):
		        sys.exit("%s: not %s" % (at, t))
		    for k in s.get("required", []):
		        if k not in v:
		            sys.exit("%s: %s missing" % (at, k))
		    for k, sub in s.get("properties", {}).items():
		        if isinstance(v, dict) and k in v:
		            check(v[k], sub, at + "." + k)
		    if "enum" in s and v not in s["enum"]:
		        sys.exit("%s: not in %s" % (at, s["enum"]))
		check(journal["experiment"], schema, "$")
		for k in ("experiment", "status", "start", "end", "duration", "deviated"):
		    assert k in journal, k
		assert journal["status"] in ("completed", "failed", "aborted", "interrupted")
		for r in journal["run"] + journal["rollbacks"] + journal["steady_states"]["before"]["probes"]:
		    for k in ("activity", "status", "start", "end", "duration", "output"):
		        assert k in r, k
		    assert r["status"] in ("succeeded", "failed")
		EOT
	fi
'

test_expect_success 'sre chaos gameday: each experiment healed before the next, a line each, a score' '
	mkdir -p day && reset &&
	experiment "$TOUCH_MADE" >day/a.json &&
	experiment "$RM_MARKER" >day/b.json &&
	test_expect_code 1 sre -c chaos.heal-timeout=1s chaos gameday day >out 2>err &&
	test_grep "^a.json .* 0s\$" out &&
	test_grep "^b.json .* no ([0-9]*s)\$" out &&
	test_grep "^score 0.00: 0 of 0 faults detected, 0 of 0 diagnosed as expected, 0 resolved; 1 of 2 experiments healed\$" out &&
	test -f journal-a.json && test -f journal-b.json &&
	reset &&
	{ ( sleep 2 && touch "$W/marker" ) & } &&
	sre -c chaos.heal-timeout=30s chaos gameday --json day/b.json >day.json &&
	python3 - <<-\EOT
	import json
	d = json.load(open("day.json"))
	(b,) = d["experiments"]
	assert b["deviated"] is True and b["healed"] is True, b
	assert 1 <= b["healed_s"] <= 10, b
	assert d["score"]["experiments"] == 1 and d["score"]["healed"] == 1, d["score"]
	EOT
'

test_expect_success 'the experiments of examples/chaos read and dry-run, each with what the loop should find' '
	for f in "$SRE_BUILD_DIR"/examples/chaos/*.json
	do
		DEMO_QUOTE_URL=http://127.0.0.1:1 DEMO_QUOTE_ADMIN=http://127.0.0.1:2 \
		DEMO_POLICY_ADMIN=http://127.0.0.1:3 DEMO_USER_ADMIN=http://127.0.0.1:4 \
			sre chaos run --dry-run --journal dry.json "$f" >out 2>&1 &&
		test_grep "^would run experiment: " out &&
		test_grep "^would probe quote-health: GET http://127.0.0.1:1/health" out &&
		python3 -c "import json, sys
d = json.load(open(sys.argv[1]))
assert [a[\"expect\"][\"category\"] for a in d[\"method\"] if \"expect\" in a], sys.argv[1]" "$f" ||
		return 1
	done &&
	test "$(ls "$SRE_BUILD_DIR"/examples/chaos/*.json | wc -l)" -ge 5 &&
	test_expect_code 128 sre chaos run --dry-run "$SRE_BUILD_DIR/examples/chaos/quote-killed.json" 2>err &&
	test_grep "DEMO_QUOTE_URL" err
'

test_expect_success 'a process activity past its timeout is killed, and the run goes on' '
	cat >slow.json <<-\EOT &&
	{"title": "slow", "description": "d", "method": [
	  {"type": "action", "name": "hang", "provider": {"type": "process", "path": "sleep", "arguments": "60", "timeout": 1}},
	  {"type": "action", "name": "after", "provider": {"type": "process", "path": "true"}}]}
	EOT
	start=$(date +%s) &&
	test_expect_code 1 sre chaos run --journal slow-journal.json slow.json 2>err &&
	test $(( $(date +%s) - start )) -lt 30 &&
	test "$(jf slow-journal.json "j[\"run\"][0][\"status\"]")" = failed &&
	test "$(jf slow-journal.json "j[\"run\"][1][\"status\"]")" = succeeded
'

test_expect_success '--loop: sre kills a process, then its own loop finds, diagnoses, restarts and verifies it' '
	mkdir -p loop/run &&
	cat >loop/start-api <<-EOT &&
	#!/bin/sh
	sleep 300 >/dev/null 2>&1 </dev/null &
	echo \$! >"$PWD/loop/run/api.pid"
	EOT
	cat >loop/alive-api <<-EOT &&
	#!/bin/sh
	pid=\$(cat "$PWD/loop/run/api.pid") && test -e /proc/\$pid/stat && ! grep -q "^[0-9]* (.*) Z " /proc/\$pid/stat
	EOT
	chmod +x loop/start-api loop/alive-api &&
	loop/start-api &&
	cat >>"$XDG_CONFIG_HOME/sre/config" <<-EOT &&
	[service "api"]
		runtime = process
		pidfile = $PWD/loop/run/api.pid
		start = $PWD/loop/start-api
	[chaos]
		allow = api
	[fix]
		auto = restart
		verify-interval = 100ms
		verify-timeout = 10s
	[remember]
		hold-window = 0
	EOT
	cat >loop/kill.json <<-EOT &&
	{"title": "api killed", "description": "d",
	 "steady-state-hypothesis": {"title": "api runs", "probes": [
	   {"type": "probe", "name": "api-alive", "tolerance": 0,
	    "provider": {"type": "process", "path": "$PWD/loop/alive-api"}}]},
	 "method": [{"type": "action", "name": "kill-api", "expect": {"category": "crash"},
	   "provider": {"type": "sre", "fault": "process-kill", "target": "api"}}]}
	EOT
	old=$(cat loop/run/api.pid) &&
	sre --db "$PWD/loop/sre.db" -c chaos.allow=api \
		chaos run --loop --journal loop/journal.json loop/kill.json 2>loop/err &&
	test_grep "loop: incident [0-9]* opened" loop/err &&
	test_grep "healed in [0-9]*s" loop/err &&
	test "$(jf loop/journal.json "j[\"status\"]")" = completed &&
	test "$(jf loop/journal.json "j[\"deviated\"]")" = False &&
	test "$(jf loop/journal.json "j[\"sre\"][\"faults\"][0][\"incident\"]")" = 1 &&
	test "$(jf loop/journal.json "j[\"sre\"][\"faults\"][0][\"diagnosed_category\"]")" = crash &&
	test "$(jf loop/journal.json "j[\"sre\"][\"faults\"][0][\"action\"]")" = restart &&
	test "$(jf loop/journal.json "j[\"sre\"][\"faults\"][0][\"mttr_s\"] is not None")" = True &&
	test "$(cat loop/run/api.pid)" != "$old" &&
	loop/alive-api &&
	kill "$(cat loop/run/api.pid)" &&
	# The loop heals everything it finds: web, which an earlier test left dead, too.
	test_grep "loop: incident [0-9]*: restart of web" loop/err &&
	kill "$(cat run/web.pid)"
'

stop_fake
test_done
