/*
 * test-llm.c: unit tests of lib/llm.c, what the wire formats share: the
 * framing of a stream (server-sent events, NDJSON lines) fed whole and
 * byte by byte, the reply's bounds, the JSON shim, and [llm]'s keys.
 * A recording provider stands in for the real ones. Prints TAP.
 */
#include "../../lib/llm.h"
#include "../../lib/util.h"
#include "test-lib.h"

/* The providers of lib/llm-<name>.c are not linked here: the framing is tested alone. */
static int sse_mode = 1;
static struct strbuf seen = STRBUF_INIT;

static int record(void *state, struct llm_reply *r, const char *event, const char *data,
		  size_t len)
{
	(void)state;
	strbuf_addf(&seen, "[%s|%.*s]", event ? event : "-", (int)len, data);
	if (len >= 5 && !memcmp(data, "boom!", 5)) {
		strbuf_addstr(&r->error, "overloaded_error: Overloaded");
		return -1;
	}
	llm_reply_add_text(r, data, len);
	return 0;
}

static void error_line(struct strbuf *why, const char *body, size_t len)
{
	strbuf_add(why, body, len);
}

static struct llm_provider_ops recorder = {
	"recorder", "/x", 1, NULL, NULL, NULL, record, NULL, error_line,
};

/* Feed text whole or one byte at a time; returns what the provider saw. */
static const char *feed(const char *text, int bytewise, int *ret, struct llm_reply *r)
{
	struct llm_stream *st;
	size_t n = strlen(text);

	recorder.sse = sse_mode;
	strbuf_reset(&seen);
	st = llm_stream_new(&recorder, r);
	*ret = 0;
	if (bytewise) {
		for (size_t i = 0; i < n && !*ret; i++)
			*ret = llm_stream_feed(st, text + i, 1);
	} else {
		*ret = llm_stream_feed(st, text, n);
	}
	if (!*ret)
		*ret = llm_stream_finish(st);
	llm_stream_free(st);
	return seen.buf;
}

static void test_sse(void)
{
	static const char stream[] =
		": keep-alive\r\n"
		"event: message_start\r\n"
		"data: {\"a\":1}\r\n"
		"\r\n"
		"data: first\n"
		"data: second\n"
		"id: 7\n"
		"retry: 100\n"
		"\n"
		"event: ping\n"
		"data:{}\n"
		"\n"
		"data: [DONE]\n"
		"\n"
		"data: after done\n"
		"\n";
	static const char want[] =
		"[message_start|{\"a\":1}][-|first\nsecond][ping|{}]";

	for (int bytewise = 0; bytewise < 2; bytewise++) {
		struct llm_reply r = LLM_REPLY_INIT;
		int ret;
		const char *got;

		sse_mode = 1;
		got = feed(stream, bytewise, &ret, &r);
		is_int(ret, 0, "sse %s: the stream is read", bytewise ? "byte by byte" : "whole");
		is_str(got, want, "events, names, CRLF, joined data lines, comments, [DONE]");
		ok(r.produced, "text counts as produced");
		llm_reply_release(&r);
	}
	{
		struct llm_reply r = LLM_REPLY_INIT;
		int ret;
		const char *got = feed("data: last, with no blank line after", 0, &ret, &r);
		is_str(got, "[-|last, with no blank line after]", "an event cut by the end is still read");
		llm_reply_release(&r);
	}
}

static void test_ndjson(void)
{
	struct llm_reply r = LLM_REPLY_INIT;
	int ret;
	const char *got;

	sse_mode = 0;
	got = feed("{\"a\":1}\n\n   \n{\"b\":2}\r\n{\"c\":3}", 1, &ret, &r);
	is_int(ret, 0, "ndjson: read byte by byte");
	is_str(got, "[-|{\"a\":1}][-|{\"b\":2}][-|{\"c\":3}]", "each line once, blank ones skipped");
	llm_reply_release(&r);
	sse_mode = 1;
}

static void test_errors(void)
{
	struct llm_reply r = LLM_REPLY_INIT;
	struct strbuf big = STRBUF_INIT;
	int ret;
	const char *got;

	got = feed("event: error\ndata: boom!\n\ndata: never\n\n", 0, &ret, &r);
	is_int(ret, -1, "an error event after 200 fails the stream");
	is_str(r.error.buf, "overloaded_error: Overloaded", "with the provider's line");
	ok(!strstr(got, "never"), "and nothing after it is read");
	ok(!r.produced, "nothing was produced: the client may retry");
	llm_reply_release(&r);

	strbuf_addstr(&big, "data: ");
	for (int i = 0; i < (5 << 20) / 64; i++)
		strbuf_addstr(&big, "0123456789012345678901234567890123456789012345678901234567890123");
	got = feed(big.buf, 0, &ret, &r);
	is_int(ret, -1, "a line of 5 MB is refused");
	ok(strstr(r.error.buf, "too long") != NULL, "saying it is too long");
	llm_reply_release(&r);
	strbuf_release(&big);
}

static void test_bounds(void)
{
	struct llm_reply r = LLM_REPLY_INIT;
	struct llm_tool_call *c = NULL;
	char *chunk = xcalloc(1, 64 << 10);
	size_t n = 0;

	memset(chunk, 'x', (64 << 10) - 1);
	for (int i = 0; i < 40; i++)
		llm_reply_add_text(&r, chunk, strlen(chunk));
	is_int((long long)strlen(r.text), LLM_TEXT_MAX, "text is kept up to LLM_TEXT_MAX");
	for (int i = 0; i < LLM_CALLS_MAX + 5; i++)
		if (llm_reply_add_call(&r, NULL, "t"))
			n++;
	is_int((long long)n, LLM_CALLS_MAX, "at most LLM_CALLS_MAX calls");
	c = &r.calls[0];
	for (int i = 0; i < 10; i++)
		llm_call_add_arguments(c, chunk, strlen(chunk));
	is_int((long long)strlen(c->arguments), LLM_ARGS_MAX, "arguments up to LLM_ARGS_MAX");
	llm_reply_finish_calls(&r);
	is_str(r.calls[0].arguments, "{}", "arguments that are no JSON object become {}");
	is_str(r.calls[1].id, "call_2", "a call without an id gets one");
	llm_reply_release(&r);
	free(chunk);
}

static void test_shim(void)
{
	struct llm_reply r = LLM_REPLY_INIT;
	struct strbuf p = STRBUF_INIT;
	const struct llm_tool tools[] = {
		{ "grep_log", "Lines of a log that match.", "{\"type\":\"object\"}" },
	};

	llm_shim_prompt(&p, tools, 1);
	ok(strstr(p.buf, "- grep_log: Lines of a log that match.") != NULL, "the prompt lists the tools");
	strbuf_release(&p);

	llm_reply_add_text(&r, "Let me look.\n```json\n{\"tool\": \"grep_log\", \"arguments\": "
			   "{\"pattern\": \"OOM\"}}\n```\n", 79);
	is_int(llm_shim_read(&r), 1, "a fenced call is read");
	ok(r.calls_nr == 1 && !strcmp(r.calls[0].name, "grep_log") &&
	   !strcmp(r.calls[0].arguments, "{\"pattern\":\"OOM\"}"), "with its name and arguments");
	ok(r.text == NULL, "and the text goes");
	llm_reply_release(&r);

	llm_reply_add_text(&r, "{\"category\": \"oom\"}", 19);
	is_int(llm_shim_read(&r), 0, "a final JSON answer is no call");
	is_str(r.text, "{\"category\": \"oom\"}", "and stays the text");
	llm_reply_release(&r);

	llm_reply_add_text(&r, "{\"tool\": [1], \"arguments\": 3}", 29);
	is_int(llm_shim_read(&r), 0, "a tool that is no name is no call");
	llm_reply_release(&r);
}

static void test_conversation(void)
{
	struct llm_conversation c = LLM_CONVERSATION_INIT;
	struct llm_reply r = LLM_REPLY_INIT;

	llm_add_user(&c, "why is checkout down?");
	llm_reply_add_text(&r, "Looking.", 8);
	llm_reply_add_call(&r, "t1", "grep_log");
	llm_reply_finish_calls(&r);
	llm_add_reply(&c, &r);
	llm_add_tool_result(&c, "t1", "grep_log", "no match");
	is_int((long long)c.nr, 3, "three turns");
	ok(c.v[1].role == LLM_ASSISTANT && c.v[1].calls_nr == 1 &&
	   !strcmp(c.v[1].calls[0].arguments, "{}"), "the assistant's call is copied");
	ok(c.v[2].role == LLM_TOOL && !strcmp(c.v[2].call_id, "t1"), "the result answers it");
	llm_reply_release(&r);
	llm_conversation_release(&c);
}

int main(void)
{
	if (test_begin("llm") < 0)
		return 1;
	test_sse();
	test_ndjson();
	test_errors();
	test_bounds();
	test_shim();
	test_conversation();
	strbuf_release(&seen);
	return test_end();
}
