#!/bin/sh
test_description='trust: nothing sre reads from a ticket, a label or a race makes it act; kill -9 at the points that matter'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"
. "$TEST_DIRECTORY/lib-service.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the fakes"
fi

TOKEN=ghp_trust0123456789secret
EVIL=ghp_mallory0123456789token
GITHUB_TOKEN=$TOKEN; export GITHUB_TOKEN

start_fake github --token "$TOKEN" --user-token "mallory=$EVIL" ||
	{ echo "Bail out! the fake GitHub did not start"; exit 1; }
GITHUB_URL=$FAKE_URL

state() {
	sre incident show --json "$1" >state.json &&
	sqlite3 :memory: "SELECT json_extract(readfile('state.json'), '\$.state')"
}

events() {
	sqlite3 "${2:-$SRE_DB}" "SELECT count(*) FROM events WHERE incident_id = $1 AND kind = '$3'"
}

# A request to the fake GitHub as mallory, who may comment and label.
as_mallory() {
	python3 -c 'import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + sys.argv[3], method=sys.argv[2],
                             data=sys.argv[4].encode() if len(sys.argv) > 4 else None,
                             headers={"Authorization": "Bearer " + sys.argv[5],
                                      "Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=5).read()' "$GITHUB_URL" "$1" "$2" "${3:-}" "$EVIL"
}

# Replace issue $1's sre:state/ label with $2, keeping its other labels.
forge_state() {
	python3 -c 'import json, sys, urllib.request
url, n, state, evil = sys.argv[1:5]
auth = {"Authorization": "Bearer " + evil, "Content-Type": "application/json"}
req = urllib.request.Request("%s/repos/acme/shop/issues/%s/labels" % (url, n), headers=auth)
names = [l["name"] for l in json.load(urllib.request.urlopen(req, timeout=5))]
names = [x for x in names if not x.startswith("sre:state/")] + ["sre:state/" + state]
req = urllib.request.Request("%s/repos/acme/shop/issues/%s/labels" % (url, n), method="PUT",
                             data=json.dumps({"labels": names}).encode(), headers=auth)
urllib.request.urlopen(req, timeout=5).read()' "$GITHUB_URL" "$1" "$2" "$EVIL"
}

test_expect_success 'setup: GitHub as the tracker, quick verification' '
	mkdir -p .sre &&
	cat >.sre/config <<-EOT &&
	[tracker]
		kind = github
	[github]
		api = $GITHUB_URL
		repo = acme/shop
	[http]
		retry-base = 10ms
		retries = 2
	[fix]
		verify-interval = 100ms
		verify-timeout = 3s
	EOT
	make_service quote &&
	bin/start-quote &&
	kill -0 "$(cat run/quote.pid)"
'

# ---- records on the tracker come only from sre's own account ----

RECORD_START='{"sre":1,"kind":"action-started","action":"restart","target":"quote","approval":"person","params":{},"record":{},"key":"sre-00000000000000000000000000000001","at":"2026-12-01T00:00:00Z"}'
RECORD_PR='{"sre":1,"kind":"pull-request","number":1,"repo":"mallory/evil","branch":"sre/x","key":"sre-00000000000000000000000000000002","at":"2026-12-01T00:00:00Z"}'
RECORD_MOVE='{"sre":1,"kind":"transition","from":"ANALYSIS_COMPLETE","to":"DEPLOYMENT_IN_PROGRESS","actor":"sre","key":"sre-00000000000000000000000000000003","at":"2026-12-01T00:00:00Z"}'

test_expect_success 'records written by another account are not imported' '
	id=$(incident_for quote) &&
	echo "$id" >id.quote &&
	sre sync >/dev/null 2>&1 &&
	sre incident comment "$id" "looked at by the bot" 2>/dev/null &&
	for r in "$RECORD_START" "$RECORD_PR" "$RECORD_MOVE"; do
		body=$(python3 -c "import json, sys; print(json.dumps({\"body\": \"trust me\\n\\n\`\`\`json sre-record\\n\" + sys.argv[1] + \"\\n\`\`\`\\n\"}))" "$r") &&
		as_mallory POST /repos/acme/shop/issues/1/comments "$body" || return 1
	done &&
	sre --db third.db incident pull >new 2>err &&
	test_line_count = 1 new &&
	new=$(cat new) &&
	test "$(events "$new" third.db action-started)" = 0 &&
	test "$(events "$new" third.db pull-request)" = 0 &&
	test "$(events "$new" third.db transition)" = 0 &&
	test "$(sqlite3 third.db "SELECT count(*) FROM events WHERE actor = '\''mallory'\'' OR body LIKE '\''%sre-0000000000000000000000000000000%'\''")" = 0 &&
	test "$(events "$new" third.db imported-comment)" -ge 1 &&
	test "$(events "$new" third.db imported-transition)" -ge 2 &&
	test "$(fake_count GET "^/user$")" -ge 1
'

test_expect_success 'a ticket title with terminal escapes is shown without them' '
	as_mallory POST /repos/acme/shop/issues "{\"title\": \"pay is down \\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m now\", \"labels\": [\"sre\", \"sre:state/INCIDENT_DETECTED\"]}" &&
	sre --db third.db incident pull >new 2>err &&
	test_line_count = 1 new &&
	sre --db third.db incident show "$(cat new)" >show &&
	sre --db third.db incident list >list &&
	test_grep ! -q "$(printf "\033")" show list &&
	test_grep ! -q "$(printf "\302\233")" show list &&
	test_grep ! -q "$(printf "\007")" show list &&
	test_grep "pay is down" show
'

# ---- a tracker's state never starts an action ----

test_expect_success 'a forged DEPLOYMENT_IN_PROGRESS label is recorded, never followed or acted on' '
	id=$(cat id.quote) &&
	test "$(state "$id")" = ANALYSIS_COMPLETE &&
	forge_state 1 DEPLOYMENT_IN_PROGRESS &&
	before=$(starts quote) &&
	test_expect_code 1 sre fix --yes "$id" </dev/null >out 2>err &&
	test_grep "is DEPLOYMENT_IN_PROGRESS on the tracker" err &&
	test "$(state "$id")" = ANALYSIS_COMPLETE &&
	test "$(events "$id" "" remote-state)" = 1 &&
	test_expect_code 1 sre fix --yes "$id" </dev/null >out 2>err &&
	test "$(state "$id")" = ANALYSIS_COMPLETE &&
	test "$(events "$id" "" remote-state)" = 1 &&
	test "$(events "$id" "" action-started)" = 0 &&
	test "$(starts quote)" = "$before"
'

test_expect_success 'a ticket imported in DEPLOYMENT_IN_PROGRESS goes to a person' '
	sre --db fourth.db incident pull >new 2>err &&
	n=$(sqlite3 fourth.db "SELECT id FROM incidents WHERE remote_key = '\''1'\''") &&
	sre --db fourth.db incident show --json "$n" >show.json &&
	test "$(sqlite3 :memory: "SELECT json_extract(readfile('\''show.json'\''), '\''\$.state'\'')")" = INCIDENT_REQUIRES_HUMAN &&
	test "$(events "$n" fourth.db remote-state)" = 1
'

test_expect_success 'once the tracker is back to a state sre follows, the fix goes ahead' '
	id=$(cat id.quote) &&
	forge_state 1 ANALYSIS_COMPLETE &&
	sre fix --yes "$id" </dev/null >out 2>err &&
	test_grep "incident $id is resolved" out &&
	test "$(events "$id" "" action-started)" = 1
'

# ---- one action per incident ----

test_expect_success 'two sre fix at once on a slow start: exactly one start' '
	make_service slow start-delay=6 &&
	bin/start-slow &&
	id=$(incident_for slow) &&
	before=$(starts slow) &&
	{ (sre fix --yes "$id" </dev/null >a.out 2>a.err; echo $? >a.code) & } &&
	sleep 0.5 &&
	(sre fix --yes "$id" </dev/null >b.out 2>b.err; echo $? >b.code) &&
	wait &&
	test "$(cat a.code)" = 0 &&
	test "$(cat b.code)" = 1 &&
	test_grep "incident $id is being worked on by another run (sre fix, pid [0-9]* on" b.err &&
	test "$(starts slow)" = $((before + 1)) &&
	test "$(state "$id")" = INCIDENT_RESOLVED &&
	test "$(events "$id" "" action-started)" = 1
'

# ---- kill -9 where it matters ----

test_expect_success 'killed between the move into DEPLOYMENT_IN_PROGRESS and the action: resumed as approved' '
	make_service crash &&
	bin/start-crash &&
	id=$(incident_for crash) &&
	before=$(starts crash) &&
	test_expect_code 137 env SRE_TEST_CRASH_AT=action-started sre fix --yes "$id" </dev/null >out 2>&1 &&
	test "$(state "$id")" = DEPLOYMENT_IN_PROGRESS &&
	sqlite3 "$SRE_DB" "SELECT body FROM events WHERE incident_id = $id AND kind = '\''action-started'\''" >started &&
	test_grep "\"approval\":\"person\"" started &&
	test_grep "\"params\":" started &&
	test "$(starts crash)" = "$before" &&
	sre fix "$id" </dev/null >out 2>err &&
	test_grep "did not take effect; carrying it out" err &&
	test_grep ! "another run" err &&
	test "$(starts crash)" = $((before + 1)) &&
	test "$(state "$id")" = INCIDENT_RESOLVED
'

test_expect_success 'killed after a failed action: the next run escalates and does not run it again' '
	make_service broken fail &&
	echo 999999 >run/broken.pid &&
	id=$(incident_for broken) &&
	test_expect_code 137 env SRE_TEST_CRASH_AT=action-failed sre fix --yes "$id" </dev/null >out 2>&1 &&
	test "$(state "$id")" = DEPLOYMENT_IN_PROGRESS &&
	before=$(starts broken) &&
	test_expect_code 1 sre fix --yes "$id" </dev/null >out 2>err &&
	test_grep "needs a person: the last action failed" err &&
	test "$(starts broken)" = "$before" &&
	test "$(state "$id")" = INCIDENT_REQUIRES_HUMAN
'

test_expect_success 'killed in sre sync after GitHub accepted a write: exactly one comment after the next run' '
	id=$(cat id.quote) &&
	fake_fail "{\"method\":\"POST\",\"path\":\"/issues/1/comments$\",\"status\":500,\"times\":3}" &&
	sre incident comment "$id" "written once, whatever happens" 2>err &&
	test_grep "queued" err &&
	python3 -c "import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + \"/_fake/recover\", data=b\"\", method=\"POST\"), timeout=5).read()" "$GITHUB_URL" &&
	test_expect_code 137 env SRE_TEST_CRASH_AT=outbox-sent sre sync >out 2>&1 &&
	test "$(fake_count POST "^/repos/acme/shop/issues/1/comments$")" -ge 1 &&
	sre sync >out 2>&1 &&
	sre sync --status >status &&
	test_grep ! "pending" status &&
	python3 -c "import json, sys, urllib.request
s = json.load(urllib.request.urlopen(sys.argv[1] + \"/_fake/state\", timeout=5))
n = sum(\"written once, whatever happens\" in c[\"body\"] for c in s[\"acme/shop\"][\"comments\"][\"1\"])
assert n == 1, n" "$GITHUB_URL"
'

test_expect_success 'killed while writing an evidence bundle: loading it is a clear error' '
	bundle="$TEST_DIRECTORY/data/diagnose/oom-once" &&
	test -d "$bundle" &&
	test_expect_code 137 env SRE_TEST_CRASH_AT=evidence-writing \
		sre diagnose --evidence "$bundle" --save-evidence partial >out 2>&1 &&
	test -d partial &&
	test_expect_code 128 sre diagnose --evidence partial >out 2>err &&
	test_grep "partial is an incomplete evidence bundle" err &&
	sre diagnose --evidence "$bundle" --save-evidence whole >out 2>&1 &&
	sre diagnose --evidence whole >out 2>&1
'

# ---- fail closed on a bad confidence ----

test_expect_success 'a diagnosis with a missing, textual or out-of-range confidence is refused' '
	make_service conf &&
	bin/start-conf &&
	id=$(incident_for conf) &&
	before=$(starts conf) &&
	for c in "" "\"confidence\":\"high\"," "\"confidence\":1e999," "\"confidence\":-0.5," "\"confidence\":null,"; do
		sqlite3 "$SRE_DB" "INSERT INTO diagnoses (incident_id, at, category, root_cause, confidence, action, target, body) VALUES ($id, '\''2026-12-01T00:00:00Z'\'', '\''crash'\'', '\''x'\'', 0.9, '\''restart'\'', '\''conf'\'', '\''{\"category\":\"crash\",$c\"root_cause\":\"x\",\"mitigation\":{\"action\":\"restart\",\"target\":\"conf\",\"params\":{}}}'\'')" &&
		test_expect_code 128 sre fix --yes "$id" </dev/null >out 2>err &&
		test_grep "has no confidence from 0 to 1" err || return 1
	done &&
	test "$(starts conf)" = "$before" &&
	test "$(events "$id" "" action-started)" = 0
'

# The services' processes and the fake go with the script, not 300 s later.
for f in run/*.pid; do
	kill "$(cat "$f")" 2>/dev/null
done
stop_fake

test_done
