#!/bin/sh
test_description='sre fix --dry-run predicts the real run: one decision, the same words, the same exit status'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-service.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3"
fi

state() {
	sre incident show --json "$1" >state.json && field state.json state
}

# Record a diagnosis on incident $1 as sre diagnose does: $2 is its JSON.
diagnosis() {
	sqlite3 "$SRE_DB" "INSERT INTO diagnoses (incident_id, at, category, root_cause, confidence,
		action, target, body) VALUES ($1, '2026-11-24T03:00:00Z',
		json_extract('$2', '\$.category'), json_extract('$2', '\$.root_cause'),
		json_extract('$2', '\$.confidence'), json_extract('$2', '\$.mitigation.action'),
		json_extract('$2', '\$.mitigation.target'), '$2')"
}

# Run sre fix with and without --dry-run; keep each one's stdout, stderr and exit status.
both() {
	id=$1
	shift
	{ sre fix --dry-run "$@" "$id" </dev/null >dry.out 2>dry.err; echo $? >dry.code; } &&
	{ sre fix "$@" "$id" </dev/null >real.out 2>real.err; echo $? >real.code; }
}

test_expect_success 'setup: a process service policy allows to restart' '
	mkdir -p .sre &&
	cat >.sre/config <<-EOT &&
	[fix]
		auto = restart
		verify-interval = 100ms
		verify-timeout = 3s
	EOT
	make_service quote &&
	bin/start-quote
'

test_expect_success 'an incident with a person: the dry run says the run would refuse, and it does' '
	id=$(incident_for quote) && echo "$id" >id1 &&
	sre incident transition "$id" INCIDENT_REQUIRES_HUMAN --reason "I am on it" &&
	both "$id" &&
	echo 1 >expect && test_cmp expect dry.code && test_cmp expect real.code &&
	msg="incident $id is with a person; sre fix --yes $id hands it back" &&
	test_grep "^Approval    allowed by policy" dry.out &&
	test_grep "^Decision    would refuse: $msg\$" dry.out &&
	test_grep "^error: $msg\$" real.err &&
	! test -s real.out &&
	test "$(state "$id")" = INCIDENT_REQUIRES_HUMAN &&
	test "$(starts quote)" = 1 &&
	test_expect_code 1 sre fix --dry-run --json "$id" >dry.json &&
	test "$(field dry.json decision verdict)" = refuse &&
	test "$(field dry.json decision exit)" = 1 &&
	test "$(field dry.json decision reason)" = "$msg"
'

test_expect_success 'handed back with --yes: the dry run predicts the restart, and the run does it' '
	id=$(cat id1) &&
	sre fix --dry-run --yes "$id" >dry.out &&
	test_grep "^Decision    would act: restart quote, approved by a person (--yes)" dry.out &&
	test "$(state "$id")" = INCIDENT_REQUIRES_HUMAN &&
	sre fix --yes "$id" </dev/null >real.out 2>real.err &&
	test_grep "restart of quote: done" real.out &&
	test "$(state "$id")" = INCIDENT_RESOLVED &&
	test "$(starts quote)" = 2
'

test_expect_success 'an escalating diagnosis: the same reason and exit status on both paths' '
	sre incident open --service quote --title "quote is odd" --fingerprint http/quote/odd >id2 &&
	id=$(cat id2) &&
	sre incident transition "$id" ANALYSIS_IN_PROGRESS &&
	diagnosis "$id" "{\"category\":\"unknown\",\"root_cause\":\"nobody knows\",\"confidence\":0.2,\"mitigation\":{\"action\":\"escalate\",\"target\":null,\"params\":{}}}" &&
	sre incident transition "$id" ANALYSIS_COMPLETE &&
	both "$id" &&
	echo 1 >expect && test_cmp expect dry.code && test_cmp expect real.code &&
	msg="incident $id needs a person: the diagnosis says a person must look: nobody knows" &&
	test_grep "^Decision    would refuse: $msg\$" dry.out &&
	test_grep "$msg" real.err &&
	test "$(state "$id")" = INCIDENT_REQUIRES_HUMAN
'

test_expect_success 'a state sre fix cannot go on from: both are the same fatal error' '
	sre incident open --service quote --title "quote is gone" --fingerprint http/quote/gone >id3 &&
	id=$(cat id3) &&
	sre incident transition "$id" ANALYSIS_IN_PROGRESS &&
	diagnosis "$id" "{\"category\":\"crash\",\"root_cause\":\"gone\",\"confidence\":0.9,\"mitigation\":{\"action\":\"restart\",\"target\":\"quote\",\"params\":{}}}" &&
	sre incident transition "$id" ANALYSIS_COMPLETE &&
	sre incident transition "$id" FIX_GENERATION_IN_PROGRESS &&
	sre incident transition "$id" FIX_GENERATED &&
	sre incident transition "$id" PR_CREATION_IN_PROGRESS &&
	both "$id" &&
	echo 128 >expect && test_cmp expect dry.code && test_cmp expect real.code &&
	msg="incident $id is PR_CREATION_IN_PROGRESS: sre fix cannot go on from there" &&
	test_grep "^Decision    would stop: $msg\$" dry.out &&
	test_grep "$msg" dry.err &&
	test_grep "$msg" real.err
'

test_done
