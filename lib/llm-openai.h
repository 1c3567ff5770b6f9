/*
 * llm-openai.h: what the other wire formats borrow from the OpenAI one
 * (lib/llm-openai.c). Ollama's native /api/chat takes its tools in
 * OpenAI's shape, and every provider puts a server's error in one line
 * the same way. The providers themselves are in llm.h.
 */
#ifndef SRE_LLM_OPENAI_H
#define SRE_LLM_OPENAI_H

#include <cJSON.h>

#include "llm.h"
#include "strbuf.h"

/*
 * The Chat Completions request both speak: model, messages (system,
 * user, assistant with tool_calls, tool results), tools, stream: true.
 * ollama: Ollama's /api/chat differences (content never null, calls
 * without id or type and their arguments as an object, a tool result by
 * its tool_name). The caller adds its options, then llm_openai_send().
 */
cJSON *llm_openai_chat(const struct llm_settings *s, const struct llm_conversation *c,
		       const struct llm_tool *tools, size_t tools_nr, int ollama);
/* req as the body (req is freed), with its Content-Type and, given a key, Bearer auth. */
void llm_openai_send(struct strbuf *body, struct strvec *headers, cJSON *req, const char *key);

/* [{type: "function", function: {name, description, parameters}}], the caller's. */
cJSON *llm_openai_tools(const struct llm_tool *tools, size_t tools_nr);

/*
 * Append s (len bytes) to sb as one line: control characters become
 * spaces, at most max bytes are kept (never half a UTF-8 character), "..."
 * says it was cut, and trailing spaces go.
 */
void llm_openai_one_line(struct strbuf *sb, const char *s, size_t len, size_t max);

/* The first line of a body that is not the API's (a proxy's page), cut. */
void llm_openai_first_line(struct strbuf *sb, const char *body, size_t len);

#endif
