/*
 * doctor.h: the engine of `sre doctor`: is every source sre is configured
 * to read reachable, and does it let sre in (lib/doctor.c).
 *
 * One row per source, in a fixed order: the store, the tracker (GitHub or
 * JIRA), Slack, Prometheus, Alertmanager (Prometheus's alerts), Jaeger,
 * Kubernetes, Docker, core.repo, then each [check "<name>"]. A configured
 * source is asked the cheapest question that proves sre can use it, with
 * the credentials sre would use, through the client every other command
 * uses for it:
 *
 *   tracker      who the token signs in as (the tracker's whoami)
 *   slack        an empty message, which a live webhook refuses as
 *                "no_text" and a revoked one as "no_service": nothing is
 *                posted
 *   prometheus   /api/v1/status/buildinfo (its version) and a query
 *   alertmanager the firing alerts, when scout.alerts reads them
 *   jaeger       /api/services
 *   kubernetes   /version and the pods of the first namespace (authorised?)
 *   docker       /_ping (the Engine's API version from its headers)
 *   core.repo    opened with libgit2: its branch
 *   a check      its URL (or query, or /metrics) as scout would ask it
 *
 * Every source is asked at once, each in its own thread with its own HTTP
 * client, under one deadline (as lib/collect.c does), without retries:
 * doctor says how things are now. A source not configured gets the
 * configuration lines that would add it. Secrets are registered with
 * each client, so no detail can show one.
 */
#ifndef SRE_DOCTOR_H
#define SRE_DOCTOR_H

#include <stdint.h>

#include "config.h"
#include "store.h"

enum doctor_status {
	DOCTOR_OK,
	DOCTOR_BROKEN,            /* configured, and sre cannot use it */
	DOCTOR_NOT_CONFIGURED,
};

struct doctor_row {
	char *name;               /* "store", "tracker", "check web", ... */
	enum doctor_status status;
	int64_t latency_ms;       /* the answer's time; -1 when nothing was asked */
	char *version;            /* what the source says it is, or NULL */
	char *detail;             /* one line, no secret */
	char *config;             /* not configured: the lines that add it; else NULL */
};

struct doctor_report {
	struct doctor_row *rows;
	size_t nr, alloc;
	int64_t timeout_ms;       /* the deadline they were asked under */
};

#define DOCTOR_REPORT_INIT { NULL, 0, 0, 0 }
void doctor_report_release(struct doctor_report *r);

/* "ok", "broken", "not configured". */
const char *doctor_status_name(enum doctor_status s);

/*
 * Ask every source cfg configures, under one deadline of timeout_ms (0:
 * 10s), and fill out. st is the store, or NULL when there is none yet
 * (db_path then says where it would be; may be NULL). Returns 0, or -1
 * after an error in the configuration itself (a key that does not parse).
 */
int doctor_run(struct doctor_report *out, const struct config *cfg, struct store *st,
	       const char *db_path, int64_t timeout_ms);

/* How many configured sources are broken. */
size_t doctor_broken(const struct doctor_report *r);

#endif
