/*
 * config.c: `sre config`, get and set configuration in git-config files.
 *
 * Two spellings of each action: git's (`sre config <key>`, `<key> <value>`,
 * --unset, --list) and the verbs git 2.46 added (get, set, unset, list). A
 * key always holds a dot and a verb never does, so the first word tells
 * them apart, and a word near a verb is answered with the verb.
 *
 * What "local" is here: .sre/config in the directory sre runs in (after
 * -C), nowhere above it (config.h). Writing there without --local needs a
 * .sre/ already in that directory, as git writes .git/config only inside a
 * repository: a `sre config core.actor me` typed in the wrong directory
 * must not leave a stray .sre/ behind that changes what sre does there.
 *
 * A secret is never printed: get and list show <redacted> for it.
 */
#include <ctype.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"
#include "../lib/credential.h"
#include "../lib/strbuf.h"
#include "../lib/timeutil.h"

static const char *const config_usage[] = {
	"sre config get [--global | --local | --file <file>] [--type <type>] <key>",
	"sre config set [--global | --local | --file <file>] [--add] <key> <value>",
	"sre config unset [--global | --local | --file <file>] <key>",
	"sre config list [--global | --local | --file <file>] [--show-origin]",
	"sre config [--global | --local | --file <file>] [--type <type>] <key>",
	"sre config [--global | --local | --file <file>] [--add] <key> <value>",
	"sre config [--global | --local | --file <file>] --unset <key>",
	"sre config [--global | --local | --file <file>] --list [--show-origin]",
	"sre config --known-keys [--man]",
	NULL,
};

enum mode {
	MODE_DEFAULT,
	MODE_LIST,
	MODE_UNSET,
	MODE_KNOWN,
	MODE_GET,
	MODE_SET,
};

static const struct {
	const char *name;
	enum mode mode;
	int args; /* how many words follow the verb */
} verbs[] = {
	{ "get", MODE_GET, 1 },
	{ "set", MODE_SET, 2 },
	{ "unset", MODE_UNSET, 1 },
	{ "list", MODE_LIST, 0 },
};

static const char *const scope_names[] = {
	"system", "global", "local", "env", "command",
};

/* Print a value the way --type asks for, or as it is; die when it is not of the type. */
static void print_typed(const struct config_entry *e, const char *type)
{
	const char *v = e->value ? e->value : "";

	if (!type) {
		printf("%s\n", e->value ? e->value : "true");
	} else if (!strcmp(type, "bool")) {
		int b;
		if (config_parse_bool(e->value, &b) < 0)
			die("%s = '%s' is not a boolean", e->key, v);
		printf("%s\n", b ? "true" : "false");
	} else if (!strcmp(type, "int")) {
		long long n;
		if (config_parse_int(v, &n) < 0)
			die("%s = '%s' is not a number", e->key, v);
		printf("%lld\n", n);
	} else if (!strcmp(type, "duration")) {
		int64_t ms;
		if (parse_duration_ms(v, &ms) < 0)
			die("%s = '%s' is not a duration", e->key, v);
		printf("%lld\n", (long long)ms);
	} else {
		printf("%s\n", v);
	}
}

static void print_entry(const struct config_entry *e)
{
	/* A listing is shared and pasted; it never shows a secret. */
	if (!e->value)
		printf("%s\n", e->key);
	else if (config_key_is_secret(e->key))
		printf("%s=<redacted>\n", e->key);
	else
		printf("%s=%s\n", e->key, e->value);
}

/* One row of --known-keys: key, type, help, then its default and trust. */
static void print_known_key(const struct config_key_doc *k)
{
	printf("%-24s %-18s %s", k->key, k->type, k->help);
	if (k->def)
		printf(" (default %s)", k->def);
	printf("%s\n", k->trust == CONFIG_PROTECTED ? " [protected]" : "");
}

/* Text for scdoc, which reads * and _ as emphasis and \ as an escape. */
static void print_scdoc_text(const char *s)
{
	for (; *s; s++) {
		if (*s == '*' || *s == '_' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
}

/* The section of a key: "check" of "check.<name>.url". */
static size_t section_len(const char *key)
{
	const char *dot = strchr(key, '.');

	return dot ? (size_t)(dot - key) : strlen(key);
}

/*
 * sre-config(5), in scdoc, from the key table: the Makefile pipes this
 * through scdoc, so the page lists every key the binary knows, with its
 * type, default and trust, and cannot fall behind the table. Keys are
 * grouped by section, in the order each section first appears.
 */
static void print_known_keys_man(void)
{
	const struct config_key_doc *k, *s, *seen;

	printf("sre-config(5)\n\n"
	       "# NAME\n\n"
	       "sre-config - every configuration key sre knows\n\n"
	       "# DESCRIPTION\n\n"
	       "This page is generated from the key table of *sre* (*sre config "
	       "--known-keys --man*), so it lists exactly the keys this *sre* knows. "
	       "Where the files are, how they are read and how values are written: "
	       "*sre-config*(1).\n\n"
	       "Each key is shown with its type: *string*, *bool*, *int* (a "
	       "number, with an optional k, m or g), *duration* (e.g. 500ms, 30s, "
	       "5m, 1h), *path* (~/ is expanded), *command* (an argv, run without "
	       "a shell), *promql* (a PromQL expression or metric selector: in a "
	       "file, each double quote of it is written \\\\\", as in "
	       "_up{job=\\\\\"api\\\\\"}_, or the format takes it for its own "
	       "quoting and Prometheus gets _up{job=api}_; see *sre-config*(1)) "
	       "or the words it takes. <name> stands for a subsection "
	       "(a check or service name), <state> for an incident state.\n\n"
	       "A key marked *[protected]* runs, sends, chooses or acts: a "
	       "directory's own _.sre/config_ may set it only when that directory "
	       "is listed in *safe.directory* (see *sre-config*(1)). The others "
	       "(tuning and looks) may be set at any level.\n\n"
	       "# KEYS\n");
	for (s = config_known_keys; s->key; s++) {
		size_t n = section_len(s->key);

		for (seen = config_known_keys; seen != s; seen++)
			if (section_len(seen->key) == n && !strncmp(seen->key, s->key, n))
				break;
		if (seen != s)
			continue;
		printf("\n## %.*s\n", (int)n, s->key);
		for (k = s; k->key; k++) {
			if (section_len(k->key) != n || strncmp(k->key, s->key, n))
				continue;
			printf("\n*");
			print_scdoc_text(k->key);
			printf("* (");
			print_scdoc_text(k->type);
			printf(")%s\n\t", k->trust == CONFIG_PROTECTED ? " [protected]" : "");
			putchar(toupper((unsigned char)k->help[0]));
			print_scdoc_text(k->help + 1);
			printf(".\n");
			if (k->def) {
				printf("\tDefault: ");
				print_scdoc_text(k->def);
				printf(".\n");
			}
		}
	}
	printf("\n# SEE ALSO\n\n*sre-config*(1), *sre*(1)\n");
}

/* Say so when a key just written to .sre/config will not be believed here. */
static void hint_untrusted(const char *key)
{
	char *dir = realpath(".", NULL);

	if (config_key_is_protected(key) && (!dir || !config_directory_is_safe(&the_sre.cfg, dir)))
		warning("%s is read from .sre/config only in a directory listed in "
			"safe.directory: trust it with 'sre config --global --add "
			"safe.directory %s', or set %s with --global",
			key, dir ? dir : ".", key);
	free(dir);
}

/* The key in canonical form (caller releases out), or die saying why it is no key. */
static void canonical_key(const char *key, struct strbuf *out)
{
	const char *why;

	if (config_key_normalize(key, out, &why) < 0)
		die("invalid key '%s': %s", key, why);
}

/* A word that is no key (it has no dot): a verb, one near a verb, or neither (-1). */
static int find_verb(const char *word, const char *const *usage, const struct option *opts)
{
	size_t best = SIZE_MAX, at = 0;

	if (strchr(word, '.'))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
		size_t d = edit_distance(word, verbs[i].name);
		if (!d)
			return (int)i;
		/* A tie goes to the verb of the same first letter: lsit is list, not set. */
		if (d < best || (d == best && word[0] == verbs[i].name[0] &&
				 word[0] != verbs[at].name[0])) {
			best = d;
			at = i;
		}
	}
	if (best <= 2 && best < strlen(word))
		usage_error(usage, opts, "'%s' is not a config verb; did you mean '%s'?",
			    word, verbs[at].name);
	return -1;
}

/*
 * The file a write goes to: the one named, else .sre/config when this
 * directory has a .sre/ (see the top of this file). Caller frees.
 */
static char *file_to_write(char *named, const char *key)
{
	struct stat st;

	if (named)
		return named;
	if (stat(".sre", &st) < 0 || !S_ISDIR(st.st_mode)) {
		char *cwd = getcwd(NULL, 0);
		die("%s has no .sre/ to hold a local configuration: use --global to set %s "
		    "for every directory, or --local to create .sre/config here",
		    cwd ? cwd : "this directory", key);
	}
	return config_path_for_scope(CONFIG_SCOPE_LOCAL);
}

/* The nearest known key of a misspelt one, on get and set. */
static void hint_misspelt(const char *key, const char *then)
{
	struct strbuf near = STRBUF_INIT;

	if (config_key_suggest(key, &near))
		warning("unknown key %s; did you mean %s?%s", key, near.buf, then);
	strbuf_release(&near);
}

static int get_key(const struct config *cfg, const char *key, const char *type)
{
	struct strbuf canon = STRBUF_INIT;
	const struct config_entry *e;

	canonical_key(key, &canon);
	e = config_get_entry(cfg, canon.buf);
	if (!e) {
		hint_misspelt(canon.buf, "");
		strbuf_release(&canon);
		return EXIT_FOUND;
	}
	if (config_key_is_secret(canon.buf)) {
		/* Set, and not for the screen, a log or a pasted transcript. */
		printf("<redacted>\n");
	} else if (type && !strcmp(type, "path")) {
		char *p = NULL;
		if (config_get_path(cfg, canon.buf, &p) < 0)
			die("%s is not a path", canon.buf);
		printf("%s\n", p);
		free(p);
	} else {
		print_typed(e, type);
	}
	strbuf_release(&canon);
	return 0;
}

static void set_key(char *named, int local, const char *key, const char *value, int add)
{
	struct strbuf canon = STRBUF_INIT, hint = STRBUF_INIT;
	char *path;

	canonical_key(key, &canon);
	/* A reference (op://, pass:, env:) names where the secret is, and is no secret. */
	if (config_key_is_secret(canon.buf) && !credential_is_reference(value)) {
		config_secret_hint(canon.buf, &hint);
		die("%s holds a secret, and sre does not store secrets; use %s", canon.buf, hint.buf);
	}
	if (config_check_value(canon.buf, value) < 0)
		die("%s not written", canon.buf);
	if (!config_get_entry(&the_sre.cfg, canon.buf))
		hint_misspelt(canon.buf, " (written all the same)");
	path = file_to_write(named, canon.buf);
	if ((add ? config_add_in_file(path, key, value) : config_set_in_file(path, key, value)) < 0)
		die("could not set %s in %s", canon.buf, path);
	if (local)
		hint_untrusted(canon.buf);
	free(path);
	strbuf_release(&canon);
}

static int unset_key(char *named, const char *key)
{
	struct strbuf canon = STRBUF_INIT;
	char *path;
	int r;

	canonical_key(key, &canon);
	path = file_to_write(named, canon.buf);
	r = config_set_in_file(path, key, NULL);
	if (r < 0)
		die("could not unset %s in %s", canon.buf, path);
	if (r > 0)
		error("%s is not set in %s", key, path);
	free(path);
	strbuf_release(&canon);
	return r > 0 ? EXIT_FOUND : 0;
}

static void list_config(const struct config *cfg, int show_origin)
{
	for (size_t i = 0; i < cfg->nr; i++) {
		const struct config_entry *e = &cfg->entries[i];
		if (show_origin) {
			if (e->line)
				printf("%s\tfile:%s:%d\t", scope_names[e->scope], e->origin, e->line);
			else
				printf("%s\tcommand line:\t", scope_names[e->scope]);
		}
		print_entry(e);
	}
	/* What .sre/config set and is not believed, said where it is. */
	for (size_t i = 0; show_origin && i < cfg->ignored_nr; i++) {
		const struct config_entry *e = &cfg->ignored[i];
		printf("ignored\tfile:%s:%d\t", e->origin, e->line);
		print_entry(e);
	}
}

int cmd_config(int argc, const char **argv)
{
	int global = 0, local = 0, show_origin = 0, add = 0, man = 0, mode = MODE_DEFAULT;
	const char *file = NULL, *type = NULL;
	struct config single = CONFIG_INIT;
	const struct config *cfg = &the_sre.cfg;
	char *path = NULL;
	int ret = 0, verb;
	const struct option opts[] = {
		OPT_GROUP("Config file location"),
		OPT_BOOL(0, "global", &global, "use the global file ($XDG_CONFIG_HOME/sre/config)"),
		OPT_BOOL(0, "local", &local, "use .sre/config in the current directory (creating it when there is no .sre/)"),
		OPT_STRING('f', "file", &file, "file", "use the given file"),
		OPT_GROUP("Action"),
		OPT_CMDMODE('l', "list", &mode, "list every setting", MODE_LIST),
		OPT_CMDMODE(0, "unset", &mode, "remove a setting", MODE_UNSET),
		OPT_CMDMODE(0, "known-keys", &mode, "list the keys sre knows, with their types", MODE_KNOWN),
		OPT_GROUP("Other"),
		OPT_STRING('t', "type", &type, "type", "check and print the value as bool, int (bytes), duration (milliseconds) or path (~/ expanded)"),
		OPT_BOOL(0, "show-origin", &show_origin, "with --list, show the file and line each setting comes from, and what .sre/config set that is ignored"),
		OPT_BOOL(0, "add", &add, "add a value to a multi-valued key (safe.directory) instead of replacing the last"),
		OPT_BOOL(0, "man", &man, "with --known-keys, print the keys as the scdoc source of sre-config(5)"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, config_usage, 0);
	/* get, set, unset, list: the verb sets the mode, as the option would. */
	if (argc && (verb = find_verb(argv[0], config_usage, opts)) >= 0) {
		if (mode != MODE_DEFAULT && mode != (int)verbs[verb].mode)
			usage_error(config_usage, opts, "'%s' and the option given do not go together",
				    verbs[verb].name);
		if (argc - 1 != verbs[verb].args)
			usage_exit(config_usage, opts);
		mode = verbs[verb].mode;
		argv++;
		argc--;
	} else if (mode == MODE_DEFAULT) {
		mode = argc == 2 ? MODE_SET : argc == 1 ? MODE_GET : MODE_DEFAULT;
	}
	if (add && mode != MODE_SET)
		usage_error(config_usage, opts, "--add takes a key and a value");
	if (man && mode != MODE_KNOWN)
		usage_error(config_usage, opts, "--man goes with --known-keys");
	if (global + local + !!file > 1)
		usage_error(config_usage, opts, "--global, --local and --file go one at a time");
	if (type && strcmp(type, "bool") && strcmp(type, "int") && strcmp(type, "duration") &&
	    strcmp(type, "path"))
		usage_error(config_usage, opts, "--type takes bool, int, duration or path, not '%s'", type);
	if (global)
		path = config_path_for_scope(CONFIG_SCOPE_GLOBAL);
	else if (local)
		path = config_path_for_scope(CONFIG_SCOPE_LOCAL);
	else if (file)
		path = xstrdup(file);
	if (global && !path)
		die("no global config file: set HOME or XDG_CONFIG_HOME");

	/* Reading one level means reading only that file. */
	if (path && (mode == MODE_LIST || mode == MODE_GET)) {
		if (config_read_file(&single, path, global ? CONFIG_SCOPE_GLOBAL :
				     CONFIG_SCOPE_LOCAL, !!file) < 0)
			die("cannot read the configuration in %s", path);
		cfg = &single;
	}

	switch (mode) {
	case MODE_KNOWN:
		if (argc)
			usage_exit(config_usage, opts);
		if (man)
			print_known_keys_man();
		else
			for (const struct config_key_doc *k = config_known_keys; k->key; k++)
				print_known_key(k);
		break;
	case MODE_LIST:
		if (argc)
			usage_exit(config_usage, opts);
		list_config(cfg, show_origin);
		break;
	case MODE_UNSET:
		if (argc != 1)
			usage_exit(config_usage, opts);
		ret = unset_key(path, argv[0]);
		path = NULL;
		break;
	case MODE_GET:
		ret = get_key(cfg, argv[0], type);
		break;
	case MODE_SET:
		set_key(path, !global && !file, argv[0], argv[1], add);
		path = NULL;
		break;
	default:
		usage_exit(config_usage, opts);
	}
	config_clear(&single);
	free(path);
	return ret;
}
