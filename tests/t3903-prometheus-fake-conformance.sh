#!/bin/sh
test_description='the fake Prometheus answers with every key of the recorded Prometheus objects'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

# prometheus-docs-api holds the JSON examples of Prometheus's
# docs/querying/api.md (see SOURCES.md there). It has no scalar and no
# error answer: a scalar is held to the envelope of the instant vector, and
# an error to the keys api.go's Response sets on one ("data" is omitempty).
need_fixtures prometheus

# conform RECORDED PATH: every key of the recorded object (nested objects
# too, and the first item of lists) is in the fake's answer to GET PATH,
# which is left in answer.json; RECORDED is "file:python expression on the
# loaded JSON d" (no file: d is None).
conform() {
	python3 - "$FIXTURES" "$FAKE_URL" "$@" <<-\EOT
	import json, os, sys, urllib.error, urllib.request
	sys.path.insert(0, os.environ["FAKES_DIR"])
	from conform import missing
	fixtures, url, recorded, path = sys.argv[1:5]
	file, expr = recorded.split(":", 1)
	want = eval(expr, {"d": json.load(open(fixtures + "/" + file)) if file else None})
	try:
	    got = json.load(urllib.request.urlopen(url + path, timeout=10))
	except urllib.error.HTTPError as e:
	    got = json.load(e)
	json.dump(got, open("answer.json", "w"))
	lacking = missing(want, got)
	if lacking:
	    print("%s: the fake lacks %s" % (recorded, ", ".join(lacking)))
	    sys.exit(1)
	EOT
}

# A node that is down, as `up` shows it, and the alert it fires.
cat >scenario.json <<-\EOT
{"up": [{"metric": {"__name__": "up", "job": "node", "instance": "10.0.0.11:9100"}, "value": 0}],
 "scalar(sum(up))": 0,
 "alerts": [{"labels": {"alertname": "InstanceDown", "instance": "10.0.0.11:9100"},
             "annotations": {"summary": "10.0.0.11:9100 is down"}}]}
EOT
start_fake prometheus --data scenario.json || exit 1

test_expect_success 'an instant vector has the keys of a recorded one' '
	conform "prometheus-docs-api/01_instant_queries.json:d" "/api/v1/query?query=up" &&
	test_grep -q "\"resultType\": \"vector\", \"result\": \[{" answer.json
'

test_expect_success 'a scalar has the keys of the recorded envelope' '
	conform "prometheus-docs-api/01_instant_queries.json:d" "/api/v1/query?query=scalar(sum(up))" &&
	test_grep -q "\"resultType\": \"scalar\", \"result\": \[[0-9.]*, \"0\"\]" answer.json
'

test_expect_success 'an error has the keys Prometheus sets on one (none is recorded)' '
	conform ":{\"status\": 0, \"errorType\": 0, \"error\": 0}" "/api/v1/query?query=up%20syntax%20error" &&
	test_grep -q "\"status\": \"error\"" answer.json
'

test_expect_success 'an alert has the keys of a recorded one' '
	conform "prometheus-docs-api/17_alerts.json:d" /api/v1/alerts &&
	test_grep -q "\"alertname\": \"InstanceDown\"" answer.json
'

stop_fake
test_done
