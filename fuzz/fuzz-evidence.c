/*
 * fuzz-evidence.c: the files of an evidence bundle (lib/evidence.c) as
 * `sre diagnose --bundle` loads them, then the rules run over what was
 * loaded (lib/rules.c) and the diagnosis written as a comment.
 *
 * The input is a bundle in one text, each file introduced by a line
 *   ==> <name> <==
 * (as tail(1) heads them): a bundle's file name, or logs/<name>. It is
 * written to a scratch directory, loaded, and removed.
 */
#include <dirent.h>
#include <fcntl.h>
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

/* Empty dir (files, and logs/ with files) and remove it. */
static void remove_bundle(const char *dir)
{
	char *logs = xstrfmt("%s/logs", dir);
	const char *const sub[] = { logs, dir };

	for (size_t i = 0; i < 2; i++) {
		DIR *d = opendir(sub[i]);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			char *p;

			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			p = xstrfmt("%s/%s", sub[i], e->d_name);
			if (unlink(p) < 0 && rmdir(p) < 0)
				abort();
			free(p);
		}
		if (d)
			closedir(d);
	}
	if (rmdir(dir) < 0)
		abort();
	free(logs);
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
		if (!strncmp(name, "logs/", 5) && evidence_name_ok(name + 5)) {
			char *logs = xstrfmt("%s/logs", dir);
			mkdir(logs, 0700);
			free(logs);
			write_file(dir, name, body, (size_t)(next - body));
		} else if (evidence_name_ok(name)) {
			write_file(dir, name, body, (size_t)(next - body));
		}
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
