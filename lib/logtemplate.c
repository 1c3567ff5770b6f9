/*
 * logtemplate.c: the Drain-style template miner of logtemplate.h.
 *
 * Speed is the point: `sre remember templates` reads whole log files and
 * diagnose mines every log it collected, so a line costs one pass to mask
 * (a hand-written scanner, no regex), one to split and hash its tokens,
 * and then usually one hash lookup: a template that has no <*> is found
 * by the hash of the whole token sequence, which gives what Drain's leaf
 * scan would (only an exact match scores 1.0, and it sits in the leaf the
 * same tokens route to). Only lines with variables walk the tree and
 * compare against the templates of their leaf, token hash against token
 * hash, stopping as soon as a template cannot reach the threshold.
 *
 * Nothing is allocated per line: the masked text and the tokens live in
 * buffers of the miner sized for the longest line read. A template owns
 * one block (its token hashes, offsets and the masked text of the line
 * that made it) and its printable text, rebuilt only when it widens,
 * which happens at most once per token.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "logtemplate.h"
#include "config.h"
#include "util.h"

#define WILD 0  /* the hash of <*>; real token hashes are odd */

struct token {
	uint64_t hash;
	uint32_t off, len;  /* in the masked text */
};

struct cluster {
	struct logtemplate pub;
	uint32_t ntok;
	uint64_t *hash;     /* ntok; WILD where the template has <*> */
	uint32_t *off, *len;
	char *chars;        /* the masked text of the line that made it */
	struct strbuf text;
	char *example;
};

struct node;

struct child {
	uint64_t hash;
	const char *key;    /* the token (a copy owned by the node) */
	uint32_t len;
	struct node *node;
};

struct node {
	struct child *child;       /* open addressing, cap a power of 2 */
	uint32_t nchild, cap;      /* nchild counts wild too, as Drain3's dict does */
	struct node *wild;
	uint32_t *leaf;            /* the templates of a leaf, oldest first */
	uint32_t nleaf, leaf_alloc;
};

struct exact {
	uint64_t hash;             /* 0: empty */
	uint32_t id;
};

struct logtemplate_miner {
	struct logtemplate_options o;
	uint64_t seed;
	struct node *bylen[LOGTEMPLATE_TOKENS_MAX + 1];
	struct cluster **c;
	size_t nc, alloc_c;
	size_t other;              /* the id of LOGTEMPLATE_OTHER, or LOGTEMPLATE_NONE */
	size_t bytes;              /* what the templates hold */
	struct exact *exact;
	size_t exact_nr, exact_cap;
	char *buf;                 /* the masked line */
	size_t buf_cap;
	struct token tok[LOGTEMPLATE_TOKENS_MAX];
};

/* ---- options ---- */

void logtemplate_options_init(struct logtemplate_options *o)
{
	o->depth = 4;
	o->similarity = 0.4;
	o->max_children = 100;
}

static int int_key(const struct config *cfg, const char *key, int min, int max, int *out)
{
	long long v;
	int r = config_get_int(cfg, key, &v);

	if (r < 0)
		return -1;
	if (r > 0)
		return 0;
	if (v < min || v > max)
		return error("%s is %lld; it takes a whole number from %d to %d", key, v, min, max);
	*out = (int)v;
	return 0;
}

int logtemplate_options_read(struct logtemplate_options *o, const struct config *cfg)
{
	const char *key = "remember.template-similarity";
	const char *v = config_get_string(cfg, key);

	logtemplate_options_init(o);
	if (int_key(cfg, "remember.template-depth", 3, 16, &o->depth) < 0 ||
	    int_key(cfg, "remember.template-max-children", 1, 10000, &o->max_children) < 0)
		return -1;
	if (v) {
		char *end;
		double d = strtod(v, &end);
		if (end == v || *end || !(d >= 0 && d <= 1))
			return error("%s is \"%s\"; it takes a number from 0 to 1", key, v);
		o->similarity = d;
	}
	return 0;
}

/* ---- masking ---- */

static inline int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static inline int is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Blanks and control characters split tokens. */
static inline int is_sep(int c)
{
	return c <= ' ' || c == 0x7f;
}

/* After these a new word starts. */
static inline int is_delim(int c)
{
	switch (c) {
	case '=': case '(': case '[': case '{': case '<': case ',': case ':':
	case ';': case '|': case '/': case '-':
		return 1;
	}
	return 0;
}

/* Can a masked word end before q? */
static inline int boundary(const char *q, const char *e)
{
	if (q >= e)
		return 1;
	switch (*q) {
	case ',': case ';': case ')': case ']': case '}': case '>': case '"': case '\'':
	case '|': case '/': case '=': case '-': case ':': case '(': case '[':
		return 1;
	case '.':
		return q + 1 >= e || !(is_alpha(q[1]) || is_digit(q[1]));
	}
	return is_sep((unsigned char)*q);
}

static size_t ndigits(const char *p, const char *e, size_t max)
{
	size_t n = 0;

	while (p + n < e && n < max && is_digit(p[n]))
		n++;
	return n;
}

static size_t match_uuid(const char *p, const char *e)
{
	if (e - p < 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (p[i] != '-')
				return 0;
		} else if (!is_hex(p[i])) {
			return 0;
		}
	}
	return 36;
}

static size_t match_ipv4(const char *p, const char *e)
{
	const char *q = p;
	size_t n;

	for (int i = 0; i < 4; i++) {
		if (i) {
			if (q >= e || *q != '.')
				return 0;
			q++;
		}
		if (!(n = ndigits(q, e, 3)))
			return 0;
		q += n;
	}
	if (q + 1 < e && *q == ':' && is_digit(q[1]))
		q += 1 + ndigits(q + 1, e, 5);
	return (size_t)(q - p);
}

/* hh:mm[:ss[.frac]][zone] */
static size_t match_time(const char *p, const char *e)
{
	const char *q = p;
	size_t n = ndigits(q, e, 2);

	if (!n || q + n + 2 >= e || q[n] != ':' || ndigits(q + n + 1, e, 2) != 2)
		return 0;
	q += n + 3;
	if (q + 2 < e && *q == ':' && ndigits(q + 1, e, 2) == 2) {
		q += 3;
		if (q + 1 < e && (*q == '.' || *q == ',') && is_digit(q[1]))
			q += 1 + ndigits(q + 1, e, 12);
	}
	if (q < e && *q == 'Z') {
		q++;
	} else if (q + 2 < e && (*q == '+' || *q == '-') && ndigits(q + 1, e, 2) == 2) {
		q += 3;
		if (q + 2 < e && *q == ':' && ndigits(q + 1, e, 2) == 2)
			q += 3;
		else if (ndigits(q, e, 2) == 2)
			q += 2;
	}
	return (size_t)(q - p);
}

static size_t match_ts(const char *p, const char *e)
{
	const char *q = p;
	size_t a = ndigits(q, e, 4), b, c;

	if (a == 4 && q + 10 <= e && q[4] == '-' && ndigits(q + 5, e, 2) == 2 && q[7] == '-' &&
	    ndigits(q + 8, e, 2) == 2) {
		q += 10;                                        /* 2024-01-15 */
	} else if (a && q + a < e && q[a] == '/') {
		const char *r = q + a + 1;
		if ((b = ndigits(r, e, 2)) && r + b < e && r[b] == '/' &&
		    (c = ndigits(r + b + 1, e, 4)) >= 2)
			q = r + b + 1 + c;                      /* 24/01/15 */
		else if (a <= 2 && r + 8 <= e && is_alpha(r[0]) && is_alpha(r[1]) && is_alpha(r[2]) &&
			 r[3] == '/' && ndigits(r + 4, e, 4) == 4)
			q = r + 8;                              /* 15/Jan/2024 */
		else
			return 0;
	} else {
		return match_time(p, e);
	}
	if (q + 1 < e && (*q == 'T' || *q == ':' || *q == '_') && is_digit(q[1])) {
		size_t t = match_time(q + 1, e);
		if (t)
			q += 1 + t;
	}
	return (size_t)(q - p);
}

/* IPv6 (fe80::1, 2001:db8:0:0:0:0:0:1), with :: or eight groups; a trailing :port is not taken. */
static size_t match_ipv6(const char *p, const char *e)
{
	const char *q = p;
	int colons = 0, dbl = 0, group = 0, groups = 0;

	while (q < e && (is_hex(*q) || *q == ':')) {
		if (*q == ':') {
			if (q + 1 < e && q[1] == ':') {
				if (dbl)
					break;
				dbl = 1;
				colons++;
				q++;
			}
			colons++;
			group = 0;
		} else if (++group > 4) {
			return 0;
		} else if (group == 1) {
			groups++;
		}
		q++;
	}
	if (!groups || colons < 2 || (!dbl && colons != 7))
		return 0;
	/* "a:b:" ends with a colon that belongs to what follows. */
	if (q[-1] == ':' && !(q - p >= 2 && q[-2] == ':'))
		q--;
	return (size_t)(q - p);
}

/* [+-]digits(.digits)*[e[+-]digits] and a unit of up to five letters, or %. */
static size_t match_number(const char *p, const char *e)
{
	const char *q = p, *u;
	size_t n;

	if (q < e && (*q == '+' || *q == '-'))
		q++;
	if (!(n = ndigits(q, e, 64)))
		return 0;
	q += n;
	while (q + 1 < e && *q == '.' && is_digit(q[1]))
		q += 1 + ndigits(q + 1, e, 64);
	if (q + 1 < e && (*q == 'e' || *q == 'E')) {
		const char *r = q + 1;
		if (r < e && (*r == '+' || *r == '-'))
			r++;
		if ((n = ndigits(r, e, 4)))
			q = r + n;
	}
	u = q;
	while (q < e && is_alpha(*q) && q - u < 6)
		q++;
	if (q - u > 5)
		return 0;
	if (q == u && q < e && *q == '%')
		q++;
	return (size_t)(q - p);
}

/* 0x1f, or a hex id of 8 or more digits with a decimal digit and a letter. */
static size_t match_hex(const char *p, const char *e)
{
	const char *q = p;
	int digit = 0, letter = 0;

	if (q + 2 < e && q[0] == '0' && (q[1] == 'x' || q[1] == 'X') && is_hex(q[2])) {
		q += 2;
		while (q < e && is_hex(*q))
			q++;
		return (size_t)(q - p);
	}
	while (q < e && is_hex(*q)) {
		digit |= is_digit(*q);
		letter |= !is_digit(*q);
		q++;
	}
	return q - p >= 8 && digit && letter ? (size_t)(q - p) : 0;
}

static inline int path_char(int c)
{
	switch (c) {
	case '"': case '\'': case ',': case ';': case ')': case ']': case '}': case '>':
	case '|': case '<':
		return 0;
	}
	return !is_sep(c);
}

static size_t match_path(const char *p, const char *e)
{
	const char *q = p + 1;

	if (q >= e || !(is_alpha(*q) || is_digit(*q) || *q == '_' || *q == '.' || *q == '~'))
		return 0;
	while (q < e && path_char((unsigned char)*q))
		q++;
	/* A full stop or colon that ends the sentence is not the path's. */
	while (q > p + 2 && (q[-1] == '.' || q[-1] == ':'))
		q--;
	return (size_t)(q - p);
}

static size_t match_url(const char *p, const char *e)
{
	const char *q = p;

	while (q < e && q - p < 16 && (is_alpha(*q) || is_digit(*q) || *q == '+' || *q == '.' || *q == '-'))
		q++;
	if (e - q < 4 || q[0] != ':' || q[1] != '/' || q[2] != '/')
		return 0;
	q += 3;
	while (q < e && path_char((unsigned char)*q))
		q++;
	while (q[-1] == '.' || q[-1] == ':')
		q--;
	return (size_t)(q - p);
}

/*
 * The mask of the word at p (and its length in *mlen), and how long the
 * word is, or 0. Most words are plain: each matcher is tried only when
 * the character after the word's run of digits could start its form, so
 * a plain word costs a scan of its head.
 */
static size_t match_word(const char *p, const char *e, const char **mask, size_t *mlen)
{
	int c = (unsigned char)*p;
	size_t n;

#define TRY(fn, m) \
	do { \
		if ((n = fn(p, e)) && boundary(p + n, e)) { \
			*mask = m; \
			*mlen = sizeof(m) - 1; \
			return n; \
		} \
	} while (0)
	if (is_digit(c)) {
		size_t d = ndigits(p, e, 64);
		int nx = p + d < e ? (unsigned char)p[d] : 0;

		if (is_hex(nx) || (d == 8 && nx == '-')) {
			TRY(match_uuid, "<UUID>");
			TRY(match_hex, "<HEX>");
		}
		if (nx == 'x' || nx == 'X')
			TRY(match_hex, "<HEX>");
		if (nx == '.')
			TRY(match_ipv4, "<IP>");
		if (nx == '-' || nx == '/' || nx == ':')
			TRY(match_ts, "<TS>");
		if (nx == ':' || is_hex(nx))
			TRY(match_ipv6, "<IP>");
		TRY(match_number, "<NUM>");
	} else if (is_hex(c)) {
		size_t h = 1;
		int nx;

		while (p + h < e && h < 40 && is_hex(p[h]))
			h++;
		nx = p + h < e ? (unsigned char)p[h] : 0;
		if (h == 8 && nx == '-')
			TRY(match_uuid, "<UUID>");
		if (nx == ':')
			TRY(match_ipv6, "<IP>");
		if (h >= 8)
			TRY(match_hex, "<HEX>");
	} else if (c == '+' || c == '-') {
		if (p + 1 < e && is_digit(p[1]))
			TRY(match_number, "<NUM>");
	} else if (c == ':') {
		if (p + 1 < e && p[1] == ':')
			TRY(match_ipv6, "<IP>");
	} else if (c == '/') {
		TRY(match_path, "<PATH>");
	}
#undef TRY
	return 0;
}

/* Is [p, q) a URL's scheme (a letter, then letters, digits, + . -)? */
static int is_scheme(const char *p, const char *q)
{
	if (p >= q || q - p > 16 || !is_alpha(*p))
		return 0;
	for (; p < q; p++)
		if (!(is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '.' || *p == '-'))
			return 0;
	return 1;
}

/* Keys whose quoted values are prose: their words are masked, not the whole. */
static int prose_key(const char *k, size_t n)
{
	static const char *const keys[] = {
		"msg", "message", "log", "error", "err", "reason", "event", "text",
		"description", "detail", "summary",
	};

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strlen(keys[i]) == n && !strncasecmp(keys[i], k, n))
			return 1;
	return 0;
}

/* The closing quote of the string opened at p, within 4 KiB, or NULL. */
static const char *closing_quote(const char *p, const char *e)
{
	const char *q = p + 1, *lim = e - p > 4096 ? p + 4096 : e;

	for (; q < lim; q++) {
		if (*q == '\\')
			q++;
		else if (*q == *p)
			return q;
	}
	return NULL;
}

/* How long the valid UTF-8 character at p is, or 0. */
static size_t utf8_char(const unsigned char *p, const unsigned char *e)
{
	unsigned c = p[0];
	size_t n;
	unsigned min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000;
	else
		return 0;
	if ((size_t)(e - p) < n)
		return 0;
	{
		unsigned cp = c & (0x7f >> n);
		for (size_t i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return n;
}

/* Past an ANSI escape sequence (CSI: ESC [ params final) at p. */
static const char *skip_escape(const char *p, const char *e)
{
	p++;
	if (p < e && *p == '[') {
		p++;
		while (p < e && (unsigned char)*p >= 0x20 && (unsigned char)*p <= 0x3f)
			p++;
		while (p < e && (unsigned char)*p >= 0x20 && (unsigned char)*p <= 0x2f)
			p++;
		if (p < e && (unsigned char)*p >= 0x40 && (unsigned char)*p <= 0x7e)
			p++;
	} else if (p < e) {
		p++;
	}
	return p;
}

/* One byte or character at *pp copied as text is copied: '?' for what cannot be shown. */
static char *copy_char(char *o, const char **pp, const char *e, int *sep)
{
	const unsigned char *p = (const unsigned char *)*pp;
	size_t k = utf8_char(p, (const unsigned char *)e);

	*sep = 0;
	if (!k) {
		*o++ = '?';
		k = 1;
	} else if (k == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
		*sep = 1;  /* a C1 control character */
	} else {
		memcpy(o, p, k);
		o += k;
	}
	*pp += k;
	return o;
}

/*
 * Mask s[0..n) into out, which has room for 6 * n + 16 bytes (the most a
 * mask grows: "1" -> "<NUM>"). Tokens are separated by one blank, with
 * none before or after. Returns the length.
 */
static size_t mask_into(char *out, const char *s, size_t n)
{
	const char *p = s, *e = s + n;
	char *o = out, *word_out = out;
	const char *word_in = s;   /* where the word began, in the line and in out */
	int word = 1, prose = 0, sep;

	while (p < e) {
		int c = (unsigned char)*p;

		if (c == 0x1b) {
			p = skip_escape(p, e);
			continue;
		}
		if (is_sep(c)) {
			if (o > out && o[-1] != ' ')
				*o++ = ' ';
			p++;
			word = 1;
			word_out = o;
			word_in = p;
			continue;
		}
		if (word) {
			const char *mask;
			size_t k, ml;

			if (c == '"' || c == '\'') {
				const char *q = closing_quote(p, e), *a;
				if (q) {
					for (a = q + 1; a < e && (*a == ' ' || *a == '\t'); a++)
						;
					if (a < e && (*a == ':' || *a == '=')) {
						/* A key: kept as it is, and it says what its value holds. */
						prose = prose_key(p + 1, (size_t)(q - p - 1));
						*o++ = (char)c;
						for (p++; p < q;) {
							unsigned char b = (unsigned char)*p;
							if (b < 0x20 || b == 0x7f) {
								*o++ = '?';
								p++;
								continue;
							}
							o = copy_char(o, &p, e, &sep);
							if (sep)
								*o++ = '?';
						}
						*o++ = (char)c;
						p = q + 1;
						word = 0;
						continue;
					}
					if (prose) {
						*o++ = (char)c;
						p++;
						prose = 0;
						word_out = o;
						word_in = p;
						continue;
					}
					memcpy(o, "<STR>", 5);
					o += 5;
					p = q + 1;
					word = 0;
					continue;
				}
			}
			/* The value of a prose key is the word after its ':' or '='. */
			if (c != ':' && c != '=')
				prose = 0;
			if ((k = match_word(p, e, &mask, &ml))) {
				memcpy(o, mask, ml);
				o += ml;
				p += k;
				word = 0;
				continue;
			}
		}
		if (c >= 0x80) {
			o = copy_char(o, &p, e, &sep);
			if (sep) {
				if (o > out && o[-1] != ' ')
					*o++ = ' ';
				word = 1;
				word_out = o;
				word_in = p;
			} else {
				word = 0;
			}
			continue;
		}
		/* A URL is seen at its "://", which is rarer than a word's start. */
		if (c == ':' && e - p > 2 && p[1] == '/' && p[2] == '/' && is_scheme(word_in, p)) {
			size_t k = match_url(word_in, e);
			if (k && boundary(word_in + k, e)) {
				o = word_out;
				memcpy(o, "<URL>", 5);
				o += 5;
				p = word_in + k;
				word = 0;
				continue;
			}
		}
		*o++ = (char)c;
		p++;
		if ((word = is_delim(c))) {
			/* logfmt: msg="..." holds prose. */
			if (c == '=')
				prose = prose_key(word_out, (size_t)(o - 1 - word_out));
			word_out = o;
			word_in = p;
		}
	}
	if (o > out && o[-1] == ' ')
		o--;
	return (size_t)(o - out);
}

void logtemplate_mask(struct strbuf *out, const char *line, size_t len)
{
	size_t n;

	if (len > LOGTEMPLATE_LINE_MAX)
		len = LOGTEMPLATE_LINE_MAX;
	strbuf_grow(out, 6 * len + 16);
	n = mask_into(out->buf + out->len, line, len);
	strbuf_setlen(out, out->len + n);
}

/* ---- tokens ---- */

static inline uint64_t hash_bytes(const char *s, size_t n, uint64_t seed)
{
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL), v;

	while (n >= 8) {
		memcpy(&v, s, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
		s += 8;
		n -= 8;
	}
	v = 0;
	memcpy(&v, s, n);
	h = (h ^ v) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return h | 1;
}

/* Split the masked text into m->tok; returns how many. */
static uint32_t tokenize(struct logtemplate_miner *m, const char *s, size_t n)
{
	uint32_t nt = 0;
	size_t i = 0;

	while (i < n) {
		const char *sp;
		size_t len;

		if (nt == LOGTEMPLATE_TOKENS_MAX - 1)
			len = n - i;  /* the rest folds into the last token */
		else
			len = (sp = memchr(s + i, ' ', n - i)) ? (size_t)(sp - s - i) : n - i;
		m->tok[nt].off = (uint32_t)i;
		m->tok[nt].len = (uint32_t)len;
		m->tok[nt].hash = len == 3 && !memcmp(s + i, "<*>", 3) ? WILD :
				  hash_bytes(s + i, len, m->seed);
		nt++;
		i += len + 1;
	}
	return nt;
}

static uint64_t seq_hash(const struct token *t, uint32_t n)
{
	uint64_t h = n * 0x9e3779b97f4a7c15ULL + 1;

	for (uint32_t i = 0; i < n; i++) {
		h = (h ^ t[i].hash) * 0xff51afd7ed558ccdULL;
		h ^= h >> 31;
	}
	return h | 1;
}

static inline int token_is(const struct cluster *c, uint32_t i, const struct token *t,
			   const char *buf)
{
	return c->hash[i] == t->hash && c->len[i] == t->len &&
	       !memcmp(c->chars + c->off[i], buf + t->off, t->len);
}

static int has_digit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (is_digit(s[i]))
			return 1;
	return 0;
}

/* ---- the tree ---- */

static struct node *child_find(const struct node *nd, uint64_t hash, const char *s, uint32_t len)
{
	if (!nd->cap)
		return NULL;
	for (uint32_t i = (uint32_t)hash & (nd->cap - 1);; i = (i + 1) & (nd->cap - 1)) {
		const struct child *ch = &nd->child[i];
		if (!ch->node)
			return NULL;
		if (ch->hash == hash && ch->len == len && !memcmp(ch->key, s, len))
			return ch->node;
	}
}

static void child_put(struct node *nd, uint64_t hash, char *key, uint32_t len, struct node *to)
{
	uint32_t i;

	if (2 * (nd->nchild + 1) > nd->cap) {
		struct child *old = nd->child;
		uint32_t oldcap = nd->cap;
		nd->cap = oldcap ? 2 * oldcap : 8;
		nd->child = xcalloc(nd->cap, sizeof(*nd->child));
		for (uint32_t j = 0; j < oldcap; j++) {
			if (!old[j].node)
				continue;
			for (i = (uint32_t)old[j].hash & (nd->cap - 1); nd->child[i].node;
			     i = (i + 1) & (nd->cap - 1))
				;
			nd->child[i] = old[j];
		}
		free(old);
	}
	for (i = (uint32_t)hash & (nd->cap - 1); nd->child[i].node; i = (i + 1) & (nd->cap - 1))
		;
	nd->child[i].hash = hash;
	nd->child[i].key = key;
	nd->child[i].len = len;
	nd->child[i].node = to;
	nd->nchild++;
}

static void node_free(struct node *nd)
{
	if (!nd)
		return;
	for (uint32_t i = 0; i < nd->cap; i++)
		if (nd->child[i].node) {
			node_free(nd->child[i].node);
			free((char *)nd->child[i].key);
		}
	node_free(nd->wild);
	free(nd->child);
	free(nd->leaf);
	free(nd);
}

/* Drain3's tree_search: the leaf the tokens lead to, or NULL. */
static struct node *route_search(const struct logtemplate_miner *m, uint32_t nt)
{
	struct node *nd = m->bylen[nt];
	int depth = 1, maxd = m->o.depth - 2;

	for (uint32_t i = 0; nd && i < nt; i++) {
		const struct token *t = &m->tok[i];
		struct node *next;

		if (depth >= maxd || depth == (int)nt)
			break;
		next = t->hash == WILD ? NULL : child_find(nd, t->hash, m->buf + t->off, t->len);
		nd = next ? next : nd->wild;
		depth++;
	}
	return nd;
}

static struct node *wild_child(struct node *nd)
{
	if (!nd->wild) {
		nd->wild = xcalloc(1, sizeof(*nd->wild));
		nd->nchild++;
	}
	return nd->wild;
}

/* Drain3's add_seq_to_prefix_tree: the leaf for a new template, made as needed. */
static struct node *route_add(struct logtemplate_miner *m, uint32_t nt)
{
	struct node *nd;
	int depth = 1, maxd = m->o.depth - 2;
	uint32_t max = (uint32_t)m->o.max_children;

	if (!m->bylen[nt])
		m->bylen[nt] = xcalloc(1, sizeof(struct node));
	nd = m->bylen[nt];
	for (uint32_t i = 0; i < nt; i++) {
		const struct token *t = &m->tok[i];
		const char *s = m->buf + t->off;
		struct node *next;

		if (depth >= maxd || depth >= (int)nt)
			break;
		if (t->hash == WILD) {
			next = wild_child(nd);
		} else if ((next = child_find(nd, t->hash, s, t->len))) {
			;
		} else if (has_digit(s, t->len)) {
			next = wild_child(nd);
		} else if (nd->wild ? nd->nchild < max : nd->nchild + 1 < max) {
			next = xcalloc(1, sizeof(*next));
			child_put(nd, t->hash, xstrndup(s, t->len), t->len, next);
		} else {
			next = wild_child(nd);
		}
		nd = next;
		depth++;
	}
	return nd;
}

/*
 * Drain3's fast_match: the template of the leaf with the most equal
 * tokens (ties: the most <*>), if that reaches the threshold.
 */
static size_t leaf_match(const struct logtemplate_miner *m, const struct node *leaf, uint32_t nt,
			 int *full)
{
	size_t best = LOGTEMPLATE_NONE;
	uint32_t best_eq = 0, best_wild = 0, need;

	need = (uint32_t)ceil(m->o.similarity * nt - 1e-9);
	if ((double)need / nt < m->o.similarity)
		need++;
	for (uint32_t k = 0; k < leaf->nleaf; k++) {
		const struct cluster *c = m->c[leaf->leaf[k]];
		uint32_t eq = 0, wild = 0, i;

		for (i = 0; i < nt; i++) {
			if (c->hash[i] == WILD)
				wild++;
			else if (token_is(c, i, &m->tok[i], m->buf))
				eq++;
			if (eq + (nt - i - 1) < need)
				break;
		}
		if (i < nt)
			continue;
		if (best == LOGTEMPLATE_NONE || eq > best_eq || (eq == best_eq && wild > best_wild)) {
			best = leaf->leaf[k];
			best_eq = eq;
			best_wild = wild;
		}
	}
	/* Every token equal or <*>: the template stays as it is. */
	*full = best_eq + best_wild == nt;
	return best;
}

/* ---- templates ---- */

static void exact_put(struct logtemplate_miner *m, uint64_t h, uint32_t id)
{
	size_t i;

	if (2 * (m->exact_nr + 1) > m->exact_cap) {
		struct exact *old = m->exact;
		size_t oldcap = m->exact_cap;
		m->exact_cap = oldcap ? 2 * oldcap : 256;
		m->exact = xcalloc(m->exact_cap, sizeof(*m->exact));
		for (size_t j = 0; j < oldcap; j++) {
			if (!old[j].hash)
				continue;
			for (i = old[j].hash & (m->exact_cap - 1); m->exact[i].hash;
			     i = (i + 1) & (m->exact_cap - 1))
				;
			m->exact[i] = old[j];
		}
		free(old);
	}
	for (i = h & (m->exact_cap - 1); m->exact[i].hash; i = (i + 1) & (m->exact_cap - 1))
		;
	m->exact[i].hash = h;
	m->exact[i].id = id;
	m->exact_nr++;
}

/* The template that is exactly these tokens (no <*>), or LOGTEMPLATE_NONE. */
static size_t exact_find(const struct logtemplate_miner *m, uint64_t h, uint32_t nt)
{
	if (!m->exact_cap)
		return LOGTEMPLATE_NONE;
	for (size_t i = h & (m->exact_cap - 1); m->exact[i].hash; i = (i + 1) & (m->exact_cap - 1)) {
		const struct cluster *c;
		uint32_t j;

		if (m->exact[i].hash != h)
			continue;
		c = m->c[m->exact[i].id];
		if (c->ntok != nt)
			continue;
		for (j = 0; j < nt && token_is(c, j, &m->tok[j], m->buf); j++)
			;
		if (j == nt)
			return m->exact[i].id;
	}
	return LOGTEMPLATE_NONE;
}

static void render(struct cluster *c)
{
	strbuf_setlen(&c->text, 0);
	for (uint32_t i = 0; i < c->ntok; i++) {
		if (i)
			strbuf_addch(&c->text, ' ');
		if (c->hash[i] == WILD)
			strbuf_addstr(&c->text, "<*>");
		else
			strbuf_add(&c->text, c->chars + c->off[i], c->len[i]);
	}
	c->pub.text = c->text.buf;
}

/* The line as an example: cut, colour sequences dropped, control characters '?'. */
static char *make_example(const char *s, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = s, *e = s + n;
	int sep;

	strbuf_grow(&sb, n < LOGTEMPLATE_EXAMPLE_MAX ? n + 4 : LOGTEMPLATE_EXAMPLE_MAX + 8);
	while (p < e && sb.len < LOGTEMPLATE_EXAMPLE_MAX) {
		unsigned char c = (unsigned char)*p;
		if (c == 0x1b) {
			p = skip_escape(p, e);
		} else if (c == '\t') {
			strbuf_addch(&sb, ' ');
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			strbuf_addch(&sb, '?');
			p++;
		} else {
			strbuf_grow(&sb, 4);
			char *o = copy_char(sb.buf + sb.len, &p, e, &sep);
			if (sep)
				*o++ = '?';
			strbuf_setlen(&sb, (size_t)(o - sb.buf));
		}
	}
	if (p < e)
		strbuf_addstr(&sb, "...");
	return strbuf_detach(&sb, NULL);
}

static size_t add_cluster(struct logtemplate_miner *m, struct cluster *c)
{
	ALLOC_GROW(m->c, m->nc + 1, m->alloc_c);
	m->c[m->nc] = c;
	return m->nc++;
}

static size_t other(struct logtemplate_miner *m, const char *line, size_t len)
{
	struct cluster *c;

	if (m->other != LOGTEMPLATE_NONE)
		return m->other;
	c = xcalloc(1, sizeof(*c));
	strbuf_init(&c->text, 0);
	strbuf_addstr(&c->text, LOGTEMPLATE_OTHER);
	c->pub.text = c->text.buf;
	c->example = make_example(line, len);
	c->pub.example = c->example;
	return m->other = add_cluster(m, c);
}

static size_t create(struct logtemplate_miner *m, uint32_t nt, size_t n, uint64_t sh,
		     const char *line, size_t len)
{
	/*
	 * What it will hold: its block, its text, the keys its tokens may add
	 * to the tree (at most the masked line again), the nodes, the example.
	 */
	size_t need = nt * (sizeof(uint64_t) + 2 * sizeof(uint32_t)) + 3 * n + 3 +
		      (size_t)m->o.depth * sizeof(struct node) +
		      (len < LOGTEMPLATE_EXAMPLE_MAX ? len : LOGTEMPLATE_EXAMPLE_MAX);
	struct node *leaf;
	struct cluster *c;
	size_t id;
	char *block;

	if (m->nc - (m->other != LOGTEMPLATE_NONE) >= LOGTEMPLATE_MAX ||
	    m->bytes + need > LOGTEMPLATE_BYTES_MAX)
		return other(m, line, len);
	leaf = route_add(m, nt);
	/* A leaf that holds too much would make every line that reaches it slow. */
	if ((size_t)(leaf->nleaf + 1) * nt > LOGTEMPLATE_LEAF_BUDGET && leaf->nleaf)
		return other(m, line, len);
	c = xcalloc(1, sizeof(*c));
	block = xmalloc(nt * (sizeof(uint64_t) + 2 * sizeof(uint32_t)) + n + 1);
	c->hash = (uint64_t *)(void *)block;
	c->off = (uint32_t *)(void *)(block + nt * sizeof(uint64_t));
	c->len = c->off + nt;
	c->chars = (char *)(c->len + nt);
	memcpy(c->chars, m->buf, n);
	c->chars[n] = '\0';
	c->ntok = nt;
	for (uint32_t i = 0; i < nt; i++) {
		c->hash[i] = m->tok[i].hash;
		c->off[i] = m->tok[i].off;
		c->len[i] = m->tok[i].len;
	}
	strbuf_init(&c->text, n + 1);
	render(c);
	c->example = make_example(line, len);
	c->pub.example = c->example;
	m->bytes += need;
	id = add_cluster(m, c);
	ALLOC_GROW(leaf->leaf, leaf->nleaf + 1, leaf->leaf_alloc);
	leaf->leaf[leaf->nleaf++] = (uint32_t)id;
	exact_put(m, sh, (uint32_t)id);
	return id;
}

/* Drain3's create_template: the tokens that differ become <*>. */
static void widen(struct logtemplate_miner *m, struct cluster *c)
{
	int changed = 0;

	for (uint32_t i = 0; i < c->ntok; i++)
		if (c->hash[i] != WILD && !token_is(c, i, &m->tok[i], m->buf)) {
			c->hash[i] = WILD;
			changed = 1;
		}
	if (changed)
		render(c);
}

static size_t mine(struct logtemplate_miner *m, const char *line, size_t len,
		   const char *example, size_t example_len)
{
	size_t n, id;
	uint32_t nt;
	uint64_t sh;
	struct node *leaf;
	int full;

	if (len > LOGTEMPLATE_LINE_MAX)
		len = LOGTEMPLATE_LINE_MAX;
	if (6 * len + 16 > m->buf_cap) {
		m->buf_cap = 6 * len + 16;
		free(m->buf);
		m->buf = xmalloc(m->buf_cap);
	}
	n = mask_into(m->buf, line, len);
	if (!(nt = tokenize(m, m->buf, n)))
		return LOGTEMPLATE_NONE;
	sh = seq_hash(m->tok, nt);
	if ((id = exact_find(m, sh, nt)) != LOGTEMPLATE_NONE)
		return id;
	if ((leaf = route_search(m, nt)) &&
	    (id = leaf_match(m, leaf, nt, &full)) != LOGTEMPLATE_NONE) {
		if (!full)
			widen(m, m->c[id]);
		return id;
	}
	return create(m, nt, n, sh, example, example_len);
}

size_t logtemplate_add(struct logtemplate_miner *m, const char *line, size_t len)
{
	size_t id = mine(m, line, len, line, len);

	if (id != LOGTEMPLATE_NONE)
		m->c[id]->pub.count++;
	return id;
}

size_t logtemplate_add_text(struct logtemplate_miner *m, const char *text, size_t len)
{
	const char *p = text, *e = text + len;
	size_t n = 0;

	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(e - p);
		n += logtemplate_add(m, p, l) != LOGTEMPLATE_NONE;
		p += l + 1;
	}
	return n;
}

int logtemplate_add_fd(struct logtemplate_miner *m, int fd, size_t *lines)
{
	size_t cap = 1 << 20, len = 0, n = 0;
	char *buf = xmalloc(cap);
	int skipping = 0;  /* in a line longer than the buffer, past its head */

	for (;;) {
		ssize_t r = read(fd, buf + len, cap - len);
		const char *p = buf, *e, *nl;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			*lines = n;
			return -1;
		}
		if (!r)
			break;
		len += (size_t)r;
		e = buf + len;
		while ((nl = memchr(p, '\n', (size_t)(e - p)))) {
			if (!skipping)
				n += logtemplate_add(m, p, (size_t)(nl - p)) != LOGTEMPLATE_NONE;
			skipping = 0;
			p = nl + 1;
		}
		if (p == buf && len == cap) {
			/* The buffer (past LOGTEMPLATE_LINE_MAX) holds no newline: its head is the line. */
			if (!skipping)
				n += logtemplate_add(m, buf, len) != LOGTEMPLATE_NONE;
			skipping = 1;
			len = 0;
			continue;
		}
		len = (size_t)(e - p);
		memmove(buf, p, len);
	}
	if (len && !skipping)
		n += logtemplate_add(m, buf, len) != LOGTEMPLATE_NONE;
	free(buf);
	*lines = n;
	return 0;
}

size_t logtemplate_seed(struct logtemplate_miner *m, const char *text, const char *example,
			long long tag)
{
	size_t id = mine(m, text, strlen(text), example ? example : text,
			 strlen(example ? example : text));

	if (id != LOGTEMPLATE_NONE && !m->c[id]->pub.tag)
		m->c[id]->pub.tag = tag;
	return id;
}

struct logtemplate_miner *logtemplate_new(const struct logtemplate_options *o)
{
	struct logtemplate_miner *m = xcalloc(1, sizeof(*m));

	if (o)
		m->o = *o;
	else
		logtemplate_options_init(&m->o);
	/* Seeded per miner, so no input can be made to collide on purpose. */
	m->seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)m;
	m->other = LOGTEMPLATE_NONE;
	return m;
}

void logtemplate_free(struct logtemplate_miner *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(m->bylen); i++)
		node_free(m->bylen[i]);
	for (size_t i = 0; i < m->nc; i++) {
		struct cluster *c = m->c[i];
		free(c->hash);
		strbuf_release(&c->text);
		free(c->example);
		free(c);
	}
	free(m->c);
	free(m->exact);
	free(m->buf);
	free(m);
}

size_t logtemplate_count(const struct logtemplate_miner *m)
{
	return m->nc;
}

const struct logtemplate *logtemplate_get(const struct logtemplate_miner *m, size_t id)
{
	return id < m->nc ? &m->c[id]->pub : NULL;
}

static int by_count(const void *a, const void *b, void *arg)
{
	const struct logtemplate_miner *m = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	long long cx = m->c[x]->pub.count, cy = m->c[y]->pub.count;

	if (cx != cy)
		return cx > cy ? -1 : 1;
	return x < y ? -1 : x > y;
}

size_t logtemplate_by_count(const struct logtemplate_miner *m, size_t **out)
{
	size_t n = 0;

	*out = xmalloc((m->nc ? m->nc : 1) * sizeof(**out));
	for (size_t i = 0; i < m->nc; i++)
		if (m->c[i]->pub.count)
			(*out)[n++] = i;
	qsort_r(*out, n, sizeof(**out), by_count, (void *)m);
	return n;
}
