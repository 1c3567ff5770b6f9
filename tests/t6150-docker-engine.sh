#!/bin/sh
test_description='the loop against a real Docker Engine: a killed container, an OOM-killed one, a crash loop, and a bundle that replays'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-dockerd.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3"
fi
start_dockerd

PORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()')

# The id of the open incident whose title matches the extended regex $1.
incident_titled() {
	sre incident list --json >list.json &&
	python3 -c 'import json, re, sys
ids = [str(i["id"]) for i in json.load(open("list.json"))
       if re.search(sys.argv[1], i["title"])]
assert len(ids) == 1, ids
print(ids[0])' "$1"
}

serves() {
	python3 -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=1).read()' "http://127.0.0.1:$PORT/" 2>/dev/null
}

exited() {
	test "$(container_state "$1" "{{.State.Status}} {{.RestartCount}}")" = "exited $2"
}

test_expect_success 'setup: the services, their checks and the containers on the real engine' '
	mkdir -p .sre &&
	cat >.sre/config <<-EOT &&
	[docker]
		host = $DOCKER_HOST
	[check "web"]
		url = http://127.0.0.1:$PORT/
		timeout = 2s
	[service "web"]
		runtime = docker
	[service "hog"]
		runtime = docker
	[service "loop"]
		runtime = docker
	[fix]
		auto = restart
		verify-interval = 100ms
		verify-timeout = 10s
	# these services fail again within minutes: memory would count each
	# earlier restart as one that did not hold (t9000 tests that)
	[remember]
		hold-window = 0
	EOT
	docker run -d --name web --network host bb:1 httpd -f -p "127.0.0.1:$PORT" -h /www >/dev/null &&
	dockerd_wait 10 serves
'

test_expect_success 'the API version is agreed with the Engine; a pinned one is used as it is' '
	sre scout --porcelain >ids &&
	! test -s ids &&
	sre -c docker.api-version=1.99 scout --porcelain >ids 2>err &&
	! test -s ids &&
	test_grep "docker: $DOCKER_HOST: HTTP 400: client version 1.99 is too new" err &&
	sre -c docker.api-version=1.41 scout --porcelain >ids &&
	! test -s ids
'

test_expect_success 'docker kill: scout opens incidents, diagnose says restart, fix restarts and the check passes' '
	docker kill web >/dev/null &&
	dockerd_wait 10 exited web 0 &&
	started=$(container_state web "{{.State.StartedAt}}") &&
	sre scout --porcelain >ids &&
	test_line_count = 2 ids &&
	incident_titled "^container web exited with code 137\$" >/dev/null &&
	id=$(incident_titled "^web is unreachable") &&
	sre diagnose --json "$id" >d.json &&
	test "$(field d.json category)" = crash &&
	test "$(field d.json mitigation action)" = restart &&
	test "$(field d.json mitigation target)" = web &&
	sre fix "$id" </dev/null >out &&
	test_grep "restart of web: done: container web restarted" out &&
	sre incident show --json "$id" >show.json &&
	test "$(field show.json state)" = INCIDENT_RESOLVED &&
	test "$(container_state web "{{.State.Running}}")" = true &&
	test "$(container_state web "{{.State.StartedAt}}")" != "$started" &&
	serves
'

test_expect_success 'killed by its memory limit, again and again: scout sees OOMKilled, diagnose says increase-memory' '
	docker run -d --name hog -m 16m --memory-swap 16m --restart on-failure:3 --network host \
		bb:1 sh -c "s=x; i=0; while [ \$i -lt 23 ]; do s=\$s\$s; i=\$((i + 1)); done; exec sleep 600" \
		>/dev/null &&
	dockerd_wait 30 exited hog 3 &&
	test "$(container_state hog "{{.State.OOMKilled}} {{.State.ExitCode}}")" = "true 137" &&
	sre scout --porcelain >ids &&
	id=$(incident_titled "^container hog was killed for running out of memory") &&
	echo "$id" >hog.id &&
	sre diagnose --json --save-evidence bundle "$id" >oom.json &&
	test "$(field oom.json category)" = oom &&
	test "$(field oom.json mitigation action)" = increase-memory &&
	test "$(field oom.json mitigation target)" = hog &&
	test "$(field oom.json mitigation params from)" = 16Mi &&
	test "$(field oom.json mitigation params memory)" = 24Mi
'

test_expect_success 'the bundle saved from the real engine replays to the same diagnosis' '
	test -s bundle/docker-inspect.json &&
	sre diagnose --evidence bundle --json >replay.json &&
	test "$(field replay.json category)" = oom &&
	test "$(field replay.json mitigation action)" = increase-memory &&
	python3 -c '"'"'import json, sys
live, replay = (json.load(open(f)) for f in sys.argv[1:])
# What the live run adds: its incident, the sources not configured here,
# and what memory recalls of the incident.
for k in ("incident", "not_configured", "known_error", "similar", "memory"):
    live.pop(k, None)
    replay.pop(k, None)
assert live == replay, (live, replay)'"'"' oom.json replay.json
'

test_expect_success 'fix raises the limit through the Engine, within max-memory, and docker inspect shows it' '
	sre config set service.hog.max-memory 64Mi &&
	sre config set fix.auto restart,increase-memory &&
	sre fix "$(cat hog.id)" </dev/null >out &&
	test_grep "^increase-memory of hog: done: memory limit of hog raised from 16Mi to 24Mi; container hog restarted\$" out &&
	test "$(container_state hog "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}")" = "25165824 25165824" &&
	sre incident show --json "$(cat hog.id)" >show.json &&
	test "$(field show.json state)" = INCIDENT_RESOLVED &&
	test "$(container_state hog "{{.State.Running}}")" = true
'

test_expect_success 'a crash loop is diagnosed as one and not restarted again' '
	docker run -d --name loop --restart on-failure:4 --network host bb:1 sh -c "exit 1" >/dev/null &&
	dockerd_wait 30 exited loop 4 &&
	before=$(container_state loop "{{.State.StartedAt}} {{.RestartCount}}") &&
	sre scout --porcelain >ids &&
	id=$(incident_titled "^container loop exited with code 1\$") &&
	sre diagnose --json "$id" >loop.json &&
	test "$(field loop.json category)" = crashloop &&
	test "$(field loop.json mitigation action)" = escalate &&
	test_expect_code 1 sre fix "$id" </dev/null >out 2>err &&
	sre incident show --json "$id" >show.json &&
	test "$(field show.json state)" = INCIDENT_REQUIRES_HUMAN &&
	test "$(container_state loop "{{.State.StartedAt}} {{.RestartCount}}")" = "$before"
'

# Before test_done removes the test's directory, where dockerd keeps its data.
stop_dockerd
test_done
