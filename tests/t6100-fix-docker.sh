#!/bin/sh
test_description='the loop on Docker: scout finds a crashed container, diagnose says restart, fix restarts it and verifies'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the fakes"
fi

cat >containers.json <<-\EOT
[{"name": "checkout", "image": "shop/checkout:1.4", "state": "exited", "exit_code": 2,
  "restart_count": 0,
  "logs": ["listening on :8080", {"stream": "stderr", "line": "panic: assignment to entry in nil map"}]},
 {"name": "cart", "image": "shop/cart:2.0"}]
EOT
SOCK="$TRASH_DIRECTORY/docker.sock"
start_fake docker --socket "$SOCK" --data containers.json || { echo "Bail out! no fake Docker"; exit 1; }

test_expect_success 'setup: a Docker service sre may restart on its own' '
	mkdir -p .sre &&
	cat >.sre/config <<-EOT
	[docker]
		host = unix://$SOCK
	[service "checkout"]
		runtime = docker
		container = checkout
	[fix]
		auto = restart
		verify-interval = 100ms
		verify-timeout = 3s
	# these services fail again within minutes: memory would count each
	# earlier restart as one that did not hold (t9000 tests that)
	[remember]
		hold-window = 0
	EOT
'

test_expect_success 'scout opens the incident, diagnose finds the crash' '
	sre scout --porcelain >ids &&
	test_line_count = 1 ids &&
	sre diagnose --json "$(cat ids)" >d.json &&
	test "$(field d.json category)" = crash &&
	test "$(field d.json mitigation action)" = restart &&
	test "$(field d.json mitigation target)" = checkout &&
	grep "panic: assignment to entry in nil map" d.json
'

test_expect_success '--dry-run names the container and sends nothing to Docker' '
	before=$(fake_count POST "/restart$") &&
	sre fix --dry-run "$(cat ids)" >plan &&
	test_grep "^Action      restart checkout (docker: container checkout)" plan &&
	test_grep "^Approval    allowed by policy" plan &&
	test "$(fake_count POST "/restart$")" = "$before"
'

test_expect_success 'sre fix restarts the container through the Engine API and verifies it' '
	sre fix "$(cat ids)" </dev/null >out 2>err &&
	test_grep "restart of checkout: done" out &&
	test "$(fake_count POST "/containers/[0-9a-f]*/restart$")" = 1 &&
	sre incident show --json "$(cat ids)" >show.json &&
	test "$(field show.json state)" = INCIDENT_RESOLVED &&
	grep "\"approval\":.*\"policy\"" show.json
'

test_expect_success 'a container Docker will not restart goes to a person, saying why' '
	sed "s/\"exit_code\": 2,/\"exit_code\": 2, \"restart_error\": \"no space left on device\",/" \
		containers.json >broken.json &&
	python3 - "$SOCK" broken.json <<-\EOT &&
	import http.client, socket, sys
	class C(http.client.HTTPConnection):
	    def connect(self):
	        self.sock = socket.socket(socket.AF_UNIX)
	        self.sock.connect(sys.argv[1])
	c = C("localhost")
	c.request("POST", "/_fake/set", open(sys.argv[2]).read())
	assert c.getresponse().status == 200
	EOT
	sre scout --porcelain >ids2 &&
	id=$(tail -n1 ids2) &&
	sre diagnose "$id" >/dev/null &&
	test_expect_code 1 sre fix "$id" </dev/null >out 2>err &&
	test_grep "restart of checkout failed: .*no space left on device" err &&
	sre incident show --json "$id" >show.json &&
	test "$(field show.json state)" = INCIDENT_REQUIRES_HUMAN
'

stop_fake
test_done
