/*
 * mirror.h: keeping the tracker in step with the store.
 *
 * A local change and the remote write that mirrors it are queued together,
 * in one store transaction (mirror_queue_*). Delivery (mirror_flush) then
 * sends the outbox in order, exactly once:
 *   - every attempt is counted in the store before the request goes out,
 *     so after a crash the next delivery knows to look before it writes;
 *   - creating looks for an open issue with the same fingerprint first and
 *     adopts it, so two hosts (or a retry) never make two tickets;
 *   - a comment carries its idempotency key in its record, and a repeated
 *     attempt first looks for a comment with that key;
 *   - a move is a no-op when the issue is already in the target state.
 * A transient failure (unreachable, 5xx, 429 past the retries) leaves the
 * write queued and stops the run; a permanent one (4xx) marks it failed
 * with the tracker's message. The tracker wins when the two disagree.
 */
#ifndef SRE_MIRROR_H
#define SRE_MIRROR_H

#include "outbox.h"
#include "store.h"
#include "tracker.h"

/* Queue the remote writes of a local change (call inside store_begin). */
int mirror_queue_create(struct store *st, const char *target, long long id);
/* key: the idempotency key of this write (mirror_new_key()). */
int mirror_queue_move(struct store *st, const char *target, long long id,
		      const char *key, enum incident_state from, enum incident_state to,
		      const char *actor, const char *reason);
int mirror_queue_comment(struct store *st, const char *target, long long id,
			 const char *key, const char *actor, const char *text);
/* Queue a label added to the incident's issue ("Status: Fixed"). */
int mirror_queue_label(struct store *st, const char *target, long long id, const char *add);
/* Queue the incident's issue given to who (an escalation level's assignee). */
int mirror_queue_assign(struct store *st, const char *target, long long id, const char *who);
/*
 * Queue the architecture follow-up of a chronic problem (lib/escalate-chronic.c)
 * under incident id, its newest occurrence: delivery adopts the issue
 * carrying marker, open or closed, whoever opened it, else opens one with
 * title, body and the labels label and marker; then each of the
 * occurrences' issues gets a comment linking it, once. The incident gets an
 * "architecture" event naming the issue.
 */
int mirror_queue_architecture(struct store *st, const char *target, long long id,
			      const char *marker, const char *label, const char *title,
			      const char *body, const long long *occurrences, size_t nr);

/*
 * Open an incident (or count an occurrence), queuing its remote issue when
 * t is not NULL and its notification when cfg configures one, all in one
 * store transaction. Delivery is the caller's (mirror_flush). 0 or -1.
 */
int mirror_incident_open(struct store *st, struct tracker *t, const struct config *cfg,
			 const struct incident_new *in, long long *out_id, int *out_created);

/* mirror_incident_transition(): the tracker held another state. */
#define MIRROR_FOLLOWED 2

/*
 * Move an incident as a person or the loop does: the tracker is read
 * first (optimistic; when it holds another state the local incident
 * follows it and this returns MIRROR_FOLLOWED with *remote set), then the
 * move, its queued remote write and its notification in one transaction.
 * Returns 0, 1 (no incident), STORE_REFUSED (the graph or expected state
 * forbids it; printed), MIRROR_FOLLOWED, or -1.
 */
int mirror_incident_transition(struct store *st, struct tracker *t, const struct config *cfg,
			       long long id, int expected, enum incident_state to,
			       const char *actor, const char *reason,
			       enum incident_state *remote);

/*
 * The same, with an event of kind (body_json, a JSON object in text)
 * appended in the move's transaction: `sre fix` writes what it is about
 * to do with the move into DEPLOYMENT_IN_PROGRESS, so that no state says
 * "deploying" without the approval and parameters it was given.
 */
int mirror_incident_transition_event(struct store *st, struct tracker *t,
				     const struct config *cfg, long long id, int expected,
				     enum incident_state to, const char *actor,
				     const char *reason, const char *kind, const char *body_json,
				     enum incident_state *remote);

/* A fresh idempotency key ("sre-" and 32 hex digits) into out[37]. */
void mirror_new_key(char out[37]);

/* struct mirror_report, MIRROR_REPORT_INIT, mirror_report_release(): outbox.h. */

/* Deliver the outbox entries meant for t. Returns 0, or -1 on a store error. */
int mirror_flush(struct store *st, struct tracker *t, struct mirror_report *rep);

/*
 * Before moving incident id locally: read its state on the tracker. When
 * the tracker is reachable and holds another state than local, the local
 * incident follows the tracker and this returns 1 with *remote set (the
 * caller refuses the move). 0 when the move may go ahead (same state, no
 * remote issue yet, writes still queued, or the tracker unreachable);
 * -1 on a store error.
 */
int mirror_check_remote(struct store *st, struct tracker *t, long long id,
			enum incident_state local, enum incident_state *remote);

/*
 * Import the tracker's tickets (struct tracker_query) into the store, or
 * refresh those already imported: state, and every record in their
 * comments not yet in the timeline. The ids of new incidents are appended
 * to new_ids and of refreshed ones to updated_ids (as text).
 */
int mirror_pull(struct store *st, struct tracker *t, const struct tracker_query *q,
		struct strvec *new_ids, struct strvec *updated_ids);

#endif
