/*
 * parse-options.c: the option table parser; see parse-options.h.
 */
#include <ctype.h>

#include "parse-options.h"
#include "strvec.h"
#include "strbuf.h"

static int takes_arg(const struct option *o)
{
	return o->type == OPTION_STRING || o->type == OPTION_INTEGER ||
	       o->type == OPTION_STRING_LIST;
}

static void optname(struct strbuf *sb, const struct option *o, int use_short)
{
	if (use_short)
		strbuf_addf(sb, "-%c", o->short_name);
	else
		strbuf_addf(sb, "--%s", o->long_name);
}

/*
 * Apply one option. arg is its value when it takes one (NULL otherwise);
 * unset is true for --no-<name>.
 */
static int apply(const struct option *o, const char *arg, int unset, int use_short)
{
	struct strbuf name = STRBUF_INIT;
	int ret = 0;

	optname(&name, o, use_short);
	switch (o->type) {
	case OPTION_BOOL:
		*(int *)o->value = !unset;
		break;
	case OPTION_STRING:
		*(const char **)o->value = unset ? NULL : arg;
		break;
	case OPTION_INTEGER: {
		long long v;
		if (parse_ll(arg, &v) < 0)
			ret = error("option '%s' expects a whole number, not '%s'", name.buf, arg);
		else
			*(long long *)o->value = v;
		break;
	}
	case OPTION_STRING_LIST:
		if (unset)
			strvec_clear(o->value);
		else
			strvec_push(o->value, arg);
		break;
	case OPTION_CMDMODE: {
		int *mode = o->value;
		if (*mode && *mode != (int)o->defval)
			ret = error("option '%s' cannot be used with another mode option", name.buf);
		else
			*mode = (int)o->defval;
		break;
	}
	default:
		break;
	}
	strbuf_release(&name);
	return ret;
}

static const struct option *find_long(const struct option *opts, const char *name,
				      size_t len, int *unset)
{
	const struct option *o;

	*unset = 0;
	for (o = opts; o->type != OPTION_END; o++)
		if (o->long_name && strlen(o->long_name) == len &&
		    !strncmp(o->long_name, name, len))
			return o;
	if (len > 3 && !strncmp(name, "no-", 3)) {
		for (o = opts; o->type != OPTION_END; o++)
			if (o->long_name && !(o->flags & PARSE_OPT_NONEG) &&
			    o->type != OPTION_CMDMODE &&
			    o->type != OPTION_INTEGER &&
			    strlen(o->long_name) == len - 3 &&
			    !strncmp(o->long_name, name + 3, len - 3)) {
				*unset = 1;
				return o;
			}
	}
	return NULL;
}

static const struct option *find_short(const struct option *opts, int c)
{
	for (const struct option *o = opts; o->type != OPTION_END; o++)
		if (o->short_name == c)
			return o;
	return NULL;
}

int parse_options(int argc, const char **argv, const struct option *opts,
		  unsigned mode)
{
	int out = 0, i;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (arg[0] != '-' || !arg[1]) {
			if (mode & PARSE_OPT_STOP_AT_NON_OPTION)
				break;
			argv[out++] = arg;
			continue;
		}
		if (!strcmp(arg, "--")) {
			i++;
			break;
		}
		if (arg[1] == '-') {
			const char *name = arg + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const struct option *o;
			int unset;

			if (!strcmp(name, "help"))
				return PARSE_OPT_HELP;
			if (!strcmp(name, "completion-helper")) {
				list_options_for_completion(stdout, opts);
				return PARSE_OPT_COMPLETE;
			}
			o = find_long(opts, name, len, &unset);
			if (!o)
				return error("unknown option '%.*s'", (int)len + 2, arg),
				       PARSE_OPT_ERROR;
			if (takes_arg(o) && !unset) {
				const char *val;
				if (eq)
					val = eq + 1;
				else if (i + 1 < argc)
					val = argv[++i];
				else
					return error("option '--%s' requires a value", o->long_name),
					       PARSE_OPT_ERROR;
				if (apply(o, val, 0, 0) < 0)
					return PARSE_OPT_ERROR;
			} else {
				if (eq)
					return error("option '--%.*s' takes no value", (int)len, name),
					       PARSE_OPT_ERROR;
				if (apply(o, NULL, unset, 0) < 0)
					return PARSE_OPT_ERROR;
			}
			continue;
		}
		/* One or more short options: -abc, -ovalue, -o value. */
		for (const char *p = arg + 1; *p; p++) {
			const struct option *o;

			if (*p == 'h' && !find_short(opts, 'h'))
				return PARSE_OPT_HELP;
			o = find_short(opts, *p);
			if (!o)
				return error("unknown switch '%c'", *p), PARSE_OPT_ERROR;
			if (takes_arg(o)) {
				const char *val;
				if (p[1])
					val = p + 1;
				else if (i + 1 < argc)
					val = argv[++i];
				else
					return error("switch '%c' requires a value", *p),
					       PARSE_OPT_ERROR;
				if (apply(o, val, 0, 1) < 0)
					return PARSE_OPT_ERROR;
				break;
			}
			if (apply(o, NULL, 0, 1) < 0)
				return PARSE_OPT_ERROR;
		}
	}
	while (i < argc)
		argv[out++] = argv[i++];
	argv[out] = NULL;
	return out;
}

void usage_with_options(FILE *fp, const char *const *usagestr,
			const struct option *opts)
{
	const struct option *o;
	int first = 1;

	for (; usagestr && *usagestr; usagestr++) {
		fprintf(fp, "%s%s\n", first ? "usage: " : "   or: ", *usagestr);
		first = 0;
	}
	if (opts && opts->type != OPTION_END && opts->type != OPTION_GROUP)
		fputc('\n', fp);
	for (o = opts; o && o->type != OPTION_END; o++) {
		struct strbuf sb = STRBUF_INIT;

		if (o->flags & PARSE_OPT_HIDDEN)
			continue;
		if (o->type == OPTION_GROUP) {
			fprintf(fp, "\n%s\n", o->help);
			continue;
		}
		strbuf_addstr(&sb, "    ");
		if (o->short_name)
			strbuf_addf(&sb, "-%c%s", o->short_name, o->long_name ? ", " : "");
		if (o->long_name) {
			int neg = o->type == OPTION_BOOL && !(o->flags & PARSE_OPT_NONEG);
			strbuf_addf(&sb, "--%s%s", neg ? "[no-]" : "", o->long_name);
		}
		if (takes_arg(o))
			strbuf_addf(&sb, " <%s>", o->argh ? o->argh : "value");
		if (sb.len >= 30) {
			fprintf(fp, "%s\n", sb.buf);
			strbuf_reset(&sb);
		}
		if (sb.len < 30)
			strbuf_addchars(&sb, ' ', 30 - sb.len);
		fprintf(fp, "%s%s\n", sb.buf, o->help ? o->help : "");
		strbuf_release(&sb);
	}
}

void list_options_for_completion(FILE *fp, const struct option *opts)
{
	const char *sep = "";

	for (const struct option *o = opts; o->type != OPTION_END; o++) {
		if (!o->long_name)
			continue;
		fprintf(fp, "%s--%s%s", sep, o->long_name, takes_arg(o) ? "=" : "");
		sep = " ";
	}
	for (const struct option *o = opts; o->type != OPTION_END; o++) {
		if (o->long_name && o->type == OPTION_BOOL && !(o->flags & PARSE_OPT_NONEG))
			fprintf(fp, "%s--no-%s", sep, o->long_name);
	}
	fputc('\n', fp);
}

size_t print_similar(FILE *fp, const char *what, const char *name, const char *const *names)
{
	size_t nr = 0, best = SIZE_MAX, nbest = 0, len = strlen(name), *d;

	while (names[nr])
		nr++;
	if (!nr || !len)
		return 0;
	d = xcalloc(nr, sizeof(*d));
	for (size_t i = 0; i < nr; i++) {
		/* A beginning ("tr" for transition) is the closest of all. */
		d[i] = starts_with(names[i], name) ? 0 : edit_distance(name, names[i]);
		if (d[i] < best) {
			best = d[i];
			nbest = 0;
		}
		nbest += d[i] == best;
	}
	/*
	 * Only what is plausibly a typo (as git does); two edits are always
	 * allowed, so that the habits of other tools ("ls", "rm") find theirs.
	 */
	if (best > 3 || (best > 2 && best >= len)) {
		free(d);
		return 0;
	}
	fprintf(fp, "\nThe most similar %s%s\n", what, nbest > 1 ? "s are" : " is");
	for (size_t i = 0; i < nr; i++)
		if (d[i] == best)
			fprintf(fp, "\t%s\n", names[i]);
	free(d);
	return nbest;
}

const struct subcommand *subcommand_find(const struct subcommand *table,
					 const char *command, const char *name)
{
	struct strvec names = STRVEC_INIT;
	const struct subcommand *s;

	for (s = table; s->name; s++)
		if (!strcmp(s->name, name))
			return s;
	for (s = table; s->name; s++)
		strvec_push(&names, s->name);
	error("unknown subcommand '%s' of %s", name, command);
	print_similar(stderr, "subcommand", name, names.v);
	strvec_clear(&names);
	return NULL;
}

void list_subcommands_for_completion(FILE *fp, const struct subcommand *table)
{
	for (const struct subcommand *s = table; s->name; s++)
		fprintf(fp, "%s%s", s == table ? "" : " ", s->name);
	fputc('\n', fp);
}
