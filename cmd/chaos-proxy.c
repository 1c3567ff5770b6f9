/*
 * chaos-proxy.c: `sre chaos proxy`, the fault proxy of [proxy "<name>"]
 * (engine: lib/chaos-proxy.c).
 *
 *   sre chaos proxy [<name>...]          run them (every configured one when
 *                                        none is named) until SIGINT or SIGTERM
 *   sre chaos proxy --toxics [--json]    the toxics in place, from the store
 *
 * The proxy runs in the foreground, as a service manager or a test starts
 * it: one line per proxy on stdout once it listens ("proxy api:
 * 127.0.0.1:18080 -> 127.0.0.1:8080", the port as bound when listen asked
 * for port 0), then one line per toxic change on stderr. A signal ends it
 * with exit 0: stopping the proxy is how a user takes it out of the path.
 */
#include <signal.h>

#include "builtin.h"
#include "chaos.h"
#include "../lib/chaos-proxy.h"
#include "../lib/format.h"

const char *const chaos_proxy_usage[] = {
	"sre chaos proxy [<name>...]",
	"sre chaos proxy --toxics [--json]",
	NULL,
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

/* A value from the store, for a terminal: it may hold anything. */
static void put_clean(const char *s)
{
	format_put_clean(stdout, s ? s : "", s ? strlen(s) : 0, 0);
}

static int list_toxics(int json)
{
	struct store *st = sre_store_if_exists();
	cJSON *list = st ? chaos_toxic_list(st, NULL) : cJSON_CreateArray();
	const cJSON *row;

	if (!list)
		return EXIT_FATAL;
	if (json) {
		int r = json_print(stdout, list);
		cJSON_Delete(list);
		return r < 0 ? EXIT_FATAL : 0;
	}
	if (!cJSON_GetArraySize(list))
		puts("no toxic in place");
	cJSON_ArrayForEach(row, list) {
		const cJSON *fault = cJSON_GetObjectItem(row, "fault_id");
		char *params = cJSON_PrintUnformatted(cJSON_GetObjectItem(row, "params"));

		put_clean(cJSON_GetStringValue(cJSON_GetObjectItem(row, "proxy")));
		fputs("  ", stdout);
		put_clean(cJSON_GetStringValue(cJSON_GetObjectItem(row, "toxic")));
		fputs("  ", stdout);
		put_clean(params);
		if (cJSON_IsNumber(fault))
			printf("  (fault %.0f)", cJSON_GetNumberValue(fault));
		putchar('\n');
		cJSON_free(params);
	}
	cJSON_Delete(list);
	return 0;
}

int cmd_chaos_proxy(int argc, const char **argv)
{
	struct chaos_proxies *p;
	struct strvec names = STRVEC_INIT;
	struct sigaction sa;
	int toxics = 0, json = 0, r;
	const struct option opts[] = {
		OPT_BOOL(0, "toxics", &toxics, "list the toxics in place and exit"),
		OPT_BOOL(0, "json", &json, "with --toxics: print JSON"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, chaos_proxy_usage, 0);
	if (json && !toxics)
		usage_error(chaos_proxy_usage, opts, "--json goes with --toxics");
	if (toxics) {
		if (argc)
			usage_error(chaos_proxy_usage, opts, "--toxics takes no proxy name");
		return list_toxics(json);
	}
	for (int i = 0; i < argc; i++)
		strvec_push(&names, argv[i]);
	r = chaos_proxy_open(&p, &the_sre.cfg, &names);
	strvec_clear(&names);
	if (r < 0)
		return EXIT_FATAL;
	for (size_t i = 0; i < chaos_proxy_count(p); i++) {
		const char *name, *listen_at, *upstream;

		chaos_proxy_info(p, i, &name, &listen_at, &upstream);
		printf("proxy %s: %s -> %s\n", name, listen_at, upstream);
	}
	fflush(stdout);

	/* Without SA_RESTART: the signal cuts the proxy's poll() short. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = chaos_proxy_serve(p, sre_store(), &stop);
	chaos_proxy_free(p);
	return r < 0 ? EXIT_FATAL : 0;
}
