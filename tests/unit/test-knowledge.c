/*
 * test-knowledge.c: unit tests of lib/knowledge.c, incidents shared
 * through git. Prints TAP.
 *
 * The names first (slugs, origins, paths, which remember.remote URLs are
 * taken); then the repository side with records of the test's own, as
 * sre remember push and pull use it, on real repositories read back
 * with the real `git`: a commit to a remember.repo made for it, a push
 * to a bare repository by path, a push refused because another store
 * pushed first and replayed on top of it, and a read of a fetched tree
 * that holds what a hostile remote might (a symbolic link, a huge file,
 * bad JSON, a record claiming another origin, names that are no origin).
 */
#include <cJSON.h>

#include "../../lib/config.h"
#include "../../lib/knowledge.h"
#include "../../lib/run-command.h"
#include "test-lib.h"

static struct strbuf gitout = STRBUF_INIT;

/* Run git with the arguments up to NULL; its trimmed stdout in gitout. */
static int run_git(const char *first, ...)
{
	struct strvec argv = STRVEC_INIT;
	const char *arg, *msg;
	va_list ap;
	int status;

	strvec_pushl(&argv, "git", first, NULL);
	va_start(ap, first);
	while ((arg = va_arg(ap, const char *)))
		strvec_push(&argv, arg);
	va_end(ap);
	strbuf_reset(&gitout);
	capture_start();
	status = run_command_capture(argv.v, NULL, &gitout, 4 << 20, 0);
	msg = capture_end();
	strbuf_trim(&gitout);
	if (status) {
		printf("# git %s: exit %d\n", argv.v[1], status);
		diag_text("stderr", msg);
	}
	strvec_clear(&argv);
	return status;
}
#define git(...) run_git(__VA_ARGS__, (const char *)NULL)

static void put(const char *path, const char *text, size_t len)
{
	FILE *fp;
	char *copy = xstrdup(path);

	for (char *p = copy + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(copy, 0755);
		*p = '/';
	}
	free(copy);
	fp = fopen(path, "w");
	if (!fp || fwrite(text, 1, len, fp) != len || fclose(fp)) {
		perror(path);
		abort();
	}
}

static const char *xstrfmt_tmp(const char *fmt, ...) SRE_PRINTF(1, 2);

static void test_slug(void)
{
	static const struct { const char *title, *slug; } cases[] = {
		{ "Checkout returns 503!", "checkout-returns-503" },
		{ "  payments: p99 > 2s  ", "payments-p99-2s" },
		{ "", "incident" },
		{ "...", "incident" },
		{ "../../etc/passwd", "etc-passwd" },
		{ "Zahlung fehlgeschlagen für Kunden", "zahlung-fehlgeschlagen-f-r-kunden" },
		{ "日本語だけ", "incident" },
		{ "DB_CONN_POOL exhausted", "db-conn-pool-exhausted" },
	};
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		strbuf_reset(&sb);
		knowledge_slug(&sb, cases[i].title);
		is_str(sb.buf, cases[i].slug, "slug of \"%s\"", cases[i].title);
	}
	strbuf_reset(&sb);
	knowledge_slug(&sb, NULL);
	is_str(sb.buf, "incident", "a missing title has a slug too");
	strbuf_reset(&sb);
	knowledge_slug(&sb, "the checkout service returns 503 for every request since the deploy "
			    "of version 1.4.2 this morning");
	ok(sb.len <= KNOWLEDGE_SLUG_MAX && sb.len > KNOWLEDGE_SLUG_MAX / 2,
	   "a long title is cut to at most %d bytes (%zu)", KNOWLEDGE_SLUG_MAX, sb.len);
	is_str(sb.buf, "the-checkout-service-returns-503-for-every", "at a word's end");
	strbuf_reset(&sb);
	knowledge_slug(&sb, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	is_int(sb.len, KNOWLEDGE_SLUG_MAX, "one long word is cut where it must be");
	strbuf_release(&sb);
}

static void test_origin_and_path(void)
{
	struct strbuf sb = STRBUF_INIT;
	time_t t = 1795496820; /* 2026-11-24T05:07:00Z */

	ok(knowledge_origin_ok("web-1-0a1b2c3d"), "a hostname and a suffix is an origin");
	ok(knowledge_origin_ok("host"), "so is a bare name");
	ok(!knowledge_origin_ok("local"), "\"local\" is not (it means this store)");
	ok(!knowledge_origin_ok(".."), "\"..\" is not");
	ok(!knowledge_origin_ok(""), "nor is nothing");
	ok(!knowledge_origin_ok(NULL), "nor NULL");
	ok(!knowledge_origin_ok("-web"), "nor a name starting with '-'");
	ok(!knowledge_origin_ok("Web-1"), "nor upper case");
	ok(!knowledge_origin_ok("web/1"), "nor a slash");
	ok(!knowledge_origin_ok("web.1"), "nor a dot");
	ok(!knowledge_origin_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	   "nor 65 bytes");

	is_int(knowledge_path(&sb, "web-1-0a1b2c3d", t, 12, "Checkout returns 503", "json"), 0,
	       "a record's path");
	is_str(sb.buf, "incidents/web-1-0a1b2c3d/2026/12-checkout-returns-503.json", "is its layout");
	strbuf_reset(&sb);
	knowledge_path(&sb, "web-1-0a1b2c3d", t, 12, "Checkout returns 503", "md");
	is_str(sb.buf, "incidents/web-1-0a1b2c3d/2026/12-checkout-returns-503.md",
	       "the post-mortem beside it");
	strbuf_reset(&sb);
	is_int(knowledge_path(&sb, "../x", t, 12, "t", "json"), -1, "a bad origin has no path");
	is_int(knowledge_path(&sb, "web", t, 0, "t", "json"), -1, "nor an id of 0");
	is_str(sb.buf, "", "and nothing is written");
	strbuf_release(&sb);
}

static void remote_refused(const char *url, const char *why, const char *secret)
{
	struct strbuf err = STRBUF_INIT;

	is_int(knowledge_remote_ok(url, &err), -1, "remember.remote = %s is refused",
	       secret ? "(a URL with credentials)" : strchr(url, '\n') ? "(a URL with a newline)" : url);
	like(err.buf, why, "saying why");
	if (secret)
		unlike(err.buf, secret, "without printing the secret");
	strbuf_release(&err);
}

static void test_remote_ok(void)
{
	static const char *const good[] = {
		"https://github.com/acme/knowledge.git", "ssh://git@git.example.com/k.git",
		"git@github.com:acme/knowledge.git", "/srv/knowledge.git", "../shared.git",
		"file:///srv/knowledge.git", "http://127.0.0.1:8080/k.git", "http://[::1]/k.git",
		"http://localhost/k.git",
	};
	struct strbuf err = STRBUF_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		strbuf_reset(&err);
		is_int(knowledge_remote_ok(good[i], &err), 0, "remember.remote = %s is taken", good[i]);
	}
	strbuf_release(&err);
	remote_refused("https://ghp_abcdef0123456789@github.com/acme/k.git", "credentials",
		       "ghp_abcdef0123456789");
	remote_refused("https://bob:hunter2secret@github.com/acme/k.git", "credentials",
		       "hunter2secret");
	remote_refused("ssh://git:hunter2secret@git.example.com/k.git", "credentials",
		       "hunter2secret");
	remote_refused("bob:hunter2secret@git.example.com:k.git", "credentials", "hunter2secret");
	remote_refused("http://user:hunter2secret@127.0.0.1/k.git", "credentials", "hunter2secret");
	remote_refused("http://git.example.com/k.git", "plain http", NULL);
	remote_refused("git://git.example.com/k.git", "a git URL", NULL);
	remote_refused("ext::sh -c evil", "remote helper", NULL);
	remote_refused("", "empty", NULL);
	remote_refused("https://github.com/a\n/b", "control character", NULL);
}

static void test_repo_path(void)
{
	struct config cfg = CONFIG_INIT;
	char *p;
	const char *text = "[remember]\n\trepo = /srv/memory\n";

	p = knowledge_repo_path(&cfg, "/var/lib/sre/sre.db");
	is_str(p, "/var/lib/sre/memory", "remember.repo defaults to memory beside the store");
	free(p);
	p = knowledge_repo_path(&cfg, "/sre.db");
	is_str(p, "/memory", "even at the root");
	free(p);
	p = knowledge_repo_path(&cfg, "sre.db");
	is_str(p, "memory", "or here");
	free(p);
	config_read_buffer(&cfg, text, strlen(text), "test", CONFIG_SCOPE_COMMAND);
	p = knowledge_repo_path(&cfg, "/var/lib/sre/sre.db");
	is_str(p, "/srv/memory", "remember.repo wins");
	free(p);
	config_clear(&cfg);
}

/* Records of the test's own: one file pair per incident. */
static void files_of(struct knowledge_file *f, const char *origin, long long id,
		     const char *title, const char *text)
{
	struct strbuf sb = STRBUF_INIT;

	knowledge_path(&sb, origin, 1795496820, id, title, "json");
	f[0].path = strbuf_detach(&sb, NULL);
	f[0].content = xstrfmt("{\"id\": %lld, \"origin\": \"%s\", \"title\": \"%s\", "
			       "\"resolution\": \"%s\"}\n", id, origin, title, text);
	f[0].len = strlen(f[0].content);
	knowledge_path(&sb, origin, 1795496820, id, title, "md");
	f[1].path = strbuf_detach(&sb, NULL);
	f[1].content = xstrfmt("# %s\n\n%s\n", title, text);
	f[1].len = strlen(f[1].content);
}

static void files_free(struct knowledge_file *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].path);
		free(f[i].content);
	}
}

static char *repo_a, *repo_b, *bare;

static void test_commit(void)
{
	struct knowledge_file f[4];
	struct strvec changed = STRVEC_INIT;
	char *sha = NULL, *gitdir = xstrfmt("--git-dir=%s", repo_a);
	const char *msg;

	files_of(f, "host-a-00000001", 1, "Checkout returns 503", "restarted checkout");
	files_of(f + 2, "host-a-00000001", 2, "Payments slow", "scaled payments");

	is_int(knowledge_commit(repo_a, "host-a-00000001", f, 4, NULL, "alice", 1, &changed, NULL),
	       1, "a dry run before remember.repo exists commits nothing");
	is_int(changed.nr, 4, "and says every file would be written");
	ok(access(repo_a, F_OK) < 0, "nor does it make the repository");
	strvec_clear(&changed);

	is_int(knowledge_commit(repo_a, "host-a-00000001", f, 4, "sre remember push: 2 incidents\n",
				"alice", 0, &changed, &sha), 0, "the first commit");
	is_int(changed.nr, 4, "writes the four files");
	ok(sha && strlen(sha) == 40, "and gives its id");
	if (!git(gitdir, "rev-parse", "--is-bare-repository"))
		is_str(gitout.buf, "true", "remember.repo is made bare");
	if (!git(gitdir, "symbolic-ref", "HEAD"))
		is_str(gitout.buf, "refs/heads/main", "with HEAD on main");
	if (!git(gitdir, "ls-tree", "-r", "--name-only", "main"))
		is_str(gitout.buf,
		       "incidents/host-a-00000001/2026/1-checkout-returns-503.json\n"
		       "incidents/host-a-00000001/2026/1-checkout-returns-503.md\n"
		       "incidents/host-a-00000001/2026/2-payments-slow.json\n"
		       "incidents/host-a-00000001/2026/2-payments-slow.md",
		       "the tree holds them where knowledge.h says");
	if (!git(gitdir, "log", "--format=%an <%ae>|%s", "main"))
		is_str(gitout.buf, "alice <sre@localhost>|sre remember push: 2 incidents",
		       "one commit, by the actor, with the message");
	if (!git(gitdir, "rev-parse", "main"))
		is_str(gitout.buf, sha, "main is at it");
	free(sha);
	sha = NULL;
	strvec_clear(&changed);

	is_int(knowledge_commit(repo_a, "host-a-00000001", f, 4, "again\n", "alice", 0, &changed,
				&sha), 1, "the same files again commit nothing");
	is_int(changed.nr, 0, "and change nothing");
	if (!git(gitdir, "rev-list", "--count", "main"))
		is_str(gitout.buf, "1", "still one commit");

	/* Incident 2 is renamed: its files move, the old ones go. */
	files_free(f + 2, 2);
	files_of(f + 2, "host-a-00000001", 2, "Payments p99 over 2s", "scaled payments");
	is_int(knowledge_commit(repo_a, "host-a-00000001", f + 2, 2, "renamed\n", "alice", 0,
				&changed, NULL), 0, "a title changed");
	if (!git(gitdir, "ls-tree", "-r", "--name-only", "main"))
		is_str(gitout.buf,
		       "incidents/host-a-00000001/2026/1-checkout-returns-503.json\n"
		       "incidents/host-a-00000001/2026/1-checkout-returns-503.md\n"
		       "incidents/host-a-00000001/2026/2-payments-p99-over-2s.json\n"
		       "incidents/host-a-00000001/2026/2-payments-p99-over-2s.md",
		       "moves the incident's files, leaving no stale copy");
	strvec_clear(&changed);

	capture_start();
	is_int(knowledge_commit(repo_a, "../evil", f, 2, "x\n", "alice", 0, NULL, NULL), -1,
	       "a bad origin is refused");
	msg = capture_end();
	like(msg, "is not an origin", "saying so");
	capture_start();
	is_int(knowledge_commit(repo_a, "host-b-00000002", f, 2, "x\n", "alice", 0, NULL, NULL), -1,
	       "files outside the origin's own directory are refused");
	msg = capture_end();
	like(msg, "is not a path of incidents/host-b-00000002/", "saying so");
	files_free(f, 4);
	free(gitdir);
}

/* What a read handed on: "origin/id" one a line. */
static int collect(const char *origin, long long id, cJSON *record, void *data)
{
	struct strbuf *sb = data;

	ok(cJSON_IsObject(record), "the record of %s/%lld is an object", origin, id);
	strbuf_addf(sb, "%s/%lld\n", origin, id);
	return 0;
}

static void test_publish(void)
{
	struct config cfg = CONFIG_INIT;
	struct knowledge_file f[2];
	struct knowledge_read_stats stats;
	struct strbuf seen = STRBUF_INIT;
	char *gitbare = xstrfmt("--git-dir=%s", bare), *gitb = xstrfmt("--git-dir=%s", repo_b);
	char *first = NULL, *tracking = NULL, *empty = tmp_path("empty.git");
	const char *msg;
	int tries = -1;

	if (git("init", "-q", "--bare", bare)) {
		ok(0, "the shared bare repository is made");
		goto out;
	}
	is_int(knowledge_publish(repo_a, "host-a-00000001", bare, &cfg, &tries), 0,
	       "store A pushes to the shared repository by path");
	is_int(tries, 1, "in one push");
	if (!git(gitbare, "rev-parse", "main"))
		first = xstrdup(gitout.buf);
	if (!git(gitbare, "ls-tree", "-r", "--name-only", "main"))
		like(gitout.buf, "incidents/host-a-00000001/2026/1-checkout-returns-503.json",
		     "the remote has A's records");
	is_int(knowledge_publish(repo_a, "host-a-00000001", bare, &cfg, &tries), 0,
	       "pushing again");
	is_int(tries, 0, "needs no push at all");

	/* B never fetched: its push is refused, then replayed on A's. */
	files_of(f, "host-b-00000002", 7, "Disk full on db-1", "cleaned the WAL");
	is_int(knowledge_commit(repo_b, "host-b-00000002", f, 2, "sre remember push: 1 incident\n",
				"bob", 0, NULL, NULL), 0, "store B commits its own");
	capture_start();
	is_int(knowledge_publish(repo_b, "host-b-00000002", bare, &cfg, &tries), 0,
	       "store B's push succeeds");
	msg = capture_end();
	is_int(tries, 2, "after one refusal and a retry");
	is_str(msg, "", "quietly");
	if (!git(gitbare, "ls-tree", "-r", "--name-only", "main"))
		is_str(gitout.buf,
		       "incidents/host-a-00000001/2026/1-checkout-returns-503.json\n"
		       "incidents/host-a-00000001/2026/1-checkout-returns-503.md\n"
		       "incidents/host-a-00000001/2026/2-payments-p99-over-2s.json\n"
		       "incidents/host-a-00000001/2026/2-payments-p99-over-2s.md\n"
		       "incidents/host-b-00000002/2026/7-disk-full-on-db-1.json\n"
		       "incidents/host-b-00000002/2026/7-disk-full-on-db-1.md",
		       "the remote has both stores' records");
	if (first && !git(gitbare, "rev-parse", "main^"))
		is_str(gitout.buf, first, "B's commit sits on A's: no merge");
	if (!git(gitbare, "log", "--format=%an|%s", "-1", "main"))
		is_str(gitout.buf, "bob|sre remember push: 1 incident", "with B's author and message");
	tracking = knowledge_tracking_ref(bare);
	like(tracking, "refs/remotes/sre-", "what B saw of the remote has a ref of its own");
	if (!git(gitb, "rev-parse", "main", tracking))
		ok(strchr(gitout.buf, '\n') &&
		   !strncmp(gitout.buf, strchr(gitout.buf, '\n') + 1, 40),
		   "B knows the remote has its main");

	/* A reads B's records, and never its own. */
	is_int(knowledge_fetch(repo_a, bare, &cfg), 0, "A fetches");
	is_int(knowledge_read(repo_a, bare, "host-a-00000001", collect, &seen, &stats), 0, "A reads");
	is_str(seen.buf, "host-b-00000002/7\n", "B's record, and none of A's own");
	is_int(stats.origins, 1, "from one other store");
	is_int(stats.skipped, 0, "skipping nothing");
	if (!git(gitbare, "rev-parse", "main")) {
		char *theirs = xstrdup(gitout.buf);

		if (!git(xstrfmt_tmp("--git-dir=%s", repo_a), "rev-parse", "main"))
			is_str(gitout.buf, theirs, "A's main, with nothing unpushed, follows the remote");
		free(theirs);
	}
	is_int(knowledge_publish(repo_a, "host-a-00000001", bare, &cfg, &tries), 0,
	       "A, having fetched, has nothing to push");
	is_int(tries, 0, "and pushes nothing");

	/* Another remote, empty: what the first one held is not taken for its. */
	if (!git("init", "-q", "--bare", empty)) {
		struct knowledge_read_stats none;
		char *other;

		is_int(knowledge_fetch(repo_a, empty, &cfg), 1, "an empty remote has no records yet");
		is_int(knowledge_read(repo_a, empty, "host-a-00000001", collect, &seen, &none), 1,
		       "and none are read from it");
		other = knowledge_tracking_ref(empty);
		ok(strcmp(tracking, other), "each URL has a ref of its own");
		free(other);
	}
	capture_start();
	is_int(knowledge_fetch(repo_a, "/nonexistent/shared.git", &cfg), -1,
	       "a remote that is not there fails");
	msg = capture_end();
	like(msg, "remember.remote", "naming remember.remote");
	files_free(f, 2);
out:
	strbuf_release(&seen);
	free(first);
	free(tracking);
	free(empty);
	free(gitbare);
	free(gitb);
}

static void test_hostile(void)
{
	struct config cfg = CONFIG_INIT;
	struct knowledge_read_stats stats;
	struct strbuf seen = STRBUF_INIT, big = STRBUF_INIT;
	char *work = tmp_path("hostile"), *hostile = tmp_path("hostile.git"), *reader = tmp_path("reader");
	char *p;
	const char *msg;

	if (git("init", "-q", "-b", "main", work)) {
		ok(0, "the hostile repository is made");
		goto out;
	}
#define PUT(name, text) do { p = xstrfmt("%s/%s", work, name); put(p, text, strlen(text)); free(p); } while (0)
	PUT("incidents/other-1/2026/5-fine.json", "{\"id\": 5, \"origin\": \"other-1\", \"title\": \"ok\"}");
	PUT("incidents/other-1/2026/5-fine.md", "# ok\n");
	PUT("incidents/other-1/2026/8-bad.json", "{\"id\": 8, \"title\": ");
	PUT("incidents/other-1/2026/9-claim.json", "{\"id\": 9, \"origin\": \"mine-00000001\"}");
	PUT("incidents/other-1/2026/10-array.json", "[1, 2]");
	PUT("incidents/other-1/2026/11-other.json", "{\"id\": 12}");
	PUT("incidents/other-1/2026/notes.txt", "hello");
	PUT("incidents/other-1/20x6/13-y.json", "{}");
	PUT("incidents/mine-00000001/2026/1-forged.json", "{\"id\": 1}");
	PUT("incidents/Bad_Name/2026/1-x.json", "{\"id\": 1}");
	PUT("incidents/local/2026/1-x.json", "{\"id\": 1}");
	PUT("incidents/other-2", "not a directory");
#undef PUT
	strbuf_addch(&big, '{');
	while (big.len < KNOWLEDGE_MAX_RECORD + 10)
		strbuf_addstr(&big, "\"k\": \"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\", ");
	strbuf_addstr(&big, "\"id\": 7}");
	p = xstrfmt("%s/incidents/other-1/2026/7-huge.json", work);
	put(p, big.buf, big.len);
	free(p);
	p = xstrfmt("%s/incidents/other-1/2026/6-link.json", work);
	if (symlink("/etc/passwd", p) < 0)
		perror(p);
	free(p);
	if (git("-C", work, "add", "-A") ||
	    git("-C", work, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "-m", "x") ||
	    git("clone", "-q", "--bare", work, hostile)) {
		ok(0, "the hostile tree is committed");
		goto out;
	}
	is_int(knowledge_fetch(reader, hostile, &cfg), 0, "a store fetches a hostile remote");
	capture_start();
	is_int(knowledge_read(reader, hostile, "mine-00000001", collect, &seen, &stats), 0,
	       "and reads it without failing");
	msg = capture_end();
	is_str(seen.buf, "other-1/5\n", "handing on the one good record alone");
	like(msg, "incidents/other-1/2026/6-link.json is a symbolic link: skipped", "a link");
	like(msg, "incidents/other-1/2026/7-huge.json is larger than 1024 KiB: skipped", "a huge file");
	like(msg, "incidents/other-1/2026/8-bad.json is not a JSON object: skipped", "bad JSON");
	like(msg, "incidents/other-1/2026/10-array.json is not a JSON object: skipped", "an array");
	like(msg, "9-claim.json claims to come from another origin than other-1", "a forged origin");
	like(msg, "11-other.json holds another incident's id", "another id");
	like(msg, "incidents/other-1/2026/notes.txt is not <id>-<slug>.json", "a stray file");
	like(msg, "incidents/other-1/20x6 is not a year", "a bad year");
	like(msg, "incidents/Bad_Name is not an origin's name", "a bad origin");
	like(msg, "incidents/local is not an origin's name", "\"local\"");
	like(msg, "incidents/other-2 is not a directory", "a file where an origin goes");
	unlike(msg, "forged", "our own origin's directory is not read at all");
	unlike(msg, "root:", "the link was never followed");
	is_int(stats.records, 1, "one record");
	is_int(stats.skipped, 11, "eleven entries skipped");
	is_int(stats.origins, 1, "one origin read");
out:
	strbuf_release(&seen);
	strbuf_release(&big);
	free(work);
	free(hostile);
	free(reader);
}

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

int main(void)
{
	if (test_begin("knowledge") < 0)
		return 1;
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("SRE_NOW", "2026-11-24T05:07:00Z", 1);
	test_slug();
	test_origin_and_path();
	test_remote_ok();
	test_repo_path();
	repo_a = tmp_path("a/memory");
	repo_b = tmp_path("b/memory");
	bare = tmp_path("shared.git");
	test_commit();
	test_publish();
	test_hostile();
	free(repo_a);
	free(repo_b);
	free(bare);
	strbuf_release(&gitout);
	return test_end();
}
