/*
 * diagnose.h: the engine of `sre diagnose`: read the evidence, judge it,
 * and keep the answer on a live incident (lib/diagnose.c).
 *
 * Three ways in, one result:
 *
 *   diagnose_incident()  a live incident: its evidence read from every
 *                        configured source (lib/collect.c), judged by the
 *                        rules (lib/rules.c), and kept: a row of the
 *                        diagnoses table and a comment for the tracker in
 *                        one transaction, then the move
 *                        ANALYSIS_IN_PROGRESS -> ANALYSIS_COMPLETE, or
 *                        INCIDENT_REQUIRES_HUMAN when the answer is
 *                        unknown or escalate;
 *   diagnose_problem()   a question about a service, without an incident:
 *                        read and judged, nothing kept;
 *   diagnose_bundle()    a saved bundle, offline: judged, nothing kept.
 *
 * Diagnosing an incident again (cron piping `sre scout --porcelain` into
 * it every minute) records and announces only an answer that changed; an
 * escalated incident keeps its state whatever the answer, since a person
 * hands it back; after a fix began the diagnosis is only recorded. The
 * incident's writes happen under its lease (engine_lease_take()), so a
 * fix and a diagnosis of one incident never interleave.
 *
 * The engine prints nothing but errors and notes (ctx->note): the caller
 * prints the result with diagnose_result_print() of lib/format.h.
 */
#ifndef SRE_DIAGNOSE_H
#define SRE_DIAGNOSE_H

#include "adviser.h"
#include "engine.h"
#include "memory.h"
#include "evidence.h"
#include "log-patterns.h"
#include "rules.h"

struct diagnose_options {
	const char *save;         /* write the evidence read into this new directory */
	const char *problem;      /* the question (diagnose_problem()), else NULL */
	int64_t timeout_ms;       /* the deadline for reading; 0: diagnose.timeout */
	/*
	 * The LLM adviser (lib/adviser.h) after the rules: 1 ask it (--llm),
	 * -1 never (--no-llm), 0 as diagnose.adviser says (rules, the default,
	 * or llm).
	 */
	int llm;
	int no_cache;             /* --no-cache: ask the model even when its answer is cached */
	/*
	 * Told of what happens as it happens (--stream), or NULL: "source_read"
	 * {source, status, error, elapsed_ms} for each source, "finding"
	 * {rule, category, confidence, action, target} for each rule that
	 * fired, and the adviser's events (lib/adviser.h).
	 */
	void (*stream)(void *data, const char *kind, const cJSON *event);
	void *stream_data;
	/* The configuration [llm] is read from for a bundle, which has none; may be NULL. */
	const struct config *cfg;
	/*
	 * sre diagnose -i: keep the adviser's session (and its client) in the
	 * result for follow-up questions, whether or not the adviser was asked
	 * for the diagnosis; cancel is the HTTP clients' Ctrl-C flag (may be
	 * NULL).
	 */
	int keep_session;
	volatile sig_atomic_t *cancel;
};

/*
 * An evidence source the configuration does not give for the service,
 * and the lines that would add it (git-config text, the service's name
 * filled in when it is a plain word, else "<service>"; URLs and paths are
 * examples to edit). Which sources: those lib/collect.c would read, when
 * their *_configured() says no and the service's runtime does not rule
 * them out (a kubernetes service gets no Docker or process hint).
 */
struct diagnose_missing {
	const char *source;       /* "kubernetes", "docker", "jaeger", "prometheus", "git", "host" */
	const char *gives;        /* what it would add, in a few words */
	char *config;             /* the lines, newline-separated, tab-indented keys */
};

/* What a diagnosis found. Owned: diagnose_result_release(). */
struct diagnose_result {
	long long incident;       /* the live incident, or 0 */
	const char *problem;      /* borrowed: the question, or NULL */
	const char *bundle;       /* borrowed: the bundle's directory, or NULL */
	struct evidence ev;
	struct diagnosis d;
	int deliver;              /* it queued a write for the tracker: deliver it */
	/*
	 * The templates of the service's logs (lib/log-patterns.h), the new
	 * first; on a live incident they are recorded for the service, and each
	 * new one is also a line of the answer's evidence ("new log pattern").
	 */
	struct log_patterns templates;
	/*
	 * What memory recalls of this incident (a live diagnosis only,
	 * lib/memory.h): the known error it matches, the most similar past
	 * incidents and what fixed them, and how the confidence moved.
	 */
	struct known_error *known;
	struct memory_hit *similar;
	size_t similar_nr;
	char *memory_note;
	/*
	 * The LLM adviser's answer beside the rules' (asked: it was asked;
	 * provider and model, or NULL when none is configured). When it is
	 * used and disagrees, the answer's confidence is the lower of the two,
	 * so that fix's approval floors ask a person.
	 */
	int adviser_asked;
	char *adviser_provider, *adviser_model;
	struct adviser_result adviser;
	/*
	 * With o->keep_session and an LLM configured: the session for
	 * follow-up questions, and the client it talks through; else NULL.
	 * Live diagnoses also give it the live tool, which reads the incident's
	 * service again (live_service, live_check, live_cfg).
	 */
	struct adviser_session *session;
	struct llm_client *llm;
	char *live_service, *live_check;
	const struct config *live_cfg;
	volatile sig_atomic_t *cancel;
	/* sources not configured (a live diagnosis only; a bundle has no configuration) */
	struct diagnose_missing *missing;
	size_t missing_nr, missing_alloc;
};

/* Below this confidence the text shows the sources not configured (--json always has them). */
#define DIAGNOSE_HINT_BELOW 0.75

/* Fill out->missing for service from cfg (see struct diagnose_missing). */
void diagnose_missing_sources(struct diagnose_result *out, const struct config *cfg,
			      const char *service);

#define DIAGNOSE_RESULT_INIT { .ev = EVIDENCE_INIT, .d = DIAGNOSIS_INIT, .templates = LOG_PATTERNS_INIT, \
			       .adviser = ADVISER_RESULT_INIT }
/* At most this many templates in the diagnosis's "log_templates", and new ones as evidence. */
#define DIAGNOSE_TEMPLATES_MAX 50
#define DIAGNOSE_NEW_PATTERNS_MAX 5

void diagnose_result_release(struct diagnose_result *r);

/* Judge the bundle in dir. 0, or -1 after an error. */
int diagnose_bundle(const struct diagnose_options *o, const char *dir,
		    struct diagnose_result *out);

/*
 * The service a question is about: a configured service the text names,
 * else the service of a check it names; NULL when it names none (caller
 * frees).
 */
char *diagnose_problem_service(const struct config *cfg, const char *problem);

/*
 * Read the evidence about service now and judge it against o->problem;
 * ctx->store may be NULL (no past incidents). 0 or -1.
 */
int diagnose_problem(const struct engine_context *ctx, const struct diagnose_options *o,
		     const char *service, struct diagnose_result *out);

/*
 * Diagnose incident id and keep the answer (see above). 0, 1 when there
 * is no such incident or another run holds its lease (said), -1 after an
 * error.
 */
int diagnose_incident(const struct engine_context *ctx, const struct diagnose_options *o,
		      long long id, struct diagnose_result *out);

/*
 * The adviser's transcript kept with incident id's latest diagnosis:
 * exactly what was sent to the model and what came back. 0, 1 when the
 * latest diagnosis asked no adviser, -1 after an error.
 */
int diagnose_transcript(struct store *st, long long id, struct strbuf *out);

#endif
