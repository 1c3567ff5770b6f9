/*
 * run-command.c: fork and exec from an argv; see run-command.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run-command.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void child_own_group(void)
{
	setpgid(0, 0);
}

void kill_process_group(pid_t pid)
{
	int status;

	kill(-pid, SIGKILL);
	kill(pid, SIGKILL); /* in case setpgid lost a race with an exec */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

/*
 * Wait up to deadline_ms (0: forever) for pid, the leader of its own group.
 * Returns its exit status, 128 + signal, -1 (errno set) when it cannot be
 * waited for, or -2 when the deadline passed and its group was killed.
 */
static int wait_child_deadline(pid_t pid, int64_t deadline_ms)
{
	int status;

	for (;;) {
		pid_t w = waitpid(pid, &status, deadline_ms ? WNOHANG : 0);
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == pid)
			break;
		if (now_ms() >= deadline_ms) {
			kill_process_group(pid);
			return -2;
		}
		nanosleep(&ts, NULL);
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

void format_timeout(struct strbuf *out, int64_t ms)
{
	if (ms % 1000 == 0)
		strbuf_addf(out, "%lld s", (long long)(ms / 1000));
	else if (ms > 1000)
		strbuf_addf(out, "%.1f s", (double)ms / 1000.0);
	else
		strbuf_addf(out, "%lld ms", (long long)ms);
}

/* "github.token-command ('sleep')", or "'sleep'". */
static void name_command(struct strbuf *out, const char *what, const char *prog)
{
	if (what)
		strbuf_addf(out, "%s ('%s')", what, prog);
	else
		strbuf_addf(out, "'%s'", prog);
}

/* A failure's line: into cp->why when the caller keeps it, else printed. -1. */
static int child_fail(struct child_process *cp, const char *fmt, ...) SRE_PRINTF(2, 3);
static int child_fail(struct child_process *cp, const char *fmt, ...)
{
	struct strbuf line = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&line, fmt, ap);
	va_end(ap);
	if (cp->why)
		strbuf_addstr(cp->why, line.buf);
	else
		error("%s", line.buf);
	strbuf_release(&line);
	return -1;
}

static int child_cut_off(struct child_process *cp, const char *name)
{
	struct strbuf limit = STRBUF_INIT;
	int ret;

	cp->timed_out = 1;
	format_timeout(&limit, cp->timeout_ms);
	if (cp->timeout_key)
		ret = child_fail(cp, "%s was cut off after %s (%s) and killed", name, limit.buf,
				 cp->timeout_key);
	else
		ret = child_fail(cp, "%s was cut off after %s and killed", name, limit.buf);
	strbuf_release(&limit);
	return ret;
}

/*
 * Our environment with cp->env applied, for execve: built before the
 * fork, since setenv() is no function to call between fork and exec.
 */
static char **child_environ(const struct child_process *cp, struct strvec *store)
{
	for (char **e = environ; *e; e++) {
		int dropped = 0;

		for (size_t i = 0; i < cp->env.nr && !dropped; i++) {
			size_t n = strcspn(cp->env.v[i], "=");
			dropped = !strncmp(*e, cp->env.v[i], n) && (*e)[n] == '=';
		}
		if (!dropped)
			strvec_push(store, *e);
	}
	for (size_t i = 0; i < cp->env.nr; i++)
		if (strchr(cp->env.v[i], '='))
			strvec_push(store, cp->env.v[i]);
	return (char **)store->v;
}

/*
 * Fork cp's child, its stdout on out_fd (-1: ours). Returns its pid, or
 * -1 with errno set. The child leads its own group, from both sides of
 * the fork, whichever runs first.
 */
static pid_t start_child(const struct child_process *cp, int out_fd)
{
	struct strvec env = STRVEC_INIT;
	char **envp = cp->env.nr ? child_environ(cp, &env) : environ;
	pid_t pid, parent = getpid();
	int saved;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		const char *prog = cp->args.v[0];

		if (!cp->in_our_group)
			child_own_group();
		if (cp->die_with_parent) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(127);
		}
		if (cp->no_stdin) {
			int nul = open("/dev/null", O_RDONLY);

			if (nul >= 0)
				dup2(nul, 0);
		}
		if (out_fd >= 0) {
			dup2(out_fd, 1);
			if (cp->stderr_to_out)
				dup2(out_fd, 2);
		}
		signal(SIGPIPE, SIG_DFL);
		if (cp->dir && chdir(cp->dir) < 0) {
			dprintf(2, "%scannot change to '%s': %s\n",
				cp->stderr_to_out ? "" : "error: ", cp->dir, strerror(errno));
			_exit(127);
		}
		execvpe(prog, (char *const *)cp->args.v, envp);
		if (cp->silent_exec_failure)
			_exit(127);
		/* Into the output it shares, or as an error of ours on the terminal. */
		dprintf(2, "%scannot run '%s': %s\n", cp->stderr_to_out ? "" : "error: ", prog,
			strerror(errno));
		_exit(127);
	}
	saved = errno;
	if (pid > 0 && !cp->in_our_group)
		setpgid(pid, pid);
	strvec_clear(&env);
	errno = saved;
	return pid;
}

/* out through a pipe, to EOF: see run-command.h. */
static int run_piped(struct child_process *cp, const char *name)
{
	struct strbuf *out = cp->out;
	int64_t deadline = cp->timeout_ms > 0 ? now_ms() + cp->timeout_ms : 0;
	size_t start = out->len, max = cp->out_max;
	int pipefd[2], status;
	enum { DONE, TOO_MUCH, TOO_LONG, READ_ERROR } why = DONE;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return child_fail(cp, "cannot create a pipe for %s: %s", name, strerror(errno));
	pid = start_child(cp, pipefd[1]);
	if (pid < 0) {
		int e = errno;

		close(pipefd[0]);
		close(pipefd[1]);
		return child_fail(cp, "cannot fork %s: %s", name, strerror(e));
	}
	close(pipefd[1]);

	/* Read to EOF, but never past the deadline nor past max bytes. */
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		int wait = -1, r;
		ssize_t n;

		if (deadline) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				why = TOO_LONG;
				break;
			}
			wait = left > INT32_MAX ? INT32_MAX : (int)left;
		}
		r = poll(&pfd, 1, wait);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			why = READ_ERROR;
			break;
		}
		if (r == 0)
			continue; /* the deadline is checked above */
		strbuf_grow(out, 8192);
		n = read(pipefd[0], out->buf + out->len, out->alloc - out->len - 1);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			why = READ_ERROR;
			break;
		}
		if (n == 0)
			break;
		strbuf_setlen(out, out->len + (size_t)n);
		if (max && out->len - start > max) {
			why = TOO_MUCH;
			break;
		}
	}
	close(pipefd[0]);
	if (why != DONE) {
		int e = errno;

		kill_process_group(pid);
		/* What it wrote may be half a secret: wiped, not only forgotten. */
		if (out->alloc)
			memset(out->buf + start, 0, out->alloc - start);
		strbuf_setlen(out, start);
		if (why == TOO_LONG)
			return child_cut_off(cp, name);
		if (why == TOO_MUCH)
			return child_fail(cp, "%s wrote more than %zu bytes and was killed", name, max);
		return child_fail(cp, "cannot read the output of %s: %s", name, strerror(e));
	}
	/* EOF: its stdout is closed; it may still be running. */
	status = wait_child_deadline(pid, deadline);
	if (status == -2)
		return child_cut_off(cp, name);
	if (status == -1)
		return child_fail(cp, "cannot wait for %s: %s", name, strerror(errno));
	return status;
}

/* out through a memory file, its tail kept: see run-command.h. */
static int run_tail(struct child_process *cp, const char *name)
{
	int fd = -1, status = 0, ret;
	int64_t end = cp->timeout_ms > 0 ? now_ms() + cp->timeout_ms : 0;
	pid_t pid, w;
	off_t size;

	if (cp->out) {
		fd = memfd_create("sre-command", MFD_CLOEXEC);
		if (fd < 0)
			return child_fail(cp, "cannot make a file for the output of %s: %s", name,
					  strerror(errno));
	}
	pid = start_child(cp, fd);
	if (pid < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return child_fail(cp, "cannot fork %s: %s", name, strerror(e));
	}
	for (;;) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		struct stat st;

		/* Nothing to watch while it runs: wait for it. */
		w = waitpid(pid, &status, end || fd >= 0 ? WNOHANG : 0);
		if (w < 0 && errno == EINTR)
			continue;
		if (w || (end && now_ms() >= end))
			break;
		/*
		 * Only the end is kept: past the cap, start again at the top
		 * (the offset is shared with the child), so a chatty command
		 * cannot fill memory.
		 */
		if (fd >= 0 && !fstat(fd, &st) && st.st_size > CHILD_TAIL_CAP && !ftruncate(fd, 0))
			lseek(fd, 0, SEEK_SET);
		nanosleep(&ts, NULL);
	}
	if (w == 0) {
		if (cp->in_our_group) {
			kill(pid, SIGKILL); /* our group is not its own: it alone */
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
		} else {
			kill_process_group(pid);
		}
		if (fd >= 0)
			close(fd);
		return child_cut_off(cp, name);
	}
	if (w < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return child_fail(cp, "cannot wait for %s: %s", name, strerror(e));
	}
	ret = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	if (fd < 0)
		return ret;
	size = lseek(fd, 0, SEEK_END);
	if (size > 0 && lseek(fd, cp->out_max && (size_t)size > cp->out_max ?
			      size - (off_t)cp->out_max : 0, SEEK_SET) >= 0 &&
	    strbuf_read_fd(cp->out, fd, cp->out_max ? cp->out_max : CHILD_TAIL_CAP) < 0)
		strbuf_reset(cp->out);
	close(fd);
	return ret;
}

int run_child(struct child_process *cp)
{
	struct strbuf name = STRBUF_INIT;
	int ret;

	cp->timed_out = 0;
	if (!cp->args.nr)
		return child_fail(cp, "no command to run");
	name_command(&name, cp->what, cp->args.v[0]);
	if (cp->out && !cp->out_tail)
		ret = run_piped(cp, name.buf);
	else
		ret = run_tail(cp, name.buf);
	strbuf_release(&name);
	return ret;
}

void child_process_clear(struct child_process *cp)
{
	strvec_clear(&cp->args);
	strvec_clear(&cp->env);
	memset(cp, 0, sizeof(*cp));
	strvec_init(&cp->args);
	strvec_init(&cp->env);
}

int run_command_capture(const char **argv, const char *what, struct strbuf *out,
			size_t max, int64_t timeout_ms)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	int ret;

	if (!argv || !argv[0])
		return error("no command to run");
	strvec_pushv(&cp.args, argv);
	cp.what = what;
	cp.out = out;
	cp.out_max = max;
	cp.timeout_ms = timeout_ms;
	cp.no_stdin = 1;
	/* Its own group is out of reach of a kill aimed at ours (a
	 * push cut off while it asks for the token): it dies with us. */
	cp.die_with_parent = 1;
	ret = run_child(&cp);
	child_process_clear(&cp);
	return ret;
}

int run_command(const char **argv)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	int ret;

	strvec_pushv(&cp.args, argv);
	cp.in_our_group = 1;
	cp.silent_exec_failure = 1;
	ret = run_child(&cp);
	child_process_clear(&cp);
	return ret;
}

int exec_command(const char **argv)
{
	fflush(NULL);
	execvp(argv[0], (char *const *)argv);
	return -1;
}

/*
 * /proc/<pid>/stat into stat, and where its fields after the command name
 * start (" <state> <ppid> ..."), or NULL: the name may hold blanks and
 * parentheses, so it ends at the last ')'.
 */
static const char *proc_stat(long long pid, struct strbuf *stat)
{
	char *path = xstrfmt("/proc/%lld/stat", pid);
	const char *p = NULL;

	if (pid > 0 && strbuf_read_file(stat, path, 4096) > 0 && (p = strrchr(stat->buf, ')')) &&
	    p[1] != ' ')
		p = NULL;
	free(path);
	return p ? p + 1 : NULL;
}

char process_state(long long pid)
{
	struct strbuf stat = STRBUF_INIT;
	const char *p = proc_stat(pid, &stat);
	char state = p ? p[1] : 0;

	strbuf_release(&stat);
	return state;
}

long long process_start_time(long long pid)
{
	struct strbuf stat = STRBUF_INIT;
	const char *p = proc_stat(pid, &stat);
	long long t = -1;

	/* p is at the blank before field 3; field 22 is the start time. */
	for (int field = 2; p && *p && field < 22; p++)
		field += *p == ' ';
	if (!p || sscanf(p, "%lld", &t) != 1)
		t = -1;
	strbuf_release(&stat);
	return t;
}

int process_alive(long long pid)
{
	char state;

	if (pid <= 0 || pid > INT32_MAX || (kill((pid_t)pid, 0) < 0 && errno != EPERM))
		return 0;
	state = process_state(pid);
	return state != 'Z' && state != 'X';
}

long long pidfile_read(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	long long pid = 0;

	if (strbuf_read_regular_file(&sb, path, 4096) >= 0) {
		strbuf_trim(&sb);
		if (parse_ll(sb.buf, &pid) < 0 || pid <= 0 || pid > INT32_MAX)
			pid = 0;
	}
	strbuf_release(&sb);
	return pid;
}

/* ---- a function in a child (run_function()) ---- */

static void drop_signal(int sig)
{
	(void)sig;
}

/* Hand the whole lines of buf to rf->line; at the end (all), what is left is cut off. */
static void hand_lines(const struct run_function *rf, struct strbuf *buf, int all)
{
	char *nl;

	while ((nl = memchr(buf->buf, '\n', buf->len))) {
		size_t used = (size_t)(nl - buf->buf) + 1;

		*nl = '\0';
		if (used - 1 <= RUN_FUNCTION_LINE_MAX)
			rf->line(rf->cb, buf->buf);
		else
			error("%s handed over a line of %zu bytes; dropped", rf->name, used - 1);
		memmove(buf->buf, buf->buf + used, buf->len - used);
		strbuf_setlen(buf, buf->len - used);
	}
	if (buf->len > RUN_FUNCTION_LINE_MAX || (all && buf->len)) {
		error("%s handed over a line too long or cut off; dropped", rf->name);
		strbuf_reset(buf);
	}
}

enum run_function_end run_function(const struct run_function *rf)
{
	int64_t deadline = now_ms() + rf->timeout_ms;
	enum run_function_end end = RUN_FUNCTION_OK;
	struct strbuf buf = STRBUF_INIT;
	int fds[2], status = 0, killed = 0;
	pid_t pid;

	/* Close-on-exec: what fn starts (a restarted service) must not hold the pipe open. */
	if (pipe2(fds, O_CLOEXEC) < 0) {
		error_errno("cannot run %s", rf->name);
		return RUN_FUNCTION_FAILED;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		error_errno("cannot run %s", rf->name);
		close(fds[0]);
		close(fds[1]);
		return RUN_FUNCTION_FAILED;
	}
	if (!pid) {
		struct sigaction sa;

		close(fds[0]);
		setpgid(0, 0);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = drop_signal;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		exit(rf->fn(rf->data, fds[1]) ? 1 : 0);
	}
	setpgid(pid, pid);
	close(fds[1]);
	for (int eof = 0, exited = 0; !eof || !exited;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int64_t left = deadline - now_ms();
		char chunk[4096];
		ssize_t n;

		if (!exited && waitpid(pid, &status, WNOHANG) == pid)
			exited = 1;
		if (!exited && left <= 0) {
			end = RUN_FUNCTION_OVERRAN;
			break;
		}
		if (!eof && poll(&pfd, 1, exited ? 0 : (int)(left < 100 ? left : 100)) > 0) {
			n = read(fds[0], chunk, sizeof(chunk));
			if (n > 0) {
				strbuf_add(&buf, chunk, (size_t)n);
				hand_lines(rf, &buf, 0);
			} else if (n == 0 || errno != EINTR) {
				eof = 1;
			}
		} else if (exited) {
			/* Gone, and nothing left to read: what its own children hold open is not its. */
			eof = 1;
		}
		if (!exited && rf->tick && rf->tick(rf->cb) < 0) {
			end = RUN_FUNCTION_STOPPED;
			break;
		}
	}
	if (end != RUN_FUNCTION_OK) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		killed = 1;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	hand_lines(rf, &buf, 1);
	close(fds[0]);
	strbuf_release(&buf);
	if (!killed && !(WIFEXITED(status) && !WEXITSTATUS(status)))
		end = RUN_FUNCTION_FAILED;
	return end;
}
