#!/bin/sh
test_description='hostile servers: no answer, gzip bombs, page loops, huge Retry-After, wrong-type JSON'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

# A remote server is not trusted to answer, to answer little, to end its
# pages, to ask for a sane wait, or to answer JSON of the expected shape.
# Each test points sre at tests/fakes/hostile.py, which misbehaves in one
# way, and checks that sre stops with a clear error, in bounded time and
# memory, after a bounded number of requests: never a hang, a crash or a
# sanitizer report (exit 86 under SANITIZE=1).

if ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # SKIP no python3 for the hostile server"
	exit 0
fi

GITHUB_TOKEN=ghp_test0123456789secret; export GITHUB_TOKEN
ATLASSIAN_TOKEN=atl_test0123456789secret; export ATLASSIAN_TOKEN

# The user's own config (a directory's .sre/config may not choose servers).
CONFIG="$XDG_CONFIG_HOME/sre/config"
mkdir -p "$XDG_CONFIG_HOME/sre"

# hostile MODE ARGS...: (re)start the hostile server, a fresh request log.
# Called between tests, not in one: a test runs in a subshell, and
# stop_fake needs the server's pid.
hostile() {
	stop_fake
	rm -rf "$TRASH_DIRECTORY/fake-hostile"
	start_fake hostile --mode "$@" || { echo "Bail out! the hostile server did not start"; exit 1; }
}

github_config() {
	cat >"$CONFIG" <<-EOT
	[tracker]
		kind = github
	[github]
		api = $FAKE_URL
		repo = acme/shop
	[http]
		timeout = 1s
		connect-timeout = 1s
		retries = 1
		retry-base = 10ms
		max-retry-wait = 5s
	EOT
}

jira_config() {
	cat >"$CONFIG" <<-EOT
	[tracker]
		kind = jira
	[jira]
		url = $FAKE_URL
		project = OPS
		user = bot@example.com
	[http]
		timeout = 1s
		retries = 1
		retry-base = 10ms
	EOT
}

# run_bounded SECONDS CMD...: CMD's status in $rc; never a timeout (124),
# a signal (>128) or a sanitizer report (86).
run_bounded() {
	limit=$1
	shift
	rc=0
	timeout "$limit" "$@" >out 2>err || rc=$?
	if [ "$rc" = 124 ] || [ "$rc" = 86 ] || [ "$rc" -gt 128 ]; then
		echo "'$*' ended with $rc:" >&2
		cat err >&2
		return 1
	fi
	return 0
}

# ---- no answer ----

hostile hang
test_expect_success 'a server that accepts and never answers: cut off at http.timeout, named' '
	github_config &&
	start=$(date +%s) &&
	run_bounded 20 sre incident pull &&
	end=$(date +%s) &&
	test "$rc" = 128 &&
	test_grep "^error: github: searching issues: $FAKE_URL: .*[Tt]imed out" err &&
	test $((end - start)) -lt 10 &&
	test "$(grep -c CONNECT "$FAKE_LOG")" = 2
'

# ---- a gzip bomb ----

hostile gzip-bomb --size $((256 << 20))
test_expect_success 'a gzip bomb: the body is capped after decoding, memory stays bounded' '
	github_config &&
	printf "\tmax-body = 1m\n" >>"$CONFIG" &&
	run_bounded 20 sre incident pull &&
	test "$rc" = 128 &&
	test_grep "larger than http.max-body (1048576 bytes)" err &&
	test "$(fake_count GET /repos/acme/shop/issues)" = 1
'

test_expect_success 'with the default cap, decoding 256 MiB keeps sre well under it' '
	github_config &&
	python3 -c "import resource, subprocess, sys
r = subprocess.run([\"sre\", \"incident\", \"pull\"], capture_output=True, timeout=30)
assert r.returncode == 128, r
assert b\"larger than http.max-body (33554432 bytes)\" in r.stderr, r.stderr
kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(kb, \"KiB at most\")
# 32 MiB of body and what a strbuf doubles to, not 256 MiB.
assert kb < 200 * 1024, kb
"
'

# ---- endless pages ----

hostile link-cycle --pages 3 --path /repos/acme/shop/issues
test_expect_success 'a GitHub Link header that loops: an error, each page read once' '
	github_config &&
	run_bounded 20 sre incident pull &&
	test "$rc" = 128 &&
	test_grep "^error: github: searching issues: the next-page links loop back to a page already read" err &&
	# the first URL, then page 2, 3 and 1, whose next (2) was read
	test "$(fake_count GET /repos/acme/shop/issues)" = 4
'

hostile link-cycle --pages 1 --path /repos/acme/shop/issues
test_expect_success 'a Link header that names itself is the last page, not a loop' '
	github_config &&
	run_bounded 20 sre incident pull &&
	test "$rc" = 0 &&
	test "$(fake_count GET /repos/acme/shop/issues)" = 2
'

hostile token-cycle --pages 3
test_expect_success 'a JIRA nextPageToken that cycles: an error, each token sent once' '
	jira_config &&
	run_bounded 20 sre incident pull &&
	test "$rc" = 128 &&
	test_grep "^error: jira: searching issues: the next-page tokens loop back to a page already read" err &&
	# no token, then t1, t2 and t0, whose next (t1) was sent
	test "$(fake_count POST /rest/api/3/search/jql)" = 4
'

# ---- Retry-After ----

echo '{"message":"slow down"}' >"$TRASH_DIRECTORY/slow.json"

hostile status --status 429 --header "Retry-After: 99999999999999999999" \
	--header "Content-Type: application/json" --body-file "$TRASH_DIRECTORY/slow.json"
test_expect_success 'a 429 asking for 99999999999999999999 s: no sleep, no overflow, one request' '
	github_config &&
	run_bounded 10 sre incident pull &&
	test "$rc" = 128 &&
	test_grep "asks to wait a day or more, longer than http.max-retry-wait" err &&
	test "$(fake_count GET /repos/acme/shop/issues)" = 1
'

hostile status --status 503 --header "Retry-After: Fri, 31 Dec 9999 23:59:59 GMT" \
	--header "Content-Type: application/json" --body-file "$TRASH_DIRECTORY/slow.json"
test_expect_success 'a 503 with a Retry-After date in the year 9999: no sleep, one request' '
	github_config &&
	run_bounded 10 sre incident pull &&
	test "$rc" = 128 &&
	test_grep "asks to wait a day or more" err &&
	test "$(fake_count GET /repos/acme/shop/issues)" = 1
'

hostile status --status 503 --header "Retry-After: -99999999999999999999" \
	--header "Content-Type: application/json" --body-file "$TRASH_DIRECTORY/slow.json"
test_expect_success 'a negative Retry-After is ignored: the usual backoff, then give up' '
	github_config &&
	run_bounded 10 sre incident pull &&
	test "$rc" = 128 &&
	test_grep "HTTP 503 from .* after 2 attempts" err &&
	test "$(fake_count GET /repos/acme/shop/issues)" = 2
'

hostile status --status 403 --header "X-RateLimit-Remaining: 0" \
	--header "X-RateLimit-Reset: 9223372036854775807" \
	--header "Content-Type: application/json" --body-file "$TRASH_DIRECTORY/slow.json"
test_expect_success 'a rate-limit reset at the end of time: no sleep, one request' '
	github_config &&
	run_bounded 10 sre incident pull &&
	test "$rc" = 128 &&
	test_grep "asks to wait a day or more" err &&
	test "$(fake_count GET /repos/acme/shop/issues)" = 1
'

stop_fake
test_done
