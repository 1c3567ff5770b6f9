/*
 * config.c: `sre config`, get and set configuration in git-config files.
 */
#include <ctype.h>

#include "builtin.h"
#include "../lib/strbuf.h"
#include "../lib/timeutil.h"

static const char *const config_usage[] = {
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
};

static const char *const scope_names[] = {
	"system", "global", "local", "env", "command",
};

/* Print a value the way --type asks for, or as it is. */
static int print_typed(const struct config_entry *e, const char *type)
{
	const char *v = e->value ? e->value : "";

	if (!type) {
		printf("%s\n", e->value ? e->value : "true");
		return 0;
	}
	if (!strcmp(type, "bool")) {
		int b;
		if (config_parse_bool(e->value, &b) < 0)
			return error("%s = '%s' is not a boolean", e->key, v);
		printf("%s\n", b ? "true" : "false");
	} else if (!strcmp(type, "int")) {
		long long n;
		if (config_parse_int(v, &n) < 0)
			return error("%s = '%s' is not a number", e->key, v);
		printf("%lld\n", n);
	} else if (!strcmp(type, "duration")) {
		int64_t ms;
		if (parse_duration_ms(v, &ms) < 0)
			return error("%s = '%s' is not a duration", e->key, v);
		printf("%lld\n", (long long)ms);
	} else {
		printf("%s\n", v);
	}
	return 0;
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
	       "a shell) or the words it takes. <name> stands for a subsection "
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

int cmd_config(int argc, const char **argv)
{
	int global = 0, local = 0, show_origin = 0, add = 0, man = 0, mode = MODE_DEFAULT;
	const char *file = NULL, *type = NULL;
	struct config single = CONFIG_INIT;
	const struct config *cfg = &the_sre.cfg;
	char *path = NULL;
	int ret = 0;
	const struct option opts[] = {
		OPT_GROUP("Config file location"),
		OPT_BOOL(0, "global", &global, "use the global file ($XDG_CONFIG_HOME/sre/config)"),
		OPT_BOOL(0, "local", &local, "use .sre/config in the current directory (the default for writing)"),
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
	if (add && (mode != MODE_DEFAULT || argc != 2))
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
	if (path && (mode == MODE_LIST || (mode == MODE_DEFAULT && argc == 1))) {
		if (config_read_file(&single, path, global ? CONFIG_SCOPE_GLOBAL :
				     CONFIG_SCOPE_LOCAL, !!file) < 0)
			exit(EXIT_FATAL);
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
		break;
	case MODE_UNSET: {
		struct strbuf canon = STRBUF_INIT;
		const char *why;
		if (argc != 1)
			usage_exit(config_usage, opts);
		if (config_key_normalize(argv[0], &canon, &why) < 0)
			die("invalid key '%s': %s", argv[0], why);
		strbuf_release(&canon);
		if (!path)
			path = config_path_for_scope(CONFIG_SCOPE_LOCAL);
		ret = config_set_in_file(path, argv[0], NULL);
		if (ret < 0)
			exit(EXIT_FATAL);
		if (ret > 0)
			error("%s is not set in %s", argv[0], path);
		break;
	}
	default:
		if (argc == 1) {
			const struct config_entry *e;
			struct strbuf canon = STRBUF_INIT;
			const char *why;
			if (config_key_normalize(argv[0], &canon, &why) < 0)
				die("invalid key '%s': %s", argv[0], why);
			strbuf_release(&canon);
			e = config_get_entry(cfg, argv[0]);
			if (!e) {
				ret = EXIT_FOUND;
				break;
			}
			if (type && !strcmp(type, "path")) {
				char *p = NULL;
				if (config_get_path(cfg, argv[0], &p) < 0)
					exit(EXIT_FATAL);
				printf("%s\n", p);
				free(p);
			} else if (print_typed(e, type) < 0) {
				exit(EXIT_FATAL);
			}
		} else if (argc == 2) {
			struct strbuf canon = STRBUF_INIT;
			const char *why;
			if (config_key_normalize(argv[0], &canon, &why) < 0)
				die("invalid key '%s': %s", argv[0], why);
			if (config_key_is_secret(canon.buf))
				die("%s holds a secret, and sre does not store secrets; set "
				    "%s-command to a command that prints it, or use the "
				    "environment variable its man page names", canon.buf, canon.buf);
			if (config_check_value(canon.buf, argv[1]) < 0)
				exit(EXIT_FATAL);
			if (!path)
				path = config_path_for_scope(CONFIG_SCOPE_LOCAL);
			if ((add ? config_add_in_file(path, argv[0], argv[1]) :
				   config_set_in_file(path, argv[0], argv[1])) < 0)
				exit(EXIT_FATAL);
			if (!global && !file)
				hint_untrusted(canon.buf);
			strbuf_release(&canon);
		} else {
			usage_exit(config_usage, opts);
		}
	}
	config_clear(&single);
	free(path);
	return ret;
}
