#!/bin/sh
test_description='sre scout reads a real Alertmanager'"'"'s API, silences honoured'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-prometheus.sh"

# One Alertmanager for the whole script (tests/lib-prometheus.sh). The
# tests push alerts to it as Prometheus would (POST /api/v2/alerts) and
# silence them as a person would (POST /api/v2/silences); sre reads GET
# /api/v2/alerts.

command -v python3 >/dev/null 2>&1 || skip_all "no python3 to talk to alertmanager"
start_alertmanager

# am METHOD PATH [JSON]: a request to Alertmanager's API; the answer on stdout.
am() {
	python3 -c 'import sys, urllib.error, urllib.request
data = sys.argv[3].encode() if len(sys.argv) > 3 else None
req = urllib.request.Request(sys.argv[1], data=data, method=sys.argv[2],
                             headers={"Content-Type": "application/json"})
try:
    print(urllib.request.urlopen(req, timeout=5).read().decode())
except urllib.error.HTTPError as e:
    sys.exit("am: %s %s: %s %s" % (sys.argv[2], sys.argv[1], e.code, e.read().decode()))' \
		"$AM_URL$2" "$1" ${3+"$3"}
}

# push NAME SERVICE [ENDS]: an alert as Prometheus sends it, still firing
# (or ended at ENDS, an RFC 3339 time).
push() {
	am POST /api/v2/alerts "[{\"labels\": {\"alertname\": \"$1\", \"service\": \"$2\",
		\"severity\": \"critical\"},
		\"annotations\": {\"summary\": \"$1 on $2\"},
		\"generatorURL\": \"http://prometheus.example/graph\"
		${3:+, \"endsAt\": \"$3\"}}]" >/dev/null
}

# am_wait PYEXPR: poll GET /api/v2/alerts (all of them) until PYEXPR holds
# of `alerts`, for up to 20 s.
am_wait() {
	python3 - "$AM_URL" "$1" <<-\EOT
	import json, sys, time, urllib.request
	deadline = time.monotonic() + 20
	while time.monotonic() < deadline:
	    alerts = json.load(urllib.request.urlopen(sys.argv[1] + "/api/v2/alerts", timeout=5))
	    if eval(sys.argv[2]):
	        sys.exit(0)
	    time.sleep(0.2)
	print("am_wait: %s never held of %s" % (sys.argv[2], alerts), file=sys.stderr)
	sys.exit(1)
	EOT
}

test_expect_success 'setup: [alertmanager] url' '
	mkdir -p .sre &&
	printf "[alertmanager]\n\turl = %s/\n" "$AM_URL" >.sre/config
'

test_expect_success 'no alert: nothing opens, and the source was read' '
	sre scout --json >out.json &&
	test "$(cat out.json)" = "[]" &&
	sre incident list >list &&
	! test -s list
'

test_expect_success 'an alert that pages opens an incident on the first run' '
	push CheckoutDown checkout &&
	am_wait "[a for a in alerts if a[\"labels\"][\"alertname\"] == \"CheckoutDown\" and a[\"status\"][\"state\"] == \"active\"]" &&
	sre scout >out &&
	test_grep "^opened 1 checkout: CheckoutDown: CheckoutDown on checkout" out &&
	sre incident show --json 1 >show &&
	test "$(field show source)" = alertmanager &&
	test "$(field show severity)" = critical &&
	fp=$(am GET /api/v2/alerts | python3 -c "import json, sys
print([a for a in json.load(sys.stdin) if a[\"labels\"][\"alertname\"] == \"CheckoutDown\"][0][\"fingerprint\"])") &&
	test "$(field show fingerprint)" = "alertmanager/$fp"
'

test_expect_success 'a silenced alert opens nothing' '
	am POST /api/v2/silences "{\"matchers\": [{\"name\": \"alertname\", \"value\": \"PaymentsSlow\",
		\"isRegex\": false, \"isEqual\": true}],
		\"startsAt\": \"2020-01-01T00:00:00Z\", \"endsAt\": \"2099-01-01T00:00:00Z\",
		\"createdBy\": \"tester\", \"comment\": \"maintenance\"}" >silence &&
	grep silenceID silence &&
	push PaymentsSlow payments &&
	am_wait "[a for a in alerts if a[\"labels\"][\"alertname\"] == \"PaymentsSlow\" and a[\"status\"][\"silencedBy\"]]" &&
	sre scout --json >out.json &&
	python3 -c "import json
f = json.load(open(\"out.json\"))
assert [x[\"check\"] for x in f] == [\"CheckoutDown\"], f
" &&
	sre incident list >list &&
	test_line_count = 2 list &&
	test_grep "^ *1 .*CheckoutDown" list &&
	test_grep ! -i payments list
'

test_expect_success 'an alert that ends resolves its incident' '
	push CheckoutDown checkout 2020-01-01T00:00:00Z &&
	am_wait "not [a for a in alerts if a[\"labels\"][\"alertname\"] == \"CheckoutDown\" and a[\"status\"][\"state\"] == \"active\"]" &&
	sre scout >out1 &&
	sre scout >out2 &&
	test_grep "^recovered 1 " out1 out2 &&
	sre incident list >list &&
	! test -s list
'

test_expect_success 'an Alertmanager that is down is one error line, and scout fails' '
	test_expect_code 128 sre -c alertmanager.url=http://127.0.0.1:9 scout >out 2>err &&
	test_grep "^error: alertmanager: http://127.0.0.1:9: " err
'

test_expect_success 'a password in the URL is not in the error line' '
	test_expect_code 128 sre -c alertmanager.url=http://bob:hunter2@127.0.0.1:9/ scout >out 2>err &&
	test_grep "^error: alertmanager: http://.*redacted:userinfo.*@127.0.0.1:9/: " err &&
	test_grep ! hunter2 err
'

test_expect_success 'an answer that is not the API says so' '
	test_expect_code 128 sre -c alertmanager.url="$AM_URL/-/healthy#" scout >out 2>err &&
	test_grep "^error: alertmanager: .*: HTTP 404\|not the JSON of Alertmanager" err
'

test_expect_success 'doctor asks the Alertmanager API, and says when it is down' '
	sre doctor >out &&
	test_grep "^alertmanager  *ok  *[0-9]*ms  .*the API answers: [0-9]* alerts* paging" out &&
	test_expect_code 1 sre -c alertmanager.url=http://127.0.0.1:9 doctor >out &&
	test_grep "^alertmanager  *broken " out
'

stop_engines
test_done
