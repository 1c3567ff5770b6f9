/*
 * chaos.c: faults injected on purpose and undone for sure (chaos.h has
 * the design).
 *
 * A fault is a verb of the service's runtime (runtime.h's inject and
 * revert slots, in lib/runtime-*.c): prepare reads what is there now into
 * the undo record, run injects, revert puts back what the record says.
 * The order is what makes it safe: the record is committed (state
 * "injecting") before anything is touched, so a crash at any point leaves
 * a row that `sre chaos rollback` can undo; only then the fault is
 * injected and the row marked "in-place". An undo that fails keeps its
 * row in place, with why, for the next rollback.
 */
#include "chaos.h"
#include "chaos-host.h"
#include "fix.h"
#include "json.h"
#include "runtime.h"
#include "store-internal.h"
#include "timeutil.h"

/* The faults: sre's name, the runtime it needs, the runtime's verb. */
static const struct fault {
	const char *name;
	enum fix_runtime runtime;  /* RUNTIME_NONE: any (own says how) */
	const char *verb;
	const struct runtime_ops *own; /* the host's faults, else NULL: the runtime's */
} faults[] = {
	{ "process-kill", RUNTIME_PROCESS, "kill", NULL },
	{ "process-stop", RUNTIME_PROCESS, "stop", NULL },
	{ "docker-kill", RUNTIME_DOCKER, "kill", NULL },
	{ "docker-stop", RUNTIME_DOCKER, "stop", NULL },
	{ "docker-pause", RUNTIME_DOCKER, "pause", NULL },
	{ "docker-memory", RUNTIME_DOCKER, "memory", NULL },
	{ "docker-restart-loop", RUNTIME_DOCKER, "restart-loop", &chaos_host },
	{ "kubernetes-scale-zero", RUNTIME_KUBERNETES, "scale-zero", NULL },
	{ "kubernetes-bad-image", RUNTIME_KUBERNETES, "bad-image", NULL },
	{ "kubernetes-memory", RUNTIME_KUBERNETES, "memory", NULL },
	{ "kubernetes-delete-pod", RUNTIME_KUBERNETES, "delete-pod", NULL },
	{ "disk-full", RUNTIME_NONE, "disk-full", &chaos_host },
	{ "process-cpu", RUNTIME_PROCESS, "cpu", &chaos_host },
	{ "process-memory", RUNTIME_PROCESS, "memory", &chaos_host },
	{ "db-pool", RUNTIME_NONE, "db-pool", &chaos_host },
	{ "proxy-latency", RUNTIME_NONE, "proxy-latency", &chaos_host },
	{ "proxy-errors", RUNTIME_NONE, "proxy-errors", &chaos_host },
	{ "proxy-reset", RUNTIME_NONE, "proxy-reset", &chaos_host },
	{ "proxy-timeout", RUNTIME_NONE, "proxy-timeout", &chaos_host },
	{ "proxy-bandwidth", RUNTIME_NONE, "proxy-bandwidth", &chaos_host },
};

static const struct fault *fault_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(faults); i++)
		if (!strcmp(faults[i].name, name))
			return &faults[i];
	return NULL;
}

static void fault_names(struct strbuf *sb)
{
	for (size_t i = 0; i < ARRAY_SIZE(faults); i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", faults[i].name);
}

int chaos_allowed(const struct config *cfg, const char *service)
{
	struct strvec allow = STRVEC_INIT;
	int yes = 0;

	config_get_all(cfg, "chaos.allow", &allow);
	for (size_t i = 0; i < allow.nr && !yes; i++)
		yes = !strcmp(allow.v[i], "*") || !strcmp(allow.v[i], service);
	strvec_clear(&allow);
	return yes;
}

/* ---- the records ---- */

#define IN_PLACE "state IN ('injecting', 'in-place')"

/* A record as read back. */
struct record {
	long long id;
	char *fault, *target, *run;
	cJSON *undo;
};

static void record_release(struct record *r)
{
	free(r->fault);
	free(r->target);
	free(r->run);
	cJSON_Delete(r->undo);
}

static char *col(sqlite3_stmt *q, int i)
{
	const char *s = (const char *)sqlite3_column_text(q, i);
	return s ? xstrdup(s) : NULL;
}

/*
 * The records in place: by id (id > 0), of run (run set), else all of
 * them, oldest first. 0 or -1.
 */
static int records_in_place(struct store *st, long long id, const char *run, struct record **out,
			    size_t *nr)
{
	sqlite3_stmt *q;
	size_t alloc = 0;
	int rc;

	*out = NULL;
	*nr = 0;
	if (store_prepare(st, &q, "SELECT id, fault, target, run, undo FROM chaos_faults WHERE "
			  IN_PLACE " AND (?1 = 0 OR id = ?1) AND (?2 IS NULL OR run = ?2) ORDER BY id") < 0)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	if (run)
		sqlite3_bind_text(q, 2, run, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 2);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct record *r;
		ALLOC_GROW(*out, *nr + 1, alloc);
		r = &(*out)[(*nr)++];
		r->id = sqlite3_column_int64(q, 0);
		r->fault = col(q, 1);
		r->target = col(q, 2);
		r->run = col(q, 3);
		r->undo = cJSON_Parse((const char *)sqlite3_column_text(q, 4));
	}
	store_done(st, q);
	return rc == SQLITE_DONE ? 0 : store_db_error(st, "cannot read the faults in place");
}

static long long record_add(struct store *st, const struct engine_context *ctx, const char *fault,
			    const char *target, const cJSON *args, const cJSON *undo,
			    const struct chaos_options *o)
{
	sqlite3_stmt *q;
	char *a = cJSON_PrintUnformatted(args), *u = cJSON_PrintUnformatted(undo);
	char now[32], until[32];
	time_t t = sre_now();
	long long id = -1;

	format_iso8601(now, sizeof(now), t);
	format_iso8601(until, sizeof(until), t + (time_t)((o->duration_ms + 999) / 1000));
	if (store_prepare(st, &q, "INSERT INTO chaos_faults (fault, target, args, undo, state, "
			  "injected_by, injected_at, expires_at, run) VALUES (?, ?, ?, ?, 'injecting', "
			  "?, ?, ?, ?)") < 0)
		goto out;
	sqlite3_bind_text(q, 1, fault, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, u, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, ctx->actor ? ctx->actor : "sre", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, now, -1, SQLITE_STATIC);
	if (o->duration_ms > 0)
		sqlite3_bind_text(q, 7, until, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 7);
	if (o->run)
		sqlite3_bind_text(q, 8, o->run, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 8);
	if (sqlite3_step(q) == SQLITE_DONE)
		id = sqlite3_last_insert_rowid(st->db);
	else
		store_db_error(st, "cannot keep a fault's undo record");
	store_done(st, q);
out:
	cJSON_free(a);
	cJSON_free(u);
	return id;
}

/* Move record id to state; error (may be NULL) is why its undo failed. 0 or -1. */
static int record_mark(struct store *st, long long id, const char *state, const char *error_text)
{
	sqlite3_stmt *q;
	char now[32];
	int r;

	format_iso8601(now, sizeof(now), sre_now());
	if (store_prepare(st, &q, "UPDATE chaos_faults SET state = ?2, error = ?3, rolled_back_at = "
			  "CASE WHEN ?2 = 'rolled-back' THEN ?4 ELSE rolled_back_at END WHERE id = ?1") < 0)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 2, state, -1, SQLITE_STATIC);
	if (error_text)
		sqlite3_bind_text(q, 3, error_text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 3);
	sqlite3_bind_text(q, 4, now, -1, SQLITE_STATIC);
	r = sqlite3_step(q) == SQLITE_DONE ? 0 : store_db_error(st, "cannot mark a fault");
	store_done(st, q);
	return r;
}

/*
 * What the injection learnt (a holder's pid) into record id's undo, with
 * it in place. 0 or -1.
 */
static int record_placed(struct store *st, long long id, const cJSON *undo)
{
	sqlite3_stmt *q;
	char *u = cJSON_PrintUnformatted(undo);
	int r = -1;

	if (store_prepare(st, &q, "UPDATE chaos_faults SET state = 'in-place', undo = ? WHERE id = ?") == 0) {
		sqlite3_bind_text(q, 1, u, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, id);
		r = sqlite3_step(q) == SQLITE_DONE ? 0 : store_db_error(st, "cannot keep a fault's undo record");
		store_done(st, q);
	}
	cJSON_free(u);
	return r;
}

/* The fault of that name in place on target: its id, 0 none, -1. */
static long long in_place(struct store *st, const char *fault, const char *target)
{
	sqlite3_stmt *q;
	long long id;
	int rc;

	if (store_prepare(st, &q, "SELECT id FROM chaos_faults WHERE " IN_PLACE
			  " AND (?1 IS NULL OR fault = ?1) AND target = ?2 LIMIT 1") < 0)
		return -1;
	if (fault)
		sqlite3_bind_text(q, 1, fault, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 1);
	sqlite3_bind_text(q, 2, target, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	id = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) :
	     rc == SQLITE_DONE ? 0 : store_db_error(st, "cannot read the faults in place");
	store_done(st, q);
	return id;
}

long long chaos_in_place(const struct engine_context *ctx, const char *service)
{
	return in_place(ctx->store, NULL, service);
}

/* ---- injecting ---- */

int chaos_inject(const struct engine_context *ctx, const char *fault, const char *target,
		 const cJSON *args, const struct chaos_options *o, long long *id,
		 struct strbuf *report)
{
	const struct fault *f = fault_find(fault);
	struct fix_target t = FIX_TARGET_INIT;
	struct strbuf why = STRBUF_INIT, out = STRBUF_INIT;
	struct http_client http;
	const struct runtime_ops *ops;
	struct runtime_call c;
	cJSON *params = NULL, *undo = NULL;
	long long there;
	int ret = 1;

	*id = 0;
	memset(&http, 0, sizeof(http));
	if (!f) {
		fault_names(&why);
		error("no fault '%.64s': sre chaos injects %s", fault, why.buf);
		goto out;
	}
	/* The blast radius first: nothing about a service outside it is even read. */
	if (!chaos_allowed(ctx->cfg, target)) {
		error("%s is outside chaos.allow: refused (sre config set chaos.allow %s)", target, target);
		goto out;
	}
	if (fix_target_read(&t, ctx->cfg, target, &why) < 0) {
		error("%s", why.buf);
		goto out;
	}
	if (f->runtime != RUNTIME_NONE && t.runtime != f->runtime) {
		error("%s runs on %s: %s is for %s", target, fix_runtime_name(t.runtime), fault,
		      fix_runtime_name(f->runtime));
		goto out;
	}
	if ((there = in_place(ctx->store, fault, target)) != 0) {
		if (there > 0)
			error("%s is in place on %s already (chaos %lld)", fault, target, there);
		ret = there < 0 ? -1 : 1;
		goto out;
	}
	ops = f->own ? f->own : runtime_ops_of(t.runtime);
	if (!ops || !ops->inject || !ops->revert) {
		error("sre chaos cannot inject faults on %s", fix_runtime_name(t.runtime));
		goto out;
	}
	if (http_client_init(&http, ctx->cfg) < 0) {
		ret = -1;
		goto out;
	}
	c = (struct runtime_call){ .http = &http, .cfg = ctx->cfg, .t = &t, .st = ctx->store };
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "fault", f->verb);
	cJSON_AddItemToObject(params, "args", args ? cJSON_Duplicate(args, 1) : cJSON_CreateObject());
	undo = cJSON_CreateObject();
	cJSON_AddStringToObject(undo, "runtime", f->own ? f->own->name : fix_runtime_name(t.runtime));
	if (ops->inject->prepare(&c, params, undo, &out) < 0) {
		error("%s on %s: %s", fault, target, out.buf);
		goto out;
	}
	/* What the fault leaves running ends by itself with the duration, even if nobody undoes it. */
	if (o->duration_ms > 0)
		cJSON_AddNumberToObject(undo, "life_s", (double)((o->duration_ms + 999) / 1000 + 1));
	if (o->dry_run) {
		char *u = cJSON_PrintUnformatted(undo);
		strbuf_addf(report, "would inject %s into %s", fault, target);
		if (o->duration_ms)
			strbuf_addf(report, " for %llds", (long long)(o->duration_ms / 1000));
		strbuf_addf(report, "\n  undo record: %s\n", u);
		cJSON_free(u);
		ret = 0;
		goto out;
	}
	/* The undo first, committed: from here a crash leaves something to roll back. */
	if ((*id = record_add(ctx->store, ctx, fault, target, cJSON_GetObjectItem(params, "args"),
			      undo, o)) < 0) {
		*id = 0;
		ret = -1;
		goto out;
	}
	test_crash_point("chaos-recorded");
	cJSON_AddNumberToObject(undo, "chaos_id", (double)*id);
	strbuf_reset(&out);
	if (ops->inject->run(&c, undo, &out) < 0) {
		struct strbuf back = STRBUF_INIT;
		/* Half-done is possible: put back whatever took. */
		int undone = ops->revert->run(&c, undo, &back) == 0;

		error("%s on %s failed: %s", fault, target, out.buf);
		if (record_mark(ctx->store, *id, undone ? "rolled-back" : "in-place",
				undone ? out.buf : back.buf) < 0)
			ret = -1;
		strbuf_addf(report, "chaos %lld: %s\n", *id, undone ? "not injected; nothing left in place" :
			    "not injected, and its undo failed: sre chaos rollback");
		strbuf_release(&back);
		ret = -1;
		goto out;
	}
	test_crash_point("chaos-injected");
	if (record_placed(ctx->store, *id, undo) < 0) {
		ret = -1;
		goto out;
	}
	strbuf_addf(report, "chaos %lld: %s on %s: %s\n", *id, fault, target, out.buf);
	ret = 0;
out:
	cJSON_Delete(params);
	cJSON_Delete(undo);
	http_client_release(&http); /* zeroed or set up: either is fine */
	fix_target_release(&t);
	strbuf_release(&why);
	strbuf_release(&out);
	return ret;
}

/* ---- an experiment's own faults ---- */

/* The undo record's runtime of a mark: nothing of sre's to run. */
#define MARK_RUNTIME "experiment"

long long chaos_mark(const struct engine_context *ctx, const char *what, const char *target,
		     const char *run)
{
	struct chaos_options o = { .run = run, .duration_ms = 3600 * 1000 };
	cJSON *undo, *args;
	long long id;

	/*
	 * It lapses by itself, as a holder does (chaos.hold-max): a run
	 * killed before its rollback must not leave the service's real
	 * incidents tagged as chaos, and so paging nobody, for good.
	 */
	if (config_get_duration_ms(ctx->cfg, "chaos.hold-max", &o.duration_ms) < 0)
		return error("chaos.hold-max is not a duration");
	if (!chaos_allowed(ctx->cfg, target))
		return error("%s is outside chaos.allow: refused (sre config set chaos.allow %s)", target, target);
	undo = cJSON_CreateObject();
	args = cJSON_CreateObject();
	cJSON_AddStringToObject(undo, "runtime", MARK_RUNTIME);
	id = record_add(ctx->store, ctx, what, target, args, undo, &o);
	if (id > 0 && record_placed(ctx->store, id, undo) < 0)
		id = -1;
	cJSON_Delete(undo);
	cJSON_Delete(args);
	return id;
}

/* ---- undoing ---- */

/* Undo one record: 0 undone, -1 not (said in report, kept with why). */
static int undo_one(const struct engine_context *ctx, const struct record *rec, struct strbuf *report)
{
	struct fix_target t = FIX_TARGET_INIT;
	struct strbuf why = STRBUF_INIT, out = STRBUF_INIT;
	struct http_client http;
	const struct runtime_ops *ops = NULL;
	struct runtime_call c;
	enum fix_runtime rt = RUNTIME_NONE;
	const char *name = json_string(rec->undo, "runtime");
	int r = -1;

	memset(&http, 0, sizeof(http));
	if (name && !strcmp(name, MARK_RUNTIME)) {
		/* The experiment's rollbacks undo what its own activity did. */
		strbuf_addstr(&out, "its experiment's rollbacks undo it");
		r = 0;
		goto done;
	}
	for (int i = RUNTIME_DOCKER; i <= RUNTIME_PROCESS; i++)
		if (name && !strcmp(name, fix_runtime_name((enum fix_runtime)i)))
			rt = (enum fix_runtime)i;
	if (name && !strcmp(name, chaos_host.name))
		ops = &chaos_host;
	else
		ops = runtime_ops_of(rt);
	if (!rec->undo || !ops || !ops->revert) {
		strbuf_addstr(&out, "its undo record names no runtime sre knows");
		goto done;
	}
	/* The service as configured now: its commands; what to put back is the record's. */
	if (fix_target_read(&t, ctx->cfg, rec->target, &why) < 0) {
		strbuf_addf(&out, "%s", why.buf);
		goto done;
	}
	if (http_client_init(&http, ctx->cfg) < 0) {
		strbuf_addstr(&out, "the http.* configuration is not valid");
		goto done;
	}
	c = (struct runtime_call){ .http = &http, .cfg = ctx->cfg, .t = &t, .st = ctx->store };
	r = ops->revert->run(&c, rec->undo, &out);
	if (!r && ops->revert->check) {
		struct strbuf seen = STRBUF_INIT;
		if (ops->revert->check(&c, rec->undo, &seen) != 1) {
			strbuf_reset(&out);
			strbuf_addf(&out, "undone, yet %s", seen.buf);
			r = -1;
		}
		strbuf_release(&seen);
	}
done:
	if (!r) {
		strbuf_addf(report, "chaos %lld: %s on %s undone: %s\n", rec->id, rec->fault, rec->target,
			    out.buf);
		r = record_mark(ctx->store, rec->id, "rolled-back", NULL);
	} else {
		strbuf_addf(report, "chaos %lld: %s on %s NOT undone: %s\n", rec->id, rec->fault,
			    rec->target, out.buf);
		if (record_mark(ctx->store, rec->id, "in-place", out.buf) < 0)
			r = -1;
		r = -1;
	}
	http_client_release(&http); /* zeroed or set up: either is fine */
	fix_target_release(&t);
	strbuf_release(&why);
	strbuf_release(&out);
	return r;
}

int chaos_rollback(const struct engine_context *ctx, long long id, const char *run,
		   struct strbuf *report)
{
	struct record *recs;
	size_t nr;
	int failed = 0;

	if (records_in_place(ctx->store, id, run, &recs, &nr) < 0)
		return -1;
	if (!nr) {
		if (id)
			strbuf_addf(report, "chaos %lld is not in place\n", id);
		else
			strbuf_addstr(report, "no fault in place\n");
		free(recs);
		return 1;
	}
	/* Newest first: a later fault may stand on an earlier one. Each is tried. */
	for (size_t i = nr; i-- > 0;)
		failed |= undo_one(ctx, &recs[i], report) < 0;
	for (size_t i = 0; i < nr; i++)
		record_release(&recs[i]);
	free(recs);
	return failed ? -1 : 0;
}

int chaos_rollback_expired(const struct engine_context *ctx, struct strbuf *report)
{
	sqlite3_stmt *q;
	long long *ids = NULL;
	size_t nr = 0, alloc = 0;
	char now[32];
	int rc, failed = 0;

	format_iso8601(now, sizeof(now), sre_now());
	if (store_prepare(ctx->store, &q, "SELECT id FROM chaos_faults WHERE " IN_PLACE
			  " AND expires_at IS NOT NULL AND expires_at <= ? ORDER BY id") < 0)
		return -1;
	sqlite3_bind_text(q, 1, now, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		ALLOC_GROW(ids, nr + 1, alloc);
		ids[nr++] = sqlite3_column_int64(q, 0);
	}
	store_done(ctx->store, q);
	if (rc != SQLITE_DONE) {
		free(ids);
		return store_db_error(ctx->store, "cannot read the faults past their duration");
	}
	for (size_t i = 0; i < nr; i++) {
		strbuf_addf(report, "chaos %lld: past its duration, its injector gone\n", ids[i]);
		failed |= chaos_rollback(ctx, ids[i], NULL, report) < 0;
	}
	free(ids);
	return failed ? -1 : 0;
}

/* A text column as a JSON string, or null. */
static void add_col(cJSON *o, const char *key, sqlite3_stmt *q, int i)
{
	const char *v = (const char *)sqlite3_column_text(q, i);

	if (v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_seconds(cJSON *o, const char *key, const char *from, const cJSON *to)
{
	time_t a = 0, b = 0;

	if (from && cJSON_IsString(to) && !parse_iso8601(from, &a) && !parse_iso8601(to->valuestring, &b))
		cJSON_AddNumberToObject(o, key, (double)(b - a));
	else
		cJSON_AddNullToObject(o, key);
}

int chaos_fault_outcome(const struct engine_context *ctx, long long id, cJSON *out)
{
	sqlite3_stmt *q;
	char *injected = NULL;
	long long inc = 0;
	int rc;

	if (store_prepare(ctx->store, &q, "SELECT injected_at FROM chaos_faults WHERE id = ?") < 0)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		injected = col(q, 0);
	store_done(ctx->store, q);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 1 : store_db_error(ctx->store, "cannot read a fault");
	/* The first incident tagged with this fault. */
	if (store_prepare(ctx->store, &q, "SELECT i.id, i.opened_at, i.category, i.resolved_at FROM events e "
			  "JOIN incidents i ON i.id = e.incident_id WHERE e.kind = 'chaos' AND EXISTS "
			  "(SELECT 1 FROM json_each(e.body, '$.faults') WHERE value = ?) ORDER BY e.id LIMIT 1") < 0) {
		free(injected);
		return -1;
	}
	sqlite3_bind_int64(q, 1, id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		inc = sqlite3_column_int64(q, 0);
		cJSON_AddNumberToObject(out, "incident", (double)inc);
		add_col(out, "detected_at", q, 1);
		add_col(out, "category", q, 2);
		add_col(out, "resolved_at", q, 3);
	} else {
		const char *keys[] = { "incident", "detected_at", "category", "resolved_at" };
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			cJSON_AddNullToObject(out, keys[i]);
	}
	store_done(ctx->store, q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		free(injected);
		return store_db_error(ctx->store, "cannot read the incidents of a fault");
	}
	add_seconds(out, "mttd_s", injected, cJSON_GetObjectItem(out, "detected_at"));
	add_seconds(out, "mttr_s", injected, cJSON_GetObjectItem(out, "resolved_at"));
	free(injected);
	/* The action the loop took: its last, and how it ended. */
	cJSON_AddNullToObject(out, "action");
	cJSON_AddNullToObject(out, "action_result");
	if (inc) {
		struct event *ev;
		size_t nr;

		if (store_event_list(ctx->store, inc, &ev, &nr) < 0)
			return -1;
		for (size_t i = 0; i < nr; i++) {
			int started = !strcmp(ev[i].kind, "action-started");
			cJSON *b;
			if ((!started && strcmp(ev[i].kind, "action-finished")) || !(b = cJSON_Parse(ev[i].body)))
				continue;
			cJSON_ReplaceItemInObject(out, started ? "action" : "action_result",
						  cJSON_CreateString(json_string_or(b, started ? "action" : "result", "?")));
			cJSON_Delete(b);
		}
		event_list_free(ev, nr);
	}
	return 0;
}

cJSON *chaos_status_json(const struct engine_context *ctx, int all)
{
	sqlite3_stmt *q;
	cJSON *arr = cJSON_CreateArray(), *o;
	time_t now = sre_now();
	int rc;

	if (store_prepare(ctx->store, &q, "SELECT id, fault, target, args, injected_by, injected_at, "
			  "expires_at, run, state, error, rolled_back_at FROM chaos_faults WHERE ?1 OR "
			  IN_PLACE " ORDER BY id DESC") < 0) {
		cJSON_Delete(arr);
		return NULL;
	}
	sqlite3_bind_int(q, 1, all);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *at = (const char *)sqlite3_column_text(q, 5);
		const char *keys[] = { NULL, "fault", "target", NULL, "injected_by", "injected_at",
				       "expires_at", "run", "state", "error", "rolled_back_at" };
		time_t t = 0;

		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(q, 0));
		for (int i = 1; i < (int)ARRAY_SIZE(keys); i++) {
			const char *v = (const char *)sqlite3_column_text(q, i);
			if (i == 3) {
				cJSON *args = v ? cJSON_Parse(v) : NULL;
				cJSON_AddItemToObject(o, "args", args ? args : cJSON_CreateObject());
			} else if (v) {
				cJSON_AddStringToObject(o, keys[i], v);
			} else {
				cJSON_AddNullToObject(o, keys[i]);
			}
		}
		parse_iso8601(at, &t);
		cJSON_AddNumberToObject(o, "age_s", (double)(t && now > t ? now - t : 0));
		cJSON_AddItemToArray(arr, o);
	}
	store_done(ctx->store, q);
	if (rc != SQLITE_DONE) {
		store_db_error(ctx->store, "cannot read the faults");
		cJSON_Delete(arr);
		return NULL;
	}
	cJSON_ArrayForEach(o, arr) {
		cJSON *outcome = cJSON_AddObjectToObject(o, "outcome");
		if (chaos_fault_outcome(ctx, (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "id")),
					outcome) < 0) {
			cJSON_Delete(arr);
			return NULL;
		}
	}
	return arr;
}
