#!/bin/sh
test_description='make demo: each scenario of the demo stack detected, diagnosed as expected and resolved'
. "$(dirname "$0")/test-lib.sh"

DEMO_SERVICE=$SRE_BUILD_DIR/build/demo/demo-service
if ! test -x "$DEMO_SERVICE"; then
	skip_all "the demo stack is not built ($DEMO_SERVICE)"
fi
# Under the sanitizers sre runs several times slower, and the latency
# scenario's slowest trace then ends in quote-service's own span: a known
# gap (see the closing note of issue 7), not a memory error.
if [ "$(cat "$SRE_BUILD_DIR/build/VARIANT" 2>/dev/null)" = san ]; then
	skip_all "the demo's timing does not hold with sre under ASan/UBSan"
fi
if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the demo's HTTP calls"
fi

# The stack's processes: their command lines name the demo's scratch
# directory, which lives here.
demo_processes() {
	pgrep -f -- "--pidfile $PWD/tmp/sre-demo" || :
}

test_expect_success 'the demo runs every scenario, stops its stack and exits 0' '
	mkdir tmp &&
	if ! TMPDIR="$PWD/tmp" SRE="$SRE_BUILD_DIR/sre" DEMO_SERVICE="$DEMO_SERVICE" \
		DEMO_RESULTS="$PWD/results" "$SRE_BUILD_DIR/examples/demo/run.sh" >out 2>err
	then
		cat out err
		false
	fi
'

for scenario in crash leak errors latency conversion; do
	test_expect_success "scenario $scenario: detected, diagnosed as expected, resolved" '
		grep "^$scenario	" results >row &&
		IFS="	" read -r name detected category expect action resolved <row &&
		test "$detected" = yes &&
		test "$category" = "$expect" &&
		test "$resolved" = yes
	'
done

test_expect_success 'no demo process is left running, nor its scratch directory' '
	demo_processes >left &&
	test_line_count = 0 left &&
	test -z "$(ls -A tmp)"
'

test_expect_success 'the summary counts every scenario' '
	test_grep "^demo: 5 of 5 scenarios detected, diagnosed as expected and resolved" out
'

test_done
