/*
 * actions.c: the direct actions of `sre fix` (fix.h): restart, scale and
 * rollback, on the runtime a service's [service] section names.
 *
 *   docker      restart   POST /containers/<id>/restart?t=10; took effect
 *                         when State.StartedAt is later and it runs
 *   kubernetes  restart   the pod template's kubectl.kubernetes.io/restartedAt
 *                         annotation (a strategic merge patch), as
 *                         `kubectl rollout restart`; took effect when the
 *                         Deployment carries the value set
 *               scale     the Deployment's scale subresource (a merge
 *                         patch), as `kubectl scale`; never past
 *                         max-replicas, never below 1
 *               rollback  the pod template of the ReplicaSet of the revision
 *                         asked for (default the previous one), without its
 *                         pod-template-hash label, put in place of the
 *                         Deployment's with a JSON patch, as `kubectl
 *                         rollout undo` does; took effect when the template
 *                         is that one
 *   process     restart   stop (if set), start, then a new live process id
 *                         in the pidfile within PIDFILE_WAIT_MS
 *
 * Each action is three steps (fix.h says why): prepare reads the state
 * now and fills the record, run does what the record says, check reads
 * the state again and judges it against the record alone, so that a run
 * cut off in the middle is judged by what it wrote before it began.
 * Connections are the scout sources': the kubeconfig (lib/kubeconfig.c)
 * and docker.host (lib/docker.c); failures are phrased the same way,
 * naming the system and the object, with every secret http knows redacted.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fix.h"
#include "run-command.h"
#include "kubeconfig.h"
#include "scout.h"
#include "timeutil.h"

#define DOCKER_STOP_WAIT 10          /* ?t=: seconds before dockerd kills the container */
#define PIDFILE_WAIT_MS (10 * 1000)  /* how long start has to write a new pid */
#define PIDFILE_POLL_MS 50
#define COMMAND_OUTPUT_MAX 4096      /* the end of their output kept, for the error */
#define COMMAND_OUTPUT_CAP (1 << 20)  /* the most of it held while they run */
#define MESSAGE_MAX 300              /* the longest message quoted in an error */

#define RESTARTED_AT "kubectl.kubernetes.io/restartedAt"
#define REVISION "deployment.kubernetes.io/revision"
#define TEMPLATE_HASH "pod-template-hash"

static cJSON *get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* Append line to out, with the secrets http knows redacted, and release it: -1. */
static int fail(struct http_client *http, struct strbuf *out, struct strbuf *line)
{
	if (http)
		http_redact(http, line);
	strbuf_addstr(out, line->buf);
	strbuf_release(line);
	return -1;
}

static int failf(struct strbuf *out, const char *fmt, ...) SRE_PRINTF(2, 3);
static int failf(struct strbuf *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(out, fmt, ap);
	va_end(ap);
	return -1;
}

/* A whole number from a JSON number or a string of digits; 0, or -1. */
static int json_whole(const cJSON *v, long long *out)
{
	/* Past 2^53 a double holds no exact whole number, and may not fit at all. */
	if (cJSON_IsNumber(v))
		return json_to_ll(v, -JSON_INT_MAX, JSON_INT_MAX, out);
	if (cJSON_IsString(v))
		return parse_ll(v->valuestring, out);
	return -1;
}

/* The record's string key, or NULL after saying so in out. */
static const char *record_string(const cJSON *record, const char *key, const char *action,
				 struct strbuf *out)
{
	const char *v = scout_json_nonempty(record, key);

	if (!v)
		strbuf_addf(out, "%s: the action's record has no \"%s\"", action, key);
	return v;
}

static int record_whole(const cJSON *record, const char *key, const char *action,
			long long *v, struct strbuf *out)
{
	if (json_whole(get(record, key), v) < 0)
		return failf(out, "%s: the action's record has no \"%s\"", action, key);
	return 0;
}

/* ---- Docker ---- */

/*
 * GET /containers/<ref>/json: 0 and the inspect object (the caller's), 1
 * when there is no such container, -1 with why in out.
 */
static int docker_inspect(struct http_client *http, const struct docker_engine *e,
			  const char *ref, cJSON **inspect, struct strbuf *out)
{
	struct scout_requests rs = SCOUT_REQUESTS_INIT;
	struct strbuf url = STRBUF_INIT, why = STRBUF_INIT;
	const struct http_response *res;
	int ret = -1;

	*inspect = NULL;
	strbuf_addf(&url, "%s/containers/", e->base);
	http_urlencode(&url, ref);
	strbuf_addstr(&url, "/json");
	docker_engine_get(&rs, e, strbuf_detach(&url, NULL));
	res = &rs.res[0];
	http_do(http, &rs.req[0], &rs.res[0]);
	if (res->outcome == HTTP_OK && res->status == 404) {
		ret = 1;
	} else if (res->outcome == HTTP_OK && res->status == 200) {
		*inspect = cJSON_ParseWithLength(res->body.buf, res->body.len);
		if (cJSON_IsObject(get(*inspect, "State")) && scout_json_nonempty(*inspect, "Id")) {
			ret = 0;
		} else {
			cJSON_Delete(*inspect);
			*inspect = NULL;
			strbuf_addf(&why, "docker: %s: inspecting %s: the answer is not a container",
				    e->host, ref);
			fail(http, out, &why);
		}
	} else {
		strbuf_addf(&url, "inspecting %s", ref);
		docker_engine_explain(&why, e, url.buf, res);
		fail(http, out, &why);
	}
	scout_requests_release(&rs);
	strbuf_release(&url);
	strbuf_release(&why);
	return ret;
}

/* An RFC 3339 time to the nanosecond (dockerd writes RFC3339Nano); 0 or -1. */
static int parse_time_ns(const char *s, time_t *sec, long *ns)
{
	const char *dot = s ? strchr(s, '.') : NULL;

	if (!s || parse_rfc3339(s, sec) < 0)
		return -1;
	*ns = 0;
	if (dot) {
		long scale = 100000000;

		for (const char *p = dot + 1; *p >= '0' && *p <= '9' && scale; p++, scale /= 10)
			*ns += (*p - '0') * scale;
	}
	return 0;
}

static int docker_prepare(struct http_client *http, const struct config *cfg,
			  const struct fix_target *t, cJSON *record, struct strbuf *out)
{
	struct docker_engine e;
	struct strbuf why = STRBUF_INIT;
	cJSON *inspect = NULL;
	int r;

	if (docker_engine_read(cfg, &e, &why) < 0) {
		r = fail(http, out, &why);
		goto out;
	}
	r = docker_inspect(http, &e, t->container, &inspect, out);
	if (r > 0)
		r = failf(out, "docker: no container %s", t->container);
	if (r < 0)
		goto out;
	cJSON_AddStringToObject(record, "container", t->container);
	cJSON_AddStringToObject(record, "id", scout_json_string(inspect, "Id"));
	cJSON_AddStringToObject(record, "started_at",
				scout_json_string(get(inspect, "State"), "StartedAt") ?
				scout_json_string(get(inspect, "State"), "StartedAt") : "");
out:
	cJSON_Delete(inspect);
	docker_engine_release(&e);
	strbuf_release(&why);
	return r;
}

static int docker_run(struct http_client *http, const struct config *cfg,
		      const cJSON *record, struct strbuf *out)
{
	struct docker_engine e;
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct strbuf url = STRBUF_INIT, why = STRBUF_INIT;
	const char *id = record_string(record, "id", "restart", out);
	const char *name = scout_json_nonempty(record, "container");
	int ret = -1;

	if (!id)
		return -1;
	if (!name)
		name = id;
	if (docker_engine_read(cfg, &e, &why) < 0) {
		ret = fail(http, out, &why);
		goto out;
	}
	strbuf_addf(&url, "%s/containers/", e.base);
	http_urlencode(&url, id);
	strbuf_addf(&url, "/restart?t=%d", DOCKER_STOP_WAIT);
	req.method = "POST";
	req.url = url.buf;
	req.unix_socket = e.socket;
	/* Twice would be two restarts; and dockerd may take the whole wait to stop it. */
	req.no_retry = 1;
	req.timeout_ms = http->timeout_ms + DOCKER_STOP_WAIT * 1000;
	http_do(http, &req, &res);
	if (res.outcome == HTTP_OK && res.status / 100 == 2) {
		strbuf_addf(out, "container %s restarted", name);
		ret = 0;
	} else if (res.outcome == HTTP_OK && res.status == 404) {
		ret = failf(out, "docker: no container %s", name);
	} else {
		strbuf_reset(&url);
		strbuf_addf(&url, "restarting %s", name);
		docker_engine_explain(&why, &e, url.buf, &res);
		ret = fail(http, out, &why);
	}
out:
	http_request_release(&req);
	http_response_release(&res);
	docker_engine_release(&e);
	strbuf_release(&url);
	strbuf_release(&why);
	return ret;
}

static int docker_check(struct http_client *http, const struct config *cfg,
			const cJSON *record, struct strbuf *out)
{
	struct docker_engine e;
	struct strbuf why = STRBUF_INIT;
	const char *id = record_string(record, "id", "restart", out);
	const char *name = scout_json_nonempty(record, "container");
	const char *before = scout_json_string(record, "started_at"), *now;
	cJSON *inspect = NULL;
	time_t s0, s1;
	long n0, n1;
	int r;

	if (!id)
		return -1;
	if (docker_engine_read(cfg, &e, &why) < 0) {
		r = fail(http, out, &why);
		goto out;
	}
	/* By id: a container made anew under the same name is not the one restarted. */
	r = docker_inspect(http, &e, id, &inspect, out);
	if (r > 0)
		r = failf(out, "docker: no container %s", name ? name : id);
	if (r < 0)
		goto out;
	now = scout_json_string(get(inspect, "State"), "StartedAt");
	if (!now || parse_time_ns(now, &s1, &n1) < 0) {
		r = failf(out, "docker: container %s has no start time", name ? name : id);
		goto out;
	}
	if (before && *before && parse_time_ns(before, &s0, &n0) == 0 &&
	    (s1 < s0 || (s1 == s0 && n1 <= n0))) {
		strbuf_addf(out, "container %s started at %s, as before", name ? name : id, now);
		r = 0;
	} else if (!scout_json_bool(get(inspect, "State"), "Running")) {
		strbuf_addf(out, "container %s started at %s but is not running",
			    name ? name : id, now);
		r = 0;
	} else {
		strbuf_addf(out, "container %s restarted at %s", name ? name : id, now);
		r = 1;
	}
out:
	cJSON_Delete(inspect);
	docker_engine_release(&e);
	strbuf_release(&why);
	return r;
}

/* ---- Kubernetes ---- */

struct kube {
	struct kubeconfig kc;
	const char *ns, *name;  /* the Deployment's namespace and name, borrowed */
	char *object;           /* "deployment <ns>/<name>", for messages */
	char *url;              /* the Deployment's URL */
};

static int kube_open(struct kube *k, struct http_client *http, const struct config *cfg,
		     const char *ns, const char *name, struct strbuf *out)
{
	struct strbuf err = STRBUF_INIT, url = STRBUF_INIT;

	memset(k, 0, sizeof(*k));
	k->ns = ns;
	k->name = name;
	k->object = xstrfmt("deployment %s/%s", ns, name);
	if (kubeconfig_load(&k->kc, cfg, http, &err) < 0) {
		struct strbuf line = STRBUF_INIT;

		strbuf_addf(&line, "kubernetes: %s", err.buf);
		strbuf_release(&err);
		return fail(http, out, &line);
	}
	strbuf_addf(&url, "%s/apis/apps/v1/namespaces/", k->kc.server);
	http_urlencode(&url, ns);
	strbuf_addstr(&url, "/deployments/");
	http_urlencode(&url, name);
	k->url = strbuf_detach(&url, NULL);
	return 0;
}

static void kube_close(struct kube *k)
{
	kubeconfig_release(&k->kc);
	free(k->object);
	free(k->url);
}

/*
 * method url (the Deployment's, with suffix after it), with body (NULL:
 * none) of content_type: 0 and the answer (the caller's), which must be
 * of this kind; or -1 with "kubernetes: <what>: <why>" in out, why being
 * curl's error, or the status and the API server's own message.
 */
static int kube_call(struct kube *k, struct http_client *http, const char *method,
		     const char *url, const char *content_type, const char *body,
		     const char *kind, const char *what, cJSON **answer, struct strbuf *out)
{
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct strbuf why = STRBUF_INIT;
	char *msg = NULL, *not_kind;
	int ret = -1;

	*answer = NULL;
	req.method = method;
	req.url = url;
	strvec_push(&req.headers, "Accept: application/json");
	if (body) {
		strvec_pushf(&req.headers, "Content-Type: %s", content_type);
		req.body = body;
		req.body_len = strlen(body);
	}
	kubeconfig_apply(&k->kc, &req);
	http_do(http, &req, &res);
	if (res.outcome == HTTP_OK && res.status / 100 == 2) {
		cJSON *a = cJSON_ParseWithLength(res.body.buf, res.body.len);
		const char *got = scout_json_string(a, "kind");

		if (got && !strcmp(got, kind)) {
			*answer = a;
			ret = 0;
			goto out;
		}
		cJSON_Delete(a);
	} else if (res.status) {
		/* A Status object's message: the API server's reason, on one line. */
		cJSON *st = cJSON_ParseWithLength(res.body.buf, res.body.len);
		const char *m = scout_json_nonempty(st, "message");

		msg = m ? scout_one_line(m, MESSAGE_MAX) : NULL;
		cJSON_Delete(st);
	}
	strbuf_addf(&why, "kubernetes: %s: ", what);
	not_kind = xstrfmt("the answer is not a%s %s", strchr("AEIOU", kind[0]) ? "n" : "", kind);
	scout_answer_why(&why, &res, NULL, not_kind, msg);
	free(not_kind);
	fail(http, out, &why);
out:
	free(msg);
	http_request_release(&req);
	http_response_release(&res);
	strbuf_release(&why);
	return ret;
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
	const char *ns = scout_json_nonempty(record, "namespace");
	const char *name = scout_json_nonempty(record, "deployment");

	return kube_open(k, http, cfg, ns ? ns : t->namespace, name ? name : t->deployment, out);
}

static const cJSON *template_of(const cJSON *obj)
{
	return get(get(obj, "spec"), "template");
}

static const char *restarted_at(const cJSON *deployment)
{
	return scout_json_string(get(get(template_of(deployment), "metadata"), "annotations"),
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
		return failf(out, "restart: %s was restarted at %s already: try again in a second",
			     k->object, now);
	}
	cJSON_AddStringToObject(record, "namespace", k->ns);
	cJSON_AddStringToObject(record, "deployment", k->name);
	cJSON_AddStringToObject(record, "restarted_at", now);
	cJSON_AddNumberToObject(record, "generation",
				(double)scout_json_int(get(d, "metadata"), "generation"));
	cJSON_Delete(d);
	return 0;
}

static int kube_restart_run(struct kube *k, struct http_client *http, const cJSON *record,
			    struct strbuf *out)
{
	const char *value = record_string(record, "restarted_at", "restart", out);
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
		    scout_json_int(get(d, "metadata"), "generation"));
	cJSON_Delete(d);
	return 0;
}

static int kube_restart_check(struct kube *k, struct http_client *http, const cJSON *record,
			      struct strbuf *out)
{
	const char *value = record_string(record, "restarted_at", "restart", out), *now;
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
	const cJSON *asked = get(params, "replicas");
	long long current, n = 0;
	cJSON *scale;

	if (asked && (json_whole(asked, &n) < 0))
		return failf(out, "scale: the replicas asked for are not a whole number");
	if (kube_get(k, http, "/scale", &scale, out) < 0)
		return -1;
	current = scout_json_int(get(scale, "spec"), "replicas");
	cJSON_Delete(scale);
	if (!asked)
		n = current + 1;
	if (t->max_replicas > 0 && n > t->max_replicas)
		return failf(out, "scale: %lld replicas is past service.%s.max-replicas (%lld)", n,
			     t->service, t->max_replicas);
	if (n < 1)
		return failf(out, "scale: %lld replicas is below 1", n);
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

	if (record_whole(record, "replicas", "scale", &n, out) < 0)
		return -1;
	body = cJSON_CreateObject();
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(body, "spec"), "replicas", (double)n);
	if (kube_patch(k, http, "/scale", "application/merge-patch+json", body, &scale, out) < 0)
		return -1;
	if (json_whole(get(record, "from"), &from) == 0)
		strbuf_addf(out, "%s scaled from %lld to %lld replicas", k->object, from,
			    scout_json_int(get(scale, "spec"), "replicas"));
	else
		strbuf_addf(out, "%s scaled to %lld replicas", k->object,
			    scout_json_int(get(scale, "spec"), "replicas"));
	cJSON_Delete(scale);
	return 0;
}

static int kube_scale_check(struct kube *k, struct http_client *http, const cJSON *record,
			    struct strbuf *out)
{
	long long n, now;
	cJSON *scale;

	if (record_whole(record, "replicas", "scale", &n, out) < 0 ||
	    kube_get(k, http, "/scale", &scale, out) < 0)
		return -1;
	now = scout_json_int(get(scale, "spec"), "replicas");
	cJSON_Delete(scale);
	strbuf_addf(out, "%s asks for %lld replicas%s", k->object, now,
		    now == n ? "" : n > now ? ", fewer than recorded" : ", more than recorded");
	return now == n;
}

/* A Kubernetes object's revision annotation, or -1. */
static long long revision_of(const cJSON *obj)
{
	const char *v = scout_json_string(get(get(obj, "metadata"), "annotations"), REVISION);
	long long n;

	return v && parse_ll(v, &n) == 0 && n > 0 ? n : -1;
}

/* Does the Deployment d control the ReplicaSet rs? */
static int owned_by(const cJSON *rs, const cJSON *d)
{
	const char *name = scout_json_string(get(d, "metadata"), "name");
	const char *uid = scout_json_nonempty(get(d, "metadata"), "uid");
	const cJSON *owner;

	cJSON_ArrayForEach(owner, get(get(rs, "metadata"), "ownerReferences")) {
		const char *kind = scout_json_string(owner, "kind");
		const char *oname = scout_json_string(owner, "name");
		const char *ouid = scout_json_nonempty(owner, "uid");

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

	cJSON_ArrayForEach(c, get(get(template, "spec"), "containers"))
		strbuf_addf(sb, "%s%s", sb->len > start ? ", " : "",
			    scout_json_string(c, "image") ? scout_json_string(c, "image") : "?");
}

/*
 * rollback: the template of the ReplicaSet of the revision asked for, else
 * of the highest revision below the Deployment's own, as kubectl picks it.
 */
static int kube_rollback_prepare(struct kube *k, struct http_client *http, const cJSON *params,
				 cJSON *record, struct strbuf *out)
{
	const cJSON *asked = get(params, "revision"), *rs, *chosen = NULL;
	struct strbuf url = STRBUF_INIT;
	long long want = -1, current, best = -1;
	cJSON *d = NULL, *list = NULL, *template;
	char *what;
	int ret = -1;

	if (asked && (json_whole(asked, &want) < 0 || want < 1))
		return failf(out, "rollback: the revision asked for is not a revision number");
	if (kube_get(k, http, "", &d, out) < 0)
		return -1;
	strbuf_addf(&url, "%s/apis/apps/v1/namespaces/", k->kc.server);
	http_urlencode(&url, k->ns);
	strbuf_addstr(&url, "/replicasets");
	what = xstrfmt("replicasets in %s", k->ns);
	ret = kube_call(k, http, "GET", url.buf, NULL, NULL, "ReplicaSetList", what, &list, out);
	free(what);
	strbuf_release(&url);
	if (ret < 0)
		goto out;
	ret = -1;

	current = revision_of(d);
	if (current < 0) /* no annotation yet: the newest ReplicaSet is the current one */
		cJSON_ArrayForEach(rs, get(list, "items"))
			if (owned_by(rs, d) && revision_of(rs) > current)
				current = revision_of(rs);
	cJSON_ArrayForEach(rs, get(list, "items")) {
		long long r = revision_of(rs);

		if (!owned_by(rs, d) || r < 0)
			continue;
		if (want > 0 ? r == want : r < current && r > best) {
			chosen = rs;
			best = r;
		}
	}
	if (want > 0 && want == current) {
		failf(out, "rollback: %s runs revision %lld already", k->object, want);
		goto out;
	}
	if (!chosen) {
		if (want < 0 && current < 0)
			failf(out, "rollback: %s has no ReplicaSet with a revision", k->object);
		else if (want > 0)
			failf(out, "rollback: %s has no revision %lld", k->object, want);
		else
			failf(out, "rollback: %s has no revision before %lld", k->object, current);
		goto out;
	}

	/* The ReplicaSet's own label is the controller's to add: kubectl drops it too. */
	template = cJSON_Duplicate(template_of(chosen), 1);
	cJSON_DeleteItemFromObjectCaseSensitive(get(get(template, "metadata"), "labels"),
						TEMPLATE_HASH);
	if (!cJSON_IsObject(template) || !cJSON_GetArraySize(get(get(template, "spec"), "containers"))) {
		cJSON_Delete(template);
		failf(out, "rollback: the ReplicaSet of %s's revision %lld has no pod template",
		      k->object, best);
		goto out;
	}
	if (cJSON_Compare(template, template_of(d), 1)) {
		cJSON_Delete(template);
		failf(out, "rollback: %s runs the template of revision %lld already", k->object,
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
	const cJSON *template = get(record, "template");
	long long revision;
	cJSON *body, *op, *d;

	if (!cJSON_IsObject(template))
		return failf(out, "rollback: the action's record has no \"template\"");
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
	if (json_whole(get(record, "revision"), &revision) == 0)
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
	const cJSON *template = get(record, "template");
	cJSON *d;
	int r;

	if (!cJSON_IsObject(template))
		return failf(out, "rollback: the action's record has no \"template\"");
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

/* ---- a process ---- */

/*
 * Run argv with stdin from /dev/null and its stdout and stderr into a
 * memory file, waiting at most timeout_ms (service.<name>.timeout) for it
 * alone; past that, it and every process of its group are killed. Not a pipe
 * to EOF, as run_command_capture() reads: a start command that leaves its
 * daemon behind holding stdout (`app &`) would keep sre waiting as long
 * as the daemon lives, and closing the pipe on it would kill it with
 * SIGPIPE. The daemon it leaves behind is in the command's process group,
 * so a start cut off takes its half-started daemon with it, while one that
 * finished in time leaves it running. The last COMMAND_OUTPUT_MAX bytes go
 * to output. Returns the exit status, 128 + signal, or -1 with why in
 * output (no process made, or it ran too long and was killed).
 */
static int run_captured(const char **argv, const char *service, int64_t timeout_ms,
			struct strbuf *output)
{
	int fd = memfd_create("sre-action", MFD_CLOEXEC), status = 0, ret;
	int64_t end;
	struct strbuf limit = STRBUF_INIT;
	pid_t pid, w;
	off_t size;

	if (timeout_ms <= 0)
		timeout_ms = FIX_COMMAND_TIMEOUT_MS;
	end = monotonic_ms() + timeout_ms;
	if (fd < 0) {
		strbuf_addf(output, "cannot make a file for the output of '%s': %s", argv[0],
			    strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		strbuf_addf(output, "cannot fork '%s': %s", argv[0], strerror(errno));
		close(fd);
		return -1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		child_own_group();
		if (nul >= 0)
			dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid); /* as the child does: whichever runs first */
	for (;;) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		struct stat st;

		w = waitpid(pid, &status, WNOHANG);
		if (w < 0 && errno == EINTR)
			continue;
		if (w || monotonic_ms() >= end)
			break;
		/*
		 * Only the end is kept: past the cap, start again at the top
		 * (the offset is shared with the child), so a chatty command
		 * cannot fill memory.
		 */
		if (!fstat(fd, &st) && st.st_size > COMMAND_OUTPUT_CAP &&
		    !ftruncate(fd, 0))
			lseek(fd, 0, SEEK_SET);
		nanosleep(&ts, NULL);
	}
	if (w == 0) {
		kill_process_group(pid);
		format_timeout(&limit, timeout_ms);
		strbuf_addf(output, "'%s' was cut off after %s (service.%s.timeout) and killed",
			    argv[0], limit.buf, service);
		strbuf_release(&limit);
		close(fd);
		return -1;
	}
	if (w < 0) {
		strbuf_addf(output, "cannot wait for '%s': %s", argv[0], strerror(errno));
		close(fd);
		return -1;
	}
	ret = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	size = lseek(fd, 0, SEEK_END);
	if (size > 0 && lseek(fd, size > COMMAND_OUTPUT_MAX ? size - COMMAND_OUTPUT_MAX : 0,
			      SEEK_SET) >= 0 &&
	    strbuf_read_fd(output, fd, COMMAND_OUTPUT_MAX) < 0)
		strbuf_reset(output);
	close(fd);
	return ret;
}

/* The last line of a command's output with text in it, on one line; caller frees. */
static char *last_line(const char *text)
{
	const char *start = NULL, *p = text;

	while (*p) {
		const char *eol = strchrnul(p, '\n');

		for (const char *q = p; q < eol; q++)
			if (*q != ' ' && *q != '\t' && *q != '\r') {
				start = p;
				break;
			}
		p = *eol ? eol + 1 : eol;
	}
	if (!start)
		return NULL;
	{
		char *line = xstrndup(start, strcspn(start, "\n"));
		char *one = scout_one_line(line, MESSAGE_MAX);

		free(line);
		return one;
	}
}

/* A live process in the pidfile other than before (0: any): its id, or 0. */
static long long new_pid(const char *pidfile, long long before)
{
	long long pid = pidfile_read(pidfile);

	return pid && pid != before && process_alive(pid) ? pid : 0;
}

static int process_prepare(const struct fix_target *t, cJSON *record, struct strbuf *out)
{
	long long pid;

	if (!t->start.nr)
		return failf(out, "restart: service.%s.start is not set", t->service);
	if (!t->pidfile)
		return failf(out, "restart: service.%s.pidfile is not set: sre cannot see the "
			     "process start", t->service);
	pid = pidfile_read(t->pidfile);
	/* Without stop, a live process would get a second instance beside it. */
	if (!t->stop.nr && process_alive(pid))
		return failf(out, "restart: process %lld of %s is running and service.%s.stop is "
			     "not set", pid, t->service, t->service);
	cJSON_AddStringToObject(record, "pidfile", t->pidfile);
	if (pid)
		cJSON_AddNumberToObject(record, "pid", (double)pid);
	else
		cJSON_AddNullToObject(record, "pid");
	return 0;
}

static int process_run(struct http_client *http, const struct fix_target *t,
		       const cJSON *record, struct strbuf *out)
{
	const char *pidfile = record_string(record, "pidfile", "restart", out);
	struct strbuf output = STRBUF_INIT, line = STRBUF_INIT, stopped = STRBUF_INIT;
	long long before = 0, pid = 0;
	int64_t end;
	char *last;
	int rc;

	if (!pidfile)
		return -1;
	if (!t->start.nr)
		return failf(out, "restart: service.%s.start is not set", t->service);
	json_whole(get(record, "pid"), &before);

	if (t->stop.nr) {
		/* A stop that fails (nothing to stop) is said, and start still runs. */
		rc = run_captured(t->stop.v, t->service, t->timeout_ms, &output);
		last = rc ? last_line(output.buf) : NULL;
		if (rc < 0)
			strbuf_addf(&stopped, "service.%s.stop failed: %s; ", t->service,
				    last ? last : "");
		else if (rc)
			strbuf_addf(&stopped, "service.%s.stop exited with %d%s%s; ", t->service, rc,
				    last ? ": " : "", last ? last : "");
		free(last);
		strbuf_reset(&output);
	}
	rc = run_captured(t->start.v, t->service, t->timeout_ms, &output);
	if (rc) {
		last = last_line(output.buf);
		if (rc < 0)
			strbuf_addf(&line, "restart: service.%s.start failed: %s", t->service,
				    last ? last : "");
		else
			strbuf_addf(&line, "restart: service.%s.start exited with %d%s%s", t->service,
				    rc, last ? ": " : "", last ? last : "");
		free(last);
		strbuf_release(&output);
		strbuf_release(&stopped);
		return fail(http, out, &line);
	}
	strbuf_release(&output);

	end = monotonic_ms() + PIDFILE_WAIT_MS;
	while (!(pid = new_pid(pidfile, before)) && monotonic_ms() < end) {
		sleep_ms(PIDFILE_POLL_MS);
	}
	if (!pid) {
		long long now = pidfile_read(pidfile);

		strbuf_release(&stopped);
		if (!now)
			strbuf_addf(&line, "restart: %s holds no process id %d s after "
				    "service.%s.start", pidfile, PIDFILE_WAIT_MS / 1000, t->service);
		else
			strbuf_addf(&line, "restart: %s holds %lld%s %d s after service.%s.start",
				    pidfile, now, now == before ? ", as before," : ", no live process,",
				    PIDFILE_WAIT_MS / 1000, t->service);
		return fail(http, out, &line);
	}
	if (before)
		strbuf_addf(&stopped, "%s restarted: pid %lld, was %lld", t->service, pid, before);
	else
		strbuf_addf(&stopped, "%s started: pid %lld", t->service, pid);
	http_redact(http, &stopped);
	strbuf_addstr(out, stopped.buf);
	strbuf_release(&stopped);
	strbuf_release(&line);
	return 0;
}

static int process_check(const cJSON *record, struct strbuf *out)
{
	const char *pidfile = record_string(record, "pidfile", "restart", out);
	long long before = 0, pid;

	if (!pidfile)
		return -1;
	json_whole(get(record, "pid"), &before);
	pid = new_pid(pidfile, before);
	if (pid)
		strbuf_addf(out, "%s holds pid %lld, a new live process", pidfile, pid);
	else
		strbuf_addf(out, "%s holds no new live process", pidfile);
	return pid ? 1 : 0;
}

/* ---- which action ---- */

enum direct {
	DIRECT_NONE,
	DOCKER_RESTART,
	KUBE_RESTART,
	KUBE_SCALE,
	KUBE_ROLLBACK,
	PROCESS_RESTART,
};

/* The action a on t's runtime, or DIRECT_NONE with why in out. */
static enum direct direct_of(const struct fix_target *t, enum mitigation_action a,
			     struct strbuf *out)
{
	const char *name = mitigation_action_name(a);

	if (a != ACTION_restart && a != ACTION_scale && a != ACTION_rollback) {
		strbuf_addf(out, "%s: not a direct action (restart, scale or rollback)", name);
		return DIRECT_NONE;
	}
	switch (t->runtime) {
	case RUNTIME_DOCKER:
		if (a == ACTION_restart)
			return DOCKER_RESTART;
		break;
	case RUNTIME_KUBERNETES:
		return a == ACTION_restart ? KUBE_RESTART : a == ACTION_scale ? KUBE_SCALE
									  : KUBE_ROLLBACK;
	case RUNTIME_PROCESS:
		if (a == ACTION_restart)
			return PROCESS_RESTART;
		break;
	case RUNTIME_NONE:
		strbuf_addf(out, "%s: service.%s.runtime is not set", name, t->service);
		return DIRECT_NONE;
	}
	strbuf_addf(out, "%s: the %s runtime cannot %s", name, fix_runtime_name(t->runtime),
		    a == ACTION_rollback ? "roll back" : name);
	return DIRECT_NONE;
}

int action_prepare(struct http_client *http, const struct config *cfg,
		   const struct fix_target *t, enum mitigation_action a, const cJSON *params,
		   cJSON *record, struct strbuf *out)
{
	enum direct d = direct_of(t, a, out);
	struct kube k;
	int r;

	switch (d) {
	case DIRECT_NONE:
		return -1;
	case DOCKER_RESTART:
		return docker_prepare(http, cfg, t, record, out);
	case PROCESS_RESTART:
		return process_prepare(t, record, out);
	default:
		break;
	}
	if (kube_open(&k, http, cfg, t->namespace, t->deployment, out) < 0) {
		kube_close(&k);
		return -1;
	}
	if (d == KUBE_RESTART)
		r = kube_restart_prepare(&k, http, record, out);
	else if (d == KUBE_SCALE)
		r = kube_scale_prepare(&k, http, t, params, record, out);
	else
		r = kube_rollback_prepare(&k, http, params, record, out);
	kube_close(&k);
	return r;
}

int action_run(struct http_client *http, const struct config *cfg,
	       const struct fix_target *t, enum mitigation_action a, const cJSON *record,
	       struct strbuf *out)
{
	enum direct d = direct_of(t, a, out);
	struct kube k;
	int r;

	switch (d) {
	case DIRECT_NONE:
		return -1;
	case DOCKER_RESTART:
		return docker_run(http, cfg, record, out);
	case PROCESS_RESTART:
		return process_run(http, t, record, out);
	default:
		break;
	}
	if (kube_open_record(&k, http, cfg, t, record, out) < 0) {
		kube_close(&k);
		return -1;
	}
	if (d == KUBE_RESTART)
		r = kube_restart_run(&k, http, record, out);
	else if (d == KUBE_SCALE)
		r = kube_scale_run(&k, http, record, out);
	else
		r = kube_rollback_run(&k, http, record, out);
	kube_close(&k);
	return r;
}

int action_check(struct http_client *http, const struct config *cfg,
		 const struct fix_target *t, enum mitigation_action a, const cJSON *record,
		 struct strbuf *out)
{
	enum direct d = direct_of(t, a, out);
	struct kube k;
	int r;

	switch (d) {
	case DIRECT_NONE:
		return -1;
	case DOCKER_RESTART:
		return docker_check(http, cfg, record, out);
	case PROCESS_RESTART:
		return process_check(record, out);
	default:
		break;
	}
	if (kube_open_record(&k, http, cfg, t, record, out) < 0) {
		kube_close(&k);
		return -1;
	}
	if (d == KUBE_RESTART)
		r = kube_restart_check(&k, http, record, out);
	else if (d == KUBE_SCALE)
		r = kube_scale_check(&k, http, record, out);
	else
		r = kube_rollback_check(&k, http, record, out);
	kube_close(&k);
	return r;
}
