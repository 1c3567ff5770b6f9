#!/bin/sh
test_description='help: -h and usage, man pages and their synopsis, completion'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-complete.sh"

MAN_SRC="$SRE_BUILD_DIR/man"

# usage_lines <file>: the usage lines of a -h output, without "usage: "
# and "   or: ".
usage_lines() {
	sed -n -e 's/^usage: //p' -e 's/^   or: //p' "$1"
}

# synopsis_lines <page.scd>: the lines of the SYNOPSIS section.
synopsis_lines() {
	sed -n '/^# SYNOPSIS$/,/^# /p' "$1" | grep -v -e '^#' -e '^```' -e '^$'
}

# check_synopsis <page.scd> <usage-lines>: each usage line is a line of the
# page, and each line of its SYNOPSIS is a usage line.
check_synopsis() {
	test -s "$2" || { echo "no usage lines for $1" >&2; return 1; }
	while IFS= read -r line; do
		grep -Fx -e "$line" "$1" >/dev/null ||
		{ echo "$1 lacks the usage line: $line" >&2; return 1; }
	done <"$2"
	synopsis_lines "$1" >synopsis &&
	test -s synopsis || { echo "$1 has no SYNOPSIS" >&2; return 1; }
	while IFS= read -r line; do
		grep -Fx -e "$line" "$2" >/dev/null ||
		{ echo "$1 has a SYNOPSIS line sre does not print: $line" >&2; return 1; }
	done <synopsis
}

test_expect_success 'every command answers -h with its usage on stdout and 129' '
	sre --list-cmds >cmds &&
	test_line_count -ge 10 cmds &&
	while read -r c; do
		test_expect_code 129 sre "$c" -h >out 2>err &&
		! test -s err &&
		head -n 1 out >first &&
		test_grep -E "^usage: sre $c( |\$)" first || return 1
	done <cmds
'

test_expect_success 'sre incident -h lists the usage of every subcommand' '
	sre incident --completion-helper >subs &&
	test_expect_code 129 sre incident -h >out &&
	for sub in $(cat subs); do
		test_grep -E "^(usage|   or): sre incident $sub( |\$)" out || return 1
	done &&
	usage_lines out >lines &&
	test_line_count = "$(wc -w <subs)" lines
'

test_expect_success 'every subcommand of sre incident answers -h with 129' '
	for sub in $(sre incident --completion-helper); do
		test_expect_code 129 sre incident $sub -h >out 2>err &&
		! test -s err &&
		test_grep "^usage: sre incident $sub" out || return 1
	done
'

test_expect_success 'sre.1 holds the usage of sre in its SYNOPSIS' '
	# The full usage of the front-end comes with a usage error.
	test_expect_code 129 sre --no-such-option 2>err &&
	usage_lines err >lines &&
	test_line_count = 3 lines &&
	sre -h >out &&
	usage_lines out >>lines &&
	sort -u lines >usage &&
	check_synopsis "$MAN_SRC/sre.1.scd" usage
'

test_expect_success 'each man page holds its command'"'"'s usage in its SYNOPSIS' '
	pages=0 &&
	for c in $(sre --list-cmds); do
		page="$MAN_SRC/sre-$c.1.scd" &&
		test -f "$page" || continue
		test_expect_code 129 sre $c -h >out &&
		usage_lines out >usage &&
		if test $c = incident; then
			for sub in $(sre incident --completion-helper); do
				test_expect_code 129 sre incident $sub -h >out &&
				usage_lines out >>usage || return 1
			done
		fi &&
		check_synopsis "$page" usage &&
		pages=$((pages + 1)) || return 1
	done &&
	# config and incident are built: they must have their page.
	test -f "$MAN_SRC/sre-config.1.scd" &&
	test -f "$MAN_SRC/sre-incident.1.scd" &&
	test $pages -ge 2
'

test_expect_success 'a synopsis check catches a usage line missing from a page' '
	grep -v "^sre config --known-keys \[--man\]\$" "$MAN_SRC/sre-config.1.scd" >stale.scd &&
	test_expect_code 129 sre config -h >out &&
	usage_lines out >usage &&
	! check_synopsis stale.scd usage 2>err &&
	test_grep -F "lacks the usage line: sre config --known-keys [--man]" err
'

test_expect_success MAN 'sre help config shows the man page' '
	sre help config >out &&
	test_grep "^NAME" out &&
	test_grep "sre-config - " out &&
	test_grep ! "^usage:" out
'

test_expect_success MAN 'sre config --help shows the same man page' '
	sre help config >expect &&
	sre config --help >out &&
	test_grep "^NAME" out &&
	test_cmp expect out
'

test_expect_success MAN 'sre incident show --help opens the incident man page' '
	sre help incident >expect &&
	sre incident show --help >out &&
	test_grep "sre-incident - " out &&
	test_cmp expect out
'

test_expect_success 'sre help nosuch exits 1 and says why' '
	test_expect_code 1 sre help nosuch >out 2>err &&
	! test -s out &&
	test_grep "nosuch. is not an sre command" err
'

test_expect_success '--completion-helper lists options and subcommands without a store' '
	! test -e "$SRE_DB" &&
	sre config --completion-helper >out &&
	tr " " "\n" <out >opts &&
	test_grep -x -e "--global" opts &&
	test_grep -x -e "--list" opts &&
	test_grep -x -e "--file=" opts &&
	sre incident --completion-helper >out &&
	echo "open list show transition comment pull ack resolve close" >expect &&
	test_cmp expect out &&
	sre incident list --completion-helper >out &&
	test_grep -e "--state=" out &&
	! test -e "$SRE_DB" &&
	! test -e "$XDG_STATE_HOME/sre"
'

if command -v bash >/dev/null 2>&1; then
	test_expect_success 'bash completion: the commands come from sre --list-cmds' '
		complete_bash sre inc >out &&
		echo incident >expect &&
		test_cmp expect out &&
		complete_bash sre "" >out &&
		sre --list-cmds >expect &&
		test_cmp expect out
	'

	test_expect_success 'bash completion: the subcommands of sre incident' '
		complete_bash sre incident sh >out &&
		echo show >expect &&
		test_cmp expect out
	'

	test_expect_success 'bash completion: the options of sre config' '
		complete_bash sre config --gl >out &&
		echo --global >expect &&
		test_cmp expect out
	'

	test_expect_success 'bash completion: the verbs of sre config, then the keys after one' '
		complete_bash sre config un >out &&
		echo unset >expect &&
		test_cmp expect out &&
		complete_bash sre config get core.bu >out &&
		echo core.busy-timeout >expect &&
		test_cmp expect out &&
		complete_bash sre config list "" >out &&
		test_grep ! "[a-z]" out
	'

	test_expect_success 'bash completion: the open incidents and the states' '
		sre incident open --service api --title "disk full" >id &&
		complete_bash sre incident show "" >out &&
		test_cmp id out &&
		complete_bash sre incident transition "$(cat id)" ANALYSIS_I >out &&
		echo ANALYSIS_IN_PROGRESS >expect &&
		test_cmp expect out
	'
else
	test_skip 'bash completion' 'no bash on this machine'
fi

test_done
