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
#include "collect-test.h"

static struct fake prom;
static struct collect_test run;
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
	set_source_config(&run.cfg, "prometheus", url, text);
}

static void set_config(const char *text)
{
	set_config_url(prom.url, text);
}

/* Collect service (with the incident's check, or NULL) into run.ev and run.why: the return. */
static int collect(const char *service, const char *check)
{
	return collect_test_run(&run, collect_prometheus, service, check);
}

/* Does run.cfg configure the collector for run.o? */
static int configured(void)
{
	return collect_prometheus_configured(&run.cfg, &run.o);
}

/* The answer kept for check, or NULL. */
static const struct evidence_item *find_check(const char *check)
{
	for (size_t i = 0; i < run.ev.prometheus_nr; i++)
		if (!strcmp(run.ev.prometheus[i].name, check))
			return &run.ev.prometheus[i];
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
	run.o.service = "web";
	run.o.check = NULL;
	set_config_text(&run.cfg, CHECKS);
	is_int(configured(), 0, "no prometheus.url: not configured");
	set_config("[check \"home\"]\n\turl = http://127.0.0.1:1/\n\tservice = web\n");
	is_int(configured(), 0,
	       "only an HTTP check of the service: not configured");
	set_config(CHECKS);
	is_int(configured(), 1, "a PromQL check of web: configured");
	run.o.service = "shop";
	is_int(configured(), 0, "no check of shop: not configured");
	run.o.check = "api";
	is_int(configured(), 1,
	       "the incident's check is a PromQL check: configured");
	run.o.check = "pod/default/shop-1";
	is_int(configured(), 0,
	       "the incident's check is no PromQL check: not configured");
	run.o.check = NULL;
	set_config("[check \"web latency\"]\n\tprometheus = up\n\tservice = web\n");
	run.o.service = "web";
	is_int(configured(), 0,
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
	is_str(run.why.buf, "", "nothing in why");
	is_int(fake_count(&prom, mark, NULL, "^/api/v1/"), 2,
	       "two range queries: not api's, not the HTTP check, not the badly named one");
	is_int(run.ev.prometheus_nr, 2, "two answers kept");

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
	ok(!run.ev.docker && !run.ev.traces && !run.ev.logs_nr, "nothing else filled");
	free(path);
	cJSON_Delete(direct);
	cJSON_Delete(r);

	mark = fake_log_mark(&prom);
	set_config(CHECKS "[diagnose]\n\tlookback = 10m\n");
	is_int(collect("web", "api"), 0, "with the incident's check, another service's: 0");
	is_int(run.ev.prometheus_nr, 3, "three answers: web's two and the incident's");
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

	mark = fake_log_mark(&prom);
	set_config(CHECKS "[diagnose]\n\tlookback = 5s\n");
	is_int(collect("api", NULL), 0, "api's check over 5 seconds: 0");
	r = request_for(mark, Q_API);
	is_str(param(r, "step"), "1", "step: a window under 150s in ten, whole seconds: 1s");
	cJSON_Delete(r);

	mark = fake_log_mark(&prom);
	set_config(CHECKS "[diagnose]\n\tlookback = 2m\n");
	is_int(collect("api", NULL), 0, "api's check over 2 minutes: 0");
	r = request_for(mark, Q_API);
	is_str(param(r, "step"), "12", "step: 2m in ten, 12 seconds, not 15");
	cJSON_Delete(r);

	set_config(CHECKS "[diagnose]\n\tlookback = a while\n");
	is_int(collect("web", NULL), -1, "a bad diagnose.lookback: -1");
	is_str(run.why.buf, "prometheus: diagnose.lookback is 'a while', not a duration (1h)",
	       "said");
}

static void test_errors(void)
{
	char *url = xstrfmt("http://127.0.0.1:%d", closed_port()), *want;

	set_config_url(url, CHECKS);
	is_int(collect("web", NULL), -1, "Prometheus unreachable: -1");
	want = xstrfmt("prometheus: %s: ", url);
	ok(starts_with(run.why.buf, want) && run.why.len > strlen(want),
	   "the line names prometheus, its URL, why");
	ok(!strchr(run.why.buf, '\n'), "one line");
	diag_text("why", run.why.buf);
	is_int(run.ev.prometheus_nr, 0, "no answer");
	free(want);

	set_config(CHECKS "[check \"broken\"]\n\tprometheus = up syntax error\n\tservice = web\n");
	is_int(collect("web", NULL), -1, "a query Prometheus refuses: -1");
	want = xstrfmt("prometheus: %s: check \"broken\": bad_data: invalid parameter \"query\": "
		       "1:11: parse error: unexpected identifier \"error\"", prom.url);
	is_str(run.why.buf, want, "Prometheus's error, naming the check");
	free(want);
	is_int(run.ev.prometheus_nr, 2, "the other checks' answers still kept");

	set_config(CHECKS);
	fake_fail(&prom, "{\"path\": \"query_range\", \"status\": 500, \"body\": \"oops\","
		  " \"times\": 2}");
	is_int(collect("web", NULL), -1, "500 (no retries): -1");
	want = xstrfmt("prometheus: %s: HTTP 500", prom.url);
	is_str(run.why.buf, want, "HTTP 500");
	free(want);
	is_int(run.ev.prometheus_nr, 0, "no answer");

	fake_fail(&prom, "{\"path\": \"query_range\", \"status\": 200, \"body\": \"<html>\"}");
	is_int(collect("web", NULL), -1, "a page that is not JSON: -1");
	want = xstrfmt("prometheus: %s: the answer is not the JSON of Prometheus's API", prom.url);
	is_str(run.why.buf, want, "said");
	free(want);
	is_int(run.ev.prometheus_nr, 1, "the other check's answer kept");

	fake_fail(&prom, "{\"path\": \"query_range\", \"status\": 200, \"body\": {\"status\":"
		  " \"success\", \"data\": {\"resultType\": \"vector\", \"result\": []}}}");
	is_int(collect("api", NULL), -1, "an answer that is no matrix: -1");
	want = xstrfmt("prometheus: %s: check \"api\": the answer is not a range query's matrix",
		       prom.url);
	is_str(run.why.buf, want, "said");
	free(want);

	fake_call(&prom, "POST", "/_fake/delay", "{\"path\": \"query_range\", \"seconds\": 5,"
		  " \"times\": 2}", NULL);
	want = xstrfmt("prometheus: %s: timed out", prom.url);
	expect_cut_at_deadline(&run, collect_prometheus, "web", "Prometheus hangs", want);
	free(want);
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
	is_int(run.ev.prometheus_nr, 1, "the answer kept");

	setenv("PROMETHEUS_PASSWORD", "wrong-pw", 1);
	is_int(collect("api", NULL), -1, "a wrong password: -1");
	like(run.why.buf, "HTTP 401: check prometheus.user and its password, or the token",
	     "said as lib/prometheus.c says it");
	unlike(run.why.buf, "wrong-pw", "never the password");

	unsetenv("PROMETHEUS_PASSWORD");
	set_config_url(secured.url, "\tuser = sre\n\tpassword-command = printf pa55-word\n" CHECKS);
	is_int(collect("api", NULL), 0, "the password from prometheus.password-command: 0");

	set_config_url(secured.url, "\tuser = sre\n" CHECKS);
	is_int(collect("api", NULL), -1, "a user and no password: -1");
	like(run.why.buf, "PROMETHEUS_PASSWORD", "the line says where the password comes from");

	set_config_url(secured.url, CHECKS);
	setenv("PROMETHEUS_TOKEN", "t0ken-xyz", 1);
	is_int(collect("api", NULL), -1, "a token the fake does not take: -1");
	r = fake_last(&secured, 0, "GET", "^/api/v1/query_range$");
	is_str(fake_header(r, "authorization"), "Bearer t0ken-xyz", "Authorization: Bearer");
	cJSON_Delete(r);
	unlike(run.why.buf, "t0ken", "never the token");
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
	collect_test_init(&run);
	run.log_lines = 200;
	run.now = now;
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
	collect_test_release(&run);
	free(path);
	return test_end();
}
