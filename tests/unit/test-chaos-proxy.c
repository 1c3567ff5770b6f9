/*
 * test-chaos-proxy.c: unit tests of lib/chaos-proxy.c. The toxics' checks
 * (bounds, unknown keys, wrong types, hostile names); set, list and clear
 * on a real SQLite store; the proxy's refusals when it opens; and the
 * proxy itself, run in a thread between a client and an HTTP upstream of
 * this process on 127.0.0.1, its toxics set through a second handle on
 * the store as another process would, and measured: bytes through
 * unchanged, the latency added, the share of errors, a reset, a hold
 * released, the bandwidth.
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <time.h>

#include "../../lib/chaos-proxy.h"
#include "../../lib/sha256.h"
#include "test-lib.h"

static struct store *st;

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- the checks ---- */

static int check(const char *toxic, const char *params_json, struct strbuf *why)
{
	cJSON *params = params_json ? cJSON_Parse(params_json) : NULL;
	int r;

	strbuf_reset(why);
	r = chaos_toxic_check(toxic, params, why);
	cJSON_Delete(params);
	return r;
}

static void test_check(void)
{
	static const char *const good[][2] = {
		{ "latency", "{\"latency_ms\":200}" },
		{ "latency", "{\"latency_ms\":200,\"jitter_ms\":50}" },
		{ "latency", "{\"latency_ms\":0}" },
		{ "latency", "{\"latency_ms\":60000,\"jitter_ms\":60000}" },
		{ "errors", "{}" },
		{ "errors", NULL },
		{ "errors", "{\"share\":0.3}" },
		{ "errors", "{\"share\":0,\"status\":500}" },
		{ "errors", "{\"share\":1,\"status\":599}" },
		{ "reset", "{}" },
		{ "reset", NULL },
		{ "timeout", "{}" },
		{ "bandwidth", "{\"rate_kbps\":1}" },
		{ "bandwidth", "{\"rate_kbps\":1000000}" },
	};
	static const char *const bad[][3] = {
		{ "latency", "{}", "needs latency_ms" },
		{ "latency", "{\"latency_ms\":-1}", "latency_ms -1 is not" },
		{ "latency", "{\"latency_ms\":60001}", "latency_ms 60001 is not" },
		{ "latency", "{\"latency_ms\":1.5}", "whole number" },
		{ "latency", "{\"latency_ms\":\"200\"}", "latency_ms is not a number" },
		{ "latency", "{\"latency_ms\":true}", "not a number" },
		{ "latency", "{\"latency_ms\":null}", "not a number" },
		{ "latency", "{\"latency_ms\":1e300}", "is not" },
		{ "latency", "{\"latency_ms\":100,\"jitter_ms\":101}", "jitter_ms 101 is more than latency_ms 100" },
		{ "latency", "{\"latency_ms\":100,\"delay\":1}", "takes no 'delay' (it takes latency_ms, jitter_ms)" },
		{ "latency", "[200]", "not an object" },
		{ "latency", "200", "not an object" },
		{ "errors", "{\"share\":1.5}", "share 1.5 is not from 0 to 1" },
		{ "errors", "{\"share\":-0.1}", "share -0.1" },
		{ "errors", "{\"status\":404}", "status 404 is not a whole number from 500 to 599" },
		{ "errors", "{\"status\":600}", "status 600" },
		{ "errors", "{\"status\":503.5}", "whole number" },
		{ "reset", "{\"after_ms\":1}", "takes no 'after_ms' (it takes none)" },
		{ "timeout", "{\"timeout_ms\":1}", "takes no 'timeout_ms'" },
		{ "bandwidth", "{\"rate_kbps\":0}", "rate_kbps 0" },
		{ "bandwidth", "{\"rate_kbps\":1000001}", "rate_kbps 1000001" },
		{ "bandwidth", "{}", "needs rate_kbps" },
		{ "slow", "{}", "unknown toxic 'slow' (latency, errors, reset, timeout, bandwidth)" },
		{ "", "{}", "unknown toxic ''" },
		{ "Latency", "{}", "unknown toxic 'Latency'" },
	};
	struct strbuf why = STRBUF_INIT;
	cJSON *nan;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		if (!ok(!check(good[i][0], good[i][1], &why), "%s %s is a toxic", good[i][0],
			good[i][1] ? good[i][1] : "NULL"))
			diag_text("why", why.buf);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ok(check(bad[i][0], bad[i][1], &why) < 0, "%s %s is refused", bad[i][0], bad[i][1]);
		like(why.buf, bad[i][2], "... saying %s", bad[i][2]);
		ok(!strchr(why.buf, '\n'), "... on one line");
	}

	strbuf_reset(&why);
	ok(chaos_toxic_check(NULL, NULL, &why) < 0, "no toxic name is refused");

	/* Hostile names reach the message cut short and without controls. */
	ok(check("\x1b]0;pwned\x07\nlatency", "{}", &why) < 0, "a toxic name with controls is refused");
	ok(!strchr(why.buf, '\x1b') && !strchr(why.buf, '\n') && !strchr(why.buf, '\x07'),
	   "... and its controls are not printed");
	ok(check("latency", "{\"latency_ms\":1,\"\\u001b[2J\\n\":1}", &why) < 0,
	   "a key with controls is refused");
	ok(!strchr(why.buf, '\x1b') && !strchr(why.buf, '\n'), "... and not printed as it came");
	{
		char long_name[300];
		memset(long_name, 'x', sizeof(long_name) - 1);
		long_name[sizeof(long_name) - 1] = '\0';
		ok(check(long_name, "{}", &why) < 0 && why.len < 120, "a long name is cut short (%zu)",
		   why.len);
	}
	nan = cJSON_CreateObject();
	cJSON_AddNumberToObject(nan, "latency_ms", NAN);
	strbuf_reset(&why);
	ok(chaos_toxic_check("latency", nan, &why) < 0, "NaN is refused");
	cJSON_Delete(nan);
	strbuf_release(&why);
}

/* ---- the table ---- */

static int set(struct store *s, const char *proxy, const char *toxic, const char *json,
	       long long fault)
{
	cJSON *params = cJSON_Parse(json);
	int r = chaos_toxic_set(s, proxy, toxic, params, fault);

	cJSON_Delete(params);
	return r;
}

static void test_table(void)
{
	cJSON *list, *row;
	const char *msg;

	list = chaos_toxic_list(st, NULL);
	ok(list && cJSON_GetArraySize(list) == 0, "no toxic at first");
	cJSON_Delete(list);

	is_int(set(st, "api", "latency", "{\"latency_ms\":200}", 7), 0, "set latency on api");
	is_int(set(st, "api", "latency", "{\"latency_ms\":300,\"jitter_ms\":10}", 8), 0,
	       "set it again, other params");
	is_int(set(st, "db", "errors", "{\"share\":0.5}", 0), 0, "set errors on db, no fault");
	list = chaos_toxic_list(st, NULL);
	is_int(cJSON_GetArraySize(list), 2, "two toxics in all: the second set replaced the first");
	row = cJSON_GetArrayItem(list, 0);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(row, "proxy")), "api", "by proxy: api first");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(row, "toxic")), "latency", "its toxic");
	is_int(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(row, "params"), "latency_ms")),
	       300, "its params, as set last");
	is_int(cJSON_GetNumberValue(cJSON_GetObjectItem(row, "fault_id")), 8, "its fault");
	ok(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 1), "fault_id")),
	   "no fault: fault_id null");
	cJSON_Delete(list);

	list = chaos_toxic_list(st, "db");
	is_int(cJSON_GetArraySize(list), 1, "the toxics of one proxy");
	cJSON_Delete(list);

	capture_start();
	is_int(set(st, "api", "latency", "{\"latency_ms\":-5}", 9), -1, "a wrong toxic is not set");
	is_int(set(st, "a\nb", "reset", "{}", 0), -1, "nor one on a proxy named with a newline");
	is_int(set(st, "", "reset", "{}", 0), -1, "nor on no proxy");
	msg = capture_end();
	like(msg, "error: cannot set a toxic: latency_ms -5 is not", "said, with why");
	like(msg, "not a proxy's name: 'a?b'", "the bad name said, without its newline");
	list = chaos_toxic_list(st, "api");
	is_int(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0),
			"params"), "latency_ms")), 300, "the toxic in place is untouched");
	cJSON_Delete(list);

	is_int(chaos_toxic_clear(st, "api", "latency"), 0, "clear it");
	is_int(chaos_toxic_clear(st, "api", "latency"), 0, "clear it again: 0, there is none");
	is_int(chaos_toxic_clear(st, "db", "errors"), 0, "clear the other");
	list = chaos_toxic_list(st, NULL);
	is_int(cJSON_GetArraySize(list), 0, "none left");
	cJSON_Delete(list);
}

/* ---- opening ---- */

static struct config *config_of(const char *const *kv)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	for (; *kv; kv++)
		if (config_add_override(cfg, *kv) < 0)
			abort();
	return cfg;
}

static void config_free(struct config *cfg)
{
	config_clear(cfg);
	free(cfg);
}

/* Open with config kv and names: the return, and what was said in msg. */
static int try_open(const char *const *kv, const char *name, struct strbuf *msg)
{
	struct config *cfg = config_of(kv);
	struct strvec names = STRVEC_INIT;
	struct chaos_proxies *p;
	int r;

	if (name)
		strvec_push(&names, name);
	capture_start();
	r = chaos_proxy_open(&p, cfg, &names);
	strbuf_reset(msg);
	strbuf_addstr(msg, capture_end());
	chaos_proxy_free(p);
	strvec_clear(&names);
	config_free(cfg);
	return r;
}

static void test_open(void)
{
	struct strbuf msg = STRBUF_INIT;
	struct config *cfg;

	{
		const char *kv[] = { "proxy.api.listen=127.0.0.1:0", "proxy.api.upstream=127.0.0.1:9",
				     "proxy.half.listen=127.0.0.1:0", NULL };
		cfg = config_of(kv);
		is_int(chaos_proxy_configured(cfg, "api"), 1, "api is configured");
		is_int(chaos_proxy_configured(cfg, "half"), 0, "a proxy without upstream is not");
		is_int(chaos_proxy_configured(cfg, "nope"), 0, "nor one not named");
		config_free(cfg);
		is_int(try_open(kv, "api", &msg), 0, "api opens");
		is_int(try_open(kv, "nope", &msg), -1, "a name not configured is refused");
		like(msg.buf, "proxy 'nope' is not configured", "... saying so");
		is_int(try_open(kv, NULL, &msg), -1, "all: half is not whole, so none opens");
		like(msg.buf, "proxy 'half' is not configured", "... naming it");
		is_int(try_open(kv, "\x1b[31mred", &msg), -1, "a hostile name is refused");
		ok(!strchr(msg.buf, '\x1b'), "... without its escape");
	}
	{
		const char *none[] = { NULL };
		is_int(try_open(none, NULL, &msg), -1, "no proxy configured: refused");
		like(msg.buf, "no proxy is configured", "... saying how to add one");
	}
	{
		const char *kv[] = { "proxy.w.listen=0.0.0.0:0", "proxy.w.upstream=127.0.0.1:9", NULL };
		is_int(try_open(kv, "w", &msg), -1, "0.0.0.0 without listen-any is refused");
		like(msg.buf, "is not a loopback address; set proxy.w.listen-any = true", "... saying how");
	}
	{
		const char *kv[] = { "proxy.w.listen=[::]:0", "proxy.w.upstream=127.0.0.1:9", NULL };
		is_int(try_open(kv, "w", &msg), -1, "[::] without listen-any is refused");
	}
	{
		const char *kv[] = { "proxy.w.listen=:0", "proxy.w.upstream=127.0.0.1:9", NULL };
		is_int(try_open(kv, "w", &msg), -1, "an empty host (every address) is refused too");
	}
	{
		const char *kv[] = { "proxy.l.listen=localhost:0", "proxy.l.upstream=localhost:9", NULL };
		is_int(try_open(kv, "l", &msg), 0, "localhost is loopback");
	}
	{
		static const char *const wrong[][2] = {
			{ "127.0.0.1", "is not host:port" },
			{ "127.0.0.1:70000", "is not host:port" },
			{ "127.0.0.1:http", "is not host:port" },
			{ "::1:80", "write an IPv6 address in brackets" },
		};
		for (size_t i = 0; i < ARRAY_SIZE(wrong); i++) {
			char *l = xstrfmt("proxy.x.listen=%s", wrong[i][0]);
			const char *kv[] = { l, "proxy.x.upstream=127.0.0.1:9", NULL };
			is_int(try_open(kv, "x", &msg), -1, "listen %s is refused", wrong[i][0]);
			like(msg.buf, wrong[i][1], "... saying %s", wrong[i][1]);
			free(l);
		}
	}
	{
		const char *kv[] = { "proxy.x.listen=127.0.0.1:0", "proxy.x.upstream=127.0.0.1:0", NULL };
		is_int(try_open(kv, "x", &msg), -1, "an upstream on port 0 is refused");
	}
	{
		const char *kv[] = { "proxy.x.listen=127.0.0.1:0", "proxy.x.upstream=127.0.0.1:9",
				     "proxy.max-connections=0", NULL };
		is_int(try_open(kv, "x", &msg), -1, "proxy.max-connections 0 is refused");
		like(msg.buf, "proxy.max-connections 0 is not 1 to 4096", "... saying the bounds");
	}
	strbuf_release(&msg);
}

/* ---- an upstream: HTTP on 127.0.0.1, one connection at a time ---- */

static int up_fd = -1;
static volatile int up_stop;

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 31 + i / 251);
}

static int listen_loopback(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static void timeouts(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void serve_one(int fd)
{
	char head[4096], *p, out[256];
	size_t len = 0;
	long n = 2;
	int hl;

	timeouts(fd, 5000);
	while (len < sizeof(head) - 1) {
		ssize_t r = recv(fd, head + len, sizeof(head) - 1 - len, 0);
		if (r <= 0)
			return;
		len += (size_t)r;
		head[len] = '\0';
		if (strstr(head, "\r\n\r\n"))
			break;
	}
	if ((p = strstr(head, "/big?n=")))
		n = strtol(p + 7, NULL, 10);
	hl = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\nContent-Length: %ld\r\nConnection: close\r\n\r\n%s",
		      n, p ? "" : "ok");
	if (send(fd, out, (size_t)hl, MSG_NOSIGNAL) < 0 || !p)
		return;
	for (size_t off = 0; off < (size_t)n;) {
		unsigned char buf[16384];
		size_t k = (size_t)n - off < sizeof(buf) ? (size_t)n - off : sizeof(buf);
		ssize_t w;
		for (size_t i = 0; i < k; i++)
			buf[i] = pattern(off + i);
		if ((w = send(fd, buf, k, MSG_NOSIGNAL)) <= 0)
			return;
		off += (size_t)w;
	}
}

static void *upstream_main(void *arg)
{
	while (!up_stop) {
		struct pollfd pfd = { up_fd, POLLIN, 0 };
		int fd;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((fd = accept(up_fd, NULL, NULL)) < 0)
			continue;
		serve_one(fd);
		close(fd);
	}
	return NULL;
}

/* ---- a client ---- */

struct reply {
	int status;
	int err;                /* errno when there was no whole answer */
	int64_t ms;             /* from the request to the end of the answer */
	size_t body_len;
	char sha[65];
	char body[128];         /* its start */
};

static int send_request(int port, const char *path)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char *req = xstrfmt("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
	ssize_t w;

	timeouts(fd, 5000);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (w = send(fd, req, strlen(req), MSG_NOSIGNAL)) < 0) {
		int e = errno;
		close(fd);
		free(req);
		errno = e;
		return -1;
	}
	free(req);
	return fd;
}

/* Read an answer until EOF: 0, or -1 with r->err (EAGAIN: none within ms). */
static int read_reply(int fd, int ms, struct reply *r)
{
	char head[4096];
	size_t hl = 0;
	struct sha256 sha;
	int in_body = 0;

	memset(r, 0, sizeof(*r));
	sha256_init(&sha);
	timeouts(fd, ms);
	for (;;) {
		char buf[16384];
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0) {
			r->err = errno;
			return -1;
		}
		if (!n)
			break;
		if (in_body) {
			sha256_update(&sha, buf, (size_t)n);
			r->body_len += (size_t)n;
			continue;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (in_body) {
				sha256_update(&sha, buf + i, (size_t)(n - i));
				if (r->body_len < sizeof(r->body) - 1)
					memcpy(r->body + r->body_len, buf + i,
					       (size_t)(n - i) < sizeof(r->body) - 1 - r->body_len ?
					       (size_t)(n - i) : sizeof(r->body) - 1 - r->body_len);
				r->body_len += (size_t)(n - i);
				break;
			}
			if (hl < sizeof(head) - 1)
				head[hl++] = buf[i];
			if (hl >= 4 && !memcmp(head + hl - 4, "\r\n\r\n", 4))
				in_body = 1;
		}
	}
	head[hl] = '\0';
	if (sscanf(head, "HTTP/1.1 %d", &r->status) != 1) {
		r->err = EPROTO;
		return -1;
	}
	sha256_hex(&sha, r->sha);
	return 0;
}

static int get(int port, const char *path, struct reply *r)
{
	int64_t t0 = ms_now();
	int fd = send_request(port, path), ret;

	if (fd < 0) {
		memset(r, 0, sizeof(*r));
		r->err = errno;
		return -1;
	}
	ret = read_reply(fd, 5000, r);
	r->ms = ms_now() - t0;
	close(fd);
	return ret;
}

static int cmp_ll(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* The median time of n requests for /, or -1 when one failed. */
static int64_t median_ms(int port, int n)
{
	int64_t t[16];
	struct reply r;

	for (int i = 0; i < n; i++) {
		if (get(port, "/", &r) < 0 || r.status != 200)
			return -1;
		t[i] = r.ms;
	}
	qsort(t, (size_t)n, sizeof(t[0]), cmp_ll);
	return t[n / 2];
}

static char *sha_of_pattern(size_t n)
{
	struct sha256 sha;
	char hex[65];

	sha256_init(&sha);
	for (size_t i = 0; i < n; i++) {
		unsigned char b = pattern(i);
		sha256_update(&sha, &b, 1);
	}
	sha256_hex(&sha, hex);
	return xstrdup(hex);
}

/* A toxic reaches the running proxy within 250 ms; wait a little more. */
static void settle(void)
{
	pause_ms(450);
}

/* ---- the proxy, run ---- */

static struct chaos_proxies *running;
static struct store *proxy_store;
static volatile sig_atomic_t proxy_stop;
static int proxy_rc = -5;

static void *proxy_main(void *arg)
{
	proxy_rc = chaos_proxy_serve(running, proxy_store, &proxy_stop);
	return NULL;
}

static void test_run(const char *db)
{
	pthread_t up_thread, px_thread;
	struct strvec names = STRVEC_INIT;
	struct config *cfg;
	struct reply r;
	int rc, up_port = 0, port, errors = 0, oks = 0, other = 0;
	int64_t base, slow, t0;
	const char *name, *listen_at, *upstream;
	char *kv0, *want, *log;
	sqlite3 *raw;

	up_fd = listen_loopback(&up_port);
	if (!ok(up_fd >= 0, "an upstream listens on 127.0.0.1"))
		return;
	pthread_create(&up_thread, NULL, upstream_main, NULL);
	kv0 = xstrfmt("proxy.api.upstream=127.0.0.1:%d", up_port);
	{
		const char *kv[] = { "proxy.api.listen=127.0.0.1:0", kv0, NULL };
		cfg = config_of(kv);
	}
	is_int(store_open(&proxy_store, db, 5000), 0, "the proxy's own handle on the store");
	is_int(chaos_proxy_open(&running, cfg, &names), 0, "the proxy opens");
	chaos_proxy_info(running, 0, &name, &listen_at, &upstream);
	is_str(name, "api", "its name");
	ok(starts_with(listen_at, "127.0.0.1:") && strcmp(listen_at, "127.0.0.1:0"),
	   "it says the port it was given (%s)", listen_at);
	is_str(upstream, kv0 + strlen("proxy.api.upstream="), "its upstream as configured");
	port = atoi(listen_at + strlen("127.0.0.1:"));

	capture_start();
	pthread_create(&px_thread, NULL, proxy_main, NULL);

	/* No toxic: the bytes pass unchanged. */
	want = sha_of_pattern(1 << 20);
	is_int(get(port, "/big?n=1048576", &r), 0, "1 MiB through the proxy");
	is_int(r.body_len, 1 << 20, "... all of it");
	is_str(r.sha, want, "... unchanged (sha256)");
	free(want);

	/* latency: the median of 10 requests, against the same without. */
	base = median_ms(port, 10);
	ok(base >= 0 && base < 100, "without a toxic: %lld ms", (long long)base);
	is_int(set(st, "api", "latency", "{\"latency_ms\":200}", 0), 0, "latency 200 ms set");
	settle();
	slow = median_ms(port, 10);
	ok(slow - base >= 180 && slow - base <= 220, "200 ms added, within 10%%: %lld ms",
	   (long long)(slow - base));
	is_int(set(st, "api", "latency", "{\"latency_ms\":200,\"jitter_ms\":100}", 0), 0,
	       "latency 200 ms, jitter 100 ms");
	settle();
	{
		int64_t lo = 1 << 30, hi = -1;

		for (int i = 0; i < 6; i++) {
			if (get(port, "/", &r) < 0)
				break;
			lo = r.ms < lo ? r.ms : lo;
			hi = r.ms > hi ? r.ms : hi;
		}
		ok(lo >= 90 && hi <= 330, "each within 100..300 ms (%lld..%lld)", (long long)lo,
		   (long long)hi);
		ok(hi - lo > 20, "... and not all alike");
	}
	chaos_toxic_clear(st, "api", "latency");
	settle();
	slow = median_ms(port, 5);
	ok(slow >= 0 && slow < 100, "cleared: fast again (%lld ms)", (long long)slow);

	/* errors: a share of 0.3 over 200 requests lands in 0.2..0.4 (beyond 3 sigma). */
	is_int(set(st, "api", "errors", "{\"share\":0.3}", 0), 0, "errors share 0.3 set");
	settle();
	for (int i = 0; i < 200; i++) {
		if (get(port, "/", &r) < 0)
			other++;
		else if (r.status == 503 && strstr(r.body, "errors toxic"))
			errors++;
		else if (r.status == 200 && !strcmp(r.body, "ok"))
			oks++;
		else
			other++;
	}
	ok(errors >= 40 && errors <= 80, "%d of 200 answered 503 by the proxy", errors);
	is_int(oks + errors, 200, "the rest (%d) passed to the upstream, none lost", oks);
	is_int(set(st, "api", "errors", "{\"status\":500}", 0), 0, "errors share 1, status 500");
	settle();
	for (int i = 0; i < 5; i++)
		if (get(port, "/", &r) < 0 || r.status != 500)
			other++;
	is_int(other, 0, "every request answered 500");
	chaos_toxic_clear(st, "api", "errors");

	/* reset: the client sees its connection reset. */
	is_int(set(st, "api", "reset", "{}", 0), 0, "reset set");
	settle();
	rc = get(port, "/", &r);
	ok(rc < 0 && r.err == ECONNRESET, "the client sees a reset (%s)", strerror(r.err));
	chaos_toxic_clear(st, "api", "reset");
	settle();
	ok(!get(port, "/", &r) && r.status == 200, "cleared: answered again");

	/* timeout: held, no answer, then the answer once it goes. */
	is_int(set(st, "api", "timeout", "{}", 0), 0, "timeout set");
	settle();
	{
		int fd = send_request(port, "/");

		rc = read_reply(fd, 1000, &r);
		ok(rc < 0 && (r.err == EAGAIN || r.err == EWOULDBLOCK), "no answer within 1 s (%s)",
		   strerror(r.err));
		chaos_toxic_clear(st, "api", "timeout");
		t0 = ms_now();
		ok(!read_reply(fd, 3000, &r) && r.status == 200 && !strcmp(r.body, "ok"),
		   "cleared: the same request is answered");
		ok(ms_now() - t0 < 1000, "... at once (%lld ms)", (long long)(ms_now() - t0));
		close(fd);
	}

	/* reset, set while a connection is open (held here): that one is reset too. */
	is_int(set(st, "api", "timeout", "{}", 0), 0, "timeout set again");
	settle();
	{
		int fd = send_request(port, "/");

		is_int(set(st, "api", "reset", "{}", 0), 0, "reset set while a connection is held");
		rc = read_reply(fd, 3000, &r);
		ok(rc < 0 && r.err == ECONNRESET, "the held connection is reset (%s)", strerror(r.err));
		close(fd);
	}
	chaos_toxic_clear(st, "api", "reset");
	chaos_toxic_clear(st, "api", "timeout");

	/* bandwidth: 1600 kbit/s is 200 kB/s: 200 kB in a second, within 20%. */
	is_int(set(st, "api", "bandwidth", "{\"rate_kbps\":1600}", 0), 0, "bandwidth 1600 kbps set");
	settle();
	want = sha_of_pattern(200000);
	is_int(get(port, "/big?n=200000", &r), 0, "200 kB through it");
	ok(r.ms >= 800 && r.ms <= 1200, "in %lld ms (1000 expected)", (long long)r.ms);
	is_str(r.sha, want, "... unchanged");
	free(want);
	chaos_toxic_clear(st, "api", "bandwidth");

	/* A row no toxic of ours, written around the API: ignored, said once. */
	if (sqlite3_open(db, &raw) == SQLITE_OK) {
		sqlite3_busy_timeout(raw, 5000);
		sqlite3_exec(raw, "INSERT INTO chaos_toxics(proxy, toxic, params) VALUES "
			     "('api', 'latency', '{\"latency_ms\":1e9}')", NULL, NULL, NULL);
		sqlite3_close(raw);
	}
	settle();
	slow = median_ms(port, 3);
	ok(slow >= 0 && slow < 100, "a latency of 1e9 ms from the store is ignored (%lld ms)",
	   (long long)slow);
	chaos_toxic_clear(st, "api", "latency");

	proxy_stop = 1;
	pthread_join(px_thread, NULL);
	log = xstrdup(capture_end());
	is_int(proxy_rc, 0, "the proxy stops when told, with 0");
	like(log, "proxy api: toxic latency set: {\"latency_ms\":200,\"jitter_ms\":0}\n",
	     "a toxic set is logged");
	like(log, "proxy api: toxic latency cleared\n", "and cleared");
	like(log, "proxy api: toxic bandwidth set: {\"rate_kbps\":1600}", "each toxic");
	like(log, "proxy api: toxic errors set: {\"share\":1,\"status\":500}\n", "with its defaults");
	like(log, "warning: proxy api: toxic 'latency' in the store is ignored: latency_ms 1000000000 is not",
	     "the row it ignored, said");
	{
		const char *a = strstr(log, "is ignored");
		ok(a && !strstr(a + 1, "is ignored"), "... once");
	}
	free(log);
	chaos_proxy_free(running);

	/* proxy.max-connections: one held, the next closed on at once. */
	{
		char *kv1 = xstrfmt("proxy.lim.upstream=127.0.0.1:%d", up_port);
		const char *kv[] = { "proxy.lim.listen=127.0.0.1:0", kv1, "proxy.max-connections=1", NULL };
		struct config *lim = config_of(kv);
		int held_fd, fd;

		set(st, "lim", "timeout", "{}", 0);
		proxy_stop = 0;
		is_int(chaos_proxy_open(&running, lim, &names), 0, "a proxy of one connection at most");
		chaos_proxy_info(running, 0, &name, &listen_at, &upstream);
		port = atoi(listen_at + strlen("127.0.0.1:"));
		capture_start();
		pthread_create(&px_thread, NULL, proxy_main, NULL);
		settle();
		held_fd = send_request(port, "/");
		pause_ms(200);
		fd = send_request(port, "/");
		rc = read_reply(fd, 3000, &r);
		ok(rc < 0 && (r.err == EPROTO || r.err == ECONNRESET), "the second is closed on, unanswered (%s)",
		   strerror(r.err));
		close(fd);
		close(held_fd);
		proxy_stop = 1;
		pthread_join(px_thread, NULL);
		log = xstrdup(capture_end());
		like(log, "warning: proxy lim: at proxy.max-connections (1): new connections are closed",
		     "said");
		free(log);
		chaos_toxic_clear(st, "lim", "timeout");
		config_free(lim);
		free(kv1);
	}

	up_stop = 1;
	pthread_join(up_thread, NULL);
	close(up_fd);
	chaos_proxy_free(running);
	store_free(proxy_store);
	config_free(cfg);
	free(kv0);
}

int main(void)
{
	char *db;

	if (test_begin("chaos-proxy") < 0)
		return 1;
	db = tmp_path("sre.db");
	test_check();
	if (store_open(&st, db, 5000) < 0) {
		ok(0, "the store opens");
		return test_end();
	}
	test_table();
	test_open();
	test_run(db);
	store_free(st);
	free(db);
	return test_end();
}
