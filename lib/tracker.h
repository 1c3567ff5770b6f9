/*
 * tracker.h: the remote tracker that mirrors the store (GitHub Issues or
 * JIRA Service Management), when `tracker.kind` names one.
 *
 * A tracker is a small set of operations over remote issues;
 * lib/tracker-github.c and lib/tracker-jira.c implement them (with what
 * they share in tracker-internal.h), lib/mirror.c decides when to call them
 * (through the store's outbox, so that nothing is lost) and cmd/ only
 * reports. The store stays the local truth of this host; the tracker is
 * the truth shared between hosts, and wins when the two disagree.
 *
 * Every operation returns one of the TRACKER_* codes. On TRACKER_RETRY and
 * TRACKER_FAIL, t->error holds one line for the user, naming the tracker,
 * the request and the tracker's own message, with every secret redacted.
 */
#ifndef SRE_TRACKER_H
#define SRE_TRACKER_H

#include <cJSON.h>

#include "config.h"
#include "http.h"
#include "incident.h"
#include "strvec.h"

enum {
	TRACKER_OK = 0,
	TRACKER_NOT_FOUND = 1,
	TRACKER_RETRY = -2,  /* unreachable, 5xx, 429 past the retries: queue it */
	TRACKER_FAIL = -3,   /* can never succeed as it is (4xx but 429): give up */
};

/* An issue as the tracker holds it. Strings are owned; NULL when unknown. */
struct remote_issue {
	char *key;          /* "42" (GitHub issue number) or "OPS-17" (JIRA key) */
	char *url;          /* the page a person opens */
	char *title;
	char *body;         /* the description, as text */
	char *fingerprint;  /* from the description sre wrote, when it did */
	char *service;      /* likewise */
	char *severity;     /* critical|high|medium|low, when known */
	char *status;       /* the tracker's own status or state label text */
	int state;          /* an enum incident_state, or -1 when it maps to none */
	int closed;         /* GitHub closed, or JIRA status category Done */
	char *assignee;
	char *priority;
	char *updated;      /* the tracker's timestamp, as text */
};

void remote_issue_release(struct remote_issue *ri);
void remote_issue_list_free(struct remote_issue *list, size_t nr);

/* A comment; record is the structured block sre wrote into it, or NULL. */
struct remote_comment {
	char *id;
	char *author;       /* the name people see */
	char *author_id;    /* the account: GitHub login, JIRA accountId (Cloud) or name */
	char *created;      /* ISO 8601 as the tracker wrote it */
	char *text;         /* the prose, without the record block */
	cJSON *record;      /* owned */
};

void remote_comment_list_free(struct remote_comment *list, size_t nr);

/* Which tickets `sre incident pull` imports. NULL/0 fields mean any. */
struct tracker_query {
	const char *assignee;
	const char *priorities;  /* comma-separated: "P1,P2" */
	const char *status;
	int max;                 /* 0: the tracker's page size, all pages */
};

struct tracker;

struct tracker_ops {
	const char *name; /* "github", "jira" */
	/* An open issue carrying fingerprint: TRACKER_OK and *out, or NOT_FOUND. */
	int (*find)(struct tracker *t, const char *fingerprint, struct remote_issue *out);
	/* Create the issue of a new incident; fills out->key and out->url. */
	int (*create)(struct tracker *t, const struct incident *inc, struct remote_issue *out);
	int (*get)(struct tracker *t, const char *key, struct remote_issue *out);
	/*
	 * Move the issue to state to (GitHub: swap the sre:state/ label, and
	 * close it on INCIDENT_RESOLVED; JIRA: perform the transition that
	 * reaches the mapped status).
	 */
	int (*move)(struct tracker *t, const char *key, enum incident_state to);
	/*
	 * Post a comment: the prose, then record as a fenced JSON block that
	 * sre reads back. record carries "key", the idempotency key.
	 */
	int (*comment)(struct tracker *t, const char *key, const char *prose,
		       const cJSON *record);
	/* Every comment of an issue, oldest first, following pagination. */
	int (*comments)(struct tracker *t, const char *key,
			struct remote_comment **out, size_t *nr);
	/*
	 * Edit the issue's labels: add one (created first when the tracker
	 * needs that) and/or remove one; either may be NULL. Removing a label
	 * the issue lacks is fine.
	 */
	int (*label)(struct tracker *t, const char *key, const char *add,
		     const char *remove);
	/*
	 * Give the issue to who: GitHub adds the login to its assignees (and
	 * the answer must then name it: GitHub silently drops an account
	 * that may not be assigned); JIRA sets the assignee (an accountId on
	 * Cloud, a name on Data Center). Assigning the current assignee again
	 * is fine. An account the tracker does not take is TRACKER_FAIL
	 * naming it.
	 */
	int (*assign)(struct tracker *t, const char *key, const char *who);
	/*
	 * An issue that is no incident (an architecture follow-up of a
	 * chronic problem): title (cut to the tracker's limit), body
	 * (Markdown on GitHub; a document of its paragraphs on JIRA) and
	 * labels (created first where the tracker needs that). Fills out->key
	 * and out->url. Not retried by itself: the caller looks first.
	 */
	int (*open_issue)(struct tracker *t, const char *title, const char *body,
			  const struct strvec *labels, struct remote_issue *out);
	/*
	 * The newest issue carrying label, open or closed: TRACKER_OK and
	 * *out, or TRACKER_NOT_FOUND. The label is sre's own marker
	 * ([a-z0-9-]), so an issue carrying it was opened by open_issue.
	 */
	int (*find_labelled)(struct tracker *t, const char *label, struct remote_issue *out);
	/* The tickets for intake (see struct tracker_query), all pages. */
	int (*search)(struct tracker *t, const struct tracker_query *q,
		      struct remote_issue **out, size_t *nr);
	/*
	 * The account this tracker's credentials act as, in the form of
	 * remote_comment.author_id (GitHub: GET /user; JIRA: /myself). *out
	 * is the caller's to free.
	 */
	int (*whoami)(struct tracker *t, char **out);
	void (*free)(struct tracker *t);
};

struct tracker {
	const struct tracker_ops *ops;
	struct http_client http;
	const struct config *cfg;
	struct strbuf error;
	char *self;  /* whoami's answer, once asked */
	void *priv;  /* the client's own state */
	const char *server; /* github.api, jira.url: named when it does not answer; borrowed */
};

/*
 * The account sre writes as, asked once per run (ops->whoami) and kept:
 * records are imported only from comments this account wrote. TRACKER_OK
 * and *out (borrowed), or a TRACKER_* code with t->error.
 */
int tracker_self(struct tracker *t, const char **out);

/*
 * The tracker that `tracker.kind` names: *out is NULL for "local" (the
 * default), else a tracker to tracker_free(). Resolves its secret (token)
 * here, from the environment or `<key>-command`. Returns 0, or -1 after an
 * error (bad kind, missing repo/url, no token).
 */
int tracker_open(struct tracker **out, const struct config *cfg);
void tracker_free(struct tracker *t);

#endif
