#!/bin/sh
test_description='make demo: a game day healed by sre run, a bad config escalated, paged, acknowledged and fixed, the record at the end'
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
	skip_all "no python3 for the demo's pager and checks"
fi

# The demo's processes: their command lines name its scratch directory,
# which lives in the directory given (the run's TMPDIR).
demo_processes() {
	pgrep -f -- "$PWD/$1/sre-demo" || :
}

command -v prometheus >/dev/null 2>&1 && test_set_prereq PROMETHEUS

test_expect_success 'the demo runs, stops everything it started and exits 0' '
	mkdir tmp &&
	if ! TMPDIR="$PWD/tmp" SRE="$SRE_BUILD_DIR/sre" DEMO_SERVICE="$DEMO_SERVICE" \
		"$SRE_BUILD_DIR/examples/demo/run.sh" >out 2>err
	then
		cat out err
		false
	fi
'

test_expect_success 'no demo process is left running, nor its scratch directory' '
	demo_processes tmp >left &&
	test_line_count = 0 left &&
	test -z "$(ls -A tmp)"
'

test_expect_success 'the loop runs in the background as sre run --watch, and stops with exit 0 on SIGTERM' '
	test_grep "^demo: sre run --watch --interval 1s heals the stack in the background" out &&
	test_grep "^== what sre run said (stopped with SIGTERM: exit 0) ==\$" out
'

test_expect_success 'the game day is sre chaos gameday over examples/chaos, its table printed' '
	test_grep "^\$ sre chaos gameday examples/chaos\$" out &&
	test_grep "^experiment  *fault  *target  *detected  *diagnosed  *action  *resolved  *healed\$" out
'

for row in \
	"policy-latency.json inject-latency policy-service latency" \
	"policy-leak.json inject-leak policy-service oom" \
	"quote-conversion.json inject-conversion quote-service business-metric" \
	"quote-killed.json process-kill quote-service crash" \
	"user-errors.json inject-errors user-service dependency"
do
	set -- $row
	test_expect_success "game day: $1 detected, diagnosed $4 as expected, restarted, resolved and healed" "
		test_grep '^$1  *$2  *$3  *[0-9][0-9]*s  *$4 (as expected)  *restart  *[0-9][0-9]*s  *[0-9][0-9]*s\$' out
	"
done

test_expect_success 'the game day scores the loop 1.00' '
	test_grep "^score 1.00: 5 of 5 faults detected, 5 of 5 diagnosed as expected, 5 resolved; 5 of 5 experiments healed\$" out
'

test_expect_success 'act 2: the bad config is refused, restart fails, a page reaches the fake PagerDuty' '
	test_grep "^demo: quote-service said: quote-service: fatal: .*/quote-service.conf:1: price is a decimal like 129.90, not .129,90.; refusing to run with it\$" out &&
	test_grep "^  PAGE trigger [a-z]* dedup=[^:]*: quote-service .*(sre incident [0-9]*, quote-service)\$" out &&
	test_grep "restart of quote-service failed: restart: service.quote-service.start exited with 1" out
'

test_expect_success 'act 2: a person acknowledges, repairs and fixes it from the terminal; PagerDuty is told' '
	id=$(sed -n "s/^\$ sre fix --yes \([0-9]*\)\$/\1/p" out) &&
	test -n "$id" &&
	test_grep "^\$ sre escalate --ack $id --by ana\$" out &&
	test_grep "^incident $id: acknowledged by ana; the climb stops\$" out &&
	test_grep "^restart of quote-service: done: quote-service restarted" out &&
	test_grep "^incident $id is resolved: " out &&
	test_grep "^  PAGE acknowledge dedup=sre-[^ ]*-$id\$" out &&
	test_grep "^  PAGE resolve dedup=sre-[^ ]*-$id\$" out
'

test_expect_success 'the record: the post-mortem of the escalated incident' '
	id=$(sed -n "s/^\$ sre fix --yes \([0-9]*\)\$/\1/p" out) &&
	test_grep "^\$ sre remember postmortem -o - $id\$" out &&
	test_grep "^# Post-mortem: incident $id: quote-service " out &&
	test_grep "^## Timeline\$" out &&
	test_grep "what=acknowledged, policy=.*, reason=ana" out
'

test_expect_success 'the record: remember similar names the game day'"'"'s quote-service outage and what worked then' '
	id=$(sed -n "s/^\$ sre fix --yes \([0-9]*\)\$/\1/p" out) &&
	test_grep "^\$ sre remember similar -n 3 --include-chaos $id\$" out &&
	sed -n "/^\$ sre remember similar/,/^demo: every fault/p" out >similar &&
	test_grep "^[0-9][0-9]*  quote-service: quote-service is " similar &&
	test_grep "^    action: restart, worked\$" similar
'

test_expect_success 'the six commands appear by name, and the verdict is the last line' '
	for c in scout diagnose fix remember escalate chaos
	do
		grep -q "\\<$c\\>" out || { echo "no $c in the output"; return 1; }
	done &&
	test "$(tail -n 1 out)" = "demo: every fault was healed by the loop or escalated to a person as expected"
'

test_expect_success PROMETHEUS 'with Prometheus installed, the conversion check was PromQL over it' '
	test_grep "^demo: Prometheus scrapes the stack every second; the conversion check is PromQL over it" out
'

test_expect_success 'without Prometheus, the conversion check reads the service'"'"'s /metrics, and says so' '
	mkdir tmp3 &&
	TMPDIR="$PWD/tmp3" SRE="$SRE_BUILD_DIR/sre" DEMO_SERVICE="$DEMO_SERVICE" DEMO_PROMETHEUS=no \
		DEMO_EXPERIMENTS="$SRE_BUILD_DIR/examples/chaos/quote-conversion.json" DEMO_ACTS=gameday \
		"$SRE_BUILD_DIR/examples/demo/run.sh" >out3 2>err3 &&
	test_grep "^demo: no Prometheus (or DEMO_PROMETHEUS=no): the conversion check reads quote-service'"'"'s own /metrics" out3 &&
	test_grep "^quote-conversion.json  *inject-conversion  *quote-service  *[0-9]*s  *business-metric (as expected)  *restart  *[0-9]*s" out3 &&
	demo_processes tmp3 >left &&
	test_line_count = 0 left &&
	test -z "$(ls -A tmp3)"
'

# A CI failure must be readable from its log. Here the loop is an sre
# that heals nothing (its run does nothing until stopped): the lost
# orders stay lost, the game day does not heal, the demo says why.
test_expect_success 'a game day that does not heal fails the demo, and says what each part said' '
	cat >sre-idle <<-EOF &&
	#!/bin/sh
	for a in "\$@"; do
		if test "\$a" = --watch; then
			echo "this loop heals nothing"
			trap "exit 0" TERM
			while :; do sleep 0.1; done
		fi
	done
	exec "$SRE_BUILD_DIR/sre" "\$@"
	EOF
	chmod +x sre-idle &&
	mkdir tmp2 &&
	test_must_fail env TMPDIR="$PWD/tmp2" SRE="$PWD/sre-idle" DEMO_SERVICE="$DEMO_SERVICE" \
		DEMO_EXPERIMENTS="$SRE_BUILD_DIR/examples/chaos/quote-conversion.json" DEMO_ACTS=gameday \
		"$SRE_BUILD_DIR/examples/demo/run.sh" >out2 2>err2 &&
	test_grep "^quote-conversion.json  *inject-conversion  *quote-service  *-  *- (not expected)  *-  *-" out2 &&
	test_grep "^demo: the game day did not heal as expected (exit 0; not as expected: quote-conversion.json)\$" err2 &&
	test_grep "the game day.s notes:" err2 &&
	test_grep "| action inject-conversion: POST http://127.0.0.1:[0-9]*/fault/conversion" err2 &&
	test_grep "what the loop said:" err2 &&
	test_grep "| this loop heals nothing" err2 &&
	test_grep "the last lines of quote-service.s log:" err2 &&
	test "$(tail -n 1 out2)" = "demo: something did not go as expected (see above and stderr)" &&
	demo_processes tmp2 >left &&
	test_line_count = 0 left &&
	test -z "$(ls -A tmp2)"
'

test_done
