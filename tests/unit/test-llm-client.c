/*
 * test-llm-client.c: unit tests of lib/llm-client.c: [llm]'s keys, and
 * one turn against a scripted model on loopback (a thread of this test
 * that answers each connection with the next scripted response and keeps
 * what it was sent): the endpoint and headers of each provider, the key
 * never in an error, a 400 with the provider's message, an error event
 * after 200 retried once when nothing was produced and not when
 * something was, and the JSON shim. Prints TAP.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "../../lib/config.h"
#include "../../lib/llm.h"
#include "../../lib/util.h"
#include "test-lib.h"

#define SCRIPT_MAX 4

static struct {
	int fd;
	int port;
	const char *answers[SCRIPT_MAX];   /* whole HTTP responses, in turn */
	size_t nr, served;
	struct strbuf requests;            /* what came, one after the other */
	pthread_t thread;
} server;

static void read_request(int fd, struct strbuf *into)
{
	char buf[4096];
	size_t head_end = 0, want = 0;
	ssize_t n;
	struct strbuf req = STRBUF_INIT;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		const char *end, *cl;
		strbuf_add(&req, buf, (size_t)n);
		if (!head_end && (end = strstr(req.buf, "\r\n\r\n"))) {
			head_end = (size_t)(end - req.buf) + 4;
			cl = strcasestr(req.buf, "\r\ncontent-length:");
			want = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
		}
		if (head_end && req.len >= head_end + want)
			break;
	}
	strbuf_add(into, req.buf, req.len);
	strbuf_addstr(into, "\n----\n");
	strbuf_release(&req);
}

static void *serve(void *arg)
{
	(void)arg;
	while (server.served < server.nr) {
		int c = accept(server.fd, NULL, NULL);
		const char *a;
		if (c < 0)
			break;
		read_request(c, &server.requests);
		a = server.answers[server.served++];
		if (write(c, a, strlen(a)) < 0)
			perror("write");
		close(c);
	}
	return NULL;
}

/* Serve these responses, one per connection, then stop. */
static void script(const char *const *answers, size_t nr)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	memset(&server.answers, 0, sizeof(server.answers));
	for (size_t i = 0; i < nr && i < SCRIPT_MAX; i++)
		server.answers[i] = answers[i];
	server.nr = nr;
	server.served = 0;
	strbuf_reset(&server.requests);
	server.fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (server.fd < 0 || bind(server.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(server.fd, 4) < 0 || getsockname(server.fd, (struct sockaddr *)&sa, &len) < 0) {
		perror("loopback server");
		abort();
	}
	server.port = ntohs(sa.sin_port);
	if (pthread_create(&server.thread, NULL, serve, NULL))
		abort();
}

static void script_done(void)
{
	shutdown(server.fd, SHUT_RDWR);
	close(server.fd);
	pthread_join(server.thread, NULL);
}

static char *sse_answer(const char *body)
{
	return xstrfmt("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		       "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", strlen(body), body);
}

static void configure(struct config *cfg, const char *provider, const char *path_suffix)
{
	char *url = xstrfmt("llm.url=http://127.0.0.1:%d%s", server.port, path_suffix);

	config_clear(cfg);
	config_add_override(cfg, "http.retries=0");
	config_add_override(cfg, "llm.model=m-1");
	config_add_override(cfg, provider);
	config_add_override(cfg, url);
	free(url);
}

static void test_config(void)
{
	struct config cfg = CONFIG_INIT;
	struct llm_client c;
	const char *msg;
	int ret;

	is_int(llm_client_init(&c, &cfg), 1, "no llm.provider: no adviser");
	config_add_override(&cfg, "llm.provider=gemini");
	capture_start();
	ret = llm_client_init(&c, &cfg);
	msg = capture_end();
	is_int(ret, -1, "an unknown provider is an error");
	like(msg, "llm.provider is 'gemini'; it is openai, anthropic or ollama", "naming the choices");
	config_add_override(&cfg, "llm.provider=ollama");
	capture_start();
	ret = llm_client_init(&c, &cfg);
	msg = capture_end();
	like(msg, "llm.model is not set", "a model is required");
	config_add_override(&cfg, "llm.model=llama3.2");
	config_add_override(&cfg, "llm.temperature=hot");
	capture_start();
	ret = llm_client_init(&c, &cfg);
	msg = capture_end();
	like(msg, "llm.temperature is 'hot'", "a temperature that is no number");
	config_add_override(&cfg, "llm.temperature=0.2");
	config_add_override(&cfg, "llm.url=http://127.0.0.1:11434///");
	is_int(llm_client_init(&c, &cfg), 0, "ollama on loopback needs no key");
	is_str(c.s.url, "http://127.0.0.1:11434", "trailing slashes go");
	ok(c.key == NULL, "no key");
	llm_client_release(&c);
	config_clear(&cfg);
}

/* What a turn of a test holds: the configuration, the client, the question, the reply. */
struct turn {
	struct config cfg;
	struct llm_client c;
	struct llm_conversation conv;
	struct llm_reply r;
	struct strbuf why;
};

/*
 * The client of provider (a -c key=value) at the scripted server, its
 * url ending in suffix, with one more key=value (extra, or NULL), asked
 * "why?". Returns llm_client_init()'s answer.
 */
static int turn_start(struct turn *t, const char *provider, const char *suffix, const char *extra)
{
	static const struct config empty = CONFIG_INIT;

	memset(t, 0, sizeof(*t));
	t->cfg = empty;
	strbuf_init(&t->r.error, 0);
	strbuf_init(&t->why, 0);
	configure(&t->cfg, provider, suffix);
	if (extra)
		config_add_override(&t->cfg, extra);
	llm_add_user(&t->conv, "why?");
	return llm_client_init(&t->c, &t->cfg);
}

static int turn_chat(struct turn *t, const struct llm_tool *tools, size_t tools_nr)
{
	llm_reply_release(&t->r);
	strbuf_reset(&t->why);
	return llm_chat(&t->c, &t->conv, tools, tools_nr, &t->r, &t->why);
}

static void turn_end(struct turn *t)
{
	llm_reply_release(&t->r);
	llm_client_release(&t->c);
	llm_conversation_release(&t->conv);
	strbuf_release(&t->why);
	config_clear(&t->cfg);
}

static void test_openai_turn(void)
{
	struct turn t;
	const struct llm_tool tools[] = { { "grep_log", "Lines that match.", "{\"type\":\"object\"}" } };
	char *a = sse_answer(
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Looking\"}}]}\n\n"
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\","
		"\"type\":\"function\",\"function\":{\"name\":\"grep_log\",\"arguments\":\"{\\\"pat\"}}]}}]}\n\n"
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
		"{\"arguments\":\"tern\\\":\\\"OOM\\\"}\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\n"
		"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5}}\n\n"
		"data: [DONE]\n\n");
	const char *answers[] = { a };

	setenv("OPENAI_API_KEY", "sk-canary-0123456789abcdef", 1);
	script(answers, 1);
	is_int(turn_start(&t, "llm.provider=openai", "/v1", NULL), 0, "openai: the client starts");
	is_int(turn_chat(&t, tools, 1), 0, "a turn is read");
	script_done();
	like(server.requests.buf, "POST /v1/chat/completions ", "to the base + /chat/completions");
	like(server.requests.buf, "Authorization: Bearer sk-canary-0123456789abcdef",
	     "with the key from OPENAI_API_KEY");
	is_str(t.r.text, "Looking", "the text");
	ok(t.r.calls_nr == 1 && !strcmp(t.r.calls[0].name, "grep_log") &&
	   !strcmp(t.r.calls[0].arguments, "{\"pattern\":\"OOM\"}"), "the call, arguments joined");
	ok(t.r.input_tokens == 12 && t.r.output_tokens == 5, "the usage");
	turn_end(&t);
	unsetenv("OPENAI_API_KEY");
	free(a);
}

static char *json_answer(const char *status, const char *body)
{
	return xstrfmt("HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
		       "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", status, strlen(body), body);
}

static void test_refused(void)
{
	struct turn t;
	char *refusal = json_answer("400 Bad Request",
		"{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"max_tokens: "
		"too large\"},\"request_id\":\"r1\"}");
	const char *answers[] = { refusal };

	setenv("ANTHROPIC_API_KEY", "sk-ant-canary-99887766", 1);
	script(answers, 1);
	is_int(turn_start(&t, "llm.provider=anthropic", "", NULL), 0, "anthropic: the client starts");
	is_int(turn_chat(&t, NULL, 0), -1, "a 400 fails the turn");
	script_done();
	like(server.requests.buf, "POST /v1/messages ", "to the host + /v1/messages");
	like(server.requests.buf, "x-api-key: sk-ant-canary-99887766", "with the key header");
	like(t.why.buf, "HTTP 400", "the error says the status");
	like(t.why.buf, "too large", "and the provider's message");
	unlike(t.why.buf, "canary", "never the key");
	turn_end(&t);
	unsetenv("ANTHROPIC_API_KEY");
	free(refusal);
}

static const char overloaded[] =
	"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
	"\"message\":\"Overloaded\"}}\n\n";

static void test_retry(void)
{
	struct turn t;
	char *fail = sse_answer(overloaded);
	char *good = sse_answer(
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":"
		"{\"input_tokens\":9}}}\n\n"
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
		"\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
		"\"delta\":{\"type\":\"text_delta\",\"text\":\"fine\"}}\n\n"
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
	char *half = sse_answer(
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
		"\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
		"\"delta\":{\"type\":\"text_delta\",\"text\":\"half\"}}\n\n"
		"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
		"\"message\":\"Overloaded\"}}\n\n");
	const char *once[] = { fail, good }, *not[] = { half, good };

	script(once, 2);
	turn_start(&t, "llm.provider=anthropic", "", NULL);
	is_int(turn_chat(&t, NULL, 0), 0,
	       "an error event before anything was produced is retried once");
	is_str(t.r.text, "fine", "and the second answer is read");
	script_done();
	turn_end(&t);

	script(not, 2);
	turn_start(&t, "llm.provider=anthropic", "", NULL);
	is_int(turn_chat(&t, NULL, 0), -1, "after text was produced it is not retried");
	like(t.why.buf, "overloaded_error", "the error says why");
	is_int((long long)server.served, 1, "one request only");
	server.nr = 1;  /* the good answer is never asked for */
	script_done();
	turn_end(&t);
	free(fail);
	free(good);
	free(half);
}

static void test_shim_turn(void)
{
	struct turn t;
	const struct llm_tool tools[] = { { "grep_log", "Lines that match.", "{\"type\":\"object\"}" } };
	const char *answers[] = {
		"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n"
		"{\"message\":{\"role\":\"assistant\",\"content\":\"```json\\n{\\\"tool\\\": "
		"\\\"grep_log\\\", \\\"arguments\\\": {\\\"pattern\\\": \\\"OOM\\\"}}\\n```\"},\"done\":false}\n"
		"{\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,"
		"\"done_reason\":\"stop\",\"prompt_eval_count\":30,\"eval_count\":8}\n",
	};

	script(answers, 1);
	is_int(turn_start(&t, "llm.provider=ollama", "", "llm.tools=json"), 0,
	       "ollama with the JSON shim");
	is_int(turn_chat(&t, tools, 1), 0, "a turn is read");
	script_done();
	like(server.requests.buf, "POST /api/chat ", "to the host + /api/chat");
	like(server.requests.buf, "- grep_log: Lines that match.", "the tools are in the prompt");
	unlike(server.requests.buf, "\"tools\"", "not in the request's tools");
	unlike(server.requests.buf, "Authorization", "and no key goes to a local server");
	ok(t.r.calls_nr == 1 && !strcmp(t.r.calls[0].name, "grep_log"), "the fenced answer is a call");
	turn_end(&t);
}

/* A server that ignores stream: true answers one object. */
static void test_not_streamed(void)
{
	struct turn t;
	char *openai = json_answer("200 OK",
		"{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
		"\"message\":{\"role\":\"assistant\",\"content\":\"plain answer\"},"
		"\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2}}");
	char *anthropic = json_answer("200 OK",
		"{\"id\":\"msg\",\"type\":\"message\",\"role\":\"assistant\","
		"\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}");
	const char *a1[] = { openai }, *a2[] = { anthropic };

	script(a1, 1);
	turn_start(&t, "llm.provider=openai", "/v1", NULL);
	is_int(turn_chat(&t, NULL, 0), 0, "openai: an answer that is not streamed is read");
	is_str(t.r.text, "plain answer", "its text");
	script_done();
	turn_end(&t);

	script(a2, 1);
	turn_start(&t, "llm.provider=anthropic", "", NULL);
	is_int(turn_chat(&t, NULL, 0), -1, "anthropic: one it cannot read fails the turn");
	like(t.why.buf, "answered without streaming", "saying so, not an empty answer");
	script_done();
	turn_end(&t);
	free(openai);
	free(anthropic);
}

static void test_unreachable(void)
{
	struct turn t;

	script(NULL, 0);
	script_done();  /* the port is closed now */
	turn_start(&t, "llm.provider=ollama", "", NULL);
	is_int(turn_chat(&t, NULL, 0), -1, "a model that cannot be reached fails the turn");
	ok(t.why.len > 0, "saying why");
	turn_end(&t);
}

int main(void)
{
	if (test_begin("llm-client") < 0)
		return 1;
	test_config();
	test_openai_turn();
	test_refused();
	test_retry();
	test_shim_turn();
	test_not_streamed();
	test_unreachable();
	strbuf_release(&server.requests);
	return test_end();
}
