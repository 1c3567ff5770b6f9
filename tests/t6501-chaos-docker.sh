#!/bin/sh
test_description='sre chaos on the real Docker Engine: kill, stop, pause and a memory limit that brings a real OOM kill, each undone as it was'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-dockerd.sh"

start_dockerd

status_of() {
	container_state "$1" "{{.State.Status}}"
}

memory_of() {
	container_state "$1" "{{.HostConfig.Memory}}"
}

test_expect_success 'setup: two containers with a memory limit, one inside chaos.allow' '
	mkdir -p .sre &&
	cat >.sre/config <<-EOT &&
	[docker]
		host = $DOCKER_HOST
	[service "app"]
		runtime = docker
	[service "other"]
		runtime = docker
	[chaos]
		allow = app
	EOT
	docker run -d --name app -m 64m --network none bb:1 httpd -f -p 8080 -h /www >/dev/null &&
	docker run -d --name other -m 64m --network none bb:1 httpd -f -p 8080 -h /www >/dev/null &&
	test "$(status_of app)" = running &&
	test "$(memory_of app)" = 67108864
'

test_expect_success 'outside chaos.allow: refused, and the container untouched' '
	test_expect_code 1 sre chaos inject --target other docker-pause 2>err &&
	test_grep "other is outside chaos.allow" err &&
	test "$(status_of other)" = running
'

test_expect_success 'docker-pause pauses it; rollback unpauses it' '
	sre chaos inject --target app docker-pause >out &&
	test_grep "container app: paused" out &&
	test "$(status_of app)" = paused &&
	sre chaos rollback >out &&
	test_grep "container app unpaused" out &&
	test "$(status_of app)" = running
'

test_expect_success 'docker-kill and docker-stop: down, then started again by the rollback' '
	sre chaos inject --target app docker-kill >out &&
	test_grep "container app: killed" out &&
	test "$(status_of app)" = exited &&
	sre chaos rollback >out &&
	test_grep "container app started" out &&
	test "$(status_of app)" = running &&
	sre chaos inject --target app docker-stop >out &&
	test "$(status_of app)" = exited &&
	sre chaos rollback >out &&
	test "$(status_of app)" = running
'

test_expect_success 'docker-memory: a real OOM kill under the small limit; the limit it had comes back' '
	sre chaos inject --target app docker-memory memory=8Mi >out &&
	test_grep "container app limited to 8Mi of memory, no swap" out &&
	test "$(memory_of app)" = 8388608 &&
	test_expect_code 137 docker exec app sh -c "x=x; while :; do x=\$x\$x; done" &&
	sre chaos rollback >out &&
	test_grep "container app has its memory limit back" out &&
	test "$(memory_of app)" = 67108864 &&
	test "$(status_of app)" = running
'

test_expect_success 'docker-restart-loop: the container dies and comes back, again and again, until the rollback' '
	before=$(container_state app "{{.State.StartedAt}}") &&
	sre chaos inject --target app docker-restart-loop every=1 >out &&
	test_grep "container app killed and started every 1s by process [0-9]*" out &&
	h=$(sed -n "s/.* by process \([0-9]*\)\$/\1/p" out) &&
	i=0 &&
	while test "$(container_state app "{{.State.StartedAt}}")" = "$before" && test $i -lt 100; do
		sleep 0.1; i=$((i + 1))
	done &&
	test "$(container_state app "{{.State.StartedAt}}")" != "$before" &&
	sre chaos rollback >out &&
	test_grep "its holder, process $h, stopped; container app running" out &&
	{ ! test -e "/proc/$h/stat" || grep -q "^[0-9]* (.*) Z " "/proc/$h/stat"; } &&
	test "$(status_of app)" = running
'

test_expect_success 'a memory limit under Docker'"'"'s least, or no size: refused before anything' '
	test_expect_code 1 sre chaos inject --target app docker-memory memory=1k 2>err &&
	test_grep "under Docker.s least, 6Mi" err &&
	test_expect_code 1 sre chaos inject --target app docker-memory memory=lots 2>err &&
	test_grep "memory is a size" err &&
	test "$(memory_of app)" = 67108864
'

test_expect_success 'a container removed while its fault is in place: the undo says so and stays' '
	sre chaos inject --target app docker-kill >out &&
	docker rm -f app >/dev/null &&
	test_expect_code 128 sre chaos rollback >out 2>&1 &&
	test_grep "NOT undone: docker: no container app" out &&
	sre chaos status >status &&
	test_grep "docker-kill *app *in-place" status
'

test_expect_success 'cleanup' '
	docker rm -f other >/dev/null &&
	docker ps -aq >left &&
	! test -s left
'

# Before test_done removes the test's directory, where dockerd keeps its data.
stop_dockerd
test_done
