/*
 * llm-client.c: the client of llm.h: it reads [llm], resolves the key,
 * sends a turn to the provider's endpoint and reads its stream, once
 * more when the stream failed before it produced anything.
 */
#include <ctype.h>
#include <math.h>

#include "llm.h"
#include "redact.h"
#include "util.h"

const struct llm_provider_ops *llm_provider_ops(enum llm_provider p)
{
	switch (p) {
	case LLM_ANTHROPIC:
		return &llm_anthropic;
	case LLM_OLLAMA:
		return &llm_ollama;
	case LLM_OPENAI:
		break;
	}
	return &llm_openai;
}

/* ---- the client ---- */

static const char *default_url(enum llm_provider p)
{
	return p == LLM_ANTHROPIC ? "https://api.anthropic.com" :
	       p == LLM_OLLAMA ? "http://localhost:11434" : "https://api.openai.com/v1";
}

static const char *key_env(enum llm_provider p)
{
	return p == LLM_ANTHROPIC ? "ANTHROPIC_API_KEY" : p == LLM_OPENAI ? "OPENAI_API_KEY" : NULL;
}

int llm_client_init(struct llm_client *c, const struct config *cfg)
{
	const char *provider = config_get_string(cfg, "llm.provider");
	const char *url = config_get_string(cfg, "llm.url");
	const char *model = config_get_string(cfg, "llm.model");
	const char *temperature = config_get_string(cfg, "llm.temperature");
	const char *tools = config_get_string(cfg, "llm.tools");
	struct strbuf key = STRBUF_INIT;
	int r;

	memset(c, 0, sizeof(*c));
	if (!provider || !*provider)
		return 1;
	if (!strcmp(provider, "openai"))
		c->s.provider = LLM_OPENAI;
	else if (!strcmp(provider, "anthropic"))
		c->s.provider = LLM_ANTHROPIC;
	else if (!strcmp(provider, "ollama"))
		c->s.provider = LLM_OLLAMA;
	else
		return error("llm.provider is '%s'; it is openai, anthropic or ollama", provider);
	if (!model || !*model)
		return error("llm.model is not set: which model does the %s provider run?", provider);
	if (!url || !*url)
		url = default_url(c->s.provider);
	if (strncmp(url, "https://", 8) && strncmp(url, "http://", 7))
		return error("llm.url is '%s', not an http:// or https:// URL", url);
	c->s.timeout_ms = 120 * 1000;
	c->s.max_output_tokens = 1024;
	if (config_get_duration_ms(cfg, "llm.timeout", &c->s.timeout_ms) < 0 ||
	    config_get_int(cfg, "llm.max-output-tokens", &c->s.max_output_tokens) < 0)
		return -1;
	if (c->s.timeout_ms <= 0 || c->s.max_output_tokens <= 0 || c->s.max_output_tokens > 1 << 20)
		return error("llm.timeout and llm.max-output-tokens must be positive (and tokens at "
			     "most 1048576)");
	if (temperature) {
		char *end;
		c->s.temperature = strtod(temperature, &end);
		if (end == temperature || *end || !isfinite(c->s.temperature) ||
		    c->s.temperature < 0 || c->s.temperature > 2)
			return error("llm.temperature is '%s', not a number from 0 to 2", temperature);
	}
	if (tools && strcmp(tools, "native") && strcmp(tools, "json"))
		return error("llm.tools is '%s'; it is native or json", tools);
	c->s.json_tools = tools && !strcmp(tools, "json");
	if (http_client_init(&c->http, cfg) < 0)
		return -1;
	c->http.label = "llm";
	r = config_get_secret(cfg, "llm.api-key", key_env(c->s.provider), &key);
	if (r < 0) {
		strbuf_release(&key);
		http_client_release(&c->http);
		return -1;
	}
	/* Set last: llm_client_release() frees the HTTP client only of a client that started. */
	c->ops = llm_provider_ops(c->s.provider);
	if (!r && key.len) {
		c->key = strbuf_detach(&key, NULL);
		http_client_add_secret(&c->http, c->key);
	}
	strbuf_release(&key);
	c->s.url = xstrdup(url);
	while (strlen(c->s.url) > 8 && c->s.url[strlen(c->s.url) - 1] == '/')
		c->s.url[strlen(c->s.url) - 1] = '\0';
	c->s.model = xstrdup(model);
	return 0;
}

void llm_client_release(struct llm_client *c)
{
	if (c->ops)
		http_client_release(&c->http);
	free(c->s.url);
	free(c->s.model);
	free(c->key);
	memset(c, 0, sizeof(*c));
}

/*
 * The stream read as it arrives, so that a reply's text reaches its
 * reader (llm_reply.on_text) token by token. A server that ignored
 * stream: true and answers one JSON object is left whole for after.
 */
struct feeding {
	struct llm_stream *st;
	int whole;        /* one JSON object, not a stream: read after */
	int failed;       /* the stream reported an error */
	int started;
	int sse;          /* the provider streams SSE */
};

static int feed(void *arg, const struct http_response *res, const char *buf, size_t len)
{
	struct feeding *f = arg;

	if (!f->started) {
		/* Decided at the first byte that is not blank (the chunk is not a string). */
		const char *type = http_header(res, "content-type");
		size_t skip = 0;
		while (skip < len && strchr(" \t\r\n", buf[skip]))
			skip++;
		if (skip < len) {
			f->started = 1;
			f->whole = buf[skip] == '{' && !(type && strstr(type, "event-stream")) && f->sse;
		}
	}
	if (f->whole)
		return 0;
	if (llm_stream_feed(f->st, buf, len) < 0)
		f->failed = 1;
	/* A stream that failed is not read to its end. */
	return f->failed ? -1 : 0;
}

/* One request and its stream: 0, 1 when the stream failed before it produced anything, -1. */
static int chat_once(struct llm_client *c, const struct llm_conversation *conv,
		     const struct llm_tool *tools, size_t tools_nr, struct llm_reply *r,
		     struct strbuf *why, long *status)
{
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct strbuf body = STRBUF_INIT, url = STRBUF_INIT;
	struct feeding f = { 0 };
	int ret = 0;

	c->ops->request(&body, &req.headers, &c->s, conv, tools, tools_nr, c->key);
	strbuf_addf(&url, "%s%s", c->s.url, c->ops->path);
	req.method = "POST";
	req.url = url.buf;
	req.body = body.buf;
	req.body_len = body.len;
	req.timeout_ms = c->s.timeout_ms;
	f.st = llm_stream_new(c->ops, r);
	f.sse = c->ops->sse;
	req.on_data = feed;
	req.on_data_arg = &f;
	if (http_do(&c->http, &req, &res) < 0 && !f.failed) {
		strbuf_addf(why, "%s: %s", url.buf, res.error.buf);
		ret = -1;
	} else if (!f.failed && res.status / 100 != 2) {
		struct strbuf msg = STRBUF_INIT;
		*status = res.status;
		c->ops->error(&msg, res.body.buf, res.body.len);
		strbuf_addf(why, "%s: HTTP %ld%s%s", url.buf, res.status, msg.len ? ": " : "", msg.buf);
		strbuf_release(&msg);
		ret = -1;
	} else if (f.whole) {
		size_t skip = strspn(res.body.buf, " \t\r\n");
		/*
		 * A server that ignored stream: true answers one JSON object: it is
		 * read as one event (the OpenAI and Ollama readers know the whole
		 * shape), and an answer none of them reads is said, not taken for
		 * an empty one.
		 */
		if (llm_stream_event(f.st, NULL, res.body.buf + skip, res.body.len - skip) < 0 ||
		    llm_stream_finish(f.st) < 0)
			ret = -1;
		if (!ret && !r->produced)
			strbuf_addf(why, "%s: the server answered without streaming, in a shape sre "
				    "does not read", url.buf), ret = -1;
		else if (ret)
			strbuf_addf(why, "%s: %s", url.buf, r->error.len ? r->error.buf :
				    "the answer could not be read");
	} else if (f.failed || llm_stream_finish(f.st) < 0) {
		strbuf_addf(why, "%s: %s", url.buf, r->error.len ? r->error.buf :
			    "the stream could not be read");
		ret = r->produced ? -1 : 1;
	}
	llm_stream_free(f.st);
	http_redact(&c->http, why);
	redact_strbuf(why);
	http_request_release(&req);
	http_response_release(&res);
	strbuf_release(&body);
	strbuf_release(&url);
	return ret;
}

/*
 * An OpenAI 400 that refuses max_tokens ("Unsupported parameter:
 * 'max_tokens' is not supported with this model. Use
 * 'max_completion_tokens' instead.") or temperature ("Unsupported value:
 * 'temperature' does not support 0 with this model...") teaches the client,
 * for the rest of its life. 1 when it learnt something new.
 */
static int learn_parameters(struct llm_client *c, const char *why)
{
	int learnt = 0;

	if (c->ops != &llm_openai)
		return 0;
	if (!c->s.completion_tokens && strstr(why, "'max_tokens'") &&
	    strstr(why, "max_completion_tokens"))
		learnt = c->s.completion_tokens = 1;
	if (!c->s.no_temperature && strstr(why, "'temperature'"))
		learnt = c->s.no_temperature = 1;
	return learnt;
}

int llm_chat(struct llm_client *c, const struct llm_conversation *conv,
	     const struct llm_tool *tools, size_t tools_nr, struct llm_reply *r,
	     struct strbuf *why)
{
	struct llm_conversation shim = LLM_CONVERSATION_INIT;
	const struct llm_conversation *send = conv;
	long status = 0;
	int ret;

	/* Without native tools, the tools are described in the system prompt. */
	if (c->s.json_tools && tools_nr) {
		struct strbuf sys = STRBUF_INIT;
		if (conv->system)
			strbuf_addf(&sys, "%s\n\n", conv->system);
		llm_shim_prompt(&sys, tools, tools_nr);
		shim = *conv;
		shim.system = strbuf_detach(&sys, NULL);
		send = &shim;
		tools_nr = 0;
	}
	ret = chat_once(c, send, tools, tools_nr, r, why, &status);
	while (ret < 0 && status == 400 && learn_parameters(c, why->buf)) {
		/* A reasoning model said which parameter it refuses: without it (at most twice). */
		status = 0;
		llm_reply_release(r);
		strbuf_reset(why);
		ret = chat_once(c, send, tools, tools_nr, r, why, &status);
	}
	if (ret > 0) {
		/* It failed before it said anything (an overloaded server): once more. */
		llm_reply_release(r);
		strbuf_reset(why);
		ret = chat_once(c, send, tools, tools_nr, r, why, &status);
	}
	if (send == &shim)
		free(shim.system);
	if (ret > 0)
		ret = -1;
	if (!ret && c->s.json_tools && !r->calls_nr)
		llm_shim_read(r);
	return ret;
}
