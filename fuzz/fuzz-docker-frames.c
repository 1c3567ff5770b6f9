/*
 * fuzz-docker-frames.c: the Docker Engine's multiplexed log stream
 * (docker_log_demultiplex(), lib/collect-docker.c): whatever the frames
 * claim, no more comes out than went in.
 */
#include "fuzz.h"
#include "../lib/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf out = STRBUF_INIT;

	docker_log_demultiplex(&out, (const char *)data, size);
	if (out.len > size)
		abort();
	strbuf_release(&out);
	return 0;
}
