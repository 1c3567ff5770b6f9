/*
 * localize.h: which service is the root cause, across the call graph.
 *
 * The rules (lib/rules.c) judge the incident's own service; an alarm on
 * an entry service is most often raised by something it calls. The
 * localiser ranks every service seen in the incident's traces, logs and
 * pod metrics by evidence that compares the incident window with the
 * baseline window before it (evidence.h: ev->baseline), so that what was
 * always so (a slow endpoint, an error logged every minute) counts for
 * nothing. Its signals:
 *
 *   edge gap     per caller -> callee, the time of the caller's client
 *                span (a span whose children are all in other services)
 *                that no callee span covers: time on the link or in the
 *                callee's queue. When it grew, the callee's side or the
 *                link is slow, so it counts for the callee; unless the
 *                caller's own time grew by as much (within a factor of
 *                three), as a caller short of CPU is late on its calls
 *                too. An edge seen fewer than three times before is
 *                measured against the p50 of every edge's gap before.
 *   own time     per service and operation, the time a span is the
 *                deepest span running (of equal depths, the latest to
 *                start), against the same operation's before; a wrapper
 *                whose work runs in a sibling is not credited with it.
 *                Both are "time added": (p50 now - p50 before) x calls
 *                now, where p50 grew by half and by at least 5 ms; a
 *                service's latency strength is its share of all the time
 *                added, or of half the requests' usual time when little
 *                was added at all.
 *   error origin spans that err (lib/traces.h) none of whose children
 *                err, in a larger share of traces than before.
 *   error logs   per service, its log lines mined into templates (Drain,
 *                lib/logtemplate.h) over both windows, and each line's
 *                own level read (a template may join levels): error lines
 *                (ERROR, FATAL, an exception, a panic) of a template new
 *                in the incident, or beating the baseline's rate by three
 *                standard deviations (Poisson), per call into the service
 *                (per line without traces). An error line that names
 *                another service of the graph is its caller's report of
 *                that service, and counts for it at half weight.
 *   log silence  log lines per call into the service below what the
 *                baseline predicts by three standard deviations and
 *                under 3/4 of it: statements it used to reach stopped
 *                appearing, as after an early return or an exception
 *                caught upstream.
 *   saturation   per pod (the Prometheus series pod-cpu, pod-cpu-limit,
 *                pod-cpu-throttled, pod-memory, pod-memory-limit,
 *                pod-restarts by the pod label; pods are tied to services
 *                by the traces' process tags and the logs' names): CPU at
 *                80% of its limit or more and 30 points above its
 *                baseline, throttling above 25%, memory at 90% of its
 *                limit, restarts during the incident.
 *
 * A service that calls (in either window, near or far) a service whose
 * signals are at least half as strong as its own errors keeps half of
 * its error and silence strengths: errors surface in every caller, and a
 * slow callee makes its callers time out. The score is the sum of the
 * strengths (log silence counts 0.6); the strongest names the
 * candidate's kind. Every strength comes with the lines that explain it.
 *
 * What it cannot see: a fault that changes nothing in the windows read
 * (a wrong value returned and logged as usual), a service that neither
 * traces nor logs, a link fault between two callees of one span without
 * spans of their own, and anything without a baseline: without one it
 * ranks nothing, and the rules alone answer.
 */
#ifndef SRE_LOCALIZE_H
#define SRE_LOCALIZE_H

#include <stddef.h>

#include "evidence.h"

enum localize_kind {
	LOCALIZE_LATENCY,     /* edge gap or self time: latency */
	LOCALIZE_CPU,         /* CPU saturation or throttling: resource exhaustion */
	LOCALIZE_MEMORY,      /* memory near its limit: resource exhaustion */
	LOCALIZE_RESTARTS,    /* it restarted: a crash */
	LOCALIZE_ERRORS,      /* erring spans or error logs: a fault in its code */
	LOCALIZE_SILENCE,     /* log statements stopped: a fault in its code */
	LOCALIZE__COUNT
};

struct localize_line {
	char *source;         /* "jaeger", "logs/<service>", "prometheus" */
	char *summary;        /* one line */
};

struct localize_candidate {
	char *service;
	double score;                      /* the sum of the weighted strengths */
	double strength[LOCALIZE__COUNT];  /* 0..1 each */
	enum localize_kind kind;           /* its strongest signal */
	struct localize_line *lines;
	size_t lines_nr, lines_alloc;
};

struct localize_result {
	struct localize_candidate *v;      /* best first; only services with a signal */
	size_t nr, alloc;
	size_t traces, baseline_traces;    /* traces read in each window */
	int have_baseline;
};

#define LOCALIZE_RESULT_INIT { 0 }
/* At most this many evidence lines per candidate. */
#define LOCALIZE_LINES_MAX 6

/*
 * Rank the services of ev (see above) into out. Without ev->baseline, or
 * without traces and logs in either window, out is left empty. Returns 0,
 * or -1 when the traces are not Jaeger's shape (nothing is said: the
 * rules report it).
 */
int localize(struct localize_result *out, const struct evidence *ev);
void localize_release(struct localize_result *r);

#endif
