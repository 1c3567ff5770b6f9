/*
 * fuzz-retry-after.c: a Retry-After value (delay-seconds or an HTTP
 * date) as a rate-limited server sends it (http_parse_retry_after(),
 * lib/http.c). A wait read is never negative.
 */
#include "fuzz.h"
#include "../lib/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *value = fuzz_string(data, size);
	int64_t wait = -1;

	if (http_parse_retry_after(&wait, value, (time_t)1765000000) == 0 && wait < 0)
		abort();
	free(value);
	return 0;
}
