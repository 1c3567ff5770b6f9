/*
 * run-command.c: fork and exec from an argv; see run-command.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

int run_command_capture(const char **argv, struct strbuf *out, size_t max)
{
	int pipefd[2], status, e;
	pid_t pid;
	long n;

	if (!argv || !argv[0])
		return error("no command to run");
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return error_errno("cannot create a pipe for '%s'", argv[0]);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return error_errno("cannot fork '%s'", argv[0]);
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(pipefd[1], 1);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "error: cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	n = strbuf_read_fd(out, pipefd[0], max);
	e = errno;
	close(pipefd[0]);
	if (n < 0)
		kill(pid, SIGTERM);
	status = wait_child(pid, argv[0]);
	if (n < 0) {
		errno = e;
		if (e == EFBIG)
			return error("'%s' wrote more than %zu bytes", argv[0], max);
		return error_errno("cannot read the output of '%s'", argv[0]);
	}
	return status;
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

	if (strbuf_read_file(&sb, path, 4096) >= 0) {
		strbuf_trim(&sb);
		if (parse_ll(sb.buf, &pid) < 0 || pid <= 0 || pid > INT32_MAX)
			pid = 0;
	}
	strbuf_release(&sb);
	return pid;
}
