/*
 * http.c: requests over libcurl's multi interface, with retries, a body
 * cap, TLS always verified, and tracing with secrets redacted; see http.h.
 *
 * One code path: http_do() is http_do_many() with one request. Each
 * transfer carries its own attempt count and the time it may be retried;
 * the loop runs what is due, polls, and sleeps until the next is due.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <cJSON.h>
#include <curl/curl.h>
#include <sys/random.h>
#include <time.h>

#include "http.h"
#include "progress.h"
#include "redact.h"
#include "timeutil.h"

#ifndef SRE_VERSION
#define SRE_VERSION "unknown"
#endif

int http_client_init(struct http_client *c, const struct config *cfg)
{
	static int curl_ready;
	long long n;
	int r;

	memset(c, 0, sizeof(*c));
	strvec_init(&c->secrets);
	c->connect_timeout_ms = 10000;
	c->timeout_ms = 30000;
	c->retries = 3;
	c->retry_base_ms = 500;
	c->max_retry_wait_ms = 60000;
	c->max_body = 32 << 20;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			return error("cannot initialise libcurl");
		curl_ready = 1;
	}
	if (cfg) {
		if (config_get_duration_ms(cfg, "http.connect-timeout", &c->connect_timeout_ms) < 0 ||
		    config_get_duration_ms(cfg, "http.timeout", &c->timeout_ms) < 0 ||
		    config_get_duration_ms(cfg, "http.retry-base", &c->retry_base_ms) < 0 ||
		    config_get_duration_ms(cfg, "http.max-retry-wait", &c->max_retry_wait_ms) < 0)
			return -1;
		r = config_get_int(cfg, "http.retries", &n);
		if (r < 0)
			return -1;
		if (!r) {
			if (n < 0 || n > 20)
				return error("http.retries is %lld; it takes 0 to 20", n);
			c->retries = (int)n;
		}
		r = config_get_int(cfg, "http.max-body", &n);
		if (r < 0)
			return -1;
		if (!r) {
			if (n <= 0)
				return error("http.max-body must be more than 0");
			c->max_body = (size_t)n;
		}
		if (config_get_path(cfg, "http.ca-info", &c->ca_info) < 0)
			return -1;
	}
	{
		const char *t = getenv("SRE_TRACE");
		c->trace = t && *t && strcmp(t, "0");
	}
	return 0;
}

void http_client_release(struct http_client *c)
{
	free(c->ca_info);
	c->ca_info = NULL;
	/* Secrets are wiped before they are freed. */
	for (size_t i = 0; i < c->secrets.nr; i++)
		memset((char *)c->secrets.v[i], 0, strlen(c->secrets.v[i]));
	strvec_clear(&c->secrets);
}

void http_client_add_secret(struct http_client *c, const char *secret)
{
	/* A very short "secret" would redact ordinary words; nothing real is. */
	if (secret && strlen(secret) >= 4)
		strvec_push(&c->secrets, secret);
	redact_add_secret(secret); /* and from everything that leaves the host */
}

void http_redact(const struct http_client *c, struct strbuf *sb)
{
	for (size_t i = 0; i < c->secrets.nr; i++) {
		const char *s = c->secrets.v[i];
		size_t n = strlen(s);
		char *at;

		while ((at = strstr(sb->buf, s))) {
			struct strbuf out = STRBUF_INIT;
			strbuf_add(&out, sb->buf, (size_t)(at - sb->buf));
			strbuf_addstr(&out, "<redacted>");
			strbuf_addstr(&out, at + n);
			strbuf_release(sb);
			*sb = out;
		}
	}
}

void http_request_release(struct http_request *req)
{
	strvec_clear(&req->headers);
}

void http_response_release(struct http_response *res)
{
	strbuf_release(&res->body);
	strvec_clear(&res->headers);
	strbuf_release(&res->error);
	res->status = 0;
}

const char *http_header(const struct http_response *res, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = res->headers.nr; i-- > 0;) {
		const char *h = res->headers.v[i];
		if (!strncasecmp(h, name, n) && h[n] == ':')
			return h + n + 1 + (h[n + 1] == ' ');
	}
	return NULL;
}

void http_urlencode(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || strchr("-._~", ch))
			strbuf_addch(sb, ch);
		else
			strbuf_addf(sb, "%%%02X", ch);
	}
}

/* ---- one transfer ---- */

struct transfer {
	const struct http_request *req;
	struct http_response *res;
	CURL *easy;
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];
	int over_cap;
	int done;
	int64_t due_ms;     /* when the next attempt may start */
	int64_t started_ms;
	size_t max_body;
	int progress;       /* its handle in progress.h's registry, or -1 */
	int given;          /* some body went to req->on_data: no retry */
	int stopped;        /* req->on_data said stop */
};

int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define now_ms monotonic_ms

/* A request's total timeout: its own or the client's, cut at the deadline. */
static int64_t request_timeout_ms(const struct http_client *c, const struct http_request *req)
{
	int64_t ms = req->timeout_ms > 0 ? req->timeout_ms : c->timeout_ms;

	if (c->deadline_ms) {
		int64_t left = c->deadline_ms - now_ms();
		if (left < ms)
			ms = left > 1 ? left : 1;
	}
	return ms;
}

/*
 * With CURLOPT_ACCEPT_ENCODING, libcurl hands this the body already
 * decoded, so the cap counts inflated bytes: a gzip bomb stops at
 * http.max-body as it inflates, with no more than that held (t8030).
 */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb;

	if (t->res->body.len + n > t->max_body) {
		t->over_cap = 1;
		return 0; /* CURLE_WRITE_ERROR: stop reading */
	}
	strbuf_add(&t->res->body, data, n);
	if (t->req->on_data && n) {
		long status = 0;
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status / 100 == 2) {
			t->res->status = status;
			t->given = 1;
			if (t->req->on_data(t->req->on_data_arg, t->res, data, n) < 0) {
				t->stopped = 1;
				return 0; /* CURLE_WRITE_ERROR */
			}
		}
	}
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb, len = n;
	const char *colon;

	/* A new status line (after a 100 Continue) starts a new header set. */
	if (n >= 5 && !strncmp(data, "HTTP/", 5)) {
		strvec_clear(&t->res->headers);
		return n;
	}
	while (len && (data[len - 1] == '\r' || data[len - 1] == '\n'))
		len--;
	colon = memchr(data, ':', len);
	if (colon && colon > data && t->res->headers.nr < 200) {
		struct strbuf h = STRBUF_INIT;
		const char *v = colon + 1;
		for (const char *p = data; p < colon; p++)
			strbuf_addch(&h, tolower((unsigned char)*p));
		while (v < data + len && (*v == ' ' || *v == '\t'))
			v++;
		strbuf_addstr(&h, ": ");
		strbuf_add(&h, v, (size_t)(data + len - v));
		strvec_push(&t->res->headers, h.buf);
		strbuf_release(&h);
	}
	return n;
}

static void trace_request(struct http_client *c, const struct transfer *t)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "sre: http: %s %s (attempt %d)\n", t->req->method, t->req->url,
		    t->res->attempts);
	for (size_t i = 0; i < t->req->headers.nr; i++) {
		const char *h = t->req->headers.v[i];
		if (!strncasecmp(h, "authorization:", 14))
			strbuf_addstr(&sb, "sre: http:   authorization: <redacted>\n");
		else
			strbuf_addf(&sb, "sre: http:   %s\n", h);
	}
	if (t->req->userpwd)
		strbuf_addstr(&sb, "sre: http:   authorization: Basic <redacted>\n");
	http_redact(c, &sb);
	fputs(sb.buf, stderr);
	strbuf_release(&sb);
}

static int setup(struct http_client *c, struct transfer *t)
{
	CURL *e = curl_easy_init();
	const struct http_request *req = t->req;

	if (!e)
		return -1;
	t->easy = e;
	t->over_cap = 0;
	t->errbuf[0] = '\0';
	t->hdrs = NULL;
	strbuf_reset(&t->res->body);
	strvec_clear(&t->res->headers);
	for (size_t i = 0; i < req->headers.nr; i++)
		t->hdrs = curl_slist_append(t->hdrs, req->headers.v[i]);
	/* No "Expect: 100-continue" round trip for JSON bodies. */
	t->hdrs = curl_slist_append(t->hdrs, "Expect:");
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	if (req->unix_socket)
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, req->unix_socket);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->hdrs);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "sre/" SRE_VERSION);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->ca_pem) {
		struct curl_blob ca = { (void *)req->ca_pem, strlen(req->ca_pem), CURL_BLOB_COPY };
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca);
		curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	} else if (c->ca_info) {
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_info);
	}
	if (req->client_cert_pem) {
		struct curl_blob cert = { (void *)req->client_cert_pem,
					  strlen(req->client_cert_pem), CURL_BLOB_COPY };
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cert);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (req->client_key_pem) {
		struct curl_blob key = { (void *)req->client_key_pem,
					 strlen(req->client_key_pem), CURL_BLOB_COPY };
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &key);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)request_timeout_ms(c, req));
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	if (req->userpwd) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERPWD, req->userpwd);
	}
	if (req->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
	}
	if (strcmp(req->method, "GET") && !(req->body && !strcmp(req->method, "POST")))
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	if (!strcmp(req->method, "POST") && !req->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
	}
	t->res->attempts++;
	t->started_ms = now_ms();
	progress_update(t->progress, t->res->attempts, c->retries + 1,
			t->started_ms + request_timeout_ms(c, req));
	if (c->trace)
		trace_request(c, t);
	return 0;
}

static void cleanup(struct transfer *t)
{
	if (t->easy)
		curl_easy_cleanup(t->easy);
	t->easy = NULL;
	curl_slist_free_all(t->hdrs);
	t->hdrs = NULL;
}

/* A connection failure before anything was sent can be retried safely. */
static int transient_code(CURLcode rc, int *before_send)
{
	*before_send = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
		       rc == CURLE_COULDNT_RESOLVE_PROXY;
	return *before_send || rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SEND_ERROR ||
	       rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE;
}

/* A wait of so many seconds, capped at HTTP_WAIT_LIMIT_S, in ms. */
static int64_t capped_wait_ms(long long seconds)
{
	if (seconds < 0)
		return 0;
	return (seconds > HTTP_WAIT_LIMIT_S ? HTTP_WAIT_LIMIT_S : seconds) * 1000;
}

int http_parse_retry_after(int64_t *out_ms, const char *value, time_t now)
{
	long long seconds = 0;
	time_t when;
	const char *p;

	if (!value)
		return -1;
	/* delta-seconds is 1*DIGIT: no sign, no space; any length, capped. */
	for (p = value; *p >= '0' && *p <= '9'; p++)
		if (seconds <= HTTP_WAIT_LIMIT_S)
			seconds = seconds * 10 + (*p - '0');
	if (p > value && !*p) {
		*out_ms = capped_wait_ms(seconds);
		return 0;
	}
	if (*value == '-' || *value == '+')
		return -1; /* not a number curl_getdate() should guess at */
	when = curl_getdate(value, NULL);
	if (when <= 0)
		return -1;
	/* A date in the past means now; one centuries ahead, the cap. */
	*out_ms = when <= now ? 0 : capped_wait_ms((long long)(when - now));
	return 0;
}

/* How long the server asked us to wait, in ms, or -1 when it did not say. */
static int64_t server_wait_ms(const struct http_response *res)
{
	const char *remaining = http_header(res, "x-ratelimit-remaining");
	const char *reset = http_header(res, "x-ratelimit-reset");
	time_t now = time(NULL);
	int64_t ms;
	long long v;

	if (!http_parse_retry_after(&ms, http_header(res, "retry-after"), now))
		return ms;
	/* GitHub's reset is a Unix time; a nonsense one must not overflow. */
	if (remaining && reset && !strcmp(remaining, "0") && !parse_ll(reset, &v)) {
		if (v <= (long long)now)
			return 0;
		return capped_wait_ms(v > (long long)now + HTTP_WAIT_LIMIT_S ? HTTP_WAIT_LIMIT_S
									: v - (long long)now);
	}
	return -1;
}

static int64_t backoff_ms(const struct http_client *c, int attempt)
{
	int64_t cap = c->retry_base_ms << (attempt < 16 ? attempt : 16);
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)now_ms();
	/* Equal jitter: at least half the step, so retries never bunch at 0. */
	return cap / 2 + (cap > 1 ? (int64_t)(r % (uint64_t)(cap / 2 + 1)) : 0);
}

/*
 * Decide what a finished attempt means: done (response or final failure)
 * or another try after due_ms.
 */
static void finish(struct http_client *c, struct transfer *t, CURLcode rc)
{
	struct http_response *res = t->res;
	int retry = 0, before_send = 0, attempt = res->attempts;
	int64_t wait = -1;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &res->status);
	res->elapsed_ms = now_ms() - t->started_ms;
	if (c->trace) {
		struct strbuf sb = STRBUF_INIT;
		if (rc == CURLE_OK)
			strbuf_addf(&sb, "sre: http: <- %ld (%lld ms, %zu bytes)\n", res->status,
				    (long long)(now_ms() - t->started_ms), res->body.len);
		else
			strbuf_addf(&sb, "sre: http: <- failed: %s\n",
				    t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
		http_redact(c, &sb);
		fputs(sb.buf, stderr);
		strbuf_release(&sb);
	}
	strbuf_reset(&res->error);
	if (rc != CURLE_OK) {
		res->status = 0;
		if (t->over_cap) {
			res->outcome = HTTP_FAILED;
			strbuf_addf(&res->error, "the response from %s is larger than http.max-body (%zu bytes)",
				    t->req->url, t->max_body);
		} else if (t->stopped) {
			res->outcome = HTTP_FAILED;
			strbuf_addstr(&res->error, "stopped by its reader");
		} else if (transient_code(rc, &before_send)) {
			res->outcome = HTTP_TRANSIENT;
			strbuf_addstr(&res->error, t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
			/* What its reader was given cannot be taken back. */
			retry = !t->given && (before_send || !t->req->no_retry);
		} else {
			res->outcome = HTTP_FAILED;
			strbuf_addstr(&res->error, t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
		}
	} else {
		const char *remaining = http_header(res, "x-ratelimit-remaining");
		/* GitHub's primary (remaining 0) and secondary (Retry-After)
		 * rate limits come as 403. */
		int limited = res->status == 429 ||
			      (res->status == 403 && ((remaining && !strcmp(remaining, "0")) ||
						      http_header(res, "retry-after")));

		res->outcome = HTTP_OK;
		if (limited || res->status >= 500) {
			/* A 429 was refused unprocessed: safe to repeat any request. */
			retry = limited || !t->req->no_retry;
			wait = server_wait_ms(res);
			if (!retry || attempt > c->retries) {
				res->outcome = HTTP_TRANSIENT;
				strbuf_addf(&res->error, "HTTP %ld from %s after %d attempt%s",
					    res->status, t->req->url, attempt, attempt > 1 ? "s" : "");
			}
		}
	}
	if (retry && attempt <= c->retries) {
		if (wait < 0)
			wait = backoff_ms(c, attempt - 1);
		if (wait > c->max_retry_wait_ms) {
			res->outcome = HTTP_TRANSIENT;
			strbuf_reset(&res->error);
			if (wait >= HTTP_WAIT_LIMIT_S * 1000)
				strbuf_addf(&res->error, "%s asks to wait a day or more, longer than "
					    "http.max-retry-wait", t->req->url);
			else
				strbuf_addf(&res->error, "%s asks to wait %llds, longer than "
					    "http.max-retry-wait", t->req->url, (long long)(wait / 1000));
		} else if (c->deadline_ms && now_ms() + wait >= c->deadline_ms) {
			/* No time left for another attempt: report this one. */
			if (res->outcome == HTTP_OK) {
				res->outcome = HTTP_TRANSIENT;
				strbuf_addf(&res->error, "HTTP %ld from %s after %d attempt%s",
					    res->status, t->req->url, attempt, attempt > 1 ? "s" : "");
			}
		} else {
			t->due_ms = now_ms() + wait;
			if (c->trace)
				fprintf(stderr, "sre: http: retrying in %lld ms\n", (long long)wait);
			cleanup(t);
			return;
		}
	}
	if (res->outcome != HTTP_OK)
		http_redact(c, &res->error);
	t->done = 1;
	progress_end(t->progress);
	t->progress = -1;
	cleanup(t);
}

int http_host_is_loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;
	char *bare = xstrdup(host);
	size_t n = strlen(bare);
	int ret = 0;

	if (n >= 2 && bare[0] == '[' && bare[n - 1] == ']') {
		memmove(bare, bare + 1, n - 2);
		bare[n - 2] = '\0';
	}
	if (!strcasecmp(bare, "localhost"))
		ret = 1;
	else if (inet_pton(AF_INET, bare, &a4) == 1)
		ret = (ntohl(a4.s_addr) >> 24) == 127;
	else if (inet_pton(AF_INET6, bare, &a6) == 1)
		ret = IN6_IS_ADDR_LOOPBACK(&a6) ||
		      (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	free(bare);
	return ret;
}

int http_url_keeps_secrets(const char *url)
{
	const char *host;
	char *h;
	int loopback;

	if (!strncasecmp(url, "https://", 8))
		return 1;
	if (strncasecmp(url, "http://", 7))
		return -1;
	host = url + 7;
	h = xstrndup(host, strcspn(host, "/?#"));
	/* A port after the host (but not inside an IPv6 address's brackets). */
	if (h[0] == '[') {
		char *close = strchr(h, ']');
		if (close)
			close[1] = '\0';
	} else if (strchr(h, ':')) {
		*strchr(h, ':') = '\0';
	}
	loopback = !strchr(h, '@') && http_host_is_loopback(h);
	free(h);
	return loopback;
}

/*
 * A credential (an Authorization header, basic auth, a client key, a
 * URL's userinfo, or a registered secret in the URL itself, as a Slack
 * webhook's path is) goes only over https, or over plain http to this
 * machine (the test fakes, a local proxy) or a UNIX socket. Checked before
 * anything connects: 0, or -1 with res->error saying why.
 */
static int credentials_allowed(const struct http_client *c, const struct http_request *req,
			       struct http_response *res)
{
	int secret = req->userpwd || req->client_key_pem;
	char *scheme = NULL, *host = NULL, *user = NULL;
	CURLU *u;
	int ok;

	for (size_t i = 0; i < req->headers.nr && !secret; i++)
		secret = !strncasecmp(req->headers.v[i], "authorization:", 14);
	for (size_t i = 0; i < c->secrets.nr && !secret; i++)
		secret = !!strstr(req->url, c->secrets.v[i]);
	u = curl_url();
	if (!u || curl_url_set(u, CURLUPART_URL, req->url, 0) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0)) {
		curl_url_cleanup(u);
		return 0; /* curl refuses it too, with its own words */
	}
	if (!curl_url_get(u, CURLUPART_USER, &user, 0) && user)
		secret = 1;
	ok = !secret || req->unix_socket || !strcasecmp(scheme, "https") ||
	     (!strcasecmp(scheme, "http") && http_host_is_loopback(host));
	if (!ok) {
		res->outcome = HTTP_FAILED;
		strbuf_reset(&res->error);
		strbuf_addf(&res->error, "refusing to send a credential to %s://%s without TLS: "
			    "https is required (plain http only to loopback)", scheme, host);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_url_cleanup(u);
	return ok ? 0 : -1;
}

/* Ctrl-C: every transfer not done yet ends as "cancelled", none retried. */
static void cancel_all(CURLM *multi, struct transfer *ts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct transfer *t = &ts[i];
		if (t->done)
			continue;
		if (t->easy)
			curl_multi_remove_handle(multi, t->easy);
		t->res->status = 0;
		t->res->outcome = HTTP_FAILED;
		strbuf_reset(&t->res->error);
		strbuf_addstr(&t->res->error, "cancelled");
		t->done = 1;
		progress_end(t->progress);
		t->progress = -1;
		cleanup(t);
	}
}

int http_do_many(struct http_client *c, const struct http_request *reqs,
		 struct http_response *res, size_t n, size_t parallel)
{
	struct transfer *ts = xcalloc(n ? n : 1, sizeof(*ts));
	CURLM *multi = curl_multi_init();
	size_t running = 0, left = n;
	int failed = 0;

	if (!parallel || parallel > n)
		parallel = n;
	for (size_t i = 0; i < n; i++) {
		ts[i].req = &reqs[i];
		ts[i].res = &res[i];
		ts[i].max_body = c->max_body;
		res[i].attempts = 0;
		res[i].status = 0;
		res[i].outcome = HTTP_OK;
		ts[i].progress = -1;
		if (credentials_allowed(c, &reqs[i], &res[i]) < 0) {
			ts[i].done = 1;
			left--;
		} else {
			ts[i].progress = progress_begin(reqs[i].label ? reqs[i].label : c->label);
		}
	}
	while (left) {
		int64_t now = now_ms(), next_due = -1;
		int still, msgs, timeout;
		CURLMsg *m;

		/* Cancelled before or between attempts: nothing more is started. */
		if (c->cancel && *c->cancel) {
			cancel_all(multi, ts, n);
			break;
		}

		/* Start what is due, up to the parallel limit. */
		for (size_t i = 0; i < n && running < parallel; i++) {
			struct transfer *t = &ts[i];
			if (t->done || t->easy)
				continue;
			if (t->due_ms > now) {
				if (next_due < 0 || t->due_ms < next_due)
					next_due = t->due_ms;
				continue;
			}
			if (setup(c, t) < 0) {
				t->res->outcome = HTTP_FAILED;
				strbuf_addstr(&t->res->error, "cannot create a curl handle");
				t->done = 1;
				left--;
				continue;
			}
			curl_multi_add_handle(multi, t->easy);
			running++;
		}
		curl_multi_perform(multi, &still);
		while ((m = curl_multi_info_read(multi, &msgs))) {
			struct transfer *t = NULL;
			if (m->msg != CURLMSG_DONE)
				continue;
			for (size_t i = 0; i < n; i++)
				if (ts[i].easy == m->easy_handle)
					t = &ts[i];
			if (!t)
				continue;
			curl_multi_remove_handle(multi, t->easy);
			running--;
			finish(c, t, m->data.result);
			if (t->done)
				left--;
		}
		if (!left)
			break;
		if (c->cancel && *c->cancel) {
			cancel_all(multi, ts, n);
			break;
		}
		/* Short polls while a Ctrl-C may come, so that it is not a second late. */
		timeout = c->cancel ? 100 : 1000;
		if (!running && next_due >= 0) {
			/* Nothing in flight: sleep until the next retry is due. */
			int64_t d = next_due - now_ms();
			sleep_ms(c->cancel && d > timeout ? timeout : d);
			continue;
		}
		if (next_due >= 0) {
			int64_t d = next_due - now_ms();
			timeout = d < 0 ? 0 : d < 1000 ? (int)d : 1000;
		}
		curl_multi_poll(multi, NULL, 0, timeout, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		cleanup(&ts[i]);
		progress_end(ts[i].progress);
		if (res[i].outcome != HTTP_OK)
			failed++;
	}
	curl_multi_cleanup(multi);
	free(ts);
	return failed;
}

int http_do(struct http_client *c, const struct http_request *req,
	    struct http_response *res)
{
	return http_do_many(c, req, res, 1, 1) ? -1 : 0;
}

/* ---- a batch of GET requests for JSON ---- */

struct http_request *http_batch_add(struct http_batch *b, char *url)
{
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	size_t alloc = b->alloc;

	ALLOC_GROW(b->req, b->nr + 1, b->alloc);
	if (b->alloc != alloc)
		b->res = xrealloc(b->res, b->alloc * sizeof(*b->res));
	req.method = "GET";
	req.url = url;
	strvec_push(&req.headers, "Accept: application/json");
	b->req[b->nr] = req;
	b->res[b->nr] = res;
	return &b->req[b->nr++];
}

int http_batch_answer(struct http_batch *b, struct http_client *http, size_t parallel,
		      cJSON *(*answer)(const struct http_response *res, struct strbuf *why),
		      struct strbuf *why)
{
	if (!b->nr)
		return 0;
	http_do_many(http, b->req, b->res, b->nr, parallel);
	b->answer = xcalloc(b->nr, sizeof(*b->answer));
	for (size_t i = 0; i < b->nr; i++)
		if (!(b->answer[i] = answer(&b->res[i], why))) {
			for (size_t j = 0; j < i; j++)
				cJSON_Delete(b->answer[j]);
			free(b->answer);
			b->answer = NULL;
			return -1;
		}
	return 0;
}

void http_batch_release(struct http_batch *b)
{
	for (size_t i = 0; i < b->nr; i++) {
		free((char *)b->req[i].url);
		http_request_release(&b->req[i]);
		http_response_release(&b->res[i]);
		if (b->answer)
			cJSON_Delete(b->answer[i]);
	}
	free(b->req);
	free(b->res);
	free(b->answer);
	b->req = NULL;
	b->res = NULL;
	b->answer = NULL;
	b->nr = b->alloc = 0;
}

void http_answer_why(struct strbuf *why, const struct http_response *res,
		     const char *refused, const char *not_api, const char *msg)
{
	if (!res->status)
		strbuf_addstr(why, res->error.buf);
	else if (refused && (res->status == 401 || res->status == 403))
		strbuf_addf(why, "HTTP %ld: %s", res->status, refused);
	else if (res->status / 100 != 2)
		strbuf_addf(why, "HTTP %ld", res->status);
	else
		strbuf_addstr(why, not_api);
	if (res->status >= 500 && res->attempts > 1)
		strbuf_addf(why, " after %d attempts", res->attempts);
	if (res->status && msg)
		strbuf_addf(why, ": %s", msg);
}
