/*
 * chaos-host.c: the faults of sre chaos that act on the host rather than
 * through the service's runtime (runtime.h's shape, so that lib/chaos.c
 * treats them alike):
 *
 *   disk-full  a file of args.size (default 100Mi) allocated with
 *              fallocate in service.<name>.disk-path, a directory the
 *              configuration names, never past what is free there less
 *              chaos.disk-reserve (default 64Mi): the service's disk
 *              fills, the host's does not. Undone by removing that file,
 *              and only it: a name no other file has, made with O_EXCL,
 *              removed only while it is still a regular file.
 *
 * The file is made with O_CREAT|O_EXCL|O_NOFOLLOW under a name of its own
 * (.sre-chaos-fill-<pid>-<time>), so no link planted in the directory can
 * turn the fault onto another file.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "chaos-host.h"
#include "json.h"
#include "timeutil.h"

#define MIB (1024LL * 1024)

/* "64Mi", "1Gi", "512k", bytes: 0 or -1. */
static int size_of(const cJSON *v, long long *out)
{
	const char *s = cJSON_GetStringValue(v);
	char *end;
	long long n;

	if (cJSON_IsNumber(v)) {
		*out = (long long)v->valuedouble;
		return *out > 0 ? 0 : -1;
	}
	if (!s)
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || n <= 0 || end == s)
		return -1;
	if (!strcmp(end, "") || !strcmp(end, "b"))
		*out = n;
	else if (!strcmp(end, "k") || !strcmp(end, "Ki"))
		*out = n * 1024;
	else if (!strcmp(end, "m") || !strcmp(end, "Mi"))
		*out = n * MIB;
	else if (!strcmp(end, "g") || !strcmp(end, "Gi"))
		*out = n * 1024 * MIB;
	else
		return -1;
	return n > (1LL << 40) ? -1 : 0;
}

static int disk_prepare(const struct runtime_call *c, const cJSON *params, cJSON *record,
			struct strbuf *out)
{
	const cJSON *args = json_get(params, "args");
	struct strbuf key = STRBUF_INIT;
	long long size = 100 * MIB, reserve = 64 * MIB, avail;
	char *dir = NULL, *file;
	struct statvfs vfs;
	struct stat st;
	int r = -1;

	if (json_get(args, "size") && size_of(json_get(args, "size"), &size) < 0)
		return runtime_failf(out, "size is a size (100Mi, 2Gi)");
	if (config_get_path(c->cfg, config_key_of(&key, "service", c->t->service, "disk-path"), &dir) < 0 ||
	    !dir) {
		r = runtime_failf(out, "%s is not set: sre fills only a directory the "
				  "configuration names", key.buf);
		goto out;
	}
	if (config_get_int(c->cfg, "chaos.disk-reserve", &reserve) < 0 || reserve < 0) {
		r = runtime_failf(out, "chaos.disk-reserve is not a number of bytes");
		goto out;
	}
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || statvfs(dir, &vfs) < 0) {
		r = runtime_failf(out, "%s is not a directory", dir);
		goto out;
	}
	avail = (long long)vfs.f_bavail * (long long)vfs.f_frsize;
	if (size > avail - reserve)
		size = avail - reserve;
	if (size <= 0) {
		r = runtime_failf(out, "%s has %lld MiB free, no more than chaos.disk-reserve",
				  dir, avail / MIB);
		goto out;
	}
	file = xstrfmt("%s/.sre-chaos-fill-%ld-%lld", dir, (long)getpid(), (long long)sre_now());
	cJSON_AddStringToObject(record, "fault", "disk-full");
	cJSON_AddStringToObject(record, "file", file);
	cJSON_AddNumberToObject(record, "size", (double)size);
	free(file);
	r = 0;
out:
	free(dir);
	strbuf_release(&key);
	return r;
}

static int disk_inject(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	const char *file = runtime_record_string(record, "file", "disk-full", out);
	long long size = json_int(record, "size");
	struct stat st;
	int fd, e;

	(void)c;
	if (!file)
		return -1;
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return runtime_failf(out, "cannot create %s: %s", file, strerror(errno));
	e = posix_fallocate(fd, 0, (off_t)size);
	if (e || fstat(fd, &st) < 0) {
		close(fd);
		unlink(file);
		return runtime_failf(out, "cannot allocate %lld MiB in %s: %s", size / MIB,
				     file, strerror(e ? e : errno));
	}
	close(fd);
	strbuf_addf(out, "%lld MiB allocated in %s", size / MIB, file);
	return 0;
}

/* The file is ours when it is where the record says, a regular file, and was made by the fault. */
static int disk_revert(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	const char *file = runtime_record_string(record, "file", "disk-full", out);
	struct stat st;

	(void)c;
	if (!file)
		return -1;
	if (lstat(file, &st) < 0) {
		if (errno != ENOENT)
			return runtime_failf(out, "%s: %s", file, strerror(errno));
		strbuf_addf(out, "%s is gone already", file);
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return runtime_failf(out, "%s is no longer the file sre made: left alone", file);
	if (unlink(file) < 0)
		return runtime_failf(out, "cannot remove %s: %s", file, strerror(errno));
	strbuf_addf(out, "%s removed", file);
	return 0;
}

static int disk_check(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	const char *file = json_string(record, "file");
	struct stat st;

	(void)c;
	if (file && lstat(file, &st) == 0) {
		strbuf_addf(out, "%s is still there", file);
		return 0;
	}
	strbuf_addstr(out, "the fill file is gone");
	return 1;
}

static const struct runtime_action disk_in = { disk_prepare, disk_inject, NULL };
static const struct runtime_action disk_out = { NULL, disk_revert, disk_check };

const struct runtime_ops chaos_host = {
	.name = "host",
	.inject = &disk_in,
	.revert = &disk_out,
};
