#!/bin/sh
test_description='sre run: the whole loop once and pass after pass, one per store, resumable, quiet, with a heartbeat'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"
. "$TEST_DIRECTORY/lib-service.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the heartbeat's fake server and the JSON checks"
fi

start_fake target || { echo "Bail out! the heartbeat's fake server did not start"; exit 1; }

# A service "api" run as a process (tests/lib-service.sh).
mkdir -p .sre
make_service api || exit 1
cat >>"$XDG_CONFIG_HOME/sre/config" <<EOT
[fix]
	auto = restart
	verify-interval = 100ms
	verify-timeout = 10s
	min-confidence = 0.5
[remember]
	hold-window = 0
[run]
	heartbeat-url = $FAKE_URL/ping/abc123
EOT

# Stop api (starting it first when an earlier test left it dead).
kill_api() {
	{ service_alive api || bin/start-api; } &&
	kill_service api
}

# jq-less: a Python expression over the JSON of file $1 (j).
jf() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}


# What the fake Slack was sent: "<incident> <event>" a line.
slack_sent() {
	python3 - "$FAKE_LOG" <<-\EOT
	import json, sys
	for line in open(sys.argv[1]):
	    text = json.loads(json.loads(line)["body"])["text"]
	    print(text.split(":")[0][len("Incident "):])
	EOT
}

# Is process $1 gone (or a zombie)?
gone() {
	! test -e /proc/$1/stat || grep -q "^[0-9]* (.*) Z " /proc/$1/stat
}

test_expect_success 'usage: one of --once, --watch, --status; --interval and --wait with --watch' '
	test_expect_code 129 sre run 2>err &&
	test_grep "one of them" err &&
	test_expect_code 129 sre run --once --watch 2>err &&
	test_expect_code 129 sre run --once --interval 1s 2>err &&
	test_grep "go with --watch" err &&
	test_expect_code 129 sre run --watch --interval soon 2>err &&
	test_grep "is not a duration" err &&
	test_expect_code 129 sre run --once extra 2>err
'

test_expect_success '--status before any pass: none, and not healthy' '
	test_expect_code 1 sre run --status >out &&
	test_grep "last pass: none" out &&
	test_grep "healthy: no" out
'

test_expect_success '--once on a healthy stack: nothing to say, exit 0, the heartbeat pinged' '
	bin/start-api &&
	sre run --once >out 2>err &&
	! test -s out &&
	! test -s err &&
	test "$(fake_count GET "^/ping/abc123\$")" = 1
'

test_expect_success '--once heals a dead service end to end: opened, diagnosed, restarted, verified' '
	old=$(cat run/api.pid) &&
	kill_api &&
	sre run --once >out 2>err &&
	test_grep "^incident 1 opened: api is not running" out &&
	test_grep "^incident 1 diagnosed: crash" out &&
	test_grep "^incident 1: restart of api" out &&
	test_grep "^incident 1 resolved: api is running" out &&
	test "$(cat run/api.pid)" != "$old" &&
	service_alive api &&
	test "$(sre incident show --json 1 | python3 -c "import json, sys; print(json.load(sys.stdin)[\"state\"])")" = INCIDENT_RESOLVED
'

test_expect_success '--status: the last pass, what it did, healthy' '
	sre run --status >out &&
	test_grep "^last pass: .*, acting, by " out &&
	test_grep "what it did:.* opened 1" out &&
	test_grep "steps: every one ok" out &&
	test_grep "healthy: yes" out &&
	sre run --status --json >status.json &&
	test "$(jf status.json "j[\"healthy\"]")" = True &&
	test "$(jf status.json "j[\"running\"]")" = False &&
	test "$(jf status.json "\"|\".join(s[\"step\"] for s in j[\"passes\"][0][\"summary\"][\"steps\"])")" = \
		"scout|diagnose|fix|escalate|remember|sync|heartbeat" &&
	test "$(jf status.json "j[\"passes\"][0][\"summary\"][\"events\"][\"resolved\"]")" = 1
'

test_expect_success '--json: each change one NDJSON event with its step and incident' '
	kill_api &&
	sre run --once --json >out 2>err &&
	python3 - out <<-\EOT
	import json, sys
	events = [json.loads(l) for l in open(sys.argv[1])]
	kinds = [(e["step"], e["event"]) for e in events]
	assert kinds == [("scout", "opened"), ("diagnose", "diagnosed"), ("fix", "acted"), ("fix", "resolved")], kinds
	assert all(e["incident"] == 2 and e["pass"] == 1 and e["time"].endswith("Z") for e in events), events
	EOT
'

test_expect_success '--once exits 1 when something waits for a person, and says it' '
	kill_api &&
	test_expect_code 1 sre --db "$PWD/wait.db" -c fix.min-confidence=0.99 run --once >out 2>err &&
	test_grep "^incident 1 waits for a person: " out &&
	test_expect_code 1 sre --db "$PWD/wait.db" -c fix.min-confidence=0.99 run --once >out 2>err &&
	test_grep "^incident 1 waits for a person: .*fix.min-confidence" out &&
	test_line_count = 1 out &&
	bin/start-api
'

test_expect_success 'a second sre run on the store is refused at once, naming the holder; --wait waits' '
	{ sre run --watch --interval 200ms >watch1.out 2>watch1.err & } &&
	w1=$! &&
	test_when_finished "kill -9 $w1 2>/dev/null; true" &&
	wait_for_line "$XDG_STATE_HOME/sre/sre.db-run" "-$w1 since" &&
	test_expect_code 1 sre run --once >out 2>err &&
	test_grep "another sre run holds this store (.*-$w1 since .*): one at a time" err &&
	! test -s out &&
	{ sre run --watch --wait --interval 200ms >watch2.out 2>watch2.err & } &&
	w2=$! &&
	test_when_finished "kill -9 $w2 2>/dev/null; true" &&
	wait_for_line watch2.err "waiting for the sre run that holds this store" &&
	kill -TERM $w1 &&
	wait $w1 &&
	sre run --status --json >status.json &&
	i=0 &&
	while ! grep -q -e "-$w2 since" "$XDG_STATE_HOME/sre/sre.db-run"; do
		i=$((i + 1)) && test $i -lt 300 && sleep 0.1 || return 1
	done &&
	kill -TERM $w2 &&
	wait $w2
'

test_expect_success '--watch heals again and again, says each thing once, and stops on SIGTERM with exit 0' '
	{ service_alive api || bin/start-api; } &&
	{ sre --db "$PWD/watch.db" run --watch --interval 200ms >watch.out 2>watch.err & } &&
	w=$! &&
	test_when_finished "kill -9 $w 2>/dev/null; true" &&
	wait_for_line "$PWD/watch.db-run" "since" &&
	# A pass or two on the healthy service first, and after each heal:
	# a kill while sre restarts it would be a second failure, not this test.
	sleep 0.5 &&
	kill_api &&
	wait_for_line watch.out "resolved: api is running" &&
	sleep 0.5 &&
	kill_api &&
	i=0 &&
	while test "$(grep -c "resolved: api is running" watch.out)" -lt 2; do
		i=$((i + 1)) && test $i -lt 300 && sleep 0.1 || return 1
	done &&
	kill -TERM $w &&
	wait $w &&
	test "$(grep -c " opened: " watch.out)" = 2 &&
	test "$(grep -c " restart of api" watch.out)" = 2 &&
	! grep -v "^[0-2][0-9]:[0-5][0-9]:[0-6][0-9] incident [0-9]*[: ]" watch.out &&
	service_alive api
'

test_expect_success 'SIGTERM finishes the pass under way: the fix in progress completes' '
	cat >slow-start <<-EOT &&
	#!/bin/sh
	sleep 2
	exec "$PWD/bin/start-api"
	EOT
	chmod +x slow-start &&
	kill_api &&
	{ sre --db "$PWD/term.db" -c service.api.start="$PWD/slow-start" run --watch --interval 10s >term.out 2>term.err & } &&
	w=$! &&
	test_when_finished "kill -9 $w 2>/dev/null; true" &&
	wait_for_line term.out "diagnosed: crash" &&
	kill -TERM $w &&
	wait $w &&
	test_grep "resolved: api is running" term.out &&
	service_alive api
'

test_expect_success 'a step past run.step-timeout is stopped as kill -9 would; the other steps run; the next pass resumes with one action' '
	cat >hang-start <<-EOT &&
	#!/bin/sh
	echo start >>"$PWD/run/api.ops"
	sleep 30
	EOT
	chmod +x hang-start &&
	kill_api &&
	: >run/api.ops &&
	test_expect_code 1 sre --db "$PWD/deadline.db" -c run.step-timeout=2s \
		-c service.api.start="$PWD/hang-start" run --once --json >out 2>err &&
	test_grep "the fix step ran past run.step-timeout and was stopped; the next pass resumes it" err &&
	sre --db "$PWD/deadline.db" run --status --json >status.json &&
	test "$(jf status.json "\" \".join(s[\"step\"] + \"=\" + s[\"status\"] for s in j[\"passes\"][0][\"summary\"][\"steps\"])")" = \
		"scout=ok diagnose=ok fix=overran escalate=ok remember=ok sync=ok heartbeat=ok" &&
	test "$(fake_count GET "^/ping/abc123/fail\$")" = 1 &&
	test "$(starts api)" = 1 &&
	sre --db "$PWD/deadline.db" run --once >out 2>err &&
	test "$(starts api)" = 2 &&
	service_alive api &&
	test "$(sre --db "$PWD/deadline.db" incident show --json 1 | python3 -c "import json, sys; print(json.load(sys.stdin)[\"state\"])")" = INCIDENT_RESOLVED
'

for point in scout diagnose fix action-started escalate remember sync heartbeat; do
	test_expect_success "kill -9 at $point: the next pass resumes, with one action" '
		kill_api &&
		: >run/api.ops &&
		test_expect_code 1 env SRE_TEST_CRASH_AT=$point sre --db "$PWD/$point.db" run --once >out 2>err &&
		test_grep "step failed" err &&
		sre --db "$PWD/$point.db" run --once >>out 2>err &&
		test "$(grep -c "resolved: api is running" out)" = 1 &&
		test "$(starts api)" = 1 &&
		service_alive api &&
		test "$(sre --db "$PWD/$point.db" incident list --json)" = "[]"
	'
done

test_expect_success 'a runner killed with -9 mid-step: its step still holds the store, then the next takes over' '
	kill_api &&
	{ sre --db "$PWD/k.db" -c service.api.start="$PWD/slow-start" run --watch --interval 10s >k.out 2>k.err & } &&
	w=$! &&
	test_when_finished "kill -9 $w 2>/dev/null; true" &&
	wait_for_line k.out "diagnosed: crash" &&
	kill -9 $w &&
	{ wait $w; true; } &&
	test_expect_code 1 sre --db "$PWD/k.db" run --once >out 2>err &&
	test_grep "another sre run holds this store" err &&
	i=0 &&
	while ! sre --db "$PWD/k.db" run --once >out 2>err; do
		i=$((i + 1)) && test $i -lt 100 && sleep 0.1 || return 1
	done &&
	service_alive api
'

test_expect_success 'the heartbeat must not leak its secret path over plain http to another host' '
	test_expect_code 0 sre --db "$PWD/hb.db" -c run.heartbeat-url=http://example.invalid/ping/secret run --once >out 2>err &&
	test_grep "run.heartbeat-url must be https://" err &&
	test_grep ! "secret" err
'

test_expect_success 'a game day does not make a real failure look chronic: its incidents are not the service'"'"'s past' '
	for i in 1 2; do
		{ service_alive api || bin/start-api; } &&
		sre --db "$PWD/gd.db" -c chaos.allow=api chaos inject process-kill --target api >inject.out 2>&1 &&
		sre --db "$PWD/gd.db" -c chaos.allow=api run --once >out 2>err &&
		test_grep "resolved: api is running" out &&
		sre --db "$PWD/gd.db" -c chaos.allow=api chaos rollback >rollback.out 2>&1 || return 1
	done &&
	sre --db "$PWD/gd.db" incident show --json 2 >show.json &&
	test "$(jf show.json "[e[\"kind\"] for e in j[\"events\"]].count(\"chaos\")")" = 1 &&
	kill_api &&
	sre --db "$PWD/gd.db" run --once >out 2>err &&
	test_grep "^incident 3: restart of api" out &&
	test_grep ! "waits for a person" out
'

test_expect_success 'what a failing service says reaches the terminal without its controls, and JSON escaped' '
	printf "#!/bin/sh\nprintf \"bind failed \\033]0;pwned\\007 \\033[31mred\\n\" >&2\nexit 1\n" >evil-start &&
	chmod +x evil-start &&
	cat >evil.config <<-EOT &&
	[service "evil"]
		runtime = process
		pidfile = $PWD/run/evil.pid
		start = $PWD/evil-start
	[fix]
		auto = restart
		min-confidence = 0.5
	EOT
	echo 999999 >run/evil.pid &&
	test_expect_code 1 env SRE_CONFIG="$PWD/evil.config" sre --db "$PWD/evil.db" run --once >out 2>err &&
	test_grep "incident 1 waits for a person: .*bind failed" out &&
	! grep -q "$(printf "\033")" out &&
	! grep -q "$(printf "\007")" out &&
	echo 999999 >run/evil.pid &&
	test_expect_code 1 env SRE_CONFIG="$PWD/evil.config" sre --db "$PWD/evil2.db" run --once --json >out.json 2>err &&
	test_grep "bind failed" out.json &&
	! grep -q "$(printf "\033")" out.json &&
	python3 -c "import json, sys; [json.loads(l) for l in open(sys.argv[1])]" out.json
'

test -w /dev/kmsg && test -r /dev/kmsg && test_set_prereq KMSG

# kmsg_oom PID: the kernel's log says it killed PID for memory (as root, a line of our own).
kmsg_oom() {
	printf "<3>sre-test: Memory cgroup out of memory: Killed process %s (sleep) total-vm:1kB\n" "$1" >/dev/kmsg
}

test_expect_success KMSG 'the kernel'"'"'s kill of an earlier process with the same pid is not this one'"'"'s: a crash, then an OOM kill' '
	{ service_alive api || bin/start-api; } &&
	pid=$(cat run/api.pid) &&
	kmsg_oom $pid &&
	# The service (re)starts after that line: its pidfile is newer.
	sleep 1.5 &&
	touch run/api.pid &&
	kill -9 $pid &&
	sre --db "$PWD/kmsg.db" run --once >out 2>err &&
	test_grep "^incident 1 diagnosed: crash" out &&
	pid=$(cat run/api.pid) &&
	kmsg_oom $pid &&
	kill -9 $pid &&
	sre --db "$PWD/kmsg.db" run --once >out 2>err &&
	test_grep "^incident 2 diagnosed: oom" out
'

test_expect_success 'a flapping service is one episode: the first incident'"'"'s messages, nothing for its returns, but an escalation' '
	target_pid=$FAKE_PID &&
	start_fake slack &&
	hook=$FAKE_URL/services/T0001/B0001/hooksecret0123456789 &&
	for i in 1 2; do
		kill_api &&
		SLACK_WEBHOOK_URL=$hook sre --db "$PWD/flap.db" run --once >out 2>err || return 1
	done &&
	# The third time in a day is chronic: no restart, a person is needed.
	kill_api &&
	test_expect_code 1 env SLACK_WEBHOOK_URL=$hook sre --db "$PWD/flap.db" run --once >out 2>err &&
	slack_sent | sort -u >sent &&
	printf "%s\n" "1 diagnosed" "1 fixed" "1 opened" "1 resolved" "3 escalated" >expect &&
	test_cmp expect sent &&
	sre --db "$PWD/flap.db" incident show --json 2 >show.json &&
	test "$(jf show.json "[e[\"kind\"] for e in j[\"events\"]].count(\"notification-held\")")" = 4 &&
	for i in 1 2; do
		kill_api &&
		SLACK_WEBHOOK_URL=$hook sre --db "$PWD/noflap.db" -c notify.cooldown=0 run --once >out 2>err || return 1
	done &&
	slack_sent >sent &&
	test "$(grep -c "^2 opened" sent)" = 1 &&
	stop_fake &&
	FAKE_PID=$target_pid
'

kill "$(cat run/api.pid)" 2>/dev/null
stop_fake
test_done
