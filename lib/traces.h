/*
 * traces.h: what a set of Jaeger traces says, for `sre diagnose`.
 *
 * Reads the JSON of Jaeger's query API (the {"data": [...]} envelope of
 * /api/traces and of /api/traces/{id}) and works out, in one pass over
 * the spans:
 *
 *   - per service and operation: spans, errors, p50/p95/p99 duration and
 *     total self time (a span's duration less the union of its children's
 *     intervals clipped to it);
 *   - for the slowest traces: the critical path (the chain of spans that
 *     bounds the trace's duration, Jaeger's definition: from the root,
 *     repeatedly the child that ends last before the current cursor) and
 *     the span on it with the most self time;
 *   - where errors originate: an erroring span none of whose descendants
 *     err is an origin; its service is where the errors come from, as
 *     opposed to the root's service, where they surface.
 *
 * A span errs when it has the tag error=true (bool or string),
 * otel.status_code=ERROR, or an http.status_code (or
 * http.response.status_code) >= 500.
 *
 * Times are microseconds, as Jaeger gives them.
 */
#ifndef SRE_TRACES_H
#define SRE_TRACES_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "strbuf.h"

struct trace_op_stats {
	char *service;
	char *operation;
	size_t spans;
	size_t errors;
	int64_t p50_us, p95_us, p99_us;
	int64_t max_us;
	int64_t self_us;          /* total self time of its spans */
	int64_t *durations_us;    /* its spans' durations, ascending (spans of them) */
};

/* One span on a critical path. */
struct trace_path_span {
	char *span_id;
	char *service;
	char *operation;
	int64_t start_us;         /* from the root span's start */
	int64_t duration_us;
	int64_t self_us;          /* time on the path spent in this span itself */
	int error;
	char *db_system;          /* the span's db.system tag, or NULL */
	char *peer_service;       /* peer.service, or NULL */
};

struct trace_slow {
	char *trace_id;
	char *root_service;
	char *root_operation;
	int64_t duration_us;      /* the root span's */
	int error;                /* any span of the trace errs */
	/* root first, then depth first, children by start (Jaeger's trace view) */
	struct trace_path_span *path;
	size_t path_nr;
	size_t hot;               /* index in path of the span with the most self time */
};

/* Where errors originate: one per service, most origins first. */
struct trace_origin {
	char *service;
	char *operation;          /* its most frequent erroring operation */
	size_t traces;            /* erroring traces whose origin is here */
	size_t spans;             /* origin spans here */
	char *example;            /* one origin span's error message or status, or NULL */
};

struct trace_analysis {
	size_t traces, spans;
	size_t error_traces;      /* traces with at least one erroring span */
	struct trace_op_stats *ops;      /* by service, then operation */
	size_t ops_nr;
	struct trace_slow *slow;         /* slowest first */
	size_t slow_nr;
	struct trace_origin *origins;
	size_t origins_nr;
	int64_t p99_root_us;      /* p99 of root span durations */
};

#define TRACE_ANALYSIS_INIT { 0 }

/*
 * Analyse the traces of a {"data": [...]} answer (or a bare array of
 * traces), keeping the max_slow slowest traces' critical paths. A trace's
 * root is the earliest span whose parent is not in the trace (the longest
 * of those if several start together); how slow a trace is, is how long
 * its root took. Traces or spans missing required fields (spanID,
 * operationName, a service, startTime, a duration >= 0), a second span of
 * the same id, a span that is its own parent and spans in a reference
 * cycle are skipped and counted in *skipped (may be NULL). Returns 0,
 * or -1 with why in err when json is not a Jaeger answer at all. Release
 * with trace_analysis_release().
 */
int traces_analyse(struct trace_analysis *out, const cJSON *json, size_t max_slow,
		   size_t *skipped, struct strbuf *err);
void trace_analysis_release(struct trace_analysis *a);

/*
 * The stats of one service: its operations summed, percentiles over all
 * its spans; out->service is borrowed, out->operation and
 * out->durations_us NULL. 0, or -1 when the service has no spans.
 */
int traces_service_stats(const struct trace_analysis *a, const char *service,
			 struct trace_op_stats *out);

/*
 * One span read as traces_analyse() reads it, for code that walks the
 * spans itself (lib/jaeger.c). traces_span_parent(): the span id of its
 * parent, borrowed from span; or NULL. The parent is the span its
 * CHILD_OF reference within the trace names, else its first reference
 * within the trace (FOLLOWS_FROM), else an older export's parentSpanID; a
 * reference into another trace is a link, not a parent.
 * traces_span_failed(): 1 when it errs (see the top of this file), else 0.
 */
const char *traces_span_parent(const cJSON *span);
int traces_span_failed(const cJSON *span);

/*
 * Draw a critical path as a waterfall for a terminal, width columns wide:
 * one line per span, "service operation" then a bar placed by start and
 * length ('#', '!' for a span that errs), then the duration; the hot
 * span's line ends "<- most self time (1.41s)". Names are cut to fit.
 * color: the hot span's bar in red, erring spans' in yellow.
 */
void traces_waterfall(struct strbuf *out, const struct trace_slow *slow, int width, int color);

#endif
