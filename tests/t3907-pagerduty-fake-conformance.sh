#!/bin/sh
test_description='the fake PagerDuty takes and refuses events as our notes on the Events API v2 say, and its webhooks have the keys of recorded v3 ones, which lib/pagerduty.c reads'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

# EVENTS_V2_NOTES.md (our notes on PagerDuty's rules, with test payloads
# of our own) and zulip-webhooks-v3/ (webhook v3 payloads captured from a
# real PagerDuty account, Apache-2.0).
need_fixtures pagerduty

# test-pagerduty --webhook FILE reads a body with pagerduty_webhook_read():
# the unit tests' build (make test's SRE_UNIT_DIR), else the release one.
READER="${SRE_UNIT_DIR:-$SRE_BUILD_DIR/build/release/tests/unit}/test-pagerduty"

start_fake pagerduty || exit 1

# post BODY: POST it to /v2/enqueue; prints the status, then the answer.
post() {
	python3 - "$FAKE_URL" "$1" <<-\EOT
	import sys, urllib.error, urllib.request
	req = urllib.request.Request(sys.argv[1] + "/v2/enqueue", data=sys.argv[2].encode(),
	                             headers={"Content-Type": "application/json"})
	try:
	    r = urllib.request.urlopen(req, timeout=10)
	except urllib.error.HTTPError as e:
	    r = e
	print(r.status)
	print(r.read().decode())
	EOT
}

test_expect_success 'the test payloads of the notes are taken, answered as the notes show' '
	python3 - "$FIXTURES/EVENTS_V2_NOTES.md" "$FAKE_URL" <<-\EOT
	import json, os, re, sys, urllib.request
	sys.path.insert(0, os.environ["FAKES_DIR"])
	from conform import missing
	notes = open(sys.argv[1]).read()
	blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", notes, re.S)]
	assert len(blocks) == 2, "the notes have a trigger and a resolve"
	want = json.loads(re.search(r"202: `(\{.*?\})`", notes).group(1))
	for ev in blocks:
	    req = urllib.request.Request(sys.argv[2] + "/v2/enqueue", data=json.dumps(ev).encode(),
	                                 headers={"Content-Type": "application/json"})
	    r = urllib.request.urlopen(req, timeout=10)
	    got = json.load(r)
	    assert r.status == 202, r.status
	    assert not missing(want, got, name="202"), got
	    assert got["status"] == "success" and got["dedup_key"] == ev["dedup_key"], got
	state = json.load(urllib.request.urlopen(sys.argv[2] + "/_fake/state", timeout=10))
	assert state["sre/web-1/disk-full"]["status"] == "resolved", state
	EOT
'

# refused WHAT BODY: a 400 with the keys of the notes' error answer and an
# error naming WHAT.
refused() {
	post "$2" >answer &&
	python3 - "$FIXTURES/EVENTS_V2_NOTES.md" "$1" answer <<-\EOT
	import json, os, re, sys
	sys.path.insert(0, os.environ["FAKES_DIR"])
	from conform import missing
	notes = open(sys.argv[1]).read()
	# The notes write the error list as ["<detail>", ...]: one item stands for it.
	want = json.loads(re.search(r"400: `(\{.*?\})`", notes).group(1).replace(", ...]", "]"))
	status, body = open(sys.argv[3]).read().split("\n", 1)
	got = json.loads(body)
	assert status == "400", status
	assert not missing(want, got, name="400"), got
	assert isinstance(got["errors"], list) and any(sys.argv[2] in e for e in got["errors"]), got
	EOT
}

K=0123456789abcdef0123456789abcdef
P='"payload":{"summary":"s","source":"web-1","severity":"critical"}'

test_expect_success 'a routing key that is not 32 characters is refused' '
	refused routing_key "{\"routing_key\":\"${K}0\",\"event_action\":\"trigger\",$P}" &&
	refused routing_key "{\"event_action\":\"trigger\",$P}"
'

test_expect_success 'an action that is not trigger, acknowledge or resolve is refused' '
	refused event_action "{\"routing_key\":\"$K\",\"event_action\":\"page\",$P}"
'

test_expect_success 'acknowledge and resolve need a dedup_key of at most 255 characters' '
	refused dedup_key "{\"routing_key\":\"$K\",\"event_action\":\"acknowledge\"}" &&
	refused dedup_key "{\"routing_key\":\"$K\",\"event_action\":\"resolve\"}" &&
	long=$(printf "%0256d" 0) &&
	refused dedup_key "{\"routing_key\":\"$K\",\"event_action\":\"trigger\",\"dedup_key\":\"$long\",$P}"
'

test_expect_success 'a trigger needs a payload: summary of at most 1024, source, severity' '
	refused payload "{\"routing_key\":\"$K\",\"event_action\":\"trigger\"}" &&
	s=$(printf "%01025d" 0) &&
	refused summary "{\"routing_key\":\"$K\",\"event_action\":\"trigger\",\"payload\":{\"summary\":\"$s\",\"source\":\"h\",\"severity\":\"info\"}}" &&
	refused source "{\"routing_key\":\"$K\",\"event_action\":\"trigger\",\"payload\":{\"summary\":\"s\",\"severity\":\"info\"}}" &&
	refused severity "{\"routing_key\":\"$K\",\"event_action\":\"trigger\",\"payload\":{\"summary\":\"s\",\"source\":\"h\",\"severity\":\"high\"}}" &&
	refused "Malformed JSON" "not json"
'

test_expect_success 'a trigger without a dedup_key gets one; 1024 characters are taken' '
	s=$(printf "%01024d" 0) &&
	post "{\"routing_key\":\"$K\",\"event_action\":\"trigger\",\"payload\":{\"summary\":\"$s\",\"source\":\"h\",\"severity\":\"info\"}}" >answer &&
	head -n 1 answer >status &&
	echo 202 >expect &&
	test_cmp expect status &&
	grep "\"dedup_key\": \"[0-9a-f]\{32\}\"" answer
'

test_expect_success 'an acknowledge with another routing key is answered 202 and dropped' '
	post "{\"routing_key\":\"$K\",\"event_action\":\"trigger\",\"dedup_key\":\"other-key\",$P}" >/dev/null &&
	post "{\"routing_key\":\"ffffffffffffffffffffffffffffffff\",\"event_action\":\"acknowledge\",\"dedup_key\":\"other-key\"}" >answer &&
	head -n 1 answer >status &&
	echo 202 >expect &&
	test_cmp expect status &&
	python3 - "$FAKE_URL" <<-\EOT
	import json, sys, urllib.request
	s = json.load(urllib.request.urlopen(sys.argv[1] + "/_fake/state", timeout=10))
	assert s["other-key"]["status"] == "open", s
	EOT
'

test_expect_success 'the fake throttles on demand' '
	fake_fail "{\"path\":\"^/v2/enqueue$\",\"status\":429,\"headers\":{\"Retry-After\":\"1\"},\"times\":1}" &&
	post "{\"routing_key\":\"$K\",\"event_action\":\"resolve\",\"dedup_key\":\"x\"}" >answer &&
	head -n 1 answer >status &&
	echo 429 >expect &&
	test_cmp expect status
'

test_expect_success 'its webhooks have the keys of the recorded v3 ones' '
	for t in acknowledged resolved escalated triggered
	do
		python3 - "$FIXTURES/zulip-webhooks-v3/incident.$t.json" "$FAKE_URL" "incident.$t" <<-\EOT || return 1
		import json, os, sys, urllib.request
		sys.path.insert(0, os.environ["FAKES_DIR"])
		from conform import missing
		want = json.load(open(sys.argv[1]))
		body = json.dumps({"dedup_key": "other-key", "event_type": sys.argv[3], "by": "Alice"})
		got = json.load(urllib.request.urlopen(urllib.request.Request(
		    sys.argv[2] + "/_fake/webhook", data=body.encode()), timeout=10))
		sys.exit(bool(missing(want, got, name=sys.argv[3])))
		EOT
	done
'

if ! test -x "$READER"
then
	test_skip 'the recorded webhooks are read by pagerduty_webhook_read()' \
		"no $READER: make build/release/tests/unit/test-pagerduty"
	stop_fake
	test_done
fi

# read_fixture NAME: what pagerduty_webhook_read() finds in a recorded payload.
read_fixture() {
	"$READER" --webhook "$FIXTURES/zulip-webhooks-v3/incident.$1.json"
}

test_expect_success 'the recorded acknowledgement is read: who, when, no incident_key' '
	read_fixture acknowledged >actual &&
	cat >expect <<-\EOF &&
	type=incident.acknowledged
	dedup_key=(none)
	by=PIG 208
	at=2021-06-04T13:55:30.394Z
	pd_id=PQ1K5C8
	EOF
	test_cmp expect actual
'

test_expect_success 'the recorded escalation is read with its incident_key' '
	read_fixture escalated >actual &&
	cat >expect <<-\EOF &&
	type=incident.escalated
	dedup_key=d387d7bd2e0a4294a5307339dfe1669a
	by=Harsh Santwani
	at=2026-04-01T02:08:04.642Z
	pd_id=Q3B15VLMF3ASBD
	EOF
	test_cmp expect actual
'

test_expect_success 'the recorded resolution and trigger are read' '
	read_fixture resolved >actual &&
	grep "^type=incident.resolved$" actual &&
	grep "^pd_id=PCPZE64$" actual &&
	read_fixture triggered >actual &&
	grep "^type=incident.triggered$" actual &&
	grep "^pd_id=PFQZPSY$" actual
'

test_expect_success 'a recorded payload cut short is refused, not half read' '
	head -c 200 "$FIXTURES/zulip-webhooks-v3/incident.acknowledged.json" >cut.json &&
	test_must_fail "$READER" --webhook cut.json >actual &&
	grep "^error: the webhook body is not JSON$" actual
'

stop_fake
test_done
