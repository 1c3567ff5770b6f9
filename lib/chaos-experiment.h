/*
 * chaos-experiment.h: experiments in Chaos Toolkit's format, read and run
 * (`sre chaos run`), each run written as a Chaos Toolkit journal.
 *
 * An experiment is read unchanged from a Chaos Toolkit JSON file: title,
 * description, configuration (plain values and {"type": "env", "key",
 * "default"}), secrets (from the environment only: {"type": "env", "key"};
 * a secret written in the file is refused), the steady-state-hypothesis
 * with probes and tolerances, method, rollbacks, pauses before and after,
 * and runtime.hypothesis / runtime.rollbacks strategies. A bad experiment
 * is refused with one error naming the JSON path ($.method[2].provider.type).
 *
 * Providers:
 *   http     url (http or https only), method, headers, arguments (a
 *            query string for GET, else a body: JSON when Content-Type
 *            says json, else a form), timeout (s, or [connect, read]),
 *            expected_status; through lib/http.c, never retried. Its
 *            output is {status, headers, body}.
 *   process  path and arguments (an argv list, or a string split into
 *            words by shell quoting rules with nothing expanded), timeout;
 *            run from an argv through lib/run-command.c, NEVER a shell,
 *            the last 64 KiB of its stdout kept. Output {status, stdout,
 *            stderr}. An experiment file is a program the user chose to run.
 *   sre      {"type": "sre", "fault", "target", "arguments"}: chaos_inject()
 *            (lib/chaos.h), on services in chaos.allow only; undone by
 *            chaos_rollback() of the run.
 *   python and anything else is refused: sre runs no Python.
 *
 * ${name} in a provider's strings is replaced by the configuration's
 * value, else the secret's (the configuration wins, as in Chaos Toolkit);
 * an unknown name is left as it is. Secrets' values never reach the
 * journal: the journal holds the activities as written, and the outputs
 * with every secret value replaced by <redacted>.
 *
 * Tolerances (a probe's value is its output's "status" when it has one):
 *   true, 3, "ok"       equal, strictly (true is not 1)
 *   [a, b] of numbers   a <= value <= b
 *   [x, y, ...]         one of them
 *   {"type": "range", "range": [a, b]}
 *   {"type": "regex", "pattern", "target"}   POSIX ERE (regcomp) over the
 *                       value, or its "target" field (default: body for
 *                       http, stdout for process), at most 64 KiB of it
 *   {"type": "jsonpath", "path", "expect", "target"}   the subset
 *                       $.a.b, $.a[0], $.a[*].b (the "$." may be left
 *                       out): met when it matches something and, with
 *                       expect, every match equals expect
 *   {"type": "probe", ...}   a probe run in turn: met when it succeeds
 *                       (a process exits 0; http answers 2xx, or its
 *                       expected_status)
 *
 * Runs as Chaos Toolkit does: the hypothesis before (not met: status
 * "failed", no method), the method in order with its pauses, the
 * hypothesis after (not met: deviated), then rollbacks by strategy:
 *   default   unless the run failed (the steady state before, or a
 *             method activity) or was interrupted; a deviation plays them
 *   always    whatever happened
 *   never     not at all
 *   deviated  only when the hypothesis after deviated
 * sre's own faults (chaos_rollback() of the run) are undone under every
 * strategy but never, interrupted or not: a fault is never left behind
 * by accident, only when the user said so (`sre chaos rollback` then).
 * Chaos Toolkit's journal spec says rollbacks MUST NOT run after an
 * interruption; its "always" plays them anyway, and so does sre's.
 * A method activity that fails does not stop the method (Chaos Toolkit's
 * behaviour); the run ends "failed". Hypothesis strategies:
 * default (before and after), before-method-only, after-method-only,
 * during-method-only and continuously (the hypothesis also checked after
 * each method activity, into steady_states.during; a deviation there
 * deviates the run).
 *
 * The journal is Chaos Toolkit's, plus an "sre" object: the run's id and
 * each fault injected (fault, target, injected_at, chaos_id, expect, and
 * the loop's columns: incident, detected_at, diagnosed_category, action,
 * resolved_at, mttd_s, mttr_s, null until the loop is wired in).
 * An http or process action whose "expect" names a "target" service
 * ({"category": "oom", "target": "policy-service"}) is a fault too: it
 * breaks that service by the experiment's own means, so it is recorded
 * (chaos_mark(), chaos.allow only) before it runs and closed at the run's
 * rollback, its incidents tagged and graded like those of sre's faults.
 */
#ifndef SRE_CHAOS_EXPERIMENT_H
#define SRE_CHAOS_EXPERIMENT_H

#include <cJSON.h>
#include <signal.h>

#include "engine.h"
#include "strbuf.h"

enum chaos_strategy {
	CHAOS_ROLLBACK_FROM_EXPERIMENT = -1, /* runtime.rollbacks.strategy, else default */
	CHAOS_ROLLBACK_DEFAULT,
	CHAOS_ROLLBACK_ALWAYS,
	CHAOS_ROLLBACK_NEVER,
	CHAOS_ROLLBACK_DEVIATED,
};

/* "default", "always", "never", "deviated" into *out: 0, or -1 (nothing said). */
int chaos_strategy_parse(const char *name, enum chaos_strategy *out);

struct chaos_experiment;

/*
 * Read and check an experiment from text. 0 and *out (free it with
 * chaos_experiment_free()), or -1 with the reason in why ("$.method[1]:
 * ..."), nothing printed. Environment configuration and secrets are read
 * here.
 */
int chaos_experiment_parse(struct chaos_experiment **out, const char *text,
			   struct strbuf *why);
void chaos_experiment_free(struct chaos_experiment *e);
const char *chaos_experiment_title(const struct chaos_experiment *e);
/* Does e use the sre provider anywhere (it then needs the store)? 1 or 0. */
int chaos_experiment_uses_sre(const struct chaos_experiment *e);

struct chaos_run_options {
	enum chaos_strategy rollbacks;
	int dry_run;                     /* say each step in report; run nothing */
	const struct engine_context *ctx;/* for the sre provider and http.*; cfg may be NULL */
	const char *run;                 /* this run's id (chaos_options.run) */
	volatile sig_atomic_t *stop;     /* set by a signal: interrupted */
	/* Each step as it happens, one line without newline; NULL: silent. */
	void (*note)(void *data, const char *line);
	void *note_data;
	/*
	 * --loop: after the method, while the steady state does not hold and
	 * for at most heal_timeout_ms, heal is called (one pass of sre's
	 * loop), a second apart, before the hypothesis is probed again; then
	 * the "after" hypothesis as usual. NULL: an outside loop heals, or none.
	 */
	void (*heal)(void *data);
	void *heal_data;
	int64_t heal_timeout_ms;
};

/*
 * Run e. Returns the journal (the caller's to cJSON_Delete), NULL only
 * when nothing could be run at all (said). The journal's "status" and
 * "deviated" tell how it went; on a dry run it is NULL-free but records
 * nothing run.
 */
cJSON *chaos_experiment_run(struct chaos_experiment *e, const struct chaos_run_options *o);

/*
 * Probe e's steady-state hypothesis a second apart, until it holds or
 * timeout_ms passes (or o->stop): what a game day waits for between two
 * experiments, so that each starts from a healed system. 1 held (an
 * experiment without a hypothesis holds at once), 0 not in time; *waited_ms
 * says how long it took.
 */
int chaos_experiment_wait_steady(struct chaos_experiment *e, const struct chaos_run_options *o,
				 int64_t timeout_ms, int64_t *waited_ms);

/*
 * Does value meet tolerance? 1 yes, 0 no, -1 tolerance cannot be
 * applied (why says). provider_type ("http", "process") picks a regex's
 * and jsonpath's default target. A "probe" tolerance needs a run, so it
 * is -1 here.
 */
int chaos_tolerance_met(const cJSON *tolerance, const cJSON *value, const char *provider_type,
			struct strbuf *why);

/*
 * The values a jsonpath of the supported subset matches in doc, appended
 * to matches (an array; references into doc are copied). 0, or -1 when
 * the path is outside the subset (why says).
 */
int chaos_jsonpath(const cJSON *doc, const char *path, cJSON *matches, struct strbuf *why);

/* s with each ${name} replaced from e's configuration, then its secrets. */
char *chaos_experiment_substitute(const struct chaos_experiment *e, const char *s);

/* Write journal to path, mode 0600, atomically (a temporary file renamed). 0 or -1 (said). */
int chaos_journal_write(const char *path, const cJSON *journal);

#endif
