/*
 * timeutil.h: durations ("500ms", "30s", "5m", "2h", "7d", "1h30m") and
 * ISO 8601 UTC timestamps, the two ways sre writes time.
 */
#ifndef SRE_TIMEUTIL_H
#define SRE_TIMEUTIL_H

#include <time.h>

#include "util.h"

/*
 * Parse a duration into milliseconds. A bare number is seconds. Units:
 * ms, s, m, h, d, w; several may follow each other ("1h30m").
 * Returns 0, or -1 when s is not a duration (nothing is printed).
 */
int parse_duration_ms(const char *s, int64_t *out_ms);

/* Write "2026-11-24T05:07:00Z" into buf (at least 21 bytes). */
void format_iso8601(char *buf, size_t size, time_t t);

/* Parse the exact form format_iso8601 writes; 0 or -1. */
int parse_iso8601(const char *s, time_t *out);

/*
 * Parse an RFC 3339 time as Kubernetes, Docker and git write them:
 * fractional seconds and a Z or +hh:mm offset allowed; 0 or -1.
 */
int parse_rfc3339(const char *s, time_t *out);
/*
 * The current time. SRE_NOW (an ISO 8601 UTC time) overrides the clock for
 * tests and for replaying a scenario; it is ignored when malformed.
 */
time_t sre_now(void);

/* Sleep ms milliseconds, through interruptions by signals. */
void sleep_ms(int64_t ms);
/* Write a short human age such as "5m" or "3d" for the span from t to now. */
void format_age(char *buf, size_t size, time_t t, time_t now);

#endif
