/*
 * fuzz-link.c: a Link header (RFC 8288) as GitHub's pagination sends it
 * (github_link_next(), lib/github-api.c), and whether its next page lies
 * under the API.
 */
#include "fuzz.h"
#include "../lib/github-api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *link = fuzz_string(data, size);
	char *next = github_link_next(link);

	if (next) {
		github_under_api("https://api.github.com", next);
		github_under_api("https://ghe.example.com/api/v3/", next);
	}
	free(next);
	free(link);
	return 0;
}
