#!/bin/sh
test_description='sre scout and diagnose against a real Prometheus scraping an exporter'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"
. "$TEST_DIRECTORY/lib-prometheus.sh"

# One Prometheus for the whole script, scraping every second an exporter
# (tests/fakes/exporter.py) whose error rate the tests raise and lower,
# and evaluating every second an alerting rule over the same ratio. Every
# wait below is a bounded poll: of Prometheus until it has seen the
# change, then of sre scout, which asks the same Prometheus.

need_command python3 "no python3 for the exporter"
test -x "$PROM_BIN" || skip_all "no prometheus ($PROM_BIN): make deps installs it"

start_fake exporter || { echo "Bail out! the exporter did not start"; exit 1; }
EXPORTER_URL=$FAKE_URL
EXPORTER_PID=$FAKE_PID
RATIO='sum(rate(http_requests_total{code="500"}[5s])) / sum(rate(http_requests_total[5s]))'
cat >rules.yml <<EOT || exit 1
groups:
  - name: sre-tests
    interval: 1s
    rules:
      - alert: HighErrorRate
        expr: $RATIO > 0.2
        for: 0s
        labels:
          severity: critical
          service: checkout
        annotations:
          summary: more than 20% of checkout's requests fail
EOT
prom_scrape exporter "${EXPORTER_URL#http://}"
start_prometheus "$TRASH_DIRECTORY/rules.yml"

# rates OK ERRORS: the exporter answers that many requests a second.
rates() {
	python3 -c 'import json, sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/_fake/set",
    data=json.dumps({"ok": float(sys.argv[2]), "errors": float(sys.argv[3])}).encode(),
    method="POST"), timeout=5).read()' "$EXPORTER_URL" "$1" "$2"
}

# scout_until PATTERN [ARGS]: run sre scout ARGS (a run every half
# second, up to 40) until its output matches PATTERN.
scout_until() {
	pattern=$1
	shift
	n=0
	while [ $n -lt 40 ]; do
		sre scout "$@" >scout.out 2>scout.err || return 1
		cat scout.out >>scout.all
		grep -q "$pattern" scout.out && return 0
		n=$((n + 1))
		sleep 0.5
	done
	echo "scout_until: no '$pattern' in $n runs:" >&2
	cat scout.all scout.err >&2
	return 1
}

test_expect_success 'setup: Prometheus scrapes the exporter; a ratio check over it' '
	prom_wait_query "sum(rate(http_requests_total[5s]))" "v is not None and v > 0" 30 &&
	mkdir -p .sre &&
	cat >.sre/config <<-EOT &&
	[prometheus]
		url = $PROM_URL
	[check "error-ratio"]
		prometheus = sum(rate(http_requests_total{code=\\"500\\"}[5s])) / sum(rate(http_requests_total[5s]))
		above = 0.2
		service = checkout
	EOT
	sre config get check.error-ratio.prometheus >query 2>err &&
	echo "$RATIO" >expect &&
	test_cmp expect query &&
	! test -s err
'

test_expect_success 'a low error rate is healthy' '
	sre scout --json >out.json &&
	python3 -c "import json
f = [x for x in json.load(open(\"out.json\")) if x[\"source\"] == \"prometheus\"]
assert len(f) == 1 and f[0][\"status\"] == \"ok\", f
" &&
	sre incident list >list &&
	! test -s list
'

test_expect_success 'the error rate climbs: the ratio check opens an incident' '
	rates 100 100 &&
	prom_wait_query "$RATIO" "v is not None and v > 0.3" 30 &&
	scout_until "^opened 1 checkout: " &&
	sre incident show --json 1 >show &&
	test "$(field show state)" = INCIDENT_DETECTED &&
	test "$(field show source)" = prometheus
'

test_expect_success 'the firing alerting rule is read by sre scout --alerts' '
	prom_wait_query "ALERTS{alertname=\"HighErrorRate\",alertstate=\"firing\"}" "v == 1" 30 &&
	sre scout --alerts --json >alerts.json &&
	python3 -c "import json
f = [x for x in json.load(open(\"alerts.json\")) if \"/alert/\" in x[\"fingerprint\"]]
assert len(f) == 1, f
assert f[0][\"fingerprint\"] == \"prometheus/checkout/alert/HighErrorRate\", f
assert f[0][\"status\"] == \"failing\" and f[0][\"severity\"] == \"critical\", f
assert \"more than 20% of checkout\" in f[0][\"summary\"], f
" &&
	sre incident show --json 2 >show &&
	test "$(field show fingerprint)" = prometheus/checkout/alert/HighErrorRate &&
	test "$(field show severity)" = critical
'

test_expect_success 'diagnose reads a real query_range answer into the evidence' '
	sre diagnose --save-evidence bundle --json 1 >d.json &&
	test -f bundle/prometheus-error-ratio.json &&
	python3 -c "import json
a = json.load(open(\"bundle/prometheus-error-ratio.json\"))
assert a[\"status\"] == \"success\", a
assert a[\"data\"][\"resultType\"] == \"matrix\", a
points = a[\"data\"][\"result\"][0][\"values\"]
assert any(float(v) > 0.2 for t, v in points), points
" &&
	sre diagnose --evidence bundle --json >replayed.json &&
	test "$(field d.json category)" = "$(field replayed.json category)"
'

test_expect_success 'the error rate falls: the incidents resolve' '
	rates 100 0 &&
	prom_wait_query "$RATIO" "v is not None and v < 0.1" 30 &&
	prom_wait_query "ALERTS{alertname=\"HighErrorRate\",alertstate=\"firing\"}" "v is None" 30 &&
	scout_until "^recovered 1 " --alerts &&
	grep "^recovered 2 " scout.all &&
	sre incident list >list &&
	! test -s list
'

stop_engines
stop_fake
test_done
