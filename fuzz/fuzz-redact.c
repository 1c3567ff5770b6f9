/*
 * fuzz-redact.c: the redactor (lib/redact.c), which every log line,
 * environment value, commit message and ticket text that leaves the host
 * passes through. Whatever the bytes: no crash, no read past the input,
 * the registered credential never survives, valid UTF-8 stays valid, and
 * redacting the result again never brings a secret back.
 */
#include "fuzz.h"
#include "../lib/redact.h"

#define SECRET "ghp_fuzz0123456789credential"

/* Is s[0..len) valid UTF-8 (no overlong forms, no surrogates)? */
static int utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 :
			   (c & 0xF8) == 0xF0 ? 4 : 0;
		unsigned cp;

		if (!n || i + n > len || (n == 2 && c < 0xC2) || (n == 4 && c > 0xF4))
			return 0;
		cp = n == 1 ? c : c & (0x7F >> n);
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
			return 0;
		i += n;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int registered;
	struct strbuf once = STRBUF_INIT, twice = STRBUF_INIT;

	if (!registered) {
		redact_add_secret(SECRET);
		registered = 1;
	}
	redact_buf(&once, (const char *)data, size);
	if (memmem(once.buf, once.len, SECRET, strlen(SECRET)))
		abort(); /* the credential sre holds left the host */
	if (utf8_valid(data, size) && !utf8_valid((const unsigned char *)once.buf, once.len))
		abort(); /* a mask cut a character in two */
	redact_buf(&twice, once.buf, once.len);
	if (memmem(twice.buf, twice.len, SECRET, strlen(SECRET)))
		abort();
	strbuf_release(&once);
	strbuf_release(&twice);
	return 0;
}
