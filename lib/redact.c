/*
 * redact.c: masking secrets in text and JSON before they leave the host;
 * see redact.h for the rules and the guarantees.
 *
 * Two passes. The first replaces every registered credential (memmem,
 * linear in the text for each one). The second walks the text once, left
 * to right: at each position only a few fixed-length checks are made, and
 * a matcher that reads ahead (a key, a value, a URL's authority, a PEM
 * body) either masks what it read or lets the walk jump past it, so no
 * byte is read more than a bounded number of times. Every rule starts and
 * stops at an ASCII byte, which is never part of a longer UTF-8 sequence,
 * so a mask never cuts a character in two.
 */
#include <ctype.h>
#include <pthread.h>

#include "redact.h"

#define MASK_OPEN "\xe2\x80\xb9redacted:"  /* U+2039 SINGLE LEFT-POINTING ANGLE QUOTATION MARK */
#define MASK_CLOSE "\xe2\x80\xba"          /* U+203A */
#define MIN_SECRET 4
#define MAX_KEY 128

/* ---- the registry of credentials sre holds ---- */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static char **secrets;
static size_t secrets_nr, secrets_alloc;

void redact_add_secret(const char *secret)
{
	if (!secret || strlen(secret) < MIN_SECRET)
		return;
	pthread_mutex_lock(&registry_lock);
	for (size_t i = 0; i < secrets_nr; i++)
		if (!strcmp(secrets[i], secret))
			goto out;
	ALLOC_GROW(secrets, secrets_nr + 1, secrets_alloc);
	secrets[secrets_nr++] = xstrdup(secret);
out:
	pthread_mutex_unlock(&registry_lock);
}

void redact_forget_secrets(void)
{
	pthread_mutex_lock(&registry_lock);
	for (size_t i = 0; i < secrets_nr; i++) {
		memset(secrets[i], 0, strlen(secrets[i]));
		free(secrets[i]);
	}
	free(secrets);
	secrets = NULL;
	secrets_nr = secrets_alloc = 0;
	pthread_mutex_unlock(&registry_lock);
}

void redact_add_mask(struct strbuf *out, const char *label)
{
	strbuf_addstr(out, MASK_OPEN);
	strbuf_addstr(out, label);
	strbuf_addstr(out, MASK_CLOSE);
}

static int is_mask(const char *t, size_t n, size_t i)
{
	return n - i >= strlen(MASK_OPEN) && !memcmp(t + i, MASK_OPEN, strlen(MASK_OPEN));
}

/* Replace each occurrence of one credential; returns 1 when any was found. */
static int mask_secret(struct strbuf *out, const char *t, size_t n, const char *secret)
{
	size_t m = strlen(secret), i = 0;
	const char *hit;
	int found = 0;

	while (i < n && (hit = memmem(t + i, n - i, secret, m))) {
		strbuf_add(out, t + i, (size_t)(hit - (t + i)));
		redact_add_mask(out, "credential");
		i = (size_t)(hit - t) + m;
		found = 1;
	}
	strbuf_add(out, t + i, n - i);
	return found;
}

/* ---- classes of bytes ---- */

static int is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* What a key (an identifier) is made of: an environment variable, x-api-key, db.password. */
static int is_key_char(int c)
{
	return is_alnum(c) || c == '_' || c == '-' || c == '.';
}

static int is_b64url(int c)
{
	return is_alnum(c) || c == '_' || c == '-';
}

static int is_b64(int c)
{
	return is_alnum(c) || c == '+' || c == '/' || c == '=';
}

static int is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static int starts_with_ci(const char *t, size_t n, size_t i, const char *word)
{
	size_t m = strlen(word);

	if (n - i < m)
		return 0;
	for (size_t k = 0; k < m; k++)
		if (tolower((unsigned char)t[i + k]) != word[k])
			return 0;
	return 1;
}

static int has_at(const char *t, size_t n, size_t i, const char *s)
{
	size_t m = strlen(s);
	return n - i >= m && !memcmp(t + i, s, m);
}

/* ---- the rules ---- */

const char *redact_key_label(const char *key, size_t len)
{
	/* Checked in order on the key's end, so the longer names come first. */
	static const struct { const char *end, *label; } names[] = {
		{ "awssecretaccesskey", "aws-secret" },
		{ "proxyauthorization", "authorization" },
		{ "authorization", "authorization" },
		{ "privatekey", "private-key" },
		{ "secretkey", "secret" },
		{ "accesskey", "access-key" },
		{ "apikey", "api-key" },
		{ "password", "password" },
		{ "passphrase", "password" },
		{ "passwd", "password" },
		{ "secret", "secret" },
		{ "token", "token" },
	};
	char norm[MAX_KEY + 1];
	size_t m = 0;

	if (!key || len > MAX_KEY)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)key[i];
		if (c == '-' || c == '_' || c == '.')
			continue;
		norm[m++] = (char)tolower(c);
	}
	norm[m] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		size_t e = strlen(names[i].end);
		if (m >= e && !memcmp(norm + m - e, names[i].end, e))
			return names[i].label;
	}
	return NULL;
}

/*
 * A PEM private key from its BEGIN line at i: the end of what to mask, or
 * 0. The body runs over base64, blanks and header lines (Proc-Type: 4,
 * ENCRYPTED) to the END line; escaped newlines ("\n" in a JSON log line)
 * count as blanks. Without an END line the mask stops where the body does:
 * at a byte base64 has not, or at a line of words (a blank inside a line
 * that is no header), so a cut-off key does not hide the log after it.
 */
static size_t match_pem(const char *t, size_t n, size_t i)
{
	size_t j = i + strlen("-----BEGIN "), k, line;
	int colon = 0;

	if (!has_at(t, n, i, "-----BEGIN "))
		return 0;
	for (k = j; k < n && k - j < 64 && (isupper((unsigned char)t[k]) || isdigit((unsigned char)t[k]) || t[k] == ' '); k++)
		;
	if (k - j < strlen("PRIVATE KEY") || memcmp(t + k - strlen("PRIVATE KEY"), "PRIVATE KEY", strlen("PRIVATE KEY")) ||
	    !has_at(t, n, k, "-----"))
		return 0;
	line = k + 5;
	for (j = k + 5; j < n; j++) {
		int c = (unsigned char)t[j];

		if (c == '\n') {
			line = j + 1;
			colon = 0;
			continue;
		}
		colon |= c == ':';
		/* A blank inside a line that is no header: prose, the key has ended. */
		if ((c == ' ' || c == '\t') && j > line && !colon && !isspace((unsigned char)t[j - 1]))
			return line > i && t[line - 1] == '\n' ? line - 1 : line;
		if (has_at(t, n, j, "-----END ")) {
			for (k = j + 9; k < n && k - j < 80 && t[k] != '\n'; k++)
				if (has_at(t, n, k, "-----"))
					return k + 5;
			/* Cut short: not inside a character (found by fuzz-redact). */
			while (k < n && k > j && ((unsigned char)t[k] & 0xC0) == 0x80)
				k--;
			return k;
		}
		if (!(is_b64(c) || isspace(c) || c == ':' || c == ',' || c == '-' || c == '\\'))
			break;
	}
	return j;
}

/* A JWT at i (header.payload.signature, both JSON parts "eyJ"): its end, or 0. */
static size_t match_jwt(const char *t, size_t n, size_t i)
{
	size_t j = i;

	for (int part = 0; part < 2; part++) {
		size_t start = j;
		if (!has_at(t, n, j, "eyJ"))
			return 0;
		while (j < n && is_b64url((unsigned char)t[j]))
			j++;
		if (j - start < 10 || j >= n || t[j] != '.')
			return 0;
		j++;
	}
	while (j < n && is_b64url((unsigned char)t[j]))
		j++;
	return j;
}

/* An AWS access key id at i: AKIA or ASIA and 16 of [A-Z0-9]; its end, or 0. */
static size_t match_aws_key(const char *t, size_t n, size_t i)
{
	size_t j;

	if (!has_at(t, n, i, "AKIA") && !has_at(t, n, i, "ASIA"))
		return 0;
	for (j = i + 4; j < n && j < i + 20; j++)
		if (!isupper((unsigned char)t[j]) && !isdigit((unsigned char)t[j]))
			return 0;
	if (j < i + 20 || (j < n && is_alnum((unsigned char)t[j])))
		return 0;
	return j;
}

/*
 * A GitHub token at i, known by the prefix GitHub gives each kind: ghp_,
 * gho_, ghu_, ghs_ or ghr_ and at least 36 letters and digits, or
 * github_pat_ and at least 22 of [A-Za-z0-9_]; its end, or 0. A bare
 * token in a comment or a log line has no key to be known by.
 */
static size_t match_github_token(const char *t, size_t n, size_t i)
{
	static const char *const prefixes[] = { "ghp_", "gho_", "ghu_", "ghs_", "ghr_" };
	size_t j;

	if (has_at(t, n, i, "github_pat_")) {
		for (j = i + 11; j < n && (is_alnum((unsigned char)t[j]) || t[j] == '_'); j++)
			;
		return j - i >= 11 + 22 ? j : 0;
	}
	for (size_t k = 0; k < ARRAY_SIZE(prefixes); k++)
		if (has_at(t, n, i, prefixes[k])) {
			for (j = i + 4; j < n && is_alnum((unsigned char)t[j]); j++)
				;
			return j - i >= 4 + 36 ? j : 0;
		}
	return 0;
}

/*
 * "Bearer <token>" or "Basic <base64>" at i: *start is set to the token,
 * and its end returned, or 0. Ordinary prose ("the bearer of bad news",
 * "Basic authentication failed") does not look like a token: a bearer
 * token needs a digit, an upper-case letter or punctuation; a Basic
 * value is base64 (a multiple of 4 long) with one of those too.
 */
static size_t match_scheme(const char *t, size_t n, size_t i, size_t *start, const char **label)
{
	int basic = starts_with_ci(t, n, i, "basic");
	size_t j = i + (basic ? 5 : 6), k;
	int marked = 0;

	if (!basic && !starts_with_ci(t, n, i, "bearer"))
		return 0;
	if (j >= n || !is_blank(t[j]))
		return 0;
	while (j < n && is_blank(t[j]))
		j++;
	for (k = j; k < n; k++) {
		int c = (unsigned char)t[k];
		if (basic ? !is_b64(c) : !(is_b64url(c) || (c && strchr(".~+/=", c))))
			break;
		if (isdigit(c) || (isupper(c) && k > j) || !is_alnum(c))
			marked = 1;
	}
	if (k - j < 8 || !marked || (basic && (k - j) % 4) || (k < n && is_key_char((unsigned char)t[k])))
		return 0;
	*start = j;
	*label = basic ? "basic" : "bearer";
	return k;
}

/*
 * key=value at i, the key being [i, key_end): when the key names a secret
 * and a value follows (after = or :, quoted or not), *start and *end are
 * the value (without its quotes) and the label is returned; else NULL.
 */
static const char *match_pair(const char *t, size_t n, size_t i, size_t key_end,
			      size_t *start, size_t *end)
{
	const char *label;
	size_t j = key_end;
	int quote = 0, escaped_quote = 0;

	/* The key's own closing quote: "password": ... or \"password\": ... */
	if (i > 0 && j < n && (t[i - 1] == '"' || t[i - 1] == '\'') && t[j] == t[i - 1])
		j++;
	else if (i > 1 && t[i - 1] == '"' && t[i - 2] == '\\' && has_at(t, n, j, "\\\""))
		j += 2;
	while (j < n && is_blank(t[j]))
		j++;
	/* The separator first: most words are no key, and this is cheaper. */
	if (j >= n || (t[j] != '=' && t[j] != ':') ||
	    !(label = redact_key_label(t + i, key_end - i)))
		return NULL;
	j++;
	if (j < n && t[j] == '>') /* Ruby's and Perl's => */
		j++;
	while (j < n && is_blank(t[j]))
		j++;
	if (j < n && (t[j] == '"' || t[j] == '\'')) {
		quote = t[j++];
	} else if (has_at(t, n, j, "\\\"")) {
		escaped_quote = 1;
		j += 2;
	}
	*start = j;
	for (; j < n && t[j] != '\n' && t[j] != '\r'; j++) {
		int c = (unsigned char)t[j];

		if (escaped_quote) {
			if (c == '\\' && j + 1 < n && t[j + 1] == '"')
				break;
		} else if (quote) {
			if (c == '\\' && quote == '"' && j + 1 < n && t[j + 1] != '\n') {
				j++;
				continue;
			}
			if (c == quote)
				break;
		} else if (!strcmp(label, "authorization")) {
			/* A header's value is the rest of the line: "Bearer x", "Digest ...". */
			if (c == '"' || c == '\'' || c == '<' || c == '>' || c == '\\')
				break;
		} else if (isspace(c) || strchr(",;&\"'()[]{}<>\\", c)) {
			break;
		}
	}
	*end = j;
	if (!quote && !escaped_quote)
		while (*end > *start && is_blank(t[*end - 1]))
			(*end)--;
	if (*end == *start || is_mask(t, n, *start))
		return NULL;
	return label;
}

/* The authority of a URL whose "://" is at i: the '@' ending its userinfo, or 0. */
struct authority_cache {
	size_t end, at;
};

static size_t match_userinfo(const char *t, size_t n, size_t i, struct authority_cache *cache)
{
	size_t a = i + 3, k;

	if (!has_at(t, n, i, "://"))
		return 0;
	if (a >= cache->end) {
		/* Another "://" inside the same authority shares its end and '@'. */
		cache->at = 0;
		for (k = a; k < n; k++) {
			int c = (unsigned char)t[k];
			if (isspace(c) || strchr("/?#\"'<>`\\|", c))
				break;
			if (c == '@')
				cache->at = k;
		}
		cache->end = k;
	}
	if (cache->at <= a || is_mask(t, n, a))
		return 0;
	return cache->at;
}

/*
 * Does a key (or a token) start at i? Not inside a word, but after one or
 * two dashes that start one: a command line's --db-password=x.
 */
static int key_starts(const char *t, size_t i)
{
	size_t d = 0;

	while (d < 2 && d < i && t[i - d - 1] == '-')
		d++;
	if (d == i)
		return 1;
	return !is_key_char((unsigned char)t[i - d - 1]);
}

/*
 * Text between masks is copied in runs, not byte by byte: copied is how
 * far t has gone to out, and mask() copies up to from, adds the mask and
 * skips the masked bytes up to to.
 */
static void mask(struct strbuf *out, const char *t, size_t *copied, size_t from, size_t to,
		 const char *label)
{
	strbuf_add(out, t + *copied, from - *copied);
	redact_add_mask(out, label);
	*copied = to;
}

static void scan(struct strbuf *out, const char *t, size_t n)
{
	struct authority_cache cache = { 0, 0 };
	size_t i = 0, copied = 0, end, start;
	const char *label;

	while (i < n) {
		int c = (unsigned char)t[i];

		if (c == '-' && (end = match_pem(t, n, i))) {
			mask(out, t, &copied, i, end, "private-key");
			i = end;
		} else if (c == ':' && (end = match_userinfo(t, n, i, &cache))) {
			mask(out, t, &copied, i + 3, end, "userinfo");
			i = end; /* the '@' */
		} else if ((is_alnum(c) || c == '_') && key_starts(t, i)) {
			size_t key_end;

			if ((end = match_jwt(t, n, i))) {
				mask(out, t, &copied, i, end, "jwt");
				i = end;
			} else if ((end = match_aws_key(t, n, i))) {
				mask(out, t, &copied, i, end, "aws-key");
				i = end;
			} else if ((end = match_github_token(t, n, i))) {
				mask(out, t, &copied, i, end, "github-token");
				i = end;
			} else if ((end = match_scheme(t, n, i, &start, &label))) {
				mask(out, t, &copied, start, end, label);
				i = end;
			} else {
				for (key_end = i; key_end < n && is_key_char((unsigned char)t[key_end]); key_end++)
					;
				label = match_pair(t, n, i, key_end, &start, &end);
				if (label && match_pem(t, n, start)) {
					i = start; /* the PEM rule masks the whole block, not its first word */
				} else if (label) {
					mask(out, t, &copied, start, end, label);
					i = end;
				} else {
					/* Not a secret's key: past it whole, so no byte is read twice. */
					i = key_end;
				}
			}
		} else {
			i++;
		}
	}
	strbuf_add(out, t + copied, n - copied);
}

void redact_buf(struct strbuf *out, const char *text, size_t len)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	const char *t = text;
	size_t n = len;

	pthread_mutex_lock(&registry_lock);
	for (size_t i = 0; i < secrets_nr; i++) {
		strbuf_reset(&b);
		if (mask_secret(&b, t, n, secrets[i])) {
			struct strbuf tmp = a;
			a = b;
			b = tmp;
			t = a.buf;
			n = a.len;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	scan(out, t, n);
	/* These may have held a credential: wipe before freeing. */
	if (a.alloc)
		memset(a.buf, 0, a.alloc);
	if (b.alloc)
		memset(b.buf, 0, b.alloc);
	strbuf_release(&a);
	strbuf_release(&b);
}

void redact_strbuf(struct strbuf *sb)
{
	struct strbuf out = STRBUF_INIT;

	redact_buf(&out, sb->buf, sb->len);
	if (sb->alloc)
		memset(sb->buf, 0, sb->alloc);
	strbuf_release(sb);
	*sb = out;
}

char *redact_str(const char *s)
{
	struct strbuf out = STRBUF_INIT;

	if (!s)
		return NULL;
	redact_buf(&out, s, strlen(s));
	return strbuf_detach(&out, NULL);
}

static void redact_json_in(cJSON *json)
{
	for (; json; json = json->next) {
		const char *own = json->string ? redact_key_label(json->string, strlen(json->string)) : NULL;

		if (cJSON_IsString(json) && json->valuestring && !(json->type & cJSON_IsReference)) {
			const char *v = json->valuestring;
			char *clean;

			if (own && *v && !is_mask(v, strlen(v), 0)) {
				struct strbuf m = STRBUF_INIT;
				redact_add_mask(&m, own);
				cJSON_SetValuestring(json, m.buf);
				strbuf_release(&m);
				continue;
			}
			clean = redact_str(v);
			if (strcmp(clean, v))
				cJSON_SetValuestring(json, clean);
			free(clean);
		} else if (cJSON_IsArray(json) || cJSON_IsObject(json)) {
			redact_json_in(json->child);
		}
	}
}

void redact_json(cJSON *json)
{
	if (!json)
		return;
	/* Only json itself, not the siblings it may have in a parent. */
	cJSON *next = json->next;

	json->next = NULL;
	redact_json_in(json);
	json->next = next;
}
