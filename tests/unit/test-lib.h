/*
 * test-lib.h: what the unit tests of lib/ share, beside tap.h: a scratch
 * directory removed at the end, a hermetic environment (HOME and the XDG
 * directories inside it, every SRE_* variable unset), and the capture of
 * what error() prints, so a test can check the message a user would read.
 *
 *   int main(void) {
 *       if (test_begin("config") < 0) return 1;
 *       ...
 *       return test_end();
 *   }
 */
#ifndef SRE_TEST_LIB_H
#define SRE_TEST_LIB_H

#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/strbuf.h"
#include "tap.h"

extern char **environ;

static char tmpdir[64];
static struct strbuf captured = STRBUF_INIT;
static int saved_stderr = -1;

/* Start sending fd 2 to a file in the scratch directory. */
static inline void capture_start(void)
{
	char *path = xstrfmt("%s/stderr", tmpdir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0) {
		perror(path);
		abort();
	}
	fflush(stderr);
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
	free(path);
}

/* Restore fd 2 and return what was written to it (valid until the next). */
static inline const char *capture_end(void)
{
	char *path = xstrfmt("%s/stderr", tmpdir);

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	strbuf_reset(&captured);
	if (strbuf_read_file(&captured, path, 0) < 0)
		strbuf_addstr(&captured, "(cannot read the captured stderr)");
	free(path);
	return captured.buf;
}

/* Show a text under a failed check, one comment line per line. */
static inline void diag_text(const char *what, const char *text)
{
	const char *eol;

	for (; *text; text = *eol ? eol + 1 : eol) {
		eol = strchrnul(text, '\n');
		printf("#   %s: %.*s\n", what, (int)(eol - text), text);
	}
}

/* ok() that the captured message contains needle, showing it when not. */
#define like(msg, needle, ...) \
	do { \
		if (!ok(strstr((msg), (needle)) != NULL, __VA_ARGS__)) \
			diag_text("message", (msg)); \
	} while (0)

/* ok() that the captured message does not contain needle. */
#define unlike(msg, needle, ...) \
	do { \
		if (!ok(strstr((msg), (needle)) == NULL, __VA_ARGS__)) \
			diag_text("message", (msg)); \
	} while (0)

/* Unset every SRE_* variable (restarting the scan, as unsetenv moves environ). */
static inline void unset_sre_env(void)
{
	for (;;) {
		char **e = environ;
		char *name;

		while (*e && !(starts_with(*e, "SRE_") && strchr(*e, '=')))
			e++;
		if (!*e)
			break;
		name = xstrndup(*e, (size_t)(strchr(*e, '=') - *e));
		unsetenv(name);
		free(name);
	}
}

/* HOME and the XDG directories inside the scratch directory. */
static inline void setup_env(void)
{
	static const char *const vars[][2] = {
		{ "XDG_CONFIG_HOME", ".config" }, { "XDG_STATE_HOME", ".local/state" },
		{ "XDG_DATA_HOME", ".local/share" }, { "XDG_CACHE_HOME", ".cache" },
	};
	char *home = xstrfmt("%s/home", tmpdir);

	unset_sre_env();
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		char *v = xstrfmt("%s/%s", home, vars[i][1]);
		setenv(vars[i][0], v, 1);
		free(v);
	}
	free(home);
}

/* A path in the scratch directory; the caller frees it. */
static inline char *tmp_path(const char *name)
{
	return xstrfmt("%s/%s", tmpdir, name);
}

/* Make the scratch directory and the hermetic environment: 0, or -1. */
static inline int test_begin(const char *module)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sre-test-%s.XXXXXX", module);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return -1;
	}
	setup_env();
	return 0;
}

static inline int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove the scratch directory and print the plan; main's exit code. */
static inline int test_end(void)
{
	strbuf_release(&captured);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}

#endif
