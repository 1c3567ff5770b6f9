#!/bin/sh
test_description='contracts every command keeps: exit 128 ends with "fatal:", --db names an existing directory, every command is built'
. "$(dirname "$0")/test-lib.sh"

# A failing invocation per line, each expected to exit 128. Run from a
# directory with its own .sre/, so that sre config writes there; none needs
# the network.
test_expect_success 'set up a dozen ways to fail' '
	mkdir -p work/.sre &&
	printf "[core\n" >work/broken.cfg &&
	echo "not a database" >work/notdb &&
	cat >work/failing <<-\EOT &&
	sre --db nodir/s.db incident list
	sre --db nodir/s.db incident open -s a -t b
	sre -c core.db=nodir/s.db incident list
	sre --db notdb incident list
	sre -c core.busy-timeout=soon incident list
	sre -c http.timeout=soon scout
	sre -c scout.fail-after=many scout
	sre scout
	sre scout --alertmanager missing.json
	sre -c tracker.kind=github sync
	sre diagnose --evidence missing-dir
	sre -c diagnose.timeout=soon diagnose --problem slow --service api
	sre -C no-such-dir incident list
	sre config --file missing.cfg --list
	sre config color.ui sometimes
	sre config github.token ghp_abc123
	sre -c core.actor=maybe config --type bool core.actor
	env SRE_CONFIG=broken.cfg sre incident list
	sre --db= incident list
	EOT
	test_line_count -ge 12 work/failing
'

test_expect_success 'every exit 128 ends with a line that starts with "fatal:"' '
	(
		cd work &&
		while read -r cmd; do
			rc=0 &&
			$cmd >out 2>err || rc=$? &&
			if test $rc != 128; then
				echo "exit $rc, not 128: $cmd" && cat err && return 1
			fi &&
			tail -n 1 err >last &&
			if ! grep "^fatal: " last >/dev/null; then
				echo "last line of stderr is no fatal: line: $cmd" && cat err && return 1
			fi &&
			# error: and warning: lines may come first; nothing else.
			if grep -v "^\(error\|warning\|fatal\|hint\): " err >other; then
				echo "a stray line: $cmd" && cat err && return 1
			fi || return 1
		done <failing
	)
'

test_expect_success 'a command that returns 128 gets its closing fatal: line from the front-end' '
	(cd work && test_expect_code 128 sre scout 2>../err) &&
	test_grep "^error: nothing to scout" err &&
	tail -n 1 err >last &&
	echo "fatal: sre scout could not finish" >expect &&
	test_cmp expect last
'

test_expect_success 'the example of sre(1) is what sre prints' '
	mkdir -p example/.sre &&
	printf "[core]\n\tactor = me\n[http]\n\ttimeout = soon\n" >example/.sre/config &&
	(cd example && test_expect_code 128 sre scout 2>../err) &&
	sed -n "/^error: bad duration value .soon./,/^fatal:/p" "$SRE_BUILD_DIR/man/sre.1.scd" >expect &&
	test_line_count = 2 expect &&
	test_cmp expect err
'

test_expect_success 'a write failure on standard output is fatal too' '
	test -c /dev/full &&
	test_expect_code 128 sre --help >/dev/full 2>err &&
	test_grep "^fatal: write failure on standard output" err
'

test_expect_success 'no command exits 128 past die(), which prints the fatal: line' '
	ls "$SRE_BUILD_DIR"/cmd/*.c >sources &&
	test_line_count -gt 7 sources &&
	{ grep -n "exit(EXIT_FATAL)\|exit(128)" $(cat sources) >exits || :; } &&
	test_line_count = 0 exits
'

test_expect_success '--db in a directory that does not exist is an error naming it, and makes nothing' '
	test_expect_code 128 sre --db nodir/deeper/s.db incident open -s a -t b 2>err &&
	test_grep "^fatal: cannot put the store at nodir/deeper/s.db (--db): the directory nodir/deeper does not exist$" err &&
	! test -e nodir &&
	test_expect_code 128 sre --db nodir/s.db incident list 2>err &&
	test_grep "the directory nodir does not exist" err &&
	! test -e nodir
'

test_expect_success 'so is core.db' '
	test_expect_code 128 sre -c core.db="$PWD/elsewhere/s.db" incident list 2>err &&
	test_grep "^fatal: cannot put the store at $PWD/elsewhere/s.db (core.db): the directory $PWD/elsewhere does not exist$" err &&
	! test -e elsewhere
'

test_expect_success '--db in a directory that exists makes the store there' '
	mkdir there &&
	sre --db there/s.db incident open -s a -t b >id &&
	test -f there/s.db &&
	sre --db s.db incident open -s a -t b >id &&
	test -f s.db
'

test_expect_success 'the default store directory is still created' '
	! test -e fresh-state &&
	XDG_STATE_HOME="$PWD/fresh-state" sre incident open -s a -t b >id &&
	test -f fresh-state/sre/sre.db
'

test_expect_success 'every command is built: sre --help and sre(1) mark none as not built yet' '
	sre --help >out &&
	test_grep ! "not built yet" out &&
	test_grep ! "Not built yet" "$SRE_BUILD_DIR/man/sre.1.scd" &&
	for c in scout diagnose fix remember escalate chaos run incident sync config; do
		sed -n "/^\*$c\*\$/,/^\$/p" "$SRE_BUILD_DIR/man/sre.1.scd" >entry &&
		test_line_count -gt 1 entry || return 1
	done &&
	test_grep "ends with a line that starts with \"fatal:\"" "$SRE_BUILD_DIR/man/sre.1.scd"
'

test_done
