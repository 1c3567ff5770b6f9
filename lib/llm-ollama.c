/*
 * llm-ollama.c: Ollama's native /api/chat, which streams NDJSON: one
 * JSON object a line, each with a piece of the message, the last with
 * "done": true, why it stopped and the token counts.
 *
 * It differs from OpenAI's format (lib/llm-openai.c, which also reaches
 * Ollama through its /v1) where it matters to a parser: a tool call
 * arrives whole in one line, its arguments an object rather than JSON
 * text; a tool's answer names the tool (tool_name), not the call; the
 * settings go in "options" (temperature, num_predict); and an error is
 * {"error": "..."}, in the body of a refusal or as a line of the stream.
 */
#include "json.h"
#include "llm-openai.h"
#include "llm.h"
#include "strbuf.h"

/* ---- the request ---- */

static void ollama_request(struct strbuf *body, struct strvec *headers,
			   const struct llm_settings *s, const struct llm_conversation *c,
			   const struct llm_tool *tools, size_t tools_nr, const char *key)
{
	cJSON *req = llm_openai_chat(s, c, tools, tools_nr, 1), *opts;

	opts = cJSON_AddObjectToObject(req, "options");
	cJSON_AddNumberToObject(opts, "temperature", s->temperature);
	if (s->max_output_tokens > 0)
		cJSON_AddNumberToObject(opts, "num_predict", (double)s->max_output_tokens);
	llm_openai_send(body, headers, req, key);
}

/* ---- errors ---- */

/* {"error": "..."} into why; -1 when j is not that. */
static int add_error(struct strbuf *why, const cJSON *j)
{
	const char *msg = json_nonempty(j, "error");
	const char *inner = json_nonempty(json_object(j, "error"), "message");

	if (!msg)
		msg = inner;   /* a proxy in front speaking OpenAI's shape */
	if (!msg)
		return -1;
	llm_openai_one_line(why, msg, strlen(msg), 400);
	return 0;
}

static void ollama_error(struct strbuf *why, const char *body, size_t len)
{
	cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;

	if (add_error(why, j) < 0)
		llm_openai_first_line(why, body, len);
	cJSON_Delete(j);
}

/* ---- the stream ---- */

static void *ollama_state_new(void)
{
	return NULL;   /* each line stands alone: a call arrives whole */
}

static void ollama_state_free(void *state)
{
}

static void read_call(struct llm_reply *r, const cJSON *c)
{
	const cJSON *f = json_object(c, "function"), *args = json_get(f, "arguments");
	struct llm_tool_call *call;

	if (!f)
		return;
	/* Newer Ollamas give the call an id; older ones none (one is made up). */
	call = llm_reply_add_call(r, json_nonempty(c, "id"), json_nonempty(f, "name"));
	if (!call)
		return;   /* past LLM_CALLS_MAX */
	if (cJSON_IsObject(args)) {
		char *text = cJSON_PrintUnformatted(args);

		if (text)
			llm_call_add_arguments(call, text, strlen(text));
		free(text);
	} else if (cJSON_IsString(args)) {
		/* A model template that emits the JSON text: take it as OpenAI's. */
		llm_call_add_arguments(call, args->valuestring, strlen(args->valuestring));
	}
}

static int ollama_event(void *state, struct llm_reply *r, const char *event, const char *data,
			size_t len)
{
	cJSON *j;
	const cJSON *msg, *c;
	const char *content, *reason;
	long long n;

	/* A blank line (a \r\n stream's leftover) carries nothing. */
	while (len && (data[len - 1] == '\r' || data[len - 1] == ' ' || data[len - 1] == '\t'))
		len--;
	if (!len)
		return 0;
	j = cJSON_ParseWithLength(data, len);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		strbuf_reset(&r->error);
		strbuf_addstr(&r->error, "the server sent a stream line that is not a JSON object");
		return -1;
	}
	if (json_get(j, "error") && !cJSON_IsNull(json_get(j, "error"))) {
		strbuf_reset(&r->error);
		if (add_error(&r->error, j) < 0)
			strbuf_addstr(&r->error, "the stream reported an error");
		cJSON_Delete(j);
		return -1;
	}
	msg = json_object(j, "message");
	content = json_string(msg, "content");
	if (content && *content)
		llm_reply_add_text(r, content, strlen(content));
	cJSON_ArrayForEach(c, json_array(msg, "tool_calls"))
		read_call(r, c);
	if (json_bool(j, "done")) {
		reason = json_nonempty(j, "done_reason");
		if (reason) {
			free(r->finish);
			r->finish = xstrdup(reason);
		}
	}
	if (!json_ll(j, "prompt_eval_count", 0, JSON_INT_MAX, &n))
		r->input_tokens = n;
	if (!json_ll(j, "eval_count", 0, JSON_INT_MAX, &n))
		r->output_tokens = n;
	cJSON_Delete(j);
	return 0;
}

const struct llm_provider_ops llm_ollama = {
	.name = "ollama",
	.path = "/api/chat",
	.sse = 0,
	.request = ollama_request,
	.state_new = ollama_state_new,
	.state_free = ollama_state_free,
	.event = ollama_event,
	.end = NULL,
	.error = ollama_error,
};
