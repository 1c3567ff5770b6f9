/*
 * docker.h: the client of the Docker Engine API (lib/docker.c). Every
 * request to dockerd goes through it: the scout source
 * (lib/scout-docker.c), the diagnose collector (lib/collect-docker.c) and
 * the runtime of `sre fix` (lib/runtime-docker.c) are its callers.
 *
 * Lines of why are "docker: <host>: ..." and are not redacted here: the
 * caller redacts once with its http client, which knows every secret.
 */
#ifndef SRE_DOCKER_H
#define SRE_DOCKER_H

#include <time.h>

#include <cJSON.h>

#include "config.h"
#include "http.h"
#include "scout.h"
#include "strbuf.h"

/* The Docker Engine named by docker.host (default the local socket) and docker.api-version. */
struct docker_engine {
	const char *host;    /* as configured, for messages; borrowed from the config */
	char *socket;        /* the UNIX socket, or NULL over TCP */
	char *root;          /* "http://localhost": where the unversioned /_ping is */
	char *base;          /* "http://localhost/v1.47": what the API's paths follow */
	int major, minor;    /* the API version in base */
	int negotiated;      /* docker.api-version pins it, or the Engine was asked */
};

/* The newest Engine API sre speaks; it reads the answers of 1.41 on. */
#define DOCKER_API_MAJOR 1
#define DOCKER_API_MINOR 47

/*
 * Read the Engine's keys into e: 0, or -1 with one line in err ("docker:
 * ..."). base is at docker.api-version, else at sre's own version until
 * docker_engine_negotiate() asks the Engine.
 */
int docker_engine_read(const struct config *cfg, struct docker_engine *e, struct strbuf *err);
/*
 * Agree on the API version as the docker CLI does: GET /_ping (no
 * version in the path) and use the lower of its API-Version header and
 * sre's own; a pinned docker.api-version asks nothing. Any other answer
 * (none, an error, no usable header) keeps sre's own, as the CLI does,
 * and the call that follows tells what is wrong. Once per engine: a
 * second call asks nothing. 0 (err is for a failure to come).
 */
int docker_engine_negotiate(struct http_client *http, struct docker_engine *e, struct strbuf *err);
/* docker_engine_read() then docker_engine_negotiate(). */
int docker_engine_open(const struct config *cfg, struct http_client *http,
		       struct docker_engine *e, struct strbuf *err);
void docker_engine_release(struct docker_engine *e);
/* Queue a GET of url (taken over) through the Engine's socket when it has one; the request. */
struct http_request *docker_engine_get(struct http_batch *rs, const struct docker_engine *e,
				      char *url);
/*
 * The line of a failed call: "docker: <host>: [<what>: ]<why>", why being
 * what connect() says of the socket, curl's error, or "HTTP <status>" and
 * the Engine's message.
 */
void docker_engine_explain(struct strbuf *err, const struct docker_engine *e, const char *what,
			   const struct http_response *res);
/* A container's own name from the list's Names, without the leading "/"; or NULL. Borrowed. */
const char *docker_container_name(const cJSON *summary);

/*
 * Queue, in a batch to make with http_do_many() (each returns the request,
 * to add to):
 *   docker_queue_list()     GET /containers/json?all=<all> (every container)
 *   docker_queue_inspect()  GET /containers/<ref>/json
 *   docker_queue_logs()     GET /containers/<id>/logs, stdout and stderr
 *                           with timestamps, the last lines of them; the
 *                           answer is Docker's multiplexed stream, or the
 *                           bytes as written for a container with a TTY
 */
struct http_request *docker_queue_list(struct http_batch *rs, const struct docker_engine *e,
				       const char *all);
struct http_request *docker_queue_inspect(struct http_batch *rs,
					  const struct docker_engine *e, const char *ref);
struct http_request *docker_queue_logs(struct http_batch *rs, const struct docker_engine *e,
				       const char *id, int lines);
/*
 * The same, of every line written from since until until (Unix seconds):
 * no tail, which the Engine applies to the whole log before the window.
 */
struct http_request *docker_queue_logs_between(struct http_batch *rs,
					       const struct docker_engine *e, const char *id,
					       time_t since, time_t until);

/*
 * Inspect one container now: 0 and *inspect (the caller's; it has an Id
 * and a State), 1 when there is no such container, -1 with a line in why.
 */
int docker_inspect(struct http_client *http, const struct docker_engine *e, const char *ref,
		   cJSON **inspect, struct strbuf *why);

/*
 * POST /containers/<id>/restart?t=<stop_wait>, never retried (twice would
 * be two restarts), waiting stop_wait seconds longer than http's timeout
 * for dockerd to stop it. 0 restarted, 1 no such container, -1 with a
 * line in why naming it name.
 */
int docker_restart(struct http_client *http, const struct docker_engine *e, const char *id,
		   const char *name, int stop_wait, struct strbuf *why);

/*
 * POST /containers/<id>/<op>: op is "kill", "stop?t=10", "start", "pause"
 * or "unpause" (sre chaos's faults and their undoing). Never retried. A
 * container started or stopped already (304) is fine. 0 done, 1 no such
 * container, -1 with a line in why naming it name.
 */
int docker_container_op(struct http_client *http, const struct docker_engine *e, const char *id,
			const char *name, const char *op, struct strbuf *why);

/*
 * POST /containers/<id>/update {"Memory": memory, "MemorySwap": swap}:
 * the container's memory limit and its memory plus swap (-1 unlimited),
 * both in bytes; dockerd refuses a limit above the swap one, so both are
 * sent. Never retried. 0 updated, 1 no such container, -1 with a line in
 * why naming it name.
 */
int docker_update_memory(struct http_client *http, const struct docker_engine *e, const char *id,
			 const char *name, long long memory, long long swap, struct strbuf *why);

#endif
