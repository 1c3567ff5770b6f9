/*
 * traces.c: what a set of Jaeger traces says. See traces.h.
 *
 * One pass over the traces. Each trace's spans are read into a work area
 * reused from trace to trace: an index of its span ids (open addressing),
 * every span's children as runs of one array sorted by parent and start,
 * and a depth-first order from the roots. Ids and names stay borrowed
 * from the cJSON tree until the results are copied out at the end.
 *
 * A span no root reaches is in a reference cycle (A's parent is B, B's is
 * A) or below one; it is skipped like a malformed span, so what is left
 * of a trace is a forest and every walk over it ends. Walks use explicit
 * stacks, never recursion: a trace may be a chain of 100,000 spans.
 *
 * The critical path needs more than the pass keeps, so only the slowest
 * traces' JSON is remembered, and those traces are read again at the end.
 */
#include <math.h>

#include "util.h"
#include "color.h"
#include "json.h"
#include "traces.h"

#define NO_SPAN (-1)
/* Times beyond this many µs (31,000 years) are nonsense; below, sums cannot overflow. */
#define TIME_LIMIT 1000000000000000000LL
/* The narrowest bar a waterfall draws, and names cut no shorter than this. */
#define MIN_BAR 10
#define MIN_NAME 8

struct span {
	const cJSON *json;
	const char *id, *parent_id, *service, *operation;
	int64_t start, duration;
	int parent;             /* its index in the trace, or NO_SPAN */
	int child_of;           /* its reference to the parent is CHILD_OF */
	int error;
	int error_below;        /* a descendant errs */
	int reached;            /* a root or a root's descendant */
	int first_child;        /* its children: child[first_child ...] */
	int children;
};

/* An open-addressing index: items are numbers, the caller keeps their keys. */
struct slot {
	uint32_t hash;
	uint32_t item;          /* the item + 1; 0 is an empty slot */
};

struct table {
	struct slot *slots;
	size_t cap, alloc;      /* cap is a power of two, at least twice nr */
	size_t nr;
};

typedef int (*match_fn)(const void *items, size_t item, const void *key);

/* A (service, operation) pair summed over every trace. */
struct op_acc {
	size_t service;         /* index in work.services */
	const char *operation;  /* borrowed from the JSON */
	size_t spans, errors;
	size_t origins;         /* spans of it where errors originate */
	int64_t self_us, max_us;
	int64_t *durations;     /* spans of them */
	size_t durations_alloc;
};

struct service_acc {
	const char *name;       /* borrowed from the JSON */
	size_t origin_traces, origin_spans;
	size_t last_trace;      /* the last trace counted in origin_traces */
	char *example;
};

/* A trace read, to find the slowest again. */
struct trace_seen {
	const cJSON *json;
	int64_t duration;
	size_t seq;
};

struct child_key {
	int parent, index;
	int64_t start;
};

struct work {
	/* the trace being read */
	struct span *spans;
	size_t nr, spans_alloc;
	struct table ids;
	struct child_key *keys;
	int *child, *order, *stack;
	size_t ordered;         /* spans in order: those a root reaches */
	size_t links_alloc;     /* of keys, child, order and stack */

	/* every trace */
	struct service_acc *services;
	size_t services_nr, services_alloc;
	struct table service_index;
	struct op_acc *ops;
	size_t ops_nr, ops_alloc;
	struct table op_index;
	struct trace_seen *seen;
	size_t seen_nr, seen_alloc;
	int64_t *roots;         /* each trace's root's duration, seen_nr of them */
};

/* ---- the index ---- */

static uint32_t hash_string(const char *s, uint32_t h)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u; /* FNV-1a */
	return h;
}

#define HASH_SEED 2166136261u

/* The item whose key is key, or -1. */
static long table_get(const struct table *t, uint32_t hash, match_fn match,
		      const void *items, const void *key)
{
	size_t mask = t->cap - 1;

	if (!t->cap)
		return -1;
	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		const struct slot *s = &t->slots[i];

		if (!s->item)
			return -1;
		if (s->hash == hash && match(items, s->item - 1, key))
			return (long)s->item - 1;
	}
}

static void table_insert(struct table *t, uint32_t hash, size_t item)
{
	size_t mask = t->cap - 1, i = hash & mask;

	while (t->slots[i].item)
		i = (i + 1) & mask;
	t->slots[i].hash = hash;
	t->slots[i].item = (uint32_t)item + 1;
	t->nr++;
}

/* Empty t, sized for n items. */
static void table_reset(struct table *t, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	if (cap > t->alloc) {
		free(t->slots);
		t->slots = xmalloc(cap * sizeof(*t->slots));
		t->alloc = cap;
	}
	t->cap = cap;
	t->nr = 0;
	memset(t->slots, 0, cap * sizeof(*t->slots));
}

/* Add an item, growing t as it fills. */
static void table_put(struct table *t, uint32_t hash, size_t item)
{
	if (2 * (t->nr + 1) > t->cap) {
		struct table bigger = { 0 };

		table_reset(&bigger, t->nr + 1);
		for (size_t i = 0; i < t->cap; i++)
			if (t->slots[i].item)
				table_insert(&bigger, t->slots[i].hash, t->slots[i].item - 1);
		free(t->slots);
		*t = bigger;
	}
	table_insert(t, hash, item);
}

static int same_span(const void *items, size_t item, const void *key)
{
	return !strcmp(((const struct span *)items)[item].id, key);
}

static int same_service(const void *items, size_t item, const void *key)
{
	return !strcmp(((const struct service_acc *)items)[item].name, key);
}

struct op_key {
	size_t service;
	const char *operation;
};

static int same_op(const void *items, size_t item, const void *key)
{
	const struct op_acc *op = &((const struct op_acc *)items)[item];
	const struct op_key *k = key;

	return op->service == k->service && !strcmp(op->operation, k->operation);
}

/* ---- one span ---- */

/* v's string when it is a non-empty one, or NULL. */
static const char *nonempty(const cJSON *v)
{
	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* A time in µs: 0, or -1 when it is missing or nonsense. */
static int json_time(const cJSON *v, int64_t *out)
{
	long long us;

	if (!cJSON_IsNumber(v) || double_to_ll(v->valuedouble, -TIME_LIMIT, TIME_LIMIT, &us) < 0)
		return -1;
	*out = us;
	return 0;
}

/*
 * The members of a span that the analysis reads, found in one pass over
 * them: a lookup each would walk the span's dozen members eight times,
 * and that was a third of the time. The first of a name wins, as in cJSON.
 */
struct span_fields {
	const cJSON *trace_id, *span_id, *operation, *references, *parent_span_id;
	const cJSON *start, *duration, *tags, *process_id, *process;
};

static void find_span_fields(const cJSON *js, struct span_fields *f)
{
	memset(f, 0, sizeof(*f));
	for (const cJSON *m = js->child; m; m = m->next) {
		const char *k = m->string;
		const cJSON **slot = NULL;

		if (!k)
			continue;
		switch (k[0]) {
		case 't':
			slot = !strcmp(k, "traceID") ? &f->trace_id : !strcmp(k, "tags") ? &f->tags : NULL;
			break;
		case 's':
			slot = !strcmp(k, "spanID") ? &f->span_id :
			       !strcmp(k, "startTime") ? &f->start : NULL;
			break;
		case 'o':
			slot = !strcmp(k, "operationName") ? &f->operation : NULL;
			break;
		case 'r':
			slot = !strcmp(k, "references") ? &f->references : NULL;
			break;
		case 'd':
			slot = !strcmp(k, "duration") ? &f->duration : NULL;
			break;
		case 'p':
			slot = !strcmp(k, "processID") ? &f->process_id :
			       !strcmp(k, "process") ? &f->process :
			       !strcmp(k, "parentSpanID") ? &f->parent_span_id : NULL;
			break;
		}
		if (slot && !*slot)
			*slot = m;
	}
}

/* A tag's key and value, in one pass over its members. */
static const char *tag_key(const cJSON *tag, const cJSON **value)
{
	const cJSON *key = NULL;

	*value = NULL;
	for (const cJSON *m = tag->child; m; m = m->next) {
		if (!m->string)
			continue;
		if (!key && !strcmp(m->string, "key"))
			key = m;
		else if (!*value && !strcmp(m->string, "value"))
			*value = m;
	}
	return nonempty(key);
}

/*
 * The parent's span id: the CHILD_OF reference within the trace, else the
 * first reference within it (FOLLOWS_FROM), else an older export's
 * parentSpanID; or NULL. A reference into another trace is a link, not a
 * parent.
 */
static const char *parent_ref(const struct span_fields *f, int *child_of)
{
	const char *trace = nonempty(f->trace_id), *first = NULL;
	const cJSON *r;

	*child_of = 1;
	if (cJSON_IsArray(f->references)) {
		cJSON_ArrayForEach(r, f->references) {
			const char *type = json_nonempty(r, "refType");
			const char *id = json_nonempty(r, "spanID");
			const char *rtrace = json_nonempty(r, "traceID");

			if (!id || (trace && rtrace && strcmp(trace, rtrace)))
				continue;
			if (type && !strcmp(type, "CHILD_OF"))
				return id;
			if (!first)
				first = id;
		}
	}
	if (first) {
		*child_of = 0;
		return first;
	}
	return nonempty(f->parent_span_id);
}

/* An HTTP status tag's value, a number or a numeric string; 0 when neither. */
static long status_value(const cJSON *v)
{
	long long n;

	if (cJSON_IsNumber(v))
		return double_to_ll(v->valuedouble, 0, 999, &n) < 0 ? 0 : (long)n;
	if (cJSON_IsString(v) && !parse_ll(v->valuestring, &n) && n >= 0 && n < 1000)
		return (long)n;
	return 0;
}

static int is_status_key(const char *key)
{
	return !strcmp(key, "http.status_code") || !strcmp(key, "http.response.status_code");
}

/* Whether a span with these tags errs. */
static int span_errs(const cJSON *tags)
{
	const cJSON *t, *v;

	if (!cJSON_IsArray(tags))
		return 0;
	cJSON_ArrayForEach(t, tags) {
		const char *key = tag_key(t, &v);

		if (!key)
			continue;
		if (!strcmp(key, "error") &&
		    (cJSON_IsTrue(v) || (cJSON_IsString(v) && !strcasecmp(v->valuestring, "true"))))
			return 1;
		if (!strcmp(key, "otel.status_code") && cJSON_IsString(v) &&
		    !strcasecmp(v->valuestring, "ERROR"))
			return 1;
		if (is_status_key(key) && status_value(v) >= 500)
			return 1;
	}
	return 0;
}

/* The string value of the span's tag key, or NULL. */
static const char *tag_string(const cJSON *span, const char *key)
{
	const cJSON *tags = json_get(span, "tags"), *t;

	if (!cJSON_IsArray(tags))
		return NULL;
	cJSON_ArrayForEach(t, tags) {
		const cJSON *v;
		const char *k = tag_key(t, &v);

		if (k && !strcmp(k, key))
			return nonempty(v);
	}
	return NULL;
}

static int is_message_key(const char *key)
{
	static const char *const keys[] = {
		"otel.status_description", "error.message", "exception.message",
		"message", "error.object",
	};

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(key, keys[i]))
			return 1;
	return 0;
}

/* The first message in tags (or a log's fields, which have their shape), or NULL. */
static const char *message_in(const cJSON *tags)
{
	const cJSON *t, *v;

	if (!cJSON_IsArray(tags))
		return NULL;
	cJSON_ArrayForEach(t, tags) {
		const char *key = tag_key(t, &v);

		if (key && nonempty(v) && is_message_key(key))
			return v->valuestring;
	}
	return NULL;
}

/*
 * What an erring span says went wrong, for a person: its error message
 * (a tag, or a field of its logs), else its HTTP status; or NULL.
 */
static char *error_example(const cJSON *span)
{
	const cJSON *tags = json_get(span, "tags");
	const cJSON *logs = json_get(span, "logs"), *t, *v;
	const char *msg = message_in(tags);
	long status = 0;

	if (!msg && cJSON_IsArray(logs)) {
		cJSON_ArrayForEach(t, logs) {
			msg = message_in(json_get(t, "fields"));
			if (msg)
				break;
		}
	}
	if (msg)
		return xstrdup(msg);
	if (cJSON_IsArray(tags)) {
		cJSON_ArrayForEach(t, tags) {
			const char *key = tag_key(t, &v);

			if (key && is_status_key(key) && status_value(v) >= 500)
				status = status_value(v);
		}
	}
	return status ? xstrfmt("HTTP %ld", status) : NULL;
}

/* Fill s from the JSON span js: 0, or -1 when it cannot be used. */
static int read_span(struct span *s, const cJSON *js, const cJSON *processes)
{
	struct span_fields f;
	const cJSON *process = NULL;
	const char *pid;

	memset(s, 0, sizeof(*s));
	if (!cJSON_IsObject(js))
		return -1;
	find_span_fields(js, &f);
	pid = nonempty(f.process_id);
	if (pid && cJSON_IsObject(processes))
		process = json_get(processes, pid);
	if (!cJSON_IsObject(process))
		process = f.process;
	s->json = js;
	s->id = nonempty(f.span_id);
	s->service = json_nonempty(process, "serviceName");
	if (!s->id || !s->service || !cJSON_IsString(f.operation) ||
	    json_time(f.start, &s->start) < 0 ||
	    json_time(f.duration, &s->duration) < 0 || s->duration < 0)
		return -1;
	s->operation = f.operation->valuestring;
	s->parent_id = parent_ref(&f, &s->child_of);
	if (s->parent_id && !strcmp(s->parent_id, s->id))
		return -1; /* its own parent */
	s->parent = NO_SPAN;
	s->error = span_errs(f.tags);
	return 0;
}

/*
 * One span for a caller that walks spans itself (lib/jaeger.c): the same
 * parent_ref() and span_errs() as read_span(), which finds their fields
 * in its one pass over the span's members.
 */
const char *traces_span_parent(const cJSON *span)
{
	struct span_fields f;
	int child_of;

	if (!cJSON_IsObject(span))
		return NULL;
	find_span_fields(span, &f);
	return parent_ref(&f, &child_of);
}

int traces_span_failed(const cJSON *span)
{
	return span_errs(json_get(span, "tags"));
}

/* ---- one trace ---- */

static int compare_child_keys(const void *a, const void *b)
{
	const struct child_key *x = a, *y = b;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

/* Every span's children, by start, as a run of w->child. */
static void link_children(struct work *w)
{
	size_t n = 0;

	for (size_t i = 0; i < w->nr; i++) {
		struct span *s = &w->spans[i];

		s->first_child = s->children = 0;
		if (s->parent != NO_SPAN) {
			w->keys[n].parent = s->parent;
			w->keys[n].index = (int)i;
			w->keys[n].start = s->start;
			n++;
		}
	}
	qsort(w->keys, n, sizeof(*w->keys), compare_child_keys);
	for (size_t k = 0; k < n; k++) {
		struct span *p = &w->spans[w->keys[k].parent];

		w->child[k] = w->keys[k].index;
		if (!p->children)
			p->first_child = (int)k;
		p->children++;
	}
}

/* Depth first from every root, in w->order; spans it leaves out are in a cycle. */
static void order_spans(struct work *w)
{
	size_t top = 0;

	w->ordered = 0;
	for (size_t i = w->nr; i-- > 0;)
		if (w->spans[i].parent == NO_SPAN)
			w->stack[top++] = (int)i;
	/* every span has one parent, so none is pushed twice */
	while (top) {
		struct span *s = &w->spans[w->stack[--top]];

		s->reached = 1;
		w->order[w->ordered++] = (int)(s - w->spans);
		for (int c = s->children; c-- > 0;)
			w->stack[top++] = w->child[s->first_child + c];
	}
	for (size_t k = w->ordered; k-- > 0;) {
		const struct span *s = &w->spans[w->order[k]];

		if (s->parent != NO_SPAN)
			w->spans[s->parent].error_below |= s->error || s->error_below;
	}
}

/* Read one trace into w; how many of its spans are left to analyse. */
static size_t load_trace(struct work *w, const cJSON *trace, size_t *skipped)
{
	const cJSON *spans = json_get(trace, "spans");
	const cJSON *processes = json_get(trace, "processes"), *js;
	size_t max;

	w->nr = 0;
	max = cJSON_IsObject(trace) && cJSON_IsArray(spans) ? (size_t)cJSON_GetArraySize(spans) : 0;
	if (!max) {
		(*skipped)++;
		return 0;
	}
	ALLOC_GROW(w->spans, max, w->spans_alloc);
	if (max > w->links_alloc) {
		w->links_alloc = max;
		w->keys = xrealloc(w->keys, max * sizeof(*w->keys));
		w->child = xrealloc(w->child, max * sizeof(*w->child));
		w->order = xrealloc(w->order, max * sizeof(*w->order));
		w->stack = xrealloc(w->stack, max * sizeof(*w->stack));
	}
	table_reset(&w->ids, max);
	cJSON_ArrayForEach(js, spans) {
		struct span *s = &w->spans[w->nr];
		uint32_t hash;

		if (read_span(s, js, processes) < 0) {
			(*skipped)++;
			continue;
		}
		hash = hash_string(s->id, HASH_SEED);
		if (table_get(&w->ids, hash, same_span, w->spans, s->id) >= 0) {
			(*skipped)++; /* the first span of an id wins */
			continue;
		}
		table_insert(&w->ids, hash, w->nr++);
	}
	for (size_t i = 0; i < w->nr; i++) {
		struct span *s = &w->spans[i];

		if (s->parent_id)
			s->parent = (int)table_get(&w->ids, hash_string(s->parent_id, HASH_SEED),
						   same_span, w->spans, s->parent_id);
	}
	link_children(w);
	order_spans(w);
	*skipped += w->nr - w->ordered;
	return w->ordered;
}

/* The trace's root: the earliest span without a parent, the longest of those. */
static int trace_root(const struct work *w)
{
	int best = NO_SPAN;

	for (size_t i = 0; i < w->nr; i++) {
		const struct span *s = &w->spans[i], *b = best == NO_SPAN ? NULL : &w->spans[best];

		if (!s->reached || s->parent != NO_SPAN)
			continue;
		if (!b || s->start < b->start || (s->start == b->start && s->duration > b->duration))
			best = (int)i;
	}
	return best;
}

static int trace_errs(const struct work *w)
{
	for (size_t k = 0; k < w->ordered; k++)
		if (w->spans[w->order[k]].error)
			return 1;
	return 0;
}

/* A span's duration less the union of its children's intervals clipped to it. */
static int64_t self_time(const struct work *w, const struct span *s)
{
	int64_t end = s->start + s->duration, covered = 0;
	int64_t run_start = s->start, run_end = s->start;

	/* by start, so each child either extends the run or starts a new one */
	for (int c = 0; c < s->children; c++) {
		const struct span *ch = &w->spans[w->child[s->first_child + c]];
		int64_t cs = ch->start > s->start ? ch->start : s->start;
		int64_t ce = ch->start + ch->duration < end ? ch->start + ch->duration : end;

		if (ce <= cs)
			continue;
		if (cs > run_end) {
			covered += run_end - run_start;
			run_start = cs;
			run_end = ce;
		} else if (ce > run_end) {
			run_end = ce;
		}
	}
	covered += run_end - run_start;
	return s->duration - covered;
}

static size_t service_of(struct work *w, const char *name)
{
	uint32_t hash = hash_string(name, HASH_SEED);
	long i = table_get(&w->service_index, hash, same_service, w->services, name);

	if (i >= 0)
		return (size_t)i;
	ALLOC_GROW(w->services, w->services_nr + 1, w->services_alloc);
	memset(&w->services[w->services_nr], 0, sizeof(*w->services));
	w->services[w->services_nr].name = name;
	table_put(&w->service_index, hash, w->services_nr);
	return w->services_nr++;
}

static struct op_acc *op_of(struct work *w, size_t service, const char *operation)
{
	struct op_key key = { service, operation };
	uint32_t hash = hash_string(operation, HASH_SEED ^ (uint32_t)(service * 2654435761u));
	long i = table_get(&w->op_index, hash, same_op, w->ops, &key);
	struct op_acc *op;

	if (i >= 0)
		return &w->ops[i];
	ALLOC_GROW(w->ops, w->ops_nr + 1, w->ops_alloc);
	op = &w->ops[w->ops_nr];
	memset(op, 0, sizeof(*op));
	op->service = service;
	op->operation = operation;
	table_put(&w->op_index, hash, w->ops_nr++);
	return op;
}

/* Add the trace in w, the seq'th read (from 1), to the sums. */
static void account_trace(struct work *w, size_t seq)
{
	for (size_t k = 0; k < w->ordered; k++) {
		const struct span *s = &w->spans[w->order[k]];
		size_t svc = service_of(w, s->service);
		struct op_acc *op = op_of(w, svc, s->operation);

		ALLOC_GROW(op->durations, op->spans + 1, op->durations_alloc);
		op->durations[op->spans++] = s->duration;
		op->errors += s->error;
		op->self_us += self_time(w, s);
		if (s->duration > op->max_us)
			op->max_us = s->duration;
		if (s->error && !s->error_below) {
			struct service_acc *sa = &w->services[svc];

			op->origins++;
			sa->origin_spans++;
			if (sa->last_trace != seq) {
				sa->last_trace = seq;
				sa->origin_traces++;
			}
			if (!sa->example)
				sa->example = error_example(s->json);
		}
	}
}

/* ---- the critical path ---- */

/* A child as the critical path sees it: clipped to its parent. */
struct clip {
	int64_t start, end;
	int index;
};

static int later_end_first(const void *a, const void *b)
{
	const struct clip *x = a, *y = b;

	if (x->end != y->end)
		return x->end > y->end ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static void fill_path_span(struct trace_path_span *p, const struct span *s, int64_t base,
			   int64_t self)
{
	const char *db = tag_string(s->json, "db.system");
	const char *peer = tag_string(s->json, "peer.service");

	p->span_id = xstrdup(s->id);
	p->service = xstrdup(s->service);
	p->operation = xstrdup(s->operation);
	p->start_us = s->start - base;
	p->duration_us = s->duration;
	p->self_us = self;
	p->error = s->error;
	p->db_system = db ? xstrdup(db) : NULL;
	p->peer_service = peer ? xstrdup(peer) : NULL;
}

/*
 * The critical path below root, Jaeger's way. From the root, with a
 * cursor at its end: the CHILD_OF child that ends last at or before the
 * cursor (children clipped to their parent) is on the path; the time
 * between its end and the cursor is the parent's own; the walk goes into
 * it with the cursor at its end, and when a span has no such child left,
 * its start to the cursor is its own and the walk goes back up with the
 * cursor at that start. A FOLLOWS_FROM child is not waited for.
 */
static void critical_path(const struct work *w, int root, struct trace_slow *slow)
{
	size_t n = w->nr, used = 0, top = 0, nr = 0;
	int64_t *cs = xmalloc(n * sizeof(*cs)), *ce = xmalloc(n * sizeof(*ce));
	int64_t *self = xcalloc(n, sizeof(*self)), cursor;
	struct clip *pool = xmalloc(n * sizeof(*pool));
	int *first = xmalloc(n * sizeof(*first)), *count = xmalloc(n * sizeof(*count));
	int *next = xmalloc(n * sizeof(*next)), *stack = xmalloc(n * sizeof(*stack));
	char *in_tree = xcalloc(n, 1), *on_path = xcalloc(n, 1);
	int cur = root;

	/* in depth-first order a parent comes before its children */
	for (size_t k = 0; k < w->ordered; k++) {
		int i = w->order[k];
		const struct span *s = &w->spans[i];

		if (i == root) {
			cs[i] = s->start;
			ce[i] = s->start + s->duration;
		} else if (s->parent != NO_SPAN && in_tree[s->parent]) {
			cs[i] = s->start > cs[s->parent] ? s->start : cs[s->parent];
			ce[i] = s->start + s->duration < ce[s->parent] ?
				s->start + s->duration : ce[s->parent];
			if (ce[i] < cs[i])
				ce[i] = cs[i];
		} else {
			continue;
		}
		in_tree[i] = 1;
	}

	cursor = ce[root];
	for (;;) {
		if (!on_path[cur]) {
			const struct span *s = &w->spans[cur];

			on_path[cur] = 1;
			nr++;
			first[cur] = (int)used;
			for (int c = 0; c < s->children; c++) {
				int ch = w->child[s->first_child + c];

				if (w->spans[ch].child_of && ce[ch] > cs[ch]) {
					pool[used].start = cs[ch];
					pool[used].end = ce[ch];
					pool[used].index = ch;
					used++;
				}
			}
			count[cur] = (int)used - first[cur];
			next[cur] = 0;
			qsort(pool + first[cur], (size_t)count[cur], sizeof(*pool), later_end_first);
		}
		while (next[cur] < count[cur] && pool[first[cur] + next[cur]].end > cursor)
			next[cur]++;
		if (next[cur] < count[cur]) {
			const struct clip *c = &pool[first[cur] + next[cur]++];

			self[cur] += cursor - c->end;
			cur = c->index;
			cursor = c->end;
			continue;
		}
		self[cur] += cursor - cs[cur];
		if (cur == root)
			break;
		cursor = cs[cur];
		cur = w->spans[cur].parent;
	}

	slow->path = xcalloc(nr, sizeof(*slow->path));
	stack[top++] = root;
	while (top) {
		int i = stack[--top];
		const struct span *s = &w->spans[i];
		struct trace_path_span *p = &slow->path[slow->path_nr];

		fill_path_span(p, s, w->spans[root].start, self[i]);
		if (p->self_us > slow->path[slow->hot].self_us)
			slow->hot = slow->path_nr;
		slow->path_nr++;
		for (int c = s->children; c-- > 0;) {
			int ch = w->child[s->first_child + c];

			if (on_path[ch])
				stack[top++] = ch;
		}
	}

	free(cs);
	free(ce);
	free(self);
	free(pool);
	free(first);
	free(count);
	free(next);
	free(stack);
	free(in_tree);
	free(on_path);
}

static int slowest_first(const void *a, const void *b)
{
	const struct trace_seen *x = a, *y = b;

	if (x->duration != y->duration)
		return x->duration > y->duration ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static void read_slow(struct work *w, const struct trace_seen *seen, struct trace_slow *slow)
{
	size_t ignored = 0;
	const char *id = json_nonempty(seen->json, "traceID");
	const struct span *root;
	int r;

	load_trace(w, seen->json, &ignored);
	r = trace_root(w);
	root = &w->spans[r];
	if (!id)
		id = json_nonempty(root->json, "traceID");
	slow->trace_id = xstrdup(id ? id : "");
	slow->root_service = xstrdup(root->service);
	slow->root_operation = xstrdup(root->operation);
	slow->duration_us = root->duration;
	slow->error = trace_errs(w);
	critical_path(w, r, slow);
}

/* ---- the results ---- */

static int compare_durations(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank p'th percentile of n sorted durations. */
static int64_t percentile(const int64_t *sorted, size_t n, unsigned p)
{
	size_t rank = (p * n + 99) / 100;

	if (!n)
		return 0;
	return sorted[rank ? rank - 1 : 0];
}

static void set_percentiles(struct trace_op_stats *st, const int64_t *sorted, size_t n)
{
	st->p50_us = percentile(sorted, n, 50);
	st->p95_us = percentile(sorted, n, 95);
	st->p99_us = percentile(sorted, n, 99);
}

static int compare_ops(const void *a, const void *b)
{
	const struct trace_op_stats *x = a, *y = b;
	int c = strcmp(x->service, y->service);

	return c ? c : strcmp(x->operation, y->operation);
}

static int compare_origins(const void *a, const void *b)
{
	const struct trace_origin *x = a, *y = b;

	if (x->traces != y->traces)
		return x->traces > y->traces ? -1 : 1;
	if (x->spans != y->spans)
		return x->spans > y->spans ? -1 : 1;
	return strcmp(x->service, y->service);
}

/* Copy the sums in w out to a; what a takes from w is no longer w's. */
static void fill_results(struct trace_analysis *a, struct work *w)
{
	const struct op_acc **top = xcalloc(w->services_nr ? w->services_nr : 1, sizeof(*top));

	a->ops = xcalloc(w->ops_nr ? w->ops_nr : 1, sizeof(*a->ops));
	for (size_t i = 0; i < w->ops_nr; i++) {
		struct op_acc *op = &w->ops[i];
		struct trace_op_stats *st = &a->ops[a->ops_nr++];
		const struct op_acc **best = &top[op->service];

		qsort(op->durations, op->spans, sizeof(*op->durations), compare_durations);
		st->service = xstrdup(w->services[op->service].name);
		st->operation = xstrdup(op->operation);
		st->spans = op->spans;
		st->errors = op->errors;
		set_percentiles(st, op->durations, op->spans);
		st->max_us = op->max_us;
		st->self_us = op->self_us;
		st->durations_us = op->durations;
		op->durations = NULL;
		if (op->origins && (!*best || op->origins > (*best)->origins ||
				    (op->origins == (*best)->origins &&
				     strcmp(op->operation, (*best)->operation) < 0)))
			*best = op;
	}
	qsort(a->ops, a->ops_nr, sizeof(*a->ops), compare_ops);

	a->origins = xcalloc(w->services_nr ? w->services_nr : 1, sizeof(*a->origins));
	for (size_t i = 0; i < w->services_nr; i++) {
		struct service_acc *sa = &w->services[i];
		struct trace_origin *o;

		if (!sa->origin_spans)
			continue;
		o = &a->origins[a->origins_nr++];
		o->service = xstrdup(sa->name);
		o->operation = xstrdup(top[i]->operation);
		o->traces = sa->origin_traces;
		o->spans = sa->origin_spans;
		o->example = sa->example;
		sa->example = NULL;
	}
	qsort(a->origins, a->origins_nr, sizeof(*a->origins), compare_origins);
	free(top);

	if (w->seen_nr)
		qsort(w->roots, w->seen_nr, sizeof(*w->roots), compare_durations);
	a->p99_root_us = percentile(w->roots, w->seen_nr, 99);
}

static void work_release(struct work *w)
{
	free(w->spans);
	free(w->ids.slots);
	free(w->keys);
	free(w->child);
	free(w->order);
	free(w->stack);
	for (size_t i = 0; i < w->services_nr; i++)
		free(w->services[i].example);
	free(w->services);
	free(w->service_index.slots);
	for (size_t i = 0; i < w->ops_nr; i++)
		free(w->ops[i].durations);
	free(w->ops);
	free(w->op_index.slots);
	free(w->seen);
	free(w->roots);
}

int traces_analyse(struct trace_analysis *out, const cJSON *json, size_t max_slow,
		   size_t *skipped, struct strbuf *err)
{
	const cJSON *data, *trace;
	struct work w = { 0 };
	size_t ignored = 0, roots_alloc = 0;

	memset(out, 0, sizeof(*out));
	if (!skipped)
		skipped = &ignored;
	*skipped = 0;
	if (cJSON_IsArray(json)) {
		data = json;
	} else if (cJSON_IsObject(json)) {
		data = json_get(json, "data");
		if (!cJSON_IsArray(data)) {
			const cJSON *e = cJSON_GetArrayItem(json_get(json, "errors"), 0);
			const char *msg = json_nonempty(e, "msg");

			if (msg)
				strbuf_addf(err, "Jaeger answered with an error: %s", msg);
			else
				strbuf_addstr(err, "not a Jaeger answer: \"data\" is not an array of traces");
			return -1;
		}
	} else {
		strbuf_addstr(err, "not a Jaeger answer: neither an object nor an array of traces");
		return -1;
	}

	cJSON_ArrayForEach(trace, data) {
		size_t n = load_trace(&w, trace, skipped);
		int root;

		if (!n)
			continue;
		root = trace_root(&w);
		ALLOC_GROW(w.seen, w.seen_nr + 1, w.seen_alloc);
		ALLOC_GROW(w.roots, w.seen_nr + 1, roots_alloc);
		w.seen[w.seen_nr].json = trace;
		w.seen[w.seen_nr].duration = w.spans[root].duration;
		w.seen[w.seen_nr].seq = w.seen_nr;
		w.roots[w.seen_nr] = w.spans[root].duration;
		w.seen_nr++;
		account_trace(&w, w.seen_nr);
		out->spans += n;
		out->error_traces += trace_errs(&w);
	}
	out->traces = w.seen_nr;

	fill_results(out, &w);
	if (w.seen_nr)
		qsort(w.seen, w.seen_nr, sizeof(*w.seen), slowest_first);
	if (max_slow > w.seen_nr)
		max_slow = w.seen_nr;
	out->slow = xcalloc(max_slow ? max_slow : 1, sizeof(*out->slow));
	for (size_t i = 0; i < max_slow; i++)
		read_slow(&w, &w.seen[i], &out->slow[out->slow_nr++]);
	work_release(&w);
	return 0;
}

void trace_analysis_release(struct trace_analysis *a)
{
	for (size_t i = 0; i < a->ops_nr; i++) {
		free(a->ops[i].service);
		free(a->ops[i].operation);
		free(a->ops[i].durations_us);
	}
	free(a->ops);
	for (size_t i = 0; i < a->slow_nr; i++) {
		struct trace_slow *s = &a->slow[i];

		for (size_t j = 0; j < s->path_nr; j++) {
			free(s->path[j].span_id);
			free(s->path[j].service);
			free(s->path[j].operation);
			free(s->path[j].db_system);
			free(s->path[j].peer_service);
		}
		free(s->path);
		free(s->trace_id);
		free(s->root_service);
		free(s->root_operation);
	}
	free(a->slow);
	for (size_t i = 0; i < a->origins_nr; i++) {
		free(a->origins[i].service);
		free(a->origins[i].operation);
		free(a->origins[i].example);
	}
	free(a->origins);
	memset(a, 0, sizeof(*a));
}

int traces_service_stats(const struct trace_analysis *a, const char *service,
			 struct trace_op_stats *out)
{
	int64_t *all = NULL;
	size_t nr = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < a->ops_nr; i++) {
		const struct trace_op_stats *op = &a->ops[i];

		if (strcmp(op->service, service))
			continue;
		out->service = op->service;
		out->spans += op->spans;
		out->errors += op->errors;
		out->self_us += op->self_us;
		if (op->max_us > out->max_us)
			out->max_us = op->max_us;
	}
	if (!out->spans)
		return -1;
	all = xmalloc(out->spans * sizeof(*all));
	for (size_t i = 0; i < a->ops_nr; i++) {
		const struct trace_op_stats *op = &a->ops[i];

		if (!strcmp(op->service, service) && op->spans) {
			memcpy(all + nr, op->durations_us, op->spans * sizeof(*all));
			nr += op->spans;
		}
	}
	qsort(all, nr, sizeof(*all), compare_durations);
	set_percentiles(out, all, nr);
	free(all);
	return 0;
}

/* ---- the waterfall ---- */

/* A duration as a person reads it: "850us", "12.3ms", "1.52s". */
static void add_duration(struct strbuf *sb, int64_t us)
{
	double v = (double)us;

	if (us < 1000)
		strbuf_addf(sb, "%lldus", (long long)us);
	else if (us < 9995)
		strbuf_addf(sb, "%.2fms", v / 1e3);
	else if (us < 99950)
		strbuf_addf(sb, "%.1fms", v / 1e3);
	else if (us < 999500)
		strbuf_addf(sb, "%.0fms", v / 1e3);
	else if (us < 9995000)
		strbuf_addf(sb, "%.2fs", v / 1e6);
	else if (us < 99950000)
		strbuf_addf(sb, "%.1fs", v / 1e6);
	else
		strbuf_addf(sb, "%.0fs", v / 1e6);
}

/* Columns a UTF-8 string takes (one per character). */
static size_t columns(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/*
 * s in exactly cols columns: padded, or cut with a '~' at the end. Control
 * characters become '?', so a name cannot move the terminal's cursor.
 */
static void add_fitted(struct strbuf *sb, const char *s, size_t cols)
{
	size_t n = columns(s), k = 0;
	size_t keep = n <= cols ? n : cols ? cols - 1 : 0;

	for (; *s; s++) {
		unsigned char c = *s;

		if ((c & 0xC0) != 0x80 && k++ == keep)
			break; /* the first character not kept */
		strbuf_addch(sb, c < 0x20 || c == 0x7f ? '?' : c);
	}
	if (n <= cols)
		strbuf_addchars(sb, ' ', cols - n);
	else if (cols)
		strbuf_addch(sb, '~');
}

/* The column nearest time t of total, in a bar cols wide. */
static size_t bar_column(int64_t t, int64_t total, size_t cols)
{
	if (t <= 0)
		return 0;
	if (t >= total)
		return cols;
	return (size_t)((double)t / (double)total * (double)cols + 0.5);
}

void traces_waterfall(struct strbuf *out, const struct trace_slow *slow, int width, int color)
{
	struct strbuf mark = STRBUF_INIT, dur = STRBUF_INIT;
	size_t svc_w = 0, op_w = 0, dur_w = 0, avail, bar_w;
	int64_t total;

	if (!slow->path_nr)
		return;
	total = slow->path[0].duration_us > 0 ? slow->path[0].duration_us : 1;
	for (size_t i = 0; i < slow->path_nr; i++) {
		const struct trace_path_span *p = &slow->path[i];
		size_t s = columns(p->service), o = columns(p->operation);

		svc_w = s > svc_w ? s : svc_w;
		op_w = o > op_w ? o : op_w;
		strbuf_reset(&dur);
		add_duration(&dur, p->duration_us);
		dur_w = dur.len > dur_w ? dur.len : dur_w;
	}
	strbuf_addstr(&mark, "  <- most self time (");
	add_duration(&mark, slow->path[slow->hot].self_us);
	strbuf_addch(&mark, ')');

	/* a line: service, ' ', operation, " |", the bar, "| ", the duration, the mark */
	avail = width > 0 && (size_t)width > mark.len ? (size_t)width - mark.len : 0;
	while (svc_w + 1 + op_w + 4 + dur_w + MIN_BAR > avail &&
	       (svc_w > MIN_NAME || op_w > MIN_NAME)) {
		if (op_w >= svc_w)
			op_w--;
		else
			svc_w--;
	}
	bar_w = avail > svc_w + 1 + op_w + 4 + dur_w + MIN_BAR ?
		avail - (svc_w + 1 + op_w + 4 + dur_w) : MIN_BAR;

	for (size_t i = 0; i < slow->path_nr; i++) {
		const struct trace_path_span *p = &slow->path[i];
		size_t from = bar_column(p->start_us, total, bar_w);
		size_t to = bar_column(p->start_us + p->duration_us, total, bar_w);
		const char *paint = i == slow->hot ? COLOR_RED : p->error ? COLOR_YELLOW : NULL;

		if (to <= from) { /* too short to see: one column all the same */
			if (from == bar_w)
				from--;
			to = from + 1;
		}
		add_fitted(out, p->service, svc_w);
		strbuf_addch(out, ' ');
		add_fitted(out, p->operation, op_w);
		strbuf_addstr(out, " |");
		strbuf_addchars(out, ' ', from);
		if (color && paint)
			strbuf_addstr(out, paint);
		strbuf_addchars(out, p->error ? '!' : '#', to - from);
		if (color && paint)
			strbuf_addstr(out, COLOR_RESET);
		strbuf_addchars(out, ' ', bar_w - to);
		strbuf_addstr(out, "| ");
		strbuf_reset(&dur);
		add_duration(&dur, p->duration_us);
		strbuf_addchars(out, ' ', dur_w - dur.len);
		strbuf_addstr(out, dur.buf);
		if (i == slow->hot)
			strbuf_addstr(out, mark.buf);
		strbuf_addch(out, '\n');
	}
	strbuf_release(&mark);
	strbuf_release(&dur);
}
