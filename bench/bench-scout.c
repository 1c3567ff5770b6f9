/*
 * bench-scout.c: what fanning out costs. `sre scout` reads its HTTP checks
 * and sources at once through http_do_many(); a run must take about as
 * long as its slowest check, not the sum of them.
 *
 * A server in this process, on 127.0.0.1 only, answers every request 100
 * ms after reading it, however many are waiting (one thread, epoll, a
 * queue of replies in the order they fall due). http_do_many() then sends
 * 1, 100 and N (default 1,000) requests to it, all in parallel, with no
 * retries: the path the HTTP checks take. Each size runs three times; the
 * median wall time is printed, with its ratio to the single request
 * measured in the same run. The target is N within 1.5x of one. Then the
 * baseline: the same N through the plainest libcurl multi loop, so the
 * last ratio is what http_do_many() itself adds to libcurl and the kernel.
 *
 * N requests hold 2N descriptors here (both ends of each connection), so
 * the soft limit on open files is raised to the hard limit; when even
 * that is too low, N is lowered to fit, and the output says so. The whole
 * run is bounded by a 60 s alarm.
 *
 *   bench-scout [N]
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../lib/http.h"
#include "../lib/strbuf.h"
#include "bench.h"

#define DELAY_MS 100
#define RUNS 3
#define LIMIT_S 60
#define REQUEST_MAX 8192 /* a request head longer than this closes the connection */

static const char reply[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";

struct conn {
	int fd;          /* -1 once closed while a reply was queued */
	int queued;
	size_t slot;     /* its place in server.conns */
	int64_t due_ms;
	struct strbuf head;
};

struct server {
	int listen_fd, epoll_fd;
	int port;
	atomic_int stop;
	/* Replies due, oldest first: with one delay for all, arrival order
	 * is due order, so a ring is the whole timer. */
	struct conn **ring;
	size_t ring_size, ring_head, ring_nr;
	struct conn **conns; /* every connection, to free what is left at the end */
	size_t conns_nr, conns_alloc;
	pthread_t thread;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_free(struct server *s, struct conn *c)
{
	s->conns[c->slot] = s->conns[--s->conns_nr];
	s->conns[c->slot]->slot = c->slot;
	strbuf_release(&c->head);
	free(c);
}

static void conn_close(struct server *s, struct conn *c)
{
	epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (!c->queued)
		conn_free(s, c); /* else freed when its reply falls due */
}

static void ring_push(struct server *s, struct conn *c)
{
	if (s->ring_nr == s->ring_size) {
		/* Grow, keeping the order. */
		size_t n = s->ring_size ? s->ring_size * 2 : 1024;
		struct conn **r = xcalloc(n, sizeof(*r));
		for (size_t i = 0; i < s->ring_nr; i++)
			r[i] = s->ring[(s->ring_head + i) % s->ring_size];
		free(s->ring);
		s->ring = r;
		s->ring_size = n;
		s->ring_head = 0;
	}
	s->ring[(s->ring_head + s->ring_nr++) % s->ring_size] = c;
}

static void on_readable(struct server *s, struct conn *c)
{
	char buf[4096];

	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0 || c->head.len + (size_t)n > REQUEST_MAX) {
			conn_close(s, c);
			return;
		}
		strbuf_add(&c->head, buf, (size_t)n);
		/* A GET has no body: the blank line ends the request. */
		if (!c->queued && strstr(c->head.buf, "\r\n\r\n")) {
			c->queued = 1;
			c->due_ms = now_ms() + DELAY_MS;
			ring_push(s, c);
		}
	}
}

static void send_due(struct server *s)
{
	int64_t now = now_ms();

	while (s->ring_nr && s->ring[s->ring_head]->due_ms <= now) {
		struct conn *c = s->ring[s->ring_head];

		s->ring_head = (s->ring_head + 1) % s->ring_size;
		s->ring_nr--;
		c->queued = 0;
		if (c->fd < 0) {
			conn_free(s, c);
			continue;
		}
		/* Tiny, into an empty send buffer: one write is enough. */
		if (write(c->fd, reply, sizeof(reply) - 1) != (ssize_t)(sizeof(reply) - 1)) {
			conn_close(s, c);
			continue;
		}
		strbuf_reset(&c->head); /* keep-alive: ready for the next request */
	}
}

static void *serve(void *arg)
{
	struct server *s = arg;
	struct epoll_event evs[256];

	while (!atomic_load(&s->stop)) {
		int timeout = 50, n;

		if (s->ring_nr) {
			int64_t d = s->ring[s->ring_head]->due_ms - now_ms();
			timeout = d < 0 ? 0 : d < 50 ? (int)d : 50;
		}
		n = epoll_wait(s->epoll_fd, evs, (int)ARRAY_SIZE(evs), timeout);
		for (int i = 0; i < n; i++) {
			if (!evs[i].data.ptr) {
				int fd;

				while ((fd = accept4(s->listen_fd, NULL, NULL,
						     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					struct conn *c = xcalloc(1, sizeof(*c));
					struct epoll_event ev = { .events = EPOLLIN };

					c->fd = fd;
					strbuf_init(&c->head, 0);
					ALLOC_GROW(s->conns, s->conns_nr + 1, s->conns_alloc);
					c->slot = s->conns_nr;
					s->conns[s->conns_nr++] = c;
					ev.data.ptr = c;
					epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			on_readable(s, evs[i].data.ptr);
		}
		send_due(s);
	}
	return NULL;
}

static int server_start(struct server *s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int one = 1;

	memset(s, 0, sizeof(*s));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0)
		return error_errno("socket");
	setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* A backlog for every connection at once (the kernel caps it at
	 * net.core.somaxconn): a full queue drops SYNs, retried after 1 s. */
	if (bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s->listen_fd, 4096) < 0 ||
	    getsockname(s->listen_fd, (struct sockaddr *)&sa, &len) < 0)
		return error_errno("cannot listen on 127.0.0.1");
	s->port = ntohs(sa.sin_port);
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epoll_fd < 0 || epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->listen_fd, &ev) < 0)
		return error_errno("epoll");
	if (pthread_create(&s->thread, NULL, serve, s))
		return error("cannot start the server thread");
	return 0;
}

static void server_stop(struct server *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->thread, NULL);
	while (s->conns_nr) {
		struct conn *c = s->conns[0];

		if (c->fd >= 0)
			close(c->fd);
		conn_free(s, c);
	}
	free(s->conns);
	close(s->epoll_fd);
	close(s->listen_fd);
	free(s->ring);
}

/* n requests at once; the wall time in seconds, or -1 when any failed. */
static double fan_out(struct http_client *c, const char *url, size_t n)
{
	struct http_request *reqs = xcalloc(n, sizeof(*reqs));
	struct http_response *res = xcalloc(n, sizeof(*res));
	double t;
	int failed, bad = 0;

	for (size_t i = 0; i < n; i++) {
		struct http_request ri = HTTP_REQUEST_INIT;
		struct http_response rs = HTTP_RESPONSE_INIT;

		reqs[i] = ri;
		reqs[i].method = "GET";
		reqs[i].url = url;
		res[i] = rs;
	}
	t = now_s();
	failed = http_do_many(c, reqs, res, n, 0);
	t = now_s() - t;
	for (size_t i = 0; i < n; i++) {
		if (res[i].status != 200 && !bad++)
			fprintf(stderr, "bench-scout: request %zu: %s\n", i,
				res[i].error.len ? res[i].error.buf : "not 200");
		http_request_release(&reqs[i]);
		http_response_release(&res[i]);
	}
	free(reqs);
	free(res);
	return failed || bad ? -1 : t;
}

static size_t discard(char *data, size_t size, size_t nmemb, void *arg)
{
	(void)data;
	(void)arg;
	return size * nmemb;
}

/*
 * The baseline: n requests through the plainest libcurl multi loop (add
 * every handle, perform, poll), so that what http_do_many() adds (its
 * retry bookkeeping, headers, body cap) shows apart from what libcurl and
 * the kernel cost. The wall time in seconds, or -1 when any failed.
 */
static double bare_curl(const char *url, size_t n)
{
	CURLM *multi = curl_multi_init();
	CURL **easy = xcalloc(n, sizeof(*easy));
	int still = 1, bad = 0;
	double t = now_s();

	for (size_t i = 0; i < n; i++) {
		easy[i] = curl_easy_init();
		curl_easy_setopt(easy[i], CURLOPT_URL, url);
		curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, discard);
		curl_multi_add_handle(multi, easy[i]);
	}
	while (still) {
		curl_multi_perform(multi, &still);
		if (still)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	}
	t = now_s() - t;
	for (size_t i = 0; i < n; i++) {
		long status = 0;

		curl_easy_getinfo(easy[i], CURLINFO_RESPONSE_CODE, &status);
		bad += status != 200;
		curl_multi_remove_handle(multi, easy[i]);
		curl_easy_cleanup(easy[i]);
	}
	curl_multi_cleanup(multi);
	free(easy);
	return bad ? -1 : t;
}

/* The median of RUNS fan-outs of n (c NULL: the bare baseline), or -1. */
static double measure(struct http_client *c, const char *url, size_t n)
{
	double t[RUNS];

	for (int i = 0; i < RUNS; i++)
		if ((t[i] = c ? fan_out(c, url, n) : bare_curl(url, n)) < 0)
			return -1;
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	return t[RUNS / 2];
}

static void on_alarm(int sig)
{
	static const char msg[] = "bench-scout: gave up after the time limit\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

/* Raise the soft limit on open files to the hard one; what it is now. */
static rlim_t raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max;
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur;
}

int main(int argc, char **argv)
{
	long want = argc > 1 ? atol(argv[1]) : 1000;
	size_t sizes[3] = { 1, 100, 0 };
	double t[3], base = -1;
	struct server srv;
	struct http_client client;
	rlim_t nofile;
	char *url;
	int ret = 0;

	if (want < 1) {
		fprintf(stderr, "usage: bench-scout [N]\n");
		return 129;
	}
	signal(SIGALRM, on_alarm);
	alarm(LIMIT_S);
	signal(SIGPIPE, SIG_IGN);
	/* The server is local, whatever proxy the environment names. */
	setenv("no_proxy", "127.0.0.1", 1);
	setenv("NO_PROXY", "127.0.0.1", 1);

	nofile = raise_nofile();
	sizes[2] = (size_t)want;
	if (nofile != RLIM_INFINITY && (rlim_t)(2 * want + 100) > nofile) {
		sizes[2] = nofile > 300 ? (size_t)(nofile - 100) / 2 : 100;
		printf("fan-out: the open-file limit is %llu even raised to the hard limit;"
		       " %ld requests need %ld: measuring %zu\n", (unsigned long long)nofile,
		       want, 2 * want + 100, sizes[2]);
	}
	if (sizes[2] < sizes[1])
		sizes[1] = sizes[2];

	if (server_start(&srv) < 0)
		return 1;
	if (http_client_init(&client, NULL) < 0)
		return 1;
	client.retries = 0;
	client.connect_timeout_ms = 10000;
	client.timeout_ms = 20000;
	url = xstrfmt("http://127.0.0.1:%d/slow", srv.port);

	printf("fan-out: a local server answers each request after %d ms; http_do_many,"
	       " all in parallel, no retries; median of %d runs (open-file limit %llu)\n",
	       DELAY_MS, RUNS, (unsigned long long)nofile);
	for (int i = 0; i < 3; i++) {
		t[i] = measure(&client, url, sizes[i]);
		if (t[i] < 0) {
			fprintf(stderr, "bench-scout: %zu requests: some failed\n", sizes[i]);
			ret = 1;
			break;
		}
		if (i)
			printf("fan-out: %5zu requests: %7.1f ms  (%.2fx one)\n", sizes[i],
			       t[i] * 1000, t[i] / t[0]);
		else
			printf("fan-out: %5zu request:  %7.1f ms\n", sizes[i], t[i] * 1000);
	}
	if (!ret) {
		base = measure(NULL, url, sizes[2]);
		if (base < 0) {
			fprintf(stderr, "bench-scout: the baseline: some requests failed\n");
			ret = 1;
		} else {
			printf("baseline: %5zu requests through a bare libcurl multi loop: %7.1f ms\n",
			       sizes[2], base * 1000);
		}
	}
	if (!ret) {
		printf("ratio %zu/1: %.2f (target: at most 1.50)\n", sizes[2], t[2] / t[0]);
		printf("ratio http_do_many/bare libcurl (%zu): %.2f\n", sizes[2], t[2] / base);
	}

	free(url);
	http_client_release(&client);
	server_stop(&srv);
	return ret;
}
