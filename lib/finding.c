/*
 * finding.c: findings, and the helpers every scout source shares (a
 * check's severity, error lines, alert labels); see finding.h.
 */
#include <strings.h>

#include "finding.h"
#include "json.h"
#include "redact.h"

struct finding *finding_add(struct findings *fs, const char *source, const char *check,
			    const char *service, const char *signal)
{
	struct finding *f;

	ALLOC_GROW(fs->v, fs->nr + 1, fs->alloc);
	f = &fs->v[fs->nr++];
	memset(f, 0, sizeof(*f));
	f->source = xstrdup(source);
	f->check = xstrdup(check);
	f->service = xstrdup(service);
	f->signal = xstrdup(signal);
	f->severity = SEVERITY_MEDIUM;
	if (!strcmp(check, service))
		f->fingerprint = xstrfmt("%s/%s/%s", source, service, signal);
	else
		f->fingerprint = xstrfmt("%s/%s/%s/%s", source, service, signal, check);
	return f;
}

void finding_summary(struct finding *f, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	free(f->summary);
	f->summary = strbuf_detach(&sb, NULL);
}

void findings_clear(struct findings *fs)
{
	for (size_t i = 0; i < fs->nr; i++) {
		struct finding *f = &fs->v[i];
		free(f->source);
		free(f->check);
		free(f->service);
		free(f->signal);
		free(f->summary);
		free(f->fingerprint);
		cJSON_Delete(f->evidence);
	}
	free(fs->v);
	fs->v = NULL;
	fs->nr = fs->alloc = 0;
}

/* ---- shared by the sources ---- */

int scout_severity(const struct config *cfg, const char *source, const char *section,
		   const char *name, enum incident_severity *out, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	const char *v = config_get_string(cfg, config_key_of(&sb, section, name, "severity"));
	enum incident_severity s;
	int ret = 0;

	if (v && incident_severity_parse(v, &s) < 0) {
		if (err)
			scout_error_line(err, "%s: %s \"%s\": severity is '%s', not critical, "
					 "high, medium or low", source, section, name, v);
		ret = -1;
	} else if (v) {
		*out = s;
	}
	strbuf_release(&sb);
	return ret;
}

int scout_max_restarts(const struct config *cfg, long long *out)
{
	const char *v = config_get_string(cfg, "scout.max-restarts");
	long long n = 5;

	if (v && (config_parse_int(v, &n) < 0 || n < 0))
		return -1;
	*out = n;
	return 0;
}

void scout_error_line(struct strbuf *err, const char *fmt, ...)
{
	va_list ap;

	if (err->len && err->buf[err->len - 1] != '\n')
		strbuf_addch(err, '\n');
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
}

char *scout_one_line(const char *s, size_t max)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = utf8_cut(s, strnlen(s, max + 1), max);

	for (size_t i = 0; i < n; i++)
		strbuf_addch(&sb, (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i]);
	strbuf_trim(&sb);
	return strbuf_detach(&sb, NULL);
}

enum incident_severity scout_alert_severity(const char *label)
{
	if (!label)
		return SEVERITY_MEDIUM;
	if (!strcasecmp(label, "critical") || !strcasecmp(label, "page"))
		return SEVERITY_CRITICAL;
	if (!strcasecmp(label, "error") || !strcasecmp(label, "high"))
		return SEVERITY_HIGH;
	if (!strcasecmp(label, "warning") || !strcasecmp(label, "medium"))
		return SEVERITY_MEDIUM;
	return SEVERITY_LOW;
}

const char *scout_alert_service(const cJSON *labels)
{
	const char *service = json_nonempty(labels, "service");

	if (!service)
		service = json_nonempty(labels, "job");
	return service ? service : "unknown";
}

void findings_redact(struct findings *fs)
{
	for (size_t i = 0; i < fs->nr; i++) {
		struct finding *f = &fs->v[i];

		if (f->summary) {
			char *r = redact_str(f->summary);
			free(f->summary);
			f->summary = r;
		}
		if (f->evidence)
			redact_json(f->evidence);
	}
}
