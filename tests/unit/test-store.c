/*
 * test-store.c: unit tests of lib/store.c on real SQLite files, printing TAP.
 *
 * What the store writes is checked through a second, independent sqlite3
 * handle, as another process would see it. The concurrency test runs real
 * processes against one file at the same instant. Messages from error()
 * are captured through a temporary file on fd 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/store.h"
#include "../../lib/strbuf.h"
#include "test-lib.h"

#define BUSY_MS 30000
#define T0 "2026-11-24T05:07:00Z"
#define T0_SECS 1795496820
#define T1 "2026-11-24T06:00:00Z"
#define T1_SECS (T0_SECS + 53 * 60)

static int file_mode(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : (int)(st.st_mode & 07777);
}

/* ---- a second look at the file, through our own sqlite3 handle ---- */

static sqlite3 *db_open(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		printf("# cannot open %s: %s\n", path, db ? sqlite3_errmsg(db) : "no memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, BUSY_MS);
	return db;
}

/* The first column of the first row of sql, as text ("(error)" on failure). */
static char *db_text(const char *path, const char *sql)
{
	sqlite3 *db = db_open(path);
	sqlite3_stmt *stmt = NULL;
	char *res = NULL;

	if (db && sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(stmt, 0);
		res = xstrdup(t ? (const char *)t : "(null)");
	} else {
		printf("# %s: %s\n", sql, db ? sqlite3_errmsg(db) : "no database");
		res = xstrdup("(error)");
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return res;
}

static long long db_int(const char *path, const char *sql)
{
	char *t = db_text(path, sql);
	long long n = -999;

	if (strcmp(t, "(error)"))
		n = strtoll(t, NULL, 10);
	free(t);
	return n;
}

/* Run sql on our own handle; returns the SQLite code, message in *msg. */
static int db_exec(const char *path, const char *sql, struct strbuf *msg)
{
	sqlite3 *db = db_open(path);
	char *err = NULL;
	int rc;

	if (!db)
		return SQLITE_CANTOPEN;
	rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	strbuf_reset(msg);
	if (err)
		strbuf_addstr(msg, err);
	sqlite3_free(err);
	sqlite3_close(db);
	return rc;
}

/* ---- helpers on the store ---- */

static long long open_incident(struct store *st, const char *service, const char *title,
			       const char *fingerprint, int *created)
{
	struct incident_new in = {
		.service = service, .title = title, .fingerprint = fingerprint,
		.severity = SEVERITY_HIGH, .actor = "alice",
	};
	long long id = -1;
	int c = -1, ret;

	capture_start();
	ret = store_incident_open(st, &in, &id, &c);
	capture_end();
	if (ret) {
		printf("# store_incident_open(%s) returned %d\n", title, ret);
		diag_text("stderr", captured.buf);
		return -1;
	}
	if (created)
		*created = c;
	return id;
}

static int transition(struct store *st, long long id, int expected, enum incident_state to)
{
	int ret;

	capture_start();
	ret = store_incident_transition(st, id, expected, to, "bob", "because", NULL);
	capture_end();
	return ret;
}

static int state_of(struct store *st, long long id)
{
	struct incident inc;
	int s;

	if (store_incident_get(st, id, &inc))
		return -1;
	s = inc.state;
	incident_release(&inc);
	return s;
}

static long long nr_events(struct store *st, long long id)
{
	struct event *ev = NULL;
	size_t nr = 0;

	if (store_event_list(st, id, &ev, &nr) < 0)
		return -1;
	event_list_free(ev, nr);
	return (long long)nr;
}

/* ---- opening ---- */

static void test_open(void)
{
	char *dir = tmp_path("state"), *deep = tmp_path("state/deep");
	char *path = tmp_path("state/deep/sre.db"), *other = tmp_path("umask0.db");
	struct store *st = NULL;
	char *mode;
	int ret;

	umask(022);
	capture_start();
	ret = store_open(&st, path, BUSY_MS);
	capture_end();
	is_int(ret, 0, "store_open creates a store on a fresh path");
	is_str(captured.buf, "", "and says nothing");
	ok(st != NULL, "it hands back a store");
	is_int(file_mode(path), 0600, "the store file is mode 0600");
	is_int(file_mode(dir), 0700, "a missing parent directory is created mode 0700");
	is_int(file_mode(deep), 0700, "every missing parent directory is created mode 0700");
	is_int(db_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION,
	       "PRAGMA user_version is STORE_SCHEMA_VERSION");
	mode = db_text(path, "PRAGMA journal_mode");
	is_str(mode, "wal", "the journal mode is WAL");
	free(mode);
	is_int(db_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND"
			    " name IN ('incidents', 'events', 'outbox')"), 3,
	       "the incidents, events and outbox tables exist");
	store_free(st);

	umask(0);
	st = NULL;
	capture_start();
	ret = store_open(&st, other, BUSY_MS);
	capture_end();
	ok(ret == 0 && file_mode(other) == 0600, "the store file is mode 0600 even under umask 0");
	store_free(st);
	umask(022);

	free(dir);
	free(deep);
	free(path);
	free(other);
}

static void test_reopen(void)
{
	char *path = tmp_path("reopen.db"), *schema, *schema2;
	struct store *st = NULL;
	struct incident inc;
	long long id;
	int ret;

	store_open(&st, path, BUSY_MS);
	id = open_incident(st, "api", "Kept across opens", NULL, NULL);
	store_free(st);
	schema = db_text(path, "SELECT group_concat(sql, ';') FROM sqlite_master");

	st = NULL;
	capture_start();
	ret = store_open(&st, path, BUSY_MS);
	capture_end();
	is_int(ret, 0, "an existing store opens again");
	is_str(captured.buf, "", "without a message (no second migration)");
	ok(ret == 0 && store_incident_get(st, id, &inc) == 0 && !strcmp(inc.title, "Kept across opens"),
	   "what was stored is still there");
	if (ret == 0)
		incident_release(&inc);
	store_free(st);
	schema2 = db_text(path, "SELECT group_concat(sql, ';') FROM sqlite_master");
	is_str(schema2, schema, "the schema is unchanged by reopening");
	is_int(db_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION, "user_version is unchanged");
	free(schema);
	free(schema2);
	free(path);
}

static void test_refused_files(void)
{
	char *path = tmp_path("newer.db"), *junk = tmp_path("junk.db");
	struct strbuf msg = STRBUF_INIT, content = STRBUF_INIT;
	struct store *st = NULL;
	int ret, fd;

	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	db_exec(path, "CREATE TABLE theirs (x); PRAGMA user_version = 99", &msg);
	capture_start();
	ret = store_open(&st, path, BUSY_MS);
	capture_end();
	is_int(ret, -1, "a store with user_version 99 is refused");
	like(captured.buf, "newer", "the error says the store is newer than this sre");
	like(captured.buf, path, "the error names the file");
	is_int(db_int(path, "PRAGMA user_version"), 99, "the newer store's version is not touched");
	is_int(db_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'incidents'"), 0,
	       "no table is added to the newer store");

	fd = open(junk, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "hello", 5) != 5)
		perror(junk);
	close(fd);
	st = NULL;
	capture_start();
	ret = store_open(&st, junk, BUSY_MS);
	capture_end();
	is_int(ret, -1, "a file that is not a database is refused");
	like(captured.buf, "not an SQLite database", "the error says it is not a database");
	like(captured.buf, junk, "the error names the file");
	strbuf_read_file(&content, junk, 0);
	is_str(content.buf, "hello", "the file is left as it was");

	strbuf_release(&msg);
	strbuf_release(&content);
	free(path);
	free(junk);
}

/* ---- incidents, transitions, events ---- */

static void test_incidents(void)
{
	char *path = tmp_path("incidents.db"), *fp;
	struct strbuf msg = STRBUF_INIT;
	struct store *st = NULL;
	struct incident inc;
	struct event *ev = NULL;
	size_t nr = 0;
	long long id, id2, again, n;
	int created = -1, ret;

	setenv("SRE_NOW", T0, 1);
	store_open(&st, path, BUSY_MS);

	id = open_incident(st, "api", "Disk full", NULL, &created);
	ok(id > 0 && created == 1, "a new fingerprint opens an incident (created 1)");
	ok(store_incident_get(st, id, &inc) == 0, "the incident can be read back");
	fp = incident_default_fingerprint("manual", "api", "Disk full");
	ok(inc.state == STATE_INCIDENT_DETECTED && inc.severity == SEVERITY_HIGH &&
	   !strcmp(inc.service, "api") && !strcmp(inc.title, "Disk full") &&
	   !strcmp(inc.source, "manual") && !strcmp(inc.fingerprint, fp) && inc.occurrences == 1,
	   "it starts INCIDENT_DETECTED, with its fields, source manual and the default fingerprint");
	ok(inc.opened_at == T0_SECS && inc.updated_at == T0_SECS && inc.resolved_at == 0,
	   "opened_at and updated_at are now (SRE_NOW), resolved_at unset");
	incident_release(&inc);
	free(fp);

	setenv("SRE_NOW", T1, 1);
	again = open_incident(st, "api", "disk   FULL", NULL, &created);
	is_int(again, id, "the same problem (title folded) counts on the same incident");
	is_int(created, 0, "created is 0 for an occurrence");
	store_incident_get(st, id, &inc);
	ok(inc.occurrences == 2 && !strcmp(inc.title, "Disk full") && inc.updated_at == T1_SECS &&
	   inc.opened_at == T0_SECS,
	   "occurrences is 2, the title and opened_at stay, updated_at moves");
	incident_release(&inc);
	store_event_list(st, id, &ev, &nr);
	ok(nr == 2 && !strcmp(ev[0].kind, "opened") && !strcmp(ev[1].kind, "occurrence") &&
	   !strcmp(ev[1].actor, "alice") && strstr(ev[1].body, "\"occurrences\":2") && ev[1].at == T1_SECS,
	   "the timeline has the opening and the occurrence, with actor, count and time");
	event_list_free(ev, nr);
	is_int(db_int(path, "SELECT count(*) FROM incidents"), 1, "the store holds one incident");

	ok(open_incident(st, "db", "Disk full", NULL, &created) != id && created == 1,
	   "the same title on another service is another incident");
	id2 = open_incident(st, "api", "CPU high", "alert/cpu", &created);
	ok(id2 > 0 && created == 1, "an explicit fingerprint opens an incident");
	ok(open_incident(st, "api", "CPU very high", "alert/cpu", &created) == id2 && created == 0,
	   "an explicit fingerprint deduplicates whatever the title");

	/* Transitions. */
	n = nr_events(st, id);
	is_int(transition(st, id, -1, STATE_ANALYSIS_IN_PROGRESS), 0,
	       "INCIDENT_DETECTED -> ANALYSIS_IN_PROGRESS is done");
	is_int(state_of(st, id), STATE_ANALYSIS_IN_PROGRESS, "the state changed");
	store_event_list(st, id, &ev, &nr);
	ok(nr == (size_t)n + 1 && !strcmp(ev[nr - 1].kind, "transition") && !strcmp(ev[nr - 1].actor, "bob") &&
	   strstr(ev[nr - 1].body, "\"from\":\"INCIDENT_DETECTED\"") &&
	   strstr(ev[nr - 1].body, "\"to\":\"ANALYSIS_IN_PROGRESS\"") &&
	   strstr(ev[nr - 1].body, "\"reason\":\"because\""),
	   "a transition event records actor, from, to and reason");
	event_list_free(ev, nr);

	setenv("SRE_NOW", "2026-11-25T00:00:00Z", 1);
	n = nr_events(st, id);
	is_int(transition(st, id, -1, STATE_PR_MERGED), STORE_REFUSED,
	       "ANALYSIS_IN_PROGRESS -> PR_MERGED is refused with STORE_REFUSED");
	like(captured.buf, "ANALYSIS_IN_PROGRESS", "the error names the current state");
	like(captured.buf, "PR_MERGED", "the error names the refused state");
	is_int(state_of(st, id), STATE_ANALYSIS_IN_PROGRESS, "a refused move leaves the state");
	is_int(nr_events(st, id), n, "a refused move adds no event");
	store_incident_get(st, id, &inc);
	is_int(inc.updated_at, T1_SECS, "a refused move leaves updated_at");
	incident_release(&inc);

	is_int(transition(st, id, STATE_INCIDENT_DETECTED, STATE_ANALYSIS_COMPLETE), STORE_REFUSED,
	       "a move expecting INCIDENT_DETECTED is refused when the incident moved on");
	like(captured.buf, "INCIDENT_DETECTED", "the error names the expected state");
	is_int(state_of(st, id), STATE_ANALYSIS_IN_PROGRESS, "an outdated move leaves the state");
	is_int(nr_events(st, id), n, "an outdated move adds no event");
	is_int(transition(st, id, STATE_ANALYSIS_IN_PROGRESS, STATE_ANALYSIS_COMPLETE), 0,
	       "a move expecting the current state is done");
	is_int(state_of(st, id), STATE_ANALYSIS_COMPLETE, "and the state changed");
	is_int(transition(st, 99999, -1, STATE_ANALYSIS_COMPLETE), 1, "moving a missing incident gives 1");

	is_int(transition(st, id, -1, STATE_INCIDENT_REQUIRES_HUMAN), 0, "an open incident can be escalated");
	store_incident_get(st, id, &inc);
	is_int(inc.resolved_at, 0, "resolved_at stays unset while open");
	incident_release(&inc);
	setenv("SRE_NOW", T1, 1);
	is_int(transition(st, id, -1, STATE_INCIDENT_RESOLVED), 0, "a person resolves the escalated incident");
	store_incident_get(st, id, &inc);
	ok(inc.state == STATE_INCIDENT_RESOLVED && inc.resolved_at == T1_SECS && inc.updated_at == T1_SECS,
	   "resolved_at (and updated_at) are set to the time of resolution");
	incident_release(&inc);
	is_int(transition(st, id, -1, STATE_INCIDENT_REQUIRES_HUMAN), STORE_REFUSED,
	       "a resolved incident cannot be reopened or escalated");

	again = open_incident(st, "api", "Disk full", NULL, &created);
	ok(again > 0 && again != id && created == 1,
	   "the fingerprint of a resolved incident opens a new incident");
	store_incident_get(st, id, &inc);
	ok(inc.state == STATE_INCIDENT_RESOLVED && inc.occurrences == 2,
	   "the resolved incident is left alone");
	incident_release(&inc);
	ok(open_incident(st, "api", "Disk full", NULL, &created) == again && created == 0,
	   "the next occurrence counts on the new incident");

	/* The timeline is append-only, whoever writes to the file. */
	n = db_int(path, "SELECT count(*) FROM events");
	ok(db_exec(path, "UPDATE events SET actor = 'mallory'", &msg) != SQLITE_OK,
	   "an UPDATE of events fails, even from another connection");
	like(msg.buf, "append-only", "the trigger says events are append-only");
	ok(db_exec(path, "DELETE FROM events", &msg) != SQLITE_OK, "a DELETE of events fails");
	like(msg.buf, "append-only", "the trigger says events are append-only");
	is_int(db_int(path, "SELECT count(*) FROM events WHERE actor = 'mallory'"), 0, "no event was changed");
	is_int(db_int(path, "SELECT count(*) FROM events"), n, "no event was removed");

	capture_start();
	ret = store_event_append(st, 99999, "note", "alice", "{}");
	capture_end();
	is_int(ret, 1, "store_event_append on a missing incident gives 1");
	is_int(db_int(path, "SELECT count(*) FROM events"), n, "and adds nothing");
	is_int(store_event_append(st, again, "note", "carol", "{\"text\":\"checked the disk\"}"), 0,
	       "store_event_append adds an event");
	store_event_list(st, again, &ev, &nr);
	ok(nr > 0 && !strcmp(ev[nr - 1].kind, "note") && !strcmp(ev[nr - 1].actor, "carol") &&
	   !strcmp(ev[nr - 1].body, "{\"text\":\"checked the disk\"}"),
	   "the appended event comes last with its kind, actor and body");
	event_list_free(ev, nr);
	capture_start();
	ret = store_event_append(st, again, "note", "carol", "{not json");
	capture_end();
	is_int(ret, -1, "an event body that is not JSON is refused");
	is_int(db_int(path, "SELECT count(*) FROM events"), n + 1, "and not stored");

	unsetenv("SRE_NOW");
	store_free(st);
	strbuf_release(&msg);
	free(path);
}

/* The ids of a listing, as "1,2,3". Caller frees. */
static char *list_ids(struct store *st, int all, int state, const char *service)
{
	struct incident_filter f = { all, state, service };
	struct incident *list = NULL;
	struct strbuf sb = STRBUF_INIT;
	size_t nr = 0;

	if (store_incident_list(st, &f, &list, &nr) < 0)
		return xstrdup("(error)");
	for (size_t i = 0; i < nr; i++)
		strbuf_addf(&sb, "%s%lld", i ? "," : "", list[i].id);
	incident_list_free(list, nr);
	return strbuf_detach(&sb, NULL);
}

#define list_is(st, all, state, service, want, ...) \
	do { \
		char *got_ = list_ids((st), (all), (state), (service)); \
		is_str(got_, (want), __VA_ARGS__); \
		free(got_); \
	} while (0)

static void test_list(void)
{
	char *path = tmp_path("list.db");
	struct store *st = NULL;

	store_open(&st, path, BUSY_MS);
	open_incident(st, "api", "one", NULL, NULL);   /* 1: api, detected */
	open_incident(st, "api", "two", NULL, NULL);   /* 2: api, analysing */
	open_incident(st, "db", "three", NULL, NULL);  /* 3: db, detected */
	open_incident(st, "api", "four", NULL, NULL);  /* 4: api, resolved */
	transition(st, 2, -1, STATE_ANALYSIS_IN_PROGRESS);
	transition(st, 4, -1, STATE_INCIDENT_REQUIRES_HUMAN);
	transition(st, 4, -1, STATE_INCIDENT_RESOLVED);

	list_is(st, 0, -1, NULL, "1,2,3", "the default listing shows the open incidents, by id");
	list_is(st, 1, -1, NULL, "1,2,3,4", "--all adds the resolved ones");
	list_is(st, 0, STATE_ANALYSIS_IN_PROGRESS, NULL, "2", "a state filter keeps that state");
	list_is(st, 0, STATE_INCIDENT_RESOLVED, NULL, "4", "filtering on INCIDENT_RESOLVED shows resolved ones");
	list_is(st, 0, -1, "db", "3", "a service filter keeps that service");
	list_is(st, 0, -1, "api", "1,2", "a service filter still hides resolved incidents");
	list_is(st, 1, -1, "api", "1,2,4", "service and --all together");
	list_is(st, 0, STATE_INCIDENT_DETECTED, "api", "1", "state and service together");
	list_is(st, 1, -1, "nope", "", "an unknown service lists nothing");
	store_free(st);
	free(path);
}

/* ---- many writers at once ---- */

#define WRITERS 4
#define EACH 50

/*
 * One writer process: wait for the start, open the store, then open each
 * own incidents and count occurrences of the shared one. Messages go to
 * writer-<n>.err. Returns the exit code: 0 when every call succeeded.
 */
static int writer(const char *path, int n, int each, int start_fd)
{
	char *errpath = xstrfmt("%s/writer-%d.err", tmpdir, n);
	int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600), failures = 0;
	struct store *st = NULL;
	char c;

	dup2(fd, 2);
	close(fd);
	free(errpath);
	/* Wait for the starting gun: the parent closes the pipe. */
	while (read(start_fd, &c, 1) < 0 && errno == EINTR)
		;
	close(start_fd);
	if (store_open(&st, path, BUSY_MS) < 0)
		return 1;
	for (int i = 0; i < each; i++) {
		char *title = xstrfmt("writer %d incident %d", n, i);
		struct incident_new own = {
			.service = "svc", .title = title, .severity = SEVERITY_LOW, .actor = "writer",
		};
		struct incident_new shared = {
			.service = "svc", .title = "shared problem", .fingerprint = "test/shared",
			.severity = SEVERITY_HIGH, .actor = "writer",
		};
		long long id;
		int created;

		if (store_incident_open(st, &own, &id, &created) || created != 1) {
			fprintf(stderr, "writer %d: incident %d failed\n", n, i);
			failures++;
		}
		if (store_incident_open(st, &shared, &id, &created)) {
			fprintf(stderr, "writer %d: occurrence %d failed\n", n, i);
			failures++;
		}
		free(title);
	}
	store_free(st);
	return failures ? 1 : 0;
}

/*
 * Start WRITERS writers on path at the same instant and wait for them.
 * Returns how many failed; *quiet is cleared when any printed something.
 */
static int run_writers(const char *path, int each, int *quiet)
{
	pid_t pids[WRITERS];
	int gun[2], failed = 0;

	if (pipe(gun) < 0) {
		perror("pipe");
		abort();
	}
	fflush(stdout);
	fflush(stderr);
	for (int n = 0; n < WRITERS; n++) {
		pids[n] = fork();
		if (pids[n] < 0) {
			perror("fork");
			abort();
		}
		if (!pids[n]) {
			close(gun[1]);
			_exit(writer(path, n, each, gun[0]));
		}
	}
	close(gun[0]);
	close(gun[1]); /* all writers start now, together */
	for (int n = 0; n < WRITERS; n++) {
		int status = -1;
		char *errpath = xstrfmt("%s/writer-%d.err", tmpdir, n);
		struct strbuf err = STRBUF_INIT;

		while (waitpid(pids[n], &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			if (!failed)
				printf("#   writer %d: wait status 0x%x\n", n, (unsigned)status);
			failed++;
		}
		strbuf_read_file(&err, errpath, 0);
		if (err.len) {
			if (*quiet)
				diag_text("stderr", err.buf);
			*quiet = 0;
		}
		strbuf_release(&err);
		free(errpath);
	}
	return failed;
}

static void test_concurrency(void)
{
	char *path = tmp_path("shared.db");
	struct store *st = NULL;
	int quiet = 1, failed;

	/* An existing store, as after the first run of sre. */
	if (store_open(&st, path, BUSY_MS) < 0)
		printf("# cannot create %s\n", path);
	store_free(st);

	failed = run_writers(path, EACH, &quiet);
	is_int(failed, 0, "%d processes writing one store at once all succeed", WRITERS);
	ok(quiet, "none of them printed an error (no \"database is locked\")");
	is_int(db_int(path, "SELECT count(*) FROM incidents"), WRITERS * EACH + 1,
	       "the store holds every writer's incidents plus one shared incident");
	is_int(db_int(path, "SELECT count(DISTINCT title) FROM incidents"), WRITERS * EACH + 1,
	       "each title is there once");
	is_int(db_int(path, "SELECT occurrences FROM incidents WHERE fingerprint = 'test/shared'"),
	       WRITERS * EACH, "the shared incident counted every occurrence");
	is_int(db_int(path, "SELECT count(*) FROM events"), 2 * WRITERS * EACH,
	       "one event per call: each opening and each occurrence");
	is_int(db_int(path, "SELECT count(*) FROM events WHERE kind = 'occurrence'"), WRITERS * EACH - 1,
	       "every occurrence after the first is in the timeline");
	free(path);
}

/*
 * The first run: several sre processes find no store and create it at the
 * same instant (two alerts arriving together on a fresh machine). Repeated
 * on fresh files, since a lost race shows only some of the time.
 */
static void test_first_run_race(void)
{
	int rounds = 50, failed = 0, quiet = 1, bad_counts = 0;

	for (int r = 0; r < rounds; r++) {
		char *path = xstrfmt("%s/first-%d/sre.db", tmpdir, r);
		int f = run_writers(path, 1, &quiet);

		if (f && !failed)
			printf("#   round %d: %d writers failed\n", r, f);
		failed += f;
		if (db_int(path, "SELECT count(*) FROM incidents") != WRITERS + 1)
			bad_counts++;
		free(path);
	}
	is_int(failed, 0, "%d processes creating a fresh store at once all succeed (%d rounds)",
	       WRITERS, rounds);
	ok(quiet, "none of them printed an error");
	is_int(bad_counts, 0, "every round's store holds every writer's incident");
}

/* The pid of a process that has just exited. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

/* Take lease id in a child process, as a second sre would: its store_lease_take(). */
static int lease_in_child(const char *path, long long id)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct store *st = NULL;
		int r = store_open(&st, path, BUSY_MS) < 0 ? -1 :
			store_lease_take(st, id, "sre fix", 60, 0, NULL);
		store_free(st);
		_exit(r < 0 ? 3 : r);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_leases(void)
{
	char *path = tmp_path("leases.db");
	struct incident_new in = { "api", "api is down", NULL, "test", SEVERITY_HIGH, "tester" };
	struct store *st = NULL;
	struct lease holder = { 0 };
	long long id = 0;
	int created;
	char *sql;

	if (store_open(&st, path, BUSY_MS) < 0 ||
	    store_incident_open(st, &in, &id, &created) < 0) {
		printf("# cannot set up %s\n", path);
		return;
	}
	is_int(store_lease_take(st, id, "sre fix", 60, 0, NULL), 0, "a free lease is taken");
	is_int(store_lease_take(st, id, "sre fix", 60, 0, NULL), 0, "taking it again in one process succeeds");
	is_int(lease_in_child(path, id), 1, "another process finds it held");
	is_int(store_lease_held(st, id, NULL), 0, "this process does not count as another run");
	store_lease_release(st, id);
	is_int(db_int(path, "SELECT count(*) FROM leases"), 0, "released, its row is gone");
	is_int(lease_in_child(path, id), 0, "then another process takes it (and lets it go on exit)");
	is_int(db_int(path, "SELECT count(*) FROM leases"), 0, "store_free() released it");

	/* A holder killed -9 on this host: its process is gone, so is its lease. */
	{
		char host[256];
		struct strbuf msg = STRBUF_INIT;
		gethostname(host, sizeof(host));
		host[sizeof(host) - 1] = '\0';
		sql = xstrfmt("INSERT INTO leases VALUES (%lld, '%s', %d, '1', 'sre fix', 0, 9999999999)",
			      id, host, (int)dead_pid());
		is_int(db_exec(path, sql, &msg), SQLITE_OK, "a lease of a dead process is planted");
		free(sql);
		is_int(store_lease_held(st, id, NULL), 0, "a dead holder's lease is not held");
		is_int(store_lease_take(st, id, "sre fix", 60, 0, NULL), 0, "and is taken over");
		store_lease_release(st, id);

		/* Another host's live-looking lease holds until it expires. */
		sql = xstrfmt("INSERT INTO leases VALUES (%lld, 'elsewhere', 1, '1', 'sre diagnose', 100, 9999999999)", id);
		is_int(db_exec(path, sql, &msg), SQLITE_OK, "another host's lease is planted");
		free(sql);
		is_int(store_lease_take(st, id, "sre fix", 60, 300, &holder), 1,
		       "another host's lease is held, after waiting");
		ok(holder.host && !strcmp(holder.host, "elsewhere") && holder.pid == 1 &&
		   holder.command && !strcmp(holder.command, "sre diagnose"), "the holder is named");
		lease_release(&holder);
		sql = xstrfmt("UPDATE leases SET expires_at = 100 WHERE incident_id = %lld", id);
		is_int(db_exec(path, sql, &msg), SQLITE_OK, "the lease expires");
		free(sql);
		is_int(store_lease_take(st, id, "sre fix", 60, 0, NULL), 0, "an expired lease is taken over");
		strbuf_release(&msg);
	}
	store_free(st);
	free(path);
}

int main(void)
{
	if (test_begin("store") < 0)
		return 1;
	test_open();
	test_reopen();
	test_refused_files();
	test_incidents();
	test_list();
	test_concurrency();
	test_first_run_race();
	test_leases();
	return test_end();
}
