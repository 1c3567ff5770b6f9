/*
 * runtime.c: what the runtimes (lib/runtime-*.c) share: how a failure
 * becomes a line of out, and how a step reads the record an earlier step
 * (perhaps of a run that was cut off) wrote. See runtime.h.
 */
#include <stdarg.h>

#include "runtime.h"
#include "scout.h"

int runtime_fail(struct http_client *http, struct strbuf *out, struct strbuf *line)
{
	if (http)
		http_redact(http, line);
	strbuf_addstr(out, line->buf);
	strbuf_release(line);
	return -1;
}

int runtime_failf(struct strbuf *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(out, fmt, ap);
	va_end(ap);
	return -1;
}

int runtime_json_whole(const cJSON *v, long long *out)
{
	/* Past 2^53 a double holds no exact whole number, and may not fit at all. */
	if (cJSON_IsNumber(v))
		return json_to_ll(v, -JSON_INT_MAX, JSON_INT_MAX, out);
	if (cJSON_IsString(v))
		return parse_ll(v->valuestring, out);
	return -1;
}

const char *runtime_record_string(const cJSON *record, const char *key, const char *action,
				  struct strbuf *out)
{
	const char *v = scout_json_nonempty(record, key);

	if (!v)
		strbuf_addf(out, "%s: the action's record has no \"%s\"", action, key);
	return v;
}

int runtime_record_whole(const cJSON *record, const char *key, const char *action,
			 long long *v, struct strbuf *out)
{
	if (runtime_json_whole(cJSON_GetObjectItemCaseSensitive(record, key), v) < 0)
		return runtime_failf(out, "%s: the action's record has no \"%s\"", action, key);
	return 0;
}
