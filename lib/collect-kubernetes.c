/*
 * collect-kubernetes.c: the Kubernetes evidence of `sre diagnose`.
 *
 * From the API server the kubeconfig names (lib/kubeconfig.c), it lists
 * the pods, events, Deployments and ReplicaSets of the service's
 * namespaces, all at once, and keeps what concerns the service:
 *
 *   Deployments  named the service or [service "<name>"] deployment, or
 *                whose labels (their own or their pod template's) say it
 *   pods         whose service (kubernetes_pod_service(): the app labels,
 *                else the workload) or whose Deployment is one of those
 *                names or a Deployment kept; and the incident's own pod
 *                ("pod/<ns>/<pod>"), when <ns> is one of those read
 *   ReplicaSets  of a Deployment kept, or running a pod kept (the
 *                rollout history: each revision is one)
 *   events       about any object kept
 *
 * and the Deployments of the pods kept, found through their ReplicaSets.
 * Every list is kept as the API server wrote it, the namespaces' items
 * merged into one list of each kind. Then it reads the last lines of each
 * container of the pods kept, and of its previous container when it has
 * restarted: a log that cannot be read is left out, not an error, since
 * the lists already say most of what happened.
 *
 * Every request is built by the API's client, lib/kubernetes.c; this
 * file chooses what to ask and what to keep.
 */
#include <cJSON.h>

#include "evidence.h"
#include "http.h"
#include "kubeconfig.h"
#include "kubernetes.h"
#include "redact.h"
#include "scout.h"

#define PARALLEL 8             /* requests in flight at once */
#define LOG_LINES 200          /* diagnose.log-lines when the runner gives none */

enum kind { PODS, EVENTS, DEPLOYMENTS, REPLICASETS, KINDS };

static const struct {
	const char *group;      /* the API's path: "/api/v1" or "/apis/apps/v1" */
	const char *resource;
	const char *list;       /* the list's kind and apiVersion */
	const char *api_version;
} kinds[KINDS] = {
	[PODS] = { "/api/v1", "pods", "PodList", "v1" },
	[EVENTS] = { "/api/v1", "events", "EventList", "v1" },
	[DEPLOYMENTS] = { "/apis/apps/v1", "deployments", "DeploymentList", "apps/v1" },
	[REPLICASETS] = { "/apis/apps/v1", "replicasets", "ReplicaSetList", "apps/v1" },
};

/* ---- configuration ---- */

/* [service "<name>"] namespace, else every kubernetes.namespace, in order, once. */
static void namespaces(const struct config *cfg, const char *service, struct strvec *out)
{
	struct strbuf key = STRBUF_INIT;
	const char *ns = service ? config_get_string(cfg, scout_key(&key, "service", service,
								    "namespace")) : NULL;

	if (ns && *ns)
		strvec_push(out, ns);
	else
		scout_list_key(cfg, "kubernetes.namespace", ",", out);
	strbuf_release(&key);
}

int collect_kubernetes_configured(const struct config *cfg, const struct collect_options *o)
{
	struct strvec ns = STRVEC_INIT;
	int configured;

	namespaces(cfg, o->service, &ns);
	configured = ns.nr > 0;
	strvec_clear(&ns);
	return configured;
}

/* What is looked for. */
struct wanted {
	const char *service;
	const char *deployment;   /* [service "<name>"] deployment, or NULL */
	char *pod_ns, *pod;       /* the incident's pod ("pod/<ns>/<pod>"), or NULL */
};

static void wanted_init(struct wanted *w, const struct config *cfg,
			const struct collect_options *o)
{
	struct strbuf key = STRBUF_INIT;
	const char *rest, *slash;

	memset(w, 0, sizeof(*w));
	w->service = o->service;
	w->deployment = config_get_string(cfg, scout_key(&key, "service", o->service,
							 "deployment"));
	if (w->deployment && !*w->deployment)
		w->deployment = NULL;
	if (o->check && skip_prefix(o->check, "pod/", &rest) && (slash = strchr(rest, '/')) &&
	    slash > rest && slash[1] && !strchr(slash + 1, '/')) {
		w->pod_ns = xstrndup(rest, (size_t)(slash - rest));
		w->pod = xstrdup(slash + 1);
	}
	strbuf_release(&key);
}

static void wanted_release(struct wanted *w)
{
	free(w->pod_ns);
	free(w->pod);
}

/* Is name the service, or its Deployment's name? */
static int is_service(const struct wanted *w, const char *name)
{
	return name && (!strcmp(name, w->service) ||
			(w->deployment && !strcmp(name, w->deployment)));
}

/* ---- reading the API's objects ---- */

static cJSON *get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static const char *name_of(const cJSON *item)
{
	return scout_json_nonempty(get(item, "metadata"), "name");
}

static int has(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; s && i < sv->nr; i++)
		if (!strcmp(sv->v[i], s))
			return 1;
	return 0;
}

static void add_once(struct strvec *sv, const char *s)
{
	if (s && !has(sv, s))
		strvec_push(sv, s);
}

/* The name of the controller of this kind that owns the object, or NULL. Borrowed. */
static const char *controller(const cJSON *meta, const char *kind)
{
	const cJSON *owner;

	cJSON_ArrayForEach(owner, get(meta, "ownerReferences")) {
		const char *k = scout_json_string(owner, "kind");

		if (scout_json_bool(owner, "controller") && k && !strcmp(k, kind))
			return scout_json_nonempty(owner, "name");
	}
	return NULL;
}

/*
 * Environment values are dropped from what is kept, names kept: a
 * container's env (in pods and in the pod templates of Deployments and
 * ReplicaSets) is where credentials are put, and a bundle travels. An
 * env entry's "value" becomes ‹redacted:env› ("valueFrom" only names a
 * Secret and stays); kubectl's last-applied-configuration annotation,
 * which repeats the whole spec, values and all, is masked whole.
 */
static void drop_env_values(cJSON *json)
{
	struct strbuf mask = STRBUF_INIT;

	for (cJSON *j = json ? json->child : NULL; j; j = j->next) {
		if (j->string && cJSON_IsArray(j) && !strcmp(j->string, "env")) {
			cJSON *e;
			cJSON_ArrayForEach(e, j) {
				cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "value");
				if (cJSON_IsString(v)) {
					strbuf_reset(&mask);
					redact_add_mask(&mask, "env");
					cJSON_SetValuestring(v, mask.buf);
				}
			}
		} else if (j->string && cJSON_IsString(j) &&
			   !strcmp(j->string, "kubectl.kubernetes.io/last-applied-configuration")) {
			strbuf_reset(&mask);
			redact_add_mask(&mask, "last-applied-configuration");
			cJSON_SetValuestring(j, mask.buf);
		} else if (cJSON_IsObject(j) || cJSON_IsArray(j)) {
			drop_env_values(j);
		}
	}
	strbuf_release(&mask);
}

/* The item of a list's items called name, or NULL. */
static const cJSON *named(const cJSON *items, const char *name)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, items) {
		const char *n = name_of(item);

		if (n && !strcmp(n, name))
			return item;
	}
	return NULL;
}

/* The Deployment of a pod, through the ReplicaSet that owns it, or NULL. Borrowed. */
static const char *pod_deployment(const cJSON *meta, const cJSON *replicasets)
{
	const char *rs = controller(meta, "ReplicaSet");
	const cJSON *item = rs ? named(replicasets, rs) : NULL;

	return item ? controller(get(item, "metadata"), "Deployment") : NULL;
}

/* What a Deployment's pod template's labels say its service is, or NULL. Borrowed. */
static const char *template_service(const cJSON *deployment)
{
	const cJSON *labels = get(get(get(get(deployment, "spec"), "template"), "metadata"),
				  "labels");
	const char *v = scout_json_nonempty(labels, "app.kubernetes.io/name");

	return v ? v : scout_json_nonempty(labels, "app");
}

/* ---- keeping what concerns the service ---- */

/* Is an event about one of the objects kept in namespace ns? */
static int event_kept(const cJSON *event, const char *ns, const struct strvec keep[KINDS])
{
	const cJSON *obj = get(event, "involvedObject");
	const char *kind = scout_json_string(obj, "kind");
	const char *name = scout_json_string(obj, "name");
	const char *obj_ns = scout_json_nonempty(obj, "namespace");

	if (!kind || !name || (obj_ns && strcmp(obj_ns, ns)))
		return 0;
	if (!strcmp(kind, "Pod"))
		return has(&keep[PODS], name);
	if (!strcmp(kind, "Deployment"))
		return has(&keep[DEPLOYMENTS], name);
	if (!strcmp(kind, "ReplicaSet"))
		return has(&keep[REPLICASETS], name);
	return 0;
}

/* Move the items of list kept (as keep says) to the end of out's items. */
static void move_kept(cJSON *list, enum kind k, const char *ns, const struct strvec keep[KINDS],
		      cJSON *out)
{
	cJSON *items = get(list, "items"), *item = items ? items->child : NULL;

	while (item) {
		cJSON *next = item->next;

		if (k == EVENTS ? event_kept(item, ns, keep) : has(&keep[k], name_of(item)))
			cJSON_AddItemToArray(get(out, "items"),
					     cJSON_DetachItemViaPointer(items, item));
		item = next;
	}
}

/* Keep what concerns the service among one namespace's lists, moving it to out. */
static void select_namespace(const struct wanted *w, const char *ns, cJSON *lists[KINDS],
			     cJSON *out[KINDS])
{
	const cJSON *replicasets = get(lists[REPLICASETS], "items"), *item;
	struct strvec keep[KINDS];

	for (size_t k = 0; k < KINDS; k++)
		strvec_init(&keep[k]);

	cJSON_ArrayForEach(item, get(lists[DEPLOYMENTS], "items")) {
		const char *name = name_of(item);
		char *service;

		if (!name)
			continue;
		service = kubernetes_pod_service(get(item, "metadata"));
		if (is_service(w, name) || is_service(w, service) ||
		    is_service(w, template_service(item)))
			add_once(&keep[DEPLOYMENTS], name);
		free(service);
	}

	cJSON_ArrayForEach(item, get(lists[PODS], "items")) {
		const cJSON *meta = get(item, "metadata");
		const char *name = name_of(item);
		const char *deployment = pod_deployment(meta, replicasets);
		char *service;
		int keep_it;

		if (!name)
			continue;
		service = kubernetes_pod_service(meta);
		keep_it = is_service(w, service) || is_service(w, deployment) ||
			  has(&keep[DEPLOYMENTS], deployment) ||
			  (w->pod && !strcmp(w->pod_ns, ns) && !strcmp(w->pod, name));
		free(service);
		if (!keep_it)
			continue;
		add_once(&keep[PODS], name);
		add_once(&keep[REPLICASETS], controller(meta, "ReplicaSet"));
		add_once(&keep[DEPLOYMENTS], deployment);
	}

	cJSON_ArrayForEach(item, replicasets)
		if (has(&keep[DEPLOYMENTS], controller(get(item, "metadata"), "Deployment")))
			add_once(&keep[REPLICASETS], name_of(item));

	for (size_t k = 0; k < KINDS; k++)
		move_kept(lists[k], (enum kind)k, ns, keep, out[k]);
	for (size_t k = 0; k < KINDS; k++)
		strvec_clear(&keep[k]);
}

/* An empty list of this kind, with the metadata of the first namespace's. */
static cJSON *new_list(enum kind k, const cJSON *first)
{
	cJSON *list = cJSON_CreateObject(), *meta;
	const char *version = scout_json_string(get(first, "metadata"), "resourceVersion");

	cJSON_AddStringToObject(list, "kind", kinds[k].list);
	cJSON_AddStringToObject(list, "apiVersion", kinds[k].api_version);
	meta = cJSON_AddObjectToObject(list, "metadata");
	if (version)
		cJSON_AddStringToObject(meta, "resourceVersion", version);
	cJSON_AddArrayToObject(list, "items");
	return list;
}

/* ---- the requests ---- */

/*
 * Check one list's answer and parse it: the list, or NULL with one line
 * in why. Not redacted yet: the caller does that once.
 */
static cJSON *answer_list(const struct kubeconfig *kc, const struct http_client *http,
			  const struct http_request *req, const struct http_response *res,
			  enum kind k, struct strbuf *why)
{
	const char *path = req->url + strlen(kc->server);
	char *not_list, *msg = NULL;
	cJSON *list;

	if (res->outcome == HTTP_OK && res->status / 100 == 2) {
		const char *kind;

		list = cJSON_ParseWithLength(res->body.buf, res->body.len);
		kind = scout_json_string(list, "kind");
		if (kind && !strcmp(kind, kinds[k].list) && cJSON_IsArray(get(list, "items")))
			return list;
		cJSON_Delete(list);
	}

	strbuf_addf(why, "kubernetes: %s: ", kc->server);
	if (res->outcome != HTTP_OK && scout_deadline_passed(http, res)) {
		strbuf_addf(why, "cut off at the deadline: GET %s got no answer in time", path);
		return NULL;
	}
	/* A Status object's message: the API server's reason, on one line. */
	if (res->status && res->status / 100 != 2)
		msg = kubernetes_status_message(res, KUBERNETES_MESSAGE_MAX);
	/* A refusal's message names the resource; any other failure says which request. */
	if (res->status && res->status != 401 && res->status != 403)
		strbuf_addf(why, "GET %s: ", path);
	not_list = xstrfmt("the answer is not a%s %s", strchr("AEIOU", kinds[k].list[0]) ? "n" : "",
			   kinds[k].list);
	scout_answer_why(why, res, NULL, not_list, msg);
	free(not_list);
	free(msg);
	return NULL;
}

/* The restartCount of a pod's container, or 0. */
static long long restarts(const cJSON *pod, const char *container)
{
	const cJSON *cs;

	cJSON_ArrayForEach(cs, get(get(pod, "status"), "containerStatuses")) {
		const char *name = scout_json_string(cs, "name");

		if (name && !strcmp(name, container))
			return scout_json_int(cs, "restartCount");
	}
	return 0;
}

/* Queue the request of one log, named name, unless the name cannot be a file's. */
static void add_log_request(struct scout_requests *rs, struct strvec *names,
			    const struct kubeconfig *kc, const char *ns, const char *pod,
			    const char *container, int lines, int previous, const char *name)
{
	if (!evidence_name_ok(name))
		return;
	kubernetes_queue_log(rs, kc, ns, pod, container, lines, previous);
	strvec_push(names, name);
}

/*
 * Read the logs of the pods kept into ev: each container's last lines,
 * and its previous container's when it has restarted. Named <pod>, or
 * <pod>.<container> when the pod has several, with ".previous" after.
 */
static void read_logs(const struct collect_context *c, const struct kubeconfig *kc,
		      struct evidence *ev)
{
	struct scout_requests rs = SCOUT_REQUESTS_INIT;
	struct strvec names = STRVEC_INIT;
	int lines = c->log_lines > 0 ? c->log_lines : LOG_LINES;
	const cJSON *pod;

	cJSON_ArrayForEach(pod, get(ev->pods, "items")) {
		const cJSON *meta = get(pod, "metadata"), *containers, *container;
		const char *ns = scout_json_nonempty(meta, "namespace");
		const char *name = scout_json_nonempty(meta, "name");
		int several;

		containers = get(get(pod, "spec"), "containers");
		several = cJSON_GetArraySize(containers) > 1;
		if (!ns || !name)
			continue;
		cJSON_ArrayForEach(container, containers) {
			const char *cname = scout_json_nonempty(container, "name");
			char *log, *previous;

			if (!cname)
				continue;
			log = several ? xstrfmt("%s.%s", name, cname) : xstrdup(name);
			previous = xstrfmt("%s.previous", log);
			add_log_request(&rs, &names, kc, ns, name, cname, lines, 0, log);
			if (restarts(pod, cname) > 0)
				add_log_request(&rs, &names, kc, ns, name, cname, lines, 1, previous);
			free(log);
			free(previous);
		}
	}

	if (rs.nr)
		http_do_many(c->http, rs.req, rs.res, rs.nr, PARALLEL);
	for (size_t i = 0; i < rs.nr; i++) {
		const struct http_response *res = &rs.res[i];

		/* No log (a 400: no previous container, not started yet) is no evidence. */
		if (res->outcome == HTTP_OK && res->status / 100 == 2)
			evidence_add_log(ev, "kubernetes", names.v[i], res->body.buf, res->body.len);
	}
	scout_requests_release(&rs);
	strvec_clear(&names);
}

int collect_kubernetes(const struct collect_context *c, struct evidence *ev, struct strbuf *why)
{
	struct wanted w;
	struct strvec ns = STRVEC_INIT;
	struct kubeconfig kc = KUBECONFIG_INIT;
	struct scout_requests rs = SCOUT_REQUESTS_INIT;
	struct strbuf err = STRBUF_INIT;
	cJSON *out[KINDS] = { NULL };
	cJSON **lists = NULL;
	int ret = -1;

	wanted_init(&w, c->cfg, c->o);
	namespaces(c->cfg, c->o->service, &ns);
	if (!ns.nr) {
		ret = 0;
		goto done;
	}
	if (kubeconfig_load(&kc, c->cfg, c->http, &err) < 0) {
		char *line = xstrfmt("kubernetes: %s", err.buf);

		strbuf_reset(&err);
		strbuf_addstr(&err, line);
		free(line);
		goto done;
	}

	for (size_t i = 0; i < ns.nr; i++)
		for (size_t k = 0; k < KINDS; k++)
			kubernetes_queue(&rs, &kc, kinds[k].group, ns.v[i], kinds[k].resource);
	http_do_many(c->http, rs.req, rs.res, rs.nr, PARALLEL);
	lists = xcalloc(rs.nr, sizeof(*lists));
	/* Every list is checked before anything is kept: all or nothing. */
	for (size_t i = 0; i < rs.nr; i++)
		if (!(lists[i] = answer_list(&kc, c->http, &rs.req[i], &rs.res[i],
					     (enum kind)(i % KINDS), &err)))
			goto done;

	for (size_t k = 0; k < KINDS; k++)
		out[k] = new_list((enum kind)k, lists[k]);
	for (size_t i = 0; i < ns.nr; i++)
		select_namespace(&w, ns.v[i], &lists[i * KINDS], out);
	ev->pods = out[PODS];
	ev->events = out[EVENTS];
	ev->deployments = out[DEPLOYMENTS];
	ev->replicasets = out[REPLICASETS];
	memset(out, 0, sizeof(out));
	drop_env_values(ev->pods);
	drop_env_values(ev->deployments);
	drop_env_values(ev->replicasets);

	read_logs(c, &kc, ev);
	ret = 0;
done:
	if (ret < 0) {
		http_redact(c->http, &err);
		strbuf_addstr(why, err.buf);
	}
	for (size_t k = 0; k < KINDS; k++)
		cJSON_Delete(out[k]);
	for (size_t i = 0; lists && i < rs.nr; i++)
		cJSON_Delete(lists[i]);
	free(lists);
	scout_requests_release(&rs);
	strbuf_release(&err);
	kubeconfig_release(&kc);
	strvec_clear(&ns);
	wanted_release(&w);
	return ret;
}
