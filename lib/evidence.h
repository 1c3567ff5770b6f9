/*
 * evidence.h: what `sre diagnose` reads about a service, and its bundle.
 *
 * Evidence is kept as the sources gave it, in their own wire formats
 * (a Kubernetes PodList, Docker inspect objects, Jaeger's /api/traces
 * answer, Prometheus's query_range answer), so that a bundle on disk is
 * exactly what was read and the rules read one shape whether the evidence
 * came live or from a directory.
 *
 * Collection (evidence_collect) runs one collector per source at once,
 * each in its own thread under one deadline (diagnose.timeout, default
 * 20s): HTTP requests are cut at the deadline (http_client.deadline_ms),
 * local reads check it as they go, so one slow source never holds up the
 * rest. Every source read, failed or timed out is listed in ev->sources
 * with the time it was read.
 *
 * A second round (lib/collect-graph.c) follows under the same deadline,
 * on what the first read: the services on the paths of the traces' slow
 * and failing requests (diagnose.graph-services, default 20) and their
 * logs, read by the same collectors; the pods' CPU, throttling, memory
 * and restarts (prometheus-pod-*.json) of the incident service and of
 * those services; and the baseline window (diagnose.baseline, default
 * 1h, before the incident opened): the incident service's traces and the
 * logs of every pod and container read. Each is one line of ev->sources:
 * "graph", "pod-metrics", "baseline".
 *
 * A bundle directory holds one file per source (absent: no evidence):
 *
 *   incident.json              as `sre incident show --json` prints it
 *   kubernetes-pods.json       a PodList
 *   kubernetes-events.json     an EventList
 *   kubernetes-deployments.json  a DeploymentList
 *   kubernetes-replicasets.json  a ReplicaSetList (the rollout history)
 *   kubernetes-graph-replicasets.json  the same, of the call graph's other
 *                              services (a recent rollout of a culprit)
 *   docker-inspect.json        an array of container inspect objects
 *   jaeger-traces.json         as /api/traces returns it
 *   prometheus-<check>.json    as /api/v1/query_range returns it; the pods'
 *                              metrics as prometheus-pod-cpu.json,
 *                              -pod-cpu-limit, -pod-cpu-throttled,
 *                              -pod-memory, -pod-memory-limit,
 *                              -pod-restarts: series by their pod label
 *   git-log.json               an array of {sha, author, time, subject, files}
 *   host.json                  {"processes": [{service, pid, running, state,
 *                               rss_kb, exit}], "kernel": ["OOM-killer lines"]}
 *   past-incidents.json        an array of incidents as `sre incident list --json`
 *   sources.json               [{source, status, error, read_at, elapsed_ms}]
 *   logs/<name>.log            the last lines of a pod's container, a Docker
 *                              container or a process service's log file
 *   logs/<service>/<name>.log  the same, of another service on the paths of
 *                              the incident's slow or failing requests
 *   baseline/                  the same layout, over the window before the
 *                              incident (diagnose.baseline): traces and logs
 *                              to compare the incident's with
 *
 * Log names are <pod>, <pod>.previous (the previous container),
 * <pod>.<container>[.previous] when a pod runs several, a container's
 * name, or a process service's name; every name is checked to be a plain
 * file name before it becomes a path, written or read.
 */
#ifndef SRE_EVIDENCE_H
#define SRE_EVIDENCE_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

#include <cJSON.h>

#include "config.h"
#include "store.h"
#include "strbuf.h"
#include "strvec.h"

enum evidence_status {
	EVIDENCE_OK,
	EVIDENCE_FAILED,      /* the source answered with an error, or could not be reached */
	EVIDENCE_TIMEOUT,     /* cut off at the deadline */
};

struct evidence_source {
	char *name;           /* "kubernetes", "docker", "jaeger", "prometheus", "git", "host", "store" */
	enum evidence_status status;
	char *error;          /* one line, no secret; NULL when OK */
	time_t read_at;
	int64_t elapsed_ms;
};

/* A named piece of evidence: a Prometheus check's answer, or a log. */
struct evidence_item {
	char *name;           /* the check, or the log's name */
	char *source;         /* "kubernetes", "docker", "process" (logs); "prometheus" */
	cJSON *json;          /* a query_range answer; NULL for a log */
	char *text;           /* a log's lines; NULL for JSON */
	char *query;          /* a check's PromQL, for the report; may be NULL */
	char *service;        /* a log of another service on the call graph; NULL: the incident's own */
};

struct evidence {
	char *service;        /* what the evidence is about */
	time_t now;           /* when it was read (SRE_NOW in tests) */
	cJSON *incident;      /* the incident object, or NULL */
	cJSON *pods;          /* PodList, or NULL */
	cJSON *events;        /* EventList */
	cJSON *deployments;   /* DeploymentList */
	cJSON *replicasets;   /* ReplicaSetList */
	cJSON *graph_replicasets;  /* ReplicaSetList of the call graph's other services */
	cJSON *docker;        /* array of inspect objects */
	cJSON *traces;        /* {"data": [...]} */
	cJSON *commits;       /* array of {sha, author, time, subject, files} */
	cJSON *host;          /* {"processes": [...], "kernel": [...]} */
	cJSON *past;          /* array of incidents */
	struct evidence_item *prometheus;
	size_t prometheus_nr, prometheus_alloc;
	struct evidence_item *logs;
	size_t logs_nr, logs_alloc;
	struct evidence_source *sources;
	size_t sources_nr, sources_alloc;
	/*
	 * The same sources over the baseline window before the incident
	 * (traces and logs), for what the incident's are compared with; NULL
	 * when none was read. A baseline has no baseline of its own.
	 */
	struct evidence *baseline;
};

#define EVIDENCE_INIT { 0 }
void evidence_release(struct evidence *ev);

/* Add a log (text copied) or a Prometheus answer (json taken over). */
void evidence_add_log(struct evidence *ev, const char *source, const char *name,
		      const char *text, size_t len);
void evidence_add_prometheus(struct evidence *ev, const char *check, const char *query,
			     cJSON *answer);
/* A log of another service on the call graph (service must pass evidence_name_ok()). */
void evidence_add_service_log(struct evidence *ev, const char *service, const char *source,
			      const char *name, const char *text, size_t len);
/* Move what part holds into ev (a source's part replaces ev's). */
void evidence_merge(struct evidence *ev, struct evidence *part);
/*
 * Redact every string of ev in place (lib/redact.h): what a collector read
 * (logs, commit messages, pod specs) may carry a secret, and evidence
 * feeds tickets, bundles and advisers. evidence_collect() does it; a
 * bundle is redacted again as it is written.
 */
void evidence_redact(struct evidence *ev);
/* Record how a source went; error may be NULL. */
void evidence_add_source(struct evidence *ev, const char *name, enum evidence_status status,
			 const char *error, time_t read_at, int64_t elapsed_ms);

/* ev->sources as sources.json holds them: [{source, status, error, read_at, elapsed_ms}]. */
cJSON *evidence_sources_json(const struct evidence *ev);

/* Is name usable as a file name: [A-Za-z0-9._-], not "." or "..", no leading '.', <= 200 bytes? */
int evidence_name_ok(const char *name);

struct collect_options {
	const char *service;      /* required */
	long long incident_id;    /* 0 without an incident: past incidents by service only */
	const char *fingerprint;  /* the incident's, or NULL */
	const char *check;        /* the incident's check ("pod/<ns>/<pod>", a check name), or NULL */
	time_t since;             /* when the trouble began (the incident's opening), or 0 */
	int64_t timeout_ms;       /* the deadline; 0: diagnose.timeout, default 20s */
	int log_lines;            /* 0: diagnose.log-lines, default 200 */
	int64_t commit_window_ms; /* the commits read before since; 0: diagnose.commit-window, 24h */
};

/*
 * Read the evidence about o->service from every configured source at
 * once (see the top of this file); st may be NULL (no past incidents).
 * A source that fails is recorded in ev->sources, not returned as an
 * error. Returns 0, or -1 after an error when the configuration itself is
 * bad (a key that does not parse).
 */
int evidence_collect(struct evidence *ev, const struct config *cfg, struct store *st,
		     const struct collect_options *o);

/*
 * Read one source (a collector's name: "prometheus", "kubernetes"...)
 * about o->service again now, into fresh, under o->timeout_ms (else
 * diagnose.timeout), with cancel as the HTTP client's Ctrl-C flag (may be
 * NULL): the live tools of the adviser (lib/adviser.h). 0, or -1 with why.
 */
int evidence_refresh(struct evidence *fresh, const struct config *cfg,
		     const struct collect_options *o, const char *source,
		     volatile sig_atomic_t *cancel, struct strbuf *why);

/*
 * Write the bundle into dir, which must be new (it is created 0700) or
 * empty, so that no stale file mixes in; files are 0600.
 * Returns 0, or -1 after an error naming the file.
 */
int evidence_save(const struct evidence *ev, const char *dir);

/*
 * Read a bundle. An absent file is no evidence; a file that is not what
 * it should be (not JSON, truncated, not a PodList...) is an error naming
 * the file and what was wrong. Returns 0, or -1 after the error.
 */
int evidence_load(struct evidence *ev, const char *dir);

/* ---- collectors, each in lib/collect-<source>.c ---- */

/*
 * What a collector is given. ev is its own (the runner merges it into
 * the whole when the collector is done, so collectors share nothing); it
 * records nothing in ev->sources (the runner does), and returns 0, or -1 with one line in why ("kubernetes:
 * https://...: HTTP 403: pods is forbidden"). deadline_ms is on
 * monotonic_ms()'s clock; http is the collector's own client, with
 * deadline_ms set.
 */
struct collect_context {
	const struct config *cfg;
	const struct collect_options *o;
	struct http_client *http;
	int64_t deadline_ms;
	int log_lines;
	time_t now;
};

struct collector {
	const char *name;
	/* Is there anything for it to read about o->service? */
	int (*configured)(const struct config *cfg, const struct collect_options *o);
	int (*collect)(const struct collect_context *c, struct evidence *ev, struct strbuf *why);
};

/*
 * Fills pods, events, deployments, replicasets and the pods' logs.
 * Namespaces: [service "<name>"] namespace, else every kubernetes.namespace.
 * The service's pods: those whose app.kubernetes.io/name or app label, or
 * whose Deployment, is the service or [service "<name>"] deployment, and
 * the incident's own pod when its check is "pod/<ns>/<pod>".
 */
int collect_kubernetes_configured(const struct config *cfg, const struct collect_options *o);
int collect_kubernetes(const struct collect_context *c, struct evidence *ev, struct strbuf *why);
/*
 * Fills docker and the containers' logs: the container [service "<name>"]
 * container names, else those whose name or com.docker.compose.service
 * label is the service.
 */
int collect_docker_configured(const struct config *cfg, const struct collect_options *o);
int collect_docker(const struct collect_context *c, struct evidence *ev, struct strbuf *why);
/*
 * The payloads of Docker's multiplexed log stream, in order, appended to
 * out; a frame cut short ends it. Public for fuzz/.
 */
void docker_log_demultiplex(struct strbuf *out, const char *buf, size_t len);
/* Fills traces: the service's traces of diagnose.lookback (default 1h), jaeger.limit of them. */
int collect_jaeger_configured(const struct config *cfg, const struct collect_options *o);
int collect_jaeger(const struct collect_context *c, struct evidence *ev, struct strbuf *why);
/*
 * Fills prometheus: each [check] with a prometheus query whose service is
 * o->service, and o->check, over diagnose.lookback (a range query).
 */
int collect_prometheus_configured(const struct config *cfg, const struct collect_options *o);
int collect_prometheus(const struct collect_context *c, struct evidence *ev, struct strbuf *why);
/*
 * Fills commits: those of core.repo in the 24 hours before o->since (or
 * now) touching [service "<name>"] paths (not read when it names none).
 */
int collect_git_configured(const struct config *cfg, const struct collect_options *o);
int collect_git(const struct collect_context *c, struct evidence *ev, struct strbuf *why);
/*
 * Fills host: a process service's pidfile and process state, and the
 * kernel's OOM-killer lines (diagnose.kernel-log, else /dev/kmsg, where
 * readable); and the service's log file ([service "<name>"] log).
 */
int collect_host_configured(const struct config *cfg, const struct collect_options *o);
int collect_host(const struct collect_context *c, struct evidence *ev, struct strbuf *why);
/* Only the service's log file ([service "<name>"] log), as collect_host() reads it. */
int collect_host_log(const struct collect_context *c, struct evidence *ev, struct strbuf *why);

/* ---- the second round: the call graph and the baseline (lib/collect-graph.c) ---- */

/* What the second round is asked for: diagnose.baseline and diagnose.graph-services. */
struct graph_options {
	int64_t baseline_ms;      /* the window before o->since; 0: none */
	long long max_services;   /* the most graph services read; 0: none */
	int log_lines;
	int64_t timeout_ms;       /* diagnose.timeout, for the line of a source cut off */
};

/* Read diagnose.baseline and diagnose.graph-services into out: 0, or -1 after an error. */
int collect_graph_options(const struct config *cfg, struct graph_options *out);

/*
 * After the first round, with what it read in ev: the logs of the
 * services on the paths of the slow and failing requests of ev->traces,
 * their pods' and the incident service's pods' metrics, and the baseline
 * window (traces and logs) into ev->baseline, all before deadline_ms
 * (monotonic_ms()'s clock). How each went is in ev->sources ("graph",
 * "pod-metrics", "baseline"); nothing here is an error.
 */
void collect_graph(struct evidence *ev, const struct config *cfg,
		   const struct collect_options *o, const struct graph_options *g,
		   int64_t deadline_ms);

/*
 * The services on the paths of the slow and failing requests of a Jaeger
 * answer (traces: {"data": [...]}): those of every span of the traces
 * that err and of the slowest (the 20 slowest by their span's extent, and
 * any above the 90th percentile), but service, most spans first (then by
 * name), at most max, each a usable file name (evidence_name_ok()). Into
 * out, appended.
 */
void collect_graph_services(const cJSON *traces, const char *service, size_t max,
			    struct strvec *out);
/*
 * The pod names the traces' processes of these services carry in their
 * tags k8s.pod.name, hostname and pod; only those collect_pod_name_ok()
 * takes. Appended to out, once each.
 */
void collect_trace_pods(const cJSON *traces, const struct strvec *services, struct strvec *out);
/* Is name a DNS-1123 name ([a-z0-9.-], alphanumeric at both ends, <= 253), safe in PromQL? */
int collect_pod_name_ok(const char *name);
/*
 * The regular expression matching exactly these pods, for a PromQL string
 * ("a|b\\.c": the dots escaped for the regex and the string); names
 * collect_pod_name_ok() refuses are dropped, and names past max_len bytes
 * left out. Sorted, so the same pods give the same query. Caller frees;
 * NULL when no name is left.
 */
char *collect_pod_regex(const struct strvec *pods, size_t max_len);

#endif
