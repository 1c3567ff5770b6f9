/*
 * util.h: what every file in lib/ and cmd/ includes first.
 *
 * The allocation wrappers abort on out-of-memory instead of returning NULL:
 * there is nothing sensible a caller could do, and it keeps every call site
 * honest. abort() is not an exit path: lib/ still never calls exit().
 *
 * Messages follow git's three ways to complain:
 *   error()   prints "error: ..." and returns -1 so the caller can unwind;
 *   warning() prints "warning: ..." and goes on;
 *   die()     prints "fatal: ..." and exits 128 (cmd/ only).
 */
#ifndef SRE_UTIL_H
#define SRE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SRE_NORETURN __attribute__((__noreturn__))
#define SRE_PRINTF(fmt, args) __attribute__((__format__(__printf__, fmt, args)))

/* Exit codes, as DESIGN.md and every man page state them. */
enum {
	EXIT_FOUND = 1,        /* "something found" / not found, where documented */
	EXIT_FATAL = 128,
	EXIT_USAGE = 129,
	EXIT_INTERRUPTED = 130,
};

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xstrfmt(const char *fmt, ...) SRE_PRINTF(1, 2);

/* Grow an array so that it holds at least n items: ALLOC_GROW(v, n, alloc). */
#define ALLOC_GROW(x, nr, alloc) \
	do { \
		if ((nr) > (alloc)) { \
			(alloc) = (alloc) < 8 ? 8 : (alloc) * 2; \
			if ((alloc) < (nr)) \
				(alloc) = (nr); \
			(x) = xrealloc((x), (alloc) * sizeof(*(x))); \
		} \
	} while (0)

int error(const char *fmt, ...) SRE_PRINTF(1, 2);
int error_errno(const char *fmt, ...) SRE_PRINTF(1, 2);

/*
 * Make the missing directories above path (not path itself) with mode.
 * 0, or -1 after error_errno() naming the one that could not be made.
 */
int mkdir_parents(const char *path, mode_t mode);
void warning(const char *fmt, ...) SRE_PRINTF(1, 2);
SRE_NORETURN void die(const char *fmt, ...) SRE_PRINTF(1, 2);
SRE_NORETURN void die_errno(const char *fmt, ...) SRE_PRINTF(1, 2);

/*
 * Tests and `sre` itself may redirect where messages go (for example to
 * capture them); the default writes to stderr. die() is a pointer so that
 * lib/ can be linked into unit tests without ever exiting from lib/.
 */
extern SRE_NORETURN void (*die_routine)(const char *prefix, const char *msg);

int starts_with(const char *s, const char *prefix);
int skip_prefix(const char *s, const char *prefix, const char **out);
int ends_with(const char *s, const char *suffix);

/* Parse a whole decimal string into a long long; 0 on success, -1 otherwise. */
int parse_ll(const char *s, long long *out);

/*
 * Tests only (like git's GIT_TEST_* variables): when $SRE_TEST_CRASH_AT
 * names this point, the process kills itself with SIGKILL here, as a
 * power cut or the OOM killer would, so that a test can prove the next
 * run recovers. Points: "action-started", "action-failed",
 * "outbox-sent", "evidence-writing".
 */
void test_crash_point(const char *name);

/* Write all of buf to fd, through short writes and EINTR: 0, or -1 with errno set. */
int write_in_full(int fd, const void *buf, size_t len);

/*
 * The Levenshtein distance from a to b: how many characters must be
 * inserted, deleted or replaced to make one the other (for "did you mean").
 */
size_t edit_distance(const char *a, const char *b);

/*
 * How many of the first len bytes of s to keep so that at most max are
 * kept and no UTF-8 character is cut in two: a cut for display or for a
 * ticket. Invalid UTF-8 is cut where it stands.
 */
size_t utf8_cut(const char *s, size_t len, size_t max);

/*
 * s when it holds at most max_chars characters, else its first
 * max_chars - 1 whole characters and "…": a line for a field that counts
 * characters (a GitHub title, a JIRA summary). The caller frees.
 */
char *utf8_shorten(const char *s, size_t max_chars);

#include "banned.h"

#endif
