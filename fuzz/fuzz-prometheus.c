/*
 * fuzz-prometheus.c: an answer of Prometheus's HTTP API as `sre scout`
 * reads it: accepted or refused by prometheus_api_answer(), then judged
 * as a query's answer (a check with thresholds, one with a samples
 * query) and as /api/v1/alerts' answer (lib/prometheus.c).
 */
#include "fuzz.h"
#include "../lib/prometheus.h"
#include "../lib/http.h"
#include "../lib/scout.h"

static struct config cfg = CONFIG_INIT;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_config(&cfg, "[check \"latency\"]\n"
			  "\tprometheus = histogram_quantile(0.99, rate(x[5m]))\n"
			  "\tabove = 0.8\n\tbelow = 0.001\n\tservice = checkout\n"
			  "[check \"conversion\"]\n"
			  "\tprometheus = sum(rate(orders[5m]))\n\tbelow = 0.02\n"
			  "\tsamples = sum(rate(visits[5m]))\n\tmin-samples = 10\n"
			  "\tseverity = critical\n");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_response res = HTTP_RESPONSE_INIT;
	struct findings out = FINDINGS_INIT;
	struct strbuf why = STRBUF_INIT, err = STRBUF_INIT;
	cJSON *answer;

	res.outcome = HTTP_OK;
	res.status = 200;
	strbuf_add(&res.body, data, size);
	answer = prometheus_api_answer(&res, &why);
	if (answer) {
		prometheus_judge_check(&cfg, "latency", answer, NULL, &out, &err);
		prometheus_judge_check(&cfg, "conversion", answer, answer, &out, &err);
		prometheus_judge_alerts(answer, &out, &err);
	}
	cJSON_Delete(answer);
	findings_clear(&out);
	strbuf_release(&why);
	strbuf_release(&err);
	http_response_release(&res);
	return 0;
}
