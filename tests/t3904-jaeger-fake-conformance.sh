#!/bin/sh
test_description='the fake Jaeger answers with every key of the recorded Jaeger objects'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

# jaeger/otlp2jaeger-out is jaeger-query's own /api/traces answer in its
# tests, ui_01 its converter's trace; jaeger-ui's trace_statistics traces
# are /api/traces items, several captured from spring-petclinic (see
# SOURCES.md there). The api/v3 snapshots and the UI-internal traces are
# other shapes. No /api/services answer is recorded: it shares the
# envelope of /api/traces.
need_fixtures jaeger

# conform RECORDED PATH: every key of each recorded object (nested objects
# too, and the first item of lists) is in the fake's answer to GET PATH,
# which is left in answer.json; RECORDED is "glob:python expression on the
# loaded JSON d". A key in EXCUSED is reported, but may be missing.
conform() {
	python3 - "$FIXTURES" "$FAKE_URL" "$@" <<-\EOT
	import glob, json, os, sys, urllib.request
	sys.path.insert(0, os.environ["FAKES_DIR"])
	from conform import missing
	fixtures, url, recorded, path = sys.argv[1:5]
	EXCUSED = {r"\.spans\[0\]\.flags$": "omitempty; jaeger-query sends none for "
	           "OTLP-ingested spans (otlp2jaeger-out), as the fake's are"}
	got = json.load(urllib.request.urlopen(url + path, timeout=10))
	json.dump(got, open("answer.json", "w"))
	pattern, expr = recorded.split(":", 1)
	failed = 0
	for file in sorted(glob.glob(fixtures + "/" + pattern)):
	    want = eval(expr, {"d": json.load(open(file))})
	    failed |= bool(missing(want, got, EXCUSED, name=file[len(fixtures) + 1:]))
	sys.exit(failed)
	EOT
}

# checkout, called by frontend, calls payments; one trace in three fails.
cat >scenario.json <<-\EOT
{"checkout": {"count": 3, "errors": 1, "durations_ms": [120, 900], "caller": "frontend"}}
EOT
start_fake jaeger --data scenario.json || exit 1

test_expect_success 'traces come in the recorded envelope, with its trace keys' '
	conform "jaeger/otlp2jaeger-out_api_envelope.json:d" "/api/traces?service=checkout&limit=2" &&
	test_grep -q "\"processes\": {\"p1\": {\"serviceName\": \"checkout\"" answer.json
'

test_expect_success 'a trace has the keys of the recorded traces, spans and processes' '
	conform "jaeger/ui_01_single_trace.json:{\"data\": [d]}" "/api/traces?service=checkout" &&
	conform "jaeger-ui/trace_statistics/*.json:{\"data\": [d]}" "/api/traces?service=checkout" &&
	test_grep -q "\"references\": \[{\"refType\": \"CHILD_OF\"" answer.json
'

test_expect_success 'services come in the recorded envelope' '
	conform "jaeger/otlp2jaeger-out_api_envelope.json:d" /api/services &&
	test_grep -q "\"data\": \[\"checkout\", \"frontend\", \"payments\"\]" answer.json
'

stop_fake
test_done
