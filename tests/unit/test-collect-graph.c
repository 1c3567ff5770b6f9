/*
 * test-collect-graph.c: unit tests of the pure parts of
 * lib/collect-graph.c, printing TAP: which services of the traces are the
 * call graph's (the erring and the slowest traces', most spans first),
 * which pod names the traces' process tags give, and that only DNS-1123
 * names reach a PromQL regex, sorted, escaped and capped.
 */
#include "../../lib/evidence.h"
#include "../../lib/json.h"
#include "test-lib.h"

/* A trace: root of service s0 (duration d0 ms), one child span per other service given. */
static cJSON *trace(const char *id, int err, int duration_ms, const char *const *services,
		    size_t nr)
{
	cJSON *t = cJSON_CreateObject(), *spans = cJSON_AddArrayToObject(t, "spans");
	cJSON *procs = cJSON_AddObjectToObject(t, "processes");

	cJSON_AddStringToObject(t, "traceID", id);
	for (size_t i = 0; i < nr; i++) {
		cJSON *span = cJSON_CreateObject(), *p, *tags;
		char sid[32], pid[32];

		snprintf(sid, sizeof(sid), "%s%zu", id, i);
		snprintf(pid, sizeof(pid), "p%zu", i + 1);
		cJSON_AddStringToObject(span, "spanID", sid);
		cJSON_AddStringToObject(span, "operationName", "op");
		cJSON_AddArrayToObject(span, "references");
		cJSON_AddNumberToObject(span, "startTime", 1000000.0 + (double)i);
		cJSON_AddNumberToObject(span, "duration", i ? 1000.0 : duration_ms * 1000.0);
		cJSON_AddStringToObject(span, "processID", pid);
		tags = cJSON_AddArrayToObject(span, "tags");
		if (err && i == nr - 1) {
			cJSON *tag = cJSON_CreateObject();
			cJSON_AddStringToObject(tag, "key", "error");
			cJSON_AddBoolToObject(tag, "value", 1);
			cJSON_AddItemToArray(tags, tag);
		}
		cJSON_AddItemToArray(spans, span);
		p = cJSON_AddObjectToObject(procs, pid);
		cJSON_AddStringToObject(p, "serviceName", services[i]);
		tags = cJSON_AddArrayToObject(p, "tags");
		{
			cJSON *tag = cJSON_CreateObject();
			char *pod = xstrfmt("%s-7d9f-x%s", services[i], id);
			cJSON_AddStringToObject(tag, "key", "k8s.pod.name");
			cJSON_AddStringToObject(tag, "value", pod);
			cJSON_AddItemToArray(tags, tag);
			free(pod);
		}
	}
	return t;
}

static char *joined(const struct strvec *sv)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < sv->nr; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", sv->v[i]);
	return strbuf_detach(&sb, NULL);
}

static void test_services(void)
{
	static const char *const fast[] = { "checkout", "cache" };
	static const char *const slow[] = { "checkout", "pricing", "pricing", "tax" };
	static const char *const failing[] = { "checkout", "inventory" };
	cJSON *answer = cJSON_CreateObject(), *data = cJSON_AddArrayToObject(answer, "data");
	struct strvec out = STRVEC_INIT;
	char *s, id[16];

	/* 40 fast traces through cache, 2 slow through pricing and tax, 1 failing into inventory. */
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "f%d", i);
		cJSON_AddItemToArray(data, trace(id, 0, 10, fast, 2));
	}
	cJSON_AddItemToArray(data, trace("s1", 0, 900, slow, 4));
	cJSON_AddItemToArray(data, trace("s2", 0, 800, slow, 4));
	cJSON_AddItemToArray(data, trace("e1", 1, 10, failing, 2));

	collect_graph_services(answer, "checkout", 20, &out);
	s = joined(&out);
	/*
	 * The slowest 20 include fast ones (all 10 ms, so all of them), so
	 * cache is in, with the most spans; then pricing, twice a slow trace.
	 */
	is_str(s, "cache pricing tax inventory",
	       "the erring and slowest traces' services, most spans first, not the incident's");
	free(s);
	strvec_clear(&out);

	collect_graph_services(answer, "checkout", 2, &out);
	s = joined(&out);
	is_str(s, "cache pricing", "at most max of them");
	free(s);
	strvec_clear(&out);

	collect_graph_services(answer, "checkout", 0, &out);
	is_int(out.nr, 0, "max 0: none");
	collect_graph_services(NULL, "checkout", 5, &out);
	is_int(out.nr, 0, "no traces: none");
	cJSON_Delete(answer);
}

static void test_slowest_only(void)
{
	static const char *const fast[] = { "checkout", "cache" };
	static const char *const slow[] = { "checkout", "pricing" };
	cJSON *answer = cJSON_CreateObject(), *data = cJSON_AddArrayToObject(answer, "data");
	struct strvec out = STRVEC_INIT;
	char *s, id[16];

	/* 200 traces: the 20 slowest are the slow ones; the fast are not on a slow path. */
	for (int i = 0; i < 180; i++) {
		snprintf(id, sizeof(id), "f%d", i);
		cJSON_AddItemToArray(data, trace(id, 0, 10, fast, 2));
	}
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "s%d", i);
		cJSON_AddItemToArray(data, trace(id, 0, 500 + i, slow, 2));
	}
	collect_graph_services(answer, "checkout", 20, &out);
	s = joined(&out);
	is_str(s, "pricing", "of many traces, only the slowest's services");
	free(s);
	strvec_clear(&out);
	cJSON_Delete(answer);
}

static void test_hostile_names(void)
{
	static const char *const bad[] = { "checkout", "../etc", "a b", "ok-svc" };
	cJSON *answer = cJSON_CreateObject(), *data = cJSON_AddArrayToObject(answer, "data");
	struct strvec out = STRVEC_INIT;
	char *s;

	cJSON_AddItemToArray(data, trace("h1", 1, 10, bad, 4));
	collect_graph_services(answer, "checkout", 20, &out);
	s = joined(&out);
	is_str(s, "ok-svc", "a service name that cannot be a file name is not read");
	free(s);
	strvec_clear(&out);
	cJSON_Delete(answer);
}

static void test_trace_pods(void)
{
	static const char *const svc[] = { "checkout", "pricing", "tax" };
	cJSON *answer = cJSON_CreateObject(), *data = cJSON_AddArrayToObject(answer, "data");
	cJSON *t = trace("a1", 0, 10, svc, 3), *p, *tag;
	struct strvec services = STRVEC_INIT, out = STRVEC_INIT;
	char *s;

	/* A hostile pod name on pricing's process, and a hostname tag beside. */
	p = json_get(json_get(t, "processes"), "p2");
	tag = cJSON_CreateObject();
	cJSON_AddStringToObject(tag, "key", "pod");
	cJSON_AddStringToObject(tag, "value", "x\"}|evil");
	cJSON_AddItemToArray(json_get(p, "tags"), tag);
	tag = cJSON_CreateObject();
	cJSON_AddStringToObject(tag, "key", "hostname");
	cJSON_AddStringToObject(tag, "value", "node-1.example.com");
	cJSON_AddItemToArray(json_get(p, "tags"), tag);
	cJSON_AddItemToArray(data, t);
	strvec_push(&services, "checkout");
	strvec_push(&services, "pricing");
	collect_trace_pods(answer, &services, &out);
	s = joined(&out);
	is_str(s, "checkout-7d9f-xa1 pricing-7d9f-xa1 node-1.example.com",
	       "the pods of the services asked, DNS-1123 names only");
	free(s);
	strvec_clear(&out);
	strvec_clear(&services);
	cJSON_Delete(answer);
}

static void test_pod_names(void)
{
	ok(collect_pod_name_ok("checkout-7d9f8b6c5d-x2x4p"), "a pod name");
	ok(collect_pod_name_ok("node-1.example.com"), "a dotted name");
	ok(!collect_pod_name_ok(""), "not empty");
	ok(!collect_pod_name_ok("Checkout"), "no upper case");
	ok(!collect_pod_name_ok("a\"b"), "no quote");
	ok(!collect_pod_name_ok("a}b"), "no brace");
	ok(!collect_pod_name_ok("a|b"), "no bar");
	ok(!collect_pod_name_ok("a.*"), "no regex");
	ok(!collect_pod_name_ok("-a"), "alphanumeric first");
	ok(!collect_pod_name_ok("a-"), "alphanumeric last");
	ok(!collect_pod_name_ok("a\\b"), "no backslash");
	{
		char long_name[300];
		memset(long_name, 'a', sizeof(long_name) - 1);
		long_name[253] = '\0';
		ok(collect_pod_name_ok(long_name), "253 bytes");
		long_name[253] = 'a';
		long_name[254] = '\0';
		ok(!collect_pod_name_ok(long_name), "not 254");
	}
}

static void test_regex(void)
{
	struct strvec pods = STRVEC_INIT;
	char *re;

	re = collect_pod_regex(&pods, 100);
	ok(!re, "no pods: no regex");
	strvec_push(&pods, "pricing-1");
	strvec_push(&pods, "x\"}|evil");
	strvec_push(&pods, "checkout-2");
	strvec_push(&pods, "node.a");
	strvec_push(&pods, "checkout-2");
	re = collect_pod_regex(&pods, 100);
	is_str(re, "checkout-2|node\\\\.a|pricing-1", "sorted, once, dots escaped, the bad dropped");
	free(re);
	re = collect_pod_regex(&pods, 22);
	is_str(re, "checkout-2|node\\\\.a", "capped at whole names");
	free(re);
	strvec_clear(&pods);
	strvec_push(&pods, "x\"}");
	ok(!collect_pod_regex(&pods, 100), "only bad names: no regex");
	strvec_clear(&pods);
}

int main(void)
{
	if (test_begin("collect-graph") < 0)
		return 1;
	test_services();
	test_slowest_only();
	test_hostile_names();
	test_trace_pods();
	test_pod_names();
	test_regex();
	return test_end();
}
