/*
 * test-json.c: unit tests of the small shared pieces the sources, rules and
 * actions read through: json.h's getters (given what a hostile server may
 * send), config.h's lists and subsections, http.h's batch (built and freed
 * without a request), and finding.h's fingerprints. Prints TAP.
 */
#include <cJSON.h>

#include "../../lib/config.h"
#include "../../lib/finding.h"
#include "../../lib/http.h"
#include "../../lib/json.h"
#include "test-lib.h"

static void test_getters(void)
{
	cJSON *j = cJSON_Parse("{\"s\":\"x\",\"e\":\"\",\"n\":42,\"f\":1.5,\"big\":1e300,"
			       "\"t\":true,\"no\":false,\"o\":{\"a\":{\"b\":\"deep\",\"c.d\":1}},"
			       "\"arr\":[1,2],\"ns\":\"7\"}");

	ok(j != NULL, "the document parses");
	is_str(json_string(j, "s"), "x", "a string member");
	ok(json_string(j, "n") == NULL, "a number is no string");
	ok(json_string(j, "missing") == NULL, "a missing member is NULL");
	ok(json_string(NULL, "s") == NULL, "a NULL object is NULL, not a crash");
	ok(json_string(cJSON_GetObjectItem(j, "arr"), "s") == NULL, "an array has no members");
	is_str(json_string(j, "e"), "", "an empty string is a string");
	ok(json_nonempty(j, "e") == NULL, "but not a non-empty one");
	is_str(json_string_or(j, "missing", "?"), "?", "the fallback stands for a missing string");
	is_str(json_string_or(j, "s", "?"), "x", "and not for a present one");
	ok(json_string_is(j, "s", "x") && !json_string_is(j, "s", "y") &&
	   !json_string_is(j, "missing", "x"), "json_string_is compares");

	char *copy = json_text(j, "s");
	is_str(copy, "x", "json_text copies");
	free(copy);
	ok(json_text(j, "n") == NULL, "json_text of a number is NULL");

	is_int(json_int(j, "n"), 42, "a whole number");
	is_int(json_int(j, "f"), 0, "a fraction is 0");
	is_int(json_int(j, "big"), 0, "1e300 is 0, not undefined behaviour");
	is_int(json_int(j, "ns"), 0, "a string of digits is no number");
	long long v = 7;
	ok(json_ll(j, "n", 0, 41, &v) < 0 && v == 7, "json_ll refuses a number over the maximum");
	ok(!json_ll(j, "n", 0, 42, &v) && v == 42, "json_ll reads one in range");

	ok(json_bool(j, "t") && !json_bool(j, "no") && !json_bool(j, "s") && !json_bool(j, "missing"),
	   "only JSON true is true");

	ok(json_object(j, "o") != NULL && json_object(j, "arr") == NULL, "json_object checks the type");
	ok(json_array(j, "arr") != NULL && json_array(j, "o") == NULL, "json_array checks the type");

	is_str(json_path_string(j, "o.a.b"), "deep", "a dotted path");
	ok(json_path(j, "o.a.missing") == NULL, "a missing step is NULL");
	ok(json_path(j, "s.x") == NULL, "a path through a string is NULL");
	ok(json_path(j, "arr.0") == NULL, "a path does not step into arrays");
	ok(json_path(j, "") == j, "an empty path is the object itself");
	ok(json_path(NULL, "o.a") == NULL, "a path from NULL is NULL");

	cJSON *c = json_copy(json_get(j, "o"));
	ok(c && cJSON_IsObject(c) && c != json_get(j, "o") &&
	   !strcmp(json_path_string(c, "a.b"), "deep"), "json_copy is deep");
	cJSON_Delete(c);
	c = json_copy(NULL);
	ok(c && cJSON_IsObject(c) && !c->child, "json_copy of NULL is an empty object");
	cJSON_Delete(c);
	cJSON_Delete(j);
}

static void test_config_lists(void)
{
	static const char text[] =
		"[check \"web\"]\n\turl = http://a\n\tseverity = high\n"
		"[check \"db\"]\n\tquery = up\n"
		"[check \"web\"]\n\ttimeout = 1s\n"
		"[scout]\n\tsources = a, b ,\n\tsources = b,c\n";
	struct config cfg = CONFIG_INIT;
	struct strvec sv = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;

	ok(!config_read_buffer(&cfg, text, sizeof(text) - 1, "test", CONFIG_SCOPE_LOCAL),
	   "the config reads");
	config_subsections(&cfg, "check", &sv);
	ok(sv.nr == 2 && !strcmp(sv.v[0], "web") && !strcmp(sv.v[1], "db"),
	   "subsections in order of first appearance, each once");
	strvec_clear(&sv);
	is_str(config_key_of(&sb, "check", "web", "url"), "check.web.url", "a subsection's key");
	ok(config_any_key(&cfg, "check", "query") && !config_any_key(&cfg, "check", "nothing"),
	   "config_any_key looks in every subsection");
	config_list(&cfg, "scout.sources", ",", &sv);
	ok(sv.nr == 3 && !strcmp(sv.v[0], "a") && !strcmp(sv.v[1], "b") && !strcmp(sv.v[2], "c"),
	   "a list over every value, trimmed, each item once");
	strvec_clear(&sv);
	strbuf_release(&sb);
	config_clear(&cfg);
}

static void test_batch(void)
{
	struct http_batch b = HTTP_BATCH_INIT;

	for (int i = 0; i < 20; i++)
		http_batch_add(&b, xstrfmt("http://127.0.0.1:1/%d", i));
	ok(b.nr == 20 && !strcmp(b.req[19].url, "http://127.0.0.1:1/19") &&
	   !strcmp(b.req[19].method, "GET"), "requests queue in order, past a regrowth");
	ok(b.req[0].headers.nr == 1 && !strcmp(b.req[0].headers.v[0], "Accept: application/json"),
	   "each asks for JSON");
	http_batch_release(&b);
	ok(b.nr == 0 && !b.req && !b.res && !b.answer, "released, it is empty again");
}

static void test_findings(void)
{
	struct findings fs = FINDINGS_INIT;
	struct finding *f = finding_add(&fs, "http", "web", "web", "status");

	is_str(f->fingerprint, "http/web/status", "one object of a service: no check in the fingerprint");
	f = finding_add(&fs, "kubernetes", "pod/ns/web-1", "web", "oomkilled");
	is_str(f->fingerprint, "kubernetes/web/oomkilled/pod/ns/web-1", "many objects: the check is added");
	finding_summary(f, "%s ran out of %s", "web-1", "memory");
	is_str(f->summary, "web-1 ran out of memory", "a summary from a format");
	findings_clear(&fs);
	ok(fs.nr == 0 && !fs.v, "cleared");
}

int main(void)
{
	if (test_begin("json") < 0)
		return 1;
	test_getters();
	test_config_lists();
	test_batch();
	test_findings();
	return test_end();
}
