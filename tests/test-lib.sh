# test-lib.sh: the harness of sre's end-to-end tests, in the style of git's t/.
#
# A test script sets test_description, sources this file, then lists
# behaviours, one per test_expect_success 'title' 'commands', and ends with
# test_done. It prints TAP for prove. Each script runs in its own scratch
# directory tests/trash.<script>, with HOME and the XDG directories inside
# it and every SRE_* variable unset, so nothing of the user's leaks in.
# Run one script with -v to see each command's output, or -i to stop at the
# first failure.

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
	echo "1..0 # SKIP no sre binary in $SRE_BUILD_DIR: run make first"
	exit 0
fi

# Hermetic environment: nothing from the caller's sre set-up survives.
for v in $(env | sed -n 's/^\(SRE_[A-Za-z0-9_]*\)=.*/\1/p'); do
	case "$v" in SRE_BUILD_DIR|SRE_UNIT_DIR) ;; *) unset "$v" ;; esac
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

test_count=0
test_failures=0

say() {
	printf '%s\n' "$*"
}

# Print a file as TAP comments.
say_file() {
	sed 's/^/#   /' "$1"
}

test_expect_success() {
	if [ $# -eq 3 ]; then
		prereq=$1
		shift
		if ! test_have_prereq "$prereq"; then
			test_count=$((test_count + 1))
			say "ok $test_count # skip $1 (missing $prereq)"
			return 0
		fi
	fi
	test_count=$((test_count + 1))
	out="$TRASH_DIRECTORY/.test-output"
	if [ -n "$verbose" ]; then
		(cd "$TRASH_DIRECTORY" && eval "$2")
	else
		(cd "$TRASH_DIRECTORY" && eval "$2") >"$out" 2>&1
	fi
	status=$?
	if [ $status -eq 0 ]; then
		say "ok $test_count - $1"
	else
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
	fi
}

test_done() {
	say "1..$test_count"
	if [ "$test_failures" -gt 0 ]; then
		say "# failed $test_failures among $test_count test(s); kept $TRASH_DIRECTORY"
		exit 1
	fi
	cd "$TEST_DIRECTORY" && rm -rf "$TRASH_DIRECTORY"
	exit 0
}

# Prerequisites, for tests that need something the machine may lack.
test_have_prereq() {
	case "$1" in
	MAN) command -v man >/dev/null 2>&1 ;;
	SQLITE3) command -v sqlite3 >/dev/null 2>&1 ;;
	NOT_ROOT) [ "$(id -u)" != 0 ] ;;
	*) echo "unknown prerequisite $1" >&2; return 1 ;;
	esac
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

# test_grep [grep options] pattern file: like grep, but shows the file when
# the pattern is missing.
test_grep() {
	if grep "$@"; then
		return 0
	fi
	eval "last=\${$#}"
	echo "test_grep: no match for '$*' in:" >&2
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

# The store of the scratch HOME, for sqlite3 checks.
SRE_DB="$XDG_STATE_HOME/sre/sre.db"
