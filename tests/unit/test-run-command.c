/*
 * test-run-command.c: unit tests of lib/run-command.c, struct
 * child_process, printing TAP.
 *
 * Real programs (sh, printf, sleep, pwd) run as sre runs a token command
 * or a service's start: the tests read what they wrote, what reached the
 * environment and the directory they ran in, and that a child cut off at
 * its timeout is killed with everything it started: a grandchild that
 * would write a file a second later never writes it.
 */
#include <signal.h>
#include <sys/stat.h>

#include "../../lib/http.h"
#include "../../lib/run-command.h"
#include "../../lib/timeutil.h"
#include "test-lib.h"

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void test_pipe(void)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT;
	const char *argv[] = { "printf", "token-%s", "abc", NULL };

	is_int(run_command_capture(argv, "github.token-command", &out, 64, 5000), 0,
	       "run_command_capture: exit status 0");
	is_str(out.buf, "token-abc", "its stdout captured");

	strbuf_reset(&out);
	strvec_pushl(&cp.args, "sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x", NULL);
	cp.out = &out;
	cp.out_max = 1000;
	cp.why = &why;
	is_int(run_child(&cp), -1, "more than out_max through the pipe: -1");
	is_str(why.buf, "'sh' wrote more than 1000 bytes and was killed", "saying so, in why");
	is_int((int)out.len, 0, "nothing of it kept");
	child_process_clear(&cp);

	strbuf_reset(&why);
	strvec_pushl(&cp.args, "sh", "-c", "exit 3", NULL);
	cp.out = &out;
	cp.why = &why;
	is_int(run_child(&cp), 3, "an exit status is returned as it is");
	is_str(why.buf, "", "and is no failure");
	child_process_clear(&cp);

	strvec_pushl(&cp.args, "/nonexistent/program", NULL);
	cp.out = &out;
	capture_start();
	is_int(run_child(&cp), 127, "a program that cannot run: 127");
	like(capture_end(), "error: cannot run '/nonexistent/program'", "said on stderr");
	child_process_clear(&cp);
	strbuf_release(&out);
	strbuf_release(&why);
}

static void test_env_dir(void)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT;
	char *dir = tmp_path("workdir");

	mkdir(dir, 0700);
	setenv("SRE_TEST_DROPPED", "secret", 1);
	strvec_pushl(&cp.args, "sh", "-c",
		     "printf '%s|%s|%s' \"$SRE_TEST_SET\" \"${SRE_TEST_DROPPED-unset}\" \"$(pwd)\"",
		     NULL);
	strvec_push(&cp.env, "SRE_TEST_SET=one");
	strvec_push(&cp.env, "SRE_TEST_DROPPED");
	cp.dir = dir;
	cp.out = &out;
	is_int(run_child(&cp), 0, "env and dir: ran");
	{
		char *want = xstrfmt("one|unset|%s", dir);
		is_str(out.buf, want, "NAME=value set, NAME unset, run in dir");
		free(want);
	}
	is_str(getenv("SRE_TEST_DROPPED"), "secret", "our own environment untouched");
	unsetenv("SRE_TEST_DROPPED");
	child_process_clear(&cp);
	strbuf_release(&out);
	free(dir);
}

static void test_timeout_kills_group(void)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT;
	char *late = tmp_path("late"), *script;
	int64_t start;

	/* A grandchild in the background, then a wait longer than the timeout. */
	script = xstrfmt("(sleep 1; touch %s) & sleep 30", late);
	strvec_pushl(&cp.args, "sh", "-c", script, NULL);
	cp.out = &out;
	cp.out_tail = 1;
	cp.stderr_to_out = 1;
	cp.timeout_ms = 300;
	cp.timeout_key = "service.web.timeout";
	cp.why = &why;
	start = monotonic_ms();
	is_int(run_child(&cp), -1, "tail mode, past the timeout: -1");
	ok(monotonic_ms() - start < 5000, "it returned at the timeout, not after sleep 30");
	ok(cp.timed_out, "timed_out is set");
	is_str(why.buf, "'sh' was cut off after 300 ms (service.web.timeout) and killed",
	       "saying so with the key");
	sleep_ms(1500);
	ok(!exists(late), "the grandchild was killed with its group");
	child_process_clear(&cp);
	free(script);

	/* The same through a pipe, and with a name. */
	strbuf_reset(&why);
	strvec_pushl(&cp.args, "sleep", "30", NULL);
	cp.what = "github.token-command";
	cp.out = &out;
	cp.timeout_ms = 200;
	cp.why = &why;
	is_int(run_child(&cp), -1, "pipe mode, past the timeout: -1");
	is_str(why.buf, "github.token-command ('sleep') was cut off after 200 ms and killed",
	       "saying so with its name");
	child_process_clear(&cp);
	strbuf_release(&out);
	strbuf_release(&why);
	free(late);
}

static void test_tail(void)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT;
	char *pidfile = tmp_path("daemon.pid"), *script;
	long long pid;
	int64_t start;

	/* A start that leaves a daemon holding its stdout, and exits. */
	script = xstrfmt("echo starting; echo oops >&2; sleep 30 & echo $! > %s; exit 0",
			 pidfile);
	strvec_pushl(&cp.args, "sh", "-c", script, NULL);
	cp.out = &out;
	cp.out_tail = 1;
	cp.out_max = 4096;
	cp.stderr_to_out = 1;
	cp.timeout_ms = 10000;
	start = monotonic_ms();
	is_int(run_child(&cp), 0, "tail mode: the command's own exit status");
	ok(monotonic_ms() - start < 5000, "not kept waiting by the daemon holding stdout");
	is_str(out.buf, "starting\noops\n", "stdout and stderr, in order");
	pid = pidfile_read(pidfile);
	ok(pid > 0 && process_alive(pid), "the daemon it left still runs");
	if (pid > 0)
		kill((pid_t)pid, SIGKILL);
	child_process_clear(&cp);
	free(script);

	/* Only the end of a long output is kept. */
	strbuf_reset(&out);
	strvec_pushl(&cp.args, "sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line$i; "
		     "i=$((i+1)); done", NULL);
	cp.out = &out;
	cp.out_tail = 1;
	cp.out_max = 8;
	is_int(run_child(&cp), 0, "a long output: ran");
	is_str(out.buf, "line299\n", "its last out_max bytes kept");
	child_process_clear(&cp);

	strbuf_reset(&out);
	strvec_pushl(&cp.args, "/nonexistent/start", NULL);
	cp.out = &out;
	cp.out_tail = 1;
	cp.stderr_to_out = 1;
	is_int(run_child(&cp), 127, "a start that cannot run: 127");
	like(out.buf, "cannot run '/nonexistent/start'", "said in its output");
	child_process_clear(&cp);
	strbuf_release(&out);
	free(pidfile);
}

static void test_run_command(void)
{
	const char *yes[] = { "true", NULL };
	const char *no[] = { "/nonexistent/man", NULL };

	is_int(run_command(yes), 0, "run_command: exit status");
	capture_start();
	is_int(run_command(no), 127, "run_command of a missing program: 127");
	is_str(capture_end(), "", "silently, so the caller can fall back");
}

int main(void)
{
	if (test_begin("run-command") < 0)
		return 1;
	test_pipe();
	test_env_dir();
	test_timeout_kills_group();
	test_tail();
	test_run_command();
	return test_end();
}
