/*
 * adviser-cache.c: the LLM adviser's answers kept in the store, keyed by
 * a SHA-256 digest of what the model was asked: the provider, the model,
 * the prompt's version and the evidence (adviser.h). Only an answer that
 * passed the checks is kept, and a cached one is checked again before it
 * is used; an answer is an object of submit_diagnosis's shape.
 */
#include <sqlite3.h>

#include "adviser.h"
#include "json.h"
#include "sha256.h"
#include "store-internal.h"
#include "timeutil.h"
#include "util.h"

static void add_json(struct sha256 *s, const cJSON *json)
{
	char *text = json ? cJSON_PrintUnformatted(json) : NULL;

	if (text)
		sha256_update(s, text, strlen(text));
	sha256_update(s, "", 1);
	free(text);
}

static void add_str(struct sha256 *s, const char *text)
{
	if (text)
		sha256_update(s, text, strlen(text));
	sha256_update(s, "", 1);
}

static void add_evidence(struct sha256 *s, const struct evidence *ev)
{
	/*
	 * The incident by what stays: its timeline and state move with every
	 * diagnosis, and would make each question new.
	 */
	static const char *const stable[] = { "fingerprint", "service", "title", "source",
					      "opened_at" };
	const cJSON *const parts[] = { ev->pods, ev->events, ev->deployments,
				       ev->replicasets, ev->graph_replicasets, ev->docker, ev->traces,
				       ev->commits, ev->host, ev->past };

	add_str(s, ev->service);
	for (size_t i = 0; i < ARRAY_SIZE(stable); i++)
		add_str(s, json_string(ev->incident, stable[i]));
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		add_json(s, parts[i]);
	for (size_t i = 0; i < ev->prometheus_nr; i++) {
		add_str(s, ev->prometheus[i].name);
		add_json(s, ev->prometheus[i].json);
	}
	for (size_t i = 0; i < ev->logs_nr; i++) {
		add_str(s, ev->logs[i].service);
		add_str(s, ev->logs[i].name);
		add_str(s, ev->logs[i].text);
	}
	if (ev->baseline) {
		add_str(s, "baseline");
		add_evidence(s, ev->baseline);
	}
}

void adviser_digest(char hex[65], const char *provider, const char *model,
		    const struct adviser_options *o, const struct evidence *ev)
{
	struct sha256 s;

	sha256_init(&s);
	add_str(&s, provider);
	add_str(&s, model);
	add_str(&s, ADVISER_PROMPT_VERSION);
	add_str(&s, o->anonymize ? "anonymized" : "plain");
	add_evidence(&s, ev);
	sha256_hex(&s, hex);
}

int adviser_cache_get(struct store *st, const char *digest, cJSON **answer)
{
	sqlite3_stmt *q;
	int r;

	*answer = NULL;
	if (store_prepare(st, &q, "SELECT answer FROM adviser_cache WHERE digest = ?") < 0)
		return -1;
	sqlite3_bind_text(q, 1, digest, -1, SQLITE_STATIC);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW)
		*answer = cJSON_Parse((const char *)sqlite3_column_text(q, 0));
	else if (r != SQLITE_DONE)
		r = store_db_error(st, "cannot read the adviser's cache");
	store_done(st, q);
	if (r < 0)
		return -1;
	return *answer ? 0 : 1;
}

int adviser_cache_put(struct store *st, const char *digest, const struct diagnosis_finding *f)
{
	cJSON *o = diagnosis_finding_json(f);
	char *text, now[32];
	sqlite3_stmt *q;
	int r;

	/* The shape submit_diagnosis takes: evidence as plain lines. */
	{
		cJSON *lines = cJSON_CreateArray(), *e;
		cJSON_ArrayForEach(e, json_get(o, "evidence"))
			cJSON_AddItemToArray(lines, cJSON_CreateString(json_string_or(e, "summary", "")));
		cJSON_ReplaceItemInObjectCaseSensitive(o, "evidence", lines);
		cJSON_DeleteItemFromObjectCaseSensitive(o, "rule");
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	format_iso8601(now, sizeof(now), sre_now());
	if (store_prepare(st, &q, "INSERT OR REPLACE INTO adviser_cache (digest, at, answer) "
			  "VALUES (?, ?, ?)") < 0) {
		free(text);
		return -1;
	}
	sqlite3_bind_text(q, 1, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, text, -1, SQLITE_STATIC);
	r = sqlite3_step(q) == SQLITE_DONE ? 0 : store_db_error(st, "cannot keep the adviser's answer");
	store_done(st, q);
	free(text);
	return r;
}
