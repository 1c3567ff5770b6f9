/*
 * remember.c: `sre remember`, the memory of past incidents (lib/memory.h).
 * With no subcommand it indexes what changed since its last run, for cron;
 * search and similar recall; known and chronic list what memory has
 * learnt. templates, postmortem, push and pull live in cmd/remember-*.c.
 */
#include "builtin.h"
#include "remember.h"
#include "../lib/memory.h"

static const char *const index_usage[] = {
	"sre remember [--rebuild]",
	NULL,
};

static int remember_index(int argc, const char **argv)
{
	int rebuild = 0;
	size_t n = 0;
	const struct option opts[] = {
		OPT_BOOL(0, "rebuild", &rebuild, "index every incident again, and rebuild a corrupt index"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, index_usage, 0);
	if (argc)
		usage_error(index_usage, opts, "unexpected argument '%s'", argv[0]);
	if (memory_index(sre_store(), &the_sre.cfg, rebuild, &n) < 0)
		die("the memory index could not be brought up to date");
	if (n)
		fprintf(stderr, "sre: remembered %zu incident%s\n", n, n == 1 ? "" : "s");
	return 0;
}

static const struct subcommand subcommands[] = {
	{ "templates", remember_templates, remember_templates_usage },
	{ "postmortem", remember_postmortem, remember_postmortem_usage },
	{ "push", remember_push, remember_push_usage },
	{ "pull", remember_pull, remember_pull_usage },
	{ NULL, NULL, NULL },
};

static SRE_NORETURN void remember_usage(FILE *fp, int status)
{
	const char *sep = "usage: ";

	for (const char *const *u = index_usage; *u; u++) {
		fprintf(fp, "%s%s\n", sep, *u);
		sep = "   or: ";
	}
	for (const struct subcommand *s = subcommands; s->name; s++) {
		for (const char *const *u = s->usage; u && *u; u++) {
			fprintf(fp, "%s%s\n", sep, *u);
			sep = "   or: ";
		}
	}
	fprintf(fp, "\nSee 'sre remember <subcommand> -h' for each one's options.\n");
	exit(status);
}

int cmd_remember(int argc, const char **argv)
{
	const struct subcommand *s;

	/* No subcommand, or only options: index (what cron runs). */
	if (argc < 2 || (argv[1][0] == '-' && strcmp(argv[1], "-h") && strcmp(argv[1], "--help") &&
			 strcmp(argv[1], "--completion-helper")))
		return remember_index(argc, argv);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		remember_usage(stdout, help_fallback ? 0 : EXIT_USAGE);
	if (!strcmp(argv[1], "--completion-helper")) {
		list_subcommands_for_completion(stdout, subcommands);
		return 0;
	}
	s = subcommand_find(subcommands, "sre remember", argv[1]);
	if (!s) {
		fputc('\n', stderr);
		remember_usage(stderr, EXIT_USAGE);
	}
	return s->fn(argc - 1, argv + 1);
}
