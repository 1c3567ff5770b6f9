/*
 * collect-jaeger.c: the Jaeger evidence of `sre diagnose`: the service's
 * traces over diagnose.lookback (default 1h) before now, jaeger.limit
 * (default 200) of them, read with one search of jaeger-query's API.
 *
 * The search is lib/jaeger.c's own (GET /api/traces with service,
 * lookback, limit, and start and end in microseconds, which jaeger-query
 * reads), and its answer is kept whole in ev->traces, as it came:
 * {"data": [...], "total", "limit", "offset", "errors"}. Failures are told
 * as lib/jaeger.c tells them: "jaeger: <url>: <why>" when Jaeger cannot be
 * read, "jaeger: service "<name>": <msg>" when it answers with its errors.
 */
#include "evidence.h"
#include "scout.h"
#include "timeutil.h"

int collect_jaeger_configured(const struct config *cfg, const struct collect_options *o)
{
	const char *url = config_get_string(cfg, "jaeger.url");

	return url && *url;
}

int collect_jaeger(const struct collect_context *c, struct evidence *ev, struct strbuf *why)
{
	const char *url = config_get_string(c->cfg, "jaeger.url");
	const char *lookback = config_get_string(c->cfg, "diagnose.lookback");
	const char *limit_text = config_get_string(c->cfg, "jaeger.limit");
	struct http_batch rs = HTTP_BATCH_INIT;
	struct strbuf base = STRBUF_INIT, msg = STRBUF_INIT;
	const cJSON *data;
	cJSON *answer = NULL;
	int64_t lookback_ms = 3600 * 1000;
	long long limit = 200;
	int ret = -1;

	if (!url || !*url) {
		strbuf_addstr(why, "jaeger: jaeger.url is not set");
		return -1;
	}
	if (lookback && (parse_duration_ms(lookback, &lookback_ms) < 0 || lookback_ms <= 0)) {
		strbuf_addf(why, "jaeger: diagnose.lookback is '%s', not a duration (1h)", lookback);
		return -1;
	}
	if (limit_text && (config_parse_int(limit_text, &limit) < 0 || limit <= 0)) {
		strbuf_addf(why, "jaeger: jaeger.limit is '%s', not a positive number", limit_text);
		return -1;
	}
	strbuf_addstr(&base, url);
	while (base.len && base.buf[base.len - 1] == '/')
		strbuf_setlen(&base, base.len - 1);

	http_batch_add(&rs, jaeger_traces_url(base.buf, c->o->service, lookback_ms, limit,
					      (int64_t)c->now * 1000000));
	http_do(c->http, &rs.req[0], &rs.res[0]);
	if (!(answer = jaeger_api_answer(&rs.res[0], &msg))) {
		if (http_deadline_passed(c->http, &rs.res[0]))
			strbuf_addf(why, "jaeger: %s: timed out", base.buf);
		else
			strbuf_addf(why, "jaeger: %s: %s", base.buf, msg.buf);
		goto out;
	}
	data = json_get(answer, "data");
	if (!cJSON_IsArray(data)) {
		const char *error = jaeger_answer_error(answer);

		strbuf_addf(why, "jaeger: service \"%s\": %s", c->o->service,
			    error ? error : "no traces in the answer");
		goto out;
	}
	cJSON_Delete(ev->traces);
	ev->traces = answer;
	answer = NULL;
	ret = 0;
out:
	cJSON_Delete(answer);
	http_batch_release(&rs);
	strbuf_release(&base);
	strbuf_release(&msg);
	return ret;
}
