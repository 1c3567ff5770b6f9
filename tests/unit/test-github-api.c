/*
 * test-github-api.c: unit tests of lib/github-api.c, the GitHub client
 * that the tracker backend and the pull requests share, printing TAP.
 *
 * The settings (github.api, the repository, the token) are read without
 * a network; one exchange, the answer check and the page loop run against
 * tests/fakes/github.py, with pages queued through /_fake/fail so that the
 * Link headers say exactly what each test needs. Besides what each call
 * returns, the tests read the fake's request log: how many requests came,
 * and the headers every one carries.
 */
#include "../../lib/config.h"
#include "../../lib/github-api.h"
#include "fake.h"

#define TOKEN "test-api-token"

static const long ok_200[] = { 200, 0 };

static int read_config(struct config *cfg, const char *text)
{
	return config_read_buffer(cfg, text, strlen(text), "test-github-api",
				  CONFIG_SCOPE_LOCAL);
}

static void test_settings(void)
{
	struct config cfg = CONFIG_INIT, cfg2 = CONFIG_INIT, cfg3 = CONFIG_INIT;
	struct strbuf why = STRBUF_INIT;
	char *api = NULL, *token = NULL;

	is_int(github_api_url(&cfg, &api, &why), 0, "url: none set is fine");
	is_str(api, GITHUB_DEFAULT_API, "url: ... and is api.github.com");
	free(api);

	read_config(&cfg2, "[github]\n\tapi = https://ghe.example/api/v3//\n");
	is_int(github_api_url(&cfg2, &api, &why), 0, "url: an Enterprise API");
	is_str(api, "https://ghe.example/api/v3", "url: ... without its trailing slashes");
	free(api);

	read_config(&cfg3, "[github]\n\tapi = ftp://x\n");
	is_int(github_api_url(&cfg3, &api, &why), -1, "url: ftp:// is refused");
	ok(!api, "url: ... with nothing returned");
	is_str(why.buf, "github.api is 'ftp://x': it takes an http:// or https:// URL",
	       "url: ... saying what it takes");

	ok(github_repo_valid("acme/shop.web_2-x"), "repo: owner/name");
	ok(!github_repo_valid(NULL), "repo: none is not one");
	ok(!github_repo_valid("acme"), "repo: no slash is not one");
	ok(!github_repo_valid("acme/.."), "repo: '..' is not a name");
	ok(!github_repo_valid("acme/shop/issues"), "repo: a second slash is not one");
	ok(!github_repo_valid("acme/sh op"), "repo: a blank is not one");
	ok(!github_repo_valid("/shop"), "repo: an empty owner is not one");

	unsetenv("GITHUB_TOKEN");
	is_int(github_api_token(&cfg, &token), 1, "token: none configured");
	ok(!token, "token: ... and none returned");
	setenv("GITHUB_TOKEN", "a b", 1);
	is_int(github_api_token(&cfg, &token), -2, "token: a blank is refused");
	ok(!token, "token: ... and none returned");
	setenv("GITHUB_TOKEN", "ok\r\nX-Evil: 1", 1);
	is_int(github_api_token(&cfg, &token), -2, "token: a line break is refused");
	setenv("GITHUB_TOKEN", TOKEN, 1);
	is_int(github_api_token(&cfg, &token), 0, "token: from $GITHUB_TOKEN");
	is_str(token, TOKEN, "token: ... as it is");
	free(token);

	ok(github_under_api("https://h/api", "https://h/api/repos?page=2"), "under: a path below");
	ok(github_under_api("https://h/api", "https://h/api?page=2"), "under: a query on it");
	ok(!github_under_api("https://h/api", "https://h/api2/repos"), "under: a longer name is not");
	ok(!github_under_api("https://h/api", "https://h.evil/api/repos"), "under: another host is not");

	config_clear(&cfg);
	config_clear(&cfg2);
	config_clear(&cfg3);
	strbuf_release(&why);
}

/* Queue a page of one item for the next GET of /pages, whose Link names next (or none). */
static void queue_page(const struct fake *f, int item, const char *next)
{
	struct strbuf json = STRBUF_INIT;

	strbuf_addstr(&json, "{\"method\":\"GET\",\"path\":\"/pages$\",\"status\":200,");
	if (next)
		strbuf_addf(&json, "\"headers\":{\"Link\":\"<%s%s>; rel=\\\"next\\\"\"},",
			    f->url, next);
	strbuf_addf(&json, "\"body\":[{\"n\":%d}]}", item);
	fake_fail(f, json.buf);
	strbuf_release(&json);
}

static int count_item(const cJSON *item, void *data)
{
	(*(int *)data)++;
	return 0;
}

static void test_client(const struct fake *f)
{
	struct config cfg = CONFIG_INIT;
	struct http_client http;
	struct strbuf error = STRBUF_INIT, url = STRBUF_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct github_api gh;
	cJSON *answer, *req;
	char *api, *token;
	int mark, items, ret;

	read_config(&cfg, "[http]\n\tretry-base = 10ms\n");
	if (!ok(http_client_init(&http, &cfg) == 0, "client: the HTTP client"))
		return;
	api = xstrdup(f->url);
	token = xstrdup(TOKEN);
	github_api_init(&gh, api, "acme/shop", token, &http, &error);
	github_repo_url(&url, &gh);
	is_str(url.buf + strlen(f->url), "/repos/acme/shop", "client: the repository's URL");

	/* One exchange: the headers GitHub asks for, and the answer read. */
	mark = fake_log_mark(f);
	strbuf_addstr(&url, "/issues?state=open");
	ret = github_api_call(&gh, "listing issues", "GET", url.buf, NULL, 0, ok_200, &res);
	is_int(ret, GITHUB_OK, "call: a GET");
	answer = ret == GITHUB_OK ? github_api_answer(&gh, "listing issues", &res, 1) : NULL;
	ok(cJSON_IsArray(answer), "call: ... answered with an array");
	cJSON_Delete(answer);
	http_response_release(&res);
	req = fake_last(f, mark, "GET", "/issues$");
	is_str(fake_header(req, "authorization"), "Bearer " TOKEN, "call: ... the token as a Bearer");
	is_str(fake_header(req, "accept"), "application/vnd.github+json", "call: ... GitHub's JSON");
	is_str(fake_header(req, "x-github-api-version"), "2022-11-28", "call: ... the API version");
	cJSON_Delete(req);

	/* An object where an array was wanted is said, not read. */
	ret = github_api_call(&gh, "reading the repository", "GET", url.buf, NULL, 0, ok_200,
			      &res);
	answer = github_api_answer(&gh, "reading the repository", &res, 0);
	ok(!answer, "answer: an array where an object was wanted is refused");
	is_str(error.buf, "github: reading the repository: the answer is not a JSON object",
	       "answer: ... in one line");
	http_response_release(&res);

	/* The answer check: 404 is NOT_FOUND, with GitHub's words. */
	strbuf_reset(&url);
	github_repo_url(&url, &gh);
	strbuf_addstr(&url, "/issues/999");
	ret = github_api_call(&gh, "reading issue 999", "GET", url.buf, NULL, 0, ok_200, &res);
	is_int(ret, GITHUB_NOT_FOUND, "check: 404 is not found");
	is_str(error.buf, "github: reading issue 999: HTTP 404 Not Found", "check: ... in one line");
	http_response_release(&res);

	/* 422 with errors[]: a failure for good, each error named. */
	fake_fail(f, "{\"method\":\"POST\",\"path\":\"/labels$\",\"status\":422,\"body\":"
		     "{\"message\":\"Validation Failed\",\"errors\":[{\"resource\":\"Label\","
		     "\"code\":\"missing_field\",\"field\":\"name\"}]}}");
	strbuf_reset(&url);
	github_repo_url(&url, &gh);
	strbuf_addstr(&url, "/labels");
	ret = github_api_call(&gh, "creating label", "POST", url.buf, NULL, 0, ok_200, &res);
	is_int(ret, GITHUB_FAIL, "check: 422 is a failure");
	is_str(error.buf, "github: creating label: HTTP 422 Validation Failed; name missing_field",
	       "check: ... with GitHub's message and errors");
	http_response_release(&res);

	/* A 500 every time, past the retries: queue it, say where. */
	fake_fail(f, "{\"method\":\"GET\",\"path\":\"/boom$\",\"status\":500,\"times\":9}");
	strbuf_reset(&url);
	github_repo_url(&url, &gh);
	strbuf_addstr(&url, "/boom");
	ret = github_api_call(&gh, "reading boom", "GET", url.buf, NULL, 0, ok_200, &res);
	is_int(ret, GITHUB_RETRY, "check: 500 past the retries is worth a retry later");
	ok(starts_with(error.buf, "github: reading boom: HTTP 500") && !strstr(error.buf, TOKEN),
	   "check: ... said in one line without the token");
	http_response_release(&res);

	/* Pages: followed to the end, each item seen once. */
	strbuf_reset(&url);
	strbuf_addf(&url, "%s/pages?page=1", f->url);
	queue_page(f, 1, "/pages?page=2");
	queue_page(f, 2, "/pages?page=3");
	queue_page(f, 3, NULL);
	items = 0;
	mark = fake_log_mark(f);
	ret = github_api_list(&gh, "listing pages", url.buf, 10, count_item, &items);
	is_int(ret, GITHUB_OK, "pages: three pages");
	is_int(items, 3, "pages: ... each item once");
	is_int(fake_count(f, mark, "GET", "/pages$"), 3, "pages: ... three requests");

	/* The caller's bound: no more pages than it allows (page 3 is never asked). */
	queue_page(f, 1, "/pages?page=2");
	queue_page(f, 2, "/pages?page=3");
	items = 0;
	mark = fake_log_mark(f);
	ret = github_api_list(&gh, "listing pages", url.buf, 2, count_item, &items);
	is_int(ret, GITHUB_FAIL, "bound: a third page past a bound of two is an error");
	is_str(error.buf, "github: listing pages: more pages than sre follows; stopped there",
	       "bound: ... that says so");
	is_int(fake_count(f, mark, "GET", "/pages$"), 2, "bound: ... after two requests");

	/* A loop: page 2 names page 1 again. */
	queue_page(f, 1, "/pages?page=2");
	queue_page(f, 2, "/pages?page=1");
	items = 0;
	mark = fake_log_mark(f);
	ret = github_api_list(&gh, "listing pages", url.buf, 10, count_item, &items);
	is_int(ret, GITHUB_FAIL, "loop: a next link back to page 1 is an error");
	like(error.buf, "loop back to a page already read", "loop: ... that says so");
	is_int(fake_count(f, mark, "GET", "/pages$"), 2, "loop: ... and page 1 is not read twice");

	/* A page that names itself is the last one. */
	queue_page(f, 1, "/pages?page=1");
	items = 0;
	ret = github_api_list(&gh, "listing pages", url.buf, 10, count_item, &items);
	ok(ret == GITHUB_OK && items == 1, "self: a page naming itself is the end");

	github_api_release(&gh);
	ok(!gh.token && !gh.api, "release: nothing left");
	http_client_release(&http);
	config_clear(&cfg);
	strbuf_release(&error);
	strbuf_release(&url);
}

int main(void)
{
	struct fake f = { 0 };

	if (test_begin("github-api") < 0)
		return 1;
	test_settings();
	if (fake_begin()) {
		if (fake_start(&f, "github", "github", "--token", TOKEN, NULL) < 0) {
			printf("Bail out! the fake GitHub did not start\n");
			return 1;
		}
		f.auth = "Bearer " TOKEN;
		test_client(&f);
		fake_stop(&f);
	}
	return test_end();
}
