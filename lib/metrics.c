/*
 * metrics.c: the metrics source of `sre scout`: checks that read a
 * Prometheus text endpoint (a service's own /metrics) directly, with no
 * Prometheus server in between.
 *
 *   [check "conversion-rate"]
 *       metrics = http://127.0.0.1:8080/metrics
 *       numerator = orders_total
 *       denominator = quotes_total
 *       window = 5s
 *       below = 0.1
 *       min-samples = 5
 *
 * Without a denominator the check judges the numerator's value as it is
 * (a gauge). With one, counters are what services export, and their
 * totals since start move too slowly to show a fall: the endpoint is read
 * twice, window apart, and the check judges the ratio of the two
 * increases (orders per quote over the window). Fewer than min-samples
 * (default 1) of the denominator's increase is no verdict: no finding.
 *
 * A metric is a sample name with optional labels, as the exposition
 * format writes it: quotes_total, or demo_requests_total{service="quote"}
 * (labels matched as a set, in any order). Samples of the same name with
 * other labels are summed when the check names no labels.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <time.h>

#include "scout.h"
#include "timeutil.h"
#include "util.h"

#define MAX_METRICS_BODY (4 << 20)

int metrics_configured(const struct config *cfg)
{
	return config_any_key(cfg, "check", "metrics");
}

struct metrics_check {
	const char *name, *url, *service;
	const char *numerator, *denominator;
	double above, below, min_samples;
	int has_above, has_below;
	int64_t window_ms;
	enum incident_severity severity;
	double num[2], den[2];
	int seen_num[2], seen_den[2];
};

static int parse_number(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return end == s || *end || errno ? -1 : 0;
}

static int number_key(const struct config *cfg, const char *name, const char *key,
		      double *out, int *has, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	const char *v = config_get_string(cfg, config_key_of(&sb, "check", name, key));
	int ret = 0;

	if (has)
		*has = 0;
	if (v) {
		if (parse_number(v, out) < 0) {
			scout_error_line(err, "metrics: check \"%s\": %s is '%s', not a number", name, key, v);
			ret = -1;
		} else if (has) {
			*has = 1;
		}
	}
	strbuf_release(&sb);
	return ret;
}

static int read_check(const struct config *cfg, const char *name, struct metrics_check *c,
		      struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	c->name = name;
	c->url = config_get_string(cfg, config_key_of(&sb, "check", name, "metrics"));
	c->numerator = config_get_string(cfg, config_key_of(&sb, "check", name, "numerator"));
	c->denominator = config_get_string(cfg, config_key_of(&sb, "check", name, "denominator"));
	c->service = config_get_string(cfg, config_key_of(&sb, "check", name, "service"));
	if (!c->service || !*c->service)
		c->service = name;
	c->severity = SEVERITY_MEDIUM;
	c->min_samples = 1;
	c->window_ms = 5000;
	if (!c->url || !*c->url || !c->numerator || !*c->numerator) {
		scout_error_line(err, "metrics: check \"%s\" needs metrics (a URL) and numerator", name);
		goto out;
	}
	if (c->denominator && !*c->denominator)
		c->denominator = NULL;
	if (number_key(cfg, name, "above", &c->above, &c->has_above, err) < 0 ||
	    number_key(cfg, name, "below", &c->below, &c->has_below, err) < 0 ||
	    number_key(cfg, name, "min-samples", &c->min_samples, NULL, err) < 0)
		goto out;
	if (!c->has_above && !c->has_below) {
		scout_error_line(err, "metrics: check \"%s\" has neither above nor below", name);
		goto out;
	}
	if (config_get_duration_ms(cfg, config_key_of(&sb, "check", name, "window"), &c->window_ms) < 0 ||
	    c->window_ms < 100 || c->window_ms > 300000) {
		scout_error_line(err, "metrics: check \"%s\": window takes 100ms to 5m", name);
		goto out;
	}
	if (scout_severity(cfg, "metrics", "check", name, &c->severity, err) < 0)
		goto out;
	ret = 0;
out:
	strbuf_release(&sb);
	return ret;
}

/* ---- the exposition format ---- */

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The labels of a sample, sorted "k=v" pairs joined by commas; 0, or -1 when malformed. */
static int read_labels(const char **p, struct strbuf *out)
{
	struct strvec pairs = STRVEC_INIT;
	const char *s = *p;
	int ret = -1;

	if (*s != '{')
		return 0;
	s++;
	for (;;) {
		struct strbuf pair = STRBUF_INIT;
		while (*s == ' ' || *s == ',')
			s++;
		if (*s == '}') {
			s++;
			break;
		}
		while (*s && *s != '=' && *s != '}' && *s != '\n')
			strbuf_addch(&pair, *s++);
		strbuf_trim(&pair);
		if (*s != '=' || s[1] != '"') {
			strbuf_release(&pair);
			goto out;
		}
		strbuf_addch(&pair, '=');
		for (s += 2; *s && *s != '"' && *s != '\n'; s++) {
			if (*s == '\\' && s[1])
				s++;
			strbuf_addch(&pair, *s);
		}
		if (*s != '"') {
			strbuf_release(&pair);
			goto out;
		}
		s++;
		strvec_push(&pairs, pair.buf);
		strbuf_release(&pair);
	}
	qsort(pairs.v, pairs.nr, sizeof(*pairs.v), compare_strings);
	for (size_t i = 0; i < pairs.nr; i++)
		strbuf_addf(out, "%s%s", i ? "," : "", pairs.v[i]);
	*p = s;
	ret = 0;
out:
	strvec_clear(&pairs);
	return ret;
}

/* Split a check's metric "name{a="b"}" into its name and canonical labels. */
static int split_metric(const char *metric, struct strbuf *name, struct strbuf *labels)
{
	const char *p = metric;

	while (*p && *p != '{' && !isspace((unsigned char)*p))
		strbuf_addch(name, *p++);
	if (read_labels(&p, labels) < 0)
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	return *p ? -1 : 0;
}

/*
 * The value of metric in the text: the sample with that name and labels,
 * or, when metric names no labels, the sum of every sample of that name.
 * 0 and *out, or -1 when there is none.
 */
int metrics_sample_value(const char *text, const char *metric, double *out)
{
	struct strbuf want_name = STRBUF_INIT, want_labels = STRBUF_INIT;
	struct strbuf labels = STRBUF_INIT;
	double sum = 0;
	int found = 0;

	if (split_metric(metric, &want_name, &want_labels) < 0) {
		strbuf_release(&want_name);
		strbuf_release(&want_labels);
		return -1;
	}
	for (const char *line = text; *line;) {
		const char *eol = strchrnul(line, '\n'), *p = line;
		size_t n = want_name.len;

		if (*p != '#' && !strncmp(p, want_name.buf, n) &&
		    (p[n] == '{' || p[n] == ' ' || p[n] == '\t')) {
			p += n;
			strbuf_reset(&labels);
			if (read_labels(&p, &labels) == 0 && p <= eol &&
			    (!want_labels.len || !strcmp(labels.buf, want_labels.buf))) {
				char *value = xstrndup(p, (size_t)(eol - p)), *end;
				double v;
				errno = 0;
				v = strtod(value, &end);
				if (end != value && !errno && isfinite(v)) {
					sum += v;
					found = 1;
				}
				free(value);
			}
		}
		line = *eol ? eol + 1 : eol;
	}
	strbuf_release(&want_name);
	strbuf_release(&want_labels);
	strbuf_release(&labels);
	if (found)
		*out = sum;
	return found ? 0 : -1;
}

/* ---- reading ---- */

/* Read every check's endpoint once, at once; reading i of 0 or 1. */
static void read_all(struct http_client *http, struct metrics_check *c, size_t n, int reading,
		     struct strbuf *why)
{
	struct http_request *reqs = xcalloc(n, sizeof(*reqs));
	struct http_response *res = xcalloc(n, sizeof(*res));
	size_t max_body = http->max_body;

	for (size_t i = 0; i < n; i++) {
		reqs[i] = (struct http_request)HTTP_REQUEST_INIT;
		reqs[i].method = "GET";
		reqs[i].url = c[i].url;
		reqs[i].timeout_ms = 10000;
		strvec_push(&reqs[i].headers, "Accept: text/plain;version=0.0.4");
		res[i] = (struct http_response)HTTP_RESPONSE_INIT;
	}
	if (http->max_body > MAX_METRICS_BODY)
		http->max_body = MAX_METRICS_BODY;
	http_do_many(http, reqs, res, n, 0);
	http->max_body = max_body;
	for (size_t i = 0; i < n; i++) {
		if (res[i].outcome != HTTP_OK || res[i].status != 200) {
			if (!why[i].len)
				http_answer_why(&why[i], &res[i], NULL, NULL, NULL);
		} else {
			const char *text = res[i].body.buf;

			c[i].seen_num[reading] = !metrics_sample_value(text, c[i].numerator,
								       &c[i].num[reading]);
			if (c[i].denominator)
				c[i].seen_den[reading] = !metrics_sample_value(text, c[i].denominator,
									       &c[i].den[reading]);
		}
		http_request_release(&reqs[i]);
		http_response_release(&res[i]);
	}
	free(reqs);
	free(res);
}

static void judge(const struct metrics_check *c, double value, const char *what,
		  struct findings *out)
{
	int low = c->has_below && value < c->below, high = c->has_above && value > c->above;
	struct finding *f = finding_add(out, "metrics", c->name, c->service,
					c->has_below ? "below" : "above");

	f->severity = c->severity;
	f->failing = low || high;
	f->evidence = cJSON_CreateObject();
	cJSON_AddNumberToObject(f->evidence, "value", value);
	cJSON_AddStringToObject(f->evidence, "url", c->url);
	if (low)
		finding_summary(f, "%s is %.4g, below %g (%s)", c->name, value, c->below, what);
	else if (high)
		finding_summary(f, "%s is %.4g, above %g (%s)", c->name, value, c->above, what);
	else
		finding_summary(f, "%s is %.4g (%s)", c->name, value, what);
}

int metrics_collect(const struct config *cfg, struct http_client *http,
		    struct findings *out, struct strbuf *err)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf key = STRBUF_INIT;
	struct metrics_check *c;
	struct strbuf *why;
	size_t n = 0, before = out->nr;
	int64_t window = 0;
	int failed = 0;

	config_subsections(cfg, "check", &names);
	c = xcalloc(names.nr ? names.nr : 1, sizeof(*c));
	for (size_t i = 0; i < names.nr; i++) {
		if (!config_get_string(cfg, config_key_of(&key, "check", names.v[i], "metrics")))
			continue;
		if (read_check(cfg, names.v[i], &c[n], err) < 0) {
			failed = 1;
			continue;
		}
		if (c[n].denominator && c[n].window_ms > window)
			window = c[n].window_ms;
		n++;
	}
	why = xcalloc(n ? n : 1, sizeof(*why));
	for (size_t i = 0; i < n; i++)
		strbuf_init(&why[i], 0);
	if (n) {
		read_all(http, c, n, 0, why);
		if (window) {
			sleep_ms(window);
			read_all(http, c, n, 1, why);
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct strbuf what = STRBUF_INIT;
		int last = c[i].denominator ? 1 : 0;

		if (why[i].len) {
			scout_error_line(err, "metrics: check \"%s\": %s: %s", c[i].name, c[i].url, why[i].buf);
			failed = 1;
		} else if (!c[i].seen_num[last] || (c[i].denominator &&
			   (!c[i].seen_num[0] || !c[i].seen_den[0] || !c[i].seen_den[1]))) {
			scout_error_line(err, "metrics: check \"%s\": %s has no %s", c[i].name, c[i].url,
					 c[i].seen_num[last] ? c[i].denominator : c[i].numerator);
			failed = 1;
		} else if (!c[i].denominator) {
			strbuf_addf(&what, "%s", c[i].numerator);
			judge(&c[i], c[i].num[0], what.buf, out);
		} else {
			double dn = c[i].num[1] - c[i].num[0], dd = c[i].den[1] - c[i].den[0];
			/* Too few samples, or a counter reset: no verdict this time. */
			if (dd >= c[i].min_samples && dn >= 0) {
				strbuf_addf(&what, "%.0f %s per %.0f %s in ", dn, c[i].numerator, dd,
					    c[i].denominator);
				if (c[i].window_ms % 1000)
					strbuf_addf(&what, "%lldms", (long long)c[i].window_ms);
				else
					strbuf_addf(&what, "%llds", (long long)(c[i].window_ms / 1000));
				judge(&c[i], dn / dd, what.buf, out);
			}
		}
		strbuf_release(&what);
		strbuf_release(&why[i]);
	}
	free(why);
	free(c);
	strvec_clear(&names);
	strbuf_release(&key);
	/* Some checks judged: what could not be read is said, and the rest counts. */
	return failed && out->nr == before ? -1 : 0;
}
