/*
 * notify.h: telling people, through a Slack incoming webhook.
 *
 * When an incident is opened, diagnosed, fixed, escalated or resolved, a
 * one-line message goes to a Slack channel. Like every remote write it is
 * queued in the store's outbox (target "slack", operation "notify") in the
 * same transaction as the local change, and delivered later by
 * notify_flush(), so a notification lost to an outage is sent when Slack
 * is back, and one delivered is never sent again. The queueing is
 * lib/outbox.c's, as for the tracker's writes; notify.c calls nothing in
 * mirror.c (mirror.c queues a move's notification through notify_queue()).
 *
 * The webhook URL is a secret (whoever holds it can post to the channel):
 * it comes from $SLACK_WEBHOOK_URL or the output of slack.webhook-command,
 * is registered with the HTTP layer for redaction, and never appears in a
 * message, a trace, the store or an error.
 *
 * Delivery is at least once rather than exactly once in one narrow case:
 * when sre dies after Slack answered but before the store recorded it,
 * the next flush posts the message again. A webhook has no way to ask
 * "did you get this?", and a duplicate line in a channel costs less than
 * a lost page.
 */
#ifndef SRE_NOTIFY_H
#define SRE_NOTIFY_H

#include "config.h"
#include "incident.h"
#include "outbox.h"
#include "store.h"

/*
 * 1 when a webhook is configured ($SLACK_WEBHOOK_URL set, or
 * slack.webhook-command or slack.webhook present), without resolving it:
 * no command runs.
 */
int notify_configured(const struct config *cfg);

/*
 * The message for an event about inc ("opened", "diagnosed", "fixed",
 * "escalated", "resolved"): one line with the event, the incident id,
 * severity, service, state and title, and the tracker link
 * (inc->remote_url) when there is one, in Slack's mrkdwn with &, < and >
 * escaped, so nothing in a title can mention @channel or forge a link.
 * Caller frees.
 */
char *notify_text(const struct incident *inc, const char *event);

/*
 * The event a move into state `to` announces, or NULL for the steps in
 * between, which the channel need not hear about: ANALYSIS_COMPLETE is
 * "diagnosed", DEPLOYMENT_COMPLETE "fixed" (the fix is live),
 * INCIDENT_REQUIRES_HUMAN "escalated", INCIDENT_RESOLVED "resolved".
 * ("opened" is no move: it is the creation of the incident.)
 */
const char *notify_event(enum incident_state to);

/*
 * Queue the notification of event about inc, inside the caller's store
 * transaction (store_begin ... store_commit, with the change it reports):
 * payload {"text", "event", "incident"} under a fresh idempotency key.
 * Returns 0, or -1 on a store error (printed).
 */
int notify_queue(struct store *st, const struct incident *inc, const char *event);
/* The same, with detail (escaped as the title is) after the line: an escalation's reason and who was paged. */
int notify_queue_detail(struct store *st, const struct incident *inc, const char *event,
			const char *detail);

/*
 * Post the queued notifications in order, outside any transaction: each
 * attempt is counted in the store before the request goes out. Counts go
 * into rep (delivered, pending, failed), and one line per problem into
 * rep->messages ("slack: posting a notification: HTTP 404
 * channel_not_found"). Unreachable, 5xx, 429 past the retries or a
 * transport failure keep the notification queued and stop the run; any
 * other refusal (4xx) marks it failed, and the run goes on.
 *
 * The webhook is resolved only when something is queued. Returns 0, or -1
 * on a store error or when the webhook cannot be resolved (printed).
 */
int notify_flush(struct store *st, const struct config *cfg, struct mirror_report *rep);

#endif
