/*
 * test-alertmanager.c: unit tests of lib/alertmanager.c, the Alertmanager
 * API v2 client, over answers built here (the real Alertmanager is
 * t4401's): the URL asked, which answers are the API's, and which alerts
 * page, given what a proxy or a hostile server may send. Prints TAP.
 */
#include <cJSON.h>

#include "../../lib/alertmanager.h"
#include "../../lib/http.h"
#include "test-lib.h"

static void test_url(void)
{
	char *u = alertmanager_alerts_url("http://am:9093//");

	is_str(u, "http://am:9093/api/v2/alerts?active=true&silenced=false&inhibited=false",
	       "the alerts that page, trailing slashes dropped");
	free(u);
	u = alertmanager_alerts_url("https://x.example/am");
	is_str(u, "https://x.example/am/api/v2/alerts?active=true&silenced=false&inhibited=false",
	       "under a path prefix");
	free(u);
}

/* Judge an answer of status and body; the why in why. */
static cJSON *answer(long status, const char *body, struct strbuf *why)
{
	struct http_response res = HTTP_RESPONSE_INIT;
	cJSON *j;

	res.status = status;
	res.outcome = HTTP_OK;
	strbuf_addstr(&res.body, body);
	strbuf_reset(why);
	j = alertmanager_api_answer(&res, why);
	http_response_release(&res);
	return j;
}

static void test_answer(void)
{
	struct strbuf why = STRBUF_INIT;
	cJSON *j;

	j = answer(200, "[]", &why);
	ok(cJSON_IsArray(j) && !why.len, "an empty list is an answer");
	cJSON_Delete(j);
	ok(!answer(200, "{\"alerts\": []}", &why), "an object is not");
	is_str(why.buf, "the answer is not the JSON of Alertmanager's API v2", "and says so");
	ok(!answer(200, "<html>login</html>", &why), "a proxy's page is not");
	ok(!answer(400, "\"bad\\nfilter\\u001b[31m\"", &why), "a 400 is not");
	is_str(why.buf, "HTTP 400: bad filter [31m", "its message told, on one line");
	ok(!answer(500, "{\"code\": 500, \"message\": \"boom\"}", &why), "a 500 is not");
	is_str(why.buf, "HTTP 500: boom", "nor its message");
	strbuf_release(&why);
}

static int pages(const char *alert)
{
	cJSON *j = cJSON_Parse(alert);
	int r = alertmanager_alert_pages(j);

	cJSON_Delete(j);
	return r;
}

static void test_pages(void)
{
	is_int(pages("{\"status\": {\"state\": \"active\", \"silencedBy\": [], \"inhibitedBy\": []}}"), 1,
	   "an active alert pages");
	ok(pages("{\"status\": {\"state\": \"active\"}}"), "without the lists too");
	ok(!pages("{\"status\": {\"state\": \"suppressed\", \"silencedBy\": [\"s1\"]}}"),
	   "a silenced alert does not");
	ok(!pages("{\"status\": {\"state\": \"active\", \"silencedBy\": [\"s1\"]}}"),
	   "nor one with a silence, whatever its state says");
	ok(!pages("{\"status\": {\"state\": \"active\", \"inhibitedBy\": [\"x\"]}}"),
	   "nor an inhibited one");
	ok(!pages("{\"status\": {\"state\": \"unprocessed\"}}"), "nor one not yet processed");
	ok(!pages("{\"labels\": {}}"), "nor one without a status");
	ok(!pages("[1]"), "nor what is no alert");
	ok(!alertmanager_alert_pages(NULL), "nor nothing");
}

int main(void)
{
	if (test_begin("alertmanager") < 0)
		return 1;
	test_url();
	test_answer();
	test_pages();
	return test_end();
}
