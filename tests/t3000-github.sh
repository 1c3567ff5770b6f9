#!/bin/sh
test_description='GitHub Issues as the shared tracker: mirroring, adoption, the outbox'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the fake GitHub"
fi

TOKEN=ghp_test0123456789secret
GITHUB_TOKEN=$TOKEN; export GITHUB_TOKEN

# The fake's view of an issue: python3 reads /_fake/state.
fake_state() {
	python3 -c 'import json, sys, urllib.request
print(json.dumps(json.load(urllib.request.urlopen(sys.argv[1] + "/_fake/state", timeout=5))))' "$FAKE_URL"
}

# The labels of issue $1, and its state as "state=open|closed".
issue_labels() {
	fake_state | python3 -c 'import json, sys
for i in json.load(sys.stdin)["acme/shop"]["issues"]:
    if str(i["number"]) == sys.argv[1]:
        print("\n".join(sorted(l["name"] for l in i["labels"])))
        print("state=" + i["state"])' "$1"
}

# How many comments of issue $1 the fake holds that contain the text $2.
comment_count() {
	fake_state | python3 -c 'import json, sys
cs = json.load(sys.stdin)["acme/shop"]["comments"].get(sys.argv[1], [])
print(sum(sys.argv[2] in c["body"] for c in cs))' "$1" "$2"
}

json_field() {
	sqlite3 :memory: "SELECT json_extract(readfile('$1'), '\$.$2')"
}

# Started here, not in a test: a test runs in a subshell, and stop_fake
# needs the server's pid.
start_fake github --token "$TOKEN" || { echo "Bail out! the fake GitHub did not start"; exit 1; }

test_expect_success 'point sre at the fake GitHub' '
	mkdir -p .sre &&
	cat >.sre/config <<-EOT
	[tracker]
		kind = github
	[github]
		api = $FAKE_URL
		repo = acme/shop
	[http]
		retry-base = 10ms
		retries = 2
	EOT
'

test_expect_success 'opening an incident creates one issue, with sre labels' '
	sre incident open -s checkout -t "checkout returns 503" --severity high >id 2>err &&
	echo 1 >expect && test_cmp expect id &&
	test "$(fake_count POST "^/repos/acme/shop/issues$")" = 1 &&
	sre incident show --json 1 >show &&
	test "$(json_field show remote_key)" = 1 &&
	test -n "$(json_field show remote_url)" &&
	issue_labels 1 >labels &&
	test_grep -x sre labels &&
	test_grep -x "sre:state/INCIDENT_DETECTED" labels &&
	test_grep "^sre:fp/[0-9a-f]\{12\}$" labels
'

test_expect_success 'a second host opening the same incident adopts the issue' '
	sre --db other.db incident open -s checkout -t "checkout returns 503" --severity high >id2 &&
	sre --db other.db incident show --json "$(cat id2)" >show2 &&
	test "$(json_field show2 remote_key)" = 1 &&
	test "$(fake_count POST "^/repos/acme/shop/issues$")" = 1
'

test_expect_success 'a transition swaps the state label and posts its record' '
	sre incident transition --reason "rule engine started" 1 ANALYSIS_IN_PROGRESS &&
	issue_labels 1 >labels &&
	test_grep -x "sre:state/ANALYSIS_IN_PROGRESS" labels &&
	test_grep ! -x "sre:state/INCIDENT_DETECTED" labels &&
	test "$(fake_count POST "^/repos/acme/shop/issues/1/comments$")" = 1 &&
	grep "/issues/1/comments" "$FAKE_LOG" | test_grep "rule engine started"
'

test_expect_success 'a comment goes to the issue with its record' '
	sre incident comment 1 "pod checkout-7d9f OOMKilled" &&
	test "$(fake_count POST "^/repos/acme/shop/issues/1/comments$")" = 2 &&
	grep "/issues/1/comments" "$FAKE_LOG" | test_grep "sre-record"
'

test_expect_success 'a host that saw an older state is refused, and follows the tracker' '
	test_expect_code 1 sre --db other.db incident transition "$(cat id2)" ANALYSIS_COMPLETE 2>err &&
	test_grep "is ANALYSIS_IN_PROGRESS on github, not INCIDENT_DETECTED as this host last saw it" err &&
	sre --db other.db incident show --json "$(cat id2)" >show2 &&
	test "$(json_field show2 state)" = ANALYSIS_IN_PROGRESS &&
	issue_labels 1 >labels &&
	test_grep -x "sre:state/ANALYSIS_IN_PROGRESS" labels
'

test_expect_success 'a third host restores state and timeline from the tracker alone' '
	sre --db third.db incident pull >new 2>err &&
	test_line_count = 1 new &&
	sre --db third.db incident show --json "$(cat new)" >show3 &&
	test "$(json_field show3 state)" = ANALYSIS_IN_PROGRESS &&
	test "$(json_field show3 service)" = checkout &&
	test "$(json_field show3 severity)" = high &&
	test "$(json_field show3 remote_key)" = 1 &&
	sre --db third.db incident show "$(cat new)" >text3 &&
	test_grep "INCIDENT_DETECTED -> ANALYSIS_IN_PROGRESS: rule engine started" text3 &&
	test_grep "pod checkout-7d9f OOMKilled" text3
'

test_expect_success 'pulling again updates, it does not duplicate' '
	sre --db third.db incident pull >new2 &&
	! test -s new2 &&
	sre --db third.db incident list --porcelain --all >all &&
	test_line_count = 1 all &&
	sre --db third.db incident show --json 1 >show3 &&
	test "$(sqlite3 :memory: "SELECT count(*) FROM json_each(json_extract(readfile('"'"'show3'"'"'), '"'"'\$.events'"'"')) WHERE json_extract(value, '"'"'\$.kind'"'"') = '"'"'imported-comment'"'"'")" = 1
'

test_expect_success 'a 500 queues the write; sre sync delivers it exactly once' '
	fake_fail "{\"method\":\"POST\",\"path\":\"/issues/1/comments$\",\"status\":500,\"times\":3}" &&
	sre incident comment 1 "queued while GitHub was down" 2>err &&
	test_grep "1 write to github queued" err &&
	sre sync --status >status &&
	test_grep "comment  *pending" status &&
	test_grep "HTTP 500" status &&
	sre sync --status --json >status.json &&
	test "$(sqlite3 :memory: "SELECT json_extract(value, '"'"'\$.operation'"'"') || '"'"' '"'"' || json_extract(value, '"'"'\$.status'"'"') FROM json_each(readfile('"'"'status.json'"'"')) WHERE json_extract(value, '"'"'\$.status'"'"') = '"'"'pending'"'"'")" = "comment pending" &&
	sqlite3 :memory: "SELECT json_extract(value, '"'"'\$.error'"'"') FROM json_each(readfile('"'"'status.json'"'"'))" >errors &&
	test_grep "HTTP 500" errors &&
	test "$(comment_count 1 "queued while GitHub was down")" = 0 &&
	until sre sync 2>err; do
		test_grep "HTTP 500" err || return 1
	done &&
	sre sync --status >status &&
	test_grep ! pending status &&
	test "$(comment_count 1 "queued while GitHub was down")" = 1 &&
	sre sync &&
	test "$(comment_count 1 "queued while GitHub was down")" = 1
'

test_expect_success 'a comment that landed but whose answer was lost is not posted twice' '
	fake_fail "{\"method\":\"POST\",\"path\":\"/issues/1/comments$\",\"status\":502,\"after\":true,\"times\":1}" &&
	sre incident comment 1 "landed, answer lost" 2>err &&
	test_grep "1 write to github queued" err &&
	test "$(comment_count 1 "landed, answer lost")" = 1 &&
	sre sync &&
	sre sync --status >status &&
	test_grep ! pending status &&
	test "$(comment_count 1 "landed, answer lost")" = 1
'

test_expect_success 'an issue created whose answer was lost is adopted, not created twice' '
	fake_fail "{\"method\":\"POST\",\"path\":\"/repos/acme/shop/issues$\",\"status\":502,\"after\":true,\"times\":1}" &&
	sre incident open -s search -t "search index stale" >sid 2>err &&
	test_grep "1 write to github queued" err &&
	sre sync &&
	sre incident show --json "$(cat sid)" >show &&
	test -n "$(json_field show remote_key)" &&
	test "$(fake_state | python3 -c "import json, sys; print(sum(i[\"title\"] == \"search index stale\" for i in json.load(sys.stdin)[\"acme/shop\"][\"issues\"]))")" = 1
'

test_expect_success 'a 429 with Retry-After is honoured' '
	fake_fail "{\"method\":\"POST\",\"path\":\"/issues/1/comments$\",\"status\":429,\"headers\":{\"Retry-After\":\"1\"},\"times\":1}" &&
	start=$(date +%s%N) &&
	sre incident comment 1 "after the rate limit" &&
	end=$(date +%s%N) &&
	test $(( (end - start) / 1000000 )) -ge 1000 &&
	sre sync --status >status &&
	test_grep ! pending status
'

test_expect_success 'a 422 is one clear line, and the write is marked failed' '
	fake_fail "{\"method\":\"POST\",\"path\":\"/repos/acme/shop/issues$\",\"status\":422,\"body\":{\"message\":\"Validation Failed\",\"errors\":[{\"resource\":\"Issue\",\"code\":\"missing_field\",\"field\":\"title\"}],\"documentation_url\":\"https://docs.github.com/rest\"}}" &&
	test_expect_code 1 sre incident open -s api -t "bad request" >id 2>err &&
	test -s id &&
	grep "^error:" err >errors &&
	test_line_count = 1 errors &&
	test_grep "github: .*HTTP 422 Validation Failed; title missing_field" errors &&
	sre sync --status >status &&
	test_grep "create  *failed  .*HTTP 422" status
'

test_expect_success 'sre sync exits 1 while a refused write waits' '
	test_expect_code 1 sre sync
'

test_expect_success 'sync --retry queues a failed write again' '
	sre sync --retry &&
	sre sync --status >status &&
	test_grep ! failed status &&
	test "$(fake_state | python3 -c "import json, sys; print(len(json.load(sys.stdin)[\"acme/shop\"][\"issues\"]))")" = 3
'

test_expect_success 'a 401 is one clear line, without the token' '
	(GITHUB_TOKEN=ghp_wrongtoken999 && export GITHUB_TOKEN &&
	 test_expect_code 1 sre incident comment 1 "with a bad token" 2>err) &&
	grep "^error:" err >errors &&
	test_line_count = 1 errors &&
	test_grep "HTTP 401 Bad credentials" errors &&
	test_grep ! ghp_wrongtoken999 err
'

test_expect_success 'a response over the size cap is refused with a clear error' '
	# 1: the comment refused for a bad token above still waits.
	test_expect_code 1 sre -c http.max-body=64 sync &&
	test_expect_code 128 sre -c http.max-body=64 --db cap.db incident pull 2>err &&
	test_grep "larger than http.max-body (64 bytes)" err
'

test_expect_success 'without a token, sre says how to give one' '
	env -u GITHUB_TOKEN sre incident list >/dev/null &&
	(unset GITHUB_TOKEN && test_expect_code 128 sre incident comment 1 x 2>err) &&
	test_grep "GITHUB_TOKEN" err &&
	test_grep "github.token-command" err
'

test_expect_success 'the token never appears in a trace, the store or a message' '
	SRE_TRACE=1 sre incident comment 1 "traced" 2>trace &&
	test_grep "sre: http: POST .*/issues/1/comments" trace &&
	test_grep "authorization: <redacted>" trace &&
	test_grep ! "$TOKEN" trace &&
	sre sync --status --all >status &&
	test_grep ! "$TOKEN" status &&
	test_grep ! -a "$TOKEN" "$SRE_DB" other.db third.db &&
	{ test ! -e "$SRE_DB-wal" || test_grep ! -a "$TOKEN" "$SRE_DB-wal"; }
'

test_expect_success 'the token can come from github.token-command' '
	env -u GITHUB_TOKEN sre -c github.token-command="printf %s $TOKEN" incident comment 1 "from a command" &&
	grep "/issues/1/comments" "$FAKE_LOG" | test_grep "from a command"
'

test_expect_success 'work done while GitHub was down reaches it in order, nothing refused' '
	fake_fail "{\"path\":\"^/repos/\",\"status\":503,\"times\":1000}" &&
	sre incident open -s batch -t "nightly batch late" >bid 2>err &&
	sre incident transition "$(cat bid)" ANALYSIS_IN_PROGRESS --reason "offline one" 2>>err &&
	sre incident transition "$(cat bid)" ANALYSIS_COMPLETE --reason "offline two" 2>>err &&
	test_grep "3 writes to github queued" err &&
	python3 -c "import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + \"/_fake/recover\", method=\"POST\"), timeout=5)" "$FAKE_URL" &&
	# --retry: the comment refused for a bad token earlier goes too.
	sre sync --retry &&
	sre sync --status >status &&
	! test -s status &&
	sre incident show --json "$(cat bid)" >show &&
	test "$(json_field show state)" = ANALYSIS_COMPLETE &&
	n=$(json_field show remote_key) &&
	issue_labels "$n" >labels &&
	test_grep -x "sre:state/ANALYSIS_COMPLETE" labels &&
	test "$(comment_count "$n" "offline one")" = 1 &&
	test "$(comment_count "$n" "offline two")" = 1 &&
	sre incident show "$(cat bid)" >text &&
	test_grep ! "source.*tracker\|ANALYSIS_COMPLETE -> ANALYSIS_COMPLETE" text
'

test_expect_success 'two deliveries at once send each write once' '
	fake_fail "{\"method\":\"POST\",\"path\":\"/issues/1/comments$\",\"status\":503,\"times\":1}" &&
	sre incident comment 1 "sent by one of two syncs" 2>err &&
	test_grep "queued" err &&
	{ { sre sync >s1.out 2>&1; echo $? >s1.code; } & } &&
	sre sync >s2.out 2>&1 &&
	wait &&
	echo 0 >expect &&
	test_cmp expect s1.code &&
	test "$(comment_count 1 "sent by one of two syncs")" = 1
'

test_expect_success 'an issue closed by a person resolves the incident here' '
	sre incident open -s cron -t "cron job missing" >cid &&
	sre incident show --json "$(cat cid)" >show &&
	n=$(json_field show remote_key) &&
	python3 -c "import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + \"/repos/acme/shop/issues/\" + sys.argv[2], method=\"PATCH\",
    data=json.dumps({\"state\": \"closed\"}).encode(),
    headers={\"Authorization\": \"Bearer \" + sys.argv[3], \"Content-Type\": \"application/json\"})
urllib.request.urlopen(req, timeout=5).read()" "$FAKE_URL" "$n" "$TOKEN" &&
	test_expect_code 1 sre incident transition "$(cat cid)" ANALYSIS_IN_PROGRESS 2>err &&
	test_grep "is INCIDENT_RESOLVED on github" err &&
	sre incident show --json "$(cat cid)" >show &&
	test "$(json_field show state)" = INCIDENT_RESOLVED
'

stop_fake
test_done
