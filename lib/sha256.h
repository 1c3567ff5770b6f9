/*
 * sha256.h: SHA-256 (FIPS 180-4), for digests that must not collide on
 * purpose: the adviser's cache is keyed by a digest of evidence that
 * holds text from elsewhere, so a weak hash would let a crafted log line
 * fetch another incident's answer.
 */
#ifndef SRE_SHA256_H
#define SRE_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;          /* bytes hashed */
	unsigned char block[64];
	size_t used;           /* bytes in block */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* The digest as 64 lower-case hex digits and a NUL into hex. */
void sha256_hex(struct sha256 *s, char hex[65]);

#endif
