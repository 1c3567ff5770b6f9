/*
 * unbuilt.c: the commands of the toolkit whose issue has not landed yet.
 * Each says so plainly and exits 1; none prints output it did not earn.
 * A command leaves this file when its own cmd/<name>.c takes its row.
 */
#include "builtin.h"

int cmd_unbuilt(int argc, const char **argv)
{
	const char *usage[] = { NULL, NULL };
	/* -h and `sre help <name>` (no man page yet) say it too, under the usage. */
	const struct option opts[] = {
		OPT_GROUP("Not built yet: it says so and exits 1."),
		OPT_END(),
	};
	char *line = xstrfmt("sre %s", the_sre.cmd_name);

	usage[0] = line;
	parse_options_or_exit(argc, argv, opts, usage, 0);
	fprintf(stderr, "sre: '%s' is not built yet.\n", the_sre.cmd_name);
	free(line);
	return EXIT_FOUND;
}
