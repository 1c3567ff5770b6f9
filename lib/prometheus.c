/*
 * prometheus.c: the Prometheus source of `sre scout`.
 *
 * Every [check "<name>"] with a `prometheus` key holds a PromQL expression.
 * Each run evaluates them all at once as instant queries (GET
 * /api/v1/query) and judges each series of the answer against `above`
 * and/or `below`: one finding per series and threshold, failing when the
 * value crosses it. A ratio may name its denominator (`samples`, with
 * `min-samples`): when too little happened, the check is not judged at
 * all, so a quiet minute with three quotes and no order is not read as a
 * conversion of 0%. With scout.alerts, the alerts Prometheus has firing
 * (GET /api/v1/alerts) become failing findings too.
 *
 * Failures are told apart. Prometheus unreachable, answering 5xx, or
 * answering something that is not its API stops the whole source: -1, one
 * line, no findings. A check that is misconfigured, or whose PromQL
 * Prometheus rejects, is skipped with one line in err; the others are still
 * judged and collect() returns 0, unless nothing at all could be read.
 *
 * Keys: prometheus.url, prometheus.user with prometheus.password
 * (PROMETHEUS_PASSWORD, prometheus.password-command) or prometheus.token
 * (PROMETHEUS_TOKEN, prometheus.token-command), scout.alerts; per check:
 * prometheus, above, below, samples, min-samples, service, severity. The
 * authentication and the reading of answers are shared with `sre
 * diagnose` (lib/collect-prometheus.c).
 */
#include <math.h>

#include "scout.h"
#include "strbuf.h"

/* Requests in flight at once: enough for every check of a normal config. */
#define PROMETHEUS_PARALLEL 16

struct prom_check {
	const char *name;          /* borrowed: the [check "<name>"] */
	const char *query;         /* borrowed from the config */
	const char *samples;       /* the denominator's query, or NULL */
	const char *service;
	double above, below, min_samples;
	int has_above, has_below;
	enum incident_severity severity;
	size_t query_req, samples_req; /* where its requests are in the batch */
};

struct series {
	char *labels;  /* {a="x",b="y"}, sorted, without __name__; "" for none */
	const cJSON *metric;
	double value;
};

struct series_list {
	struct series *v;
	size_t nr, alloc;
};

/* A whole finite number; 0, or -1. */
static int parse_number(const char *s, double *out)
{
	char *end;

	if (!s || !*s)
		return -1;
	*out = strtod(s, &end);
	while (*end == ' ' || *end == '\t')
		end++;
	return *end || !isfinite(*out) ? -1 : 0;
}

/* A sample value as Prometheus writes it: a number, NaN, +Inf or -Inf. */
static int parse_sample(const cJSON *pair, double *out)
{
	const cJSON *v = cJSON_GetArrayItem(pair, 1);
	char *end;

	if (!cJSON_IsArray(pair) || !cJSON_IsString(v) || !*v->valuestring)
		return -1;
	*out = strtod(v->valuestring, &end);
	return *end ? -1 : 0;
}

/*
 * Read an optional number key into *out; 0 when set or unset (*has says
 * which), -1 with a line in err when it is not a number.
 */
static int number_key(const struct config *cfg, const char *name, const char *key,
		      double *out, int *has, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	const char *v = config_get_string(cfg, config_key_of(&sb, "check", name, key));
	int ret = 0;

	*has = 0;
	if (v) {
		if (parse_number(v, out) < 0) {
			scout_error_line(err, "prometheus: check \"%s\": %s is '%s', not a number",
					 name, key, v);
			ret = -1;
		} else {
			*has = 1;
		}
	}
	strbuf_release(&sb);
	return ret;
}

/* Fill c from [check "<name>"]; 0, or -1 with a line in err. */
static int read_check(const struct config *cfg, const char *name, struct prom_check *c,
		      struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	int has_min = 0, ret = -1;

	memset(c, 0, sizeof(*c));
	c->name = name;
	c->query = config_get_string(cfg, config_key_of(&sb, "check", name, "prometheus"));
	c->samples = config_get_string(cfg, config_key_of(&sb, "check", name, "samples"));
	c->service = config_get_string(cfg, config_key_of(&sb, "check", name, "service"));
	if (!c->service || !*c->service)
		c->service = name;
	c->severity = SEVERITY_MEDIUM;
	c->min_samples = 1; /* with samples alone: judged once anything happened */
	if (!c->query || !*c->query) {
		scout_error_line(err, "prometheus: check \"%s\": prometheus is empty", name);
		goto out;
	}
	if (number_key(cfg, name, "above", &c->above, &c->has_above, err) < 0 ||
	    number_key(cfg, name, "below", &c->below, &c->has_below, err) < 0 ||
	    number_key(cfg, name, "min-samples", &c->min_samples, &has_min, err) < 0)
		goto out;
	if (!c->has_above && !c->has_below) {
		scout_error_line(err, "prometheus: check \"%s\" has neither above nor below", name);
		goto out;
	}
	if (c->samples && !*c->samples)
		c->samples = NULL;
	if (has_min && !c->samples) {
		scout_error_line(err, "prometheus: check \"%s\": min-samples needs samples, "
				 "the query that counts them", name);
		goto out;
	}
	if (scout_severity(cfg, "prometheus", "check", name, &c->severity, err) < 0)
		goto out;
	ret = 0;
out:
	strbuf_release(&sb);
	return ret;
}

/* Labels by name, then value: one order even when a name comes twice. */
static int compare_labels(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	int c = strcmp(x->string, y->string);

	return c ? c : strcmp(x->valuestring, y->valuestring);
}

/*
 * A series' labels as PromQL writes them, sorted: {a="x",b="y"}. The
 * labels themselves are kept, not looked up again by name: in an answer
 * with a name twice ({"a":1,"a":"x"}) the lookup finds the other one.
 */
static char *format_labels(const cJSON *metric)
{
	struct strbuf sb = STRBUF_INIT;
	const cJSON **labels;
	const cJSON *l;
	size_t nr = 0, n = (size_t)cJSON_GetArraySize(metric);

	if (!n || !cJSON_IsObject(metric))
		return xstrdup("");
	labels = xcalloc(n, sizeof(*labels));
	cJSON_ArrayForEach(l, metric)
		if (l->string && strcmp(l->string, "__name__") && cJSON_IsString(l))
			labels[nr++] = l;
	qsort(labels, nr, sizeof(*labels), compare_labels);
	for (size_t i = 0; i < nr; i++) {
		const char *v = labels[i]->valuestring;

		strbuf_addstr(&sb, i ? "," : "{");
		strbuf_addf(&sb, "%s=\"", labels[i]->string);
		for (; *v; v++) {
			if (*v == '"' || *v == '\\')
				strbuf_addch(&sb, '\\');
			if (*v == '\n')
				strbuf_addstr(&sb, "\\n");
			else
				strbuf_addch(&sb, *v);
		}
		strbuf_addch(&sb, '"');
	}
	if (nr)
		strbuf_addch(&sb, '}');
	free(labels);
	return strbuf_detach(&sb, NULL);
}

static void series_list_clear(struct series_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->v[i].labels);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/*
 * The series of a successful instant query's data: a vector's samples, or
 * a scalar as one series without labels. 0, or -1 with why.
 */
static int read_result(const cJSON *data, struct series_list *out, struct strbuf *why)
{
	const char *type = json_string(data, "resultType");
	const cJSON *result = json_get(data, "result"), *s;

	if (!type || !cJSON_IsArray(result)) {
		strbuf_addstr(why, "the answer has no resultType and result");
		return -1;
	}
	if (!strcmp(type, "scalar")) {
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr].labels = xstrdup("");
		out->v[out->nr].metric = NULL;
		if (parse_sample(result, &out->v[out->nr].value) < 0) {
			free(out->v[out->nr].labels);
			strbuf_addstr(why, "the scalar's value is not a number");
			return -1;
		}
		out->nr++;
		return 0;
	}
	if (strcmp(type, "vector")) {
		strbuf_addf(why, "the query gives a %s; a check needs an instant vector "
			    "or a scalar", !strcmp(type, "matrix") ? "range vector" : type);
		return -1;
	}
	cJSON_ArrayForEach(s, result) {
		const cJSON *metric = json_get(s, "metric");
		double v;

		if (parse_sample(json_get(s, "value"), &v) < 0) {
			strbuf_addstr(why, "a sample's value is not a number");
			return -1;
		}
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr].labels = format_labels(metric);
		out->v[out->nr].metric = metric;
		out->v[out->nr].value = v;
		out->nr++;
	}
	return 0;
}

/*
 * How many samples stand behind a series: the denominator's series with
 * the same labels, or else the denominator's total (a sum() over all).
 */
static double samples_for(const struct series_list *samples, const char *labels)
{
	double total = 0;

	for (size_t i = 0; i < samples->nr; i++) {
		double v = isnan(samples->v[i].value) ? 0 : samples->v[i].value;

		if (!strcmp(samples->v[i].labels, labels))
			return v;
		total += v;
	}
	return total;
}

/* One finding per threshold for one series of a check. */
static void judge(const struct prom_check *c, const struct series *s, const char *check,
		  const struct series_list *samples, double nsamples, struct findings *out)
{
	for (int below = 0; below < 2; below++) {
		struct finding *f;
		double t = below ? c->below : c->above;
		const char *signal = below ? "below" : "above";

		if (!(below ? c->has_below : c->has_above))
			continue;
		f = finding_add(out, "prometheus", check, c->service, signal);
		f->failing = below ? s->value < t : s->value > t;
		f->severity = c->severity;
		finding_summary(f, "%s is %g, %s%s %g", check, s->value,
				f->failing ? "" : "not ", signal, t);
		f->evidence = cJSON_CreateObject();
		cJSON_AddStringToObject(f->evidence, "query", c->query);
		cJSON_AddNumberToObject(f->evidence, "value", s->value);
		cJSON_AddNumberToObject(f->evidence, "threshold", t);
		if (s->metric && cJSON_GetArraySize(s->metric))
			cJSON_AddItemToObject(f->evidence, "labels", cJSON_Duplicate(s->metric, 1));
		if (samples) {
			cJSON_AddStringToObject(f->evidence, "samples_query", c->samples);
			cJSON_AddNumberToObject(f->evidence, "samples", nsamples);
		}
	}
}

/*
 * Judge one check from its answers (samples may be NULL). An empty result
 * or a NaN is no data, and a series with fewer samples than min-samples is
 * not judged: neither gives a finding.
 */
static void judge_check(const struct prom_check *c, const struct series_list *result,
			const struct series_list *samples, struct findings *out)
{
	for (size_t i = 0; i < result->nr; i++) {
		const struct series *s = &result->v[i];
		double nsamples = 0;
		char *check;

		if (isnan(s->value))
			continue;
		if (samples) {
			nsamples = samples_for(samples, s->labels);
			if (nsamples < c->min_samples)
				continue;
		}
		check = result->nr == 1 ? xstrdup(c->name) : xstrfmt("%s%s", c->name, s->labels);
		judge(c, s, check, samples, nsamples, out);
		free(check);
	}
}

/*
 * A failing finding per firing alert, fingerprinted
 * prometheus/<service>/alert/<alertname>. Alerts of one rule that differ
 * only in labels the fingerprint does not hold (instance, pod) are one
 * finding, with the most severe severity and their count, since two
 * findings with one fingerprint would be one incident anyway. An alert that
 * stops firing simply gives no finding: Prometheus says nothing of it.
 */
static void alert_findings(const cJSON *data, struct findings *out)
{
	const cJSON *alerts = json_get(data, "alerts"), *a;
	size_t first = out->nr;

	cJSON_ArrayForEach(a, alerts) {
		const cJSON *labels = json_get(a, "labels");
		const cJSON *ann = json_get(a, "annotations");
		const char *state = json_string(a, "state");
		const char *name = json_nonempty(labels, "alertname"), *service, *summary, *v;
		enum incident_severity sev =
			scout_alert_severity(json_nonempty(labels, "severity"));
		struct finding *f = NULL;
		char *signal;

		if (!state || strcmp(state, "firing"))
			continue; /* pending (or inactive): not firing yet */
		if (!name)
			name = "unnamed";
		service = scout_alert_service(labels);
		signal = xstrfmt("alert/%s", name);
		for (size_t i = first; i < out->nr && !f; i++)
			if (!strcmp(out->v[i].service, service) && !strcmp(out->v[i].signal, signal))
				f = &out->v[i];
		if (f) {
			cJSON *n = cJSON_GetObjectItemCaseSensitive(f->evidence, "alerts");

			free(signal);
			cJSON_SetNumberValue(n, n->valuedouble + 1);
			if (sev < f->severity)
				f->severity = sev;
			continue;
		}
		f = finding_add(out, "prometheus", name, service, signal);
		/* The alert's name is in the signal already: not twice. */
		free(f->fingerprint);
		f->fingerprint = xstrfmt("prometheus/%s/%s", service, signal);
		free(signal);
		f->failing = 1;
		f->severity = sev;
		summary = json_nonempty(ann, "summary");
		finding_summary(f, "%s", summary ? summary : name);
		f->evidence = cJSON_CreateObject();
		cJSON_AddItemToObject(f->evidence, "labels", json_copy(labels));
		cJSON_AddItemToObject(f->evidence, "annotations", json_copy(ann));
		if ((v = json_string(a, "activeAt")))
			cJSON_AddStringToObject(f->evidence, "active_at", v);
		if ((v = json_string(a, "value")))
			cJSON_AddStringToObject(f->evidence, "value", v);
		cJSON_AddNumberToObject(f->evidence, "alerts", 1);
	}
}

void prometheus_auth_release(struct prometheus_auth *auth)
{
	if (auth->userpwd) {
		memset(auth->userpwd, 0, strlen(auth->userpwd));
		free(auth->userpwd);
	}
	if (auth->header.alloc)
		memset(auth->header.buf, 0, auth->header.alloc);
	strbuf_release(&auth->header);
}

int prometheus_auth_read(const struct config *cfg, struct http_client *http,
			 struct prometheus_auth *auth, struct strbuf *err)
{
	const char *user = config_get_string(cfg, "prometheus.user");
	struct strbuf secret = STRBUF_INIT;
	int r, ret = 0;

	if (user && *user) {
		r = config_get_secret(cfg, "prometheus.password", "PROMETHEUS_PASSWORD", &secret);
		if (r < 0) {
			scout_error_line(err, "prometheus: cannot read the password");
			ret = -1;
		} else if (r > 0) {
			scout_error_line(err, "prometheus: prometheus.user is set but no password: "
					 "set PROMETHEUS_PASSWORD or prometheus.password-command");
			ret = -1;
		} else {
			http_client_add_secret(http, secret.buf);
			auth->userpwd = xstrfmt("%s:%s", user, secret.buf);
		}
	} else {
		r = config_get_secret(cfg, "prometheus.token", "PROMETHEUS_TOKEN", &secret);
		if (r < 0) {
			scout_error_line(err, "prometheus: cannot read the token");
			ret = -1;
		} else if (!r) {
			http_client_add_secret(http, secret.buf);
			strbuf_addf(&auth->header, "Authorization: Bearer %s", secret.buf);
		}
	}
	if (secret.alloc)
		memset(secret.buf, 0, secret.alloc);
	strbuf_release(&secret);
	return ret;
}

/* scout.alerts, read quietly: 1, 0, or -1 when it is not a boolean. */
static int alerts_wanted(const struct config *cfg)
{
	const struct config_entry *e = config_get_entry(cfg, "scout.alerts");
	int on = 0;

	if (!e)
		return 0;
	return config_parse_bool(e->value, &on) < 0 ? -1 : on;
}

int prometheus_configured(const struct config *cfg)
{
	const char *url = config_get_string(cfg, "prometheus.url");

	/* A bad scout.alerts is reported by collect(), so it runs. */
	if (alerts_wanted(cfg))
		return 1;
	return url && *url && config_any_key(cfg, "check", "prometheus");
}

/*
 * One answer of the API, parsed; or NULL with why when it is not one
 * (unreachable, 5xx past the retries, a proxy's 401, a page that is not
 * JSON), which stops the whole source. A 400 or 422 carrying Prometheus's
 * own error is an answer: the error is one query's.
 */
cJSON *prometheus_api_answer(const struct http_response *res, struct strbuf *why)
{
	cJSON *json = NULL;
	const char *status;

	if (res->outcome == HTTP_OK || res->status)
		json = cJSON_ParseWithLength(res->body.buf, res->body.len);
	status = json_string(json, "status");
	if (res->outcome == HTTP_OK && status &&
	    (res->status / 100 == 2 || res->status == 400 || res->status == 422))
		return json;
	http_answer_why(why, res, "check prometheus.user and its password, or the token",
			"the answer is not the JSON of Prometheus's API",
			json_string(json, "error"));
	cJSON_Delete(json);
	return NULL;
}

const cJSON *prometheus_api_data(const cJSON *answer, struct strbuf *why)
{
	const char *status = json_string(answer, "status");
	const char *type, *msg;

	if (strcmp(status, "error"))
		return json_get(answer, "data");
	type = json_string(answer, "errorType");
	msg = json_string(answer, "error");
	strbuf_addf(why, "%s%s%s", type ? type : "", type ? ": " : "", msg ? msg : "an error");
	return NULL;
}

/* Queue a GET of base + path (+ the query, URL-encoded); its index. */
static size_t add_request(struct http_batch *rs, const char *base, const char *path,
			  const char *query, const struct prometheus_auth *auth)
{
	struct strbuf url = STRBUF_INIT;

	strbuf_addf(&url, "%s%s", base, path);
	if (query) {
		strbuf_addstr(&url, "?query=");
		http_urlencode(&url, query);
	}
	prometheus_auth_apply(auth, http_batch_add(rs, strbuf_detach(&url, NULL)));
	return rs->nr - 1;
}

void prometheus_auth_apply(const struct prometheus_auth *auth, struct http_request *req)
{
	req->userpwd = auth->userpwd;
	if (auth->header.len)
		strvec_push(&req->headers, auth->header.buf);
}

/* The series one query answered; 0, or -1 with why. */
static int query_series(const cJSON *answer, struct series_list *out, struct strbuf *why)
{
	const cJSON *data = prometheus_api_data(answer, why);

	return data ? read_result(data, out, why) : -1;
}

/* Judge check c from its answers (samples NULL when it has none); 0, or -1 with a line in err. */
static int judge_answers(const struct prom_check *c, const cJSON *query, const cJSON *samples,
			 struct findings *out, struct strbuf *err)
{
	struct series_list result = { NULL, 0, 0 }, counts = { NULL, 0, 0 };
	struct strbuf why = STRBUF_INIT;
	int ret = -1;

	if (query_series(query, &result, &why) < 0) {
		scout_error_line(err, "prometheus: check \"%s\": %s", c->name, why.buf);
	} else if (c->samples && query_series(samples, &counts, &why) < 0) {
		scout_error_line(err, "prometheus: check \"%s\": samples: %s", c->name, why.buf);
	} else {
		judge_check(c, &result, c->samples ? &counts : NULL, out);
		ret = 0;
	}
	series_list_clear(&result);
	series_list_clear(&counts);
	strbuf_release(&why);
	return ret;
}

int prometheus_judge_check(const struct config *cfg, const char *name, const cJSON *query,
			   const cJSON *samples, struct findings *out, struct strbuf *err)
{
	struct prom_check c;

	if (read_check(cfg, name, &c, err) < 0)
		return -1;
	if (c.samples && !samples) {
		scout_error_line(err, "prometheus: check \"%s\": samples: no answer", name);
		return -1;
	}
	return judge_answers(&c, query, samples, out, err);
}

int prometheus_judge_alerts(const cJSON *answer, struct findings *out, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	const cJSON *data = prometheus_api_data(answer, &why);

	if (data)
		alert_findings(data, out);
	else
		scout_error_line(err, "prometheus: alerts: %s", why.buf);
	strbuf_release(&why);
	return data ? 0 : -1;
}

int prometheus_collect(const struct config *cfg, struct http_client *http,
		       struct findings *out, struct strbuf *err)
{
	const char *url = config_get_string(cfg, "prometheus.url");
	struct prometheus_auth auth = PROMETHEUS_AUTH_INIT;
	struct strvec names = STRVEC_INIT;
	struct strbuf base = STRBUF_INIT, why = STRBUF_INIT;
	struct prom_check *checks = NULL;
	struct http_batch rs = HTTP_BATCH_INIT;
	size_t nchecks = 0, alerts_req = 0;
	int alerts = alerts_wanted(cfg), errors = 0, usable = 0, ret = -1;
	size_t err_start = err->len;

	if (alerts < 0) {
		scout_error_line(err, "prometheus: scout.alerts is '%s', not a boolean",
				 config_get_string(cfg, "scout.alerts"));
		return -1;
	}
	if (!url || !*url) {
		scout_error_line(err, "prometheus: prometheus.url is not set");
		return -1;
	}
	strbuf_addstr(&base, url);
	while (base.len && base.buf[base.len - 1] == '/')
		strbuf_setlen(&base, base.len - 1);
	if (prometheus_auth_read(cfg, http, &auth, err) < 0)
		goto out;

	config_subsections(cfg, "check", &names);
	checks = xcalloc(names.nr + 1, sizeof(*checks));
	for (size_t i = 0; i < names.nr; i++) {
		struct strbuf sb = STRBUF_INIT;
		int has = config_get_string(cfg, config_key_of(&sb, "check", names.v[i],
							       "prometheus")) != NULL;

		strbuf_release(&sb);
		if (!has)
			continue; /* another source's check */
		if (read_check(cfg, names.v[i], &checks[nchecks], err) < 0)
			errors++;
		else
			nchecks++;
	}

	for (size_t i = 0; i < nchecks; i++) {
		struct prom_check *c = &checks[i];

		c->query_req = add_request(&rs, base.buf, "/api/v1/query", c->query, &auth);
		if (c->samples)
			c->samples_req = add_request(&rs, base.buf, "/api/v1/query", c->samples, &auth);
	}
	if (alerts)
		alerts_req = add_request(&rs, base.buf, "/api/v1/alerts", NULL, &auth);
	if (http_batch_answer(&rs, http, PROMETHEUS_PARALLEL, prometheus_api_answer, &why) < 0) {
		/* Nothing is judged from half the answers: the source is
		 * down, and that is the one thing to say about it. */
		strbuf_setlen(err, err_start);
		scout_error_line(err, "prometheus: %s: %s", base.buf, why.buf);
		goto out;
	}

	for (size_t i = 0; i < nchecks; i++) {
		const struct prom_check *c = &checks[i];

		if (judge_answers(c, rs.answer[c->query_req],
				  c->samples ? rs.answer[c->samples_req] : NULL, out, err) < 0)
			errors++;
		else
			usable++;
	}
	if (alerts) {
		if (prometheus_judge_alerts(rs.answer[alerts_req], out, err) < 0)
			errors++;
		else
			usable++;
	}
	ret = errors && !usable ? -1 : 0;
out:
	http_batch_release(&rs);
	free(checks);
	prometheus_auth_release(&auth);
	strvec_clear(&names);
	strbuf_release(&base);
	strbuf_release(&why);
	return ret;
}
