/*
 * loop.h: sre's loop as library calls, not commands: scout every
 * configured source, diagnose what is new, and fix what the fix policy
 * allows (and verify it), as `sre scout`, `sre diagnose` and `sre fix`
 * would one after the other. `sre chaos run --loop` heals with a whole
 * pass; `sre run` calls the steps one at a time, each in a child process
 * with its own deadline (cmd/run.c).
 *
 * The caller opens the store and the tracker and delivers the outbox
 * afterwards; a pass asks nobody: an action the policy does not allow
 * waits for a person, as `sre fix` from cron does. Every step carries on
 * from what the store holds, so a step killed half-way is resumed by the
 * next one without acting twice (the fix protocol's own records).
 */
#ifndef SRE_LOOP_H
#define SRE_LOOP_H

#include "engine.h"
#include "strbuf.h"

/* What a step did to one incident, as rep->event hears it. */
enum loop_event {
	LOOP_SOURCE,        /* a source could not be read (id 0) */
	LOOP_OPENED,
	LOOP_RECOVERED,     /* resolved by scout: it went away on its own */
	LOOP_STANDBY,       /* would open or resolve: the pass only looks (id 0 for an opening) */
	LOOP_DIAGNOSED,
	LOOP_ACTED,
	LOOP_RESOLVED,      /* verified and resolved after an action */
	LOOP_WAITING,       /* waits for a person: approval, or escalated */
	LOOP_FAILED,        /* an engine error (said on stderr) */
};

struct loop_report {
	int sources;        /* sources read */
	int opened;         /* incidents opened this pass */
	int diagnosed;
	int acted;          /* actions carried out */
	int resolved;       /* incidents verified and resolved, or recovered */
	int waiting;        /* waiting for a person (approval, escalation) */
	int failed;         /* engine errors, said */
	struct strbuf lines;/* what happened, a line each, for a person */
	/* Each event as it happens, with the line said for it (no newline); may be NULL. */
	void (*event)(void *data, enum loop_event what, long long id, const char *line);
	void *event_data;
};

#define LOOP_REPORT_INIT { 0, 0, 0, 0, 0, 0, 0, STRBUF_INIT, NULL, NULL }
void loop_report_release(struct loop_report *rep);

/* The event's name in sre run's JSON ("opened", "acted"...). */
const char *loop_event_name(enum loop_event what);

/*
 * The steps of a pass. Each returns 0, or -1 when the configuration does
 * not hold or the store fails (said). loop_scout with standby set decides
 * as `sre scout --dry-run` does and writes nothing: a replica that does
 * not hold the lease looks and reports.
 */
int loop_scout(const struct engine_context *ctx, int standby, struct loop_report *rep);
int loop_diagnose(const struct engine_context *ctx, struct loop_report *rep);
int loop_fix(const struct engine_context *ctx, struct loop_report *rep);

/* One pass: the three steps in turn. */
int loop_pass(const struct engine_context *ctx, struct loop_report *rep);

/*
 * The passes of `sre run`, kept in the store (the last LOOP_PASSES_KEPT)
 * for `sre run --status`. summary is a JSON object (not deleted here).
 */
#define LOOP_PASSES_KEPT 100
struct cJSON;
int loop_pass_record(struct store *st, time_t started, int64_t duration_ms, const char *role,
		     const char *runner, const struct cJSON *summary);
/* The last n passes, newest first, as a JSON array into *out (delete it). 0 or -1. */
int loop_pass_list(struct store *st, int n, struct cJSON **out);

#endif
