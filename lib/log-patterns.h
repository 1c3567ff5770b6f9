/*
 * log-patterns.h: the log templates of each service, kept in the store
 * (its log_templates table), so that a template never seen before an
 * incident opened can be evidence ("new log pattern").
 *
 * A diagnosis mines the logs it collected (lib/logtemplate.h) with a miner
 * seeded first with the service's stored templates, so a line that fits
 * one of them joins it (widening it as Drain does) instead of counting as
 * new; then log_patterns_record() adds the counts. A service keeps at
 * most LOG_PATTERNS_KEEP templates, the most recently seen; the miner's
 * LOGTEMPLATE_OTHER (the lines past its limits) is never stored.
 *
 * What is stored passes through the redactor (lib/redact.h) first, the
 * template and its example: a log named on the command line was never
 * redacted, and no secret reaches the table.
 */
#ifndef SRE_LOG_PATTERNS_H
#define SRE_LOG_PATTERNS_H

#include <time.h>

#include "logtemplate.h"
#include "store.h"

#define LOG_PATTERNS_KEEP 5000

struct log_pattern {
	char *template;
	long long count;    /* lines of this time's logs */
	int is_new;         /* first seen for the service at or after `since` */
};

/* What log_patterns_record() found. Owned: log_patterns_release(). */
struct log_patterns {
	struct log_pattern *v;  /* the new first, then most lines first */
	size_t nr, alloc;
	/*
	 * The service had templates recorded before `since`. Without them
	 * nothing can be new: a first diagnosis has no baseline to differ from.
	 */
	int baseline;
};

#define LOG_PATTERNS_INIT { 0 }
void log_patterns_release(struct log_patterns *p);

/* The templates of m that counted a line, none new, without a store (a bundle, a question). */
void log_patterns_from_miner(const struct logtemplate_miner *m, struct log_patterns *out);

/*
 * Give m the stored templates of service, oldest first, each tagged with
 * its row. 0, or -1 after an error.
 */
int log_patterns_seed(struct store *st, const char *service, struct logtemplate_miner *m);

/*
 * Add the templates of m that counted a line to service's rows in one
 * transaction: the count added, last_seen set to now, first_seen kept (a
 * template new to the service gets now). A template that widened from a
 * seeded one takes over its row. Fills out (if not NULL) with each
 * template, and whether it is new: first seen at or after since, when the
 * service had a baseline before it (since 0: none is new). Then keeps
 * only the LOG_PATTERNS_KEEP most recently seen of the service.
 * 0, or -1 after an error (nothing written).
 */
int log_patterns_record(struct store *st, const char *service, const struct logtemplate_miner *m,
			time_t now, time_t since, struct log_patterns *out);

#endif
