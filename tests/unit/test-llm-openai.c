/*
 * test-llm-openai.c: the OpenAI Chat Completions wire format
 * (lib/llm-openai.c): the request body field by field, the streams that
 * real compatible servers send (each quirk of llm.h in a stream of its
 * own, in the recorded traffic's shape but our own data), each fed whole
 * and byte by byte, an error after HTTP 200, error bodies, and hostile
 * streams that must end in an error or a bounded reply.
 */
#include "../../lib/json.h"
#include "../../lib/llm-openai.h"
#include "llm-test.h"
#include "test-lib.h"

#define D(json) "data: " json "\n\n"
#define CHUNK(choices) "{\"id\":\"chatcmpl-7\",\"object\":\"chat.completion.chunk\"," \
	"\"created\":1754432618,\"model\":\"gpt-4o-2024-08-06\",\"choices\":" choices "}"

static const struct llm_provider_ops *ops = &llm_openai;

static void test_request(void)
{
	struct llm_conversation c = LLM_CONVERSATION_INIT;
	struct llm_settings s = { .provider = LLM_OPENAI, .model = (char *)"gpt-4o",
				  .max_output_tokens = 1024, .temperature = 0 };
	struct llm_tool tools[] = {
		{ "grep_log", "Search a service's log",
		  "{\"type\":\"object\",\"properties\":{\"service\":{\"type\":\"string\"}},"
		  "\"required\":[\"service\"]}" },
		{ "list_sources", "What evidence there is", "not json" },
	};
	struct llm_reply r = LLM_REPLY_INIT;
	struct strbuf body = STRBUF_INIT;
	struct strvec headers = STRVEC_INIT;
	struct llm_tool_call *call;
	cJSON *j;
	const cJSON *m, *t;

	c.system = xstrdup("You are an SRE adviser.");
	llm_add_user(&c, "Why did checkout fail?");
	call = llm_reply_add_call(&r, "call_A1", "grep_log");
	llm_call_add_arguments(call, "{\"service\":\"checkout\"}", 22);
	llm_reply_finish_calls(&r);
	llm_add_reply(&c, &r);
	llm_add_tool_result(&c, "call_A1", "grep_log", "line 1: OOMKilled");

	ops->request(&body, &headers, &s, &c, tools, 2, "sk-test-key");
	j = cJSON_Parse(body.buf);
	ok(cJSON_IsObject(j), "the body is a JSON object");
	is_str(json_string(j, "model"), "gpt-4o", "model");
	ok(cJSON_IsTrue(json_get(j, "stream")), "stream: true");
	ok(cJSON_IsTrue(json_path(j, "stream_options.include_usage")),
	   "stream_options.include_usage: true (a stream says its tokens)");
	is_int(json_int(j, "max_tokens"), 1024, "max_tokens");
	ok(cJSON_IsNumber(json_get(j, "temperature")) &&
	   json_get(j, "temperature")->valuedouble == 0, "temperature 0");

	is_int(cJSON_GetArraySize(json_get(j, "messages")), 4, "four messages: system first");
	m = cJSON_GetArrayItem(json_get(j, "messages"), 0);
	is_str(json_string(m, "role"), "system", "messages[0] is the system prompt");
	is_str(json_string(m, "content"), "You are an SRE adviser.", "its text");
	m = cJSON_GetArrayItem(json_get(j, "messages"), 1);
	is_str(json_string(m, "role"), "user", "messages[1] is the user's");
	is_str(json_string(m, "content"), "Why did checkout fail?", "its text");
	m = cJSON_GetArrayItem(json_get(j, "messages"), 2);
	is_str(json_string(m, "role"), "assistant", "messages[2] is the assistant's");
	ok(cJSON_IsNull(json_get(m, "content")), "content null when it only made calls");
	t = cJSON_GetArrayItem(json_get(m, "tool_calls"), 0);
	is_str(json_string(t, "id"), "call_A1", "its call's id");
	is_str(json_string(t, "type"), "function", "type function");
	is_str(json_path_string(t, "function.name"), "grep_log", "function.name");
	is_str(json_path_string(t, "function.arguments"), "{\"service\":\"checkout\"}",
	       "function.arguments is the JSON text");
	m = cJSON_GetArrayItem(json_get(j, "messages"), 3);
	is_str(json_string(m, "role"), "tool", "messages[3] is the tool's answer");
	is_str(json_string(m, "tool_call_id"), "call_A1", "tool_call_id");
	is_str(json_string(m, "content"), "line 1: OOMKilled", "content");

	is_int(cJSON_GetArraySize(json_get(j, "tools")), 2, "two tools");
	t = cJSON_GetArrayItem(json_get(j, "tools"), 0);
	is_str(json_string(t, "type"), "function", "tools[0].type");
	is_str(json_path_string(t, "function.name"), "grep_log", "tools[0].function.name");
	is_str(json_path_string(t, "function.description"), "Search a service's log",
	       "tools[0].function.description");
	is_str(json_path_string(t, "function.parameters.properties.service.type"), "string",
	       "tools[0].function.parameters is the schema, parsed");
	t = cJSON_GetArrayItem(json_get(j, "tools"), 1);
	is_str(json_path_string(t, "function.parameters.type"), "object",
	       "a schema that is not JSON becomes an empty object schema");

	ok(headers.nr == 2 && strvec_has(&headers, "Content-Type: application/json") &&
	   strvec_has(&headers, "Authorization: Bearer sk-test-key"),
	   "headers: Content-Type and the key as a bearer token");
	cJSON_Delete(j);

	/* No tools, no key, no text at all. */
	strbuf_reset(&body);
	strvec_clear(&headers);
	s.max_output_tokens = 0;
	s.temperature = 0.5;
	ops->request(&body, &headers, &s, &c, NULL, 0, NULL);
	j = cJSON_Parse(body.buf);
	ok(j && !json_get(j, "tools"), "no tools: no tools member");
	ok(!json_path(cJSON_GetArrayItem(json_path(cJSON_GetArrayItem(json_get(j, "messages"), 2),
						   "tool_calls"), 0), "extra_content"),
	   "no thought signature for a model that is not Gemini");
	ok(!json_get(j, "max_tokens"), "no max_tokens when none is set");
	ok(json_get(j, "temperature") && json_get(j, "temperature")->valuedouble == 0.5,
	   "temperature 0.5");
	ok(headers.nr == 1 && !strvec_has(&headers, "Authorization: Bearer (null)"),
	   "no key: no Authorization header");
	cJSON_Delete(j);

	/* Gemini 3 wants a thought signature on the first call of a turn. */
	strbuf_reset(&body);
	strvec_clear(&headers);
	s.model = (char *)"gemini-3-flash-preview";
	ops->request(&body, &headers, &s, &c, NULL, 0, "AIza-key");
	j = cJSON_Parse(body.buf);
	t = cJSON_GetArrayItem(json_path(cJSON_GetArrayItem(json_get(j, "messages"), 2),
					 "tool_calls"), 0);
	is_str(json_path_string(t, "extra_content.google.thought_signature"),
	       "skip_thought_signature_validator",
	       "a Gemini model: the first call carries Google's placeholder thought signature");
	cJSON_Delete(j);

	strbuf_release(&body);
	strvec_clear(&headers);
	llm_reply_release(&r);
	llm_conversation_release(&c);
}

static void test_streams(void)
{
	llm_test_stream(ops, "text, content null in the first delta, usage in choices: []",
		D(CHUNK("[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null},"
			"\"logprobs\":null,\"finish_reason\":null}],\"usage\":null"))
		D(CHUNK("[{\"index\":0,\"delta\":{\"content\":\"The pod \"},\"finish_reason\":null}]"))
		D(CHUNK("[{\"index\":0,\"delta\":{\"content\":\"was OOMKilled.\"},"
			"\"finish_reason\":null}]"))
		D(CHUNK("[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]"))
		D(CHUNK("[],\"usage\":{\"prompt_tokens\":364,\"completion_tokens\":40,"
			"\"total_tokens\":404,\"prompt_tokens_details\":{\"cached_tokens\":0}}"))
		"data: [DONE]\n\n",
		"rc=0|text=The pod was OOMKilled.|finish=stop|tokens=364/40");

	llm_test_stream(ops, "parallel calls at index 0 and 1, arguments in pieces",
		D(CHUNK("[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,"
			"\"tool_calls\":[{\"index\":0,\"id\":\"call_Q1\",\"type\":\"function\","
			"\"function\":{\"name\":\"grep_log\",\"arguments\":\"\"}}],\"refusal\":null},"
			"\"finish_reason\":null}]"))
		D(CHUNK("[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
			"\"function\":{\"arguments\":\"{\\\"\"}}]},\"finish_reason\":null}]"))
		D(CHUNK("[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
			"\"function\":{\"arguments\":\"service\\\":\\\"cart\\\"}\"}}]}}]"))
		D(CHUNK("[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_Q2\","
			"\"type\":\"function\",\"function\":{\"name\":\"list_sources\","
			"\"arguments\":\"\"}}]}}]"))
		D(CHUNK("[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,"
			"\"function\":{\"arguments\":\"{}\"}}]}}]"))
		D(CHUNK("[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]"))
		D(CHUNK("[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":9}"))
		"data: [DONE]\n\n",
		"rc=0|call call_Q1 grep_log {\"service\":\"cart\"}|call call_Q2 list_sources {}"
		"|finish=tool_calls|tokens=12/9");

	llm_test_stream(ops, "tool-call deltas without an index",
		D(CHUNK("[{\"delta\":{\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
			"\"function\":{\"name\":\"grep_log\",\"arguments\":\"{\\\"service\\\":\"}}]}}]"))
		D(CHUNK("[{\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\"\\\"db\\\"}\"}}]}}]"))
		D(CHUNK("[{\"delta\":{\"tool_calls\":[{\"id\":\"c2\",\"type\":\"function\","
			"\"function\":{\"name\":\"grep_log\",\"arguments\":\"{\\\"service\\\":\\\"api\\\"}\"}}]}}]"))
		D(CHUNK("[{\"delta\":{\"tool_calls\":[{\"function\":{\"name\":\"list_sources\","
			"\"arguments\":\"{}\"}}]}}]"))
		D(CHUNK("[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]")),
		"rc=0|call c1 grep_log {\"service\":\"db\"}|call c2 grep_log {\"service\":\"api\"}"
		"|call call_3 list_sources {}|finish=tool_calls");

	llm_test_stream(ops, "Gemini's way: no index, a delta of only a thought signature, \"stop\"",
		D(CHUNK("[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{"
			"\"extra_content\":{\"google\":{\"thought_signature\":\"EjQK\"}}}]}}]"))
		D(CHUNK("[{\"index\":0,\"delta\":{\"tool_calls\":[{\"extra_content\":{\"google\":"
			"{\"thought_signature\":\"EjQK\"}},\"function\":{\"arguments\":"
			"\"{\\\"service\\\":\\\"cart\\\"}\",\"name\":\"grep_log\"},\"id\":\"function-call-1\","
			"\"type\":\"function\"}]}}]"))
		D(CHUNK("[{\"index\":0,\"delta\":{\"tool_calls\":[{\"extra_content\":{\"google\":"
			"{\"thought_signature\":\"EjQK\"}}}]}}]"))
		D(CHUNK("[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":\"stop\"}],"
			"\"usage\":{\"completion_tokens\":20,\"prompt_tokens\":108,\"total_tokens\":128}")),
		"rc=0|call function-call-1 grep_log {\"service\":\"cart\"}|finish=stop|tokens=108/20");

	llm_test_stream(ops, "a text answer with a delta of only a thought signature: no call",
		D(CHUNK("[{\"index\":0,\"delta\":{\"content\":\"No tool needed.\",\"tool_calls\":[{"
			"\"extra_content\":{\"google\":{\"thought_signature\":\"EjQK\"}}}]}}]"))
		D(CHUNK("[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]")),
		"rc=0|text=No tool needed.|finish=stop");

	llm_test_stream(ops, "every parallel call at index 0 (Gemini's way): a new id starts one",
		D(CHUNK("[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,"
			"\"id\":\"g-1\",\"type\":\"function\",\"function\":{\"name\":\"grep_log\","
			"\"arguments\":\"{\\\"service\\\":\\\"a\\\"}\"}}]}}]"))
		D(CHUNK("[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
			"\"id\":\"g-2\",\"type\":\"function\",\"function\":{\"name\":\"grep_log\","
			"\"arguments\":\"{\\\"service\\\":\\\"b\\\"}\"}}]}}]"))
		D(CHUNK("[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]")),
		"rc=0|call g-1 grep_log {\"service\":\"a\"}|call g-2 grep_log {\"service\":\"b\"}"
		"|finish=tool_calls");

	llm_test_stream(ops, "a first delta without an id: one is made up; finish \"stop\" keeps the calls",
		D(CHUNK("[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\","
			"\"tool_calls\":[{\"index\":0,\"type\":\"function\","
			"\"function\":{\"name\":\"list_sources\",\"arguments\":null}}]}}]"))
		D(CHUNK("[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]")),
		"rc=0|call call_1 list_sources {}|finish=stop");

	llm_test_stream(ops, "vLLM's extra fields, usage in a chunk with choices, : comments",
		": OPENROUTER PROCESSING\n\n"
		D("{\"id\":\"chatcmpl-b\",\"object\":\"chat.completion.chunk\",\"created\":1,"
		  "\"model\":\"meta-llama/Llama-3.3-70B-Instruct\",\"choices\":[{\"index\":0,"
		  "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,"
		  "\"finish_reason\":null}],\"prompt_token_ids\":null,\"prompt_text\":null}")
		D("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"1, 2\"},\"logprobs\":null,"
		  "\"finish_reason\":null,\"token_ids\":null}]}")
		D("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\", 3\",\"reasoning_content\":null},"
		  "\"finish_reason\":\"stop\",\"stop_reason\":null,\"token_ids\":[1,2]}],"
		  "\"usage\":{\"prompt_tokens\":46,\"total_tokens\":60,\"completion_tokens\":14},"
		  "\"system_fingerprint\":\"vllm-0.24.0\",\"x_unknown\":{\"a\":[1,{}]}}")
		"data: [DONE]\n\n",
		"rc=0|text=1, 2, 3|finish=stop|tokens=46/14");

	llm_test_stream(ops, "Groq's usage in x_groq",
		D(CHUNK("[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}],"
			"\"x_groq\":{\"id\":\"req_1\",\"usage\":{\"queue_time\":0.02,"
			"\"prompt_tokens\":31,\"completion_tokens\":2}}")),
		"rc=0|text=ok|finish=stop|tokens=31/2");

	llm_test_stream(ops, "arguments sent as an object, a second choice ignored",
		D(CHUNK("[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"o1\","
			"\"function\":{\"name\":\"grep_log\",\"arguments\":{\"service\":\"x\"}}}]}},"
			"{\"index\":1,\"delta\":{\"content\":\"other choice\"}}]")),
		"rc=0|call o1 grep_log {\"service\":\"x\"}");

	llm_test_stream(ops, "an error object as data after HTTP 200",
		D(CHUNK("[{\"index\":0,\"delta\":{\"content\":\"Half\"}}]"))
		D("{\"error\":{\"message\":\"The server had an error while processing your request.\","
		  "\"type\":\"server_error\",\"param\":null,\"code\":null}}"),
		"rc=-1|text=Half|error=The server had an error while processing your request. "
		"(server_error)");

	llm_test_stream(ops, "truncated JSON in a chunk",
		D(CHUNK("[{\"index\":0,\"delta\":{\"content\":\"ok\"}}]"))
		"data: {\"choices\":[{\"delta\":{\"content\":\"cut\n\n",
		"rc=-1|text=ok|error=the server sent a stream event that is not a JSON object");
}

static void test_hostile(void)
{
	struct strbuf s = STRBUF_INIT;
	struct llm_reply r = LLM_REPLY_INIT;
	size_t total = 0;
	int rc;

	/* More calls than a reply holds. */
	for (int i = 0; i < LLM_CALLS_MAX + 10; i++)
		strbuf_addf(&s, "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":"
			    "[{\"index\":%d,\"id\":\"c%d\",\"function\":{\"name\":\"t\","
			    "\"arguments\":\"{}\"}}]}}]}\n\n", i, i);
	rc = llm_test_feed(ops, s.buf, s.len, 0, &r);
	ok(rc == 0 && r.calls_nr == LLM_CALLS_MAX, "calls past LLM_CALLS_MAX are dropped (%zu kept)",
	   r.calls_nr);
	is_str(r.calls_nr ? r.calls[LLM_CALLS_MAX - 1].id : NULL, "c63", "the last kept is the 64th");
	llm_reply_release(&r);

	/* Arguments past LLM_ARGS_MAX, in 40 pieces of 10,000 bytes. */
	strbuf_reset(&s);
	strbuf_addstr(&s, "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"big\","
		      "\"function\":{\"name\":\"t\",\"arguments\":\"{\\\"a\\\":\\\"\"}}]}}]}\n\n");
	for (int i = 0; i < 40; i++) {
		strbuf_addstr(&s, "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,"
			      "\"function\":{\"arguments\":\"");
		strbuf_addchars(&s, 'x', 10000);
		strbuf_addstr(&s, "\"}}]}}]}\n\n");
	}
	rc = llm_test_feed(ops, s.buf, s.len, 0, &r);
	ok(r.calls_nr <= 1 && (!r.calls_nr || strlen(r.calls[0].arguments) <= LLM_ARGS_MAX) &&
	   (rc == 0 || r.error.len), "arguments past LLM_ARGS_MAX: bounded (rc %d, %zu bytes)", rc,
	   r.calls_nr ? strlen(r.calls[0].arguments) : 0);
	llm_reply_release(&r);

	/* Invalid UTF-8: raw bytes pass as data (a reply is data), never a crash. */
	strbuf_reset(&s);
	strbuf_addstr(&s, "data: {\"choices\":[{\"delta\":{\"content\":\"a\xff\xfe\xc3(b\"}}]}\n\n"
		      "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"\xff\","
		      "\"function\":{\"name\":\"\xc0\xaf\",\"arguments\":\"\xed\xa0\x80\"}}]}}]}\n\n");
	rc = llm_test_feed(ops, s.buf, s.len, 1, &r);
	ok(rc == 0 && r.text && !strcmp(r.text, "a\xff\xfe\xc3(b") && r.calls_nr == 1 &&
	   !strcmp(r.calls[0].arguments, "{}"),
	   "invalid UTF-8 bytes: kept as text, a call with them has {} as arguments");
	llm_reply_release(&r);

	/* Escapes of lone surrogates, which cJSON refuses: an error. */
	strbuf_reset(&s);
	strbuf_addstr(&s, "data: {\"choices\":[{\"delta\":{\"content\":\"\\ud800c\\udfff\"}}]}\n\n");
	rc = llm_test_feed(ops, s.buf, s.len, 0, &r);
	ok(rc < 0 && r.error.len && !r.text, "lone surrogate escapes: an error, no crash");
	llm_reply_release(&r);

	/* One data line of 10 MB: all text, in 4 KiB reads. */
	strbuf_reset(&s);
	strbuf_addstr(&s, "data: {\"choices\":[{\"delta\":{\"content\":\"");
	strbuf_addchars(&s, 'y', 10 << 20);
	strbuf_addstr(&s, "\"}}]}\n\n");
	rc = llm_test_feed(ops, s.buf, s.len, 4096, &r);
	total = r.text ? strlen(r.text) : 0;
	ok((rc == 0 && total <= LLM_TEXT_MAX) || (rc < 0 && r.error.len),
	   "a 10 MB data line: bounded (rc %d, %zu bytes of text)", rc, total);
	llm_reply_release(&r);

	/* Text past LLM_TEXT_MAX in many small chunks. */
	strbuf_reset(&s);
	for (int i = 0; i < 300; i++) {
		strbuf_addstr(&s, "data: {\"choices\":[{\"delta\":{\"content\":\"");
		strbuf_addchars(&s, 'z', 4000);
		strbuf_addstr(&s, "\"}}]}\n\n");
	}
	rc = llm_test_feed(ops, s.buf, s.len, 0, &r);
	ok(rc == 0 && r.text && strlen(r.text) <= LLM_TEXT_MAX,
	   "text past LLM_TEXT_MAX is cut at the bound (%zu bytes)", r.text ? strlen(r.text) : 0);
	llm_reply_release(&r);

	/* Wrong types everywhere, and nesting deeper than cJSON takes. */
	strbuf_reset(&s);
	strbuf_addstr(&s,
		"data: {\"choices\":{\"delta\":1}}\n\n"
		"data: {\"choices\":[1,null,\"x\",{\"delta\":[]},{\"delta\":{\"content\":7,"
		"\"tool_calls\":{\"index\":0}}}]}\n\n"
		"data: {\"choices\":[{\"delta\":{\"tool_calls\":[1,{\"index\":1e300,\"function\":"
		"{\"name\":5,\"arguments\":[1]}},{\"index\":-4,\"id\":7},{\"index\":\"0\"}]}}]}\n\n"
		"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1e300,\"completion_tokens\":-5}}\n\n"
		"data: {\"choices\":[{\"finish_reason\":17}],\"usage\":[]}\n\n");
	rc = llm_test_feed(ops, s.buf, s.len, 0, &r);
	ok(rc == 0 && !r.text && r.calls_nr <= 4 && !r.finish && r.input_tokens == 0 &&
	   r.output_tokens == 0, "members of the wrong type are ignored (rc %d, %zu calls)", rc,
	   r.calls_nr);
	llm_reply_release(&r);

	strbuf_reset(&s);
	strbuf_addstr(&s, "data: ");
	strbuf_addchars(&s, '[', 100000);
	strbuf_addstr(&s, "\n\n");
	rc = llm_test_feed(ops, s.buf, s.len, 0, &r);
	ok(rc < 0 && r.error.len, "nesting 100,000 deep: an error, no crash");
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

static void test_errors(void)
{
	struct strbuf long_line = STRBUF_INIT;
	struct strbuf want = STRBUF_INIT;

	check_error("{\n  \"error\": {\n    \"message\": \"Unsupported value: 'messages[0].role' "
		    "does not support 'system' with this model.\",\n    \"type\": "
		    "\"invalid_request_error\",\n    \"param\": \"messages[0].role\",\n    \"code\": "
		    "\"unsupported_value\"\n  }\n}\n",
		    "Unsupported value: 'messages[0].role' does not support 'system' with this model. "
		    "(invalid_request_error, unsupported_value)", "OpenAI's error object");
	check_error("{\"error\":{\"message\":\"Provider returned error\",\"code\":429,\"metadata\":"
		    "{\"raw\":\"model is temporarily\\nrate-limited upstream\",\"provider_name\":"
		    "\"Google\"}},\"user_id\":\"user_1\"}",
		    "Provider returned error (429): model is temporarily rate-limited upstream",
		    "OpenRouter's: a numeric code, the upstream's words in metadata.raw");
	check_error("{\"error\":{\"message\":\"Tool call validation failed\",\"type\":"
		    "\"invalid_request_error\",\"code\":\"tool_use_failed\",\"failed_generation\":"
		    "\"{}\"}}",
		    "Tool call validation failed (invalid_request_error, tool_use_failed)", "Groq's");
	check_error("[{\"error\":{\"code\":400,\"message\":\"API key not valid.\",\"status\":"
		    "\"INVALID_ARGUMENT\"}}]",
		    "API key not valid. (400)", "Gemini's, in an array");
	check_error("{\"object\":\"error\",\"message\":\"max_tokens is too large\",\"type\":"
		    "\"BadRequestError\",\"param\":null,\"code\":400}",
		    "max_tokens is too large (BadRequestError, 400)", "vLLM's, at the top");
	check_error("{\"detail\":\"Not Found\"}", "Not Found", "FastAPI's detail");
	check_error("{\"error\":\"model 'x' not found\"}", "model 'x' not found",
		    "an error that is a string");
	check_error("\n<html>\r\n<head><title>502 Bad Gateway</title></head>\n</html>\n", "<html>",
		    "not JSON: its first line");
	check_error("", "", "an empty body: nothing");
	strbuf_addchars(&long_line, 'e', 5000);
	strbuf_addchars(&want, 'e', 200);
	strbuf_addstr(&want, "...");
	check_error(long_line.buf, want.buf, "a long line is cut");
	strbuf_release(&long_line);
	strbuf_release(&want);
}

int main(void)
{
	if (test_begin("llm-openai") < 0)
		return 1;
	is_str(ops->name, "openai", "the provider's name");
	is_str(ops->path, "/chat/completions", "its path");
	is_int(ops->sse, 1, "it streams server-sent events");
	test_request();
	test_streams();
	test_hostile();
	test_errors();
	return test_end();
}
