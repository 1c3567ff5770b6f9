#!/bin/sh
test_description='sre scout: HTTP checks, processes, Alertmanager, deciding, output'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the target service"
fi

start_fake target || { echo "Bail out! the target service did not start"; exit 1; }

# Make a path of the target answer with this status (and optional delay).
answer() {
	python3 -c 'import json, sys, urllib.request
r = {"path": sys.argv[2], "status": int(sys.argv[3]), "delay_ms": int(sys.argv[4]),
     "body": sys.argv[5]}
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/_fake/set",
    data=json.dumps(r).encode(), method="POST"), timeout=5).read()' \
	"$FAKE_URL" "$1" "$2" "${3:-0}" "${4:-ok}"
}

json_field() {
	sqlite3 :memory: "SELECT json_extract(readfile('$1'), '\$.$2')"
}

test_expect_success 'with nothing to watch, scout says so and exits 128' '
	test_expect_code 128 sre scout 2>err &&
	test_grep "nothing to scout" err
'

test_expect_success 'setup: two checks' '
	mkdir -p .sre &&
	cat >.sre/config <<-EOT
	[check "web"]
		url = $FAKE_URL/
	[check "checkout"]
		url = $FAKE_URL/checkout
		body-match = ok
	[scout]
		recover-after = 2
	EOT
'

test_expect_success 'all healthy: no output at all, exit 0' '
	sre scout >out 2>err &&
	! test -s out && ! test -s err
'

test_expect_success 'a failing check opens an incident, one line on stdout' '
	answer /checkout 503 &&
	sre scout >out &&
	test_line_count = 1 out &&
	test_grep "^opened 1 checkout: checkout returned 503, expected 2xx$" out &&
	sre incident show --json 1 >show &&
	test "$(json_field show source)" = http &&
	test "$(json_field show fingerprint)" = http/checkout/down &&
	test "$(json_field show severity)" = high &&
	test "$(json_field show "events[1].kind")" = evidence &&
	test "$(json_field show "events[1].body.evidence.status")" = 503
'

test_expect_success 'failing again updates the same incident' '
	sre scout --porcelain >out &&
	echo 1 >expect && test_cmp expect out &&
	sre incident show --json 1 >show &&
	test "$(json_field show occurrences)" = 2 &&
	sre incident list --porcelain >open &&
	test_line_count = 1 open
'

test_expect_success '--exit-code exits 1 while an incident is open' '
	test_expect_code 1 sre scout --exit-code >/dev/null
'

test_expect_success 'one healthy run is not a recovery; two are' '
	answer /checkout 200 &&
	sre scout >out &&
	! test -s out &&
	sre scout >out &&
	test_grep "^recovered 1 checkout: checkout answered 200" out &&
	sre incident show --json 1 >show &&
	test "$(json_field show state)" = INCIDENT_RESOLVED &&
	sre incident show 1 >text &&
	test_grep "INCIDENT_DETECTED -> INCIDENT_RESOLVED: recovered: checkout answered 200" text &&
	sre scout --exit-code
'

test_expect_success 'a flapping check does not open and close tickets' '
	sre -c scout.fail-after=2 scout >out &&
	for s in 503 200 503 200 503 200; do
		answer /checkout $s &&
		sre -c scout.fail-after=2 scout >>out || return 1
	done &&
	! test -s out &&
	sre incident list --porcelain >open &&
	! test -s open
'

test_expect_success 'scout.fail-after: opened on the third failure in a row' '
	answer /checkout 500 &&
	sre -c scout.fail-after=3 scout >out1 &&
	sre -c scout.fail-after=3 scout >out2 &&
	! test -s out1 && ! test -s out2 &&
	sre -c scout.fail-after=3 scout >out3 &&
	test_grep "^opened 2 checkout:" out3 &&
	answer /checkout 200 &&
	sre scout && sre scout >out &&
	test_grep "^recovered 2" out
'

test_expect_success 'a body without the expected text fails the check' '
	answer / 200 0 "maintenance page" &&
	cat >>.sre/config <<-\EOT &&
	[check "web"]
		body-match = /^(ok|fine)$/
	EOT
	sre scout >out &&
	test_grep "^opened 3 web: web answered 200 without" out &&
	answer / 200 0 fine &&
	sre scout && sre scout >out &&
	test_grep "^recovered 3 web" out
'

test_expect_success 'a slow check opens a latency incident of medium severity' '
	cat >>.sre/config <<-\EOT &&
	[check "checkout"]
		max-latency = 100ms
	EOT
	answer /checkout 200 400 &&
	sre scout >out &&
	test_grep "^opened 4 checkout: checkout took [0-9]* ms (limit 100 ms)$" out &&
	sre incident show --json 4 >show &&
	test "$(json_field show severity)" = medium &&
	test "$(json_field show fingerprint)" = http/checkout/latency &&
	answer /checkout 200 0 &&
	sre scout && sre scout >out &&
	test_grep "^recovered 4" out
'

test_expect_success 'a hanging endpoint times out and fails its check' '
	cat >>.sre/config <<-EOT &&
	[check "hang"]
		url = $FAKE_URL/hang
		timeout = 1s
		severity = critical
	EOT
	sre scout >out &&
	test_grep "^opened 5 hang: hang is unreachable: .*[Tt]ime" out &&
	sre incident show --json 5 >show &&
	test "$(json_field show severity)" = critical
'

test_expect_success '--json prints every finding with its incident' '
	sre scout --json >out &&
	sqlite3 :memory: "SELECT json_extract(value, '"'"'\$.check'"'"') || '"'"' '"'"' || json_extract(value, '"'"'\$.status'"'"') || '"'"' '"'"' || ifnull(json_extract(value, '"'"'\$.incident'"'"'), '"'"'-'"'"') FROM json_each(readfile('"'"'out'"'"'))" >rows &&
	test_grep -x "hang failing 5" rows &&
	test_grep -x "web ok -" rows &&
	test_grep -x "checkout ok -" rows &&
	sqlite3 :memory: "SELECT group_concat(key, '"'"' '"'"') FROM json_each(json_extract(readfile('"'"'out'"'"'), '"'"'\$[0]'"'"'))" >keys &&
	test_grep "check source service signal status fingerprint incident" keys
'

test_expect_success '--dry-run reports what would change and writes nothing' '
	sed -i "/hang/,+3d" .sre/config &&
	answer /checkout 502 &&
	cp "$SRE_DB" before.db &&
	sqlite3 "$SRE_DB" "SELECT * FROM checks ORDER BY fingerprint" >checks.before &&
	sre scout --dry-run >out &&
	test_grep "^would open - checkout: checkout returned 502" out &&
	sqlite3 "$SRE_DB" "SELECT * FROM checks ORDER BY fingerprint" >checks.after &&
	test_cmp checks.before checks.after &&
	sre incident list --porcelain --all >all &&
	test_line_count = 5 all &&
	answer /checkout 200
'

test_expect_success 'a malformed configuration is fatal, naming file and line' '
	cp .sre/config good &&
	printf "[check \\"x\\"\n" >>.sre/config &&
	test_expect_code 128 sre scout 2>err &&
	test_grep "bad config line" err &&
	cp good .sre/config
'

test_expect_success 'a process whose pidfile names a gone process is an incident' '
	{ sleep 30 & } && echo $! >alive.pid &&
	echo 999999 >dead.pid &&
	cat >>.sre/config <<-EOT &&
	[service "worker"]
		runtime = process
		pidfile = $PWD/dead.pid
	[service "cron"]
		runtime = process
		pidfile = $PWD/alive.pid
	EOT
	sre scout >out &&
	test_grep "^opened [0-9]* worker: worker is not running: process 999999" out &&
	test_grep ! cron out &&
	kill "$(cat alive.pid)"
'

test_expect_success 'Alertmanager: a firing alert opens, its resolution resolves' '
	cat >firing.json <<-\EOT &&
	{"version":"4","groupKey":"{}:{alertname=\"HighErrorRate\"}","truncatedAlerts":0,
	 "status":"firing","receiver":"sre","groupLabels":{"alertname":"HighErrorRate"},
	 "commonLabels":{},"commonAnnotations":{},"externalURL":"http://alertmanager:9093",
	 "alerts":[{"status":"firing","labels":{"alertname":"HighErrorRate","service":"payments",
	   "severity":"critical"},"annotations":{"summary":"5xx above 5% for 10m"},
	   "startsAt":"2026-11-24T05:00:00Z","endsAt":"0001-01-01T00:00:00Z",
	   "generatorURL":"http://prometheus:9090/graph","fingerprint":"c6e2b1f6a8d4e2a1"}]}
	EOT
	sre scout --alertmanager firing.json >out &&
	test_grep "^opened [0-9]* payments: HighErrorRate: 5xx above 5% for 10m$" out &&
	id=$(sed -n "s/^opened \([0-9]*\) payments.*/\1/p" out) &&
	sre incident show --json "$id" >show &&
	test "$(json_field show fingerprint)" = alertmanager/c6e2b1f6a8d4e2a1 &&
	test "$(json_field show severity)" = critical &&
	sed "s/\"status\":\"firing\"/\"status\":\"resolved\"/g" firing.json >resolved.json &&
	sre scout --alertmanager - <resolved.json >out &&
	test_grep "^recovered $id payments" out
'

test_expect_success 'a payload that is not Alertmanager'"'"'s: one error line, exit 128, the other sources still read' '
	echo "{\"hello\": 1}" >bad.json &&
	test_expect_code 128 sre scout -v --alertmanager bad.json >out 2>err &&
	test_grep "^error: alertmanager: the payload is not webhook version 4$" err &&
	tail -1 err | test_grep "^fatal: " &&
	test_grep "^updated [0-9]* worker: " out
'

test_expect_success 'two scouts at once on one store open one incident' '
	answer /checkout 500 &&
	{ sre scout >a.out 2>&1 & } &&
	sre scout >b.out 2>&1 &&
	wait &&
	cat a.out b.out >both &&
	# The other one skipped (the scout lock) or, if it started after the
	# first had finished, updated the incident the first opened.
	test "$(grep -c "^opened .*checkout returned 500" both)" = 1 &&
	sre incident list --porcelain --service checkout >open &&
	test_line_count = 1 open &&
	answer /checkout 200
'

test_expect_success '--watch scouts until SIGTERM, then finishes cleanly' '
	answer /checkout 500 &&
	{ sre scout --watch -v --interval 1s >watch.out 2>&1 & echo $! >watch.pid; } &&
	sleep 2.5 &&
	kill -TERM "$(cat watch.pid)" &&
	i=0 && while kill -0 "$(cat watch.pid)" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done &&
	! kill -0 "$(cat watch.pid)" 2>/dev/null &&
	test_grep "checkout returned 500" watch.out &&
	test "$(grep -c "checkout returned 500" watch.out)" -ge 2
'

test_expect_success 'a source that is down is one error line; the others still run' '
	cat >>.sre/config <<-\EOT &&
	[prometheus]
		url = http://127.0.0.1:9/
	[check "conversion"]
		prometheus = sum(rate(orders_total[5m]))
		below = 1
	EOT
	answer /checkout 503 &&
	sre scout -v >out 2>err &&
	grep "^error:" err >errors &&
	test_line_count = 1 errors &&
	test_grep "^error: prometheus: http://127.0.0.1:9" errors &&
	test_grep "checkout returned 503" out &&
	answer /checkout 200
'

test_expect_success 'when no source can be read at all, scout exits 128' '
	mkdir -p down/.sre &&
	printf "[prometheus]\n\turl = http://127.0.0.1:9/\n[check \"q\"]\n\tprometheus = up\n\tbelow = 1\n" >down/.sre/config &&
	test_expect_code 128 sre -C down scout 2>err &&
	test_grep "^error: prometheus:" err
'

test_expect_success 'a password in a source'"'"'s URL never reaches the error line' '
	mkdir -p userinfo/.sre &&
	printf "[prometheus]\n\turl = http://bob:hunter2@127.0.0.1:9/\n[check \"q\"]\n\tprometheus = up\n\tbelow = 1\n" >userinfo/.sre/config &&
	test_expect_code 128 sre -C userinfo scout 2>err &&
	test_grep "^error: prometheus: " err &&
	test_grep ! "hunter2" err
'

stop_fake
test_done
