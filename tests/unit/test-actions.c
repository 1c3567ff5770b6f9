/*
 * test-actions.c: unit tests of lib/actions.c, the direct actions of
 * `sre fix`, and of the runtimes it hands them to (lib/runtime.h:
 * lib/runtime-docker.c, runtime-kubernetes.c, runtime-process.c),
 * printing TAP.
 *
 * Kubernetes actions run against tests/fakes/kubernetes.py over HTTPS
 * (a throwaway CA, kube-test.h), Docker's against tests/fakes/docker.py
 * on a UNIX socket, and a process restart against a real process: a
 * start script that leaves `sleep 30` running and writes its pid, a stop
 * script that kills it. Each action goes prepare, check (0: the record
 * is judged not done, which is what a run cut off before it acted rests
 * on), run, check (1). The tests read what the fakes received (method,
 * path, Content-Type, body), what they hold afterwards, and every error
 * line; nothing printed and no error carries the token.
 */
#include <signal.h>
#include <sys/stat.h>

#include "../../lib/json.h"
#include "../../lib/fix.h"
#include "../../lib/runtime.h"
#include "kube-test.h"

#define TOKEN "k8s-token-5e1d9c2b7a"
#define NOW "2026-11-24T05:07:00Z"
/* Docker ids are one hex digit repeated, so that a test can tell them in the log. */
#define ID(d) d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d \
	      d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d

static struct fake k8s, docker;
static char *server, *kubeconfig, *sock;
static struct config cfg = CONFIG_INIT;
static struct strbuf out = STRBUF_INIT;     /* what the last step appended */
static struct strbuf printed = STRBUF_INIT; /* everything lib/ printed on stderr */

/*
 * Revision 4 runs app 1.5 and an envoy sidecar; revision 3 ran app 1.4
 * alone, revision 2 app 1.3. Another Deployment's ReplicaSets carry
 * revisions 2 and 3 too, and must never be picked.
 */
static const char *const cluster =
	"{\"shop\": {"
	" \"deployments\": ["
	"  {\"name\": \"checkout\", \"replicas\": 2, \"revision\": 4,"
	"   \"containers\": [{\"name\": \"app\", \"image\": \"shop/checkout:1.5\"},"
	"                    {\"name\": \"envoy\", \"image\": \"envoyproxy/envoy:v1.31.0\"}]},"
	"  {\"name\": \"checkout-old\", \"replicas\": 1, \"revision\": 3},"
	"  {\"name\": \"cart\", \"replicas\": 1}],"
	" \"replicasets\": ["
	"  {\"name\": \"checkout-7d9f8b6c5d\", \"owner\": \"Deployment/checkout\", \"revision\": 4,"
	"   \"replicas\": 2},"
	"  {\"name\": \"checkout-6c8e7a5b4d\", \"owner\": \"Deployment/checkout\", \"revision\": 3,"
	"   \"replicas\": 0, \"containers\": [{\"name\": \"app\", \"image\": \"shop/checkout:1.4\","
	"                                      \"limits\": {\"memory\": \"256Mi\"}}]},"
	"  {\"name\": \"checkout-old-5f6d7c8b9a\", \"owner\": \"Deployment/checkout-old\","
	"   \"revision\": 2, \"containers\": [{\"name\": \"app\", \"image\": \"other/old:9\"}]},"
	"  {\"name\": \"checkout-5b4c3d2e1f\", \"owner\": \"Deployment/checkout\", \"revision\": 2,"
	"   \"replicas\": 0, \"containers\": [{\"name\": \"app\", \"image\": \"shop/checkout:1.3\"}]},"
	"  {\"name\": \"cart-5b7c9d8f6\", \"owner\": \"Deployment/cart\", \"revision\": 1}]}}";

#define CONTAINERS "[" \
	"{\"id\": \"" ID("1") "\", \"name\": \"web\", \"restart_count\": 2}," \
	"{\"id\": \"" ID("2") "\", \"name\": \"db\"," \
	" \"restart_error\": \"driver failed programming external connectivity\"}," \
	"{\"id\": \"" ID("3") "\", \"name\": \"batch\", \"state\": \"exited\", \"exit_code\": 1}," \
	"{\"id\": \"" ID("4") "\", \"name\": \"hog\", \"state\": \"exited\", \"exit_code\": 137," \
	" \"oom_killed\": true, \"memory\": 16777216, \"memory_swap\": 33554432}]"

/* ---- running a step ---- */

enum step { PREPARE, RUN, CHECK };

/*
 * One step of action a on t, as cmd/fix.c makes it: a client set up from
 * cfg, params (JSON text, NULL: {}) for prepare, record filled by prepare
 * and read by run and check. Its return; what it appended is in out, what
 * it printed is added to printed.
 */
static int step(enum step s, const struct fix_target *t, enum mitigation_action a,
		const char *params, cJSON *record)
{
	struct http_client http;
	cJSON *p = cJSON_Parse(params ? params : "{}");
	int r = -2;

	strbuf_reset(&out);
	if (http_client_init(&http, &cfg) < 0) {
		printf("# http_client_init failed\n");
		cJSON_Delete(p);
		return r;
	}
	capture_start();
	if (s == PREPARE)
		r = action_prepare(&http, &cfg, t, a, p, record, &out);
	else if (s == RUN)
		r = action_run(&http, &cfg, t, a, record, &out);
	else
		r = action_check(&http, &cfg, t, a, record, &out);
	strbuf_addstr(&printed, capture_end());
	http_client_release(&http);
	cJSON_Delete(p);
	return r;
}

static void set_config(const char *kubeconfig_path)
{
	char *text = xstrfmt("[http]\n\tretries = 0\n\tconnect-timeout = 2s\n\ttimeout = 10s\n"
			     "[kubernetes]\n\tkubeconfig = %s\n\tnamespace = shop\n"
			     "[docker]\n\thost = unix://%s\n", kubeconfig_path, sock);

	set_config_text(&cfg, text);
	free(text);
}

static void target_init(struct fix_target *t, enum fix_runtime runtime)
{
	memset(t, 0, sizeof(*t));
	strvec_init(&t->start);
	strvec_init(&t->stop);
	t->service = xstrdup("checkout");
	t->runtime = runtime;
	t->container = xstrdup("web");
	t->namespace = xstrdup("shop");
	t->deployment = xstrdup("checkout");
}

static void target_release(struct fix_target *t)
{
	free(t->service);
	free(t->container);
	free(t->namespace);
	free(t->deployment);
	free(t->pidfile);
	free(t->manifest);
	strvec_clear(&t->start);
	strvec_clear(&t->stop);
	memset(t, 0, sizeof(*t));
}

static void set_string(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

/* ---- reading what happened ---- */

static const char *record_str(const cJSON *record, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(record, key));
}

static double record_num(const cJSON *record, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(record, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Is the body of request the JSON text want? Shows both when not. */
static int body_is(const cJSON *request, const char *want)
{
	cJSON *got = fake_body(request), *w = cJSON_Parse(want);
	int same = got && w && cJSON_Compare(got, w, 1);

	if (!same) {
		const char *raw = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(request,
											  "body"));

		printf("# body: %s\n# want: %s\n", raw ? raw : "(none)", want);
	}
	cJSON_Delete(got);
	cJSON_Delete(w);
	return same;
}

/* The compact Deployment name as the Kubernetes fake holds it now; the caller deletes it. */
static cJSON *fake_deployment(const char *name)
{
	cJSON *state = NULL, *d, *found = NULL;

	fake_call(&k8s, "GET", "/_fake/state", NULL, &state);
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(state, "shop"), "deployments")) {
		if (!strcmp(record_str(d, "name"), name))
			found = cJSON_Duplicate(d, 1);
	}
	cJSON_Delete(state);
	return found;
}

/* The images of a template's containers, "a b"; the caller frees. */
static char *images_of(const cJSON *template)
{
	struct strbuf sb = STRBUF_INIT;
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(template, "spec"), "containers"))
		strbuf_addf(&sb, "%s%s", sb.len ? " " : "", record_str(c, "image"));
	return strbuf_detach(&sb, NULL);
}

/* ---- the table of runtimes ---- */

static int complete(const struct runtime_action *a)
{
	return a && a->prepare && a->run && a->check;
}

static void test_runtime_table(void)
{
	static const enum fix_runtime runtimes[] = { RUNTIME_DOCKER, RUNTIME_KUBERNETES,
						     RUNTIME_PROCESS };

	ok(!runtime_ops_of(RUNTIME_NONE), "no runtime set: no operations");
	for (size_t i = 0; i < ARRAY_SIZE(runtimes); i++) {
		const struct runtime_ops *ops = runtime_ops_of(runtimes[i]);
		const char *name = fix_runtime_name(runtimes[i]);

		if (!ok(ops, "%s: has its operations", name))
			continue;
		is_str(ops->name, name, "%s: named as [service] runtime says it", name);
		ok(complete(ops->restart), "%s: restart has its three steps", name);
		ok(runtimes[i] == RUNTIME_DOCKER ? complete(ops->increase_memory) : !ops->increase_memory,
		   "%s: more memory is the Engine's update on docker, else a pull request", name);
		/* sre chaos: inject reads and acts; revert works from the record alone, and checks. */
		ok(ops->inject && ops->inject->prepare && ops->inject->run && ops->revert &&
		   !ops->revert->prepare && ops->revert->run && ops->revert->check,
		   "%s: chaos's inject prepares and runs, its revert runs and checks from the record", name);
	}
	ok(complete(runtime_ops_of(RUNTIME_KUBERNETES)->scale) &&
	   complete(runtime_ops_of(RUNTIME_KUBERNETES)->rollback),
	   "kubernetes: scale and rollback have their three steps");
	ok(!runtime_ops_of(RUNTIME_DOCKER)->scale && !runtime_ops_of(RUNTIME_PROCESS)->rollback,
	   "docker cannot scale, a process cannot roll back");
}

/* ---- what no runtime can do ---- */

static void test_not_direct(void)
{
	static const struct {
		enum fix_runtime runtime;
		enum mitigation_action action;
		const char *why;
	} cases[] = {
		{ RUNTIME_PROCESS, ACTION_scale, "scale: the process runtime cannot scale" },
		{ RUNTIME_PROCESS, ACTION_rollback, "rollback: the process runtime cannot roll back" },
		{ RUNTIME_DOCKER, ACTION_scale, "scale: the docker runtime cannot scale" },
		{ RUNTIME_DOCKER, ACTION_rollback, "rollback: the docker runtime cannot roll back" },
		{ RUNTIME_NONE, ACTION_restart, "restart: service.checkout.runtime is not set" },
		{ RUNTIME_KUBERNETES, ACTION_increase_memory,
		  "increase-memory: the kubernetes runtime cannot raise a memory limit" },
		{ RUNTIME_DOCKER, ACTION_escalate,
		  "escalate: not a direct action (restart, scale, rollback or increase-memory)" },
	};
	int k = fake_log_mark(&k8s), d = fake_log_mark(&docker);

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fix_target t;
		cJSON *record = cJSON_CreateObject();

		target_init(&t, cases[i].runtime);
		is_int(step(PREPARE, &t, cases[i].action, NULL, record), -1, "%s: prepare refuses",
		       cases[i].why);
		is_str(out.buf, cases[i].why, "saying why");
		is_int(cJSON_GetArraySize(record), 0, "and records nothing");
		is_int(step(RUN, &t, cases[i].action, NULL, record), -1, "run refuses too");
		is_str(out.buf, cases[i].why, "the same way");
		is_int(step(CHECK, &t, cases[i].action, NULL, record), -1, "and check cannot tell");
		cJSON_Delete(record);
		target_release(&t);
	}
	is_int(fake_log_mark(&k8s) - k + fake_log_mark(&docker) - d, 0,
	       "no request is made for any of them");
}

/* ---- Kubernetes ---- */

static void test_kube_restart(void)
{
	struct fix_target t;
	cJSON *record = cJSON_CreateObject(), *req, *d;
	int mark;

	set_fake_data(&k8s, cluster);
	target_init(&t, RUNTIME_KUBERNETES);
	mark = fake_log_mark(&k8s);
	is_int(step(PREPARE, &t, ACTION_restart, NULL, record), 0, "kubernetes restart: prepared");
	is_str(out.buf, "", "saying nothing");
	is_str(record_str(record, "restarted_at"), NOW, "the record: the restartedAt value to set");
	is_int(record_num(record, "generation"), 4, "the Deployment's generation before");
	is_str(record_str(record, "namespace"), "shop", "its namespace");
	is_str(record_str(record, "deployment"), "checkout", "and name");
	is_int(fake_count(&k8s, mark, "GET", "^/apis/apps/v1/namespaces/shop/deployments/checkout$"),
	       1, "prepare read the Deployment");
	is_int(fake_count(&k8s, mark, "PATCH", NULL), 0, "and changed nothing");

	is_int(step(CHECK, &t, ACTION_restart, NULL, record), 0,
	       "check before run: not done (a run cut off here restarts)");
	is_str(out.buf, "deployment shop/checkout has kubectl.kubernetes.io/restartedAt (none), "
	       "not " NOW, "saying what it found");

	mark = fake_log_mark(&k8s);
	is_int(step(RUN, &t, ACTION_restart, NULL, record), 0, "run: 0");
	is_str(out.buf, "deployment shop/checkout restarted (kubectl.kubernetes.io/restartedAt "
	       NOW ", generation 5)", "saying what it did");
	is_int(fake_count(&k8s, mark, NULL, NULL), 1, "one request");
	req = fake_last(&k8s, mark, "PATCH", "^/apis/apps/v1/namespaces/shop/deployments/checkout$");
	ok(req, "a PATCH of the Deployment");
	is_str(fake_header(req, "content-type"), "application/strategic-merge-patch+json",
	       "a strategic merge patch, as kubectl rollout restart");
	ok(body_is(req, "{\"spec\": {\"template\": {\"metadata\": {\"annotations\": "
		   "{\"kubectl.kubernetes.io/restartedAt\": \"" NOW "\"}}}}}"),
	   "of the template's restartedAt annotation alone");
	is_str(fake_header(req, "authorization"), "Bearer " TOKEN, "with the kubeconfig's token");
	cJSON_Delete(req);

	d = fake_deployment("checkout");
	is_int(record_num(d, "generation"), 5, "the API server made a new generation");
	{
		char *images = images_of(cJSON_GetObjectItemCaseSensitive(d, "template"));

		is_str(images, "shop/checkout:1.5 envoyproxy/envoy:v1.31.0",
		       "the containers are merged, not replaced");
		free(images);
	}
	cJSON_Delete(d);

	is_int(step(CHECK, &t, ACTION_restart, NULL, record), 1, "check after run: done");
	is_str(out.buf, "deployment shop/checkout has kubectl.kubernetes.io/restartedAt " NOW,
	       "saying so");

	/* The same second again: the patch would change nothing. */
	cJSON_Delete(record);
	record = cJSON_CreateObject();
	is_int(step(PREPARE, &t, ACTION_restart, NULL, record), -1,
	       "a second restart within the second: refused");
	is_str(out.buf, "restart: deployment shop/checkout was restarted at " NOW
	       " already: try again in a second", "saying why");

	/* A record of another restart is judged by its own value. */
	cJSON_AddStringToObject(record, "restarted_at", "2026-11-24T05:06:00Z");
	is_int(step(CHECK, &t, ACTION_restart, NULL, record), 0, "another value: not done");
	cJSON_Delete(record);
	target_release(&t);
}

static void test_kube_scale(void)
{
	struct fix_target t;
	cJSON *record = cJSON_CreateObject(), *req, *d;
	int mark;

	set_fake_data(&k8s, cluster);
	target_init(&t, RUNTIME_KUBERNETES);
	t.max_replicas = 5;
	mark = fake_log_mark(&k8s);
	is_int(step(PREPARE, &t, ACTION_scale, NULL, record), 0, "scale: prepared");
	is_int(record_num(record, "replicas"), 3, "by default one more replica than the 2 asked for");
	is_int(record_num(record, "from"), 2, "the count before is recorded");
	is_int(fake_count(&k8s, mark, "GET", "^/apis/apps/v1/namespaces/shop/deployments/checkout/scale$"),
	       1, "read from the scale subresource");
	is_int(step(CHECK, &t, ACTION_scale, NULL, record), 0, "check before run: not done");
	is_str(out.buf, "deployment shop/checkout asks for 2 replicas, fewer than recorded",
	       "saying what it found");

	mark = fake_log_mark(&k8s);
	is_int(step(RUN, &t, ACTION_scale, NULL, record), 0, "run: 0");
	is_str(out.buf, "deployment shop/checkout scaled from 2 to 3 replicas", "saying so");
	req = fake_last(&k8s, mark, "PATCH",
			"^/apis/apps/v1/namespaces/shop/deployments/checkout/scale$");
	ok(req, "a PATCH of the scale subresource");
	is_str(fake_header(req, "content-type"), "application/merge-patch+json",
	       "a merge patch, as kubectl scale");
	ok(body_is(req, "{\"spec\": {\"replicas\": 3}}"), "of spec.replicas alone");
	cJSON_Delete(req);
	d = fake_deployment("checkout");
	is_int(record_num(d, "replicas"), 3, "the Deployment asks for 3");
	is_int(record_num(d, "generation"), 5, "in a new generation");
	cJSON_Delete(d);
	is_int(step(CHECK, &t, ACTION_scale, NULL, record), 1, "check after run: done");

	/* The bounds. */
	cJSON_Delete(record);
	record = cJSON_CreateObject();
	mark = fake_log_mark(&k8s);
	is_int(step(PREPARE, &t, ACTION_scale, "{\"replicas\": 6}", record), -1,
	       "6 replicas with max-replicas 5: refused");
	is_str(out.buf, "scale: 6 replicas is past service.checkout.max-replicas (5)", "saying why");
	is_int(cJSON_GetArraySize(record), 0, "nothing recorded");
	is_int(step(PREPARE, &t, ACTION_scale, "{\"replicas\": 0}", record), -1, "0: refused");
	is_str(out.buf, "scale: 0 replicas is below 1", "saying why");
	is_int(step(PREPARE, &t, ACTION_scale, "{\"replicas\": 2.5}", record), -1,
	       "a fraction: refused");
	is_str(out.buf, "scale: the replicas asked for are not a whole number", "saying why");
	is_int(step(PREPARE, &t, ACTION_scale, "{\"replicas\": 1e300}", record), -1,
	       "a number past any count: refused");
	is_str(out.buf, "scale: the replicas asked for are not a whole number", "saying why");
	is_int(fake_count(&k8s, mark, "PATCH", NULL), 0, "none of them changed anything");
	is_int(step(PREPARE, &t, ACTION_scale, "{\"replicas\": 5}", record), 0,
	       "max-replicas itself is allowed");
	is_int(record_num(record, "replicas"), 5, "5 recorded");
	cJSON_Delete(record);
	record = cJSON_CreateObject();
	is_int(step(PREPARE, &t, ACTION_scale, "{\"replicas\": \"4\"}", record), 0,
	       "a count written as a string is read");
	is_int(record_num(record, "replicas"), 4, "4 recorded");

	t.max_replicas = 3;
	cJSON_Delete(record);
	record = cJSON_CreateObject();
	is_int(step(PREPARE, &t, ACTION_scale, NULL, record), -1,
	       "one more than 3 with max-replicas 3: refused");
	is_str(out.buf, "scale: 4 replicas is past service.checkout.max-replicas (3)", "saying why");
	t.max_replicas = 0;
	is_int(step(PREPARE, &t, ACTION_scale, "{\"replicas\": 40}", record), 0,
	       "max-replicas unset: no bound");
	cJSON_Delete(record);
	target_release(&t);
}

/* Roll checkout back with params; check the record, the request and the result. */
static void rollback(const char *params, int revision, const char *images, const char *what)
{
	struct fix_target t;
	cJSON *record = cJSON_CreateObject(), *req, *d, *template, *labels, *want;
	char *s;
	int mark;

	set_fake_data(&k8s, cluster);
	target_init(&t, RUNTIME_KUBERNETES);
	mark = fake_log_mark(&k8s);
	is_int(step(PREPARE, &t, ACTION_rollback, params, record), 0, "%s: prepared", what);
	is_int(record_num(record, "revision"), revision, "revision %d chosen", revision);
	is_int(record_num(record, "from_revision"), 4, "from revision 4");
	template = cJSON_GetObjectItemCaseSensitive(record, "template");
	s = images_of(template);
	is_str(s, images, "its template recorded");
	free(s);
	labels = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(template,
										    "metadata"),
						  "labels");
	ok(labels && !cJSON_GetObjectItemCaseSensitive(labels, "pod-template-hash") &&
	   !strcmp(record_str(labels, "app"), "checkout"),
	   "without the ReplicaSet's pod-template-hash label, with the others");
	is_int(fake_count(&k8s, mark, "GET", "^/apis/apps/v1/namespaces/shop/replicasets$"), 1,
	       "the ReplicaSets were listed");
	is_int(step(CHECK, &t, ACTION_rollback, NULL, record), 0, "check before run: not done");

	mark = fake_log_mark(&k8s);
	is_int(step(RUN, &t, ACTION_rollback, NULL, record), 0, "run: 0");
	s = xstrfmt("deployment shop/checkout rolled back to revision %d (%s)", revision, images);
	is_str(out.buf, s, "saying so, with the images");
	free(s);
	req = fake_last(&k8s, mark, "PATCH", "^/apis/apps/v1/namespaces/shop/deployments/checkout$");
	ok(req, "a PATCH of the Deployment");
	is_str(fake_header(req, "content-type"), "application/json-patch+json",
	       "a JSON patch, as kubectl rollout undo");
	want = cJSON_CreateArray();
	{
		cJSON *op = cJSON_CreateObject();

		cJSON_AddStringToObject(op, "op", "replace");
		cJSON_AddStringToObject(op, "path", "/spec/template");
		cJSON_AddItemToObject(op, "value", cJSON_Duplicate(template, 1));
		cJSON_AddItemToArray(want, op);
	}
	s = cJSON_PrintUnformatted(want);
	ok(body_is(req, s), "replacing spec.template with the recorded one");
	free(s);
	cJSON_Delete(want);
	cJSON_Delete(req);

	d = fake_deployment("checkout");
	s = images_of(cJSON_GetObjectItemCaseSensitive(d, "template"));
	is_str(s, images, "the Deployment runs those images alone: the sidecar added later is gone");
	free(s);
	cJSON_Delete(d);
	is_int(step(CHECK, &t, ACTION_rollback, NULL, record), 1, "check after run: done");
	cJSON_Delete(record);
	target_release(&t);
}

static void test_kube_rollback(void)
{
	struct fix_target t;
	cJSON *record = cJSON_CreateObject();

	rollback(NULL, 3, "shop/checkout:1.4", "rollback to the previous revision");
	rollback("{\"revision\": 2}", 2, "shop/checkout:1.3", "rollback to revision 2");
	rollback("{\"revision\": \"3\"}", 3, "shop/checkout:1.4", "a revision written as a string");

	set_fake_data(&k8s, cluster);
	target_init(&t, RUNTIME_KUBERNETES);
	is_int(step(PREPARE, &t, ACTION_rollback, "{\"revision\": 7}", record), -1,
	       "a revision that is not there: refused");
	is_str(out.buf, "rollback: deployment shop/checkout has no revision 7", "saying so");
	is_int(step(PREPARE, &t, ACTION_rollback, "{\"revision\": 4}", record), -1,
	       "the current revision: refused");
	is_str(out.buf, "rollback: deployment shop/checkout runs revision 4 already", "saying so");
	is_int(step(PREPARE, &t, ACTION_rollback, "{\"revision\": \"x\"}", record), -1,
	       "a revision that is not a number: refused");
	is_str(out.buf, "rollback: the revision asked for is not a revision number", "saying so");
	set_string(&t.deployment, "cart");
	is_int(step(PREPARE, &t, ACTION_rollback, NULL, record), -1,
	       "a Deployment of one revision: refused");
	is_str(out.buf, "rollback: deployment shop/cart has no revision before 1", "saying so");
	is_int(cJSON_GetArraySize(record), 0, "nothing recorded by any");
	cJSON_Delete(record);
	target_release(&t);
}

static void test_kube_failures(void)
{
	static const enum mitigation_action actions[] = { ACTION_restart, ACTION_scale,
							  ACTION_rollback };
	struct fix_target t;
	cJSON *record = cJSON_CreateObject();
	char *file;
	int mark;

	set_fake_data(&k8s, cluster);
	target_init(&t, RUNTIME_KUBERNETES);
	set_string(&t.deployment, "nope");
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
		is_int(step(PREPARE, &t, actions[i], NULL, record), -1, "%s of a Deployment that "
		       "is not there: -1", mitigation_action_name(actions[i]));
		is_str(out.buf, "kubernetes: deployment shop/nope: HTTP 404: deployments.apps "
		       "\"nope\" not found", "the system, the object, the API server's message");
	}
	cJSON_AddStringToObject(record, "restarted_at", NOW);
	is_int(step(CHECK, &t, ACTION_restart, NULL, record), -1, "check cannot tell either");
	is_str(out.buf, "kubernetes: deployment shop/nope: HTTP 404: deployments.apps "
	       "\"nope\" not found", "saying why");
	cJSON_Delete(record);

	/* Refused, with the token in the API server's message: redacted. */
	set_string(&t.deployment, "checkout");
	record = cJSON_CreateObject();
	is_int(step(PREPARE, &t, ACTION_scale, NULL, record), 0, "scale prepared");
	fake_fail(&k8s, "{\"method\": \"PATCH\", \"path\": \"/scale$\", \"status\": 403, \"body\":"
		  " {\"kind\": \"Status\", \"apiVersion\": \"v1\", \"metadata\": {}, \"status\":"
		  " \"Failure\", \"message\": \"deployments.apps \\\"checkout\\\" is forbidden: User"
		  " \\\"system:serviceaccount:sre:fix\\\" cannot patch resource"
		  " \\\"deployments/scale\\\" in API group \\\"apps\\\" in the namespace"
		  " \\\"shop\\\" (token " TOKEN ")\", \"reason\": \"Forbidden\", \"code\": 403}}");
	mark = fake_log_mark(&k8s);
	is_int(step(RUN, &t, ACTION_scale, NULL, record), -1, "a 403 on the patch: -1");
	is_str(out.buf, "kubernetes: deployment shop/checkout: HTTP 403: deployments.apps "
	       "\"checkout\" is forbidden: User \"system:serviceaccount:sre:fix\" cannot patch "
	       "resource \"deployments/scale\" in API group \"apps\" in the namespace \"shop\" "
	       "(token <redacted>)", "the API server's reason, the token redacted");
	unlike(out.buf, TOKEN, "never the token");
	is_int(fake_count(&k8s, mark, "PATCH", NULL), 1, "a refusal is not retried");

	/* Something that is not the API server answers. */
	fake_fail(&k8s, "{\"method\": \"GET\", \"path\": \"/deployments/checkout$\", \"status\": 200,"
		  " \"body\": \"<html>proxy</html>\"}");
	is_int(step(CHECK, &t, ACTION_scale, NULL, record), 0, "check reads the scale: not done");
	is_int(step(PREPARE, &t, ACTION_restart, NULL, record), -1, "an answer that is no "
	       "Deployment: -1");
	is_str(out.buf, "kubernetes: deployment shop/checkout: the answer is not a Deployment",
	       "saying so");
	cJSON_Delete(record);

	/* A Deployment gone between prepare and run. */
	record = cJSON_CreateObject();
	is_int(step(PREPARE, &t, ACTION_restart, NULL, record), 0, "restart prepared");
	set_fake_data(&k8s, "{\"shop\": {}}");
	is_int(step(RUN, &t, ACTION_restart, NULL, record), -1, "then the Deployment is gone: -1");
	is_str(out.buf, "kubernetes: deployment shop/checkout: HTTP 404: deployments.apps "
	       "\"checkout\" not found", "saying so");
	cJSON_Delete(record);

	/* A token the server refuses. */
	file = kubeconfig_for("wrong.yaml", server, ca_b64, "    token: not-" TOKEN "\n");
	set_config(file);
	record = cJSON_CreateObject();
	is_int(step(PREPARE, &t, ACTION_scale, NULL, record), -1, "a token refused: -1");
	is_str(out.buf, "kubernetes: deployment shop/checkout: HTTP 401: Unauthorized", "saying so");
	unlike(out.buf, "not-" TOKEN, "never that token either");
	free(file);

	/* No kubeconfig. */
	set_config("/nonexistent/kubeconfig");
	is_int(step(PREPARE, &t, ACTION_restart, NULL, record), -1, "no kubeconfig: -1");
	is_str(out.buf, "kubernetes: cannot read the kubeconfig /nonexistent/kubeconfig: "
	       "No such file or directory", "naming it");
	set_config(kubeconfig);
	cJSON_Delete(record);
	target_release(&t);
}

/* ---- Docker ---- */

/* A request of the test's own to the fake Engine: the status; *out its body parsed. */
static long docker_call(const char *method, const char *path, cJSON **answer)
{
	struct http_client own;
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	char *url = xstrfmt("http://localhost%s", path);
	long status;

	http_client_init(&own, NULL);
	own.retries = 0;
	req.method = method;
	req.url = url;
	req.unix_socket = sock;
	req.no_retry = 1;
	http_do(&own, &req, &res);
	status = res.status;
	if (answer)
		*answer = cJSON_ParseWithLength(res.body.buf, res.body.len);
	http_response_release(&res);
	http_request_release(&req);
	http_client_release(&own);
	free(url);
	return status;
}

static void test_docker_restart(void)
{
	struct fix_target t;
	cJSON *record = cJSON_CreateObject(), *req, *inspect = NULL;
	const char *before;
	char *query, *line;
	int mark;

	target_init(&t, RUNTIME_DOCKER);
	mark = fake_log_mark(&docker);
	is_int(step(PREPARE, &t, ACTION_restart, NULL, record), 0, "docker restart: prepared");
	is_str(out.buf, "", "saying nothing");
	is_str(record_str(record, "id"), ID("1"), "the container's id recorded");
	is_str(record_str(record, "container"), "web", "its name");
	before = record_str(record, "started_at");
	ok(before && strlen(before) > 20 && before[4] == '-', "and State.StartedAt before (%s)",
	   before ? before : "none");
	is_int(fake_count(&docker, mark, "GET", "^/v1\\.47/containers/web/json$"), 1,
	       "found by its name");
	is_int(fake_count(&docker, mark, "POST", NULL), 0, "nothing changed");

	is_int(step(CHECK, &t, ACTION_restart, NULL, record), 0, "check before run: not done");
	line = xstrfmt("container web started at %s, as before", before);
	is_str(out.buf, line, "saying so");
	free(line);

	mark = fake_log_mark(&docker);
	is_int(step(RUN, &t, ACTION_restart, NULL, record), 0, "run: 0");
	is_str(out.buf, "container web restarted", "saying so");
	is_int(fake_count(&docker, mark, NULL, NULL), 2, "one request, after the one GET /_ping");
	req = fake_last(&docker, mark, "POST", "^/v1\\.47/containers/" ID("1") "/restart$");
	ok(req, "POST /containers/<id>/restart, by the recorded id");
	query = request_param(req, "t");
	is_str(query, "10", "giving it 10 s to stop");
	free(query);
	cJSON_Delete(req);

	is_int(step(CHECK, &t, ACTION_restart, NULL, record), 1, "check after run: done");
	like(out.buf, "container web restarted at ", "saying when");
	is_int(docker_call("GET", "/containers/web/json", &inspect), 200, "inspected");
	is_int(json_int(inspect, "RestartCount"), 2,
	       "RestartCount unchanged: it counts the restart policy's");
	ok(json_bool(cJSON_GetObjectItemCaseSensitive(inspect, "State"), "Running"),
	   "running");
	cJSON_Delete(inspect);
	cJSON_Delete(record);

	/* An exited container is started by a restart too. */
	set_string(&t.container, "batch");
	record = cJSON_CreateObject();
	is_int(step(PREPARE, &t, ACTION_restart, NULL, record), 0, "an exited container: prepared");
	is_int(step(CHECK, &t, ACTION_restart, NULL, record), 0, "not done");
	is_int(step(RUN, &t, ACTION_restart, NULL, record), 0, "restarted");
	is_int(step(CHECK, &t, ACTION_restart, NULL, record), 1, "done: it runs, started later");
	cJSON_Delete(record);

	/* No such container. */
	set_string(&t.container, "ghost");
	record = cJSON_CreateObject();
	is_int(step(PREPARE, &t, ACTION_restart, NULL, record), -1, "no such container: -1");
	is_str(out.buf, "docker: no container ghost", "saying so");
	cJSON_AddStringToObject(record, "container", "ghost");
	cJSON_AddStringToObject(record, "id", ID("9"));
	is_int(step(RUN, &t, ACTION_restart, NULL, record), -1, "a container gone before run: -1");
	is_str(out.buf, "docker: no container ghost", "saying so");
	is_int(step(CHECK, &t, ACTION_restart, NULL, record), -1, "check cannot tell");
	is_str(out.buf, "docker: no container ghost", "saying why");
	cJSON_Delete(record);

	/* The Engine fails the restart. */
	set_string(&t.container, "db");
	record = cJSON_CreateObject();
	is_int(step(PREPARE, &t, ACTION_restart, NULL, record), 0, "db: prepared");
	mark = fake_log_mark(&docker);
	is_int(step(RUN, &t, ACTION_restart, NULL, record), -1, "the Engine cannot restart it: -1");
	line = xstrfmt("docker: unix://%s: restarting db: HTTP 500: Cannot restart container "
		       ID("2") ": driver failed programming external connectivity", sock);
	is_str(out.buf, line, "the Engine's message");
	free(line);
	is_int(fake_count(&docker, mark, "POST", NULL), 1, "a restart is never repeated blindly");
	is_int(step(CHECK, &t, ACTION_restart, NULL, record), 0, "check: not done");
	cJSON_Delete(record);

	set_string(&t.container, "web");
	record = cJSON_CreateObject();
	is_int(step(PREPARE, &t, ACTION_restart, NULL, record), 0, "web: prepared");
	{
		/* A failure queued for the restart (POST /_fake/fail over the socket). */
		struct http_client own;
		struct http_request r = HTTP_REQUEST_INIT;
		struct http_response res = HTTP_RESPONSE_INIT;
		const char *body = "{\"method\": \"POST\", \"path\": \"/restart$\", \"status\": 409,"
				   " \"body\": {\"message\": \"container is marked for removal\"}}";

		http_client_init(&own, NULL);
		r.method = "POST";
		r.url = "http://localhost/_fake/fail";
		r.unix_socket = sock;
		r.no_retry = 1;
		r.body = body;
		r.body_len = strlen(body);
		http_do(&own, &r, &res);
		is_int(res.status, 201, "a failure queued on the fake Engine");
		http_response_release(&res);
		http_request_release(&r);
		http_client_release(&own);
	}
	is_int(step(RUN, &t, ACTION_restart, NULL, record), -1, "a 409: -1");
	line = xstrfmt("docker: unix://%s: restarting web: HTTP 409: container is marked for "
		       "removal", sock);
	is_str(out.buf, line, "the Engine's message");
	free(line);
	cJSON_Delete(record);
	target_release(&t);
}

/* The config, with service.checkout.max-memory = max (NULL: unset). */
static void set_max_memory(const char *max)
{
	char *text = xstrfmt("[http]\n\tretries = 0\n\tconnect-timeout = 2s\n\ttimeout = 10s\n"
			     "[docker]\n\thost = unix://%s\n[service \"checkout\"]\n\truntime = docker\n"
			     "%s%s%s", sock, max ? "\tmax-memory = " : "", max ? max : "",
			     max ? "\n" : "");

	set_config_text(&cfg, text);
	free(text);
}

static void test_docker_memory(void)
{
	struct fix_target t;
	cJSON *record = cJSON_CreateObject(), *req, *body, *inspect = NULL;
	int mark;

	target_init(&t, RUNTIME_DOCKER);
	free(t.container);
	t.container = xstrdup("hog");

	set_max_memory(NULL);
	is_int(step(PREPARE, &t, ACTION_increase_memory, NULL, record), -1,
	       "increase-memory without max-memory: -1");
	is_str(out.buf, "increase-memory needs service.checkout.max-memory, the most memory sre "
	       "may give hog", "saying what it needs");
	is_int(cJSON_GetArraySize(record), 0, "and recording nothing");
	set_max_memory("lots");
	is_int(step(PREPARE, &t, ACTION_increase_memory, NULL, record), -1, "a bad max-memory: -1");
	is_str(out.buf, "service.checkout.max-memory is \"lots\": want a size such as 512Mi or 2Gi",
	       "saying so");

	set_max_memory("64Mi");
	mark = fake_log_mark(&docker);
	is_int(step(PREPARE, &t, ACTION_increase_memory, NULL, record), 0, "prepared");
	is_int(json_int(record, "from"), 16777216, "the limit now recorded");
	is_int(json_int(record, "memory"), 25165824, "and the one to set: times fix.memory-step");
	is_int(json_int(record, "memory_swap"), 41943040, "the swap allowance kept");
	is_str(json_string(record, "id"), ID("4"), "the container's id");
	is_int(fake_count(&docker, mark, "POST", NULL), 0, "nothing changed");
	is_int(step(CHECK, &t, ACTION_increase_memory, NULL, record), 0, "check before run: not done");
	is_str(out.buf, "container hog has a memory limit of 16Mi, not 24Mi", "saying so");

	mark = fake_log_mark(&docker);
	is_int(step(RUN, &t, ACTION_increase_memory, NULL, record), 0, "run: 0");
	is_str(out.buf, "memory limit of hog raised from 16Mi to 24Mi; container hog restarted",
	       "raised, and the container, down, started under it");
	req = fake_last(&docker, mark, "POST", "^/v1\\.47/containers/" ID("4") "/update$");
	ok(req, "POST /containers/<id>/update, by the recorded id");
	body = cJSON_Parse(json_string(req, "body"));
	is_int(json_int(body, "Memory"), 25165824, "with Memory");
	is_int(json_int(body, "MemorySwap"), 41943040, "and MemorySwap");
	cJSON_Delete(body);
	cJSON_Delete(req);
	is_int(fake_count(&docker, mark, "POST", "/restart$"), 1, "then one restart");
	is_int(step(CHECK, &t, ACTION_increase_memory, NULL, record), 1, "check: took effect");
	is_str(out.buf, "container hog has a memory limit of 24Mi", "saying so");
	is_int(docker_call("GET", "/containers/hog/json", &inspect), 200, "inspected");
	is_int(json_int(json_get(inspect, "HostConfig"), "Memory"), 25165824, "the Engine has it");
	cJSON_Delete(inspect);

	cJSON_Delete(record);
	record = cJSON_CreateObject();
	set_max_memory("24m");
	is_int(step(PREPARE, &t, ACTION_increase_memory, NULL, record), -1, "at max-memory: -1");
	is_str(out.buf, "container hog has 24Mi of memory already; service.checkout.max-memory "
	       "is 24Mi", "saying so");

	free(t.container);
	t.container = xstrdup("web");
	set_max_memory("1Gi");
	is_int(step(PREPARE, &t, ACTION_increase_memory, NULL, record), -1, "no limit at all: -1");
	is_str(out.buf, "docker: container web has no memory limit to raise", "saying so");

	set_config(kubeconfig);
	cJSON_Delete(record);
	target_release(&t);
}

static void test_docker_down(void)
{
	struct fix_target t;
	cJSON *record = cJSON_CreateObject();
	char *line;

	fake_stop(&docker);
	target_init(&t, RUNTIME_DOCKER);
	is_int(step(PREPARE, &t, ACTION_restart, NULL, record), -1, "the Engine down: -1");
	line = xstrfmt("docker: unix://%s: inspecting web: ", sock);
	like(out.buf, line, "naming the Engine and what was asked");
	ok(!strchr(out.buf, '\n'), "on one line");
	free(line);
	cJSON_Delete(record);
	target_release(&t);
}

/* ---- a process ---- */

static char *pidfile;

static char *script(const char *name, const char *text)
{
	char *path = write_file(name, text);

	chmod(path, 0755);
	return path;
}

/* Is pid a live process (not a zombie)? */
static int running(long long pid)
{
	struct strbuf stat = STRBUF_INIT;
	char *path = xstrfmt("/proc/%lld/stat", pid);
	const char *paren;
	int live = pid > 0 && !kill((pid_t)pid, 0);

	if (live && strbuf_read_file(&stat, path, 4096) > 0 && (paren = strrchr(stat.buf, ')')))
		live = paren[2] != 'Z';
	free(path);
	strbuf_release(&stat);
	return live;
}

static long long pid_in_file(void)
{
	struct strbuf sb = STRBUF_INIT;
	long long pid = 0;

	if (strbuf_read_file(&sb, pidfile, 64) > 0) {
		strbuf_trim(&sb);
		if (parse_ll(sb.buf, &pid) < 0)
			pid = 0;
	}
	strbuf_release(&sb);
	return pid;
}

static void test_process(void)
{
	/* Its daemon keeps the start script's stdout and stderr: sre must not wait for it. */
	char *start = script("start.sh", "#!/bin/sh\necho starting web\nsleep 30 &\n"
			     "echo $! >\"$1\"\n");
	char *stop = script("stop.sh", "#!/bin/sh\nkill \"$(cat \"$1\")\"\n");
	char *fails = script("fails.sh", "#!/bin/sh\necho starting web\n"
			     "echo 'web: port 8080 is in use' >&2\nexit 3\n");
	struct fix_target t;
	cJSON *record = cJSON_CreateObject();
	long long first, second;
	int64_t started;
	char *line;

	pidfile = tmp_path("web.pid");
	target_init(&t, RUNTIME_PROCESS);
	t.pidfile = xstrdup(pidfile);

	is_int(step(PREPARE, &t, ACTION_restart, NULL, record), -1, "no start command: refused");
	is_str(out.buf, "restart: service.checkout.start is not set", "saying so");

	strvec_pushl(&t.start, start, pidfile, NULL);
	strvec_pushl(&t.stop, stop, pidfile, NULL);
	free(t.pidfile);
	t.pidfile = NULL;
	is_int(step(PREPARE, &t, ACTION_restart, NULL, record), -1, "no pidfile: refused");
	is_str(out.buf, "restart: service.checkout.pidfile is not set: sre cannot see the process "
	       "start", "saying so");
	t.pidfile = xstrdup(pidfile);
	is_int(step(PREPARE, &t, ACTION_restart, NULL, record), 0, "process restart: prepared");
	ok(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(record, "pid")),
	   "no pidfile yet: the pid recorded is null");
	is_str(record_str(record, "pidfile"), pidfile, "the pidfile recorded");
	is_int(step(CHECK, &t, ACTION_restart, NULL, record), 0, "check before run: not done");

	started = monotonic_ms();
	is_int(step(RUN, &t, ACTION_restart, NULL, record), 0, "run: 0");
	ok(monotonic_ms() - started < 5000, "without waiting for the daemon that holds its output "
	   "(%lld ms)", (long long)(monotonic_ms() - started));
	first = pid_in_file();
	ok(first > 0 && running(first), "the pidfile names a live process");
	line = xstrfmt("; checkout started: pid %lld", first);
	ok(ends_with(out.buf, line), "saying so");
	free(line);
	if (!ok(starts_with(out.buf, "service.checkout.stop exited with "),
		"a stop with nothing to stop is said, and start ran anyway"))
		diag_text("out", out.buf);
	is_int(step(CHECK, &t, ACTION_restart, NULL, record), 1, "check after run: done");
	cJSON_Delete(record);

	/* Again, with a process running. */
	record = cJSON_CreateObject();
	is_int(step(PREPARE, &t, ACTION_restart, NULL, record), 0, "prepared again");
	is_int(record_num(record, "pid"), first, "the running pid recorded");
	is_int(step(CHECK, &t, ACTION_restart, NULL, record), 0, "check: the same pid, not done");
	is_int(step(RUN, &t, ACTION_restart, NULL, record), 0, "run: 0");
	second = pid_in_file();
	line = xstrfmt("checkout restarted: pid %lld, was %lld", second, first);
	is_str(out.buf, line, "stopped and started, saying so");
	free(line);
	ok(second != first && running(second), "a new live process");
	{
		int64_t end = monotonic_ms() + 2000;

		while (running(first) && monotonic_ms() < end)
			usleep(20 * 1000);
	}
	ok(!running(first), "the old one was stopped");
	is_int(step(CHECK, &t, ACTION_restart, NULL, record), 1, "check: done");

	/* The old process back in the pidfile: not done. */
	cJSON_Delete(record);
	record = cJSON_CreateObject();
	cJSON_AddStringToObject(record, "pidfile", pidfile);
	cJSON_AddNumberToObject(record, "pid", (double)second);
	is_int(step(CHECK, &t, ACTION_restart, NULL, record), 0,
	       "a record whose pid is the live one: not done");
	cJSON_Delete(record);

	/* No stop, and the process alive: a second instance would run beside it. */
	{
		struct strvec kept_stop = t.stop;
		strvec_init(&t.stop);
		record = cJSON_CreateObject();
		is_int(step(PREPARE, &t, ACTION_restart, NULL, record), -1,
		       "no stop while the process runs: refused");
		like(out.buf, "is running and service.checkout.stop is not set", "saying why");
		cJSON_Delete(record);
		t.stop = kept_stop;
	}

	/* A start that fails. */
	record = cJSON_CreateObject();
	strvec_clear(&t.start);
	strvec_pushl(&t.start, fails, NULL);
	is_int(step(PREPARE, &t, ACTION_restart, NULL, record), 0, "prepared");
	is_int(step(RUN, &t, ACTION_restart, NULL, record), -1, "a start that exits 3: -1");
	is_str(out.buf, "restart: service.checkout.start exited with 3: web: port 8080 is in use",
	       "its exit status and the last line it wrote");
	strvec_clear(&t.start);
	strvec_pushl(&t.start, "/nonexistent/start-web", NULL);
	is_int(step(RUN, &t, ACTION_restart, NULL, record), -1, "a start that cannot run: -1");
	is_str(out.buf, "restart: service.checkout.start exited with 127: cannot run "
	       "'/nonexistent/start-web': No such file or directory", "saying why");
	cJSON_Delete(record);

	/* A start that succeeds but leaves the same process in the pidfile. */
	record = cJSON_CreateObject();
	strvec_clear(&t.start);
	strvec_pushl(&t.start, "true", NULL);
	is_int(step(PREPARE, &t, ACTION_restart, NULL, record), 0, "prepared");
	started = monotonic_ms();
	is_int(step(RUN, &t, ACTION_restart, NULL, record), -1,
	       "a start that starts nothing new: -1");
	ok(monotonic_ms() - started >= 9500, "after waiting 10 s for a new pid");
	line = xstrfmt("restart: %s holds %lld, as before, 10 s after service.checkout.start",
		       pidfile, second);
	is_str(out.buf, line, "saying what the pidfile holds");
	free(line);
	cJSON_Delete(record);

	kill((pid_t)second, SIGTERM);
	target_release(&t);
	free(start);
	free(stop);
	free(fails);
	free(pidfile);
}

int main(void)
{
	char *data;

	if (!fake_begin())
		return 0;
	if (!have_program("openssl")) {
		printf("1..0 # SKIP no openssl\n");
		return 0;
	}
	if (test_begin("actions") < 0)
		return 1;
	unsetenv("KUBECONFIG");
	setenv("SRE_NOW", NOW, 1);
	sock = tmp_path("docker/docker.sock");
	data = write_file("containers.json", CONTAINERS);
	if (make_server_pki() < 0 ||
	    fake_start(&k8s, "kubernetes", "k8s", "--cert", server_crt, "--key", server_key,
		       "--token", TOKEN, NULL) < 0 ||
	    fake_start(&docker, "docker", "docker", "--socket", sock, "--data", data, NULL) < 0) {
		ok(0, "the fakes start");
		goto out;
	}
	server = xstrfmt("https://%s", k8s.url + strlen("http://"));
	kubeconfig = kubeconfig_for("fake.yaml", server, ca_b64, "    token: " TOKEN "\n");
	set_config(kubeconfig);

	test_runtime_table();
	test_not_direct();
	test_kube_restart();
	test_kube_scale();
	test_kube_rollback();
	test_kube_failures();
	test_docker_restart();
	test_docker_memory();
	test_docker_down();
	test_process();

	unlike(printed.buf, TOKEN, "nothing printed carries the token");
	is_str(printed.buf, "", "nothing is printed at all: every word is in out");
out:
	fake_stop(&k8s);
	fake_stop(&docker);
	config_clear(&cfg);
	strbuf_release(&out);
	strbuf_release(&printed);
	free(kubeconfig);
	free(server);
	free(sock);
	free(data);
	free_server_pki();
	return test_end();
}
