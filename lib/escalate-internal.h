/*
 * escalate-internal.h: what lib/escalate.c shares with
 * lib/escalate-chronic.c and nobody else: the marks of what fired
 * (table escalation_marks), which make every page and every follow-up
 * edge-triggered across runs.
 */
#ifndef SRE_ESCALATE_INTERNAL_H
#define SRE_ESCALATE_INTERNAL_H

#include <time.h>

struct store;

/* Was mark set for incident id? 1, 0, -1. */
int escalate_mark_has(struct store *st, long long id, const char *mark);
/* The incident that holds mark: its id, 0 none, -1. */
long long escalate_mark_owner(struct store *st, const char *mark);
/* Set mark for incident id at now (a mark set already stays as it was). 0 or -1. */
int escalate_mark_set(struct store *st, long long id, const char *mark, time_t now);

#endif
