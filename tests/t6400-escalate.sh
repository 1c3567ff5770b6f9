#!/bin/sh
test_description='sre escalate: pages through a policy, once, on time, against a fake PagerDuty'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

KEY=0123456789abcdef0123456789abcdef
LEADS=fedcba9876543210fedcba9876543210
T0=2027-01-15T08:00:00Z

start_fake pagerduty || { echo "Bail out! the fake PagerDuty did not start"; exit 1; }

# at TIME ARGS...: sre at a given time (SRE_NOW), the routing key in the environment.
at() {
	when=$1 && shift &&
	SRE_NOW=$when PAGERDUTY_ROUTING_KEY=$KEY sre "$@"
}

# events [ACTION]: how many events the fake took (of that action).
events() {
	python3 - "$FAKE_LOG" "${1:-}" <<-\EOT
	import json, sys
	n = 0
	for line in open(sys.argv[1]):
	    r = json.loads(line)
	    if r["path"] != "/v2/enqueue":
	        continue
	    b = json.loads(r["body"])
	    if not sys.argv[2] or b.get("event_action") == sys.argv[2]:
	        n += 1
	print(n)
	EOT
}

# taken ID: the events the fake accepted for incident ID's dedup_key (its state, not its log).
taken() {
	python3 - "$FAKE_URL" "$1" <<-\EOT
	import json, sys, urllib.request
	state = json.load(urllib.request.urlopen(sys.argv[1] + "/_fake/state", timeout=5))
	n = 0
	for key, alert in (state.get("alerts") or state).items():
	    if isinstance(alert, dict) and key.endswith("-" + sys.argv[2]):
	        n += alert.get("events", 0) if isinstance(alert.get("events", 0), int) else len(alert["events"])
	print(n)
	EOT
}

# last FIELD: a field of the last event the fake took (a dotted path).
last() {
	python3 - "$FAKE_LOG" "$1" <<-\EOT
	import json, sys
	body = None
	for line in open(sys.argv[1]):
	    r = json.loads(line)
	    if r["path"] == "/v2/enqueue":
	        body = json.loads(r["body"])
	for k in sys.argv[2].split("."):
	    body = body[k]
	print(body if isinstance(body, str) else json.dumps(body))
	EOT
}

test_expect_success 'setup: a two-level policy, a key per level' '
	cat >>"$XDG_CONFIG_HOME/sre/config" <<-EOT &&
	[pagerduty]
		url = $FAKE_URL
	[pagerduty "leads"]
		routing-key-command = printf %s $LEADS
	[escalation "night"]
		level = pagerduty after 10m
		level = pagerduty:leads after 20m
		human-timeout = 24h
		on-timeout = abandon
		stale = ANALYSIS_IN_PROGRESS:2h
	[escalate]
		policy = night
	EOT
	at $T0 incident open --service checkout --title "checkout down, password=hunter2-canary" \
		--severity critical >id1
'

test_expect_success 'sre escalate: moved to a person, the first level paged once' '
	at $T0 escalate --reason "the rules found nothing" "$(cat id1)" >out &&
	grep "paged level 1 of night (pagerduty): the rules found nothing" out &&
	at $T0 incident show --json "$(cat id1)" >show.json &&
	grep "\"state\":[[:space:]]*\"INCIDENT_REQUIRES_HUMAN\"" show.json &&
	test "$(events trigger)" = 1 &&
	test "$(last routing_key)" = "$KEY" &&
	test "$(last payload.severity)" = critical &&
	test "$(last payload.component)" = checkout &&
	test "$(last dedup_key)" = "sre-$(hostname | tr -c "[:alnum:].\n-" _ | cut -c1-64)-$(cat id1)" &&
	! grep hunter2-canary "$FAKE_LOG"
'

test_expect_success 'escalating again pages nothing: --auto climbs it' '
	at $T0 escalate "$(cat id1)" >out &&
	grep "escalated already" out &&
	test "$(events trigger)" = 1
'

test_expect_success '--auto before the delay sends nothing; after it, the next level, once' '
	at 2027-01-15T08:05:00Z escalate --auto >out &&
	test "$(events trigger)" = 1 &&
	at 2027-01-15T08:11:00Z escalate --auto >out &&
	grep "paged level 2 of night (pagerduty:leads)" out &&
	test "$(events trigger)" = 2 &&
	test "$(last routing_key)" = "$LEADS" &&
	at 2027-01-15T08:12:00Z escalate --auto >out &&
	at 2027-01-15T08:13:00Z escalate --auto >out &&
	test "$(events trigger)" = 2
'

test_expect_success '--status shows the level, the page and what is due' '
	at 2027-01-15T08:13:00Z escalate --status --json >status.json &&
	python3 -c "import json
s = json.load(open(\"status.json\"))
assert len(s) == 1 and s[0][\"level\"] == 2 and s[0][\"policy\"] == \"night\", s
assert s[0][\"next\"] == \"abandon\" and s[0][\"next_at\"] == \"2027-01-16T08:00:00Z\", s" &&
	at 2027-01-15T08:13:00Z escalate --status >out &&
	grep "level 2, paged 2027-01-15T08:11:00Z, abandon at 2027-01-16T08:00:00Z" out
'

test_expect_success '--ack: who took it is kept, PagerDuty is told, the climb stops' '
	at 2027-01-15T08:20:00Z escalate --ack "$(cat id1)" --by ana >out &&
	grep "acknowledged by ana" out &&
	test "$(events acknowledge)" = 1 &&
	at 2027-01-16T09:00:00Z escalate --auto >out &&
	test "$(events trigger)" = 2 &&
	at 2027-01-15T08:21:00Z escalate --status --json "$(cat id1)" >status.json &&
	grep "\"acked_by\":[[:space:]]*\"ana\"" status.json
'

test_expect_success 'a resolved incident resolves its page' '
	at 2027-01-15T09:00:00Z incident resolve --reason "fixed by hand" "$(cat id1)" &&
	at 2027-01-15T09:01:00Z escalate --auto >out &&
	grep "resolved: resolving" out &&
	test "$(events resolve)" = 1 &&
	at 2027-01-15T09:02:00Z escalate --auto >out &&
	test "$(events resolve)" = 1
'

test_expect_success 'a state held past its stale rule pages once per entry into it' '
	at $T0 incident open --service cart --title "cart slow" >id2 &&
	at $T0 incident transition "$(cat id2)" ANALYSIS_IN_PROGRESS &&
	n=$(events trigger) &&
	at 2027-01-15T09:00:00Z escalate --auto >out &&
	test "$(events trigger)" = "$n" &&
	at 2027-01-15T10:01:00Z escalate --auto >out &&
	grep "ANALYSIS_IN_PROGRESS for more than 2h" out &&
	test "$(events trigger)" = $((n + 1)) &&
	at 2027-01-15T10:02:00Z escalate --auto >out &&
	at 2027-01-15T10:05:00Z escalate --auto >out &&
	test "$(events trigger)" = $((n + 1))
'

test_expect_success 'an incident handed to a person elsewhere goes through the same path' '
	at $T0 incident open --service search --title "search errors" >id3 &&
	at $T0 incident transition --reason "the fix was refused" "$(cat id3)" INCIDENT_REQUIRES_HUMAN &&
	n=$(events trigger) &&
	at 2027-01-15T08:01:00Z escalate --auto >out &&
	grep "incident $(cat id3): paged level 1 of night (pagerduty): the fix was refused" out &&
	test "$(events trigger)" = $((n + 1)) &&
	at 2027-01-15T08:02:00Z escalate --auto >out &&
	! grep "incident $(cat id3): paged" out
'

test_expect_success 'past human-timeout, unacknowledged: abandoned, once' '
	at 2027-01-16T08:30:00Z escalate --auto >out &&
	grep "incident $(cat id3): abandoned: nobody acknowledged it" out &&
	at 2027-01-16T08:31:00Z escalate --auto >out &&
	! grep "incident $(cat id3)" out
'

test_expect_success '--dry-run prints the pages and the timeline, sends and records nothing' '
	at $T0 incident open --service pay --title "payments fail" >id4 &&
	n=$(events) &&
	at $T0 escalate --dry-run --reason "checking" "$(cat id4)" >out &&
	grep "would page level 1 of night (pagerduty): checking" out &&
	grep "pagerduty: trigger dedup_key sre-" out &&
	grep "then level 2 after 600s unacknowledged" out &&
	test "$(events)" = "$n" &&
	at $T0 escalate --status "$(cat id4)" >out &&
	grep "was never escalated" out
'

test_expect_success 'a PagerDuty webhook acknowledgement stops the climb' '
	at $T0 escalate "$(cat id4)" >out &&
	dedup=$(last dedup_key) &&
	cat >ack.json <<-EOT &&
	{"event": {"id": "01DEN0DAUQ2", "event_type": "incident.acknowledged", "resource_type": "incident",
	  "occurred_at": "2027-01-15T08:03:00Z",
	  "agent": {"id": "PLH1HKV", "type": "user_reference", "summary": "Tenzin Dorje"},
	  "data": {"id": "Q1234ABCD", "type": "incident", "incident_key": "$dedup", "status": "acknowledged"}}}
	EOT
	at 2027-01-15T08:04:00Z escalate --pagerduty-webhook ack.json >out &&
	grep "acknowledged by Tenzin Dorje" out &&
	at 2027-01-15T08:30:00Z escalate --auto >out &&
	! grep "incident $(cat id4): paged" out
'

test_expect_success 'a webhook of another host or not v3 is not ours: said, nothing done' '
	sed "s/sre-[^\"]*\"/sre-otherhost-999\"/; s/Q1234ABCD/Q9999OTHER/" ack.json >other.json &&
	grep sre-otherhost-999 other.json &&
	test_expect_code 1 env SRE_NOW=$T0 sre escalate --pagerduty-webhook other.json >out &&
	grep "ignored" out &&
	echo "{\"messages\": []}" >v2.json &&
	test_expect_code 128 sre escalate --pagerduty-webhook - <v2.json 2>err &&
	grep "not a PagerDuty webhook v3 event" err
'

test_expect_success 'PagerDuty throttles: the page waits in the outbox, then goes once' '
	at $T0 incident open --service mail --title "mail queue stuck" >id5 &&
	fake_fail "{\"method\": \"POST\", \"path\": \"/v2/enqueue\", \"status\": 429, \"times\": 2}" &&
	SRE_NOW=$T0 PAGERDUTY_ROUTING_KEY=$KEY sre -c http.retries=0 escalate "$(cat id5)" >out 2>err &&
	grep "paged level 1" out &&
	grep "HTTP 429 after 1 attempt; kept queued" err &&
	sre sync --status >queued &&
	grep "pagerduty *trigger *pending" queued &&
	test "$(taken "$(cat id5)")" = 0 &&
	test_expect_code 1 env PAGERDUTY_ROUTING_KEY=$KEY sre -c http.retries=0 sync 2>err &&
	test "$(taken "$(cat id5)")" = 0 &&
	PAGERDUTY_ROUTING_KEY=$KEY sre -c http.retries=0 sync &&
	test "$(taken "$(cat id5)")" = 1 &&
	PAGERDUTY_ROUTING_KEY=$KEY sre sync &&
	test "$(taken "$(cat id5)")" = 1
'

test_expect_success 'the daily cap holds a storm of pages' '
	at $T0 incident open --service dns --title "dns flaps" >id6 &&
	n=$(events trigger) &&
	at $T0 -c escalate.daily-cap=1 escalate "$(cat id6)" >out &&
	at 2027-01-15T08:11:00Z -c escalate.daily-cap=1 escalate --auto >out &&
	grep "incident $(cat id6): not paged: 1 pages today already" out &&
	test "$(events trigger)" = $((n + 1))
'

test_expect_success 'a level with only its own routing key is delivered too' '
	at $T0 incident open --service queue --title "queue full" >id7 &&
	SRE_NOW=$T0 sre -c escalation.own.level=pagerduty:leads escalate --policy own "$(cat id7)" >out 2>err &&
	grep "paged level 1 of own (pagerduty:leads)" out &&
	test "$(taken "$(cat id7)")" = 1 &&
	test "$(last routing_key)" = "$LEADS"
'

test_expect_success 'a secret in the reason is kept and sent nowhere' '
	at $T0 incident open --service vault --title "vault sealed" >id8 &&
	at $T0 escalate --reason "login failed with password=reason-canary-77" "$(cat id8)" >out &&
	grep "password=.redacted:password" out &&
	at $T0 escalate --status --json "$(cat id8)" >status.json &&
	at $T0 incident show --json "$(cat id8)" >show.json &&
	! grep reason-canary-77 out status.json show.json "$FAKE_LOG" &&
	sqlite3 "$SRE_DB" .dump >dump &&
	! grep reason-canary-77 dump
'

test_expect_success 'a webhook too large or from a hostile agent: refused, or cleaned' '
	python3 -c "print(\"{\\\"event\\\": \\\"\" + \"x\" * 2000000 + \"\\\"}\")" >big.json &&
	test_expect_code 128 sre escalate --pagerduty-webhook big.json 2>err &&
	grep "cannot read big.json" err &&
	at $T0 incident open --service web --title "web down" >id9 &&
	at $T0 escalate "$(cat id9)" >out &&
	dedup=$(last dedup_key) &&
	printf "%s" "{\"event\": {\"id\": \"E1\", \"event_type\": \"incident.acknowledged\",
	  \"resource_type\": \"incident\", \"occurred_at\": \"2027-01-15T08:03:00Z\",
	  \"agent\": {\"summary\": \"eve\\u001b]0;pwned\\u0007\"},
	  \"data\": {\"id\": \"Q5555\", \"incident_key\": \"$dedup\"}}}" >evil.json &&
	at $T0 escalate --pagerduty-webhook evil.json >out &&
	grep "acknowledged by eve" out &&
	! grep "$(printf "\033")" out
'

# opened ID: the PagerDuty incidents (alerts) the fake opened under incident ID's dedup_key.
opened() {
	python3 - "$FAKE_URL" "$1" <<-\EOT
	import json, sys, urllib.request
	state = json.load(urllib.request.urlopen(sys.argv[1] + "/_fake/state", timeout=5))
	print(sum(a.get("alerts", 0) for k, a in (state.get("alerts") or state).items()
	          if isinstance(a, dict) and k.endswith("-" + sys.argv[2])))
	EOT
}

test_expect_success 'killed between sending a page and recording it: sent again, one PagerDuty incident' '
	at $T0 incident open --service ledger --title "ledger down" --severity high >idk &&
	n=$(events trigger) &&
	test_expect_code 137 env SRE_TEST_CRASH_AT=outbox-sent SRE_NOW=$T0 PAGERDUTY_ROUTING_KEY=$KEY \
		sre escalate "$(cat idk)" >out 2>&1 &&
	test "$(events trigger)" = $((n + 1)) &&
	sre sync --status >queued &&
	grep "pagerduty *trigger *pending" queued &&
	at $T0 escalate "$(cat idk)" >out &&
	grep "escalated already" out &&
	test "$(events trigger)" = $((n + 2)) &&
	test "$(opened "$(cat idk)")" = 1 &&
	at 2027-01-15T08:05:00Z escalate --auto >out &&
	PAGERDUTY_ROUTING_KEY=$KEY sre sync &&
	test "$(events trigger)" = $((n + 2)) &&
	sre sync --status >queued &&
	! grep "pagerduty *trigger *pending" queued
'

test_expect_success 'usage: one mode at a time, an incident where one is wanted' '
	test_expect_code 129 sre escalate 2>err &&
	test_expect_code 129 sre escalate --auto 1 2>err &&
	test_expect_code 129 sre escalate --auto --status 2>err &&
	test_expect_code 129 sre escalate --by ana 1 2>err &&
	test_expect_code 129 sre escalate --json 1 2>err &&
	test_expect_code 1 sre escalate 4242 2>err &&
	grep "no incident 4242" err
'

test_expect_success 'a policy that does not parse is said, with its key' '
	test_expect_code 128 sre -c escalation.bad.level="pagerduty after soon" escalate --policy bad \
		"$(cat id6)" 2>err &&
	grep "escalation.bad.level = .pagerduty after soon.: \"after\" takes one duration" err &&
	test_expect_code 128 sre -c escalation.bad.level="sms:+1555" escalate --policy bad "$(cat id6)" 2>err &&
	grep "is no target" err
'

stop_fake
test_done
