/*
 * actions.c: the direct actions of `sre fix` (fix.h), handed to the
 * runtime a service's [service] section names (runtime.h):
 *
 *   docker      lib/runtime-docker.c      restart, increase-memory
 *   kubernetes  lib/runtime-kubernetes.c  restart, scale, rollback
 *   process     lib/runtime-process.c     restart
 *
 * This file is the table of runtimes and the dispatch over it, nothing
 * more: what an action does on a runtime is that runtime's file. The fix
 * engine keeps calling action_prepare(), action_run() and action_check()
 * whatever runtimes come, and a runtime that cannot do an action says so
 * here, in the same words for all.
 */
#include "fix.h"
#include "runtime.h"

const struct runtime_ops *runtime_ops_of(enum fix_runtime r)
{
	switch (r) {
	case RUNTIME_DOCKER:
		return &runtime_docker;
	case RUNTIME_KUBERNETES:
		return &runtime_kubernetes;
	case RUNTIME_PROCESS:
		return &runtime_process;
	case RUNTIME_NONE:
		break;
	}
	return NULL;
}

/* The steps of action a on t's runtime, or NULL with why in out. */
static const struct runtime_action *action_of(const struct fix_target *t,
					      enum mitigation_action a, struct strbuf *out)
{
	const char *name = mitigation_action_name(a);
	const struct runtime_ops *ops = runtime_ops_of(t->runtime);
	const struct runtime_action *steps = NULL;

	/* More memory is a manifest's edit (a pull request), but where the runtime can do it. */
	if (a != ACTION_restart && a != ACTION_scale && a != ACTION_rollback &&
	    a != ACTION_increase_memory) {
		strbuf_addf(out, "%s: not a direct action (restart, scale, rollback or increase-memory)",
			    name);
		return NULL;
	}
	if (!ops) {
		strbuf_addf(out, "%s: service.%s.runtime is not set", name, t->service);
		return NULL;
	}
	if (a == ACTION_restart)
		steps = ops->restart;
	else if (a == ACTION_scale)
		steps = ops->scale;
	else if (a == ACTION_increase_memory)
		steps = ops->increase_memory;
	else
		steps = ops->rollback;
	if (!steps)
		strbuf_addf(out, "%s: the %s runtime cannot %s", name, ops->name,
			    a == ACTION_rollback ? "roll back" :
			    a == ACTION_increase_memory ? "raise a memory limit" : name);
	return steps;
}

int action_prepare(struct http_client *http, const struct config *cfg,
		   const struct fix_target *t, enum mitigation_action a, const cJSON *params,
		   cJSON *record, struct strbuf *out)
{
	const struct runtime_action *steps = action_of(t, a, out);
	struct runtime_call c = { http, cfg, t, NULL };

	return steps ? steps->prepare(&c, params, record, out) : -1;
}

int action_run(struct http_client *http, const struct config *cfg,
	       const struct fix_target *t, enum mitigation_action a, const cJSON *record,
	       struct strbuf *out)
{
	const struct runtime_action *steps = action_of(t, a, out);
	struct runtime_call c = { http, cfg, t, NULL };

	return steps ? steps->run(&c, record, out) : -1;
}

int action_check(struct http_client *http, const struct config *cfg,
		 const struct fix_target *t, enum mitigation_action a, const cJSON *record,
		 struct strbuf *out)
{
	const struct runtime_action *steps = action_of(t, a, out);
	struct runtime_call c = { http, cfg, t, NULL };

	return steps ? steps->check(&c, record, out) : -1;
}
