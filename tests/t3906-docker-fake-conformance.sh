#!/bin/sh
test_description='the fake Docker Engine answers with every key of the recorded Engine objects'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

# The examples of moby's API documents (see SOURCES.md there): v1.47's,
# the version the fake speaks, and the current swagger's definitions.
need_fixtures docker/moby-swagger

# conform RECORDED PATH: every key of the recorded object (nested objects
# too, and the first item of lists) is in the fake's answer to GET PATH on
# its socket, left in answer.json; RECORDED is "file:python expression on
# the loaded JSON d". A key in EXCUSED is reported, but may be missing.
conform() {
	python3 - "$FIXTURES" "$SOCK" "$@" <<-\EOT
	import http.client, json, os, socket, sys
	sys.path.insert(0, os.environ["FAKES_DIR"])
	from conform import missing
	fixtures, sock, recorded, path = sys.argv[1:5]
	EXCUSED = {
	    r"\.SizeR(w|ootFs)$": "sent only for ?size=true",
	    r"\.Labels\.": "the container's own",
	    r"\.HostConfig\.(Annotations|Sysctls)$": "omitempty, and this container has none",
	    r"\.Config\.(NetworkDisabled|StopTimeout)$": "omitempty, and not set on this container",
	    r"\.Config\.MacAddress$": "not in Config since API 1.44 (it is per network)",
	    r"\.HostConfig\.Maximum(IOps|IOBps)$": "the example's names: dockerd writes "
	    "IOMaximumIOps and IOMaximumBandwidth",
	}
	class Unix(http.client.HTTPConnection):
	    def connect(self):
	        self.sock = socket.socket(socket.AF_UNIX)
	        self.sock.connect(sock)
	conn = Unix("localhost", timeout=10)
	conn.request("GET", path)
	got = json.load(conn.getresponse())
	json.dump(got, open("answer.json", "w"))
	file, expr = recorded.split(":", 1)
	want = eval(expr, {"d": json.load(open(fixtures + "/" + file))})
	sys.exit(bool(missing(want, got, EXCUSED, name=file)))
	EOT
}

# An unhealthy compose service, and a migration the kernel killed.
cat >containers.json <<-\EOT
[{"name": "shop-checkout-1", "image": "shop/checkout:1.4", "compose": "shop/checkout",
  "health": "unhealthy", "health_output": "curl: (7) Failed to connect to localhost port 8080",
  "restart_count": 2},
 {"name": "shop-migrate-1", "image": "shop/migrate:1.4", "state": "exited", "exit_code": 137,
  "oom_killed": true}]
EOT
SOCK="$TRASH_DIRECTORY/docker.sock"
start_fake docker --socket "$SOCK" --data containers.json || exit 1

test_expect_success 'the container list has the keys of the recorded one' '
	conform "examples_v1.47/get_containers_json.200.json:d" "/v1.47/containers/json?all=true" &&
	conform "examples/definition_ContainerSummary.property_examples.json:[d]" "/v1.47/containers/json?all=true" &&
	test_grep -q "\"Names\": \[\"/shop-migrate-1\"\]" answer.json
'

test_expect_success 'inspect has the State and Health keys of the recorded ones' '
	conform "examples_v1.47/get_containers_id_json.200.json:{\"State\": d[\"State\"]}" /v1.47/containers/shop-checkout-1/json &&
	conform "examples/definition_ContainerState.property_examples.json:{\"State\": d}" /v1.47/containers/shop-checkout-1/json &&
	conform "examples/definition_Health.property_examples.json:{\"State\": {\"Health\": d}}" /v1.47/containers/shop-checkout-1/json &&
	test_grep -q "\"Health\": {\"Status\": \"unhealthy\", \"FailingStreak\": 3, \"Log\": \[{" answer.json
'

test_expect_success 'inspect has every key of the recorded one' '
	# Both run, so that a failure shows every missing key of each.
	first=0 &&
	{ conform "examples_v1.47/get_containers_id_json.200.json:d" /v1.47/containers/shop-checkout-1/json ||
	  first=1; } &&
	conform "examples/definition_ContainerInspectResponse.property_examples.json:d" /v1.47/containers/shop-checkout-1/json &&
	test $first = 0
'

test_expect_success 'an unknown container gets the recorded 404' '
	conform "examples_v1.47/get_containers_id_json.404.json:d" /v1.47/containers/c2ada9df5af8/json &&
	conform "examples/get_containers_id_json.404.json:d" /v1.47/containers/c2ada9df5af8/json &&
	test_grep -q "{\"message\": \"No such container: c2ada9df5af8\"}" answer.json
'

stop_fake
test_done
