/*
 * test-traces.c: unit tests of lib/traces.c, what a set of Jaeger traces
 * says, printing TAP.
 *
 * Every trace set is JSON text written here in the shape of Jaeger's
 * /api/traces answer (the {"data": [...]} envelope, spans with references,
 * tags, logs and a processID into the trace's processes), parsed and
 * freed again before the results are read, so nothing in them may point
 * into the JSON. The times are chosen so that each expected figure can be
 * worked out by hand; the working is in the comments.
 */
#include "../../lib/traces.h"
#include "test-lib.h"

#define T0 1700000000000000LL /* µs since the epoch: the first span's start */

#define PROCESSES "{\"p1\":{\"serviceName\":\"quote-service\",\"tags\":[]}," \
	"\"p2\":{\"serviceName\":\"policy-service\",\"tags\":[]}," \
	"\"p3\":{\"serviceName\":\"user-service\",\"tags\":[]}}"

#define TAG_STR(k, v) "{\"key\":\"" k "\",\"type\":\"string\",\"value\":\"" v "\"}"
#define TAG_BOOL(k, v) "{\"key\":\"" k "\",\"type\":\"bool\",\"value\":" v "}"
#define TAG_INT(k, v) "{\"key\":\"" k "\",\"type\":\"int64\",\"value\":" v "}"

static struct strbuf js = STRBUF_INIT;
static const char *trace_id;

static struct trace_analysis a = TRACE_ANALYSIS_INIT;
static struct strbuf err = STRBUF_INIT;
static size_t skipped;

static long long ms(double v)
{
	return (long long)(v * 1000);
}

/* A comma unless the JSON being written just opened an array or object. */
static void comma(void)
{
	if (js.len && js.buf[js.len - 1] != '[' && js.buf[js.len - 1] != '{')
		strbuf_addch(&js, ',');
}

static void answer_begin(void)
{
	strbuf_reset(&js);
	strbuf_addstr(&js, "{\"data\":[");
}

static void answer_end(void)
{
	strbuf_addstr(&js, "],\"total\":0,\"limit\":0,\"offset\":0,\"errors\":null}");
}

static void trace_begin(const char *id)
{
	comma();
	strbuf_addf(&js, "{\"traceID\":\"%s\",\"spans\":[", id);
	trace_id = id;
}

static void trace_end(void)
{
	strbuf_addstr(&js, "],\"processes\":" PROCESSES ",\"warnings\":null}");
}

/*
 * A span of the trace being written, as Jaeger writes it: parent NULL for
 * a root; start in µs from T0; tags and logs the inside of their arrays.
 */
static void span_logs(const char *id, const char *parent, const char *pid, const char *op,
		      long long start, long long duration, const char *tags, const char *logs)
{
	comma();
	strbuf_addf(&js, "{\"traceID\":\"%s\",\"spanID\":\"%s\",\"flags\":1,"
		    "\"operationName\":\"%s\",\"references\":[", trace_id, id, op);
	if (parent)
		strbuf_addf(&js, "{\"refType\":\"CHILD_OF\",\"traceID\":\"%s\",\"spanID\":\"%s\"}",
			    trace_id, parent);
	strbuf_addf(&js, "],\"startTime\":%lld,\"duration\":%lld,\"tags\":[%s],\"logs\":[%s],"
		    "\"processID\":\"%s\",\"warnings\":null}", T0 + start, duration,
		    tags ? tags : "", logs ? logs : "", pid);
}

static void span(const char *id, const char *parent, const char *pid, const char *op,
		 long long start, long long duration, const char *tags)
{
	span_logs(id, parent, pid, op, start, duration, tags, NULL);
}

/* Analyse text into a (its JSON freed at once): traces_analyse's return. */
static int analyse(const char *text, size_t max_slow)
{
	cJSON *json = cJSON_Parse(text);
	int ret;

	trace_analysis_release(&a);
	strbuf_reset(&err);
	skipped = 12345;
	if (!json) {
		printf("# cannot parse the test's own JSON: %.200s\n", text);
		return -2;
	}
	ret = traces_analyse(&a, json, max_slow, &skipped, &err);
	cJSON_Delete(json);
	return ret;
}

static const struct trace_op_stats *find_op(const char *service, const char *operation)
{
	for (size_t i = 0; i < a.ops_nr; i++)
		if (!strcmp(a.ops[i].service, service) && !strcmp(a.ops[i].operation, operation))
			return &a.ops[i];
	return NULL;
}

static const struct trace_op_stats no_op;

static const struct trace_op_stats *op(const char *service, const char *operation)
{
	const struct trace_op_stats *st = find_op(service, operation);

	if (!st)
		printf("# no operation '%s' of '%s'\n", operation, service);
	return st ? st : &no_op;
}

/* ---- per-operation stats ---- */

/*
 * 20 traces, i = 0..19, D = (i + 1) * 10ms:
 *   quote-service GET /quote   [0, D]
 *     quote-service cache.get  [0, 1ms]
 *     policy-service POST /policy [1ms, D - 1ms], error=true when i % 5 == 4
 * GET /quote: durations 10..200ms; p50 is rank 10 (100ms), p95 rank 19
 * (190ms), p99 rank 20 (200ms); self 1ms each (its children cover all
 * but its last 1ms). POST /policy: a leaf, self = duration = D - 2ms;
 * the sum of D is 2100ms, so 2100 - 40 = 2060ms.
 */
static void test_op_stats(void)
{
	struct trace_op_stats svc;
	const struct trace_op_stats *st;

	answer_begin();
	for (int i = 0; i < 20; i++) {
		char id[32];
		long long d = ms((i + 1) * 10);

		snprintf(id, sizeof(id), "t%02d", i);
		trace_begin(id);
		span("a", NULL, "p1", "GET /quote", 0, d, TAG_STR("span.kind", "server"));
		span("b", "a", "p1", "cache.get", 0, ms(1), NULL);
		span("c", "a", "p2", "POST /policy", ms(1), d - ms(2),
		     i % 5 == 4 ? TAG_BOOL("error", "true") : TAG_BOOL("error", "false"));
		trace_end();
	}
	answer_end();

	is_int(analyse(js.buf, 3), 0, "a Jaeger answer is analysed");
	is_int(skipped, 0, "nothing skipped");
	is_str(err.buf, "", "no error");
	is_int(a.traces, 20, "20 traces");
	is_int(a.spans, 60, "60 spans");
	is_int(a.error_traces, 4, "4 traces with an erring span");
	is_int(a.ops_nr, 3, "3 operations");
	if (a.ops_nr == 3) {
		is_str(a.ops[0].service, "policy-service", "operations by service ...");
		is_str(a.ops[1].operation, "GET /quote", "... then by operation");
		is_str(a.ops[2].operation, "cache.get", "cache.get after GET /quote");
	}
	st = op("quote-service", "GET /quote");
	is_int(st->spans, 20, "GET /quote: 20 spans");
	is_int(st->errors, 0, "GET /quote: no errors");
	is_int(st->p50_us, ms(100), "GET /quote: p50 is the 10th of 20 (nearest rank)");
	is_int(st->p95_us, ms(190), "GET /quote: p95 is the 19th");
	is_int(st->p99_us, ms(200), "GET /quote: p99 is the 20th");
	is_int(st->max_us, ms(200), "GET /quote: max");
	is_int(st->self_us, ms(20), "GET /quote: self time is what its children leave, 1ms each");
	ok(st->durations_us && st->durations_us[0] == ms(10) && st->durations_us[19] == ms(200),
	   "GET /quote: its durations, ascending");
	st = op("policy-service", "POST /policy");
	is_int(st->spans, 20, "POST /policy: 20 spans");
	is_int(st->errors, 4, "POST /policy: 4 errors (error=true, not error=false)");
	is_int(st->self_us, ms(2060), "POST /policy: a leaf's self time is its duration");
	is_int(st->p50_us, ms(98), "POST /policy: p50");
	st = op("quote-service", "cache.get");
	is_int(st->self_us, ms(20), "cache.get: self time summed over its spans");
	is_int(a.p99_root_us, ms(200), "p99 of the root spans");

	/* quote-service: 20 x 1ms then 10..200ms: rank 20 is 1ms, 38 is 180ms, 40 is 200ms */
	is_int(traces_service_stats(&a, "quote-service", &svc), 0, "stats of a service");
	is_int(svc.spans, 40, "a service's spans: its operations' summed");
	is_int(svc.p50_us, ms(1), "a service's p50 over all its spans");
	is_int(svc.p95_us, ms(180), "a service's p95 over all its spans");
	is_int(svc.p99_us, ms(200), "a service's p99 over all its spans");
	is_int(svc.max_us, ms(200), "a service's max");
	is_int(svc.self_us, ms(40), "a service's self time");
	ok(svc.service && !strcmp(svc.service, "quote-service") && !svc.operation &&
	   !svc.durations_us, "a service's stats: its name, no operation, no durations");
	is_int(traces_service_stats(&a, "policy-service", &svc), 0, "stats of another service");
	is_int(svc.errors, 4, "a service's errors");
	is_int(traces_service_stats(&a, "billing", &svc), -1, "no stats of a service without spans");

	is_int(a.slow_nr, 3, "the 3 slowest traces are kept");
	if (a.slow_nr == 3) {
		is_str(a.slow[0].trace_id, "t19", "slowest first");
		is_int(a.slow[0].duration_us, ms(200), "a slow trace's duration is its root's");
		is_str(a.slow[2].trace_id, "t17", "the third slowest");
		is_str(a.slow[0].root_service, "quote-service", "the root's service");
		is_str(a.slow[0].root_operation, "GET /quote", "the root's operation");
		ok(a.slow[0].error && !a.slow[1].error, "whether a slow trace errs (t19 does, t18 not)");
	}
}

/* ---- what errs ---- */

static void test_error_forms(void)
{
	static const struct {
		const char *op, *tags;
		int errs;
	} forms[] = {
		{ "bool", TAG_BOOL("error", "true"), 1 },
		{ "string", TAG_STR("error", "true"), 1 },
		{ "otel", TAG_STR("otel.status_code", "ERROR"), 1 },
		{ "http-int", TAG_INT("http.status_code", "503"), 1 },
		{ "http-string", TAG_STR("http.status_code", "503"), 1 },
		{ "http-new", TAG_INT("http.response.status_code", "500"), 1 },
		{ "false", TAG_BOOL("error", "false"), 0 },
		{ "string-false", TAG_STR("error", "false"), 0 },
		{ "otel-ok", TAG_STR("otel.status_code", "OK"), 0 },
		{ "http-404", TAG_INT("http.status_code", "404"), 0 },
		{ "http-499", TAG_STR("http.response.status_code", "499"), 0 },
		{ "http-junk", TAG_STR("http.status_code", "5xx"), 0 },
		{ "other-key", TAG_BOOL("retry", "true"), 0 },
	};

	answer_begin();
	trace_begin("forms");
	span("root", NULL, "p1", "root", 0, ms(100), NULL);
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		char id[32];

		snprintf(id, sizeof(id), "s%zu", i);
		span(id, "root", "p1", forms[i].op, ms(i), ms(1),
		     forms[i].tags);
	}
	trace_end();
	answer_end();
	is_int(analyse(js.buf, 0), 0, "every error form is read");
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++)
		is_int(op("quote-service", forms[i].op)->errors, forms[i].errs, "%s %s",
		       forms[i].op, forms[i].errs ? "errs" : "does not err");
	is_int(a.error_traces, 1, "the trace errs");
	is_int(a.slow_nr, 0, "max_slow 0: no slow traces");

	/* traces_span_failed(), what lib/jaeger.c asks of one span, agrees. */
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		char *text = xstrfmt("{\"spanID\":\"s\",\"tags\":[%s]}", forms[i].tags);
		cJSON *one = cJSON_Parse(text);

		is_int(traces_span_failed(one), forms[i].errs, "traces_span_failed: %s",
		       forms[i].op);
		cJSON_Delete(one);
		free(text);
	}
}

/* traces_span_parent(): the parent traces_analyse() links a span to, for lib/jaeger.c. */
static void test_span_parent(void)
{
	static const struct {
		const char *what, *span, *parent;
	} cases[] = {
		{ "CHILD_OF wins over an earlier FOLLOWS_FROM",
		  "{\"traceID\":\"t\",\"references\":["
		  "{\"refType\":\"FOLLOWS_FROM\",\"traceID\":\"t\",\"spanID\":\"f\"},"
		  "{\"refType\":\"CHILD_OF\",\"traceID\":\"t\",\"spanID\":\"c\"}]}", "c" },
		{ "else the first reference within the trace",
		  "{\"traceID\":\"t\",\"references\":["
		  "{\"refType\":\"FOLLOWS_FROM\",\"traceID\":\"t\",\"spanID\":\"f\"},"
		  "{\"refType\":\"FOLLOWS_FROM\",\"spanID\":\"g\"}]}", "f" },
		{ "a reference into another trace is a link, not a parent",
		  "{\"traceID\":\"t\",\"references\":["
		  "{\"refType\":\"CHILD_OF\",\"traceID\":\"other\",\"spanID\":\"x\"}],"
		  "\"parentSpanID\":\"p\"}", "p" },
		{ "an older export's parentSpanID",
		  "{\"traceID\":\"t\",\"parentSpanID\":\"p\"}", "p" },
		{ "a root has none", "{\"traceID\":\"t\",\"references\":[]}", NULL },
		{ "an empty id is none",
		  "{\"references\":[{\"spanID\":\"\"}],\"parentSpanID\":\"\"}", NULL },
		{ "nor has what is not a span", "[\"p\"]", NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cJSON *one = cJSON_Parse(cases[i].span);

		is_str(traces_span_parent(one), cases[i].parent, "traces_span_parent: %s",
		       cases[i].what);
		cJSON_Delete(one);
	}
	is_str(traces_span_parent(NULL), NULL, "traces_span_parent: NULL");
}

/*
 * quote-service -> policy-service -> user-service, all three answering
 * 500: the error comes from user-service, however many callers pass it
 * on. Three such traces (two GET /user, one GET /prefs), and one where
 * quote-service fails on its own with a 503.
 */
static void test_origins(void)
{
	static const char *const user_ops[] = { "GET /user", "GET /prefs", "GET /user" };

	answer_begin();
	for (int i = 0; i < 3; i++) {
		char id[32];

		snprintf(id, sizeof(id), "chain%d", i);
		trace_begin(id);
		span("q", NULL, "p1", "GET /quote", 0, ms(50), TAG_INT("http.status_code", "500"));
		span("p", "q", "p2", "POST /policy", ms(1), ms(40),
		     TAG_INT("http.status_code", "500") "," TAG_BOOL("error", "true"));
		span_logs("u", "p", "p3", user_ops[i], ms(2), ms(30), TAG_BOOL("error", "true"),
			  "{\"timestamp\":1700000000002000,\"fields\":["
			  TAG_STR("event", "error") "," TAG_STR("message", "connection refused") "]}");
		span("ok", "p", "p3", "GET /ok", ms(33), ms(2), NULL);
		trace_end();
	}
	trace_begin("alone");
	span("q", NULL, "p1", "GET /quote", 0, ms(50), TAG_STR("http.status_code", "503"));
	span("p", "q", "p2", "POST /policy", ms(1), ms(40), NULL);
	trace_end();
	trace_begin("fine");
	span("q", NULL, "p1", "GET /quote", 0, ms(50), NULL);
	trace_end();
	answer_end();

	is_int(analyse(js.buf, 10), 0, "traces with errors are analysed");
	is_int(a.error_traces, 4, "4 traces err");
	is_int(a.origins_nr, 2, "errors originate in 2 services");
	if (a.origins_nr != 2)
		return;
	is_str(a.origins[0].service, "user-service", "the deepest erring span is the origin");
	is_int(a.origins[0].traces, 3, "user-service: 3 traces");
	is_int(a.origins[0].spans, 3, "user-service: 3 origin spans");
	is_str(a.origins[0].operation, "GET /user", "its most frequent erring operation");
	is_str(a.origins[0].example, "connection refused", "the example is the log's message");
	is_str(a.origins[1].service, "quote-service", "a service failing on its own is an origin");
	is_int(a.origins[1].traces, 1, "quote-service: 1 trace");
	is_str(a.origins[1].example, "HTTP 503", "without a message, the example is the status");
	is_int(op("policy-service", "POST /policy")->errors, 3,
	       "a caller passing an error on still errs");
	ok(a.slow_nr == 5 && a.slow[0].error && a.slow[0].path_nr == 4,
	   "a slow failed trace: its path through the three services and GET /ok");
}

/* ---- the critical path ---- */

/*
 * GET /quote [0, 1000ms]:
 *   GET /auth (user-service)         [10, 60]
 *   POST /policy (policy-service)    [70, 900]
 *     cache.get                      [75, 95]
 *     SELECT policies (postgresql)   [100, 850]
 *   GET /rates                       [70, 500]  in parallel with POST /policy
 *   render                           [910, 990]
 *   audit, FOLLOWS_FROM              [995, 1500] not waited for
 * From the end: render (root 10ms after it), POST /policy (root 10ms
 * between), inside it SELECT (policy 50ms after it), cache.get (5ms
 * between), policy's first 5ms; GET /rates ends after the cursor (70) so
 * is off the path; GET /auth (root 10ms), the root's first 10ms.
 * Self on the path: root 40, auth 50, policy 60, cache 20, select 750,
 * render 80: 1000ms in all.
 */
static void critical_trace(void)
{
	trace_begin("critical");
	span("root", NULL, "p1", "GET /quote", 0, ms(1000), NULL);
	span("auth", "root", "p3", "GET /auth", ms(10), ms(50), NULL);
	span("rates", "root", "p1", "GET /rates", ms(70), ms(430), NULL);
	span("policy", "root", "p2", "POST /policy", ms(70), ms(830), NULL);
	span("select", "policy", "p2", "SELECT policies", ms(100), ms(750),
	     TAG_STR("db.system", "postgresql") "," TAG_STR("peer.service", "policy-db"));
	span("cache", "policy", "p2", "cache.get", ms(75), ms(20), NULL);
	span("render", "root", "p1", "render", ms(910), ms(80), NULL);
	comma();
	strbuf_addf(&js, "{\"traceID\":\"critical\",\"spanID\":\"audit\",\"operationName\":\"audit\","
		    "\"references\":[{\"refType\":\"FOLLOWS_FROM\",\"traceID\":\"critical\","
		    "\"spanID\":\"root\"}],\"startTime\":%lld,\"duration\":%lld,\"tags\":[],"
		    "\"logs\":[],\"processID\":\"p1\",\"warnings\":null}", T0 + ms(995), ms(505));
	trace_end();
}

/*
 * Children one after the other, touching: each is on the path. Root
 * [0, 2550us]: A [0, 850], B [850, 1700], C [1700, 2550], C errs.
 */
static void sequential_trace(void)
{
	trace_begin("sequential");
	span("root", NULL, "p1", "GET /quote", 0, 2550, NULL);
	span("A", "root", "p2", "step A", 0, 850, NULL);
	span("B", "root", "p2", "step B", 850, 850, NULL);
	span("C", "root", "p3", "step C", 1700, 850, TAG_BOOL("error", "true"));
	trace_end();
}

static void test_critical_path(void)
{
	static const struct {
		const char *op;
		int self_ms, start_ms;
	} want[] = {
		{ "GET /quote", 40, 0 }, { "GET /auth", 50, 10 },
		{ "POST /policy", 60, 70 }, { "cache.get", 20, 75 },
		{ "SELECT policies", 750, 100 }, { "render", 80, 910 },
	};
	const struct trace_slow *slow;
	const struct trace_path_span *hot;
	long long sum = 0;

	answer_begin();
	sequential_trace();
	critical_trace();
	answer_end();
	is_int(analyse(js.buf, 5), 0, "traces with parallel and sequential children");
	is_int(a.slow_nr, 2, "both traces are among the 5 slowest");
	if (a.slow_nr != 2)
		return;
	slow = &a.slow[0];
	is_str(slow->trace_id, "critical", "the longer trace first");
	is_int(slow->duration_us, ms(1000), "its duration is its root's, not the audit's end");
	is_int(slow->path_nr, ARRAY_SIZE(want), "the path: 6 spans, not GET /rates or audit");
	for (size_t i = 0; i < ARRAY_SIZE(want) && i < slow->path_nr; i++) {
		is_str(slow->path[i].operation, want[i].op, "path %zu: %s", i, want[i].op);
		is_int(slow->path[i].self_us, ms(want[i].self_ms), "path %zu: its self time on the path", i);
		is_int(slow->path[i].start_us, ms(want[i].start_ms), "path %zu: its start from the root's", i);
		sum += slow->path[i].self_us;
	}
	is_int(sum, ms(1000), "the path's self times add up to the trace's duration");
	is_int(slow->hot, 4, "the hot span is the slow query deep in the path");
	hot = &slow->path[slow->hot < slow->path_nr ? slow->hot : 0];
	is_str(hot->service, "policy-service", "the hot span's service");
	is_str(hot->db_system, "postgresql", "the hot span's db.system");
	is_str(hot->peer_service, "policy-db", "the hot span's peer.service");
	is_str(hot->span_id, "select", "the hot span's id");
	is_int(hot->duration_us, ms(750), "the hot span's duration");
	is_str(slow->path[0].db_system, NULL, "no db.system on a span without it");
	is_int(op("quote-service", "GET /quote")->self_us, ms(1000 - 50 - 830 - 80 - 5),
	       "self time subtracts the union of all children clipped: rates is within policy, "
	       "audit's first 5ms count");

	slow = &a.slow[1];
	is_int(slow->path_nr, 4, "sequential children that touch are all on the path");
	if (slow->path_nr == 4) {
		is_int(slow->path[0].self_us, 0, "a root its children cover has no self time");
		is_str(slow->path[1].operation, "step A", "children by start: A");
		is_str(slow->path[3].operation, "step C", "children by start: C last");
		is_int(slow->path[3].self_us, 850, "C's self time");
		ok(slow->path[3].error && !slow->path[2].error, "the path span's error flag");
		ok(slow->error, "the trace errs");
	}
	is_int(analyse(js.buf, 1), 0, "again with max_slow 1");
	ok(a.slow_nr == 1 && !strcmp(a.slow[0].trace_id, "critical"), "only the slowest is kept");
}

/* A child ending after its parent is clipped to it; one before it starts is off the path. */
static void test_clipping(void)
{
	answer_begin();
	trace_begin("clip");
	span("root", NULL, "p1", "GET /quote", 0, ms(100), NULL);
	span("late", "root", "p2", "late", ms(50), ms(100), NULL);
	span("early", "root", "p2", "early", ms(-30), ms(20), NULL);
	trace_end();
	answer_end();
	is_int(analyse(js.buf, 1), 0, "a trace with a child overflowing its parent");
	if (!a.slow_nr || a.slow[0].path_nr != 2) {
		ok(0, "the path is the root and the late child");
		return;
	}
	is_int(a.slow[0].path[0].self_us, ms(50), "the root's self time up to the clipped child");
	is_int(a.slow[0].path[1].self_us, ms(50), "the late child counts up to the root's end");
	is_int(a.slow[0].path[1].duration_us, ms(100), "its own duration is kept as Jaeger gave it");
	is_int(op("quote-service", "GET /quote")->self_us, ms(50), "clipped for self time too");
}

/* ---- the forms of the JSON ---- */

static void test_forms(void)
{
	const char *bare =
		"[{\"traceID\":\"b1\",\"spans\":[{\"traceID\":\"b1\",\"spanID\":\"x\","
		"\"operationName\":\"GET /\",\"references\":[],\"startTime\":1700000000000000,"
		"\"duration\":500,\"tags\":[],\"logs\":[],\"process\":{\"serviceName\":\"embedded\","
		"\"tags\":[]},\"warnings\":null},"
		"{\"traceID\":\"b1\",\"spanID\":\"y\",\"operationName\":\"GET /y\","
		"\"references\":[{\"refType\":\"CHILD_OF\",\"traceID\":\"b1\",\"spanID\":\"x\"}],"
		"\"startTime\":1700000000000100,\"duration\":100,\"tags\":[],\"processID\":\"p1\"}],"
		"\"processes\":{\"p1\":{\"serviceName\":\"by-id\",\"tags\":[]}}}]";

	is_int(analyse(bare, 1), 0, "a bare array of traces");
	is_int(a.traces, 1, "its trace");
	ok(find_op("embedded", "GET /") != NULL, "a span's embedded process names its service");
	ok(find_op("by-id", "GET /y") != NULL, "a processID names its service");
	is_int(op("embedded", "GET /")->self_us, 400, "the parent found across the two forms");
	is_int(skipped, 0, "nothing skipped");

	is_int(analyse("{\"data\":[],\"total\":0,\"limit\":0,\"offset\":0,\"errors\":null}", 3), 0,
	       "an empty answer");
	ok(a.traces == 0 && a.ops_nr == 0 && a.slow_nr == 0 && a.p99_root_us == 0,
	   "an empty answer: nothing");
	ok(analyse("[]", 3) == 0 && a.traces == 0, "an empty array");
}

/* ---- what is not right ---- */

static void expect_not_jaeger(const char *text, const char *why, const char *title)
{
	is_int(analyse(text, 3), -1, "%s: -1", title);
	like(err.buf, why, "%s: says why", title);
	ok(a.ops_nr == 0 && a.slow_nr == 0 && a.traces == 0, "%s: no results", title);
}

static void test_malformed(void)
{
	expect_not_jaeger("42", "not a Jaeger answer", "a number");
	expect_not_jaeger("\"data\"", "not a Jaeger answer", "a string");
	expect_not_jaeger("{\"data\":{}}", "\"data\" is not an array", "data an object");
	expect_not_jaeger("{\"traces\":[]}", "\"data\" is not an array", "no data");
	expect_not_jaeger("{\"data\":null,\"total\":0,\"limit\":0,\"offset\":0,\"errors\":"
			  "[{\"code\":400,\"msg\":\"malformed request: missing service\"}]}",
			  "malformed request: missing service", "Jaeger's own error");
	trace_analysis_release(&a);
	ok(traces_analyse(&a, NULL, 3, NULL, &err) == -1, "no JSON at all: -1");

	answer_begin();
	trace_begin("bad-spans");
	span("root", NULL, "p1", "GET /quote", 0, ms(10), NULL);
	span("dup", "root", "p1", "first of an id", ms(1), ms(1), NULL);
	span("dup", "root", "p1", "second of an id", ms(2), ms(1), NULL);
	span("self", "self", "p1", "its own parent", ms(1), ms(1), NULL);
	span("neg", "root", "p1", "negative", ms(1), -5, NULL);
	span("cycA", "cycB", "p2", "cycle A", ms(1), ms(1), NULL);
	span("cycB", "cycA", "p2", "cycle B", ms(1), ms(1), NULL);
	span("below", "cycA", "p2", "below the cycle", ms(1), ms(1), NULL);
	span("orphan", "gone", "p3", "parent not fetched", ms(2), ms(20), NULL);
	span("noproc", "root", "p9", "unknown process", ms(1), ms(1), NULL);
	comma();
	strbuf_addstr(&js, "{\"operationName\":\"no id\",\"startTime\":1700000000000000,"
		      "\"duration\":1,\"processID\":\"p1\"},"
		      "{\"spanID\":\"s1\",\"operationName\":\"start a string\",\"startTime\":\"now\","
		      "\"duration\":1,\"processID\":\"p1\"},"
		      "{\"spanID\":\"s2\",\"operationName\":7,\"startTime\":1700000000000000,"
		      "\"duration\":1,\"processID\":\"p1\"},"
		      "{\"spanID\":\"s3\",\"operationName\":\"huge\",\"startTime\":1e300,"
		      "\"duration\":1,\"processID\":\"p1\"},"
		      "{\"spanID\":\"s4\",\"operationName\":\"odd types\",\"startTime\":1700000000000000,"
		      "\"duration\":1,\"processID\":\"p1\",\"tags\":{\"error\":true},"
		      "\"references\":\"root\",\"logs\":7},"
		      "[], 3, null, \"span\"");
	trace_end();
	trace_begin("no-spans");
	trace_end();
	comma();
	strbuf_addstr(&js, "{\"traceID\":\"spans-string\",\"spans\":\"many\"},"
		      "{\"traceID\":\"processes-array\",\"spans\":[{\"spanID\":\"r\","
		      "\"operationName\":\"x\",\"startTime\":1,\"duration\":1,\"processID\":\"p1\"}],"
		      "\"processes\":[1,2]},"
		      "7, null, \"trace\", [],"
		      "{\"traceID\":\"all-cycle\",\"spans\":[{\"spanID\":\"a\",\"operationName\":\"x\","
		      "\"startTime\":1,\"duration\":1,\"process\":{\"serviceName\":\"s\"},"
		      "\"references\":[{\"refType\":\"CHILD_OF\",\"spanID\":\"b\"}]},"
		      "{\"spanID\":\"b\",\"operationName\":\"x\",\"startTime\":1,\"duration\":1,"
		      "\"process\":{\"serviceName\":\"s\"},\"parentSpanID\":\"a\"}]}");
	answer_end();

	/*
	 * bad-spans: dup (the second), self, neg, cycA, cycB, below, noproc and
	 * 8 that are not spans (odd types is one, a root): 15. no-spans 1,
	 * spans-string 1, processes-array 1 (its span has no service), 7, null,
	 * "trace", [] 4, all-cycle 2: 24.
	 */
	is_int(analyse(js.buf, 3), 0, "malformed traces and spans do not stop the analysis");
	is_int(skipped, 24, "each malformed trace or span is skipped and counted");
	is_int(a.traces, 1, "the one trace left");
	is_int(a.spans, 4, "root, the first dup, the orphan and odd types are left");
	ok(find_op("quote-service", "first of an id") && !find_op("quote-service", "second of an id"),
	   "of two spans with one id, the first is kept");
	ok(!find_op("policy-service", "cycle A") && !find_op("quote-service", "its own parent"),
	   "spans in a cycle, or their own parent, are left out");
	ok(find_op("quote-service", "odd types") && !op("quote-service", "odd types")->errors,
	   "tags that are not an array do not err");
	is_int(op("quote-service", "GET /quote")->self_us, ms(9),
	       "an orphan is not its absent parent's child");
	ok(a.slow_nr == 1 && !strcmp(a.slow[0].root_operation, "GET /quote"),
	   "of two roots, the earliest is the trace's root");
	{
		cJSON *empty = cJSON_Parse("[]");

		trace_analysis_release(&a);
		ok(traces_analyse(&a, empty, 1, NULL, &err) == 0, "skipped may be NULL");
		cJSON_Delete(empty);
	}
}

/* A trace that is one chain of 20,000 spans: no walk may recurse. */
static void test_deep_chain(void)
{
	const size_t n = 20000;

	answer_begin();
	trace_begin("deep");
	for (size_t i = 0; i < n; i++) {
		char id[32], parent[32];

		snprintf(id, sizeof(id), "s%zu", i);
		snprintf(parent, sizeof(parent), "s%zu", i - 1);
		span(id, i ? parent : NULL, i % 2 ? "p1" : "p2", "hop", (long long)i,
		     2 * (long long)(n - i), i == n - 1 ? TAG_BOOL("error", "true") : NULL);
	}
	trace_end();
	answer_end();
	is_int(analyse(js.buf, 1), 0, "a chain of 20,000 spans");
	is_int(a.spans, n, "every span of the chain");
	ok(a.slow_nr == 1 && a.slow[0].path_nr == n, "the whole chain is the critical path");
	ok(a.origins_nr == 1 && a.origins[0].spans == 1, "its one origin is the deepest span");
}

/* ---- the waterfall ---- */

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static int widest_line(const char *s)
{
	int widest = 0;

	while (*s) {
		const char *eol = strchrnul(s, '\n');

		if (eol - s > widest)
			widest = (int)(eol - s);
		s = *eol ? eol + 1 : eol;
	}
	return widest;
}

static void test_waterfall(void)
{
	struct strbuf out = STRBUF_INIT;

	answer_begin();
	critical_trace();
	sequential_trace();
	trace_begin("long-names");
	span("root", NULL, "p1", "GET /api/v2/quotes/{quoteId}/policies/{policyId}/renewals/preview",
	     0, ms(1520), NULL);
	span("c", "root", "p2", "POST /policy", ms(10), ms(1500), NULL);
	trace_end();
	answer_end();
	if (analyse(js.buf, 3) < 0 || a.slow_nr != 3) {
		ok(0, "the waterfall's traces are analysed");
		return;
	}

	traces_waterfall(&out, &a.slow[1], 100, 0);
	is_int(count_lines(out.buf), 6, "a line per span on the path");
	like(out.buf, "quote-service  GET /quote ", "the root's service and operation");
	like(out.buf, "policy-service SELECT policies |", "the hot span's service and operation");
	like(out.buf, "|  750ms  <- most self time (750ms)\n", "the hot span is marked, its duration");
	like(out.buf, "|  1.00s\n", "the root's duration");
	like(out.buf, "| 20.0ms\n", "cache.get's duration");
	/* 100 columns: the mark 27, names 30, the duration 6, the bar 33 */
	like(out.buf, "GET /quote      |#################################|  1.00s\n",
	     "the root's bar is full");
	like(out.buf, "SELECT policies |   #########################     |  750ms",
	     "SELECT's bar: from 100/1000 to 850/1000 of it");
	unlike(out.buf, "\033", "no colour unless asked");
	is_int(widest_line(out.buf), 100, "as wide as asked");

	strbuf_reset(&out);
	traces_waterfall(&out, &a.slow[1], 100, 1);
	like(out.buf, "\033[31m###", "colour: the hot span's bar in red");

	strbuf_reset(&out);
	traces_waterfall(&out, &a.slow[2], 80, 1);
	like(out.buf, "| 2.55ms\n", "milliseconds");
	like(out.buf, "|  850us  <- most self time (850us)\n",
	     "microseconds; of spans with as much self time, the first is hot");
	like(out.buf, "\033[33m!!!", "colour: an erring span's bar in yellow, drawn with '!'");

	strbuf_reset(&out);
	traces_waterfall(&out, &a.slow[0], 80, 0);
	like(out.buf, "quote-service  GET /api/v2/quotes~ |", "a long name is cut to fit, with a mark");
	like(out.buf, "1.52s", "seconds");
	is_int(widest_line(out.buf), 80, "names are cut to keep to the width");
	strbuf_release(&out);
}

/* ---- many spans ---- */

/*
 * 10,000 traces of 10 spans: a chain, span j of service svc-(j % 3) doing
 * op-j over [j, D - j] ms with D = 100 + i % 1000 ms; in every 7th trace
 * the deepest span errs.
 */
static void test_many(void)
{
	const int traces = 10000;
	size_t errors = 0, total = 0;
	struct strbuf sb = STRBUF_INIT;
	cJSON *json;

	strbuf_addstr(&sb, "{\"data\":[");
	for (int i = 0; i < traces; i++) {
		long long d = ms(100 + i % 1000);

		strbuf_addf(&sb, "%s{\"traceID\":\"%08x\",\"spans\":[", i ? "," : "", i);
		for (int j = 0; j < 10; j++) {
			strbuf_addf(&sb, "%s{\"traceID\":\"%08x\",\"spanID\":\"%x%d\","
				    "\"operationName\":\"op-%d\",\"references\":[", j ? "," : "", i, i, j, j);
			if (j)
				strbuf_addf(&sb, "{\"refType\":\"CHILD_OF\",\"traceID\":\"%08x\","
					    "\"spanID\":\"%x%d\"}", i, i, j - 1);
			strbuf_addf(&sb, "],\"startTime\":%lld,\"duration\":%lld,\"tags\":[%s],"
				    "\"processID\":\"p%d\"}", T0 + ms(j), d - ms(2 * j),
				    j == 9 && i % 7 == 0 ? TAG_BOOL("error", "true") : "", j % 3);
		}
		strbuf_addstr(&sb, "],\"processes\":{\"p0\":{\"serviceName\":\"svc-0\"},"
			      "\"p1\":{\"serviceName\":\"svc-1\"},\"p2\":{\"serviceName\":\"svc-2\"}}}");
	}
	strbuf_addstr(&sb, "]}");
	json = cJSON_Parse(sb.buf);
	strbuf_release(&sb);
	trace_analysis_release(&a);
	is_int(traces_analyse(&a, json, 10, &skipped, &err), 0, "100,000 spans");
	cJSON_Delete(json);
	is_int(a.traces, traces, "10,000 traces");
	is_int(a.spans, 100000, "100,000 spans");
	is_int(skipped, 0, "none skipped");
	is_int(a.ops_nr, 10, "10 operations");
	for (size_t i = 0; i < a.ops_nr; i++) {
		total += a.ops[i].spans;
		errors += a.ops[i].errors;
	}
	is_int(total, 100000, "the operations' spans add up");
	is_int(errors, 1429, "one error in every 7th trace");
	is_int(a.error_traces, 1429, "1429 erring traces");
	ok(a.origins_nr == 1 && !strcmp(a.origins[0].service, "svc-0") &&
	   a.origins[0].traces == 1429, "the errors originate in svc-0 (op-9)");
	is_int(a.p99_root_us, ms(1089), "p99 of the roots: the 9,900th of 10 x 100..1099ms");
	ok(a.slow_nr == 10 && a.slow[0].duration_us == ms(1099) && a.slow[0].path_nr == 10 &&
	   a.slow[0].hot == 9, "the slowest trace's path: the chain, its deepest span hot");
	is_int(op("svc-0", "op-9")->self_us, traces * (ms(100 + 499.5) - ms(18)),
	       "the leaf's self time is its durations' sum");
}

int main(void)
{
	if (test_begin("traces") < 0)
		return 1;
	test_op_stats();
	test_error_forms();
	test_span_parent();
	test_origins();
	test_critical_path();
	test_clipping();
	test_forms();
	test_malformed();
	test_deep_chain();
	test_waterfall();
	test_many();
	trace_analysis_release(&a);
	strbuf_release(&err);
	strbuf_release(&js);
	return test_end();
}
