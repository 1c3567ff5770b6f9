/*
 * knowledge.c: sre remember push and pull, incidents shared between
 * stores through a git repository; the layout and the rules are in
 * knowledge.h.
 *
 * Like lib/gitops.c, nothing here has a work tree: blobs and trees are
 * written straight to remember.repo's object database and only refs move
 * (refs/heads/main, and knowledge_tracking_ref() for what the remote was
 * last seen to hold). The exchange with the remote is gitops.c's
 * (gitops_push_url, gitops_fetch_url): one set of credentials rules,
 * one timeout, one way of keeping secrets out of messages. Each function
 * that uses libgit2 brackets it with git_libgit2_init() and
 * git_libgit2_shutdown(), and holds no repository across a push or a
 * fetch, which run in a child process.
 *
 * Which incidents to push: the resolved ones whose memory row has no
 * pushed_at. lib/memory.c clears it when it indexes a change of the
 * incident, and push brings the index up to date first, as `sre
 * remember` does. The content decides the rest: a record rendered again
 * unchanged makes no commit. pushed_at is written only once the remote
 * has the commit (or, without remember.remote, once it is committed
 * locally).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>
#include <git2.h>

#include "knowledge.h"
#include "config.h"
#include "fix.h"
#include "http.h"
#include "json.h"
#include "memory.h"
#include "postmortem.h"
#include "redact.h"
#include "timeutil.h"
#include "util.h"

#define REMOTE_KEY "remember.remote"
#define BRANCH_REF "refs/heads/" KNOWLEDGE_BRANCH
#define PUSH_SPEC BRANCH_REF ":" BRANCH_REF
#define DEFAULT_EMAIL "sre@localhost"
#define ORIGIN_MAX 64

/* ---- names and paths ---- */

void knowledge_slug(struct strbuf *out, const char *title)
{
	size_t start = out->len;

	for (const char *p = title ? title : ""; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x80 && isalnum(c))
			strbuf_addch(out, (char)tolower(c));
		else if (out->len > start && out->buf[out->len - 1] != '-')
			strbuf_addch(out, '-');
		if (out->len - start > KNOWLEDGE_SLUG_MAX)
			break;
	}
	if (out->len - start > KNOWLEDGE_SLUG_MAX) {
		/* Cut at the last '-' in the second half, else anywhere. */
		size_t cut = start + KNOWLEDGE_SLUG_MAX;

		for (size_t i = cut; i > start + KNOWLEDGE_SLUG_MAX / 2; i--) {
			if (out->buf[i] == '-') {
				cut = i;
				break;
			}
		}
		strbuf_setlen(out, cut);
	}
	while (out->len > start && out->buf[out->len - 1] == '-')
		strbuf_setlen(out, out->len - 1);
	if (out->len == start)
		strbuf_addstr(out, "incident");
}

int knowledge_origin_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!n || n > ORIGIN_MAX || !strcmp(name, "local") || !isalnum((unsigned char)name[0]))
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

int knowledge_path(struct strbuf *out, const char *origin, time_t opened, long long id,
		   const char *title, const char *ext)
{
	struct tm tm;

	if (!knowledge_origin_ok(origin) || id <= 0 || !gmtime_r(&opened, &tm) ||
	    tm.tm_year + 1900 < 1970 || tm.tm_year + 1900 > 9999)
		return -1;
	strbuf_addf(out, "incidents/%s/%04d/%lld-", origin, tm.tm_year + 1900, id);
	knowledge_slug(out, title);
	strbuf_addf(out, ".%s", ext);
	return 0;
}

static int scheme_is(const char *url, size_t n, const char *scheme)
{
	return strlen(scheme) == n && !strncasecmp(url, scheme, n);
}

int knowledge_remote_ok(const char *url, struct strbuf *err)
{
	const char *sep, *auth, *at = NULL, *end, *colon;
	size_t scheme_len;

	if (!url || !*url) {
		strbuf_addstr(err, REMOTE_KEY " is empty");
		return -1;
	}
	for (const char *p = url; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			strbuf_addstr(err, REMOTE_KEY " holds a control character");
			return -1;
		}
	}
	sep = strstr(url, "://");
	colon = strstr(url, "::");
	if (colon && strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") ==
		     (size_t)(colon - url)) {
		strbuf_addstr(err, REMOTE_KEY " names a remote helper (<transport>::): it takes "
			      "https://, ssh:// (or user@host:path), file:// or a local path");
		return -1;
	}
	if (!sep) {
		/* user@host:path (ssh, as git reads it: a colon before any slash), or a path */
		end = url + strcspn(url, "/");
		colon = memchr(url, ':', (size_t)(end - url));
		if (colon && url[0] != '.') {
			const char *a = memchr(url, '@', (size_t)(end - url));

			if (a && memchr(url, ':', (size_t)(a - url)))
				goto credentials;
		}
		return 0;
	}
	scheme_len = (size_t)(sep - url);
	auth = sep + 3;
	end = auth + strcspn(auth, "/?#");
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (scheme_is(url, scheme_len, "https") || scheme_is(url, scheme_len, "file")) {
		if (at)
			goto credentials;
		return 0;
	}
	if (scheme_is(url, scheme_len, "http")) {
		char *host;
		int loopback;

		if (at)
			goto credentials;
		/* The host without its port: [v6]:port, or name:port. */
		if (*auth == '[') {
			const char *close = memchr(auth, ']', (size_t)(end - auth));
			host = close ? xstrndup(auth, (size_t)(close + 1 - auth)) : xstrdup("");
		} else {
			host = xstrndup(auth, strcspn(auth, ":/?#"));
		}
		loopback = http_host_is_loopback(host);
		free(host);
		if (!loopback) {
			strbuf_addstr(err, REMOTE_KEY " is plain http: records go only over "
				      "https or ssh (http only to loopback)");
			return -1;
		}
		return 0;
	}
	if (scheme_is(url, scheme_len, "ssh") || scheme_is(url, scheme_len, "git+ssh") ||
	    scheme_is(url, scheme_len, "ssh+git")) {
		/* ssh://user@host is a user's name; ssh://user:password@host is a secret. */
		if (at && memchr(auth, ':', (size_t)(at - auth)))
			goto credentials;
		return 0;
	}
	strbuf_addf(err, REMOTE_KEY " is a %.*s URL: it takes https://, ssh:// (or "
		    "user@host:path), file:// or a local path", (int)(scheme_len > 16 ? 16 : scheme_len),
		    url);
	return -1;
credentials:
	strbuf_addstr(err, REMOTE_KEY " has credentials in its URL: sre will not send them "
		      "(nor print them); remove them, and give a token through "
		      "fix.push-token-command or GITHUB_TOKEN, or use ssh");
	return -1;
}

char *knowledge_repo_path(const struct config *cfg, const char *store_path)
{
	char *path = NULL;
	const char *slash;
	int r = cfg ? config_get_path(cfg, "remember.repo", &path) : 1;

	if (r < 0)
		return NULL;
	if (!r)
		return path;
	if (!store_path || !*store_path) {
		error("remember.repo is not set and there is no store to put it beside");
		return NULL;
	}
	slash = strrchr(store_path, '/');
	if (!slash)
		return xstrdup("memory");
	return xstrfmt("%.*s/memory", (int)(slash - store_path), store_path);
}

char *knowledge_tracking_ref(const char *url)
{
	uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a, 64 bits */

	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return xstrfmt("refs/remotes/sre-%016llx/%s", (unsigned long long)h, KNOWLEDGE_BRANCH);
}

/* ---- libgit2 ---- */

/* error() with libgit2's last message about what. */
static int git_fail(const char *what)
{
	const git_error *e = git_error_last();

	return error("git: %s: %s", what, e && e->message ? e->message : "unknown error");
}

static int begin(void)
{
	if (git_libgit2_init() < 0)
		return git_fail("libgit2 cannot start");
	return 0;
}

static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	if (!d)
		return 0;
	while (empty && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

/*
 * Open remember.repo; when create, make it (bare, its HEAD main) if it is
 * missing or an empty directory. 0, 1 when missing and !create, -1.
 */
static int repo_open(git_repository **out, const char *path, int create)
{
	git_repository_init_options opts;
	struct stat st;

	*out = NULL;
	if (!stat(path, &st) && !(S_ISDIR(st.st_mode) && dir_is_empty(path))) {
		if (git_repository_open_ext(out, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
			error("remember.repo %s is not a git repository: %s", path,
			      git_error_last()->message);
			return -1;
		}
		return 0;
	}
	if (!create)
		return 1;
	if (mkdir_parents(path, 0700) < 0 || (mkdir(path, 0700) < 0 && errno != EEXIST))
		return error_errno("cannot create remember.repo %s", path);
	git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
	opts.initial_head = KNOWLEDGE_BRANCH;
	if (git_repository_init_ext(out, path, &opts) < 0)
		return git_fail(path);
	return 0;
}

/* The commit ref points at, or NULL (1) when there is no such ref. */
static int ref_commit(git_commit **out, git_repository *repo, const char *ref)
{
	git_oid id;
	int r = git_reference_name_to_id(&id, repo, ref);

	*out = NULL;
	if (r == GIT_ENOTFOUND)
		return 1;
	if (r < 0 || git_commit_lookup(out, repo, &id) < 0)
		return git_fail(ref);
	return 0;
}

/*
 * Move ref from old (NULL: it must not exist) to id, failing if another
 * process moved it meanwhile. main is not moved under a work tree that
 * has it checked out.
 */
static int ref_move(git_repository *repo, const char *ref, const git_oid *old, const git_oid *id,
		    const char *log)
{
	git_reference *made = NULL, *head = NULL;
	int r;

	if (!git_repository_is_bare(repo) && !strcmp(ref, BRANCH_REF) &&
	    !git_reference_lookup(&head, repo, "HEAD") &&
	    git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
	    !strcmp(git_reference_symbolic_target(head), BRANCH_REF)) {
		git_reference_free(head);
		return error("remember.repo has %s checked out: sre will not move it under a "
			     "work tree; let sre make the repository, or use a bare one",
			     KNOWLEDGE_BRANCH);
	}
	git_reference_free(head);
	git_error_clear();
	if (old)
		r = git_reference_create_matching(&made, repo, ref, id, 1, old, log);
	else
		r = git_reference_create(&made, repo, ref, id, 0, log);
	git_reference_free(made);
	return r < 0 ? git_fail(ref) : 0;
}

static int empty_tree(git_tree **out, git_repository *repo)
{
	git_treebuilder *bld = NULL;
	git_oid id;
	int r;

	r = git_treebuilder_new(&bld, repo, NULL) < 0 || git_treebuilder_write(&id, bld) < 0 ||
	    git_tree_lookup(out, repo, &id) < 0;
	git_treebuilder_free(bld);
	return r ? git_fail("an empty tree") : 0;
}

static int signature(git_signature **out, const char *name, const char *email)
{
	if (git_signature_new(out, name && *name ? name : "sre", email ? email : DEFAULT_EMAIL,
			      (git_time_t)sre_now(), 0) < 0)
		return git_fail("a signature");
	return 0;
}

/* The subtree at path of tree, or NULL (1) when there is none or it is not a tree. */
static int subtree(git_tree **out, git_repository *repo, const git_tree *tree, const char *path)
{
	git_tree_entry *e = NULL;
	int r = git_tree_entry_bypath(&e, tree, path);

	*out = NULL;
	if (r == GIT_ENOTFOUND) {
		git_error_clear();
		return 1;
	}
	if (r < 0)
		return git_fail(path);
	if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
		git_tree_entry_free(e);
		return 1;
	}
	r = git_tree_lookup(out, repo, git_tree_entry_id(e));
	git_tree_entry_free(e);
	return r < 0 ? git_fail(path) : 0;
}

/* ---- commit ---- */

/* "<id>-" and ".<ext>" of a file's base name, for its siblings of other titles. */
static int file_key(const char *path, struct strbuf *prefix, const char **ext)
{
	const char *base = strrchr(path, '/'), *dash, *dot;

	base = base ? base + 1 : path;
	dash = strchr(base, '-');
	dot = strrchr(base, '.');
	if (!dash || !dot || dot < dash || dash == base)
		return -1;
	strbuf_add(prefix, base, (size_t)(dash + 1 - base));
	*ext = dot;
	return 0;
}

/*
 * The updates that put files in tree: each file whose blob differs, and
 * the removal of every other file of its incident and kind under
 * incidents/<origin>/ (a title that changed), whose paths keep holds.
 * Blobs are written unless dry_run (then only hashed). *out is the
 * caller's to free.
 */
static int plan_updates(git_repository *repo, git_tree *tree, const char *origin,
			const struct knowledge_file *files, size_t nr, int dry_run,
			git_tree_update **out, size_t *nr_out, struct strvec *keep,
			struct strvec *changed)
{
	char *ours_path = xstrfmt("incidents/%s", origin);
	git_tree *ours = NULL;
	git_tree_update *up = NULL;
	size_t n = 0, alloc = 0;
	int ret = -1;

	if (subtree(&ours, repo, tree, ours_path) < 0)
		goto out;
	for (size_t i = 0; i < nr; i++) {
		const struct knowledge_file *f = &files[i];
		struct strbuf prefix = STRBUF_INIT;
		git_tree_entry *e = NULL;
		git_oid id;
		const char *ext;
		int same = 0;

		if (!starts_with(f->path, ours_path) || f->path[strlen(ours_path)] != '/' ||
		    file_key(f->path, &prefix, &ext) < 0) {
			error("BUG: %s is not a path of incidents/%s/", f->path, origin);
			strbuf_release(&prefix);
			goto out;
		}
		if ((dry_run ? git_odb_hash(&id, f->content, f->len, GIT_OBJECT_BLOB) :
			       git_blob_create_from_buffer(&id, repo, f->content, f->len)) < 0) {
			strbuf_release(&prefix);
			git_fail(f->path);
			goto out;
		}
		if (!git_tree_entry_bypath(&e, tree, f->path))
			same = git_tree_entry_filemode(e) == GIT_FILEMODE_BLOB &&
			       git_oid_equal(git_tree_entry_id(e), &id);
		git_tree_entry_free(e);
		git_error_clear();
		if (!same) {
			ALLOC_GROW(up, n + 1, alloc);
			up[n++] = (git_tree_update){ .action = GIT_TREE_UPDATE_UPSERT, .id = id,
						     .filemode = GIT_FILEMODE_BLOB, .path = f->path };
			if (changed)
				strvec_push(changed, f->path);
		}
		/* The same incident's file of this kind under another name: remove it. */
		for (size_t y = 0; ours && y < git_tree_entrycount(ours); y++) {
			const git_tree_entry *ye = git_tree_entry_byindex(ours, y);
			git_tree *year = NULL;

			if (git_tree_entry_type(ye) != GIT_OBJECT_TREE ||
			    git_tree_lookup(&year, repo, git_tree_entry_id(ye)) < 0) {
				git_error_clear();
				continue;
			}
			for (size_t k = 0; k < git_tree_entrycount(year); k++) {
				const char *name = git_tree_entry_name(git_tree_entry_byindex(year, k));
				char *path;

				if (!starts_with(name, prefix.buf) || !ends_with(name, ext))
					continue;
				path = xstrfmt("%s/%s/%s", ours_path, git_tree_entry_name(ye), name);
				if (strcmp(path, f->path) && !strvec_has(keep, path)) {
					strvec_push(keep, path);
					ALLOC_GROW(up, n + 1, alloc);
					up[n++] = (git_tree_update){ .action = GIT_TREE_UPDATE_REMOVE,
								     .path = keep->v[keep->nr - 1] };
				}
				free(path);
			}
			git_tree_free(year);
		}
		strbuf_release(&prefix);
	}
	ret = 0;
out:
	git_tree_free(ours);
	free(ours_path);
	if (ret < 0) {
		free(up);
		up = NULL;
		n = 0;
	}
	*out = up;
	*nr_out = n;
	return ret;
}

int knowledge_commit(const char *repo_path, const char *origin,
		     const struct knowledge_file *files, size_t nr, const char *message,
		     const char *author, int dry_run, struct strvec *changed, char **out_sha)
{
	git_repository *repo = NULL;
	git_commit *tip = NULL;
	git_tree *tree = NULL, *made = NULL;
	git_signature *sig = NULL;
	git_tree_update *up = NULL;
	size_t nup = 0;
	struct strvec keep = STRVEC_INIT;
	git_oid tree_id, id;
	char sha[GIT_OID_HEXSZ + 1];
	int ret = -1, r;

	if (out_sha)
		*out_sha = NULL;
	if (!knowledge_origin_ok(origin))
		return error("\"%s\" is not an origin", origin ? origin : "");
	if (begin() < 0)
		return -1;
	r = repo_open(&repo, repo_path, !dry_run);
	if (r < 0)
		goto out;
	if (r == 1) {
		/* A dry run before the repository exists: every file would be new. */
		for (size_t i = 0; changed && i < nr; i++)
			strvec_push(changed, files[i].path);
		ret = 1;
		goto out;
	}
	r = ref_commit(&tip, repo, BRANCH_REF);
	if (r < 0)
		goto out;
	if (tip && git_commit_tree(&tree, tip) < 0) {
		git_fail(BRANCH_REF);
		goto out;
	}
	if (!tip && empty_tree(&tree, repo) < 0)
		goto out;
	if (plan_updates(repo, tree, origin, files, nr, dry_run, &up, &nup, &keep, changed) < 0)
		goto out;
	if (!nup || dry_run) {
		ret = 1;
		goto out;
	}
	if (git_tree_create_updated(&tree_id, repo, tree, nup, up) < 0) {
		git_fail("the new tree");
		goto out;
	}
	if (git_oid_equal(&tree_id, git_tree_id(tree))) {
		ret = 1;
		goto out;
	}
	if (signature(&sig, author, NULL) < 0)
		goto out;
	if (git_tree_lookup(&made, repo, &tree_id) < 0 ||
	    git_commit_create(&id, repo, NULL, sig, sig, NULL, message, made, tip ? 1 : 0,
			      (const git_commit **)&tip) < 0) {
		git_fail("the commit");
		goto out;
	}
	if (ref_move(repo, BRANCH_REF, tip ? git_commit_id(tip) : NULL, &id,
		     "sre remember push") < 0)
		goto out;
	if (out_sha) {
		git_oid_tostr(sha, sizeof(sha), &id);
		*out_sha = xstrdup(sha);
	}
	ret = 0;
out:
	free(up);
	strvec_clear(&keep);
	git_signature_free(sig);
	git_tree_free(made);
	git_tree_free(tree);
	git_commit_free(tip);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret;
}

/*
 * The path of a remote on this host's file system (a path, or file://),
 * borrowed from url; NULL for a URL of the network.
 */
static const char *local_remote_path(const char *url)
{
	const char *path = url, *end = url + strcspn(url, "/");

	if (skip_prefix(url, "file://", &path))
		return path;
	if (strstr(url, "://") || (memchr(url, ':', (size_t)(end - url)) && url[0] != '.'))
		return NULL;
	return path;
}

/*
 * A remote on this host's file system must be there: libgit2 says only
 * "unsupported URL protocol" of a path that does not exist.
 */
static int local_remote_there(const char *url)
{
	const char *path = local_remote_path(url);
	struct stat st;

	if (path && stat(path, &st) < 0)
		return error_errno("remember.remote %s cannot be reached", url);
	return 0;
}

/* ---- publish ---- */

/*
 * Put main on top of what the remote was last seen to hold, when it is
 * not there already: one commit on the remote's head, whose tree is the
 * remote's with incidents/<origin>/ made ours (the rest is other
 * stores'), with the message and author of our tip. When the remote has
 * our files already, main simply moves to the remote's head.
 */
static int replay(git_repository *repo, const char *origin, git_commit *tip, git_commit *theirs)
{
	char *ours_path = xstrfmt("incidents/%s", origin);
	git_tree *tip_tree = NULL, *their_tree = NULL, *made = NULL;
	git_tree_entry *mine = NULL, *at_theirs = NULL;
	git_signature *committer = NULL;
	const git_signature *author = git_commit_author(tip);
	git_tree_update up;
	git_oid tree_id, id, removed_id;
	int ret = -1, r;

	if (git_commit_tree(&tip_tree, tip) < 0 || git_commit_tree(&their_tree, theirs) < 0) {
		git_fail("the trees to replay on");
		goto out;
	}
	r = git_tree_entry_bypath(&mine, tip_tree, ours_path);
	if (r < 0 && r != GIT_ENOTFOUND) {
		git_fail(ours_path);
		goto out;
	}
	r = git_tree_entry_bypath(&at_theirs, their_tree, ours_path);
	if (r < 0 && r != GIT_ENOTFOUND) {
		git_fail(ours_path);
		goto out;
	}
	git_error_clear();
	if (!mine || (at_theirs && git_oid_equal(git_tree_entry_id(mine),
						   git_tree_entry_id(at_theirs)))) {
		/* Nothing of ours the remote lacks. */
		ret = ref_move(repo, BRANCH_REF, git_commit_id(tip), git_commit_id(theirs),
			       "sre remember push: the remote has it");
		goto out;
	}
	tree_id = *git_tree_id(their_tree);
	if (at_theirs && git_tree_entry_type(at_theirs) != GIT_OBJECT_TREE) {
		/* Not a directory where ours goes: ours replaces it. */
		up = (git_tree_update){ .action = GIT_TREE_UPDATE_REMOVE, .path = ours_path };
		if (git_tree_create_updated(&removed_id, repo, their_tree, 1, &up) < 0) {
			git_fail(ours_path);
			goto out;
		}
		git_tree_free(their_tree);
		their_tree = NULL;
		if (git_tree_lookup(&their_tree, repo, &removed_id) < 0) {
			git_fail(ours_path);
			goto out;
		}
	}
	up = (git_tree_update){ .action = GIT_TREE_UPDATE_UPSERT, .id = *git_tree_entry_id(mine),
				.filemode = GIT_FILEMODE_TREE, .path = ours_path };
	if (git_tree_create_updated(&tree_id, repo, their_tree, 1, &up) < 0) {
		error("git: the remote's tree cannot take incidents/%s/ (is its incidents "
		      "not a directory?): %s", origin, git_error_last()->message);
		goto out;
	}
	if (git_tree_lookup(&made, repo, &tree_id) < 0 ||
	    signature(&committer, author ? author->name : NULL, author ? author->email : NULL) < 0 ||
	    git_commit_create(&id, repo, NULL, author ? author : committer, committer, NULL,
			      git_commit_message(tip), made, 1,
			      (const git_commit **)&theirs) < 0) {
		git_fail("the replayed commit");
		goto out;
	}
	ret = ref_move(repo, BRANCH_REF, git_commit_id(tip), &id,
		       "sre remember push: replayed on the remote's head");
out:
	git_signature_free(committer);
	git_tree_entry_free(mine);
	git_tree_entry_free(at_theirs);
	git_tree_free(made);
	git_tree_free(tip_tree);
	git_tree_free(their_tree);
	free(ours_path);
	return ret;
}

/*
 * Whether main has anything the remote lacks, replaying it on the
 * remote's head first when the remote moved on. 1 push, 0 nothing to
 * push, -1.
 */
static int ready_to_push(const char *repo_path, const char *origin, const char *tracking)
{
	git_repository *repo = NULL;
	git_commit *tip = NULL, *theirs = NULL;
	int ret = -1, r;

	if (begin() < 0)
		return -1;
	r = repo_open(&repo, repo_path, 1);
	if (r < 0 || (r = ref_commit(&tip, repo, BRANCH_REF)) < 0)
		goto out;
	if (!tip) {
		ret = 0;   /* nothing committed, ever */
		goto out;
	}
	if (ref_commit(&theirs, repo, tracking) < 0)
		goto out;
	if (theirs && !git_oid_equal(git_commit_id(tip), git_commit_id(theirs)) &&
	    git_graph_descendant_of(repo, git_commit_id(tip), git_commit_id(theirs)) != 1) {
		git_error_clear();
		if (replay(repo, origin, tip, theirs) < 0)
			goto out;
		git_commit_free(tip);
		tip = NULL;
		if (ref_commit(&tip, repo, BRANCH_REF) < 0)
			goto out;
	}
	ret = !(theirs && tip && git_oid_equal(git_commit_id(tip), git_commit_id(theirs)));
out:
	git_commit_free(tip);
	git_commit_free(theirs);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret;
}

/* The remote has main now: remember so (a named remote's push would do it). */
static int pushed(const char *repo_path, const char *tracking)
{
	git_repository *repo = NULL;
	git_reference *made = NULL;
	git_oid id;
	int ret = -1;

	if (begin() < 0)
		return -1;
	if (repo_open(&repo, repo_path, 0))
		goto out;
	if (git_reference_name_to_id(&id, repo, BRANCH_REF) < 0 ||
	    git_reference_create(&made, repo, tracking, &id, 1, "sre remember push") < 0) {
		git_fail(tracking);
		goto out;
	}
	ret = 0;
out:
	git_reference_free(made);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret;
}

/*
 * A push to a repository on this host's file system. libgit2's local
 * transport checks that a push is a fast-forward against the branch as
 * it read it on connecting, then writes the branch whatever it holds by
 * then: two stores pushing at once to a shared file system could each
 * succeed, the second dropping the first's commit. So the objects go by
 * libgit2's push to a ref of this origin's own
 * (refs/sre/incoming/<origin>, removed after), and main moves by a
 * compare-and-swap under the branch's lock, from what we last saw of it
 * to our main, as receive-pack does for a push over the network.
 * 0, GITOPS_REJECTED when the branch moved meanwhile, -1.
 */
static int push_local(const char *repo_path, const char *path, const char *origin,
		      const char *url, const char *tracking, const struct config *cfg)
{
	struct strbuf err = STRBUF_INIT;
	char *incoming = xstrfmt("refs/sre/incoming/%s", origin);
	char *spec = xstrfmt("+%s:%s", BRANCH_REF, incoming);
	git_repository *repo = NULL, *remote = NULL;
	git_reference *made = NULL;
	git_oid ours, seen;
	int ret = -1, r, have_seen;

	r = gitops_push_url(repo_path, REMOTE_KEY, url, spec, cfg, &err);
	if (r) {
		error("%s", err.buf);
		goto done;
	}
	if (begin() < 0)
		goto done;
	if (repo_open(&repo, repo_path, 0) || git_reference_name_to_id(&ours, repo, BRANCH_REF) < 0) {
		git_fail(BRANCH_REF);
		goto out;
	}
	r = git_reference_name_to_id(&seen, repo, tracking);
	if (r < 0 && r != GIT_ENOTFOUND) {
		git_fail(tracking);
		goto out;
	}
	have_seen = !r;
	if (git_repository_open_ext(&remote, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		error("git: push to " REMOTE_KEY " (%s): %s", url, git_error_last()->message);
		goto out;
	}
	r = have_seen ? git_reference_create_matching(&made, remote, BRANCH_REF, &ours, 1, &seen,
						      "sre remember push") :
			git_reference_create(&made, remote, BRANCH_REF, &ours, 0, "sre remember push");
	if (r == GIT_EMODIFIED || r == GIT_EEXISTS || r == GIT_ELOCKED) {
		git_error_clear();
		ret = GITOPS_REJECTED;
	} else if (r < 0) {
		error("git: push to " REMOTE_KEY " (%s): %s", url, git_error_last()->message);
	} else {
		ret = 0;
	}
	if (git_reference_remove(remote, incoming) < 0)
		git_error_clear();   /* left behind, it holds nothing but our own main */
out:
	git_reference_free(made);
	git_repository_free(remote);
	git_repository_free(repo);
	git_libgit2_shutdown();
done:
	strbuf_release(&err);
	free(spec);
	free(incoming);
	return ret;
}

int knowledge_publish(const char *repo_path, const char *origin, const char *url,
		      const struct config *cfg, int *tries)
{
	struct strbuf err = STRBUF_INIT;
	char *tracking = knowledge_tracking_ref(url);
	int r;

	*tries = 0;
	if (local_remote_there(url) < 0) {
		free(tracking);
		return -1;
	}
	for (;;) {
		r = ready_to_push(repo_path, origin, tracking);
		if (r <= 0)
			break;
		if (*tries >= KNOWLEDGE_TRIES) {
			r = error("the remote moved on under each of %d pushes: giving up for now; "
				  "the commit stays in remember.repo for the next push", *tries);
			break;
		}
		(*tries)++;
		strbuf_reset(&err);
		if (local_remote_path(url)) {
			r = push_local(repo_path, local_remote_path(url), origin, url, tracking, cfg);
		} else {
			r = gitops_push_url(repo_path, REMOTE_KEY, url, PUSH_SPEC, cfg, &err);
			if (r < 0)
				error("%s", err.buf);
		}
		if (!r) {
			r = pushed(repo_path, tracking);
			break;
		}
		if (r != GITOPS_REJECTED)
			break;
		/*
		 * Someone else pushed first: fetch what they pushed, replay ours
		 * on it. A pause that grows, and differs between hosts, keeps
		 * two that collided from colliding again in step.
		 */
		sleep_ms(50 * *tries + (int64_t)(((unsigned)getpid() * 2654435761u) % 200));
		r = knowledge_fetch(repo_path, url, cfg);
		if (r < 0)
			break;
	}
	strbuf_release(&err);
	free(tracking);
	return r < 0 ? -1 : 0;
}

/* ---- fetch and read ---- */

int knowledge_fetch(const char *repo_path, const char *url, const struct config *cfg)
{
	struct strbuf err = STRBUF_INIT;
	git_repository *repo = NULL;
	git_commit *tip = NULL, *theirs = NULL;
	char *tracking = NULL, *spec = NULL;
	int ret = -1, r;

	if (local_remote_there(url) < 0 || begin() < 0)
		return -1;
	r = repo_open(&repo, repo_path, 1);
	git_repository_free(repo);
	repo = NULL;
	git_libgit2_shutdown();
	if (r < 0)
		return -1;
	tracking = knowledge_tracking_ref(url);
	spec = xstrfmt("+%s:%s", BRANCH_REF, tracking);
	r = gitops_fetch_url(repo_path, REMOTE_KEY, url, spec, cfg, &err);
	free(spec);
	if (r < 0) {
		error("%s", err.buf);
		strbuf_release(&err);
		free(tracking);
		return -1;
	}
	strbuf_release(&err);
	if (begin() < 0) {
		free(tracking);
		return -1;
	}
	if (repo_open(&repo, repo_path, 0) || ref_commit(&theirs, repo, tracking) < 0 ||
	    ref_commit(&tip, repo, BRANCH_REF) < 0)
		goto out;
	ret = 0;
	if (!theirs) {
		ret = 1;
		goto out;
	}
	/*
	 * A main with nothing unpushed follows the remote, so the next push
	 * needs no replay; only in a repository of sre's own making (bare).
	 */
	if (git_repository_is_bare(repo) &&
	    (!tip || (!git_oid_equal(git_commit_id(tip), git_commit_id(theirs)) &&
		      git_graph_descendant_of(repo, git_commit_id(theirs), git_commit_id(tip)) == 1))) {
		if (ref_move(repo, BRANCH_REF, tip ? git_commit_id(tip) : NULL, git_commit_id(theirs),
			     "sre remember pull: fast-forward") < 0)
			warning("remember.repo's %s stays where it was", KNOWLEDGE_BRANCH);
	}
	git_error_clear();
out:
	git_commit_free(tip);
	git_commit_free(theirs);
	git_repository_free(repo);
	git_libgit2_shutdown();
	free(tracking);
	return ret;
}

/* A name from the remote, fit to print: printable ASCII, bounded. */
static const char *shown(struct strbuf *sb, const char *name)
{
	strbuf_reset(sb);
	for (const char *p = name; *p && sb->len < 80; p++)
		strbuf_addch(sb, (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f ? *p : '?');
	if (strlen(name) > 80)
		strbuf_addstr(sb, "...");
	return sb->buf;
}

/* "<digits>-<slug>.json": 1 and *id, else 0. */
static int record_name(const char *name, long long *id)
{
	size_t digits = strspn(name, "0123456789"), len = strlen(name);
	const char *slug = name + digits + 1;

	if (!digits || digits > 18 || name[digits] != '-' || name[0] == '0' || len < 5 ||
	    strcmp(name + len - 5, ".json"))
		return 0;
	if ((size_t)(name + len - 5 - slug) < 1 ||
	    strspn(slug, "abcdefghijklmnopqrstuvwxyz0123456789-") != (size_t)(name + len - 5 - slug))
		return 0;
	*id = strtoll(name, NULL, 10);
	return *id > 0;
}

struct reader {
	git_repository *repo;
	git_odb *odb;
	const char *ours;
	knowledge_each_fn each;
	void *data;
	struct knowledge_read_stats *stats;
	size_t entries;
	struct strbuf a, b;     /* for shown() */
};

static void skip(struct reader *rd, const char *fmt, ...) SRE_PRINTF(2, 3);
static void skip(struct reader *rd, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	warning("remember.remote: %s: skipped", sb.buf);
	strbuf_release(&sb);
	rd->stats->skipped++;
}

/* One record file; 0, or -1 when each() asked to stop. */
static int read_record(struct reader *rd, const char *origin, const char *year,
		       const git_tree_entry *e)
{
	const char *name = git_tree_entry_name(e);
	git_filemode_t mode = git_tree_entry_filemode(e);
	git_object_t type;
	git_blob *blob = NULL;
	cJSON *record = NULL;
	const cJSON *claim;
	long long id, at_id;
	size_t size;
	int ret = 0;

	if (ends_with(name, ".md") && mode == GIT_FILEMODE_BLOB)
		return 0;   /* the post-mortem; its record says it all */
	if (!record_name(name, &id)) {
		skip(rd, "incidents/%s/%s/%s is not <id>-<slug>.json", origin, year,
		     shown(&rd->a, name));
		return 0;
	}
	if (mode == GIT_FILEMODE_LINK) {
		skip(rd, "incidents/%s/%s/%s is a symbolic link", origin, year, shown(&rd->a, name));
		return 0;
	}
	if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) {
		skip(rd, "incidents/%s/%s/%s is not a file", origin, year, shown(&rd->a, name));
		return 0;
	}
	if (git_odb_read_header(&size, &type, rd->odb, git_tree_entry_id(e)) < 0 ||
	    type != GIT_OBJECT_BLOB) {
		skip(rd, "incidents/%s/%s/%s cannot be read", origin, year, shown(&rd->a, name));
		git_error_clear();
		return 0;
	}
	if (size > KNOWLEDGE_MAX_RECORD) {
		skip(rd, "incidents/%s/%s/%s is larger than %d KiB", origin, year,
		     shown(&rd->a, name), KNOWLEDGE_MAX_RECORD >> 10);
		return 0;
	}
	if (git_blob_lookup(&blob, rd->repo, git_tree_entry_id(e)) < 0) {
		skip(rd, "incidents/%s/%s/%s cannot be read", origin, year, shown(&rd->a, name));
		git_error_clear();
		return 0;
	}
	record = cJSON_ParseWithLength(git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	if (!record || !cJSON_IsObject(record)) {
		skip(rd, "incidents/%s/%s/%s is not a JSON object", origin, year, shown(&rd->a, name));
		goto out;
	}
	claim = cJSON_GetObjectItemCaseSensitive(record, "origin");
	if (claim && (!cJSON_IsString(claim) || strcmp(claim->valuestring, origin))) {
		skip(rd, "incidents/%s/%s/%s claims to come from another origin than %s", origin,
		     year, shown(&rd->a, name), origin);
		goto out;
	}
	claim = cJSON_GetObjectItemCaseSensitive(record, "id");
	if (claim && (json_to_ll(claim, 1, LLONG_MAX, &at_id) < 0 || at_id != id)) {
		skip(rd, "incidents/%s/%s/%s holds another incident's id", origin, year,
		     shown(&rd->a, name));
		goto out;
	}
	/* Whatever an older or hostile sre pushed, no secret enters this store. */
	redact_json(record);
	rd->stats->records++;
	ret = rd->each(origin, id, record, rd->data);
out:
	cJSON_Delete(record);
	return ret;
}

/* A tree entry's tree, or NULL after a warning that it is not one. */
static git_tree *entry_tree(struct reader *rd, const git_tree_entry *e, const char *where)
{
	git_tree *t = NULL;

	if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
		skip(rd, "%s is not a directory", where);
		return NULL;
	}
	if (git_tree_lookup(&t, rd->repo, git_tree_entry_id(e)) < 0) {
		skip(rd, "%s cannot be read", where);
		git_error_clear();
		return NULL;
	}
	return t;
}

/* More entries than a pull looks at? Say so once. */
static int too_many(struct reader *rd)
{
	if (++rd->entries == KNOWLEDGE_MAX_ENTRIES + 1)
		warning("remember.remote: more than %d entries: the rest is left for now",
			KNOWLEDGE_MAX_ENTRIES);
	return rd->entries > KNOWLEDGE_MAX_ENTRIES;
}

static int read_origin(struct reader *rd, const char *origin, git_tree *dir)
{
	struct strbuf where = STRBUF_INIT;
	int ret = 0;

	for (size_t y = 0; !ret && y < git_tree_entrycount(dir) && !too_many(rd); y++) {
		const git_tree_entry *ye = git_tree_entry_byindex(dir, y);
		const char *year = git_tree_entry_name(ye);
		git_tree *files;

		strbuf_reset(&where);
		strbuf_addf(&where, "incidents/%s/%s", origin, shown(&rd->b, year));
		if (strlen(year) != 4 || strspn(year, "0123456789") != 4) {
			skip(rd, "%s is not a year", where.buf);
			continue;
		}
		files = entry_tree(rd, ye, where.buf);
		for (size_t k = 0; files && !ret && k < git_tree_entrycount(files) && !too_many(rd); k++)
			ret = read_record(rd, origin, year, git_tree_entry_byindex(files, k));
		git_tree_free(files);
	}
	strbuf_release(&where);
	return ret;
}

int knowledge_read(const char *repo_path, const char *url, const char *our_origin,
		   knowledge_each_fn each, void *data, struct knowledge_read_stats *stats)
{
	struct reader rd = { .ours = our_origin, .each = each, .data = data, .stats = stats,
			     .a = STRBUF_INIT, .b = STRBUF_INIT };
	git_commit *theirs = NULL;
	git_tree *root = NULL, *incidents = NULL;
	git_tree_entry *ie = NULL;
	char *tracking = NULL;
	int ret = -1, r;

	memset(stats, 0, sizeof(*stats));
	if (begin() < 0)
		return -1;
	r = repo_open(&rd.repo, repo_path, 0);
	if (r)
		goto out_r;
	tracking = knowledge_tracking_ref(url);
	r = ref_commit(&theirs, rd.repo, tracking);
	if (r)
		goto out_r;
	if (git_repository_odb(&rd.odb, rd.repo) < 0 || git_commit_tree(&root, theirs) < 0) {
		git_fail(tracking);
		goto out;
	}
	r = git_tree_entry_bypath(&ie, root, "incidents");
	if (r == GIT_ENOTFOUND) {
		git_error_clear();
		ret = 0;
		goto out;
	}
	if (r < 0) {
		git_fail("incidents");
		goto out;
	}
	incidents = entry_tree(&rd, ie, "incidents");
	ret = 0;
	for (size_t i = 0; incidents && !ret && i < git_tree_entrycount(incidents) && !too_many(&rd); i++) {
		const git_tree_entry *oe = git_tree_entry_byindex(incidents, i);
		const char *origin = git_tree_entry_name(oe);
		struct strbuf where = STRBUF_INIT;
		git_tree *dir;

		if (our_origin && !strcmp(origin, our_origin))
			continue;   /* ours: this store has them already */
		if (!knowledge_origin_ok(origin)) {
			skip(&rd, "incidents/%s is not an origin's name", shown(&rd.a, origin));
			continue;
		}
		strbuf_addf(&where, "incidents/%s", origin);
		dir = entry_tree(&rd, oe, where.buf);
		strbuf_release(&where);
		if (!dir)
			continue;
		stats->origins++;
		ret = read_origin(&rd, origin, dir);
		git_tree_free(dir);
	}
	goto out;
out_r:
	ret = r;
out:
	git_tree_free(incidents);
	git_tree_entry_free(ie);
	git_tree_free(root);
	git_commit_free(theirs);
	git_odb_free(rd.odb);
	git_repository_free(rd.repo);
	git_libgit2_shutdown();
	strbuf_release(&rd.a);
	strbuf_release(&rd.b);
	free(tracking);
	return ret;
}

/* ---- sre remember push and pull ---- */

/* What one incident contributes: its record and its post-mortem. */
struct rendered {
	long long id;
	char *title;                   /* redacted, one line */
	struct knowledge_file file[2];
};

static void rendered_release(struct rendered *r)
{
	free(r->title);
	for (size_t i = 0; i < ARRAY_SIZE(r->file); i++) {
		free(r->file[i].path);
		free(r->file[i].content);
	}
}

/* 0, 1 when there is nothing to push of it (no record), -1. */
static int render(struct store *st, const struct config *cfg, const char *origin,
		  const struct incident *inc, struct rendered *out)
{
	struct strbuf path = STRBUF_INIT, md = STRBUF_INIT;
	cJSON *record = NULL;
	char *title = redact_str(inc->title ? inc->title : ""), *text;
	int r;

	memset(out, 0, sizeof(*out));
	out->id = inc->id;
	for (char *p = title; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	out->title = title;
	r = memory_record(st, inc->id, &record);
	if (r)
		return r;
	/* The directory says where a record comes from; the record agrees. */
	if (cJSON_GetObjectItemCaseSensitive(record, "origin"))
		cJSON_ReplaceItemInObjectCaseSensitive(record, "origin", cJSON_CreateString(origin));
	else
		cJSON_AddStringToObject(record, "origin", origin);
	redact_json(record);
	text = cJSON_Print(record);
	cJSON_Delete(record);
	if (!text)
		return error("cannot write the record of incident %lld", inc->id);
	r = postmortem_write(st, cfg, inc->id, &md);
	if (r) {
		free(text);
		strbuf_release(&md);
		return r == 1 ? 1 : -1;
	}
	redact_strbuf(&md);
	if (knowledge_path(&path, origin, inc->opened_at, inc->id, title, "json") < 0) {
		free(text);
		strbuf_release(&md);
		return error("incident %lld has no place in the repository", inc->id);
	}
	out->file[0].path = strbuf_detach(&path, NULL);
	out->file[0].content = xstrfmt("%s\n", text);
	out->file[0].len = strlen(out->file[0].content);
	free(text);
	knowledge_path(&path, origin, inc->opened_at, inc->id, title, "md");
	out->file[1].path = strbuf_detach(&path, NULL);
	out->file[1].len = md.len;
	out->file[1].content = strbuf_detach(&md, NULL);
	return 0;
}

void knowledge_push_release(struct knowledge_push *kp)
{
	strvec_clear(&kp->paths);
	free(kp->repo);
	kp->repo = NULL;
}

/* remember.remote, checked; NULL (0) when unset; -1 after error(). */
static int remote_url(const struct config *cfg, const char **out)
{
	struct strbuf err = STRBUF_INIT;

	*out = config_get_string(cfg, REMOTE_KEY);
	if (!*out)
		return 0;
	if (knowledge_remote_ok(*out, &err) < 0) {
		error("%s", err.buf);
		strbuf_release(&err);
		return -1;
	}
	return 0;
}

int knowledge_push(struct store *st, const struct config *cfg, struct knowledge_push *kp)
{
	struct incident_filter filter = { .all = 1, .state = STATE_INCIDENT_RESOLVED };
	struct incident *list = NULL;
	struct rendered *done = NULL;
	struct knowledge_file *files = NULL;
	struct strvec changed = STRVEC_INIT;
	struct strbuf msg = STRBUF_INIT;
	size_t nr = 0, ndone = 0, nfiles = 0, indexed;
	const char *url;
	char *origin = NULL;
	int ret = -1;

	if (remote_url(cfg, &url) < 0)
		return -1;
	/*
	 * The token the push may use is registered in the child that loads
	 * it; registered here too, it is masked in what is written before.
	 */
	redact_add_secret(getenv("GITHUB_TOKEN"));
	kp->local_only = !url;
	kp->repo = knowledge_repo_path(cfg, store_path(st));
	if (!kp->repo || !(origin = memory_origin(st)))
		goto out;
	/* The memory rows pushed_at is kept in: as `sre remember` would bring them up to date. */
	if (!kp->dry_run && memory_index(st, cfg, 0, &indexed) < 0)
		goto out;
	if (store_incident_list(st, &filter, &list, &nr) < 0)
		goto out;
	done = xcalloc(nr ? nr : 1, sizeof(*done));
	files = xcalloc(2 * (nr ? nr : 1), sizeof(*files));
	for (size_t i = 0; i < nr; i++) {
		int r = kp->commit_only ? memory_committed(st, list[i].id) : memory_pushed(st, list[i].id);

		if (r < 0)
			goto out;
		if (r)
			continue;   /* pushed since it last changed */
		r = render(st, cfg, origin, &list[i], &done[ndone]);
		if (r) {
			rendered_release(&done[ndone]);
			if (r < 0)
				warning("incident %lld is left out of this push", list[i].id);
			continue;
		}
		files[nfiles++] = done[ndone].file[0];
		files[nfiles++] = done[ndone].file[1];
		ndone++;
	}
	/* First what changed, for the message; then the commit. */
	if (knowledge_commit(kp->repo, origin, files, nfiles, NULL, kp->author, 1, &changed,
			     NULL) < 0)
		goto out;
	for (size_t i = 0; i < ndone; i++) {
		if (!strvec_has(&changed, done[i].file[0].path) &&
		    !strvec_has(&changed, done[i].file[1].path))
			continue;
		kp->incidents++;
		strbuf_addf(&msg, "%lld %s\n", done[i].id, done[i].title);
	}
	for (size_t i = 0; i < changed.nr; i++)
		strvec_push(&kp->paths, changed.v[i]);
	if (kp->dry_run) {
		ret = 0;
		goto out;
	}
	if (kp->commit_only)
		url = NULL;
	if (kp->incidents) {
		struct strbuf full = STRBUF_INIT;
		int r;

		strbuf_addf(&full, "sre remember push: %zu incident%s from %s\n\n%s", kp->incidents,
			    kp->incidents == 1 ? "" : "s", origin, msg.buf);
		r = knowledge_commit(kp->repo, origin, files, nfiles, full.buf, kp->author, 0,
				     NULL, NULL);
		strbuf_release(&full);
		if (r < 0)
			goto out;
		kp->committed = !r;
	}
	if (url && knowledge_publish(kp->repo, origin, url, cfg, &kp->tries) < 0) {
		error("nothing was marked pushed: the next sre remember push tries again");
		goto out;
	}
	/* Committed only: the next push renders them again, finds them committed, and sends them. */
	for (size_t i = 0; i < ndone; i++) {
		if ((kp->commit_only ? memory_mark_committed(st, done[i].id, sre_now()) :
				       memory_mark_pushed(st, done[i].id, sre_now())) < 0)
			goto out;
		kp->marked++;
	}
	ret = 0;
out:
	for (size_t i = 0; i < ndone; i++)
		rendered_release(&done[i]);
	free(done);
	free(files);
	incident_list_free(list, nr);
	strvec_clear(&changed);
	strbuf_release(&msg);
	free(origin);
	return ret;
}

struct importer {
	struct store *st;
	struct knowledge_pull *kp;
};

static int import_one(const char *origin, long long id, cJSON *record, void *data)
{
	struct importer *im = data;
	int r = memory_import(im->st, origin, record);

	if (r < 0) {
		warning("remember.remote: the record of incident %lld of %s was not indexed", id,
			origin);
		im->kp->refused++;
	} else if (r == 0) {
		im->kp->added++;
	} else {
		im->kp->unchanged++;
	}
	return 0;
}

int knowledge_pull(struct store *st, const struct config *cfg, struct knowledge_pull *kp)
{
	struct importer im = { .st = st, .kp = kp };
	const char *url;
	char *repo = NULL, *origin = NULL;
	int ret = -1, r;

	memset(kp, 0, sizeof(*kp));
	if (remote_url(cfg, &url) < 0)
		return -1;
	if (!url)
		return error(REMOTE_KEY " is not set: there is no shared repository to pull from");
	repo = knowledge_repo_path(cfg, store_path(st));
	if (!repo || !(origin = memory_origin(st)))
		goto out;
	r = knowledge_fetch(repo, url, cfg);
	if (r < 0)
		goto out;
	if (r == 1) {
		kp->empty = 1;
		ret = 0;
		goto out;
	}
	ret = knowledge_read(repo, url, origin, import_one, &im, &kp->read) < 0 ? -1 : 0;
out:
	free(repo);
	free(origin);
	return ret;
}
