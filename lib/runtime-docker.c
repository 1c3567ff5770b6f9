/*
 * runtime-docker.c: the docker runtime of `sre fix` (runtime.h).
 *
 *   restart   POST /containers/<id>/restart?t=10; took effect when
 *             State.StartedAt is later than the record's and it runs
 *
 * The container is the service's (service.<name>.container, default the
 * service's name); once prepared it is known by its id, so that a
 * container made anew under the same name is not taken for the one
 * restarted. Every request is the Engine client's (lib/docker.c).
 */
#include <time.h>

#include "docker.h"
#include "runtime.h"
#include "scout.h"
#include "timeutil.h"

#define DOCKER_STOP_WAIT 10          /* ?t=: seconds before dockerd kills the container */

/* An RFC 3339 time to the nanosecond (dockerd writes RFC3339Nano); 0 or -1. */
static int parse_time_ns(const char *s, time_t *sec, long *ns)
{
	const char *dot = s ? strchr(s, '.') : NULL;

	if (!s || parse_rfc3339(s, sec) < 0)
		return -1;
	*ns = 0;
	if (dot) {
		long scale = 100000000;

		for (const char *p = dot + 1; *p >= '0' && *p <= '9' && scale; p++, scale /= 10)
			*ns += (*p - '0') * scale;
	}
	return 0;
}

/* The Engine of docker.host: 0, or -1 with why in out. */
static int engine_open(const struct runtime_call *c, struct docker_engine *e, struct strbuf *out)
{
	struct strbuf why = STRBUF_INIT;

	if (docker_engine_open(c->cfg, c->http, e, &why) < 0)
		return runtime_fail(c->http, out, &why);
	strbuf_release(&why);
	return 0;
}

/* docker_inspect(), its failure redacted into out; no such container is -1 too. */
static int inspect(const struct runtime_call *c, const struct docker_engine *e, const char *ref,
		   const char *name, cJSON **answer, struct strbuf *out)
{
	struct strbuf why = STRBUF_INIT;
	int r = docker_inspect(c->http, e, ref, answer, &why);

	if (r < 0)
		return runtime_fail(c->http, out, &why);
	strbuf_release(&why);
	if (r > 0)
		return runtime_failf(out, "docker: no container %s", name);
	return 0;
}

static int restart_prepare(const struct runtime_call *c, const cJSON *params, cJSON *record,
			   struct strbuf *out)
{
	const struct fix_target *t = c->t;
	struct docker_engine e;
	cJSON *answer = NULL;
	const char *started;
	int r;

	if (engine_open(c, &e, out) < 0) {
		docker_engine_release(&e);
		return -1;
	}
	r = inspect(c, &e, t->container, t->container, &answer, out);
	if (r == 0) {
		started = json_string(json_get(answer, "State"), "StartedAt");
		cJSON_AddStringToObject(record, "container", t->container);
		cJSON_AddStringToObject(record, "id", json_string(answer, "Id"));
		cJSON_AddStringToObject(record, "started_at", started ? started : "");
	}
	cJSON_Delete(answer);
	docker_engine_release(&e);
	return r;
}

/*
 * What run and check start from: the record's container (its id, and the
 * name it had, for messages) and the Engine. 0, or -1 with why in out.
 */
static int open_record(const struct runtime_call *c, const cJSON *record,
		       struct docker_engine *e, const char **id, const char **name,
		       struct strbuf *out)
{
	memset(e, 0, sizeof(*e));
	*id = runtime_record_string(record, "id", "restart", out);
	if (!*id)
		return -1;
	*name = json_nonempty(record, "container");
	if (!*name)
		*name = *id;
	return engine_open(c, e, out);
}

static int restart_run(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	struct docker_engine e;
	struct strbuf why = STRBUF_INIT;
	const char *id, *name;
	int r;

	if (open_record(c, record, &e, &id, &name, out) < 0) {
		docker_engine_release(&e);
		return -1;
	}
	r = docker_restart(c->http, &e, id, name, DOCKER_STOP_WAIT, &why);
	if (r == 0)
		strbuf_addf(out, "container %s restarted", name);
	else if (r > 0)
		r = runtime_failf(out, "docker: no container %s", name);
	else
		runtime_fail(c->http, out, &why);
	strbuf_release(&why);
	docker_engine_release(&e);
	return r;
}

static int restart_check(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	struct docker_engine e;
	const char *id, *name, *before = json_string(record, "started_at"), *now;
	cJSON *answer = NULL;
	time_t s0, s1;
	long n0, n1;
	int r;

	if (open_record(c, record, &e, &id, &name, out) < 0) {
		docker_engine_release(&e);
		return -1;
	}
	/* By id: a container made anew under the same name is not the one restarted. */
	r = inspect(c, &e, id, name, &answer, out);
	if (r < 0)
		goto out;
	now = json_string(json_get(answer, "State"), "StartedAt");
	if (!now || parse_time_ns(now, &s1, &n1) < 0) {
		r = runtime_failf(out, "docker: container %s has no start time", name);
		goto out;
	}
	if (before && *before && parse_time_ns(before, &s0, &n0) == 0 &&
	    (s1 < s0 || (s1 == s0 && n1 <= n0))) {
		strbuf_addf(out, "container %s started at %s, as before", name, now);
		r = 0;
	} else if (!json_bool(json_get(answer, "State"), "Running")) {
		strbuf_addf(out, "container %s started at %s but is not running", name, now);
		r = 0;
	} else {
		strbuf_addf(out, "container %s restarted at %s", name, now);
		r = 1;
	}
out:
	cJSON_Delete(answer);
	docker_engine_release(&e);
	return r;
}

static const struct runtime_action restart = { restart_prepare, restart_run, restart_check };

const struct runtime_ops runtime_docker = {
	.name = "docker",
	.restart = &restart,
};
