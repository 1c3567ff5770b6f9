/*
 * remember.c: `sre remember`, the memory of past incidents (lib/memory.h).
 * With no subcommand it indexes what changed since its last run, for cron;
 * search and similar recall; known and chronic list what memory has
 * learnt. templates, postmortem, push and pull live in cmd/remember-*.c.
 */
#include "builtin.h"
#include "remember.h"
#include "../lib/format.h"
#include "../lib/knowledge.h"
#include "../lib/memory.h"
#include "../lib/strbuf.h"

static const char *const index_usage[] = {
	"sre remember [--rebuild]",
	NULL,
};

int remember_postmortems(void)
{
	struct knowledge_push kp = KNOWLEDGE_PUSH_INIT;
	int on = 0, ret = 0;

	if (config_get_bool(&the_sre.cfg, "remember.postmortems", &on) < 0)
		return -1;
	if (!on)
		return 0;
	/* In remember.repo, committed; `sre remember push` shares them. */
	kp.commit_only = 1;
	kp.author = sre_actor();
	if (knowledge_push(sre_store(), &the_sre.cfg, &kp) < 0)
		ret = -1;
	else if (kp.incidents)
		fprintf(stderr, "sre: wrote the post-mortem%s of %zu resolved incident%s in %s\n",
			kp.incidents == 1 ? "" : "s", kp.incidents, kp.incidents == 1 ? "" : "s",
			kp.repo);
	knowledge_push_release(&kp);
	return ret;
}

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
	if (remember_postmortems() < 0)
		die("the post-mortems could not be written");
	return 0;
}

static const char *const search_usage[] = {
	"sre remember search [-n <n>] [--include-chaos] [--json] <text>...",
	NULL,
};
static const char *const similar_usage[] = {
	"sre remember similar [-n <n>] [--include-chaos] [--json] <id>",
	NULL,
};
static const char *const known_usage[] = {
	"sre remember known [--json]",
	"sre remember known add [--runbook <text>] <id>",
	NULL,
};
static const char *const chronic_usage[] = {
	"sre remember chronic [--json]",
	NULL,
};

/* Bring the index up to date before recalling from it: cheap when nothing changed. */
static void index_quietly(void)
{
	size_t n;

	if (memory_index(sre_store(), &the_sre.cfg, 0, &n) < 0)
		die("the memory index could not be brought up to date");
}

static long long parse_incident_id(const char *arg, const char *const *usage,
				   const struct option *opts)
{
	long long id;

	if (parse_ll(arg, &id) < 0 || id <= 0)
		usage_error(usage, opts, "'%s' is not an incident id", arg);
	return id;
}

static int remember_search(int argc, const char **argv)
{
	struct memory_recall r = { .max = 10 };
	struct strbuf text = STRBUF_INIT;
	struct memory_hit *hits;
	size_t nr;
	long long max = 10;
	int json = 0, g;
	const struct option opts[] = {
		OPT_INTEGER('n', NULL, &max, "n", "at most n incidents (default 10)"),
		OPT_BOOL(0, "include-chaos", &r.include_chaos, "also incidents opened by chaos experiments"),
		OPT_BOOL(0, "json", &json, "print a JSON array"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, search_usage, 0);
	if (!argc)
		usage_error(search_usage, opts, "what should be searched for?");
	if (max < 1 || max > 1000)
		usage_error(search_usage, opts, "-n takes a number from 1 to 1000");
	r.max = (int)max;
	for (int i = 0; i < argc; i++)
		strbuf_addf(&text, "%s%s", i ? " " : "", argv[i]);
	index_quietly();
	g = memory_search(sre_store(), text.buf, &r, &hits, &nr);
	if (g == 2)
		usage_exit(search_usage, opts);
	if (g < 0)
		die("cannot search what sre remembers");
	strbuf_release(&text);
	memory_hits_print(stdout, hits, nr, json, the_sre.color);
	memory_hits_free(hits, nr);
	return nr ? 0 : EXIT_FOUND;
}

static int remember_similar(int argc, const char **argv)
{
	struct memory_recall r = { .max = 5 };
	struct memory_hit *hits;
	size_t nr;
	long long max = 5, id;
	int json = 0, g;
	const struct option opts[] = {
		OPT_INTEGER('n', NULL, &max, "n", "at most n incidents (default 5)"),
		OPT_BOOL(0, "include-chaos", &r.include_chaos, "also incidents opened by chaos experiments"),
		OPT_BOOL(0, "json", &json, "print a JSON array"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, similar_usage, 0);
	if (argc != 1)
		usage_error(similar_usage, opts, argc ? "one incident at a time" : "which incident?");
	if (max < 1 || max > 1000)
		usage_error(similar_usage, opts, "-n takes a number from 1 to 1000");
	r.max = (int)max;
	id = parse_incident_id(argv[0], similar_usage, opts);
	index_quietly();
	g = memory_similar(sre_store(), &the_sre.cfg, id, &r, &hits, &nr);
	if (g < 0)
		die("cannot recall incidents like %lld", id);
	if (g) {
		error("no incident %lld", id);
		return EXIT_FOUND;
	}
	memory_hits_print(stdout, hits, nr, json, the_sre.color);
	memory_hits_free(hits, nr);
	return nr ? 0 : EXIT_FOUND;
}

static int remember_known(int argc, const char **argv)
{
	struct known_error *k;
	size_t nr;
	int json = 0;
	const char *runbook = NULL;
	const struct option list_opts[] = {
		OPT_BOOL(0, "json", &json, "print a JSON array"),
		OPT_END(),
	};
	const struct option add_opts[] = {
		OPT_STRING(0, "runbook", &runbook, "text", "what a person should know or do (a note, or a link)"),
		OPT_END(),
	};

	if (argc > 1 && !strcmp(argv[1], "add")) {
		long long id;
		int g;

		argv++;
		argc = parse_options_or_exit(argc - 1, argv, add_opts, known_usage, 0);
		if (argc != 1)
			usage_error(known_usage, add_opts, "which incident?");
		id = parse_incident_id(argv[0], known_usage, add_opts);
		if (runbook && incident_check_text("--runbook", runbook, 4000, 1) < 0)
			exit(EXIT_USAGE);
		g = memory_known_add(sre_store(), &the_sre.cfg, id, runbook, sre_actor());
		if (g < 0)
			die("cannot record a known error");
		if (g == 1)
			error("no incident %lld", id);
		if (g)
			return EXIT_FOUND;
		fprintf(stderr, "sre: incident %lld is now a known error: diagnose matches it first\n", id);
		return 0;
	}
	argc = parse_options_or_exit(argc, argv, list_opts, known_usage, 0);
	if (argc)
		usage_error(known_usage, list_opts, "unexpected argument '%s'", argv[0]);
	index_quietly();
	if (memory_known_list(sre_store(), &k, &nr) < 0)
		die("cannot read the known errors");
	known_errors_print(stdout, k, nr, json);
	known_errors_free(k, nr);
	return 0;
}

static int remember_chronic(int argc, const char **argv)
{
	struct chronic *c;
	size_t nr;
	int json = 0;
	const struct option opts[] = {
		OPT_BOOL(0, "json", &json, "print a JSON array"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, chronic_usage, 0);
	if (argc)
		usage_error(chronic_usage, opts, "unexpected argument '%s'", argv[0]);
	index_quietly();
	if (memory_chronic(sre_store(), &the_sre.cfg, &c, &nr) < 0)
		die("cannot read the chronic problems");
	chronic_print(stdout, c, nr, json);
	chronic_free(c, nr);
	return 0;
}

static const struct subcommand subcommands[] = {
	{ "search", remember_search, search_usage },
	{ "similar", remember_similar, similar_usage },
	{ "known", remember_known, known_usage },
	{ "chronic", remember_chronic, chronic_usage },
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
