/*
 * mirror.c: the outbox delivered to the tracker, the optimistic check
 * before a move, and the import of tickets; see mirror.h for the rules.
 *
 * Below it: tracker.h (the tracker), notify.c (a change's notification,
 * queued in the same transaction) and outbox.c (keys and queueing, which
 * notify.c shares); none of them calls back into this file.
 */
#include <ctype.h>

#include "json.h"
#include "mirror.h"
#include "notify.h"
#include "outbox.h"
#include "redact.h"
#include "timeutil.h"

enum {
	DELIVERED,
	WAIT,        /* needs an earlier write first (no remote issue yet) */
};

void mirror_new_key(char out[37])
{
	outbox_new_key(out);
}

static void add_now(cJSON *o)
{
	char at[32];

	format_iso8601(at, sizeof(at), sre_now());
	cJSON_AddStringToObject(o, "at", at);
}

int mirror_queue_create(struct store *st, const char *target, long long id)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddNumberToObject(p, "id", (double)id);
	return outbox_queue(st, id, NULL, target, "create", p);
}

int mirror_queue_move(struct store *st, const char *target, long long id,
		      const char *key, enum incident_state from, enum incident_state to,
		      const char *actor, const char *reason)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "from", incident_state_name(from));
	cJSON_AddStringToObject(p, "to", incident_state_name(to));
	if (reason)
		cJSON_AddStringToObject(p, "reason", reason);
	cJSON_AddStringToObject(p, "actor", actor);
	add_now(p);
	return outbox_queue(st, id, key, target, "move", p);
}

int mirror_queue_comment(struct store *st, const char *target, long long id,
			 const char *key, const char *actor, const char *text)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "text", text);
	cJSON_AddStringToObject(p, "actor", actor);
	add_now(p);
	return outbox_queue(st, id, key, target, "comment", p);
}

int mirror_queue_label(struct store *st, const char *target, long long id, const char *add)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "add", add);
	return outbox_queue(st, id, NULL, target, "label", p);
}

int mirror_queue_assign(struct store *st, const char *target, long long id, const char *who)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "who", who);
	return outbox_queue(st, id, NULL, target, "assign", p);
}

int mirror_queue_architecture(struct store *st, const char *target, long long id,
			      const char *marker, const char *label, const char *title,
			      const char *body, const long long *occurrences, size_t nr)
{
	cJSON *p = cJSON_CreateObject(), *ids;

	cJSON_AddStringToObject(p, "marker", marker);
	cJSON_AddStringToObject(p, "label", label);
	cJSON_AddStringToObject(p, "title", title);
	cJSON_AddStringToObject(p, "body", body);
	ids = cJSON_AddArrayToObject(p, "occurrences");
	for (size_t i = 0; i < nr; i++)
		cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)occurrences[i]));
	return outbox_queue(st, id, NULL, target, "architecture", p);
}

/*
 * The state the tracker holds: a closed issue is resolved whatever its
 * label says (a person closing it has the last word), else the mapped
 * state, or -1.
 */
static int remote_state(const struct remote_issue *ri)
{
	return ri->closed ? (int)STATE_INCIDENT_RESOLVED : ri->state;
}

/* Is there already a comment carrying this idempotency key? */
static int comment_landed(struct tracker *t, const char *remote, const char *key)
{
	struct remote_comment *list = NULL;
	size_t nr = 0;
	const char *self;
	int r = tracker_self(t, &self), found = 0;

	if (r != TRACKER_OK)
		return r;
	r = t->ops->comments(t, remote, &list, &nr);
	if (r != TRACKER_OK)
		return r;
	/* Only ours: another account's copy of the key does not make it landed. */
	for (size_t i = 0; i < nr && !found; i++) {
		const char *k = list[i].record ? json_string(list[i].record, "key") : NULL;
		found = k && !strcmp(k, key) && list[i].author_id && !strcmp(list[i].author_id, self);
	}
	remote_comment_list_free(list, nr);
	return found ? 1 : 0;
}

/* Post a comment with its record, once: a repeated attempt looks first. */
static int post_once(struct tracker *t, const char *remote, const char *prose,
		     const cJSON *record, int repeated)
{
	if (repeated) {
		int r = comment_landed(t, remote, json_string(record, "key"));
		if (r < 0)
			return r;
		if (r == 1)
			return TRACKER_OK;
	}
	return t->ops->comment(t, remote, prose, record);
}

/* The remote won: the local incident follows it. */
static int follow(struct store *st, struct tracker *t, long long id,
		  const char *remote, enum incident_state to, struct mirror_report *rep)
{
	char *reason = xstrfmt("%s %s is %s", t->ops->name, remote, incident_state_name(to));
	int r = store_incident_follow_remote(st, id, to, reason);

	free(reason);
	if (r < 0)
		return -1;
	if (r != STORE_NOT_FOLLOWED)
		rep->followed++;
	return 0;
}

static int deliver_create(struct store *st, struct tracker *t, const struct incident *inc,
			  struct mirror_report *rep)
{
	struct remote_issue ri = { .state = -1 };
	int adopted = 1, r;
	cJSON *body;
	char *text;

	if (inc->remote_key)
		return DELIVERED;
	r = t->ops->find(t, inc->fingerprint, &ri);
	if (r == TRACKER_NOT_FOUND) {
		adopted = 0;
		remote_issue_release(&ri);
		r = t->ops->create(t, inc, &ri);
	}
	if (r != TRACKER_OK) {
		remote_issue_release(&ri);
		return r;
	}
	if (store_incident_set_remote(st, inc->id, ri.key, ri.url) < 0) {
		remote_issue_release(&ri);
		return -1;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "tracker", t->ops->name);
	cJSON_AddStringToObject(body, "key", ri.key);
	if (ri.url)
		cJSON_AddStringToObject(body, "url", ri.url);
	cJSON_AddBoolToObject(body, "adopted", adopted);
	text = cJSON_PrintUnformatted(body);
	r = store_event_append(st, inc->id, "remote", t->ops->name, text);
	cJSON_free(text);
	cJSON_Delete(body);
	if (r < 0) {
		remote_issue_release(&ri);
		return -1;
	}
	if (adopted && remote_state(&ri) >= 0 && remote_state(&ri) != (int)inc->state) {
		/* Another host got there first and moved on: follow it. */
		r = follow(st, t, inc->id, ri.key, (enum incident_state)remote_state(&ri), rep);
	} else if (!adopted && inc->state != STATE_INCIDENT_DETECTED) {
		r = t->ops->move(t, ri.key, inc->state);
		if (r != TRACKER_OK) {
			remote_issue_release(&ri);
			return r;
		}
	}
	remote_issue_release(&ri);
	return r < 0 ? -1 : DELIVERED;
}

static int deliver_move(struct store *st, struct tracker *t, const struct incident *inc,
			const struct outbox_item *item, const cJSON *p,
			struct mirror_report *rep)
{
	struct remote_issue ri = { .state = -1 };
	enum incident_state from, to;
	struct strbuf prose = STRBUF_INIT;
	cJSON *record;
	int r;

	if (!inc->remote_key)
		return WAIT;
	if (!json_string(p, "from") || !json_string(p, "to") ||
	    incident_state_parse(json_string(p, "from"), &from) < 0 ||
	    incident_state_parse(json_string(p, "to"), &to) < 0) {
		strbuf_reset(&t->error);
		strbuf_addstr(&t->error, "the queued move is malformed");
		return TRACKER_FAIL;
	}
	r = t->ops->get(t, inc->remote_key, &ri);
	if (r != TRACKER_OK) {
		remote_issue_release(&ri);
		return r;
	}
	/*
	 * The issue may be ahead of this move but where this host is now: it
	 * was created late, at the current state, while the moves waited. Then
	 * only the record is missing. Anything else is another host's doing.
	 */
	if (remote_state(&ri) >= 0 && remote_state(&ri) != (int)to &&
	    remote_state(&ri) != (int)from && remote_state(&ri) != (int)inc->state) {
		enum incident_state remote = (enum incident_state)remote_state(&ri);
		strbuf_reset(&t->error);
		strbuf_addf(&t->error, "%s %s was %s, not %s; the incident follows the tracker",
			    t->ops->name, inc->remote_key, incident_state_name(remote),
			    incident_state_name(from));
		remote_issue_release(&ri);
		if (follow(st, t, inc->id, inc->remote_key, remote, rep) < 0)
			return -1;
		return TRACKER_FAIL;
	}
	if (remote_state(&ri) != (int)to && remote_state(&ri) != (int)inc->state) {
		r = t->ops->move(t, inc->remote_key, to);
		if (r != TRACKER_OK) {
			remote_issue_release(&ri);
			return r;
		}
	}
	remote_issue_release(&ri);
	/* The move's record, so another host can rebuild the timeline. */
	strbuf_addf(&prose, "sre moved this incident from %s to %s", incident_state_name(from),
		    incident_state_name(to));
	if (json_string(p, "reason"))
		strbuf_addf(&prose, ": %s", json_string(p, "reason"));
	record = cJSON_CreateObject();
	cJSON_AddNumberToObject(record, "sre", 1);
	cJSON_AddStringToObject(record, "kind", "transition");
	cJSON_AddStringToObject(record, "from", incident_state_name(from));
	cJSON_AddStringToObject(record, "to", incident_state_name(to));
	if (json_string(p, "reason"))
		cJSON_AddStringToObject(record, "reason", json_string(p, "reason"));
	cJSON_AddStringToObject(record, "actor", json_string_or(p, "actor", "sre"));
	cJSON_AddStringToObject(record, "at", json_string_or(p, "at", ""));
	cJSON_AddStringToObject(record, "key", item->key);
	r = post_once(t, inc->remote_key, prose.buf, record, item->attempts > 0);
	cJSON_Delete(record);
	strbuf_release(&prose);
	return r == TRACKER_OK ? DELIVERED : r;
}

static int deliver_comment(struct tracker *t, const struct incident *inc,
			   const struct outbox_item *item, const cJSON *p)
{
	cJSON *record;
	int r;

	if (!inc->remote_key)
		return WAIT;
	record = cJSON_CreateObject();
	cJSON_AddNumberToObject(record, "sre", 1);
	cJSON_AddStringToObject(record, "kind", "comment");
	cJSON_AddStringToObject(record, "text", json_string_or(p, "text", ""));
	cJSON_AddStringToObject(record, "actor", json_string_or(p, "actor", "sre"));
	cJSON_AddStringToObject(record, "at", json_string_or(p, "at", ""));
	cJSON_AddStringToObject(record, "key", item->key);
	r = post_once(t, inc->remote_key, json_string_or(p, "text", ""), record,
		      item->attempts > 0);
	cJSON_Delete(record);
	return r == TRACKER_OK ? DELIVERED : r;
}

/* Labels are sets: adding one twice or removing a missing one is a no-op. */
static int deliver_label(struct tracker *t, const struct incident *inc, const cJSON *p)
{
	int r;

	if (!inc->remote_key)
		return WAIT;
	r = t->ops->label(t, inc->remote_key, json_string(p, "add"), json_string(p, "remove"));
	return r == TRACKER_OK ? DELIVERED : r;
}

/* Assigning is a set too: giving the issue to its assignee again changes nothing. */
static int deliver_assign(struct tracker *t, const struct incident *inc, const cJSON *p)
{
	int r;

	if (!inc->remote_key)
		return WAIT;
	r = t->ops->assign(t, inc->remote_key, json_string_or(p, "who", ""));
	return r == TRACKER_OK ? DELIVERED : r;
}

/* Has incident id an "architecture" event for marker already? 1, 0, -1. */
static int architecture_recorded(struct store *st, long long id, const char *marker)
{
	struct event *ev;
	size_t nr;
	int found = 0;

	if (store_event_list(st, id, &ev, &nr) < 0)
		return -1;
	for (size_t i = 0; i < nr && !found; i++) {
		cJSON *b;
		if (strcmp(ev[i].kind, "architecture"))
			continue;
		b = cJSON_Parse(ev[i].body);
		found = json_string_is(b, "marker", marker);
		cJSON_Delete(b);
	}
	event_list_free(ev, nr);
	return found;
}

static int record_architecture(struct store *st, struct tracker *t, long long id,
			       const char *marker, const struct remote_issue *ri, int adopted)
{
	cJSON *body;
	char *text;
	int r = architecture_recorded(st, id, marker);

	if (r)
		return r < 0 ? -1 : 0;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "tracker", t->ops->name);
	cJSON_AddStringToObject(body, "key", ri->key);
	if (ri->url)
		cJSON_AddStringToObject(body, "url", ri->url);
	cJSON_AddStringToObject(body, "marker", marker);
	cJSON_AddBoolToObject(body, "adopted", adopted);
	text = cJSON_PrintUnformatted(body);
	r = store_event_append(st, id, "architecture", t->ops->name, text);
	cJSON_free(text);
	cJSON_Delete(body);
	return r < 0 ? -1 : 0;
}

/* A comment on each occurrence's issue linking the follow-up; a repeated attempt looks first. */
static int link_occurrences(struct store *st, struct tracker *t, const struct outbox_item *item,
			    const cJSON *p, const struct remote_issue *ri)
{
	const cJSON *id;
	int r = TRACKER_OK;

	cJSON_ArrayForEach(id, json_array(p, "occurrences")) {
		struct incident occ;
		struct strbuf text = STRBUF_INIT, key = STRBUF_INIT;
		cJSON *record;

		if (!cJSON_IsNumber(id) || store_incident_get(st, (long long)id->valuedouble, &occ))
			continue;
		if (!occ.remote_key || !strcmp(occ.remote_key, ri->key)) {
			incident_release(&occ);
			continue;
		}
		strbuf_addf(&text, "This problem keeps coming back: the architecture follow-up is %s.",
			    ri->url ? ri->url : ri->key);
		strbuf_addf(&key, "%s-%lld", item->key, occ.id);
		record = cJSON_CreateObject();
		cJSON_AddNumberToObject(record, "sre", 1);
		cJSON_AddStringToObject(record, "kind", "comment");
		cJSON_AddStringToObject(record, "text", text.buf);
		cJSON_AddStringToObject(record, "actor", "sre");
		cJSON_AddStringToObject(record, "key", key.buf);
		r = post_once(t, occ.remote_key, text.buf, record, item->attempts > 0);
		cJSON_Delete(record);
		strbuf_release(&text);
		strbuf_release(&key);
		incident_release(&occ);
		if (r != TRACKER_OK)
			break;
	}
	return r;
}

/*
 * The follow-up of a chronic problem: the issue carrying its marker,
 * whoever opened it (another host sharing the tracker, or this one before
 * a crash), else a new one; recorded, then linked from every occurrence.
 */
static int deliver_architecture(struct store *st, struct tracker *t, const struct outbox_item *item,
				const cJSON *p)
{
	struct remote_issue ri = { .state = -1 };
	const char *marker = json_string(p, "marker");
	int adopted = 1, r;

	if (!marker) {
		strbuf_reset(&t->error);
		strbuf_addstr(&t->error, "a queued architecture follow-up has no marker");
		return TRACKER_FAIL;
	}
	r = t->ops->find_labelled(t, marker, &ri);
	if (r == TRACKER_NOT_FOUND) {
		struct strvec labels = STRVEC_INIT;
		strvec_push(&labels, json_string_or(p, "label", "jules-fix"));
		strvec_push(&labels, marker);
		adopted = 0;
		remote_issue_release(&ri);
		r = t->ops->open_issue(t, json_string_or(p, "title", marker), json_string_or(p, "body", ""),
				       &labels, &ri);
		strvec_clear(&labels);
	}
	if (r == TRACKER_OK && record_architecture(st, t, item->incident_id, marker, &ri, adopted) < 0)
		r = -1;
	if (r == TRACKER_OK)
		r = link_occurrences(st, t, item, p, &ri);
	remote_issue_release(&ri);
	return r == TRACKER_OK ? DELIVERED : r;
}

/*
 * Every tracker write is built from the incident and the queued payload,
 * so redacting both here covers issue bodies, comments and records alike.
 */
static void redact_outgoing(struct incident *inc, cJSON *p)
{
	char **text[] = { &inc->title, &inc->service, &inc->source, &inc->category };

	for (size_t i = 0; i < ARRAY_SIZE(text); i++) {
		char *clean = redact_str(*text[i]);
		free(*text[i]);
		*text[i] = clean;
	}
	redact_json(p);
}

static int deliver(struct store *st, struct tracker *t, const struct outbox_item *item,
		   struct mirror_report *rep)
{
	struct incident inc;
	cJSON *p = cJSON_Parse(item->payload);
	int r;

	r = store_incident_get(st, item->incident_id, &inc);
	if (r) {
		cJSON_Delete(p);
		strbuf_reset(&t->error);
		strbuf_addf(&t->error, "incident %lld is not in the store", item->incident_id);
		return r < 0 ? -1 : TRACKER_FAIL;
	}
	redact_outgoing(&inc, p);
	if (!strcmp(item->operation, "create"))
		r = deliver_create(st, t, &inc, rep);
	else if (!strcmp(item->operation, "move"))
		r = deliver_move(st, t, &inc, item, p, rep);
	else if (!strcmp(item->operation, "comment"))
		r = deliver_comment(t, &inc, item, p);
	else if (!strcmp(item->operation, "label"))
		r = deliver_label(t, &inc, p);
	else if (!strcmp(item->operation, "assign"))
		r = deliver_assign(t, &inc, p);
	else if (!strcmp(item->operation, "architecture"))
		r = deliver_architecture(st, t, item, p);
	else {
		strbuf_reset(&t->error);
		strbuf_addf(&t->error, "unknown queued operation '%s'", item->operation);
		r = TRACKER_FAIL;
	}
	incident_release(&inc);
	cJSON_Delete(p);
	return r;
}

static int contains(const long long *v, size_t n, long long x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

int mirror_flush(struct store *st, struct tracker *t, struct mirror_report *rep)
{
	struct outbox_item *items;
	long long *blocked = NULL;
	size_t nr, nblocked = 0, alloc = 0;
	int stop = 0, ret = 0;

	if (store_outbox_list(st, 1, &items, &nr) < 0)
		return -1;
	for (size_t i = 0; i < nr && ret == 0; i++) {
		struct outbox_item *item = &items[i];
		int r;

		if (strcmp(item->target, t->ops->name))
			continue; /* another tracker's, or a notifier's */
		if (stop || contains(blocked, nblocked, item->incident_id)) {
			rep->pending++;
			continue;
		}
		if (store_outbox_attempt(st, item->id) < 0) {
			ret = -1;
			break;
		}
		r = deliver(st, t, item, rep);
		switch (r) {
		case DELIVERED:
			test_crash_point("outbox-sent");
			if (store_outbox_delivered(st, item->id) < 0)
				ret = -1;
			rep->delivered++;
			continue;
		case WAIT:
			rep->pending++;
			break;
		case TRACKER_RETRY:
			if (store_outbox_error(st, item->id, t->error.buf, 0) < 0)
				ret = -1;
			strbuf_addf(&rep->messages, "%s\n", t->error.buf);
			rep->pending++;
			/* The tracker is down or throttling: try again later. */
			stop = 1;
			break;
		case -1:
			ret = -1;
			break;
		default: /* TRACKER_FAIL, TRACKER_NOT_FOUND */
			if (store_outbox_error(st, item->id, t->error.buf, 1) < 0)
				ret = -1;
			strbuf_addf(&rep->messages, "%s\n", t->error.buf);
			rep->failed++;
			break;
		}
		/* Later writes of this incident wait for this one. */
		ALLOC_GROW(blocked, nblocked + 1, alloc);
		blocked[nblocked++] = item->incident_id;
	}
	free(blocked);
	outbox_list_free(items, nr);
	return ret;
}

int mirror_check_remote(struct store *st, struct tracker *t, long long id,
			enum incident_state local, enum incident_state *remote)
{
	struct remote_issue ri = { .state = -1 };
	struct outbox_item *items;
	struct incident inc;
	size_t nr;
	int r, queued = 0;

	r = store_incident_get(st, id, &inc);
	if (r)
		return r < 0 ? -1 : 0;
	if (!inc.remote_key) {
		incident_release(&inc);
		return 0;
	}
	if (store_outbox_list(st, 1, &items, &nr) < 0) {
		incident_release(&inc);
		return -1;
	}
	for (size_t i = 0; i < nr; i++)
		queued |= items[i].incident_id == id && !strcmp(items[i].target, t->ops->name);
	outbox_list_free(items, nr);
	/* With writes still queued, the tracker is behind us on purpose. */
	if (queued || t->ops->get(t, inc.remote_key, &ri) != TRACKER_OK ||
	    remote_state(&ri) < 0 || remote_state(&ri) == (int)local) {
		remote_issue_release(&ri);
		incident_release(&inc);
		return 0;
	}
	*remote = (enum incident_state)remote_state(&ri);
	r = store_incident_follow_remote(st, id, *remote, "the tracker had moved it");
	remote_issue_release(&ri);
	incident_release(&inc);
	return r < 0 ? -1 : 1;
}

/* Text from a ticket made safe to store: no control characters, bounded. */
static char *clean_text(const char *s, const char *fallback, size_t max)
{
	struct strbuf sb = STRBUF_INIT;

	if (!s || !*s)
		s = fallback;
	for (; *s && sb.len < max; s++)
		strbuf_addch(&sb, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
	strbuf_trim(&sb);
	if (!sb.len)
		strbuf_addstr(&sb, fallback);
	return strbuf_detach(&sb, NULL);
}

static enum incident_severity severity_of(const struct remote_issue *ri)
{
	enum incident_severity s = SEVERITY_MEDIUM;
	const char *p = ri->priority;

	if (ri->severity && !incident_severity_parse(ri->severity, &s))
		return s;
	if (!p)
		return SEVERITY_MEDIUM;
	if (!strcasecmp(p, "P1") || !strcasecmp(p, "Highest") || !strcasecmp(p, "Blocker"))
		return SEVERITY_CRITICAL;
	if (!strcasecmp(p, "P2") || !strcasecmp(p, "High") || !strcasecmp(p, "Critical"))
		return SEVERITY_HIGH;
	if (!strcasecmp(p, "P4") || !strcasecmp(p, "P5") || !strcasecmp(p, "Low") ||
	    !strcasecmp(p, "Lowest"))
		return SEVERITY_LOW;
	return SEVERITY_MEDIUM;
}

/*
 * The kinds of record a peer host shares, and the kind each is kept under
 * here: "imported-" says another host wrote it. Nothing else is imported:
 * the fix protocol (action-started, action-finished, pull-request,
 * fix-planned) reads only events this store wrote itself, so a comment can
 * never make sre act.
 */
static const char *imported_kind(const char *kind)
{
	if (!strcmp(kind, "transition"))
		return "imported-transition";
	if (!strcmp(kind, "comment"))
		return "imported-comment";
	return NULL;
}

/*
 * Bring the records of the ticket's comments into the timeline: only
 * those written by the account sre signs in as (anyone who may comment
 * can write a record block), and only the kinds peers share.
 */
static int import_records(struct store *st, struct tracker *t, long long id,
			  const char *remote)
{
	struct remote_comment *list = NULL;
	size_t nr = 0;
	const char *self;
	int r = tracker_self(t, &self);

	if (r != TRACKER_OK) {
		error("%s; no record of %s is imported", t->error.buf, remote);
		return -1;
	}
	r = t->ops->comments(t, remote, &list, &nr);
	if (r != TRACKER_OK) {
		error("%s", t->error.buf);
		return -1;
	}
	for (size_t i = 0; i < nr && r >= 0; i++) {
		const cJSON *rec = list[i].record;
		const char *kind = rec ? json_string(rec, "kind") : NULL, *at_s, *as;
		char *actor, *body;
		time_t at = 0;

		/* Only what sre wrote is structured; other comments stay there. */
		if (!kind || !json_string(rec, "key") || !(as = imported_kind(kind)))
			continue;
		if (!list[i].author_id || strcmp(list[i].author_id, self))
			continue;
		at_s = json_string(rec, "at");
		if (!at_s || parse_iso8601(at_s, &at) < 0)
			at = 0;
		actor = clean_text(json_string(rec, "actor") ? json_string(rec, "actor") : list[i].author,
				   t->ops->name, 200);
		body = cJSON_PrintUnformatted(rec);
		r = store_event_import(st, id, at, as, actor, body);
		cJSON_free(body);
		free(actor);
	}
	remote_comment_list_free(list, nr);
	return r < 0 ? -1 : 0;
}

int mirror_pull(struct store *st, struct tracker *t, const struct tracker_query *q,
		struct strvec *new_ids, struct strvec *updated_ids)
{
	struct remote_issue *list = NULL;
	size_t nr = 0;
	int r = t->ops->search(t, q, &list, &nr), ret = 0;

	if (r != TRACKER_OK) {
		error("%s", t->error.buf);
		return -1;
	}
	for (size_t i = 0; i < nr && !ret; i++) {
		const struct remote_issue *ri = &list[i];
		struct incident inc = { 0 };
		long long id;
		int found, working = 0;

		if (!ri->key)
			continue;
		found = store_incident_by_remote(st, ri->key, &id);
		if (found > 0 && ri->fingerprint &&
		    store_incident_by_fingerprint(st, ri->fingerprint, &id) == 0) {
			/* Opened here too, before it was linked: link it now. */
			found = store_incident_set_remote(st, id, ri->key, ri->url);
		}
		if (found < 0) {
			ret = -1;
			break;
		}
		if (found == 0) {
			struct incident local;
			if (store_incident_get(st, id, &local) == 0) {
				if (remote_state(ri) >= 0 && remote_state(ri) != (int)local.state &&
				    store_incident_follow_remote(st, id, (enum incident_state)remote_state(ri),
								 "the tracker had moved it") < 0)
					ret = -1;
				incident_release(&local);
			}
			strvec_pushf(updated_ids, "%lld", id);
		} else {
			cJSON *opened = cJSON_CreateObject();
			char *text, *key = xstrfmt("%s-%s-opened", t->ops->name, ri->key);

			inc.fingerprint = ri->fingerprint ? clean_text(ri->fingerprint, "?", 500)
							  : xstrfmt("%s/%s", t->ops->name, ri->key);
			inc.service = clean_text(ri->service, "unknown", 200);
			inc.title = clean_text(ri->title, ri->key, 1000);
			inc.source = xstrdup(t->ops->name);
			inc.severity = severity_of(ri);
			inc.state = remote_state(ri) >= 0 ? (enum incident_state)remote_state(ri) :
				    STATE_INCIDENT_DETECTED;
			/* A label never starts a fix here: a person sees it instead. */
			working = incident_state_is_working(inc.state);
			if (working)
				inc.state = STATE_INCIDENT_REQUIRES_HUMAN;
			inc.remote_key = xstrdup(ri->key);
			inc.remote_url = ri->url ? xstrdup(ri->url) : NULL;
			if (store_incident_import(st, &inc, &id) < 0)
				ret = -1;
			cJSON_AddStringToObject(opened, "title", inc.title);
			cJSON_AddStringToObject(opened, "service", inc.service);
			cJSON_AddStringToObject(opened, "severity", incident_severity_name(inc.severity));
			cJSON_AddStringToObject(opened, "fingerprint", inc.fingerprint);
			cJSON_AddStringToObject(opened, "source", t->ops->name);
			cJSON_AddStringToObject(opened, "remote_key", ri->key);
			cJSON_AddStringToObject(opened, "key", key);
			text = cJSON_PrintUnformatted(opened);
			if (!ret && store_event_import(st, id, 0, "opened", t->ops->name, text) < 0)
				ret = -1;
			if (!ret && working &&
			    store_incident_follow_remote(st, id, (enum incident_state)remote_state(ri),
							 "the tracker says so; never followed") < 0)
				ret = -1;
			cJSON_free(text);
			cJSON_Delete(opened);
			free(key);
			incident_release(&inc);
			/* Mark the ticket as taken up by sre, for the people watching it. */
			if (!ret && mirror_queue_label(st, t->ops->name, id, "sre") < 0)
				ret = -1;
			if (!ret)
				strvec_pushf(new_ids, "%lld", id);
		}
		if (!ret && import_records(st, t, id, ri->key) < 0)
			ret = -1;
	}
	remote_issue_list_free(list, nr);
	return ret;
}

/*
 * Notifications fire on edges: a check that flaps is one episode, not a
 * message each time it comes and goes. An incident that opened within
 * notify.cooldown of the last resolution of its fingerprint goes on that
 * episode: its messages (opened, diagnosed, fixed, resolved) are kept as
 * "notification-held" events instead of sent. The store holds both times, so the cooldown
 * survives restarts. What needs a person (an escalation) is always sent,
 * and a problem that stays is paged by the escalation policy's timeouts.
 * 1 held, 0 sent, -1.
 */
static int episode_goes_on(struct store *st, const struct config *cfg, long long id,
			   const char *event)
{
	int64_t cooldown = 30 * 60 * 1000;
	long long prev;
	char *body;
	int r;

	if (config_get_duration_ms(cfg, "notify.cooldown", &cooldown) < 0)
		return -1;
	if (cooldown <= 0 || (r = store_incident_episode(st, id, cooldown, &prev)) == 1)
		return 0;
	if (r < 0)
		return -1;
	body = xstrfmt("{\"event\":\"%s\",\"episode\":%lld}", event, prev);
	r = store_event_append(st, id, "notification-held", "sre", body);
	free(body);
	return r ? -1 : 1;
}

/* Queue the channel's message about incident id (inside a transaction). */
static int queue_notification(struct store *st, const struct config *cfg, long long id,
			      const char *event)
{
	struct incident inc;
	int r;

	if (!event || !cfg || !notify_configured(cfg))
		return 0;
	if (strcmp(event, "escalated") && (r = episode_goes_on(st, cfg, id, event)) != 0)
		return r < 0 ? -1 : 0;
	if (store_incident_get(st, id, &inc))
		return -1;
	r = notify_queue(st, &inc, event);
	incident_release(&inc);
	return r;
}

int mirror_incident_open(struct store *st, struct tracker *t, const struct config *cfg,
			 const struct incident_new *in, long long *out_id, int *out_created)
{
	/* The incident and the writes that mirror it, in one transaction. */
	if (store_begin(st) < 0)
		return -1;
	if (store_incident_open(st, in, out_id, out_created) < 0 ||
	    (*out_created && t && mirror_queue_create(st, t->ops->name, *out_id) < 0) ||
	    (*out_created && queue_notification(st, cfg, *out_id, "opened") < 0)) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st);
}

int mirror_incident_transition(struct store *st, struct tracker *t, const struct config *cfg,
			       long long id, int expected, enum incident_state to,
			       const char *actor, const char *reason,
			       enum incident_state *remote)
{
	return mirror_incident_transition_event(st, t, cfg, id, expected, to, actor, reason,
						NULL, NULL, remote);
}

int mirror_incident_transition_event(struct store *st, struct tracker *t,
				     const struct config *cfg, long long id, int expected,
				     enum incident_state to, const char *actor,
				     const char *reason, const char *kind, const char *body_json,
				     enum incident_state *remote)
{
	struct incident inc;
	enum incident_state from;
	char key[37];
	int r;

	r = store_incident_get(st, id, &inc);
	if (r)
		return r;
	from = inc.state;
	incident_release(&inc);
	if (t) {
		r = mirror_check_remote(st, t, id, from, remote);
		if (r)
			return r < 0 ? -1 : MIRROR_FOLLOWED;
	}
	mirror_new_key(key);
	if (store_begin(st) < 0)
		return -1;
	r = store_incident_transition(st, id, expected, to, actor, reason, t ? key : NULL);
	if (r)
		return r; /* rolled back by the store */
	if ((kind && store_event_append(st, id, kind, actor, body_json)) ||
	    (t && mirror_queue_move(st, t->ops->name, id, key, from, to, actor, reason) < 0) ||
	    queue_notification(st, cfg, id, notify_event(to)) < 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st);
}
