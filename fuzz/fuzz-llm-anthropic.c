/*
 * fuzz-llm-anthropic.c: an Anthropic Messages stream (lib/llm-anthropic.c
 * over llm.c's SSE framing) as a server sends it, in pieces of the size
 * the first byte says, and the same bytes as an error answer's body. The
 * reply stays within its bounds, every call ends with an object as
 * arguments, and an error is one line.
 */
#include <cJSON.h>

#include "fuzz.h"
#include "../lib/llm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct llm_reply r = LLM_REPLY_INIT;
	struct strbuf why = STRBUF_INIT;
	struct llm_stream *st;
	size_t piece;

	if (!size)
		return 0;
	piece = (size_t)data[0] + 1;   /* 1..256 bytes at a time */
	data++;
	size--;
	st = llm_stream_new(&llm_anthropic, &r);
	for (size_t i = 0; i < size; i += piece)
		if (llm_stream_feed(st, (const char *)data + i, size - i < piece ? size - i : piece) < 0)
			break;
	llm_stream_finish(st);
	llm_stream_free(st);

	if (r.calls_nr > LLM_CALLS_MAX || (r.text && strlen(r.text) > LLM_TEXT_MAX) ||
	    memchr(r.error.buf, '\n', r.error.len))
		abort();
	for (size_t i = 0; i < r.calls_nr; i++) {
		cJSON *args = cJSON_Parse(r.calls[i].arguments);

		if (!r.calls[i].id || !r.calls[i].name || !cJSON_IsObject(args))
			abort();
		cJSON_Delete(args);
	}
	llm_reply_release(&r);

	llm_anthropic.error(&why, (const char *)data, size);
	if (memchr(why.buf, '\n', why.len))
		abort();
	strbuf_release(&why);
	return 0;
}
