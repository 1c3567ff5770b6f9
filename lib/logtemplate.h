/*
 * logtemplate.h: a Drain-style online miner of log templates.
 *
 * A log line is masked first (IP addresses, hex, numbers, UUIDs, paths,
 * quoted strings become <IP>, <HEX>, <NUM>, ...), split into tokens, and
 * routed through a prefix tree of fixed depth: the first level is the
 * token count, the next levels the leading tokens. At the leaf it joins
 * the most similar template when the share of equal tokens reaches the
 * similarity threshold, which turns the tokens that differ into <*>; else
 * it starts a template of its own. The parameters are Drain3's, and so is
 * the tree: depth 4 routes on the token count and the first token only;
 * a token with a digit goes down the <*> branch; a node that has
 * max_children children sends new tokens down <*> too; a <*> in a
 * template is not an equal token (it breaks ties: more <*> wins).
 *
 * Masks, each only where a word starts (after a blank or one of
 * = ( [ { < , : ; | / -) and only when the word ends there:
 *
 *   <UUID>   8-4-4-4-12 hex digits
 *   <IP>     IPv4 with an optional :port; IPv6 with :: or all 8 groups
 *   <TS>     2024-01-15, 24/01/15, 15/Jan/2024, each with an optional
 *            T or : and a time; 10:23:45.123 with an optional zone
 *   <HEX>    0x1f; a hex id of 8 or more digits, with a digit and a letter
 *   <NUM>    12, -3.5, 1e9, 1.2.3, with a unit of up to five letters
 *            (12ms, 5MiB, 100%)
 *   <PATH>   an absolute path (/var/log/x.log, /api/v1/users)
 *   <URL>    scheme://...
 *   <STR>    "..." or '...', unless it is a key ("msg": or "x"=) or the
 *            value of a key that holds prose (msg, message, log, error,
 *            err, reason, event, text, description, detail, summary), whose
 *            words are masked one by one instead
 *
 * Tokens are split on blanks and control characters; ANSI colour
 * sequences are dropped; invalid UTF-8 becomes '?'. So a template never
 * holds a control character and is valid UTF-8, and the example (the
 * first line, cut to LOGTEMPLATE_EXAMPLE_MAX bytes) has its control
 * characters replaced with '?' the same way.
 *
 * Bounds, against hostile input: only the first LOGTEMPLATE_LINE_MAX
 * bytes of a line are read; tokens past LOGTEMPLATE_TOKENS_MAX fold into
 * the last; at most LOGTEMPLATE_MAX templates (and LOGTEMPLATE_BYTES_MAX
 * bytes of them), and a leaf compares a line with at most
 * LOGTEMPLATE_LEAF_BUDGET tokens' worth of templates. A line that would
 * make a template past these limits is counted in one template whose
 * text is LOGTEMPLATE_OTHER.
 *
 * No store: lib/log-patterns.c keeps templates per service.
 */
#ifndef SRE_LOGTEMPLATE_H
#define SRE_LOGTEMPLATE_H

#include <stddef.h>

#include "strbuf.h"

struct config;

#define LOGTEMPLATE_LINE_MAX (64 * 1024)
#define LOGTEMPLATE_TOKENS_MAX 256
#define LOGTEMPLATE_MAX 50000
#define LOGTEMPLATE_BYTES_MAX (64 * 1024 * 1024)
#define LOGTEMPLATE_LEAF_BUDGET 16384
#define LOGTEMPLATE_EXAMPLE_MAX 1024
/* The template of the lines past the limits above. */
#define LOGTEMPLATE_OTHER "<other lines: past the template limit>"
/* What logtemplate_add() returns for a line with no token (blank). */
#define LOGTEMPLATE_NONE ((size_t)-1)

struct logtemplate_options {
	int depth;          /* remember.template-depth: 4 (3 to 16) */
	double similarity;  /* remember.template-similarity: 0.4 (0 to 1) */
	int max_children;   /* remember.template-max-children: 100 (1 to 10000) */
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
 * may still widen as later lines join it), or LOGTEMPLATE_NONE for a
 * blank line, which is not counted.
 */
size_t logtemplate_add(struct logtemplate_miner *m, const char *line, size_t len);

/*
 * Mine every line of text (split on '\n'; a final line without one
 * counts). Returns how many lines were counted.
 */
size_t logtemplate_add_text(struct logtemplate_miner *m, const char *text, size_t len);

/*
 * Mine every line read from fd until its end, a megabyte at a time (a
 * line longer than that counts once, by its head). 0, or -1 with errno
 * set when a read failed; *lines says how many were counted either way.
 */
int logtemplate_add_fd(struct logtemplate_miner *m, int fd, size_t *lines);

/*
 * Give the miner a template known from before (its text as
 * logtemplate_get() gave it, and its example) without counting a line:
 * later lines that match it join it. tag is the caller's (a row id) and
 * is kept by the template it made or joined, unless that already had one.
 * Returns the template's id, or LOGTEMPLATE_NONE for an empty text.
 */
size_t logtemplate_seed(struct logtemplate_miner *m, const char *text, const char *example,
			long long tag);

struct logtemplate {
	const char *text;     /* tokens joined by one blank, <*> for a variable */
	const char *example;  /* the first line that made it, cut and made printable */
	long long count;      /* lines counted (a seed counts none) */
	long long tag;        /* logtemplate_seed()'s, else 0 */
};

/* How many templates; each by id, 0 to count - 1. Borrowed from the miner. */
size_t logtemplate_count(const struct logtemplate_miner *m);
const struct logtemplate *logtemplate_get(const struct logtemplate_miner *m, size_t id);

/*
 * The ids of the templates that counted a line, most lines first (ties:
 * the older first), in *out (free() it). Returns how many.
 */
size_t logtemplate_by_count(const struct logtemplate_miner *m, size_t **out);

/* The masked form of one line, as the miner sees it (for tests and search). */
void logtemplate_mask(struct strbuf *out, const char *line, size_t len);

#endif
