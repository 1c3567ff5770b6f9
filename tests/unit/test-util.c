/*
 * test-util.c: unit tests of the small building blocks of lib/: strbuf,
 * strvec and split_shell_words, parse_options, and timeutil. Prints TAP.
 *
 * Messages from error() are captured through a temporary file on fd 2, so
 * a test can check what the user would read.
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/json.h"
#include "../../lib/parse-options.h"
#include "../../lib/strbuf.h"
#include "../../lib/strvec.h"
#include "../../lib/timeutil.h"
#include "test-lib.h"

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		perror(path);
		abort();
	}
	close(fd);
}

/* ---- strbuf ---- */

static void test_strbuf(void)
{
	struct strbuf sb = STRBUF_INIT, big = STRBUF_INIT;
	char *s, *path, *content;
	size_t len = 99;
	int good;
	long n;

	is_str(sb.buf, "", "a new strbuf holds the empty string");
	is_int(sb.len, 0, "a new strbuf is empty");

	strbuf_addstr(&sb, "inci");
	strbuf_add(&sb, "dent!!", 4);
	strbuf_addch(&sb, ' ');
	strbuf_addchars(&sb, '#', 3);
	is_str(sb.buf, "incident ###", "add, addstr, addch and addchars append in order");
	is_int(sb.len, 12, "len counts the bytes added");

	strbuf_reset(&sb);
	strbuf_add(&sb, "a\0b", 3);
	ok(sb.len == 3 && !memcmp(sb.buf, "a\0b", 4), "add keeps NUL bytes and terminates the string");

	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s-%d", "x", 7);
	strbuf_addf(&sb, "[%0100d]", 42);
	good = sb.len == 3 + 102 && sb.buf[0] == 'x' && sb.buf[4] == '0' &&
	       !strcmp(sb.buf + sb.len - 3, "42]") && sb.alloc > sb.len;
	ok(good, "addf grows past 64 bytes and keeps what was there");

	for (int i = 0; i < 1000; i++)
		strbuf_addf(&big, "%04d,", i);
	good = big.len == 5000 && strlen(big.buf) == 5000;
	for (int i = 0; good && i < 1000; i++) {
		char want[16];
		snprintf(want, sizeof(want), "%04d,", i);
		good = !memcmp(big.buf + 5 * i, want, 5);
	}
	ok(good, "addf grows past 4096 bytes with every piece in its place");
	strbuf_reset(&big);
	strbuf_addf(&big, "%s|%s", "", "");
	is_str(big.buf, "|", "reset empties the strbuf and addf appends from the start");
	strbuf_release(&big);

	strbuf_reset(&sb);
	strbuf_addstr(&sb, " \t  hello   world \n\r ");
	strbuf_trim(&sb);
	is_str(sb.buf, "hello   world", "trim removes blanks at both ends and keeps the inner ones");
	is_int(sb.len, 13, "trim adjusts len");
	strbuf_reset(&sb);
	strbuf_addstr(&sb, " \n\t ");
	strbuf_trim(&sb);
	ok(sb.len == 0 && !strcmp(sb.buf, ""), "trim of blanks only leaves the empty string");
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "  keep left  ");
	strbuf_rtrim(&sb);
	is_str(sb.buf, "  keep left", "rtrim removes only trailing blanks");
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "MiXeD Case 42");
	strbuf_tolower(&sb);
	is_str(sb.buf, "mixed case 42", "tolower folds letters only");

	s = strbuf_detach(&sb, &len);
	is_str(s, "mixed case 42", "detach hands over the string");
	is_int(len, 13, "detach reports its length");
	ok(sb.len == 0 && sb.alloc == 0 && !strcmp(sb.buf, ""), "after detach the strbuf is empty again");
	free(s);
	s = strbuf_detach(&sb, NULL);
	ok(s && !strcmp(s, "") && s != strbuf_slopbuf,
	   "detach of an empty strbuf gives an empty string the caller can free");
	free(s);

	path = xstrfmt("%s/data", tmpdir);
	content = xmalloc(10000);
	for (int i = 0; i < 10000; i++)
		content[i] = (char)('a' + i % 26);
	write_file(path, content, 10000);
	strbuf_addstr(&sb, "kept:");
	errno = 0;
	n = strbuf_read_file(&sb, path, 100);
	ok(n == -1 && errno == EFBIG, "read_file past its cap fails with EFBIG");
	is_str(sb.buf, "kept:", "a read past the cap leaves the strbuf as it was");
	n = strbuf_read_file(&sb, path, 10000);
	ok(n == 10000 && sb.len == 10005 && !memcmp(sb.buf + 5, content, 10000) && !sb.buf[sb.len],
	   "read_file of exactly the cap appends the whole file");
	strbuf_reset(&sb);
	n = strbuf_read_file(&sb, path, 0);
	ok(n == 10000 && sb.len == 10000, "a cap of 0 means no cap");
	strbuf_reset(&sb);
	free(path);
	path = xstrfmt("%s/no-such-file", tmpdir);
	errno = 0;
	n = strbuf_read_file(&sb, path, 0);
	ok(n == -1 && errno == ENOENT, "read_file of a missing file fails with ENOENT");
	free(path);
	free(content);

	{
		const char text[] = "first\n\nlast";
		FILE *fp = fmemopen((void *)text, sizeof(text) - 1, "r");
		int r1 = strbuf_getline(&sb, fp);
		char *l1 = xstrdup(sb.buf);
		int r2 = strbuf_getline(&sb, fp);
		char *l2 = xstrdup(sb.buf);
		int r3 = strbuf_getline(&sb, fp);
		char *l3 = xstrdup(sb.buf);
		int r4 = strbuf_getline(&sb, fp);

		ok(!r1 && !strcmp(l1, "first") && !r2 && !strcmp(l2, "") &&
		   !r3 && !strcmp(l3, "last") && r4 == EOF,
		   "getline gives each line without its newline, an empty line, a last line "
		   "without newline, then EOF");
		fclose(fp);
		free(l1);
		free(l2);
		free(l3);
	}
	strbuf_release(&sb);
}

/* ---- strvec and split_shell_words ---- */

static int words_are(const char *input, int n, ...)
{
	struct strvec sv = STRVEC_INIT;
	const char *err = NULL;
	int good, i = 0;
	va_list ap;

	good = split_shell_words(&sv, input, &err) == 0 && sv.nr == (size_t)n && !sv.v[n];
	va_start(ap, n);
	for (i = 0; good && i < n; i++)
		good = !strcmp(sv.v[i], va_arg(ap, const char *));
	va_end(ap);
	if (!good) {
		printf("#   input: %s\n#   error: %s\n", input, err ? err : "(none)");
		for (size_t j = 0; j < sv.nr; j++)
			printf("#   word %zu: [%s]\n", j, sv.v[j]);
	}
	strvec_clear(&sv);
	return good;
}

static void test_strvec(void)
{
	struct strvec sv = STRVEC_INIT;
	const char *more[] = { "d", "e", NULL };
	const char *err = NULL;

	ok(sv.nr == 0 && sv.v[0] == NULL, "a new strvec is an empty NULL-terminated array");
	strvec_push(&sv, "a");
	strvec_pushf(&sv, "%s-%d", "b", 2);
	strvec_pushl(&sv, "c1", "c2", NULL);
	strvec_pushv(&sv, more);
	ok(sv.nr == 6 && !strcmp(sv.v[0], "a") && !strcmp(sv.v[1], "b-2") &&
	   !strcmp(sv.v[2], "c1") && !strcmp(sv.v[3], "c2") && !strcmp(sv.v[4], "d") &&
	   !strcmp(sv.v[5], "e") && sv.v[6] == NULL,
	   "push, pushf, pushl and pushv append copies in order, NULL-terminated");
	for (int i = 0; i < 100; i++)
		strvec_pushf(&sv, "n%d", i);
	ok(sv.nr == 106 && !strcmp(sv.v[105], "n99") && sv.v[106] == NULL,
	   "a strvec grows and stays NULL-terminated");
	strvec_clear(&sv);
	ok(sv.nr == 0 && sv.v[0] == NULL, "clear leaves an empty, usable strvec");
	strvec_push(&sv, "again");
	ok(sv.nr == 1 && !strcmp(sv.v[0], "again"), "a cleared strvec can be used again");
	strvec_clear(&sv);

	ok(words_are("a 'b c' \"d\\\"e\"", 3, "a", "b c", "d\"e"),
	   "a 'b c' \"d\\\"e\" splits into [a] [b c] [d\"e]");
	ok(words_are("  printf\t\t'%s\\n'   x  ", 3, "printf", "%s\\n", "x"),
	   "runs of blanks separate words; single quotes keep backslashes");
	ok(words_are("a\\ b c\\\\d", 2, "a b", "c\\d"), "a backslash outside quotes quotes the next character");
	ok(words_are("'it'\\''s'", 1, "it's"), "the '\\'' idiom gives a single quote inside a word");
	ok(words_are("x'y'\"z\"w", 1, "xyzw"), "adjacent quoted parts join into one word");
	ok(words_are("\"\\$HOME \\`id\\` a\\b\"", 1, "$HOME `id` a\\b"),
	   "in double quotes, backslash escapes only $ ` \" \\ and keeps itself before others");
	ok(words_are("echo $HOME ~ * $(id)", 5, "echo", "$HOME", "~", "*", "$(id)"),
	   "nothing is expanded: no variables, tilde, globs or command substitution");
	ok(words_are("cmd '' x", 3, "cmd", "", "x"), "'' is an empty argument");

	err = NULL;
	ok(split_shell_words(&sv, "pass 'show token", &err) == -1 && err && strstr(err, "unterminated"),
	   "an unterminated single quote is an error");
	strvec_clear(&sv);
	err = NULL;
	ok(split_shell_words(&sv, "pass \"show token", &err) == -1 && err && strstr(err, "unterminated"),
	   "an unterminated double quote is an error");
	strvec_clear(&sv);
	err = NULL;
	ok(split_shell_words(&sv, "pass show\\", &err) == -1 && err,
	   "a trailing backslash is an error");
	strvec_clear(&sv);
	err = NULL;
	ok(split_shell_words(&sv, "", &err) == -1 && err && strstr(err, "empty"),
	   "an empty command is an error");
	strvec_clear(&sv);
	err = NULL;
	ok(split_shell_words(&sv, " \t \n", &err) == -1 && err && strstr(err, "empty"),
	   "a command of blanks only is an empty command");
	strvec_clear(&sv);
}

/* ---- parse_options ---- */

struct opts {
	int verbose, force, quiet, mode;
	const char *name;
	long long count;
	struct strvec labels;
};

static struct opts o;

static const struct option table[] = {
	OPT_BOOL('v', "verbose", &o.verbose, "say more"),
	OPT_BOOL('f', "force", &o.force, "do it anyway"),
	OPT_BOOL(0, "quiet", &o.quiet, "say less"),
	OPT_STRING('n', "name", &o.name, "name", "the name"),
	OPT_INTEGER('c', "count", &o.count, "n", "how many"),
	OPT_STRING_LIST('l', "label", &o.labels, "label", "add a label"),
	OPT_GROUP("Modes"),
	OPT_CMDMODE(0, "list", &o.mode, "list them", 1),
	OPT_CMDMODE(0, "show", &o.mode, "show one", 2),
	OPT_END(),
};

static void reset_opts(void)
{
	strvec_clear(&o.labels);
	o.verbose = o.force = o.quiet = o.mode = 0;
	o.name = NULL;
	o.count = -1;
}

/* Parse a NULL-terminated argv (without the command name), stderr captured. */
static int parse(const char **args, unsigned mode, const char ***rest)
{
	static const char *argv[32];
	int argc = 1, ret;

	reset_opts();
	argv[0] = "cmd";
	for (; *args; args++)
		argv[argc++] = *args;
	argv[argc] = NULL;
	capture_start();
	ret = parse_options(argc, argv, table, mode);
	capture_end();
	*rest = argv;
	return ret;
}

#define ARGS(...) ((const char *[]){ __VA_ARGS__, NULL })

static void test_parse_options(void)
{
	const char **rest;
	int n;

	o.labels = (struct strvec)STRVEC_INIT;

	n = parse(ARGS("-v", "--name=alpha", "first", "--count", "42", "second"), 0, &rest);
	is_int(n, 2, "two non-option arguments are left");
	ok(n == 2 && !strcmp(rest[0], "first") && !strcmp(rest[1], "second") && !rest[2],
	   "the non-options come first, in order, NULL-terminated");
	ok(o.verbose == 1 && o.force == 0, "-v sets its bool, others stay 0");
	is_str(o.name, "alpha", "--name=alpha sets the string");
	is_int(o.count, 42, "--count 42 takes the next argument");

	n = parse(ARGS("--verbose", "--no-verbose", "--force"), 0, &rest);
	ok(n == 0 && o.verbose == 0 && o.force == 1, "--no-verbose turns off what --verbose turned on");
	n = parse(ARGS("--quiet"), 0, &rest);
	ok(n == 0 && o.quiet == 1, "a bool with only a long name works");

	n = parse(ARGS("--name", "beta", "x"), 0, &rest);
	ok(n == 1 && !strcmp(rest[0], "x"), "--name beta consumes its value, not the next argument");
	is_str(o.name, "beta", "--name beta sets the string from the next argument");
	parse(ARGS("--name="), 0, &rest);
	is_str(o.name, "", "--name= sets the empty string");
	parse(ARGS("--name", "--force"), 0, &rest);
	ok(o.name && !strcmp(o.name, "--force") && o.force == 0,
	   "the value after --name is taken as it is even when it looks like an option");
	parse(ARGS("--name=x", "--no-name"), 0, &rest);
	is_str(o.name, NULL, "--no-name unsets the string");

	parse(ARGS("-n", "gamma"), 0, &rest);
	is_str(o.name, "gamma", "-n gamma takes the next argument");
	parse(ARGS("-ndelta"), 0, &rest);
	is_str(o.name, "delta", "-ndelta takes the rest of the word");
	n = parse(ARGS("-vf"), 0, &rest);
	ok(n == 0 && o.verbose == 1 && o.force == 1, "-vf sets both bundled bools");
	parse(ARGS("-vnepsilon"), 0, &rest);
	ok(o.verbose == 1 && o.name && !strcmp(o.name, "epsilon"),
	   "-vnepsilon sets -v, then -n takes the rest");
	parse(ARGS("-c", "-7"), 0, &rest);
	is_int(o.count, -7, "-c -7 takes a negative number");

	n = parse(ARGS("--count=12x"), 0, &rest);
	is_int(n, PARSE_OPT_ERROR, "an integer option with a bad value is an error");
	like(captured.buf, "'--count' expects a whole number, not '12x'", "the message names the option and the value");
	n = parse(ARGS("-c", "many"), 0, &rest);
	is_int(n, PARSE_OPT_ERROR, "-c with a word is an error");
	like(captured.buf, "'-c' expects a whole number, not 'many'", "the message names the short option");
	n = parse(ARGS("--count"), 0, &rest);
	is_int(n, PARSE_OPT_ERROR, "an option missing its value is an error");
	like(captured.buf, "requires a value", "the message says a value is missing");
	n = parse(ARGS("--no-count"), 0, &rest);
	is_int(n, PARSE_OPT_ERROR, "an integer has no --no- form");

	n = parse(ARGS("-l", "a", "--label", "b", "--label=c", "-ld"), 0, &rest);
	ok(n == 0 && o.labels.nr == 4 && !strcmp(o.labels.v[0], "a") && !strcmp(o.labels.v[1], "b") &&
	   !strcmp(o.labels.v[2], "c") && !strcmp(o.labels.v[3], "d"),
	   "each use of a string list appends, in order");
	parse(ARGS("-l", "a", "--no-label", "-l", "z"), 0, &rest);
	ok(o.labels.nr == 1 && !strcmp(o.labels.v[0], "z"), "--no-label empties the list");

	n = parse(ARGS("--list"), 0, &rest);
	ok(n == 0 && o.mode == 1, "a mode option sets its mode");
	n = parse(ARGS("--list", "--list"), 0, &rest);
	ok(n == 0 && o.mode == 1, "the same mode twice is fine");
	n = parse(ARGS("--list", "--show"), 0, &rest);
	is_int(n, PARSE_OPT_ERROR, "two different modes conflict");
	like(captured.buf, "'--show' cannot be used with another mode", "the message names the conflicting option");
	n = parse(ARGS("--no-list"), 0, &rest);
	is_int(n, PARSE_OPT_ERROR, "a mode has no --no- form");

	n = parse(ARGS("-v", "--", "-f", "--name=x", "--"), 0, &rest);
	ok(n == 3 && !strcmp(rest[0], "-f") && !strcmp(rest[1], "--name=x") && !strcmp(rest[2], "--"),
	   "\"--\" ends the options; what follows is kept as arguments");
	ok(o.verbose == 1 && o.force == 0 && o.name == NULL, "nothing after \"--\" is parsed as an option");

	n = parse(ARGS("a", "-v", "b", "-", "--", "c"), 0, &rest);
	ok(n == 4 && !strcmp(rest[0], "a") && !strcmp(rest[1], "b") && !strcmp(rest[2], "-") &&
	   !strcmp(rest[3], "c") && rest[4] == NULL && o.verbose == 1,
	   "non-options (and a lone \"-\") are kept in order around options");

	n = parse(ARGS("-v", "sub", "-f"), PARSE_OPT_STOP_AT_NON_OPTION, &rest);
	ok(n == 2 && !strcmp(rest[0], "sub") && !strcmp(rest[1], "-f") && o.verbose == 1 && o.force == 0,
	   "STOP_AT_NON_OPTION leaves everything from the first non-option alone");

	n = parse(ARGS("--bogus"), 0, &rest);
	is_int(n, PARSE_OPT_ERROR, "an unknown long option is an error");
	like(captured.buf, "unknown option '--bogus'", "the message names the unknown option");
	n = parse(ARGS("--verb"), 0, &rest);
	is_int(n, PARSE_OPT_ERROR, "a prefix of a long option is not taken as the option");
	n = parse(ARGS("-vz"), 0, &rest);
	is_int(n, PARSE_OPT_ERROR, "an unknown short option is an error");
	like(captured.buf, "unknown switch 'z'", "the message names the unknown switch");
	n = parse(ARGS("--verbose=yes"), 0, &rest);
	is_int(n, PARSE_OPT_ERROR, "a bool given a value is an error");

	n = parse(ARGS("-h"), 0, &rest);
	is_int(n, PARSE_OPT_HELP, "-h asks for help");
	n = parse(ARGS("x", "--help", "--bogus"), 0, &rest);
	is_int(n, PARSE_OPT_HELP, "--help asks for help");

	{
		char *path = xstrfmt("%s/usage", tmpdir);
		FILE *fp = fopen(path, "w+");
		struct strbuf out = STRBUF_INIT;
		static const char *const usage[] = { "cmd [<options>] <arg>", NULL };

		list_options_for_completion(fp, table);
		usage_with_options(fp, usage, table);
		fclose(fp);
		strbuf_read_file(&out, path, 0);
		int good = ok(starts_with(out.buf, "--verbose --force --quiet --name= --count= --label= --list --show "
					"--no-verbose --no-force --no-quiet\n"),
		   "the completion list names every long option, '=' for a value, and --no- for bools");
		good &= ok(strstr(out.buf, "usage: cmd [<options>] <arg>\n") &&
		   strstr(out.buf, "-v, --[no-]verbose") && strstr(out.buf, "-n, --name <name>") &&
		   strstr(out.buf, "\nModes\n") && strstr(out.buf, "--list"),
		   "the usage shows the synopsis, each option with its argument, and groups");
		if (!good)
			diag_text("output", out.buf);
		strbuf_release(&out);
		free(path);
	}
	strvec_clear(&o.labels);
}

/* ---- timeutil ---- */

static void test_timeutil(void)
{
	static const char *const stamps[] = {
		"1970-01-01T00:00:00Z", "2026-11-24T05:07:00Z", "2024-02-29T23:59:59Z",
		"1999-12-31T23:59:59Z", "2038-01-19T03:14:08Z",
	};
	char buf[32];
	time_t t = 12345, now;
	int good = 1;

	format_iso8601(buf, sizeof(buf), 0);
	is_str(buf, "1970-01-01T00:00:00Z", "time 0 is the epoch, in UTC with a Z");
	format_iso8601(buf, sizeof(buf), 1795496820);
	is_str(buf, "2026-11-24T05:07:00Z", "a known time is written as ISO 8601 UTC");
	ok(!parse_iso8601("2026-11-24T05:07:00Z", &t) && t == 1795496820,
	   "the same text parses back to the same time");
	for (size_t i = 0; i < ARRAY_SIZE(stamps); i++) {
		time_t u;
		if (parse_iso8601(stamps[i], &u) < 0) {
			good = 0;
			continue;
		}
		format_iso8601(buf, sizeof(buf), u);
		if (strcmp(buf, stamps[i])) {
			printf("#   %s came back as %s\n", stamps[i], buf);
			good = 0;
		}
	}
	ok(good, "parse then format gives the same text (leap day, 2038 included)");
	good = 1;
	for (time_t u = -86400; u < 4000000000; u += 7777777) {
		time_t v;
		format_iso8601(buf, sizeof(buf), u);
		good &= !parse_iso8601(buf, &v) && v == u;
	}
	ok(good, "format then parse gives the same time, every 90 days over 130 years");

	t = 777;
	ok(parse_iso8601("2026-11-24 05:07:00Z", &t) < 0, "a space for the T is rejected");
	ok(parse_iso8601("2026-11-24T05:07:00", &t) < 0, "a time without the Z is rejected");
	ok(parse_iso8601("2026-11-24T05:07:00Z trailing", &t) < 0, "text after the time is rejected");
	ok(parse_iso8601("", &t) < 0 && parse_iso8601(NULL, &t) < 0, "empty and NULL are rejected");
	ok(parse_iso8601("yesterday", &t) < 0, "words are rejected");
	is_int(t, 777, "a rejected time leaves the output alone");
	ok(parse_iso8601("2026-02-30T00:00:00Z", &t) < 0, "a day that does not exist (30 February) is rejected");
	ok(parse_iso8601("2026-11-24T24:00:00Z", &t) < 0, "hour 24 is rejected");
	ok(parse_iso8601("2026-1-2T3:04:05Z", &t) < 0,
	   "a form other than the one format_iso8601 writes (unpadded fields) is rejected");

	setenv("SRE_NOW", "2026-11-24T05:07:00Z", 1);
	is_int(sre_now(), 1795496820, "SRE_NOW overrides the clock");
	setenv("SRE_NOW", "not a time", 1);
	now = time(NULL);
	t = sre_now();
	ok(t >= now && t <= now + 5, "a malformed SRE_NOW is ignored: the real clock is used");
	unsetenv("SRE_NOW");
	now = time(NULL);
	t = sre_now();
	ok(t >= now && t <= now + 5, "without SRE_NOW, sre_now is the real clock");

	now = 1795496820;
	format_age(buf, sizeof(buf), now, now);
	is_str(buf, "0s", "an age of nothing is 0s");
	format_age(buf, sizeof(buf), now - 59, now);
	is_str(buf, "59s", "under a minute, in seconds");
	format_age(buf, sizeof(buf), now - 60, now);
	is_str(buf, "1m", "a minute is 1m");
	format_age(buf, sizeof(buf), now - 3599, now);
	is_str(buf, "59m", "just under an hour, in whole minutes");
	format_age(buf, sizeof(buf), now - 3600, now);
	is_str(buf, "1h", "an hour is 1h");
	format_age(buf, sizeof(buf), now - 86399, now);
	is_str(buf, "23h", "just under a day, in whole hours");
	format_age(buf, sizeof(buf), now - 86400, now);
	is_str(buf, "1d", "a day is 1d");
	format_age(buf, sizeof(buf), now - 400 * 86400, now);
	is_str(buf, "400d", "long ages stay in days");
	format_age(buf, sizeof(buf), now + 3600, now);
	is_str(buf, "0s", "a time in the future is 0s old");
	format_age(buf, 3, now - 400 * 86400, now);
	is_str(buf, "40", "the age is cut to the buffer and still terminated");
}

/* ---- numbers from outside, and cuts on a UTF-8 boundary ---- */

static void test_checked_numbers(void)
{
	cJSON *j = cJSON_Parse("{\"n\":42,\"neg\":-3,\"frac\":1.5,\"big\":1e300,"
			       "\"inf\":1e999,\"s\":\"7\",\"null\":null,\"huge\":99999999999999999999}");
	long long v = -1;

	ok(j != NULL, "the test JSON parses");
	ok(!json_to_ll(cJSON_GetObjectItem(j, "n"), 0, 100, &v) && v == 42, "a whole number in range is read");
	v = 7;
	ok(json_to_ll(cJSON_GetObjectItem(j, "neg"), 0, 100, &v) < 0 && v == 7,
	   "a number under the minimum is refused, out untouched");
	ok(json_to_ll(cJSON_GetObjectItem(j, "n"), 0, 41, &v) < 0, "a number over the maximum is refused");
	ok(json_to_ll(cJSON_GetObjectItem(j, "frac"), 0, 100, &v) < 0, "a fraction is no count");
	ok(json_to_ll(cJSON_GetObjectItem(j, "big"), LLONG_MIN, LLONG_MAX, &v) < 0,
	   "1e300 is refused even with the widest range");
	ok(json_to_ll(cJSON_GetObjectItem(j, "inf"), LLONG_MIN, LLONG_MAX, &v) < 0,
	   "an infinity is refused");
	ok(json_to_ll(cJSON_GetObjectItem(j, "huge"), 0, JSON_INT_MAX, &v) < 0,
	   "99999999999999999999 is refused");
	ok(json_to_ll(cJSON_GetObjectItem(j, "s"), 0, 100, &v) < 0, "a string is no number");
	ok(json_to_ll(cJSON_GetObjectItem(j, "null"), 0, 100, &v) < 0, "null is no number");
	ok(json_to_ll(NULL, 0, 100, &v) < 0, "a missing item is no number");
	cJSON_Delete(j);

	ok(!double_to_ll(2.9, 0, 10, &v) && v == 2, "a double is truncated toward zero");
	ok(!double_to_ll(-2.9, -10, 10, &v) && v == -2, "a negative double too");
	ok(double_to_ll(NAN, LLONG_MIN, LLONG_MAX, &v) < 0, "NaN is refused");
	ok(double_to_ll(-INFINITY, LLONG_MIN, LLONG_MAX, &v) < 0, "-Inf is refused");
	ok(double_to_ll(9.3e18, LLONG_MIN, LLONG_MAX, &v) < 0, "a double past long long is refused");
	ok(!double_to_ll(9.0e18, 0, LLONG_MAX, &v) && v == 9000000000000000000LL,
	   "a large double that fits is kept");
}

static void test_utf8_cut(void)
{
	const char *s = "ab\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\xa5z"; /* a b é € 🔥 z */
	size_t len = strlen(s);

	is_int(utf8_cut(s, len, 100), len, "a short string is kept whole");
	is_int(utf8_cut(s, len, len), len, "a string of exactly max bytes is kept whole");
	is_int(utf8_cut(s, len, 2), 2, "a cut between ASCII characters stays there");
	is_int(utf8_cut(s, len, 3), 2, "a cut inside a 2-byte character drops it");
	is_int(utf8_cut(s, len, 4), 4, "a cut after a 2-byte character keeps it");
	is_int(utf8_cut(s, len, 5), 4, "a cut after a 3-byte character's first byte drops it");
	is_int(utf8_cut(s, len, 6), 4, "a cut inside a 3-byte character drops it");
	is_int(utf8_cut(s, len, 7), 7, "a cut after a 3-byte character keeps it");
	is_int(utf8_cut(s, len, 10), 7, "a cut before a 4-byte character's last byte drops it");
	is_int(utf8_cut(s, len, 11), 11, "a cut after a 4-byte character keeps it");
	is_int(utf8_cut(s, len, 0), 0, "max 0 keeps nothing");
	is_int(utf8_cut("a\x80\x80\x80\x80\x80", 6, 4), 4,
	       "a run of stray continuation bytes is cut where it stands");
}

static void test_utf8_shorten(void)
{
	char *s;

	s = utf8_shorten("abc", 3);
	is_str(s, "abc", "a line of exactly max characters is kept");
	free(s);
	s = utf8_shorten("abcd", 3);
	is_str(s, "ab\xe2\x80\xa6", "a longer one keeps max - 1 characters and an ellipsis");
	free(s);
	s = utf8_shorten("\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\xa5", 3);
	is_str(s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\xa5", "characters are counted, not bytes");
	free(s);
	s = utf8_shorten("\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\xa5z", 3);
	is_str(s, "\xc3\xa9\xe2\x82\xac\xe2\x80\xa6", "and whole characters are kept");
	free(s);
	s = utf8_shorten("", 5);
	is_str(s, "", "the empty line stays empty");
	free(s);
}

static void test_edit_distance(void)
{
	is_int(edit_distance("", ""), 0, "edit distance: nothing to nothing");
	is_int(edit_distance("scout", "scout"), 0, "edit distance: a word to itself");
	is_int(edit_distance("", "fix"), 3, "edit distance: from nothing, one insertion a character");
	is_int(edit_distance("fix", ""), 3, "edit distance: to nothing, one deletion a character");
	is_int(edit_distance("scuot", "scout"), 2, "edit distance: two letters swapped cost two");
	is_int(edit_distance("diagnos", "diagnose"), 1, "edit distance: a letter left out");
	is_int(edit_distance("kitten", "sitting"), 3, "edit distance: the textbook pair");
	is_int(edit_distance("sitting", "kitten"), 3, "edit distance: the same both ways");
}

/* ---- subcommand_find, print_similar ---- */

static int sub_ran;
static int sub_fn(int argc, const char **argv)
{
	(void)argc;
	(void)argv;
	return ++sub_ran;
}

static void test_subcommands(void)
{
	static const struct subcommand subs[] = {
		{ "open", sub_fn, NULL }, { "list", sub_fn, NULL }, { "show", sub_fn, NULL },
		{ "transition", sub_fn, NULL }, { "comment", sub_fn, NULL }, { NULL, NULL, NULL },
	};
	static const char *const verbs[] = { "get", "set", "unset", "list", NULL };
	const struct subcommand *s;

	s = subcommand_find(subs, "sre incident", "show");
	ok(s && !strcmp(s->name, "show") && s->fn(0, NULL) == 1, "a subcommand is found by its name");

	capture_start();
	s = subcommand_find(subs, "sre incident", "ls");
	capture_end();
	ok(!s, "an unknown subcommand is not found");
	like(captured.buf, "unknown subcommand 'ls' of sre incident", "the error names it and its command");
	like(captured.buf, "The most similar subcommand is\n\tlist\n", "ls suggests list");

	capture_start();
	s = subcommand_find(subs, "sre incident", "shwo");
	capture_end();
	like(captured.buf, "most similar subcommand is\n\tshow\n", "a transposition suggests the word");

	capture_start();
	s = subcommand_find(subs, "sre incident", "tr");
	capture_end();
	like(captured.buf, "\ttransition\n", "a beginning suggests the word it begins");

	capture_start();
	s = subcommand_find(subs, "sre incident", "xyzzy");
	capture_end();
	ok(!strstr(captured.buf, "most similar"), "a word that is no typo suggests nothing");

	capture_start();
	is_int((long long)print_similar(stderr, "verb", "sett", verbs), 1, "print_similar counts what it printed");
	capture_end();
	like(captured.buf, "The most similar verb is\n\tset\n", "print_similar works on a plain list of names");
	capture_start();
	is_int((long long)print_similar(stderr, "verb", "et", verbs), 2, "ties are all printed");
	capture_end();
	like(captured.buf, "The most similar verbs are\n\tget\n\tset\n", "in the table's order");
}

int main(void)
{
	if (test_begin("util") < 0)
		return 1;
	setenv("TZ", "America/New_York", 1); /* UTC must not depend on it */
	tzset();
	test_strbuf();
	test_strvec();
	test_parse_options();
	test_timeutil();
	test_checked_numbers();
	test_edit_distance();
	test_utf8_cut();
	test_utf8_shorten();
	test_subcommands();
	return test_end();
}
