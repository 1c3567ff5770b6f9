/*
 * tracker-jira.c: the JIRA Service Management client behind tracker.h.
 *
 * An incident is an issue of `jira.project` whose description ends with a
 * JSON code block, the record, naming the incident's fingerprint; the
 * labels "sre" and "sre-fp-<hash>" let find() ask JQL for it, and the
 * record settles a hash collision. The incident's state is the issue's
 * status, through `jira.status.<state>` (the defaults below), reached by
 * the workflow transition whose target status has that name: transition
 * names are the workflow author's, target statuses are what we map. A
 * comment carries its record the same way.
 *
 * Cloud (`jira.api-version` 3, the default) speaks ADF, the Atlassian
 * Document Format, and pages searches with nextPageToken. Data Center (2)
 * takes plain text, with the record in a {code:json} block, and pages
 * with startAt and total. Either way, the text sre reads back is written
 * with the record as record_format() writes it, so record_parse() finds
 * it and the callers never see the difference.
 */
#include <ctype.h>
#include <strings.h>

#include "json.h"
#include "timeutil.h"
#include "tracker-internal.h"

/* What each state is called in the workflow, in enum incident_state order. */
static const char *const default_status[] = {
	"To Do", "In Progress", "Analysis Complete", "Generating Fix", "Fix Generated",
	"Creating PR", "PR Created", "Under Review", "PR Approved", "PR Merged",
	"Deploying", "Deployed", "Verifying Fix", "Verified", "Done",
	"Needs Human Intervention",
};
_Static_assert(ARRAY_SIZE(default_status) == STATE__COUNT,
	       "a default JIRA status for every incident state");

/* The fields sre reads of an issue, as a query parameter and as JSON. */
#define ISSUE_FIELDS "summary,status,labels,description,assignee,priority,updated"
static const char *const issue_fields[] = {
	"summary", "status", "labels", "description", "assignee", "priority", "updated",
};

#define PAGE_MAX 100  /* Cloud's largest page when fields are asked for */
#define FIND_MAX 50
#define JIRA_SUMMARY_MAX 255 /* characters */
#define JIRA_TEXT_MAX 32767  /* characters of a description */
#define JIRA_LABEL_MAX 255
#define JIRA_KEY_MAX 255
/* Cloud's accountIds: "5b10ac8d82e05b22cc7d4ef5", "712020:3b2c...-..." */
#define ACCOUNT_ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:-"
#define ACCOUNT_ID_MAX 128
/* Data Center's user names, as sre accepts them in a URL-free JSON body. */
#define USER_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-"
#define USER_NAME_MAX 255
/* sre's own markers (escalate.architect-label): what find_labelled() takes. */
#define MARKER_CHARS "abcdefghijklmnopqrstuvwxyz0123456789-"
#define MARKER_MAX 50
/* The most pages one search or comment list reads: a server that never
 * says "last" (or loops its page tokens) cannot keep sre asking. */
#define JIRA_MAX_PAGES 1000

struct jira {
	char *url;          /* the site, without a trailing slash */
	char *project;
	char *issue_type;
	char *userpwd;      /* "user:token": a secret, wiped on free */
	int api;            /* 3: Cloud; 2: Data Center */
	const char *status[STATE__COUNT]; /* borrowed from the config or the defaults */
};

static const long ok_200[] = { 200, 0 };
static const long ok_201[] = { 201, 0 };
static const long ok_204[] = { 204, 200, 0 };

/* ---- small JSON helpers ---- */

static char *xstrdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* A record that sre will know again: it carries "sre". */
static cJSON *sre_record(const char *json, size_t len)
{
	cJSON *rec = cJSON_ParseWithLength(json, len);

	if (rec && (!cJSON_IsObject(rec) || !cJSON_HasObjectItem(rec, "sre"))) {
		cJSON_Delete(rec);
		rec = NULL;
	}
	return rec;
}

/* ---- the documents sre writes: ADF on Cloud, plain text on Data Center ---- */

static cJSON *adf_doc(void)
{
	cJSON *doc = cJSON_CreateObject();

	cJSON_AddStringToObject(doc, "type", "doc");
	cJSON_AddNumberToObject(doc, "version", 1);
	cJSON_AddArrayToObject(doc, "content");
	return doc;
}

static void adf_add_text(cJSON *content, const char *text, size_t len)
{
	cJSON *node = cJSON_CreateObject();
	char *s = xstrndup(text, len);

	cJSON_AddStringToObject(node, "type", "text");
	cJSON_AddStringToObject(node, "text", s);
	cJSON_AddItemToArray(content, node);
	free(s);
}

/*
 * Prose as ADF paragraphs: a blank line ends a paragraph, a single
 * newline is a hardBreak. ADF has no empty text nodes, so none is made.
 */
static void adf_add_prose(cJSON *doc, const char *prose)
{
	cJSON *blocks = cJSON_GetObjectItemCaseSensitive(doc, "content");
	cJSON *para = NULL, *inline_nodes = NULL;
	const char *line = prose ? prose : "";

	while (*line) {
		const char *eol = strchrnul(line, '\n');
		size_t len = (size_t)(eol - line);

		if (len && line[len - 1] == '\r')
			len--;
		if (!len) {
			para = NULL;
		} else {
			if (!para) {
				para = cJSON_CreateObject();
				cJSON_AddStringToObject(para, "type", "paragraph");
				inline_nodes = cJSON_AddArrayToObject(para, "content");
				cJSON_AddItemToArray(blocks, para);
			} else {
				cJSON *br = cJSON_CreateObject();
				cJSON_AddStringToObject(br, "type", "hardBreak");
				cJSON_AddItemToArray(inline_nodes, br);
			}
			adf_add_text(inline_nodes, line, len);
		}
		line = *eol ? eol + 1 : eol;
	}
}

static void adf_add_record(cJSON *doc, const cJSON *record)
{
	cJSON *block = cJSON_CreateObject(), *attrs, *content;
	char *json = cJSON_PrintUnformatted(record);

	cJSON_AddStringToObject(block, "type", "codeBlock");
	attrs = cJSON_AddObjectToObject(block, "attrs");
	cJSON_AddStringToObject(attrs, "language", "json");
	content = cJSON_AddArrayToObject(block, "content");
	adf_add_text(content, json ? json : "{}", json ? strlen(json) : 2);
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(doc, "content"), block);
	cJSON_free(json);
}

/* A description or comment body, prose then record, as this API takes it. */
static cJSON *make_document(const struct jira *j, const char *prose, const cJSON *record)
{
	struct strbuf sb = STRBUF_INIT;
	cJSON *doc;
	char *json;

	if (j->api == 3) {
		doc = adf_doc();
		adf_add_prose(doc, prose);
		adf_add_record(doc, record);
		return doc;
	}
	json = cJSON_PrintUnformatted(record);
	if (prose && *prose)
		strbuf_addf(&sb, "%s\n\n", prose);
	strbuf_addf(&sb, "{code:json}\n%s\n{code}", json ? json : "{}");
	cJSON_free(json);
	doc = cJSON_CreateString(sb.buf);
	strbuf_release(&sb);
	return doc;
}

/* ---- and the documents sre reads back, as text ---- */

static void adf_inline(struct strbuf *sb, const cJSON *nodes)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, nodes) {
		const char *type = json_string(n, "type"), *s;

		if (!type)
			continue;
		if (!strcmp(type, "text") && (s = json_string(n, "text")))
			strbuf_addstr(sb, s);
		else if (!strcmp(type, "hardBreak"))
			strbuf_addch(sb, '\n');
		else if (!strcmp(type, "mention") && (s = json_path_string(n, "attrs.text")))
			strbuf_addstr(sb, s);
		else if (!strcmp(type, "emoji") && ((s = json_path_string(n, "attrs.text")) ||
						    (s = json_path_string(n, "attrs.shortName"))))
			strbuf_addstr(sb, s);
		else if (!strcmp(type, "inlineCard") && (s = json_path_string(n, "attrs.url")))
			strbuf_addstr(sb, s);
		else if (!strcmp(type, "status") && (s = json_path_string(n, "attrs.text")))
			strbuf_addstr(sb, s);
		else
			adf_inline(sb, json_get(n, "content"));
	}
}

static void adf_blocks(struct strbuf *sb, const cJSON *blocks, const char *sep);

/*
 * One block, into an empty sb. A JSON code block holding an sre record is
 * written as record_format() writes it, and 1 returned: it brings its own
 * blank line. Any other code block is a plain fence.
 */
static int adf_block(struct strbuf *sb, const cJSON *node)
{
	const char *type = json_string(node, "type");
	const cJSON *content = json_get(node, "content");

	if (!type)
		return 0;
	if (!strcmp(type, "paragraph") || !strcmp(type, "heading")) {
		adf_inline(sb, content);
	} else if (!strcmp(type, "codeBlock")) {
		const char *lang = json_path_string(node, "attrs.language");
		struct strbuf code = STRBUF_INIT;
		cJSON *rec = NULL;
		int is_record;

		adf_inline(&code, content);
		if (lang && !strcmp(lang, "json"))
			rec = sre_record(code.buf, code.len);
		is_record = rec != NULL;
		if (rec)
			record_format(sb, rec);
		else
			strbuf_addf(sb, "```%s\n%s\n```", lang ? lang : "", code.buf);
		strbuf_release(&code);
		cJSON_Delete(rec);
		return is_record;
	} else if (!strcmp(type, "bulletList") || !strcmp(type, "orderedList")) {
		const cJSON *item;
		int n = 0;

		cJSON_ArrayForEach(item, content) {
			if (n)
				strbuf_addch(sb, '\n');
			if (!strcmp(type, "bulletList"))
				strbuf_addstr(sb, "- ");
			else
				strbuf_addf(sb, "%d. ", n + 1);
			adf_blocks(sb, json_get(item, "content"), "\n");
			n++;
		}
	} else if (!strcmp(type, "rule")) {
		strbuf_addstr(sb, "---");
	} else if (cJSON_IsArray(content)) {
		/* blockquote, panel, expand, table...: their text, block by block. */
		adf_blocks(sb, content, "\n\n");
	}
	return 0;
}

/* Blocks appended to sb, sep between them (none before the first). */
static void adf_blocks(struct strbuf *sb, const cJSON *blocks, const char *sep)
{
	const cJSON *b;
	int first = 1;

	cJSON_ArrayForEach(b, blocks) {
		struct strbuf one = STRBUF_INIT;

		if (adf_block(&one, b)) {
			strbuf_rtrim(sb);
		} else if (one.len && !first) {
			/* After a record's closing fence, which ends its own line. */
			strbuf_addstr(sb, sb->len && sb->buf[sb->len - 1] == '\n' ? "\n" : sep);
		}
		if (one.len)
			first = 0;
		strbuf_add(sb, one.buf, one.len);
		strbuf_release(&one);
	}
}

/*
 * Data Center text: the record's {code:json} block becomes the fence that
 * record_parse() reads; the rest is kept as it is.
 */
static void wiki_text(struct strbuf *sb, const char *text)
{
	static const char open_tag[] = "{code:json}", close_tag[] = "{code}";
	const char *p = text, *open;

	while ((open = strstr(p, open_tag))) {
		const char *json = open + strlen(open_tag);
		const char *close = strstr(json, close_tag);
		cJSON *rec;

		if (!close)
			break;
		rec = sre_record(json, (size_t)(close - json));
		if (rec) {
			strbuf_add(sb, p, (size_t)(open - p));
			strbuf_rtrim(sb);
			record_format(sb, rec);
			cJSON_Delete(rec);
		} else {
			strbuf_add(sb, p, (size_t)(close + strlen(close_tag) - p));
		}
		p = close + strlen(close_tag);
	}
	strbuf_addstr(sb, p);
}

/* A description or comment body as text; NULL when it has none. */
static char *document_text(const cJSON *doc)
{
	struct strbuf sb = STRBUF_INIT;

	if (cJSON_IsObject(doc))
		adf_blocks(&sb, json_get(doc, "content"), "\n\n");
	else if (cJSON_IsString(doc))
		wiki_text(&sb, doc->valuestring);
	else
		return NULL;
	return strbuf_detach(&sb, NULL);
}

/* ---- requests ---- */

/*
 * One exchange with the REST API; path is under /rest/api/<version>. A
 * write (write != 0) is not repeated blindly after a failure, since
 * that could make two issues or two comments. Returns a TRACKER_* code;
 * on TRACKER_OK and when out is not NULL, *out is the parsed answer, the
 * caller's to cJSON_Delete().
 */
static int jira_call(struct tracker *t, const char *what, const char *method,
		     const char *path, const cJSON *body, int write, const long *ok,
		     cJSON **out)
{
	struct jira *j = t->priv;
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	char *url = xstrfmt("%s/rest/api/%d%s", j->url, j->api, path);
	char *json = body ? cJSON_PrintUnformatted(body) : NULL;
	int ret;

	if (out)
		*out = NULL;
	req.method = method;
	req.url = url;
	req.userpwd = j->userpwd;
	req.no_retry = write;
	strvec_push(&req.headers, "Accept: application/json");
	if (json) {
		req.body = json;
		req.body_len = strlen(json);
		strvec_push(&req.headers, "Content-Type: application/json");
	}
	http_do(&t->http, &req, &res);
	ret = tracker_check(t, what, &res, ok);
	if (ret == TRACKER_OK && out) {
		*out = cJSON_ParseWithLength(res.body.buf, res.body.len);
		if (!*out) {
			strbuf_addf(&t->error, "jira: %s: the answer (HTTP %ld) is not JSON",
				    what, res.status);
			ret = TRACKER_FAIL;
		}
	}
	http_response_release(&res);
	http_request_release(&req);
	cJSON_free(json);
	free(url);
	return ret;
}

/* "/issue/<key><suffix>", the key percent-encoded. Caller frees. */
static char *issue_path(const char *key, const char *suffix)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "/issue/");
	http_urlencode(&sb, key);
	strbuf_addstr(&sb, suffix);
	return strbuf_detach(&sb, NULL);
}

static void set_error(struct tracker *t, const char *fmt, ...) SRE_PRINTF(2, 3);
static void set_error(struct tracker *t, const char *fmt, ...)
{
	va_list ap;

	strbuf_reset(&t->error);
	va_start(ap, fmt);
	strbuf_vaddf(&t->error, fmt, ap);
	va_end(ap);
	http_redact(&t->http, &t->error);
}

/* ---- issues ---- */

static int state_of_status(const struct jira *j, const char *name)
{
	for (int i = 0; i < STATE__COUNT; i++)
		if (!strcasecmp(j->status[i], name))
			return i;
	return -1;
}

static void issue_fill(const struct jira *j, const cJSON *issue, struct remote_issue *out)
{
	const cJSON *f = json_get(issue, "fields");
	const char *key = json_string(issue, "key"), *s;

	memset(out, 0, sizeof(*out));
	out->key = xstrdup_or_null(key);
	out->url = key ? xstrfmt("%s/browse/%s", j->url, key) : NULL;
	out->title = xstrdup_or_null(json_string(f, "summary"));
	out->body = document_text(json_get(f, "description"));
	if (out->body) {
		char *prose;
		cJSON *rec;

		record_parse(out->body, &prose, &rec);
		out->fingerprint = xstrdup_or_null(json_string(rec, "fingerprint"));
		out->service = xstrdup_or_null(json_string(rec, "service"));
		out->severity = xstrdup_or_null(json_string(rec, "severity"));
		cJSON_Delete(rec);
		free(prose);
	}
	out->status = xstrdup_or_null(json_path_string(f, "status.name"));
	out->state = out->status ? state_of_status(j, out->status) : -1;
	s = json_path_string(f, "status.statusCategory.key");
	out->closed = s && !strcmp(s, "done");
	s = json_path_string(f, "assignee.displayName");
	out->assignee = xstrdup_or_null(s ? s : json_path_string(f, "assignee.emailAddress"));
	out->priority = xstrdup_or_null(json_path_string(f, "priority.name"));
	out->updated = xstrdup_or_null(json_string(f, "updated"));
}

/* JQL string literal: double quotes, with quotes and backslashes escaped. */
static void jql_quote(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_addch(sb, '\\');
		if (*s == '\n')
			strbuf_addstr(sb, "\\n");
		else if (*s == '\r')
			strbuf_addstr(sb, "\\r");
		else if (*s == '\t')
			strbuf_addstr(sb, "\\t");
		else
			strbuf_addch(sb, *s);
	}
	strbuf_addch(sb, '"');
}

static void append_issue(struct remote_issue **list, size_t *nr, size_t *alloc,
			 const struct jira *j, const cJSON *issue)
{
	ALLOC_GROW(*list, *nr + 1, *alloc);
	issue_fill(j, issue, &(*list)[(*nr)++]);
}

/*
 * Run a JQL search page after page, appending to *list, until the tracker
 * says there is no more or max issues are read (0: all). Cloud pages with
 * nextPageToken; Data Center with startAt and total. A token given before
 * is a loop and JIRA_MAX_PAGES the end: either is an error.
 */
static int jira_search_jql(struct tracker *t, const char *what, const char *jql, int max,
			   struct remote_issue **list, size_t *nr)
{
	struct jira *j = t->priv;
	int page = max > 0 && max < PAGE_MAX ? max : PAGE_MAX;
	size_t alloc = *nr;
	struct strvec tokens = STRVEC_INIT; /* every token sent, the last one last */
	int start = 0, ret;

	for (int n = 0;; n++) {
		cJSON *body, *fields, *ans = NULL, *issue;
		const char *next;
		int got = 0, last;

		if (n == JIRA_MAX_PAGES) {
			set_error(t, "jira: %s: more than %d pages; stopped there", what, n);
			ret = TRACKER_FAIL;
			break;
		}
		body = cJSON_CreateObject();

		cJSON_AddStringToObject(body, "jql", jql);
		fields = cJSON_AddArrayToObject(body, "fields");
		for (size_t i = 0; i < ARRAY_SIZE(issue_fields); i++)
			cJSON_AddItemToArray(fields, cJSON_CreateString(issue_fields[i]));
		cJSON_AddNumberToObject(body, "maxResults", page);
		if (j->api == 2)
			cJSON_AddNumberToObject(body, "startAt", start);
		else if (tokens.nr)
			cJSON_AddStringToObject(body, "nextPageToken", tokens.v[tokens.nr - 1]);
		ret = jira_call(t, what, "POST", j->api == 2 ? "/search" : "/search/jql",
				body, 0, ok_200, &ans);
		cJSON_Delete(body);
		if (ret != TRACKER_OK)
			break;
		if (!cJSON_IsArray(json_get(ans, "issues"))) {
			set_error(t, "jira: %s: the answer holds no list of issues", what);
			cJSON_Delete(ans);
			ret = TRACKER_FAIL;
			break;
		}
		cJSON_ArrayForEach(issue, json_get(ans, "issues")) {
			if (max > 0 && *nr >= (size_t)max)
				break;
			append_issue(list, nr, &alloc, j, issue);
			got++;
		}
		start += got;
		if (j->api == 2) {
			const cJSON *total = json_get(ans, "total");
			last = !cJSON_IsNumber(total) || start >= total->valuedouble;
		} else {
			next = json_string(ans, "nextPageToken");
			last = cJSON_IsTrue(json_get(ans, "isLast")) || !next || !*next;
			if (!last && strvec_has(&tokens, next)) {
				/* A server repeating its tokens would keep us here forever. */
				set_error(t, "jira: %s: the next-page tokens loop back to a page "
					  "already read; stopped there", what);
				ret = TRACKER_FAIL;
			} else if (!last) {
				strvec_push(&tokens, next);
			}
		}
		cJSON_Delete(ans);
		if (ret != TRACKER_OK || last || !got || (max > 0 && *nr >= (size_t)max))
			break;
	}
	strvec_clear(&tokens);
	return ret;
}

static int jira_find(struct tracker *t, const char *fingerprint, struct remote_issue *out)
{
	struct jira *j = t->priv;
	struct strbuf jql = STRBUF_INIT, label = STRBUF_INIT;
	struct remote_issue *list = NULL;
	size_t nr = 0;
	char h[13];
	int ret;

	memset(out, 0, sizeof(*out));
	out->state = -1;
	fingerprint_short(h, fingerprint);
	strbuf_addf(&label, "sre-fp-%s", h);
	strbuf_addstr(&jql, "project = ");
	jql_quote(&jql, j->project);
	strbuf_addstr(&jql, " AND labels = ");
	jql_quote(&jql, label.buf);
	strbuf_addstr(&jql, " AND statusCategory != Done");
	ret = jira_search_jql(t, "finding the issue of an incident", jql.buf, FIND_MAX, &list, &nr);
	if (ret == TRACKER_OK) {
		/* The label is a 48-bit hash; the record says which incident it is. */
		ret = TRACKER_NOT_FOUND;
		for (size_t i = 0; i < nr; i++)
			if (list[i].fingerprint && !strcmp(list[i].fingerprint, fingerprint)) {
				*out = list[i];
				memset(&list[i], 0, sizeof(list[i]));
				ret = TRACKER_OK;
				break;
			}
	}
	remote_issue_list_free(list, nr);
	strbuf_release(&jql);
	strbuf_release(&label);
	return ret;
}

static int jira_create(struct tracker *t, const struct incident *inc, struct remote_issue *out)
{
	struct jira *j = t->priv;
	cJSON *body = cJSON_CreateObject(), *fields, *labels, *record, *ans = NULL;
	struct strbuf prose = STRBUF_INIT;
	const char *severity = incident_severity_name(inc->severity), *key;
	char h[13], fp_label[20], *summary;
	int ret;

	memset(out, 0, sizeof(*out));
	out->state = -1;
	fingerprint_short(h, inc->fingerprint ? inc->fingerprint : "");
	snprintf(fp_label, sizeof(fp_label), "sre-fp-%s", h);
	record = tracker_incident_record(inc);

	strbuf_addf(&prose, "Service: %s\nSeverity: %s\n",
		    inc->service ? inc->service : "(none)", severity);
	if (inc->source)
		strbuf_addf(&prose, "Source: %s\n", inc->source);
	strbuf_addf(&prose, "Fingerprint: %s\n\nThis issue was opened by sre as local incident #%lld.",
		    inc->fingerprint ? inc->fingerprint : "(none)", inc->id);

	fields = cJSON_AddObjectToObject(body, "fields");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(fields, "project"), "key", j->project);
	/* JIRA refuses a summary past 255 characters; the record keeps it whole. */
	summary = utf8_shorten(inc->title ? inc->title : "", JIRA_SUMMARY_MAX);
	cJSON_AddStringToObject(fields, "summary", summary);
	free(summary);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(fields, "issuetype"), "name", j->issue_type);
	labels = cJSON_AddArrayToObject(fields, "labels");
	cJSON_AddItemToArray(labels, cJSON_CreateString("sre"));
	cJSON_AddItemToArray(labels, cJSON_CreateString(fp_label));
	cJSON_AddItemToObject(fields, "description", make_document(j, prose.buf, record));

	/*
	 * The issue starts in the workflow's initial status, whatever the
	 * incident's state: mirror.c moves it from there like any other change.
	 */
	ret = jira_call(t, "creating issue", "POST", "/issue", body, 1, ok_201, &ans);
	if (ret == TRACKER_OK) {
		key = json_string(ans, "key");
		if (!key) {
			set_error(t, "jira: creating issue: the answer names no issue key");
			ret = TRACKER_FAIL;
		} else {
			out->key = xstrdup(key);
			out->url = xstrfmt("%s/browse/%s", j->url, key);
		}
	}
	cJSON_Delete(ans);
	cJSON_Delete(body);
	cJSON_Delete(record);
	strbuf_release(&prose);
	return ret;
}

static int jira_get(struct tracker *t, const char *key, struct remote_issue *out)
{
	char *path = issue_path(key, "?fields=" ISSUE_FIELDS);
	char *what = xstrfmt("getting %s", key);
	cJSON *ans = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	out->state = -1;
	ret = jira_call(t, what, "GET", path, NULL, 0, ok_200, &ans);
	if (ret == TRACKER_OK)
		issue_fill(t->priv, ans, out);
	cJSON_Delete(ans);
	free(what);
	free(path);
	return ret;
}

static int jira_move(struct tracker *t, const char *key, enum incident_state to)
{
	struct jira *j = t->priv;
	char *what = xstrfmt("moving %s", key);
	char *path = NULL, *current = NULL, *id = NULL;
	const cJSON *tr;
	cJSON *ans = NULL, *body;
	const char *want;
	int ret;

	if ((unsigned)to >= STATE__COUNT) {
		set_error(t, "jira: %s: %d is no incident state", what, (int)to);
		ret = TRACKER_FAIL;
		goto out;
	}
	want = j->status[to];
	path = issue_path(key, "?fields=status");
	ret = jira_call(t, what, "GET", path, NULL, 0, ok_200, &ans);
	if (ret != TRACKER_OK)
		goto out;
	current = xstrdup_or_null(json_path_string(ans, "fields.status.name"));
	cJSON_Delete(ans);
	ans = NULL;
	if (current && !strcasecmp(current, want))
		goto out;  /* already there: moving is idempotent */

	free(path);
	path = issue_path(key, "/transitions");
	ret = jira_call(t, what, "GET", path, NULL, 0, ok_200, &ans);
	if (ret != TRACKER_OK)
		goto out;
	cJSON_ArrayForEach(tr, json_get(ans, "transitions")) {
		const char *target = json_path_string(tr, "to.name");
		const cJSON *avail = json_get(tr, "isAvailable");

		if (target && !strcasecmp(target, want) && !cJSON_IsFalse(avail) &&
		    json_string(tr, "id")) {
			id = xstrdup(json_string(tr, "id"));
			break;
		}
	}
	cJSON_Delete(ans);
	ans = NULL;
	if (!id) {
		set_error(t, "jira: %s: no transition from '%s' to '%s' in the workflow",
			  what, current ? current : "?", want);
		ret = TRACKER_FAIL;
		goto out;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(cJSON_AddObjectToObject(body, "transition"), "id", id);
	ret = jira_call(t, what, "POST", path, body, 1, ok_204, NULL);
	cJSON_Delete(body);
out:
	cJSON_Delete(ans);
	free(id);
	free(current);
	free(path);
	free(what);
	return ret;
}

static int jira_comment(struct tracker *t, const char *key, const char *prose,
			const cJSON *record)
{
	struct jira *j = t->priv;
	char *path = issue_path(key, "/comment");
	char *what = xstrfmt("commenting on %s", key);
	cJSON *body = cJSON_CreateObject(), *rec;
	int ret;

	/*
	 * comments() knows its own records by "sre"; one written without it
	 * gets it here, so that it comes back.
	 */
	rec = cJSON_Duplicate(record, 1);
	if (!rec)
		rec = cJSON_CreateObject();
	if (!cJSON_HasObjectItem(rec, "sre"))
		cJSON_AddNumberToObject(rec, "sre", 1);
	cJSON_AddItemToObject(body, "body", make_document(j, prose, rec));
	ret = jira_call(t, what, "POST", path, body, 1, ok_201, NULL);
	cJSON_Delete(rec);
	cJSON_Delete(body);
	free(what);
	free(path);
	return ret;
}

/* PUT /issue/<key> with an "update" of the labels: JIRA's edit. */
static int jira_label(struct tracker *t, const char *key, const char *add,
		      const char *remove)
{
	char *path = issue_path(key, "");
	char *what = xstrfmt("editing the labels of %s", key);
	cJSON *body = cJSON_CreateObject();
	cJSON *ops = cJSON_AddArrayToObject(cJSON_AddObjectToObject(body, "update"), "labels");
	int ret;

	if (add) {
		cJSON *op = cJSON_CreateObject();
		cJSON_AddStringToObject(op, "add", add);
		cJSON_AddItemToArray(ops, op);
	}
	if (remove) {
		cJSON *op = cJSON_CreateObject();
		cJSON_AddStringToObject(op, "remove", remove);
		cJSON_AddItemToArray(ops, op);
	}
	/* Adding a label twice or removing a missing one changes nothing. */
	ret = jira_call(t, what, "PUT", path, body, 0, ok_204, NULL);
	cJSON_Delete(body);
	free(what);
	free(path);
	return ret;
}

/*
 * An issue key ("OPS-17": a project key of letters, digits and '_' that
 * starts with a letter, a dash, a number) or an issue id (digits): what
 * may be sent where JIRA takes issueIdOrKey.
 */
static int valid_issue_key(const char *key)
{
	size_t n, len = key ? strlen(key) : 0;

	if (!len || len > JIRA_KEY_MAX)
		return 0;
	if (strspn(key, "0123456789") == len)
		return 1;
	if (!isalpha((unsigned char)key[0]))
		return 0;
	n = strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
	return key[n] == '-' && key[n + 1] && key[n + 1] != '0' &&
	       strspn(key + n + 1, "0123456789") == len - n - 1;
}

/*
 * PUT /issue/<key>/assignee: {"accountId"} on Cloud, {"name"} on Data
 * Center, 204. An account JIRA does not know, or that may not be
 * assigned, is its 400 (or 404), said with the account's name: always
 * TRACKER_FAIL, never NOT_FOUND.
 */
static int jira_assign(struct tracker *t, const char *key, const char *who)
{
	struct jira *j = t->priv;
	char *path, *what;
	cJSON *body;
	int ret;

	if (!valid_issue_key(key)) {
		set_error(t, "jira: assigning an issue: the key is no JIRA issue key (as in OPS-17)");
		return TRACKER_FAIL;
	}
	if (j->api == 3 && !tracker_name_valid(who, ACCOUNT_ID_CHARS, ACCOUNT_ID_MAX)) {
		set_error(t, "jira: assigning %s: the assignee is no accountId "
			  "(1 to 128 letters, digits, ':' and '-')", key);
		return TRACKER_FAIL;
	}
	if (j->api == 2 && !tracker_name_valid(who, USER_NAME_CHARS, USER_NAME_MAX)) {
		set_error(t, "jira: assigning %s: the assignee is no user name "
			  "(letters, digits, '.', '_', '@' and '-')", key);
		return TRACKER_FAIL;
	}
	path = issue_path(key, "/assignee");
	what = xstrfmt("assigning %s to %s", key, who);
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, j->api == 3 ? "accountId" : "name", who);
	/* Setting the same assignee twice changes nothing: it may be repeated. */
	ret = jira_call(t, what, "PUT", path, body, 0, ok_204, NULL);
	/*
	 * Cloud's 404 is the issue's or the account's, and its words say
	 * which: either way the assignment can never succeed as it is.
	 */
	if (ret == TRACKER_NOT_FOUND)
		ret = TRACKER_FAIL;
	cJSON_Delete(body);
	free(what);
	free(path);
	return ret;
}

/* A description of prose alone, without a record: ADF paragraphs on Cloud, text on Data Center. */
static cJSON *prose_document(const struct jira *j, const char *prose)
{
	cJSON *doc;

	if (j->api == 2)
		return cJSON_CreateString(prose);
	doc = adf_doc();
	adf_add_prose(doc, prose);
	return doc;
}

/* A JIRA label: no blank of any kind (JIRA refuses it), 1 to 255 characters. */
static int label_ok(const char *label)
{
	size_t len = label ? strlen(label) : 0;

	if (!len || len > JIRA_LABEL_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)label; *p; p++)
		if (isspace(*p) || *p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static int jira_open_issue(struct tracker *t, const char *title, const char *text,
			   const struct strvec *labels, struct remote_issue *out)
{
	struct jira *j = t->priv;
	cJSON *body, *fields, *list, *ans = NULL;
	char *summary, *prose;
	const char *key;
	int ret;

	memset(out, 0, sizeof(*out));
	out->state = -1;
	for (size_t i = 0; labels && i < labels->nr; i++)
		if (!label_ok(labels->v[i])) {
			set_error(t, "jira: opening issue: a label takes 1 to 255 characters "
				  "and no blank (JIRA labels have no spaces)");
			return TRACKER_FAIL;
		}
	/* One line of at most 255 characters; a description of at most 32767. */
	summary = tracker_text_clean(title, JIRA_SUMMARY_MAX, 1);
	if (!*summary) {
		free(summary);
		set_error(t, "jira: opening issue: the title is empty");
		return TRACKER_FAIL;
	}
	prose = tracker_text_clean(text, JIRA_TEXT_MAX, 0);
	body = cJSON_CreateObject();
	fields = cJSON_AddObjectToObject(body, "fields");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(fields, "project"), "key", j->project);
	cJSON_AddStringToObject(fields, "summary", summary);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(fields, "issuetype"), "name", j->issue_type);
	list = cJSON_AddArrayToObject(fields, "labels");
	for (size_t i = 0; labels && i < labels->nr; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(labels->v[i]));
	cJSON_AddItemToObject(fields, "description", prose_document(j, prose));

	/* Not repeated blindly: a second POST is a second issue; the caller looks first. */
	ret = jira_call(t, "opening issue", "POST", "/issue", body, 1, ok_201, &ans);
	if (ret == TRACKER_OK) {
		key = json_string(ans, "key");
		if (!key || !valid_issue_key(key)) {
			set_error(t, "jira: opening issue: the answer names no issue key");
			ret = TRACKER_FAIL;
		} else {
			out->key = xstrdup(key);
			out->url = xstrfmt("%s/browse/%s", j->url, key);
			out->title = xstrdup(summary);
		}
	}
	cJSON_Delete(ans);
	cJSON_Delete(body);
	free(summary);
	free(prose);
	return ret;
}

/* The newest issue of the project carrying label, whatever its status: one JQL page of one. */
static int jira_find_labelled(struct tracker *t, const char *label, struct remote_issue *out)
{
	struct jira *j = t->priv;
	struct strbuf jql = STRBUF_INIT;
	struct remote_issue *list = NULL;
	size_t nr = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	out->state = -1;
	if (!tracker_name_valid(label, MARKER_CHARS, MARKER_MAX)) {
		set_error(t, "jira: finding a labelled issue: the label takes 1 to 50 of "
			  "a-z, 0-9 and '-'");
		return TRACKER_FAIL;
	}
	strbuf_addstr(&jql, "project = ");
	jql_quote(&jql, j->project);
	strbuf_addstr(&jql, " AND labels = ");
	jql_quote(&jql, label);
	strbuf_addstr(&jql, " ORDER BY created DESC");
	ret = jira_search_jql(t, "finding a labelled issue", jql.buf, 1, &list, &nr);
	if (ret == TRACKER_OK && !nr) {
		set_error(t, "jira: no issue has label %s", label);
		ret = TRACKER_NOT_FOUND;
	} else if (ret == TRACKER_OK) {
		*out = list[0];
		memset(&list[0], 0, sizeof(list[0]));
	}
	remote_issue_list_free(list, nr);
	strbuf_release(&jql);
	return ret;
}

/* An account's identity: accountId on Cloud, name (or key) on Data Center. */
static const char *account_of(const cJSON *user)
{
	const char *id = json_string(user, "accountId");

	if (!id || !*id)
		id = json_string(user, "name");
	if (!id || !*id)
		id = json_string(user, "key");
	return id && *id ? id : NULL;
}

static int jira_whoami(struct tracker *t, char **out)
{
	cJSON *ans = NULL;
	int ret = jira_call(t, "reading the account sre signs in as", "GET", "/myself", NULL, 0,
			    ok_200, &ans);

	*out = NULL;
	if (ret == TRACKER_OK)
		*out = xstrdup_or_null(account_of(ans));
	cJSON_Delete(ans);
	return ret;
}

static int jira_comments(struct tracker *t, const char *key,
			 struct remote_comment **out, size_t *nr)
{
	char *what = xstrfmt("reading the comments of %s", key);
	struct remote_comment *list = NULL;
	size_t n = 0, alloc = 0, start = 0;
	int ret;

	for (int pages = 0;; pages++) {
		char *suffix, *path;
		const cJSON *c, *total;
		cJSON *ans = NULL;
		size_t got = 0;
		int last;

		if (pages == JIRA_MAX_PAGES) {
			set_error(t, "jira: %s: more than %d pages; stopped there", what, pages);
			ret = TRACKER_FAIL;
			break;
		}
		suffix = xstrfmt("/comment?startAt=%zu&maxResults=%d&orderBy=created",
				 start, PAGE_MAX);
		path = issue_path(key, suffix);
		ret = jira_call(t, what, "GET", path, NULL, 0, ok_200, &ans);
		free(path);
		free(suffix);
		if (ret != TRACKER_OK)
			break;
		if (!cJSON_IsArray(json_get(ans, "comments"))) {
			set_error(t, "jira: %s: the answer holds no list of comments", what);
			cJSON_Delete(ans);
			ret = TRACKER_FAIL;
			break;
		}
		cJSON_ArrayForEach(c, json_get(ans, "comments")) {
			struct remote_comment *rc;
			const char *author = json_path_string(c, "author.displayName");
			char *text = document_text(json_get(c, "body"));

			ALLOC_GROW(list, n + 1, alloc);
			rc = &list[n++];
			memset(rc, 0, sizeof(*rc));
			rc->id = xstrdup_or_null(json_string(c, "id"));
			rc->author = xstrdup_or_null(author ? author : json_path_string(c, "author.emailAddress"));
			rc->author_id = xstrdup_or_null(account_of(json_get(c, "author")));
			rc->created = xstrdup_or_null(json_string(c, "created"));
			record_parse(text ? text : "", &rc->text, &rc->record);
			free(text);
			got++;
		}
		start += got;
		total = json_get(ans, "total");
		last = !got || !cJSON_IsNumber(total) || (double)start >= total->valuedouble;
		cJSON_Delete(ans);
		if (last)
			break;
	}
	free(what);
	if (ret != TRACKER_OK) {
		remote_comment_list_free(list, n);
		*out = NULL;
		*nr = 0;
		return ret;
	}
	*out = list;
	*nr = n;
	return TRACKER_OK;
}

static int jira_search(struct tracker *t, const struct tracker_query *q,
		       struct remote_issue **out, size_t *nr)
{
	struct jira *j = t->priv;
	const char *assignee = q->assignee, *priorities = q->priorities, *status = q->status;
	struct strbuf jql = STRBUF_INIT;
	int ret;

	if (!assignee)
		assignee = config_get_string(t->cfg, "jira.assignee");
	if (!priorities)
		priorities = config_get_string(t->cfg, "jira.priorities");
	if (!status)
		status = config_get_string(t->cfg, "jira.status");

	strbuf_addstr(&jql, "project = ");
	jql_quote(&jql, j->project);
	strbuf_addstr(&jql, " AND statusCategory != Done");
	if (assignee && *assignee) {
		strbuf_addstr(&jql, " AND assignee = ");
		if (!strcasecmp(assignee, "me"))
			strbuf_addstr(&jql, "currentUser()");
		else
			jql_quote(&jql, assignee);
	}
	if (priorities && *priorities) {
		const char *p = priorities;
		size_t before = jql.len;
		int n = 0;

		strbuf_addstr(&jql, " AND priority in (");
		while (*p) {
			const char *end = strchrnul(p, ',');
			struct strbuf one = STRBUF_INIT;

			strbuf_add(&one, p, (size_t)(end - p));
			strbuf_trim(&one);
			if (one.len) {
				if (n++)
					strbuf_addch(&jql, ',');
				jql_quote(&jql, one.buf);
			}
			strbuf_release(&one);
			p = *end ? end + 1 : end;
		}
		if (n)
			strbuf_addch(&jql, ')');
		else
			strbuf_setlen(&jql, before);
	}
	if (status && *status) {
		strbuf_addstr(&jql, " AND status = ");
		jql_quote(&jql, status);
	}
	strbuf_addstr(&jql, " ORDER BY created ASC");

	*out = NULL;
	*nr = 0;
	ret = jira_search_jql(t, "searching issues", jql.buf, q->max, out, nr);
	if (ret != TRACKER_OK) {
		remote_issue_list_free(*out, *nr);
		*out = NULL;
		*nr = 0;
	}
	strbuf_release(&jql);
	return ret;
}

static void jira_free(struct tracker *t)
{
	struct jira *j = t->priv;

	if (!j)
		return;
	free(j->url);
	free(j->project);
	free(j->issue_type);
	if (j->userpwd) {
		memset(j->userpwd, 0, strlen(j->userpwd));
		free(j->userpwd);
	}
	free(j);
	t->priv = NULL;
}

static const struct tracker_ops jira_ops = {
	.name = "jira",
	.find = jira_find,
	.create = jira_create,
	.get = jira_get,
	.move = jira_move,
	.comment = jira_comment,
	.comments = jira_comments,
	.label = jira_label,
	.assign = jira_assign,
	.open_issue = jira_open_issue,
	.find_labelled = jira_find_labelled,
	.search = jira_search,
	.whoami = jira_whoami,
	.free = jira_free,
};

/*
 * The status a state is mapped to: jira.status.<state>, the state's name
 * with dashes for underscores, as config names take them (and as
 * github.label.<state>): jira.status.pr-merged, which the config also
 * reads when written jira.status.PR_MERGED.
 */
static const char *configured_status(const struct config *cfg, enum incident_state s)
{
	struct strbuf key = STRBUF_INIT;
	const char *v;

	strbuf_addf(&key, "jira.status.%s", incident_state_name(s));
	for (size_t i = strlen("jira.status."); i < key.len; i++)
		if (key.buf[i] == '_')
			key.buf[i] = '-';
	v = config_get_string(cfg, key.buf);
	strbuf_release(&key);
	return v && *v ? v : NULL;
}

int jira_open(struct tracker *t)
{
	const struct config *cfg = t->cfg;
	const char *url = config_get_string(cfg, "jira.url");
	const char *project = config_get_string(cfg, "jira.project");
	const char *user = config_get_string(cfg, "jira.user");
	const char *type = config_get_string(cfg, "jira.issue-type");
	struct strbuf token = STRBUF_INIT;
	struct jira *j;
	long long api = 3;
	size_t len;
	int r;

	if (!url || !*url)
		return error("jira.url is not set: it names the JIRA site, as in https://acme.atlassian.net");
	if (!starts_with(url, "https://") && !starts_with(url, "http://"))
		return error("jira.url is '%s'; it must start with https:// (or http://)", url);
	if (!project || !*project)
		return error("jira.project is not set: it names the project key of the incidents, as in OPS");
	if (!user || !*user)
		return error("jira.user is not set: it names the account (its e-mail address) of the API token");
	if (strchr(user, ':'))
		return error("jira.user is '%s'; an account name cannot hold ':'", user);
	r = config_get_int(cfg, "jira.api-version", &api);
	if (r < 0)
		return -1;
	if (api != 2 && api != 3)
		return error("jira.api-version is %lld; it takes 3 (Cloud) or 2 (Data Center)", api);
	r = config_get_secret(cfg, "jira.token", "ATLASSIAN_TOKEN", &token);
	if (r < 0)
		return -1;
	if (r > 0) {
		strbuf_release(&token);
		return error("no JIRA API token: set ATLASSIAN_TOKEN in the environment, "
			     "or jira.token-command to a command that prints it");
	}
	http_client_add_secret(&t->http, token.buf);

	j = xcalloc(1, sizeof(*j));
	len = strlen(url);
	while (len && url[len - 1] == '/')
		len--;
	j->url = xstrndup(url, len);
	j->project = xstrdup(project);
	j->issue_type = xstrdup(type && *type ? type : "Incident");
	j->userpwd = xstrfmt("%s:%s", user, token.buf);
	j->api = (int)api;
	for (int s = 0; s < STATE__COUNT; s++) {
		const char *v = configured_status(cfg, (enum incident_state)s);
		j->status[s] = v ? v : default_status[s];
	}
	memset(token.buf, 0, token.len);
	strbuf_release(&token);
	t->priv = j;
	t->ops = &jira_ops;
	t->server = j->url;
	return 0;
}
