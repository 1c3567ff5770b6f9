/*
 * runtime-docker.c: the docker runtime of `sre fix` (runtime.h).
 *
 *   restart          POST /containers/<id>/restart?t=10; took effect when
 *                    State.StartedAt is later than the record's and it runs
 *   increase-memory  POST /containers/<id>/update with HostConfig.Memory
 *                    times fix.memory-step (whole MiB, rounded up), never
 *                    past service.<name>.max-memory, which it needs; the
 *                    swap allowance (MemorySwap less Memory) is kept. A
 *                    container that is not running (killed by its limit)
 *                    is then restarted, so that it runs with the new one.
 *                    Took effect when inspect shows the new Memory.
 *   chaos            kill, stop, pause, memory (a limit with no swap past it:
 *                    a real OOM kill); undone by start, unpause and the
 *                    limits the container had
 *
 * More memory here is a direct change of the container, not an edit of a
 * manifest: a container run by hand or by compose has no manifest sre can
 * see; with service.<name>.manifest the fix engine sends a pull request
 * instead, so that the change outlives the next deploy.
 *
 * The container is the service's (service.<name>.container, default the
 * service's name); once prepared it is known by its id, so that a
 * container made anew under the same name is not taken for the one
 * restarted. Every request is the Engine client's (lib/docker.c).
 */
#include <time.h>

#include "docker.h"
#include "fix.h"
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
static int open_record(const struct runtime_call *c, const cJSON *record, const char *action,
		       struct docker_engine *e, const char **id, const char **name,
		       struct strbuf *out)
{
	memset(e, 0, sizeof(*e));
	*id = runtime_record_string(record, "id", action, out);
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

	if (open_record(c, record, "restart", &e, &id, &name, out) < 0) {
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

	if (open_record(c, record, "restart", &e, &id, &name, out) < 0) {
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

#define MIB (1024LL * 1024)

/* "25165824", "24m", "24Mi", "1g", "1Gi", "512k": bytes, as docker run -m reads them. 0 or -1. */
static int parse_bytes(const char *s, long long *out)
{
	static const struct { const char *unit; long long scale; } units[] = {
		{ "", 1 }, { "b", 1 }, { "k", 1024 }, { "ki", 1024 }, { "kib", 1024 },
		{ "m", MIB }, { "mi", MIB }, { "mib", MIB },
		{ "g", 1024 * MIB }, { "gi", 1024 * MIB }, { "gib", 1024 * MIB },
	};
	size_t n = s ? strspn(s, "0123456789") : 0;
	long long v = 0;

	if (!n || n > 12)
		return -1;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (!strcasecmp(s + n, units[i].unit)) {
			if (v > (1LL << 50) / units[i].scale)
				return -1;
			*out = v * units[i].scale;
			return 0;
		}
	return -1;
}

/* bytes as "24Mi" when whole MiB, else as a number of bytes. */
static char *format_bytes(long long v)
{
	return v % MIB ? xstrfmt("%lld", v) : xstrfmt("%lldMi", v / MIB);
}

static int memory_prepare(const struct runtime_call *c, const cJSON *params, cJSON *record,
			  struct strbuf *out)
{
	const struct fix_target *t = c->t;
	struct fix_policy pol = FIX_POLICY_INIT;
	struct strbuf key = STRBUF_INIT;
	struct docker_engine e;
	cJSON *answer = NULL;
	const cJSON *host;
	const char *max_s = config_get_string(c->cfg, config_key_of(&key, "service", t->service,
								  "max-memory"));
	long long max, now, swap, want;
	char *a = NULL, *b = NULL;
	int r = -1;

	(void)params; /* the limit is read from the Engine now, not from the diagnosis */
	memset(&e, 0, sizeof(e));
	if (!max_s) {
		r = runtime_failf(out, "increase-memory needs %s, the most memory sre may give %s",
				  key.buf, t->container);
		goto out;
	}
	if (parse_bytes(max_s, &max) < 0 || !max) {
		r = runtime_failf(out, "%s is \"%.40s\": want a size such as 512Mi or 2Gi", key.buf,
				  max_s);
		goto out;
	}
	if (fix_policy_read(&pol, c->cfg) < 0) {
		r = runtime_failf(out, "increase-memory: fix.memory-step is not a number above 1");
		goto out;
	}
	if (engine_open(c, &e, out) < 0 || inspect(c, &e, t->container, t->container, &answer, out) < 0)
		goto out;
	host = json_get(answer, "HostConfig");
	now = json_int(host, "Memory");
	swap = json_int(host, "MemorySwap");
	if (now <= 0) {
		r = runtime_failf(out, "docker: container %s has no memory limit to raise", t->container);
		goto out;
	}
	want = (long long)((double)now * pol.memory_step);
	want = (want + MIB - 1) / MIB * MIB;
	if (want > max)
		want = max;
	if (want <= now) {
		a = format_bytes(now);
		b = format_bytes(max);
		r = runtime_failf(out, "container %s has %s of memory already; %s is %s", t->container,
				  a, key.buf, b);
		goto out;
	}
	cJSON_AddStringToObject(record, "container", t->container);
	cJSON_AddStringToObject(record, "id", json_string(answer, "Id"));
	cJSON_AddNumberToObject(record, "from", (double)now);
	cJSON_AddNumberToObject(record, "memory", (double)want);
	/* Keep the swap allowance; -1 (unlimited) stays so. */
	cJSON_AddNumberToObject(record, "memory_swap", (double)(swap > 0 ? swap + want - now : swap));
	r = 0;
out:
	free(a);
	free(b);
	cJSON_Delete(answer);
	docker_engine_release(&e);
	fix_policy_release(&pol);
	strbuf_release(&key);
	return r;
}

static int memory_run(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	struct docker_engine e;
	struct strbuf why = STRBUF_INIT;
	const char *id, *name;
	long long from, want, swap;
	cJSON *answer = NULL;
	char *a = NULL, *b = NULL;
	int r = -1;

	if (open_record(c, record, "increase-memory", &e, &id, &name, out) < 0)
		goto out;
	if (runtime_record_whole(record, "memory", "increase-memory", &want, out) < 0 ||
	    runtime_record_whole(record, "from", "increase-memory", &from, out) < 0)
		goto out;
	swap = json_int(record, "memory_swap");
	r = docker_update_memory(c->http, &e, id, name, want, swap, &why);
	if (r > 0)
		r = runtime_failf(out, "docker: no container %s", name);
	if (r)
		goto out;
	a = format_bytes(from);
	b = format_bytes(want);
	strbuf_addf(out, "memory limit of %s raised from %s to %s", name, a, b);
	/* Killed by its limit, it stays down until started: start it under the new one. */
	r = inspect(c, &e, id, name, &answer, out);
	if (r == 0 && !json_bool(json_get(answer, "State"), "Running")) {
		r = docker_restart(c->http, &e, id, name, DOCKER_STOP_WAIT, &why);
		if (r == 0)
			strbuf_addf(out, "; container %s restarted", name);
		else if (r > 0)
			r = runtime_failf(out, "; docker: no container %s", name);
	}
out:
	if (why.len)
		runtime_fail(c->http, out, &why);
	strbuf_release(&why);
	cJSON_Delete(answer);
	free(a);
	free(b);
	docker_engine_release(&e);
	return r;
}

static int memory_check(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	struct docker_engine e;
	const char *id, *name;
	cJSON *answer = NULL;
	long long want, now;
	char *a = NULL, *b = NULL;
	int r = -1;

	if (open_record(c, record, "increase-memory", &e, &id, &name, out) < 0 ||
	    runtime_record_whole(record, "memory", "increase-memory", &want, out) < 0 ||
	    inspect(c, &e, id, name, &answer, out) < 0)
		goto out;
	now = json_int(json_get(answer, "HostConfig"), "Memory");
	a = format_bytes(now);
	b = format_bytes(want);
	if (now == want) {
		strbuf_addf(out, "container %s has a memory limit of %s", name, a);
		r = 1;
	} else {
		strbuf_addf(out, "container %s has a memory limit of %s, not %s", name, a, b);
		r = 0;
	}
out:
	free(a);
	free(b);
	cJSON_Delete(answer);
	docker_engine_release(&e);
	return r;
}

static const struct runtime_action increase_memory = { memory_prepare, memory_run, memory_check };

/*
 * ---- chaos: faults and their undoing ----
 *
 * params {"fault": kill|stop|pause|memory, "args": {...}}. The record
 * holds the container's id and what it was (running, paused, its memory
 * limits), so that revert puts back what was there, not what the
 * configuration says now, and finds the container even renamed.
 */

static int chaos_prepare(const struct runtime_call *c, const cJSON *params, cJSON *record,
			 struct strbuf *out)
{
	const char *fault = json_string(params, "fault");
	const cJSON *mem = json_get(json_get(params, "args"), "memory");
	struct docker_engine e;
	cJSON *answer = NULL;
	const cJSON *state, *host;
	long long want = 16 * MIB;
	int r = -1, running, paused;

	memset(&e, 0, sizeof(e));
	if (!fault || (strcmp(fault, "kill") && strcmp(fault, "stop") && strcmp(fault, "pause") &&
		       strcmp(fault, "memory")))
		return runtime_failf(out, "docker: no fault %s (kill, stop, pause, memory)",
				     fault ? fault : "named");
	if (mem && (cJSON_IsNumber(mem) ? runtime_json_whole(mem, &want) :
		    parse_bytes(cJSON_GetStringValue(mem), &want)) < 0)
		return runtime_failf(out, "docker-memory: memory is a size (64Mi, 268435456)");
	/* dockerd refuses a limit under 6 MiB. */
	if (want < 6 * MIB)
		return runtime_failf(out, "docker-memory: %lld bytes is under Docker's least, 6Mi", want);
	if (engine_open(c, &e, out) < 0 || inspect(c, &e, c->t->container, c->t->container, &answer, out) < 0)
		goto out;
	state = json_get(answer, "State");
	host = json_get(answer, "HostConfig");
	running = json_bool(state, "Running") == 1;
	paused = json_bool(state, "Paused") == 1;
	if (!running || paused) {
		r = runtime_failf(out, "docker: container %s is %s: nothing to %s", c->t->container,
				  paused ? "paused already" : "not running", fault);
		goto out;
	}
	/* dockerd cannot take a limit away once set: one it could not put back is not made. */
	if (!strcmp(fault, "memory") && json_int(host, "Memory") <= 0) {
		r = runtime_failf(out, "docker-memory: container %s has no memory limit, and Docker "
				  "cannot remove one once set: give it one (docker update -m)", c->t->container);
		goto out;
	}
	cJSON_AddStringToObject(record, "container", c->t->container);
	cJSON_AddStringToObject(record, "id", json_string(answer, "Id"));
	cJSON_AddStringToObject(record, "fault", fault);
	cJSON_AddNumberToObject(record, "memory_from", (double)json_int(host, "Memory"));
	cJSON_AddNumberToObject(record, "swap_from", (double)json_int(host, "MemorySwap"));
	if (!strcmp(fault, "memory"))
		cJSON_AddNumberToObject(record, "memory", (double)want);
	r = 0;
out:
	cJSON_Delete(answer);
	docker_engine_release(&e);
	return r;
}

static int chaos_inject_run(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	struct docker_engine e;
	struct strbuf why = STRBUF_INIT;
	const char *id, *name, *fault = json_string(record, "fault");
	long long want = 0;
	int r = -1;

	if (open_record(c, record, "chaos", &e, &id, &name, out) < 0)
		goto out;
	if (!strcmp(fault ? fault : "", "memory")) {
		if (runtime_record_whole(record, "memory", "docker-memory", &want, out) < 0)
			goto out;
		/* No swap past the limit: the kernel kills it rather than swaps. */
		r = docker_update_memory(c->http, &e, id, name, want, want, &why);
	} else if (fault && (!strcmp(fault, "kill") || !strcmp(fault, "pause"))) {
		r = docker_container_op(c->http, &e, id, name, fault, &why);
	} else if (fault && !strcmp(fault, "stop")) {
		r = docker_container_op(c->http, &e, id, name, "stop?t=10", &why);
	} else {
		r = runtime_failf(out, "docker: the record names no fault");
		goto out;
	}
	if (r > 0)
		r = runtime_failf(out, "docker: no container %s", name);
	else if (r < 0)
		runtime_fail(c->http, out, &why);
	else if (want) {
		char *b = format_bytes(want);
		strbuf_addf(out, "container %s limited to %s of memory, no swap", name, b);
		free(b);
	} else {
		strbuf_addf(out, "container %s: %s", name, !strcmp(fault, "kill") ? "killed" :
			    !strcmp(fault, "stop") ? "stopped" : "paused");
	}
out:
	strbuf_release(&why);
	docker_engine_release(&e);
	return r;
}

/* Put back what the record says was there: the limits, then running and not paused. */
static int chaos_revert_run(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	struct docker_engine e;
	struct strbuf why = STRBUF_INIT;
	const char *id, *name, *fault = json_string(record, "fault");
	cJSON *answer = NULL;
	const cJSON *state;
	int r = -1;

	if (open_record(c, record, "chaos", &e, &id, &name, out) < 0)
		goto out;
	if (fault && !strcmp(fault, "memory")) {
		long long from = json_int(record, "memory_from"), swap = json_int(record, "swap_from");
		r = docker_update_memory(c->http, &e, id, name, from, swap, &why);
		if (r)
			goto done;
		strbuf_addf(out, "container %s has its memory limit back; ", name);
	}
	r = inspect(c, &e, id, name, &answer, out);
	if (r < 0)
		goto out;
	state = json_get(answer, "State");
	if (json_bool(state, "Paused") == 1) {
		r = docker_container_op(c->http, &e, id, name, "unpause", &why);
		if (!r)
			strbuf_addf(out, "container %s unpaused", name);
	} else if (json_bool(state, "Running") != 1) {
		r = docker_container_op(c->http, &e, id, name, "start", &why);
		if (!r)
			strbuf_addf(out, "container %s started", name);
	} else {
		strbuf_addf(out, "container %s is running", name);
	}
done:
	if (r > 0)
		r = runtime_failf(out, "docker: no container %s: it is gone, nothing to put back", name);
	else if (r < 0 && why.len)
		runtime_fail(c->http, out, &why);
out:
	strbuf_release(&why);
	cJSON_Delete(answer);
	docker_engine_release(&e);
	return r;
}

/* Undone: running, not paused, with the limit it had. 1, 0, -1. */
static int chaos_revert_check(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	struct docker_engine e;
	const char *id, *name;
	cJSON *answer = NULL;
	const cJSON *state;
	int r = -1;

	if (open_record(c, record, "chaos", &e, &id, &name, out) < 0 ||
	    inspect(c, &e, id, name, &answer, out) < 0)
		goto out;
	state = json_get(answer, "State");
	r = json_bool(state, "Running") == 1 && json_bool(state, "Paused") != 1 &&
	    json_int(json_get(answer, "HostConfig"), "Memory") == json_int(record, "memory_from");
	strbuf_addf(out, "container %s is %s", name, r ? "as it was" :
		    json_bool(state, "Paused") == 1 ? "paused" :
		    json_bool(state, "Running") != 1 ? "not running" : "under another memory limit");
out:
	cJSON_Delete(answer);
	docker_engine_release(&e);
	return r;
}

static const struct runtime_action chaos_inject = { chaos_prepare, chaos_inject_run, NULL };
static const struct runtime_action chaos_revert = { NULL, chaos_revert_run, chaos_revert_check };

const struct runtime_ops runtime_docker = {
	.name = "docker",
	.restart = &restart,
	.increase_memory = &increase_memory,
	.inject = &chaos_inject,
	.revert = &chaos_revert,
};
