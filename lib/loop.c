/*
 * loop.c: one pass of sre's loop (see loop.h): the engines of scout,
 * diagnose and fix called in turn, each on what the last left.
 */
#include "diagnose.h"
#include "fix-engine.h"
#include "fix.h"
#include "loop.h"
#include "scout.h"

void loop_report_release(struct loop_report *rep)
{
	strbuf_release(&rep->lines);
}

static void say_source(void *data, const char *line)
{
	struct loop_report *rep = data;

	strbuf_addf(&rep->lines, "scout: %s\n", line);
}

/* A scout setting from 1 to 1000, else its default. */
static int setting(const struct config *cfg, const char *key, int dflt)
{
	long long v;

	return config_get_int(cfg, key, &v) == 0 && v >= 1 && v <= 1000 ? (int)v : dflt;
}

static int scout_step(const struct engine_context *ctx, struct loop_report *rep)
{
	struct findings fs = FINDINGS_INIT;
	struct strvec ran = STRVEC_INIT;
	struct scout_report srep = SCOUT_REPORT_INIT;
	struct scout_options so = { 0 };
	int configured, r;

	r = scout_collect(ctx->cfg, &fs, &ran, &configured, say_source, rep);
	if (r < 0)
		goto out;
	findings_redact(&fs);
	rep->sources += (int)ran.nr;
	so.fail_after = setting(ctx->cfg, "scout.fail-after", 1);
	so.recover_after = setting(ctx->cfg, "scout.recover-after", 2);
	so.actor = ctx->actor;
	/* Nothing read is no verdict: what is open stays open. */
	if (r == 0 && configured && (r = scout_decide(ctx->store, ctx->tracker, ctx->cfg, &fs, &ran,
						       &so, &srep)) == 0)
		for (size_t i = 0; i < srep.nr; i++)
			if (!strcmp(srep.v[i].what, "opened")) {
				rep->opened++;
				strbuf_addf(&rep->lines, "incident %lld opened\n", srep.v[i].id);
			}
out:
	scout_report_release(&srep);
	findings_clear(&fs);
	strvec_clear(&ran);
	return r < 0 ? -1 : 0;
}

static void diagnose_one(const struct engine_context *ctx, long long id, struct loop_report *rep)
{
	struct diagnose_options o = { 0 };
	struct diagnose_result res = DIAGNOSE_RESULT_INIT;

	if (diagnose_incident(ctx, &o, id, &res) < 0) {
		rep->failed++;
	} else {
		rep->diagnosed++;
		strbuf_addf(&rep->lines, "incident %lld diagnosed: %s\n", id,
			    diagnosis_category_name(res.d.answer.category));
	}
	diagnose_result_release(&res);
}

static void fix_one(const struct engine_context *ctx, const struct fix_options *o, long long id,
		    struct loop_report *rep)
{
	struct fix_outcome out;
	int r;

	fix_outcome_init(&out);
	r = fix_incident(ctx, o, id, &out);
	if (r < 0)
		rep->failed++;
	if (out.done) {
		rep->acted++;
		strbuf_addf(&rep->lines, "incident %lld: %s\n", id, out.done);
	}
	if (out.resolved) {
		rep->resolved++;
		strbuf_addf(&rep->lines, "incident %lld resolved: %s\n", id, out.resolved);
	}
	if (out.escalated || out.waiting) {
		rep->waiting++;
		strbuf_addf(&rep->lines, "incident %lld waits for a person: %s\n", id,
			    out.escalated ? out.escalated : out.waiting);
	}
	fix_outcome_release(&out);
}

int loop_pass(const struct engine_context *ctx, struct loop_report *rep)
{
	struct fix_policy pol = FIX_POLICY_INIT;
	struct fix_options fo = { 0 };
	struct incident_filter f = { .state = -1 };
	struct incident *list = NULL;
	size_t nr = 0;

	if (fix_policy_read(&pol, ctx->cfg) < 0)
		return -1;
	fo.policy = &pol;
	if (scout_step(ctx, rep) < 0 || store_incident_list(ctx->store, &f, &list, &nr) < 0) {
		fix_policy_release(&pol);
		return -1;
	}
	for (size_t i = 0; i < nr; i++) {
		const struct incident *inc = &list[i];

		if (inc->state == STATE_INCIDENT_RESOLVED || inc->state == STATE_INCIDENT_REQUIRES_HUMAN)
			continue;
		if (inc->state == STATE_INCIDENT_DETECTED)
			diagnose_one(ctx, inc->id, rep);
		/* Nobody is asked: what the policy does not allow waits for `sre fix --yes`. */
		fix_one(ctx, &fo, inc->id, rep);
	}
	incident_list_free(list, nr);
	fix_policy_release(&pol);
	return 0;
}
