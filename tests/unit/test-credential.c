/*
 * test-credential.c: unit tests of lib/credential.c, printing TAP.
 *
 * The approver is a function that records each question and answers as the
 * test says. pass and op are shell scripts written into the scratch
 * directory and put first on PATH: each logs its argv, one [word] each, to
 * a file and prints, fails, prints nothing or sleeps as $FAKE_MODE says, so
 * a test checks the exact command run, and that a refused reference ran
 * nothing. error() is captured on fd 2, so a test reads the message a user
 * would, and checks that no secret is in it.
 */
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/config.h"
#include "../../lib/credential.h"
#include "../../lib/redact.h"
#include "test-lib.h"

#define ENV_SECRET "env-s3cret-0123456789"
#define PASS_SECRET "pass-s3cret-0123456789"
#define OP_SECRET "op-s3cret-0123456789"
#define NO_APPROVER_MSG "prometheus.token is a credential reference: it is resolved only " \
	"after a person approves it, in sre diagnose -i (/approve)"

static struct asked {
	int answer;       /* what the approver says */
	int calls;
	char key[128], ref[600];
} asked;

static int approver(void *data, const char *key, const char *reference)
{
	struct asked *a = data;

	a->calls++;
	snprintf(a->key, sizeof(a->key), "%s", key);
	snprintf(a->ref, sizeof(a->ref), "%s", reference);
	return a->answer;
}

static void ask(int answer)
{
	memset(&asked, 0, sizeof(asked));
	asked.answer = answer;
	credential_forget_approvals();
	credential_set_approver(approver, &asked);
}

static char *bin_dir, *argv_log, *saved_path;

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_script(const char *name, const char *secret)
{
	char *path = xstrfmt("%s/%s", bin_dir, name);
	FILE *f = fopen(path, "w");

	if (!f) {
		perror(path);
		abort();
	}
	fprintf(f, "#!/bin/sh\n"
		   "for a; do printf '[%%s]' \"$a\"; done >>\"%s\"\n"
		   "echo >>\"%s\"\n"
		   "case \"$FAKE_MODE\" in\n"
		   "ok) printf '%%s\\n' '%s'; printf 'login: bob\\nurl: x\\n' ;;\n"
		   "crlf) printf '%%s\\r\\nnotes\\n' '%s' ;;\n"
		   "fail) printf '%%s\\n' '%s'; echo 'not found' >&2; exit 3 ;;\n"
		   "empty) ;;\n"
		   "blank-first) printf '\\n%%s\\n' '%s' ;;\n"
		   "sleep) exec sleep 30 ;;\n"
		   "esac\n", argv_log, argv_log, secret, secret, secret, secret);
	fclose(f);
	chmod(path, 0755);
	free(path);
}

/* The fakes' argv log, or "(not run)". Borrowed until the next call. */
static const char *ran(void)
{
	static struct strbuf sb = STRBUF_INIT;

	strbuf_reset(&sb);
	if (strbuf_read_file(&sb, argv_log, 0) < 0)
		strbuf_addstr(&sb, "(not run)");
	unlink(argv_log);
	return sb.buf;
}

static int resolve(const char *key, const char *ref, int64_t timeout_ms, struct strbuf *out)
{
	int ret;

	capture_start();
	ret = credential_resolve(key, ref, timeout_ms, out);
	capture_end();
	return ret;
}

static void test_is_reference(void)
{
	static const char *const yes[] = {
		"op://ops/prom/token", "pass:team/prom", "env:PROM_TOKEN",
		"op://", "pass:", "env:", "pass:../x", "env:1X",
	};
	static const char *const no[] = {
		"", "hunter2", "op:/ops/x", "op:ops/x", "OP://ops/x", "Pass:x", "ENV:X",
		"pass", "env", " env:X", "xenv:X", "password:x", "https://op/x",
	};

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		ok(credential_is_reference(yes[i]), "'%s' is a reference", yes[i]);
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		ok(!credential_is_reference(no[i]), "'%s' is not a reference", no[i]);
	ok(!credential_is_reference(NULL), "NULL is not a reference");
}

static void test_env(void)
{
	struct strbuf out = STRBUF_INIT;

	setenv("CRED_TEST_TOKEN", ENV_SECRET, 1);

	credential_forget_approvals();
	credential_set_approver(NULL, NULL);
	strbuf_addstr(&out, "old");
	is_int(resolve("prometheus.token", "env:CRED_TEST_TOKEN", 0, &out), 1,
	       "without an approver, a reference is refused");
	is_int(out.len, 0, "and nothing is returned");
	like(captured.buf, NO_APPROVER_MSG, "the error says where it can be approved");
	unlike(captured.buf, ENV_SECRET, "the error does not hold the secret");

	ask(0);
	is_int(resolve("prometheus.token", "env:CRED_TEST_TOKEN", 0, &out), 1, "denied: refused");
	is_int(asked.calls, 1, "the approver was asked");
	is_str(asked.key, "prometheus.token", "with the key");
	is_str(asked.ref, "env:CRED_TEST_TOKEN", "and the reference");
	like(captured.buf, "prometheus.token is a credential reference, and resolving it was denied",
	     "the error says it was denied");
	unlike(captured.buf, ENV_SECRET, "the error does not hold the secret");
	is_int(out.len, 0, "and nothing is returned");
	is_int(resolve("prometheus.token", "env:CRED_TEST_TOKEN", 0, &out), 1, "denied again");
	is_int(asked.calls, 2, "a denial is not remembered: asked again");

	ask(1);
	is_int(resolve("prometheus.token", "env:CRED_TEST_TOKEN", 0, &out), 0, "approved: resolved");
	is_str(out.buf, ENV_SECRET, "the variable's value is the secret");
	is_str(captured.buf, "", "nothing is printed");
	is_int(asked.calls, 1, "the approver was asked once");
	{
		char *r = redact_str("leaked " ENV_SECRET " here");

		is_str(r, "leaked ‹redacted:credential› here", "the secret is registered with the redactor");
		free(r);
	}
	asked.answer = 0;
	is_int(resolve("prometheus.token", "env:CRED_TEST_TOKEN", 0, &out), 0,
	       "the same key and reference again: still approved");
	is_int(asked.calls, 1, "the approver is not asked again");
	is_int(resolve("github.token", "env:CRED_TEST_TOKEN", 0, &out), 1,
	       "another key with the same reference is another question");
	is_int(asked.calls, 2, "asked for it");
	is_str(asked.key, "github.token", "naming that key");

	ask(1);
	unsetenv("CRED_TEST_TOKEN");
	is_int(resolve("prometheus.token", "env:CRED_TEST_TOKEN", 0, &out), -1,
	       "an unset variable is an error");
	like(captured.buf, "prometheus.token is env:CRED_TEST_TOKEN, and CRED_TEST_TOKEN is not set",
	     "naming the key and the variable");
	setenv("CRED_TEST_TOKEN", "", 1);
	is_int(resolve("prometheus.token", "env:CRED_TEST_TOKEN", 0, &out), -1,
	       "an empty variable is an error");
	like(captured.buf, "CRED_TEST_TOKEN is empty", "saying so");
	is_int(out.len, 0, "nothing is returned");
	setenv("CRED_TEST_TOKEN", ENV_SECRET, 1);

	{
		static const char *const bad[] = {
			"env:", "env:1ABC", "env:A-B", "env:A=B", "env:A B", "env:$HOME", "env:A\nB",
		};

		ask(1);
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			is_int(resolve("prometheus.token", bad[i], 0, &out), -1,
			       "bad variable name %zu refused", i);
			like(captured.buf, "an env: reference names an environment variable",
			     "saying what a name is (%zu)", i);
		}
		is_int(asked.calls, 0, "nobody is asked to approve a malformed reference");
	}
	strbuf_release(&out);
}

static void test_pass(void)
{
	struct strbuf out = STRBUF_INIT;
	char long_path[300];
	int64_t start;

	ask(1);
	setenv("FAKE_MODE", "ok", 1);
	is_int(resolve("prometheus.token", "pass:team/prom", 0, &out), 0, "pass: resolved");
	is_str(ran(), "[show][team/prom]\n", "as pass show <path>, exactly");
	is_str(out.buf, PASS_SECRET, "the first line is the secret, the notes below are not");
	is_str(captured.buf, "", "nothing is printed");
	is_int(resolve("prometheus.token", "pass:team/prom", 0, &out), 0, "resolved again");
	is_int(asked.calls, 1, "asked once for the same key and reference");
	is_str(ran(), "[show][team/prom]\n", "the program runs again: the secret is not kept");

	setenv("FAKE_MODE", "crlf", 1);
	is_int(resolve("prometheus.token", "pass:a.b/c_d@e+f-g", 0, &out), 0,
	       "every character a path may hold");
	is_str(ran(), "[show][a.b/c_d@e+f-g]\n", "passed as one word");
	is_str(out.buf, PASS_SECRET, "a CR before the newline is not part of the secret");

	{
		static const char *const bad[] = {
			"pass:", "pass:-x", "pass:--help", "pass:/etc/shadow", "pass:a/../b",
			"pass:..", "pass:a b", "pass:a;b", "pass:$(id)", "pass:a\nb", "pass:é",
		};

		ask(1);
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			is_int(resolve("prometheus.token", bad[i], 0, &out), -1,
			       "bad path %zu refused", i);
			like(captured.buf, "a pass: reference is a path in the password store",
			     "saying what a path is (%zu)", i);
		}
		memset(long_path, 'a', sizeof(long_path));
		memcpy(long_path, "pass:", 5);
		long_path[5 + 257] = '\0';
		is_int(resolve("prometheus.token", long_path, 0, &out), -1, "257 bytes: refused");
		long_path[5 + 256] = '\0';
		is_int(asked.calls, 0, "nobody is asked to approve a malformed path");
		is_str(ran(), "(not run)", "and pass never ran");
		is_int(resolve("prometheus.token", long_path, 0, &out), 0, "256 bytes: resolved");
		ok(starts_with(ran(), "[show][aaaa"), "pass ran for it");
	}

	setenv("FAKE_MODE", "fail", 1);
	strbuf_addstr(&out, "old");
	is_int(resolve("prometheus.token", "pass:team/prom", 0, &out), -1, "pass failing is an error");
	like(captured.buf, "prometheus.token: pass show failed with exit code 3",
	     "naming the key, the program and its exit code");
	unlike(captured.buf, PASS_SECRET, "never what it printed");
	is_int(out.len, 0, "nothing is returned");
	ran();

	setenv("FAKE_MODE", "empty", 1);
	is_int(resolve("prometheus.token", "pass:team/prom", 0, &out), -1, "pass printing nothing is an error");
	like(captured.buf, "prometheus.token: pass show printed nothing", "saying so");
	setenv("FAKE_MODE", "blank-first", 1);
	is_int(resolve("prometheus.token", "pass:team/prom", 0, &out), -1, "an empty first line is an error");
	unlike(captured.buf, PASS_SECRET, "never the lines below it");
	is_int(out.len, 0, "nothing is returned");

	setenv("FAKE_MODE", "sleep", 1);
	start = monotonic_ms();
	is_int(resolve("prometheus.token", "pass:team/prom", 1000, &out), -1, "pass hanging is an error");
	ok(monotonic_ms() - start < 5000, "within its timeout, not its sleep (%lld ms)",
	   (long long)(monotonic_ms() - start));
	like(captured.buf, "prometheus.token ('pass') was cut off after 1 s and killed",
	     "naming the key, the program and the timeout");
	ran();

	setenv("PATH", "/usr/bin:/bin", 1);
	ask(1);
	is_int(resolve("prometheus.token", "pass:team/prom", 0, &out), -1, "pass not installed: an error");
	like(captured.buf, "prometheus.token is a pass: reference, but pass is not installed "
	     "(the Debian package \"pass\")", "saying which package holds it");
	is_int(asked.calls, 0, "nobody is asked to approve what cannot run");
	setenv("PATH", saved_path, 1);
	strbuf_release(&out);
}

static void test_op(void)
{
	struct strbuf out = STRBUF_INIT;
	char long_ref[600];

	ask(1);
	setenv("FAKE_MODE", "ok", 1);
	/* op's own output is one secret: the fake's notes lines stand for a multi-line one. */
	is_int(resolve("prometheus.token", "op://ops/prom/token", 0, &out), 0, "op:// resolved");
	is_str(ran(), "[read][op://ops/prom/token]\n", "as op read <reference>, exactly");
	is_str(out.buf, OP_SECRET "\nlogin: bob\nurl: x", "its output less the trailing newline");
	is_int(asked.calls, 1, "asked once");
	is_str(asked.ref, "op://ops/prom/token", "for that reference");

	is_int(resolve("llm.api-key", "op://Private/Open AI/key", 0, &out), -1,
	       "a reference with a blank is refused");
	is_int(resolve("llm.api-key", "op://ops/x?attribute=otp", 0, &out), 0,
	       "a query part is passed on");
	is_str(ran(), "[read][op://ops/x?attribute=otp]\n", "as one word");

	{
		static const char *const bad[] = {
			"op://", "op://-x", "op://--help", "op://a b", "op://a\tb", "op://a\nb",
			"op://é/x", "op://a\x7f",
		};

		ask(1);
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			is_int(resolve("prometheus.token", bad[i], 0, &out), -1,
			       "bad reference %zu refused", i);
			like(captured.buf, "an op:// reference is op://vault/item/field",
			     "saying what a reference is (%zu)", i);
		}
		memset(long_ref, 'a', sizeof(long_ref));
		memcpy(long_ref, "op://", 5);
		long_ref[513] = '\0';
		is_int(resolve("prometheus.token", long_ref, 0, &out), -1, "513 bytes: refused");
		is_int(asked.calls, 0, "nobody is asked to approve a malformed reference");
		is_str(ran(), "(not run)", "and op never ran");
	}

	setenv("FAKE_MODE", "fail", 1);
	is_int(resolve("prometheus.token", "op://ops/prom/token", 0, &out), -1, "op failing is an error");
	like(captured.buf, "prometheus.token: op read failed with exit code 3", "naming key and program");
	unlike(captured.buf, OP_SECRET, "never what it printed");
	is_int(out.len, 0, "nothing is returned");
	setenv("FAKE_MODE", "empty", 1);
	is_int(resolve("prometheus.token", "op://ops/prom/token", 0, &out), -1, "op printing nothing is an error");
	like(captured.buf, "prometheus.token: op read printed nothing", "saying so");
	ran();

	setenv("PATH", "/usr/bin:/bin", 1);
	is_int(resolve("prometheus.token", "op://ops/prom/token", 0, &out), -1, "op not installed: an error");
	like(captured.buf, "op, the 1Password CLI, is not installed", "saying what op is");
	setenv("PATH", saved_path, 1);
	strbuf_release(&out);
}

/* Collectors resolve from threads: one question for one key, however many ask. */
static void *resolve_thread(void *arg)
{
	struct strbuf out = STRBUF_INIT;
	long r = credential_resolve("prometheus.token", "env:CRED_TEST_TOKEN", 0, &out);

	(void)arg;
	if (!r && strcmp(out.buf, ENV_SECRET))
		r = 99;
	strbuf_release(&out);
	return (void *)r;
}

static void test_threads(void)
{
	pthread_t t[4];
	int good = 0;

	ask(1);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		pthread_create(&t[i], NULL, resolve_thread, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		void *r;

		pthread_join(t[i], &r);
		good += r == NULL;
	}
	is_int(good, 4, "four threads got the secret");
	is_int(asked.calls, 1, "and the approver was asked once");
}

static int get_secret(struct config *cfg, const char *key, const char *env, struct strbuf *out)
{
	int ret;

	capture_start();
	ret = config_get_secret(cfg, key, env, out);
	capture_end();
	return ret;
}

static void test_config(void)
{
	struct config cfg = CONFIG_INIT;
	struct strbuf out = STRBUF_INIT;
	char *path = tmp_path("shared.cfg");
	FILE *f;
	const char *text = "[prometheus]\n\ttoken = env:CRED_TEST_TOKEN\n";

	capture_start();
	is_int(config_read_buffer(&cfg, text, strlen(text), "t", CONFIG_SCOPE_GLOBAL), 0,
	       "a reference is a value like any other");
	capture_end();

	credential_forget_approvals();
	credential_set_approver(NULL, NULL);
	is_int(get_secret(&cfg, "prometheus.token", "CRED_TEST_UNSET", &out), -1,
	       "config_get_secret: a reference without an approver cannot be read");
	like(captured.buf, NO_APPROVER_MSG, "with the error that says why");
	unlike(captured.buf, ENV_SECRET, "and not the secret");
	is_int(out.len, 0, "nothing is returned");

	ask(1);
	is_int(get_secret(&cfg, "prometheus.token", "CRED_TEST_UNSET", &out), 0, "approved: read");
	is_str(out.buf, ENV_SECRET, "through the reference");
	ask(1);
	setenv("CRED_TEST_WINS", "from-the-variable", 1);
	is_int(get_secret(&cfg, "prometheus.token", "CRED_TEST_WINS", &out), 0, "the key's variable");
	is_str(out.buf, "from-the-variable", "still wins over the reference");
	is_int(asked.calls, 0, "and nobody is asked");
	unsetenv("CRED_TEST_WINS");
	capture_start();
	config_add_override(&cfg, "prometheus.token-command=printf from-the-command");
	capture_end();
	is_int(get_secret(&cfg, "prometheus.token", NULL, &out), 0, "the -command key");
	is_str(out.buf, "from-the-command", "wins too");
	is_int(asked.calls, 0, "and nobody is asked");
	config_clear(&cfg);

	/* A file others can read: a reference draws no warning, a token does. */
	f = fopen(path, "w");
	fputs("[prometheus]\n\ttoken = op://ops/prom/token\n[github]\n\ttoken = ghp_plain\n", f);
	fclose(f);
	chmod(path, 0644);
	capture_start();
	is_int(config_read_file(&cfg, path, CONFIG_SCOPE_GLOBAL, 1), 0, "a shared file is read");
	capture_end();
	like(captured.buf, "github.token is set in", "a plain token in it draws the warning");
	unlike(captured.buf, "prometheus.token", "a reference in it does not");
	config_clear(&cfg);

	capture_start();
	config_add_override(&cfg, "prometheus.token=pass:team/prom");
	config_add_override(&cfg, "jira.token=atl-plain");
	capture_end();
	like(captured.buf, "jira.token given with -c", "a token given with -c draws the warning");
	unlike(captured.buf, "prometheus.token", "a reference given with -c does not");
	config_clear(&cfg);
	free(path);
	strbuf_release(&out);
}

int main(void)
{
	if (test_begin("credential") < 0)
		return 1;
	bin_dir = tmp_path("bin");
	argv_log = tmp_path("argv.log");
	mkdir(bin_dir, 0700);
	write_script("pass", PASS_SECRET);
	write_script("op", OP_SECRET);
	saved_path = xstrfmt("%s:/usr/bin:/bin", bin_dir);
	setenv("PATH", saved_path, 1);

	test_is_reference();
	test_env();
	test_pass();
	test_op();
	test_threads();
	test_config();

	credential_set_approver(NULL, NULL);
	credential_forget_approvals();
	redact_forget_secrets();
	free(bin_dir);
	free(argv_log);
	free(saved_path);
	return test_end();
}
