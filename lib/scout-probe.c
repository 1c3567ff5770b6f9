/*
 * scout-probe.c: the sources sre scout reads on this machine or by plain HTTP:
 * HTTP checks ([check "<name>"] with a url) and processes ([service
 * "<name>"] with runtime = process and a pidfile). See scout.h.
 *
 * All HTTP checks run at once through http_do_many(), so a thousand
 * checks take about as long as the slowest one (bench/bench-scout.c), and
 * none is retried: one failed run is what scout.fail-after is for.
 */
#include <errno.h>
#include <regex.h>
#include <signal.h>

#include "run-command.h"
#include "scout.h"
#include "strbuf.h"
#include "timeutil.h"

#define MAX_CHECK_BODY (1 << 20)

int http_checks_configured(const struct config *cfg)
{
	return config_any_key(cfg, "check", "url");
}

/* Is status one of expect: "2xx" (the default), "200", "200,204,3xx"? */
static int status_expected(long status, const char *expect)
{
	char code[8];

	snprintf(code, sizeof(code), "%03ld", status < 0 ? 0 : status % 1000);
	if (!expect || !*expect)
		expect = "2xx";
	for (const char *p = expect; *p;) {
		size_t n = strcspn(p, ", ");
		if (n == 3) {
			int match = 1;
			for (int i = 0; i < 3; i++)
				if (p[i] != 'x' && p[i] != 'X' && p[i] != code[i])
					match = 0;
			if (match)
				return 1;
		}
		p += n;
		p += strspn(p, ", ");
	}
	return 0;
}

/* body-match: a substring, or /an extended regex/ between slashes. */
static int body_matches(const char *body, const char *pattern, int *bad)
{
	size_t n = strlen(pattern);
	regex_t re;
	int ok;

	*bad = 0;
	if (n < 2 || pattern[0] != '/' || pattern[n - 1] != '/')
		return strstr(body, pattern) != NULL;
	{
		char *expr = xstrndup(pattern + 1, n - 2);
		int rc = regcomp(&re, expr, REG_EXTENDED | REG_NOSUB);
		free(expr);
		if (rc) {
			*bad = 1;
			return 0;
		}
	}
	ok = !regexec(&re, body, 0, NULL, 0);
	regfree(&re);
	return ok;
}

struct http_check {
	const char *name;
	const char *url;
	const char *service;
	const char *expect;
	const char *body_match;
	int64_t max_latency_ms;
};

int http_checks_collect(const struct config *cfg, struct http_client *http,
			struct findings *out, struct strbuf *err)
{
	struct strvec names = STRVEC_INIT, labels = STRVEC_INIT;
	struct strbuf key = STRBUF_INIT;
	struct http_check *checks;
	struct http_request *reqs;
	struct http_response *res;
	size_t n = 0;
	int retries = http->retries;
	size_t max_body = http->max_body;

	config_subsections(cfg, "check", &names);
	checks = xcalloc(names.nr ? names.nr : 1, sizeof(*checks));
	reqs = xcalloc(names.nr ? names.nr : 1, sizeof(*reqs));
	res = xcalloc(names.nr ? names.nr : 1, sizeof(*res));
	for (size_t i = 0; i < names.nr; i++) {
		const char *name = names.v[i], *method;
		struct http_check *c = &checks[n];
		struct http_request *r = &reqs[n];
		int64_t ms;

		c->url = config_get_string(cfg, config_key_of(&key, "check", name, "url"));
		if (!c->url)
			continue; /* a Prometheus check, not an HTTP one */
		c->name = name;
		c->service = config_get_string(cfg, config_key_of(&key, "check", name, "service"));
		if (!c->service || !*c->service)
			c->service = name;
		c->expect = config_get_string(cfg, config_key_of(&key, "check", name, "expect-status"));
		c->body_match = config_get_string(cfg, config_key_of(&key, "check", name, "body-match"));
		if (config_get_duration_ms(cfg, config_key_of(&key, "check", name, "max-latency"), &ms) == 0)
			c->max_latency_ms = ms;
		strvec_init(&r->headers);
		method = config_get_string(cfg, config_key_of(&key, "check", name, "method"));
		r->method = method && *method ? method : "GET";
		r->url = c->url;
		strvec_pushf(&labels, "check %s", name);
		r->label = labels.v[labels.nr - 1];
		r->timeout_ms = 10000;
		if (config_get_duration_ms(cfg, config_key_of(&key, "check", name, "timeout"), &ms) == 0)
			r->timeout_ms = ms;
		res[n] = (struct http_response)HTTP_RESPONSE_INIT;
		n++;
	}
	/* A check is judged on its first answer: no retries, a bounded body. */
	http->retries = 0;
	if (http->max_body > MAX_CHECK_BODY)
		http->max_body = MAX_CHECK_BODY;
	http_do_many(http, reqs, res, n, 0);
	http->retries = retries;
	http->max_body = max_body;

	for (size_t i = 0; i < n; i++) {
		const struct http_check *c = &checks[i];
		const struct http_response *r = &res[i];
		struct finding *f = finding_add(out, "http", c->name, c->service, "down");
		int bad_regex = 0;

		/* A bad severity keeps the default. */
		f->severity = SEVERITY_HIGH;
		scout_severity(cfg, "http", "check", c->name, &f->severity, NULL);
		f->evidence = cJSON_CreateObject();
		cJSON_AddStringToObject(f->evidence, "url", c->url);
		/* A 5xx is an answer here, not an outage of the HTTP layer. */
		if (r->outcome != HTTP_OK && !r->status) {
			f->failing = 1;
			finding_summary(f, "%s is unreachable: %s", c->name, r->error.buf);
			cJSON_AddStringToObject(f->evidence, "error", r->error.buf);
			continue;
		}
		cJSON_AddNumberToObject(f->evidence, "status", (double)r->status);
		cJSON_AddNumberToObject(f->evidence, "latency_ms", (double)r->elapsed_ms);
		if (!status_expected(r->status, c->expect)) {
			f->failing = 1;
			finding_summary(f, "%s returned %ld, expected %s", c->name, r->status,
					c->expect ? c->expect : "2xx");
		} else if (c->body_match && !body_matches(r->body.buf, c->body_match, &bad_regex)) {
			f->failing = 1;
			if (bad_regex)
				scout_error_line(err, "http: check %s: body-match is not a valid "
						 "regular expression", c->name);
			finding_summary(f, "%s answered %ld without \"%s\" in its body", c->name,
					r->status, c->body_match);
		} else {
			finding_summary(f, "%s answered %ld in %lld ms", c->name, r->status,
					(long long)r->elapsed_ms);
		}
		/* Latency is judged only when the check is up. */
		if (!f->failing && c->max_latency_ms) {
			struct finding *l = finding_add(out, "http", c->name, c->service, "latency");
			l->severity = SEVERITY_MEDIUM;
			scout_severity(cfg, "http", "check", c->name, &l->severity, NULL);
			l->failing = r->elapsed_ms > c->max_latency_ms;
			finding_summary(l, "%s took %lld ms (limit %lld ms)", c->name,
					(long long)r->elapsed_ms, (long long)c->max_latency_ms);
			l->evidence = cJSON_CreateObject();
			cJSON_AddStringToObject(l->evidence, "url", c->url);
			cJSON_AddNumberToObject(l->evidence, "latency_ms", (double)r->elapsed_ms);
			cJSON_AddNumberToObject(l->evidence, "limit_ms", (double)c->max_latency_ms);
		}
	}
	for (size_t i = 0; i < n; i++) {
		http_request_release(&reqs[i]);
		http_response_release(&res[i]);
	}
	free(checks);
	free(reqs);
	free(res);
	strvec_clear(&names);
	strvec_clear(&labels);
	strbuf_release(&key);
	return 0;
}

/* ---- processes ---- */

static int is_process_service(const struct config *cfg, const char *name, struct strbuf *key)
{
	const char *runtime = config_get_string(cfg, config_key_of(key, "service", name, "runtime"));
	return runtime && !strcmp(runtime, "process") &&
	       config_get_string(cfg, config_key_of(key, "service", name, "pidfile"));
}

int process_configured(const struct config *cfg)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf key = STRBUF_INIT;
	int found = 0;

	config_subsections(cfg, "service", &names);
	for (size_t i = 0; i < names.nr && !found; i++)
		found = is_process_service(cfg, names.v[i], &key);
	strvec_clear(&names);
	strbuf_release(&key);
	return found;
}

int process_collect(const struct config *cfg, struct http_client *http,
		    struct findings *out, struct strbuf *err)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf key = STRBUF_INIT, pidtext = STRBUF_INIT;

	(void)http;
	(void)err;
	config_subsections(cfg, "service", &names);
	for (size_t i = 0; i < names.nr; i++) {
		const char *name = names.v[i];
		struct finding *f;
		char *pidfile = NULL;
		long long pid = 0;

		if (!is_process_service(cfg, name, &key))
			continue;
		/* The path comes from the configuration, never from a finding. */
		if (config_get_path(cfg, config_key_of(&key, "service", name, "pidfile"), &pidfile))
			continue;
		f = finding_add(out, "process", name, name, "gone");
		f->severity = SEVERITY_HIGH;
		scout_severity(cfg, "process", "service", name, &f->severity, NULL);
		f->evidence = cJSON_CreateObject();
		cJSON_AddStringToObject(f->evidence, "pidfile", pidfile);
		strbuf_reset(&pidtext);
		/* Never a FIFO: it would hold scout, and cron's next run behind it. */
		if (strbuf_read_regular_file(&pidtext, pidfile, 64) < 0) {
			f->failing = 1;
			finding_summary(f, "%s is not running: cannot read %s: %s", name, pidfile,
					errno == ENODEV ? "not a regular file" : strerror(errno));
		} else {
			strbuf_trim(&pidtext);
			if (parse_ll(pidtext.buf, &pid) < 0 || pid <= 0) {
				f->failing = 1;
				finding_summary(f, "%s is not running: %s holds no process id", name, pidfile);
			} else if (!process_alive(pid)) {
				f->failing = 1;
				finding_summary(f, "%s is not running: process %lld (from %s) is gone",
						name, pid, pidfile);
			} else {
				finding_summary(f, "%s is running as process %lld", name, pid);
			}
			cJSON_AddNumberToObject(f->evidence, "pid", (double)pid);
		}
		free(pidfile);
	}
	strvec_clear(&names);
	strbuf_release(&key);
	strbuf_release(&pidtext);
	return 0;
}
