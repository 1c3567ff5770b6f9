/*
 * fuzz-pagerduty-webhook.c: a PagerDuty webhook v3 body as lib/pagerduty.c
 * reads it (pagerduty_webhook_read()), from whoever posts it or hands
 * `sre escalate --pagerduty-webhook` a file.
 */
#include "fuzz.h"
#include "../lib/pagerduty.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pagerduty_webhook_event e;
	struct strbuf why = STRBUF_INIT;

	if (!pagerduty_webhook_read((const char *)data, size, &e, &why))
		pagerduty_webhook_event_release(&e);
	strbuf_release(&why);
	return 0;
}
