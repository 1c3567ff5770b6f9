#!/bin/sh
test_description='--json: every object says its schema first; several results are JSON Lines'
. "$(dirname "$0")/test-lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 to read the JSON"
fi

# schema_first <file>: the file is one JSON value; it, or each object of
# it when it is a list, has "schema": 1 as its first member. Prints how
# many objects it checked.
schema_first() {
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
objs = v if isinstance(v, list) else [v]
for o in objs:
    keys = list(o)
    if not keys or keys[0] != "schema" or o["schema"] != 1:
        sys.exit("first member %r of %s" % (keys[:1], json.dumps(o)[:200]))
print(len(objs))' "$1"
}

# json_lines <file>: each line is one whole JSON value, an object or a
# list of objects, each with its schema first; prints how many lines.
json_lines() {
	python3 -c 'import json, sys
n = 0
for line in open(sys.argv[1]):
    v = json.loads(line)
    for o in v if isinstance(v, list) else [v]:
        if not isinstance(o, dict) or list(o)[0] != "schema":
            sys.exit("not an object with its schema first: %s" % line[:200])
    n += 1
print(n)' "$1"
}

test_expect_success 'setup: two incidents, and a check that fails' '
	sre incident open --service web --title "web is down" &&
	sre incident open --service db --title "db is slow" &&
	mkdir -p .sre &&
	cat >.sre/config <<-EOT
	[check "api"]
		url = http://127.0.0.1:1/health
		timeout = 2s
	EOT
'

test_expect_success 'incident show and list: schema first, in each incident of the list' '
	sre incident show --json 1 >show.json &&
	test "$(schema_first show.json)" = 1 &&
	sre incident list --json >list.json &&
	test "$(schema_first list.json)" = 2
'

test_expect_success 'diagnose, fix --dry-run and scout: schema first' '
	sre diagnose --json 1 >diagnosis.json &&
	test "$(schema_first diagnosis.json)" = 1 &&
	{ sre fix --dry-run --json 1 >plan.json || test $? = 1; } &&
	test "$(schema_first plan.json)" = 1 &&
	sre scout --json >scout.json &&
	test "$(schema_first scout.json)" -ge 1
'

test_expect_success 'sync --status: schema first in each queued write' '
	cat >tracker.config <<-EOT &&
	[tracker]
		kind = github
	[github]
		api = http://127.0.0.1:1
		repo = acme/shop
		user = sre-bot
	[http]
		retries = 0
	EOT
	{ GITHUB_TOKEN=t SRE_CONFIG=$PWD/tracker.config \
		sre incident open --service cache --title "cache is cold" || test $? = 1; } &&
	SRE_CONFIG=$PWD/tracker.config sre sync --status --json >status.json &&
	test "$(schema_first status.json)" -ge 1
'

test_expect_success 'one result is indented for a person' '
	test $(wc -l <diagnosis.json) -gt 3
'

test_expect_success 'diagnose of two incidents: two lines, each a whole JSON object' '
	sre diagnose --json 1 2 >two.jsonl &&
	test_line_count = 2 two.jsonl &&
	test "$(json_lines two.jsonl)" = 2 &&
	head -1 two.jsonl | test_grep "^{\"schema\":1,\"incident\":1,"
'

test_expect_success 'scout --watch --json: one line per pass' '
	test_expect_code 0 timeout --preserve-status -s INT 3 \
		sre scout --watch --interval 1s --json >watch.jsonl &&
	test "$(json_lines watch.jsonl)" -ge 2
'

# The recipes of sre(1), JSON OUTPUT, run as a reader would run them.
command -v jq >/dev/null 2>&1 && test_set_prereq JQ

test_expect_success JQ 'the jq recipes of sre(1) work on what sre prints' '
	sre incident list --json >list.json &&
	jq -r ".[] | select(.service == \"web\") | .id" list.json >ids &&
	echo 1 >expect &&
	test_cmp expect ids &&
	jq -r .root_cause diagnosis.json >cause &&
	test_grep "web" cause &&
	jq -c "{incident, category, confidence}" two.jsonl >rows &&
	test_line_count = 2 rows &&
	test_grep "^{\"incident\":2,\"category\":\"unknown\",\"confidence\":0}\$" rows &&
	jq -e "has(\"action\") and has(\"target\") and has(\"requires_approval\")" plan.json &&
	jq -c ".[] | select(.status == \"failing\")" watch.jsonl >failing &&
	test_grep "\"check\":\"api\"" failing &&
	jq -c ".[] | {incident, operation, attempts}" status.json >queued &&
	test_grep "\"operation\":\"create\"" queued
'

test_done
