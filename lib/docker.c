/*
 * docker.c: the client of the Docker Engine API. Every request sre makes
 * to dockerd is built here and its failures told here, so that the scout
 * source (lib/scout-docker.c), the diagnose collector
 * (lib/collect-docker.c) and the runtime of `sre fix`
 * (lib/runtime-docker.c) reach the Engine the same way and phrase a
 * failure alike: "docker: <host>: [<what>: ]<why>". Named for the system
 * it talks to, as lib/kubernetes.c is; what each caller makes of the
 * answers lives in the file named for its role.
 *
 * The Engine is docker.host (its UNIX socket, or tcp://host:port as plain
 * HTTP; default the local socket). The API version is docker.api-version
 * when set; else it is negotiated as the docker CLI does: GET /_ping and
 * the lower of its API-Version and sre's own (1.47), since an Engine
 * refuses a client newer than itself ("client version 1.47 is too new.
 * Maximum supported API version is 1.41": Debian 12's docker.io 20.10).
 * What sre reads of the answers (the list's State and Status, inspect's
 * State, Config.Tty, HostConfig.Memory, the logs' frames) has the same
 * shape from API 1.41 to 1.47; the logs' multiplexed Content-Type, new in
 * 1.42, is not relied on: Config.Tty says which framing the logs have.
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "json.h"
#include "docker.h"
#include "strbuf.h"

#define DOCKER_DEFAULT_HOST "unix:///var/run/docker.sock"
#define DOCKER_DEFAULT_VERSION "1.47"

void docker_engine_release(struct docker_engine *e)
{
	free(e->socket);
	free(e->root);
	free(e->base);
	e->socket = e->root = e->base = NULL;
}

/* "<major>.<minor>", each a few digits: 0, or -1 for anything else. */
static int parse_version(const char *s, int *major, int *minor)
{
	size_t a = s ? strspn(s, "0123456789") : 0, b;

	if (!a || a > 4 || s[a] != '.')
		return -1;
	b = strspn(s + a + 1, "0123456789");
	if (!b || b > 4 || s[a + 1 + b])
		return -1;
	*major = atoi(s);
	*minor = atoi(s + a + 1);
	return 0;
}

static void set_version(struct docker_engine *e, int major, int minor)
{
	free(e->base);
	e->major = major;
	e->minor = minor;
	e->base = xstrfmt("%s/v%d.%d", e->root, major, minor);
}

int docker_engine_read(const struct config *cfg, struct docker_engine *e, struct strbuf *err)
{
	const char *host = config_get_string(cfg, "docker.host");
	const char *version = config_get_string(cfg, "docker.api-version");
	const char *rest;

	memset(e, 0, sizeof(*e));
	if (!host) {
		const struct config_entry *entry = config_get_entry(cfg, "scout.docker");
		int on;

		if (entry && config_parse_bool(entry->value, &on) < 0) {
			strbuf_addf(err, "docker: bad boolean value '%s' for scout.docker", entry->value);
			return -1;
		}
		host = DOCKER_DEFAULT_HOST;
	}
	e->host = host;
	if (version) {
		if (parse_version(version, &e->major, &e->minor) < 0) {
			strbuf_addf(err, "docker: bad docker.api-version '%s': want a version such as %s",
				    version, DOCKER_DEFAULT_VERSION);
			return -1;
		}
		e->negotiated = 1;
	} else {
		e->major = DOCKER_API_MAJOR;
		e->minor = DOCKER_API_MINOR;
	}
	if (skip_prefix(host, "unix://", &rest) && *rest) {
		/* curl needs a host in the URL; dockerd ignores it. */
		e->socket = xstrdup(rest);
		e->root = xstrdup("http://localhost");
	} else if (skip_prefix(host, "tcp://", &rest) && *rest && !strchr(rest, '@')) {
		size_t n = strcspn(rest, "/");
		const char *colon = memrchr(rest, ':', n), *bracket = memrchr(rest, ']', n);

		if (!n || strspn(rest + n, "/") != strlen(rest + n)) {
			strbuf_addf(err, "docker: docker.host '%s' is not tcp://host:port", host);
			return -1;
		}
		/* dockerd's own default for a TCP host without TLS: 2375. */
		e->root = xstrfmt("http://%.*s%s", (int)n, rest,
				  !colon || (bracket && bracket > colon) ? ":2375" : "");
	} else {
		strbuf_addf(err, "docker: docker.host '%s' is not unix:///path or tcp://host:port",
			    host);
		return -1;
	}
	set_version(e, e->major, e->minor);
	return 0;
}

int docker_engine_negotiate(struct http_client *http, struct docker_engine *e, struct strbuf *err)
{
	struct http_batch rs = HTTP_BATCH_INIT;
	const struct http_response *res;
	int major, minor;

	(void)err;
	if (e->negotiated)
		return 0;
	docker_engine_get(&rs, e, xstrfmt("%s/_ping", e->root))->no_retry = 1;
	res = &rs.res[0];
	http_do(http, &rs.req[0], &rs.res[0]);
	/*
	 * Any other answer (none, an error, no header) keeps sre's own, as
	 * the CLI does: the call that follows tells what is wrong, in its
	 * own words. Not retried: an Engine that is down is told once.
	 */
	if (res->status == 200 &&
	    parse_version(http_header(res, "api-version"), &major, &minor) == 0 &&
	    (major < e->major || (major == e->major && minor < e->minor)))
		set_version(e, major, minor);
	e->negotiated = 1;
	http_batch_release(&rs);
	return 0;
}

int docker_engine_open(const struct config *cfg, struct http_client *http,
		       struct docker_engine *e, struct strbuf *err)
{
	if (docker_engine_read(cfg, e, err) < 0)
		return -1;
	return docker_engine_negotiate(http, e, err);
}

struct http_request *docker_engine_get(struct http_batch *rs, const struct docker_engine *e,
				      char *url)
{
	struct http_request *req = http_batch_add(rs, url);

	req->unix_socket = e->socket;
	return req;
}

/* Why the socket cannot be reached, from connect() itself: curl only says
 * it could not connect, not that the file is missing or not ours to open. */
static void socket_why(struct strbuf *why, const char *path, const char *curl_error)
{
	struct sockaddr_un sa;
	size_t n = strlen(path);
	int fd, r, saved;

	if (n >= sizeof(sa.sun_path)) {
		strbuf_addstr(why, "the socket path is too long");
		return;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		strbuf_addstr(why, curl_error);
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n + 1);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	saved = errno;
	close(fd);
	strbuf_addstr(why, r < 0 ? strerror(saved) : curl_error);
}

void docker_engine_explain(struct strbuf *err, const struct docker_engine *e, const char *what,
			   const struct http_response *res)
{
	strbuf_addf(err, "docker: %s: ", e->host);
	if (what)
		strbuf_addf(err, "%s: ", what);
	if (!res->status) {
		if (e->socket && res->outcome == HTTP_TRANSIENT)
			socket_why(err, e->socket, res->error.buf);
		else
			strbuf_addstr(err, res->error.buf);
		return;
	}
	strbuf_addf(err, "HTTP %ld", res->status);
	{
		/* The Engine's errors are {"message": "..."}: show the message. */
		cJSON *body = cJSON_ParseWithLength(res->body.buf, res->body.len);
		const char *msg = json_string(body, "message");

		if (msg && *msg)
			strbuf_addf(err, ": %.*s", (int)strcspn(msg, "\r\n"), msg);
		cJSON_Delete(body);
	}
}

/* Not one of the "/other/name" aliases that legacy links add: see scout.h. */
const char *docker_container_name(const cJSON *summary)
{
	const cJSON *n;
	const char *best = NULL;

	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(summary, "Names")) {
		const char *s = cJSON_GetStringValue(n);

		if (!s)
			continue;
		if (*s == '/')
			s++;
		if (!best || (strchr(best, '/') && !strchr(s, '/')))
			best = s;
	}
	return best;
}

/* "<base>/containers/<id><suffix>": an id or name is one path segment. */
static char *container_url(const struct docker_engine *e, const char *ref, const char *suffix)
{
	struct strbuf u = STRBUF_INIT;

	strbuf_addf(&u, "%s/containers/", e->base);
	http_urlencode(&u, ref);
	strbuf_addstr(&u, suffix);
	return strbuf_detach(&u, NULL);
}

struct http_request *docker_queue_list(struct http_batch *rs, const struct docker_engine *e,
				       const char *all)
{
	return docker_engine_get(rs, e, xstrfmt("%s/containers/json?all=%s", e->base, all));
}

struct http_request *docker_queue_inspect(struct http_batch *rs,
					  const struct docker_engine *e, const char *ref)
{
	return docker_engine_get(rs, e, container_url(e, ref, "/json"));
}

static struct http_request *queue_logs(struct http_batch *rs, const struct docker_engine *e,
				       const char *id, const char *suffix)
{
	struct http_request *req = docker_engine_get(rs, e, container_url(e, id, suffix));

	strvec_clear(&req->headers); /* a stream of bytes, not JSON */
	return req;
}

struct http_request *docker_queue_logs(struct http_batch *rs, const struct docker_engine *e,
				       const char *id, int lines)
{
	char *suffix = xstrfmt("/logs?stdout=1&stderr=1&timestamps=1&tail=%d", lines);
	struct http_request *req = queue_logs(rs, e, id, suffix);

	free(suffix);
	return req;
}

struct http_request *docker_queue_logs_between(struct http_batch *rs,
					       const struct docker_engine *e, const char *id,
					       time_t since, time_t until)
{
	char *suffix = xstrfmt("/logs?stdout=1&stderr=1&timestamps=1&since=%lld&until=%lld",
			       (long long)since, (long long)until);
	struct http_request *req = queue_logs(rs, e, id, suffix);

	free(suffix);
	return req;
}

int docker_inspect(struct http_client *http, const struct docker_engine *e, const char *ref,
		   cJSON **inspect, struct strbuf *why)
{
	struct http_batch rs = HTTP_BATCH_INIT;
	const struct http_response *res;
	int ret = -1;

	*inspect = NULL;
	docker_queue_inspect(&rs, e, ref);
	res = &rs.res[0];
	http_do(http, &rs.req[0], &rs.res[0]);
	if (res->outcome == HTTP_OK && res->status == 404) {
		ret = 1;
	} else if (res->outcome == HTTP_OK && res->status == 200) {
		*inspect = cJSON_ParseWithLength(res->body.buf, res->body.len);
		if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(*inspect, "State")) &&
		    json_nonempty(*inspect, "Id")) {
			ret = 0;
		} else {
			cJSON_Delete(*inspect);
			*inspect = NULL;
			strbuf_addf(why, "docker: %s: inspecting %s: the answer is not a container",
				    e->host, ref);
		}
	} else {
		char *what = xstrfmt("inspecting %s", ref);

		docker_engine_explain(why, e, what, res);
		free(what);
	}
	http_batch_release(&rs);
	return ret;
}

/*
 * POST to a container (never retried: twice would act twice): 0 when it
 * was done, 1 when there is no such container, -1 with why ("<doing>
 * <name>: ...").
 */
static int container_post(struct http_client *http, const struct docker_engine *e,
			  const char *id, const char *suffix, const char *body, int64_t timeout_ms,
			  const char *doing, const char *name, struct strbuf *why)
{
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	char *url = container_url(e, id, suffix);
	int ret = -1;

	req.method = "POST";
	req.url = url;
	req.unix_socket = e->socket;
	if (body) {
		req.body = body;
		req.body_len = strlen(body);
		strvec_push(&req.headers, "Content-Type: application/json");
	}
	req.no_retry = 1;
	req.timeout_ms = timeout_ms;
	http_do(http, &req, &res);
	/* 304: started or stopped already, which is what was asked. */
	if (res.outcome == HTTP_OK && (res.status / 100 == 2 || res.status == 304)) {
		ret = 0;
	} else if (res.outcome == HTTP_OK && res.status == 404) {
		ret = 1;
	} else {
		char *what = xstrfmt("%s %s", doing, name);

		docker_engine_explain(why, e, what, &res);
		free(what);
	}
	http_request_release(&req);
	http_response_release(&res);
	free(url);
	return ret;
}

int docker_restart(struct http_client *http, const struct docker_engine *e, const char *id,
		   const char *name, int stop_wait, struct strbuf *why)
{
	char *suffix = xstrfmt("/restart?t=%d", stop_wait);
	/* dockerd may take the whole stop wait before it restarts it. */
	int ret = container_post(http, e, id, suffix, NULL,
				 http->timeout_ms + stop_wait * 1000, "restarting", name, why);

	free(suffix);
	return ret;
}

int docker_container_op(struct http_client *http, const struct docker_engine *e, const char *id,
			const char *name, const char *op, struct strbuf *why)
{
	char *suffix = xstrfmt("/%s", op);
	/* stop and kill wait for the container to go; give them dockerd's stop wait. */
	int ret = container_post(http, e, id, suffix, NULL, http->timeout_ms + 10 * 1000, op, name, why);

	free(suffix);
	return ret;
}

int docker_update_memory(struct http_client *http, const struct docker_engine *e, const char *id,
			 const char *name, long long memory, long long swap, struct strbuf *why)
{
	char *body = xstrfmt("{\"Memory\": %lld, \"MemorySwap\": %lld}", memory, swap);
	int ret = container_post(http, e, id, "/update", body, http->timeout_ms, "updating",
				 name, why);

	free(body);
	return ret;
}
