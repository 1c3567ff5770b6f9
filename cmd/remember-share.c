/*
 * remember-share.c: `sre remember push` and `sre remember pull`, what
 * this store has learnt shared with other hosts through remember.remote
 * (engine: lib/knowledge.c, which says how).
 *
 * push prints the paths it wrote (or, with --dry-run, would write), one
 * a line on stdout for scripts, and what it did on stderr; pull says on
 * stderr how many records it indexed. Either fails with exit 128 after
 * errors that say why; a push that fails marks nothing pushed.
 */
#include "builtin.h"
#include "remember.h"
#include "../lib/knowledge.h"

const char *const remember_push_usage[] = {
	"sre remember push [--dry-run]",
	NULL,
};
const char *const remember_pull_usage[] = {
	"sre remember pull",
	NULL,
};

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

int remember_push(int argc, const char **argv)
{
	struct knowledge_push kp = KNOWLEDGE_PUSH_INIT;
	int dry_run = 0;
	const struct option opts[] = {
		OPT_BOOL('n', "dry-run", &dry_run,
			 "print the files a push would write; commit and push nothing"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, remember_push_usage, 0);
	if (argc)
		usage_error(remember_push_usage, opts, "unexpected argument '%s'", argv[0]);
	kp.dry_run = dry_run;
	kp.author = sre_actor();
	if (knowledge_push(sre_store(), &the_sre.cfg, &kp) < 0) {
		knowledge_push_release(&kp);
		return EXIT_FATAL;
	}
	for (size_t i = 0; i < kp.paths.nr; i++)
		printf("%s\n", kp.paths.v[i]);
	if (dry_run)
		fprintf(stderr, "sre: would commit %zu incident%s (%zu file%s) to %s%s\n",
			kp.incidents, plural(kp.incidents), kp.paths.nr, plural(kp.paths.nr),
			kp.repo, kp.local_only ? "" : " and push it to remember.remote");
	else if (kp.local_only && kp.committed)
		fprintf(stderr, "sre: committed %zu incident%s to %s; remember.remote is not set, "
			"so nothing was pushed\n", kp.incidents, plural(kp.incidents), kp.repo);
	else if (kp.local_only)
		fprintf(stderr, "sre: nothing new to commit to %s; remember.remote is not set, "
			"so nothing was pushed\n", kp.repo);
	else if (kp.tries && kp.marked)
		fprintf(stderr, "sre: pushed %zu new incident%s to remember.remote (%d push%s)\n",
			kp.marked, plural(kp.marked), kp.tries, kp.tries == 1 ? "" : "es");
	else if (kp.tries)
		fprintf(stderr, "sre: pushed what remember.repo held to remember.remote (%d push%s)\n",
			kp.tries, kp.tries == 1 ? "" : "es");
	else
		fprintf(stderr, "sre: remember.remote is up to date\n");
	knowledge_push_release(&kp);
	return 0;
}

int remember_pull(int argc, const char **argv)
{
	struct knowledge_pull kp;
	const struct option opts[] = {
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, remember_pull_usage, 0);
	if (argc)
		usage_error(remember_pull_usage, opts, "unexpected argument '%s'", argv[0]);
	if (knowledge_pull(sre_store(), &the_sre.cfg, &kp) < 0)
		return EXIT_FATAL;
	if (kp.empty) {
		fprintf(stderr, "sre: remember.remote has no records yet\n");
		return 0;
	}
	fprintf(stderr, "sre: pulled %zu record%s from %zu other host%s: %zu added or refreshed, "
		"%zu unchanged", kp.read.records, plural(kp.read.records), kp.read.origins,
		plural(kp.read.origins), kp.added, kp.unchanged);
	if (kp.refused)
		fprintf(stderr, ", %zu refused", kp.refused);
	if (kp.read.skipped)
		fprintf(stderr, ", %zu entr%s skipped", kp.read.skipped,
			kp.read.skipped == 1 ? "y" : "ies");
	fputc('\n', stderr);
	return 0;
}
