/*
 * prometheus.c: the Prometheus HTTP API client: how a request
 * authenticates (prometheus.user and its password, or a token), and an
 * answer read and judged to be the API's. Both readers of Prometheus go
 * through it: the scout source (scout-prometheus.c) and the evidence
 * collector (collect-prometheus.c).
 */
#include "config.h"
#include "finding.h"
#include "http.h"
#include "json.h"
#include "prometheus.h"

void prometheus_auth_release(struct prometheus_auth *auth)
{
	if (auth->userpwd) {
		memset(auth->userpwd, 0, strlen(auth->userpwd));
		free(auth->userpwd);
	}
	if (auth->header.alloc)
		memset(auth->header.buf, 0, auth->header.alloc);
	strbuf_release(&auth->header);
}

int prometheus_auth_read(const struct config *cfg, struct http_client *http,
			 struct prometheus_auth *auth, struct strbuf *err)
{
	const char *user = config_get_string(cfg, "prometheus.user");
	struct strbuf secret = STRBUF_INIT;
	int r, ret = 0;

	if (user && *user) {
		r = config_get_secret(cfg, "prometheus.password", "PROMETHEUS_PASSWORD", &secret);
		if (r < 0) {
			scout_error_line(err, "prometheus: cannot read the password");
			ret = -1;
		} else if (r > 0) {
			scout_error_line(err, "prometheus: prometheus.user is set but no password: "
					 "set PROMETHEUS_PASSWORD or prometheus.password-command");
			ret = -1;
		} else {
			http_client_add_secret(http, secret.buf);
			auth->userpwd = xstrfmt("%s:%s", user, secret.buf);
		}
	} else {
		r = config_get_secret(cfg, "prometheus.token", "PROMETHEUS_TOKEN", &secret);
		if (r < 0) {
			scout_error_line(err, "prometheus: cannot read the token");
			ret = -1;
		} else if (!r) {
			http_client_add_secret(http, secret.buf);
			strbuf_addf(&auth->header, "Authorization: Bearer %s", secret.buf);
		}
	}
	if (secret.alloc)
		memset(secret.buf, 0, secret.alloc);
	strbuf_release(&secret);
	return ret;
}

/*
 * One answer of the API, parsed; or NULL with why when it is not one
 * (unreachable, 5xx past the retries, a proxy's 401, a page that is not
 * JSON), which stops the whole source. A 400 or 422 carrying Prometheus's
 * own error is an answer: the error is one query's.
 */
cJSON *prometheus_api_answer(const struct http_response *res, struct strbuf *why)
{
	cJSON *json = NULL;
	const char *status;

	if (res->outcome == HTTP_OK || res->status)
		json = cJSON_ParseWithLength(res->body.buf, res->body.len);
	status = json_string(json, "status");
	if (res->outcome == HTTP_OK && status &&
	    (res->status / 100 == 2 || res->status == 400 || res->status == 422))
		return json;
	http_answer_why(why, res, "check prometheus.user and its password, or the token",
			"the answer is not the JSON of Prometheus's API",
			json_string(json, "error"));
	cJSON_Delete(json);
	return NULL;
}

const cJSON *prometheus_api_data(const cJSON *answer, struct strbuf *why)
{
	const char *status = json_string(answer, "status");
	const char *type, *msg;

	if (strcmp(status, "error"))
		return json_get(answer, "data");
	type = json_string(answer, "errorType");
	msg = json_string(answer, "error");
	strbuf_addf(why, "%s%s%s", type ? type : "", type ? ": " : "", msg ? msg : "an error");
	return NULL;
}

void prometheus_auth_apply(const struct prometheus_auth *auth, struct http_request *req)
{
	req->userpwd = auth->userpwd;
	if (auth->header.len)
		strvec_push(&req->headers, auth->header.buf);
}
