/*
 * escalate.h: handing an incident to a person, on time and once
 * (`sre escalate`).
 *
 * An escalation pages the channels of a policy's levels, in order:
 *
 *   [escalation "<name>"]
 *       level = pagerduty slack              (multi-valued, in order; each a
 *       level = pagerduty:night assignee:ana  list of targets, then "after
 *                           after 30m         <duration>": how long nobody may
 *                                             acknowledge before the next)
 *       repeat = 1            climb the ladder again this many times (0)
 *       human-timeout = 24h   past it, unacknowledged: on-timeout says what
 *       on-timeout = repage | abandon        (repage)
 *       stale = ANALYSIS_IN_PROGRESS:2h      (multi-valued; else escalate.stale)
 *
 * Targets: "pagerduty" (pagerduty.routing-key), "pagerduty:<name>" (the
 * routing key of [pagerduty "<name>"]), "slack" (the notification, with
 * the reason), "tracker" (the ticket labelled "Needs Human Intervention"
 * and a comment with the reason), "assignee:<who>" (a comment naming
 * them). escalate.policy names the default policy; with none configured,
 * the default pages every configured channel at once, in one level.
 *
 * Durable and edge-triggered: every page is queued in the store's outbox
 * (lib/outbox.h) in the same transaction as the escalation's state
 * (table escalations) and the marks of what fired (escalation_marks), so
 * a page is never lost while a service is down, never sent twice (the
 * outbox's idempotency key; PagerDuty's dedup_key folds the rest), and
 * running escalate_auto() every minute, or after a crash, sends only what
 * is due. escalate.daily-cap (10) bounds the pages of one incident in a
 * UTC day, against storms.
 *
 * escalate_auto() evaluates every open incident:
 *   - a state held longer than its stale rule pages once per entry into it;
 *   - an incident that needs a person and has no escalation (diagnose said
 *     "unknown", a fix was refused or failed, a review timed out) gets one:
 *     the automatic escalations go through this same path;
 *   - an unacknowledged page climbs to the next level when its delay passes,
 *     then round again `repeat` times;
 *   - past human-timeout it is paged again, or marked abandoned;
 *   - a resolved incident resolves its PagerDuty incident.
 * Nothing that arrives (a title, a reason, a webhook) picks a target: the
 * targets are the configuration's.
 */
#ifndef SRE_ESCALATE_H
#define SRE_ESCALATE_H

#include <cJSON.h>

#include "config.h"
#include "engine.h"
#include "strbuf.h"
#include "strvec.h"

struct escalation_level {
	struct strvec targets;
	int64_t after_ms;         /* before the next level; 0: the last waits for human-timeout */
};

struct escalation_policy {
	char *name;               /* "default" for the built-in one */
	struct escalation_level *levels;
	size_t levels_nr;
	int repeat;
	int64_t human_timeout_ms;
	int abandon;              /* on-timeout = abandon */
	struct strvec stale;      /* "STATE:duration", the policy's or escalate.stale */
};

/*
 * The policy name (NULL: escalate.policy, else the built-in default) from
 * cfg into p. 0, or -1 after an error naming the key.
 */
int escalation_policy_read(const struct config *cfg, const char *name,
			   struct escalation_policy *p);
void escalation_policy_release(struct escalation_policy *p);

struct escalate_options {
	const char *reason;       /* why (sre escalate --reason), or NULL */
	const char *policy;       /* --policy, or NULL */
	int dry_run;              /* print the events and the timeline; send and record nothing */
	time_t now;               /* 0: sre_now() */
};

/*
 * sre escalate <id>: move it to INCIDENT_REQUIRES_HUMAN, record why, and
 * page the policy's first level. An escalation already open (paged, not
 * acknowledged, not resolved) is not paged again: --auto climbs it. What
 * was done, or would be, goes to report, a line each. 0, 1 (no such
 * incident, said), -1.
 */
int escalate_incident(const struct engine_context *ctx, long long id,
		      const struct escalate_options *o, struct strbuf *report);

/* sre escalate --auto: what is due, over every open incident (see the top). 0 or -1. */
int escalate_auto(const struct engine_context *ctx, const struct escalate_options *o,
		  struct strbuf *report);

/*
 * The architecture follow-ups of chronic problems (lib/escalate-chronic.c,
 * where the design is): once per problem, on the tracker, labelled
 * escalate.architect-label, with a refactoring brief. `sre escalate
 * --auto` runs it after escalate_auto(). 0 or -1.
 */
int escalate_chronic(const struct engine_context *ctx, const struct escalate_options *o,
		     struct strbuf *report);

/*
 * sre escalate --ack <id> --by WHO: who took it; the climb stops and the
 * PagerDuty incident is acknowledged. 0, 1 (no escalation to acknowledge,
 * said), -1.
 */
int escalate_ack(const struct engine_context *ctx, long long id, const char *by,
		 const struct escalate_options *o, struct strbuf *report);

/*
 * A PagerDuty webhook v3 body: an acknowledgement stops the climb of the
 * incident whose dedup_key it carries (this host's), a resolution is
 * recorded. Anything else is said and ignored. 0, 1 (not ours, or not an
 * event sre reads), -1 (not a webhook v3 payload, said).
 */
int escalate_webhook(const struct engine_context *ctx, const char *body, size_t len,
		     struct strbuf *report);

/* sre escalate --status: each escalation (id 0: all open ones) as JSON; NULL after an error. */
cJSON *escalate_status_json(const struct engine_context *ctx, long long id);

#endif
