/*
 * test-collect-prometheus.c: unit tests of lib/collect-prometheus.c, the
 * Prometheus collector of `sre diagnose`, against tests/fakes/prometheus.py,
 * printing TAP.
 *
 * The fake answers range queries from a scenario (the exact query text to
 * its series) with a point every step from start to end, and logs every
 * request: the tests check which checks are read (the service's and the
 * incident's own), the window and step asked, the authentication sent,
 * that each answer is kept as Prometheus wrote it, each failure's line,
 * and that a hanging Prometheus is left at the deadline.
 */
#include "../../lib/evidence.h"
#include "../../lib/timeutil.h"
#include "scout-test.h"

static struct fake prom;
static struct config cfg = CONFIG_INIT;
static struct http_client http;
static struct collect_options opts;
static struct collect_context ctx;
static struct evidence ev = EVIDENCE_INIT;
static struct strbuf why = STRBUF_INIT;
static time_t now;

#define NOW "2026-11-24T05:07:00Z"
#define Q_LATENCY "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job=\"web\"}[5m])))"
#define C_LATENCY "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job=\\\"web\\\"}[5m])))"
#define Q_ERRORS "sum by (pod) (rate(errors_total[5m]))"
#define Q_API "up{job=\"api\"}"
#define C_API "up{job=\\\"api\\\"}"
#define SCENARIO "{\"" Q_ERRORS "\": [{\"metric\": {\"pod\": \"web-1\"}, \"values\": [0, 0.5, 3]}," \
	" {\"metric\": {\"pod\": \"web-2\"}, \"value\": 0}]," \
	" \"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket" \
	"{job=\\\"web\\\"}[5m])))\": 0.25," \
	" \"up{job=\\\"api\\\"}\": [{\"metric\": {\"job\": \"api\"}, \"value\": 1}]}"

/* The service web's checks, another service's (api), an HTTP check, and one named badly. */
#define CHECKS \
	"[check \"web-latency\"]\n\tprometheus = " C_LATENCY "\n\tabove = 0.8\n\tservice = web\n" \
	"[check \"web\"]\n\tprometheus = " Q_ERRORS "\n\tabove = 1\n" \
	"[check \"api\"]\n\tprometheus = " C_API "\n\tbelow = 1\n" \
	"[check \"home\"]\n\turl = http://127.0.0.1:1/\n\tservice = web\n" \
	"[check \"web latency\"]\n\tprometheus = up\n\tservice = web\n"

static void set_config_url(const char *url, const char *text)
{
	set_source_config(&cfg, "prometheus", url, text);
}

static void set_config(const char *text)
{
	set_config_url(prom.url, text);
}

/* Collect service (with the incident's check, or NULL) into ev and why: the return. */
static int collect(const char *service, const char *check)
{
	evidence_release(&ev);
	strbuf_reset(&why);
	memset(&opts, 0, sizeof(opts));
	opts.service = service;
	opts.check = check;
	ctx.cfg = &cfg;
	ctx.o = &opts;
	ctx.http = &http;
	ctx.deadline_ms = http.deadline_ms;
	ctx.log_lines = 200;
	ctx.now = now;
	return collect_prometheus(&ctx, &ev, &why);
}

/* The answer kept for check, or NULL. */
static const struct evidence_item *find_check(const char *check)
{
	for (size_t i = 0; i < ev.prometheus_nr; i++)
		if (!strcmp(ev.prometheus[i].name, check))
			return &ev.prometheus[i];
	return NULL;
}

/* The range query for exactly this PromQL since mark, or NULL; the caller deletes it. */
static cJSON *request_for(int mark, const char *promql)
{
	cJSON *list = fake_requests(&prom, mark, "GET", "^/api/v1/query_range$"), *r, *found = NULL;

	cJSON_ArrayForEach(r, list) {
		char *q = request_param(r, "query");

		if (q && !strcmp(q, promql) && !found)
			found = cJSON_Duplicate(r, 1);
		free(q);
	}
	cJSON_Delete(list);
	return found;
}

/* A parameter of a logged request, as text; "(none)" when absent. Valid until the next call. */
static const char *param(const cJSON *request, const char *name)
{
	static char *last;

	free(last);
	last = request_param(request, name);
	return last ? last : "(none)";
}

static void test_configured(void)
{
	opts.service = "web";
	opts.check = NULL;
	set_config_text(&cfg, CHECKS);
	is_int(collect_prometheus_configured(&cfg, &opts), 0, "no prometheus.url: not configured");
	set_config("[check \"home\"]\n\turl = http://127.0.0.1:1/\n\tservice = web\n");
	is_int(collect_prometheus_configured(&cfg, &opts), 0,
	       "only an HTTP check of the service: not configured");
	set_config(CHECKS);
	is_int(collect_prometheus_configured(&cfg, &opts), 1, "a PromQL check of web: configured");
	opts.service = "shop";
	is_int(collect_prometheus_configured(&cfg, &opts), 0, "no check of shop: not configured");
	opts.check = "api";
	is_int(collect_prometheus_configured(&cfg, &opts), 1,
	       "the incident's check is a PromQL check: configured");
	opts.check = "pod/default/shop-1";
	is_int(collect_prometheus_configured(&cfg, &opts), 0,
	       "the incident's check is no PromQL check: not configured");
	opts.check = NULL;
	set_config("[check \"web latency\"]\n\tprometheus = up\n\tservice = web\n");
	opts.service = "web";
	is_int(collect_prometheus_configured(&cfg, &opts), 0,
	       "a check whose name is no file name: not configured");
}

static void test_range(void)
{
	int mark = fake_log_mark(&prom);
	const struct evidence_item *it;
	cJSON *r, *direct = NULL, *values;
	char *path;

	set_config(CHECKS);
	is_int(collect("web", NULL), 0, "web's checks: 0");
	is_str(why.buf, "", "nothing in why");
	is_int(fake_count(&prom, mark, NULL, "^/api/v1/"), 2,
	       "two range queries: not api's, not the HTTP check, not the badly named one");
	is_int(ev.prometheus_nr, 2, "two answers kept");

	r = request_for(mark, Q_LATENCY);
	ok(r != NULL, "web-latency's PromQL sent intact (service = web)");
	is_str(param(r, "end"), "1795496820", "end: now, in Unix seconds");
	is_str(param(r, "start"), "1795493220", "start: an hour before (diagnose.lookback's default)");
	is_str(param(r, "step"), "30", "step: a 120th of the hour, 30 seconds");
	is_str(fake_header(r, "authorization"), NULL, "no Authorization when none is configured");
	cJSON_Delete(r);
	r = request_for(mark, Q_ERRORS);
	ok(r != NULL, "web's PromQL sent (its service is its name)");

	it = find_check("web-latency");
	ok(it != NULL, "web-latency's answer kept under its name");
	is_str(it ? it->query : NULL, Q_LATENCY, "with its query");
	is_str(it ? it->source : NULL, "prometheus", "source: prometheus");
	values = it ? cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(it->json, "data"), "result"), 0), "values")
		    : NULL;
	is_int(cJSON_GetArraySize(values), 121, "a point every 30 seconds over the hour, both ends");
	it = find_check("web");
	path = xstrfmt("/api/v1/query_range?%s",
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "query")));
	fake_call(&prom, "GET", path, NULL, &direct);
	ok(it && direct && cJSON_Compare(it->json, direct, 1),
	   "web's answer kept whole, as Prometheus wrote it");
	ok(!ev.docker && !ev.traces && !ev.logs_nr, "nothing else filled");
	free(path);
	cJSON_Delete(direct);
	cJSON_Delete(r);

	mark = fake_log_mark(&prom);
	set_config(CHECKS "[diagnose]\n\tlookback = 10m\n");
	is_int(collect("web", "api"), 0, "with the incident's check, another service's: 0");
	is_int(ev.prometheus_nr, 3, "three answers: web's two and the incident's");
	ok(find_check("api") && !strcmp(find_check("api")->query, Q_API), "api's among them");
	r = request_for(mark, Q_API);
	is_str(param(r, "start"), "1795496220", "start: diagnose.lookback (10m) before now");
	is_str(param(r, "end"), "1795496820", "end: now");
	is_str(param(r, "step"), "15", "step: 10m/120 is 5s, raised to 15s");
	cJSON_Delete(r);

	mark = fake_log_mark(&prom);
	set_config(CHECKS "[diagnose]\n\tlookback = 1d\n");
	is_int(collect("api", NULL), 0, "api's check over a day: 0");
	r = request_for(mark, Q_API);
	is_str(param(r, "step"), "720", "step: a day over 120, 720 seconds");
	is_str(param(r, "start"), "1795410420", "start: a day before");
	cJSON_Delete(r);

	set_config(CHECKS "[diagnose]\n\tlookback = a while\n");
	is_int(collect("web", NULL), -1, "a bad diagnose.lookback: -1");
	is_str(why.buf, "prometheus: diagnose.lookback is 'a while', not a duration (1h)", "said");
}

static void test_errors(void)
{
	char *url = xstrfmt("http://127.0.0.1:%d", closed_port()), *want;
	int64_t started;

	set_config_url(url, CHECKS);
	is_int(collect("web", NULL), -1, "Prometheus unreachable: -1");
	want = xstrfmt("prometheus: %s: ", url);
	ok(starts_with(why.buf, want) && why.len > strlen(want),
	   "the line names prometheus, its URL, why");
	ok(!strchr(why.buf, '\n'), "one line");
	diag_text("why", why.buf);
	is_int(ev.prometheus_nr, 0, "no answer");
	free(want);

	set_config(CHECKS "[check \"broken\"]\n\tprometheus = up syntax error\n\tservice = web\n");
	is_int(collect("web", NULL), -1, "a query Prometheus refuses: -1");
	want = xstrfmt("prometheus: %s: check \"broken\": bad_data: invalid parameter \"query\": "
		       "1:11: parse error: unexpected identifier \"error\"", prom.url);
	is_str(why.buf, want, "Prometheus's error, naming the check");
	free(want);
	is_int(ev.prometheus_nr, 2, "the other checks' answers still kept");

	set_config(CHECKS);
	fake_fail(&prom, "{\"path\": \"query_range\", \"status\": 500, \"body\": \"oops\","
		  " \"times\": 2}");
	is_int(collect("web", NULL), -1, "500 (no retries): -1");
	want = xstrfmt("prometheus: %s: HTTP 500", prom.url);
	is_str(why.buf, want, "HTTP 500");
	free(want);
	is_int(ev.prometheus_nr, 0, "no answer");

	fake_fail(&prom, "{\"path\": \"query_range\", \"status\": 200, \"body\": \"<html>\"}");
	is_int(collect("web", NULL), -1, "a page that is not JSON: -1");
	want = xstrfmt("prometheus: %s: the answer is not the JSON of Prometheus's API", prom.url);
	is_str(why.buf, want, "said");
	free(want);
	is_int(ev.prometheus_nr, 1, "the other check's answer kept");

	fake_fail(&prom, "{\"path\": \"query_range\", \"status\": 200, \"body\": {\"status\":"
		  " \"success\", \"data\": {\"resultType\": \"vector\", \"result\": []}}}");
	is_int(collect("api", NULL), -1, "an answer that is no matrix: -1");
	want = xstrfmt("prometheus: %s: check \"api\": the answer is not a range query's matrix",
		       prom.url);
	is_str(why.buf, want, "said");
	free(want);

	fake_call(&prom, "POST", "/_fake/delay", "{\"path\": \"query_range\", \"seconds\": 5,"
		  " \"times\": 2}", NULL);
	http.deadline_ms = monotonic_ms() + 1000;
	started = monotonic_ms();
	is_int(collect("web", NULL), -1, "Prometheus hangs past the deadline: -1");
	ok(monotonic_ms() - started < 2000, "back within two seconds (%lld ms)",
	   (long long)(monotonic_ms() - started));
	want = xstrfmt("prometheus: %s: timed out", prom.url);
	is_str(why.buf, want, "saying it timed out");
	free(want);
	http.deadline_ms = 0;
	free(url);
}

static void test_auth(void)
{
	struct fake secured;
	cJSON *r;

	if (fake_start(&secured, "prometheus", "basic", "--basic-auth", "sre:pa55-word", NULL) < 0) {
		ok(0, "the fake with basic auth starts");
		return;
	}
	fake_call(&secured, "POST", "/_fake/set", SCENARIO, NULL);
	set_config_url(secured.url, "\tuser = sre\n" CHECKS);
	setenv("PROMETHEUS_PASSWORD", "pa55-word", 1);
	is_int(collect("api", NULL), 0, "basic auth: 0");
	r = fake_last(&secured, 0, "GET", "^/api/v1/query_range$");
	is_str(fake_header(r, "authorization"), "Basic c3JlOnBhNTUtd29yZA==",
	       "Authorization: Basic, with PROMETHEUS_PASSWORD");
	cJSON_Delete(r);
	is_int(ev.prometheus_nr, 1, "the answer kept");

	setenv("PROMETHEUS_PASSWORD", "wrong-pw", 1);
	is_int(collect("api", NULL), -1, "a wrong password: -1");
	like(why.buf, "HTTP 401: check prometheus.user and its password, or the token",
	     "said as lib/prometheus.c says it");
	unlike(why.buf, "wrong-pw", "never the password");

	unsetenv("PROMETHEUS_PASSWORD");
	set_config_url(secured.url, "\tuser = sre\n\tpassword-command = printf pa55-word\n" CHECKS);
	is_int(collect("api", NULL), 0, "the password from prometheus.password-command: 0");

	set_config_url(secured.url, "\tuser = sre\n" CHECKS);
	is_int(collect("api", NULL), -1, "a user and no password: -1");
	like(why.buf, "PROMETHEUS_PASSWORD", "the line says where the password comes from");

	set_config_url(secured.url, CHECKS);
	setenv("PROMETHEUS_TOKEN", "t0ken-xyz", 1);
	is_int(collect("api", NULL), -1, "a token the fake does not take: -1");
	r = fake_last(&secured, 0, "GET", "^/api/v1/query_range$");
	is_str(fake_header(r, "authorization"), "Bearer t0ken-xyz", "Authorization: Bearer");
	cJSON_Delete(r);
	unlike(why.buf, "t0ken", "never the token");
	unsetenv("PROMETHEUS_TOKEN");
	fake_stop(&secured);
}

int main(void)
{
	char *path;

	if (!fake_begin())
		return 0;
	if (test_begin("collect-prometheus") < 0)
		return 1;
	unsetenv("PROMETHEUS_PASSWORD");
	unsetenv("PROMETHEUS_TOKEN");
	parse_iso8601(NOW, &now);
	http_client_init(&http, NULL);
	http.retries = 0;
	path = write_file("scenario.json", SCENARIO);
	test_configured();
	if (fake_start(&prom, "prometheus", "prom", "--data", path, NULL) < 0) {
		ok(0, "the fake Prometheus starts");
	} else {
		test_range();
		test_errors();
		test_auth();
	}
	fake_stop(&prom);
	param(NULL, "");
	evidence_release(&ev);
	strbuf_release(&why);
	config_clear(&cfg);
	http_client_release(&http);
	free(path);
	return test_end();
}
