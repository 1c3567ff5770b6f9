/*
 * notify.c: Slack notifications through an incoming webhook, queued in the
 * store's outbox and delivered in order; see notify.h.
 *
 * A webhook answers 200 with the plain text "ok", or an error code as plain
 * text ("invalid_payload", "channel_not_found", "channel_is_archived",
 * "no_service", "rollup_error"), 429 with Retry-After when throttled. The
 * HTTP layer retries 5xx and 429; what is left for us is to tell a refusal
 * that will never change (4xx: fail it) from an outage (keep it queued).
 */
#include <cJSON.h>
#include <ctype.h>
#include <strings.h>

#include "http.h"
#include "notify.h"
#include "redact.h"

#define TARGET "slack"
#define OPERATION "notify"
#define WEBHOOK_ENV "SLACK_WEBHOOK_URL"
#define WEBHOOK_KEY "slack.webhook"

int notify_configured(const struct config *cfg)
{
	const char *v = getenv(WEBHOOK_ENV);
	const char *s = config_get_string(cfg, WEBHOOK_KEY);

	/* The same sources, in the same order, as config_get_secret(). */
	return (v && *v) || config_get_string(cfg, WEBHOOK_KEY "-command") || (s && *s);
}

/*
 * Append s as mrkdwn text: &, < and > are Slack's control characters and
 * become entities; control characters become blanks, so the message stays
 * one line whatever a title holds.
 */
static void add_escaped(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '&')
			strbuf_addstr(sb, "&amp;");
		else if (ch == '<')
			strbuf_addstr(sb, "&lt;");
		else if (ch == '>')
			strbuf_addstr(sb, "&gt;");
		else if (ch < 0x20 || ch == 0x7f)
			strbuf_addch(sb, ' ');
		else
			strbuf_addch(sb, ch);
	}
}

/* A mrkdwn link to the tracker: <url|label>, where a '|' in the URL would end it. */
static void add_link(struct strbuf *sb, const char *url, const char *label)
{
	strbuf_addch(sb, '<');
	for (const char *p = url; *p; p++) {
		char one[2] = { *p, '\0' };
		if (*p == '|')
			strbuf_addstr(sb, "%7C");
		else
			add_escaped(sb, one);
	}
	strbuf_addch(sb, '|');
	add_escaped(sb, label && *label ? label : "tracker");
	strbuf_addch(sb, '>');
}

char *notify_text(const struct incident *inc, const char *event)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "Incident %lld ", inc->id);
	add_escaped(&sb, event);
	strbuf_addstr(&sb, ": ");
	add_escaped(&sb, inc->title ? inc->title : "");
	strbuf_addstr(&sb, " (service ");
	add_escaped(&sb, inc->service ? inc->service : "");
	strbuf_addf(&sb, ", severity %s, state %s)", incident_severity_name(inc->severity),
		    incident_state_name(inc->state));
	if (inc->remote_url && *inc->remote_url) {
		strbuf_addch(&sb, ' ');
		add_link(&sb, inc->remote_url, inc->remote_key);
	}
	return strbuf_detach(&sb, NULL);
}

const char *notify_event(enum incident_state to)
{
	switch (to) {
	case STATE_ANALYSIS_COMPLETE:
		return "diagnosed";
	case STATE_DEPLOYMENT_COMPLETE:
		return "fixed";
	case STATE_INCIDENT_REQUIRES_HUMAN:
		return "escalated";
	case STATE_INCIDENT_RESOLVED:
		return "resolved";
	default:
		return NULL;
	}
}

int notify_queue(struct store *st, const struct incident *inc, const char *event)
{
	return notify_queue_detail(st, inc, event, NULL);
}

int notify_queue_detail(struct store *st, const struct incident *inc, const char *event,
			const char *detail)
{
	cJSON *p = cJSON_CreateObject();
	char *text = notify_text(inc, event);

	if (detail && *detail) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "%s: ", text);
		add_escaped(&sb, detail);
		free(text);
		text = strbuf_detach(&sb, NULL);
	}
	cJSON_AddStringToObject(p, "text", text);
	cJSON_AddStringToObject(p, "event", event);
	cJSON_AddNumberToObject(p, "incident", (double)inc->id);
	free(text);
	return outbox_queue(st, inc->id, NULL, TARGET, OPERATION, p);
}

/* ---- delivery ---- */

/* Wipe a strbuf that held a secret before giving its memory back. */
static void release_secret(struct strbuf *sb)
{
	if (sb->alloc)
		memset(sb->buf, 0, sb->alloc);
	strbuf_release(sb);
}

/*
 * Resolve the webhook into url and make a client that redacts it. Both the
 * whole URL and its path are registered: the path (/services/T/B/X) is the
 * part that grants the right to post, and an error may show it alone.
 */
static int open_webhook(const struct config *cfg, struct strbuf *url, struct http_client *c)
{
	const char *path;
	int r = config_get_secret(cfg, WEBHOOK_KEY, WEBHOOK_ENV, url);

	if (r < 0)
		return -1;
	if (r > 0)
		return error("no Slack webhook: set " WEBHOOK_ENV " or slack.webhook-command");
	if (strncasecmp(url->buf, "http://", 7) && strncasecmp(url->buf, "https://", 8)) {
		release_secret(url);
		return error("the Slack webhook is not an http:// or https:// URL");
	}
	if (http_client_init(c, cfg) < 0) {
		http_client_release(c);
		release_secret(url);
		return -1;
	}
	http_client_add_secret(c, url->buf);
	path = strchr(strstr(url->buf, "://") + 3, '/');
	if (path)
		http_client_add_secret(c, path);
	return 0;
}

/*
 * The request body: the text (what a phone's notification shows) and the
 * same text as a section block, with the tracker link under it. The link
 * is looked up now rather than when the notification was queued: the
 * ticket is often created by the same sync, just before.
 */
static char *request_body(const char *text, const struct incident *inc)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *blocks = cJSON_AddArrayToObject(body, "blocks");
	cJSON *section = cJSON_CreateObject(), *t;
	char *json;

	cJSON_AddStringToObject(body, "text", text);
	cJSON_AddStringToObject(section, "type", "section");
	t = cJSON_AddObjectToObject(section, "text");
	cJSON_AddStringToObject(t, "type", "mrkdwn");
	cJSON_AddStringToObject(t, "text", text);
	cJSON_AddItemToArray(blocks, section);
	if (inc && inc->remote_url && *inc->remote_url) {
		cJSON *context = cJSON_CreateObject();
		cJSON *elements = cJSON_AddArrayToObject(context, "elements");
		cJSON *el = cJSON_CreateObject();
		struct strbuf link = STRBUF_INIT;

		strbuf_addstr(&link, "Tracker: ");
		add_link(&link, inc->remote_url, inc->remote_key);
		cJSON_AddStringToObject(context, "type", "context");
		cJSON_AddStringToObject(el, "type", "mrkdwn");
		cJSON_AddStringToObject(el, "text", link.buf);
		cJSON_AddItemToArray(elements, el);
		cJSON_AddItemToArray(blocks, context);
		strbuf_release(&link);
	}
	/* The channel is outside the host: no secret in a title reaches it. */
	redact_json(body);
	json = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	return json;
}

/*
 * Append Slack's answer: its error code is a short plain-text word, but a
 * 5xx from the front door is an HTML page, which says nothing worth a line.
 */
static void add_answer(struct strbuf *sb, const struct strbuf *body)
{
	size_t start = 0, end = body->len;

	while (start < end && isspace((unsigned char)body->buf[start]))
		start++;
	while (end > start && isspace((unsigned char)body->buf[end - 1]))
		end--;
	if (start == end || body->buf[start] == '<')
		return;
	if (end - start > 100)
		end = start + 100;
	strbuf_addch(sb, ' ');
	for (size_t i = start; i < end; i++) {
		unsigned char ch = (unsigned char)body->buf[i];
		/* The codes are ASCII; anything else would only garble the line. */
		strbuf_addch(sb, ch < 0x20 || ch >= 0x7f ? '?' : ch);
	}
}

static int is_ok(const struct http_response *res)
{
	struct strbuf b = STRBUF_INIT;
	int ok;

	strbuf_add(&b, res->body.buf, res->body.len);
	strbuf_trim(&b);
	ok = res->status == 200 && !strcmp(b.buf, "ok");
	strbuf_release(&b);
	return ok;
}


/* Post one notification; on anything but OUTBOX_SENT, msg says why (unredacted). */
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
	/* A duplicate line in a channel is harmless next to a lost page. */
	req.no_retry = 0;
	strvec_push(&req.headers, "Content-Type: application/json; charset=utf-8");
	r = http_do(c, &req, &res);
	strbuf_addstr(msg, "slack: posting a notification: ");
	if (!r && is_ok(&res)) {
		out = OUTBOX_SENT;
	} else if (!r) {
		/* 4xx, or a 2xx that is not Slack's "ok": sending it again changes nothing. */
		strbuf_addf(msg, "HTTP %ld", res.status);
		add_answer(msg, &res.body);
		out = OUTBOX_REFUSED;
	} else {
		out = outbox_later(msg, &res, add_answer);
	}
	http_response_release(&res);
	http_request_release(&req);
	return out;
}

/* The text of a queued notification, or NULL when its payload is unusable. */
static char *payload_text(const char *payload)
{
	cJSON *p = cJSON_Parse(payload);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "text");
	char *text = cJSON_IsString(t) && *t->valuestring ? xstrdup(t->valuestring) : NULL;

	cJSON_Delete(p);
	return text;
}

/*
 * Deliver one entry: 0 when the run may go on, 1 when it must stop (Slack
 * is out of reach), -1 on a store error.
 */
static int deliver(struct store *st, struct http_client *c, const char *url,
		   const struct outbox_item *item, struct mirror_report *rep)
{
	struct incident inc = { 0 };
	struct strbuf msg = STRBUF_INIT;
	char *text = NULL, *body = NULL;
	enum outbox_outcome out;
	int have_inc = 0, ret = 0, r;

	if (strcmp(item->operation, OPERATION)) {
		strbuf_addf(&msg, "slack: unknown operation '%s'", item->operation);
		out = OUTBOX_REFUSED;
	} else if (!(text = payload_text(item->payload))) {
		strbuf_addstr(&msg, "slack: a queued notification has no text");
		out = OUTBOX_REFUSED;
	} else {
		if (item->incident_id > 0) {
			r = store_incident_get(st, item->incident_id, &inc);
			if (r < 0) {
				ret = -1;
				goto out;
			}
			have_inc = !r;
		}
		body = request_body(text, have_inc ? &inc : NULL);
		if (store_outbox_attempt(st, item->id) < 0) {
			ret = -1;
			goto out;
		}
		out = post(c, url, body, &msg);
	}
	/* Whatever came back, the webhook's address stays out of it. */
	http_redact(c, &msg);
	r = outbox_record(st, item->id, out, msg.buf, rep);
	ret = ret < 0 || r < 0 ? -1 : r ? 1 : ret;
out:
	if (have_inc)
		incident_release(&inc);
	cJSON_free(body);
	free(text);
	strbuf_release(&msg);
	return ret;
}

int notify_flush(struct store *st, const struct config *cfg, struct mirror_report *rep)
{
	struct outbox_item *items;
	struct strbuf url = STRBUF_INIT;
	struct http_client c;
	size_t nr;
	int ready = 0, stop = 0, ret = 0;

	if (store_outbox_list(st, 1, &items, &nr) < 0)
		return -1;
	for (size_t i = 0; i < nr && ret == 0; i++) {
		int r;

		if (strcmp(items[i].target, TARGET))
			continue; /* a tracker's */
		if (stop) {
			rep->pending++;
			continue;
		}
		/* Resolved only now: a webhook-command may ask for a passphrase. */
		if (!ready) {
			if (open_webhook(cfg, &url, &c) < 0) {
				ret = -1;
				break;
			}
			ready = 1;
		}
		r = deliver(st, &c, url.buf, &items[i], rep);
		if (r < 0)
			ret = -1;
		else if (r > 0)
			stop = 1; /* Slack is down or throttling: the rest wait too */
	}
	if (ready) {
		http_client_release(&c);
		release_secret(&url);
	}
	outbox_list_free(items, nr);
	return ret;
}
