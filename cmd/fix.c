/*
 * fix.c: `sre fix`, one guarded remediation of a diagnosed incident.
 *
 *   sre fix [--dry-run] [--yes] [--json] <incident>
 *   sre fix --status [--json] [<incident>...]
 *
 * The engine is lib/fix-engine.c (plan, approve, carry out, resume,
 * follow the pull request, verify; its header is the manual). This file
 * parses the options, opens what the engine is given (the store, the
 * tracker, the actor), asks a person on the terminal when policy wants
 * one, prints each incident's outcome with fix_outcome_print(), and
 * delivers the outbox to the tracker after the engine wrote to it.
 */
#include <unistd.h>

#include "builtin.h"
#include "../lib/fix-engine.h"
#include "../lib/format.h"

static const char *const fix_usage[] = {
	"sre fix [--dry-run] [--yes] [--json] <incident>",
	"sre fix --status [--json] [<incident>...]",
	NULL,
};

/* Ask on the terminal; 1 yes. Only when both ends are a terminal. */
static int ask(void *data, const struct fix_plan *p)
{
	char answer[16];
	FILE *tty;
	int yes;

	if (!isatty(0) || !isatty(2))
		return 0;
	tty = fopen("/dev/tty", "r+");
	if (!tty)
		return 0;
	fix_plan_print(stderr, p, 0);
	fprintf(tty, "Carry out %s on %s? [y/N] ", mitigation_action_name(p->action),
		p->have_target ? p->target.service : "?");
	fflush(tty);
	yes = fgets(answer, sizeof(answer), tty) && (answer[0] == 'y' || answer[0] == 'Y');
	fclose(tty);
	return yes;
}

static void note(void *data, const char *line)
{
	fprintf(stderr, "%s\n", line);
}

/* The engine's answer as the exit code, after delivering what it queued. */
static int exit_code(int r, const struct fix_outcome *out)
{
	int ret = r < 0 ? EXIT_FATAL : r;

	if (!out->deliver)
		return ret;
	if (sre_deliver() && !ret)
		ret = EXIT_FOUND;
	/* Refused because the tracker holds another state: not a failure of sre's. */
	if (ret == EXIT_FATAL && out->left_to_tracker)
		ret = EXIT_FOUND;
	return ret;
}

/* --status without ids: every incident with a pull request open. */
static int follow_all(struct engine_context *ctx, const struct fix_options *o, int json)
{
	long long *ids = NULL;
	size_t nr = 0;
	int ret = 0;

	if (!sre_store_if_exists())
		return 0;
	ctx->store = sre_store();
	ctx->tracker = sre_tracker();
	if (fix_pull_incidents(ctx, &ids, &nr) < 0)
		return EXIT_FATAL;
	json_lines(1);
	for (size_t i = 0; i < nr; i++) {
		struct fix_outcome out;
		int r;

		fix_outcome_init(&out);
		r = fix_follow_pull(ctx, o, ids[i], &out);
		if (r >= 0)
			fix_outcome_print(stdout, &out, json);
		if (out.resolved && remember_postmortems() < 0)
			warning("the post-mortem was not written; the next `sre remember` writes it");
		r = r < 0 ? EXIT_FATAL : r;
		if (r > ret)
			ret = r;
		fix_outcome_release(&out);
	}
	free(ids);
	if (sre_deliver() && !ret)
		ret = EXIT_FOUND;
	return ret;
}

static int fix_one(struct engine_context *ctx, const struct fix_options *o, long long id,
		   int json)
{
	struct fix_outcome out;
	struct incident inc = { 0 };
	int r;

	/* No such incident: exit 1, as every command that takes an id. */
	if (!sre_store_if_exists() || store_incident_get(sre_store(), id, &inc) > 0) {
		error("no incident %lld", id);
		return EXIT_FOUND;
	}
	incident_release(&inc);
	ctx->store = sre_store();
	/* A dry run writes one event and needs no tracker. */
	if (!o->dry_run)
		ctx->tracker = sre_tracker();
	fix_outcome_init(&out);
	r = fix_incident(ctx, o, id, &out);
	/* A dry run prints its plan even when the run it predicts is an error. */
	if (r >= 0 || out.dry_run)
		fix_outcome_print(stdout, &out, json);
	if (out.resolved && remember_postmortems() < 0)
		warning("the post-mortem was not written; the next `sre remember` writes it");
	r = exit_code(r, &out);
	fix_outcome_release(&out);
	return r;
}

int cmd_fix(int argc, const char **argv)
{
	struct fix_options o = { .ask = ask };
	struct fix_policy pol = FIX_POLICY_INIT;
	struct engine_context ctx = { .cfg = &the_sre.cfg, .note = note };
	int json = 0, ret = 0;
	const struct option opts[] = {
		OPT_BOOL('n', "dry-run", &o.dry_run, "print the plan, the diff and what the run would do; change nothing"),
		OPT_BOOL('y', "yes", &o.yes, "approve the plan: a person is running this"),
		OPT_BOOL(0, "json", &json, "print the plan, or what was done, as JSON"),
		OPT_BOOL(0, "status", &o.status, "follow the pull requests sre opened"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, fix_usage, 0);
	if (o.status && (o.dry_run || o.yes))
		usage_error(fix_usage, opts, "--status goes alone");
	if (!o.status && argc != 1)
		usage_error(fix_usage, opts, "sre fix takes one incident");
	if (fix_policy_read(&pol, &the_sre.cfg) < 0) {
		fix_policy_release(&pol);
		return EXIT_FATAL;
	}
	o.policy = &pol;
	ctx.actor = sre_actor();
	ctx.progress = isatty(2);
	if (o.status && !argc) {
		ret = follow_all(&ctx, &o, json);
	} else {
		for (int i = 0; i < argc; i++) {
			long long id;
			int r;
			if (parse_ll(argv[i], &id) < 0 || id <= 0)
				usage_error(fix_usage, opts, "'%s' is not an incident id (a positive number)",
					    argv[i]);
			r = fix_one(&ctx, &o, id, json);
			if (r > ret)
				ret = r;
		}
	}
	fix_policy_release(&pol);
	return ret;
}
