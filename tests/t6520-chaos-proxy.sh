#!/bin/sh
test_description='sre chaos proxy: listens on loopback, passes bytes unchanged, lists its toxics, refuses a name not configured and a wider listen without listen-any, ends with 0 on SIGTERM'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

start_fake target || { echo "Bail out! the fake target did not start"; exit 1; }
UPSTREAM_PORT=${FAKE_URL##*:}

# start_proxy NAME ARGS...: `sre chaos proxy ARGS` in the background, its
# output in NAME.out and NAME.err, its pid in NAME.pid and, once it ends,
# its exit code in NAME.rc; returns once it has said where it listens (10 s
# at most). A test body is a subshell, so all of it lives in files; a
# watchdog ends it after 60 s whatever the test does, and goes with it.
start_proxy() {
	name=$1
	shift
	rm -f "$name.out" "$name.pid" "$name.rc"
	(
		sre chaos proxy "$@" >"$name.out" 2>"$name.err" &
		pid=$!
		echo $pid >"$name.pid"
		(
			i=0
			while [ $i -lt 600 ] && kill -0 $pid 2>/dev/null; do
				sleep 0.1
				i=$((i + 1))
			done
			kill -TERM $pid 2>/dev/null
		) &
		wait $pid
		echo $? >"$name.rc"
	) </dev/null >/dev/null 2>&1 &
	i=0
	while ! grep "^proxy " "$name.out" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 200 ] || test -f "$name.rc"; then
			echo "sre chaos proxy did not start:" >&2
			cat "$name.err" >&2
			return 1
		fi
		sleep 0.05
	done
}

# stop_proxy NAME SIGNAL: send it; returns once NAME.rc is written (10 s at most).
stop_proxy() {
	kill -"$2" "$(cat "$1.pid")" &&
	i=0 &&
	while ! test -s "$1.rc"; do
		i=$((i + 1))
		[ $i -gt 200 ] && echo "sre chaos proxy did not end on SIG$2" >&2 && return 1
		sleep 0.05
	done
}

# fetch URL FILE: the body of a GET, in FILE (within 10 s).
fetch() {
	python3 -c 'import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    open(sys.argv[2], "wb").write(r.read())' "$1" "$2"
}

test_expect_success 'setup: a proxy in front of the target, and a body of 300 kB' '
	cat >>"$XDG_CONFIG_HOME/sre/config" <<-EOT &&
	[proxy "web"]
		listen = 127.0.0.1:0
		upstream = 127.0.0.1:$UPSTREAM_PORT
	[proxy "wide"]
		listen = 0.0.0.0:0
		upstream = 127.0.0.1:$UPSTREAM_PORT
	EOT
	python3 -c "import json, random
random.seed(6520)
body = \"\".join(random.choice(\"abcdefghij \\n\") for _ in range(300000))
print(json.dumps({\"path\": \"/data\", \"body\": body}))" >set.json &&
	python3 -c "import sys, urllib.request
req = urllib.request.Request(sys.argv[1] + \"/_fake/set\", data=open(\"set.json\", \"rb\").read(),
                             headers={\"Content-Type\": \"application/json\"}, method=\"POST\")
urllib.request.urlopen(req, timeout=5).read()" "$FAKE_URL" &&
	fetch "$FAKE_URL/data" direct &&
	test $(wc -c <direct) = 300000
'

test_expect_success 'sre chaos proxy web says where it listens, on loopback' '
	start_proxy web web &&
	test_line_count = 1 web.out &&
	test_grep -E "^proxy web: 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$UPSTREAM_PORT\$" web.out &&
	! test_grep "127.0.0.1:0 " web.out
'

test_expect_success 'without a toxic the bytes pass unchanged' '
	port=$(sed -n "s/^proxy web: 127\.0\.0\.1:\([0-9]*\) .*/\1/p" web.out) &&
	test -n "$port" &&
	fetch "http://127.0.0.1:$port/data" through &&
	cmp direct through &&
	test "$(fake_count GET "^/data$")" = 2
'

test_expect_success 'sre chaos proxy --toxics: none in place' '
	sre chaos proxy --toxics >out &&
	test_grep -x "no toxic in place" out &&
	sre chaos proxy --toxics --json >json &&
	python3 -c "import json, sys; v = json.load(open(\"json\")); sys.exit(v != [])"
'

test_expect_success 'SIGTERM ends it with 0, and its port is free again' '
	stop_proxy web TERM &&
	test "$(cat web.rc)" = 0 &&
	! test -s web.err &&
	test_must_fail fetch "http://127.0.0.1:$port/data" gone
'

test_expect_success 'every configured proxy when none is named: wide stops it' '
	test_expect_code 128 sre chaos proxy >out 2>err &&
	test_grep "proxy .wide.: listen .0.0.0.0:0. is not a loopback address; set proxy.wide.listen-any = true" err &&
	! test -s out
'

test_expect_success 'a listen on every address is refused without listen-any' '
	test_expect_code 128 sre chaos proxy wide 2>err &&
	test_grep "is not a loopback address" err &&
	test_grep "^fatal: " err
'

test_expect_success 'listen-any from a directory that is not trusted does not count' '
	mkdir -p elsewhere/.sre &&
	printf "[proxy \"wide\"]\n\tlisten-any = true\n" >elsewhere/.sre/config &&
	(
		cd elsewhere &&
		test_expect_code 128 sre -c safe.directory= chaos proxy wide 2>../err
	) &&
	test_grep "warning: ignoring proxy.wide.listen-any from .*elsewhere/.sre/config" err &&
	test_grep "is not a loopback address" err
'

test_expect_success 'a name not configured is refused, hostile or not' '
	test_expect_code 128 sre chaos proxy nope 2>err &&
	test_grep "proxy .nope. is not configured" err &&
	test_expect_code 128 sre chaos proxy "$(printf "\033[31mred")" 2>err &&
	! grep "$(printf "\033")" err
'

test_expect_success 'usage: -h, --json without --toxics, a name with --toxics' '
	test_expect_code 129 sre chaos proxy -h >out &&
	test_grep -x "usage: sre chaos proxy \[<name>...\]" out &&
	test_grep -x "   or: sre chaos proxy --toxics \[--json\]" out &&
	test_expect_code 129 sre chaos proxy --json 2>err &&
	test_grep "json goes with --toxics" err &&
	test_expect_code 129 sre chaos proxy --toxics web 2>err
'

test_expect_success 'an upstream that refuses: the client is closed on, said once, and SIGINT ends it with 0' '
	dead=$(closed_port) &&
	cat >>"$XDG_CONFIG_HOME/sre/config" <<-EOT &&
	[proxy "dead"]
		listen = 127.0.0.1:0
		upstream = 127.0.0.1:$dead
	EOT
	start_proxy dead dead &&
	port=$(sed -n "s/^proxy dead: 127\.0\.0\.1:\([0-9]*\) .*/\1/p" dead.out) &&
	test_must_fail fetch "http://127.0.0.1:$port/" none &&
	test_must_fail fetch "http://127.0.0.1:$port/" none &&
	stop_proxy dead INT &&
	test "$(cat dead.rc)" = 0 &&
	test_grep "warning: proxy dead: cannot connect to 127.0.0.1:$dead: Connection refused" dead.err &&
	test_line_count = 1 dead.err
'

# status URL: the HTTP status of a GET through the proxy (an error status is an answer too).
status() {
	python3 -c 'import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)' "$1"
}

test_expect_success 'sre chaos inject proxy-errors: the running proxy answers 503, and the rollback takes it off' '
	cat >>"$XDG_CONFIG_HOME/sre/config" <<-EOT &&
	[service "web"]
		severity = high
	[chaos]
		allow = web
	EOT
	start_proxy web2 web &&
	port=$(sed -n "s/^proxy web: 127\.0\.0\.1:\([0-9]*\) .*/\1/p" web2.out) &&
	test "$(status "http://127.0.0.1:$port/data")" = 200 &&
	test_expect_code 1 sre chaos inject --target web proxy-errors share=2 2>err &&
	test_grep "proxy-errors: " err &&
	sre chaos inject --target web proxy-errors share=1 status=502 >out &&
	test_grep "proxy web: errors {\"share\":1,\"status\":502}" out &&
	sre chaos proxy --toxics >toxics &&
	test_grep "errors" toxics &&
	i=0 && while test "$(status "http://127.0.0.1:$port/data")" != 502 && test $i -lt 40; do sleep 0.1; i=$((i + 1)); done &&
	test "$(status "http://127.0.0.1:$port/data")" = 502 &&
	sre chaos rollback >out &&
	test_grep "proxy web: errors taken off" out &&
	i=0 && while test "$(status "http://127.0.0.1:$port/data")" != 200 && test $i -lt 40; do sleep 0.1; i=$((i + 1)); done &&
	test "$(status "http://127.0.0.1:$port/data")" = 200 &&
	sre chaos proxy --toxics >toxics &&
	test_grep -x "no toxic in place" toxics &&
	stop_proxy web2 TERM &&
	test "$(cat web2.rc)" = 0
'

test_expect_success 'a proxy fault whose injector died: the proxy stops applying it at its end by itself' '
	start_proxy web3 web &&
	port=$(sed -n "s/^proxy web: 127\.0\.0\.1:\([0-9]*\) .*/\1/p" web3.out) &&
	test_expect_code 137 env SRE_TEST_CRASH_AT=chaos-injected \
		sre chaos inject --duration 3s --target web proxy-errors status=503 >out 2>&1 &&
	i=0 && while test "$(status "http://127.0.0.1:$port/data")" != 503 && test $i -lt 20; do sleep 0.1; i=$((i + 1)); done &&
	test "$(status "http://127.0.0.1:$port/data")" = 503 &&
	i=0 && while test "$(status "http://127.0.0.1:$port/data")" != 200 && test $i -lt 100; do sleep 0.1; i=$((i + 1)); done &&
	test "$(status "http://127.0.0.1:$port/data")" = 200 &&
	sre chaos proxy --toxics >toxics &&
	test_grep "errors" toxics &&
	sre chaos status >status &&
	test_grep "past its duration, its injector gone" status &&
	sre chaos proxy --toxics >toxics &&
	test_grep -x "no toxic in place" toxics &&
	stop_proxy web3 TERM &&
	test "$(cat web3.rc)" = 0
'

test_expect_success 'a proxy fault on a proxy not configured is refused' '
	test_expect_code 1 sre chaos inject --target web proxy-latency proxy=nope latency_ms=100 2>err &&
	test_grep "no \[proxy \"nope\"\] with a listen and an upstream" err
'

stop_fake
test_done
