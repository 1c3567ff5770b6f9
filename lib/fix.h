/*
 * fix.h: what `sre fix` carries out, and on what.
 *
 * A fix is one mitigation from the closed set of lib/rules.h, on a target
 * that the configuration names ([service "<name>"]): never a name taken
 * from a diagnosis's prose, a log line or a ticket. The pieces:
 *
 *   fix_target_read()   the service's runtime and where it runs (here)
 *   action_*()          direct actions on Docker, Kubernetes or a process
 *                       (lib/actions.c): restart, scale, rollback
 *   manifest_*()        edits of a manifest's text that keep every other
 *                       byte (lib/manifest.c)
 *   gitops_*()          a branch, a commit and a push in core.repo, made
 *                       with libgit2 without touching its work tree
 *                       (lib/gitops.c)
 *   pull_*()            the pull request on GitHub and its reviews
 *                       (lib/pulls.c)
 *
 * The story that puts them together (plan, approve, carry out, resume,
 * follow the pull request, verify) is lib/fix-engine.h; it never asks a
 * person itself: its caller passes the prompt in.
 */
#ifndef SRE_FIX_H
#define SRE_FIX_H

#include <time.h>

#include <cJSON.h>

#include "config.h"
#include "http.h"
#include "incident.h"
#include "rules.h"
#include "strbuf.h"
#include "strvec.h"

/* ---- the target ---- */

enum fix_runtime {
	RUNTIME_NONE,         /* service.<name>.runtime unset */
	RUNTIME_DOCKER,
	RUNTIME_KUBERNETES,
	RUNTIME_PROCESS,
};

const char *fix_runtime_name(enum fix_runtime r);

struct fix_target {
	char *service;
	enum fix_runtime runtime;
	char *container;          /* docker: service.<name>.container, default the service */
	char *namespace;          /* kubernetes: service.<name>.namespace, else the first
				     kubernetes.namespace, else "default" */
	char *deployment;         /* kubernetes: service.<name>.deployment, default the service */
	char *pidfile;            /* process: service.<name>.pidfile */
	struct strvec start;      /* process: service.<name>.start, split into words */
	struct strvec stop;       /* process: service.<name>.stop, split into words */
	char *manifest;           /* service.<name>.manifest: a path inside core.repo, or NULL */
	long long max_replicas;   /* service.<name>.max-replicas, 0 when unset */
	int64_t timeout_ms;       /* process: service.<name>.timeout, how long start or
				     stop may run before its process group is killed */
};

#define FIX_COMMAND_TIMEOUT_MS (60 * 1000)

#define FIX_TARGET_INIT { .start = STRVEC_INIT, .stop = STRVEC_INIT }

/*
 * Read [service "<name>"]. The service must be configured (some key of
 * its section set), else -1 with why in err; a bad runtime, start or stop
 * is -1 too. Release with fix_target_release(), whatever it returned.
 */
int fix_target_read(struct fix_target *out, const struct config *cfg, const char *service,
		    struct strbuf *err);
void fix_target_release(struct fix_target *t);

/* ---- direct actions (lib/actions.c) ---- */

/*
 * An action is carried out in three steps, so that a crash in the middle
 * leaves a record the next run can judge:
 *
 *   action_prepare()  reads the target's state now and fills record (a
 *                     JSON object) with what the action will do and what
 *                     will show it took effect: Docker's State.StartedAt
 *                     before, the restartedAt value the patch will set, the
 *                     replica count asked for, the old process id
 *   (the caller writes record to the timeline: "action-started")
 *   action_run()      does it, and appends what happened to out
 *   (the caller writes "action-finished")
 *
 * and after a crash, action_check() reads the target's state again and
 * says whether the recorded action took effect.
 *
 * Actions: restart (docker: POST /containers/{id}/restart; kubernetes: the
 * pod template's kubectl.kubernetes.io/restartedAt annotation, as
 * `kubectl rollout restart`; process: stop, then start, then wait for a
 * new live process id in the pidfile), scale (kubernetes: the Deployment's
 * scale subresource; params {"replicas": n}, default one more, never past
 * max_replicas), rollback (kubernetes: the template of the ReplicaSet of
 * params {"revision": n}, default the previous revision, as `kubectl
 * rollout undo`). Anything else, or a runtime that cannot do it, is -1
 * with why in out.
 *
 * Each returns 0, or -1 with one line of why appended to out (never a
 * secret). http is set up from the http.* keys; the Kubernetes and Docker
 * connection settings are the scout sources' (kubeconfig, docker.host).
 */
int action_prepare(struct http_client *http, const struct config *cfg,
		   const struct fix_target *t, enum mitigation_action a, const cJSON *params,
		   cJSON *record, struct strbuf *out);
int action_run(struct http_client *http, const struct config *cfg,
	       const struct fix_target *t, enum mitigation_action a, const cJSON *record,
	       struct strbuf *out);
/* 1 the action took effect, 0 it did not, -1 cannot tell (why in out). */
int action_check(struct http_client *http, const struct config *cfg,
		 const struct fix_target *t, enum mitigation_action a, const cJSON *record,
		 struct strbuf *out);

/* ---- manifest edits (lib/manifest.c) ---- */

/*
 * Edit the text of a YAML manifest (a Deployment, a Pod, a list of them,
 * several documents): only the value changed is rewritten; comments,
 * order, quoting style and every untouched line stay byte for byte.
 *
 * manifest_set_memory(): the resources.limits.memory of the container
 * named container (NULL: the only container, or an error when several),
 * multiplied by step and written in the unit it had when the result is
 * whole there, else in the next smaller unit of its kind, else in Mi
 * rounded up ("256Mi" * 1.5 -> "384Mi"; "1Gi" * 1.5 -> "1536Mi").
 * resources.requests.memory is left alone: the limit only goes up, so it
 * never falls below the request. *old and *new are the values (caller
 * frees).
 *
 * manifest_set_image(): the image of the container named container
 * (NULL: the only one) replaced by image; *old is the image it had.
 *
 * Each returns 0 with the new text appended to out, or -1 with why in err
 * (no such container, no limit to raise, a value behind an anchor, a tag
 * or a block scalar, which sre refuses to guess at).
 */
int manifest_set_memory(struct strbuf *out, const char *text, const char *container,
			double step, char **old, char **new, struct strbuf *err);
int manifest_set_image(struct strbuf *out, const char *text, const char *container,
		       const char *image, char **old, struct strbuf *err);

/* ---- the repository (lib/gitops.c) ---- */

/*
 * core.repo's default branch: the remote's HEAD (refs/remotes/origin/HEAD)
 * when known, else the local HEAD's branch. *out is "main" (caller frees).
 */
int gitops_default_branch(char **out, const char *repo, struct strbuf *err);

/* The text of path at the tip of branch (caller frees *out): 0, 1 when absent, -1. */
int gitops_read_file(char **out, const char *repo, const char *branch, const char *path,
		     struct strbuf *err);

/*
 * A unified diff of path from old to new text, appended to out as `git
 * diff` prints it ("a/" and "b/"); nothing for identical texts.
 */
int gitops_diff(struct strbuf *out, const char *path, const char *old, const char *new,
		struct strbuf *err);

/*
 * Make branch (refs/heads/<branch>) at a new commit whose parent is the
 * tip of base and whose tree is base's with path holding content, written
 * straight to the object database: the work tree, the index and HEAD are
 * not touched. When branch already exists with that very change, it is
 * kept (idempotent). The author and committer are author (NULL: "sre")
 * with the repository's user.email, else sre@localhost. An empty change,
 * a branch that is checked out or that is base itself are -1.
 * *out_sha: the commit (caller frees).
 */
int gitops_commit_file(char **out_sha, const char *repo, const char *base, const char *branch,
		       const char *path, const char *content, const char *message,
		       const char *author, struct strbuf *err);

/* The same, for a commit that reverts commit sha (its first parent's side). */
int gitops_commit_revert(char **out_sha, const char *repo, const char *base, const char *branch,
			 const char *sha, const char *message, const char *author,
			 struct strbuf *err);

/*
 * What reverting commit sha undoes, as a unified diff appended to out:
 * the commit's own change, backwards (against its first parent).
 */
int gitops_revert_diff(struct strbuf *out, const char *repo, const char *sha, struct strbuf *err);

/*
 * Push branch to remote (default "origin") with credentials from the usual
 * sources: ssh-agent for ssh URLs; for https, the token of
 * fix.push-token-command, else GITHUB_TOKEN (user x-access-token); none
 * for a local path or file:// URL. The push replaces the remote branch
 * (it is sre's own). delete: remove the remote branch instead
 * (":refs/heads/<branch>"); a branch already gone is no error.
 */
int gitops_push(const char *repo, const char *remote, const char *branch, int delete,
		const struct config *cfg, struct strbuf *err);

/*
 * The same exchange with a URL from the user's configuration rather than
 * a remote of the repository's (remember.remote, named name in messages):
 * push spec as it is (not forced: "refs/heads/main:refs/heads/main"), or
 * fetch it ("+refs/heads/main:refs/remotes/origin/main"). The same
 * credentials, fix.push-timeout, and scrubbed messages. The push returns
 * GITOPS_REJECTED, with the remote's words in err, when the remote holds
 * commits it does not (not a fast-forward): fetch and try again.
 */
#define GITOPS_REJECTED 1
int gitops_push_url(const char *repo, const char *name, const char *url, const char *spec,
		    const struct config *cfg, struct strbuf *err);
int gitops_fetch_url(const char *repo, const char *name, const char *url, const char *spec,
		     const struct config *cfg, struct strbuf *err);

/* Delete the local branch (no error when it is gone). */
int gitops_delete_branch(const char *repo, const char *branch, struct strbuf *err);

/*
 * The GitHub repository "owner/name" of remote's URL
 * (https://github.com/o/n(.git), git@github.com:o/n(.git),
 * ssh://git@github.com/o/n), or NULL when it is not on GitHub. fix.pull-repo
 * overrides it (for GitHub Enterprise and tests).
 */
char *gitops_github_repo(const char *repo, const char *remote, const struct config *cfg);

/* ---- pull requests (lib/pulls.c) ---- */

struct pulls;   /* a client: github.api, the token, the repository */

/* github.api (default https://api.github.com), GITHUB_TOKEN or github.token-command. */
int pulls_open(struct pulls **out, const struct config *cfg, const char *repo,
	       struct strbuf *err);
void pulls_free(struct pulls *p);

struct pull_request {
	long long number;
	char *url;            /* html_url */
	char *state;          /* "open" or "closed" */
	int merged;
	char *head;           /* the branch */
	time_t created_at;
	int reviewers;        /* reviews requested and not yet given */
	int approved;         /* APPROVED reviews still standing */
	int changes_requested;
	int reviewed;         /* any review at all (commented too) */
};

void pull_request_release(struct pull_request *pr);

/*
 * Open a pull request from head into base, or find the one already open
 * for head (so a retry never opens two). 0 and *out, or -1 with why.
 */
int pull_open(struct pulls *p, const char *head, const char *base, const char *title,
	      const char *body, struct pull_request *out, struct strbuf *err);
/* Read a pull request and its reviews. 0, or -1 with why. */
int pull_get(struct pulls *p, long long number, struct pull_request *out, struct strbuf *err);

/* ---- policy (lib/policy.c) ---- */

struct fix_policy {
	struct strvec autos;      /* fix.auto: actions that may run without a person */
	long long max_per_hour;   /* fix.max-per-hour, default 3 */
	double min_confidence;    /* fix.min-confidence, default 0.75 */
	double escalate_below;    /* fix.escalate-below, default 0.5 */
	double memory_step;       /* fix.memory-step, default 1.5 */
	int64_t review_timeout_ms;/* fix.review-timeout, default 24h */
};

#define FIX_POLICY_INIT { .autos = STRVEC_INIT }

/* Read the fix.* keys: 0, or -1 after an error naming the bad key. */
int fix_policy_read(struct fix_policy *p, const struct config *cfg);
void fix_policy_release(struct fix_policy *p);

/*
 * May action a run on service without a person? It must be in fix.auto,
 * in [service] allow when that is set, and not in [service] deny; and the
 * diagnosis's confidence must reach fix.min-confidence. 1 yes, 0 no with
 * the reason in why ("restart is not in fix.auto").
 */
int fix_policy_allows(const struct fix_policy *p, const struct config *cfg, const char *service,
		      enum mitigation_action a, double confidence, struct strbuf *why);

/* ---- verification (lib/verify.c) ---- */

/*
 * Re-run the incident's own check: the scout source that found it (its
 * source), judged as scout judges it, and the finding with its
 * fingerprint. 1 it passes (healthy, or, for a source that reports only
 * what is wrong, no longer mentioned), 0 it still fails, -1 it cannot be
 * judged this time (the source cannot be read), VERIFY_NO_CHECK there is
 * no check to re-run (an incident opened by hand); what was seen, one
 * line, is appended to seen.
 */
#define VERIFY_NO_CHECK (-2)
int verify_once(const struct config *cfg, struct http_client *http, const struct incident *inc,
		struct strbuf *seen);

struct verify_options {
	int passes;             /* passing runs in a row needed (scout.recover-after, default 2) */
	int64_t timeout_ms;     /* fix.verify-timeout, default 5m */
	int64_t interval_ms;    /* fix.verify-interval, default 10s */
};

/* Read the options from the configuration: 0, or -1 after an error naming the key. */
int verify_options_read(struct verify_options *o, const struct config *cfg);

/*
 * verify_once() until it passes o->passes times in a row, or the time
 * runs out. 1 verified, 0 not (seen says what was seen last), -1 when it
 * cannot be judged at all.
 */
int verify_fix(const struct config *cfg, const struct incident *inc,
	       const struct verify_options *o, struct strbuf *seen);

#endif
