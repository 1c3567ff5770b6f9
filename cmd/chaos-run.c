/*
 * chaos-run.c: `sre chaos run` and `sre chaos gameday`, experiments in
 * Chaos Toolkit's format. Not built yet: each says so and exits 1.
 */
#include "builtin.h"
#include "chaos.h"

const char *const chaos_run_usage[] = {
	"sre chaos run <experiment.json>",
	NULL,
};

const char *const chaos_gameday_usage[] = {
	"sre chaos gameday <dir>",
	NULL,
};

int cmd_chaos_run(int argc, const char **argv)
{
	return cmd_unbuilt(argc, argv);
}

int cmd_chaos_gameday(int argc, const char **argv)
{
	return cmd_unbuilt(argc, argv);
}
