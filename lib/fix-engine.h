/*
 * fix-engine.h: the engine of `sre fix`: plan, approve, carry out, resume,
 * follow a pull request, verify (lib/fix-engine.c).
 *
 * The parts it puts together are in lib/fix.h (the target, policy,
 * actions, manifests, the repository, pull requests, verification); this
 * is the story that runs them, shared by `sre fix` and anything else that
 * fixes (a continuous `sre run`), as git's sequencer is shared by revert,
 * cherry-pick and rebase. It is kept apart from fix.h so that the parts
 * can be read, and changed, without the story.
 *
 * The plan comes from the incident's latest diagnosis (lib/rules.c): one
 * action from the closed set, on a target the configuration names
 * (fix_target_read). Policy decides whether a person must approve; a
 * direct action is written to the timeline before it starts (in the very
 * transaction that moves the incident into DEPLOYMENT_IN_PROGRESS) and
 * after it ends, so that a run killed in the middle is judged, not
 * repeated blindly, by the next; a repository change becomes a branch, a
 * commit and a pull request that fix_incident() with status set follows
 * until it is merged; and every fix ends with the incident's own check
 * re-run.
 *
 *   ANALYSIS_COMPLETE -> FIX_GENERATION_IN_PROGRESS -> FIX_GENERATED
 *     direct:      -> DEPLOYMENT_IN_PROGRESS -> DEPLOYMENT_COMPLETE
 *     repository:  -> PR_CREATION_IN_PROGRESS -> PR_CREATED
 *                  (status) -> PR_UNDER_REVIEW -> PR_APPROVED -> PR_MERGED
 *                  -> DEPLOYMENT_IN_PROGRESS -> DEPLOYMENT_COMPLETE
 *   -> VERIFICATION_IN_PROGRESS -> VERIFICATION_COMPLETE -> INCIDENT_RESOLVED
 *
 * and to INCIDENT_REQUIRES_HUMAN, with the reason (noted as "incident N
 * needs a person: ..."), whenever policy, the action or the verification
 * says a person must take over.
 *
 * The engine never asks a person itself: a plan that policy does not
 * allow goes to o->ask (the caller's prompt on a terminal), and without
 * one it waits in FIX_GENERATED. It never prints a result: the caller
 * prints the plan (dry run) or the outcome, with fix_plan_print() and
 * fix_outcome_print() of lib/format.h.
 */
#ifndef SRE_FIX_ENGINE_H
#define SRE_FIX_ENGINE_H

#include <cJSON.h>

#include "engine.h"
#include "fix.h"
#include "strbuf.h"

/* What a fix does. */
enum fix_plan_kind {
	FIX_PLAN_DIRECT,       /* an action on the service where it runs */
	FIX_PLAN_REPOSITORY,   /* a change to core.repo, as a pull request */
	FIX_PLAN_ESCALATE,     /* hand over to a person */
	FIX_PLAN_VERIFY,       /* nothing to do but check that it is well */
};

/*
 * What a run of sre fix does with an incident and its plan. One function,
 * fix_decide(), takes this decision for the real run and for --dry-run, so
 * a dry run predicts exactly what the same command without --dry-run
 * (with or without --yes, nobody answering a prompt: a pipe, cron, CI)
 * would do, with the same words and the same exit status.
 */
enum fix_verdict {
	FIX_VERDICT_CONTINUE,  /* carry on where a run left it: a pull request, a deployment, a check (0) */
	FIX_VERDICT_VERIFY,    /* nothing to do but re-run the check (0 when well, else escalated: 1) */
	FIX_VERDICT_ACT,       /* carry out the action or open the pull request (0) */
	FIX_VERDICT_WAIT,      /* a person must approve: it waits in FIX_GENERATED (1) */
	FIX_VERDICT_REFUSE,    /* refused: it goes, or stays, with a person (1) */
	FIX_VERDICT_STOP,      /* sre fix cannot go on from its state (an error: 128) */
};

/* "continue", "verify", "act", "wait", "refuse", "stop". */
const char *fix_verdict_name(enum fix_verdict v);
/* What fix_incident() returns for it: 0, 1 or -1 (see there). */
int fix_verdict_code(enum fix_verdict v);

struct fix_plan {
	long long incident;
	enum mitigation_action action;
	enum fix_plan_kind kind;
	struct fix_target target;
	int have_target;
	cJSON *params;            /* the diagnosis's params, checked */
	double confidence;
	char *category, *root_cause;
	/* a repository change */
	char *repo, *base, *branch, *path, *revert;
	struct strbuf text, diff;
	/* the verdict of policy */
	int requires_approval;
	struct strbuf approval;   /* why a person must approve */
	int refused;
	struct strbuf refusal;    /* why it goes to a person instead */
	/* what a run does with it: fix_decide(), shared by the real run and --dry-run */
	int decided;
	enum fix_verdict verdict;
	struct strbuf decision;   /* the run's own words for it */
};

void fix_plan_init(struct fix_plan *p);
void fix_plan_release(struct fix_plan *p);

/*
 * Decide what a run with o does with inc (diagnosed, not resolved) and its
 * plan p: fills p->verdict and p->decision, and returns the verdict.
 */
struct fix_options;
enum fix_verdict fix_decide(const struct fix_options *o, const struct incident *inc,
			    struct fix_plan *p);

/* The plan as `sre fix --dry-run --json` prints it and the timeline keeps it. Caller deletes. */
cJSON *fix_plan_json(const struct fix_plan *p);
/* "direct" plans: the runtime's name; else "repository", "person" or "none". */
const char *fix_plan_runtime(const struct fix_plan *p);

struct fix_options {
	const struct fix_policy *policy;
	int dry_run;    /* plan and decide, record a "dry-run" event, change nothing else */
	int yes;        /* a person approved (--yes): no prompt, no confidence floor; with
			 * dry_run, the run with --yes is the one predicted */
	int status;     /* only follow the incident's pull request */
	/*
	 * Ask a person whether to carry out plan: 1 yes. NULL, or 0: nobody
	 * approved, and the incident waits for `sre fix --yes`.
	 */
	int (*ask)(void *data, const struct fix_plan *plan);
	void *ask_data;
};

/*
 * What one incident's fix came to, for the caller to print. Strings are
 * owned: fix_outcome_release().
 */
struct fix_outcome {
	long long incident;
	int settled;                 /* the engine got to the incident: state is known */
	enum incident_state state;   /* where the incident was left */
	struct fix_plan plan;        /* the plan, when one was made */
	int planned;                 /* plan is filled */
	int dry_run;                 /* only planned: print the plan */
	char *done;                  /* "restart of web" when an action was carried out */
	char *done_output;           /* what it said */
	int pull_opened;             /* a pull request was opened by this run */
	int pull_followed;           /* a pull request was read (status) */
	long long pull;              /* its number and where it is */
	char *pull_url;
	int approved, changes_requested, reviewers;
	int no_pull;                 /* status asked of an incident without a pull request */
	char *resolved;              /* what the check saw, when it was resolved */
	char *escalated;             /* why a person must take over */
	char *waiting;               /* why it waits for a person's approval */
	/* For the caller: */
	int deliver;                 /* it wrote to the outbox: deliver it */
	int left_to_tracker;         /* a move was refused: the tracker holds another state */
};

void fix_outcome_init(struct fix_outcome *out);
void fix_outcome_release(struct fix_outcome *out);

/*
 * Fix incident id one step as o says: plan (and, with dry_run, stop
 * there), or carry on from where a run left it (a pull request to follow,
 * an interrupted action to judge, a verification to finish). Without
 * dry_run it first takes the incident's lease (engine_lease_take()), kept
 * until the process ends. out is filled (init it first).
 *
 * Returns 0 done (or nothing to do), 1 a person must act (refused,
 * escalated, waiting for approval, the lease held by another run), or -1
 * after an error (printed). "no incident N" is -1.
 */
int fix_incident(const struct engine_context *ctx, const struct fix_options *o, long long id,
		 struct fix_outcome *out);

/*
 * Follow the pull request of incident id, taking its lease for the time
 * it takes ("sre fix --status"): as fix_incident() with status.
 */
int fix_follow_pull(const struct engine_context *ctx, const struct fix_options *o,
		    long long id, struct fix_outcome *out);

/*
 * The incidents that have a pull request open (PR_CREATED to PR_MERGED):
 * *ids (caller frees) of *nr. A store without incidents is 0 and none.
 */
int fix_pull_incidents(const struct engine_context *ctx, long long **ids, size_t *nr);

#endif
