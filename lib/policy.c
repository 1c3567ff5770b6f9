/*
 * policy.c: what `sre fix` may do without a person (see fix.h).
 *
 * Nothing runs on its own unless fix.auto names the action; a service can
 * narrow that ([service] allow) or keep actions for a person to approve
 * ([service] deny); and a diagnosis below fix.min-confidence always waits
 * for a person, whatever the lists say.
 */
#include "fix.h"
#include "scout.h"
#include "util.h"

static int number_key(const struct config *cfg, const char *key, double *out, double max)
{
	const char *v = config_get_string(cfg, key);
	char *end;
	double d;

	if (!v)
		return 0;
	d = strtod(v, &end);
	if (end == v || *end || !(d >= 0) || d > max)
		return error("%s is \"%s\"; it takes a number from 0 to %g", key, v, max);
	*out = d;
	return 0;
}

int fix_policy_read(struct fix_policy *p, const struct config *cfg)
{
	int r;

	p->max_per_hour = 3;
	p->min_confidence = 0.75;
	p->escalate_below = 0.5;
	p->memory_step = 1.5;
	p->review_timeout_ms = 24LL * 3600 * 1000;
	config_list(cfg, "fix.auto", ", \t", &p->autos);
	for (size_t i = 0; i < p->autos.nr; i++) {
		enum mitigation_action a;
		if (mitigation_action_parse(p->autos.v[i], &a) < 0)
			return error("fix.auto names \"%s\", which is no action: restart, rollback, "
				     "scale, increase-memory, patch-config, fix-image, escalate, none",
				     p->autos.v[i]);
	}
	r = config_get_int(cfg, "fix.max-per-hour", &p->max_per_hour);
	if (r < 0)
		return -1;
	if (p->max_per_hour < 0)
		return error("fix.max-per-hour is %lld; it takes 0 or more", p->max_per_hour);
	if (number_key(cfg, "fix.min-confidence", &p->min_confidence, 1) < 0 ||
	    number_key(cfg, "fix.escalate-below", &p->escalate_below, 1) < 0 ||
	    number_key(cfg, "fix.memory-step", &p->memory_step, 10) < 0)
		return -1;
	if (p->memory_step <= 1)
		return error("fix.memory-step is %g; it must be more than 1", p->memory_step);
	if (config_get_duration_ms(cfg, "fix.review-timeout", &p->review_timeout_ms) < 0)
		return -1;
	return 0;
}

void fix_policy_release(struct fix_policy *p)
{
	strvec_clear(&p->autos);
}

static int listed(const struct strvec *list, const char *name)
{
	for (size_t i = 0; i < list->nr; i++)
		if (!strcmp(list->v[i], name))
			return 1;
	return 0;
}

int fix_policy_allows(const struct fix_policy *p, const struct config *cfg, const char *service,
		      enum mitigation_action a, double confidence, struct strbuf *why)
{
	struct strbuf key = STRBUF_INIT;
	struct strvec allow = STRVEC_INIT, deny = STRVEC_INIT;
	const char *name = mitigation_action_name(a);
	int yes = 0;

	config_list(cfg, config_key_of(&key, "service", service, "allow"), ", \t", &allow);
	config_list(cfg, config_key_of(&key, "service", service, "deny"), ", \t", &deny);
	if (listed(&deny, name))
		strbuf_addf(why, "%s is denied on %s (service.%s.deny)", name, service, service);
	else if (!listed(&p->autos, name))
		strbuf_addf(why, "%s is not in fix.auto", name);
	else if (allow.nr && !listed(&allow, name))
		strbuf_addf(why, "%s is not in service.%s.allow", name, service);
	else if (!(confidence >= p->min_confidence)) /* NaN waits too */
		strbuf_addf(why, "the diagnosis's confidence %.2f is below fix.min-confidence %.2f",
			    confidence, p->min_confidence);
	else
		yes = 1;
	strvec_clear(&allow);
	strvec_clear(&deny);
	strbuf_release(&key);
	return yes;
}
