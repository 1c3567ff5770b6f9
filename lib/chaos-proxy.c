/*
 * chaos-proxy.c: the fault proxy of `sre chaos proxy` and its toxics in
 * the store (chaos-proxy.h says what each toxic does).
 *
 * One thread and one poll() loop serve every proxy and connection, rather
 * than a thread per connection (toxiproxy's goroutines), because:
 *   - the toxics are reloaded from the store by the thread that applies
 *     them, between two polls: no lock between the table and the
 *     connections, and the store handle (its statement cache is not
 *     thread-safe) has one user;
 *   - every wait is the poll's timeout, the earliest of the next reload
 *     (250 ms), a held chunk's release (latency), the next byte the
 *     bandwidth allows, and a connect's or a linger's deadline, so no
 *     call blocks without a bound and *stop is seen within 250 ms;
 *   - latency keeps each chunk's arrival time in the connection's own
 *     queue and releases it on time without a sleeping thread per chunk;
 *   - the bound is plain: proxy.max-connections connections (256), each
 *     two sockets and two rings of 64 KiB; a full ring stops reading its
 *     source, so the kernel's windows push back on a fast sender.
 * poll() over some 520 descriptors is cheap next to 512 threads' stacks.
 *
 * Every socket is non-blocking; the upstream is connected in the
 * background with a 5 s deadline; the upstream's address is resolved once,
 * when the proxy opens, so no name lookup ever stalls the loop.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "chaos-proxy.h"
#include "store-internal.h"
#include "timeutil.h"

#define RING 65536              /* bytes one direction holds */
#define MARKS 64                /* chunks one direction holds (latency) */
#define HEAD_MAX 16384          /* an HTTP request head followed for errors */
#define RELOAD_MS 250
#define RELOAD_FAILED_MS 5000   /* the store failed: try again later, quietly */
#define CONNECT_MS 5000
#define LINGER_MS 2000          /* after an injected answer: the client reads it */
#define WARN_EVERY_MS 10000
#define MAX_CONNECTIONS 4096
#define PARAMS_MAX 4096         /* a params text longer than this is no toxic of ours */

enum toxic_kind { LATENCY, ERRORS, RESET, TIMEOUT, BANDWIDTH, NR_TOXICS };

static const char *const toxic_names[NR_TOXICS] = {
	"latency", "errors", "reset", "timeout", "bandwidth",
};

/* The keys each toxic takes: bounds, whether whole, the default (NAN: required). */
struct param {
	const char *key;
	double min, max;
	int whole;
	double def;
};

static const struct param toxic_params[NR_TOXICS][3] = {
	[LATENCY] = { { "latency_ms", 0, 60000, 1, NAN }, { "jitter_ms", 0, 60000, 1, 0 } },
	[ERRORS] = { { "share", 0, 1, 0, 1 }, { "status", 500, 599, 1, 503 } },
	[BANDWIDTH] = { { "rate_kbps", 1, 1000000, 1, NAN } },
};

/* The toxics of one proxy, as parsed. */
struct toxics {
	unsigned on;                /* a bit per enum toxic_kind */
	double v[NR_TOXICS][2];     /* the values, in toxic_params' order */
	char *text[NR_TOXICS];      /* each as logged, to see a change */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A name that came from elsewhere, for a one-line message. */
static void add_name(struct strbuf *sb, const char *s)
{
	size_t i;

	strbuf_addch(sb, '\'');
	for (i = 0; s[i] && i < 40; i++)
		strbuf_addch(sb, s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
	if (s[i])
		strbuf_addstr(sb, "...");
	strbuf_addch(sb, '\'');
}

static int toxic_kind(const char *name)
{
	for (int k = 0; k < NR_TOXICS; k++)
		if (!strcmp(name, toxic_names[k]))
			return k;
	return -1;
}

/* params into t->v[kind] (and t->on): 0, or -1 with why. */
static int toxic_parse(int kind, const cJSON *params, struct toxics *t, struct strbuf *why)
{
	const struct param *ps = toxic_params[kind];
	const cJSON *item;

	if (params && !cJSON_IsObject(params)) {
		strbuf_addf(why, "the %s toxic's parameters are not an object", toxic_names[kind]);
		return -1;
	}
	cJSON_ArrayForEach(item, params) {
		int known = 0;

		for (int i = 0; i < 3 && ps[i].key && !known; i++)
			known = item->string && !strcmp(item->string, ps[i].key);
		if (!known) {
			strbuf_addf(why, "the %s toxic takes no ", toxic_names[kind]);
			add_name(why, item->string ? item->string : "");
			strbuf_addstr(why, ps[0].key ? " (it takes " : " (it takes none)");
			for (int i = 0; i < 3 && ps[i].key; i++)
				strbuf_addf(why, "%s%s", i ? ", " : "", ps[i].key);
			if (ps[0].key)
				strbuf_addch(why, ')');
			return -1;
		}
	}
	for (int i = 0; i < 3 && ps[i].key; i++) {
		const cJSON *v = params ? cJSON_GetObjectItemCaseSensitive(params, ps[i].key) : NULL;
		double d;

		if (!v) {
			if (isnan(ps[i].def)) {
				strbuf_addf(why, "the %s toxic needs %s", toxic_names[kind], ps[i].key);
				return -1;
			}
			t->v[kind][i] = ps[i].def;
			continue;
		}
		d = cJSON_GetNumberValue(v);
		if (!cJSON_IsNumber(v) || !isfinite(d)) {
			strbuf_addf(why, "%s is not a number", ps[i].key);
			return -1;
		}
		if (d < ps[i].min || d > ps[i].max || (ps[i].whole && d != floor(d))) {
			strbuf_addf(why, "%s %.15g is not %s %.15g to %.15g", ps[i].key, d,
				    ps[i].whole ? "a whole number from" : "from", ps[i].min, ps[i].max);
			return -1;
		}
		t->v[kind][i] = d;
	}
	if (kind == LATENCY && t->v[kind][1] > t->v[kind][0]) {
		strbuf_addf(why, "jitter_ms %.15g is more than latency_ms %.15g",
			    t->v[kind][1], t->v[kind][0]);
		return -1;
	}
	t->on |= 1u << kind;
	return 0;
}

int chaos_toxic_check(const char *toxic, const cJSON *params, struct strbuf *why)
{
	struct toxics t = { 0 };
	int kind = toxic ? toxic_kind(toxic) : -1;

	if (kind < 0) {
		strbuf_addstr(why, "unknown toxic ");
		add_name(why, toxic ? toxic : "");
		strbuf_addstr(why, " (latency, errors, reset, timeout, bandwidth)");
		return -1;
	}
	return toxic_parse(kind, params, &t, why);
}

/* A proxy's name as it may stand in the store: as config subsections are, minus controls. */
static int proxy_name_ok(const char *name, struct strbuf *why)
{
	size_t n = name ? strlen(name) : 0;

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			n = 0;
	if (n && n <= 128)
		return 0;
	strbuf_addstr(why, "not a proxy's name: ");
	add_name(why, name ? name : "");
	return -1;
}

/* ---- the table ---- */

int chaos_toxic_set(struct store *st, const char *proxy, const char *toxic,
		    const cJSON *params, long long fault_id)
{
	struct strbuf why = STRBUF_INIT;
	sqlite3_stmt *stmt;
	cJSON *copy;
	char *text;
	int rc;

	if (proxy_name_ok(proxy, &why) < 0 || chaos_toxic_check(toxic, params, &why) < 0) {
		rc = error("cannot set a toxic: %s", why.buf);
		strbuf_release(&why);
		return rc;
	}
	strbuf_release(&why);
	copy = params ? cJSON_Duplicate(params, 1) : cJSON_CreateObject();
	text = copy ? cJSON_PrintUnformatted(copy) : NULL;
	cJSON_Delete(copy);
	if (!text)
		return error("out of memory writing a toxic");
	if (store_prepare(st, &stmt, "INSERT INTO chaos_toxics(proxy, toxic, params, fault_id)"
			  " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(proxy, toxic) DO UPDATE"
			  " SET params = excluded.params, fault_id = excluded.fault_id") < 0) {
		cJSON_free(text);
		return -1;
	}
	sqlite3_bind_text(stmt, 1, proxy, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, toxic, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, text, -1, SQLITE_STATIC);
	if (fault_id > 0)
		sqlite3_bind_int64(stmt, 4, fault_id);
	else
		sqlite3_bind_null(stmt, 4);
	rc = sqlite3_step(stmt);
	store_done(st, stmt);
	cJSON_free(text);
	return rc == SQLITE_DONE ? 0 : store_db_error(st, "cannot set a toxic");
}

int chaos_toxic_clear(struct store *st, const char *proxy, const char *toxic)
{
	sqlite3_stmt *stmt;
	int rc;

	if (!proxy || !toxic)
		return error("cannot clear a toxic without its proxy and name");
	if (store_prepare(st, &stmt, "DELETE FROM chaos_toxics WHERE proxy = ?1 AND toxic = ?2") < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, proxy, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, toxic, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	store_done(st, stmt);
	return rc == SQLITE_DONE ? 0 : store_db_error(st, "cannot clear a toxic");
}

cJSON *chaos_toxic_list(struct store *st, const char *proxy)
{
	cJSON *list = cJSON_CreateArray();
	sqlite3_stmt *stmt;
	int rc;

	if (!list || store_prepare(st, &stmt, "SELECT t.proxy, t.toxic, t.params, t.fault_id, f.expires_at"
				   " FROM chaos_toxics t LEFT JOIN chaos_faults f ON f.id = t.fault_id"
				   " WHERE ?1 IS NULL OR t.proxy = ?1 ORDER BY t.proxy, t.toxic") < 0) {
		cJSON_Delete(list);
		return NULL;
	}
	if (proxy)
		sqlite3_bind_text(stmt, 1, proxy, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		cJSON *row = cJSON_CreateObject(), *params;
		const char *text = (const char *)sqlite3_column_text(stmt, 2);

		cJSON_AddStringToObject(row, "proxy", (const char *)sqlite3_column_text(stmt, 0));
		cJSON_AddStringToObject(row, "toxic", (const char *)sqlite3_column_text(stmt, 1));
		params = text ? cJSON_Parse(text) : NULL;
		cJSON_AddItemToObject(row, "params", params ? params : cJSON_CreateNull());
		if (sqlite3_column_type(stmt, 3) == SQLITE_NULL)
			cJSON_AddNullToObject(row, "fault_id");
		else
			cJSON_AddNumberToObject(row, "fault_id", (double)sqlite3_column_int64(stmt, 3));
		if (sqlite3_column_type(stmt, 4) == SQLITE_NULL)
			cJSON_AddNullToObject(row, "expires_at");
		else
			cJSON_AddStringToObject(row, "expires_at", (const char *)sqlite3_column_text(stmt, 4));
		cJSON_AddItemToArray(list, row);
	}
	store_done(st, stmt);
	if (rc != SQLITE_DONE) {
		cJSON_Delete(list);
		store_db_error(st, "cannot read the toxics");
		return NULL;
	}
	return list;
}

int chaos_proxy_configured(const struct config *cfg, const char *name)
{
	struct strbuf key = STRBUF_INIT;
	int yes = config_get_string(cfg, config_key_of(&key, "proxy", name, "listen")) &&
		  config_get_string(cfg, config_key_of(&key, "proxy", name, "upstream"));

	strbuf_release(&key);
	return yes;
}

/* ---- the proxies ---- */

struct proxy {
	char *name;
	char *listen;               /* as bound: the port 0 chose */
	char *upstream;             /* as configured */
	struct sockaddr_storage up;
	socklen_t uplen;
	int lfd;
	struct toxics tox;
	char *bad[NR_TOXICS + 1];   /* a row of the store warned about, once (last: unknown toxics) */
	int64_t warned_at;          /* the last warning about the upstream or the limit */
};

/* One direction of a connection: a ring of bytes and the chunks in it. */
struct dir {
	char *buf;
	uint64_t rd, wr, ready;     /* bytes read in, written out, released */
	struct {
		uint64_t end;
		int64_t at;
	} mark[MARKS];              /* each chunk's end and when it may go */
	unsigned mhead, mnr;
	double tokens;              /* bandwidth: bytes that may go now */
	int64_t tokens_at;
	int eof;                    /* its source is done */
	int shut;                   /* its destination's write side is shut */
};

enum conn_state {
	CONN_HELD,                  /* timeout: accepted, not yet connected on */
	CONN_CONNECTING,
	CONN_OPEN,
	CONN_ANSWER,                /* errors: the proxy answers, the upstream is gone */
};

enum http_state { HTTP_START, HTTP_HEAD, HTTP_BODY, HTTP_OPAQUE };

struct conn {
	struct proxy *px;
	int cfd, ufd;
	enum conn_state state;
	int chup, uhup;             /* poll said hung up: read without polling */
	int cpoll, upoll;           /* their places in the poll set, or -1 */
	int dead;
	int64_t deadline;           /* connecting, lingering: 0 none */
	struct dir up, down;        /* client to upstream, upstream to client */
	enum http_state http;       /* the client's requests, for errors */
	uint64_t body_left;
	size_t headlen;
	char head[HEAD_MAX];
	char answer[320];
	size_t answer_len, answer_off;
};

struct chaos_proxies {
	struct proxy *px;
	size_t nr;
	size_t max_conns;
	struct conn **conns;
	size_t nconns;
	uint64_t rng;
};

size_t chaos_proxy_count(const struct chaos_proxies *p)
{
	return p->nr;
}

void chaos_proxy_info(const struct chaos_proxies *p, size_t i, const char **name,
		      const char **listen_at, const char **upstream)
{
	*name = p->px[i].name;
	*listen_at = p->px[i].listen;
	*upstream = p->px[i].upstream;
}

/* xorshift64*: the draws of errors' share and of jitter need no more. */
static double draw(struct chaos_proxies *p)
{
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return (double)((p->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* "host:port" or "[v6]:port": 0, or -1 with why. The port is 0..65535. */
static int split_address(const char *s, char **host, char **port, struct strbuf *why)
{
	const char *colon = strrchr(s, ':'), *h = s, *he;
	long long n;

	if (!colon || parse_ll(colon + 1, &n) < 0 || n < 0 || n > 65535 ||
	    !isdigit((unsigned char)colon[1])) {
		strbuf_addstr(why, "is not host:port");
		return -1;
	}
	he = colon;
	if (*s == '[') {
		if (colon == s || colon[-1] != ']') {
			strbuf_addstr(why, "is not [address]:port");
			return -1;
		}
		h = s + 1;
		he = colon - 1;
	} else if (memchr(s, ':', (size_t)(colon - s))) {
		strbuf_addstr(why, "is not host:port (write an IPv6 address in brackets)");
		return -1;
	}
	*host = xstrndup(h, (size_t)(he - h));
	*port = xstrfmt("%lld", n);
	return 0;
}

static int is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

static void format_address(const struct sockaddr *sa, struct strbuf *out)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		strbuf_addf(out, "[%s]:%u", host, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		strbuf_addf(out, "%s:%u", host, ntohs(a->sin_port));
	}
}

static const char *config_of(const struct config *cfg, struct strbuf *key, const char *name,
			     const char *what)
{
	return config_get_string(cfg, config_key_of(key, "proxy", name, what));
}

/* Resolve the upstream and bind the listener of proxy px->name: 0, or -1 (said). */
static int proxy_open(struct proxy *px, const struct config *cfg)
{
	struct strbuf key = STRBUF_INIT, why = STRBUF_INIT, name = STRBUF_INIT;
	const char *listen_at = config_of(cfg, &key, px->name, "listen");
	const char *upstream = config_of(cfg, &key, px->name, "upstream");
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	char *host = NULL, *port = NULL;
	int any = 0, rc, ret = -1;

	add_name(&name, px->name);
	if (!listen_at || !upstream) {
		error("proxy %s is not configured: [proxy \"<name>\"] needs listen and upstream",
		      name.buf);
		goto out;
	}
	if (config_get_bool(cfg, config_key_of(&key, "proxy", px->name, "listen-any"), &any) < 0)
		goto out;
	px->upstream = xstrdup(upstream);

	if (split_address(upstream, &host, &port, &why) < 0 || !strcmp(port, "0")) {
		error("proxy %s: upstream '%s' %s", name.buf, upstream,
		      why.len ? why.buf : "has no port");
		goto out;
	}
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(*host ? host : NULL, port, &hints, &res))) {
		error("proxy %s: cannot resolve upstream '%s': %s", name.buf, upstream,
		      gai_strerror(rc));
		goto out;
	}
	memcpy(&px->up, res->ai_addr, res->ai_addrlen);
	px->uplen = res->ai_addrlen;
	freeaddrinfo(res);
	res = NULL;
	free(host);
	free(port);
	host = port = NULL;

	if (split_address(listen_at, &host, &port, &why) < 0) {
		error("proxy %s: listen '%s' %s", name.buf, listen_at, why.buf);
		goto out;
	}
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(*host ? host : NULL, port, &hints, &res))) {
		error("proxy %s: cannot resolve listen '%s': %s", name.buf, listen_at, gai_strerror(rc));
		goto out;
	}
	/*
	 * Loopback unless the configuration says otherwise: the proxy asks no
	 * one who they are, so every host that could reach a wider address
	 * would reach the upstream through it, around whatever guards the
	 * upstream itself (a firewall, a bind to loopback), and would meet its
	 * faults too. Listening wider is a choice written down, never a slip.
	 */
	for (ai = res; ai && !any; ai = ai->ai_next)
		if (!is_loopback(ai->ai_addr)) {
			error("proxy %s: listen '%s' is not a loopback address; set "
			      "proxy.%s.listen-any = true to let other hosts reach it",
			      name.buf, listen_at, px->name);
			goto out;
		}
	for (ai = res; ai; ai = ai->ai_next) {
		int one = 1, fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
			error_errno("proxy %s: cannot listen on '%s'", name.buf, listen_at);
			close(fd);
			continue;
		}
		px->lfd = fd;
		break;
	}
	if (px->lfd >= 0) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct strbuf at = STRBUF_INIT;

		if (!getsockname(px->lfd, (struct sockaddr *)&ss, &len))
			format_address((struct sockaddr *)&ss, &at);
		else
			strbuf_addstr(&at, listen_at);
		px->listen = strbuf_detach(&at, NULL);
		ret = 0;
	}
out:
	if (res)
		freeaddrinfo(res);
	free(host);
	free(port);
	strbuf_release(&key);
	strbuf_release(&why);
	strbuf_release(&name);
	return ret;
}

/* Room for max connections' descriptors, raising the soft limit if need be. */
static size_t fit_descriptors(size_t max, size_t nproxies)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)(2 * max + nproxies + 64);

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return max;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) {
		rl.rlim_cur = need;
		if (!setrlimit(RLIMIT_NOFILE, &rl))
			return max;
	} else {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < nproxies + 66)
		return 1;
	warning("sre chaos proxy: %zu connections at most: the open files' limit is %llu",
		(size_t)((rl.rlim_cur - nproxies - 64) / 2), (unsigned long long)rl.rlim_cur);
	return (size_t)((rl.rlim_cur - nproxies - 64) / 2);
}

int chaos_proxy_open(struct chaos_proxies **out, const struct config *cfg,
		     const struct strvec *names)
{
	struct chaos_proxies *p = xcalloc(1, sizeof(*p));
	struct strvec all = STRVEC_INIT;
	const struct strvec *want = names;
	long long max = 256;
	int ret = 0;

	*out = NULL;
	if (config_get_int(cfg, "proxy.max-connections", &max) < 0)
		ret = -1;
	else if (max < 1 || max > MAX_CONNECTIONS)
		ret = error("proxy.max-connections %lld is not 1 to %d", max, MAX_CONNECTIONS);
	if (!names || !names->nr) {
		config_subsections(cfg, "proxy", &all);
		want = &all;
		if (!all.nr && !ret)
			ret = error("no proxy is configured: [proxy \"<name>\"] needs "
				    "listen = 127.0.0.1:<port> and upstream = <host>:<port>");
	}
	p->px = xcalloc(want->nr ? want->nr : 1, sizeof(*p->px));
	for (size_t i = 0; i < want->nr && !ret; i++) {
		struct proxy *px = &p->px[p->nr];

		for (size_t j = 0; j < p->nr; j++)
			if (!strcmp(p->px[j].name, want->v[i]))
				px = NULL;
		if (!px)
			continue;
		px->name = xstrdup(want->v[i]);
		px->lfd = -1;
		p->nr++;
		ret = proxy_open(px, cfg);
	}
	strvec_clear(&all);
	if (ret < 0) {
		chaos_proxy_free(p);
		return -1;
	}
	p->max_conns = fit_descriptors((size_t)max, p->nr);
	p->conns = xcalloc(p->max_conns, sizeof(*p->conns));
	if (getrandom(&p->rng, sizeof(p->rng), GRND_NONBLOCK) != sizeof(p->rng))
		p->rng = (uint64_t)now_ms() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid();
	p->rng |= 1;
	*out = p;
	return 0;
}

static void conn_free(struct conn *c, int reset)
{
	if (c->cfd >= 0) {
		if (reset) {
			struct linger lg = { 1, 0 };
			setsockopt(c->cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		close(c->cfd);
	}
	if (c->ufd >= 0)
		close(c->ufd);
	free(c->up.buf);
	free(c->down.buf);
	free(c);
}

void chaos_proxy_free(struct chaos_proxies *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nconns; i++)
		conn_free(p->conns[i], 0);
	for (size_t i = 0; i < p->nr; i++) {
		struct proxy *px = &p->px[i];
		if (px->lfd >= 0)
			close(px->lfd);
		free(px->name);
		free(px->listen);
		free(px->upstream);
		for (int k = 0; k < NR_TOXICS; k++)
			free(px->tox.text[k]);
		for (int k = 0; k <= NR_TOXICS; k++)
			free(px->bad[k]);
	}
	free(p->conns);
	free(p->px);
	free(p);
}

/* A warning about px at most every 10 s: a flood of refused connects is one line. */
static int may_warn(struct proxy *px, int64_t now)
{
	if (px->warned_at && now - px->warned_at < WARN_EVERY_MS)
		return 0;
	px->warned_at = now;
	return 1;
}

static void nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Connect to px's upstream in the background: 0, or -1 (warned) and the client is to go. */
static int start_connect(struct conn *c, int64_t now)
{
	struct proxy *px = c->px;
	int fd = socket(px->up.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd >= 0 && (!connect(fd, (struct sockaddr *)&px->up, px->uplen) || errno == EINPROGRESS)) {
		nodelay(fd);
		c->ufd = fd;
		c->state = CONN_CONNECTING;
		c->deadline = now + CONNECT_MS;
		return 0;
	}
	if (may_warn(px, now))
		warning("proxy %s: cannot connect to %s: %s", px->name, px->upstream, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static void add_conn(struct chaos_proxies *p, struct proxy *px, int fd, int64_t now)
{
	struct conn *c;

	if (px->tox.on & (1u << RESET)) {
		struct linger lg = { 1, 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		return;
	}
	if (p->nconns >= p->max_conns) {
		if (may_warn(px, now))
			warning("proxy %s: at proxy.max-connections (%zu): new connections are closed",
				px->name, p->max_conns);
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->px = px;
	c->cfd = fd;
	c->ufd = -1;
	c->up.buf = xmalloc(RING);
	c->down.buf = xmalloc(RING);
	nodelay(fd);
	if (px->tox.on & (1u << TIMEOUT))
		c->state = CONN_HELD;
	else if (start_connect(c, now) < 0) {
		conn_free(c, 0);
		return;
	}
	p->conns[p->nconns++] = c;
}

/* ---- HTTP framing of the client's requests, for errors ---- */

static const char *reason(int status)
{
	switch (status) {
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	case 508: return "Loop Detected";
	case 511: return "Network Authentication Required";
	}
	return "Server Error";
}

/* A header line's value when its name is name (case aside), else NULL. */
static const char *header_value(const char *line, const char *name)
{
	size_t n = strlen(name);

	if (strncasecmp(line, name, n) || line[n] != ':')
		return NULL;
	line += n + 1;
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

/* The head in c->head is whole: where its body ends, or opaque from here on. */
static void head_done(struct conn *c)
{
	char *line, *eol, *end = c->head + c->headlen - 4;
	long long length = 0;
	int first = 1;

	*end = '\0';
	c->http = HTTP_START;
	for (line = c->head; line < end; line = eol + 2, first = 0) {
		const char *v;

		eol = strstr(line, "\r\n");
		if (!eol)
			eol = end;
		*eol = '\0';
		if (first) {
			/* METHOD SP target SP HTTP/1.x, and not a tunnel. */
			const char *sp = strchr(line, ' ');
			if (!sp || !strstr(sp, " HTTP/1.") || starts_with(line, "CONNECT "))
				c->http = HTTP_OPAQUE;
		} else if (header_value(line, "transfer-encoding") || header_value(line, "upgrade")) {
			c->http = HTTP_OPAQUE;
		} else if ((v = header_value(line, "content-length"))) {
			long long n;
			if (parse_ll(v, &n) < 0 || n < 0 || (length && n != length))
				c->http = HTTP_OPAQUE;
			else
				length = n;
		}
		if (c->http == HTTP_OPAQUE || eol == end)
			break;
	}
	if (c->http != HTTP_OPAQUE && length) {
		c->http = HTTP_BODY;
		c->body_left = (uint64_t)length;
	}
}

/*
 * Follow the client's requests through n bytes just read: the offset at
 * which a request starts that the errors toxic answers, or -1.
 */
static long follow_requests(struct chaos_proxies *p, struct conn *c, const char *buf, size_t n)
{
	const struct toxics *t = &c->px->tox;
	size_t i = 0;

	while (i < n && c->http != HTTP_OPAQUE) {
		switch (c->http) {
		case HTTP_START:
			if ((t->on & (1u << ERRORS)) && draw(p) < t->v[ERRORS][0])
				return (long)i;
			c->http = HTTP_HEAD;
			c->headlen = 0;
			break;
		case HTTP_HEAD:
			while (i < n && c->http == HTTP_HEAD) {
				if (c->headlen == HEAD_MAX) {
					c->http = HTTP_OPAQUE;
					break;
				}
				c->head[c->headlen++] = buf[i++];
				if (c->headlen >= 4 && !memcmp(c->head + c->headlen - 4, "\r\n\r\n", 4))
					head_done(c);
			}
			break;
		case HTTP_BODY: {
			size_t k = n - i < c->body_left ? n - i : (size_t)c->body_left;
			i += k;
			c->body_left -= k;
			if (!c->body_left)
				c->http = HTTP_START;
			break;
		}
		case HTTP_OPAQUE:
			break;
		}
	}
	return -1;
}

/* Answer the client ourselves: the upstream goes, what it sent first still reaches the client. */
static void start_answer(struct conn *c)
{
	int status = (int)c->px->tox.v[ERRORS][1];
	char body[96];
	int blen = snprintf(body, sizeof(body), "sre chaos proxy: %d %s (the errors toxic)\n",
			    status, reason(status));
	int n = snprintf(c->answer, sizeof(c->answer),
			 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
			 "Connection: close\r\n\r\n%s", status, reason(status), blen, body);

	c->answer_len = n > 0 && (size_t)n < sizeof(c->answer) ? (size_t)n : 0;
	c->answer_off = 0;
	if (c->ufd >= 0)
		close(c->ufd);
	c->ufd = -1;
	c->uhup = 0;
	c->state = CONN_ANSWER;
	c->up.wr = c->up.rd;
	c->up.mnr = 0;
	c->up.ready = c->up.rd;
	c->down.eof = 0;
}

/* ---- moving bytes ---- */

static int64_t chunk_delay(struct chaos_proxies *p, const struct toxics *t)
{
	double lat, jit;

	if (!(t->on & (1u << LATENCY)))
		return 0;
	lat = t->v[LATENCY][0];
	jit = t->v[LATENCY][1];
	return (int64_t)llround(lat + (jit ? (draw(p) * 2 - 1) * jit : 0));
}

static void push_mark(struct dir *d, int64_t at)
{
	unsigned i = (d->mhead + d->mnr) % MARKS;

	d->mark[i].end = d->rd;
	d->mark[i].at = at;
	d->mnr++;
}

/* Can d take more from its source? */
static int dir_can_read(const struct dir *d)
{
	return !d->eof && d->rd - d->wr < RING && d->mnr < MARKS;
}

/*
 * Read what fd has into d (downstream: the answers, which latency holds):
 * 0, or -1 when the connection is to go (errno says why).
 */
static int dir_read(struct chaos_proxies *p, struct conn *c, struct dir *d, int fd,
		    int downstream, int64_t now)
{
	size_t idx = d->rd % RING, room = RING - (size_t)(d->rd - d->wr);
	size_t n = room < RING - idx ? room : RING - idx;
	ssize_t r;

	if (!dir_can_read(d))
		return 0;
	if (downstream && c->state == CONN_ANSWER) {
		size_t left = c->answer_len - c->answer_off;
		r = (ssize_t)(left < n ? left : n);
		memcpy(d->buf + idx, c->answer + c->answer_off, (size_t)r);
		c->answer_off += (size_t)r;
		if (c->answer_off == c->answer_len)
			d->eof = 1;
	} else {
		r = recv(fd, d->buf + idx, n, 0);
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
		if (!r) {
			d->eof = 1;
			return 0;
		}
	}
	if (!downstream && c->state == CONN_ANSWER) {
		/* The client's request to an answered connection goes nowhere. */
		d->rd = d->wr = d->ready = d->rd + (uint64_t)r;
		return 0;
	}
	if (!downstream && c->http != HTTP_OPAQUE) {
		long at = follow_requests(p, c, d->buf + idx, (size_t)r);
		if (at >= 0) {
			/* What came before it was the last request's, answered already. */
			start_answer(c);
			d->rd = d->wr = d->ready = d->rd + (uint64_t)r;
			return 0;
		}
	}
	d->rd += (uint64_t)r;
	push_mark(d, downstream ? now + chunk_delay(p, &c->px->tox) : now);
	return 0;
}

/* Release the chunks whose time has come; how many bytes may go now. */
static uint64_t dir_ready(struct dir *d, int64_t now)
{
	while (d->mnr && d->mark[d->mhead].at <= now) {
		d->ready = d->mark[d->mhead].end;
		d->mhead = (d->mhead + 1) % MARKS;
		d->mnr--;
	}
	return d->ready - d->wr;
}

/* Bytes per millisecond of px's bandwidth toxic, 0 without one. */
static double rate_per_ms(const struct proxy *px)
{
	return px->tox.on & (1u << BANDWIDTH) ? px->tox.v[BANDWIDTH][0] * 125.0 / 1000.0 : 0;
}

/* A token bucket holding 20 ms of the rate (at least a kilobyte): smooth, yet not a syscall a byte. */
static double burst_of(double rate)
{
	return rate * 20 > 1024 ? rate * 20 : 1024;
}

static void refill(struct dir *d, double rate, int64_t now)
{
	if (!d->tokens_at)
		d->tokens_at = now;
	d->tokens += (double)(now - d->tokens_at) * rate;
	d->tokens_at = now;
	if (d->tokens > burst_of(rate))
		d->tokens = burst_of(rate);
}

/* Write what may go of d to fd: 0, or -1 when the connection is to go. */
static int dir_write(struct conn *c, struct dir *d, int fd, int downstream, int64_t now)
{
	uint64_t avail = dir_ready(d, now);
	double rate = downstream ? rate_per_ms(c->px) : 0;
	size_t idx = d->wr % RING, n;
	ssize_t r;

	if (rate) {
		refill(d, rate, now);
		if (avail > (uint64_t)d->tokens)
			avail = (uint64_t)d->tokens;
	}
	n = avail < RING - idx ? (size_t)avail : RING - idx;
	if (n) {
		r = send(fd, d->buf + idx, n, MSG_NOSIGNAL);
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
		d->wr += (uint64_t)r;
		if (rate)
			d->tokens -= (double)r;
	}
	if (d->eof && d->wr == d->rd && !d->shut) {
		shutdown(fd, SHUT_WR);
		d->shut = 1;
	}
	return 0;
}

/*
 * When d next has something to write, if not now: the release of its next
 * chunk (latency) or enough tokens for 5 ms of the rate (bandwidth). 0:
 * nothing to wait for but poll.
 */
static int64_t dir_wake(const struct conn *c, struct dir *d, int downstream, int64_t now)
{
	uint64_t avail = dir_ready(d, now);
	double rate = downstream ? rate_per_ms(c->px) : 0;

	if (avail && rate) {
		double q = rate * 5 > 1 ? rate * 5 : 1;

		if ((double)avail < q)
			q = (double)avail;
		refill(d, rate, now);
		return d->tokens >= q ? 0 : now + 1 + (int64_t)((q - d->tokens) / rate);
	}
	if (!avail && d->mnr)
		return d->mark[d->mhead].at;
	return 0;
}

static int held(const struct conn *c)
{
	return c->state == CONN_HELD ||
	       (c->state == CONN_OPEN && (c->px->tox.on & (1u << TIMEOUT)));
}

/* One connection after poll: move its bytes; 0, or -1 when it is to go. */
static int conn_step(struct chaos_proxies *p, struct conn *c, const struct pollfd *pfd, int64_t now)
{
	short crev = c->cpoll >= 0 ? pfd[c->cpoll].revents : 0;
	short urev = c->upoll >= 0 ? pfd[c->upoll].revents : 0;

	if (crev & POLLERR)
		return -1;
	if (held(c))
		return crev & (POLLRDHUP | POLLHUP) ? -1 : (urev & POLLERR ? -1 : 0);
	if (c->state == CONN_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (!(urev & (POLLOUT | POLLERR | POLLHUP)))
			return now >= c->deadline ? (errno = ETIMEDOUT, -2) : 0;
		if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
			errno = err ? err : errno;
			return -2;
		}
		c->state = CONN_OPEN;
		c->deadline = 0;
		return 0;
	}
	if (urev & POLLERR)
		return -1;
	if (crev & POLLHUP)
		c->chup = 1;
	if (urev & POLLHUP)
		c->uhup = 1;

	if ((crev & (POLLIN | POLLRDHUP)) || c->chup)
		if (dir_read(p, c, &c->up, c->cfd, 0, now) < 0)
			return -1;
	if (c->state == CONN_ANSWER)
		dir_read(p, c, &c->down, -1, 1, now);
	else if (((urev & (POLLIN | POLLRDHUP)) || c->uhup) && dir_read(p, c, &c->down, c->ufd, 1, now) < 0)
		return -1;
	/* Writes are tried each time: a chunk's time or the bandwidth's tokens may have come. */
	if (c->ufd >= 0 && dir_write(c, &c->up, c->ufd, 0, now) < 0)
		return -1;
	if (dir_write(c, &c->down, c->cfd, 1, now) < 0)
		return -1;

	if (c->state == CONN_ANSWER) {
		if (c->down.shut && !c->deadline)
			c->deadline = now + LINGER_MS;
		return c->down.shut && (c->up.eof || now >= c->deadline) ? -1 : 0;
	}
	return c->up.shut && c->down.shut ? -1 : 0;
}

/* ---- the toxics, reloaded ---- */

static struct proxy *proxy_named(struct chaos_proxies *p, const char *name)
{
	for (size_t i = 0; i < p->nr; i++)
		if (!strcmp(p->px[i].name, name))
			return &p->px[i];
	return NULL;
}

/* A toxic the store holds that is no toxic of ours: said once per text. */
static void warn_bad(struct proxy *px, int kind, const char *toxic, const char *text,
		     const char *why)
{
	struct strbuf name = STRBUF_INIT;
	int k = kind < 0 ? NR_TOXICS : kind;

	if (px->bad[k] && !strcmp(px->bad[k], text))
		return;
	free(px->bad[k]);
	px->bad[k] = xstrdup(text);
	add_name(&name, toxic);
	warning("proxy %s: toxic %s in the store is ignored: %s", px->name, name.buf, why);
	strbuf_release(&name);
}

/* Put the toxics nt (taken over) in place on px, saying each change; the connections follow. */
static void apply(struct chaos_proxies *p, struct proxy *px, struct toxics *nt, int64_t now)
{
	struct toxics *old = &px->tox;
	unsigned changed = 0;

	for (int k = 0; k < NR_TOXICS; k++) {
		int was = !!(old->on & (1u << k)), is = !!(nt->on & (1u << k));

		if (is && (!was || strcmp(old->text[k], nt->text[k]))) {
			fprintf(stderr, "proxy %s: toxic %s set: %s\n", px->name, toxic_names[k], nt->text[k]);
			changed |= 1u << k;
		} else if (was && !is) {
			fprintf(stderr, "proxy %s: toxic %s cleared\n", px->name, toxic_names[k]);
			changed |= 1u << k;
		}
		free(old->text[k]);
	}
	*old = *nt;
	if (!changed)
		return;
	for (size_t i = 0; i < p->nconns; i++) {
		struct conn *c = p->conns[i];
		int64_t most = now + (old->on & (1u << LATENCY) ?
				      (int64_t)(old->v[LATENCY][0] + old->v[LATENCY][1]) : 0);

		if (c->px != px || c->dead)
			continue;
		if (old->on & (1u << RESET)) {
			c->dead = 2;
			continue;
		}
		if (c->state == CONN_HELD && !(old->on & (1u << TIMEOUT)) && start_connect(c, now) < 0)
			c->dead = 1;
		/* Latency gone or shortened: nothing waits longer than it now says. */
		for (unsigned m = 0; m < c->down.mnr; m++) {
			unsigned j = (c->down.mhead + m) % MARKS;
			if (c->down.mark[j].at > most)
				c->down.mark[j].at = most;
		}
		if (changed & (1u << BANDWIDTH)) {
			c->down.tokens_at = 0;
			c->down.tokens = 0;
		}
	}
}

/* The values toxic kind takes effect with, defaults too, as logged: {"latency_ms":200,"jitter_ms":0}. */
static char *effective_text(int kind, const struct toxics *t)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addch(&sb, '{');
	for (int i = 0; i < 3 && toxic_params[kind][i].key; i++)
		strbuf_addf(&sb, "%s\"%s\":%.15g", i ? "," : "", toxic_params[kind][i].key, t->v[kind][i]);
	strbuf_addch(&sb, '}');
	return strbuf_detach(&sb, NULL);
}

/* Read the table: 0, or -1 when the store failed (the toxics in place stay). */
/*
 * A toxic whose fault's duration has passed: its injector died before it
 * could undo it, so the proxy stops applying it by itself; the next sre
 * chaos command takes the row away.
 */
static int expired(const cJSON *row)
{
	const char *at = cJSON_GetStringValue(cJSON_GetObjectItem(row, "expires_at"));
	time_t t;

	return at && !parse_iso8601(at, &t) && t <= sre_now();
}

static int reload(struct chaos_proxies *p, struct store *st, int64_t now)
{
	cJSON *list = chaos_toxic_list(st, NULL);
	struct toxics *nt;
	const cJSON *row;

	if (!list)
		return -1;
	nt = xcalloc(p->nr, sizeof(*nt));
	cJSON_ArrayForEach(row, list) {
		const char *proxy = cJSON_GetStringValue(cJSON_GetObjectItem(row, "proxy"));
		const char *toxic = cJSON_GetStringValue(cJSON_GetObjectItem(row, "toxic"));
		const cJSON *params = cJSON_GetObjectItem(row, "params");
		struct proxy *px = proxy ? proxy_named(p, proxy) : NULL;
		struct strbuf why = STRBUF_INIT;
		int kind;
		char *text;

		if (!px || !toxic || expired(row))
			continue;
		kind = toxic_kind(toxic);
		text = cJSON_PrintUnformatted(params);
		if (!text || strlen(text) > PARAMS_MAX)
			warn_bad(px, kind, toxic, text ? "(long)" : "", "its parameters are too long");
		else if (kind < 0 || toxic_parse(kind, params, &nt[px - p->px], &why) < 0)
			warn_bad(px, kind, toxic, text, kind < 0 ? "no such toxic" : why.buf);
		else
			nt[px - p->px].text[kind] = effective_text(kind, &nt[px - p->px]);
		cJSON_free(text);
		strbuf_release(&why);
	}
	cJSON_Delete(list);
	for (size_t i = 0; i < p->nr; i++)
		apply(p, &p->px[i], &nt[i], now);
	free(nt);
	return 0;
}

/* ---- the loop ---- */

static void accept_all(struct chaos_proxies *p, struct proxy *px, int64_t now)
{
	/* A few at a time: one busy proxy does not starve the others. */
	for (int i = 0; i < 16; i++) {
		int fd = accept4(px->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED && may_warn(px, now))
				warning("proxy %s: accept: %s", px->name, strerror(errno));
			return;
		}
		add_conn(p, px, fd, now);
	}
}

static short client_events(const struct conn *c)
{
	short ev = 0;

	if (held(c))
		return POLLRDHUP;
	if (c->state == CONN_CONNECTING || c->chup)
		return 0;
	if (dir_can_read(&c->up))
		ev |= POLLIN;
	/* Not while the bandwidth has no token to spend: poll would say "writable" at once, forever. */
	if (!c->down.shut && c->down.ready > c->down.wr &&
	    (!rate_per_ms(c->px) || c->down.tokens >= 1))
		ev |= POLLOUT;
	return ev;
}

static short upstream_events(const struct conn *c)
{
	short ev = 0;

	if (c->state == CONN_CONNECTING)
		return POLLOUT;
	if (held(c) || c->uhup)
		return 0;
	if (dir_can_read(&c->down))
		ev |= POLLIN;
	if (!c->up.shut && c->up.ready > c->up.wr)
		ev |= POLLOUT;
	return ev;
}

int chaos_proxy_serve(struct chaos_proxies *p, struct store *st, volatile sig_atomic_t *stop)
{
	struct pollfd *pfd = xcalloc(p->nr + 2 * p->max_conns, sizeof(*pfd));
	int64_t next_reload = 0, failing = 0;

	while (!*stop) {
		int64_t now = now_ms(), wake;
		size_t n = 0;
		int timeout;

		if (now >= next_reload) {
			if (reload(p, st, now) < 0) {
				if (!failing)
					warning("sre chaos proxy: cannot read the toxics; "
						"those in place stay, trying again every %d s",
						RELOAD_FAILED_MS / 1000);
				failing = 1;
				next_reload = now + RELOAD_FAILED_MS;
			} else {
				failing = 0;
				next_reload = now + RELOAD_MS;
			}
		}
		wake = next_reload;
		for (size_t i = 0; i < p->nr; i++) {
			pfd[n].fd = p->px[i].lfd;
			pfd[n++].events = POLLIN;
		}
		for (size_t i = 0; i < p->nconns; i++) {
			struct conn *c = p->conns[i];
			int64_t w;

			c->cpoll = c->upoll = -1;
			if (c->dead)
				continue;
			if (c->deadline && c->deadline < wake)
				wake = c->deadline;
			if (!held(c) && c->state != CONN_CONNECTING) {
				if ((w = dir_wake(c, &c->down, 1, now)) && w < wake)
					wake = w;
				if ((c->chup && dir_can_read(&c->up)) || (c->uhup && dir_can_read(&c->down)))
					wake = now;
			}
			/* A hung-up socket is read without asking poll, which would say HUP forever. */
			if (!c->chup || held(c)) {
				c->cpoll = (int)n;
				pfd[n].fd = c->cfd;
				pfd[n++].events = client_events(c);
			}
			if (c->ufd >= 0 && !c->uhup) {
				c->upoll = (int)n;
				pfd[n].fd = c->ufd;
				pfd[n++].events = upstream_events(c);
			}
		}
		timeout = wake <= now ? 0 : (int)(wake - now);
		if (poll(pfd, n, timeout) < 0 && errno != EINTR) {
			error_errno("sre chaos proxy: poll");
			break;
		}
		now = now_ms();
		for (size_t i = 0; i < p->nconns; i++) {
			struct conn *c = p->conns[i];
			int r;

			if (c->dead)
				continue;
			errno = 0;
			r = conn_step(p, c, pfd, now);
			if (r == -2) {
				if (may_warn(c->px, now))
					warning("proxy %s: cannot connect to %s: %s", c->px->name,
						c->px->upstream, strerror(errno));
				c->dead = 1;
			} else if (r < 0) {
				/* A reset from the upstream is passed on as one. */
				c->dead = c->ufd >= 0 && errno == ECONNRESET ? 2 : 1;
			}
		}
		for (size_t i = 0; i < p->nconns;) {
			struct conn *c = p->conns[i];

			if (c->dead) {
				conn_free(c, c->dead == 2);
				p->conns[i] = p->conns[--p->nconns];
			} else {
				i++;
			}
		}
		for (size_t i = 0; i < p->nr; i++)
			if (pfd[i].revents & POLLIN)
				accept_all(p, &p->px[i], now);
	}
	free(pfd);
	return 0;
}

int chaos_proxy_run(const struct config *cfg, struct store *st, const struct strvec *names,
		    volatile sig_atomic_t *stop)
{
	struct chaos_proxies *p;
	int r;

	if (chaos_proxy_open(&p, cfg, names) < 0)
		return -1;
	r = chaos_proxy_serve(p, st, stop);
	chaos_proxy_free(p);
	return r;
}
