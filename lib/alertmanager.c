/*
 * alertmanager.c: an Alertmanager webhook payload (version 4) read into
 * findings: each firing alert is a failing finding keyed by the alert's
 * own fingerprint, each resolved alert a healthy one (its recovery).
 * Prometheus already waited the alert's `for:`, so sre scout opens and
 * resolves these on the first run (see scout_decide()).
 */
#include "scout.h"
#include "strbuf.h"

static const char *label(const cJSON *labels, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, name);
	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

static enum incident_severity severity_of(const char *s)
{
	if (!s)
		return SEVERITY_MEDIUM;
	if (!strcasecmp(s, "critical") || !strcasecmp(s, "page"))
		return SEVERITY_CRITICAL;
	if (!strcasecmp(s, "high") || !strcasecmp(s, "error") || !strcasecmp(s, "major"))
		return SEVERITY_HIGH;
	if (!strcasecmp(s, "warning") || !strcasecmp(s, "medium"))
		return SEVERITY_MEDIUM;
	return SEVERITY_LOW;
}

/* Text from an alert, on one line and bounded, for a title. */
static char *one_line(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	for (; *s && sb.len < 300; s++)
		strbuf_addch(&sb, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
	strbuf_trim(&sb);
	return strbuf_detach(&sb, NULL);
}

int alertmanager_parse(const char *json, size_t len, struct findings *out,
		       struct strbuf *err)
{
	cJSON *root = cJSON_ParseWithLength(json, len), *alerts, *a;
	const cJSON *version;
	int n = 0;

	if (!root || !cJSON_IsObject(root)) {
		strbuf_addstr(err, "alertmanager: the payload is not a JSON object");
		cJSON_Delete(root);
		return -1;
	}
	version = cJSON_GetObjectItemCaseSensitive(root, "version");
	if (!cJSON_IsString(version) || strcmp(version->valuestring, "4")) {
		strbuf_addstr(err, "alertmanager: the payload is not webhook version 4");
		cJSON_Delete(root);
		return -1;
	}
	alerts = cJSON_GetObjectItemCaseSensitive(root, "alerts");
	if (!cJSON_IsArray(alerts)) {
		strbuf_addstr(err, "alertmanager: the payload has no alerts array");
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(a, alerts) {
		const cJSON *labels = cJSON_GetObjectItemCaseSensitive(a, "labels");
		const cJSON *ann = cJSON_GetObjectItemCaseSensitive(a, "annotations");
		const char *status = label(a, "status"), *fp = label(a, "fingerprint");
		const char *name = label(labels, "alertname");
		const char *service = label(labels, "service");
		const char *summary = label(ann, "summary");
		struct finding *f;
		char *signal, *text;

		if (!name || !status || !fp)
			continue; /* not an alert sre can key; the others still count */
		if (!service)
			service = label(labels, "job");
		if (!service)
			service = "unknown";
		signal = xstrfmt("alert/%s", name);
		f = finding_add(out, "alertmanager", name, service, signal);
		free(signal);
		/* The alert's own fingerprint is its identity across payloads. */
		free(f->fingerprint);
		f->fingerprint = xstrfmt("alertmanager/%s", fp);
		f->failing = !strcmp(status, "firing");
		f->severity = severity_of(label(labels, "severity"));
		text = one_line(summary ? summary : name);
		finding_summary(f, "%s: %s", name, text);
		free(text);
		f->evidence = cJSON_CreateObject();
		cJSON_AddItemToObject(f->evidence, "labels", labels ? cJSON_Duplicate(labels, 1)
									: cJSON_CreateObject());
		if (label(a, "startsAt"))
			cJSON_AddStringToObject(f->evidence, "startsAt", label(a, "startsAt"));
		if (label(a, "generatorURL"))
			cJSON_AddStringToObject(f->evidence, "generatorURL", label(a, "generatorURL"));
		n++;
	}
	cJSON_Delete(root);
	return n;
}
