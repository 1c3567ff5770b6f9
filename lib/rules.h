/*
 * rules.h: the rule engine of `sre diagnose`, which needs no LLM.
 *
 * A rule is a named function over the evidence (lib/evidence.h) that
 * adds findings: a category, a root cause in one sentence, the evidence
 * it rests on (quoted, with its source), a confidence between 0 and 1, and
 * one mitigation from a closed set with its target. rules_diagnose() runs
 * every rule and picks the answer: the finding with the highest
 * confidence, or, when no rule fired, "unknown" with the strongest signals
 * found and mitigation none. No rule invents a cause: each fires on a
 * fact it can quote.
 *
 * An LLM adviser (a later issue) plugs in beside the rules: it reads the
 * same evidence and returns a finding of the same shape, which is checked
 * against the same closed sets (diagnosis_category_parse,
 * diagnosis_action_parse) before it can be added.
 */
#ifndef SRE_RULES_H
#define SRE_RULES_H

#include <cJSON.h>

#include "evidence.h"
#include "localize.h"
#include "strbuf.h"
#include "traces.h"

#define DIAGNOSIS_CATEGORIES(X) \
	X(oom, "oom") X(crashloop, "crashloop") X(crash, "crash") \
	X(image_pull, "image-pull") X(config_error, "config-error") \
	X(probe_failure, "probe-failure") X(eviction, "eviction") \
	X(unschedulable, "unschedulable") X(resource_exhaustion, "resource-exhaustion") \
	X(dependency, "dependency") X(latency, "latency") \
	X(deploy_regression, "deploy-regression") X(business_metric, "business-metric") \
	X(unknown, "unknown")

enum diagnosis_category {
#define X(id, name) CATEGORY_##id,
	DIAGNOSIS_CATEGORIES(X)
#undef X
	CATEGORY__COUNT
};

#define MITIGATION_ACTIONS(X) \
	X(restart, "restart") X(rollback, "rollback") X(scale, "scale") \
	X(increase_memory, "increase-memory") X(patch_config, "patch-config") \
	X(fix_image, "fix-image") X(escalate, "escalate") X(none, "none")

enum mitigation_action {
#define X(id, name) ACTION_##id,
	MITIGATION_ACTIONS(X)
#undef X
	ACTION__COUNT
};

const char *diagnosis_category_name(enum diagnosis_category c);
int diagnosis_category_parse(const char *name, enum diagnosis_category *out);
const char *mitigation_action_name(enum mitigation_action a);
int mitigation_action_parse(const char *name, enum mitigation_action *out);

/* A piece of evidence a finding rests on. */
struct diagnosis_evidence {
	char *source;         /* "kubernetes", "docker", "jaeger", "prometheus", "git", "host", "store", "logs/<name>" */
	char *summary;        /* one line, quoted from the source where it can be */
};

struct diagnosis_finding {
	const char *rule;     /* the rule's name */
	enum diagnosis_category category;
	char *root_cause;     /* one sentence */
	double confidence;    /* 0..1 */
	enum mitigation_action action;
	char *target;         /* the service, deployment or container to act on; NULL for none */
	cJSON *params;        /* an object, never NULL */
	struct diagnosis_evidence *evidence;
	size_t evidence_nr, evidence_alloc;
	int problem_match;    /* --problem's words point at its category: wins a tie */
};

struct diagnosis {
	struct diagnosis_finding *findings;   /* every rule that fired, best first */
	size_t findings_nr, findings_alloc;
	struct diagnosis_finding answer;      /* a copy of the best, or unknown */
	struct trace_analysis traces;         /* what the traces said, for the report */
	int have_traces;
	struct localize_result graph;         /* the call graph's services, ranked (lib/localize.h) */
};

#define DIAGNOSIS_INIT { 0 }
void diagnosis_release(struct diagnosis *d);
/* Free what a finding holds (not the finding itself). */
void diagnosis_finding_release(struct diagnosis_finding *f);

/*
 * Run every rule over ev and fill d. problem, when not NULL, is an
 * engineer's question ("checkout is slow"); it only breaks ties between
 * findings (a question about slowness prefers latency), never adds one.
 * Returns 0, or -1 after an error (the traces in ev cannot be read).
 */
int rules_diagnose(struct diagnosis *d, const struct evidence *ev, const char *problem);

/* The category a candidate's strongest signal names. */
enum diagnosis_category diagnosis_localize_category(enum localize_kind kind);

/* A finding as JSON: {category, root_cause, confidence, mitigation: {action, target, params}, evidence: [{source, summary}], rule}. */
cJSON *diagnosis_finding_json(const struct diagnosis_finding *f);

/* The tracker comment: "Root cause: ... Mitigation: RESTART policy-service" and the evidence. */
void diagnosis_comment(struct strbuf *out, const struct diagnosis *d);

#endif
