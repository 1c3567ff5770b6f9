/*
 * fuzz.h: what the libFuzzer targets in fuzz/ share. Each target feeds
 * its input to one parser of lib/ the way sre meets that text (an
 * answer's body, a header's value, a file), so a crash, a leak or
 * undefined behaviour there is one the sanitizers name. `make fuzz` runs
 * them (see the Makefile); tests/t8900-fuzz.sh runs each briefly.
 */
#ifndef SRE_FUZZ_H
#define SRE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/config.h"
#include "../lib/strbuf.h"
#include "../lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a C string (cut at its first NUL, as text from curl or a file is); free it. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	return xstrndup((const char *)data, size);
}

/* A config from trusted text the target sets up, as the user would write it. */
static inline void fuzz_config(struct config *cfg, const char *text)
{
	if (config_read_buffer(cfg, text, strlen(text), "fuzz", CONFIG_SCOPE_GLOBAL) < 0)
		abort();
}

#endif
