#!/bin/sh
test_description='sre scout and diagnose: the status line while waiting, and only news printed'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the fake servers"
fi
if ! command -v script >/dev/null 2>&1; then
	skip_all "no script(1) for a terminal"
fi

# Run sre with the arguments in $1 (a shell command line, quoted as such),
# after the command words in $2 if any (timeout), on a terminal (util-linux
# script); its output (both streams, as the
# terminal got them) in tty.out; the exit status is sre's.
on_tty() {
	TERM=xterm script -qfec "${2:+$2 }sre $1" /dev/null >tty.out </dev/null
}

# What a terminal would show once the bytes of $1 are drawn: "\r" goes back
# to the start of the line, "ESC [K" erases what follows, "\n" ends a line.
screen() {
	python3 -c 'import re, sys
data = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
line, col, out = [], 0, []
for tok in re.findall(r"\x1b\[K|\r|\n|[^\r\n\x1b]+|\x1b", data):
    if tok == "\r":
        col = 0
    elif tok == "\n":
        out.append("".join(line)); line, col = [], 0
    elif tok == "\x1b[K":
        del line[col:]
    else:
        for ch in tok:
            if col < len(line): line[col] = ch
            else: line.append(ch)
            col += 1
if line: out.append("".join(line))
sys.stdout.write("\n".join(out) + ("\n" if out else ""))' "$1"
}

start_fake silent || { echo "Bail out! the silent server did not start"; exit 1; }
SILENT_URL=$FAKE_URL

# One try of 1 s, then one retry: the test takes seconds, not minutes.
FAST="-c http.timeout=1s -c http.connect-timeout=1s -c http.retries=1 -c http.retry-base=10ms"

test_expect_success 'setup: a Prometheus that accepts and never answers' '
	mkdir -p .sre &&
	cat >.sre/config <<-EOT
	[prometheus]
		url = $SILENT_URL/
	[check "conversion"]
		prometheus = sum(rate(orders_total[5m]))
		below = 1
		service = checkout
	EOT
'

test_expect_success 'on a terminal, scout names the source it waits on, its try and the time left' '
	test_expect_code 128 on_tty "$FAST scout" &&
	test_grep "sre: waiting for prometheus (try 1 of 2, [01]s left)" tty.out &&
	test_grep "sre: waiting for prometheus (try 2 of 2, [01]s left)" tty.out &&
	grep -c "\"request\": \"GET /api/v1/query" "$FAKE_LOG" >tries &&
	echo 2 >expect && test_cmp expect tries
'

test_expect_success 'the status line is erased before the error, and not left behind' '
	screen tty.out >shown &&
	test_grep "^error: prometheus: " shown &&
	test_grep ! "waiting" shown &&
	# The error starts on a line of its own, just after the erase.
	python3 -c "import sys; d = open(\"tty.out\", \"rb\").read(); i = d.index(b\"error: prometheus\"); sys.exit(d[i - 4:i] != b\"\\r\\x1b[K\")"
'

test_expect_success 'in a pipe, not a byte of it: no status line, no carriage return' '
	test_expect_code 128 sre $FAST scout >out 2>err &&
	! test -s out &&
	test_line_count = 2 err &&
	test_grep "^error: prometheus: http://127.0.0.1:[0-9]*: Operation timed out" err &&
	tail -1 err | test_grep "^fatal: " &&
	test_grep ! "waiting" err &&
	! tr "\r\033" "XY" <err | grep -q "[XY]"
'

test_expect_success '--no-progress, or TERM=dumb, keep a terminal quiet too' '
	test_expect_code 128 on_tty "$FAST scout --no-progress" &&
	test_grep ! "waiting" tty.out &&
	test_grep "error: prometheus: " tty.out &&
	test_expect_code 128 env TERM=dumb script -qfec "sre $FAST scout" /dev/null >tty.out </dev/null &&
	test_grep ! "waiting" tty.out &&
	test_grep "error: prometheus: " tty.out
'

test_expect_success 'the line names the source waited on, not the next one' '
	mkdir -p two/.sre &&
	cat >two/.sre/config <<-EOT &&
	[check "web"]
		url = $SILENT_URL/health
		timeout = 1s
	[prometheus]
		url = $SILENT_URL/
	[check "conversion"]
		prometheus = sum(rate(orders_total[5m]))
		below = 1
	EOT
	# A store of its own, so that the incidents below start at 1.
	on_tty "-C two --db $PWD/two.db $FAST scout" &&
	screen tty.out >shown &&
	test_grep "^opened 1 web: " shown &&
	test_grep "^error: prometheus: " shown &&
	test_grep ! "waiting" shown &&
	# HTTP checks run first, then Prometheus: each named while it is waited on.
	tr "\r" "\n" <tty.out | sed -n "s/^sre: waiting for \([a-z]*\( [a-z]*\)\{0,1\}\) (.*/\1/p" | uniq >names &&
	printf "check web\nprometheus\n" >expect &&
	test_cmp expect names
'

test_expect_success 'an interrupt erases the line as the process dies' '
	test_expect_code 130 on_tty "$FAST -c http.timeout=5s scout" \
		"timeout --preserve-status -s INT 1.5" &&
	test_grep "sre: waiting for prometheus (try 1 of 2" tty.out &&
	screen tty.out >shown &&
	test_grep ! "waiting" shown
'

test_expect_success '--progress shows it even in a pipe, as git does' '
	test_expect_code 128 sre $FAST scout --progress 2>err &&
	test_grep "sre: waiting for prometheus (try 1 of 2" err &&
	screen err >shown &&
	test_grep ! "waiting" shown
'

test_expect_success 'diagnose shows the sources it still reads, under its deadline, then the answer' '
	on_tty "diagnose --timeout 2s --problem \"checkout is slow\" --service checkout" &&
	test_grep "sre: waiting for prometheus (.*[12]s left)" tty.out &&
	screen tty.out >shown &&
	test_grep ! "waiting" shown &&
	test_grep "prometheus" shown &&
	sre diagnose --timeout 2s --problem "checkout is slow" --service checkout >out 2>err &&
	test_grep ! "waiting" err &&
	! tr "\r\033" "XY" <out | grep -q "[XY]" &&
	! tr "\r\033" "XY" <err | grep -q "[XY]"
'

stop_fake

start_fake target || { echo "Bail out! the target service did not start"; exit 1; }

# Make a path of the target answer with this status.
answer() {
	python3 -c 'import json, sys, urllib.request
r = {"path": sys.argv[2], "status": int(sys.argv[3]), "delay_ms": 0, "body": sys.argv[4]}
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/_fake/set",
    data=json.dumps(r).encode(), method="POST"), timeout=5).read()' \
	"$FAKE_URL" "$1" "$2" "${3:-ok}"
}

test_expect_success 'setup: one HTTP check' '
	mkdir -p news/.sre &&
	cat >news/.sre/config <<-EOT
	[check "checkout"]
		url = $FAKE_URL/checkout
		body-match = ok
	EOT
'

test_expect_success 'a check failing the same way again prints nothing; -v prints it' '
	answer /checkout 503 &&
	sre -C news scout >out &&
	test_grep "^opened 1 checkout: checkout returned 503, expected 2xx$" out &&
	sre -C news scout >out 2>err &&
	! test -s out && ! test -s err &&
	test_expect_code 1 sre -C news scout --exit-code >out &&
	! test -s out &&
	sre -C news scout -v >out &&
	echo "updated 1 checkout: checkout returned 503, expected 2xx (unchanged)" >expect &&
	test_cmp expect out
'

test_expect_success 'numbers alone are no news; other words are' '
	answer /checkout 502 &&
	sre -C news scout >out &&
	! test -s out &&
	answer /checkout 200 nope &&
	sre -C news scout >out &&
	test_grep "^updated 1 checkout: checkout answered 200 without" out &&
	sre -C news scout >out &&
	! test -s out
'

test_expect_success 'a severity change is news, once' '
	sre -C news -c check.checkout.severity=critical scout >out &&
	test_grep "^updated 1 checkout: .* (severity critical, was high)$" out &&
	sre -C news -c check.checkout.severity=critical scout >out &&
	! test -s out &&
	sre -C news incident show 1 >show &&
	test_grep "  severity  *sre-scout  *severity high -> critical\$" show
'

test_expect_success '--json lists every finding, and says which changed' '
	sre -C news -c check.checkout.severity=critical scout --json >out &&
	test "$(python3 -c "import json, sys; print(json.load(open(\"out\"))[0][\"changed\"])")" = False &&
	sre -C news scout --json >out &&
	test "$(python3 -c "import json, sys; print(json.load(open(\"out\"))[0][\"changed\"])")" = True
'

test_expect_success 'a resolution is news' '
	answer /checkout 200 ok &&
	sre -C news scout >out &&
	! test -s out &&
	sre -C news scout >out &&
	test_grep "^recovered 1 checkout: " out
'

stop_fake
test_done
