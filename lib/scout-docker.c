/*
 * scout-docker.c: the Docker source of `sre scout`. It reads the containers of
 * one Docker Engine (docker.host: its UNIX socket, or tcp://host:port as
 * plain HTTP) through the Engine API (docker.api-version, default 1.47)
 * and judges each: exited with an error, killed for memory, failing its
 * health check, or restarting too often.
 *
 * Two steps, each one round: GET /containers/json?all=true lists every
 * container, then GET /containers/<id>/json inspects, all at once through
 * http_do_many(), each container the list cannot clear by itself. The
 * list carries neither RestartCount nor the health check's output, so a
 * running container is always inspected; what the list alone clears is a
 * container created or paused, or one that exited with code 0. Findings
 * are appended only once every inspection has answered: a container left
 * unjudged would look healthy and resolve its incident.
 *
 * Keys read: docker.host, docker.api-version, docker.ignore (names or
 * shell patterns, separated by commas or blanks, on one or many lines),
 * scout.docker, scout.max-restarts. How the Engine is reached, asked and
 * its failures told is the client's, lib/docker.c: this file is what
 * scout makes of the answers (the findings).
 */
#include <ctype.h>
#include <fnmatch.h>

#include "docker.h"
#include "scout.h"
#include "strbuf.h"

/* Inspections in flight at once: enough for any host, gentle on dockerd. */
#define DOCKER_PARALLEL 32
/* The longest health-check line kept in a summary, in bytes. */
#define DOCKER_HEALTH_LINE_MAX 200

struct docker_settings {
	struct docker_engine engine;
	long long max_restarts;
	struct strvec ignore;
};

/* What the list says of one container; strings borrowed from the list. */
struct container {
	const char *id, *name, *image, *state, *service;
};

int docker_configured(const struct config *cfg)
{
	const struct config_entry *e;
	int on;

	if (config_get_string(cfg, "docker.host"))
		return 1;
	e = config_get_entry(cfg, "scout.docker");
	if (!e)
		return 0;
	/* A bad value runs the source, whose error says what is wrong. */
	return config_parse_bool(e->value, &on) < 0 || on;
}

static void settings_release(struct docker_settings *s)
{
	docker_engine_release(&s->engine);
	strvec_clear(&s->ignore);
}

/* Every docker.ignore item, split on commas and blanks, without a leading "/". */
static void read_ignore(const struct config *cfg, struct strvec *out)
{
	struct strvec items = STRVEC_INIT;

	config_list(cfg, "docker.ignore", ", \t", &items);
	for (size_t i = 0; i < items.nr; i++)
		strvec_push(out, items.v[i][0] == '/' ? items.v[i] + 1 : items.v[i]);
	strvec_clear(&items);
}

static int read_settings(const struct config *cfg, struct docker_settings *s,
			 struct strbuf *err)
{
	memset(s, 0, sizeof(*s));
	strvec_init(&s->ignore);
	if (docker_engine_read(cfg, &s->engine, err) < 0)
		return -1;
	if (scout_max_restarts(cfg, &s->max_restarts) < 0) {
		strbuf_addf(err, "docker: bad numeric value '%s' for scout.max-restarts",
			    config_get_string(cfg, "scout.max-restarts"));
		return -1;
	}
	read_ignore(cfg, &s->ignore);
	return 0;
}

static int is_ignored(const struct docker_settings *s, const char *name)
{
	for (size_t i = 0; i < s->ignore.nr; i++)
		if (!fnmatch(s->ignore.v[i], name, 0))
			return 1;
	return 0;
}

/*
 * Does the list leave something to look at? Running containers hide
 * their restart count and health output; an exit code other than 0, a
 * restart or a dead container are what we are here for.
 */
static int needs_inspect(const char *state, const char *status)
{
	if (!strcmp(state, "created") || !strcmp(state, "paused") || !strcmp(state, "removing"))
		return 0;
	if (!strcmp(state, "exited"))
		return !status || !starts_with(status, "Exited (0)");
	return 1;
}

/*
 * The last health check's output as one line: its last non-blank line
 * (curl's progress meter comes first, its error last), blanks trimmed,
 * control characters made spaces, cut at a character boundary.
 */
static void health_line(struct strbuf *out, const char *output)
{
	const char *start = NULL, *end = NULL;
	size_t n;

	while (*output) {
		size_t len = strcspn(output, "\r\n");
		const char *b = output, *e = output + len;

		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		if (e > b) {
			start = b;
			end = e;
		}
		output += len;
		output += strspn(output, "\r\n");
	}
	if (!start)
		return;
	n = utf8_cut(start, (size_t)(end - start), DOCKER_HEALTH_LINE_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)start[i];
		strbuf_addch(out, ch < 0x20 || ch == 0x7f ? ' ' : ch);
	}
	if (n < (size_t)(end - start))
		strbuf_addstr(out, "...");
}

static cJSON *evidence(const struct container *c, const cJSON *state, long long restarts,
		       const char *health)
{
	cJSON *ev = cJSON_CreateObject();
	const char *status = json_string(state, "Status");

	cJSON_AddStringToObject(ev, "id", c->id);
	cJSON_AddStringToObject(ev, "name", c->name);
	cJSON_AddStringToObject(ev, "image", c->image ? c->image : "");
	cJSON_AddStringToObject(ev, "state", status ? status : c->state);
	cJSON_AddNumberToObject(ev, "exit_code", (double)json_int(state, "ExitCode"));
	cJSON_AddBoolToObject(ev, "oom_killed", json_bool(state, "OOMKilled"));
	cJSON_AddNumberToObject(ev, "restart_count", (double)restarts);
	if (health)
		cJSON_AddStringToObject(ev, "health", health);
	else
		cJSON_AddNullToObject(ev, "health");
	return ev;
}

static struct finding *add(struct findings *out, const struct container *c, const char *signal,
			   enum incident_severity severity, cJSON *ev)
{
	char *check = xstrfmt("container/%s", c->name);
	struct finding *f = finding_add(out, "docker", check, c->service, signal);

	free(check);
	f->failing = 1;
	f->severity = severity;
	f->evidence = ev;
	return f;
}

/* Judge one inspected container: zero or more failing findings; -1 when
 * the answer is no container at all. */
static int judge(const struct docker_settings *s, const struct container *c,
		  const cJSON *inspect, struct findings *out)
{
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(inspect, "State");
	const cJSON *health = cJSON_GetObjectItemCaseSensitive(state, "Health");
	const char *status = json_string(state, "Status");
	const char *health_status = json_string(health, "Status");
	long long code = json_int(state, "ExitCode");
	long long restarts = json_int(inspect, "RestartCount");
	int oom = json_bool(state, "OOMKilled");
	struct finding *f;

	if (!cJSON_IsObject(state))
		return -1;
	if (status && !strcmp(status, "exited") && code) {
		f = add(out, c, "exited", code == 137 && oom ? SEVERITY_HIGH : SEVERITY_MEDIUM,
			evidence(c, state, restarts, health_status));
		finding_summary(f, "container %s exited with code %lld%s", c->name, code,
				oom ? " (OOMKilled)" : "");
	}
	/*
	 * dockerd keeps OOMKilled from the last exit while the container
	 * runs again (20.10 does, after a restart by hand or by its policy):
	 * it is news only while the container is down. One that keeps being
	 * killed and restarted shows in its restart count below.
	 */
	if (oom && !json_bool(state, "Running")) {
		f = add(out, c, "oomkilled", SEVERITY_HIGH,
			evidence(c, state, restarts, health_status));
		finding_summary(f, "container %s was killed for running out of memory (exit code %lld)",
				c->name, code);
	}
	if (health_status && !strcmp(health_status, "unhealthy")) {
		const cJSON *log = cJSON_GetObjectItemCaseSensitive(health, "Log");
		const cJSON *latest = cJSON_GetArrayItem(log, cJSON_GetArraySize(log) - 1);
		const char *output = json_string(latest, "Output");
		struct strbuf line = STRBUF_INIT;
		cJSON *ev = evidence(c, state, restarts, health_status);

		if (output)
			health_line(&line, output);
		cJSON_AddNumberToObject(ev, "failing_streak",
					(double)json_int(health, "FailingStreak"));
		cJSON_AddStringToObject(ev, "health_output", line.buf);
		f = add(out, c, "unhealthy", SEVERITY_HIGH, ev);
		if (line.len)
			finding_summary(f, "container %s is unhealthy: %s", c->name, line.buf);
		else
			finding_summary(f, "container %s is unhealthy (%lld failed checks in a row)",
					c->name, json_int(health, "FailingStreak"));
		strbuf_release(&line);
	}
	if (json_bool(state, "Restarting") || restarts > s->max_restarts) {
		f = add(out, c, "restarting", SEVERITY_MEDIUM,
			evidence(c, state, restarts, health_status));
		if (json_bool(state, "Restarting"))
			finding_summary(f, "container %s is restarting (exit code %lld, %lld restart%s)",
					c->name, code, restarts, restarts == 1 ? "" : "s");
		else
			finding_summary(f, "container %s has restarted %lld times (scout.max-restarts is %lld)",
					c->name, restarts, s->max_restarts);
	}
	return 0;
}

int docker_collect(const struct config *cfg, struct http_client *http,
		   struct findings *out, struct strbuf *err)
{
	struct findings found = FINDINGS_INIT;
	struct docker_settings s;
	struct http_batch listing = HTTP_BATCH_INIT, rs = HTTP_BATCH_INIT;
	const struct http_response *list_res, *res;
	struct container *cs = NULL;
	cJSON *list = NULL, *item;
	size_t n = 0, alloc = 0;
	int ret = -1;

	if (read_settings(cfg, &s, err) < 0 || docker_engine_negotiate(http, &s.engine, err) < 0) {
		settings_release(&s);
		return -1;
	}
	docker_queue_list(&listing, &s.engine, "true");
	list_res = &listing.res[0];
	if (http_do(http, &listing.req[0], &listing.res[0]) < 0 || list_res->status != 200) {
		docker_engine_explain(err, &s.engine, NULL, list_res);
		goto out;
	}
	list = cJSON_ParseWithLength(list_res->body.buf, list_res->body.len);
	if (!cJSON_IsArray(list)) {
		strbuf_addf(err, "docker: %s: the container list is not a JSON array",
			    s.engine.host);
		goto out;
	}

	cJSON_ArrayForEach(item, list) {
		struct container c;
		const cJSON *labels = cJSON_GetObjectItemCaseSensitive(item, "Labels");

		c.id = json_string(item, "Id");
		c.name = docker_container_name(item);
		c.image = json_string(item, "Image");
		c.state = json_string(item, "State");
		c.service = json_string(labels, "com.docker.compose.service");
		if (!c.id || !*c.id || !c.name || !*c.name || !c.state)
			continue;
		if (!c.service || !*c.service)
			c.service = c.name;
		if (is_ignored(&s, c.name) ||
		    !needs_inspect(c.state, json_string(item, "Status")))
			continue;
		ALLOC_GROW(cs, n + 1, alloc);
		cs[n++] = c;
	}

	for (size_t i = 0; i < n; i++)
		docker_queue_inspect(&rs, &s.engine, cs[i].id);
	if (n)
		http_do_many(http, rs.req, rs.res, n, DOCKER_PARALLEL);
	res = rs.res;
	/* Every container judged, or none: see the top of the file. */
	for (size_t i = 0; i < n; i++) {
		if (res[i].outcome != HTTP_OK || (res[i].status != 200 && res[i].status != 404)) {
			char *what = xstrfmt("inspecting %s", cs[i].name);

			docker_engine_explain(err, &s.engine, what, &res[i]);
			free(what);
			goto out;
		}
	}
	ret = 0;
	for (size_t i = 0; i < n && !ret; i++) {
		cJSON *inspect;

		if (res[i].status == 404)
			continue; /* removed since the list: nothing left to judge */
		inspect = cJSON_ParseWithLength(res[i].body.buf, res[i].body.len);
		if (judge(&s, &cs[i], inspect, &found) < 0) {
			strbuf_addf(err, "docker: %s: inspecting %s: the answer is not a container",
				    s.engine.host, cs[i].name);
			ret = -1;
		}
		cJSON_Delete(inspect);
	}
	/* Handed over whole, so that a failure appends nothing. */
	for (size_t i = 0; i < found.nr && !ret; i++) {
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr++] = found.v[i];
	}
	if (!ret)
		found.nr = 0;
out:
	http_batch_release(&rs);
	http_batch_release(&listing);
	free(cs);
	findings_clear(&found);
	cJSON_Delete(list);
	settings_release(&s);
	return ret;
}
