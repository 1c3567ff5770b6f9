/*
 * fuzz-llm-stream.c: a model server's streamed reply, read by the
 * OpenAI (SSE) or the Ollama (NDJSON) parser over the common framing
 * (lib/llm-openai.c, lib/llm-ollama.c, llm_stream_* in lib/llm.c), and
 * the same bytes read as an error body. The first byte picks the
 * provider, the second how many bytes each read brings (the network cuts
 * anywhere). Whatever arrives, the reply stays within llm.h's bounds and
 * every call has an id, a name and a JSON object as arguments.
 */
#include <cJSON.h>

#include "fuzz.h"
#include "../lib/llm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct llm_provider_ops *ops;
	struct llm_reply r = LLM_REPLY_INIT;
	struct llm_stream *st;
	struct strbuf why = STRBUF_INIT;
	size_t step;

	if (size < 2)
		return 0;
	ops = data[0] & 1 ? &llm_ollama : &llm_openai;
	step = 1 + data[1] % 64;
	data += 2;
	size -= 2;

	st = llm_stream_new(ops, &r);
	for (size_t i = 0; i < size; i += step)
		if (llm_stream_feed(st, (const char *)data + i, size - i < step ? size - i : step) < 0)
			break;
	llm_stream_finish(st);
	llm_stream_free(st);
	if (r.calls_nr > LLM_CALLS_MAX || (r.text && strlen(r.text) > LLM_TEXT_MAX))
		abort();
	for (size_t i = 0; i < r.calls_nr; i++) {
		cJSON *args = cJSON_Parse(r.calls[i].arguments);

		if (!r.calls[i].id || !r.calls[i].name || !cJSON_IsObject(args) ||
		    strlen(r.calls[i].arguments) > LLM_ARGS_MAX)
			abort();
		cJSON_Delete(args);
	}
	llm_reply_release(&r);

	ops->error(&why, (const char *)data, size);
	if (memchr(why.buf, '\n', why.len))
		abort();   /* one line */
	strbuf_release(&why);
	return 0;
}
