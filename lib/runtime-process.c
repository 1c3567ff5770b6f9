/*
 * runtime-process.c: the process runtime of `sre fix` (runtime.h): a
 * service that is a process on this host, started and stopped by the
 * commands its [service] section names.
 *
 *   restart   service.<name>.stop (if set), service.<name>.start, then a
 *             new live process id in service.<name>.pidfile within
 *             PIDFILE_WAIT_MS; took effect when the pidfile holds a live
 *             process other than the one recorded
 *   chaos     kill (SIGKILL; undone by start, unless a supervisor did it)
 *             and stop (SIGSTOP; undone by SIGCONT), to the process of the
 *             pidfile, checked by its start time so that no other process
 *             that took the id since is ever signalled
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
#include <errno.h>
#include <signal.h>
#include <unistd.h>

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

/*
 * Stop (when stop_first and the service has a stop command), start, and
 * wait for a new live process in pidfile other than before. 0, or -1 with
 * why in out.
 */
static int start_service(const struct runtime_call *c, const char *pidfile, long long before,
			 int stop_first, struct strbuf *out)
{
	struct http_client *http = c->http;
	const struct fix_target *t = c->t;
	struct strbuf output = STRBUF_INIT, line = STRBUF_INIT, stopped = STRBUF_INIT;
	long long pid = 0;
	int64_t end;
	char *last;
	int rc;

	if (!t->start.nr)
		return runtime_failf(out, "restart: service.%s.start is not set", t->service);
	if (stop_first && t->stop.nr) {
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

static int restart_run(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	const char *pidfile = runtime_record_string(record, "pidfile", "restart", out);
	long long before = 0;

	if (!pidfile)
		return -1;
	runtime_json_whole(cJSON_GetObjectItemCaseSensitive(record, "pid"), &before);
	return start_service(c, pidfile, before, 1, out);
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

/*
 * ---- chaos: faults and their undoing ----
 *
 * params {"fault": kill|stop}. The record holds the process id and its
 * start time (field 22 of /proc/<pid>/stat), so that a signal is never
 * sent to another process that took the id since.
 */

/* Is the record's process the one alive now (same id, same start)? */
static int same_process(const cJSON *record)
{
	long long pid = json_int(record, "pid");

	return pid > 1 && process_alive(pid) && process_start_time(pid) == json_int(record, "started");
}

static int chaos_prepare(const struct runtime_call *c, const cJSON *params, cJSON *record,
			 struct strbuf *out)
{
	const struct fix_target *t = c->t;
	const char *fault = json_string(params, "fault");
	long long pid;

	if (!fault || (strcmp(fault, "kill") && strcmp(fault, "stop")))
		return runtime_failf(out, "process: no fault %s (kill, stop)", fault ? fault : "named");
	if (!t->pidfile)
		return runtime_failf(out, "process-%s: service.%s.pidfile is not set", fault, t->service);
	if (!strcmp(fault, "kill") && !t->start.nr)
		return runtime_failf(out, "process-kill: service.%s.start is not set: sre could not "
				     "start it again", t->service);
	pid = pidfile_read(t->pidfile);
	/* Never this process, its parent, or init. */
	if (pid <= 1 || pid == (long long)getpid() || pid == (long long)getppid())
		return runtime_failf(out, "process-%s: %s holds no process sre may signal", fault, t->pidfile);
	if (!process_alive(pid))
		return runtime_failf(out, "process-%s: process %lld of %s is not running", fault, pid,
				     t->service);
	cJSON_AddStringToObject(record, "fault", fault);
	cJSON_AddStringToObject(record, "pidfile", t->pidfile);
	cJSON_AddNumberToObject(record, "pid", (double)pid);
	cJSON_AddNumberToObject(record, "started", (double)process_start_time(pid));
	return 0;
}

static int chaos_inject_run(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	const char *fault = json_string(record, "fault");
	int kill_it = fault && !strcmp(fault, "kill");
	long long pid = json_int(record, "pid");

	if (!same_process(record))
		return runtime_failf(out, "process %lld is gone, or another took its id", pid);
	if (kill((pid_t)pid, kill_it ? SIGKILL : SIGSTOP) < 0)
		return runtime_failf(out, "cannot signal process %lld: %s", pid, strerror(errno));
	strbuf_addf(out, "process %lld of %s %s", pid, c->t->service, kill_it ? "killed" : "stopped");
	return 0;
}

static int chaos_revert_run(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	const char *fault = json_string(record, "fault");
	const char *pidfile = runtime_record_string(record, "pidfile", "chaos", out);
	long long pid = json_int(record, "pid"), now;

	if (!pidfile)
		return -1;
	if (fault && !strcmp(fault, "stop")) {
		if (!same_process(record)) {
			strbuf_addf(out, "process %lld is gone: nothing to continue", pid);
			return 0;
		}
		if (kill((pid_t)pid, SIGCONT) < 0)
			return runtime_failf(out, "cannot continue process %lld: %s", pid, strerror(errno));
		strbuf_addf(out, "process %lld of %s continued", pid, c->t->service);
		return 0;
	}
	/* kill: never sent (a crash before it), or a supervisor started it again already. */
	if (same_process(record)) {
		strbuf_addf(out, "process %lld of %s was never killed", pid, c->t->service);
		return 0;
	}
	now = pidfile_read(pidfile);
	if (now && now != pid && process_alive(now)) {
		strbuf_addf(out, "%s runs again as process %lld", c->t->service, now);
		return 0;
	}
	return start_service(c, pidfile, pid, 0, out);
}

static int chaos_revert_check(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	const char *fault = json_string(record, "fault");
	const char *pidfile = runtime_record_string(record, "pidfile", "chaos", out);
	long long pid = json_int(record, "pid"), now;
	char state = 0;

	if (!pidfile)
		return -1;
	if (fault && !strcmp(fault, "stop")) {
		if (!same_process(record)) {
			strbuf_addf(out, "process %lld is gone", pid);
			return 1;
		}
		state = process_state(pid);
		strbuf_addf(out, "process %lld is %s", pid, state == 'T' ? "stopped" : "running");
		return state != 'T';
	}
	now = pidfile_read(pidfile);
	if (now && process_alive(now) && (now != pid || same_process(record))) {
		strbuf_addf(out, "%s runs as process %lld", c->t->service, now);
		return 1;
	}
	strbuf_addf(out, "%s has no live process", c->t->service);
	return 0;
}

static const struct runtime_action chaos_inject = { chaos_prepare, chaos_inject_run, NULL };
static const struct runtime_action chaos_revert = { NULL, chaos_revert_run, chaos_revert_check };

const struct runtime_ops runtime_process = {
	.name = "process",
	.restart = &restart,
	.inject = &chaos_inject,
	.revert = &chaos_revert,
};
