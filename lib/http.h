/*
 * http.h: the one HTTP layer, over libcurl.
 *
 * Every remote system (GitHub, JIRA, Slack, and later Prometheus,
 * Kubernetes, Jaeger, an LLM) is reached through here, so timeouts,
 * retries, the body cap, TLS and tracing are decided in one place:
 *
 *   http.connect-timeout  (default 10s)   http.timeout   (default 30s)
 *   http.retries          (default 3: attempts after the first)
 *   http.retry-base       (default 500ms: first backoff, doubled each time,
 *                          with equal jitter: half the step, plus up to half)
 *   http.max-retry-wait   (default 60s: the longest Retry-After or rate-limit
 *                          reset sre will sleep for; longer fails at once)
 *   http.max-body         (default 32m)   http.ca-info   (an extra CA bundle)
 *
 * Retried: connection failures and timeouts, 5xx, 429, and GitHub's 403
 * with X-RateLimit-Remaining: 0. Retry-After (seconds or an HTTP date) and
 * X-RateLimit-Reset are honoured. TLS verification is always on. Proxies
 * come from the usual environment variables (libcurl's own handling).
 *
 * A labelled request (http_client.label, http_request.label) is in the
 * registry of progress.h while it is in flight, with its try and the time
 * it gives up at, for a command's status line.
 *
 * SRE_TRACE=1 logs each request line and response status to stderr; the
 * Authorization header and every registered secret are shown as
 * <redacted>, wherever they appear.
 */
#ifndef SRE_HTTP_H
#define SRE_HTTP_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "strbuf.h"
#include "strvec.h"

struct http_client {
	int64_t connect_timeout_ms;
	int64_t timeout_ms;
	int retries;
	int64_t retry_base_ms;
	int64_t max_retry_wait_ms;
	size_t max_body;
	char *ca_info;
	int trace;
	/*
	 * When not 0, a monotonic_ms() time by which every request must be
	 * over: timeouts are cut to it and no retry starts past it, so a
	 * caller under a deadline (a diagnose collector) is never held up.
	 */
	int64_t deadline_ms;
	struct strvec secrets; /* redacted from traces and error messages */
	/*
	 * What the requests are for ("prometheus", "jaeger"), as the status
	 * line names it (progress.h), or NULL: not shown. Borrowed.
	 */
	const char *label;
	/*
	 * When not NULL and it becomes non-zero (a SIGINT handler sets it),
	 * every request in flight is given up within about 100 ms, with the
	 * error "cancelled", and none is retried: a REPL's Ctrl-C ends the
	 * request, not the program. Borrowed.
	 */
	volatile sig_atomic_t *cancel;
};

/*
 * Read the http.* keys. Returns 0, or -1 after an error naming the bad key.
 * Release with http_client_release().
 */
int http_client_init(struct http_client *c, const struct config *cfg);
void http_client_release(struct http_client *c);

/* Register a secret (a token, a webhook URL) that must never be shown. */
void http_client_add_secret(struct http_client *c, const char *secret);

struct http_response;

struct http_request {
	const char *method;      /* "GET", "POST", "PATCH", "PUT", "DELETE" */
	const char *url;
	struct strvec headers;   /* "Name: value" */
	const char *body;        /* NULL for none */
	size_t body_len;
	const char *userpwd;     /* "user:token" for basic auth, or NULL */
	int no_retry;            /* a write that must not be repeated blindly */
	int64_t timeout_ms;      /* this request's own total timeout; 0: http.timeout */
	const char *unix_socket; /* connect through this UNIX socket (Docker), or NULL */
	/*
	 * TLS material as PEM text in memory, or NULL (a kubeconfig's
	 * certificate-authority-data, client-certificate-data, client-key-data).
	 * With ca_pem, that CA alone is trusted for this request, not the
	 * system's nor http.ca-info.
	 */
	const char *ca_pem;
	const char *client_cert_pem;
	const char *client_key_pem;
	const char *label;       /* for the status line instead of the client's ("check web"), or NULL */
	/*
	 * Told of each piece of a 2xx body as it arrives (a streamed answer
	 * read as it comes), with res as it is so far (status and headers
	 * set), or NULL. The body is still kept whole in res. A request whose
	 * body was given to it is never retried, since the reader has seen it.
	 * Returning -1 stops the transfer (HTTP_FAILED, "stopped by its reader").
	 */
	int (*on_data)(void *arg, const struct http_response *res, const char *buf, size_t len);
	void *on_data_arg;
};

#define HTTP_REQUEST_INIT { .headers = STRVEC_INIT }
void http_request_release(struct http_request *req);

enum http_outcome {
	HTTP_OK,          /* a response arrived (any status: check it) */
	HTTP_TRANSIENT,   /* unreachable, timed out, 5xx or 429 past the retries */
	HTTP_FAILED,      /* cannot succeed: bad URL, TLS failure, body over the cap */
};

struct http_response {
	long status;             /* 0 when no response arrived */
	struct strbuf body;
	struct strvec headers;   /* "name: value", names lower-cased */
	enum http_outcome outcome;
	struct strbuf error;     /* why, when outcome is not HTTP_OK; redacted */
	int attempts;
	int64_t elapsed_ms;      /* the last attempt, from start to the end of the body */
};

#define HTTP_RESPONSE_INIT { .body = STRBUF_INIT, .headers = STRVEC_INIT, .error = STRBUF_INIT }
void http_response_release(struct http_response *res);

/* A response header's value (name case-insensitive), or NULL. Borrowed. */
const char *http_header(const struct http_response *res, const char *name);

/*
 * Perform one request, retrying as described above. Always fills res;
 * returns 0 when a response arrived (res->outcome HTTP_OK, any status),
 * -1 otherwise (res->outcome and res->error say why; nothing printed).
 */
int http_do(struct http_client *c, const struct http_request *req,
	    struct http_response *res);

/*
 * Perform n requests at once through libcurl's multi interface, each with
 * its own retries; at most `parallel` in flight (0: all). Returns the
 * number that failed to get a response.
 */
int http_do_many(struct http_client *c, const struct http_request *reqs,
		 struct http_response *res, size_t n, size_t parallel);

/*
 * A Retry-After value (delta-seconds or an HTTP date) as a wait in ms from
 * now: 0, or -1 when it is neither. A server's number is never trusted to
 * fit: any wait past HTTP_WAIT_LIMIT_S (a day) is read as that, which is
 * far past http.max-retry-wait, so the request fails at once instead of
 * sleeping. A date in the past is 0; a signed number ("-5") is neither.
 */
#define HTTP_WAIT_LIMIT_S 86400LL
int http_parse_retry_after(int64_t *out_ms, const char *value, time_t now);

/* Milliseconds on the monotonic clock: for deadlines and elapsed times. */
int64_t monotonic_ms(void);

/*
 * Is host (as a URL holds it: a name, an IPv4 address, or an IPv6 one in
 * brackets) this machine: localhost, 127.0.0.0/8 or ::1? A credential goes
 * over plain http only to such a host; every other request that carries
 * one (an Authorization header, userpwd, a client key, userinfo or a
 * registered secret in the URL) must be https, or http_do() refuses it
 * before connecting, HTTP_FAILED with the reason in res->error.
 */
int http_host_is_loopback(const char *host);
/*
 * May a secret ride in a request to url? 1 for https://, and for http://
 * to this machine (a loopback host, no user part); 0 for http:// to any
 * other host; -1 when url is neither http:// nor https://.
 */
int http_url_keeps_secrets(const char *url);

/* Append s to sb with URL percent-encoding (RFC 3986 unreserved kept). */
void http_urlencode(struct strbuf *sb, const char *s);

/* Replace every registered secret in sb with <redacted>. */
void http_redact(const struct http_client *c, struct strbuf *sb);

/* ---- a batch of GET requests for JSON ---- */

/*
 * A source's or an action's GET requests for JSON, made together: req[i]
 * is answered in res[i], and read into answer[i] by http_batch_answer().
 * The URLs and the answers belong to the batch.
 */
struct cJSON;
struct http_batch {
	struct http_request *req;
	struct http_response *res;
	struct cJSON **answer;
	size_t nr, alloc;
};

#define HTTP_BATCH_INIT { NULL, NULL, NULL, 0, 0 }
/* Queue a GET of url (taken over) asking for JSON; returns the request, to add to. */
struct http_request *http_batch_add(struct http_batch *b, char *url);
/* Make the requests and read each with answer(): all, or none and -1 with the first why. */
int http_batch_answer(struct http_batch *b, struct http_client *http, size_t parallel,
		      struct cJSON *(*answer)(const struct http_response *res, struct strbuf *why),
		      struct strbuf *why);
/* Free the requests, their URLs, responses and answers; b is then HTTP_BATCH_INIT. */
void http_batch_release(struct http_batch *b);
/* Why res is no answer of an API: curl's error, "HTTP <status>[: refused]" or not_api, then msg. */
void http_answer_why(struct strbuf *why, const struct http_response *res,
		     const char *refused, const char *not_api, const char *msg);

/*
 * Was res cut off by http's deadline: no answer came, and the deadline
 * is reached (curl's timeout is cut to the deadline, so it fires then)?
 */
static inline int http_deadline_passed(const struct http_client *http,
				       const struct http_response *res)
{
	return http->deadline_ms && !res->status && monotonic_ms() >= http->deadline_ms;
}

#endif
