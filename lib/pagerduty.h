/*
 * pagerduty.h: paging a person through the PagerDuty Events API v2, and
 * reading back what people did from PagerDuty's webhook v3 payloads.
 *
 * An event (trigger, acknowledge, resolve) is queued in the store's outbox
 * (target "pagerduty", operation the action) in the same transaction as
 * the local change that calls for it, and delivered later by
 * pagerduty_flush(), as lib/notify.c does for Slack: a page lost to an
 * outage is sent when PagerDuty is back, and one delivered is not sent
 * again. Each event goes to POST <pagerduty.url>/v2/enqueue (default
 * https://events.pagerduty.com).
 *
 * The routing key (a service's 32-character integration key) is the
 * credential: whoever holds it can page the service. It comes from
 * $PAGERDUTY_ROUTING_KEY, pagerduty.routing-key-command or
 * pagerduty.routing-key (or, for one level of an escalation policy, the
 * config key the trigger names, behind its own -command), is resolved only
 * at delivery, and never reaches the store (the outbox row keeps the key's
 * config NAME), a log, a trace or an error. It travels in the body, where
 * the HTTP layer's check on credentials in plain http cannot see it, so
 * pagerduty.url must be https unless it is this machine.
 *
 * Duplicates: PagerDuty folds every trigger with the same dedup_key into
 * the one open alert, so the rare event sent twice (sre died after the
 * answer, before recording it) adds a log entry, not a second page. The
 * dedup_key is "sre-<host>-<id>", stable across runs of one host.
 */
#ifndef SRE_PAGERDUTY_H
#define SRE_PAGERDUTY_H

#include "config.h"
#include "incident.h"
#include "outbox.h"
#include "store.h"

/*
 * 1 when a routing key is configured ($PAGERDUTY_ROUTING_KEY,
 * pagerduty.routing-key-command or pagerduty.routing-key), without
 * resolving it: no command runs.
 */
int pagerduty_configured(const struct config *cfg);

/*
 * The dedup_key of incident id on this host, into out (reset first):
 * "sre-<host>-<id>", where <host> is the host name in lower case, reduced
 * to [a-z0-9.-] and at most 64 characters, stable across runs.
 */
void pagerduty_dedup_key(struct strbuf *out, long long id);

/*
 * Is key this host's dedup_key of an incident (as pagerduty_dedup_key()
 * makes it)? 0 with *id, or -1 (another host's, another tool's, junk).
 */
int pagerduty_dedup_key_id(const char *key, long long *id);

/* What a trigger carries beyond the incident. All may be NULL/0. Borrowed. */
struct pagerduty_details {
	const char *reason;        /* why it is escalated */
	const char *diagnosis;     /* the diagnosis, one line */
	const char *const *evidence; size_t evidence_nr;  /* evidence lines */
	const char *tried;         /* what sre tried */
	const char *ticket_url, *pr_url;  /* links */
	/*
	 * The config key whose secret is the routing key (a policy level's,
	 * e.g. "escalation.night.level2-routing-key"), or NULL:
	 * pagerduty.routing-key. It must end in "routing-key": no other
	 * secret is ever sent to PagerDuty.
	 */
	const char *routing_key;
};

/*
 * Queue one event inside the caller's store transaction (outbox target
 * "pagerduty", operation the action): action "trigger", "acknowledge" or
 * "resolve", for inc, with d (trigger only; NULL otherwise, but the
 * routing key name must then be the trigger's: PagerDuty drops an
 * acknowledge or resolve sent with another key, so pass d with only
 * routing_key set).
 *
 * A trigger's payload: summary "<title> (sre incident <id>, <service>)"
 * redacted, one line, at most 1024 characters; source the host; severity
 * critical, high, medium, low as critical, error, warning, info;
 * component the service; custom_details {incident, state, service,
 * reason, diagnosis, evidence[], tried} (redacted, evidence at most 50
 * lines of 1000 bytes); links [{href, text}] for the ticket and the pull
 * request (http and https URLs only); client "sre".
 *
 * The outbox payload is {"event": <the event without routing_key>,
 * "routing_key_name": <the config key>, "incident": id}. 0, or -1 (a bad
 * action or key name, or a store error; printed).
 */
int pagerduty_queue(struct store *st, const struct incident *inc, const char *action,
		    const struct pagerduty_details *d);

/*
 * Deliver the queued events in order, outside any transaction; each
 * attempt is counted in the store before the request goes out, and the
 * counts go into rep (delivered, pending, failed) with one line per
 * problem in rep->messages.
 *
 *   202: delivered. It proves delivery, not effect: PagerDuty answers 202
 *        to an acknowledge or resolve that matches no open alert (already
 *        resolved, another routing key), so a resolve's 202 does not say
 *        the page is closed.
 *   400: final, marked failed with the API's message and its "errors"
 *        array ("pagerduty: trigger of incident 42: HTTP 400 Event object
 *        is invalid: ...").
 *   429, 5xx, no answer: the HTTP layer's retries first (Retry-After
 *        honoured up to http.max-retry-wait), then kept queued for the
 *        next run, which this one stops: the rest wait behind it, in order.
 *   another 4xx (404, 401, 403: the URL or the key is wrong, not the
 *        event), or a 2xx that is not PagerDuty's: kept queued and the run
 *        stops, since failing a page for a misconfiguration would lose it.
 *
 * Routing keys are resolved only when an event needs one, once per run.
 * Returns 0, or -1 on a store error or a routing key that cannot be
 * resolved (printed, saying how to configure it, never the key): the
 * events stay queued.
 */
int pagerduty_flush(struct store *st, const struct config *cfg, struct mirror_report *rep);

/*
 * One event read from a PagerDuty webhook v3 payload, as PagerDuty posts
 * it: {"event": {"id", "event_type", "resource_type": "incident",
 * "occurred_at", "agent": {"summary", ...} or null, "data": <the
 * incident>}}. The incident's "incident_key" is the dedup_key of the
 * alert that opened it (what sre sent); recorded payloads carry it on
 * some events and not on others (PagerDuty's own acknowledged and
 * resolved samples lack it), so dedup_key may be NULL and the caller
 * then has only pd_id to go by.
 */
struct pagerduty_webhook_event {
	char *type;        /* "incident.acknowledged", "incident.resolved", ... as given */
	char *dedup_key;   /* data.incident_key, or NULL when absent or null */
	char *by;          /* agent.summary, else agent.email (control characters blanked), or NULL */
	char *at;          /* occurred_at, as given, or NULL */
	char *pd_id;       /* data.id, PagerDuty's incident id, or NULL */
};

/*
 * Read a webhook v3 body (one event object): 0 with *out filled (the
 * caller frees with pagerduty_webhook_event_release()), or -1 with why
 * (reset first) saying what is wrong: not JSON, not v3 (a v2 "messages"
 * body), not about an incident, a field of the wrong type or past its
 * limit. Nothing printed; the body is never trusted.
 */
int pagerduty_webhook_read(const char *body, size_t len, struct pagerduty_webhook_event *out,
			   struct strbuf *why);
void pagerduty_webhook_event_release(struct pagerduty_webhook_event *e);

#endif
