/*
 * fuzz-jaeger.c: an answer of Jaeger's query API (/api/traces) as
 * `sre scout` judges it (lib/jaeger.c) and as `sre diagnose` analyses
 * its traces (lib/traces.c): critical paths, per-service stats and the
 * waterfall drawn from them.
 */
#include "fuzz.h"
#include "../lib/jaeger.h"
#include "../lib/http.h"
#include "../lib/scout.h"
#include "../lib/traces.h"

static struct config cfg = CONFIG_INIT;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_config(&cfg, "[jaeger]\n\turl = http://127.0.0.1:1\n\tmin-traces = 1\n"
			  "[service \"frontend\"]\n\tmax-error-rate = 5%\n\tmax-p99 = 800ms\n"
			  "[service \"checkout\"]\n\tmax-error-rate = 0.01\n");
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
	answer = jaeger_api_answer(&res, &why);
	if (answer) {
		struct trace_analysis a = TRACE_ANALYSIS_INIT;
		struct trace_op_stats st;
		size_t skipped = 0;

		jaeger_judge_answer(&cfg, "frontend", answer, &out, &err);
		jaeger_judge_answer(&cfg, "checkout", answer, &out, &err);
		if (traces_analyse(&a, answer, 3, &skipped, &err) == 0) {
			struct strbuf w = STRBUF_INIT;

			traces_service_stats(&a, "frontend", &st);
			for (size_t i = 0; i < a.slow_nr; i++)
				traces_waterfall(&w, &a.slow[i], 80, i & 1);
			strbuf_release(&w);
		}
		trace_analysis_release(&a);
	}
	cJSON_Delete(answer);
	findings_clear(&out);
	strbuf_release(&why);
	strbuf_release(&err);
	http_response_release(&res);
	return 0;
}
