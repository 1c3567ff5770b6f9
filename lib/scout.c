/*
 * scout.c: the table of sources and the decision that turns findings into
 * incident changes; see scout.h. The sources call down into finding.c,
 * json.c, config.c and http.c, never back into this file, so that the
 * table's calls go one way.
 */
#include <ctype.h>

#include "scout.h"
#include "mirror.h"
#include "redact.h"
#include "strbuf.h"

const struct scout_source scout_sources[] = {
	{ "http", http_checks_configured, http_checks_collect },
	{ "prometheus", prometheus_configured, prometheus_collect },
	{ "alertmanager", alertmanager_configured, alertmanager_collect },
	{ "metrics", metrics_configured, metrics_collect },
	{ "kubernetes", kubernetes_configured, kubernetes_collect },
	{ "docker", docker_configured, docker_collect },
	{ "jaeger", jaeger_configured, jaeger_collect },
	{ "process", process_configured, process_collect },
	{ NULL, NULL, NULL },
};

int scout_collect(const struct config *cfg, struct findings *fs, struct strvec *ran,
		  int *configured, void (*say)(void *data, const char *line), void *data)
{
	struct http_client http;
	int read_any = 0;

	*configured = 0;
	if (http_client_init(&http, cfg) < 0)
		return -1; /* it said which key */
	for (const struct scout_source *s = scout_sources; s->name; s++) {
		struct strbuf err = STRBUF_INIT;
		int r;

		if (!s->configured(cfg))
			continue;
		(*configured)++;
		http.label = s->name; /* what the status line waits on */
		r = s->collect(cfg, &http, fs, &err);
		redact_strbuf(&err);
		for (const char *l = err.buf; *l && say;) {
			const char *nl = strchrnul(l, '\n');
			if (nl > l) {
				char *line = xstrndup(l, (size_t)(nl - l));
				say(data, line);
				free(line);
			}
			l = *nl ? nl + 1 : nl;
		}
		if (r >= 0) {
			strvec_push(ran, s->name);
			read_any = 1;
		}
		strbuf_release(&err);
	}
	http_client_release(&http);
	return read_any || !*configured ? 0 : 1;
}

/* ---- deciding ---- */

void scout_report_release(struct scout_report *rep)
{
	free(rep->v);
	free(rep->incident);
	free(rep->changed);
	rep->v = NULL;
	rep->incident = NULL;
	rep->changed = NULL;
	rep->nr = rep->alloc = 0;
}

static struct scout_change *change(struct scout_report *rep, const char *what, long long id,
				   const struct finding *f)
{
	struct scout_change *c;

	ALLOC_GROW(rep->v, rep->nr + 1, rep->alloc);
	c = &rep->v[rep->nr++];
	memset(c, 0, sizeof(*c));
	c->what = what;
	c->id = id;
	c->finding = f;
	return c;
}

/* A title from a finding's summary: one line, no control characters. */
static char *title_of(const struct finding *f)
{
	char *title = scout_one_line(f->summary ? f->summary : f->fingerprint, 900);

	if (!*title) {
		free(title);
		title = xstrdup(f->fingerprint);
	}
	return title;
}

/*
 * Do two summaries say the same thing? Runs of digits count as one
 * number whatever its value, so "took 153 ms" and "took 161 ms" agree:
 * a latency or a count that moves every run is not news to mail about.
 */
static int same_words(const char *a, const char *b)
{
	while (*a && *b) {
		int da = isdigit((unsigned char)*a), db = isdigit((unsigned char)*b);

		if (da != db)
			return 0;
		if (da) {
			while (isdigit((unsigned char)*a) || *a == '.')
				a++;
			while (isdigit((unsigned char)*b) || *b == '.')
				b++;
			continue;
		}
		if (*a++ != *b++)
			return 0;
	}
	return !*a && !*b;
}

/*
 * What the open incident id last said, from its timeline: the summary of
 * the latest "opened" or "occurrence" event (the last run's), and the
 * severity of the latest "opened" or "severity" event. Read before this
 * run adds its own. *summary is the caller's to free (NULL when none).
 */
static int last_said(struct store *st, long long id, char **summary,
		     enum incident_severity *severity)
{
	struct event *ev = NULL;
	size_t nr = 0;

	*summary = NULL;
	if (store_event_list(st, id, &ev, &nr) < 0)
		return -1;
	for (size_t i = 0; i < nr; i++) {
		const char *kind = ev[i].kind, *sev;
		cJSON *body;

		if (strcmp(kind, "opened") && strcmp(kind, "occurrence") && strcmp(kind, "severity"))
			continue;
		if (!(body = cJSON_Parse(ev[i].body)))
			continue;
		if (strcmp(kind, "severity") && json_string_or(body, "title", NULL)) {
			free(*summary);
			*summary = xstrdup(json_string_or(body, "title", ""));
		}
		sev = json_string_or(body, !strcmp(kind, "severity") ? "to" : "severity", NULL);
		if (sev)
			incident_severity_parse(sev, severity);
		cJSON_Delete(body);
	}
	event_list_free(ev, nr);
	return 0;
}

/*
 * Before an open incident is updated: has its check's news changed since
 * the last run (its severity, or the words of its summary)? Sets
 * c->unchanged or c->was_severity; a new severity is kept as a "severity"
 * event, so the next run compares with it.
 */
static int judge_update(struct store *st, const struct finding *f, long long id,
			const struct scout_options *o, struct scout_change *c)
{
	struct incident inc;
	enum incident_severity was;
	char *summary = NULL, *title = title_of(f);
	int r = store_incident_get(st, id, &inc), ret = 0;

	if (r) {
		free(title);
		return r < 0 ? -1 : 0;
	}
	was = inc.severity;
	incident_release(&inc);
	if (last_said(st, id, &summary, &was) < 0) {
		free(title);
		return -1;
	}
	if (was != f->severity) {
		c->severity_changed = 1;
		c->was_severity = was;
	}
	c->unchanged = !c->severity_changed && summary && same_words(summary, title);
	if (c->severity_changed && !o->dry_run) {
		cJSON *body = cJSON_CreateObject();
		char *text;

		cJSON_AddStringToObject(body, "from", incident_severity_name(was));
		cJSON_AddStringToObject(body, "to", incident_severity_name(f->severity));
		text = cJSON_PrintUnformatted(body);
		ret = store_event_append(st, id, "severity", o->actor, text) < 0 ? -1 : 0;
		cJSON_free(text);
		cJSON_Delete(body);
	}
	free(summary);
	free(title);
	return ret;
}

/* A fix is under way: leave the incident to it, recovered or not. */
static int fix_in_flight(enum incident_state s)
{
	return s >= STATE_FIX_GENERATION_IN_PROGRESS && s <= STATE_VERIFICATION_COMPLETE;
}

static int open_or_update(struct store *st, struct tracker *t, const struct config *cfg,
			  const struct finding *f, const struct scout_options *o,
			  long long *id, int *created)
{
	struct incident_new in = { 0 };
	char *title = title_of(f);
	int r;

	in.service = f->service;
	in.title = title;
	in.fingerprint = f->fingerprint;
	in.source = f->source;
	in.severity = f->severity;
	in.actor = o->actor;
	r = mirror_incident_open(st, t, cfg, &in, id, created);
	if (!r && *created && f->evidence) {
		/* What the source saw, for diagnose and for the person paged. */
		cJSON *body = cJSON_CreateObject();
		char *text;
		cJSON_AddStringToObject(body, "summary", title);
		cJSON_AddItemToObject(body, "evidence", cJSON_Duplicate(f->evidence, 1));
		text = cJSON_PrintUnformatted(body);
		r = store_event_append(st, *id, "evidence", o->actor, text) < 0 ? -1 : 0;
		cJSON_free(text);
		cJSON_Delete(body);
	}
	free(title);
	return r;
}

/* Resolve a recovered incident, unless a fix is in flight. */
static int recover(struct store *st, struct tracker *t, const struct config *cfg,
		   const struct finding *f, const char *fingerprint, long long id, int passes,
		   const struct scout_options *o, struct scout_report *rep)
{
	struct incident inc;
	enum incident_state remote;
	char *reason;
	int r, expected;

	if (store_incident_get(st, id, &inc))
		return -1;
	/* A fix (or diagnosis) at work on it decides; it is not resolved under it. */
	if (fix_in_flight(inc.state) || store_lease_held(st, id, NULL)) {
		incident_release(&inc);
		return 0;
	}
	expected = (int)inc.state;
	incident_release(&inc);
	if (o->dry_run) {
		change(rep, "would resolve", id, f);
		return 0;
	}
	reason = f && f->summary ?
		 xstrfmt("recovered: %s (healthy for %d run%s)", f->summary, passes, passes > 1 ? "s" : "") :
		 xstrfmt("recovered: %s is no longer reported (for %d run%s)", fingerprint, passes,
			 passes > 1 ? "s" : "");
	r = mirror_incident_transition(st, t, cfg, id, expected, STATE_INCIDENT_RESOLVED, o->actor,
				       reason, &remote);
	free(reason);
	if (r < 0)
		return -1;
	if (r == 0)
		change(rep, "recovered", id, f);
	return 0; /* refused or followed the tracker: nothing to report */
}

/*
 * Is saying nothing about it a healthy verdict? Yes for what a source
 * reports only when it is wrong (a pod, a container, a firing alert); no
 * for a check that was simply not judged this run (no data, too few
 * samples or traces), which must neither fail nor recover.
 */
int scout_silence_is_healthy(const struct incident *inc)
{
	return !strcmp(inc->source, "kubernetes") || !strcmp(inc->source, "docker") ||
	       !strcmp(inc->source, "alertmanager") ||
	       (!strcmp(inc->source, "prometheus") && strstr(inc->fingerprint, "/alert/"));
}

static int ran(const struct strvec *sources, const char *source)
{
	for (size_t i = 0; i < sources->nr; i++)
		if (!strcmp(sources->v[i], source))
			return 1;
	return 0;
}

int scout_decide(struct store *st, struct tracker *t, const struct config *cfg,
		 struct findings *fs, const struct strvec *sources_ran,
		 const struct scout_options *o, struct scout_report *rep)
{
	struct incident_filter open_only = { .all = 0, .state = -1 };
	struct incident *open = NULL;
	size_t nopen = 0;

	rep->incident = xcalloc(fs->nr ? fs->nr : 1, sizeof(*rep->incident));
	rep->changed = xcalloc(fs->nr ? fs->nr : 1, sizeof(*rep->changed));
	for (size_t i = 0; i < fs->nr; i++) {
		const struct finding *f = &fs->v[i];
		/* Alertmanager already waited for the alert's `for:`. */
		int once = !strcmp(f->source, "alertmanager");
		int fail_after = once ? 1 : o->fail_after, recover_after = once ? 1 : o->recover_after;
		int failures, passes, r, created;
		long long id = 0;
		struct scout_change *c;

		r = o->dry_run ? store_check_peek(st, f->fingerprint, &failures, &passes)
			       : store_check_record(st, f->fingerprint, f->source, f->failing,
						    f->summary, &failures, &passes);
		if (r < 0)
			return -1;
		if (o->dry_run) {
			failures = f->failing ? failures + 1 : 0;
			passes = f->failing ? 0 : passes + 1;
		}
		r = store_incident_by_fingerprint(st, f->fingerprint, &id);
		if (r < 0)
			return -1;
		if (f->failing) {
			if (!r || failures >= fail_after) {
				if (o->dry_run) {
					c = change(rep, r ? "would open" : "would update", r ? 0 : id, f);
					if (!r && judge_update(st, f, id, o, c) < 0)
						return -1;
					rep->incident[i] = r ? 0 : id;
					rep->changed[i] = !c->unchanged;
					continue;
				}
				/* Judged before the update adds this run to the timeline. */
				c = change(rep, "updated", id, f);
				if (!r && judge_update(st, f, id, o, c) < 0)
					return -1;
				if (open_or_update(st, t, cfg, f, o, &id, &created) < 0)
					return -1;
				c = &rep->v[rep->nr - 1];
				c->id = id;
				if (created) {
					/* Opened here, or after another scout resolved it meanwhile. */
					c->what = "opened";
					c->unchanged = c->severity_changed = 0;
				}
				rep->incident[i] = id;
				rep->changed[i] = !c->unchanged;
			}
		} else if (!r) {
			rep->incident[i] = id;
			if (passes >= recover_after) {
				if (recover(st, t, cfg, f, f->fingerprint, id, passes, o, rep) < 0)
					return -1;
				if (rep->nr && rep->v[rep->nr - 1].id == id) {
					rep->changed[i] = 1;
					if (!o->dry_run)
						rep->incident[i] = 0;
				}
			}
		}
	}

	/* Open incidents of sources read in full, with nothing said this run. */
	if (store_incident_list(st, &open_only, &open, &nopen) < 0)
		return -1;
	for (size_t j = 0; j < nopen; j++) {
		const struct incident *inc = &open[j];
		int seen = 0, failures, passes;

		if (!ran(sources_ran, inc->source) || !scout_silence_is_healthy(inc))
			continue;
		for (size_t i = 0; i < fs->nr && !seen; i++)
			seen = !strcmp(fs->v[i].fingerprint, inc->fingerprint);
		if (seen)
			continue;
		if ((o->dry_run ? store_check_peek(st, inc->fingerprint, &failures, &passes)
				: store_check_record(st, inc->fingerprint, inc->source, 0, NULL,
						     &failures, &passes)) < 0) {
			incident_list_free(open, nopen);
			return -1;
		}
		if (o->dry_run)
			passes++;
		if (passes >= o->recover_after &&
		    recover(st, t, cfg, NULL, inc->fingerprint, inc->id, passes, o, rep) < 0) {
			incident_list_free(open, nopen);
			return -1;
		}
	}
	incident_list_free(open, nopen);
	return 0;
}
