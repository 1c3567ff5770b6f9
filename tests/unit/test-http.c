/*
 * test-http.c: unit tests of lib/http.c against a scripted HTTP server on
 * 127.0.0.1 (a child process of this test), printing TAP.
 *
 * The server answers each connection with the next canned response of its
 * script and writes what it received to a log, so a test checks both what
 * sre saw and what it sent: retries on 5xx and 429, Retry-After, the rate
 * limit headers, no retry of a refused write, the body cap, a refused
 * connection, and secrets kept out of every message.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "../../lib/http.h"
#include "test-lib.h"

static pid_t server;
static int port;

/* Serve the responses in order, one connection each, then exit. */
static void serve(int lfd, const char *const *responses, const char *log)
{
	FILE *lf = fopen(log, "w");

	for (; *responses; responses++) {
		struct strbuf req = STRBUF_INIT;
		char buf[4096];
		int fd = accept(lfd, NULL, NULL);
		ssize_t n;
		long clen = -1;

		if (fd < 0)
			break;
		/* Read the head, then the body its Content-Length announces. */
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			char *end;
			strbuf_add(&req, buf, (size_t)n);
			end = strstr(req.buf, "\r\n\r\n");
			if (!end)
				continue;
			if (clen < 0) {
				char *cl = strcasestr(req.buf, "\r\ncontent-length:");
				clen = cl && cl < end ? atol(cl + 17) : 0;
			}
			if ((long)(req.len - (size_t)(end + 4 - req.buf)) >= clen)
				break;
		}
		fprintf(lf, "%s\n--\n", req.buf);
		fflush(lf);
		if (write(fd, *responses, strlen(*responses)) < 0)
			break;
		close(fd);
		strbuf_release(&req);
	}
	fclose(lf);
	_exit(0);
}

static void start(const char *const *responses)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	char *log = tmp_path("server.log");

	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) < 0) {
		perror("server");
		exit(1);
	}
	port = ntohs(a.sin_port);
	fflush(NULL);
	server = fork();
	if (server == 0) {
		alarm(30); /* bounded, whatever happens */
		serve(lfd, responses, log);
	}
	close(lfd);
	free(log);
}

static void stop(void)
{
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
}

static const char *server_log(void)
{
	char *log = tmp_path("server.log");
	strbuf_reset(&captured);
	strbuf_read_file(&captured, log, 0);
	free(log);
	return captured.buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void client(struct http_client *c, const char *extra)
{
	struct config cfg = CONFIG_INIT;
	struct strbuf text = STRBUF_INIT;

	strbuf_addf(&text, "[http]\n\tretry-base = 10ms\n\tretries = 2\n%s", extra ? extra : "");
	config_read_buffer(&cfg, text.buf, text.len, "test", CONFIG_SCOPE_COMMAND);
	if (http_client_init(c, &cfg) < 0)
		printf("# http_client_init failed\n");
	config_clear(&cfg);
	strbuf_release(&text);
}

static void get(struct http_client *c, struct http_response *res, const char *path,
		const char *method, int no_retry)
{
	struct http_request req = HTTP_REQUEST_INIT;
	char *url = xstrfmt("http://127.0.0.1:%d%s", port, path);

	req.method = method;
	req.url = url;
	req.no_retry = no_retry;
	if (!strcmp(method, "POST")) {
		req.body = "{\"title\":\"x\"}";
		req.body_len = strlen(req.body);
		strvec_push(&req.headers, "Content-Type: application/json");
	}
	http_do(c, &req, res);
	http_request_release(&req);
	free(url);
}

#define OK200 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Test: Yes\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}"
#define E503 "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

static void test_retries(void)
{
	struct http_client c;
	struct http_response res = HTTP_RESPONSE_INIT;
	static const char *const script[] = { E503, E503, OK200, NULL };

	client(&c, NULL);
	start(script);
	get(&c, &res, "/a", "GET", 0);
	stop();
	is_int(res.outcome, HTTP_OK, "a GET that meets two 503s is retried until it succeeds");
	is_int(res.status, 200, "the final status is the 200");
	is_int(res.attempts, 3, "three attempts were made");
	is_str(res.body.buf, "{\"ok\":true}", "the body is the last response's");
	is_str(http_header(&res, "x-test"), "Yes", "headers are found by lower-case name");
	is_str(http_header(&res, "X-TEST"), "Yes", "and by any case");
	ok(count(server_log(), "GET /a HTTP/1.1") == 3, "the server saw three requests");
	like(server_log(), "User-Agent: sre/", "every request names sre in its User-Agent");
	http_response_release(&res);
	http_client_release(&c);
}

static void test_give_up(void)
{
	struct http_client c;
	struct http_response res = HTTP_RESPONSE_INIT;
	static const char *const script[] = { E503, E503, E503, NULL };

	client(&c, NULL);
	start(script);
	get(&c, &res, "/down", "GET", 0);
	stop();
	is_int(res.outcome, HTTP_TRANSIENT, "a 503 past the retries is transient");
	is_int(res.attempts, 3, "after 1 + http.retries attempts");
	like(res.error.buf, "HTTP 503", "the message gives the status");
	like(res.error.buf, "after 3 attempts", "and the attempts");
	http_response_release(&res);
	http_client_release(&c);
}

static void test_no_retry(void)
{
	struct http_client c;
	struct http_response res = HTTP_RESPONSE_INIT;
	static const char *const script[] = { E503, OK200, NULL };
	static const char *const s429[] = {
		"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		OK200, NULL,
	};

	client(&c, NULL);
	start(script);
	get(&c, &res, "/issues", "POST", 1);
	stop();
	is_int(res.attempts, 1, "a write marked no_retry is not repeated after a 503");
	is_int(res.outcome, HTTP_TRANSIENT, "and reads as transient, for the outbox");
	like(server_log(), "{\"title\":\"x\"}", "the body reached the server");
	http_response_release(&res);

	start(s429);
	get(&c, &res, "/issues", "POST", 1);
	stop();
	is_int(res.attempts, 2, "but a 429, refused unprocessed, is retried even for a write");
	is_int(res.status, 200, "and then succeeds");
	http_response_release(&res);
	http_client_release(&c);
}

static void test_waits(void)
{
	struct http_client c;
	struct http_response res = HTTP_RESPONSE_INIT;
	static const char *const too_long[] = {
		"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3600\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		OK200, NULL,
	};
	static const char *const limited[] = {
		"HTTP/1.1 403 Forbidden\r\nX-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 1000\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
		OK200, NULL,
	};
	static const char *const forbidden[] = {
		"HTTP/1.1 403 Forbidden\r\nX-RateLimit-Remaining: 4999\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
		OK200, NULL,
	};

	client(&c, "\tmax-retry-wait = 10s\n");
	start(too_long);
	get(&c, &res, "/slow", "GET", 0);
	stop();
	is_int(res.attempts, 1, "a Retry-After past http.max-retry-wait is not waited for");
	is_int(res.outcome, HTTP_TRANSIENT, "it is transient");
	like(res.error.buf, "asks to wait 3600s", "and the message says how long was asked");
	http_response_release(&res);

	start(limited);
	get(&c, &res, "/limited", "GET", 0);
	stop();
	is_int(res.attempts, 2, "GitHub's 403 with X-RateLimit-Remaining: 0 is retried after the reset");
	is_int(res.status, 200, "and then succeeds");
	http_response_release(&res);

	start(forbidden);
	get(&c, &res, "/forbidden", "GET", 0);
	stop();
	is_int(res.attempts, 1, "a plain 403 is an answer, not retried");
	is_int(res.status, 403, "and is given to the caller");
	is_int(res.outcome, HTTP_OK, "as a response");
	http_response_release(&res);
	http_client_release(&c);
}

/* Retry-After as a server may write it, sane or not. */
static void test_retry_after(void)
{
	time_t now = 1700000000; /* Tue, 14 Nov 2023 22:13:20 GMT */
	int64_t ms = -7;

	ok(!http_parse_retry_after(&ms, "5", now) && ms == 5000, "delta-seconds are read as ms");
	ok(!http_parse_retry_after(&ms, "0", now) && ms == 0, "0 is no wait");
	ok(!http_parse_retry_after(&ms, "99999999999999999999", now) &&
	   ms == HTTP_WAIT_LIMIT_S * 1000, "a number past long long is the cap, not an overflow");
	ok(!http_parse_retry_after(&ms, "9223372036854775807", now) &&
	   ms == HTTP_WAIT_LIMIT_S * 1000, "LLONG_MAX seconds is the cap");
	ms = -7;
	ok(http_parse_retry_after(&ms, "-5", now) < 0 && ms == -7, "a negative number is no Retry-After");
	ok(http_parse_retry_after(&ms, "+5", now) < 0, "a signed number neither");
	ok(http_parse_retry_after(&ms, " 5", now) < 0, "nor one with a space");
	ok(http_parse_retry_after(&ms, "", now) < 0, "nor the empty string");
	ok(http_parse_retry_after(&ms, NULL, now) < 0, "nor no header");
	ok(http_parse_retry_after(&ms, "soon", now) < 0, "nor a word");
	ok(!http_parse_retry_after(&ms, "Tue, 14 Nov 2023 22:13:50 GMT", now) && ms == 30000,
	   "an HTTP date is the time until it");
	ok(!http_parse_retry_after(&ms, "Sun, 06 Nov 1994 08:49:37 GMT", now) && ms == 0,
	   "a date in the past is no wait");
	ok(!http_parse_retry_after(&ms, "Fri, 31 Dec 9999 23:59:59 GMT", now) &&
	   ms == HTTP_WAIT_LIMIT_S * 1000, "a date centuries ahead is the cap");
}

static void test_cap_and_refused(void)
{
	struct http_client c;
	struct http_response res = HTTP_RESPONSE_INIT;
	static const char *const big[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\nConnection: close\r\n\r\n"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		NULL,
	};

	client(&c, "\tmax-body = 100\n");
	start(big);
	get(&c, &res, "/big", "GET", 0);
	stop();
	is_int(res.outcome, HTTP_FAILED, "a body over http.max-body fails");
	like(res.error.buf, "larger than http.max-body (100 bytes)", "with a message naming the cap");
	ok(res.body.len <= 100, "and no more than the cap was kept");
	http_response_release(&res);
	http_client_release(&c);

	client(&c, "\tretries = 0\n");
	start((const char *const[]){ NULL });
	stop(); /* the port is closed now: the connection is refused */
	get(&c, &res, "/gone", "GET", 0);
	is_int(res.outcome, HTTP_TRANSIENT, "a refused connection is transient");
	is_int(res.status, 0, "with no status");
	ok(res.error.len > 0, "and a message: %s", res.error.buf);
	http_response_release(&res);
	http_client_release(&c);
}

static void test_redaction(void)
{
	struct http_client c;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct strbuf sb = STRBUF_INIT;
	struct http_request req = HTTP_REQUEST_INIT;
	char *url;

	client(&c, "\tretries = 0\n");
	http_client_add_secret(&c, "s3cr3t-t0ken");
	strbuf_addstr(&sb, "Bearer s3cr3t-t0ken and again s3cr3t-t0ken.");
	http_redact(&c, &sb);
	is_str(sb.buf, "Bearer <redacted> and again <redacted>.", "every occurrence of a secret is redacted");
	strbuf_release(&sb);

	/* A secret in the URL (a webhook) never reaches the error message. */
	start((const char *const[]){ E503, NULL });
	url = xstrfmt("http://127.0.0.1:%d/hooks/s3cr3t-t0ken", port);
	req.method = "GET";
	req.url = url;
	http_do(&c, &req, &res);
	stop();
	like(res.error.buf, "/hooks/<redacted> after 1 attempt",
	     "an error naming a URL that holds a secret shows <redacted> instead");
	unlike(res.error.buf, "s3cr3t-t0ken", "and never the secret");
	http_response_release(&res);
	http_request_release(&req);
	free(url);
	http_client_release(&c);

	strbuf_addstr(&sb, "");
	http_urlencode(&sb, "sre:state/INCIDENT_DETECTED a&b");
	is_str(sb.buf, "sre%3Astate%2FINCIDENT_DETECTED%20a%26b", "http_urlencode keeps only unreserved characters");
	strbuf_release(&sb);
}

static void test_many(void)
{
	struct http_client c;
	struct http_request reqs[4];
	struct http_response res[4];
	static const char *const script[] = { OK200, OK200, OK200, OK200, NULL };
	int failed;

	client(&c, NULL);
	start(script);
	for (int i = 0; i < 4; i++) {
		struct http_request r = HTTP_REQUEST_INIT;
		struct http_response s = HTTP_RESPONSE_INIT;
		reqs[i] = r;
		res[i] = s;
		reqs[i].method = "GET";
		reqs[i].url = xstrfmt("http://127.0.0.1:%d/many/%d", port, i);
	}
	failed = http_do_many(&c, reqs, res, 4, 2);
	stop();
	is_int(failed, 0, "http_do_many: four requests, none failed");
	for (int i = 0; i < 4; i++) {
		is_int(res[i].status, 200, "request %d got its response", i);
		free((char *)reqs[i].url);
		http_response_release(&res[i]);
	}
	ok(count(server_log(), "GET /many/") == 4, "the server saw all four");
	http_client_release(&c);
}

/*
 * A credential goes over https, or plain http to loopback, or nowhere.
 * What is let through goes to a closed port on loopback: no test leaves
 * this machine.
 */
static void test_credentials_over_https(void)
{
	static const struct {
		const char *url, *header, *userpwd;
		int refused;
		const char *what;
	} cases[] = {
		{ "http://192.0.2.1:9/x", "Authorization: Bearer abcd1234", NULL, 1, "a bearer token off loopback" },
		{ "http://192.0.2.1:9/x", NULL, "user:pw", 1, "basic auth off loopback" },
		{ "http://u:pw@192.0.2.1:9/x", NULL, NULL, 1, "userinfo off loopback" },
		{ "http://192.0.2.1:9/hooks/s3cr3t-t0ken", NULL, NULL, 1, "a secret in the URL off loopback" },
		{ "HTTP://EXAMPLE.COM:9/x", "authorization: token x", NULL, 1, "any case of scheme and header" },
		{ "http://127.0.0.2:9/x", "Authorization: Bearer abcd1234", NULL, 0, "127.0.0.0/8" },
		{ "http://localhost:9/x", "Authorization: Bearer abcd1234", NULL, 0, "localhost" },
		{ "http://[::1]:9/x", NULL, "user:pw", 0, "::1" },
	};
	struct http_client c;

	client(&c, "\tretries = 0\n\tconnect-timeout = 200ms\n\ttimeout = 300ms\n");
	http_client_add_secret(&c, "s3cr3t-t0ken");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct http_request req = HTTP_REQUEST_INIT;
		struct http_response res = HTTP_RESPONSE_INIT;
		int refused;

		req.method = "GET";
		req.url = cases[i].url;
		req.userpwd = cases[i].userpwd;
		if (cases[i].header)
			strvec_push(&req.headers, cases[i].header);
		http_do(&c, &req, &res);
		refused = res.outcome == HTTP_FAILED && !res.attempts &&
			  strstr(res.error.buf, "https is required");
		ok(refused == cases[i].refused, "%s: %s", cases[i].what,
		   cases[i].refused ? "refused before connecting" : "let through");
		if (cases[i].refused)
			unlike(res.error.buf, "s3cr3t-t0ken", "%s: the message holds no secret", cases[i].what);
		http_response_release(&res);
		http_request_release(&req);
	}
	http_client_release(&c);
	ok(http_host_is_loopback("127.255.0.1") && http_host_is_loopback("[::ffff:127.0.0.1]") &&
	   http_host_is_loopback("LocalHost") && !http_host_is_loopback("128.0.0.1") &&
	   !http_host_is_loopback("localhost.example.com") && !http_host_is_loopback("[::2]"),
	   "loopback: 127.0.0.0/8, ::1 and localhost, nothing else");
}

struct pieces {
	struct strbuf got;
	int calls, stop_after;
};

static int take_piece(void *arg, const struct http_response *res, const char *buf, size_t len)
{
	struct pieces *p = arg;

	if (res->status != 200)
		strbuf_addstr(&p->got, "<not a 200>");
	strbuf_add(&p->got, buf, len);
	return ++p->calls == p->stop_after ? -1 : 0;
}

static void stream_get(struct http_client *c, struct http_response *res, struct pieces *p)
{
	struct http_request req = HTTP_REQUEST_INIT;
	char *url = xstrfmt("http://127.0.0.1:%d/stream", port);

	req.method = "GET";
	req.url = url;
	req.on_data = take_piece;
	req.on_data_arg = p;
	http_do(c, &req, res);
	http_request_release(&req);
	free(url);
}

#define SHORT200 "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"partial\":"

static void test_on_data_and_cancel(void)
{
	struct http_client c;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct pieces p = { STRBUF_INIT, 0, 0 };
	static const char *const ok[] = { E503, OK200, NULL };
	static const char *const cut[] = { SHORT200, OK200, OK200, NULL };
	volatile sig_atomic_t cancel = 1;

	client(&c, NULL);
	start(ok);
	stream_get(&c, &res, &p);
	stop();
	is_str(p.got.buf, "{\"ok\":true}", "a 2xx body goes to its reader as it comes, a 503 not at all");
	is_str(res.body.buf, "{\"ok\":true}", "and is kept whole too");
	http_response_release(&res);

	strbuf_reset(&p.got);
	p.calls = 0;
	start(cut);
	stream_get(&c, &res, &p);
	stop();
	is_int(res.attempts, 1, "a body cut short after its reader saw some is not retried");
	is_int(res.outcome, HTTP_TRANSIENT, "and fails");
	is_str(p.got.buf, "{\"partial\":", "the reader saw what came");
	http_response_release(&res);

	strbuf_reset(&p.got);
	p.calls = 0;
	p.stop_after = 1;
	start(ok);
	stream_get(&c, &res, &p);
	stop();
	is_int(res.outcome, HTTP_FAILED, "a reader that says stop ends the transfer");
	is_str(res.error.buf, "stopped by its reader", "so it says");
	http_response_release(&res);

	c.cancel = &cancel;
	start(ok);
	get(&c, &res, "/slow", "GET", 0);
	stop();
	is_int(res.outcome, HTTP_FAILED, "a cancelled client gives up");
	is_str(res.error.buf, "cancelled", "as cancelled");
	is_int(res.attempts, 0, "without an attempt: it was cancelled before it began");
	http_response_release(&res);
	http_client_release(&c);
	strbuf_release(&p.got);
}

int main(void)
{
	if (test_begin("http") < 0)
		return 1;
	unsetenv("SRE_TRACE");
	signal(SIGPIPE, SIG_IGN);
	test_retries();
	test_give_up();
	test_no_retry();
	test_waits();
	test_retry_after();
	test_cap_and_refused();
	test_redaction();
	test_many();
	test_credentials_over_https();
	test_on_data_and_cancel();
	return test_end();
}
