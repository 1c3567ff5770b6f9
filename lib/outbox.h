/*
 * outbox.h: queueing a remote write in the store's outbox, and the report
 * of a delivery run, for every deliverer: lib/mirror.c (the tracker) and
 * lib/notify.c (Slack).
 *
 * Both queue the same way (a fresh idempotency key, a JSON payload, one
 * row inside the caller's transaction) and report the same way, so this
 * lies below them both: mirror.c queues the notification of a move through
 * notify.c, and notify.c needs nothing from mirror.c, so the two never
 * call each other. The rows themselves are the store's (store_outbox_*()).
 */
#ifndef SRE_OUTBOX_H
#define SRE_OUTBOX_H

#include <cJSON.h>

#include "store.h"
#include "strbuf.h"

struct http_response;

/* A fresh idempotency key ("sre-" and 32 hex digits) into out[37]. */
void outbox_new_key(char out[37]);

/*
 * Queue payload (deleted here, whatever the outcome) as an outbox row of
 * incident id for target ("github", "jira", "slack") and operation, under
 * key, or a fresh key when key is NULL. Call inside store_begin(). 0, or
 * -1 on a store error (printed).
 */
int outbox_queue(struct store *st, long long id, const char *key, const char *target,
		 const char *operation, cJSON *payload);

/*
 * What a delivery run did (mirror_flush(), notify_flush()). Its name is
 * the one commands have always used, from mirror.h.
 */
struct mirror_report {
	int delivered;
	int pending;      /* still queued after this run */
	int failed;       /* marked failed during this run */
	int followed;     /* incidents moved locally because the tracker had moved */
	struct strbuf messages; /* one line each: what failed or stays queued */
};

#define MIRROR_REPORT_INIT { 0, 0, 0, 0, STRBUF_INIT }
void mirror_report_release(struct mirror_report *rep);

/* How delivering one queued write went, for a notifier (Slack, PagerDuty). */
enum outbox_outcome {
	OUTBOX_SENT,      /* delivered */
	OUTBOX_REFUSED,   /* refused for good: marked failed, with why */
	OUTBOX_LATER,     /* kept queued for the next run, which this one stops */
};

/*
 * Record outcome of row id in the store and in rep (msg, when not
 * delivered, one line of rep->messages). 0, 1 when it stays queued (the
 * run stops), -1 on a store error (printed).
 */
int outbox_record(struct store *st, long long id, enum outbox_outcome outcome, const char *msg,
		  struct mirror_report *rep);

/*
 * A delivery that failed in transit (unreachable, 5xx or 429 past the
 * client's retries): why, appended to msg as "HTTP 503<answer> (Retry-After:
 * 30) after 3 attempts; kept queued", or the transport's own error, with
 * add_answer adding the service's words from the body. Every receiver
 * (notify.c, pagerduty.c) says it alike. OUTBOX_LATER.
 */
enum outbox_outcome outbox_later(struct strbuf *msg, const struct http_response *res,
				 void (*add_answer)(struct strbuf *sb, const struct strbuf *body));

#endif
