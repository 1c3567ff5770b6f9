/*
 * jaeger.c: the Jaeger query API client: the URL of a trace search, an
 * answer read and judged to be the API's, and Jaeger's own error in it.
 * Both readers of Jaeger go through it: the scout source (scout-jaeger.c)
 * and the evidence collector (collect-jaeger.c), so that both ask the same
 * way and phrase failures alike.
 */
#include "http.h"
#include "jaeger.h"
#include "json.h"
#include "strbuf.h"

void jaeger_go_duration(struct strbuf *sb, int64_t ms)
{
	if (ms && ms % 3600000 == 0)
		strbuf_addf(sb, "%lldh", (long long)(ms / 3600000));
	else if (ms && ms % 60000 == 0)
		strbuf_addf(sb, "%lldm", (long long)(ms / 60000));
	else if (ms && ms % 1000 == 0)
		strbuf_addf(sb, "%llds", (long long)(ms / 1000));
	else
		strbuf_addf(sb, "%lldms", (long long)ms);
}

const char *jaeger_answer_error(const cJSON *answer)
{
	const cJSON *e = cJSON_GetArrayItem(json_get(answer, "errors"), 0);
	return json_string(e, "msg");
}

/*
 * One answer of the API, parsed; or NULL with why when it is not one
 * (unreachable, 5xx past the retries, 401 from a proxy, a page that is not
 * JSON), which stops the source. A 400 with Jaeger's errors is an answer:
 * the error is one service's.
 */
cJSON *jaeger_api_answer(const struct http_response *res, struct strbuf *why)
{
	cJSON *json = NULL;

	if (res->outcome == HTTP_OK || res->status)
		json = cJSON_ParseWithLength(res->body.buf, res->body.len);
	if (res->outcome == HTTP_OK && cJSON_IsObject(json) &&
	    ((res->status / 100 == 2 &&
	      (cJSON_IsArray(json_get(json, "data")) ||
	       jaeger_answer_error(json))) ||
	     (res->status == 400 && jaeger_answer_error(json))))
		return json;
	http_answer_why(why, res, NULL, "the answer is not the JSON of Jaeger's query API",
			jaeger_answer_error(json));
	cJSON_Delete(json);
	return NULL;
}

char *jaeger_traces_url(const char *base, const char *service, int64_t lookback_ms,
			long long limit, int64_t end_us)
{
	struct strbuf u = STRBUF_INIT;

	strbuf_addf(&u, "%s/api/traces?service=", base);
	http_urlencode(&u, service);
	strbuf_addstr(&u, "&lookback=");
	jaeger_go_duration(&u, lookback_ms);
	strbuf_addf(&u, "&limit=%lld&start=%lld&end=%lld", limit,
		    (long long)(end_us - lookback_ms * 1000), (long long)end_us);
	return strbuf_detach(&u, NULL);
}
