/*
 * parse-options.h: declared command-line options (after git's parse-options).
 *
 * A command lists its options once, in an array ended by OPT_END(). The
 * same array parses argv, prints the usage for -h, accepts --no-<flag> for
 * booleans, and lists the options for the completion scripts
 * (--completion-helper), so help and completion cannot drift from the code.
 *
 * parse_options() never exits: it returns the number of arguments left
 * (moved to argv[0..n-1]) or one of the negative PARSE_OPT_* codes below,
 * and the caller in cmd/ decides what to do (see cmd/builtin.h).
 */
#ifndef SRE_PARSE_OPTIONS_H
#define SRE_PARSE_OPTIONS_H

#include <stdint.h>

#include "util.h"

enum parse_opt_type {
	OPTION_END,
	OPTION_GROUP,      /* a heading in the usage */
	OPTION_BOOL,       /* int *: 1, or 0 with --no-<name> */
	OPTION_STRING,     /* const char **: borrowed from argv */
	OPTION_INTEGER,    /* long long * */
	OPTION_STRING_LIST,/* struct strvec *: each use appends */
	OPTION_CMDMODE,    /* int *: set to defval; two different modes conflict */
};

enum parse_opt_flags {
	PARSE_OPT_NONEG = 1 << 0,   /* no --no-<name> form */
	PARSE_OPT_HIDDEN = 1 << 1,  /* not in the usage (still completed) */
};

struct option {
	enum parse_opt_type type;
	int short_name;
	const char *long_name;
	void *value;
	const char *argh;
	const char *help;
	int flags;
	intptr_t defval;
};

#define OPT_END()                         { OPTION_END, 0, NULL, NULL, NULL, NULL, 0, 0 }
#define OPT_GROUP(h)                      { OPTION_GROUP, 0, NULL, NULL, NULL, (h), 0, 0 }
#define OPT_BOOL(s, l, v, h)              { OPTION_BOOL, (s), (l), (v), NULL, (h), 0, 0 }
#define OPT_BOOL_F(s, l, v, h, f)         { OPTION_BOOL, (s), (l), (v), NULL, (h), (f), 0 }
#define OPT_STRING(s, l, v, a, h)         { OPTION_STRING, (s), (l), (v), (a), (h), 0, 0 }
#define OPT_INTEGER(s, l, v, a, h)        { OPTION_INTEGER, (s), (l), (v), (a), (h), 0, 0 }
#define OPT_STRING_LIST(s, l, v, a, h)    { OPTION_STRING_LIST, (s), (l), (v), (a), (h), 0, 0 }
#define OPT_CMDMODE(s, l, v, h, i)        { OPTION_CMDMODE, (s), (l), (v), NULL, (h), PARSE_OPT_NONEG, (i) }

enum {
	PARSE_OPT_HELP = -1,      /* -h or --help: print the usage, exit 129 */
	PARSE_OPT_ERROR = -2,     /* a message was printed: usage, exit 129 */
	PARSE_OPT_COMPLETE = -3,  /* --completion-helper was answered: exit 0 */
};

enum parse_opt_mode {
	PARSE_OPT_STOP_AT_NON_OPTION = 1 << 0,
};

/*
 * argv[0] is the command's name and is skipped. Non-option arguments keep
 * their order. "--" ends the options.
 */
int parse_options(int argc, const char **argv, const struct option *opts,
		  unsigned mode);

/* Print "usage: ..." lines and the option table. */
void usage_with_options(FILE *fp, const char *const *usagestr,
			const struct option *opts);

/* Print every long option (with "=" when it takes a value), one line. */
void list_options_for_completion(FILE *fp, const struct option *opts);

/*
 * Commands with subcommands (`sre incident list`, `sre config get`): one
 * table, ended by a NULL name, that a command looks its first argument up
 * in. usage, when set, is the subcommand's usage lines (for the command's
 * own -h); fn runs it with the subcommand's name as argv[0].
 */
struct subcommand {
	const char *name;
	int (*fn)(int argc, const char **argv);
	const char *const *usage;
};

/*
 * The entry of table named name; else NULL, after printing to stderr
 * "error: unknown subcommand '<name>' of <command>" and the most similar
 * names, as the top level does for commands ("The most similar
 * subcommand is\n\tlist"). command is how the user typed the parent
 * ("sre incident").
 */
const struct subcommand *subcommand_find(const struct subcommand *table,
					 const char *command, const char *name);

/*
 * The words of names (ended by NULL) most similar to name: a typo within
 * three edits or the start of a word, as git suggests. Prints "The most
 * similar <what> is/are" and each one, tab-indented, to fp; returns how
 * many were printed (0: nothing was printed). For a command whose
 * subcommands are not in a struct subcommand table.
 */
size_t print_similar(FILE *fp, const char *what, const char *name, const char *const *names);

/* The subcommands' names on one line, for the completion scripts. */
void list_subcommands_for_completion(FILE *fp, const struct subcommand *table);

#endif
