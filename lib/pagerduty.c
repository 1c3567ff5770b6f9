/*
 * pagerduty.c: PagerDuty Events API v2 events, queued in the store's
 * outbox and delivered in order, and webhook v3 payloads read back; see
 * pagerduty.h.
 *
 * The API's rules, as its OpenAPI description and developer docs state
 * them (our notes: ../shared/fixtures/pagerduty/EVENTS_V2_NOTES.md):
 * routing_key is a 32-character integration key, event_action is trigger,
 * acknowledge or resolve, dedup_key at most 255 characters and needed for
 * acknowledge and resolve; a trigger needs payload.summary (at most 1024
 * characters), payload.source and payload.severity (critical, error,
 * warning, info). It answers 202 {"status":"success","message":"Event
 * processed","dedup_key"}, 400 {"status","message","errors":[...]} for an
 * event it will never take, 429 when throttled, 5xx when it is down.
 */
#include <cJSON.h>
#include <ctype.h>
#include <strings.h>
#include <unistd.h>

#include "http.h"
#include "pagerduty.h"
#include "redact.h"

#define TARGET "pagerduty"
#define KEY_ENV "PAGERDUTY_ROUTING_KEY"
#define DEFAULT_KEY "pagerduty.routing-key"
#define DEFAULT_URL "https://events.pagerduty.com"
#define ROUTING_KEY_LEN 32
#define MAX_SUMMARY 1024       /* characters */
#define MAX_DEDUP_KEY 255
#define MAX_HOST 64
#define MAX_EVIDENCE 50        /* lines */
#define MAX_EVIDENCE_LINE 1000 /* bytes */
#define MAX_DETAIL 4000        /* bytes of reason, diagnosis, tried */
#define MAX_WEBHOOK (1 << 20)  /* a v3 event is a few kilobytes */

int pagerduty_configured(const struct config *cfg)
{
	const char *v = getenv(KEY_ENV);
	const char *s = config_get_string(cfg, DEFAULT_KEY);

	struct strvec names = STRVEC_INIT;
	struct strbuf key = STRBUF_INIT;
	int found;

	/* The same sources, in the same order, as config_get_secret(). */
	found = (v && *v) || config_get_string(cfg, DEFAULT_KEY "-command") || (s && *s);
	/* Or a policy level's own key, [pagerduty "<name>"]: its pages are delivered too. */
	config_subsections(cfg, "pagerduty", &names);
	for (size_t i = 0; i < names.nr && !found; i++)
		found = config_get_string(cfg, config_key_of(&key, "pagerduty", names.v[i],
							     "routing-key-command")) ||
			config_get_string(cfg, config_key_of(&key, "pagerduty", names.v[i], "routing-key"));
	strvec_clear(&names);
	strbuf_release(&key);
	return found;
}

/* The host name reduced to [a-z0-9.-], at most MAX_HOST characters, never empty. */
static void plain_host(struct strbuf *out)
{
	char host[256];

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	for (const char *p = host; *p && out->len < MAX_HOST; p++) {
		unsigned char c = (unsigned char)*p;

		if (isalnum(c) || c == '.' || c == '-')
			strbuf_addch(out, (char)tolower(c));
	}
	if (!out->len)
		strbuf_addstr(out, "localhost");
}

void pagerduty_dedup_key(struct strbuf *out, long long id)
{
	strbuf_reset(out);
	strbuf_addstr(out, "sre-");
	plain_host(out);
	strbuf_addf(out, "-%lld", id);
}

int pagerduty_dedup_key_id(const char *key, long long *id)
{
	struct strbuf mine = STRBUF_INIT;
	const char *dash = key ? strrchr(key, '-') : NULL;
	long long n;
	int ret = -1;

	if (!dash || parse_ll(dash + 1, &n) < 0 || n <= 0)
		return -1;
	pagerduty_dedup_key(&mine, n);
	if (!strcmp(mine.buf, key)) {
		*id = n;
		ret = 0;
	}
	strbuf_release(&mine);
	return ret;
}

/* ---- queueing ---- */

static const char *pd_severity(enum incident_severity s)
{
	switch (s) {
	case SEVERITY_CRITICAL:
		return "critical";
	case SEVERITY_HIGH:
		return "error";
	case SEVERITY_MEDIUM:
		return "warning";
	default:
		return "info";
	}
}

static int is_action(const char *a)
{
	return a && (!strcmp(a, "trigger") || !strcmp(a, "acknowledge") || !strcmp(a, "resolve"));
}

/*
 * A config key that may name a routing key: one ending in "routing-key",
 * in the config's key charset. The outbox row names it and delivery sends
 * its secret to PagerDuty, so a row (or a caller) naming github.token
 * must never get that token sent.
 */
static int is_key_name(const char *name)
{
	if (!name || !*name || strlen(name) > 200 || !ends_with(name, "routing-key") ||
	    !strchr(name, '.'))
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
			return 0;
	return 1;
}

/* s, redacted, on one line (control characters blanked), at most max bytes, whole characters. */
static char *one_line(const char *s, size_t max)
{
	struct strbuf sb = STRBUF_INIT;

	redact_buf(&sb, s, strlen(s));
	for (size_t i = 0; i < sb.len; i++)
		if ((unsigned char)sb.buf[i] < 0x20 || sb.buf[i] == 0x7f)
			sb.buf[i] = ' ';
	strbuf_setlen(&sb, utf8_cut(sb.buf, sb.len, max));
	return strbuf_detach(&sb, NULL);
}

static void add_line(cJSON *o, const char *name, const char *s, size_t max)
{
	char *v;

	if (!s || !*s)
		return;
	v = one_line(s, max);
	cJSON_AddStringToObject(o, name, v);
	free(v);
}

/* A link for an http or https URL; anything else (javascript:, file:) is left out. */
static void add_link(cJSON *links, const char *href, const char *text)
{
	cJSON *l;

	if (!href || (strncasecmp(href, "https://", 8) && strncasecmp(href, "http://", 7)) ||
	    strlen(href) > 2048 || strpbrk(href, " \t\r\n\"<>"))
		return;
	l = cJSON_CreateObject();
	cJSON_AddStringToObject(l, "href", href);
	cJSON_AddStringToObject(l, "text", text);
	cJSON_AddItemToArray(links, l);
}

/* The summary: "<title> (sre incident <id>, <service>)", redacted, one line, ≤ 1024 characters. */
static char *summary_of(const struct incident *inc)
{
	struct strbuf sb = STRBUF_INIT;
	char *line, *cut;

	strbuf_addf(&sb, "%s (sre incident %lld, %s)", inc->title && *inc->title ? inc->title : "untitled",
		    inc->id, inc->service && *inc->service ? inc->service : "no service");
	line = one_line(sb.buf, sb.len);
	cut = utf8_shorten(line, MAX_SUMMARY);
	free(line);
	strbuf_release(&sb);
	return cut;
}

static cJSON *trigger_payload(const struct incident *inc, const struct pagerduty_details *d)
{
	cJSON *p = cJSON_CreateObject(), *cd;
	struct strbuf host = STRBUF_INIT;
	char *summary = summary_of(inc);

	cJSON_AddStringToObject(p, "summary", summary);
	plain_host(&host);
	cJSON_AddStringToObject(p, "source", host.buf);
	cJSON_AddStringToObject(p, "severity", pd_severity(inc->severity));
	if (inc->service && *inc->service)
		add_line(p, "component", inc->service, 255);
	cd = cJSON_AddObjectToObject(p, "custom_details");
	cJSON_AddNumberToObject(cd, "incident", (double)inc->id);
	cJSON_AddStringToObject(cd, "state", incident_state_name(inc->state));
	if (inc->service && *inc->service)
		add_line(cd, "service", inc->service, 255);
	if (d) {
		add_line(cd, "reason", d->reason, MAX_DETAIL);
		add_line(cd, "diagnosis", d->diagnosis, MAX_DETAIL);
		if (d->evidence && d->evidence_nr) {
			cJSON *ev = cJSON_AddArrayToObject(cd, "evidence");

			for (size_t i = 0; i < d->evidence_nr && i < MAX_EVIDENCE; i++) {
				char *v;

				if (!d->evidence[i])
					continue;
				v = one_line(d->evidence[i], MAX_EVIDENCE_LINE);
				cJSON_AddItemToArray(ev, cJSON_CreateString(v));
				free(v);
			}
		}
		add_line(cd, "tried", d->tried, MAX_DETAIL);
	}
	strbuf_release(&host);
	free(summary);
	return p;
}

int pagerduty_queue(struct store *st, const struct incident *inc, const char *action,
		    const struct pagerduty_details *d)
{
	const char *key_name = d && d->routing_key ? d->routing_key : DEFAULT_KEY;
	struct strbuf dedup = STRBUF_INIT;
	cJSON *p, *ev;

	if (!is_action(action))
		return error("pagerduty: no such event action '%s'", action ? action : "(none)");
	if (!is_key_name(key_name))
		return error("pagerduty: '%s' is not a routing key's config key "
			     "(it must end in routing-key)", key_name);
	pagerduty_dedup_key(&dedup, inc->id);
	p = cJSON_CreateObject();
	ev = cJSON_AddObjectToObject(p, "event");
	cJSON_AddStringToObject(ev, "event_action", action);
	cJSON_AddStringToObject(ev, "dedup_key", dedup.buf);
	if (!strcmp(action, "trigger")) {
		cJSON *links = cJSON_CreateArray();

		cJSON_AddItemToObject(ev, "payload", trigger_payload(inc, d));
		cJSON_AddStringToObject(ev, "client", "sre");
		add_link(links, d ? d->ticket_url : NULL, "ticket");
		add_link(links, d ? d->pr_url : NULL, "pull request");
		cJSON_AddItemToObject(ev, "links", links);
	}
	cJSON_AddStringToObject(p, "routing_key_name", key_name);
	cJSON_AddNumberToObject(p, "incident", (double)inc->id);
	strbuf_release(&dedup);
	return outbox_queue(st, inc->id, NULL, TARGET, action, p);
}

/* ---- delivery ---- */

/* Wipe a strbuf that held a secret before giving its memory back. */
static void release_secret(struct strbuf *sb)
{
	if (sb->alloc)
		memset(sb->buf, 0, sb->alloc);
	strbuf_release(sb);
}

/* The routing keys resolved in one run, by config key name. */
struct keyring {
	struct keyring_entry {
		char *name;
		struct strbuf key;
	} *v;
	size_t nr, alloc;
};

static void keyring_release(struct keyring *kr)
{
	for (size_t i = 0; i < kr->nr; i++) {
		free(kr->v[i].name);
		release_secret(&kr->v[i].key);
	}
	free(kr->v);
	memset(kr, 0, sizeof(*kr));
}

/* How to give the routing key named name, for a message. */
static void key_hint(struct strbuf *sb, const char *name)
{
	if (!strcmp(name, DEFAULT_KEY))
		strbuf_addstr(sb, "set " KEY_ENV " or " DEFAULT_KEY "-command (a command that prints it)");
	else
		strbuf_addf(sb, "set %s-command (a command that prints it)", name);
}

/*
 * The routing key of config key name, resolved now (once per run) and
 * registered with the client for redaction; NULL after an error saying
 * how to configure it, never showing the key.
 */
static const char *routing_key(struct keyring *kr, const struct config *cfg,
			       struct http_client *c, const char *name)
{
	struct keyring_entry *e;
	struct strbuf hint = STRBUF_INIT;
	int r;

	for (size_t i = 0; i < kr->nr; i++)
		if (!strcmp(kr->v[i].name, name))
			return kr->v[i].key.buf;
	if (kr->nr == kr->alloc) {
		kr->alloc = kr->alloc ? 2 * kr->alloc : 4;
		kr->v = xrealloc(kr->v, kr->alloc * sizeof(*kr->v));
	}
	e = &kr->v[kr->nr];
	strbuf_init(&e->key, 0);
	r = config_get_secret(cfg, name, strcmp(name, DEFAULT_KEY) ? NULL : KEY_ENV, &e->key);
	if (r) {
		if (r > 0) {
			key_hint(&hint, name);
			error("pagerduty: no routing key for %s: %s", name, hint.buf);
		}
		release_secret(&e->key);
		strbuf_release(&hint);
		return NULL;
	}
	strbuf_trim(&e->key);
	if (e->key.len != ROUTING_KEY_LEN) {
		key_hint(&hint, name);
		error("pagerduty: the routing key of %s is %zu characters, not the %d of an "
		      "integration key (Events API v2): %s", name, e->key.len, ROUTING_KEY_LEN, hint.buf);
		release_secret(&e->key);
		strbuf_release(&hint);
		return NULL;
	}
	http_client_add_secret(c, e->key.buf);
	redact_add_secret(e->key.buf);
	e->name = xstrdup(name);
	kr->nr++;
	strbuf_release(&hint);
	return e->key.buf;
}

/*
 * The enqueue URL into out, from pagerduty.url: http(s), and https unless
 * the host is this machine, since the routing key rides in the body.
 */
static int enqueue_url(const struct config *cfg, struct strbuf *out)
{
	const char *base = config_get_string(cfg, "pagerduty.url");
	size_t len;
	int r;

	if (!base || !*base)
		base = DEFAULT_URL;
	r = http_url_keeps_secrets(base);
	if (r < 0)
		return error("pagerduty.url is not an http:// or https:// URL");
	if (!r)
		return error("pagerduty.url must be https:// (the routing key travels in "
			     "the request), or http:// to this machine only");
	strbuf_reset(out);
	strbuf_addstr(out, base);
	len = out->len;
	while (len && out->buf[len - 1] == '/')
		len--;
	strbuf_setlen(out, len);
	strbuf_addstr(out, "/v2/enqueue");
	return 0;
}

/* Append text, ASCII printable only, at most max bytes: an API's words on one line. */
static void add_clean(struct strbuf *sb, const char *text, size_t max)
{
	for (size_t i = 0; text[i] && i < max; i++) {
		unsigned char ch = (unsigned char)text[i];
		strbuf_addch(sb, ch < 0x20 || ch >= 0x7f ? '?' : ch);
	}
}

/* PagerDuty's message and errors from an error body, when it is JSON: " <message>: <e1>; <e2>". */
static void add_api_errors(struct strbuf *sb, const struct strbuf *body)
{
	cJSON *j = cJSON_ParseWithLength(body->buf, body->len);
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(j, "errors"), *e;
	const cJSON *list = cJSON_IsArray(errs) ? errs : NULL;
	int n = 0;

	if (cJSON_IsString(msg) && *msg->valuestring) {
		strbuf_addch(sb, ' ');
		add_clean(sb, msg->valuestring, 200);
	}
	cJSON_ArrayForEach(e, list) {
		if (!cJSON_IsString(e) || n >= 5)
			continue;
		strbuf_addstr(sb, n++ ? "; " : ": ");
		add_clean(sb, e->valuestring, 200);
	}
	cJSON_Delete(j);
}

/* Is this PagerDuty's acceptance: 202 with {"status": "success"}? */
static int accepted(const struct http_response *res)
{
	cJSON *j;
	const cJSON *s;
	int ok;

	if (res->status != 202)
		return 0;
	j = cJSON_ParseWithLength(res->body.buf, res->body.len);
	s = cJSON_GetObjectItemCaseSensitive(j, "status");
	ok = cJSON_IsString(s) && !strcmp(s->valuestring, "success");
	cJSON_Delete(j);
	return ok;
}


/* Post one event; on anything but OUTBOX_SENT, msg says why (unredacted). */
static enum outbox_outcome post(struct http_client *c, const char *url, const char *body,
				struct strbuf *msg)
{
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	enum outbox_outcome out;
	int r;

	req.method = "POST";
	req.url = url;
	req.body = body;
	req.body_len = strlen(body);
	/* PagerDuty folds a repeated event into the alert of its dedup_key. */
	req.no_retry = 0;
	strvec_push(&req.headers, "Content-Type: application/json");
	strvec_push(&req.headers, "Accept: application/json");
	r = http_do(c, &req, &res);
	if (!r && accepted(&res)) {
		out = OUTBOX_SENT;
	} else if (!r && (res.status == 400 || res.status == 413)) {
		/* The event itself is wrong: sending it again changes nothing. */
		strbuf_addf(msg, "HTTP %ld", res.status);
		add_api_errors(msg, &res.body);
		out = OUTBOX_REFUSED;
	} else if (!r) {
		strbuf_addf(msg, "HTTP %ld", res.status);
		add_api_errors(msg, &res.body);
		if (res.status >= 200 && res.status < 300)
			strbuf_addstr(msg, " (not PagerDuty's answer: check pagerduty.url)");
		else if (res.status == 401 || res.status == 403 || res.status == 404)
			strbuf_addstr(msg, " (check pagerduty.url and the routing key)");
		strbuf_addstr(msg, "; kept queued");
		out = OUTBOX_LATER;
	} else {
		out = outbox_later(msg, &res, add_api_errors);
	}
	http_response_release(&res);
	http_request_release(&req);
	return out;
}

/*
 * The request body of a queued row: its event with the routing key added,
 * redacted first (the key itself is registered as a secret and would be
 * masked). The ticket link is looked up now when the row has none: the
 * ticket is often created by the same sync, just before. NULL with msg
 * set when the row is unusable.
 */
static char *request_body(const cJSON *row, const struct incident *inc, const char *key,
			  struct strbuf *msg)
{
	cJSON *ev = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(row, "event"), 1);
	const cJSON *action = cJSON_GetObjectItemCaseSensitive(ev, "event_action");
	const cJSON *dedup = cJSON_GetObjectItemCaseSensitive(ev, "dedup_key");
	char *json;

	if (!cJSON_IsObject(ev) || !cJSON_IsString(action) || !is_action(action->valuestring) ||
	    !cJSON_IsString(dedup) || !*dedup->valuestring ||
	    strlen(dedup->valuestring) > MAX_DEDUP_KEY) {
		strbuf_addstr(msg, "a queued event is not a PagerDuty event");
		cJSON_Delete(ev);
		return NULL;
	}
	if (!strcmp(action->valuestring, "trigger") && inc && inc->remote_url) {
		cJSON *links = cJSON_GetObjectItemCaseSensitive(ev, "links"), *l;
		int have = 0;

		if (!cJSON_IsArray(links)) {
			cJSON_DeleteItemFromObjectCaseSensitive(ev, "links");
			links = cJSON_AddArrayToObject(ev, "links");
		}
		cJSON_ArrayForEach(l, links) {
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(l, "text");
			have |= cJSON_IsString(t) && !strcmp(t->valuestring, "ticket");
		}
		if (!have)
			add_link(links, inc->remote_url, "ticket");
	}
	/* PagerDuty is outside the host: no secret in a title reaches it. */
	redact_json(ev);
	cJSON_AddStringToObject(ev, "routing_key", key);
	json = cJSON_PrintUnformatted(ev);
	cJSON_Delete(ev);
	return json;
}

/*
 * Deliver one row: 0 when the run may go on, 1 when it must stop
 * (PagerDuty is out of reach), -1 on a store error or an unresolvable
 * routing key.
 */
static int deliver(struct store *st, const struct config *cfg, struct http_client *c,
		   struct keyring *kr, const char *url, const struct outbox_item *item,
		   struct mirror_report *rep)
{
	struct incident inc = { 0 };
	struct strbuf msg = STRBUF_INIT;
	cJSON *row = cJSON_Parse(item->payload);
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(row, "routing_key_name");
	const char *key;
	char *body = NULL;
	enum outbox_outcome out;
	int have_inc = 0, ret = 0, r;

	strbuf_addf(&msg, "pagerduty: %.20s of incident %lld: ", item->operation, item->incident_id);
	if (!cJSON_IsObject(row) || !is_action(item->operation)) {
		strbuf_addstr(&msg, "a queued event is not a PagerDuty event");
		out = OUTBOX_REFUSED;
	} else if (!cJSON_IsString(name) || !is_key_name(name->valuestring)) {
		strbuf_addstr(&msg, "the queued event names no routing key's config key");
		out = OUTBOX_REFUSED;
	} else if (!(key = routing_key(kr, cfg, c, name->valuestring))) {
		rep->pending++; /* it stays queued for a run with the key */
		ret = -1;
		goto out;
	} else {
		if (item->incident_id > 0) {
			r = store_incident_get(st, item->incident_id, &inc);
			if (r < 0) {
				ret = -1;
				goto out;
			}
			have_inc = !r;
		}
		if (!(body = request_body(row, have_inc ? &inc : NULL, key, &msg))) {
			out = OUTBOX_REFUSED;
		} else if (store_outbox_attempt(st, item->id) < 0) {
			ret = -1;
			goto out;
		} else {
			out = post(c, url, body, &msg);
			if (out == OUTBOX_SENT)
				test_crash_point("outbox-sent");
		}
	}
	/* Whatever came back, the routing key stays out of it. */
	http_redact(c, &msg);
	r = outbox_record(st, item->id, out, msg.buf, rep);
	ret = ret < 0 || r < 0 ? -1 : r ? 1 : ret;
out:
	if (have_inc)
		incident_release(&inc);
	if (body) {
		memset(body, 0, strlen(body)); /* it held the routing key */
		cJSON_free(body);
	}
	cJSON_Delete(row);
	strbuf_release(&msg);
	return ret;
}

int pagerduty_flush(struct store *st, const struct config *cfg, struct mirror_report *rep)
{
	struct outbox_item *items;
	struct strbuf url = STRBUF_INIT;
	struct keyring kr = { 0 };
	struct http_client c;
	size_t nr;
	int ready = 0, stop = 0, ret = 0;

	if (store_outbox_list(st, 1, &items, &nr) < 0)
		return -1;
	for (size_t i = 0; i < nr; i++) {
		int r;

		if (strcmp(items[i].target, TARGET))
			continue; /* a tracker's, Slack's */
		/* After a stop or an error, what the run did not reach stays queued. */
		if (stop || ret < 0) {
			rep->pending++;
			continue;
		}
		if (!ready) {
			if (enqueue_url(cfg, &url) < 0) {
				ret = -1;
				rep->pending++;
				continue;
			}
			if (http_client_init(&c, cfg) < 0) {
				http_client_release(&c);
				ret = -1;
				rep->pending++;
				continue;
			}
			c.label = "pagerduty";
			ready = 1;
		}
		r = deliver(st, cfg, &c, &kr, url.buf, &items[i], rep);
		if (r < 0)
			ret = -1;
		else if (r > 0)
			stop = 1; /* PagerDuty is down or throttling: the rest wait too */
	}
	if (ready)
		http_client_release(&c);
	keyring_release(&kr);
	strbuf_release(&url);
	outbox_list_free(items, nr);
	return ret;
}

/* ---- webhook v3 ---- */

void pagerduty_webhook_event_release(struct pagerduty_webhook_event *e)
{
	free(e->type);
	free(e->dedup_key);
	free(e->by);
	free(e->at);
	free(e->pd_id);
	memset(e, 0, sizeof(*e));
}

/*
 * The string member name of o into *out: 0 (NULL when absent or null), or
 * -1 with why when it is of another type, longer than max, or (unless
 * blank_controls) holds a control character.
 */
static int read_string(const cJSON *o, const char *where, const char *name, size_t max,
		       int blank_controls, char **out, struct strbuf *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	size_t len;

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v)) {
		strbuf_addf(why, "%s.%s is not a string", where, name);
		return -1;
	}
	len = strlen(v->valuestring);
	if (len > max) {
		strbuf_addf(why, "%s.%s is %zu bytes long, over %zu", where, name, len, max);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)v->valuestring[i];
		if ((ch < 0x20 || ch == 0x7f) && !blank_controls) {
			strbuf_addf(why, "%s.%s holds a control character", where, name);
			return -1;
		}
	}
	*out = xstrdup(v->valuestring);
	for (char *p = *out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return 0;
}

/* An object member that must be an object (or absent/null when optional): 0 or -1 with why. */
static int read_object(const cJSON *o, const char *where, const char *name, int optional,
		       const cJSON **out, struct strbuf *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	*out = NULL;
	if ((!v || cJSON_IsNull(v)) && optional)
		return 0;
	if (!v) {
		strbuf_addf(why, "%s has no %s", where, name);
		return -1;
	}
	if (!cJSON_IsObject(v)) {
		strbuf_addf(why, "%s.%s is not an object", where, name);
		return -1;
	}
	*out = v;
	return 0;
}

int pagerduty_webhook_read(const char *body, size_t len, struct pagerduty_webhook_event *out,
			   struct strbuf *why)
{
	cJSON *j = NULL;
	const cJSON *ev, *data, *agent;
	char *resource = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	strbuf_reset(why);
	if (!body || !len) {
		strbuf_addstr(why, "the webhook body is empty");
		return -1;
	}
	if (len > MAX_WEBHOOK) {
		strbuf_addf(why, "the webhook body is %zu bytes, over the %d of a PagerDuty event",
			    len, MAX_WEBHOOK);
		return -1;
	}
	j = cJSON_ParseWithLength(body, len);
	if (!j) {
		strbuf_addstr(why, "the webhook body is not JSON");
		return -1;
	}
	if (!cJSON_IsObject(j)) {
		strbuf_addstr(why, "the webhook body is not a JSON object");
		goto out;
	}
	if (!cJSON_GetObjectItemCaseSensitive(j, "event") &&
	    cJSON_GetObjectItemCaseSensitive(j, "messages")) {
		strbuf_addstr(why, "a webhook v1 or v2 body (\"messages\"), not v3 (\"event\")");
		goto out;
	}
	if (read_object(j, "the body", "event", 0, &ev, why) < 0 ||
	    read_string(ev, "event", "event_type", 100, 0, &out->type, why) < 0)
		goto out;
	if (!out->type || !*out->type) {
		strbuf_addstr(why, "event.event_type is missing");
		goto out;
	}
	for (const char *p = out->type; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '.' && *p != '_') {
			strbuf_addstr(why, "event.event_type is not a PagerDuty event type");
			goto out;
		}
	if (read_string(ev, "event", "resource_type", 100, 0, &resource, why) < 0)
		goto out;
	if ((resource && strcmp(resource, "incident")) ||
	    (!resource && !starts_with(out->type, "incident."))) {
		strbuf_addstr(why, "the webhook event is not about an incident");
		goto out;
	}
	if (read_object(ev, "event", "data", 0, &data, why) < 0 ||
	    read_object(ev, "event", "agent", 1, &agent, why) < 0 ||
	    read_string(ev, "event", "occurred_at", 64, 0, &out->at, why) < 0 ||
	    read_string(data, "event.data", "incident_key", MAX_DEDUP_KEY, 0, &out->dedup_key, why) < 0 ||
	    read_string(data, "event.data", "id", 64, 0, &out->pd_id, why) < 0)
		goto out;
	if (agent) {
		if (read_string(agent, "event.agent", "summary", 256, 1, &out->by, why) < 0)
			goto out;
		if (!out->by || !*out->by) {
			free(out->by);
			if (read_string(agent, "event.agent", "email", 256, 1, &out->by, why) < 0)
				goto out;
		}
		if (out->by && !*out->by) {
			free(out->by);
			out->by = NULL;
		}
	}
	if (out->dedup_key && !*out->dedup_key) {
		free(out->dedup_key);
		out->dedup_key = NULL;
	}
	ret = 0;
out:
	free(resource);
	cJSON_Delete(j);
	if (ret < 0)
		pagerduty_webhook_event_release(out);
	return ret;
}
