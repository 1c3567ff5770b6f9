/*
 * bench-traces.c: what reading a Jaeger answer costs `sre diagnose`.
 *
 * Writes the answer of a busy search to a file: 10,000 traces of 10 spans
 * over three services (quote-service -> policy-service -> user-service,
 * with cache, database and render spans), in every 20th trace an error
 * raised in user-service and passed up. Then reads it as a user would wait
 * for it: the file read, cJSON_Parse and traces_analyse (keeping the 10
 * slowest traces' critical paths), three times, printing the median and
 * the spans per second. The baseline, measured in the same run on the
 * same file, is jq (from PATH; skipped when it is not installed) counting
 * the erring spans of each operation, the least a script would do: it
 * must agree with traces_analyse, and the ratio says how much faster the
 * whole analysis is than that one count. The run is bounded by a 120 s
 * alarm.
 *
 *   bench-traces
 */
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/run-command.h"
#include "../lib/strbuf.h"
#include "../lib/traces.h"
#include "bench.h"

#define TRACES 10000
#define SPANS 10
#define RUNS 3
#define LIMIT_S 120
#define JQ_OUTPUT_MAX (1 << 20)

static const char jq_filter[] =
	"[.data[] | .processes as $p | .spans[] | {k: ($p[.processID].serviceName + \" \" + "
	".operationName), e: ([.tags[]? | select(.key==\"error\" and .value==true)] | length > 0)}]"
	" | group_by(.k) | map({k: .[0].k, n: length, errors: map(select(.e)) | length})";

/* The spans of one trace: parent (index, -1 for the root), process, operation. */
static const struct {
	int parent;
	const char *pid, *op, *kind, *db;
} shape[SPANS] = {
	{ -1, "p1", "GET /quote", "server", NULL },
	{ 0, "p1", "cache.get", "client", "redis" },
	{ 0, "p2", "POST /policy", "server", NULL },
	{ 2, "p2", "SELECT policies", "client", "postgresql" },
	{ 2, "p3", "GET /user", "server", NULL },
	{ 4, "p3", "SELECT users", "client", "postgresql" },
	{ 4, "p3", "cache.get", "client", "redis" },
	{ 2, "p2", "rules.evaluate", "internal", NULL },
	{ 0, "p1", "render", "internal", NULL },
	{ 0, "p1", "publish", "producer", NULL },
};

static void add_tag(struct strbuf *sb, const char *key, const char *type, const char *value,
		    int quoted)
{
	const char *q = quoted ? "\"" : "";

	if (sb->buf[sb->len - 1] != '[')
		strbuf_addch(sb, ',');
	strbuf_addf(sb, "{\"key\":\"%s\",\"type\":\"%s\",\"value\":%s%s%s}", key, type, q, value, q);
}

/* One trace as jaeger-query answers it; errors: whether user-service fails. */
static void add_trace(struct strbuf *sb, int t, int errors)
{
	long long start[SPANS], dur[SPANS], t0 = 1700000000000000LL + t * 1000LL;
	char trace_id[33];

	snprintf(trace_id, sizeof(trace_id), "%016x%016llx", (unsigned)t * 2654435761u,
		 (unsigned long long)t);
	/* children inside their parents, at random places */
	for (int i = 0; i < SPANS; i++) {
		int p = shape[i].parent;

		if (p < 0) {
			start[i] = t0;
			dur[i] = 20000 + rnd(400000);
		} else {
			long long room = dur[p] / 3;
			start[i] = start[p] + rnd(room);
			dur[i] = 1 + rnd(dur[p] - (start[i] - start[p]));
		}
	}
	strbuf_addf(sb, "%s{\"traceID\":\"%s\",\"spans\":[", t ? "," : "", trace_id);
	for (int i = 0; i < SPANS; i++) {
		int fails = errors && (i == 0 || i == 2 || i == 4);

		strbuf_addf(sb, "%s{\"traceID\":\"%s\",\"spanID\":\"%08x%08x\",\"flags\":1,"
			    "\"operationName\":\"%s\",\"references\":[", i ? "," : "", trace_id,
			    (unsigned)t, (unsigned)i, shape[i].op);
		if (shape[i].parent >= 0)
			strbuf_addf(sb, "{\"refType\":\"CHILD_OF\",\"traceID\":\"%s\","
				    "\"spanID\":\"%08x%08x\"}", trace_id, (unsigned)t,
				    (unsigned)shape[i].parent);
		strbuf_addf(sb, "],\"startTime\":%lld,\"duration\":%lld,\"tags\":[", start[i], dur[i]);
		add_tag(sb, "span.kind", "string", shape[i].kind, 1);
		add_tag(sb, "otel.scope.name", "string", "io.opentelemetry.http", 1);
		if (shape[i].db)
			add_tag(sb, "db.system", "string", shape[i].db, 1);
		if (!strcmp(shape[i].kind, "server"))
			add_tag(sb, "http.status_code", "int64", fails ? "500" : "200", 0);
		if (fails)
			add_tag(sb, "error", "bool", "true", 0);
		strbuf_addf(sb, "],\"logs\":[],\"processID\":\"%s\",\"warnings\":null}", shape[i].pid);
	}
	strbuf_addstr(sb, "],\"processes\":{"
		      "\"p1\":{\"serviceName\":\"quote-service\",\"tags\":[{\"key\":\"hostname\","
		      "\"type\":\"string\",\"value\":\"quote-7d9f\"}]},"
		      "\"p2\":{\"serviceName\":\"policy-service\",\"tags\":[{\"key\":\"hostname\","
		      "\"type\":\"string\",\"value\":\"policy-5c2a\"}]},"
		      "\"p3\":{\"serviceName\":\"user-service\",\"tags\":[{\"key\":\"hostname\","
		      "\"type\":\"string\",\"value\":\"user-81b0\"}]}},\"warnings\":null}");
}

static int write_answer(const char *path, size_t *bytes)
{
	struct strbuf sb = STRBUF_INIT;
	FILE *fp = fopen(path, "w");
	int ret = 0;

	if (!fp)
		return error_errno("cannot write '%s'", path);
	strbuf_addstr(&sb, "{\"data\":[");
	for (int t = 0; t < TRACES; t++)
		add_trace(&sb, t, t % 20 == 0);
	strbuf_addstr(&sb, "],\"total\":0,\"limit\":0,\"offset\":0,\"errors\":null}");
	if (fwrite(sb.buf, 1, sb.len, fp) != sb.len)
		ret = error_errno("cannot write '%s'", path);
	if (fclose(fp))
		ret = error_errno("cannot write '%s'", path);
	*bytes = sb.len;
	strbuf_release(&sb);
	return ret;
}

/* One read of the file as `sre diagnose` reads it; its erring spans, or -1. */
static long analyse_file(const char *path, double *parse_s, double *analyse_s)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	struct trace_analysis a = TRACE_ANALYSIS_INIT;
	double t0 = now_s(), t1;
	long errors = 0;
	size_t skipped;
	cJSON *json;

	if (strbuf_read_file(&sb, path, 0) < 0)
		return error_errno("cannot read '%s'", path);
	json = cJSON_ParseWithLength(sb.buf, sb.len);
	t1 = now_s();
	if (!json || traces_analyse(&a, json, 10, &skipped, &err) < 0 ||
	    a.spans != TRACES * SPANS || skipped) {
		error("the answer was not analysed whole: %s", err.buf);
		errors = -1;
	}
	*parse_s = t1 - t0;
	*analyse_s = now_s() - t1;
	for (size_t i = 0; errors >= 0 && i < a.ops_nr; i++)
		errors += (long)a.ops[i].errors;
	trace_analysis_release(&a);
	cJSON_Delete(json);
	strbuf_release(&sb);
	strbuf_release(&err);
	return errors;
}

/* jq's count of erring spans, timed; -1 when it fails. */
static long run_jq(const char *path, double *s)
{
	const char *argv[] = { "jq", "-c", jq_filter, path, NULL };
	struct strbuf out = STRBUF_INIT;
	double t0 = now_s();
	int status = run_command_capture(argv, "jq", &out, JQ_OUTPUT_MAX, (int64_t)LIMIT_S * 1000);
	cJSON *json, *item;
	long errors = 0;

	*s = now_s() - t0;
	json = status ? NULL : cJSON_Parse(out.buf);
	if (!cJSON_IsArray(json))
		errors = error("jq: exit %d, output not an array: %.200s", status, out.buf);
	cJSON_ArrayForEach(item, json) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(item, "errors");
		if (cJSON_IsNumber(e))
			errors += (long)e->valuedouble;
	}
	cJSON_Delete(json);
	strbuf_release(&out);
	return errors;
}

/* Whether execvp would find name. */
static int on_path(const char *name)
{
	const char *dirs = getenv("PATH");
	struct strbuf sb = STRBUF_INIT;
	int found = 0;

	while (dirs && !found) {
		const char *end = strchrnul(dirs, ':');

		strbuf_reset(&sb);
		if (end == dirs)
			strbuf_addch(&sb, '.'); /* an empty entry is the current directory */
		else
			strbuf_add(&sb, dirs, (size_t)(end - dirs));
		strbuf_addf(&sb, "/%s", name);
		found = !access(sb.buf, X_OK);
		dirs = *end ? end + 1 : NULL;
	}
	strbuf_release(&sb);
	return found;
}

static void on_alarm(int sig)
{
	static const char msg[] = "bench-traces: gave up after the time limit\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

int main(void)
{
	char dir[] = "/tmp/sre-bench-traces.XXXXXX";
	struct strbuf path = STRBUF_INIT;
	double parse[RUNS], analysis[RUNS], total[RUNS], jq[RUNS], t_total, t_jq;
	long ours = -1, theirs = -1;
	size_t bytes = 0;
	int ret = 1;

	signal(SIGALRM, on_alarm);
	alarm(LIMIT_S);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	strbuf_addf(&path, "%s/traces.json", dir);
	if (write_answer(path.buf, &bytes) < 0)
		goto out;

	for (int i = 0; i < RUNS; i++) {
		ours = analyse_file(path.buf, &parse[i], &analysis[i]);
		if (ours < 0)
			goto out;
		total[i] = parse[i] + analysis[i];
	}
	qsort(parse, RUNS, sizeof(*parse), cmp_double);
	qsort(analysis, RUNS, sizeof(*analysis), cmp_double);
	qsort(total, RUNS, sizeof(*total), cmp_double);
	t_total = total[RUNS / 2];
	printf("traces: %d traces, %d spans, %.1f MB of Jaeger JSON; median of %d runs\n",
	       TRACES, TRACES * SPANS, bytes / 1e6, RUNS);
	printf("traces: read + cJSON_Parse %.1f ms, traces_analyse %.1f ms: %.1f ms in all\n",
	       parse[RUNS / 2] * 1000, analysis[RUNS / 2] * 1000, t_total * 1000);
	printf("traces: %.0f spans/s with the parse, %.0f spans/s traces_analyse alone\n",
	       TRACES * SPANS / t_total, TRACES * SPANS / analysis[RUNS / 2]);

	if (!on_path("jq")) {
		printf("skip: jq not installed\n");
		ret = 0;
		goto out;
	}
	for (int i = 0; i < RUNS; i++) {
		theirs = run_jq(path.buf, &jq[i]);
		if (theirs < 0)
			goto out;
	}
	qsort(jq, RUNS, sizeof(*jq), cmp_double);
	t_jq = jq[RUNS / 2];
	printf("baseline: jq counting each operation's erring spans: %.1f ms, %.0f spans/s\n",
	       t_jq * 1000, TRACES * SPANS / t_jq);
	if (theirs != ours) {
		fprintf(stderr, "bench-traces: jq counts %ld erring spans, traces_analyse %ld\n",
			theirs, ours);
		goto out;
	}
	printf("both count %ld erring spans\n", ours);
	printf("traces_analyse is %.1fx faster than jq\n", t_jq / t_total);
	ret = 0;
out:
	unlink(path.buf);
	rmdir(dir);
	strbuf_release(&path);
	return ret;
}
