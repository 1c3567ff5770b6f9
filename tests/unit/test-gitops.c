/*
 * test-gitops.c: unit tests of lib/gitops.c, the repository side of `sre
 * fix`. Prints TAP.
 *
 * The repositories are real ones, made with the real `git` (run from an
 * argv) in the scratch directory: a bare "remote", a clone of it with
 * origin set, one whose default branch is trunk, one with no commit. What
 * lib/gitops.c made is read back with `git` too, so the branch, the
 * commit, its parent, tree, message and author are as git sees them; and
 * the clone's work tree, index and HEAD are compared before and after.
 *
 * Pushes go to the bare repository by path and by file:// URL, to `git
 * daemon` on 127.0.0.1 (whose receive-pack refuses a forced update, so a
 * ref the remote refuses is seen), and to a small HTTP server here that
 * answers every request 401, which shows what credentials were offered
 * and that a refused token is not sent again and again.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "../../lib/fix.h"
#include "../../lib/run-command.h"
#include "test-lib.h"

#define NOW "2026-11-24T05:07:00Z"
#define NOW_EPOCH "1795496820"

static struct strbuf gitout = STRBUF_INIT;

/*
 * Run git with the arguments up to NULL; its output, trimmed, is in
 * gitout. stderr is kept out of the TAP stream, and shown when it fails
 * (unless quiet: a failure expected).
 */
static int run_git(int quiet, ...)
{
	struct strvec argv = STRVEC_INIT;
	const char *arg, *msg;
	va_list ap;
	int status;

	strvec_push(&argv, "git");
	va_start(ap, quiet);
	while ((arg = va_arg(ap, const char *)))
		strvec_push(&argv, arg);
	va_end(ap);
	strbuf_reset(&gitout);
	capture_start();
	status = run_command_capture(argv.v, NULL, &gitout, 1 << 20, 0);
	msg = capture_end();
	strbuf_trim(&gitout);
	if (status && !quiet) {
		printf("# git");
		for (size_t i = 1; i < argv.nr; i++)
			printf(" %s", argv.v[i]);
		printf(": exit %d\n", status);
		diag_text("stderr", msg);
	}
	strvec_clear(&argv);
	return status;
}

#define git(...) run_git(0, __VA_ARGS__, (const char *)NULL)
#define git_quiet(...) run_git(1, __VA_ARGS__, (const char *)NULL)

/* What git prints, trimmed (caller frees), or NULL when it fails. */
#define git_out(...) (git(__VA_ARGS__) ? NULL : xstrdup(gitout.buf))

static void put(const char *dir, const char *name, const char *text)
{
	char *path = xstrfmt("%s/%s", dir, name);
	FILE *fp;

	/* Make the directories on the way. */
	for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	fp = fopen(path, "w");
	if (!fp || fputs(text, fp) < 0 || fclose(fp)) {
		perror(path);
		abort();
	}
	free(path);
}

/* A formatted string that lives until the next call: for one-off arguments. */
static const char *xstrfmt_tmp(const char *fmt, ...) SRE_PRINTF(1, 2);
static const char *xstrfmt_tmp(const char *fmt, ...)
{
	static struct strbuf sb = STRBUF_INIT;
	va_list ap;

	strbuf_reset(&sb);
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	return sb.buf;
}

static char *slurp(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	if (strbuf_read_file(&sb, path, 0) < 0)
		strbuf_addstr(&sb, "(unreadable)");
	return strbuf_detach(&sb, NULL);
}

static char *remote, *clone_dir, *seed;

static void set_config(struct config *cfg, const char *text)
{
	config_clear(cfg);
	if (config_read_buffer(cfg, text, strlen(text), "test", CONFIG_SCOPE_COMMAND) < 0)
		printf("# the test's config does not parse\n");
}
static char *sha_c1, *sha_c2a, *sha_root;

#define MANIFEST_V1 \
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: checkout\nspec:\n" \
	"  template:\n    spec:\n      containers:\n      - name: checkout\n" \
	"        image: checkout:1.4.2\n        resources:\n          limits:\n" \
	"            memory: 256Mi\n"
#define MANIFEST_V2 \
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: checkout\nspec:\n" \
	"  template:\n    spec:\n      containers:\n      - name: checkout\n" \
	"        image: checkout:1.4.3\n        resources:\n          limits:\n" \
	"            memory: 256Mi\n"
#define MANIFEST_V3 \
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: checkout\nspec:\n" \
	"  template:\n    spec:\n      containers:\n      - name: checkout\n" \
	"        image: checkout:1.4.4\n        resources:\n          limits:\n" \
	"            memory: 256Mi\n"
#define RAISED \
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: checkout\nspec:\n" \
	"  template:\n    spec:\n      containers:\n      - name: checkout\n" \
	"        image: checkout:1.4.4\n        resources:\n          limits:\n" \
	"            memory: 384Mi\n"

static char *commit_all(const char *dir, const char *message)
{
	if (git("-C", dir, "add", "-A") || git("-C", dir, "commit", "-q", "-m", message))
		return NULL;
	return git_out("-C", dir, "rev-parse", "HEAD");
}

/*
 * The remote's history, oldest first:
 *   root  deploy/checkout.yaml (image 1.4.2), scripts/run.sh (executable), README
 *   c1    config/app.env added
 *   c2a   the image to 1.4.3
 *   c2b   the image to 1.4.4
 * and a branch "release" at c1 that the clone has only as origin/release.
 */
static int make_repositories(void)
{
	char *path;

	remote = tmp_path("remote.git");
	seed = tmp_path("seed");
	clone_dir = tmp_path("clone");
	if (git("init", "-q", "--bare", "-b", "main", remote) ||
	    git("init", "-q", "-b", "main", seed))
		return -1;
	put(seed, "deploy/checkout.yaml", MANIFEST_V1);
	put(seed, "scripts/run.sh", "#!/bin/sh\nexec checkout\n");
	put(seed, "README", "the shop's infrastructure\n");
	path = xstrfmt("%s/scripts/run.sh", seed);
	chmod(path, 0755);
	free(path);
	sha_root = commit_all(seed, "the first deploy");
	put(seed, "config/app.env", "CHECKOUT_WORKERS=4\n");
	sha_c1 = commit_all(seed, "checkout: four workers");
	if (!sha_root || !sha_c1 || git("-C", seed, "branch", "release"))
		return -1;
	put(seed, "deploy/checkout.yaml", MANIFEST_V2);
	sha_c2a = commit_all(seed, "checkout 1.4.3");
	put(seed, "deploy/checkout.yaml", MANIFEST_V3);
	path = commit_all(seed, "checkout 1.4.4");
	if (!sha_c2a || !path || git("-C", seed, "push", "-q", remote, "main", "release") ||
	    git("clone", "-q", remote, clone_dir)) {
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

static void test_default_branch(void)
{
	struct strbuf err = STRBUF_INIT;
	char *out = NULL, *trunk = tmp_path("trunk.git"), *trunk_seed = tmp_path("trunk-seed"),
	     *trunk_clone = tmp_path("trunk-clone"), *local = tmp_path("local"),
	     *empty = tmp_path("empty");

	is_int(gitops_default_branch(&out, clone_dir, &err), 0, "a clone's default branch");
	is_str(out, "main", "is origin's HEAD: main");
	free(out);

	git("-C", clone_dir, "checkout", "-q", "-b", "feature");
	is_int(gitops_default_branch(&out, clone_dir, &err), 0, "on another branch");
	is_str(out, "main", "origin's HEAD still wins");
	free(out);
	git("-C", clone_dir, "checkout", "-q", "main");
	git("-C", clone_dir, "branch", "-q", "-D", "feature");

	git("init", "-q", "--bare", "-b", "trunk", trunk);
	git("init", "-q", "-b", "trunk", trunk_seed);
	put(trunk_seed, "README", "trunk\n");
	free(commit_all(trunk_seed, "first"));
	git("-C", trunk_seed, "push", "-q", trunk, "trunk");
	git("clone", "-q", trunk, trunk_clone);
	is_int(gitops_default_branch(&out, trunk_clone, &err), 0, "a remote whose default is trunk");
	is_str(out, "trunk", "is trunk");
	free(out);

	git("init", "-q", "-b", "main", local);
	put(local, "README", "local\n");
	free(commit_all(local, "first"));
	git("-C", local, "checkout", "-q", "-b", "dev");
	is_int(gitops_default_branch(&out, local, &err), 0, "no remote: the local HEAD");
	is_str(out, "dev", "is the branch checked out");
	free(out);

	git("init", "-q", "-b", "main", empty);
	strbuf_reset(&err);
	is_int(gitops_default_branch(&out, empty, &err), -1, "no commit yet");
	is_str(err.buf, "core.repo has no commit yet", "says so");
	ok(!out, "and gives no name");

	strbuf_reset(&err);
	is_int(gitops_default_branch(&out, tmpdir, &err), -1, "not a repository");
	like(err.buf, "git: ", "libgit2's message");
	like(err.buf, tmpdir, "names the path");

	strbuf_release(&err);
	free(trunk);
	free(trunk_seed);
	free(trunk_clone);
	free(local);
	free(empty);
}

static void test_read_file(void)
{
	struct strbuf err = STRBUF_INIT;
	char *out = NULL;

	is_int(gitops_read_file(&out, clone_dir, "main", "deploy/checkout.yaml", &err), 0,
	       "read a file at main");
	is_str(out, MANIFEST_V3, "its text at the tip");
	free(out);
	out = NULL;

	is_int(gitops_read_file(&out, clone_dir, "release", "deploy/checkout.yaml", &err), 0,
	       "a branch only the remote has: origin/release");
	is_str(out, MANIFEST_V1, "its text there");
	free(out);
	out = NULL;

	is_int(gitops_read_file(&out, clone_dir, "main", "deploy/nope.yaml", &err), 1,
	       "an absent file is 1");
	ok(!out && !err.len, "with no text and no error");

	is_int(gitops_read_file(&out, clone_dir, "nope", "README", &err), -1, "no such branch");
	is_str(err.buf, "core.repo has no branch nope", "says so");
	strbuf_reset(&err);

	is_int(gitops_read_file(&out, clone_dir, "main", "deploy", &err), -1, "a directory");
	is_str(err.buf, "deploy is not a file at main", "is no file");
	strbuf_reset(&err);

	is_int(gitops_read_file(&out, clone_dir, "main", "../etc/passwd", &err), -1,
	       "a path climbing out");
	is_str(err.buf, "\"../etc/passwd\" is not a path inside the repository", "is refused");
	strbuf_reset(&err);
	is_int(gitops_read_file(&out, clone_dir, "main", "/README", &err), -1, "an absolute path");
	strbuf_reset(&err);
	is_int(gitops_read_file(&out, clone_dir, "main..x", "README", &err), -1, "a bad branch name");
	is_str(err.buf, "\"main..x\" is not a branch name", "is refused");
	strbuf_release(&err);
}

static void test_diff(void)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char *a = tmp_path("a.yaml"), *b = tmp_path("b.yaml");
	FILE *fp;

	is_int(gitops_diff(&out, "deploy/checkout.yaml", MANIFEST_V3, RAISED, &err), 0, "a diff");
	is_str(out.buf,
	       "diff --git a/deploy/checkout.yaml b/deploy/checkout.yaml\n"
	       "index 54a1ea3..d6434ab 100644\n"
	       "--- a/deploy/checkout.yaml\n"
	       "+++ b/deploy/checkout.yaml\n"
	       "@@ -10,4 +10,4 @@ spec:\n"
	       "         image: checkout:1.4.4\n"
	       "         resources:\n"
	       "           limits:\n"
	       "-            memory: 256Mi\n"
	       "+            memory: 384Mi\n",
	       "as git prints it");

	/* The same as `git diff --no-index`, but for the names. */
	fp = fopen(a, "w");
	fputs(MANIFEST_V3, fp);
	fclose(fp);
	fp = fopen(b, "w");
	fputs(RAISED, fp);
	fclose(fp);
	git_quiet("diff", "--no-index", "--no-color", a, b);
	{
		const char *ours = strstr(out.buf, "\n@@"), *theirs = strstr(gitout.buf, "\n@@");
		const char *idx = strstr(out.buf, "\nindex "), *gidx = strstr(gitout.buf, "\nindex ");

		/* gitout is trimmed of its last newline */
		ok(ours && theirs && strlen(ours) == strlen(theirs) + 1 &&
		   !strncmp(ours, theirs, strlen(theirs)), "the hunks are git's own");
		ok(idx && gidx && !strncmp(idx, gidx, 26), "so is the index line");
	}

	strbuf_reset(&out);
	is_int(gitops_diff(&out, "x", "same\n", "same\n", &err), 0, "no change");
	is_str(out.buf, "", "is no diff");

	strbuf_reset(&out);
	is_int(gitops_diff(&out, "x", "a\n", "b", &err), 0, "no newline at the end");
	is_str(out.buf,
	       "diff --git a/x b/x\nindex 7898192..63d8dbd 100644\n--- a/x\n+++ b/x\n"
	       "@@ -1 +1 @@\n-a\n+b\n\\ No newline at end of file\n", "says so as git does");
	strbuf_release(&out);
	strbuf_release(&err);
	free(a);
	free(b);
}

/* The clone's state a commit must leave alone. */
struct snapshot {
	char *status, *head, *head_ref, *index, *worktree_file;
};

static void snap(struct snapshot *s)
{
	char *path;

	s->status = git_out("-C", clone_dir, "status", "--porcelain", "--untracked-files=all");
	s->head = git_out("-C", clone_dir, "rev-parse", "HEAD");
	s->head_ref = git_out("-C", clone_dir, "symbolic-ref", "HEAD");
	path = xstrfmt("%s/.git/index", clone_dir);
	s->index = slurp(path);
	free(path);
	path = xstrfmt("%s/deploy/checkout.yaml", clone_dir);
	s->worktree_file = slurp(path);
	free(path);
}

static void snap_same(const struct snapshot *a, const struct snapshot *b, const char *title)
{
	is_str(b->status, a->status, "%s: git status --porcelain unchanged", title);
	is_str(b->head, a->head, "%s: HEAD's commit unchanged", title);
	is_str(b->head_ref, a->head_ref, "%s: HEAD's branch unchanged", title);
	ok(!strcmp(a->index, b->index), "%s: the index file unchanged", title);
	is_str(b->worktree_file, a->worktree_file, "%s: the work tree's file unchanged", title);
}

static void snap_free(struct snapshot *s)
{
	free(s->status);
	free(s->head);
	free(s->head_ref);
	free(s->index);
	free(s->worktree_file);
}

static char *rev(const char *dir, const char *what)
{
	return git_out("-C", dir, "rev-parse", what);
}

static void test_commit_file(void)
{
	struct strbuf err = STRBUF_INIT;
	struct snapshot before, after;
	char *sha = NULL, *again = NULL, *main_tip = rev(clone_dir, "main"), *s, *moved = NULL;

	/* A person's work in progress: a change staged, one not, a new file. */
	put(clone_dir, "README", "the shop's infrastructure, edited\n");
	git("-C", clone_dir, "add", "README");
	put(clone_dir, "deploy/checkout.yaml", "# being edited\n");
	put(clone_dir, "notes.txt", "untracked\n");
	snap(&before);
	ok(before.status && strstr(before.status, "M  README") &&
	   strstr(before.status, " M deploy/checkout.yaml") && strstr(before.status, "?? notes.txt"),
	   "the clone has work in progress");

	setenv("SRE_NOW", NOW, 1);
	is_int(gitops_commit_file(&sha, clone_dir, "main", "sre/inc-7-memory",
				  "deploy/checkout.yaml", RAISED,
				  "checkout: raise the memory limit to 384Mi\n\nFor INC-7.", "sre-bot",
				  &err), 0, "commit a file on a new branch");
	if (err.len)
		diag_text("err", err.buf);
	ok(sha && strlen(sha) == 40, "its sha");
	s = rev(clone_dir, "refs/heads/sre/inc-7-memory");
	is_str(s, sha, "the branch is at it");
	free(s);
	s = rev(clone_dir, "sre/inc-7-memory^");
	is_str(s, main_tip, "its parent is main's tip");
	free(s);
	s = git_out("-C", clone_dir, "rev-list", "--count", "sre/inc-7-memory");
	is_str(s, "5", "one commit on top of main's four");
	free(s);
	s = git_out("-C", clone_dir, "diff", "--name-status", "main", "sre/inc-7-memory");
	is_str(s, "M\tdeploy/checkout.yaml", "the tree differs from main's in that file only");
	free(s);
	{
		char *text = NULL;

		gitops_read_file(&text, clone_dir, "sre/inc-7-memory", "deploy/checkout.yaml", &err);
		is_str(text, RAISED, "the file holds the new text, byte for byte");
		free(text);
	}
	s = git_out("-C", clone_dir, "log", "-1", "--format=%an <%ae>|%at|%cn <%ce>|%ct",
		    "sre/inc-7-memory");
	is_str(s, "sre-bot <sre@localhost>|" NOW_EPOCH "|sre-bot <sre@localhost>|" NOW_EPOCH,
	       "author and committer: the name given, sre@localhost, at SRE_NOW");
	free(s);
	s = git_out("-C", clone_dir, "log", "-1", "--format=%B", "sre/inc-7-memory");
	is_str(s, "checkout: raise the memory limit to 384Mi\n\nFor INC-7.", "the message");
	free(s);
	s = git_out("-C", clone_dir, "cat-file", "commit", "sre/inc-7-memory");
	ok(s && ends_with(s, "For INC-7."), "the message is stored as given");
	free(s);
	s = git_out("-C", clone_dir, "reflog", "show", "--format=%gs", "refs/heads/sre/inc-7-memory");
	is_str(s, "sre: checkout: raise the memory limit to 384Mi", "the reflog says what made it");
	free(s);
	snap(&after);
	snap_same(&before, &after, "after the commit");
	snap_free(&after);

	is_int(gitops_commit_file(&again, clone_dir, "main", "sre/inc-7-memory",
				  "deploy/checkout.yaml", RAISED, "another message", "someone",
				  &err), 0, "the same change again");
	is_str(again, sha, "keeps the commit there (idempotent)");
	s = git_out("-C", clone_dir, "reflog", "show", "--format=%gs", "refs/heads/sre/inc-7-memory");
	is_str(s, "sre: checkout: raise the memory limit to 384Mi", "and does not move the branch");
	free(s);
	free(again);

	setenv("SRE_NOW", "2026-11-24T06:00:00Z", 1);
	is_int(gitops_commit_file(&again, clone_dir, "main", "sre/inc-7-memory",
				  "deploy/checkout.yaml", RAISED, "checkout: raise it", "sre-bot",
				  &err), 0, "the same tree at another time");
	is_str(again, sha, "is still the same commit");
	free(again);
	is_int(gitops_commit_file(&moved, clone_dir, "main", "sre/inc-7-memory",
				  "deploy/checkout.yaml", MANIFEST_V1, "checkout: back to 1.4.2",
				  "sre-bot", &err), 0, "another change on the same branch");
	ok(moved && strcmp(moved, sha), "is a new commit");
	s = rev(clone_dir, "sre/inc-7-memory");
	is_str(s, moved, "the branch moved to it");
	free(s);
	s = rev(clone_dir, "sre/inc-7-memory^");
	is_str(s, main_tip, "whose parent is main's tip too");
	free(s);
	free(moved);

	git("-C", clone_dir, "config", "user.email", "ops@example.com");
	is_int(gitops_commit_file(&again, clone_dir, "main", "sre/new-file",
				  "deploy/canary/checkout.yaml", RAISED, "a canary", NULL, &err), 0,
	       "a file in directories that do not exist yet");
	s = git_out("-C", clone_dir, "diff", "--name-status", "main", "sre/new-file");
	is_str(s, "A\tdeploy/canary/checkout.yaml", "is added");
	free(s);
	s = git_out("-C", clone_dir, "log", "-1", "--format=%an <%ae>", "sre/new-file");
	is_str(s, "sre <ops@example.com>", "no author: sre, with the repository's user.email");
	free(s);
	free(again);
	git("-C", clone_dir, "config", "--unset", "user.email");

	is_int(gitops_commit_file(&again, clone_dir, "main", "sre/exec", "scripts/run.sh",
				  "#!/bin/sh\nexec checkout --workers 8\n", "eight workers",
				  "sre-bot", &err), 0, "an executable file");
	s = git_out("-C", clone_dir, "ls-tree", "sre/exec", "scripts/run.sh");
	ok(s && starts_with(s, "100755 "), "stays executable");
	free(s);
	free(again);

	is_int(gitops_commit_file(&again, clone_dir, "release", "sre/on-release",
				  "deploy/checkout.yaml", RAISED, "on release", "sre-bot", &err), 0,
	       "a base only the remote has");
	s = rev(clone_dir, "sre/on-release^");
	is_str(s, sha_c1, "its parent is origin/release");
	free(s);
	free(again);
	again = NULL;

	strbuf_reset(&err);
	is_int(gitops_commit_file(&again, clone_dir, "main", "sre/nothing", "deploy/checkout.yaml",
				  MANIFEST_V3, "nothing", "sre-bot", &err), -1,
	       "the text main already has");
	is_str(err.buf, "deploy/checkout.yaml at main already holds this text: nothing to commit",
	       "is nothing to commit");
	ok(git_quiet("-C", clone_dir, "rev-parse", "--verify", "-q", "refs/heads/sre/nothing"),
	   "and makes no branch");

	strbuf_reset(&err);
	is_int(gitops_commit_file(&again, clone_dir, "release", "main", "deploy/checkout.yaml",
				  RAISED, "onto main", "sre-bot", &err), -1, "the branch checked out");
	is_str(err.buf, "branch main is checked out in core.repo: sre will not move it",
	       "is never moved");
	s = rev(clone_dir, "main");
	is_str(s, main_tip, "main is where it was");
	free(s);

	strbuf_reset(&err);
	is_int(gitops_commit_file(&again, clone_dir, "release", "release", "README", "x\n", "x",
				  NULL, &err), -1, "a branch on itself");
	is_str(err.buf, "branch release would be its own base", "is refused");
	s = rev(clone_dir, "refs/remotes/origin/release");
	is_str(s, sha_c1, "origin/release is where it was");
	free(s);
	ok(git_quiet("-C", clone_dir, "rev-parse", "--verify", "-q", "refs/heads/release"),
	   "and no local release was made");

	strbuf_reset(&err);
	is_int(gitops_commit_file(&again, clone_dir, "nope", "sre/x", "README", "x\n", "x", NULL,
				  &err), -1, "no such base");
	is_str(err.buf, "core.repo has no branch nope", "says so");
	strbuf_reset(&err);
	is_int(gitops_commit_file(&again, clone_dir, "main", "sre/x", "deploy", "x\n", "x", NULL,
				  &err), -1, "a directory's path");
	is_str(err.buf, "deploy is not a file at main", "is no file");
	strbuf_reset(&err);
	is_int(gitops_commit_file(&again, clone_dir, "main", "sre/x", "README/x", "x\n", "x", NULL,
				  &err), -1, "a path under a file");
	like(err.buf, "git: README/x: ", "libgit2 says why");
	strbuf_reset(&err);
	is_int(gitops_commit_file(&again, clone_dir, "main", "-x", "README", "x\n", "x", NULL,
				  &err), -1, "a bad branch name");
	is_str(err.buf, "\"-x\" is not a branch name", "is refused");
	ok(!again, "no sha from a failure");

	snap(&after);
	snap_same(&before, &after, "after all the commits");
	snap_free(&after);
	snap_free(&before);
	strbuf_release(&err);
	free(sha);
	free(main_tip);
}

static void test_commit_revert(void)
{
	struct strbuf err = STRBUF_INIT;
	struct snapshot before, after;
	char *sha = NULL, *again = NULL, *short_sha = xstrndup(sha_c1, 12), *main_tip = rev(clone_dir, "main"), *s;

	snap(&before);
	setenv("SRE_NOW", NOW, 1);
	is_int(gitops_commit_revert(&sha, clone_dir, "main", "sre/revert-c1", short_sha,
				    "Revert \"checkout: four workers\"", "sre-bot", &err), 0,
	       "revert a commit (a short sha)");
	if (err.len)
		diag_text("err", err.buf);
	s = rev(clone_dir, "sre/revert-c1");
	is_str(s, sha, "the branch is at the revert");
	free(s);
	s = rev(clone_dir, "sre/revert-c1^");
	is_str(s, main_tip, "whose parent is main's tip");
	free(s);
	s = git_out("-C", clone_dir, "diff", "--name-status", "main", "sre/revert-c1");
	is_str(s, "D\tconfig/app.env", "it undoes what the commit did");
	free(s);
	s = git_out("-C", clone_dir, "log", "-1", "--format=%an <%ae>|%at|%s", "sre/revert-c1");
	is_str(s, "sre-bot <sre@localhost>|" NOW_EPOCH "|Revert \"checkout: four workers\"",
	       "author, time and message");
	free(s);
	{
		struct strbuf diff = STRBUF_INIT;
		is_int(gitops_revert_diff(&diff, clone_dir, short_sha, &err), 0, "the revert's diff");
		like(diff.buf, "diff --git a/config/app.env b/config/app.env", "names the file");
		like(diff.buf, "deleted file mode", "which the revert deletes");
		strbuf_release(&diff);
		is_int(gitops_revert_diff(&diff, clone_dir, "0123456789abcdef", &err), -1,
		       "no such commit: an error");
		strbuf_release(&diff);
		strbuf_reset(&err);
	}
	is_int(gitops_commit_revert(&again, clone_dir, "main", "sre/revert-c1", sha_c1,
				    "Revert", "sre-bot", &err), 0, "the same revert again");
	is_str(again, sha, "keeps the commit (idempotent)");
	free(again);
	again = NULL;

	strbuf_reset(&err);
	is_int(gitops_commit_revert(&again, clone_dir, "main", "sre/revert-c2a", sha_c2a, "Revert",
				    "sre-bot", &err), -1, "a revert that conflicts");
	s = xstrfmt("the revert of %s conflicts with main: deploy/checkout.yaml", sha_c2a);
	is_str(err.buf, s, "names the commit, the base and the paths");
	free(s);
	ok(git_quiet("-C", clone_dir, "rev-parse", "--verify", "-q", "refs/heads/sre/revert-c2a"),
	   "and makes no branch");
	ok(!again, "nor a sha");

	strbuf_reset(&err);
	is_int(gitops_commit_revert(&again, clone_dir, "release", "sre/revert-c2a", sha_c2a,
				    "Revert", "sre-bot", &err), -1,
	       "a revert on a base that never had the commit");
	s = xstrfmt("the revert of %s changes nothing on release", sha_c2a);
	is_str(err.buf, s, "changes nothing there");
	free(s);

	strbuf_reset(&err);
	is_int(gitops_commit_revert(&again, clone_dir, "main", "sre/x", "deadbeefdead", "Revert",
				    "sre-bot", &err), -1, "an unknown commit");
	is_str(err.buf, "core.repo has no commit deadbeefdead", "says so");
	strbuf_reset(&err);
	is_int(gitops_commit_revert(&again, clone_dir, "main", "sre/x", "HEAD~1", "Revert",
				    "sre-bot", &err), -1, "not a sha");
	is_str(err.buf, "\"HEAD~1\" is not a commit id", "is refused");

	snap(&after);
	snap_same(&before, &after, "after the reverts");
	snap_free(&after);
	snap_free(&before);
	strbuf_release(&err);
	free(sha);
	free(short_sha);
	free(main_tip);
}

/* ---- a server that refuses every request, to see the credentials offered ---- */

struct refuser {
	pid_t pid;
	int port;
	char *log;
};

static void refuser_serve(int fd, const char *log)
{
	for (;;) {
		struct strbuf req = STRBUF_INIT;
		char buf[4096];
		const char *auth;
		ssize_t n;
		int c = accept(fd, NULL, NULL);
		FILE *fp;
		static const char reply[] = "HTTP/1.1 401 Unauthorized\r\n"
			"WWW-Authenticate: Basic realm=\"test\"\r\n"
			"Content-Length: 0\r\nConnection: close\r\n\r\n";

		if (c < 0)
			continue;
		while (!strstr(req.buf, "\r\n\r\n") && req.len < 65536 &&
		       (n = read(c, buf, sizeof(buf))) > 0)
			strbuf_add(&req, buf, (size_t)n);
		auth = strcasestr(req.buf, "\r\nAuthorization: ");
		fp = fopen(log, "a");
		if (fp) {
			fprintf(fp, "%.*s %.*s\n", (int)strcspn(req.buf, "\r\n"), req.buf,
				auth ? (int)strcspn(auth + 2, "\r\n") : 4,
				auth ? auth + 2 : "none");
			fclose(fp);
		}
		if (write(c, reply, sizeof(reply) - 1) < 0)
			perror("write");
		close(c);
		strbuf_release(&req);
	}
}

static int listen_local(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		perror("listen");
		abort();
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static void refuser_start(struct refuser *r)
{
	int fd = listen_local(&r->port);

	r->log = tmp_path("refuser.log");
	fflush(stdout);
	r->pid = fork();
	if (!r->pid) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		refuser_serve(fd, r->log);
		_exit(0);
	}
	close(fd);
}

static void stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

/* ---- git daemon on 127.0.0.1 ---- */

static pid_t daemon_start(const char *base, int *port)
{
	int fd = listen_local(port);
	char *listen = xstrfmt("--listen=127.0.0.1"), *portarg = xstrfmt("--port=%d", *port),
	     *basearg = xstrfmt("--base-path=%s", base);
	pid_t pid;

	close(fd);   /* a port free a moment ago; git daemon binds it with SO_REUSEADDR */
	fflush(stdout);
	pid = fork();
	if (!pid) {
		const char *argv[] = { "git", "daemon", listen, portarg, basearg, "--export-all",
				       "--enable=receive-pack", "--reuseaddr", "--informative-errors",
				       base, NULL };
		int nul = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(nul, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	free(listen);
	free(portarg);
	free(basearg);
	/* Wait for it to listen. */
	for (int i = 0; i < 100; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)*port) };
		int c = socket(AF_INET, SOCK_STREAM, 0), r;

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		r = connect(c, (struct sockaddr *)&a, sizeof(a));
		close(c);
		if (!r)
			return pid;
		usleep(50000);
	}
	stop(pid);
	return -1;
}

static void test_push(void)
{
	struct strbuf err = STRBUF_INIT;
	struct config cfg = CONFIG_INIT;
	struct refuser ref = { 0 };
	char *sha = rev(clone_dir, "sre/inc-7-memory"), *s, *url, *log, *daemon_repo;
	pid_t daemon;
	size_t skip;
	int port;

	is_int(gitops_push(clone_dir, NULL, "sre/inc-7-memory", 0, NULL, &err), 0,
	       "push a branch to origin (a path)");
	if (err.len)
		diag_text("err", err.buf);
	s = git_out("--git-dir", remote, "rev-parse", "refs/heads/sre/inc-7-memory");
	is_str(s, sha, "the remote has the branch at the commit");
	free(s);
	s = rev(clone_dir, "refs/remotes/origin/sre/inc-7-memory");
	is_str(s, sha, "and the clone's origin/ ref follows");
	free(s);
	is_int(gitops_push(clone_dir, "origin", "sre/inc-7-memory", 0, NULL, &err), 0,
	       "the same push again");

	/* The branch moved to a commit that is not a descendant: the push replaces it. */
	setenv("SRE_NOW", "2026-11-24T07:00:00Z", 1);
	free(sha);
	gitops_commit_file(&sha, clone_dir, "main", "sre/inc-7-memory", "deploy/checkout.yaml",
			   "# replaced\n" RAISED, "checkout: again", "sre-bot", &err);
	is_int(gitops_push(clone_dir, NULL, "sre/inc-7-memory", 0, NULL, &err), 0,
	       "push a branch that was rewritten");
	s = git_out("--git-dir", remote, "rev-parse", "refs/heads/sre/inc-7-memory");
	is_str(s, sha, "replaces the remote's");
	free(s);

	is_int(gitops_push(clone_dir, NULL, "sre/inc-7-memory", 1, NULL, &err), 0, "push a delete");
	ok(git_quiet("--git-dir", remote, "rev-parse", "--verify", "-q",
		     "refs/heads/sre/inc-7-memory"), "the remote branch is gone");
	is_int(gitops_push(clone_dir, NULL, "sre/inc-7-memory", 1, NULL, &err), 0,
	       "deleting it again is no error");
	is_int(gitops_push(clone_dir, NULL, "sre/never-pushed", 1, NULL, &err), 0,
	       "nor is deleting a branch never pushed");
	ok(!err.len, "with no message");

	url = xstrfmt("file://%s", remote);
	git("-C", clone_dir, "remote", "add", "byurl", url);
	is_int(gitops_push(clone_dir, "byurl", "sre/exec", 0, NULL, &err), 0, "push to a file:// URL");
	s = git_out("--git-dir", remote, "rev-parse", "refs/heads/sre/exec");
	free(sha);
	sha = rev(clone_dir, "sre/exec");
	is_str(s, sha, "arrives");
	free(s);
	free(url);

	is_int(gitops_push(clone_dir, "nope", "sre/exec", 0, NULL, &err), -1, "no such remote");
	is_str(err.buf, "core.repo has no remote nope", "says so");
	strbuf_reset(&err);

	/* url.<base>.insteadOf and pushInsteadOf, as git applies them. */
	url = xstrfmt("file://%s/", tmpdir);
	git("-C", clone_dir, "config", xstrfmt_tmp("url.%s.insteadOf", url), "scratch:");
	git("-C", clone_dir, "remote", "add", "short", "scratch:remote.git");
	is_int(gitops_push(clone_dir, "short", "sre/on-release", 0, NULL, &err), 0,
	       "push to a URL insteadOf rewrites");
	if (err.len)
		diag_text("err", err.buf);
	s = git_out("--git-dir", remote, "rev-parse", "refs/heads/sre/on-release");
	free(sha);
	sha = rev(clone_dir, "sre/on-release");
	is_str(s, sha, "arrives where git would send it");
	free(s);
	s = rev(clone_dir, "refs/remotes/short/sre/on-release");
	is_str(s, sha, "and the clone's short/ ref follows");
	free(s);
	git("-C", clone_dir, "remote", "add", "readonly", "https://127.0.0.1:9/never.git");
	git("-C", clone_dir, "config", xstrfmt_tmp("url.%sremote.git.pushInsteadOf", url),
	    "https://127.0.0.1:9/never.git");
	is_int(gitops_push(clone_dir, "readonly", "sre/exec", 0, NULL, &err), 0,
	       "push to a URL pushInsteadOf rewrites");
	if (err.len)
		diag_text("err", err.buf);
	strbuf_reset(&err);
	git("-C", clone_dir, "config", "remote.readonly.pushurl", "https://127.0.0.1:9/never.git");
	is_int(gitops_push(clone_dir, "readonly", "sre/exec", 0, NULL, &err), -1,
	       "a pushurl is taken as it is, pushInsteadOf not applied");
	like(err.buf, "git: push to readonly (https://127.0.0.1:9/never.git): ", "says where it went");
	strbuf_reset(&err);
	free(url);

	/* git daemon: a real receive-pack that refuses a forced update. */
	daemon_repo = tmp_path("served.git");
	git("clone", "-q", "--bare", remote, daemon_repo);
	git("--git-dir", daemon_repo, "config", "receive.denyNonFastForwards", "true");
	daemon = daemon_start(tmpdir, &port);
	if (daemon < 0) {
		ok(0, "git daemon listens");
	} else {
		char *first = NULL, *second = NULL;

		url = xstrfmt("git://127.0.0.1:%d/served.git", port);
		git("-C", clone_dir, "remote", "add", "daemon", url);
		gitops_commit_file(&first, clone_dir, "main", "sre/daemon", "README", "one\n", "one",
				   "sre-bot", &err);
		is_int(gitops_push(clone_dir, "daemon", "sre/daemon", 0, NULL, &err), 0,
		       "push over git://");
		if (err.len)
			diag_text("err", err.buf);
		s = git_out("--git-dir", daemon_repo, "rev-parse", "refs/heads/sre/daemon");
		is_str(s, first, "arrives");
		free(s);
		gitops_commit_file(&second, clone_dir, "main", "sre/daemon", "README", "two\n", "two",
				   "sre-bot", &err);
		strbuf_reset(&err);
		is_int(gitops_push(clone_dir, "daemon", "sre/daemon", 0, NULL, &err), -1,
		       "a forced update the remote refuses");
		s = xstrfmt("git: push to daemon (%s): the remote refused refs/heads/sre/daemon: ", url);
		if (!ok(starts_with(err.buf, s), "is reported as refused"))
			diag_text("err", err.buf);
		free(s);
		s = git_out("--git-dir", daemon_repo, "rev-parse", "refs/heads/sre/daemon");
		is_str(s, first, "the remote kept its branch");
		free(s);
		strbuf_reset(&err);
		is_int(gitops_push(clone_dir, "daemon", "sre/daemon", 1, NULL, &err), 0,
		       "a delete over git://");
		ok(git_quiet("--git-dir", daemon_repo, "rev-parse", "--verify", "-q",
			     "refs/heads/sre/daemon"), "removes it");
		is_int(gitops_push(clone_dir, "daemon", "sre/daemon", 1, NULL, &err), 0,
		       "and again is no error");
		stop(daemon);
		free(url);
		free(first);
		free(second);
	}
	free(daemon_repo);

	/* https: the token, offered once. */
	refuser_start(&ref);
	url = xstrfmt("http://127.0.0.1:%d/acme/shop.git", ref.port);
	git("-C", clone_dir, "remote", "add", "web", url);
	setenv("GITHUB_TOKEN", "ghs_envtoken123", 1);
	/* A token goes only to github.api's host (default github.com). */
	is_int(gitops_push(clone_dir, "web", "sre/exec", 0, NULL, &err), -1,
	       "a push to a host that is not GitHub's");
	s = xstrfmt("git: push to web (%s): the push token goes only to github.com "
		    "(github.api), not to 127.0.0.1", url);
	is_str(err.buf, s, "says the token goes only to GitHub's host");
	free(s);
	log = slurp(ref.log);
	ok(!strstr(log, "Basic "), "and offers it nothing");
	free(log);
	set_config(&cfg, "[github]\n\tapi = http://localhost:1/api/v3\n");
	strbuf_reset(&err);
	is_int(gitops_push(clone_dir, "web", "sre/exec", 0, &cfg, &err), -1,
	       "nor to another loopback name than github.api's");
	log = slurp(ref.log);
	ok(!strstr(log, "Basic ") && strstr(err.buf, "not to 127.0.0.1"),
	   "loopback or not, the host must be github.api's");
	free(log);
	free(url);
	url = xstrfmt("http://127.0.0.1:%d/api/v3", ref.port);
	s = xstrfmt("[github]\n\tapi = %s\n", url);
	set_config(&cfg, s);
	free(s);
	free(url);
	url = xstrfmt("http://127.0.0.1:%d/acme/shop.git", ref.port);
	strbuf_reset(&err);
	log = slurp(ref.log);
	skip = strlen(log); /* the requests of the pushes above */
	free(log);
	is_int(gitops_push(clone_dir, "web", "sre/exec", 0, &cfg, &err), -1,
	       "a push whose token is refused");
	s = xstrfmt("git: push to web (%s): the token was refused", url);
	is_str(err.buf, s, "says the token was refused");
	free(s);
	unlike(err.buf, "ghs_envtoken123", "and does not show it");
	log = slurp(ref.log);
	/* "x-access-token:ghs_envtoken123" in base64 */
	like(log, "Authorization: Basic eC1hY2Nlc3MtdG9rZW46Z2hzX2VudnRva2VuMTIz",
	     "GITHUB_TOKEN was offered as x-access-token");
	{
		int offered = 0, requests = 0;

		for (const char *p = log + skip; (p = strstr(p, "Basic ")); p++)
			offered++;
		for (const char *p = log + skip; (p = strchr(p, '\n')); p++)
			requests++;
		is_int(offered, 1, "once only");
		ok(requests <= 3, "in few requests (%d)", requests);
	}
	free(log);

	s = xstrfmt("[github]\n\tapi = http://127.0.0.1:%d\n"
		    "[fix]\n\tpush-token-command = printf %%s ghs_fromcommand\n", ref.port);
	set_config(&cfg, s);
	free(s);
	strbuf_reset(&err);
	is_int(gitops_push(clone_dir, "web", "sre/exec", 0, &cfg, &err), -1,
	       "fix.push-token-command before GITHUB_TOKEN");
	log = slurp(ref.log);
	/* "x-access-token:ghs_fromcommand" */
	like(log, "Basic eC1hY2Nlc3MtdG9rZW46Z2hzX2Zyb21jb21tYW5k", "the command's token was offered");
	free(log);
	unlike(err.buf, "ghs_fromcommand", "and is not shown");

	unsetenv("GITHUB_TOKEN");
	strbuf_reset(&err);
	s = xstrfmt("[github]\n\tapi = http://127.0.0.1:%d\n", ref.port);
	set_config(&cfg, s);
	free(s);
	is_int(gitops_push(clone_dir, "web", "sre/exec", 0, &cfg, &err), -1, "no token at all");
	s = xstrfmt("git: push to web (%s): no token to push over https: set "
		    "fix.push-token-command or GITHUB_TOKEN", url);
	is_str(err.buf, s, "says where one comes from");
	free(s);
	free(url);

	url = xstrfmt("http://someone:hunter2@127.0.0.1:%d/acme/shop.git", ref.port);
	git("-C", clone_dir, "remote", "add", "withpass", url);
	setenv("GITHUB_TOKEN", "ghs_envtoken123", 1);
	strbuf_reset(&err);
	is_int(gitops_push(clone_dir, "withpass", "sre/exec", 0, NULL, &err), -1,
	       "a URL holding a password");
	s = xstrfmt("git: push to withpass (http://127.0.0.1:%d/acme/shop.git): ", ref.port);
	ok(starts_with(err.buf, s), "is shown without it");
	unlike(err.buf, "hunter2", "the password is nowhere in the message");
	unlike(err.buf, "ghs_envtoken123", "nor the token");
	free(s);
	free(url);
	unsetenv("GITHUB_TOKEN");
	stop(ref.pid);
	free(ref.log);

	config_clear(&cfg);
	strbuf_release(&err);
	free(sha);
}

static void test_delete_branch(void)
{
	struct strbuf err = STRBUF_INIT;

	ok(!git_quiet("-C", clone_dir, "rev-parse", "--verify", "-q", "refs/heads/sre/new-file"),
	   "the branch is there");
	is_int(gitops_delete_branch(clone_dir, "sre/new-file", &err), 0, "delete a branch");
	ok(git_quiet("-C", clone_dir, "rev-parse", "--verify", "-q", "refs/heads/sre/new-file"),
	   "it is gone");
	is_int(gitops_delete_branch(clone_dir, "sre/new-file", &err), 0, "deleting it again");
	ok(!err.len, "is no error");
	ok(access(xstrfmt_tmp("%s/.git/logs/refs/heads/sre/new-file", clone_dir), F_OK) < 0,
	   "with its reflog");
	is_int(gitops_delete_branch(clone_dir, "main", &err), -1, "the branch checked out");
	is_str(err.buf, "branch main is checked out in core.repo: sre will not delete it",
	       "is not deleted");
	ok(!git_quiet("-C", clone_dir, "rev-parse", "--verify", "-q", "refs/heads/main"),
	   "main is still there");
	strbuf_release(&err);
}

static void github(const char *url, const char *want, const char *title)
{
	char *got;

	git("-C", clone_dir, "remote", "set-url", "gh", url);
	got = gitops_github_repo(clone_dir, "gh", NULL);
	is_str(got, want, "%s: %s", title, url);
	free(got);
}

static void test_github_repo(void)
{
	struct config cfg = CONFIG_INIT;
	char *got;
	const char *msg;

	got = gitops_github_repo(clone_dir, NULL, NULL);
	is_str(got, NULL, "origin is a path: not on GitHub");
	free(got);
	got = gitops_github_repo(clone_dir, "nope", NULL);
	is_str(got, NULL, "no such remote: NULL");
	free(got);

	git("-C", clone_dir, "remote", "add", "gh", "https://github.com/acme/shop.git");
	github("https://github.com/acme/shop.git", "acme/shop", "https with .git");
	github("https://github.com/acme/shop", "acme/shop", "https without");
	github("https://github.com/acme/shop/", "acme/shop", "https with a slash");
	github("https://x-access-token@github.com/acme/shop.git", "acme/shop", "https with a user");
	github("http://github.com/acme/shop.git", "acme/shop", "http");
	github("git@github.com:acme/shop.git", "acme/shop", "scp form");
	github("git@github.com:acme/shop", "acme/shop", "scp form without .git");
	github("ssh://git@github.com/acme/shop.git", "acme/shop", "ssh URL");
	github("ssh://git@github.com/acme/shop", "acme/shop", "ssh URL without .git");
	github("ssh://git@github.com:22/acme/shop.git", "acme/shop", "ssh URL with a port");
	github("https://GitHub.com/Acme-Corp/shop.web_2.git", "Acme-Corp/shop.web_2",
	       "names with capitals, dots, dashes and underscores");
	github("https://gitlab.com/acme/shop.git", NULL, "another host");
	github("https://github.com.evil.example/acme/shop.git", NULL, "a host that only starts so");
	github("https://evilgithub.com/acme/shop.git", NULL, "a host that only ends so");
	github("git@gitlab.com:acme/shop.git", NULL, "scp form, another host");
	github("https://github.com/acme/shop/extra", NULL, "too many parts");
	github("https://github.com/acme", NULL, "too few");
	github("https://github.com/ac%20me/shop", NULL, "a bad owner");
	github("https://github.com/acme/..", NULL, "a name of dots");
	github("https://github.com/acme/.git", NULL, "a name that is only .git");
	github("/srv/git/shop.git", NULL, "a path");
	git("-C", clone_dir, "config", "url.git@github.com:.insteadOf", "gh:");
	github("gh:acme/shop", "acme/shop", "a URL insteadOf rewrites");

	set_config(&cfg, "[fix]\n\tpull-repo = acme/override\n");
	got = gitops_github_repo(clone_dir, "gh", &cfg);
	is_str(got, "acme/override", "fix.pull-repo wins");
	free(got);
	got = gitops_github_repo(tmpdir, NULL, &cfg);
	is_str(got, "acme/override", "even where there is no repository");
	free(got);
	set_config(&cfg, "[fix]\n\tpull-repo = acme/shop/extra\n");
	capture_start();
	got = gitops_github_repo(clone_dir, "gh", &cfg);
	msg = capture_end();
	is_str(got, NULL, "a bad fix.pull-repo");
	like(msg, "warning: fix.pull-repo is \"acme/shop/extra\": it takes owner/name", "is warned of");
	free(got);
	config_clear(&cfg);
}

/*
 * A server that accepts the connection (the kernel does, from the listen
 * queue) and never says a word: the push is cut off at fix.push-timeout.
 */
static void test_push_deadline(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	struct config cfg = CONFIG_INIT;
	struct strbuf err = STRBUF_INIT;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int64_t start;
	char *url;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &len) < 0) {
		ok(0, "a silent server listens");
		return;
	}
	url = xstrfmt("http://127.0.0.1:%d/acme/infra.git", ntohs(addr.sin_port));
	git("-C", clone_dir, "remote", "add", "silent", url);
	config_add_override(&cfg, "fix.push-timeout=1s");
	start = monotonic_ms();
	is_int(gitops_push(clone_dir, "silent", "sre/exec", 0, &cfg, &err), -1,
	       "a push to a server that never answers fails");
	ok(monotonic_ms() - start < 8000, "at fix.push-timeout, not never (%lld ms)",
	   (long long)(monotonic_ms() - start));
	is_str(err.buf, "git: push to silent: no answer within fix.push-timeout (1 s); "
	       "the push was cut off", "and says so");
	git("-C", clone_dir, "remote", "remove", "silent");
	close(fd);
	free(url);
	config_clear(&cfg);
	strbuf_release(&err);
}

int main(void)
{
	if (test_begin("gitops") < 0)
		return 1;
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "Test", 1);
	setenv("GIT_AUTHOR_EMAIL", "test@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "Test", 1);
	setenv("GIT_COMMITTER_EMAIL", "test@example.com", 1);
	unsetenv("GITHUB_TOKEN");
	/* The fake servers are on 127.0.0.1: no proxy between. */
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("HTTPS_PROXY");
	unsetenv("ALL_PROXY");
	unsetenv("all_proxy");
	unsetenv("SSH_AUTH_SOCK");
	if (make_repositories() < 0) {
		ok(0, "the test's repositories are made");
		return test_end();
	}
	test_default_branch();
	test_read_file();
	test_diff();
	test_commit_file();
	test_commit_revert();
	test_push();
	test_push_deadline();
	test_delete_branch();
	test_github_repo();
	strbuf_release(&gitout);
	free(remote);
	free(clone_dir);
	free(seed);
	free(sha_c1);
	free(sha_c2a);
	free(sha_root);
	return test_end();
}
