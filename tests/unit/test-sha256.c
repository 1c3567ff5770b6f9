/*
 * test-sha256.c: unit tests of lib/sha256.c against the digests every
 * SHA-256 gives (FIPS 180-4's examples and `sha256sum`'s), fed whole
 * and in pieces across the block boundary. Prints TAP.
 */
#include "../../lib/sha256.h"
#include "../../lib/util.h"
#include "test-lib.h"

static const char *digest(const char *text, size_t len, size_t piece)
{
	static char hex[65];
	struct sha256 s;

	sha256_init(&s);
	for (size_t at = 0; at < len; at += piece)
		sha256_update(&s, text + at, len - at < piece ? len - at : piece);
	sha256_hex(&s, hex);
	return hex;
}

int main(void)
{
	static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char *million = xcalloc(1, 1000001);

	if (test_begin("sha256") < 0)
		return 1;
	is_str(digest("", 0, 1), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "the empty text");
	is_str(digest("abc", 3, 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	       "abc");
	for (size_t piece = 1; piece <= 64; piece *= 4)
		is_str(digest(two_blocks, strlen(two_blocks), piece),
		       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
		       "two blocks, fed %zu bytes at a time", piece);
	memset(million, 'a', 1000000);
	is_str(digest(million, 1000000, 4096),
	       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", "a million a's");
	free(million);
	is_int((long long)strlen(digest("x", 1, 1)), 64, "64 hex digits");
	return test_end();
}
