/*
 * finding.h: what a scout source produces, and what the sources share.
 *
 * A finding is one verdict, failing or healthy, about one thing a source
 * watches. The sources (lib/prometheus.c, docker.c, kubernetes.c, ...)
 * append findings and phrase their failures through this file only, so
 * that scout.c, which holds the table of sources and the decision, sits
 * above them and none of them calls back into it: the calls go one way,
 * scout.c -> a source -> finding.c.
 */
#ifndef SRE_FINDING_H
#define SRE_FINDING_H

#include <cJSON.h>

#include "config.h"
#include "incident.h"
#include "strbuf.h"

struct finding {
	char *source;       /* "http", "prometheus", "metrics", "alertmanager", "kubernetes", "docker", "jaeger", "process" */
	char *check;        /* what was judged: a check's name, "pod/<ns>/<name>", an alert name */
	char *service;
	char *signal;       /* "status", "latency", "body", "above", "below", "oomkilled", "crashloop", ... */
	char *summary;      /* one line, the incident's title: "web returned 503, expected 2xx" */
	enum incident_severity severity;
	int failing;        /* 1 failing, 0 healthy */
	char *fingerprint;  /* set by finding_add(); a source may replace it (Alertmanager's own) */
	cJSON *evidence;    /* details for the timeline and --json (status, latency_ms, value...); owned */
};

struct findings {
	struct finding *v;
	size_t nr, alloc;
};

#define FINDINGS_INIT { NULL, 0, 0 }

/*
 * Append a finding and return it for the source to fill in summary,
 * severity, failing and evidence. The strings are copied. The fingerprint
 * is "<source>/<service>/<signal>", with "/<check>" added when check
 * differs from service (a source that watches many objects of a service).
 */
struct finding *finding_add(struct findings *fs, const char *source, const char *check,
			    const char *service, const char *signal);
/* Set a finding's summary with printf-style arguments. */
void finding_summary(struct finding *f, const char *fmt, ...) SRE_PRINTF(2, 3);
void findings_clear(struct findings *fs);

/*
 * Redact every finding's summary and evidence in place (lib/redact.h):
 * a check's URL may carry a password, a log line a token. Call it on what
 * a pass collected before it reaches the store or the screen.
 */
void findings_redact(struct findings *fs);

/* ---- shared by the sources ---- */

/* [<section> "<name>"]'s severity into *out; -1 when bad (*out kept, a line in err if any). */
int scout_severity(const struct config *cfg, const char *source, const char *section,
		   const char *name, enum incident_severity *out, struct strbuf *err);
/* scout.max-restarts into *out, 5 when unset; -1 when it is not a whole number >= 0. */
int scout_max_restarts(const struct config *cfg, long long *out);
/* Append one line to err, after a newline when err holds a line already. */
void scout_error_line(struct strbuf *err, const char *fmt, ...) SRE_PRINTF(2, 3);
/* s on one line, control characters made blanks, cut at max bytes on a UTF-8
 * boundary, trimmed; caller frees. */
char *scout_one_line(const char *s, size_t max);

/* An alert's severity label: critical/page, error/high, warning/medium, else low; none: medium. */
enum incident_severity scout_alert_severity(const char *label);
/* An alert's service: its service label, else its job, else "unknown". Borrowed. */
const char *scout_alert_service(const cJSON *labels);

#endif
