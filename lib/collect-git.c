/*
 * collect-git.c: the recent commits of the infrastructure repository
 * (core.repo) that touch a service, read with libgit2, for `sre diagnose`:
 * a change shortly before an incident is evidence.
 *
 * It walks from HEAD, newest first, over diagnose.commit-window (default
 * 24h) before the incident began (or now), and keeps each commit whose
 * diff against its first parent touches one of [service "<name>"] paths
 * as
 * {sha, author, time, subject, files}. A service that names no paths
 * has no commits read: nothing says which commits are its own.
 */
#include <git2.h>

#include "evidence.h"
#include "http.h"
#include "scout.h"
#include "timeutil.h"
#include "util.h"

#define MAX_COMMITS 200       /* the most commits kept */
#define MAX_WALK 20000        /* the most commits looked at */
#define MAX_FILES 50          /* the most files listed per commit */

/* Without paths no commit can be said to touch the service: nothing to read. */
int collect_git_configured(const struct config *cfg, const struct collect_options *o)
{
	struct strbuf key = STRBUF_INIT;
	int yes = config_get_string(cfg, "core.repo") &&
		  config_get_string(cfg, config_key_of(&key, "service", o->service, "paths"));

	strbuf_release(&key);
	return yes;
}

static void git_why(struct strbuf *why, const char *what)
{
	const git_error *e = git_error_last();

	strbuf_addf(why, "git: %s: %s", what, e && e->message ? e->message : "unknown error");
}

/* The files of commit that its first parent's tree does not have the same, within paths. */
static int changed_files(git_repository *repo, git_commit *commit, const struct strvec *paths,
			 cJSON *files)
{
	git_tree *tree = NULL, *parent_tree = NULL;
	git_commit *parent = NULL;
	git_diff *diff = NULL;
	git_diff_options opts;
	int ret = -1;

	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.pathspec.strings = (char **)paths->v;
	opts.pathspec.count = paths->nr;
	if (git_commit_tree(&tree, commit) < 0)
		goto out;
	if (git_commit_parentcount(commit) > 0) {
		if (git_commit_parent(&parent, commit, 0) < 0 ||
		    git_commit_tree(&parent_tree, parent) < 0)
			goto out;
	}
	if (git_diff_tree_to_tree(&diff, repo, parent_tree, tree, &opts) < 0)
		goto out;
	for (size_t i = 0; i < git_diff_num_deltas(diff) && i < MAX_FILES; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *path = d->new_file.path ? d->new_file.path : d->old_file.path;
		cJSON_AddItemToArray(files, cJSON_CreateString(path));
	}
	ret = 0;
out:
	git_diff_free(diff);
	git_tree_free(tree);
	git_tree_free(parent_tree);
	git_commit_free(parent);
	return ret;
}

static cJSON *commit_json(const git_commit *commit, cJSON *files)
{
	const git_signature *author = git_commit_author(commit);
	const char *summary = git_commit_summary((git_commit *)commit);
	char sha[GIT_OID_HEXSZ + 1], when[32];
	cJSON *c = cJSON_CreateObject();
	char *subject = scout_one_line(summary ? summary : "", 200);

	git_oid_tostr(sha, sizeof(sha), git_commit_id(commit));
	format_iso8601(when, sizeof(when), (time_t)git_commit_time(commit));
	cJSON_AddStringToObject(c, "sha", sha);
	if (author) {
		char *who = xstrfmt("%s <%s>", author->name ? author->name : "",
				    author->email ? author->email : "");
		cJSON_AddStringToObject(c, "author", who);
		free(who);
	} else {
		cJSON_AddNullToObject(c, "author");
	}
	cJSON_AddStringToObject(c, "time", when);
	cJSON_AddStringToObject(c, "subject", subject);
	cJSON_AddItemToObject(c, "files", files);
	free(subject);
	return c;
}

int collect_git(const struct collect_context *c, struct evidence *ev, struct strbuf *why)
{
	struct strbuf key = STRBUF_INIT;
	struct strvec paths = STRVEC_INIT;
	git_repository *repo = NULL;
	git_revwalk *walk = NULL;
	git_oid oid;
	int64_t window_ms = 24LL * 3600 * 1000;
	time_t until = c->o->since ? c->o->since : c->now, from;
	char *dir = NULL;
	int ret = -1, walked = 0;
	cJSON *commits;

	if (c->o->commit_window_ms)
		window_ms = c->o->commit_window_ms;
	else if (config_get_duration_ms(c->cfg, "diagnose.commit-window", &window_ms) < 0) {
		strbuf_addstr(why, "git: diagnose.commit-window is not a duration");
		return -1;
	}
	from = until - (time_t)(window_ms / 1000);
	if (config_get_path(c->cfg, "core.repo", &dir)) {
		strbuf_addstr(why, "git: core.repo is not a path");
		return -1;
	}
	config_list(c->cfg, config_key_of(&key, "service", c->o->service, "paths"), ", \t", &paths);
	if (git_libgit2_init() < 0) {
		git_why(why, "libgit2");
		strvec_clear(&paths);
		strbuf_release(&key);
		free(dir);
		return -1;
	}
	if (git_repository_open_ext(&repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		git_why(why, dir);
		goto out;
	}
	if (git_revwalk_new(&walk, repo) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TIME) < 0) {
		git_why(why, dir);
		goto out;
	}
	if (git_revwalk_push_head(walk) < 0) {
		/* A repository with no commit yet has no history to read. */
		if (git_repository_head_unborn(repo) == 1) {
			ev->commits = cJSON_CreateArray();
			ret = 0;
		} else {
			git_why(why, dir);
		}
		goto out;
	}
	commits = cJSON_CreateArray();
	ev->commits = commits;
	while (!git_revwalk_next(&oid, walk) && walked++ < MAX_WALK &&
	       cJSON_GetArraySize(commits) < MAX_COMMITS) {
		git_commit *commit;
		cJSON *files;
		time_t t;

		if (monotonic_ms() >= c->deadline_ms) {
			strbuf_addf(why, "git: %s: no time left to read its history", dir);
			goto out;
		}
		if (git_commit_lookup(&commit, repo, &oid) < 0) {
			git_why(why, dir);
			goto out;
		}
		t = (time_t)git_commit_time(commit);
		if (t < from) {
			git_commit_free(commit);
			break;
		}
		if (t > c->now + 3600) {
			git_commit_free(commit);
			continue;
		}
		files = cJSON_CreateArray();
		if (changed_files(repo, commit, &paths, files) < 0) {
			cJSON_Delete(files);
			git_commit_free(commit);
			git_why(why, dir);
			goto out;
		}
		if (!cJSON_GetArraySize(files))
			cJSON_Delete(files);
		else
			cJSON_AddItemToArray(commits, commit_json(commit, files));
		git_commit_free(commit);
	}
	ret = 0;
out:
	git_revwalk_free(walk);
	git_repository_free(repo);
	git_libgit2_shutdown();
	strvec_clear(&paths);
	strbuf_release(&key);
	free(dir);
	return ret;
}
