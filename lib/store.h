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
#define STORE_SCHEMA_VERSION 9

/*
 * Open (creating when missing) the store at path: the file is created mode
 * 0600, and missing parent directories 0700. The schema is migrated
 * forward in one transaction. busy_timeout_ms bounds how long a writer
 * waits for another. On success *out is the caller's to store_free().
 */
int store_open(struct store **out, const char *path, int64_t busy_timeout_ms);
void store_free(struct store *st);

/* The file the store lives in. Borrowed. */
const char *store_path(const struct store *st);

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
 * concurrency). key, when not NULL, is kept in the event (the idempotency
 * key of the remote write that mirrors it). Returns 0, 1 when there is no
 * such incident,
 * STORE_REFUSED after an error that names both states when the graph (or
 * the expected state) forbids the move, or -1 when the store failed.
 */
#define STORE_REFUSED (-2)
int store_incident_transition(struct store *st, long long id, int expected,
			      enum incident_state to, const char *actor,
			      const char *reason, const char *key);

/* Was incident id opened under a fault of sre chaos (its "chaos" event)? 1, 0, or -1. */
int store_incident_is_chaos(struct store *st, long long id);

/*
 * The incident of id's fingerprint resolved last before id opened, when
 * that was within window_ms of its opening: the same episode of a check
 * that flaps. 0 and *prev set, 1 when there is none, -1.
 */
int store_incident_episode(struct store *st, long long id, int64_t window_ms, long long *prev);

/* Append an event; body is a JSON object in text. 0, 1 (no incident), -1. */
int store_event_append(struct store *st, long long id, const char *kind,
		       const char *actor, const char *body_json);

/* A diagnosis as the diagnoses table keeps it; json is the whole, as --json prints it. */
struct diagnosis_row {
	const char *category;
	const char *root_cause;
	double confidence;
	const char *action;
	const char *target;      /* may be NULL */
	const char *json;
};

/*
 * Record a diagnosis of incident id: its row, the incident's category,
 * and a "diagnosed" event, in one transaction. 0, 1 (no incident), -1.
 */
int store_diagnosis_add(struct store *st, long long id, const struct diagnosis_row *d,
			const char *actor);
/*
 * How many events of kind were written since the time whose body's
 * "target" is target, and, when approval is not NULL, whose "approval" is
 * it: the automatic actions on a service in the last hour, whatever
 * incident they were for (fix.max-per-hour).
 */
int store_count_events(struct store *st, const char *target, const char *kind, time_t since,
		       const char *approval, long long *out);
/* The latest diagnosis's JSON into *out_json (caller frees): 0, 1 when none, -1. */
int store_diagnosis_latest(struct store *st, long long id, char **out_json);

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

/*
 * Group several calls into one transaction: store_begin(), the calls,
 * store_commit(). Calls nest inside it; an error in any of them rolls the
 * whole transaction back (then do not commit).
 */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* ---- one run at a time on an incident ---- */

/* Who holds an incident's lease. Strings owned: lease_release(). */
struct lease {
	char *host;        /* gethostname() of the holder */
	long long pid;
	char *started;     /* the holder's start time (/proc), to tell a reused pid */
	char *command;     /* "sre fix", "sre diagnose" */
	time_t taken_at;
	time_t expires_at;
};
void lease_release(struct lease *l);

/*
 * Take the lease on incident id for command, for ttl_s seconds: the one
 * run that may act on it (cron and a person, or two hosts on one store).
 * A lease is stale, and taken over, once it expires or, on this host,
 * once its process is gone (killed -9 included). Waits up to wait_ms for
 * the holder to finish. Returns 0 taken (released by store_lease_release()
 * or store_free()), 1 held by another run (*holder filled when not NULL),
 * or -1. Taking a lease this process holds already succeeds.
 */
int store_lease_take(struct store *st, long long id, const char *command, int ttl_s,
		     int64_t wait_ms, struct lease *holder);
/* Is the lease held by another live run? 1 (and *holder), 0, or -1. */
int store_lease_held(struct store *st, long long id, struct lease *holder);
void store_lease_release(struct store *st, long long id);

/* ---- mirroring to a remote tracker ---- */

/* ---- what sre scout remembers between runs ---- */

/*
 * Count one more failing (or healthy) run of the finding with this
 * fingerprint; a failure resets the passes and a pass the failures. The
 * new counts come back in *failures and *passes. 0 or -1.
 */
int store_check_record(struct store *st, const char *fingerprint, const char *source,
		       int failing, const char *summary, int *failures, int *passes);
/* The counts as they are, without recording a run (0 and 0 when unseen). */
int store_check_peek(struct store *st, const char *fingerprint, int *failures, int *passes);

/*
 * Deliveries of the outbox take turns: one process at a time holds this
 * lock (an flock on "<store>-deliver"), so two runs never send the same
 * write. Waits up to the store's busy timeout: 0 held, 1 still busy
 * (someone else is delivering; leave it to them), -1 on error.
 */
int store_delivery_lock(struct store *st);
void store_delivery_unlock(struct store *st);

/* Record where the incident lives on the tracker. 0, 1 (no incident), -1. */
int store_incident_set_remote(struct store *st, long long id, const char *key,
			      const char *url);

/* The open incident with this fingerprint: 0 and *out_id, 1 if none, -1. */
int store_incident_by_fingerprint(struct store *st, const char *fingerprint,
				  long long *out_id);

/* The local incident mirrored by remote key: 0 and *out_id, 1 if none, -1. */
int store_incident_by_remote(struct store *st, const char *key, long long *out_id);

/*
 * The tracker wins: set the state without the graph's check (the tracker
 * moved it, perhaps through states this host never saw), with a
 * "transition" event whose body says "source":"tracker". Returns 0, 1 (no
 * such incident) or -1; or STORE_NOT_FOLLOWED when to is a state in
 * which a fix is being carried out (incident_state_is_working()): a
 * tracker's label, which anyone with access can set, never starts an
 * action here, so the state stays and a "remote-state" event records
 * what the tracker said.
 */
#define STORE_NOT_FOLLOWED 2
int store_incident_follow_remote(struct store *st, long long id,
				 enum incident_state to, const char *reason);

/*
 * Import an incident from the tracker (sre incident pull): inc's fields,
 * with inc->state as it is there. Its events come after, through
 * store_event_import(). *out_id is the new id.
 */
int store_incident_import(struct store *st, const struct incident *inc,
			  long long *out_id);

/*
 * Add an event as another host recorded it (time, actor, body as they
 * were), unless the incident already has an event carrying the same "key"
 * in its body. 0 added, 1 already there, -1.
 */
int store_event_import(struct store *st, long long id, time_t at, const char *kind,
		       const char *actor, const char *body_json);

enum outbox_status {
	OUTBOX_PENDING,
	OUTBOX_DELIVERED,
	OUTBOX_FAILED,
};

struct outbox_item {
	long long id;
	long long incident_id;   /* 0 for none */
	char *key;               /* the idempotency key */
	char *target;            /* "github", "jira", "slack" */
	char *operation;         /* "create", "move", "comment", "notify" */
	char *payload;           /* JSON text */
	enum outbox_status status;
	int attempts;
	char *last_error;
	time_t created_at;
	time_t delivered_at;
};

/*
 * Queue a remote write (inside the caller's transaction, with the local
 * change it mirrors). A second entry with the same key is ignored: 0 added,
 * 1 already there, -1.
 */
int store_outbox_add(struct store *st, long long incident_id, const char *key,
		     const char *target, const char *operation, const char *payload_json);

/* The outbox in order; pending_only leaves out delivered and failed. */
int store_outbox_list(struct store *st, int pending_only,
		      struct outbox_item **out, size_t *nr);
void outbox_list_free(struct outbox_item *list, size_t nr);

/* Count an attempt, committed before the request goes out: a crash
 * after it leaves attempts > 0, which tells delivery to check first. */
int store_outbox_attempt(struct store *st, long long id);
int store_outbox_delivered(struct store *st, long long id);
/* Keep the tracker's message; permanent marks it failed for good. */
int store_outbox_error(struct store *st, long long id, const char *message,
		       int permanent);
/* Put failed entries back in the queue: one id, or all with id 0. */
int store_outbox_retry(struct store *st, long long id);

#endif
