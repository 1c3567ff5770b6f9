/*
 * github-api.c: the one GitHub REST client (see github-api.h), below both
 * its users: lib/tracker-github.c (issues) and lib/pulls.c (pull requests).
 * It calls only lib/http.c and lib/config.c.
 *
 * Pagination follows the Link header's rel="next" URL, and only when it
 * lies under github.api: a server never sends sre, with its token,
 * anywhere else. A page that names itself as the next is the last one; a
 * next link back to any other page already read is a loop, an error after
 * the pages read so far; and no list reads more than the caller's bound,
 * so a hostile server cannot keep sre asking.
 */
#include <ctype.h>
#include <strings.h>

#include "github-api.h"

/* ---- opening ---- */

int github_api_url(const struct config *cfg, char **out, struct strbuf *why)
{
	const char *api = config_get_string(cfg, "github.api");
	size_t len;

	*out = NULL;
	if (!api || !*api)
		api = GITHUB_DEFAULT_API;
	if (!starts_with(api, "https://") && !starts_with(api, "http://")) {
		strbuf_addf(why, "github.api is '%s': it takes an http:// or https:// URL", api);
		return -1;
	}
	len = strlen(api);
	while (len && api[len - 1] == '/')
		len--;
	*out = xstrndup(api, len);
	return 0;
}

static int valid_repo_part(const char *s, size_t len)
{
	if (!len || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return 0;
	return 1;
}

int github_repo_valid(const char *repo)
{
	const char *slash = repo ? strchr(repo, '/') : NULL;

	return slash && valid_repo_part(repo, (size_t)(slash - repo)) &&
	       valid_repo_part(slash + 1, strlen(slash + 1));
}

int github_api_token(const struct config *cfg, char **out)
{
	struct strbuf token = STRBUF_INIT;
	int r;

	*out = NULL;
	r = config_get_secret(cfg, "github.token", "GITHUB_TOKEN", &token);
	if (r) {
		/* -1: config_get_secret() said why, without the secret. */
		strbuf_release(&token);
		return r > 0 ? 1 : -1;
	}
	/* It goes into a header line: a blank or a newline would end it. */
	for (size_t i = 0; i < token.len; i++)
		if (iscntrl((unsigned char)token.buf[i]) || token.buf[i] == ' ') {
			memset(token.buf, 0, token.len);
			strbuf_release(&token);
			return -2;
		}
	*out = strbuf_detach(&token, NULL);
	return 0;
}

void github_api_init(struct github_api *gh, char *api, const char *repo, char *token,
		     struct http_client *http, struct strbuf *error)
{
	const char *slash = strchr(repo, '/');

	memset(gh, 0, sizeof(*gh));
	gh->api = api;
	gh->owner = xstrndup(repo, (size_t)(slash - repo));
	gh->name = xstrdup(slash + 1);
	gh->token = token;
	gh->http = http;
	gh->error = error;
	http_client_add_secret(http, token);
}

void github_api_release(struct github_api *gh)
{
	free(gh->api);
	free(gh->owner);
	free(gh->name);
	if (gh->token) {
		memset(gh->token, 0, strlen(gh->token));
		free(gh->token);
	}
	memset(gh, 0, sizeof(*gh));
}

void github_repo_url(struct strbuf *sb, const struct github_api *gh)
{
	strbuf_addf(sb, "%s/repos/", gh->api);
	http_urlencode(sb, gh->owner);
	strbuf_addch(sb, '/');
	http_urlencode(sb, gh->name);
}

/* ---- requests and answers ---- */

static const long ok_200[] = { 200, 0 };

int github_api_fail(struct github_api *gh, const char *what, const char *why)
{
	strbuf_reset(gh->error);
	strbuf_addf(gh->error, "github: %s: %s", what, why);
	http_redact(gh->http, gh->error);
	return GITHUB_FAIL;
}

/* GitHub's own words: "message" and errors[], or the start of a plain-text body. */
static void github_message(struct strbuf *sb, const struct http_response *res)
{
	cJSON *j = cJSON_ParseWithLength(res->body.buf, res->body.len), *v, *e;
	size_t before = sb->len;

	if (j) {
		v = cJSON_GetObjectItemCaseSensitive(j, "message");
		if (cJSON_IsString(v))
			strbuf_addf(sb, " %s", v->valuestring);
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "errors")) {
			cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "field");
			cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
			cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");

			strbuf_addstr(sb, sb->len > before ? "; " : " ");
			if (cJSON_IsString(m))
				strbuf_addstr(sb, m->valuestring);
			else
				strbuf_addf(sb, "%s %s", cJSON_IsString(f) ? f->valuestring : "?",
					    cJSON_IsString(c) ? c->valuestring : "invalid");
		}
		cJSON_Delete(j);
	}
	if (sb->len == before && res->body.len) {
		/* Plain text (a proxy's page): its first line, bounded. */
		size_t n = utf8_cut(res->body.buf, strcspn(res->body.buf, "\r\n"), 200);
		strbuf_addf(sb, " %.*s", (int)n, res->body.buf);
	}
}

/* The answer check: a GITHUB_* code, and one line in *gh->error unless GITHUB_OK. */
static int github_check(struct github_api *gh, const char *what,
			const struct http_response *res, const long *ok_status)
{
	strbuf_reset(gh->error);
	if (res->outcome != HTTP_OK) {
		strbuf_addf(gh->error, "github: %s: ", what);
		/* With no answer at all, curl's words do not say from where. */
		if (!res->status && !strstr(res->error.buf, gh->api))
			strbuf_addf(gh->error, "%s: ", gh->api);
		strbuf_addstr(gh->error, res->error.buf);
		if (res->status)
			github_message(gh->error, res);
		http_redact(gh->http, gh->error);
		return res->outcome == HTTP_TRANSIENT ? GITHUB_RETRY : GITHUB_FAIL;
	}
	for (const long *s = ok_status; *s; s++)
		if (res->status == *s)
			return GITHUB_OK;
	strbuf_addf(gh->error, "github: %s: HTTP %ld", what, res->status);
	github_message(gh->error, res);
	http_redact(gh->http, gh->error);
	if (res->status == 404)
		return GITHUB_NOT_FOUND;
	if (res->status == 429 || res->status >= 500)
		return GITHUB_RETRY;
	return GITHUB_FAIL;
}

int github_api_call(struct github_api *gh, const char *what, const char *method,
		    const char *url, const cJSON *body, int no_retry,
		    const long *ok_status, struct http_response *res)
{
	struct http_request req = HTTP_REQUEST_INIT;
	char *json = NULL;
	int ret;

	req.method = method;
	req.url = url;
	req.no_retry = no_retry;
	strvec_push(&req.headers, "Accept: application/vnd.github+json");
	strvec_pushf(&req.headers, "Authorization: Bearer %s", gh->token);
	strvec_push(&req.headers, "X-GitHub-Api-Version: 2022-11-28");
	if (body) {
		json = cJSON_PrintUnformatted(body);
		if (!json) {
			http_request_release(&req);
			return github_api_fail(gh, what, "cannot encode the request as JSON");
		}
		strvec_push(&req.headers, "Content-Type: application/json");
		req.body = json;
		req.body_len = strlen(json);
	}
	http_do(gh->http, &req, res);
	ret = github_check(gh, what, res, ok_status);
	cJSON_free(json);
	http_request_release(&req);
	return ret;
}

cJSON *github_api_answer(struct github_api *gh, const char *what,
			 const struct http_response *res, int want_array)
{
	cJSON *j = cJSON_ParseWithLength(res->body.buf, res->body.len);

	if (!j || (want_array ? !cJSON_IsArray(j) : !cJSON_IsObject(j))) {
		cJSON_Delete(j);
		github_api_fail(gh, what, want_array ? "the answer is not a JSON array" :
						       "the answer is not a JSON object");
		return NULL;
	}
	return j;
}

/* ---- pages ---- */

int github_under_api(const char *api, const char *url)
{
	const char *rest;

	return skip_prefix(url, api, &rest) && (!*rest || *rest == '/' || *rest == '?');
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Whether a rel value (a space-separated list of types) holds type. */
static int rel_has(const char *v, size_t len, const char *type)
{
	size_t tlen = strlen(type);

	while (len) {
		size_t n = 0;

		while (n < len && v[n] != ' ')
			n++;
		if (n == tlen && !strncasecmp(v, type, tlen))
			return 1;
		v += n;
		len -= n;
		while (len && *v == ' ') {
			v++;
			len--;
		}
	}
	return 0;
}

/*
 * GitHub's Link headers look like
 *   <https://api.github.com/repositories/1/issues?page=2>; rel="next",
 *   <https://api.github.com/repositories/1/issues?page=5>; rel="last"
 */
char *github_link_next(const char *link)
{
	const char *p = link;

	for (;;) {
		const char *target, *end;
		int is_next = 0;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p != '<')
			return NULL;
		target = p + 1;
		end = strchr(target, '>');
		if (!end)
			return NULL;
		p = end + 1;
		/* Parameters: ;name, ;name=token or ;name="quoted", up to a ','. */
		for (;;) {
			const char *name, *value = "";
			size_t nlen, vlen = 0;

			p = skip_blanks(p);
			if (*p != ';')
				break;
			name = p = skip_blanks(p + 1);
			while (*p && *p != '=' && *p != ';' && *p != ',' && *p != ' ')
				p++;
			nlen = (size_t)(p - name);
			p = skip_blanks(p);
			if (*p == '=') {
				p = skip_blanks(p + 1);
				if (*p == '"') {
					value = ++p;
					while (*p && *p != '"')
						p += (*p == '\\' && p[1]) ? 2 : 1;
					vlen = (size_t)(p - value);
					if (*p == '"')
						p++;
				} else {
					value = p;
					while (*p && *p != ';' && *p != ',' && *p != ' ')
						p++;
					vlen = (size_t)(p - value);
				}
			}
			if (nlen == 3 && !strncasecmp(name, "rel", 3) &&
			    rel_has(value, vlen, "next"))
				is_next = 1;
		}
		if (is_next)
			return xstrndup(target, (size_t)(end - target));
		while (*p && *p != ',')
			p++;
		if (!*p)
			return NULL;
	}
}

int github_api_list(struct github_api *gh, const char *what, const char *url,
		    int max_pages, github_each_fn each, void *data)
{
	struct strvec seen = STRVEC_INIT;
	char *page = xstrdup(url);
	int ret = GITHUB_OK;

	for (int n = 0; page; n++) {
		struct http_response res = HTTP_RESPONSE_INIT;
		const char *link;
		char *next = NULL;
		cJSON *items = NULL, *item;
		int stop = 0;

		if (n == max_pages) {
			ret = github_api_fail(gh, what, "more pages than sre follows; stopped there");
			break;
		}
		ret = github_api_call(gh, what, "GET", page, NULL, 0, ok_200, &res);
		if (ret == GITHUB_OK && !(items = github_api_answer(gh, what, &res, 1)))
			ret = GITHUB_FAIL;
		if (items) {
			cJSON_ArrayForEach(item, items)
				if ((stop = each(item, data)))
					break;
			link = http_header(&res, "link");
			if (!stop && link)
				next = github_link_next(link);
		}
		if (next && !github_under_api(gh->api, next)) {
			warning("github: %s: not following a next-page link "
				"outside github.api", what);
			free(next);
			next = NULL;
		} else if (next && !strcmp(next, page)) {
			/* A page that names itself as the next: the end, not a loop. */
			free(next);
			next = NULL;
		} else if (next && strvec_has(&seen, next)) {
			ret = github_api_fail(gh, what, "the next-page links loop back to a "
					      "page already read; stopped there");
			free(next);
			next = NULL;
		}
		cJSON_Delete(items);
		http_response_release(&res);
		strvec_push(&seen, page);
		free(page);
		page = next;
		if (ret != GITHUB_OK)
			break;
	}
	free(page);
	strvec_clear(&seen);
	return ret;
}
