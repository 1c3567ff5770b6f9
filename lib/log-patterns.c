/*
 * log-patterns.c: log templates per service in the store; see
 * log-patterns.h. The SQL of the log_templates table (migration 5 of
 * lib/store.c) lives here, beside the code that needs it.
 */
#include "log-patterns.h"
#include "redact.h"
#include "store-internal.h"
#include "timeutil.h"

void log_patterns_release(struct log_patterns *p)
{
	for (size_t i = 0; i < p->nr; i++)
		free(p->v[i].template);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

void log_patterns_from_miner(const struct logtemplate_miner *m, struct log_patterns *out)
{
	size_t *ids, n = logtemplate_by_count(m, &ids);

	for (size_t i = 0; i < n; i++) {
		const struct logtemplate *t = logtemplate_get(m, ids[i]);
		struct log_pattern *p;
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		p = &out->v[out->nr++];
		p->template = xstrdup(t->text);
		p->count = t->count;
		p->is_new = 0;
	}
	free(ids);
}

int log_patterns_seed(struct store *st, const char *service, struct logtemplate_miner *m)
{
	sqlite3_stmt *stmt;
	int rc;

	if (store_prepare(st, &stmt, "SELECT id, template, example FROM log_templates"
			  " WHERE service = ?1 ORDER BY first_seen, id LIMIT ?2") < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, service, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 2, LOG_PATTERNS_KEEP);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		logtemplate_seed(m, (const char *)sqlite3_column_text(stmt, 1),
				 (const char *)sqlite3_column_text(stmt, 2), sqlite3_column_int64(stmt, 0));
	store_done(st, stmt);
	return rc == SQLITE_DONE ? 0 : store_db_error(st, "cannot read the log templates");
}

/* The first_seen of row id, into buf ("" when there is no such row). */
static int first_seen(struct store *st, long long id, char *buf, size_t size)
{
	sqlite3_stmt *stmt;
	int rc;

	buf[0] = '\0';
	if (store_prepare(st, &stmt, "SELECT first_seen FROM log_templates WHERE id = ?1") < 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		snprintf(buf, size, "%s", (const char *)sqlite3_column_text(stmt, 0));
	store_done(st, stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 :
	       store_db_error(st, "cannot read the log templates");
}

static int has_baseline(struct store *st, const char *service, const char *since, int *out)
{
	sqlite3_stmt *stmt;
	int rc;

	if (store_prepare(st, &stmt, "SELECT 1 FROM log_templates WHERE service = ?1"
			  " AND first_seen < ?2 LIMIT 1") < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, service, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, since, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	*out = rc == SQLITE_ROW;
	store_done(st, stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 :
	       store_db_error(st, "cannot read the log templates");
}

/* Upsert one template; *first gets the first_seen it has now. */
static int upsert(struct store *st, const char *service, const struct logtemplate *t,
		  const char *text, const char *example, const char *now, char *first, size_t size)
{
	sqlite3_stmt *stmt;
	long long id = 0;
	int rc;
	char tagged[32];

	/* A row of that text already (its own, or another seed's that widened alike)? */
	if (store_prepare(st, &stmt, "SELECT id, first_seen FROM log_templates"
			  " WHERE service = ?1 AND template = ?2") < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, service, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(stmt, 0);
		snprintf(first, size, "%s", (const char *)sqlite3_column_text(stmt, 1));
	}
	store_done(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(st, "cannot read the log templates");
	if (t->tag && t->tag != id) {
		/* The seed it grew from: seen as early as that row was. */
		if (first_seen(st, t->tag, tagged, sizeof(tagged)) < 0)
			return -1;
		if (*tagged && (!id || strcmp(tagged, first) < 0))
			snprintf(first, size, "%s", tagged);
		if (!id && *tagged) {
			if (store_prepare(st, &stmt, "UPDATE log_templates SET template = ?2,"
					  " count = count + ?3, last_seen = ?4 WHERE id = ?1") < 0)
				return -1;
			sqlite3_bind_int64(stmt, 1, t->tag);
			sqlite3_bind_text(stmt, 2, text, -1, SQLITE_STATIC);
			sqlite3_bind_int64(stmt, 3, t->count);
			sqlite3_bind_text(stmt, 4, now, -1, SQLITE_STATIC);
			rc = sqlite3_step(stmt);
			store_done(st, stmt);
			return rc == SQLITE_DONE ? 0 : store_db_error(st, "cannot keep a log template");
		}
	}
	if (id) {
		if (store_prepare(st, &stmt, "UPDATE log_templates SET count = count + ?2,"
				  " last_seen = ?3 WHERE id = ?1") < 0)
			return -1;
		sqlite3_bind_int64(stmt, 1, id);
		sqlite3_bind_int64(stmt, 2, t->count);
		sqlite3_bind_text(stmt, 3, now, -1, SQLITE_STATIC);
	} else {
		snprintf(first, size, "%s", now);
		if (store_prepare(st, &stmt, "INSERT INTO log_templates(service, template, count,"
				  " example, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?5)") < 0)
			return -1;
		sqlite3_bind_text(stmt, 1, service, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 2, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 3, t->count);
		sqlite3_bind_text(stmt, 4, example, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 5, now, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(stmt);
	store_done(st, stmt);
	return rc == SQLITE_DONE ? 0 : store_db_error(st, "cannot keep a log template");
}

static int prune(struct store *st, const char *service)
{
	sqlite3_stmt *stmt;
	int rc;

	if (store_prepare(st, &stmt, "DELETE FROM log_templates WHERE service = ?1 AND id NOT IN"
			  " (SELECT id FROM log_templates WHERE service = ?1"
			  " ORDER BY last_seen DESC, id DESC LIMIT ?2)") < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, service, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 2, LOG_PATTERNS_KEEP);
	rc = sqlite3_step(stmt);
	store_done(st, stmt);
	return rc == SQLITE_DONE ? 0 : store_db_error(st, "cannot trim the log templates");
}

static int new_first(const void *a, const void *b)
{
	const struct log_pattern *x = a, *y = b;

	if (x->is_new != y->is_new)
		return y->is_new - x->is_new;
	if (x->count != y->count)
		return (x->count < y->count) - (x->count > y->count);
	return strcmp(x->template, y->template);
}

int log_patterns_record(struct store *st, const char *service, const struct logtemplate_miner *m,
			time_t now, time_t since, struct log_patterns *out)
{
	char now_s[32], since_s[32], first[32];
	size_t *ids, n = logtemplate_by_count(m, &ids);
	int baseline = 0, r;

	format_iso8601(now_s, sizeof(now_s), now);
	format_iso8601(since_s, sizeof(since_s), since);
	r = store_begin(st);
	if (!r && since)
		r = has_baseline(st, service, since_s, &baseline);
	for (size_t i = 0; i < n && !r; i++) {
		const struct logtemplate *t = logtemplate_get(m, ids[i]);
		/* The lines past the miner's limits are no template to remember. */
		int other = !strcmp(t->text, LOGTEMPLATE_OTHER);
		/* Logs that did not come through evidence_collect() are redacted here. */
		char *text = redact_str(t->text);

		if (!other) {
			char *example = redact_str(t->example);
			r = upsert(st, service, t, text, example, now_s, first, sizeof(first));
			free(example);
		}
		if (!r && out) {
			struct log_pattern *p;
			ALLOC_GROW(out->v, out->nr + 1, out->alloc);
			p = &out->v[out->nr++];
			p->template = text;
			text = NULL;
			p->count = t->count;
			p->is_new = !other && baseline && strcmp(first, since_s) >= 0;
		}
		free(text);
	}
	if (!r)
		r = prune(st, service);
	if (!r)
		r = store_commit(st);
	else
		store_rollback(st);
	free(ids);
	if (r) {
		if (out)
			log_patterns_release(out);
		return -1;
	}
	if (out) {
		out->baseline = baseline;
		qsort(out->v, out->nr, sizeof(*out->v), new_first);
	}
	return 0;
}
