#!/bin/sh
test_description='sre diagnose with only an HTTP check: what scout saw is evidence, and the missing sources are named'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the fakes"
fi

start_fake target || { echo "Bail out! the target did not start"; exit 1; }
TARGET_URL=$FAKE_URL

# The id of the incident of service $1.
incident_of() {
	sre incident list --json >list.json &&
	python3 -c 'import json, sys
print([i["id"] for i in json.load(open("list.json")) if i["service"] == sys.argv[1]][0])' "$1"
}

state() {
	sre incident show --json "$1" >state.json && field state.json state
}

test_expect_success 'setup: a check refused, one answering 500, one that hangs' '
	python3 -c "import json, sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + \"/_fake/set\",
    data=json.dumps({\"path\": \"/broken\", \"status\": 500, \"body\": \"boom\"}).encode(),
    method=\"POST\"), timeout=5).read()" "$TARGET_URL" &&
	mkdir -p .sre &&
	port=$(closed_port) &&
	cat >.sre/config <<-EOT &&
	[check "web"]
		url = http://127.0.0.1:$port/health
	[check "api"]
		url = $TARGET_URL/broken
	[check "slow"]
		url = $TARGET_URL/hang
		timeout = 1s
	EOT
	test_expect_code 0 sre scout >scout.out &&
	test_grep "opened .* web" scout.out &&
	test_grep "opened .* api" scout.out &&
	test_grep "opened .* slow" scout.out
'

test_expect_success 'connection refused: the service is down, restart it (with a person: weak evidence)' '
	id=$(incident_of web) &&
	sre diagnose "$id" >out &&
	test_grep "^Root cause  web is down: nothing accepts connections at http://127.0.0.1:[0-9]*/health" out &&
	test_grep "^Category    crash (confidence 0.60)" out &&
	test_grep "^Mitigation  restart web" out &&
	test_grep "^  \[check\] \"web is unreachable: " out &&
	test "$(state "$id")" = ANALYSIS_COMPLETE
'

test_expect_success 'the sources not configured are named with the lines that add them' '
	test_grep "^Not configured" out &&
	test_grep "^  jaeger: " out &&
	test_grep "^      \[jaeger\]$" out &&
	printf "      \turl = http://localhost:16686\n" >expect &&
	grep -F "$(cat expect)" out &&
	test_grep "^      \[prometheus\]$" out &&
	test_grep "^      \[service \"web\"\]$" out &&
	test_grep "prometheus = sum(rate(http_requests_total{job=.web.,code=~.5\.\..}\[5m\]))" out &&
	id=$(incident_of web) &&
	sre diagnose --json "$id" >out.json 2>/dev/null &&
	python3 -c "import json
j = json.load(open(\"out.json\"))
m = {x[\"source\"]: x for x in j[\"not_configured\"]}
assert sorted(m) == [\"docker\", \"git\", \"host\", \"jaeger\", \"kubernetes\", \"prometheus\"], m
assert m[\"jaeger\"][\"config\"] == \"[jaeger]\\n\\turl = http://localhost:16686\", m[\"jaeger\"]
assert j[\"rule\"] == \"check-refused\", j[\"rule\"]
"
'

test_expect_success 'a 5xx: the service is up but failing' '
	id=$(incident_of api) &&
	sre diagnose "$id" >out &&
	test_grep "^Root cause  api is up but failing: it answers HTTP 500 at $TARGET_URL/broken" out &&
	test_grep "^Category    probe-failure (confidence 0.60)" out &&
	test_grep "^Mitigation  restart api" out &&
	test_grep "^Not configured" out
'

test_expect_success 'no answer in time: slow or hung' '
	id=$(incident_of slow) &&
	sre diagnose "$id" >out &&
	test_grep "^Root cause  slow is slow or hung: $TARGET_URL/hang gave no answer in time" out &&
	test_grep "^Category    latency (confidence 0.55)" out
'

test_expect_success 'refused, and the process is gone: the process rule wins and quotes the check' '
	sh -c "echo \$\$" >web.pid &&
	cat >>.sre/config <<-EOT &&
	[service "web"]
		runtime = process
		pidfile = $PWD/web.pid
	EOT
	sre incident open --service web --title "web is odd" --source http \
		--fingerprint http/web/down/web2 >id2 &&
	id=$(incident_of web) &&
	sre diagnose --json "$id" >out.json &&
	test "$(field out.json rule)" = process-crash &&
	test "$(field out.json confidence)" = 0.85 &&
	grep "\"check\"" out.json &&
	sre diagnose "$id" >out 2>/dev/null &&
	test_grep ! "^Not configured" out &&
	python3 -c "import json
j = json.load(open(\"out.json\"))
assert sorted(x[\"source\"] for x in j[\"not_configured\"]) == [\"git\", \"jaeger\", \"prometheus\"], j[\"not_configured\"]
"
'

test_expect_success 'an empty --evidence directory is an error, not a healthy service' '
	mkdir empty &&
	test_expect_code 128 sre diagnose --evidence empty >out 2>err &&
	! test -s out &&
	test_grep "empty holds no evidence" err
'

test_expect_success '--problem without --service: the service or check the text names, else a usage error' '
	sre diagnose --problem "api answers errors" --json >p.json &&
	test "$(field p.json service)" = api &&
	test "$(field p.json incident)" = null &&
	test_expect_code 129 sre diagnose --problem "something is wrong" 2>err &&
	test_grep "names no configured \[service\] or \[check\]: name it with --service" err &&
	sre diagnose --problem "something is wrong" --service api --json >p2.json &&
	test "$(field p2.json service)" = api
'

stop_fake
test_done
