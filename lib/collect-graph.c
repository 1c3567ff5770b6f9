/*
 * collect-graph.c: the second round of `sre diagnose`'s collection: the
 * evidence of the whole call graph, and of the window before the incident.
 *
 * The first round (lib/collect.c) reads the incident service's own
 * sources. Its traces also name the services its slow and failing
 * requests went through, where the cause often is: a callee that throws,
 * or is starved of CPU, shows in its own logs and pods, not in the
 * caller's. So, within the same deadline:
 *
 *   graph        the logs of those services (collect_graph_services():
 *                every span of the erring traces and of the slowest, the
 *                services with most spans first, diagnose.graph-services
 *                of them), read by the first round's own collectors
 *                (Kubernetes, Docker, a process's log file) called with
 *                the graph service as theirs, 8 services at once; only
 *                their logs and ReplicaSets (ev->graph_replicasets, a
 *                recent rollout) are kept (ev->pods and ev->docker stay
 *                the incident service's, which the rules read as such);
 *   pod-metrics  six range queries over the pods of the incident service
 *                and of the graph services (CPU against its limit and
 *                throttling, memory against its limit, restarts), by pod;
 *                the pod names come from remote systems (trace tags, the
 *                API server, the Engine), so only DNS-1123 names reach the
 *                PromQL, the regex is capped, and dots are escaped;
 *   baseline     diagnose.baseline (default 1h) before the incident's
 *                opening: the incident service's traces (the first
 *                round's Jaeger search over that window), and the logs of
 *                every pod and container read, the incident's and the
 *                graph services': Kubernetes from sinceTime with
 *                timestamps, the lines before the opening kept and their
 *                time stripped; Docker between since and until. A process
 *                log file has no window: no baseline.
 *
 * The graph services' reads get two thirds of the time left, so that the
 * metrics and the baseline, which need the pods they found, still have a
 * third when one of them hangs. Nothing here fails the diagnosis: each
 * part is one line of ev->sources.
 */
#include <ctype.h>
#include <pthread.h>

#include "docker.h"
#include "evidence.h"
#include "http.h"
#include "jaeger.h"
#include "kubeconfig.h"
#include "kubernetes.h"
#include "progress.h"
#include "prometheus.h"
#include "redact.h"
#include "scout.h"
#include "timeutil.h"
#include "traces.h"
#include "util.h"

#define SLOWEST 20                 /* the slowest traces whose services are read */
#define GRAPH_PARALLEL 8           /* graph services read at once */
#define REQUEST_PARALLEL 8         /* requests in flight at once within a part */
#define POD_NAME_MAX 253           /* DNS-1123 subdomain */
#define POD_REGEX_MAX 4096         /* the most of a PromQL pod regex */
#define POD_POINTS 300             /* the most points of a pod metric's range */
#define POD_STEP_MIN 60            /* seconds */
#define POD_WINDOW_MIN 600         /* seconds: the least window of pod metrics */
#define BASELINE_LOG_BYTES (1 << 20)  /* limitBytes of a Kubernetes baseline log */
#define BASELINE_MAX_MS (30LL * 86400 * 1000)
#define STAMP_MAX 40               /* the longest RFC 3339 time a log line starts with */

int collect_graph_options(const struct config *cfg, struct graph_options *out)
{
	long long n = 20;
	int r;

	memset(out, 0, sizeof(*out));
	out->baseline_ms = 3600 * 1000;
	if (config_get_duration_ms(cfg, "diagnose.baseline", &out->baseline_ms) < 0)
		return -1;
	/* Further back than any source keeps its traces and logs is a mistake. */
	if (out->baseline_ms < 0 || out->baseline_ms > BASELINE_MAX_MS)
		return error("diagnose.baseline is not within 0 (none) and 30d");
	r = config_get_int(cfg, "diagnose.graph-services", &n);
	if (r < 0)
		return -1;
	if (n < 0 || n > 200)
		return error("diagnose.graph-services is %lld; it takes 0 to 200", n);
	out->max_services = n;
	return 0;
}

/* ---- reading the traces ---- */

/* The service of a span: its process's serviceName (in the trace's processes, or inline). */
static const char *span_service(const cJSON *trace, const cJSON *span)
{
	const cJSON *proc = json_get(span, "process");
	const char *pid;

	if (!proc && (pid = json_string(span, "processID")))
		proc = json_get(json_get(trace, "processes"), pid);
	return json_nonempty(proc, "serviceName");
}

/* How long a trace took, first span's start to last span's end (µs); *err when a span errs. */
static double trace_extent(const cJSON *trace, int *err)
{
	const cJSON *span;
	double first = 0, last = 0;
	int any = 0;

	*err = 0;
	cJSON_ArrayForEach(span, json_get(trace, "spans")) {
		const cJSON *s = json_get(span, "startTime"), *d = json_get(span, "duration");

		if (traces_span_failed(span))
			*err = 1;
		if (!cJSON_IsNumber(s) || !cJSON_IsNumber(d) || d->valuedouble < 0)
			continue;
		if (!any || s->valuedouble < first)
			first = s->valuedouble;
		if (!any || s->valuedouble + d->valuedouble > last)
			last = s->valuedouble + d->valuedouble;
		any = 1;
	}
	return any ? last - first : 0;
}

static int compare_doubles_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

struct service_count {
	const char *name;     /* borrowed from the traces */
	size_t spans;
};

static int compare_counts(const void *a, const void *b)
{
	const struct service_count *x = a, *y = b;

	if (x->spans != y->spans)
		return x->spans < y->spans ? 1 : -1;
	return strcmp(x->name, y->name);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void collect_graph_services(const cJSON *traces, const char *service, size_t max,
			    struct strvec *out)
{
	const cJSON *data = cJSON_IsArray(traces) ? traces : json_get(traces, "data"), *trace;
	size_t n = (size_t)cJSON_GetArraySize(data), i = 0;
	size_t names_nr = 0, names_alloc = 0, counts_nr = 0;
	const char **names = NULL;
	struct service_count *counts;
	double *extent, *sorted, slowest, p90;
	int *err;

	if (!cJSON_IsArray(data) || !n || !max)
		return;
	extent = xcalloc(n, sizeof(*extent));
	sorted = xcalloc(n, sizeof(*sorted));
	err = xcalloc(n, sizeof(*err));
	cJSON_ArrayForEach(trace, data) {
		extent[i] = trace_extent(trace, &err[i]);
		sorted[i] = extent[i];
		i++;
	}
	/* The slowest: the SLOWEST longest, and any above the 90th percentile. */
	qsort(sorted, n, sizeof(*sorted), compare_doubles_desc);
	slowest = sorted[n < SLOWEST ? n - 1 : SLOWEST - 1];
	p90 = sorted[n / 10];

	/* Every span's service on those traces, sorted: a run of one name is its count. */
	i = 0;
	cJSON_ArrayForEach(trace, data) {
		const cJSON *span;

		if (!err[i] && extent[i] < slowest && extent[i] <= p90) {
			i++;
			continue;
		}
		i++;
		cJSON_ArrayForEach(span, json_get(trace, "spans")) {
			const char *name = span_service(trace, span);

			if (!name || !strcmp(name, service))
				continue;
			ALLOC_GROW(names, names_nr + 1, names_alloc);
			names[names_nr++] = name;
		}
	}
	if (names_nr)
		qsort(names, names_nr, sizeof(*names), compare_names);
	counts = xcalloc(names_nr + 1, sizeof(*counts));
	for (size_t k = 0; k < names_nr; k++) {
		if (!counts_nr || strcmp(counts[counts_nr - 1].name, names[k]))
			counts[counts_nr++].name = names[k];
		counts[counts_nr - 1].spans++;
	}
	qsort(counts, counts_nr, sizeof(*counts), compare_counts);
	for (size_t k = 0, taken = 0; k < counts_nr && taken < max; k++) {
		if (!evidence_name_ok(counts[k].name) || strvec_has(out, counts[k].name))
			continue;
		strvec_push(out, counts[k].name);
		taken++;
	}
	free(names);
	free(counts);
	free(extent);
	free(sorted);
	free(err);
}

int collect_pod_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > POD_NAME_MAX || !isalnum((unsigned char)name[0]) ||
	    !isalnum((unsigned char)name[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-'))
			return 0;
	}
	return 1;
}

void collect_trace_pods(const cJSON *traces, const struct strvec *services, struct strvec *out)
{
	static const char *const keys[] = { "k8s.pod.name", "hostname", "pod" };
	const cJSON *data = cJSON_IsArray(traces) ? traces : json_get(traces, "data"), *trace;

	cJSON_ArrayForEach(trace, data) {
		const cJSON *proc;

		cJSON_ArrayForEach(proc, json_get(trace, "processes")) {
			const char *service = json_string(proc, "serviceName");
			const cJSON *tag;

			if (!service || !strvec_has(services, service))
				continue;
			cJSON_ArrayForEach(tag, json_get(proc, "tags")) {
				const char *key = json_string(tag, "key");
				const char *value = json_string(tag, "value");

				if (!key || !value || !collect_pod_name_ok(value) ||
				    strvec_has(out, value))
					continue;
				for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
					if (!strcmp(key, keys[k]))
						strvec_push(out, value);
			}
		}
	}
}

char *collect_pod_regex(const struct strvec *pods, size_t max_len)
{
	const char **names = xcalloc(pods->nr + 1, sizeof(*names));
	struct strbuf re = STRBUF_INIT, one = STRBUF_INIT;
	size_t n = 0;

	for (size_t i = 0; i < pods->nr; i++)
		if (collect_pod_name_ok(pods->v[i]))
			names[n++] = pods->v[i];
	qsort(names, n, sizeof(*names), compare_names);
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(names[i], names[i - 1]))
			continue;
		strbuf_reset(&one);
		if (re.len)
			strbuf_addch(&one, '|');
		/* A dot matches any character: \. in the regex, \\. in the PromQL string. */
		for (const char *p = names[i]; *p; p++)
			if (*p == '.')
				strbuf_addstr(&one, "\\\\.");
			else
				strbuf_addch(&one, *p);
		if (re.len + one.len > max_len)
			break;
		strbuf_add(&re, one.buf, one.len);
	}
	free(names);
	strbuf_release(&one);
	if (!re.len) {
		strbuf_release(&re);
		return NULL;
	}
	return strbuf_detach(&re, NULL);
}

/* ---- the parts read at once ---- */

enum part_kind { SERVICE_LOGS, BASELINE_TRACES, POD_METRICS, BASELINE_KUBERNETES,
		 BASELINE_DOCKER };

/* One part of the round, read in a thread of its own with its own client. */
struct part {
	enum part_kind kind;
	const struct config *cfg;
	const struct collect_options *o;   /* the incident's */
	const struct graph_options *g;
	struct collect_options so;         /* SERVICE_LOGS: the graph service's */
	time_t now, since;
	int64_t deadline_ms;
	struct http_client http;
	int http_ready;
	struct evidence ev;                /* what it read */
	struct strbuf why;
	int ret;
	int64_t started_ms, ended_ms;
	/* the second phase's inputs: */
	const struct strvec *pods;         /* POD_METRICS */
	const struct evidence *incident;   /* the first round's pods and containers */
	const struct part *services;       /* the graph services' parts */
	size_t services_nr;
};

static void part_init(struct part *p, enum part_kind kind, const struct config *cfg,
		      const struct collect_options *o, const struct graph_options *g,
		      time_t now, time_t since, int64_t deadline_ms)
{
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->cfg = cfg;
	p->o = o;
	p->g = g;
	p->now = now;
	p->since = since;
	p->deadline_ms = deadline_ms;
	p->ev.now = now;
	strbuf_init(&p->why, 0);
	if (http_client_init(&p->http, cfg) < 0) {
		strbuf_addstr(&p->why, "no HTTP client");
		p->ret = -1;
		return;
	}
	p->http_ready = 1;
	p->http.deadline_ms = deadline_ms;
	/* For a status line: what the request is for. */
	p->http.label = kind == SERVICE_LOGS ? "graph" : kind == POD_METRICS ? "pod-metrics" :
			"baseline";
}

static void part_release(struct part *p)
{
	if (p->http_ready)
		http_client_release(&p->http);
	evidence_release(&p->ev);
	strbuf_release(&p->why);
}

/* A graph service's logs, through the first round's collectors. */
static int read_service_logs(struct part *p)
{
	static const struct collector readers[] = {
		{ "kubernetes", collect_kubernetes_configured, collect_kubernetes },
		{ "docker", collect_docker_configured, collect_docker },
		{ "host", collect_host_configured, collect_host_log },
	};
	struct collect_context c = { p->cfg, &p->so, &p->http, p->deadline_ms,
				     p->g->log_lines, p->now };
	struct strbuf why = STRBUF_INIT;
	int ret = 0;

	for (size_t i = 0; i < ARRAY_SIZE(readers); i++) {
		if (!readers[i].configured(p->cfg, &p->so) || monotonic_ms() >= p->deadline_ms)
			continue;
		strbuf_reset(&why);
		if (readers[i].collect(&c, &p->ev, &why) < 0) {
			if (!ret)
				strbuf_addf(&p->why, "%s: %s", p->so.service,
					    why.len ? why.buf : readers[i].name);
			ret = -1;
		}
	}
	strbuf_release(&why);
	return ret;
}

static void url_base(struct strbuf *base, const char *url)
{
	strbuf_addstr(base, url);
	while (base->len && base->buf[base->len - 1] == '/')
		strbuf_setlen(base, base->len - 1);
}

/* The incident service's traces over the baseline window: the first round's search, earlier. */
static int read_baseline_traces(struct part *p)
{
	const char *url = config_get_string(p->cfg, "jaeger.url");
	const char *limit_text = config_get_string(p->cfg, "jaeger.limit");
	struct http_batch rs = HTTP_BATCH_INIT;
	struct strbuf base = STRBUF_INIT, msg = STRBUF_INIT;
	long long limit = 200;
	cJSON *answer;
	int ret = -1;

	if (limit_text && (config_parse_int(limit_text, &limit) < 0 || limit <= 0)) {
		strbuf_addf(&p->why, "jaeger: jaeger.limit is '%s', not a positive number",
			    limit_text);
		return -1;
	}
	url_base(&base, url);
	http_batch_add(&rs, jaeger_traces_url(base.buf, p->o->service, p->g->baseline_ms, limit,
					      (int64_t)p->since * 1000000));
	http_do(&p->http, &rs.req[0], &rs.res[0]);
	answer = jaeger_api_answer(&rs.res[0], &msg);
	if (answer && cJSON_IsArray(json_get(answer, "data"))) {
		p->ev.traces = answer;
		ret = 0;
	} else {
		if (http_deadline_passed(&p->http, &rs.res[0]))
			strbuf_addf(&p->why, "jaeger: %s: timed out", base.buf);
		else
			strbuf_addf(&p->why, "jaeger: %s: %s", base.buf,
				    answer ? "no traces in the answer" : msg.buf);
		cJSON_Delete(answer);
	}
	http_batch_release(&rs);
	strbuf_release(&base);
	strbuf_release(&msg);
	return ret;
}

/* The pod metrics the localiser reads by these names; <re> is the pods' regex. */
static const struct {
	const char *name;
	const char *query;
} pod_queries[] = {
	{ "pod-cpu", "sum by (pod) (rate(container_cpu_usage_seconds_total"
		     "{container!=\"\",pod=~\"<re>\"}[2m]))" },
	{ "pod-cpu-limit", "sum by (pod) (container_spec_cpu_quota{container!=\"\",pod=~\"<re>\"})"
			   " / sum by (pod) (container_spec_cpu_period"
			   "{container!=\"\",pod=~\"<re>\"})" },
	{ "pod-cpu-throttled", "sum by (pod) (rate(container_cpu_cfs_throttled_periods_total"
			       "{container!=\"\",pod=~\"<re>\"}[2m])) / sum by (pod) "
			       "(rate(container_cpu_cfs_periods_total"
			       "{container!=\"\",pod=~\"<re>\"}[2m]))" },
	{ "pod-memory", "sum by (pod) (container_memory_working_set_bytes"
			"{container!=\"\",pod=~\"<re>\"})" },
	{ "pod-memory-limit", "sum by (pod) (container_spec_memory_limit_bytes"
			      "{container!=\"\",pod=~\"<re>\"})" },
	{ "pod-restarts", "sum by (pod) (kube_pod_container_status_restarts_total"
			  "{pod=~\"<re>\"})" },
};

/* template with every <re> replaced by re. */
static char *fill_query(const char *template, const char *re)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = template, *at;

	while ((at = strstr(p, "<re>"))) {
		strbuf_add(&sb, p, (size_t)(at - p));
		strbuf_addstr(&sb, re);
		p = at + 4;
	}
	strbuf_addstr(&sb, p);
	return strbuf_detach(&sb, NULL);
}

static int read_pod_metrics(struct part *p)
{
	const char *url = config_get_string(p->cfg, "prometheus.url");
	struct prometheus_auth auth = PROMETHEUS_AUTH_INIT;
	struct http_batch rs = HTTP_BATCH_INIT;
	struct strbuf base = STRBUF_INIT, msg = STRBUF_INIT;
	char *re = collect_pod_regex(p->pods, POD_REGEX_MAX), *queries[ARRAY_SIZE(pod_queries)];
	long long end = (long long)p->now, start = (long long)p->since - p->g->baseline_ms / 1000;
	long long step;
	int ret = 0;

	memset(queries, 0, sizeof(queries));
	if (!re)
		return 0;
	if (end - start < POD_WINDOW_MIN)
		start = end - POD_WINDOW_MIN;
	step = (end - start + POD_POINTS - 1) / POD_POINTS;
	if (step < POD_STEP_MIN)
		step = POD_STEP_MIN;
	url_base(&base, url);
	if (prometheus_auth_read(p->cfg, &p->http, &auth, &p->why) < 0) {
		ret = -1;
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(pod_queries); i++) {
		struct strbuf u = STRBUF_INIT;

		queries[i] = fill_query(pod_queries[i].query, re);
		strbuf_addf(&u, "%s/api/v1/query_range?query=", base.buf);
		http_urlencode(&u, queries[i]);
		strbuf_addf(&u, "&start=%lld&end=%lld&step=%lld", start, end, step);
		prometheus_auth_apply(&auth, http_batch_add(&rs, strbuf_detach(&u, NULL)));
	}
	http_do_many(&p->http, rs.req, rs.res, rs.nr, REQUEST_PARALLEL);
	for (size_t i = 0; i < rs.nr; i++) {
		cJSON *answer;
		const cJSON *data;
		const char *type;

		strbuf_reset(&msg);
		answer = prometheus_api_answer(&rs.res[i], &msg);
		data = answer ? prometheus_api_data(answer, &msg) : NULL;
		type = json_string(data, "resultType");
		if (type && !strcmp(type, "matrix") && cJSON_IsArray(json_get(data, "result"))) {
			evidence_add_prometheus(&p->ev, pod_queries[i].name, queries[i], answer);
			continue;
		}
		if (!ret) {
			if (http_deadline_passed(&p->http, &rs.res[i]))
				strbuf_addf(&p->why, "prometheus: %s: timed out", base.buf);
			else
				strbuf_addf(&p->why, "prometheus: %s: %s: %s", base.buf,
					    pod_queries[i].name,
					    data ? "the answer is not a range query's matrix" : msg.buf);
		}
		ret = -1;
		cJSON_Delete(answer);
	}
out:
	for (size_t i = 0; i < ARRAY_SIZE(queries); i++)
		free(queries[i]);
	free(re);
	http_batch_release(&rs);
	prometheus_auth_release(&auth);
	strbuf_release(&base);
	strbuf_release(&msg);
	return ret;
}

/* Keep the last max lines of sb (0: all). */
static void keep_last_lines(struct strbuf *sb, int max)
{
	size_t start = 0;
	int seen = 0;

	for (size_t i = sb->len; max > 0 && i-- > 0;) {
		if (sb->buf[i] == '\n' && i + 1 < sb->len && ++seen >= max) {
			start = i + 1;
			break;
		}
	}
	if (start) {
		memmove(sb->buf, sb->buf + start, sb->len - start);
		strbuf_setlen(sb, sb->len - start);
	}
}

/*
 * Keep of a log read with timestamps=true the lines before since, their
 * time stripped, into out. A line whose time does not read goes with the
 * line before it.
 */
static void lines_before(struct strbuf *out, const char *buf, size_t len, time_t since)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl + 1 : end, *sp = memchr(p, ' ', (size_t)(eol - p));
		char stamp[STAMP_MAX + 1];
		time_t t;

		if (sp && sp - p <= STAMP_MAX) {
			memcpy(stamp, p, (size_t)(sp - p));
			stamp[sp - p] = '\0';
			if (!parse_rfc3339(stamp, &t)) {
				if (t >= since)
					break; /* the window is over: what follows is the incident's */
				p = sp + 1;
			}
		}
		strbuf_add(out, p, (size_t)(eol - p));
		p = eol;
	}
}

/* Queue the baseline logs of a PodList's pods, named as the first round names them. */
static void queue_pod_logs(struct part *p, const struct kubeconfig *kc, struct http_batch *rs,
			   const cJSON *pods, const char *service, struct strvec *services,
			   struct strvec *names)
{
	const cJSON *pod;
	time_t from = p->since - (time_t)(p->g->baseline_ms / 1000);

	cJSON_ArrayForEach(pod, json_get(pods, "items")) {
		const cJSON *meta = json_get(pod, "metadata"), *container;
		const cJSON *containers = json_get(json_get(pod, "spec"), "containers");
		const char *ns = json_nonempty(meta, "namespace"), *name = json_nonempty(meta, "name");
		int several = cJSON_GetArraySize(containers) > 1;

		if (!ns || !name)
			continue;
		cJSON_ArrayForEach(container, containers) {
			const char *cname = json_nonempty(container, "name");
			char *log;

			if (!cname)
				continue;
			log = several ? xstrfmt("%s.%s", name, cname) : xstrdup(name);
			if (evidence_name_ok(log)) {
				kubernetes_queue_log_since(rs, kc, ns, name, cname, from,
							   BASELINE_LOG_BYTES);
				strvec_push(names, log);
				strvec_push(services, service ? service : "");
			}
			free(log);
		}
	}
}

static void add_log(struct evidence *ev, const char *service, const char *source,
		    const char *name, const struct strbuf *text)
{
	if (*service)
		evidence_add_service_log(ev, service, source, name, text->buf, text->len);
	else
		evidence_add_log(ev, source, name, text->buf, text->len);
}

static int read_baseline_kubernetes(struct part *p)
{
	struct kubeconfig kc = KUBECONFIG_INIT;
	struct http_batch rs = HTTP_BATCH_INIT;
	struct strvec names = STRVEC_INIT, services = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	int ret = 0;

	if (kubeconfig_load(&kc, p->cfg, &p->http, &err) < 0) {
		http_redact(&p->http, &err);
		strbuf_addf(&p->why, "kubernetes: %s", err.buf);
		ret = -1;
		goto out;
	}
	queue_pod_logs(p, &kc, &rs, p->incident->pods, NULL, &services, &names);
	for (size_t i = 0; i < p->services_nr; i++)
		queue_pod_logs(p, &kc, &rs, p->services[i].ev.pods, p->services[i].so.service,
			       &services, &names);
	if (rs.nr)
		http_do_many(&p->http, rs.req, rs.res, rs.nr, REQUEST_PARALLEL);
	for (size_t i = 0; i < rs.nr; i++) {
		const struct http_response *res = &rs.res[i];

		if (res->outcome != HTTP_OK || res->status / 100 != 2) {
			if (!ret && http_deadline_passed(&p->http, res)) {
				strbuf_addf(&p->why, "kubernetes: %s: timed out", kc.server);
				ret = -1;
			}
			continue; /* no log is no evidence, as in the first round */
		}
		strbuf_reset(&text);
		lines_before(&text, res->body.buf, res->body.len, p->since);
		keep_last_lines(&text, p->g->log_lines);
		add_log(&p->ev, services.v[i], "kubernetes", names.v[i], &text);
	}
out:
	http_batch_release(&rs);
	kubeconfig_release(&kc);
	strvec_clear(&names);
	strvec_clear(&services);
	strbuf_release(&err);
	strbuf_release(&text);
	return ret;
}

/* Queue the baseline logs of an array of inspect objects. */
static void queue_container_logs(struct part *p, const struct docker_engine *e,
				 struct http_batch *rs, const cJSON *inspected, const char *service,
				 struct strvec *services, struct strvec *names, struct strvec *tty)
{
	const cJSON *c;
	time_t from = p->since - (time_t)(p->g->baseline_ms / 1000);

	cJSON_ArrayForEach(c, inspected) {
		const char *id = json_nonempty(c, "Id"), *name = json_nonempty(c, "Name");

		if (name && *name == '/')
			name++;
		if (!id || !name || !evidence_name_ok(name))
			continue;
		docker_queue_logs_between(rs, e, id, from, p->since);
		strvec_push(names, name);
		strvec_push(services, service ? service : "");
		strvec_push(tty, json_bool(json_get(c, "Config"), "Tty") ? "1" : "");
	}
}

static int read_baseline_docker(struct part *p)
{
	struct docker_engine e;
	struct http_batch rs = HTTP_BATCH_INIT;
	struct strvec names = STRVEC_INIT, services = STRVEC_INIT, tty = STRVEC_INIT;
	struct strbuf text = STRBUF_INIT;
	int ret = 0;

	if (docker_engine_open(p->cfg, &p->http, &e, &p->why) < 0) {
		ret = -1;
		goto out;
	}
	queue_container_logs(p, &e, &rs, p->incident->docker, NULL, &services, &names, &tty);
	for (size_t i = 0; i < p->services_nr; i++)
		queue_container_logs(p, &e, &rs, p->services[i].ev.docker,
				     p->services[i].so.service, &services, &names, &tty);
	if (rs.nr)
		http_do_many(&p->http, rs.req, rs.res, rs.nr, REQUEST_PARALLEL);
	for (size_t i = 0; i < rs.nr; i++) {
		const struct http_response *res = &rs.res[i];

		if (res->outcome != HTTP_OK || res->status != 200) {
			if (!ret && http_deadline_passed(&p->http, res)) {
				strbuf_addf(&p->why, "docker: %s: timed out", e.host);
				ret = -1;
			}
			continue;
		}
		strbuf_reset(&text);
		if (*tty.v[i])
			strbuf_add(&text, res->body.buf, res->body.len);
		else
			docker_log_demultiplex(&text, res->body.buf, res->body.len);
		keep_last_lines(&text, p->g->log_lines);
		add_log(&p->ev, services.v[i], "docker", names.v[i], &text);
	}
	docker_engine_release(&e);
out:
	http_batch_release(&rs);
	strvec_clear(&names);
	strvec_clear(&services);
	strvec_clear(&tty);
	strbuf_release(&text);
	return ret;
}

static void read_part(struct part *p)
{
	p->started_ms = monotonic_ms();
	if (p->ret < 0 || p->started_ms >= p->deadline_ms) {
		p->ret = -1;
	} else {
		switch (p->kind) {
		case SERVICE_LOGS: p->ret = read_service_logs(p); break;
		case BASELINE_TRACES: p->ret = read_baseline_traces(p); break;
		case POD_METRICS: p->ret = read_pod_metrics(p); break;
		case BASELINE_KUBERNETES: p->ret = read_baseline_kubernetes(p); break;
		case BASELINE_DOCKER: p->ret = read_baseline_docker(p); break;
		}
	}
	p->ended_ms = monotonic_ms();
}

/* The parts, read by at most GRAPH_PARALLEL threads that take them in turn. */
struct pool {
	struct part *parts;
	size_t nr, next;
	pthread_mutex_t lock;
};

static void *pool_worker(void *arg)
{
	struct pool *pool = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&pool->lock);
		i = pool->next++;
		pthread_mutex_unlock(&pool->lock);
		if (i >= pool->nr)
			return NULL;
		read_part(&pool->parts[i]);
	}
}

static void read_parts(struct part *parts, size_t nr, const char *label, int64_t deadline_ms)
{
	struct pool pool = { parts, nr, 0, PTHREAD_MUTEX_INITIALIZER };
	pthread_t threads[GRAPH_PARALLEL];
	size_t started = 0;
	int waiting = progress_begin(label);

	progress_update(waiting, 0, 0, deadline_ms);
	for (; started < nr && started < GRAPH_PARALLEL; started++)
		if (pthread_create(&threads[started], NULL, pool_worker, &pool))
			break;
	/* No thread to spare: read what is left here, still under each part's deadline. */
	pool_worker(&pool);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	progress_end(waiting);
}

/*
 * Record how a group of parts went as one source: ok, or the first
 * failure's line; timeout when a part ran into its deadline.
 */
static void record(struct evidence *ev, const char *name, const struct part *parts, size_t nr,
		   const struct graph_options *g)
{
	enum evidence_status status = EVIDENCE_OK;
	struct strbuf why = STRBUF_INIT;
	int64_t first = 0, last = 0;

	for (size_t i = 0; i < nr; i++) {
		const struct part *p = &parts[i];

		if (!i || p->started_ms < first)
			first = p->started_ms;
		if (p->ended_ms > last)
			last = p->ended_ms;
		if (p->ended_ms >= p->deadline_ms - 50 && status != EVIDENCE_TIMEOUT) {
			status = EVIDENCE_TIMEOUT;
			strbuf_reset(&why);
			strbuf_addf(&why, "%s: no answer within the deadline (diagnose.timeout, "
				    "%lld ms)", name, (long long)g->timeout_ms);
			if (p->kind == SERVICE_LOGS)
				strbuf_addf(&why, ": %s", p->so.service);
		} else if (p->ret < 0 && status == EVIDENCE_OK) {
			status = EVIDENCE_FAILED;
			strbuf_addf(&why, "%s: %s", name, p->why.len ? p->why.buf : "could not be read");
		}
	}
	if (why.len) {
		/* One line, and a source's URL may carry userinfo, a secret. */
		for (size_t i = 0; i < why.len; i++)
			if (why.buf[i] == '\n' || why.buf[i] == '\r')
				why.buf[i] = ' ';
		redact_strbuf(&why);
	}
	evidence_add_source(ev, name, status, why.len ? why.buf : NULL, ev->now, last - first);
	strbuf_release(&why);
}

/* The names of a PodList's pods and of inspected containers, into out once each. */
static void add_pod_names(struct strvec *out, const cJSON *pods, const cJSON *containers)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, json_get(pods, "items")) {
		const char *name = json_nonempty(json_get(item, "metadata"), "name");

		if (name && collect_pod_name_ok(name) && !strvec_has(out, name))
			strvec_push(out, name);
	}
	cJSON_ArrayForEach(item, containers) {
		const char *name = json_nonempty(item, "Name");

		if (name && *name == '/')
			name++;
		if (name && collect_pod_name_ok(name) && !strvec_has(out, name))
			strvec_push(out, name);
	}
}

/* A graph service's ReplicaSets into ev->graph_replicasets: a recent rollout of a culprit. */
static void add_replicasets(struct evidence *ev, const cJSON *list)
{
	const cJSON *rs;
	cJSON *items;

	if (!cJSON_GetArraySize(json_get(list, "items")))
		return;
	if (!ev->graph_replicasets) {
		ev->graph_replicasets = cJSON_CreateObject();
		cJSON_AddStringToObject(ev->graph_replicasets, "kind", "ReplicaSetList");
		cJSON_AddStringToObject(ev->graph_replicasets, "apiVersion", "apps/v1");
		cJSON_AddArrayToObject(ev->graph_replicasets, "items");
	}
	items = cJSON_GetObjectItemCaseSensitive(ev->graph_replicasets, "items");
	cJSON_ArrayForEach(rs, json_get(list, "items"))
		cJSON_AddItemToArray(items, cJSON_Duplicate(rs, 1));
}

static int configured(const struct config *cfg, const char *key)
{
	const char *v = config_get_string(cfg, key);

	return v && *v;
}

void collect_graph(struct evidence *ev, const struct config *cfg,
		   const struct collect_options *o, const struct graph_options *g,
		   int64_t deadline_ms)
{
	struct strvec services = STRVEC_INIT, pods = STRVEC_INIT, named = STRVEC_INIT;
	struct part *first = NULL, later[3];
	size_t first_nr = 0, later_nr = 0;
	time_t since = o->since ? o->since : ev->now;
	int baseline_traces = g->baseline_ms > 0 && configured(cfg, "jaeger.url");
	int metrics = configured(cfg, "prometheus.url");
	int64_t left = deadline_ms - monotonic_ms(), first_deadline = deadline_ms;

	if (ev->traces && g->max_services)
		collect_graph_services(ev->traces, o->service, (size_t)g->max_services, &services);
	if (left <= 0 || (!services.nr && !baseline_traces && !metrics && !g->baseline_ms))
		goto out;

	/* The graph services, and the baseline's traces, which need nothing read before. */
	first = xcalloc(services.nr + 1, sizeof(*first));
	/* A third is kept for what needs the pods found, when anything will. */
	if (metrics || (g->baseline_ms && (ev->pods || ev->docker || docker_configured(cfg) ||
					   configured(cfg, "kubernetes.namespace"))))
		first_deadline = deadline_ms - left / 3;
	for (size_t i = 0; i < services.nr; i++) {
		struct part *p = &first[first_nr++];

		part_init(p, SERVICE_LOGS, cfg, o, g, ev->now, since, first_deadline);
		p->so = *o;
		p->so.service = services.v[i];
		p->so.check = NULL;
		p->so.fingerprint = NULL;
	}
	if (baseline_traces)
		part_init(&first[first_nr++], BASELINE_TRACES, cfg, o, g, ev->now, since,
			  first_deadline);
	if (first_nr)
		read_parts(first, first_nr, "graph", first_deadline);
	if (services.nr)
		record(ev, "graph", first, services.nr, g);
	for (size_t i = 0; i < services.nr; i++) {
		const struct evidence *part = &first[i].ev;

		add_replicasets(ev, part->replicasets);
		for (size_t k = 0; k < part->logs_nr; k++)
			evidence_add_service_log(ev, services.v[i], part->logs[k].source,
						 part->logs[k].name, part->logs[k].text,
						 strlen(part->logs[k].text));
	}

	/* Then what needs the pods found: their metrics and the baseline's logs. */
	if (metrics) {
		strvec_push(&named, o->service);
		for (size_t i = 0; i < services.nr; i++)
			strvec_push(&named, services.v[i]);
		collect_trace_pods(ev->traces, &named, &pods);
		add_pod_names(&pods, ev->pods, ev->docker);
		for (size_t i = 0; i < services.nr; i++)
			add_pod_names(&pods, first[i].ev.pods, first[i].ev.docker);
		if (pods.nr) {
			struct part *p = &later[later_nr++];

			part_init(p, POD_METRICS, cfg, o, g, ev->now, since, deadline_ms);
			p->pods = &pods;
		}
	}
	if (g->baseline_ms) {
		int kube = cJSON_GetArraySize(json_get(ev->pods, "items")) > 0;
		int docker = cJSON_GetArraySize(ev->docker) > 0;

		for (size_t i = 0; i < services.nr; i++) {
			kube |= cJSON_GetArraySize(json_get(first[i].ev.pods, "items")) > 0;
			docker |= cJSON_GetArraySize(first[i].ev.docker) > 0;
		}
		if (kube)
			part_init(&later[later_nr++], BASELINE_KUBERNETES, cfg, o, g, ev->now, since,
				  deadline_ms);
		if (docker)
			part_init(&later[later_nr++], BASELINE_DOCKER, cfg, o, g, ev->now, since,
				  deadline_ms);
	}
	for (size_t i = 0; i < later_nr; i++) {
		later[i].incident = ev;
		later[i].services = first;
		later[i].services_nr = services.nr;
	}
	if (later_nr)
		read_parts(later, later_nr, "graph", deadline_ms);

	/* Into ev: the metrics beside the checks', the baseline in its own. */
	for (size_t i = 0; i < later_nr; i++) {
		if (later[i].kind == POD_METRICS) {
			record(ev, "pod-metrics", &later[i], 1, g);
			evidence_merge(ev, &later[i].ev);
		}
	}
	{
		struct part *base[3];
		size_t base_nr = 0;

		if (baseline_traces)
			base[base_nr++] = &first[first_nr - 1];
		for (size_t i = 0; i < later_nr; i++)
			if (later[i].kind != POD_METRICS)
				base[base_nr++] = &later[i];
		for (size_t i = 0; i < base_nr; i++) {
			struct evidence *b = &base[i]->ev;

			if (!b->traces && !b->logs_nr)
				continue;
			if (!ev->baseline) {
				ev->baseline = xcalloc(1, sizeof(*ev->baseline));
				ev->baseline->service = xstrdup(o->service);
				ev->baseline->now = since;
			}
			evidence_merge(ev->baseline, b);
		}
		if (base_nr) {
			struct part group[3];

			for (size_t i = 0; i < base_nr; i++)
				group[i] = *base[i];
			record(ev, "baseline", group, base_nr, g);
		}
	}
out:
	for (size_t i = 0; i < first_nr; i++)
		part_release(&first[i]);
	for (size_t i = 0; i < later_nr; i++)
		part_release(&later[i]);
	free(first);
	strvec_clear(&services);
	strvec_clear(&pods);
	strvec_clear(&named);
}
