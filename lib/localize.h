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
 *   edge gap     per caller -> callee, the caller's span less the
 *                callee's spans under it: time on the wire or in the
 *                callee's queue. When it grew, the callee's side or the
 *                link is slow, not the caller, so it counts for the callee.
 *   self time    per service and operation, a span's time less its
 *                children's, against the same operation's in the baseline
 *                (a span whose children are all in other services is a
 *                client span: its own time is the edge gap above).
 *                Both are "time added": (p50 now - p50 before) x calls
 *                now, where p50 grew by half and by at least 5 ms; a
 *                service's latency score is its share of all the time
 *                added, or of half the requests' usual time when little
 *                was added at all.
 *   error origin spans that err (lib/traces.h) none of whose children
 *                err: the deepest erring span's service.
 *   error logs   per service, the templates of its log lines (Drain,
 *                lib/logtemplate.h) of the two windows; an error template
 *                (ERROR, FATAL, an exception, a panic) new in the incident
 *                or whose count beats what the baseline rate predicts by
 *                three standard deviations (Poisson), per call into the
 *                service (or per line, without traces).
 *   log silence  log lines per call into the service that fell below what
 *                the baseline predicts by three standard deviations and to
 *                under 3/4 of it: statements it used to reach stop
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
 * A service whose callees also gained errors is demoted: the error is
 * most likely theirs, surfacing in it. Each signal gives a strength from
 * 0 to 1; the score is their sum (log silence counts 0.6), and the kind
 * of the strongest names the candidate's category. Every strength comes
 * with the evidence lines that explain it.
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
