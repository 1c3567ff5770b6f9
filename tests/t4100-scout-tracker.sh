#!/bin/sh
test_description='sre scout with a shared tracker: two hosts, one issue'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the fakes"
fi

TOKEN=ghp_scout0123456789secret
GITHUB_TOKEN=$TOKEN; export GITHUB_TOKEN

start_fake target || { echo "Bail out! the target did not start"; exit 1; }
TARGET_URL=$FAKE_URL
TARGET_PID=$FAKE_PID
start_fake github --token "$TOKEN" || { echo "Bail out! the fake GitHub did not start"; exit 1; }

answer() {
	python3 -c 'import json, sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/_fake/set",
    data=json.dumps({"path": sys.argv[2], "status": int(sys.argv[3])}).encode(),
    method="POST"), timeout=5).read()' "$TARGET_URL" "$1" "$2"
}

issues() {
	python3 -c 'import json, sys, urllib.request
state = json.load(urllib.request.urlopen(sys.argv[1] + "/_fake/state", timeout=5))
for i in state.get("acme/shop", {}).get("issues", []):
    print(i["number"], i["state"], i["title"])' "$FAKE_URL"
}

test_expect_success 'setup: one check, a GitHub tracker, two hosts' '
	mkdir -p .sre &&
	cat >.sre/config <<-EOT
	[check "checkout"]
		url = $TARGET_URL/checkout
	[tracker]
		kind = github
	[github]
		api = $FAKE_URL
		repo = acme/shop
	[http]
		retry-base = 10ms
	EOT
'

test_expect_success 'two hosts scouting the same failure make one issue' '
	answer /checkout 503 &&
	sre --db host-a.db scout >a.out &&
	sre --db host-b.db scout >b.out &&
	test_grep "^opened 1 checkout" a.out &&
	test_grep "^opened 1 checkout" b.out &&
	issues >list &&
	test_line_count = 1 list &&
	test_grep "^1 open checkout returned 503" list
'

test_expect_success 'the recovery seen by one host closes the issue for both' '
	answer /checkout 200 &&
	sre --db host-a.db scout && sre --db host-a.db scout >a.out &&
	test_grep "^recovered 1" a.out &&
	issues >list &&
	test_grep "^1 closed " list &&
	sre --db host-b.db scout && sre --db host-b.db scout >b.out 2>b.err &&
	sre --db host-b.db incident list --porcelain >open &&
	! test -s open
'

kill "$TARGET_PID" 2>/dev/null
stop_fake
test_done
