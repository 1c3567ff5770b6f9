/*
 * github-api.h: the one client of GitHub's REST API, used by the tracker
 * backend (lib/tracker-github.c: issues, labels, comments) and by the pull
 * requests of `sre fix` (lib/pulls.c).
 *
 * What every request to GitHub has in common lives here once:
 *   - the headers (Accept, the API version, the token as a Bearer);
 *   - the answer check: a status turned into a GITHUB_* code and, when
 *     it is not GITHUB_OK, one line for the user, "github: <what>: HTTP
 *     <status> <GitHub's message>", with the token redacted;
 *   - pagination through the Link header's rel="next", followed only while
 *     it lies under github.api (the token goes nowhere else), stopped with
 *     an error when the links loop back to a page already read or pass the
 *     caller's page bound;
 *   - rate limits: lib/http.c waits out and retries GitHub's 429 and its
 *     403 with X-RateLimit-Remaining: 0 or Retry-After (primary and
 *     secondary limits), within http.max-retry-wait; past the retries it
 *     is GITHUB_RETRY, so the write stays queued.
 *
 * The client borrows its HTTP client and the strbuf its failures are said
 * in, so the tracker keeps t->http and t->error (its TRACKER_* contract)
 * and pulls.c its own. It owns github.api and the token.
 */
#ifndef SRE_GITHUB_API_H
#define SRE_GITHUB_API_H

#include <cJSON.h>

#include "config.h"
#include "http.h"

/* The same values as TRACKER_*: the tracker backend passes them up as they are. */
enum {
	GITHUB_OK = 0,
	GITHUB_NOT_FOUND = 1,  /* 404 */
	GITHUB_RETRY = -2,     /* unreachable, 5xx, 429 or a rate limit past the retries */
	GITHUB_FAIL = -3,      /* can never succeed as it is (any other 4xx, a bad answer) */
};

#define GITHUB_DEFAULT_API "https://api.github.com"

struct github_api {
	char *api;                 /* github.api without a trailing slash */
	char *owner, *name;        /* the repository */
	char *token;               /* wiped when released */
	struct http_client *http;  /* borrowed */
	struct strbuf *error;      /* borrowed: the line a failure is said in */
};

/*
 * github.api (default GITHUB_DEFAULT_API), its trailing slashes dropped,
 * into *out (caller frees): 0, or -1 with why ("github.api is 'x': it
 * takes an http:// or https:// URL").
 */
int github_api_url(const struct config *cfg, char **out, struct strbuf *why);

/* Whether repo is owner/name, each of letters, digits, '.', '_' and '-'. */
int github_repo_valid(const char *repo);

/*
 * The token, from $GITHUB_TOKEN or github.token-command, into *out: 0;
 * 1 when none is configured; -1 when the command failed (said, without the
 * secret); -2 when it holds a blank or a control character (wiped).
 */
int github_api_token(const struct config *cfg, char **out);

/*
 * Make the client of repo (valid: github_repo_valid()) at api: both api
 * and token become the client's, and the token is registered with http
 * for redaction.
 */
void github_api_init(struct github_api *gh, char *api, const char *repo, char *token,
		     struct http_client *http, struct strbuf *error);
void github_api_release(struct github_api *gh);

/* "<api>/repos/<owner>/<name>" appended to sb, each part URL-encoded. */
void github_repo_url(struct strbuf *sb, const struct github_api *gh);

/* Say what went wrong in *gh->error ("github: <what>: <why>"): GITHUB_FAIL. */
int github_api_fail(struct github_api *gh, const char *what, const char *why);

/*
 * One exchange: method url, body (NULL or JSON), and the answer checked
 * against ok_status (the statuses that mean success, ended by 0). no_retry
 * for a request that must not be sent twice (a POST that creates). A
 * GITHUB_* code; res is the caller's to release, whatever the outcome.
 */
int github_api_call(struct github_api *gh, const char *what, const char *method,
		    const char *url, const cJSON *body, int no_retry,
		    const long *ok_status, struct http_response *res);

/* The answer's JSON object (or array), or NULL after a line in *gh->error. */
cJSON *github_api_answer(struct github_api *gh, const char *what,
			 const struct http_response *res, int want_array);

/*
 * GET url and every page after it, at most max_pages, calling each() on
 * every item until it returns nonzero. A GITHUB_* code.
 */
typedef int (*github_each_fn)(const cJSON *item, void *data);
int github_api_list(struct github_api *gh, const char *what, const char *url,
		    int max_pages, github_each_fn each, void *data);

/*
 * The rel="next" target of a Link header (RFC 8288), or NULL (caller
 * frees); and whether url lies under api, the only place a next page is
 * ever followed. Public for fuzz/fuzz-link.c.
 */
char *github_link_next(const char *link);
int github_under_api(const char *api, const char *url);

#endif
