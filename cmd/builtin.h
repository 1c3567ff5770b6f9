/*
 * builtin.h: the commands of sre and what the dispatcher gives them.
 *
 * Adding a command, the checklist:
 *   1. a row in the commands[] table of cmd/sre.c, with what it needs
 *      (NEED_CONFIG: loaded before it runs; NEED_STORE: it may call
 *      sre_store(), which opens the store on first use);
 *   2. cmd/<name>.c with int cmd_<name>(int argc, const char **argv) that
 *      declares its options in one struct option array and parses them
 *      with parse_options_or_exit();
 *   3. man/sre-<name>.1.scd whose SYNOPSIS holds each usage line exactly
 *      (tests/t0001-help.sh checks it);
 *   4. nothing for completion: completions/ ask `sre --list-cmds` and
 *      `sre <name> --completion-helper`; add config keys to
 *      config_known_keys in lib/config.c;
 *   5. tests: tests/t<NNNN>-<name>.sh, and unit tests of what it adds to lib/.
 */
#ifndef SRE_BUILTIN_H
#define SRE_BUILTIN_H

#include "../lib/util.h"
#include "../lib/config.h"
#include "../lib/parse-options.h"
#include "../lib/store.h"

struct tracker;

/* What the dispatcher opened for the running command. */
struct sre_context {
	struct config cfg;       /* loaded when the command NEEDs CONFIG */
	struct store *store;     /* opened by sre_store() on first use */
	struct tracker *tracker; /* opened by sre_tracker() on first use */
	int tracker_opened;
	const char *db_path;     /* --db, if given */
	struct strvec overrides; /* -c key=value, in order */
	int color;               /* colour on stdout */
	const char *cmd_name;
};

extern struct sre_context the_sre;

/* The store, opened on first use (dies when it cannot be opened). */
struct store *sre_store(void);
/* The same for commands that only read: NULL when there is no store yet. */
struct store *sre_store_if_exists(void);
/* Where the store is, or would be made (dies when there is no place). */
char *sre_store_path(void);
/* Close the store sre_store() opened, if any (before a fork: a connection stays in its process). */
void sre_store_close(void);

/*
 * The tracker of `tracker.kind`, opened on first use: NULL for the local
 * default (dies when it is misconfigured, e.g. without a token).
 */
struct tracker *sre_tracker(void);

/*
 * Deliver the outbox to the tracker (a no-op without one) and say what
 * happened on stderr. Returns 0, or 1 when a write was refused for good.
 */
int sre_deliver(void);
/* sre_deliver(), its words appended to said a line each rather than printed. */
int sre_deliver_into(struct strbuf *said);

/*
 * The lease a run takes on an incident is lib/engine.h's
 * engine_lease_take(): the engines take it themselves.
 */

/* The person or program sre names as the actor of a change. */
const char *sre_actor(void);

/*
 * parse_options(), dying as a command should: -h prints the usage to
 * stdout and exits 129; a bad option prints the error and usage to stderr
 * and exits 129; --completion-helper exits 0 after printing.
 */
int parse_options_or_exit(int argc, const char **argv, const struct option *opts,
			  const char *const *usage, unsigned mode);
/* Print the usage to stderr and exit 129. */
SRE_NORETURN void usage_exit(const char *const *usage, const struct option *opts);
/* Report a usage mistake (error: ...), then usage_exit(). */
SRE_NORETURN void usage_error(const char *const *usage, const struct option *opts,
			      const char *fmt, ...) SRE_PRINTF(3, 4);

/* Set by `sre help` when no man page can be shown: -h then exits 0. */
extern int help_fallback;

int cmd_config(int argc, const char **argv);
int cmd_diagnose(int argc, const char **argv);
int cmd_doctor(int argc, const char **argv);
int cmd_escalate(int argc, const char **argv);
int cmd_chaos(int argc, const char **argv);
int cmd_run(int argc, const char **argv);
int cmd_fix(int argc, const char **argv);
int cmd_help(int argc, const char **argv);
int cmd_incident(int argc, const char **argv);
int cmd_remember(int argc, const char **argv);
/*
 * remember.postmortems: commit in remember.repo the post-mortem of every
 * resolved incident that has none yet (cmd/remember.c), as the commands
 * that resolve one do after it. 0, or -1 after an error.
 */
int remember_postmortems(void);
int cmd_scout(int argc, const char **argv);
int cmd_sync(int argc, const char **argv);
int cmd_version(int argc, const char **argv);

#endif
