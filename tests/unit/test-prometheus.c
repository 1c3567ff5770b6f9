/*
 * test-prometheus.c: unit tests of lib/prometheus.c, the Prometheus source
 * of `sre scout`, against tests/fakes/prometheus.py, printing TAP.
 *
 * The fake answers /api/v1/query and /api/v1/alerts from a scenario (a
 * map from the exact query text to its series) that a test replaces
 * between runs with /_fake/set, and logs every request: the tests check
 * the findings prometheus_collect() makes, the lines it leaves in err, and
 * what reached the fake (each check's PromQL, URL-encoded and intact).
 */
#include "scout-test.h"

static struct fake prom;
static struct config cfg = CONFIG_INIT;
static struct findings found = FINDINGS_INIT;
static struct strbuf err = STRBUF_INIT;
static int ret;

#define Q_CONVERSION "sum(rate(orders_total[5m])) / sum(rate(quotes_total[5m]))"
#define Q_QUOTES "sum(rate(quotes_total[5m]))"
#define Q_LATENCY "histogram_quantile(0.99, sum by (le) " \
	"(rate(http_request_duration_seconds_bucket{job=\"api\"}[5m]))) + 0"
#define Q_ERRORS "sum by (pod, zone) (rate(errors_total{code=~\"5..\"}[5m]))"
#define Q_QUEUE "scalar(queue_depth{queue=\"mail\"})"

/* The same queries as a config file writes them ('"' escaped). */
#define C_LATENCY "histogram_quantile(0.99, sum by (le) " \
	"(rate(http_request_duration_seconds_bucket{job=\\\"api\\\"}[5m]))) + 0"
#define C_ERRORS "sum by (pod, zone) (rate(errors_total{code=~\\\"5..\\\"}[5m]))"
#define C_QUEUE "scalar(queue_depth{queue=\\\"mail\\\"})"

/* A scenario; latency, quotes and errors given, so one test changes one. */
static char *scenario(double latency, double quotes, const char *alerts)
{
	return xstrfmt("{\"" Q_CONVERSION "\": [{\"metric\": {}, \"value\": 0.012}],"
		       " \"" Q_QUOTES "\": [{\"metric\": {}, \"value\": %g}],"
		       " \"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_"
		       "seconds_bucket{job=\\\"api\\\"}[5m]))) + 0\": [{\"metric\": {}, \"value\": %g}],"
		       " \"sum by (pod, zone) (rate(errors_total{code=~\\\"5..\\\"}[5m]))\": ["
		       "{\"metric\": {\"zone\": \"eu\", \"pod\": \"b\"}, \"value\": 7},"
		       "{\"metric\": {\"pod\": \"a\", \"zone\": \"eu\", \"__name__\": \"x\"}, \"value\": 1}],"
		       " \"scalar(queue_depth{queue=\\\"mail\\\"})\": 0.5,"
		       " \"nan_ratio\": [{\"metric\": {}, \"value\": \"NaN\"}],"
		       " \"alerts\": %s}", quotes, latency, alerts ? alerts : "[]");
}

static void set_scenario(double latency, double quotes, const char *alerts)
{
	char *s = scenario(latency, quotes, alerts);

	set_fake_data(&prom, s);
	free(s);
}

/* Load a config: a URL, quick retries, then text. */
static void set_config_url(const char *url, const char *text)
{
	set_source_config(&cfg, "prometheus", url, text);
}

/* The same with the fake's URL. */
static void set_config(const char *text)
{
	set_config_url(prom.url, text);
}

/* Run the source once, as `sre scout` does: findings in found, err, ret. */
static void collect(void)
{
	ret = collect_source(prometheus_collect, &cfg, NULL, &found, &err);
}

/* How many queries for exactly this PromQL the fake got since mark. */
static int queries_for(int mark, const char *promql)
{
	cJSON *list = fake_requests(&prom, mark, "GET", "^/api/v1/query$"), *r;
	int n = 0;

	cJSON_ArrayForEach(r, list) {
		char *q = request_param(r, "query");
		n += q && !strcmp(q, promql);
		free(q);
	}
	cJSON_Delete(list);
	return n;
}

static void test_configured(void)
{
	config_clear(&cfg);
	is_int(prometheus_configured(&cfg), 0, "nothing configured: not configured");
	set_config("[check \"web\"]\n\turl = http://127.0.0.1:1/\n");
	is_int(prometheus_configured(&cfg), 0, "a URL and only HTTP checks: not configured");
	set_config("[check \"latency\"]\n\tprometheus = up\n\tabove = 1\n");
	is_int(prometheus_configured(&cfg), 1, "a check with a prometheus key: configured");
	set_config_text(&cfg, "[check \"x\"]\nprometheus = up\n");
	is_int(prometheus_configured(&cfg), 0, "a check but no prometheus.url: not configured");
	set_config_text(&cfg, "[scout]\nalerts\n");
	is_int(prometheus_configured(&cfg), 1, "scout.alerts (a bare key): configured");
}

static void test_thresholds(void)
{
	struct finding *f;
	int mark = fake_log_mark(&prom);
	cJSON *r;
	const char *raw;

	set_scenario(1.3, 50, NULL);
	set_config("[check \"conversion\"]\n\tprometheus = " Q_CONVERSION "\n\tbelow = 0.02\n"
		   "\tservice = shop\n\tseverity = high\n"
		   "[check \"latency\"]\n\tprometheus = " C_LATENCY "\n\tabove = 0.8\n"
		   "[check \"web\"]\n\turl = http://127.0.0.1:1/\n");
	collect();
	is_int(ret, 0, "collect succeeds");
	is_str(err.buf, "", "and says nothing");
	is_int(found.nr, 2, "one finding per check with a prometheus key, none for the HTTP check");

	f = expect_finding(&found, "prometheus/shop/below/conversion");
	ok(f != NULL, "below: fingerprint prometheus/<service>/below/<check>");
	if (f) {
		is_str(f->source, "prometheus", "source");
		is_str(f->check, "conversion", "check");
		is_str(f->service, "shop", "service from check.<name>.service");
		is_str(f->signal, "below", "signal");
		is_int(f->failing, 1, "0.012 is below 0.02: failing");
		is_str(f->summary, "conversion is 0.012, below 0.02", "summary");
		is_int(f->severity, SEVERITY_HIGH, "severity from check.<name>.severity");
		is_str(evidence_string(f, "query"), Q_CONVERSION, "evidence: the query");
		ok(evidence_number(f, "value") == 0.012, "evidence: the value");
		ok(evidence_number(f, "threshold") == 0.02, "evidence: the threshold");
	}
	f = expect_finding(&found, "prometheus/latency/above");
	ok(f != NULL, "above, no service: fingerprint prometheus/<check>/above");
	if (f) {
		is_int(f->failing, 1, "1.3 is above 0.8: failing");
		is_str(f->summary, "latency is 1.3, above 0.8", "summary");
		is_int(f->severity, SEVERITY_MEDIUM, "severity: medium by default");
		is_str(f->service, "latency", "service: the check's name by default");
	}

	is_int(fake_count(&prom, mark, "GET", "^/api/v1/query$"), 2, "two queries, one per check");
	is_int(queries_for(mark, Q_LATENCY), 1, "the PromQL reached Prometheus intact");
	is_int(fake_count(&prom, mark, NULL, "^/api/v1/alerts$"), 0, "no alerts without scout.alerts");
	r = fake_first(&prom, mark, "GET", "^/api/v1/query$");
	raw = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "query"));
	ok(raw && starts_with(raw, "query=") && !strpbrk(raw, " \"{}[]()+/~"),
	   "the query string is URL-encoded");
	if (raw)
		printf("# %s\n", raw);
	cJSON_Delete(r);

	/* The same checks, another minute: latency is back to normal. */
	set_scenario(0.5, 50, NULL);
	collect();
	f = expect_finding(&found, "prometheus/latency/above");
	ok(f && !f->failing, "0.5 is not above 0.8: healthy, same fingerprint");
	if (f)
		is_str(f->summary, "latency is 0.5, not above 0.8", "healthy summary");
	f = expect_finding(&found, "prometheus/shop/below/conversion");
	ok(f && f->failing, "conversion still failing");
}

static void test_both_and_series(void)
{
	struct finding *f;

	set_scenario(1.3, 50, NULL);
	set_config("[check \"queue\"]\n\tprometheus = " C_QUEUE "\n\tabove = 100\n\tbelow = 1\n"
		   "[check \"errors\"]\n\tprometheus = " C_ERRORS "\n\tabove = 5\n");
	collect();
	is_int(ret, 0, "collect succeeds");
	is_int(found.nr, 4, "two thresholds of a scalar and two series: four findings");
	f = expect_finding(&found, "prometheus/queue/above");
	ok(f && !f->failing, "a scalar 0.5 is not above 100");
	f = expect_finding(&found, "prometheus/queue/below");
	ok(f && f->failing, "a scalar 0.5 is below 1");
	if (f)
		is_str(f->summary, "queue is 0.5, below 1", "its summary");

	set_config("[check \"edge\"]\n\tprometheus = " C_QUEUE "\n\tabove = 0.5\n\tbelow = 0.5\n");
	collect();
	f = expect_finding(&found, "prometheus/edge/above");
	ok(f && !f->failing, "0.5 is not above 0.5: a value on the threshold is healthy");
	f = expect_finding(&found, "prometheus/edge/below");
	ok(f && !f->failing, "nor below it");

	set_config("[check \"errors\"]\n\tprometheus = " C_ERRORS "\n\tabove = 5\n");
	collect();
	f = expect_finding(&found, "prometheus/errors/above/errors{pod=\"b\",zone=\"eu\"}");
	ok(f && f->failing, "several series: each judged, named by its sorted labels");
	if (f) {
		is_str(f->check, "errors{pod=\"b\",zone=\"eu\"}", "check name with labels");
		is_str(f->summary, "errors{pod=\"b\",zone=\"eu\"} is 7, above 5", "summary");
		ok(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(f->evidence,
			"labels"), "pod") != NULL, "evidence carries the labels");
	}
	f = expect_finding(&found, "prometheus/errors/above/errors{pod=\"a\",zone=\"eu\"}");
	ok(f && !f->failing, "the other series, healthy; __name__ left out of the name");
}

static void test_no_data(void)
{
	set_scenario(1.3, 50, NULL);
	set_config("[check \"idle\"]\n\tprometheus = up{job=\\\"idle\\\"}\n\tabove = 1\n"
		   "[check \"ratio\"]\n\tprometheus = nan_ratio\n\tbelow = 1\n");
	collect();
	is_int(ret, 0, "an empty vector and a NaN are not failures");
	is_int(found.nr, 0, "and give no finding");
	is_str(err.buf, "", "nor a line in err");
}

static void test_min_samples(void)
{
	struct finding *f;
	int mark;

	set_scenario(1.3, 3, NULL);
	set_config("[check \"conversion\"]\n\tprometheus = " Q_CONVERSION "\n\tbelow = 0.02\n"
		   "\tsamples = " Q_QUOTES "\n\tmin-samples = 10\n");
	mark = fake_log_mark(&prom);
	collect();
	is_int(ret, 0, "a quiet minute: collect succeeds");
	is_int(found.nr, 0, "3 quotes, fewer than min-samples 10: not judged");
	is_int(queries_for(mark, Q_QUOTES), 1, "the samples query was asked");

	set_scenario(1.3, 50, NULL);
	collect();
	f = expect_finding(&found, "prometheus/conversion/below");
	ok(f && f->failing, "50 quotes: judged, and 0.012 is below 0.02");
	ok(evidence_number(f, "samples") == 50, "evidence: the samples");
}

static void test_bad_config_and_query(void)
{
	set_scenario(1.3, 50, NULL);
	set_config("[check \"broken\"]\n\tprometheus = rate(x[5m]) syntax error\n\tabove = 1\n"
		   "[check \"nothreshold\"]\n\tprometheus = up\n"
		   "[check \"latency\"]\n\tprometheus = " C_LATENCY "\n\tabove = 0.8\n");
	collect();
	is_int(ret, 0, "a bad query and a check without threshold: the others still count");
	ok(expect_finding(&found, "prometheus/latency/above") != NULL, "latency judged");
	is_int(found.nr, 1, "and only latency");
	like(err.buf, "prometheus: check \"broken\": bad_data: ", "the bad check named in err");
	like(err.buf, "parse error: unexpected identifier \"error\"", "with Prometheus's error");
	like(err.buf, "prometheus: check \"nothreshold\" has neither above nor below",
	     "the check without a threshold named in err");
	is_int(strchr(err.buf, '\n') && !strchr(strchr(err.buf, '\n') + 1, '\n'), 1,
	       "two lines, one each");

	set_config("[check \"broken\"]\n\tprometheus = rate(x[5m]) syntax error\n\tabove = 1\n");
	collect();
	is_int(ret, -1, "only a bad query: nothing could be read, -1");
	ok(!strchr(err.buf, '\n') && starts_with(err.buf, "prometheus: check \"broken\""),
	   "one line naming the check");

	set_config("[check \"a\"]\n\tprometheus = up\n\tabove = lots\n"
		   "[check \"b\"]\n\tprometheus = up\n\tbelow = 1\n\tseverity = dire\n"
		   "[check \"c\"]\n\tprometheus = up\n\tbelow = 1\n\tmin-samples = 5\n");
	collect();
	is_int(ret, -1, "every check misconfigured: -1");
	like(err.buf, "check \"a\": above is 'lots', not a number", "a threshold that is no number");
	like(err.buf, "check \"b\": severity is 'dire'", "a severity that is none");
	like(err.buf, "check \"c\": min-samples needs samples", "min-samples without samples");
}

static void test_down(void)
{
	char *url = xstrfmt("http://127.0.0.1:%d", closed_port());
	char *want = xstrfmt("prometheus: %s: ", url);
	char *url404 = xstrfmt("%s/nothing-here/", prom.url);

	set_config_url(url, "[check \"latency\"]\n\tprometheus = up\n\tabove = 1\n"
		       "[check \"odd\"]\n\tprometheus = up\n");
	collect();
	is_int(ret, -1, "Prometheus unreachable: -1");
	ok(starts_with(err.buf, want), "the line names prometheus and its URL");
	ok(!strchr(err.buf, '\n'), "one line, and only that one");
	is_int(found.nr, 0, "no finding");
	diag_text("err", err.buf);

	set_scenario(1.3, 50, NULL);
	set_config("[check \"latency\"]\n\tprometheus = " C_LATENCY "\n\tabove = 0.8\n"
		   "[check \"conversion\"]\n\tprometheus = " Q_CONVERSION "\n\tbelow = 0.02\n");
	/* Both checks' first tries and one retry fail: one check gets an
	 * answer, the other none. */
	fake_fail(&prom, "{\"path\": \"^/api/v1/query$\", \"status\": 503, \"times\": 3,"
		  " \"body\": {\"status\": \"error\", \"errorType\": \"timeout\","
		  " \"error\": \"query timed out in expression evaluation\"}}");
	collect();
	is_int(ret, -1, "5xx past the retries: -1");
	is_int(found.nr, 0, "no finding from the checks that did answer");
	like(err.buf, "HTTP 503 after 2 attempts: query timed out", "the line says why");
	ok(!strchr(err.buf, '\n') && starts_with(err.buf, "prometheus: http://127.0.0.1:"),
	   "one line naming prometheus and its URL");

	set_config_url(url404, "[check \"latency\"]\n\tprometheus = up\n\tabove = 1\n");
	collect();
	is_int(ret, -1, "a URL that is not Prometheus: -1");
	like(err.buf, "HTTP 404", "HTTP 404 said");
	free(url404);
	free(want);
	free(url);
}

#define ALERTS "[" \
	"{\"labels\": {\"alertname\": \"HighErrorRate\", \"service\": \"checkout\"," \
	" \"job\": \"api\", \"severity\": \"critical\"}," \
	" \"annotations\": {\"summary\": \"checkout errors above 5%\"}, \"state\": \"firing\"}," \
	"{\"labels\": {\"alertname\": \"DiskFilling\", \"job\": \"node\", \"instance\": \"a\"," \
	" \"severity\": \"warning\"}, \"state\": \"firing\"}," \
	"{\"labels\": {\"alertname\": \"DiskFilling\", \"job\": \"node\", \"instance\": \"b\"," \
	" \"severity\": \"error\"}, \"state\": \"firing\"}," \
	"{\"labels\": {\"alertname\": \"Pending\", \"severity\": \"critical\"}, \"state\": \"pending\"}," \
	"{\"labels\": {\"alertname\": \"Chatty\", \"service\": \"x\", \"severity\": \"info\"}," \
	" \"state\": \"firing\"}," \
	"{\"labels\": {\"alertname\": \"Bare\"}, \"state\": \"firing\"}]"

static void test_alerts(void)
{
	struct finding *f;
	int mark = fake_log_mark(&prom);

	set_scenario(1.3, 50, ALERTS);
	set_config("[scout]\n\talerts = true\n");
	collect();
	is_int(ret, 0, "scout.alerts: collect succeeds");
	is_int(fake_count(&prom, mark, "GET", "^/api/v1/alerts$"), 1, "GET /api/v1/alerts, once");
	is_int(found.nr, 4, "four findings: the pending alert is not firing, DiskFilling is one");
	f = expect_finding(&found, "prometheus/checkout/alert/HighErrorRate");
	ok(f != NULL, "fingerprint prometheus/<service>/alert/<alertname>");
	if (f) {
		is_int(f->failing, 1, "failing");
		is_str(f->check, "HighErrorRate", "check: the alert's name");
		is_str(f->service, "checkout", "service: labels.service before labels.job");
		is_str(f->signal, "alert/HighErrorRate", "signal");
		is_int(f->severity, SEVERITY_CRITICAL, "critical -> critical");
		is_str(f->summary, "checkout errors above 5%", "summary: annotations.summary");
	}
	f = expect_finding(&found, "prometheus/node/alert/DiskFilling");
	ok(f != NULL, "service: labels.job without labels.service");
	if (f) {
		is_int(f->severity, SEVERITY_HIGH, "warning and error at once: the worse, high");
		is_str(f->summary, "DiskFilling", "summary: the alert's name without annotations");
		ok(evidence_number(f, "alerts") == 2, "evidence: two alerts");
	}
	f = expect_finding(&found, "prometheus/x/alert/Chatty");
	ok(f && f->severity == SEVERITY_LOW, "info -> low");
	f = expect_finding(&found, "prometheus/unknown/alert/Bare");
	ok(f && f->severity == SEVERITY_MEDIUM, "neither service nor job: unknown; no severity: medium");
}

static void test_auth(void)
{
	struct fake secured;
	struct finding *f;
	cJSON *r;

	if (fake_start(&secured, "prometheus", "basic", "--basic-auth", "sre:s3cret-pw", NULL) < 0) {
		ok(0, "the fake with basic auth starts");
		return;
	}
	fake_call(&secured, "POST", "/_fake/set", "{\"up\": [{\"metric\": {}, \"value\": 0}]}", NULL);
	set_config_url(secured.url, "[prometheus]\n\tuser = sre\n"
		       "[check \"up\"]\n\tprometheus = up\n\tbelow = 1\n");
	setenv("PROMETHEUS_PASSWORD", "s3cret-pw", 1);
	collect();
	is_int(ret, 0, "basic auth: collect succeeds");
	f = expect_finding(&found, "prometheus/up/below");
	ok(f && f->failing, "and judges");
	r = fake_last(&secured, 0, "GET", "^/api/v1/query$");
	is_str(fake_header(r, "authorization"), "Basic c3JlOnMzY3JldC1wdw==",
	       "Authorization: Basic user:PROMETHEUS_PASSWORD");
	cJSON_Delete(r);

	setenv("PROMETHEUS_PASSWORD", "wrong-pw", 1);
	collect();
	is_int(ret, -1, "a wrong password: -1");
	like(err.buf, "HTTP 401", "the 401 said");
	unlike(err.buf, "wrong-pw", "never the password");

	unsetenv("PROMETHEUS_PASSWORD");
	collect();
	is_int(ret, -1, "a user and no password: -1");
	like(err.buf, "PROMETHEUS_PASSWORD", "the line says where the password comes from");
	fake_stop(&secured);

	if (fake_start(&secured, "prometheus", "bearer", "--bearer-token", "t0ken-xyz", NULL) < 0) {
		ok(0, "the fake with a bearer token starts");
		return;
	}
	fake_call(&secured, "POST", "/_fake/set", "{\"up\": [{\"metric\": {}, \"value\": 0}]}", NULL);
	set_config_url(secured.url, "[check \"up\"]\n\tprometheus = up\n\tbelow = 1\n");
	setenv("PROMETHEUS_TOKEN", "t0ken-xyz", 1);
	collect();
	is_int(ret, 0, "bearer token: collect succeeds");
	r = fake_last(&secured, 0, "GET", "^/api/v1/query$");
	is_str(fake_header(r, "authorization"), "Bearer t0ken-xyz",
	       "Authorization: Bearer PROMETHEUS_TOKEN");
	cJSON_Delete(r);
	unsetenv("PROMETHEUS_TOKEN");
	fake_stop(&secured);
}

int main(void)
{
	char *data, *path;

	if (!fake_begin())
		return 0;
	if (test_begin("prometheus") < 0)
		return 1;
	unsetenv("PROMETHEUS_PASSWORD");
	unsetenv("PROMETHEUS_TOKEN");
	data = scenario(1.3, 50, NULL);
	path = write_file("scenario.json", data);
	if (fake_start(&prom, "prometheus", "prom", "--data", path, NULL) < 0) {
		ok(0, "the fake Prometheus starts");
		free(data);
		free(path);
		return test_end();
	}

	test_configured();
	test_thresholds();
	test_both_and_series();
	test_no_data();
	test_min_samples();
	test_bad_config_and_query();
	test_down();
	test_alerts();
	test_auth();

	fake_stop(&prom);
	findings_clear(&found);
	strbuf_release(&err);
	config_clear(&cfg);
	free(data);
	free(path);
	return test_end();
}
