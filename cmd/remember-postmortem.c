/*
 * remember-postmortem.c: `sre remember postmortem`, the blameless
 * post-mortem of a resolved incident in Markdown (lib/postmortem.c), on
 * stdout or in a file.
 *
 * A file is written whole or not at all: the document goes to a
 * temporary file beside it, which is renamed over the target, so a
 * reader (a knowledge repository being committed, an editor) never sees
 * half a document, and a failed write leaves the old one in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"
#include "remember.h"
#include "../lib/memory.h"
#include "../lib/postmortem.h"

const char *const remember_postmortem_usage[] = {
	"sre remember postmortem [-o <file>] <id>",
	NULL,
};

/* Write doc to path through a temporary file in its directory: 0, or -1 after an error. */
static int write_whole(const char *path, const struct strbuf *doc)
{
	const char *slash = strrchr(path, '/');
	char *tmp;
	struct stat sb;
	int fd, ret = 0;

	if (!stat(path, &sb) && S_ISDIR(sb.st_mode))
		return error("'%s' is a directory: give the post-mortem a file name", path);
	if (slash && slash[1] == '\0')
		return error("'%s' names a directory: give the post-mortem a file name", path);
	tmp = slash ? xstrfmt("%.*s/.%s.XXXXXX", (int)(slash - path), path, slash + 1)
		    : xstrfmt(".%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		ret = error_errno("cannot create a file beside %s", path);
		free(tmp);
		return ret;
	}
	/* A document to share: readable by all, whatever the umask made of mkstemp's 0600. */
	if (fchmod(fd, 0644) < 0)
		ret = error_errno("cannot set the mode of %s", tmp);
	for (size_t off = 0; !ret && off < doc->len;) {
		ssize_t n = write(fd, doc->buf + off, doc->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ret = error_errno("cannot write %s", tmp);
		else
			off += (size_t)n;
	}
	if (!ret && fsync(fd) < 0)
		ret = error_errno("cannot write %s", tmp);
	if (close(fd) < 0 && !ret)
		ret = error_errno("cannot write %s", tmp);
	if (!ret && rename(tmp, path) < 0)
		ret = error_errno("cannot write %s", path);
	if (ret)
		unlink(tmp);
	free(tmp);
	return ret;
}

int remember_postmortem(int argc, const char **argv)
{
	const char *file = NULL;
	struct strbuf doc = STRBUF_INIT;
	struct store *st;
	size_t indexed;
	long long id;
	int r;
	const struct option opts[] = {
		OPT_STRING('o', "output", &file, "file", "write the post-mortem to file, not stdout"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, remember_postmortem_usage, 0);
	if (argc != 1)
		usage_error(remember_postmortem_usage, opts,
			    "'sre remember postmortem' takes one incident id");
	if (parse_ll(argv[0], &id) < 0 || id <= 0)
		usage_error(remember_postmortem_usage, opts,
			    "'%s' is not an incident id (a positive number)", argv[0]);
	if (file && !*file)
		usage_error(remember_postmortem_usage, opts, "-o needs a file name");
	st = sre_store_if_exists();
	/*
	 * Similar past incidents come from the memory index: bring it up to
	 * date first, as recall does. A post-mortem is still worth having
	 * without it, so a failure is said and the document written.
	 */
	if (st && memory_index(st, &the_sre.cfg, 0, &indexed) < 0)
		warning("the memory index could not be brought up to date: similar past "
			"incidents may be missing");
	r = st ? postmortem_write(st, &the_sre.cfg, id, &doc) : 1;
	if (r == 1)
		error("no incident %lld", id);
	if (r) {
		strbuf_release(&doc);
		return r < 0 ? EXIT_FATAL : EXIT_FOUND;
	}
	if (file && strcmp(file, "-")) {
		r = write_whole(file, &doc);
		strbuf_release(&doc);
		return r < 0 ? EXIT_FATAL : 0;
	}
	fwrite(doc.buf, 1, doc.len, stdout);
	strbuf_release(&doc);
	return 0;
}
