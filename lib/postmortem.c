/*
 * postmortem.c: a blameless post-mortem of a resolved incident, in
 * Markdown (see postmortem.h).
 *
 * The sections follow PagerDuty's template, in the order a reader asks
 * the questions: overview, what happened, impact, detection, timeline,
 * responders, root cause, resolution and verification, how we did (what
 * went well, what did not), action items, similar past incidents. Every
 * sentence is built from a fact in the store: the incident's row, its
 * events, its latest diagnosis, and what memory recalls. Where the record
 * is silent the section says so, and no judgement is made that the
 * record cannot back (a duration is given, never called slow).
 *
 * Nearly every string in the store came from outside: a title from a
 * ticket, a comment, a log line in a diagnosis's evidence, a reason a
 * tracker gave. Each one passes through markdown_text() or md_quote() on its
 * way into the document: redacted first (so a secret cut in two by a
 * shortening is already masked), then cleaned (control and bidi
 * characters and invalid UTF-8 replaced, blanks folded), then escaped so
 * that it stays inline text. The escaping needs no Markdown parser:
 * outside text never spans lines (its newlines are folded; a quoted
 * comment is quoted line by line), what would open a block at its start
 * (a heading, a quote, a list item, a setext underline) is escaped, and so
 * is every character that opens an inline construct (code spans,
 * emphasis, links, raw HTML, entities, table cells). So a title holding
 * "\n# Heading", a run of backticks or "<script>" reads as the characters
 * it is, and tests/unit/test-postmortem.c checks it on random text too.
 *
 * A long timeline stays one page and linear: a run of events a machine
 * repeats (an occurrence a minute, a CI job's dry run) is shown by its
 * first and last and a count.
 *
 * The document is deterministic: written twice from one record (and one
 * memory) it is the same bytes, so a knowledge repository sees a change
 * only when something did change.
 */
#include <ctype.h>

#include "postmortem.h"
#include "json.h"
#include "memory.h"
#include "redact.h"
#include "store.h"
#include "strvec.h"
#include "timeutil.h"

/* How much of one outside text a line holds, in characters. */
#define MAX_TITLE 300
#define MAX_LINE 400
#define MAX_EVIDENCE 12
#define MAX_SIMILAR 3

/* ---- Markdown that outside text cannot break ---- */

/* The next UTF-8 character of s[0..len): its code point and length; -1 when invalid. */
static int utf8_next(const unsigned char *s, size_t len, size_t *n)
{
	int cp, need;

	if (s[0] < 0x80) {
		*n = 1;
		return s[0];
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		cp = s[0] & 0x1f;
		need = 1;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		cp = s[0] & 0x0f;
		need = 2;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		cp = s[0] & 0x07;
		need = 3;
	} else {
		return -1;
	}
	if ((size_t)need >= len)
		return -1;
	for (int i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and past U+10FFFF are not UTF-8. */
	if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*n = (size_t)need + 1;
	return cp;
}

/*
 * Characters that change how text around them is shown rather than show
 * themselves: C0 and C1 controls, DEL, and the bidirectional overrides
 * and isolates that can make a line read other than it is.
 */
static int is_hidden(int cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0x200e || cp == 0x200f || cp == 0x061c || cp == 0xfeff;
}

static int is_blank_cp(int cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' ||
	       cp == '\f' || cp == 0x2028 || cp == 0x2029 || cp == 0xa0;
}

/*
 * s[0..len) as one line of plain text: blanks of any kind folded into one
 * space and trimmed, hidden characters and invalid UTF-8 replaced with
 * U+FFFD, cut after max characters with an ellipsis (max 0: whole).
 */
static void clean_line(struct strbuf *out, const char *s, size_t len, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, chars = 0, n;
	int blank = 0;

	while (i < len) {
		int cp = utf8_next(p + i, len - i, &n), replace = 0;

		if (cp < 0) {
			n = 1;
			cp = 0xfffd;
			replace = 1;
		}
		i += n;
		if (is_blank_cp(cp)) {
			blank = 1;
			continue;
		}
		if (max && chars == max) {
			strbuf_addstr(out, "…");
			return;
		}
		if (blank && out->len)
			strbuf_addch(out, ' ');
		blank = 0;
		chars++;
		if (replace || is_hidden(cp))
			strbuf_addstr(out, "\xef\xbf\xbd");
		else
			strbuf_add(out, s + i - n, n);
	}
}

static int is_alnum_byte(int c)
{
	return isalnum(c) || c >= 0x80;
}

/*
 * Escape clean text (one line, from clean_line) so that Markdown shows it
 * as the characters it is. Everywhere: the characters that open code
 * spans, emphasis, links, raw HTML, entities, strikethrough and table
 * cells; '_' only at a word's edge, so that INCIDENT_RESOLVED stays
 * readable; an '@' that starts a word gets a zero-width space after it,
 * so that quoting "@ops" pages nobody. At its start: what would open a block if a renderer took the
 * text for the start of a line (a heading, a quote, a list item, a
 * setext underline).
 */
static void escape_line(struct strbuf *out, const char *s)
{
	size_t i = 0;

	if (*s && strchr(">+-=", *s)) {
		strbuf_addch(out, '\\');
	} else if (isdigit((unsigned char)*s)) {
		while (isdigit((unsigned char)s[i]))
			i++;
		strbuf_add(out, s, i);
		if (s[i] == '.' || s[i] == ')')
			strbuf_addch(out, '\\');
	}
	for (; s[i]; i++) {
		int c = (unsigned char)s[i];

		/*
		 * "@name" would notify that account on GitHub, and no backslash
		 * stops it (its mentions are found after Markdown): a zero-width
		 * space after the '@' does, and reads the same. An e-mail's '@'
		 * follows a letter and mentions nobody.
		 */
		if (c == '@' && !(i && is_alnum_byte((unsigned char)s[i - 1])) &&
		    is_alnum_byte((unsigned char)s[i + 1])) {
			strbuf_addstr(out, "@\xe2\x80\x8b");
			continue;
		}
		if (strchr("\\`*[]<&|#~", c))
			strbuf_addch(out, '\\');
		else if (c == '_' && !(i && is_alnum_byte((unsigned char)s[i - 1]) &&
				       is_alnum_byte((unsigned char)s[i + 1])))
			strbuf_addch(out, '\\');
		strbuf_addch(out, (char)c);
	}
}

void markdown_text(struct strbuf *out, const char *s, size_t max)
{
	struct strbuf red = STRBUF_INIT, line = STRBUF_INIT;

	if (!s)
		s = "";
	redact_buf(&red, s, strlen(s));
	clean_line(&line, red.buf, red.len, max);
	escape_line(out, line.buf);
	strbuf_release(&red);
	strbuf_release(&line);
}

/*
 * Outside text of several lines (a comment) as a block quote, each line
 * cleaned and escaped; redacted whole first, so that a secret spanning
 * lines (a PEM key) is found. At most max_lines lines.
 */
static void md_quote(struct strbuf *out, const char *s, size_t max_lines)
{
	struct strbuf red = STRBUF_INIT, line = STRBUF_INIT;
	const char *p, *eol;
	size_t n = 0;

	redact_buf(&red, s ? s : "", s ? strlen(s) : 0);
	for (p = red.buf; *p && n < max_lines; p = *eol ? eol + 1 : eol, n++) {
		eol = strchrnul(p, '\n');
		strbuf_reset(&line);
		clean_line(&line, p, (size_t)(eol - p), MAX_LINE);
		strbuf_addstr(out, line.len ? "> " : ">");
		escape_line(out, line.buf);
		strbuf_addch(out, '\n');
	}
	if (*p)
		strbuf_addstr(out, "> …\n");
	strbuf_release(&red);
	strbuf_release(&line);
}

/* ---- times ---- */

/* "2026-12-07 06:03:33 UTC". */
static void add_time(struct strbuf *out, time_t t)
{
	char buf[32];

	format_iso8601(buf, sizeof(buf), t);
	if (strlen(buf) == 20) {
		buf[10] = ' ';
		buf[19] = '\0';
	}
	strbuf_addf(out, "%s UTC", buf);
}

/* "+0:03:12", "+26:00:05", "-0:00:02" (clocks of two hosts may disagree). */
static void add_offset(struct strbuf *out, long long s)
{
	strbuf_addch(out, s < 0 ? '-' : '+');
	if (s < 0)
		s = -s;
	strbuf_addf(out, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
}

/* A span in words a reader takes in at once: "45s", "3m 12s", "2h 5m", "3d 4h". */
static void add_span(struct strbuf *out, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		strbuf_addf(out, "%llds", s);
	else if (s < 3600)
		strbuf_addf(out, "%lldm %llds", s / 60, s % 60);
	else if (s < 86400)
		strbuf_addf(out, "%lldh %lldm", s / 3600, s / 60 % 60);
	else
		strbuf_addf(out, "%lldd %lldh", s / 86400, s / 3600 % 24);
}

/* ---- what the record says ---- */

struct pm {
	struct store *st;
	const struct config *cfg;
	struct incident inc;
	struct event *ev;
	size_t nr;
	cJSON **body;          /* each event's body; an empty object when unreadable */
	const char **kind;     /* each event's kind, "imported-" taken off */
	cJSON *diag;           /* the latest diagnosis, or NULL */
	long resolved;         /* the event that resolved it, or -1 */
	long last_diagnosed;   /* the last "diagnosed" event, or -1 */
	long evidence;         /* the first "evidence" event, or -1 */
	long answered;         /* the first move out of INCIDENT_DETECTED, or -1 */
	int have_began;        /* the source said when the problem began */
	time_t began;
	size_t diagnoses, escalations, handbacks, actions, failed, pulls, refusals, waits;
	struct memory_hit *similar;
	size_t similar_nr;
	int similar_failed;
	struct chronic *chronic;
	size_t chronic_nr;
	const struct chronic *recurring; /* the chronic problem this incident is part of */
	int chronic_failed;
};

static int is_kind(const struct pm *pm, size_t i, const char *kind)
{
	return !strcmp(pm->kind[i], kind);
}

static const char *body_str(const struct pm *pm, size_t i, const char *key)
{
	return json_string(pm->body[i], key);
}

static int is_transition_to(const struct pm *pm, size_t i, const char *state)
{
	return is_kind(pm, i, "transition") && json_string_is(pm->body[i], "to", state);
}

static long long since_open(const struct pm *pm, time_t t)
{
	return (long long)(t - pm->inc.opened_at);
}

/* Did action-finished event i end in anything but "done"? */
static int action_failed(const struct pm *pm, size_t i)
{
	const char *result = body_str(pm, i, "result");
	return !result || !starts_with(result, "done");
}

/* Was plan event i (fix-planned, dry-run) refused by policy? */
static int plan_refused(const struct pm *pm, size_t i)
{
	return (is_kind(pm, i, "fix-planned") || is_kind(pm, i, "dry-run")) &&
	       cJSON_IsTrue(json_get(pm->body[i], "refused"));
}

static void read_began(struct pm *pm, const cJSON *body)
{
	const cJSON *evidence = json_object(body, "evidence");
	const char *at = json_string(evidence, "active_at");

	if (!at)
		at = json_string(evidence, "startsAt");
	if (at && !parse_rfc3339(at, &pm->began))
		pm->have_began = 1;
}

/* One pass over the events: what each section counts. */
static void read_events(struct pm *pm)
{
	pm->resolved = pm->last_diagnosed = pm->evidence = pm->answered = -1;
	pm->body = xcalloc(pm->nr ? pm->nr : 1, sizeof(*pm->body));
	pm->kind = xcalloc(pm->nr ? pm->nr : 1, sizeof(*pm->kind));
	for (size_t i = 0; i < pm->nr; i++) {
		const char *kind = pm->ev[i].kind;
		cJSON *b = cJSON_Parse(pm->ev[i].body);

		if (!cJSON_IsObject(b)) {
			cJSON_Delete(b);
			b = cJSON_CreateObject();
		}
		pm->body[i] = b;
		skip_prefix(kind, "imported-", &kind);
		pm->kind[i] = kind;

		if (is_kind(pm, i, "evidence") && pm->evidence < 0) {
			pm->evidence = (long)i;
			read_began(pm, b);
		} else if (is_kind(pm, i, "diagnosed")) {
			pm->diagnoses++;
			pm->last_diagnosed = (long)i;
		} else if (is_kind(pm, i, "action-started")) {
			pm->actions++;
		} else if (is_kind(pm, i, "action-finished") && action_failed(pm, i)) {
			pm->failed++;
		} else if (is_kind(pm, i, "pull-request")) {
			pm->pulls++;
		} else if (is_kind(pm, i, "approval-needed")) {
			pm->waits++;
		} else if (plan_refused(pm, i)) {
			pm->refusals++;
		} else if (is_kind(pm, i, "transition")) {
			if (json_string_is(b, "from", "INCIDENT_DETECTED") && pm->answered < 0)
				pm->answered = (long)i;
			if (json_string_is(b, "to", "INCIDENT_REQUIRES_HUMAN"))
				pm->escalations++;
			else if (json_string_is(b, "from", "INCIDENT_REQUIRES_HUMAN") &&
				 !json_string_is(b, "to", "INCIDENT_RESOLVED"))
				pm->handbacks++;
			if (json_string_is(b, "to", "INCIDENT_RESOLVED"))
				pm->resolved = (long)i;
		}
	}
}

/* What memory knows: similar incidents, and whether this one is chronic. */
static void read_memory(struct pm *pm)
{
	struct memory_recall r = { .max = MAX_SIMILAR };

	if (memory_similar(pm->st, pm->cfg, pm->inc.id, &r, &pm->similar, &pm->similar_nr) < 0) {
		pm->similar_failed = 1;
		pm->similar = NULL;
		pm->similar_nr = 0;
	}
	if (memory_chronic(pm->st, pm->cfg, &pm->chronic, &pm->chronic_nr) < 0) {
		pm->chronic_failed = 1;
		pm->chronic = NULL;
		pm->chronic_nr = 0;
	}
	for (size_t i = 0; i < pm->chronic_nr && !pm->recurring; i++) {
		const struct chronic *c = &pm->chronic[i];
		int member = c->kind && !strcmp(c->kind, "fingerprint") && c->key &&
			     !strcmp(c->key, pm->inc.fingerprint);
		for (size_t j = 0; j < c->nr_ids && !member; j++)
			member = c->ids[j] == pm->inc.id;
		if (member)
			pm->recurring = c;
	}
}

/* ---- phrases ---- */

static const struct {
	const char *source, *how;
} detectors[] = {
	{ "http", "an HTTP health check run by sre scout" },
	{ "process", "a process check (its pidfile) run by sre scout" },
	{ "metrics", "the service's own metrics as sre scout read them" },
	{ "prometheus", "Prometheus (a query or an alert) read by sre scout" },
	{ "alertmanager", "an Alertmanager alert read by sre scout" },
	{ "kubernetes", "Kubernetes (pod states and Warning events) read by sre scout" },
	{ "docker", "Docker (container states) read by sre scout" },
	{ "jaeger", "Jaeger traces (error rate and latency) read by sre scout" },
	{ "github", "an issue imported from GitHub" },
	{ "jira", "an issue imported from JIRA" },
};

static int detected_by_hand(const struct pm *pm)
{
	return !strcmp(pm->inc.source, "manual");
}

/* How the incident was detected, as the subject of a sentence. */
static void add_detector(struct strbuf *o, const struct pm *pm)
{
	if (detected_by_hand(pm)) {
		strbuf_addstr(o, "a person, by hand (sre incident open)");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(detectors); i++)
		if (!strcmp(pm->inc.source, detectors[i].source)) {
			strbuf_addstr(o, detectors[i].how);
			return;
		}
	strbuf_addstr(o, "the source \"");
	markdown_text(o, pm->inc.source, 80);
	strbuf_addch(o, '"');
}

/* "restart of quote": what action-started event i did. */
static void add_action(struct strbuf *o, const struct pm *pm, size_t i)
{
	markdown_text(o, json_string_or(pm->body[i], "action", "an action"), 60);
	if (body_str(pm, i, "target")) {
		strbuf_addstr(o, " of ");
		markdown_text(o, body_str(pm, i, "target"), 100);
	}
}

/* The first action-finished event after action-started event i, or -1. */
static long finished_of(const struct pm *pm, size_t i)
{
	for (size_t j = i + 1; j < pm->nr; j++) {
		if (is_kind(pm, j, "action-finished"))
			return (long)j;
		if (is_kind(pm, j, "action-started"))
			break;
	}
	return -1;
}

/* The last action that finished "done", as its action-started event, or -1. */
static long last_done_action(const struct pm *pm)
{
	long found = -1;

	for (size_t i = 0; i < pm->nr; i++) {
		long f;
		if (is_kind(pm, i, "action-started") && (f = finished_of(pm, i)) >= 0 &&
		    !action_failed(pm, (size_t)f))
			found = (long)i;
	}
	return found;
}

/* The move to PR_MERGED after pull-request event i, or -1. */
static long merged_at(const struct pm *pm, size_t i)
{
	for (size_t j = i + 1; j < pm->nr; j++)
		if (is_transition_to(pm, j, "PR_MERGED"))
			return (long)j;
	return -1;
}

/* The last pull request that was merged, as its pull-request event, or -1. */
static long last_merged_pull(const struct pm *pm)
{
	long found = -1;

	for (size_t i = 0; i < pm->nr; i++)
		if (is_kind(pm, i, "pull-request") && merged_at(pm, i) >= 0)
			found = (long)i;
	return found;
}

/* "pull request #12": what pull-request event i opened. */
static void add_pull(struct strbuf *o, const struct pm *pm, size_t i)
{
	const cJSON *n = json_get(pm->body[i], "number");
	strbuf_addf(o, "pull request #%.0f", cJSON_IsNumber(n) ? n->valuedouble : 0);
}

enum resolution {
	RESOLVED_UNKNOWN,      /* no event says how */
	RESOLVED_VERIFIED,     /* sre re-ran the check after its fix */
	RESOLVED_RECOVERED,    /* the problem went away on its own */
	RESOLVED_BY_PERSON,    /* resolved from INCIDENT_REQUIRES_HUMAN */
	RESOLVED_ON_TRACKER,   /* the tracker closed it */
	RESOLVED_BY_HAND,      /* sre incident resolve, with no escalation */
};

static enum resolution how_resolved(const struct pm *pm, const char **detail)
{
	const cJSON *b;
	const char *reason;

	*detail = NULL;
	if (pm->resolved < 0)
		return RESOLVED_UNKNOWN;
	b = pm->body[pm->resolved];
	reason = json_string_or(b, "reason", "");
	*detail = reason;
	if (json_string_is(b, "source", "tracker"))
		return RESOLVED_ON_TRACKER;
	if (skip_prefix(reason, "verified: ", detail))
		return RESOLVED_VERIFIED;
	if (skip_prefix(reason, "recovered on its own: ", detail) ||
	    skip_prefix(reason, "recovered: ", detail))
		return RESOLVED_RECOVERED;
	if (json_string_is(b, "from", "INCIDENT_REQUIRES_HUMAN"))
		return RESOLVED_BY_PERSON;
	return RESOLVED_BY_HAND;
}

/* End a sentence: a period, unless the outside text that ends it brought its own. */
static void add_stop(struct strbuf *o)
{
	if (!o->len || !strchr(".!?", o->buf[o->len - 1]))
		strbuf_addch(o, '.');
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/* " once", " twice", " 3 times". */
static void add_times(struct strbuf *o, size_t n)
{
	if (n == 1)
		strbuf_addstr(o, " once");
	else if (n == 2)
		strbuf_addstr(o, " twice");
	else
		strbuf_addf(o, " %zu times", n);
}

/* ---- the sections ---- */

static void write_header(struct strbuf *o, const struct pm *pm)
{
	const struct incident *inc = &pm->inc;

	strbuf_addf(o, "# Post-mortem: incident %lld: ", inc->id);
	markdown_text(o, inc->title, MAX_TITLE);
	strbuf_addstr(o, "\n\n*A blameless review: what happened, what the system and the people "
		      "around it saw and did, and what to learn from it. It looks for causes, not "
		      "culprits. sre wrote this draft from its record of the incident; where the "
		      "record is silent, so is the draft, for the review to fill in.*\n\n");
	strbuf_addstr(o, "| | |\n| --- | --- |\n| Service | ");
	markdown_text(o, inc->service, 200);
	strbuf_addf(o, " |\n| Severity | %s |\n", incident_severity_name(inc->severity));
	if (inc->category) {
		strbuf_addstr(o, "| Category | ");
		markdown_text(o, inc->category, 80);
		strbuf_addstr(o, " |\n");
	}
	strbuf_addstr(o, "| Opened | ");
	add_time(o, inc->opened_at);
	strbuf_addstr(o, " |\n| Resolved | ");
	add_time(o, inc->resolved_at);
	strbuf_addstr(o, " |\n| Duration | ");
	add_span(o, since_open(pm, inc->resolved_at));
	strbuf_addstr(o, " |\n| Detected by | ");
	markdown_text(o, inc->source, 80);
	strbuf_addstr(o, " |\n| Fingerprint | ");
	markdown_text(o, inc->fingerprint, 200);
	strbuf_addstr(o, " |\n");
	if (inc->remote_key) {
		strbuf_addstr(o, "| Tracker | ");
		markdown_text(o, inc->remote_key, 80);
		if (inc->remote_url) {
			strbuf_addch(o, ' ');
			markdown_text(o, inc->remote_url, 300);
		}
		strbuf_addstr(o, " |\n");
	}
	strbuf_addstr(o, "| Status | draft, for review |\n");
}

/* "crash (confidence 0.85): quote is not running." from a diagnosis or a diagnosed event. */
static void add_diagnosis(struct strbuf *o, const cJSON *d)
{
	const cJSON *c = json_get(d, "confidence");

	markdown_text(o, json_string_or(d, "category", "unknown"), 60);
	if (cJSON_IsNumber(c))
		strbuf_addf(o, " (confidence %.2f)", c->valuedouble);
	strbuf_addstr(o, ": ");
	markdown_text(o, json_string_or(d, "root_cause", "no root cause given"), MAX_LINE);
}

static void write_overview(struct strbuf *o, const struct pm *pm)
{
	const struct incident *inc = &pm->inc;
	const char *detail;
	enum resolution how = how_resolved(pm, &detail);
	long action = last_done_action(pm), pull = last_merged_pull(pm);

	strbuf_addstr(o, "\n## Overview\n\nOn ");
	add_time(o, inc->opened_at);
	strbuf_addstr(o, ", ");
	add_detector(o, pm);
	strbuf_addstr(o, " reported a problem with the service ");
	markdown_text(o, inc->service, 200);
	strbuf_addf(o, " (severity %s), and incident %lld was opened: \"", incident_severity_name(inc->severity),
		    inc->id);
	markdown_text(o, inc->title, MAX_TITLE);
	strbuf_addstr(o, "\". It was resolved ");
	add_span(o, since_open(pm, inc->resolved_at));
	strbuf_addstr(o, " later");
	switch (how) {
	case RESOLVED_VERIFIED:
		if (action >= 0) {
			strbuf_addstr(o, ", after sre carried out a ");
			add_action(o, pm, (size_t)action);
			strbuf_addstr(o, " and a re-run of the incident's check confirmed it: ");
		} else if (pull >= 0) {
			strbuf_addstr(o, ", after ");
			add_pull(o, pm, (size_t)pull);
			strbuf_addstr(o, " was merged and a re-run of the incident's check confirmed it: ");
		} else {
			strbuf_addstr(o, ", when a re-run of the incident's check passed: ");
		}
		markdown_text(o, detail, MAX_LINE);
		break;
	case RESOLVED_RECOVERED:
		strbuf_addstr(o, ", when it recovered on its own: ");
		markdown_text(o, detail, MAX_LINE);
		break;
	case RESOLVED_BY_PERSON:
		strbuf_addstr(o, ", by ");
		markdown_text(o, pm->ev[pm->resolved].actor, 80);
		strbuf_addf(o, ", after sre had handed it to a person (%zu escalation%s)",
			    pm->escalations, plural(pm->escalations));
		break;
	case RESOLVED_ON_TRACKER:
		strbuf_addstr(o, ", on the tracker");
		break;
	case RESOLVED_BY_HAND:
		strbuf_addstr(o, ", by ");
		markdown_text(o, pm->ev[pm->resolved].actor, 80);
		strbuf_addstr(o, " (\"");
		markdown_text(o, detail, MAX_LINE);
		strbuf_addstr(o, "\")");
		break;
	case RESOLVED_UNKNOWN:
		strbuf_addstr(o, "; how is not recorded");
		break;
	}
	add_stop(o);
	strbuf_addstr(o, "\n\n");
	if (pm->diag) {
		strbuf_addstr(o, "The latest diagnosis found ");
		add_diagnosis(o, pm->diag);
		add_stop(o);
		strbuf_addch(o, '\n');
	} else {
		strbuf_addstr(o, "No diagnosis was recorded: sre did not establish the cause.\n");
	}
}

static void write_what_happened(struct strbuf *o, const struct pm *pm)
{
	const struct incident *inc = &pm->inc;
	size_t first = 1;

	strbuf_addstr(o, "\n## What happened\n\n");
	if (pm->evidence >= 0 && body_str(pm, (size_t)pm->evidence, "summary")) {
		strbuf_addstr(o, "What was seen first: \"");
		markdown_text(o, body_str(pm, (size_t)pm->evidence, "summary"), MAX_LINE);
		strbuf_addstr(o, "\".");
	} else {
		strbuf_addstr(o, "What was seen first is not recorded beyond the title.");
	}
	if (inc->occurrences > 1)
		strbuf_addf(o, " The problem was reported %lld times while the incident was open.",
			    inc->occurrences);
	if (pm->diagnoses) {
		strbuf_addstr(o, " It was diagnosed");
		add_times(o, pm->diagnoses);
		add_stop(o);
	} else
		strbuf_addstr(o, " It was not diagnosed.");
	if (pm->actions) {
		strbuf_addf(o, " sre carried out %zu action%s:", pm->actions, plural(pm->actions));
		for (size_t i = 0; i < pm->nr; i++) {
			long f;
			if (!is_kind(pm, i, "action-started"))
				continue;
			strbuf_addstr(o, first ? " a " : ", then a ");
			first = 0;
			add_action(o, pm, i);
			f = finished_of(pm, i);
			strbuf_addstr(o, " (");
			if (f >= 0)
				markdown_text(o, json_string_or(pm->body[f], "result", "?"), 80);
			else
				strbuf_addstr(o, "no end recorded");
			strbuf_addch(o, ')');
		}
		add_stop(o);
	}
	if (pm->pulls)
		strbuf_addf(o, " %zu pull request%s %s opened.", pm->pulls, plural(pm->pulls),
			    pm->pulls == 1 ? "was" : "were");
	if (pm->escalations) {
		strbuf_addstr(o, " It was handed to a person");
		add_times(o, pm->escalations);
		add_stop(o);
	}
	if (pm->resolved >= 0) {
		strbuf_addstr(o, " It was resolved at ");
		add_offset(o, since_open(pm, pm->ev[pm->resolved].at));
		strbuf_addstr(o, " by ");
		markdown_text(o, pm->ev[pm->resolved].actor, 80);
		add_stop(o);
	}
	strbuf_addstr(o, "\n\nThe timeline below has every step.\n");
}

static void write_impact(struct strbuf *o, const struct pm *pm)
{
	const struct incident *inc = &pm->inc;
	int changed = 0;

	strbuf_addstr(o, "\n## Impact\n\n- Service: ");
	markdown_text(o, inc->service, 200);
	strbuf_addstr(o, "\n- Duration: ");
	add_span(o, since_open(pm, inc->resolved_at));
	strbuf_addstr(o, ", from the opening (");
	add_time(o, inc->opened_at);
	strbuf_addstr(o, ") to the resolution (");
	add_time(o, inc->resolved_at);
	strbuf_addstr(o, ")");
	if (pm->have_began && pm->began < inc->opened_at) {
		strbuf_addstr(o, "; ");
		add_span(o, (long long)(inc->resolved_at - pm->began));
		strbuf_addstr(o, " from when the source says the problem began (");
		add_time(o, pm->began);
		strbuf_addstr(o, ")");
	}
	strbuf_addf(o, "\n- Severity: %s", incident_severity_name(inc->severity));
	for (size_t i = 0; i < pm->nr; i++) {
		if (!is_kind(pm, i, "severity"))
			continue;
		strbuf_addstr(o, changed++ ? "; " : " (changed: ");
		markdown_text(o, json_string_or(pm->body[i], "from", "?"), 20);
		strbuf_addstr(o, " to ");
		markdown_text(o, json_string_or(pm->body[i], "to", "?"), 20);
		strbuf_addstr(o, " at ");
		add_offset(o, since_open(pm, pm->ev[i].at));
	}
	if (changed)
		strbuf_addch(o, ')');
	strbuf_addf(o, "\n- Occurrences: %lld (how many times the problem was reported while the "
		    "incident was open)\n", inc->occurrences);
	strbuf_addstr(o, "- Users, requests or accounts affected: not recorded (sre does not "
		      "measure them; the review should)\n");
}

static void write_detection(struct strbuf *o, const struct pm *pm)
{
	const struct incident *inc = &pm->inc;
	size_t opened = 0;
	int found = 0;

	for (size_t i = 0; i < pm->nr && !found; i++)
		if (is_kind(pm, i, "opened")) {
			opened = i;
			found = 1;
		}
	strbuf_addstr(o, "\n## Detection\n\n- How: ");
	add_detector(o, pm);
	if (found) {
		strbuf_addstr(o, "; the incident was opened by ");
		markdown_text(o, pm->ev[opened].actor, 80);
	}
	strbuf_addstr(o, "\n- What it saw: ");
	if (pm->evidence >= 0 && body_str(pm, (size_t)pm->evidence, "summary"))
		markdown_text(o, body_str(pm, (size_t)pm->evidence, "summary"), MAX_LINE);
	else
		strbuf_addstr(o, "nothing recorded beyond the title");
	strbuf_addstr(o, "\n- After how long: ");
	if (pm->have_began) {
		strbuf_addstr(o, "the source says the problem began at ");
		add_time(o, pm->began);
		strbuf_addstr(o, "; the incident was opened ");
		add_span(o, (long long)(inc->opened_at - pm->began));
		strbuf_addstr(o, " later");
	} else {
		strbuf_addstr(o, "not recorded: the record has when the incident was opened (");
		add_time(o, inc->opened_at);
		strbuf_addstr(o, "), not when the problem began");
	}
	strbuf_addstr(o, "\n- First response: ");
	if (pm->answered >= 0) {
		const cJSON *b = pm->body[pm->answered];
		add_offset(o, since_open(pm, pm->ev[pm->answered].at));
		strbuf_addstr(o, ", ");
		markdown_text(o, pm->ev[pm->answered].actor, 80);
		strbuf_addstr(o, " moved it to ");
		markdown_text(o, json_string_or(b, "to", "?"), 40);
		if (json_string(b, "reason")) {
			strbuf_addstr(o, " (");
			markdown_text(o, json_string(b, "reason"), MAX_LINE);
			strbuf_addch(o, ')');
		}
	} else {
		strbuf_addstr(o, "not recorded");
	}
	strbuf_addch(o, '\n');
}

/* A plan (fix-planned, dry-run) in words. */
static void add_plan(struct strbuf *o, const cJSON *b)
{
	markdown_text(o, json_string_or(b, "action", "?"), 60);
	if (json_string(b, "target")) {
		strbuf_addch(o, ' ');
		markdown_text(o, json_string(b, "target"), 100);
	}
	strbuf_addstr(o, " (");
	markdown_text(o, json_string_or(b, "runtime", "?"), 40);
	strbuf_addch(o, ')');
	if (cJSON_IsTrue(json_get(b, "refused"))) {
		strbuf_addstr(o, ", refused: ");
		markdown_text(o, json_string_or(b, "reason", "?"), MAX_LINE);
	} else if (cJSON_IsTrue(json_get(b, "requires_approval"))) {
		strbuf_addstr(o, ", needs approval: ");
		markdown_text(o, json_string_or(b, "approval", "?"), MAX_LINE);
	} else {
		strbuf_addstr(o, ", allowed by policy");
	}
}

/* The scalar fields of a body no sentence is written for: "a=1, b=x". */
static void add_fields(struct strbuf *o, const cJSON *b)
{
	const cJSON *f;
	int n = 0;

	cJSON_ArrayForEach(f, b) {
		if (n == 6) {
			strbuf_addstr(o, ", …");
			break;
		}
		if (n++)
			strbuf_addstr(o, ", ");
		markdown_text(o, f->string, 40);
		strbuf_addch(o, '=');
		if (cJSON_IsString(f))
			markdown_text(o, f->valuestring, 200);
		else if (cJSON_IsNumber(f))
			strbuf_addf(o, "%g", f->valuedouble);
		else if (cJSON_IsBool(f))
			strbuf_addstr(o, cJSON_IsTrue(f) ? "true" : "false");
		else
			strbuf_addstr(o, "…");
	}
}

/* What event i says, in one line of a table cell. */
static void add_event_summary(struct strbuf *o, const struct pm *pm, size_t i)
{
	const cJSON *b = pm->body[i], *n;

	if (is_kind(pm, i, "transition")) {
		markdown_text(o, json_string_or(b, "from", "?"), 40);
		strbuf_addstr(o, " → ");
		markdown_text(o, json_string_or(b, "to", "?"), 40);
		if (json_string(b, "reason")) {
			strbuf_addstr(o, ": ");
			markdown_text(o, json_string(b, "reason"), MAX_LINE);
		}
		if (json_string_is(b, "source", "tracker"))
			strbuf_addstr(o, " (on the tracker)");
	} else if (is_kind(pm, i, "opened")) {
		markdown_text(o, json_string_or(b, "title", ""), MAX_TITLE);
	} else if (is_kind(pm, i, "comment")) {
		markdown_text(o, json_string_or(b, "text", ""), MAX_LINE);
	} else if (is_kind(pm, i, "evidence")) {
		markdown_text(o, json_string_or(b, "summary", "evidence"), MAX_LINE);
	} else if (is_kind(pm, i, "occurrence")) {
		n = json_get(b, "occurrences");
		strbuf_addf(o, "reported again (occurrence %.0f)", cJSON_IsNumber(n) ? n->valuedouble : 0);
	} else if (is_kind(pm, i, "severity")) {
		markdown_text(o, json_string_or(b, "from", "?"), 20);
		strbuf_addstr(o, " → ");
		markdown_text(o, json_string_or(b, "to", "?"), 20);
	} else if (is_kind(pm, i, "diagnosed")) {
		add_diagnosis(o, b);
		strbuf_addstr(o, "; mitigation: ");
		markdown_text(o, json_string_or(b, "action", "?"), 60);
		if (json_string(b, "target")) {
			strbuf_addch(o, ' ');
			markdown_text(o, json_string(b, "target"), 100);
		}
	} else if (is_kind(pm, i, "fix-planned")) {
		strbuf_addstr(o, "plan: ");
		add_plan(o, b);
	} else if (is_kind(pm, i, "dry-run")) {
		strbuf_addstr(o, "dry run: ");
		add_plan(o, b);
	} else if (is_kind(pm, i, "approval-needed")) {
		strbuf_addstr(o, "waits for a person's approval: ");
		markdown_text(o, json_string_or(b, "reason", "?"), MAX_LINE);
	} else if (is_kind(pm, i, "action-started")) {
		add_action(o, pm, i);
		strbuf_addstr(o, " (");
		markdown_text(o, json_string_or(b, "runtime", "?"), 40);
		strbuf_addstr(o, "), approved by ");
		markdown_text(o, json_string_or(b, "approval", "nobody recorded"), 40);
	} else if (is_kind(pm, i, "action-finished")) {
		markdown_text(o, json_string_or(b, "result", "?"), 80);
		if (json_nonempty(b, "output")) {
			strbuf_addstr(o, ": ");
			markdown_text(o, json_string(b, "output"), MAX_LINE);
		}
	} else if (is_kind(pm, i, "pull-request")) {
		n = json_get(b, "number");
		strbuf_addf(o, "pull request #%.0f ", cJSON_IsNumber(n) ? n->valuedouble : 0);
		markdown_text(o, json_string_or(b, "url", ""), 300);
		strbuf_addstr(o, " (");
		markdown_text(o, json_string_or(b, "branch", "?"), 100);
		strbuf_addstr(o, " into ");
		markdown_text(o, json_string_or(b, "base", "?"), 100);
		strbuf_addch(o, ')');
	} else if (is_kind(pm, i, "remote")) {
		strbuf_addstr(o, cJSON_IsTrue(json_get(b, "adopted")) ? "adopted " : "mirrored as ");
		markdown_text(o, json_string_or(b, "tracker", "?"), 40);
		strbuf_addch(o, ' ');
		markdown_text(o, json_string_or(b, "key", "?"), 80);
	} else {
		add_fields(o, b);
	}
}

static void timeline_row(struct strbuf *o, const struct pm *pm, size_t i)
{
	char when[32];

	format_iso8601(when, sizeof(when), pm->ev[i].at);
	strbuf_addstr(o, "| ");
	add_offset(o, since_open(pm, pm->ev[i].at));
	strbuf_addf(o, " | %.10s %.8s | ", when, when + (strlen(when) > 11 ? 11 : strlen(when)));
	markdown_text(o, pm->kind[i], 40);
	strbuf_addstr(o, " | ");
	markdown_text(o, pm->ev[i].actor, 80);
	strbuf_addstr(o, " | ");
	add_event_summary(o, pm, i);
	strbuf_addstr(o, " |\n");
}

/*
 * Kinds a machine may repeat many times in a row (a check seen again
 * every minute, a dry run in every CI job): a run of them is shown by its
 * first and last, and how many lie between.
 */
static int repeats(const char *kind)
{
	return !strcmp(kind, "occurrence") || !strcmp(kind, "dry-run") ||
	       !strcmp(kind, "evidence") || !strcmp(kind, "remote-state");
}

static void write_timeline(struct strbuf *o, const struct pm *pm)
{
	strbuf_addstr(o, "\n## Timeline\n\nOffsets are from the opening, ");
	add_time(o, pm->inc.opened_at);
	strbuf_addstr(o, ".\n\n");
	if (!pm->nr) {
		strbuf_addstr(o, "Nothing recorded.\n");
		return;
	}
	strbuf_addstr(o, "| Offset | Time (UTC) | Event | By | What |\n| --- | --- | --- | --- | --- |\n");
	for (size_t i = 0; i < pm->nr; i++) {
		size_t j = i + 1;

		if (repeats(pm->kind[i]))
			while (j < pm->nr && !strcmp(pm->kind[j], pm->kind[i]))
				j++;
		timeline_row(o, pm, i);
		if (j - i <= 3)
			continue;
		strbuf_addstr(o, "| … |  | ");
		markdown_text(o, pm->kind[i], 40);
		strbuf_addf(o, " |  | %zu more like these |\n", j - i - 2);
		timeline_row(o, pm, j - 1);
		i = j - 1;
	}
}

/* One actor of the timeline: how many events, of which kinds. */
struct responder {
	const char *actor;
	size_t events;
	struct strvec kinds;
};

static void write_responders(struct strbuf *o, const struct pm *pm)
{
	struct responder *r = NULL;
	size_t nr = 0, alloc = 0;

	strbuf_addstr(o, "\n## Responders\n\nWho (or which program) wrote the timeline, and what:\n\n");
	/* Linear in the events times the few actors and kinds: a long timeline stays cheap. */
	for (size_t i = 0; i < pm->nr; i++) {
		size_t a = 0;

		while (a < nr && strcmp(r[a].actor, pm->ev[i].actor))
			a++;
		if (a == nr) {
			ALLOC_GROW(r, nr + 1, alloc);
			r[nr].actor = pm->ev[i].actor;
			r[nr].events = 0;
			strvec_init(&r[nr].kinds);
			nr++;
		}
		r[a].events++;
		if (!strvec_has(&r[a].kinds, pm->kind[i]))
			strvec_push(&r[a].kinds, pm->kind[i]);
	}
	for (size_t a = 0; a < nr; a++) {
		strbuf_addstr(o, "- ");
		markdown_text(o, r[a].actor, 80);
		strbuf_addf(o, ": %zu event%s (", r[a].events, plural(r[a].events));
		for (size_t k = 0; k < r[a].kinds.nr; k++) {
			if (k)
				strbuf_addstr(o, ", ");
			markdown_text(o, r[a].kinds.v[k], 40);
		}
		strbuf_addstr(o, ")\n");
		strvec_clear(&r[a].kinds);
	}
	if (!pm->nr)
		strbuf_addstr(o, "Nothing recorded.\n");
	free(r);
}

static void write_root_cause(struct strbuf *o, const struct pm *pm)
{
	const cJSON *d = pm->diag, *m, *item, *cp;
	size_t n = 0;

	strbuf_addstr(o, "\n## Root cause\n\n");
	if (!d) {
		strbuf_addstr(o, "Nothing recorded: the incident was never diagnosed, so sre did not "
			      "establish a cause.");
		if (pm->evidence >= 0 && body_str(pm, (size_t)pm->evidence, "summary")) {
			strbuf_addstr(o, " The only evidence recorded is what detection saw: \"");
			markdown_text(o, body_str(pm, (size_t)pm->evidence, "summary"), MAX_LINE);
			strbuf_addstr(o, "\".");
		}
		strbuf_addch(o, '\n');
		return;
	}
	strbuf_addstr(o, "The latest diagnosis");
	if (pm->last_diagnosed >= 0) {
		strbuf_addstr(o, " (at ");
		add_offset(o, since_open(pm, pm->ev[pm->last_diagnosed].at));
		strbuf_addf(o, ", %zu in all)", pm->diagnoses);
	}
	strbuf_addstr(o, " found ");
	add_diagnosis(o, d);
	add_stop(o);
	if (json_string(d, "rule")) {
		strbuf_addstr(o, " Rule: ");
		markdown_text(o, json_string(d, "rule"), 80);
		strbuf_addch(o, '.');
	}
	m = json_object(d, "mitigation");
	strbuf_addstr(o, "\n\nMitigation it proposed: ");
	markdown_text(o, json_string_or(m, "action", "none"), 60);
	if (json_string(m, "target")) {
		strbuf_addch(o, ' ');
		markdown_text(o, json_string(m, "target"), 100);
	}
	strbuf_addstr(o, "\n\nEvidence:\n\n");
	cJSON_ArrayForEach(item, json_array(d, "evidence")) {
		if (n++ == MAX_EVIDENCE) {
			strbuf_addf(o, "- and %d more\n", cJSON_GetArraySize(json_array(d, "evidence")) - MAX_EVIDENCE);
			break;
		}
		strbuf_addstr(o, "- ");
		markdown_text(o, json_string_or(item, "source", "?"), 40);
		strbuf_addstr(o, ": ");
		markdown_text(o, json_string_or(item, "summary", ""), MAX_LINE);
		strbuf_addch(o, '\n');
	}
	if (!n)
		strbuf_addstr(o, "Nothing recorded.\n");
	cp = json_object(d, "critical_path");
	if (cp && cJSON_GetArraySize(json_array(cp, "spans"))) {
		const cJSON *dur = json_get(cp, "duration_us");
		n = 0;
		strbuf_addstr(o, "\nThe slowest trace (");
		markdown_text(o, json_string_or(cp, "trace_id", "?"), 64);
		if (cJSON_IsNumber(dur))
			strbuf_addf(o, ", %.1f ms", dur->valuedouble / 1000);
		strbuf_addstr(o, "), along its critical path:\n\n");
		cJSON_ArrayForEach(item, json_array(cp, "spans")) {
			const cJSON *self = json_get(item, "self_us");
			if (n++ == 10)
				break;
			strbuf_addstr(o, "- ");
			markdown_text(o, json_string_or(item, "service", "?"), 80);
			strbuf_addch(o, ' ');
			markdown_text(o, json_string_or(item, "operation", "?"), 120);
			if (cJSON_IsNumber(self))
				strbuf_addf(o, ": %.1f ms of its own", self->valuedouble / 1000);
			if (cJSON_IsTrue(json_get(item, "error")))
				strbuf_addstr(o, ", an error");
			strbuf_addch(o, '\n');
		}
	}
	n = 0;
	cJSON_ArrayForEach(item, json_array(d, "findings")) {
		/* The first finding is the answer above; the others were weighed and set aside. */
		if (n++ == 0)
			continue;
		if (n == 2)
			strbuf_addstr(o, "\nOther causes it weighed, less likely:\n\n");
		if (n > 4)
			break;
		strbuf_addstr(o, "- ");
		add_diagnosis(o, item);
		strbuf_addch(o, '\n');
	}
	n = 0;
	cJSON_ArrayForEach(item, json_array(d, "sources")) {
		if (json_string_is(item, "status", "ok"))
			continue;
		if (!n++)
			strbuf_addstr(o, "\nEvidence it could not read:\n\n");
		strbuf_addstr(o, "- ");
		markdown_text(o, json_string_or(item, "source", "?"), 40);
		strbuf_addstr(o, ": ");
		markdown_text(o, json_string_or(item, "status", "?"), 20);
		if (json_string(item, "error")) {
			strbuf_addstr(o, ": ");
			markdown_text(o, json_string(item, "error"), MAX_LINE);
		}
		strbuf_addch(o, '\n');
	}
}

static void write_resolution(struct strbuf *o, const struct pm *pm)
{
	const char *detail;
	enum resolution how = how_resolved(pm, &detail);
	long escalated = -1;
	size_t comments = 0;

	strbuf_addstr(o, "\n## Resolution and verification\n\n");
	if (pm->actions) {
		strbuf_addstr(o, "What sre carried out:\n\n");
		for (size_t i = 0; i < pm->nr; i++) {
			long f;
			if (!is_kind(pm, i, "action-started"))
				continue;
			strbuf_addstr(o, "- ");
			add_offset(o, since_open(pm, pm->ev[i].at));
			strbuf_addstr(o, ": ");
			add_action(o, pm, i);
			strbuf_addstr(o, " (");
			markdown_text(o, json_string_or(pm->body[i], "runtime", "?"), 40);
			strbuf_addstr(o, "), approved by ");
			markdown_text(o, json_string_or(pm->body[i], "approval", "nobody recorded"), 40);
			f = finished_of(pm, i);
			if (f < 0) {
				strbuf_addstr(o, "; its end is not recorded\n");
				continue;
			}
			strbuf_addstr(o, "; at ");
			add_offset(o, since_open(pm, pm->ev[f].at));
			strbuf_addstr(o, ": ");
			markdown_text(o, json_string_or(pm->body[f], "result", "?"), 80);
			if (json_nonempty(pm->body[f], "output")) {
				strbuf_addstr(o, ": ");
				markdown_text(o, json_string(pm->body[f], "output"), MAX_LINE);
			}
			strbuf_addch(o, '\n');
		}
	} else {
		strbuf_addstr(o, "sre carried out no action.\n");
	}
	if (pm->pulls) {
		strbuf_addstr(o, "\nPull requests:\n\n");
		for (size_t i = 0; i < pm->nr; i++) {
			long merged;
			if (!is_kind(pm, i, "pull-request"))
				continue;
			strbuf_addstr(o, "- ");
			add_offset(o, since_open(pm, pm->ev[i].at));
			strbuf_addstr(o, ": ");
			add_event_summary(o, pm, i);
			merged = merged_at(pm, i);
			if (merged >= 0) {
				strbuf_addstr(o, "; merged at ");
				add_offset(o, since_open(pm, pm->ev[merged].at));
			} else {
				strbuf_addstr(o, "; not merged");
			}
			strbuf_addch(o, '\n');
		}
	}
	strbuf_addstr(o, "\nResolution: ");
	if (pm->resolved >= 0) {
		const cJSON *b = pm->body[pm->resolved];
		strbuf_addstr(o, "at ");
		add_offset(o, since_open(pm, pm->ev[pm->resolved].at));
		strbuf_addstr(o, ", ");
		markdown_text(o, pm->ev[pm->resolved].actor, 80);
		strbuf_addstr(o, " moved it from ");
		markdown_text(o, json_string_or(b, "from", "?"), 40);
		strbuf_addstr(o, " to INCIDENT_RESOLVED");
		if (json_string(b, "reason")) {
			strbuf_addstr(o, ": ");
			markdown_text(o, json_string(b, "reason"), MAX_LINE);
		}
		add_stop(o);
		strbuf_addch(o, '\n');
	} else {
		strbuf_addstr(o, "not recorded (no event says who resolved it, or how).\n");
	}
	strbuf_addstr(o, "\nVerification: ");
	switch (how) {
	case RESOLVED_VERIFIED:
		strbuf_addstr(o, "sre re-ran the incident's check after the fix, and it passed: ");
		markdown_text(o, detail, MAX_LINE);
		add_stop(o);
		strbuf_addch(o, '\n');
		break;
	case RESOLVED_RECOVERED:
		strbuf_addstr(o, "the check passed again without a fix: ");
		markdown_text(o, detail, MAX_LINE);
		add_stop(o);
		strbuf_addch(o, '\n');
		break;
	case RESOLVED_BY_PERSON:
		strbuf_addstr(o, "not recorded: a person resolved it after sre handed it over, and "
			      "sre did not re-run the check.\n");
		break;
	case RESOLVED_ON_TRACKER:
		strbuf_addstr(o, "not recorded: the tracker closed it, and sre did not re-run the check.\n");
		break;
	case RESOLVED_BY_HAND:
		strbuf_addstr(o, "not recorded: it was resolved by hand, and sre did not re-run the check.\n");
		break;
	case RESOLVED_UNKNOWN:
		strbuf_addstr(o, "not recorded.\n");
		break;
	}
	/* What the people who took over wrote: the closest the record has to how they fixed it. */
	for (size_t i = 0; i < pm->nr; i++) {
		if (escalated < 0 && is_transition_to(pm, i, "INCIDENT_REQUIRES_HUMAN")) {
			escalated = (long)i;
			strbuf_addstr(o, "\nWhat was written after sre handed it to a person:\n\n");
		}
		if (escalated < 0 || !is_kind(pm, i, "comment"))
			continue;
		comments++;
		strbuf_addstr(o, "- ");
		add_offset(o, since_open(pm, pm->ev[i].at));
		strbuf_addstr(o, ", ");
		markdown_text(o, pm->ev[i].actor, 80);
		strbuf_addstr(o, ":\n\n");
		{
			struct strbuf q = STRBUF_INIT;
			const char *p, *eol;
			md_quote(&q, json_string_or(pm->body[i], "text", ""), 40);
			/* Inside the list item: its lines indented under it. */
			for (p = q.buf; *p; p = eol + 1) {
				eol = strchrnul(p, '\n');
				strbuf_addf(o, "  %.*s\n", (int)(eol - p), p);
				if (!*eol)
					break;
			}
			strbuf_addch(o, '\n');
			strbuf_release(&q);
		}
	}
	if (escalated >= 0 && !comments)
		strbuf_addstr(o, "Nothing recorded.\n");
}

/* ", for 4m 40s": until the fix went on after approval-needed event i, when it did. */
static void add_wait(struct strbuf *o, const struct pm *pm, size_t i)
{
	for (size_t j = i + 1; j < pm->nr; j++) {
		if (is_kind(pm, j, "action-started") ||
		    (is_kind(pm, j, "transition") && json_string_is(pm->body[j], "from", "FIX_GENERATED"))) {
			strbuf_addstr(o, " for ");
			add_span(o, (long long)(pm->ev[j].at - pm->ev[i].at));
			return;
		}
	}
}

static void add_time_to(struct strbuf *o, const char *what, int known, long long s)
{
	strbuf_addf(o, "- Time to %s: ", what);
	if (known)
		add_span(o, s);
	else
		strbuf_addstr(o, "not recorded");
	strbuf_addch(o, '\n');
}

static void write_how_we_did(struct strbuf *o, const struct pm *pm)
{
	const char *detail;
	enum resolution how = how_resolved(pm, &detail);
	long first_diag = -1, action = last_done_action(pm), pull = last_merged_pull(pm);
	size_t good = 0, bad = 0, refused = 0;

	for (size_t i = 0; i < pm->nr && first_diag < 0; i++)
		if (is_kind(pm, i, "diagnosed"))
			first_diag = (long)i;
	strbuf_addstr(o, "\n## How did we do\n\n");
	add_time_to(o, "detect (from when the source says it began to the opening)", pm->have_began,
		    pm->have_began ? (long long)(pm->inc.opened_at - pm->began) : 0);
	add_time_to(o, "the first response", pm->answered >= 0,
		    pm->answered >= 0 ? since_open(pm, pm->ev[pm->answered].at) : 0);
	add_time_to(o, "the first diagnosis", first_diag >= 0,
		    first_diag >= 0 ? since_open(pm, pm->ev[first_diag].at) : 0);
	add_time_to(o, "resolve", 1, since_open(pm, pm->inc.resolved_at));

	strbuf_addstr(o, "\n### What went well\n\n");
	if (!detected_by_hand(pm)) {
		strbuf_addstr(o, "- It was detected automatically, by ");
		add_detector(o, pm);
		add_stop(o);
		strbuf_addch(o, '\n');
		good++;
	}
	if (first_diag >= 0) {
		strbuf_addstr(o, "- It was diagnosed ");
		add_span(o, since_open(pm, pm->ev[first_diag].at));
		strbuf_addstr(o, " after the opening.\n");
		good++;
	}
	if (how == RESOLVED_VERIFIED && action >= 0) {
		strbuf_addstr(o, "- The ");
		add_action(o, pm, (size_t)action);
		strbuf_addstr(o, " worked, and verification confirmed it.\n");
		good++;
	} else if (how == RESOLVED_VERIFIED && pull >= 0) {
		strbuf_addstr(o, "- The change of ");
		add_pull(o, pm, (size_t)pull);
		strbuf_addstr(o, " worked, and verification confirmed it.\n");
		good++;
	}
	for (size_t i = 0; i < pm->nr; i++)
		if (is_kind(pm, i, "action-started") && json_string_is(pm->body[i], "approval", "policy")) {
			strbuf_addstr(o, "- Policy allowed the ");
			add_action(o, pm, i);
			strbuf_addstr(o, " without waiting for a person.\n");
			good++;
			break;
		}
	if (!pm->escalations && (how == RESOLVED_VERIFIED || how == RESOLVED_RECOVERED)) {
		strbuf_addstr(o, "- It was resolved without handing it to a person.\n");
		good++;
	}
	if (!good)
		strbuf_addstr(o, "Nothing recorded.\n");

	strbuf_addstr(o, "\n### What did not go well\n\n");
	if (detected_by_hand(pm)) {
		strbuf_addstr(o, "- No check found it: a person opened it by hand.\n");
		bad++;
	}
	if (pm->inc.occurrences > 1) {
		strbuf_addf(o, "- The problem was reported %lld times before it was resolved.\n",
			    pm->inc.occurrences);
		bad++;
	}
	if (!pm->diagnoses) {
		strbuf_addstr(o, "- It was never diagnosed.\n");
		bad++;
	}
	if (pm->actions > 1) {
		strbuf_addf(o, "- The fix was carried out %zu times.\n", pm->actions);
		bad++;
	}
	for (size_t i = 0; i < pm->nr; i++) {
		const cJSON *b = pm->body[i];
		if (is_kind(pm, i, "action-finished") && action_failed(pm, i)) {
			strbuf_addstr(o, "- At ");
			add_offset(o, since_open(pm, pm->ev[i].at));
			strbuf_addstr(o, " an action did not succeed: ");
			markdown_text(o, json_string_or(b, "result", "?"), 80);
			if (json_nonempty(b, "output")) {
				strbuf_addstr(o, ": ");
				markdown_text(o, json_string(b, "output"), MAX_LINE);
			}
			add_stop(o);
			strbuf_addch(o, '\n');
			bad++;
		} else if (is_transition_to(pm, i, "INCIDENT_REQUIRES_HUMAN")) {
			strbuf_addstr(o, "- At ");
			add_offset(o, since_open(pm, pm->ev[i].at));
			strbuf_addstr(o, " sre handed it to a person: ");
			markdown_text(o, json_string_or(b, "reason", "no reason recorded"), MAX_LINE);
			add_stop(o);
			strbuf_addch(o, '\n');
			bad++;
		} else if (is_kind(pm, i, "approval-needed")) {
			strbuf_addstr(o, "- At ");
			add_offset(o, since_open(pm, pm->ev[i].at));
			strbuf_addstr(o, " the fix waited for a person's approval (");
			markdown_text(o, json_string_or(b, "reason", "?"), MAX_LINE);
			strbuf_addch(o, ')');
			add_wait(o, pm, i);
			add_stop(o);
			strbuf_addch(o, '\n');
			bad++;
		} else if (plan_refused(pm, i) && !refused++) {
			/* Every CI job may dry-run it: the first refusal says it, with the count. */
			strbuf_addstr(o, "- At ");
			add_offset(o, since_open(pm, pm->ev[i].at));
			strbuf_addstr(o, " policy refused the planned fix: ");
			markdown_text(o, json_string_or(b, "reason", "?"), MAX_LINE);
			add_stop(o);
			if (pm->refusals > 1)
				strbuf_addf(o, " (%zu plans were refused in all.)", pm->refusals);
			strbuf_addch(o, '\n');
			bad++;
		}
	}
	if (pm->diag) {
		const cJSON *s;
		cJSON_ArrayForEach(s, json_array(pm->diag, "sources")) {
			if (json_string_is(s, "status", "ok"))
				continue;
			strbuf_addstr(o, "- The diagnosis could not read ");
			markdown_text(o, json_string_or(s, "source", "?"), 40);
			strbuf_addstr(o, " (");
			markdown_text(o, json_string_or(s, "status", "?"), 20);
			strbuf_addstr(o, ").\n");
			bad++;
		}
	}
	if (!bad)
		strbuf_addstr(o, "Nothing recorded.\n");
}

static int compare_ids(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

static void write_action_items(struct strbuf *o, const struct pm *pm)
{
	const struct chronic *c = pm->recurring;
	int items = 0;

	strbuf_addstr(o, "\n## Action items\n\n");
	if (c) {
		strbuf_addf(o, "- [ ] Architectural follow-up: this problem has recurred %lld times",
			    c->occurrences);
		if (c->first && c->last == c->first) {
			strbuf_addstr(o, ", all at ");
			add_time(o, c->first);
		} else if (c->first && c->last) {
			strbuf_addstr(o, " between ");
			add_time(o, c->first);
			strbuf_addstr(o, " and ");
			add_time(o, c->last);
		}
		if (c->nr_ids) {
			long long *ids = xcalloc(c->nr_ids, sizeof(*ids));
			memcpy(ids, c->ids, c->nr_ids * sizeof(*ids));
			qsort(ids, c->nr_ids, sizeof(*ids), compare_ids);
			strbuf_addstr(o, " (incidents");
			for (size_t i = 0; i < c->nr_ids && i < 10; i++)
				strbuf_addf(o, "%s %lld", i ? "," : "", ids[i]);
			strbuf_addstr(o, c->nr_ids > 10 ? ", …)" : ")");
			free(ids);
		}
		strbuf_addstr(o, ", matched by its ");
		markdown_text(o, c->kind ? c->kind : "fingerprint", 20);
		strbuf_addstr(o, " \"");
		markdown_text(o, c->key, 200);
		strbuf_addstr(o, "\"");
		if (c->fixes) {
			strbuf_addstr(o, "; what was tried: ");
			markdown_text(o, c->fixes, MAX_LINE);
		}
		add_stop(o);
		strbuf_addstr(o, " A mitigation that is needed again and again treats a symptom: "
			      "find and remove the cause in the service's design.\n");
		items++;
	}
	if (pm->escalations) {
		size_t first = 0;
		while (first < pm->nr && !is_transition_to(pm, first, "INCIDENT_REQUIRES_HUMAN"))
			first++;
		strbuf_addstr(o, "- [ ] Runbook: sre could not finish this incident alone (\"");
		markdown_text(o, json_string_or(pm->body[first], "reason", "no reason recorded"), MAX_LINE);
		strbuf_addstr(o, "\"). Write down how a person resolved it, for the service ");
		markdown_text(o, pm->inc.service, 200);
		strbuf_addstr(o, ", so that the next responder, or sre, can do it without "
			      "rediscovering it.\n");
		items++;
	}
	if (pm->chronic_failed)
		strbuf_addstr(o, "sre's memory of recurrences could not be read, so whether this "
			      "problem is chronic is not known.\n");
	else if (!items)
		strbuf_addstr(o, "None found in the record: sre's memory does not show this problem "
			      "recurring, and it was never handed to a person.\n");
}

static void write_similar(struct strbuf *o, const struct pm *pm)
{
	strbuf_addstr(o, "\n## Similar past incidents\n\n");
	if (pm->similar_failed) {
		strbuf_addstr(o, "sre's memory could not be searched when this was written.\n");
		return;
	}
	if (!pm->similar_nr) {
		strbuf_addstr(o, "None found in sre's memory.\n");
		return;
	}
	for (size_t i = 0; i < pm->similar_nr && i < MAX_SIMILAR; i++) {
		const struct memory_hit *h = &pm->similar[i];

		strbuf_addf(o, "- Incident %lld", h->id);
		if (h->origin && strcmp(h->origin, "local")) {
			strbuf_addstr(o, " (from ");
			markdown_text(o, h->origin, 80);
			strbuf_addch(o, ')');
		}
		strbuf_addstr(o, ": ");
		markdown_text(o, h->title, MAX_TITLE);
		strbuf_addstr(o, "; service ");
		markdown_text(o, h->service, 200);
		if (h->category) {
			strbuf_addstr(o, ", ");
			markdown_text(o, h->category, 60);
		}
		strbuf_addstr(o, ". What was done: ");
		if (h->action) {
			markdown_text(o, h->action, 100);
			strbuf_addstr(o, h->worked == 1 ? ", and it worked" :
				      h->worked == 0 ? ", and it did not work" : "");
		} else {
			strbuf_addstr(o, "no action");
		}
		if (h->resolution) {
			strbuf_addstr(o, "; how it ended: ");
			markdown_text(o, h->resolution, MAX_LINE);
		}
		if (h->why) {
			add_stop(o);
			strbuf_addstr(o, " Why it is similar: ");
			markdown_text(o, h->why, MAX_LINE);
		}
		add_stop(o);
		strbuf_addch(o, '\n');
	}
}

int postmortem_write(struct store *st, const struct config *cfg, long long id,
		     struct strbuf *out)
{
	struct pm pm = { 0 };
	char *json = NULL;
	int r, ret = -1;

	pm.st = st;
	pm.cfg = cfg;
	r = store_incident_get(st, id, &pm.inc);
	if (r)
		return r;
	if (pm.inc.state != STATE_INCIDENT_RESOLVED) {
		/* A draft of an open incident would be out of date by its next event. */
		error("incident %lld is not resolved yet (state %s): a post-mortem is written once it is",
		      id, incident_state_name(pm.inc.state));
		incident_release(&pm.inc);
		return 2;
	}
	if (store_event_list(st, id, &pm.ev, &pm.nr) < 0) {
		pm.ev = NULL;
		pm.nr = 0;
		goto out;
	}
	r = store_diagnosis_latest(st, id, &json);
	if (r < 0)
		goto out;
	if (!r) {
		pm.diag = cJSON_Parse(json);
		if (!cJSON_IsObject(pm.diag)) {
			cJSON_Delete(pm.diag);
			pm.diag = NULL;
		}
	}
	read_events(&pm);
	/* An incident imported without its resolution time ends at its resolving event. */
	if (!pm.inc.resolved_at)
		pm.inc.resolved_at = pm.resolved >= 0 ? pm.ev[pm.resolved].at : pm.inc.updated_at;
	read_memory(&pm);

	write_header(out, &pm);
	write_overview(out, &pm);
	write_what_happened(out, &pm);
	write_impact(out, &pm);
	write_detection(out, &pm);
	write_timeline(out, &pm);
	write_responders(out, &pm);
	write_root_cause(out, &pm);
	write_resolution(out, &pm);
	write_how_we_did(out, &pm);
	write_action_items(out, &pm);
	write_similar(out, &pm);
	ret = 0;
out:
	for (size_t i = 0; pm.body && i < pm.nr; i++)
		cJSON_Delete(pm.body[i]);
	free(pm.body);
	free(pm.kind);
	cJSON_Delete(pm.diag);
	free(json);
	memory_hits_free(pm.similar, pm.similar_nr);
	chronic_free(pm.chronic, pm.chronic_nr);
	event_list_free(pm.ev, pm.nr);
	incident_release(&pm.inc);
	return ret;
}
