/*
 * format.c: the JSON model of an incident and its text rendering, and
 * the printers of the commands' results (text and JSON from one
 * function each); see format.h.
 */
#include <limits.h>
#include <math.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "format.h"
#include "color.h"
#include "diagnose.h"
#include "doctor.h"
#include "evidence.h"
#include "fix-engine.h"
#include "json.h"
#include "logtemplate.h"
#include "memory.h"
#include "rules.h"
#include "scout.h"
#include "traces.h"
#include "strbuf.h"
#include "timeutil.h"

#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

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

cJSON *incident_to_json(const struct incident *inc)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)inc->id);
	cJSON_AddStringToObject(o, "fingerprint", inc->fingerprint);
	cJSON_AddStringToObject(o, "service", inc->service);
	cJSON_AddStringToObject(o, "title", inc->title);
	cJSON_AddStringToObject(o, "severity", incident_severity_name(inc->severity));
	json_add_string_or_null(o, "category", inc->category);
	cJSON_AddStringToObject(o, "state", incident_state_name(inc->state));
	cJSON_AddStringToObject(o, "source", inc->source);
	cJSON_AddNumberToObject(o, "occurrences", (double)inc->occurrences);
	add_time(o, "opened_at", inc->opened_at);
	add_time(o, "updated_at", inc->updated_at);
	add_time(o, "resolved_at", inc->resolved_at);
	json_add_string_or_null(o, "remote_key", inc->remote_key);
	json_add_string_or_null(o, "remote_url", inc->remote_url);
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

static int json_one_per_line;

void json_lines(int on)
{
	json_one_per_line = on;
}

/* "schema" first among obj's members, unless obj says it already. */
static void stamp_schema(cJSON *obj)
{
	cJSON *v;

	if (!cJSON_IsObject(obj) || cJSON_GetObjectItemCaseSensitive(obj, "schema"))
		return;
	v = cJSON_CreateNumber(SRE_JSON_SCHEMA);
	if (!v || !cJSON_AddItemToObject(obj, "schema", v))
		return;
	cJSON_DetachItemViaPointer(obj, v);
	cJSON_InsertItemInArray(obj, 0, v);
}

int json_print(FILE *fp, cJSON *value)
{
	char *text;
	cJSON *item;

	stamp_schema(value);
	if (cJSON_IsArray(value))
		cJSON_ArrayForEach(item, value)
			stamp_schema(item);
	text = json_one_per_line ? cJSON_PrintUnformatted(value) : cJSON_Print(value);

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
void format_put_clean(FILE *fp, const char *s, size_t len, int lines)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' || p[i] == '\t' || (!lines && p[i] == '\r'))
			fputc(lines ? p[i] : ' ', fp);
		else if (p[i] < 0x20 || p[i] == 0x7f)
			fputc('?', fp);
		else if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) {
			fputc('?', fp);
			i++;
		} else
			fputc(p[i], fp);
	}
}

static void fputs_printable(const char *s, FILE *fp)
{
	format_put_clean(fp, s, strlen(s), 0);
}

/*
 * The fields of an object that has no sentence of its own, in a line:
 * scalars as name=value, objects and arrays by their size, so that no
 * raw JSON reaches the timeline.
 */
static void summarise_fields(struct strbuf *sb, const cJSON *body)
{
	const cJSON *f;
	int n = 0;

	cJSON_ArrayForEach(f, body) {
		if (n++)
			strbuf_addstr(sb, ", ");
		if (n > 6) {
			strbuf_addf(sb, "%d more", cJSON_GetArraySize(body) - 6);
			break;
		}
		if (cJSON_IsString(f))
			strbuf_addf(sb, "%s=%s", f->string, f->valuestring);
		else if (cJSON_IsNumber(f))
			strbuf_addf(sb, "%s=%g", f->string, f->valuedouble);
		else if (cJSON_IsBool(f))
			strbuf_addf(sb, "%s=%s", f->string, cJSON_IsTrue(f) ? "true" : "false");
		else if (cJSON_IsNull(f))
			strbuf_addf(sb, "%s=-", f->string);
		else
			strbuf_addf(sb, "%s (%d %s)", f->string, cJSON_GetArraySize(f),
				    cJSON_IsArray(f) ? "items" : "fields");
	}
}

/* "restart quote-service (process)": what an action-started event says it does. */
static void action_name(struct strbuf *sb, const cJSON *started)
{
	strbuf_addf(sb, "%s %s", json_string_or(started, "action", "?"),
		    json_string_or(started, "target", "?"));
}

/*
 * An action's end in prose: "restart quote-service: pid 9999 -> 22789"
 * when the process runtime reported both pids, else the result and the
 * first line of what the runtime said.
 */
static void action_finished_summary(struct strbuf *sb, const cJSON *started, const cJSON *body)
{
	const char *result = json_string_or(body, "result", "?");
	const char *output = json_string_or(body, "output", "");
	const char *pid = strstr(output, "pid "), *nl;
	long long before = 0;

	if (started)
		action_name(sb, started);
	else
		strbuf_addstr(sb, "action");
	if (!strcmp(result, "done") && pid && started &&
	    !json_ll(json_get(started, "record"), "pid", 1, JSON_INT_MAX, &before)) {
		char *end;
		long long after = strtoll(pid + 4, &end, 10);
		if (end != pid + 4 && after > 0) {
			strbuf_addf(sb, ": pid %lld -> %lld", before, after);
			return;
		}
	}
	strbuf_addf(sb, ": %s", result);
	nl = strchrnul(output, '\n');
	if (nl > output)
		strbuf_addf(sb, ": %.*s", (int)(nl - output), output);
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
	} else if (!strcmp(kind, "architecture")) {
		/* A chronic problem's follow-up: on the tracker, or its brief kept here (--json). */
		if (json_string(body, "key")) {
			strbuf_addf(&sb, "architecture follow-up %s on %s %s",
				    cJSON_IsTrue(json_get(body, "adopted")) ? "adopted" : "opened",
				    json_string_or(body, "tracker", "?"), json_string(body, "key"));
			if (json_string(body, "url"))
				strbuf_addf(&sb, " %s", json_string(body, "url"));
		} else {
			strbuf_addf(&sb, "architecture follow-up kept here (its brief: --json): %s",
				    json_string_or(body, "title", "?"));
		}
	} else if (!strcmp(kind, "diagnosed")) {
		const cJSON *c = json_get(body, "confidence");
		strbuf_addf(&sb, "%s (confidence %.2f): %s Mitigation: %s", json_string_or(body, "category", "?"),
			    cJSON_IsNumber(c) ? c->valuedouble : 0, json_string_or(body, "root_cause", ""),
			    json_string_or(body, "action", "?"));
		if (json_string_or(body, "target", NULL))
			strbuf_addf(&sb, " %s", json_string_or(body, "target", ""));
	} else if (!strcmp(kind, "severity")) {
		strbuf_addf(&sb, "severity %s -> %s", json_string_or(body, "from", "?"),
			    json_string_or(body, "to", "?"));
	} else if (!strcmp(kind, "occurrence")) {
		const cJSON *n = json_get(body, "occurrences");
		strbuf_addf(&sb, "seen again (occurrence %d)",
			    cJSON_IsNumber(n) ? n->valueint : 0);
	} else if (!strcmp(kind, "evidence")) {
		/* What the source saw: its summary, and what else it kept. */
		strbuf_addstr(&sb, json_string_or(body, "summary", "evidence"));
		if (cJSON_IsObject(json_get(body, "evidence"))) {
			strbuf_addstr(&sb, " [");
			summarise_fields(&sb, json_get(body, "evidence"));
			strbuf_addch(&sb, ']');
		}
	} else if (!strcmp(kind, "dry-run")) {
		const char *target = json_string_or(body, "target", NULL);
		strbuf_addf(&sb, "plan: %s%s%s (%s)", json_string_or(body, "action", "?"),
			    target ? " " : "", target ? target : "", json_string_or(body, "runtime", "?"));
		if (cJSON_IsTrue(json_get(body, "refused")))
			strbuf_addf(&sb, ", refused: %s", json_string_or(body, "reason", "?"));
		else if (cJSON_IsTrue(json_get(body, "requires_approval")))
			strbuf_addf(&sb, ", needs approval: %s", json_string_or(body, "approval", "?"));
		else
			strbuf_addstr(&sb, ", allowed by policy");
	} else if (!strcmp(kind, "action-started")) {
		action_name(&sb, body);
		strbuf_addf(&sb, " (%s, approval: %s)", json_string_or(body, "runtime", "?"),
			    json_string_or(body, "approval", "?"));
	} else if (!strcmp(kind, "action-finished")) {
		action_finished_summary(&sb, NULL, body);
	} else if (!strcmp(kind, "pull-request")) {
		const cJSON *n = json_get(body, "number");
		strbuf_addf(&sb, "pull request #%.0f %s (%s into %s)", cJSON_IsNumber(n) ? n->valuedouble : 0,
			    json_string_or(body, "url", ""), json_string_or(body, "branch", "?"),
			    json_string_or(body, "base", "?"));
	} else {
		summarise_fields(&sb, body);
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

/* "+0s", "+45s", "+3m12s", "+2h5m", "+3d4h": a span, to the second or the minute. */
static void add_span(struct strbuf *sb, const char *sign, long long s)
{
	static const struct { long long unit; char name; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};
	int shown = 0;

	/* Clocks of two hosts may disagree: an event may seem to come first. */
	if (s < 0) {
		strbuf_addch(sb, '-');
		s = s < -LLONG_MAX ? LLONG_MAX : -s;
	} else {
		strbuf_addstr(sb, sign);
	}
	/* The two largest units that apply: "+3m12s", not "+0h3m12s". */
	for (size_t i = 0; i < ARRAY_SIZE(units) && shown < 2; i++) {
		if (s < units[i].unit && !shown && units[i].unit > 1)
			continue;
		if (shown && s / units[i].unit == 0) {
			shown++;
			continue;
		}
		strbuf_addf(sb, "%lld%c", s / units[i].unit, units[i].name);
		s %= units[i].unit;
		shown++;
	}
}

static int event_time(const cJSON *ev, const char *key, time_t *out)
{
	const char *at = json_string(ev, key);
	return at && !parse_iso8601(at, out) ? 0 : -1;
}

static void add_seconds_or_null(cJSON *obj, const char *name, int known, long long s)
{
	if (known && s >= 0)
		cJSON_AddNumberToObject(obj, name, (double)s);
	else
		cJSON_AddNullToObject(obj, name);
}

void incident_add_totals_json(cJSON *obj)
{
	const cJSON *events = json_get(obj, "events"), *ev;
	time_t opened, at, resolved;
	int have_opened = !event_time(obj, "opened_at", &opened);
	int detect = 0, diagnose = 0, resolve = 0;
	long long to_detect = 0, to_diagnose = 0;
	cJSON *t = cJSON_AddObjectToObject(obj, "totals");

	cJSON_ArrayForEach(ev, events) {
		const char *kind = json_string_or(ev, "kind", "");
		const cJSON *evidence = json_get(json_get(ev, "body"), "evidence");
		const char *began = json_string(evidence, "active_at");

		if (!began)
			began = json_string(evidence, "startsAt");
		/* The problem began when the source says; sre saw it at opened_at. */
		if (!strcmp(kind, "evidence") && !detect && began && have_opened &&
		    !parse_rfc3339(began, &at)) {
			detect = 1;
			to_detect = (long long)(opened - at);
		}
		if (!strcmp(kind, "diagnosed") && !diagnose && have_opened &&
		    !event_time(ev, "at", &at)) {
			diagnose = 1;
			to_diagnose = (long long)(at - opened);
		}
	}
	resolve = have_opened && !event_time(obj, "resolved_at", &resolved);
	add_seconds_or_null(t, "detect", detect, to_detect);
	add_seconds_or_null(t, "diagnose", diagnose, to_diagnose);
	add_seconds_or_null(t, "resolve", resolve, resolve ? (long long)(resolved - opened) : 0);
}

/* The last diagnosis of the timeline, first: what a person paged wants to read. */
static void print_diagnosis(FILE *fp, const cJSON *events, double id, int color)
{
	const cJSON *ev, *last = NULL, *c;
	const char *target;

	cJSON_ArrayForEach(ev, events)
		if (!strcmp(json_string_or(ev, "kind", ""), "diagnosed"))
			last = json_get(ev, "body");
	fprintf(fp, "\n%sdiagnosis%s\n", color ? COLOR_BOLD : "", color ? COLOR_RESET : "");
	if (!last) {
		fprintf(fp, "  none yet: run 'sre diagnose %.0f'\n", id);
		return;
	}
	c = json_get(last, "confidence");
	fputs("  root cause   ", fp);
	fputs_printable(json_string_or(last, "root_cause", "?"), fp);
	fprintf(fp, "\n  confidence   %.2f (", cJSON_IsNumber(c) ? c->valuedouble : 0.0);
	fputs_printable(json_string_or(last, "category", "?"), fp);
	fputs(")\n  mitigation   ", fp);
	fputs_printable(json_string_or(last, "action", "?"), fp);
	if ((target = json_string(last, "target"))) {
		fputc(' ', fp);
		fputs_printable(target, fp);
	}
	fputc('\n', fp);
}

static size_t display_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/*
 * The timeline: offsets from the first event, columns as wide as their
 * longest entry (kinds such as action-finished), and text of several
 * lines (a comment, a reason) indented under its first line.
 */
static void print_timeline(FILE *fp, const cJSON *events, int color)
{
	const cJSON *ev, *started = NULL;
	size_t nr = (size_t)cJSON_GetArraySize(events), i = 0, off_w = 0, kind_w = 0, actor_w = 0;
	struct strbuf *offs = xcalloc(nr ? nr : 1, sizeof(*offs));
	time_t first = 0, at;

	cJSON_ArrayForEach(ev, events) {
		strbuf_init(&offs[i], 0);
		if (!event_time(ev, "at", &at)) {
			if (!i)
				first = at;
			add_span(&offs[i], "+", (long long)(at - first));
		} else {
			strbuf_addch(&offs[i], '?');
		}
		off_w = offs[i].len > off_w ? offs[i].len : off_w;
		kind_w = MAX(kind_w, display_chars(json_string_or(ev, "kind", "?")));
		actor_w = MAX(actor_w, display_chars(json_string_or(ev, "actor", "?")));
		i++;
	}
	/* A kind or actor from a tracker may be long: it overflows, the rest stay aligned. */
	actor_w = MIN(actor_w, 20);
	kind_w = MIN(kind_w, 24);
	fprintf(fp, "\n%stimeline%s", color ? COLOR_BOLD : "", color ? COLOR_RESET : "");
	if (nr)
		fprintf(fp, "  from %s", json_string_or(cJSON_GetArrayItem(events, 0), "at", "?"));
	fputc('\n', fp);
	i = 0;
	cJSON_ArrayForEach(ev, events) {
		const char *kind = json_string_or(ev, "kind", "?");
		const char *actor = json_string_or(ev, "actor", "?");
		const cJSON *body = json_get(ev, "body");
		char *summary, *line;
		struct strbuf head = STRBUF_INIT;
		size_t indent;

		if (!strcmp(kind, "action-finished")) {
			struct strbuf sb = STRBUF_INIT;
			action_finished_summary(&sb, started, body);
			summary = strbuf_detach(&sb, NULL);
		} else {
			summary = event_summary(kind, body);
		}
		if (!strcmp(kind, "action-started"))
			started = body;
		strbuf_addf(&head, "%-*s  ", (int)kind_w, kind);
		strbuf_addstr(&head, actor);
		if (display_chars(actor) < actor_w)
			strbuf_addchars(&head, ' ', actor_w - display_chars(actor));
		fprintf(fp, "  %s%-*s%s  ", color ? COLOR_DIM : "", (int)off_w, offs[i].buf,
			color ? COLOR_RESET : "");
		fputs_printable(head.buf, fp);
		fputs("  ", fp);
		indent = 2 + off_w + 2 + display_chars(head.buf) + 2;
		line = summary;
		for (;;) {
			char *nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			fputs_printable(line, fp);
			fputc('\n', fp);
			if (!nl)
				break;
			line = nl + 1;
			fprintf(fp, "%*s", (int)indent, "");
		}
		strbuf_release(&head);
		strbuf_release(&offs[i]);
		free(summary);
		i++;
	}
	free(offs);
}

static void print_totals(FILE *fp, const cJSON *totals)
{
	static const char *const names[] = { "detect", "diagnose", "resolve" };
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const cJSON *v = json_get(totals, names[i]);
		if (!cJSON_IsNumber(v))
			continue;
		strbuf_addf(&sb, "%sto %s ", sb.len ? ", " : "time ", names[i]);
		add_span(&sb, "", (long long)v->valuedouble);
	}
	if (sb.len)
		fprintf(fp, "\n%s\n", sb.buf);
	strbuf_release(&sb);
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
	if (cJSON_IsArray(events))
		print_diagnosis(fp, events, cJSON_IsNumber(id) ? id->valuedouble : 0.0, color);
	fputc('\n', fp);
	/* Every field of the JSON object, in its order: nothing is text-only. */
	cJSON_ArrayForEach(field, inc) {
		const char *name = field->string, *c = NULL;

		if (!strcmp(name, "id") || !strcmp(name, "title") || !strcmp(name, "events") ||
		    !strcmp(name, "totals"))
			continue;
		if (!strcmp(name, "state"))
			c = state_color(state);
		else if (!strcmp(name, "severity"))
			c = severity_color(sev);
		print_field(fp, name, field, c, color);
	}
	if (!cJSON_IsArray(events))
		return;
	print_timeline(fp, events, color);
	print_totals(fp, json_get(inc, "totals"));
}

/* The width of a string as a terminal shows it, counted in characters. */
static void add_padded(struct strbuf *sb, const char *s, size_t width)
{
	size_t n = display_chars(s);

	strbuf_addstr(sb, s);
	if (n < width)
		strbuf_addchars(sb, ' ', width - n);
}

void incident_list_print_text(FILE *fp, const struct incident *list, size_t nr,
			      const struct incident_list_view *view, int color, time_t now)
{
	size_t svc_w = 7, src_w = 6, trk_w = 7, act_w = 7;
	int wide = view && view->wide, width = view ? view->width : 0;

	if (!nr)
		return;
	for (size_t i = 0; i < nr; i++) {
		svc_w = MAX(svc_w, MIN(display_chars(list[i].service), 24));
		src_w = MAX(src_w, MIN(display_chars(list[i].source), 16));
		if (list[i].remote_key)
			trk_w = MAX(trk_w, MIN(display_chars(list[i].remote_key), 16));
		if (view && view->actors && view->actors[i])
			act_w = MAX(act_w, MIN(display_chars(view->actors[i]), 16));
	}
	{
		struct strbuf head = STRBUF_INIT;
		strbuf_addf(&head, "%5s  %-26s  %-8s  ", "ID", "STATE", "SEVERITY");
		add_padded(&head, "SERVICE", svc_w);
		strbuf_addf(&head, "  %4s  ", "AGE");
		if (wide) {
			strbuf_addf(&head, "%7s  ", "UPDATED");
			add_padded(&head, "SOURCE", src_w);
			strbuf_addstr(&head, "  ");
			add_padded(&head, "TRACKER", trk_w);
			strbuf_addstr(&head, "  ");
			add_padded(&head, "LAST BY", act_w);
			strbuf_addstr(&head, "  ");
		}
		fprintf(fp, "%sTITLE\n", head.buf);
		strbuf_release(&head);
	}
	for (size_t i = 0; i < nr; i++) {
		const struct incident *inc = &list[i];
		const char *state = incident_state_name(inc->state);
		const char *sev = incident_severity_name(inc->severity);
		struct strbuf line = STRBUF_INIT, occ = STRBUF_INIT;
		char age[16], *cut;
		size_t used;

		/* Long names end in "…", cut whole characters at a time; columns stay aligned. */
		cut = utf8_shorten(inc->service, svc_w);
		add_padded(&line, cut, svc_w);
		free(cut);
		format_age(age, sizeof(age), inc->opened_at, now);
		strbuf_addf(&line, "  %4s  ", age);
		if (wide) {
			const char *actor = view->actors && view->actors[i] ? view->actors[i] : "-";
			format_age(age, sizeof(age), inc->updated_at, now);
			strbuf_addf(&line, "%7s  ", age);
			cut = utf8_shorten(inc->source, src_w);
			add_padded(&line, cut, src_w);
			free(cut);
			strbuf_addstr(&line, "  ");
			cut = utf8_shorten(inc->remote_key ? inc->remote_key : "-", trk_w);
			add_padded(&line, cut, trk_w);
			free(cut);
			strbuf_addstr(&line, "  ");
			cut = utf8_shorten(actor, act_w);
			add_padded(&line, cut, act_w);
			free(cut);
			strbuf_addstr(&line, "  ");
		}
		if (inc->occurrences > 1)
			strbuf_addf(&occ, " (x%lld)", inc->occurrences);
		/* The title takes what the terminal has left; a pipe gets it whole. */
		used = 5 + 2 + 26 + 2 + 8 + 2 + display_chars(line.buf) + occ.len;
		if (width > 0) {
			size_t room = (size_t)width > used + 10 ? (size_t)width - used : 10;
			cut = utf8_shorten(inc->title, room);
		} else {
			cut = xstrdup(inc->title);
		}
		strbuf_addstr(&line, cut);
		strbuf_add(&line, occ.buf, occ.len);
		free(cut);
		fprintf(fp, "%5lld  %s%-26s%s  %s%-8s%s  ", inc->id,
			color ? state_color(state) : "", state, color ? COLOR_RESET : "",
			color ? severity_color(sev) : "", sev, color ? COLOR_RESET : "");
		fputs_printable(line.buf, fp);
		fputc('\n', fp);
		strbuf_release(&line);
		strbuf_release(&occ);
	}
}

int terminal_columns(int fd)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	long long n;

	if (!isatty(fd))
		return 0;
	/* COLUMNS first, as ls does: the user's word, and what a test can set. */
	if (env && !parse_ll(env, &n) && n > 0 && n < 100000)
		return (int)n;
	if (!ioctl(fd, TIOCGWINSZ, &ws) && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

char **incident_last_actors(struct store *st, const struct incident *list, size_t nr)
{
	char **actors = xcalloc(nr ? nr : 1, sizeof(*actors));

	for (size_t i = 0; st && i < nr; i++) {
		struct event *ev;
		size_t n;
		if (store_event_list(st, list[i].id, &ev, &n) < 0)
			continue; /* the column shows "-" */
		if (n)
			actors[i] = xstrdup(ev[n - 1].actor);
		event_list_free(ev, n);
	}
	return actors;
}

int incident_last_event_print(FILE *fp, struct store *st, long long id)
{
	struct event *events;
	size_t nr;
	cJSON *tmp, *ev;

	if (store_event_list(st, id, &events, &nr) < 0)
		return -1;
	tmp = cJSON_CreateObject();
	incident_add_events_json(tmp, nr ? events + nr - 1 : events, nr ? 1 : 0);
	ev = cJSON_DetachItemFromArray(json_get(tmp, "events"), 0);
	if (ev) {
		cJSON_AddNumberToObject(ev, "incident", (double)id);
		json_print(fp, ev);
		cJSON_Delete(ev);
	}
	cJSON_Delete(tmp);
	event_list_free(events, nr);
	return 0;
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
	/* What the run itself would do, in its own words (fix_decide()). */
	if (p->decided)
		fprintf(fp, "Decision    would %s: %s\n", fix_verdict_name(p->verdict), p->decision.buf);
	if (p->diff.len)
		fprintf(fp, "\n%s", p->diff.buf);
}

cJSON *fix_outcome_json(const struct fix_outcome *o)
{
	cJSON *j = cJSON_CreateObject();
	int pull = o->pull_opened || o->pull_followed || o->pull;

	cJSON_AddNumberToObject(j, "incident", (double)o->incident);
	cJSON_AddStringToObject(j, "state", incident_state_name(o->state));
	json_add_string_or_null(j, "action", o->done);
	json_add_string_or_null(j, "output", o->done ? o->done_output : NULL);
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
	json_add_string_or_null(j, "resolved", o->resolved);
	json_add_string_or_null(j, "escalated", o->escalated);
	json_add_string_or_null(j, "waiting", o->waiting);
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

/* The call graph's ranking: [{service, score, category, evidence: [{source, summary}]}], best first. */
static cJSON *candidates_json(const struct localize_result *g)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < g->nr; i++) {
		const struct localize_candidate *c = &g->v[i];
		cJSON *o = cJSON_CreateObject(), *ev = cJSON_CreateArray();

		cJSON_AddStringToObject(o, "service", c->service);
		cJSON_AddNumberToObject(o, "score", round(c->score * 100) / 100);
		cJSON_AddStringToObject(o, "category",
					diagnosis_category_name(diagnosis_localize_category(c->kind)));
		for (size_t k = 0; k < c->lines_nr; k++)
			json_add_quote(ev, c->lines[k].source, c->lines[k].summary);
		cJSON_AddItemToObject(o, "evidence", ev);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* ---- sre diagnose ---- */

static cJSON *critical_path_json(const struct diagnosis *d)
{
	const struct trace_slow *s;
	cJSON *o, *spans;

	if (!d->have_traces || !d->traces.slow_nr)
		return cJSON_CreateNull();
	s = &d->traces.slow[0];
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "trace_id", s->trace_id ? s->trace_id : "");
	cJSON_AddNumberToObject(o, "duration_us", (double)s->duration_us);
	spans = cJSON_AddArrayToObject(o, "spans");
	for (size_t i = 0; i < s->path_nr; i++) {
		const struct trace_path_span *p = &s->path[i];
		cJSON *sp = cJSON_CreateObject();
		cJSON_AddStringToObject(sp, "service", p->service ? p->service : "");
		cJSON_AddStringToObject(sp, "operation", p->operation ? p->operation : "");
		cJSON_AddNumberToObject(sp, "start_us", (double)p->start_us);
		cJSON_AddNumberToObject(sp, "duration_us", (double)p->duration_us);
		cJSON_AddNumberToObject(sp, "self_us", (double)p->self_us);
		cJSON_AddBoolToObject(sp, "error", p->error);
		cJSON_AddItemToArray(spans, sp);
	}
	return o;
}

cJSON *diagnosis_to_json(const struct diagnosis *d, const struct evidence *ev,
			 long long id, const char *problem)
{
	cJSON *o = diagnosis_finding_json(&d->answer), *all = cJSON_CreateArray();
	cJSON *head = cJSON_CreateObject(), *item;

	/* The incident and the service first, then the answer's fields. */
	if (id)
		cJSON_AddNumberToObject(head, "incident", (double)id);
	else
		cJSON_AddNullToObject(head, "incident");
	cJSON_AddStringToObject(head, "service", ev->service ? ev->service : "");
	if (problem)
		cJSON_AddStringToObject(head, "problem", problem);
	else
		cJSON_AddNullToObject(head, "problem");
	while ((item = o->child)) {
		cJSON_DetachItemViaPointer(o, item);
		cJSON_AddItemToObject(head, item->string, item);
	}
	cJSON_Delete(o);
	for (size_t i = 0; i < d->findings_nr; i++)
		cJSON_AddItemToArray(all, diagnosis_finding_json(&d->findings[i]));
	cJSON_AddItemToObject(head, "findings", all);
	cJSON_AddItemToObject(head, "candidates", candidates_json(&d->graph));
	cJSON_AddItemToObject(head, "critical_path", critical_path_json(d));
	cJSON_AddItemToObject(head, "past_incidents",
			      ev->past ? cJSON_Duplicate(ev->past, 1) : cJSON_CreateArray());
	cJSON_AddItemToObject(head, "sources", evidence_sources_json(ev));
	return head;
}

static int terminal_width(void)
{
	struct winsize ws;

	if (isatty(1) && !ioctl(1, TIOCGWINSZ, &ws) && ws.ws_col >= 40)
		return ws.ws_col > 160 ? 160 : ws.ws_col;
	return 100;
}

static void print_params(FILE *fp, const cJSON *params)
{
	const cJSON *p;
	int first = 1;

	cJSON_ArrayForEach(p, params) {
		fprintf(fp, "%s%s=", first ? " (" : " ", p->string);
		if (cJSON_IsString(p))
			fputs_printable(p->valuestring, fp);
		else
			fprintf(fp, "%g", p->valuedouble);
		first = 0;
	}
	if (!first)
		fputc(')', fp);
}

/* An incident's id as a bundle gives it: a whole number, or 0 when it is not one. */
static long long bundle_id(const cJSON *o)
{
	long long id = 0;

	if (json_to_ll(json_get(o, "id"), 0, JSON_INT_MAX, &id) < 0)
		id = 0;
	return id;
}

static void diagnosis_print_text(FILE *fp, const struct diagnose_result *res, int color)
{
	const struct diagnosis *d = &res->d;
	const struct evidence *ev = &res->ev;
	const struct diagnosis_finding *a = &d->answer;
	const char *bold = color ? COLOR_BOLD : "", *reset = color ? COLOR_RESET : "";
	const char *title = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev->incident, "title"));
	size_t failed = 0;

	if (res->incident || (res->bundle && ev->incident)) {
		fprintf(fp, "%sIncident #%lld%s  ", bold, res->incident ? res->incident :
			bundle_id(ev->incident), reset);
		fputs_printable(title ? title : "", fp);
		if (!res->incident)
			fprintf(fp, " (from %s)", res->bundle);
		fputc('\n', fp);
	}
	else if (res->problem)
		fprintf(fp, "%sProblem%s  %s\n", bold, reset, res->problem);
	else
		fprintf(fp, "%sEvidence%s  %s\n", bold, reset, res->bundle);
	fputs("Service     ", fp);
	fputs_printable(ev->service ? ev->service : "?", fp);
	fputc('\n', fp);
	/* Service names come from traces and logs too: nothing of them reaches the terminal raw. */
	fputs("Root cause  ", fp);
	fputs_printable(a->root_cause, fp);
	fputc('\n', fp);
	fprintf(fp, "Category    %s (confidence %.2f)\n", diagnosis_category_name(a->category),
		a->confidence);
	fprintf(fp, "Mitigation  %s%s", mitigation_action_name(a->action), a->target ? " " : "");
	if (a->target)
		fputs_printable(a->target, fp);
	print_params(fp, a->params);
	fputc('\n', fp);
	if (res->adviser_asked) {
		const struct adviser_result *ad = &res->adviser;
		fputs("Adviser     ", fp);
		if (ad->used) {
			fprintf(fp, "%s/", res->adviser_provider ? res->adviser_provider : "?");
			fputs_printable(res->adviser_model ? res->adviser_model : "?", fp);
			fprintf(fp, " %s: %s, %s ", ad->agreed ? "agrees" : "disagrees",
				diagnosis_category_name(ad->answer.category),
				mitigation_action_name(ad->answer.action));
			fputs_printable(ad->answer.target ? ad->answer.target : "-", fp);
			if (ad->cached)
				fprintf(fp, " (confidence %.2f; cached)\n", ad->answer.confidence);
			else
				fprintf(fp, " (confidence %.2f; %d steps, %lld tokens)\n",
					ad->answer.confidence, ad->steps, ad->input_tokens + ad->output_tokens);
			if (!ad->agreed) {
				fputs("            ", fp);
				fputs_printable(ad->answer.root_cause, fp);
				fputc('\n', fp);
			}
		} else {
			fputs("not used: ", fp);
			fputs_printable(ad->reason ? ad->reason : "?", fp);
			fputc('\n', fp);
		}
	}
	if (a->evidence_nr) {
		fprintf(fp, "\n%sEvidence%s\n", bold, reset);
		for (size_t i = 0; i < a->evidence_nr; i++)
			fprintf(fp, "  [%s] \"%s\"\n", a->evidence[i].source, a->evidence[i].summary);
	}
	if (d->have_traces && d->traces.slow_nr && d->traces.slow[0].path_nr) {
		struct strbuf sb = STRBUF_INIT;
		traces_waterfall(&sb, &d->traces.slow[0], terminal_width() - 2, color);
		fprintf(fp, "\n%sCritical path of the slowest trace%s (%s)\n%s", bold, reset,
			d->traces.slow[0].trace_id ? d->traces.slow[0].trace_id : "?", sb.buf);
		strbuf_release(&sb);
	}
	if (d->graph.nr) {
		fprintf(fp, "\n%sCandidates%s (%zu ranked against %zu traces before)\n", bold, reset,
			d->graph.nr, d->graph.baseline_traces);
		for (size_t i = 0; i < d->graph.nr && i < 3; i++) {
			const struct localize_candidate *c = &d->graph.v[i];
			int w = (int)strlen(c->service);
			fprintf(fp, "  %zu. ", i + 1);
			fputs_printable(c->service, fp);
			fprintf(fp, "%*s %.2f  %s\n", w < 30 ? 30 - w : 0, "", c->score,
				diagnosis_category_name(diagnosis_localize_category(c->kind)));
			for (size_t k = 0; k < c->lines_nr && k < 2; k++) {
				fputs("       ", fp);
				fputs_printable(c->lines[k].summary, fp);
				fputc('\n', fp);
			}
		}
	}
	if (d->findings_nr > 1) {
		fprintf(fp, "\n%sOther findings%s\n", bold, reset);
		for (size_t i = 1; i < d->findings_nr; i++)
			fprintf(fp, "  %.2f %-18s %s\n", d->findings[i].confidence,
				diagnosis_category_name(d->findings[i].category), d->findings[i].root_cause);
	}
	if (res->known) {
		fprintf(fp, "\n%sKnown error %lld%s  %s", bold, res->known->id, reset, res->known->action);
		if (res->known->target) {
			fputc(' ', fp);
			fputs_printable(res->known->target, fp);
		}
		fprintf(fp, " fixed it (incident %lld)\n", res->known->incident_id);
		if (res->known->runbook) {
			fputs("  runbook: ", fp);
			fputs_printable(res->known->runbook, fp);
			fputc('\n', fp);
		}
	}
	if (res->memory_note) {
		fputs("Memory      ", fp);
		fputs_printable(res->memory_note, fp);
		fputc('\n', fp);
	}
	if (res->similar_nr) {
		fprintf(fp, "\n%sSimilar past incidents%s\n", bold, reset);
		for (size_t i = 0; i < res->similar_nr; i++) {
			const struct memory_hit *h = &res->similar[i];
			fputs("  ", fp);
			if (strcmp(h->origin, "local")) {
				fputs_printable(h->origin, fp);
				fputc('/', fp);
			}
			fprintf(fp, "#%lld  ", h->id);
			fputs_printable(h->title, fp);
			fputc('\n', fp);
			fputs("      ", fp);
			if (h->action) {
				fputs_printable(h->action, fp);
				fputs(h->worked == 1 ? ": worked" : h->worked == 0 ? ": failed" : ": outcome unknown", fp);
			} else {
				fputs("no action", fp);
			}
			fputs("  (", fp);
			fputs_printable(h->why, fp);
			fputs(")\n", fp);
		}
	} else if (cJSON_GetArraySize(ev->past)) {
		const cJSON *p;
		int n = 0;
		fprintf(fp, "\n%sPast incidents%s\n", bold, reset);
		cJSON_ArrayForEach(p, ev->past) {
			if (n++ >= 10)
				break;
			fprintf(fp, "  #%-5lld %s  %-22s %-14s %s\n", bundle_id(p),
				json_string_or(p, "opened_at", ""), json_string_or(p, "state", ""),
				json_string_or(p, "category", "-"), json_string_or(p, "title", ""));
		}
	}
	/* Weak evidence: say what more there could be, and how to add it. */
	if (res->missing_nr && a->confidence < DIAGNOSE_HINT_BELOW) {
		fprintf(fp, "\n%sNot configured%s (each would add evidence; the lines go in sre's config)\n",
			bold, reset);
		for (size_t i = 0; i < res->missing_nr; i++) {
			const char *line = res->missing[i].config;
			fprintf(fp, "  %s: %s\n", res->missing[i].source, res->missing[i].gives);
			while (*line) {
				size_t n = strcspn(line, "\n");
				fprintf(fp, "      %.*s\n", (int)n, line);
				line += n + (line[n] == '\n');
			}
		}
	}
	for (size_t i = 0; i < ev->sources_nr; i++)
		failed += ev->sources[i].status != EVIDENCE_OK;
	if (failed) {
		fprintf(fp, "\n%sNot read%s\n", bold, reset);
		for (size_t i = 0; i < ev->sources_nr; i++)
			if (ev->sources[i].status != EVIDENCE_OK)
				fprintf(fp, "  %s (%s): %s\n", ev->sources[i].name,
					ev->sources[i].status == EVIDENCE_TIMEOUT ? "timed out" : "failed",
					ev->sources[i].error ? ev->sources[i].error : "");
	}
}

/* The adviser's part: null when it was not asked. */
static cJSON *adviser_json(const struct diagnose_result *res)
{
	const struct adviser_result *a = &res->adviser;
	cJSON *o;

	if (!res->adviser_asked)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	json_add_string_or_null(o, "provider", res->adviser_provider);
	json_add_string_or_null(o, "model", res->adviser_model);
	cJSON_AddBoolToObject(o, "used", a->used);
	json_add_string_or_null(o, "reason", a->reason);
	cJSON_AddNumberToObject(o, "steps", a->steps);
	cJSON_AddNumberToObject(o, "input_tokens", (double)a->input_tokens);
	cJSON_AddNumberToObject(o, "output_tokens", (double)a->output_tokens);
	if (a->cost >= 0 && res->adviser_provider)
		cJSON_AddNumberToObject(o, "cost", a->cost);
	else
		cJSON_AddNullToObject(o, "cost");
	cJSON_AddBoolToObject(o, "cached", a->cached);
	if (a->used)
		cJSON_AddBoolToObject(o, "agreed", a->agreed);
	else
		cJSON_AddNullToObject(o, "agreed");
	cJSON_AddItemToObject(o, "answer", a->used ? diagnosis_finding_json(&a->answer) :
						   cJSON_CreateNull());
	return o;
}

cJSON *diagnose_result_json(const struct diagnose_result *res)
{
	cJSON *j = diagnosis_to_json(&res->d, &res->ev, res->incident, res->problem);
	cJSON *arr;

	cJSON_AddItemToObject(j, "adviser", adviser_json(res));
	arr = cJSON_AddArrayToObject(j, "log_templates");

	for (size_t i = 0; i < res->templates.nr && i < DIAGNOSE_TEMPLATES_MAX; i++) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "template", res->templates.v[i].template);
		cJSON_AddNumberToObject(t, "count", (double)res->templates.v[i].count);
		cJSON_AddBoolToObject(t, "new", res->templates.v[i].is_new);
		cJSON_AddItemToArray(arr, t);
	}
	return j;
}

void diagnose_memory_add_json(cJSON *j, const struct diagnose_result *res)
{
	cJSON *arr;

	if (!res->incident && !res->problem)
		return;
	if (res->known)
		cJSON_AddItemToObject(j, "known_error", known_error_json(res->known));
	else
		cJSON_AddNullToObject(j, "known_error");
	arr = cJSON_AddArrayToObject(j, "similar");
	for (size_t i = 0; i < res->similar_nr; i++)
		cJSON_AddItemToArray(arr, memory_hit_json(&res->similar[i]));
	json_add_string_or_null(j, "memory", res->memory_note);
}

void diagnose_result_print(FILE *fp, const struct diagnose_result *res, int json, int color)
{
	if (json) {
		cJSON *j = diagnose_result_json(res);
		diagnose_memory_add_json(j, res);
		cJSON *missing = cJSON_AddArrayToObject(j, "not_configured");
		for (size_t i = 0; i < res->missing_nr; i++) {
			cJSON *m = cJSON_CreateObject();
			cJSON_AddStringToObject(m, "source", res->missing[i].source);
			cJSON_AddStringToObject(m, "gives", res->missing[i].gives);
			cJSON_AddStringToObject(m, "config", res->missing[i].config);
			cJSON_AddItemToArray(missing, m);
		}
		json_print(fp, j);
		cJSON_Delete(j);
		return;
	}
	diagnosis_print_text(fp, res, color);
}

/* ---- sre doctor ---- */

static cJSON *doctor_report_json(const struct doctor_report *r)
{
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "sources");

	for (size_t i = 0; i < r->nr; i++) {
		const struct doctor_row *row = &r->rows[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "name", row->name);
		cJSON_AddStringToObject(j, "status", doctor_status_name(row->status));
		if (row->latency_ms >= 0)
			cJSON_AddNumberToObject(j, "latency_ms", (double)row->latency_ms);
		else
			cJSON_AddNullToObject(j, "latency_ms");
		json_add_string_or_null(j, "version", row->version);
		cJSON_AddStringToObject(j, "detail", row->detail ? row->detail : "");
		json_add_string_or_null(j, "config", row->config);
		cJSON_AddItemToArray(arr, j);
	}
	cJSON_AddNumberToObject(o, "broken", (double)doctor_broken(r));
	cJSON_AddNumberToObject(o, "timeout_ms", (double)r->timeout_ms);
	return o;
}

void doctor_report_print(FILE *fp, const struct doctor_report *r, int json, int color)
{
	size_t wname = strlen("SOURCE"), wver = strlen("VERSION"), configs = 0;

	if (json) {
		cJSON *j = doctor_report_json(r);
		json_print(fp, j);
		cJSON_Delete(j);
		return;
	}
	for (size_t i = 0; i < r->nr; i++) {
		size_t n = strlen(r->rows[i].name), v = r->rows[i].version ? strlen(r->rows[i].version) : 1;
		wname = n > wname ? n : wname;
		wver = v > wver ? v : wver;
		configs += r->rows[i].config != NULL;
	}
	fprintf(fp, "%-*s  %-14s  %7s  %-*s  %s\n", (int)wname, "SOURCE", "STATUS", "LATENCY",
		(int)wver, "VERSION", "DETAIL");
	for (size_t i = 0; i < r->nr; i++) {
		const struct doctor_row *row = &r->rows[i];
		const char *on = !color ? "" : row->status == DOCTOR_OK ? COLOR_GREEN :
				 row->status == DOCTOR_BROKEN ? COLOR_RED : "";
		char latency[24] = "-";

		if (row->latency_ms >= 0)
			snprintf(latency, sizeof(latency), "%lldms", (long long)row->latency_ms);
		fprintf(fp, "%-*s  %s%-14s%s  %7s  %-*s  ", (int)wname, row->name, on,
			doctor_status_name(row->status), *on ? COLOR_RESET : "", latency, (int)wver,
			row->version ? row->version : "-");
		fputs_printable(row->detail ? row->detail : "", fp);
		fputc('\n', fp);
	}
	if (!configs)
		return;
	fprintf(fp, "\nTo add what is not configured, these lines go in sre's config (~/.config/sre/config):\n");
	for (size_t i = 0; i < r->nr; i++) {
		const char *line = r->rows[i].config;
		if (!line)
			continue;
		fprintf(fp, "\n  # %s\n", r->rows[i].name);
		while (*line) {
			size_t n = strcspn(line, "\n");
			fprintf(fp, "  %.*s\n", (int)n, line);
			line += n + (line[n] == '\n');
		}
	}
}

/* ---- sre scout ---- */

static void scout_changes_print_text(FILE *fp, const struct scout_report *rep, struct store *st,
				     int verbose)
{
	for (size_t i = 0; i < rep->nr; i++) {
		const struct scout_change *c = &rep->v[i];
		const struct finding *f = c->finding;
		struct incident inc;

		/* The same failure, said the same way again, is no news. */
		if (c->unchanged && !verbose)
			continue;
		if (c->id)
			fprintf(fp, "%s %lld", c->what, c->id);
		else
			fprintf(fp, "%s -", c->what);
		if (f) {
			fprintf(fp, " %s: %s", f->service, f->summary ? f->summary : f->fingerprint);
			if (c->severity_changed)
				fprintf(fp, " (severity %s, was %s)", incident_severity_name(f->severity),
					incident_severity_name(c->was_severity));
			else if (c->unchanged)
				fputs(" (unchanged)", fp);
			fputc('\n', fp);
		} else if (st && store_incident_get(st, c->id, &inc) == 0) {
			fprintf(fp, " %s: %s (no longer reported)\n", inc.service, inc.title);
			incident_release(&inc);
		} else {
			fputc('\n', fp);
		}
	}
}

cJSON *scout_findings_json(const struct findings *fs, const struct scout_report *rep)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < fs->nr; i++) {
		const struct finding *f = &fs->v[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "check", f->check);
		cJSON_AddStringToObject(o, "source", f->source);
		cJSON_AddStringToObject(o, "service", f->service);
		cJSON_AddStringToObject(o, "signal", f->signal);
		cJSON_AddStringToObject(o, "status", f->failing ? "failing" : "ok");
		cJSON_AddStringToObject(o, "fingerprint", f->fingerprint);
		if (rep->incident && rep->incident[i])
			cJSON_AddNumberToObject(o, "incident", (double)rep->incident[i]);
		else
			cJSON_AddNullToObject(o, "incident");
		/* Every finding is listed; this says which are news this run. */
		cJSON_AddBoolToObject(o, "changed", rep->changed && rep->changed[i]);
		cJSON_AddStringToObject(o, "severity", incident_severity_name(f->severity));
		json_add_string_or_null(o, "summary", f->summary);
		cJSON_AddItemToObject(o, "evidence", f->evidence ? cJSON_Duplicate(f->evidence, 1)
								 : cJSON_CreateObject());
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

void scout_report_print(FILE *fp, const struct findings *fs, const struct scout_report *rep,
			struct store *st, enum output_format format, int verbose)
{
	cJSON *arr;

	switch (format) {
	case OUTPUT_JSON:
		arr = scout_findings_json(fs, rep);
		json_print(fp, arr);
		cJSON_Delete(arr);
		break;
	case OUTPUT_PORCELAIN:
		for (size_t i = 0; i < rep->nr; i++)
			/* A machine contract: every incident still failing, news or not. */
			if (!strcmp(rep->v[i].what, "opened") || !strcmp(rep->v[i].what, "updated"))
				fprintf(fp, "%lld\n", rep->v[i].id);
		break;
	case OUTPUT_TEXT:
		scout_changes_print_text(fp, rep, st, verbose);
		break;
	}
}

/* ---- sre incident list ---- */

void incident_list_print(FILE *fp, const struct incident *list, size_t nr,
			 enum output_format format, const struct incident_list_view *view,
			 int color, time_t now)
{
	cJSON *arr;

	switch (format) {
	case OUTPUT_JSON:
		arr = cJSON_CreateArray();
		for (size_t i = 0; i < nr; i++)
			cJSON_AddItemToArray(arr, incident_to_json(&list[i]));
		json_print(fp, arr);
		cJSON_Delete(arr);
		break;
	case OUTPUT_PORCELAIN:
		for (size_t i = 0; i < nr; i++)
			fprintf(fp, "%lld\n", list[i].id);
		break;
	case OUTPUT_TEXT:
		incident_list_print_text(fp, list, nr, view, color, now);
		break;
	}
}

static const char *const outbox_status_names[] = { "pending", "delivered", "failed" };

static cJSON *outbox_item_json(const struct outbox_item *o)
{
	cJSON *j = cJSON_CreateObject();
	char created[32];

	format_iso8601(created, sizeof(created), o->created_at);
	cJSON_AddNumberToObject(j, "id", (double)o->id);
	if (o->incident_id)
		cJSON_AddNumberToObject(j, "incident", (double)o->incident_id);
	else
		cJSON_AddNullToObject(j, "incident");
	cJSON_AddStringToObject(j, "target", o->target);
	cJSON_AddStringToObject(j, "operation", o->operation);
	cJSON_AddStringToObject(j, "status", outbox_status_names[o->status]);
	cJSON_AddNumberToObject(j, "attempts", o->attempts);
	if (o->last_error)
		cJSON_AddStringToObject(j, "error", o->last_error);
	else
		cJSON_AddNullToObject(j, "error");
	cJSON_AddStringToObject(j, "created_at", created);
	return j;
}

size_t outbox_list_print(FILE *fp, const struct outbox_item *items, size_t nr, int all, int json)
{
	cJSON *arr = cJSON_CreateArray(), *j;
	size_t shown = 0;

	for (size_t i = 0; i < nr; i++)
		if (all || items[i].status != OUTBOX_DELIVERED)
			cJSON_AddItemToArray(arr, outbox_item_json(&items[i]));
	if (json) {
		json_print(fp, arr);
		shown = (size_t)cJSON_GetArraySize(arr);
		cJSON_Delete(arr);
		return shown;
	}
	/* The table is the same objects, rendered: nothing is text-only. */
	cJSON_ArrayForEach(j, arr) {
		long long id = 0, incident = 0, attempts = 0;
		struct strbuf line = STRBUF_INIT;

		if (!shown++)
			fprintf(fp, "%5s  %8s  %-6s  %-9s  %-9s  %8s  %s\n", "ID", "INCIDENT", "TARGET",
				"OPERATION", "STATUS", "ATTEMPTS", "ERROR");
		json_ll(j, "id", 0, JSON_INT_MAX, &id);
		json_ll(j, "incident", 0, JSON_INT_MAX, &incident); /* null: none, 0 */
		json_ll(j, "attempts", 0, JSON_INT_MAX, &attempts);
		strbuf_addf(&line, "%5lld  %8lld  %-6s  %-9s  %-9s  %8lld  %s", id, incident,
			    json_string_or(j, "target", "?"), json_string_or(j, "operation", "?"),
			    json_string_or(j, "status", "?"), attempts, json_string_or(j, "error", "-"));
		fputs_printable(line.buf, fp);
		fputc('\n', fp);
		strbuf_release(&line);
	}
	cJSON_Delete(arr);
	return shown;
}

/* ---- sre remember ---- */

cJSON *memory_hit_json(const struct memory_hit *h)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)h->id);
	cJSON_AddStringToObject(o, "origin", h->origin ? h->origin : "local");
	cJSON_AddStringToObject(o, "title", h->title ? h->title : "");
	cJSON_AddStringToObject(o, "service", h->service ? h->service : "");
	json_add_string_or_null(o, "category", h->category);
	cJSON_AddNumberToObject(o, "score", h->score);
	json_add_string_or_null(o, "resolution", h->resolution);
	json_add_string_or_null(o, "action", h->action);
	if (h->worked < 0)
		cJSON_AddNullToObject(o, "worked");
	else
		cJSON_AddBoolToObject(o, "worked", h->worked);
	cJSON_AddStringToObject(o, "why", h->why ? h->why : "");
	if (h->snippet)
		cJSON_AddStringToObject(o, "snippet", h->snippet);
	return o;
}

static void memory_field(FILE *fp, const char *label, const char *value)
{
	fprintf(fp, "    %s", label);
	fputs_printable(value, fp);
	fputc('\n', fp);
}

void memory_hits_print(FILE *fp, const struct memory_hit *hits, size_t nr, int json, int color)
{
	if (json) {
		cJSON *arr = cJSON_CreateArray();
		for (size_t i = 0; i < nr; i++)
			cJSON_AddItemToArray(arr, memory_hit_json(&hits[i]));
		json_print(fp, arr);
		cJSON_Delete(arr);
		return;
	}
	for (size_t i = 0; i < nr; i++) {
		const struct memory_hit *h = &hits[i];
		const char *tried = h->worked == 1 ? "worked" : h->worked == 0 ? "failed" : "outcome unknown";

		if (i)
			fputc('\n', fp);
		fprintf(fp, "%s", color ? COLOR_BOLD : "");
		if (h->origin && strcmp(h->origin, "local")) {
			fputs_printable(h->origin, fp);
			fputc('/', fp);
		}
		fprintf(fp, "%lld%s  ", h->id, color ? COLOR_RESET : "");
		fputs_printable(h->service ? h->service : "", fp);
		fputs(": ", fp);
		fputs_printable(h->title ? h->title : "", fp);
		fprintf(fp, "  (score %.3g)\n", h->score);
		if (h->category)
			memory_field(fp, "category: ", h->category);
		if (h->action) {
			fprintf(fp, "    action: ");
			fputs_printable(h->action, fp);
			fprintf(fp, ", %s%s%s\n", color ? (h->worked == 1 ? COLOR_GREEN :
							 h->worked == 0 ? COLOR_RED : "") : "",
				tried, color && h->worked >= 0 ? COLOR_RESET : "");
		} else {
			fprintf(fp, "    action: none taken\n");
		}
		if (h->resolution)
			memory_field(fp, "resolution: ", h->resolution);
		if (h->why && *h->why)
			memory_field(fp, "why: ", h->why);
		if (h->snippet)
			memory_field(fp, "matched: ", h->snippet);
	}
}

cJSON *known_error_json(const struct known_error *k)
{
	cJSON *o = cJSON_CreateObject();
	char at[32];

	cJSON_AddNumberToObject(o, "id", (double)k->id);
	cJSON_AddStringToObject(o, "fingerprint", k->fingerprint);
	json_add_lines(o, "templates", k->templates);
	cJSON_AddStringToObject(o, "action", k->action);
	json_add_string_or_null(o, "target", k->target);
	json_add_string_or_null(o, "runbook", k->runbook);
	cJSON_AddNumberToObject(o, "incident", (double)k->incident_id);
	cJSON_AddStringToObject(o, "added_by", k->added_by);
	format_iso8601(at, sizeof(at), k->added_at);
	cJSON_AddStringToObject(o, "added_at", at);
	return o;
}

void known_errors_print(FILE *fp, const struct known_error *k, size_t nr, int json)
{
	if (json) {
		cJSON *arr = cJSON_CreateArray();
		for (size_t i = 0; i < nr; i++)
			cJSON_AddItemToArray(arr, known_error_json(&k[i]));
		json_print(fp, arr);
		cJSON_Delete(arr);
		return;
	}
	for (size_t i = 0; i < nr; i++) {
		fprintf(fp, "%lld  ", k[i].id);
		fputs_printable(k[i].fingerprint, fp);
		fputs("  -> ", fp);
		fputs_printable(k[i].action, fp);
		if (k[i].target) {
			fputc(' ', fp);
			fputs_printable(k[i].target, fp);
		}
		fprintf(fp, "  (from incident %lld, by ", k[i].incident_id);
		fputs_printable(k[i].added_by, fp);
		fputs(")\n", fp);
		if (k[i].runbook)
			memory_field(fp, "runbook: ", k[i].runbook);
		for (const char *p = k[i].templates; p && *p;) {
			size_t len = strcspn(p, "\n");
			char *t = xstrndup(p, len);
			memory_field(fp, "template: ", t);
			free(t);
			p += len + (p[len] == '\n');
		}
	}
}

void chronic_print(FILE *fp, const struct chronic *c, size_t nr, int json)
{
	char first[32], last[32];

	if (json) {
		cJSON *arr = cJSON_CreateArray();
		for (size_t i = 0; i < nr; i++) {
			cJSON *o = cJSON_CreateObject(), *ids;
			cJSON_AddStringToObject(o, "kind", c[i].kind);
			cJSON_AddStringToObject(o, "key", c[i].key);
			json_add_string_or_null(o, "service", c[i].service);
			cJSON_AddNumberToObject(o, "occurrences", (double)c[i].occurrences);
			ids = cJSON_AddArrayToObject(o, "incidents");
			for (size_t j = 0; j < c[i].nr_ids; j++)
				cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)c[i].ids[j]));
			cJSON_AddStringToObject(o, "fixes", c[i].fixes ? c[i].fixes : "");
			format_iso8601(first, sizeof(first), c[i].first);
			format_iso8601(last, sizeof(last), c[i].last);
			cJSON_AddStringToObject(o, "first", first);
			cJSON_AddStringToObject(o, "last", last);
			cJSON_AddItemToArray(arr, o);
		}
		json_print(fp, arr);
		cJSON_Delete(arr);
		return;
	}
	for (size_t i = 0; i < nr; i++) {
		format_iso8601(first, sizeof(first), c[i].first);
		format_iso8601(last, sizeof(last), c[i].last);
		fprintf(fp, "%lld times  ", c[i].occurrences);
		fputs_printable(c[i].service ? c[i].service : "", fp);
		fprintf(fp, "  %s ", c[i].kind);
		fputs_printable(c[i].key, fp);
		fputc('\n', fp);
		fprintf(fp, "    from %s to %s, incidents", first, last);
		for (size_t j = 0; j < c[i].nr_ids; j++)
			fprintf(fp, "%s %lld", j ? "," : "", c[i].ids[j]);
		fputc('\n', fp);
		memory_field(fp, "fixes: ", c[i].fixes ? c[i].fixes : "");
	}
}

/* ---- sre remember templates ---- */

size_t logtemplates_print(FILE *fp, const struct logtemplate_miner *m, size_t max, int json)
{
	size_t *ids, n = logtemplate_by_count(m, &ids);
	int width = 5;

	if (max && n > max)
		n = max;
	if (json) {
		cJSON *arr = cJSON_CreateArray();
		for (size_t i = 0; i < n; i++) {
			const struct logtemplate *t = logtemplate_get(m, ids[i]);
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "template", t->text);
			cJSON_AddNumberToObject(o, "count", (double)t->count);
			cJSON_AddStringToObject(o, "example", t->example);
			cJSON_AddItemToArray(arr, o);
		}
		json_print(fp, arr);
		cJSON_Delete(arr);
		free(ids);
		return n;
	}
	if (n) {
		char buf[32];
		int w = snprintf(buf, sizeof(buf), "%lld", logtemplate_get(m, ids[0])->count);
		width = MAX(width, w);
	}
	for (size_t i = 0; i < n; i++) {
		const struct logtemplate *t = logtemplate_get(m, ids[i]);
		/* The miner keeps control characters out; this keeps them out whatever it does. */
		fprintf(fp, "%*lld  ", width, t->count);
		fputs_printable(t->text, fp);
		fprintf(fp, "\n%*s  e.g. ", width, "");
		fputs_printable(t->example, fp);
		fputc('\n', fp);
	}
	free(ids);
	return n;
}
