/*
 * escalate-chronic.c: the architecture follow-up of a chronic problem.
 *
 * A fingerprint or log template that came back escalate.chronic-after
 * times (3) within escalate.chronic-window (7d), as remember's chronic
 * list counts them (lib/memory.h), is not a page: restarting it a fourth
 * time will not help. It gets, once, an issue of its own on the tracker,
 * labelled escalate.architect-label (jules-fix, the label SRE-Space's
 * architectural agent reads), linked from each occurrence's ticket, with
 * a refactoring brief made from the store alone: the occurrences and
 * their timeline, the templates and evidence they share, what was done
 * each time and how long it held, the code paths from the traces, the
 * recent commits of the service's paths in core.repo, and a question for
 * the owners.
 *
 * Once, on this host: a mark (escalation_marks "architect:<marker>") set
 * in the transaction that queues it. Once across hosts sharing the
 * tracker: the issue carries a marker label, sre-chronic-<12 hex digits of
 * the problem's kind, service and key>, and delivery adopts an issue
 * carrying it, open or closed, before it opens one (lib/mirror.c). A
 * problem the architects closed is not reopened: it comes back as pages.
 *
 * Without a tracker the brief is kept as an "architecture" event of the
 * newest occurrence, where `sre incident show` and the post-mortem find it.
 */
#include <ctype.h>

#include "escalate.h"
#include "escalate-internal.h"
#include "evidence.h"
#include "finding.h"
#include "json.h"
#include "memory.h"
#include "mirror.h"
#include "postmortem.h"
#include "redact.h"
#include "sha256.h"
#include "store.h"
#include "timeutil.h"
#include "tracker.h"

#define LABEL_DEFAULT "jules-fix"
#define LABEL_MAX 64
#define LIST_MAX 10       /* lines of each list of the brief */
#define OCCURRENCES_MAX 20
#define LINE_MAX_BRIEF 300

struct chronic_options {
	long long after;
	int64_t window_ms;
	const char *label;
};

static int read_options(const struct config *cfg, struct chronic_options *co)
{
	co->after = 3;
	co->window_ms = 7LL * 86400 * 1000;
	co->label = config_get_string(cfg, "escalate.architect-label");
	if (!co->label)
		co->label = LABEL_DEFAULT;
	if (config_get_int(cfg, "escalate.chronic-after", &co->after) < 0 ||
	    config_get_duration_ms(cfg, "escalate.chronic-window", &co->window_ms) < 0)
		return -1;
	if (co->after && (co->after < 2 || co->after > 10000))
		return error("escalate.chronic-after takes 0 (never) or a number from 2 to 10000, not %lld",
			     co->after);
	if (co->window_ms <= 0)
		return error("escalate.chronic-window must be positive");
	/* A label both trackers take: JIRA's have no spaces, GitHub's no commas. */
	for (const char *p = co->label; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.:", *p))
			return error("escalate.architect-label '%s': letters, digits, - _ . and : only",
				     co->label);
	if (!*co->label || strlen(co->label) > LABEL_MAX)
		return error("escalate.architect-label must be 1 to %d characters", LABEL_MAX);
	return 0;
}

/* sre-chronic-<12 hex>: the same problem has the same marker on every host. */
static void marker_of(char out[32], const struct chronic *c)
{
	struct sha256 s;
	char hex[65];

	sha256_init(&s);
	sha256_update(&s, c->kind, strlen(c->kind));
	sha256_update(&s, "\n", 1);
	sha256_update(&s, c->service ? c->service : "", c->service ? strlen(c->service) : 0);
	sha256_update(&s, "\n", 1);
	sha256_update(&s, c->key, strlen(c->key));
	sha256_hex(&s, hex);
	snprintf(out, 32, "sre-chronic-%.12s", hex);
}

/* ---- the brief ---- */

/* One occurrence as the store keeps it. */
struct occurrence {
	struct incident inc;
	cJSON *diag;          /* its latest diagnosis, or NULL */
	char *done;           /* what was done, in words */
};

static void occurrence_release(struct occurrence *o)
{
	incident_release(&o->inc);
	cJSON_Delete(o->diag);
	free(o->done);
}

/* What was done: the last action and how it ended, else how it was resolved. */
static char *what_was_done(struct store *st, long long id)
{
	struct event *ev;
	size_t nr;
	struct strbuf sb = STRBUF_INIT;
	cJSON *started = NULL, *finished = NULL, *resolved = NULL;

	if (store_event_list(st, id, &ev, &nr) < 0)
		return xstrdup("?");
	for (size_t i = 0; i < nr; i++) {
		cJSON **slot = !strcmp(ev[i].kind, "action-started") ? &started :
			       !strcmp(ev[i].kind, "action-finished") ? &finished :
			       !strcmp(ev[i].kind, "transition") ? &resolved : NULL;
		cJSON *b;
		if (!slot || !(b = cJSON_Parse(ev[i].body)))
			continue;
		if (slot == &resolved && !json_string_is(b, "to", "INCIDENT_RESOLVED")) {
			cJSON_Delete(b);
			continue;
		}
		cJSON_Delete(*slot);
		*slot = b;
	}
	event_list_free(ev, nr);
	if (started) {
		strbuf_addf(&sb, "%s", json_string_or(started, "action", "an action"));
		if (json_string(started, "target"))
			strbuf_addf(&sb, " %s", json_string(started, "target"));
		strbuf_addf(&sb, ": %s", finished ? json_string_or(finished, "result", "?") : "not finished");
	} else if (resolved) {
		strbuf_addf(&sb, "nothing by sre; resolved: %s", json_string_or(resolved, "reason", "?"));
	} else {
		strbuf_addstr(&sb, "nothing yet");
	}
	cJSON_Delete(started);
	cJSON_Delete(finished);
	cJSON_Delete(resolved);
	return strbuf_detach(&sb, NULL);
}

/* The occurrences and their timeline, with what was done and how long it held. */
static void brief_occurrences(struct strbuf *b, const struct occurrence *o, size_t nr)
{
	strbuf_addstr(b, "## Occurrences\n\n"
		      "| Incident | Opened | Diagnosis | What was done | How long it held |\n"
		      "|---|---|---|---|---|\n");
	for (size_t i = 0; i < nr; i++) {
		const struct incident *inc = &o[i].inc;
		char at[32], held[32];

		format_iso8601(at, sizeof(at), inc->opened_at);
		strbuf_addf(b, "| #%lld ", inc->id);
		markdown_text(b, inc->title, 120);
		if (inc->remote_url) {
			strbuf_addstr(b, " ");
			markdown_text(b, inc->remote_url, 200);
		}
		strbuf_addf(b, " | %s | ", at);
		if (o[i].diag) {
			markdown_text(b, json_string_or(o[i].diag, "category", "?"), 40);
			strbuf_addstr(b, ": ");
			markdown_text(b, json_string_or(o[i].diag, "root_cause", ""), 160);
		} else {
			strbuf_addstr(b, "not diagnosed");
		}
		strbuf_addstr(b, " | ");
		markdown_text(b, o[i].done, 160);
		strbuf_addstr(b, " | ");
		if (!inc->resolved_at) {
			strbuf_addstr(b, "still open");
		} else if (i + 1 < nr) {
			format_age(held, sizeof(held), inc->resolved_at, o[i + 1].inc.opened_at);
			strbuf_addf(b, "%s, until #%lld", held, o[i + 1].inc.id);
		} else {
			strbuf_addstr(b, "holding so far");
		}
		strbuf_addstr(b, " |\n");
	}
}

/* Lines and how many occurrences showed each. */
struct tally {
	struct strvec lines;
	int *counts;
	size_t alloc;
};
#define TALLY_INIT { STRVEC_INIT, NULL, 0 }

static void tally_add(struct tally *t, const char *line)
{
	for (size_t i = 0; i < t->lines.nr; i++)
		if (!strcmp(t->lines.v[i], line)) {
			t->counts[i]++;
			return;
		}
	ALLOC_GROW(t->counts, t->lines.nr + 1, t->alloc);
	t->counts[t->lines.nr] = 1;
	strvec_push(&t->lines, line);
}

/* The lines of t seen in at least min occurrences, most frequent first, at most LIST_MAX. */
static size_t tally_print(struct strbuf *b, const struct tally *t, int min, size_t nr)
{
	size_t shown = 0;

	for (int want = (int)nr; want >= min && shown < LIST_MAX; want--)
		for (size_t i = 0; i < t->lines.nr && shown < LIST_MAX; i++) {
			if (t->counts[i] != want)
				continue;
			strbuf_addf(b, "- %d of %zu: ", want, nr);
			markdown_text(b, t->lines.v[i], LINE_MAX_BRIEF);
			strbuf_addch(b, '\n');
			shown++;
		}
	return shown;
}

/* Empties t, ready for use again. */
static void tally_release(struct tally *t)
{
	strvec_clear(&t->lines);
	free(t->counts);
	t->counts = NULL;
	t->alloc = 0;
}

/* What the occurrences share: the key itself, log templates, evidence lines. */
static void brief_common(struct strbuf *b, const struct chronic *c, const struct occurrence *o,
			 size_t nr)
{
	struct tally tmpl = TALLY_INIT, lines = TALLY_INIT, once = TALLY_INIT;
	const cJSON *item;

	strbuf_addf(b, "\n## In common\n\nThe %s: ", c->kind);
	markdown_text(b, c->key, LINE_MAX_BRIEF);
	strbuf_addstr(b, "\n\n");
	for (size_t i = 0; i < nr; i++) {
		cJSON_ArrayForEach(item, json_array(o[i].diag, "log_templates"))
			if (json_string(item, "template"))
				tally_add(&once, json_string(item, "template"));
		for (size_t k = 0; k < once.lines.nr; k++)
			tally_add(&tmpl, once.lines.v[k]);
		tally_release(&once);
		cJSON_ArrayForEach(item, json_array(o[i].diag, "evidence")) {
			struct strbuf l = STRBUF_INIT;
			if (!strcmp(json_string_or(item, "source", ""), "jaeger"))
				continue;
			strbuf_addf(&l, "%s: %s", json_string_or(item, "source", "?"),
				    json_string_or(item, "summary", ""));
			tally_add(&once, l.buf);
			strbuf_release(&l);
		}
		for (size_t k = 0; k < once.lines.nr; k++)
			tally_add(&lines, once.lines.v[k]);
		tally_release(&once);
	}
	strbuf_addstr(b, "Log templates:\n\n");
	if (!tally_print(b, &tmpl, 2, nr))
		strbuf_addstr(b, "- none seen in more than one occurrence\n");
	strbuf_addstr(b, "\nEvidence:\n\n");
	if (!tally_print(b, &lines, 2, nr))
		strbuf_addstr(b, "- no line of evidence seen in more than one occurrence\n");
	tally_release(&tmpl);
	tally_release(&lines);
}

/* The code paths from the traces: the critical paths' spans and the trace evidence. */
static void brief_paths(struct strbuf *b, const struct occurrence *o, size_t nr)
{
	struct tally paths = TALLY_INIT;
	const cJSON *item;

	for (size_t i = 0; i < nr; i++) {
		struct strbuf l = STRBUF_INIT;
		const cJSON *cp = json_object(o[i].diag, "critical_path");
		size_t n = 0;

		cJSON_ArrayForEach(item, json_array(cp, "spans")) {
			if (n++ == 8)
				break;
			strbuf_addf(&l, "%s%s %s%s", l.len ? " > " : "", json_string_or(item, "service", "?"),
				    json_string_or(item, "operation", "?"),
				    cJSON_IsTrue(json_get(item, "error")) ? " (error)" : "");
		}
		if (l.len)
			tally_add(&paths, l.buf);
		strbuf_release(&l);
		cJSON_ArrayForEach(item, json_array(o[i].diag, "evidence"))
			if (!strcmp(json_string_or(item, "source", ""), "jaeger"))
				tally_add(&paths, json_string_or(item, "summary", ""));
	}
	strbuf_addstr(b, "\n## Code paths from the traces\n\n");
	if (!tally_print(b, &paths, 1, nr))
		strbuf_addstr(b, "No trace was read for these incidents (jaeger.url, or nothing slow or "
			      "failing in the traces).\n");
	tally_release(&paths);
}

/* The recent commits and authors of the service's paths in core.repo, read now. */
static void brief_commits(struct strbuf *b, const struct config *cfg, const char *service,
			  int64_t window_ms)
{
	struct collect_options co = { .service = service, .commit_window_ms = window_ms };
	struct evidence ev;
	struct strbuf why = STRBUF_INIT;
	struct tally authors = TALLY_INIT;
	const cJSON *item;
	size_t n = 0;

	strbuf_addstr(b, "\n## Recent changes to the service's paths in core.repo\n\n");
	memset(&ev, 0, sizeof(ev));
	if (!service || evidence_refresh(&ev, cfg, &co, "git", NULL, &why) < 0) {
		strbuf_addstr(b, "Not read: ");
		markdown_text(b, why.len ? why.buf : "no service", LINE_MAX_BRIEF);
		strbuf_addstr(b, " (core.repo and service.<name>.paths).\n");
		goto out;
	}
	cJSON_ArrayForEach(item, ev.commits) {
		tally_add(&authors, json_string_or(item, "author", "?"));
		if (n++ >= LIST_MAX)
			continue;
		strbuf_addf(b, "- %.10s ", json_string_or(item, "sha", "?"));
		markdown_text(b, json_string_or(item, "time", ""), 32);
		strbuf_addch(b, ' ');
		markdown_text(b, json_string_or(item, "author", "?"), 120);
		strbuf_addstr(b, ": ");
		markdown_text(b, json_string_or(item, "subject", ""), 200);
		strbuf_addch(b, '\n');
	}
	if (!n) {
		strbuf_addstr(b, "No commit touched them in escalate.chronic-window.\n");
	} else {
		strbuf_addstr(b, "\nAuthors:\n\n");
		for (size_t i = 0; i < authors.lines.nr && i < LIST_MAX; i++) {
			strbuf_addstr(b, "- ");
			markdown_text(b, authors.lines.v[i], 120);
			strbuf_addf(b, ": %d commit%s\n", authors.counts[i], authors.counts[i] == 1 ? "" : "s");
		}
	}
out:
	evidence_release(&ev);
	tally_release(&authors);
	strbuf_release(&why);
}

static void brief_write(struct strbuf *b, const struct config *cfg, const struct chronic *c,
			const struct occurrence *o, size_t nr, const struct chronic_options *co)
{
	char first[32], last[32], window[32];

	format_iso8601(first, sizeof(first), c->first);
	format_iso8601(last, sizeof(last), c->last);
	format_age(window, sizeof(window), 0, (time_t)(co->window_ms / 1000));
	strbuf_addstr(b, "sre opened this follow-up because the same problem in ");
	markdown_text(b, c->service ? c->service : "?", 80);
	strbuf_addf(b, " came back %lld times within %s, from %s to %s. Each time it was mitigated; "
		    "what was done did not stop it coming back. It needs a change, not another "
		    "restart.\n\n", c->occurrences, window, first, last);
	strbuf_addstr(b, "What was tried: ");
	markdown_text(b, c->fixes ? c->fixes : "nothing", LINE_MAX_BRIEF);
	strbuf_addstr(b, ".\n\n");
	brief_occurrences(b, o, nr);
	brief_common(b, c, o, nr);
	brief_paths(b, o, nr);
	brief_commits(b, cfg, c->service, co->window_ms);
	strbuf_addstr(b, "\n## A question for the owners\n\n");
	markdown_text(b, c->service ? c->service : "The service", 80);
	strbuf_addf(b, " needed the same mitigation %lld times in %s. What in its design lets this "
		    "come back, and what change (a limit, a retry, a dependency, a code path above) "
		    "would remove it rather than mitigate it again?\n", c->occurrences, window);
}

/* ---- the pass ---- */

static int load_occurrences(struct store *st, const struct chronic *c, struct occurrence **out,
			    size_t *nr)
{
	size_t from = c->nr_ids > OCCURRENCES_MAX ? c->nr_ids - OCCURRENCES_MAX : 0;

	*out = xcalloc(c->nr_ids - from + 1, sizeof(**out));
	*nr = 0;
	for (size_t i = from; i < c->nr_ids; i++) {
		struct occurrence *o = &(*out)[*nr];
		char *json = NULL;
		int r = store_incident_get(st, c->ids[i], &o->inc);

		if (r > 0)
			continue;
		if (r < 0)
			return -1;
		if (store_diagnosis_latest(st, c->ids[i], &json) < 0) {
			incident_release(&o->inc);
			return -1;
		}
		o->diag = json ? cJSON_Parse(json) : NULL;
		free(json);
		o->done = what_was_done(st, c->ids[i]);
		(*nr)++;
	}
	return 0;
}

/* The title: the service and the newest occurrence's title, cleaned. */
static char *title_of(const struct chronic *c, const struct occurrence *o, size_t nr,
		      const char *window)
{
	struct strbuf t = STRBUF_INIT;
	char *clean;

	strbuf_addf(&t, "Chronic: %s: %s (%lld times in %s)", c->service ? c->service : "?",
		    nr ? o[nr - 1].inc.title : c->key, c->occurrences, window);
	redact_strbuf(&t);
	clean = scout_one_line(t.buf, 200);
	strbuf_release(&t);
	return clean;
}

static int followup(const struct engine_context *ctx, const struct chronic *c,
		    const struct chronic_options *co, const struct escalate_options *o,
		    struct strbuf *report)
{
	struct occurrence *occ = NULL;
	struct strbuf body = STRBUF_INIT, mark = STRBUF_INIT;
	char marker[32], window[32];
	char *title = NULL;
	size_t nr = 0;
	long long newest, owner;
	int r;

	if (!c->nr_ids)
		return 0;
	marker_of(marker, c);
	strbuf_addf(&mark, "architect:%s", marker);
	owner = escalate_mark_owner(ctx->store, mark.buf);
	if (owner) {
		strbuf_release(&mark);
		return owner < 0 ? -1 : 0;
	}
	newest = c->ids[c->nr_ids - 1];
	if ((r = load_occurrences(ctx->store, c, &occ, &nr)) < 0)
		goto out;
	format_age(window, sizeof(window), 0, (time_t)(co->window_ms / 1000));
	title = title_of(c, occ, nr, window);
	brief_write(&body, ctx->cfg, c, occ, nr, co);
	/* What arrived (titles, logs, commits) is quoted in it: no secret leaves. */
	redact_strbuf(&body);
	strbuf_addf(report, "chronic: %s an architecture follow-up labelled %s: %s (incidents #%lld to #%lld)\n",
		    o->dry_run ? "would open" : "opening", co->label, title, c->ids[0], newest);
	if (o->dry_run) {
		if (ctx->tracker)
			strbuf_addf(report, "  on %s, marker %s; the brief:\n", ctx->tracker->ops->name, marker);
		else
			strbuf_addf(report, "  no tracker: kept in incident %lld; the brief:\n", newest);
		for (const char *p = body.buf; *p;) {
			size_t len = strcspn(p, "\n");
			strbuf_addf(report, "    %.*s\n", (int)len, p);
			p += len + (p[len] == '\n');
		}
		goto out;
	}
	if (store_begin(ctx->store) < 0) {
		r = -1;
		goto out;
	}
	r = escalate_mark_set(ctx->store, newest, mark.buf, o->now ? o->now : sre_now());
	if (!r && ctx->tracker)
		r = mirror_queue_architecture(ctx->store, ctx->tracker->ops->name, newest, marker,
					      co->label, title, body.buf, c->ids, c->nr_ids);
	if (!r && !ctx->tracker) {
		cJSON *ev = cJSON_CreateObject();
		char *text;
		cJSON_AddStringToObject(ev, "marker", marker);
		cJSON_AddStringToObject(ev, "title", title);
		cJSON_AddStringToObject(ev, "brief", body.buf);
		text = cJSON_PrintUnformatted(ev);
		r = store_event_append(ctx->store, newest, "architecture", ctx->actor ? ctx->actor : "sre",
				       text) < 0 ? -1 : 0;
		free(text);
		cJSON_Delete(ev);
		if (!r)
			strbuf_addf(report, "  no tracker (tracker.kind): the brief is kept in incident %lld\n",
				    newest);
	}
	if (r < 0)
		store_rollback(ctx->store);
	else
		r = store_commit(ctx->store);
out:
	for (size_t i = 0; i < nr; i++)
		occurrence_release(&occ[i]);
	free(occ);
	free(title);
	strbuf_release(&body);
	strbuf_release(&mark);
	return r < 0 ? -1 : 0;
}

int escalate_chronic(const struct engine_context *ctx, const struct escalate_options *o,
		     struct strbuf *report)
{
	struct chronic_options co;
	struct chronic *list;
	size_t nr, indexed;
	int r = 0;

	if (read_options(ctx->cfg, &co) < 0)
		return -1;
	if (!co.after)
		return 0;
	/* The occurrences counted are those indexed: bring the index (derived, local) up to date first. */
	if (memory_index(ctx->store, ctx->cfg, 0, &indexed) < 0)
		return -1;
	if (memory_chronic_within(ctx->store, co.after, co.window_ms, &list, &nr) < 0)
		return -1;
	for (size_t i = 0; i < nr && !r; i++)
		r = followup(ctx, &list[i], &co, o, report);
	chronic_free(list, nr);
	return r;
}
