/*
 * chaos-proxy.c: `sre chaos proxy`, the fault proxy of [proxy "<name>"].
 * Not built yet: it says so and exits 1.
 */
#include "builtin.h"
#include "chaos.h"

const char *const chaos_proxy_usage[] = {
	"sre chaos proxy [<name>...]",
	NULL,
};

int cmd_chaos_proxy(int argc, const char **argv)
{
	return cmd_unbuilt(argc, argv);
}
