/*
 * run-command.h: child processes from an argv vector, never through a shell.
 */
#ifndef SRE_RUN_COMMAND_H
#define SRE_RUN_COMMAND_H

#include "strvec.h"
#include "strbuf.h"

#include <stdint.h>
#include <sys/types.h>

/*
 * Run argv (looked up on PATH) with stdin from /dev/null and stderr passed
 * through, capturing at most max bytes of its stdout into out, for at most
 * timeout_ms (0: no limit). The child leads a process group of its own, so
 * that when it runs too long or writes too much, it and everything it
 * started (a grandchild holding the pipe open) are killed together with
 * SIGKILL. what names the command in messages ("github.token-command"; NULL:
 * its program), which never show its arguments or output. Returns the
 * child's exit status (0..255), 128 + signal if it was killed by someone
 * else, or -1 if it could not be started, wrote more than max or was cut
 * off ("error: github.token-command ('sleep') was cut off after 10 s").
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

#endif
