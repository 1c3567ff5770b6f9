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
# directory, which lives in the directory given (the run's TMPDIR).
demo_processes() {
	pgrep -f -- "--pidfile $PWD/$1/sre-demo" || :
	pgrep -f -- "--storage.tsdb.path=$PWD/$1/sre-demo" || :
}

command -v prometheus >/dev/null 2>&1 && test_set_prereq PROMETHEUS

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
	demo_processes tmp >left &&
	test_line_count = 0 left &&
	test -z "$(ls -A tmp)"
'

test_expect_success 'the summary counts every scenario' '
	test_grep "^demo: 5 of 5 scenarios detected, diagnosed as expected and resolved" out &&
	test_grep "^demo: every incident, its diagnosis, its fix and whether it held is remembered; the next diagnosis recalls them" out
'

test_expect_success PROMETHEUS 'with Prometheus installed, the conversion check was PromQL over it' '
	test_grep "^demo: Prometheus scrapes the stack every second; the conversion check is PromQL over it" out
'

test_expect_success 'without Prometheus, the conversion check reads the service'"'"'s /metrics, and says so' '
	mkdir tmp3 &&
	TMPDIR="$PWD/tmp3" SRE="$SRE_BUILD_DIR/sre" DEMO_SERVICE="$DEMO_SERVICE" DEMO_PROMETHEUS=no \
		DEMO_SCENARIOS=conversion DEMO_RESULTS="$PWD/results3" \
		"$SRE_BUILD_DIR/examples/demo/run.sh" >out3 2>err3 &&
	test_grep "^demo: no Prometheus (or DEMO_PROMETHEUS=no): the conversion check reads quote-service'"'"'s own /metrics" out3 &&
	test_grep "^conversion	yes	business-metric	business-metric	restart quote-service	yes\$" results3 &&
	demo_processes tmp3 >left &&
	test_line_count = 0 left &&
	test -z "$(ls -A tmp3)"
'

# A CI failure must be readable from its log: a scenario that fails says
# what sre said at each step. Here sre refuses every fix --yes, so the
# orders stay lost and the conversion scenario is not resolved.
test_expect_success 'a scenario that fails prints what sre said at each step' '
	cat >sre-nofix <<-EOF &&
	#!/bin/sh
	for a in "\$@"; do
		if test "\$a" = --yes; then
			echo "error: this sre fixes nothing" >&2
			exit 1
		fi
	done
	exec "$SRE_BUILD_DIR/sre" "\$@"
	EOF
	chmod +x sre-nofix &&
	mkdir tmp2 &&
	test_must_fail env TMPDIR="$PWD/tmp2" SRE="$PWD/sre-nofix" DEMO_SERVICE="$DEMO_SERVICE" \
		DEMO_SCENARIOS=conversion DEMO_RESOLVE_TIMEOUT=2 DEMO_RESULTS="$PWD/results2" \
		"$SRE_BUILD_DIR/examples/demo/run.sh" >out2 2>err2 &&
	test_grep "^demo: 0 of 1 scenarios detected" out2 &&
	test_grep "^conversion	yes	business-metric	business-metric	restart quote-service	no\$" results2 &&
	test_grep "^demo: scenario conversion failed: 1 incident(s) still open 2s after the fix\$" err2 &&
	test_grep "fault conversion injected into quote-service" err2 &&
	test_grep "opened 1 quote-service: conversion-rate is 0[.0-9]*, below 0.1" err2 &&
	test_grep "diagnose 1 (exit 0, " err2 &&
	test_grep "| business-metric (confidence [0-9.]*): conversion-rate " err2 &&
	test_grep "fix --yes 1 (exit 1, " err2 &&
	test_grep "| error: this sre fixes nothing" err2 &&
	test_grep "scout (exit 0, [0-9.]*s):" err2 &&
	test_grep "|  *updated 1 quote-service: conversion-rate is 0" err2 &&
	test_grep "incidents open now:" err2 &&
	test_grep "|  *1  [A-Z_]*  *medium  *quote-service  .*conversion-rate" err2 &&
	test_grep "| quote-service: fault conversion on" err2 &&
	demo_processes tmp2 >left &&
	test_line_count = 0 left &&
	test -z "$(ls -A tmp2)"
'

test_done
