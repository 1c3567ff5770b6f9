/*
 * fuzz-logtemplate.c: the log template miner (lib/logtemplate.c), which
 * reads whatever a service logged. The first bytes choose the parameters
 * (depth, similarity, max children), the rest are lines. Whatever the
 * bytes: no crash, no read past the input, every line counted once, and
 * no template or example that carries a control character or invalid
 * UTF-8 to a terminal or a JSON document. Each template, seeded into a
 * new miner, is found again.
 */
#include "fuzz.h"
#include "../lib/logtemplate.h"

/* Valid UTF-8 with no C0, DEL or C1 control character? */
static int printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p;
		size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 :
			   (c & 0xF8) == 0xF0 ? 4 : 0;

		if (c < 0x20 || c == 0x7f || !n || (n == 2 && (c < 0xC2 || (c == 0xC2 && p[1] < 0xA0))))
			return 0;
		for (size_t k = 1; k < n; k++)
			if ((p[k] & 0xC0) != 0x80)
				return 0;
		p += n;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct logtemplate_options o;
	struct logtemplate_miner *m, *again;
	struct strbuf sb = STRBUF_INIT;
	long long total = 0;
	size_t lines;

	logtemplate_options_init(&o);
	if (size >= 3) {
		o.depth = 3 + data[0] % 14;
		o.similarity = data[1] / 255.0;
		o.max_children = 1 + data[2] % 20;
		data += 3;
		size -= 3;
	}
	m = logtemplate_new(&o);
	lines = logtemplate_add_text(m, (const char *)data, size);
	logtemplate_mask(&sb, (const char *)data, size);
	if (sb.len > 6 * size + 16)
		abort();
	again = logtemplate_new(&o);
	for (size_t i = 0; i < logtemplate_count(m); i++) {
		const struct logtemplate *t = logtemplate_get(m, i);
		if (!printable(t->text) || !printable(t->example))
			abort();
		total += t->count;
		if (logtemplate_seed(again, t->text, t->example, (long long)i + 1) == LOGTEMPLATE_NONE &&
		    *t->text)
			abort();
	}
	if (total != (long long)lines)
		abort();
	logtemplate_free(again);
	logtemplate_free(m);
	strbuf_release(&sb);
	return 0;
}
