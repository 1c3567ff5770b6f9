/*
 * test-collect-kubernetes.c: unit tests of lib/collect-kubernetes.c, the
 * Kubernetes evidence of `sre diagnose`, printing TAP.
 *
 * collect_kubernetes() runs against tests/fakes/kubernetes.py over HTTPS
 * with a throwaway CA made with openssl (kube-test.h, as for
 * test-kubernetes.c), on a cluster of two namespaces where the service
 * "checkout" has pods, Deployments, ReplicaSets and events beside other
 * services'. The tests check what was kept, the logs and their names, the
 * requests the fake received (tailLines, previous, the token), the error
 * lines, and that the deadline cuts a hanging API server off.
 */
#include "../../lib/json.h"
#include "../../lib/kubeconfig.h"
#include "collect-test.h"
#include "kube-test.h"

#define TOKEN "k8s-token-3c9e1f7a2d"
#define SERVICE "checkout"
/* A pod name of 195 bytes: a usable log name, but not with ".previous" after it. */
#define LONG_POD "checkout-batch-" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static struct fake k8s;
static char *server;      /* https://127.0.0.1:<port> */
static char *kubeconfig;  /* a kubeconfig for the fake, with TOKEN */

/* ---- the cluster ---- */

static const char *const cluster =
	"{\"shop\": {"
	" \"deployments\": ["
	"  {\"name\": \"checkout\", \"replicas\": 2, \"revision\": 4, \"ready\": 1, \"available\": 1,"
	"   \"containers\": [{\"name\": \"app\", \"image\": \"shop/checkout:1.5\"},"
	"                    {\"name\": \"envoy\", \"image\": \"envoyproxy/envoy:v1.31.0\"}]},"
	"  {\"name\": \"cart\", \"replicas\": 1}],"
	" \"replicasets\": ["
	"  {\"name\": \"checkout-7d9f8b6c5d\", \"owner\": \"Deployment/checkout\", \"revision\": 4,"
	"   \"replicas\": 2, \"ready\": 1, \"available\": 1},"
	"  {\"name\": \"checkout-6c8e7a5b4d\", \"owner\": \"Deployment/checkout\", \"revision\": 3,"
	"   \"replicas\": 0, \"ready\": 0, \"available\": 0},"
	"  {\"name\": \"cart-5b7c9d8f6\", \"owner\": \"Deployment/cart\"}],"
	" \"pods\": ["
	"  {\"name\": \"cart-5b7c9d8f6-qw2er\", \"labels\": {\"app\": \"cart\"},"
	"   \"owner\": \"ReplicaSet/cart-5b7c9d8f6\","
	"   \"containers\": [{\"name\": \"cart\", \"log\": \"cart is fine\\n\"}]},"
	"  {\"name\": \"checkout-7d9f8b6c5d-x2x4p\", \"labels\": {\"app\": \"checkout\"},"
	"   \"owner\": \"ReplicaSet/checkout-7d9f8b6c5d\","
	"   \"containers\": [{\"name\": \"app\", \"restartCount\": 2,"
	"     \"lastState\": {\"terminated\": {\"reason\": \"OOMKilled\", \"exitCode\": 137}},"
	"     \"log\": \"starting\\nlistening on :8080\\nGET /cart 200\\n\","
	"     \"previousLog\": \"starting\\nloading catalog\\nfatal: out of memory\\n\"}]},"
	"  {\"name\": \"checkout-7d9f8b6c5d-b7n2q\", \"labels\": {\"app\": \"checkout\"},"
	"   \"owner\": \"ReplicaSet/checkout-7d9f8b6c5d\","
	"   \"containers\": [{\"name\": \"app\", \"log\": \"one\\ntwo\\nthree\\n\"},"
	"                    {\"name\": \"envoy\", \"restartCount\": 1,"
	"                     \"lastState\": {\"terminated\": {\"reason\": \"Error\", \"exitCode\": 1}},"
	"                     \"log\": \"envoy up\\n\"}]}],"
	" \"events\": ["
	"  {\"object\": \"Pod/checkout-7d9f8b6c5d-x2x4p\", \"reason\": \"BackOff\", \"count\": 3,"
	"   \"message\": \"Back-off restarting failed container app in pod checkout-7d9f8b6c5d-x2x4p_shop\"},"
	"  {\"object\": \"Pod/cart-5b7c9d8f6-qw2er\", \"reason\": \"Unhealthy\","
	"   \"message\": \"Readiness probe failed\"},"
	"  {\"object\": \"Deployment/checkout\", \"type\": \"Normal\", \"reason\": \"ScalingReplicaSet\","
	"   \"message\": \"Scaled up replica set checkout-7d9f8b6c5d to 2\"},"
	"  {\"object\": \"ReplicaSet/checkout-7d9f8b6c5d\", \"type\": \"Normal\","
	"   \"reason\": \"SuccessfulCreate\", \"message\": \"Created pod: checkout-7d9f8b6c5d-b7n2q\"},"
	"  {\"object\": \"ReplicaSet/cart-5b7c9d8f6\", \"type\": \"Normal\","
	"   \"reason\": \"SuccessfulCreate\", \"message\": \"Created pod: cart-5b7c9d8f6-qw2er\"}]},"
	"\"web\": {"
	" \"deployments\": ["
	"  {\"name\": \"checkout-api\", \"labels\": {\"app.kubernetes.io/name\": \"checkout\"}},"
	"  {\"name\": \"storefront\", \"labels\": {\"app\": \"storefront\"}},"
	"  {\"name\": \"legacy\", \"labels\": {\"app\": \"legacy\"}}],"
	" \"replicasets\": ["
	"  {\"name\": \"checkout-api-84d9c7b5f6\", \"owner\": \"Deployment/checkout-api\"},"
	"  {\"name\": \"storefront-6f5d4c8b9\", \"owner\": \"Deployment/storefront\"},"
	"  {\"name\": \"legacy-7b8c9d6f5\", \"owner\": \"Deployment/legacy\"}],"
	" \"pods\": ["
	"  {\"name\": \"checkout-api-84d9c7b5f6-m4n5p\","
	"   \"labels\": {\"app.kubernetes.io/name\": \"checkout\"},"
	"   \"owner\": \"ReplicaSet/checkout-api-84d9c7b5f6\","
	"   \"containers\": [{\"name\": \"api\", \"log\": \"api ready\\n\"}]},"
	"  {\"name\": \"" LONG_POD "\", \"labels\": {\"app\": \"checkout\"},"
	"   \"containers\": [{\"name\": \"batch\", \"restartCount\": 1,"
	"     \"lastState\": {\"terminated\": {\"reason\": \"Error\", \"exitCode\": 2}},"
	"     \"log\": \"batch running\\n\", \"previousLog\": \"batch failed\\n\"}]},"
	"  {\"name\": \"storefront-6f5d4c8b9-k8s7d\", \"labels\": {\"app\": \"storefront\"},"
	"   \"owner\": \"ReplicaSet/storefront-6f5d4c8b9\","
	"   \"containers\": [{\"name\": \"web\", \"log\": \"serving\\n\"}]},"
	"  {\"name\": \"legacy-7b8c9d6f5-w2x3z\", \"labels\": {\"app\": \"legacy\"},"
	"   \"owner\": \"ReplicaSet/legacy-7b8c9d6f5\","
	"   \"containers\": [{\"name\": \"legacy\", \"log\": \"legacy says hi\\n\"}]}],"
	" \"events\": ["
	"  {\"object\": \"Pod/checkout-api-84d9c7b5f6-m4n5p\", \"reason\": \"Unhealthy\","
	"   \"message\": \"Liveness probe failed: HTTP probe failed with statuscode: 500\"},"
	"  {\"object\": \"Deployment/storefront\", \"type\": \"Normal\","
	"   \"reason\": \"ScalingReplicaSet\", \"message\": \"Scaled up replica set storefront-6f5d4c8b9 to 1\"}"
	" ]}}";

/* ---- running the collector ---- */

struct run {
	struct evidence ev;
	struct strbuf why;
	int ret;
	int mark;            /* the fake's log before the run */
	int64_t elapsed_ms;
};

/*
 * Collect about SERVICE with the kubeconfig file, the extra configuration,
 * the incident's check (or NULL) and a deadline deadline_ms from now.
 */
static void collect(struct run *r, const char *file, const char *extra, const char *check,
		    int64_t deadline_ms)
{
	struct config cfg = CONFIG_INIT;
	struct http_client http;
	struct collect_options o = { .service = SERVICE, .check = check, .log_lines = 2 };
	struct collect_context c = { .cfg = &cfg, .o = &o, .http = &http, .log_lines = 2 };
	char *text = xstrfmt("[http]\n\tretries = 0\n\tconnect-timeout = 2s\n\ttimeout = 10s\n"
			     "[kubernetes]\n\tkubeconfig = %s\n%s", file, extra);
	struct evidence init = EVIDENCE_INIT;

	r->ev = init;
	strbuf_init(&r->why, 0);
	set_config_text(&cfg, text);
	r->mark = k8s.pid ? fake_log_mark(&k8s) : 0;
	/* A client for this run alone, as evidence_collect() makes: the kubeconfig sets it up. */
	if (http_client_init(&http, &cfg) < 0)
		printf("# http_client_init failed\n");
	http.deadline_ms = monotonic_ms() + deadline_ms;
	c.now = time(NULL);
	r->ret = run_collector(collect_kubernetes, &c, &r->ev, &r->why, &r->elapsed_ms);
	http_client_release(&http);
	config_clear(&cfg);
	free(text);
}

static void run_clear(struct run *r)
{
	evidence_release(&r->ev);
	strbuf_release(&r->why);
}

/* The metadata.name of a list's items, joined by " "; the caller frees. */
static char *names_of(const cJSON *list)
{
	struct strbuf sb = STRBUF_INIT;
	const cJSON *item;

	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(list, "items")) {
		const cJSON *meta = cJSON_GetObjectItemCaseSensitive(item, "metadata");

		strbuf_addf(&sb, "%s%s", sb.len ? " " : "",
			    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "name")));
	}
	return strbuf_detach(&sb, NULL);
}

/* The reasons of an EventList's items, joined by " "; the caller frees. */
static char *reasons_of(const cJSON *list)
{
	struct strbuf sb = STRBUF_INIT;
	const cJSON *item;

	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(list, "items")) {
		const cJSON *obj = cJSON_GetObjectItemCaseSensitive(item, "involvedObject");

		strbuf_addf(&sb, "%s%s/%s:%s", sb.len ? " " : "",
			    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "kind")),
			    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "name")),
			    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "reason")));
	}
	return strbuf_detach(&sb, NULL);
}

/* Is list a list of this kind and apiVersion? */
static int list_is(const cJSON *list, const char *kind, const char *api_version)
{
	const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(list, "kind"));
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(list, "apiVersion"));

	return k && v && !strcmp(k, kind) && !strcmp(v, api_version) &&
	       cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(list, "metadata")) &&
	       cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(list, "items"));
}

/* The names of the logs read, joined by " "; the caller frees. */
static char *log_names(const struct evidence *ev)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < ev->logs_nr; i++)
		strbuf_addf(&sb, "%s%s", sb.len ? " " : "", ev->logs[i].name);
	return strbuf_detach(&sb, NULL);
}

/* The log called name, or NULL. */
static const struct evidence_item *log_named(const struct evidence *ev, const char *name)
{
	for (size_t i = 0; i < ev->logs_nr; i++)
		if (!strcmp(ev->logs[i].name, name))
			return &ev->logs[i];
	return NULL;
}

static const char *log_text(const struct evidence *ev, const char *name)
{
	const struct evidence_item *it = log_named(ev, name);

	return it ? it->text : NULL;
}

/* How many log requests since mark for this pod's container, previous or not. */
static int log_requests(const struct run *r, const char *ns, const char *pod,
			const char *container, int previous)
{
	char *rx = xstrfmt("^/api/v1/namespaces/%s/pods/%s/log$", ns, pod);
	cJSON *reqs = fake_requests(&k8s, r->mark, "GET", rx), *req;
	int n = 0;

	cJSON_ArrayForEach(req, reqs) {
		char *c = request_param(req, "container"), *p = request_param(req, "previous");

		n += c && !strcmp(c, container) && !!p == !!previous;
		free(c);
		free(p);
	}
	cJSON_Delete(reqs);
	free(rx);
	return n;
}

/* ---- the tests ---- */

static void test_selection(void)
{
	struct run r;
	cJSON *reqs, *req;
	char *s;
	int all_tail = 1, all_token = 1, all_plain = 1;

	collect(&r, kubeconfig, "\tnamespace = shop, web\n", NULL, 20000);
	is_int(r.ret, 0, "the service's evidence is read");
	is_str(r.why.buf, "", "with nothing to say");

	/* The lists: four of each namespace, at once. */
	is_int(fake_count(&k8s, r.mark, "GET", "^/api/v1/namespaces/shop/pods$"), 1, "shop's pods listed");
	is_int(fake_count(&k8s, r.mark, "GET", "^/api/v1/namespaces/shop/events$"), 1, "its events");
	is_int(fake_count(&k8s, r.mark, "GET", "^/apis/apps/v1/namespaces/shop/deployments$"), 1,
	       "its Deployments");
	is_int(fake_count(&k8s, r.mark, "GET", "^/apis/apps/v1/namespaces/shop/replicasets$"), 1,
	       "its ReplicaSets");
	is_int(fake_count(&k8s, r.mark, "GET", "^/api(s/apps)?/v1/namespaces/web/"
			  "(pods|events|deployments|replicasets)$"), 4, "and web's four lists");

	ok(list_is(r.ev.pods, "PodList", "v1"), "pods: a PodList");
	ok(list_is(r.ev.events, "EventList", "v1"), "events: an EventList");
	ok(list_is(r.ev.deployments, "DeploymentList", "apps/v1"), "deployments: a DeploymentList");
	ok(list_is(r.ev.replicasets, "ReplicaSetList", "apps/v1"), "replicasets: a ReplicaSetList");

	s = names_of(r.ev.pods);
	is_str(s, "checkout-7d9f8b6c5d-x2x4p checkout-7d9f8b6c5d-b7n2q "
	       "checkout-api-84d9c7b5f6-m4n5p " LONG_POD,
	       "the service's pods of both namespaces, by app and app.kubernetes.io/name labels");
	free(s);
	s = names_of(r.ev.deployments);
	is_str(s, "checkout checkout-api", "its Deployments: named so, or labelled");
	free(s);
	s = names_of(r.ev.replicasets);
	is_str(s, "checkout-7d9f8b6c5d checkout-6c8e7a5b4d checkout-api-84d9c7b5f6",
	       "their ReplicaSets, the old revision too");
	free(s);
	s = reasons_of(r.ev.events);
	is_str(s, "Pod/checkout-7d9f8b6c5d-x2x4p:BackOff Deployment/checkout:ScalingReplicaSet "
	       "ReplicaSet/checkout-7d9f8b6c5d:SuccessfulCreate "
	       "Pod/checkout-api-84d9c7b5f6-m4n5p:Unhealthy",
	       "the events about them, and no other's");
	free(s);
	{
		const cJSON *pod = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.ev.pods, "items"), 0);
		const cJSON *cs = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(pod, "status"), "containerStatuses"), 0);

		is_int(json_int(cs, "restartCount"), 2, "a pod is kept as the API wrote it");
	}

	/* The logs: current and previous, named by pod and, when several, container. */
	s = log_names(&r.ev);
	is_str(s, "checkout-7d9f8b6c5d-x2x4p checkout-7d9f8b6c5d-x2x4p.previous "
	       "checkout-7d9f8b6c5d-b7n2q.app checkout-7d9f8b6c5d-b7n2q.envoy "
	       "checkout-api-84d9c7b5f6-m4n5p " LONG_POD, "the logs read, in order");
	free(s);
	is_str(log_text(&r.ev, "checkout-7d9f8b6c5d-x2x4p"), "listening on :8080\nGET /cart 200\n",
	       "a container's last log-lines lines");
	is_str(log_text(&r.ev, "checkout-7d9f8b6c5d-x2x4p.previous"),
	       "loading catalog\nfatal: out of memory\n", "and its previous container's");
	is_str(log_text(&r.ev, "checkout-7d9f8b6c5d-b7n2q.app"), "two\nthree\n",
	       "a pod of two containers: <pod>.<container>");
	is_str(log_text(&r.ev, "checkout-7d9f8b6c5d-b7n2q.envoy"), "envoy up\n", "both of them");
	ok(log_named(&r.ev, "checkout-7d9f8b6c5d-x2x4p") &&
	   !strcmp(log_named(&r.ev, "checkout-7d9f8b6c5d-x2x4p")->source, "kubernetes"),
	   "a log's source is kubernetes");
	ok(!log_named(&r.ev, "cart-5b7c9d8f6-qw2er"), "another service's pod's log is not read");
	is_int(fake_count(&k8s, r.mark, "GET", "/namespaces/shop/pods/cart-"), 0,
	       "nor asked for");

	is_int(log_requests(&r, "shop", "checkout-7d9f8b6c5d-x2x4p", "app", 1), 1,
	       "previous=true asked for a restarted container");
	is_int(log_requests(&r, "shop", "checkout-7d9f8b6c5d-b7n2q", "app", 1), 0,
	       "not for one that never restarted");
	is_int(log_requests(&r, "shop", "checkout-7d9f8b6c5d-b7n2q", "envoy", 1), 1,
	       "asked for envoy, which restarted...");
	ok(!log_named(&r.ev, "checkout-7d9f8b6c5d-b7n2q.envoy.previous"),
	   "...but the 400 (no previous container) is simply no log");
	is_int(log_requests(&r, "web", LONG_POD, "batch", 0), 1,
	       "a pod whose name is usable: its log is read");
	is_int(log_requests(&r, "web", LONG_POD, "batch", 1), 0,
	       "but <pod>.previous is too long a file name: neither asked for nor kept");

	reqs = fake_requests(&k8s, r.mark, "GET", "/log$");
	is_int(cJSON_GetArraySize(reqs), 7, "seven log requests in all");
	cJSON_ArrayForEach(req, reqs) {
		char *tail = request_param(req, "tailLines");

		all_tail &= tail && !strcmp(tail, "2");
		all_token &= fake_header(req, "authorization") &&
			     !strcmp(fake_header(req, "authorization"), "Bearer " TOKEN);
		all_plain &= fake_header(req, "accept") &&
			     !!strstr(fake_header(req, "accept"), "text/plain");
		free(tail);
	}
	ok(all_tail, "each with tailLines=2 (log-lines)");
	ok(all_token, "each with the kubeconfig's token");
	ok(all_plain, "each accepting text/plain");
	cJSON_Delete(reqs);
	run_clear(&r);
}

static void test_service_keys(void)
{
	struct run r;
	char *s;

	/*
	 * [service] namespace replaces kubernetes.namespace; [service]
	 * deployment adds that Deployment's pods; the incident's own pod is
	 * kept whatever its labels, with its Deployment.
	 */
	collect(&r, kubeconfig, "\tnamespace = shop\n[service \"checkout\"]\n\tnamespace = web\n"
		"\tdeployment = storefront\n", "pod/web/legacy-7b8c9d6f5-w2x3z", 20000);
	is_int(r.ret, 0, "read with the service's own keys");
	is_int(fake_count(&k8s, r.mark, "GET", "/namespaces/shop/"), 0,
	       "[service] namespace: kubernetes.namespace is not read");
	s = names_of(r.ev.pods);
	is_str(s, "checkout-api-84d9c7b5f6-m4n5p " LONG_POD " storefront-6f5d4c8b9-k8s7d "
	       "legacy-7b8c9d6f5-w2x3z", "the Deployment's pods and the incident's");
	free(s);
	s = names_of(r.ev.deployments);
	is_str(s, "checkout-api storefront legacy", "[service] deployment, and the incident pod's");
	free(s);
	s = names_of(r.ev.replicasets);
	is_str(s, "checkout-api-84d9c7b5f6 storefront-6f5d4c8b9 legacy-7b8c9d6f5", "their ReplicaSets");
	free(s);
	s = reasons_of(r.ev.events);
	is_str(s, "Pod/checkout-api-84d9c7b5f6-m4n5p:Unhealthy Deployment/storefront:ScalingReplicaSet",
	       "and their events");
	free(s);
	is_str(log_text(&r.ev, "legacy-7b8c9d6f5-w2x3z"), "legacy says hi\n", "the incident pod's log");
	run_clear(&r);

	/* Without the check, that pod is another service's. */
	collect(&r, kubeconfig, "\tnamespace = web\n", "pod/shop/checkout-7d9f8b6c5d-x2x4p", 20000);
	is_int(r.ret, 0, "an incident pod in a namespace not read");
	s = names_of(r.ev.pods);
	is_str(s, "checkout-api-84d9c7b5f6-m4n5p " LONG_POD,
	       "only the service's pods of the namespaces read: not legacy's");
	free(s);
	is_int(fake_count(&k8s, r.mark, "GET", "/namespaces/shop/"), 0,
	       "the namespaces are the configured ones alone");
	run_clear(&r);
}

static void test_configured(void)
{
	struct config cfg = CONFIG_INIT;
	struct collect_options o = { .service = SERVICE };

	set_config_text(&cfg, "[kubernetes]\n\tcontext = x\n[service \"cart\"]\n\tnamespace = shop\n");
	is_int(collect_kubernetes_configured(&cfg, &o), 0, "no namespace for it: not configured");
	set_config_text(&cfg, "[kubernetes]\n\tnamespace = shop\n");
	is_int(collect_kubernetes_configured(&cfg, &o), 1, "kubernetes.namespace: configured");
	set_config_text(&cfg, "[service \"checkout\"]\n\tnamespace = web\n");
	is_int(collect_kubernetes_configured(&cfg, &o), 1, "[service] namespace: configured");
	config_clear(&cfg);
}

static void test_failures(void)
{
	struct run r;
	char *file, *line;

	/* Refused: the API server's message, never the token. */
	fake_fail(&k8s, "{\"method\": \"GET\", \"path\": \"/deployments$\", \"status\": 403,"
		  " \"body\": {\"kind\": \"Status\", \"apiVersion\": \"v1\", \"metadata\": {},"
		  " \"status\": \"Failure\", \"message\": \"deployments.apps is forbidden: User "
		  "\\\"system:serviceaccount:sre:diagnose\\\" cannot list resource \\\"deployments\\\""
		  " in API group \\\"apps\\\" in the namespace \\\"shop\\\" (token " TOKEN ")\","
		  " \"reason\": \"Forbidden\", \"details\": {\"group\": \"apps\", \"kind\": \"deployments\"},"
		  " \"code\": 403}}");
	collect(&r, kubeconfig, "\tnamespace = shop\n", NULL, 20000);
	is_int(r.ret, -1, "403 on a list: -1");
	line = xstrfmt("kubernetes: %s: HTTP 403: deployments.apps is forbidden: User "
		       "\"system:serviceaccount:sre:diagnose\" cannot list resource \"deployments\" "
		       "in API group \"apps\" in the namespace \"shop\" (token <redacted>)", server);
	is_str(r.why.buf, line, "one line: the server, the status, the API server's reason");
	free(line);
	unlike(r.why.buf, TOKEN, "never the token");
	ok(!r.ev.pods && !r.ev.events && !r.ev.deployments && !r.ev.replicasets && !r.ev.logs_nr,
	   "and no evidence: all or nothing");
	is_int(fake_count(&k8s, r.mark, "GET", "/log$"), 0, "no log is asked for");
	run_clear(&r);

	/* A wrong token. */
	file = kubeconfig_for("wrong.yaml", server, ca_b64, "    token: not-" TOKEN "\n");
	collect(&r, file, "\tnamespace = shop\n", NULL, 20000);
	is_int(r.ret, -1, "a token the server refuses: -1");
	line = xstrfmt("kubernetes: %s: HTTP 401: Unauthorized", server);
	is_str(r.why.buf, line, "saying so");
	free(line);
	run_clear(&r);
	free(file);

	/* A resource the server does not serve. */
	fake_fail(&k8s, "{\"method\": \"GET\", \"path\": \"/replicasets$\", \"status\": 404,"
		  " \"body\": {\"kind\": \"Status\", \"apiVersion\": \"v1\", \"metadata\": {},"
		  " \"status\": \"Failure\", \"message\": \"the server could not find the requested"
		  " resource\", \"reason\": \"NotFound\", \"details\": {}, \"code\": 404}}");
	collect(&r, kubeconfig, "\tnamespace = shop\n", NULL, 20000);
	is_int(r.ret, -1, "404 on a list: -1");
	line = xstrfmt("kubernetes: %s: GET /apis/apps/v1/namespaces/shop/replicasets: HTTP 404: "
		       "the server could not find the requested resource", server);
	is_str(r.why.buf, line, "naming the request");
	free(line);
	run_clear(&r);

	/* Something that is not the API server. */
	fake_fail(&k8s, "{\"method\": \"GET\", \"path\": \"/events$\", \"status\": 200,"
		  " \"body\": \"<html>proxy</html>\"}");
	collect(&r, kubeconfig, "\tnamespace = shop\n", NULL, 20000);
	is_int(r.ret, -1, "an answer that is not a list: -1");
	line = xstrfmt("kubernetes: %s: GET /api/v1/namespaces/shop/events: "
		       "the answer is not an EventList", server);
	is_str(r.why.buf, line, "saying so");
	free(line);
	run_clear(&r);

	/* A failing log is no failure. */
	fake_fail(&k8s, "{\"method\": \"GET\", \"path\": \"/pods/checkout-7d9f8b6c5d-b7n2q/log$\","
		  " \"status\": 500, \"times\": 3}");
	collect(&r, kubeconfig, "\tnamespace = shop\n", NULL, 20000);
	is_int(r.ret, 0, "logs answering 500: still 0");
	ok(!log_named(&r.ev, "checkout-7d9f8b6c5d-b7n2q.app") &&
	   !log_named(&r.ev, "checkout-7d9f8b6c5d-b7n2q.envoy"), "those logs are left out");
	ok(log_named(&r.ev, "checkout-7d9f8b6c5d-x2x4p"), "the others are read");
	run_clear(&r);

	/* A bad kubeconfig. */
	collect(&r, "/nonexistent/kubeconfig", "\tnamespace = shop\n", NULL, 20000);
	is_int(r.ret, -1, "a kubeconfig that is not there: -1");
	is_str(r.why.buf, "kubernetes: cannot read the kubeconfig /nonexistent/kubeconfig: "
	       "No such file or directory", "one line naming it");
	run_clear(&r);
}

static void test_deadline(void)
{
	struct run r;

	fake_call(&k8s, "POST", "/_fake/delay", "{\"method\": \"GET\", \"path\": "
		  "\"^/api/v1/namespaces/shop/pods$\", \"seconds\": 5, \"times\": 1}", NULL);
	collect(&r, kubeconfig, "\tnamespace = shop\n", NULL, 1000);
	is_int(r.ret, -1, "an API server hanging past the deadline: -1");
	ok(r.elapsed_ms >= 900 && r.elapsed_ms < 2000, "at the deadline (%lld ms)",
	   (long long)r.elapsed_ms);
	like(r.why.buf, "kubernetes: https://127.0.0.1:", "the line names the server");
	like(r.why.buf, "cut off at the deadline: GET /api/v1/namespaces/shop/pods",
	     "and what the deadline cut off");
	ok(!r.ev.pods, "no evidence");
	run_clear(&r);
}

static void test_down(void)
{
	struct run r;

	fake_stop(&k8s);
	collect(&r, kubeconfig, "\tnamespace = shop\n", NULL, 20000);
	is_int(r.ret, -1, "the API server down: -1");
	like(r.why.buf, "kubernetes: https://127.0.0.1:", "the line names kubernetes and the server");
	ok(strstr(r.why.buf, "onnect") && !strchr(r.why.buf, '\n'),
	   "and that it could not connect, on one line");
	run_clear(&r);
}

int main(void)
{
	if (!fake_begin())
		return 0;
	if (!have_program("openssl")) {
		printf("1..0 # SKIP no openssl\n");
		return 0;
	}
	if (test_begin("collect-kubernetes") < 0)
		return 1;
	unsetenv("KUBECONFIG");
	if (make_server_pki() < 0 ||
	    fake_start(&k8s, "kubernetes", "k8s", "--cert", server_crt, "--key", server_key,
		       "--token", TOKEN, NULL) < 0) {
		ok(0, "the fake API server starts, with its certificate");
		goto out;
	}
	server = xstrfmt("https://%s", k8s.url + strlen("http://"));
	kubeconfig = kubeconfig_for("fake.yaml", server, ca_b64, "    token: " TOKEN "\n");
	set_fake_data(&k8s, cluster);

	test_configured();
	test_selection();
	test_service_keys();
	test_failures();
	test_deadline();
	test_down();
out:
	fake_stop(&k8s);
	free(kubeconfig);
	free(server);
	free_server_pki();
	return test_end();
}
