# test-lib.sh: the harness of sre's end-to-end tests, in the style of git's t/.
#
# A test script sets test_description, sources this file, then lists
# behaviours, one per test_expect_success 'title' 'commands', and ends with
# test_done. It prints TAP for prove. Each script runs in its own scratch
# directory tests/trash.<script>, with HOME and the XDG directories inside
# it and every SRE_* variable unset, so nothing of the user's leaks in.
# Run one script with -v to see each command's output, or -i to stop at the
# first failure.
#
# Every body is first run as "(exit 117) && body" (git's chain lint, off
# with SRE_TEST_CHAIN_LINT=0): a body that drops a && fails, since the
# check before the break could never have failed it. test_when_finished,
# test_expect_failure (a known breakage, a TAP TODO), test_skip and
# skip_all (TAP skips that say why) and prerequisites are git's too.

TEST_DIRECTORY=$(cd "$(dirname "$0")" && pwd)
TEST_NAME=$(basename "$0" .sh)
: "${SRE_BUILD_DIR:=$TEST_DIRECTORY/..}"
SRE_BUILD_DIR=$(cd "$SRE_BUILD_DIR" && pwd)
: "${SRE_UNIT_DIR:=}"

verbose=
immediate=
for arg in "$@"; do
	case "$arg" in
	-v|--verbose) verbose=t ;;
	-i|--immediate) immediate=t ;;
	esac
done

if [ ! -x "$SRE_BUILD_DIR/sre" ]; then
	skip_all "no sre binary in $SRE_BUILD_DIR: run make first"
fi

# Hermetic environment: nothing from the caller's sre set-up survives.
for v in $(env | sed -n 's/^\(SRE_[A-Za-z0-9_]*\)=.*/\1/p'); do
	case "$v" in SRE_BUILD_DIR|SRE_UNIT_DIR|SRE_TEST_CHAIN_LINT) ;; *) unset "$v" ;; esac
done
unset NO_COLOR GITHUB_TOKEN ATLASSIAN_TOKEN SLACK_WEBHOOK_URL
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
no_proxy=127.0.0.1,localhost; export no_proxy
LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC TERM=dumb USER=tester
MANPAGER=cat PAGER=cat MANWIDTH=80
export LANG LC_ALL TZ TERM USER MANPAGER PAGER MANWIDTH
SRE_CONFIG_NOSYSTEM=1; export SRE_CONFIG_NOSYSTEM
PATH=$SRE_BUILD_DIR:$PATH; export PATH
# A sanitizer report exits 86, which no sre exit code uses.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:exitcode=86"
export ASAN_OPTIONS UBSAN_OPTIONS

TRASH_DIRECTORY="$TEST_DIRECTORY/trash.$TEST_NAME"
rm -rf "$TRASH_DIRECTORY"
mkdir -p "$TRASH_DIRECTORY/home" || exit 1
HOME="$TRASH_DIRECTORY/home"
XDG_CONFIG_HOME="$HOME/.config"
XDG_STATE_HOME="$HOME/.local/state"
XDG_DATA_HOME="$HOME/.local/share"
XDG_CACHE_HOME="$HOME/.cache"
export HOME XDG_CONFIG_HOME XDG_STATE_HOME XDG_DATA_HOME XDG_CACHE_HOME
cd "$TRASH_DIRECTORY" || exit 1
# The scratch directory is the tester's own work: its .sre/config is
# trusted (safe.directory), as a user trusts their infrastructure
# repository. t8010-trust-config.sh tests what happens without it.
mkdir -p "$XDG_CONFIG_HOME/sre" &&
printf '[safe]\n\tdirectory = %s\n' "$TRASH_DIRECTORY" >"$XDG_CONFIG_HOME/sre/config" || exit 1

LF='
'

test_count=0
test_failures=0
test_fixed=0
test_broken=0
test_skipped=0

say() {
	printf '%s\n' "$*"
}

# Print a file as TAP comments.
say_file() {
	sed 's/^/#   /' "$1"
}

# A mistake in the test script itself, not in sre: stop the script.
BUG() {
	say "Bail out! bug in the test script: $*"
	test_exit_ok_=t
	exit 1
}

# If a script ends without test_done (an exit at its top level, a helper
# that exits), prove must not count what ran as a pass (git's die()).
test_exit_ok_=
test_at_exit_() {
	code=$?
	if [ -z "$test_exit_ok_" ]; then
		say "# FATAL: unexpected exit with code $code"
		exit 1
	fi
}
trap test_at_exit_ EXIT

# The body runs in a function so that "return 1" in a loop ends the test.
test_eval_inner_() {
	eval "$1"
}

# Git's chain lint. The body runs once as "(exit 117) && body": when every
# command is chained with &&, nothing after the (exit 117) runs and the
# status is 117. A command left off the chain starts afresh, runs, and its
# own status ends the eval, so a failing check before it would have been
# ignored in the real run. The echo after two newlines also catches a
# here-doc that never ends (it would swallow the echo). Commands left off
# the chain do run here, in a subshell; the test fails before its real run.
test_chain_lint_() {
	[ "${SRE_TEST_CHAIN_LINT:-1}" = 0 ] && return 0
	lint_out_=$(cd "$TRASH_DIRECTORY" &&
		test_eval_inner_ "(exit 117) && $1${LF}${LF}echo OK-\$?" 2>&1 </dev/null)
	[ "$lint_out_" = "OK-117" ]
}

# Run a body in a subshell of the scratch directory, then the commands it
# gave test_when_finished, last registered first, whatever the body did
# (except with -i after a failure: the scratch is kept as it was). A
# failing clean-up fails the test.
test_body_() {
	test_cleanup=:
	test_eval_inner_ "$1"
	eval_ret=$?
	if [ -z "$immediate" ] || [ $eval_ret = 0 ] || [ -n "$2" ]; then
		eval "$test_cleanup"
	fi
	return $eval_ret
}

test_run_() {
	out="$TRASH_DIRECTORY/.test-output"
	if [ -n "$verbose" ]; then
		(cd "$TRASH_DIRECTORY" && test_body_ "$1" "$2")
	else
		(cd "$TRASH_DIRECTORY" && test_body_ "$1" "$2") >"$out" 2>&1
	fi
}

# test_when_finished commands: run after the body of the current test,
# whether it passed or not (git's), e.g. to stop a server it started.
# Registered from the body itself, not from a subshell inside it.
test_when_finished() {
	test_cleanup="{ $*
		} && (exit \"\$eval_ret\"); eval_ret=\$?; $test_cleanup"
}

# Count the test; if its prerequisites are missing, report it skipped and
# return 1.
test_start_() {
	test_count=$((test_count + 1))
	if [ -n "$2" ] && ! test_have_prereq "$2"; then
		test_skipped=$((test_skipped + 1))
		say "ok $test_count # skip $1 (missing $test_missing_prereq)"
		return 1
	fi
	return 0
}

test_failure_() {
	test_failures=$((test_failures + 1))
	say "not ok $test_count - $1"
	printf '%s\n' "$2" | sed 's/^/#	/'
	if [ -z "$verbose" ] && [ -s "$out" ]; then
		say "#   output:"
		say_file "$out"
	fi
	if [ -n "$immediate" ]; then
		test_done
	fi
}

# A body whose &&-chain is broken fails without running: whatever it
# checks could not have failed.
test_lint_failure_() {
	test_failures=$((test_failures + 1))
	say "not ok $test_count - $1"
	say "# bug in the test script: broken &&-chain or run-away here-doc"
	say "# (the body, run as \"(exit 117) && body\", printed and ended with:)"
	printf '%s\n' "$lint_out_" | sed 's/^/#   /'
	printf '%s\n' "$2" | sed 's/^/#	/'
	if [ -n "$immediate" ]; then
		test_done
	fi
}

# test_expect_success [PREREQ] 'title' 'body'
test_expect_success() {
	test_prereq_=
	if [ $# -eq 3 ]; then
		test_prereq_=$1
		shift
	fi
	[ $# -eq 2 ] || BUG "not 2 or 3 parameters to test_expect_success"
	test_start_ "$1" "$test_prereq_" || return 0
	if ! test_chain_lint_ "$2"; then
		test_lint_failure_ "$1" "$2"
	elif test_run_ "$2"; then
		say "ok $test_count - $1"
	else
		test_failure_ "$1" "$2"
	fi
}

# test_expect_failure [PREREQ] 'title' 'body': a known breakage. It is
# reported as a TAP TODO: "not ok ... # TODO known breakage" while it
# fails, "ok ... # TODO known breakage vanished" once it passes (then make
# it a test_expect_success). Neither fails the script; a broken chain does.
test_expect_failure() {
	test_prereq_=
	if [ $# -eq 3 ]; then
		test_prereq_=$1
		shift
	fi
	[ $# -eq 2 ] || BUG "not 2 or 3 parameters to test_expect_failure"
	test_start_ "$1" "$test_prereq_" || return 0
	if ! test_chain_lint_ "$2"; then
		test_lint_failure_ "$1" "$2"
	elif test_run_ "$2" expecting_failure; then
		test_fixed=$((test_fixed + 1))
		say "ok $test_count - $1 # TODO known breakage vanished"
	else
		test_broken=$((test_broken + 1))
		say "not ok $test_count - $1 # TODO known breakage"
	fi
}

# test_skip 'title' 'reason': a test that cannot run here, reported as a
# TAP skip with its reason, never as a pass.
test_skip() {
	test_count=$((test_count + 1))
	test_skipped=$((test_skipped + 1))
	say "ok $test_count # skip $1 ($2)"
}

# skip_all 'reason': skip the rest of the script, saying why. Before any
# test it is TAP's "1..0 # SKIP reason", which prove shows as a skipped
# script.
skip_all() {
	if [ "$test_count" -eq 0 ]; then
		say "1..0 # SKIP $1"
		test_exit_ok_=t
		cd "$TEST_DIRECTORY" && rm -rf "$TRASH_DIRECTORY"
		exit 0
	fi
	say "# skipping the rest: $1"
	test_done
}

test_done() {
	test_exit_ok_=t
	[ "$test_fixed" -gt 0 ] && say "# $test_fixed known breakage(s) vanished; make them test_expect_success"
	[ "$test_broken" -gt 0 ] && say "# still have $test_broken known breakage(s)"
	[ "$test_skipped" -gt 0 ] && say "# skipped $test_skipped test(s)"
	say "1..$test_count"
	if [ "$test_failures" -gt 0 ]; then
		say "# failed $test_failures among $test_count test(s); kept $TRASH_DIRECTORY"
		exit 1
	fi
	cd "$TEST_DIRECTORY" && rm -rf "$TRASH_DIRECTORY"
	exit 0
}

# Prerequisites, for tests that need what the machine may lack:
# test_expect_success PREREQ 'title' 'body' runs only when every one of
# PREREQ (a comma-separated list; !NAME for its absence) holds. A script
# declares its own with test_set_prereq NAME.
test_prereqs_set_=" "
test_set_prereq() {
	test_prereqs_set_="$test_prereqs_set_$1 "
}

test_have_one_prereq_() {
	case "$test_prereqs_set_" in *" $1 "*) return 0 ;; esac
	case "$1" in
	MAN) command -v man >/dev/null 2>&1 ;;
	SQLITE3) command -v sqlite3 >/dev/null 2>&1 ;;
	BASH) command -v bash >/dev/null 2>&1 ;;
	NOT_ROOT) [ "$(id -u)" != 0 ] ;;
	DEV_FULL) [ -w /dev/full ] ;;
	# GNU readline, not libedit (make READLINE=edit): sre diagnose -i on a terminal.
	READLINE) sre version --build-options 2>/dev/null | grep -q "^line editing: GNU readline" ;;
	*) BUG "unknown prerequisite $1" ;;
	esac
}

test_have_prereq() {
	test_missing_prereq=
	old_ifs_=$IFS
	IFS=,
	set -- $1
	IFS=$old_ifs_
	for p_; do
		case "$p_" in
		!*) if test_have_one_prereq_ "${p_#!}"; then
			test_missing_prereq="${test_missing_prereq:+$test_missing_prereq,}$p_"
		    fi ;;
		*) if ! test_have_one_prereq_ "$p_"; then
			test_missing_prereq="${test_missing_prereq:+$test_missing_prereq,}$p_"
		   fi ;;
		esac
	done
	[ -z "$test_missing_prereq" ]
}

# test_cmp expected actual: they must be equal, or the diff is shown.
test_cmp() {
	diff -u "$1" "$2"
}

# test_expect_code N command...: the command must exit with exactly N.
test_expect_code() {
	want=$1
	shift
	"$@"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "test_expect_code: '$*' exited $got, wanted $want" >&2
		return 1
	fi
	return 0
}

# test_must_fail command...: any failure that is not a crash or a
# sanitizer report (86, or a signal).
test_must_fail() {
	"$@"
	got=$?
	if [ "$got" -eq 0 ]; then
		echo "test_must_fail: '$*' succeeded" >&2
		return 1
	fi
	if [ "$got" -eq 86 ] || { [ "$got" -gt 130 ] && [ "$got" -le 192 ]; }; then
		echo "test_must_fail: '$*' crashed (exit $got)" >&2
		return 1
	fi
	return 0
}

# test_grep [!] [grep options] pattern file...: like grep (or ! grep),
# but shows the file when it fails, and fails when grep cannot read a
# file: "! grep secret missing-file" would pass whatever sre wrote (git's).
# With a pattern alone it reads its standard input: cmd | test_grep pattern.
test_grep() {
	negate_=
	if [ "x$1" = "x!" ]; then
		negate_=t
		shift
	fi
	[ $# -ge 1 ] || BUG "too few parameters to test_grep"
	if [ $# -eq 1 ]; then
		cat >"$TRASH_DIRECTORY/.test-grep-stdin" || return 1
		set -- "$1" "$TRASH_DIRECTORY/.test-grep-stdin"
	fi
	eval "last=\${$#}"
	if ! [ -e "$last" ]; then
		echo "test_grep: $last does not exist" >&2
		return 1
	fi
	grep "$@"
	got_=$?
	if [ $got_ -gt 1 ]; then
		echo "test_grep: grep $* failed (exit $got_)" >&2
		return 1
	fi
	if [ -n "$negate_" ]; then
		[ $got_ = 1 ] && return 0
		echo "test_grep: found '$*' in:" >&2
	else
		[ $got_ = 0 ] && return 0
		echo "test_grep: no match for '$*' in:" >&2
	fi
	cat "$last" >&2
	return 1
}

# test_line_count = N file
test_line_count() {
	n=$(wc -l <"$3" | tr -d ' ')
	if ! [ "$n" "$1" "$2" ]; then
		echo "test_line_count: $3 has $n lines, wanted $1 $2" >&2
		cat "$3" >&2
		return 1
	fi
}

# field <file> <key>...: the value at that path in the JSON of file (a
# number indexes a list), "null" for null; a missing key fails. Needs
# python3, which a script that calls it checks for.
field() {
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    j = j[k] if not isinstance(j, list) else j[int(k)]
print("null" if j is None else j)' "$@"
}

# The store of the scratch HOME, for sqlite3 checks.
SRE_DB="$XDG_STATE_HOME/sre/sre.db"
