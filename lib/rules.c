/*
 * rules.c: the rule engine of `sre diagnose` (see rules.h).
 *
 * The rules run in the order of the table at the end of this file; each
 * reads the evidence and adds a finding for every fault it can quote.
 * Confidences are fixed per kind of fact, and ordered so that the more
 * specific explanation wins when several rules fire on one failure:
 *
 *   0.95  a deploy-regression with a rollout whose new pods fail
 *   0.90  a chronic OOM kill, a bad image, a container killed by the kernel
 *   0.85  a config error, an eviction, an unschedulable pod, a crashed
 *         process, a full disk
 *   0.80  a crash loop, one OOM kill, a commit just before the trouble
 *   0.75  a failing probe; an error origin downstream (up to 0.90 with
 *         the share of failing traces that originate there)
 *   0.70  a slow span on the critical path (0.80 for a latency incident)
 *   0.60  a business metric that fell with nothing technical to show;
 *         an HTTP check alone: refused (the service is down) or a 5xx
 *         (up but failing)
 *   0.55  an HTTP check alone that got no answer in time (slow or hung)
 *   0.50  an HTTP check alone that says a person must look: a name that
 *         does not resolve, TLS, a 4xx or a body without its text, slow
 *
 * An HTTP check alone (scout's evidence on the incident's timeline) is
 * weak evidence: it says what the check saw, not why, so it stays below
 * fix.min-confidence's default and a person approves what rests on it.
 *
 * A transient blip (one OOM kill, the container running and ready
 * again) gets "none"; a chronic fault (repeated kills, a crash loop, the
 * same incident three times in a day) never gets a plain restart.
 */
#include <ctype.h>
#include <math.h>

#include "rules.h"
#include "scout.h"
#include "timeutil.h"
#include "util.h"

#define LINE_MAX_QUOTE 200   /* the longest line quoted as evidence */
#define CHRONIC_RESTARTS 3   /* restarts that make an OOM kill chronic */
#define CHRONIC_PAST 2       /* the same incident this often in the day before: chronic */

static const char *const category_names[] = {
#define X(id, name) name,
	DIAGNOSIS_CATEGORIES(X)
#undef X
};

static const char *const action_names[] = {
#define X(id, name) name,
	MITIGATION_ACTIONS(X)
#undef X
};

const char *diagnosis_category_name(enum diagnosis_category c)
{
	return (unsigned)c < CATEGORY__COUNT ? category_names[c] : "unknown";
}

int diagnosis_category_parse(const char *name, enum diagnosis_category *out)
{
	for (int i = 0; i < CATEGORY__COUNT; i++)
		if (!strcmp(name, category_names[i])) {
			*out = (enum diagnosis_category)i;
			return 0;
		}
	return -1;
}

const char *mitigation_action_name(enum mitigation_action a)
{
	return (unsigned)a < ACTION__COUNT ? action_names[a] : "none";
}

int mitigation_action_parse(const char *name, enum mitigation_action *out)
{
	for (int i = 0; i < ACTION__COUNT; i++)
		if (!strcmp(name, action_names[i])) {
			*out = (enum mitigation_action)i;
			return 0;
		}
	return -1;
}

/* ---- findings ---- */

void diagnosis_finding_release(struct diagnosis_finding *f)
{
	free(f->root_cause);
	free(f->target);
	cJSON_Delete(f->params);
	for (size_t i = 0; i < f->evidence_nr; i++) {
		free(f->evidence[i].source);
		free(f->evidence[i].summary);
	}
	free(f->evidence);
	memset(f, 0, sizeof(*f));
}

static void finding_copy(struct diagnosis_finding *to, const struct diagnosis_finding *from)
{
	memset(to, 0, sizeof(*to));
	to->rule = from->rule;
	to->category = from->category;
	to->root_cause = xstrdup(from->root_cause);
	to->confidence = from->confidence;
	to->action = from->action;
	to->target = from->target ? xstrdup(from->target) : NULL;
	to->params = cJSON_Duplicate(from->params, 1);
	to->evidence_alloc = to->evidence_nr = from->evidence_nr;
	to->evidence = xcalloc(from->evidence_nr ? from->evidence_nr : 1, sizeof(*to->evidence));
	for (size_t i = 0; i < from->evidence_nr; i++) {
		to->evidence[i].source = xstrdup(from->evidence[i].source);
		to->evidence[i].summary = xstrdup(from->evidence[i].summary);
	}
}

void diagnosis_release(struct diagnosis *d)
{
	for (size_t i = 0; i < d->findings_nr; i++)
		diagnosis_finding_release(&d->findings[i]);
	free(d->findings);
	diagnosis_finding_release(&d->answer);
	if (d->have_traces)
		trace_analysis_release(&d->traces);
	localize_release(&d->graph);
	memset(d, 0, sizeof(*d));
}

static struct diagnosis_finding *add_finding(struct diagnosis *d, const char *rule,
					     enum diagnosis_category category, double confidence,
					     enum mitigation_action action, const char *target,
					     const char *fmt, ...) SRE_PRINTF(7, 8);

static struct diagnosis_finding *add_finding(struct diagnosis *d, const char *rule,
					     enum diagnosis_category category, double confidence,
					     enum mitigation_action action, const char *target,
					     const char *fmt, ...)
{
	struct diagnosis_finding *f;
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	ALLOC_GROW(d->findings, d->findings_nr + 1, d->findings_alloc);
	f = &d->findings[d->findings_nr++];
	memset(f, 0, sizeof(*f));
	f->rule = rule;
	f->category = category;
	f->confidence = confidence;
	f->action = action;
	f->target = target ? xstrdup(target) : NULL;
	f->params = cJSON_CreateObject();
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	f->root_cause = strbuf_detach(&sb, NULL);
	return f;
}

static void quote(struct diagnosis_finding *f, const char *source, const char *fmt, ...)
	SRE_PRINTF(3, 4);

/* Add a line of evidence, on one line, cut to a readable length. */
static void quote(struct diagnosis_finding *f, const char *source, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	struct diagnosis_evidence *e;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ALLOC_GROW(f->evidence, f->evidence_nr + 1, f->evidence_alloc);
	e = &f->evidence[f->evidence_nr++];
	e->source = xstrdup(source);
	e->summary = scout_one_line(sb.buf, LINE_MAX_QUOTE);
	strbuf_release(&sb);
}

/* ---- reading the evidence ---- */

static time_t when(const cJSON *obj, const char *key)
{
	time_t t;
	const char *s = json_string(obj, key);
	return s && !parse_rfc3339(s, &t) ? t : 0;
}

/* What the rules share: worked out once from the evidence. */
struct facts {
	const struct evidence *ev;
	const char *service;
	const char *fingerprint;     /* the incident's, or NULL */
	const char *signal;          /* the fingerprint's third part ("status", "latency", "below") */
	char *signal_buf;
	const char *source;          /* the incident's source */
	time_t start;                /* when the trouble began */
	int past_same;               /* the same incident in the day before */
	int chronic;                 /* past_same >= CHRONIC_PAST: the third time in a day */
	const struct trace_analysis *traces;
	int technical;               /* a rule found something technical */
	int localized;               /* the call graph named a culprit (rule_graph) */
};

static int is_latency_incident(const struct facts *fx)
{
	return fx->signal && (strstr(fx->signal, "latency") || strstr(fx->signal, "p99"));
}

/* A pod's Deployment, from its ReplicaSet owner and pod-template-hash; caller frees. */
static char *pod_deployment(const cJSON *pod)
{
	const cJSON *meta = json_get(pod, "metadata"), *owners = json_get(meta, "ownerReferences"), *o;
	const char *hash = json_string(json_get(meta, "labels"), "pod-template-hash");

	cJSON_ArrayForEach(o, owners) {
		const char *name = json_string(o, "name");
		size_t n;
		if (!json_string_is(o, "kind", "ReplicaSet") || !name)
			continue;
		n = strlen(name);
		if (hash && n > strlen(hash) + 1 && ends_with(name, hash) &&
		    name[n - strlen(hash) - 1] == '-')
			return xstrndup(name, n - strlen(hash) - 1);
		if (strrchr(name, '-'))
			return xstrndup(name, (size_t)(strrchr(name, '-') - name));
		return xstrdup(name);
	}
	return NULL;
}

/* What to act on for a pod: its Deployment, else the service. Caller frees. */
static char *pod_target(const struct facts *fx, const cJSON *pod)
{
	char *d = pod_deployment(pod);
	return d ? d : xstrdup(fx->service);
}

static const cJSON *container_spec(const cJSON *pod, const char *name)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, json_path(pod, "spec.containers"))
		if (json_string_is(c, "name", name))
			return c;
	return NULL;
}

/* A Kubernetes quantity ("256Mi", "1G", "300000000") in bytes, or -1. */
static double quantity_bytes(const char *q)
{
	static const struct { const char *suffix; double mult; } units[] = {
		{ "Ki", 1024.0 }, { "Mi", 1048576.0 }, { "Gi", 1073741824.0 },
		{ "Ti", 1099511627776.0 }, { "k", 1e3 }, { "K", 1e3 }, { "M", 1e6 },
		{ "G", 1e9 }, { "T", 1e12 }, { "", 1.0 },
	};
	char *end;
	double v;

	if (!q)
		return -1;
	v = strtod(q, &end);
	if (end == q || v < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (!strcmp(end, units[i].suffix))
			return v * units[i].mult;
	return -1;
}

/* bytes as a Kubernetes quantity in Mi (rounded up). */
static char *format_mi(double bytes)
{
	return xstrfmt("%.0fMi", ceil(bytes / 1048576.0));
}

/* The memory limit of a container, as written, or NULL. */
static const char *memory_limit(const cJSON *spec)
{
	return json_string(json_path(spec, "resources.limits"), "memory");
}

/* params of increase-memory: the container, the limit to set and the one it replaces. */
static void memory_params(cJSON *params, const char *container, double bytes, const char *as_written)
{
	if (container)
		cJSON_AddStringToObject(params, "container", container);
	if (bytes > 0) {
		char *now = as_written ? xstrdup(as_written) : format_mi(bytes);
		char *to = format_mi(bytes * 1.5);
		cJSON_AddStringToObject(params, "memory", to);
		cJSON_AddStringToObject(params, "from", now);
		free(now);
		free(to);
	}
}

/* The log of name (a pod, a container, a service), or NULL. */
static const char *log_text(const struct evidence *ev, const char *name)
{
	for (size_t i = 0; i < ev->logs_nr; i++)
		if (!ev->logs[i].service && !strcmp(ev->logs[i].name, name))
			return ev->logs[i].text;
	return NULL;
}

static int line_has(const char *line, size_t len, const char *const *needles)
{
	for (const char *const *n = needles; *n; n++) {
		size_t nl = strlen(*n);
		for (size_t i = 0; i + nl <= len; i++)
			if (!strncasecmp(line + i, *n, nl))
				return 1;
	}
	return 0;
}

/* The last line of text holding one of needles, copied, or NULL. */
static char *last_line_with(const char *text, const char *const *needles)
{
	const char *found = NULL;
	size_t found_len = 0;

	for (const char *p = text; p && *p;) {
		const char *end = strchrnul(p, '\n');
		if (line_has(p, (size_t)(end - p), needles)) {
			found = p;
			found_len = (size_t)(end - p);
		}
		p = *end ? end + 1 : end;
	}
	return found ? xstrndup(found, found_len) : NULL;
}

static const char *const error_words[] = {
	"panic", "fatal", "error", "exception", "segmentation fault", "traceback", NULL
};
static const char *const oom_words[] = {
	"out of memory", "outofmemory", "cannot allocate memory", "oom", "memory exhausted", NULL
};
static const char *const disk_words[] = {
	"no space left on device", "enospc", "disk full", "disk quota exceeded", NULL
};

/* Quote the last error line of a pod's container logs (previous first). */
static void quote_pod_log(struct diagnosis_finding *f, const struct evidence *ev, const char *pod,
			  const char *container, int several, const char *const *words)
{
	char *names[2];

	if (several) {
		names[0] = xstrfmt("%s.%s.previous", pod, container);
		names[1] = xstrfmt("%s.%s", pod, container);
	} else {
		names[0] = xstrfmt("%s.previous", pod);
		names[1] = xstrdup(pod);
	}
	for (int i = 0; i < 2; i++) {
		const char *text = log_text(ev, names[i]);
		char *line = text ? last_line_with(text, words) : NULL;
		if (line) {
			char *source = xstrfmt("logs/%s", names[i]);
			quote(f, source, "%s", line);
			free(source);
			free(line);
			break;
		}
	}
	free(names[0]);
	free(names[1]);
}

/* The Warning events about an object, newest last, with reason (or any reason: NULL). */
static void quote_events(struct diagnosis_finding *f, const struct evidence *ev, const char *object,
			 const char *reason)
{
	const cJSON *e;
	int n = 0;

	cJSON_ArrayForEach(e, json_array(ev->events, "items")) {
		const cJSON *obj = json_get(e, "involvedObject");
		long long count = json_int(e, "count");
		char times[32] = "";

		if (!json_string_is(obj, "name", object) || !json_string_is(e, "type", "Warning"))
			continue;
		if (reason && !json_string_is(e, "reason", reason))
			continue;
		if (n++ >= 3)
			break;
		if (count > 1)
			snprintf(times, sizeof(times), " (%lld times)", count);
		quote(f, "kubernetes", "event %s on %s: %s%s", json_string_or(e, "reason", "?"),
		      object, json_string_or(e, "message", ""), times);
	}
}

static long long revision(const cJSON *rs)
{
	const char *r = json_string(json_path(rs, "metadata.annotations"),
				    "deployment.kubernetes.io/revision");
	long long n;
	return r && !parse_ll(r, &n) ? n : -1;
}

static const char *rs_owner(const cJSON *rs)
{
	const cJSON *o;

	cJSON_ArrayForEach(o, json_path(rs, "metadata.ownerReferences"))
		if (json_string_is(o, "kind", "Deployment"))
			return json_string(o, "name");
	return NULL;
}

static const char *rs_image(const cJSON *rs)
{
	const cJSON *c = cJSON_GetArrayItem(json_path(rs, "spec.template.spec.containers"), 0);
	return json_string(c, "image");
}

/*
 * The image container ran before bad: in the newest revision of
 * deployment whose template runs another image for it. NULL when the
 * history does not say. Borrowed.
 */
static const char *last_good_image(const struct facts *fx, const char *deployment,
				   const char *container, const char *bad)
{
	const cJSON *rs, *best = NULL;
	const char *image = NULL;

	cJSON_ArrayForEach(rs, json_array(fx->ev->replicasets, "items")) {
		const cJSON *c;
		const char *owner = rs_owner(rs);
		if (!owner || strcmp(owner, deployment))
			continue;
		cJSON_ArrayForEach(c, json_path(rs, "spec.template.spec.containers")) {
			const char *i = json_string(c, "image");
			if (json_string_is(c, "name", container) && i && bad && strcmp(i, bad) &&
			    (!best || revision(rs) > revision(best))) {
				best = rs;
				image = i;
			}
		}
	}
	return image;
}

/* ---- rules: Kubernetes pods ---- */

static void container_rules(struct diagnosis *d, struct facts *fx, const cJSON *pod,
			    const cJSON *cs, int several)
{
	const char *pod_name = json_string(json_get(pod, "metadata"), "name");
	const char *name = json_string(cs, "name");
	const cJSON *state = json_get(cs, "state"), *last = json_get(cs, "lastState");
	const cJSON *waiting = json_get(state, "waiting");
	const cJSON *term = json_get(state, "terminated"), *last_term = json_get(last, "terminated");
	const char *why = json_string(waiting, "reason");
	long long restarts = json_int(cs, "restartCount");
	const cJSON *spec = container_spec(pod, name ? name : "");
	char *target = pod_target(fx, pod);
	struct diagnosis_finding *f = NULL;
	const cJSON *oom = json_string_is(term, "reason", "OOMKilled") ? term :
			   json_string_is(last_term, "reason", "OOMKilled") ? last_term : NULL;

	if (!name || !pod_name) {
		free(target);
		return;
	}
	if (oom) {
		int chronic = restarts >= CHRONIC_RESTARTS || (why && !strcmp(why, "CrashLoopBackOff")) ||
			      fx->chronic;
		int recovered = json_get(state, "running") && json_bool(cs, "ready");
		const char *limit = memory_limit(spec);

		if (chronic) {
			f = add_finding(d, "kubernetes-oom", CATEGORY_oom, 0.9, ACTION_increase_memory, target,
					"Container %s (%s) is killed for exceeding its memory limit%s%s, "
					"again and again (%lld restarts).", name, target,
					limit ? " of " : "", limit ? limit : "", restarts);
			memory_params(f->params, name, quantity_bytes(limit), limit);
		} else if (recovered) {
			f = add_finding(d, "kubernetes-oom", CATEGORY_oom, 0.8, ACTION_none, target,
					"Container %s (%s) was killed once for exceeding its memory limit%s%s "
					"and is running again: a blip, not a chronic fault.", name, target,
					limit ? " of " : "", limit ? limit : "");
			cJSON_AddStringToObject(f->params, "container", name);
		} else {
			f = add_finding(d, "kubernetes-oom", CATEGORY_oom, 0.8, ACTION_restart, target,
					"Container %s (%s) was killed for exceeding its memory limit%s%s.",
					name, target, limit ? " of " : "", limit ? limit : "");
		}
		quote(f, "kubernetes", "pod %s container %s: %s OOMKilled (exit code %lld) at %s, %lld restarts",
		      pod_name, name, oom == term ? "terminated" : "last terminated",
		      json_int(oom, "exitCode"), json_string_or(oom, "finishedAt", "?"),
		      restarts);
		if (why)
			quote(f, "kubernetes", "pod %s container %s: waiting: %s", pod_name, name, why);
		quote_events(f, fx->ev, pod_name, NULL);
		quote_pod_log(f, fx->ev, pod_name, name, several, oom_words);
		fx->technical = 1;
	} else if (why && !strcmp(why, "CrashLoopBackOff")) {
		f = add_finding(d, "kubernetes-crashloop", CATEGORY_crashloop, 0.8, ACTION_escalate, target,
				"Container %s (%s) crashes on start and Kubernetes keeps restarting it "
				"(%lld restarts); a restart will not fix it.", name, target, restarts);
		quote(f, "kubernetes", "pod %s container %s: waiting: CrashLoopBackOff, %lld restarts",
		      pod_name, name, restarts);
		if (last_term)
			quote(f, "kubernetes", "pod %s container %s: last terminated: %s, exit code %lld",
			      pod_name, name, json_string_or(last_term, "reason", "?"),
			      json_int(last_term, "exitCode"));
		quote_pod_log(f, fx->ev, pod_name, name, several, error_words);
		fx->technical = 1;
	} else if (why && (!strcmp(why, "ImagePullBackOff") || !strcmp(why, "ErrImagePull") ||
			   !strcmp(why, "InvalidImageName"))) {
		const char *image = json_string(spec, "image");
		const char *msg = json_string(waiting, "message");
		const char *good;
		char *quoted = NULL;

		/* The image the kubelet cannot pull is the one in its message. */
		if (msg && strchr(msg, '"') && strchr(strchr(msg, '"') + 1, '"')) {
			const char *a = strchr(msg, '"') + 1;
			quoted = xstrndup(a, (size_t)(strchr(a, '"') - a));
		}
		f = add_finding(d, "kubernetes-image-pull", CATEGORY_image_pull, 0.9, ACTION_fix_image, target,
				"The image %s of container %s cannot be pulled, so %s cannot start.",
				quoted ? quoted : image ? image : "?", name, target);
		cJSON_AddStringToObject(f->params, "container", name);
		if (quoted || image)
			cJSON_AddStringToObject(f->params, "image", quoted ? quoted : image);
		good = last_good_image(fx, target, name, quoted ? quoted : image);
		if (good) {
			cJSON_AddStringToObject(f->params, "to", good);
			quote(f, "kubernetes", "deployment %s ran %s before", target, good);
		}
		quote(f, "kubernetes", "pod %s container %s: waiting: %s: %s", pod_name, name, why,
		      msg ? msg : "");
		quote_events(f, fx->ev, pod_name, "Failed");
		free(quoted);
		fx->technical = 1;
	} else if (why && (!strcmp(why, "CreateContainerConfigError") ||
			   !strcmp(why, "CreateContainerError"))) {
		const char *msg = json_string(waiting, "message");

		f = add_finding(d, "kubernetes-config-error", CATEGORY_config_error, 0.85,
				ACTION_patch_config, target,
				"Container %s (%s) cannot be created from its configuration: %s.",
				name, target, msg ? msg : why);
		cJSON_AddStringToObject(f->params, "container", name);
		if (msg) {
			/* configmap "x" not found, secret "y" not found */
			const char *kinds[] = { "configmap", "secret" };
			for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
				const char *p = strstr(msg, kinds[i]);
				if (p && p[strlen(kinds[i])] == ' ' && p[strlen(kinds[i]) + 1] == '"') {
					const char *a = p + strlen(kinds[i]) + 2, *b = strchr(a, '"');
					if (b) {
						char *missing = xstrfmt("%s/%.*s", kinds[i], (int)(b - a), a);
						cJSON_AddStringToObject(f->params, "missing", missing);
						free(missing);
					}
					break;
				}
			}
		}
		quote(f, "kubernetes", "pod %s container %s: waiting: %s: %s", pod_name, name, why,
		      msg ? msg : "");
		fx->technical = 1;
	}
	free(target);
}

static const cJSON *condition(const cJSON *pod, const char *type)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, json_path(pod, "status.conditions"))
		if (json_string_is(c, "type", type))
			return c;
	return NULL;
}

/* The Deployment named name, or NULL. */
static const cJSON *deployment(const struct evidence *ev, const char *name)
{
	const cJSON *dp;

	cJSON_ArrayForEach(dp, json_array(ev->deployments, "items"))
		if (json_string_is(json_get(dp, "metadata"), "name", name))
			return dp;
	return NULL;
}

static int deployment_degraded(const cJSON *dp)
{
	long long want = json_int(json_get(dp, "spec"), "replicas");
	long long have = json_int(json_get(dp, "status"), "availableReplicas");

	if (!json_path(dp, "spec.replicas"))
		want = 1;
	return dp && have < want;
}

static void pod_rules(struct diagnosis *d, struct facts *fx, const cJSON *pod)
{
	const cJSON *status = json_get(pod, "status"), *cs;
	const char *pod_name = json_string(json_get(pod, "metadata"), "name");
	const char *phase = json_string(status, "phase");
	const cJSON *statuses = json_get(status, "containerStatuses");
	int several = cJSON_GetArraySize(statuses) > 1;
	char *target = pod_target(fx, pod);
	struct diagnosis_finding *f;
	const cJSON *sched = condition(pod, "PodScheduled"), *ready = condition(pod, "Ready");

	if (!pod_name) {
		free(target);
		return;
	}
	cJSON_ArrayForEach(cs, statuses)
		container_rules(d, fx, pod, cs, several);

	if (phase && !strcmp(phase, "Failed") && json_string_is(status, "reason", "Evicted")) {
		const cJSON *dp = deployment(fx->ev, target);
		const char *msg = json_string(status, "message");
		int degraded = dp ? deployment_degraded(dp) : 1;

		f = add_finding(d, "kubernetes-eviction", CATEGORY_eviction, 0.85,
				degraded ? ACTION_escalate : ACTION_none, target,
				"Pod %s was evicted by its node (%s)%s", pod_name,
				msg ? msg : "resource pressure",
				degraded ? "; the node's capacity needs a person." :
					   "; its replacement is running.");
		if (msg && strstr(msg, "low on resource: ")) {
			const char *r = strstr(msg, "low on resource: ") + 17;
			char *res = xstrndup(r, strcspn(r, ". "));
			cJSON_AddStringToObject(f->params, "resource", res);
			free(res);
		}
		quote(f, "kubernetes", "pod %s: phase Failed, reason Evicted: %s", pod_name, msg ? msg : "");
		if (dp)
			quote(f, "kubernetes", "deployment %s: %lld of %lld replicas available", target,
			      json_int(json_get(dp, "status"), "availableReplicas"),
			      json_int(json_get(dp, "spec"), "replicas"));
		fx->technical = 1;
	} else if (phase && !strcmp(phase, "Pending") && json_string_is(sched, "status", "False") &&
		   json_string_is(sched, "reason", "Unschedulable")) {
		const char *msg = json_string(sched, "message");

		f = add_finding(d, "kubernetes-unschedulable", CATEGORY_unschedulable, 0.85,
				ACTION_escalate, target,
				"Pod %s cannot be scheduled on any node: %s", pod_name,
				msg ? msg : "no node fits it");
		quote(f, "kubernetes", "pod %s: Pending, PodScheduled False: Unschedulable: %s", pod_name,
		      msg ? msg : "");
		quote_events(f, fx->ev, pod_name, "FailedScheduling");
		fx->technical = 1;
	} else if (phase && !strcmp(phase, "Running") && json_string_is(ready, "status", "False")) {
		const cJSON *e;
		const char *probe = NULL;

		cJSON_ArrayForEach(e, json_array(fx->ev->events, "items"))
			if (json_string_is(json_get(e, "involvedObject"), "name", pod_name) &&
			    json_string_is(e, "reason", "Unhealthy") && json_string(e, "message"))
				probe = json_string(e, "message");
		if (probe) {
			long long restarts = 0;
			/* Each count bounded, so no number of containers overflows the sum. */
			cJSON_ArrayForEach(cs, statuses) {
				long long n = json_int(cs, "restartCount");
				restarts += n < 0 ? 0 : n > INT32_MAX ? INT32_MAX : n;
			}
			f = add_finding(d, "kubernetes-probe", CATEGORY_probe_failure, 0.75,
					restarts >= 5 ? ACTION_escalate : ACTION_restart,
					target, "Pod %s runs but fails its health probe, so it gets no traffic: %s",
					pod_name, probe);
			quote(f, "kubernetes", "pod %s: Running, Ready False", pod_name);
			quote_events(f, fx->ev, pod_name, "Unhealthy");
			fx->technical = 1;
		}
	}
	/* A full disk shows in the logs of whatever writes to it. */
	cJSON_ArrayForEach(cs, statuses) {
		const char *name = json_string(cs, "name");
		char *current = name && several ? xstrfmt("%s.%s", pod_name, name) : xstrdup(pod_name);
		const char *text = log_text(fx->ev, current);
		char *line = text ? last_line_with(text, disk_words) : NULL;

		if (line) {
			char *source = xstrfmt("logs/%s", current);
			f = add_finding(d, "disk-full", CATEGORY_resource_exhaustion, 0.85, ACTION_escalate,
					target, "%s has run out of disk space: writes fail with \"no space "
					"left on device\".", target);
			cJSON_AddStringToObject(f->params, "resource", "disk");
			quote(f, source, "%s", line);
			free(source);
			fx->technical = 1;
		}
		free(line);
		free(current);
	}
	free(target);
}

static void rule_kubernetes(struct diagnosis *d, struct facts *fx)
{
	const cJSON *pod;

	cJSON_ArrayForEach(pod, json_array(fx->ev->pods, "items"))
		pod_rules(d, fx, pod);
}

/* ---- rules: rollouts and commits ---- */

/* Is anything wrong with the Deployment or its pods? Quote it into f when f is not NULL. */
static int rollout_unhealthy(const struct facts *fx, const cJSON *dp, const char *name,
			     struct diagnosis_finding *f)
{
	const cJSON *c, *pod;
	int bad = 0;

	cJSON_ArrayForEach(c, json_path(dp, "status.conditions")) {
		if ((json_string_is(c, "type", "Progressing") && json_string_is(c, "status", "False")) ||
		    (json_string_is(c, "type", "Available") && json_string_is(c, "status", "False")) ||
		    (json_string_is(c, "type", "ReplicaFailure") && json_string_is(c, "status", "True"))) {
			bad = 1;
			if (f)
				quote(f, "kubernetes", "deployment %s: %s %s: %s%s%s", name, json_string(c, "type"),
				      json_string(c, "status"), json_string_or(c, "reason", ""),
				      json_string(c, "message") ? ": " : "", json_string_or(c, "message", ""));
		}
	}
	cJSON_ArrayForEach(pod, json_array(fx->ev->pods, "items")) {
		char *dep = pod_deployment(pod);
		const cJSON *cs;
		if (!dep || strcmp(dep, name)) {
			free(dep);
			continue;
		}
		free(dep);
		cJSON_ArrayForEach(cs, json_path(pod, "status.containerStatuses")) {
			const char *why = json_string(json_path(cs, "state.waiting"), "reason");
			if (why && strcmp(why, "ContainerCreating") && strcmp(why, "PodInitializing")) {
				bad = 1;
				if (f)
					quote(f, "kubernetes", "pod %s container %s: waiting: %s, %lld restarts",
					      json_string(json_get(pod, "metadata"), "name"), json_string(cs, "name"), why,
					      json_int(cs, "restartCount"));
			}
		}
	}
	return bad;
}

static void rule_rollout(struct diagnosis *d, struct facts *fx)
{
	const cJSON *dp;

	cJSON_ArrayForEach(dp, json_array(fx->ev->deployments, "items")) {
		const char *name = json_string(json_get(dp, "metadata"), "name");
		const cJSON *rs, *newest = NULL, *previous = NULL;
		struct diagnosis_finding *f;
		time_t created;
		char ago[32];

		if (!name)
			continue;
		cJSON_ArrayForEach(rs, json_array(fx->ev->replicasets, "items")) {
			const char *owner = rs_owner(rs);
			if (!owner || strcmp(owner, name) || revision(rs) < 0)
				continue;
			if (!newest || revision(rs) > revision(newest)) {
				previous = newest;
				newest = rs;
			} else if (!previous || revision(rs) > revision(previous)) {
				previous = rs;
			}
		}
		if (!newest || !previous)
			continue;
		created = when(json_get(newest, "metadata"), "creationTimestamp");
		/* A rollout in the hour before the trouble, or since. */
		if (!created || created < fx->start - 3600 || created > fx->ev->now ||
		    !rollout_unhealthy(fx, dp, name, NULL))
			continue;
		format_age(ago, sizeof(ago), created, fx->start > created ? fx->start : created);
		f = add_finding(d, "kubernetes-rollout", CATEGORY_deploy_regression, 0.95, ACTION_rollback,
				name, "The rollout of %s to revision %lld (%s), %s before the trouble "
				"began, left it failing; revision %lld (%s) was healthy.", name,
				revision(newest), rs_image(newest) ? rs_image(newest) : "?", ago,
				revision(previous), rs_image(previous) ? rs_image(previous) : "?");
		cJSON_AddNumberToObject(f->params, "revision", (double)revision(previous));
		if (rs_image(previous))
			cJSON_AddStringToObject(f->params, "image", rs_image(previous));
		quote(f, "kubernetes", "replicaset %s: revision %lld created %s",
		      json_string(json_get(newest, "metadata"), "name"), revision(newest),
		      json_string(json_get(newest, "metadata"), "creationTimestamp"));
		rollout_unhealthy(fx, dp, name, f);
		fx->technical = 1;
	}
}

static void rule_commit(struct diagnosis *d, struct facts *fx)
{
	const cJSON *c, *best = NULL;
	time_t best_t = 0;
	struct diagnosis_finding *f;
	const cJSON *files, *file;
	char ago[32];

	/* Only with trouble to explain: an incident, or errors in the traces. */
	if (!fx->ev->incident && !(fx->traces && fx->traces->error_traces))
		return;
	cJSON_ArrayForEach(c, fx->ev->commits) {
		time_t t = when(c, "time");
		if (t && t <= fx->start && t >= fx->start - 3600 && t > best_t) {
			best = c;
			best_t = t;
		}
	}
	if (!best || !json_string(best, "sha"))
		return;
	format_age(ago, sizeof(ago), best_t, fx->start);
	f = add_finding(d, "git-commit", CATEGORY_deploy_regression,
			0.8 + 0.1 * (1.0 - (double)(fx->start - best_t) / 3600.0), ACTION_rollback,
			fx->service, "Commit %.12s \"%s\" changed %s %s before the trouble began.",
			json_string(best, "sha"), json_string_or(best, "subject", ""),
			fx->service, ago);
	cJSON_AddStringToObject(f->params, "commit", json_string(best, "sha"));
	quote(f, "git", "%.12s %s by %s at %s", json_string(best, "sha"),
	      json_string_or(best, "subject", ""), json_string_or(best, "author", "?"),
	      json_string(best, "time"));
	files = json_get(best, "files");
	cJSON_ArrayForEach(file, files)
		if (cJSON_IsString(file)) {
			quote(f, "git", "changed %s", file->valuestring);
			break;
		}
	if (fx->fingerprint)
		quote(f, "store", "incident %s opened %s", fx->fingerprint,
		      json_string_or(fx->ev->incident, "opened_at", ""));
}

/* ---- rules: Docker ---- */

static void rule_docker(struct diagnosis *d, struct facts *fx)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, fx->ev->docker) {
		const cJSON *state = json_get(c, "State");
		const char *name = json_string(c, "Name");
		long long restarts = json_int(c, "RestartCount");
		long long code = json_int(state, "ExitCode");
		const char *status = json_string(state, "Status");
		struct diagnosis_finding *f;
		char *log;

		if (!name)
			continue;
		if (*name == '/')
			name++;
		if (json_bool(state, "OOMKilled")) {
			double mem = (double)json_int(json_get(c, "HostConfig"), "Memory");
			int chronic = restarts >= CHRONIC_RESTARTS || fx->chronic;
			int running = json_bool(state, "Running") && !json_bool(state, "Restarting");

			f = add_finding(d, "docker-oom", CATEGORY_oom, chronic ? 0.9 : 0.8,
					chronic ? ACTION_increase_memory : running ? ACTION_none : ACTION_restart,
					name, "Container %s was killed for exceeding its memory limit%s "
					"(%lld restarts).", name, chronic ? ", again and again" : "", restarts);
			memory_params(f->params, NULL, mem, NULL);
			cJSON_AddStringToObject(f->params, "container", name);
			quote(f, "docker", "container %s: State.OOMKilled true, status %s, exit code %lld, "
			      "%lld restarts", name, status ? status : "?", code, restarts);
			fx->technical = 1;
		} else if (code != 0 && (restarts >= CHRONIC_RESTARTS || json_bool(state, "Restarting"))) {
			f = add_finding(d, "docker-crashloop", CATEGORY_crashloop, 0.8, ACTION_escalate, name,
					"Container %s keeps exiting with code %lld (%lld restarts); a restart "
					"will not fix it.", name, code, restarts);
			quote(f, "docker", "container %s: status %s, exit code %lld, %lld restarts", name,
			      status ? status : "?", code, restarts);
			fx->technical = 1;
		} else if (code != 0 && status && !strcmp(status, "exited")) {
			f = add_finding(d, "docker-crash", CATEGORY_crash, 0.85,
					ACTION_restart, name,
					"Container %s exited with code %lld and is not running.", name, code);
			quote(f, "docker", "container %s: status exited, exit code %lld at %s", name, code,
			      json_string_or(state, "FinishedAt", "?"));
			fx->technical = 1;
		} else {
			continue;
		}
		log = log_text(fx->ev, name) ? last_line_with(log_text(fx->ev, name), error_words) : NULL;
		if (log) {
			char *source = xstrfmt("logs/%s", name);
			quote(f, source, "%s", log);
			free(source);
			free(log);
		}
	}
}

/* ---- rules: processes on this host ---- */

/* The kernel's OOM line about the process (by pid or name), or NULL. Borrowed. */
static const char *kernel_kill(const struct facts *fx, long long pid)
{
	const cJSON *line;
	const char *found = NULL;

	cJSON_ArrayForEach(line, json_get(fx->ev->host, "kernel")) {
		const char *s = cJSON_GetStringValue(line);
		char by_pid[64], by_name[64];

		if (!s)
			continue;
		snprintf(by_pid, sizeof(by_pid), "process %lld ", pid);
		/* The kernel names a process by its first 15 bytes. */
		snprintf(by_name, sizeof(by_name), "(%.15s)", fx->service);
		if ((pid > 0 && strstr(s, by_pid)) || strstr(s, by_name))
			found = s;
	}
	return found;
}

static void rule_process(struct diagnosis *d, struct facts *fx)
{
	const cJSON *p;
	const char *text = log_text(fx->ev, fx->service);

	cJSON_ArrayForEach(p, json_get(fx->ev->host, "processes")) {
		const char *service = json_string(p, "service");
		long long pid = json_int(p, "pid");
		const char *kill = kernel_kill(fx, pid);
		char *oom_line = text ? last_line_with(text, oom_words) : NULL;
		char *err_line = text ? last_line_with(text, error_words) : NULL;
		int chronic = fx->chronic;
		struct diagnosis_finding *f;
		char *source = xstrfmt("logs/%s", fx->service);

		if (!service || strcmp(service, fx->service) || json_bool(p, "running")) {
			free(oom_line);
			free(err_line);
			free(source);
			continue;
		}
		if (kill || oom_line) {
			f = add_finding(d, "process-oom", CATEGORY_oom, 0.9,
					chronic ? ACTION_increase_memory : ACTION_restart, service,
					"%s ran out of memory and %s%s.", service,
					kill ? "the kernel killed it" : "died",
					chronic ? ", again: it happened before in the last day" : "");
			if (kill)
				quote(f, "host", "%s", kill);
			if (oom_line)
				quote(f, source, "%s", oom_line);
		} else {
			f = add_finding(d, "process-crash", CATEGORY_crash, 0.85, ACTION_restart, service,
					"%s is not running: its process has exited%s.", service,
					chronic ? ", and this is the same failure again" : "");
			if (err_line)
				quote(f, source, "%s", err_line);
		}
		if (pid)
			quote(f, "host", "%s: process %lld is not running%s%s%s", service, pid,
			      json_string(p, "pidfile") ? " (pidfile " : "", json_string_or(p, "pidfile", ""),
			      json_string(p, "pidfile") ? ")" : "");
		else
			quote(f, "host", "%s: no process is running%s%s%s", service,
			      json_string(p, "pidfile") ? " (pidfile " : "", json_string_or(p, "pidfile", ""),
			      json_string(p, "pidfile") ? ")" : "");
		fx->technical = 1;
		free(oom_line);
		free(err_line);
		free(source);
	}
}

/* ---- rules: what scout saw ---- */

/*
 * The evidence scout recorded when it opened the incident (an "evidence"
 * event: {summary, evidence: {url, status, latency_ms, error, ...}}), or
 * NULL. Borrowed.
 */
static const cJSON *scout_evidence(const struct facts *fx, const char **summary)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, json_array(fx->ev->incident, "events")) {
		const cJSON *body = json_get(e, "body");
		if (!json_string_is(e, "kind", "evidence") || !cJSON_IsObject(json_get(body, "evidence")))
			continue;
		*summary = json_string(body, "summary");
		return json_get(body, "evidence");
	}
	return NULL;
}

/* How a request that got no answer failed, from libcurl's words. */
enum unreachable { UNREACHABLE_OTHER, UNREACHABLE_REFUSED, UNREACHABLE_TIMEOUT,
		   UNREACHABLE_NAME, UNREACHABLE_TLS };

static enum unreachable unreachable_kind(const char *error)
{
	static const char *const timeout[] = { "timed out", "timeout", NULL };
	static const char *const refused[] = { "refused", "couldn't connect", "failed to connect", NULL };
	static const char *const name[] = { "resolve", NULL };
	static const char *const tls[] = { "ssl", "tls", "certificate", NULL };
	size_t n = strlen(error);

	if (line_has(error, n, timeout))
		return UNREACHABLE_TIMEOUT;
	if (line_has(error, n, name))
		return UNREACHABLE_NAME;
	if (line_has(error, n, refused))
		return UNREACHABLE_REFUSED;
	if (line_has(error, n, tls))
		return UNREACHABLE_TLS;
	return UNREACHABLE_OTHER;
}

/*
 * An HTTP check's own answer, when nothing better is known: the port
 * closed, a 5xx, no answer in time. The confidences stay below
 * fix.min-confidence's default (0.75), so a person approves what rests on
 * the check alone; a rule that can quote the cause (a process gone, a
 * pod killed) outranks it, and gains the check's line as evidence.
 */
static void rule_check(struct diagnosis *d, struct facts *fx)
{
	const char *summary = NULL, *url, *error;
	const cJSON *e;
	struct diagnosis_finding *f = NULL;
	long long status;

	if (!fx->source || strcmp(fx->source, "http") || !(e = scout_evidence(fx, &summary)))
		return;
	url = json_string_or(e, "url", "its URL");
	error = json_string(e, "error");
	status = json_int(e, "status");
	if (fx->signal && !strcmp(fx->signal, "latency")) {
		f = add_finding(d, "check-slow", CATEGORY_latency, 0.5, ACTION_escalate, fx->service,
				"%s answers its check, but slower than the check allows; nothing read "
				"says why, so a person should look.", fx->service);
	} else if (error) {
		switch (unreachable_kind(error)) {
		case UNREACHABLE_REFUSED:
			/* A process rule that saw it die says more: add the check to it. */
			for (size_t i = 0; i < d->findings_nr; i++)
				if (d->findings[i].category == CATEGORY_crash ||
				    d->findings[i].category == CATEGORY_oom) {
					quote(&d->findings[i], "check", "%s", summary ? summary : error);
					return;
				}
			f = add_finding(d, "check-refused", CATEGORY_crash, 0.6, ACTION_restart,
					fx->service, "%s is down: nothing accepts connections at %s; "
					"its process is gone or no longer listening.", fx->service, url);
			break;
		case UNREACHABLE_TIMEOUT:
			f = add_finding(d, "check-timeout", CATEGORY_latency, 0.55, ACTION_restart,
					fx->service, "%s is slow or hung: %s gave no answer in time.",
					fx->service, url);
			break;
		case UNREACHABLE_NAME:
			f = add_finding(d, "check-name", CATEGORY_config_error, 0.5, ACTION_escalate,
					fx->service, "The name in %s does not resolve: the service's "
					"address or DNS changed; a person should look.", url);
			break;
		case UNREACHABLE_TLS:
			f = add_finding(d, "check-tls", CATEGORY_config_error, 0.5, ACTION_escalate,
					fx->service, "%s fails TLS at %s (a certificate or protocol "
					"problem); a person should look.", fx->service, url);
			break;
		default:
			return;
		}
	} else if (status >= 500 && status <= 599) {
		f = add_finding(d, "check-5xx", CATEGORY_probe_failure, 0.6, ACTION_restart, fx->service,
				"%s is up but failing: it answers HTTP %lld at %s.", fx->service, status,
				url);
	} else if (status >= 200 && status <= 599) {
		/* A 4xx or a body without its text: the route or the check changed, not the process. */
		f = add_finding(d, "check-answer", CATEGORY_probe_failure, 0.5, ACTION_escalate,
				fx->service, "%s answers %s but not as its check expects (HTTP %lld); "
				"its routes or the check changed, so a person should look.",
				fx->service, url, status);
	}
	if (!f)
		return;
	quote(f, "check", "%s", summary ? summary : error ? error : url);
}

/* ---- rules: traces ---- */

static void rule_dependency(struct diagnosis *d, struct facts *fx)
{
	const struct trace_analysis *a = fx->traces;
	const struct trace_origin *o;
	struct diagnosis_finding *f;
	double share;
	int surfaces = 0;

	if (!a || !a->origins_nr || a->error_traces < 3 ||
	    a->error_traces * 100 < a->traces * 2)
		return;
	o = &a->origins[0];
	if (!strcmp(o->service, fx->service))
		return;
	/*
	 * Downstream only: the errors must surface in the service itself. When
	 * it erred nowhere (it was down, its callers' calls failing), the
	 * origin is a caller, upstream, and no dependency of it.
	 */
	for (size_t i = 0; i < a->ops_nr && !surfaces; i++)
		surfaces = !strcmp(a->ops[i].service, fx->service) && a->ops[i].errors;
	if (!surfaces)
		return;
	share = (double)o->traces / (double)a->error_traces;
	if (share < 0.5)
		return;
	f = add_finding(d, "traces-dependency", CATEGORY_dependency, 0.75 + 0.15 * share,
			ACTION_restart, o->service,
			"Requests to %s fail because %s, %s, fails: %zu of %zu traces err, and in %zu "
			"of them the error starts in %s %s.", fx->service, o->service,
			"a service it depends on", a->error_traces, a->traces, o->traces, o->service,
			o->operation ? o->operation : "");
	cJSON_AddStringToObject(f->params, "operation", o->operation ? o->operation : "");
	cJSON_AddNumberToObject(f->params, "error_traces", (double)a->error_traces);
	cJSON_AddNumberToObject(f->params, "traces", (double)a->traces);
	quote(f, "jaeger", "%zu of %zu traces of %s have errors", a->error_traces, a->traces, fx->service);
	quote(f, "jaeger", "errors originate in %s %s (%zu traces)%s%s", o->service,
	      o->operation ? o->operation : "", o->traces, o->example ? ": " : "",
	      o->example ? o->example : "");
	for (size_t i = 0; i < a->ops_nr; i++)
		if (!strcmp(a->ops[i].service, fx->service) && a->ops[i].errors) {
			quote(f, "jaeger", "and surface in %s %s: %zu of %zu spans err", a->ops[i].service,
			      a->ops[i].operation, a->ops[i].errors, a->ops[i].spans);
			break;
		}
	fx->technical = 1;
}

/* ---- rules: the call graph ---- */

enum diagnosis_category diagnosis_localize_category(enum localize_kind kind)
{
	switch (kind) {
	case LOCALIZE_LATENCY:
		return CATEGORY_latency;
	case LOCALIZE_CPU:
	case LOCALIZE_MEMORY:
		return CATEGORY_resource_exhaustion;
	case LOCALIZE_RESTARTS:
		return CATEGORY_crash;
	case LOCALIZE_ERRORS:
	case LOCALIZE_SILENCE:
	case LOCALIZE__COUNT:
		break;
	}
	return CATEGORY_dependency;
}

/* Does text hold word with no letter, digit, '_' or '-' on either side? */
static int has_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = text; n && (p = strstr(p, word)); p++) {
		int before = p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '-');
		int after = isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '-';
		if (!before && !after)
			return 1;
	}
	return 0;
}

/* A commit of the day before the incident that names service in its files or subject. */
static const cJSON *recent_commit(const struct facts *fx, const char *service)
{
	const cJSON *c, *f;

	cJSON_ArrayForEach(c, fx->ev->commits) {
		time_t t = when(c, "time");
		const char *subject = json_string(c, "subject");
		if (!t || t > fx->start || t < fx->start - 24 * 3600)
			continue;
		if (subject && has_word(subject, service))
			return c;
		cJSON_ArrayForEach(f, json_get(c, "files"))
			if (cJSON_IsString(f) && has_word(f->valuestring, service))
				return c;
	}
	return NULL;
}

/*
 * A rollout of service in the day before the incident: its newest
 * ReplicaSet (by revision, owned by the Deployment of its name or labelled
 * app or app.kubernetes.io/name with it) created then, with an older
 * revision to go back to. The older revision, or -1.
 */
static long long recent_rollout(const struct facts *fx, const char *service, const cJSON **newest)
{
	const cJSON *lists[] = { fx->ev->graph_replicasets, fx->ev->replicasets }, *rs;
	long long back = -1;

	*newest = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		cJSON_ArrayForEach(rs, json_get(lists[i], "items")) {
			const cJSON *labels = json_path(rs, "metadata.labels");
			const char *owner = rs_owner(rs);
			if (revision(rs) < 0 ||
			    !((owner && !strcmp(owner, service)) || json_string_is(labels, "app", service) ||
			      json_string_is(labels, "app.kubernetes.io/name", service)))
				continue;
			if (!*newest || revision(rs) > revision(*newest)) {
				if (*newest)
					back = revision(*newest);
				*newest = rs;
			} else if (revision(rs) > back) {
				back = revision(rs);
			}
		}
	if (*newest) {
		time_t t = when(json_get(*newest, "metadata"), "creationTimestamp");
		if (!t || t > fx->start || t < fx->start - 24 * 3600)
			back = -1;
	}
	return back;
}

/*
 * The first candidate of the call graph (lib/localize.h), when its score
 * says something: what the incident's service shows is most often a
 * symptom of it. The confidence grows with the score and with its lead
 * over the second.
 */
static void rule_graph(struct diagnosis *d, struct facts *fx)
{
	const struct localize_result *g = &d->graph;
	const struct localize_candidate *c;
	struct diagnosis_finding *f;
	enum diagnosis_category cat;
	enum mitigation_action action;
	const cJSON *commit = NULL, *rollout = NULL;
	long long back = -1;
	double lead, score, conf;
	int own;

	if (!g->nr || g->v[0].score < 0.3)
		return;
	c = &g->v[0];
	own = !strcmp(c->service, fx->service);
	score = c->score > 1 ? 1 : c->score;
	lead = g->nr > 1 ? 1 - g->v[1].score / c->score : 1;
	conf = 0.55 + 0.3 * score * (0.5 + 0.5 * lead);
	cat = diagnosis_localize_category(c->kind);
	switch (c->kind) {
	case LOCALIZE_LATENCY:
		action = ACTION_restart;
		break;
	case LOCALIZE_CPU:
		action = ACTION_scale;
		break;
	case LOCALIZE_ERRORS:
	case LOCALIZE_SILENCE:
		back = recent_rollout(fx, c->service, &rollout);
		commit = back < 0 ? recent_commit(fx, c->service) : NULL;
		action = back >= 0 || commit ? ACTION_rollback : ACTION_escalate;
		break;
	default:
		action = ACTION_escalate;
		break;
	}
	if (c->kind == LOCALIZE_LATENCY)
		f = add_finding(d, "graph", cat, conf, action, c->service,
				"%s is slow because %s%s is: the time it adds grew against the baseline "
				"while the others' did not.", fx->service, c->service,
				own ? " itself" : ", which it calls,");
	else if (c->kind == LOCALIZE_CPU || c->kind == LOCALIZE_MEMORY)
		f = add_finding(d, "graph", cat, conf, action, c->service,
				"%s suffers because %s%s is short of %s.", fx->service, c->service,
				own ? " itself" : ", which it calls,",
				c->kind == LOCALIZE_CPU ? "CPU" : "memory");
	else if (c->kind == LOCALIZE_RESTARTS)
		f = add_finding(d, "graph", cat, conf, action, c->service,
				"%s suffers because %s%s restarted.", fx->service, c->service,
				own ? " itself" : ", which it calls,");
	else
		f = add_finding(d, "graph", cat, conf, action, c->service,
				"%s suffers because %s%s fails in its own code: it gained errors or "
				"stopped reaching statements it used to, and what it calls did not%s.",
				fx->service, c->service, own ? " itself" : ", which it calls,",
				back >= 0 ? "; it was rolled out in the day before" :
				commit ? "; it changed in the day before" : "");
	cJSON_AddStringToObject(f->params, "service", c->service);
	cJSON_AddNumberToObject(f->params, "score", round(c->score * 100) / 100);
	if (c->kind == LOCALIZE_CPU)
		cJSON_AddStringToObject(f->params, "resource", "cpu");
	if (back >= 0)
		cJSON_AddNumberToObject(f->params, "revision", (double)back);
	if (commit && json_string(commit, "sha"))
		cJSON_AddStringToObject(f->params, "commit", json_string(commit, "sha"));
	for (size_t i = 0; i < c->lines_nr; i++)
		quote(f, c->lines[i].source, "%s", c->lines[i].summary);
	if (back >= 0)
		quote(f, "kubernetes", "replicaset %s: revision %lld created %s; revision %lld before it",
		      json_string_or(json_get(rollout, "metadata"), "name", "?"), revision(rollout),
		      json_string_or(json_get(rollout, "metadata"), "creationTimestamp", "?"), back);
	else if (commit)
		quote(f, "git", "commit %.12s %s: %s", json_string_or(commit, "sha", "?"),
		      json_string_or(commit, "time", "?"), json_string_or(commit, "subject", ""));
	if (g->nr > 1)
		quote(f, "jaeger", "next: %s (score %.2f against %.2f)", g->v[1].service, g->v[1].score,
		      c->score);
	fx->localized = 1;
	fx->technical = 1;
}

static void format_us(char *buf, size_t size, int64_t us)
{
	if (us >= 1000000)
		snprintf(buf, size, "%.2fs", (double)us / 1e6);
	else if (us >= 1000)
		snprintf(buf, size, "%.1fms", (double)us / 1e3);
	else
		snprintf(buf, size, "%lldus", (long long)us);
}

static void rule_latency(struct diagnosis *d, struct facts *fx)
{
	const struct trace_analysis *a = fx->traces;
	const struct trace_slow *s;
	const struct trace_path_span *hot;
	struct diagnosis_finding *f;
	char total[32], self[32];
	int external;

	/* Compared with a baseline, the call graph knows better than one slow trace. */
	if (!a || !a->slow_nr || fx->localized)
		return;
	s = &a->slow[0];
	if (!s->path_nr || s->hot >= s->path_nr)
		return;
	hot = &s->path[s->hot];
	/* Slow, and one span holds most of it. */
	if (s->duration_us < 300000 || hot->self_us * 10 < s->duration_us * 4)
		return;
	external = hot->db_system || hot->peer_service;
	format_us(total, sizeof(total), s->duration_us);
	format_us(self, sizeof(self), hot->self_us);
	f = add_finding(d, "traces-latency", CATEGORY_latency, is_latency_incident(fx) ? 0.8 : 0.7,
			external ? ACTION_escalate : ACTION_restart, hot->service,
			"%s is slow because %s%s%s spends %s of a %s request in %s%s%s.",
			fx->service, hot->service, external ? "'s call to " : "",
			external ? (hot->db_system ? hot->db_system : hot->peer_service) : "",
			self, total, hot->operation, external ? "" : " itself",
			external ? "; a database or service outside sre's reach needs a person" : "");
	cJSON_AddStringToObject(f->params, "span", hot->operation);
	cJSON_AddNumberToObject(f->params, "self_ms", (double)(hot->self_us / 1000));
	if (hot->db_system)
		cJSON_AddStringToObject(f->params, "db", hot->db_system);
	quote(f, "jaeger", "slowest trace %s: %s %s took %s", s->trace_id, s->root_service,
	      s->root_operation, total);
	quote(f, "jaeger", "on its critical path, %s %s spent %s in itself", hot->service, hot->operation,
	      self);
	if (a->p99_root_us) {
		char p99[32];
		format_us(p99, sizeof(p99), a->p99_root_us);
		quote(f, "jaeger", "p99 of %zu traces: %s", a->traces, p99);
	}
	fx->technical = 1;
}

/* ---- rules: metrics ---- */

/* A series' values: first-third mean and last value. 0, or -1 when too few. */
static int series_drop(const cJSON *result, double *before, double *last)
{
	const cJSON *values = json_get(cJSON_GetArrayItem(result, 0), "values");
	int n = cJSON_GetArraySize(values), k, used = 0;
	double sum = 0;

	if (n < 3)
		return -1;
	k = n / 3 > 0 ? n / 3 : 1;
	for (int i = 0; i < k; i++) {
		const char *v = cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetArrayItem(values, i), 1));
		if (v) {
			sum += strtod(v, NULL);
			used++;
		}
	}
	if (!used)
		return -1;
	*before = sum / used;
	{
		const char *v = cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetArrayItem(values, n - 1), 1));
		if (!v)
			return -1;
		*last = strtod(v, NULL);
	}
	return 0;
}

static void rule_business(struct diagnosis *d, struct facts *fx)
{
	size_t had = d->findings_nr;

	for (size_t i = 0; i < fx->ev->prometheus_nr; i++) {
		const struct evidence_item *it = &fx->ev->prometheus[i];
		const cJSON *result = json_path(it->json, "data.result");
		int incident_check = fx->fingerprint && fx->signal && !strcmp(fx->signal, "below") &&
				     ends_with(fx->fingerprint, it->name);
		double before, last;
		struct diagnosis_finding *f;

		if (series_drop(result, &before, &last) < 0 || !(before > 0) || last > before / 2)
			continue;
		if (!incident_check || fx->technical)
			continue;
		f = add_finding(d, "metric-drop", CATEGORY_business_metric, 0.6, ACTION_restart, fx->service,
				"%s fell from %.4g to %.4g while %s shows no technical fault; a restart "
				"is the cheapest thing to try, and a person should look.", it->name, before,
				last, fx->service);
		cJSON_AddStringToObject(f->params, "check", it->name);
		quote(f, "prometheus", "%s: %.4g on average early in the window read, %.4g now", it->name, before, last);
	}
	/*
	 * A check that reads a service's own /metrics (source "metrics") has
	 * no range to show, nor has a PromQL check whose range is too short
	 * to hold the time before the fall (a lookback of seconds); but the
	 * incident itself says what fell.
	 */
	if (d->findings_nr == had && !fx->technical && fx->source && fx->signal &&
	    (!strcmp(fx->source, "metrics") || !strcmp(fx->source, "prometheus")) &&
	    !strcmp(fx->signal, "below")) {
		const char *title = json_string(fx->ev->incident, "title");
		struct diagnosis_finding *f;

		f = add_finding(d, "metric-drop", CATEGORY_business_metric, 0.6, ACTION_restart,
				fx->service, "%s while %s shows no technical fault; a restart is the "
				"cheapest thing to try, and a person should look.",
				title ? title : "A business metric fell", fx->service);
		quote(f, fx->source, "%s", title ? title : "a business metric is below its floor");
	}
}

static void rule_throttling(struct diagnosis *d, struct facts *fx)
{
	for (size_t i = 0; i < fx->ev->prometheus_nr; i++) {
		const struct evidence_item *it = &fx->ev->prometheus[i];
		const cJSON *result = json_path(it->json, "data.result");
		double before, last;
		struct diagnosis_finding *f;

		if (!strstr(it->name, "throttl") && !(it->query && strstr(it->query, "throttled")))
			continue;
		/* The pods of the whole call graph (pod-*) are the localiser's to read. */
		if (starts_with(it->name, "pod-"))
			continue;
		if (series_drop(result, &before, &last) < 0 || last < 0.25)
			continue;
		f = add_finding(d, "cpu-throttling", CATEGORY_resource_exhaustion, 0.7, ACTION_scale,
				fx->service, "%s is starved of CPU: %.0f%% of its periods are throttled.",
				fx->service, last * 100);
		cJSON_AddStringToObject(f->params, "resource", "cpu");
		quote(f, "prometheus", "%s: %.2f", it->name, last);
		fx->technical = 1;
	}
}

/* ---- choosing ---- */

/* A question about slowness prefers latency, about errors a dependency: ties only. */
static void problem_bias(struct diagnosis *d, const char *problem)
{
	static const char *const slow[] = { "slow", "latency", "timeout", "p99", NULL };
	static const char *const errors[] = { "error", "5xx", "500", "fail", NULL };

	if (!problem)
		return;
	for (size_t i = 0; i < d->findings_nr; i++) {
		struct diagnosis_finding *f = &d->findings[i];
		if ((f->category == CATEGORY_latency && line_has(problem, strlen(problem), slow)) ||
		    (f->category == CATEGORY_dependency && line_has(problem, strlen(problem), errors)))
			f->problem_match = 1;
	}
}

static int compare_findings(const void *a, const void *b)
{
	const struct diagnosis_finding *x = a, *y = b;

	if (x->confidence != y->confidence)
		return x->confidence > y->confidence ? -1 : 1;
	if (x->problem_match != y->problem_match)
		return y->problem_match - x->problem_match;
	return (int)x->category - (int)y->category;
}

/* No rule fired: say so, with the strongest signals there are. */
static void unknown(struct diagnosis *d, const struct facts *fx)
{
	struct diagnosis_finding *f = &d->answer;
	const cJSON *pod;

	memset(f, 0, sizeof(*f));
	f->rule = "none";
	f->category = CATEGORY_unknown;
	f->action = ACTION_none;
	f->confidence = 0;
	f->params = cJSON_CreateObject();
	f->target = NULL;
	f->root_cause = xstrfmt("No rule matched the evidence about %s; sre does not guess a cause.",
				fx->service);
	if (fx->ev->incident && json_string(fx->ev->incident, "title"))
		quote(f, "store", "incident: %s", json_string(fx->ev->incident, "title"));
	if (fx->traces && fx->traces->traces) {
		char p99[32];
		format_us(p99, sizeof(p99), fx->traces->p99_root_us);
		quote(f, "jaeger", "%zu of %zu traces have errors; p99 %s", fx->traces->error_traces,
		      fx->traces->traces, p99);
	}
	cJSON_ArrayForEach(pod, json_array(fx->ev->pods, "items")) {
		const cJSON *cs;
		cJSON_ArrayForEach(cs, json_path(pod, "status.containerStatuses"))
			if (json_int(cs, "restartCount") > 0)
				quote(f, "kubernetes", "pod %s container %s: %lld restarts",
				      json_string(json_get(pod, "metadata"), "name"), json_string(cs, "name"),
				      json_int(cs, "restartCount"));
	}
	for (size_t i = 0; i < fx->ev->logs_nr && f->evidence_nr < 8; i++) {
		char *line = fx->ev->logs[i].service ? NULL :
			     last_line_with(fx->ev->logs[i].text, error_words);
		if (line) {
			char *source = xstrfmt("logs/%s", fx->ev->logs[i].name);
			quote(f, source, "%s", line);
			free(source);
			free(line);
		}
	}
	for (size_t i = 0; i < fx->ev->sources_nr; i++)
		if (fx->ev->sources[i].status != EVIDENCE_OK)
			quote(f, fx->ev->sources[i].name, "not read: %s",
			      fx->ev->sources[i].error ? fx->ev->sources[i].error : "failed");
}

static int count_past(const struct facts *fx)
{
	const cJSON *inc;
	int n = 0;

	if (!fx->fingerprint)
		return 0;
	cJSON_ArrayForEach(inc, fx->ev->past) {
		time_t opened = when(inc, "opened_at");
		if (json_string_is(inc, "fingerprint", fx->fingerprint) && opened &&
		    opened >= fx->ev->now - 24 * 3600)
			n++;
	}
	return n;
}

typedef void (*rule_fn)(struct diagnosis *d, struct facts *fx);

static const struct {
	const char *name;
	rule_fn fn;
} rules[] = {
	{ "kubernetes", rule_kubernetes },
	{ "rollout", rule_rollout },
	{ "docker", rule_docker },
	{ "process", rule_process },
	{ "dependency", rule_dependency },
	{ "graph", rule_graph },
	{ "latency", rule_latency },
	{ "throttling", rule_throttling },
	{ "commit", rule_commit },
	{ "business", rule_business },
	{ "check", rule_check },
};

int rules_diagnose(struct diagnosis *d, const struct evidence *ev, const char *problem)
{
	struct facts fx;
	struct strbuf err = STRBUF_INIT;

	memset(&fx, 0, sizeof(fx));
	fx.ev = ev;
	fx.service = ev->service ? ev->service : "unknown";
	fx.fingerprint = json_string(ev->incident, "fingerprint");
	fx.source = json_string(ev->incident, "source");
	if (fx.fingerprint) {
		/* source/service/signal[/check] */
		const char *a = strchr(fx.fingerprint, '/'), *b = a ? strchr(a + 1, '/') : NULL;
		if (b) {
			const char *c = strchr(b + 1, '/');
			fx.signal_buf = c ? xstrndup(b + 1, (size_t)(c - b - 1)) : xstrdup(b + 1);
			fx.signal = fx.signal_buf;
		}
	}
	fx.start = when(ev->incident, "opened_at");
	if (!fx.start)
		fx.start = ev->now;
	fx.past_same = count_past(&fx);
	fx.chronic = fx.past_same >= CHRONIC_PAST;
	if (ev->traces) {
		if (traces_analyse(&d->traces, ev->traces, 5, NULL, &err) < 0) {
			error("the traces cannot be read: %s", err.buf);
			strbuf_release(&err);
			free(fx.signal_buf);
			return -1;
		}
		d->have_traces = 1;
		fx.traces = &d->traces;
	}
	strbuf_release(&err);
	localize(&d->graph, ev);
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
		rules[i].fn(d, &fx);
	/* The third time in a day, a restart has been tried: it needs a person. */
	for (size_t i = 0; fx.chronic && i < d->findings_nr; i++) {
		struct diagnosis_finding *f = &d->findings[i];
		if (f->action != ACTION_restart)
			continue;
		f->action = ACTION_escalate;
		quote(f, "store", "the same incident %d times in the last day: a restart did not "
		      "hold", fx.past_same);
	}
	problem_bias(d, problem);
	if (d->findings_nr) {
		qsort(d->findings, d->findings_nr, sizeof(*d->findings), compare_findings);
		finding_copy(&d->answer, &d->findings[0]);
	} else {
		unknown(d, &fx);
	}
	free(fx.signal_buf);
	return 0;
}

/* ---- output ---- */

cJSON *diagnosis_finding_json(const struct diagnosis_finding *f)
{
	cJSON *o = cJSON_CreateObject(), *m = cJSON_CreateObject(), *ev = cJSON_CreateArray();

	cJSON_AddStringToObject(o, "category", diagnosis_category_name(f->category));
	cJSON_AddStringToObject(o, "root_cause", f->root_cause ? f->root_cause : "");
	cJSON_AddNumberToObject(o, "confidence", round(f->confidence * 100) / 100);
	cJSON_AddStringToObject(m, "action", mitigation_action_name(f->action));
	if (f->target)
		cJSON_AddStringToObject(m, "target", f->target);
	else
		cJSON_AddNullToObject(m, "target");
	cJSON_AddItemToObject(m, "params", f->params ? cJSON_Duplicate(f->params, 1) : cJSON_CreateObject());
	cJSON_AddItemToObject(o, "mitigation", m);
	for (size_t i = 0; i < f->evidence_nr; i++)
		json_add_quote(ev, f->evidence[i].source, f->evidence[i].summary);
	cJSON_AddItemToObject(o, "evidence", ev);
	cJSON_AddStringToObject(o, "rule", f->rule ? f->rule : "none");
	return o;
}

void diagnosis_comment(struct strbuf *out, const struct diagnosis *d)
{
	const struct diagnosis_finding *f = &d->answer;
	struct strbuf action = STRBUF_INIT;

	strbuf_addstr(&action, mitigation_action_name(f->action));
	for (size_t i = 0; i < action.len; i++)
		action.buf[i] = action.buf[i] == '-' ? '_' : (char)toupper((unsigned char)action.buf[i]);
	strbuf_addf(out, "Root cause: %s\n", f->root_cause);
	strbuf_addf(out, "Category: %s (confidence %.2f)\n", diagnosis_category_name(f->category),
		    f->confidence);
	strbuf_addf(out, "Mitigation: %s%s%s\n", action.buf, f->target ? " " : "",
		    f->target ? f->target : "");
	if (f->evidence_nr)
		strbuf_addstr(out, "\nEvidence:\n");
	for (size_t i = 0; i < f->evidence_nr; i++)
		strbuf_addf(out, "- [%s] %s\n", f->evidence[i].source, f->evidence[i].summary);
	strbuf_release(&action);
}
