/*
 * engine.h: what an engine of the loop (lib/diagnose.c, lib/fix-engine.c)
 * is given by the command that runs it.
 *
 * An engine works on one incident with what its caller opened: the
 * configuration, the store, the tracker and the actor's name. It never
 * opens them itself, never asks a person and never prints a result: it
 * fills a result struct that the caller prints (text or JSON, one printer
 * each), and hands progress meant for a person watching (stderr) to note.
 * So `sre diagnose`, `sre fix` and a continuous `sre run` share one engine
 * and differ only in how they open things and where lines go.
 */
#ifndef SRE_ENGINE_H
#define SRE_ENGINE_H

#include "config.h"
#include "store.h"
#include "util.h"

struct tracker;

struct engine_context {
	const struct config *cfg;
	struct store *store;      /* open; the engine writes through it */
	struct tracker *tracker;  /* NULL: the local tracker only */
	const char *actor;        /* who is named as the actor of a change */
	/*
	 * A line for a person watching, as it happens ("incident 4 needs a
	 * person: ..."); NULL drops them. One line, no newline.
	 */
	void (*note)(void *data, const char *line);
	void *note_data;
	int progress;             /* also note what is under way (a terminal watches) */
};

/* Hand a formatted line to ctx->note. */
void engine_note(const struct engine_context *ctx, const char *fmt, ...) SRE_PRINTF(2, 3);

/*
 * Take incident id's lease for command (store_lease_take()), waiting a few
 * seconds for another run: 0 taken, 1 held by another run (said with
 * error(): "incident N is being worked on by another run (...)"), -1. It
 * lasts as long as a fix can take (its verification and the action's own
 * timeout), and goes with the process.
 */
int engine_lease_take(const struct engine_context *ctx, long long id, const char *command);

#endif
