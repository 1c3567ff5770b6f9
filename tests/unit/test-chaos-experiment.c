/*
 * test-chaos-experiment.c: unit tests of lib/chaos-experiment.c: reading
 * an experiment (good ones, and each kind of bad one with the JSON path
 * its error names), every kind of tolerance, ${name} substitution, the
 * jsonpath subset, and the journal's fields from a run of process
 * activities (no network, no store). Prints TAP.
 */
#include <cJSON.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "../../lib/chaos-experiment.h"
#include "../../lib/json.h"
#include "test-lib.h"

/* Parse text: 0 and e, or -1 and the reason in why (reset first). */
static int parse(const char *text, struct chaos_experiment **e, struct strbuf *why)
{
	strbuf_reset(why);
	return chaos_experiment_parse(e, text, why);
}

static void bad(const char *text, const char *want, const char *what)
{
	struct strbuf why = STRBUF_INIT;
	struct chaos_experiment *e = NULL;

	ok(parse(text, &e, &why) < 0 && !e, "refused: %s", what);
	ok(strstr(why.buf, want) != NULL, "and the error names it: %s (got: %s)", want, why.buf);
	strbuf_release(&why);
}

#define MINIMAL "\"title\": \"t\", \"description\": \"d\""
#define ACTION(provider) "{\"type\": \"action\", \"name\": \"a\", \"provider\": " provider "}"

static void test_parse(void)
{
	struct strbuf why = STRBUF_INIT;
	struct chaos_experiment *e = NULL;

	ok(!parse("{" MINIMAL ", \"method\": []}", &e, &why) && e, "the minimal experiment is read");
	is_str(chaos_experiment_title(e), "t", "its title");
	ok(!chaos_experiment_uses_sre(e), "it uses no sre fault");
	chaos_experiment_free(e);

	ok(!parse("{" MINIMAL ", \"method\": [" ACTION("{\"type\": \"sre\", \"fault\": \"process-kill\", \"target\": \"web\"}")
		  "], \"runtime\": {\"rollbacks\": {\"strategy\": \"always\"}, \"hypothesis\": {\"strategy\": \"continuously\"}}}",
		  &e, &why), "an sre provider and runtime strategies are read (%s)", why.buf);
	ok(e && chaos_experiment_uses_sre(e), "and it uses an sre fault");
	chaos_experiment_free(e);

	bad("[]", "$: an experiment is a JSON object", "not an object");
	bad("{\"title\": ", "$: not JSON", "not JSON");
	bad("{\"method\": []}", "$.title:", "no title");
	bad("{" MINIMAL "}", "$.method:", "no method");
	bad("{" MINIMAL ", \"method\": {}}", "$.method: a list is expected", "a method that is not a list");
	bad("{" MINIMAL ", \"method\": [{\"type\": \"action\", \"provider\": {\"type\": \"process\", \"path\": \"x\"}}]}",
	    "$.method[0].name:", "an activity without a name");
	bad("{" MINIMAL ", \"method\": [" ACTION("{\"type\": \"python\", \"module\": \"os\", \"func\": \"f\"}") "]}",
	    "$.method[0].provider.type: sre runs no Python: use process or http", "python");
	bad("{" MINIMAL ", \"method\": [" ACTION("{\"type\": \"grpc\"}") "]}",
	    "$.method[0].provider.type: unknown provider 'grpc'", "an unknown provider");
	bad("{" MINIMAL ", \"method\": [" ACTION("{\"type\": \"http\", \"url\": \"ftp://x/\"}") "]}",
	    "$.method[0].provider.url: only http and https", "an ftp url");
	bad("{" MINIMAL ", \"method\": [" ACTION("{\"type\": \"process\", \"path\": \"ls\", \"arguments\": {}}") "]}",
	    "$.method[0].provider.arguments:", "process arguments as an object");
	bad("{" MINIMAL ", \"method\": [" ACTION("{\"type\": \"sre\", \"fault\": \"process-kill\"}") "]}",
	    "$.method[0].provider.target:", "an sre fault without a target");
	bad("{" MINIMAL ", \"method\": [{\"type\": \"action\", \"name\": \"a\", \"pauses\": {\"after\": -1}, "
	    "\"provider\": {\"type\": \"process\", \"path\": \"ls\"}}]}",
	    "$.method[0].pauses.after:", "a negative pause");
	bad("{" MINIMAL ", \"method\": [], \"rollbacks\": [{\"type\": \"probe\", \"name\": \"p\", "
	    "\"provider\": {\"type\": \"process\", \"path\": \"ls\"}}]}",
	    "$.rollbacks[0].type: an action is expected", "a probe among rollbacks");
	bad("{" MINIMAL ", \"method\": [], \"steady-state-hypothesis\": {\"title\": \"h\", \"probes\": ["
	    "{\"type\": \"probe\", \"name\": \"p\", \"provider\": {\"type\": \"process\", \"path\": \"ls\"}}]}}",
	    "$.steady-state-hypothesis.probes[0].tolerance:", "a hypothesis probe without a tolerance");
	bad("{" MINIMAL ", \"method\": [], \"steady-state-hypothesis\": {\"title\": \"h\", \"probes\": ["
	    "{\"type\": \"probe\", \"name\": \"p\", \"tolerance\": {\"type\": \"regex\", \"pattern\": \"(\"}, "
	    "\"provider\": {\"type\": \"process\", \"path\": \"ls\"}}]}}",
	    "$.steady-state-hypothesis.probes[0].tolerance.pattern:", "a bad regex");
	bad("{" MINIMAL ", \"method\": [], \"steady-state-hypothesis\": {\"title\": \"h\", \"probes\": ["
	    "{\"type\": \"probe\", \"name\": \"p\", \"tolerance\": {\"type\": \"jsonpath\", \"path\": \"$..a[?(@.b)]\"}, "
	    "\"provider\": {\"type\": \"process\", \"path\": \"ls\"}}]}}",
	    "$.steady-state-hypothesis.probes[0].tolerance.path:", "a jsonpath outside the subset");
	bad("{" MINIMAL ", \"method\": [], \"steady-state-hypothesis\": {\"title\": \"h\", \"probes\": ["
	    "{\"type\": \"probe\", \"name\": \"p\", \"tolerance\": {\"type\": \"range\", \"range\": [1]}, "
	    "\"provider\": {\"type\": \"process\", \"path\": \"ls\"}}]}}",
	    "$.steady-state-hypothesis.probes[0].tolerance.range:", "a range of one number");
	bad("{" MINIMAL ", \"method\": [], \"runtime\": {\"rollbacks\": {\"strategy\": \"sometimes\"}}}",
	    "$.runtime.rollbacks.strategy: unknown strategy 'sometimes'", "an unknown strategy");
	bad("{" MINIMAL ", \"method\": [], \"configuration\": {\"x\": [1]}}",
	    "$.configuration.x:", "a configuration value that is a list");
	bad("{" MINIMAL ", \"method\": [], \"configuration\": {\"x\": {\"type\": \"vault\"}}}",
	    "$.configuration.x: only {\"type\": \"env\"", "a configuration from vault");
	bad("{" MINIMAL ", \"method\": [], \"secrets\": {\"s\": {\"k\": \"plain\"}}}",
	    "$.secrets.s.k: a secret written in the experiment is refused", "an inline secret");
	unsetenv("CHAOS_UNIT_UNSET");
	bad("{" MINIMAL ", \"method\": [], \"secrets\": {\"s\": {\"k\": {\"type\": \"env\", \"key\": \"CHAOS_UNIT_UNSET\"}}}}",
	    "the environment variable CHAOS_UNIT_UNSET is not set", "a secret from an unset variable");
	strbuf_release(&why);
}

static int met(const char *tolerance, const char *value, const char *type)
{
	cJSON *t = cJSON_Parse(tolerance), *v = cJSON_Parse(value);
	struct strbuf why = STRBUF_INIT;
	int r;

	if (!t || !v)
		abort();
	r = chaos_tolerance_met(t, v, type, &why);
	cJSON_Delete(t);
	cJSON_Delete(v);
	strbuf_release(&why);
	return r;
}

static void test_tolerances(void)
{
	is_int(met("true", "true", NULL), 1, "bool: true meets true");
	is_int(met("true", "1", NULL), 0, "bool: 1 is not true (strict)");
	is_int(met("0", "{\"status\": 0, \"stdout\": \"\"}", "process"), 1, "number: a process's status");
	is_int(met("0", "{\"status\": 2}", "process"), 0, "number: status 2 is not 0");
	is_int(met("\"ok\"", "\"ok\"", NULL), 1, "string: equal");
	is_int(met("\"ok\"", "\"OK\"", NULL), 0, "string: case matters");
	is_int(met("[200, 299]", "{\"status\": 204}", "http"), 1, "[a, b]: inside");
	is_int(met("[200, 299]", "{\"status\": 503}", "http"), 0, "[a, b]: outside");
	is_int(met("[200, 299]", "\"250\"", NULL), 0, "[a, b]: a string is no number");
	is_int(met("[\"a\", \"b\", \"c\"]", "\"b\"", NULL), 1, "list: one of");
	is_int(met("[1, 2, 3]", "4", NULL), 0, "list: none of");
	is_int(met("{\"type\": \"range\", \"range\": [0.5, 1.5]}", "1", NULL), 1, "range object: inside");
	is_int(met("{\"type\": \"range\", \"range\": [0.5, 1.5]}", "2", NULL), 0, "range object: outside");
	is_int(met("{\"type\": \"regex\", \"pattern\": \"^[0-9]{3}$\"}", "{\"status\": 0, \"stdout\": \"123\"}", "process"),
	       1, "regex: stdout is the default target of a process");
	is_int(met("{\"type\": \"regex\", \"pattern\": \"down\"}", "{\"status\": 200, \"body\": \"all up\"}", "http"),
	       0, "regex: the body of http, not matched");
	is_int(met("{\"type\": \"regex\", \"pattern\": \"^2\", \"target\": \"status\"}", "{\"status\": 204, \"body\": \"\"}", "http"),
	       1, "regex: another target, a number as text");
	is_int(met("{\"type\": \"jsonpath\", \"path\": \"$.items[*].ready\", \"expect\": true}",
		   "{\"status\": 200, \"body\": \"{\\\"items\\\": [{\\\"ready\\\": true}, {\\\"ready\\\": true}]}\"}", "http"),
	       1, "jsonpath: every match equals expect");
	is_int(met("{\"type\": \"jsonpath\", \"path\": \"$.items[*].ready\", \"expect\": true}",
		   "{\"status\": 200, \"body\": \"{\\\"items\\\": [{\\\"ready\\\": true}, {\\\"ready\\\": false}]}\"}", "http"),
	       0, "jsonpath: one match differs");
	is_int(met("{\"type\": \"jsonpath\", \"path\": \"items[1].name\"}",
		   "{\"items\": [{\"name\": \"a\"}, {\"name\": \"b\"}]}", NULL), 1, "jsonpath: an index, no $.");
	is_int(met("{\"type\": \"jsonpath\", \"path\": \"$.missing\"}", "{\"a\": 1}", NULL), 0,
	       "jsonpath: no match is not met");
	is_int(met("{\"type\": \"jsonpath\", \"path\": \"$.a\"}", "{\"status\": 0, \"stdout\": \"not json\"}", "process"), 0,
	       "jsonpath: output that is not JSON matches nothing");
	is_int(met("{\"type\": \"probe\", \"name\": \"p\", \"provider\": {}}", "1", NULL), -1,
	       "probe: needs a run, not decided here");
}

static void test_jsonpath(void)
{
	cJSON *doc = cJSON_Parse("{\"a\": {\"b\": [{\"c\": 1}, {\"c\": 2}, {\"d\": 3}]}}");
	cJSON *m = cJSON_CreateArray();
	struct strbuf why = STRBUF_INIT;

	ok(!chaos_jsonpath(doc, "$.a.b[*].c", m, &why), "$.a.b[*].c is supported");
	is_int(cJSON_GetArraySize(m), 2, "two matches");
	ok(chaos_jsonpath(doc, "$.a[?(@.b)]", m, &why) < 0, "a filter is not");
	ok(strstr(why.buf, "outside the supported subset") != NULL, "and says so");
	ok(chaos_jsonpath(doc, "$.a.b[99999999999]", m, &why) == 0, "a huge index matches nothing, no crash");
	cJSON_Delete(m);
	cJSON_Delete(doc);
	strbuf_release(&why);
}

static void test_substitution(void)
{
	struct strbuf why = STRBUF_INIT;
	struct chaos_experiment *e = NULL;
	char *s;

	setenv("CHAOS_UNIT_HOST", "db.internal", 1);
	setenv("CHAOS_UNIT_TOKEN", "tok-123", 1);
	ok(!parse("{" MINIMAL ", \"method\": [], \"configuration\": {\"host\": {\"type\": \"env\", \"key\": \"CHAOS_UNIT_HOST\"}, "
		  "\"port\": 5432, \"name\": \"config wins\", \"missing\": {\"type\": \"env\", \"key\": \"CHAOS_UNIT_UNSET\", \"default\": \"dflt\"}}, "
		  "\"secrets\": {\"db\": {\"token\": {\"type\": \"env\", \"key\": \"CHAOS_UNIT_TOKEN\"}, "
		  "\"name\": {\"type\": \"env\", \"key\": \"CHAOS_UNIT_HOST\"}}}}", &e, &why),
	   "configuration and secrets from the environment (%s)", why.buf);
	s = chaos_experiment_substitute(e, "${host}:${port}/${missing}?t=${token}&n=${name}&u=${unknown}${");
	is_str(s, "db.internal:5432/dflt?t=tok-123&n=config wins&u=${unknown}${",
	       "configuration, default, secret, the configuration first, unknown left as is");
	free(s);
	chaos_experiment_free(e);
	strbuf_release(&why);
}

/* The idx-th element of the array at path's head, then the rest of the dotted path. */
static const cJSON *at(const cJSON *j, const char *list, int idx, const char *rest)
{
	const cJSON *v = cJSON_GetArrayItem(json_path(j, list), idx);
	return rest ? json_path(v, rest) : v;
}

static const char *at_str(const cJSON *j, const char *list, int idx, const char *rest)
{
	const cJSON *v = at(j, list, idx, rest);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void note_none(void *data, const char *line)
{
}

static void test_journal(void)
{
	struct strbuf why = STRBUF_INIT, text = STRBUF_INIT;
	struct chaos_experiment *e = NULL;
	struct chaos_run_options o = { .rollbacks = CHAOS_ROLLBACK_FROM_EXPERIMENT, .run = "unit-run", .note = note_none };
	char *path = xstrfmt("%s/journal.json", tmpdir);
	struct stat st;
	cJSON *j, *back;

	setenv("CHAOS_UNIT_TOKEN", "tok-123", 1);
	ok(!parse("{" MINIMAL ", \"method\": [{\"type\": \"action\", \"name\": \"say\", \"pauses\": {\"after\": 0.01}, "
		  "\"provider\": {\"type\": \"process\", \"path\": \"echo\", \"arguments\": [\"${token}\", 7]}}], "
		  "\"secrets\": {\"s\": {\"token\": {\"type\": \"env\", \"key\": \"CHAOS_UNIT_TOKEN\"}}}, "
		  "\"steady-state-hypothesis\": {\"title\": \"h\", \"probes\": [{\"type\": \"probe\", \"name\": \"t\", \"tolerance\": [0, 0], "
		  "\"provider\": {\"type\": \"process\", \"path\": \"true\"}}]}, "
		  "\"rollbacks\": [{\"type\": \"action\", \"name\": \"r\", \"provider\": {\"type\": \"process\", \"path\": \"false\"}}]}",
		  &e, &why), "a runnable experiment (%s)", why.buf);
	j = chaos_experiment_run(e, &o);
	ok(j != NULL, "it runs");
	is_str(json_string(j, "status"), "completed", "completed");
	ok(cJSON_IsFalse(json_get(j, "deviated")), "not deviated");
	ok(json_string(j, "chaoslib-version") && json_string(j, "platform") && json_string(j, "node") &&
	   json_string(j, "start") && json_string(j, "end") && cJSON_IsNumber(json_get(j, "duration")),
	   "version, platform, node, start, end, duration");
	ok(cJSON_IsTrue(at(j, "steady_states.before.probes", 0, "tolerance_met")), "tolerance_met before");
	ok(cJSON_IsTrue(json_path(j, "steady_states.after.steady_state_met")), "steady state met after");
	is_str(at_str(j, "run", 0, "status"), "succeeded", "the action succeeded");
	is_str(at_str(j, "run", 0, "output.stdout"), "<redacted> 7\n", "its output, the secret redacted");
	is_str(at_str(at(j, "run", 0, "activity.provider"), "arguments", 0, NULL), "${token}", "the activity as written");
	is_str(at_str(j, "rollbacks", 0, "status"), "failed", "the rollback ran, and failed (false)");
	is_str(json_path_string(j, "sre.run"), "unit-run", "the sre section names the run");
	ok(cJSON_IsArray(json_path(j, "sre.faults")), "and lists its faults");
	ok(!chaos_journal_write(path, j), "the journal is written");
	ok(!stat(path, &st) && (st.st_mode & 0777) == 0600, "mode 0600");
	ok(strbuf_read_file(&text, path, 1 << 20) > 0 && !strstr(text.buf, "tok-123"), "no secret in it");
	back = cJSON_Parse(text.buf);
	ok(back && json_string_is(back, "status", "completed"), "and it reads back");
	cJSON_Delete(back);
	cJSON_Delete(j);

	o.dry_run = 1;
	j = chaos_experiment_run(e, &o);
	is_str(at_str(j, "run", 0, "status"), "succeeded", "a dry run says each step");
	ok(cJSON_IsNull(at(j, "run", 0, "output")), "and runs nothing");
	ok(cJSON_IsTrue(json_path(j, "experiment.dry")), "marked dry");
	cJSON_Delete(j);
	chaos_experiment_free(e);
	free(path);
	strbuf_release(&text);
	strbuf_release(&why);
}

static void test_strategies(void)
{
	struct strbuf why = STRBUF_INIT;
	struct chaos_experiment *e = NULL;
	struct chaos_run_options o = { .rollbacks = CHAOS_ROLLBACK_FROM_EXPERIMENT, .note = note_none };
	volatile sig_atomic_t stop = 1;
	enum chaos_strategy rs;
	cJSON *j;

	ok(!chaos_strategy_parse("deviated", &rs) && rs == CHAOS_ROLLBACK_DEVIATED, "a strategy by name");
	ok(chaos_strategy_parse("sometimes", &rs) < 0, "an unknown one is refused");
	ok(!parse("{" MINIMAL ", \"runtime\": {\"hypothesis\": {\"strategy\": \"during-method-only\"}}, "
		  "\"steady-state-hypothesis\": {\"title\": \"h\", \"probes\": [{\"type\": \"probe\", \"name\": \"t\", "
		  "\"tolerance\": 0, \"provider\": {\"type\": \"process\", \"path\": \"true\"}}]}, "
		  "\"method\": [{\"type\": \"action\", \"name\": \"a\", \"provider\": {\"type\": \"process\", \"path\": \"true\"}}, "
		  "{\"type\": \"probe\", \"name\": \"b\", \"provider\": {\"type\": \"process\", \"path\": \"true\"}}], "
		  "\"rollbacks\": [{\"type\": \"action\", \"name\": \"r\", \"provider\": {\"type\": \"process\", \"path\": \"true\"}}]}",
		  &e, &why), "during-method-only is read (%s)", why.buf);
	j = chaos_experiment_run(e, &o);
	ok(!json_path(j, "steady_states.before") && !json_path(j, "steady_states.after"), "during: no before, no after");
	is_int(cJSON_GetArraySize(json_path(j, "steady_states.during")), 2, "the hypothesis after each activity");
	is_int(cJSON_GetArraySize(json_get(j, "rollbacks")), 1, "rollbacks played by default when all went well");
	cJSON_Delete(j);

	o.stop = &stop; /* a signal came before anything ran */
	j = chaos_experiment_run(e, &o);
	is_str(json_string(j, "status"), "interrupted", "a stop: interrupted");
	is_int(cJSON_GetArraySize(json_get(j, "rollbacks")), 0, "default: no rollbacks after an interruption");
	cJSON_Delete(j);
	o.rollbacks = CHAOS_ROLLBACK_ALWAYS;
	j = chaos_experiment_run(e, &o);
	is_int(cJSON_GetArraySize(json_get(j, "rollbacks")), 1, "always: played even then");
	is_str(at_str(j, "rollbacks", 0, "status"), "succeeded", "and not cut short by the stop");
	cJSON_Delete(j);
	chaos_experiment_free(e);
	strbuf_release(&why);
}

int main(void)
{
	if (test_begin("chaos-experiment") < 0)
		return 1;
	test_parse();
	test_tolerances();
	test_jsonpath();
	test_substitution();
	test_journal();
	test_strategies();
	return test_end();
}
