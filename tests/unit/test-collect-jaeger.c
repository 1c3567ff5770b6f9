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
#include "../../lib/evidence.h"
#include "../../lib/timeutil.h"
#include "scout-test.h"

static struct fake jaeger;
static struct config cfg = CONFIG_INIT;
static struct http_client http;
static struct collect_options opts;
static struct collect_context ctx;
static struct evidence ev = EVIDENCE_INIT;
static struct strbuf why = STRBUF_INIT;
static time_t now;

#define NOW "2026-11-24T05:07:00Z"
#define SCENARIO "{\"checkout\": {\"count\": 3, \"errors\": 1, \"durations_ms\": [120, 900]," \
	" \"caller\": \"frontend\"}, \"search\": {\"count\": 300}}"

static void set_config(const char *text)
{
	set_source_config(&cfg, "jaeger", jaeger.url, text);
}

/* Collect service afresh into ev and why: the collector's return. */
static int collect(const char *service)
{
	evidence_release(&ev);
	strbuf_reset(&why);
	memset(&opts, 0, sizeof(opts));
	opts.service = service;
	ctx.cfg = &cfg;
	ctx.o = &opts;
	ctx.http = &http;
	ctx.deadline_ms = http.deadline_ms;
	ctx.log_lines = 200;
	ctx.now = now;
	return collect_jaeger(&ctx, &ev, &why);
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
	opts.service = "checkout";
	config_clear(&cfg);
	is_int(collect_jaeger_configured(&cfg, &opts), 0, "no jaeger.url: not configured");
	set_config("");
	is_int(collect_jaeger_configured(&cfg, &opts), 1,
	       "jaeger.url: configured, with no service limits needed");
	set_config_text(&cfg, "[jaeger]\n\turl =\n");
	is_int(collect_jaeger_configured(&cfg, &opts), 0, "an empty jaeger.url: not configured");
}

static void test_kept_whole(void)
{
	int mark = fake_log_mark(&jaeger);
	cJSON *r, *direct = NULL, *trace, *span;
	char *path, *lookback, *service;
	int within = 1;

	set_config("");
	is_int(collect("checkout"), 0, "the service's traces: 0");
	is_str(why.buf, "", "nothing in why");
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
	ok(direct && cJSON_Compare(ev.traces, direct, 1), "the answer kept whole, as Jaeger wrote it");
	ok(cJSON_GetObjectItemCaseSensitive(ev.traces, "total") &&
	   cJSON_GetObjectItemCaseSensitive(ev.traces, "errors"), "total and errors included");
	is_int(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ev.traces, "data")), 3,
	       "the service's three traces");
	cJSON_ArrayForEach(trace, cJSON_GetObjectItemCaseSensitive(ev.traces, "data"))
		cJSON_ArrayForEach(span, cJSON_GetObjectItemCaseSensitive(trace, "spans")) {
			double t = cJSON_GetNumberValue(
				cJSON_GetObjectItemCaseSensitive(span, "startTime"));
			within &= t >= ((double)now - 3600) * 1e6 - 1e7 && t <= (double)now * 1e6;
		}
	ok(within, "the traces of that window (the fake honours start and end)");
	ok(!ev.docker && !ev.prometheus_nr && !ev.logs_nr, "nothing else filled");
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
	is_int(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ev.traces, "data")), 25,
	       "25 of search's 300 traces (the fake honours limit)");

	is_int(collect("unknown"), 0, "a service Jaeger has no traces of: 0");
	ok(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(ev.traces, "data")) &&
	   !cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ev.traces, "data")),
	   "its answer kept: no traces");

	set_config("[diagnose]\n\tlookback = soon\n");
	is_int(collect("checkout"), -1, "a bad diagnose.lookback: -1");
	is_str(why.buf, "jaeger: diagnose.lookback is 'soon', not a duration (1h)", "said");
	set_config("\tlimit = -3\n");
	is_int(collect("checkout"), -1, "a bad jaeger.limit: -1");
	is_str(why.buf, "jaeger: jaeger.limit is '-3', not a positive number", "said");
}

static void test_errors(void)
{
	char *url = xstrfmt("http://127.0.0.1:%d", closed_port()), *want;
	int64_t started;

	set_source_config(&cfg, "jaeger", url, "");
	is_int(collect("checkout"), -1, "Jaeger unreachable: -1");
	want = xstrfmt("jaeger: %s: ", url);
	ok(starts_with(why.buf, want) && why.len > strlen(want), "the line names jaeger, its URL, why");
	ok(!strchr(why.buf, '\n'), "one line");
	diag_text("why", why.buf);
	ok(!ev.traces, "no traces");
	free(want);

	set_config("");
	want = xstrfmt("jaeger: %s: HTTP 500", jaeger.url);
	fake_fail(&jaeger, "{\"path\": \"^/api/traces$\", \"status\": 500, \"body\": \"oops\"}");
	is_int(collect("checkout"), -1, "a 500 (no retries): -1");
	is_str(why.buf, want, "HTTP 500");
	free(want);

	fake_fail(&jaeger, "{\"path\": \"^/api/traces$\", \"status\": 500, \"body\": {\"data\": null,"
		  " \"total\": 0, \"limit\": 0, \"offset\": 0, \"errors\": [{\"code\": 500,"
		  " \"msg\": \"search service failed: elasticsearch unreachable\"}]}}");
	is_int(collect("checkout"), -1, "a 500 with Jaeger's errors: -1");
	want = xstrfmt("jaeger: %s: HTTP 500: search service failed: elasticsearch unreachable",
		       jaeger.url);
	is_str(why.buf, want, "with Jaeger's message");
	free(want);

	fake_fail(&jaeger, "{\"path\": \"^/api/traces$\", \"status\": 400, \"body\": {\"data\": null,"
		  " \"total\": 0, \"limit\": 0, \"offset\": 0, \"errors\": [{\"code\": 400,"
		  " \"msg\": \"unable to parse param 'start': strconv.ParseInt\"}]}}");
	is_int(collect("checkout"), -1, "Jaeger's errors member: -1");
	is_str(why.buf, "jaeger: service \"checkout\": unable to parse param 'start': strconv.ParseInt",
	       "its message, naming the service as lib/jaeger.c does");
	ok(!ev.traces, "no traces");

	fake_fail(&jaeger, "{\"path\": \"^/api/traces$\", \"status\": 200, \"body\":"
		  " \"<html>Jaeger UI</html>\"}");
	is_int(collect("checkout"), -1, "a page that is not JSON: -1");
	want = xstrfmt("jaeger: %s: the answer is not the JSON of Jaeger's query API", jaeger.url);
	is_str(why.buf, want, "said");
	free(want);

	fake_call(&jaeger, "POST", "/_fake/delay", "{\"path\": \"^/api/traces$\", \"seconds\": 5}",
		  NULL);
	http.deadline_ms = monotonic_ms() + 1000;
	started = monotonic_ms();
	is_int(collect("checkout"), -1, "Jaeger hangs past the deadline: -1");
	ok(monotonic_ms() - started < 2000, "back within two seconds (%lld ms)",
	   (long long)(monotonic_ms() - started));
	want = xstrfmt("jaeger: %s: timed out", jaeger.url);
	is_str(why.buf, want, "saying it timed out");
	free(want);
	http.deadline_ms = 0;
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
	http_client_init(&http, NULL);
	http.retries = 0;
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
	evidence_release(&ev);
	strbuf_release(&why);
	config_clear(&cfg);
	http_client_release(&http);
	free(path);
	return test_end();
}
