/*
 * localize.c: ranking the services of the call graph by how much of the
 * incident each explains (the method is in localize.h). One pass over
 * each window's spans fills tables of samples keyed by service and
 * operation (self time) and by caller and callee (edge gap); one miner per
 * service mines both windows' log lines; the pod series are read by name.
 * Then every signal is turned into a strength per service, and the
 * services are sorted by their sum.
 */
#include <ctype.h>
#include <math.h>

#include "json.h"
#include "localize.h"
#include "logtemplate.h"
#include "timeutil.h"
#include "traces.h"
#include "util.h"

enum { INC, BASE, WINDOWS };

/* Time added below this (µs), or by less than half again, is noise. */
#define ADDED_MIN_US 5000
#define SAMPLES_MIN 3
/* The most spans of one trace walked; the rest are left out. */
#define TRACE_SPANS_MAX 20000
/*
 * Own times by the deepest span running cost spans^2 per trace; past this
 * many spans a span's own time is its duration less its children's.
 */
#define OWN_SWEEP_MAX 1000
/* The services an error line is searched for (an error that names one). */
#define NAMED_MAX 128
/* The services with errors whose callees are searched (each walk visits them all). */
#define WALKS_MAX 256

struct samples {
	int64_t *v;
	size_t nr, alloc;
};

/* A row of a table: samples per window under a key of two names. */
struct row {
	char *a, *b;
	struct samples w[WINDOWS];
	size_t value;         /* for a table used as an index */
};

struct table {
	struct row *rows;
	size_t nr, alloc;
	size_t *index;        /* open addressing: row + 1, 0 for empty */
	size_t size;
};

static uint64_t hash2(const char *a, const char *b)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *a; a++)
		h = (h ^ (unsigned char)*a) * 1099511628211ULL;
	h = (h ^ 0x1f) * 1099511628211ULL;
	for (; b && *b; b++)
		h = (h ^ (unsigned char)*b) * 1099511628211ULL;
	return h;
}

static int row_is(const struct row *r, const char *a, const char *b)
{
	return !strcmp(r->a, a) && !strcmp(r->b ? r->b : "", b ? b : "");
}

static void table_rehash(struct table *t)
{
	size_t size = t->size ? t->size * 2 : 64;

	free(t->index);
	t->index = xcalloc(size, sizeof(*t->index));
	t->size = size;
	for (size_t i = 0; i < t->nr; i++) {
		size_t k = hash2(t->rows[i].a, t->rows[i].b) & (size - 1);
		while (t->index[k])
			k = (k + 1) & (size - 1);
		t->index[k] = i + 1;
	}
}

static struct row *table_get(struct table *t, const char *a, const char *b)
{
	size_t k;

	if ((t->nr + 1) * 2 > t->size)
		table_rehash(t);
	k = hash2(a, b) & (t->size - 1);
	while (t->index[k]) {
		struct row *r = &t->rows[t->index[k] - 1];
		if (row_is(r, a, b))
			return r;
		k = (k + 1) & (t->size - 1);
	}
	ALLOC_GROW(t->rows, t->nr + 1, t->alloc);
	memset(&t->rows[t->nr], 0, sizeof(t->rows[t->nr]));
	t->rows[t->nr].a = xstrdup(a);
	t->rows[t->nr].b = b ? xstrdup(b) : NULL;
	t->index[k] = ++t->nr;
	return &t->rows[t->nr - 1];
}

static void table_release(struct table *t)
{
	for (size_t i = 0; i < t->nr; i++) {
		free(t->rows[i].a);
		free(t->rows[i].b);
		for (int w = 0; w < WINDOWS; w++)
			free(t->rows[i].w[w].v);
	}
	free(t->rows);
	free(t->index);
	memset(t, 0, sizeof(*t));
}

static void add_sample(struct samples *s, int64_t v)
{
	ALLOC_GROW(s->v, s->nr + 1, s->alloc);
	s->v[s->nr++] = v;
}

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int64_t median(struct samples *s)
{
	if (!s->nr)
		return 0;
	qsort(s->v, s->nr, sizeof(*s->v), compare_i64);
	return s->v[s->nr / 2];
}

/* ---- per service ---- */

struct service {
	char *name;
	double added_us;                 /* time added: edge gaps into it and its self time */
	double self_grew;                /* by how much its own time grew (the most, now/before) */
	size_t calls[WINDOWS];           /* spans entering it (root or called from another service) */
	size_t origins[WINDOWS];         /* erring spans of it with no erring child */
	size_t lines[WINDOWS];           /* log lines */
	struct logtemplate_miner *miner;
	long long *counts[WINDOWS];      /* lines per template id */
	long long *errors[WINDOWS];      /* error lines per template id (a template may mix levels) */
	char **example;                  /* per template id, its first error line of the incident */
	size_t reports[WINDOWS];         /* error lines of other services that name it */
	char *report_example;            /* the first of the incident */
	size_t counts_alloc[WINDOWS];
	char **callees;                  /* services it calls, in either window */
	size_t callees_nr, callees_alloc;
	struct localize_candidate c;
	int seen;                        /* for walks over the graph */
};

struct state {
	const struct evidence *ev;
	struct service **sv;             /* pointers, so that a service never moves */
	size_t sv_nr, sv_alloc;
	struct table names;              /* service name -> its index + 1 (row.value) */
	struct table pod_index;          /* pod name -> its index + 1 */
	struct table edges;              /* caller, callee: seen (row.value) */
	struct table self, gaps;
	struct samples roots[WINDOWS];
	size_t traces[WINDOWS], error_traces[WINDOWS];
	char **pods, **pod_services;     /* pod -> service */
	size_t pods_nr, pods_alloc;
};

static struct service *service_get(struct state *s, const char *name)
{
	struct row *r = table_get(&s->names, name, NULL);
	struct service *sv;

	if (r->value)
		return s->sv[r->value - 1];
	sv = xcalloc(1, sizeof(*sv));
	sv->name = xstrdup(name);
	sv->c.service = sv->name;
	ALLOC_GROW(s->sv, s->sv_nr + 1, s->sv_alloc);
	s->sv[s->sv_nr++] = sv;
	r->value = s->sv_nr;
	return sv;
}

static void add_callee(struct state *s, struct service *from, const char *to)
{
	struct row *r = table_get(&s->edges, from->name, to);

	if (r->value)
		return;
	r->value = 1;
	ALLOC_GROW(from->callees, from->callees_nr + 1, from->callees_alloc);
	from->callees[from->callees_nr++] = xstrdup(to);
}

static void add_pod(struct state *s, const char *pod, const char *service)
{
	struct row *r = table_get(&s->pod_index, pod, NULL);

	if (r->value)
		return;
	ALLOC_GROW(s->pods, s->pods_nr + 1, s->pods_alloc);
	s->pod_services = xrealloc(s->pod_services, s->pods_alloc * sizeof(*s->pod_services));
	s->pods[s->pods_nr] = xstrdup(pod);
	s->pod_services[s->pods_nr++] = xstrdup(service);
	r->value = s->pods_nr;
}

static void say(struct localize_candidate *c, const char *source, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct localize_candidate *c, const char *source, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (c->lines_nr >= LOCALIZE_LINES_MAX)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ALLOC_GROW(c->lines, c->lines_nr + 1, c->lines_alloc);
	c->lines[c->lines_nr].source = xstrdup(source);
	c->lines[c->lines_nr++].summary = strbuf_detach(&sb, NULL);
}

static void format_us(char *buf, size_t size, double us)
{
	if (us >= 1e6)
		snprintf(buf, size, "%.2fs", us / 1e6);
	else if (us >= 1e3)
		snprintf(buf, size, "%.1fms", us / 1e3);
	else
		snprintf(buf, size, "%.0fus", us);
}

/* ---- the traces ---- */

struct span {
	const cJSON *json;
	const char *id, *service, *operation, *pod;
	int64_t start, duration;
	int parent;               /* index in the trace, or -1 */
	int first_child, next;    /* the children, as a list */
	int err, child_err;
	int depth;
	int64_t own;              /* the time it is the deepest span running */
};

static int compare_span_ids(const void *a, const void *b)
{
	const struct span *x = *(const struct span *const *)a, *y = *(const struct span *const *)b;

	return strcmp(x->id, y->id);
}

static const char *process_tag(const cJSON *process, const char *const *keys)
{
	for (; *keys; keys++) {
		const cJSON *tag;
		cJSON_ArrayForEach(tag, json_array(process, "tags"))
			if (json_string_is(tag, "key", *keys) && json_string(tag, "value"))
				return json_string(tag, "value");
	}
	return NULL;
}

static const char *const pod_keys[] = { "k8s.pod.name", "pod", "hostname", NULL };

/*
 * Each span's depth below its trace's root, in one pass: a chain is
 * walked up to a span whose depth is known, then back down. A parent
 * reference that closes a cycle is cut (the span becomes a root).
 */
static void set_depths(struct span *v, int n)
{
	enum { UNKNOWN = -1, WALKING = -2 };
	int *stack = xcalloc((size_t)n + 1, sizeof(*stack));

	for (int i = 0; i < n; i++)
		v[i].depth = UNKNOWN;
	for (int i = 0; i < n; i++) {
		int top = 0, at = i, base;

		while (at >= 0 && v[at].depth == UNKNOWN) {
			v[at].depth = WALKING;
			stack[top++] = at;
			at = v[at].parent;
		}
		if (at >= 0 && v[at].depth == WALKING) {
			/* the chain came back to itself: cut the last link */
			v[stack[top - 1]].parent = -1;
			at = -1;
		}
		base = at >= 0 ? v[at].depth : -1;
		while (top > 0) {
			int k = stack[--top];
			v[k].depth = ++base;
		}
	}
	free(stack);
}

/*
 * Each span's own time: the instants at which it is the deepest span
 * running (of equal depths, the one that started last). A span's time
 * less its children's would credit a wrapper whose work runs in a
 * sibling (an asynchronous handler beside its client call) with all of
 * it; the deepest span running is where the request is.
 */
static void own_times(struct span *v, int n)
{
	int64_t *t;
	int m = 0;

	if (n > OWN_SWEEP_MAX) {
		for (int i = 0; i < n; i++) {
			v[i].own += v[i].duration;
			if (v[i].parent >= 0)
				v[v[i].parent].own -= v[i].duration;
		}
		for (int i = 0; i < n; i++)
			if (v[i].own < 0)
				v[i].own = 0;
		return;
	}
	t = xcalloc((size_t)n * 2, sizeof(*t));

	for (int i = 0; i < n; i++) {
		t[m++] = v[i].start;
		t[m++] = v[i].start + v[i].duration;
	}
	qsort(t, (size_t)m, sizeof(*t), compare_i64);
	for (int k = 0; k + 1 < m; k++) {
		int64_t a = t[k], b = t[k + 1];
		int best = -1;
		if (b <= a)
			continue;
		for (int i = 0; i < n; i++) {
			if (v[i].start > a || v[i].start + v[i].duration < b)
				continue;
			if (best < 0 || v[i].depth > v[best].depth ||
			    (v[i].depth == v[best].depth && v[i].start > v[best].start))
				best = i;
		}
		if (best >= 0)
			v[best].own += b - a;
	}
	free(t);
}

static void walk_trace(struct state *s, const cJSON *trace, int w)
{
	const cJSON *processes = json_object(trace, "processes"), *span;
	const cJSON *spans = json_array(trace, "spans");
	struct span *v;
	struct span **byid;
	int n = 0, max = cJSON_GetArraySize(spans), any_err = 0;
	int64_t root = -1;

	if (max <= 0)
		return;
	if (max > TRACE_SPANS_MAX)
		max = TRACE_SPANS_MAX;
	v = xcalloc((size_t)max, sizeof(*v));
	byid = xcalloc((size_t)max, sizeof(*byid));
	cJSON_ArrayForEach(span, spans) {
		const cJSON *proc;
		struct span *p;
		long long start, duration;

		if (n >= max)
			break;
		proc = json_object(processes, json_string_or(span, "processID", ""));
		if (!proc)
			proc = json_object(span, "process");
		p = &v[n];
		p->id = json_string(span, "spanID");
		p->operation = json_string(span, "operationName");
		p->service = json_string(proc, "serviceName");
		if (!p->id || !p->operation || !p->service || !*p->service ||
		    json_ll(span, "startTime", 0, INT64_MAX / 4, &start) < 0 ||
		    json_ll(span, "duration", 0, INT64_MAX / 4, &duration) < 0)
			continue;
		p->json = span;
		p->start = start;
		p->duration = duration;
		p->pod = process_tag(proc, pod_keys);
		p->err = traces_span_failed(span);
		p->parent = -1;
		p->first_child = -1;
		p->next = -1;
		byid[n] = p;
		n++;
	}
	qsort(byid, (size_t)n, sizeof(*byid), compare_span_ids);
	for (int i = 0; i < n; i++) {
		const char *pid = traces_span_parent(v[i].json);
		struct span key, *kp = &key, **hit;

		if (!pid)
			continue;
		key.id = pid;
		hit = bsearch(&kp, byid, (size_t)n, sizeof(*byid), compare_span_ids);
		if (hit && *hit != &v[i])
			v[i].parent = (int)(*hit - v);
	}
	set_depths(v, n);
	own_times(v, n);
	for (int i = n - 1; i >= 0; i--)
		if (v[i].parent >= 0) {
			v[i].next = v[v[i].parent].first_child;
			v[v[i].parent].first_child = i;
		}
	for (int i = 0; i < n; i++)
		if (v[i].err && v[i].parent >= 0)
			v[v[i].parent].child_err = 1;
	for (int i = 0; i < n; i++) {
		struct span *p = &v[i];
		int remote_only = p->first_child >= 0;
		int64_t self;
		const char *callee = NULL;
		int64_t longest = -1;

		for (int c = p->first_child; c >= 0; c = v[c].next) {
			if (!strcmp(v[c].service, p->service))
				remote_only = 0;
			else if (v[c].duration > longest) {
				longest = v[c].duration;
				callee = v[c].service;
			}
		}
		self = p->own;
		if (remote_only && callee)
			add_sample(&table_get(&s->gaps, p->service, callee)->w[w], self);
		else
			add_sample(&table_get(&s->self, p->service, p->operation)->w[w], self);
		if (p->parent < 0 || strcmp(v[p->parent].service, p->service)) {
			struct service *sv = service_get(s, p->service);
			sv->calls[w]++;
			if (p->parent >= 0)
				add_callee(s, service_get(s, v[p->parent].service), p->service);
		}
		if (p->pod)
			add_pod(s, p->pod, p->service);
		if (p->err) {
			any_err = 1;
			if (!p->child_err)
				service_get(s, p->service)->origins[w]++;
		}
		if (p->parent < 0 && p->duration > root)
			root = p->duration;
	}
	if (n) {
		s->traces[w]++;
		s->error_traces[w] += any_err;
		if (root >= 0)
			add_sample(&s->roots[w], root);
	}
	free(byid);
	free(v);
}

static void walk_traces(struct state *s, const cJSON *json, int w)
{
	const cJSON *data = cJSON_IsArray(json) ? json : json_array(json, "data"), *trace;

	cJSON_ArrayForEach(trace, data)
		if (cJSON_IsObject(trace))
			walk_trace(s, trace, w);
}

/* ---- latency: time added ---- */

/*
 * usual: for an edge seen too rarely before to have a p50 of its own, the
 * p50 of every edge's gap before (a gap is the link and the callee's
 * queue, alike across edges); -1 for none.
 */
static double added(struct row *r, int64_t usual, int64_t *now, int64_t *before)
{
	if (r->w[INC].nr < SAMPLES_MIN)
		return 0;
	if (r->w[BASE].nr >= SAMPLES_MIN)
		*before = median(&r->w[BASE]);
	else if (usual >= 0)
		*before = usual;
	else
		return 0;
	*now = median(&r->w[INC]);
	if (*now - *before < ADDED_MIN_US || *now * 2 < *before * 3)
		return 0;
	return (double)(*now - *before) * (double)r->w[INC].nr;
}

static void latency(struct state *s)
{
	double total = 0, floor_us;
	struct {
		struct row *r;
		double added;
		int64_t now, before;
		int gap;
		struct service *owner;
	} *hits = NULL;
	size_t hits_nr = 0, hits_alloc = 0;

	struct samples all = { 0 };
	int64_t usual = -1;

	for (size_t i = 0; i < s->gaps.nr; i++)
		for (size_t k = 0; k < s->gaps.rows[i].w[BASE].nr; k++)
			add_sample(&all, s->gaps.rows[i].w[BASE].v[k]);
	if (all.nr >= SAMPLES_MIN)
		usual = median(&all);
	free(all.v);
	for (int t = 0; t < 2; t++) {
		struct table *tab = t ? &s->gaps : &s->self;
		for (size_t i = 0; i < tab->nr; i++) {
			int64_t now = 0, before = 0;
			double a = added(&tab->rows[i], t ? usual : -1, &now, &before);
			if (a <= 0)
				continue;
			ALLOC_GROW(hits, hits_nr + 1, hits_alloc);
			hits[hits_nr].r = &tab->rows[i];
			hits[hits_nr].added = a;
			hits[hits_nr].now = now;
			hits[hits_nr].before = before;
			hits[hits_nr].gap = t;
			/*
			 * A gap is the callee's side or the link, unless the
			 * caller's own time grew by as much (within a factor of
			 * three): a caller short of CPU is late on its own calls
			 * as well, while a slow link leaves the caller's own time
			 * as it was.
			 */
			if (!t) {
				double g = (double)now / (double)(before > 0 ? before : 1);
				hits[hits_nr].owner = service_get(s, tab->rows[i].a);
				if (g > hits[hits_nr].owner->self_grew)
					hits[hits_nr].owner->self_grew = g;
			} else {
				struct service *caller = service_get(s, tab->rows[i].a);
				double g = (double)now / (double)(before > 0 ? before : 1);
				hits[hits_nr].owner = caller->self_grew * 3 >= g ? caller :
						      service_get(s, tab->rows[i].b);
			}
			total += a;
			hits[hits_nr++].owner->added_us += a;
		}
	}
	/* Little added in all is little explained: measure it against the requests' usual time. */
	floor_us = 0.5 * (double)median(&s->roots[BASE]) * (double)s->traces[INC];
	if (floor_us > total)
		total = floor_us;
	for (size_t i = 0; i < s->sv_nr && total > 0; i++) {
		struct service *sv = s->sv[i];
		double st = sv->added_us / total;
		if (st > 0)
			sv->c.strength[LOCALIZE_LATENCY] = st > 1 ? 1 : st;
	}
	/* The lines, largest first, for the services they explain. */
	for (size_t k = 0; k < hits_nr; k++) {
		size_t best = k;
		char now[32], before[32], sum[32];
		for (size_t j = k + 1; j < hits_nr; j++)
			if (hits[j].added > hits[best].added)
				best = j;
		if (best != k) {
			__typeof__(*hits) tmp = hits[k];
			hits[k] = hits[best];
			hits[best] = tmp;
		}
		format_us(now, sizeof(now), (double)hits[k].now);
		format_us(before, sizeof(before), (double)hits[k].before);
		format_us(sum, sizeof(sum), hits[k].added);
		if (hits[k].gap && strcmp(hits[k].owner->name, hits[k].r->b))
			say(&hits[k].owner->c, "jaeger",
			    "calls from %s to %s spend %s (p50) between %s's span and the callee's, %s "
			    "before; %s's own time grew too, so its side is slow: +%s over %zu calls",
			    hits[k].r->a, hits[k].r->b, now, hits[k].r->a, before, hits[k].r->a, sum,
			    hits[k].r->w[INC].nr);
		else if (hits[k].gap)
			say(&service_get(s, hits[k].r->b)->c, "jaeger",
			    "calls from %s to %s spend %s (p50) between the caller's span and %s's own, "
			    "%s before: the callee's side or the link is slow, +%s over %zu calls",
			    hits[k].r->a, hits[k].r->b, now, hits[k].r->b, before, sum,
			    hits[k].r->w[INC].nr);
		else
			say(&service_get(s, hits[k].r->a)->c, "jaeger",
			    "%s spends %s (p50) in %s itself, %s before: +%s over %zu spans",
			    hits[k].r->a, now, hits[k].r->b, before, sum, hits[k].r->w[INC].nr);
	}
	free(hits);
}

/* ---- errors in the spans ---- */

static void span_errors(struct state *s)
{
	for (size_t i = 0; i < s->sv_nr; i++) {
		struct service *sv = s->sv[i];
		double now, before;

		if (!sv->origins[INC] || !s->error_traces[INC])
			continue;
		now = (double)sv->origins[INC] / (double)s->traces[INC];
		before = s->traces[BASE] ? (double)sv->origins[BASE] / (double)s->traces[BASE] : 0;
		if (now < 2 * before + 0.02)
			continue;
		sv->c.strength[LOCALIZE_ERRORS] = (double)sv->origins[INC] / (double)s->error_traces[INC];
		if (sv->c.strength[LOCALIZE_ERRORS] > 1)
			sv->c.strength[LOCALIZE_ERRORS] = 1;
		say(&sv->c, "jaeger", "errors start in %s in %zu of %zu traces (%.0f%% of traces before)",
		    sv->name, sv->origins[INC], s->traces[INC], 100 * before);
	}
}

static void raise_strength(struct localize_candidate *c, enum localize_kind k, double v)
{
	if (v > 1)
		v = 1;
	if (v > c->strength[k])
		c->strength[k] = v;
}

/* ---- the logs ---- */

static int is_error_line(const char *t, size_t len)
{
	static const char *const words[] = { "ERROR", "FATAL", "CRITICAL", "SEVERE", "PANIC",
					     "Exception", "Traceback", "panic:", "level=error",
					     "level=fatal", "\"level\":\"error\"", NULL };

	for (size_t i = 0; words[i]; i++) {
		size_t n = strlen(words[i]);
		const char *p = t, *end = t + len;
		while ((p = memmem(p, (size_t)(end - p), words[i], n))) {
			/* a level is a word of its own; an exception's name may run on */
			if (i >= 5 || ((p == t || !isalnum((unsigned char)p[-1])) &&
				       (p + n == end || !isalnum((unsigned char)p[n]))))
				return 1;
			p += n;
		}
	}
	return 0;
}

/*
 * The other service of the graph an error line names ("No instances
 * available for orders", "I/O error on GET http://orders:8080/"): the
 * line is its caller's report of it failing. A name counts as a word of
 * its own: no letter, digit, '_' or '-' on either side.
 */
static struct service *named_service(struct state *s, const struct service *own,
				     const char *line, size_t len)
{
	if (len > 2048)
		len = 2048;
	for (size_t i = 0; i < s->sv_nr && i < NAMED_MAX; i++) {
		struct service *sv = s->sv[i];
		size_t n = strlen(sv->name);
		const char *p = line, *end = line + len;
		if (sv == own || n < 2)
			continue;
		while ((p = memmem(p, (size_t)(end - p), sv->name, n))) {
			int before = p > line && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '-');
			int after = p + n < end && (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '-');
			if (!before && !after)
				return sv;
			p += n;
		}
	}
	return NULL;
}

static void count_line(struct state *s, struct service *sv, int w, size_t id, const char *line,
		       size_t len)
{
	int error = is_error_line(line, len);

	if (error) {
		struct service *named = named_service(s, sv, line, len);
		if (named) {
			named->reports[w]++;
			if (w == INC && !named->report_example)
				named->report_example = xstrndup(line, len > 300 ? 300 : len);
			error = 0;
		}
	}

	if (id == LOGTEMPLATE_NONE)
		return;
	if (id >= sv->counts_alloc[w]) {
		size_t alloc = (id + 1) * 2;
		if (w == INC) {
			sv->example = xrealloc(sv->example, alloc * sizeof(*sv->example));
			memset(sv->example + sv->counts_alloc[w], 0,
			       (alloc - sv->counts_alloc[w]) * sizeof(*sv->example));
		}
		sv->counts[w] = xrealloc(sv->counts[w], alloc * sizeof(**sv->counts));
		sv->errors[w] = xrealloc(sv->errors[w], alloc * sizeof(**sv->errors));
		memset(sv->counts[w] + sv->counts_alloc[w], 0,
		       (alloc - sv->counts_alloc[w]) * sizeof(**sv->counts));
		memset(sv->errors[w] + sv->counts_alloc[w], 0,
		       (alloc - sv->counts_alloc[w]) * sizeof(**sv->errors));
		sv->counts_alloc[w] = alloc;
	}
	sv->counts[w][id]++;
	sv->errors[w][id] += error;
	sv->lines[w]++;
	if (error && w == INC && !sv->example[id])
		sv->example[id] = xstrndup(line, len > 300 ? 300 : len);
}

static void mine(struct state *s, const struct evidence *ev, int w,
		 const struct logtemplate_options *lo)
{
	for (size_t i = 0; i < ev->logs_nr; i++) {
		const struct evidence_item *it = &ev->logs[i];
		const char *name = it->service ? it->service : s->ev->service;
		const char *p = it->text, *end;
		struct service *sv;

		if (!p || !name)
			continue;
		sv = service_get(s, name);
		if (!sv->miner)
			sv->miner = logtemplate_new(lo);
		/* The log's pod: its name, less a ".previous" or container suffix. */
		if (it->name) {
			char *pod = xstrndup(it->name, strcspn(it->name, "."));
			add_pod(s, pod, name);
			free(pod);
		}
		end = p + strlen(p);
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
			count_line(s, sv, w, logtemplate_add(sv->miner, p, len), p, len);
			p += len + 1;
		}
	}
}

/* A log line as evidence: control characters become '?', so it stays one line. */
static const char *printable(struct strbuf *sb, const char *text)
{
	strbuf_reset(sb);
	for (; *text; text++)
		strbuf_addch(sb, (unsigned char)*text < 0x20 || *text == 0x7f ? '?' : *text);
	return sb->buf;
}

static long long errors_at(const struct service *sv, int w, size_t id)
{
	return id < sv->counts_alloc[w] ? sv->errors[w][id] : 0;
}

static void log_errors(struct state *s, struct service *sv)
{
	double exposure[WINDOWS], surplus = 0;
	size_t n = logtemplate_count(sv->miner), shown = 0;
	int by_calls = sv->calls[INC] && sv->calls[BASE];
	struct strbuf src = STRBUF_INIT, line = STRBUF_INIT;

	for (int w = 0; w < WINDOWS; w++)
		exposure[w] = (double)(by_calls ? sv->calls[w] : sv->lines[w]);
	if (!exposure[INC] || !sv->lines[INC])
		return;
	strbuf_addf(&src, "logs/%s", sv->name);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t id = 0; id < n; id++) {
			const struct logtemplate *t = logtemplate_get(sv->miner, id);
			long long now = errors_at(sv, INC, id), before = errors_at(sv, BASE, id);
			double expect = exposure[BASE] ? (double)before * exposure[INC] / exposure[BASE] : 0;
			double sd = sqrt(expect > 1 ? expect : 1);

			if (now < 3 || (double)now <= expect + 3 * sd)
				continue;
			if (!pass) {
				surplus += (double)now - expect;
				continue;
			}
			if (shown++ >= 2)
				break;
			if (!before)
				say(&sv->c, src.buf, "new error in the logs, %lld lines, none before: %.160s",
				    now, printable(&line, sv->example[id] ? sv->example[id] : t->text));
			else
				say(&sv->c, src.buf, "error logged %lld times, %.1f expected from before: %.160s",
				    now, expect, printable(&line, sv->example[id] ? sv->example[id] : t->text));
		}
		if (!pass) {
			double floor = exposure[INC];
			if (surplus <= 0)
				break;
			sv->c.strength[LOCALIZE_ERRORS] += surplus / (floor > 5 ? floor : 5);
			if (sv->c.strength[LOCALIZE_ERRORS] > 1)
				sv->c.strength[LOCALIZE_ERRORS] = 1;
		}
	}
	strbuf_release(&src);
	strbuf_release(&line);
	(void)s;
}

/* Its callers' errors that name it, against their rate before, per trace. */
static void log_reports(struct state *s, struct service *sv)
{
	double expect, sd, surplus, v;
	struct strbuf line = STRBUF_INIT;

	if (sv->reports[INC] < 3 || !s->traces[INC])
		return;
	expect = s->traces[BASE] ? (double)sv->reports[BASE] * (double)s->traces[INC] /
					   (double)s->traces[BASE] : 0;
	sd = sqrt(expect > 1 ? expect : 1);
	if ((double)sv->reports[INC] <= expect + 3 * sd)
		return;
	surplus = (double)sv->reports[INC] - expect;
	v = 0.5 * surplus / (double)(sv->calls[INC] > 5 ? sv->calls[INC] : 5);
	raise_strength(&sv->c, LOCALIZE_ERRORS, v > 0.5 ? 0.5 : v);
	say(&sv->c, "logs", "other services log %zu errors naming %s, %.1f expected from before: %.160s",
	    sv->reports[INC], sv->name, expect,
	    printable(&line, sv->report_example ? sv->report_example : ""));
	strbuf_release(&line);
}

static void log_silence(struct service *sv)
{
	double expect, ratio;
	struct strbuf src = STRBUF_INIT;

	if (!sv->calls[INC] || !sv->calls[BASE] || !sv->lines[BASE])
		return;
	expect = (double)sv->lines[BASE] * (double)sv->calls[INC] / (double)sv->calls[BASE];
	if (expect < 10)
		return;
	ratio = (double)sv->lines[INC] / expect;
	if (ratio >= 0.75 || expect - (double)sv->lines[INC] <= 3 * sqrt(expect))
		return;
	sv->c.strength[LOCALIZE_SILENCE] = (1 - ratio) * 2 > 1 ? 1 : (1 - ratio) * 2;
	strbuf_addf(&src, "logs/%s", sv->name);
	say(&sv->c, src.buf, "%s logs %.2f lines per call, %.2f before (%zu calls): statements it "
	    "used to reach stopped appearing", sv->name, (double)sv->lines[INC] / (double)sv->calls[INC],
	    (double)sv->lines[BASE] / (double)sv->calls[BASE], sv->calls[INC]);
	strbuf_release(&src);
}

/* ---- the pods' series ---- */

static const cJSON *series_of(const struct evidence *ev, const char *name)
{
	for (size_t i = 0; i < ev->prometheus_nr; i++)
		if (!strcmp(ev->prometheus[i].name, name))
			return json_path(ev->prometheus[i].json, "data.result");
	return NULL;
}

/* A series's values: the mean before t0, the max from t0 on; 0, or -1 when none from t0. */
static int split_series(const cJSON *series, time_t t0, double *before, double *now, int *have_before)
{
	const cJSON *pt;
	double sum = 0, max = -INFINITY;
	size_t nb = 0;

	cJSON_ArrayForEach(pt, json_array(series, "values")) {
		const cJSON *t = cJSON_GetArrayItem(pt, 0);
		const char *v = cJSON_GetStringValue(cJSON_GetArrayItem(pt, 1));
		double x;
		if (!cJSON_IsNumber(t) || !v)
			continue;
		x = strtod(v, NULL);
		if (!isfinite(x))
			continue;
		if (t->valuedouble < (double)t0) {
			sum += x;
			nb++;
		} else if (x > max) {
			max = x;
		}
	}
	if (max == -INFINITY)
		return -1;
	*now = max;
	*before = nb ? sum / (double)nb : 0;
	*have_before = nb > 0;
	return 0;
}

static const cJSON *series_for(const cJSON *result, const char *pod)
{
	const cJSON *series;

	cJSON_ArrayForEach(series, result)
		if (json_string_is(json_object(series, "metric"), "pod", pod))
			return series;
	return NULL;
}

static double last_value(const cJSON *series)
{
	const cJSON *values = json_array(series, "values");
	const char *v = cJSON_GetStringValue(cJSON_GetArrayItem(
		cJSON_GetArrayItem(values, cJSON_GetArraySize(values) - 1), 1));
	double x = v ? strtod(v, NULL) : 0;

	return isfinite(x) ? x : 0;
}


static void saturation(struct state *s, time_t t0)
{
	const struct evidence *ev = s->ev;
	const cJSON *cpu = series_of(ev, "pod-cpu"), *cpu_limit = series_of(ev, "pod-cpu-limit");
	const cJSON *thr = series_of(ev, "pod-cpu-throttled"), *mem = series_of(ev, "pod-memory");
	const cJSON *mem_limit = series_of(ev, "pod-memory-limit");
	const cJSON *restarts = series_of(ev, "pod-restarts");

	for (size_t i = 0; i < s->pods_nr; i++) {
		const char *pod = s->pods[i];
		struct localize_candidate *c = &service_get(s, s->pod_services[i])->c;
		double before, now, limit;
		int hb;

		limit = last_value(series_for(cpu_limit, pod));
		if (limit > 0 && !split_series(series_for(cpu, pod), t0, &before, &now, &hb) &&
		    now / limit >= 0.8 && (!hb || (now - before) / limit >= 0.3)) {
			raise_strength(c, LOCALIZE_CPU, (now - before) / limit / 0.5);
			say(c, "prometheus", "pod %s uses %.0f%% of its CPU limit (%.3g cores), %.0f%% before",
			    pod, 100 * now / limit, limit, 100 * before / limit);
		}
		if (!split_series(series_for(thr, pod), t0, &before, &now, &hb) && now >= 0.25 &&
		    now - before >= 0.2) {
			raise_strength(c, LOCALIZE_CPU, now / 0.5);
			say(c, "prometheus", "pod %s is throttled in %.0f%% of its CPU periods, %.0f%% before",
			    pod, 100 * now, 100 * before);
		}
		limit = last_value(series_for(mem_limit, pod));
		if (limit > 0 && !split_series(series_for(mem, pod), t0, &before, &now, &hb) &&
		    now / limit >= 0.9 && (!hb || now - before >= 0.05 * limit)) {
			raise_strength(c, LOCALIZE_MEMORY, (now / limit - 0.8) / 0.2);
			say(c, "prometheus", "pod %s uses %.0f%% of its memory limit, %.0f%% before",
			    pod, 100 * now / limit, 100 * before / limit);
		}
		if (!split_series(series_for(restarts, pod), t0, &before, &now, &hb) && hb &&
		    now > before) {
			raise_strength(c, LOCALIZE_RESTARTS, 1);
			say(c, "prometheus", "pod %s restarted during the incident (%.0f restarts, %.0f before)",
			    pod, now, before);
		}
	}
}

/* ---- the graph ---- */

/*
 * Does from call, near or far, a service whose signal is at least
 * at_least? Its name in *who. Iterative, over the services not yet seen
 * (each is walked once), so a long chain costs no stack.
 */
static int reaches(struct state *s, struct service *from, double (*signal)(const struct service *),
		   double at_least, const char **who)
{
	struct service **todo;
	size_t nr = 0;
	int found = 0;

	for (size_t k = 0; k < s->sv_nr; k++)
		s->sv[k]->seen = 0;
	from->seen = 1;
	todo = xcalloc(s->sv_nr + 1, sizeof(*todo));
	todo[nr++] = from;
	while (nr && !found) {
		struct service *at = todo[--nr];
		for (size_t i = 0; i < at->callees_nr && !found; i++) {
			struct service *to = service_get(s, at->callees[i]);
			if (to->seen)
				continue;
			to->seen = 1;
			if (signal(to) >= at_least) {
				*who = to->name;
				found = 1;
			} else {
				todo[nr++] = to;
			}
		}
	}
	free(todo);
	return found;
}

static double error_signal(const struct service *sv)
{
	return sv->c.strength[LOCALIZE_ERRORS] + 0.6 * sv->c.strength[LOCALIZE_SILENCE];
}

/* Everything wrong with a service: a callee that is slow or starved makes its callers err too. */
static double any_signal(const struct service *sv)
{
	double sum = error_signal(sv);

	for (int k = 0; k < LOCALIZE__COUNT; k++)
		if (k != LOCALIZE_ERRORS && k != LOCALIZE_SILENCE)
			sum += sv->c.strength[k];
	return sum;
}

/*
 * Errors surface in every caller of the service where they start, and a
 * callee that is slow or starved makes its callers time out and err: a
 * service whose callees, near or far, show as much keeps half of its
 * error signals.
 */
static void prefer_deepest(struct state *s)
{
	double *keep = xcalloc(s->sv_nr ? s->sv_nr : 1, sizeof(*keep));
	size_t walks = 0;

	for (size_t i = 0; i < s->sv_nr; i++) {
		double mine = error_signal(s->sv[i]);
		const char *who = NULL;

		keep[i] = 1;
		if (mine <= 0 || walks++ >= WALKS_MAX)
			continue;
		if (reaches(s, s->sv[i], any_signal, 0.5 * mine, &who)) {
			keep[i] = 0.5;
			say(&s->sv[i]->c, "jaeger", "%s, which it calls, is also failing or slow: the "
			    "errors more likely start there", who);
		}
	}
	for (size_t i = 0; i < s->sv_nr; i++) {
		s->sv[i]->c.strength[LOCALIZE_ERRORS] *= keep[i];
		s->sv[i]->c.strength[LOCALIZE_SILENCE] *= keep[i];
	}
	free(keep);
}

/* ---- ranking ---- */

static const double weight[LOCALIZE__COUNT] = {
	[LOCALIZE_LATENCY] = 1, [LOCALIZE_CPU] = 1, [LOCALIZE_MEMORY] = 1,
	[LOCALIZE_RESTARTS] = 1, [LOCALIZE_ERRORS] = 1, [LOCALIZE_SILENCE] = 0.6,
};

static int compare_candidates(const void *a, const void *b)
{
	const struct localize_candidate *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return strcmp(x->service, y->service);
}

static void release_state(struct state *s)
{
	for (size_t i = 0; i < s->sv_nr; i++) {
		struct service *sv = s->sv[i];
		free(sv->name);
		logtemplate_free(sv->miner);
		for (int w = 0; w < WINDOWS; w++) {
			free(sv->counts[w]);
			free(sv->errors[w]);
		}
		for (size_t k = 0; sv->example && k < sv->counts_alloc[INC]; k++)
			free(sv->example[k]);
		free(sv->example);
		free(sv->report_example);
		for (size_t k = 0; k < sv->callees_nr; k++)
			free(sv->callees[k]);
		free(sv->callees);
		for (size_t k = 0; k < sv->c.lines_nr; k++) {
			free(sv->c.lines[k].source);
			free(sv->c.lines[k].summary);
		}
		free(sv->c.lines);
		free(sv);
	}
	free(s->sv);
	table_release(&s->self);
	table_release(&s->gaps);
	table_release(&s->names);
	table_release(&s->pod_index);
	table_release(&s->edges);
	for (int w = 0; w < WINDOWS; w++)
		free(s->roots[w].v);
	for (size_t i = 0; i < s->pods_nr; i++) {
		free(s->pods[i]);
		free(s->pod_services[i]);
	}
	free(s->pods);
	free(s->pod_services);
}

int localize(struct localize_result *out, const struct evidence *ev)
{
	struct state s;
	struct logtemplate_options lo;
	time_t t0 = 0;
	const char *opened = json_string(ev->incident, "opened_at");

	memset(out, 0, sizeof(*out));
	if (!ev->baseline || !ev->service)
		return 0;
	memset(&s, 0, sizeof(s));
	s.ev = ev;
	if (ev->traces)
		walk_traces(&s, ev->traces, INC);
	if (ev->baseline->traces)
		walk_traces(&s, ev->baseline->traces, BASE);
	logtemplate_options_init(&lo);
	mine(&s, ev->baseline, BASE, &lo);
	mine(&s, ev, INC, &lo);
	out->traces = s.traces[INC];
	out->baseline_traces = s.traces[BASE];
	out->have_baseline = 1;
	if (!opened || parse_rfc3339(opened, &t0) < 0)
		t0 = ev->now;
	latency(&s);
	span_errors(&s);
	for (size_t i = 0; i < s.sv_nr; i++) {
		if (s.sv[i]->miner)
			log_errors(&s, s.sv[i]);
		log_reports(&s, s.sv[i]);
		log_silence(s.sv[i]);
	}
	saturation(&s, t0);
	prefer_deepest(&s);
	for (size_t i = 0; i < s.sv_nr; i++) {
		struct localize_candidate *c = &s.sv[i]->c;
		double best = 0;

		c->score = 0;
		for (int k = 0; k < LOCALIZE__COUNT; k++) {
			double v = weight[k] * c->strength[k];
			c->score += v;
			if (v > best) {
				best = v;
				c->kind = (enum localize_kind)k;
			}
		}
		/* CPU saturation is why its own time grew: resource exhaustion. */
		if (c->kind == LOCALIZE_LATENCY && c->strength[LOCALIZE_CPU] > 0)
			c->kind = LOCALIZE_CPU;
		if (c->score < 0.05)
			continue;
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr] = *c;
		out->v[out->nr].service = xstrdup(c->service);
		c->lines = NULL;
		c->lines_nr = c->lines_alloc = 0;
		out->nr++;
	}
	if (out->nr)
		qsort(out->v, out->nr, sizeof(*out->v), compare_candidates);
	release_state(&s);
	return 0;
}

void localize_release(struct localize_result *r)
{
	for (size_t i = 0; i < r->nr; i++) {
		free(r->v[i].service);
		for (size_t k = 0; k < r->v[i].lines_nr; k++) {
			free(r->v[i].lines[k].source);
			free(r->v[i].lines[k].summary);
		}
		free(r->v[i].lines);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}
