/*
 * memory.c: sre remember's index and recall; see memory.h.
 */
#include <ctype.h>
#include <sys/random.h>
#include <unistd.h>
#include <cJSON.h>

#include "memory.h"
#include "store-internal.h"
#include "timeutil.h"

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

/* ---- to be filled in ---- */

void memory_hits_free(struct memory_hit *hits, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(hits[i].origin);
		free(hits[i].title);
		free(hits[i].service);
		free(hits[i].category);
		free(hits[i].resolution);
		free(hits[i].action);
		free(hits[i].why);
		free(hits[i].snippet);
	}
	free(hits);
}

int memory_index(struct store *st, const struct config *cfg, int rebuild, size_t *indexed)
{
	(void)st; (void)cfg; (void)rebuild;
	*indexed = 0;
	return 0;
}

int memory_index_one(struct store *st, const struct config *cfg, long long id)
{
	(void)st; (void)cfg; (void)id;
	return 0;
}

int memory_search(struct store *st, const char *text, const struct memory_recall *r,
		  struct memory_hit **out, size_t *nr)
{
	(void)st; (void)text; (void)r;
	*out = NULL;
	*nr = 0;
	return 0;
}

int memory_similar(struct store *st, const struct config *cfg, long long id,
		   const struct memory_recall *r, struct memory_hit **out, size_t *nr)
{
	(void)st; (void)cfg; (void)id; (void)r;
	*out = NULL;
	*nr = 0;
	return 0;
}

cJSON *memory_hit_json(const struct memory_hit *h)
{
	(void)h;
	return cJSON_CreateObject();
}

void known_errors_free(struct known_error *k, size_t nr)
{
	(void)k; (void)nr;
}

int memory_known_add(struct store *st, long long id, const char *runbook, const char *actor)
{
	(void)st; (void)id; (void)runbook; (void)actor;
	return 1;
}

int memory_known_list(struct store *st, struct known_error **out, size_t *nr)
{
	(void)st;
	*out = NULL;
	*nr = 0;
	return 0;
}

int memory_known_match(struct store *st, long long id, struct known_error *out)
{
	(void)st; (void)id; (void)out;
	return 1;
}

void chronic_free(struct chronic *c, size_t nr)
{
	(void)c; (void)nr;
}

int memory_chronic(struct store *st, const struct config *cfg, struct chronic **out, size_t *nr)
{
	(void)st; (void)cfg;
	*out = NULL;
	*nr = 0;
	return 0;
}

int memory_record(struct store *st, long long id, cJSON **out)
{
	(void)st; (void)id;
	*out = NULL;
	return 1;
}

int memory_import(struct store *st, const char *origin, const cJSON *record)
{
	(void)st; (void)origin; (void)record;
	return 1;
}
