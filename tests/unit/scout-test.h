/*
 * scout-test.h: what the unit tests of the scout sources (test-jaeger.c,
 * test-prometheus.c, test-docker.c, test-kubernetes.c) share, beside
 * fake.h: loading a configuration from text, running a source once,
 * finding a finding by its fingerprint and reading its evidence, reading
 * a query parameter from a request in a fake's log, a port where nothing
 * listens, and the files and data a test hands to its fake.
 *
 *   static void collect(void)
 *   {
 *       ret = collect_source(jaeger_collect, &cfg, NULL, &found, &err);
 *   }
 *   ...
 *   set_source_config(&cfg, "jaeger", jaeger.url, "[service \"a\"]\n...");
 *   collect();
 *   f = expect_finding(&found, "jaeger/a/error-rate");
 *   ok(f && f->failing, "...");
 */
#ifndef SRE_SCOUT_TEST_H
#define SRE_SCOUT_TEST_H

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../../lib/scout.h"
#include "fake.h"

/* ---- configuration ---- */

/* Replace *cfg with text (git-config syntax), saying so when it does not parse. */
static inline void set_config_text(struct config *cfg, const char *text)
{
	config_clear(cfg);
	if (config_read_buffer(cfg, text, strlen(text), "test", CONFIG_SCOPE_COMMAND) < 0) {
		printf("# the test's config does not parse:\n");
		diag_text("config", text);
	}
}

/* Replace *cfg with quick HTTP retries, <section>.url = url, then text. */
static inline void set_source_config(struct config *cfg, const char *section, const char *url,
				     const char *text)
{
	char *all = xstrfmt("[http]\n\tretries = 1\n\tretry-base = 10ms\n"
			    "[%s]\n\turl = %s\n%s", section, url, text);

	set_config_text(cfg, all);
	free(all);
}

/* ---- running a source ---- */

typedef int (*source_collect_fn)(const struct config *cfg, struct http_client *http,
				 struct findings *out, struct strbuf *err);

/*
 * Run a source once, as `sre scout` does, into out and err (both emptied
 * first): its return. With http NULL, a client set up from cfg's http.*
 * keys for this run alone (-2 when that fails).
 */
static inline int collect_source(source_collect_fn collect, const struct config *cfg,
				 struct http_client *http, struct findings *out,
				 struct strbuf *err)
{
	struct http_client own;
	int ret;

	findings_clear(out);
	strbuf_reset(err);
	if (http)
		return collect(cfg, http, out, err);
	if (http_client_init(&own, cfg) < 0)
		return -2;
	ret = collect(cfg, &own, out, err);
	http_client_release(&own);
	return ret;
}

/* ---- findings ---- */

/* The finding with this fingerprint, or NULL. */
static inline struct finding *lookup_finding(struct findings *fs, const char *fingerprint)
{
	for (size_t i = 0; i < fs->nr; i++)
		if (!strcmp(fs->v[i].fingerprint, fingerprint))
			return &fs->v[i];
	return NULL;
}

/* The finding expected, or NULL after showing what there was instead. */
static inline struct finding *expect_finding(struct findings *fs, const char *fingerprint)
{
	struct finding *f = lookup_finding(fs, fingerprint);

	if (f)
		return f;
	printf("# no finding %s among %zu:\n", fingerprint, fs->nr);
	for (size_t i = 0; i < fs->nr; i++)
		printf("#   %s: %s\n", fs->v[i].fingerprint,
		       fs->v[i].summary ? fs->v[i].summary : "(no summary)");
	return NULL;
}

/* The number name of f's evidence, or -1 (f NULL, no such number). */
static inline double evidence_number(const struct finding *f, const char *name)
{
	const cJSON *v = f ? cJSON_GetObjectItemCaseSensitive(f->evidence, name) : NULL;

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* The string name of f's evidence, or NULL. Borrowed. */
static inline const char *evidence_string(const struct finding *f, const char *name)
{
	return f ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f->evidence, name)) : NULL;
}

/* ---- requests in a fake's log ---- */

static inline int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* A parameter of a raw query string, decoded; the caller frees; NULL if absent. */
static inline char *query_param(const char *raw, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = raw; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		struct strbuf sb = STRBUF_INIT;
		const char *end = strchrnul(p, '&');

		if (strncmp(p, name, n) || p[n] != '=')
			continue;
		for (p += n + 1; p < end; p++) {
			if (*p == '%' && p + 2 < end + 1 && isxdigit((unsigned char)p[1]) &&
			    isxdigit((unsigned char)p[2])) {
				strbuf_addch(&sb, hexval(p[1]) * 16 + hexval(p[2]));
				p += 2;
			} else {
				strbuf_addch(&sb, *p == '+' ? ' ' : *p);
			}
		}
		return strbuf_detach(&sb, NULL);
	}
	return NULL;
}

/* A parameter of a logged request's query string, decoded; the caller frees; NULL if absent. */
static inline char *request_param(const cJSON *request, const char *name)
{
	return query_param(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(request, "query")),
			   name);
}

/* ---- the test's side of its fake ---- */

/* A port on 127.0.0.1 where nothing listens. */
static inline int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* Write text to a file in the scratch directory; its path, for the caller to free. */
static inline char *write_file(const char *name, const char *text)
{
	char *path = tmp_path(name);
	FILE *fp = fopen(path, "w");

	if (!fp || fputs(text, fp) == EOF || fclose(fp)) {
		printf("# cannot write %s\n", path);
		abort();
	}
	return path;
}

/* Replace what a TCP fake serves: POST /_fake/set, saying so when it is refused. */
static inline void set_fake_data(const struct fake *f, const char *json)
{
	long status = fake_call(f, "POST", "/_fake/set", json, NULL);

	if (status != 200)
		printf("# /_fake/set answered %ld\n", status);
}

#endif
