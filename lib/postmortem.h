/*
 * postmortem.h: a blameless post-mortem of a resolved incident, in
 * Markdown, after PagerDuty's template: overview, what happened, impact,
 * detection, timeline, root cause, resolution and verification, what went
 * well and what did not, action items, similar past incidents. Every line
 * comes from the store (the incident, its events, its diagnosis, memory);
 * a section with nothing known says so rather than guess.
 */
#ifndef SRE_POSTMORTEM_H
#define SRE_POSTMORTEM_H

#include "strbuf.h"

struct store;
struct config;

/*
 * Write the post-mortem of incident id into out. Returns 0, 1 when there
 * is no such incident, 2 after an error saying it is not resolved yet, -1.
 */
int postmortem_write(struct store *st, const struct config *cfg, long long id,
		     struct strbuf *out);

/*
 * Outside text s, redacted, cleaned of control characters and escaped,
 * as inline Markdown on one line cut at max characters: what a ticket or
 * a post-mortem may quote of what arrived.
 */
void markdown_text(struct strbuf *out, const char *s, size_t max);

#endif
