/*
 * fuzz-timeutil.c: RFC 3339 and ISO 8601 times as servers write them and
 * durations as config values and query parameters hold them
 * (lib/timeutil.c).
 */
#include "fuzz.h"
#include "../lib/timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	time_t t;
	int64_t ms;

	parse_rfc3339(s, &t);
	parse_iso8601(s, &t);
	parse_duration_ms(s, &ms);
	free(s);
	return 0;
}
