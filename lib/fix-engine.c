/*
 * fix-engine.c: the engine of `sre fix` (lib/fix-engine.h): the plan from
 * the latest diagnosis, approval, the action or the pull request, resuming
 * an interrupted run, following a pull request, and verification.
 *
 * Every step moves the incident through lib/mirror.c, so the tracker sees
 * it and may refuse it (another host on it: left_to_tracker); every
 * action is recorded before and after it runs, so a run killed between
 * the two (test_crash_point() marks the places tests kill it) is judged
 * by the next, never repeated blindly. What a run did is put in struct
 * fix_outcome for the caller to print; notes for a person watching go to
 * the context's note.
 */
#include <ctype.h>

#include "fix-engine.h"
#include "mirror.h"
#include "scout.h"
#include "timeutil.h"
#include "tracker.h"

/* One run of the engine on one incident. */
struct fix_run {
	const struct engine_context *ctx;
	const struct fix_options *o;
	struct fix_outcome *out;
};

void fix_plan_init(struct fix_plan *p)
{
	memset(p, 0, sizeof(*p));
	strvec_init(&p->target.start);
	strvec_init(&p->target.stop);
	strbuf_init(&p->text, 0);
	strbuf_init(&p->diff, 0);
	strbuf_init(&p->approval, 0);
	strbuf_init(&p->refusal, 0);
	strbuf_init(&p->decision, 0);
}

void fix_plan_release(struct fix_plan *p)
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
	strbuf_release(&p->decision);
}

void fix_outcome_init(struct fix_outcome *out)
{
	memset(out, 0, sizeof(*out));
	fix_plan_init(&out->plan);
}

void fix_outcome_release(struct fix_outcome *out)
{
	fix_plan_release(&out->plan);
	free(out->done);
	free(out->done_output);
	free(out->pull_url);
	free(out->resolved);
	free(out->escalated);
	free(out->waiting);
	fix_outcome_init(out);
}

static void refuse(struct fix_plan *p, const char *fmt, ...) SRE_PRINTF(2, 3);
static void refuse(struct fix_plan *p, const char *fmt, ...)
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

/* Move, with an event of kind (JSON body) written in the same transaction when kind is set. */
static int move_event(struct fix_run *run, struct incident *inc, enum incident_state to,
		      const char *reason, const char *kind, const char *body)
{
	enum incident_state remote = inc->state;
	int r = mirror_incident_transition_event(run->ctx->store, run->ctx->tracker, run->ctx->cfg, inc->id,
						 (int)inc->state, to, run->ctx->actor, reason, kind, body,
						 &remote);

	if (r == MIRROR_FOLLOWED && incident_state_is_working(remote)) {
		/* A label anyone can set: recorded, never acted on, never followed. */
		error("incident %lld is %s on the tracker: another host may be fixing it; "
		      "leaving it %s here", inc->id, incident_state_name(remote),
		      incident_state_name(inc->state));
		run->out->left_to_tracker = 1;
		return -1;
	}
	if (r == MIRROR_FOLLOWED) {
		error("incident %lld is %s on the tracker: another host is on it; leaving it",
		      inc->id, incident_state_name(remote));
		inc->state = remote;
		run->out->left_to_tracker = 1;
		return -1;
	}
	if (r)
		return -1;
	inc->state = to;
	return 0;
}

static int move(struct fix_run *run, struct incident *inc, enum incident_state to, const char *reason)
{
	return move_event(run, inc, to, reason, NULL, NULL);
}

/* Move through each state of the straight line up to to (the PR states). */
static int move_through(struct fix_run *run, struct incident *inc, enum incident_state to,
			const char *reason)
{
	while (inc->state < to)
		if (move(run, inc, (enum incident_state)(inc->state + 1), reason) < 0)
			return -1;
	return 0;
}

static int escalate(struct fix_run *run, struct incident *inc, const char *reason)
{
	if (inc->state == STATE_INCIDENT_REQUIRES_HUMAN)
		return 0;
	if (move(run, inc, STATE_INCIDENT_REQUIRES_HUMAN, reason) < 0)
		return -1;
	engine_note(run->ctx, "incident %lld needs a person: %s", inc->id, reason);
	free(run->out->escalated);
	run->out->escalated = xstrdup(reason);
	return 0;
}

static int event(struct fix_run *run, long long id, const char *kind, cJSON *body)
{
	char *json = cJSON_PrintUnformatted(body);
	int r = store_event_append(run->ctx->store, id, kind, run->ctx->actor, json);

	cJSON_free(json);
	cJSON_Delete(body);
	return r ? -1 : 0;
}

/* ---- the plan ---- */

/* The configured service that name is: a service, or a service's deployment or container. */
static char *configured_service(struct fix_run *run, const char *name)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf key = STRBUF_INIT;
	char *found = NULL;

	config_subsections(run->ctx->cfg, "service", &names);
	for (size_t i = 0; i < names.nr && !found; i++)
		if (!strcmp(names.v[i], name))
			found = xstrdup(name);
	for (size_t i = 0; i < names.nr && !found; i++) {
		const char *d = config_get_string(run->ctx->cfg, config_key_of(&key, "service", names.v[i],
									  "deployment"));
		const char *c = config_get_string(run->ctx->cfg, config_key_of(&key, "service", names.v[i],
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
static cJSON *checked_params(const cJSON *in, struct fix_plan *p)
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
static void plan_repository(struct fix_run *run, struct fix_plan *p, const struct fix_policy *pol)
{
	struct strbuf err = STRBUF_INIT;
	char *old = NULL, *before = NULL, *after = NULL;
	const char *container = cJSON_GetStringValue(cJSON_GetObjectItem(p->params, "container"));
	int r;

	if (config_get_path(run->ctx->cfg, "core.repo", &p->repo)) {
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
static int plan_target(struct fix_plan *p, struct fix_run *run, const struct incident *inc,
		       const struct fix_policy *pol, const char *target, int approved_by_person);

static int make_plan(struct fix_plan *p, struct fix_run *run, const struct incident *inc,
		     const struct fix_policy *pol, int approved_by_person)
{
	char *json = NULL;
	cJSON *d, *m, *conf;
	const char *action;
	char *target;
	int r;

	p->incident = inc->id;
	r = store_diagnosis_latest(run->ctx->store, inc->id, &json);
	if (r)
		return r > 0 ? error("incident %lld has no diagnosis: run sre diagnose %lld first",
				     inc->id, inc->id) : -1;
	d = cJSON_Parse(json);
	free(json);
	if (!d)
		return error("the diagnosis of incident %lld cannot be read", inc->id);
	m = cJSON_GetObjectItemCaseSensitive(d, "mitigation");
	action = json_string(m, "action");
	target = json_string(m, "target") ? xstrdup(json_string(m, "target")) : NULL;
	p->category = xstrdup(json_string_or(d, "category", "unknown"));
	p->root_cause = xstrdup(json_string_or(d, "root_cause", ""));
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
	r = plan_target(p, run, inc, pol, target, approved_by_person);
	free(target);
	return r;
}

static int plan_target(struct fix_plan *p, struct fix_run *run, const struct incident *inc,
		       const struct fix_policy *pol, const char *target, int approved_by_person)
{
	struct strbuf err = STRBUF_INIT;
	char *service;
	int r;

	if (p->action == ACTION_escalate) {
		p->kind = FIX_PLAN_ESCALATE;
		refuse(p, "the diagnosis says a person must look: %s", p->root_cause);
		return 0;
	}
	if (p->action == ACTION_none) {
		p->kind = FIX_PLAN_VERIFY;
		return 0;
	}
	service = configured_service(run, target ? target : inc->service);
	if (!service) {
		refuse(p, "%s is not a configured service: sre acts only on [service] sections",
		       target ? target : inc->service);
		return 0;
	}
	if (fix_target_read(&p->target, run->ctx->cfg, service, &err) < 0) {
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
		p->kind = FIX_PLAN_DIRECT;
		break;
	case ACTION_rollback:
		p->kind = cJSON_GetObjectItem(p->params, "commit") ? FIX_PLAN_REPOSITORY : FIX_PLAN_DIRECT;
		break;
	case ACTION_increase_memory:
		/* A container with no manifest in core.repo: the Engine's own update. */
		p->kind = p->target.runtime == RUNTIME_DOCKER && !p->target.manifest ?
			FIX_PLAN_DIRECT : FIX_PLAN_REPOSITORY;
		break;
	default:
		p->kind = FIX_PLAN_REPOSITORY;
		break;
	}
	if (p->action == ACTION_scale && !p->target.max_replicas)
		refuse(p, "scale needs service.%s.max-replicas, the most replicas sre may ask for",
		       p->target.service);
	if (p->kind == FIX_PLAN_DIRECT && p->target.runtime == RUNTIME_NONE)
		refuse(p, "%s on %s needs service.%s.runtime (docker, kubernetes or process)",
		       mitigation_action_name(p->action), p->target.service, p->target.service);
	if (p->kind == FIX_PLAN_REPOSITORY && !p->refused)
		plan_repository(run, p, pol);

	/* Policy: who may approve, and what a person must see. */
	/* A person running --yes has looked; cron has not. */
	if (!(p->confidence >= pol->escalate_below) && !approved_by_person)
		refuse(p, "the diagnosis's confidence %.2f is below fix.escalate-below %.2f",
		       p->confidence, pol->escalate_below);
	p->requires_approval = !fix_policy_allows(pol, run->ctx->cfg, p->target.service, p->action,
						  p->confidence, &p->approval);
	if (p->kind == FIX_PLAN_DIRECT && !p->requires_approval && !approved_by_person) {
		long long n = 0;
		if (store_count_events(run->ctx->store, p->target.service, "action-started", sre_now() - 3600,
				       "policy", &n) < 0)
			return -1;
		if (n >= pol->max_per_hour)
			refuse(p, "%lld automatic actions on %s in the last hour: fix.max-per-hour is %lld; "
			       "no restart loops", n, p->target.service, pol->max_per_hour);
	}
	strbuf_release(&err);
	return 0;
}

const char *fix_plan_runtime(const struct fix_plan *p)
{
	if (p->kind == FIX_PLAN_REPOSITORY)
		return "repository";
	if (p->kind == FIX_PLAN_ESCALATE)
		return "person";
	if (p->kind == FIX_PLAN_VERIFY)
		return "none";
	return fix_runtime_name(p->target.runtime);
}

cJSON *fix_plan_json(const struct fix_plan *p)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "incident", (double)p->incident);
	cJSON_AddStringToObject(o, "action", mitigation_action_name(p->action));
	if (p->have_target)
		cJSON_AddStringToObject(o, "target", p->target.service);
	else
		cJSON_AddNullToObject(o, "target");
	cJSON_AddItemToObject(o, "params", cJSON_Duplicate(p->params, 1));
	cJSON_AddStringToObject(o, "runtime", fix_plan_runtime(p));
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
	if (p->decided) {
		cJSON *d = cJSON_AddObjectToObject(o, "decision");
		int code = fix_verdict_code(p->verdict);
		cJSON_AddStringToObject(d, "verdict", fix_verdict_name(p->verdict));
		cJSON_AddStringToObject(d, "reason", p->decision.buf);
		cJSON_AddNumberToObject(d, "exit", code < 0 ? 128 : code);
	}
	return o;
}

/* ---- verification ---- */

static int verify(struct fix_run *run, struct incident *inc, const char *tried)
{
	struct verify_options vo;
	struct strbuf seen = STRBUF_INIT, reason = STRBUF_INIT;
	struct tracker *t = run->ctx->tracker;
	int r, ret = -1;

	if (inc->state == STATE_VERIFICATION_COMPLETE) {
		/* Verified before a crash: only the last move is left. */
		r = 1;
		strbuf_addstr(&seen, "verified before");
		goto verified;
	}
	if (verify_options_read(&vo, run->ctx->cfg) < 0)
		return -1;
	if (inc->state < STATE_VERIFICATION_IN_PROGRESS &&
	    move_through(run, inc, STATE_VERIFICATION_IN_PROGRESS, "verifying the fix") < 0)
		return -1;
	if (run->ctx->progress)
		engine_note(run->ctx, "verifying: re-running the %s check of incident %lld...",
			    inc->source, inc->id);
	r = verify_fix(run->ctx->cfg, inc, &vo, &seen);
verified:
	if (r == 1) {
		strbuf_addf(&reason, "verified: %s", seen.buf);
		if ((inc->state != STATE_VERIFICATION_COMPLETE &&
		     move(run, inc, STATE_VERIFICATION_COMPLETE, reason.buf) < 0) ||
		    move(run, inc, STATE_INCIDENT_RESOLVED, reason.buf) < 0)
			goto out;
		/* GitHub shows it as a label; JIRA's Done status says it, and takes no blanks. */
		if (t && !strcmp(t->ops->name, "github")) {
			if (store_begin(run->ctx->store) < 0)
				goto out;
			if (mirror_queue_label(run->ctx->store, t->ops->name, inc->id, "Status: Fixed") < 0) {
				store_rollback(run->ctx->store);
				goto out;
			}
			if (store_commit(run->ctx->store) < 0)
				goto out;
		}
		free(run->out->resolved);
		run->out->resolved = xstrdup(seen.buf);
		ret = 0;
	} else if (r == 0) {
		strbuf_addf(&reason, "%s did not fix it: %s", tried, seen.buf);
		if (escalate(run, inc, reason.buf) < 0)
			goto out;
		ret = 1;
	} else {
		strbuf_addf(&reason, "%s was done, but whether it worked cannot be told: %s", tried,
			    seen.len ? seen.buf : "the check could not be read");
		if (escalate(run, inc, reason.buf) < 0)
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
static cJSON *unfinished_action(struct fix_run *run, long long id)
{
	struct event *ev;
	size_t nr;
	cJSON *open = NULL;

	if (store_event_list(run->ctx->store, id, &ev, &nr) < 0)
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

static int finish_event(struct fix_run *run, long long id, const char *result, const char *output)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddStringToObject(b, "result", result);
	cJSON_AddStringToObject(b, "output", output);
	return event(run, id, "action-finished", b);
}

/*
 * The action itself: prepared, then recorded with the move into
 * DEPLOYMENT_IN_PROGRESS (action, target, parameters and who approved it,
 * in one transaction), then run, then recorded as finished. A run killed
 * anywhere from the move on leaves a record the next run judges.
 */
static int do_action(struct fix_run *run, struct incident *inc, struct fix_plan *p, const char *how)
{
	struct http_client http;
	struct strbuf out = STRBUF_INIT, tried = STRBUF_INIT;
	cJSON *record = cJSON_CreateObject(), *body;
	char *json;
	int r, ret = -1;

	if (http_client_init(&http, run->ctx->cfg) < 0) {
		cJSON_Delete(record);
		return -1;
	}
	strbuf_addf(&tried, "%s of %s", mitigation_action_name(p->action), p->target.service);
	if (action_prepare(&http, run->ctx->cfg, &p->target, p->action, p->params, record, &out) < 0) {
		ret = escalate(run, inc, out.buf) < 0 ? -1 : 1;
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
		r = store_event_append(run->ctx->store, inc->id, "action-started", run->ctx->actor, json) ? -1 : 0;
	else
		r = move_event(run, inc, STATE_DEPLOYMENT_IN_PROGRESS, "carrying out the fix",
			       "action-started", json);
	cJSON_free(json);
	if (r < 0)
		goto out;
	test_crash_point("action-started");
	if (action_run(&http, run->ctx->cfg, &p->target, p->action, record, &out) < 0) {
		struct strbuf why = STRBUF_INIT;
		if (finish_event(run, inc->id, "failed", out.buf) < 0) {
			strbuf_release(&why);
			goto out;
		}
		test_crash_point("action-failed");
		strbuf_addf(&why, "%s failed: %s", tried.buf, out.buf);
		ret = escalate(run, inc, why.buf) < 0 ? -1 : 1;
		strbuf_release(&why);
		goto out;
	}
	if (finish_event(run, inc->id, "done", out.buf) < 0)
		goto out;
	free(run->out->done);
	free(run->out->done_output);
	run->out->done = xstrdup(tried.buf);
	run->out->done_output = xstrdup(out.buf);
	if (move(run, inc, STATE_DEPLOYMENT_COMPLETE, tried.buf) < 0)
		goto out;
	ret = verify(run, inc, tried.buf);
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
static const char *approve(struct fix_run *run, const struct fix_plan *p)
{
	if (run->o->yes)
		return "person";
	if (!p->requires_approval)
		return "policy";
	return run->o->ask && run->o->ask(run->o->ask_data, p) ? "person" : NULL;
}

/* Nobody approved p: it waits where it is for `sre fix --yes`. */
static void waits(struct fix_run *run, const struct incident *inc, const struct fix_plan *p)
{
	/* fix_decide()'s words, as --dry-run printed them. */
	engine_note(run->ctx, "%s", p->decision.buf);
	free(run->out->waiting);
	run->out->waiting = xstrdup(p->approval.buf);
}

/*
 * A run was cut off after action-started: ask the target whether the
 * action took effect. If it did, go on to verify; if not, carry it out
 * now, as it was recorded (action, target, parameters, approval), not as
 * today's diagnosis would plan it; if the target cannot tell, a person
 * decides.
 */
static int resume_action(struct fix_run *run, struct incident *inc, struct fix_plan *p, cJSON *started)
{
	struct http_client http;
	struct strbuf out = STRBUF_INIT, tried = STRBUF_INIT, err = STRBUF_INIT;
	const cJSON *record = cJSON_GetObjectItemCaseSensitive(started, "record");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(started, "params");
	const char *how = json_string(started, "approval");
	const char *action = json_string(started, "action");
	const char *target = json_string(started, "target");
	int r, ret = -1;

	if (!action || mitigation_action_parse(action, &p->action) < 0 || !target ||
	    !cJSON_IsObject(record))
		return error("incident %lld: the interrupted action's record cannot be read", inc->id);
	/* The target is read from today's configuration: the record only names it. */
	fix_target_release(&p->target);
	strvec_init(&p->target.start);
	strvec_init(&p->target.stop);
	p->have_target = 0;
	if (fix_target_read(&p->target, run->ctx->cfg, target, &err) < 0) {
		r = error("%s", err.buf);
		strbuf_release(&err);
		return r;
	}
	strbuf_release(&err);
	p->have_target = 1;
	if (http_client_init(&http, run->ctx->cfg) < 0)
		return -1;
	strbuf_addf(&tried, "%s of %s", mitigation_action_name(p->action), p->target.service);
	r = action_check(&http, run->ctx->cfg, &p->target, p->action, record, &out);
	http_client_release(&http);
	if (r < 0) {
		struct strbuf why = STRBUF_INIT;
		finish_event(run, inc->id, "unknown", out.buf);
		strbuf_addf(&why, "an interrupted %s cannot be judged: %s", tried.buf, out.buf);
		ret = escalate(run, inc, why.buf) < 0 ? -1 : 1;
		strbuf_release(&why);
	} else if (r == 1) {
		engine_note(run->ctx, "incident %lld: the interrupted %s took effect; not repeating it",
			inc->id, tried.buf);
		if (!finish_event(run, inc->id, "done (found after an interruption)", out.buf) &&
		    !move(run, inc, STATE_DEPLOYMENT_COMPLETE, tried.buf))
			ret = verify(run, inc, tried.buf);
	} else if (!how || (strcmp(how, "policy") && strcmp(how, "person")) ||
		   !cJSON_IsObject(params)) {
		/* Nothing says who approved it, or with what: a person decides. */
		struct strbuf why = STRBUF_INIT;
		finish_event(run, inc->id, "not done (found after an interruption)", out.buf);
		strbuf_addf(&why, "an interrupted %s did not take effect, and its record does not "
			    "say who approved it with which parameters", tried.buf);
		ret = escalate(run, inc, why.buf) < 0 ? -1 : 1;
		strbuf_release(&why);
	} else {
		engine_note(run->ctx, "incident %lld: the interrupted %s did not take effect; carrying it out",
			inc->id, tried.buf);
		cJSON_Delete(p->params);
		p->params = cJSON_Duplicate(params, 1);
		if (!finish_event(run, inc->id, "not done (found after an interruption)", out.buf))
			ret = do_action(run, inc, p, how);
	}
	strbuf_release(&out);
	strbuf_release(&tried);
	return ret;
}

/* The body of the incident's last event of kind (caller deletes), or NULL. */
static cJSON *last_event(struct fix_run *run, long long id, const char *kind)
{
	struct event *ev;
	size_t nr;
	cJSON *found = NULL;

	if (store_event_list(run->ctx->store, id, &ev, &nr) < 0)
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
static int resume_deployment(struct fix_run *run, struct incident *inc, struct fix_plan *p)
{
	cJSON *started = unfinished_action(run, inc->id), *finished;
	const char *result, *how;
	int r;

	if (started) {
		r = resume_action(run, inc, p, started);
		cJSON_Delete(started);
		return r;
	}
	finished = last_event(run, inc->id, "action-finished");
	result = json_string(finished, "result");
	if ((result && starts_with(result, "done")) || (!result && p->kind == FIX_PLAN_REPOSITORY)) {
		cJSON_Delete(finished);
		if (move(run, inc, STATE_DEPLOYMENT_COMPLETE, "resumed after an interruption") < 0)
			return -1;
		return verify(run, inc, "the fix");
	}
	if (result) {
		/* It ran and did not work: a person looks, sre does not try again. */
		struct strbuf why = STRBUF_INIT;
		const char *output = json_string(finished, "output");
		if (!strcmp(result, "failed"))
			strbuf_addstr(&why, "the last action failed");
		else
			strbuf_addf(&why, "the last action was left \"%s\", and an interrupted run "
				    "is not repeated", result);
		if (output && *output)
			strbuf_addf(&why, ": %s", output);
		r = escalate(run, inc, why.buf) < 0 ? -1 : 1;
		strbuf_release(&why);
		cJSON_Delete(finished);
		return r;
	}
	cJSON_Delete(finished);
	if (p->refused || p->kind != FIX_PLAN_DIRECT)
		return escalate(run, inc, p->refused ? p->refusal.buf :
				"an interrupted fix left nothing to resume") < 0 ? -1 : 1;
	/* Nothing was recorded: decide again, as a fresh run would. */
	how = approve(run, p);
	if (!how) {
		waits(run, inc, p);
		return 1;
	}
	return do_action(run, inc, p, how);
}

/* ---- pull requests ---- */

static char *pull_body(const struct fix_plan *p, const struct incident *inc)
{
	return xstrfmt("sre opened this pull request for incident #%lld (%s).\n\n"
		       "**Root cause** (%s, confidence %.2f): %s\n\n"
		       "**Change**: %s of %s in `%s`.\n\n"
		       "Merging it is the fix; `sre fix --status %lld` follows it, and verifies the "
		       "service once it is deployed.\n", inc->id, inc->title, p->category, p->confidence,
		       p->root_cause, mitigation_action_name(p->action), p->target.service,
		       p->path ? p->path : p->revert ? p->revert : "core.repo", inc->id);
}

static int open_pull(struct fix_run *run, struct incident *inc, struct fix_plan *p)
{
	struct strbuf err = STRBUF_INIT, msg = STRBUF_INIT, comment = STRBUF_INIT;
	struct pull_request pr = { 0 };
	struct pulls *pulls = NULL;
	const char *remote = config_get_string(run->ctx->cfg, "fix.remote");
	char *sha = NULL, *gh = NULL, *body = NULL, key[37];
	struct tracker *t = run->ctx->tracker;
	cJSON *ev;
	int r, ret = -1;

	if (!remote)
		remote = "origin";
	if (inc->state != STATE_PR_CREATION_IN_PROGRESS &&
	    move(run, inc, STATE_PR_CREATION_IN_PROGRESS, "opening a pull request") < 0)
		return -1;
	strbuf_addf(&msg, "%s %s: incident #%lld\n\n%s (%s, confidence %.2f)\n\nsre-incident: %lld\n",
		    mitigation_action_name(p->action), p->target.service, inc->id, p->root_cause,
		    p->category, p->confidence, inc->id);
	if (p->revert)
		r = gitops_commit_revert(&sha, p->repo, p->base, p->branch, p->revert, msg.buf,
					 run->ctx->actor, &err);
	else
		r = gitops_commit_file(&sha, p->repo, p->base, p->branch, p->path, p->text.buf, msg.buf,
				       run->ctx->actor, &err);
	if (r < 0 || gitops_push(p->repo, remote, p->branch, 0, run->ctx->cfg, &err) < 0)
		goto fail;
	gh = gitops_github_repo(p->repo, remote, run->ctx->cfg);
	if (!gh) {
		strbuf_addf(&err, "core.repo's remote %s is not on GitHub; set fix.pull-repo", remote);
		goto fail;
	}
	body = pull_body(p, inc);
	strbuf_setlen(&msg, (size_t)(strchrnul(msg.buf, '\n') - msg.buf));
	if (pulls_open(&pulls, run->ctx->cfg, gh, &err) < 0 ||
	    pull_open(pulls, p->branch, p->base, msg.buf, body, &pr, &err) < 0)
		goto fail;
	ev = cJSON_CreateObject();
	cJSON_AddNumberToObject(ev, "number", (double)pr.number);
	cJSON_AddStringToObject(ev, "url", pr.url ? pr.url : "");
	cJSON_AddStringToObject(ev, "repo", gh);
	cJSON_AddStringToObject(ev, "branch", p->branch);
	cJSON_AddStringToObject(ev, "base", p->base);
	cJSON_AddStringToObject(ev, "commit", sha);
	if (event(run, inc->id, "pull-request", ev) < 0)
		goto out;
	strbuf_addf(&comment, "Pull request: %s (%s of %s)", pr.url ? pr.url : "?",
		    mitigation_action_name(p->action), p->target.service);
	if (t) {
		mirror_new_key(key);
		if (store_begin(run->ctx->store) || mirror_queue_comment(run->ctx->store, t->ops->name, inc->id, key, run->ctx->actor,
							     comment.buf) || store_commit(run->ctx->store))
			goto out;
	}
	if (move(run, inc, STATE_PR_CREATED, comment.buf) < 0)
		goto out;
	run->out->pull_opened = 1;
	run->out->pull = pr.number;
	free(run->out->pull_url);
	run->out->pull_url = xstrdup(pr.url ? pr.url : "");
	ret = 0;
	goto out;
fail:
	{
		struct strbuf why = STRBUF_INIT;
		strbuf_addf(&why, "the pull request could not be opened: %s", err.buf);
		ret = escalate(run, inc, why.buf) < 0 ? -1 : 1;
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
static void delete_branches(struct fix_run *run, const char *branch)
{
	struct strbuf err = STRBUF_INIT;
	const char *remote = config_get_string(run->ctx->cfg, "fix.remote");
	char *repo = NULL;

	if (!starts_with(branch, "sre/") || config_get_path(run->ctx->cfg, "core.repo", &repo))
		return;
	if (gitops_push(repo, remote ? remote : "origin", branch, 1, run->ctx->cfg, &err) < 0 ||
	    gitops_delete_branch(repo, branch, &err) < 0)
		warning("cannot delete the branch %s: %s", branch, err.buf);
	free(repo);
	strbuf_release(&err);
}

/* Follow an incident's pull request one step: 0 followed, 1 needs a person, -1 error. */
static int follow_pull(struct fix_run *run, struct incident *inc)
{
	cJSON *ev = last_event(run, inc->id, "pull-request");
	struct strbuf err = STRBUF_INIT, why = STRBUF_INIT;
	struct pull_request pr = { 0 };
	struct pulls *pulls = NULL;
	const char *repo = json_string(ev, "repo"), *branch = json_string(ev, "branch");
	long long number = 0;
	int ret = -1;

	if (!ev || !repo || !branch ||
	    json_to_ll(cJSON_GetObjectItemCaseSensitive(ev, "number"), 1, JSON_INT_MAX, &number) < 0) {
		error("incident %lld has no pull request on its timeline", inc->id);
		goto out;
	}
	if (pulls_open(&pulls, run->ctx->cfg, repo, &err) < 0 || pull_get(pulls, number, &pr, &err) < 0) {
		error("%s", err.buf);
		goto out;
	}
	run->out->pull = number;
	free(run->out->pull_url);
	run->out->pull_url = xstrdup(pr.url ? pr.url : "");
	run->out->approved = pr.approved;
	run->out->changes_requested = pr.changes_requested;
	run->out->reviewers = pr.reviewers;
	if (pr.merged) {
		strbuf_addf(&why, "pull request #%lld was merged", number);
		if (move_through(run, inc, STATE_PR_MERGED, why.buf) < 0)
			goto out;
		delete_branches(run, branch);
		if (move(run, inc, STATE_DEPLOYMENT_IN_PROGRESS, why.buf) < 0 ||
		    move(run, inc, STATE_DEPLOYMENT_COMPLETE, why.buf) < 0)
			goto out;
		strbuf_reset(&why);
		strbuf_addf(&why, "pull request #%lld", number);
		ret = verify(run, inc, why.buf);
		goto out;
	}
	if (pr.state && !strcmp(pr.state, "closed")) {
		delete_branches(run, branch);
		strbuf_addf(&why, "pull request #%lld was closed without being merged", number);
		ret = escalate(run, inc, why.buf) < 0 ? -1 : 1;
		goto out;
	}
	if (pr.created_at && (int64_t)(sre_now() - pr.created_at) * 1000 > run->o->policy->review_timeout_ms) {
		strbuf_addf(&why, "pull request #%lld has waited past fix.review-timeout without a merge",
			    number);
		ret = escalate(run, inc, why.buf) < 0 ? -1 : 1;
		goto out;
	}
	if (pr.approved && !pr.changes_requested) {
		strbuf_addf(&why, "pull request #%lld was approved", number);
		if (move_through(run, inc, STATE_PR_APPROVED, why.buf) < 0)
			goto out;
	} else if (pr.reviewed || pr.reviewers) {
		strbuf_addf(&why, "pull request #%lld is under review", number);
		if (move_through(run, inc, STATE_PR_UNDER_REVIEW, why.buf) < 0)
			goto out;
	}
	run->out->pull_followed = 1;
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


/* ---- the decision ---- */

static const char *const verdict_names[] = {
	"continue", "verify", "act", "wait", "refuse", "stop",
};

const char *fix_verdict_name(enum fix_verdict v)
{
	return (unsigned)v < ARRAY_SIZE(verdict_names) ? verdict_names[v] : "stop";
}

int fix_verdict_code(enum fix_verdict v)
{
	switch (v) {
	case FIX_VERDICT_WAIT:
	case FIX_VERDICT_REFUSE:
		return 1;
	case FIX_VERDICT_STOP:
		return -1;
	default:
		return 0;
	}
}

static enum fix_verdict verdict(struct fix_plan *p, enum fix_verdict v, const char *fmt, ...)
	SRE_PRINTF(3, 4);
static enum fix_verdict verdict(struct fix_plan *p, enum fix_verdict v, const char *fmt, ...)
{
	va_list ap;

	p->decided = 1;
	p->verdict = v;
	strbuf_reset(&p->decision);
	va_start(ap, fmt);
	strbuf_vaddf(&p->decision, fmt, ap);
	va_end(ap);
	return v;
}

/*
 * The order is fix_step()'s: where a run left the incident first, then a
 * person's hold, then the plan's own verdict, then policy's approval.
 */
enum fix_verdict fix_decide(const struct fix_options *o, const struct incident *inc,
			    struct fix_plan *p)
{
	long long id = inc->id;
	enum incident_state state = inc->state;

	if (is_pr_state(state))
		return verdict(p, FIX_VERDICT_CONTINUE, "follow the pull request of incident %lld",
			       id);
	if (state == STATE_DEPLOYMENT_IN_PROGRESS)
		return verdict(p, FIX_VERDICT_CONTINUE, "judge the action an earlier run began on "
			       "incident %lld", id);
	if (state == STATE_DEPLOYMENT_COMPLETE || state == STATE_VERIFICATION_IN_PROGRESS ||
	    state == STATE_VERIFICATION_COMPLETE)
		return verdict(p, FIX_VERDICT_CONTINUE, "re-run the check of incident %lld to "
			       "verify the fix", id);
	if (state == STATE_PR_CREATION_IN_PROGRESS && p->kind == FIX_PLAN_REPOSITORY && !p->refused)
		return verdict(p, FIX_VERDICT_CONTINUE, "open the pull request of incident %lld", id);
	if (state == STATE_INCIDENT_REQUIRES_HUMAN) {
		if (p->refused)
			return verdict(p, FIX_VERDICT_REFUSE, "incident %lld stays with a person: %s",
				       id, p->refusal.buf);
		if (!o->yes)
			return verdict(p, FIX_VERDICT_REFUSE, "incident %lld is with a person; "
				       "sre fix --yes %lld hands it back", id, id);
		state = STATE_ANALYSIS_COMPLETE; /* handed back */
	}
	if (state != STATE_ANALYSIS_COMPLETE && state != STATE_FIX_GENERATION_IN_PROGRESS &&
	    state != STATE_FIX_GENERATED)
		return verdict(p, FIX_VERDICT_STOP, "incident %lld is %s: sre fix cannot go on "
			       "from there", id, incident_state_name(state));
	if (p->kind == FIX_PLAN_VERIFY)
		return verdict(p, FIX_VERDICT_VERIFY, "nothing to do but re-run the check of "
			       "incident %lld: resolved if it passes, else a person takes over", id);
	if (p->refused)
		return verdict(p, FIX_VERDICT_REFUSE, "incident %lld needs a person: %s", id,
			       p->refusal.buf);
	if (p->requires_approval && !o->yes)
		return verdict(p, FIX_VERDICT_WAIT, "incident %lld waits in FIX_GENERATED for a "
			       "person: %s; approve with: sre fix --yes %lld", id, p->approval.buf,
			       id);
	if (p->kind == FIX_PLAN_DIRECT)
		return verdict(p, FIX_VERDICT_ACT, "%s %s, approved by %s",
			       mitigation_action_name(p->action), p->target.service,
			       o->yes ? "a person (--yes)" : "policy");
	return verdict(p, FIX_VERDICT_ACT, "open a pull request for %s on %s, approved by %s",
		       mitigation_action_name(p->action), p->target.service,
		       o->yes ? "a person (--yes)" : "policy");
}

/* ---- one incident ---- */

/* Carry on from where the incident is; out->deliver is set when it may have written. */
static int fix_step(struct fix_run *run, struct incident *inc)
{
	const struct fix_options *o = run->o;
	struct fix_plan *p = &run->out->plan;
	long long id = inc->id;
	const char *how;
	enum fix_verdict v;
	int r, waiting = inc->state == STATE_FIX_GENERATED;

	if (o->status) {
		if (is_pr_state(inc->state)) {
			run->out->deliver = 1;
			return follow_pull(run, inc);
		}
		run->out->no_pull = 1;
		return 0;
	}
	if (inc->state == STATE_INCIDENT_RESOLVED) {
		run->out->resolved = xstrdup("nothing to fix");
		return 0;
	}
	if (inc->state == STATE_INCIDENT_DETECTED || inc->state == STATE_ANALYSIS_IN_PROGRESS)
		return error("incident %lld is not diagnosed yet: run sre diagnose %lld first", id, id);
	if (make_plan(p, run, inc, o->policy, o->yes) < 0)
		return -1;
	run->out->planned = 1;
	v = fix_decide(o, inc, p);

	if (o->dry_run) {
		run->out->dry_run = 1;
		if (event(run, id, "dry-run", fix_plan_json(p)) < 0)
			return -1;
		/* What the run would return; its error would have been said on stderr. */
		if (v == FIX_VERDICT_STOP)
			error("%s", p->decision.buf);
		return fix_verdict_code(v);
	}

	/* From here on every path may have moved it or queued a write. */
	run->out->deliver = 1;
	/* Where a run left it: carry on from there. */
	if (v == FIX_VERDICT_CONTINUE) {
		if (is_pr_state(inc->state))
			return follow_pull(run, inc);
		if (inc->state == STATE_DEPLOYMENT_IN_PROGRESS)
			return resume_deployment(run, inc, p);
		if (inc->state == STATE_PR_CREATION_IN_PROGRESS)
			return open_pull(run, inc, p);
		return verify(run, inc, "the fix");
	}
	if (inc->state == STATE_INCIDENT_REQUIRES_HUMAN) {
		if (v == FIX_VERDICT_REFUSE) {
			run->out->deliver = 0;
			error("%s", p->decision.buf);
			return 1;
		}
		if (v != FIX_VERDICT_STOP &&
		    move(run, inc, STATE_ANALYSIS_COMPLETE, "handed back to sre fix") < 0)
			return -1;
	}
	if (v == FIX_VERDICT_STOP) {
		run->out->deliver = 0;
		return error("%s", p->decision.buf);
	}

	/* Nothing to do: the diagnosis saw a blip. It is fixed if its check passes. */
	if (p->kind == FIX_PLAN_VERIFY && inc->state != STATE_ANALYSIS_COMPLETE) {
		/* Planned before: the straight line to verification. */
		r = move_through(run, inc, STATE_FIX_GENERATED, "nothing to do but verify");
		if (!r)
			r = move(run, inc, STATE_DEPLOYMENT_IN_PROGRESS, "nothing to do but verify");
		if (!r)
			r = move(run, inc, STATE_DEPLOYMENT_COMPLETE, "nothing to do but verify");
		if (!r)
			r = verify(run, inc, "doing nothing");
		return r;
	}
	if (p->kind == FIX_PLAN_VERIFY) {
		struct verify_options vo;
		struct strbuf seen = STRBUF_INIT, why = STRBUF_INIT;
		if (verify_options_read(&vo, run->ctx->cfg) < 0) {
			run->out->deliver = 0;
			return -1;
		}
		r = verify_fix(run->ctx->cfg, inc, &vo, &seen);
		if (r == 1) {
			strbuf_addf(&why, "recovered on its own: %s", seen.buf);
			r = move(run, inc, STATE_INCIDENT_RESOLVED, why.buf);
			if (!r)
				run->out->resolved = xstrdup(seen.buf);
		} else {
			strbuf_addf(&why, "the diagnosis saw nothing to do, but the check is not well: %s",
				    seen.len ? seen.buf : "it cannot be judged");
			r = escalate(run, inc, why.buf) < 0 ? -1 : 1;
		}
		strbuf_release(&seen);
		strbuf_release(&why);
		return r;
	}
	if (v == FIX_VERDICT_REFUSE)
		return escalate(run, inc, p->refusal.buf) < 0 ? -1 : 1;
	if (inc->state == STATE_ANALYSIS_COMPLETE &&
	    move(run, inc, STATE_FIX_GENERATION_IN_PROGRESS, "planning the fix") < 0)
		return -1;
	if (inc->state == STATE_FIX_GENERATION_IN_PROGRESS) {
		struct strbuf why = STRBUF_INIT;
		strbuf_addf(&why, "plan: %s %s", mitigation_action_name(p->action), p->target.service);
		r = event(run, id, "fix-planned", fix_plan_json(p)) < 0 ? -1 :
		    move(run, inc, STATE_FIX_GENERATED, why.buf);
		strbuf_release(&why);
		if (r < 0)
			return -1;
	}

	/* Who approves: policy, --yes, or a person asked by the caller. */
	how = approve(run, p);
	if (!how) {
		/* Said once: cron asking again every minute adds nothing. */
		if (!waiting) {
			cJSON *body = cJSON_CreateObject();
			cJSON_AddStringToObject(body, "reason", p->approval.buf);
			if (event(run, id, "approval-needed", body) < 0)
				return -1;
		}
		waits(run, inc, p);
		return 1;
	}
	if (p->kind == FIX_PLAN_DIRECT)
		return do_action(run, inc, p, how);
	return open_pull(run, inc, p);
}

/* fix_incident(), under the lease for command. */
static int fix_one(const struct engine_context *ctx, const struct fix_options *o, long long id,
		   struct fix_outcome *out, const char *command)
{
	struct fix_run run = { ctx, o, out };
	struct incident inc;
	int r;

	out->incident = id;
	if ((r = store_incident_get(ctx->store, id, &inc)) > 0)
		return error("no incident %lld", id);
	if (r < 0)
		return -1;
	if (!o->dry_run) {
		/* One run acts on an incident; a second waits briefly, then says who has it. */
		incident_release(&inc);
		r = engine_lease_take(ctx, id, command);
		if (r)
			return r;
		if (store_incident_get(ctx->store, id, &inc))
			return -1;
	}
	r = fix_step(&run, &inc);
	out->settled = 1;
	out->state = inc.state;
	incident_release(&inc);
	return r;
}

int fix_incident(const struct engine_context *ctx, const struct fix_options *o, long long id,
		 struct fix_outcome *out)
{
	return fix_one(ctx, o, id, out, "sre fix");
}

int fix_follow_pull(const struct engine_context *ctx, const struct fix_options *o,
		    long long id, struct fix_outcome *out)
{
	struct fix_options status = *o;
	int r;

	status.status = 1;
	status.dry_run = 0;
	r = fix_one(ctx, &status, id, out, "sre fix --status");
	store_lease_release(ctx->store, id);
	return r;
}

int fix_pull_incidents(const struct engine_context *ctx, long long **ids, size_t *nr)
{
	struct incident_filter f = { 0, -1, NULL };
	struct incident *list = NULL;
	size_t n = 0;

	*ids = NULL;
	*nr = 0;
	if (store_incident_list(ctx->store, &f, &list, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (is_pr_state(list[i].state)) {
			*ids = xrealloc(*ids, (*nr + 1) * sizeof(**ids));
			(*ids)[(*nr)++] = list[i].id;
		}
	incident_list_free(list, n);
	return 0;
}
