/*
 * scout.h: what `sre scout` detects, and how it decides.
 *
 * Each source (HTTP checks, Prometheus, Alertmanager, Kubernetes, Docker,
 * Jaeger, processes) reads what it watches once and appends findings: one
 * verdict each, failing or healthy, about one thing. A finding's
 * fingerprint (source/service/signal, plus the object when a source
 * watches many) is stable across runs; it is the incident's fingerprint.
 *
 * scout_decide() then turns findings into incident changes with memory
 * across runs (the check_state table): a finding opens an incident after
 * scout.fail-after consecutive failing runs, updates the open incident
 * while it keeps failing, and resolves it after scout.recover-after
 * healthy runs when no fix is in flight, so a flapping check does not
 * open and close tickets every minute.
 *
 * A source that cannot be read says so in one line and appends nothing;
 * the others still run.
 */
#ifndef SRE_SCOUT_H
#define SRE_SCOUT_H

#include <cJSON.h>

#include "config.h"
#include "http.h"
#include "incident.h"
#include "store.h"
#include "tracker.h"

struct finding {
	char *source;       /* "http", "prometheus", "alertmanager", "kubernetes", "docker", "jaeger", "process" */
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
 * A source: configured() says whether the configuration names anything for
 * it to watch (a source that is not configured does not run and is not an
 * error). collect() appends its findings; when the source cannot be read
 * at all it returns -1 with one line in err naming the source and why
 * ("prometheus: http://127.0.0.1:9090: Connection refused"), never a
 * secret. http is shared, set up from the http.* keys.
 */
struct scout_source {
	const char *name;
	int (*configured)(const struct config *cfg);
	int (*collect)(const struct config *cfg, struct http_client *http,
		       struct findings *out, struct strbuf *err);
};

/* The sources, in the order they run. Ended by a NULL name. */
extern const struct scout_source scout_sources[];

/* The sources' own entry points (each in its lib/<source>.c). */
int http_checks_configured(const struct config *cfg);
int http_checks_collect(const struct config *cfg, struct http_client *http,
			struct findings *out, struct strbuf *err);
int prometheus_configured(const struct config *cfg);
int prometheus_collect(const struct config *cfg, struct http_client *http,
		       struct findings *out, struct strbuf *err);
int kubernetes_configured(const struct config *cfg);
int kubernetes_collect(const struct config *cfg, struct http_client *http,
		       struct findings *out, struct strbuf *err);
int docker_configured(const struct config *cfg);
int docker_collect(const struct config *cfg, struct http_client *http,
		   struct findings *out, struct strbuf *err);
int jaeger_configured(const struct config *cfg);
int jaeger_collect(const struct config *cfg, struct http_client *http,
		   struct findings *out, struct strbuf *err);
int process_configured(const struct config *cfg);
int process_collect(const struct config *cfg, struct http_client *http,
		    struct findings *out, struct strbuf *err);

/* Alertmanager's webhook payload (version 4), read from text. */
int alertmanager_parse(const char *json, size_t len, struct findings *out,
		       struct strbuf *err);

/* ---- deciding ---- */

struct scout_change {
	const char *what;       /* "opened", "updated", "recovered", or with --dry-run
				   "would open", "would update", "would resolve" */
	long long id;           /* the incident (0 for "would open") */
	const struct finding *finding; /* borrowed from the findings */
};

struct scout_report {
	struct scout_change *v;
	size_t nr, alloc;
	long long *incident;    /* per finding: its open incident after the run, or 0 */
};

#define SCOUT_REPORT_INIT { NULL, 0, 0, NULL }
void scout_report_release(struct scout_report *rep);

struct scout_options {
	int fail_after;         /* scout.fail-after, default 1 */
	int recover_after;      /* scout.recover-after, default 2 */
	int dry_run;            /* decide, write nothing */
	const char *actor;
};

/*
 * Turn this run's findings into incident changes (see the top of this
 * file). sources_ran names the sources read in full this run: an open
 * incident one of them opened, with no finding this run, counts a healthy
 * run when its source reports only what is wrong (a pod that is gone or
 * fine, an alert no longer firing say nothing); a check not judged this
 * run (no data) counts neither way. Incidents are opened
 * and resolved through mirror_incident_open/transition, so a tracker (t,
 * may be NULL) and notifications follow. Returns 0, or -1 on a store error.
 */
int scout_decide(struct store *st, struct tracker *t, const struct config *cfg,
		 struct findings *fs, const struct strvec *sources_ran,
		 const struct scout_options *o, struct scout_report *rep);

/*
 * The names of the subsections of a section, in order of first
 * appearance: config_subsections(cfg, "check", &names) gives every
 * <name> of [check "<name>"]. Shared by the sources.
 */
void config_subsections(const struct config *cfg, const char *section,
			struct strvec *out);

#endif
