/*
 * fix.c: `sre fix`, one guarded remediation of a diagnosed incident.
 *
 *   sre fix [--dry-run] [--yes] [--json] <incident>
 *   sre fix --status [--json] [<incident>...]
 *
 * The plan comes from the incident's latest diagnosis (lib/rules.c): one
 * action from the closed set, on a target the configuration names
 * (fix_target_read). Policy (lib/policy.c) decides whether a person must
 * approve; a direct action (lib/actions.c) is written to the timeline
 * before it starts and after it ends, so that a run killed in the middle
 * is judged, not repeated blindly, by the next; a repository change
 * (lib/manifest.c, lib/gitops.c) becomes a branch, a commit and a pull
 * request (lib/pulls.c) that --status follows until it is merged; and
 * every fix ends with the incident's own check re-run (lib/verify.c).
 *
 * The incident moves along the graph of lib/incident.h at each step:
 *
 *   ANALYSIS_COMPLETE -> FIX_GENERATION_IN_PROGRESS -> FIX_GENERATED
 *     direct:      -> DEPLOYMENT_IN_PROGRESS -> DEPLOYMENT_COMPLETE
 *     repository:  -> PR_CREATION_IN_PROGRESS -> PR_CREATED
 *                  (--status) -> PR_UNDER_REVIEW -> PR_APPROVED -> PR_MERGED
 *                  -> DEPLOYMENT_IN_PROGRESS -> DEPLOYMENT_COMPLETE
 *   -> VERIFICATION_IN_PROGRESS -> VERIFICATION_COMPLETE -> INCIDENT_RESOLVED
 *
 * and to INCIDENT_REQUIRES_HUMAN, with the reason, whenever policy,
 * the action or the verification says a person must take over.
 */
#include <ctype.h>
#include <unistd.h>

#include "builtin.h"
#include "../lib/fix.h"
#include "../lib/format.h"
#include "../lib/mirror.h"
#include "../lib/scout.h"
#include "../lib/timeutil.h"
#include "../lib/tracker.h"

static const char *const fix_usage[] = {
	"sre fix [--dry-run] [--yes] [--json] <incident>",
	"sre fix --status [--json] [<incident>...]",
	NULL,
};

/* What a fix does. */
enum plan_kind {
	PLAN_DIRECT,       /* an action on the service where it runs */
	PLAN_REPOSITORY,   /* a change to core.repo, as a pull request */
	PLAN_ESCALATE,     /* hand over to a person */
	PLAN_VERIFY,       /* nothing to do but check that it is well */
};

struct plan {
	long long incident;
	enum mitigation_action action;
	enum plan_kind kind;
	struct fix_target target;
	int have_target;
	cJSON *params;
	double confidence;
	char *category, *root_cause;
	/* a repository change */
	char *repo, *base, *branch, *path, *revert;
	struct strbuf text, diff;
	/* the verdict of policy */
	int requires_approval;
	struct strbuf approval;   /* why a person must approve */
	int refused;
	struct strbuf refusal;    /* why it goes to a person instead */
};

static void plan_init(struct plan *p)
{
	memset(p, 0, sizeof(*p));
	strvec_init(&p->target.start);
	strvec_init(&p->target.stop);
	strbuf_init(&p->text, 0);
	strbuf_init(&p->diff, 0);
	strbuf_init(&p->approval, 0);
	strbuf_init(&p->refusal, 0);
}

static void plan_release(struct plan *p)
{
	fix_target_release(&p->target);
	cJSON_Delete(p->params);
	free(p->category);
	free(p->root_cause);
	free(p->repo);
	free(p->base);
	free(p->branch);
	free(p->path);
	free(p->revert);
	strbuf_release(&p->text);
	strbuf_release(&p->diff);
	strbuf_release(&p->approval);
	strbuf_release(&p->refusal);
}

static void refuse(struct plan *p, const char *fmt, ...) SRE_PRINTF(2, 3);
static void refuse(struct plan *p, const char *fmt, ...)
{
	va_list ap;

	if (p->refused)
		return;
	p->refused = 1;
	va_start(ap, fmt);
	strbuf_vaddf(&p->refusal, fmt, ap);
	va_end(ap);
}

/* ---- moving the incident ---- */

/* Set when a move was refused because the tracker holds another state: not a failure of sre's. */
static int left_to_tracker;

/* Move, with an event of kind (JSON body) written in the same transaction when kind is set. */
static int move_event(struct store *st, struct incident *inc, enum incident_state to,
		      const char *reason, const char *kind, const char *body)
{
	enum incident_state remote = inc->state;
	int r = mirror_incident_transition_event(st, sre_tracker(), &the_sre.cfg, inc->id,
						 (int)inc->state, to, sre_actor(), reason, kind, body,
						 &remote);

	if (r == MIRROR_FOLLOWED && incident_state_is_working(remote)) {
		/* A label anyone can set: recorded, never acted on, never followed. */
		error("incident %lld is %s on the tracker: another host may be fixing it; "
		      "leaving it %s here", inc->id, incident_state_name(remote),
		      incident_state_name(inc->state));
		left_to_tracker = 1;
		return -1;
	}
	if (r == MIRROR_FOLLOWED) {
		error("incident %lld is %s on the tracker: another host is on it; leaving it",
		      inc->id, incident_state_name(remote));
		inc->state = remote;
		left_to_tracker = 1;
		return -1;
	}
	if (r)
		return -1;
	inc->state = to;
	return 0;
}

static int move(struct store *st, struct incident *inc, enum incident_state to, const char *reason)
{
	return move_event(st, inc, to, reason, NULL, NULL);
}

/* Move through each state of the straight line up to to (the PR states). */
static int move_through(struct store *st, struct incident *inc, enum incident_state to,
			const char *reason)
{
	while (inc->state < to)
		if (move(st, inc, (enum incident_state)(inc->state + 1), reason) < 0)
			return -1;
	return 0;
}

static int escalate(struct store *st, struct incident *inc, const char *reason)
{
	if (inc->state == STATE_INCIDENT_REQUIRES_HUMAN)
		return 0;
	if (move(st, inc, STATE_INCIDENT_REQUIRES_HUMAN, reason) < 0)
		return -1;
	fprintf(stderr, "incident %lld needs a person: %s\n", inc->id, reason);
	return 0;
}

static int event(struct store *st, long long id, const char *kind, cJSON *body)
{
	char *json = cJSON_PrintUnformatted(body);
	int r = store_event_append(st, id, kind, sre_actor(), json);

	cJSON_free(json);
	cJSON_Delete(body);
	return r ? -1 : 0;
}

/* ---- the plan ---- */

/* The configured service that name is: a service, or a service's deployment or container. */
static char *configured_service(const char *name)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf key = STRBUF_INIT;
	char *found = NULL;

	config_subsections(&the_sre.cfg, "service", &names);
	for (size_t i = 0; i < names.nr && !found; i++)
		if (!strcmp(names.v[i], name))
			found = xstrdup(name);
	for (size_t i = 0; i < names.nr && !found; i++) {
		const char *d = config_get_string(&the_sre.cfg, scout_key(&key, "service", names.v[i],
									  "deployment"));
		const char *c = config_get_string(&the_sre.cfg, scout_key(&key, "service", names.v[i],
									  "container"));
		if ((d && !strcmp(d, name)) || (c && !strcmp(c, name)))
			found = xstrdup(names.v[i]);
	}
	strvec_clear(&names);
	strbuf_release(&key);
	return found;
}

static int valid_word(const char *s, const char *extra, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(extra, s[i]))
			return 0;
	return 1;
}

static int valid_sha(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 7 || n > 40)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * The diagnosis's params, kept only where they are what they claim to be:
 * nothing from a diagnosis reaches a request, a path or a command
 * unchecked.
 */
static cJSON *checked_params(const cJSON *in, struct plan *p)
{
	cJSON *out = cJSON_CreateObject();
	const cJSON *v;

	v = cJSON_GetObjectItemCaseSensitive(in, "container");
	if (cJSON_IsString(v) && valid_word(v->valuestring, "-_.", 253))
		cJSON_AddStringToObject(out, "container", v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(in, "replicas");
	if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= 1000)
		cJSON_AddNumberToObject(out, "replicas", (double)(long long)v->valuedouble);
	v = cJSON_GetObjectItemCaseSensitive(in, "revision");
	if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= 1e9)
		cJSON_AddNumberToObject(out, "revision", (double)(long long)v->valuedouble);
	v = cJSON_GetObjectItemCaseSensitive(in, "commit");
	if (cJSON_IsString(v)) {
		if (valid_sha(v->valuestring))
			cJSON_AddStringToObject(out, "commit", v->valuestring);
		else
			refuse(p, "the diagnosis names commit \"%.40s\", which is no commit id",
			       v->valuestring);
	}
	v = cJSON_GetObjectItemCaseSensitive(in, "to");
	if (cJSON_IsString(v)) {
		if (valid_word(v->valuestring, "-_./:@", 512))
			cJSON_AddStringToObject(out, "to", v->valuestring);
		else
			refuse(p, "the diagnosis names image \"%.80s\", which is no image reference",
			       v->valuestring);
	}
	v = cJSON_GetObjectItemCaseSensitive(in, "image");
	if (cJSON_IsString(v) && valid_word(v->valuestring, "-_./:@", 512))
		cJSON_AddStringToObject(out, "image", v->valuestring);
	return out;
}

/* The file of a repository change, its new text and the diff; refuses on failure. */
static void plan_repository(struct plan *p, const struct fix_policy *pol)
{
	struct strbuf err = STRBUF_INIT;
	char *old = NULL, *before = NULL, *after = NULL;
	const char *container = cJSON_GetStringValue(cJSON_GetObjectItem(p->params, "container"));
	int r;

	if (config_get_path(&the_sre.cfg, "core.repo", &p->repo)) {
		refuse(p, "%s needs core.repo, the repository of the manifests", mitigation_action_name(p->action));
		return;
	}
	if (gitops_default_branch(&p->base, p->repo, &err) < 0) {
		refuse(p, "%s", err.buf);
		goto out;
	}
	p->branch = xstrfmt("sre/incident-%lld", p->incident);
	if (p->action == ACTION_rollback) {
		p->revert = xstrdup(cJSON_GetStringValue(cJSON_GetObjectItem(p->params, "commit")));
		if (gitops_revert_diff(&p->diff, p->repo, p->revert, &err) < 0)
			refuse(p, "%s", err.buf);
		goto out;
	}
	if (!p->target.manifest) {
		refuse(p, "%s needs service.%s.manifest, the service's manifest in core.repo",
		       mitigation_action_name(p->action), p->target.service);
		goto out;
	}
	p->path = xstrdup(p->target.manifest);
	r = gitops_read_file(&old, p->repo, p->base, p->path, &err);
	if (r) {
		refuse(p, "%s", r > 0 ? "the manifest is not in core.repo's default branch" : err.buf);
		goto out;
	}
	if (p->action == ACTION_increase_memory) {
		r = manifest_set_memory(&p->text, old, container, pol->memory_step, &before, &after, &err);
	} else if (p->action == ACTION_fix_image) {
		const char *to = cJSON_GetStringValue(cJSON_GetObjectItem(p->params, "to"));
		if (!to) {
			refuse(p, "fix-image needs the image to run, and the diagnosis knows no good one");
			goto out;
		}
		r = manifest_set_image(&p->text, old, container, to, &before, &err);
		after = xstrdup(to);
	} else {
		refuse(p, "patch-config needs a change that sre cannot derive from the diagnosis");
		goto out;
	}
	if (r < 0) {
		refuse(p, "%s: %s", p->path, err.buf);
		goto out;
	}
	if (before)
		cJSON_AddStringToObject(p->params, "from", before);
	if (after)
		cJSON_AddStringToObject(p->params, "to_value", after);
	if (gitops_diff(&p->diff, p->path, old, p->text.buf, &err) < 0)
		refuse(p, "%s", err.buf);
out:
	free(old);
	free(before);
	free(after);
	strbuf_release(&err);
}

/*
 * Make the plan of incident inc from its latest diagnosis, and judge it
 * against policy. Returns 0 (p->refused says whether it may go on), or -1
 * on an error (printed).
 */
static int plan_target(struct plan *p, struct store *st, const struct incident *inc,
		       const struct fix_policy *pol, const char *target, int approved_by_person);

static int make_plan(struct plan *p, struct store *st, const struct incident *inc,
		     const struct fix_policy *pol, int approved_by_person)
{
	char *json = NULL;
	cJSON *d, *m, *conf;
	const char *action;
	char *target;
	int r;

	p->incident = inc->id;
	r = store_diagnosis_latest(st, inc->id, &json);
	if (r)
		return r > 0 ? error("incident %lld has no diagnosis: run sre diagnose %lld first",
				     inc->id, inc->id) : -1;
	d = cJSON_Parse(json);
	free(json);
	if (!d)
		return error("the diagnosis of incident %lld cannot be read", inc->id);
	m = cJSON_GetObjectItemCaseSensitive(d, "mitigation");
	action = scout_json_string(m, "action");
	target = scout_json_string(m, "target") ? xstrdup(scout_json_string(m, "target")) : NULL;
	p->category = xstrdup(scout_json_string(d, "category") ? scout_json_string(d, "category") : "unknown");
	p->root_cause = xstrdup(scout_json_string(d, "root_cause") ? scout_json_string(d, "root_cause") : "");
	conf = cJSON_GetObjectItemCaseSensitive(d, "confidence");
	/* Fail closed: a NaN would pass every "below the floor" check. */
	if (!cJSON_IsNumber(conf) || !(conf->valuedouble >= 0 && conf->valuedouble <= 1)) {
		cJSON_Delete(d);
		free(target);
		return error("the diagnosis of incident %lld has no confidence from 0 to 1: "
			     "run sre diagnose %lld again", inc->id, inc->id);
	}
	p->confidence = conf->valuedouble;
	if (!action || mitigation_action_parse(action, &p->action) < 0) {
		cJSON_Delete(d);
		free(target);
		return error("the diagnosis of incident %lld names no known action", inc->id);
	}
	p->params = checked_params(cJSON_GetObjectItemCaseSensitive(m, "params"), p);
	cJSON_Delete(d);
	r = plan_target(p, st, inc, pol, target, approved_by_person);
	free(target);
	return r;
}

static int plan_target(struct plan *p, struct store *st, const struct incident *inc,
		       const struct fix_policy *pol, const char *target, int approved_by_person)
{
	struct strbuf err = STRBUF_INIT;
	char *service;
	int r;

	if (p->action == ACTION_escalate) {
		p->kind = PLAN_ESCALATE;
		refuse(p, "the diagnosis says a person must look: %s", p->root_cause);
		return 0;
	}
	if (p->action == ACTION_none) {
		p->kind = PLAN_VERIFY;
		return 0;
	}
	service = configured_service(target ? target : inc->service);
	if (!service) {
		refuse(p, "%s is not a configured service: sre acts only on [service] sections",
		       target ? target : inc->service);
		return 0;
	}
	if (fix_target_read(&p->target, &the_sre.cfg, service, &err) < 0) {
		free(service);
		r = error("%s", err.buf);
		strbuf_release(&err);
		return r;
	}
	p->have_target = 1;
	free(service);

	switch (p->action) {
	case ACTION_restart:
	case ACTION_scale:
		p->kind = PLAN_DIRECT;
		break;
	case ACTION_rollback:
		p->kind = cJSON_GetObjectItem(p->params, "commit") ? PLAN_REPOSITORY : PLAN_DIRECT;
		break;
	default:
		p->kind = PLAN_REPOSITORY;
		break;
	}
	if (p->action == ACTION_scale && !p->target.max_replicas)
		refuse(p, "scale needs service.%s.max-replicas, the most replicas sre may ask for",
		       p->target.service);
	if (p->kind == PLAN_DIRECT && p->target.runtime == RUNTIME_NONE)
		refuse(p, "%s on %s needs service.%s.runtime (docker, kubernetes or process)",
		       mitigation_action_name(p->action), p->target.service, p->target.service);
	if (p->kind == PLAN_REPOSITORY && !p->refused)
		plan_repository(p, pol);

	/* Policy: who may approve, and what a person must see. */
	/* A person running --yes has looked; cron has not. */
	if (!(p->confidence >= pol->escalate_below) && !approved_by_person)
		refuse(p, "the diagnosis's confidence %.2f is below fix.escalate-below %.2f",
		       p->confidence, pol->escalate_below);
	p->requires_approval = !fix_policy_allows(pol, &the_sre.cfg, p->target.service, p->action,
						  p->confidence, &p->approval);
	if (p->kind == PLAN_DIRECT && !p->requires_approval && !approved_by_person) {
		long long n = 0;
		if (store_count_events(st, p->target.service, "action-started", sre_now() - 3600,
				       "policy", &n) < 0)
			return -1;
		if (n >= pol->max_per_hour)
			refuse(p, "%lld automatic actions on %s in the last hour: fix.max-per-hour is %lld; "
			       "no restart loops", n, p->target.service, pol->max_per_hour);
	}
	strbuf_release(&err);
	return 0;
}

static const char *kind_runtime(const struct plan *p)
{
	if (p->kind == PLAN_REPOSITORY)
		return "repository";
	if (p->kind == PLAN_ESCALATE)
		return "person";
	if (p->kind == PLAN_VERIFY)
		return "none";
	return fix_runtime_name(p->target.runtime);
}

static cJSON *plan_json(const struct plan *p)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "incident", (double)p->incident);
	cJSON_AddStringToObject(o, "action", mitigation_action_name(p->action));
	if (p->have_target)
		cJSON_AddStringToObject(o, "target", p->target.service);
	else
		cJSON_AddNullToObject(o, "target");
	cJSON_AddItemToObject(o, "params", cJSON_Duplicate(p->params, 1));
	cJSON_AddStringToObject(o, "runtime", kind_runtime(p));
	cJSON_AddBoolToObject(o, "requires_approval", p->requires_approval);
	if (p->requires_approval)
		cJSON_AddStringToObject(o, "approval", p->approval.buf);
	if (p->diff.len)
		cJSON_AddStringToObject(o, "diff", p->diff.buf);
	else
		cJSON_AddNullToObject(o, "diff");
	cJSON_AddBoolToObject(o, "refused", p->refused);
	if (p->refused)
		cJSON_AddStringToObject(o, "reason", p->refusal.buf);
	return o;
}

static void describe(FILE *fp, const struct plan *p)
{
	fprintf(fp, "Incident    #%lld (%s, confidence %.2f)\n", p->incident, p->category, p->confidence);
	fprintf(fp, "Action      %s%s%s", mitigation_action_name(p->action),
		p->have_target ? " " : "", p->have_target ? p->target.service : "");
	if (p->kind == PLAN_DIRECT)
		fprintf(fp, " (%s", fix_runtime_name(p->target.runtime));
	if (p->kind == PLAN_DIRECT && p->target.runtime == RUNTIME_KUBERNETES)
		fprintf(fp, ": deployment %s/%s", p->target.namespace, p->target.deployment);
	else if (p->kind == PLAN_DIRECT && p->target.runtime == RUNTIME_DOCKER)
		fprintf(fp, ": container %s", p->target.container);
	if (p->kind == PLAN_DIRECT)
		fputc(')', fp);
	if (p->kind == PLAN_REPOSITORY)
		fprintf(fp, " (pull request from %s into %s)", p->branch ? p->branch : "?",
			p->base ? p->base : "?");
	fputc('\n', fp);
	if (p->revert)
		fprintf(fp, "Revert      %s\n", p->revert);
	fprintf(fp, "Approval    %s\n", p->requires_approval ? p->approval.buf : "allowed by policy");
	if (p->refused)
		fprintf(fp, "Refused     %s\n", p->refusal.buf);
	if (p->diff.len)
		fprintf(fp, "\n%s", p->diff.buf);
}

/* ---- approval ---- */

/* Ask on the terminal; 1 yes. Only when both ends are a terminal. */
static int ask(const struct plan *p)
{
	char answer[16];
	FILE *tty;
	int yes;

	if (!isatty(0) || !isatty(2))
		return 0;
	tty = fopen("/dev/tty", "r+");
	if (!tty)
		return 0;
	describe(stderr, p);
	fprintf(tty, "Carry out %s on %s? [y/N] ", mitigation_action_name(p->action),
		p->have_target ? p->target.service : "?");
	fflush(tty);
	yes = fgets(answer, sizeof(answer), tty) && (answer[0] == 'y' || answer[0] == 'Y');
	fclose(tty);
	return yes;
}

/* ---- verification ---- */

static int verify(struct store *st, struct incident *inc, const char *tried)
{
	struct verify_options vo;
	struct strbuf seen = STRBUF_INIT, reason = STRBUF_INIT;
	struct tracker *t = sre_tracker();
	int r, ret = -1;

	if (inc->state == STATE_VERIFICATION_COMPLETE) {
		/* Verified before a crash: only the last move is left. */
		r = 1;
		strbuf_addstr(&seen, "verified before");
		goto verified;
	}
	if (verify_options_read(&vo, &the_sre.cfg) < 0)
		return -1;
	if (inc->state < STATE_VERIFICATION_IN_PROGRESS &&
	    move_through(st, inc, STATE_VERIFICATION_IN_PROGRESS, "verifying the fix") < 0)
		return -1;
	if (isatty(2))
		fprintf(stderr, "verifying: re-running the %s check of incident %lld...\n",
			inc->source, inc->id);
	r = verify_fix(&the_sre.cfg, inc, &vo, &seen);
verified:
	if (r == 1) {
		strbuf_addf(&reason, "verified: %s", seen.buf);
		if ((inc->state != STATE_VERIFICATION_COMPLETE &&
		     move(st, inc, STATE_VERIFICATION_COMPLETE, reason.buf) < 0) ||
		    move(st, inc, STATE_INCIDENT_RESOLVED, reason.buf) < 0)
			goto out;
		/* GitHub shows it as a label; JIRA's Done status says it, and takes no blanks. */
		if (t && !strcmp(t->ops->name, "github")) {
			if (store_begin(st) < 0)
				goto out;
			if (mirror_queue_label(st, t->ops->name, inc->id, "Status: Fixed") < 0) {
				store_rollback(st);
				goto out;
			}
			if (store_commit(st) < 0)
				goto out;
		}
		printf("incident %lld is resolved: %s\n", inc->id, seen.buf);
		ret = 0;
	} else if (r == 0) {
		strbuf_addf(&reason, "%s did not fix it: %s", tried, seen.buf);
		if (escalate(st, inc, reason.buf) < 0)
			goto out;
		ret = 1;
	} else {
		strbuf_addf(&reason, "%s was done, but whether it worked cannot be told: %s", tried,
			    seen.len ? seen.buf : "the check could not be read");
		if (escalate(st, inc, reason.buf) < 0)
			goto out;
		ret = 1;
	}
out:
	strbuf_release(&seen);
	strbuf_release(&reason);
	return ret;
}

/* ---- carrying it out ---- */

/* The last action-started event with no action-finished after it, or NULL. */
static cJSON *unfinished_action(struct store *st, long long id)
{
	struct event *ev;
	size_t nr;
	cJSON *open = NULL;

	if (store_event_list(st, id, &ev, &nr) < 0)
		return NULL;
	for (size_t i = 0; i < nr; i++) {
		if (!strcmp(ev[i].kind, "action-started")) {
			cJSON_Delete(open);
			open = cJSON_Parse(ev[i].body);
		} else if (!strcmp(ev[i].kind, "action-finished")) {
			cJSON_Delete(open);
			open = NULL;
		}
	}
	event_list_free(ev, nr);
	return open;
}

static int finish_event(struct store *st, long long id, const char *result, const char *output)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddStringToObject(b, "result", result);
	cJSON_AddStringToObject(b, "output", output);
	return event(st, id, "action-finished", b);
}

/*
 * The action itself: prepared, then recorded with the move into
 * DEPLOYMENT_IN_PROGRESS (action, target, parameters and who approved it,
 * in one transaction), then run, then recorded as finished. A run killed
 * anywhere from the move on leaves a record the next run judges.
 */
static int do_action(struct store *st, struct incident *inc, struct plan *p, const char *how)
{
	struct http_client http;
	struct strbuf out = STRBUF_INIT, tried = STRBUF_INIT;
	cJSON *record = cJSON_CreateObject(), *body;
	char *json;
	int r, ret = -1;

	if (http_client_init(&http, &the_sre.cfg) < 0) {
		cJSON_Delete(record);
		return -1;
	}
	strbuf_addf(&tried, "%s of %s", mitigation_action_name(p->action), p->target.service);
	if (action_prepare(&http, &the_sre.cfg, &p->target, p->action, p->params, record, &out) < 0) {
		ret = escalate(st, inc, out.buf) < 0 ? -1 : 1;
		goto out;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "action", mitigation_action_name(p->action));
	cJSON_AddStringToObject(body, "target", p->target.service);
	cJSON_AddStringToObject(body, "runtime", fix_runtime_name(p->target.runtime));
	cJSON_AddStringToObject(body, "approval", how);
	cJSON_AddItemToObject(body, "params", cJSON_Duplicate(p->params, 1));
	cJSON_AddItemToObject(body, "record", cJSON_Duplicate(record, 1));
	json = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (inc->state == STATE_DEPLOYMENT_IN_PROGRESS)
		r = store_event_append(st, inc->id, "action-started", sre_actor(), json) ? -1 : 0;
	else
		r = move_event(st, inc, STATE_DEPLOYMENT_IN_PROGRESS, "carrying out the fix",
			       "action-started", json);
	cJSON_free(json);
	if (r < 0)
		goto out;
	test_crash_point("action-started");
	if (action_run(&http, &the_sre.cfg, &p->target, p->action, record, &out) < 0) {
		struct strbuf why = STRBUF_INIT;
		if (finish_event(st, inc->id, "failed", out.buf) < 0) {
			strbuf_release(&why);
			goto out;
		}
		test_crash_point("action-failed");
		strbuf_addf(&why, "%s failed: %s", tried.buf, out.buf);
		ret = escalate(st, inc, why.buf) < 0 ? -1 : 1;
		strbuf_release(&why);
		goto out;
	}
	if (finish_event(st, inc->id, "done", out.buf) < 0)
		goto out;
	printf("%s: done%s%s\n", tried.buf, out.len ? ": " : "", out.buf);
	if (move(st, inc, STATE_DEPLOYMENT_COMPLETE, tried.buf) < 0)
		goto out;
	ret = verify(st, inc, tried.buf);
out:
	http_client_release(&http);
	cJSON_Delete(record);
	strbuf_release(&out);
	strbuf_release(&tried);
	return ret;
}

/*
 * Who approves a plan: "person" (--yes, or yes at the terminal), "policy",
 * or NULL when nobody did.
 */
static const char *approve(const struct plan *p, int yes)
{
	if (yes)
		return "person";
	if (!p->requires_approval)
		return "policy";
	return ask(p) ? "person" : NULL;
}

/*
 * A run was cut off after action-started: ask the target whether the
 * action took effect. If it did, go on to verify; if not, carry it out
 * now, as it was recorded (action, target, parameters, approval), not as
 * today's diagnosis would plan it; if the target cannot tell, a person
 * decides.
 */
static int resume_action(struct store *st, struct incident *inc, struct plan *p, cJSON *started)
{
	struct http_client http;
	struct strbuf out = STRBUF_INIT, tried = STRBUF_INIT, err = STRBUF_INIT;
	const cJSON *record = cJSON_GetObjectItemCaseSensitive(started, "record");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(started, "params");
	const char *how = scout_json_string(started, "approval");
	const char *action = scout_json_string(started, "action");
	const char *target = scout_json_string(started, "target");
	int r, ret = -1;

	if (!action || mitigation_action_parse(action, &p->action) < 0 || !target ||
	    !cJSON_IsObject(record))
		return error("incident %lld: the interrupted action's record cannot be read", inc->id);
	/* The target is read from today's configuration: the record only names it. */
	fix_target_release(&p->target);
	strvec_init(&p->target.start);
	strvec_init(&p->target.stop);
	p->have_target = 0;
	if (fix_target_read(&p->target, &the_sre.cfg, target, &err) < 0) {
		r = error("%s", err.buf);
		strbuf_release(&err);
		return r;
	}
	strbuf_release(&err);
	p->have_target = 1;
	if (http_client_init(&http, &the_sre.cfg) < 0)
		return -1;
	strbuf_addf(&tried, "%s of %s", mitigation_action_name(p->action), p->target.service);
	r = action_check(&http, &the_sre.cfg, &p->target, p->action, record, &out);
	http_client_release(&http);
	if (r < 0) {
		struct strbuf why = STRBUF_INIT;
		finish_event(st, inc->id, "unknown", out.buf);
		strbuf_addf(&why, "an interrupted %s cannot be judged: %s", tried.buf, out.buf);
		ret = escalate(st, inc, why.buf) < 0 ? -1 : 1;
		strbuf_release(&why);
	} else if (r == 1) {
		fprintf(stderr, "incident %lld: the interrupted %s took effect; not repeating it\n",
			inc->id, tried.buf);
		if (!finish_event(st, inc->id, "done (found after an interruption)", out.buf) &&
		    !move(st, inc, STATE_DEPLOYMENT_COMPLETE, tried.buf))
			ret = verify(st, inc, tried.buf);
	} else if (!how || (strcmp(how, "policy") && strcmp(how, "person")) ||
		   !cJSON_IsObject(params)) {
		/* Nothing says who approved it, or with what: a person decides. */
		struct strbuf why = STRBUF_INIT;
		finish_event(st, inc->id, "not done (found after an interruption)", out.buf);
		strbuf_addf(&why, "an interrupted %s did not take effect, and its record does not "
			    "say who approved it with which parameters", tried.buf);
		ret = escalate(st, inc, why.buf) < 0 ? -1 : 1;
		strbuf_release(&why);
	} else {
		fprintf(stderr, "incident %lld: the interrupted %s did not take effect; carrying it out\n",
			inc->id, tried.buf);
		cJSON_Delete(p->params);
		p->params = cJSON_Duplicate(params, 1);
		if (!finish_event(st, inc->id, "not done (found after an interruption)", out.buf))
			ret = do_action(st, inc, p, how);
	}
	strbuf_release(&out);
	strbuf_release(&tried);
	return ret;
}

/* The body of the incident's last event of kind (caller deletes), or NULL. */
static cJSON *last_event(struct store *st, long long id, const char *kind)
{
	struct event *ev;
	size_t nr;
	cJSON *found = NULL;

	if (store_event_list(st, id, &ev, &nr) < 0)
		return NULL;
	for (size_t i = nr; i-- > 0 && !found;)
		if (!strcmp(ev[i].kind, kind))
			found = cJSON_Parse(ev[i].body);
	event_list_free(ev, nr);
	return found;
}

/*
 * The incident is in DEPLOYMENT_IN_PROGRESS: a run stopped there. An
 * action started and not finished is judged (resume_action); one that
 * finished, or a merged pull request, goes on to verification; when no
 * action started at all, it is carried out now.
 */
static int resume_deployment(struct store *st, struct incident *inc, struct plan *p, int yes)
{
	cJSON *started = unfinished_action(st, inc->id), *finished;
	const char *result, *how;
	int r;

	if (started) {
		r = resume_action(st, inc, p, started);
		cJSON_Delete(started);
		return r;
	}
	finished = last_event(st, inc->id, "action-finished");
	result = scout_json_string(finished, "result");
	if ((result && starts_with(result, "done")) || (!result && p->kind == PLAN_REPOSITORY)) {
		cJSON_Delete(finished);
		if (move(st, inc, STATE_DEPLOYMENT_COMPLETE, "resumed after an interruption") < 0)
			return -1;
		return verify(st, inc, "the fix");
	}
	if (result) {
		/* It ran and did not work: a person looks, sre does not try again. */
		struct strbuf why = STRBUF_INIT;
		const char *output = scout_json_string(finished, "output");
		if (!strcmp(result, "failed"))
			strbuf_addstr(&why, "the last action failed");
		else
			strbuf_addf(&why, "the last action was left \"%s\", and an interrupted run "
				    "is not repeated", result);
		if (output && *output)
			strbuf_addf(&why, ": %s", output);
		r = escalate(st, inc, why.buf) < 0 ? -1 : 1;
		strbuf_release(&why);
		cJSON_Delete(finished);
		return r;
	}
	cJSON_Delete(finished);
	if (p->refused || p->kind != PLAN_DIRECT)
		return escalate(st, inc, p->refused ? p->refusal.buf :
				"an interrupted fix left nothing to resume") < 0 ? -1 : 1;
	/* Nothing was recorded: decide again, as a fresh run would. */
	how = approve(p, yes);
	if (!how) {
		fprintf(stderr, "incident %lld waits in %s for a person: %s; approve with: "
			"sre fix --yes %lld\n", inc->id, incident_state_name(inc->state),
			p->approval.buf, inc->id);
		return 1;
	}
	return do_action(st, inc, p, how);
}

/* ---- pull requests ---- */

static char *pull_body(const struct plan *p, const struct incident *inc)
{
	return xstrfmt("sre opened this pull request for incident #%lld (%s).\n\n"
		       "**Root cause** (%s, confidence %.2f): %s\n\n"
		       "**Change**: %s of %s in `%s`.\n\n"
		       "Merging it is the fix; `sre fix --status %lld` follows it, and verifies the "
		       "service once it is deployed.\n", inc->id, inc->title, p->category, p->confidence,
		       p->root_cause, mitigation_action_name(p->action), p->target.service,
		       p->path ? p->path : p->revert ? p->revert : "core.repo", inc->id);
}

static int open_pull(struct store *st, struct incident *inc, struct plan *p)
{
	struct strbuf err = STRBUF_INIT, msg = STRBUF_INIT, comment = STRBUF_INIT;
	struct pull_request pr = { 0 };
	struct pulls *pulls = NULL;
	const char *remote = config_get_string(&the_sre.cfg, "fix.remote");
	char *sha = NULL, *gh = NULL, *body = NULL, key[37];
	struct tracker *t = sre_tracker();
	cJSON *ev;
	int r, ret = -1;

	if (!remote)
		remote = "origin";
	if (inc->state != STATE_PR_CREATION_IN_PROGRESS &&
	    move(st, inc, STATE_PR_CREATION_IN_PROGRESS, "opening a pull request") < 0)
		return -1;
	strbuf_addf(&msg, "%s %s: incident #%lld\n\n%s (%s, confidence %.2f)\n\nsre-incident: %lld\n",
		    mitigation_action_name(p->action), p->target.service, inc->id, p->root_cause,
		    p->category, p->confidence, inc->id);
	if (p->revert)
		r = gitops_commit_revert(&sha, p->repo, p->base, p->branch, p->revert, msg.buf,
					 sre_actor(), &err);
	else
		r = gitops_commit_file(&sha, p->repo, p->base, p->branch, p->path, p->text.buf, msg.buf,
				       sre_actor(), &err);
	if (r < 0 || gitops_push(p->repo, remote, p->branch, 0, &the_sre.cfg, &err) < 0)
		goto fail;
	gh = gitops_github_repo(p->repo, remote, &the_sre.cfg);
	if (!gh) {
		strbuf_addf(&err, "core.repo's remote %s is not on GitHub; set fix.pull-repo", remote);
		goto fail;
	}
	body = pull_body(p, inc);
	strbuf_setlen(&msg, (size_t)(strchrnul(msg.buf, '\n') - msg.buf));
	if (pulls_open(&pulls, &the_sre.cfg, gh, &err) < 0 ||
	    pull_open(pulls, p->branch, p->base, msg.buf, body, &pr, &err) < 0)
		goto fail;
	ev = cJSON_CreateObject();
	cJSON_AddNumberToObject(ev, "number", (double)pr.number);
	cJSON_AddStringToObject(ev, "url", pr.url ? pr.url : "");
	cJSON_AddStringToObject(ev, "repo", gh);
	cJSON_AddStringToObject(ev, "branch", p->branch);
	cJSON_AddStringToObject(ev, "base", p->base);
	cJSON_AddStringToObject(ev, "commit", sha);
	if (event(st, inc->id, "pull-request", ev) < 0)
		goto out;
	strbuf_addf(&comment, "Pull request: %s (%s of %s)", pr.url ? pr.url : "?",
		    mitigation_action_name(p->action), p->target.service);
	if (t) {
		mirror_new_key(key);
		if (store_begin(st) || mirror_queue_comment(st, t->ops->name, inc->id, key, sre_actor(),
							     comment.buf) || store_commit(st))
			goto out;
	}
	if (move(st, inc, STATE_PR_CREATED, comment.buf) < 0)
		goto out;
	printf("incident %lld: pull request #%lld opened: %s\n", inc->id, pr.number,
	       pr.url ? pr.url : "");
	ret = 0;
	goto out;
fail:
	{
		struct strbuf why = STRBUF_INIT;
		strbuf_addf(&why, "the pull request could not be opened: %s", err.buf);
		ret = escalate(st, inc, why.buf) < 0 ? -1 : 1;
		strbuf_release(&why);
	}
out:
	pull_request_release(&pr);
	pulls_free(pulls);
	free(sha);
	free(gh);
	free(body);
	strbuf_release(&err);
	strbuf_release(&msg);
	strbuf_release(&comment);
	return ret;
}

/* sre's branch is its own: gone once the pull request is merged or closed. */
static void delete_branches(const char *branch)
{
	struct strbuf err = STRBUF_INIT;
	const char *remote = config_get_string(&the_sre.cfg, "fix.remote");
	char *repo = NULL;

	if (!starts_with(branch, "sre/") || config_get_path(&the_sre.cfg, "core.repo", &repo))
		return;
	if (gitops_push(repo, remote ? remote : "origin", branch, 1, &the_sre.cfg, &err) < 0 ||
	    gitops_delete_branch(repo, branch, &err) < 0)
		warning("cannot delete the branch %s: %s", branch, err.buf);
	free(repo);
	strbuf_release(&err);
}

/* Follow an incident's pull request one step: 0 followed, 1 needs a person, -1 error. */
static int follow_pull(struct store *st, struct incident *inc, const struct fix_policy *pol,
		       int json)
{
	cJSON *ev = last_event(st, inc->id, "pull-request");
	struct strbuf err = STRBUF_INIT, why = STRBUF_INIT;
	struct pull_request pr = { 0 };
	struct pulls *pulls = NULL;
	const char *repo = scout_json_string(ev, "repo"), *branch = scout_json_string(ev, "branch");
	long long number = 0;
	int ret = -1;

	if (!ev || !repo || !branch ||
	    json_to_ll(cJSON_GetObjectItemCaseSensitive(ev, "number"), 1, JSON_INT_MAX, &number) < 0) {
		error("incident %lld has no pull request on its timeline", inc->id);
		goto out;
	}
	if (pulls_open(&pulls, &the_sre.cfg, repo, &err) < 0 || pull_get(pulls, number, &pr, &err) < 0) {
		error("%s", err.buf);
		goto out;
	}
	if (pr.merged) {
		strbuf_addf(&why, "pull request #%lld was merged", number);
		if (move_through(st, inc, STATE_PR_MERGED, why.buf) < 0)
			goto out;
		delete_branches(branch);
		if (move(st, inc, STATE_DEPLOYMENT_IN_PROGRESS, why.buf) < 0 ||
		    move(st, inc, STATE_DEPLOYMENT_COMPLETE, why.buf) < 0)
			goto out;
		strbuf_reset(&why);
		strbuf_addf(&why, "pull request #%lld", number);
		ret = verify(st, inc, why.buf);
		goto out;
	}
	if (pr.state && !strcmp(pr.state, "closed")) {
		delete_branches(branch);
		strbuf_addf(&why, "pull request #%lld was closed without being merged", number);
		ret = escalate(st, inc, why.buf) < 0 ? -1 : 1;
		goto out;
	}
	if (pr.created_at && (int64_t)(sre_now() - pr.created_at) * 1000 > pol->review_timeout_ms) {
		strbuf_addf(&why, "pull request #%lld has waited past fix.review-timeout without a merge",
			    number);
		ret = escalate(st, inc, why.buf) < 0 ? -1 : 1;
		goto out;
	}
	if (pr.approved && !pr.changes_requested) {
		strbuf_addf(&why, "pull request #%lld was approved", number);
		if (move_through(st, inc, STATE_PR_APPROVED, why.buf) < 0)
			goto out;
	} else if (pr.reviewed || pr.reviewers) {
		strbuf_addf(&why, "pull request #%lld is under review", number);
		if (move_through(st, inc, STATE_PR_UNDER_REVIEW, why.buf) < 0)
			goto out;
	}
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "incident", (double)inc->id);
		cJSON_AddStringToObject(o, "state", incident_state_name(inc->state));
		cJSON_AddNumberToObject(o, "pull_request", (double)number);
		cJSON_AddStringToObject(o, "url", pr.url ? pr.url : "");
		cJSON_AddNumberToObject(o, "approved", pr.approved);
		cJSON_AddNumberToObject(o, "changes_requested", pr.changes_requested);
		cJSON_AddNumberToObject(o, "reviewers", pr.reviewers);
		json_print(stdout, o);
		cJSON_Delete(o);
	} else {
		printf("%lld %s #%lld %s\n", inc->id, incident_state_name(inc->state), number,
		       pr.url ? pr.url : "");
	}
	ret = 0;
out:
	cJSON_Delete(ev);
	pull_request_release(&pr);
	pulls_free(pulls);
	strbuf_release(&err);
	strbuf_release(&why);
	return ret;
}

static int is_pr_state(enum incident_state s)
{
	return s >= STATE_PR_CREATED && s <= STATE_PR_MERGED;
}

/* ---- one incident ---- */

struct fix_options {
	int dry_run, yes, json, status;
};

static int no_incident(long long id)
{
	error("no incident %lld", id);
	return EXIT_FATAL;
}

static int fix_incident(long long id, const struct fix_options *o, const struct fix_policy *pol)
{
	struct store *st = sre_store_if_exists();
	struct incident inc;
	struct plan p;
	cJSON *started = NULL;
	const char *how;
	int r, ret = EXIT_FATAL, waiting;

	if (!st || (r = store_incident_get(st, id, &inc)) > 0)
		return no_incident(id);
	if (r < 0)
		return EXIT_FATAL;
	if (!o->dry_run) {
		/* One run acts on an incident; a second waits briefly, then says who has it. */
		incident_release(&inc);
		r = sre_take_lease(id, "sre fix");
		if (r)
			return r < 0 ? EXIT_FATAL : EXIT_FOUND;
		if (store_incident_get(st, id, &inc))
			return EXIT_FATAL;
	}
	plan_init(&p);
	waiting = inc.state == STATE_FIX_GENERATED;
	if (o->status) {
		if (is_pr_state(inc.state)) {
			r = follow_pull(sre_store(), &inc, pol, o->json);
			ret = r < 0 ? EXIT_FATAL : r;
			goto deliver;
		}
		printf("%lld %s (no pull request to follow)\n", id, incident_state_name(inc.state));
		ret = 0;
		goto out;
	}
	if (inc.state == STATE_INCIDENT_RESOLVED) {
		printf("incident %lld is resolved: nothing to fix\n", id);
		ret = 0;
		goto out;
	}
	if (inc.state == STATE_INCIDENT_DETECTED || inc.state == STATE_ANALYSIS_IN_PROGRESS) {
		error("incident %lld is not diagnosed yet: run sre diagnose %lld first", id, id);
		goto out;
	}
	if (make_plan(&p, st, &inc, pol, o->yes) < 0)
		goto out;

	if (o->dry_run) {
		cJSON *j = plan_json(&p), *body = cJSON_Duplicate(j, 1);
		if (o->json)
			json_print(stdout, j);
		else
			describe(stdout, &p);
		cJSON_Delete(j);
		if (event(sre_store(), id, "dry-run", body) < 0)
			goto out;
		ret = p.refused ? EXIT_FOUND : 0;
		goto out;
	}
	st = sre_store();

	/* Where a run left it: carry on from there. */
	if (is_pr_state(inc.state)) {
		r = follow_pull(st, &inc, pol, o->json);
		ret = r < 0 ? EXIT_FATAL : r;
		goto deliver;
	}
	if (inc.state == STATE_DEPLOYMENT_IN_PROGRESS) {
		r = resume_deployment(st, &inc, &p, o->yes);
		ret = r < 0 ? EXIT_FATAL : r;
		goto deliver;
	}
	if (inc.state == STATE_DEPLOYMENT_COMPLETE || inc.state == STATE_VERIFICATION_IN_PROGRESS ||
	    inc.state == STATE_VERIFICATION_COMPLETE) {
		r = verify(st, &inc, "the fix");
		ret = r < 0 ? EXIT_FATAL : r;
		goto deliver;
	}
	if (inc.state == STATE_PR_CREATION_IN_PROGRESS && p.kind == PLAN_REPOSITORY && !p.refused) {
		r = open_pull(st, &inc, &p);
		ret = r < 0 ? EXIT_FATAL : r;
		goto deliver;
	}
	if (inc.state == STATE_INCIDENT_REQUIRES_HUMAN) {
		if (p.refused) {
			error("incident %lld stays with a person: %s", id, p.refusal.buf);
			ret = EXIT_FOUND;
			goto out;
		}
		if (!o->yes) {
			error("incident %lld is with a person; sre fix --yes %lld hands it back", id, id);
			ret = EXIT_FOUND;
			goto out;
		}
		if (move(st, &inc, STATE_ANALYSIS_COMPLETE, "handed back to sre fix") < 0)
			goto deliver;
	}
	if (inc.state != STATE_ANALYSIS_COMPLETE && inc.state != STATE_FIX_GENERATION_IN_PROGRESS &&
	    inc.state != STATE_FIX_GENERATED) {
		error("incident %lld is %s: sre fix cannot go on from there", id,
		      incident_state_name(inc.state));
		goto out;
	}

	/* Nothing to do: the diagnosis saw a blip. It is fixed if its check passes. */
	if (p.kind == PLAN_VERIFY && inc.state != STATE_ANALYSIS_COMPLETE) {
		/* Planned before: the straight line to verification. */
		r = move_through(st, &inc, STATE_FIX_GENERATED, "nothing to do but verify");
		if (!r)
			r = move(st, &inc, STATE_DEPLOYMENT_IN_PROGRESS, "nothing to do but verify");
		if (!r)
			r = move(st, &inc, STATE_DEPLOYMENT_COMPLETE, "nothing to do but verify");
		if (!r)
			r = verify(st, &inc, "doing nothing");
		ret = r < 0 ? EXIT_FATAL : r;
		goto deliver;
	}
	if (p.kind == PLAN_VERIFY) {
		struct verify_options vo;
		struct strbuf seen = STRBUF_INIT, why = STRBUF_INIT;
		if (verify_options_read(&vo, &the_sre.cfg) < 0)
			goto out;
		r = verify_fix(&the_sre.cfg, &inc, &vo, &seen);
		if (r == 1) {
			strbuf_addf(&why, "recovered on its own: %s", seen.buf);
			r = move(st, &inc, STATE_INCIDENT_RESOLVED, why.buf);
			if (!r)
				printf("incident %lld is resolved: %s\n", id, seen.buf);
			ret = r < 0 ? EXIT_FATAL : 0;
		} else {
			strbuf_addf(&why, "the diagnosis saw nothing to do, but the check is not well: %s",
				    seen.len ? seen.buf : "it cannot be judged");
			ret = escalate(st, &inc, why.buf) < 0 ? EXIT_FATAL : EXIT_FOUND;
		}
		strbuf_release(&seen);
		strbuf_release(&why);
		goto deliver;
	}
	if (p.refused) {
		ret = escalate(st, &inc, p.refusal.buf) < 0 ? EXIT_FATAL : EXIT_FOUND;
		goto deliver;
	}
	if (inc.state == STATE_ANALYSIS_COMPLETE &&
	    move(st, &inc, STATE_FIX_GENERATION_IN_PROGRESS, "planning the fix") < 0)
		goto deliver;
	if (inc.state == STATE_FIX_GENERATION_IN_PROGRESS) {
		cJSON *body = plan_json(&p);
		struct strbuf why = STRBUF_INIT;
		strbuf_addf(&why, "plan: %s %s", mitigation_action_name(p.action), p.target.service);
		r = event(st, id, "fix-planned", body) < 0 ? -1 : move(st, &inc, STATE_FIX_GENERATED, why.buf);
		strbuf_release(&why);
		if (r < 0)
			goto deliver;
	}

	/* Who approves: policy, --yes, or a person at the terminal. */
	how = approve(&p, o->yes);
	if (!how) {
		/* Said once: cron asking again every minute adds nothing. */
		if (!waiting) {
			cJSON *body = cJSON_CreateObject();
			cJSON_AddStringToObject(body, "reason", p.approval.buf);
			if (event(st, id, "approval-needed", body) < 0)
				goto deliver;
		}
		fprintf(stderr, "incident %lld waits in FIX_GENERATED for a person: %s; "
			"approve with: sre fix --yes %lld\n", id, p.approval.buf, id);
		ret = EXIT_FOUND;
		goto deliver;
	}
	if (p.kind == PLAN_DIRECT) {
		r = do_action(st, &inc, &p, how);
	} else {
		r = open_pull(st, &inc, &p);
	}
	ret = r < 0 ? EXIT_FATAL : r;
deliver:
	if (sre_deliver() && !ret)
		ret = EXIT_FOUND;
	if (ret == EXIT_FATAL && left_to_tracker)
		ret = EXIT_FOUND;
out:
	left_to_tracker = 0;
	cJSON_Delete(started);
	plan_release(&p);
	incident_release(&inc);
	return ret;
}

/* --status without ids: every incident with a pull request open. */
static int follow_all(const struct fix_options *o, const struct fix_policy *pol)
{
	struct store *st = sre_store_if_exists();
	struct incident_filter f = { 0, -1, NULL };
	struct incident *list = NULL;
	size_t nr = 0;
	int ret = 0;

	if (!st)
		return 0;
	if (store_incident_list(st, &f, &list, &nr) < 0)
		return EXIT_FATAL;
	for (size_t i = 0; i < nr; i++) {
		int r;
		if (!is_pr_state(list[i].state))
			continue;
		r = sre_take_lease(list[i].id, "sre fix --status");
		if (r) {
			r = r < 0 ? EXIT_FATAL : EXIT_FOUND;
			if (r > ret)
				ret = r;
			continue;
		}
		r = follow_pull(sre_store(), &list[i], pol, o->json);
		store_lease_release(sre_store(), list[i].id);
		r = r < 0 ? EXIT_FATAL : r;
		if (r > ret)
			ret = r;
	}
	incident_list_free(list, nr);
	if (sre_deliver() && !ret)
		ret = EXIT_FOUND;
	return ret;
}

int cmd_fix(int argc, const char **argv)
{
	struct fix_options o = { 0 };
	struct fix_policy pol = FIX_POLICY_INIT;
	int ret = 0;
	const struct option opts[] = {
		OPT_BOOL('n', "dry-run", &o.dry_run, "print the plan and the diff; change nothing"),
		OPT_BOOL('y', "yes", &o.yes, "approve the plan: a person is running this"),
		OPT_BOOL(0, "json", &o.json, "print the plan (or the pull requests) as JSON"),
		OPT_BOOL(0, "status", &o.status, "follow the pull requests sre opened"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, fix_usage, 0);
	if (o.status && (o.dry_run || o.yes))
		usage_error(fix_usage, opts, "--status goes alone");
	if (!o.status && argc != 1)
		usage_error(fix_usage, opts, "sre fix takes one incident");
	if (o.dry_run && o.yes)
		usage_error(fix_usage, opts, "--dry-run changes nothing: --yes has no meaning with it");
	if (fix_policy_read(&pol, &the_sre.cfg) < 0) {
		fix_policy_release(&pol);
		return EXIT_FATAL;
	}
	if (o.status && !argc) {
		ret = follow_all(&o, &pol);
	} else {
		for (int i = 0; i < argc; i++) {
			long long id;
			int r;
			if (parse_ll(argv[i], &id) < 0 || id <= 0)
				usage_error(fix_usage, opts, "'%s' is not an incident id (a positive number)",
					    argv[i]);
			r = fix_incident(id, &o, &pol);
			if (r > ret)
				ret = r;
		}
	}
	fix_policy_release(&pol);
	return ret;
}
