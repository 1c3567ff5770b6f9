/*
 * test-github.c: unit tests of lib/tracker-github.c against tests/fakes/github.py,
 * a local server that speaks GitHub's REST API, printing TAP.
 *
 * Two fakes run as child processes: one with GitHub's page sizes and one
 * that holds pages to two items, so that pagination is exercised over a
 * handful of issues and comments. Besides what each operation returns,
 * the tests read the fake's request log, because what sre sends (one
 * POST, the labels it names, the Authorization header) is as much the
 * behaviour as what it reads back. Failures are injected through the
 * fake's /_fake/fail endpoint.
 */
#include "../../lib/config.h"
#include "../../lib/tracker-internal.h"
#include "fake.h"

#define TOKEN "test-token"
#define OPENED_AT 1795496820 /* 2026-11-24T05:07:00Z */

static const char *field(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- trackers and incidents ---- */

static struct tracker *tracker_for(struct config *cfg, const char *api, const char *extra)
{
	struct strbuf text = STRBUF_INIT;
	struct tracker *t = NULL;

	strbuf_addf(&text, "[tracker]\n\tkind = github\n[github]\n\tapi = %s\n"
		    "\trepo = acme/shop\n[http]\n\tretry-base = 10ms\n%s",
		    api, extra ? extra : "");
	if (config_read_buffer(cfg, text.buf, text.len, "test-github", CONFIG_SCOPE_LOCAL) < 0 ||
	    tracker_open(&t, cfg) < 0)
		t = NULL;
	strbuf_release(&text);
	return t;
}

/* Open a tracker that must fail; return what error() printed. */
static const char *open_fails(const char *config_text, int *ret)
{
	struct config cfg = CONFIG_INIT;
	struct tracker *t = NULL;

	capture_start();
	*ret = config_read_buffer(&cfg, config_text, strlen(config_text), "test-github",
				  CONFIG_SCOPE_LOCAL);
	if (!*ret)
		*ret = tracker_open(&t, &cfg);
	tracker_free(t);
	config_clear(&cfg);
	return capture_end();
}

static void incident_fill(struct incident *inc, long long id, const char *fingerprint,
			  const char *title)
{
	memset(inc, 0, sizeof(*inc));
	inc->id = id;
	inc->fingerprint = xstrdup(fingerprint);
	inc->service = xstrdup("shop");
	inc->title = xstrdup(title);
	inc->source = xstrdup("prometheus");
	inc->state = STATE_INCIDENT_DETECTED;
	inc->severity = SEVERITY_HIGH;
	inc->opened_at = OPENED_AT;
	inc->updated_at = OPENED_AT;
}

/* Create an incident's issue; its key, or NULL. Caller frees. */
static char *create(struct tracker *t, long long id, const char *fingerprint, const char *title)
{
	struct incident inc;
	struct remote_issue ri;
	char *key = NULL;

	incident_fill(&inc, id, fingerprint, title);
	if (t->ops->create(t, &inc, &ri) == TRACKER_OK) {
		key = ri.key;
		ri.key = NULL;
	} else {
		printf("# create: %s\n", t->error.buf);
	}
	remote_issue_release(&ri);
	incident_release(&inc);
	return key;
}

static char *fp_label(const char *fingerprint)
{
	char h[13];

	fingerprint_short(h, fingerprint);
	return xstrfmt("sre:fp/%s", h);
}

/* The names of an issue's labels on the fake, comma-separated. Caller frees. */
static char *issue_labels(const struct fake *f, const char *key)
{
	struct strbuf names = STRBUF_INIT;
	char *path = xstrfmt("/repos/acme/shop/issues/%s/labels", key);
	cJSON *list = NULL, *l;

	fake_call(f, "GET", path, NULL, &list);
	cJSON_ArrayForEach(l, list)
		strbuf_addf(&names, "%s%s", names.len ? "," : "", field(l, "name"));
	cJSON_Delete(list);
	free(path);
	return strbuf_detach(&names, NULL);
}

static int one_line(const char *s)
{
	return *s && !strchr(s, '\n');
}

/* ---- the tests ---- */

static void test_open(const struct fake *a)
{
	const char *msg;
	char *text;
	int ret;
	static const char *const bad_repos[] = {
		"acme", "acme/", "/shop", "acme/shop/x", "ac me/shop", "acme/..", "acme/sh%op",
	};

	text = xstrfmt("[tracker]\n\tkind = github\n[github]\n\tapi = %s\n", a->url);
	msg = open_fails(text, &ret);
	is_int(ret, -1, "open: no github.repo is an error");
	like(msg, "github.repo is not set", "open: the message names github.repo");
	free(text);

	for (size_t i = 0; i < ARRAY_SIZE(bad_repos); i++) {
		text = xstrfmt("[tracker]\n\tkind = github\n[github]\n\trepo = %s\n", bad_repos[i]);
		msg = open_fails(text, &ret);
		if (!ok(ret == -1 && strstr(msg, "github.repo is '") && strstr(msg, "owner/name"),
			"open: github.repo '%s' is refused", bad_repos[i]))
			diag_text("message", msg);
		free(text);
	}

	msg = open_fails("[tracker]\n\tkind = github\n[github]\n\trepo = a/b\n\tapi = ftp://x\n", &ret);
	is_int(ret, -1, "open: a github.api that is not http(s) is an error");
	like(msg, "github.api is 'ftp://x'", "open: the message names github.api");

	msg = open_fails("[tracker]\n\tkind = github\n[github]\n\trepo = a/b\n"
			 "[github \"label\"]\n\tincident-resolved = a,b\n", &ret);
	is_int(ret, -1, "open: a state label with a comma is an error");
	like(msg, "github.label.incident-resolved", "open: the message names the key");

	unsetenv("GITHUB_TOKEN");
	msg = open_fails("[tracker]\n\tkind = github\n[github]\n\trepo = acme/shop\n", &ret);
	is_int(ret, -1, "open: no token is an error");
	like(msg, "GITHUB_TOKEN", "open: the message names GITHUB_TOKEN");
	like(msg, "github.token-command", "open: the message names github.token-command");
	setenv("GITHUB_TOKEN", TOKEN, 1);
}

static void test_create_get(const struct fake *a, struct tracker *t, const char *fp1)
{
	struct remote_issue ri;
	struct incident inc;
	cJSON *r, *body;
	char *fpl = fp_label(fp1), *labels_json;
	int mark = fake_log_mark(a), ret;

	incident_fill(&inc, 7, fp1, "checkout answers 5xx");
	ret = t->ops->create(t, &inc, &ri);
	is_int(ret, TRACKER_OK, "create: TRACKER_OK");
	is_str(ri.key, "1", "create: the key is the issue number");
	ok(ri.url && ends_with(ri.url, "/acme/shop/issues/1"), "create: the url is html_url (%s)",
	   ri.url ? ri.url : "NULL");
	remote_issue_release(&ri);
	incident_release(&inc);

	is_int(fake_count(a, mark, "POST", "^/repos/acme/shop/issues$"), 1,
	       "create: exactly one POST /repos/acme/shop/issues");
	is_int(fake_count(a, mark, "POST", "^/repos/acme/shop/labels$"), 3,
	       "create: the three labels are created first");
	r = fake_last(a, mark, "POST", "^/repos/acme/shop/issues$");
	body = fake_body(r);
	is_str(field(body, "title"), "checkout answers 5xx", "create: the title is sent");
	labels_json = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(body, "labels"));
	{
		char *want = xstrfmt("[\"sre\",\"sre:state/INCIDENT_DETECTED\",\"%s\"]", fpl);
		is_str(labels_json, want, "create: the issue carries sre, its state and its fp");
		free(want);
	}
	like(field(body, "body") ? field(body, "body") : "", "local incident #7",
	     "create: the body says which local incident");
	like(field(body, "body") ? field(body, "body") : "", "```json sre-record\n",
	     "create: the body ends with the record block");
	is_str(fake_header(r, "authorization"), "Bearer " TOKEN, "create: Authorization: Bearer");
	is_str(fake_header(r, "accept"), "application/vnd.github+json", "create: Accept");
	is_str(fake_header(r, "x-github-api-version"), "2022-11-28", "create: X-GitHub-Api-Version");
	is_str(fake_header(r, "content-type"), "application/json", "create: Content-Type");
	ok(fake_header(r, "user-agent") && starts_with(fake_header(r, "user-agent"), "sre/"),
	   "create: User-Agent sre/<version>");
	cJSON_free(labels_json);
	cJSON_Delete(body);
	cJSON_Delete(r);

	ret = t->ops->get(t, "1", &ri);
	is_int(ret, TRACKER_OK, "get: TRACKER_OK");
	is_str(ri.key, "1", "get: key");
	is_str(ri.title, "checkout answers 5xx", "get: title");
	is_str(ri.fingerprint, fp1, "get: the fingerprint from the body's record");
	is_str(ri.service, "shop", "get: the service from the record");
	is_str(ri.severity, "high", "get: the severity from the record");
	is_str(ri.status, "sre:state/INCIDENT_DETECTED", "get: status is the state label");
	is_int(ri.state, STATE_INCIDENT_DETECTED, "get: state from the label");
	is_int(ri.closed, 0, "get: open");
	is_str(ri.assignee, NULL, "get: no assignee");
	ok(ri.updated && strlen(ri.updated) == 20, "get: updated is updated_at");
	ok(ri.body && strstr(ri.body, "- **Service:** shop"), "get: the body");
	remote_issue_release(&ri);

	free(fpl);
}

static void test_labels_once(const struct fake *a, struct tracker *t, struct config *cfg2)
{
	struct tracker *t2;
	cJSON *j = NULL, *l;
	int mark = fake_log_mark(a), sre_labels = 0;
	char *key;

	key = create(t, 8, "prometheus/shop/latency", "checkout is slow");
	is_str(key, "2", "create: a second incident is issue 2");
	free(key);
	is_int(fake_count(a, mark, "POST", "^/repos/acme/shop/labels$"), 1,
	       "create: only the new fingerprint label is created the second time");

	/* A new tracker knows nothing: GitHub's already_exists is fine. */
	t2 = tracker_for(cfg2, a->url, NULL);
	mark = fake_log_mark(a);
	key = t2 ? create(t2, 9, "prometheus/shop/disk", "disk full") : NULL;
	is_str(key, "3", "create: a fresh tracker creates over existing labels");
	is_int(fake_count(a, mark, "POST", "^/repos/acme/shop/labels$"), 3,
	       "create: it asks for each label once");
	free(key);
	tracker_free(t2);

	fake_call(a, "GET", "/_fake/state", NULL, &j);
	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(
				      cJSON_GetObjectItemCaseSensitive(j, "acme/shop"), "labels"))
		sre_labels += !strcmp(field(l, "name"), "sre");
	is_int(sre_labels, 1, "the repository has one sre label");
	cJSON_Delete(j);
}

static void test_find(const struct fake *a, struct tracker *t, const char *fp1)
{
	struct remote_issue ri;
	struct strbuf body = STRBUF_INIT, json = STRBUF_INIT;
	char *fpl = fp_label(fp1);
	cJSON *record, *r;
	int ret, mark;

	mark = fake_log_mark(a);
	ret = t->ops->find(t, fp1, &ri);
	is_int(ret, TRACKER_OK, "find: TRACKER_OK");
	is_str(ri.key, "1", "find: the issue of that fingerprint");
	is_str(ri.fingerprint, fp1, "find: fills the fingerprint");
	is_int(ri.state, STATE_INCIDENT_DETECTED, "find: fills the state");
	remote_issue_release(&ri);
	r = fake_last(a, mark, "GET", "^/repos/acme/shop/issues$");
	{
		const char *q = r ? field(r, "query") : "";
		char *want = xstrfmt("labels=sre%%3Afp%%2F%s", fpl + 7);
		like(q, want, "find: asks by the fp label, encoded");
		like(q, "state=open", "find: asks for open issues");
		free(want);
	}
	cJSON_Delete(r);

	ret = t->ops->find(t, "prometheus/shop/latency", &ri);
	is_str(ri.key, "2", "find: another fingerprint, another issue");
	remote_issue_release(&ri);

	ret = t->ops->find(t, "no/such/fingerprint", &ri);
	is_int(ret, TRACKER_NOT_FOUND, "find: an unknown fingerprint is NOT_FOUND");
	remote_issue_release(&ri);

	/*
	 * Newer than issue 1, so listed first: an issue whose label collides
	 * but whose record holds another fingerprint, and a pull request with
	 * the very record.
	 */
	record = cJSON_CreateObject();
	cJSON_AddStringToObject(record, "fingerprint", "a/colliding/fingerprint");
	record_format(&body, record);
	cJSON_Delete(record);
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "title", "impostor");
	cJSON_AddStringToObject(r, "body", body.buf);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "labels"), cJSON_CreateString(fpl));
	{
		char *s = cJSON_PrintUnformatted(r);
		is_int(fake_call(a, "POST", "/repos/acme/shop/issues", s, NULL), 201,
		       "setup: an issue with a colliding label");
		cJSON_free(s);
	}
	cJSON_Delete(r);

	strbuf_reset(&body);
	record = cJSON_CreateObject();
	cJSON_AddStringToObject(record, "fingerprint", fp1);
	record_format(&body, record);
	cJSON_Delete(record);
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "title", "a fix");
	cJSON_AddStringToObject(r, "head", "fix");
	cJSON_AddStringToObject(r, "base", "main");
	cJSON_AddStringToObject(r, "body", body.buf);
	{
		char *s = cJSON_PrintUnformatted(r);
		is_int(fake_call(a, "POST", "/repos/acme/shop/pulls", s, NULL), 201,
		       "setup: a pull request");
		cJSON_free(s);
	}
	cJSON_Delete(r);
	strbuf_addf(&json, "{\"labels\":[\"%s\"]}", fpl);
	is_int(fake_call(a, "POST", "/repos/acme/shop/issues/5/labels", json.buf, NULL), 200,
	       "setup: the pull request carries the fp label");

	ret = t->ops->find(t, fp1, &ri);
	is_int(ret, TRACKER_OK, "find: still found past a collision and a pull request");
	is_str(ri.key, "1", "find: neither the collision nor the pull request counts");
	remote_issue_release(&ri);

	strbuf_release(&body);
	strbuf_release(&json);
	free(fpl);
}

static void test_move(const struct fake *a, struct tracker *t)
{
	struct remote_issue ri;
	cJSON *r, *body;
	char *labels;
	int mark, ret;

	mark = fake_log_mark(a);
	ret = t->ops->move(t, "1", STATE_ANALYSIS_IN_PROGRESS);
	is_int(ret, TRACKER_OK, "move: TRACKER_OK");
	labels = issue_labels(a, "1");
	ok(strstr(labels, "sre:state/ANALYSIS_IN_PROGRESS") &&
	   !strstr(labels, "sre:state/INCIDENT_DETECTED"),
	   "move: the state label is swapped (%s)", labels);
	free(labels);
	is_int(fake_count(a, mark, "DELETE",
			   "^/repos/acme/shop/issues/1/labels/sre%3Astate%2FINCIDENT_DETECTED$"), 1,
	       "move: the old label is removed, its name encoded");
	is_int(fake_count(a, mark, "POST", "^/repos/acme/shop/labels$"), 1,
	       "move: the new state label is created first");
	is_int(fake_count(a, mark, "PATCH", "."), 0, "move: an open state leaves it open");
	ret = t->ops->get(t, "1", &ri);
	is_int(ri.state, STATE_ANALYSIS_IN_PROGRESS, "move: get reads the new state");
	remote_issue_release(&ri);

	mark = fake_log_mark(a);
	ret = t->ops->move(t, "1", STATE_ANALYSIS_IN_PROGRESS);
	is_int(ret, TRACKER_OK, "move: to the state it is in is TRACKER_OK");
	is_int(fake_count(a, mark, NULL, "."), 1, "move: ... after one GET and nothing else");

	mark = fake_log_mark(a);
	ret = t->ops->move(t, "1", STATE_INCIDENT_RESOLVED);
	is_int(ret, TRACKER_OK, "move: to INCIDENT_RESOLVED");
	r = fake_last(a, mark, "PATCH", "^/repos/acme/shop/issues/1$");
	body = fake_body(r);
	is_str(field(body, "state"), "closed", "move: resolving closes the issue");
	is_str(field(body, "state_reason"), "completed", "move: ... as completed");
	cJSON_Delete(body);
	cJSON_Delete(r);
	ret = t->ops->get(t, "1", &ri);
	is_int(ri.closed, 1, "move: get says closed");
	is_int(ri.state, STATE_INCIDENT_RESOLVED, "move: get says INCIDENT_RESOLVED");
	remote_issue_release(&ri);

	mark = fake_log_mark(a);
	ret = t->ops->move(t, "1", STATE_INCIDENT_REQUIRES_HUMAN);
	is_int(ret, TRACKER_OK, "move: away from resolved");
	r = fake_last(a, mark, "PATCH", "^/repos/acme/shop/issues/1$");
	body = fake_body(r);
	is_str(field(body, "state"), "open", "move: ... reopens the issue");
	cJSON_Delete(body);
	cJSON_Delete(r);
	ret = t->ops->get(t, "1", &ri);
	is_int(ri.closed, 0, "move: get says open again");
	is_str(ri.status, "sre:state/INCIDENT_REQUIRES_HUMAN", "move: status is the new label");
	remote_issue_release(&ri);

	/* Someone else took the old label off in between. */
	fake_fail(a, "{\"method\":\"DELETE\",\"path\":\"/issues/1/labels/\",\"status\":404,"
		     "\"body\":{\"message\":\"Label does not exist\"}}");
	ret = t->ops->move(t, "1", STATE_ANALYSIS_COMPLETE);
	is_int(ret, TRACKER_OK, "move: a label already gone (404) is fine");
	is_str(t->error.buf, "", "move: ... and leaves no error");

	ret = t->ops->move(t, "999", STATE_ANALYSIS_COMPLETE);
	is_int(ret, TRACKER_NOT_FOUND, "move: an unknown issue is NOT_FOUND");
	is_str(t->error.buf, "github: reading issue 999: HTTP 404 Not Found",
	       "move: ... saying so in one line");

	mark = fake_log_mark(a);
	ret = t->ops->move(t, "1/../2", STATE_ANALYSIS_COMPLETE);
	is_int(ret, TRACKER_FAIL, "move: a key that is no number fails");
	is_str(t->error.buf, "github: reading issue 1/../2: not an issue number",
	       "move: ... and says why");
	is_int(fake_count(a, mark, NULL, "."), 0, "move: ... without a request");
}

static void test_label(const struct fake *a, struct tracker *t)
{
	int mark = fake_log_mark(a);
	char *labels;

	is_int(t->ops->label(t, "1", "triaged", NULL), TRACKER_OK, "label: add one");
	is_int(fake_count(a, mark, "POST", "^/repos/acme/shop/labels$"), 1,
	       "label: the label is created first, with sre's colour");
	labels = issue_labels(a, "1");
	ok(strstr(labels, "triaged") && strstr(labels, "sre:state/"),
	   "label: the issue has it and kept its state label (%s)", labels);
	free(labels);
	is_int(t->ops->label(t, "1", NULL, "triaged"), TRACKER_OK, "label: remove it");
	labels = issue_labels(a, "1");
	ok(!strstr(labels, "triaged"), "label: it is gone (%s)", labels);
	free(labels);
	is_int(t->ops->label(t, "1", NULL, "never-there"), TRACKER_OK,
	       "label: removing a label the issue lacks is fine");
	is_int(t->ops->label(t, "not-a-number", "x", NULL), TRACKER_FAIL,
	       "label: a key that is no issue number is refused");
}

static void test_comments(const struct fake *a, struct tracker *t)
{
	struct remote_comment *c = NULL;
	size_t nr = 0;
	cJSON *record = cJSON_CreateObject(), *r;
	int mark = fake_log_mark(a), ret;

	cJSON_AddStringToObject(record, "key", "diag-1");
	cJSON_AddStringToObject(record, "kind", "diagnosis");
	cJSON_AddStringToObject(record, "category", "disk");
	ret = t->ops->comment(t, "2", "Diagnosis: the disk is full.", record);
	is_int(ret, TRACKER_OK, "comment: TRACKER_OK");
	cJSON_Delete(record);
	is_int(fake_count(a, mark, "POST", "^/repos/acme/shop/issues/2/comments$"), 1,
	       "comment: one POST .../issues/2/comments");
	r = fake_last(a, mark, "POST", "/comments$");
	{
		cJSON *body = fake_body(r);
		const char *text = field(body, "body");
		ok(text && starts_with(text, "Diagnosis: the disk is full.\n\n```json sre-record\n"),
		   "comment: the prose, then the record block");
		cJSON_Delete(body);
	}
	cJSON_Delete(r);
	ret = t->ops->comment(t, "2", "A note without a record.", NULL);
	is_int(ret, TRACKER_OK, "comment: without a record");

	ret = t->ops->comments(t, "2", &c, &nr);
	is_int(ret, TRACKER_OK, "comments: TRACKER_OK");
	is_int(nr, 2, "comments: both, in order");
	if (nr == 2) {
		is_str(c[0].text, "Diagnosis: the disk is full.", "comments: the prose");
		is_str(field(c[0].record, "key"), "diag-1", "comments: the record read back");
		is_str(field(c[0].record, "category"), "disk", "comments: ... whole");
		is_str(c[0].author, "sre-bot", "comments: author is user.login");
		ok(c[0].id && strspn(c[0].id, "0123456789") == strlen(c[0].id),
		   "comments: id as text");
		ok(c[0].created && strlen(c[0].created) == 20, "comments: created_at");
		is_str(c[1].text, "A note without a record.", "comments: a plain comment");
		ok(!c[1].record, "comments: ... has no record");
	}
	remote_comment_list_free(c, nr);

	ret = t->ops->comment(t, "0", "x", NULL);
	is_int(ret, TRACKER_FAIL, "comment: issue 0 is no issue number");
	ret = t->ops->comments(t, "", &c, &nr);
	is_int(ret, TRACKER_FAIL, "comments: an empty key fails");
	ok(!c && !nr, "comments: ... returning nothing");
}

/* ---- assign, open_issue, find_labelled ---- */

/* Characters (not bytes) of UTF-8 text. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* Whether s holds a control character but newline and tab, or a C1 one. */
static int has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f ||
		    (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return 1;
	return 0;
}

static void test_assign(const struct fake *a, struct tracker *t)
{
	struct remote_issue ri;
	cJSON *r, *body;
	int mark, ret;
	static const char *const bad_logins[] = {
		"", "a b", "alice/../bob", "al\x1b[31mice", "alice?x=1", "al%69ce", "bot[bot]",
		"a123456789012345678901234567890123456789", /* 40 */
	};

	mark = fake_log_mark(a);
	ret = t->ops->assign(t, "1", "alice");
	is_int(ret, TRACKER_OK, "assign: a collaborator is assigned");
	is_int(fake_count(a, mark, "POST", "^/repos/acme/shop/issues/1/assignees$"), 1,
	       "assign: one POST .../issues/1/assignees");
	r = fake_last(a, mark, "POST", "/assignees$");
	body = fake_body(r);
	{
		char *json = cJSON_PrintUnformatted(body);
		is_str(json, "{\"assignees\":[\"alice\"]}", "assign: the body names the login");
		cJSON_free(json);
	}
	cJSON_Delete(body);
	cJSON_Delete(r);
	ret = t->ops->get(t, "1", &ri);
	is_str(ri.assignee, "alice", "assign: get reads the assignee back");
	remote_issue_release(&ri);

	is_int(t->ops->assign(t, "1", "ALICE"), TRACKER_OK,
	       "assign: again, in other case, is fine (GitHub answers alice)");

	mark = fake_log_mark(a);
	ret = t->ops->assign(t, "1", "mallory");
	is_int(ret, TRACKER_FAIL, "assign: a login GitHub silently drops is TRACKER_FAIL");
	is_str(t->error.buf, "github: assigning issue 1 to mallory: GitHub did not assign it: "
	       "the account is no collaborator of the repository, does not exist, or the issue "
	       "has its 10 assignees",
	       "assign: ... in one line naming the login");
	is_int(fake_count(a, mark, "POST", "/assignees$"), 1, "assign: ... after GitHub's 201");
	ret = t->ops->get(t, "1", &ri);
	is_str(ri.assignee, "alice", "assign: ... and the issue keeps its assignee");
	remote_issue_release(&ri);

	fake_call(a, "POST", "/_fake/assignable", "{\"repo\":\"acme/shop\",\"add\":[\"Zed-9\"]}",
		  NULL);
	is_int(t->ops->assign(t, "1", "zed-9"), TRACKER_OK,
	       "assign: a new collaborator, named in another case");

	mark = fake_log_mark(a);
	for (size_t i = 0; i < ARRAY_SIZE(bad_logins); i++) {
		ret = t->ops->assign(t, "1", bad_logins[i]);
		if (!ok(ret == TRACKER_FAIL && !strcmp(t->error.buf, "github: assigning issue 1: "
			"the assignee is no GitHub login (1 to 39 letters, digits and '-')"),
			"assign: login %zu is refused", i))
			diag_text("error", t->error.buf);
	}
	is_int(t->ops->assign(t, "1/../2", "alice"), TRACKER_FAIL,
	       "assign: a key that is no issue number is refused");
	is_int(t->ops->assign(t, "1?x", "a\x1b[2J"), TRACKER_FAIL, "assign: both bad: refused");
	ok(!has_control(t->error.buf) && !strstr(t->error.buf, "1?x"),
	   "assign: ... and neither reaches the message (%s)", t->error.buf);
	is_int(fake_count(a, mark, NULL, "."), 0, "assign: ... all without a request");

	is_int(t->ops->assign(t, "999", "alice"), TRACKER_NOT_FOUND,
	       "assign: an unknown issue is NOT_FOUND");
}

static void labels_of_request(const cJSON *body, struct strbuf *sb)
{
	const cJSON *l;

	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(body, "labels"))
		strbuf_addf(sb, "%s%s", sb->len ? "," : "", l->valuestring);
}

static void test_open_find(const struct fake *a, struct tracker *t)
{
	struct strvec labels = STRVEC_INIT;
	struct remote_issue ri, found;
	struct strbuf sb = STRBUF_INIT;
	char *first = NULL, *second = NULL, *path;
	cJSON *r, *body;
	int mark, ret;
	static const char *const bad_markers[] = {
		"", "Jules-fix", "jules fix", "jules,sre", "jules/fix", "jules%2Cfix", "sre:fp/x",
		"a12345678901234567890123456789012345678901234567890", /* 51 */
	};

	strvec_pushl(&labels, "jules-fix", "architecture", NULL);
	mark = fake_log_mark(a);
	ret = t->ops->open_issue(t, "Architecture: checkout latency keeps coming back",
				 "It recurred 3 times in 7 days.\n\n- restart held 2 h\n", &labels, &ri);
	is_int(ret, TRACKER_OK, "open_issue: TRACKER_OK");
	ok(ri.key && strspn(ri.key, "0123456789") == strlen(ri.key), "open_issue: a number");
	ok(ri.url && strstr(ri.url, "/acme/shop/issues/"), "open_issue: its html_url");
	first = xstrdup(ri.key ? ri.key : "?");
	remote_issue_release(&ri);
	is_int(fake_count(a, mark, "POST", "^/repos/acme/shop/labels$"), 2,
	       "open_issue: both labels created first");
	is_int(fake_count(a, mark, "POST", "^/repos/acme/shop/issues$"), 1,
	       "open_issue: one POST /issues");
	r = fake_last(a, mark, "POST", "^/repos/acme/shop/issues$");
	body = fake_body(r);
	is_str(field(body, "title"), "Architecture: checkout latency keeps coming back",
	       "open_issue: the title");
	is_str(field(body, "body"), "It recurred 3 times in 7 days.\n\n- restart held 2 h\n",
	       "open_issue: the body as Markdown, as given");
	labels_of_request(body, &sb);
	is_str(sb.buf, "jules-fix,architecture", "open_issue: the labels");
	cJSON_Delete(body);
	cJSON_Delete(r);

	mark = fake_log_mark(a);
	ret = t->ops->find_labelled(t, "jules-fix", &found);
	is_int(ret, TRACKER_OK, "find_labelled: TRACKER_OK");
	is_str(found.key, first, "find_labelled: the issue open_issue opened");
	is_str(found.title, "Architecture: checkout latency keeps coming back",
	       "find_labelled: with its title");
	remote_issue_release(&found);
	r = fake_last(a, mark, "GET", "^/repos/acme/shop/issues$");
	is_str(r ? field(r, "query") : NULL,
	       "state=all&labels=jules-fix&sort=created&direction=desc&per_page=30",
	       "find_labelled: open or closed, newest first");
	cJSON_Delete(r);

	path = xstrfmt("/repos/acme/shop/issues/%s", first);
	is_int(fake_call(a, "PATCH", path, "{\"state\":\"closed\"}", NULL), 200,
	       "setup: the follow-up is closed");
	free(path);
	ret = t->ops->find_labelled(t, "jules-fix", &found);
	is_int(ret, TRACKER_OK, "find_labelled: a closed issue is found too");
	is_str(found.key, first, "find_labelled: ... the same one");
	is_int(found.closed, 1, "find_labelled: ... closed");
	remote_issue_release(&found);

	strvec_clear(&labels);
	strvec_push(&labels, "jules-fix");
	ret = t->ops->open_issue(t, "Architecture: a second follow-up", "", &labels, &ri);
	is_int(ret, TRACKER_OK, "open_issue: a second one, with an empty body");
	second = xstrdup(ri.key ? ri.key : "?");
	remote_issue_release(&ri);
	/* A pull request carrying the label, newer still, is no issue. */
	fake_call(a, "POST", "/repos/acme/shop/pulls",
		  "{\"title\":\"pr\",\"head\":\"jules\",\"base\":\"main\"}", &r);
	path = xstrfmt("/repos/acme/shop/issues/%d/labels",
		       (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "number")));
	cJSON_Delete(r);
	is_int(fake_call(a, "POST", path, "{\"labels\":[\"jules-fix\"]}", NULL), 200,
	       "setup: a newer pull request carries the label");
	free(path);
	ret = t->ops->find_labelled(t, "jules-fix", &found);
	is_str(found.key, second, "find_labelled: the newest of two, past a pull request");
	remote_issue_release(&found);

	ret = t->ops->find_labelled(t, "no-such-marker", &found);
	is_int(ret, TRACKER_NOT_FOUND, "find_labelled: none is NOT_FOUND");
	is_str(t->error.buf, "github: no issue has label no-such-marker",
	       "find_labelled: ... saying which label");
	ok(!found.key, "find_labelled: ... filling nothing");
	remote_issue_release(&found);

	mark = fake_log_mark(a);
	for (size_t i = 0; i < ARRAY_SIZE(bad_markers); i++) {
		ret = t->ops->find_labelled(t, bad_markers[i], &found);
		ok(ret == TRACKER_FAIL && strstr(t->error.buf, "a-z, 0-9 and '-'"),
		   "find_labelled: marker %zu is refused", i);
		remote_issue_release(&found);
	}
	strvec_clear(&labels);
	strvec_pushl(&labels, "ok", "a,b", NULL);
	is_int(t->ops->open_issue(t, "t", "b", &labels, &ri), TRACKER_FAIL,
	       "open_issue: a label with a comma is refused");
	is_str(t->error.buf, "github: opening issue: a label takes 1 to 50 characters, without "
	       "a comma or a control character", "open_issue: ... saying why");
	remote_issue_release(&ri);
	strvec_clear(&labels);
	strvec_push(&labels, "evil[2J");
	is_int(t->ops->open_issue(t, "t", "b", &labels, &ri), TRACKER_FAIL,
	       "open_issue: a label with an escape sequence is refused");
	remote_issue_release(&ri);
	is_int(t->ops->open_issue(t, "", "b", NULL, &ri), TRACKER_FAIL,
	       "open_issue: an empty title is refused");
	remote_issue_release(&ri);
	is_int(fake_count(a, mark, NULL, "."), 0, "refusals: ... all without a request");

	strvec_clear(&labels);
	strbuf_release(&sb);
	free(first);
	free(second);
}

/* A title and a body an attacker shaped: control characters, bad UTF-8, 100 KB. */
static void test_open_hostile(const struct fake *a, struct tracker *t)
{
	struct strbuf title = STRBUF_INIT, text = STRBUF_INIT;
	struct remote_issue ri;
	cJSON *r, *body;
	const char *got;
	int mark = fake_log_mark(a), ret;

	strbuf_addstr(&title, "evil\x1b]0;pwned\x07\r\ntitle\xc2\x9b\xff");
	for (int i = 0; i < 300; i++)
		strbuf_addstr(&title, "\xc3\xa9"); /* é */
	while (text.len < 100 * 1024)
		strbuf_addstr(&text, "line \x1b[31mred\x1b[0m \x01\x7f \xe2\x28\xa1 and more\n");
	ret = t->ops->open_issue(t, title.buf, text.buf, NULL, &ri);
	is_int(ret, TRACKER_OK, "hostile: the issue is opened");
	if (ret != TRACKER_OK)
		diag_text("error", t->error.buf);
	remote_issue_release(&ri);
	is_int(fake_count(a, mark, "POST", "^/repos/acme/shop/issues$"), 1, "hostile: one POST");
	r = fake_last(a, mark, "POST", "^/repos/acme/shop/issues$");
	body = fake_body(r);
	got = field(body, "title");
	ok(got && starts_with(got, "evil?]0;pwned?  title??"),
	   "hostile: the title is one line, its control characters '?' (%.30s)", got ? got : "");
	is_int(utf8_chars(got), 256, "hostile: ... cut to GitHub's 256 characters");
	ok(got && ends_with(got, "\xe2\x80\xa6"), "hostile: ... ending in an ellipsis");
	got = field(body, "body");
	ok(got && !has_control(got), "hostile: the body holds no control character");
	ok(got && strstr(got, "line ?[31mred?[0m ?? ?(? and more\n"),
	   "hostile: ... nor bad UTF-8, lines kept");
	ok(utf8_chars(got) <= 65536, "hostile: ... within GitHub's 65536 characters");
	cJSON_Delete(body);
	cJSON_Delete(r);
	strbuf_release(&title);
	strbuf_release(&text);
}

static void test_pages(const struct fake *b, struct tracker *t)
{
	struct remote_comment *c = NULL;
	struct remote_issue *list = NULL;
	struct tracker_query q = { NULL, NULL, NULL, 0 };
	size_t nr = 0;
	int mark, ret, in_order = 1;
	char *key;

	key = create(t, 1, "fp/one", "one");
	is_str(key, "1", "pages: issue 1 on the small-page fake");
	for (int i = 0; i < 5; i++) {
		cJSON *record = cJSON_CreateObject();
		char *prose = xstrfmt("comment %d", i);
		cJSON_AddNumberToObject(record, "seq", i);
		if (t->ops->comment(t, "1", prose, record) != TRACKER_OK)
			printf("# comment %d: %s\n", i, t->error.buf);
		cJSON_Delete(record);
		free(prose);
	}
	mark = fake_log_mark(b);
	ret = t->ops->comments(t, "1", &c, &nr);
	is_int(ret, TRACKER_OK, "pages: comments over several pages");
	is_int(nr, 5, "pages: all five comments");
	for (size_t i = 0; i < nr; i++) {
		const cJSON *seq = cJSON_GetObjectItemCaseSensitive(c[i].record, "seq");
		in_order &= cJSON_IsNumber(seq) && seq->valueint == (int)i;
	}
	ok(in_order && nr == 5, "pages: oldest first, each with its record");
	is_int(fake_count(b, mark, "GET", "/issues/1/comments$"), 3,
	       "pages: three pages of two fetched");
	is_int(fake_count(b, mark, "GET", "^/repositories/[0-9]+/issues/1/comments$"), 2,
	       "pages: the later ones through the Link header's URL");
	remote_comment_list_free(c, nr);
	free(key);

	/* 1..5 open with sre (3 closed below), 6 without sre, 7 a pull request. */
	for (int i = 2; i <= 5; i++) {
		char *fp = xstrfmt("fp/%d", i);
		free(create(t, i, fp, fp));
		free(fp);
	}
	t->ops->move(t, "3", STATE_INCIDENT_RESOLVED);
	fake_call(b, "POST", "/repos/acme/shop/issues", "{\"title\":\"not ours\"}", NULL);
	fake_call(b, "POST", "/repos/acme/shop/pulls",
		 "{\"title\":\"pr\",\"head\":\"x\",\"base\":\"main\"}", NULL);
	fake_call(b, "POST", "/repos/acme/shop/issues/7/labels", "{\"labels\":[\"sre\"]}", NULL);
	is_int(fake_call(b, "PATCH", "/repos/acme/shop/issues/4", "{\"assignees\":[\"alice\"]}",
			NULL), 200, "setup: issue 4 assigned to alice");

	mark = fake_log_mark(b);
	ret = t->ops->search(t, &q, &list, &nr);
	is_int(ret, TRACKER_OK, "search: TRACKER_OK");
	is_int(nr, 4, "search: the open sre issues, without the pull request");
	if (nr == 4)
		ok(!strcmp(list[0].key, "5") && !strcmp(list[1].key, "4") &&
		   !strcmp(list[2].key, "2") && !strcmp(list[3].key, "1"),
		   "search: issues 5, 4, 2, 1");
	is_int(fake_count(b, mark, "GET", "/issues$"), 3, "search: all three pages");
	{
		cJSON *r = fake_last(b, mark, "GET", "^/repos/acme/shop/issues$");
		const char *query = r ? field(r, "query") : "";
		like(query, "labels=sre&", "search: by the sre label");
		like(query, "state=open", "search: open issues");
		cJSON_Delete(r);
	}
	remote_issue_list_free(list, nr);

	q.max = 2;
	mark = fake_log_mark(b);
	ret = t->ops->search(t, &q, &list, &nr);
	is_int(nr, 2, "search: max stops at two");
	is_int(fake_count(b, mark, "GET", "/issues$"), 2, "search: ... before the last page");
	remote_issue_list_free(list, nr);

	q.max = 0;
	q.assignee = "alice";
	mark = fake_log_mark(b);
	ret = t->ops->search(t, &q, &list, &nr);
	is_int(nr, 1, "search: by assignee");
	if (nr == 1) {
		is_str(list[0].key, "4", "search: ... issue 4");
		is_str(list[0].assignee, "alice", "search: assignee is assignee.login");
	}
	{
		cJSON *r = fake_last(b, mark, "GET", "/issues$");
		like(r ? field(r, "query") : "", "assignee=alice", "search: asks by assignee");
		cJSON_Delete(r);
	}
	remote_issue_list_free(list, nr);
}

static void test_foreign_link(const struct fake *a, const struct fake *b, struct tracker *t)
{
	struct remote_comment *c = NULL;
	size_t nr = 0;
	struct strbuf json = STRBUF_INIT;
	const char *msg;
	int mark_b = fake_log_mark(b), ret;
	const char *one = "[{\"id\":1,\"user\":{\"login\":\"x\"},\"created_at\":"
			  "\"2026-11-24T05:07:00Z\",\"body\":\"hi\"}]";

	strbuf_addf(&json, "{\"method\":\"GET\",\"path\":\"/issues/2/comments$\",\"status\":200,"
		    "\"headers\":{\"Link\":\"<%s/repos/acme/shop/issues/1/comments?page=2>; "
		    "rel=\\\"next\\\"\"},\"body\":%s}", b->url, one);
	fake_fail(a, json.buf);
	capture_start();
	ret = t->ops->comments(t, "2", &c, &nr);
	msg = capture_end();
	is_int(ret, TRACKER_OK, "link: a next link to another server is not followed");
	is_int(nr, 1, "link: ... the page read is kept");
	is_int(fake_count(b, mark_b, NULL, "."), 0, "link: ... no request reached it");
	like(msg, "outside github.api", "link: ... with a warning");
	remote_comment_list_free(c, nr);

	/* The same host with a longer port is elsewhere too. */
	strbuf_reset(&json);
	strbuf_addf(&json, "{\"method\":\"GET\",\"path\":\"/issues/2/comments$\",\"status\":200,"
		    "\"headers\":{\"Link\":\"<%s9/repos/acme/shop/issues/2/comments?page=2>; "
		    "rel=\\\"next\\\"\"},\"body\":%s}", a->url, one);
	fake_fail(a, json.buf);
	capture_start();
	ret = t->ops->comments(t, "2", &c, &nr);
	capture_end();
	is_int(ret, TRACKER_OK, "link: a URL that only starts like github.api is not followed");
	remote_comment_list_free(c, nr);
	strbuf_release(&json);
}

static void test_errors(const struct fake *a, struct tracker *t, struct config *cfg_bad)
{
	struct remote_issue ri;
	struct incident inc;
	struct tracker *bad;
	int mark, ret;

	incident_fill(&inc, 20, "fp/untitled", "");
	ret = t->ops->create(t, &inc, &ri);
	is_int(ret, TRACKER_FAIL, "422: TRACKER_FAIL");
	is_str(t->error.buf, "github: creating issue: HTTP 422 Validation Failed; title missing_field",
	       "422: one line naming the request and GitHub's words");
	remote_issue_release(&ri);
	incident_release(&inc);

	setenv("GITHUB_TOKEN", "wrong-secret-token", 1);
	bad = tracker_for(cfg_bad, a->url, NULL);
	setenv("GITHUB_TOKEN", TOKEN, 1);
	ok(bad != NULL, "401: a tracker with a wrong token opens");
	if (bad) {
		ret = bad->ops->get(bad, "1", &ri);
		is_int(ret, TRACKER_FAIL, "401: TRACKER_FAIL");
		is_str(bad->error.buf, "github: reading issue 1: HTTP 401 Bad credentials",
		       "401: one line");
		unlike(bad->error.buf, "wrong-secret-token", "401: the token is not in the message");
		remote_issue_release(&ri);
	}
	tracker_free(bad);

	fake_fail(a, "{\"path\":\"/issues/1$\",\"status\":400,"
		     "\"body\":{\"message\":\"the token " TOKEN " is not allowed here\"}}");
	ret = t->ops->get(t, "1", &ri);
	is_int(ret, TRACKER_FAIL, "redaction: a 400 is TRACKER_FAIL");
	like(t->error.buf, "the token <redacted> is not allowed", "redaction: the echo is redacted");
	unlike(t->error.buf, TOKEN, "redaction: the token never appears in t->error");
	remote_issue_release(&ri);

	mark = fake_log_mark(a);
	fake_fail(a, "{\"path\":\"/issues/1$\",\"status\":500,\"times\":1}");
	ret = t->ops->get(t, "1", &ri);
	is_int(ret, TRACKER_OK, "5xx: one 500 is retried");
	is_int(fake_count(a, mark, "GET", "/issues/1$"), 2, "5xx: ... by a second GET");
	remote_issue_release(&ri);

	/* http.retries is 3 by default: four attempts in all. */
	mark = fake_log_mark(a);
	fake_fail(a, "{\"path\":\"/issues/1$\",\"status\":503,\"times\":4,"
		     "\"body\":{\"message\":\"Service Unavailable\"}}");
	ret = t->ops->get(t, "1", &ri);
	is_int(ret, TRACKER_RETRY, "5xx: a lasting 503 is TRACKER_RETRY");
	ok(one_line(t->error.buf) && starts_with(t->error.buf, "github: reading issue 1: ") &&
	   strstr(t->error.buf, "503"), "5xx: ... in one line (%s)", t->error.buf);
	is_int(fake_count(a, mark, "GET", "/issues/1$"), 4, "5xx: ... after four attempts");
	remote_issue_release(&ri);

	mark = fake_log_mark(a);
	fake_fail(a, "{\"method\":\"POST\",\"path\":\"/issues$\",\"status\":502}");
	incident_fill(&inc, 21, "fp/bad-gateway", "bad gateway");
	ret = t->ops->create(t, &inc, &ri);
	is_int(ret, TRACKER_RETRY, "create: a 502 is TRACKER_RETRY");
	is_int(fake_count(a, mark, "POST", "^/repos/acme/shop/issues$"), 1,
	       "create: ... and the POST is not repeated blindly");
	remote_issue_release(&ri);
	incident_release(&inc);

	mark = fake_log_mark(a);
	fake_fail(a, "{\"method\":\"POST\",\"path\":\"/labels$\",\"status\":422,\"body\":"
		     "{\"message\":\"Validation Failed\",\"errors\":[{\"resource\":\"Label\","
		     "\"code\":\"invalid\",\"field\":\"color\"}]}}");
	incident_fill(&inc, 22, "fp/label-refused", "label refused");
	ret = t->ops->create(t, &inc, &ri);
	is_int(ret, TRACKER_FAIL, "create: a label GitHub refuses fails the create");
	{
		char *fpl = fp_label("fp/label-refused");
		char *want = xstrfmt("github: creating label %s: HTTP 422 Validation Failed; "
				     "color invalid", fpl);
		is_str(t->error.buf, want, "create: ... naming the label");
		free(want);
		free(fpl);
	}
	is_int(fake_count(a, mark, "POST", "/issues$"), 0, "create: ... before any issue");
	remote_issue_release(&ri);
	incident_release(&inc);
}

static void test_config_variants(const struct fake *a, const struct fake *b)
{
	struct config cfg1 = CONFIG_INIT, cfg2 = CONFIG_INIT, cfg3 = CONFIG_INIT;
	struct tracker *t;
	struct remote_issue ri;
	struct remote_comment *c = NULL;
	size_t nr = 0;
	char *api, *labels;
	int mark, ret;

	t = tracker_for(&cfg1, a->url, "[github \"label\"]\n\tincident-resolved = resolved\n");
	ok(t != NULL, "label: github.label.incident-resolved opens");
	if (t) {
		ret = t->ops->move(t, "1", STATE_INCIDENT_RESOLVED);
		is_int(ret, TRACKER_OK, "label: move to the renamed state");
		labels = issue_labels(a, "1");
		ok(strstr(labels, "resolved") && !strstr(labels, "sre:state/"),
		   "label: the configured name replaces the state label (%s)", labels);
		free(labels);
		ret = t->ops->get(t, "1", &ri);
		is_int(ri.state, STATE_INCIDENT_RESOLVED, "label: read back as its state");
		is_str(ri.status, "resolved", "label: status is the label");
		remote_issue_release(&ri);
		ret = t->ops->move(t, "1", STATE_ANALYSIS_COMPLETE);
		labels = issue_labels(a, "1");
		ok(!strstr(labels, "resolved") && strstr(labels, "sre:state/ANALYSIS_COMPLETE"),
		   "label: the renamed label counts as a state label (%s)", labels);
		free(labels);
	}
	tracker_free(t);

	unsetenv("GITHUB_TOKEN");
	t = tracker_for(&cfg2, a->url, "[github]\n\ttoken-command = echo " TOKEN "\n");
	setenv("GITHUB_TOKEN", TOKEN, 1);
	ok(t != NULL, "token: github.token-command opens");
	if (t) {
		ret = t->ops->get(t, "1", &ri);
		is_int(ret, TRACKER_OK, "token: the command's token is accepted");
		remote_issue_release(&ri);
	}
	tracker_free(t);

	/* GitHub Enterprise: the API under /api/v3, pages linked there too. */
	api = xstrfmt("%s/api/v3/", b->url);
	t = tracker_for(&cfg3, api, NULL);
	ok(t != NULL, "enterprise: github.api with a path opens");
	if (t) {
		mark = fake_log_mark(b);
		ret = t->ops->comments(t, "1", &c, &nr);
		is_int(ret, TRACKER_OK, "enterprise: comments under /api/v3");
		is_int(nr, 5, "enterprise: ... following the pages there");
		is_int(fake_count(b, mark, "GET", "^/api/v3/"), 3,
		       "enterprise: every request under /api/v3");
		remote_comment_list_free(c, nr);
	}
	tracker_free(t);
	free(api);
	config_clear(&cfg1);
	config_clear(&cfg2);
	config_clear(&cfg3);
}

int main(void)
{
	struct config cfg = CONFIG_INIT, cfg2 = CONFIG_INIT;
	struct config cfg_small = CONFIG_INIT, cfg_bad = CONFIG_INIT;
	struct fake a = { 0 }, b = { 0 };
	struct tracker *t = NULL, *tb = NULL;
	const char *fp1 = "prometheus/shop/HighErrorRate";

	if (!fake_begin())
		return 0;
	if (test_begin("github") < 0)
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
	t = tracker_for(&cfg, a.url, NULL);
	ok(t && !strcmp(t->ops->name, "github"), "open: tracker.kind=github opens the github client");
	tb = tracker_for(&cfg_small, b.url, NULL);
	if (t && tb) {
		test_open(&a);
		test_create_get(&a, t, fp1);
		test_labels_once(&a, t, &cfg2);
		test_find(&a, t, fp1);
		test_move(&a, t);
		test_label(&a, t);
		test_comments(&a, t);
		test_assign(&a, t);
		test_open_find(&a, t);
		test_open_hostile(&a, t);
		test_pages(&b, tb);
		test_foreign_link(&a, &b, t);
		test_errors(&a, t, &cfg_bad);
		test_config_variants(&a, &b);
	}
	tracker_free(t);
	tracker_free(tb);
	fake_stop(&a);
	fake_stop(&b);
	config_clear(&cfg);
	config_clear(&cfg2);
	config_clear(&cfg_small);
	config_clear(&cfg_bad);
	return test_end();
}
