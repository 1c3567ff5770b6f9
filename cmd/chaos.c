/*
 * chaos.c: `sre chaos`, faults injected on purpose and always undone.
 *
 *   sre chaos inject [--duration <d>] [--dry-run] --target <service> <fault> [<key>=<value>...]
 *   sre chaos status [--all] [--json]
 *   sre chaos rollback [<id>]
 *   sre chaos run ..., sre chaos gameday ...   (cmd/chaos-run.c)
 *   sre chaos proxy ...                        (cmd/chaos-proxy.c)
 *
 * The engine is lib/chaos.c (the faults, their undo records, the blast
 * radius); this file parses, prints, and waits out --duration, undoing
 * the fault on SIGINT and SIGTERM too. Every subcommand first undoes the
 * faults whose duration passed while their injector was dead.
 */
#include <signal.h>

#include "builtin.h"
#include "chaos.h"
#include "../lib/chaos.h"
#include "../lib/http.h"
#include "../lib/timeutil.h"

static const char *const inject_usage[] = {
	"sre chaos inject [--duration <d>] [--dry-run] --target <service> <fault> [<key>=<value>...]",
	NULL,
};

static const char *const status_usage[] = {
	"sre chaos status [--all] [--json]",
	NULL,
};

static const char *const rollback_usage[] = {
	"sre chaos rollback [<id>]",
	NULL,
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static void note(void *data, const char *line)
{
	fprintf(stderr, "%s\n", line);
}

static void context(struct engine_context *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->cfg = &the_sre.cfg;
	ctx->store = sre_store();
	ctx->actor = sre_actor();
	ctx->note = note;
}

/* The faults left behind by an injector that died: undone before anything else. */
static void expire(const struct engine_context *ctx)
{
	struct strbuf report = STRBUF_INIT;

	if (chaos_rollback_expired(ctx, &report) < 0)
		warning("some faults past their duration could not be undone: sre chaos status");
	fputs(report.buf, stdout);
	strbuf_release(&report);
}

/* key=value words into an object; a value that reads as a whole number is a number. */
static cJSON *parse_args(int argc, const char **argv, const struct option *opts)
{
	cJSON *args = cJSON_CreateObject();

	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		char *key;
		long long n;

		if (!eq || eq == argv[i])
			usage_error(inject_usage, opts, "'%s' is not <key>=<value>", argv[i]);
		key = xstrndup(argv[i], (size_t)(eq - argv[i]));
		if (cJSON_GetObjectItemCaseSensitive(args, key))
			usage_error(inject_usage, opts, "'%s' is given twice", key);
		if (!parse_ll(eq + 1, &n))
			cJSON_AddNumberToObject(args, key, (double)n);
		else
			cJSON_AddStringToObject(args, key, eq + 1);
		free(key);
	}
	return args;
}

static int chaos_inject_cmd(int argc, const char **argv)
{
	struct engine_context ctx;
	struct chaos_options o = { 0 };
	struct strbuf report = STRBUF_INIT;
	const char *target = NULL, *duration = NULL;
	long long id = 0;
	cJSON *args;
	int r;
	const struct option opts[] = {
		OPT_STRING(0, "target", &target, "service", "the configured service to inject it into"),
		OPT_STRING(0, "duration", &duration, "d", "undo it after this long (waits; Ctrl-C undoes it now)"),
		OPT_BOOL('n', "dry-run", &o.dry_run, "say each step; touch and record nothing"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, inject_usage, 0);
	if (argc < 1)
		usage_error(inject_usage, opts, "which fault? (process-kill, docker-pause, ...)");
	if (!target)
		usage_error(inject_usage, opts, "--target names the service");
	if (duration && (parse_duration_ms(duration, &o.duration_ms) < 0 || o.duration_ms <= 0))
		usage_error(inject_usage, opts, "--duration '%s' is not a duration (30s, 5m)", duration);
	args = parse_args(argc - 1, argv + 1, opts);
	context(&ctx);
	if (!o.dry_run)
		expire(&ctx);
	/* From here on a signal undoes the fault rather than leaving it behind. */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	r = chaos_inject(&ctx, argv[0], target, args, &o, &id, &report);
	cJSON_Delete(args);
	fputs(report.buf, stdout);
	strbuf_reset(&report);
	if (r || o.dry_run || !o.duration_ms) {
		strbuf_release(&report);
		return r < 0 ? EXIT_FATAL : r ? EXIT_FOUND : 0;
	}
	for (int64_t end = monotonic_ms() + o.duration_ms, left; !stop && (left = end - monotonic_ms()) > 0;)
		sleep_ms(left < 100 ? left : 100);
	if (stop)
		printf("chaos %lld: %s: undoing it now\n", id, stop == SIGINT ? "interrupted" : "terminated");
	r = chaos_rollback(&ctx, id, NULL, &report);
	fputs(report.buf, stdout);
	strbuf_release(&report);
	return r < 0 ? EXIT_FATAL : 0;
}

static int chaos_status(int argc, const char **argv)
{
	struct engine_context ctx;
	int all = 0, json = 0;
	const cJSON *f;
	cJSON *list;
	const struct option opts[] = {
		OPT_BOOL(0, "all", &all, "every fault recorded, undone ones too"),
		OPT_BOOL(0, "json", &json, "print JSON"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, status_usage, 0);
	if (argc)
		usage_error(status_usage, opts, "unexpected argument '%s'", argv[0]);
	context(&ctx);
	expire(&ctx);
	if (!(list = chaos_status_json(&ctx, all)))
		return EXIT_FATAL;
	if (json) {
		char *text = cJSON_Print(list);
		puts(text);
		cJSON_free(text);
	} else if (!cJSON_GetArraySize(list)) {
		puts(all ? "no fault was ever injected" : "no fault in place");
	}
	cJSON_ArrayForEach(f, list) {
		char age[32];
		if (json)
			break;
		format_age(age, sizeof(age), 0, (time_t)cJSON_GetNumberValue(cJSON_GetObjectItem(f, "age_s")));
		printf("%-5.0f %-24s %-16s %-12s %5s  by %s", cJSON_GetNumberValue(cJSON_GetObjectItem(f, "id")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(f, "fault")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(f, "target")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(f, "state")), age,
		       cJSON_GetStringValue(cJSON_GetObjectItem(f, "injected_by")));
		if (cJSON_IsString(cJSON_GetObjectItem(f, "expires_at")))
			printf(", until %s", cJSON_GetStringValue(cJSON_GetObjectItem(f, "expires_at")));
		if (cJSON_IsString(cJSON_GetObjectItem(f, "error")))
			printf("\n      undo failed: %s", cJSON_GetStringValue(cJSON_GetObjectItem(f, "error")));
		putchar('\n');
	}
	cJSON_Delete(list);
	return 0;
}

static int chaos_rollback_cmd(int argc, const char **argv)
{
	struct engine_context ctx;
	struct strbuf report = STRBUF_INIT;
	long long id = 0;
	int r;
	const struct option opts[] = {
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, rollback_usage, 0);
	if (argc > 1)
		usage_error(rollback_usage, opts, "one fault at most; none for every fault in place");
	if (argc && (parse_ll(argv[0], &id) < 0 || id <= 0))
		usage_error(rollback_usage, opts, "'%s' is not a fault id (sre chaos status)", argv[0]);
	context(&ctx);
	/* Undone in the end whatever the signal: a rollback is not interrupted half-way. */
	signal(SIGINT, SIG_IGN);
	r = chaos_rollback(&ctx, id, NULL, &report);
	fputs(report.buf, stdout);
	strbuf_release(&report);
	return r < 0 ? EXIT_FATAL : r ? EXIT_FOUND : 0;
}

static const struct subcommand subcommands[] = {
	{ "inject", chaos_inject_cmd, inject_usage },
	{ "status", chaos_status, status_usage },
	{ "rollback", chaos_rollback_cmd, rollback_usage },
	{ "run", cmd_chaos_run, chaos_run_usage },
	{ "gameday", cmd_chaos_gameday, chaos_gameday_usage },
	{ "proxy", cmd_chaos_proxy, chaos_proxy_usage },
	{ NULL, NULL, NULL },
};

static SRE_NORETURN void chaos_usage(FILE *fp, int status)
{
	const char *sep = "usage: ";

	for (const struct subcommand *s = subcommands; s->name; s++)
		for (const char *const *u = s->usage; u && *u; u++) {
			fprintf(fp, "%s%s\n", sep, *u);
			sep = "   or: ";
		}
	fprintf(fp, "\nSee 'sre chaos <subcommand> -h' for each one's options.\n");
	exit(status);
}

int cmd_chaos(int argc, const char **argv)
{
	const struct subcommand *s;

	if (argc < 2)
		chaos_usage(stderr, EXIT_USAGE);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		chaos_usage(stdout, help_fallback ? 0 : EXIT_USAGE);
	if (!strcmp(argv[1], "--completion-helper")) {
		list_subcommands_for_completion(stdout, subcommands);
		return 0;
	}
	s = subcommand_find(subcommands, "sre chaos", argv[1]);
	if (!s) {
		fputc('\n', stderr);
		chaos_usage(stderr, EXIT_USAGE);
	}
	return s->fn(argc - 1, argv + 1);
}
