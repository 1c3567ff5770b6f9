#!/bin/sh
test_description='Slack notifications: opened and resolved, errors, the outbox'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the fake Slack"
fi

start_fake slack || { echo "Bail out! the fake Slack did not start"; exit 1; }
HOOK="$FAKE_URL/services/T0001/B0001/hooksecret0123456789"
SLACK_WEBHOOK_URL=$HOOK; export SLACK_WEBHOOK_URL

posts() {
	grep -c "\"POST\"" "$FAKE_LOG" 2>/dev/null || echo 0
}

test_expect_success 'setup' '
	mkdir -p .sre &&
	printf "[http]\n\tretry-base = 10ms\n\tretries = 1\n" >.sre/config
'

test_expect_success 'opening an incident posts one message, without a tracker' '
	sre incident open -s checkout -t "checkout returns 503" --severity critical >id &&
	test "$(posts)" = 1 &&
	test_grep "Incident 1 opened" "$FAKE_LOG" &&
	test_grep "checkout returns 503" "$FAKE_LOG" &&
	sre incident open -s checkout -t "checkout returns 503" --severity critical &&
	test "$(posts)" = 1
'

test_expect_success 'steps in between are quiet; escalation and resolution are told' '
	sre incident transition 1 ANALYSIS_IN_PROGRESS &&
	test "$(posts)" = 1 &&
	sre incident transition 1 INCIDENT_REQUIRES_HUMAN --reason "needs a DBA" &&
	test "$(posts)" = 2 &&
	sre incident transition 1 INCIDENT_RESOLVED &&
	test "$(posts)" = 3 &&
	tail -n 1 "$FAKE_LOG" | test_grep "resolved"
'

test_expect_success 'a 500 queues the message; sre sync sends it once' '
	fake_fail "{\"method\":\"POST\",\"path\":\"^/services/\",\"status\":500,\"body\":\"rollup_error\",\"times\":2}" &&
	sre incident open -s api -t "api down" >id2 2>err &&
	test_grep "1 write to slack queued" err &&
	sre sync &&
	sre sync --status >status &&
	test_grep ! pending status &&
	test "$(grep -c "api down" "$FAKE_LOG")" = 3 &&
	sre sync &&
	test "$(grep -c "api down" "$FAKE_LOG")" = 3
'

test_expect_success 'Slack'"'"'s plain-text error is shown in one line' '
	fake_fail "{\"method\":\"POST\",\"path\":\"^/services/\",\"status\":404,\"body\":\"channel_not_found\",\"times\":1}" &&
	test_expect_code 1 sre incident open -s db -t "replica lag" 2>err &&
	grep "^error:" err >errors &&
	test_line_count = 1 errors &&
	test_grep "slack: .*HTTP 404 channel_not_found" errors
'

test_expect_success 'the webhook URL never shows in a trace, a message or the store' '
	SRE_TRACE=1 sre incident open -s cache -t "evictions" 2>trace &&
	test_grep "sre: http: POST" trace &&
	test_grep ! hooksecret0123456789 trace &&
	sre sync --status --all >status &&
	test_grep ! hooksecret0123456789 status &&
	test_grep ! -a hooksecret0123456789 "$SRE_DB" &&
	{ test ! -e "$SRE_DB-wal" || test_grep ! -a hooksecret0123456789 "$SRE_DB-wal"; }
'

stop_fake
test_done
