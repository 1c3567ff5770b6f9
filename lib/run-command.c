/*
 * run-command.c: fork and exec from an argv; see run-command.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run-command.h"

static int wait_child(pid_t pid, const char *name)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return error_errno("cannot wait for '%s'", name);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

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

int run_command_capture(const char **argv, const char *what, struct strbuf *out,
			size_t max, int64_t timeout_ms)
{
	struct strbuf name = STRBUF_INIT, limit = STRBUF_INIT;
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	size_t start = out->len;
	int pipefd[2], status, ret;
	enum { DONE, TOO_MUCH, TOO_LONG, READ_ERROR } why = DONE;
	pid_t pid, parent;

	if (!argv || !argv[0])
		return error("no command to run");
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return error_errno("cannot create a pipe for '%s'", argv[0]);
	fflush(NULL);
	parent = getpid();
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return error_errno("cannot fork '%s'", argv[0]);
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		child_own_group();
		/*
		 * Its own group is out of reach of a kill aimed at ours (a
		 * push cut off while it asks for the token): it dies with us.
		 */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(pipefd[1], 1);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "error: cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid); /* as the child does: whichever runs first */
	close(pipefd[1]);
	name_command(&name, what, argv[0]);

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
		if (out->alloc)
			memset(out->buf + start, 0, out->alloc - start);
		strbuf_setlen(out, start);
		format_timeout(&limit, timeout_ms);
		if (why == TOO_LONG)
			ret = error("%s was cut off after %s and killed", name.buf, limit.buf);
		else if (why == TOO_MUCH)
			ret = error("%s wrote more than %zu bytes and was killed", name.buf, max);
		else
			ret = error("cannot read the output of %s: %s", name.buf, strerror(e));
		goto out;
	}
	/* EOF: its stdout is closed; it may still be running. */
	status = wait_child_deadline(pid, deadline);
	if (status == -2) {
		format_timeout(&limit, timeout_ms);
		ret = error("%s was cut off after %s and killed", name.buf, limit.buf);
	} else if (status == -1) {
		ret = error_errno("cannot wait for %s", name.buf);
	} else {
		ret = status;
	}
out:
	strbuf_release(&name);
	strbuf_release(&limit);
	return ret;
}

int run_command(const char **argv)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return error_errno("cannot fork '%s'", argv[0]);
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return wait_child(pid, argv[0]);
}

int exec_command(const char **argv)
{
	fflush(NULL);
	execvp(argv[0], (char *const *)argv);
	return -1;
}

int process_alive(long long pid)
{
	struct strbuf stat = STRBUF_INIT;
	char *path;
	const char *paren;
	int zombie = 0;

	if (pid <= 0 || pid > INT32_MAX || (kill((pid_t)pid, 0) < 0 && errno != EPERM))
		return 0;
	/* /proc/<pid>/stat: "<pid> (<comm>) <state> ...", and comm may hold anything. */
	path = xstrfmt("/proc/%lld/stat", pid);
	if (strbuf_read_file(&stat, path, 4096) > 0 && (paren = strrchr(stat.buf, ')')) &&
	    paren[1] == ' ')
		zombie = paren[2] == 'Z' || paren[2] == 'X';
	free(path);
	strbuf_release(&stat);
	return !zombie;
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
