/*
 * store.c: the SQLite store; see store.h.
 *
 * Layout (schema version 1):
 *   incidents  one row an incident; at most one open row per fingerprint,
 *              enforced by a partial unique index, so deduplication holds
 *              even against a writer that skipped the lookup
 *   events     the append-only timeline; triggers refuse UPDATE and DELETE
 *   outbox     remote writes waiting to be delivered (used by the trackers)
 *   checks     (version 2) each scout finding's run of failures or passes
 *   diagnoses  (version 3) each diagnosis of an incident, whole, as JSON
 *   leases     (version 4) who is working on an incident
 *   memory     (version 5) what sre remember keeps of each incident, this
 *              host's and those pulled from others, with memory_fts, its
 *              FTS5 index (external content: the text is kept once);
 *              known_errors, log_templates, memory_state
 * Times are ISO 8601 UTC text, readable with the sqlite3 shell and
 * ordered as text.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cJSON.h>

#include "store.h"
#include "run-command.h"
#include "store-internal.h"
#include "strbuf.h"
#include "timeutil.h"

static const char *const migrations[] = {
	/* 1: the first schema */
	"CREATE TABLE incidents ("
	"  id INTEGER PRIMARY KEY,"
	"  fingerprint TEXT NOT NULL,"
	"  service TEXT NOT NULL,"
	"  title TEXT NOT NULL,"
	"  severity TEXT NOT NULL CHECK (severity IN ('critical','high','medium','low')),"
	"  category TEXT,"
	"  state TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  occurrences INTEGER NOT NULL DEFAULT 1,"
	"  opened_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL,"
	"  resolved_at TEXT,"
	"  remote_key TEXT,"
	"  remote_url TEXT"
	");"
	"CREATE UNIQUE INDEX incidents_open_fingerprint ON incidents(fingerprint)"
	"  WHERE state <> 'INCIDENT_RESOLVED';"
	"CREATE INDEX incidents_state ON incidents(state);"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
	"  at TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  body TEXT NOT NULL CHECK (json_valid(body))"
	");"
	"CREATE INDEX events_incident ON events(incident_id, id);"
	"CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events"
	"  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
	"CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events"
	"  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  incident_id INTEGER REFERENCES incidents(id),"
	"  idempotency_key TEXT NOT NULL UNIQUE,"
	"  target TEXT NOT NULL,"
	"  operation TEXT NOT NULL,"
	"  payload TEXT NOT NULL CHECK (json_valid(payload)),"
	"  status TEXT NOT NULL DEFAULT 'pending'"
	"    CHECK (status IN ('pending','delivered','failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  created_at TEXT NOT NULL,"
	"  delivered_at TEXT"
	");"
	"CREATE INDEX outbox_pending ON outbox(status, id);",
	/* 2: what sre scout remembers between runs */
	"CREATE TABLE checks ("
	"  fingerprint TEXT PRIMARY KEY,"
	"  source TEXT NOT NULL,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  passes INTEGER NOT NULL DEFAULT 0,"
	"  last_status TEXT NOT NULL,"
	"  last_seen TEXT NOT NULL,"
	"  summary TEXT"
	");",
	/* 3: what sre diagnose concluded */
	"CREATE TABLE diagnoses ("
	"  id INTEGER PRIMARY KEY,"
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
	"  at TEXT NOT NULL,"
	"  category TEXT NOT NULL,"
	"  root_cause TEXT NOT NULL,"
	"  confidence REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),"
	"  action TEXT NOT NULL,"
	"  target TEXT,"
	"  body TEXT NOT NULL CHECK (json_valid(body))"
	");"
	"CREATE INDEX diagnoses_incident ON diagnoses(incident_id, id);",
	/* 4: who is working on an incident (store_lease_take) */
	"CREATE TABLE leases ("
	"  incident_id INTEGER PRIMARY KEY REFERENCES incidents(id),"
	"  host TEXT NOT NULL,"
	"  pid INTEGER NOT NULL,"
	"  started TEXT NOT NULL,"
	"  command TEXT NOT NULL,"
	"  taken_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL"
	");",
	/* 5: sre remember (lib/memory.c, lib/log-patterns.c) */
	"CREATE TABLE memory ("
	"  id INTEGER PRIMARY KEY,"
	"  origin TEXT NOT NULL,"             /* 'local', or the host a record was pulled from */
	"  incident_id INTEGER NOT NULL,"     /* the incident's id where it was opened */
	"  fingerprint TEXT NOT NULL,"
	"  service TEXT NOT NULL,"
	"  title TEXT NOT NULL,"
	"  category TEXT,"
	"  severity TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  opened_at TEXT NOT NULL,"
	"  resolved_at TEXT,"
	"  root_cause TEXT,"
	"  action TEXT,"                      /* the mitigation carried out, e.g. restart */
	"  target TEXT,"
	"  worked INTEGER,"                   /* 1 verified, 0 did not hold or failed, NULL none */
	"  resolution TEXT,"                  /* how it ended, in words */
	"  comments TEXT,"
	"  templates TEXT,"                   /* log templates of its evidence, one a line */
	"  chaos INTEGER NOT NULL DEFAULT 0," /* opened by a chaos experiment */
	"  updated_at TEXT NOT NULL,"         /* the incident's, when indexed */
	"  last_event INTEGER NOT NULL DEFAULT 0," /* the last event indexed (local rows) */
	"  indexed_at TEXT NOT NULL,"
	"  pushed_at TEXT,"                   /* sre remember push */
	"  committed_at TEXT,"                /* its post-mortem committed (remember.postmortems) */
	"  UNIQUE (origin, incident_id)"
	");"
	"CREATE INDEX memory_fingerprint ON memory(fingerprint, opened_at);"
	"CREATE INDEX memory_service ON memory(service, opened_at);"
	/* came_back(): a later incident of the same fingerprint, for each verified fix */
	"CREATE INDEX incidents_fingerprint ON incidents(fingerprint, id);"
	"CREATE VIRTUAL TABLE memory_fts USING fts5("
	"  title, service, category, root_cause, resolution, comments, templates,"
	"  content='memory', content_rowid='id', tokenize='porter unicode61');"
	"CREATE TRIGGER memory_fts_insert AFTER INSERT ON memory BEGIN"
	"  INSERT INTO memory_fts(rowid, title, service, category, root_cause, resolution, comments, templates)"
	"  VALUES (new.id, new.title, new.service, new.category, new.root_cause, new.resolution,"
	"          new.comments, new.templates);"
	"END;"
	"CREATE TRIGGER memory_fts_delete AFTER DELETE ON memory BEGIN"
	"  INSERT INTO memory_fts(memory_fts, rowid, title, service, category, root_cause, resolution,"
	"                         comments, templates)"
	"  VALUES ('delete', old.id, old.title, old.service, old.category, old.root_cause,"
	"          old.resolution, old.comments, old.templates);"
	"END;"
	/* Only a change of the indexed text rewrites the index (pushed_at does not). */
	"CREATE TRIGGER memory_fts_update AFTER UPDATE OF title, service, category, root_cause,"
	"  resolution, comments, templates ON memory BEGIN"
	"  INSERT INTO memory_fts(memory_fts, rowid, title, service, category, root_cause, resolution,"
	"                         comments, templates)"
	"  VALUES ('delete', old.id, old.title, old.service, old.category, old.root_cause,"
	"          old.resolution, old.comments, old.templates);"
	"  INSERT INTO memory_fts(rowid, title, service, category, root_cause, resolution, comments, templates)"
	"  VALUES (new.id, new.title, new.service, new.category, new.root_cause, new.resolution,"
	"          new.comments, new.templates);"
	"END;"
	"CREATE TABLE known_errors ("
	"  id INTEGER PRIMARY KEY,"
	"  fingerprint TEXT NOT NULL,"
	"  templates TEXT,"                   /* one a line; NULL matches on the fingerprint alone */
	"  action TEXT NOT NULL,"
	"  target TEXT,"
	"  runbook TEXT,"
	"  origin TEXT NOT NULL,"
	"  incident_id INTEGER NOT NULL,"     /* the incident it was learnt from */
	"  added_by TEXT NOT NULL,"           /* a person, or 'sre remember' after known-after */
	"  added_at TEXT NOT NULL,"
	"  UNIQUE (fingerprint, action)"
	");"
	"CREATE TABLE log_templates ("
	"  id INTEGER PRIMARY KEY,"
	"  service TEXT NOT NULL,"
	"  template TEXT NOT NULL,"
	"  count INTEGER NOT NULL DEFAULT 0,"
	"  example TEXT NOT NULL,"
	"  first_seen TEXT NOT NULL,"
	"  last_seen TEXT NOT NULL,"
	"  UNIQUE (service, template)"
	");"
	"CREATE TABLE memory_state ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL"
	");",
	/* 6: the LLM adviser's answers, by a digest of what it was asked (lib/adviser-cache.c) */
	"CREATE TABLE adviser_cache ("
	"  digest TEXT PRIMARY KEY CHECK (length(digest) = 64),"
	"  at TEXT NOT NULL,"
	"  answer TEXT NOT NULL CHECK (json_valid(answer))"
	");",
	/* 7: escalations, their levels and acknowledgements, and what fired once (lib/escalate.c) */
	"CREATE TABLE escalations ("
	"  incident_id INTEGER PRIMARY KEY REFERENCES incidents(id),"
	"  policy TEXT NOT NULL,"
	"  level INTEGER NOT NULL,"         /* the level paged last, from 0 */
	"  round INTEGER NOT NULL DEFAULT 0," /* the climbs done again (repeat) */
	"  reason TEXT NOT NULL,"
	"  started_at TEXT NOT NULL,"
	"  paged_at TEXT NOT NULL,"
	"  acked_by TEXT,"
	"  acked_at TEXT,"
	"  closed_at TEXT,"                 /* resolved, or abandoned */
	"  closed_how TEXT,"                /* 'resolved', 'abandoned' */
	"  day TEXT NOT NULL,"              /* the UTC day day_pages counts */
	"  day_pages INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE escalation_marks ("
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
	"  mark TEXT NOT NULL,"
	"  at TEXT NOT NULL,"
	"  PRIMARY KEY (incident_id, mark)"
	");",
	/* 8: faults injected on purpose and their undo records (lib/chaos.c), a proxy's toxics (lib/chaos-proxy.c) */
	"CREATE TABLE chaos_faults ("
	"  id INTEGER PRIMARY KEY,"
	"  fault TEXT NOT NULL,"            /* docker-pause, proxy-latency... */
	"  target TEXT NOT NULL,"           /* the service */
	"  args TEXT NOT NULL CHECK (json_valid(args)),"
	"  undo TEXT NOT NULL CHECK (json_valid(undo)),"  /* what to run, with the values it had */
	"  state TEXT NOT NULL,"            /* 'injecting', 'in-place', 'rolled-back' */
	"  injected_by TEXT NOT NULL,"
	"  injected_at TEXT NOT NULL,"
	"  expires_at TEXT,"                /* removed by itself then; NULL: until rolled back */
	"  rolled_back_at TEXT,"
	"  run TEXT,"                       /* the experiment run that injected it */
	"  error TEXT"                      /* why the last undo failed */
	");"
	"CREATE INDEX chaos_faults_state ON chaos_faults(state);"
	"CREATE TABLE chaos_toxics ("
	"  proxy TEXT NOT NULL,"
	"  toxic TEXT NOT NULL,"            /* latency, errors, reset, timeout, bandwidth */
	"  params TEXT NOT NULL CHECK (json_valid(params)),"
	"  fault_id INTEGER,"               /* the chaos_faults row that set it, or NULL */
	"  PRIMARY KEY (proxy, toxic)"
	");",
	/* 9: the passes of sre run, the last ones kept, for sre run --status (lib/loop.c) */
	"CREATE TABLE run_passes ("
	"  id INTEGER PRIMARY KEY,"
	"  started_at TEXT NOT NULL,"
	"  duration_ms INTEGER NOT NULL,"
	"  role TEXT NOT NULL,"             /* 'acting', or 'standby' (another holds the lease) */
	"  runner TEXT NOT NULL,"           /* who ran it: host and pid, or the pod */
	"  summary TEXT NOT NULL CHECK (json_valid(summary))"  /* counts, steps, what needs a person */
	");",
};

int store_db_error(struct store *st, const char *what)
{
	int code = sqlite3_extended_errcode(st->db);

	if ((code & 0xff) == SQLITE_NOTADB)
		return error("%s is not an sre store (not an SQLite database)", st->path);
	if ((code & 0xff) == SQLITE_BUSY)
		return error("the store %s stayed locked by another process; "
			     "try again, or raise core.busy-timeout", st->path);
	return error("store %s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

int store_exec(struct store *st, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int code = sqlite3_extended_errcode(st->db);
		int ret;

		if ((code & 0xff) == SQLITE_NOTADB || (code & 0xff) == SQLITE_BUSY)
			ret = store_db_error(st, sql);
		else
			ret = error("store %s: %s", st->path, msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return ret;
	}
	return 0;
}

/* A cached prepared statement; give it back with done(). */
int store_prepare(struct store *st, sqlite3_stmt **stmt, const char *sql)
{
	int i;

	for (i = 0; i < st->ncache; i++)
		if (st->cache[i].sql == sql || !strcmp(st->cache[i].sql, sql)) {
			*stmt = st->cache[i].stmt;
			return 0;
		}
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt,
			       NULL) != SQLITE_OK)
		return store_db_error(st, "cannot prepare a statement");
	if (st->ncache < STMT_CACHE) {
		st->cache[st->ncache].sql = sql;
		st->cache[st->ncache].stmt = *stmt;
		st->ncache++;
	}
	return 0;
}

/* Reset a statement from prepare() for its next use (NULL is fine). */
void store_done(struct store *st, sqlite3_stmt *stmt)
{
	if (!stmt)
		return;
	for (int i = 0; i < st->ncache; i++)
		if (st->cache[i].stmt == stmt) {
			sqlite3_reset(stmt);
			sqlite3_clear_bindings(stmt);
			return;
		}
	sqlite3_finalize(stmt);
}

/* Run one statement that returns no rows. */
int store_run(struct store *st, const char *sql)
{
	sqlite3_stmt *stmt;
	int rc;

	if (store_prepare(st, &stmt, sql) < 0)
		return -1;
	rc = sqlite3_step(stmt);
	store_done(st, stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_db_error(st, sql);
	return 0;
}

/*
 * Transactions nest: a caller may group several store calls (a local
 * change and the outbox entry that mirrors it) into one, and the calls'
 * own begin/commit then only count. A rollback anywhere undoes it all.
 */
static int begin(struct store *st)
{
	if (st->depth++ > 0)
		return 0;
	if (store_run(st, "BEGIN IMMEDIATE") < 0) {
		st->depth = 0;
		return -1;
	}
	return 0;
}

static int commit(struct store *st)
{
	if (st->depth <= 0)
		return error("store %s: commit without a transaction", st->path);
	if (--st->depth > 0)
		return 0;
	return store_run(st, "COMMIT");
}

static void rollback(struct store *st)
{
	st->depth = 0;
	if (!sqlite3_get_autocommit(st->db))
		store_run(st, "ROLLBACK");
}

int store_begin(struct store *st)
{
	return begin(st);
}

int store_commit(struct store *st)
{
	return commit(st);
}

void store_rollback(struct store *st)
{
	rollback(st);
}

static int migrate(struct store *st)
{
	sqlite3_stmt *stmt;
	int version, ret = 0;

	if (begin(st) < 0)
		return -1;
	/* Read inside the write transaction: two first runs migrate once. */
	if (store_prepare(st, &stmt, "PRAGMA user_version") < 0) {
		rollback(st);
		return -1;
	}
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_done(st, stmt);
		rollback(st);
		return store_db_error(st, "cannot read the schema version");
	}
	version = sqlite3_column_int(stmt, 0);
	store_done(st, stmt);
	if (version > (int)ARRAY_SIZE(migrations)) {
		rollback(st);
		return error("the store %s has schema version %d, newer than this sre "
			     "understands (%d); upgrade sre", st->path, version,
			     (int)ARRAY_SIZE(migrations));
	}
	for (; version < (int)ARRAY_SIZE(migrations) && !ret; version++) {
		char pragma[64];

		ret = store_exec(st, migrations[version]);
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
		if (!ret)
			ret = store_exec(st, pragma);
	}
	if (ret) {
		rollback(st);
		return error("cannot migrate the store %s; it was left unchanged", st->path);
	}
	return commit(st);
}

/*
 * Switch to WAL. The mode is stored in the file, so this is a no-op after
 * the first run; but the switch needs the file to itself and answers BUSY
 * at once, without the busy handler, while another process has it open
 * (two first runs at the same moment). Retry until the busy timeout.
 */
static int set_wal(struct store *st, int64_t timeout_ms)
{
	int64_t waited = 0;

	for (;;) {
		sqlite3_stmt *stmt;
		const unsigned char *mode = NULL;
		int rc;

		if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &stmt,
				       NULL) != SQLITE_OK)
			return store_db_error(st, "cannot switch to WAL");
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW)
			mode = sqlite3_column_text(stmt, 0);
		if (rc == SQLITE_ROW && mode && !strcmp((const char *)mode, "wal")) {
			sqlite3_finalize(stmt);
			return 0;
		}
		sqlite3_finalize(stmt);
		if ((rc & 0xff) != SQLITE_BUSY && rc != SQLITE_ROW)
			return store_db_error(st, "cannot switch to WAL");
		if (waited >= timeout_ms)
			return error("the store %s stayed locked by another process; "
				     "try again, or raise core.busy-timeout", st->path);
		sqlite3_sleep(20);
		waited += 20;
	}
}

char *store_default_path(void)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (state && *state == '/')
		return xstrfmt("%s/sre/sre.db", state);
	if (home && *home)
		return xstrfmt("%s/.local/state/sre/sre.db", home);
	return NULL;
}

int store_open(struct store **out, const char *path, int64_t busy_timeout_ms)
{
	struct store *st = xcalloc(1, sizeof(*st));
	int fd;

	st->path = xstrdup(path);
	st->deliver_fd = -1;
	st->busy_timeout_ms = busy_timeout_ms;
	if (mkdir_parents(path, 0700) < 0)
		goto fail;
	/* Create the file ourselves so that it is 0600 whatever the umask. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		error_errno("cannot open the store %s", path);
		goto fail;
	}
	close(fd);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		error("cannot open the store %s: %s", path,
		      st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	if (busy_timeout_ms > INT32_MAX)
		busy_timeout_ms = INT32_MAX;
	sqlite3_busy_timeout(st->db, (int)busy_timeout_ms);
	if (set_wal(st, busy_timeout_ms) < 0 ||
	    store_exec(st, "PRAGMA synchronous = NORMAL") < 0 ||
	    store_exec(st, "PRAGMA foreign_keys = ON") < 0 ||
	    migrate(st) < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	store_free(st);
	return -1;
}

void store_free(struct store *st)
{
	if (!st)
		return;
	store_delivery_unlock(st);
	while (st->nleases)
		store_lease_release(st, st->leases[st->nleases - 1]);
	free(st->leases);
	for (int i = 0; i < st->ncache; i++)
		sqlite3_finalize(st->cache[i].stmt);
	if (st->db)
		sqlite3_close(st->db);
	free(st->path);
	free(st);
}

static void now_text(char *buf, size_t size)
{
	format_iso8601(buf, size, sre_now());
}

static char *column_dup(sqlite3_stmt *stmt, int col)
{
	const unsigned char *t = sqlite3_column_text(stmt, col);
	return t ? xstrdup((const char *)t) : NULL;
}

static time_t column_time(sqlite3_stmt *stmt, int col)
{
	const unsigned char *t = sqlite3_column_text(stmt, col);
	time_t v = 0;

	if (t)
		parse_iso8601((const char *)t, &v);
	return v;
}

static int append_event(struct store *st, long long id, const char *at,
			const char *kind, const char *actor, const char *body)
{
	sqlite3_stmt *stmt;
	int rc;

	if (store_prepare(st, &stmt, "INSERT INTO events (incident_id, at, kind, actor, body)"
			       " VALUES (?, ?, ?, ?, ?)") < 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_text(stmt, 2, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, body, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	store_done(st, stmt);
	if (rc != SQLITE_DONE)
		return store_db_error(st, "cannot append an event");
	return 0;
}

/*
 * An incident opened while sre chaos has a fault in place on its service
 * is the experiment's: a "chaos" event naming the faults says so, and
 * remember leaves it out of recall, escalate pages nobody for it. 0 or -1.
 */
static int tag_chaos(struct store *st, long long id, const char *at, const char *service)
{
	sqlite3_stmt *q;
	cJSON *body, *ids;
	char *text;
	int rc, n = 0;

	/* Past its time, a fault is gone whether or not its undo has run yet. */
	if (store_prepare(st, &q, "SELECT id FROM chaos_faults WHERE target = ?1 AND "
			  "state IN ('injecting', 'in-place') AND (expires_at IS NULL OR expires_at > ?2)"
			  " ORDER BY id") < 0)
		return -1;
	sqlite3_bind_text(q, 1, service, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, at, -1, SQLITE_STATIC);
	body = cJSON_CreateObject();
	ids = cJSON_AddArrayToObject(body, "faults");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && ++n)
		cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)sqlite3_column_int64(q, 0)));
	store_done(st, q);
	if (rc != SQLITE_DONE) {
		cJSON_Delete(body);
		return store_db_error(st, "cannot read the faults in place");
	}
	text = n ? cJSON_PrintUnformatted(body) : NULL;
	rc = n ? append_event(st, id, at, "chaos", "sre chaos", text) : 0;
	cJSON_free(text);
	cJSON_Delete(body);
	return rc < 0 ? -1 : 0;
}

int store_incident_open(struct store *st, const struct incident_new *in,
			long long *out_id, int *out_created)
{
	const char *source = in->source ? in->source : "manual";
	char *fp = in->fingerprint ? xstrdup(in->fingerprint)
				   : incident_default_fingerprint(source, in->service, in->title);
	sqlite3_stmt *stmt = NULL;
	char at[32];
	long long id = 0;
	cJSON *body = cJSON_CreateObject();
	char *text = NULL;
	int rc, ret = -1;

	now_text(at, sizeof(at));
	if (begin(st) < 0)
		goto out;
	if (store_prepare(st, &stmt, "SELECT id, occurrences FROM incidents"
			       " WHERE fingerprint = ? AND state <> 'INCIDENT_RESOLVED'") < 0)
		goto out;
	sqlite3_bind_text(stmt, 1, fp, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		long long occ;

		id = sqlite3_column_int64(stmt, 0);
		occ = sqlite3_column_int64(stmt, 1) + 1;
		store_done(st, stmt);
		stmt = NULL;
		if (store_prepare(st, &stmt, "UPDATE incidents SET occurrences = ?, updated_at = ?"
				       " WHERE id = ?") < 0)
			goto out;
		sqlite3_bind_int64(stmt, 1, occ);
		sqlite3_bind_text(stmt, 2, at, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 3, id);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			store_db_error(st, "cannot count an occurrence");
			goto out;
		}
		cJSON_AddNumberToObject(body, "occurrences", (double)occ);
		cJSON_AddStringToObject(body, "title", in->title);
		text = cJSON_PrintUnformatted(body);
		if (append_event(st, id, at, "occurrence", in->actor, text) < 0)
			goto out;
		*out_created = 0;
	} else if (rc == SQLITE_DONE) {
		store_done(st, stmt);
		stmt = NULL;
		if (store_prepare(st, &stmt, "INSERT INTO incidents (fingerprint, service, title,"
				       " severity, state, source, opened_at, updated_at)"
				       " VALUES (?, ?, ?, ?, 'INCIDENT_DETECTED', ?, ?, ?)") < 0)
			goto out;
		sqlite3_bind_text(stmt, 1, fp, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 2, in->service, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 3, in->title, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 4, incident_severity_name(in->severity), -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 5, source, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 6, at, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 7, at, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			store_db_error(st, "cannot open an incident");
			goto out;
		}
		id = sqlite3_last_insert_rowid(st->db);
		cJSON_AddStringToObject(body, "service", in->service);
		cJSON_AddStringToObject(body, "title", in->title);
		cJSON_AddStringToObject(body, "severity", incident_severity_name(in->severity));
		cJSON_AddStringToObject(body, "fingerprint", fp);
		cJSON_AddStringToObject(body, "source", source);
		text = cJSON_PrintUnformatted(body);
		if (append_event(st, id, at, "opened", in->actor, text) < 0 ||
		    tag_chaos(st, id, at, in->service) < 0)
			goto out;
		*out_created = 1;
	} else {
		store_db_error(st, "cannot look up the fingerprint");
		goto out;
	}
	if (commit(st) < 0)
		goto out;
	*out_id = id;
	ret = 0;
out:
	if (ret)
		rollback(st);
	store_done(st, stmt);
	cJSON_Delete(body);
	cJSON_free(text);
	free(fp);
	return ret;
}

#define INCIDENT_COLUMNS \
	"id, fingerprint, service, title, severity, category, state, source," \
	" occurrences, opened_at, updated_at, resolved_at, remote_key, remote_url"

static void read_incident(sqlite3_stmt *stmt, struct incident *inc)
{
	const char *state = (const char *)sqlite3_column_text(stmt, 6);
	const char *sev = (const char *)sqlite3_column_text(stmt, 4);
	enum incident_state s = STATE_INCIDENT_DETECTED;
	enum incident_severity v = SEVERITY_MEDIUM;

	memset(inc, 0, sizeof(*inc));
	inc->id = sqlite3_column_int64(stmt, 0);
	inc->fingerprint = column_dup(stmt, 1);
	inc->service = column_dup(stmt, 2);
	inc->title = column_dup(stmt, 3);
	if (sev)
		incident_severity_parse(sev, &v);
	inc->severity = v;
	inc->category = column_dup(stmt, 5);
	if (state)
		incident_state_parse(state, &s);
	inc->state = s;
	inc->source = column_dup(stmt, 7);
	inc->occurrences = sqlite3_column_int64(stmt, 8);
	inc->opened_at = column_time(stmt, 9);
	inc->updated_at = column_time(stmt, 10);
	inc->resolved_at = column_time(stmt, 11);
	inc->remote_key = column_dup(stmt, 12);
	inc->remote_url = column_dup(stmt, 13);
}

int store_incident_get(struct store *st, long long id, struct incident *out)
{
	sqlite3_stmt *stmt;
	int rc;

	if (store_prepare(st, &stmt, "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE id = ?") < 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		read_incident(stmt, out);
	store_done(st, stmt);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return 1;
	return store_db_error(st, "cannot read an incident");
}

int store_incident_list(struct store *st, const struct incident_filter *f,
			struct incident **out, size_t *nr)
{
	sqlite3_stmt *stmt;
	struct incident *list = NULL;
	size_t n = 0, alloc = 0;
	int rc;

	if (store_prepare(st, &stmt, "SELECT " INCIDENT_COLUMNS " FROM incidents"
			       " WHERE (?1 OR state <> 'INCIDENT_RESOLVED')"
			       "   AND (?2 IS NULL OR state = ?2)"
			       "   AND (?3 IS NULL OR service = ?3)"
			       " ORDER BY id") < 0)
		return -1;
	sqlite3_bind_int(stmt, 1, f->all || f->state == STATE_INCIDENT_RESOLVED);
	if (f->state >= 0)
		sqlite3_bind_text(stmt, 2, incident_state_name(f->state), -1, SQLITE_STATIC);
	if (f->service)
		sqlite3_bind_text(stmt, 3, f->service, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		ALLOC_GROW(list, n + 1, alloc);
		read_incident(stmt, &list[n++]);
	}
	store_done(st, stmt);
	if (rc != SQLITE_DONE) {
		incident_list_free(list, n);
		return store_db_error(st, "cannot list incidents");
	}
	*out = list;
	*nr = n;
	return 0;
}

void incident_list_free(struct incident *list, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		incident_release(&list[i]);
	free(list);
}

int store_incident_transition(struct store *st, long long id, int expected,
			      enum incident_state to, const char *actor,
			      const char *reason, const char *key)
{
	sqlite3_stmt *stmt = NULL;
	enum incident_state from = STATE_INCIDENT_DETECTED;
	cJSON *body = NULL;
	char *text = NULL, at[32];
	int rc, ret = -1;

	now_text(at, sizeof(at));
	if (begin(st) < 0)
		return -1;
	if (store_prepare(st, &stmt, "SELECT state FROM incidents WHERE id = ?") < 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		ret = 1;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		store_db_error(st, "cannot read an incident");
		goto out;
	}
	if (incident_state_parse((const char *)sqlite3_column_text(stmt, 0), &from) < 0) {
		error("incident %lld has an unknown state '%s' in the store", id,
		      sqlite3_column_text(stmt, 0));
		goto out;
	}
	store_done(st, stmt);
	stmt = NULL;
	if (expected >= 0 && (int)from != expected) {
		error("incident %lld moved from %s to %s meanwhile; not moving it to %s",
		      id, incident_state_name(expected), incident_state_name(from),
		      incident_state_name(to));
		ret = STORE_REFUSED;
		goto out;
	}
	if (!incident_transition_allowed(from, to)) {
		error("incident %lld cannot go from %s to %s", id,
		      incident_state_name(from), incident_state_name(to));
		ret = STORE_REFUSED;
		goto out;
	}
	if (store_prepare(st, &stmt, "UPDATE incidents SET state = ?, updated_at = ?,"
			       " resolved_at = CASE WHEN ? THEN ? ELSE resolved_at END"
			       " WHERE id = ? AND state = ?") < 0)
		goto out;
	sqlite3_bind_text(stmt, 1, incident_state_name(to), -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, at, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 3, to == STATE_INCIDENT_RESOLVED);
	sqlite3_bind_text(stmt, 4, at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, id);
	sqlite3_bind_text(stmt, 6, incident_state_name(from), -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE || sqlite3_changes(st->db) != 1) {
		store_db_error(st, "cannot change the incident's state");
		goto out;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "from", incident_state_name(from));
	cJSON_AddStringToObject(body, "to", incident_state_name(to));
	if (reason)
		cJSON_AddStringToObject(body, "reason", reason);
	if (key)
		cJSON_AddStringToObject(body, "key", key);
	text = cJSON_PrintUnformatted(body);
	if (append_event(st, id, at, "transition", actor, text) < 0)
		goto out;
	ret = commit(st);
out:
	if (ret)
		rollback(st);
	store_done(st, stmt);
	cJSON_Delete(body);
	cJSON_free(text);
	return ret;
}

int store_incident_is_chaos(struct store *st, long long id)
{
	sqlite3_stmt *stmt;
	int rc;

	if (store_prepare(st, &stmt, "SELECT 1 FROM events WHERE incident_id = ?1 AND kind = 'chaos'"
			       " LIMIT 1") < 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	store_done(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(st, "cannot read an incident's events");
	return rc == SQLITE_ROW;
}

int store_incident_episode(struct store *st, long long id, int64_t window_ms, long long *prev)
{
	sqlite3_stmt *stmt;
	int rc;

	if (store_prepare(st, &stmt, "SELECT p.id FROM incidents p, incidents c WHERE c.id = ?1"
			       " AND p.fingerprint = c.fingerprint AND p.id < c.id"
			       " AND p.resolved_at IS NOT NULL"
			       " AND (julianday(c.opened_at) - julianday(p.resolved_at)) * 86400000.0 <= ?2"
			       " ORDER BY p.id DESC LIMIT 1") < 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, window_ms);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*prev = sqlite3_column_int64(stmt, 0);
	store_done(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(st, "cannot read an incident's episode");
	return rc == SQLITE_ROW ? 0 : 1;
}

int store_event_append(struct store *st, long long id, const char *kind,
		       const char *actor, const char *body_json)
{
	sqlite3_stmt *stmt = NULL;
	char at[32];
	int rc, ret = -1;

	now_text(at, sizeof(at));
	if (begin(st) < 0)
		return -1;
	if (store_prepare(st, &stmt, "UPDATE incidents SET updated_at = ? WHERE id = ?") < 0)
		goto out;
	sqlite3_bind_text(stmt, 1, at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, id);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "cannot update an incident");
		goto out;
	}
	if (!sqlite3_changes(st->db)) {
		ret = 1;
		goto out;
	}
	if (append_event(st, id, at, kind, actor, body_json) < 0)
		goto out;
	ret = commit(st);
out:
	if (ret)
		rollback(st);
	store_done(st, stmt);
	return ret;
}

int store_diagnosis_add(struct store *st, long long id, const struct diagnosis_row *d,
			const char *actor)
{
	sqlite3_stmt *stmt = NULL;
	char at[32];
	int rc, ret = -1;
	cJSON *body;
	char *text;

	now_text(at, sizeof(at));
	if (begin(st) < 0)
		return -1;
	if (store_prepare(st, &stmt, "UPDATE incidents SET category = ?, updated_at = ? WHERE id = ?") < 0)
		goto out;
	sqlite3_bind_text(stmt, 1, d->category, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, id);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "cannot update an incident");
		goto out;
	}
	if (!sqlite3_changes(st->db)) {
		ret = 1;
		goto out;
	}
	store_done(st, stmt);
	stmt = NULL;
	if (store_prepare(st, &stmt, "INSERT INTO diagnoses (incident_id, at, category, root_cause,"
		    " confidence, action, target, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)") < 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_text(stmt, 2, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, d->category, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, d->root_cause, -1, SQLITE_STATIC);
	sqlite3_bind_double(stmt, 5, d->confidence);
	sqlite3_bind_text(stmt, 6, d->action, -1, SQLITE_STATIC);
	if (d->target)
		sqlite3_bind_text(stmt, 7, d->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 8, d->json, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		store_db_error(st, "cannot record a diagnosis");
		goto out;
	}
	/* The timeline's event: what a person reads in `sre incident show`. */
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "category", d->category);
	cJSON_AddStringToObject(body, "root_cause", d->root_cause);
	cJSON_AddNumberToObject(body, "confidence", d->confidence);
	cJSON_AddStringToObject(body, "action", d->action);
	if (d->target)
		cJSON_AddStringToObject(body, "target", d->target);
	text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	rc = append_event(st, id, at, "diagnosed", actor, text);
	free(text);
	if (rc < 0)
		goto out;
	ret = commit(st);
out:
	if (ret)
		rollback(st);
	store_done(st, stmt);
	return ret;
}

int store_count_events(struct store *st, const char *target, const char *kind, time_t since,
		       const char *approval, long long *out)
{
	sqlite3_stmt *stmt;
	char at[32];
	int rc;

	*out = 0;
	format_iso8601(at, sizeof(at), since);
	if (store_prepare(st, &stmt, "SELECT count(*) FROM events"
		    " WHERE json_extract(body, '$.target') = ? AND kind = ? AND at >= ?"
		    " AND (? IS NULL OR json_extract(body, '$.approval') = ?)") < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, at, -1, SQLITE_STATIC);
	if (approval) {
		sqlite3_bind_text(stmt, 4, approval, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 5, approval, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(stmt, 0);
	else
		store_db_error(st, "cannot count events");
	store_done(st, stmt);
	return rc == SQLITE_ROW ? 0 : -1;
}

int store_diagnosis_latest(struct store *st, long long id, char **out_json)
{
	sqlite3_stmt *stmt;
	int rc;

	*out_json = NULL;
	if (store_prepare(st, &stmt, "SELECT body FROM diagnoses WHERE incident_id = ?"
		    " ORDER BY id DESC LIMIT 1") < 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*out_json = xstrdup((const char *)sqlite3_column_text(stmt, 0));
	else if (rc != SQLITE_DONE)
		store_db_error(st, "cannot read a diagnosis");
	store_done(st, stmt);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int store_event_list(struct store *st, long long incident_id,
		     struct event **out, size_t *nr)
{
	sqlite3_stmt *stmt;
	struct event *list = NULL;
	size_t n = 0, alloc = 0;
	int rc;

	if (store_prepare(st, &stmt, "SELECT id, at, kind, actor, body FROM events"
			       " WHERE incident_id = ? ORDER BY id") < 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, incident_id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct event *e;

		ALLOC_GROW(list, n + 1, alloc);
		e = &list[n++];
		e->id = sqlite3_column_int64(stmt, 0);
		e->at = column_time(stmt, 1);
		e->kind = column_dup(stmt, 2);
		e->actor = column_dup(stmt, 3);
		e->body = column_dup(stmt, 4);
	}
	store_done(st, stmt);
	if (rc != SQLITE_DONE) {
		event_list_free(list, n);
		return store_db_error(st, "cannot read the timeline");
	}
	*out = list;
	*nr = n;
	return 0;
}

void event_list_free(struct event *list, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(list[i].kind);
		free(list[i].actor);
		free(list[i].body);
	}
	free(list);
}

/* ---- mirroring ---- */

/* Run one write statement on an incident inside its own transaction. */
static int update_incident(struct store *st, const char *sql, long long id,
			   const char *a, const char *b)
{
	sqlite3_stmt *stmt = NULL;
	char at[32];
	int rc, ret = -1;

	now_text(at, sizeof(at));
	if (begin(st) < 0)
		return -1;
	if (store_prepare(st, &stmt, sql) < 0)
		goto out;
	sqlite3_bind_text(stmt, 1, at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, id);
	if (a)
		sqlite3_bind_text(stmt, 3, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(stmt, 4, b, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "cannot update an incident");
		goto out;
	}
	ret = sqlite3_changes(st->db) ? 0 : 1;
	if (ret == 0)
		ret = commit(st);
out:
	if (ret)
		rollback(st);
	store_done(st, stmt);
	return ret;
}

int store_incident_set_remote(struct store *st, long long id, const char *key,
			      const char *url)
{
	return update_incident(st, "UPDATE incidents SET updated_at = ?1, remote_key = ?3,"
				   " remote_url = ?4 WHERE id = ?2", id, key, url);
}

static int lookup_id(struct store *st, const char *sql, const char *value,
		     long long *out_id)
{
	sqlite3_stmt *stmt;
	int rc;

	if (store_prepare(st, &stmt, sql) < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*out_id = sqlite3_column_int64(stmt, 0);
	store_done(st, stmt);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : store_db_error(st, "cannot look up an incident");
}

int store_incident_by_remote(struct store *st, const char *key, long long *out_id)
{
	return lookup_id(st, "SELECT id FROM incidents WHERE remote_key = ?"
			     " ORDER BY id DESC LIMIT 1", key, out_id);
}

int store_incident_by_fingerprint(struct store *st, const char *fingerprint,
				  long long *out_id)
{
	return lookup_id(st, "SELECT id FROM incidents WHERE fingerprint = ?"
			     " AND state <> 'INCIDENT_RESOLVED'", fingerprint, out_id);
}

int store_incident_follow_remote(struct store *st, long long id,
				 enum incident_state to, const char *reason)
{
	sqlite3_stmt *stmt = NULL;
	cJSON *body = NULL;
	char *text = NULL, at[32];
	const char *from;
	int rc, ret = -1;

	now_text(at, sizeof(at));
	if (begin(st) < 0)
		return -1;
	if (store_prepare(st, &stmt, "SELECT state FROM incidents WHERE id = ?") < 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		ret = rc == SQLITE_DONE ? 1 : store_db_error(st, "cannot read an incident");
		goto out;
	}
	body = cJSON_CreateObject();
	from = (const char *)sqlite3_column_text(stmt, 0);
	cJSON_AddStringToObject(body, "from", from ? from : "?");
	store_done(st, stmt);
	stmt = NULL;
	cJSON_AddStringToObject(body, "to", incident_state_name(to));
	if (reason)
		cJSON_AddStringToObject(body, "reason", reason);
	cJSON_AddStringToObject(body, "source", "tracker");
	if (incident_state_is_working(to)) {
		const char *last;
		int same;

		/* Said once: every pull would otherwise repeat it. */
		if (store_prepare(st, &stmt, "SELECT json_extract(body, '$.to') FROM events"
				       " WHERE incident_id = ? AND kind = 'remote-state'"
				       " ORDER BY id DESC LIMIT 1") < 0)
			goto out;
		sqlite3_bind_int64(stmt, 1, id);
		rc = sqlite3_step(stmt);
		last = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(stmt, 0) : NULL;
		same = last && !strcmp(last, incident_state_name(to));
		store_done(st, stmt);
		stmt = NULL;
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			store_db_error(st, "cannot read an incident's events");
			goto out;
		}
		text = cJSON_PrintUnformatted(body);
		if (!same && append_event(st, id, at, "remote-state", "tracker", text) < 0)
			goto out;
		ret = commit(st);
		if (!ret)
			ret = STORE_NOT_FOLLOWED;
		goto out;
	}
	if (store_prepare(st, &stmt, "UPDATE incidents SET state = ?, updated_at = ?,"
			       " resolved_at = CASE WHEN ? THEN ? ELSE NULL END WHERE id = ?") < 0)
		goto out;
	sqlite3_bind_text(stmt, 1, incident_state_name(to), -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, at, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 3, to == STATE_INCIDENT_RESOLVED);
	sqlite3_bind_text(stmt, 4, at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, id);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		store_db_error(st, "cannot change the incident's state");
		goto out;
	}
	text = cJSON_PrintUnformatted(body);
	if (append_event(st, id, at, "transition", "tracker", text) < 0)
		goto out;
	ret = commit(st);
out:
	if (ret && ret != STORE_NOT_FOLLOWED)
		rollback(st);
	store_done(st, stmt);
	cJSON_Delete(body);
	cJSON_free(text);
	return ret;
}

int store_incident_import(struct store *st, const struct incident *inc,
			  long long *out_id)
{
	sqlite3_stmt *stmt = NULL;
	char opened[32], at[32], resolved[32];
	int ret = -1;

	now_text(at, sizeof(at));
	format_iso8601(opened, sizeof(opened), inc->opened_at ? inc->opened_at : sre_now());
	format_iso8601(resolved, sizeof(resolved), inc->resolved_at ? inc->resolved_at : sre_now());
	if (begin(st) < 0)
		return -1;
	if (store_prepare(st, &stmt, "INSERT INTO incidents (fingerprint, service, title, severity,"
			       " category, state, source, occurrences, opened_at, updated_at,"
			       " resolved_at, remote_key, remote_url)"
			       " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)") < 0)
		goto out;
	sqlite3_bind_text(stmt, 1, inc->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, inc->service, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, inc->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, incident_severity_name(inc->severity), -1, SQLITE_STATIC);
	if (inc->category)
		sqlite3_bind_text(stmt, 5, inc->category, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, incident_state_name(inc->state), -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 7, inc->source ? inc->source : "tracker", -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 8, opened, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 9, at, -1, SQLITE_STATIC);
	if (inc->state == STATE_INCIDENT_RESOLVED)
		sqlite3_bind_text(stmt, 10, resolved, -1, SQLITE_STATIC);
	if (inc->remote_key)
		sqlite3_bind_text(stmt, 11, inc->remote_key, -1, SQLITE_STATIC);
	if (inc->remote_url)
		sqlite3_bind_text(stmt, 12, inc->remote_url, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		store_db_error(st, "cannot import an incident");
		goto out;
	}
	*out_id = sqlite3_last_insert_rowid(st->db);
	ret = commit(st);
out:
	if (ret)
		rollback(st);
	store_done(st, stmt);
	return ret;
}

int store_event_import(struct store *st, long long id, time_t at, const char *kind,
		       const char *actor, const char *body_json)
{
	sqlite3_stmt *stmt = NULL;
	char when[32];
	int rc, ret = -1;

	format_iso8601(when, sizeof(when), at ? at : sre_now());
	if (begin(st) < 0)
		return -1;
	if (store_prepare(st, &stmt, "SELECT 1 FROM events WHERE incident_id = ?1"
			       " AND json_extract(?2, '$.key') IS NOT NULL"
			       " AND json_extract(body, '$.key') = json_extract(?2, '$.key')") < 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_text(stmt, 2, body_json, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		ret = 1;
		goto out;
	}
	if (rc != SQLITE_DONE) {
		store_db_error(st, "cannot read the timeline");
		goto out;
	}
	if (append_event(st, id, when, kind, actor, body_json) < 0)
		goto out;
	ret = commit(st);
out:
	if (ret)
		rollback(st);
	store_done(st, stmt);
	return ret;
}

int store_outbox_add(struct store *st, long long incident_id, const char *key,
		     const char *target, const char *operation, const char *payload_json)
{
	sqlite3_stmt *stmt = NULL;
	char at[32];
	int ret = -1;

	now_text(at, sizeof(at));
	if (begin(st) < 0)
		return -1;
	if (store_prepare(st, &stmt, "INSERT OR IGNORE INTO outbox (incident_id, idempotency_key,"
			       " target, operation, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)") < 0)
		goto out;
	if (incident_id)
		sqlite3_bind_int64(stmt, 1, incident_id);
	sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, operation, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, payload_json, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, at, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		store_db_error(st, "cannot queue a remote write");
		goto out;
	}
	ret = sqlite3_changes(st->db) ? 0 : 1;
	if (commit(st) < 0)
		ret = -1;
out:
	if (ret < 0)
		rollback(st);
	store_done(st, stmt);
	return ret;
}

int store_outbox_list(struct store *st, int pending_only,
		      struct outbox_item **out, size_t *nr)
{
	static const char *const names[] = { "pending", "delivered", "failed" };
	sqlite3_stmt *stmt;
	struct outbox_item *list = NULL;
	size_t n = 0, alloc = 0;
	int rc;

	if (store_prepare(st, &stmt, "SELECT id, incident_id, idempotency_key, target, operation,"
			       " payload, status, attempts, last_error, created_at, delivered_at"
			       " FROM outbox WHERE (?1 = 0 OR status = 'pending') ORDER BY id") < 0)
		return -1;
	sqlite3_bind_int(stmt, 1, pending_only);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct outbox_item *o;
		const char *status = (const char *)sqlite3_column_text(stmt, 6);

		ALLOC_GROW(list, n + 1, alloc);
		o = &list[n++];
		memset(o, 0, sizeof(*o));
		o->id = sqlite3_column_int64(stmt, 0);
		o->incident_id = sqlite3_column_int64(stmt, 1);
		o->key = column_dup(stmt, 2);
		o->target = column_dup(stmt, 3);
		o->operation = column_dup(stmt, 4);
		o->payload = column_dup(stmt, 5);
		for (int i = 0; i < 3; i++)
			if (status && !strcmp(status, names[i]))
				o->status = (enum outbox_status)i;
		o->attempts = sqlite3_column_int(stmt, 7);
		o->last_error = column_dup(stmt, 8);
		o->created_at = column_time(stmt, 9);
		o->delivered_at = column_time(stmt, 10);
	}
	store_done(st, stmt);
	if (rc != SQLITE_DONE) {
		outbox_list_free(list, n);
		return store_db_error(st, "cannot read the outbox");
	}
	*out = list;
	*nr = n;
	return 0;
}

void outbox_list_free(struct outbox_item *list, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(list[i].key);
		free(list[i].target);
		free(list[i].operation);
		free(list[i].payload);
		free(list[i].last_error);
	}
	free(list);
}

static int outbox_update(struct store *st, const char *sql, long long id,
			 const char *text)
{
	sqlite3_stmt *stmt = NULL;
	char at[32];
	int ret = -1;

	now_text(at, sizeof(at));
	if (begin(st) < 0)
		return -1;
	if (store_prepare(st, &stmt, sql) < 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_text(stmt, 2, at, -1, SQLITE_STATIC);
	if (text)
		sqlite3_bind_text(stmt, 3, text, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		store_db_error(st, "cannot update the outbox");
		goto out;
	}
	ret = commit(st);
out:
	if (ret)
		rollback(st);
	store_done(st, stmt);
	return ret;
}

int store_outbox_attempt(struct store *st, long long id)
{
	return outbox_update(st, "UPDATE outbox SET attempts = attempts + 1"
				 " WHERE id = ?1 AND ?2 IS NOT NULL", id, NULL);
}

int store_outbox_delivered(struct store *st, long long id)
{
	return outbox_update(st, "UPDATE outbox SET status = 'delivered', delivered_at = ?2,"
				 " last_error = NULL WHERE id = ?1", id, NULL);
}

int store_outbox_error(struct store *st, long long id, const char *message,
		       int permanent)
{
	return outbox_update(st, permanent ?
			     "UPDATE outbox SET status = 'failed', last_error = ?3"
			     " WHERE id = ?1 AND ?2 IS NOT NULL" :
			     "UPDATE outbox SET last_error = ?3 WHERE id = ?1 AND ?2 IS NOT NULL",
			     id, message);
}

int store_outbox_retry(struct store *st, long long id)
{
	return outbox_update(st, "UPDATE outbox SET status = 'pending'"
				 " WHERE status = 'failed' AND (?1 = 0 OR id = ?1) AND ?2 IS NOT NULL",
			     id, NULL);
}

int store_delivery_lock(struct store *st)
{
	char *path;
	int64_t waited = 0;

	if (st->deliver_fd >= 0)
		return 0;
	path = xstrfmt("%s-deliver", st->path);
	st->deliver_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->deliver_fd < 0) {
		error_errno("cannot open %s", path);
		free(path);
		return -1;
	}
	free(path);
	while (flock(st->deliver_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			error_errno("cannot lock the outbox of %s", st->path);
			close(st->deliver_fd);
			st->deliver_fd = -1;
			return -1;
		}
		if (waited >= st->busy_timeout_ms) {
			close(st->deliver_fd);
			st->deliver_fd = -1;
			return 1;
		}
		sqlite3_sleep(50);
		waited += 50;
	}
	return 0;
}

void store_delivery_unlock(struct store *st)
{
	if (st->deliver_fd < 0)
		return;
	flock(st->deliver_fd, LOCK_UN);
	close(st->deliver_fd);
	st->deliver_fd = -1;
}

int store_check_record(struct store *st, const char *fingerprint, const char *source,
		       int failing, const char *summary, int *failures, int *passes)
{
	sqlite3_stmt *stmt = NULL;
	char at[32];
	int ret = -1;

	now_text(at, sizeof(at));
	if (begin(st) < 0)
		return -1;
	/* A failure ends a run of passes and the other way round. */
	if (store_prepare(st, &stmt, "INSERT INTO checks (fingerprint, source, failures, passes,"
			       " last_status, last_seen, summary) VALUES (?1, ?2, ?3, 1 - ?3, ?4, ?5, ?6)"
			       " ON CONFLICT (fingerprint) DO UPDATE SET"
			       "  failures = CASE WHEN ?3 THEN failures + 1 ELSE 0 END,"
			       "  passes = CASE WHEN ?3 THEN 0 ELSE passes + 1 END,"
			       "  last_status = ?4, last_seen = ?5, summary = ?6"
			       " RETURNING failures, passes") < 0)
		goto out;
	sqlite3_bind_text(stmt, 1, fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, source, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 3, !!failing);
	sqlite3_bind_text(stmt, 4, failing ? "failing" : "ok", -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, at, -1, SQLITE_STATIC);
	if (summary)
		sqlite3_bind_text(stmt, 6, summary, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_db_error(st, "cannot record a check");
		goto out;
	}
	*failures = sqlite3_column_int(stmt, 0);
	*passes = sqlite3_column_int(stmt, 1);
	sqlite3_step(stmt); /* RETURNING is done after its row */
	store_done(st, stmt);
	stmt = NULL;
	ret = commit(st);
out:
	if (ret)
		rollback(st);
	store_done(st, stmt);
	return ret;
}

int store_check_peek(struct store *st, const char *fingerprint, int *failures, int *passes)
{
	sqlite3_stmt *stmt;
	int rc;

	*failures = *passes = 0;
	if (store_prepare(st, &stmt, "SELECT failures, passes FROM checks WHERE fingerprint = ?") < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, fingerprint, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*failures = sqlite3_column_int(stmt, 0);
		*passes = sqlite3_column_int(stmt, 1);
	}
	store_done(st, stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_db_error(st, "cannot read a check");
}

const char *store_path(const struct store *st)
{
	return st->path;
}

/* ---- leases: one run at a time works on an incident ---- */

/*
 * When this process started, in clock ticks since boot (field 22 of
 * /proc/<pid>/stat), as text: with the pid, it names one process, even
 * after the pid is reused. "" when it cannot be read.
 */
static void process_start(struct strbuf *out, long long pid)
{
	long long t = process_start_time(pid);

	if (t >= 0)
		strbuf_addf(out, "%lld", t);
}

static void this_host(char *buf, size_t size)
{
	if (gethostname(buf, size) < 0)
		snprintf(buf, size, "localhost");
	buf[size - 1] = '\0';
}

/* Is the lease's holder gone: expired, or a process of this host that no longer runs? */
static int lease_stale(const struct lease *l, const char *host, time_t now)
{
	struct strbuf start = STRBUF_INIT;
	int gone;

	if (now >= l->expires_at)
		return 1;
	if (strcmp(l->host, host))
		return 0;
	if (l->pid <= 0 || (kill((pid_t)l->pid, 0) < 0 && errno == ESRCH))
		return 1;
	process_start(&start, l->pid);
	gone = start.len && l->started && strcmp(start.buf, l->started);
	strbuf_release(&start);
	return gone;
}

void lease_release(struct lease *l)
{
	free(l->host);
	free(l->started);
	free(l->command);
	memset(l, 0, sizeof(*l));
}

/*
 * Is incident id's lease held by another live run? 1 (and *holder filled
 * when not NULL), 0 when it is free, stale or this process's own, -1.
 */
static int lease_holder(struct store *st, long long id, struct lease *holder)
{
	sqlite3_stmt *stmt;
	struct lease l = { 0 };
	char host[256];
	int rc, held = 0;

	if (store_prepare(st, &stmt, "SELECT host, pid, started, command, taken_at, expires_at"
			       " FROM leases WHERE incident_id = ?") < 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		l.host = xstrdup((const char *)sqlite3_column_text(stmt, 0));
		l.pid = sqlite3_column_int64(stmt, 1);
		l.started = xstrdup((const char *)sqlite3_column_text(stmt, 2));
		l.command = xstrdup((const char *)sqlite3_column_text(stmt, 3));
		l.taken_at = (time_t)sqlite3_column_int64(stmt, 4);
		l.expires_at = (time_t)sqlite3_column_int64(stmt, 5);
	}
	store_done(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(st, "cannot read a lease");
	this_host(host, sizeof(host));
	if (rc == SQLITE_ROW && !(l.pid == (long long)getpid() && !strcmp(l.host, host)) &&
	    !lease_stale(&l, host, time(NULL))) {
		held = 1;
		if (holder) {
			*holder = l;
			memset(&l, 0, sizeof(l));
		}
	}
	lease_release(&l);
	return held;
}

/* One try: 0 taken, 1 held (and *holder filled), -1. */
static int lease_try(struct store *st, long long id, const char *command, int ttl_s,
		     struct lease *holder)
{
	struct strbuf start = STRBUF_INIT;
	sqlite3_stmt *stmt = NULL;
	char host[256];
	time_t now = time(NULL);
	int rc, ret = -1;

	this_host(host, sizeof(host));
	process_start(&start, (long long)getpid());
	if (begin(st) < 0)
		goto out;
	rc = lease_holder(st, id, holder);
	if (rc) {
		if (rc > 0 && !(ret = commit(st)))
			ret = 1;
		goto out;
	}
	if (store_prepare(st, &stmt, "INSERT OR REPLACE INTO leases (incident_id, host, pid, started,"
			       " command, taken_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)") < 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_text(stmt, 2, host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, (long long)getpid());
	sqlite3_bind_text(stmt, 4, start.buf, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, command, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 6, (long long)now);
	sqlite3_bind_int64(stmt, 7, (long long)now + ttl_s);
	rc = sqlite3_step(stmt);
	store_done(st, stmt);
	stmt = NULL;
	if (rc != SQLITE_DONE) {
		store_db_error(st, "cannot take a lease");
		goto out;
	}
	ret = commit(st);
	if (!ret) {
		size_t i;
		for (i = 0; i < st->nleases && st->leases[i] != id; i++)
			;
		if (i == st->nleases) {
			ALLOC_GROW(st->leases, st->nleases + 1, st->alloc_leases);
			st->leases[st->nleases++] = id;
		}
	}
out:
	if (ret < 0)
		rollback(st);
	store_done(st, stmt);
	strbuf_release(&start);
	return ret;
}

int store_lease_take(struct store *st, long long id, const char *command, int ttl_s,
		     int64_t wait_ms, struct lease *holder)
{
	int64_t waited = 0;
	int r;

	for (;;) {
		if (holder)
			lease_release(holder);
		r = lease_try(st, id, command, ttl_s, holder);
		if (r != 1 || waited >= wait_ms)
			return r;
		sqlite3_sleep(100);
		waited += 100;
	}
}

int store_lease_held(struct store *st, long long id, struct lease *holder)
{
	return lease_holder(st, id, holder);
}

void store_lease_release(struct store *st, long long id)
{
	sqlite3_stmt *stmt;
	char host[256];
	size_t i;

	for (i = 0; i < st->nleases && st->leases[i] != id; i++)
		;
	if (i == st->nleases)
		return;
	st->leases[i] = st->leases[--st->nleases];
	this_host(host, sizeof(host));
	/* Only our own row: a lease taken over after it went stale is not ours to drop. */
	if (store_prepare(st, &stmt, "DELETE FROM leases WHERE incident_id = ? AND host = ? AND pid = ?") < 0)
		return;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_text(stmt, 2, host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, (long long)getpid());
	if (sqlite3_step(stmt) != SQLITE_DONE)
		store_db_error(st, "cannot release a lease");
	store_done(st, stmt);
}
