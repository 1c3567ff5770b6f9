/*
 * alertmanager.c: an Alertmanager webhook payload (version 4) read into
 * findings: each firing alert is a failing finding keyed by the alert's
 * own fingerprint, each resolved alert a healthy one (its recovery).
 * Prometheus already waited the alert's `for:`, so sre scout opens and
 * resolves these on the first run (see scout_decide()).
 */
#include "scout.h"
#include "strbuf.h"

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
		const cJSON *labels = json_get(a, "labels");
		const cJSON *ann = json_get(a, "annotations");
		const char *status = json_nonempty(a, "status");
		const char *fp = json_nonempty(a, "fingerprint");
		const char *name = json_nonempty(labels, "alertname");
		const char *service = scout_alert_service(labels);
		const char *summary = json_nonempty(ann, "summary");
		const char *sev = json_nonempty(labels, "severity");
		struct finding *f;
		char *signal, *text;

		if (!name || !status || !fp)
			continue; /* not an alert sre can key; the others still count */
		signal = xstrfmt("alert/%s", name);
		f = finding_add(out, "alertmanager", name, service, signal);
		free(signal);
		/* The alert's own fingerprint is its identity across payloads. */
		free(f->fingerprint);
		f->fingerprint = xstrfmt("alertmanager/%s", fp);
		f->failing = !strcmp(status, "firing");
		/* "major" is high here, though not in Prometheus's own alerts. */
		f->severity = sev && !strcasecmp(sev, "major") ? SEVERITY_HIGH
							      : scout_alert_severity(sev);
		text = scout_one_line(summary ? summary : name, 300);
		finding_summary(f, "%s: %s", name, text);
		free(text);
		f->evidence = cJSON_CreateObject();
		cJSON_AddItemToObject(f->evidence, "labels", json_copy(labels));
		if (json_nonempty(a, "startsAt"))
			cJSON_AddStringToObject(f->evidence, "startsAt",
						json_nonempty(a, "startsAt"));
		if (json_nonempty(a, "generatorURL"))
			cJSON_AddStringToObject(f->evidence, "generatorURL",
						json_nonempty(a, "generatorURL"));
		n++;
	}
	cJSON_Delete(root);
	return n;
}
