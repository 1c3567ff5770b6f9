/*
 * test-jira.c: unit tests of lib/tracker-jira.c against tests/fakes/jira.py, a
 * fake JIRA site on 127.0.0.1 (a child process of this test), printing TAP.
 *
 * Each operation is checked both ways: what the tracker interface gives
 * back, and what the fake received (its request log), since a client
 * that reads its own writes back can be wrong in the same way twice. The
 * fake's workflow names every transition "Move to <status>", so a client
 * that picks a transition by anything but its target status fails here.
 */
#include "../../lib/timeutil.h"
#include "../../lib/tracker-internal.h"
#include "fake.h"

#define USER "bot@example.com"
#define TOKEN "test-token"
/* base64("bot@example.com:test-token") */
#define BASIC "Basic Ym90QGV4YW1wbGUuY29tOnRlc3QtdG9rZW4="
#define FP "prometheus/checkout/HighLatency"

/* ---- the fake server ---- */

static void fake_issue(const struct fake *f, const char *json)
{
	if (fake_call(f, "POST", "/_fake/issue", json, NULL) != 201)
		printf("# cannot make an issue in the fake: %s\n", json);
}

/* The id of the workflow transition into status, as the fake says. */
static char *transition_into(const struct fake *f, const char *status)
{
	cJSON *state = NULL, *tr;
	char *id = NULL;

	fake_call(f, "GET", "/_fake/state", NULL, &state);
	cJSON_ArrayForEach(tr, cJSON_GetObjectItem(cJSON_GetObjectItem(state, "workflow"),
						   "transitions")) {
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(tr, "to")), status))
			id = xstrdup(cJSON_GetStringValue(cJSON_GetObjectItem(tr, "id")));
	}
	cJSON_Delete(state);
	return id ? id : xstrdup("(none)");
}

static const char *jstr(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItem(o, a);

	if (b)
		v = cJSON_GetObjectItem(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The text of the first ADF codeBlock with this language, or NULL. */
static const char *adf_code(const cJSON *doc, const char *lang)
{
	const cJSON *b;

	cJSON_ArrayForEach(b, cJSON_GetObjectItem(doc, "content")) {
		const char *type = jstr(b, "type", NULL), *l = jstr(b, "attrs", "language");
		if (type && !strcmp(type, "codeBlock") && l && !strcmp(l, lang))
			return jstr(cJSON_GetArrayItem(cJSON_GetObjectItem(b, "content"), 0),
				    "text", NULL);
	}
	return NULL;
}

/* ---- the client under test ---- */

struct client {
	struct config cfg;
	struct tracker *t;
};

/* tracker_open() on the fake with these extra config lines: the tracker or NULL. */
static struct tracker *client_open(struct client *c, const struct fake *f, const char *extra)
{
	char *text = xstrfmt("[tracker]\n\tkind = jira\n"
			     "[jira]\n\turl = %s/\n\tproject = OPS\n\tuser = " USER "\n"
			     "[http]\n\tretry-base = 10ms\n%s",
			     f->url, extra ? extra : "");

	memset(c, 0, sizeof(*c));
	if (config_read_buffer(&c->cfg, text, strlen(text), "test", CONFIG_SCOPE_COMMAND) < 0 ||
	    tracker_open(&c->t, &c->cfg) < 0)
		c->t = NULL;
	free(text);
	return c->t;
}

static void client_close(struct client *c)
{
	tracker_free(c->t);
	config_clear(&c->cfg);
	c->t = NULL;
}

static void example_incident(struct incident *inc, long long id, const char *fp,
			     const char *title)
{
	memset(inc, 0, sizeof(*inc));
	inc->id = id;
	inc->fingerprint = xstrdup(fp);
	inc->service = xstrdup("checkout");
	inc->title = xstrdup(title);
	inc->source = xstrdup("prometheus");
	inc->severity = SEVERITY_HIGH;
	inc->state = STATE_INCIDENT_DETECTED;
	parse_iso8601("2026-11-24T05:07:00Z", &inc->opened_at);
}

/* Every message a user may read: one line, no token. */
static void check_message(const struct tracker *t, const char *secret, const char *what)
{
	ok(t->error.len && !strchr(t->error.buf, '\n'), "%s: one line", what);
	unlike(t->error.buf, secret, "%s: the token is not in it", what);
}

/* ---- the tests ---- */

static void test_open(const struct fake *f)
{
	struct client c;
	const char *msg;

	unsetenv("ATLASSIAN_TOKEN");
	capture_start();
	client_open(&c, f, NULL);
	msg = capture_end();
	ok(!c.t, "without a token the tracker does not open");
	like(msg, "ATLASSIAN_TOKEN", "the message names the environment variable");
	like(msg, "jira.token-command", "and the token command");
	client_close(&c);

	client_open(&c, f, "[jira]\n\ttoken-command = printf " TOKEN "\n");
	ok(c.t, "the token may come from jira.token-command");
	if (c.t) {
		struct remote_issue ri;
		int r = c.t->ops->get(c.t, "OPS-404", &ri);
		is_int(r, TRACKER_NOT_FOUND, "and is sent: an unknown issue is not found, not refused");
		remote_issue_release(&ri);
	}
	client_close(&c);
	setenv("ATLASSIAN_TOKEN", TOKEN, 1);

	capture_start();
	client_open(&c, f, "[jira]\n\tapi-version = 4\n");
	msg = capture_end();
	ok(!c.t, "jira.api-version 4 is refused");
	like(msg, "3 (Cloud) or 2 (Data Center)", "saying what it takes");
	client_close(&c);

	{
		struct config cfg = CONFIG_INIT;
		struct tracker *t = NULL;
		const char *text = "[tracker]\n\tkind = jira\n[jira]\n\tproject = OPS\n";

		config_read_buffer(&cfg, text, strlen(text), "test", CONFIG_SCOPE_COMMAND);
		capture_start();
		is_int(tracker_open(&t, &cfg), -1, "without jira.url the tracker does not open");
		msg = capture_end();
		like(msg, "jira.url is not set", "and says which key is missing");
		tracker_free(t);
		config_clear(&cfg);
	}
}

static void test_create_get_find(const struct fake *f, struct tracker *t)
{
	struct incident inc;
	struct remote_issue ri;
	cJSON *body, *labels, *rec = NULL, *list;
	char h[13], *label, *want_url, *prose = NULL;
	const char *code;

	example_incident(&inc, 7, FP, "Checkout latency above 2s");
	is_int(t->ops->create(t, &inc, &ri), TRACKER_OK, "create: an issue is made");
	is_str(ri.key, "OPS-1", "create: its key");
	want_url = xstrfmt("%s/browse/OPS-1", f->url);
	is_str(ri.url, want_url, "create: its page, under jira.url without the trailing slash");
	remote_issue_release(&ri);

	list = fake_requests(f, 0, "POST", "^/rest/api/3/issue$");
	is_str(jstr(cJSON_GetArrayItem(list, 0), "headers", "authorization"), BASIC,
	       "create: basic auth with jira.user and the token");
	cJSON_Delete(list);
	body = fake_last_body(f, 0, "POST", "^/rest/api/3/issue$");
	is_str(jstr(cJSON_GetObjectItem(body, "fields"), "project", "key"), "OPS",
	       "create: in jira.project");
	is_str(jstr(cJSON_GetObjectItem(body, "fields"), "issuetype", "name"), "Incident",
	       "create: of the default issue type");
	is_str(jstr(cJSON_GetObjectItem(body, "fields"), "summary", NULL),
	       "Checkout latency above 2s", "create: the title is the summary");
	labels = cJSON_GetObjectItem(cJSON_GetObjectItem(body, "fields"), "labels");
	fingerprint_short(h, FP);
	label = xstrfmt("sre-fp-%s", h);
	ok(cJSON_GetArraySize(labels) == 2 &&
	   !strcmp(cJSON_GetArrayItem(labels, 0)->valuestring, "sre") &&
	   !strcmp(cJSON_GetArrayItem(labels, 1)->valuestring, label),
	   "create: labelled sre and %s", label);
	code = adf_code(cJSON_GetObjectItem(cJSON_GetObjectItem(body, "fields"), "description"),
			"json");
	rec = code ? cJSON_Parse(code) : NULL;
	is_str(jstr(rec, "kind", NULL), "incident", "create: the description is ADF with a json codeBlock");
	is_str(jstr(rec, "fingerprint", NULL), FP, "create: the record holds the fingerprint");
	ok(cJSON_GetNumberValue(cJSON_GetObjectItem(rec, "id")) == 7 &&
	   !strcmp(jstr(rec, "opened_at", NULL), "2026-11-24T05:07:00Z") &&
	   !strcmp(jstr(rec, "state", NULL), "INCIDENT_DETECTED") &&
	   cJSON_GetNumberValue(cJSON_GetObjectItem(rec, "sre")) == 1,
	   "create: and id, opened_at, state and sre");
	cJSON_Delete(rec);
	cJSON_Delete(body);

	is_int(t->ops->get(t, "OPS-1", &ri), TRACKER_OK, "get: the issue");
	is_str(ri.key, "OPS-1", "get: key");
	is_str(ri.url, want_url, "get: url");
	is_str(ri.title, "Checkout latency above 2s", "get: title from the summary");
	is_str(ri.fingerprint, FP, "get: fingerprint from the record");
	is_str(ri.service, "checkout", "get: service from the record");
	is_str(ri.severity, "high", "get: severity from the record");
	is_str(ri.status, "To Do", "get: the status");
	is_int(ri.state, STATE_INCIDENT_DETECTED, "get: its state");
	is_int(ri.closed, 0, "get: open");
	is_str(ri.priority, "Medium", "get: priority");
	ok(ri.updated && ri.updated[0] == '2', "get: updated");
	ok(ri.body && strstr(ri.body, "opened by sre as local incident #7"),
	   "get: the body holds the prose");
	record_parse(ri.body ? ri.body : "", &prose, &rec);
	is_str(jstr(rec, "title", NULL), "Checkout latency above 2s",
	       "get: and the record, as record_parse() reads it");
	is_str(prose, "Service: checkout\nSeverity: high\nSource: prometheus\nFingerprint: " FP
	       "\n\nThis issue was opened by sre as local incident #7.",
	       "get: hardBreaks are newlines, paragraphs blank lines");
	cJSON_Delete(rec);
	free(prose);
	remote_issue_release(&ri);
	list = fake_requests(f, 0, "GET", "^/rest/api/3/issue/OPS-1$");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "query")),
	       "fields=summary,status,labels,description,assignee,priority,updated",
	       "get: asks for the fields it reads");
	cJSON_Delete(list);

	is_int(t->ops->find(t, FP, &ri), TRACKER_OK, "find: by fingerprint");
	is_str(ri.key, "OPS-1", "find: the issue");
	is_str(ri.fingerprint, FP, "find: with its fingerprint");
	remote_issue_release(&ri);
	body = fake_last_body(f, 0, "POST", "^/rest/api/3/search/jql$");
	{
		char *jql = xstrfmt("project = \"OPS\" AND labels = \"%s\" AND statusCategory != Done",
				    label);
		is_str(jstr(body, "jql", NULL), jql, "find: the JQL");
		free(jql);
	}
	is_int(cJSON_GetNumberValue(cJSON_GetObjectItem(body, "maxResults")), 50,
	       "find: one page of 50");
	cJSON_Delete(body);

	/* The label of another fingerprint, on an issue without its record. */
	fingerprint_short(h, "other/fp");
	{
		char *json = xstrfmt("{\"summary\":\"by hand\",\"labels\":[\"sre\",\"sre-fp-%s\"],"
				     "\"description\":\"no record here\"}", h);
		fake_issue(f, json);
		free(json);
	}
	is_int(t->ops->find(t, "other/fp", &ri), TRACKER_NOT_FOUND,
	       "find: a label without the record's fingerprint does not count");
	ok(!ri.key, "find: and fills nothing");
	remote_issue_release(&ri);
	is_int(t->ops->find(t, "never/seen", &ri), TRACKER_NOT_FOUND, "find: an unknown fingerprint");
	remote_issue_release(&ri);

	free(label);
	free(want_url);
	incident_release(&inc);
}

static void test_move(const struct fake *f, struct tracker *t)
{
	struct remote_issue ri;
	cJSON *body;
	char *id;
	int before;

	is_int(t->ops->move(t, "OPS-1", STATE_ANALYSIS_IN_PROGRESS), TRACKER_OK,
	       "move: to ANALYSIS_IN_PROGRESS");
	id = transition_into(f, "In Progress");
	body = fake_last_body(f, 0, "POST", "^/rest/api/3/issue/OPS-1/transitions$");
	is_str(jstr(cJSON_GetObjectItem(body, "transition"), "id", NULL), id,
	       "move: by the transition whose target is In Progress (id %s)", id);
	cJSON_Delete(body);
	free(id);
	t->ops->get(t, "OPS-1", &ri);
	is_str(ri.status, "In Progress", "move: the issue is In Progress");
	is_int(ri.state, STATE_ANALYSIS_IN_PROGRESS, "move: which reads back as the state");
	remote_issue_release(&ri);

	before = fake_count(f, 0, "POST", "^/rest/api/3/issue/OPS-1/transitions$");
	is_int(t->ops->move(t, "OPS-1", STATE_ANALYSIS_IN_PROGRESS), TRACKER_OK,
	       "move: to the status it has");
	is_int(fake_count(f, 0, "POST", "^/rest/api/3/issue/OPS-1/transitions$"), before,
	       "move: makes no transition");

	is_int(t->ops->move(t, "OPS-1", STATE_INCIDENT_RESOLVED), TRACKER_OK,
	       "move: to INCIDENT_RESOLVED");
	t->ops->get(t, "OPS-1", &ri);
	is_str(ri.status, "Done", "move: the issue is Done");
	is_int(ri.closed, 1, "move: and closed (status category done)");
	is_int(ri.state, STATE_INCIDENT_RESOLVED, "move: state INCIDENT_RESOLVED");
	remote_issue_release(&ri);
	is_int(t->ops->find(t, FP, &ri), TRACKER_NOT_FOUND, "find: a Done issue is not open");
	remote_issue_release(&ri);

	is_int(t->ops->move(t, "OPS-404", STATE_PR_MERGED), TRACKER_NOT_FOUND,
	       "move: an unknown issue is not found");
	is_str(t->error.buf, "jira: moving OPS-404: HTTP 404 Issue does not exist or you do not "
	       "have permission to see it.", "move: and says so");
}

/* The labels the fake holds on issue key, comma-joined. Caller frees. */
static char *labels_of(const struct fake *f, const char *key)
{
	struct strbuf sb = STRBUF_INIT;
	cJSON *state = NULL, *issue, *l;

	fake_call(f, "GET", "/_fake/state", NULL, &state);
	cJSON_ArrayForEach(issue, cJSON_GetObjectItem(state, "issues")) {
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(issue, "key")), key))
			continue;
		cJSON_ArrayForEach(l, cJSON_GetObjectItem(issue, "labels"))
			strbuf_addf(&sb, "%s%s", sb.len ? "," : "", cJSON_GetStringValue(l));
	}
	cJSON_Delete(state);
	return strbuf_detach(&sb, NULL);
}

static void test_label(const struct fake *f, struct tracker *t)
{
	cJSON *body;
	char *labels;

	is_int(t->ops->label(t, "OPS-1", "triaged", NULL), TRACKER_OK, "label: add one");
	body = fake_last_body(f, 0, "PUT", "^/rest/api/3/issue/OPS-1$");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(body, "update"), "labels"), 0), "add")),
	       "triaged", "label: sent as JIRA's update verb, {\"add\": ...}");
	cJSON_Delete(body);
	labels = labels_of(f, "OPS-1");
	ok(strstr(labels, "triaged") && strstr(labels, "sre"), "label: the issue has it, and kept the others (%s)", labels);
	free(labels);
	is_int(t->ops->label(t, "OPS-1", NULL, "triaged"), TRACKER_OK, "label: remove it");
	labels = labels_of(f, "OPS-1");
	ok(!strstr(labels, "triaged"), "label: it is gone (%s)", labels);
	free(labels);
	is_int(t->ops->label(t, "OPS-1", NULL, "never-there"), TRACKER_OK,
	       "label: removing a label the issue lacks is fine");
	is_int(t->ops->label(t, "OPS-1", "has space", NULL), TRACKER_FAIL,
	       "label: a label JIRA refuses is a failure");
	like(t->error.buf, "jira: editing the labels of OPS-1: HTTP 400 labels:", "label: and says why");
	is_int(t->ops->label(t, "OPS-404", "x", NULL), TRACKER_NOT_FOUND, "label: an unknown issue");
}

static void test_status_map(const struct fake *f)
{
	struct client c, plain;
	struct incident inc;
	struct remote_issue ri;
	cJSON *body;
	char *id;

	client_open(&c, f, "[jira \"status\"]\n\tpr-merged = deployed\n\tpr-approved = Shipped\n");
	ok(c.t, "a tracker with jira.status.<state> overrides opens");
	if (!c.t)
		return;
	example_incident(&inc, 8, "loki/api/5xx", "API 5xx");
	c.t->ops->create(c.t, &inc, &ri);
	is_str(ri.key, "OPS-3", "override: a second issue");
	remote_issue_release(&ri);

	is_int(c.t->ops->move(c.t, "OPS-3", STATE_PR_MERGED), TRACKER_OK,
	       "override: move to PR_MERGED");
	id = transition_into(f, "Deployed");
	body = fake_last_body(f, 0, "POST", "^/rest/api/3/issue/OPS-3/transitions$");
	is_str(jstr(cJSON_GetObjectItem(body, "transition"), "id", NULL), id,
	       "override: jira.status.pr-merged names the target, matched without case");
	cJSON_Delete(body);
	free(id);
	c.t->ops->get(c.t, "OPS-3", &ri);
	is_str(ri.status, "Deployed", "override: the issue is Deployed");
	is_int(ri.state, STATE_PR_MERGED, "override: the reverse map gives PR_MERGED");
	remote_issue_release(&ri);

	is_int(c.t->ops->move(c.t, "OPS-3", STATE_PR_APPROVED), TRACKER_FAIL,
	       "override: a status the workflow lacks fails");
	is_str(c.t->error.buf,
	       "jira: moving OPS-3: no transition from 'Deployed' to 'Shipped' in the workflow",
	       "override: naming both statuses");

	/* The default map reads "PR Merged"; this one maps nothing to it. */
	client_open(&plain, f, NULL);
	plain.t->ops->move(plain.t, "OPS-3", STATE_PR_MERGED);
	client_close(&plain);
	c.t->ops->get(c.t, "OPS-3", &ri);
	is_str(ri.status, "PR Merged", "override: a status no state maps to");
	is_int(ri.state, -1, "override: reads back as no state");
	remote_issue_release(&ri);

	incident_release(&inc);
	client_close(&c);
}

static void test_comments(const struct fake *f, struct tracker *t)
{
	const char *prose = "The pool is exhausted.\nConnections wait 2s.\n\nRestarting checkout.";
	struct remote_comment *list = NULL;
	cJSON *record = cJSON_Parse("{\"sre\":1,\"kind\":\"comment\",\"key\":\"k-1\","
				    "\"text\":\"a \\\"quoted\\\" word\"}");
	cJSON *body, *doc, *human;
	size_t nr = 0;

	is_int(t->ops->comment(t, "OPS-2", prose, record), TRACKER_OK, "comment: posted");
	body = fake_last_body(f, 0, "POST", "^/rest/api/3/issue/OPS-2/comment$");
	doc = cJSON_GetObjectItem(body, "body");
	is_str(jstr(doc, "type", NULL), "doc", "comment: the body is an ADF document");
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "content")), 3,
	       "comment: two paragraphs and a code block");
	{
		cJSON *sent = cJSON_Parse(adf_code(doc, "json") ? adf_code(doc, "json") : "null");
		ok(cJSON_Compare(sent, record, 1), "comment: the code block holds the record");
		cJSON_Delete(sent);
	}
	cJSON_Delete(body);

	/* A person's comment, with a list and a code block that is not a record. */
	human = cJSON_Parse(
		"{\"body\":{\"type\":\"doc\",\"version\":1,\"content\":["
		"{\"type\":\"paragraph\",\"content\":[{\"type\":\"text\",\"text\":\"Seen by \"},"
		"{\"type\":\"mention\",\"attrs\":{\"id\":\"1\",\"text\":\"@Ana\"}}]},"
		"{\"type\":\"bulletList\",\"content\":["
		"{\"type\":\"listItem\",\"content\":[{\"type\":\"paragraph\",\"content\":[{\"type\":\"text\",\"text\":\"one\"}]}]},"
		"{\"type\":\"listItem\",\"content\":[{\"type\":\"paragraph\",\"content\":[{\"type\":\"text\",\"text\":\"two\"}]}]}]},"
		"{\"type\":\"codeBlock\",\"attrs\":{\"language\":\"json\"},\"content\":[{\"type\":\"text\",\"text\":\"{\\\"a\\\":1}\"}]}]}}");
	{
		char *json = cJSON_PrintUnformatted(human);
		fake_call(f, "POST", "/rest/api/3/issue/OPS-2/comment", json, NULL);
		cJSON_free(json);
	}
	cJSON_Delete(human);

	is_int(t->ops->comments(t, "OPS-2", &list, &nr), TRACKER_OK, "comments: read");
	is_int(nr, 2, "comments: both");
	if (nr == 2) {
		is_str(list[0].text, prose, "comments: the prose comes back as it was written");
		ok(cJSON_Compare(list[0].record, record, 1), "comments: and the record");
		is_str(list[0].author, "SRE Bot", "comments: the author's display name");
		ok(list[0].id && list[0].created && list[0].created[0] == '2',
		   "comments: id and created");
		is_str(list[1].text, "Seen by @Ana\n\n- one\n- two\n\n```json\n{\"a\":1}\n```",
		       "comments: a person's ADF as text");
		ok(!list[1].record, "comments: a json block without \"sre\" is no record");
	}
	remote_comment_list_free(list, nr);

	/* A record written without "sre" gets it, so it is known again. */
	cJSON_DeleteItemFromObject(record, "sre");
	cJSON_ReplaceItemInObject(record, "key", cJSON_CreateString("k-2"));
	t->ops->comment(t, "OPS-2", "", record);
	t->ops->comments(t, "OPS-2", &list, &nr);
	is_str(nr == 3 ? jstr(list[2].record, "key", NULL) : NULL, "k-2",
	       "comments: a record without \"sre\" still comes back");
	is_str(nr == 3 ? list[2].text : NULL, "", "comments: with no prose");
	remote_comment_list_free(list, nr);
	cJSON_Delete(record);
}

static void test_comment_pages(const struct fake *paged)
{
	struct client c;
	struct incident inc;
	struct remote_issue ri;
	struct remote_comment *list = NULL;
	size_t nr = 0;
	cJSON *reqs;
	int ok_order = 1;

	client_open(&c, paged, NULL);
	example_incident(&inc, 9, "fp/paged", "paged comments");
	c.t->ops->create(c.t, &inc, &ri);
	for (int i = 0; i < 5; i++) {
		char *key = xstrfmt("{\"sre\":1,\"key\":\"k-%d\"}", i);
		cJSON *rec = cJSON_Parse(key);
		c.t->ops->comment(c.t, ri.key, "note", rec);
		cJSON_Delete(rec);
		free(key);
	}
	is_int(c.t->ops->comments(c.t, ri.key, &list, &nr), TRACKER_OK,
	       "comments: read over pages of 2");
	is_int(nr, 5, "comments: all five");
	for (size_t i = 0; i < nr; i++) {
		char want[32];
		snprintf(want, sizeof(want), "k-%zu", i);
		if (!list[i].record || strcmp(jstr(list[i].record, "key", NULL), want))
			ok_order = 0;
	}
	ok(ok_order, "comments: oldest first");
	{
		char *path = xstrfmt("^/rest/api/3/issue/%s/comment$", ri.key);
		reqs = fake_requests(paged, 0, "GET", path);
		is_int(cJSON_GetArraySize(reqs), 3, "comments: three pages");
		is_str(jstr(cJSON_GetArrayItem(reqs, 2), "query", NULL),
		       "startAt=4&maxResults=100&orderBy=created", "comments: the third from startAt 4");
		cJSON_Delete(reqs);
		free(path);
	}
	remote_comment_list_free(list, nr);
	remote_issue_release(&ri);
	incident_release(&inc);
	client_close(&c);
}

static void test_search(const struct fake *paged)
{
	static const char *const titles[] = {
		"disk full on db-1", "queue lag", "tls expiry", "pod crashloop", "5xx spike",
	};
	struct tracker_query q = { 0 };
	struct remote_issue *list = NULL;
	struct client c;
	size_t nr = 0;
	cJSON *reqs, *b;
	int before, in_order = 1;

	fake_issue(paged, "{\"summary\":\"disk full on db-1\",\"priority\":\"P1\"}");
	fake_issue(paged, "{\"summary\":\"queue lag\",\"priority\":\"P2\"}");
	fake_issue(paged, "{\"summary\":\"noise\",\"priority\":\"P3\"}");
	fake_issue(paged, "{\"summary\":\"tls expiry\",\"priority\":\"P1\",\"assignee\":\"" USER "\"}");
	fake_issue(paged, "{\"summary\":\"old\",\"priority\":\"P1\",\"status\":\"Done\"}");
	fake_issue(paged, "{\"summary\":\"pod crashloop\",\"priority\":\"P2\",\"assignee\":\"ana@example.com\"}");
	fake_issue(paged, "{\"summary\":\"5xx spike\",\"priority\":\"P1\",\"status\":\"In Progress\"}");

	client_open(&c, paged, NULL);
	before = fake_count(paged, 0, "POST", "^/rest/api/3/search/jql$");
	q.priorities = "P1, P2";
	is_int(c.t->ops->search(c.t, &q, &list, &nr), TRACKER_OK, "search: P1 and P2");
	is_int(nr, 5, "search: the five open ones, over pages of 2");
	for (size_t i = 0; i < nr && i < ARRAY_SIZE(titles); i++)
		if (!list[i].title || strcmp(list[i].title, titles[i]))
			in_order = 0;
	ok(in_order, "search: oldest first");
	is_str(nr > 3 ? list[3].assignee : NULL, "Ana", "search: the assignee's display name");
	is_str(nr > 4 ? list[4].status : NULL, "In Progress", "search: the status");
	remote_issue_list_free(list, nr);
	reqs = fake_requests(paged, 0, "POST", "^/rest/api/3/search/jql$");
	is_int(cJSON_GetArraySize(reqs) - before, 3, "search: three requests");
	b = cJSON_Parse(jstr(cJSON_GetArrayItem(reqs, before), "body", NULL));
	is_str(jstr(b, "jql", NULL), "project = \"OPS\" AND statusCategory != Done AND "
	       "priority in (\"P1\",\"P2\") ORDER BY created ASC", "search: the JQL");
	is_int(cJSON_GetNumberValue(cJSON_GetObjectItem(b, "maxResults")), 100,
	       "search: pages of up to 100");
	ok(!cJSON_GetObjectItem(b, "nextPageToken"), "search: the first page without a token");
	cJSON_Delete(b);
	b = cJSON_Parse(jstr(cJSON_GetArrayItem(reqs, before + 2), "body", NULL));
	ok(jstr(b, "nextPageToken", NULL) && !strcmp(jstr(b, "jql", NULL),
	   "project = \"OPS\" AND statusCategory != Done AND priority in (\"P1\",\"P2\") "
	   "ORDER BY created ASC"), "search: the third with the token and the same JQL");
	cJSON_Delete(b);
	cJSON_Delete(reqs);

	q.max = 3;
	is_int(c.t->ops->search(c.t, &q, &list, &nr), TRACKER_OK, "search: at most 3");
	is_int(nr, 3, "search: max is honoured");
	b = fake_last_body(paged, 0, "POST", "^/rest/api/3/search/jql$");
	is_int(cJSON_GetNumberValue(cJSON_GetObjectItem(b, "maxResults")), 3,
	       "search: and asked for");
	cJSON_Delete(b);
	remote_issue_list_free(list, nr);

	memset(&q, 0, sizeof(q));
	q.assignee = "me";
	c.t->ops->search(c.t, &q, &list, &nr);
	is_int(nr, 1, "search: assignee me is currentUser()");
	is_str(nr ? list[0].title : NULL, "tls expiry", "search: the bot's ticket");
	remote_issue_list_free(list, nr);

	q.assignee = NULL;
	q.status = "In \"Progress\"\\";
	is_int(c.t->ops->search(c.t, &q, &list, &nr), TRACKER_FAIL,
	       "search: a status the site lacks is refused");
	ok(!list && !nr, "search: and returns nothing");
	b = fake_last_body(paged, 0, "POST", "^/rest/api/3/search/jql$");
	like(jstr(b, "jql", NULL) ? jstr(b, "jql", NULL) : "", "AND status = \"In \\\"Progress\\\"\\\\\" ORDER",
	     "search: quotes and backslashes are escaped in JQL");
	cJSON_Delete(b);
	is_str(c.t->error.buf, "jira: searching issues: HTTP 400 The value 'In \"Progress\"\\' does "
	       "not exist for the field 'status'.", "search: the site's message");
	client_close(&c);

	client_open(&c, paged, "[jira]\n\tpriorities = P2\n\tstatus = To Do\n");
	memset(&q, 0, sizeof(q));
	c.t->ops->search(c.t, &q, &list, &nr);
	is_int(nr, 2, "search: jira.priorities and jira.status are the defaults");
	remote_issue_list_free(list, nr);
	client_close(&c);
}

static void test_errors(const struct fake *f, struct tracker *t)
{
	struct incident inc;
	struct remote_issue ri;
	struct client c;
	int before;

	example_incident(&inc, 10, "fp/empty", "");
	is_int(t->ops->create(t, &inc, &ri), TRACKER_FAIL, "400: creating without a summary fails");
	is_str(t->error.buf, "jira: creating issue: HTTP 400 summary: You must specify a summary "
	       "of the issue.", "400: the field and JIRA's message");
	check_message(t, TOKEN, "400");
	remote_issue_release(&ri);
	incident_release(&inc);

	setenv("ATLASSIAN_TOKEN", "wrong-secret-token", 1);
	client_open(&c, f, NULL);
	is_int(c.t->ops->get(c.t, "OPS-1", &ri), TRACKER_FAIL, "401: a wrong token fails");
	is_str(c.t->error.buf, "jira: getting OPS-1: HTTP 401 Client must be authenticated to "
	       "access this resource.", "401: one clear line");
	check_message(c.t, "wrong-secret-token", "401");
	remote_issue_release(&ri);
	client_close(&c);
	setenv("ATLASSIAN_TOKEN", TOKEN, 1);

	fake_fail(f, "{\"method\":\"GET\",\"path\":\"/issue/OPS-1$\",\"status\":400,"
		  "\"body\":{\"errorMessages\":[\"token " TOKEN " is not welcome\"],\"errors\":{}}}");
	t->ops->get(t, "OPS-1", &ri);
	is_str(t->error.buf, "jira: getting OPS-1: HTTP 400 token <redacted> is not welcome",
	       "a token the site echoes is redacted");
	remote_issue_release(&ri);

	/* Four: the first attempt and http.retries' default three. */
	fake_fail(f, "{\"method\":\"GET\",\"path\":\"/issue/OPS-1$\",\"status\":503,\"times\":4,"
		  "\"body\":\"upstream unavailable\"}");
	is_int(t->ops->get(t, "OPS-1", &ri), TRACKER_RETRY, "503 past the retries: retry later");
	remote_issue_release(&ri);

	before = fake_count(f, 0, "POST", "^/rest/api/3/issue$");
	fake_fail(f, "{\"method\":\"POST\",\"path\":\"/rest/api/3/issue$\",\"status\":502}");
	example_incident(&inc, 11, "fp/once", "written once");
	is_int(t->ops->create(t, &inc, &ri), TRACKER_RETRY, "502 on create: retry later");
	is_int(fake_count(f, 0, "POST", "^/rest/api/3/issue$") - before, 1,
	       "a create is not repeated blindly");
	remote_issue_release(&ri);
	incident_release(&inc);
}

static void test_data_center(const struct fake *paged)
{
	struct client c;
	struct incident inc;
	struct remote_issue ri, *list = NULL;
	struct remote_comment *comments = NULL;
	struct tracker_query q = { 0 };
	cJSON *body, *rec, *reqs;
	size_t nr = 0;

	client_open(&c, paged, "[jira]\n\tapi-version = 2\n");
	ok(c.t, "api-version 2 (Data Center) opens");
	if (!c.t)
		return;
	example_incident(&inc, 12, "fp/dc", "on Data Center");
	is_int(c.t->ops->create(c.t, &inc, &ri), TRACKER_OK, "dc: create");
	body = fake_last_body(paged, 0, "POST", "^/rest/api/2/issue$");
	ok(cJSON_IsString(cJSON_GetObjectItem(cJSON_GetObjectItem(body, "fields"), "description")) &&
	   strstr(jstr(cJSON_GetObjectItem(body, "fields"), "description", NULL), "\n\n{code:json}\n{"),
	   "dc: the description is text with a {code:json} block");
	cJSON_Delete(body);
	remote_issue_release(&ri);
	c.t->ops->find(c.t, "fp/dc", &ri);
	is_str(ri.fingerprint, "fp/dc", "dc: find reads the record back");
	is_int(fake_count(paged, 0, "POST", "^/rest/api/2/search$"), 1, "dc: through /rest/api/2/search");
	rec = cJSON_Parse("{\"sre\":1,\"kind\":\"comment\",\"key\":\"dc-1\"}");
	is_int(c.t->ops->comment(c.t, ri.key, "on DC", rec), TRACKER_OK, "dc: comment");
	{
		char *path = xstrfmt("^/rest/api/2/issue/%s/comment$", ri.key);
		body = fake_last_body(paged, 0, "POST", path);
		free(path);
	}
	is_str(jstr(body, "body", NULL), "on DC\n\n{code:json}\n{\"sre\":1,\"kind\":\"comment\","
	       "\"key\":\"dc-1\"}\n{code}", "dc: the comment is text");
	cJSON_Delete(body);
	c.t->ops->comments(c.t, ri.key, &comments, &nr);
	ok(nr == 1 && !strcmp(comments[0].text, "on DC") && cJSON_Compare(comments[0].record, rec, 1),
	   "dc: comments read back, record and prose");
	remote_comment_list_free(comments, nr);
	cJSON_Delete(rec);
	remote_issue_release(&ri);
	incident_release(&inc);

	q.priorities = "P1,P2";
	is_int(c.t->ops->search(c.t, &q, &list, &nr), TRACKER_OK, "dc: search");
	is_int(nr, 5, "dc: all five, paged with startAt");
	remote_issue_list_free(list, nr);
	reqs = fake_requests(paged, 0, "POST", "^/rest/api/2/search$");
	body = cJSON_Parse(jstr(cJSON_GetArrayItem(reqs, cJSON_GetArraySize(reqs) - 1), "body", NULL));
	is_int(cJSON_GetNumberValue(cJSON_GetObjectItem(body, "startAt")), 4,
	       "dc: the last page from startAt 4");
	cJSON_Delete(body);
	cJSON_Delete(reqs);
	client_close(&c);
}

/* ---- assign, open_issue, find_labelled ---- */

/* A user of the fake site: its accountId, the caller's to free. */
static char *fake_user(const struct fake *f, const char *email, const char *name, int assignable)
{
	char *json = xstrfmt("{\"email\":\"%s\",\"displayName\":\"%s\",\"assignable\":%s}",
			     email, name, assignable ? "true" : "false");
	cJSON *u = NULL;
	char *id;

	if (fake_call(f, "POST", "/_fake/user", json, &u) != 201)
		printf("# cannot make user %s\n", email);
	id = xstrdup(jstr(u, "accountId", NULL) ? jstr(u, "accountId", NULL) : "?");
	cJSON_Delete(u);
	free(json);
	return id;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static int has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f ||
		    (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return 1;
	return 0;
}

/* The text of an ADF document's text nodes, in order; paragraphs by blank lines. Caller frees. */
static char *adf_plain(const cJSON *doc)
{
	struct strbuf sb = STRBUF_INIT;
	const cJSON *b, *n;

	cJSON_ArrayForEach(b, cJSON_GetObjectItem(doc, "content")) {
		if (sb.len)
			strbuf_addstr(&sb, "\n\n");
		cJSON_ArrayForEach(n, cJSON_GetObjectItem(b, "content")) {
			const char *type = jstr(n, "type", NULL);
			if (type && !strcmp(type, "hardBreak"))
				strbuf_addch(&sb, '\n');
			else if (jstr(n, "text", NULL))
				strbuf_addstr(&sb, jstr(n, "text", NULL));
		}
	}
	return strbuf_detach(&sb, NULL);
}

/* The JQL of the last search request. Caller frees. */
static char *last_jql(const struct fake *f, const char *path)
{
	cJSON *body = fake_last_body(f, 0, "POST", path);
	char *jql = xstrdup(jstr(body, "jql", NULL) ? jstr(body, "jql", NULL) : "");

	cJSON_Delete(body);
	return jql;
}

static void test_escalation_cloud(const struct fake *f, struct tracker *t)
{
	struct strvec labels = STRVEC_INIT;
	struct remote_issue ri, found;
	char *alice = fake_user(f, "alice@example.com", "Alice", 1);
	char *eve = fake_user(f, "eve@example.com", "Eve", 0);
	char *first = NULL, *second = NULL, *want, *text, *jql;
	cJSON *body, *fields;
	int before;
	static const char *const bad_ids[] = {
		"", "alice@example.com", "a b", "5b10/../x", "712020:3b2c\x1b[0m", "id\"}",
		"a12345678901234567890123456789012345678901234567890123456789012345678901234567890"
		"123456789012345678901234567890123456789012345678", /* 129 */
	};
	static const char *const bad_keys[] = { "", "OPS-1/../2", "../x", "OPS-", "-1", "OPS-01", "OP S-1", "1OPS-2" };
	static const char *const bad_markers[] = { "", "Jules-fix", "jules fix", "jules\"fix", "a\\b", "x OR y" };

	/* open_issue: fields project, issuetype, summary, labels, an ADF description. */
	strvec_pushl(&labels, "jules-fix", "architecture", NULL);
	is_int(t->ops->open_issue(t, "Architecture: checkout keeps timing out",
				  "It recurred 3 times.\nEach restart held 2 h.\n\nWho owns the pool?",
				  &labels, &ri), TRACKER_OK, "open_issue: TRACKER_OK");
	ok(ri.key && starts_with(ri.key, "OPS-"), "open_issue: a key (%s)", ri.key ? ri.key : "NULL");
	want = xstrfmt("%s/browse/%s", f->url, ri.key ? ri.key : "?");
	is_str(ri.url, want, "open_issue: its page");
	free(want);
	first = xstrdup(ri.key ? ri.key : "?");
	remote_issue_release(&ri);
	body = fake_last_body(f, 0, "POST", "^/rest/api/3/issue$");
	fields = cJSON_GetObjectItem(body, "fields");
	is_str(jstr(fields, "project", "key"), "OPS", "open_issue: in jira.project");
	is_str(jstr(fields, "issuetype", "name"), "Incident", "open_issue: of jira.issue-type");
	is_str(jstr(fields, "summary", NULL), "Architecture: checkout keeps timing out",
	       "open_issue: the summary");
	{
		char *json = cJSON_PrintUnformatted(cJSON_GetObjectItem(fields, "labels"));
		is_str(json, "[\"jules-fix\",\"architecture\"]", "open_issue: the labels");
		cJSON_free(json);
	}
	is_str(jstr(fields, "description", "type"), "doc", "open_issue: an ADF document");
	text = adf_plain(cJSON_GetObjectItem(fields, "description"));
	is_str(text, "It recurred 3 times.\nEach restart held 2 h.\n\nWho owns the pool?",
	       "open_issue: paragraphs and hard breaks, no record");
	free(text);
	cJSON_Delete(body);

	/* assign */
	before = fake_count(f, 0, NULL, ".");
	is_int(t->ops->assign(t, first, alice), TRACKER_OK, "assign: by accountId");
	want = xstrfmt("^/rest/api/3/issue/%s/assignee$", first);
	is_int(fake_count(f, 0, "PUT", want), 1, "assign: one PUT .../assignee");
	body = fake_last_body(f, 0, "PUT", want);
	is_str(jstr(body, "accountId", NULL), alice, "assign: {\"accountId\": ...}");
	ok(cJSON_GetArraySize(body) == 1, "assign: ... and nothing else (GDPR strict mode)");
	cJSON_Delete(body);
	free(want);
	is_int(t->ops->get(t, first, &ri), TRACKER_OK, "assign: read back");
	is_str(ri.assignee, "Alice", "assign: get names the assignee");
	remote_issue_release(&ri);
	is_int(t->ops->assign(t, first, alice), TRACKER_OK, "assign: the same account again is fine");

	is_int(t->ops->assign(t, first, "5b10ac8d82e05b22cc7d4ef5"), TRACKER_FAIL,
	       "assign: an accountId JIRA does not know is TRACKER_FAIL");
	want = xstrfmt("jira: assigning %s to 5b10ac8d82e05b22cc7d4ef5: HTTP 404 Specified user "
		       "does not exist or you do not have required permissions", first);
	is_str(t->error.buf, want, "assign: ... naming the account and JIRA's words");
	free(want);
	is_int(t->ops->assign(t, first, eve), TRACKER_FAIL,
	       "assign: an account that may not be assigned is TRACKER_FAIL");
	want = xstrfmt("jira: assigning %s to %s: HTTP 400 assignee: User '%s' cannot be "
		       "assigned issues.", first, eve, eve);
	is_str(t->error.buf, want, "assign: ... naming it");
	free(want);
	is_int(t->ops->assign(t, "OPS-999", alice), TRACKER_FAIL,
	       "assign: an unknown issue fails too (JIRA's 404 is the issue's or the account's)");
	like(t->error.buf, "Issue does not exist", "assign: ... saying which");
	t->ops->get(t, first, &ri);
	is_str(ri.assignee, "Alice", "assign: the refused ones changed nothing");
	remote_issue_release(&ri);
	is_int(t->ops->assign(t, first, "712020:3b2c5e1a-7f0e-4b8e-9c1d-2a3b4c5d6e7f"), TRACKER_FAIL,
	       "assign: a modern accountId is sent (and unknown here)");

	before = fake_count(f, 0, NULL, ".");
	for (size_t i = 0; i < ARRAY_SIZE(bad_ids); i++) {
		int r = t->ops->assign(t, first, bad_ids[i]);
		if (!ok(r == TRACKER_FAIL && strstr(t->error.buf, "the assignee is no accountId") &&
			!has_control(t->error.buf), "assign: accountId %zu is refused", i))
			diag_text("error", t->error.buf);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad_keys); i++) {
		int r = t->ops->assign(t, bad_keys[i], alice);
		ok(r == TRACKER_FAIL && !strcmp(t->error.buf, "jira: assigning an issue: the key is "
						"no JIRA issue key (as in OPS-17)"),
		   "assign: key %zu is refused", i);
	}

	/* find_labelled */
	for (size_t i = 0; i < ARRAY_SIZE(bad_markers); i++) {
		is_int(t->ops->find_labelled(t, bad_markers[i], &found), TRACKER_FAIL,
		       "find_labelled: marker %zu is refused", i);
		remote_issue_release(&found);
	}
	strvec_clear(&labels);
	strvec_pushl(&labels, "jules-fix", "two words", NULL);
	is_int(t->ops->open_issue(t, "t", "b", &labels, &ri), TRACKER_FAIL,
	       "open_issue: a label with a blank is refused");
	is_str(t->error.buf, "jira: opening issue: a label takes 1 to 255 characters and no "
	       "blank (JIRA labels have no spaces)", "open_issue: ... saying why");
	remote_issue_release(&ri);
	is_int(t->ops->open_issue(t, "\n", "b", NULL, &ri), TRACKER_FAIL,
	       "open_issue: a blank title is refused");
	remote_issue_release(&ri);
	is_int(fake_count(f, 0, NULL, ".") - before, 0, "refusals: all without a request");

	is_int(t->ops->find_labelled(t, "jules-fix", &found), TRACKER_OK, "find_labelled: found");
	is_str(found.key, first, "find_labelled: the issue open_issue opened");
	is_str(found.assignee, "Alice", "find_labelled: ... with its fields");
	remote_issue_release(&found);
	jql = last_jql(f, "^/rest/api/3/search/jql$");
	is_str(jql, "project = \"OPS\" AND labels = \"jules-fix\" ORDER BY created DESC",
	       "find_labelled: the JQL, any status, newest first");
	free(jql);
	body = fake_last_body(f, 0, "POST", "^/rest/api/3/search/jql$");
	is_int(cJSON_GetNumberValue(cJSON_GetObjectItem(body, "maxResults")), 1,
	       "find_labelled: one result");
	cJSON_Delete(body);

	is_int(t->ops->move(t, first, STATE_INCIDENT_RESOLVED), TRACKER_OK, "setup: it is Done");
	is_int(t->ops->find_labelled(t, "jules-fix", &found), TRACKER_OK,
	       "find_labelled: a Done issue is found too");
	is_int(found.closed, 1, "find_labelled: ... closed");
	remote_issue_release(&found);

	strvec_clear(&labels);
	strvec_push(&labels, "jules-fix");
	is_int(t->ops->open_issue(t, "Architecture: a second one", NULL, &labels, &ri), TRACKER_OK,
	       "open_issue: a second, without a body");
	second = xstrdup(ri.key ? ri.key : "?");
	remote_issue_release(&ri);
	fake_issue(f, "{\"summary\":\"not labelled\"}");
	is_int(t->ops->find_labelled(t, "jules-fix", &found), TRACKER_OK, "find_labelled: of two");
	is_str(found.key, second, "find_labelled: the newest");
	remote_issue_release(&found);
	is_int(t->ops->find_labelled(t, "no-such-marker", &found), TRACKER_NOT_FOUND,
	       "find_labelled: none is NOT_FOUND");
	is_str(t->error.buf, "jira: no issue has label no-such-marker", "find_labelled: ... said");
	ok(!found.key, "find_labelled: ... filling nothing");
	remote_issue_release(&found);

	strvec_clear(&labels);
	free(first);
	free(second);
	free(alice);
	free(eve);
}

static void test_open_hostile(const struct fake *f, struct tracker *t, int api)
{
	struct strbuf title = STRBUF_INIT, prose = STRBUF_INIT;
	struct remote_issue ri;
	cJSON *body, *fields;
	char *path = xstrfmt("^/rest/api/%d/issue$", api), *text;
	const char *summary;
	int before = fake_count(f, 0, "POST", path);

	strbuf_addstr(&title, "evil\x1b]0;pwned\x07\r\ntitle\xc2\x9b\xff");
	for (int i = 0; i < 300; i++)
		strbuf_addstr(&title, "\xc3\xa9");
	while (prose.len < 100 * 1024)
		strbuf_addstr(&prose, "line \x1b[31mred\x1b[0m \x01\x7f \xe2\x28\xa1 {code}\n");
	is_int(t->ops->open_issue(t, title.buf, prose.buf, NULL, &ri), TRACKER_OK,
	       "hostile (api %d): the issue is opened", api);
	if (t->error.len)
		diag_text("error", t->error.buf);
	remote_issue_release(&ri);
	is_int(fake_count(f, 0, "POST", path) - before, 1, "hostile (api %d): one POST", api);
	body = fake_last_body(f, 0, "POST", path);
	fields = cJSON_GetObjectItem(body, "fields");
	summary = jstr(fields, "summary", NULL);
	ok(summary && starts_with(summary, "evil?]0;pwned?  title??"),
	   "hostile (api %d): the summary is one line, control characters '?'", api);
	is_int(utf8_chars(summary), 255, "hostile (api %d): ... cut to JIRA's 255", api);
	text = api == 3 ? adf_plain(cJSON_GetObjectItem(fields, "description"))
			: xstrdup(jstr(fields, "description", NULL) ? jstr(fields, "description", NULL) : "");
	ok(!has_control(text) && strstr(text, "line ?[31mred?[0m ?? ?(? {code}"),
	   "hostile (api %d): the description holds no control character nor bad UTF-8", api);
	ok(utf8_chars(text) <= 32767 && utf8_chars(text) > 30000,
	   "hostile (api %d): ... cut to JIRA's 32767 characters (%zu)", api, utf8_chars(text));
	free(text);
	cJSON_Delete(body);
	free(path);
	strbuf_release(&title);
	strbuf_release(&prose);
}

static void test_escalation_dc(const struct fake *paged)
{
	struct strvec labels = STRVEC_INIT;
	struct remote_issue ri, found;
	struct client c;
	char *key = NULL, *newer = NULL, *jql, *path;
	cJSON *body;
	int before;

	client_open(&c, paged, "[jira]\n\tapi-version = 2\n");
	if (!ok(c.t != NULL, "dc: opens"))
		return;
	free(fake_user(paged, "alice@example.com", "Alice", 1));
	strvec_push(&labels, "jules-fix");
	is_int(c.t->ops->open_issue(c.t, "Architecture on DC", "one\ntwo", &labels, &ri),
	       TRACKER_OK, "dc: open_issue");
	key = xstrdup(ri.key ? ri.key : "?");
	remote_issue_release(&ri);
	body = fake_last_body(paged, 0, "POST", "^/rest/api/2/issue$");
	is_str(jstr(cJSON_GetObjectItem(body, "fields"), "description", NULL), "one\ntwo",
	       "dc: the description is the text");
	cJSON_Delete(body);

	is_int(c.t->ops->assign(c.t, key, "alice"), TRACKER_OK, "dc: assign by name");
	path = xstrfmt("^/rest/api/2/issue/%s/assignee$", key);
	body = fake_last_body(paged, 0, "PUT", path);
	is_str(jstr(body, "name", NULL), "alice", "dc: {\"name\": ...}");
	ok(!cJSON_GetObjectItem(body, "accountId"), "dc: ... without an accountId");
	cJSON_Delete(body);
	free(path);
	c.t->ops->get(c.t, key, &ri);
	is_str(ri.assignee, "Alice", "dc: get names the assignee");
	remote_issue_release(&ri);
	is_int(c.t->ops->assign(c.t, key, "nobody"), TRACKER_FAIL, "dc: an unknown name fails");
	{
		char *want = xstrfmt("jira: assigning %s to nobody: HTTP 400 assignee: User 'nobody' "
				     "does not exist.", key);
		is_str(c.t->error.buf, want, "dc: ... naming it");
		free(want);
	}
	before = fake_count(paged, 0, NULL, ".");
	is_int(c.t->ops->assign(c.t, key, "712020:3b2c"), TRACKER_FAIL,
	       "dc: an accountId is no name");
	is_int(c.t->ops->assign(c.t, key, "al ice"), TRACKER_FAIL, "dc: nor a name with a blank");
	is_int(fake_count(paged, 0, NULL, ".") - before, 0, "dc: ... refused without a request");

	is_int(c.t->ops->open_issue(c.t, "Newer on DC", "", &labels, &ri), TRACKER_OK,
	       "dc: a second");
	newer = xstrdup(ri.key ? ri.key : "?");
	remote_issue_release(&ri);
	is_int(c.t->ops->move(c.t, newer, STATE_INCIDENT_RESOLVED), TRACKER_OK, "dc: it is Done");
	is_int(c.t->ops->find_labelled(c.t, "jules-fix", &found), TRACKER_OK, "dc: find_labelled");
	is_str(found.key, newer, "dc: the newest, Done or not");
	remote_issue_release(&found);
	jql = last_jql(paged, "^/rest/api/2/search$");
	is_str(jql, "project = \"OPS\" AND labels = \"jules-fix\" ORDER BY created DESC",
	       "dc: through /rest/api/2/search");
	free(jql);
	test_open_hostile(paged, c.t, 2);

	strvec_clear(&labels);
	free(key);
	free(newer);
	client_close(&c);
}

int main(void)
{
	struct fake f, paged;
	struct client c;

	if (!fake_begin())
		return 0;
	if (test_begin("jira") < 0)
		return 1;
	if (!ok(!fake_start(&f, "jira", "fake", NULL), "the fake JIRA site starts") ||
	    !ok(!fake_start(&paged, "jira", "paged", "--page-size", "2", NULL),
		"and one that pages by 2")) {
		fake_stop(&f);
		return test_end();
	}
	f.auth = BASIC;
	setenv("ATLASSIAN_TOKEN", TOKEN, 1);

	test_open(&f);
	ok(client_open(&c, &f, NULL) != NULL, "tracker_open() opens the jira tracker");
	if (c.t) {
		is_str(c.t->ops->name, "jira", "named jira");
		test_create_get_find(&f, c.t);
		test_move(&f, c.t);
		test_label(&f, c.t);
		test_status_map(&f);
		test_comments(&f, c.t);
		test_errors(&f, c.t);
		test_escalation_cloud(&f, c.t);
		test_open_hostile(&f, c.t, 3);
	}
	client_close(&c);
	test_comment_pages(&paged);
	test_search(&paged);
	test_data_center(&paged);
	test_escalation_dc(&paged);

	fake_stop(&f);
	fake_stop(&paged);
	return test_end();
}
