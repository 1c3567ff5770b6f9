/*
 * llm.h: one client for the LLM adviser, several wire formats.
 *
 * The adviser (a later engine) holds a conversation with a model and
 * offers it read-only tools; this layer only carries a conversation to a
 * provider and brings the reply back in one shape, whatever the wire:
 *
 *   [llm] provider = openai | anthropic | ollama
 *         url       the API base as the provider documents it:
 *                   openai    the base ending in /v1, + /chat/completions
 *                             (OpenAI, vLLM, llama.cpp's server, Ollama's
 *                             /v1, Gemini's OpenAI-compatible endpoint)
 *                   anthropic the host, + /v1/messages
 *                   ollama    the host, + /api/chat (native NDJSON)
 *         model, timeout, max-output-tokens (1024), temperature (0),
 *         tools = native | json (json: the tools described in the
 *                 prompt, a call answered as a fenced JSON object; for
 *                 models without native tools)
 *         api-key-command, else OPENAI_API_KEY / ANTHROPIC_API_KEY; a
 *                 local server that asks for no key needs none
 *
 * Replies are streamed (SSE for openai and anthropic, NDJSON for ollama)
 * and read by one tolerant parser per format (lib/llm-<provider>.c) over
 * the common framing here (llm_stream_*), which accepts what real
 * servers send: tool-call deltas without an index, or every parallel
 * call at index 0; a first delta without an id; finish_reason "stop" on
 * tool calls; Anthropic's ping, unknown block types, input_json_delta
 * fragments that start empty, an error event after HTTP 200. A reply that
 * failed before anything was produced is retried once; 429 and 5xx follow
 * the HTTP layer's rules (lib/http.h).
 *
 * Nothing here trusts the model: a reply is data (text and tool calls
 * whose arguments are JSON text), checked by whoever acts on it. The key
 * is registered with the HTTP client as a secret, so no trace or error
 * shows it.
 */
#ifndef SRE_LLM_H
#define SRE_LLM_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "http.h"
#include "strbuf.h"
#include "strvec.h"

/* Bounds against a hostile or broken server. */
#define LLM_TEXT_MAX (1 << 20)       /* the most text of one reply kept */
#define LLM_CALLS_MAX 64             /* the most tool calls of one reply */
#define LLM_ARGS_MAX (256 << 10)     /* the most bytes of one call's arguments */

enum llm_role { LLM_USER, LLM_ASSISTANT, LLM_TOOL };

struct llm_tool_call {
	char *id;             /* the provider's; one made up ("call_<n>") when it gave none */
	char *name;
	char *arguments;      /* the JSON text of an object ("{}" when it gave none) */
	size_t arguments_len, arguments_alloc;  /* llm_call_add_arguments()'s */
};

struct llm_message {
	enum llm_role role;
	char *text;                      /* may be NULL: an assistant turn of calls only */
	struct llm_tool_call *calls;     /* LLM_ASSISTANT: the calls it made */
	size_t calls_nr, calls_alloc;
	char *call_id;                   /* LLM_TOOL: the call this answers */
	char *tool;                      /* LLM_TOOL: that call's tool name */
};

struct llm_conversation {
	char *system;
	struct llm_message *v;
	size_t nr, alloc;
};

#define LLM_CONVERSATION_INIT { NULL, NULL, 0, 0 }
void llm_conversation_release(struct llm_conversation *c);
void llm_add_user(struct llm_conversation *c, const char *text);
/* The assistant's turn as a reply gave it (its text and calls, copied). */
struct llm_reply;
void llm_add_reply(struct llm_conversation *c, const struct llm_reply *r);
void llm_add_tool_result(struct llm_conversation *c, const char *call_id, const char *tool,
			 const char *text);

/* A tool offered to the model. Borrowed strings. */
struct llm_tool {
	const char *name;
	const char *description;
	const char *parameters;  /* the JSON Schema (text) of its arguments object */
};

struct llm_reply {
	char *text;                      /* NULL when none */
	size_t text_len, text_alloc;     /* llm_reply_add_text()'s: appends cost their length */
	struct llm_tool_call *calls;
	size_t calls_nr, calls_alloc;
	char *finish;                    /* as the provider said it ("stop", "tool_use"...), or NULL */
	long long input_tokens, output_tokens;
	int produced;                    /* text or a call arrived: never retried after */
	struct strbuf error;             /* an error the stream itself reported, one line */
	/*
	 * Told of each piece of text as the stream brings it (a REPL prints
	 * it as it comes), or NULL; the reader's, kept by llm_reply_release().
	 */
	void (*on_text)(void *arg, const char *text, size_t len);
	void *on_text_arg;
};

#define LLM_REPLY_INIT { .error = STRBUF_INIT }
void llm_reply_release(struct llm_reply *r);
/* Append text to the reply's (bounded by LLM_TEXT_MAX). */
void llm_reply_add_text(struct llm_reply *r, const char *text, size_t len);
/* A new call with what is known of it (NULLs allowed); NULL past LLM_CALLS_MAX. */
struct llm_tool_call *llm_reply_add_call(struct llm_reply *r, const char *id, const char *name);
/* Append to a call's arguments (bounded by LLM_ARGS_MAX). */
void llm_call_add_arguments(struct llm_tool_call *call, const char *text, size_t len);
/* Give every call an id and an object as arguments ("{}" when empty). */
void llm_reply_finish_calls(struct llm_reply *r);

enum llm_provider { LLM_OPENAI, LLM_ANTHROPIC, LLM_OLLAMA };

struct llm_settings {
	enum llm_provider provider;
	char *url;                /* the base, without a trailing slash */
	char *model;
	int64_t timeout_ms;
	long long max_output_tokens;
	double temperature;
	int json_tools;           /* llm.tools = json */
	/*
	 * Learnt from the server's 400 (llm_chat()): OpenAI's reasoning models
	 * refuse max_tokens (they take max_completion_tokens) and any
	 * temperature but their default.
	 */
	int completion_tokens, no_temperature;
};

/*
 * A provider: how a conversation goes on its wire, and how its stream is
 * read. The stream's framing is common (llm_stream_feed()): SSE events
 * (event name, data) or NDJSON lines (no name); each is handed to
 * event(), which fills the reply. end() is called once at the end of the
 * stream, to finish what is pending.
 */
struct llm_provider_ops {
	const char *name;
	const char *path;         /* appended to the url */
	int sse;                  /* 1: server-sent events; 0: NDJSON */
	void (*request)(struct strbuf *body, struct strvec *headers, const struct llm_settings *s,
			const struct llm_conversation *c, const struct llm_tool *tools,
			size_t tools_nr, const char *key);
	void *(*state_new)(void);
	void (*state_free)(void *state);
	/* 0, or -1 with r->error set: the stream says it failed. */
	int (*event)(void *state, struct llm_reply *r, const char *event, const char *data,
		     size_t len);
	void (*end)(void *state, struct llm_reply *r);
	/* An error answer's body (HTTP 4xx/5xx) in one line into why. */
	void (*error)(struct strbuf *why, const char *body, size_t len);
};

extern const struct llm_provider_ops llm_openai, llm_anthropic, llm_ollama;
const struct llm_provider_ops *llm_provider_ops(enum llm_provider p);

/* ---- reading a stream ---- */

struct llm_stream;
struct llm_stream *llm_stream_new(const struct llm_provider_ops *ops, struct llm_reply *r);
/* Feed bytes as they arrive. 0, or -1 once the stream reported an error. */
int llm_stream_feed(struct llm_stream *st, const char *buf, size_t len);
/* Hand one whole event to the provider's reader, past the framing (a body that is one JSON object). */
int llm_stream_event(struct llm_stream *st, const char *event, const char *data, size_t len);
/* The stream is over: dispatch what is left and finish the reply. 0 or -1. */
int llm_stream_finish(struct llm_stream *st);
void llm_stream_free(struct llm_stream *st);

/* ---- the JSON shim, for models without native tools ---- */

/* The tools described for the system prompt, and how to call one. */
void llm_shim_prompt(struct strbuf *out, const struct llm_tool *tools, size_t tools_nr);
/*
 * A reply's text read as the shim's: a fenced or bare JSON object
 * {"tool": name, "arguments": {...}} becomes a call and leaves the text;
 * anything else stays text. 1 when a call was made, else 0.
 */
int llm_shim_read(struct llm_reply *r);

/* ---- the client ---- */

struct llm_client {
	struct llm_settings s;
	const struct llm_provider_ops *ops;
	struct http_client http;
	char *key;                /* NULL when none is needed */
};

/*
 * Read [llm] (see the top) and resolve the key. 0, 1 when no provider is
 * configured (no adviser), -1 after an error naming the key (never the
 * secret).
 */
int llm_client_init(struct llm_client *c, const struct config *cfg);
void llm_client_release(struct llm_client *c);

/*
 * One turn: send the conversation and the tools (none: tools_nr 0), read
 * the streamed reply into r. 0, or -1 with why in one line (redacted):
 * the server could not be reached, refused (HTTP status and the
 * provider's message), or its stream failed.
 */
int llm_chat(struct llm_client *c, const struct llm_conversation *conv,
	     const struct llm_tool *tools, size_t tools_nr, struct llm_reply *r,
	     struct strbuf *why);

#endif
