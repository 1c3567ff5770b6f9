/*
 * llm.c: what every wire format of the LLM client shares (llm.h): the
 * conversation and the reply, the framing of a stream (server-sent
 * events or NDJSON lines, handed to the provider's parser one event at a
 * time) and the JSON shim for models without native tools. The client is
 * in llm-client.c, beside the table of providers.
 */
#include <ctype.h>
#include <math.h>

#include <cJSON.h>

#include "json.h"
#include "llm.h"
#include "redact.h"
#include "util.h"

/* The longest line or event of a stream: past it, the stream is refused. */
#define LLM_LINE_MAX (4 << 20)

/* ---- the conversation ---- */

static void call_release(struct llm_tool_call *c)
{
	free(c->id);
	free(c->name);
	free(c->arguments);
}

static void message_release(struct llm_message *m)
{
	free(m->text);
	for (size_t i = 0; i < m->calls_nr; i++)
		call_release(&m->calls[i]);
	free(m->calls);
	free(m->call_id);
	free(m->tool);
}

void llm_conversation_release(struct llm_conversation *c)
{
	free(c->system);
	for (size_t i = 0; i < c->nr; i++)
		message_release(&c->v[i]);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static struct llm_message *add_message(struct llm_conversation *c, enum llm_role role)
{
	struct llm_message *m;

	ALLOC_GROW(c->v, c->nr + 1, c->alloc);
	m = &c->v[c->nr++];
	memset(m, 0, sizeof(*m));
	m->role = role;
	return m;
}

void llm_add_user(struct llm_conversation *c, const char *text)
{
	add_message(c, LLM_USER)->text = xstrdup(text);
}

void llm_add_reply(struct llm_conversation *c, const struct llm_reply *r)
{
	struct llm_message *m = add_message(c, LLM_ASSISTANT);

	m->text = r->text ? xstrdup(r->text) : NULL;
	for (size_t i = 0; i < r->calls_nr; i++) {
		struct llm_tool_call *to;
		ALLOC_GROW(m->calls, m->calls_nr + 1, m->calls_alloc);
		to = &m->calls[m->calls_nr++];
		memset(to, 0, sizeof(*to));
		to->id = xstrdup(r->calls[i].id ? r->calls[i].id : "");
		to->name = xstrdup(r->calls[i].name ? r->calls[i].name : "");
		to->arguments = xstrdup(r->calls[i].arguments ? r->calls[i].arguments : "{}");
	}
}

void llm_add_tool_result(struct llm_conversation *c, const char *call_id, const char *tool,
			 const char *text)
{
	struct llm_message *m = add_message(c, LLM_TOOL);

	m->call_id = xstrdup(call_id);
	m->tool = xstrdup(tool);
	m->text = xstrdup(text);
}

/* ---- the reply ---- */

void llm_reply_release(struct llm_reply *r)
{
	void (*on_text)(void *, const char *, size_t) = r->on_text;
	void *on_text_arg = r->on_text_arg;

	free(r->text);
	for (size_t i = 0; i < r->calls_nr; i++)
		call_release(&r->calls[i]);
	free(r->calls);
	free(r->finish);
	strbuf_release(&r->error);
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->error, 0);
	r->on_text = on_text;
	r->on_text_arg = on_text_arg;
}

/* Append len bytes to *buf (NUL-terminated), growing it by doubling, up to max bytes. */
static void append_bounded(char **buf, size_t *have, size_t *alloc, const char *text, size_t len,
			   size_t max)
{
	if (*have >= max)
		return;
	if (len > max - *have)
		len = max - *have;
	if (*have + len + 1 > *alloc) {
		size_t want = *alloc ? *alloc : 64;
		while (want < *have + len + 1)
			want *= 2;
		*buf = xrealloc(*buf, want);
		*alloc = want;
	}
	memcpy(*buf + *have, text, len);
	*have += len;
	(*buf)[*have] = '\0';
}

void llm_reply_add_text(struct llm_reply *r, const char *text, size_t len)
{
	size_t before = r->text_len;

	if (!len)
		return;
	r->produced = 1;
	append_bounded(&r->text, &r->text_len, &r->text_alloc, text, len, LLM_TEXT_MAX);
	/* What was kept, no more: a server's flood stops at the same bound. */
	if (r->on_text && r->text_len > before)
		r->on_text(r->on_text_arg, r->text + before, r->text_len - before);
}

struct llm_tool_call *llm_reply_add_call(struct llm_reply *r, const char *id, const char *name)
{
	struct llm_tool_call *c;

	if (r->calls_nr >= LLM_CALLS_MAX)
		return NULL;
	ALLOC_GROW(r->calls, r->calls_nr + 1, r->calls_alloc);
	c = &r->calls[r->calls_nr++];
	c->id = id && *id ? xstrdup(id) : NULL;
	c->name = name && *name ? xstrdup(name) : NULL;
	c->arguments = NULL;
	c->arguments_len = c->arguments_alloc = 0;
	r->produced = 1;
	return c;
}

void llm_call_add_arguments(struct llm_tool_call *call, const char *text, size_t len)
{
	if (!len)
		return;
	append_bounded(&call->arguments, &call->arguments_len, &call->arguments_alloc, text, len,
		       LLM_ARGS_MAX);
}

void llm_reply_finish_calls(struct llm_reply *r)
{
	for (size_t i = 0; i < r->calls_nr; i++) {
		struct llm_tool_call *c = &r->calls[i];
		cJSON *args;

		if (!c->id)
			c->id = xstrfmt("call_%zu", i + 1);
		if (!c->name)
			c->name = xstrdup("");
		/* Arguments that are no JSON object are an empty one: the caller checks them anyway. */
		args = c->arguments ? cJSON_Parse(c->arguments) : NULL;
		if (!cJSON_IsObject(args)) {
			free(c->arguments);
			c->arguments = xstrdup("{}");
			c->arguments_len = 2;
			c->arguments_alloc = 3;
		}
		cJSON_Delete(args);
	}
}

/* ---- a stream ---- */

struct llm_stream {
	const struct llm_provider_ops *ops;
	struct llm_reply *r;
	void *state;
	struct strbuf line;       /* the line being read */
	struct strbuf event;      /* SSE: the event's name */
	struct strbuf data;       /* SSE: its data, lines joined by \n */
	int have_data;
	int failed;
	int done;                 /* data: [DONE] */
};

struct llm_stream *llm_stream_new(const struct llm_provider_ops *ops, struct llm_reply *r)
{
	struct llm_stream *st = xcalloc(1, sizeof(*st));

	st->ops = ops;
	st->r = r;
	st->state = ops->state_new ? ops->state_new() : NULL;
	strbuf_init(&st->line, 0);
	strbuf_init(&st->event, 0);
	strbuf_init(&st->data, 0);
	return st;
}

void llm_stream_free(struct llm_stream *st)
{
	if (!st)
		return;
	if (st->ops->state_free)
		st->ops->state_free(st->state);
	strbuf_release(&st->line);
	strbuf_release(&st->event);
	strbuf_release(&st->data);
	free(st);
}

static int fail(struct llm_stream *st, const char *why)
{
	if (!st->r->error.len)
		strbuf_addstr(&st->r->error, why);
	st->failed = 1;
	return -1;
}

static int dispatch(struct llm_stream *st, const char *event, const char *data, size_t len)
{
	if (st->failed)
		return -1;
	if (st->ops->event(st->state, st->r, event, data, len) < 0) {
		if (!st->r->error.len)
			strbuf_addstr(&st->r->error, "the stream reported an error");
		st->failed = 1;
		return -1;
	}
	return 0;
}

/* An SSE event is over (a blank line, or the end): hand it on. */
static int sse_dispatch(struct llm_stream *st)
{
	int r = 0;

	if (st->have_data && !st->done)
		r = dispatch(st, st->event.len ? st->event.buf : NULL, st->data.buf, st->data.len);
	strbuf_reset(&st->event);
	strbuf_reset(&st->data);
	st->have_data = 0;
	return r;
}

/* One line of the stream, without its end of line. */
static int stream_line(struct llm_stream *st, const char *p, size_t n)
{
	const char *value;
	size_t field;

	if (!st->ops->sse) {
		while (n && isspace((unsigned char)*p)) {
			p++;
			n--;
		}
		return n ? dispatch(st, NULL, p, n) : 0;
	}
	if (!n)
		return sse_dispatch(st);
	if (*p == ':')
		return 0; /* a comment: a keep-alive */
	value = memchr(p, ':', n);
	field = value ? (size_t)(value - p) : n;
	if (value) {
		value++;
		if (value < p + n && *value == ' ')
			value++;
	} else {
		value = p + n;
	}
	if (field == 4 && !memcmp(p, "data", 4)) {
		size_t len = (size_t)(p + n - value);
		if (len == 6 && !memcmp(value, "[DONE]", 6)) {
			st->done = 1;
			return 0;
		}
		if (st->data.len + len + 1 > LLM_LINE_MAX)
			return fail(st, "an event of the stream is too long");
		if (st->have_data)
			strbuf_addch(&st->data, '\n');
		strbuf_add(&st->data, value, len);
		st->have_data = 1;
	} else if (field == 5 && !memcmp(p, "event", 5)) {
		strbuf_reset(&st->event);
		strbuf_add(&st->event, value, (size_t)(p + n - value) > 64 ? 64 :
			   (size_t)(p + n - value));
	}
	/* id:, retry: and unknown fields mean nothing here. */
	return 0;
}

int llm_stream_feed(struct llm_stream *st, const char *buf, size_t len)
{
	const char *end = buf + len;

	while (buf < end && !st->failed) {
		const char *nl = memchr(buf, '\n', (size_t)(end - buf));
		size_t n = nl ? (size_t)(nl - buf) : (size_t)(end - buf);

		if (st->line.len + n > LLM_LINE_MAX)
			return fail(st, "a line of the stream is too long");
		strbuf_add(&st->line, buf, n);
		buf += n;
		if (!nl)
			break;
		buf++;
		if (st->line.len && st->line.buf[st->line.len - 1] == '\r')
			strbuf_setlen(&st->line, st->line.len - 1);
		if (stream_line(st, st->line.buf, st->line.len) < 0) {
			strbuf_reset(&st->line);
			return -1;
		}
		strbuf_reset(&st->line);
	}
	return st->failed ? -1 : 0;
}

int llm_stream_event(struct llm_stream *st, const char *event, const char *data, size_t len)
{
	return dispatch(st, event, data, len);
}

int llm_stream_finish(struct llm_stream *st)
{
	if (!st->failed && st->line.len) {
		if (st->line.buf[st->line.len - 1] == '\r')
			strbuf_setlen(&st->line, st->line.len - 1);
		stream_line(st, st->line.buf, st->line.len);
		strbuf_reset(&st->line);
	}
	if (!st->failed && st->ops->sse)
		sse_dispatch(st);
	if (st->ops->end)
		st->ops->end(st->state, st->r);
	llm_reply_finish_calls(st->r);
	return st->failed ? -1 : 0;
}

/* ---- the JSON shim ---- */

void llm_shim_prompt(struct strbuf *out, const struct llm_tool *tools, size_t tools_nr)
{
	strbuf_addstr(out, "You can call these tools. To call one, answer with nothing but a JSON "
		      "object {\"tool\": <name>, \"arguments\": {...}} and wait for its result. "
		      "To answer, call the tool submit_diagnosis the same way.\n");
	for (size_t i = 0; i < tools_nr; i++)
		strbuf_addf(out, "- %s: %s Arguments (JSON Schema): %s\n", tools[i].name,
			    tools[i].description ? tools[i].description : "",
			    tools[i].parameters ? tools[i].parameters : "{}");
}

/* The JSON object text holds: inside a ```json fence, or the text itself trimmed. */
static char *shim_object(const char *text)
{
	const char *fence = strstr(text, "```"), *start, *end;

	if (fence) {
		start = fence + 3;
		while (*start && *start != '\n' && !isspace((unsigned char)*start) && *start != '{')
			start++;  /* the fence's language: json */
		end = strstr(start, "```");
		if (!end)
			end = start + strlen(start);
	} else {
		start = text;
		end = text + strlen(text);
	}
	while (start < end && isspace((unsigned char)*start))
		start++;
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	if (end - start < 2 || *start != '{' || end[-1] != '}')
		return NULL;
	return xstrndup(start, (size_t)(end - start));
}

int llm_shim_read(struct llm_reply *r)
{
	char *obj_text = r->text ? shim_object(r->text) : NULL;
	cJSON *obj = obj_text ? cJSON_Parse(obj_text) : NULL;
	const cJSON *tool = json_get(obj, "tool"), *args = json_get(obj, "arguments");
	struct llm_tool_call *c;
	char *args_text;
	int made = 0;

	if (cJSON_IsString(tool) && *tool->valuestring && (!args || cJSON_IsObject(args)) &&
	    (c = llm_reply_add_call(r, NULL, tool->valuestring))) {
		args_text = args ? cJSON_PrintUnformatted(args) : xstrdup("{}");
		llm_call_add_arguments(c, args_text, strlen(args_text));
		free(args_text);
		free(r->text);
		r->text = NULL;
		r->text_len = r->text_alloc = 0;
		llm_reply_finish_calls(r);
		made = 1;
	}
	cJSON_Delete(obj);
	free(obj_text);
	return made;
}

