/*
 * test-localize.c: unit tests of lib/localize.c, each signal on small
 * composed traces, logs and pod series. Prints TAP.
 *
 * The shape is a gateway that calls "orders", which calls "stock":
 *
 *   gateway /api (server) -> gateway HTTP GET (client) -> orders /orders
 *     -> orders HTTP GET (client) -> stock /stock
 *
 * Each test builds a baseline window and an incident window of such
 * traces, changes one thing in the incident (a gap on an edge, the time
 * a service spends itself, its logs, its pod's CPU), and checks which
 * service comes first, with which signal and which words of evidence.
 */
#include "../../lib/json.h"
#include "../../lib/localize.h"
#include "../../lib/timeutil.h"
#include "../../lib/util.h"
#include "test-lib.h"

#define T0 1800000000LL   /* the incident opens here (s) */

struct shape {
	int64_t gap_orders;   /* µs between gateway's client span and orders' server span */
	int64_t gap_stock;    /* the same, orders -> stock */
	int64_t orders_self;  /* orders' own time */
	int64_t stock_self;
	int err_orders, err_stock;
};

static const struct shape usual = { 2000, 2000, 3000, 3000, 0, 0 };

static void span(cJSON *spans, const char *trace, const char *id, const char *parent,
		 const char *pid, const char *op, int64_t start, int64_t duration, int err)
{
	cJSON *s = cJSON_CreateObject(), *refs = cJSON_AddArrayToObject(s, "references");

	cJSON_AddStringToObject(s, "traceID", trace);
	cJSON_AddStringToObject(s, "spanID", id);
	cJSON_AddStringToObject(s, "operationName", op);
	if (parent) {
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "refType", "CHILD_OF");
		cJSON_AddStringToObject(r, "traceID", trace);
		cJSON_AddStringToObject(r, "spanID", parent);
		cJSON_AddItemToArray(refs, r);
	}
	cJSON_AddNumberToObject(s, "startTime", (double)start);
	cJSON_AddNumberToObject(s, "duration", (double)duration);
	if (err) {
		cJSON *tags = cJSON_AddArrayToObject(s, "tags"), *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "key", "error");
		cJSON_AddBoolToObject(t, "value", 1);
		cJSON_AddItemToArray(tags, t);
	}
	cJSON_AddStringToObject(s, "processID", pid);
	cJSON_AddItemToArray(spans, s);
}

static void process(cJSON *procs, const char *pid, const char *service, const char *pod)
{
	cJSON *p = cJSON_AddObjectToObject(procs, pid), *tags = cJSON_AddArrayToObject(p, "tags");
	cJSON *t = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "serviceName", service);
	cJSON_AddStringToObject(t, "key", "k8s.pod.name");
	cJSON_AddStringToObject(t, "value", pod);
	cJSON_AddItemToArray(tags, t);
}

/* n traces of the shape, starting at t (µs), into a {"data": [...]} answer. */
static cJSON *traces(int n, int64_t t, const struct shape *sh)
{
	cJSON *root = cJSON_CreateObject(), *data = cJSON_AddArrayToObject(root, "data");

	for (int i = 0; i < n; i++) {
		cJSON *tr = cJSON_CreateObject(), *spans, *procs;
		char id[40];
		int64_t s = t + i * 1000000, stock = sh->stock_self;
		/* stock_self < 0: orders does not call stock */
		int64_t orders = sh->orders_self + (stock < 0 ? 0 : sh->gap_stock + stock);
		int64_t client = sh->gap_orders + orders;

		snprintf(id, sizeof(id), "%032x", (unsigned)(i + 1 + (t & 0xffff) * 1000));
		cJSON_AddStringToObject(tr, "traceID", id);
		spans = cJSON_AddArrayToObject(tr, "spans");
		procs = cJSON_AddObjectToObject(tr, "processes");
		process(procs, "p1", "gateway", "gateway-5d8f9c7b6d-a1b2c");
		process(procs, "p2", "orders", "orders-6c9b8d7f5-d3e4f");
		process(procs, "p3", "stock", "stock-7f6e5d4c3-g5h6i");
		span(spans, id, "a1", NULL, "p1", "/api", s, client + 2000, 0);
		span(spans, id, "a2", "a1", "p1", "HTTP GET", s + 1000, client, 0);
		span(spans, id, "b1", "a2", "p2", "/orders", s + 1000 + sh->gap_orders / 2, orders,
		     sh->err_orders);
		if (stock < 0) {
			cJSON_AddItemToArray(data, tr);
			continue;
		}
		span(spans, id, "b2", "b1", "p2", "HTTP GET",
		     s + 1000 + sh->gap_orders / 2 + sh->orders_self, sh->gap_stock + stock, 0);
		span(spans, id, "c1", "b2", "p3", "/stock",
		     s + 1000 + sh->gap_orders / 2 + sh->orders_self + sh->gap_stock / 2, stock,
		     sh->err_stock);
		cJSON_AddItemToArray(data, tr);
	}
	return root;
}

/* A log of n lines of each text, for service (NULL: the incident's own). */
static void log_lines(struct evidence *ev, const char *service, const char *pod, int n,
		      const char *const *texts)
{
	struct strbuf sb = STRBUF_INIT;

	for (int i = 0; i < n; i++)
		for (size_t k = 0; texts[k]; k++)
			strbuf_addf(&sb, "2027-01-15T08:00:%02d.%03dZ %s %d\n", i % 60, i, texts[k], i);
	if (service)
		evidence_add_service_log(ev, service, "kubernetes", pod, sb.buf, sb.len);
	else
		evidence_add_log(ev, "kubernetes", pod, sb.buf, sb.len);
	strbuf_release(&sb);
}

static void make(struct evidence *ev, const struct shape *before, const struct shape *now)
{
	char when[32];

	memset(ev, 0, sizeof(*ev));
	ev->service = xstrdup("gateway");
	ev->now = (time_t)T0 + 120;
	format_iso8601(when, sizeof(when), (time_t)T0);
	ev->incident = cJSON_CreateObject();
	cJSON_AddStringToObject(ev->incident, "service", "gateway");
	cJSON_AddStringToObject(ev->incident, "opened_at", when);
	ev->traces = traces(20, T0 * 1000000, now);
	ev->baseline = xcalloc(1, sizeof(*ev->baseline));
	ev->baseline->traces = traces(20, (T0 - 600) * 1000000, before);
}

static const struct localize_candidate *first(const struct localize_result *r)
{
	return r->nr ? &r->v[0] : NULL;
}

static int said(const struct localize_candidate *c, const char *needle)
{
	for (size_t i = 0; c && i < c->lines_nr; i++)
		if (strstr(c->lines[i].summary, needle))
			return 1;
	return 0;
}

static const struct localize_candidate *find(const struct localize_result *r, const char *service)
{
	for (size_t i = 0; i < r->nr; i++)
		if (!strcmp(r->v[i].service, service))
			return &r->v[i];
	return NULL;
}

static void test_edge_gap(void)
{
	struct evidence ev;
	struct localize_result r;
	struct shape slow = usual;
	const struct localize_candidate *c;

	slow.gap_stock = 800000;    /* 0.8 s on the wire into stock */
	make(&ev, &usual, &slow);
	is_int(localize(&r, &ev), 0, "gap: localize runs");
	c = first(&r);
	is_str(c ? c->service : "(none)", "stock", "a gap that grew blames the callee, not the caller");
	ok(c && c->kind == LOCALIZE_LATENCY, "as latency");
	ok(said(c, "calls from orders to stock"), "and says which edge");
	ok(!find(&r, "orders") || find(&r, "orders")->score < 0.3,
	   "the caller, whose span holds the gap, is not blamed");
	localize_release(&r);
	evidence_release(&ev);
}

/* A caller short of CPU is slow in its own work and late on its calls: the gap is its own. */
/* An edge never seen before is measured against the usual gap of every edge. */
static void test_new_edge(void)
{
	struct evidence ev;
	struct localize_result r;
	struct shape before = usual, slow = usual;
	const struct localize_candidate *c;

	before.stock_self = -1;
	slow.gap_stock = 900000;
	make(&ev, &before, &slow);
	localize(&r, &ev);
	c = first(&r);
	is_str(c ? c->service : "(none)", "stock", "a slow edge with no baseline of its own is found");
	ok(said(c, "calls from orders to stock spend 900.0ms (p50)"), "against the usual gap");
	localize_release(&r);
	evidence_release(&ev);
}

static void test_starved_caller(void)
{
	struct evidence ev;
	struct localize_result r;
	struct shape slow = usual;
	const struct localize_candidate *c;

	slow.orders_self = 150000;   /* 50 times its usual own time */
	slow.gap_stock = 100000;     /* and its calls to stock late by as much */
	make(&ev, &usual, &slow);
	localize(&r, &ev);
	c = first(&r);
	is_str(c ? c->service : "(none)", "orders", "the gap goes to the caller whose own time grew as much");
	ok(said(c, "orders's own time grew too, so its side is slow"), "and says why");
	ok(!find(&r, "stock"), "the callee is not blamed");
	localize_release(&r);
	evidence_release(&ev);
}

static void test_self_time(void)
{
	struct evidence ev;
	struct localize_result r;
	struct shape slow = usual;
	const struct localize_candidate *c;

	slow.orders_self = 400000;
	make(&ev, &usual, &slow);
	localize(&r, &ev);
	c = first(&r);
	ok(c && !strcmp(c->service, "orders"), "its own time grown: the service itself");
	ok(said(c, "in /orders itself"), "said as its own time");
	localize_release(&r);
	evidence_release(&ev);

	/* What was always slow is no news. */
	make(&ev, &slow, &slow);
	localize(&r, &ev);
	ok(!first(&r), "a service as slow as in the baseline is no candidate");
	localize_release(&r);
	evidence_release(&ev);
}

static cJSON *series(const char *pod, const double *v, size_t n, int64_t from)
{
	cJSON *s = cJSON_CreateObject(), *m = cJSON_AddObjectToObject(s, "metric");
	cJSON *values = cJSON_AddArrayToObject(s, "values");

	cJSON_AddStringToObject(m, "pod", pod);
	for (size_t i = 0; i < n; i++) {
		cJSON *pt = cJSON_CreateArray();
		char num[32];
		snprintf(num, sizeof(num), "%g", v[i]);
		cJSON_AddItemToArray(pt, cJSON_CreateNumber((double)(from + 60 * (int64_t)i)));
		cJSON_AddItemToArray(pt, cJSON_CreateString(num));
		cJSON_AddItemToArray(values, pt);
	}
	return s;
}

static cJSON *matrix(cJSON *one)
{
	cJSON *a = cJSON_CreateObject(), *d = cJSON_AddObjectToObject(a, "data");

	cJSON_AddStringToObject(a, "status", "success");
	cJSON_AddStringToObject(d, "resultType", "matrix");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(d, "result"), one);
	return a;
}

static void test_cpu(void)
{
	struct evidence ev;
	struct localize_result r;
	struct shape slow = usual;
	const struct localize_candidate *c;
	static const double cpu[] = { 0.02, 0.03, 0.02, 0.48, 0.49 }, limit[] = { 0.5, 0.5, 0.5, 0.5, 0.5 };

	slow.stock_self = 60000;
	make(&ev, &usual, &slow);
	evidence_add_prometheus(&ev, "pod-cpu", NULL,
				matrix(series("stock-7f6e5d4c3-g5h6i", cpu, 5, T0 - 180)));
	evidence_add_prometheus(&ev, "pod-cpu-limit", NULL,
				matrix(series("stock-7f6e5d4c3-g5h6i", limit, 5, T0 - 180)));
	localize(&r, &ev);
	c = first(&r);
	ok(c && !strcmp(c->service, "stock"), "cpu: the starved service first");
	ok(c && c->kind == LOCALIZE_CPU, "as resource exhaustion, not latency");
	ok(said(c, "98% of its CPU limit"), "with the pod's share of its limit");
	localize_release(&r);
	evidence_release(&ev);
}

static void test_error_logs(void)
{
	static const char *const ok_lines[] = { "INFO handled order", NULL };
	static const char *const bad_lines[] = { "INFO handled order",
						 "ERROR stock lookup failed: NullPointerException", NULL };
	static const char *const caller_bad[] = { "INFO handled order",
						  "ERROR the downstream call failed", NULL };
	struct evidence ev;
	struct localize_result r;
	const struct localize_candidate *c;

	make(&ev, &usual, &usual);
	log_lines(ev.baseline, "orders", "orders-6c9b8d7f5-d3e4f", 20, ok_lines);
	log_lines(ev.baseline, "stock", "stock-7f6e5d4c3-g5h6i", 20, ok_lines);
	log_lines(&ev, "orders", "orders-6c9b8d7f5-d3e4f", 20, caller_bad);
	log_lines(&ev, "stock", "stock-7f6e5d4c3-g5h6i", 20, bad_lines);
	localize(&r, &ev);
	c = first(&r);
	ok(c && !strcmp(c->service, "stock"), "errors in two services: the deepest first");
	ok(c && c->kind == LOCALIZE_ERRORS, "as errors");
	ok(said(c, "new error in the logs, 20 lines, none before"), "saying the new error");
	ok(said(find(&r, "orders"), "stock, which it calls, is also failing"),
	   "the caller says why it comes second");
	localize_release(&r);
	evidence_release(&ev);

	/* An error that names another service is its caller's report of that service. */
	make(&ev, &usual, &usual);
	log_lines(ev.baseline, "orders", "orders-6c9b8d7f5-d3e4f", 20, ok_lines);
	log_lines(&ev, "orders", "orders-6c9b8d7f5-d3e4f", 20,
		  (const char *const[]){ "INFO handled order",
					 "ERROR I/O error on GET http://stock:8080/items: timed out", NULL });
	localize(&r, &ev);
	c = first(&r);
	is_str(c ? c->service : "(none)", "stock", "errors naming a callee count for the callee");
	ok(said(c, "other services log 20 errors naming stock"), "as its callers' reports");
	ok(!find(&r, "orders"), "not for the service that logged them");
	localize_release(&r);
	evidence_release(&ev);

	/* The same errors at the same rate before: nothing new. */
	make(&ev, &usual, &usual);
	log_lines(ev.baseline, "stock", "stock-7f6e5d4c3-g5h6i", 20, bad_lines);
	log_lines(&ev, "stock", "stock-7f6e5d4c3-g5h6i", 20, bad_lines);
	localize(&r, &ev);
	ok(!first(&r), "an error logged as often as before is no candidate");
	localize_release(&r);
	evidence_release(&ev);
}

static void test_silence(void)
{
	static const char *const full[] = { "INFO begin", "INFO priced", "INFO reserved",
					    "INFO paid", "INFO done", NULL };
	static const char *const cut[] = { "INFO begin", NULL };
	struct evidence ev;
	struct localize_result r;
	const struct localize_candidate *c;

	make(&ev, &usual, &usual);
	log_lines(ev.baseline, "stock", "stock-7f6e5d4c3-g5h6i", 20, full);
	log_lines(&ev, "stock", "stock-7f6e5d4c3-g5h6i", 20, cut);
	localize(&r, &ev);
	c = first(&r);
	ok(c && !strcmp(c->service, "stock"), "a service that stopped logging what it did comes first");
	ok(c && c->kind == LOCALIZE_SILENCE, "as log silence");
	ok(said(c, "1.00 lines per call, 5.00 before"), "with lines per call in both windows");
	localize_release(&r);
	evidence_release(&ev);
}

static void test_span_errors(void)
{
	struct evidence ev;
	struct localize_result r;
	struct shape bad = usual;
	const struct localize_candidate *c;

	bad.err_orders = bad.err_stock = 1;
	make(&ev, &usual, &bad);
	localize(&r, &ev);
	c = first(&r);
	ok(c && !strcmp(c->service, "stock"), "erring spans: the deepest erring span's service");
	ok(said(c, "errors start in stock in 20 of 20 traces"), "counted by trace");
	localize_release(&r);
	evidence_release(&ev);
}

static void test_without_baseline(void)
{
	struct evidence ev;
	struct localize_result r;
	struct shape slow = usual;

	slow.gap_stock = 800000;
	make(&ev, &usual, &slow);
	evidence_release(ev.baseline);
	free(ev.baseline);
	ev.baseline = NULL;
	is_int(localize(&r, &ev), 0, "without a baseline it runs");
	is_int(r.nr, 0, "and ranks nothing");
	localize_release(&r);
	evidence_release(&ev);
}

static void test_hostile(void)
{
	struct evidence ev;
	struct localize_result r;
	cJSON *bad = cJSON_Parse(
		"{\"data\": [{\"traceID\": \"t\", \"processes\": {\"p1\": {\"serviceName\": \"x\"}},"
		" \"spans\": ["
		"  {\"spanID\": \"a\", \"operationName\": \"o\", \"startTime\": 1, \"duration\": 5,"
		"   \"processID\": \"p1\", \"references\": [{\"refType\": \"CHILD_OF\", \"spanID\": \"b\"}]},"
		"  {\"spanID\": \"b\", \"operationName\": \"o\", \"startTime\": 1, \"duration\": 5,"
		"   \"processID\": \"p1\", \"references\": [{\"refType\": \"CHILD_OF\", \"spanID\": \"a\"}]},"
		"  {\"spanID\": \"c\", \"operationName\": \"o\", \"startTime\": 1, \"duration\": 5,"
		"   \"processID\": \"p1\", \"references\": [{\"refType\": \"CHILD_OF\", \"spanID\": \"c\"}]},"
		"  {\"spanID\": \"d\", \"operationName\": \"o\", \"startTime\": -7, \"duration\": 1e300,"
		"   \"processID\": \"nobody\"},"
		"  {\"spanID\": 7, \"operationName\": null},"
		"  \"not a span\""
		" ]}, 42, {\"spans\": {}}]}");

	make(&ev, &usual, &usual);
	cJSON_Delete(ev.traces);
	ev.traces = bad;
	log_lines(&ev, "x", "x-1", 3, (const char *const[]){ "\033[31mERROR\033[0m \xff\xfe", NULL });
	is_int(localize(&r, &ev), 0, "cycles, a self-parent, wrong types and bad numbers are survived");
	localize_release(&r);
	evidence_release(&ev);
}

/* A trace of 20,000 spans, deep or wide, is walked in bounded time and memory. */
static void test_huge_trace(void)
{
	struct evidence ev;
	struct localize_result r;
	cJSON *root = cJSON_CreateObject(), *data = cJSON_AddArrayToObject(root, "data");

	for (int wide = 0; wide < 2; wide++) {
		cJSON *tr = cJSON_CreateObject(), *spans = cJSON_AddArrayToObject(tr, "spans");
		cJSON *procs = cJSON_AddObjectToObject(tr, "processes");
		char id[24], parent[24];

		process(procs, "p1", "gateway", "gateway-1");
		process(procs, "p2", "deep", "deep-1");
		for (int i = 0; i < 20000; i++) {
			snprintf(id, sizeof(id), "%c%015x", wide ? 'w' : 'd', (unsigned)i);
			snprintf(parent, sizeof(parent), "%c%015x", wide ? 'w' : 'd',
				 (unsigned)(wide ? 0 : i - 1));
			span(spans, wide ? "w" : "d", id, i ? parent : NULL, i % 2 ? "p2" : "p1", "op",
			     T0 * 1000000 + i, 40000 - i, 0);
		}
		cJSON_AddItemToArray(data, tr);
	}
	{
		/* and 5,000 services, each calling the next, each logging a new error */
		cJSON *tr = cJSON_CreateObject(), *spans = cJSON_AddArrayToObject(tr, "spans");
		cJSON *procs = cJSON_AddObjectToObject(tr, "processes");
		char id[24], parent[24], pid[16], name[24];

		for (int i = 0; i < 5000; i++) {
			snprintf(pid, sizeof(pid), "p%d", i);
			snprintf(name, sizeof(name), "svc%d", i);
			process(procs, pid, name, name);
			snprintf(id, sizeof(id), "s%015x", (unsigned)i);
			snprintf(parent, sizeof(parent), "s%015x", (unsigned)(i - 1));
			span(spans, "s", id, i ? parent : NULL, pid, "op", T0 * 1000000 + i, 6000 - i, 0);
		}
		cJSON_AddItemToArray(data, tr);
	}
	make(&ev, &usual, &usual);
	cJSON_Delete(ev.traces);
	ev.traces = root;
	for (int i = 0; i < 5000; i += 10) {
		char name[24];
		snprintf(name, sizeof(name), "svc%d", i);
		log_lines(&ev, name, name, 4, (const char *const[]){ "ERROR it broke", NULL });
	}
	is_int(localize(&r, &ev), 0, "20,000 spans in a chain and 20,000 side by side are walked");
	ok(r.nr > 0, "and 5,000 services in a chain are ranked");
	localize_release(&r);
	evidence_release(&ev);
}

int main(void)
{
	if (test_begin("localize") < 0)
		return 1;
	test_edge_gap();
	test_self_time();
	test_starved_caller();
	test_new_edge();
	test_cpu();
	test_error_logs();
	test_silence();
	test_span_errors();
	test_without_baseline();
	test_hostile();
	test_huge_trace();
	return test_end();
}
