#!/bin/sh
test_description='sre chaos inject, status and rollback: real faults on processes, each undone for sure, inside chaos.allow only'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-service.sh"

# state NAME: the state letter of NAME's process (R, S running or sleeping; T stopped).
state() {
	sed -n "s/^[0-9]* (.*) \([A-Z]\) .*/\1/p" "/proc/$(cat "run/$1.pid")/stat"
}

# gone PID: no such process, or a zombie nobody reaped yet.
gone() {
	! test -e "/proc/$1/stat" || sed -n "s/^[0-9]* (.*) \([A-Z]\) .*/\1/p" "/proc/$1/stat" | grep -q Z
}

alive() {
	! gone "$(cat "run/$1.pid")"
}

# faults STATE: how many faults sre chaos status --all lists in STATE.
faults() {
	sre chaos status --all --json >all.json &&
	python3 -c 'import json, sys
print(sum(f["state"] == sys.argv[1] for f in json.load(open("all.json"))))' "$1"
}

test_expect_success 'setup: two process services, one inside chaos.allow' '
	mkdir -p .sre &&
	make_service web &&
	make_service db &&
	cat >>.sre/config <<-EOT &&
	[chaos]
		allow = web
	EOT
	bin/start-web && bin/start-db &&
	alive web && alive db
'

test_when_finished_all() {
	for s in web db; do
		kill -CONT "$(cat "run/$s.pid")" 2>/dev/null
		kill "$(cat "run/$s.pid")" 2>/dev/null
	done
	return 0
}

test_expect_success 'a service outside chaos.allow is refused, named, and untouched' '
	test_expect_code 1 sre chaos inject --target db process-stop 2>err &&
	test_grep "db is outside chaos.allow: refused" err &&
	test "$(state db)" != T &&
	test "$(faults in-place)" = 0
'

test_expect_success 'an unknown fault, an unconfigured service, a fault of another runtime: refused' '
	test_expect_code 1 sre chaos inject --target web disk-melt 2>err &&
	test_grep "no fault .disk-melt.: sre chaos injects process-kill" err &&
	test_expect_code 1 sre -c chaos.allow=ghost chaos inject --target ghost process-kill 2>err &&
	test_grep "ghost" err &&
	test_expect_code 1 sre chaos inject --target web docker-pause 2>err &&
	test_grep "web runs on process: docker-pause is for docker" err &&
	test_expect_code 129 sre chaos inject process-kill 2>err &&
	test_grep "target" err &&
	test_expect_code 129 sre chaos inject --target web process-kill nokey 2>err
'

test_expect_success '--dry-run prints the undo record and touches nothing' '
	sre chaos inject --dry-run --target web process-stop >out &&
	test_grep "would inject process-stop into web" out &&
	test_grep "undo record: {\"runtime\":\"process\",\"fault\":\"stop\"" out &&
	test "$(state web)" != T &&
	test "$(faults in-place)" = 0 &&
	test "$(faults rolled-back)" = 0
'

test_expect_success 'process-stop stops it; status shows it; rollback continues it' '
	sre chaos inject --target web process-stop >out &&
	test_grep "^chaos 1: process-stop on web: process [0-9]* of web stopped" out &&
	test "$(state web)" = T &&
	sre chaos status >status &&
	test_grep "^1 *process-stop *web *in-place .* by " status &&
	test_expect_code 1 sre chaos inject --target web process-stop 2>err &&
	test_grep "in place on web already (chaos 1)" err &&
	sre chaos rollback >out &&
	test_grep "chaos 1: process-stop on web undone: process [0-9]* of web continued" out &&
	test "$(state web)" != T &&
	sre chaos status >status &&
	test_grep "^no fault in place" status &&
	test_expect_code 1 sre chaos rollback >out &&
	test_grep "no fault in place" out
'

test_expect_success 'process-kill kills it; rollback starts it again, once' '
	old=$(cat run/web.pid) &&
	n=$(starts web) &&
	sre chaos inject --target web process-kill >out &&
	test_grep "process $old of web killed" out &&
	gone "$old" &&
	sre chaos rollback 2 >out &&
	test_grep "chaos 2: process-kill on web undone" out &&
	test "$(starts web)" = $((n + 1)) &&
	alive web && test "$(cat run/web.pid)" != "$old"
'

test_expect_success '--duration undoes it by itself, and so does SIGTERM before that' '
	sre chaos inject --duration 1s --target web process-stop >out &&
	test_grep "chaos 3: process-stop on web: process" out &&
	test_grep "chaos 3: process-stop on web undone" out &&
	test "$(state web)" != T &&
	{ sre chaos inject --duration 60s --target web process-stop >term.out 2>&1 & } &&
	pid=$! &&
	i=0 &&
	while test "$(state web)" != T && test $i -lt 100; do sleep 0.1; i=$((i + 1)); done &&
	test "$(state web)" = T &&
	kill -TERM $pid &&
	wait $pid &&
	test_grep "terminated: undoing it now" term.out &&
	test_grep "process-stop on web undone" term.out &&
	test "$(state web)" != T
'

test_expect_success 'killed -9 after the undo record is kept: rollback puts it right' '
	test_expect_code 137 env SRE_TEST_CRASH_AT=chaos-recorded sre chaos inject --target web process-kill >out 2>&1 &&
	alive web &&
	n=$(starts web) &&
	sre chaos status >status &&
	test_grep "process-kill *web *injecting" status &&
	sre chaos rollback >out &&
	test_grep "was never killed" out &&
	test "$(starts web)" = "$n" &&
	test_expect_code 137 env SRE_TEST_CRASH_AT=chaos-injected sre chaos inject --target web process-stop >out 2>&1 &&
	test "$(state web)" = T &&
	sre chaos rollback >out &&
	test_grep "continued" out &&
	test "$(state web)" != T &&
	test "$(faults in-place)" = 0 &&
	test "$(faults injecting)" = 0
'

test_expect_success 'a fault whose injector died is undone by the next sre chaos, past its duration' '
	test_expect_code 137 env SRE_TEST_CRASH_AT=chaos-injected sre chaos inject --duration 5m \
		--target web process-stop >out 2>&1 &&
	test "$(state web)" = T &&
	sre chaos status >status &&
	test_grep "process-stop *web *injecting" status &&
	SRE_NOW=2099-01-01T00:00:00Z sre chaos status >status &&
	test_grep "past its duration, its injector gone" status &&
	test_grep "process-stop on web undone" status &&
	test "$(state web)" != T
'

test_expect_success 'an undo that fails stays in place, with why, for the next rollback' '
	sre chaos inject --target web process-kill >out &&
	mv bin/start-web bin/start-web.away &&
	test_expect_code 128 sre chaos rollback >out 2>err &&
	test_grep "process-kill on web NOT undone" out &&
	sre chaos status >status &&
	test_grep "undo failed: " status &&
	mv bin/start-web.away bin/start-web &&
	sre chaos rollback >out &&
	test_grep "process-kill on web undone" out &&
	alive web
'

test_expect_success 'an incident opened under a fault is the experiment'"'"'s: tagged, paged for nobody, left out of recall' '
	sre chaos inject --target web process-stop >out &&
	id=$(sre incident open --service web --title "web stopped answering") &&
	sre chaos rollback >out &&
	sre incident show --json "$id" >show.json &&
	grep "\"kind\":[[:space:]]*\"chaos\"" show.json &&
	sre incident transition --reason "the rules found nothing" "$id" INCIDENT_REQUIRES_HUMAN &&
	sre escalate --auto >out &&
	! grep "incident $id" out &&
	sre escalate --status "$id" >status &&
	test_grep "was never escalated" status &&
	sre -c chaos.page=true escalate --auto >out &&
	test_grep "incident $id: paged" out &&
	sre incident resolve --reason "continued" "$id" &&
	sre chaos status --all --json >all.json &&
	python3 - "$id" <<-\EOT &&
	import json, sys
	f = [f for f in json.load(open("all.json")) if f["outcome"]["incident"] is not None]
	assert len(f) == 1, f
	o = f[0]["outcome"]
	assert o["incident"] == int(sys.argv[1]), o
	assert o["mttd_s"] is not None and o["mttd_s"] >= 0, o
	assert o["mttr_s"] is not None and o["mttr_s"] >= o["mttd_s"], o
	assert o["resolved_at"] and o["detected_at"], o
	assert set(o) >= {"category", "action", "action_result"}, o
	EOT
	id2=$(sre incident open --service db --title "db stopped answering") &&
	sre incident show --json "$id2" >show2.json &&
	! grep "\"kind\":[[:space:]]*\"chaos\"" show2.json &&
	sre remember search "stopped answering" >found &&
	test_grep "^$id2 " found &&
	test_grep ! "^$id " found &&
	sre remember search --include-chaos "stopped answering" >found &&
	test_grep "^$id " found
'

test_expect_success 'disk-full fills the service'"'"'s configured directory with one file, and removes only it' '
	test_expect_code 1 sre chaos inject --target web disk-full 2>err &&
	test_grep "service.web.disk-path is not set" err &&
	mkdir disk && ln -s disk disk-link &&
	test_expect_code 1 sre -c service.web.disk-path="$PWD/disk-link" chaos inject --target web disk-full 2>err &&
	test_grep "is not a directory" err &&
	test_expect_code 1 sre -c service.web.disk-path="$PWD/disk" -c chaos.disk-reserve=1125899906842624 \
		chaos inject --target web disk-full 2>err &&
	test_grep "no more than chaos.disk-reserve" err &&
	echo mine >disk/keep &&
	sre -c service.web.disk-path="$PWD/disk" chaos inject --target web disk-full size=2Mi >out &&
	test_grep "2 MiB allocated in $PWD/disk/.sre-chaos-fill-" out &&
	ls -a disk >files &&
	test_line_count = 4 files &&
	test "$(stat -c %s disk/.sre-chaos-fill-*)" = 2097152 &&
	sre -c service.web.disk-path="$PWD/disk" chaos rollback >out &&
	test_grep "removed" out &&
	ls -a disk >files &&
	test_line_count = 3 files &&
	test "$(cat disk/keep)" = mine
'

# pool_server: a TCP server on 127.0.0.1 that prints its port and counts, in
# the file accepted, the connections it holds; it ends by itself in 30 s.
pool_server() {
	python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
s.settimeout(1)
conns = []
end = time.time() + 30
while time.time() < end:
    try:
        c, _ = s.accept()
    except OSError:
        continue
    conns.append(c)
    open("accepted", "w").write(str(len(conns)))'
}

# holder OUT: the holder process the inject output names.
holder() {
	sed -n "s/.*process \([0-9]*\) \(spins\|holds\).*/\1/p; s/.* held by process \([0-9]*\)\$/\1/p" "$1"
}

test_expect_success 'process-cpu: a holder spins on the service'"'"'s CPUs, and the rollback stops it' '
	sre chaos inject --target web process-cpu >out &&
	h=$(holder out) && test -n "$h" &&
	! gone "$h" &&
	test "$(taskset -pc "$h" | sed "s/.*: //")" = "$(taskset -pc "$(cat run/web.pid)" | sed "s/.*: //")" &&
	sre chaos rollback >out &&
	test_grep "its holder, process $h, stopped" out &&
	gone "$h"
'

test_expect_success 'process-memory holds the memory asked for; a duration ends the holder by itself' '
	sre chaos inject --duration 1s --target web process-memory size=8Mi >out &&
	test_grep "holds 8 MiB" out &&
	h=$(holder out) && test -n "$h" &&
	gone "$h" &&
	test_expect_code 1 sre chaos inject --target web process-memory size=lots 2>err &&
	test_grep "size is a size" err
'

test_expect_success 'db-pool holds connections open to the port, and lets them go on rollback' '
	{ pool_server >port & } &&
	spid=$! &&
	i=0 && while ! test -s port && test $i -lt 50; do sleep 0.1; i=$((i + 1)); done &&
	p=$(cat port) &&
	sre chaos inject --target web db-pool port=$p connections=5 >out &&
	test_grep "5 connections to port $p held by process" out &&
	i=0 && while test "$(cat accepted 2>/dev/null)" != 5 && test $i -lt 50; do sleep 0.1; i=$((i + 1)); done &&
	test "$(cat accepted)" = 5 &&
	h=$(holder out) &&
	sre chaos rollback >out &&
	gone "$h" &&
	test_expect_code 1 sre chaos inject --target web db-pool port=70000 2>err &&
	test_grep "port is the port" err &&
	kill $spid
'

test_expect_success 'status --json: every field, and --all keeps the history' '
	sre chaos status --all --json >all.json &&
	python3 - <<-\EOT
	import json
	faults = json.load(open("all.json"))
	assert len(faults) >= 6, faults
	for f in faults:
	    assert set(f) >= {"id", "fault", "target", "args", "injected_by", "injected_at", "age_s",
	                      "expires_at", "run", "state", "error"}, f
	    assert f["state"] == "rolled-back", f
	assert [f["id"] for f in faults] == sorted((f["id"] for f in faults), reverse=True)
	EOT
'

test_expect_success 'cleanup: the services stop' '
	test_when_finished_all
'

test_done
