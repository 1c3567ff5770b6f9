/*
 * pulls.c: the pull request of `sre fix` on GitHub, and its reviews.
 *
 * pull_open() looks before it leaps: it first asks for the open pull
 * request from the branch (GET /repos/{o}/{r}/pulls?head={o}:{branch}),
 * and only when there is none opens one (POST /repos/{o}/{r}/pulls). The
 * POST is never repeated blindly; when its answer is lost (a timeout, a
 * proxy's 502) or GitHub answers 422 "A pull request already exists", the
 * same lookup tells whether it landed. So `sre fix` run again after a
 * crash or a timeout never opens a second pull request.
 *
 * pull_get() reads the pull request and reduces its reviews as GitHub's
 * merge box does: a reviewer's verdict is their latest review that
 * approves, requests changes or was dismissed; a comment alone changes
 * nothing, though it does count as a review.
 *
 * Requests, errors and pages are lib/github-api.c's, the GitHub client
 * the tracker backend uses too: the same headers and answer check, so a
 * failure reads "github: <what>: HTTP <status> <GitHub's message>" with
 * the token redacted; a next page is followed only while it lies under
 * github.api, so the token goes nowhere else.
 */
#include <ctype.h>
#include <strings.h>

#include "fix.h"
#include "github-api.h"
#include "redact.h"
#include "timeutil.h"

/* 100 pages of 100 reviews: far past any real pull request. */
#define PULLS_MAX_PAGES 100

struct pulls {
	struct http_client http;
	struct strbuf error;     /* the last failure, one line */
	struct github_api gh;    /* borrows http and error */
};

static const long ok_200[] = { 200, 0 };
static const long ok_201[] = { 201, 0 };

/* ---- requests ---- */

/* Say what went wrong in p->error: GITHUB_FAIL. */
static int pulls_fail(struct pulls *p, const char *what, const char *why)
{
	return github_api_fail(&p->gh, what, why);
}

/* Hand the error line to the caller: -1. */
static int give_error(struct pulls *p, struct strbuf *err)
{
	strbuf_add(err, p->error.buf, p->error.len);
	return -1;
}

/* One exchange with GitHub; res is the caller's to release. */
static int pulls_call(struct pulls *p, const char *what, const char *method, const char *url,
		      const cJSON *body, int no_retry, const long *ok_status,
		      struct http_response *res)
{
	return github_api_call(&p->gh, what, method, url, body, no_retry, ok_status, res);
}

/* The answer's JSON object or array, or NULL after a message in p->error. */
static cJSON *pulls_answer(struct pulls *p, const char *what, const struct http_response *res,
			   int want_array)
{
	return github_api_answer(&p->gh, what, res, want_array);
}

/* Every page of a list (a bounded number), each item to each(). */
static int pulls_list(struct pulls *p, const char *what, const char *url, github_each_fn each,
		      void *data)
{
	return github_api_list(&p->gh, what, url, PULLS_MAX_PAGES, each, data);
}

/* ---- names ---- */

/*
 * A branch name as `git check-ref-format --branch` takes it: no blank,
 * control character or ~^:?*[\ , no "..", "@{" or "//", no component that
 * starts with '.' or ends with ".lock", and no '-' or '/' first.
 */
static int valid_branch(const char *b)
{
	size_t len = b ? strlen(b) : 0;

	if (!len || len > 255 || b[0] == '-' || b[0] == '/' || b[len - 1] == '/' ||
	    b[len - 1] == '.' || !strcmp(b, "@") || strstr(b, "..") || strstr(b, "@{") ||
	    strstr(b, "//"))
		return 0;
	for (const char *c = b; *c; c++) {
		if ((unsigned char)*c <= ' ' || *c == 0x7f || strchr("~^:?*[\\", *c))
			return 0;
		if ((c == b || c[-1] == '/') && *c == '.')
			return 0;
		if ((c[1] == '/' || !c[1]) && c - b >= 4 && !strncmp(c - 4, ".lock", 5))
			return 0;
	}
	return 1;
}

static void repo_url(struct strbuf *sb, const struct pulls *p)
{
	github_repo_url(sb, &p->gh);
}

/* ---- pull requests ---- */

static const char *json_string(const cJSON *obj, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

static char *json_text(const cJSON *obj, const char *key)
{
	const char *s = json_string(obj, key);

	return s ? xstrdup(s) : NULL;
}

/* Fill out from a pull request object: 0, or -1 when it has no number. */
static int pull_from_json(struct pull_request *out, const cJSON *j)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "number");
	const cJSON *merged = cJSON_GetObjectItemCaseSensitive(j, "merged");
	const char *created = json_string(j, "created_at");
	const cJSON *people, *teams;

	pull_request_release(out);
	if (json_to_ll(n, 1, JSON_INT_MAX, &out->number) < 0)
		return -1;
	out->url = json_text(j, "html_url");
	out->state = json_text(j, "state");
	/* A listed pull request carries merged_at only. */
	out->merged = cJSON_IsBool(merged) ? cJSON_IsTrue(merged) : !!json_string(j, "merged_at");
	out->head = json_text(cJSON_GetObjectItemCaseSensitive(j, "head"), "ref");
	if (!created || parse_rfc3339(created, &out->created_at) < 0)
		out->created_at = 0;
	/* Asked and not yet given: GitHub drops a reviewer from the list once they review. */
	people = cJSON_GetObjectItemCaseSensitive(j, "requested_reviewers");
	teams = cJSON_GetObjectItemCaseSensitive(j, "requested_teams");
	out->reviewers = cJSON_GetArraySize(people) + cJSON_GetArraySize(teams);
	return 0;
}

static int pull_fill(struct pulls *p, const char *what, const cJSON *j, struct pull_request *out)
{
	if (pull_from_json(out, j) < 0)
		return pulls_fail(p, what, "the answer holds no pull request number");
	return GITHUB_OK;
}

struct open_pull {
	const struct pulls *p;
	const char *head, *base;
	cJSON *found;
};

/* The open pull request from our own head branch into base, and no other. */
static int open_pull_one(const cJSON *item, void *data)
{
	struct open_pull *o = data;
	const cJSON *head = cJSON_GetObjectItemCaseSensitive(item, "head");
	const char *ref = json_string(head, "ref"), *label = json_string(head, "label");
	const char *base = json_string(cJSON_GetObjectItemCaseSensitive(item, "base"), "ref");
	const char *state = json_string(item, "state");
	size_t olen = strlen(o->p->gh.owner);

	if (!ref || strcmp(ref, o->head) || (base && strcmp(base, o->base)) ||
	    (state && strcmp(state, "open")))
		return 0;
	/* A fork's branch of the same name is someone else's. */
	if (label && (strncasecmp(label, o->p->gh.owner, olen) || label[olen] != ':'))
		return 0;
	o->found = cJSON_Duplicate(item, 1);
	return 1;
}

/* Look for the open pull request from head into base: 0 found, 1 none, or a GITHUB_* error. */
static int pull_find(struct pulls *p, const char *head, const char *base,
		     struct pull_request *out)
{
	struct open_pull o = { p, head, base, NULL };
	struct strbuf url = STRBUF_INIT;
	char *what = xstrfmt("looking for the pull request of %s", head);
	int ret;

	repo_url(&url, p);
	strbuf_addstr(&url, "/pulls?state=open&head=");
	http_urlencode(&url, p->gh.owner);
	strbuf_addch(&url, ':');
	http_urlencode(&url, head);
	strbuf_addstr(&url, "&per_page=100");
	ret = pulls_list(p, what, url.buf, open_pull_one, &o);
	if (ret == GITHUB_NOT_FOUND)  /* no such repository: an error, not "none open" */
		ret = GITHUB_FAIL;
	if (ret == GITHUB_OK)
		ret = o.found ? pull_fill(p, what, o.found, out) : 1;
	cJSON_Delete(o.found);
	strbuf_release(&url);
	free(what);
	return ret;
}

/* GitHub's 422 for a head that already has an open pull request. */
static int already_exists(const struct http_response *res)
{
	cJSON *j = cJSON_ParseWithLength(res->body.buf, res->body.len), *e;
	int found = 0;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "errors")) {
		const char *m = json_string(e, "message");

		if (m && starts_with(m, "A pull request already exists"))
			found = 1;
	}
	cJSON_Delete(j);
	return found;
}

int pull_open(struct pulls *p, const char *head, const char *base, const char *title,
	      const char *body, struct pull_request *out, struct strbuf *err)
{
	struct http_response res = HTTP_RESPONSE_INIT;
	struct strbuf url = STRBUF_INIT;
	cJSON *req = NULL, *answer = NULL;
	char *what = NULL, *lost = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!valid_branch(head) || !valid_branch(base)) {
		struct strbuf why = STRBUF_INIT;

		/* Quoted with its control characters as '?', to stay one line. */
		strbuf_addch(&why, '\'');
		for (const char *c = valid_branch(head) ? base : head; c && *c; c++)
			strbuf_addch(&why, iscntrl((unsigned char)*c) ? '?' : *c);
		strbuf_addstr(&why, "' is not a branch name");
		ret = pulls_fail(p, "opening a pull request", why.buf);
		strbuf_release(&why);
		goto out;
	}
	what = xstrfmt("opening a pull request from %s", head);
	if (!title || !*title) {
		ret = pulls_fail(p, what, "a pull request needs a title");
		goto out;
	}
	ret = pull_find(p, head, base, out);
	if (ret <= 0)
		goto out;

	repo_url(&url, p);
	strbuf_addstr(&url, "/pulls");
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "title", title);
	cJSON_AddStringToObject(req, "head", head);
	cJSON_AddStringToObject(req, "base", base);
	cJSON_AddStringToObject(req, "body", body ? body : "");
	/* A pull request is public to whoever reads the repository. */
	redact_json(cJSON_GetObjectItemCaseSensitive(req, "title"));
	redact_json(cJSON_GetObjectItemCaseSensitive(req, "body"));
	/* Never sent twice: the lookup below finds out whether it landed. */
	ret = pulls_call(p, what, "POST", url.buf, req, 1, ok_201, &res);
	if (ret == GITHUB_OK) {
		answer = pulls_answer(p, what, &res, 0);
		ret = answer ? pull_fill(p, what, answer, out) : GITHUB_FAIL;
	} else if (ret == GITHUB_RETRY || (res.status == 422 && already_exists(&res))) {
		lost = xstrdup(p->error.buf);
		ret = pull_find(p, head, base, out);
		if (ret) {
			/* Not there after all: the POST's own failure is the news. */
			strbuf_reset(&p->error);
			strbuf_addstr(&p->error, lost);
			ret = GITHUB_FAIL;
		}
	}
out:
	if (ret)
		pull_request_release(out);
	cJSON_Delete(req);
	cJSON_Delete(answer);
	http_response_release(&res);
	strbuf_release(&url);
	free(what);
	free(lost);
	return ret ? give_error(p, err) : 0;
}

/* ---- reviews ---- */

struct verdicts {
	cJSON *by_user;   /* login -> the state of their latest verdict */
	int reviewed;
};

static int review_one(const cJSON *item, void *data)
{
	struct verdicts *v = data;
	const char *state = json_string(item, "state");
	const char *login = json_string(cJSON_GetObjectItemCaseSensitive(item, "user"), "login");

	/* A pending review is a draft only its author sees: not given yet. */
	if (!state || !strcmp(state, "PENDING"))
		return 0;
	v->reviewed = 1;
	if (login && (!strcmp(state, "APPROVED") || !strcmp(state, "CHANGES_REQUESTED") ||
		      !strcmp(state, "DISMISSED"))) {
		if (cJSON_HasObjectItem(v->by_user, login))
			cJSON_ReplaceItemInObjectCaseSensitive(v->by_user, login,
							       cJSON_CreateString(state));
		else
			cJSON_AddStringToObject(v->by_user, login, state);
	}
	return 0;
}

int pull_get(struct pulls *p, long long number, struct pull_request *out, struct strbuf *err)
{
	struct http_response res = HTTP_RESPONSE_INIT;
	struct verdicts v = { cJSON_CreateObject(), 0 };
	struct strbuf url = STRBUF_INIT;
	char *what = xstrfmt("reading pull request %lld", number);
	cJSON *answer = NULL, *verdict;
	int ret;

	memset(out, 0, sizeof(*out));
	if (number <= 0) {
		ret = pulls_fail(p, what, "not a pull request number");
		goto out;
	}
	repo_url(&url, p);
	strbuf_addf(&url, "/pulls/%lld", number);
	ret = pulls_call(p, what, "GET", url.buf, NULL, 0, ok_200, &res);
	if (ret == GITHUB_OK)
		ret = (answer = pulls_answer(p, what, &res, 0)) ?
		      pull_fill(p, what, answer, out) : GITHUB_FAIL;
	if (ret != GITHUB_OK)
		goto out;

	free(what);
	what = xstrfmt("reading the reviews of pull request %lld", number);
	strbuf_addstr(&url, "/reviews?per_page=100");
	ret = pulls_list(p, what, url.buf, review_one, &v);
	if (ret != GITHUB_OK)
		goto out;
	out->reviewed = v.reviewed;
	cJSON_ArrayForEach(verdict, v.by_user) {
		out->approved += !strcmp(verdict->valuestring, "APPROVED");
		out->changes_requested += !strcmp(verdict->valuestring, "CHANGES_REQUESTED");
	}
out:
	if (ret)
		pull_request_release(out);
	cJSON_Delete(v.by_user);
	cJSON_Delete(answer);
	http_response_release(&res);
	strbuf_release(&url);
	free(what);
	return ret ? give_error(p, err) : 0;
}

void pull_request_release(struct pull_request *pr)
{
	if (!pr)
		return;
	free(pr->url);
	free(pr->state);
	free(pr->head);
	memset(pr, 0, sizeof(*pr));
}

/* ---- the client ---- */

void pulls_free(struct pulls *p)
{
	if (!p)
		return;
	github_api_release(&p->gh);
	http_client_release(&p->http);
	strbuf_release(&p->error);
	free(p);
}

int pulls_open(struct pulls **out, const struct config *cfg, const char *repo,
	       struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	struct pulls *p;
	char *api, *token;
	int r;

	*out = NULL;
	if (github_api_url(cfg, &api, &why) < 0) {
		strbuf_addf(err, "github: %s", why.buf);
		strbuf_release(&why);
		return -1;
	}
	if (!github_repo_valid(repo)) {
		free(api);
		strbuf_addf(err, "github: '%s' is not a repository: it takes owner/name, each of "
			    "letters, digits, '.', '_' and '-'", repo ? repo : "");
		return -1;
	}
	r = github_api_token(cfg, &token);
	if (r) {
		free(api);
		/* -1: github_api_token() said why, without the secret. */
		strbuf_addstr(err, r == 1 ? "github: no token: set GITHUB_TOKEN or github.token-command" :
				   r == -1 ? "github: no token: github.token-command failed" :
				   "github: the token holds a blank or a control character");
		return -1;
	}

	p = xcalloc(1, sizeof(*p));
	strbuf_init(&p->error, 0);
	if (http_client_init(&p->http, cfg) < 0) {
		memset(token, 0, strlen(token));
		free(token);
		free(api);
		strbuf_release(&p->error);
		free(p);
		strbuf_addstr(err, "github: the http.* settings are not valid");
		return -1;
	}
	github_api_init(&p->gh, api, repo, token, &p->http, &p->error);
	*out = p;
	return 0;
}
