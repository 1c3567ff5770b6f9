/*
 * jaeger.h: the Jaeger query API client (lib/jaeger.c), shared by the scout
 * source (scout-jaeger.c) and the evidence collector (collect-jaeger.c).
 */
#ifndef SRE_JAEGER_H
#define SRE_JAEGER_H

#include <stdint.h>
#include <cJSON.h>

#include "http.h"
#include "strbuf.h"

/*
 * The URL of jaeger-query's search for service's traces over the
 * lookback_ms before end_us (µs since the epoch), limit of them; base has
 * no trailing '/'. The caller frees it.
 */
char *jaeger_traces_url(const char *base, const char *service, int64_t lookback_ms,
			long long limit, int64_t end_us);
/*
 * An answer of Jaeger's API, parsed (the caller's), or NULL with why:
 * unreachable, "HTTP <status>[: <msg>]", or not Jaeger's JSON. A 400 with
 * Jaeger's errors is an answer.
 */
cJSON *jaeger_api_answer(const struct http_response *res, struct strbuf *why);
/* Jaeger's own error in an answer: its errors[0].msg, or NULL. Borrowed. */
const char *jaeger_answer_error(const cJSON *answer);
/* A duration in ms as Go's time.ParseDuration reads it ("15m", "90s"), appended to sb. */
void jaeger_go_duration(struct strbuf *sb, int64_t ms);

#endif
