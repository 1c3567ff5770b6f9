/*
 * fuzz-config.c: the config file parser (lib/config.c), then every value
 * it read checked against its key's type and read back as each type, as
 * `sre config` and the commands do.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg = CONFIG_INIT;
	struct strbuf key = STRBUF_INIT;

	if (config_read_buffer(&cfg, (const char *)data, size, "fuzz", CONFIG_SCOPE_LOCAL) == 0) {
		for (size_t i = 0; i < cfg.nr; i++) {
			const char *k = cfg.entries[i].key, *why;
			int b;
			long long n;
			int64_t ms;

			strbuf_reset(&key);
			config_key_normalize(k, &key, &why);
			if (cfg.entries[i].value)
				config_check_value(k, cfg.entries[i].value);
			config_get_bool(&cfg, k, &b);
			config_get_int(&cfg, k, &n);
			config_get_duration_ms(&cfg, k, &ms);
			config_key_is_secret(k);
		}
	}
	strbuf_release(&key);
	config_clear(&cfg);
	return 0;
}
