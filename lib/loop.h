/*
 * loop.h: one pass of sre's loop as library calls, not commands: scout
 * every configured source, diagnose what is new, and fix what the fix
 * policy allows (and verify it), as `sre scout`, `sre diagnose` and `sre
 * fix` would one after the other. What `sre chaos run --loop` heals with,
 * and what `sre run` will repeat.
 *
 * The caller opens the store and the tracker and delivers the outbox
 * afterwards; a pass asks nobody: an action the policy does not allow
 * waits for a person, as `sre fix` from cron does.
 */
#ifndef SRE_LOOP_H
#define SRE_LOOP_H

#include "engine.h"
#include "strbuf.h"

struct loop_report {
	int sources;        /* sources read */
	int opened;         /* incidents opened this pass */
	int diagnosed;
	int acted;          /* actions carried out */
	int resolved;       /* incidents verified and resolved */
	int waiting;        /* waiting for a person (approval, escalation) */
	int failed;         /* engine errors, said */
	struct strbuf lines;/* what happened, a line each, for a person */
};

#define LOOP_REPORT_INIT { 0, 0, 0, 0, 0, 0, 0, STRBUF_INIT }
void loop_report_release(struct loop_report *rep);

/* One pass (see the top). 0, or -1 when the configuration does not hold (said). */
int loop_pass(const struct engine_context *ctx, struct loop_report *rep);

#endif
