/*
 * test-config.c: unit tests of lib/config.c, printing TAP.
 *
 * The parser is driven through config_read_buffer() and config_read_file()
 * on real files in a scratch directory; secrets come from real child
 * processes; config_set_in_file() is checked byte for byte on the files it
 * rewrites. Messages from error() are captured through a temporary file on
 * fd 2, so a test can check what the user would read.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/config.h"
#include "../../lib/http.h"
#include "../../lib/strbuf.h"
#include "../../lib/strvec.h"
#include "test-lib.h"

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		perror(path);
		abort();
	}
	close(fd);
}

/* The file's content, or "(missing)". Borrowed until the next call. */
static const char *file_text(const char *path)
{
	static struct strbuf sb = STRBUF_INIT;

	strbuf_reset(&sb);
	if (!path) {
		strbuf_release(&sb);
		return NULL;
	}
	if (strbuf_read_file(&sb, path, 0) < 0)
		strbuf_addstr(&sb, "(missing)");
	return sb.buf;
}

/* Compare a file with what it should hold, showing both when they differ. */
#define file_is(path, want, ...) \
	do { \
		const char *got_ = file_text(path); \
		if (!ok(!strcmp(got_, (want)), __VA_ARGS__)) { \
			diag_text("got", got_); \
			diag_text("expected", (want)); \
		} \
	} while (0)

/* Parse text as if it were the file "test.cfg"; stderr captured. */
static int parse(struct config *cfg, const char *text)
{
	int ret;

	config_clear(cfg);
	capture_start();
	ret = config_read_buffer(cfg, text, strlen(text), "test.cfg", CONFIG_SCOPE_LOCAL);
	capture_end();
	return ret;
}

/* Write text to a file named name and read it; stderr captured. */
static int parse_file(struct config *cfg, const char *name, const char *text)
{
	char *path = tmp_path(name);
	int ret;

	write_file(path, text);
	config_clear(cfg);
	capture_start();
	ret = config_read_file(cfg, path, CONFIG_SCOPE_LOCAL, 1);
	capture_end();
	free(path);
	return ret;
}

static const char *get(const struct config *cfg, const char *key)
{
	return config_get_string(cfg, key);
}

/* ---- the parser ---- */

static void test_syntax(void)
{
	struct config cfg = CONFIG_INIT;
	const struct config_entry *e;
	int b = -1;

	is_int(parse(&cfg, "[core]\n\tdb = /var/sre.db\n[color]\nui = never\n"), 0,
	       "a file with two sections parses");
	is_str(get(&cfg, "core.db"), "/var/sre.db", "a key takes its section's name");
	is_str(get(&cfg, "color.ui"), "never", "a key in the second section takes the second name");
	is_str(get(&cfg, "core.ui"), NULL, "a key is not found under another section");
	is_int(cfg.nr, 2, "one entry per key line");

	parse(&cfg, "[CoRe]\n\tBusy-Timeout = 5s\n");
	is_str(get(&cfg, "core.busy-timeout"), "5s", "section and key are case-insensitive");
	is_str(get(&cfg, "CORE.BUSY-TIMEOUT"), "5s", "a lookup in upper case finds the key");
	ok(cfg.nr == 1 && !strcmp(cfg.entries[0].key, "core.busy-timeout"),
	   "the key is stored in lower case");

	is_int(parse(&cfg, "[remote \"Origin\"]\n\turl = A\n[remote \"origin\"]\n\turl = b\n"), 0,
	       "sections with a subsection parse");
	is_str(get(&cfg, "remote.Origin.url"), "A", "the subsection keeps its case");
	is_str(get(&cfg, "remote.origin.url"), "b", "subsections differing in case are different");
	is_str(get(&cfg, "REMOTE.Origin.URL"), "A", "section and name stay case-insensitive around a subsection");
	is_str(get(&cfg, "remote.ORIGIN.url"), NULL, "a subsection in another case is not found");

	is_int(parse(&cfg, "[remote \"a \\\"quoted\\\" \\\\ name\"]\n\turl = x\n"), 0,
	       "a subsection with escaped quote and backslash parses");
	is_str(get(&cfg, "remote.a \"quoted\" \\ name.url"), "x",
	       "\\\" and \\\\ in a subsection stand for \" and \\");

	is_int(parse(&cfg, "[s]\n\tflag\n\tother # with a comment\n"), 0, "bare keys parse");
	e = config_get_entry(&cfg, "s.flag");
	ok(e && e->value == NULL, "a bare key has no value (NULL)");
	is_str(get(&cfg, "s.flag"), "", "config_get_string gives \"\" for a bare key");
	ok(config_get_bool(&cfg, "s.flag", &b) == 0 && b == 1, "a bare key is true");
	ok(config_get_bool(&cfg, "s.other", &b) == 0 && b == 1, "a bare key with a comment is true");

	parse(&cfg, "[s]\n\ta = \"  two  spaces  \"\n\tb = one \"two  three\" four\n\tc=\"\"\n");
	is_str(get(&cfg, "s.a"), "  two  spaces  ", "double quotes keep leading, inner and trailing spaces");
	is_str(get(&cfg, "s.b"), "one two  three four", "quotes may enclose part of a value");
	is_str(get(&cfg, "s.c"), "", "\"\" is the empty string");

	is_int(parse(&cfg, "[s]\n\tv = \"a\\nb\\tc\\bd\\\\e\\\"f\"\n\tw = x\\ty\n"), 0,
	       "escapes parse");
	is_str(get(&cfg, "s.v"), "a\nb\tc\bd\\e\"f", "\\n \\t \\b \\\\ \\\" stand for newline, tab, backspace, backslash, quote");
	is_str(get(&cfg, "s.w"), "x\ty", "escapes work outside quotes too");

	is_int(parse(&cfg, "[s]\n\tv = one \\\n  two\n\tafter = yes\n"), 0, "a continued line parses");
	is_str(get(&cfg, "s.v"), "one   two", "backslash-newline joins the next line, keeping its blanks");
	e = config_get_entry(&cfg, "s.after");
	ok(e && e->line == 4, "the line after a continuation has the right line number");

	is_int(parse(&cfg, "# hash comment\n; semicolon comment\n[s] # after a header\n"
			   "\ta = value # trailing\n\tb = value; trailing\n"
			   "\tc = \"x # not ; a comment\"\n\t# d = commented out\n"), 0,
	       "comments parse");
	is_str(get(&cfg, "s.a"), "value", "# after a value starts a comment");
	is_str(get(&cfg, "s.b"), "value", "; after a value starts a comment");
	is_str(get(&cfg, "s.c"), "x # not ; a comment", "# and ; inside quotes are part of the value");
	is_str(get(&cfg, "s.d"), NULL, "a commented-out key is not set");
	is_int(cfg.nr, 3, "comment lines add no entries");

	parse(&cfg, "[s]\n\ta =   padded value \t  \n\tb = \"quoted \"  \n");
	is_str(get(&cfg, "s.a"), "padded value", "blanks around an unquoted value are trimmed");
	is_str(get(&cfg, "s.b"), "quoted ", "blanks after a closing quote are trimmed, not inside");

	is_int(parse(&cfg, "\xef\xbb\xbf[s]\n\ta = 1\n"), 0, "a UTF-8 BOM at the start is allowed");
	is_str(get(&cfg, "s.a"), "1", "the BOM does not hide the first section");

	is_int(parse(&cfg, "[s]\n\ta = 1\n\ta = 2\n[t]\n\ta = 9\n[s]\n\ta = 3\n"), 0, "repeated keys parse");
	is_str(get(&cfg, "s.a"), "3", "the last value wins");
	e = config_get_entry(&cfg, "s.a");
	ok(e && e->line == 7 && !strcmp(e->origin, "test.cfg"), "the winning entry knows its origin and line");

	is_int(parse(&cfg, "[s]\r\n\ta = 1\r\n\tb = \"q\"\r\n"), 0, "a file with CRLF line ends parses");
	{
		const char *v = get(&cfg, "s.a");
		if (!ok(v && !strcmp(v, "1"), "a value on a CRLF line does not keep the carriage return"))
			printf("#   got %zu bytes, the last 0x%02x\n", v ? strlen(v) : 0,
			       v && *v ? (unsigned char)v[strlen(v) - 1] : 0);
	}
	is_int(parse(&cfg, "[s]\r\n\tflag\r\n"), 0, "a bare key on a CRLF line parses");

	config_clear(&cfg);
}

struct bad_file {
	const char *text;
	int line;
	const char *what;
	const char *why;
};

static void test_malformed(void)
{
	static const struct bad_file bad[] = {
		{ "[s]\n\ta = \"open\n\tb = 1\n", 2, "an unterminated quote", "unterminated quote" },
		{ "# c\n[sec\n\ta = 1\n", 2, "a section header without ']'", "section" },
		{ "[ok]\n[]\n", 2, "an empty section name", "section" },
		{ "[a b]\n", 1, "a subsection without quotes", "quoted" },
		{ "\n\ta = 1\n", 2, "a key outside any section", "outside any section" },
		{ "[s]\n\t1a = 2\n", 2, "a key starting with a digit", "start with a letter" },
		{ "[s]\n\tok = 1\n\ta = \"x\\q\"\n", 3, "an invalid escape", "invalid escape" },
		{ "[s]\n\ta b = 1\n", 2, "a key with a blank inside", "invalid key" },
		{ "[s] x\n", 1, "text after a section header", "after a section header" },
		{ "[ok]\n[remote \"origin\n\turl = x\n", 2, "an unterminated subsection name", "unterminated subsection" },
	};
	struct config cfg = CONFIG_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *name = xstrfmt("bad-%zu.cfg", i);
		char *path = tmp_path(name);
		char *where = xstrfmt("line %d in %s", bad[i].line, path);

		is_int(parse_file(&cfg, name, bad[i].text), -1, "%s is an error", bad[i].what);
		like(captured.buf, where, "the error for %s names the file and line %d", bad[i].what, bad[i].line);
		like(captured.buf, bad[i].why, "the error for %s says why", bad[i].what);
		free(where);
		free(path);
		free(name);
	}

	config_clear(&cfg);
	capture_start();
	is_int(config_read_buffer(&cfg, "[s]\na = 1\n\0x", 11, "nul.cfg", CONFIG_SCOPE_LOCAL), -1,
	       "a file with a NUL byte is refused");
	capture_end();
	like(captured.buf, "nul.cfg", "the error names the file");
	config_clear(&cfg);
}

/* ---- typed values ---- */

static void test_values(void)
{
	static const struct {
		const char *text;
		long long want;
	} ints[] = {
		{ "12", 12 }, { "-3", -3 }, { "1k", 1024 }, { "2M", 2097152 }, { "3g", 3221225472LL },
		{ "-1k", -1024 }, { "9223372036854775807", 9223372036854775807LL },
		{ "8388607g", 8388607LL * 1024 * 1024 * 1024 },
	};
	static const char *const bad_ints[] = {
		"", "x", "1x", "1kb", "1 k", "9223372036854775808", "9223372036854775807k",
		"8589934592g", "-9223372036854775807m",
	};
	static const struct {
		const char *text;
		int64_t want;
	} durations[] = {
		{ "500ms", 500 }, { "30s", 30000 }, { "5m", 300000 }, { "2h", 7200000 },
		{ "7d", 604800000 }, { "1w", 604800000 }, { "1h30m", 5400000 }, { "10", 10000 },
		{ "0", 0 }, { "1m30s", 90000 }, { "1h 30m", 5400000 },
	};
	static const char *const bad_durations[] = {
		"", "5x", "1h30", "ms", "-5s", "5 parsecs", "1.5h", "99999999999999999999d",
	};
	struct config cfg = CONFIG_INIT;
	int b = 7;
	long long n = 7;
	int64_t ms = 7;

	parse(&cfg, "[s]\n\tt1 = true\n\tt2 = YES\n\tt3 = on\n\tt4 = 1\n"
		    "\tf1 = false\n\tf2 = No\n\tf3 = off\n\tf4 = 0\n\tf5 =\n\tbad = maybe\n");
	{
		int good = 1;
		for (int i = 1; i <= 4; i++) {
			char key[16];
			snprintf(key, sizeof(key), "s.t%d", i);
			b = -1;
			good &= config_get_bool(&cfg, key, &b) == 0 && b == 1;
		}
		ok(good, "true, YES, on and 1 are true");
		good = 1;
		for (int i = 1; i <= 5; i++) {
			char key[16];
			snprintf(key, sizeof(key), "s.f%d", i);
			b = -1;
			good &= config_get_bool(&cfg, key, &b) == 0 && b == 0;
		}
		ok(good, "false, No, off, 0 and an empty value are false");
	}
	b = 7;
	capture_start();
	is_int(config_get_bool(&cfg, "s.bad", &b), -1, "\"maybe\" is not a boolean");
	capture_end();
	is_int(b, 7, "a bad boolean leaves the output alone");
	like(captured.buf, "'maybe'", "the error quotes the bad value");
	like(captured.buf, "test.cfg line 11", "the error names the file and line");
	parse(&cfg, "[github]\n\ttoken = hunter2\n");
	capture_start();
	is_int(config_get_bool(&cfg, "github.token", &b), -1, "a secret is not a boolean either");
	capture_end();
	like(captured.buf, "github.token in test.cfg line 2", "the error names the key, file and line");
	unlike(captured.buf, "hunter2", "the error does not show the secret's value");
	parse(&cfg, "[s]\n");
	is_int(config_get_bool(&cfg, "s.unset", &b), 1, "an unset boolean gives 1");
	is_int(b, 7, "an unset boolean leaves the output alone");

	{
		int good = 1;
		for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
			n = 0;
			if (config_parse_int(ints[i].text, &n) || n != ints[i].want) {
				printf("#   '%s' gave %lld\n", ints[i].text, n);
				good = 0;
			}
		}
		ok(good, "integers parse, with k, m and g as powers of 1024");
		good = 1;
		for (size_t i = 0; i < ARRAY_SIZE(bad_ints); i++) {
			n = 7;
			if (!config_parse_int(bad_ints[i], &n) || n != 7) {
				printf("#   '%s' was taken as %lld\n", bad_ints[i], n);
				good = 0;
			}
		}
		ok(good, "junk, unknown units and overflow (also through k, m, g) are rejected");
	}
	parse(&cfg, "[s]\n\tsize = 64k\n\tbig = 99999999999g\n");
	ok(config_get_int(&cfg, "s.size", &n) == 0 && n == 65536, "config_get_int reads 64k as 65536");
	n = 7;
	capture_start();
	is_int(config_get_int(&cfg, "s.big", &n), -1, "config_get_int refuses an overflowing value");
	capture_end();
	ok(n == 7, "an overflowing value leaves the output alone");
	like(captured.buf, "test.cfg line 3", "the error names the file and line");

	{
		struct strbuf text = STRBUF_INIT;
		int good = 1;

		strbuf_addstr(&text, "[d]\n");
		for (size_t i = 0; i < ARRAY_SIZE(durations); i++)
			strbuf_addf(&text, "\tk%zu = %s\n", i, durations[i].text);
		for (size_t i = 0; i < ARRAY_SIZE(bad_durations); i++)
			strbuf_addf(&text, "\tbad%zu = %s\n", i, bad_durations[i]);
		is_int(parse(&cfg, text.buf), 0, "a file of durations parses");
		for (size_t i = 0; i < ARRAY_SIZE(durations); i++) {
			char key[16];
			snprintf(key, sizeof(key), "d.k%zu", i);
			ms = -1;
			if (config_get_duration_ms(&cfg, key, &ms) || ms != durations[i].want) {
				printf("#   '%s' gave %lld ms\n", durations[i].text, (long long)ms);
				good = 0;
			}
		}
		ok(good, "500ms 30s 5m 2h 7d 1w 1h30m, and a bare 10 (seconds), parse to milliseconds");
		good = 1;
		capture_start();
		for (size_t i = 0; i < ARRAY_SIZE(bad_durations); i++) {
			char key[16];
			snprintf(key, sizeof(key), "d.bad%zu", i);
			ms = 7;
			if (config_get_duration_ms(&cfg, key, &ms) != -1 || ms != 7) {
				printf("#   '%s' was taken as %lld ms\n", bad_durations[i], (long long)ms);
				good = 0;
			}
		}
		capture_end();
		ok(good, "\"\", 5x, 1h30 (ambiguous), a bare unit, negatives, 5 parsecs and overflow are rejected");
		like(captured.buf, "bad duration value '5 parsecs' for d.bad5 in test.cfg line",
		     "the error names the value, the key, the file and the line");
		strbuf_release(&text);
	}
	is_int(config_get_duration_ms(&cfg, "d.none", &ms), 1, "an unset duration gives 1");
	config_clear(&cfg);
}

/* ---- include.path ---- */

static void test_include(void)
{
	struct config cfg = CONFIG_INIT;
	char *dir = tmp_path("inc"), *sub = tmp_path("inc/sub");
	char *main_cfg = tmp_path("inc/main.cfg"), *inner = tmp_path("inc/sub/inner.cfg");
	char *abs_cfg = tmp_path("abs.cfg"), *text;
	char *loop1 = tmp_path("inc/loop1.cfg"), *loop2 = tmp_path("inc/loop2.cfg");
	int ret;

	mkdir(dir, 0700);
	mkdir(sub, 0700);
	write_file(inner, "[core]\n\tactor = from-inner\n\tdb = inner.db\n");
	write_file(abs_cfg, "[color]\n\tui = always\n");
	text = xstrfmt("[core]\n\tactor = from-main\n"
		       "[include]\n\tpath = sub/inner.cfg\n\tpath = %s\n\tpath = sub/missing.cfg\n"
		       "[core]\n\tdb = main.db\n", abs_cfg);
	write_file(main_cfg, text);
	free(text);

	config_clear(&cfg);
	capture_start();
	ret = config_read_file(&cfg, main_cfg, CONFIG_SCOPE_LOCAL, 1);
	capture_end();
	is_int(ret, 0, "a file with includes (one of them missing) reads");
	is_str(captured.buf, "", "and says nothing");
	is_str(get(&cfg, "core.actor"), "from-inner",
	       "include.path is relative to the including file, and its values come in at that point");
	is_str(get(&cfg, "color.ui"), "always", "an absolute include.path is read");
	is_str(get(&cfg, "core.db"), "main.db", "a value after the include wins over the included one");
	{
		const struct config_entry *e = NULL;
		for (size_t i = 0; i < cfg.nr; i++)
			if (!strcmp(cfg.entries[i].key, "core.actor") &&
			    !strcmp(cfg.entries[i].value, "from-inner"))
				e = &cfg.entries[i];
		ok(e && !strcmp(e->origin, inner) && e->line == 2,
		   "an included entry names the included file and its line");
	}

	text = xstrfmt("[include]\n\tpath = loop2.cfg\n");
	write_file(loop1, text);
	free(text);
	write_file(loop2, "[include]\n\tpath = loop1.cfg\n[s]\n\tk = v\n");
	config_clear(&cfg);
	capture_start();
	ret = config_read_file(&cfg, loop1, CONFIG_SCOPE_LOCAL, 1);
	capture_end();
	is_int(ret, -1, "an include loop is stopped with an error");
	like(captured.buf, "include.path", "the error is about include.path");
	like(captured.buf, "loop", "the error suggests a loop");

	config_clear(&cfg);
	free(dir);
	free(sub);
	free(main_cfg);
	free(inner);
	free(abs_cfg);
	free(loop1);
	free(loop2);
}

/* ---- keys and overrides ---- */

static void test_keys(void)
{
	static const char *const bad_keys[] = {
		"nodot", ".name", "core.", "core.1st", "co re.x", "core.a+b", "a.sub.", "sec!.x",
	};
	struct strbuf out = STRBUF_INIT;
	struct config cfg = CONFIG_INIT;
	const struct config_entry *e;
	const char *why;
	int good = 1, b = 0;

	ok(!config_key_normalize("Core.Busy-Timeout", &out, &why) && !strcmp(out.buf, "core.busy-timeout"),
	   "normalize folds section and name to lower case");
	ok(!config_key_normalize("Remote.Origin Server.URL", &out, &why) &&
	   !strcmp(out.buf, "remote.Origin Server.url"),
	   "normalize keeps the subsection as it is");
	ok(!config_key_normalize("a.b.c.d", &out, &why) && !strcmp(out.buf, "a.b.c.d"),
	   "the subsection runs from the first dot to the last");
	ok(!config_key_normalize("jira.status.PR_MERGED", &out, &why) &&
	   !strcmp(out.buf, "jira.status.pr-merged"),
	   "an underscore in a name reads as a dash, so a state's own spelling works");
	{
		const char *text = "[jira \"status\"]\n\tINCIDENT_RESOLVED = Closed\n";
		config_read_buffer(&cfg, text, strlen(text), "underscore", CONFIG_SCOPE_LOCAL);
	}
	is_str(config_get_string(&cfg, "jira.status.incident-resolved"), "Closed",
	       "and so it does in a file");
	config_clear(&cfg);
	for (size_t i = 0; i < ARRAY_SIZE(bad_keys); i++) {
		why = NULL;
		if (config_key_normalize(bad_keys[i], &out, &why) != -1 || !why) {
			printf("#   '%s' was accepted as '%s'\n", bad_keys[i], out.buf);
			good = 0;
		}
	}
	ok(good, "keys without a section or name, or with bad characters, are refused with a reason");
	strbuf_release(&out);

	parse(&cfg, "[core]\n\tactor = file\n");
	ok(!config_add_override(&cfg, "Core.Actor=cli") && !strcmp(get(&cfg, "core.actor"), "cli"),
	   "an override with -c wins over the files");
	e = config_get_entry(&cfg, "core.actor");
	ok(e && e->scope == CONFIG_SCOPE_COMMAND && e->line == 0 && !strcmp(e->origin, "command line"),
	   "an override comes from the command line, scope command, line 0");
	ok(!config_add_override(&cfg, "s.expr=a=b") && !strcmp(get(&cfg, "s.expr"), "a=b"),
	   "only the first '=' separates key and value");
	ok(!config_add_override(&cfg, "s.empty=") && !strcmp(get(&cfg, "s.empty"), ""),
	   "key= sets the empty string");
	ok(!config_add_override(&cfg, "s.flag") && config_get_entry(&cfg, "s.flag")->value == NULL &&
	   !config_get_bool(&cfg, "s.flag", &b) && b == 1,
	   "a key without '=' is a bare key, which is true");
	capture_start();
	is_int(config_add_override(&cfg, "nodot=hunter2"), -1, "an override with a bad key is refused");
	capture_end();
	like(captured.buf, "'nodot'", "the error quotes the key");
	unlike(captured.buf, "hunter2", "the error does not show the value, which may be a secret");
	capture_start();
	config_add_override(&cfg, "github.token=abc");
	capture_end();
	like(captured.buf, "process list", "a secret given with -c draws a warning");
	unlike(captured.buf, "abc", "the warning does not repeat the secret");
	config_clear(&cfg);
}

/* ---- secrets ---- */

static int secret(struct config *cfg, const char *key, const char *env, struct strbuf *out)
{
	int ret;

	capture_start();
	ret = config_get_secret(cfg, key, env, out);
	capture_end();
	return ret;
}

static void test_secrets(void)
{
	struct config cfg = CONFIG_INIT;
	struct strbuf out = STRBUF_INIT;

	parse(&cfg, "[github]\n\ttoken = from-file\n\ttoken-command = printf from-command\n");
	setenv("SRE_TEST_TOKEN", "from-env", 1);
	ok(secret(&cfg, "github.token", "SRE_TEST_TOKEN", &out) == 0 && !strcmp(out.buf, "from-env"),
	   "the environment variable wins over the command and the value");
	setenv("SRE_TEST_TOKEN", "", 1);
	ok(secret(&cfg, "github.token", "SRE_TEST_TOKEN", &out) == 0 && !strcmp(out.buf, "from-command"),
	   "an empty environment variable does not count");
	unsetenv("SRE_TEST_TOKEN");

	config_clear(&cfg);
	config_add_override(&cfg, "github.token-command=printf 's3cret\\n'");
	is_int(secret(&cfg, "github.token", "SRE_TEST_TOKEN", &out), 0, "<key>-command runs");
	is_str(out.buf, "s3cret", "its output, without the trailing newline, is the secret");
	is_str(captured.buf, "", "and nothing is printed");

	parse(&cfg, "[github]\n\ttoken-command = echo $HOME `id` ~\n");
	is_int(secret(&cfg, "github.token", NULL, &out), 0, "a command with shell syntax runs");
	is_str(out.buf, "$HOME `id` ~", "it runs without a shell: nothing is expanded");

	parse(&cfg, "[github]\n\ttoken-command = \"sh -c 'echo leaked-output; echo 2nd-line; exit 3'\"\n");
	strbuf_addstr(&out, "old");
	is_int(secret(&cfg, "github.token", NULL, &out), -1, "a failing command is an error");
	is_int(out.len, 0, "nothing is returned from a failing command");
	like(captured.buf, "github.token-command", "the error names the key");
	like(captured.buf, "exit code 3", "the error gives the exit code");
	unlike(captured.buf, "leaked", "the error does not contain the command's output");

	parse(&cfg, "[github]\n\ttoken-command = true\n");
	is_int(secret(&cfg, "github.token", NULL, &out), -1, "a command that prints nothing is an error");
	like(captured.buf, "printed nothing", "the error says it printed nothing");

	parse(&cfg, "[github]\n\ttoken-command = sre-no-such-command-here\n");
	is_int(secret(&cfg, "github.token", NULL, &out), -1, "a command that cannot run is an error");

	parse(&cfg, "[github]\n\ttoken-command = 'unterminated\n");
	is_int(secret(&cfg, "github.token", NULL, &out), -1, "a command with an unterminated quote is an error");
	like(captured.buf, "github.token-command", "the error names the key");

	parse(&cfg, "[github]\n\ttoken = plain\n");
	ok(secret(&cfg, "github.token", "SRE_TEST_TOKEN", &out) == 0 && !strcmp(out.buf, "plain"),
	   "without variable or command, the key's own value is used");

	config_clear(&cfg);
	strbuf_addstr(&out, "old");
	is_int(secret(&cfg, "github.token", "SRE_TEST_TOKEN", &out), 1, "no secret configured gives 1");
	is_int(out.len, 0, "and an empty result");
	parse(&cfg, "[github]\n\ttoken =\n");
	is_int(secret(&cfg, "github.token", "SRE_TEST_TOKEN", &out), 1, "an empty value counts as no secret");

	config_clear(&cfg);
	strbuf_release(&out);
}

/* ---- editing ---- */

static int set(const char *path, const char *key, const char *value)
{
	int ret;

	capture_start();
	ret = config_set_in_file(path, key, value);
	capture_end();
	return ret;
}

static void test_set(void)
{
	static const char *const tricky[] = {
		" leading space", "trailing space ", "#hash", "semi;colon", "say \"hi\"",
		"back\\slash", "tab\tinside", "two\nlines", "", "plain",
	};
	char *path = tmp_path("edit.cfg"), *lock = tmp_path("edit.cfg.lock");
	char *fresh = tmp_path("new/dir/config");
	struct config cfg = CONFIG_INIT;
	struct stat st;
	int good = 1;

	write_file(path, "");
	is_int(set(path, "core.actor", "alice"), 0, "set into an empty file");
	file_is(path, "[core]\n\tactor = alice\n", "an empty file gets the section and the key");

	is_int(set(fresh, "Core.Actor", "bob"), 0, "set into a file that does not exist yet");
	file_is(fresh, "[core]\n\tactor = bob\n", "the file (and its directories) are created");

	write_file(path, "[core]\n\tdb = x.db\n\tactor = a\n\n[color]\n\tui = never\n");
	is_int(set(path, "core.busy-timeout", "5s"), 0, "set a new key into an existing section");
	file_is(path, "[core]\n\tdb = x.db\n\tactor = a\n\tbusy-timeout = 5s\n\n[color]\n\tui = never\n",
		"the key goes after the section's last line, before the blank line and the next section");

	write_file(path, "[color]\n\tui = never\n[core] ; mine\n\tdb = x.db\n");
	is_int(set(path, "core.actor", "z"), 0, "set into a section at the end of the file");
	file_is(path, "[color]\n\tui = never\n[core] ; mine\n\tdb = x.db\n\tactor = z\n",
		"the key is appended to the last section");

	write_file(path, "[core]\n\tdb = x.db");
	is_int(set(path, "core.actor", "z"), 0, "set into a file without a final newline");
	file_is(path, "[core]\n\tdb = x.db\n\tactor = z\n", "a newline is added before the new line");

	write_file(path, "# my settings\n[core]\n\t# who I am\n\tactor = alice\n\n"
			 "[color]\n\tui = never ; keep this\n");
	is_int(set(path, "CORE.actor", "bob"), 0, "replace an existing value");
	file_is(path, "# my settings\n[core]\n\t# who I am\n\tactor = bob\n\n"
		      "[color]\n\tui = never ; keep this\n",
		"only the key's line changes: comments, blank line and other section stay byte for byte");

	write_file(path, "[core]\n\tactor = first\n\tactor = second\n");
	is_int(set(path, "core.actor", "third"), 0, "replace a key set twice");
	file_is(path, "[core]\n\tactor = first\n\tactor = third\n", "the last line that sets it is replaced");

	write_file(path, "");
	for (size_t i = 0; i < ARRAY_SIZE(tricky); i++) {
		char *key = xstrfmt("s.k%zu", i);
		if (set(path, key, tricky[i]))
			good = 0;
		free(key);
	}
	ok(good, "values with blanks, #, ;, quotes, backslashes, tabs and newlines can be set");
	config_clear(&cfg);
	capture_start();
	good = config_read_file(&cfg, path, CONFIG_SCOPE_LOCAL, 1) == 0;
	capture_end();
	for (size_t i = 0; good && i < ARRAY_SIZE(tricky); i++) {
		char *key = xstrfmt("s.k%zu", i);
		const char *v = get(&cfg, key);
		if (!v || strcmp(v, tricky[i])) {
			printf("#   %s: wrote [%s], read back [%s]\n", key, tricky[i], v ? v : "(unset)");
			good = 0;
		}
		free(key);
	}
	if (!ok(good, "each of them reads back equal"))
		diag_text("file", file_text(path));
	ok(strstr(file_text(path), "\tk0 = \" leading space\"\n") &&
	   strstr(file_text(path), "\tk2 = \"#hash\"\n"),
	   "a value with a leading blank or a '#' is written in quotes");

	write_file(path, "[remote]\n\tx = 1\n");
	is_int(set(path, "remote.Origin.url", "git@host:a.git"), 0, "set a key with a subsection");
	file_is(path, "[remote]\n\tx = 1\n[remote \"Origin\"]\n\turl = git@host:a.git\n",
		"it is written under [section \"sub\"], not in [section]");
	is_int(set(path, "remote.Origin.push", "no"), 0, "set a second key in that subsection");
	file_is(path, "[remote]\n\tx = 1\n[remote \"Origin\"]\n\turl = git@host:a.git\n\tpush = no\n",
		"it joins the subsection");
	is_int(set(path, "remote.a\"b\\c.url", "v"), 0, "set a key whose subsection has a quote and a backslash");
	config_clear(&cfg);
	capture_start();
	config_read_file(&cfg, path, CONFIG_SCOPE_LOCAL, 1);
	capture_end();
	is_str(get(&cfg, "remote.a\"b\\c.url"), "v", "the subsection is escaped and reads back");
	is_str(get(&cfg, "remote.Origin.url"), "git@host:a.git", "the other subsection is intact");

	write_file(path, "[s]\n\ta = 1\n\tb = 2\n\ta = 3 # again\n[t]\n\ta = 4\n");
	is_int(set(path, "s.a", NULL), 0, "unset a key set twice");
	file_is(path, "[s]\n\tb = 2\n[t]\n\ta = 4\n", "every line of the key goes, other keys stay");
	is_int(set(path, "s.a", NULL), 1, "unsetting a key that is not there gives 1");
	file_is(path, "[s]\n\tb = 2\n[t]\n\ta = 4\n", "and leaves the file alone");
	free(fresh);
	fresh = tmp_path("never-created.cfg");
	is_int(set(fresh, "s.a", NULL), 1, "unsetting in a missing file gives 1");
	ok(stat(fresh, &st) < 0 && errno == ENOENT, "and does not create the file");

	umask(022);
	write_file(path, "[s]\n\ta = 1\n");
	chmod(path, 0640);
	is_int(set(path, "s.a", "2"), 0, "set in a 0640 file");
	ok(!stat(path, &st) && (st.st_mode & 07777) == 0640, "the file is still mode 0640");
	umask(077);
	chmod(path, 0644);
	is_int(set(path, "s.a", "3"), 0, "set in a 0644 file under umask 077");
	if (!ok(!stat(path, &st) && (st.st_mode & 07777) == 0644,
		"the file keeps mode 0644 whatever the umask (others can still read it)"))
		printf("#   mode is now %04o\n", (unsigned)(st.st_mode & 07777));
	umask(022);

	write_file(path, "[s]\n\ta = 1\n");
	write_file(lock, "");
	is_int(set(path, "s.a", "2"), -1, "an existing lock file makes set fail");
	like(captured.buf, lock, "the error names the lock file");
	file_is(path, "[s]\n\ta = 1\n", "the file is not touched");
	ok(!stat(lock, &st), "the other writer's lock file is left in place");
	unlink(lock);
	ok(stat(lock, &st) < 0 && set(path, "s.a", "2") == 0, "without the lock, set works and leaves no lock");
	ok(stat(lock, &st) < 0, "no lock file remains after a successful set");

	is_int(set(path, "nodot", "1"), -1, "an invalid key is refused");
	like(captured.buf, "invalid key 'nodot'", "the error quotes the key");
	write_file(path, "[s\n\ta = 1\n");
	is_int(set(path, "s.a", "2"), -1, "a malformed file is not edited");
	like(captured.buf, "line 1", "the error names the line");
	file_is(path, "[s\n\ta = 1\n", "the malformed file is left as it was");

	config_clear(&cfg);
	free(fresh);
	free(path);
	free(lock);
}

/* ---- trust: .sre/config under safe.directory ---- */

/* Is key, a row of the table, of a shape that must be protected? */
static int dangerous_shape(const char *key)
{
	const char *last = strrchr(key, '.');

	return ends_with(key, "-command") || !strcmp(last, ".url") || !strcmp(last, ".api") ||
	       !strcmp(last, ".host") || !strcmp(key, "http.ca-info") || !strcmp(key, "core.db") ||
	       !strcmp(key, "core.repo") || starts_with(key, "fix.") ||
	       starts_with(key, "safe.") || starts_with(key, "kubernetes.") ||
	       (starts_with(key, "service.") && (!strcmp(last, ".start") || !strcmp(last, ".stop")));
}

static void test_key_table_trust(void)
{
	int unclassified = 0, unprotected = 0, rows = 0;

	for (const struct config_key_doc *k = config_known_keys; k->key; k++) {
		rows++;
		if (k->trust != CONFIG_LOCAL_OK && k->trust != CONFIG_PROTECTED) {
			unclassified++;
			printf("# %s is neither CONFIG_LOCAL_OK nor CONFIG_PROTECTED\n", k->key);
		}
		if (dangerous_shape(k->key) && k->trust != CONFIG_PROTECTED) {
			unprotected++;
			printf("# %s can run, send, choose or act, but is not CONFIG_PROTECTED\n", k->key);
		}
	}
	ok(rows > 50, "the table has its keys (%d)", rows);
	is_int(unclassified, 0, "every key of the table is classified");
	is_int(unprotected, 0, "every key that runs, sends, chooses or acts is protected");

	ok(config_key_is_protected("github.token-command"), "a *-command of the table is protected");
	ok(config_key_is_protected("service.api.start"), "service.<name>.start is protected");
	ok(config_key_is_protected("github.label.pr-merged"), "a state label is protected");
	ok(!config_key_is_protected("core.actor"), "core.actor is not");
	ok(!config_key_is_protected("http.timeout"), "nor http.timeout");
	ok(config_key_is_protected("newthing.fetch-command"), "an unknown *-command is protected");
	ok(config_key_is_protected("newthing.url"), "an unknown *.url is protected");
	ok(config_key_is_protected("newthing.sub.api"), "an unknown *.api is protected");
	ok(config_key_is_protected("newthing.ca-info"), "an unknown *.ca-info is protected");
	ok(config_key_is_protected("fix.something-new"), "an unknown fix.* is protected");
	ok(config_key_is_protected("service.x.stop"), "service.*.stop is protected");
	ok(!config_key_is_protected("extra.key"), "an unknown harmless key is not");
}

static void test_safe_directory(void)
{
	struct config cfg = CONFIG_INIT;
	char *real = realpath(tmpdir, NULL), *sub = xstrfmt("%s/repo/deeper", real);
	char *listed = xstrfmt("safe.directory=%s/repo", real);
	char *sibling = xstrfmt("safe.directory=%s/rep", real);

	ok(!config_directory_is_safe(&cfg, sub), "nothing listed: not safe");
	config_add_override(&cfg, sibling);
	ok(!config_directory_is_safe(&cfg, sub), "a sibling that starts the same is not a parent");
	config_add_override(&cfg, listed);
	ok(config_directory_is_safe(&cfg, sub), "a listed parent makes it safe");
	config_add_override(&cfg, "safe.directory=");
	ok(!config_directory_is_safe(&cfg, sub), "an empty value clears the list");
	config_add_override(&cfg, "safe.directory=*");
	ok(config_directory_is_safe(&cfg, sub), "* is every directory");
	config_clear(&cfg);

	config_read_buffer(&cfg, "[safe]\n\tdirectory = *\n", 22, ".sre/config",
			   CONFIG_SCOPE_LOCAL);
	ok(!config_directory_is_safe(&cfg, sub), "the local level cannot list itself");
	config_clear(&cfg);
	free(real);
	free(sub);
	free(listed);
	free(sibling);
}

static void test_load_sets_aside(void)
{
	struct config cfg = CONFIG_INIT;
	struct strvec overrides = STRVEC_INIT;
	const char *global = getenv("XDG_CONFIG_HOME");
	char *gdir = xstrfmt("%s/sre", global), *gpath = xstrfmt("%s/config", gdir);
	char *real = realpath(tmpdir, NULL), *trust;

	mkdir(global, 0700);
	mkdir(gdir, 0700);
	mkdir(".sre", 0700);
	write_file(gpath, "[github]\n\tapi = https://api.github.com\n");
	write_file(".sre/config", "[github]\n\tapi = http://evil\n\ttoken-command = evil\n"
		   "\ttoken-command = evil2\n[core]\n\tactor = repo\n");
	capture_start();
	is_int(config_load(&cfg, &overrides), 0, "a local config with protected keys loads");
	capture_end();
	is_str(config_get_string(&cfg, "github.api"), "https://api.github.com",
	       "a protected key from .sre/config is not seen");
	ok(!config_get_string(&cfg, "github.token-command"), "nor its token-command");
	is_str(config_get_string(&cfg, "core.actor"), "repo", "a harmless key is");
	is_int(cfg.ignored_nr, 3, "the three are set aside");
	like(captured.buf, "warning: ignoring github.api from ", "the warning names the key");
	like(captured.buf, "/.sre/config: add ", "and the file");
	like(captured.buf, "to safe.directory in ~/.config/sre/config", "and the way out");
	{
		const char *first = strstr(captured.buf, "ignoring github.token-command");
		ok(first && !strstr(first + 1, "ignoring github.token-command"),
		   "a key set twice is named once");
	}
	config_clear(&cfg);

	trust = xstrfmt("[safe]\n\tdirectory = %s\n", real);
	write_file(gpath, trust);
	capture_start();
	is_int(config_load(&cfg, &overrides), 0, "loads under safe.directory");
	capture_end();
	is_str(config_get_string(&cfg, "github.api"), "http://evil", "then the local key counts");
	is_str(captured.buf, "", "and nothing is said");
	config_clear(&cfg);

	write_file(gpath, "");
	strvec_push(&overrides, "github.token-command=printf from-c");
	capture_start();
	config_load(&cfg, &overrides);
	capture_end();
	is_str(config_get_string(&cfg, "github.token-command"), "printf from-c", "-c is trusted");
	config_clear(&cfg);
	strvec_clear(&overrides);

	unlink(".sre/config");
	rmdir(".sre");
	unlink(gpath);
	free(trust);
	free(real);
	free(gdir);
	free(gpath);
}

static void test_command_deadline(void)
{
	struct config cfg = CONFIG_INIT;
	struct strbuf out = STRBUF_INIT;
	int64_t start;

	parse(&cfg, "[core]\n\tcommand-timeout = 300ms\n"
		    "[github]\n\ttoken-command = \"sh -c 'sleep 30 & exec sleep 30'\"\n");
	start = monotonic_ms();
	is_int(secret(&cfg, "github.token", NULL, &out), -1, "a helper that hangs is an error");
	ok(monotonic_ms() - start < 5000, "within its timeout, not its sleep (%lld ms)",
	   (long long)(monotonic_ms() - start));
	like(captured.buf, "github.token-command ('sh') was cut off after 300 ms and killed",
	     "the error names the key, the program and the timeout");

	parse(&cfg, "[github]\n\ttoken-command = \"sh -c 'exec cat /dev/zero'\"\n");
	is_int(secret(&cfg, "github.token", NULL, &out), -1, "a helper without end is an error");
	like(captured.buf, "wrote more than 65536 bytes", "past its cap");
	is_int(out.len, 0, "and nothing is kept");
	config_clear(&cfg);
	strbuf_release(&out);
}

/* ---- a misspelt key: the nearest known one ---- */

static void test_suggest(void)
{
	static const struct {
		const char *key, *want; /* want NULL: no suggestion */
		const char *why;
	} cases[] = {
		{ "http.timout", "http.timeout", "a letter dropped" },
		{ "core.actr", "core.actor", "in core too" },
		{ "core.colour", "color.ui", "a name that spells a one-key section means its key" },
		{ "tracer.kind", "tracker.kind", "a section misspelt" },
		{ "check.web.timout", "check.web.timeout", "a subsection key keeps the user's subsection" },
		{ "check.Web.timout", "check.Web.timeout", "in the user's case" },
		{ "chek.web.url", "check.web.url", "a section of subsections misspelt" },
		{ "check.url", "check.<name>.url", "a forgotten subsection shows the row" },
		{ "jira.statuss.pr-merged", "jira.status.pr-merged", "a state mapping keeps its state" },
		{ "github.tokn", "github.token", "a secret read behind its -command" },
		{ "kubernetes.namespaces", "kubernetes.namespace", "a plural" },
		{ "http.timeout", NULL, "a known key has none" },
		{ "check.web.prometheus", NULL, "nor a known subsection key" },
		{ "jira.status.pr-merged", NULL, "nor a state mapping" },
		{ "github.token", NULL, "nor a secret sre reads" },
		{ "core.editor", NULL, "three edits away is no slip" },
		{ "myext.colour-scheme", NULL, "an sre-<name> program's key is left alone" },
		{ "core.x", NULL, "a name shorter than its distance is no slip" },
	};
	struct strbuf out = STRBUF_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int r = config_key_suggest(cases[i].key, &out);

		if (cases[i].want) {
			is_int(r, 1, "%s gets a suggestion: %s", cases[i].key, cases[i].why);
			is_str(out.buf, cases[i].want, "%s: %s", cases[i].key, cases[i].why);
		} else {
			is_int(r, 0, "%s gets none: %s", cases[i].key, cases[i].why);
			is_str(out.buf, "", "and out is left empty");
		}
	}
	ok(config_key_is_known("check.any.url") && config_key_is_known("prometheus.password") &&
	   !config_key_is_known("prometheus.passwd") && !config_key_is_known("core.colour"),
	   "known: a row of the table, or a secret behind one of its -command rows");
	strbuf_release(&out);
}

static void test_load_warns_misspelt(void)
{
	struct config cfg = CONFIG_INIT;
	struct strvec overrides = STRVEC_INIT;
	const char *global = getenv("XDG_CONFIG_HOME");
	char *gdir = xstrfmt("%s/sre", global), *gpath = xstrfmt("%s/config", gdir);
	const char *first;

	mkdir(global, 0700);
	mkdir(gdir, 0700);
	write_file(gpath, "[core]\n\tactor = me\n[http]\n\ttimout = 5s\n\ttimout = 6s\n");
	mkdir(".sre", 0700);
	write_file(".sre/config", "[http]\n\ttimout = 7s\n[core]\n\tcolour = auto\n[myext]\n\tanything = 1\n");
	strvec_push(&overrides, "scout.fail-afterr=2");
	capture_start();
	is_int(config_load(&cfg, &overrides), 0, "a file with misspelt keys still loads");
	capture_end();
	first = strstr(captured.buf, "unknown key http.timout");
	like(captured.buf, "warning: unknown key http.timout in ", "a misspelt key is named");
	like(captured.buf, "sre/config line 4; did you mean http.timeout?",
	     "where it is first set, with the nearest key");
	ok(first && !strstr(first + 1, "unknown key http.timout"),
	   "once, though set three times in two files");
	like(captured.buf, "warning: unknown key core.colour in .sre/config line 4; did you mean color.ui?",
	     "each misspelt key is named");
	like(captured.buf, "warning: unknown key scout.fail-afterr on the command line; did you mean scout.fail-after?",
	     "a -c key too");
	ok(!strstr(captured.buf, "myext"), "a key far from every known one draws nothing");
	is_str(config_get_string(&cfg, "http.timout"), "7s", "the key is read all the same");
	config_clear(&cfg);
	strvec_clear(&overrides);

	write_file(gpath, "[http]\n\ttimeout = 5s\n");
	write_file(".sre/config", "[core]\n\tactor = me\n");
	capture_start();
	config_load(&cfg, &overrides);
	capture_end();
	is_str(captured.buf, "", "known keys draw nothing");
	config_clear(&cfg);
	unlink(".sre/config");
	rmdir(".sre");
	unlink(gpath);
	free(gdir);
	free(gpath);
}

/* ---- PromQL quotes taken by the format ---- */

static void test_promql_quotes(void)
{
	struct config cfg = CONFIG_INIT;

	parse(&cfg, "[check \"errors\"]\n\tprometheus = rate(x{code=\"500\"}[5m]) > 0\n");
	is_str(get(&cfg, "check.errors.prometheus"), "rate(x{code=500}[5m]) > 0",
	       "the format takes the quotes (as git's does)");
	like(captured.buf, "warning: test.cfg line 2: the double quotes in check.errors.prometheus "
	     "were read as the config file's own quoting and dropped",
	     "a PromQL value that lost its quotes is named, with file and line");
	like(captured.buf, "so Prometheus would get rate(x{code=500}[5m]) > 0;",
	     "with what Prometheus would get");
	like(captured.buf, "write each quote as \\\": prometheus = rate(x{code=\\\"500\\\"}[5m]) > 0\n",
	     "and the line to write");

	parse(&cfg, "[check \"errors\"]\n\tprometheus = rate(x{code=\\\"500\\\"}[5m]) > 0\n");
	is_str(get(&cfg, "check.errors.prometheus"), "rate(x{code=\"500\"}[5m]) > 0",
	       "the line the warning gives keeps the quotes");
	is_str(captured.buf, "", "and draws nothing");

	parse(&cfg, "[check \"a\"]\n\tprometheus = \"up == 0\"  # a comment\n"
	      "\tsamples = \"sum(up{job=\\\"x\\\"})\"\n");
	is_str(get(&cfg, "check.a.samples"), "sum(up{job=\"x\"})", "quotes around a value, escapes inside");
	is_str(captured.buf, "", "quotes around the whole value are quoting on purpose");

	parse(&cfg, "[check \"m\"]\n\tnumerator = req_total{service=\"quote\"}\n"
	      "\tdenominator = \"a\" b\n\tprometheus = up{a=\"#x\"}\n");
	like(captured.buf, "test.cfg line 2: the double quotes in check.m.numerator",
	     "a metric selector is checked too");
	like(captured.buf, "test.cfg line 3: the double quotes in check.m.denominator",
	     "a pair that does not wrap the whole value lost quotes");
	like(captured.buf, "prometheus = \"up{a=\\\"#x\\\"}\"\n",
	     "a value with # is written in quotes, so the # is no comment");

	/* What the warning says to write reads back as the user meant it. */
	parse(&cfg, "[check \"m\"]\n\tprometheus = \"up{a=\\\"#x\\\"}\"\n");
	is_str(get(&cfg, "check.m.prometheus"), "up{a=\"#x\"}", "the suggested line round-trips");

	parse(&cfg, "[core]\n\tactor = the \"on-call\" bot\n[check \"t\"]\n\ttitle = a \"b\" c\n");
	is_str(captured.buf, "", "quotes in a key that is not PromQL draw nothing");

	parse(&cfg, "[check \"c\"]\n\tprometheus = up{job=\"a\x1b[31m\"}\n");
	ok(!strchr(captured.buf, '\x1b'), "a control character in the value is not printed");
	config_clear(&cfg);
}

static void test_secret_hint(void)
{
	struct strbuf sb = STRBUF_INIT;

	config_secret_hint("slack.webhook-url", &sb);
	is_str(sb.buf, "slack.webhook-command (a command that prints it) or SLACK_WEBHOOK_URL",
	       "slack.webhook-url is told the key sre reads, not slack.webhook-url-command");
	config_secret_hint("slack.webhook", &sb);
	is_str(sb.buf, "slack.webhook-command (a command that prints it) or SLACK_WEBHOOK_URL",
	       "slack.webhook the same");
	config_secret_hint("github.token", &sb);
	is_str(sb.buf, "github.token-command (a command that prints it) or GITHUB_TOKEN",
	       "github.token: its command and variable");
	config_secret_hint("prometheus.password", &sb);
	is_str(sb.buf, "prometheus.password-command (a command that prints it) or PROMETHEUS_PASSWORD",
	       "prometheus.password: its command and variable");
	config_secret_hint("llm.api-key", &sb);
	is_str(sb.buf, "llm.api-key-command (a command that prints it) or OPENAI_API_KEY or "
	       "ANTHROPIC_API_KEY", "llm.api-key: its command and both variables");
	config_secret_hint("vault.token", &sb);
	is_str(sb.buf, "vault.token-command (a command that prints it) or an environment variable",
	       "a secret sre does not know yet: the general way");
	strbuf_release(&sb);
}

int main(void)
{
	if (test_begin("config") < 0)
		return 1;
	if (chdir(tmpdir) < 0) {
		perror(tmpdir);
		return 1;
	}
	test_syntax();
	test_malformed();
	test_values();
	test_include();
	test_keys();
	test_secrets();
	test_set();
	test_key_table_trust();
	test_safe_directory();
	test_load_sets_aside();
	test_command_deadline();
	test_suggest();
	test_load_warns_misspelt();
	test_promql_quotes();
	test_secret_hint();
	file_text(NULL);
	return test_end();
}
