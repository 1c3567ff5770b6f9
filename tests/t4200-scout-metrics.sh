#!/bin/sh
test_description='sre scout: checks that read a service'"'"'s own /metrics'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the fakes"
fi

start_fake target || { echo "Bail out! the target did not start"; exit 1; }

# serve PATH BODY...: the endpoint answers each body in turn.
serve() {
	path=$1
	shift
	python3 -c 'import json, sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/_fake/set",
    data=json.dumps({"path": sys.argv[2], "bodies": sys.argv[3:]}).encode(),
    method="POST"), timeout=5).read()' "$FAKE_URL" "$path" "$@"
}

exposition() {
	printf '# HELP quotes_total Quotes given.\n# TYPE quotes_total counter\nquotes_total %s\n' "$1"
	printf '# HELP orders_total Orders completed.\n# TYPE orders_total counter\norders_total %s\n' "$2"
	printf 'demo_requests_total{service="quote",code="200"} %s\n' "$3"
	printf 'demo_requests_total{code="500",service="quote"} %s\n' "$4"
}

test_expect_success 'setup: a conversion-rate check over a 200ms window' '
	mkdir -p .sre &&
	cat >.sre/config <<-EOT
	[check "conversion-rate"]
		metrics = $FAKE_URL/metrics
		numerator = orders_total
		denominator = quotes_total
		window = 200ms
		below = 0.1
		min-samples = 5
		service = quote-service
	EOT
'

test_expect_success 'orders that keep pace with quotes are healthy' '
	serve /metrics "$(exposition 100 30 1 0)" "$(exposition 120 36 1 0)" &&
	sre scout --json >out.json &&
	python3 -c "import json
f = [x for x in json.load(open(\"out.json\")) if x[\"source\"] == \"metrics\"]
assert len(f) == 1 and f[0][\"status\"] == \"ok\", f
assert f[0][\"summary\"] == \"conversion-rate is 0.3 (6 orders_total per 20 quotes_total in 200ms)\", f
" &&
	sre incident list >list &&
	! test -s list
'

test_expect_success 'orders that stop while quotes go on open an incident' '
	serve /metrics "$(exposition 120 36 1 0)" "$(exposition 140 36 1 0)" &&
	sre scout >out &&
	test_grep "^opened 1 quote-service: conversion-rate is 0, below 0.1 (0 orders_total per 20 quotes_total in 200ms)" out &&
	sre incident show --json 1 >show &&
	grep "\"fingerprint\":.*\"metrics/quote-service/below/conversion-rate\"" show
'

test_expect_success 'the diagnosis of a fallen business metric with nothing else wrong' '
	sre diagnose --json 1 >d.json &&
	python3 -c "import json
d = json.load(open(\"d.json\"))
assert d[\"category\"] == \"business-metric\", d[\"category\"]
assert d[\"mitigation\"][\"action\"] == \"restart\", d[\"mitigation\"]
assert d[\"mitigation\"][\"target\"] == \"quote-service\", d[\"mitigation\"]
assert d[\"confidence\"] < 0.75, d[\"confidence\"]
"
'

test_expect_success 'too few samples in the window is no verdict, not a recovery' '
	serve /metrics "$(exposition 140 36 1 0)" "$(exposition 142 36 1 0)" &&
	sre scout --json >out.json &&
	python3 -c "import json
assert not [x for x in json.load(open(\"out.json\")) if x[\"source\"] == \"metrics\"]
"
'

test_expect_success 'a gauge, with labels matched in any order, or summed without them' '
	cat >>.sre/config <<-EOT &&
	[check "errors"]
		metrics = $FAKE_URL/errors
		numerator = demo_requests_total{service=\"quote\",code=\"500\"}
		above = 3
	[check "requests"]
		metrics = $FAKE_URL/errors
		numerator = demo_requests_total
		above = 100
	EOT
	serve /metrics "$(exposition 140 50 1 0)" "$(exposition 160 56 1 0)" &&
	serve /errors "$(exposition 1 1 90 7)" &&
	sre scout --json >out.json &&
	python3 -c "import json
f = {x[\"check\"]: x for x in json.load(open(\"out.json\")) if x[\"source\"] == \"metrics\"}
assert f[\"errors\"][\"status\"] == \"failing\" and f[\"errors\"][\"evidence\"][\"value\"] == 7, f[\"errors\"]
assert f[\"requests\"][\"status\"] == \"ok\" and f[\"requests\"][\"evidence\"][\"value\"] == 97, f[\"requests\"]
"
'

test_expect_success 'an endpoint without the metric, or unreachable, says so' '
	cat >.sre/config <<-EOT &&
	[check "missing"]
		metrics = $FAKE_URL/metrics
		numerator = nosuch_total
		below = 1
	[check "gone"]
		metrics = http://127.0.0.1:9/metrics
		numerator = x
		below = 1
	EOT
	test_expect_code 128 sre scout >out 2>err &&
	test_grep "metrics: check \"missing\": $FAKE_URL/metrics has no nosuch_total" err &&
	test_grep "metrics: check \"gone\": http://127.0.0.1:9/metrics: " err
'

test_expect_success 'a check without what it judges is a configuration error' '
	cat >.sre/config <<-EOT &&
	[check "half"]
		metrics = $FAKE_URL/metrics
		below = 1
	EOT
	test_expect_code 128 sre scout >out 2>err &&
	test_grep "metrics: check \"half\" needs metrics (a URL) and numerator" err
'

stop_fake
test_done
