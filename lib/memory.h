/*
 * memory.h: what sre remembers of past incidents, and how it recalls them.
 *
 * Each incident, this host's or one pulled from another host, is one row
 * of the store's memory table: what it was, what the diagnosis said, the
 * action taken and whether verification held (an action that did not
 * hold is remembered as one that failed), its comments and the templates
 * of its logs. An FTS5 index (porter stemming over unicode61, bm25 with
 * per-column weights) reads the rows where they are. Recall is
 * explainable: every hit says which fields and templates matched.
 * No network and no embeddings.
 */
#ifndef SRE_MEMORY_H
#define SRE_MEMORY_H

#include <time.h>

#include "strbuf.h"

struct store;
struct config;
struct cJSON;

/* One remembered incident as recall returns it. Strings owned: memory_hits_free(). */
struct memory_hit {
	long long id;        /* the incident's id at its origin */
	char *origin;        /* "local", or the host it was pulled from */
	char *title;
	char *service;
	char *category;      /* NULL when never diagnosed */
	double score;        /* higher is closer; comparable within one answer */
	char *resolution;    /* how it ended, in words; NULL when open */
	char *action;        /* the mitigation carried out, NULL when none */
	int worked;          /* 1 verified, 0 failed or did not hold, -1 none tried */
	char *why;           /* what matched: "same fingerprint; templates: ...; text: title" */
	char *snippet;       /* search only: the text that matched, NULL otherwise */
	int same_fingerprint;    /* similar only: the same problem, by fingerprint */
	double template_overlap; /* similar only: shared log templates, 0 to 1 (1 when neither has any) */
};
void memory_hits_free(struct memory_hit *hits, size_t nr);

struct memory_recall {
	int max;             /* at most this many hits (-n) */
	int include_chaos;   /* chaos experiments' incidents too */
	/*
	 * similar: the incident's log templates as diagnose just mined them
	 * (one a line), in place of those its last recorded diagnosis had;
	 * NULL for those.
	 */
	const char *templates;
};

/*
 * Index what changed since the last run (all of it when rebuild, which
 * also rebuilds a corrupt FTS index). Idempotent. *indexed counts the
 * incidents (re)indexed.
 */
int memory_index(struct store *st, const struct config *cfg, int rebuild, size_t *indexed);

/* Index one incident now (after it is resolved). 0, 1 no such incident, -1. */
int memory_index_one(struct store *st, const struct config *cfg, long long id);

/* Ranked past incidents matching free text: 0, 2 when it holds no word (said), -1. */
int memory_search(struct store *st, const char *text, const struct memory_recall *r,
		  struct memory_hit **out, size_t *nr);

/*
 * Past incidents most like incident id (never itself), by fingerprint,
 * service, templates, category and text, best first. 0, 1 no such
 * incident, -1.
 */
int memory_similar(struct store *st, const struct config *cfg, long long id,
		   const struct memory_recall *r, struct memory_hit **out, size_t *nr);

/* ---- known errors ---- */

struct known_error {
	long long id;
	char *fingerprint;
	char *templates;     /* one a line, or NULL */
	char *action;
	char *target;
	char *runbook;
	char *origin;
	long long incident_id;
	char *added_by;
	time_t added_at;
};
/* The strings of one; known_errors_free() for an array from memory_known_list(). */
void known_error_release(struct known_error *k);
void known_errors_free(struct known_error *k, size_t nr);

/*
 * Record incident id's fingerprint and templates with the action that
 * fixed it and a runbook note (may be NULL); again, it updates them.
 * 0, 1 no such incident, 2 when it has no action or its action failed
 * (said), -1.
 */
int memory_known_add(struct store *st, const struct config *cfg, long long id,
		     const char *runbook, const char *actor);
int memory_known_list(struct store *st, struct known_error **out, size_t *nr);
/* The known error matching incident id, if any: 0 and *out, 1 none, -1. */
int memory_known_match(struct store *st, const struct config *cfg, long long id,
		       struct known_error *out);

/* ---- chronic problems ---- */

struct chronic {
	char *kind;          /* "fingerprint" or "template" */
	char *key;           /* the fingerprint, or the template's text */
	char *service;
	long long occurrences;
	long long *ids;      /* the incidents, oldest first */
	size_t nr_ids;
	char *fixes;         /* the actions tried and how they went, in words */
	time_t first, last;
};
void chronic_free(struct chronic *c, size_t nr);
/* Fingerprints or templates recurring remember.chronic-after times within remember.chronic-window. */
int memory_chronic(struct store *st, const struct config *cfg, struct chronic **out, size_t *nr);
/* The same with the numbers given: after (2 and more) within window_ms before now (sre escalate's own). */
int memory_chronic_within(struct store *st, long long after, int64_t window_ms,
			  struct chronic **out, size_t *nr);

/* ---- records shared between hosts (sre remember push / pull) ---- */

/*
 * This store's name among hosts: its hostname, sanitised to [a-z0-9-],
 * and a random suffix made once and kept in the store. Safe as one path
 * component. Caller frees.
 */
char *memory_origin(struct store *st);

/*
 * The record of an incident as it is pushed: the fields of `sre incident
 * show --json` and "diagnosis", "action", "worked", "resolution",
 * "comments", "templates", redacted. 0 and *out (cJSON_Delete() it), 1
 * when there is no such incident, -1.
 */
int memory_record(struct store *st, long long id, struct cJSON **out);

/*
 * Whether incident id's record went out since it last changed (a change
 * indexed clears it): 1, 0, -1. memory_mark_pushed() records that it did.
 */
int memory_pushed(struct store *st, long long id);
int memory_mark_pushed(struct store *st, long long id, time_t when);
/* The same for committed in remember.repo, not yet pushed (remember.postmortems). */
int memory_committed(struct store *st, long long id);
int memory_mark_committed(struct store *st, long long id, time_t when);

/*
 * Index a record pulled from origin (not this store's), checked field by
 * field: a record is data from elsewhere and is trusted no further. 0
 * added or refreshed, 1 unchanged, -1 after an error naming what is wrong.
 */
int memory_import(struct store *st, const char *origin, const struct cJSON *record);

#endif
