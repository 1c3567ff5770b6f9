/*
 * config.h: sre's configuration, in git-config format.
 *
 * Files are read in this order, later values winning:
 *   system   /etc/sre/config (skipped when SRE_CONFIG_NOSYSTEM is set)
 *   global   $XDG_CONFIG_HOME/sre/config (default ~/.config/sre/config)
 *   local    .sre/config in the current directory (after -C); its
 *            protected keys only under safe.directory, see below
 *   env      the file named by $SRE_CONFIG
 *   command  each -c key=value
 *
 * Keys are "section.name" or "section.subsection.name"; section and name
 * are case-insensitive (stored lower-case), the subsection is not. In a
 * name, '_' reads as '-', so jira.status.PR_MERGED (the state's own
 * spelling) and jira.status.pr-merged are one key.
 *
 * Secrets are never written by sre. A key such as github.token is read from
 * an environment variable or from the standard output of the command named
 * by github.token-command, run from an argv without a shell.
 */
#ifndef SRE_CONFIG_H
#define SRE_CONFIG_H

#include "util.h"
#include "strbuf.h"
#include "strvec.h"

enum config_scope {
	CONFIG_SCOPE_SYSTEM,
	CONFIG_SCOPE_GLOBAL,
	CONFIG_SCOPE_LOCAL,
	CONFIG_SCOPE_ENV,
	CONFIG_SCOPE_COMMAND,
};

struct config_entry {
	char *key;          /* canonical form */
	char *value;        /* NULL for a bare "key" line, which means true */
	const char *origin; /* file path or "command line"; owned by the config */
	int line;           /* 0 for the command line */
	enum config_scope scope;
};

struct config {
	struct config_entry *entries;
	size_t nr, alloc;
	struct strvec origins;
	/*
	 * Protected keys a directory's own .sre/config set outside
	 * safe.directory: kept apart so no lookup ever sees them, and only
	 * `sre config --list --show-origin` shows them.
	 */
	struct config_entry *ignored;
	size_t ignored_nr, ignored_alloc;
};

#define CONFIG_INIT { NULL, 0, 0, STRVEC_INIT, NULL, 0, 0 }

void config_clear(struct config *cfg);

/*
 * Parse one file and append its entries. A missing file is not an error
 * unless must_exist. Returns 0, or -1 after printing an error that names
 * the file and line.
 */
int config_read_file(struct config *cfg, const char *path,
		     enum config_scope scope, int must_exist);

/* Parse text held in memory; origin names it in messages. */
int config_read_buffer(struct config *cfg, const char *buf, size_t len,
		       const char *origin, enum config_scope scope);

/* Add "key=value" from the command line (-c). Returns 0 or -1 (printed). */
int config_add_override(struct config *cfg, const char *key_eq_value);

/*
 * Read every level in order, then the -c overrides. Returns 0, or -1 when a
 * file is malformed (the message names it).
 *
 * Trust: a repository carries its own .sre/config, and a clone is not the
 * user's word. A key flagged CONFIG_PROTECTED in the table below (one that
 * could run a program, send a credential, choose a server, a CA, the store
 * or what sre watches and acts on), any unknown key shaped like one
 * (config_key_is_protected()), and a secret key whose value is a credential
 * reference (it would fetch one of the user's secrets), is honoured from
 * the local level only when the directory or a parent is listed in
 * safe.directory (multi-valued; "*" for any; an empty value clears the
 * list) at a trusted level: system, global, $SRE_CONFIG or -c. Otherwise
 * it moves to cfg->ignored and a warning names it once, with the fix. safe.directory itself is never read
 * from the local level.
 */
int config_load(struct config *cfg, const struct strvec *overrides);

/* The path of a level's file, for writing: caller frees. */
char *config_path_for_scope(enum config_scope scope);

/*
 * Canonicalise a key into out (lower-case section and name). Returns 0, or
 * -1 with a reason in *why when the key is not valid.
 */
int config_key_normalize(const char *key, struct strbuf *out, const char **why);

/* Lookups: the last value wins. */
const struct config_entry *config_get_entry(const struct config *cfg, const char *key);
/* The value, "" for a bare key, or NULL when unset. Borrowed. */
const char *config_get_string(const struct config *cfg, const char *key);
/* Every value of a multi-valued key, in the order read, appended to out (bare keys left out). */
void config_get_all(const struct config *cfg, const char *key, struct strvec *out);
/* These return 0 when set and valid, 1 when unset (out untouched), and -1
 * after printing an error naming the file and line of a bad value. */
int config_get_bool(const struct config *cfg, const char *key, int *out);
int config_get_int(const struct config *cfg, const char *key, long long *out);
int config_get_duration_ms(const struct config *cfg, const char *key, int64_t *out);
/* A path, with a leading ~/ expanded; caller frees *out. */
int config_get_path(const struct config *cfg, const char *key, char **out);

/* Value parsers shared with `sre config` and tests: 0 or -1. */
int config_parse_bool(const char *value, int *out);
int config_parse_int(const char *value, long long *out);

/* True for keys whose value is a secret (token, password, api-key, ...). */
int config_key_is_secret(const char *key);

/*
 * Resolve a secret: the environment variable env (when not NULL and set),
 * else the output of "<key>-command", else the key's own value. A value
 * that is a credential reference (op://, pass:, env:) is resolved by
 * credential_resolve() (lib/credential.h): only after a person approves,
 * else -1. Returns 0 with the secret in out, 1 when none is configured, -1
 * after an error (which never contains the secret or the command's output).
 */
int config_get_secret(const struct config *cfg, const char *key,
		      const char *env, struct strbuf *out);

/*
 * Edit a config file in place, keeping its comments and order: set key to
 * value (replacing the last line that sets it, or adding it to its section),
 * or, when value is NULL, remove every line that sets it. The file is
 * rewritten through a lock file and rename. Returns 0, 1 when unsetting a
 * key that is not there, or -1 (printed).
 */
int config_set_in_file(const char *path, const char *key, const char *value);

/* As config_set_in_file(), but a new line after the key's last: another value. */
int config_add_in_file(const char *path, const char *key, const char *value);

/*
 * How far a directory's own .sre/config is believed for a key. Every row of
 * the table says one or the other (the field sits before help, so a row
 * without it does not compile, and test-config checks each row): a key is
 * classified when it is added.
 */
enum config_trust {
	CONFIG_LOCAL_OK = 1,  /* tuning and looks: harmless from any level */
	CONFIG_PROTECTED = 2, /* runs, sends, chooses or acts: local only under safe.directory */
};

/* The keys sre knows, for `sre config --known-keys` and completion. */
struct config_key_doc {
	const char *key;  /* "<name>" stands for a subsection, "<state>" for a last part */
	const char *type; /* "string", "bool", "int", "duration", "path", "command", or "a|b|c" */
	enum config_trust trust;
	const char *help;
	/*
	 * What an unset key means, as a user would read it ("30s", "auto",
	 * "the login name"); NULL when unset is simply off or unused. Last,
	 * so that a row without it draws -Wmissing-field-initializers: every
	 * row says. `sre config --known-keys` and sre-config(5) print it.
	 */
	const char *def;
};
extern const struct config_key_doc config_known_keys[];

/* The table's row for key, or NULL when sre does not know it. */
const struct config_key_doc *config_key_doc_of(const char *key);

/*
 * Does sre read key? A row of the table, or a secret whose <key>-command
 * has one (github.token, read when neither its variable nor its command is
 * set). key is canonical.
 */
int config_key_is_known(const char *key);

/*
 * For a key sre does not know, the known key it is most likely a slip for,
 * written into out (reset first) as the user would write it: with the
 * user's own subsection (check.web.timout: check.web.timeout), as the row
 * reads when the subsection is missing (check.url: check.<name>.url), or
 * the one key of a section the name spells (core.colour: color.ui).
 * Returns 1 with a suggestion, 0 when key is known or nothing is within
 * two edits (out is then empty). config_load() warns with it, once per
 * key, naming the file and line; `sre config` on get and set.
 */
int config_key_suggest(const char *key, struct strbuf *out);

/*
 * How to give a secret without writing it, for a message: "<cmd key> (a
 * command that prints it) or <VARIABLE>", naming the -command key and the
 * environment variable sre really reads for key, found in the table (so
 * slack.webhook-url names slack.webhook-command and SLACK_WEBHOOK_URL).
 * Written into out (reset first).
 */
void config_secret_hint(const char *key, struct strbuf *out);

/*
 * May a directory's own .sre/config set key only under safe.directory? True
 * for a row flagged CONFIG_PROTECTED and, for a key the table does not know
 * (a later key used before its row was written), for any key shaped like a
 * dangerous one: *-command, *.url, *.api, *.host, *.ca-info, core.db,
 * core.repo, service.*.start|stop, fix.*, safe.*.
 */
int config_key_is_protected(const char *key);

/*
 * Is directory dir (an absolute path) or a parent of it listed in
 * safe.directory at a trusted level of cfg? "*" lists every directory.
 */
int config_directory_is_safe(const struct config *cfg, const char *dir);

/* Check value against a known key's type: 0, or -1 (printed). */
int config_check_value(const char *key, const char *value);

/* ---- lists and subsections, for the sections that name many things ---- */

/*
 * The names of the subsections of a section, in order of first
 * appearance: config_subsections(cfg, "check", &names) gives every
 * <name> of [check "<name>"].
 */
void config_subsections(const struct config *cfg, const char *section,
			struct strvec *out);
/* "<section>.<name>.<key>" written into sb (reset first); returns sb->buf. */
const char *config_key_of(struct strbuf *sb, const char *section, const char *name,
			  const char *key);
/* Is key set in any [<section> "<name>"]? */
int config_any_key(const struct config *cfg, const char *section, const char *key);
/* The items of every value of key, split at seps, blanks trimmed, each once, in order. */
void config_list(const struct config *cfg, const char *key, const char *seps,
		 struct strvec *out);

#endif
