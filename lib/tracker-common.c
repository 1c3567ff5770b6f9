/*
 * tracker-common.c: what the tracker backends (tracker-github.c,
 * tracker-jira.c) share, declared in tracker-internal.h: the record block
 * in comments, the fingerprint hash in labels, turning an HTTP exchange
 * into a TRACKER_* code with one clear line for the user, and releasing
 * the remote_issue and remote_comment the backends fill (public in
 * tracker.h, as mirror.c frees them too).
 *
 * It sits below the backends and calls none of them, nor tracker.c: the
 * dispatcher (tracker.c) calls the backends, the backends call this file,
 * and nothing calls back up.
 */
#include <ctype.h>

#include "json.h"
#include "timeutil.h"
#include "tracker-internal.h"

void remote_issue_release(struct remote_issue *ri)
{
	free(ri->key);
	free(ri->url);
	free(ri->title);
	free(ri->body);
	free(ri->fingerprint);
	free(ri->service);
	free(ri->severity);
	free(ri->status);
	free(ri->assignee);
	free(ri->priority);
	free(ri->updated);
	memset(ri, 0, sizeof(*ri));
	ri->state = -1;
}

void remote_issue_list_free(struct remote_issue *list, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		remote_issue_release(&list[i]);
	free(list);
}

void remote_comment_list_free(struct remote_comment *list, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(list[i].id);
		free(list[i].author);
		free(list[i].author_id);
		free(list[i].created);
		free(list[i].text);
		cJSON_Delete(list[i].record);
	}
	free(list);
}

#define RECORD_FENCE "```json sre-record\n"

void record_format(struct strbuf *sb, const cJSON *record)
{
	char *json = cJSON_PrintUnformatted(record);

	strbuf_addstr(sb, "\n\n" RECORD_FENCE);
	strbuf_addstr(sb, json ? json : "{}");
	strbuf_addstr(sb, "\n```\n");
	cJSON_free(json);
}

int record_parse(const char *text, char **prose, cJSON **record)
{
	const char *fence = strstr(text, RECORD_FENCE), *json, *end;
	struct strbuf sb = STRBUF_INIT;

	*record = NULL;
	if (!fence) {
		*prose = xstrdup(text);
		return 0;
	}
	json = fence + strlen(RECORD_FENCE);
	end = strstr(json, "\n```");
	if (end) {
		char *copy = xstrndup(json, (size_t)(end - json));
		*record = cJSON_Parse(copy);
		free(copy);
		if (*record && !cJSON_IsObject(*record)) {
			cJSON_Delete(*record);
			*record = NULL;
		}
	}
	strbuf_add(&sb, text, (size_t)(fence - text));
	strbuf_rtrim(&sb);
	*prose = strbuf_detach(&sb, NULL);
	return 0;
}

cJSON *tracker_incident_record(const struct incident *inc)
{
	cJSON *record = cJSON_CreateObject();
	char opened[32];

	format_iso8601(opened, sizeof(opened), inc->opened_at);
	cJSON_AddNumberToObject(record, "sre", 1);
	cJSON_AddStringToObject(record, "kind", "incident");
	cJSON_AddNumberToObject(record, "id", (double)inc->id);
	json_add_string_or_null(record, "fingerprint", inc->fingerprint);
	json_add_string_or_null(record, "service", inc->service);
	json_add_string_or_null(record, "title", inc->title);
	cJSON_AddStringToObject(record, "severity", incident_severity_name(inc->severity));
	json_add_string_or_null(record, "source", inc->source);
	cJSON_AddStringToObject(record, "state", incident_state_name(inc->state));
	cJSON_AddStringToObject(record, "opened_at", opened);
	return record;
}

void fingerprint_short(char out[13], const char *fingerprint)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)fingerprint; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	snprintf(out, 13, "%012llx", (unsigned long long)(h & 0xffffffffffffULL));
}

/* The length of the UTF-8 character at p (1 to 4), or 0 when it is none. */
static size_t utf8_char_len(const unsigned char *p)
{
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, surrogates and past U+10FFFF are no characters either. */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return 0;
	return n;
}

char *tracker_text_clean(const char *s, size_t max_chars, int one_line)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	struct strbuf sb = STRBUF_INIT;
	char *out;

	while (*p) {
		size_t n = utf8_char_len(p);

		if (*p == '\n' || *p == '\t' || *p == '\r')
			strbuf_addch(&sb, one_line ? ' ' : *p);
		else if (!n || *p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] <= 0x9f))
			strbuf_addch(&sb, '?');
		else
			strbuf_add(&sb, p, n);
		p += n ? n : 1;
	}
	if (one_line)
		strbuf_trim(&sb);
	out = utf8_shorten(sb.buf, max_chars);
	strbuf_release(&sb);
	return out;
}

void tracker_quiet_mentions(struct strbuf *out, const char *text)
{
	for (const char *p = text ? text : ""; *p; p++) {
		strbuf_addch(out, *p);
		if (*p == '@' && (p == text || !isalnum((unsigned char)p[-1])) && isalnum((unsigned char)p[1]))
			strbuf_addstr(out, "\xe2\x80\x8b");
	}
}

int tracker_name_valid(const char *s, const char *set, size_t max)
{
	size_t len = s ? strlen(s) : 0;

	return len && len <= max && strspn(s, set) == len;
}

/*
 * The tracker's own words: JIRA's errorMessages[] and errors{} (and a
 * gateway's "message"), or the start of a plain-text body. GitHub's
 * answers are read by lib/github-api.c, which checks its own.
 */
static void tracker_message(struct strbuf *sb, const struct http_response *res)
{
	cJSON *j = cJSON_ParseWithLength(res->body.buf, res->body.len), *v;
	size_t before = sb->len;

	if (j) {
		v = cJSON_GetObjectItemCaseSensitive(j, "message");
		if (cJSON_IsString(v))
			strbuf_addf(sb, " %s", v->valuestring);
		v = cJSON_GetObjectItemCaseSensitive(j, "errors");
		if (cJSON_IsObject(v)) {
			cJSON *e;
			cJSON_ArrayForEach(e, v)
				if (cJSON_IsString(e))
					strbuf_addf(sb, "%s%s: %s", sb->len > before ? "; " : " ",
						    e->string, e->valuestring);
		}
		v = cJSON_GetObjectItemCaseSensitive(j, "errorMessages");
		if (cJSON_IsArray(v)) {
			cJSON *e;
			cJSON_ArrayForEach(e, v)
				if (cJSON_IsString(e))
					strbuf_addf(sb, "%s%s", sb->len > before ? "; " : " ",
						    e->valuestring);
		}
		cJSON_Delete(j);
	}
	if (sb->len == before && res->body.len) {
		/* Plain text (Slack, a proxy's page): its first line, bounded. */
		size_t n = utf8_cut(res->body.buf, strcspn(res->body.buf, "\r\n"), 200);
		strbuf_addf(sb, " %.*s", (int)n, res->body.buf);
	}
	/* The server's words, one line: no newline or control character of theirs. */
	for (size_t i = before; i < sb->len; i++)
		if ((unsigned char)sb->buf[i] < 0x20 || sb->buf[i] == 0x7f)
			sb->buf[i] = ' ';
}

int tracker_check(struct tracker *t, const char *what, const struct http_response *res,
		  const long *ok_status)
{
	strbuf_reset(&t->error);
	if (res->outcome != HTTP_OK) {
		strbuf_addf(&t->error, "%s: %s: ", t->ops->name, what);
		/* With no answer at all, curl's words do not say from where. */
		if (!res->status && t->server && !strstr(res->error.buf, t->server))
			strbuf_addf(&t->error, "%s: ", t->server);
		strbuf_addstr(&t->error, res->error.buf);
		if (res->status)
			tracker_message(&t->error, res); /* the tracker's own words */
		http_redact(&t->http, &t->error);
		return res->outcome == HTTP_TRANSIENT ? TRACKER_RETRY : TRACKER_FAIL;
	}
	for (const long *s = ok_status; *s; s++)
		if (res->status == *s)
			return TRACKER_OK;
	strbuf_addf(&t->error, "%s: %s: HTTP %ld", t->ops->name, what, res->status);
	tracker_message(&t->error, res);
	http_redact(&t->http, &t->error);
	if (res->status == 404)
		return TRACKER_NOT_FOUND;
	if (res->status == 429 || res->status >= 500)
		return TRACKER_RETRY;
	return TRACKER_FAIL;
}
