# lib-fake.sh: start and stop the fake remote services of the tests.
#
# Each fake (tests/fakes/<kind>.py) is a local HTTP server on 127.0.0.1
# that speaks the real protocol of GitHub, JIRA or Slack, with answers
# shaped field for field on recorded real traffic. It picks a free port,
# writes it to a file, logs every request it receives as one JSON line, and
# stops by itself after a bounded lifetime.
#
#   start_fake github [--token T]   sets FAKE_URL and FAKE_LOG
#   fake_fail '{"method":"POST","path":"/repos/.*/issues$","status":500,"times":1}'
#   fake_requests                   the request log, one JSON object a line
#   stop_fake
#
# and what the conformance tests of the fakes (t390*) share:
#
#   need_fixtures jira              sets FIXTURES, or skips the whole script
#   need_command openssl "why"      skips the whole script without openssl
#
# Their Python imports tests/fakes/conform.py (the key walk):
#   import os, sys; sys.path.insert(0, os.environ["FAKES_DIR"])

FAKES_DIR="$TEST_DIRECTORY/fakes"
export FAKES_DIR

start_fake() {
	kind=$1
	shift
	FAKE_DIR="$TRASH_DIRECTORY/fake-$kind"
	mkdir -p "$FAKE_DIR" &&
	rm -f "$FAKE_DIR/port" &&
	python3 "$FAKES_DIR/$kind.py" --port-file "$FAKE_DIR/port" \
		--log "$FAKE_DIR/requests.log" --lifetime 300 "$@" \
		>"$FAKE_DIR/server.out" 2>&1 &
	FAKE_PID=$!
	# Up to 30 s: on a loaded machine a fake that prepares its answers
	# first (hostile.py's 256 MiB gzip bomb) takes several seconds; one
	# that died is seen at once.
	i=0
	while ! test -s "$FAKE_DIR/port"; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 "$FAKE_PID" 2>/dev/null; then
			echo "the fake $kind server did not start:" >&2
			cat "$FAKE_DIR/server.out" >&2
			return 1
		fi
		sleep 0.05
	done
	FAKE_URL="http://127.0.0.1:$(cat "$FAKE_DIR/port")"
	FAKE_LOG="$FAKE_DIR/requests.log"
	export FAKE_URL FAKE_LOG FAKE_PID
}

# A port on 127.0.0.1 that refuses connections for the whole test: bound
# and never listening, by a process that ends by itself after 300 s as the
# fakes do. Bound then closed, another test's server could take the port
# in the meantime on a loaded machine, and it would answer. Take it into
# a variable first (port=$(closed_port)): under dash, called inside a
# here-document, it took the test's fake servers down with it.
closed_port() {
	f="$TRASH_DIRECTORY/closed-port-$(date +%s%N)"
	python3 -c 'import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(300)' "$f" >/dev/null 2>&1 </dev/null &
	i=0
	while ! test -s "$f"; do
		i=$((i + 1))
		[ $i -gt 600 ] && return 1
		sleep 0.05
	done
	cat "$f"
}

stop_fake() {
	if [ -n "${FAKE_PID:-}" ]; then
		kill "$FAKE_PID" 2>/dev/null
		wait "$FAKE_PID" 2>/dev/null
		FAKE_PID=
	fi
	return 0
}

# Queue a failure: the next matching request(s) get this answer instead.
fake_fail() {
	python3 -c 'import sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/_fake/fail", data=sys.argv[2].encode(),
                             headers={"Content-Type": "application/json"}, method="POST")
urllib.request.urlopen(req, timeout=5).read()' "$FAKE_URL" "$1"
}

fake_requests() {
	cat "$FAKE_LOG" 2>/dev/null
}

# How many requests matched "METHOD path-regex" (an extended regex on the path).
fake_count() {
	python3 - "$FAKE_LOG" "$1" "$2" <<-\EOT
	import json, re, sys
	n = 0
	try:
	    for line in open(sys.argv[1]):
	        r = json.loads(line)
	        if r["method"] == sys.argv[2] and re.search(sys.argv[3], r["path"]):
	            n += 1
	except FileNotFoundError:
	    pass
	print(n)
	EOT
}

# need_fixtures SUBDIR: the recorded traffic of ../shared/fixtures/SUBDIR
# (beside the build) is in FIXTURES; a checkout without it skips the script.
# write_kubeconfig SERVER CA-FILE TOKEN: a kubeconfig of one cluster (the
# fake API server), one user with a bearer token and the context joining
# them, on stdout.
write_kubeconfig() {
	cat <<-EOT
	apiVersion: v1
	kind: Config
	clusters:
	- name: fake
	  cluster:
	    server: $1
	    certificate-authority: $2
	users:
	- name: sre
	  user:
	    token: $3
	contexts:
	- name: fake
	  context: {cluster: fake, user: sre}
	current-context: fake
	EOT
}

need_fixtures() {
	FIXTURES="$SRE_BUILD_DIR/../shared/fixtures/$1"
	test -d "$FIXTURES" || skip_all "no ../shared/fixtures"
}

# need_command CMD WHY: without CMD on PATH the script skips, saying WHY.
need_command() {
	command -v "$1" >/dev/null 2>&1 || skip_all "$2"
}
