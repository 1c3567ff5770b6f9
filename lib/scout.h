/*
 * scout.h: what `sre scout` detects, and how it decides.
 *
 * Each source (HTTP checks, Prometheus, Alertmanager, Kubernetes, Docker,
 * Jaeger, processes) reads what it watches once and appends findings
 * (finding.h): one verdict each, failing or healthy, about one thing. A finding's
 * fingerprint (source/service/signal, plus the object when a source
 * watches many) is stable across runs; it is the incident's fingerprint.
 *
 * scout_decide() then turns findings into incident changes with memory
 * across runs (the check_state table): a finding opens an incident after
 * scout.fail-after consecutive failing runs, updates the open incident
 * while it keeps failing (noting whether its severity or summary changed
 * since the last run, so that only news is printed), and resolves it after scout.recover-after
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
#include "finding.h"
#include "http.h"
#include "incident.h"
#include "json.h"
#include "store.h"
#include "tracker.h"

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

/*
 * Read every configured source into fs, in order, with one HTTP client
 * set up from the http.* keys (its label the source's name, for a status
 * line). The names of the sources read go to ran, and *configured counts
 * those configured. Each line of a source that could not be read goes to
 * say as it happens, redacted (a URL's userinfo is a secret); the others
 * go on. 0 when a source was read (or none is configured), 1 when every
 * one failed, -1 when the http.* settings do not hold (said by the
 * client). What
 * `sre scout` and a pass of the loop share.
 */
int scout_collect(const struct config *cfg, struct findings *fs, struct strvec *ran,
		  int *configured, void (*say)(void *data, const char *line), void *data);

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
int metrics_configured(const struct config *cfg);
int metrics_collect(const struct config *cfg, struct http_client *http,
		    struct findings *out, struct strbuf *err);
/*
 * The value of metric ("name" or "name{k=\"v\"}") in a text exposition:
 * that sample, or the sum of every sample of the name when it gives no
 * labels. 0 and *out, or -1 when there is none. Public for fuzz/.
 */
int metrics_sample_value(const char *text, const char *metric, double *out);
int process_configured(const struct config *cfg);
int process_collect(const struct config *cfg, struct http_client *http,
		    struct findings *out, struct strbuf *err);

int alertmanager_configured(const struct config *cfg);
int alertmanager_collect(const struct config *cfg, struct http_client *http,
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
	/*
	 * An update ("updated", "would update") that is no news: the same
	 * severity and the same words as the last run said (numbers aside).
	 * Printed only with --verbose, so cron mails only on changes.
	 */
	int unchanged;
	int severity_changed;   /* then was_severity is what it was */
	enum incident_severity was_severity;
};

struct scout_report {
	struct scout_change *v;
	size_t nr, alloc;
	long long *incident;    /* per finding: its open incident after the run, or 0 */
	int *changed;           /* per finding: its incident opened, changed or resolved this run */
};

#define SCOUT_REPORT_INIT { NULL, 0, 0, NULL, NULL }
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
 * Does the source of inc report only what is wrong (Kubernetes, Docker,
 * Prometheus alerts), so that no finding about it means it is well?
 */
int scout_silence_is_healthy(const struct incident *inc);

/* ---- shared with the diagnose collectors ---- */

/*
 * What `sre diagnose` reads through the scout sources' own code (its
 * collectors, lib/collect-*.c), so that both ask the same way and phrase
 * failures alike.
 */

/*
 * The judging half of jaeger_collect() for [service "<name>"], over an
 * answer already accepted by jaeger_api_answer(): 0 (also when the service
 * asks for no judging), or -1 with a line in err. Public so that
 * fuzz/fuzz-jaeger.c reaches it without a server.
 */
int jaeger_judge_answer(const struct config *cfg, const char *name, const cJSON *answer,
			struct findings *out, struct strbuf *err);

/*
 * The judging half of prometheus_collect(), over answers already read and
 * accepted by prometheus_api_answer(): [check "<name>"] judged from its
 * query's answer and its samples' (NULL when it has none); the firing
 * alerts of an /api/v1/alerts answer. 0, or -1 with a line in err.
 * Public so that fuzz/fuzz-prometheus.c reaches them without a server.
 */
int prometheus_judge_check(const struct config *cfg, const char *name, const cJSON *query,
			   const cJSON *samples, struct findings *out, struct strbuf *err);
int prometheus_judge_alerts(const cJSON *answer, struct findings *out, struct strbuf *err);

#endif
