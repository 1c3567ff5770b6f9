/*
 * collect-docker.c: the Docker evidence of `sre diagnose`: the service's
 * containers as the Engine inspects them, and their last log lines.
 *
 * One list (GET /containers/json?all=1) finds the service's containers:
 * the one [service "<name>"] container names, else those whose name or
 * com.docker.compose.service label is the service. Then every container's
 * inspection and logs are read at once (GET /containers/<id>/json and
 * /containers/<id>/logs, the last diagnose.log-lines lines with Docker's
 * timestamps). ev->docker holds the inspect objects as the Engine wrote
 * them; a container removed since the list is simply left out.
 *
 * A container without a TTY sends its logs as Docker's multiplexed
 * stream: frames of an 8-byte header (the stream, 1 stdout or 2 stderr;
 * three zero bytes; the payload's length, big-endian) and the payload.
 * The payloads are joined in order, so stdout and stderr stay interleaved
 * as they were written. With a TTY (Config.Tty) the logs are the bytes as
 * written, with no frames.
 *
 * Every request is made through the Engine's client, lib/docker.c
 * (docker.host, docker.api-version), and a failure is told as it tells
 * one: "docker: <host>: ...". What was read before a failure is kept.
 */
#include "docker.h"
#include "evidence.h"
#include "redact.h"
#include "scout.h"

/* Requests in flight at once: two per container. */
#define DOCKER_COLLECT_PARALLEL 16

/*
 * Config.Env ("NAME=value") keeps its names and loses its values: a
 * container's environment is where its credentials usually are, and a
 * bundle travels. The names still tell a reader what was configured.
 */
static void drop_env_values(cJSON *inspect)
{
	cJSON *env = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(inspect, "Config"),
						      "Env"), *item;

	cJSON_ArrayForEach(item, env) {
		struct strbuf sb = STRBUF_INIT;
		const char *eq;

		if (!cJSON_IsString(item) || !(eq = strchr(item->valuestring, '=')))
			continue;
		strbuf_add(&sb, item->valuestring, (size_t)(eq + 1 - item->valuestring));
		redact_add_mask(&sb, "env");
		cJSON_SetValuestring(item, sb.buf);
		strbuf_release(&sb);
	}
}

int collect_docker_configured(const struct config *cfg, const struct collect_options *o)
{
	struct strbuf key = STRBUF_INIT;
	const char *runtime = config_get_string(cfg, config_key_of(&key, "service", o->service,
							       "runtime"));
	const char *container = config_get_string(cfg, config_key_of(&key, "service", o->service,
								 "container"));

	strbuf_release(&key);
	if (runtime && *runtime)
		return !strcmp(runtime, "docker"); /* said to run elsewhere: not in Docker */
	return (container && *container) || docker_configured(cfg);
}

/* Is this container of the list the service's? container: the one configured, or NULL. */
static int is_service_container(const cJSON *summary, const char *name, const char *service,
				const char *container)
{
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(summary, "Labels");
	const char *compose = json_string(labels, "com.docker.compose.service");

	if (container)
		return !strcmp(name, container);
	return !strcmp(name, service) || (compose && !strcmp(compose, service));
}

/*
 * The payloads of Docker's multiplexed stream, in order, into out. What
 * is not a whole frame (the answer cut short, a length past its end, a
 * header that is none) ends it: what came whole before is kept.
 */
void docker_log_demultiplex(struct strbuf *out, const char *buf, size_t len)
{
	size_t off = 0;

	while (len - off >= 8) {
		const unsigned char *h = (const unsigned char *)buf + off;
		size_t n = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];

		if (h[0] > 2 || h[1] || h[2] || h[3] || n > len - off - 8)
			break;
		strbuf_add(out, buf + off + 8, n);
		off += 8 + n;
	}
}

/* The line of a failed call: cut off at the deadline, or as lib/docker.c tells it. */
static void explain(struct strbuf *why, const struct collect_context *c,
		    const struct docker_engine *e, const char *what,
		    const struct http_response *res)
{
	if (http_deadline_passed(c->http, res))
		strbuf_addf(why, "docker: %s: %s%stimed out", e->host, what ? what : "",
			    what ? ": " : "");
	else
		docker_engine_explain(why, e, what, res);
}

/* Queue the inspection and the logs of the container id. */
static void queue_container(struct http_batch *rs, const struct docker_engine *e,
			    const char *id, int lines)
{
	docker_queue_inspect(rs, e, id);
	docker_queue_logs(rs, e, id, lines);
}

int collect_docker(const struct collect_context *c, struct evidence *ev, struct strbuf *why)
{
	struct docker_engine e;
	struct http_batch listing = HTTP_BATCH_INIT, rs = HTTP_BATCH_INIT;
	struct strbuf key = STRBUF_INIT, what = STRBUF_INIT, log = STRBUF_INIT;
	const struct http_response *res;
	const char *container, **names = NULL;
	cJSON *list = NULL, *item, *inspected;
	size_t n = 0, alloc = 0;
	int lines = c->log_lines > 0 ? c->log_lines : 200, ret = -1;

	if (docker_engine_open(c->cfg, c->http, &e, why) < 0)
		goto out;
	container = config_get_string(c->cfg, config_key_of(&key, "service", c->o->service,
							 "container"));
	if (container && *container == '/')
		container++;
	if (container && !*container)
		container = NULL;

	docker_queue_list(&listing, &e, "1");
	res = &listing.res[0];
	if (http_do(c->http, &listing.req[0], &listing.res[0]) < 0 || res->status != 200) {
		explain(why, c, &e, NULL, res);
		goto out;
	}
	list = cJSON_ParseWithLength(res->body.buf, res->body.len);
	if (!cJSON_IsArray(list)) {
		strbuf_addf(why, "docker: %s: the container list is not a JSON array", e.host);
		goto out;
	}
	cJSON_ArrayForEach(item, list) {
		const char *id = json_string(item, "Id");
		const char *name = docker_container_name(item);

		if (!id || !*id || !name || !*name ||
		    !is_service_container(item, name, c->o->service, container))
			continue;
		ALLOC_GROW(names, n + 1, alloc);
		names[n++] = name;
		queue_container(&rs, &e, id, lines);
	}
	if (rs.nr)
		http_do_many(c->http, rs.req, rs.res, rs.nr, DOCKER_COLLECT_PARALLEL);

	/* Whatever answered is kept, even when another container's call failed. */
	ret = 0;
	inspected = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		const struct http_response *ires = &rs.res[2 * i], *lres = &rs.res[2 * i + 1];
		cJSON *inspect;

		if (ires->outcome == HTTP_OK && ires->status == 404)
			continue; /* removed since the list */
		strbuf_reset(&what);
		strbuf_addf(&what, "inspecting %s", names[i]);
		if (ires->outcome != HTTP_OK || ires->status != 200) {
			if (!ret)
				explain(why, c, &e, what.buf, ires);
			ret = -1;
			continue;
		}
		inspect = cJSON_ParseWithLength(ires->body.buf, ires->body.len);
		if (!cJSON_IsObject(inspect)) {
			if (!ret)
				strbuf_addf(why, "docker: %s: %s: the answer is not a container",
					    e.host, what.buf);
			ret = -1;
			cJSON_Delete(inspect);
			continue;
		}
		drop_env_values(inspect);
		cJSON_AddItemToArray(inspected, inspect);

		if (lres->outcome == HTTP_OK && lres->status == 404)
			continue;
		strbuf_reset(&what);
		strbuf_addf(&what, "reading the logs of %s", names[i]);
		if (lres->outcome != HTTP_OK || lres->status != 200) {
			if (!ret)
				explain(why, c, &e, what.buf, lres);
			ret = -1;
			continue;
		}
		if (!evidence_name_ok(names[i]))
			continue; /* no file could hold it */
		strbuf_reset(&log);
		if (json_bool(cJSON_GetObjectItemCaseSensitive(inspect, "Config"), "Tty"))
			strbuf_add(&log, lres->body.buf, lres->body.len);
		else
			docker_log_demultiplex(&log, lres->body.buf, lres->body.len);
		evidence_add_log(ev, "docker", names[i], log.buf, log.len);
	}
	cJSON_Delete(ev->docker);
	ev->docker = inspected;
out:
	http_batch_release(&rs);
	http_batch_release(&listing);
	free(names);
	cJSON_Delete(list);
	docker_engine_release(&e);
	strbuf_release(&key);
	strbuf_release(&what);
	strbuf_release(&log);
	return ret;
}
