/*
 * run-command.h: child processes from an argv vector, never through a
 * shell (after git's run-command.h). Every program sre starts goes
 * through struct child_process: a token command (lib/config.c), a
 * service's start and stop (lib/runtime-process.c), a pager or man page
 * (cmd/sre.c). The one fork that does not is gitops_push()'s: it runs
 * libgit2 in the child, not a program (lib/gitops.c says why).
 */
#ifndef SRE_RUN_COMMAND_H
#define SRE_RUN_COMMAND_H

#include "strvec.h"
#include "strbuf.h"

#include <stdint.h>
#include <sys/types.h>

/*
 * A program to run and how. The child leads a process group of its own
 * (unless in_our_group), so that when it runs past timeout_ms, it and
 * everything it started (a grandchild holding a pipe open, the daemon a
 * start script left) are killed together with SIGKILL, and a kill aimed
 * at sre's group does not reach it.
 *
 * Its stdout is one of:
 *   out NULL            passed through (stdin too, unless no_stdin)
 *   out, not out_tail   read through a pipe to EOF, at most out_max bytes
 *                       (0: no cap): more is an error and the child is
 *                       killed. For a command whose answer is its output
 *                       (a token).
 *   out, out_tail       written to a memory file, of which the last
 *                       out_max bytes are appended to out once the child
 *                       exits; while it runs the file is kept under
 *                       CHILD_TAIL_CAP. For a command that may leave a
 *                       daemon behind holding its stdout (`app &`): sre
 *                       waits for the command alone, not for EOF, and
 *                       never kills the daemon with SIGPIPE.
 */
struct child_process {
	struct strvec args;        /* the program (looked up on PATH) and its arguments */
	struct strvec env;         /* over ours: "NAME=value" sets, "NAME" unsets */
	const char *dir;           /* where it runs; NULL: here */
	const char *what;          /* its name in messages ("github.token-command"); NULL: the program */
	const char *timeout_key;   /* the key of timeout_ms, said when it is cut off; or NULL */
	int64_t timeout_ms;        /* 0: no limit */
	struct strbuf *out;        /* see above */
	size_t out_max;
	unsigned no_stdin:1;       /* stdin from /dev/null */
	unsigned stderr_to_out:1;  /* stderr into out too (out_tail only) */
	unsigned out_tail:1;
	unsigned die_with_parent:1;/* SIGKILL when sre dies (a token command mid-push) */
	/*
	 * Stay in sre's process group: a program that talks with the
	 * terminal (man and its pager) must stay in the foreground group,
	 * or it is stopped as it reads. Only without timeout_ms.
	 */
	unsigned in_our_group:1;
	unsigned silent_exec_failure:1; /* a program that cannot run exits 127, saying nothing */
	struct strbuf *why;        /* set: a failure's line goes here, unprinted; NULL: error() */
	unsigned timed_out:1;      /* set by run_child(): it was cut off and killed */
};

#define CHILD_PROCESS_INIT { .args = STRVEC_INIT, .env = STRVEC_INIT }
#define CHILD_TAIL_CAP (1 << 20)

/*
 * Run cp and wait for it. Returns its exit status (0..255), 128 + signal
 * if it was killed by someone else, or -1 when it could not be started,
 * wrote more than out_max through a pipe, or was cut off
 * ("github.token-command ('sleep') was cut off after 10 s and killed"),
 * the line printed with error() or put in cp->why. A program that cannot
 * be executed exits 127, having said so on its stderr.
 */
int run_child(struct child_process *cp);
/* Free its args and env; cp is then CHILD_PROCESS_INIT, ready for another command. */
void child_process_clear(struct child_process *cp);

/*
 * run_child() of argv with stdin from /dev/null and stderr passed
 * through, capturing at most max bytes of its stdout into out, for at
 * most timeout_ms (0: no limit), dying with sre. what names the command
 * in messages ("github.token-command"; NULL: its program), which never
 * show its arguments or output.
 */
int run_command_capture(const char **argv, const char *what, struct strbuf *out,
			size_t max, int64_t timeout_ms);

/* Make this (just forked) child the leader of a process group of its own. */
void child_own_group(void);

/*
 * Kill pid, the leader of its own group, and everything of its group with
 * SIGKILL, then reap pid.
 */
void kill_process_group(pid_t pid);

/* "10 s", "1.5 s" or "500 ms": a timeout in an error message. */
void format_timeout(struct strbuf *out, int64_t ms);

/*
 * Run argv (looked up on PATH) with this process's stdin, stdout and
 * stderr, and wait for it. Returns its exit status, 128 + signal if it was
 * killed, 127 when it could not be started (silently, so a caller can fall
 * back to something else), or -1 when no process could be made (printed).
 */
int run_command(const char **argv);

/*
 * Replace this process with argv (execvp). Returns -1 with errno set only
 * when the program could not be run.
 */
int exec_command(const char **argv);

/* The process id a pidfile holds, or 0 (no file, not a process id). */
long long pidfile_read(const char *path);

/*
 * Is there a process pid that has not exited? A zombie has: only its
 * parent has not reaped it yet (as happens under a parent that never
 * waits, such as some container init processes).
 */
int process_alive(long long pid);

/*
 * When process pid started, in clock ticks since boot (field 22 of
 * /proc/<pid>/stat), or -1: with its id, what tells a process from another
 * that took the id since.
 */
long long process_start_time(long long pid);

/* The state letter of process pid (R, S, T stopped, Z zombie...), or 0 when it cannot be read. */
char process_state(long long pid);

/*
 * A function run in a child process, not a program: `sre run` runs each
 * step of its loop so (cmd/run.c says why). fn runs in a forked child of
 * its own process group, with SIGINT and SIGTERM caught and dropped (the
 * work under way finishes; a handler, not SIG_IGN, so what it execs stops
 * on them as usual), and writes lines to fd; its return is the child's
 * exit (0 or 1). The parent hands each line (no newline, at most
 * RUN_FUNCTION_LINE_MAX bytes: longer ones are dropped and said) to line,
 * and calls tick about every 100 ms while it waits: tick returning -1, or
 * the deadline passing, kills the child's whole group with SIGKILL, as a
 * kill -9 would. The child may not use a connection the parent opened
 * (an SQLite store): the caller closes those before.
 */
#define RUN_FUNCTION_LINE_MAX 8192
enum run_function_end {
	RUN_FUNCTION_OK,        /* fn returned 0 */
	RUN_FUNCTION_FAILED,    /* fn returned non-zero, died, or could not start (said) */
	RUN_FUNCTION_OVERRAN,   /* killed at the deadline */
	RUN_FUNCTION_STOPPED,   /* killed because tick said so */
};
struct run_function {
	int (*fn)(void *data, int fd);
	void *data;
	int64_t timeout_ms;
	void (*line)(void *cb, const char *line);
	int (*tick)(void *cb);   /* may be NULL */
	void *cb;
	const char *name;        /* for messages */
};
enum run_function_end run_function(const struct run_function *rf);

#endif
