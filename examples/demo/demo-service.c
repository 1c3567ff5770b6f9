/*
 * demo-service.c: one service of the stack that `make demo` watches and
 * fixes (examples/demo/run.sh): quote-service -> policy-service ->
 * user-service, each this same binary started with another --name.
 *
 *   demo-service --name <quote-service|policy-service|user-service>
 *                --port P --admin-port A --pidfile FILE --spool DIR
 *                [--downstream http://127.0.0.1:N] [--traffic RATE]
 *                [--memory-limit MiB] [--config FILE]
 *
 * It has what sre looks at in a real service and nothing of sre's own:
 * GET /health, Prometheus metrics on GET /metrics, W3C trace context
 * passed to its downstream, and spans. Each service keeps its spans of the
 * last two minutes and rewrites them to DIR/<name>.spans; every service
 * answers Jaeger's query API (GET /api/traces, /api/services) from all the
 * files of DIR, so any one of them can stand in for jaeger-query. It
 * answers as of the oldest of the files still being written (spool_read_all):
 * a trace is whole or not there yet, as if ingested in step.
 *
 * The admin port injects what the demo's scenarios are about: a crash, a
 * leak that runs into RLIMIT_AS, latency, errors, and orders that silently
 * stop completing (POST /fault/<kind>, GET /fault, POST /fault/clear).
 * With --traffic, a thread plays the customers: RATE quotes a second, and
 * an order after three quotes in ten, spread evenly (customer_orders).
 *
 * --config FILE holds the service's settings, "key = value" lines ('#'
 * starts a comment); today one key, price (quote-service's price, a
 * decimal like 129.90). A missing file is the defaults. The file is read
 * at start and again on SIGHUP, as a deploy reloads a service; a file the
 * service cannot take is refused with one line naming the file, the line
 * and why, and the service exits 78 (EX_CONFIG) at start, and at once on
 * a reload: a bad config pushed is a service that will not run, whatever
 * restarts it, until a person repairs the file (make demo's second act).
 *
 * The pidfile is written once both ports listen and is never removed: the
 * pidfile of a dead process is what sre's process runtime sees. One line
 * per notable event goes to stderr, "<name>: ...". SIGTERM exits 0.
 *
 * Plain libc, POSIX sockets and threads: a thread per connection (at most
 * MAX_CONNS), HTTP/1.1 with Connection: close, every socket with timeouts.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* accept4, memmem, strerror_r returning a string */
#endif
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#define HEADER_MAX 8192                 /* request line and headers */
#define BODY_MAX (64 * 1024)            /* a request body, read and dropped */
#define RESPONSE_MAX (1 << 20)          /* a downstream's answer, read for its status */
#define IO_TIMEOUT_S 5
#define DOWNSTREAM_TIMEOUT_MS 3000
#define CUSTOMER_TIMEOUT_MS 5000
#define SPAN_KEEP_US (120 * 1000000LL)
#define SPOOL_PERIOD_US 1000000LL       /* each service rewrites its spool this often */
#define SPOOL_STALE_US (3 * SPOOL_PERIOD_US) /* not rewritten this long: its service is gone */
#define SPAN_RING 20000
#define TRACES_DEFAULT_LIMIT 100
#define TRACES_MAX_LIMIT 1000
#define TRACES_DEFAULT_WINDOW_US (3600 * 1000000LL)
#define SPOOL_FILE_MAX (64 << 20)
#define LEAK_BLOCK ((size_t)8 << 20)
#define LEAK_PAUSE_MS 100
#define MAX_CONNS 128
#define MAX_CUSTOMERS 64
#define MAX_LATENCY_MS 60000
#define MAX_TRAFFIC 1000
#define ORDERS_PER_TEN 3
#define SHUTDOWN_WAIT_MS 4000
#ifdef UNDER_ASAN
#define THREAD_STACK (1024 * 1024)
#else
#define THREAD_STACK (256 * 1024)
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- what this service is ---- */

/* Each name's business endpoint, and the one it calls downstream. */
static const struct role {
	const char *name;
	const char *path, *operation;           /* GET /quote */
	const char *down_path, *down_operation; /* GET /policy, or NULL */
	const char *item, *prefix, *extra;      /* {"quote": "q-12", "price": 129.90} */
} roles[] = {
	{ "quote-service", "/quote", "GET /quote", "/policy", "GET /policy",
	  "quote", "q", "\"price\": 129.90" },
	{ "policy-service", "/policy", "GET /policy", "/user", "GET /user",
	  "policy", "p", "\"cover\": \"standard\"" },
	{ "user-service", "/user", "GET /user", NULL, NULL,
	  "user", "u", "\"tier\": \"gold\"" },
};

/* Where an HTTP request goes: an address and its host:port for Host. */
struct target {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char hostport[64];
};

static struct service {
	const struct role *role;
	const char *name;
	int port, admin_port;
	const char *pidfile, *spool;
	const char *downstream_url;
	int has_downstream;
	struct target downstream, self;
	double traffic;                 /* quotes a second, 0 for none */
	unsigned long memory_limit_mib;
	unsigned long rlimit_mib;       /* RLIMIT_AS as set (or emulated) */
	const char *config;             /* --config, or NULL */
	pthread_mutex_t price_lock;
	char price[24];                 /* quote-service's, from the config */
	pthread_attr_t thread_attr;
} svc;

/* ---- the process's life: shutdown and the threads to wait for ---- */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;            /* on CLOCK_MONOTONIC */
	int stopping;                   /* SIGTERM: no new work */
	int spool_stopping;             /* the spool's last write is due */
	int conns, customers;           /* detached threads running */
} life = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void say(const char *fmt, ...) PRINTF(1, 2);

/* A line to stderr, "<name>: ...", in one write so threads do not mix. */
static void say(const char *fmt, ...)
{
	char line[1024];
	size_t len;
	int n;
	va_list ap;

	n = snprintf(line, sizeof(line), "%s: ", svc.name ? svc.name : "demo-service");
	if (n < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	len = strlen(line);
	line[len++] = '\n';
	for (size_t off = 0; off < len;) {
		ssize_t w = write(STDERR_FILENO, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

/*
 * A failed allocation ends the process as an out-of-memory service does:
 * a last line naming the limit, then abort(). The leak fault ends here.
 */
static void out_of_memory(size_t size) __attribute__((noreturn));

static void out_of_memory(size_t size)
{
	say("fatal: out of memory: cannot allocate %zu bytes (RLIMIT_AS %lu MiB)",
	    size, svc.rlimit_mib);
	abort();
}

static void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		out_of_memory(size);
	return p;
}

static void *xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);

	if (!q)
		out_of_memory(size);
	return q;
}

static int64_t clock_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_us(void)
{
	return clock_us(CLOCK_REALTIME);
}

static int64_t mono_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Wait until the monotonic deadline (µs) or until *flag is set: the flag. */
static int wait_until(int64_t deadline, const int *flag)
{
	struct timespec ts = { deadline / 1000000, (deadline % 1000000) * 1000 };
	int set;

	pthread_mutex_lock(&life.lock);
	while (!*flag && pthread_cond_timedwait(&life.cond, &life.lock, &ts) != ETIMEDOUT)
		;
	set = *flag;
	pthread_mutex_unlock(&life.lock);
	return set;
}

static int stopping(void)
{
	int s;

	pthread_mutex_lock(&life.lock);
	s = life.stopping;
	pthread_mutex_unlock(&life.lock);
	return s;
}

/*
 * Start a detached thread counted in *running, unless max are running:
 * 0, or -1 when it could not (the caller drops the work).
 */
static int spawn(void *(*fn)(void *), void *arg, int *running, int max)
{
	pthread_t t;
	int err;

	pthread_mutex_lock(&life.lock);
	if (*running >= max) {
		pthread_mutex_unlock(&life.lock);
		return -1;
	}
	(*running)++;
	pthread_mutex_unlock(&life.lock);
	err = pthread_create(&t, &svc.thread_attr, fn, arg);
	if (!err) {
		pthread_detach(t);
		return 0;
	}
	pthread_mutex_lock(&life.lock);
	(*running)--;
	pthread_cond_broadcast(&life.cond);
	pthread_mutex_unlock(&life.lock);
	return -1;
}

static void thread_done(int *running)
{
	pthread_mutex_lock(&life.lock);
	(*running)--;
	pthread_cond_broadcast(&life.cond);
	pthread_mutex_unlock(&life.lock);
}

/*
 * The same error at most once a second: the first, then how many more
 * there were. A stack in trouble fails twenty times a second.
 */
struct throttle {
	int64_t last;
	unsigned long more;
};

static pthread_mutex_t throttle_lock = PTHREAD_MUTEX_INITIALIZER;
static struct throttle downstream_errors, own_errors, accept_errors, spool_errors;

static void say_throttled(struct throttle *t, const char *fmt, ...) PRINTF(2, 3);

static void say_throttled(struct throttle *t, const char *fmt, ...)
{
	char msg[512];
	unsigned long more;
	int64_t now = mono_us();
	va_list ap;

	pthread_mutex_lock(&throttle_lock);
	if (t->last && now - t->last < 1000000) {
		t->more++;
		pthread_mutex_unlock(&throttle_lock);
		return;
	}
	more = t->more;
	t->last = now;
	t->more = 0;
	pthread_mutex_unlock(&throttle_lock);

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (more)
		say("%s (and %lu more like it since)", msg, more);
	else
		say("%s", msg);
}

/* ---- a growing string (lib/strbuf.h's idea; this file links no sre code) ---- */

struct sbuf {
	char *s;
	size_t len, alloc;
};
#define SBUF_INIT { NULL, 0, 0 }

static void sbuf_grow(struct sbuf *b, size_t more)
{
	if (more > SIZE_MAX / 2 - b->len)
		out_of_memory(SIZE_MAX);
	if (b->len + more + 1 <= b->alloc)
		return;
	b->alloc = b->alloc ? b->alloc : 256;
	while (b->alloc < b->len + more + 1)
		b->alloc *= 2;
	b->s = xrealloc(b->s, b->alloc);
}

static void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	sbuf_grow(b, n);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sbuf_adds(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

static void sbuf_addf(struct sbuf *b, const char *fmt, ...) PRINTF(2, 3);

static void sbuf_addf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap, again;
	int n;

	va_start(ap, fmt);
	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0) {
		sbuf_grow(b, (size_t)n);
		vsnprintf(b->s + b->len, (size_t)n + 1, fmt, again);
		b->len += (size_t)n;
	}
	va_end(again);
}

/* s as a JSON string, quotes included. */
static void sbuf_add_json(struct sbuf *b, const char *s)
{
	sbuf_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			sbuf_add(b, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			sbuf_addf(b, "\\u%04x", c);
		} else {
			sbuf_add(b, s, 1);
		}
	}
	sbuf_add(b, "\"", 1);
}

static void sbuf_release(struct sbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->alloc = 0;
}

/* ---- randomness, ids, strict numbers ---- */

static pthread_mutex_t rand_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t rand_state;

/* splitmix64: ids and coin flips, not secrets. */
static uint64_t rand64(void)
{
	uint64_t z;

	pthread_mutex_lock(&rand_lock);
	z = (rand_state += 0x9e3779b97f4a7c15ULL);
	pthread_mutex_unlock(&rand_lock);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number in [0, 1). */
static double rand_unit(void)
{
	return (double)(rand64() >> 11) * (1.0 / 9007199254740992.0);
}

/* A random non-zero id of hexlen lowercase hex digits (16 or 32) into out. */
static void new_id(char *out, size_t hexlen)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < hexlen; i += 16) {
		uint64_t r = rand64();
		for (size_t j = 0; j < 16; j++, r >>= 4)
			out[i + j] = hex[r & 15];
	}
	out[hexlen] = '\0';
	if (strspn(out, "0") == hexlen)
		out[hexlen - 1] = '1';
}

/* The value of a hex digit of either case, or -1. */
static int hex_digit(char h)
{
	return h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 :
	       h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
}

/* Whether s is exactly n lowercase hex digits, not all zero. */
static int is_id(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdef") == n && strspn(s, "0") != n;
}

/* A whole decimal number in [0, max]: 0, or -1. */
static int parse_uint(const char *s, long long max, long long *out)
{
	long long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

/* A decimal like 0.5 or 20 (digits, an optional fraction): 0, or -1. */
static int parse_decimal(const char *s, double max, double *out)
{
	size_t digits = strspn(s, "0123456789");
	char *end;
	double v;

	if (!digits || (s[digits] && (s[digits] != '.' || !s[digits + 1] ||
				      s[digits + 1 + strspn(s + digits + 1, "0123456789")])))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* ---- spans ---- */

struct span {
	char trace_id[33], span_id[17], parent_id[17];  /* parent "" for a root */
	char service[48], operation[48];
	char kind[8], method[8];                        /* server or client; GET */
	char message[160];                              /* why a call failed, or "" */
	int64_t start_us, duration_us;
	int status;                                     /* HTTP status, 0 if none */
	int error;
};

/* The spans of the last SPAN_KEEP_US, a ring; the spool thread writes them out. */
static struct {
	pthread_mutex_t lock;
	struct span *ring;
	size_t next, nr;
} spans = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The trace a request belongs to, from its traceparent or a new one. */
struct trace_context {
	char trace_id[33];
	char parent_id[17];     /* the caller's span, "" when the trace starts here */
};

/*
 * W3C trace context: "00-<32 hex trace id>-<16 hex parent id>-<2 hex
 * flags>", lowercase, ids not all zero. A later version may append
 * fields; version ff is invalid. Anything else starts a new trace.
 */
static void trace_context_from(const char *header, struct trace_context *out)
{
	const char *h = header;

	if (h && strlen(h) >= 55 && strspn(h, "0123456789abcdef") == 2 &&
	    strncmp(h, "ff", 2) && h[2] == '-' && h[35] == '-' && h[52] == '-' &&
	    strspn(h + 53, "0123456789abcdef") >= 2 && (h[55] == '\0' ||
	    (strncmp(h, "00", 2) && h[55] == '-'))) {
		memcpy(out->trace_id, h + 3, 32);
		out->trace_id[32] = '\0';
		memcpy(out->parent_id, h + 36, 16);
		out->parent_id[16] = '\0';
		if (is_id(out->trace_id, 32) && is_id(out->parent_id, 16))
			return;
	}
	new_id(out->trace_id, 32);
	out->parent_id[0] = '\0';
}

static void copy_string(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

static void span_begin(struct span *s, const struct trace_context *ctx, const char *parent,
		       const char *kind, const char *method, const char *operation)
{
	memset(s, 0, sizeof(*s));
	copy_string(s->trace_id, sizeof(s->trace_id), ctx->trace_id);
	new_id(s->span_id, 16);
	copy_string(s->parent_id, sizeof(s->parent_id), parent);
	copy_string(s->service, sizeof(s->service), svc.name);
	copy_string(s->operation, sizeof(s->operation), operation);
	copy_string(s->kind, sizeof(s->kind), kind);
	copy_string(s->method, sizeof(s->method), method);
	s->start_us = now_us();
}

/*
 * End s begun at the monotonic time t0 and keep it. It ends under the
 * lock, as the spool takes its copy under it: a span in a spool file
 * written at time W ended before W, one that is not ended after W.
 */
static void span_end(struct span *s, int64_t t0, int status, const char *message)
{
	s->status = status;
	s->error = status >= 500 || (message && *message);
	copy_string(s->message, sizeof(s->message), message ? message : "");

	pthread_mutex_lock(&spans.lock);
	s->duration_us = mono_us() - t0;
	spans.ring[spans.next] = *s;
	spans.next = (spans.next + 1) % SPAN_RING;
	if (spans.nr < SPAN_RING)
		spans.nr++;
	pthread_mutex_unlock(&spans.lock);
}

/* ---- the spool: DIR/<name>.spans, one span a line, in this file's own JSON ---- */

static void span_to_spool(struct sbuf *b, const struct span *s)
{
	sbuf_adds(b, "{\"traceID\": ");
	sbuf_add_json(b, s->trace_id);
	sbuf_adds(b, ", \"spanID\": ");
	sbuf_add_json(b, s->span_id);
	sbuf_adds(b, ", \"parentSpanID\": ");
	sbuf_add_json(b, s->parent_id);
	sbuf_adds(b, ", \"service\": ");
	sbuf_add_json(b, s->service);
	sbuf_adds(b, ", \"operationName\": ");
	sbuf_add_json(b, s->operation);
	sbuf_adds(b, ", \"kind\": ");
	sbuf_add_json(b, s->kind);
	sbuf_adds(b, ", \"method\": ");
	sbuf_add_json(b, s->method);
	sbuf_addf(b, ", \"startTime\": %" PRId64 ", \"duration\": %" PRId64
		  ", \"status\": %d, \"error\": %s, \"message\": ",
		  s->start_us, s->duration_us, s->status, s->error ? "true" : "false");
	sbuf_add_json(b, s->message);
	sbuf_adds(b, "}\n");
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

/* A JSON string at p into out (at most size - 1 bytes): past it, or NULL. */
static const char *json_string_at(const char *p, char *out, size_t size)
{
	size_t n = 0;

	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		unsigned char c = (unsigned char)*p++;

		if (c < 0x20)
			return NULL; /* the end of the line, or a control character */
		if (c == '\\') {
			unsigned code = 0;

			switch (*p++) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case '/': c = '/'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				for (int i = 0; i < 4; i++, p++) {
					int d = hex_digit(*p);
					if (d < 0)
						return NULL;
					code = code * 16 + (unsigned)d;
				}
				if (!code)
					return NULL;
				c = code < 0x80 ? (unsigned char)code : '?';
				break;
			default:
				return NULL;
			}
		}
		if (n + 1 >= size)
			return NULL;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return p + 1;
}

/* A JSON integer at p: past it, or NULL. */
static const char *json_int_at(const char *p, int64_t *out)
{
	int neg = *p == '-';
	size_t digits;
	long long v;
	char num[20];

	p += neg;
	digits = strspn(p, "0123456789");
	if (!digits || digits > 18)
		return NULL;
	memcpy(num, p, digits);
	num[digits] = '\0';
	v = strtoll(num, NULL, 10);
	*out = neg ? -v : v;
	return p + digits;
}

enum field_type { FIELD_STRING, FIELD_INT64, FIELD_INT, FIELD_BOOL };

static const struct span_field {
	const char *key;
	enum field_type type;
	size_t offset, size;
} span_fields[] = {
#define FIELD(key, type, member) \
	{ key, type, offsetof(struct span, member), sizeof(((struct span *)0)->member) }
	FIELD("traceID", FIELD_STRING, trace_id),
	FIELD("spanID", FIELD_STRING, span_id),
	FIELD("parentSpanID", FIELD_STRING, parent_id),
	FIELD("service", FIELD_STRING, service),
	FIELD("operationName", FIELD_STRING, operation),
	FIELD("kind", FIELD_STRING, kind),
	FIELD("method", FIELD_STRING, method),
	FIELD("message", FIELD_STRING, message),
	FIELD("startTime", FIELD_INT64, start_us),
	FIELD("duration", FIELD_INT64, duration_us),
	FIELD("status", FIELD_INT, status),
	FIELD("error", FIELD_BOOL, error),
#undef FIELD
};

/*
 * One line of a spool file into s: 0, or -1 when it is not a whole span
 * (a line cut short, an older format, another program's file).
 */
static int span_parse(const char *line, struct span *s)
{
	const char *p = skip_space(line);
	unsigned seen = 0;

	memset(s, 0, sizeof(*s));
	if (*p++ != '{')
		return -1;
	for (;;) {
		const struct span_field *f = NULL;
		char key[32], *member;
		int64_t v;

		p = json_string_at(skip_space(p), key, sizeof(key));
		if (!p)
			return -1;
		p = skip_space(p);
		if (*p++ != ':')
			return -1;
		p = skip_space(p);
		for (size_t i = 0; i < ARRAY_SIZE(span_fields); i++)
			if (!strcmp(key, span_fields[i].key))
				f = &span_fields[i];
		if (!f || (seen & (1u << (f - span_fields))))
			return -1;
		seen |= 1u << (f - span_fields);
		member = (char *)s + f->offset;
		switch (f->type) {
		case FIELD_STRING:
			p = json_string_at(p, member, f->size);
			break;
		case FIELD_INT64:
			p = json_int_at(p, &v);
			if (p)
				memcpy(member, &v, sizeof(v));
			break;
		case FIELD_INT:
			p = json_int_at(p, &v);
			if (p && v >= 0 && v < 1000) {
				int i = (int)v;
				memcpy(member, &i, sizeof(i));
			} else {
				p = NULL;
			}
			break;
		case FIELD_BOOL: {
			int b = !strncmp(p, "true", 4);
			if (!b && strncmp(p, "false", 5))
				return -1;
			memcpy(member, &b, sizeof(b));
			p += b ? 4 : 5;
			break;
		}
		}
		if (!p)
			return -1;
		p = skip_space(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p++ != '}')
			return -1;
		break;
	}
	if (*skip_space(p) || seen != (1u << ARRAY_SIZE(span_fields)) - 1)
		return -1;
	if (!is_id(s->trace_id, 32) || !is_id(s->span_id, 16) ||
	    (*s->parent_id && !is_id(s->parent_id, 16)) || !*s->service || !*s->operation ||
	    (strcmp(s->kind, "server") && strcmp(s->kind, "client")) ||
	    s->start_us <= 0 || s->duration_us < 0)
		return -1;
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * Rewrite DIR/<name>.spans with the spans still kept, through a rename.
 * Its mtime is when the copy was taken: every span of this service that
 * ended before it is in the file (spool_read_all relies on it).
 */
static void spool_write(void)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	struct sbuf b = SBUF_INIT;
	struct span *copy;
	size_t nr = 0;
	int64_t taken, oldest;
	struct timespec times[2];
	int fd, ok;

	pthread_mutex_lock(&spans.lock);
	taken = now_us();
	oldest = taken - SPAN_KEEP_US;
	copy = xmalloc((spans.nr ? spans.nr : 1) * sizeof(*copy));
	for (size_t i = 0, at = (spans.next + SPAN_RING - spans.nr) % SPAN_RING; i < spans.nr;
	     i++, at = (at + 1) % SPAN_RING)
		if (spans.ring[at].start_us >= oldest)
			copy[nr++] = spans.ring[at];
	pthread_mutex_unlock(&spans.lock);

	for (size_t i = 0; i < nr; i++)
		span_to_spool(&b, &copy[i]);
	free(copy);

	snprintf(path, sizeof(path), "%s/%s.spans", svc.spool, svc.name);
	snprintf(tmp, sizeof(tmp), "%s/%s.spans.tmp", svc.spool, svc.name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ok = fd >= 0 && !write_all(fd, b.s ? b.s : "", b.len);
	times[0].tv_sec = times[1].tv_sec = (time_t)(taken / 1000000);
	times[0].tv_nsec = times[1].tv_nsec = (long)(taken % 1000000) * 1000;
	if (ok && futimens(fd, times) < 0)
		ok = 0;
	if (fd >= 0 && close(fd) < 0)
		ok = 0;
	if (!ok || rename(tmp, path) < 0) {
		char why[128];
		int e = errno;
		say_throttled(&spool_errors, "error: cannot write %s: %s", path,
			      strerror_r(e, why, sizeof(why)));
		unlink(tmp);
	}
	sbuf_release(&b);
}

/*
 * Once a second, and once more on the way out. Even with no new span: a
 * fresh mtime says the service is alive and its spool complete up to
 * then, which spool_read_all needs of every live service.
 */
static void *spool_main(void *unused)
{
	int64_t next = mono_us();

	for (;;) {
		int last;

		next += SPOOL_PERIOD_US;
		last = wait_until(next, &life.spool_stopping);
		spool_write();
		if (last)
			return NULL;
		if (mono_us() > next + SPOOL_PERIOD_US)
			next = mono_us();
	}
}

struct span_set {
	struct span *v;
	size_t nr, alloc;
};

/* Read the whole file at path into a new NUL-terminated buffer, or NULL. */
static char *read_file(const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	size_t len = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (uintmax_t)st.st_size > max) {
		close(fd);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

static int is_spool_name(const char *name, size_t *service_len)
{
	size_t len = strlen(name);

	if (name[0] == '.' || len <= 6 || strcmp(name + len - 6, ".spans"))
		return 0;
	*service_len = len - 6;
	return 1;
}

/* A spool file's mtime in µs since the epoch, or -1. */
static int64_t spool_mtime_us(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	return (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
}

/*
 * The spans of every DIR/<service>.spans that started in [start, end], as
 * of the oldest spool still being written. Each service spools once a
 * second, each at its own moment: read as they are, a trace that just
 * ended could have its caller's spans and not yet its callee's, and a
 * slowest trace so cut short blamed the caller for the callee's time.
 * So a span of a live service that ended after the oldest live spool's
 * mtime is left for a later answer, where its trace is whole. A spool
 * not rewritten for SPOOL_STALE_US is a service that is gone (crashed,
 * restarting): all it has is final and it holds nothing back.
 */
static void spool_read_all(int64_t start, int64_t end, struct span_set *out)
{
	DIR *dir = opendir(svc.spool);
	struct dirent *de;
	int64_t now = now_us(), horizon = INT64_MAX;

	memset(out, 0, sizeof(*out));
	if (!dir)
		return;
	/* The horizon first: a file rewritten after it is looked at holds more, never less. */
	while ((de = readdir(dir))) {
		char path[PATH_MAX];
		size_t service_len;
		int64_t mtime;

		if (!is_spool_name(de->d_name, &service_len) ||
		    snprintf(path, sizeof(path), "%s/%s", svc.spool, de->d_name) >= (int)sizeof(path))
			continue;
		mtime = spool_mtime_us(path);
		if (mtime >= now - SPOOL_STALE_US && mtime < horizon)
			horizon = mtime;
	}
	rewinddir(dir);
	while ((de = readdir(dir))) {
		char path[PATH_MAX], *text, *line, *eol;
		size_t service_len;
		int live;

		if (!is_spool_name(de->d_name, &service_len))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", svc.spool, de->d_name) >= (int)sizeof(path))
			continue;
		live = spool_mtime_us(path) >= now - SPOOL_STALE_US;
		text = read_file(path, SPOOL_FILE_MAX);
		if (!text)
			continue;
		for (line = text; *line; line = eol) {
			struct span *sp;

			eol = strchr(line, '\n');
			if (!eol)
				break; /* a line cut short */
			*eol++ = '\0';
			if (out->nr == out->alloc) {
				out->alloc = out->alloc ? out->alloc * 2 : 1024;
				out->v = xrealloc(out->v, out->alloc * sizeof(*out->v));
			}
			sp = &out->v[out->nr];
			if (!span_parse(line, sp) && sp->start_us >= start && sp->start_us <= end &&
			    (!live || sp->start_us + sp->duration_us <= horizon))
				out->nr++;
		}
		free(text);
	}
	closedir(dir);
}

/* ---- HTTP: requests in, answers out ---- */

struct request {
	char head[HEADER_MAX + 1];
	char *method, *path, *query;    /* in head; query "" when none */
	const char *traceparent;        /* or NULL */
};

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

/* Send the whole answer; a client that went away is no error of ours. */
static void respond_with(int fd, int status, const char *type, const char *extra,
			 const char *body, size_t len)
{
	char head[512];
	struct iovec iov[2], *v = iov;
	int n, nv = 2;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n%s\r\n", status, status_text(status), type, len, extra);
	iov[0].iov_base = head;
	iov[0].iov_len = (size_t)n;
	iov[1].iov_base = (void *)body;
	iov[1].iov_len = len;
	while (nv) {
		ssize_t w = writev(fd, v, nv);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		while (nv && (size_t)w >= v->iov_len) {
			w -= (ssize_t)v->iov_len;
			v++;
			nv--;
		}
		if (nv) {
			v->iov_base = (char *)v->iov_base + w;
			v->iov_len -= (size_t)w;
		}
	}
}

static void respond(int fd, int status, const char *type, const char *body, size_t len)
{
	respond_with(fd, status, type, "", body, len);
}

static void respond_text(int fd, int status, const char *text)
{
	respond(fd, status, "text/plain; charset=utf-8", text, strlen(text));
}

static void respond_sbuf(int fd, int status, const struct sbuf *b)
{
	respond(fd, status, "application/json", b->s ? b->s : "", b->len);
}

/* {"error": "<why>"} with status. */
static void respond_error(int fd, int status, const char *why)
{
	struct sbuf b = SBUF_INIT;

	sbuf_adds(&b, "{\"error\": ");
	sbuf_add_json(&b, why);
	sbuf_adds(&b, "}\n");
	respond_sbuf(fd, status, &b);
	sbuf_release(&b);
}

static void respond_not_allowed(int fd, const char *allow)
{
	char extra[64];

	snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
	respond_with(fd, 405, "text/plain; charset=utf-8", extra, "method not allowed\n", 19);
}

/*
 * Close after an early answer: stop sending, then read what the client
 * still sends for a moment, so that closing does not reset the connection
 * and take our answer with it.
 */
static void close_gently(int fd)
{
	struct timeval tv = { 0, 200000 };
	char sink[4096];
	size_t total = 0;

	shutdown(fd, SHUT_WR);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		ssize_t n = recv(fd, sink, sizeof(sink), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (total += (size_t)n) > BODY_MAX)
			break;
	}
	close(fd);
}

static int header_is(const char *name, size_t len, const char *want)
{
	return len == strlen(want) && !strncasecmp(name, want, len);
}

/*
 * Read one request into rq: 0, an HTTP status to answer it with (400,
 * 408, 413, 431, 501), or -1 when the client went away.
 */
static int request_read(int fd, struct request *rq)
{
	size_t len = 0, head_len, body_len = 0, have;
	char *end = NULL, *line, *next;
	int seen_length = 0;

	memset(rq, 0, sizeof(*rq));
	while (!end) {
		ssize_t n;

		if (len == HEADER_MAX)
			return 431;
		n = recv(fd, rq->head + len, HEADER_MAX - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return len ? 408 : -1;
		if (n <= 0)
			return -1;
		len += (size_t)n;
		rq->head[len] = '\0';
		end = memmem(rq->head, len, "\r\n\r\n", 4);
		if (!end)
			end = memmem(rq->head, len, "\n\n", 2);
	}
	head_len = (size_t)(end - rq->head) + (*end == '\r' ? 4 : 2);
	have = len - head_len;
	if (memchr(rq->head, '\0', head_len))
		return 400;
	*end = '\0';

	/* The request line: METHOD /path?query HTTP/1.x */
	line = rq->head;
	next = strchr(line, '\n');
	if (next)
		*next++ = '\0';
	if (*line && line[strlen(line) - 1] == '\r')
		line[strlen(line) - 1] = '\0';
	rq->method = line;
	line += strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
	if (line == rq->method || line - rq->method > 15 || *line != ' ')
		return 400;
	*line++ = '\0';
	rq->path = line;
	line += strcspn(line, " ");
	if (*rq->path != '/' || *line != ' ')
		return 400;
	*line++ = '\0';
	if (strcmp(line, "HTTP/1.1") && strcmp(line, "HTTP/1.0"))
		return 400;
	rq->query = strchr(rq->path, '?');
	if (rq->query)
		*rq->query++ = '\0';
	else
		rq->query = rq->path + strlen(rq->path);

	/* Headers: Name: value */
	for (line = next; line && *line; line = next) {
		char *colon, *value;
		size_t name_len;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (*line && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		colon = strchr(line, ':');
		name_len = colon ? (size_t)(colon - line) : 0;
		if (!name_len || strcspn(line, " \t") < name_len)
			return 400;
		value = colon + 1 + strspn(colon + 1, " \t");
		for (size_t n = strlen(value); n && (value[n - 1] == ' ' || value[n - 1] == '\t'); n--)
			value[n - 1] = '\0';
		if (header_is(line, name_len, "content-length")) {
			long long v;
			if (parse_uint(value, LLONG_MAX / 2, &v) < 0 ||
			    (seen_length && (size_t)v != body_len))
				return 400;
			if (v > BODY_MAX)
				return 413;
			body_len = (size_t)v;
			seen_length = 1;
		} else if (header_is(line, name_len, "transfer-encoding")) {
			return 501;
		} else if (header_is(line, name_len, "traceparent")) {
			rq->traceparent = value;
		}
	}

	/* A body is read and dropped: no endpoint takes one. */
	while (have < body_len) {
		char sink[4096];
		size_t want = body_len - have < sizeof(sink) ? body_len - have : sizeof(sink);
		ssize_t n = recv(fd, sink, want, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	return 0;
}

/* Decode the percent-encoded s[0..n) into out: 0, or -1 when malformed or too long. */
static int url_decode(const char *s, size_t n, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			unsigned v = 0;
			for (int k = 1; k <= 2; k++) {
				int d = i + (size_t)k < n ? hex_digit(s[i + (size_t)k]) : -1;
				if (d < 0)
					return -1;
				v = v * 16 + (unsigned)d;
			}
			if (!v)
				return -1;
			c = (char)v;
			i += 2;
		}
		if (o + 1 >= size)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/*
 * Walk the query's parameters: each key (decoded into key) and where its
 * raw value is. 1 for a parameter, 0 at the end, -1 when malformed.
 */
static int query_next(const char **q, char *key, size_t key_size, const char **value,
		      size_t *value_len)
{
	const char *p = *q, *amp, *eq;

	while (*p == '&')
		p++;
	if (!*p)
		return 0;
	amp = p + strcspn(p, "&");
	eq = memchr(p, '=', (size_t)(amp - p));
	if (url_decode(p, (size_t)((eq ? eq : amp) - p), key, key_size) < 0)
		return -1;
	*value = eq ? eq + 1 : amp;
	*value_len = (size_t)(amp - *value);
	*q = amp;
	return 1;
}

/*
 * The value of key in the query, decoded into out: 1, 0 when absent,
 * -1 when the query is malformed or the value too long. The first wins.
 */
static int query_get(const char *query, const char *key, char *out, size_t size)
{
	char k[64];
	const char *v;
	size_t vlen;
	int r;

	while ((r = query_next(&query, k, sizeof(k), &v, &vlen)) > 0)
		if (!strcmp(k, key))
			return url_decode(v, vlen, out, size) < 0 ? -1 : 1;
	return r;
}

/*
 * Whether every parameter is one of keys (NULL-terminated, at most 32)
 * and given once; else says why in bad.
 */
static int query_only(const char *query, const char *const *keys, char *bad, size_t size)
{
	char k[64];
	const char *v;
	size_t vlen;
	unsigned long seen = 0;
	int r;

	while ((r = query_next(&query, k, sizeof(k), &v, &vlen)) > 0) {
		size_t i;
		for (i = 0; keys[i] && strcmp(keys[i], k); i++)
			;
		if (!keys[i]) {
			snprintf(bad, size, "unknown parameter '%s'", k);
			return 0;
		}
		if (seen & (1ul << i)) {
			snprintf(bad, size, "parameter '%s' given twice", k);
			return 0;
		}
		seen |= 1ul << i;
	}
	if (r < 0)
		snprintf(bad, size, "malformed query");
	return r == 0;
}

/*
 * Call the target: method path with an optional traceparent, within
 * timeout_ms from connect to the last byte. 0 with *status, or -1 with
 * why in why.
 */
static int http_call(const struct target *t, const char *method, const char *path,
		     const char *traceparent, int timeout_ms, int *status, char *why, size_t why_size)
{
	int64_t deadline = mono_us() + (int64_t)timeout_ms * 1000;
	char req[512], head[32], err[128];
	size_t head_len = 0, sent = 0, total = 0, req_len;
	int fd, n, code = 0;
	socklen_t sl = sizeof(code);

	fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, why_size, "socket: %s", strerror_r(errno, err, sizeof(err)));
		return -1;
	}
	n = snprintf(req, sizeof(req),
		     "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: demo-service\r\n%s%s%s"
		     "%sConnection: close\r\n\r\n", method, path, t->hostport,
		     traceparent ? "traceparent: " : "", traceparent ? traceparent : "",
		     traceparent ? "\r\n" : "", strcmp(method, "POST") ? "" : "Content-Length: 0\r\n");
	req_len = (size_t)n < sizeof(req) ? (size_t)n : sizeof(req) - 1;

	if (connect(fd, (const struct sockaddr *)&t->addr, t->addrlen) < 0 && errno != EINPROGRESS) {
		snprintf(why, why_size, "connect to %s: %s", t->hostport,
			 strerror_r(errno, err, sizeof(err)));
		close(fd);
		return -1;
	}
	for (int phase = 0; phase < 3;) {
		struct pollfd pfd = { fd, (short)(phase == 2 ? POLLIN : POLLOUT), 0 };
		int64_t left = deadline - mono_us();
		ssize_t r;

		if (left <= 0) {
			snprintf(why, why_size, "%s http://%s%s: no answer within %d ms",
				 method, t->hostport, path, timeout_ms);
			close(fd);
			return -1;
		}
		r = poll(&pfd, 1, (int)((left + 999) / 1000));
		if (r < 0 && errno != EINTR) {
			snprintf(why, why_size, "poll: %s", strerror_r(errno, err, sizeof(err)));
			close(fd);
			return -1;
		}
		if (r <= 0)
			continue;
		if (phase == 0) {       /* connected, or refused */
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &sl) < 0)
				code = errno;
			if (code) {
				snprintf(why, why_size, "connect to %s: %s", t->hostport,
					 strerror_r(code, err, sizeof(err)));
				close(fd);
				return -1;
			}
			phase = 1;
		} else if (phase == 1) { /* the request */
			r = send(fd, req + sent, req_len - sent, MSG_NOSIGNAL);
			if (r < 0 && errno != EAGAIN && errno != EINTR)
				goto io_error;
			if (r > 0 && (sent += (size_t)r) == req_len)
				phase = 2;
		} else {                /* the answer, to its end */
			char buf[4096];
			r = recv(fd, buf, sizeof(buf), 0);
			if (r < 0 && errno != EAGAIN && errno != EINTR)
				goto io_error;
			if (r == 0 || (r > 0 && (total += (size_t)r) > RESPONSE_MAX))
				phase = 3;
			if (r > 0 && head_len < sizeof(head) - 1) {
				size_t take = sizeof(head) - 1 - head_len;
				take = (size_t)r < take ? (size_t)r : take;
				memcpy(head + head_len, buf, take);
				head_len += take;
			}
		}
	}
	close(fd);
	head[head_len] = '\0';
	/* HTTP/1.x NNN */
	if (head_len < 12 || strncmp(head, "HTTP/1.", 7) || head[8] != ' ' ||
	    strspn(head + 9, "0123456789") < 3 || (head[12] != ' ' && head[12] != '\r')) {
		snprintf(why, why_size, "%s http://%s%s: malformed answer", method, t->hostport, path);
		return -1;
	}
	*status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
	return 0;

io_error:
	snprintf(why, why_size, "%s http://%s%s: %s", method, t->hostport, path,
		 strerror_r(errno, err, sizeof(err)));
	close(fd);
	return -1;
}

/* http://host:port[/] into t: 0, or -1. */
static int target_from_url(const char *url, struct target *t)
{
	char host[48], port[8];
	const char *p, *colon, *end;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	long long n;

	if (strncmp(url, "http://", 7))
		return -1;
	p = url + 7;
	end = p + strcspn(p, "/");
	if (*end && strcmp(end, "/"))
		return -1;
	colon = memchr(p, ':', (size_t)(end - p));
	if (!colon || colon == p || (size_t)(colon - p) >= sizeof(host) ||
	    (size_t)(end - colon - 1) >= sizeof(port) || end == colon + 1)
		return -1;
	memcpy(host, p, (size_t)(colon - p));
	host[colon - p] = '\0';
	memcpy(port, colon + 1, (size_t)(end - colon - 1));
	port[end - colon - 1] = '\0';
	if (parse_uint(port, 65535, &n) < 0 || !n || getaddrinfo(host, port, &hints, &res))
		return -1;
	memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
	t->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	snprintf(t->hostport, sizeof(t->hostport), "%s:%s", host, port);
	return 0;
}

/* ---- metrics ---- */

static const char *const bucket_le[] = {
	"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
};
static const int64_t bucket_us[] = {
	5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
};

static struct {
	pthread_mutex_t lock;
	unsigned long long requests, errors, quotes, orders;
	unsigned long long bucket[ARRAY_SIZE(bucket_us)];  /* not cumulative */
	int64_t sum_us;
	unsigned long long served;      /* numbers the answers: q-1, q-2 */
} metrics = { .lock = PTHREAD_MUTEX_INITIALIZER };

static unsigned long long next_number(void)
{
	unsigned long long n;

	pthread_mutex_lock(&metrics.lock);
	n = ++metrics.served;
	pthread_mutex_unlock(&metrics.lock);
	return n;
}

/* A business request done: how long it took and how it ended. */
static void metrics_observe(int64_t duration_us, int status)
{
	pthread_mutex_lock(&metrics.lock);
	metrics.requests++;
	if (status >= 500)
		metrics.errors++;
	else if (svc.role == &roles[0])
		metrics.quotes++;
	for (size_t i = 0; i < ARRAY_SIZE(bucket_us); i++)
		if (duration_us <= bucket_us[i]) {
			metrics.bucket[i]++;
			break;
		}
	metrics.sum_us += duration_us;
	pthread_mutex_unlock(&metrics.lock);
}

/* Prometheus text exposition format 0.0.4. */
static void serve_metrics(int fd)
{
	struct sbuf b = SBUF_INIT;
	unsigned long long cum = 0;
	const char *n = svc.name;

	pthread_mutex_lock(&metrics.lock);
	sbuf_addf(&b, "# HELP demo_requests_total Requests to the business endpoint (%s).\n"
		  "# TYPE demo_requests_total counter\n"
		  "demo_requests_total{service=\"%s\"} %llu\n", svc.role->operation, n,
		  metrics.requests);
	sbuf_addf(&b, "# HELP demo_errors_total Requests to the business endpoint answered "
		  "with a 5xx status.\n"
		  "# TYPE demo_errors_total counter\n"
		  "demo_errors_total{service=\"%s\"} %llu\n", n, metrics.errors);
	sbuf_addf(&b, "# HELP demo_request_duration_seconds Time to answer the business "
		  "endpoint.\n"
		  "# TYPE demo_request_duration_seconds histogram\n");
	for (size_t i = 0; i < ARRAY_SIZE(bucket_us); i++) {
		cum += metrics.bucket[i];
		sbuf_addf(&b, "demo_request_duration_seconds_bucket{service=\"%s\",le=\"%s\"} %llu\n",
			  n, bucket_le[i], cum);
	}
	sbuf_addf(&b, "demo_request_duration_seconds_bucket{service=\"%s\",le=\"+Inf\"} %llu\n"
		  "demo_request_duration_seconds_sum{service=\"%s\"} %" PRId64 ".%06" PRId64 "\n"
		  "demo_request_duration_seconds_count{service=\"%s\"} %llu\n",
		  n, metrics.requests, n, metrics.sum_us / 1000000, metrics.sum_us % 1000000,
		  n, metrics.requests);
	if (svc.role == &roles[0])
		sbuf_addf(&b, "# HELP quotes_total Quotes given to customers.\n"
			  "# TYPE quotes_total counter\n"
			  "quotes_total %llu\n"
			  "# HELP orders_total Orders completed.\n"
			  "# TYPE orders_total counter\n"
			  "orders_total %llu\n", metrics.quotes, metrics.orders);
	pthread_mutex_unlock(&metrics.lock);
	respond(fd, 200, "text/plain; version=0.0.4; charset=utf-8", b.s, b.len);
	sbuf_release(&b);
}

/* ---- faults ---- */

static struct {
	pthread_mutex_t lock;
	long latency_ms;
	double error_rate;
	int conversion;
	int leak;
} faults = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- the business endpoints ---- */

/*
 * GET /quote, /policy or /user: the injected latency (this service's own
 * time), then the injected errors, else the call downstream; 500 when
 * either fails. A server span for the handler, a client span for the call.
 */
static void serve_business(int fd, const struct request *rq)
{
	const struct role *r = svc.role;
	struct trace_context ctx;
	struct span server, client;
	struct sbuf body = SBUF_INIT;
	int64_t t0 = mono_us();
	char why[256] = "";
	long latency_ms;
	double error_rate;
	int status = 200;

	trace_context_from(rq->traceparent, &ctx);
	span_begin(&server, &ctx, ctx.parent_id, "server", "GET", r->operation);
	pthread_mutex_lock(&faults.lock);
	latency_ms = faults.latency_ms;
	error_rate = faults.error_rate;
	pthread_mutex_unlock(&faults.lock);

	if (latency_ms > 0)
		sleep_ms(latency_ms);
	if (error_rate > 0 && rand_unit() < error_rate) {
		status = 500;
		snprintf(why, sizeof(why), "%s failed: internal error", r->operation);
		say_throttled(&own_errors, "error: %s", why);
	} else if (svc.has_downstream) {
		char traceparent[64];
		int64_t c0 = mono_us();
		int down = 0;

		span_begin(&client, &ctx, server.span_id, "client", "GET", r->down_operation);
		snprintf(traceparent, sizeof(traceparent), "00-%s-%s-01", ctx.trace_id,
			 client.span_id);
		if (http_call(&svc.downstream, "GET", r->down_path, traceparent,
			      DOWNSTREAM_TIMEOUT_MS, &down, why, sizeof(why)) < 0) {
			span_end(&client, c0, 0, why);
			status = 500;
			say_throttled(&downstream_errors, "error: %s", why);
		} else {
			span_end(&client, c0, down, NULL);
			if (down < 200 || down > 299) {
				status = 500;
				snprintf(why, sizeof(why), "%s http://%s%s answered %d", "GET",
					 svc.downstream.hostport, r->down_path, down);
				say_throttled(&downstream_errors, "error: %s", why);
			}
		}
	}

	if (status == 200 && r == &roles[0]) {
		char price[sizeof(svc.price)];
		pthread_mutex_lock(&svc.price_lock);
		memcpy(price, svc.price, sizeof(price));
		pthread_mutex_unlock(&svc.price_lock);
		sbuf_addf(&body, "{\"%s\": \"%s-%llu\", \"price\": %s}\n", r->item, r->prefix,
			  next_number(), price);
	} else if (status == 200)
		sbuf_addf(&body, "{\"%s\": \"%s-%llu\", %s}\n", r->item, r->prefix,
			  next_number(), r->extra);
	else {
		sbuf_adds(&body, "{\"error\": ");
		sbuf_add_json(&body, why);
		sbuf_adds(&body, "}\n");
	}
	span_end(&server, t0, status, NULL);
	metrics_observe(mono_us() - t0, status);
	respond_sbuf(fd, status, &body);
	sbuf_release(&body);
}

/* POST /order: always 200; with the conversion fault on, it is not counted. */
static void serve_order(int fd, const struct request *rq)
{
	struct trace_context ctx;
	struct span server;
	struct sbuf body = SBUF_INIT;
	int64_t t0 = mono_us();
	int lost;

	trace_context_from(rq->traceparent, &ctx);
	span_begin(&server, &ctx, ctx.parent_id, "server", "POST", "POST /order");
	pthread_mutex_lock(&faults.lock);
	lost = faults.conversion;
	pthread_mutex_unlock(&faults.lock);
	if (!lost) {
		pthread_mutex_lock(&metrics.lock);
		metrics.orders++;
		pthread_mutex_unlock(&metrics.lock);
	}
	sbuf_addf(&body, "{\"order\": \"o-%llu\", \"status\": \"accepted\"}\n", next_number());
	span_end(&server, t0, 200, NULL);
	respond_sbuf(fd, 200, &body);
	sbuf_release(&body);
}

/* ---- Jaeger's query API, from the spool ---- */

/* Jaeger's error envelope. */
static void respond_jaeger_error(int fd, int status, const char *msg)
{
	struct sbuf b = SBUF_INIT;

	sbuf_addf(&b, "{\"data\": null, \"total\": 0, \"limit\": 0, \"offset\": 0, "
		  "\"errors\": [{\"code\": %d, \"msg\": ", status);
	sbuf_add_json(&b, msg);
	sbuf_adds(&b, "}]}\n");
	respond_sbuf(fd, status, &b);
	sbuf_release(&b);
}

static int by_trace_then_start(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	int c = strcmp(x->trace_id, y->trace_id);

	if (c)
		return c;
	if (x->start_us != y->start_us)
		return x->start_us < y->start_us ? -1 : 1;
	/* A handler and its call may start in the same µs: the handler first. */
	return -strcmp(x->kind, y->kind);
}

struct trace_group {
	size_t first, nr;
	int64_t start;
};

static int by_start_newest_first(const void *a, const void *b)
{
	const struct trace_group *x = a, *y = b;

	return (x->start < y->start) - (x->start > y->start);
}

static void add_tag(struct sbuf *b, int first, const char *key, const char *type)
{
	sbuf_adds(b, first ? "{\"key\": " : ", {\"key\": ");
	sbuf_add_json(b, key);
	sbuf_adds(b, ", \"type\": ");
	sbuf_add_json(b, type);
	sbuf_adds(b, ", \"value\": ");
}

static void span_to_jaeger(struct sbuf *b, const struct span *s, size_t process)
{
	sbuf_adds(b, "{\"traceID\": ");
	sbuf_add_json(b, s->trace_id);
	sbuf_adds(b, ", \"spanID\": ");
	sbuf_add_json(b, s->span_id);
	sbuf_adds(b, ", \"flags\": 1, \"operationName\": ");
	sbuf_add_json(b, s->operation);
	sbuf_adds(b, ", \"references\": [");
	if (*s->parent_id) {
		sbuf_adds(b, "{\"refType\": \"CHILD_OF\", \"traceID\": ");
		sbuf_add_json(b, s->trace_id);
		sbuf_adds(b, ", \"spanID\": ");
		sbuf_add_json(b, s->parent_id);
		sbuf_adds(b, "}");
	}
	sbuf_addf(b, "], \"startTime\": %" PRId64 ", \"duration\": %" PRId64 ", \"tags\": [",
		  s->start_us, s->duration_us);
	add_tag(b, 1, "span.kind", "string");
	sbuf_add_json(b, s->kind);
	sbuf_adds(b, "}");
	add_tag(b, 0, "http.method", "string");
	sbuf_add_json(b, s->method);
	sbuf_adds(b, "}");
	if (s->status) {
		add_tag(b, 0, "http.status_code", "int64");
		sbuf_addf(b, "%d}", s->status);
	}
	if (s->error) {
		add_tag(b, 0, "error", "bool");
		sbuf_adds(b, "true}");
	}
	if (*s->message) {
		add_tag(b, 0, "error.message", "string");
		sbuf_add_json(b, s->message);
		sbuf_adds(b, "}");
	}
	sbuf_addf(b, "], \"logs\": [], \"processID\": \"p%zu\", \"warnings\": null}", process);
}

/* One trace of Jaeger's /api/traces: its spans, one process per service. */
static void trace_to_jaeger(struct sbuf *b, const struct span *v, size_t nr)
{
	const char **procs = xmalloc(nr * sizeof(*procs));
	size_t nprocs = 0;

	sbuf_adds(b, "{\"traceID\": ");
	sbuf_add_json(b, v[0].trace_id);
	sbuf_adds(b, ", \"spans\": [");
	for (size_t i = 0; i < nr; i++) {
		size_t p;
		for (p = 0; p < nprocs && strcmp(procs[p], v[i].service); p++)
			;
		if (p == nprocs)
			procs[nprocs++] = v[i].service;
		if (i)
			sbuf_adds(b, ", ");
		span_to_jaeger(b, &v[i], p + 1);
	}
	sbuf_adds(b, "], \"processes\": {");
	for (size_t p = 0; p < nprocs; p++) {
		sbuf_addf(b, "%s\"p%zu\": {\"serviceName\": ", p ? ", " : "", p + 1);
		sbuf_add_json(b, procs[p]);
		sbuf_adds(b, ", \"tags\": []}");
	}
	sbuf_adds(b, "}, \"warnings\": null}");
	free(procs);
}

/*
 * GET /api/traces?service=S[&start=µs][&end=µs][&limit=N]: the traces
 * with a span of S in [start, end] (default: the last hour), newest first.
 * lookback is accepted and ignored, as jaeger-query does; so are the
 * UI's other parameters.
 */
static void serve_traces(int fd, const char *query)
{
	char service[64], value[32];
	long long start, end, limit = TRACES_DEFAULT_LIMIT;
	struct span_set set;
	struct trace_group *groups;
	struct sbuf b = SBUF_INIT;
	size_t ngroups = 0, shown;
	int r;

	r = query_get(query, "service", service, sizeof(service));
	if (r <= 0 || !*service) {
		respond_jaeger_error(fd, 400, r < 0 ? "malformed parameter 'service'" :
				     "parameter 'service' is required");
		return;
	}
	r = query_get(query, "end", value, sizeof(value));
	if (r < 0 || (r > 0 && parse_uint(value, INT64_MAX, &end) < 0)) {
		respond_jaeger_error(fd, 400, "parameter 'end' is not microseconds since the epoch");
		return;
	}
	if (!r)
		end = now_us();
	r = query_get(query, "start", value, sizeof(value));
	if (r < 0 || (r > 0 && parse_uint(value, INT64_MAX, &start) < 0)) {
		respond_jaeger_error(fd, 400, "parameter 'start' is not microseconds since the epoch");
		return;
	}
	if (!r)
		start = end > TRACES_DEFAULT_WINDOW_US ? end - TRACES_DEFAULT_WINDOW_US : 0;
	r = query_get(query, "limit", value, sizeof(value));
	if (r < 0 || (r > 0 && parse_uint(value, INT_MAX, &limit) < 0)) {
		respond_jaeger_error(fd, 400, "parameter 'limit' is not a whole number");
		return;
	}
	if (limit <= 0)
		limit = TRACES_DEFAULT_LIMIT;
	if (limit > TRACES_MAX_LIMIT)
		limit = TRACES_MAX_LIMIT;

	spool_read_all(start, end, &set);
	if (set.nr)
		qsort(set.v, set.nr, sizeof(*set.v), by_trace_then_start);
	groups = xmalloc((set.nr ? set.nr : 1) * sizeof(*groups));
	for (size_t i = 0, j; i < set.nr; i = j) {
		int has_service = 0;
		for (j = i; j < set.nr && !strcmp(set.v[j].trace_id, set.v[i].trace_id); j++)
			has_service |= !strcmp(set.v[j].service, service);
		if (has_service)
			groups[ngroups++] = (struct trace_group){ i, j - i, set.v[i].start_us };
	}
	if (ngroups)
		qsort(groups, ngroups, sizeof(*groups), by_start_newest_first);
	shown = ngroups < (size_t)limit ? ngroups : (size_t)limit;

	sbuf_adds(&b, "{\"data\": [");
	for (size_t g = 0; g < shown; g++) {
		if (g)
			sbuf_adds(&b, ", ");
		trace_to_jaeger(&b, set.v + groups[g].first, groups[g].nr);
	}
	sbuf_adds(&b, "], \"total\": 0, \"limit\": 0, \"offset\": 0, \"errors\": null}\n");
	respond_sbuf(fd, 200, &b);
	sbuf_release(&b);
	free(groups);
	free(set.v);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* GET /api/services: the services with a spool file. */
static void serve_services(int fd)
{
	DIR *dir = opendir(svc.spool);
	struct dirent *de;
	char **names = NULL;
	size_t nr = 0, alloc = 0;
	struct sbuf b = SBUF_INIT;

	while (dir && (de = readdir(dir))) {
		size_t len;
		if (!is_spool_name(de->d_name, &len))
			continue;
		if (nr == alloc) {
			alloc = alloc ? alloc * 2 : 8;
			names = xrealloc(names, alloc * sizeof(*names));
		}
		names[nr] = xmalloc(len + 1);
		memcpy(names[nr], de->d_name, len);
		names[nr++][len] = '\0';
	}
	if (dir)
		closedir(dir);
	if (nr)
		qsort(names, nr, sizeof(*names), by_name);
	sbuf_adds(&b, "{\"data\": [");
	for (size_t i = 0; i < nr; i++) {
		if (i)
			sbuf_adds(&b, ", ");
		sbuf_add_json(&b, names[i]);
		free(names[i]);
	}
	sbuf_addf(&b, "], \"total\": %zu, \"limit\": 0, \"offset\": 0, \"errors\": null}\n", nr);
	free(names);
	respond_sbuf(fd, 200, &b);
	sbuf_release(&b);
}

/* The service port. */
static void route_service(int fd, const struct request *rq)
{
	const char *p = rq->path;
	int order = svc.role == &roles[0] && !strcmp(p, "/order");
	const char *want = order ? "POST" : "GET";

	if (strcmp(p, "/health") && strcmp(p, "/metrics") && strcmp(p, svc.role->path) &&
	    !order && strcmp(p, "/api/traces") && strcmp(p, "/api/services"))
		respond_text(fd, 404, "not found\n");
	else if (strcmp(rq->method, want))
		respond_not_allowed(fd, want);
	else if (!strcmp(p, "/health"))
		respond_text(fd, 200, "ok\n");
	else if (!strcmp(p, "/metrics"))
		serve_metrics(fd);
	else if (order)
		serve_order(fd, rq);
	else if (!strcmp(p, "/api/traces"))
		serve_traces(fd, rq->query);
	else if (!strcmp(p, "/api/services"))
		serve_services(fd);
	else
		serve_business(fd, rq);
}

/* ---- the admin port: faults ---- */

static void respond_faults(int fd)
{
	struct sbuf b = SBUF_INIT;

	pthread_mutex_lock(&faults.lock);
	sbuf_adds(&b, "{\"service\": ");
	sbuf_add_json(&b, svc.name);
	sbuf_addf(&b, ", \"latency_ms\": %ld, \"error_rate\": %g, \"conversion\": %s, "
		  "\"leak\": %s}\n", faults.latency_ms, faults.error_rate,
		  faults.conversion ? "true" : "false", faults.leak ? "true" : "false");
	pthread_mutex_unlock(&faults.lock);
	respond_sbuf(fd, 200, &b);
	sbuf_release(&b);
}

/*
 * Memory that is never given back, 8 MiB at a time, until an allocation
 * fails under RLIMIT_AS. Under AddressSanitizer, whose shadow memory
 * RLIMIT_AS would refuse, the limit is counted here instead.
 */
static void *leak_main(void *unused)
{
	void **blocks = NULL;
#ifdef UNDER_ASAN
	size_t leaked = 0;
#endif

	for (;;) {
		void **block;

#ifdef UNDER_ASAN
		if (leaked + LEAK_BLOCK > (size_t)svc.rlimit_mib << 20)
			out_of_memory(LEAK_BLOCK);
		leaked += LEAK_BLOCK;
#endif
		block = malloc(LEAK_BLOCK);
		if (!block)
			out_of_memory(LEAK_BLOCK);
		memset(block, 0xa5, LEAK_BLOCK);
		*block = blocks;        /* a chain: leaked, never lost */
		blocks = block;
		sleep_ms(LEAK_PAUSE_MS);
	}
	return NULL;
}

/*
 * The faults, each switched by POST /fault/<name>[?parameter]: 0, or the
 * HTTP status to refuse with and why. Parameters are checked strictly.
 */
static int fault_latency(const char *query, char *why, size_t size)
{
	static const char *const keys[] = { "ms", NULL };
	char value[32];
	long long ms;

	if (!query_only(query, keys, why, size))
		return 400;
	if (query_get(query, "ms", value, sizeof(value)) <= 0 ||
	    parse_uint(value, MAX_LATENCY_MS, &ms) < 0) {
		snprintf(why, size, "ms must be a whole number of milliseconds, 0 to %d",
			 MAX_LATENCY_MS);
		return 400;
	}
	pthread_mutex_lock(&faults.lock);
	faults.latency_ms = (long)ms;
	pthread_mutex_unlock(&faults.lock);
	if (ms)
		say("fault latency on: %lld ms more in %s", ms, svc.role->operation);
	else
		say("fault latency off");
	return 0;
}

static int fault_errors(const char *query, char *why, size_t size)
{
	static const char *const keys[] = { "rate", NULL };
	char value[32];
	double rate;

	if (!query_only(query, keys, why, size))
		return 400;
	if (query_get(query, "rate", value, sizeof(value)) <= 0 ||
	    parse_decimal(value, 1.0, &rate) < 0) {
		snprintf(why, size, "rate must be a decimal from 0 to 1, like 0.5");
		return 400;
	}
	pthread_mutex_lock(&faults.lock);
	faults.error_rate = rate;
	pthread_mutex_unlock(&faults.lock);
	if (rate > 0)
		say("fault errors on: %g of %s answer 500", rate, svc.role->operation);
	else
		say("fault errors off");
	return 0;
}

static int fault_leak(const char *query, char *why, size_t size)
{
	pthread_t t;
	int started;

	pthread_mutex_lock(&faults.lock);
	started = faults.leak;
	faults.leak = 1;
	pthread_mutex_unlock(&faults.lock);
	if (started)
		return 0;
	if (pthread_create(&t, &svc.thread_attr, leak_main, NULL)) {
		pthread_mutex_lock(&faults.lock);
		faults.leak = 0;
		pthread_mutex_unlock(&faults.lock);
		snprintf(why, size, "cannot start the leak");
		return 503;
	}
	pthread_detach(t);
	say("fault leak on: %zu MiB more every %d ms, never freed", LEAK_BLOCK >> 20,
	    LEAK_PAUSE_MS);
	return 0;
}

static int fault_conversion(const char *query, char *why, size_t size)
{
	if (svc.role != &roles[0]) {
		snprintf(why, size, "only quote-service takes orders");
		return 404;
	}
	pthread_mutex_lock(&faults.lock);
	faults.conversion = 1;
	pthread_mutex_unlock(&faults.lock);
	say("fault conversion on: orders are accepted but not completed");
	return 0;
}

static int fault_clear(const char *query, char *why, size_t size)
{
	int leak;

	pthread_mutex_lock(&faults.lock);
	faults.latency_ms = 0;
	faults.error_rate = 0;
	faults.conversion = 0;
	leak = faults.leak;
	pthread_mutex_unlock(&faults.lock);
	say("faults cleared%s", leak ? " (the leak goes on)" : "");
	return 0;
}

/* Answers 200 first: the caller should see the crash it asked for. */
static int fault_crash(const char *query, char *why, size_t size)
{
	return 0;
}

static const struct fault {
	const char *name;
	int (*fn)(const char *query, char *why, size_t size);
	int takes_parameter;
} fault_table[] = {
	{ "crash", fault_crash, 0 },
	{ "leak", fault_leak, 0 },
	{ "latency", fault_latency, 1 },
	{ "errors", fault_errors, 1 },
	{ "conversion", fault_conversion, 0 },
	{ "clear", fault_clear, 0 },
};

/* The admin port: GET /health, GET /fault, POST /fault/<name>. */
static void route_admin(int fd, const struct request *rq)
{
	static const char *const no_keys[] = { NULL };
	const struct fault *f = NULL;
	const char *p = rq->path;
	char why[128];
	int status;

	if (!strncmp(p, "/fault/", 7))
		for (size_t i = 0; i < ARRAY_SIZE(fault_table); i++)
			if (!strcmp(p + 7, fault_table[i].name))
				f = &fault_table[i];
	if (!f && strcmp(p, "/health") && strcmp(p, "/fault")) {
		respond_text(fd, 404, "not found\n");
		return;
	}
	if (strcmp(rq->method, f ? "POST" : "GET")) {
		respond_not_allowed(fd, f ? "POST" : "GET");
		return;
	}
	if (!f) {
		if (!strcmp(p, "/health"))
			respond_text(fd, 200, "ok\n");
		else
			respond_faults(fd);
		return;
	}
	if (!f->takes_parameter && !query_only(rq->query, no_keys, why, sizeof(why)))
		status = 400;
	else
		status = f->fn(rq->query, why, sizeof(why));
	if (status) {
		respond_error(fd, status, why);
		return;
	}
	respond_faults(fd);
	if (f->fn == fault_crash) {
		say("fatal: injected crash");
		close_gently(fd);
		_exit(3);
	}
}

/* ---- connections ---- */

struct conn {
	int fd;
	int admin;
};

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct request *rq = xmalloc(sizeof(*rq));
	int r = request_read(c->fd, rq);

	if (r > 0) {
		respond_text(c->fd, r, r == 408 ? "request timeout\n" : r == 413 ?
			     "request body too large\n" : r == 431 ? "request header too large\n" :
			     r == 501 ? "transfer encodings are not supported\n" : "bad request\n");
		close_gently(c->fd);
	} else {
		if (!r) {
			if (c->admin)
				route_admin(c->fd, rq);
			else
				route_service(c->fd, rq);
		}
		close(c->fd);
	}
	free(rq);
	free(c);
	thread_done(&life.conns);
	return NULL;
}

struct listener {
	int fd, port, admin;
	pthread_t thread;
};

static void *accept_main(void *arg)
{
	struct listener *l = arg;

	for (;;) {
		struct timeval tv = { IO_TIMEOUT_S, 0 };
		struct conn *c;
		int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
		char why[128];

		if (fd < 0) {
			if (stopping())
				return NULL;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			say_throttled(&accept_errors, "error: accept on 127.0.0.1:%d: %s", l->port,
				      strerror_r(errno, why, sizeof(why)));
			sleep_ms(100);
			continue;
		}
		if (stopping()) {
			close(fd);
			return NULL;
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		c = xmalloc(sizeof(*c));
		c->fd = fd;
		c->admin = l->admin;
		if (spawn(conn_main, c, &life.conns, MAX_CONNS) < 0) {
			say_throttled(&accept_errors, "error: %d connections at once, answering 503",
				      MAX_CONNS);
			respond_text(fd, 503, "busy\n");
			close(fd);
			free(c);
		}
	}
}

static int listen_on(int port, int *out)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	*out = fd;
	return 0;
}

/* ---- the customers (--traffic) ---- */

/*
 * Does customer number k order? Three in ten, evenly: k = 0, 4 and 7 of
 * every ten. Not a coin flip: sre's conversion check judges a second of
 * traffic, and a coin at 0.3 gives no order in 10 quotes 3% of the time
 * (0.7^10), in 6 quotes 12%, so a slow or erring stack, whose fewer
 * quotes complete a second, paged on nothing. Spread evenly, any ten
 * quotes in a row hold three orders: a fall is the fault's, never chance.
 */
static int customer_orders(unsigned long long k)
{
	return (k * ORDERS_PER_TEN) % 10 < ORDERS_PER_TEN;
}

/* One customer: a quote, and an order after three quotes in ten. */
static void *customer_main(void *arg)
{
	unsigned long long k = (unsigned long long)(uintptr_t)arg;
	char why[256];
	int status;

	if (!http_call(&svc.self, "GET", svc.role->path, NULL, CUSTOMER_TIMEOUT_MS, &status,
		       why, sizeof(why)) && status == 200 && svc.role == &roles[0] &&
	    customer_orders(k))
		http_call(&svc.self, "POST", "/order", NULL, CUSTOMER_TIMEOUT_MS, &status,
			  why, sizeof(why));
	thread_done(&life.customers);
	return NULL;
}

/*
 * RATE customers a second, whatever the answers take: customers do not
 * wait for each other, so a slow service has more of them at once.
 */
static void *traffic_main(void *unused)
{
	int64_t period = (int64_t)(1e6 / svc.traffic), next = mono_us();
	uintptr_t k = 0;

	if (period < 1)
		period = 1;
	for (;;) {
		next += period;
		if (wait_until(next, &life.stopping))
			return NULL;
		if (mono_us() - next > 1000000)
			next = mono_us();       /* behind by a second: do not rush */
		if (spawn(customer_main, (void *)k, &life.customers, MAX_CUSTOMERS) == 0)
			k++;
	}
}

/* ---- start-up ---- */

static void usage(void) __attribute__((noreturn));

static void usage(void)
{
	fputs("usage: demo-service --name <quote-service|policy-service|user-service>\n"
	      "                    --port P --admin-port A --pidfile FILE --spool DIR\n"
	      "                    [--downstream http://127.0.0.1:N] [--traffic RATE]\n"
	      "                    [--memory-limit MiB] [--config FILE]\n", stderr);
	exit(129);
}

static void die(const char *fmt, ...) PRINTF(1, 2) __attribute__((noreturn));

static void die(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say("fatal: %s", msg);
	exit(128);
}

static void usage_error(const char *fmt, ...) PRINTF(1, 2) __attribute__((noreturn));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage();
}

static void parse_options(int argc, char **argv)
{
	const char *name = NULL, *port = NULL, *admin = NULL, *traffic = NULL, *memory = NULL;
	const struct {
		const char *opt;
		const char **value;
	} options[] = {
		{ "--name", &name },
		{ "--port", &port },
		{ "--admin-port", &admin },
		{ "--pidfile", &svc.pidfile },
		{ "--spool", &svc.spool },
		{ "--downstream", &svc.downstream_url },
		{ "--traffic", &traffic },
		{ "--memory-limit", &memory },
		{ "--config", &svc.config },
	};
	long long v;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq = strchr(arg, '=');
		size_t len = eq ? (size_t)(eq - arg) : strlen(arg), k;

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
			usage();
		for (k = 0; k < ARRAY_SIZE(options); k++)
			if (strlen(options[k].opt) == len && !strncmp(arg, options[k].opt, len))
				break;
		if (k == ARRAY_SIZE(options))
			usage_error("unknown option '%s'", arg);
		if (!eq && i + 1 == argc)
			usage_error("%s needs a value", options[k].opt);
		*options[k].value = eq ? eq + 1 : argv[++i];
	}

	for (size_t i = 0; name && i < ARRAY_SIZE(roles); i++)
		if (!strcmp(name, roles[i].name))
			svc.role = &roles[i];
	if (!svc.role)
		usage_error("--name is quote-service, policy-service or user-service");
	svc.name = svc.role->name;
	if (!port || parse_uint(port, 65535, &v) < 0 || !v)
		usage_error("--port is a port number, 1 to 65535");
	svc.port = (int)v;
	if (!admin || parse_uint(admin, 65535, &v) < 0 || !v || v == svc.port)
		usage_error("--admin-port is a port number, 1 to 65535, other than --port");
	svc.admin_port = (int)v;
	if (!svc.pidfile || !*svc.pidfile || strlen(svc.pidfile) > PATH_MAX - 8)
		usage_error("--pidfile is a file name");
	if (!svc.spool || !*svc.spool || strlen(svc.spool) > PATH_MAX - 80)
		usage_error("--spool is a directory");
	if (svc.downstream_url) {
		if (!svc.role->down_path)
			usage_error("%s has no downstream", svc.name);
		if (target_from_url(svc.downstream_url, &svc.downstream) < 0)
			usage_error("--downstream is http://host:port, not '%s'", svc.downstream_url);
		svc.has_downstream = 1;
	}
	if (traffic && (parse_decimal(traffic, MAX_TRAFFIC, &svc.traffic) < 0 || svc.traffic <= 0))
		usage_error("--traffic is requests a second, more than 0 and at most %d",
			    MAX_TRAFFIC);
	svc.memory_limit_mib = 128;
	if (memory) {
		if (parse_uint(memory, 1 << 20, &v) < 0 || v < 16)
			usage_error("--memory-limit is MiB, at least 16");
		svc.memory_limit_mib = (unsigned long)v;
	}
}

/*
 * RLIMIT_AS: what the process maps now (the span ring included) plus
 * --memory-limit, so that normal work fits and the leak does not. Set
 * before any thread starts. Arenas are limited to one: glibc reserves
 * 64 MiB of address space for each thread's arena otherwise.
 */
static void limit_memory(void)
{
	struct rlimit no_core = { 0, 0 };

	/* An aborted demo service leaves no core file of its leak behind. */
	getrlimit(RLIMIT_CORE, &no_core);
	no_core.rlim_cur = 0;
	setrlimit(RLIMIT_CORE, &no_core);
#ifdef UNDER_ASAN
	svc.rlimit_mib = svc.memory_limit_mib;
	say("memory limit %lu MiB, counted by the leak itself (AddressSanitizer "
	    "reserves what RLIMIT_AS would refuse)", svc.rlimit_mib);
#else
	unsigned long pages = 0;
	struct rlimit rl;
	rlim_t want;
	FILE *f = fopen("/proc/self/statm", "re");

	if (!f || fscanf(f, "%lu", &pages) != 1)
		die("cannot read /proc/self/statm");
	fclose(f);
#ifdef M_ARENA_MAX
	mallopt(M_ARENA_MAX, 1);
#endif
	want = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)svc.memory_limit_mib << 20);
	if (getrlimit(RLIMIT_AS, &rl) < 0)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max)
		want = rl.rlim_max;
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_AS, &rl) < 0)
		die("setrlimit(RLIMIT_AS): %s", strerror(errno));
	svc.rlimit_mib = (unsigned long)((want + (1 << 20) - 1) >> 20);
#endif
}

/*
 * Read --config into the service's settings: 0, or -1 after one line
 * "fatal: FILE:LINE: why; refusing to run with it". A missing file is
 * the defaults; nothing is changed unless the whole file is good.
 */
static int read_config(void)
{
	char line[512], price[sizeof(svc.price)] = "129.90", why[160] = "";
	int n = 0;
	FILE *f;

	if (!svc.config)
		goto apply;
	if (!(f = fopen(svc.config, "re"))) {
		if (errno == ENOENT)
			goto apply;
		say("fatal: cannot read %s: %s; refusing to run without it", svc.config,
		    strerror(errno));
		return -1;
	}
	while (!why[0] && fgets(line, sizeof(line), f)) {
		char *key = line, *eq, *value, *end;
		double v;

		n++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(why, sizeof(why), "a line longer than %zu bytes", sizeof(line) - 2);
			break;
		}
		line[strcspn(line, "#\r\n")] = '\0';
		key += strspn(key, " \t");
		if (!*key)
			continue;
		if (!(eq = strchr(key, '='))) {
			snprintf(why, sizeof(why), "\"key = value\" is expected");
			break;
		}
		value = eq + 1 + strspn(eq + 1, " \t");
		for (end = eq; end > key && (end[-1] == ' ' || end[-1] == '\t'); end--)
			;
		*end = '\0';
		for (end = value + strlen(value); end > value && (end[-1] == ' ' || end[-1] == '\t'); end--)
			;
		*end = '\0';
		if (strcmp(key, "price"))
			snprintf(why, sizeof(why), "unknown key '%.40s' (the one key is price)", key);
		else if (strlen(value) >= sizeof(price) || parse_decimal(value, 1e9, &v) < 0)
			snprintf(why, sizeof(why), "price is a decimal like 129.90, not '%.40s'", value);
		else
			memcpy(price, value, strlen(value) + 1);
	}
	fclose(f);
	if (why[0]) {
		say("fatal: %s:%d: %s; refusing to run with it", svc.config, n, why);
		return -1;
	}
apply:
	pthread_mutex_lock(&svc.price_lock);
	memcpy(svc.price, price, sizeof(price));
	pthread_mutex_unlock(&svc.price_lock);
	return 0;
}

static void write_pidfile(void)
{
	char tmp[PATH_MAX], pid[32];
	int fd, n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());

	snprintf(tmp, sizeof(tmp), "%s.tmp", svc.pidfile);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, pid, (size_t)n) < 0 || close(fd) < 0 ||
	    rename(tmp, svc.pidfile) < 0)
		die("cannot write %s: %s", svc.pidfile, strerror(errno));
}

int main(int argc, char **argv)
{
	struct listener ls[2];
	pthread_condattr_t ca;
	pthread_t spool_thread, traffic_thread;
	sigset_t stop_signals;
	char traffic[32] = "none";
	uint64_t seed;
	int sig = 0;

	parse_options(argc, argv);
	pthread_mutex_init(&svc.price_lock, NULL);
	if (read_config() < 0)
		exit(78);

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL); /* every thread inherits it */

	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		seed = (uint64_t)now_us() ^ ((uint64_t)getpid() << 32);
	rand_state = seed;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&life.cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_attr_init(&svc.thread_attr);
	pthread_attr_setstacksize(&svc.thread_attr, THREAD_STACK);
	snprintf(svc.self.hostport, sizeof(svc.self.hostport), "127.0.0.1:%d", svc.port);
	{
		struct sockaddr_in *a = (struct sockaddr_in *)&svc.self.addr;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)svc.port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		svc.self.addrlen = sizeof(*a);
	}

	if (mkdir(svc.spool, 0755) < 0 && errno != EEXIST)
		die("cannot create %s: %s", svc.spool, strerror(errno));
	ls[0] = (struct listener){ .port = svc.port, .admin = 0 };
	ls[1] = (struct listener){ .port = svc.admin_port, .admin = 1 };
	for (int i = 0; i < 2; i++)
		if (listen_on(ls[i].port, &ls[i].fd) < 0)
			die("cannot listen on 127.0.0.1:%d: %s", ls[i].port, strerror(errno));

	spans.ring = xmalloc(SPAN_RING * sizeof(*spans.ring));
	memset(spans.ring, 0, SPAN_RING * sizeof(*spans.ring));
	limit_memory();

	for (int i = 0; i < 2; i++)
		if (pthread_create(&ls[i].thread, &svc.thread_attr, accept_main, &ls[i]))
			die("cannot start a thread");
	if (pthread_create(&spool_thread, &svc.thread_attr, spool_main, NULL) ||
	    (svc.traffic > 0 &&
	     pthread_create(&traffic_thread, &svc.thread_attr, traffic_main, NULL)))
		die("cannot start a thread");

	if (svc.traffic > 0)
		snprintf(traffic, sizeof(traffic), "%g/s", svc.traffic);
	say("downstream %s, traffic %s, RLIMIT_AS %lu MiB",
	    svc.has_downstream ? svc.downstream_url : "none", traffic, svc.rlimit_mib);
	say("listening on 127.0.0.1:%d, admin 127.0.0.1:%d", svc.port, svc.admin_port);
	write_pidfile();

	/* SIGHUP reads the config again: a bad one ends the service at once. */
	for (;;) {
		while (sigwait(&stop_signals, &sig) == EINTR)
			;
		if (sig != SIGHUP)
			break;
		say("SIGHUP: reading %s again", svc.config ? svc.config : "no config");
		if (read_config() < 0)
			_exit(78);
		say("config reloaded: price %s", svc.price);
	}
	say("%s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");

	/* No new connections or customers; let those running finish. */
	pthread_mutex_lock(&life.lock);
	life.stopping = 1;
	pthread_cond_broadcast(&life.cond);
	pthread_mutex_unlock(&life.lock);
	for (int i = 0; i < 2; i++) {
		shutdown(ls[i].fd, SHUT_RDWR);
		pthread_join(ls[i].thread, NULL);
		close(ls[i].fd);
	}
	if (svc.traffic > 0)
		pthread_join(traffic_thread, NULL);
	{
		int64_t deadline = mono_us() + SHUTDOWN_WAIT_MS * 1000LL;
		struct timespec ts = { deadline / 1000000, (deadline % 1000000) * 1000 };

		pthread_mutex_lock(&life.lock);
		while ((life.conns || life.customers) &&
		       pthread_cond_timedwait(&life.cond, &life.lock, &ts) != ETIMEDOUT)
			;
		life.spool_stopping = 1;
		pthread_cond_broadcast(&life.cond);
		pthread_mutex_unlock(&life.lock);
	}
	pthread_join(spool_thread, NULL);
	return 0;
}
