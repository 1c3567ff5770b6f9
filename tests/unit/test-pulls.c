/*
 * test-pulls.c: unit tests of lib/pulls.c against tests/fakes/github.py,
 * a local server that speaks GitHub's REST API, printing TAP.
 *
 * Two fakes run as child processes: one with GitHub's page sizes and one
 * that holds pages to two items, so that the reviews of a pull request
 * come over several pages. What people do on GitHub (ask for a review,
 * approve, request changes, dismiss, merge, close) is done through the
 * fake's POST /_fake/pull; failures and lost answers through /_fake/fail.
 * Besides what each call returns, the tests read the fake's request log:
 * one POST and never two, the branch in the lookup's query, the headers.
 */
#include "../../lib/config.h"
#include "../../lib/fix.h"
#include "fake.h"

#define TOKEN "test-token"

static const char *field(const cJSON *obj, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

static int one_line(const char *s)
{
	return *s && !strchr(s, '\n');
}

/*
 * Open a client of repo on api with the configuration text extra: the
 * client, or NULL with why in err. cfg must outlive it.
 */
static struct pulls *client(struct config *cfg, const char *api, const char *repo,
			    const char *extra, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	struct pulls *p = NULL;

	if (api)
		strbuf_addf(&text, "[github]\n\tapi = %s\n", api);
	strbuf_addf(&text, "[http]\n\tretry-base = 10ms\n%s", extra ? extra : "");
	if (config_read_buffer(cfg, text.buf, text.len, "test-pulls", CONFIG_SCOPE_LOCAL) < 0 ||
	    pulls_open(&p, cfg, repo, err) < 0)
		p = NULL;
	strbuf_release(&text);
	return p;
}

/* Tell the fake that someone did something to pull request n of repo. */
static void act(const struct fake *f, const char *repo, long long n, const char *action,
		const char *user, const char *state)
{
	struct strbuf json = STRBUF_INIT;
	long status;

	strbuf_addf(&json, "{\"repo\":\"%s\",\"number\":%lld,\"action\":\"%s\"", repo, n, action);
	if (user)
		strbuf_addf(&json, ",\"%s\":\"%s\"", starts_with(user, "team:") ? "team" : "user",
			    starts_with(user, "team:") ? user + 5 : user);
	if (state)
		strbuf_addf(&json, ",\"state\":\"%s\"", state);
	strbuf_addch(&json, '}');
	status = fake_call(f, "POST", "/_fake/pull", json.buf, NULL);
	if (status != 200)
		printf("# /_fake/pull answered %ld to %s\n", status, json.buf);
	strbuf_release(&json);
}

/* Open a pull request behind the client's back: its number, or 0. */
static long long make_pull(const struct fake *f, const char *repo, const char *head,
			   const char *base)
{
	char *path = xstrfmt("/repos/%s/pulls", repo);
	char *json = xstrfmt("{\"title\":\"by hand\",\"head\":\"%s\",\"base\":\"%s\"}", head, base);
	cJSON *answer = NULL;
	long long n = 0;

	if (fake_call(f, "POST", path, json, &answer) == 201)
		n = (long long)cJSON_GetNumberValue(
			cJSON_GetObjectItemCaseSensitive(answer, "number"));
	cJSON_Delete(answer);
	free(json);
	free(path);
	return n;
}

/* How many pull requests of repo the fake holds from head, and how many open. */
static int pulls_held(const struct fake *f, const char *repo, const char *head, int *open)
{
	cJSON *state = NULL, *pr;
	int n = 0;

	*open = 0;
	fake_call(f, "GET", "/_fake/state", NULL, &state);
	cJSON_ArrayForEach(pr, cJSON_GetObjectItemCaseSensitive(
				       cJSON_GetObjectItemCaseSensitive(state, repo), "pulls")) {
		const char *ref = field(cJSON_GetObjectItemCaseSensitive(pr, "head"), "ref");

		if (ref && !strcmp(ref, head)) {
			n++;
			*open += !strcmp(field(pr, "state"), "open");
		}
	}
	cJSON_Delete(state);
	return n;
}

/* Every request since mark carries GitHub's headers and the token. */
static void check_headers(const struct fake *f, int mark, const char *what)
{
	cJSON *list = fake_requests(f, mark, NULL, NULL), *r;
	int n = 0, good = 0;

	cJSON_ArrayForEach(r, list) {
		const char *auth = fake_header(r, "authorization");
		const char *accept = fake_header(r, "accept");
		const char *version = fake_header(r, "x-github-api-version");

		n++;
		good += auth && !strcmp(auth, "Bearer " TOKEN) && accept &&
			!strcmp(accept, "application/vnd.github+json") && version &&
			!strcmp(version, "2022-11-28");
	}
	ok(n && good == n, "%s: all %d requests carry Bearer, Accept and X-GitHub-Api-Version",
	   what, n);
	cJSON_Delete(list);
}

/* ---- the tests ---- */

static void test_client(const struct fake *a)
{
	static const char *const bad_repos[] = {
		"acme", "acme/", "/shop", "acme/shop/x", "ac me/shop", "acme/..", "acme/sh%op", "",
	};
	struct strbuf err = STRBUF_INIT;
	struct config cfg = CONFIG_INIT;
	struct pulls *p = (struct pulls *)&err; /* not NULL: pulls_open must clear it */
	int ret;

	unsetenv("GITHUB_TOKEN");
	ret = pulls_open(&p, &cfg, "acme/shop", &err);
	is_int(ret, -1, "open: no token is an error");
	ok(p == NULL, "open: ... and *out is NULL");
	is_str(err.buf, "github: no token: set GITHUB_TOKEN or github.token-command",
	       "open: ... said in one clear line");
	setenv("GITHUB_TOKEN", TOKEN, 1);

	for (size_t i = 0; i < ARRAY_SIZE(bad_repos); i++) {
		strbuf_reset(&err);
		ret = pulls_open(&p, &cfg, bad_repos[i], &err);
		if (!ok(ret == -1 && !p && strstr(err.buf, "is not a repository") &&
			strstr(err.buf, "owner/name"), "open: repository '%s' is refused",
			bad_repos[i]))
			diag_text("err", err.buf);
	}
	strbuf_reset(&err);
	ok(pulls_open(&p, &cfg, NULL, &err) == -1 && !p, "open: no repository is refused");
	config_clear(&cfg);

	strbuf_reset(&err);
	ok(!client(&cfg, "ftp://x", "acme/shop", NULL, &err),
	   "open: an ftp:// github.api is refused");
	is_str(err.buf, "github: github.api is 'ftp://x': it takes an http:// or https:// URL",
	       "open: ... naming github.api");
	config_clear(&cfg);

	/* github.token-command, when GITHUB_TOKEN is unset. */
	unsetenv("GITHUB_TOKEN");
	strbuf_reset(&err);
	p = client(&cfg, a->url, "acme/shop", "[github]\n\ttoken-command = printf " TOKEN "\n",
		   &err);
	ok(p != NULL, "open: github.token-command gives the token");
	if (p) {
		struct pull_request pr;
		int mark = fake_log_mark(a);

		/* Any request shows which token went out. */
		pull_get(p, 999999, &pr, &err);
		check_headers(a, mark, "token-command");
		pull_request_release(&pr);
	}
	pulls_free(p);
	config_clear(&cfg);

	strbuf_reset(&err);
	capture_start();
	p = client(&cfg, a->url, "acme/shop", "[github]\n\ttoken-command = false\n", &err);
	capture_end();
	ok(!p && !strcmp(err.buf, "github: no token: github.token-command failed"),
	   "open: a failing github.token-command is an error (%s)", err.buf);
	config_clear(&cfg);
	setenv("GITHUB_TOKEN", "has a blank", 1);
	strbuf_reset(&err);
	p = client(&cfg, a->url, "acme/shop", NULL, &err);
	ok(!p && strstr(err.buf, "blank or a control character") && !strstr(err.buf, "has a blank"),
	   "open: a token with a blank is refused, and not shown (%s)", err.buf);
	setenv("GITHUB_TOKEN", TOKEN, 1);
	config_clear(&cfg);

	pulls_free(NULL);
	strbuf_release(&err);
}

static void test_open(const struct fake *a, struct pulls *p)
{
	struct strbuf err = STRBUF_INIT;
	struct pull_request pr, again, other;
	long long issue = 0, elsewhere;
	cJSON *r, *body;
	time_t before = time(NULL);
	int mark, ret, open;

	/* An issue first: pull requests take the next issue number. */
	{
		cJSON *answer = NULL;
		fake_call(a, "POST", "/repos/acme/shop/issues", "{\"title\":\"an issue\"}",
			  &answer);
		issue = (long long)cJSON_GetNumberValue(
			cJSON_GetObjectItemCaseSensitive(answer, "number"));
		cJSON_Delete(answer);
	}
	/* The same branch into another base is another pull request, not ours. */
	elsewhere = make_pull(a, "acme/shop", "sre/incident-1", "release");
	ok(elsewhere == issue + 1, "setup: a pull request into release (#%lld)", elsewhere);

	mark = fake_log_mark(a);
	ret = pull_open(p, "sre/incident-1", "main", "restart shop: incident #1",
			"sre opened this for incident #1.", &pr, &err);
	is_int(ret, 0, "open: 0");
	is_str(err.buf, "", "open: ... and nothing in err");
	is_int(pr.number, issue + 2, "open: the number follows the issues' own");
	{
		char *want = xstrfmt("%s/acme/shop/pull/%lld", a->url, pr.number);
		is_str(pr.url, want, "open: url is the html_url");
		free(want);
	}
	is_str(pr.state, "open", "open: state open");
	is_str(pr.head, "sre/incident-1", "open: head is the branch");
	ok(!pr.merged && !pr.approved && !pr.changes_requested && !pr.reviewers && !pr.reviewed,
	   "open: not merged, no reviews");
	ok(pr.created_at >= before - 5 && pr.created_at <= time(NULL) + 5,
	   "open: created_at is read (%lld)", (long long)pr.created_at);

	is_int(fake_count(a, mark, "GET", "^/repos/acme/shop/pulls$"), 1, "open: one lookup");
	r = fake_first(a, mark, "GET", "^/repos/acme/shop/pulls$");
	like(r ? field(r, "query") : "", "head=acme:sre%2Fincident-1&",
	     "open: ... by owner:branch, the branch encoded");
	like(r ? field(r, "query") : "", "state=open", "open: ... of open pull requests");
	cJSON_Delete(r);
	is_int(fake_count(a, mark, "POST", "^/repos/acme/shop/pulls$"), 1, "open: one POST");
	r = fake_first(a, mark, "POST", "^/repos/acme/shop/pulls$");
	body = fake_body(r);
	is_str(field(body, "title"), "restart shop: incident #1", "open: the POST's title");
	is_str(field(body, "head"), "sre/incident-1", "open: the POST's head");
	is_str(field(body, "base"), "main", "open: the POST's base");
	is_str(field(body, "body"), "sre opened this for incident #1.", "open: the POST's body");
	is_str(r ? fake_header(r, "content-type") : NULL, "application/json",
	       "open: the POST is JSON");
	cJSON_Delete(body);
	cJSON_Delete(r);
	check_headers(a, mark, "open");

	mark = fake_log_mark(a);
	ret = pull_open(p, "sre/incident-1", "main", "restart shop: incident #1", "again", &again,
			&err);
	is_int(ret, 0, "again: 0");
	is_int(again.number, pr.number, "again: the same pull request");
	is_str(again.url, pr.url, "again: ... with its url");
	is_int(fake_count(a, mark, "POST", NULL), 0, "again: no POST");
	is_int(pulls_held(a, "acme/shop", "sre/incident-1", &open), 2,
	       "again: the fake holds the two pull requests of the branch, no third");
	pull_request_release(&again);

	/* A closed pull request is history: a new one is opened. */
	act(a, "acme/shop", pr.number, "close", NULL, NULL);
	mark = fake_log_mark(a);
	ret = pull_open(p, "sre/incident-1", "main", "restart shop: incident #1", NULL, &other, &err);
	is_int(ret, 0, "closed: 0");
	ok(other.number > pr.number, "closed: a new pull request (#%lld)", other.number);
	is_int(fake_count(a, mark, "POST", "/pulls$"), 1, "closed: ... by one POST");
	body = fake_last_body(a, mark, "POST", "/pulls$");
	is_str(field(body, "body"), "", "closed: no body is an empty one");
	cJSON_Delete(body);
	pull_request_release(&other);
	pull_request_release(&pr);

	/* A fork's branch of the same name, listed by a server that did not
	 * filter, is not ours. */
	fake_fail(a, "{\"method\":\"GET\",\"path\":\"/pulls$\",\"status\":200,\"body\":"
		     "[{\"number\":77,\"state\":\"open\",\"html_url\":\"x\",\"head\":{\"ref\":"
		     "\"sre/incident-2\",\"label\":\"mallory:sre/incident-2\"},\"base\":{\"ref\":"
		     "\"main\"}}]}");
	mark = fake_log_mark(a);
	ret = pull_open(p, "sre/incident-2", "main", "t", "b", &pr, &err);
	ok(ret == 0 && pr.number != 77, "fork: a fork's pull request of the same branch is not taken");
	is_int(fake_count(a, mark, "POST", "/pulls$"), 1, "fork: ... ours is opened");
	pull_request_release(&pr);
	strbuf_release(&err);
}

static void test_exists(const struct fake *a, struct pulls *p)
{
	struct strbuf err = STRBUF_INIT;
	struct pull_request pr;
	long long n = make_pull(a, "acme/shop", "sre/incident-3", "main");
	int mark, ret, open;

	/* The lookup misses it (an answer from before it was made): the POST gets 422. */
	fake_fail(a, "{\"method\":\"GET\",\"path\":\"/pulls$\",\"status\":200,\"body\":[]}");
	mark = fake_log_mark(a);
	ret = pull_open(p, "sre/incident-3", "main", "t", "b", &pr, &err);
	is_int(ret, 0, "422: already exists is no error");
	is_int(pr.number, n, "422: ... the existing pull request is returned");
	is_str(err.buf, "", "422: ... and err stays empty");
	is_int(fake_count(a, mark, "POST", "/pulls$"), 1, "422: one POST");
	is_int(fake_count(a, mark, "GET", "/pulls$"), 2, "422: ... then a second lookup");
	is_int(pulls_held(a, "acme/shop", "sre/incident-3", &open), 1, "422: still one pull request");
	pull_request_release(&pr);

	/* Another 422 is an error, as GitHub says it. */
	mark = fake_log_mark(a);
	ret = pull_open(p, "main", "main", "t", "b", &pr, &err);
	is_int(ret, -1, "422: another refusal is -1");
	is_str(err.buf, "github: opening a pull request from main: HTTP 422 Validation Failed; "
	       "No commits between main and main", "422: ... in one line with GitHub's words");
	is_int(fake_count(a, mark, "GET", "/pulls$"), 1, "422: ... with no second lookup");
	ok(!pr.url && !pr.number, "422: ... and out is empty");
	pull_request_release(&pr);
	strbuf_release(&err);

	/* The answer is lost, but the POST landed: found by the lookup, not sent again. */
	fake_fail(a, "{\"method\":\"POST\",\"path\":\"/pulls$\",\"status\":502,\"after\":true}");
	mark = fake_log_mark(a);
	ret = pull_open(p, "sre/incident-4", "main", "t", "b", &pr, &err);
	is_int(ret, 0, "lost: a lost answer to a POST that landed is no error");
	ok(pr.number > 0 && pr.url, "lost: ... the pull request is returned (#%lld)", pr.number);
	is_int(fake_count(a, mark, "POST", "/pulls$"), 1, "lost: the POST is not repeated");
	is_int(pulls_held(a, "acme/shop", "sre/incident-4", &open), 1, "lost: one pull request");
	pull_request_release(&pr);

	/* The answer is lost and nothing landed: an error, and still one POST. */
	fake_fail(a, "{\"method\":\"POST\",\"path\":\"/pulls$\",\"status\":502,"
		     "\"body\":{\"message\":\"Bad Gateway\"}}");
	mark = fake_log_mark(a);
	ret = pull_open(p, "sre/incident-5", "main", "t", "b", &pr, &err);
	is_int(ret, -1, "lost: a POST that did not land is -1");
	ok(one_line(err.buf) && starts_with(err.buf, "github: opening a pull request from "
					    "sre/incident-5: ") && strstr(err.buf, "502"),
	   "lost: ... the POST's failure in one line (%s)", err.buf);
	is_int(fake_count(a, mark, "POST", "/pulls$"), 1, "lost: ... after one POST");
	is_int(fake_count(a, mark, "GET", "/pulls$"), 2, "lost: ... and a second lookup");
	is_int(pulls_held(a, "acme/shop", "sre/incident-5", &open), 0, "lost: no pull request");
	pull_request_release(&pr);
	strbuf_release(&err);
}

/* Read pull request n; 0, or -1 after a diagnostic. */
static int get(struct pulls *p, long long n, struct pull_request *pr)
{
	struct strbuf err = STRBUF_INIT;
	int ret = pull_get(p, n, pr, &err);

	if (ret)
		printf("# pull_get: %s\n", err.buf);
	strbuf_release(&err);
	return ret;
}

static void test_get(const struct fake *a, struct pulls *p)
{
	struct pull_request pr;
	long long n = make_pull(a, "acme/shop", "sre/incident-6", "main");
	char *path = xstrfmt("^/repos/acme/shop/pulls/%lld$", n);
	char *reviews = xstrfmt("^/repos/acme/shop/pulls/%lld/reviews$", n);
	int mark = fake_log_mark(a);

	is_int(get(p, n, &pr), 0, "get: 0");
	is_int(pr.number, n, "get: the number");
	is_str(pr.state, "open", "get: open");
	is_str(pr.head, "sre/incident-6", "get: the head branch");
	ok(!pr.merged && !pr.reviewers && !pr.approved && !pr.changes_requested && !pr.reviewed,
	   "get: no review, none asked for");
	is_int(fake_count(a, mark, "GET", path), 1, "get: GET the pull request");
	is_int(fake_count(a, mark, "GET", reviews), 1, "get: GET its reviews");
	check_headers(a, mark, "get");
	pull_request_release(&pr);

	act(a, "acme/shop", n, "request_review", "dana", NULL);
	act(a, "acme/shop", n, "request_review", "team:ops", NULL);
	get(p, n, &pr);
	is_int(pr.reviewers, 2, "request: a person and a team asked");
	ok(!pr.reviewed && !pr.approved, "request: ... no review yet");
	pull_request_release(&pr);

	act(a, "acme/shop", n, "review", "dana", "COMMENTED");
	get(p, n, &pr);
	is_int(pr.reviewed, 1, "comment: a comment is a review");
	ok(!pr.approved && !pr.changes_requested, "comment: ... with no verdict");
	is_int(pr.reviewers, 1, "comment: dana's request is answered; the team's is not");
	pull_request_release(&pr);

	act(a, "acme/shop", n, "review", "erin", "APPROVED");
	get(p, n, &pr);
	ok(pr.approved == 1 && !pr.changes_requested, "approve: approved after an APPROVED review");
	pull_request_release(&pr);

	act(a, "acme/shop", n, "review", "erin", "CHANGES_REQUESTED");
	get(p, n, &pr);
	ok(!pr.approved && pr.changes_requested == 1,
	   "changes: a later CHANGES_REQUESTED by the same user replaces the approval");
	pull_request_release(&pr);

	act(a, "acme/shop", n, "review", "erin", "COMMENTED");
	get(p, n, &pr);
	ok(!pr.approved && pr.changes_requested == 1, "changes: ... a comment does not lift it");
	pull_request_release(&pr);

	act(a, "acme/shop", n, "review", "erin", "APPROVED");
	act(a, "acme/shop", n, "review", "dana", "CHANGES_REQUESTED");
	get(p, n, &pr);
	ok(pr.approved == 1 && pr.changes_requested == 1,
	   "two: erin approves again, dana asks for changes (%d, %d)", pr.approved,
	   pr.changes_requested);
	pull_request_release(&pr);

	act(a, "acme/shop", n, "dismiss", "dana", NULL);
	get(p, n, &pr);
	ok(pr.approved == 1 && !pr.changes_requested, "dismiss: a dismissed review stands no more");
	pull_request_release(&pr);

	act(a, "acme/shop", n, "merge", NULL, NULL);
	get(p, n, &pr);
	is_int(pr.merged, 1, "merge: merged");
	is_str(pr.state, "closed", "merge: ... and closed");
	pull_request_release(&pr);

	free(path);
	free(reviews);
	n = make_pull(a, "acme/shop", "sre/incident-7", "main");
	act(a, "acme/shop", n, "close", NULL, NULL);
	get(p, n, &pr);
	ok(!pr.merged && pr.state && !strcmp(pr.state, "closed"), "close: closed, not merged");
	pull_request_release(&pr);
}

static void test_pages(const struct fake *b, struct pulls *pb)
{
	static const char *const users[] = { "u1", "u2", "u3", "u4", "u5" };
	struct pull_request pr;
	long long n = make_pull(b, "acme/shop", "sre/incident-8", "main");
	char *reviews = xstrfmt("/pulls/%lld/reviews$", n);
	char *linked = xstrfmt("^/repositories/[0-9]+/pulls/%lld/reviews$", n);
	int mark;

	for (size_t i = 0; i < ARRAY_SIZE(users); i++)
		act(b, "acme/shop", n, "review", users[i], "APPROVED");
	act(b, "acme/shop", n, "review", "u1", "CHANGES_REQUESTED");
	mark = fake_log_mark(b);
	is_int(get(pb, n, &pr), 0, "pages: 0");
	ok(pr.approved == 4 && pr.changes_requested == 1,
	   "pages: six reviews over three pages, u1's last one counts (%d, %d)", pr.approved,
	   pr.changes_requested);
	is_int(fake_count(b, mark, "GET", reviews), 3, "pages: three pages of two fetched");
	is_int(fake_count(b, mark, "GET", linked), 2, "pages: the later ones through the Link header");
	check_headers(b, mark, "pages");
	pull_request_release(&pr);
	free(reviews);
	free(linked);
}

static void test_foreign_link(const struct fake *a, const struct fake *b, struct pulls *p)
{
	struct strbuf json = STRBUF_INIT, err = STRBUF_INIT;
	struct pull_request pr;
	long long n = make_pull(a, "acme/shop", "sre/incident-9", "main");
	int mark_b = fake_log_mark(b), ret;
	const char *msg;

	strbuf_addf(&json, "{\"method\":\"GET\",\"path\":\"/reviews$\",\"status\":200,\"headers\":"
		    "{\"Link\":\"<%s/repos/acme/shop/pulls/%lld/reviews?page=2>; rel=\\\"next\\\"\"},"
		    "\"body\":[{\"id\":1,\"user\":{\"login\":\"x\"},\"state\":\"APPROVED\"}]}",
		    b->url, n);
	fake_fail(a, json.buf);
	capture_start();
	ret = pull_get(p, n, &pr, &err);
	msg = capture_end();
	is_int(ret, 0, "link: a next link to another server is not followed");
	is_int(pr.approved, 1, "link: ... the page read counts");
	is_int(fake_count(b, mark_b, NULL, "."), 0, "link: ... no request reached it");
	like(msg, "outside github.api", "link: ... with a warning");
	unlike(msg, TOKEN, "link: ... that holds no token");
	pull_request_release(&pr);

	/* rel="next" among others, and a comma inside a URL. */
	strbuf_reset(&json);
	strbuf_addf(&json, "{\"method\":\"GET\",\"path\":\"/reviews$\",\"status\":200,\"headers\":"
		    "{\"Link\":\"<%s/x?a=1,2>; rel=\\\"prev\\\", <%s/repos/acme/shop/pulls/%lld/"
		    "reviews?per_page=100&page=1>; title=\\\"a, b\\\"; rel=\\\"last next\\\"\"},"
		    "\"body\":[{\"id\":1,\"user\":{\"login\":\"y\"},\"state\":\"CHANGES_REQUESTED\"}]}",
		    a->url, a->url, n);
	fake_fail(a, json.buf);
	ret = pull_get(p, n, &pr, &err);
	ok(ret == 0 && pr.changes_requested == 1,
	   "link: rel=\"last next\" after a quoted comma is followed to the real page");
	pull_request_release(&pr);
	strbuf_release(&json);
	strbuf_release(&err);
}

static void test_errors(const struct fake *a, struct pulls *p)
{
	static const char *const bad_branches[] = {
		"", "-x", "/x", "x/", "x.", "a..b", "a b", "a~b", "a^b", "a:b", "a?b", "a*b",
		"a[b", "a\\b", "a@{b", "@", "a//b", ".x", "a/.b", "x.lock", "a.lock/b", "a\nb",
	};
	struct strbuf err = STRBUF_INIT;
	struct config cfg = CONFIG_INIT;
	struct pull_request pr;
	struct pulls *bad;
	int mark, ret;

	ret = pull_get(p, 999, &pr, &err);
	is_int(ret, -1, "404: -1");
	is_str(err.buf, "github: reading pull request 999: HTTP 404 Not Found", "404: one line");
	ok(!pr.url && !pr.state && !pr.number, "404: out is empty");
	pull_request_release(&pr);

	strbuf_reset(&err);
	ret = pull_get(p, 1, &pr, &err);
	is_int(ret, -1, "404: an issue is not a pull request");
	pull_request_release(&pr);

	setenv("GITHUB_TOKEN", "wrong-secret-token", 1);
	bad = client(&cfg, a->url, "acme/shop", NULL, &err);
	setenv("GITHUB_TOKEN", TOKEN, 1);
	ok(bad != NULL, "401: a client with a wrong token opens");
	if (bad) {
		strbuf_reset(&err);
		ret = pull_get(bad, 2, &pr, &err);
		is_int(ret, -1, "401: -1");
		is_str(err.buf, "github: reading pull request 2: HTTP 401 Bad credentials",
		       "401: one line");
		pull_request_release(&pr);
		strbuf_reset(&err);
		mark = fake_log_mark(a);
		ret = pull_open(bad, "sre/incident-10", "main", "t", "b", &pr, &err);
		is_int(ret, -1, "401: open is -1");
		is_str(err.buf, "github: looking for the pull request of sre/incident-10: HTTP 401 "
		       "Bad credentials", "401: ... at the lookup");
		is_int(fake_count(a, mark, "POST", NULL), 0, "401: ... before any POST");
		pull_request_release(&pr);
	}
	pulls_free(bad);
	config_clear(&cfg);

	strbuf_reset(&err);
	fake_fail(a, "{\"path\":\"/pulls/2$\",\"status\":400,"
		     "\"body\":{\"message\":\"the token " TOKEN " is not allowed here\"}}");
	ret = pull_get(p, 2, &pr, &err);
	is_int(ret, -1, "redaction: a 400 is -1");
	like(err.buf, "the token <redacted> is not allowed", "redaction: the echo is redacted");
	unlike(err.buf, TOKEN, "redaction: the token never appears in err");
	pull_request_release(&pr);

	/* http.retries is 3 by default: four attempts in all. */
	strbuf_reset(&err);
	mark = fake_log_mark(a);
	fake_fail(a, "{\"path\":\"/pulls/2$\",\"status\":500,\"times\":4,"
		     "\"body\":{\"message\":\"Server Error\"}}");
	ret = pull_get(p, 2, &pr, &err);
	is_int(ret, -1, "500: a lasting 500 is -1");
	ok(one_line(err.buf) && starts_with(err.buf, "github: reading pull request 2: HTTP 500") &&
	   strstr(err.buf, "Server Error"), "500: ... in one line (%s)", err.buf);
	is_int(fake_count(a, mark, "GET", "/pulls/2$"), 4, "500: ... after four attempts");
	pull_request_release(&pr);

	strbuf_reset(&err);
	fake_fail(a, "{\"path\":\"/pulls/2$\",\"status\":500}");
	ret = pull_get(p, 2, &pr, &err);
	ok(ret == 0 && pr.number == 2, "500: one 500 is retried");
	pull_request_release(&pr);

	strbuf_reset(&err);
	fake_fail(a, "{\"path\":\"/pulls/2/reviews$\",\"status\":503,\"times\":4}");
	ret = pull_get(p, 2, &pr, &err);
	is_int(ret, -1, "500: failing reviews fail the read");
	ok(starts_with(err.buf, "github: reading the reviews of pull request 2: "),
	   "500: ... naming the reviews (%s)", err.buf);
	ok(!pr.url && !pr.number, "500: ... and out is empty");
	pull_request_release(&pr);

	strbuf_reset(&err);
	fake_fail(a, "{\"path\":\"/pulls/2$\",\"status\":200,\"body\":\"<html>\"}");
	ret = pull_get(p, 2, &pr, &err);
	is_str(err.buf, "github: reading pull request 2: the answer is not a JSON object",
	       "not json: said");
	pull_request_release(&pr);

	strbuf_reset(&err);
	fake_fail(a, "{\"path\":\"/pulls/2$\",\"status\":200,\"body\":{\"state\":\"open\"}}");
	ret = pull_get(p, 2, &pr, &err);
	is_str(err.buf, "github: reading pull request 2: the answer holds no pull request number",
	       "no number: said");
	pull_request_release(&pr);

	strbuf_reset(&err);
	mark = fake_log_mark(a);
	ret = pull_get(p, 0, &pr, &err);
	ok(ret == -1 && strstr(err.buf, "not a pull request number"), "get: 0 is not a number");
	for (size_t i = 0; i < ARRAY_SIZE(bad_branches); i++) {
		strbuf_reset(&err);
		ret = pull_open(p, bad_branches[i], "main", "t", "b", &pr, &err);
		if (!ok(ret == -1 && strstr(err.buf, "is not a branch name") && one_line(err.buf),
			"branch: head '%s' is refused",
			strchr(bad_branches[i], '\n') ? "a<newline>b" : bad_branches[i]))
			diag_text("err", err.buf);
		pull_request_release(&pr);
	}
	strbuf_reset(&err);
	ret = pull_open(p, "sre/x", "ma in", "t", "b", &pr, &err);
	is_str(err.buf, "github: opening a pull request: 'ma in' is not a branch name",
	       "branch: a bad base is refused too");
	strbuf_reset(&err);
	ret = pull_open(p, "sre/x", "main", "", "b", &pr, &err);
	is_str(err.buf, "github: opening a pull request from sre/x: a pull request needs a title",
	       "title: an empty title is refused");
	is_int(fake_count(a, mark, NULL, "."), 0, "refused: ... all before any request");
	strbuf_release(&err);
}

int main(void)
{
	struct config cfg = CONFIG_INIT, cfg_b = CONFIG_INIT;
	struct strbuf err = STRBUF_INIT;
	struct fake a = { 0 }, b = { 0 };
	struct pulls *p = NULL, *pb = NULL;

	if (!fake_begin())
		return 0;
	if (test_begin("pulls") < 0)
		return 1;
	setenv("GITHUB_TOKEN", TOKEN, 1);
	if (fake_start(&a, "github", "github", NULL) < 0 ||
	    fake_start(&b, "github", "github-small", "--per-page", "2", NULL) < 0) {
		printf("Bail out! the fake GitHub did not start\n");
		fake_stop(&a);
		fake_stop(&b);
		return 1;
	}
	a.auth = b.auth = "Bearer " TOKEN;
	p = client(&cfg, a.url, "acme/shop", NULL, &err);
	pb = client(&cfg_b, b.url, "acme/shop", NULL, &err);
	if (!ok(p && pb, "open: a client of acme/shop"))
		diag_text("err", err.buf);
	if (p && pb) {
		test_client(&a);
		test_open(&a, p);
		test_exists(&a, p);
		test_get(&a, p);
		test_pages(&b, pb);
		test_foreign_link(&a, &b, p);
		test_errors(&a, p);
	}
	pulls_free(p);
	pulls_free(pb);
	fake_stop(&a);
	fake_stop(&b);
	config_clear(&cfg);
	config_clear(&cfg_b);
	strbuf_release(&err);
	return test_end();
}
