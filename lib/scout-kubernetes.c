/*
 * scout-kubernetes.c: the Kubernetes source of `sre scout`.
 *
 * For each namespace in kubernetes.namespace it lists the pods and the
 * Warning events, all at once, from the API server the kubeconfig names
 * (lib/kubeconfig.c), and judges each pod by what its status says:
 *
 *   oomkilled      a container terminated OOMKilled, now or (within
 *                  kubernetes.oom-window) as its last state     high
 *   crashloop      a container waiting in CrashLoopBackOff      high
 *   image-pull     waiting in ImagePullBackOff or ErrImagePull   high
 *   config-error   waiting in CreateContainerConfigError         high
 *   evicted        phase Failed, reason Evicted                  medium
 *   unschedulable  Pending, PodScheduled False: Unschedulable    medium
 *   not-ready      Running, Ready False for scout.not-ready-grace medium
 *   restarts       a restartCount above scout.max-restarts       medium
 *
 * and each Warning event by its object and reason ("event/<reason>",
 * low). Only failing findings are made: a pod that is well is simply not
 * mentioned, which the decision reads as healthy for the incidents this
 * source opened. The check is "pod/<namespace>/<pod>"; the service is the
 * pod's app.kubernetes.io/name or app label, else its workload (the
 * Deployment of its ReplicaSet, its StatefulSet or DaemonSet), else the
 * pod's own name.
 *
 * The requests are built by the API's client, lib/kubernetes.c, as the
 * collector's and the runtime's are: this file is what scout makes of the
 * answers (the findings).
 */
#include <cJSON.h>

#include "kubeconfig.h"
#include "kubernetes.h"
#include "scout.h"
#include "timeutil.h"

#define PARALLEL 8       /* requests in flight at once */
#define TEXT_MAX 300     /* the longest message quoted in a summary */

/* ---- configuration ---- */

/* Every namespace named, in order, once: comma-separated or repeated keys. */
static void namespaces(const struct config *cfg, struct strvec *out)
{
	scout_list_key(cfg, "kubernetes.namespace", ",", out);
}

int kubernetes_configured(const struct config *cfg)
{
	struct strvec ns = STRVEC_INIT;
	int configured;

	namespaces(cfg, &ns);
	configured = ns.nr > 0;
	strvec_clear(&ns);
	return configured;
}

struct limits {
	int64_t not_ready_grace_ms;
	int64_t oom_window_ms;
	long long max_restarts;
	time_t now;
};

static int duration_key(const struct config *cfg, const char *key, int64_t *out,
			struct strbuf *err)
{
	const char *v = config_get_string(cfg, key);

	if (v && parse_duration_ms(v, out) < 0) {
		strbuf_addf(err, "kubernetes: %s is \"%s\", not a duration", key, v);
		return -1;
	}
	return 0;
}

static int read_limits(const struct config *cfg, struct limits *l, struct strbuf *err)
{
	const char *v = config_get_string(cfg, "scout.max-restarts");

	l->not_ready_grace_ms = 5 * 60 * 1000;
	l->oom_window_ms = 60 * 60 * 1000;
	l->now = sre_now();
	if (duration_key(cfg, "scout.not-ready-grace", &l->not_ready_grace_ms, err) < 0 ||
	    duration_key(cfg, "kubernetes.oom-window", &l->oom_window_ms, err) < 0)
		return -1;
	if (scout_max_restarts(cfg, &l->max_restarts) < 0) {
		strbuf_addf(err, "kubernetes: scout.max-restarts is \"%s\", not a count", v);
		return -1;
	}
	return 0;
}

/* ---- reading the API's objects ---- */

static const cJSON *get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int str_is(const cJSON *obj, const char *key, const char *want)
{
	const char *v = scout_json_string(obj, key);

	return v && !strcmp(v, want);
}

/* Append s on one line, blanks folded, cut at TEXT_MAX bytes (on a UTF-8 boundary). */
static void add_oneline(struct strbuf *sb, const char *s)
{
	size_t start = sb->len;
	int blank = 0;

	for (; s && *s; s++) {
		if (strchr(" \t\r\n", *s)) {
			blank = sb->len > start;
			continue;
		}
		if (blank)
			strbuf_addch(sb, ' ');
		blank = 0;
		strbuf_addch(sb, *s);
	}
	if (sb->len - start > TEXT_MAX) {
		strbuf_setlen(sb, start + utf8_cut(sb->buf + start, sb->len - start, TEXT_MAX));
		strbuf_addstr(sb, "...");
	}
}

static char *oneline(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	add_oneline(&sb, s);
	return strbuf_detach(&sb, NULL);
}


/* ---- judging a pod ---- */

struct pod {
	const char *ns, *name;
	char *service;
	char *check;
	const cJSON *obj;
	unsigned seen; /* the signals already reported for this pod */
};

enum signal_bit {
	SIG_OOMKILLED = 1 << 0,
	SIG_CRASHLOOP = 1 << 1,
	SIG_IMAGE_PULL = 1 << 2,
	SIG_CONFIG_ERROR = 1 << 3,
	SIG_RESTARTS = 1 << 4,
};

/*
 * A failing finding about pod p, with the evidence every signal shares;
 * NULL when this signal was already reported for the pod (several
 * containers may say the same thing: the first one speaks).
 */
static struct finding *pod_finding(struct findings *out, struct pod *p, unsigned bit,
				   const char *signal, enum incident_severity severity,
				   const char *container, const char *reason)
{
	struct finding *f;

	if (p->seen & bit)
		return NULL;
	p->seen |= bit;
	f = finding_add(out, "kubernetes", p->check, p->service, signal);
	f->failing = 1;
	f->severity = severity;
	f->evidence = cJSON_CreateObject();
	cJSON_AddStringToObject(f->evidence, "namespace", p->ns);
	cJSON_AddStringToObject(f->evidence, "pod", p->name);
	if (container)
		cJSON_AddStringToObject(f->evidence, "container", container);
	if (reason)
		cJSON_AddStringToObject(f->evidence, "reason", reason);
	return f;
}

static void evidence_str(struct finding *f, const char *key, const char *value)
{
	if (value && *value) {
		char *v = oneline(value);
		cJSON_AddStringToObject(f->evidence, key, v);
		free(v);
	}
}

/* The spec of the container called name (containers or initContainers), or NULL. */
static const cJSON *container_spec(const cJSON *pod, const char *name)
{
	static const char *const lists[] = { "containers", "initContainers" };
	const cJSON *spec = get(pod, "spec"), *c;

	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		cJSON_ArrayForEach(c, get(spec, lists[i]))
			if (str_is(c, "name", name))
				return c;
	return NULL;
}

/* How long ago an RFC 3339 time was, in ms; -1 when it cannot be read. */
static int64_t age_ms(const char *when, time_t now)
{
	time_t t;

	if (!when || parse_iso8601(when, &t) < 0)
		return -1;
	return t > now ? 0 : (int64_t)(now - t) * 1000;
}

static void judge_container(struct findings *out, struct pod *p, const cJSON *cs,
			    const struct limits *l)
{
	const char *name = scout_json_string(cs, "name");
	const cJSON *state = get(cs, "state"), *last = get(get(cs, "lastState"), "terminated");
	const cJSON *term = get(state, "terminated"), *waiting = get(state, "waiting");
	const cJSON *spec = container_spec(p->obj, name ? name : "");
	const char *why = scout_json_string(waiting, "reason");
	long long restarts = scout_json_int(cs, "restartCount");
	const cJSON *oom = NULL;
	struct finding *f;

	if (!name)
		return;
	if (str_is(term, "reason", "OOMKilled"))
		oom = term;
	else if (str_is(last, "reason", "OOMKilled") &&
		 age_ms(scout_json_string(last, "finishedAt"), l->now) <= l->oom_window_ms)
		oom = last; /* an unreadable finishedAt counts as recent */
	if (oom && (f = pod_finding(out, p, SIG_OOMKILLED, "oomkilled", SEVERITY_HIGH, name,
				    "OOMKilled"))) {
		const char *limit = scout_json_string(get(get(spec, "resources"), "limits"),
						      "memory");

		if (limit)
			finding_summary(f, "pod %s in %s was OOMKilled (container %s, limit %s)",
					p->name, p->ns, name, limit);
		else
			finding_summary(f, "pod %s in %s was OOMKilled (container %s, no memory limit)",
					p->name, p->ns, name);
		cJSON_AddNumberToObject(f->evidence, "restartCount", (double)restarts);
		cJSON_AddNumberToObject(f->evidence, "exitCode",
					(double)scout_json_int(oom, "exitCode"));
		evidence_str(f, "message", scout_json_string(oom, "message"));
		evidence_str(f, "limit", limit);
		evidence_str(f, "finishedAt", scout_json_string(oom, "finishedAt"));
	}

	if (why && !strcmp(why, "CrashLoopBackOff") &&
	    (f = pod_finding(out, p, SIG_CRASHLOOP, "crashloop", SEVERITY_HIGH, name, why))) {
		if (last)
			finding_summary(f, "pod %s in %s is in CrashLoopBackOff (container %s, "
					"%lld restarts, last exit code %lld%s%s)", p->name, p->ns,
					name, restarts, scout_json_int(last, "exitCode"),
					scout_json_string(last, "reason") ? ": " : "",
					scout_json_string(last, "reason") ?
					scout_json_string(last, "reason") : "");
		else
			finding_summary(f, "pod %s in %s is in CrashLoopBackOff (container %s, "
					"%lld restarts)", p->name, p->ns, name, restarts);
		cJSON_AddNumberToObject(f->evidence, "restartCount", (double)restarts);
		if (last) {
			cJSON_AddNumberToObject(f->evidence, "exitCode",
						(double)scout_json_int(last, "exitCode"));
			evidence_str(f, "lastReason", scout_json_string(last, "reason"));
		}
		evidence_str(f, "message", scout_json_string(waiting, "message"));
	}

	if (why && (!strcmp(why, "ImagePullBackOff") || !strcmp(why, "ErrImagePull")) &&
	    (f = pod_finding(out, p, SIG_IMAGE_PULL, "image-pull", SEVERITY_HIGH, name, why))) {
		const char *image = scout_json_string(spec, "image");

		if (!image)
			image = scout_json_string(cs, "image");
		finding_summary(f, "pod %s in %s cannot pull image %s (container %s, %s)",
				p->name, p->ns, image ? image : "(unknown)", name, why);
		cJSON_AddNumberToObject(f->evidence, "restartCount", (double)restarts);
		evidence_str(f, "image", image);
		evidence_str(f, "message", scout_json_string(waiting, "message"));
	}

	if (why && !strcmp(why, "CreateContainerConfigError") &&
	    (f = pod_finding(out, p, SIG_CONFIG_ERROR, "config-error", SEVERITY_HIGH, name, why))) {
		char *msg = oneline(scout_json_string(waiting, "message"));

		finding_summary(f, "pod %s in %s cannot start container %s: %s", p->name, p->ns,
				name, *msg ? msg : why);
		cJSON_AddNumberToObject(f->evidence, "restartCount", (double)restarts);
		evidence_str(f, "message", msg);
		free(msg);
	}

	if (restarts > l->max_restarts &&
	    (f = pod_finding(out, p, SIG_RESTARTS, "restarts", SEVERITY_MEDIUM, name,
			     last ? scout_json_string(last, "reason") : NULL))) {
		finding_summary(f, "pod %s in %s restarted %lld times (container %s, "
				"more than scout.max-restarts %lld)", p->name, p->ns, restarts,
				name, l->max_restarts);
		cJSON_AddNumberToObject(f->evidence, "restartCount", (double)restarts);
		if (last) {
			cJSON_AddNumberToObject(f->evidence, "exitCode",
						(double)scout_json_int(last, "exitCode"));
			evidence_str(f, "message", scout_json_string(last, "message"));
		}
	}
}

/* The pod's condition of this type, or NULL. */
static const cJSON *condition(const cJSON *status, const char *type)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, get(status, "conditions"))
		if (str_is(c, "type", type))
			return c;
	return NULL;
}

static void judge_pod(struct findings *out, struct pod *p, const struct limits *l)
{
	const cJSON *status = get(p->obj, "status"), *cs, *c;
	const char *phase = scout_json_string(status, "phase");
	struct finding *f;
	char *msg;

	cJSON_ArrayForEach(cs, get(status, "initContainerStatuses"))
		judge_container(out, p, cs, l);
	cJSON_ArrayForEach(cs, get(status, "containerStatuses"))
		judge_container(out, p, cs, l);
	if (!phase)
		return;

	if (!strcmp(phase, "Failed") && str_is(status, "reason", "Evicted")) {
		f = pod_finding(out, p, 0, "evicted", SEVERITY_MEDIUM, NULL, "Evicted");
		msg = oneline(scout_json_string(status, "message"));
		finding_summary(f, "pod %s in %s was evicted%s%s", p->name, p->ns,
				*msg ? ": " : "", msg);
		evidence_str(f, "message", msg);
		free(msg);
	}

	c = condition(status, "PodScheduled");
	if (!strcmp(phase, "Pending") && str_is(c, "status", "False") &&
	    str_is(c, "reason", "Unschedulable")) {
		f = pod_finding(out, p, 0, "unschedulable", SEVERITY_MEDIUM, NULL, "Unschedulable");
		msg = oneline(scout_json_string(c, "message"));
		finding_summary(f, "pod %s in %s cannot be scheduled%s%s", p->name, p->ns,
				*msg ? ": " : "", msg);
		evidence_str(f, "message", msg);
		evidence_str(f, "lastTransitionTime", scout_json_string(c, "lastTransitionTime"));
		free(msg);
	}

	c = condition(status, "Ready");
	if (!strcmp(phase, "Running") && str_is(c, "status", "False")) {
		int64_t age = age_ms(scout_json_string(c, "lastTransitionTime"), l->now);

		if (age > l->not_ready_grace_ms) {
			char since[32];

			format_age(since, sizeof(since), l->now - (time_t)(age / 1000), l->now);
			f = pod_finding(out, p, 0, "not-ready", SEVERITY_MEDIUM, NULL,
					scout_json_string(c, "reason"));
			msg = oneline(scout_json_string(c, "message"));
			finding_summary(f, "pod %s in %s has not been ready for %s%s%s%s", p->name,
					p->ns, since, *msg ? " (" : "", msg, *msg ? ")" : "");
			evidence_str(f, "message", msg);
			evidence_str(f, "lastTransitionTime",
				     scout_json_string(c, "lastTransitionTime"));
			free(msg);
		}
	}
}

/* ---- judging the Warning events ---- */

static const struct pod *pod_named(const struct pod *pods, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(pods[i].name, name))
			return &pods[i];
	return NULL;
}

static void event_summary(struct finding *f, const char *kind, const char *object,
			  const char *reason, const char *message, long long count)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "Warning %s on %s %s", reason, kind, object);
	if (message && *message) {
		strbuf_addstr(&sb, ": ");
		add_oneline(&sb, message);
	}
	if (count > 1)
		strbuf_addf(&sb, " (%lld times)", count);
	finding_summary(f, "%s", sb.buf);
	strbuf_release(&sb);
}

/*
 * One finding per object and reason: a later event of the same pair adds
 * its count and, when newer, gives its message.
 */
static void judge_events(struct findings *out, const cJSON *list, const char *ns,
			 const struct pod *pods, size_t npods)
{
	size_t first = out->nr;
	const cJSON *ev;

	cJSON_ArrayForEach(ev, get(list, "items")) {
		const cJSON *obj = get(ev, "involvedObject");
		const char *kind = scout_json_string(obj, "kind");
		const char *name = scout_json_string(obj, "name");
		const char *obj_ns = scout_json_string(obj, "namespace");
		const char *reason = scout_json_string(ev, "reason");
		const char *when = scout_json_string(ev, "lastTimestamp");
		const char *message = scout_json_string(ev, "message");
		long long count = scout_json_int(ev, "count");
		struct strbuf check = STRBUF_INIT, object = STRBUF_INIT, lkind = STRBUF_INIT;
		struct finding *f = NULL;
		char *signal, *service;

		if (!str_is(ev, "type", "Warning") || !kind || !name || !reason)
			continue;
		if (!when)
			when = scout_json_string(ev, "eventTime");
		if (!count)
			count = scout_json_int(get(ev, "series"), "count");
		/* A server's count is read as at least 1 and at most 2^31, so
		 * that the sum over all events below cannot overflow. */
		if (count < 1)
			count = 1;
		if (count > INT32_MAX)
			count = INT32_MAX;
		strbuf_addstr(&lkind, kind);
		strbuf_tolower(&lkind);
		if (obj_ns && *obj_ns)
			strbuf_addf(&object, "%s/%s", obj_ns, name);
		else
			strbuf_addstr(&object, name);
		strbuf_addf(&check, "%s/%s", lkind.buf, object.buf);
		signal = xstrfmt("event/%s", reason);

		for (size_t i = first; i < out->nr && !f; i++)
			if (!strcmp(out->v[i].check, check.buf) && !strcmp(out->v[i].signal, signal))
				f = &out->v[i];
		if (f) {
			cJSON *c = cJSON_GetObjectItemCaseSensitive(f->evidence, "count");
			const char *prev = scout_json_string(f->evidence, "lastTimestamp");

			count += scout_json_int(f->evidence, "count");
			cJSON_SetNumberValue(c, (double)count);
			if (when && (!prev || strcmp(when, prev) > 0)) {
				cJSON_DeleteItemFromObjectCaseSensitive(f->evidence, "lastTimestamp");
				cJSON_DeleteItemFromObjectCaseSensitive(f->evidence, "message");
				evidence_str(f, "lastTimestamp", when);
				evidence_str(f, "message", message);
			} else {
				message = scout_json_string(f->evidence, "message");
			}
			event_summary(f, lkind.buf, object.buf, reason, message, count);
			goto next;
		}

		if (!strcmp(kind, "Pod") && (!obj_ns || !strcmp(obj_ns, ns)) &&
		    pod_named(pods, npods, name))
			service = xstrdup(pod_named(pods, npods, name)->service);
		else if (!strcmp(kind, "ReplicaSet"))
			service = kubernetes_replicaset_deployment(name, NULL);
		else
			service = xstrdup(name);
		f = finding_add(out, "kubernetes", check.buf, service, signal);
		f->failing = 1;
		f->severity = SEVERITY_LOW;
		f->evidence = cJSON_CreateObject();
		evidence_str(f, "namespace", obj_ns && *obj_ns ? obj_ns : ns);
		evidence_str(f, "kind", kind);
		evidence_str(f, "name", name);
		evidence_str(f, "reason", reason);
		evidence_str(f, "message", message);
		cJSON_AddNumberToObject(f->evidence, "count", (double)count);
		evidence_str(f, "firstTimestamp", scout_json_string(ev, "firstTimestamp"));
		evidence_str(f, "lastTimestamp", when);
		evidence_str(f, "component", scout_json_string(get(ev, "source"), "component"));
		event_summary(f, lkind.buf, object.buf, reason, message, count);
		free(service);
next:
		free(signal);
		strbuf_release(&check);
		strbuf_release(&object);
		strbuf_release(&lkind);
	}
}

/* ---- the requests ---- */

/* The message of a Status object (the API's error body), on one line, or "". */
static char *status_message(const struct http_response *res)
{
	cJSON *st = cJSON_ParseWithLength(res->body.buf, res->body.len);
	char *msg = oneline(scout_json_string(st, "message"));

	cJSON_Delete(st);
	return msg;
}

/*
 * Check one answer and parse it: the list, or NULL with why in err. A
 * message never holds a secret: http.c redacts its own, and the caller
 * redacts this line once more.
 */
static cJSON *answer_list(const struct kubeconfig *kc, const struct http_request *req,
			  const struct http_response *res, const char *kind, struct strbuf *err)
{
	const char *path = req->url + strlen(kc->server);
	cJSON *list;
	char *msg;

	if (res->outcome != HTTP_OK) {
		strbuf_addf(err, "kubernetes: %s: %s", kc->server, res->error.buf);
		return NULL;
	}
	if (res->status == 401 || res->status == 403) {
		msg = status_message(res);
		strbuf_addf(err, "kubernetes: %s refused %s (HTTP %ld%s%s)", kc->server,
			    res->status == 401 ? "the credentials" : "to list", res->status,
			    *msg ? ": " : "", msg);
		if (kc->context)
			strbuf_addf(err, "; context %s of %s", kc->context, kc->path);
		free(msg);
		return NULL;
	}
	if (res->status < 200 || res->status > 299) {
		msg = status_message(res);
		strbuf_addf(err, "kubernetes: GET %s: HTTP %ld%s%s", path, res->status,
			    *msg ? ": " : "", msg);
		free(msg);
		return NULL;
	}
	list = cJSON_ParseWithLength(res->body.buf, res->body.len);
	if (!str_is(list, "kind", kind) || !cJSON_IsArray(get(list, "items"))) {
		strbuf_addf(err, "kubernetes: GET %s: the answer is not a%s %s", path,
			    strchr("AEIOU", kind[0]) ? "n" : "", kind);
		cJSON_Delete(list);
		return NULL;
	}
	return list;
}

int kubernetes_collect(const struct config *cfg, struct http_client *http,
		       struct findings *out, struct strbuf *err)
{
	struct strvec ns = STRVEC_INIT;
	struct kubeconfig kc = KUBECONFIG_INIT;
	struct strbuf why = STRBUF_INIT;
	struct scout_requests rs = SCOUT_REQUESTS_INIT;
	cJSON **lists = NULL;
	struct limits limits;
	int ret = -1;

	namespaces(cfg, &ns);
	if (!ns.nr)
		return 0;
	if (read_limits(cfg, &limits, &why) < 0)
		goto done;
	if (kubeconfig_load(&kc, cfg, http, &why) < 0) {
		char *line = xstrfmt("kubernetes: %s", why.buf);

		strbuf_reset(&why);
		strbuf_addstr(&why, line);
		free(line);
		goto done;
	}

	for (size_t i = 0; i < 2 * ns.nr; i++) {
		kubernetes_queue(&rs, &kc, "/api/v1", ns.v[i / 2],
				 i % 2 ? "events?fieldSelector=type%3DWarning" : "pods");
	}
	http_do_many(http, rs.req, rs.res, rs.nr, PARALLEL);
	lists = xcalloc(rs.nr, sizeof(*lists));
	/* Every answer is checked before any finding is made: all or nothing. */
	for (size_t i = 0; i < rs.nr; i++)
		if (!(lists[i] = answer_list(&kc, &rs.req[i], &rs.res[i],
					     i % 2 ? "EventList" : "PodList", &why)))
			goto done;

	for (size_t i = 0; i < ns.nr; i++) {
		const cJSON *items = get(lists[2 * i], "items"), *item;
		size_t npods = 0;
		struct pod *pods = xcalloc((size_t)cJSON_GetArraySize(items) + 1, sizeof(*pods));

		cJSON_ArrayForEach(item, items) {
			const cJSON *meta = get(item, "metadata");
			struct pod *p = &pods[npods];

			if (!scout_json_string(meta, "name"))
				continue;
			p->ns = ns.v[i];
			p->name = scout_json_string(meta, "name");
			p->service = kubernetes_pod_service(meta);
			p->check = xstrfmt("pod/%s/%s", p->ns, p->name);
			p->obj = item;
			npods++;
			judge_pod(out, p, &limits);
		}
		judge_events(out, lists[2 * i + 1], ns.v[i], pods, npods);
		for (size_t j = 0; j < npods; j++) {
			free(pods[j].service);
			free(pods[j].check);
		}
		free(pods);
	}
	ret = 0;
done:
	if (ret < 0) {
		http_redact(http, &why);
		strbuf_addstr(err, why.buf);
	}
	for (size_t i = 0; lists && i < rs.nr; i++)
		cJSON_Delete(lists[i]);
	free(lists);
	scout_requests_release(&rs);
	strbuf_release(&why);
	kubeconfig_release(&kc);
	strvec_clear(&ns);
	return ret;
}
