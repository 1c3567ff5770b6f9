/*
 * progress.h: what sre is waiting on right now, for a live status line.
 *
 * A thread-safe registry of work in flight: each entry names what is
 * waited on (a source: "prometheus", "jaeger", "git"), which try it is
 * ("try 2 of 4") and when it gives up (a monotonic deadline). The HTTP
 * layer (http.c) registers each labelled request and reports every try;
 * diagnose's collectors (collect.c) register each source under their
 * deadline. Registering costs a mutex and nothing more while no one
 * watches.
 *
 * lib/ never writes to the terminal on its own: only when a command has
 * called progress_start() (on a terminal, see cmd/scout.c) does a ticker
 * thread draw one line on that fd, at most ten times a second, rewritten
 * in place ("\r" and erase-line):
 *
 *   sre: waiting for prometheus (try 2 of 4, 27s left)
 *
 * It names what is in flight, never what comes next, shows only what has
 * waited longer than the delay given to progress_start(), is erased by
 * progress_clear() before any message or result, and by progress_stop(),
 * die(), exit and a fatal SIGINT, SIGTERM or SIGHUP, so it is never left
 * behind. This file calls nothing in http.c or collect.c (no cycles).
 */
#ifndef SRE_PROGRESS_H
#define SRE_PROGRESS_H

#include <stdint.h>

/*
 * Register work in flight under name (copied; shown with anything that is
 * not printable as '?'). Returns a handle for progress_update() and
 * progress_end(); -1 (which both accept and ignore) when no name is given.
 */
int progress_begin(const char *name);

/*
 * The try under way (1-based) of tries in all (0 and 0: not a request, no
 * try to show), and the monotonic time in ms it gives up at (0: none).
 */
void progress_update(int handle, int try_no, int tries, int64_t deadline_ms);

/* The work is over: it leaves the line. */
void progress_end(int handle);

/*
 * The status line, as text (without "\r" or escapes), of what has been in
 * flight for delay_ms or more, cut to width columns; "" when nothing has.
 * now_ms on the monotonic clock. Caller frees. Public for the unit test.
 */
char *progress_line(int64_t now_ms, int64_t delay_ms, int width);

/*
 * Draw the status line on fd (a terminal: the caller checked) from now
 * on, for what has waited at least delay_ms. 0, or -1 when no thread could
 * be started (then nothing is drawn; not worth a message).
 */
int progress_start(int fd, int64_t delay_ms);

/* Erase the line now, if one is shown: call before printing anything. */
void progress_clear(void);

/* Erase the line and stop drawing. Safe to call when never started. */
void progress_stop(void);

#endif
