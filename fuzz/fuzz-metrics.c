/*
 * fuzz-metrics.c: the Prometheus text exposition format as a service's
 * /metrics endpoint serves it (metrics_sample_value(), lib/scout-metrics.c).
 * The input's first line is the metric a check asks for (it comes from
 * the config), the rest the page; the fixed metrics read the page too.
 */
#include "fuzz.h"
#include "../lib/scout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *nl = strchr(s, '\n');
	const char *text = nl ? nl + 1 : s;
	double v;

	if (nl) {
		*nl = '\0';
		metrics_sample_value(text, s, &v);
	}
	metrics_sample_value(text, "http_requests_total", &v);
	metrics_sample_value(text, "http_requests_total{code=\"500\",method=\"get\"}", &v);
	free(s);
	return 0;
}
