/*
 * test-jaeger.c: unit tests of lib/jaeger.c, the Jaeger source of `sre
 * scout`, against tests/fakes/jaeger.py, printing TAP.
 *
 * The fake generates each service's traces from a scenario (how many, how
 * many failed, the entry spans' durations), with a caller in another
 * service above every other entry span, inner spans of the service below
 * it, and errors the service handled on those inner spans: what the source
 * must count (entry spans) and must not (the rest) is in every trace. The
 * tests check the findings, the lines in err, and what reached the fake.
 */
#include "../../lib/timeutil.h"
#include "scout-test.h"

static struct fake jaeger;
static struct config cfg = CONFIG_INIT;
static struct findings found = FINDINGS_INIT;
static struct strbuf err = STRBUF_INIT;
static int ret;

#define NOW "2026-11-24T05:07:00Z"

/*
 * checkout: 200 traces, 24 failed (12%), 10 more with a handled error;
 * 3 in 100 entry spans take 1.5s, the rest 100ms: p99 1.5s.
 * search: 100 traces, 2 failed; one entry span in 100 takes 700ms: p99 200ms.
 * quiet: 10 traces, 5 failed.
 */
static char *scenario(void)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "{\"checkout\": {\"count\": 200, \"errors\": 24, \"handled_errors\": 10,"
		      " \"caller\": \"frontend\", \"durations_ms\": [");
	for (int i = 0; i < 100; i++)
		strbuf_addf(&sb, "%s%d", i ? ", " : "", i % 33 == 32 ? 1500 : 100);
	strbuf_addstr(&sb, "]}, \"search\": {\"count\": 100, \"errors\": 2, \"caller\": \"frontend\","
		      " \"durations_ms\": [");
	for (int i = 0; i < 100; i++)
		strbuf_addf(&sb, "%s%d", i ? ", " : "", i == 50 ? 700 : 200);
	strbuf_addstr(&sb, "]}, \"quiet\": {\"count\": 10, \"errors\": 5}}");
	return strbuf_detach(&sb, NULL);
}

static void set_config(const char *text)
{
	set_source_config(&cfg, "jaeger", jaeger.url, text);
}

#define SERVICES \
	"[service \"checkout\"]\n\tmax-error-rate = 5%\n\tmax-p99 = 800ms\n\tseverity = critical\n" \
	"[service \"search\"]\n\tmax-error-rate = 0.05\n\tmax-p99 = 800ms\n" \
	"[service \"quiet\"]\n\tmax-error-rate = 5%\n" \
	"[service \"docs\"]\n\trepository = example/docs\n"

static void collect(void)
{
	ret = collect_source(jaeger_collect, &cfg, NULL, &found, &err);
}

/* The request for one service since mark, or NULL; the caller deletes it. */
static cJSON *request_for(int mark, const char *service)
{
	cJSON *list = fake_requests(&jaeger, mark, "GET", "^/api/traces$"), *r, *found_r = NULL;

	cJSON_ArrayForEach(r, list) {
		char *s = request_param(r, "service");
		if (s && !strcmp(s, service) && !found_r)
			found_r = cJSON_Duplicate(r, 1);
		free(s);
	}
	cJSON_Delete(list);
	return found_r;
}

static void test_configured(void)
{
	config_clear(&cfg);
	is_int(jaeger_configured(&cfg), 0, "nothing configured: not configured");
	set_config("[service \"docs\"]\n\trepository = example/docs\n");
	is_int(jaeger_configured(&cfg), 0, "a URL, services without limits: not configured");
	set_config("[service \"checkout\"]\n\tmax-p99 = 800ms\n");
	is_int(jaeger_configured(&cfg), 1, "a service with max-p99: configured");
	set_config("[service \"checkout\"]\n\tmax-error-rate = 5%\n");
	is_int(jaeger_configured(&cfg), 1, "a service with max-error-rate: configured");
	set_config_text(&cfg, "[service \"c\"]\nmax-p99 = 1s\n");
	is_int(jaeger_configured(&cfg), 0, "no jaeger.url: not configured");
}

static void test_judged(void)
{
	struct finding *f;
	int mark = fake_log_mark(&jaeger);
	time_t now;
	cJSON *r;
	char *v;

	set_config(SERVICES);
	collect();
	is_int(ret, 0, "collect succeeds");
	is_str(err.buf, "", "and says nothing");
	is_int(found.nr, 4, "checkout and search, two signals each; quiet not judged");

	f = expect_finding(&found, "jaeger/checkout/error-rate");
	ok(f != NULL, "fingerprint jaeger/<service>/error-rate");
	if (f) {
		is_str(f->source, "jaeger", "source");
		is_str(f->check, "checkout", "check: the service");
		is_str(f->service, "checkout", "service");
		is_str(f->signal, "error-rate", "signal");
		is_int(f->failing, 1, "12%% is above 5%%: failing");
		is_str(f->summary, "checkout: 12% of 200 traces failed (limit 5%)",
		       "summary: every error mark counted, handled errors not");
		is_int(f->severity, SEVERITY_CRITICAL, "severity from service.<name>.severity");
		ok(evidence_number(f, "traces") == 200 && evidence_number(f, "failed") == 24,
		   "evidence: traces and failed");
		ok(evidence_number(f, "error_rate") == 0.12, "evidence: error_rate");
	}
	f = expect_finding(&found, "jaeger/checkout/p99");
	ok(f != NULL, "fingerprint jaeger/<service>/p99");
	if (f) {
		is_int(f->failing, 1, "p99 1.5s is above 800ms: failing");
		is_str(f->summary, "checkout: p99 1.5s over 200 traces (limit 800ms)",
		       "summary: the entry spans, not the caller's longer ones");
		ok(evidence_number(f, "spans") == 200, "evidence: one entry span a trace, inner spans not");
		ok(evidence_number(f, "p99_ms") == 1500, "evidence: p99_ms");
	}
	f = expect_finding(&found, "jaeger/search/error-rate");
	ok(f && !f->failing, "search: 2%% is not above 0.05: healthy");
	if (f) {
		is_str(f->summary, "search: 2% of 100 traces failed (limit 5%)", "its summary");
		is_int(f->severity, SEVERITY_MEDIUM, "severity: medium by default");
	}
	f = expect_finding(&found, "jaeger/search/p99");
	ok(f && !f->failing, "search: p99 200ms is not above 800ms: healthy");
	if (f)
		is_str(f->summary, "search: p99 200ms over 100 traces (limit 800ms)", "its summary");

	is_int(fake_count(&jaeger, mark, "GET", "^/api/traces$"), 3,
	       "one search per service with a limit; none for the others");
	r = request_for(mark, "checkout");
	ok(r != NULL, "checkout searched");
	v = request_param(r, "lookback");
	is_str(v, "15m", "lookback=15m by default");
	free(v);
	v = request_param(r, "limit");
	is_str(v, "200", "limit=200 by default");
	free(v);
	parse_iso8601(NOW, &now);
	v = request_param(r, "end");
	ok(v && atoll(v) == (long long)now * 1000000, "end: now, in microseconds");
	free(v);
	v = request_param(r, "start");
	ok(v && atoll(v) == ((long long)now - 900) * 1000000, "start: 15 minutes before");
	free(v);
	cJSON_Delete(r);
}

static void test_options(void)
{
	struct finding *f;
	int mark = fake_log_mark(&jaeger);
	cJSON *r;
	char *v;

	set_config("[jaeger]\n\tlimit = 50\n\tlookback = 1h\n\tmin-traces = 5\n" SERVICES);
	collect();
	is_int(ret, 0, "collect succeeds");
	f = expect_finding(&found, "jaeger/checkout/error-rate");
	ok(f && strstr(f->summary, " of 50 traces"), "jaeger.limit: 50 traces read");
	f = expect_finding(&found, "jaeger/quiet/error-rate");
	ok(f && f->failing, "min-traces 5: quiet's 10 traces judged");
	if (f)
		is_str(f->summary, "quiet: 50% of 10 traces failed (limit 5%)", "its summary");
	r = request_for(mark, "checkout");
	v = request_param(r, "lookback");
	is_str(v, "1h", "lookback=1h");
	free(v);
	v = request_param(r, "limit");
	is_str(v, "50", "limit=50");
	free(v);
	{
		char *s = request_param(r, "start"), *e = request_param(r, "end");
		ok(s && e && atoll(e) - atoll(s) == 3600LL * 1000000, "end - start: one hour");
		free(s);
		free(e);
	}
	cJSON_Delete(r);

	set_config("[jaeger]\n\tmin-traces = 11\n[service \"quiet\"]\n\tmax-error-rate = 5%\n");
	collect();
	is_int(ret, 0, "too few traces: not a failure");
	is_int(found.nr, 0, "10 traces, fewer than min-traces 11: not judged");
}

static void test_errors(void)
{
	char *url = xstrfmt("http://127.0.0.1:%d", closed_port());
	char *want = xstrfmt("jaeger: %s: ", url);

	set_config("[service \"checkout\"]\n\tmax-error-rate = 5\n"
		   "[service \"search\"]\n\tmax-p99 = fast\n"
		   "[service \"quiet\"]\n\tmax-error-rate = 50%\n\tseverity = dire\n"
		   "[service \"web\"]\n\tmax-error-rate = 60%\n[jaeger]\n\tmin-traces = 1\n");
	collect();
	is_int(ret, 0, "misconfigured services named; the others still judged");
	like(err.buf, "jaeger: service \"checkout\": max-error-rate is '5', not a fraction",
	     "a rate that is neither fraction nor percentage");
	like(err.buf, "jaeger: service \"search\": max-p99 is 'fast', not a duration",
	     "a p99 that is no duration");
	like(err.buf, "jaeger: service \"quiet\": severity is 'dire'", "a severity that is none");
	is_int(found.nr, 0, "web, unknown to Jaeger: no traces, no finding");

	set_config("[service \"checkout\"]\n\tmax-error-rate = 5%\n"
		   "[service \"search\"]\n\tmax-error-rate = 5%\n");
	fake_fail(&jaeger, "{\"path\": \"^/api/traces$\", \"status\": 400, \"body\": {\"data\": null,"
		  " \"total\": 0, \"limit\": 0, \"offset\": 0, \"errors\": [{\"code\": 400,"
		  " \"msg\": \"unable to parse param 'start': strconv.ParseInt\"}]}}");
	collect();
	is_int(ret, 0, "one service refused: the other still judged");
	is_int(found.nr, 1, "one finding");
	like(err.buf, "unable to parse param 'start'", "Jaeger's error in err");
	ok(starts_with(err.buf, "jaeger: service \""), "naming the service");

	set_source_config(&cfg, "jaeger", url, SERVICES);
	collect();
	is_int(ret, -1, "Jaeger unreachable: -1");
	ok(starts_with(err.buf, want), "the line names jaeger and its URL");
	ok(!strchr(err.buf, '\n'), "one line");
	is_int(found.nr, 0, "no finding");
	diag_text("err", err.buf);

	set_config("[service \"checkout\"]\n\tmax-error-rate = 5%\n");
	fake_fail(&jaeger, "{\"path\": \"^/api/traces$\", \"status\": 503, \"times\": 2}");
	collect();
	is_int(ret, -1, "5xx past the retries: -1");
	like(err.buf, "HTTP 503 after 2 attempts", "said");
	ok(!strchr(err.buf, '\n') && starts_with(err.buf, "jaeger: http://127.0.0.1:"),
	   "one line naming jaeger and its URL");
	is_int(found.nr, 0, "no finding");

	set_config("[jaeger]\n\tlookback = soon\n[service \"checkout\"]\n\tmax-error-rate = 5%\n");
	collect();
	is_int(ret, -1, "a bad jaeger.lookback: -1");
	like(err.buf, "jaeger.lookback is 'soon'", "said");
	free(want);
	free(url);
}

/* Found by fuzz/fuzz-jaeger.c: a duration past int64_t (1e400 reads as inf) was cast. */
static void test_nonsense_duration(void)
{
	cJSON *answer = cJSON_Parse("{\"data\": [{\"traceID\": \"t1\", \"spans\": ["
				    "{\"spanID\": \"a\", \"operationName\": \"GET\", "
				    "\"duration\": 1e400, \"process\": {\"serviceName\": \"checkout\"}}]},"
				    "{\"traceID\": \"t2\", \"spans\": ["
				    "{\"spanID\": \"b\", \"operationName\": \"GET\", "
				    "\"duration\": 900000, \"process\": {\"serviceName\": \"checkout\"}}]}]}");
	const cJSON *p99, *spans;

	set_config("[jaeger]\n\tmin-traces = 1\n[service \"checkout\"]\n\tmax-p99 = 800ms\n");
	findings_clear(&found);
	strbuf_reset(&err);
	is_int(jaeger_judge_answer(&cfg, "checkout", answer, &found, &err), 0,
	       "an answer with an infinite duration is judged");
	is_int(found.nr, 1, "from the durations that are numbers");
	p99 = found.nr ? cJSON_GetObjectItemCaseSensitive(found.v[0].evidence, "p99_ms") : NULL;
	spans = found.nr ? cJSON_GetObjectItemCaseSensitive(found.v[0].evidence, "spans") : NULL;
	ok(cJSON_IsNumber(p99) && p99->valuedouble == 900, "p99 900 ms");
	ok(cJSON_IsNumber(spans) && spans->valuedouble == 1, "the nonsense duration left out");
	cJSON_Delete(answer);
}

int main(void)
{
	char *data, *path;

	if (!fake_begin())
		return 0;
	if (test_begin("jaeger") < 0)
		return 1;
	setenv("SRE_NOW", NOW, 1);
	data = scenario();
	path = write_file("scenario.json", data);
	if (fake_start(&jaeger, "jaeger", "jaeger", "--data", path, NULL) < 0) {
		ok(0, "the fake Jaeger starts");
	} else {
		test_configured();
		test_judged();
		test_options();
		test_errors();
		test_nonsense_duration();
	}
	fake_stop(&jaeger);
	findings_clear(&found);
	strbuf_release(&err);
	config_clear(&cfg);
	free(data);
	free(path);
	return test_end();
}
