/*
 * memory.c: sre remember's index and recall; see memory.h.
 *
 * The memory table is derived, never the truth: a local row is rebuilt
 * from the incident, its events and its latest diagnosis whenever the
 * incident has an event the row has not seen (memory.last_event), so
 * indexing is idempotent and --rebuild loses nothing. Rows pulled from
 * other hosts (memory_import()) are checked field by field and kept as
 * they came.
 *
 * Recall never asks SQLite to parse text it was given: a query is cut
 * into words and each word is quoted as an FTS5 string, so no input can
 * become FTS5 syntax (NEAR, column filters, a '*' over the whole index).
 *
 * What memory may change: it shows past incidents to a person, and a past
 * fix of this host (never one pulled from another: a shared repository is
 * data from elsewhere) moves the confidence of the mitigation the rules
 * chose. It never chooses an action the rules did not.
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <sys/random.h>
#include <unistd.h>
#include <cJSON.h>

#include "memory.h"
#include "config.h"
#include "format.h"
#include "json.h"
#include "redact.h"
#include "store-internal.h"
#include "timeutil.h"

/* Bounds on what one row keeps, so a chatty incident cannot bloat the index. */
#define MAX_COMMENTS_TEXT (32 << 10)
#define MAX_TEMPLATES 50
#define MAX_FIELD 4000
#define MAX_QUERY_WORDS 32

#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif

/* ---- this store's name among hosts ---- */

static int state_get(struct store *st, const char *key, char **out)
{
	sqlite3_stmt *stmt;
	int rc;

	*out = NULL;
	if (store_prepare(st, &stmt, "SELECT value FROM memory_state WHERE key = ?1") < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*out = xstrdup((const char *)sqlite3_column_text(stmt, 0));
	store_done(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(st, "cannot read sre remember's state");
	return *out ? 0 : 1;
}

static int state_set(struct store *st, const char *key, const char *value)
{
	sqlite3_stmt *stmt;
	int rc;

	if (store_prepare(st, &stmt, "INSERT INTO memory_state(key, value) VALUES (?1, ?2)"
			  " ON CONFLICT(key) DO UPDATE SET value = excluded.value") < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	store_done(st, stmt);
	return rc == SQLITE_DONE ? 0 : store_db_error(st, "cannot keep sre remember's state");
}

char *memory_origin(struct store *st)
{
	char host[256], *got;
	struct strbuf name = STRBUF_INIT;
	unsigned char r[4];

	if (state_get(st, "origin", &got) == 0)
		return got;
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "host");
	host[sizeof(host) - 1] = '\0';
	/* One path component of [a-z0-9-], whatever the hostname holds. */
	for (const char *p = host; *p && name.len < 40; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c))
			strbuf_addch(&name, (char)tolower(c));
		else if (name.len && name.buf[name.len - 1] != '-')
			strbuf_addch(&name, '-');
	}
	while (name.len && name.buf[name.len - 1] == '-')
		strbuf_setlen(&name, name.len - 1);
	if (!name.len)
		strbuf_addstr(&name, "host");
	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		memset(r, 0, sizeof(r));
	strbuf_addf(&name, "-%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
	if (state_set(st, "origin", name.buf) < 0) {
		strbuf_release(&name);
		return NULL;
	}
	return strbuf_detach(&name, NULL);
}

/* ---- rows ---- */

/* One row of the memory table, as written. */
struct mem_fields {
	const char *origin;
	long long incident_id;
	const char *fingerprint, *service, *title, *category, *severity, *source, *state;
	const char *opened_at, *resolved_at, *updated_at;
	const char *root_cause, *action, *target, *resolution, *comments, *templates;
	int worked;          /* 1, 0, -1 for none */
	int chaos;
	long long last_event;
};

static void bind_text_or_null(sqlite3_stmt *stmt, int i, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, i);
}

static char *column_dup(sqlite3_stmt *stmt, int i)
{
	const unsigned char *t = sqlite3_column_text(stmt, i);

	return t ? xstrdup((const char *)t) : NULL;
}

/*
 * Write a row; a row whose incident changed is pushed again (pushed_at
 * cleared). 0 written, 1 unchanged (same updated_at and last event), -1.
 */
static int row_upsert(struct store *st, const struct mem_fields *f)
{
	sqlite3_stmt *stmt;
	char now[32];
	int rc;

	format_iso8601(now, sizeof(now), sre_now());
	if (store_prepare(st, &stmt,
		"INSERT INTO memory(origin, incident_id, fingerprint, service, title, category,"
		" severity, source, state, opened_at, resolved_at, root_cause, action, target,"
		" worked, resolution, comments, templates, chaos, updated_at, last_event, indexed_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
		" ?17, ?18, ?19, ?20, ?21, ?22)"
		" ON CONFLICT(origin, incident_id) DO UPDATE SET"
		" fingerprint = excluded.fingerprint, service = excluded.service,"
		" title = excluded.title, category = excluded.category,"
		" severity = excluded.severity, source = excluded.source, state = excluded.state,"
		" opened_at = excluded.opened_at, resolved_at = excluded.resolved_at,"
		" root_cause = excluded.root_cause, action = excluded.action,"
		" target = excluded.target, worked = excluded.worked,"
		" resolution = excluded.resolution, comments = excluded.comments,"
		" templates = excluded.templates, chaos = excluded.chaos,"
		" pushed_at = CASE WHEN memory.updated_at = excluded.updated_at"
		"   AND memory.resolution IS excluded.resolution AND memory.worked IS excluded.worked"
		"   THEN memory.pushed_at END,"
		" committed_at = CASE WHEN memory.updated_at = excluded.updated_at"
		"   AND memory.resolution IS excluded.resolution AND memory.worked IS excluded.worked"
		"   THEN memory.committed_at END,"
		" updated_at = excluded.updated_at, last_event = excluded.last_event,"
		" indexed_at = excluded.indexed_at") < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, f->origin, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, f->incident_id);
	sqlite3_bind_text(stmt, 3, f->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, f->service, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, f->title, -1, SQLITE_STATIC);
	bind_text_or_null(stmt, 6, f->category);
	sqlite3_bind_text(stmt, 7, f->severity, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 8, f->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 9, f->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 10, f->opened_at, -1, SQLITE_STATIC);
	bind_text_or_null(stmt, 11, f->resolved_at);
	bind_text_or_null(stmt, 12, f->root_cause);
	bind_text_or_null(stmt, 13, f->action);
	bind_text_or_null(stmt, 14, f->target);
	if (f->worked < 0)
		sqlite3_bind_null(stmt, 15);
	else
		sqlite3_bind_int(stmt, 15, f->worked);
	bind_text_or_null(stmt, 16, f->resolution);
	bind_text_or_null(stmt, 17, f->comments);
	bind_text_or_null(stmt, 18, f->templates);
	sqlite3_bind_int(stmt, 19, f->chaos);
	sqlite3_bind_text(stmt, 20, f->updated_at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 21, f->last_event);
	sqlite3_bind_text(stmt, 22, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	store_done(st, stmt);
	if (rc != SQLITE_DONE)
		return store_db_error(st, "cannot write the memory index (if it is corrupt, "
				      "'sre remember --rebuild' rebuilds it)");
	return 0;
}

/* ---- what an incident's timeline says was done, and whether it held ---- */

struct outcome {
	char *action, *target;
	int worked;              /* 1 verified, 0 failed or did not hold, -1 none tried */
	struct strbuf resolution;
	struct strbuf comments;
	int chaos;
	long long last_event;
};

static void outcome_release(struct outcome *o)
{
	free(o->action);
	free(o->target);
	strbuf_release(&o->resolution);
	strbuf_release(&o->comments);
}

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s && *s ? xstrndup(s, MAX_FIELD) : NULL;
}

/*
 * Walk the timeline. An action is what action-started (or a pull request)
 * records; it worked when verification then resolved the incident, and
 * failed when the action failed or verification escalated it. Our own
 * event bodies are read, by kind and field: nothing here parses a person's
 * words for meaning.
 */
static void outcome_read(struct outcome *o, const struct event *ev, size_t nr)
{
	int tried = 0;

	for (size_t i = 0; i < nr; i++) {
		cJSON *body = cJSON_Parse(ev[i].body);
		const char *to, *reason;

		o->last_event = ev[i].id > o->last_event ? ev[i].id : o->last_event;
		if (!strcmp(ev[i].kind, "chaos"))
			o->chaos = 1;
		if (!body)
			continue;
		if (!strcmp(ev[i].kind, "comment")) {
			const char *text = json_string(body, "text");
			if (text && o->comments.len < MAX_COMMENTS_TEXT) {
				if (o->comments.len)
					strbuf_addch(&o->comments, '\n');
				strbuf_add(&o->comments, text, MIN(strlen(text), (size_t)MAX_FIELD));
			}
		} else if (!strcmp(ev[i].kind, "action-started")) {
			set_str(&o->action, json_string(body, "action"));
			set_str(&o->target, json_string(body, "target"));
			tried = 1;
			o->worked = -1;
		} else if (!strcmp(ev[i].kind, "pull-request")) {
			if (!o->action)
				set_str(&o->action, "pull-request");
			tried = 1;
			o->worked = -1;
		} else if (!strcmp(ev[i].kind, "action-finished")) {
			if (json_string_is(body, "result", "failed"))
				o->worked = 0;
		} else if (!strcmp(ev[i].kind, "transition") && (to = json_string(body, "to"))) {
			reason = json_string_or(body, "reason", "");
			if (!strcmp(to, "INCIDENT_RESOLVED")) {
				strbuf_reset(&o->resolution);
				strbuf_addf(&o->resolution, "resolved by %s", ev[i].actor);
				if (*reason)
					strbuf_addf(&o->resolution, ": %.*s", MAX_FIELD, reason);
				if (tried && o->worked != 0 && starts_with(reason, "verified"))
					o->worked = 1;
			} else if (!strcmp(to, "INCIDENT_REQUIRES_HUMAN") && tried && o->worked != 1 &&
				   strstr(reason, " did not fix it")) {
				o->worked = 0;
			}
		}
		cJSON_Delete(body);
	}
}

/* The templates of a diagnosis's logs ("log_templates"), one a line. */
static void templates_of(struct strbuf *out, const cJSON *diagnosis)
{
	const cJSON *arr = json_array(diagnosis, "log_templates"), *t;
	int n = 0;

	cJSON_ArrayForEach(t, arr) {
		const char *text = json_string(t, "template");
		if (!text || !*text || strchr(text, '\n') || n++ >= MAX_TEMPLATES)
			continue;
		if (out->len)
			strbuf_addch(out, '\n');
		strbuf_add(out, text, MIN(strlen(text), (size_t)1000));
	}
}

/* The newest diagnosis's columns: 0 filled, 1 none, -1. */
struct diag_cols {
	char *category, *root_cause, *action, *target, *body;
};

static void diag_cols_release(struct diag_cols *d)
{
	free(d->category);
	free(d->root_cause);
	free(d->action);
	free(d->target);
	free(d->body);
}

static int diagnosis_read(struct store *st, long long id, struct diag_cols *d)
{
	sqlite3_stmt *stmt;
	int rc;

	memset(d, 0, sizeof(*d));
	if (store_prepare(st, &stmt, "SELECT category, root_cause, action, target, body"
			  " FROM diagnoses WHERE incident_id = ?1 ORDER BY id DESC LIMIT 1") < 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		d->category = column_dup(stmt, 0);
		d->root_cause = column_dup(stmt, 1);
		d->action = column_dup(stmt, 2);
		d->target = column_dup(stmt, 3);
		d->body = column_dup(stmt, 4);
	}
	store_done(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(st, "cannot read a diagnosis");
	return rc == SQLITE_ROW ? 0 : 1;
}

/*
 * Did the problem come back? A later incident of the same fingerprint
 * opened within hold_s of this one's resolution means the fix did not
 * hold: 0 and *next (its id and after how long), 1 when it did not, -1.
 */
static int came_back(struct store *st, const struct incident *inc, int64_t hold_s,
		     long long *next, time_t *after)
{
	sqlite3_stmt *stmt;
	char from[32], until[32];
	int rc;

	if (!inc->resolved_at)
		return 1;
	format_iso8601(from, sizeof(from), inc->resolved_at);
	format_iso8601(until, sizeof(until), inc->resolved_at + hold_s);
	if (store_prepare(st, &stmt, "SELECT id, opened_at FROM incidents WHERE fingerprint = ?1"
			  " AND id > ?2 AND opened_at >= ?3 AND opened_at <= ?4 ORDER BY id LIMIT 1") < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, inc->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, inc->id);
	sqlite3_bind_text(stmt, 3, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, until, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		time_t t = 0;
		*next = sqlite3_column_int64(stmt, 0);
		parse_iso8601((const char *)sqlite3_column_text(stmt, 1), &t);
		*after = t - inc->resolved_at;
	}
	store_done(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(st, "cannot read the incidents");
	return rc == SQLITE_ROW ? 0 : 1;
}

struct index_options {
	int64_t hold_s;          /* remember.hold-window */
	long long known_after;   /* remember.known-after */
};

static int index_options_read(struct index_options *o, const struct config *cfg)
{
	int64_t ms = 3600 * 1000;
	long long n = 3;

	if (cfg && config_get_duration_ms(cfg, "remember.hold-window", &ms) < 0)
		return -1;
	if (cfg && config_get_int(cfg, "remember.known-after", &n) < 0)
		return -1;
	if (n < 0 || n > 1000)
		return error("remember.known-after takes a number from 0 to 1000, not %lld", n);
	o->hold_s = ms / 1000;
	o->known_after = n;
	return 0;
}

/* (Re)build the local row of incident id. 0, 1 no such incident, -1. */
static int index_incident(struct store *st, const struct index_options *io, long long id)
{
	struct incident inc;
	struct event *ev = NULL;
	size_t nev = 0;
	struct outcome o = { .worked = -1, .resolution = STRBUF_INIT, .comments = STRBUF_INIT };
	struct diag_cols d;
	struct strbuf templates = STRBUF_INIT;
	struct mem_fields f = { .origin = "local" };
	char opened[32], resolved[32], updated[32];
	char *title = NULL, *comments = NULL, *root_cause = NULL, *resolution = NULL;
	int r, dr;
	long long next = 0;
	time_t after = 0;

	r = store_incident_get(st, id, &inc);
	if (r)
		return r;
	r = -1;
	if (store_event_list(st, id, &ev, &nev) < 0)
		goto out_inc;
	if ((dr = diagnosis_read(st, id, &d)) < 0)
		goto out_ev;
	outcome_read(&o, ev, nev);
	if (!dr && d.body) {
		cJSON *body = cJSON_Parse(d.body);
		templates_of(&templates, body);
		cJSON_Delete(body);
	}
	if (o.worked == 1 && io->hold_s > 0 && !came_back(st, &inc, io->hold_s, &next, &after)) {
		char age[32];
		format_age(age, sizeof(age), 0, after);
		o.worked = 0;
		strbuf_addf(&o.resolution, "; it came back %s later (incident %lld), so the fix "
			    "did not hold", age, next);
	}
	o.chaos |= starts_with(inc.source, "chaos");
	format_iso8601(opened, sizeof(opened), inc.opened_at);
	format_iso8601(updated, sizeof(updated), inc.updated_at);
	if (inc.resolved_at)
		format_iso8601(resolved, sizeof(resolved), inc.resolved_at);
	/* What people and remote systems wrote is masked before it is kept again. */
	title = redact_str(inc.title);
	comments = o.comments.len ? redact_str(o.comments.buf) : NULL;
	root_cause = !dr && d.root_cause ? redact_str(d.root_cause) : NULL;
	resolution = o.resolution.len ? redact_str(o.resolution.buf) : NULL;
	f.incident_id = inc.id;
	f.fingerprint = inc.fingerprint;
	f.service = inc.service;
	f.title = title;
	f.category = inc.category;
	f.severity = incident_severity_name(inc.severity);
	f.source = inc.source;
	f.state = incident_state_name(inc.state);
	f.opened_at = opened;
	f.resolved_at = inc.resolved_at ? resolved : NULL;
	f.updated_at = updated;
	f.root_cause = root_cause;
	f.action = o.action;
	f.target = o.target;
	f.worked = o.action ? o.worked : -1;
	f.resolution = resolution;
	f.comments = comments;
	f.templates = templates.len ? templates.buf : NULL;
	f.chaos = o.chaos;
	f.last_event = o.last_event;
	r = row_upsert(st, &f) < 0 ? -1 : 0;
	free(title);
	free(comments);
	free(root_cause);
	free(resolution);
	strbuf_release(&templates);
	if (!dr)
		diag_cols_release(&d);
out_ev:
	outcome_release(&o);
	event_list_free(ev, nev);
out_inc:
	incident_release(&inc);
	return r;
}

/* ---- indexing ---- */

/*
 * Make the known errors that remember.known-after verified fixes of one
 * fingerprint by one action earn: this host's fixes only, chaos left out.
 */
static int known_auto(struct store *st, long long after)
{
	sqlite3_stmt *stmt;
	char now[32];
	int rc;

	if (after <= 0)
		return 0;
	format_iso8601(now, sizeof(now), sre_now());
	if (store_prepare(st, &stmt,
		"INSERT INTO known_errors(fingerprint, templates, action, target, runbook, origin,"
		" incident_id, added_by, added_at)"
		" SELECT m.fingerprint, m.templates, m.action, m.target, NULL, 'local', m.incident_id,"
		"  'sre remember', ?2 FROM memory m"
		" JOIN (SELECT fingerprint, action, max(incident_id) AS last FROM memory"
		"       WHERE origin = 'local' AND worked = 1 AND action IS NOT NULL AND chaos = 0"
		"       GROUP BY fingerprint, action HAVING count(*) >= ?1) g"
		"  ON m.origin = 'local' AND m.incident_id = g.last"
		" WHERE true ON CONFLICT(fingerprint, action) DO NOTHING") < 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, after);
	sqlite3_bind_text(stmt, 2, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	store_done(st, stmt);
	return rc == SQLITE_DONE ? 0 : store_db_error(st, "cannot record a known error");
}

/* The incidents whose rows are missing or behind their timeline. */
static int stale_ids(struct store *st, int all, long long **ids, size_t *nr)
{
	sqlite3_stmt *stmt;
	size_t alloc = 0;
	int rc;

	*ids = NULL;
	*nr = 0;
	if (store_prepare(st, &stmt, "SELECT i.id FROM incidents i"
		" LEFT JOIN memory m ON m.origin = 'local' AND m.incident_id = i.id"
		" WHERE ?1 OR m.id IS NULL OR m.last_event <"
		"  coalesce((SELECT max(e.id) FROM events e WHERE e.incident_id = i.id), 0)"
		" ORDER BY i.id") < 0)
		return -1;
	sqlite3_bind_int(stmt, 1, all);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		ALLOC_GROW(*ids, *nr + 1, alloc);
		(*ids)[(*nr)++] = sqlite3_column_int64(stmt, 0);
	}
	store_done(st, stmt);
	if (rc != SQLITE_DONE) {
		free(*ids);
		*ids = NULL;
		*nr = 0;
		return store_db_error(st, "cannot read the incidents to index");
	}
	return 0;
}

/*
 * A new incident of a fingerprint may show that an earlier fix did not
 * hold: the earlier rows are made stale, and indexed again in this run.
 * Only the rows whose verdict it can change: fixes thought to work and
 * resolved within the hold window before it opened (came_back()'s test).
 * Marking every earlier row of the fingerprint rewrote them all, and
 * their FTS entries, on each new incident (quadratic: 20,000 incidents
 * took minutes, bench/bench-memory.c), and left rows stale after the
 * second pass, so the next run indexed them again. The '+' keeps SQLite
 * on the fingerprint index rather than scanning (origin, incident_id).
 */
static int stale_earlier(struct store *st, const struct index_options *io, long long id)
{
	sqlite3_stmt *stmt;
	int rc;

	if (io->hold_s <= 0)
		return 0;
	if (store_prepare(st, &stmt, "UPDATE memory SET last_event = -1 WHERE fingerprint ="
			  " (SELECT fingerprint FROM incidents WHERE id = ?1)"
			  " AND +origin = 'local' AND worked = 1 AND +incident_id < ?1"
			  " AND resolved_at >= (SELECT strftime('%Y-%m-%dT%H:%M:%SZ', opened_at,"
			  "  printf('-%lld seconds', ?2)) FROM incidents WHERE id = ?1)") < 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, io->hold_s);
	rc = sqlite3_step(stmt);
	store_done(st, stmt);
	return rc == SQLITE_DONE ? 0 : store_db_error(st, "cannot update the memory index");
}

/* Index a batch in one transaction: a crash loses the batch, never the truth. */
static int index_batch(struct store *st, const struct index_options *io,
		       const long long *ids, size_t nr, size_t *indexed)
{
	if (store_begin(st) < 0)
		return -1;
	for (size_t i = 0; i < nr; i++) {
		int r = index_incident(st, io, ids[i]);
		if (r < 0 || stale_earlier(st, io, ids[i]) < 0) {
			store_rollback(st);
			return -1;
		}
		*indexed += !r;
	}
	return store_commit(st);
}

/* Rows indexed in one run from which the FTS index is merged afterwards. */
#define OPTIMIZE_AFTER 5000

static int id_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

int memory_index(struct store *st, const struct config *cfg, int rebuild, size_t *indexed)
{
	struct index_options io;
	long long *first = NULL, *ids;
	size_t nfirst = 0, nr, again = 0, counted = 0;
	int ret = -1;

	*indexed = 0;
	if (index_options_read(&io, cfg) < 0)
		return -1;
	if (rebuild && store_exec(st, "INSERT INTO memory_fts(memory_fts) VALUES ('rebuild')") < 0)
		return -1;
	if (stale_ids(st, rebuild, &first, &nfirst) < 0)
		return -1;
	for (size_t at = 0; at < nfirst; at += 500)
		if (index_batch(st, &io, first + at, MIN((size_t)500, nfirst - at), indexed) < 0)
			goto out;
	/*
	 * Once more for the rows the first pass made stale (a fix that did
	 * not hold); those indexed a moment ago are not counted twice.
	 */
	if (nfirst) {
		if (stale_ids(st, 0, &ids, &nr) < 0)
			goto out;
		for (size_t i = 0; i < nr; i++)
			again += !bsearch(&ids[i], first, nfirst, sizeof(*first), id_cmp);
		if (index_batch(st, &io, ids, nr, &counted) < 0) {
			free(ids);
			goto out;
		}
		free(ids);
		*indexed += again;
	}
	/*
	 * Many rows written in batches leave the FTS index in many segments,
	 * and every search seeks in each: merged into one, a search over
	 * 100,000 incidents took half the time (bench/bench-memory.c). Not
	 * for the few rows of a cron run: it rewrites the whole index.
	 */
	if ((rebuild || nfirst >= OPTIMIZE_AFTER) &&
	    store_exec(st, "INSERT INTO memory_fts(memory_fts) VALUES ('optimize')") < 0)
		goto out;
	ret = known_auto(st, io.known_after);
out:
	free(first);
	return ret;
}

/* Has the row of incident id seen its every event? 1, 0 (or no row), -1. */
static int row_current(struct store *st, long long id)
{
	sqlite3_stmt *stmt;
	int rc, current = 0;

	if (store_prepare(st, &stmt, "SELECT m.last_event >= coalesce((SELECT max(e.id) FROM events e"
			  " WHERE e.incident_id = ?1), 0) FROM memory m"
			  " WHERE m.origin = 'local' AND m.incident_id = ?1") < 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		current = sqlite3_column_int(stmt, 0);
	store_done(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(st, "cannot read the memory index");
	return current;
}

int memory_index_one(struct store *st, const struct config *cfg, long long id)
{
	struct index_options io;
	int r;

	/* Rewriting a current row would only add segments to the index. */
	r = row_current(st, id);
	if (r)
		return r < 0 ? -1 : 0;
	if (index_options_read(&io, cfg) < 0 || store_begin(st) < 0)
		return -1;
	r = index_incident(st, &io, id);
	if (r < 0 || (!r && stale_earlier(st, &io, id) < 0)) {
		store_rollback(st);
		return -1;
	}
	if (store_commit(st) < 0)
		return -1;
	return r;
}

/* ---- recall ---- */

/* bm25 weights of title, service, category, root_cause, resolution, comments, templates. */
/* own_score() writes them out in its SQL too: change both. */
static const double rank_weights[] = { 10.0, 2.0, 3.0, 5.0, 3.0, 1.0, 4.0 };

static const char *const fts_columns[] = {
	"title", "service", "category", "root cause", "resolution", "comments", "templates",
};

/*
 * Words that say nothing about a failure. Joined by OR, a query's "of"
 * and "the" would rank the incident with the longest root cause first.
 */
static const char *const stop_words[] = {
	"a", "after", "an", "and", "are", "as", "at", "be", "been", "before", "but", "by",
	"for", "from", "has", "have", "he", "in", "into", "is", "it", "its", "of", "on",
	"or", "she", "so", "than", "that", "the", "their", "then", "there", "they", "this",
	"to", "was", "we", "were", "what", "when", "which", "while", "will", "with",
};

static int stop_word(const char *w)
{
	for (size_t i = 0; i < sizeof(stop_words) / sizeof(*stop_words); i++)
		if (!strcmp(w, stop_words[i]))
			return 1;
	return 0;
}

/*
 * An FTS5 query from any text: its words (letters and digits, and every
 * byte of a multibyte character), each quoted, joined by OR, at most
 * MAX_QUERY_WORDS of them, no word twice and no stop word. Placeholders
 * of masked logs (<NUM>, <*>) are no words. Returns how many words.
 */
static int fts_query(struct strbuf *q, const char *text)
{
	struct strbuf word = STRBUF_INIT;
	int n = 0;

	for (const unsigned char *p = (const unsigned char *)text;; p++) {
		if (*p && (isalnum(*p) || *p >= 0x80)) {
			if (word.len < 64)
				strbuf_addch(&word, (char)tolower(*p));
			continue;
		}
		if ((word.len > 1 || (word.len == 1 && isdigit((unsigned char)word.buf[0]))) &&
		    !stop_word(word.buf)) {
			struct strbuf quoted = STRBUF_INIT;
			strbuf_addf(&quoted, "\"%s\"", word.buf);
			/* The words hold no quote, so the quoting is whole. */
			if (!strstr(q->buf ? q->buf : "", quoted.buf) && n < MAX_QUERY_WORDS) {
				if (n++)
					strbuf_addstr(q, " OR ");
				strbuf_add(q, quoted.buf, quoted.len);
			}
			strbuf_release(&quoted);
		}
		strbuf_reset(&word);
		if (!*p)
			break;
	}
	strbuf_release(&word);
	return n;
}

/* The words of masked templates without their placeholders (<NUM>, <*>). */
static void template_words(struct strbuf *out, const char *templates)
{
	for (const char *p = templates; p && *p;) {
		const char *lt = strchr(p, '<'), *gt = lt ? strchr(lt, '>') : NULL;
		if (!lt || !gt) {
			strbuf_addstr(out, p);
			break;
		}
		strbuf_add(out, p, (size_t)(lt - p));
		strbuf_addch(out, ' ');
		p = gt + 1;
	}
}

static void hit_release(struct memory_hit *h)
{
	free(h->origin);
	free(h->title);
	free(h->service);
	free(h->category);
	free(h->resolution);
	free(h->action);
	free(h->why);
	free(h->snippet);
}

void memory_hits_free(struct memory_hit *hits, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		hit_release(&hits[i]);
	free(hits);
}

/* A row of memory, as a hit (without score, why and snippet). */
struct mem_row {
	long long rowid;
	double text;             /* similar: the share of the text score, 0 when none */
	struct memory_hit hit;
	char *fingerprint;
	char *templates;
	time_t opened_at;
	int chaos;
};

static void mem_row_release(struct mem_row *r)
{
	hit_release(&r->hit);
	free(r->fingerprint);
	free(r->templates);
}

#define ROW_COLUMNS "id, incident_id, origin, title, service, category, resolution, action," \
	" worked, fingerprint, templates, opened_at, chaos"

static void row_read(sqlite3_stmt *stmt, struct mem_row *r)
{
	memset(r, 0, sizeof(*r));
	r->rowid = sqlite3_column_int64(stmt, 0);
	r->hit.id = sqlite3_column_int64(stmt, 1);
	r->hit.origin = column_dup(stmt, 2);
	r->hit.title = column_dup(stmt, 3);
	r->hit.service = column_dup(stmt, 4);
	r->hit.category = column_dup(stmt, 5);
	r->hit.resolution = column_dup(stmt, 6);
	r->hit.action = column_dup(stmt, 7);
	r->hit.worked = sqlite3_column_type(stmt, 8) == SQLITE_NULL ? -1 :
			sqlite3_column_int(stmt, 8) ? 1 : 0;
	r->fingerprint = column_dup(stmt, 9);
	r->templates = column_dup(stmt, 10);
	parse_iso8601((const char *)sqlite3_column_text(stmt, 11), &r->opened_at);
	r->chaos = sqlite3_column_int(stmt, 12);
}

/* Row rowid of the memory table: 0, 1 none, -1. */
static int row_get(struct store *st, long long rowid, struct mem_row *r)
{
	sqlite3_stmt *stmt;
	int rc;

	if (store_prepare(st, &stmt, "SELECT " ROW_COLUMNS " FROM memory WHERE id = ?1") < 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, rowid);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		row_read(stmt, r);
	store_done(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(st, "cannot read the memory index");
	return rc == SQLITE_ROW ? 0 : 1;
}

/*
 * Which columns of row rowid matched query, and the text around the best
 * match: "title, root cause; template: <template>". Highlights with
 * control bytes no stored text holds (the index keeps text, and text from
 * outside never carries them: redact and the store refuse them).
 */
static int match_why(struct store *st, const char *query, long long rowid,
		     struct strbuf *why, char **snippet)
{
	sqlite3_stmt *stmt;
	int rc;

	/* The snippet costs as much again: only search shows it. */
	if (store_prepare(st, &stmt, snippet ?
			  "SELECT highlight(memory_fts, 0, char(1), char(2)),"
			  " highlight(memory_fts, 1, char(1), char(2)), highlight(memory_fts, 2, char(1), char(2)),"
			  " highlight(memory_fts, 3, char(1), char(2)), highlight(memory_fts, 4, char(1), char(2)),"
			  " highlight(memory_fts, 5, char(1), char(2)), highlight(memory_fts, 6, char(1), char(2)),"
			  " snippet(memory_fts, -1, '[', ']', '...', 12)"
			  " FROM memory_fts WHERE memory_fts MATCH ?1 AND rowid = ?2" :
			  "SELECT highlight(memory_fts, 0, char(1), char(2)),"
			  " highlight(memory_fts, 1, char(1), char(2)), highlight(memory_fts, 2, char(1), char(2)),"
			  " highlight(memory_fts, 3, char(1), char(2)), highlight(memory_fts, 4, char(1), char(2)),"
			  " highlight(memory_fts, 5, char(1), char(2)), highlight(memory_fts, 6, char(1), char(2))"
			  " FROM memory_fts WHERE memory_fts MATCH ?1 AND rowid = ?2") < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, query, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, rowid);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		struct strbuf cols = STRBUF_INIT, tmpl = STRBUF_INIT;
		for (int c = 0; c < 7; c++) {
			const char *t = (const char *)sqlite3_column_text(stmt, c);
			if (!t || !strchr(t, 1))
				continue;
			if (c == 6) {
				/* The templates that matched, by name. */
				for (const char *line = t; *line;) {
					size_t len = strcspn(line, "\n");
					if (memchr(line, 1, len) && tmpl.len < 400) {
						strbuf_addstr(&tmpl, tmpl.len ? "; template: " : "template: ");
						for (size_t k = 0; k < len; k++)
							if (line[k] != 1 && line[k] != 2)
								strbuf_addch(&tmpl, line[k]);
					}
					line += len + (line[len] == '\n');
				}
				continue;
			}
			strbuf_addstr(&cols, cols.len ? ", " : "text: ");
			strbuf_addstr(&cols, fts_columns[c]);
		}
		if (cols.len) {
			strbuf_addstr(why, why->len ? "; " : "");
			strbuf_add(why, cols.buf, cols.len);
		}
		if (tmpl.len) {
			strbuf_addstr(why, why->len ? "; " : "");
			strbuf_add(why, tmpl.buf, tmpl.len);
		}
		if (snippet) {
			const char *s = (const char *)sqlite3_column_text(stmt, 7);
			struct strbuf one = STRBUF_INIT;
			/* One line: the snippet may span a comment's or the templates' lines. */
			for (; s && *s; s++)
				strbuf_addch(&one, *s == '\n' || *s == '\t' ? ' ' : *s);
			*snippet = strbuf_detach(&one, NULL);
		}
		strbuf_release(&cols);
		strbuf_release(&tmpl);
	}
	store_done(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(st, "cannot search the memory index (if it is corrupt, "
				      "'sre remember --rebuild' rebuilds it)");
	return 0;
}

struct scored {
	long long rowid;
	double text;             /* -bm25: higher is better */
};

/*
 * How much of a common query is ranked. bm25 scores every row a query
 * matches, and a word such as a service's name is in a quarter of them:
 * over 100,000 incidents a search took 63 ms at p50 and 280 ms at p99
 * (bench/bench-memory.c). So when a query matches more than RANK_RECENT
 * rows, the RANK_RECENT newest of them are ranked, and with them every
 * row holding one of its rare words (in RARE_ROWS rows or fewer), which
 * ranks high and must not be lost for being old. Below RANK_RECENT
 * matches the ranking is exact. Equal scores: the newest first. 1,000
 * rather than 2,000 halves the time of a long query (a pasted title:
 * p99 5 ms instead of 9 ms over 100,000 incidents); at a few incidents
 * a day, 1,000 matches of even a common word reach back months.
 */
#define RANK_RECENT 1000
#define RARE_ROWS 100
#define STR_(x) #x
#define STR(x) STR_(x)

/*
 * The score: FTS5's bm25 with rank_weights, computed by
 * sre_rank() below from document frequencies it is given. FTS5's own
 * bm25() counts the rows of every word of the query on each search, by
 * reading its whole doclist: 5 ms for a pasted title over 100,000
 * incidents, whatever else was saved. Here a word's rows are counted up
 * to DF_COUNTED, newest first; a word in more rows is given the share of
 * rows it holds among the newest (DF_COUNTED of them over how many rows
 * they span), an estimate within a few percent. Under DF_COUNTED the
 * scores are bm25()'s exactly.
 */
#define DF_COUNTED 1000

struct rank_args {
	int nphrase;                   /* the query's phrases, the first of the MATCH */
	double df[MAX_QUERY_WORDS];    /* rows holding each; below 0, minus their share */
};

struct rank_state {
	double avgdl;
	int n;
	double idf[MAX_QUERY_WORDS];
};

static void sre_rank(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
		     int nval, sqlite3_value **val)
{
	const struct rank_args *a = nval ? sqlite3_value_pointer(val[0], "sre_rank_args") : NULL;
	struct rank_state *rs;
	double freq[MAX_QUERY_WORDS] = { 0 }, score = 0, k1 = 1.2, b = 0.75;
	int ntok = 0, ninst = 0, rc;

	if (!a) {
		sqlite3_result_error(ctx, "sre_rank: no document frequencies", -1);
		return;
	}
	rs = api->xGetAuxdata(fts, 0);
	if (!rs) {
		sqlite3_int64 nrow = 0, total = 0;
		if (!(rs = sqlite3_malloc(sizeof(*rs)))) {
			sqlite3_result_error_nomem(ctx);
			return;
		}
		if ((rc = api->xRowCount(fts, &nrow)) != SQLITE_OK ||
		    (rc = api->xColumnTotalSize(fts, -1, &total)) != SQLITE_OK) {
			sqlite3_free(rs);
			sqlite3_result_error_code(ctx, rc);
			return;
		}
		rs->avgdl = nrow > 0 && total > 0 ? (double)total / (double)nrow : 1;
		rs->n = MIN(a->nphrase, api->xPhraseCount(fts));
		for (int i = 0; i < rs->n; i++) {
			double hit = a->df[i] >= 0 ? a->df[i] : -a->df[i] * (double)nrow;
			double idf = log(((double)nrow - hit + 0.5) / (hit + 0.5));
			rs->idf[i] = idf > 0 ? idf : 1e-6;
		}
		if ((rc = api->xSetAuxdata(fts, rs, sqlite3_free)) != SQLITE_OK) {
			sqlite3_result_error_code(ctx, rc);
			return;
		}
	}
	if ((rc = api->xInstCount(fts, &ninst)) != SQLITE_OK) {
		sqlite3_result_error_code(ctx, rc);
		return;
	}
	for (int i = 0; i < ninst; i++) {
		int ip, ic, io;
		if ((rc = api->xInst(fts, i, &ip, &ic, &io)) != SQLITE_OK) {
			sqlite3_result_error_code(ctx, rc);
			return;
		}
		if (ip >= 0 && ip < rs->n && ic >= 0 && (size_t)ic < ARRAY_SIZE(rank_weights))
			freq[ip] += rank_weights[ic];
	}
	if ((rc = api->xColumnSize(fts, -1, &ntok)) != SQLITE_OK) {
		sqlite3_result_error_code(ctx, rc);
		return;
	}
	for (int i = 0; i < rs->n; i++)
		score += rs->idf[i] * (freq[i] * (k1 + 1)) /
			 (freq[i] + k1 * (1 - b + b * (double)ntok / rs->avgdl));
	sqlite3_result_double(ctx, -score);
}

/* sre_rank() on this connection, once. */
static int rank_register(struct store *st)
{
	sqlite3_stmt *stmt;
	fts5_api *api = NULL;

	if (sqlite3_prepare_v2(st->db, "SELECT sre_rank(memory_fts) FROM memory_fts WHERE 0",
			       -1, &stmt, NULL) == SQLITE_OK) {
		sqlite3_finalize(stmt);
		return 0;
	}
	if (sqlite3_prepare_v2(st->db, "SELECT fts5(?1)", -1, &stmt, NULL) != SQLITE_OK)
		return store_db_error(st, "cannot rank with FTS5");
	sqlite3_bind_pointer(stmt, 1, (void *)&api, "fts5_api_ptr", NULL);
	sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (!api || api->iVersion < 2 ||
	    api->xCreateFunction(api, "sre_rank", NULL, sre_rank, NULL) != SQLITE_OK)
		return error("cannot rank with FTS5: this SQLite offers no ranking functions");
	return 0;
}

/*
 * The document frequency of each word of query (fts_query()'s), as
 * sre_rank() takes them, and its rare words joined by OR in *rare.
 */
static int doc_freqs(struct store *st, const char *query, struct rank_args *a, struct strbuf *rare)
{
	sqlite3_stmt *stmt;
	long long maxid = 0;
	int rc;

	a->nphrase = 0;
	if (store_prepare(st, &stmt, "SELECT max(id) FROM memory") < 0)
		return -1;
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		maxid = sqlite3_column_int64(stmt, 0);
	store_done(st, stmt);
	if (rc != SQLITE_ROW)
		return store_db_error(st, "cannot read the memory index");
	for (const char *p = query; *p && a->nphrase < MAX_QUERY_WORDS;) {
		const char *end = strstr(p, " OR ");
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *word = xstrndup(p, len);
		long long n = 0, oldest = 0;
		if (store_prepare(st, &stmt, "SELECT count(*), min(rowid) FROM (SELECT rowid FROM memory_fts"
				  " WHERE memory_fts MATCH ?1 ORDER BY rowid DESC LIMIT " STR(DF_COUNTED) ")") < 0) {
			free(word);
			return -1;
		}
		sqlite3_bind_text(stmt, 1, word, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			n = sqlite3_column_int64(stmt, 0);
			oldest = sqlite3_column_int64(stmt, 1);
		}
		store_done(st, stmt);
		if (rc != SQLITE_ROW) {
			free(word);
			return store_db_error(st, "cannot search the memory index (if it is corrupt, "
					      "'sre remember --rebuild' rebuilds it)");
		}
		if (n < DF_COUNTED || maxid < oldest)
			a->df[a->nphrase] = (double)n;
		else
			a->df[a->nphrase] = -(double)n / (double)(maxid - oldest + 1);
		if (n <= RARE_ROWS && n > 0 && a->df[a->nphrase] >= 0)
			strbuf_addf(rare, "%s%s", rare->len ? " OR " : "", word);
		a->nphrase++;
		free(word);
		p += len + (end ? 4 : 0);
	}
	return 0;
}

static int scored_cmp(const void *a, const void *b)
{
	const struct scored *x = a, *y = b;

	if (x->text != y->text)
		return x->text < y->text ? 1 : -1;
	return x->rowid < y->rowid ? 1 : x->rowid > y->rowid ? -1 : 0;
}

static int scored_rowid_cmp(const void *a, const void *b)
{
	const struct scored *x = a, *y = b;

	return x->rowid < y->rowid ? -1 : x->rowid > y->rowid;
}

/*
 * Run one statement of (rowid, score, chaos[, matches ranked]) with ?1
 * the FTS5 query, ?2 an int and ?3 sre_rank()'s arguments, and add its
 * rows, chaos left out unless asked for. *got counts the rows it
 * returned, *seen (when not NULL) the matches it ranked.
 */
static int rank_rows(struct store *st, const char *sql, const char *query, int arg,
		     struct rank_args *ra, int include_chaos, struct scored **out, size_t *nr,
		     size_t *alloc, int *got, long long *seen)
{
	sqlite3_stmt *stmt;
	int rc;

	*got = 0;
	if (store_prepare(st, &stmt, sql) < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, query, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 2, arg);
	sqlite3_bind_pointer(stmt, 3, ra, "sre_rank_args", NULL);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		(*got)++;
		if (seen)
			*seen = sqlite3_column_int64(stmt, 3);
		if (!include_chaos && sqlite3_column_int(stmt, 2))
			continue;
		ALLOC_GROW(*out, *nr + 1, *alloc);
		(*out)[*nr].rowid = sqlite3_column_int64(stmt, 0);
		(*out)[*nr].text = -sqlite3_column_double(stmt, 1);
		(*nr)++;
	}
	/* The pointer is ours only for this run of the statement. */
	sqlite3_bind_null(stmt, 3);
	store_done(st, stmt);
	if (rc != SQLITE_DONE)
		return store_db_error(st, "cannot search the memory index (if it is corrupt, "
				      "'sre remember --rebuild' rebuilds it)");
	return 0;
}

/*
 * The best n rows for an FTS5 query, with their text scores. Ranked
 * inside FTS5; only the best rows are joined to memory to leave chaos
 * out (joining every match read a row of memory per match). When chaos
 * rows crowd the best ones out, it asks again for more. The rows of the
 * rare words are read with "(query) AND (rare)", whose first phrases are
 * the query's, the only ones sre_rank() scores.
 */
static int fts_top(struct store *st, const char *query, int n, int include_chaos,
		   struct scored **out, size_t *nr)
{
	struct strbuf rare = STRBUF_INIT, both = STRBUF_INIT;
	struct rank_args ra;
	size_t alloc, kept;
	int limit = n + 8, got, got_rare;
	long long seen;

	*out = NULL;
	*nr = 0;
	if (rank_register(st) < 0 || doc_freqs(st, query, &ra, &rare) < 0)
		goto fail;
	strbuf_addf(&both, "(%s) AND (%s)", query, rare.buf);
again:
	*out = NULL;
	*nr = 0;
	alloc = 0;
	seen = 0;
	got_rare = 0;
	if (rank_rows(st, "SELECT f.rowid, f.r, m.chaos, f.seen FROM"
		      " (SELECT rowid, r, count(*) OVER () AS seen FROM"
		      "  (SELECT rowid, sre_rank(memory_fts, ?3) AS r FROM memory_fts"
		      "   WHERE memory_fts MATCH ?1 ORDER BY rowid DESC LIMIT " STR(RANK_RECENT) ")"
		      "  ORDER BY r LIMIT ?2) f"
		      " JOIN memory m ON m.id = f.rowid ORDER BY f.r",
		      query, limit, &ra, include_chaos, out, nr, &alloc, &got, &seen) < 0)
		goto fail;
	if (seen >= RANK_RECENT && rare.len &&
	    rank_rows(st, "SELECT f.rowid, f.r, m.chaos FROM"
		      " (SELECT rowid, sre_rank(memory_fts, ?3) AS r FROM memory_fts"
		      "  WHERE memory_fts MATCH ?1 ORDER BY r LIMIT ?2) f"
		      " JOIN memory m ON m.id = f.rowid ORDER BY f.r",
		      both.buf, limit, &ra, include_chaos, out, nr, &alloc, &got_rare, NULL) < 0)
		goto fail;
	/* Each row once (a rare row may be among the newest too), then best first. */
	if (*nr)
		qsort(*out, *nr, sizeof(**out), scored_rowid_cmp);
	kept = 0;
	for (size_t i = 0; i < *nr; i++) {
		if (kept && (*out)[kept - 1].rowid == (*out)[i].rowid)
			continue;
		(*out)[kept++] = (*out)[i];
	}
	*nr = kept;
	if (*nr)
		qsort(*out, *nr, sizeof(**out), scored_cmp);
	if (*nr < (size_t)n && (got == limit || got_rare == limit) && limit < INT_MAX / 8) {
		free(*out);
		limit *= 8;
		goto again;
	}
	if (*nr > (size_t)n)
		*nr = (size_t)n;
	strbuf_release(&rare);
	strbuf_release(&both);
	return 0;
fail:
	free(*out);
	*out = NULL;
	*nr = 0;
	strbuf_release(&rare);
	strbuf_release(&both);
	return -1;
}

int memory_search(struct store *st, const char *text, const struct memory_recall *r,
		  struct memory_hit **out, size_t *nr)
{
	struct strbuf q = STRBUF_INIT;
	struct scored *top;
	size_t ntop, n = 0;
	int ret = -1;

	*out = NULL;
	*nr = 0;
	if (!fts_query(&q, text)) {
		strbuf_release(&q);
		error("nothing to search for in '%s': give words", text);
		return 2;
	}
	if (fts_top(st, q.buf, r->max > 0 ? r->max : 10, r->include_chaos, &top, &ntop) < 0)
		goto out;
	*out = xcalloc(ntop ? ntop : 1, sizeof(**out));
	for (size_t i = 0; i < ntop; i++) {
		struct mem_row row;
		struct strbuf why = STRBUF_INIT;
		int g = row_get(st, top[i].rowid, &row);
		if (g < 0 || (!g && match_why(st, q.buf, top[i].rowid, &why, &row.hit.snippet) < 0)) {
			if (!g)
				mem_row_release(&row);
			strbuf_release(&why);
			memory_hits_free(*out, n);
			*out = NULL;
			free(top);
			goto out;
		}
		if (g)
			continue;
		row.hit.score = top[i].text;
		row.hit.why = strbuf_detach(&why, NULL);
		(*out)[n++] = row.hit;
		row.hit = (struct memory_hit){ 0 };
		mem_row_release(&row);
	}
	*nr = n;
	free(top);
	ret = 0;
out:
	strbuf_release(&q);
	return ret;
}

/* The share of templates two rows have in common (Jaccard), and how many. */
static double templates_overlap(const char *a, const char *b, int *shared)
{
	int na = 0, nb = 0, both = 0;

	*shared = 0;
	if (!a || !b || !*a || !*b)
		return 0;
	for (const char *p = a; *p;) {
		size_t len = strcspn(p, "\n");
		na++;
		for (const char *q = b; *q;) {
			size_t lq = strcspn(q, "\n");
			if (lq == len && !memcmp(p, q, len)) {
				both++;
				break;
			}
			q += lq + (q[lq] == '\n');
		}
		p += len + (p[len] == '\n');
	}
	for (const char *q = b; *q;) {
		size_t lq = strcspn(q, "\n");
		nb++;
		q += lq + (q[lq] == '\n');
	}
	*shared = both;
	return na + nb - both ? (double)both / (na + nb - both) : 0;
}

/* The local row of incident id, indexed first so it is current: 0, 1 none, -1. */
static int local_row(struct store *st, const struct config *cfg, long long id,
		     struct mem_row *r)
{
	sqlite3_stmt *stmt;
	int rc = memory_index_one(st, cfg, id);

	if (rc)
		return rc;
	if (store_prepare(st, &stmt, "SELECT " ROW_COLUMNS " FROM memory"
			  " WHERE origin = 'local' AND incident_id = ?1") < 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		row_read(stmt, r);
	store_done(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(st, "cannot read the memory index");
	return rc == SQLITE_ROW ? 0 : 1;
}

/* Add the rows a query names to the candidates (no duplicates), text score 0. */
static int add_candidates(struct store *st, const char *sql, const char *arg,
			  struct scored **c, size_t *nr, size_t *alloc)
{
	sqlite3_stmt *stmt;
	int rc;

	if (store_prepare(st, &stmt, sql) < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, arg, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		long long rowid = sqlite3_column_int64(stmt, 0);
		size_t i;
		for (i = 0; i < *nr && (*c)[i].rowid != rowid; i++)
			;
		if (i < *nr)
			continue;
		ALLOC_GROW(*c, *nr + 1, *alloc);
		(*c)[*nr].rowid = rowid;
		(*c)[*nr].text = 0;
		(*nr)++;
	}
	store_done(st, stmt);
	return rc == SQLITE_DONE ? 0 : store_db_error(st, "cannot read the memory index");
}

static int hit_cmp(const void *a, const void *b)
{
	const struct mem_row *x = a, *y = b;

	if (x->hit.score != y->hit.score)
		return x->hit.score < y->hit.score ? 1 : -1;
	return x->opened_at < y->opened_at ? 1 : x->opened_at > y->opened_at ? -1 : 0;
}

/*
 * The text score of the incident's own row when ranking left it out (an
 * old incident, past the newest matches of a common query): FTS5's own
 * bm25 with rank_weights, which sre_rank() estimates. 0 when it matches
 * nothing.
 */
static int own_score(struct store *st, const char *query, long long rowid, double *out)
{
	sqlite3_stmt *stmt;
	int rc;

	*out = 0;
	if (store_prepare(st, &stmt, "SELECT -bm25(memory_fts, 10.0, 2.0, 3.0, 5.0, 3.0, 1.0, 4.0)"
			  " FROM memory_fts WHERE memory_fts MATCH ?1 AND rowid = ?2") < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, query, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, rowid);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_double(stmt, 0);
	store_done(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(st, "cannot search the memory index (if it is corrupt, "
				      "'sre remember --rebuild' rebuilds it)");
	return 0;
}

/* Below this a candidate shares too little to be called similar (a service alone is 1). */
#define SIMILAR_MIN 1.5

int memory_similar(struct store *st, const struct config *cfg, long long id,
		   const struct memory_recall *r, struct memory_hit **out, size_t *nr)
{
	struct mem_row self, *rows = NULL;
	struct strbuf text = STRBUF_INIT, q = STRBUF_INIT;
	struct scored *cand = NULL;
	size_t ncand = 0, alloc, nrows = 0;
	double best_text = 0;
	int g, ret = -1, max = r->max > 0 ? r->max : 5;

	*out = NULL;
	*nr = 0;
	g = local_row(st, cfg, id, &self);
	if (g)
		return g;
	if (r->templates) {
		free(self.templates);
		self.templates = xstrdup(r->templates);
	}
	strbuf_addstr(&text, self.hit.title);
	if (self.hit.category)
		strbuf_addf(&text, " %s", self.hit.category);
	template_words(&text, self.templates);
	if (fts_query(&q, text.buf) && fts_top(st, q.buf, 50, r->include_chaos, &cand, &ncand) < 0)
		goto out;
	alloc = ncand;
	/*
	 * Text counts against the incident's own match, the most its words
	 * can score: an incident sharing one common word scores little,
	 * however alone it is. (Against the best other match it would take
	 * the full share for being the only one.)
	 */
	for (size_t i = 0; i < ncand; i++)
		if (cand[i].rowid == self.rowid)
			best_text = cand[i].text;
	if (!best_text && ncand && own_score(st, q.buf, self.rowid, &best_text) < 0)
		goto out;
	for (size_t i = 0; !best_text && i < ncand; i++)
		if (cand[i].text > best_text)
			best_text = cand[i].text;
	if (add_candidates(st, "SELECT id FROM memory WHERE fingerprint = ?1"
			   " ORDER BY opened_at DESC LIMIT 50", self.fingerprint, &cand, &ncand, &alloc) < 0 ||
	    add_candidates(st, "SELECT id FROM memory WHERE service = ?1"
			   " ORDER BY opened_at DESC LIMIT 50", self.hit.service, &cand, &ncand, &alloc) < 0)
		goto out;
	rows = xcalloc(ncand ? ncand : 1, sizeof(*rows));
	for (size_t i = 0; i < ncand; i++) {
		struct mem_row *row = &rows[nrows];
		struct strbuf why = STRBUF_INIT;
		double score = 0;
		int shared;
		double overlap;

		if (cand[i].rowid == self.rowid)
			continue;
		g = row_get(st, cand[i].rowid, row);
		if (g < 0)
			goto out;
		if (g)
			continue;
		if (row->chaos && !r->include_chaos) {
			mem_row_release(row);
			continue;
		}
		row->hit.same_fingerprint = !strcmp(row->fingerprint, self.fingerprint);
		if (row->hit.same_fingerprint) {
			score += 4;
			strbuf_addstr(&why, "same fingerprint");
		} else if (!strcmp(row->hit.service, self.hit.service)) {
			score += 1;
			strbuf_addstr(&why, "same service");
		}
		if (row->hit.category && self.hit.category &&
		    !strcmp(row->hit.category, self.hit.category) && strcmp(row->hit.category, "unknown")) {
			score += 1;
			strbuf_addf(&why, "%ssame category (%s)", why.len ? "; " : "", row->hit.category);
		}
		overlap = templates_overlap(self.templates, row->templates, &shared);
		/* Logs not read on one side: the fingerprint alone decides. */
		row->hit.template_overlap = !self.templates || !*self.templates ||
					    !row->templates || !*row->templates ? 1 : overlap;
		if (shared) {
			score += 3 * overlap;
			strbuf_addf(&why, "%s%d log template%s in common", why.len ? "; " : "",
				    shared, shared == 1 ? "" : "s");
		}
		if (cand[i].text > 0 && best_text > 0) {
			row->text = MIN(1.0, cand[i].text / best_text);
			score += 2 * row->text;
		}
		if (score < SIMILAR_MIN) {
			strbuf_release(&why);
			mem_row_release(row);
			continue;
		}
		row->hit.score = round(score * 1000) / 1000;
		row->hit.why = strbuf_detach(&why, NULL);
		nrows++;
	}
	qsort(rows, nrows, sizeof(*rows), hit_cmp);
	/* Which words matched where: read for the rows shown only. */
	for (size_t i = 0; i < nrows && i < (size_t)max; i++) {
		struct strbuf why = STRBUF_INIT;
		if (!rows[i].text)
			continue;
		strbuf_addstr(&why, rows[i].hit.why);
		if (match_why(st, q.buf, rows[i].rowid, &why, NULL) < 0) {
			strbuf_release(&why);
			goto out;
		}
		free(rows[i].hit.why);
		rows[i].hit.why = strbuf_detach(&why, NULL);
	}
	*out = xcalloc(nrows ? nrows : 1, sizeof(**out));
	for (size_t i = 0; i < nrows; i++) {
		if (i < (size_t)max) {
			(*out)[i] = rows[i].hit;
			rows[i].hit = (struct memory_hit){ 0 };
		}
		mem_row_release(&rows[i]);
	}
	*nr = MIN(nrows, (size_t)max);
	nrows = 0;
	ret = 0;
out:
	for (size_t i = 0; i < nrows; i++)
		mem_row_release(&rows[i]);
	free(rows);
	free(cand);
	mem_row_release(&self);
	strbuf_release(&text);
	strbuf_release(&q);
	return ret;
}

/* ---- known errors ---- */

void known_error_release(struct known_error *k)
{
	free(k->fingerprint);
	free(k->templates);
	free(k->action);
	free(k->target);
	free(k->runbook);
	free(k->origin);
	free(k->added_by);
	memset(k, 0, sizeof(*k));
}

void known_errors_free(struct known_error *k, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		known_error_release(&k[i]);
	free(k);
}

int memory_known_add(struct store *st, const struct config *cfg, long long id,
		     const char *runbook, const char *actor)
{
	struct mem_row row;
	sqlite3_stmt *stmt;
	char now[32];
	int rc, g = local_row(st, cfg, id, &row);

	if (g)
		return g;
	if (!row.hit.action) {
		mem_row_release(&row);
		return error("incident %lld has no action to remember as its fix", id), 2;
	}
	if (row.hit.worked == 0) {
		error("the %s of incident %lld did not work: a known error needs a fix that did",
		      row.hit.action, id);
		mem_row_release(&row);
		return 2;
	}
	format_iso8601(now, sizeof(now), sre_now());
	if (store_prepare(st, &stmt,
		"INSERT INTO known_errors(fingerprint, templates, action, target, runbook, origin,"
		" incident_id, added_by, added_at)"
		" SELECT fingerprint, templates, action, target, ?2, 'local', incident_id, ?3, ?4"
		" FROM memory WHERE id = ?1"
		" ON CONFLICT(fingerprint, action) DO UPDATE SET templates = excluded.templates,"
		" target = excluded.target, runbook = coalesce(excluded.runbook, known_errors.runbook),"
		" incident_id = excluded.incident_id, added_by = excluded.added_by,"
		" added_at = excluded.added_at") < 0) {
		mem_row_release(&row);
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, row.rowid);
	bind_text_or_null(stmt, 2, runbook);
	sqlite3_bind_text(stmt, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	store_done(st, stmt);
	mem_row_release(&row);
	return rc == SQLITE_DONE ? 0 : store_db_error(st, "cannot record a known error");
}

static void known_read(sqlite3_stmt *stmt, struct known_error *k)
{
	k->id = sqlite3_column_int64(stmt, 0);
	k->fingerprint = column_dup(stmt, 1);
	k->templates = column_dup(stmt, 2);
	k->action = column_dup(stmt, 3);
	k->target = column_dup(stmt, 4);
	k->runbook = column_dup(stmt, 5);
	k->origin = column_dup(stmt, 6);
	k->incident_id = sqlite3_column_int64(stmt, 7);
	k->added_by = column_dup(stmt, 8);
	parse_iso8601((const char *)sqlite3_column_text(stmt, 9), &k->added_at);
}

#define KNOWN_COLUMNS "id, fingerprint, templates, action, target, runbook, origin," \
	" incident_id, added_by, added_at"

int memory_known_list(struct store *st, struct known_error **out, size_t *nr)
{
	sqlite3_stmt *stmt;
	size_t alloc = 0;
	int rc;

	*out = NULL;
	*nr = 0;
	if (store_prepare(st, &stmt, "SELECT " KNOWN_COLUMNS " FROM known_errors ORDER BY id") < 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		ALLOC_GROW(*out, *nr + 1, alloc);
		memset(&(*out)[*nr], 0, sizeof(**out));
		known_read(stmt, &(*out)[(*nr)++]);
	}
	store_done(st, stmt);
	if (rc != SQLITE_DONE) {
		known_errors_free(*out, *nr);
		*out = NULL;
		*nr = 0;
		return store_db_error(st, "cannot read the known errors");
	}
	return 0;
}

/*
 * A known error matches an incident of its fingerprint whose logs show at
 * least half of its templates; one recorded without templates, or an
 * incident whose logs were not read, matches on the fingerprint alone.
 */
int memory_known_match(struct store *st, const struct config *cfg, long long id,
		       struct known_error *out)
{
	struct mem_row row;
	sqlite3_stmt *stmt;
	int rc, found = 0, g = local_row(st, cfg, id, &row);

	if (g)
		return g;
	memset(out, 0, sizeof(*out));
	if (store_prepare(st, &stmt, "SELECT " KNOWN_COLUMNS " FROM known_errors"
			  " WHERE fingerprint = ?1 ORDER BY added_at DESC, id DESC") < 0) {
		mem_row_release(&row);
		return -1;
	}
	sqlite3_bind_text(stmt, 1, row.fingerprint, -1, SQLITE_STATIC);
	while (!found && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(stmt, 2);
		int shared = 0, want = 0;
		if (t && *t && row.templates && *row.templates) {
			templates_overlap(t, t, &want);
			templates_overlap(t, row.templates, &shared);
			if (2 * shared < want)
				continue;
		}
		known_read(stmt, out);
		found = 1;
	}
	if (found)
		rc = SQLITE_DONE;
	store_done(st, stmt);
	mem_row_release(&row);
	if (rc != SQLITE_DONE)
		return store_db_error(st, "cannot read the known errors");
	return found ? 0 : 1;
}

/* ---- chronic problems ---- */

void chronic_free(struct chronic *c, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(c[i].kind);
		free(c[i].key);
		free(c[i].service);
		free(c[i].ids);
		free(c[i].fixes);
	}
	free(c);
}

/* The most rows of the window read for chronic templates. */
#define CHRONIC_SCAN 5000

struct fix_tally {
	char *action;            /* NULL: nothing was tried */
	int times, worked, failed;
};

static void tally_add(struct fix_tally **t, size_t *nr, size_t *alloc, const char *action,
		      int worked)
{
	size_t i;

	for (i = 0; i < *nr; i++)
		if ((!action && !(*t)[i].action) ||
		    (action && (*t)[i].action && !strcmp(action, (*t)[i].action)))
			break;
	if (i == *nr) {
		ALLOC_GROW(*t, *nr + 1, *alloc);
		(*t)[i] = (struct fix_tally){ .action = action ? xstrdup(action) : NULL };
		(*nr)++;
	}
	(*t)[i].times++;
	(*t)[i].worked += worked == 1;
	(*t)[i].failed += worked == 0;
}

/* "restart 3 times (2 worked, 1 failed); nothing tried 1 time" */
static char *tally_text(struct fix_tally *t, size_t nr)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < nr; i++) {
		strbuf_addf(&sb, "%s%s %d time%s", i ? "; " : "",
			    t[i].action ? t[i].action : "nothing tried", t[i].times,
			    t[i].times == 1 ? "" : "s");
		if (t[i].action)
			strbuf_addf(&sb, " (%d worked, %d failed)", t[i].worked, t[i].failed);
		free(t[i].action);
	}
	free(t);
	return strbuf_detach(&sb, NULL);
}

struct window_row {
	long long id;
	char *fingerprint, *service, *templates, *action;
	int worked;
	time_t opened_at;
};

static int window_rows(struct store *st, const char *since, struct window_row **out, size_t *nr)
{
	sqlite3_stmt *stmt;
	size_t alloc = 0;
	int rc;

	*out = NULL;
	*nr = 0;
	if (store_prepare(st, &stmt, "SELECT incident_id, fingerprint, service, templates, action,"
			  " worked, opened_at FROM memory WHERE origin = 'local' AND chaos = 0"
			  " AND opened_at >= ?1 ORDER BY opened_at DESC LIMIT ?2") < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, since, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 2, CHRONIC_SCAN);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct window_row *w;
		ALLOC_GROW(*out, *nr + 1, alloc);
		w = &(*out)[(*nr)++];
		w->id = sqlite3_column_int64(stmt, 0);
		w->fingerprint = column_dup(stmt, 1);
		w->service = column_dup(stmt, 2);
		w->templates = column_dup(stmt, 3);
		w->action = column_dup(stmt, 4);
		w->worked = sqlite3_column_type(stmt, 5) == SQLITE_NULL ? -1 : sqlite3_column_int(stmt, 5);
		w->opened_at = 0;
		parse_iso8601((const char *)sqlite3_column_text(stmt, 6), &w->opened_at);
	}
	store_done(st, stmt);
	return rc == SQLITE_DONE ? 0 : store_db_error(st, "cannot read the memory index");
}

static void window_rows_free(struct window_row *w, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(w[i].fingerprint);
		free(w[i].service);
		free(w[i].templates);
		free(w[i].action);
	}
	free(w);
}

/*
 * One chronic entry from the rows (newest first) that match: by
 * fingerprint, or holding a template. A template is chronic when it
 * spans more than one fingerprint (else the fingerprint says it already).
 */
static int chronic_collect(struct chronic *c, const struct window_row *w, size_t nr,
			   const char *fingerprint, const char *tmpl, size_t tlen, long long after)
{
	struct fix_tally *t = NULL;
	size_t nt = 0, talloc = 0, n = 0;
	const char *first_fp = NULL;
	int fps = 0;

	memset(c, 0, sizeof(*c));
	c->ids = xcalloc(nr, sizeof(*c->ids));
	for (size_t i = nr; i-- > 0;) {
		int in = 0;
		if (fingerprint) {
			in = !strcmp(w[i].fingerprint, fingerprint);
		} else if (w[i].templates) {
			for (const char *p = w[i].templates; *p && !in;) {
				size_t len = strcspn(p, "\n");
				in = len == tlen && !memcmp(p, tmpl, tlen);
				p += len + (p[len] == '\n');
			}
		}
		if (!in)
			continue;
		if (!first_fp)
			first_fp = w[i].fingerprint, fps = 1;
		else if (strcmp(first_fp, w[i].fingerprint))
			fps = 2;
		if (!c->service)
			c->service = xstrdup(w[i].service);
		c->ids[n++] = w[i].id;
		c->first = c->first ? c->first : w[i].opened_at;
		c->last = w[i].opened_at;
		tally_add(&t, &nt, &talloc, w[i].action, w[i].worked);
	}
	c->nr_ids = n;
	c->occurrences = (long long)n;
	c->fixes = tally_text(t, nt);
	if ((long long)n < after || (!fingerprint && fps < 2)) {
		free(c->service);
		free(c->ids);
		free(c->fixes);
		memset(c, 0, sizeof(*c));
		return 0;
	}
	c->kind = xstrdup(fingerprint ? "fingerprint" : "template");
	c->key = fingerprint ? xstrdup(fingerprint) : xstrndup(tmpl, tlen);
	return 1;
}

struct tmpl_ref {
	const char *text;
	size_t len;
	size_t row;
};

static int tmpl_ref_cmp(const void *a, const void *b)
{
	const struct tmpl_ref *x = a, *y = b;
	int c = memcmp(x->text, y->text, MIN(x->len, y->len));

	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Templates in after or more incidents of two fingerprints or more: sorted, then grouped. */
static int chronic_templates(const struct window_row *w, size_t nw, long long after,
			     struct chronic **out, size_t *nr, size_t *alloc)
{
	struct tmpl_ref *refs = NULL;
	size_t nrefs = 0, ralloc = 0;

	for (size_t i = 0; i < nw; i++)
		for (const char *p = w[i].templates; p && *p;) {
			size_t len = strcspn(p, "\n");
			ALLOC_GROW(refs, nrefs + 1, ralloc);
			refs[nrefs++] = (struct tmpl_ref){ p, len, i };
			p += len + (p[len] == '\n');
		}
	if (nrefs)
		qsort(refs, nrefs, sizeof(*refs), tmpl_ref_cmp);
	for (size_t i = 0, j; i < nrefs; i = j) {
		struct chronic c;
		for (j = i + 1; j < nrefs && !tmpl_ref_cmp(&refs[i], &refs[j]); j++)
			;
		if ((long long)(j - i) < after ||
		    !chronic_collect(&c, w, nw, NULL, refs[i].text, refs[i].len, after))
			continue;
		ALLOC_GROW(*out, *nr + 1, *alloc);
		(*out)[(*nr)++] = c;
	}
	free(refs);
	return 0;
}

int memory_chronic(struct store *st, const struct config *cfg, struct chronic **out, size_t *nr)
{
	long long after = 3;
	int64_t window_ms = 7LL * 86400 * 1000;

	*out = NULL;
	*nr = 0;
	if (cfg && (config_get_int(cfg, "remember.chronic-after", &after) < 0 ||
		    config_get_duration_ms(cfg, "remember.chronic-window", &window_ms) < 0))
		return -1;
	if (after < 2 || after > 10000)
		return error("remember.chronic-after takes a number from 2 to 10000, not %lld", after);
	return memory_chronic_within(st, after, window_ms, out, nr);
}

int memory_chronic_within(struct store *st, long long after, int64_t window_ms,
			  struct chronic **out, size_t *nr)
{
	struct window_row *w;
	size_t nw, alloc = 0;
	char since[32];

	*out = NULL;
	*nr = 0;
	format_iso8601(since, sizeof(since), sre_now() - (time_t)(window_ms / 1000));
	if (window_rows(st, since, &w, &nw) < 0)
		return -1;
	for (size_t i = 0; i < nw; i++) {
		struct chronic c;
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(w[j].fingerprint, w[i].fingerprint);
		if (seen || !chronic_collect(&c, w, nw, w[i].fingerprint, NULL, 0, after))
			continue;
		ALLOC_GROW(*out, *nr + 1, alloc);
		(*out)[(*nr)++] = c;
	}
	if (chronic_templates(w, nw, after, out, nr, &alloc) < 0) {
		window_rows_free(w, nw);
		return -1;
	}
	window_rows_free(w, nw);
	return 0;
}

/* ---- what sre remember push has pushed, and committed ---- */

static int shared_get(struct store *st, long long id, const char *sql)
{
	sqlite3_stmt *stmt;
	int rc, ret;

	if (store_prepare(st, &stmt, sql) < 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	ret = rc == SQLITE_ROW;
	store_done(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(st, "cannot read what sre remember pushed");
	return ret;
}

static int shared_mark(struct store *st, long long id, time_t when, const char *sql)
{
	char at[32];
	sqlite3_stmt *stmt;
	int rc;

	format_iso8601(at, sizeof(at), when);
	if (store_prepare(st, &stmt, sql) < 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_text(stmt, 2, at, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	store_done(st, stmt);
	return rc == SQLITE_DONE ? 0 : store_db_error(st, "cannot mark an incident pushed");
}

int memory_pushed(struct store *st, long long id)
{
	return shared_get(st, id, "SELECT 1 FROM memory WHERE origin = 'local'"
			  " AND incident_id = ?1 AND pushed_at IS NOT NULL");
}

int memory_mark_pushed(struct store *st, long long id, time_t when)
{
	return shared_mark(st, id, when, "UPDATE memory SET pushed_at = ?2, committed_at = ?2"
			   " WHERE origin = 'local' AND incident_id = ?1");
}

int memory_committed(struct store *st, long long id)
{
	return shared_get(st, id, "SELECT 1 FROM memory WHERE origin = 'local'"
			  " AND incident_id = ?1 AND committed_at IS NOT NULL");
}

int memory_mark_committed(struct store *st, long long id, time_t when)
{
	return shared_mark(st, id, when, "UPDATE memory SET committed_at = ?2"
			   " WHERE origin = 'local' AND incident_id = ?1");
}

/* ---- records shared between hosts ---- */

/* The format of a pushed record; a newer one is refused by older builds. */
#define RECORD_VERSION 1

int memory_record(struct store *st, long long id, cJSON **out)
{
	struct incident inc;
	struct event *ev;
	size_t nev;
	struct mem_row row;
	cJSON *o;
	char *diag = NULL, *origin;
	int r;

	*out = NULL;
	r = local_row(st, NULL, id, &row);
	if (r)
		return r;
	if ((r = store_incident_get(st, id, &inc))) {
		mem_row_release(&row);
		return r;
	}
	if (store_event_list(st, id, &ev, &nev) < 0 || store_diagnosis_latest(st, id, &diag) < 0 ||
	    !(origin = memory_origin(st))) {
		free(diag);
		incident_release(&inc);
		mem_row_release(&row);
		return -1;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "sre_record", RECORD_VERSION);
	cJSON_AddStringToObject(o, "origin", origin);
	cJSON *inc_json = incident_to_json(&inc);
	for (cJSON *f = inc_json->child; f; f = f->next)
		cJSON_AddItemToObject(o, f->string, cJSON_Duplicate(f, 1));
	cJSON_Delete(inc_json);
	incident_add_events_json(o, ev, nev);
	{
		cJSON *d = diag ? cJSON_Parse(diag) : NULL;
		cJSON_AddItemToObject(o, "diagnosis", d ? d : cJSON_CreateNull());
	}
	{
		struct diag_cols d;
		if (diagnosis_read(st, id, &d) == 0) {
			json_add_string_or_null(o, "root_cause", d.root_cause);
			diag_cols_release(&d);
		} else {
			cJSON_AddNullToObject(o, "root_cause");
		}
	}
	json_add_string_or_null(o, "action", row.hit.action);
	if (row.hit.worked < 0)
		cJSON_AddNullToObject(o, "worked");
	else
		cJSON_AddBoolToObject(o, "worked", row.hit.worked);
	json_add_string_or_null(o, "resolution", row.hit.resolution);
	json_add_lines(o, "templates", row.templates);
	cJSON_AddBoolToObject(o, "chaos", row.chaos);
	/* Nothing leaves this host that the redactor would mask. */
	redact_json(o);
	*out = o;
	free(origin);
	free(diag);
	event_list_free(ev, nev);
	incident_release(&inc);
	mem_row_release(&row);
	return 0;
}

/* An origin is one path component: [a-z0-9-], 1 to 100 bytes. */
static int origin_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!(islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) || s[n] == '-'))
			return 0;
	return n > 0 && n <= 100 && strcmp(s, "local");
}

/* A text field of a record: NULL or absent when optional, else checked. */
static int record_text(const cJSON *rec, const char *key, size_t max, int multiline,
		       int required, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v)) {
		if (required)
			return error("the record has no \"%s\"", key);
		return 0;
	}
	if (!cJSON_IsString(v))
		return error("the record's \"%s\" is not a string", key);
	if (incident_check_text(key, v->valuestring, max, multiline) < 0)
		return -1;
	*out = v->valuestring;
	return 0;
}

static int record_time(const cJSON *rec, const char *key, int required, time_t *out)
{
	const char *s;

	*out = 0;
	if (record_text(rec, key, 40, 0, required, &s) < 0)
		return -1;
	if (s && parse_iso8601(s, out) < 0)
		return error("the record's \"%s\" is not an ISO 8601 UTC time: %s", key, s);
	return 0;
}

/* Is the row from origin as the record says already? 1 yes, 0 no, -1. */
static int import_unchanged(struct store *st, const struct mem_fields *f)
{
	sqlite3_stmt *stmt;
	int rc, same = 0;

	if (store_prepare(st, &stmt, "SELECT 1 FROM memory WHERE origin = ?1 AND incident_id = ?2"
			  " AND updated_at = ?3 AND state = ?4 AND resolution IS ?5 AND worked IS ?6") < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, f->origin, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, f->incident_id);
	sqlite3_bind_text(stmt, 3, f->updated_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, f->state, -1, SQLITE_STATIC);
	bind_text_or_null(stmt, 5, f->resolution);
	if (f->worked < 0)
		sqlite3_bind_null(stmt, 6);
	else
		sqlite3_bind_int(stmt, 6, f->worked);
	rc = sqlite3_step(stmt);
	same = rc == SQLITE_ROW;
	store_done(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(st, "cannot read the memory index");
	return same;
}

int memory_import(struct store *st, const char *origin, const cJSON *rec)
{
	struct mem_fields f = { .origin = origin, .worked = -1 };
	const char *severity, *state;
	enum incident_severity sev;
	enum incident_state stt;
	time_t opened, resolved, updated;
	char opened_s[32], resolved_s[32], updated_s[32], *mine;
	const cJSON *v, *t;
	struct strbuf templates = STRBUF_INIT;
	char *title = NULL, *root_cause = NULL, *resolution = NULL;
	int r = -1, n = 0;

	if (!origin_valid(origin))
		return error("'%s' is not a host's name in the shared memory", origin);
	if (!(mine = memory_origin(st)))
		return -1;
	r = !strcmp(mine, origin);
	free(mine);
	if (r)
		return error("the record claims to be from this store (%s)", origin);
	r = -1;
	if (!cJSON_IsObject(rec))
		return error("the record is not a JSON object");
	if (json_ll(rec, "sre_record", 1, RECORD_VERSION, &f.incident_id) < 0)
		return error("the record is not an sre record of version %d or older", RECORD_VERSION);
	if ((v = cJSON_GetObjectItemCaseSensitive(rec, "origin")) &&
	    (!cJSON_IsString(v) || strcmp(v->valuestring, origin)))
		return error("the record says it is from another host than its directory (%s)", origin);
	if (json_ll(rec, "id", 1, 9007199254740991LL, &f.incident_id) < 0)
		return error("the record's \"id\" is not a positive whole number");
	if (record_text(rec, "fingerprint", 500, 0, 1, &f.fingerprint) < 0 ||
	    record_text(rec, "service", 200, 0, 1, &f.service) < 0 ||
	    record_text(rec, "title", 1000, 0, 1, &f.title) < 0 ||
	    record_text(rec, "source", 100, 0, 1, &f.source) < 0 ||
	    record_text(rec, "category", 100, 0, 0, &f.category) < 0 ||
	    record_text(rec, "severity", 20, 0, 1, &severity) < 0 ||
	    record_text(rec, "state", 40, 0, 1, &state) < 0 ||
	    record_text(rec, "root_cause", MAX_FIELD, 1, 0, &f.root_cause) < 0 ||
	    record_text(rec, "action", 100, 0, 0, &f.action) < 0 ||
	    record_text(rec, "target", 200, 0, 0, &f.target) < 0 ||
	    record_text(rec, "resolution", MAX_FIELD + 200, 1, 0, &f.resolution) < 0 ||
	    record_time(rec, "opened_at", 1, &opened) < 0 ||
	    record_time(rec, "updated_at", 1, &updated) < 0 ||
	    record_time(rec, "resolved_at", 0, &resolved) < 0)
		return -1;
	if (incident_severity_parse(severity, &sev) < 0 || incident_state_parse(state, &stt) < 0)
		return error("the record's severity or state is not one sre knows");
	v = cJSON_GetObjectItemCaseSensitive(rec, "worked");
	if (v && !cJSON_IsNull(v) && !cJSON_IsBool(v))
		return error("the record's \"worked\" is not true, false or null");
	if (cJSON_IsBool(v) && f.action)
		f.worked = cJSON_IsTrue(v);
	v = cJSON_GetObjectItemCaseSensitive(rec, "templates");
	if (v && !cJSON_IsNull(v) && !cJSON_IsArray(v))
		return error("the record's \"templates\" is not a list");
	cJSON_ArrayForEach(t, v) {
		if (!cJSON_IsString(t) || incident_check_text("a template", t->valuestring, 1000, 0) < 0)
			goto out;
		if (n++ >= MAX_TEMPLATES)
			break;
		if (templates.len)
			strbuf_addch(&templates, '\n');
		strbuf_addstr(&templates, t->valuestring);
	}
	f.chaos = json_bool(rec, "chaos") == 1;
	format_iso8601(opened_s, sizeof(opened_s), opened);
	format_iso8601(updated_s, sizeof(updated_s), updated);
	if (resolved)
		format_iso8601(resolved_s, sizeof(resolved_s), resolved);
	/* Masked again here: another host's redactor may know fewer shapes. */
	f.title = title = redact_str(f.title);
	if (f.root_cause)
		f.root_cause = root_cause = redact_str(f.root_cause);
	if (f.resolution)
		f.resolution = resolution = redact_str(f.resolution);
	f.severity = incident_severity_name(sev);
	f.state = incident_state_name(stt);
	f.opened_at = opened_s;
	f.updated_at = updated_s;
	f.resolved_at = resolved ? resolved_s : NULL;
	f.templates = templates.len ? templates.buf : NULL;
	r = import_unchanged(st, &f);
	if (r == 0)
		r = row_upsert(st, &f);
out:
	strbuf_release(&templates);
	free(title);
	free(root_cause);
	free(resolution);
	return r;
}
