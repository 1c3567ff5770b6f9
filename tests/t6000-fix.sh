#!/bin/sh
test_description='sre fix: policy, --dry-run, direct actions on real processes, verification, crash recovery, pull requests'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"
. "$TEST_DIRECTORY/lib-service.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the fakes"
fi

TOKEN=ghp_fix0123456789secret
GITHUB_TOKEN=$TOKEN; export GITHUB_TOKEN

start_fake target || { echo "Bail out! the target did not start"; exit 1; }
TARGET_URL=$FAKE_URL
TARGET_PID=$FAKE_PID
start_fake github --token "$TOKEN" || { echo "Bail out! the fake GitHub did not start"; exit 1; }
GITHUB_URL=$FAKE_URL

state() {
	sre incident show --json "$1" >state.json && field state.json state
}

github() {
	python3 -c 'import json, sys, urllib.request
data = None if len(sys.argv) < 4 else sys.argv[3].encode()
req = urllib.request.Request(sys.argv[1] + sys.argv[2], data=data, method="POST" if data else "GET")
out = urllib.request.urlopen(req, timeout=5).read().decode()
sys.stdout.write(out if data is None else "")' "$GITHUB_URL" "$@"
}

issue() {
	github /_fake/state >gh.json &&
	python3 -c 'import json, sys
s = json.load(open("gh.json"))["acme/shop"]
for i in s["issues"]:
    if i["number"] == int(sys.argv[1]):
        print(i["state"], " ".join(sorted(l["name"] for l in i["labels"])))' "$1"
}

test_expect_success 'setup: a tracker, quick verification, a service that runs' '
	mkdir -p .sre &&
	cat >.sre/config <<-EOT &&
	[tracker]
		kind = github
	[github]
		api = $GITHUB_URL
		repo = acme/shop
	[http]
		retry-base = 10ms
	[fix]
		verify-interval = 100ms
		verify-timeout = 3s
	# these services fail again within minutes: memory would count each
	# earlier restart as one that did not hold (t9000 tests that)
	[remember]
		hold-window = 0
	EOT
	make_service quote &&
	bin/start-quote &&
	kill -0 "$(cat run/quote.pid)"
'

test_expect_success 'a fix no policy allows waits in FIX_GENERATED, in a pipe' '
	id=$(incident_for quote) && echo $id >id1 &&
	test_expect_code 1 sre fix "$id" </dev/null >out 2>err &&
	test_grep "waits in FIX_GENERATED for a person: restart is not in fix.auto" err &&
	test "$(state "$id")" = FIX_GENERATED &&
	test "$(starts quote)" = 1
'

test_expect_success '--dry-run prints the plan and changes nothing but one event' '
	id=$(cat id1) &&
	# updated_at follows the timeline, which gains the dry-run event.
	sqlite3 "$SRE_DB" "SELECT id, fingerprint, state, category, occurrences, remote_key FROM incidents;
		SELECT * FROM diagnoses; SELECT * FROM outbox; SELECT count(*) FROM events" >before &&
	cp "$FAKE_LOG" github-before.log &&
	test_expect_code 1 sre fix --dry-run "$id" >plan.out &&
	test_grep "^Action      restart quote (process)" plan.out &&
	test_grep "^Approval    restart is not in fix.auto" plan.out &&
	test_grep "^Decision    would wait: incident $id waits in FIX_GENERATED for a person: restart is not in fix.auto; approve with: sre fix --yes $id" plan.out &&
	sre fix --dry-run --yes "$id" >plan-yes.out &&
	test_grep "^Decision    would act: restart quote, approved by a person (--yes)" plan-yes.out &&
	test_expect_code 1 sre fix --dry-run --json "$id" >plan.json &&
	test "$(field plan.json decision verdict)" = wait &&
	test "$(field plan.json decision exit)" = 1 &&
	test "$(field plan.json action)" = restart &&
	test "$(field plan.json target)" = quote &&
	test "$(field plan.json runtime)" = process &&
	test "$(field plan.json requires_approval)" = True &&
	test "$(field plan.json diff)" = null &&
	sqlite3 "$SRE_DB" "SELECT id, fingerprint, state, category, occurrences, remote_key FROM incidents;
		SELECT * FROM diagnoses; SELECT * FROM outbox; SELECT count(*) - 3 FROM events" >after &&
	test_cmp before after &&
	test "$(sqlite3 "$SRE_DB" "SELECT count(*) FROM events WHERE kind = '\''dry-run'\''")" = 3 &&
	test_cmp github-before.log "$FAKE_LOG" &&
	test "$(starts quote)" = 1
'

test_expect_success 'sre fix --yes restarts the process, verifies it and resolves the incident' '
	id=$(cat id1) &&
	sre fix --yes "$id" >out 2>err &&
	test_grep "restart of quote: done" out &&
	test_grep "incident $id is resolved" out &&
	test "$(state "$id")" = INCIDENT_RESOLVED &&
	test "$(starts quote)" = 2 &&
	kill -0 "$(cat run/quote.pid)" &&
	sre incident show --json "$id" >show.json &&
	grep "\"action-started\"" show.json &&
	grep "\"action-finished\"" show.json &&
	grep "VERIFICATION_COMPLETE" show.json &&
	issue 1 >issue &&
	test_grep "^closed .*Status: Fixed" issue
'

test_expect_success 'the hourly limit escalates instead of restarting again' '
	make_service policy &&
	bin/start-policy &&
	sre config fix.auto restart &&
	sre config fix.max-per-hour 1 &&
	id=$(incident_for policy) &&
	sre fix "$id" </dev/null >out 2>err &&
	test "$(state "$id")" = INCIDENT_RESOLVED &&
	test "$(starts policy)" = 2 &&
	id=$(incident_for policy) &&
	test_expect_code 1 sre fix "$id" </dev/null >out 2>err &&
	test_grep "1 automatic actions on policy in the last hour: fix.max-per-hour is 1" err &&
	test "$(state "$id")" = INCIDENT_REQUIRES_HUMAN &&
	test "$(starts policy)" = 2 &&
	sre config --unset fix.max-per-hour
'

test_expect_success 'a fix that does not hold is escalated with what was tried and seen' '
	make_service flaky life=1 &&
	bin/start-flaky && sleep 1.2 &&
	id=$(incident_for flaky) &&
	test_expect_code 1 sre -c scout.recover-after=10 -c fix.verify-interval=200ms \
		fix --yes "$id" </dev/null >out 2>err &&
	test_grep "restart of flaky: done" out &&
	test_grep "needs a person: restart of flaky did not fix it: flaky is not running" err &&
	test "$(state "$id")" = INCIDENT_REQUIRES_HUMAN
'

test_expect_success 'a fix killed mid-action is judged, not repeated blindly, by the next run' '
	make_service slow stop-delay=2 &&
	bin/start-slow &&
	id=$(incident_for slow) &&
	bin/start-slow &&
	{ sre fix --yes "$id" </dev/null >killed.out 2>&1 & echo $! >fix.pid; } &&
	i=0 &&
	while [ "$(sqlite3 "$SRE_DB" "SELECT count(*) FROM events WHERE incident_id = $id AND kind = '\''action-started'\''")" = 0 ] &&
	      [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done &&
	kill -9 "$(cat fix.pid)" &&
	sleep 2.5 &&
	test "$(state "$id")" = DEPLOYMENT_IN_PROGRESS &&
	sre fix --yes "$id" </dev/null >out 2>err &&
	test_grep "the interrupted restart of slow did not take effect; carrying it out" err &&
	test "$(state "$id")" = INCIDENT_RESOLVED &&
	test "$(starts slow)" = 3 &&
	sre incident show --json "$id" >show.json &&
	grep "not done (found after an interruption)" show.json
'

test_expect_success 'an incident without a diagnosis, or with an unknown one, is refused clearly' '
	sre incident open --service quote --title "quote is odd" >id &&
	test_expect_code 128 sre fix --yes "$(cat id)" 2>err &&
	test_grep "is not diagnosed yet" err &&
	test_expect_code 1 sre fix 999 2>err &&
	test_grep "no incident 999" err &&
	test_expect_code 129 sre fix &&
	test_expect_code 129 sre fix --status --yes
'

# ---- a change to the repository, as a pull request ----

# A diagnosis as sre diagnose records it, for a service whose fix is a
# manifest change: the incident, moved to ANALYSIS_COMPLETE, and its row.
diagnosed() {
	id=$(sre incident open --service checkout --title "$1" --source http \
		--fingerprint "${3:-http/checkout/down}") &&
	sre incident transition "$id" ANALYSIS_IN_PROGRESS >/dev/null &&
	sre incident transition "$id" ANALYSIS_COMPLETE >/dev/null &&
	sqlite3 "$SRE_DB" "INSERT INTO diagnoses (incident_id, at, category, root_cause, confidence,
		action, target, body) VALUES ($id, '2026-11-24T03:00:00Z',
		json_extract('$2', '$.category'), json_extract('$2', '$.root_cause'), 0.9,
		json_extract('$2', '$.mitigation.action'), 'checkout', '$2')" &&
	echo "$id"
}

OOM='{"category":"oom","root_cause":"Container checkout is killed for memory, again and again.","confidence":0.9,"mitigation":{"action":"increase-memory","target":"checkout","params":{"container":"checkout"}}}'

test_expect_success 'setup: core.repo with a manifest, a bare remote standing for GitHub' '
	git init -q --bare remote.git &&
	git init -q -b main infra &&
	mkdir -p infra/deploy &&
	cat >infra/deploy/checkout.yaml <<-\EOT &&
	# checkout: the shop'\''s payment front
	apiVersion: apps/v1
	kind: Deployment
	metadata:
	  name: checkout   # keep in step with the Service
	spec:
	  template:
	    spec:
	      containers:
	        - name: checkout
	          image: registry.example.com/shop/checkout:v2.4.0
	          resources:
	            limits:
	              memory: "256Mi"   # raised after INC-12
	              cpu: 500m
	EOT
	git -C infra add . &&
	git -C infra -c user.name=Dana -c user.email=dana@example.com commit -q -m "checkout manifest" &&
	git -C infra remote add origin "$PWD/remote.git" &&
	git -C infra push -q origin main &&
	cat >>.sre/config <<-EOT
	[core]
		repo = $PWD/infra
	[fix]
		pull-repo = acme/infra
	[service "checkout"]
		manifest = deploy/checkout.yaml
	[check "checkout"]
		url = $TARGET_URL/health
	EOT
'

test_expect_success '--dry-run shows the exact diff, keeps comments, and touches no ref' '
	id=$(diagnosed "checkout OOM" "$OOM") && echo $id >pr1 &&
	git -C infra for-each-ref >refs-before &&
	git --git-dir=remote.git for-each-ref >remote-before &&
	git -C infra status --porcelain >status-before &&
	test_expect_code 1 sre fix --dry-run "$id" >plan.out &&
	test_grep "^-              memory: \"256Mi\"   # raised after INC-12" plan.out &&
	test_grep "^+              memory: \"384Mi\"   # raised after INC-12" plan.out &&
	test_grep "^ *cpu: 500m" plan.out &&
	test_expect_code 1 sre fix --dry-run --json "$id" >plan.json &&
	test "$(field plan.json runtime)" = repository &&
	field plan.json diff >diff &&
	test_grep "^+++ b/deploy/checkout.yaml" diff &&
	git -C infra for-each-ref >refs-after &&
	git --git-dir=remote.git for-each-ref >remote-after &&
	git -C infra status --porcelain >status-after &&
	test_cmp refs-before refs-after &&
	test_cmp remote-before remote-after &&
	test_cmp status-before status-after &&
	test "$(state "$id")" = ANALYSIS_COMPLETE
'

test_expect_success 'sre fix --yes opens a pull request from its own branch' '
	id=$(cat pr1) &&
	sre fix --yes "$id" >out 2>err &&
	test_grep "pull request #[0-9]* opened" out &&
	test "$(state "$id")" = PR_CREATED &&
	git --git-dir=remote.git show "sre/incident-$id:deploy/checkout.yaml" >pushed &&
	test_grep "memory: \"384Mi\"   # raised after INC-12" pushed &&
	test_grep "^# checkout: the shop" pushed &&
	git --git-dir=remote.git log -1 --format=%B "sre/incident-$id" >msg &&
	test_grep "incident #$id" msg &&
	git -C infra status --porcelain >status-after &&
	test_cmp status-before status-after &&
	github /_fake/state >gh.json &&
	python3 -c "import json
s = json.load(open(\"gh.json\"))[\"acme/infra\"]
prs = [i for i in s[\"issues\"] if i.get(\"pull_request\")]
assert len(prs) == 1, prs
assert \"incident #$id\" in prs[0][\"body\"], prs[0][\"body\"]
"
'

test_expect_success 'sre fix --status follows the review to the merge, then verifies and cleans up' '
	id=$(cat pr1) &&
	n=$(python3 -c "import json
s = json.load(open(\"gh.json\"))[\"acme/infra\"]
print([i for i in s[\"issues\"] if i.get(\"pull_request\")][0][\"number\"])") &&
	sre fix --status "$id" >out &&
	test "$(state "$id")" = PR_CREATED &&
	github /_fake/pull "{\"repo\": \"acme/infra\", \"number\": $n, \"action\": \"request_review\", \"user\": \"dana\"}" &&
	sre fix --status >out &&
	test_grep "^$id PR_UNDER_REVIEW #$n" out &&
	github /_fake/pull "{\"repo\": \"acme/infra\", \"number\": $n, \"action\": \"review\", \"user\": \"dana\", \"state\": \"APPROVED\"}" &&
	sre fix --status "$id" >out &&
	test "$(state "$id")" = PR_APPROVED &&
	github /_fake/pull "{\"repo\": \"acme/infra\", \"number\": $n, \"action\": \"merge\"}" &&
	sre fix --status "$id" >out &&
	test_grep "incident $id is resolved" out &&
	test "$(state "$id")" = INCIDENT_RESOLVED &&
	test_must_fail git --git-dir=remote.git rev-parse --verify -q "refs/heads/sre/incident-$id" &&
	test_must_fail git -C infra rev-parse --verify -q "refs/heads/sre/incident-$id"
'

test_expect_success 'a pull request left waiting past fix.review-timeout goes to a person' '
	id=$(diagnosed "checkout OOM again" "$OOM") &&
	sre fix --yes "$id" >out &&
	test "$(state "$id")" = PR_CREATED &&
	SRE_NOW=2030-01-01T00:00:00Z test_expect_code 1 sre fix --status "$id" >out 2>err &&
	test_grep "has waited past fix.review-timeout" err &&
	test "$(state "$id")" = INCIDENT_REQUIRES_HUMAN
'

test_expect_success 'a commit the diagnosis blames is reverted on a branch, as a pull request' '
	sed -i "s/checkout:v2.4.0/checkout:v2.5.0/" infra/deploy/checkout.yaml &&
	git -C infra -c user.name=Dana -c user.email=dana@example.com commit -q -am "checkout: v2.5.0" &&
	git -C infra push -q origin main &&
	bad=$(git -C infra rev-parse HEAD) &&
	id=$(diagnosed "checkout errors after v2.5.0" \
		"{\"category\":\"deploy-regression\",\"root_cause\":\"Commit $bad broke checkout.\",\"confidence\":0.88,\"mitigation\":{\"action\":\"rollback\",\"target\":\"checkout\",\"params\":{\"commit\":\"$bad\"}}}" \
		http/checkout/errors) &&
	sre fix --dry-run --yes "$id" >plan &&
	test_grep "^Revert      $bad" plan &&
	test_grep "^-          image: registry.example.com/shop/checkout:v2.5.0" plan &&
	test_grep "^+          image: registry.example.com/shop/checkout:v2.4.0" plan &&
	test_grep "^Action      rollback checkout (pull request from sre/incident-$id into main)" plan &&
	sre fix --yes "$id" >out &&
	test "$(state "$id")" = PR_CREATED &&
	git --git-dir=remote.git show "sre/incident-$id:deploy/checkout.yaml" >reverted &&
	test_grep "checkout:v2.4.0" reverted &&
	git --git-dir=remote.git log -1 --format=%P "sre/incident-$id" >parent &&
	echo "$bad" >expect &&
	test_cmp expect parent
'

kill "$(cat run/quote.pid)" "$(cat run/policy.pid)" "$(cat run/slow.pid)" 2>/dev/null
kill "$TARGET_PID" 2>/dev/null
stop_fake
test_done
