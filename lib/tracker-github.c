/*
 * tracker-github.c: the GitHub Issues client behind the tracker interface.
 *
 * An incident is an issue of github.repo carrying three labels: `sre`,
 * `sre:state/<STATE>` (or the name github.label.<state> gives) and
 * `sre:fp/<hash>`, the short hash of its fingerprint, which is what find()
 * searches by. The issue body and every comment sre writes end with a
 * record block (record_format() in tracker-common.c) that sre reads back, so the
 * fingerprint survives a hash collision and a comment's idempotency key
 * survives a retry. INCIDENT_RESOLVED closes the issue; any other state
 * reopens it.
 *
 * Every request goes through lib/github-api.c, the GitHub client this
 * backend shares with lib/pulls.c (headers, timeouts, retries, rate
 * limits, redaction, and pagination only under github.api with its loop
 * check), so a failure reaches the user as one line: "github: <what>:
 * HTTP <status> <GitHub's message>", in t->error. No list reads more than
 * GITHUB_MAX_PAGES pages, so a hostile server cannot keep sre asking.
 */
#include <ctype.h>
#include <strings.h>

#include "json.h"
#include "github-api.h"
#include "timeutil.h"
#include "tracker-internal.h"

/* The client's codes are the tracker's: passed up as they are. */
_Static_assert((int)GITHUB_OK == (int)TRACKER_OK &&
	       (int)GITHUB_NOT_FOUND == (int)TRACKER_NOT_FOUND &&
	       (int)GITHUB_RETRY == (int)TRACKER_RETRY && (int)GITHUB_FAIL == (int)TRACKER_FAIL,
	       "github-api.h and tracker.h agree on their codes");

#define GITHUB_MAX_PAGES 1000
/* GitHub refuses longer label names, and longer titles (in characters). */
#define GITHUB_LABEL_MAX 50
#define GITHUB_TITLE_MAX 256
#define GITHUB_BODY_MAX 65536   /* characters of an issue's body */
#define GITHUB_LOGIN_MAX 39
#define GITHUB_LOGIN_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"
/* sre's own markers (escalate.architect-label): what find_labelled() takes. */
#define MARKER_CHARS "abcdefghijklmnopqrstuvwxyz0123456789-"

#define LABEL_SRE "sre"
#define LABEL_STATE_PREFIX "sre:state/"
#define LABEL_FP_PREFIX "sre:fp/"

struct github {
	struct github_api api;  /* github.api, github.repo, the token; t->http, t->error */
	char *state_label[STATE__COUNT];
	struct strvec known_labels;  /* seen to exist, for the tracker's life */
};

static const long ok_200[] = { 200, 0 };
static const long ok_201[] = { 201, 0 };
static const long ok_200_204[] = { 200, 204, 0 };

/* ---- requests ---- */

/* The client's calls, said in t->error (the client borrows it). */
static int github_fail(struct tracker *t, const char *what, const char *why)
{
	return github_api_fail(&((struct github *)t->priv)->api, what, why);
}

/* One exchange with GitHub; res is the caller's to release, whatever the outcome. */
static int github_call(struct tracker *t, const char *what, const char *method,
		       const char *url, const cJSON *body, int no_retry,
		       const long *ok_status, struct http_response *res)
{
	return github_api_call(&((struct github *)t->priv)->api, what, method, url, body,
			       no_retry, ok_status, res);
}

/* The answer's JSON, or NULL after a message in t->error. */
static cJSON *github_answer(struct tracker *t, const char *what,
			    const struct http_response *res, int want_array)
{
	return github_api_answer(&((struct github *)t->priv)->api, what, res, want_array);
}

/* ---- URLs ---- */

static void repo_url(struct strbuf *sb, const struct github *gh)
{
	github_repo_url(sb, &gh->api);
}

/* An issue number is all digits; anything else must not reach a path. */
static int valid_issue_key(const char *key)
{
	size_t n = strspn(key, "0123456789");

	return n && n <= 18 && !key[n] && key[0] != '0';
}

/* "<api>/repos/<o>/<r>/issues/<key>", or TRACKER_FAIL for a bad key. */
static int issue_url(struct tracker *t, struct strbuf *sb, const char *key,
		     const char *what)
{
	if (!valid_issue_key(key))
		return github_fail(t, what, "not an issue number");
	repo_url(sb, t->priv);
	strbuf_addf(sb, "/issues/%s", key);
	return TRACKER_OK;
}

/* GET url and every page after it, calling each() on every item until it returns 1. */
static int github_list(struct tracker *t, const char *what, const char *url,
		       github_each_fn each, void *data)
{
	return github_api_list(&((struct github *)t->priv)->api, what, url, GITHUB_MAX_PAGES,
			       each, data);
}

/* ---- labels ---- */

static const char *state_label(const struct github *gh, int state)
{
	return gh->state_label[state];
}

/* The state a label stands for, or -1. Both the configured names and the
 * default sre:state/<STATE> count, so a renamed label still reads back. */
static int label_state(const struct github *gh, const char *name)
{
	enum incident_state s;
	const char *rest;

	for (int i = 0; i < STATE__COUNT; i++)
		if (!strcasecmp(name, gh->state_label[i]))
			return i;
	if (skip_prefix(name, LABEL_STATE_PREFIX, &rest) &&
	    !incident_state_parse(rest, &s))
		return (int)s;
	return -1;
}

static int answer_has_error_code(const struct http_response *res, const char *code)
{
	cJSON *j = cJSON_ParseWithLength(res->body.buf, res->body.len), *e;
	int found = 0;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "errors")) {
		cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
		if (cJSON_IsString(c) && !strcmp(c->valuestring, code))
			found = 1;
	}
	cJSON_Delete(j);
	return found;
}

/*
 * Make sure a label exists before an issue uses it, so it gets sre's
 * colour and description rather than GitHub's grey default. A label that
 * already exists (422 already_exists) is as good as a new one.
 */
static int label_ensure(struct tracker *t, const char *name, const char *color,
			const char *description)
{
	struct github *gh = t->priv;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct strbuf url = STRBUF_INIT, what = STRBUF_INIT;
	cJSON *body;
	int ret;

	for (size_t i = 0; i < gh->known_labels.nr; i++)
		if (!strcasecmp(gh->known_labels.v[i], name))
			return TRACKER_OK;
	repo_url(&url, gh);
	strbuf_addstr(&url, "/labels");
	strbuf_addf(&what, "creating label %s", name);
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "name", name);
	cJSON_AddStringToObject(body, "color", color);
	cJSON_AddStringToObject(body, "description", description);
	ret = github_call(t, what.buf, "POST", url.buf, body, 0, ok_201, &res);
	if (ret == TRACKER_FAIL && res.status == 422 &&
	    answer_has_error_code(&res, "already_exists")) {
		strbuf_reset(&t->error);
		ret = TRACKER_OK;
	}
	if (ret == TRACKER_OK)
		strvec_push(&gh->known_labels, name);
	cJSON_Delete(body);
	http_response_release(&res);
	strbuf_release(&url);
	strbuf_release(&what);
	return ret;
}

static int state_label_ensure(struct tracker *t, enum incident_state s)
{
	const char *color = s == STATE_INCIDENT_RESOLVED ? "0e8a16" :
			    s == STATE_INCIDENT_REQUIRES_HUMAN ? "d93f0b" : "fbca04";
	char *desc = xstrfmt("sre incident state %s", incident_state_name(s));
	int ret = label_ensure(t, state_label(t->priv, s), color, desc);

	free(desc);
	return ret;
}

static char *fp_label(const char *fingerprint)
{
	char h[13];

	fingerprint_short(h, fingerprint);
	return xstrfmt(LABEL_FP_PREFIX "%s", h);
}

/* ---- issues ---- */

/*
 * A GitHub id or number as text; NULL unless a whole number, given as a
 * number or as digits. It goes into URLs (/issues/<number>): a server's
 * "1/../../x" or "1?x" must not.
 */
static char *json_id(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	long long n;

	if (cJSON_IsString(v)) {
		if (!*v->valuestring || strspn(v->valuestring, "0123456789") != strlen(v->valuestring) ||
		    parse_ll(v->valuestring, &n) < 0)
			return NULL;
	} else if (json_to_ll(v, 0, JSON_INT_MAX, &n) < 0) {
		return NULL;
	}
	return xstrfmt("%lld", n);
}

static int is_pull_request(const cJSON *item)
{
	return cJSON_HasObjectItem(item, "pull_request");
}

/* The record block in an issue's body, or NULL. Caller deletes it. */
static cJSON *body_record(const cJSON *item)
{
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(item, "body");
	cJSON *record;
	char *prose;

	if (!cJSON_IsString(body))
		return NULL;
	record_parse(body->valuestring, &prose, &record);
	free(prose);
	return record;
}

/* Fill out from an issue object; 0, or -1 when it has no number. */
static int issue_from_json(const struct github *gh, const cJSON *item,
			   struct remote_issue *out)
{
	const cJSON *label, *st = cJSON_GetObjectItemCaseSensitive(item, "state");
	cJSON *record;

	memset(out, 0, sizeof(*out));
	out->state = -1;
	out->key = json_id(item, "number");
	if (!out->key)
		return -1;
	out->url = json_text(item, "html_url");
	out->title = json_text(item, "title");
	out->body = json_text(item, "body");
	record = body_record(item);
	out->fingerprint = json_text(record, "fingerprint");
	out->service = json_text(record, "service");
	out->severity = json_text(record, "severity");
	cJSON_Delete(record);
	cJSON_ArrayForEach(label, cJSON_GetObjectItemCaseSensitive(item, "labels")) {
		const cJSON *name = cJSON_IsString(label) ? label :
				    cJSON_GetObjectItemCaseSensitive(label, "name");
		int s;

		if (!cJSON_IsString(name) || out->status)
			continue;
		s = label_state(gh, name->valuestring);
		if (s >= 0) {
			out->state = s;
			out->status = xstrdup(name->valuestring);
		}
	}
	out->closed = cJSON_IsString(st) && !strcmp(st->valuestring, "closed");
	if (!out->status)
		out->status = xstrdup(out->closed ? "closed" : "open");
	out->assignee = json_text(cJSON_GetObjectItemCaseSensitive(item, "assignee"), "login");
	out->updated = json_text(item, "updated_at");
	return 0;
}

static int issue_fill(struct tracker *t, const char *what, const cJSON *item,
		      struct remote_issue *out)
{
	if (issue_from_json(t->priv, item, out) < 0)
		return github_fail(t, what, "the answer holds no issue number");
	return TRACKER_OK;
}

/* GET one issue as JSON. */
static int issue_read(struct tracker *t, const char *key, const char *what, cJSON **out)
{
	struct http_response res = HTTP_RESPONSE_INIT;
	struct strbuf url = STRBUF_INIT;
	int ret;

	*out = NULL;
	ret = issue_url(t, &url, key, what);
	if (ret == TRACKER_OK)
		ret = github_call(t, what, "GET", url.buf, NULL, 0, ok_200, &res);
	if (ret == TRACKER_OK && !(*out = github_answer(t, what, &res, 0)))
		ret = TRACKER_FAIL;
	http_response_release(&res);
	strbuf_release(&url);
	return ret;
}

static int github_create(struct tracker *t, const struct incident *inc,
			 struct remote_issue *out)
{
	struct github *gh = t->priv;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct strbuf url = STRBUF_INIT, text = STRBUF_INIT;
	char *fp = fp_label(inc->fingerprint);
	cJSON *record, *body, *labels, *answer = NULL;
	char *title;
	int ret;

	memset(out, 0, sizeof(*out));
	out->state = -1;
	ret = label_ensure(t, LABEL_SRE, "1d76db", "An incident mirrored by sre");
	if (ret == TRACKER_OK)
		ret = state_label_ensure(t, inc->state);
	if (ret == TRACKER_OK)
		ret = label_ensure(t, fp, "ededed", "The fingerprint of an sre incident");
	if (ret != TRACKER_OK) {
		free(fp);
		return ret;
	}

	record = tracker_incident_record(inc);

	strbuf_addf(&text, "Opened by sre as local incident #%lld.\n\n", inc->id);
	strbuf_addf(&text, "- **Service:** %s\n", inc->service ? inc->service : "?");
	strbuf_addf(&text, "- **Severity:** %s\n", incident_severity_name(inc->severity));
	strbuf_addf(&text, "- **Source:** %s\n", inc->source ? inc->source : "?");
	strbuf_addf(&text, "- **Fingerprint:** `%s`\n\n", inc->fingerprint);
	strbuf_addstr(&text, "sre reads the block below back; please leave it as it is.");
	record_format(&text, record);

	body = cJSON_CreateObject();
	/* GitHub refuses a title past 256 characters; the record keeps it whole. */
	title = utf8_shorten(inc->title ? inc->title : "", GITHUB_TITLE_MAX);
	cJSON_AddStringToObject(body, "title", title);
	free(title);
	cJSON_AddStringToObject(body, "body", text.buf);
	labels = cJSON_AddArrayToObject(body, "labels");
	cJSON_AddItemToArray(labels, cJSON_CreateString(LABEL_SRE));
	cJSON_AddItemToArray(labels, cJSON_CreateString(state_label(gh, inc->state)));
	cJSON_AddItemToArray(labels, cJSON_CreateString(fp));

	repo_url(&url, gh);
	strbuf_addstr(&url, "/issues");
	/* A second POST would open a second issue: the caller retries, after find(). */
	ret = github_call(t, "creating issue", "POST", url.buf, body, 1, ok_201, &res);
	if (ret == TRACKER_OK && !(answer = github_answer(t, "creating issue", &res, 0)))
		ret = TRACKER_FAIL;
	if (ret == TRACKER_OK)
		ret = issue_fill(t, "creating issue", answer, out);

	cJSON_Delete(answer);
	cJSON_Delete(body);
	cJSON_Delete(record);
	http_response_release(&res);
	strbuf_release(&url);
	strbuf_release(&text);
	free(fp);
	return ret;
}

static int github_get(struct tracker *t, const char *key, struct remote_issue *out)
{
	char *what = xstrfmt("reading issue %s", key);
	cJSON *issue;
	int ret;

	memset(out, 0, sizeof(*out));
	out->state = -1;
	ret = issue_read(t, key, what, &issue);
	if (ret == TRACKER_OK)
		ret = issue_fill(t, what, issue, out);
	cJSON_Delete(issue);
	free(what);
	return ret;
}

struct find_state {
	const struct github *gh;
	const char *fingerprint;
	struct remote_issue *out;
	int found;
};

static int find_one(const cJSON *item, void *data)
{
	struct find_state *fs = data;
	cJSON *record;
	const cJSON *fp;
	int match;

	if (is_pull_request(item))
		return 0;
	/* The label is a short hash: the record says whether it is ours. */
	record = body_record(item);
	fp = cJSON_GetObjectItemCaseSensitive(record, "fingerprint");
	match = cJSON_IsString(fp) && !strcmp(fp->valuestring, fs->fingerprint);
	cJSON_Delete(record);
	if (!match || issue_from_json(fs->gh, item, fs->out) < 0)
		return 0;
	fs->found = 1;
	return 1;
}

static int github_find(struct tracker *t, const char *fingerprint, struct remote_issue *out)
{
	struct strbuf url = STRBUF_INIT;
	struct find_state fs = { t->priv, fingerprint, out, 0 };
	char *fp = fp_label(fingerprint);
	int ret;

	memset(out, 0, sizeof(*out));
	out->state = -1;
	repo_url(&url, t->priv);
	strbuf_addstr(&url, "/issues?state=open&labels=");
	http_urlencode(&url, fp);
	strbuf_addstr(&url, "&per_page=100");
	ret = github_list(t, "finding issue", url.buf, find_one, &fs);
	if (ret == TRACKER_OK && !fs.found) {
		strbuf_reset(&t->error);
		strbuf_addf(&t->error, "github: no open issue has fingerprint %s", fingerprint);
		ret = TRACKER_NOT_FOUND;
	}
	strbuf_release(&url);
	free(fp);
	return ret;
}

static int github_move(struct tracker *t, const char *key, enum incident_state to)
{
	struct github *gh = t->priv;
	const char *target;
	struct strvec stale = STRVEC_INIT;
	struct strbuf base = STRBUF_INIT, url = STRBUF_INIT, what = STRBUF_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	const cJSON *label, *st;
	cJSON *issue, *body = NULL;
	int has_target = 0, closed, want_closed = to == STATE_INCIDENT_RESOLVED, ret;

	if ((unsigned)to >= STATE__COUNT) {
		strbuf_addf(&what, "moving issue %s", key);
		ret = github_fail(t, what.buf, "no such state");
		goto out;
	}
	target = state_label(gh, to);
	strbuf_addf(&what, "reading issue %s", key);
	ret = issue_read(t, key, what.buf, &issue);
	if (ret != TRACKER_OK)
		goto out;
	cJSON_ArrayForEach(label, cJSON_GetObjectItemCaseSensitive(issue, "labels")) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(label, "name");

		if (!cJSON_IsString(name) || label_state(gh, name->valuestring) < 0)
			continue;
		if (!strcasecmp(name->valuestring, target))
			has_target = 1;
		else
			strvec_push(&stale, name->valuestring);
	}
	st = cJSON_GetObjectItemCaseSensitive(issue, "state");
	closed = cJSON_IsString(st) && !strcmp(st->valuestring, "closed");
	cJSON_Delete(issue);
	issue_url(t, &base, key, what.buf);

	/*
	 * The new label goes on before the old ones come off, so that a
	 * failure half-way leaves the issue with a state, never without.
	 */
	if (!has_target) {
		ret = state_label_ensure(t, to);
		if (ret != TRACKER_OK)
			goto out;
		strbuf_reset(&what);
		strbuf_addf(&what, "labelling issue %s", key);
		strbuf_addf(&url, "%s/labels", base.buf);
		body = cJSON_CreateObject();
		cJSON_AddItemToArray(cJSON_AddArrayToObject(body, "labels"),
				     cJSON_CreateString(target));
		ret = github_call(t, what.buf, "POST", url.buf, body, 0, ok_200, &res);
		http_response_release(&res);
		if (ret != TRACKER_OK)
			goto out;
	}
	for (size_t i = 0; i < stale.nr; i++) {
		strbuf_reset(&url);
		strbuf_addf(&url, "%s/labels/", base.buf);
		http_urlencode(&url, stale.v[i]);
		strbuf_reset(&what);
		strbuf_addf(&what, "removing label %s from issue %s", stale.v[i], key);
		ret = github_call(t, what.buf, "DELETE", url.buf, NULL, 0, ok_200_204, &res);
		/* Someone took it off first: what we wanted. */
		if (ret == TRACKER_NOT_FOUND) {
			strbuf_reset(&t->error);
			ret = TRACKER_OK;
		}
		http_response_release(&res);
		if (ret != TRACKER_OK)
			goto out;
	}
	if (closed != want_closed) {
		cJSON_Delete(body);
		body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "state", want_closed ? "closed" : "open");
		if (want_closed)
			cJSON_AddStringToObject(body, "state_reason", "completed");
		strbuf_reset(&what);
		strbuf_addf(&what, "%s issue %s", want_closed ? "closing" : "reopening", key);
		ret = github_call(t, what.buf, "PATCH", base.buf, body, 0, ok_200, &res);
		http_response_release(&res);
	}
out:
	cJSON_Delete(body);
	strvec_clear(&stale);
	strbuf_release(&base);
	strbuf_release(&url);
	strbuf_release(&what);
	return ret;
}

static int github_label(struct tracker *t, const char *key, const char *add,
			const char *remove)
{
	struct strbuf base = STRBUF_INIT, url = STRBUF_INIT, what = STRBUF_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	cJSON *body = NULL;
	int ret = TRACKER_OK;

	strbuf_addf(&what, "labelling issue %s", key);
	ret = issue_url(t, &base, key, what.buf);
	if (ret != TRACKER_OK)
		goto out;
	if (add) {
		ret = label_ensure(t, add, "ededed", "set by sre");
		if (ret != TRACKER_OK)
			goto out;
		strbuf_addf(&url, "%s/labels", base.buf);
		body = cJSON_CreateObject();
		cJSON_AddItemToArray(cJSON_AddArrayToObject(body, "labels"), cJSON_CreateString(add));
		ret = github_call(t, what.buf, "POST", url.buf, body, 0, ok_200, &res);
		http_response_release(&res);
		if (ret != TRACKER_OK)
			goto out;
	}
	if (remove) {
		strbuf_reset(&url);
		strbuf_addf(&url, "%s/labels/", base.buf);
		http_urlencode(&url, remove);
		strbuf_reset(&what);
		strbuf_addf(&what, "removing label %s from issue %s", remove, key);
		ret = github_call(t, what.buf, "DELETE", url.buf, NULL, 0, ok_200_204, &res);
		if (ret == TRACKER_NOT_FOUND) {
			strbuf_reset(&t->error);
			ret = TRACKER_OK;
		}
		http_response_release(&res);
	}
out:
	cJSON_Delete(body);
	strbuf_release(&base);
	strbuf_release(&url);
	strbuf_release(&what);
	return ret;
}

static int github_comment(struct tracker *t, const char *key, const char *prose,
			  const cJSON *record)
{
	struct http_response res = HTTP_RESPONSE_INIT;
	struct strbuf url = STRBUF_INIT, text = STRBUF_INIT;
	char *what = xstrfmt("commenting on issue %s", key);
	cJSON *body;
	int ret;

	ret = issue_url(t, &url, key, what);
	if (ret != TRACKER_OK)
		goto out;
	strbuf_addstr(&url, "/comments");
	tracker_quiet_mentions(&text, prose);
	if (record)
		record_format(&text, record);
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "body", text.buf);
	/* Not repeated blindly: the record's key lets the caller check first. */
	ret = github_call(t, what, "POST", url.buf, body, 1, ok_201, &res);
	cJSON_Delete(body);
out:
	http_response_release(&res);
	strbuf_release(&url);
	strbuf_release(&text);
	free(what);
	return ret;
}

struct comment_list {
	struct remote_comment *v;
	size_t nr, alloc;
};

static int comment_one(const cJSON *item, void *data)
{
	struct comment_list *cl = data;
	struct remote_comment *c;
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(item, "body");

	ALLOC_GROW(cl->v, cl->nr + 1, cl->alloc);
	c = &cl->v[cl->nr++];
	memset(c, 0, sizeof(*c));
	c->id = json_id(item, "id");
	c->author = json_text(cJSON_GetObjectItemCaseSensitive(item, "user"), "login");
	c->author_id = c->author ? xstrdup(c->author) : NULL;
	c->created = json_text(item, "created_at");
	record_parse(cJSON_IsString(body) ? body->valuestring : "", &c->text, &c->record);
	return 0;
}

static int github_comments(struct tracker *t, const char *key,
			   struct remote_comment **out, size_t *nr)
{
	struct comment_list cl = { NULL, 0, 0 };
	struct strbuf url = STRBUF_INIT;
	char *what = xstrfmt("reading the comments of issue %s", key);
	int ret;

	*out = NULL;
	*nr = 0;
	ret = issue_url(t, &url, key, what);
	if (ret == TRACKER_OK) {
		strbuf_addstr(&url, "/comments?per_page=100");
		ret = github_list(t, what, url.buf, comment_one, &cl);
	}
	if (ret == TRACKER_OK) {
		*out = cl.v;
		*nr = cl.nr;
	} else {
		remote_comment_list_free(cl.v, cl.nr);
	}
	strbuf_release(&url);
	free(what);
	return ret;
}

struct issue_list {
	const struct github *gh;
	struct remote_issue *v;
	size_t nr, alloc;
	int max;
};

static int search_one(const cJSON *item, void *data)
{
	struct issue_list *il = data;

	if (is_pull_request(item))
		return 0;
	ALLOC_GROW(il->v, il->nr + 1, il->alloc);
	if (issue_from_json(il->gh, item, &il->v[il->nr]) < 0) {
		remote_issue_release(&il->v[il->nr]);
		return 0;
	}
	il->nr++;
	return il->max > 0 && il->nr >= (size_t)il->max;
}

static int github_search(struct tracker *t, const struct tracker_query *q,
			 struct remote_issue **out, size_t *nr)
{
	struct issue_list il = { t->priv, NULL, 0, 0, q ? q->max : 0 };
	struct strbuf url = STRBUF_INIT;
	int ret;

	*out = NULL;
	*nr = 0;
	repo_url(&url, t->priv);
	strbuf_addstr(&url, "/issues?state=open&labels=" LABEL_SRE "&per_page=100");
	if (q && q->assignee && *q->assignee) {
		strbuf_addstr(&url, "&assignee=");
		http_urlencode(&url, q->assignee);
	}
	ret = github_list(t, "searching issues", url.buf, search_one, &il);
	if (ret == TRACKER_OK) {
		*out = il.v;
		*nr = il.nr;
	} else {
		remote_issue_list_free(il.v, il.nr);
	}
	strbuf_release(&url);
	return ret;
}

/* ---- assignees and issues that are no incident ---- */

/*
 * POST .../issues/<n>/assignees adds who to the assignees (201 with the
 * issue); GitHub drops a login it cannot assign (not a collaborator, no
 * such account) without a word, so the answer is read: who must be among
 * its assignees. Adding a login twice changes nothing, so the request may
 * be repeated.
 */
static int github_assign(struct tracker *t, const char *key, const char *who)
{
	struct http_response res = HTTP_RESPONSE_INIT;
	struct strbuf url = STRBUF_INIT, what = STRBUF_INIT;
	const cJSON *a;
	cJSON *body = NULL, *answer = NULL;
	int ret, taken = 0;

	if (!tracker_name_valid(who, GITHUB_LOGIN_CHARS, GITHUB_LOGIN_MAX)) {
		strbuf_addf(&what, "assigning issue %s", valid_issue_key(key) ? key : "?");
		ret = github_fail(t, what.buf, "the assignee is no GitHub login "
				  "(1 to 39 letters, digits and '-')");
		goto out;
	}
	strbuf_addf(&what, "assigning issue %s to %s", key, who);
	ret = issue_url(t, &url, key, what.buf);
	if (ret != TRACKER_OK)
		goto out;
	strbuf_addstr(&url, "/assignees");
	body = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(body, "assignees"), cJSON_CreateString(who));
	ret = github_call(t, what.buf, "POST", url.buf, body, 0, ok_201, &res);
	if (ret == TRACKER_OK && !(answer = github_answer(t, what.buf, &res, 0)))
		ret = TRACKER_FAIL;
	if (ret != TRACKER_OK)
		goto out;
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(answer, "assignees")) {
		const cJSON *login = cJSON_GetObjectItemCaseSensitive(a, "login");

		if (cJSON_IsString(login) && !strcasecmp(login->valuestring, who))
			taken = 1;
	}
	if (!taken)
		ret = github_fail(t, what.buf, "GitHub did not assign it: the account is no "
				  "collaborator of the repository, does not exist, or the issue "
				  "has its 10 assignees");
out:
	cJSON_Delete(answer);
	cJSON_Delete(body);
	http_response_release(&res);
	strbuf_release(&url);
	strbuf_release(&what);
	return ret;
}

/*
 * A label sre may put on an issue: GitHub's 50 (counted here in bytes),
 * no comma (the list separator of ?labels=), no control character.
 */
static int label_name_ok(const char *name)
{
	if (!name || !*name || strlen(name) > GITHUB_LABEL_MAX || strchr(name, ','))
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static int github_open_issue(struct tracker *t, const char *title, const char *body_text,
			     const struct strvec *labels, struct remote_issue *out)
{
	struct http_response res = HTTP_RESPONSE_INIT;
	struct strbuf url = STRBUF_INIT;
	cJSON *body = NULL, *list, *answer = NULL;
	char *clean_title = NULL, *clean_body = NULL;
	int ret = TRACKER_OK;

	memset(out, 0, sizeof(*out));
	out->state = -1;
	for (size_t i = 0; labels && i < labels->nr; i++)
		if (!label_name_ok(labels->v[i]))
			return github_fail(t, "opening issue", "a label takes 1 to 50 characters, "
					   "without a comma or a control character");
	/* A title is one line; GitHub refuses one past 256 characters and a body past 65536. */
	clean_title = tracker_text_clean(title, GITHUB_TITLE_MAX, 1);
	{
		struct strbuf quiet = STRBUF_INIT;
		tracker_quiet_mentions(&quiet, body_text);
		clean_body = tracker_text_clean(quiet.buf, GITHUB_BODY_MAX, 0);
		strbuf_release(&quiet);
	}
	if (!*clean_title) {
		ret = github_fail(t, "opening issue", "the title is empty");
		goto out;
	}
	for (size_t i = 0; labels && i < labels->nr && ret == TRACKER_OK; i++)
		ret = label_ensure(t, labels->v[i], "5319e7", "set by sre");
	if (ret != TRACKER_OK)
		goto out;

	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "title", clean_title);
	cJSON_AddStringToObject(body, "body", clean_body);
	list = cJSON_AddArrayToObject(body, "labels");
	for (size_t i = 0; labels && i < labels->nr; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(labels->v[i]));
	repo_url(&url, t->priv);
	strbuf_addstr(&url, "/issues");
	/* Not repeated blindly: a second POST is a second issue; the caller looks first. */
	ret = github_call(t, "opening issue", "POST", url.buf, body, 1, ok_201, &res);
	if (ret == TRACKER_OK && !(answer = github_answer(t, "opening issue", &res, 0)))
		ret = TRACKER_FAIL;
	if (ret == TRACKER_OK)
		ret = issue_fill(t, "opening issue", answer, out);
out:
	cJSON_Delete(answer);
	cJSON_Delete(body);
	http_response_release(&res);
	strbuf_release(&url);
	free(clean_title);
	free(clean_body);
	return ret;
}

struct newest_state {
	const struct github *gh;
	struct remote_issue *out;
	int found;
};

static int newest_one(const cJSON *item, void *data)
{
	struct newest_state *ns = data;

	if (is_pull_request(item) || issue_from_json(ns->gh, item, ns->out) < 0) {
		remote_issue_release(ns->out);
		return 0;
	}
	ns->found = 1;
	return 1;
}

/* Newest first (sort=created&direction=desc), open or closed: the first issue that is no pull request. */
static int github_find_labelled(struct tracker *t, const char *label, struct remote_issue *out)
{
	struct strbuf url = STRBUF_INIT;
	struct newest_state ns = { t->priv, out, 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	out->state = -1;
	if (!tracker_name_valid(label, MARKER_CHARS, GITHUB_LABEL_MAX))
		return github_fail(t, "finding a labelled issue",
				   "the label takes 1 to 50 of a-z, 0-9 and '-'");
	repo_url(&url, t->priv);
	strbuf_addf(&url, "/issues?state=all&labels=%s&sort=created&direction=desc&per_page=30",
		    label);
	ret = github_list(t, "finding a labelled issue", url.buf, newest_one, &ns);
	if (ret == TRACKER_OK && !ns.found) {
		strbuf_reset(&t->error);
		strbuf_addf(&t->error, "github: no issue has label %s", label);
		ret = TRACKER_NOT_FOUND;
	}
	if (ret != TRACKER_OK)
		remote_issue_release(out);
	strbuf_release(&url);
	return ret;
}

/* ---- opening and closing ---- */

static void github_priv_free(struct github *gh)
{
	if (!gh)
		return;
	github_api_release(&gh->api);
	for (int i = 0; i < STATE__COUNT; i++)
		free(gh->state_label[i]);
	strvec_clear(&gh->known_labels);
	free(gh);
}

static void github_free(struct tracker *t)
{
	github_priv_free(t->priv);
	t->priv = NULL;
}

/*
 * The login of the token's account: github.user when set (a GitHub App's
 * installation token cannot read /user: set it to "<app>[bot]"), else GET
 * /user.
 */
static int github_whoami(struct tracker *t, char **out)
{
	struct github *gh = t->priv;
	struct http_response res = HTTP_RESPONSE_INIT;
	const char *user = config_get_string(t->cfg, "github.user");
	char *url, *what = "reading the token's account (GET /user)";
	cJSON *ans = NULL;
	int ret;

	*out = NULL;
	if (user && *user) {
		*out = xstrdup(user);
		return TRACKER_OK;
	}
	url = xstrfmt("%s/user", gh->api.api);
	ret = github_call(t, what, "GET", url, NULL, 0, ok_200, &res);
	if (ret == TRACKER_OK && !(ans = github_answer(t, what, &res, 0)))
		ret = TRACKER_FAIL;
	if (ret == TRACKER_OK) {
		*out = json_text(ans, "login");
		if (!*out)
			ret = github_fail(t, what, "the answer has no login");
	}
	cJSON_Delete(ans);
	http_response_release(&res);
	free(url);
	return ret;
}

static const struct tracker_ops github_ops = {
	.name = "github",
	.find = github_find,
	.create = github_create,
	.get = github_get,
	.move = github_move,
	.comment = github_comment,
	.comments = github_comments,
	.label = github_label,
	.assign = github_assign,
	.open_issue = github_open_issue,
	.find_labelled = github_find_labelled,
	.search = github_search,
	.whoami = github_whoami,
	.free = github_free,
};

/* github.label.<state>, the state's name in lower case with dashes, as
 * config keys take no underscore: github.label.incident-resolved. */
static int read_state_labels(struct github *gh, const struct config *cfg)
{
	for (int i = 0; i < STATE__COUNT; i++) {
		struct strbuf key = STRBUF_INIT;
		const char *v;

		strbuf_addstr(&key, "github.label.");
		for (const char *c = incident_state_name(i); *c; c++)
			strbuf_addch(&key, *c == '_' ? '-' : tolower((unsigned char)*c));
		v = config_get_string(cfg, key.buf);
		if (v && (!*v || strlen(v) > GITHUB_LABEL_MAX || strchr(v, ','))) {
			error("%s is '%s': a label name takes 1 to %d characters and no comma",
			      key.buf, v, GITHUB_LABEL_MAX);
			strbuf_release(&key);
			return -1;
		}
		gh->state_label[i] = v ? xstrdup(v) :
				     xstrfmt(LABEL_STATE_PREFIX "%s", incident_state_name(i));
		strbuf_release(&key);
	}
	return 0;
}

int github_open(struct tracker *t)
{
	const char *repo = config_get_string(t->cfg, "github.repo");
	struct strbuf why = STRBUF_INIT;
	struct github *gh;
	char *api, *token;
	int r;

	if (github_api_url(t->cfg, &api, &why) < 0) {
		error("%s", why.buf);
		strbuf_release(&why);
		return -1;
	}
	if (!repo || !*repo) {
		free(api);
		return error("github.repo is not set: it names the repository of the "
			     "incidents, as owner/name");
	}
	if (!github_repo_valid(repo)) {
		free(api);
		return error("github.repo is '%s': it takes owner/name, each of letters, "
			     "digits, '.', '_' and '-'", repo);
	}
	r = github_api_token(t->cfg, &token);
	if (r) {
		free(api);
		if (r == 1)
			return error("no GitHub token: set GITHUB_TOKEN in the environment, or "
				     "github.token-command to a command that prints it");
		if (r == -2)
			return error("the GitHub token holds a blank or a control character");
		return -1;
	}

	gh = xcalloc(1, sizeof(*gh));
	strvec_init(&gh->known_labels);
	github_api_init(&gh->api, api, repo, token, &t->http, &t->error);
	if (read_state_labels(gh, t->cfg) < 0) {
		github_priv_free(gh);
		return -1;
	}
	t->priv = gh;
	t->ops = &github_ops;
	t->server = gh->api.api;
	return 0;
}
