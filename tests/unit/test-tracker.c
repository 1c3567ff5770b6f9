/*
 * test-tracker.c: unit tests of what lib/tracker.c gives every tracker
 * client (tracker.h), printing TAP: the record block a comment carries
 * (record_format/record_parse, both ways and over hostile text), the
 * label hash (fingerprint_short), the one line tracker_check() makes of
 * an HTTP exchange, and tracker_self() asking whoami once. The tracker is
 * built here over a stub ops table: nothing goes over the network.
 */
#include "../../lib/tracker-internal.h"
#include "test-lib.h"

/* ---- a tracker over a stub ops table ---- */

static int whoami_calls;
static const char *whoami_answer; /* NULL: whoami fails with TRACKER_RETRY */

static int stub_whoami(struct tracker *t, char **out)
{
	whoami_calls++;
	if (!whoami_answer) {
		strbuf_reset(&t->error);
		strbuf_addstr(&t->error, "stub: unreachable");
		return TRACKER_RETRY;
	}
	*out = xstrdup(whoami_answer);
	return TRACKER_OK;
}

static const struct tracker_ops stub_ops = {
	.name = "stub",
	.whoami = stub_whoami,
};

/* A tracker as tracker_open() leaves one, with the stub ops; free with tracker_free(). */
static struct tracker *stub_tracker(struct config *cfg)
{
	struct tracker *t = xcalloc(1, sizeof(*t));

	strbuf_init(&t->error, 0);
	t->cfg = cfg;
	t->ops = &stub_ops;
	if (http_client_init(&t->http, cfg) < 0)
		printf("# http_client_init failed\n");
	return t;
}

/* ---- record_format / record_parse ---- */

static void test_record_round_trip(void)
{
	struct strbuf sb = STRBUF_INIT;
	cJSON *rec = cJSON_CreateObject(), *back = NULL;
	char *prose = NULL;

	cJSON_AddStringToObject(rec, "key", "sre-0123456789abcdef0123456789abcdef");
	cJSON_AddStringToObject(rec, "kind", "transition");
	cJSON_AddStringToObject(rec, "text", "a line\nand ```fences``` inside, \"quoted\" é");
	cJSON_AddNumberToObject(rec, "to", 3);
	strbuf_addstr(&sb, "Moved to DIAGNOSING.\n\nBy the loop.");
	record_format(&sb, rec);
	ok(strstr(sb.buf, "\n\n```json sre-record\n") != NULL, "record_format writes the fence");
	ok(ends_with(sb.buf, "\n```\n"), "and closes it");
	is_int(record_parse(sb.buf, &prose, &back), 0, "record_parse reads it");
	is_str(prose, "Moved to DIAGNOSING.\n\nBy the loop.", "the prose comes back without the block");
	ok(back && cJSON_Compare(rec, back, 1), "the record comes back equal");
	free(prose);
	cJSON_Delete(back);

	/* A record after a reply that quotes the prose: the block still parses. */
	strbuf_reset(&sb);
	record_format(&sb, rec);
	record_parse(sb.buf, &prose, &back);
	is_str(prose, "", "a comment that is only a record has empty prose");
	ok(back && cJSON_Compare(rec, back, 1), "and its record");
	free(prose);
	cJSON_Delete(back);
	cJSON_Delete(rec);
	strbuf_release(&sb);
}

struct hostile {
	const char *text;
	const char *prose;
	int has_record;
	const char *what;
};

static void test_record_hostile(void)
{
	static const struct hostile cases[] = {
		{ "just words, no block", "just words, no block", 0, "no block: all prose" },
		{ "", "", 0, "empty text" },
		{ "hi\n\n```json sre-record\n{\"key\":\"k\"", "hi", 0,
		  "an unclosed block: no record" },
		{ "hi\n\n```json sre-record\n[1,2,3]\n```\n", "hi", 0,
		  "an array is no record" },
		{ "hi\n\n```json sre-record\n\"key\"\n```\n", "hi", 0,
		  "a string is no record" },
		{ "hi\n\n```json sre-record\n{\"key\": \n```\n", "hi", 0,
		  "broken JSON: no record" },
		{ "hi\n\n```json sre-record\n\n```\n", "hi", 0, "an empty block: no record" },
		{ "hi\n\n```json sre-record\nnull\n```\n", "hi", 0, "null is no record" },
		{ "hi  \n\n```json sre-record\n{\"a\":1}\n```\ntrailing words", "hi", 1,
		  "words after the block do not break it" },
		{ "```json sre-record\n{\"a\":{\"b\":{\"c\":[[[[1]]]]}}}\n```", "", 1,
		  "a nested object is a record" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *prose = NULL;
		cJSON *rec = (cJSON *)1;

		is_int(record_parse(cases[i].text, &prose, &rec), 0, "%s: parses", cases[i].what);
		is_str(prose, cases[i].prose, "%s: the prose", cases[i].what);
		ok(!!rec == cases[i].has_record && (!rec || cJSON_IsObject(rec)),
		   "%s: %s", cases[i].what, cases[i].has_record ? "an object" : "record is NULL");
		free(prose);
		cJSON_Delete(rec);
	}

	/* Deep nesting past cJSON's limit: refused, no crash. */
	{
		struct strbuf sb = STRBUF_INIT;
		char *prose = NULL;
		cJSON *rec = NULL;

		strbuf_addstr(&sb, "x\n\n```json sre-record\n{\"a\":");
		for (int i = 0; i < 100000; i++)
			strbuf_addch(&sb, '[');
		strbuf_addstr(&sb, "\n```\n");
		is_int(record_parse(sb.buf, &prose, &rec), 0, "100,000 open brackets: parses");
		ok(!rec, "and has no record");
		is_str(prose, "x", "and keeps the prose");
		free(prose);
		cJSON_Delete(rec);
		strbuf_release(&sb);
	}
}

/* ---- fingerprint_short ---- */

static int all_hex(const char *s)
{
	for (; *s; s++)
		if (!strchr("0123456789abcdef", *s))
			return 0;
	return 1;
}

static void test_fingerprint_short(void)
{
	char a[13], b[13], c[13], e[13];

	memset(a, 'X', sizeof(a));
	fingerprint_short(a, "prometheus/checkout/HighLatency");
	fingerprint_short(b, "prometheus/checkout/HighLatency");
	fingerprint_short(c, "prometheus/checkout/HighLatencz");
	fingerprint_short(e, "");
	is_int(strlen(a), 12, "fingerprint_short: 12 characters");
	ok(all_hex(a) && all_hex(e), "of lower-case hex");
	is_str(a, b, "the same fingerprint, the same hash");
	ok(strcmp(a, c), "one byte apart, another hash");
	/* FNV-1a 64 of "" is cbf29ce484222325; its low 48 bits: */
	is_str(e, "9ce484222325", "the empty fingerprint hashes to FNV-1a's offset, cut");
	/* Pinned: a label written by an older sre must still be found. */
	fingerprint_short(a, "a");
	is_str(a, "dc4c8601ec8c", "FNV-1a of \"a\" (af63dc4c8601ec8c), low 48 bits");
}

/* ---- tracker_check ---- */

struct check_case {
	enum http_outcome outcome;
	long status;
	const char *error;  /* res->error, for outcomes other than HTTP_OK */
	const char *body;
	int want;
	const char *want_msg; /* the exact line, or NULL when TRACKER_OK */
	const char *what;
};

static void test_tracker_check(void)
{
	static const long ok_201[] = { 200, 201, 0 };
	static const struct check_case cases[] = {
		{ HTTP_OK, 201, NULL, "{}", TRACKER_OK, NULL, "201 is success" },
		{ HTTP_OK, 404, NULL, "{\"message\":\"Not Found\"}", TRACKER_NOT_FOUND,
		  "stub: creating issue: HTTP 404 Not Found", "404: not found" },
		{ HTTP_OK, 422, NULL,
		  "{\"message\":\"Validation Failed\",\"errors\":[{\"field\":\"title\",\"code\":\"missing\"},"
		  "{\"message\":\"body is too long\"}]}",
		  TRACKER_FAIL,
		  /* GitHub's errors[] are named by github-api.c (test-github-api). */
		  "stub: creating issue: HTTP 422 Validation Failed",
		  "GitHub's 422 with errors[]" },
		{ HTTP_OK, 400, NULL,
		  "{\"errorMessages\":[\"Field 'x' cannot be set.\"],\"errors\":{\"summary\":\"required\"}}",
		  TRACKER_FAIL,
		  "stub: creating issue: HTTP 400 summary: required; Field 'x' cannot be set.",
		  "JIRA's errorMessages and errors{}" },
		{ HTTP_OK, 429, NULL, "slow down\nplease", TRACKER_RETRY,
		  "stub: creating issue: HTTP 429 slow down", "429: retry, the first line of a text body" },
		{ HTTP_OK, 503, NULL, "<html>\r\n<body>down</body>", TRACKER_RETRY,
		  "stub: creating issue: HTTP 503 <html>", "503: retry" },
		{ HTTP_OK, 403, NULL, "", TRACKER_FAIL, "stub: creating issue: HTTP 403",
		  "403 with no body: fail" },
		{ HTTP_TRANSIENT, 0, "Connection refused", "", TRACKER_RETRY,
		  "stub: creating issue: https://tracker.example: Connection refused",
		  "unreachable: retry, naming the server" },
		{ HTTP_TRANSIENT, 502, "HTTP 502 after 3 attempts", "{\"message\":\"Bad gateway\"}",
		  TRACKER_RETRY, "stub: creating issue: HTTP 502 after 3 attempts Bad gateway",
		  "5xx past the retries: retry" },
		{ HTTP_FAILED, 0, "SSL certificate problem", "", TRACKER_FAIL,
		  "stub: creating issue: https://tracker.example: SSL certificate problem",
		  "a TLS failure: fail" },
		{ HTTP_TRANSIENT, 0, "Could not resolve host: ghp_SECRETTOKEN.example", "", TRACKER_RETRY,
		  "stub: creating issue: https://tracker.example: Could not resolve host: <redacted>.example",
		  "a token in curl's own words is redacted" },
		{ HTTP_OK, 401, NULL, "{\"message\":\"Bad credentials for ghp_SECRETTOKEN\"}",
		  TRACKER_FAIL, "stub: creating issue: HTTP 401 Bad credentials for <redacted>",
		  "the token the server echoes is redacted" },
	};
	struct config cfg = { 0 };
	struct tracker *t = stub_tracker(&cfg);

	t->server = "https://tracker.example";
	http_client_add_secret(&t->http, "ghp_SECRETTOKEN");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct http_response res = HTTP_RESPONSE_INIT;
		int r;

		res.outcome = cases[i].outcome;
		res.status = cases[i].status;
		if (cases[i].error)
			strbuf_addstr(&res.error, cases[i].error);
		strbuf_addstr(&res.body, cases[i].body);
		strbuf_addstr(&t->error, "left over from before");
		r = tracker_check(t, "creating issue", &res, ok_201);
		is_int(r, cases[i].want, "%s: the code", cases[i].what);
		if (cases[i].want_msg)
			is_str(t->error.buf, cases[i].want_msg, "%s: the line", cases[i].what);
		else
			is_int(t->error.len, 0, "%s: no message", cases[i].what);
		ok(!strchr(t->error.buf, '\n') && !strchr(t->error.buf, '\r'),
		   "%s: one line", cases[i].what);
		http_response_release(&res);
	}

	/* The server's own message may hold newlines: the line stays one line. */
	{
		struct http_response res = HTTP_RESPONSE_INIT;

		res.outcome = HTTP_OK;
		res.status = 422;
		strbuf_addstr(&res.body, "{\"message\":\"first\\nsecond\\r\\nthird\"}");
		is_int(tracker_check(t, "creating issue", &res, ok_201), TRACKER_FAIL,
		       "a message with newlines: fail");
		ok(!strchr(t->error.buf, '\n') && !strchr(t->error.buf, '\r'),
		   "a message with newlines: still one line");
		http_response_release(&res);
	}
	tracker_free(t);
	config_clear(&cfg);
}

/* ---- tracker_self ---- */

static void test_tracker_self(void)
{
	struct config cfg = { 0 };
	struct tracker *t = stub_tracker(&cfg);
	const char *self = NULL, *again = NULL;

	whoami_calls = 0;
	whoami_answer = NULL;
	is_int(tracker_self(t, &self), TRACKER_RETRY, "whoami unreachable: its code comes back");
	is_str(t->error.buf, "stub: unreachable", "with its message");
	ok(!t->self, "and nothing is kept");

	whoami_answer = "";
	is_int(tracker_self(t, &self), TRACKER_FAIL, "an empty account: fail");
	is_str(t->error.buf, "stub: the tracker did not say which account sre signs in as",
	       "saying so in one line");
	ok(!t->self, "and the empty answer is not kept");

	whoami_answer = "sre-bot";
	whoami_calls = 0;
	is_int(tracker_self(t, &self), TRACKER_OK, "whoami answers");
	is_str(self, "sre-bot", "the account");
	whoami_answer = "someone-else";
	is_int(tracker_self(t, &again), TRACKER_OK, "asked again");
	is_str(again, "sre-bot", "the same account: kept from the first answer");
	ok(self == again, "the same string, borrowed from the tracker");
	is_int(whoami_calls, 1, "whoami was asked once");
	tracker_free(t);
	config_clear(&cfg);
}

int main(void)
{
	if (test_begin("tracker") < 0)
		return 1;
	test_record_round_trip();
	test_record_hostile();
	test_fingerprint_short();
	test_tracker_check();
	test_tracker_self();
	return test_end();
}
