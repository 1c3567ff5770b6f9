/*
 * fuzz-record.c: the `sre-record` block of a tracker comment
 * (record_parse(), lib/tracker-common.c), which anyone who may comment on an
 * issue writes. A record read must also survive being written back.
 */
#include "fuzz.h"
#include "../lib/tracker-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), *prose = NULL;
	cJSON *record = NULL;

	if (record_parse(text, &prose, &record) == 0 && record) {
		struct strbuf sb = STRBUF_INIT;
		char *prose2 = NULL;
		cJSON *again = NULL;

		record_format(&sb, record);
		if (record_parse(sb.buf, &prose2, &again) < 0 || !again)
			abort(); /* sre could not read back what it writes */
		cJSON_Delete(again);
		free(prose2);
		strbuf_release(&sb);
	}
	cJSON_Delete(record);
	free(prose);
	free(text);
	return 0;
}
