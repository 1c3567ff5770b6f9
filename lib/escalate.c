/*
 * escalate.c: paging a person through a policy's levels, durably and
 * once (the design is escalate.h's). Each decision, its pages (outbox
 * rows) and the state that remembers it (escalations, escalation_marks)
 * are one store transaction: a crash leaves either all of it or none, and
 * the next run decides again from what was kept.
 */
#include <ctype.h>

#include "escalate.h"
#include "escalate-internal.h"
#include "incident.h"
#include "json.h"
#include "mirror.h"
#include "notify.h"
#include "pagerduty.h"
#include "redact.h"
#include "store-internal.h"
#include "timeutil.h"
#include "tracker.h"

#define DAILY_CAP_DEFAULT 10
#define HUMAN_LABEL "Needs Human Intervention"
#define REASON_MAX 500

/* ---- the policy ---- */

static int plain_name(const char *s, size_t max, const char *extra)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isalnum((unsigned char)s[n]) && !strchr(extra, s[n]))
			return 0;
	return n && n <= max;
}

/* A target of a level: pagerduty[:name], slack, tracker, assignee:who. */
static int target_ok(const char *t)
{
	if (!strcmp(t, "pagerduty") || !strcmp(t, "slack") || !strcmp(t, "tracker"))
		return 1;
	if (!strncmp(t, "pagerduty:", 10))
		return plain_name(t + 10, 64, "-_");
	if (!strncmp(t, "assignee:", 9))
		return plain_name(t + 9, 128, "-_.@:");
	return 0;
}

static int parse_level(struct escalation_level *l, const char *key, const char *value)
{
	struct strvec words = STRVEC_INIT;
	const char *why;
	int ret = 0;

	strvec_init(&l->targets);
	if (split_shell_words(&words, value, &why) < 0) {
		strvec_clear(&words);
		return error("%s = '%s': %s", key, value, why);
	}
	for (size_t i = 0; i < words.nr && !ret; i++) {
		if (!strcmp(words.v[i], "after")) {
			if (i + 2 != words.nr || parse_duration_ms(words.v[i + 1], &l->after_ms) < 0 ||
			    l->after_ms <= 0)
				ret = error("%s = '%s': \"after\" takes one duration, last (after 30m)", key, value);
			break;
		}
		if (!target_ok(words.v[i]))
			ret = error("%s = '%s': '%s' is no target (pagerduty, pagerduty:<name>, slack, "
				    "tracker, assignee:<who>)", key, value, words.v[i]);
		else
			strvec_push(&l->targets, words.v[i]);
	}
	if (!ret && !l->targets.nr)
		ret = error("%s = '%s': a level names at least one target", key, value);
	strvec_clear(&words);
	return ret;
}

/* "STATE:duration" */
static int stale_ok(const char *rule, enum incident_state *state, int64_t *ms)
{
	const char *colon = strrchr(rule, ':');
	char *name;
	int ok;

	if (!colon)
		return 0;
	name = xstrndup(rule, (size_t)(colon - rule));
	ok = !incident_state_parse(name, state) && !parse_duration_ms(colon + 1, ms) && *ms > 0;
	free(name);
	return ok;
}

int escalation_policy_read(const struct config *cfg, const char *name,
			   struct escalation_policy *p)
{
	struct strbuf key = STRBUF_INIT;
	struct strvec levels = STRVEC_INIT;
	const char *v;
	long long repeat = 0;
	int ret = 0;

	memset(p, 0, sizeof(*p));
	strvec_init(&p->stale);
	p->human_timeout_ms = 24LL * 3600 * 1000;
	if (!name)
		name = config_get_string(cfg, "escalate.policy");
	if (name && !plain_name(name, 64, "-_"))
		return error("'%s' is no escalation policy name (letters, digits, - and _)", name);
	if (!name) {
		/* The built-in default: every configured channel at once. */
		p->name = xstrdup("default");
		p->levels = xcalloc(1, sizeof(*p->levels));
		p->levels_nr = 1;
		strvec_init(&p->levels[0].targets);
		if (pagerduty_configured(cfg))
			strvec_push(&p->levels[0].targets, "pagerduty");
		if (notify_configured(cfg))
			strvec_push(&p->levels[0].targets, "slack");
		strvec_push(&p->levels[0].targets, "tracker");
		config_get_all(cfg, "escalate.stale", &p->stale);
		goto check_stale;
	}
	p->name = xstrdup(name);
	config_get_all(cfg, config_key_of(&key, "escalation", name, "level"), &levels);
	if (!levels.nr) {
		ret = error("escalation \"%s\" has no level: set %s (pagerduty slack after 15m)", name,
			    key.buf);
		goto out;
	}
	p->levels = xcalloc(levels.nr, sizeof(*p->levels));
	for (size_t i = 0; i < levels.nr && !ret; i++, p->levels_nr++)
		ret = parse_level(&p->levels[i], key.buf, levels.v[i]);
	if (ret)
		goto out;
	if (config_get_int(cfg, config_key_of(&key, "escalation", name, "repeat"), &repeat) < 0 ||
	    config_get_duration_ms(cfg, config_key_of(&key, "escalation", name, "human-timeout"),
				   &p->human_timeout_ms) < 0) {
		ret = -1;
		goto out;
	}
	if (repeat < 0 || repeat > 10) {
		ret = error("escalation.%s.repeat is %lld; it takes 0 to 10", name, repeat);
		goto out;
	}
	p->repeat = (int)repeat;
	v = config_get_string(cfg, config_key_of(&key, "escalation", name, "on-timeout"));
	if (v && strcmp(v, "repage") && strcmp(v, "abandon")) {
		ret = error("escalation.%s.on-timeout is '%s'; it takes repage or abandon", name, v);
		goto out;
	}
	p->abandon = v && !strcmp(v, "abandon");
	config_get_all(cfg, config_key_of(&key, "escalation", name, "stale"), &p->stale);
	if (!p->stale.nr)
		config_get_all(cfg, "escalate.stale", &p->stale);
check_stale:
	for (size_t i = 0; i < p->stale.nr && !ret; i++) {
		enum incident_state s;
		int64_t ms;
		if (!stale_ok(p->stale.v[i], &s, &ms))
			ret = error("stale rule '%s' is not <STATE>:<duration> (ANALYSIS_IN_PROGRESS:2h)",
				    p->stale.v[i]);
	}
	if (!ret && p->human_timeout_ms <= 0)
		ret = error("escalation.%s.human-timeout must be positive", p->name);
out:
	strvec_clear(&levels);
	strbuf_release(&key);
	if (ret)
		escalation_policy_release(p);
	return ret;
}

void escalation_policy_release(struct escalation_policy *p)
{
	free(p->name);
	for (size_t i = 0; i < p->levels_nr; i++)
		strvec_clear(&p->levels[i].targets);
	free(p->levels);
	strvec_clear(&p->stale);
	memset(p, 0, sizeof(*p));
}

/* ---- the state kept ---- */

struct esc {
	int exists;
	char *policy, *reason, *acked_by, *closed_how;
	int level, round, day_pages;
	time_t started, paged, acked, closed;
	char day[16];
};

static void esc_release(struct esc *e)
{
	free(e->policy);
	free(e->reason);
	free(e->acked_by);
	free(e->closed_how);
	memset(e, 0, sizeof(*e));
}

static time_t col_time(sqlite3_stmt *q, int i)
{
	const char *s = (const char *)sqlite3_column_text(q, i);
	time_t t = 0;

	if (s)
		parse_iso8601(s, &t);
	return t;
}

static char *col_str(sqlite3_stmt *q, int i)
{
	const char *s = (const char *)sqlite3_column_text(q, i);
	return s ? xstrdup(s) : NULL;
}

/* 0 (e->exists says whether there is one), or -1. */
static int esc_read(struct store *st, long long id, struct esc *e)
{
	sqlite3_stmt *q;
	int r;

	memset(e, 0, sizeof(*e));
	if (store_prepare(st, &q, "SELECT policy, level, round, reason, started_at, paged_at, "
			  "acked_by, acked_at, closed_at, closed_how, day, day_pages "
			  "FROM escalations WHERE incident_id = ?") < 0)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW) {
		const char *day = (const char *)sqlite3_column_text(q, 10);
		e->exists = 1;
		e->policy = col_str(q, 0);
		e->level = sqlite3_column_int(q, 1);
		e->round = sqlite3_column_int(q, 2);
		e->reason = col_str(q, 3);
		e->started = col_time(q, 4);
		e->paged = col_time(q, 5);
		e->acked_by = col_str(q, 6);
		e->acked = col_time(q, 7);
		e->closed = col_time(q, 8);
		e->closed_how = col_str(q, 9);
		snprintf(e->day, sizeof(e->day), "%s", day ? day : "");
		e->day_pages = sqlite3_column_int(q, 11);
		r = 0;
	} else {
		r = r == SQLITE_DONE ? 0 : store_db_error(st, "cannot read an escalation");
	}
	store_done(st, q);
	return r;
}

static void bind_time(sqlite3_stmt *q, int i, time_t t, char *buf, size_t n)
{
	if (!t) {
		sqlite3_bind_null(q, i);
		return;
	}
	format_iso8601(buf, n, t);
	sqlite3_bind_text(q, i, buf, -1, SQLITE_TRANSIENT);
}

static int esc_write(struct store *st, long long id, const struct esc *e)
{
	sqlite3_stmt *q;
	char b[5][32];
	int r;

	if (store_prepare(st, &q, "INSERT OR REPLACE INTO escalations (incident_id, policy, level, "
			  "round, reason, started_at, paged_at, acked_by, acked_at, closed_at, "
			  "closed_how, day, day_pages) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)") < 0)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 2, e->policy, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, e->level);
	sqlite3_bind_int(q, 4, e->round);
	sqlite3_bind_text(q, 5, e->reason ? e->reason : "", -1, SQLITE_STATIC);
	bind_time(q, 6, e->started, b[0], sizeof(b[0]));
	bind_time(q, 7, e->paged, b[1], sizeof(b[1]));
	if (e->acked_by)
		sqlite3_bind_text(q, 8, e->acked_by, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 8);
	bind_time(q, 9, e->acked, b[2], sizeof(b[2]));
	bind_time(q, 10, e->closed, b[3], sizeof(b[3]));
	if (e->closed_how)
		sqlite3_bind_text(q, 11, e->closed_how, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 11);
	sqlite3_bind_text(q, 12, e->day, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 13, e->day_pages);
	r = sqlite3_step(q) == SQLITE_DONE ? 0 : store_db_error(st, "cannot keep an escalation");
	store_done(st, q);
	return r;
}

/* Was mark set for incident id? 1, 0, -1. */
int escalate_mark_has(struct store *st, long long id, const char *mark)
{
	sqlite3_stmt *q;
	int r;

	if (store_prepare(st, &q, "SELECT 1 FROM escalation_marks WHERE incident_id = ? AND mark = ?") < 0)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 2, mark, -1, SQLITE_STATIC);
	r = sqlite3_step(q);
	r = r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : store_db_error(st, "cannot read a mark");
	store_done(st, q);
	return r;
}

/* The incident that holds mark: its id, 0 none, -1. */
long long escalate_mark_owner(struct store *st, const char *mark)
{
	sqlite3_stmt *q;
	long long id;
	int r;

	if (store_prepare(st, &q, "SELECT incident_id FROM escalation_marks WHERE mark = ? LIMIT 1") < 0)
		return -1;
	sqlite3_bind_text(q, 1, mark, -1, SQLITE_STATIC);
	r = sqlite3_step(q);
	id = r == SQLITE_ROW ? sqlite3_column_int64(q, 0) :
	     r == SQLITE_DONE ? 0 : store_db_error(st, "cannot read a mark");
	store_done(st, q);
	return id;
}

int escalate_mark_set(struct store *st, long long id, const char *mark, time_t now)
{
	sqlite3_stmt *q;
	char at[32];
	int r;

	if (store_prepare(st, &q, "INSERT OR IGNORE INTO escalation_marks (incident_id, mark, at) "
			  "VALUES (?, ?, ?)") < 0)
		return -1;
	format_iso8601(at, sizeof(at), now);
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 2, mark, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, at, -1, SQLITE_STATIC);
	r = sqlite3_step(q) == SQLITE_DONE ? 0 : store_db_error(st, "cannot keep a mark");
	store_done(st, q);
	return r;
}

/* ---- paging ---- */

static time_t now_of(const struct escalate_options *o)
{
	return o && o->now ? o->now : sre_now();
}

static void day_of(char *buf, size_t n, time_t t)
{
	char iso[32];

	format_iso8601(iso, sizeof(iso), t);
	snprintf(buf, n, "%.10s", iso);
}

static long long daily_cap(const struct config *cfg)
{
	long long cap = DAILY_CAP_DEFAULT;

	if (config_get_int(cfg, "escalate.daily-cap", &cap) < 0 || cap < 1)
		cap = DAILY_CAP_DEFAULT;
	return cap;
}

/* An event in the incident's timeline: what was paged, or what happened to the escalation. */
static int timeline(const struct engine_context *ctx, long long id, const char *what,
		    const struct escalation_policy *p, int level, const char *reason)
{
	cJSON *b = cJSON_CreateObject(), *t;
	char *text;
	int r;

	cJSON_AddStringToObject(b, "what", what);
	cJSON_AddStringToObject(b, "policy", p ? p->name : "-");
	if (p && level >= 0 && (size_t)level < p->levels_nr) {
		cJSON_AddNumberToObject(b, "level", level + 1);
		t = cJSON_AddArrayToObject(b, "targets");
		for (size_t i = 0; i < p->levels[level].targets.nr; i++)
			cJSON_AddItemToArray(t, cJSON_CreateString(p->levels[level].targets.v[i]));
	}
	if (reason)
		cJSON_AddStringToObject(b, "reason", reason);
	text = cJSON_PrintUnformatted(b);
	r = store_event_append(ctx->store, id, "escalation", ctx->actor ? ctx->actor : "sre", text);
	free(text);
	cJSON_Delete(b);
	return r < 0 ? -1 : 0;
}

/* Who a level puts on call, for the people reading Slack: its assignees and PagerDuty's rotations. */
static void oncall(struct strbuf *sb, const struct escalation_level *l)
{
	size_t n = 0;

	strbuf_addstr(sb, "on call: ");
	for (size_t i = 0; i < l->targets.nr; i++) {
		const char *t = l->targets.v[i];
		if (!strncmp(t, "assignee:", 9))
			strbuf_addf(sb, "%s%s", n++ ? ", " : "", t + 9);
		else if (!strcmp(t, "pagerduty"))
			strbuf_addf(sb, "%sPagerDuty's on-call", n++ ? ", " : "");
		else if (!strncmp(t, "pagerduty:", 10))
			strbuf_addf(sb, "%sPagerDuty's on-call (%s)", n++ ? ", " : "", t + 10);
	}
	if (!n)
		strbuf_addstr(sb, "whoever reads this");
}

/*
 * Queue the pages of level of p for inc (inside the caller's
 * transaction), or with o->dry_run say them. e counts the day's pages.
 * 0, 1 over the daily cap (nothing queued, said), -1.
 */
static int page(const struct engine_context *ctx, const struct incident *inc,
		const struct escalation_policy *p, int level, const char *reason,
		struct esc *e, const struct escalate_options *o, struct strbuf *report)
{
	const struct escalation_level *l = &p->levels[level];
	struct strbuf detail = STRBUF_INIT, key = STRBUF_INIT, slack = STRBUF_INIT;
	char day[16];
	time_t now = now_of(o);
	int ret = 0;

	day_of(day, sizeof(day), now);
	if (strcmp(e->day, day)) {
		snprintf(e->day, sizeof(e->day), "%s", day);
		e->day_pages = 0;
	}
	if (e->day_pages >= daily_cap(ctx->cfg)) {
		strbuf_addf(report, "incident %lld: not paged: %d pages today already (escalate.daily-cap)\n",
			    inc->id, e->day_pages);
		return 1;
	}
	strbuf_addf(&detail, "level %d of %s (", level + 1, p->name);
	for (size_t i = 0; i < l->targets.nr; i++)
		strbuf_addf(&detail, "%s%s", i ? " " : "", l->targets.v[i]);
	strbuf_addf(&detail, "): %s", reason);
	strbuf_addf(report, "incident %lld: %s %s\n", inc->id, o->dry_run ? "would page" : "paged",
		    detail.buf);
	oncall(&slack, l);
	strbuf_addf(&slack, " (level %d of %s): %s", level + 1, p->name, reason);
	for (size_t i = 0; i < l->targets.nr && !ret; i++) {
		const char *t = l->targets.v[i];

		if (!strncmp(t, "pagerduty", 9)) {
			struct pagerduty_details d = { .reason = reason, .ticket_url = inc->remote_url };
			if (t[9] == ':')
				d.routing_key = config_key_of(&key, "pagerduty", t + 10, "routing-key");
			if (o->dry_run) {
				struct strbuf dk = STRBUF_INIT;
				pagerduty_dedup_key(&dk, inc->id);
				strbuf_addf(report, "  pagerduty: trigger dedup_key %s, routing key %s\n", dk.buf,
					    d.routing_key ? d.routing_key : "pagerduty.routing-key");
				strbuf_release(&dk);
			} else {
				ret = pagerduty_queue(ctx->store, inc, "trigger", &d);
			}
		} else if (!strcmp(t, "slack")) {
			if (o->dry_run)
				strbuf_addf(report, "  slack: \"%s\"\n", slack.buf);
			else if (notify_configured(ctx->cfg))
				ret = notify_queue_detail(ctx->store, inc, "escalated", slack.buf);
		} else if (ctx->tracker) {
			/* tracker, assignee:who: the ticket says it needs a person, and who. */
			const char *name = ctx->tracker->ops->name;
			const char *who = !strncmp(t, "assignee:", 9) ? t + 9 : NULL;
			struct strbuf c = STRBUF_INIT;
			char k[37];

			if (who)
				strbuf_addf(&c, "Escalated to %s: %s", t + 9, reason);
			else
				strbuf_addf(&c, "Escalated (%s, level %d): %s", p->name, level + 1, reason);
			if (o->dry_run) {
				if (who)
					strbuf_addf(report, "  %s: assign %s\n", name, who);
				strbuf_addf(report, "  %s: label \"%s\", comment \"%s\"\n", name, HUMAN_LABEL, c.buf);
			} else {
				mirror_new_key(k);
				ret = mirror_queue_label(ctx->store, name, inc->id, HUMAN_LABEL);
				if (!ret && who)
					ret = mirror_queue_assign(ctx->store, name, inc->id, who);
				if (!ret)
					ret = mirror_queue_comment(ctx->store, name, inc->id, k,
								   ctx->actor ? ctx->actor : "sre", c.buf);
			}
			strbuf_release(&c);
		}
	}
	if (!ret && !o->dry_run)
		ret = timeline(ctx, inc->id, "paged", p, level, reason);
	e->day_pages++;
	e->level = level;
	e->paged = now;
	strbuf_release(&detail);
	strbuf_release(&key);
	strbuf_release(&slack);
	return ret < 0 ? -1 : 0;
}

/* The policy an escalation follows: its own, or when that is gone from the configuration, the default. */
static int policy_of(const struct engine_context *ctx, const struct esc *e,
		     const struct escalate_options *o, struct escalation_policy *p)
{
	if (e && e->exists && e->policy && strcmp(e->policy, "default")) {
		struct strbuf key = STRBUF_INIT;
		int gone = !config_get_string(ctx->cfg, config_key_of(&key, "escalation", e->policy, "level"));

		strbuf_release(&key);
		/* A policy taken out of the configuration: said, and the current one followed. */
		if (gone)
			warning("the policy \"%s\" of an escalation under way is no longer configured: "
				"following %s", e->policy, o && o->policy ? o->policy : "escalate.policy");
		else if (!escalation_policy_read(ctx->cfg, e->policy, p))
			return 0;
		/* One that no longer parses is said by the reader; the pages go on, by the current policy. */
	}
	return escalation_policy_read(ctx->cfg, o ? o->policy : NULL, p);
}

/* Start an escalation of inc (in a transaction): its row and the first level's pages. */
static int start(const struct engine_context *ctx, const struct incident *inc,
		 const struct escalation_policy *p, const char *reason,
		 const struct escalate_options *o, struct strbuf *report)
{
	struct esc e = { 0 };
	struct strbuf why = STRBUF_INIT;
	int r;

	/* A reason may quote a log or hold what a person pasted: no secret is kept or sent. */
	strbuf_add(&why, reason, strnlen(reason, REASON_MAX));
	redact_strbuf(&why);
	e.exists = 1;
	e.policy = xstrdup(p->name);
	e.reason = strbuf_detach(&why, NULL);
	e.started = now_of(o);
	if (o->dry_run) {
		r = page(ctx, inc, p, 0, e.reason, &e, o, report);
		for (size_t i = 1; i < p->levels_nr; i++)
			strbuf_addf(report, "  then level %zu after %llds unacknowledged\n", i + 1,
				    (long long)(p->levels[i - 1].after_ms / 1000));
		strbuf_addf(report, "  after %llds unacknowledged: %s\n",
			    (long long)(p->human_timeout_ms / 1000), p->abandon ? "abandoned" : "paged again");
		esc_release(&e);
		return r < 0 ? -1 : 0;
	}
	if (store_begin(ctx->store) < 0) {
		esc_release(&e);
		return -1;
	}
	r = page(ctx, inc, p, 0, e.reason, &e, o, report);
	if (r >= 0)
		r = esc_write(ctx->store, inc->id, &e);
	if (r < 0)
		store_rollback(ctx->store);
	else
		r = store_commit(ctx->store);
	esc_release(&e);
	return r < 0 ? -1 : 0;
}

int escalate_incident(const struct engine_context *ctx, long long id,
		      const struct escalate_options *o, struct strbuf *report)
{
	struct incident inc;
	struct escalation_policy p;
	struct esc e;
	struct strbuf why = STRBUF_INIT;
	int r;

	if ((r = store_incident_get(ctx->store, id, &inc)) != 0)
		return r > 0 ? (error("no incident %lld", id), 1) : -1;
	if (inc.state == STATE_INCIDENT_RESOLVED) {
		incident_release(&inc);
		return error("incident %lld is resolved: nothing to escalate", id), 1;
	}
	/* A policy that does not parse is said first, whatever else holds. */
	if (escalation_policy_read(ctx->cfg, o->policy, &p) < 0) {
		incident_release(&inc);
		return -1;
	}
	r = esc_read(ctx->store, id, &e);
	if (!r && e.exists && !e.closed && !e.acked) {
		char at[32];
		format_iso8601(at, sizeof(at), e.paged);
		strbuf_addf(report, "incident %lld: escalated already (%s, level %d paged %s); "
			    "sre escalate --auto climbs it\n", id, e.policy, e.level + 1, at);
		goto out;
	}
	if (r < 0)
		goto out;
	/* Redacted once, for the move's event and the pages alike. */
	strbuf_addstr(&why, o->reason && *o->reason ? o->reason : "escalated by hand");
	redact_strbuf(&why);
	if (!o->dry_run && inc.state != STATE_INCIDENT_REQUIRES_HUMAN) {
		enum incident_state remote = inc.state;
		r = mirror_incident_transition(ctx->store, ctx->tracker, ctx->cfg, id, (int)inc.state,
					       STATE_INCIDENT_REQUIRES_HUMAN, ctx->actor, why.buf, &remote);
		if (r < 0 && r != STORE_REFUSED)
			goto out;
		incident_release(&inc);
		if ((r = store_incident_get(ctx->store, id, &inc)) != 0) {
			r = -1;
			goto out;
		}
	}
	r = start(ctx, &inc, &p, why.buf, o, report);
out:
	esc_release(&e);
	escalation_policy_release(&p);
	incident_release(&inc);
	strbuf_release(&why);
	return r < 0 ? -1 : r;
}

/* When inc last entered its state (the latest transition into it), else its opening. */
static time_t entered(struct store *st, const struct incident *inc, char **reason)
{
	struct event *ev = NULL;
	size_t nr = 0;
	time_t at = inc->opened_at;

	if (reason)
		*reason = NULL;
	if (store_event_list(st, inc->id, &ev, &nr) < 0)
		return at;
	for (size_t i = nr; i-- > 0;) {
		cJSON *b;
		if (strcmp(ev[i].kind, "transition"))
			continue;
		b = cJSON_Parse(ev[i].body);
		if (json_string(b, "to") && !strcmp(json_string(b, "to"), incident_state_name(inc->state))) {
			at = ev[i].at;
			if (reason && json_string(b, "reason"))
				*reason = xstrdup(json_string(b, "reason"));
			cJSON_Delete(b);
			break;
		}
		cJSON_Delete(b);
	}
	event_list_free(ev, nr);
	return at;
}

/* One step of an escalation under way (not acknowledged, not closed): climb, repage, abandon. */
static int advance(const struct engine_context *ctx, const struct incident *inc, struct esc *e,
		   const struct escalate_options *o, struct strbuf *report)
{
	struct escalation_policy p;
	time_t now = now_of(o);
	int r = 0, next = -1, round = e->round;
	char mark[64];

	if (policy_of(ctx, e, o, &p) < 0)
		return -1;
	if (e->level >= (int)p.levels_nr)
		e->level = (int)p.levels_nr - 1;
	if (p.levels[e->level].after_ms > 0 &&
	    (int64_t)(now - e->paged) * 1000 >= p.levels[e->level].after_ms) {
		if (e->level + 1 < (int)p.levels_nr)
			next = e->level + 1;
		else if (round < p.repeat)
			next = 0, round++;
	}
	snprintf(mark, sizeof(mark), "timeout:%lld", (long long)e->started);
	/* Past human-timeout it is the policy's end, whatever level was next. */
	if ((int64_t)(now - e->started) * 1000 >= p.human_timeout_ms) {
		r = escalate_mark_has(ctx->store, inc->id, mark);
		if (r < 0)
			goto out;
		if (r) {
			r = 0;
			goto out;
		}
		if (o->dry_run) {
			strbuf_addf(report, "incident %lld: nobody acknowledged it: would be %s\n", inc->id,
				    p.abandon ? "abandoned" : "paged again");
			goto out;
		}
		if (store_begin(ctx->store) < 0) {
			r = -1;
			goto out;
		}
		r = escalate_mark_set(ctx->store, inc->id, mark, now);
		if (!r && p.abandon) {
			e->closed = now;
			free(e->closed_how);
			e->closed_how = xstrdup("abandoned");
			strbuf_addf(report, "incident %lld: abandoned: nobody acknowledged it\n", inc->id);
			r = timeline(ctx, inc->id, "abandoned", &p, -1, "nobody acknowledged it");
			if (!r && notify_configured(ctx->cfg))
				r = notify_queue_detail(ctx->store, inc, "escalated",
							"abandoned: nobody acknowledged it");
		} else if (!r) {
			e->started = now;
			e->round = 0;
			r = page(ctx, inc, &p, 0, "nobody acknowledged it in time: paged again", e, o, report);
		}
		if (r >= 0)
			r = esc_write(ctx->store, inc->id, e);
		if (r < 0)
			store_rollback(ctx->store);
		else
			r = store_commit(ctx->store);
		goto out;
	}
	if (next < 0)
		goto out;
	if (o->dry_run) {
		r = page(ctx, inc, &p, next, e->reason, e, o, report);
		goto out;
	}
	if (store_begin(ctx->store) < 0) {
		r = -1;
		goto out;
	}
	e->round = round;
	r = page(ctx, inc, &p, next, e->reason, e, o, report);
	if (r >= 0)
		r = esc_write(ctx->store, inc->id, e);
	if (r < 0)
		store_rollback(ctx->store);
	else
		r = store_commit(ctx->store);
out:
	escalation_policy_release(&p);
	return r < 0 ? -1 : 0;
}

/* A stale state pages once per entry into it. */
static int stale(const struct engine_context *ctx, const struct incident *inc, struct esc *e,
		 const struct escalate_options *o, struct strbuf *report)
{
	struct escalation_policy p;
	time_t now = now_of(o), since;
	int r = 0;

	if (policy_of(ctx, e, o, &p) < 0)
		return -1;
	since = entered(ctx->store, inc, NULL);
	for (size_t i = 0; i < p.stale.nr && !r; i++) {
		enum incident_state s;
		int64_t ms;
		char mark[96], reason[160];

		if (!stale_ok(p.stale.v[i], &s, &ms) || s != inc->state ||
		    (int64_t)(now - since) * 1000 < ms)
			continue;
		snprintf(mark, sizeof(mark), "stale:%s:%lld", incident_state_name(s), (long long)since);
		r = escalate_mark_has(ctx->store, inc->id, mark);
		if (r) {
			r = r < 0 ? -1 : 0;
			break;
		}
		snprintf(reason, sizeof(reason), "%s for more than %s", incident_state_name(s),
			 strchr(p.stale.v[i], ':') + 1);
		if (o->dry_run) {
			strbuf_addf(report, "incident %lld: stale: %s\n", inc->id, reason);
			r = start(ctx, inc, &p, reason, o, report);
			break;
		}
		/* The mark first, in its own transaction, then the page: a crash between pages nothing twice. */
		if (store_begin(ctx->store) < 0 || escalate_mark_set(ctx->store, inc->id, mark, now) < 0 ||
		    store_commit(ctx->store) < 0) {
			r = -1;
			break;
		}
		if (e->exists && !e->closed && !e->acked)
			strbuf_addf(report, "incident %lld: stale (%s), escalated already\n", inc->id, reason);
		else
			r = start(ctx, inc, &p, reason, o, report);
		break;
	}
	escalation_policy_release(&p);
	return r;
}

/* A resolved incident whose escalation is open: PagerDuty's incident is resolved too. */
static int resolve_open(const struct engine_context *ctx, const struct escalate_options *o,
			struct strbuf *report)
{
	sqlite3_stmt *q;
	long long *ids = NULL;
	size_t nr = 0, alloc = 0;
	int r = 0;

	if (store_prepare(ctx->store, &q, "SELECT e.incident_id FROM escalations e JOIN incidents i "
			  "ON i.id = e.incident_id WHERE e.closed_at IS NULL AND i.state = ?") < 0)
		return -1;
	sqlite3_bind_text(q, 1, incident_state_name(STATE_INCIDENT_RESOLVED), -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		ALLOC_GROW(ids, nr + 1, alloc);
		ids[nr++] = sqlite3_column_int64(q, 0);
	}
	store_done(ctx->store, q);
	for (size_t i = 0; i < nr && !r; i++) {
		struct incident inc;
		struct esc e;

		if (store_incident_get(ctx->store, ids[i], &inc))
			continue;
		if (esc_read(ctx->store, ids[i], &e) < 0) {
			incident_release(&inc);
			r = -1;
			break;
		}
		strbuf_addf(report, "incident %lld: resolved: %s PagerDuty's incident\n", ids[i],
			    o->dry_run ? "would resolve" : "resolving");
		if (!o->dry_run) {
			e.closed = now_of(o);
			free(e.closed_how);
			e.closed_how = xstrdup("resolved");
			if (store_begin(ctx->store) < 0)
				r = -1;
			else if ((pagerduty_configured(ctx->cfg) &&
				  pagerduty_queue(ctx->store, &inc, "resolve", NULL) < 0) ||
				 esc_write(ctx->store, ids[i], &e) < 0)
				store_rollback(ctx->store), r = -1;
			else
				r = store_commit(ctx->store) < 0 ? -1 : 0;
		}
		esc_release(&e);
		incident_release(&inc);
	}
	free(ids);
	return r;
}

/*
 * Opened while sre chaos had a fault in place on its service (a "chaos"
 * event): an experiment's, which pages nobody unless chaos.page says so.
 * 1, 0, -1.
 */
static int chaos_run(const struct engine_context *ctx, long long id)
{
	int page = 0;

	if (config_get_bool(ctx->cfg, "chaos.page", &page) < 0)
		return -1;
	return page ? 0 : store_incident_is_chaos(ctx->store, id);
}

int escalate_auto(const struct engine_context *ctx, const struct escalate_options *o,
		  struct strbuf *report)
{
	struct incident_filter f = { .state = -1 };
	struct incident *list = NULL;
	size_t nr = 0;
	int ret = 0, r;

	if (resolve_open(ctx, o, report) < 0)
		return -1;
	if (store_incident_list(ctx->store, &f, &list, &nr) < 0)
		return -1;
	for (size_t i = 0; i < nr && !ret; i++) {
		const struct incident *inc = &list[i];
		struct esc e;

		if (inc->state == STATE_INCIDENT_RESOLVED)
			continue;
		if ((r = chaos_run(ctx, inc->id)) != 0) {
			if (r < 0) {
				ret = -1;
				break;
			}
			continue;
		}
		if (esc_read(ctx->store, inc->id, &e) < 0) {
			ret = -1;
			break;
		}
		if (e.exists && !e.closed && !e.acked) {
			ret = advance(ctx, inc, &e, o, report);
		} else if (inc->state == STATE_INCIDENT_REQUIRES_HUMAN) {
			/* diagnose, fix or a review timeout handed it over: the same path. */
			char *why = NULL;
			time_t since = entered(ctx->store, inc, &why);
			if (!e.exists || (e.closed && since > e.closed)) {
				struct escalation_policy p;
				ret = escalation_policy_read(ctx->cfg, o->policy, &p);
				if (!ret)
					ret = start(ctx, inc, &p, why ? why : "it needs a person", o, report);
				escalation_policy_release(&p);
			}
			free(why);
		} else {
			ret = stale(ctx, inc, &e, o, report);
		}
		esc_release(&e);
	}
	incident_list_free(list, nr);
	return ret;
}

/* Record the acknowledgement; queue PagerDuty's when queue_pd. */
static int ack(const struct engine_context *ctx, long long id, const char *by, int queue_pd,
	       const struct escalate_options *o, struct strbuf *report)
{
	struct incident inc;
	struct esc e;
	int r;

	if ((r = store_incident_get(ctx->store, id, &inc)) != 0)
		return r > 0 ? (error("no incident %lld", id), 1) : -1;
	if (esc_read(ctx->store, id, &e) < 0) {
		incident_release(&inc);
		return -1;
	}
	if (!e.exists || e.closed || e.acked) {
		int already = e.exists && !e.closed;
		strbuf_addf(report, "incident %lld: %s\n", id, already ? "acknowledged already" :
			    "no escalation under way to acknowledge");
		esc_release(&e);
		incident_release(&inc);
		return already ? 0 : 1;
	}
	e.acked = now_of(o);
	e.acked_by = xstrndup(by && *by ? by : "someone", 128);
	strbuf_addf(report, "incident %lld: acknowledged by %s; the climb stops\n", id, e.acked_by);
	if (o->dry_run) {
		esc_release(&e);
		incident_release(&inc);
		return 0;
	}
	r = store_begin(ctx->store);
	if (!r && queue_pd && pagerduty_configured(ctx->cfg))
		r = pagerduty_queue(ctx->store, &inc, "acknowledge", NULL);
	if (!r)
		r = esc_write(ctx->store, id, &e);
	if (!r)
		r = timeline(ctx, id, "acknowledged", NULL, -1, e.acked_by);
	if (r < 0)
		store_rollback(ctx->store);
	else
		r = store_commit(ctx->store);
	esc_release(&e);
	incident_release(&inc);
	return r < 0 ? -1 : 0;
}

int escalate_ack(const struct engine_context *ctx, long long id, const char *by,
		 const struct escalate_options *o, struct strbuf *report)
{
	return ack(ctx, id, by, 1, o, report);
}

int escalate_webhook(const struct engine_context *ctx, const char *body, size_t len,
		     struct strbuf *report)
{
	struct pagerduty_webhook_event ev = { 0 };
	struct strbuf why = STRBUF_INIT;
	struct escalate_options o = { 0 };
	long long id = 0;
	int r = 1;

	if (pagerduty_webhook_read(body, len, &ev, &why) < 0) {
		error("not a PagerDuty webhook v3 event: %s", why.buf);
		strbuf_release(&why);
		return -1;
	}
	/*
	 * Ours only: this host's dedup_key, as pagerduty_dedup_key() makes it.
	 * PagerDuty leaves it out of some events (acknowledged, resolved): then
	 * its own incident id, learnt from an earlier event that had both.
	 */
	if (!ev.dedup_key || pagerduty_dedup_key_id(ev.dedup_key, &id) < 0)
		id = 0;
	if (ev.pd_id && plain_name(ev.pd_id, 64, "")) {
		char mark[80];
		snprintf(mark, sizeof(mark), "pd:%s", ev.pd_id);
		if (id && !escalate_mark_has(ctx->store, id, mark))
			escalate_mark_set(ctx->store, id, mark, sre_now());
		else if (!id)
			id = escalate_mark_owner(ctx->store, mark);
	}
	if (id < 0) {
		r = -1;
	} else if (!id) {
		strbuf_addf(report, "ignored: %s is not an incident of this host\n",
			    ev.dedup_key ? "its dedup_key" : "an event without a dedup_key");
	} else if (!strcmp(ev.type, "incident.acknowledged")) {
		r = ack(ctx, id, ev.by ? ev.by : "PagerDuty", 0, &o, report);
	} else if (!strcmp(ev.type, "incident.resolved")) {
		r = timeline(ctx, id, "resolved in PagerDuty", NULL, -1, ev.by ? ev.by : "PagerDuty");
		strbuf_addf(report, "incident %lld: resolved in PagerDuty; sre's incident is left as it is\n", id);
	} else {
		strbuf_addf(report, "incident %lld: %.64s: nothing to do\n", id, ev.type);
	}
	pagerduty_webhook_event_release(&ev);
	strbuf_release(&why);
	return r;
}

cJSON *escalate_status_json(const struct engine_context *ctx, long long id)
{
	cJSON *arr = cJSON_CreateArray();
	sqlite3_stmt *q;
	int r;

	if (store_prepare(ctx->store, &q, "SELECT incident_id FROM escalations WHERE "
			  "(? = 0 AND closed_at IS NULL) OR incident_id = ? ORDER BY incident_id") < 0) {
		cJSON_Delete(arr);
		return NULL;
	}
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, id);
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		long long iid = sqlite3_column_int64(q, 0);
		struct escalation_policy p;
		struct esc e;
		cJSON *o;
		char at[32];

		if (esc_read(ctx->store, iid, &e) < 0 || !e.exists)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "incident", (double)iid);
		cJSON_AddStringToObject(o, "policy", e.policy);
		cJSON_AddNumberToObject(o, "level", e.level + 1);
		cJSON_AddNumberToObject(o, "round", e.round);
		cJSON_AddStringToObject(o, "reason", e.reason ? e.reason : "");
		format_iso8601(at, sizeof(at), e.started);
		cJSON_AddStringToObject(o, "started_at", at);
		format_iso8601(at, sizeof(at), e.paged);
		cJSON_AddStringToObject(o, "paged_at", at);
		json_add_string_or_null(o, "acked_by", e.acked_by);
		if (e.acked)
			format_iso8601(at, sizeof(at), e.acked);
		json_add_string_or_null(o, "acked_at", e.acked ? at : NULL);
		json_add_string_or_null(o, "closed", e.closed_how);
		cJSON_AddNumberToObject(o, "pages_today", e.day_pages);
		/* What is due next, by the policy as configured now. */
		if (!e.closed && !e.acked && !policy_of(ctx, &e, NULL, &p)) {
			int lvl = e.level < (int)p.levels_nr ? e.level : (int)p.levels_nr - 1;
			time_t due = e.started + (time_t)(p.human_timeout_ms / 1000);
			const char *what = p.abandon ? "abandon" : "page again";
			if (p.levels[lvl].after_ms > 0 &&
			    (lvl + 1 < (int)p.levels_nr || e.round < p.repeat)) {
				due = e.paged + (time_t)(p.levels[lvl].after_ms / 1000);
				what = "next level";
			}
			format_iso8601(at, sizeof(at), due);
			cJSON_AddStringToObject(o, "next", what);
			cJSON_AddStringToObject(o, "next_at", at);
			escalation_policy_release(&p);
		}
		cJSON_AddItemToArray(arr, o);
		esc_release(&e);
	}
	store_done(ctx->store, q);
	return arr;
}
