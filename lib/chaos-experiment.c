/*
 * chaos-experiment.c: Chaos Toolkit experiments, checked, run, journalled
 * (the design is in chaos-experiment.h).
 *
 * The experiment stays the cJSON tree it was read as: the journal must
 * hold it as written, and its activities as written, so substitution
 * happens on copies at the moment an activity runs. Parsing only checks,
 * and resolves the configuration and secrets once.
 */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "chaos-experiment.h"
#include "chaos.h"
#include "http.h"
#include "json.h"
#include "run-command.h"
#include "strvec.h"
#include "timeutil.h"
#include "util.h"
#include "banned.h"

#define OUTPUT_MAX (64 * 1024)   /* of a process's stdout, an http body, a regex's input */
#define ACTIVITY_TIMEOUT_MS (300 * 1000)  /* a process activity that names none */
#define ACTIVITY_TIMEOUT_MAX_MS (3600 * 1000)
#define PAUSE_MAX_S 86400.0
#define TIMEOUT_MAX_S 86400.0

struct chaos_experiment {
	cJSON *doc;
	cJSON *config;   /* name -> resolved string */
	cJSON *secrets;  /* name -> resolved string; never written anywhere */
};

int chaos_strategy_parse(const char *name, enum chaos_strategy *out)
{
	static const char *const names[] = { "default", "always", "never", "deviated" };

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (name && !strcmp(name, names[i])) {
			*out = (enum chaos_strategy)i;
			return 0;
		}
	return -1;
}

const char *chaos_experiment_title(const struct chaos_experiment *e)
{
	return json_string(e->doc, "title");
}

static int uses_sre(const cJSON *v)
{
	const cJSON *c;

	if (cJSON_IsObject(v) && json_string_is(v, "type", "sre") && json_get(v, "fault"))
		return 1;
	/* An activity of its own that breaks a service it names: recorded in the store too. */
	if (cJSON_IsObject(v) && cJSON_IsObject(json_get(v, "expect")) && json_get(json_get(v, "expect"), "target"))
		return 1;
	cJSON_ArrayForEach(c, ((cJSON_IsArray(v) || cJSON_IsObject(v)) ? v : NULL))
		if (uses_sre(c))
			return 1;
	return 0;
}

int chaos_experiment_uses_sre(const struct chaos_experiment *e)
{
	return uses_sre(e->doc);
}

void chaos_experiment_free(struct chaos_experiment *e)
{
	if (!e)
		return;
	cJSON_Delete(e->doc);
	cJSON_Delete(e->config);
	cJSON_Delete(e->secrets);
	free(e);
}

/* A configuration or secret value as a string: plain, or {"type": "env"}. */
static int resolve_value(cJSON *into, const char *name, const cJSON *v, int secret,
			 const char *path, struct strbuf *why)
{
	char num[64];

	if (cJSON_IsObject(v)) {
		const char *type = json_string(v, "type"), *key = json_string(v, "key");
		const cJSON *def = cJSON_GetObjectItemCaseSensitive(v, "default");
		const char *val;

		if (!type || strcmp(type, "env")) {
			strbuf_addf(why, "%s.%s: only {\"type\": \"env\", \"key\": ...} is supported%s",
				    path, name, secret ? " (sre reads secrets from the environment only)" : "");
			return -1;
		}
		if (!key || !*key) {
			strbuf_addf(why, "%s.%s.key: the environment variable's name is missing", path, name);
			return -1;
		}
		val = getenv(key);
		if (!val && cJSON_IsString(def))
			val = def->valuestring;
		if (!val) {
			strbuf_addf(why, "%s.%s: the environment variable %s is not set", path, name, key);
			return -1;
		}
		cJSON_AddStringToObject(into, name, val);
		return 0;
	}
	if (secret) {
		strbuf_addf(why, "%s.%s: a secret written in the experiment is refused: "
			    "use {\"type\": \"env\", \"key\": \"NAME\"}", path, name);
		return -1;
	}
	if (cJSON_IsString(v)) {
		cJSON_AddStringToObject(into, name, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		snprintf(num, sizeof(num), "%.15g", v->valuedouble);
		cJSON_AddStringToObject(into, name, num);
	} else if (cJSON_IsBool(v)) {
		cJSON_AddStringToObject(into, name, cJSON_IsTrue(v) ? "true" : "false");
	} else {
		strbuf_addf(why, "%s.%s: a string, number, boolean or {\"type\": \"env\"} is expected",
			    path, name);
		return -1;
	}
	return 0;
}

static int check_provider(const cJSON *p, const char *path, struct strbuf *why)
{
	const char *type = json_string(p, "type");
	const cJSON *v;

	if (!cJSON_IsObject(p))
		return strbuf_addf(why, "%s: the provider must be an object", path), -1;
	if (!type)
		return strbuf_addf(why, "%s.type: the provider's type is missing", path), -1;
	if (!strcmp(type, "http")) {
		const char *url = json_string(p, "url");
		if (!url || !*url)
			return strbuf_addf(why, "%s.url: an http provider needs a url", path), -1;
		if (!strstr(url, "${") && strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8))
			return strbuf_addf(why, "%s.url: only http and https URLs are fetched", path), -1;
		if ((v = cJSON_GetObjectItemCaseSensitive(p, "method")) && !cJSON_IsString(v))
			return strbuf_addf(why, "%s.method: a string is expected", path), -1;
		if ((v = cJSON_GetObjectItemCaseSensitive(p, "headers"))) {
			const cJSON *h;
			if (!cJSON_IsObject(v))
				return strbuf_addf(why, "%s.headers: an object is expected", path), -1;
			cJSON_ArrayForEach(h, v)
				if (!cJSON_IsString(h) || strpbrk(h->string, ":\r\n") || strpbrk(h->valuestring, "\r\n"))
					return strbuf_addf(why, "%s.headers.%s: a one-line string is expected",
							   path, h->string), -1;
		}
		if ((v = cJSON_GetObjectItemCaseSensitive(p, "expected_status")) && !cJSON_IsNumber(v))
			return strbuf_addf(why, "%s.expected_status: a number is expected", path), -1;
	} else if (!strcmp(type, "process")) {
		if (!json_nonempty(p, "path"))
			return strbuf_addf(why, "%s.path: a process provider needs a path", path), -1;
		if ((v = cJSON_GetObjectItemCaseSensitive(p, "arguments"))) {
			const cJSON *a;
			if (!cJSON_IsString(v) && !cJSON_IsArray(v))
				return strbuf_addf(why, "%s.arguments: a list or a string is expected", path), -1;
			cJSON_ArrayForEach(a, (cJSON_IsArray(v) ? v : NULL))
				if (!cJSON_IsString(a) && !cJSON_IsNumber(a))
					return strbuf_addf(why, "%s.arguments: each argument is a string or a number",
							   path), -1;
		}
	} else if (!strcmp(type, "sre")) {
		if (!json_nonempty(p, "fault"))
			return strbuf_addf(why, "%s.fault: an sre provider names its fault", path), -1;
		if (!json_nonempty(p, "target"))
			return strbuf_addf(why, "%s.target: an sre provider names its target service", path), -1;
		if ((v = cJSON_GetObjectItemCaseSensitive(p, "arguments")) && !cJSON_IsObject(v))
			return strbuf_addf(why, "%s.arguments: an object is expected", path), -1;
	} else if (!strcmp(type, "python")) {
		return strbuf_addf(why, "%s.type: sre runs no Python: use process or http", path), -1;
	} else {
		return strbuf_addf(why, "%s.type: unknown provider '%s' (http, process or sre)", path, type), -1;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(p, "timeout"))) {
		const cJSON *t = cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2 ? cJSON_GetArrayItem(v, 1) : v;
		if (!cJSON_IsNumber(t) || t->valuedouble <= 0 || t->valuedouble > TIMEOUT_MAX_S)
			return strbuf_addf(why, "%s.timeout: seconds (or [connect, read]) up to a day", path), -1;
	}
	return 0;
}

static int check_tolerance(const cJSON *t, const char *path, struct strbuf *why);

static int check_activity(const cJSON *a, const char *path, const char *want, struct strbuf *why)
{
	const char *type = json_string(a, "type");
	const cJSON *v;
	struct strbuf sub = STRBUF_INIT;
	int r;

	if (!cJSON_IsObject(a))
		return strbuf_addf(why, "%s: an activity must be an object", path), -1;
	if (cJSON_GetObjectItemCaseSensitive(a, "ref")) {
		if (!json_nonempty(a, "ref"))
			return strbuf_addf(why, "%s.ref: the name of a declared activity is expected", path), -1;
		return 0;
	}
	if (!type || (strcmp(type, "probe") && strcmp(type, "action")))
		return strbuf_addf(why, "%s.type: \"probe\" or \"action\" is expected", path), -1;
	if (want && strcmp(type, want))
		return strbuf_addf(why, "%s.type: a%s %s is expected here", path,
				   *want == 'a' ? "n" : "", want), -1;
	if (!json_nonempty(a, "name"))
		return strbuf_addf(why, "%s.name: every activity has a name", path), -1;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "background")))
		return strbuf_addf(why, "%s.background: activities run in the background are not supported",
				   path), -1;
	if ((v = cJSON_GetObjectItemCaseSensitive(a, "pauses"))) {
		const char *when[] = { "before", "after" };
		if (!cJSON_IsObject(v))
			return strbuf_addf(why, "%s.pauses: an object is expected", path), -1;
		for (int i = 0; i < 2; i++) {
			const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, when[i]);
			if (s && (!cJSON_IsNumber(s) || s->valuedouble < 0 || s->valuedouble > PAUSE_MAX_S))
				return strbuf_addf(why, "%s.pauses.%s: seconds, from 0 to a day", path, when[i]), -1;
		}
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(a, "expect"))) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, "target");
		if (!cJSON_IsObject(v) || !json_nonempty(v, "category"))
			return strbuf_addf(why, "%s.expect: {\"category\": ...} is expected", path), -1;
		if (t && !json_nonempty(v, "target") && !(cJSON_IsArray(t) && cJSON_GetArraySize(t) > 0))
			return strbuf_addf(why, "%s.expect.target: a service, or a list of them, is expected", path), -1;
		cJSON_ArrayForEach(t, (cJSON_IsArray(t) ? t : NULL))
			if (!cJSON_IsString(t) || !*t->valuestring)
				return strbuf_addf(why, "%s.expect.target: a list of service names is expected", path), -1;
	}
	strbuf_addf(&sub, "%s.provider", path);
	r = check_provider(cJSON_GetObjectItemCaseSensitive(a, "provider"), sub.buf, why);
	if (!r && (v = cJSON_GetObjectItemCaseSensitive(a, "tolerance"))) {
		strbuf_reset(&sub);
		strbuf_addf(&sub, "%s.tolerance", path);
		r = check_tolerance(v, sub.buf, why);
	}
	strbuf_release(&sub);
	return r;
}

static int check_tolerance(const cJSON *t, const char *path, struct strbuf *why)
{
	const char *type;

	if (cJSON_IsBool(t) || cJSON_IsNumber(t) || cJSON_IsString(t))
		return 0;
	if (cJSON_IsArray(t)) {
		const cJSON *v;
		if (!cJSON_GetArraySize(t))
			return strbuf_addf(why, "%s: an empty list matches nothing", path), -1;
		cJSON_ArrayForEach(v, t)
			if (!cJSON_IsBool(v) && !cJSON_IsNumber(v) && !cJSON_IsString(v))
				return strbuf_addf(why, "%s: a list of scalars is expected", path), -1;
		return 0;
	}
	if (!cJSON_IsObject(t) || !(type = json_string(t, "type")))
		return strbuf_addf(why, "%s: a scalar, a list or an object with a type is expected", path), -1;
	if (!strcmp(type, "regex")) {
		regex_t re;
		const char *pat = json_string(t, "pattern");
		if (!pat)
			return strbuf_addf(why, "%s.pattern: a regex tolerance needs a pattern", path), -1;
		if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB))
			return strbuf_addf(why, "%s.pattern: not a valid extended regular expression", path), -1;
		regfree(&re);
		return 0;
	}
	if (!strcmp(type, "jsonpath")) {
		cJSON *m = cJSON_CreateArray(), *probe = cJSON_CreateObject();
		struct strbuf w = STRBUF_INIT;
		const char *p = json_string(t, "path");
		const cJSON *ex = cJSON_GetObjectItemCaseSensitive(t, "expect");
		int r = 0;
		if (!p)
			strbuf_addf(why, "%s.path: a jsonpath tolerance needs a path", path), r = -1;
		else if (chaos_jsonpath(probe, p, m, &w) < 0)
			strbuf_addf(why, "%s.path: %s", path, w.buf), r = -1;
		else if (ex && !cJSON_IsBool(ex) && !cJSON_IsNumber(ex) && !cJSON_IsString(ex) && !cJSON_IsNull(ex))
			strbuf_addf(why, "%s.expect: a scalar is expected", path), r = -1;
		cJSON_Delete(m);
		cJSON_Delete(probe);
		strbuf_release(&w);
		return r;
	}
	if (!strcmp(type, "range")) {
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(t, "range");
		if (!cJSON_IsArray(r) || cJSON_GetArraySize(r) != 2 || !cJSON_IsNumber(cJSON_GetArrayItem(r, 0)) ||
		    !cJSON_IsNumber(cJSON_GetArrayItem(r, 1)))
			return strbuf_addf(why, "%s.range: two numbers are expected", path), -1;
		return 0;
	}
	if (!strcmp(type, "probe")) {
		cJSON *copy = cJSON_Duplicate(t, 1);
		int r;
		/* A probe tolerance is a probe without a tolerance of its own. */
		cJSON_DeleteItemFromObjectCaseSensitive(copy, "tolerance");
		r = check_activity(copy, path, "probe", why);
		cJSON_Delete(copy);
		return r;
	}
	return strbuf_addf(why, "%s.type: unknown tolerance '%s' (regex, jsonpath, range or probe)",
			   path, type), -1;
}

static int check_activities(const cJSON *list, const char *path, const char *want, struct strbuf *why)
{
	const cJSON *a;
	struct strbuf sub = STRBUF_INIT;
	int i = 0, r = 0;

	if (!cJSON_IsArray(list))
		return strbuf_addf(why, "%s: a list is expected", path), -1;
	cJSON_ArrayForEach(a, list) {
		strbuf_reset(&sub);
		strbuf_addf(&sub, "%s[%d]", path, i++);
		if ((r = check_activity(a, sub.buf, want, why)))
			break;
	}
	strbuf_release(&sub);
	return r;
}

static int check_strategy(const cJSON *runtime, const char *key, const char *const *allowed,
			  struct strbuf *why)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(runtime, key);
	const char *s;

	if (!o)
		return 0;
	if (!cJSON_IsObject(o) || !(s = json_string(o, "strategy")))
		return strbuf_addf(why, "$.runtime.%s.strategy: a strategy name is expected", key), -1;
	for (; *allowed; allowed++)
		if (!strcmp(s, *allowed))
			return 0;
	return strbuf_addf(why, "$.runtime.%s.strategy: unknown strategy '%s'", key, s), -1;
}

static const char *const hypothesis_strategies[] = {
	"default", "before-method-only", "after-method-only", "during-method-only", "continuously", NULL,
};
static const char *const rollback_strategies[] = { "default", "always", "never", "deviated", NULL };

int chaos_experiment_parse(struct chaos_experiment **out, const char *text, struct strbuf *why)
{
	struct chaos_experiment *e = xcalloc(1, sizeof(*e));
	const cJSON *v, *s;

	*out = NULL;
	e->config = cJSON_CreateObject();
	e->secrets = cJSON_CreateObject();
	if (!(e->doc = cJSON_Parse(text))) {
		strbuf_addstr(why, "$: not JSON (sre reads experiments in JSON; convert YAML first)");
		goto fail;
	}
	if (!cJSON_IsObject(e->doc)) {
		strbuf_addstr(why, "$: an experiment is a JSON object");
		goto fail;
	}
	if (!json_nonempty(e->doc, "title")) {
		strbuf_addstr(why, "$.title: an experiment needs a title");
		goto fail;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(e->doc, "description")) && !cJSON_IsString(v)) {
		strbuf_addstr(why, "$.description: a string is expected");
		goto fail;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(e->doc, "configuration"))) {
		if (!cJSON_IsObject(v)) {
			strbuf_addstr(why, "$.configuration: an object is expected");
			goto fail;
		}
		cJSON_ArrayForEach(s, v)
			if (resolve_value(e->config, s->string, s, 0, "$.configuration", why))
				goto fail;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(e->doc, "secrets"))) {
		const cJSON *k;
		if (!cJSON_IsObject(v)) {
			strbuf_addstr(why, "$.secrets: an object is expected");
			goto fail;
		}
		cJSON_ArrayForEach(s, v) {
			struct strbuf p = STRBUF_INIT;
			int bad = 0;
			strbuf_addf(&p, "$.secrets.%s", s->string);
			if (!cJSON_IsObject(s)) {
				strbuf_addf(why, "%s: an object of secrets is expected", p.buf);
				bad = 1;
			}
			cJSON_ArrayForEach(k, (bad ? NULL : s))
				if (resolve_value(e->secrets, k->string, k, 1, p.buf, why)) {
					bad = 1;
					break;
				}
			strbuf_release(&p);
			if (bad)
				goto fail;
		}
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(e->doc, "steady-state-hypothesis"))) {
		const cJSON *probe;
		int i = 0;
		if (!cJSON_IsObject(v)) {
			strbuf_addstr(why, "$.steady-state-hypothesis: an object is expected");
			goto fail;
		}
		if (!json_nonempty(v, "title")) {
			strbuf_addstr(why, "$.steady-state-hypothesis.title: the hypothesis needs a title");
			goto fail;
		}
		if (check_activities(json_get(v, "probes"), "$.steady-state-hypothesis.probes", "probe", why))
			goto fail;
		cJSON_ArrayForEach(probe, json_get(v, "probes")) {
			if (!cJSON_GetObjectItemCaseSensitive(probe, "ref") &&
			    !cJSON_GetObjectItemCaseSensitive(probe, "tolerance")) {
				strbuf_addf(why, "$.steady-state-hypothesis.probes[%d].tolerance: "
					    "a probe of the hypothesis needs a tolerance", i);
				goto fail;
			}
			i++;
		}
	}
	if (!(v = cJSON_GetObjectItemCaseSensitive(e->doc, "method"))) {
		strbuf_addstr(why, "$.method: an experiment needs a method (it may be empty)");
		goto fail;
	}
	if (check_activities(v, "$.method", NULL, why))
		goto fail;
	if ((v = cJSON_GetObjectItemCaseSensitive(e->doc, "rollbacks")) &&
	    check_activities(v, "$.rollbacks", "action", why))
		goto fail;
	if ((v = cJSON_GetObjectItemCaseSensitive(e->doc, "runtime"))) {
		if (!cJSON_IsObject(v)) {
			strbuf_addstr(why, "$.runtime: an object is expected");
			goto fail;
		}
		if (check_strategy(v, "hypothesis", hypothesis_strategies, why) ||
		    check_strategy(v, "rollbacks", rollback_strategies, why))
			goto fail;
	}
	*out = e;
	return 0;
fail:
	chaos_experiment_free(e);
	return -1;
}

/* ---- substitution ---- */

char *chaos_experiment_substitute(const struct chaos_experiment *e, const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = s;

	while (*p) {
		const char *open = strstr(p, "${"), *close;
		if (!open || !(close = strchr(open + 2, '}'))) {
			strbuf_addstr(&sb, p);
			break;
		}
		strbuf_add(&sb, p, (size_t)(open - p));
		{
			char *name = xstrndup(open + 2, (size_t)(close - open - 2));
			const char *val = json_string(e->config, name);
			if (!val)
				val = json_string(e->secrets, name);
			if (val)
				strbuf_addstr(&sb, val);
			else
				strbuf_add(&sb, open, (size_t)(close - open + 1));
			free(name);
		}
		p = close + 1;
	}
	return strbuf_detach(&sb, NULL);
}

/* Every string inside v substituted, in place (v is a copy). */
static void substitute_tree(const struct chaos_experiment *e, cJSON *v)
{
	cJSON *c;

	if (cJSON_IsString(v) && strstr(v->valuestring, "${")) {
		char *s = chaos_experiment_substitute(e, v->valuestring);
		cJSON_SetValuestring(v, s);
		free(s);
	}
	cJSON_ArrayForEach(c, ((cJSON_IsArray(v) || cJSON_IsObject(v)) ? v : NULL))
		substitute_tree(e, c);
}

/* Every secret value in sb replaced by <redacted>. */
static void redact_secrets(const struct chaos_experiment *e, struct strbuf *sb)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, e->secrets) {
		const char *val = s->valuestring, *hit;
		size_t n = strlen(val);
		struct strbuf out = STRBUF_INIT;
		const char *p = sb->buf;
		if (n < 1 || !strstr(sb->buf, val))
			continue;
		while ((hit = strstr(p, val))) {
			strbuf_add(&out, p, (size_t)(hit - p));
			strbuf_addstr(&out, "<redacted>");
			p = hit + n;
		}
		strbuf_addstr(&out, p);
		strbuf_reset(sb);
		strbuf_addstr(sb, out.buf);
		strbuf_release(&out);
	}
}

static void redact_tree(const struct chaos_experiment *e, cJSON *v)
{
	cJSON *c;

	if (cJSON_IsString(v)) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addstr(&sb, v->valuestring);
		redact_secrets(e, &sb);
		if (strcmp(sb.buf, v->valuestring))
			cJSON_SetValuestring(v, sb.buf);
		strbuf_release(&sb);
	}
	cJSON_ArrayForEach(c, ((cJSON_IsArray(v) || cJSON_IsObject(v)) ? v : NULL))
		redact_tree(e, c);
}

/* ---- tolerances ---- */

int chaos_jsonpath(const cJSON *doc, const char *path, cJSON *matches, struct strbuf *why)
{
	cJSON *cur = cJSON_CreateArray(), *next;
	const char *p = path;
	int r = 0;

	cJSON_AddItemReferenceToArray(cur, (cJSON *)doc);
	if (*p == '$')
		p++;
	if (*p == '.')
		p++;
	while (*p && !r) {
		const cJSON *node;
		next = cJSON_CreateArray();
		if (*p == '[') {
			const char *end = strchr(p, ']');
			long long idx = -1;
			char *inner = end ? xstrndup(p + 1, (size_t)(end - p - 1)) : NULL;
			if (!inner || (strcmp(inner, "*") && (parse_ll(inner, &idx) || idx < 0))) {
				strbuf_addf(why, "'%s' is outside the supported subset ($.a.b, $.a[0], $.a[*].b)", path);
				r = -1;
			}
			cJSON_ArrayForEach(node, (r ? NULL : cur)) {
				const cJSON *c;
				if (!cJSON_IsArray(node))
					continue;
				if (idx < 0) {
					cJSON_ArrayForEach(c, node)
						cJSON_AddItemReferenceToArray(next, (cJSON *)c);
				} else if ((c = cJSON_GetArrayItem(node, (int)(idx > 1000000 ? 1000000 : idx)))) {
					cJSON_AddItemReferenceToArray(next, (cJSON *)c);
				}
			}
			free(inner);
			p = end ? end + 1 : p + strlen(p);
			if (*p == '.')
				p++;
		} else {
			size_t n = strcspn(p, ".[");
			char *key = xstrndup(p, n);
			if (!n || strpbrk(key, "*?@()'\" ")) {
				strbuf_addf(why, "'%s' is outside the supported subset ($.a.b, $.a[0], $.a[*].b)", path);
				r = -1;
			}
			cJSON_ArrayForEach(node, (r ? NULL : cur)) {
				const cJSON *c = cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, key) : NULL;
				if (c)
					cJSON_AddItemReferenceToArray(next, (cJSON *)c);
			}
			free(key);
			p += n;
			if (*p == '.')
				p++;
		}
		cJSON_Delete(cur);
		cur = next;
	}
	if (!r) {
		const cJSON *node;
		cJSON_ArrayForEach(node, cur)
			cJSON_AddItemToArray(matches, cJSON_Duplicate(node, 1));
	}
	cJSON_Delete(cur);
	return r;
}

static int scalar_equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsBool(a) || cJSON_IsBool(b))
		return cJSON_IsBool(a) && cJSON_IsBool(b) && !cJSON_IsTrue(a) == !cJSON_IsTrue(b);
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a) && cJSON_IsString(b))
		return !strcmp(a->valuestring, b->valuestring);
	return cJSON_IsNull(a) && cJSON_IsNull(b);
}

/* A field of an output (body, stdout) by target, else the value itself. */
static const cJSON *target_of(const cJSON *tolerance, const cJSON *value, const char *provider_type)
{
	const char *target = json_string(tolerance, "target");

	if (!target && provider_type)
		target = !strcmp(provider_type, "http") ? "body" : !strcmp(provider_type, "process") ? "stdout" : NULL;
	if (target && cJSON_IsObject(value) && cJSON_GetObjectItemCaseSensitive(value, target))
		return cJSON_GetObjectItemCaseSensitive(value, target);
	return value;
}

int chaos_tolerance_met(const cJSON *t, const cJSON *value, const char *provider_type, struct strbuf *why)
{
	const cJSON *tested = value;
	const char *type;

	if (cJSON_IsObject(value) && cJSON_GetObjectItemCaseSensitive(value, "status"))
		tested = cJSON_GetObjectItemCaseSensitive(value, "status");
	if (cJSON_IsBool(t) || cJSON_IsNumber(t) || cJSON_IsString(t))
		return scalar_equal(t, tested);
	if (cJSON_IsArray(t)) {
		const cJSON *a = cJSON_GetArrayItem(t, 0), *b = cJSON_GetArrayItem(t, 1), *v;
		if (cJSON_GetArraySize(t) == 2 && cJSON_IsNumber(a) && cJSON_IsNumber(b))
			return cJSON_IsNumber(tested) && tested->valuedouble >= a->valuedouble &&
			       tested->valuedouble <= b->valuedouble;
		cJSON_ArrayForEach(v, t)
			if (scalar_equal(v, tested))
				return 1;
		return 0;
	}
	if (!(type = json_string(t, "type")))
		return strbuf_addstr(why, "a tolerance object needs a type"), -1;
	if (!strcmp(type, "range")) {
		const cJSON *r = json_get(t, "range");
		const cJSON *a = cJSON_GetArrayItem(r, 0), *b = cJSON_GetArrayItem(r, 1);
		if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b))
			return strbuf_addstr(why, "a range tolerance needs two numbers"), -1;
		return cJSON_IsNumber(tested) && tested->valuedouble >= a->valuedouble &&
		       tested->valuedouble <= b->valuedouble;
	}
	if (!strcmp(type, "regex")) {
		const cJSON *in = target_of(t, value, provider_type);
		const char *pat = json_string(t, "pattern");
		char *text, num[64];
		regex_t re;
		int met;
		if (!pat || regcomp(&re, pat, REG_EXTENDED | REG_NOSUB))
			return strbuf_addstr(why, "the regex tolerance's pattern is not valid"), -1;
		if (cJSON_IsString(in)) {
			text = xstrndup(in->valuestring, OUTPUT_MAX);
		} else if (cJSON_IsNumber(in)) {
			snprintf(num, sizeof(num), "%.15g", in->valuedouble);
			text = xstrdup(num);
		} else {
			char *printed = cJSON_PrintUnformatted(in);
			text = xstrndup(printed ? printed : "", OUTPUT_MAX);
			cJSON_free(printed);
		}
		met = !regexec(&re, text, 0, NULL, 0);
		regfree(&re);
		free(text);
		return met;
	}
	if (!strcmp(type, "jsonpath")) {
		const cJSON *in = target_of(t, value, provider_type), *m, *expect = json_get(t, "expect");
		cJSON *parsed = NULL, *matches = cJSON_CreateArray();
		int met;
		if (cJSON_IsString(in) && !(in = parsed = cJSON_Parse(in->valuestring))) {
			cJSON_Delete(matches);
			return 0; /* not JSON: matches nothing */
		}
		if (chaos_jsonpath(in, json_string_or(t, "path", ""), matches, why) < 0) {
			cJSON_Delete(matches);
			cJSON_Delete(parsed);
			return -1;
		}
		met = cJSON_GetArraySize(matches) > 0;
		cJSON_ArrayForEach(m, (expect ? matches : NULL))
			if (!scalar_equal(expect, m))
				met = 0;
		cJSON_Delete(matches);
		cJSON_Delete(parsed);
		return met;
	}
	strbuf_addf(why, "a %s tolerance needs a run", type);
	return -1;
}

/* ---- running ---- */

struct run {
	struct chaos_experiment *e;
	const struct chaos_run_options *o;
	struct http_client http;
	int http_ready;
	cJSON *faults;       /* the sre section's */
	int injected;        /* an sre fault was asked for: undo the run's */
};

static void say(struct run *r, const char *fmt, ...) SRE_PRINTF(2, 3);
static void say(struct run *r, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (!r->o->note)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	r->o->note(r->o->note_data, sb.buf);
	strbuf_release(&sb);
}

static int stopped(const struct run *r)
{
	return r->o->stop && *r->o->stop;
}

static void now_iso(char *buf, size_t size, double *secs)
{
	struct timeval tv;
	struct tm tm;
	time_t t;

	gettimeofday(&tv, NULL);
	t = tv.tv_sec;
	gmtime_r(&t, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec);
	if (secs)
		*secs = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Sleep s seconds, waking for a stop. 0, or -1 when stopped. */
static int pause_for(struct run *r, double s, const char *when, const char *name)
{
	int64_t end;

	if (s <= 0)
		return 0;
	say(r, "%spause %.3g s %s %s", r->o->dry_run ? "would " : "", s, when, name);
	if (r->o->dry_run)
		return 0;
	end = monotonic_ms() + (int64_t)(s * 1000.0);
	while (!stopped(r)) {
		int64_t left = end - monotonic_ms();
		if (left <= 0)
			return 0;
		sleep_ms(left < 100 ? left : 100);
	}
	return -1;
}

static double seconds(const cJSON *v)
{
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const cJSON *find_activity(const struct chaos_experiment *e, const char *name)
{
	const char *lists[] = { "method", "rollbacks" };
	const cJSON *a;

	cJSON_ArrayForEach(a, json_get(json_get(e->doc, "steady-state-hypothesis"), "probes"))
		if (json_string_is(a, "name", name))
			return a;
	for (int i = 0; i < 2; i++)
		cJSON_ArrayForEach(a, json_get(e->doc, lists[i]))
			if (json_string_is(a, "name", name))
				return a;
	return NULL;
}

/*
 * An activity's timeout in ms: its "timeout" in seconds (or the second of
 * a [connect, read] pair), within 1 ms and an hour; else dflt (0: the
 * client's own). No activity waits without a bound: an experiment is
 * never a hang.
 */
static int64_t activity_timeout(const cJSON *t, int64_t dflt)
{
	double s;

	if (cJSON_IsArray(t))
		t = cJSON_GetArrayItem(t, 1);
	if (!cJSON_IsNumber(t) || !(t->valuedouble > 0))
		return dflt;
	s = t->valuedouble * 1000.0;
	return s < 1 ? 1 : s > ACTIVITY_TIMEOUT_MAX_MS ? ACTIVITY_TIMEOUT_MAX_MS : (int64_t)s;
}

static int run_process(struct run *r, const cJSON *p, cJSON **output, struct strbuf *why)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	const cJSON *args = json_get(p, "arguments"), *a, *t = json_get(p, "timeout");
	int status;

	strvec_push(&cp.args, json_string(p, "path"));
	if (cJSON_IsString(args)) {
		const char *bad = NULL;
		if (split_shell_words(&cp.args, args->valuestring, &bad) < 0 && *args->valuestring) {
			strbuf_addf(why, "its arguments: %s", bad ? bad : "cannot be split into words");
			child_process_clear(&cp);
			return -1;
		}
	}
	cJSON_ArrayForEach(a, (cJSON_IsArray(args) ? args : NULL)) {
		if (cJSON_IsString(a))
			strvec_push(&cp.args, a->valuestring);
		else
			strvec_pushf(&cp.args, "%.15g", a->valuedouble);
	}
	cp.timeout_ms = activity_timeout(t, ACTIVITY_TIMEOUT_MS);
	cp.out = &out;
	cp.out_tail = 1;
	cp.out_max = OUTPUT_MAX;
	cp.no_stdin = 1;
	cp.why = &err;
	cp.what = json_string(p, "path");
	status = run_child(&cp);
	child_process_clear(&cp);
	if (status < 0) {
		strbuf_addstr(why, err.buf);
		strbuf_release(&out);
		strbuf_release(&err);
		return -1;
	}
	redact_secrets(r->e, &out);
	out.len = utf8_cut(out.buf, out.len, OUTPUT_MAX);
	out.buf[out.len] = '\0';
	*output = cJSON_CreateObject();
	cJSON_AddNumberToObject(*output, "status", status);
	cJSON_AddStringToObject(*output, "stdout", out.buf);
	cJSON_AddStringToObject(*output, "stderr", ""); /* passed through to sre's stderr */
	strbuf_release(&out);
	strbuf_release(&err);
	if (status == 127)
		strbuf_addf(why, "%s could not be run (exit status 127)", json_string(p, "path"));
	else if (status)
		strbuf_addf(why, "%s exited with status %d", json_string(p, "path"), status);
	return status ? 1 : 0;
}

static void add_query_or_body(const cJSON *args, int form, struct strbuf *sb)
{
	const cJSON *a;
	int first = 1;

	cJSON_ArrayForEach(a, args) {
		char *text = cJSON_IsString(a) ? xstrdup(a->valuestring) : cJSON_PrintUnformatted(a);
		if (!first)
			strbuf_addch(sb, '&');
		first = 0;
		http_urlencode(sb, a->string);
		strbuf_addch(sb, '=');
		http_urlencode(sb, text ? text : "");
		if (cJSON_IsString(a))
			free(text);
		else
			cJSON_free(text);
	}
	(void)form;
}

static int run_http(struct run *r, const cJSON *p, cJSON **output, struct strbuf *why)
{
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct strbuf url = STRBUF_INIT, body = STRBUF_INIT;
	const char *method = json_string_or(p, "method", "GET");
	const cJSON *args = json_get(p, "arguments"), *h, *t = json_get(p, "timeout");
	const cJSON *expected = json_get(p, "expected_status");
	const char *ctype = NULL;
	cJSON *headers;
	int ret = 0;

	strbuf_addstr(&url, json_string(p, "url"));
	if (strncasecmp(url.buf, "http://", 7) && strncasecmp(url.buf, "https://", 8)) {
		strbuf_addstr(why, "only http and https URLs are fetched");
		strbuf_release(&url);
		return -1;
	}
	if (!r->http_ready) {
		if (r->o->ctx && r->o->ctx->cfg) {
			if (http_client_init(&r->http, r->o->ctx->cfg) < 0) {
				strbuf_addstr(why, "the http.* configuration is not valid");
				strbuf_release(&url);
				return -1;
			}
		} else {
			memset(&r->http, 0, sizeof(r->http));
			r->http.connect_timeout_ms = 10000;
			r->http.timeout_ms = 30000;
		}
		r->http.retries = 0; /* a probe that retries hides the failure it is there to see */
		r->http.max_body = 4 * OUTPUT_MAX;
		r->http.cancel = r->o->stop;
		{
			const cJSON *s;
			cJSON_ArrayForEach(s, r->e->secrets)
				http_client_add_secret(&r->http, s->valuestring);
		}
		r->http_ready = 1;
	}
	cJSON_ArrayForEach(h, json_get(p, "headers")) {
		strvec_pushf(&req.headers, "%s: %s", h->string, h->valuestring);
		if (!strcasecmp(h->string, "content-type"))
			ctype = h->valuestring;
	}
	if (cJSON_IsObject(args) && cJSON_GetArraySize(args)) {
		if (!strcasecmp(method, "GET")) {
			strbuf_addch(&url, strchr(url.buf, '?') ? '&' : '?');
			add_query_or_body(args, 0, &url);
		} else if (ctype && strstr(ctype, "json")) {
			char *text = cJSON_PrintUnformatted(args);
			strbuf_addstr(&body, text);
			cJSON_free(text);
		} else {
			add_query_or_body(args, 1, &body);
			if (!ctype)
				strvec_push(&req.headers, "Content-Type: application/x-www-form-urlencoded");
		}
	}
	req.method = method;
	req.url = url.buf;
	req.body = body.len ? body.buf : NULL;
	req.body_len = body.len;
	req.no_retry = 1;
	req.timeout_ms = activity_timeout(t, 0);
	/* A 5xx is an answer here, not a transient failure: the probe is there to see it. */
	if (http_do(&r->http, &req, &res) < 0 && !res.status) {
		strbuf_addstr(why, res.error.buf);
		ret = -1;
		goto out;
	}
	redact_secrets(r->e, &res.body);
	res.body.len = utf8_cut(res.body.buf, res.body.len, OUTPUT_MAX);
	res.body.buf[res.body.len] = '\0';
	*output = cJSON_CreateObject();
	cJSON_AddNumberToObject(*output, "status", (double)res.status);
	headers = cJSON_AddObjectToObject(*output, "headers");
	for (size_t i = 0; i < res.headers.nr; i++) {
		const char *colon = strchr(res.headers.v[i], ':');
		char *name;
		if (!colon)
			continue;
		name = xstrndup(res.headers.v[i], (size_t)(colon - res.headers.v[i]));
		if (!cJSON_GetObjectItemCaseSensitive(headers, name))
			cJSON_AddStringToObject(headers, name, colon + 1 + (colon[1] == ' '));
		free(name);
	}
	cJSON_AddStringToObject(*output, "body", res.body.buf);
	/* As Chaos Toolkit: only an expected_status makes an answer a failure. */
	if (cJSON_IsNumber(expected) && res.status != (long)expected->valuedouble) {
		strbuf_addf(why, "%s %s answered %ld", method, json_string(p, "url"), res.status);
		ret = 1;
	}
out:
	http_request_release(&req);
	http_response_release(&res);
	strbuf_release(&url);
	strbuf_release(&body);
	return ret;
}

/* A fault of the run into the sre section, its outcome null until fill_outcomes(). */
static void add_fault(struct run *r, const cJSON *activity, const char *fault, const char *target,
		      const char *at, long long id)
{
	const cJSON *expect = json_get(activity, "expect");
	const char *nulls[] = { "incident", "detected_at", "diagnosed_category", "action",
				"resolved_at", "mttd_s", "mttr_s" };
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "activity", json_string(activity, "name"));
	cJSON_AddStringToObject(f, "fault", fault);
	cJSON_AddStringToObject(f, "target", target);
	cJSON_AddStringToObject(f, "injected_at", at);
	cJSON_AddNumberToObject(f, "chaos_id", (double)id);
	cJSON_AddItemToObject(f, "expect", expect ? cJSON_Duplicate(expect, 1) : cJSON_CreateNull());
	for (size_t i = 0; i < sizeof(nulls) / sizeof(*nulls); i++)
		cJSON_AddNullToObject(f, nulls[i]);
	cJSON_AddItemToArray(r->faults, f);
}

static int run_sre(struct run *r, const cJSON *activity, const cJSON *p, cJSON **output,
		   struct strbuf *why)
{
	struct chaos_options co = { 0 };
	struct strbuf report = STRBUF_INIT;
	const char *fault = json_string(p, "fault"), *target = json_string(p, "target");
	char at[64];
	long long id = 0;
	int rc;

	if (!r->o->ctx || !r->o->ctx->store) {
		strbuf_addstr(why, "the sre provider needs sre's store and configuration");
		return -1;
	}
	if (!chaos_allowed(r->o->ctx->cfg, target)) {
		strbuf_addf(why, "%s is not in chaos.allow: refused", target);
		return -1;
	}
	co.run = r->o->run;
	now_iso(at, sizeof(at), NULL);
	r->injected = 1;
	rc = chaos_inject(r->o->ctx, fault, target, json_get(p, "arguments"), &co, &id, &report);
	strbuf_rtrim(&report);
	*output = cJSON_CreateObject();
	cJSON_AddStringToObject(*output, "report", report.buf);
	if (rc) {
		strbuf_addf(why, "%s on %s was %s%s%s", fault, target, rc > 0 ? "refused" : "not injected",
			    report.len ? ": " : "", report.buf);
		strbuf_release(&report);
		return -1;
	}
	cJSON_AddNumberToObject(*output, "chaos_id", (double)id);
	add_fault(r, activity, fault, target, at, id);
	strbuf_release(&report);
	return 0;
}

/*
 * An http or process action whose expect names a target breaks that
 * service by the experiment's own means: recorded before it runs (the
 * record in place until the run's rollback), so that its incidents are
 * tagged and the loop's answer graded as for a fault of sre's. A list of
 * targets is the service it breaks, then those that call it, where its
 * incidents open too (a slow dependency is an incident of its caller's):
 * one record each, and the loop is graded on the first incident any of
 * them opened. 0, or -1 with why (refused: the action is not run).
 */
static int mark_own_fault(struct run *r, const cJSON *activity, struct strbuf *why)
{
	const cJSON *t = json_get(json_get(activity, "expect"), "target"), *each;
	const char *name = json_string_or(activity, "name", "action");
	cJSON *ids, *f;
	char at[64];

	if (!t || !json_string_is(activity, "type", "action") || r->o->dry_run)
		return 0;
	if (!r->o->ctx || !r->o->ctx->store) {
		strbuf_addstr(why, "an action that names its target needs sre's store and configuration");
		return -1;
	}
	now_iso(at, sizeof(at), NULL);
	r->injected = 1;
	ids = cJSON_CreateArray();
	cJSON_ArrayForEach(each, (cJSON_IsArray(t) ? t : NULL)) {
		long long id = chaos_mark(r->o->ctx, name, each->valuestring, r->o->run);
		if (id < 0) {
			strbuf_addf(why, "%s on %s was not recorded: refused", name, each->valuestring);
			cJSON_Delete(ids);
			return -1;
		}
		cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)id));
	}
	if (cJSON_IsString(t)) {
		long long id = chaos_mark(r->o->ctx, name, t->valuestring, r->o->run);
		if (id < 0) {
			strbuf_addf(why, "%s on %s was not recorded: refused", name, t->valuestring);
			cJSON_Delete(ids);
			return -1;
		}
		cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)id));
	}
	add_fault(r, activity, name, cJSON_IsString(t) ? t->valuestring : cJSON_GetArrayItem(t, 0)->valuestring,
		  at, (long long)cJSON_GetNumberValue(cJSON_GetArrayItem(ids, 0)));
	f = cJSON_GetArrayItem(r->faults, cJSON_GetArraySize(r->faults) - 1);
	if (cJSON_GetArraySize(ids) > 1)
		cJSON_AddItemToObject(f, "chaos_ids", ids);
	else
		cJSON_Delete(ids);
	return 0;
}

/* The words of what a provider would do, for a dry run and for the notes. */
static void describe(const cJSON *p, struct strbuf *sb)
{
	const char *type = json_string(p, "type");

	if (!strcmp(type, "http")) {
		strbuf_addf(sb, "%s %s", json_string_or(p, "method", "GET"), json_string(p, "url"));
	} else if (!strcmp(type, "process")) {
		const cJSON *args = json_get(p, "arguments"), *a;
		strbuf_addf(sb, "run %s", json_string(p, "path"));
		if (cJSON_IsString(args))
			strbuf_addf(sb, " %s", args->valuestring);
		cJSON_ArrayForEach(a, (cJSON_IsArray(args) ? args : NULL))
			if (cJSON_IsString(a))
				strbuf_addf(sb, " %s", a->valuestring);
			else
				strbuf_addf(sb, " %.15g", a->valuedouble);
		strbuf_addstr(sb, " (no shell)");
	} else {
		strbuf_addf(sb, "inject %s into %s", json_string(p, "fault"), json_string(p, "target"));
	}
}

/*
 * Run one activity (as written; a ref resolved) into a result of the
 * journal's shape. *ok: 1 when it succeeded. *output_out: its output
 * (borrowed from the result), for a tolerance.
 */
static cJSON *run_activity(struct run *r, const cJSON *written, int *ok, const cJSON **output_out)
{
	const cJSON *a = written, *pauses;
	cJSON *result = cJSON_CreateObject(), *copy, *output = NULL;
	struct strbuf why = STRBUF_INIT, what = STRBUF_INIT;
	char start[64], end[64];
	double t0, t1;
	int rc = -1;

	*ok = 0;
	if (output_out)
		*output_out = NULL;
	if (json_string(a, "ref") && !(a = find_activity(r->e, json_string(a, "ref")))) {
		a = written;
		strbuf_addf(&why, "no activity is named '%s'", json_string(written, "ref"));
	}
	pauses = json_get(a, "pauses");
	cJSON_AddItemToObject(result, "activity", cJSON_Duplicate(a, 1));
	if (pause_for(r, seconds(json_get(pauses, "before")), "before", json_string_or(a, "name", "")) < 0)
		strbuf_addstr(&why, "interrupted");
	now_iso(start, sizeof(start), &t0);
	copy = cJSON_Duplicate(json_get(a, "provider"), 1);
	if (copy && !why.len) {
		const char *type = json_string(copy, "type");
		substitute_tree(r->e, copy);
		describe(copy, &what);
		redact_secrets(r->e, &what);
		say(r, "%s%s %s: %s", r->o->dry_run ? "would " : "", json_string(a, "type"),
		    json_string(a, "name"), what.buf);
		if (r->o->dry_run)
			rc = 0;
		else if (strcmp(type, "sre") && mark_own_fault(r, a, &why) < 0)
			rc = -1;
		else if (!strcmp(type, "process"))
			rc = run_process(r, copy, &output, &why);
		else if (!strcmp(type, "http"))
			rc = run_http(r, copy, &output, &why);
		else
			rc = run_sre(r, a, copy, &output, &why);
	}
	cJSON_Delete(copy);
	now_iso(end, sizeof(end), &t1);
	/* A probe's status says it ran; its tolerance judges its value. */
	*ok = rc == 0 || (rc == 1 && json_string_is(a, "type", "probe") &&
			  json_string_is(json_get(a, "provider"), "type", "process"));
	cJSON_AddStringToObject(result, "status", *ok ? "succeeded" : "failed");
	if (output)
		redact_tree(r->e, output);
	cJSON_AddItemToObject(result, "output", output ? output : cJSON_CreateNull());
	cJSON_AddStringToObject(result, "start", start);
	cJSON_AddStringToObject(result, "end", end);
	cJSON_AddNumberToObject(result, "duration", t1 - t0);
	if (rc && why.len) {
		redact_secrets(r->e, &why);
		if (!*ok || rc < 0)
			cJSON_AddStringToObject(result, "exception", why.buf);
		if (!*ok)
			say(r, "%s %s failed: %s", json_string_or(a, "type", "activity"),
			    json_string_or(a, "name", "?"), why.buf);
	}
	if (output_out)
		*output_out = output;
	/* Cut short by a stop, which the caller sees for itself. */
	(void)pause_for(r, seconds(json_get(pauses, "after")), "after", json_string_or(a, "name", ""));
	strbuf_release(&why);
	strbuf_release(&what);
	return result;
}

/* The hypothesis once: {steady_state_met, probes}. Stops at the first miss, as Chaos Toolkit does. */
static cJSON *run_hypothesis(struct run *r, const char *when)
{
	const cJSON *h = json_get(r->e->doc, "steady-state-hypothesis"), *probe;
	cJSON *state = cJSON_CreateObject(), *probes = cJSON_CreateArray();
	int met = 1;

	say(r, "steady state %s: %s", when, json_string_or(h, "title", ""));
	cJSON_ArrayForEach(probe, json_get(h, "probes")) {
		const cJSON *resolved = json_string(probe, "ref") ? find_activity(r->e, json_string(probe, "ref")) : probe;
		const cJSON *tol = resolved ? json_get(resolved, "tolerance") : NULL, *output;
		struct strbuf why = STRBUF_INIT;
		int ok, tm = 0;
		cJSON *res = run_activity(r, probe, &ok, &output);

		if (r->o->dry_run) {
			tm = 1;
		} else if (ok && tol && json_string_is(tol, "type", "probe")) {
			int pok;
			const cJSON *tout;
			cJSON *tr = run_activity(r, tol, &pok, &tout);
			const cJSON *st = json_get(tout, "status");
			/* Succeeded: exit 0, or a 2xx unless an expected_status was met. */
			tm = pok && cJSON_IsNumber(st) &&
			     (json_string_is(json_get(tol, "provider"), "type", "process") ? st->valuedouble == 0 :
			      json_get(json_get(tol, "provider"), "expected_status") ||
			      (st->valuedouble >= 200 && st->valuedouble < 300));
			if (!tm)
				strbuf_addstr(&why, "its tolerance probe did not succeed");
			cJSON_Delete(tr);
		} else if (ok && tol) {
			tm = chaos_tolerance_met(tol, output, json_string(json_get(resolved, "provider"), "type"), &why);
			if (tm < 0) {
				cJSON_AddStringToObject(res, "exception", why.buf);
				tm = 0;
			}
		}
		cJSON_AddBoolToObject(res, "tolerance_met", tm);
		cJSON_AddItemToArray(probes, res);
		if (!tm)
			say(r, "probe %s: tolerance not met%s%s", json_string_or(resolved ? resolved : probe, "name", "?"),
			    why.len ? ": " : "", why.buf);
		strbuf_release(&why);
		if (!tm) {
			met = 0;
			break;
		}
		if (stopped(r))
			break;
	}
	cJSON_AddBoolToObject(state, "steady_state_met", met);
	cJSON_AddItemToObject(state, "probes", probes);
	return state;
}

static void platform(cJSON *journal)
{
	struct utsname u;

	if (uname(&u) < 0) {
		cJSON_AddStringToObject(journal, "platform", "unknown");
		cJSON_AddStringToObject(journal, "node", "unknown");
		return;
	}
	{
		char *p = xstrfmt("%s-%s-%s", u.sysname, u.release, u.machine);
		cJSON_AddStringToObject(journal, "platform", p);
		free(p);
	}
	cJSON_AddStringToObject(journal, "node", u.nodename);
}

/*
 * What the loop did about each fault of the run, from the store (the
 * incident tagged with it, its category, the action, when it was seen and
 * resolved): left null when nothing did yet.
 */
static void fill_outcomes(const struct engine_context *ctx, cJSON *faults)
{
	static const char *const keys[][2] = {
		{ "incident", "incident" }, { "detected_at", "detected_at" },
		{ "diagnosed_category", "category" }, { "action", "action" },
		{ "resolved_at", "resolved_at" }, { "mttd_s", "mttd_s" }, { "mttr_s", "mttr_s" },
	};
	cJSON *f;

	if (!ctx || !ctx->store)
		return;
	cJSON_ArrayForEach(f, faults) {
		const cJSON *ids = json_get(f, "chaos_ids"), *id;
		cJSON *best = NULL;

		/* One record, or several (a fault felt by callers too): the first incident any opened. */
		cJSON_ArrayForEach(id, ids) {
			cJSON *out = cJSON_CreateObject();
			const char *at;
			if (chaos_fault_outcome(ctx, (long long)cJSON_GetNumberValue(id), out) ||
			    (best && (!(at = json_string(out, "detected_at")) ||
				      (json_string(best, "detected_at") &&
				       strcmp(at, json_string(best, "detected_at")) >= 0)))) {
				cJSON_Delete(out);
				continue;
			}
			cJSON_Delete(best);
			best = out;
		}
		if (!ids && !best) {
			cJSON *out = cJSON_CreateObject();
			if (!chaos_fault_outcome(ctx, (long long)cJSON_GetNumberValue(json_get(f, "chaos_id")), out))
				best = out;
			else
				cJSON_Delete(out);
		}
		for (size_t i = 0; best && i < sizeof(keys) / sizeof(*keys); i++)
			cJSON_ReplaceItemInObject(f, keys[i][0], cJSON_Duplicate(json_get(best, keys[i][1]), 1));
		cJSON_Delete(best);
	}
}

/* --loop: sre's loop, a pass a second, until the steady state is back or the time is up. */
static void heal(struct run *r)
{
	int64_t start = monotonic_ms(), end = start + r->o->heal_timeout_ms;

	for (;;) {
		cJSON *state = run_hypothesis(r, "while the loop heals");
		int met = cJSON_IsTrue(json_get(state, "steady_state_met"));

		cJSON_Delete(state);
		if (met) {
			say(r, "healed in %llds", (long long)((monotonic_ms() - start) / 1000));
			return;
		}
		if (stopped(r) || monotonic_ms() >= end)
			break;
		r->o->heal(r->o->heal_data);
		for (int i = 0; i < 10 && !stopped(r) && monotonic_ms() < end; i++)
			sleep_ms(100);
	}
	say(r, "not healed in %llds", (long long)((monotonic_ms() - start) / 1000));
}

cJSON *chaos_experiment_run(struct chaos_experiment *e, const struct chaos_run_options *o)
{
	struct run r = { .e = e, .o = o };
	cJSON *journal = cJSON_CreateObject(), *states, *run, *rollbacks, *sre, *state;
	const char *hs = json_string(json_get(json_get(e->doc, "runtime"), "hypothesis"), "strategy");
	enum chaos_strategy rs = o->rollbacks;
	const char *status = "completed";
	int deviated = 0, failed = 0, interrupted = 0, before = 1, after = 1, during = 0, play;
	const cJSON *a;
	char start[64], end[64];
	double t0, t1;

	if (rs == CHAOS_ROLLBACK_FROM_EXPERIMENT &&
	    chaos_strategy_parse(json_string(json_get(json_get(e->doc, "runtime"), "rollbacks"), "strategy"), &rs))
		rs = CHAOS_ROLLBACK_DEFAULT;
	if (hs && !strcmp(hs, "before-method-only"))
		after = 0;
	else if (hs && !strcmp(hs, "after-method-only"))
		before = 0;
	else if (hs && !strcmp(hs, "during-method-only"))
		before = after = 0, during = 1;
	else if (hs && !strcmp(hs, "continuously"))
		during = 1;
	r.faults = cJSON_CreateArray();
	now_iso(start, sizeof(start), &t0);
	cJSON_AddStringToObject(journal, "chaoslib-version", "sre " SRE_VERSION);
	platform(journal);
	cJSON_AddItemToObject(journal, "experiment", cJSON_Duplicate(e->doc, 1));
	cJSON_AddStringToObject(journal, "start", start);
	states = cJSON_AddObjectToObject(journal, "steady_states");
	run = cJSON_AddArrayToObject(journal, "run");
	rollbacks = cJSON_AddArrayToObject(journal, "rollbacks");
	if (o->dry_run)
		cJSON_AddBoolToObject(cJSON_GetObjectItemCaseSensitive(journal, "experiment"), "dry", 1);

	if (!json_get(e->doc, "steady-state-hypothesis"))
		before = after = during = 0;
	if (before) {
		state = run_hypothesis(&r, "before");
		cJSON_AddItemToObject(states, "before", state);
		if (!cJSON_IsTrue(json_get(state, "steady_state_met"))) {
			failed = 1;
			say(&r, "steady state before not met: the method is not run");
		}
	}
	if (during)
		cJSON_AddArrayToObject(states, "during");
	cJSON_ArrayForEach(a, ((failed || stopped(&r)) ? NULL : json_get(e->doc, "method"))) {
		int ok;
		cJSON_AddItemToArray(run, run_activity(&r, a, &ok, NULL));
		if (!ok && !stopped(&r))
			failed = 1;
		if (stopped(&r))
			break;
		if (during) {
			state = run_hypothesis(&r, "during");
			if (!cJSON_IsTrue(json_get(state, "steady_state_met")))
				deviated = 1;
			cJSON_AddItemToArray(json_get(states, "during"), state);
		}
	}
	if (o->heal && !o->dry_run && !stopped(&r) &&
	    !(before && !cJSON_IsTrue(json_get(json_get(states, "before"), "steady_state_met"))))
		heal(&r);
	if (after && !stopped(&r) && !(before && !cJSON_IsTrue(json_get(json_get(states, "before"), "steady_state_met")))) {
		state = run_hypothesis(&r, "after");
		cJSON_AddItemToObject(states, "after", state);
		if (!cJSON_IsTrue(json_get(state, "steady_state_met"))) {
			deviated = 1;
			say(&r, "steady state after deviated");
		}
	}
	interrupted = stopped(&r);
	if (interrupted)
		status = "interrupted";
	else if (failed || deviated)
		status = "failed";

	play = rs == CHAOS_ROLLBACK_ALWAYS || (rs == CHAOS_ROLLBACK_DEVIATED && deviated) ||
	       (rs == CHAOS_ROLLBACK_DEFAULT && !failed && !interrupted);
	{
		/* Stop no more: a rollback is not interrupted half-way. */
		struct chaos_run_options calm = *o;
		calm.stop = NULL;
		r.o = &calm;
		r.http.cancel = NULL;
		if (play)
			say(&r, "rollbacks (strategy %s)", rollback_strategies[rs]);
		else if (json_get(e->doc, "rollbacks") && cJSON_GetArraySize(json_get(e->doc, "rollbacks")))
			say(&r, "rollbacks not played (strategy %s)", rollback_strategies[rs]);
		cJSON_ArrayForEach(a, (play ? json_get(e->doc, "rollbacks") : NULL)) {
			int ok;
			cJSON_AddItemToArray(rollbacks, run_activity(&r, a, &ok, NULL));
		}
		sre = cJSON_AddObjectToObject(journal, "sre");
		cJSON_AddStringToObject(sre, "run", o->run ? o->run : "");
		if (r.injected && !o->dry_run) {
			/* A fault of sre's stays only when the user said never. */
			int undo = rs != CHAOS_ROLLBACK_NEVER;
			struct strbuf report = STRBUF_INIT;
			if (undo) {
				int rc = chaos_rollback(o->ctx, 0, o->run, &report);
				strbuf_rtrim(&report);
				if (report.len)
					say(&r, "%s", report.buf);
				cJSON_AddStringToObject(sre, "rollback", rc < 0 ? "failed: sre chaos status" : "done");
			} else {
				say(&r, "sre's faults of this run are left in place (strategy %s): sre chaos rollback",
				    rollback_strategies[rs]);
				cJSON_AddStringToObject(sre, "rollback", "left in place");
			}
			strbuf_release(&report);
		} else {
			cJSON_AddNullToObject(sre, "rollback");
		}
		fill_outcomes(o->ctx, r.faults);
		cJSON_AddItemToObject(sre, "faults", r.faults);
		r.o = o;
	}
	now_iso(end, sizeof(end), &t1);
	cJSON_AddStringToObject(journal, "end", end);
	cJSON_AddNumberToObject(journal, "duration", t1 - t0);
	cJSON_AddStringToObject(journal, "status", status);
	cJSON_AddBoolToObject(journal, "deviated", deviated);
	if (r.http_ready)
		http_client_release(&r.http);
	return journal;
}

int chaos_experiment_wait_steady(struct chaos_experiment *e, const struct chaos_run_options *o,
				 int64_t timeout_ms, int64_t *waited_ms)
{
	struct run r = { .e = e, .o = o };
	int64_t start = monotonic_ms(), end = start + timeout_ms;
	int met = 0;

	*waited_ms = 0;
	if (!json_get(e->doc, "steady-state-hypothesis"))
		return 1;
	while (!met && !stopped(&r)) {
		cJSON *state = run_hypothesis(&r, "again");
		met = cJSON_IsTrue(json_get(state, "steady_state_met"));
		cJSON_Delete(state);
		if (met || monotonic_ms() >= end)
			break;
		/* A probe a second: the loop has time to act, the system time to answer. */
		for (int i = 0; i < 10 && !stopped(&r) && monotonic_ms() < end; i++)
			sleep_ms(100);
	}
	*waited_ms = monotonic_ms() - start;
	if (r.http_ready)
		http_client_release(&r.http);
	return met;
}

int chaos_journal_write(const char *path, const cJSON *journal)
{
	char *text = cJSON_Print(journal);
	char *tmp = xstrfmt("%s.tmp-%ld", path, (long)getpid());
	size_t len = strlen(text), off = 0;
	int fd, ret = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = error_errno("cannot write the journal %s", tmp);
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = error_errno("cannot write the journal %s", tmp);
			break;
		}
		off += (size_t)n;
	}
	if (!ret && (write(fd, "\n", 1) != 1 || fsync(fd) < 0))
		ret = error_errno("cannot write the journal %s", tmp);
	if (close(fd) < 0 && !ret)
		ret = error_errno("cannot write the journal %s", tmp);
	if (!ret && rename(tmp, path) < 0)
		ret = error_errno("cannot write the journal %s", path);
	if (ret)
		unlink(tmp);
out:
	free(tmp);
	cJSON_free(text);
	return ret;
}
