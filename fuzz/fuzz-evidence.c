/*
 * fuzz-evidence.c: the files of an evidence bundle (lib/evidence.c) as
 * `sre diagnose --bundle` loads them, then the rules run over what was
 * loaded (lib/rules.c) and the diagnosis written as a comment.
 *
 * The input is a bundle in one text, each file introduced by a line
 *   ==> <name> <==
 * (as tail(1) heads them): a bundle's file name, logs/<name>,
 * logs/<service>/<name>, or the same under baseline/. It is written to a
 * scratch directory, loaded, and removed. With a baseline, the rules rank
 * the call graph (lib/localize.c) too.
 */
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "../lib/evidence.h"
#include "../lib/rules.h"

static char *base;

static void remove_base(void)
{
	rmdir(base);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	base = xstrfmt("%s/sre-fuzz-evidence.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base))
		abort();
	atexit(remove_base);
	return 0;
}

/* A name twice or "logs" as a file may fail to write: the bundle goes without it. */
static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
	char *path = xstrfmt("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd >= 0) {
		if (write(fd, text, len) != (ssize_t)len)
			abort();
		close(fd);
	}
	free(path);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0)
		abort();
	return 0;
}

/* Remove dir and all it holds (never through a link). */
static void remove_bundle(const char *dir)
{
	if (nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		abort();
}

/*
 * A name of at most three parts, each a file name (baseline/logs/x,
 * logs/<service>/x), its directories made on the way; 0, or -1 when it
 * is no such name.
 */
static int make_parents(const char *dir, const char *name)
{
	struct strbuf path = STRBUF_INIT;
	const char *p = name;
	int parts = 0, ret = 0;

	strbuf_addstr(&path, dir);
	while (!ret) {
		size_t n = strcspn(p, "/");
		char *part = xstrndup(p, n);
		ret = evidence_name_ok(part) && ++parts <= 3 ? 0 : -1;
		strbuf_addf(&path, "/%s", part);
		free(part);
		if (ret || !p[n])
			break;
		mkdir(path.buf, 0700);
		p += n + 1;
	}
	strbuf_release(&path);
	return ret;
}

/* Write the files the input holds into dir. */
static void write_bundle(const char *dir, const char *in, size_t size)
{
	static const char head[] = "==> ", tail[] = " <==";
	const char *end = in + size, *p = in;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *body, *next;
		char *name;

		if (!nl)
			break;
		if ((size_t)(nl - p) < sizeof(head) - 1 + sizeof(tail) - 1 ||
		    memcmp(p, head, 4) || memcmp(nl - 4, tail, 4)) {
			p = nl + 1;
			continue;
		}
		name = xstrndup(p + 4, (size_t)(nl - 4 - (p + 4)));
		body = nl + 1;
		/* The file runs to the next head line, or the end. */
		for (next = body; next < end; next++)
			if ((next == body || next[-1] == '\n') && (size_t)(end - next) >= 4 &&
			    !memcmp(next, head, 4))
				break;
		if (!make_parents(dir, name))
			write_file(dir, name, body, (size_t)(next - body));
		free(name);
		p = next;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *dir = xstrfmt("%s/bundle", base);
	struct evidence ev = EVIDENCE_INIT;

	if (mkdir(dir, 0700) < 0)
		abort();
	write_bundle(dir, (const char *)data, size);
	if (evidence_load(&ev, dir) == 0) {
		struct diagnosis d = DIAGNOSIS_INIT;
		struct strbuf sb = STRBUF_INIT;

		if (rules_diagnose(&d, &ev, "checkout is slow") == 0) {
			diagnosis_comment(&sb, &d);
			for (size_t i = 0; i < d.findings_nr; i++)
				cJSON_Delete(diagnosis_finding_json(&d.findings[i]));
		}
		strbuf_release(&sb);
		diagnosis_release(&d);
	}
	evidence_release(&ev);
	remove_bundle(dir);
	free(dir);
	return 0;
}
