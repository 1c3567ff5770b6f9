/*
 * alertmanager.c: the Alertmanager API v2 client: the URL of the alerts
 * that page, an answer read and judged to be the API's, and whether one
 * alert of it pages. Alertmanager's own state decides: an alert that a
 * silence or an inhibition rule holds back is not news, as it would not
 * be on the pager, so sre asks Alertmanager to leave those out
 * (active=true&silenced=false&inhibited=false, the filters of its
 * OpenAPI v2 spec) and checks each alert's status again.
 */
#include "alertmanager.h"
#include "finding.h"
#include "http.h"
#include "json.h"
#include "strbuf.h"

char *alertmanager_alerts_url(const char *base)
{
	struct strbuf u = STRBUF_INIT;

	strbuf_addstr(&u, base);
	while (u.len && u.buf[u.len - 1] == '/')
		strbuf_setlen(&u, u.len - 1);
	strbuf_addstr(&u, "/api/v2/alerts?active=true&silenced=false&inhibited=false");
	return strbuf_detach(&u, NULL);
}

/*
 * One answer of the API: a 2xx with a JSON array. Anything else
 * (unreachable, 5xx past the retries, a proxy's 401, a page that is not
 * JSON, an object) stops the source. Alertmanager's errors are a JSON
 * string or {"message": ...}; either is told.
 */
cJSON *alertmanager_api_answer(const struct http_response *res, struct strbuf *why)
{
	cJSON *json = NULL;
	char *msg = NULL;

	if (res->outcome == HTTP_OK || res->status)
		json = cJSON_ParseWithLength(res->body.buf, res->body.len);
	if (res->outcome == HTTP_OK && res->status / 100 == 2 && cJSON_IsArray(json))
		return json;
	/* Its words, on one line and bounded: they reach a terminal. */
	if (cJSON_IsString(json) || json_string(json, "message"))
		msg = scout_one_line(cJSON_IsString(json) ? json->valuestring
							 : json_string(json, "message"), 200);
	http_answer_why(why, res, NULL, "the answer is not the JSON of Alertmanager's API v2",
			msg);
	free(msg);
	cJSON_Delete(json);
	return NULL;
}

int alertmanager_alert_pages(const cJSON *alert)
{
	const cJSON *status = json_get(alert, "status");
	const char *state = json_string(status, "state");

	if (!state || strcmp(state, "active"))
		return 0;
	return !cJSON_GetArraySize(json_get(status, "silencedBy")) &&
	       !cJSON_GetArraySize(json_get(status, "inhibitedBy"));
}
