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
 *   process-cpu     a holder pinned to the CPUs of the service's process
 *                   (pidfile), spinning on them: it competes for them
 *   process-memory  a holder touching args.size (default 256Mi) of memory,
 *                   in the process's cgroup when sre may write its
 *                   cgroup.procs, else bound by RLIMIT_AS to that size
 *   db-pool         a holder keeping args.connections (default 50) TCP
 *                   connections open to 127.0.0.1:args.port, the service's
 *                   pool of them exhausted
 *
 *   docker-restart-loop  a holder that kills the service's container every
 *                   args.every seconds (default 5) and starts it again: a
 *                   container that keeps dying, as a crash loop looks;
 *                   undone by stopping the holder and starting it once more
 *   proxy-<toxic>   a toxic (latency, errors, reset, timeout, bandwidth) on
 *                   [proxy "<args.proxy, default the service>"], the rest of
 *                   args its parameters (lib/chaos-proxy.h), read by the
 *                   running `sre chaos proxy`; undone by the toxic that was
 *                   there before, or none
 *
 * A holder is a child of its own session, outliving sre's command: it
 * ends by itself at the fault's end (its duration, else chaos.hold-max,
 * default 1h, so that none is ever left behind for good), and the undo
 * kills it, checked by its start time against a reused pid.
 *
 * The file is made with O_CREAT|O_EXCL|O_NOFOLLOW under a name of its own
 * (.sre-chaos-fill-<pid>-<time>), so no link planted in the directory can
 * turn the fault onto another file.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "chaos-host.h"
#include "chaos-proxy.h"
#include "docker.h"
#include "http.h"
#include "json.h"
#include "run-command.h"
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

/* ---- holders ---- */

/* The configuration a holder (a forked child) reads: its parent's, set before the fork. */
static const struct config *holder_cfg;

/* The service's live process, from its pidfile: its id, or 0 after saying why in out. */
static long long service_pid(const struct runtime_call *c, const char *fault, struct strbuf *out)
{
	long long pid = c->t->pidfile ? pidfile_read(c->t->pidfile) : 0;

	if (!c->t->pidfile)
		runtime_failf(out, "%s: service.%s.pidfile is not set", fault, c->t->service);
	else if (pid <= 1 || !process_alive(pid))
		runtime_failf(out, "%s: %s holds no live process", fault, c->t->pidfile);
	else
		return pid;
	return 0;
}

static void hold_cpu(const cJSON *record)
{
	cpu_set_t set;
	volatile unsigned long spin = 0;

	CPU_ZERO(&set);
	if (!sched_getaffinity((pid_t)json_int(record, "pid"), sizeof(set), &set))
		sched_setaffinity(0, sizeof(set), &set);
	for (;;)
		spin++;
}

static void hold_memory(const cJSON *record)
{
	long long size = json_int(record, "size");
	const char *procs = json_string(record, "cgroup_procs");
	struct rlimit rl;
	char *p;
	int fd;

	/* In the service's cgroup when it may: the pressure is on its limit, not the host's. */
	if (procs && (fd = open(procs, O_WRONLY | O_CLOEXEC)) >= 0) {
		dprintf(fd, "%ld\n", (long)getpid());
		close(fd);
	}
	rl.rlim_cur = rl.rlim_max = (rlim_t)(size + 64 * MIB);
	setrlimit(RLIMIT_AS, &rl);
	p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(1);
	for (long long i = 0; i < size; i += 4096)
		p[i] = 1;
	for (;;)
		pause();
}

/* Kill the container and start it again, every "every" seconds, through the Engine. */
static void hold_restart_loop(const cJSON *record)
{
	const struct config *cfg = holder_cfg;
	const char *id = json_string(record, "id"), *name = json_string_or(record, "container", "?");
	long long every = json_int(record, "every");
	struct http_client http;
	struct docker_engine e;
	struct strbuf why = STRBUF_INIT;

	if (!id || http_client_init(&http, cfg) < 0 || docker_engine_open(cfg, &http, &e, &why) < 0)
		_exit(1);
	for (;;) {
		sleep_ms(every * 1000);
		docker_container_op(&http, &e, id, name, "kill", &why);
		sleep_ms(500);
		docker_container_op(&http, &e, id, name, "start", &why);
		strbuf_reset(&why);
	}
}

static void hold_connections(const cJSON *record)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	long long n = json_int(record, "connections");

	a.sin_port = htons((unsigned short)json_int(record, "port"));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (long long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			break; /* held what it could; the rest is the fault too */
	}
	for (;;)
		pause();
}

/*
 * Start the holder of record: a child in a session of its own, its output
 * to /dev/null, that ends by itself after life_s. Its pid and start time
 * go into out_pid and the record's "holder"/"holder_started". 0 or -1.
 */
static int holder_start(cJSON *record, long long life_s, struct strbuf *out)
{
	const char *fault = json_string(record, "fault");
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return runtime_failf(out, "cannot start the holder: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		setsid();
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGALRM, SIG_DFL);
		alarm((unsigned)(life_s > 0 ? life_s : 1));
		if (!strcmp(fault, "cpu"))
			hold_cpu(record);
		else if (!strcmp(fault, "memory"))
			hold_memory(record);
		else if (!strcmp(fault, "restart-loop"))
			hold_restart_loop(record);
		else
			hold_connections(record);
		_exit(0);
	}
	cJSON_AddNumberToObject(record, "holder", (double)pid);
	/* Its stat exists from the fork on; read until it does. */
	for (int i = 0; i < 100 && process_start_time(pid) < 0; i++)
		sleep_ms(10);
	cJSON_AddNumberToObject(record, "holder_started", (double)process_start_time(pid));
	return 0;
}

static int hold_prepare(const struct runtime_call *c, const char *fault, const cJSON *args,
			cJSON *record, struct strbuf *out)
{
	long long pid = 0, size = 256 * MIB, n = 50, port = 0;

	cJSON_AddStringToObject(record, "fault", fault);
	if (!strcmp(fault, "restart-loop")) {
		cJSON *kill = cJSON_CreateObject();
		int r;

		n = 5;
		if (json_get(args, "every") &&
		    (runtime_json_whole(json_get(args, "every"), &n) < 0 || n < 1 || n > 3600))
			return runtime_failf(out, "docker-restart-loop: every takes 1 to 3600 seconds");
		/* The container as Docker's own kill records it: running, its id, its limits. */
		cJSON_AddStringToObject(kill, "fault", "kill");
		r = runtime_docker.inject->prepare(c, kill, record, out);
		cJSON_Delete(kill);
		if (!r) {
			cJSON_ReplaceItemInObject(record, "fault", cJSON_CreateString("restart-loop"));
			cJSON_AddNumberToObject(record, "every", (double)n);
		}
		return r;
	}
	if (!strcmp(fault, "db-pool")) {
		if (runtime_json_whole(json_get(args, "port"), &port) < 0 || port < 1 || port > 65535)
			return runtime_failf(out, "db-pool: port is the port of the pool's server (1 to 65535)");
		if (json_get(args, "connections") &&
		    (runtime_json_whole(json_get(args, "connections"), &n) < 0 || n < 1 || n > 1000))
			return runtime_failf(out, "db-pool: connections takes 1 to 1000");
		cJSON_AddNumberToObject(record, "port", (double)port);
		cJSON_AddNumberToObject(record, "connections", (double)n);
		return 0;
	}
	if (!(pid = service_pid(c, strcmp(fault, "cpu") ? "process-memory" : "process-cpu", out)))
		return -1;
	cJSON_AddNumberToObject(record, "pid", (double)pid);
	if (!strcmp(fault, "memory")) {
		char path[64], line[512];
		FILE *fp;

		if (json_get(args, "size") && (size_of(json_get(args, "size"), &size) < 0 || size < MIB))
			return runtime_failf(out, "process-memory: size is a size (256Mi, 1Gi)");
		cJSON_AddNumberToObject(record, "size", (double)size);
		/* cgroup v2: "0::/path"; sre joins it only when it may write its cgroup.procs. */
		snprintf(path, sizeof(path), "/proc/%lld/cgroup", pid);
		if ((fp = fopen(path, "r"))) {
			while (fgets(line, sizeof(line), fp))
				if (!strncmp(line, "0::/", 4)) {
					char *procs;
					line[strcspn(line, "\n")] = '\0';
					procs = xstrfmt("/sys/fs/cgroup%s/cgroup.procs", line + 3);
					if (!strstr(procs, "/..") && !access(procs, W_OK))
						cJSON_AddStringToObject(record, "cgroup_procs", procs);
					free(procs);
				}
			fclose(fp);
		}
	}
	return 0;
}

static int hold_inject(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	long long life = 3600;
	const char *fault = json_string(record, "fault");
	int64_t ms = 0;

	if (config_get_duration_ms(c->cfg, "chaos.hold-max", &ms) < 0)
		return runtime_failf(out, "chaos.hold-max is not a duration");
	if (ms > 0)
		life = ms / 1000;
	if (json_int(record, "life_s") > 0 && json_int(record, "life_s") < life)
		life = json_int(record, "life_s");
	holder_cfg = c->cfg;
	if (holder_start((cJSON *)record, life, out) < 0)
		return -1;
	if (!strcmp(fault, "restart-loop"))
		strbuf_addf(out, "container %s killed and started every %llds by process %lld",
			    json_string_or(record, "container", "?"), json_int(record, "every"),
			    json_int(record, "holder"));
	else if (!strcmp(fault, "db-pool"))
		strbuf_addf(out, "%lld connections to port %lld held by process %lld",
			    json_int(record, "connections"), json_int(record, "port"), json_int(record, "holder"));
	else if (!strcmp(fault, "cpu"))
		strbuf_addf(out, "process %lld spins on the CPUs of process %lld", json_int(record, "holder"),
			    json_int(record, "pid"));
	else
		strbuf_addf(out, "process %lld holds %lld MiB%s", json_int(record, "holder"),
			    json_int(record, "size") / MIB, json_string(record, "cgroup_procs") ?
			    " in the service's cgroup" : ", bound by RLIMIT_AS");
	return 0;
}

static int hold_alive(const cJSON *record)
{
	long long pid = json_int(record, "holder");

	return pid > 1 && process_alive(pid) && process_start_time(pid) == json_int(record, "holder_started");
}

/* After a restart loop: the container started once more, whatever moment the holder died at. */
static int loop_restore(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	struct strbuf said = STRBUF_INIT;
	/* Docker's own undo: started (or unpaused) unless it runs already. */
	int r = runtime_docker.revert->run(c, record, &said);

	if (r)
		strbuf_addf(out, "; %s", said.buf);
	else
		strbuf_addf(out, "; container %s running", json_string_or(record, "container", "?"));
	strbuf_release(&said);
	return r;
}

static int hold_revert(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	long long pid = json_int(record, "holder");

	(void)c;
	if (!hold_alive(record)) {
		strbuf_addf(out, "its holder, process %lld, is gone already", pid);
		return 0;
	}
	if (kill((pid_t)pid, SIGKILL) < 0)
		return runtime_failf(out, "cannot stop process %lld: %s", pid, strerror(errno));
	for (int i = 0; i < 100 && hold_alive(record); i++)
		sleep_ms(20);
	strbuf_addf(out, "its holder, process %lld, stopped", pid);
	return json_string_is(record, "fault", "restart-loop") ? loop_restore(c, record, out) : 0;
}

static int hold_check(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	(void)c;
	if (hold_alive(record)) {
		strbuf_addf(out, "process %lld still holds", json_int(record, "holder"));
		return 0;
	}
	if (json_string_is(record, "fault", "restart-loop"))
		return runtime_docker.revert->check(c, record, out);
	strbuf_addstr(out, "its holder is gone");
	return 1;
}

/* ---- toxics on a proxy ---- */

static int proxy_prepare(const struct runtime_call *c, const char *fault, const cJSON *args,
			 cJSON *record, struct strbuf *out)
{
	const char *toxic = fault + strlen("proxy-");
	const char *name = json_string(args, "proxy") ? json_string(args, "proxy") : c->t->service;
	struct strbuf why = STRBUF_INIT;
	cJSON *params = cJSON_Duplicate(args, 1), *list, *t;

	cJSON_DeleteItemFromObjectCaseSensitive(params, "proxy");
	if (!chaos_proxy_configured(c->cfg, name)) {
		cJSON_Delete(params);
		return runtime_failf(out, "%s: no [proxy \"%.64s\"] with a listen and an upstream", fault, name);
	}
	if (chaos_toxic_check(toxic, params, &why) < 0) {
		runtime_failf(out, "%s: %s", fault, why.buf);
		strbuf_release(&why);
		cJSON_Delete(params);
		return -1;
	}
	if (!c->st || !(list = chaos_toxic_list(c->st, name))) {
		cJSON_Delete(params);
		return runtime_failf(out, "%s: cannot read the toxics in place", fault);
	}
	cJSON_AddStringToObject(record, "fault", "proxy");
	cJSON_AddStringToObject(record, "proxy", name);
	cJSON_AddStringToObject(record, "toxic", toxic);
	cJSON_AddItemToObject(record, "params", params);
	/* What was there: put back by the undo rather than nothing. */
	cJSON_ArrayForEach(t, list)
		if (json_string_is(t, "toxic", toxic))
			cJSON_AddItemToObject(record, "previous", cJSON_Duplicate(json_get(t, "params"), 1));
	cJSON_Delete(list);
	return 0;
}

static int proxy_set(const struct runtime_call *c, const cJSON *record, const cJSON *params,
		     struct strbuf *out)
{
	const char *proxy = json_string(record, "proxy"), *toxic = json_string(record, "toxic");
	char *text;

	if (!proxy || !toxic || !c->st)
		return runtime_failf(out, "proxy: the record names no proxy and toxic");
	if (!params) {
		if (chaos_toxic_clear(c->st, proxy, toxic) < 0)
			return runtime_failf(out, "cannot take %s off proxy %s", toxic, proxy);
		strbuf_addf(out, "proxy %s: %s taken off", proxy, toxic);
		return 0;
	}
	/* The fault's id, so that the proxy sees the fault's end even if nobody undoes it. */
	if (chaos_toxic_set(c->st, proxy, toxic, params,
			    params == json_get(record, "params") ? json_int(record, "chaos_id") : 0) < 0)
		return runtime_failf(out, "cannot put %s on proxy %s", toxic, proxy);
	text = cJSON_PrintUnformatted(params);
	strbuf_addf(out, "proxy %s: %s %s", proxy, toxic, text);
	cJSON_free(text);
	return 0;
}

static int proxy_check(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	const cJSON *want = json_get(record, "previous"), *t;
	cJSON *list = c->st ? chaos_toxic_list(c->st, json_string(record, "proxy")) : NULL;
	int ok = !want;

	if (!list)
		return runtime_failf(out, "cannot read the toxics in place");
	cJSON_ArrayForEach(t, list)
		if (json_string_is(t, "toxic", json_string_or(record, "toxic", "")))
			ok = want && cJSON_Compare(json_get(t, "params"), want, 1);
	cJSON_Delete(list);
	strbuf_addf(out, "proxy %s: %s %s", json_string_or(record, "proxy", "?"),
		    json_string_or(record, "toxic", "?"), ok ? "as it was" : "still in place");
	return ok;
}

/* ---- the host's faults, by their verb ---- */

static int host_prepare(const struct runtime_call *c, const cJSON *params, cJSON *record,
			struct strbuf *out)
{
	const char *fault = json_string(params, "fault");

	if (fault && !strcmp(fault, "disk-full"))
		return disk_prepare(c, params, record, out);
	if (fault && (!strcmp(fault, "cpu") || !strcmp(fault, "memory") || !strcmp(fault, "db-pool") ||
		      !strcmp(fault, "restart-loop")))
		return hold_prepare(c, fault, json_get(params, "args"), record, out);
	if (fault && !strncmp(fault, "proxy-", 6))
		return proxy_prepare(c, fault, json_get(params, "args"), record, out);
	return runtime_failf(out, "host: no fault %s", fault ? fault : "named");
}

static int is_disk(const cJSON *record)
{
	return json_string_is(record, "fault", "disk-full");
}

static int is_proxy(const cJSON *record)
{
	return json_string_is(record, "fault", "proxy");
}

static int host_inject(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	if (is_proxy(record))
		return proxy_set(c, record, json_get(record, "params"), out);
	return is_disk(record) ? disk_inject(c, record, out) : hold_inject(c, record, out);
}

static int host_revert(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	if (is_proxy(record))
		return proxy_set(c, record, json_get(record, "previous"), out);
	return is_disk(record) ? disk_revert(c, record, out) : hold_revert(c, record, out);
}

static int host_check(const struct runtime_call *c, const cJSON *record, struct strbuf *out)
{
	if (is_proxy(record))
		return proxy_check(c, record, out);
	return is_disk(record) ? disk_check(c, record, out) : hold_check(c, record, out);
}

static const struct runtime_action host_in = { host_prepare, host_inject, NULL };
static const struct runtime_action host_out = { NULL, host_revert, host_check };

const struct runtime_ops chaos_host = {
	.name = "host",
	.inject = &host_in,
	.revert = &host_out,
};
