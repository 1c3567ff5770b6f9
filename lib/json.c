/*
 * json.c: the typed getters over cJSON; see json.h.
 */
#include <math.h>

#include "json.h"
#include "util.h"

cJSON *json_get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

const cJSON *json_object(const cJSON *obj, const char *key)
{
	const cJSON *v = json_get(obj, key);

	return cJSON_IsObject(v) ? v : NULL;
}

const cJSON *json_array(const cJSON *obj, const char *key)
{
	const cJSON *v = json_get(obj, key);

	return cJSON_IsArray(v) ? v : NULL;
}

const cJSON *json_path(const cJSON *obj, const char *path)
{
	while (obj && *path) {
		const char *dot = strchrnul(path, '.');
		char *name = xstrndup(path, (size_t)(dot - path));

		obj = cJSON_IsObject(obj) ? json_get(obj, name) : NULL;
		free(name);
		path = *dot ? dot + 1 : dot;
	}
	return obj;
}

const char *json_string(const cJSON *obj, const char *key)
{
	return cJSON_GetStringValue(json_get(obj, key));
}

const char *json_nonempty(const cJSON *obj, const char *key)
{
	const char *v = json_string(obj, key);

	return v && *v ? v : NULL;
}

const char *json_string_or(const cJSON *obj, const char *key, const char *fallback)
{
	const char *v = json_string(obj, key);

	return v ? v : fallback;
}

const char *json_path_string(const cJSON *obj, const char *path)
{
	return cJSON_GetStringValue(json_path(obj, path));
}

int json_string_is(const cJSON *obj, const char *key, const char *want)
{
	const char *v = json_string(obj, key);

	return v && !strcmp(v, want);
}

char *json_text(const cJSON *obj, const char *key)
{
	const char *v = json_string(obj, key);

	return v ? xstrdup(v) : NULL;
}

int double_to_ll(double d, long long min, long long max, long long *out)
{
	/*
	 * Compared as doubles first (a NaN fails both), and never at the
	 * edges of long long, whose bounds a double does not hold exactly.
	 */
	if (!isfinite(d) || d < -9.2e18 || d > 9.2e18)
		return -1;
	d = trunc(d);
	if ((long long)d < min || (long long)d > max)
		return -1;
	*out = (long long)d;
	return 0;
}

int json_to_ll(const struct cJSON *v, long long min, long long max, long long *out)
{
	long long n;

	if (!cJSON_IsNumber(v) || double_to_ll(v->valuedouble, min, max, &n) < 0 ||
	    (double)n != v->valuedouble)
		return -1;
	*out = n;
	return 0;
}

int json_ll(const cJSON *obj, const char *key, long long min, long long max, long long *out)
{
	return json_to_ll(json_get(obj, key), min, max, out);
}

long long json_int(const cJSON *obj, const char *key)
{
	long long n;

	/* A count, a code or a size: anything past 2^53, or not whole, is 0. */
	return json_ll(obj, key, -JSON_INT_MAX, JSON_INT_MAX, &n) < 0 ? 0 : n;
}

int json_bool(const cJSON *obj, const char *key)
{
	return cJSON_IsTrue(json_get(obj, key));
}

cJSON *json_copy(const cJSON *obj)
{
	return obj ? cJSON_Duplicate(obj, 1) : cJSON_CreateObject();
}

void json_add_string_or_null(cJSON *obj, const char *key, const char *s)
{
	if (s)
		cJSON_AddStringToObject(obj, key, s);
	else
		cJSON_AddNullToObject(obj, key);
}

void json_add_lines(cJSON *obj, const char *key, const char *text)
{
	cJSON *arr = cJSON_AddArrayToObject(obj, key);

	for (const char *p = text; p && *p;) {
		size_t len = strcspn(p, "\n");
		char *line = xstrndup(p, len);
		cJSON_AddItemToArray(arr, cJSON_CreateString(line));
		free(line);
		p += len + (p[len] == '\n');
	}
}

void json_add_quote(cJSON *arr, const char *source, const char *summary)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "source", source);
	cJSON_AddStringToObject(e, "summary", summary);
	cJSON_AddItemToArray(arr, e);
}
