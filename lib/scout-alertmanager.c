/*
 * scout-alertmanager.c: Alertmanager's alerts read into findings, from
 * either of the two ways Alertmanager tells them:
 *
 *   its webhook payload (version 4), a file given to `sre scout
 *   --alertmanager`: each firing alert is a failing finding, each
 *   resolved alert a healthy one (its recovery);
 *
 *   its API (GET /api/v2/alerts of [alertmanager] url, through
 *   lib/alertmanager.c), a source of the table in scout.c: each alert
 *   that pages (active, neither silenced nor inhibited) is a failing
 *   finding. A silenced or inhibited alert opens nothing, as it pages
 *   nobody; one that stops being listed (resolved, or silenced since)
 *   counts a healthy run of its incident (scout_silence_is_healthy()).
 *
 * Both key a finding by the alert's own fingerprint (alertmanager/<fp>),
 * so an alert read one way and then the other is one incident. Prometheus
 * already waited the alert's `for:`, so sre scout opens these on the
 * first run (see scout_decide()).
 *
 * Alertmanager unreachable, answering 5xx or something that is not its
 * API stops the source: -1, one line, no findings.
 */
#include "alertmanager.h"
#include "redact.h"
#include "scout.h"
#include "strbuf.h"

/* The finding of one alert of either shape (the same fields); 0, or -1 when it cannot be keyed. */
static int add_alert(const cJSON *a, int firing, struct findings *out)
{
	const cJSON *labels = json_get(a, "labels");
	const cJSON *ann = json_get(a, "annotations");
	const char *fp = json_nonempty(a, "fingerprint");
	const char *name = json_nonempty(labels, "alertname");
	const char *service = scout_alert_service(labels);
	const char *summary = json_nonempty(ann, "summary");
	const char *sev = json_nonempty(labels, "severity");
	struct finding *f;
	char *signal, *text;

	if (!name || !fp)
		return -1;
	signal = xstrfmt("alert/%s", name);
	f = finding_add(out, "alertmanager", name, service, signal);
	free(signal);
	/* The alert's own fingerprint is its identity across payloads. */
	free(f->fingerprint);
	f->fingerprint = xstrfmt("alertmanager/%s", fp);
	f->failing = firing;
	/* "major" is high here, though not in Prometheus's own alerts. */
	f->severity = sev && !strcasecmp(sev, "major") ? SEVERITY_HIGH : scout_alert_severity(sev);
	text = scout_one_line(summary ? summary : name, 300);
	finding_summary(f, "%s: %s", name, text);
	free(text);
	f->evidence = cJSON_CreateObject();
	cJSON_AddItemToObject(f->evidence, "labels", json_copy(labels));
	if (json_nonempty(a, "startsAt"))
		cJSON_AddStringToObject(f->evidence, "startsAt", json_nonempty(a, "startsAt"));
	if (json_nonempty(a, "generatorURL"))
		cJSON_AddStringToObject(f->evidence, "generatorURL",
					json_nonempty(a, "generatorURL"));
	return 0;
}

int alertmanager_parse(const char *json, size_t len, struct findings *out,
		       struct strbuf *err)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *alerts, *a;
	const cJSON *version;
	int n = 0;

	if (!root || !cJSON_IsObject(root)) {
		strbuf_addstr(err, "alertmanager: the payload is not a JSON object");
		cJSON_Delete(root);
		return -1;
	}
	version = json_get(root, "version");
	if (!cJSON_IsString(version) || strcmp(version->valuestring, "4")) {
		strbuf_addstr(err, "alertmanager: the payload is not webhook version 4");
		cJSON_Delete(root);
		return -1;
	}
	alerts = json_get(root, "alerts");
	if (!cJSON_IsArray(alerts)) {
		strbuf_addstr(err, "alertmanager: the payload has no alerts array");
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(a, alerts) {
		const char *status = json_nonempty(a, "status");

		/* Not an alert sre can key: the others still count. */
		if (status && !add_alert(a, !strcmp(status, "firing"), out))
			n++;
	}
	cJSON_Delete(root);
	return n;
}

int alertmanager_configured(const struct config *cfg)
{
	const char *url = config_get_string(cfg, "alertmanager.url");

	return url && *url;
}

int alertmanager_collect(const struct config *cfg, struct http_client *http,
			 struct findings *out, struct strbuf *err)
{
	const char *url = config_get_string(cfg, "alertmanager.url");
	struct http_batch rs = HTTP_BATCH_INIT;
	struct strbuf why = STRBUF_INIT;
	const cJSON *a;
	int ret = -1;

	if (!url || !*url) {
		scout_error_line(err, "alertmanager: alertmanager.url is not set");
		return -1;
	}
	http_batch_add(&rs, alertmanager_alerts_url(url));
	if (http_batch_answer(&rs, http, 1, alertmanager_api_answer, &why) < 0) {
		/* A URL may carry its password (https://u:p@host): not in a message. */
		char *shown = redact_str(url);

		scout_error_line(err, "alertmanager: %s: %s", shown, why.buf);
		free(shown);
		goto out;
	}
	cJSON_ArrayForEach(a, rs.answer[0])
		if (alertmanager_alert_pages(a))
			add_alert(a, 1, out);
	ret = 0;
out:
	http_batch_release(&rs);
	strbuf_release(&why);
	return ret;
}
