#!/bin/sh
test_description='sre diagnose on live incidents: evidence, the store, the tracker, the deadline'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the fakes"
fi

TOKEN=ghp_diagnose0123456789secret
GITHUB_TOKEN=$TOKEN; export GITHUB_TOKEN

start_fake jaeger || { echo "Bail out! the fake Jaeger did not start"; exit 1; }
JAEGER_URL=$FAKE_URL
JAEGER_PID=$FAKE_PID
start_fake github --token "$TOKEN" || { echo "Bail out! the fake GitHub did not start"; exit 1; }
GITHUB_URL=$FAKE_URL

# A process id that is surely not running: a child that has exited.
dead_pid() {
	sh -c 'echo $$'
}

comments() {
	python3 -c 'import json, sys, urllib.request
state = json.load(urllib.request.urlopen(sys.argv[1] + "/_fake/state", timeout=5))
for cs in state.get("acme/shop", {}).get("comments", {}).values():
    for c in cs:
        print(c["body"])' "$GITHUB_URL"
}

delay_jaeger() {
	python3 -c 'import json, sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/_fake/delay",
    data=json.dumps({"method": "GET", "path": "^/api/traces", "seconds": int(sys.argv[2]),
                     "times": 5}).encode(), method="POST"), timeout=5).read()' "$JAEGER_URL" "$1"
}

test_expect_success 'setup: a process service that died, its log, the kernel log, a repository' '
	mkdir -p .sre run &&
	dead_pid >run/quote-service.pid &&
	printf "%s\n" "listening on 127.0.0.1:8080" "request 1 ok" \
		"fatal: cannot open /var/lib/quote/rates.db: permission denied" >run/quote-service.log &&
	printf "%s\n" "[ 1.0] usb 1-1: new device" >run/kern.log &&
	git init -q repo &&
	mkdir -p repo/services/quote &&
	echo "rates: 1" >repo/services/quote/config.yaml &&
	git -C repo add . &&
	GIT_AUTHOR_DATE="2026-11-20T10:00:00Z" GIT_COMMITTER_DATE="2026-11-20T10:00:00Z" \
		git -C repo -c user.name=Dana -c user.email=dana@example.com commit -q -m "quote: first rates" &&
	cat >.sre/config <<-EOT
	[service "quote-service"]
		runtime = process
		pidfile = $PWD/run/quote-service.pid
		log = $PWD/run/quote-service.log
		paths = services/quote
	[diagnose]
		kernel-log = $PWD/run/kern.log
	[core]
		repo = $PWD/repo
	[tracker]
		kind = github
	[github]
		api = $GITHUB_URL
		repo = acme/shop
	[http]
		retry-base = 10ms
	EOT
'

test_expect_success 'an incident is diagnosed from the host: crashed, restart it' '
	sre incident open --service quote-service --title "quote-service is down" \
		--source process --fingerprint process/quote-service/gone >id &&
	sre diagnose "$(cat id)" >out 2>err &&
	test_grep "^Incident #1" out &&
	test_grep "^Category    crash" out &&
	test_grep "^Mitigation  restart quote-service" out &&
	test_grep "fatal: cannot open /var/lib/quote/rates.db" out &&
	test_grep "\[logs/quote-service\]" out
'

test_expect_success 'the diagnosis is kept: state, category, timeline, diagnoses table' '
	sre incident show --json 1 >show &&
	test "$(field show state)" = ANALYSIS_COMPLETE &&
	test "$(field show category)" = crash &&
	grep "\"kind\":.*\"diagnosed\"" show &&
	sqlite3 "$SRE_DB" "SELECT category, action, target FROM diagnoses WHERE incident_id = 1" >rows &&
	echo "crash|restart|quote-service" >expect &&
	test_cmp expect rows
'

test_expect_success 'the tracker gets the root cause and the mitigation as a comment' '
	comments >c &&
	test_grep "Root cause: quote-service is not running" c &&
	test_grep "Mitigation: RESTART quote-service" c &&
	test_grep ! -r "$TOKEN" c .sre "$SRE_DB"
'

test_expect_success 'diagnosing again with the same answer records and announces nothing new' '
	comments >before &&
	sre diagnose --json 1 >again.json 2>err &&
	test_grep "the diagnosis is unchanged since the last one" err &&
	test "$(field again.json incident)" = 1 &&
	test "$(field again.json category)" = crash &&
	test "$(field again.json mitigation action)" = restart &&
	test "$(sqlite3 "$SRE_DB" "SELECT count(*) FROM diagnoses")" = 1 &&
	comments >after &&
	test_cmp before after &&
	sre incident show --json 1 >show &&
	test "$(field show state)" = ANALYSIS_COMPLETE
'

test_expect_success 'the sources read are listed with their times' '
	python3 -c "import json, sys
j = json.load(open(\"again.json\"))
names = sorted(s[\"source\"] for s in j[\"sources\"])
assert names == [\"git\", \"host\", \"store\"], names
for s in j[\"sources\"]:
    assert s[\"status\"] == \"ok\" and s[\"read_at\"].endswith(\"Z\"), s
"
'

test_expect_success 'a commit shortly before the incident is evidence, and wins' '
	echo "rates: 2" >repo/services/quote/config.yaml &&
	git -C repo -c user.name=Dana -c user.email=dana@example.com commit -q -am "quote: new rates table" &&
	echo "unrelated" >repo/README &&
	git -C repo add README &&
	git -C repo -c user.name=Dana -c user.email=dana@example.com commit -q -m "docs" &&
	sre incident open --service quote-service --title "quote-service down again" \
		--source process --fingerprint process/quote-service/gone2 >id2 &&
	sre diagnose --json "$(cat id2)" >commit.json &&
	test "$(field commit.json category)" = deploy-regression &&
	test "$(field commit.json mitigation action)" = rollback &&
	test "$(field commit.json mitigation params commit)" = "$(git -C repo rev-parse HEAD~1)" &&
	grep "quote: new rates table" commit.json &&
	test_grep ! "\"docs\"" commit.json
'

test_expect_success '--save-evidence writes the bundle, and --evidence replays it offline' '
	sre diagnose --save-evidence bundle 1 >live.out &&
	test -f bundle/incident.json &&
	test -f bundle/host.json &&
	test -f bundle/git-log.json &&
	test -f bundle/sources.json &&
	test -f bundle/past-incidents.json &&
	test -f bundle/logs/quote-service.log &&
	test "$(stat -c %a bundle)" = 700 &&
	test "$(stat -c %a bundle/host.json)" = 600 &&
	sre --db "$PWD/nowhere/db" diagnose --evidence bundle --json >replay.json &&
	test "$(field replay.json incident)" = null &&
	test "$(field replay.json mitigation target)" = quote-service &&
	! test -e nowhere
'

test_expect_success 'an incident for something nothing knows about is unknown, and goes to a human' '
	sre incident open --service ledger --title "ledger is odd" >id3 &&
	sre diagnose "$(cat id3)" >out &&
	test_grep "^Category    unknown" out &&
	test_grep "^Mitigation  none" out &&
	sre incident show --json "$(cat id3)" >show &&
	test "$(field show state)" = INCIDENT_REQUIRES_HUMAN
'

test_expect_success 'an escalated incident stays with its human, whatever the answer' '
	sre incident transition 1 INCIDENT_REQUIRES_HUMAN --reason "I will look" &&
	sre diagnose 1 >out 2>err &&
	test_grep "^Category    crash" out &&
	sre incident show --json 1 >show &&
	test "$(field show state)" = INCIDENT_REQUIRES_HUMAN
'

test_expect_success '--save-evidence refuses a directory that holds something' '
	test_must_fail sre diagnose --save-evidence bundle 1 2>err &&
	test_grep "bundle is not empty" err
'

test_expect_success 'a hanging source is cut off at the deadline while the others report' '
	sre config jaeger.url "$JAEGER_URL" &&
	delay_jaeger 30 &&
	start=$(date +%s) &&
	sre -c diagnose.timeout=2s diagnose --json 1 >slow.json 2>err &&
	end=$(date +%s) &&
	test $((end - start)) -lt 10 &&
	python3 -c "import json
j = json.load(open(\"slow.json\"))
s = {x[\"source\"]: x for x in j[\"sources\"]}
assert s[\"jaeger\"][\"status\"] == \"timeout\", s
assert \"diagnose.timeout\" in s[\"jaeger\"][\"error\"], s
assert s[\"host\"][\"status\"] == \"ok\", s
assert j[\"category\"] == \"crash\", j[\"category\"]
" &&
	sre -c diagnose.timeout=2s diagnose 1 >slow.out &&
	test_grep "jaeger (timed out)" slow.out &&
	sre config --unset jaeger.url
'

test_expect_success 'sre diagnose --problem reads the live evidence without an incident' '
	sre diagnose --problem "quote-service is down" --json >p.json &&
	test "$(field p.json incident)" = null &&
	test "$(field p.json service)" = quote-service &&
	test "$(field p.json problem)" = "quote-service is down" &&
	test "$(field p.json category)" = crash
'

test_expect_success 'sre scout --porcelain | xargs -r -n1 sre diagnose' '
	sre scout --porcelain >ids &&
	test -s ids &&
	xargs -r -n1 sre diagnose <ids >xargs.out &&
	test_grep "^Category" xargs.out
'

test_expect_success 'usage mistakes exit 129, a missing incident 1' '
	test_expect_code 129 sre diagnose &&
	test_expect_code 129 sre diagnose nope &&
	test_expect_code 129 sre diagnose --evidence bundle 1 &&
	test_expect_code 129 sre diagnose --service x 1 &&
	test_expect_code 129 sre diagnose --timeout soon 1 &&
	test_expect_code 129 sre diagnose --evidence bundle --timeout 2s &&
	test_expect_code 129 sre diagnose --problem "something is wrong" &&
	test_expect_code 1 sre diagnose 999 2>err &&
	test_grep "no incident 999" err
'

kill "$JAEGER_PID" 2>/dev/null
stop_fake
test_done
