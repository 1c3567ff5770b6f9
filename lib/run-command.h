/*
 * run-command.h: child processes from an argv vector, never through a shell.
 */
#ifndef SRE_RUN_COMMAND_H
#define SRE_RUN_COMMAND_H

#include "strvec.h"
#include "strbuf.h"

/*
 * Run argv (looked up on PATH) with stdin from /dev/null and stderr passed
 * through, capturing at most max bytes of its stdout into out. Returns the
 * child's exit status (0..255), 128 + signal if it was killed, or -1 if it
 * could not be started or wrote more than max (a message is printed).
 */
int run_command_capture(const char **argv, struct strbuf *out, size_t max);

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
