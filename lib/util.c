/*
 * util.c: allocation wrappers, the error/warning/die family, and a few
 * string predicates used everywhere. See util.h for the conventions.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>

#include "util.h"

static SRE_NORETURN void alloc_failed(size_t size)
{
	fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", size);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		alloc_failed(size);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		alloc_failed(nmemb * size);
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	if (!p)
		alloc_failed(size);
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *xstrfmt(const char *fmt, ...)
{
	va_list ap, cp;
	int len;
	char *p;

	va_start(ap, fmt);
	va_copy(cp, ap);
	len = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (len < 0)
		alloc_failed(0);
	p = xmalloc((size_t)len + 1);
	vsnprintf(p, (size_t)len + 1, fmt, ap);
	va_end(ap);
	return p;
}

static void vreport(const char *prefix, const char *fmt, va_list ap, int errnum)
{
	char msg[4096];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnum)
		fprintf(stderr, "%s%s: %s\n", prefix, msg, strerror(errnum));
	else
		fprintf(stderr, "%s%s\n", prefix, msg);
	fflush(stderr);
}

int error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("error: ", fmt, ap, 0);
	va_end(ap);
	return -1;
}

int error_errno(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vreport("error: ", fmt, ap, e);
	va_end(ap);
	return -1;
}

void warning(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("warning: ", fmt, ap, 0);
	va_end(ap);
}

static SRE_NORETURN void default_die(const char *prefix, const char *msg)
{
	fprintf(stderr, "%s%s\n", prefix, msg);
	fflush(stderr);
	exit(EXIT_FATAL);
}

SRE_NORETURN void (*die_routine)(const char *prefix, const char *msg) = default_die;

void die(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	die_routine("fatal: ", msg);
}

void die_errno(const char *fmt, ...)
{
	char msg[4096];
	int e = errno;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = strlen(msg);
	snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(e));
	die_routine("fatal: ", msg);
}

int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int skip_prefix(const char *s, const char *prefix, const char **out)
{
	size_t n = strlen(prefix);
	if (strncmp(s, prefix, n))
		return 0;
	*out = s + n;
	return 1;
}

int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

int parse_ll(const char *s, long long *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

void test_crash_point(const char *name)
{
	const char *at = getenv("SRE_TEST_CRASH_AT");

	if (at && !strcmp(at, name)) {
		fflush(NULL);
		raise(SIGKILL);
	}
}

int write_in_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

size_t utf8_cut(const char *s, size_t len, size_t max)
{
	size_t n, back = 0;

	if (len <= max)
		return len;
	/* s[max] is the first byte dropped: back off while it continues a
	 * character, at most 3 bytes (the longest tail of a valid one). */
	n = max;
	while (n > 0 && back < 3 && ((unsigned char)s[n] & 0xC0) == 0x80) {
		n--;
		back++;
	}
	if (((unsigned char)s[n] & 0xC0) == 0x80)
		return max; /* not UTF-8: nothing to keep whole */
	return n;
}

char *utf8_shorten(const char *s, size_t max_chars)
{
	size_t chars = 0, i, cut = 0;

	for (i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xC0) == 0x80)
			continue; /* within a character */
		if (chars + 1 == max_chars)
			cut = i; /* where the last character kept would end, if cut */
		if (++chars > max_chars)
			return xstrfmt("%.*s\xe2\x80\xa6", (int)cut, s); /* U+2026 … */
	}
	return xstrdup(s);
}

size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = xcalloc(lb + 1, sizeof(*row)), res;

	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t del = row[j] + 1, ins = row[j - 1] + 1;
			row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			prev = cur;
		}
	}
	res = row[lb];
	free(row);
	return res;
}

int mkdir_parents(const char *path, mode_t mode)
{
	char *copy = xstrdup(path);
	int ret = 0;

	for (char *s = copy + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST) {
			ret = error_errno("cannot create directory %s", copy);
			break;
		}
		*s = '/';
	}
	free(copy);
	return ret;
}
