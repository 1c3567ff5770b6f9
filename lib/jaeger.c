/*
 * jaeger.c: the Jaeger source of `sre scout`.
 *
 * Every [service "<name>"] with max-error-rate or max-p99 is judged from
 * its recent traces, read with one search of jaeger-query's API (GET
 * /api/traces, what the Jaeger UI uses), all services at once:
 *
 *   error-rate  the share of the service's traces that failed, per trace
 *               (not per span): "checkout: 12% of 200 traces failed";
 *   p99         the 99th percentile (nearest rank) of the durations of
 *               the service's entry spans.
 *
 * An entry span is where a request enters the service: a span of the
 * service whose parent is another service's span, or that has none (a
 * root, or a parent outside the fetched trace). Only entry spans count,
 * since they are what callers saw: an error the service handled inside a
 * request (a failed cache lookup, a retried query) is not a failed
 * request, and a trace's other services' time is not the service's. A
 * trace failed when one of the service's entry spans in it carries
 * error=true (a bool, or the string "true" as some clients write it),
 * otel.status_code=ERROR, or an HTTP status of 500 or more
 * (http.status_code, or http.response.status_code of newer conventions).
 * A span's parent and whether it failed are read as lib/traces.c reads
 * them for `sre diagnose`, so that both commands agree about a span.
 * Fewer traces than jaeger.min-traces are not judged: no finding.
 *
 * jaeger-query ignores `lookback` on /api/traces (only its UI reads it) and
 * searches from `start` to `end`, in microseconds since the epoch, else
 * over its own default window; sre sends all three, so the window is
 * jaeger.lookback whatever the server's flags.
 *
 * Jaeger unreachable, answering 5xx or something that is not its API stops
 * the source: -1, one line, no findings. A service Jaeger answers with an
 * error, or that is misconfigured, is skipped with one line in err.
 *
 * Keys: jaeger.url, jaeger.lookback (15m), jaeger.limit (200),
 * jaeger.min-traces (20); per service: max-error-rate (0.05 or 5%),
 * max-p99 (a duration: 800ms), severity. The search and the reading of
 * its answer are shared with `sre diagnose` (lib/collect-jaeger.c).
 */
#include <math.h>

#include "scout.h"
#include "strbuf.h"
#include "timeutil.h"
#include "traces.h"

#define JAEGER_PARALLEL 8

struct jaeger_service {
	const char *name;        /* borrowed: the [service "<name>"] */
	double max_rate;
	int64_t max_p99_ms;
	int has_rate, has_p99;
	enum incident_severity severity;
};

/* What a service's traces say. */
struct trace_stats {
	size_t traces, failed;
	int64_t *durations;      /* of its entry spans, µs */
	size_t nr, alloc;
};

/* A span's id and service, to find a parent's service by id. */
struct span_ref {
	const char *id;
	const char *service;
};

/* A share: a fraction from 0 to 1 ("0.05") or a percentage ("5%"); 0 or -1. */
static int parse_rate(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s)
		return -1;
	if (*end == '%') {
		v /= 100;
		end++;
	} else if (v > 1) {
		return -1; /* "5" is 5% or 500%: say which */
	}
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end || !isfinite(v) || v < 0 || v > 1)
		return -1;
	*out = v;
	return 0;
}

/* "12%", "0.5%", "33.3%" */
static void add_percent(struct strbuf *sb, double rate)
{
	strbuf_addf(sb, "%.3g%%", rate * 100);
}

/* A duration in µs as a person reads it: "0.4ms", "820ms", "1.5s". */
static void add_duration(struct strbuf *sb, double us)
{
	if (us < 1000000)
		strbuf_addf(sb, "%.4gms", us / 1000);
	else if (us < 1000000000)
		strbuf_addf(sb, "%.4gs", us / 1000000);
	else
		strbuf_addf(sb, "%.0fs", us / 1000000);
}

/* A duration in ms as Go's time.ParseDuration reads it: "15m", "90s". */
static void add_go_duration(struct strbuf *sb, int64_t ms)
{
	if (ms && ms % 3600000 == 0)
		strbuf_addf(sb, "%lldh", (long long)(ms / 3600000));
	else if (ms && ms % 60000 == 0)
		strbuf_addf(sb, "%lldm", (long long)(ms / 60000));
	else if (ms && ms % 1000 == 0)
		strbuf_addf(sb, "%llds", (long long)(ms / 1000));
	else
		strbuf_addf(sb, "%lldms", (long long)ms);
}

/* Fill s from [service "<name>"]: 1 when it asks to be judged, 0 when not, -1 (a line in err). */
static int read_service(const struct config *cfg, const char *name, struct jaeger_service *s,
			struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	const char *rate, *p99;
	int ret = -1;

	memset(s, 0, sizeof(*s));
	s->name = name;
	s->severity = SEVERITY_MEDIUM;
	rate = config_get_string(cfg, config_key_of(&sb, "service", name, "max-error-rate"));
	p99 = config_get_string(cfg, config_key_of(&sb, "service", name, "max-p99"));
	if (!rate && !p99) {
		ret = 0;
		goto out;
	}
	if (rate && parse_rate(rate, &s->max_rate) < 0) {
		scout_error_line(err, "jaeger: service \"%s\": max-error-rate is '%s', not a "
				 "fraction (0.05) or a percentage (5%%)", name, rate);
		goto out;
	}
	if (p99 && (parse_duration_ms(p99, &s->max_p99_ms) < 0 || s->max_p99_ms <= 0)) {
		scout_error_line(err, "jaeger: service \"%s\": max-p99 is '%s', not a duration "
				 "(800ms)", name, p99);
		goto out;
	}
	if (scout_severity(cfg, "jaeger", "service", name, &s->severity, err) < 0)
		goto out;
	s->has_rate = rate != NULL;
	s->has_p99 = p99 != NULL;
	ret = 1;
out:
	strbuf_release(&sb);
	return ret;
}

int jaeger_configured(const struct config *cfg)
{
	const char *url = config_get_string(cfg, "jaeger.url");

	return url && *url && (config_any_key(cfg, "service", "max-error-rate") ||
			       config_any_key(cfg, "service", "max-p99"));
}

static int compare_refs(const void *a, const void *b)
{
	return strcmp(((const struct span_ref *)a)->id, ((const struct span_ref *)b)->id);
}

static int compare_durations(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The service of a span: its process in the trace, or its own (older exports). */
static const char *span_service(const cJSON *span, const cJSON *processes)
{
	const char *pid = json_string(span, "processID");
	const cJSON *proc = pid ? json_get(processes, pid) : NULL;

	if (!proc)
		proc = json_get(span, "process");
	return json_string(proc, "serviceName");
}

/* Add what one trace says about service to st. */
static void read_trace(const cJSON *trace, const char *service, struct trace_stats *st)
{
	const cJSON *spans = json_get(trace, "spans");
	const cJSON *processes = json_get(trace, "processes"), *span;
	size_t n = 0, max = (size_t)cJSON_GetArraySize(spans);
	struct span_ref *refs = xcalloc(max ? max : 1, sizeof(*refs));
	int entered = 0, failed = 0;

	cJSON_ArrayForEach(span, spans) {
		const char *id = json_string(span, "spanID");
		const char *svc = span_service(span, processes);

		if (id && svc) {
			refs[n].id = id;
			refs[n].service = svc;
			n++;
		}
	}
	qsort(refs, n, sizeof(*refs), compare_refs);
	cJSON_ArrayForEach(span, spans) {
		const char *svc = span_service(span, processes), *pid = traces_span_parent(span);
		const cJSON *d = json_get(span, "duration");
		struct span_ref key = { pid, NULL }, *parent;
		long long us;

		if (!svc || strcmp(svc, service))
			continue;
		parent = pid ? bsearch(&key, refs, n, sizeof(*refs), compare_refs) : NULL;
		if (parent && !strcmp(parent->service, service))
			continue; /* inside the service: not where a request entered */
		entered = 1;
		failed |= traces_span_failed(span);
		/* µs; a span longer than a year (or negative, or 1e300) is nonsense. */
		if (!json_to_ll(d, 0, 365LL * 86400 * 1000000, &us)) {
			ALLOC_GROW(st->durations, st->nr + 1, st->alloc);
			st->durations[st->nr++] = us;
		}
	}
	if (entered) {
		st->traces++;
		st->failed += failed;
	}
	free(refs);
}

/* The nearest-rank 99th percentile of st's durations; st->nr > 0. */
static int64_t p99_us(struct trace_stats *st)
{
	size_t rank = (99 * st->nr + 99) / 100; /* ceil(0.99 n) */

	qsort(st->durations, st->nr, sizeof(*st->durations), compare_durations);
	return st->durations[rank ? rank - 1 : 0];
}

static void judge(const struct jaeger_service *s, struct trace_stats *st,
		  const char *lookback, struct findings *out)
{
	struct strbuf sb = STRBUF_INIT;
	struct finding *f;

	if (s->has_rate) {
		double rate = (double)st->failed / (double)st->traces;

		f = finding_add(out, "jaeger", s->name, s->name, "error-rate");
		f->failing = rate > s->max_rate;
		f->severity = s->severity;
		strbuf_addf(&sb, "%s: ", s->name);
		add_percent(&sb, rate);
		strbuf_addf(&sb, " of %zu trace%s failed (limit ", st->traces,
			    st->traces == 1 ? "" : "s");
		add_percent(&sb, s->max_rate);
		strbuf_addch(&sb, ')');
		finding_summary(f, "%s", sb.buf);
		f->evidence = cJSON_CreateObject();
		cJSON_AddNumberToObject(f->evidence, "traces", (double)st->traces);
		cJSON_AddNumberToObject(f->evidence, "failed", (double)st->failed);
		cJSON_AddNumberToObject(f->evidence, "error_rate", rate);
		cJSON_AddNumberToObject(f->evidence, "max_error_rate", s->max_rate);
		cJSON_AddStringToObject(f->evidence, "lookback", lookback);
	}
	if (s->has_p99 && st->nr) {
		int64_t p99 = p99_us(st);

		f = finding_add(out, "jaeger", s->name, s->name, "p99");
		f->failing = p99 > s->max_p99_ms * 1000;
		f->severity = s->severity;
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s: p99 ", s->name);
		add_duration(&sb, (double)p99);
		strbuf_addf(&sb, " over %zu trace%s (limit ", st->traces,
			    st->traces == 1 ? "" : "s");
		add_duration(&sb, (double)s->max_p99_ms * 1000);
		strbuf_addch(&sb, ')');
		finding_summary(f, "%s", sb.buf);
		f->evidence = cJSON_CreateObject();
		cJSON_AddNumberToObject(f->evidence, "traces", (double)st->traces);
		cJSON_AddNumberToObject(f->evidence, "spans", (double)st->nr);
		cJSON_AddNumberToObject(f->evidence, "p99_ms", (double)p99 / 1000);
		cJSON_AddNumberToObject(f->evidence, "max_p99_ms", (double)s->max_p99_ms);
		cJSON_AddStringToObject(f->evidence, "lookback", lookback);
	}
	strbuf_release(&sb);
}

const char *jaeger_answer_error(const cJSON *answer)
{
	const cJSON *e = cJSON_GetArrayItem(json_get(answer, "errors"), 0);
	return json_string(e, "msg");
}

/*
 * One answer of the API, parsed; or NULL with why when it is not one
 * (unreachable, 5xx past the retries, 401 from a proxy, a page that is not
 * JSON), which stops the source. A 400 with Jaeger's errors is an answer:
 * the error is one service's.
 */
cJSON *jaeger_api_answer(const struct http_response *res, struct strbuf *why)
{
	cJSON *json = NULL;

	if (res->outcome == HTTP_OK || res->status)
		json = cJSON_ParseWithLength(res->body.buf, res->body.len);
	if (res->outcome == HTTP_OK && cJSON_IsObject(json) &&
	    ((res->status / 100 == 2 &&
	      (cJSON_IsArray(json_get(json, "data")) ||
	       jaeger_answer_error(json))) ||
	     (res->status == 400 && jaeger_answer_error(json))))
		return json;
	http_answer_why(why, res, NULL, "the answer is not the JSON of Jaeger's query API",
			jaeger_answer_error(json));
	cJSON_Delete(json);
	return NULL;
}

char *jaeger_traces_url(const char *base, const char *service, int64_t lookback_ms,
			long long limit, int64_t end_us)
{
	struct strbuf u = STRBUF_INIT;

	strbuf_addf(&u, "%s/api/traces?service=", base);
	http_urlencode(&u, service);
	strbuf_addstr(&u, "&lookback=");
	add_go_duration(&u, lookback_ms);
	strbuf_addf(&u, "&limit=%lld&start=%lld&end=%lld", limit,
		    (long long)(end_us - lookback_ms * 1000), (long long)end_us);
	return strbuf_detach(&u, NULL);
}

/* A positive whole number key, or def when unset; -1 with a line in err. */
static int count_key(const struct config *cfg, const char *key, long long def,
		     long long *out, struct strbuf *err)
{
	const char *v = config_get_string(cfg, key);

	*out = def;
	if (v && (config_parse_int(v, out) < 0 || *out <= 0)) {
		scout_error_line(err, "jaeger: %s is '%s', not a positive number", key, v);
		return -1;
	}
	return 0;
}

/* Judge s from its answer (as jaeger_api_answer() accepts it); 0, or -1 with a line in err. */
static int judge_answer(const struct jaeger_service *s, const cJSON *answer, long long min_traces,
			const char *lookback, struct findings *out, struct strbuf *err)
{
	const cJSON *data = json_get(answer, "data"), *trace;
	struct trace_stats st = { 0, 0, NULL, 0, 0 };

	if (!cJSON_IsArray(data)) {
		const char *msg = jaeger_answer_error(answer);

		scout_error_line(err, "jaeger: service \"%s\": %s", s->name,
				 msg ? msg : "the answer has no data");
		return -1;
	}
	cJSON_ArrayForEach(trace, data)
		read_trace(trace, s->name, &st);
	if (st.traces >= (size_t)min_traces)
		judge(s, &st, lookback, out);
	free(st.durations);
	return 0;
}

int jaeger_judge_answer(const struct config *cfg, const char *name, const cJSON *answer,
			struct findings *out, struct strbuf *err)
{
	struct jaeger_service s;
	long long min_traces;
	int r = read_service(cfg, name, &s, err);

	if (r <= 0)
		return r;
	if (count_key(cfg, "jaeger.min-traces", 20, &min_traces, err) < 0)
		return -1;
	return judge_answer(&s, answer, min_traces, "15m", out, err);
}

int jaeger_collect(const struct config *cfg, struct http_client *http,
		   struct findings *out, struct strbuf *err)
{
	const char *url = config_get_string(cfg, "jaeger.url");
	const char *lookback_text = config_get_string(cfg, "jaeger.lookback");
	struct strvec names = STRVEC_INIT;
	struct strbuf base = STRBUF_INIT, why = STRBUF_INIT, lookback = STRBUF_INIT;
	struct jaeger_service *services = NULL;
	struct http_batch rs = HTTP_BATCH_INIT;
	long long limit, min_traces;
	int64_t lookback_ms = 15 * 60 * 1000, end_us;
	int errors = 0, usable = 0, ret = -1;
	size_t err_start = err->len;

	if (!url || !*url) {
		scout_error_line(err, "jaeger: jaeger.url is not set");
		return -1;
	}
	if (lookback_text && (parse_duration_ms(lookback_text, &lookback_ms) < 0 || lookback_ms <= 0)) {
		scout_error_line(err, "jaeger: jaeger.lookback is '%s', not a duration (15m)",
				 lookback_text);
		return -1;
	}
	if (count_key(cfg, "jaeger.limit", 200, &limit, err) < 0 ||
	    count_key(cfg, "jaeger.min-traces", 20, &min_traces, err) < 0)
		return -1;
	strbuf_addstr(&base, url);
	while (base.len && base.buf[base.len - 1] == '/')
		strbuf_setlen(&base, base.len - 1);
	add_go_duration(&lookback, lookback_ms);
	end_us = (int64_t)sre_now() * 1000000;

	config_subsections(cfg, "service", &names);
	services = xcalloc(names.nr + 1, sizeof(*services));
	for (size_t i = 0; i < names.nr; i++) {
		int r = read_service(cfg, names.v[i], &services[rs.nr], err);

		if (r < 0)
			errors++;
		if (r <= 0)
			continue;
		http_batch_add(&rs, jaeger_traces_url(base.buf, names.v[i], lookback_ms, limit,
						      end_us));
	}
	if (http_batch_answer(&rs, http, JAEGER_PARALLEL, jaeger_api_answer, &why) < 0) {
		/* Half the services read is not a picture: the source
		 * is down, and that is the one thing to say about it. */
		strbuf_setlen(err, err_start);
		scout_error_line(err, "jaeger: %s: %s", base.buf, why.buf);
		goto out;
	}
	for (size_t i = 0; i < rs.nr; i++) {
		if (judge_answer(&services[i], rs.answer[i], min_traces, lookback.buf, out, err) < 0)
			errors++;
		else
			usable++;
	}
	ret = errors && !usable ? -1 : 0;
out:
	http_batch_release(&rs);
	free(services);
	strvec_clear(&names);
	strbuf_release(&base);
	strbuf_release(&why);
	strbuf_release(&lookback);
	return ret;
}
