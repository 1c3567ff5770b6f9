/*
 * runtime-process.c: the process runtime of `sre fix` (runtime.h): a
 * service that is a process on this host, started and stopped by the
 * commands its [service] section names.
 *
 *   restart   service.<name>.stop (if set), service.<name>.start, then a
 *             new live process id in service.<name>.pidfile within
 *             PIDFILE_WAIT_MS; took effect when the pidfile holds a live
 *             process other than the one recorded
 *
 * The commands run through lib/run-command.c with stdin from /dev/null
 * and their stdout and stderr into a memory file, each for at most
 * service.<name>.timeout. Not a pipe read to EOF: a start command that
 * leaves its daemon behind holding stdout (`app &`) would keep sre
 * waiting as long as the daemon lives, and closing the pipe on it would
 * kill it with SIGPIPE. The daemon it leaves is in the command's process
 * group, so a start cut off takes its half-started daemon with it, while
 * one that finished in time leaves it running.
 */
#include "run-command.h"
#include "runtime.h"
#include "scout.h"
#include "timeutil.h"

#define PIDFILE_WAIT_MS (10 * 1000)  /* how long start has to write a new pid */
#define PIDFILE_POLL_MS 50
#define COMMAND_OUTPUT_MAX 4096      /* the end of their output kept, for the error */
#define MESSAGE_MAX 300              /* the longest message quoted in an error */

/*
 * Run a service's start or stop command as the top of this file says.
 * Returns its exit status, 128 + signal, or -1 with why in output (no
 * process made, or it ran too long and was killed); otherwise output holds
 * the last COMMAND_OUTPUT_MAX bytes it wrote.
 */
static int run_service_command(const struct strvec *argv, const struct fix_target *t,
			       struct strbuf *output)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	char *key = xstrfmt("service.%s.timeout", t->service);
	int ret;

	strvec_pushv(&cp.args, (const char **)argv->v);
	cp.no_stdin = 1;
	cp.out = output;
	cp.out_tail = 1;
	cp.out_max = COMMAND_OUTPUT_MAX;
	cp.stderr_to_out = 1;
	cp.timeout_ms = t->timeout_ms > 0 ? t->timeout_ms : FIX_COMMAND_TIMEOUT_MS;
	cp.timeout_key = key;
	cp.why = output;
	ret = run_child(&cp);
	child_process_clear(&cp);
	free(key);
	return ret;
}

/* The last line of a command's output with text in it, on one line; caller frees. */
static char *last_line(const char *text)
{
	const char *start = NULL, *p = text;

	while (*p) {
		const char *eol = strchrnul(p, '\n');

		for (const char *q = p; q < eol; q++)
			if (*q != ' ' && *q != '\t' && *q != '\r') {
				start = p;
				break;
			}
		p = *eol ? eol + 1 : eol;
	}
	if (!start)
		return NULL;
	{
		char *line = xstrndup(start, strcspn(start, "\n"));
		char *one = scout_one_line(line, MESSAGE_MAX);

		free(line);
		return one;
	}
}

/* A live process in the pidfile other than before (0: any): its id, or 0. */
static long long new_pid(const char *pidfile, long long before)
{
	long long pid = pidfile_read(pidfile);

	return pid && pid != before && process_alive(pid) ? pid : 0;
}

static int restart_prepare(const struct runtime_call *c, const cJSON *params, cJSON *record,
			   struct strbuf *out)
{
	const struct fix_target *t = c->t;
	long long pid;

	if (!t->start.nr)
		return runtime_failf(out, "restart: service.%s.start is not set", t->service);
	if (!t->pidfile)
		return runtime_failf(out, "restart: service.%s.pidfile is not set: sre cannot see the "
			     "process start", t->service);
	pid = pidfile_read(t->pidfile);
	/* Without stop, a live process would get a second instance beside it. */
	if (!t->stop.nr && process_alive(pid))
		return runtime_failf(out, "restart: process %lld of %s is running and service.%s.stop is "
			     "not set", pid, t->service, t->service);
	cJSON_AddStringToObject(record, "pidfile", t->pidfile);
	if (pid)
		cJSON_AddNumberToObject(record, "pid", (double)pid);
	else
		cJSON_AddNullToObject(record, "pid");
	return 0;
}

static int restart_run(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	struct http_client *http = c->http;
	const struct fix_target *t = c->t;
	const char *pidfile = runtime_record_string(record, "pidfile", "restart", out);
	struct strbuf output = STRBUF_INIT, line = STRBUF_INIT, stopped = STRBUF_INIT;
	long long before = 0, pid = 0;
	int64_t end;
	char *last;
	int rc;

	if (!pidfile)
		return -1;
	if (!t->start.nr)
		return runtime_failf(out, "restart: service.%s.start is not set", t->service);
	runtime_json_whole(cJSON_GetObjectItemCaseSensitive(record, "pid"), &before);

	if (t->stop.nr) {
		/* A stop that fails (nothing to stop) is said, and start still runs. */
		rc = run_service_command(&t->stop, t, &output);
		last = rc ? last_line(output.buf) : NULL;
		if (rc < 0)
			strbuf_addf(&stopped, "service.%s.stop failed: %s; ", t->service,
				    last ? last : "");
		else if (rc)
			strbuf_addf(&stopped, "service.%s.stop exited with %d%s%s; ", t->service, rc,
				    last ? ": " : "", last ? last : "");
		free(last);
		strbuf_reset(&output);
	}
	rc = run_service_command(&t->start, t, &output);
	if (rc) {
		last = last_line(output.buf);
		if (rc < 0)
			strbuf_addf(&line, "restart: service.%s.start failed: %s", t->service,
				    last ? last : "");
		else
			strbuf_addf(&line, "restart: service.%s.start exited with %d%s%s", t->service,
				    rc, last ? ": " : "", last ? last : "");
		free(last);
		strbuf_release(&output);
		strbuf_release(&stopped);
		return runtime_fail(http, out, &line);
	}
	strbuf_release(&output);

	end = monotonic_ms() + PIDFILE_WAIT_MS;
	while (!(pid = new_pid(pidfile, before)) && monotonic_ms() < end) {
		sleep_ms(PIDFILE_POLL_MS);
	}
	if (!pid) {
		long long now = pidfile_read(pidfile);

		strbuf_release(&stopped);
		if (!now)
			strbuf_addf(&line, "restart: %s holds no process id %d s after "
				    "service.%s.start", pidfile, PIDFILE_WAIT_MS / 1000, t->service);
		else
			strbuf_addf(&line, "restart: %s holds %lld%s %d s after service.%s.start",
				    pidfile, now, now == before ? ", as before," : ", no live process,",
				    PIDFILE_WAIT_MS / 1000, t->service);
		return runtime_fail(http, out, &line);
	}
	if (before)
		strbuf_addf(&stopped, "%s restarted: pid %lld, was %lld", t->service, pid, before);
	else
		strbuf_addf(&stopped, "%s started: pid %lld", t->service, pid);
	http_redact(http, &stopped);
	strbuf_addstr(out, stopped.buf);
	strbuf_release(&stopped);
	strbuf_release(&line);
	return 0;
}

static int restart_check(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	const char *pidfile = runtime_record_string(record, "pidfile", "restart", out);
	long long before = 0, pid;

	if (!pidfile)
		return -1;
	runtime_json_whole(cJSON_GetObjectItemCaseSensitive(record, "pid"), &before);
	pid = new_pid(pidfile, before);
	if (pid)
		strbuf_addf(out, "%s holds pid %lld, a new live process", pidfile, pid);
	else
		strbuf_addf(out, "%s holds no new live process", pidfile);
	return pid ? 1 : 0;
}

static const struct runtime_action restart = { restart_prepare, restart_run, restart_check };

const struct runtime_ops runtime_process = {
	.name = "process",
	.restart = &restart,
};
