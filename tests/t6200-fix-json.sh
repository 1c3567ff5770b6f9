#!/bin/sh
test_description='sre fix --json: what was done to an incident, one JSON object, the same facts as the text'
. "$(dirname "$0")/test-lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 to read the JSON"
fi

state() {
	sre incident show --json "$1" >state.json && field state.json state
}

# A process of our own: start runs sleep in the background and writes its pid.
test_expect_success 'setup: a process service, quick verification' '
	mkdir -p .sre bin run &&
	cat >bin/start-web <<-EOT &&
	#!/bin/sh
	echo start >>"$PWD/run/web.ops"
	sleep 300 >/dev/null 2>&1 </dev/null &
	echo \$! >"$PWD/run/web.pid"
	EOT
	cat >bin/stop-web <<-EOT &&
	#!/bin/sh
	kill "\$(cat "$PWD/run/web.pid")" 2>/dev/null
	exit 0
	EOT
	chmod +x bin/start-web bin/stop-web &&
	cat >.sre/config <<-EOT &&
	[fix]
		verify-interval = 100ms
		verify-timeout = 3s
	[service "web"]
		runtime = process
		pidfile = $PWD/run/web.pid
		start = $PWD/bin/start-web
		stop = $PWD/bin/stop-web
	EOT
	bin/start-web &&
	kill -0 "$(cat run/web.pid)"
'

# Kill web, let scout open its incident and diagnose it; its id in id.
down() {
	kill "$(cat run/web.pid)" &&
	i=0 &&
	while kill -0 "$(cat run/web.pid)" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done &&
	sre scout >/dev/null &&
	sre incident list --json >open.json &&
	python3 -c 'import json
print(max(i["id"] for i in json.load(open("open.json")) if i["service"] == "web"))' >id &&
	sre diagnose "$(cat id)" >/dev/null
}

test_expect_success 'waiting for a person: one object that says why, on stdout' '
	down &&
	test_expect_code 1 sre fix --json "$(cat id)" </dev/null >out.json 2>err &&
	test "$(field out.json incident)" = "$(cat id)" &&
	test "$(field out.json state)" = FIX_GENERATED &&
	test "$(field out.json waiting)" = "restart is not in fix.auto" &&
	test "$(field out.json action)" = null &&
	test_grep "waits in FIX_GENERATED for a person" err
'

test_expect_success 'approved: the action and the verdict, as the text says them' '
	id=$(cat id) &&
	sre fix --yes --json "$id" </dev/null >out.json &&
	test "$(field out.json action)" = "restart of web" &&
	test "$(field out.json state)" = INCIDENT_RESOLVED &&
	test "$(field out.json escalated)" = null &&
	resolved=$(field out.json resolved) &&
	test -n "$resolved" && test "$resolved" != null &&
	test "$(state "$id")" = INCIDENT_RESOLVED &&
	down &&
	sre fix --yes "$(cat id)" </dev/null >out.txt &&
	test_grep "^restart of web: done" out.txt &&
	test_grep "^incident $(cat id) is resolved: " out.txt
'

test_expect_success 'a resolved incident: nothing to fix, as text and as JSON' '
	id=$(cat id) &&
	sre fix --json "$id" >out.json &&
	test "$(field out.json resolved)" = "nothing to fix" &&
	sre fix "$id" >out.txt &&
	echo "incident $id is resolved: nothing to fix" >expect &&
	test_cmp expect out.txt
'

test_done
