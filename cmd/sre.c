/*
 * sre.c: the front-end. It reads the global options, finds the command in
 * the table below (or an `sre-<name>` program on PATH), opens what that
 * command needs, runs it, and checks that its output really reached stdout.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builtin.h"
#include "../lib/color.h"
#include "../lib/run-command.h"
#include "../lib/strbuf.h"
#include "../lib/tracker.h"

#ifndef SRE_VERSION
#define SRE_VERSION "unknown"
#endif
#ifndef SRE_MANDIR
#define SRE_MANDIR "/usr/local/share/man"
#endif

enum {
	NEED_CONFIG = 1 << 0,
	NEED_STORE = 1 << 1 | NEED_CONFIG,
};

struct cmd_struct {
	const char *name;
	int (*fn)(int argc, const char **argv);
	unsigned need;
	const char *help;
};

static const struct cmd_struct commands[] = {
	{ "scout", cmd_scout, NEED_STORE, "detect anomalies and open deduplicated incidents" },
	{ "diagnose", cmd_diagnose, NEED_STORE, "gather evidence and find an incident's root cause" },
	{ "fix", cmd_fix, NEED_STORE, "carry out one guarded remediation and verify it" },
	{ "remember", cmd_remember, NEED_STORE, "index incidents and post-mortems for the next diagnosis" },
	{ "escalate", cmd_escalate, NEED_STORE, "page a human or open a follow-up for chronic problems" },
	{ "chaos", cmd_chaos, NEED_STORE, "inject faults to prove the loop recovers, always rolled back" },
	{ "run", cmd_run, NEED_STORE, "run the whole loop, continuously" },
	{ "incident", cmd_incident, NEED_STORE, "open, list, show, move, comment on and pull incidents" },
	{ "sync", cmd_sync, NEED_STORE, "deliver queued writes to the tracker, or list them" },
	{ "doctor", cmd_doctor, NEED_STORE, "check that every configured source answers and lets sre in" },
	{ "config", cmd_config, NEED_CONFIG, "get and set configuration" },
	{ "help", cmd_help, 0, "show help for sre or one of its commands" },
	{ "version", cmd_version, 0, "print the version of sre" },
};

struct sre_context the_sre = { .cfg = CONFIG_INIT, .overrides = STRVEC_INIT };
int help_fallback;

static const char *const sre_usage[] = {
	"sre [-C <dir>] [-c <key>=<value>] [--db <file>] <command> [<args>]",
	"sre --version",
	"sre help [<command>]",
	NULL,
};

static const struct cmd_struct *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* ---- helpers for commands (builtin.h) ---- */

const char *sre_actor(void)
{
	static char *actor;
	const char *v;

	if (actor)
		return actor;
	v = config_get_string(&the_sre.cfg, "core.actor");
	if (v && *v)
		return actor = xstrdup(v);
	v = getenv("USER");
	if (v && *v)
		return actor = xstrdup(v);
	{
		struct passwd *pw = getpwuid(getuid());
		if (pw && pw->pw_name)
			return actor = xstrdup(pw->pw_name);
	}
	return actor = xstrfmt("uid %ld", (long)getuid());
}

void usage_exit(const char *const *usage, const struct option *opts)
{
	usage_with_options(stderr, usage, opts);
	exit(EXIT_USAGE);
}

void usage_error(const char *const *usage, const struct option *opts,
		 const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "error: %s\n", msg);
	usage_exit(usage, opts);
}

int parse_options_or_exit(int argc, const char **argv, const struct option *opts,
			  const char *const *usage, unsigned mode)
{
	int n = parse_options(argc, argv, opts, mode);

	switch (n) {
	case PARSE_OPT_HELP:
		usage_with_options(stdout, usage, opts);
		exit(help_fallback ? 0 : EXIT_USAGE);
	case PARSE_OPT_ERROR:
		usage_exit(usage, opts);
	case PARSE_OPT_COMPLETE:
		exit(0);
	}
	return n;
}

/* ---- help ---- */

static void list_commands(FILE *fp)
{
	fprintf(fp, "usage: %s\n", sre_usage[0]);
	fprintf(fp, "\nThe sre commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(fp, "   %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(fp, "\nSee 'sre help <command>' to read about a command.\n");
}

/*
 * The man page of a command: from the build tree when sre runs from it
 * (man/ beside the binary), else the one `make install` put under
 * SRE_MANDIR. man runs only when the page exists, so a command without a
 * page falls back to its usage without man complaining first.
 * Returns man's exit status, or -1 when there is no page.
 */
static int show_man_page(const char *cmd)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *page = NULL;
	struct stat st;
	int status = -1;

	if (n > 0) {
		char *slash;
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			page = xstrfmt("%s/man/sre-%s.1", exe, cmd);
			if (stat(page, &st) < 0) {
				free(page);
				page = NULL;
			}
		}
	}
	if (!page) {
		page = xstrfmt("%s/man1/sre-%s.1", SRE_MANDIR, cmd);
		if (stat(page, &st) < 0) {
			free(page);
			page = NULL;
		}
	}
	if (page) {
		const char *argv[] = { "man", "-l", page, NULL };
		status = run_command(argv);
		free(page);
	}
	return status;
}

int cmd_help(int argc, const char **argv)
{
	static const char *const usage[] = { "sre help [<command>]", NULL };
	static const struct option opts[] = { OPT_END() };
	const struct cmd_struct *c;

	argc = parse_options_or_exit(argc, argv, opts, usage, 0);
	if (argc == 0) {
		list_commands(stdout);
		return 0;
	}
	if (argc > 1)
		usage_error(usage, opts, "'sre help' takes one command");
	c = find_command(argv[0]);
	if (!c) {
		error("'%s' is not an sre command. See 'sre --help'.", argv[0]);
		return EXIT_FOUND;
	}
	if (show_man_page(c->name) == 0)
		return 0;
	/* No man, or no page for this command: its usage is the help. */
	{
		const char *args[] = { c->name, "-h", NULL };
		help_fallback = 1;
		the_sre.cmd_name = c->name;
		return c->fn(2, args);
	}
}

/* ---- unknown commands ---- */

static SRE_NORETURN void unknown_command(const char *name)
{
	const char *names[ARRAY_SIZE(commands) + 1];

	fprintf(stderr, "sre: '%s' is not an sre command. See 'sre --help'.\n", name);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		names[i] = commands[i].name;
	names[ARRAY_SIZE(commands)] = NULL;
	print_similar(stderr, "command", name, names);
	exit(EXIT_FOUND);
}

/*
 * sre holds tokens in memory from the first command that reads one: no
 * core file may carry them, and no other process of the user may read
 * them through ptrace or /proc/<pid>/mem (PR_SET_DUMPABLE 0 does both).
 * The core limit goes back to what it was in each child (pthread_atfork),
 * so a service that sre starts still dumps core as its owner set up;
 * dumpable is reset by execve on its own.
 *
 * SIGPIPE is ignored: a reader that went away (`sre incident list | head
 * -1`) is a write error, reported by check_stdout(), not a death by signal.
 * Children get SIGPIPE back (lib/run-command.c).
 */
static struct rlimit core_limit;
static int core_limit_saved;

static void restore_core_limit(void)
{
	if (core_limit_saved)
		setrlimit(RLIMIT_CORE, &core_limit);
}

static void protect_secrets(void)
{
	if (!getrlimit(RLIMIT_CORE, &core_limit)) {
		struct rlimit none = { 0, core_limit.rlim_max };

		core_limit_saved = !setrlimit(RLIMIT_CORE, &none);
		pthread_atfork(NULL, NULL, restore_core_limit);
	}
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
}

/* Run `sre-<name>` from PATH if there is one; returns only if not. */
static void run_external(int argc, const char **argv)
{
	struct strvec args = STRVEC_INIT;
	const char *path = getenv("PATH");
	char *cmd;
	int found = 0;

	/* Names with a slash could escape PATH: never look them up. */
	if (strchr(argv[0], '/') || !path)
		return;
	cmd = xstrfmt("sre-%s", argv[0]);
	for (const char *p = path; p && !found;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		char *full = xstrfmt("%.*s/%s", (int)len, len ? p : ".", cmd);
		found = !access(full, X_OK);
		free(full);
		p = colon ? colon + 1 : NULL;
	}
	if (!found) {
		free(cmd);
		return;
	}
	strvec_push(&args, cmd);
	for (int i = 1; i < argc; i++)
		strvec_push(&args, argv[i]);
	/* The program is not sre: it gets the process as the user left it. */
	restore_core_limit();
	signal(SIGPIPE, SIG_DFL);
	exec_command(args.v);
	die_errno("cannot run %s", cmd);
}

/* ---- running a command ---- */

/*
 * The store opens on first use rather than before the command runs, so
 * that `-h`, a usage mistake or --completion-helper never creates one.
 * With create unset, a store that does not exist yet is not made: the
 * caller gets NULL and reads it as empty.
 */
/*
 * A store the user names (--db, core.db) goes where it says, and only
 * there: a directory that does not exist is a typo far more often than a
 * wish, and creating it would scatter stores whose incidents the next run
 * (without the typo) never sees. Only the default place is created.
 */
static void check_named_store_dir(const char *path, const char *how)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : NULL;
	struct stat st;

	if (dir && stat(dir, &st) < 0 && errno == ENOENT)
		die("cannot put the store at %s (%s): the directory %s does not exist",
		    path, how, dir);
	free(dir);
}

char *sre_store_path(void)
{
	char *path = NULL;

	if (the_sre.db_path) {
		path = xstrdup(the_sre.db_path);
		check_named_store_dir(path, "--db");
	} else {
		int r = config_get_path(&the_sre.cfg, "core.db", &path);
		if (r < 0)
			die("core.db does not name a store");
		if (r > 0)
			path = store_default_path();
		else
			check_named_store_dir(path, "core.db");
	}
	if (!path)
		die("no place for the store: set HOME, XDG_STATE_HOME, core.db or --db");
	return path;
}

void sre_store_close(void)
{
	store_free(the_sre.store);
	the_sre.store = NULL;
}

static struct store *open_store(int create)
{
	char *path;
	int64_t busy = 30000;
	struct stat st;

	if (the_sre.store)
		return the_sre.store;
	path = sre_store_path();
	if (config_get_duration_ms(&the_sre.cfg, "core.busy-timeout", &busy) < 0)
		die("core.busy-timeout is not a duration");
	if (!create && stat(path, &st) < 0 && errno == ENOENT) {
		free(path);
		return NULL;
	}
	if (store_open(&the_sre.store, path, busy) < 0)
		die("cannot open the store %s", path);
	free(path);
	return the_sre.store;
}

struct store *sre_store(void)
{
	return open_store(1);
}

struct tracker *sre_tracker(void)
{
	if (!the_sre.tracker_opened) {
		if (tracker_open(&the_sre.tracker, &the_sre.cfg) < 0)
			die("cannot use the tracker that tracker.kind names");
		the_sre.tracker_opened = 1;
	}
	return the_sre.tracker;
}

struct store *sre_store_if_exists(void)
{
	return open_store(0);
}

/* Is flag among the options (before any "--")? */
static int has_option(int argc, const char **argv, const char *flag)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], flag))
			return 1;
	}
	return 0;
}

static int run_builtin(const struct cmd_struct *c, int argc, const char **argv)
{
	int status;

	the_sre.cmd_name = c->name;
	/* `sre <cmd> [<sub>] --help` is `sre help <cmd>`, as in git. */
	if (c->fn != cmd_help && has_option(argc, argv, "--help")) {
		const char *args[] = { "help", c->name, NULL };
		return cmd_help(2, args);
	}
	if (c->need & NEED_CONFIG) {
		/*
		 * A malformed file is fatal, except to -h and the completion
		 * helper: help and tab completion keep working while the user
		 * mends the file (the error is still printed).
		 */
		int lenient = has_option(argc, argv, "-h") ||
			      has_option(argc, argv, "--completion-helper");
		if (config_load(&the_sre.cfg, &the_sre.overrides) < 0 && !lenient)
			die("cannot read the configuration");
	}
	the_sre.color = color_wanted(&the_sre.cfg, 1);
	status = c->fn(argc, argv);
	/* Exit 128 ends with "fatal:" whoever returned it; the errors above say why. */
	if (status == EXIT_FATAL)
		fprintf(stderr, "fatal: sre %s could not finish\n", c->name);
	tracker_free(the_sre.tracker);
	the_sre.tracker = NULL;
	store_free(the_sre.store);
	the_sre.store = NULL;
	config_clear(&the_sre.cfg);
	return status;
}

static void check_stdout(void)
{
	/* A full disk or a closed pipe must not pass for success. */
	if (fflush(stdout) || ferror(stdout))
		die_errno("write failure on standard output");
	if (fclose(stdout))
		die_errno("close failed on standard output");
}

int main(int argc, const char **argv)
{
	const struct cmd_struct *c;
	int status;

	protect_secrets();
	argv++;
	argc--;
	while (argc > 0 && argv[0][0] == '-') {
		const char *opt = argv[0], *val;

		if (!strcmp(opt, "--version")) {
			printf("sre version %s\n", SRE_VERSION);
			check_stdout();
			return 0;
		} else if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
			list_commands(stdout);
			check_stdout();
			return 0;
		} else if (!strcmp(opt, "--list-cmds")) {
			for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
				printf("%s\n", commands[i].name);
			check_stdout();
			return 0;
		} else if (!strcmp(opt, "-C") || !strcmp(opt, "-c") || !strcmp(opt, "--db")) {
			if (argc < 2) {
				fprintf(stderr, "error: %s needs a value\n", opt);
				usage_exit(sre_usage, NULL);
			}
			val = argv[1];
			argv++;
			argc--;
			if (!strcmp(opt, "-C")) {
				if (*val && chdir(val) < 0)
					die_errno("cannot change to '%s'", val);
			} else if (!strcmp(opt, "-c")) {
				strvec_push(&the_sre.overrides, val);
			} else {
				if (!*val)
					die("--db needs a file name");
				the_sre.db_path = val;
			}
		} else if (skip_prefix(opt, "--db=", &val)) {
			if (!*val)
				die("--db needs a file name");
			the_sre.db_path = val;
		} else {
			fprintf(stderr, "error: unknown option '%s'\n", opt);
			usage_exit(sre_usage, NULL);
		}
		argv++;
		argc--;
	}
	if (argc == 0) {
		list_commands(stderr);
		return EXIT_USAGE;
	}
	c = find_command(argv[0]);
	if (!c) {
		run_external(argc, argv);
		unknown_command(argv[0]);
	}
	status = run_builtin(c, argc, argv);
	check_stdout();
	strvec_clear(&the_sre.overrides);
	return status;
}
