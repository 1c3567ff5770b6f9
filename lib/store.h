/*
 * store.h: the local incident store, one SQLite file.
 *
 * The store is the embedded default and always present; a remote tracker,
 * when configured, mirrors it. Every write runs in a BEGIN IMMEDIATE
 * transaction under a busy timeout, so two sre processes writing at once
 * queue behind each other instead of failing with "database is locked".
 */
#ifndef SRE_STORE_H
#define SRE_STORE_H

#include <time.h>

#include "incident.h"

struct store;

/* The schema version this build writes (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION 1

/*
 * Open (creating when missing) the store at path: the file is created mode
 * 0600, and missing parent directories 0700. The schema is migrated
 * forward in one transaction. busy_timeout_ms bounds how long a writer
 * waits for another. On success *out is the caller's to store_free().
 */
int store_open(struct store **out, const char *path, int64_t busy_timeout_ms);
void store_free(struct store *st);

/* $XDG_STATE_HOME/sre/sre.db, or ~/.local/state/sre/sre.db. Caller frees. */
char *store_default_path(void);

struct incident_new {
	const char *service;
	const char *title;
	const char *fingerprint; /* NULL: incident_default_fingerprint() */
	const char *source;      /* NULL: "manual" */
	enum incident_severity severity;
	const char *actor;
};

/*
 * Open an incident, or count one more occurrence of the open incident with
 * the same fingerprint. *out_id is its id; *out_created says which.
 */
int store_incident_open(struct store *st, const struct incident_new *in,
			long long *out_id, int *out_created);

/* 0 and *out filled (release it), 1 when there is no such incident, -1. */
int store_incident_get(struct store *st, long long id, struct incident *out);

struct incident_filter {
	int all;                 /* include resolved incidents */
	int state;               /* an enum incident_state, or -1 for any */
	const char *service;     /* NULL for any */
};

/* *out is an array of *nr incidents: release each, then free the array. */
int store_incident_list(struct store *st, const struct incident_filter *f,
			struct incident **out, size_t *nr);
void incident_list_free(struct incident *list, size_t nr);

/*
 * Move an incident to state to, checked against the graph, and append a
 * "transition" event with actor and reason. When expected is not -1 the
 * move happens only if the incident is still in that state (optimistic
 * concurrency). Returns 0, 1 when there is no such incident,
 * STORE_REFUSED after an error that names both states when the graph (or
 * the expected state) forbids the move, or -1 when the store failed.
 */
#define STORE_REFUSED (-2)
int store_incident_transition(struct store *st, long long id, int expected,
			      enum incident_state to, const char *actor,
			      const char *reason);

/* Append an event; body is a JSON object in text. 0, 1 (no incident), -1. */
int store_event_append(struct store *st, long long id, const char *kind,
		       const char *actor, const char *body_json);

struct event {
	long long id;
	time_t at;
	char *kind;
	char *actor;
	char *body; /* JSON text */
};

int store_event_list(struct store *st, long long incident_id,
		     struct event **out, size_t *nr);
void event_list_free(struct event *list, size_t nr);

#endif
