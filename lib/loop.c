/*
 * loop.c: one pass of sre's loop (see loop.h): the engines of scout,
 * diagnose and fix called in turn, each on what the last left.
 */
#include "diagnose.h"
#include "fix-engine.h"
#include "fix.h"
#include "loop.h"
#include "scout.h"
#include "store-internal.h"
#include "timeutil.h"

void loop_report_release(struct loop_report *rep)
{
	strbuf_release(&rep->lines);
}

const char *loop_event_name(enum loop_event what)
{
	static const char *const names[] = {
		[LOOP_SOURCE] = "source", [LOOP_OPENED] = "opened", [LOOP_RECOVERED] = "recovered",
		[LOOP_STANDBY] = "standby", [LOOP_DIAGNOSED] = "diagnosed", [LOOP_ACTED] = "acted",
		[LOOP_RESOLVED] = "resolved", [LOOP_WAITING] = "waiting", [LOOP_FAILED] = "failed",
	};

	return (unsigned)what < ARRAY_SIZE(names) ? names[what] : "unknown";
}

/* Say one event: a line of rep->lines, and to rep->event. */
static void SRE_PRINTF(4, 5) say(struct loop_report *rep, enum loop_event what, long long id,
				  const char *fmt, ...)
{
	size_t at = rep->lines.len;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&rep->lines, fmt, ap);
	va_end(ap);
	if (rep->event)
		rep->event(rep->event_data, what, id, rep->lines.buf + at);
	strbuf_addch(&rep->lines, '\n');
}

static void say_source(void *data, const char *line)
{
	say(data, LOOP_SOURCE, 0, "scout: %s", line);
}

/* A scout setting from 1 to 1000, else its default. */
static int setting(const struct config *cfg, const char *key, int dflt)
{
	long long v;

	return config_get_int(cfg, key, &v) == 0 && v >= 1 && v <= 1000 ? (int)v : dflt;
}

int loop_scout(const struct engine_context *ctx, int standby, struct loop_report *rep)
{
	struct findings fs = FINDINGS_INIT;
	struct strvec ran = STRVEC_INIT;
	struct scout_report srep = SCOUT_REPORT_INIT;
	struct scout_options so = { 0 };
	int configured, r;

	r = scout_collect(ctx->cfg, &fs, &ran, &configured, say_source, rep);
	if (r < 0)
		goto out;
	findings_redact(&fs);
	rep->sources += (int)ran.nr;
	so.fail_after = setting(ctx->cfg, "scout.fail-after", 1);
	so.recover_after = setting(ctx->cfg, "scout.recover-after", 2);
	so.actor = ctx->actor;
	so.dry_run = standby;
	/* Nothing read is no verdict: what is open stays open. */
	if (r == 0 && configured && (r = scout_decide(ctx->store, ctx->tracker, ctx->cfg, &fs, &ran,
						       &so, &srep)) == 0)
		for (size_t i = 0; i < srep.nr; i++) {
			const struct scout_change *c = &srep.v[i];
			const char *what = c->finding && c->finding->summary ? c->finding->summary : "";

			if (!strcmp(c->what, "opened")) {
				rep->opened++;
				say(rep, LOOP_OPENED, c->id, "incident %lld opened: %s", c->id, what);
			} else if (!strcmp(c->what, "recovered")) {
				rep->resolved++;
				say(rep, LOOP_RECOVERED, c->id, "incident %lld recovered", c->id);
			} else if (!strcmp(c->what, "would open")) {
				say(rep, LOOP_STANDBY, 0, "would open an incident: %s", what);
			} else if (!strcmp(c->what, "would resolve")) {
				say(rep, LOOP_STANDBY, c->id, "incident %lld would recover", c->id);
			}
		}
out:
	scout_report_release(&srep);
	findings_clear(&fs);
	strvec_clear(&ran);
	return r < 0 ? -1 : 0;
}

/* Every open incident (the steps skip the states they leave alone). */
static int open_incidents(const struct engine_context *ctx, struct incident **list, size_t *nr)
{
	struct incident_filter f = { .state = -1 };

	return store_incident_list(ctx->store, &f, list, nr);
}

int loop_diagnose(const struct engine_context *ctx, struct loop_report *rep)
{
	struct incident *list = NULL;
	size_t nr = 0;

	if (open_incidents(ctx, &list, &nr) < 0)
		return -1;
	for (size_t i = 0; i < nr; i++) {
		struct diagnose_options o = { 0 };
		struct diagnose_result res = DIAGNOSE_RESULT_INIT;
		long long id = list[i].id;

		if (list[i].state != STATE_INCIDENT_DETECTED)
			continue;
		if (diagnose_incident(ctx, &o, id, &res) < 0) {
			rep->failed++;
			say(rep, LOOP_FAILED, id, "incident %lld could not be diagnosed", id);
		} else {
			rep->diagnosed++;
			say(rep, LOOP_DIAGNOSED, id, "incident %lld diagnosed: %s", id,
			    diagnosis_category_name(res.d.answer.category));
		}
		diagnose_result_release(&res);
	}
	incident_list_free(list, nr);
	return 0;
}

static void fix_one(const struct engine_context *ctx, const struct fix_options *o, long long id,
		    struct loop_report *rep)
{
	struct fix_outcome out;
	int r;

	fix_outcome_init(&out);
	r = fix_incident(ctx, o, id, &out);
	if (r < 0) {
		rep->failed++;
		say(rep, LOOP_FAILED, id, "incident %lld could not be fixed", id);
	}
	if (out.done) {
		rep->acted++;
		say(rep, LOOP_ACTED, id, "incident %lld: %s", id, out.done);
	}
	if (out.resolved) {
		rep->resolved++;
		say(rep, LOOP_RESOLVED, id, "incident %lld resolved: %s", id, out.resolved);
	}
	if (out.escalated || out.waiting) {
		rep->waiting++;
		say(rep, LOOP_WAITING, id, "incident %lld waits for a person: %s", id,
		    out.escalated ? out.escalated : out.waiting);
	}
	fix_outcome_release(&out);
}

int loop_fix(const struct engine_context *ctx, struct loop_report *rep)
{
	struct fix_policy pol = FIX_POLICY_INIT;
	struct fix_options fo = { 0 };
	struct incident *list = NULL;
	size_t nr = 0;

	if (fix_policy_read(&pol, ctx->cfg) < 0)
		return -1;
	fo.policy = &pol;
	if (open_incidents(ctx, &list, &nr) < 0) {
		fix_policy_release(&pol);
		return -1;
	}
	for (size_t i = 0; i < nr; i++) {
		const struct incident *inc = &list[i];

		/* Not yet diagnosed (its diagnosis failed): the next pass tries again. */
		if (inc->state == STATE_INCIDENT_RESOLVED || inc->state == STATE_INCIDENT_REQUIRES_HUMAN ||
		    inc->state == STATE_INCIDENT_DETECTED)
			continue;
		/* Nobody is asked: what the policy does not allow waits for `sre fix --yes`. */
		fix_one(ctx, &fo, inc->id, rep);
	}
	incident_list_free(list, nr);
	fix_policy_release(&pol);
	return 0;
}

int loop_pass(const struct engine_context *ctx, struct loop_report *rep)
{
	if (loop_scout(ctx, 0, rep) < 0 || loop_diagnose(ctx, rep) < 0)
		return -1;
	return loop_fix(ctx, rep);
}

int loop_pass_record(struct store *st, time_t started, int64_t duration_ms, const char *role,
		     const char *runner, const cJSON *summary)
{
	sqlite3_stmt *stmt;
	char at[32], *text = cJSON_PrintUnformatted(summary);
	int ret = -1;

	format_iso8601(at, sizeof(at), started);
	if (store_begin(st) < 0)
		goto out;
	if (store_prepare(st, &stmt, "INSERT INTO run_passes (started_at, duration_ms, role, runner,"
			       " summary) VALUES (?1, ?2, ?3, ?4, ?5)") < 0)
		goto fail;
	sqlite3_bind_text(stmt, 1, at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, duration_ms);
	sqlite3_bind_text(stmt, 3, role, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, runner, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, text, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		store_db_error(st, "cannot record a pass of sre run");
		store_done(st, stmt);
		goto fail;
	}
	store_done(st, stmt);
	if (store_prepare(st, &stmt, "DELETE FROM run_passes WHERE id <= (SELECT max(id) FROM run_passes) - ?1") < 0)
		goto fail;
	sqlite3_bind_int(stmt, 1, LOOP_PASSES_KEPT);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		store_db_error(st, "cannot forget the old passes of sre run");
		store_done(st, stmt);
		goto fail;
	}
	store_done(st, stmt);
	ret = store_commit(st);
	goto out;
fail:
	store_rollback(st);
out:
	free(text);
	return ret;
}

int loop_pass_list(struct store *st, int n, cJSON **out)
{
	sqlite3_stmt *stmt;
	cJSON *arr = cJSON_CreateArray();
	int rc;

	if (store_prepare(st, &stmt, "SELECT started_at, duration_ms, role, runner, summary"
			       " FROM run_passes ORDER BY id DESC LIMIT ?1") < 0) {
		cJSON_Delete(arr);
		return -1;
	}
	sqlite3_bind_int(stmt, 1, n);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		cJSON *p = cJSON_CreateObject();
		cJSON *summary = cJSON_Parse((const char *)sqlite3_column_text(stmt, 4));

		cJSON_AddStringToObject(p, "started_at", (const char *)sqlite3_column_text(stmt, 0));
		cJSON_AddNumberToObject(p, "duration_ms", (double)sqlite3_column_int64(stmt, 1));
		cJSON_AddStringToObject(p, "role", (const char *)sqlite3_column_text(stmt, 2));
		cJSON_AddStringToObject(p, "runner", (const char *)sqlite3_column_text(stmt, 3));
		cJSON_AddItemToObject(p, "summary", summary ? summary : cJSON_CreateObject());
		cJSON_AddItemToArray(arr, p);
	}
	store_done(st, stmt);
	if (rc != SQLITE_DONE) {
		cJSON_Delete(arr);
		return store_db_error(st, "cannot read the passes of sre run");
	}
	*out = arr;
	return 0;
}
