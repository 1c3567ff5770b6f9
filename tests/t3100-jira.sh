#!/bin/sh
test_description='JIRA Service Management as the shared tracker: statuses, intake, errors'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the fake JIRA"
fi

TOKEN=atl_test0123456789secret
ATLASSIAN_TOKEN=$TOKEN; export ATLASSIAN_TOKEN

fake_state() {
	python3 -c 'import json, sys, urllib.request
print(json.dumps(json.load(urllib.request.urlopen(sys.argv[1] + "/_fake/state", timeout=5))))' "$FAKE_URL"
}

# The status of issue $1 on the fake.
issue_status() {
	fake_state | python3 -c 'import json, sys
for i in json.load(sys.stdin)["issues"]:
    if i["key"] == sys.argv[1]:
        print(i["status"])' "$1"
}

# Make a ticket as a person would, in the web UI of the fake.
fake_issue() {
	python3 -c 'import sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/_fake/issue", data=sys.argv[2].encode(),
                             headers={"Content-Type": "application/json"}, method="POST")
urllib.request.urlopen(req, timeout=5).read()' "$FAKE_URL" "$1"
}

json_field() {
	sqlite3 :memory: "SELECT json_extract(readfile('$1'), '\$.$2')"
}

# Started here, not in a test: a test runs in a subshell, and stop_fake
# needs the server's pid.
start_fake jira --user bot@example.com --token "$TOKEN" --page-size 2 --project OPS ||
	{ echo "Bail out! the fake JIRA did not start"; exit 1; }

test_expect_success 'point sre at the fake JIRA' '
	mkdir -p .sre &&
	cat >.sre/config <<-EOT
	[tracker]
		kind = jira
	[jira]
		url = $FAKE_URL
		project = OPS
		user = bot@example.com
	[http]
		retry-base = 10ms
		retries = 1
	EOT
'

test_expect_success 'opening an incident creates a ticket with the fingerprint label' '
	sre incident open -s payments -t "card auth p99 over 2s" --severity critical >id &&
	sre incident show --json "$(cat id)" >show &&
	test "$(json_field show remote_key)" = OPS-1 &&
	test "$(json_field show remote_url)" = "$FAKE_URL/browse/OPS-1" &&
	test "$(fake_count POST "^/rest/api/3/issue$")" = 1 &&
	grep "\"/rest/api/3/issue\"" "$FAKE_LOG" | test_grep "sre-fp-[0-9a-f]\{12\}" &&
	test "$(issue_status OPS-1)" = "To Do"
'

test_expect_success 'a transition performs the workflow transition that reaches the status' '
	sre incident transition --reason "collecting evidence" "$(cat id)" ANALYSIS_IN_PROGRESS &&
	test "$(issue_status OPS-1)" = "In Progress" &&
	grep "/transitions" "$FAKE_LOG" | grep "\"POST\"" >posts &&
	test_line_count = 1 posts &&
	test_grep "\\\\\"id\\\\\": *\\\\\"21\\\\\"" posts
'

test_expect_success 'jira.status.<STATE> maps a state to another status name' '
	sre config jira.status.ANALYSIS_COMPLETE "Verifying Fix" &&
	sre config jira.status.VERIFICATION_IN_PROGRESS "Analysis Complete" &&
	sre incident transition "$(cat id)" ANALYSIS_COMPLETE &&
	test "$(issue_status OPS-1)" = "Verifying Fix"
'

test_expect_success 'a status changed on the tracker by a person wins over this host' '
	sre incident transition "$(cat id)" FIX_GENERATION_IN_PROGRESS &&
	sre -c jira.status.FIX_GENERATED="Under Review" incident transition "$(cat id)" FIX_GENERATED &&
	test "$(issue_status OPS-1)" = "Under Review" &&
	test_expect_code 1 sre incident transition "$(cat id)" DEPLOYMENT_IN_PROGRESS 2>err &&
	test_grep "is PR_UNDER_REVIEW on jira, not FIX_GENERATED as this host last saw it" err &&
	sre incident show --json "$(cat id)" >show &&
	test "$(json_field show state)" = PR_UNDER_REVIEW
'

test_expect_success 'resolution reaches Done' '
	for s in PR_APPROVED PR_MERGED DEPLOYMENT_IN_PROGRESS \
		 DEPLOYMENT_COMPLETE VERIFICATION_IN_PROGRESS VERIFICATION_COMPLETE \
		 INCIDENT_RESOLVED; do
		sre incident transition "$(cat id)" $s || return 1
	done &&
	test "$(issue_status OPS-1)" = Done
'

test_expect_success 'intake: tickets assigned to the bot are imported over three pages' '
	for n in 1 2 3 4 5; do
		fake_issue "{\"summary\":\"customer report $n\",\"priority\":\"High\",\"assignee\":\"bot@example.com\"}" || return 1
	done &&
	fake_issue "{\"summary\":\"someone else\",\"priority\":\"High\",\"assignee\":\"alice@example.com\"}" &&
	grep -c "search/jql" "$FAKE_LOG" >before &&
	sre --db intake.db incident pull --assignee bot@example.com >new 2>err &&
	test_line_count = 5 new &&
	grep "search/jql" "$FAKE_LOG" | tail -n +$(($(cat before) + 1)) >searches &&
	test_line_count = 3 searches &&
	test_grep "nextPageToken" searches &&
	sre --db intake.db incident list --json >list &&
	test "$(sqlite3 :memory: "SELECT group_concat(json_extract(value, '"'"'\$.title'"'"'), '"'"','"'"') FROM json_each(readfile('"'"'list'"'"'))")" = "customer report 1,customer report 2,customer report 3,customer report 4,customer report 5" &&
	test "$(sqlite3 :memory: "SELECT json_extract(readfile('"'"'list'"'"'), '"'"'\$[0].severity'"'"')")" = high &&
	test "$(sqlite3 :memory: "SELECT json_extract(readfile('"'"'list'"'"'), '"'"'\$[0].source'"'"')")" = jira &&
	fake_state | python3 -c "import json, sys
labels = {i[\"summary\"]: i[\"labels\"] for i in json.load(sys.stdin)[\"issues\"]}
assert \"sre\" in labels[\"customer report 3\"], labels
assert \"sre\" not in labels[\"someone else\"], labels"
'

test_expect_success 'intake again updates, and --max bounds it' '
	sre --db intake.db incident pull --assignee bot@example.com >new &&
	! test -s new &&
	sre --db intake2.db incident pull --assignee bot@example.com --max 3 >new &&
	test_line_count = 3 new
'

test_expect_success 'intake imports records only from the account sre signs in as (/myself)' '
	key=$(sqlite3 intake.db "SELECT remote_key FROM incidents ORDER BY id LIMIT 1") &&
	id=$(sqlite3 intake.db "SELECT id FROM incidents ORDER BY id LIMIT 1") &&
	python3 -c "import json, sys, urllib.request
rec = {\"sre\": 1, \"kind\": \"comment\", \"text\": \"forged\", \"key\": \"sre-\" + \"f\" * 32}
body = \"take this\n\n\u0060\u0060\u0060json sre-record\n\" + json.dumps(rec) + \"\n\u0060\u0060\u0060\n\"
req = urllib.request.Request(sys.argv[1] + \"/_fake/comment\", method=\"POST\",
    data=json.dumps({\"issue\": sys.argv[2], \"author\": \"mallory@example.com\", \"body\": body}).encode())
urllib.request.urlopen(req, timeout=5).read()" "$FAKE_URL" "$key" &&
	grep -c "/myself" "$FAKE_LOG" >before &&
	sre --db intake.db incident pull --assignee bot@example.com >new &&
	test "$(grep -c "/myself" "$FAKE_LOG")" -gt "$(cat before)" &&
	test "$(sqlite3 intake.db "SELECT count(*) FROM events WHERE incident_id = $id AND body LIKE '"'"'%forged%'"'"'")" = 0
'

test_expect_success 'a 400 from JIRA is one clear line, and the write is marked failed' '
	fake_fail "{\"method\":\"POST\",\"path\":\"^/rest/api/3/issue$\",\"status\":400,\"body\":{\"errorMessages\":[],\"errors\":{\"summary\":\"You must specify a summary of the issue.\"}}}" &&
	test_expect_code 1 sre incident open -s api -t "rejected" 2>err &&
	grep "^error:" err >errors &&
	test_line_count = 1 errors &&
	test_grep "jira: .*HTTP 400 summary: You must specify a summary of the issue." errors
'

test_expect_success 'a 401 is one clear line, without the token' '
	(ATLASSIAN_TOKEN=atl_wrongtoken999 && export ATLASSIAN_TOKEN &&
	 test_expect_code 1 sre incident open -s api -t "bad token" 2>err) &&
	grep "^error:" err >errors &&
	test_line_count = 1 errors &&
	test_grep "HTTP 401" errors &&
	test_grep ! atl_wrongtoken999 err
'

test_expect_success 'the token never appears in a trace or the store' '
	SRE_TRACE=1 sre incident comment "$(cat id)" "traced" 2>trace &&
	test_grep "authorization: Basic <redacted>" trace &&
	test_grep ! "$TOKEN" trace &&
	test_grep ! -a "$TOKEN" "$SRE_DB" intake.db &&
	{ test ! -e "$SRE_DB-wal" || test_grep ! -a "$TOKEN" "$SRE_DB-wal"; }
'

stop_fake
test_done
