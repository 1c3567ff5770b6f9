/*
 * incident.h: the incident, the unit of work, and its state machine.
 *
 * The states are the JIRA Service Management self-healing workflow of
 * DESIGN.md. The graph is the straight line from detection to resolution,
 * plus two edges: FIX_GENERATED -> DEPLOYMENT_IN_PROGRESS for a direct
 * action (restart, scale, rollback) that needs no pull request, and
 * INCIDENT_REQUIRES_HUMAN reachable from every open state. A person may
 * hand an escalated incident back (to INCIDENT_DETECTED or
 * ANALYSIS_COMPLETE) or resolve it (INCIDENT_RESOLVED). An incident that
 * recovers on its own before any fix was started (INCIDENT_DETECTED,
 * ANALYSIS_IN_PROGRESS, ANALYSIS_COMPLETE) may be resolved directly: that
 * is how sre scout closes a problem that went away. A resolved incident
 * is closed for good: the same problem later opens a new incident.
 */
#ifndef SRE_INCIDENT_H
#define SRE_INCIDENT_H

#include <time.h>

#include "util.h"

#define INCIDENT_STATES(X) \
	X(INCIDENT_DETECTED) \
	X(ANALYSIS_IN_PROGRESS) \
	X(ANALYSIS_COMPLETE) \
	X(FIX_GENERATION_IN_PROGRESS) \
	X(FIX_GENERATED) \
	X(PR_CREATION_IN_PROGRESS) \
	X(PR_CREATED) \
	X(PR_UNDER_REVIEW) \
	X(PR_APPROVED) \
	X(PR_MERGED) \
	X(DEPLOYMENT_IN_PROGRESS) \
	X(DEPLOYMENT_COMPLETE) \
	X(VERIFICATION_IN_PROGRESS) \
	X(VERIFICATION_COMPLETE) \
	X(INCIDENT_RESOLVED) \
	X(INCIDENT_REQUIRES_HUMAN)

enum incident_state {
#define X(s) STATE_##s,
	INCIDENT_STATES(X)
#undef X
	STATE__COUNT
};

enum incident_severity {
	SEVERITY_CRITICAL,
	SEVERITY_HIGH,
	SEVERITY_MEDIUM,
	SEVERITY_LOW,
	SEVERITY__COUNT
};

struct incident {
	long long id;
	char *fingerprint;
	char *service;
	char *title;
	char *category;   /* NULL until diagnosed */
	char *source;
	char *remote_key; /* NULL without a tracker */
	char *remote_url;
	enum incident_state state;
	enum incident_severity severity;
	long long occurrences;
	time_t opened_at;
	time_t updated_at;
	time_t resolved_at; /* 0 while open */
};

/* Free the strings an incident holds; the struct itself is the caller's. */
void incident_release(struct incident *inc);

const char *incident_state_name(enum incident_state s);
/*
 * 0, or -1 when name is no state. Case-insensitive, '-' for '_', and the
 * INCIDENT_ prefix optional: "resolved", "analysis-complete" and
 * "ANALYSIS_COMPLETE" all parse.
 */
int incident_state_parse(const char *name, enum incident_state *out);
/* The short name a person types: "resolved", "analysis-complete". Caller frees. */
char *incident_state_short_name(enum incident_state s);
/* The state name is most plausibly a typo of (a "did you mean"), or -1. */
int incident_state_suggest(const char *name);

/*
 * The shortcuts of `sre incident <verb> <id>`: each one is a transition
 * to one state, refused where that transition is refused. ack is the
 * person taking it up (INCIDENT_DETECTED -> ANALYSIS_IN_PROGRESS); resolve
 * and close both end it (INCIDENT_RESOLVED, legal from the analysis
 * states, VERIFICATION_COMPLETE and INCIDENT_REQUIRES_HUMAN): the graph
 * has one end, and "close" is the word of the trackers that mirror it.
 * The table ends with a NULL verb.
 */
struct incident_shortcut {
	const char *verb;
	enum incident_state to;
	const char *done; /* the default reason: "resolved" (by the actor) */
};
extern const struct incident_shortcut incident_shortcuts[];
int incident_state_is_open(enum incident_state s);
/*
 * The states in which this host is carrying out a fix (generating it,
 * opening its pull request, deploying or verifying it). Only a local run
 * enters them: a tracker's state is never followed into one.
 */
int incident_state_is_working(enum incident_state s);
int incident_transition_allowed(enum incident_state from, enum incident_state to);

const char *incident_severity_name(enum incident_severity s);
int incident_severity_parse(const char *name, enum incident_severity *out);

/*
 * The default fingerprint of an incident opened by hand: source, service
 * and a hash of the title with case and runs of blanks folded, so
 * "Disk  full" and "disk full" are the same problem. Caller frees.
 */
char *incident_default_fingerprint(const char *source, const char *service,
				   const char *title);

/*
 * Check a user-supplied field: not empty, at most max bytes, valid UTF-8
 * with no control characters (but newlines and tabs when multiline).
 * Returns 0, or -1 after an error naming what.
 */
int incident_check_text(const char *what, const char *value, size_t max,
			int multiline);

#endif
