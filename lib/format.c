/*
 * format.c: the JSON model of an incident and its text rendering; see
 * format.h.
 */
#include "format.h"
#include "color.h"
#include "json.h"
#include "strbuf.h"
#include "timeutil.h"

static void add_time(cJSON *obj, const char *name, time_t t)
{
	char buf[32];

	if (!t) {
		cJSON_AddNullToObject(obj, name);
		return;
	}
	format_iso8601(buf, sizeof(buf), t);
	cJSON_AddStringToObject(obj, name, buf);
}

static void add_string_or_null(cJSON *obj, const char *name, const char *s)
{
	if (s)
		cJSON_AddStringToObject(obj, name, s);
	else
		cJSON_AddNullToObject(obj, name);
}

cJSON *incident_to_json(const struct incident *inc)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)inc->id);
	cJSON_AddStringToObject(o, "fingerprint", inc->fingerprint);
	cJSON_AddStringToObject(o, "service", inc->service);
	cJSON_AddStringToObject(o, "title", inc->title);
	cJSON_AddStringToObject(o, "severity", incident_severity_name(inc->severity));
	add_string_or_null(o, "category", inc->category);
	cJSON_AddStringToObject(o, "state", incident_state_name(inc->state));
	cJSON_AddStringToObject(o, "source", inc->source);
	cJSON_AddNumberToObject(o, "occurrences", (double)inc->occurrences);
	add_time(o, "opened_at", inc->opened_at);
	add_time(o, "updated_at", inc->updated_at);
	add_time(o, "resolved_at", inc->resolved_at);
	add_string_or_null(o, "remote_key", inc->remote_key);
	add_string_or_null(o, "remote_url", inc->remote_url);
	return o;
}

void incident_add_events_json(cJSON *obj, const struct event *ev, size_t nr)
{
	cJSON *arr = cJSON_AddArrayToObject(obj, "events");

	for (size_t i = 0; i < nr; i++) {
		cJSON *e = cJSON_CreateObject(), *body = cJSON_Parse(ev[i].body);

		add_time(e, "at", ev[i].at);
		cJSON_AddStringToObject(e, "kind", ev[i].kind);
		cJSON_AddStringToObject(e, "actor", ev[i].actor);
		/* The store checks json_valid(body); an object is always there. */
		cJSON_AddItemToObject(e, "body", body ? body : cJSON_CreateObject());
		cJSON_AddItemToArray(arr, e);
	}
}

int json_print(FILE *fp, const cJSON *value)
{
	char *text = cJSON_Print(value);

	if (!text)
		return error("out of memory formatting JSON");
	fputs(text, fp);
	fputc('\n', fp);
	cJSON_free(text);
	return 0;
}

static const char *severity_color(const char *sev)
{
	if (!strcmp(sev, "critical"))
		return COLOR_BOLD_RED;
	if (!strcmp(sev, "high"))
		return COLOR_RED;
	if (!strcmp(sev, "medium"))
		return COLOR_YELLOW;
	return "";
}

static const char *state_color(const char *state)
{
	if (!strcmp(state, "INCIDENT_RESOLVED"))
		return COLOR_GREEN;
	if (!strcmp(state, "INCIDENT_REQUIRES_HUMAN"))
		return COLOR_BOLD_RED;
	return COLOR_CYAN;
}

/*
 * Text from outside (a ticket, a comment, a log line) made safe for a
 * terminal: control characters (C0, DEL, and C1, which some terminals
 * read as CSI) become '?', and newlines and tabs a blank, so that no
 * escape sequence in a ticket can rewrite what the reader sees.
 */
static void fputs_printable(const char *s, FILE *fp)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (*p == '\n' || *p == '\t' || *p == '\r')
			fputc(' ', fp);
		else if (*p < 0x20 || *p == 0x7f)
			fputc('?', fp);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fputc('?', fp);
			p++;
		} else
			fputc(*p, fp);
	}
}

char *event_summary(const char *kind, const cJSON *body)
{
	struct strbuf sb = STRBUF_INIT;

	skip_prefix(kind, "imported-", &kind);
	if (!strcmp(kind, "transition")) {
		const char *reason = json_string_or(body, "reason", NULL);
		strbuf_addf(&sb, "%s -> %s", json_string_or(body, "from", "?"), json_string_or(body, "to", "?"));
		if (reason)
			strbuf_addf(&sb, ": %s", reason);
	} else if (!strcmp(kind, "comment")) {
		strbuf_addstr(&sb, json_string_or(body, "text", ""));
	} else if (!strcmp(kind, "opened")) {
		strbuf_addf(&sb, "%s (%s, from %s)", json_string_or(body, "title", ""),
			    json_string_or(body, "severity", "?"), json_string_or(body, "source", "?"));
	} else if (!strcmp(kind, "remote")) {
		const cJSON *adopted = json_get(body, "adopted");
		strbuf_addf(&sb, "%s %s %s", cJSON_IsTrue(adopted) ? "adopted" : "mirrored as",
			    json_string_or(body, "tracker", "?"), json_string_or(body, "key", "?"));
		if (json_string_or(body, "url", NULL))
			strbuf_addf(&sb, " %s", json_string_or(body, "url", ""));
	} else if (!strcmp(kind, "diagnosed")) {
		const cJSON *c = json_get(body, "confidence");
		strbuf_addf(&sb, "%s (confidence %.2f): %s Mitigation: %s", json_string_or(body, "category", "?"),
			    cJSON_IsNumber(c) ? c->valuedouble : 0, json_string_or(body, "root_cause", ""),
			    json_string_or(body, "action", "?"));
		if (json_string_or(body, "target", NULL))
			strbuf_addf(&sb, " %s", json_string_or(body, "target", ""));
	} else if (!strcmp(kind, "occurrence")) {
		const cJSON *n = json_get(body, "occurrences");
		strbuf_addf(&sb, "seen again (occurrence %d)",
			    cJSON_IsNumber(n) ? n->valueint : 0);
	} else {
		char *text = cJSON_PrintUnformatted(body);
		strbuf_addstr(&sb, text ? text : "");
		cJSON_free(text);
	}
	return strbuf_detach(&sb, NULL);
}

static void print_field(FILE *fp, const char *name, const cJSON *v,
			const char *color, int use_color)
{
	fprintf(fp, "%-13s", name);
	if (use_color && color && *color)
		fputs(color, fp);
	if (cJSON_IsString(v))
		fputs_printable(v->valuestring, fp);
	else if (cJSON_IsNumber(v))
		fprintf(fp, "%.0f", v->valuedouble);
	else
		fputs("-", fp);
	if (use_color && color && *color)
		fputs(COLOR_RESET, fp);
	fputc('\n', fp);
}

void incident_print_text(FILE *fp, const cJSON *inc, int color)
{
	const cJSON *field, *events = json_get(inc, "events");
	const char *state = json_string_or(inc, "state", "?");
	const char *sev = json_string_or(inc, "severity", "?");
	const cJSON *id = json_get(inc, "id");

	fprintf(fp, "%sincident %.0f%s  ", color ? COLOR_BOLD : "",
		cJSON_IsNumber(id) ? id->valuedouble : 0.0, color ? COLOR_RESET : "");
	fputs_printable(json_string_or(inc, "title", ""), fp);
	fputc('\n', fp);
	/* Every field of the JSON object, in its order: nothing is text-only. */
	cJSON_ArrayForEach(field, inc) {
		const char *name = field->string, *c = NULL;

		if (!strcmp(name, "id") || !strcmp(name, "title") || !strcmp(name, "events"))
			continue;
		if (!strcmp(name, "state"))
			c = state_color(state);
		else if (!strcmp(name, "severity"))
			c = severity_color(sev);
		print_field(fp, name, field, c, color);
	}
	if (!cJSON_IsArray(events))
		return;
	fprintf(fp, "\n%stimeline%s\n", color ? COLOR_BOLD : "", color ? COLOR_RESET : "");
	cJSON_ArrayForEach(field, events) {
		const char *kind = json_string_or(field, "kind", "?");
		char *summary = event_summary(kind, json_get(field, "body"));

		struct strbuf line = STRBUF_INIT;

		strbuf_addf(&line, "%-10s  %-12s  %s", kind, json_string_or(field, "actor", "?"), summary);
		fprintf(fp, "  %s%s%s  ", color ? COLOR_DIM : "", json_string_or(field, "at", "?"),
			color ? COLOR_RESET : "");
		fputs_printable(line.buf, fp);
		fputc('\n', fp);
		strbuf_release(&line);
		free(summary);
	}
}

void incident_list_print_text(FILE *fp, const struct incident *list, size_t nr,
			      int color, time_t now)
{
	size_t svc_w = 7;

	if (!nr)
		return;
	for (size_t i = 0; i < nr; i++) {
		size_t n = strlen(list[i].service);
		if (n > svc_w)
			svc_w = n < 24 ? n : 24;
	}
	fprintf(fp, "%5s  %-26s  %-8s  %-*s  %4s  %s\n", "ID", "STATE", "SEVERITY",
		(int)svc_w, "SERVICE", "AGE", "TITLE");
	for (size_t i = 0; i < nr; i++) {
		const struct incident *inc = &list[i];
		const char *state = incident_state_name(inc->state);
		const char *sev = incident_severity_name(inc->severity);
		/* A long service name is cut whole characters at a time, and
		 * padded by characters, not bytes, so the columns stay aligned. */
		size_t cut = utf8_cut(inc->service, strlen(inc->service), svc_w), chars = 0;
		char age[16];

		for (size_t k = 0; k < cut; k++)
			chars += ((unsigned char)inc->service[k] & 0xC0) != 0x80;
		format_age(age, sizeof(age), inc->opened_at, now);
		struct strbuf line = STRBUF_INIT;

		fprintf(fp, "%5lld  %s%-26s%s  %s%-8s%s  ", inc->id,
			color ? state_color(state) : "", state, color ? COLOR_RESET : "",
			color ? severity_color(sev) : "", sev, color ? COLOR_RESET : "");
		strbuf_addf(&line, "%.*s%*s  %4s  %s", (int)cut, inc->service,
			    (int)(svc_w - chars), "", age, inc->title);
		fputs_printable(line.buf, fp);
		strbuf_release(&line);
		if (inc->occurrences > 1)
			fprintf(fp, " (x%lld)", inc->occurrences);
		fputc('\n', fp);
	}
}
