/*
 * chaos.c: faults injected on purpose and undone for sure (chaos.h has
 * the design). Being built: every entry point says so.
 */
#include "chaos.h"

int chaos_allowed(const struct config *cfg, const char *service)
{
	struct strvec allow = STRVEC_INIT;
	int yes = 0;

	config_get_all(cfg, "chaos.allow", &allow);
	for (size_t i = 0; i < allow.nr && !yes; i++)
		yes = !strcmp(allow.v[i], "*") || !strcmp(allow.v[i], service);
	strvec_clear(&allow);
	return yes;
}

int chaos_inject(const struct engine_context *ctx, const char *fault, const char *target,
		 const cJSON *args, const struct chaos_options *o, long long *id,
		 struct strbuf *report)
{
	*id = 0;
	return error("sre chaos: injecting %s is not built yet", fault);
}

int chaos_rollback(const struct engine_context *ctx, long long id, const char *run,
		   struct strbuf *report)
{
	return error("sre chaos: rollback is not built yet");
}

int chaos_rollback_expired(const struct engine_context *ctx, struct strbuf *report)
{
	return 0;
}

cJSON *chaos_status_json(const struct engine_context *ctx, int all)
{
	return cJSON_CreateArray();
}

long long chaos_in_place(const struct engine_context *ctx, const char *service)
{
	return 0;
}
