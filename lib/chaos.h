/*
 * chaos.h: faults injected on purpose (`sre chaos`), each one undone for
 * sure.
 *
 * A fault is named <runtime>-<what> and acts on one configured service,
 * through the runtime sre already knows for it ([service "<name>"]
 * runtime, lib/fix.h's fix_target):
 *
 *   process-kill      SIGKILL to the service's process (pidfile); undone by
 *                     its start command when it stays down
 *   process-stop      SIGSTOP; undone by SIGCONT
 *   docker-kill       POST /containers/<id>/kill; undone by /start
 *   docker-stop       /stop; undone by /start
 *   docker-pause      /pause; undone by /unpause
 *   docker-memory     /update to args.memory (bytes or 64Mi), which brings a
 *                     real OOM kill; undone by /update to the limits it had
 *   kubernetes-delete-pod   a pod of the Deployment deleted (its ReplicaSet
 *                     makes another; the undo waits for it)
 *   kubernetes-scale-zero   spec.replicas 0; undone by the replicas it had
 *   kubernetes-bad-image    a container's image set to args.image (default
 *                     a tag that does not exist); undone by the image it had
 *   kubernetes-memory       a container's memory limit patched; undone by
 *                     the limit it had
 *   proxy-latency, proxy-errors, proxy-reset, proxy-timeout,
 *   proxy-bandwidth   a toxic on [proxy "<name>"] (args.proxy, default the
 *                     service's name), read by `sre chaos proxy`
 *                     (lib/chaos-proxy.h); undone by removing it
 *
 * Safe by construction:
 *   - blast radius: only services named in chaos.allow (multi-valued; "*"
 *     for every configured service); anything else is refused, naming it;
 *   - before a fault is injected, its undo record (what to run, on what,
 *     with the original values read from the object as it was) is
 *     committed to the store (table chaos_faults), so a rollback can run
 *     it: at the end of an experiment, on failure, on SIGINT and SIGTERM,
 *     and after a kill -9 on the next `sre chaos rollback`;
 *   - a fault with a duration is removed by itself, and, if its injector
 *     died, by the next chaos_rollback_expired() (`sre chaos`, `sre run`);
 *   - nothing that arrives (a title, an experiment's text) picks a fault's
 *     target outside the configuration.
 * Incidents opened while a fault is in place on their service are tagged
 * (event "chaos"), so remember leaves them out of recall and escalate does
 * not page a person for them unless chaos.page says to.
 */
#ifndef SRE_CHAOS_H
#define SRE_CHAOS_H

#include <cJSON.h>
#include <time.h>

#include "config.h"
#include "engine.h"
#include "strbuf.h"

/* Is service inside the blast radius (chaos.allow)? 1 or 0. */
int chaos_allowed(const struct config *cfg, const char *service);

struct chaos_options {
	int64_t duration_ms;      /* removed by itself after it; 0: until rolled back */
	int dry_run;              /* say each step, touch nothing, record nothing */
	const char *run;          /* the experiment run that injects it (its journal's id), or NULL */
};

/*
 * Inject fault on target with args (an object, may be NULL): check it is
 * allowed and known, read what the undo needs, commit the undo record,
 * then act. What was done (or would be) goes to report, a line each.
 * *id is the record's id (0 on a dry run). 0, 1 refused (said: not
 * allowed, unknown fault, not configured, already in place), -1 when it
 * could not be injected (said; the record is rolled back or marked).
 */
int chaos_inject(const struct engine_context *ctx, const char *fault, const char *target,
		 const cJSON *args, const struct chaos_options *o, long long *id,
		 struct strbuf *report);

/*
 * An experiment's own activity (an http or process action whose "expect"
 * names a "target" service) breaks target: a record of it, in place from
 * now until the run's rollback, so that the incidents it causes are tagged
 * and the loop's answer is graded as for sre's own faults. sre undoes
 * nothing of it (the experiment's rollbacks do): rolling it back only
 * closes the record, as its lapse after chaos.hold-max does when the run
 * was killed first. Only on services in chaos.allow (said). The record's
 * id, or -1.
 */
long long chaos_mark(const struct engine_context *ctx, const char *what, const char *target,
		     const char *run);

/*
 * Undo fault id, or with id 0 every fault in place (or, with run set,
 * every fault of that run). Each undo is tried even when another failed;
 * a failed undo stays in place, with why, for the next rollback. 0 all
 * undone, 1 none in place (said), -1 some could not be undone (said).
 */
int chaos_rollback(const struct engine_context *ctx, long long id, const char *run,
		   struct strbuf *report);

/* Undo the faults whose duration has passed (their injector died). 0 or -1. */
int chaos_rollback_expired(const struct engine_context *ctx, struct strbuf *report);

/*
 * The faults in place (all: every fault recorded, newest first) as a JSON
 * array: id, fault, target, args, injected_by, injected_at, age_s,
 * expires_at, run, state, error, and outcome (chaos_fault_outcome()).
 * NULL after an error.
 */
cJSON *chaos_status_json(const struct engine_context *ctx, int all);

/*
 * What the loop did about fault id, read from the store, into out: the
 * incident opened under it ("incident", tagged by its chaos event),
 * "detected_at" and "mttd_s" (from the fault's injection), its latest
 * diagnosis's "category", the "action" taken and how it ended
 * ("action_result"), "resolved_at" and "mttr_s". A field not known (yet)
 * is null. 0, 1 no such fault, -1.
 */
int chaos_fault_outcome(const struct engine_context *ctx, long long id, cJSON *out);

/* The service a fault in place acts on, when one does on service: its id, 0 none, -1. */
long long chaos_in_place(const struct engine_context *ctx, const char *service);

#endif
