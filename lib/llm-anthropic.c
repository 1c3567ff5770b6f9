/*
 * llm-anthropic.c: the Anthropic Messages API (POST /v1/messages, streamed
 * as server-sent events) as one of llm.h's wire formats.
 *
 * The request. The conversation's system text is the top-level `system`;
 * every other turn is a message of content blocks: the user's text, the
 * assistant's text and its `tool_use` blocks (input is an object, parsed
 * from the call's arguments text), and the answers to the calls as
 * `tool_result` blocks of a user message. The API wants the roles to
 * alternate and every result of one assistant turn in the next user
 * message, so consecutive turns of the same role are merged into one
 * message. A turn with nothing to say (an assistant turn without text or
 * calls) is left out: the API refuses empty content.
 *
 * The stream. message_start (input tokens), then content blocks, each
 * opened by content_block_start with its `index`, filled by
 * content_block_delta and closed by content_block_stop; message_delta
 * (stop_reason, cumulative output tokens) and message_stop. Blocks are
 * addressed by index, and may interleave: a small table maps an index to
 * what it is (text, a call of the reply, or a block we ignore). Only
 * `text` and `tool_use` blocks are read: server_tool_use,
 * tool_search_tool_result, thinking and whatever comes next are skipped
 * with their deltas, since they are the server's business, not a call for
 * us to run. `ping` and unknown events mean nothing. An `error` event may
 * arrive after HTTP 200 (overloaded): it ends the reply with its type and
 * message.
 *
 * What the recordings show, and this accepts: `data:` JSON padded with
 * trailing blanks, a tool_use whose first input_json_delta is empty (and
 * whose input is {} when no fragment follows), text blocks of one reply
 * separated by server tool blocks (joined here by a blank line).
 *
 * Everything that arrives is bounded: block indexes past BLOCKS_MAX are
 * dropped, the calls and their arguments by llm.c's limits, an error
 * message to one cut line.
 */
#include <cJSON.h>

#include "json.h"
#include "llm.h"

#define ANTHROPIC_VERSION "2023-06-01"
#define BLOCKS_MAX 256          /* block indexes read of one reply; more is hostile */
#define ERROR_LINE_MAX 300      /* an error message, cut */

/* ---- the request ---- */

static cJSON *text_block(const char *text)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddStringToObject(b, "type", "text");
	cJSON_AddStringToObject(b, "text", text);
	return b;
}

/* The call's arguments as the object tool_use wants: {} when they are no object. */
static cJSON *call_input(const char *arguments)
{
	cJSON *in = arguments ? cJSON_Parse(arguments) : NULL;

	if (!cJSON_IsObject(in)) {
		cJSON_Delete(in);
		in = cJSON_CreateObject();
	}
	return in;
}

/*
 * The content array of a message of this role: the last message's when it
 * has the same role (turns merged), else a new message's.
 */
static cJSON *content_for(cJSON *messages, const char *role)
{
	cJSON *last = cJSON_GetArrayItem(messages, cJSON_GetArraySize(messages) - 1);
	cJSON *m;

	if (last && json_string_is(last, "role", role))
		return json_get(last, "content");
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "role", role);
	cJSON_AddItemToArray(messages, m);
	return cJSON_AddArrayToObject(m, "content");
}

static void add_message(cJSON *messages, const struct llm_message *m)
{
	cJSON *content, *b;

	switch (m->role) {
	case LLM_USER:
		if (!m->text)
			return;
		content = content_for(messages, "user");
		cJSON_AddItemToArray(content, text_block(m->text));
		return;
	case LLM_ASSISTANT:
		if (!(m->text && *m->text) && !m->calls_nr)
			return;
		content = content_for(messages, "assistant");
		/* An empty text block is refused by the API. */
		if (m->text && *m->text)
			cJSON_AddItemToArray(content, text_block(m->text));
		for (size_t i = 0; i < m->calls_nr; i++) {
			const struct llm_tool_call *call = &m->calls[i];
			char made[32];

			snprintf(made, sizeof(made), "call_%zu", i + 1);
			b = cJSON_CreateObject();
			cJSON_AddStringToObject(b, "type", "tool_use");
			cJSON_AddStringToObject(b, "id", call->id ? call->id : made);
			cJSON_AddStringToObject(b, "name", call->name ? call->name : "");
			cJSON_AddItemToObject(b, "input", call_input(call->arguments));
			cJSON_AddItemToArray(content, b);
		}
		return;
	case LLM_TOOL:
		content = content_for(messages, "user");
		b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "type", "tool_result");
		cJSON_AddStringToObject(b, "tool_use_id", m->call_id ? m->call_id : "");
		cJSON_AddStringToObject(b, "content", m->text ? m->text : "");
		cJSON_AddItemToArray(content, b);
		return;
	}
}

/* A tool's JSON Schema; an object schema of no properties when it does not parse. */
static cJSON *input_schema(const char *parameters)
{
	cJSON *s = parameters ? cJSON_Parse(parameters) : NULL;

	if (!cJSON_IsObject(s)) {
		cJSON_Delete(s);
		s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "type", "object");
		cJSON_AddObjectToObject(s, "properties");
	}
	return s;
}

static void anthropic_request(struct strbuf *body, struct strvec *headers,
			      const struct llm_settings *s, const struct llm_conversation *c,
			      const struct llm_tool *tools, size_t tools_nr, const char *key)
{
	cJSON *root = cJSON_CreateObject(), *messages;
	char *text;

	cJSON_AddStringToObject(root, "model", s->model ? s->model : "");
	/* Required by the API: the documented default when none is set. */
	cJSON_AddNumberToObject(root, "max_tokens",
				(double)(s->max_output_tokens > 0 ? s->max_output_tokens : 1024));
	cJSON_AddNumberToObject(root, "temperature", s->temperature);
	if (c->system && *c->system)
		cJSON_AddStringToObject(root, "system", c->system);
	cJSON_AddTrueToObject(root, "stream");
	messages = cJSON_AddArrayToObject(root, "messages");
	for (size_t i = 0; i < c->nr; i++)
		add_message(messages, &c->v[i]);
	if (tools_nr) {
		cJSON *arr = cJSON_AddArrayToObject(root, "tools");

		for (size_t i = 0; i < tools_nr; i++) {
			cJSON *t = cJSON_CreateObject();

			cJSON_AddStringToObject(t, "name", tools[i].name ? tools[i].name : "");
			cJSON_AddStringToObject(t, "description",
						tools[i].description ? tools[i].description : "");
			cJSON_AddItemToObject(t, "input_schema", input_schema(tools[i].parameters));
			cJSON_AddItemToArray(arr, t);
		}
	}
	text = cJSON_PrintUnformatted(root);
	strbuf_addstr(body, text);
	cJSON_free(text);
	cJSON_Delete(root);

	strvec_push(headers, "Content-Type: application/json");
	strvec_push(headers, "anthropic-version: " ANTHROPIC_VERSION);
	if (key)
		strvec_pushf(headers, "x-api-key: %s", key);
}

/* ---- the stream ---- */

enum block_kind { BLOCK_NONE, BLOCK_TEXT, BLOCK_CALL, BLOCK_IGNORED };

struct block {
	enum block_kind kind;
	size_t call;              /* BLOCK_CALL: its place in r->calls (which moves) */
	char *start_input;        /* BLOCK_CALL: a non-empty input given whole at its start */
};

struct anthropic_state {
	struct block blocks[BLOCKS_MAX];
	int text_pending_break;   /* a text block began after text: a blank line before its own */
};

static void *anthropic_state_new(void)
{
	return xcalloc(1, sizeof(struct anthropic_state));
}

static void anthropic_state_free(void *state)
{
	struct anthropic_state *st = state;

	if (!st)
		return;
	for (size_t i = 0; i < BLOCKS_MAX; i++)
		free(st->blocks[i].start_input);
	free(st);
}

/* The block at the event's index, or NULL for an index out of range or none. */
static struct block *block_at(struct anthropic_state *st, const cJSON *ev)
{
	long long index;

	if (json_ll(ev, "index", 0, BLOCKS_MAX - 1, &index) < 0)
		return NULL;
	return &st->blocks[index];
}

static struct llm_tool_call *block_call(struct block *b, struct llm_reply *r)
{
	return b->kind == BLOCK_CALL && b->call < r->calls_nr ? &r->calls[b->call] : NULL;
}

/*
 * A call whose input came whole at its start and never in fragments keeps
 * that input; the usual start's {} followed by fragments keeps the
 * fragments.
 */
static void close_block(struct block *b, struct llm_reply *r)
{
	struct llm_tool_call *call = block_call(b, r);

	if (call && b->start_input && !(call->arguments && *call->arguments))
		llm_call_add_arguments(call, b->start_input, strlen(b->start_input));
	free(b->start_input);
	b->start_input = NULL;
}

static void add_text(struct anthropic_state *st, struct llm_reply *r, const char *text)
{
	if (!text || !*text)
		return;
	if (st->text_pending_break && r->text && *r->text)
		llm_reply_add_text(r, "\n\n", 2);
	st->text_pending_break = 0;
	llm_reply_add_text(r, text, strlen(text));
}

static void block_start(struct anthropic_state *st, struct llm_reply *r, const cJSON *ev)
{
	struct block *b = block_at(st, ev);
	const cJSON *cb = json_object(ev, "content_block");
	const cJSON *input;
	struct llm_tool_call *call;

	if (!b)
		return;
	close_block(b, r);           /* an index opened twice: the first is over */
	b->kind = BLOCK_IGNORED;
	if (json_string_is(cb, "type", "text")) {
		b->kind = BLOCK_TEXT;
		st->text_pending_break = r->text && *r->text;
		add_text(st, r, json_string(cb, "text"));
	} else if (json_string_is(cb, "type", "tool_use")) {
		call = llm_reply_add_call(r, json_string(cb, "id"), json_string(cb, "name"));
		if (!call)
			return;      /* past LLM_CALLS_MAX: ignored with its deltas */
		b->kind = BLOCK_CALL;
		b->call = (size_t)(call - r->calls);
		input = json_object(cb, "input");
		if (input && input->child) {
			char *text = cJSON_PrintUnformatted(input);

			/* Past LLM_ARGS_MAX it would be cut, and no object: not kept. */
			if (text && strlen(text) <= LLM_ARGS_MAX)
				b->start_input = xstrdup(text);
			cJSON_free(text);
		}
	}
}

static void block_delta(struct anthropic_state *st, struct llm_reply *r, const cJSON *ev)
{
	struct block *b = block_at(st, ev);
	const cJSON *delta = json_object(ev, "delta");
	struct llm_tool_call *call;
	const char *s;

	if (!b || b->kind == BLOCK_IGNORED)
		return;
	if (json_string_is(delta, "type", "text_delta")) {
		/* A delta of a block never started is taken as text: tolerant, and harmless. */
		if (b->kind == BLOCK_CALL)
			return;
		add_text(st, r, json_string(delta, "text"));
	} else if (json_string_is(delta, "type", "input_json_delta")) {
		call = block_call(b, r);
		s = json_string(delta, "partial_json");
		if (call && s)
			llm_call_add_arguments(call, s, strlen(s));
	}
	/* thinking_delta, signature_delta, citations_delta: not ours. */
}

/*
 * What was added to out from start, made one line: control characters
 * blanked, cut (on a character's boundary) past ERROR_LINE_MAX bytes.
 */
static void one_line(struct strbuf *out, size_t start)
{
	size_t cut = start + ERROR_LINE_MAX;

	for (size_t i = start; i < out->len; i++)
		if ((unsigned char)out->buf[i] < 0x20 || out->buf[i] == 0x7f)
			out->buf[i] = ' ';
	if (out->len > cut) {
		while (cut > start && ((unsigned char)out->buf[cut] & 0xc0) == 0x80)
			cut--;
		strbuf_setlen(out, cut);
		strbuf_addstr(out, "...");
	}
	while (out->len > start && out->buf[out->len - 1] == ' ')
		strbuf_setlen(out, out->len - 1);
}

/* An error object {type, message} as "type: message". */
static void error_line(struct strbuf *out, const char *type, const char *message)
{
	size_t start = out->len;

	if (type && *type)
		strbuf_addstr(out, type);
	if (message && *message)
		strbuf_addf(out, "%s%s", out->len > start ? ": " : "", message);
	one_line(out, start);
}

/* Data that is no JSON, as one line: its first line, cut. */
static void first_line(struct strbuf *out, const char *data, size_t len)
{
	const char *nl = memchr(data, '\n', len);
	size_t start = out->len;

	strbuf_add(out, data, nl ? (size_t)(nl - data) : len);
	one_line(out, start);
}

static void usage(struct llm_reply *r, const cJSON *u)
{
	long long n;

	if (json_ll(u, "input_tokens", 0, JSON_INT_MAX, &n) == 0)
		r->input_tokens = n;
	if (json_ll(u, "output_tokens", 0, JSON_INT_MAX, &n) == 0)
		r->output_tokens = n;
}

static int anthropic_event(void *state, struct llm_reply *r, const char *event,
			   const char *data, size_t len)
{
	struct anthropic_state *st = state;
	cJSON *ev = cJSON_ParseWithLength(data, len);
	const char *type = json_string(ev, "type");
	int ret = 0;

	/*
	 * The data's type says what it is, and the event line says the same
	 * when present; either one saying error is enough to stop.
	 */
	if (!type)
		type = event ? event : "";
	if (!strcmp(type, "error") || (event && !strcmp(event, "error"))) {
		const cJSON *e = json_object(ev, "error");

		strbuf_reset(&r->error);
		if (e)
			error_line(&r->error, json_string(e, "type"), json_string(e, "message"));
		else if (ev)
			error_line(&r->error, NULL, json_string(ev, "message"));
		else if (len)
			first_line(&r->error, data, len);
		if (!r->error.len)
			strbuf_addstr(&r->error, "the stream reported an error");
		ret = -1;
	} else if (!ev) {
		; /* a truncated or broken event: what it carried is lost, nothing more */
	} else if (!strcmp(type, "message_start")) {
		usage(r, json_path(ev, "message.usage"));
	} else if (!strcmp(type, "content_block_start")) {
		block_start(st, r, ev);
	} else if (!strcmp(type, "content_block_delta")) {
		block_delta(st, r, ev);
	} else if (!strcmp(type, "content_block_stop")) {
		struct block *b = block_at(st, ev);

		if (b)
			close_block(b, r);
	} else if (!strcmp(type, "message_delta")) {
		const char *stop = json_nonempty(json_object(ev, "delta"), "stop_reason");

		if (stop) {
			free(r->finish);
			r->finish = xstrdup(stop);
		}
		usage(r, json_object(ev, "usage"));
	}
	/* message_stop, ping and events not known yet: nothing to do. */
	cJSON_Delete(ev);
	return ret;
}

/* The stream ended: blocks left open keep what they had. */
static void anthropic_end(void *state, struct llm_reply *r)
{
	struct anthropic_state *st = state;

	for (size_t i = 0; i < BLOCKS_MAX; i++)
		close_block(&st->blocks[i], r);
}

/*
 * An error answer: {"type": "error", "error": {"type", "message"},
 * "request_id"} as "type: message (request req_...)"; a body that is not
 * that (a proxy's HTML page) by its first line.
 */
static void anthropic_error(struct strbuf *why, const char *body, size_t len)
{
	cJSON *root = body ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *e = json_object(root, "error");
	const char *id = json_nonempty(root, "request_id");

	if (e && (json_string(e, "type") || json_string(e, "message"))) {
		size_t start = why->len;

		strbuf_addstr(why, json_string_or(e, "type", ""));
		strbuf_addf(why, "%s%s", why->len > start ? ": " : "",
			    json_string_or(e, "message", ""));
		if (id)
			strbuf_addf(why, " (request %s)", id);
		one_line(why, start);
	} else if (body && len) {
		first_line(why, body, len);
	}
	cJSON_Delete(root);
}

const struct llm_provider_ops llm_anthropic = {
	.name = "anthropic",
	.path = "/v1/messages",
	.sse = 1,
	.request = anthropic_request,
	.state_new = anthropic_state_new,
	.state_free = anthropic_state_free,
	.event = anthropic_event,
	.end = anthropic_end,
	.error = anthropic_error,
};
