/*
 * gitops.c: the repository side of `sre fix` (see fix.h): read a file at
 * a branch's tip, make a branch with one commit on it, push it, delete
 * it, and name the GitHub repository a pull request goes to.
 *
 * core.repo is a person's clone, which may have work of theirs in it. So
 * nothing here checks anything out: a commit is built from trees and
 * blobs written straight to the object database, and only the branch's
 * ref moves. The work tree, the index and HEAD stay as they were, and a
 * branch that is checked out is never moved.
 *
 * Each public function brackets its use of libgit2 with git_libgit2_init()
 * and git_libgit2_shutdown(), which count, as lib/collect-git.c does.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <git2.h>

#include "fix.h"
#include "http.h"
#include "redact.h"
#include "run-command.h"
#include "timeutil.h"
#include "util.h"

#define DEFAULT_REMOTE "origin"
#define DEFAULT_EMAIL "sre@localhost"
#define PUSH_TIMEOUT_MS (2 * 60 * 1000) /* fix.push-timeout's default */
#define PUSH_MESSAGE_MAX (64 << 10)     /* the most of the push's error kept */

static void git_why(struct strbuf *err, const char *what)
{
	const git_error *e = git_error_last();

	strbuf_addf(err, "git: %s: %s", what, e && e->message ? e->message : "unknown error");
}

/* libgit2 loaded (lib/lazy-libgit2.c) and initialised; else why, in err. */
static int libgit2_begin(struct strbuf *err)
{
	if (git_libgit2_init() < 0) {
		const git_error *e = git_error_last();

		strbuf_addf(err, "git: %s", e && e->message ? e->message : "libgit2 cannot start");
		return -1;
	}
	return 0;
}

static int open_repo(git_repository **out, const char *path, struct strbuf *err)
{
	if (git_repository_open_ext(out, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		git_why(err, path);
		return -1;
	}
	return 0;
}

static int branch_ok(const char *branch, struct strbuf *err)
{
	int valid = 0, r = -1;

	/* libgit2 allocates here too: it must be initialised, whoever calls. */
	if (libgit2_begin(err) < 0)
		return 0;
	if (branch)
		r = git_branch_name_is_valid(&valid, branch);
	git_libgit2_shutdown();
	if (!branch || r < 0 || !valid) {
		strbuf_addf(err, "\"%s\" is not a branch name", branch ? branch : "");
		return 0;
	}
	return 1;
}

/* A branch sre may make on base: a valid name, and not base itself. */
static int new_branch_ok(const char *branch, const char *base, struct strbuf *err)
{
	if (base && branch && !strcmp(base, branch)) {
		strbuf_addf(err, "branch %s would be its own base", branch);
		return 0;
	}
	return branch_ok(branch, err);
}

/* A path inside the repository: relative, no empty, "." or ".." part. */
static int path_ok(const char *path, struct strbuf *err)
{
	const char *p = path;

	while (p && *p) {
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);

		if (!n || (n == 1 && *p == '.') || (n == 2 && !strncmp(p, "..", 2)))
			break;
		if (!*end)
			return 1;
		p = end + 1;
	}
	strbuf_addf(err, "\"%s\" is not a path inside the repository", path ? path : "");
	return 0;
}

/*
 * The commit at the tip of branch: the local branch, else the remote's
 * (a clone made for sre may have only refs/remotes/origin/<branch>).
 */
static int branch_tip(git_commit **out, git_repository *repo, const char *branch,
		      struct strbuf *err)
{
	static const char *const forms[] = { "refs/heads/", "refs/remotes/" DEFAULT_REMOTE "/" };
	git_reference *ref = NULL;
	int ret = -1;

	*out = NULL;
	if (!branch_ok(branch, err))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(forms) && !ref; i++) {
		char *name = xstrfmt("%s%s", forms[i], branch);
		int r = git_reference_lookup(&ref, repo, name);

		free(name);
		if (r < 0 && r != GIT_ENOTFOUND) {
			git_why(err, branch);
			return -1;
		}
	}
	if (!ref) {
		strbuf_addf(err, "core.repo has no branch %s", branch);
		return -1;
	}
	if (git_reference_peel((git_object **)out, ref, GIT_OBJECT_COMMIT) < 0)
		git_why(err, branch);
	else
		ret = 0;
	git_reference_free(ref);
	return ret;
}

int gitops_default_branch(char **out, const char *repo, struct strbuf *err)
{
	git_repository *r = NULL;
	git_reference *ref = NULL;
	const char *name;
	int ret = -1, lookup;

	*out = NULL;
	if (libgit2_begin(err) < 0)
		return -1;
	if (open_repo(&r, repo, err) < 0)
		goto out;
	lookup = git_reference_lookup(&ref, r, "refs/remotes/" DEFAULT_REMOTE "/HEAD");
	if (lookup < 0 && lookup != GIT_ENOTFOUND) {
		git_why(err, repo);
		goto out;
	}
	if (ref && git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC &&
	    skip_prefix(git_reference_symbolic_target(ref), "refs/remotes/" DEFAULT_REMOTE "/",
			&name) && *name) {
		*out = xstrdup(name);
		ret = 0;
		goto out;
	}
	git_reference_free(ref);
	ref = NULL;
	if (git_reference_lookup(&ref, r, "HEAD") < 0) {
		git_why(err, repo);
		goto out;
	}
	if (git_reference_type(ref) != GIT_REFERENCE_SYMBOLIC ||
	    !skip_prefix(git_reference_symbolic_target(ref), "refs/heads/", &name)) {
		strbuf_addstr(err, "core.repo's HEAD is detached and it has no "
			      "refs/remotes/" DEFAULT_REMOTE "/HEAD: no default branch to go by");
		goto out;
	}
	if (git_repository_head_unborn(r) == 1) {
		strbuf_addstr(err, "core.repo has no commit yet");
		goto out;
	}
	*out = xstrdup(name);
	ret = 0;
out:
	git_reference_free(ref);
	git_repository_free(r);
	git_libgit2_shutdown();
	return ret;
}

int gitops_read_file(char **out, const char *repo, const char *branch, const char *path,
		     struct strbuf *err)
{
	git_repository *r = NULL;
	git_commit *tip = NULL;
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	git_blob *blob = NULL;
	const char *data;
	size_t size;
	int ret = -1, found;

	*out = NULL;
	if (!path_ok(path, err))
		return -1;
	if (libgit2_begin(err) < 0)
		return -1;
	if (open_repo(&r, repo, err) < 0 || branch_tip(&tip, r, branch, err) < 0)
		goto out;
	if (git_commit_tree(&tree, tip) < 0) {
		git_why(err, branch);
		goto out;
	}
	found = git_tree_entry_bypath(&entry, tree, path);
	if (found == GIT_ENOTFOUND) {
		ret = 1;
		goto out;
	}
	if (found < 0) {
		git_why(err, path);
		goto out;
	}
	if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB ||
	    git_tree_entry_filemode(entry) == GIT_FILEMODE_LINK) {
		strbuf_addf(err, "%s is not a file at %s", path, branch);
		goto out;
	}
	if (git_blob_lookup(&blob, r, git_tree_entry_id(entry)) < 0) {
		git_why(err, path);
		goto out;
	}
	data = git_blob_rawcontent(blob);
	size = (size_t)git_blob_rawsize(blob);
	if (memchr(data, '\0', size)) {
		strbuf_addf(err, "%s is not text at %s", path, branch);
		goto out;
	}
	*out = xstrndup(data, size);
	ret = 0;
out:
	git_blob_free(blob);
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_commit_free(tip);
	git_repository_free(r);
	git_libgit2_shutdown();
	return ret;
}

int gitops_diff(struct strbuf *out, const char *path, const char *old, const char *new,
		struct strbuf *err)
{
	git_diff_options opts;
	git_patch *patch = NULL;
	git_buf buf = { 0 };
	int ret = -1;

	if (libgit2_begin(err) < 0)
		return -1;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.context_lines = 3;
	if (git_patch_from_buffers(&patch, old, old ? strlen(old) : 0, path,
				   new, new ? strlen(new) : 0, path, &opts) < 0 ||
	    git_patch_to_buf(&buf, patch) < 0) {
		git_why(err, path);
		goto out;
	}
	strbuf_add(out, buf.ptr, buf.size);
	ret = 0;
out:
	git_buf_dispose(&buf);
	git_patch_free(patch);
	git_libgit2_shutdown();
	return ret;
}

/* author <user.email, else sre@localhost>, at sre_now(). */
static int signature(git_signature **out, git_repository *repo, const char *author,
		     struct strbuf *err)
{
	git_config *cfg = NULL;
	git_buf email = { 0 };
	const char *name = author && *author ? author : "sre";
	int ret = 0;

	if (git_repository_config_snapshot(&cfg, repo) < 0 ||
	    git_config_get_string_buf(&email, cfg, "user.email") < 0 || !email.size) {
		git_error_clear();
		git_buf_dispose(&email);
	}
	if (git_signature_new(out, name, email.size ? email.ptr : DEFAULT_EMAIL,
			      (git_time_t)sre_now(), 0) < 0 ||
	    git_repository_set_ident(repo, (*out)->name, (*out)->email) < 0) {
		git_why(err, name);
		ret = -1;
	}
	git_buf_dispose(&email);
	git_config_free(cfg);
	return ret;
}

/*
 * Point refs/heads/<branch> at a new commit of tree on base, unless it is
 * there already with that very tree on that very parent; *out_sha is the
 * commit. A branch checked out anywhere is not moved: its work tree would
 * be left behind.
 */
static int commit_on_branch(char **out_sha, git_repository *repo, git_commit *base,
			    const char *branch, const git_oid *tree_id, const char *message,
			    const char *author, struct strbuf *err)
{
	char *refname = xstrfmt("refs/heads/%s", branch), *log = NULL;
	char sha[GIT_OID_HEXSZ + 1];
	git_reference *ref = NULL, *head = NULL, *made = NULL;
	git_commit *tip = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_buf msg = { 0 };
	git_oid id;
	int ret = -1, r;

	if (!git_reference_lookup(&head, repo, "HEAD") &&
	    git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
	    !strcmp(git_reference_symbolic_target(head), refname)) {
		strbuf_addf(err, "branch %s is checked out in core.repo: sre will not move it", branch);
		goto out;
	}
	r = git_reference_lookup(&ref, repo, refname);
	if (r < 0 && r != GIT_ENOTFOUND) {
		git_why(err, refname);
		goto out;
	}
	if (ref) {
		if (git_branch_is_checked_out(ref) == 1) {
			strbuf_addf(err, "branch %s is checked out in core.repo: sre will not move it",
				    branch);
			goto out;
		}
		if (!git_reference_peel((git_object **)&tip, ref, GIT_OBJECT_COMMIT) &&
		    git_oid_equal(git_commit_tree_id(tip), tree_id) &&
		    git_commit_parentcount(tip) == 1 &&
		    git_oid_equal(git_commit_parent_id(tip, 0), git_commit_id(base))) {
			git_oid_tostr(sha, sizeof(sha), git_commit_id(tip));
			*out_sha = xstrdup(sha);
			ret = 0;
			goto out;
		}
		git_error_clear();
	}
	if (signature(&sig, repo, author, err) < 0)
		goto out;
	if (git_message_prettify(&msg, message ? message : "", 0, '#') < 0 || !msg.size) {
		strbuf_addstr(err, "a commit needs a message");
		goto out;
	}
	if (git_tree_lookup(&tree, repo, tree_id) < 0 ||
	    git_commit_create(&id, repo, NULL, sig, sig, NULL, msg.ptr, tree, 1,
			      (const git_commit **)&base) < 0) {
		git_why(err, branch);
		goto out;
	}
	log = xstrfmt("sre: %.*s", (int)strcspn(msg.ptr, "\n"), msg.ptr);
	if (git_reference_create(&made, repo, refname, &id, 1, log) < 0) {
		git_why(err, refname);
		goto out;
	}
	git_oid_tostr(sha, sizeof(sha), &id);
	*out_sha = xstrdup(sha);
	ret = 0;
out:
	git_buf_dispose(&msg);
	git_signature_free(sig);
	git_tree_free(tree);
	git_commit_free(tip);
	git_reference_free(made);
	git_reference_free(ref);
	git_reference_free(head);
	free(log);
	free(refname);
	return ret;
}

int gitops_commit_file(char **out_sha, const char *repo, const char *base, const char *branch,
		       const char *path, const char *content, const char *message,
		       const char *author, struct strbuf *err)
{
	git_repository *r = NULL;
	git_commit *tip = NULL;
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	git_tree_update update = { .action = GIT_TREE_UPDATE_UPSERT, .path = path,
				   .filemode = GIT_FILEMODE_BLOB };
	git_oid tree_id;
	int ret = -1, found;

	*out_sha = NULL;
	if (!path_ok(path, err) || !new_branch_ok(branch, base, err))
		return -1;
	if (libgit2_begin(err) < 0)
		return -1;
	if (open_repo(&r, repo, err) < 0 || branch_tip(&tip, r, base, err) < 0)
		goto out;
	if (git_commit_tree(&tree, tip) < 0) {
		git_why(err, base);
		goto out;
	}
	found = git_tree_entry_bypath(&entry, tree, path);
	if (found < 0 && found != GIT_ENOTFOUND) {
		git_why(err, path);
		goto out;
	}
	if (entry) {
		git_filemode_t mode = git_tree_entry_filemode(entry);

		if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) {
			strbuf_addf(err, "%s is not a file at %s", path, base);
			goto out;
		}
		update.filemode = mode;   /* an executable stays one */
	}
	if (git_blob_create_from_buffer(&update.id, r, content, strlen(content)) < 0 ||
	    git_tree_create_updated(&tree_id, r, tree, 1, &update) < 0) {
		git_why(err, path);
		goto out;
	}
	if (git_oid_equal(&tree_id, git_tree_id(tree))) {
		strbuf_addf(err, "%s at %s already holds this text: nothing to commit", path, base);
		goto out;
	}
	ret = commit_on_branch(out_sha, r, tip, branch, &tree_id, message, author, err);
out:
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_commit_free(tip);
	git_repository_free(r);
	git_libgit2_shutdown();
	return ret;
}

/* The paths of index's conflicts, ", "-separated, into sb. */
static void conflict_paths(struct strbuf *sb, git_index *index)
{
	git_index_conflict_iterator *it = NULL;
	const git_index_entry *ancestor, *ours, *theirs;
	int n = 0;

	if (git_index_conflict_iterator_new(&it, index) < 0)
		return;
	while (!git_index_conflict_next(&ancestor, &ours, &theirs, it)) {
		const git_index_entry *e = ours ? ours : theirs ? theirs : ancestor;

		strbuf_addf(sb, "%s%s", n++ ? ", " : "", e->path);
	}
	git_index_conflict_iterator_free(it);
}

int gitops_commit_revert(char **out_sha, const char *repo, const char *base, const char *branch,
			 const char *sha, const char *message, const char *author,
			 struct strbuf *err)
{
	git_repository *r = NULL;
	git_commit *tip = NULL, *undo = NULL;
	git_index *index = NULL;
	git_oid id, tree_id;
	size_t len = sha ? strlen(sha) : 0;
	int ret = -1;

	*out_sha = NULL;
	if (len < 4 || len > GIT_OID_HEXSZ || strspn(sha, "0123456789abcdefABCDEF") != len) {
		strbuf_addf(err, "\"%s\" is not a commit id", sha ? sha : "");
		return -1;
	}
	if (!new_branch_ok(branch, base, err))
		return -1;
	if (libgit2_begin(err) < 0)
		return -1;
	if (open_repo(&r, repo, err) < 0 || branch_tip(&tip, r, base, err) < 0)
		goto out;
	if (git_oid_fromstrn(&id, sha, len) < 0 || git_commit_lookup_prefix(&undo, r, &id, len) < 0) {
		if (git_error_last() && git_error_last()->klass == GIT_ERROR_ODB)
			strbuf_addf(err, "core.repo has no commit %s", sha);
		else
			git_why(err, sha);
		goto out;
	}
	/* A merge is reverted to its first parent's side, as `git revert -m 1`. */
	if (git_revert_commit(&index, r, undo, tip, git_commit_parentcount(undo) > 1 ? 1 : 0,
			      NULL) < 0) {
		git_why(err, sha);
		goto out;
	}
	if (git_index_has_conflicts(index)) {
		strbuf_addf(err, "the revert of %s conflicts with %s: ", sha, base);
		conflict_paths(err, index);
		goto out;
	}
	if (git_index_write_tree_to(&tree_id, index, r) < 0) {
		git_why(err, sha);
		goto out;
	}
	if (git_oid_equal(&tree_id, git_commit_tree_id(tip))) {
		strbuf_addf(err, "the revert of %s changes nothing on %s", sha, base);
		goto out;
	}
	ret = commit_on_branch(out_sha, r, tip, branch, &tree_id, message, author, err);
out:
	git_index_free(index);
	git_commit_free(undo);
	git_commit_free(tip);
	git_repository_free(r);
	git_libgit2_shutdown();
	return ret;
}

/* ---- remotes ---- */

/*
 * A remote's URL is read from the configuration and rewritten by
 * url.<base>.insteadOf (and pushInsteadOf) here, and the remote made
 * from it is an anonymous one: git_remote_lookup() would do the same,
 * but libgit2 1.5 leaks a pcre2 match block for every configuration
 * entry its rewriting does not match (libgit2 #6382, fixed in 1.6), and
 * `make test SANITIZE=1` rightly counts that. git_branch_delete() leaks
 * the same way, through the branch's config section it removes.
 */

/* url with the longest url.<base>.<suffix> value that starts it replaced by base (caller frees). */
static char *rewrite_url(git_config *cfg, const char *url, const char *suffix, int *matched)
{
	git_config_iterator *it = NULL;
	git_config_entry *e;
	size_t best = 0;
	char *out = NULL;

	*matched = 0;
	if (git_config_iterator_new(&it, cfg) < 0) {
		git_error_clear();
		return xstrdup(url);
	}
	while (!git_config_next(&e, it)) {
		const char *base;
		size_t n = e->value ? strlen(e->value) : 0, blen;

		if (!skip_prefix(e->name, "url.", &base) || !ends_with(base, suffix) || !n ||
		    n <= best || strncmp(url, e->value, n))
			continue;
		blen = strlen(base) - strlen(suffix);
		free(out);
		out = xstrfmt("%.*s%s", (int)blen, base, url + n);
		best = n;
	}
	git_config_iterator_free(it);
	*matched = !!out;
	return out ? out : xstrdup(url);
}

/*
 * The URL git would use for remote name: for a push, remote.<name>.pushurl,
 * else remote.<name>.url rewritten by pushInsteadOf; insteadOf otherwise.
 * NULL when the remote has no URL.
 */
static char *remote_url(git_repository *repo, const char *name, int push)
{
	git_config *cfg = NULL;
	git_buf buf = { 0 };
	char *key = NULL, *out = NULL;
	int matched = 0, pushurl = 0;

	if (git_repository_config_snapshot(&cfg, repo) < 0)
		goto out;
	if (push) {
		key = xstrfmt("remote.%s.pushurl", name);
		pushurl = !git_config_get_string_buf(&buf, cfg, key) && buf.size;
		free(key);
		key = NULL;
	}
	if (!pushurl) {
		git_buf_dispose(&buf);
		key = xstrfmt("remote.%s.url", name);
		if (git_config_get_string_buf(&buf, cfg, key) < 0 || !buf.size)
			goto out;
		if (push) {
			out = rewrite_url(cfg, buf.ptr, ".pushinsteadof", &matched);
			if (matched)
				goto out;
			free(out);
		}
	}
	out = rewrite_url(cfg, buf.ptr, ".insteadof", &matched);
out:
	git_error_clear();
	free(key);
	git_buf_dispose(&buf);
	git_config_free(cfg);
	return out;
}

/*
 * The remote to push to, made from its URL. Its fetch refspec is the
 * usual one, so a push moves refs/remotes/<name>/<branch> as git's does.
 */
static int push_remote(git_remote **out, char **url, git_repository *repo, const char *name,
		       struct strbuf *err)
{
	git_remote_create_options opts;
	char *fetch;
	int ret = 0;

	*url = remote_url(repo, name, 1);
	if (!*url) {
		strbuf_addf(err, "core.repo has no remote %s", name);
		return -1;
	}
	git_remote_create_options_init(&opts, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	fetch = xstrfmt("+refs/heads/*:refs/remotes/%s/*", name);
	opts.repository = repo;
	opts.fetchspec = fetch;
	opts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
	if (git_remote_create_with_opts(out, *url, &opts) < 0)
		ret = -1;
	free(fetch);
	return ret;
}

/* ---- push ---- */

struct push_state {
	const struct config *cfg;
	int tried_ssh, tried_token, tried_user;
	int rejected;           /* the remote refused an update that is not a fast-forward */
	struct strbuf token;
	struct strbuf why;      /* what went wrong, in sre's words */
};

/* The push token: fix.push-token-command, else GITHUB_TOKEN. 0, or -1 with why. */
static int push_token(struct push_state *s)
{
	const char *env;
	int r = s->cfg ? config_get_secret(s->cfg, "fix.push-token", NULL, &s->token) : 1;

	if (r < 0) {
		strbuf_addstr(&s->why, "fix.push-token-command gave no token");
		return -1;
	}
	if (r == 1) {
		env = getenv("GITHUB_TOKEN");
		if (!env || !*env) {
			strbuf_addstr(&s->why, "no token to push over https: set "
				      "fix.push-token-command or GITHUB_TOKEN");
			return -1;
		}
		strbuf_addstr(&s->token, env);
		redact_add_secret(env);
	}
	return 0;
}

/*
 * May the push token go to url? Only to GitHub's own host, the one
 * github.api names (default https://api.github.com, whose git host is
 * github.com; a GitHub Enterprise API under https://ghe/api/v3 is on
 * ghe), and only over https, or plain http to loopback. A repository's
 * remote or pushurl is the repository's word, not the user's: pointed
 * elsewhere, it gets no token. 1 when it may, else 0 with why.
 */
static int token_may_go_to(const struct config *cfg, const char *url, struct strbuf *why)
{
	const char *api = cfg ? config_get_string(cfg, "github.api") : NULL;
	char *scheme = NULL, *host = NULL, *api_host = NULL;
	CURLU *u = curl_url(), *a = curl_url();
	int ok = 0;

	if (!api || !*api)
		api = "https://api.github.com";
	if (u && a && !curl_url_set(u, CURLUPART_URL, url, 0) &&
	    !curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) &&
	    !curl_url_get(u, CURLUPART_HOST, &host, 0) &&
	    !curl_url_set(a, CURLUPART_URL, api, 0) &&
	    !curl_url_get(a, CURLUPART_HOST, &api_host, 0)) {
		const char *git_host = !strcasecmp(api_host, "api.github.com") ? "github.com" : api_host;

		if (strcasecmp(host, git_host))
			strbuf_addf(why, "the push token goes only to %s (github.api), not to %s",
				    git_host, host);
		else if (strcasecmp(scheme, "https") &&
			 !(!strcasecmp(scheme, "http") && http_host_is_loopback(host)))
			strbuf_addf(why, "the push token goes only over https, not %s", scheme);
		else
			ok = 1;
	} else {
		strbuf_addstr(why, "the remote's URL cannot be read, so no token is given to it");
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(api_host);
	curl_url_cleanup(u);
	curl_url_cleanup(a);
	return ok;
}

/*
 * libgit2 asks again each time the server refuses: each kind is offered
 * once, so a bad token is not sent forever.
 */
static int credentials(git_credential **out, const char *url, const char *user_from_url,
		       unsigned int allowed, void *payload)
{
	struct push_state *s = payload;
	const char *user = user_from_url && *user_from_url ? user_from_url : "git";

	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && !s->tried_ssh) {
		s->tried_ssh = 1;
		return git_credential_ssh_key_from_agent(out, user);
	}
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && !s->tried_token) {
		s->tried_token = 1;
		if (!token_may_go_to(s->cfg, url, &s->why) || push_token(s) < 0)
			return GIT_EUSER;
		return git_credential_userpass_plaintext_new(out, "x-access-token", s->token.buf);
	}
	if ((allowed & GIT_CREDENTIAL_USERNAME) && !s->tried_user) {
		s->tried_user = 1;
		return git_credential_username_new(out, user);
	}
	if (s->tried_token)
		strbuf_addstr(&s->why, "the token was refused");
	else if (s->tried_ssh)
		strbuf_addstr(&s->why, "no key of ssh-agent was accepted");
	else
		strbuf_addstr(&s->why, "it asks for credentials sre cannot give");
	return GIT_EUSER;
}

static int update_reference(const char *refname, const char *status, void *payload)
{
	struct push_state *s = payload;

	if (status) {
		strbuf_addf(&s->why, "the remote refused %s: %s", refname, status);
		/*
		 * receive-pack's words for "fetch, then try again", and libgit2's
		 * local transport's when another push made the branch first
		 */
		if (strstr(status, "fast-forward") || strstr(status, "fetch first") ||
		    strstr(status, "stale info") || strstr(status, "lock") ||
		    strstr(status, "already exists"))
			s->rejected = 1;
	}
	return 0;
}

/* Drop the user and password of every URL in text. */
static void strip_userinfo(struct strbuf *out, const char *text)
{
	const char *p = text, *scheme;

	while ((scheme = strstr(p, "://"))) {
		const char *host = scheme + 3, *end = host + strcspn(host, "/?# \t\n'\""), *at;

		for (at = end; at > host && at[-1] != '@'; at--)
			;
		strbuf_add(out, p, (size_t)(host - p));
		p = at > host ? at : host;
	}
	strbuf_addstr(out, p);
}

/* A message from libgit2 that names no credentials and holds no token. */
static void scrubbed(struct strbuf *err, const char *msg, const char *token)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p, *hit;

	strip_userinfo(&sb, msg);
	p = sb.buf;
	while (token && *token && (hit = strstr(p, token))) {
		strbuf_add(err, p, (size_t)(hit - p));
		strbuf_addstr(err, "<redacted>");
		p = hit + strlen(token);
	}
	strbuf_addstr(err, p);
	strbuf_release(&sb);
}

/*
 * One exchange with a remote: a push of a branch to a remote of core.repo
 * by name (gitops_push), or a push or fetch of one refspec to a URL the
 * user gave (gitops_push_url, gitops_fetch_url: remember.remote).
 */
struct transfer {
	const char *repo;
	const char *name;     /* the remote's name, or the key that gave url */
	const char *url;      /* NULL: name's URL in the repository's config */
	const char *branch;   /* by name: the branch pushed (or deleted) */
	int delete;
	const char *spec;     /* by URL: the refspec */
	int fetch;
};

/* An anonymous remote for a URL from the user's own configuration. */
static int url_remote(git_remote **out, git_repository *repo, const char *url)
{
	git_remote_create_options opts;

	git_remote_create_options_init(&opts, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	opts.repository = repo;
	opts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	return git_remote_create_with_opts(out, url, &opts);
}

/* 0, GITOPS_REJECTED (a push that is not a fast-forward), or -1, with why in err. */
static int transfer_now(const struct transfer *t, const struct config *cfg, struct strbuf *err)
{
	struct push_state s = { .cfg = cfg, .token = STRBUF_INIT, .why = STRBUF_INIT };
	git_repository *r = NULL;
	git_remote *rem = NULL;
	git_remote_callbacks cbs;
	git_proxy_options proxy;
	git_push_options opts;
	git_fetch_options fopts;
	struct strbuf url = STRBUF_INIT;
	char *spec = NULL, *raw_url = NULL;
	git_strarray specs = { &spec, 1 };
	const char *name = t->name && *t->name ? t->name : DEFAULT_REMOTE;
	const char *verb = t->fetch ? "fetch from" : "push to";
	int ret = -1, r_push;

	if (!t->url && !branch_ok(t->branch, err))
		return -1;
	if (libgit2_begin(err) < 0)
		return -1;
	if (open_repo(&r, t->repo, err) < 0)
		goto out;
	if (t->url) {
		raw_url = xstrdup(t->url);
		if (url_remote(&rem, r, raw_url) < 0) {
			strip_userinfo(&url, raw_url);
			goto failed;
		}
	} else if (push_remote(&rem, &raw_url, r, name, err) < 0) {
		if (raw_url) {
			strip_userinfo(&url, raw_url);
			strbuf_addf(err, "git: %s %s (%s): ", verb, name, url.buf);
			scrubbed(err, git_error_last() && git_error_last()->message ?
				 git_error_last()->message : "unknown error", NULL);
		}
		goto out;
	}
	strip_userinfo(&url, raw_url);
	git_remote_init_callbacks(&cbs, GIT_REMOTE_CALLBACKS_VERSION);
	cbs.credentials = credentials;
	cbs.push_update_reference = update_reference;
	cbs.payload = &s;
	git_proxy_options_init(&proxy, GIT_PROXY_OPTIONS_VERSION);
	proxy.type = GIT_PROXY_AUTO;
	if (t->fetch) {
		spec = xstrdup(t->spec);
		git_fetch_options_init(&fopts, GIT_FETCH_OPTIONS_VERSION);
		fopts.callbacks = cbs;
		fopts.proxy_opts = proxy;
		fopts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
		fopts.update_fetchhead = 0;
		if (git_remote_fetch(rem, &specs, &fopts, "sre: fetch") < 0 || s.why.len)
			goto failed;
		ret = 0;
		goto out;
	}
	if (git_remote_connect(rem, GIT_DIRECTION_PUSH, &cbs, &proxy, NULL) < 0)
		goto failed;
	if (t->delete) {
		/* A branch the remote does not have is deleted already. */
		const git_remote_head **heads;
		char *refname = xstrfmt("refs/heads/%s", t->branch);
		size_t n, i;

		if (git_remote_ls(&heads, &n, rem) < 0) {
			free(refname);
			goto failed;
		}
		for (i = 0; i < n && strcmp(heads[i]->name, refname); i++)
			;
		free(refname);
		if (i == n) {
			ret = 0;
			goto out;
		}
	}
	if (t->url)
		spec = xstrdup(t->spec);
	else
		spec = t->delete ? xstrfmt(":refs/heads/%s", t->branch) :
				   xstrfmt("+refs/heads/%s:refs/heads/%s", t->branch, t->branch);
	git_push_options_init(&opts, GIT_PUSH_OPTIONS_VERSION);
	opts.callbacks = cbs;
	opts.proxy_opts = proxy;
	r_push = git_remote_push(rem, &specs, &opts);
	if (r_push == GIT_ENONFASTFORWARD)
		s.rejected = 1;
	if (r_push < 0 || s.why.len)
		goto failed;
	ret = 0;
	goto out;
failed:
	strbuf_addf(err, "git: %s %s (%s): ", verb, name, url.buf);
	if (s.why.len) {
		scrubbed(err, s.why.buf, s.token.buf);
	} else {
		const git_error *e = git_error_last();

		scrubbed(err, e && e->message ? e->message : "unknown error", s.token.buf);
	}
	if (s.rejected)
		ret = GITOPS_REJECTED;
out:
	if (rem)
		git_remote_disconnect(rem);
	git_remote_free(rem);
	git_repository_free(r);
	git_libgit2_shutdown();
	if (s.token.alloc)
		memset(s.token.buf, 0, s.token.alloc);
	strbuf_release(&s.token);
	strbuf_release(&s.why);
	strbuf_release(&url);
	free(raw_url);
	free(spec);
	return ret;
}

/*
 * libgit2 (1.5) has no timeout of its own: a server that accepts the
 * connection and then says nothing would hold a blocking read, and sre,
 * forever. So the push (or fetch) runs in a child process that leads a group of its
 * own, and the child's group is killed at fix.push-timeout. What the
 * child has to say (err) comes back through a pipe; its exit status says
 * whether it pushed.
 */
static int bounded_transfer(const struct transfer *t, const struct config *cfg,
			    struct strbuf *err)
{
	int64_t timeout = PUSH_TIMEOUT_MS, end;
	const char *name = t->name && *t->name ? t->name : DEFAULT_REMOTE;
	const char *verb = t->fetch ? "fetch from" : "push to", *what = t->fetch ? "fetch" : "push";
	struct strbuf said = STRBUF_INIT, limit = STRBUF_INIT;
	int pipefd[2], status = 0, cut = 0;
	pid_t pid;

	if (cfg && config_get_duration_ms(cfg, "fix.push-timeout", &timeout) < 0) {
		strbuf_addstr(err, "fix.push-timeout is not a duration");
		return -1;
	}
	if (timeout <= 0)
		timeout = PUSH_TIMEOUT_MS;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		strbuf_addf(err, "git: %s %s: cannot make a pipe: %s", verb, name, strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		strbuf_addf(err, "git: %s %s: cannot fork: %s", verb, name, strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		struct strbuf why = STRBUF_INIT;
		int r;

		child_own_group();
		close(pipefd[0]);
		r = transfer_now(t, cfg, &why);
		for (size_t off = 0; off < why.len;) {
			ssize_t n = write(pipefd[1], why.buf + off, why.len - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		_exit(r < 0 ? 1 : r == GITOPS_REJECTED ? 2 : 0);
	}
	setpgid(pid, pid); /* as the child does: whichever runs first */
	close(pipefd[1]);
	end = monotonic_ms() + timeout;
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		int64_t left = end - monotonic_ms();
		ssize_t n;
		int r;

		if (left <= 0) {
			cut = 1;
			break;
		}
		r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		strbuf_grow(&said, 4096);
		n = read(pipefd[0], said.buf + said.len, said.alloc - said.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		strbuf_setlen(&said, said.len + (size_t)n);
		if (said.len > PUSH_MESSAGE_MAX)
			break;
	}
	close(pipefd[0]);
	if (cut) {
		kill_process_group(pid);
	} else {
		/* Its message is written just before it exits. */
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (cut) {
		format_timeout(&limit, timeout);
		strbuf_addf(err, "git: %s %s: no answer within fix.push-timeout (%s); "
			    "the %s was cut off", verb, name, limit.buf, what);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		if (said.len)
			strbuf_add(err, said.buf, said.len);
		else
			strbuf_addf(err, "git: %s %s: the %s process died (status %d)",
				    verb, name, what, status);
	}
	strbuf_release(&said);
	strbuf_release(&limit);
	if (!cut && WIFEXITED(status) && WEXITSTATUS(status) == 2)
		return GITOPS_REJECTED;
	return cut || !WIFEXITED(status) || WEXITSTATUS(status) ? -1 : 0;
}

int gitops_push(const char *repo, const char *remote, const char *branch, int delete,
		const struct config *cfg, struct strbuf *err)
{
	struct transfer t = { .repo = repo, .name = remote, .branch = branch, .delete = delete };

	/* A forced push is never refused as not a fast-forward; any refusal is an error. */
	return bounded_transfer(&t, cfg, err) ? -1 : 0;
}

int gitops_push_url(const char *repo, const char *name, const char *url, const char *spec,
		    const struct config *cfg, struct strbuf *err)
{
	struct transfer t = { .repo = repo, .name = name, .url = url, .spec = spec };

	return bounded_transfer(&t, cfg, err);
}

int gitops_fetch_url(const char *repo, const char *name, const char *url, const char *spec,
		     const struct config *cfg, struct strbuf *err)
{
	struct transfer t = { .repo = repo, .name = name, .url = url, .spec = spec, .fetch = 1 };

	return bounded_transfer(&t, cfg, err) ? -1 : 0;
}

int gitops_delete_branch(const char *repo, const char *branch, struct strbuf *err)
{
	git_repository *r = NULL;
	git_reference *ref = NULL;
	int ret = -1, found;

	if (!branch_ok(branch, err))
		return -1;
	if (libgit2_begin(err) < 0)
		return -1;
	if (open_repo(&r, repo, err) < 0)
		goto out;
	found = git_branch_lookup(&ref, r, branch, GIT_BRANCH_LOCAL);
	if (found == GIT_ENOTFOUND) {
		ret = 0;
		goto out;
	}
	if (found < 0) {
		git_why(err, branch);
		goto out;
	}
	if (git_branch_is_checked_out(ref) == 1) {
		strbuf_addf(err, "branch %s is checked out in core.repo: sre will not delete it",
			    branch);
		goto out;
	}
	/*
	 * The ref and its reflog; not git_branch_delete(), which leaks in
	 * libgit2 1.5 (see remote_url()) removing a branch.<name> section
	 * sre's branches do not have.
	 */
	if (git_reference_delete(ref) < 0) {
		git_why(err, branch);
		goto out;
	}
	ret = 0;
out:
	git_reference_free(ref);
	git_repository_free(r);
	git_libgit2_shutdown();
	return ret;
}

/* ---- GitHub ---- */

static int github_name_ok(const char *s, size_t n)
{
	if (!n || (n == 1 && *s == '.') || (n == 2 && !strncmp(s, "..", 2)))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]))
			return 0;
	return 1;
}

/* "owner/name" out of "owner/name", "owner/name.git", "owner/name/"; NULL if it is not that. */
static char *owner_name(const char *s)
{
	const char *slash = strchr(s, '/');
	size_t len = strlen(s), n;

	if (!slash)
		return NULL;
	if (len && s[len - 1] == '/')
		len--;
	n = len - (size_t)(slash + 1 - s);
	if (n >= 4 && !strncmp(slash + 1 + n - 4, ".git", 4))
		n -= 4;
	if (!github_name_ok(s, (size_t)(slash - s)) || !github_name_ok(slash + 1, n))
		return NULL;
	return xstrfmt("%.*s/%.*s", (int)(slash - s), s, (int)n, slash + 1);
}

/*
 * https://github.com/o/n(.git), http://, ssh://git@github.com(:22)/o/n,
 * git://github.com/o/n and the scp form git@github.com:o/n(.git).
 */
static char *github_of_url(const char *url)
{
	static const char *const schemes[] = { "https://", "http://", "ssh://", "git://" };
	const char *rest = NULL, *host, *end, *at;

	for (size_t i = 0; i < ARRAY_SIZE(schemes) && !rest; i++)
		skip_prefix(url, schemes[i], &rest);
	if (rest) {
		host = rest;
		end = host + strcspn(host, "/");
		if (!*end)
			return NULL;
		rest = end + 1;
	} else {
		/* scp-like: a colon before any slash */
		host = url;
		end = host + strcspn(host, ":/");
		if (*end != ':')
			return NULL;
		rest = end + 1;
	}
	for (at = end; at > host && at[-1] != '@'; at--)
		;
	host = at;
	if ((size_t)(end - host) < 10 || strncasecmp(host, "github.com", 10) ||
	    (host + 10 < end && host[10] != ':'))
		return NULL;
	return owner_name(rest);
}

char *gitops_github_repo(const char *repo, const char *remote, const struct config *cfg)
{
	const char *pinned = cfg ? config_get_string(cfg, "fix.pull-repo") : NULL;
	git_repository *r = NULL;
	char *out = NULL, *url = NULL;

	if (pinned) {
		out = owner_name(pinned);
		if (!out || strcmp(out, pinned)) {
			warning("fix.pull-repo is \"%s\": it takes owner/name", pinned);
			free(out);
			return NULL;
		}
		return out;
	}
	if (git_libgit2_init() < 0)
		return NULL;
	if (!git_repository_open_ext(&r, repo, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) &&
	    (url = remote_url(r, remote && *remote ? remote : DEFAULT_REMOTE, 0)))
		out = github_of_url(url);
	free(url);
	git_repository_free(r);
	git_libgit2_shutdown();
	return out;
}

int gitops_revert_diff(struct strbuf *out, const char *repo, const char *sha, struct strbuf *err)
{
	git_repository *r = NULL;
	git_object *obj = NULL;
	git_commit *commit = NULL, *parent = NULL;
	git_tree *tree = NULL, *parent_tree = NULL;
	git_diff *diff = NULL;
	git_buf buf = { 0 };
	int ret = -1;

	if (libgit2_begin(err) < 0)
		return -1;
	if (open_repo(&r, repo, err) < 0)
		goto out;
	if (git_revparse_single(&obj, r, sha) < 0 ||
	    git_commit_lookup(&commit, r, git_object_id(obj)) < 0) {
		git_why(err, sha);
		goto out;
	}
	if (git_commit_parentcount(commit) < 1) {
		strbuf_addf(err, "%s is a root commit: there is nothing to revert it to", sha);
		goto out;
	}
	/* From the commit back to its first parent: what the revert undoes. */
	if (git_commit_parent(&parent, commit, 0) < 0 || git_commit_tree(&tree, commit) < 0 ||
	    git_commit_tree(&parent_tree, parent) < 0 ||
	    git_diff_tree_to_tree(&diff, r, tree, parent_tree, NULL) < 0 ||
	    git_diff_to_buf(&buf, diff, GIT_DIFF_FORMAT_PATCH) < 0) {
		git_why(err, sha);
		goto out;
	}
	strbuf_add(out, buf.ptr, buf.size);
	ret = 0;
out:
	git_buf_dispose(&buf);
	git_diff_free(diff);
	git_tree_free(tree);
	git_tree_free(parent_tree);
	git_commit_free(parent);
	git_commit_free(commit);
	git_object_free(obj);
	git_repository_free(r);
	git_libgit2_shutdown();
	return ret;
}
