/*
 * llm-openai.c: the OpenAI Chat Completions wire format, which every
 * OpenAI-compatible server speaks (OpenAI, vLLM, llama.cpp's server,
 * Ollama's /v1, Gemini's compatible endpoint, OpenRouter, Groq).
 *
 * The request is one JSON body with the whole conversation; the reply
 * streams as server-sent events, each data a chat.completion.chunk. The
 * servers agree on the shape, not on the details, so the reader is
 * tolerant where they differ (the quirks below are each in a test, in
 * tests/unit/test-llm-openai.c):
 *
 *   - a tool call arrives in pieces (deltas): the first usually with an
 *     id and a name, the rest with slices of the arguments' JSON text.
 *     OpenAI numbers them with "index"; some servers give no index, and
 *     some give every parallel call index 0. So a piece starts a new call
 *     when its index is new, or when it brings an id (or, without an
 *     index, a name) other than the call it would continue;
 *   - a first piece may have no id: llm_reply_finish_calls() makes one;
 *   - finish_reason "stop" on a reply with tool calls: the calls stand;
 *   - "choices": [] with the usage, "content": null, vLLM's stop_reason
 *     and token_ids, and fields nobody documented: ignored;
 *   - an {"error": {...}} as data after HTTP 200: the stream failed.
 *
 * Nothing is trusted for size: text and arguments are bounded by the
 * reply helpers (llm.h), and a call past LLM_CALLS_MAX is dropped.
 */
#include "json.h"
#include "llm-openai.h"
#include "llm.h"
#include "strbuf.h"

/* ---- the request ---- */

/*
 * A tool's schema as JSON. The schemas are sre's own, but a broken one
 * must not make a broken body: it becomes an object with no properties.
 */
static cJSON *schema_json(const char *text)
{
	cJSON *j = text ? cJSON_Parse(text) : NULL;

	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "type", "object");
		cJSON_AddItemToObject(j, "properties", cJSON_CreateObject());
	}
	return j;
}

cJSON *llm_openai_tools(const struct llm_tool *tools, size_t tools_nr)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < tools_nr; i++) {
		cJSON *t = cJSON_CreateObject(), *f = cJSON_CreateObject();

		cJSON_AddStringToObject(t, "type", "function");
		cJSON_AddStringToObject(f, "name", tools[i].name ? tools[i].name : "");
		if (tools[i].description)
			cJSON_AddStringToObject(f, "description", tools[i].description);
		cJSON_AddItemToObject(f, "parameters", schema_json(tools[i].parameters));
		cJSON_AddItemToObject(t, "function", f);
		cJSON_AddItemToArray(arr, t);
	}
	return arr;
}

static cJSON *message(const char *role, const char *content, int ollama)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddStringToObject(m, "role", role);
	/* OpenAI takes null for no text; Ollama wants a string. */
	if (ollama)
		cJSON_AddStringToObject(m, "content", content ? content : "");
	else
		json_add_string_or_null(m, "content", content);
	return m;
}

/*
 * Gemini 3 (through its OpenAI-compatible endpoint) refuses a history
 * whose tool calls lack the thought signature it gave the first call of
 * each turn (extra_content.google.thought_signature), with a 400. A call
 * here does not carry it (llm.h has no place for a provider's opaque
 * data), so the first call of each turn gets the placeholder Google
 * documents for histories it did not make, and only for a Gemini model:
 * OpenAI itself refuses members it does not know.
 */
static int wants_thought_signature(const struct llm_settings *s)
{
	return s->model && strcasestr(s->model, "gemini");
}

/* A call's arguments as the object Ollama wants; {} when they are not one. */
static cJSON *arguments_object(const char *text)
{
	cJSON *j = text ? cJSON_Parse(text) : NULL;

	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		j = cJSON_CreateObject();
	}
	return j;
}

static cJSON *assistant_message(const struct llm_settings *s, const struct llm_message *msg,
				int ollama)
{
	cJSON *m = message("assistant", msg->text, ollama), *calls;

	if (!msg->calls_nr)
		return m;
	calls = cJSON_AddArrayToObject(m, "tool_calls");
	for (size_t i = 0; i < msg->calls_nr; i++) {
		const struct llm_tool_call *call = &msg->calls[i];
		cJSON *c = cJSON_CreateObject(), *f = cJSON_CreateObject();

		if (!ollama) {
			cJSON_AddStringToObject(c, "id", call->id ? call->id : "");
			cJSON_AddStringToObject(c, "type", "function");
		}
		cJSON_AddStringToObject(f, "name", call->name ? call->name : "");
		/* OpenAI's arguments are the JSON text; Ollama's the object. */
		if (ollama)
			cJSON_AddItemToObject(f, "arguments", arguments_object(call->arguments));
		else
			cJSON_AddStringToObject(f, "arguments", call->arguments ? call->arguments : "{}");
		cJSON_AddItemToObject(c, "function", f);
		if (!ollama && !i && wants_thought_signature(s)) {
			cJSON *google = cJSON_AddObjectToObject(cJSON_AddObjectToObject(c,
						"extra_content"), "google");

			cJSON_AddStringToObject(google, "thought_signature",
						"skip_thought_signature_validator");
		}
		cJSON_AddItemToArray(calls, c);
	}
	return m;
}

cJSON *llm_openai_chat(const struct llm_settings *s, const struct llm_conversation *c,
		       const struct llm_tool *tools, size_t tools_nr, int ollama)
{
	cJSON *req = cJSON_CreateObject(), *msgs;

	cJSON_AddStringToObject(req, "model", s->model ? s->model : "");
	msgs = cJSON_AddArrayToObject(req, "messages");
	if (c->system)
		cJSON_AddItemToArray(msgs, message("system", c->system, ollama));
	for (size_t i = 0; i < c->nr; i++) {
		const struct llm_message *msg = &c->v[i];
		cJSON *m;

		switch (msg->role) {
		case LLM_USER:
			m = message("user", msg->text ? msg->text : "", ollama);
			break;
		case LLM_ASSISTANT:
			m = assistant_message(s, msg, ollama);
			break;
		case LLM_TOOL:
		default:
			m = message("tool", msg->text ? msg->text : "", ollama);
			/* OpenAI answers a call by its id, Ollama by its tool's name. */
			if (ollama)
				cJSON_AddStringToObject(m, "tool_name", msg->tool ? msg->tool : "");
			else
				cJSON_AddStringToObject(m, "tool_call_id", msg->call_id ? msg->call_id : "");
			break;
		}
		cJSON_AddItemToArray(msgs, m);
	}
	if (tools_nr)
		cJSON_AddItemToObject(req, "tools", llm_openai_tools(tools, tools_nr));
	cJSON_AddTrueToObject(req, "stream");
	return req;
}

void llm_openai_send(struct strbuf *body, struct strvec *headers, cJSON *req, const char *key)
{
	char *text = cJSON_PrintUnformatted(req);

	if (text)
		strbuf_addstr(body, text);
	free(text);
	cJSON_Delete(req);
	strvec_push(headers, "Content-Type: application/json");
	/* A local server asks for none; a hosted one, or a proxy in front, does. */
	if (key)
		strvec_pushf(headers, "Authorization: Bearer %s", key);
}

static void openai_request(struct strbuf *body, struct strvec *headers,
			   const struct llm_settings *s, const struct llm_conversation *c,
			   const struct llm_tool *tools, size_t tools_nr, const char *key)
{
	cJSON *req = llm_openai_chat(s, c, tools, tools_nr, 0), *opts;

	/* Without it, a stream never says how many tokens it took. */
	opts = cJSON_AddObjectToObject(req, "stream_options");
	cJSON_AddTrueToObject(opts, "include_usage");
	/*
	 * max_tokens rather than OpenAI's newer max_completion_tokens: every
	 * compatible server reads it, and OpenAI still does for its chat
	 * models. A reasoning model's 400 turns it (and temperature) round.
	 */
	if (s->max_output_tokens > 0)
		cJSON_AddNumberToObject(req, s->completion_tokens ? "max_completion_tokens" : "max_tokens",
					(double)s->max_output_tokens);
	if (!s->no_temperature)
		cJSON_AddNumberToObject(req, "temperature", s->temperature);
	llm_openai_send(body, headers, req, key);
}

/* ---- errors, in a body or in the stream ---- */

#define ERROR_LINE_MAX 400  /* bytes of a server's message kept */

void llm_openai_one_line(struct strbuf *sb, const char *s, size_t len, size_t max)
{
	size_t start = sb->len, keep = utf8_cut(s, len, max);

	for (size_t i = 0; i < keep; i++) {
		unsigned char ch = (unsigned char)s[i];

		strbuf_addch(sb, ch < 0x20 || ch == 0x7f ? ' ' : ch);
	}
	if (keep < len)
		strbuf_addstr(sb, "...");
	/* A message of spaces says nothing: take none of it. */
	while (sb->len > start && sb->buf[sb->len - 1] == ' ')
		strbuf_setlen(sb, sb->len - 1);
}

static void add_scalar(struct strbuf *sb, const cJSON *v)
{
	long long n;

	if (cJSON_IsString(v) && *v->valuestring)
		llm_openai_one_line(sb, v->valuestring, strlen(v->valuestring), 64);
	else if (!json_to_ll(v, -JSON_INT_MAX, JSON_INT_MAX, &n))
		strbuf_addf(sb, "%lld", n);
}

/*
 * The error object of OpenAI ({message, type, param, code}), OpenRouter
 * (code a number, the upstream's words in metadata.raw), Groq (code a
 * word) or vLLM ({object: "error", message, type, code} at the top) as
 * "message (type, code): raw". 0, or -1 when obj holds no message.
 */
static int add_error_object(struct strbuf *why, const cJSON *obj)
{
	const char *msg = json_nonempty(obj, "message");
	const char *raw = json_path_string(obj, "metadata.raw");
	struct strbuf extra = STRBUF_INIT;

	if (!msg && cJSON_IsString(obj) && *obj->valuestring)
		msg = obj->valuestring;   /* {"error": "..."}, as llama.cpp and Ollama say it */
	if (!msg)
		return -1;
	llm_openai_one_line(why, msg, strlen(msg), ERROR_LINE_MAX);
	if (cJSON_IsObject(obj)) {
		add_scalar(&extra, json_get(obj, "type"));
		if (extra.len && json_get(obj, "code"))
			strbuf_addstr(&extra, ", ");
		add_scalar(&extra, json_get(obj, "code"));
		/* an empty scalar left a dangling separator */
		if (extra.len >= 2 && !strcmp(extra.buf + extra.len - 2, ", "))
			strbuf_setlen(&extra, extra.len - 2);
	}
	if (extra.len)
		strbuf_addf(why, " (%s)", extra.buf);
	if (raw && *raw) {
		strbuf_addstr(why, ": ");
		llm_openai_one_line(why, raw, strlen(raw), ERROR_LINE_MAX);
	}
	strbuf_release(&extra);
	return 0;
}

/*
 * A JSON error answer: {"error": {...}} (most), [{"error": {...}}]
 * (Gemini's compatible endpoint), {"error": "..."}, vLLM's object with
 * the message at the top, or FastAPI's {"detail": "..."}. 0, or -1 when it is none of these.
 */
static int add_error_json(struct strbuf *why, const cJSON *j)
{
	if (cJSON_IsArray(j))
		j = cJSON_GetArrayItem(j, 0);
	if (!cJSON_IsObject(j))
		return -1;
	if (json_get(j, "error"))
		return add_error_object(why, json_get(j, "error"));
	if (json_string_is(j, "object", "error") || json_nonempty(j, "message"))
		return add_error_object(why, j);
	if (json_nonempty(j, "detail")) {
		/* FastAPI's own, in front of vLLM or LiteLLM: {"detail": "Not Found"} */
		const char *d = json_nonempty(j, "detail");

		llm_openai_one_line(why, d, strlen(d), ERROR_LINE_MAX);
		return 0;
	}
	return -1;
}

void llm_openai_first_line(struct strbuf *sb, const char *body, size_t len)
{
	size_t i = 0, eol;

	if (!body)
		return;
	while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
		i++;
	for (eol = i; eol < len && body[eol] != '\n' && body[eol] != '\r'; eol++)
		;
	llm_openai_one_line(sb, body + i, eol - i, 200);
}

static void openai_error(struct strbuf *why, const char *body, size_t len)
{
	cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;

	if (!j || add_error_json(why, j) < 0)
		llm_openai_first_line(why, body, len);
	cJSON_Delete(j);
}

/* ---- the stream ---- */

struct openai_state {
	/* The wire index of each call of the reply, or -1 when it had none. */
	long long index[LLM_CALLS_MAX];
};

static void *openai_state_new(void)
{
	return xcalloc(1, sizeof(struct openai_state));
}

static void openai_state_free(void *state)
{
	free(state);
}

static void set_once(char **field, const char *value)
{
	if (value && !*field)
		*field = xstrdup(value);
}

static int differs(const char *have, const char *given)
{
	return have && given && strcmp(have, given);
}

static int has_arguments(const cJSON *piece)
{
	const cJSON *args = json_path(piece, "function.arguments");

	return (cJSON_IsString(args) && *args->valuestring) || cJSON_IsObject(args);
}

/* The call a tool_calls piece belongs to, made when it starts one; NULL: dropped. */
static struct llm_tool_call *call_for(struct openai_state *st, struct llm_reply *r,
				      const cJSON *piece)
{
	const char *id = json_nonempty(piece, "id");
	const char *name = json_path_string(piece, "function.name");
	long long index = -1;
	struct llm_tool_call *call = NULL;
	size_t at = 0;

	if (name && !*name)
		name = NULL;
	if (json_get(piece, "index") &&
	    json_ll(piece, "index", 0, JSON_INT_MAX, &index) < 0)
		index = -1;   /* a broken index is no index */

	if (index >= 0) {
		/* The last call with this index: a later one may reuse it. */
		for (size_t i = r->calls_nr; i-- > 0;) {
			if (i < LLM_CALLS_MAX && st->index[i] == index) {
				call = &r->calls[i];
				break;
			}
		}
		/*
		 * Every parallel call at index 0: an id (or a name) other than
		 * its call's starts one.
		 */
		if (call && (differs(call->id, id) || differs(call->name, name)))
			call = NULL;
	} else if (r->calls_nr) {
		call = &r->calls[r->calls_nr - 1];
		if (differs(call->id, id) || differs(call->name, name))
			call = NULL;
	}

	if (call) {
		set_once(&call->id, id);
		set_once(&call->name, name);
		return call;
	}
	/*
	 * Nothing to start a call with (Gemini's delta that holds only its
	 * thought signature): no call, rather than a nameless one.
	 */
	if (!id && !name && !has_arguments(piece))
		return NULL;
	at = r->calls_nr;
	call = llm_reply_add_call(r, id, name);
	if (call && at < LLM_CALLS_MAX)
		st->index[at] = index;
	return call;
}

static void add_arguments(struct llm_tool_call *call, const cJSON *args)
{
	if (cJSON_IsString(args)) {
		llm_call_add_arguments(call, args->valuestring, strlen(args->valuestring));
	} else if (cJSON_IsObject(args)) {
		/* Some servers send the object itself, as Ollama's native API does. */
		char *text = cJSON_PrintUnformatted(args);

		if (text)
			llm_call_add_arguments(call, text, strlen(text));
		free(text);
	}
}

static void read_choice(struct openai_state *st, struct llm_reply *r, const cJSON *choice)
{
	const cJSON *delta = json_object(choice, "delta"), *piece;
	const char *finish = json_nonempty(choice, "finish_reason");
	const char *content;

	/* A server that ignores stream: true answers with a message, whole. */
	if (!delta)
		delta = json_object(choice, "message");
	content = json_string(delta, "content");
	if (content && *content)
		llm_reply_add_text(r, content, strlen(content));
	cJSON_ArrayForEach(piece, json_array(delta, "tool_calls")) {
		struct llm_tool_call *call;

		if (!cJSON_IsObject(piece))
			continue;
		call = call_for(st, r, piece);
		if (call)
			add_arguments(call, json_path(piece, "function.arguments"));
	}
	if (finish) {
		free(r->finish);
		r->finish = xstrdup(finish);
	}
}

static void read_usage(struct llm_reply *r, const cJSON *usage)
{
	long long n;

	if (!cJSON_IsObject(usage))
		return;
	if (!json_ll(usage, "prompt_tokens", 0, JSON_INT_MAX, &n))
		r->input_tokens = n;
	if (!json_ll(usage, "completion_tokens", 0, JSON_INT_MAX, &n))
		r->output_tokens = n;
}

static int stream_error(struct llm_reply *r, const cJSON *j, const char *data, size_t len)
{
	strbuf_reset(&r->error);
	if (!j || add_error_json(&r->error, j) < 0) {
		strbuf_addstr(&r->error, "the stream reported an error: ");
		llm_openai_one_line(&r->error, data, len, 200);
	}
	return -1;
}

static int openai_event(void *state, struct llm_reply *r, const char *event, const char *data,
			size_t len)
{
	struct openai_state *st = state;
	cJSON *j;
	const cJSON *choice;

	if (len == 6 && !memcmp(data, "[DONE]", 6))
		return 0;
	j = cJSON_ParseWithLength(data, len);
	if (event && !strcmp(event, "error")) {
		stream_error(r, j, data, len);
		cJSON_Delete(j);
		return -1;
	}
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		strbuf_reset(&r->error);
		strbuf_addstr(&r->error, "the server sent a stream event that is not a JSON object");
		return -1;
	}
	if (json_get(j, "error") && !cJSON_IsNull(json_get(j, "error"))) {
		stream_error(r, j, data, len);
		cJSON_Delete(j);
		return -1;
	}
	cJSON_ArrayForEach(choice, json_array(j, "choices")) {
		long long n = 0;

		/* sre asks for one choice; a server that sends more: the first. */
		if (json_get(choice, "index") &&
		    (json_ll(choice, "index", 0, JSON_INT_MAX, &n) < 0 || n != 0))
			continue;
		read_choice(st, r, choice);
	}
	read_usage(r, json_get(j, "usage"));
	read_usage(r, json_path(j, "x_groq.usage"));   /* Groq's, beside its own fields */
	cJSON_Delete(j);
	return 0;
}

const struct llm_provider_ops llm_openai = {
	.name = "openai",
	.path = "/chat/completions",
	.sse = 1,
	.request = openai_request,
	.state_new = openai_state_new,
	.state_free = openai_state_free,
	.event = openai_event,
	.end = NULL,   /* llm_stream_finish() gives the calls their ids */
	.error = openai_error,
};
