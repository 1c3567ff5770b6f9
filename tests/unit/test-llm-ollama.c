/*
 * test-llm-ollama.c: Ollama's native /api/chat (lib/llm-ollama.c): the
 * request body field by field, NDJSON streams in the shape of Ollama's
 * own (our data), fed whole and byte by byte, an error line after HTTP
 * 200, error bodies, and hostile lines.
 */
#include "../../lib/json.h"
#include "llm-test.h"
#include "test-lib.h"

static const struct llm_provider_ops *ops = &llm_ollama;

static void test_request(void)
{
	struct llm_conversation c = LLM_CONVERSATION_INIT;
	struct llm_settings s = { .provider = LLM_OLLAMA, .model = (char *)"llama3.2",
				  .max_output_tokens = 512, .temperature = 0 };
	struct llm_tool tools[] = {
		{ "get_pods", "The pods of a service",
		  "{\"type\":\"object\",\"properties\":{\"service\":{\"type\":\"string\"}}}" },
	};
	struct llm_reply r = LLM_REPLY_INIT;
	struct strbuf body = STRBUF_INIT;
	struct strvec headers = STRVEC_INIT;
	struct llm_tool_call *call;
	cJSON *j;
	const cJSON *m, *t;

	c.system = xstrdup("Answer briefly.");
	llm_add_user(&c, "what is wrong with cart?");
	llm_reply_add_text(&r, "Let me look.", 12);
	call = llm_reply_add_call(&r, NULL, "get_pods");
	llm_call_add_arguments(call, "{\"service\":\"cart\"}", 18);
	llm_reply_finish_calls(&r);
	llm_add_reply(&c, &r);
	llm_add_tool_result(&c, r.calls[0].id, "get_pods", "cart-1 CrashLoopBackOff");

	ops->request(&body, &headers, &s, &c, tools, 1, NULL);
	j = cJSON_Parse(body.buf);
	ok(cJSON_IsObject(j), "the body is a JSON object");
	is_str(json_string(j, "model"), "llama3.2", "model");
	ok(cJSON_IsTrue(json_get(j, "stream")), "stream: true");
	ok(json_path(j, "options.temperature") &&
	   json_path(j, "options.temperature")->valuedouble == 0, "options.temperature");
	is_int(json_int(json_object(j, "options"), "num_predict"), 512, "options.num_predict");
	is_int(cJSON_GetArraySize(json_get(j, "messages")), 4, "four messages");
	m = cJSON_GetArrayItem(json_get(j, "messages"), 0);
	ok(json_string_is(m, "role", "system") && json_string_is(m, "content", "Answer briefly."),
	   "the system prompt first");
	m = cJSON_GetArrayItem(json_get(j, "messages"), 1);
	ok(json_string_is(m, "role", "user") &&
	   json_string_is(m, "content", "what is wrong with cart?"), "the user's question");
	m = cJSON_GetArrayItem(json_get(j, "messages"), 2);
	ok(json_string_is(m, "role", "assistant") && json_string_is(m, "content", "Let me look."),
	   "the assistant's turn with its text");
	t = cJSON_GetArrayItem(json_get(m, "tool_calls"), 0);
	is_str(json_path_string(t, "function.name"), "get_pods", "its call's function.name");
	ok(cJSON_IsObject(json_path(t, "function.arguments")), "function.arguments is an object");
	is_str(json_path_string(t, "function.arguments.service"), "cart", "holding the arguments");
	m = cJSON_GetArrayItem(json_get(j, "messages"), 3);
	ok(json_string_is(m, "role", "tool") && json_string_is(m, "tool_name", "get_pods") &&
	   json_string_is(m, "content", "cart-1 CrashLoopBackOff"),
	   "the tool's answer: role tool, tool_name, content");
	t = cJSON_GetArrayItem(json_get(j, "tools"), 0);
	ok(json_string_is(t, "type", "function") &&
	   json_string_is(json_object(t, "function"), "name", "get_pods") &&
	   json_path_string(t, "function.parameters.properties.service.type"),
	   "tools in OpenAI's shape");
	ok(headers.nr == 1 && strvec_has(&headers, "Content-Type: application/json"),
	   "no key: only Content-Type");
	cJSON_Delete(j);

	strbuf_reset(&body);
	strvec_clear(&headers);
	ops->request(&body, &headers, &s, &c, NULL, 0, "k-123");
	j = cJSON_Parse(body.buf);
	ok(j && !json_get(j, "tools"), "no tools: no tools member");
	ok(strvec_has(&headers, "Authorization: Bearer k-123"), "a key as a bearer token");
	cJSON_Delete(j);

	strbuf_release(&body);
	strvec_clear(&headers);
	llm_reply_release(&r);
	llm_conversation_release(&c);
}

static void test_streams(void)
{
	llm_test_stream(ops, "text in pieces, then done with the counts",
		"{\"model\":\"llama3.2\",\"created_at\":\"2025-07-07T20:22:19.1Z\",\"message\":"
		"{\"role\":\"assistant\",\"content\":\"The cart \",\"images\":null},\"done\":false}\n"
		"{\"model\":\"llama3.2\",\"created_at\":\"2025-07-07T20:22:19.2Z\",\"message\":"
		"{\"role\":\"assistant\",\"content\":\"pod restarts.\"},\"done\":false}\n"
		"{\"model\":\"llama3.2\",\"created_at\":\"2025-07-07T20:22:19.3Z\",\"message\":"
		"{\"role\":\"assistant\",\"content\":\"\"},\"done_reason\":\"stop\",\"done\":true,"
		"\"total_duration\":4883583458,\"load_duration\":1334875,\"prompt_eval_count\":26,"
		"\"prompt_eval_duration\":342546000,\"eval_count\":282,\"eval_duration\":4535599000}\n",
		"rc=0|text=The cart pod restarts.|finish=stop|tokens=26/282");

	llm_test_stream(ops, "tool calls whole, arguments an object, \\r\\n and no final newline",
		"{\"model\":\"qwen3\",\"message\":{\"role\":\"assistant\",\"content\":\"\","
		"\"thinking\":\"hm\",\"tool_calls\":[{\"function\":{\"name\":\"get_pods\","
		"\"arguments\":{\"service\":\"cart\",\"limit\":3}}},{\"id\":\"call_x9\",\"function\":"
		"{\"index\":1,\"name\":\"get_logs\",\"arguments\":{}}}]},\"done\":false}\r\n"
		"\r\n"
		"{\"model\":\"qwen3\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},"
		"\"done_reason\":\"stop\",\"done\":true,\"prompt_eval_count\":169,\"eval_count\":15}",
		"rc=0|call call_1 get_pods {\"service\":\"cart\",\"limit\":3}|call call_x9 get_logs {}"
		"|finish=stop|tokens=169/15");

	llm_test_stream(ops, "done without done_reason, arguments as JSON text",
		"{\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":"
		"{\"name\":\"t\",\"arguments\":\"{\\\"a\\\":1}\"}}]},\"done\":false}\n"
		"{\"done\":true,\"prompt_eval_count\":61,\"eval_count\":468}\n",
		"rc=0|call call_1 t {\"a\":1}|tokens=61/468");

	llm_test_stream(ops, "an error line after HTTP 200",
		"{\"message\":{\"role\":\"assistant\",\"content\":\"Par\"},\"done\":false}\n"
		"{\"error\":\"an error was encountered while running the model: unexpected EOF\"}\n",
		"rc=-1|text=Par|error=an error was encountered while running the model: unexpected EOF");

	llm_test_stream(ops, "a line that is not JSON",
		"{\"message\":{\"content\":\"a\"}}\n{\"message\":{\"content\":\n",
		"rc=-1|text=a|error=the server sent a stream line that is not a JSON object");
}

static void test_hostile(void)
{
	struct strbuf s = STRBUF_INIT;
	struct llm_reply r = LLM_REPLY_INIT;
	int rc;

	strbuf_addstr(&s, "{\"message\":{\"tool_calls\":[");
	for (int i = 0; i < LLM_CALLS_MAX + 5; i++)
		strbuf_addf(&s, "%s{\"function\":{\"name\":\"t%d\",\"arguments\":{}}}", i ? "," : "", i);
	strbuf_addstr(&s, "]}}\n");
	rc = llm_test_feed(ops, s.buf, s.len, 0, &r);
	ok(rc == 0 && r.calls_nr == LLM_CALLS_MAX, "calls past LLM_CALLS_MAX are dropped");
	llm_reply_release(&r);

	strbuf_reset(&s);
	strbuf_addstr(&s, "{\"message\":{\"tool_calls\":[{\"function\":{\"name\":\"t\","
		      "\"arguments\":{\"a\":\"");
	strbuf_addchars(&s, 'x', LLM_ARGS_MAX + 100);
	strbuf_addstr(&s, "\"}}}]}}\n");
	rc = llm_test_feed(ops, s.buf, s.len, 0, &r);
	ok(rc == 0 && r.calls_nr == 1 && strlen(r.calls[0].arguments) <= LLM_ARGS_MAX,
	   "arguments past LLM_ARGS_MAX: bounded (%zu bytes)",
	   r.calls_nr ? strlen(r.calls[0].arguments) : 0);
	llm_reply_release(&r);

	strbuf_reset(&s);
	strbuf_addstr(&s, "{\"message\":{\"content\":\"");
	strbuf_addchars(&s, 'y', 10 << 20);
	strbuf_addstr(&s, "\"}}\n");
	rc = llm_test_feed(ops, s.buf, s.len, 65536, &r);
	ok((rc == 0 && r.text && strlen(r.text) <= LLM_TEXT_MAX) || (rc < 0 && r.error.len),
	   "a 10 MB line: bounded (rc %d)", rc);
	llm_reply_release(&r);

	strbuf_reset(&s);
	strbuf_addstr(&s, "{\"message\":{\"content\":\"\xff\xfe ok\"},\"done\":\"yes\","
		      "\"prompt_eval_count\":1e300,\"eval_count\":-3,\"done_reason\":5}\n"
		      "{\"message\":[],\"error\":null}\n"
		      "[1,2]\n");
	rc = llm_test_feed(ops, s.buf, s.len, 1, &r);
	ok(rc < 0 && r.error.len && r.text && !strcmp(r.text, "\xff\xfe ok") && !r.finish &&
	   !r.input_tokens && !r.output_tokens,
	   "invalid UTF-8 kept as data, wrong types ignored, a line that is no object an error");
	llm_reply_release(&r);

	strbuf_release(&s);
}

static void check_error(const char *body, const char *want, const char *title)
{
	struct strbuf why = STRBUF_INIT;

	ops->error(&why, body, strlen(body));
	is_str(why.buf, want, "%s", title);
	strbuf_release(&why);
}

int main(void)
{
	if (test_begin("llm-ollama") < 0)
		return 1;
	is_str(ops->name, "ollama", "the provider's name");
	is_str(ops->path, "/api/chat", "its path");
	is_int(ops->sse, 0, "it streams NDJSON");
	test_request();
	test_streams();
	test_hostile();
	check_error("{\"error\":\"model \\\"llama9\\\" not found, try pulling it first\"}",
		    "model \"llama9\" not found, try pulling it first", "Ollama's error body");
	check_error("{\"error\":{\"message\":\"unauthorized\",\"type\":\"api_error\"}}",
		    "unauthorized", "a proxy's in OpenAI's shape");
	check_error("404 page not found", "404 page not found", "not JSON: the line");
	return test_end();
}
