/*
 * fuzz-alertmanager.c: Alertmanager's webhook payload (version 4) as
 * `sre scout --alertmanager` reads it from whoever posts it.
 */
#include "fuzz.h"
#include "../lib/scout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct findings out = FINDINGS_INIT;
	struct strbuf err = STRBUF_INIT;

	alertmanager_parse((const char *)data, size, &out, &err);
	findings_clear(&out);
	strbuf_release(&err);
	return 0;
}
