/*
 * collect-host.c: what this host says about a service of `sre diagnose`:
 * its process (from [service] pidfile: running or not, its state and
 * resident memory from /proc), the last lines of its log file ([service]
 * log), and the kernel's OOM-killer lines.
 *
 * The kernel's lines come from diagnose.kernel-log when set (a file, such
 * as /var/log/kern.log), else from /dev/kmsg, read without blocking; both
 * are often readable by root only, and that is no error: there is simply
 * no kernel evidence. Every path here comes from the configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence.h"
#include "http.h"
#include "run-command.h"
#include "scout.h"
#include "util.h"

#define KERNEL_LINES 100         /* the most OOM lines kept */
#define KMSG_RECORDS 100000      /* the most /dev/kmsg records read */
#define FILE_TAIL (8 << 20)      /* the most of a log file read, from its end */

static const char *service_key(struct strbuf *key, const struct collect_options *o,
			       const char *name)
{
	return config_key_of(key, "service", o->service, name);
}

int collect_host_configured(const struct config *cfg, const struct collect_options *o)
{
	struct strbuf key = STRBUF_INIT;
	const char *runtime = config_get_string(cfg, service_key(&key, o, "runtime"));
	int yes = (runtime && !strcmp(runtime, "process")) ||
		  config_get_string(cfg, service_key(&key, o, "pidfile")) ||
		  config_get_string(cfg, service_key(&key, o, "log")) ||
		  config_get_string(cfg, "diagnose.kernel-log");

	strbuf_release(&key);
	return yes;
}

/* Is line one of the kernel's out-of-memory reports? */
static int is_oom_line(const char *line)
{
	return strstr(line, "Out of memory") || strstr(line, "oom-kill") ||
	       strstr(line, "oom_reaper") || strstr(line, "invoked oom-killer") ||
	       strstr(line, "Memory cgroup out of memory");
}

static void add_kernel_line(cJSON *lines, const char *line, size_t len)
{
	char *s = xstrndup(line, len);

	if (is_oom_line(s)) {
		char *one = scout_one_line(s, 500);
		if (cJSON_GetArraySize(lines) >= KERNEL_LINES)
			cJSON_DeleteItemFromArray(lines, 0);
		cJSON_AddItemToArray(lines, cJSON_CreateString(one));
		free(one);
	}
	free(s);
}

/* Seconds since the epoch now, less seconds since boot: when the machine booted. */
static double boot_epoch(void)
{
	struct timespec boot, real;

	clock_gettime(CLOCK_BOOTTIME, &boot);
	clock_gettime(CLOCK_REALTIME, &real);
	return (double)(real.tv_sec - boot.tv_sec) + (real.tv_nsec - boot.tv_nsec) / 1e9;
}

/*
 * /dev/kmsg: one record per read(), "prio,seq,usec,flags;message\n...".
 * Records from before since (seconds since the epoch; 0: all) are left
 * out: a process's pid is reused, and the kernel's kill of an earlier
 * process that had it is not news of this one.
 */
static void read_kmsg(cJSON *lines, int64_t deadline_ms, double since)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	double booted = boot_epoch();
	char rec[8192];

	if (fd < 0)
		return;
	for (int i = 0; i < KMSG_RECORDS && monotonic_ms() < deadline_ms; i++) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *msg, *end;

		if (n < 0 && errno == EPIPE)
			continue;  /* overwritten while we read: go on with the next */
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		if (since > 0) {
			unsigned long long usec;
			if (sscanf(rec, "%*d,%*u,%llu", &usec) != 1 || booted + usec / 1e6 < since)
				continue;
		}
		msg++;
		end = strchr(msg, '\n');
		add_kernel_line(lines, msg, end ? (size_t)(end - msg) : strlen(msg));
	}
	close(fd);
}

/*
 * The last n lines (0: all) of the last FILE_TAIL bytes of the file at
 * path, or -1 with errno set when it cannot be read. A FIFO or a device
 * is refused (ENODEV) without blocking: a log path is configuration, and
 * reading a FIFO would hang the diagnosis for as long as no one writes.
 */
static int tail_file(struct strbuf *out, const char *path, int n)
{
	int fd = open_regular_file(path);
	off_t size;
	size_t start = 0;
	int seen = 0;

	if (fd < 0)
		return -1;
	size = lseek(fd, 0, SEEK_END);
	if (size > FILE_TAIL)
		lseek(fd, size - FILE_TAIL, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	if (strbuf_read_fd(out, fd, FILE_TAIL) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	for (size_t i = out->len; n > 0 && i-- > 0;) {
		if (out->buf[i] == '\n' && i + 1 < out->len && ++seen >= n) {
			start = i + 1;
			break;
		}
	}
	if (start) {
		memmove(out->buf, out->buf + start, out->len - start);
		strbuf_setlen(out, out->len - start);
	}
	return 0;
}

/* Say why a configured path was not read. -1. */
static int refused(struct strbuf *why, const char *key, const char *path)
{
	struct stat st;
	const char *kind = "not a regular file";

	if (!stat(path, &st))
		kind = S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISSOCK(st.st_mode) ? "a socket" :
		       S_ISDIR(st.st_mode) ? "a directory" : S_ISCHR(st.st_mode) ||
		       S_ISBLK(st.st_mode) ? "a device" : kind;
	if (why->len)
		strbuf_addstr(why, "; ");
	strbuf_addf(why, "host: %s %s is %s, not a regular file: refused", key, path, kind);
	return -1;
}

/* -1 with why when path is not a regular file; an unreadable one is no evidence. */
static int read_kernel_file(cJSON *lines, const char *path, struct strbuf *why)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p;

	if (tail_file(&sb, path, 0) < 0) {
		strbuf_release(&sb);
		if (errno == ENODEV || errno == EISDIR)
			return refused(why, "diagnose.kernel-log", path);
		return 0;
	}
	for (p = sb.buf; *p;) {
		const char *end = strchrnul(p, '\n');
		add_kernel_line(lines, p, (size_t)(end - p));
		p = *end ? end + 1 : end;
	}
	strbuf_release(&sb);
	return 0;
}

/* The value of a "Name:\tvalue" line of /proc/<pid>/status, or NULL; caller frees. */
static char *status_field(const char *status, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = status; *p;) {
		const char *end = strchrnul(p, '\n');
		if (!strncmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			return xstrndup(v, (size_t)(end - v));
		}
		p = *end ? end + 1 : end;
	}
	return NULL;
}

static cJSON *read_process(const struct collect_context *c, const char *pidfile)
{
	cJSON *p = cJSON_CreateObject();
	struct strbuf sb = STRBUF_INIT;
	long long pid = 0;
	int running = 0;

	cJSON_AddStringToObject(p, "service", c->o->service);
	cJSON_AddStringToObject(p, "pidfile", pidfile);
	pid = pidfile_read(pidfile);
	if (pid) {
		char *path = xstrfmt("/proc/%lld/status", pid);
		char *state = NULL, *rss = NULL;

		cJSON_AddNumberToObject(p, "pid", (double)pid);
		strbuf_reset(&sb);
		if (strbuf_read_file(&sb, path, 1 << 16) >= 0) {
			state = status_field(sb.buf, "State");
			rss = status_field(sb.buf, "VmRSS");
		}
		running = process_alive(pid);
		cJSON_AddBoolToObject(p, "running", running);
		if (state)
			cJSON_AddStringToObject(p, "state", state);
		else
			cJSON_AddNullToObject(p, "state");
		if (rss)
			cJSON_AddNumberToObject(p, "rss_kb", (double)strtoll(rss, NULL, 10));
		else
			cJSON_AddNullToObject(p, "rss_kb");
		free(state);
		free(rss);
		free(path);
	} else {
		cJSON_AddNullToObject(p, "pid");
		cJSON_AddBoolToObject(p, "running", 0);
		cJSON_AddNullToObject(p, "state");
		cJSON_AddNullToObject(p, "rss_kb");
	}
	cJSON_AddNullToObject(p, "exit");
	strbuf_release(&sb);
	return p;
}

int collect_host_log(const struct collect_context *c, struct evidence *ev, struct strbuf *why)
{
	struct strbuf key = STRBUF_INIT, sb = STRBUF_INIT;
	char *path = NULL;
	int ret = 0;

	if (!config_get_path(c->cfg, service_key(&key, c->o, "log"), &path)) {
		if (tail_file(&sb, path, c->log_lines) == 0) {
			if (evidence_name_ok(c->o->service))
				evidence_add_log(ev, "process", c->o->service, sb.buf, sb.len);
		} else if (errno == ENODEV || errno == EISDIR) {
			ret = refused(why, key.buf, path);
		}
		free(path);
	}
	strbuf_release(&key);
	strbuf_release(&sb);
	return ret;
}

int collect_host(const struct collect_context *c, struct evidence *ev, struct strbuf *why)
{
	struct strbuf key = STRBUF_INIT;
	cJSON *processes = cJSON_CreateArray(), *kernel = cJSON_CreateArray();
	char *path = NULL;
	double since = 0;
	struct stat st;
	int ret = 0;

	if (!config_get_path(c->cfg, service_key(&key, c->o, "pidfile"), &path)) {
		/* Written as the process started: the kernel's words about it come after. */
		if (stat(path, &st) == 0)
			since = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9 - 1;
		cJSON_AddItemToArray(processes, read_process(c, path));
		free(path);
		path = NULL;
	}
	ret = collect_host_log(c, ev, why);
	/* /dev/kmsg named on purpose is the default reader, not a file. */
	if (!config_get_path(c->cfg, "diagnose.kernel-log", &path) &&
	    strcmp(path, "/dev/kmsg")) {
		if (read_kernel_file(kernel, path, why) < 0)
			ret = -1;
		free(path);
	} else {
		free(path);
		read_kmsg(kernel, c->deadline_ms, since);
	}
	ev->host = cJSON_CreateObject();
	cJSON_AddItemToObject(ev->host, "processes", processes);
	cJSON_AddItemToObject(ev->host, "kernel", kernel);
	strbuf_release(&key);
	return ret;
}
