/*
 * test-collect-jaeger.c: unit tests of lib/collect-jaeger.c, the Jaeger
 * collector of `sre diagnose`, against tests/fakes/jaeger.py, printing
 * TAP.
 *
 * The fake generates a service's traces over the window it is asked for
 * (start to end, limit of them) and logs every request: the tests check
 * that the answer is kept whole, as Jaeger wrote it, what was asked (the
 * window before the collector's now, diagnose.lookback and jaeger.limit),
 * each failure's line, and that a hanging Jaeger is left at the deadline.
 */
#include "collect-test.h"

static struct fake jaeger;
static struct collect_test run;
static time_t now;

#define NOW "2026-11-24T05:07:00Z"
#define SCENARIO "{\"checkout\": {\"count\": 3, \"errors\": 1, \"durations_ms\": [120, 900]," \
	" \"caller\": \"frontend\"}, \"search\": {\"count\": 300}}"

static void set_config(const char *text)
{
	set_source_config(&run.cfg, "jaeger", jaeger.url, text);
}

/* Collect service afresh into run.ev and run.why: the collector's return. */
static int collect(const char *service)
{
	return collect_test_run(&run, collect_jaeger, service, NULL);
}

/* Does run.cfg configure the collector for run.o? */
static int configured(void)
{
	return collect_jaeger_configured(&run.cfg, &run.o);
}

/* A parameter of the last search since mark, as a number (-1: absent). */
static long long last_param(int mark, const char *name)
{
	cJSON *r = fake_last(&jaeger, mark, "GET", "^/api/traces$");
	char *v = request_param(r, name);
	long long n = v ? atoll(v) : -1;

	free(v);
	cJSON_Delete(r);
	return n;
}

static void test_configured(void)
{
	run.o.service = "checkout";
	config_clear(&run.cfg);
	is_int(configured(), 0, "no jaeger.url: not configured");
	set_config("");
	is_int(configured(), 1, "jaeger.url: configured, with no service limits needed");
	set_config_text(&run.cfg, "[jaeger]\n\turl =\n");
	is_int(configured(), 0, "an empty jaeger.url: not configured");
}

static void test_kept_whole(void)
{
	int mark = fake_log_mark(&jaeger);
	cJSON *r, *direct = NULL, *trace, *span;
	char *path, *lookback, *service;
	int within = 1;

	set_config("");
	is_int(collect("checkout"), 0, "the service's traces: 0");
	is_str(run.why.buf, "", "nothing in why");
	is_int(fake_count(&jaeger, mark, "GET", "^/api/traces$"), 1, "one search");
	r = fake_last(&jaeger, mark, "GET", "^/api/traces$");
	service = request_param(r, "service");
	is_str(service, "checkout", "for the service");
	free(service);
	is_int(last_param(mark, "end"), (long long)now * 1000000, "end: now, in microseconds");
	is_int(last_param(mark, "start"), ((long long)now - 3600) * 1000000,
	       "start: diagnose.lookback's default, an hour before");
	lookback = request_param(r, "lookback");
	is_str(lookback, "1h", "lookback=1h, as the UI sends it");
	free(lookback);
	is_int(last_param(mark, "limit"), 200, "limit: jaeger.limit's default, 200");

	/* The same search again, from the test: the answer must be the same. */
	path = xstrfmt("/api/traces?%s",
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "query")));
	fake_call(&jaeger, "GET", path, NULL, &direct);
	ok(direct && cJSON_Compare(run.ev.traces, direct, 1),
	   "the answer kept whole, as Jaeger wrote it");
	ok(cJSON_GetObjectItemCaseSensitive(run.ev.traces, "total") &&
	   cJSON_GetObjectItemCaseSensitive(run.ev.traces, "errors"), "total and errors included");
	is_int(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(run.ev.traces, "data")), 3,
	       "the service's three traces");
	cJSON_ArrayForEach(trace, cJSON_GetObjectItemCaseSensitive(run.ev.traces, "data"))
		cJSON_ArrayForEach(span, cJSON_GetObjectItemCaseSensitive(trace, "spans")) {
			double t = cJSON_GetNumberValue(
				cJSON_GetObjectItemCaseSensitive(span, "startTime"));
			within &= t >= ((double)now - 3600) * 1e6 - 1e7 && t <= (double)now * 1e6;
		}
	ok(within, "the traces of that window (the fake honours start and end)");
	ok(!run.ev.docker && !run.ev.prometheus_nr && !run.ev.logs_nr, "nothing else filled");
	free(path);
	cJSON_Delete(direct);
	cJSON_Delete(r);
}

static void test_options(void)
{
	int mark = fake_log_mark(&jaeger);

	set_config("\tlimit = 25\n[diagnose]\n\tlookback = 30m\n");
	is_int(collect("search"), 0, "with diagnose.lookback and jaeger.limit: 0");
	is_int(last_param(mark, "limit"), 25, "limit=25");
	is_int(last_param(mark, "start"), ((long long)now - 1800) * 1000000,
	       "start: 30 minutes before now");
	is_int(last_param(mark, "end"), (long long)now * 1000000, "end: now");
	is_int(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(run.ev.traces, "data")), 25,
	       "25 of search's 300 traces (the fake honours limit)");

	is_int(collect("unknown"), 0, "a service Jaeger has no traces of: 0");
	ok(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(run.ev.traces, "data")) &&
	   !cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(run.ev.traces, "data")),
	   "its answer kept: no traces");

	set_config("[diagnose]\n\tlookback = soon\n");
	is_int(collect("checkout"), -1, "a bad diagnose.lookback: -1");
	is_str(run.why.buf, "jaeger: diagnose.lookback is 'soon', not a duration (1h)", "said");
	set_config("\tlimit = -3\n");
	is_int(collect("checkout"), -1, "a bad jaeger.limit: -1");
	is_str(run.why.buf, "jaeger: jaeger.limit is '-3', not a positive number", "said");
}

static void test_errors(void)
{
	char *url = xstrfmt("http://127.0.0.1:%d", closed_port()), *want;

	set_source_config(&run.cfg, "jaeger", url, "");
	is_int(collect("checkout"), -1, "Jaeger unreachable: -1");
	want = xstrfmt("jaeger: %s: ", url);
	ok(starts_with(run.why.buf, want) && run.why.len > strlen(want),
	   "the line names jaeger, its URL, why");
	ok(!strchr(run.why.buf, '\n'), "one line");
	diag_text("why", run.why.buf);
	ok(!run.ev.traces, "no traces");
	free(want);

	set_config("");
	want = xstrfmt("jaeger: %s: HTTP 500", jaeger.url);
	fake_fail(&jaeger, "{\"path\": \"^/api/traces$\", \"status\": 500, \"body\": \"oops\"}");
	is_int(collect("checkout"), -1, "a 500 (no retries): -1");
	is_str(run.why.buf, want, "HTTP 500");
	free(want);

	fake_fail(&jaeger, "{\"path\": \"^/api/traces$\", \"status\": 500, \"body\": {\"data\": null,"
		  " \"total\": 0, \"limit\": 0, \"offset\": 0, \"errors\": [{\"code\": 500,"
		  " \"msg\": \"search service failed: elasticsearch unreachable\"}]}}");
	is_int(collect("checkout"), -1, "a 500 with Jaeger's errors: -1");
	want = xstrfmt("jaeger: %s: HTTP 500: search service failed: elasticsearch unreachable",
		       jaeger.url);
	is_str(run.why.buf, want, "with Jaeger's message");
	free(want);

	fake_fail(&jaeger, "{\"path\": \"^/api/traces$\", \"status\": 400, \"body\": {\"data\": null,"
		  " \"total\": 0, \"limit\": 0, \"offset\": 0, \"errors\": [{\"code\": 400,"
		  " \"msg\": \"unable to parse param 'start': strconv.ParseInt\"}]}}");
	is_int(collect("checkout"), -1, "Jaeger's errors member: -1");
	is_str(run.why.buf,
	       "jaeger: service \"checkout\": unable to parse param 'start': strconv.ParseInt",
	       "its message, naming the service as lib/jaeger.c does");
	ok(!run.ev.traces, "no traces");

	fake_fail(&jaeger, "{\"path\": \"^/api/traces$\", \"status\": 200, \"body\":"
		  " \"<html>Jaeger UI</html>\"}");
	is_int(collect("checkout"), -1, "a page that is not JSON: -1");
	want = xstrfmt("jaeger: %s: the answer is not the JSON of Jaeger's query API", jaeger.url);
	is_str(run.why.buf, want, "said");
	free(want);

	fake_call(&jaeger, "POST", "/_fake/delay", "{\"path\": \"^/api/traces$\", \"seconds\": 5}",
		  NULL);
	want = xstrfmt("jaeger: %s: timed out", jaeger.url);
	expect_cut_at_deadline(&run, collect_jaeger, "checkout", "Jaeger hangs", want);
	free(want);
	free(url);
}

int main(void)
{
	char *path;

	if (!fake_begin())
		return 0;
	if (test_begin("collect-jaeger") < 0)
		return 1;
	parse_iso8601(NOW, &now);
	collect_test_init(&run);
	run.log_lines = 200;
	run.now = now;
	path = write_file("scenario.json", SCENARIO);
	test_configured();
	if (fake_start(&jaeger, "jaeger", "jaeger", "--data", path, NULL) < 0) {
		ok(0, "the fake Jaeger starts");
	} else {
		test_kept_whole();
		test_options();
		test_errors();
	}
	fake_stop(&jaeger);
	collect_test_release(&run);
	free(path);
	return test_end();
}
