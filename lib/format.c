/*
 * format.c: the JSON model of an incident and its text rendering, and
 * the printers of the commands' results (text and JSON from one
 * function each); see format.h.
 */
#include "format.h"
#include "color.h"
#include "fix-engine.h"
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

static const char *str_or(const cJSON *o, const char *name, const char *fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : fallback;
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
		const char *reason = str_or(body, "reason", NULL);
		strbuf_addf(&sb, "%s -> %s", str_or(body, "from", "?"), str_or(body, "to", "?"));
		if (reason)
			strbuf_addf(&sb, ": %s", reason);
	} else if (!strcmp(kind, "comment")) {
		strbuf_addstr(&sb, str_or(body, "text", ""));
	} else if (!strcmp(kind, "opened")) {
		strbuf_addf(&sb, "%s (%s, from %s)", str_or(body, "title", ""),
			    str_or(body, "severity", "?"), str_or(body, "source", "?"));
	} else if (!strcmp(kind, "remote")) {
		const cJSON *adopted = cJSON_GetObjectItemCaseSensitive(body, "adopted");
		strbuf_addf(&sb, "%s %s %s", cJSON_IsTrue(adopted) ? "adopted" : "mirrored as",
			    str_or(body, "tracker", "?"), str_or(body, "key", "?"));
		if (str_or(body, "url", NULL))
			strbuf_addf(&sb, " %s", str_or(body, "url", ""));
	} else if (!strcmp(kind, "diagnosed")) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(body, "confidence");
		strbuf_addf(&sb, "%s (confidence %.2f): %s Mitigation: %s", str_or(body, "category", "?"),
			    cJSON_IsNumber(c) ? c->valuedouble : 0, str_or(body, "root_cause", ""),
			    str_or(body, "action", "?"));
		if (str_or(body, "target", NULL))
			strbuf_addf(&sb, " %s", str_or(body, "target", ""));
	} else if (!strcmp(kind, "occurrence")) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(body, "occurrences");
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
	const cJSON *field, *events = cJSON_GetObjectItemCaseSensitive(inc, "events");
	const char *state = str_or(inc, "state", "?");
	const char *sev = str_or(inc, "severity", "?");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(inc, "id");

	fprintf(fp, "%sincident %.0f%s  ", color ? COLOR_BOLD : "",
		cJSON_IsNumber(id) ? id->valuedouble : 0.0, color ? COLOR_RESET : "");
	fputs_printable(str_or(inc, "title", ""), fp);
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
		const char *kind = str_or(field, "kind", "?");
		char *summary = event_summary(kind, cJSON_GetObjectItemCaseSensitive(field, "body"));

		struct strbuf line = STRBUF_INIT;

		strbuf_addf(&line, "%-10s  %-12s  %s", kind, str_or(field, "actor", "?"), summary);
		fprintf(fp, "  %s%s%s  ", color ? COLOR_DIM : "", str_or(field, "at", "?"),
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

/* ---- sre fix ---- */

void fix_plan_print(FILE *fp, const struct fix_plan *p, int json)
{
	if (json) {
		cJSON *j = fix_plan_json(p);
		json_print(fp, j);
		cJSON_Delete(j);
		return;
	}
	fprintf(fp, "Incident    #%lld (%s, confidence %.2f)\n", p->incident, p->category, p->confidence);
	fprintf(fp, "Action      %s%s%s", mitigation_action_name(p->action),
		p->have_target ? " " : "", p->have_target ? p->target.service : "");
	if (p->kind == FIX_PLAN_DIRECT)
		fprintf(fp, " (%s", fix_runtime_name(p->target.runtime));
	if (p->kind == FIX_PLAN_DIRECT && p->target.runtime == RUNTIME_KUBERNETES)
		fprintf(fp, ": deployment %s/%s", p->target.namespace, p->target.deployment);
	else if (p->kind == FIX_PLAN_DIRECT && p->target.runtime == RUNTIME_DOCKER)
		fprintf(fp, ": container %s", p->target.container);
	if (p->kind == FIX_PLAN_DIRECT)
		fputc(')', fp);
	if (p->kind == FIX_PLAN_REPOSITORY)
		fprintf(fp, " (pull request from %s into %s)", p->branch ? p->branch : "?",
			p->base ? p->base : "?");
	fputc('\n', fp);
	if (p->revert)
		fprintf(fp, "Revert      %s\n", p->revert);
	fprintf(fp, "Approval    %s\n", p->requires_approval ? p->approval.buf : "allowed by policy");
	if (p->refused)
		fprintf(fp, "Refused     %s\n", p->refusal.buf);
	if (p->diff.len)
		fprintf(fp, "\n%s", p->diff.buf);
}

cJSON *fix_outcome_json(const struct fix_outcome *o)
{
	cJSON *j = cJSON_CreateObject();
	int pull = o->pull_opened || o->pull_followed || o->pull;

	cJSON_AddNumberToObject(j, "incident", (double)o->incident);
	cJSON_AddStringToObject(j, "state", incident_state_name(o->state));
	add_string_or_null(j, "action", o->done);
	add_string_or_null(j, "output", o->done ? o->done_output : NULL);
	if (pull) {
		cJSON_AddNumberToObject(j, "pull_request", (double)o->pull);
		cJSON_AddStringToObject(j, "url", o->pull_url ? o->pull_url : "");
		cJSON_AddBoolToObject(j, "pull_request_opened", o->pull_opened);
	} else {
		cJSON_AddNullToObject(j, "pull_request");
	}
	if (o->pull_followed) {
		cJSON_AddNumberToObject(j, "approved", o->approved);
		cJSON_AddNumberToObject(j, "changes_requested", o->changes_requested);
		cJSON_AddNumberToObject(j, "reviewers", o->reviewers);
	}
	add_string_or_null(j, "resolved", o->resolved);
	add_string_or_null(j, "escalated", o->escalated);
	add_string_or_null(j, "waiting", o->waiting);
	return j;
}

void fix_outcome_print(FILE *fp, const struct fix_outcome *o, int json)
{
	if (o->dry_run) {
		fix_plan_print(fp, &o->plan, json);
		return;
	}
	if (!o->settled)
		return;
	if (json) {
		cJSON *j = fix_outcome_json(o);
		json_print(fp, j);
		cJSON_Delete(j);
		return;
	}
	/* The text says only what happened; waiting and escalation were noted on stderr. */
	if (o->no_pull)
		fprintf(fp, "%lld %s (no pull request to follow)\n", o->incident,
			incident_state_name(o->state));
	if (o->done)
		fprintf(fp, "%s: done%s%s\n", o->done, *o->done_output ? ": " : "", o->done_output);
	if (o->pull_opened)
		fprintf(fp, "incident %lld: pull request #%lld opened: %s\n", o->incident, o->pull,
			o->pull_url);
	if (o->pull_followed)
		fprintf(fp, "%lld %s #%lld %s\n", o->incident, incident_state_name(o->state), o->pull,
			o->pull_url);
	if (o->resolved)
		fprintf(fp, "incident %lld is resolved: %s\n", o->incident, o->resolved);
}
