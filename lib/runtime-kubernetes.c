/*
 * runtime-kubernetes.c: the kubernetes runtime of `sre fix` (runtime.h),
 * on the service's Deployment (service.<name>.deployment in
 * service.<name>.namespace):
 *
 *   restart   the pod template's kubectl.kubernetes.io/restartedAt
 *             annotation (a strategic merge patch), as `kubectl rollout
 *             restart`; took effect when the Deployment carries the value set
 *   scale     the Deployment's scale subresource (a merge patch), as
 *             `kubectl scale`; never past max-replicas, never below 1
 *   rollback  the pod template of the ReplicaSet of the revision asked for
 *             (default the previous one), without its pod-template-hash
 *             label, put in place of the Deployment's with a JSON patch, as
 *             `kubectl rollout undo` does; took effect when the template is
 *             that one
 *   chaos     scale-zero (the scale subresource), bad-image and memory (a
 *             strategic merge patch of one container); undone with the
 *             replicas, image or limit the Deployment had
 *
 * Every request is the API client's (lib/kubernetes.c), with the
 * kubeconfig scout reads (lib/kubeconfig.c).
 */
#include <ctype.h>

#include "kubeconfig.h"
#include "kubernetes.h"
#include "runtime.h"
#include "scout.h"
#include "timeutil.h"

#define RESTARTED_AT "kubectl.kubernetes.io/restartedAt"
#define REVISION "deployment.kubernetes.io/revision"
#define TEMPLATE_HASH "pod-template-hash"

struct kube {
	struct kubeconfig kc;
	const char *ns, *name;  /* the Deployment's namespace and name, borrowed */
	char *object;           /* "deployment <ns>/<name>", for messages */
	char *url;              /* the Deployment's URL */
};

static int kube_open(struct kube *k, struct http_client *http, const struct config *cfg,
		     const char *ns, const char *name, struct strbuf *out)
{
	struct strbuf err = STRBUF_INIT;

	memset(k, 0, sizeof(*k));
	k->ns = ns;
	k->name = name;
	k->object = xstrfmt("deployment %s/%s", ns, name);
	if (kubeconfig_load(&k->kc, cfg, http, &err) < 0) {
		struct strbuf line = STRBUF_INIT;

		strbuf_addf(&line, "kubernetes: %s", err.buf);
		strbuf_release(&err);
		return runtime_fail(http, out, &line);
	}
	k->url = kubernetes_object_url(&k->kc, "/apis/apps/v1", ns, "deployments", name);
	return 0;
}

static void kube_close(struct kube *k)
{
	kubeconfig_release(&k->kc);
	free(k->object);
	free(k->url);
}

/* kubernetes_call(), its failure redacted into out. */
static int kube_call(struct kube *k, struct http_client *http, const char *method,
		     const char *url, const char *content_type, const char *body,
		     const char *kind, const char *what, cJSON **answer, struct strbuf *out)
{
	struct strbuf why = STRBUF_INIT;

	if (kubernetes_call(http, &k->kc, method, url, content_type, body, kind, what, answer,
			    &why) < 0)
		return runtime_fail(http, out, &why);
	strbuf_release(&why);
	return 0;
}

/* GET the Deployment (suffix "") or its scale ("/scale"). */
static int kube_get(struct kube *k, struct http_client *http, const char *suffix,
		    cJSON **answer, struct strbuf *out)
{
	char *url = xstrfmt("%s%s", k->url, suffix);
	int r = kube_call(k, http, "GET", url, NULL, NULL, *suffix ? "Scale" : "Deployment",
			  k->object, answer, out);

	free(url);
	return r;
}

/* PATCH the Deployment or its scale with body (taken over) of this type. */
static int kube_patch(struct kube *k, struct http_client *http, const char *suffix,
		      const char *content_type, cJSON *body, cJSON **answer, struct strbuf *out)
{
	char *url = xstrfmt("%s%s", k->url, suffix);
	char *text = cJSON_PrintUnformatted(body);
	int r = kube_call(k, http, "PATCH", url, content_type, text,
			  *suffix ? "Scale" : "Deployment", k->object, answer, out);

	cJSON_Delete(body);
	free(text);
	free(url);
	return r;
}

/* The Deployment's namespace and name: the record's, else the target's. */
static int kube_open_record(struct kube *k, struct http_client *http, const struct config *cfg,
			    const struct fix_target *t, const cJSON *record, struct strbuf *out)
{
	const char *ns = json_nonempty(record, "namespace");
	const char *name = json_nonempty(record, "deployment");

	return kube_open(k, http, cfg, ns ? ns : t->namespace, name ? name : t->deployment, out);
}

static const cJSON *template_of(const cJSON *obj)
{
	return json_get(json_get(obj, "spec"), "template");
}

static const char *restarted_at(const cJSON *deployment)
{
	return json_string(json_get(json_get(template_of(deployment), "metadata"), "annotations"),
				 RESTARTED_AT);
}

/* restart: the value the annotation will take, and the generation before. */
static int kube_restart_prepare(struct kube *k, struct http_client *http, cJSON *record,
				struct strbuf *out)
{
	char now[32];
	const char *current;
	cJSON *d;

	if (kube_get(k, http, "", &d, out) < 0)
		return -1;
	format_iso8601(now, sizeof(now), sre_now());
	current = restarted_at(d);
	if (current && !strcmp(current, now)) {
		/* The patch would change nothing, and so restart nothing. */
		cJSON_Delete(d);
		return runtime_failf(out, "restart: %s was restarted at %s already: try again in a second",
			     k->object, now);
	}
	cJSON_AddStringToObject(record, "namespace", k->ns);
	cJSON_AddStringToObject(record, "deployment", k->name);
	cJSON_AddStringToObject(record, "restarted_at", now);
	cJSON_AddNumberToObject(record, "generation",
				(double)json_int(json_get(d, "metadata"), "generation"));
	cJSON_Delete(d);
	return 0;
}

static int kube_restart_run(struct kube *k, struct http_client *http, const cJSON *record,
			    struct strbuf *out)
{
	const char *value = runtime_record_string(record, "restarted_at", "restart", out);
	cJSON *body, *annotations, *d;

	if (!value)
		return -1;
	body = cJSON_CreateObject();
	annotations = cJSON_AddObjectToObject(
		cJSON_AddObjectToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(
			body, "spec"), "template"), "metadata"), "annotations");
	cJSON_AddStringToObject(annotations, RESTARTED_AT, value);
	if (kube_patch(k, http, "", "application/strategic-merge-patch+json", body, &d, out) < 0)
		return -1;
	strbuf_addf(out, "%s restarted (%s %s, generation %lld)", k->object, RESTARTED_AT, value,
		    json_int(json_get(d, "metadata"), "generation"));
	cJSON_Delete(d);
	return 0;
}

static int kube_restart_check(struct kube *k, struct http_client *http, const cJSON *record,
			      struct strbuf *out)
{
	const char *value = runtime_record_string(record, "restarted_at", "restart", out), *now;
	cJSON *d;
	int r;

	if (!value || kube_get(k, http, "", &d, out) < 0)
		return -1;
	now = restarted_at(d);
	r = now && !strcmp(now, value);
	if (r)
		strbuf_addf(out, "%s has %s %s", k->object, RESTARTED_AT, value);
	else
		strbuf_addf(out, "%s has %s %s, not %s", k->object, RESTARTED_AT,
			    now ? now : "(none)", value);
	cJSON_Delete(d);
	return r;
}

/* scale: the replicas asked for, within bounds, and the count before. */
static int kube_scale_prepare(struct kube *k, struct http_client *http,
			      const struct fix_target *t, const cJSON *params, cJSON *record,
			      struct strbuf *out)
{
	const cJSON *asked = json_get(params, "replicas");
	long long current, n = 0;
	cJSON *scale;

	if (asked && (runtime_json_whole(asked, &n) < 0))
		return runtime_failf(out, "scale: the replicas asked for are not a whole number");
	if (kube_get(k, http, "/scale", &scale, out) < 0)
		return -1;
	current = json_int(json_get(scale, "spec"), "replicas");
	cJSON_Delete(scale);
	if (!asked)
		n = current + 1;
	if (t->max_replicas > 0 && n > t->max_replicas)
		return runtime_failf(out, "scale: %lld replicas is past service.%s.max-replicas (%lld)", n,
			     t->service, t->max_replicas);
	if (n < 1)
		return runtime_failf(out, "scale: %lld replicas is below 1", n);
	cJSON_AddStringToObject(record, "namespace", k->ns);
	cJSON_AddStringToObject(record, "deployment", k->name);
	cJSON_AddNumberToObject(record, "replicas", (double)n);
	cJSON_AddNumberToObject(record, "from", (double)current);
	return 0;
}

static int kube_scale_run(struct kube *k, struct http_client *http, const cJSON *record,
			  struct strbuf *out)
{
	long long n, from;
	cJSON *body, *scale;

	if (runtime_record_whole(record, "replicas", "scale", &n, out) < 0)
		return -1;
	body = cJSON_CreateObject();
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(body, "spec"), "replicas", (double)n);
	if (kube_patch(k, http, "/scale", "application/merge-patch+json", body, &scale, out) < 0)
		return -1;
	if (runtime_json_whole(json_get(record, "from"), &from) == 0)
		strbuf_addf(out, "%s scaled from %lld to %lld replicas", k->object, from,
			    json_int(json_get(scale, "spec"), "replicas"));
	else
		strbuf_addf(out, "%s scaled to %lld replicas", k->object,
			    json_int(json_get(scale, "spec"), "replicas"));
	cJSON_Delete(scale);
	return 0;
}

static int kube_scale_check(struct kube *k, struct http_client *http, const cJSON *record,
			    struct strbuf *out)
{
	long long n, now;
	cJSON *scale;

	if (runtime_record_whole(record, "replicas", "scale", &n, out) < 0 ||
	    kube_get(k, http, "/scale", &scale, out) < 0)
		return -1;
	now = json_int(json_get(scale, "spec"), "replicas");
	cJSON_Delete(scale);
	strbuf_addf(out, "%s asks for %lld replicas%s", k->object, now,
		    now == n ? "" : n > now ? ", fewer than recorded" : ", more than recorded");
	return now == n;
}

/* A Kubernetes object's revision annotation, or -1. */
static long long revision_of(const cJSON *obj)
{
	const char *v = json_string(json_get(json_get(obj, "metadata"), "annotations"), REVISION);
	long long n;

	return v && parse_ll(v, &n) == 0 && n > 0 ? n : -1;
}

/* Does the Deployment d control the ReplicaSet rs? */
static int owned_by(const cJSON *rs, const cJSON *d)
{
	const char *name = json_string(json_get(d, "metadata"), "name");
	const char *uid = json_nonempty(json_get(d, "metadata"), "uid");
	const cJSON *owner;

	cJSON_ArrayForEach(owner, json_get(json_get(rs, "metadata"), "ownerReferences")) {
		const char *kind = json_string(owner, "kind");
		const char *oname = json_string(owner, "name");
		const char *ouid = json_nonempty(owner, "uid");

		/* The uid tells a Deployment made anew from the old one's orphans. */
		if (kind && oname && name && !strcmp(kind, "Deployment") && !strcmp(oname, name) &&
		    (!uid || !ouid || !strcmp(uid, ouid)))
			return 1;
	}
	return 0;
}

/* The images of a template's containers, "a, b", for messages. */
static void add_images(struct strbuf *sb, const cJSON *template)
{
	const cJSON *c;
	size_t start = sb->len;

	cJSON_ArrayForEach(c, json_get(json_get(template, "spec"), "containers"))
		strbuf_addf(sb, "%s%s", sb->len > start ? ", " : "",
			    json_string_or(c, "image", "?"));
}

/*
 * rollback: the template of the ReplicaSet of the revision asked for, else
 * of the highest revision below the Deployment's own, as kubectl picks it.
 */
static int kube_rollback_prepare(struct kube *k, struct http_client *http, const cJSON *params,
				 cJSON *record, struct strbuf *out)
{
	const cJSON *asked = json_get(params, "revision"), *rs, *chosen = NULL;
	char *url;
	long long want = -1, current, best = -1;
	cJSON *d = NULL, *list = NULL, *template;
	char *what;
	int ret = -1;

	if (asked && (runtime_json_whole(asked, &want) < 0 || want < 1))
		return runtime_failf(out, "rollback: the revision asked for is not a revision number");
	if (kube_get(k, http, "", &d, out) < 0)
		return -1;
	url = kubernetes_namespace_url(&k->kc, "/apis/apps/v1", k->ns, "replicasets");
	what = xstrfmt("replicasets in %s", k->ns);
	ret = kube_call(k, http, "GET", url, NULL, NULL, "ReplicaSetList", what, &list, out);
	free(what);
	free(url);
	if (ret < 0)
		goto out;
	ret = -1;

	current = revision_of(d);
	if (current < 0) /* no annotation yet: the newest ReplicaSet is the current one */
		cJSON_ArrayForEach(rs, json_get(list, "items"))
			if (owned_by(rs, d) && revision_of(rs) > current)
				current = revision_of(rs);
	cJSON_ArrayForEach(rs, json_get(list, "items")) {
		long long r = revision_of(rs);

		if (!owned_by(rs, d) || r < 0)
			continue;
		if (want > 0 ? r == want : r < current && r > best) {
			chosen = rs;
			best = r;
		}
	}
	if (want > 0 && want == current) {
		runtime_failf(out, "rollback: %s runs revision %lld already", k->object, want);
		goto out;
	}
	if (!chosen) {
		if (want < 0 && current < 0)
			runtime_failf(out, "rollback: %s has no ReplicaSet with a revision", k->object);
		else if (want > 0)
			runtime_failf(out, "rollback: %s has no revision %lld", k->object, want);
		else
			runtime_failf(out, "rollback: %s has no revision before %lld", k->object, current);
		goto out;
	}

	/* The ReplicaSet's own label is the controller's to add: kubectl drops it too. */
	template = cJSON_Duplicate(template_of(chosen), 1);
	cJSON_DeleteItemFromObjectCaseSensitive(json_get(json_get(template, "metadata"), "labels"),
						TEMPLATE_HASH);
	if (!cJSON_IsObject(template) || !cJSON_GetArraySize(json_get(json_get(template, "spec"), "containers"))) {
		cJSON_Delete(template);
		runtime_failf(out, "rollback: the ReplicaSet of %s's revision %lld has no pod template",
		      k->object, best);
		goto out;
	}
	if (cJSON_Compare(template, template_of(d), 1)) {
		cJSON_Delete(template);
		runtime_failf(out, "rollback: %s runs the template of revision %lld already", k->object,
		      best);
		goto out;
	}
	cJSON_AddStringToObject(record, "namespace", k->ns);
	cJSON_AddStringToObject(record, "deployment", k->name);
	cJSON_AddNumberToObject(record, "revision", (double)best);
	if (current > 0)
		cJSON_AddNumberToObject(record, "from_revision", (double)current);
	cJSON_AddItemToObject(record, "template", template);
	ret = 0;
out:
	cJSON_Delete(d);
	cJSON_Delete(list);
	return ret;
}

static int kube_rollback_run(struct kube *k, struct http_client *http, const cJSON *record,
			     struct strbuf *out)
{
	const cJSON *template = json_get(record, "template");
	long long revision;
	cJSON *body, *op, *d;

	if (!cJSON_IsObject(template))
		return runtime_failf(out, "rollback: the action's record has no \"template\"");
	/* A replace, not a merge: a container or variable the bad revision added must go. */
	body = cJSON_CreateArray();
	op = cJSON_CreateObject();
	cJSON_AddStringToObject(op, "op", "replace");
	cJSON_AddStringToObject(op, "path", "/spec/template");
	cJSON_AddItemToObject(op, "value", cJSON_Duplicate(template, 1));
	cJSON_AddItemToArray(body, op);
	if (kube_patch(k, http, "", "application/json-patch+json", body, &d, out) < 0)
		return -1;
	strbuf_addf(out, "%s rolled back", k->object);
	if (runtime_json_whole(json_get(record, "revision"), &revision) == 0)
		strbuf_addf(out, " to revision %lld", revision);
	strbuf_addstr(out, " (");
	add_images(out, template_of(d));
	strbuf_addstr(out, ")");
	cJSON_Delete(d);
	return 0;
}

static int kube_rollback_check(struct kube *k, struct http_client *http, const cJSON *record,
			       struct strbuf *out)
{
	const cJSON *template = json_get(record, "template");
	cJSON *d;
	int r;

	if (!cJSON_IsObject(template))
		return runtime_failf(out, "rollback: the action's record has no \"template\"");
	if (kube_get(k, http, "", &d, out) < 0)
		return -1;
	/* The whole template: a revision may differ from another in an image or in anything else. */
	r = cJSON_Compare(template_of(d), template, 1);
	strbuf_addf(out, "%s %s the recorded template (", k->object, r ? "runs" : "does not run");
	add_images(out, template_of(d));
	strbuf_addstr(out, ")");
	cJSON_Delete(d);
	return r;
}

/* ---- the steps, each over one opened Deployment ---- */

/*
 * prepare acts on the target's Deployment; run and check on the one the
 * record names (else the target's), so that a record written before a
 * change of configuration is still judged by what it says.
 */
typedef int (*kube_step_fn)(struct kube *k, struct http_client *http, const cJSON *record,
			    struct strbuf *out);

static int on_record(const struct runtime_call *c, kube_step_fn fn, const cJSON *record,
		     struct strbuf *out)
{
	struct kube k;
	int r = kube_open_record(&k, c->http, c->cfg, c->t, record, out);

	if (r == 0)
		r = fn(&k, c->http, record, out);
	kube_close(&k);
	return r;
}

static int restart_prepare(const struct runtime_call *c, const cJSON *params, cJSON *record,
			   struct strbuf *out)
{
	struct kube k;
	int r = kube_open(&k, c->http, c->cfg, c->t->namespace, c->t->deployment, out);

	if (r == 0)
		r = kube_restart_prepare(&k, c->http, record, out);
	kube_close(&k);
	return r;
}

static int restart_run(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	return on_record(c, kube_restart_run, record, out);
}

static int restart_check(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	return on_record(c, kube_restart_check, record, out);
}

static int scale_prepare(const struct runtime_call *c, const cJSON *params, cJSON *record,
			 struct strbuf *out)
{
	struct kube k;
	int r = kube_open(&k, c->http, c->cfg, c->t->namespace, c->t->deployment, out);

	if (r == 0)
		r = kube_scale_prepare(&k, c->http, c->t, params, record, out);
	kube_close(&k);
	return r;
}

static int scale_run(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	return on_record(c, kube_scale_run, record, out);
}

static int scale_check(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	return on_record(c, kube_scale_check, record, out);
}

static int rollback_prepare(const struct runtime_call *c, const cJSON *params, cJSON *record,
			    struct strbuf *out)
{
	struct kube k;
	int r = kube_open(&k, c->http, c->cfg, c->t->namespace, c->t->deployment, out);

	if (r == 0)
		r = kube_rollback_prepare(&k, c->http, params, record, out);
	kube_close(&k);
	return r;
}

static int rollback_run(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	return on_record(c, kube_rollback_run, record, out);
}

static int rollback_check(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	return on_record(c, kube_rollback_check, record, out);
}

static const struct runtime_action restart = { restart_prepare, restart_run, restart_check };
static const struct runtime_action scale = { scale_prepare, scale_run, scale_check };
static const struct runtime_action rollback = { rollback_prepare, rollback_run, rollback_check };

/*
 * ---- chaos: faults and their undoing ----
 *
 * params {"fault": scale-zero|bad-image|memory, "args": {container, image,
 * memory}}. The record holds what the Deployment had (its replicas, the
 * container's image or memory limit, read now), so that revert puts that
 * back, whatever the configuration says by then.
 */

/* A Kubernetes memory quantity sre writes: digits and a binary or decimal suffix. */
static int quantity_ok(const char *q)
{
	size_t n = q ? strspn(q, "0123456789") : 0;
	static const char *const units[] = { "", "Ki", "Mi", "Gi", "k", "M", "G" };

	if (!n || n > 12)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (!strcmp(q + n, units[i]))
			return 1;
	return 0;
}

/* An image reference sre writes: printable, no blanks, as a registry takes them. */
static int image_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > 255)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("./:_-@", s[i]))
			return 0;
	return 1;
}

/* The container named (NULL: the first) of the Deployment's pod template, or NULL. */
static const cJSON *container_of(const cJSON *deployment, const char *name)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, json_get(json_get(template_of(deployment), "spec"), "containers"))
		if (!name || json_string_is(c, "name", name))
			return c;
	return NULL;
}

/* A strategic merge patch of one container of the pod template: key = value (NULL deletes). */
static cJSON *container_patch(const char *container, const char *key, const char *value)
{
	cJSON *body = cJSON_CreateObject(), *c = cJSON_CreateObject(), *at = c;

	cJSON_AddStringToObject(c, "name", container);
	if (!strcmp(key, "memory"))
		at = cJSON_AddObjectToObject(cJSON_AddObjectToObject(c, "resources"), "limits");
	if (value)
		cJSON_AddStringToObject(at, key, value);
	else
		cJSON_AddNullToObject(at, key);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(
		cJSON_AddObjectToObject(body, "spec"), "template"), "spec"), "containers"), c);
	return body;
}

/*
 * The Deployment d's running pods, not being deleted, that its selector's
 * matchLabels match, as a JSON array (*out, the caller's). 0 or -1.
 */
static int kube_pods(struct kube *k, struct http_client *http, const cJSON *d, cJSON **out,
		     struct strbuf *out_why)
{
	const cJSON *want = json_get(json_get(json_get(d, "spec"), "selector"), "matchLabels"), *p;
	char *url = kubernetes_namespace_url(&k->kc, "/api/v1", k->ns, "pods");
	cJSON *list = NULL;
	int r;

	*out = cJSON_CreateArray();
	r = kube_call(k, http, "GET", url, NULL, NULL, "PodList", "pods", &list, out_why);
	free(url);
	if (r < 0)
		return -1;
	cJSON_ArrayForEach(p, json_get(list, "items")) {
		const cJSON *meta = json_get(p, "metadata"), *l;
		int match = cJSON_IsObject(want) && cJSON_GetArraySize(want) > 0;

		cJSON_ArrayForEach(l, want)
			match &= cJSON_IsString(l) &&
				 json_string_is(json_get(meta, "labels"), l->string, l->valuestring);
		if (match && !json_get(meta, "deletionTimestamp") &&
		    json_string_is(json_get(p, "status"), "phase", "Running"))
			cJSON_AddItemToArray(*out, cJSON_Duplicate(p, 1));
	}
	cJSON_Delete(list);
	return 0;
}

static int kube_chaos_prepare(struct kube *k, struct http_client *http, const cJSON *params,
			      cJSON *record, struct strbuf *out)
{
	const char *fault = json_string(params, "fault");
	const cJSON *args = json_get(params, "args"), *c;
	const char *want_c = json_string(args, "container");
	cJSON *d = NULL;
	int r = -1;

	if (!fault || (strcmp(fault, "scale-zero") && strcmp(fault, "bad-image") &&
		       strcmp(fault, "memory") && strcmp(fault, "delete-pod")))
		return runtime_failf(out, "kubernetes: no fault %s (scale-zero, bad-image, memory, "
				     "delete-pod)", fault ? fault : "named");
	if (kube_get(k, http, "", &d, out) < 0)
		return -1;
	cJSON_AddStringToObject(record, "namespace", k->ns);
	cJSON_AddStringToObject(record, "deployment", k->name);
	cJSON_AddStringToObject(record, "fault", fault);
	if (!strcmp(fault, "delete-pod")) {
		cJSON *pods = NULL;
		const cJSON *p = NULL;
		int n = 0;

		if (kube_pods(k, http, d, &pods, out) < 0)
			goto out;
		cJSON_ArrayForEach(p, pods)
			if (!n++)
				cJSON_AddStringToObject(record, "pod", json_string(json_get(p, "metadata"), "name"));
		cJSON_Delete(pods);
		r = n ? 0 : runtime_failf(out, "%s has no running pod to delete", k->object);
		goto out;
	}
	if (!strcmp(fault, "scale-zero")) {
		long long n = json_int(json_get(d, "spec"), "replicas");
		if (n <= 0) {
			r = runtime_failf(out, "%s has no replica to take away", k->object);
			goto out;
		}
		cJSON_AddNumberToObject(record, "replicas_from", (double)n);
		r = 0;
		goto out;
	}
	if (!(c = container_of(d, want_c))) {
		r = runtime_failf(out, "%s has no container %s", k->object, want_c ? want_c : "at all");
		goto out;
	}
	cJSON_AddStringToObject(record, "container", json_string_or(c, "name", ""));
	if (!strcmp(fault, "bad-image")) {
		const char *from = json_string_or(c, "image", "");
		char *image = json_string(args, "image") ? xstrdup(json_string(args, "image")) :
			      xstrfmt("%.*s:sre-chaos-no-such-tag", (int)strcspn(from, ":@"), from);
		if (!image_ok(image)) {
			free(image);
			r = runtime_failf(out, "kubernetes-bad-image: the image is no image reference");
			goto out;
		}
		cJSON_AddStringToObject(record, "image_from", from);
		cJSON_AddStringToObject(record, "image", image);
		free(image);
	} else {
		const char *from = json_string(json_get(json_get(c, "resources"), "limits"), "memory");
		const char *m = json_string(args, "memory");
		if (!quantity_ok(m)) {
			r = runtime_failf(out, "kubernetes-memory: memory is a quantity such as 32Mi");
			goto out;
		}
		if (from)
			cJSON_AddStringToObject(record, "memory_from", from);
		else
			cJSON_AddNullToObject(record, "memory_from");
		cJSON_AddStringToObject(record, "memory", m);
	}
	r = 0;
out:
	cJSON_Delete(d);
	return r;
}

/* Scale to n, or set the container's key to value (NULL removes it). */
static int kube_chaos_apply(struct kube *k, struct http_client *http, const cJSON *record,
			    int to_before, struct strbuf *out)
{
	const char *fault = json_string(record, "fault");
	const char *container = json_string(record, "container");
	cJSON *answer = NULL, *body;
	int r;

	if (fault && !strcmp(fault, "delete-pod")) {
		const char *pod = json_string(record, "pod");
		char *url;
		if (to_before) {
			/* Nothing to put back: its ReplicaSet makes another; check waits for it. */
			strbuf_addf(out, "%s: its ReplicaSet replaces pod %s", k->object, pod ? pod : "?");
			return 0;
		}
		if (!pod)
			return runtime_failf(out, "kubernetes: the record names no pod");
		url = kubernetes_object_url(&k->kc, "/api/v1", k->ns, "pods", pod);
		r = kube_call(k, http, "DELETE", url, NULL, NULL, "Pod", pod, &answer, out);
		free(url);
		if (!r)
			strbuf_addf(out, "pod %s/%s of %s deleted", k->ns, pod, k->object);
	} else if (fault && !strcmp(fault, "scale-zero")) {
		long long n = to_before ? json_int(record, "replicas_from") : 0;
		body = cJSON_CreateObject();
		cJSON_AddNumberToObject(cJSON_AddObjectToObject(body, "spec"), "replicas", (double)n);
		r = kube_patch(k, http, "/scale", "application/merge-patch+json", body, &answer, out);
		if (!r)
			strbuf_addf(out, "%s scaled to %lld replicas", k->object, n);
	} else if (fault && container && (!strcmp(fault, "bad-image") || !strcmp(fault, "memory"))) {
		const char *key = !strcmp(fault, "memory") ? "memory" : "image";
		const char *value = json_string(record, to_before ? (*key == 'm' ? "memory_from" : "image_from") :
						key);
		body = container_patch(container, key, value);
		r = kube_patch(k, http, "", "application/strategic-merge-patch+json", body, &answer, out);
		if (!r)
			strbuf_addf(out, "%s container %s: %s %s", k->object, container,
				    *key == 'm' ? "memory limit" : "image", value ? value : "removed");
	} else {
		r = runtime_failf(out, "kubernetes: the record names no fault");
	}
	cJSON_Delete(answer);
	return r;
}

static int kube_chaos_inject(struct kube *k, struct http_client *http, const cJSON *record,
			     struct strbuf *out)
{
	return kube_chaos_apply(k, http, record, 0, out);
}

static int kube_chaos_revert(struct kube *k, struct http_client *http, const cJSON *record,
			     struct strbuf *out)
{
	return kube_chaos_apply(k, http, record, 1, out);
}

/* Undone: the Deployment has what the record says it had. 1, 0, -1. */
static int kube_chaos_check(struct kube *k, struct http_client *http, const cJSON *record,
			    struct strbuf *out)
{
	const char *fault = json_string(record, "fault");
	const cJSON *c;
	cJSON *d = NULL;
	int r;

	if (kube_get(k, http, "", &d, out) < 0)
		return -1;
	if (fault && !strcmp(fault, "delete-pod")) {
		cJSON *pods = NULL;
		const cJSON *p;
		int n = 0;

		r = kube_pods(k, http, d, &pods, out);
		cJSON_ArrayForEach(p, pods)
			n += !json_string_is(json_get(p, "metadata"), "name", json_string_or(record, "pod", ""));
		cJSON_Delete(pods);
		if (r == 0) {
			r = n > 0;
			strbuf_addf(out, "%s has %d running pod%s besides the one deleted", k->object, n,
				    n == 1 ? "" : "s");
		}
	} else if (fault && !strcmp(fault, "scale-zero")) {
		long long n = json_int(json_get(d, "spec"), "replicas");
		r = n == json_int(record, "replicas_from");
		strbuf_addf(out, "%s asks for %lld replicas", k->object, n);
	} else if ((c = container_of(d, json_string(record, "container")))) {
		const char *now = fault && !strcmp(fault, "memory") ?
			json_string(json_get(json_get(c, "resources"), "limits"), "memory") :
			json_string(c, "image");
		const char *was = json_string(record, fault && !strcmp(fault, "memory") ? "memory_from" :
					      "image_from");
		r = (!now && !was) || (now && was && !strcmp(now, was));
		strbuf_addf(out, "%s container %s has %s", k->object, json_string_or(c, "name", "?"),
			    now ? now : "no limit");
	} else {
		r = 0;
		strbuf_addf(out, "%s has no container %s", k->object, json_string_or(record, "container", "?"));
	}
	cJSON_Delete(d);
	return r;
}

static int chaos_prepare(const struct runtime_call *c, const cJSON *params, cJSON *record,
			 struct strbuf *out)
{
	struct kube k;
	int r = kube_open(&k, c->http, c->cfg, c->t->namespace, c->t->deployment, out);

	if (r == 0)
		r = kube_chaos_prepare(&k, c->http, params, record, out);
	kube_close(&k);
	return r;
}

static int chaos_inject_run(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	return on_record(c, kube_chaos_inject, record, out);
}

static int chaos_revert_run(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	return on_record(c, kube_chaos_revert, record, out);
}

static int chaos_revert_check(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	return on_record(c, kube_chaos_check, record, out);
}

static const struct runtime_action chaos_inject = { chaos_prepare, chaos_inject_run, NULL };
static const struct runtime_action chaos_revert = { NULL, chaos_revert_run, chaos_revert_check };

const struct runtime_ops runtime_kubernetes = {
	.name = "kubernetes",
	.restart = &restart,
	.scale = &scale,
	.rollback = &rollback,
	.inject = &chaos_inject,
	.revert = &chaos_revert,
};
