/*
 * knowledge.h: what one store has learnt, shared with every other through
 * a git repository (sre remember push and pull).
 *
 * remember.repo is a local bare repository, made when missing, and
 * remember.remote the repository a team shares (https, ssh, a local path
 * or file://). Its branch main holds, for every store that pushed:
 *
 *   incidents/<origin>/<yyyy>/<id>-<slug>.json   memory_record(), redacted
 *   incidents/<origin>/<yyyy>/<id>-<slug>.md     the post-mortem, redacted
 *
 * <origin> is memory_origin(): the hostname and a random suffix kept in
 * the store, so two stores never write the same path; <yyyy> the year the
 * incident was opened; <slug> the title in [a-z0-9-]. A store writes
 * under its own incidents/<origin>/ and nowhere else, so pushes from
 * different hosts never conflict: when the remote has moved on (a push
 * refused as not a fast-forward), push fetches, builds one commit on the
 * remote's head whose tree is the remote's with incidents/<origin>/
 * replaced by ours, and tries again. That is what a rebase would produce,
 * without a merge machinery that could conflict: no path of ours is
 * anyone else's. Local commits the remote never got are replayed as that
 * one commit. To a remote on a shared file system (a path, file://) the
 * objects go to refs/sre/incoming/<origin> and main moves by a
 * compare-and-swap under its lock, as receive-pack moves it for a push
 * over the network: libgit2's local transport alone would let two
 * stores pushing at once drop one's commit.
 *
 * pull reads only objects: the tree of the fetched commit, never a work
 * tree, never through a symbolic link; records of other origins only,
 * each bounded in size and in number, its directory's name checked as an
 * origin and its "origin" field (when present) required to agree.
 */
#ifndef SRE_KNOWLEDGE_H
#define SRE_KNOWLEDGE_H

#include <time.h>

#include "strbuf.h"
#include "strvec.h"

struct store;
struct config;
struct cJSON;

#define KNOWLEDGE_BRANCH "main"
#define KNOWLEDGE_MAX_RECORD (1 << 20)   /* bytes of one pulled record */
#define KNOWLEDGE_MAX_ENTRIES 100000     /* tree entries one pull looks at */
#define KNOWLEDGE_TRIES 8                /* pushes refused before giving up */
#define KNOWLEDGE_SLUG_MAX 48

/* ---- names and paths ---- */

/*
 * The title as a path component: lower-case ASCII letters and digits,
 * every other run of bytes one '-', no '-' at either end, at most
 * KNOWLEDGE_SLUG_MAX bytes (cut at a '-' when one is near), "incident"
 * when nothing is left. Never empty, never "." or "..".
 */
void knowledge_slug(struct strbuf *out, const char *title);

/* 1 when name may be an origin: 1 to 64 of [a-z0-9-], starting with a letter or digit, not "local". */
int knowledge_origin_ok(const char *name);

/* incidents/<origin>/<yyyy>/<id>-<slug>.<ext>, appended to out; -1 for a bad origin or id. */
int knowledge_path(struct strbuf *out, const char *origin, time_t opened, long long id,
		   const char *title, const char *ext);

/*
 * Whether remember.remote may be used: https, ssh (ssh:// or user@host:path),
 * file:// or a local path; http only to loopback. A URL with credentials
 * in it is refused without repeating them. 0, or -1 with why in err.
 */
int knowledge_remote_ok(const char *url, struct strbuf *err);

/*
 * remember.repo, or "memory" beside the store (the default store's is
 * $XDG_STATE_HOME/sre/memory). Caller frees; NULL after an error.
 */
char *knowledge_repo_path(const struct config *cfg, const char *store_path);

/*
 * What remember.repo last saw of url's main:
 * refs/remotes/sre-<FNV-1a 64 of the URL, in hex>/main. One per URL, so a
 * changed remember.remote never reads, or replays on, another remote's
 * head. Caller frees.
 */
char *knowledge_tracking_ref(const char *url);

/* ---- the repository ---- */

struct knowledge_file {
	char *path;          /* under incidents/<origin>/ */
	char *content;
	size_t len;
};

/*
 * Commit files on remember.repo's main (made when missing), each
 * replacing any other file of the same incident and kind under
 * incidents/<origin>/ (a title changed). Only the files whose content
 * changed are appended to changed (may be NULL). 0 committed (*out_sha,
 * caller frees, when not NULL), 1 nothing changed or dry_run, -1.
 */
int knowledge_commit(const char *repo, const char *origin, const struct knowledge_file *files,
		     size_t nr, const char *message, const char *author, int dry_run,
		     struct strvec *changed, char **out_sha);

/*
 * Push main to url (remember.remote), fetching and replaying our
 * incidents/<origin>/ on the remote's head when it moved on, at most
 * KNOWLEDGE_TRIES times. 0 pushed or up to date (*tries: pushes made),
 * -1 after error().
 */
int knowledge_publish(const char *repo, const char *origin, const char *url,
		      const struct config *cfg, int *tries);

/* What a read of the fetched tree saw. */
struct knowledge_read_stats {
	size_t origins;      /* other stores' directories read */
	size_t records;      /* records handed on */
	size_t skipped;      /* entries refused, each with a warning */
};

/* One record of another origin (borrowed): 0 to go on, -1 to stop the read. */
typedef int (*knowledge_each_fn)(const char *origin, long long id, struct cJSON *record,
				 void *data);

/*
 * Fetch main of url into knowledge_tracking_ref(url), and move a main
 * with nothing unpushed along with it (in a bare remember.repo: one sre
 * made). 0, 1 when the remote has no main yet, -1.
 */
int knowledge_fetch(const char *repo, const char *url, const struct config *cfg);

/*
 * Every record of the tree last fetched from url whose origin is not
 * ours, to each().
 * 0 (1 when nothing was ever fetched), -1.
 */
int knowledge_read(const char *repo, const char *url, const char *our_origin,
		   knowledge_each_fn each, void *data, struct knowledge_read_stats *stats);

/* ---- sre remember push and pull ---- */

struct knowledge_push {
	int dry_run;
	int commit_only;         /* commit in remember.repo; push and mark nothing (remember.postmortems) */
	const char *author;
	struct strvec paths;     /* the files written (or that would be) */
	size_t incidents;        /* incidents whose record or post-mortem changed */
	size_t marked;           /* incidents now marked pushed */
	int committed;
	int local_only;          /* no remember.remote */
	int tries;
	char *repo;
};
#define KNOWLEDGE_PUSH_INIT { .paths = STRVEC_INIT }
void knowledge_push_release(struct knowledge_push *kp);

/*
 * Commit the record and post-mortem of each resolved incident of st not
 * pushed since it last changed, push to remember.remote, and only then
 * mark them pushed. 0, -1 after error() (nothing marked).
 */
int knowledge_push(struct store *st, const struct config *cfg, struct knowledge_push *kp);

struct knowledge_pull {
	struct knowledge_read_stats read;
	size_t added;            /* added or refreshed */
	size_t unchanged;
	size_t refused;          /* memory_import() refused them */
	int empty;               /* the remote has no records yet */
};

/* Fetch remember.remote and index the records of every other origin. 0, -1. */
int knowledge_pull(struct store *st, const struct config *cfg, struct knowledge_pull *kp);

#endif
