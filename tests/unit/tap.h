/*
 * tap.h: a small TAP producer for the unit tests of lib/, read by prove.
 *
 *   int main(void) {
 *       ok(1 + 1 == 2, "addition");
 *       is_str(s, "x", "the name");
 *       return done_testing();
 *   }
 *
 * A failed check prints what was expected and what came, as a TAP comment.
 */
#ifndef SRE_TAP_H
#define SRE_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
	tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)

__attribute__((__format__(__printf__, 4, 5)))
static int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("%sok %d - ", pass ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

#define TAP_MSG(buf, fmt) \
	do { va_list ap; va_start(ap, fmt); vsnprintf(buf, sizeof(buf), fmt, ap); va_end(ap); } while (0)

__attribute__((__format__(__printf__, 5, 6)))
static int tap_is_int(long long got, long long want, const char *file, int line,
		      const char *fmt, ...)
{
	char msg[512];

	TAP_MSG(msg, fmt);
	if (!tap_ok(got == want, file, line, "%s", msg)) {
		printf("#        got: %lld\n#   expected: %lld\n", got, want);
		return 0;
	}
	return 1;
}

__attribute__((__format__(__printf__, 5, 6)))
static int tap_is_str(const char *got, const char *want, const char *file, int line,
		      const char *fmt, ...)
{
	char msg[512];
	int pass = (!got && !want) || (got && want && !strcmp(got, want));

	TAP_MSG(msg, fmt);
	if (!tap_ok(pass, file, line, "%s", msg)) {
		printf("#        got: %s%s%s\n", got ? "'" : "", got ? got : "NULL", got ? "'" : "");
		printf("#   expected: %s%s%s\n", want ? "'" : "", want ? want : "NULL", want ? "'" : "");
		return 0;
	}
	return 1;
}

static int done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
