/*
 * runtime.h: what sre can do to a service where it runs, one struct
 * runtime_ops per kind of runtime ([service] runtime):
 *
 *   lib/runtime-docker.c      restart, increase-memory, through the Engine
 *                             client (lib/docker.c)
 *   lib/runtime-kubernetes.c  restart, scale, rollback of a Deployment,
 *                             through the API client (lib/kubernetes.c)
 *   lib/runtime-process.c     restart: the service's stop and start
 *                             commands (lib/run-command.c), then its pidfile
 *
 * The fix engine does not call these: it calls action_prepare(),
 * action_run() and action_check() (fix.h), which lib/actions.c turns into
 * a call of the right runtime's slot. A new runtime is one file and one
 * row of that table; a new verb (chaos's inject and revert) is one slot
 * here, NULL in the runtimes that cannot do it.
 *
 * Every verb is the three steps fix.h describes, so a slot is a struct
 * runtime_action of three functions: prepare reads the state now and
 * fills the record, run does what the record says, check reads the state
 * again and judges it against the record alone (did an action cut off in
 * the middle take effect?). Each returns 0 (check: 1 took effect, 0 did
 * not), or -1 with one line of why appended to out, never a secret.
 */
#ifndef SRE_RUNTIME_H
#define SRE_RUNTIME_H

#include <cJSON.h>

#include "config.h"
#include "fix.h"
#include "http.h"
#include "strbuf.h"

/* What every step is given; all borrowed. */
struct runtime_call {
	struct http_client *http;   /* set up from the http.* keys; knows the secrets to redact */
	const struct config *cfg;   /* the connection settings: kubeconfig, docker.host */
	const struct fix_target *t; /* the service and where it runs */
	struct store *st;           /* sre chaos's proxy faults: the toxics' table; else NULL */
};

struct runtime_action {
	int (*prepare)(const struct runtime_call *c, const cJSON *params, cJSON *record,
		       struct strbuf *out);
	int (*run)(const struct runtime_call *c, const cJSON *record, struct strbuf *out);
	int (*check)(const struct runtime_call *c, const cJSON *record, struct strbuf *out);
};

struct runtime_ops {
	const char *name;                         /* "docker", as [service] runtime says it */
	const struct runtime_action *restart;
	const struct runtime_action *scale;       /* params {"replicas": n} */
	const struct runtime_action *rollback;    /* params {"revision": n} */
	/*
	 * Docker's only: elsewhere more memory is an edit of the service's
	 * manifest, sent as a pull request (lib/manifest.c, lib/gitops.c),
	 * so that the change outlives the next deploy; so it is on Docker
	 * too when the service has a manifest.
	 */
	const struct runtime_action *increase_memory;
	/*
	 * sre chaos's faults (lib/chaos.c): inject's prepare reads what is
	 * there now into the undo record (params {"fault", "args"}), its run
	 * injects; revert's run puts back what the record says, its check
	 * judges that it is back. Without a prepare of its own, revert works
	 * from the record alone, as after a crash.
	 */
	const struct runtime_action *inject;
	const struct runtime_action *revert;
};

extern const struct runtime_ops runtime_docker;
extern const struct runtime_ops runtime_kubernetes;
extern const struct runtime_ops runtime_process;

/* The runtime r's operations, or NULL for RUNTIME_NONE (lib/actions.c, the table). */
const struct runtime_ops *runtime_ops_of(enum fix_runtime r);

/* ---- shared by the runtimes (lib/runtime.c) ---- */

/* Append line to out, with the secrets http knows redacted, and release it: -1. */
int runtime_fail(struct http_client *http, struct strbuf *out, struct strbuf *line);
/* Append a line to out: -1. */
int runtime_failf(struct strbuf *out, const char *fmt, ...) SRE_PRINTF(2, 3);
/* A whole number from a JSON number or a string of digits: 0, or -1. */
int runtime_json_whole(const cJSON *v, long long *out);
/* The record's non-empty string key, or NULL after saying so in out. Borrowed. */
const char *runtime_record_string(const cJSON *record, const char *key, const char *action,
				  struct strbuf *out);
/* The record's whole number key: 0, or -1 after saying so in out. */
int runtime_record_whole(const cJSON *record, const char *key, const char *action,
			 long long *v, struct strbuf *out);

#endif
