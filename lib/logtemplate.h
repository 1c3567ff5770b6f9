/*
 * logtemplate.h: a Drain-style online miner of log templates.
 *
 * A log line is masked first (IP addresses, hex, numbers, UUIDs, paths,
 * quoted strings become <IP>, <HEX>, <NUM>, ...), split into tokens, and
 * routed through a prefix tree of fixed depth: the first level is the
 * token count, the next levels the leading tokens. At the leaf it joins
 * the most similar template when the share of equal tokens reaches the
 * similarity threshold, which turns the tokens that differ into <*>; else
 * it starts a template of its own. The parameters are Drain3's.
 *
 * No I/O and no store: lib/log-patterns.c keeps templates per service.
 */
#ifndef SRE_LOGTEMPLATE_H
#define SRE_LOGTEMPLATE_H

#include <stddef.h>

#include "strbuf.h"

struct config;

struct logtemplate_options {
	int depth;          /* remember.template-depth: 4 */
	double similarity;  /* remember.template-similarity: 0.4 */
	int max_children;   /* remember.template-max-children: 100 */
};

void logtemplate_options_init(struct logtemplate_options *o);
/* From the remember.template-* keys; -1 after an error naming the key. */
int logtemplate_options_read(struct logtemplate_options *o, const struct config *cfg);

struct logtemplate_miner;

struct logtemplate_miner *logtemplate_new(const struct logtemplate_options *o);
void logtemplate_free(struct logtemplate_miner *m);

/*
 * Mine one line (without its newline; any bytes). Returns the id of the
 * template it joined, stable for the miner's life (the template's text
 * may still widen as later lines join it).
 */
size_t logtemplate_add(struct logtemplate_miner *m, const char *line, size_t len);

struct logtemplate {
	const char *text;     /* tokens joined by one blank, <*> for a variable */
	const char *example;  /* the first line that made it, as it was */
	long long count;
};

/* How many templates; each by id, 0 to count - 1. Borrowed from the miner. */
size_t logtemplate_count(const struct logtemplate_miner *m);
const struct logtemplate *logtemplate_get(const struct logtemplate_miner *m, size_t id);

/* The masked form of one line, as the miner sees it (for tests and search). */
void logtemplate_mask(struct strbuf *out, const char *line, size_t len);

#endif
