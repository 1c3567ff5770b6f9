/*
 * timeutil.c: durations and ISO 8601 timestamps; see timeutil.h.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>

#include "timeutil.h"

int parse_duration_ms(const char *s, int64_t *out_ms)
{
	int64_t total = 0;
	int parts = 0;

	if (!s)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	while (*s) {
		int64_t n = 0, mult;
		int digits = 0;

		while (isdigit((unsigned char)*s)) {
			if (n > (INT64_MAX - 9) / 10)
				return -1;
			n = n * 10 + (*s++ - '0');
			digits++;
		}
		if (!digits)
			return -1;
		if (!strncmp(s, "ms", 2)) {
			mult = 1;
			s += 2;
		} else if (*s == 's') {
			mult = 1000;
			s++;
		} else if (*s == 'm') {
			mult = 60 * 1000;
			s++;
		} else if (*s == 'h') {
			mult = 3600 * 1000;
			s++;
		} else if (*s == 'd') {
			mult = 86400 * 1000;
			s++;
		} else if (*s == 'w') {
			mult = 7 * 86400 * (int64_t)1000;
			s++;
		} else if (!*s || isspace((unsigned char)*s)) {
			if (parts)
				return -1; /* "1h30" is ambiguous */
			mult = 1000;
		} else {
			return -1;
		}
		if (n > (INT64_MAX - total) / mult)
			return -1;
		total += n * mult;
		parts++;
		while (isspace((unsigned char)*s))
			s++;
	}
	if (!parts)
		return -1;
	*out_ms = total;
	return 0;
}

void format_iso8601(char *buf, size_t size, time_t t)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "1970-01-01T00:00:00Z");
}

int parse_iso8601(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;
	char back[32];
	time_t t;

	if (!s)
		return -1;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	t = timegm(&tm);
	/* Only the exact form: no 30 February, no unpadded fields. */
	format_iso8601(back, sizeof(back), t);
	if (strcmp(back, s))
		return -1;
	*out = t;
	return 0;
}

time_t sre_now(void)
{
	const char *fake = getenv("SRE_NOW");
	time_t t;

	if (fake && !parse_iso8601(fake, &t))
		return t;
	return time(NULL);
}

void format_age(char *buf, size_t size, time_t t, time_t now)
{
	long long d = now > t ? (long long)(now - t) : 0;

	if (d < 60)
		snprintf(buf, size, "%llds", d);
	else if (d < 3600)
		snprintf(buf, size, "%lldm", d / 60);
	else if (d < 86400)
		snprintf(buf, size, "%lldh", d / 3600);
	else
		snprintf(buf, size, "%lldd", d / 86400);
}

int parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm;
	const char *p;
	time_t t;

	if (!s)
		return -1;
	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -1;
	t = timegm(&tm);
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
		   isdigit((unsigned char)p[2]) && p[3] == ':' &&
		   isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
		int off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
			  ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
		t += *p == '+' ? -off : off;
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	*out = t;
	return 0;
}

void sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
