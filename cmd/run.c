/*
 * run.c: `sre run`, the whole loop: scout, diagnose what is new, fix what
 * policy allows and verify, escalate --auto, remember what was resolved,
 * sync the outbox, and ping the heartbeat. Once (--once: cron, CI), or
 * pass after pass (--watch) until SIGTERM or SIGINT, which finish the pass
 * under way.
 *
 * Each step is a library engine run in a child process of its own, with a
 * deadline (run.step-timeout). Why a child: a step stuck past its deadline
 * is killed as a kill -9 would kill it, and the next pass carries on from
 * the store, which every engine is written to survive (the fix protocol's
 * records, the outbox, the escalations), so a deadline costs no double
 * action; a step that dies takes no other with it; and the parent stays
 * free while a step works, to renew the Lease and to stop the step at once
 * when the Lease is lost, before another replica could take it. The parent
 * opens the store only between steps: an SQLite connection must not cross
 * fork().
 *
 * One at a time: an flock on <store>-run, beside the store, held for the
 * life of the command (a second one says who holds it and exits 1, or
 * waits with --wait); across hosts, the Kubernetes Lease of run.lease
 * (lib/kube-lease.c), where only the holder acts and the others scout
 * without writing and report.
 *
 * Quiet: it prints what changed. An incident opened, diagnosed, acted on,
 * resolved is said once, as it happens; a condition (a source that cannot
 * be read, an incident waiting for a person) is said when it starts and
 * not again while it holds. --json prints each as an NDJSON event.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builtin.h"
#include "../lib/chaos.h"
#include "../lib/escalate.h"
#include "../lib/format.h"
#include "../lib/http.h"
#include "../lib/json.h"
#include "../lib/knowledge.h"
#include "../lib/loop.h"
#include "../lib/memory.h"
#include "../lib/run-command.h"
#include "../lib/timeutil.h"

static const char *const run_usage[] = {
	"sre run --once [--json]",
	"sre run --watch [--interval <duration>] [--json] [--wait]",
	"sre run --status [--json]",
	NULL,
};

/* The longest line a step's child may hand the parent: more is cut off. */
#define EVENT_MAX 8192

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void ignore_signal(int sig)
{
	(void)sig;
}

struct runner {
	int json, watch;
	int64_t interval_ms, step_timeout_ms;
	char *store_path, *lock_path;
	char name[300];          /* who runs: host-pid */
	int lock_fd;
	struct strvec said;      /* the conditions said last pass... */
	struct strvec saying;    /* ...and this pass */
	long long pass;
	/* this pass */
	int standby, needs_person, steps_failed;
	cJSON *counts, *steps;
};

/* ---- in a step's child ---- */

static int event_fd = -1;

/* One event to the parent: a JSON line. */
static void emit(const char *event, long long id, const char *message)
{
	cJSON *e = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(e, "event", event);
	if (id > 0)
		cJSON_AddNumberToObject(e, "incident", (double)id);
	cJSON_AddStringToObject(e, "message", message);
	text = cJSON_PrintUnformatted(e);
	cJSON_Delete(e);
	if (text && strlen(text) < EVENT_MAX) {
		struct strbuf line = STRBUF_INIT;
		strbuf_addf(&line, "%s\n", text);
		if (write_in_full(event_fd, line.buf, line.len) < 0)
			error_errno("cannot hand an event to sre run");
		strbuf_release(&line);
	}
	free(text);
}

static void on_loop_event(void *data, enum loop_event what, long long id, const char *line)
{
	(void)data;
	emit(loop_event_name(what), id, line);
}

/* Each line of a report as an event. */
static void emit_lines(const char *event, const char *text)
{
	for (const char *l = text; *l;) {
		const char *nl = strchrnul(l, '\n');
		if (nl > l) {
			char *one = xstrndup(l, (size_t)(nl - l));
			emit(event, 0, one);
			free(one);
		}
		l = *nl ? nl + 1 : nl;
	}
}

static void engine_init(struct engine_context *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->cfg = &the_sre.cfg;
	ctx->store = sre_store();
	ctx->tracker = sre_tracker();
	ctx->actor = sre_actor();
	/* Quiet: what a step did reaches the parent as events; errors still go to stderr. */
	ctx->note = NULL;
}

static int step_scout(struct runner *r)
{
	struct engine_context ctx;
	struct loop_report rep = LOOP_REPORT_INIT;
	struct strbuf undone = STRBUF_INIT;
	int ret;

	engine_init(&ctx);
	rep.event = on_loop_event;
	/* A fault whose injector died is undone once its time is up (sre-chaos(1)). */
	if (!r->standby && chaos_rollback_expired(&ctx, &undone) == 0)
		emit_lines("chaos", undone.buf);
	strbuf_release(&undone);
	ret = loop_scout(&ctx, r->standby, &rep);
	loop_report_release(&rep);
	return ret;
}

static int step_diagnose(struct runner *r)
{
	struct engine_context ctx;
	struct loop_report rep = LOOP_REPORT_INIT;
	int ret;

	(void)r;
	engine_init(&ctx);
	rep.event = on_loop_event;
	ret = loop_diagnose(&ctx, &rep);
	loop_report_release(&rep);
	return ret < 0 || rep.failed ? -1 : 0;
}

static int step_fix(struct runner *r)
{
	struct engine_context ctx;
	struct loop_report rep = LOOP_REPORT_INIT;
	int ret;

	(void)r;
	engine_init(&ctx);
	rep.event = on_loop_event;
	ret = loop_fix(&ctx, &rep);
	loop_report_release(&rep);
	return ret < 0 || rep.failed ? -1 : 0;
}

static int step_escalate(struct runner *r)
{
	struct engine_context ctx;
	struct escalate_options o = { 0 };
	struct incident_filter f = { .state = STATE_INCIDENT_REQUIRES_HUMAN };
	struct strbuf report = STRBUF_INIT;
	struct incident *list = NULL;
	size_t nr = 0;
	int ret;

	(void)r;
	engine_init(&ctx);
	ret = escalate_auto(&ctx, &o, &report);
	if (ret >= 0)
		ret = escalate_chronic(&ctx, &o, &report);
	emit_lines("escalated", report.buf);
	strbuf_release(&report);
	/* What waits for a person, each said once while it waits. */
	if (store_incident_list(ctx.store, &f, &list, &nr) < 0)
		return -1;
	for (size_t i = 0; i < nr; i++) {
		char *line = xstrfmt("incident %lld waits for a person: %s", list[i].id, list[i].title);
		emit("waiting", list[i].id, line);
		free(line);
	}
	incident_list_free(list, nr);
	return ret < 0 ? -1 : 0;
}

static int step_remember(struct runner *r)
{
	struct knowledge_push kp = KNOWLEDGE_PUSH_INIT;
	const char *remote = config_get_string(&the_sre.cfg, "remember.remote");
	size_t n = 0;
	int ret = 0;

	(void)r;
	if (memory_index(sre_store(), &the_sre.cfg, 0, &n) < 0)
		return -1;
	if (n) {
		char *line = xstrfmt("remembered %zu incident%s", n, n == 1 ? "" : "s");
		emit("remembered", 0, line);
		free(line);
	}
	if (!remote || !*remote)
		return remember_postmortems() < 0 ? -1 : 0;
	/* Shared: the records and post-mortems committed and pushed, as `sre remember push`. */
	kp.author = sre_actor();
	if (knowledge_push(sre_store(), &the_sre.cfg, &kp) < 0) {
		ret = -1;
	} else if (kp.marked) {
		char *line = xstrfmt("pushed %zu incident%s to remember.remote", kp.marked,
				     kp.marked == 1 ? "" : "s");
		emit("remembered", 0, line);
		free(line);
	}
	knowledge_push_release(&kp);
	return ret;
}

static int step_sync(struct runner *r)
{
	(void)r;
	if (sre_deliver()) {
		emit("sync", 0, "a write was refused: sre sync --status says which and why");
		return -1;
	}
	return 0;
}

/* The heartbeat (run.heartbeat-url): a GET after each pass, /fail appended after a failed step. */
static int step_heartbeat(struct runner *r)
{
	struct http_client http;
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	const char *url = config_get_string(&the_sre.cfg, "run.heartbeat-url");
	char *full;
	int ret = 0;

	if (!url || !*url)
		return 0;
	/* Its path is often the check's secret (healthchecks.io's uuid). */
	if (http_url_keeps_secrets(url) != 1) {
		warning("run.heartbeat-url must be https://, or http:// to this machine only: not pinged");
		return 0;
	}
	if (http_client_init(&http, &the_sre.cfg) < 0)
		return -1;
	full = r->steps_failed ? xstrfmt("%s/fail", url) : xstrdup(url);
	http_client_add_secret(&http, url);
	req.method = "GET";
	req.url = full;
	req.timeout_ms = 10000;
	/* Once: the next pass pings again, and a late ping is worth nothing. */
	req.no_retry = 1;
	req.label = "heartbeat";
	if (http_do(&http, &req, &res) < 0 || res.status < 200 || res.status > 299) {
		error("the heartbeat (run.heartbeat-url) was not taken: %s",
		      res.status ? "it answered an HTTP error" : res.error.buf);
		ret = -1;
	}
	http_response_release(&res);
	http_request_release(&req);
	http_client_release(&http);
	free(full);
	return ret;
}

/* ---- the steps, run by the parent ---- */

struct step {
	const char *name;
	int (*fn)(struct runner *r);
	int standby;             /* run by a replica that does not hold the lease */
};

static const struct step steps[] = {
	{ "scout", step_scout, 1 },
	{ "diagnose", step_diagnose, 0 },
	{ "fix", step_fix, 0 },
	{ "escalate", step_escalate, 0 },
	{ "remember", step_remember, 0 },
	{ "sync", step_sync, 0 },
};

static const struct step heartbeat_step = { "heartbeat", step_heartbeat, 1 };

/* Conditions: said when they start, and not again while they hold. */
static int is_condition(const char *event)
{
	return !strcmp(event, "waiting") || !strcmp(event, "source") || !strcmp(event, "standby") ||
	       !strcmp(event, "failed") || !strcmp(event, "sync");
}

static void print_event(struct runner *r, const char *step, const char *event, long long id,
			const char *message)
{
	char at[32];

	format_iso8601(at, sizeof(at), time(NULL));
	if (r->json) {
		cJSON *e = cJSON_CreateObject();
		char *text;

		cJSON_AddStringToObject(e, "time", at);
		cJSON_AddNumberToObject(e, "pass", (double)r->pass);
		cJSON_AddStringToObject(e, "step", step);
		cJSON_AddStringToObject(e, "event", event);
		if (id > 0)
			cJSON_AddNumberToObject(e, "incident", (double)id);
		cJSON_AddStringToObject(e, "message", message);
		text = cJSON_PrintUnformatted(e);
		printf("%s\n", text);
		free(text);
		cJSON_Delete(e);
	} else {
		/* A finding's words are another party's: no control reaches the terminal. */
		if (r->watch)
			printf("%.8s ", at + 11);
		format_put_clean(stdout, message, strlen(message), 0);
		putchar('\n');
	}
	fflush(stdout);
}

static void count(struct runner *r, const char *event)
{
	cJSON *n = cJSON_GetObjectItem(r->counts, event);

	if (n)
		cJSON_SetNumberValue(n, n->valuedouble + 1);
	else
		cJSON_AddNumberToObject(r->counts, event, 1);
}

/* One line from a step's child: checked, counted, and said unless it is a condition said before. */
static void take_event(struct runner *r, const struct step *s, const char *line)
{
	cJSON *e = cJSON_Parse(line);
	const char *event = json_string(e, "event"), *message = json_string(e, "message");
	long long id = 0;
	char *key;

	if (!event || !message || strlen(event) > 32 ||
	    (json_get(e, "incident") && json_ll(e, "incident", 1, JSON_INT_MAX, &id) < 0)) {
		warning("the %s step handed over a line that is not an event; dropped", s->name);
		cJSON_Delete(e);
		return;
	}
	count(r, event);
	if (!strcmp(event, "waiting"))
		r->needs_person = 1;
	if (is_condition(event)) {
		key = xstrfmt("%s\t%s", event, message);
		strvec_push(&r->saying, key);
		if (strvec_has(&r->said, key)) {
			free(key);
			cJSON_Delete(e);
			return;
		}
		free(key);
	}
	print_event(r, s->name, event, id, message);
	cJSON_Delete(e);
}

static void take_lines(struct runner *r, const struct step *s, struct strbuf *buf, int all)
{
	char *nl;

	while ((nl = memchr(buf->buf, '\n', buf->len))) {
		*nl = '\0';
		size_t used = (size_t)(nl - buf->buf) + 1;

		take_event(r, s, buf->buf);
		memmove(buf->buf, buf->buf + used, buf->len - used);
		strbuf_setlen(buf, buf->len - used);
	}
	if (buf->len > EVENT_MAX || (all && buf->len)) {
		warning("the %s step handed over a line too long or cut off; dropped", s->name);
		strbuf_reset(buf);
	}
}

/* Time passes for the lock and the Lease (lease.c): 0, or -1 when the Lease is lost. */
static int tick(struct runner *r);

static void record_step(struct runner *r, const struct step *s, const char *how, int64_t ms)
{
	cJSON *st = cJSON_CreateObject();

	cJSON_AddStringToObject(st, "step", s->name);
	cJSON_AddStringToObject(st, "status", how);
	cJSON_AddNumberToObject(st, "duration_ms", (double)ms);
	cJSON_AddItemToArray(r->steps, st);
	if (strcmp(how, "ok"))
		r->steps_failed++;
}

static void run_step(struct runner *r, const struct step *s)
{
	int64_t start = monotonic_ms(), deadline = start + r->step_timeout_ms;
	struct strbuf buf = STRBUF_INIT;
	const char *how = NULL;
	int fds[2], status = 0;
	struct sigaction sa;
	pid_t pid;

	/* Close-on-exec: what a step starts (a restarted service) must not hold the pipe open. */
	if (pipe2(fds, O_CLOEXEC) < 0) {
		error_errno("cannot run the %s step", s->name);
		record_step(r, s, "failed", 0);
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		error_errno("cannot run the %s step", s->name);
		close(fds[0]);
		close(fds[1]);
		record_step(r, s, "failed", 0);
		return;
	}
	if (!pid) {
		close(fds[0]);
		/*
		 * The lock stays open here too: a runner killed while this step
		 * works does not let another start beside the step.
		 */
		/* Its own group, killed whole at the deadline; the pass under way finishes. */
		setpgid(0, 0);
		/*
		 * A handler that does nothing, not SIG_IGN: an ignored signal
		 * stays ignored across exec, and a service the step starts
		 * must stop on SIGTERM as usual.
		 */
		sa.sa_handler = ignore_signal;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		event_fd = fds[1];
		test_crash_point(s->name);
		exit(s->fn(r) < 0 ? 1 : 0);
	}
	setpgid(pid, pid);
	close(fds[1]);
	for (int eof = 0, exited = 0; !eof || !exited;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int64_t left = deadline - monotonic_ms();
		char chunk[4096];
		ssize_t n;

		if (!exited && waitpid(pid, &status, WNOHANG) == pid)
			exited = 1;
		if (left <= 0 && !exited) {
			how = "overran";
			break;
		}
		if (!eof && poll(&pfd, 1, exited ? 0 : (int)(left < 100 ? left : 100)) > 0) {
			n = read(fds[0], chunk, sizeof(chunk));
			if (n > 0) {
				strbuf_add(&buf, chunk, (size_t)n);
				take_lines(r, s, &buf, 0);
			} else if (n == 0 || errno != EINTR) {
				eof = 1;
			}
		} else if (exited) {
			/* Gone, and nothing more to read now: what its own children hold open is not its. */
			eof = 1;
		}
		if (!exited && tick(r) < 0) {
			how = "lease-lost";
			break;
		}
	}
	if (how) {
		/* As kill -9 would: the next pass resumes from the store. */
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	take_lines(r, s, &buf, 1);
	close(fds[0]);
	strbuf_release(&buf);
	if (!how)
		how = WIFEXITED(status) && !WEXITSTATUS(status) ? "ok" : "failed";
	if (!strcmp(how, "overran"))
		error("the %s step ran past run.step-timeout and was stopped; the next pass resumes it",
		      s->name);
	else if (!strcmp(how, "lease-lost"))
		error("the Lease was lost: the %s step was stopped before another could act", s->name);
	else if (!strcmp(how, "failed"))
		error("the %s step failed (said above); the other steps go on", s->name);
	record_step(r, s, how, monotonic_ms() - start);
}

/* ---- the Lease, across hosts (run.lease) ---- */

/* Touch the lock now and then: its time says the runner is alive (--status). */
static void touch_lock(struct runner *r)
{
	static int64_t last;
	int64_t now = monotonic_ms();

	if (now - last >= 1000) {
		last = now;
		if (futimens(r->lock_fd, NULL) < 0)
			error_errno("cannot touch %s", r->lock_path);
	}
}

static int lease_start(struct runner *r)
{
	const char *kind = config_get_string(&the_sre.cfg, "run.lease");

	(void)r;
	if (kind && strcmp(kind, "none"))
		return error("run.lease = %s: none, or kubernetes", kind);
	return 0;
}

/* Does this runner act this pass (it holds the Lease, or there is none)? */
static int lease_acting(struct runner *r)
{
	(void)r;
	return 1;
}

static int tick(struct runner *r)
{
	touch_lock(r);
	return 0;
}

static void lease_stop(struct runner *r)
{
	(void)r;
}

/* Keep what this pass did for `sre run --status`. */
static void record_pass(struct runner *r, time_t started, int64_t ms)
{
	cJSON *summary = cJSON_CreateObject();

	cJSON_AddItemReferenceToObject(summary, "events", r->counts);
	cJSON_AddItemReferenceToObject(summary, "steps", r->steps);
	cJSON_AddBoolToObject(summary, "needs_person", r->needs_person);
	if (loop_pass_record(sre_store(), started, ms, r->standby ? "standby" : "acting", r->name,
			     summary) < 0)
		warning("this pass could not be recorded for sre run --status");
	sre_store_close();
	cJSON_Delete(summary);
}

/* One pass: 0, or 1 when something needs a person (a step failed, an incident waits). */
static int pass(struct runner *r)
{
	time_t started = time(NULL);
	int64_t t0 = monotonic_ms();

	r->pass++;
	r->needs_person = r->steps_failed = 0;
	r->counts = cJSON_CreateObject();
	r->steps = cJSON_CreateArray();
	r->standby = !lease_acting(r);
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
		if (!r->standby || steps[i].standby)
			run_step(r, &steps[i]);
	/* A condition no longer said this pass is over: said again when it comes back. */
	strvec_clear(&r->said);
	r->said = r->saying;
	strvec_init(&r->saying);
	/* Last, so that it can say whether a step failed; bounded as every step is. */
	run_step(r, &heartbeat_step);
	record_pass(r, started, monotonic_ms() - t0);
	cJSON_Delete(r->counts);
	cJSON_Delete(r->steps);
	return r->needs_person || r->steps_failed;
}

/* ---- one at a time on this host ---- */

/* Who holds the lock, from what it wrote there; NULL when unreadable. */
static char *lock_holder(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	if (strbuf_read_file(&sb, path, 512) <= 0) {
		strbuf_release(&sb);
		return NULL;
	}
	strbuf_trim(&sb);
	for (size_t i = 0; i < sb.len; i++)
		if ((unsigned char)sb.buf[i] < 0x20 || sb.buf[i] == 0x7f)
			sb.buf[i] = '?';
	return strbuf_detach(&sb, NULL);
}

static int take_lock(struct runner *r, int wait)
{
	char at[32];
	struct strbuf who = STRBUF_INIT;

	r->lock_fd = open(r->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (r->lock_fd < 0)
		return error_errno("cannot open %s", r->lock_path);
	if (flock(r->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		char *holder;

		if (errno != EWOULDBLOCK)
			return error_errno("cannot lock %s", r->lock_path);
		holder = lock_holder(r->lock_path);
		if (!wait) {
			error("another sre run holds this store (%s): one at a time", holder ? holder : "who is not known");
			fprintf(stderr, "hint: --wait waits for it to finish\n");
			free(holder);
			return 1;
		}
		fprintf(stderr, "sre: waiting for the sre run that holds this store (%s)\n",
			holder ? holder : "who is not known");
		free(holder);
		while (flock(r->lock_fd, LOCK_EX) < 0)
			if (errno != EINTR || stopping)
				return errno == EINTR ? 1 : error_errno("cannot lock %s", r->lock_path);
	}
	format_iso8601(at, sizeof(at), time(NULL));
	strbuf_addf(&who, "%s since %s\n", r->name, at);
	/* Written, then cut to length: a reader never sees it empty. */
	if (pwrite(r->lock_fd, who.buf, who.len, 0) != (ssize_t)who.len ||
	    ftruncate(r->lock_fd, (off_t)who.len) < 0)
		error_errno("cannot say in %s who holds it", r->lock_path);
	strbuf_release(&who);
	return 0;
}

/* ---- sre run --status ---- */

static int show_status(struct runner *r)
{
	struct store *st = sre_store_if_exists();
	cJSON *passes = NULL, *out, *last;
	char *holder = NULL, *text;
	int held = 0, healthy = 0, fd;
	time_t at = 0;
	struct stat sb;

	fd = open(r->lock_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
		close(fd);
		if (held)
			holder = lock_holder(r->lock_path);
	}
	if (st && loop_pass_list(st, 5, &passes) < 0)
		return EXIT_FATAL;
	last = cJSON_GetArrayItem(passes, 0);
	if (last && parse_iso8601(json_string(last, "started_at"), &at) == 0) {
		int64_t age = (int64_t)(time(NULL) - at) * 1000 - json_int(last, "duration_ms");
		/* Live: a pass ended within three intervals, or one is under way under the lock. */
		healthy = age <= 3 * r->interval_ms ||
			  (held && stat(r->lock_path, &sb) == 0 &&
			   (int64_t)(time(NULL) - sb.st_mtime) * 1000 <= 3 * r->interval_ms);
	}
	if (r->json) {
		out = cJSON_CreateObject();
		cJSON_AddBoolToObject(out, "healthy", healthy);
		cJSON_AddBoolToObject(out, "running", held);
		if (holder)
			cJSON_AddStringToObject(out, "holder", holder);
		else
			cJSON_AddNullToObject(out, "holder");
		cJSON_AddItemToObject(out, "passes", passes ? passes : cJSON_CreateArray());
		passes = NULL;
		text = cJSON_Print(out);
		printf("%s\n", text);
		free(text);
		cJSON_Delete(out);
	} else {
		if (held)
			printf("running: %s\n", holder ? holder : "by a process that did not say who");
		else
			printf("running: no sre run holds this store now\n");
		if (!last) {
			printf("last pass: none: sre run has not run on this store\n");
		} else {
			const cJSON *sum = json_get(last, "summary"), *ev = json_get(sum, "events"), *e;
			int failed = 0;

			printf("last pass: %s, took %.1f s, %s, by %s\n", json_string(last, "started_at"),
			       json_int(last, "duration_ms") / 1000.0, json_string(last, "role"),
			       json_string(last, "runner"));
			printf("what it did:");
			if (!cJSON_GetArraySize((cJSON *)ev))
				printf(" nothing changed");
			cJSON_ArrayForEach(e, ev)
				printf(" %s %d", e->string, (int)e->valuedouble);
			putchar('\n');
			cJSON_ArrayForEach(e, json_get(sum, "steps"))
				if (!json_string_is(e, "status", "ok")) {
					printf("step %s: %s\n", json_string(e, "step"), json_string(e, "status"));
					failed = 1;
				}
			if (!failed)
				printf("steps: every one ok\n");
			if (cJSON_IsTrue(json_get(sum, "needs_person")))
				printf("something needs a person: sre incident list\n");
		}
		printf("healthy: %s\n", healthy ? "yes" : "no (no pass in the last three intervals)");
	}
	cJSON_Delete(passes);
	free(holder);
	return healthy ? 0 : EXIT_FOUND;
}

int cmd_run(int argc, const char **argv)
{
	struct runner r;
	const char *interval = NULL;
	int once = 0, watch = 0, status = 0, wait = 0, ret = 0;
	char host[256];
	const struct option opts[] = {
		OPT_BOOL(0, "once", &once, "one pass, then exit: 1 when something needs a person"),
		OPT_BOOL(0, "watch", &watch, "pass after pass until SIGTERM or SIGINT"),
		OPT_STRING(0, "interval", &interval, "duration", "with --watch, between passes (run.interval, 30s)"),
		OPT_BOOL(0, "json", &r.json, "print each event as a JSON line (NDJSON)"),
		OPT_BOOL(0, "wait", &wait, "with --watch, wait for another sre run to finish"),
		OPT_BOOL(0, "status", &status, "show the last pass and who runs now"),
		OPT_END(),
	};

	memset(&r, 0, sizeof(r));
	strvec_init(&r.said);
	strvec_init(&r.saying);
	argc = parse_options_or_exit(argc, argv, opts, run_usage, 0);
	if (argc)
		usage_error(run_usage, opts, "unexpected argument '%s'", argv[0]);
	if (once + watch + status != 1)
		usage_error(run_usage, opts, "--once, --watch or --status: one of them");
	if ((interval || wait) && !watch)
		usage_error(run_usage, opts, "--interval and --wait go with --watch");
	r.watch = watch;
	r.interval_ms = 30000;
	r.step_timeout_ms = 300000;
	if (config_get_duration_ms(&the_sre.cfg, "run.interval", &r.interval_ms) < 0 ||
	    config_get_duration_ms(&the_sre.cfg, "run.step-timeout", &r.step_timeout_ms) < 0)
		die("run.interval and run.step-timeout are durations");
	if (interval && parse_duration_ms(interval, &r.interval_ms) < 0)
		usage_error(run_usage, opts, "--interval '%s' is not a duration (30s, 5m)", interval);
	if (r.interval_ms < 100 || r.interval_ms > 86400000LL || r.step_timeout_ms < 1000 ||
	    r.step_timeout_ms > 86400000LL)
		die("the interval is from 100ms to a day, run.step-timeout from 1s to a day");
	r.store_path = sre_store_path();
	r.lock_path = xstrfmt("%s-run", r.store_path);
	if (status) {
		ret = show_status(&r);
		goto out;
	}
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	snprintf(r.name, sizeof(r.name), "%s-%ld", host, (long)getpid());
	{
		/* No SA_RESTART: a wait is cut short and the pass under way finishes. */
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	/* Made (and its schema brought up to date) here, once; then closed before any fork. */
	sre_store();
	sre_store_close();
	if ((ret = take_lock(&r, wait)) != 0) {
		ret = ret < 0 ? EXIT_FATAL : EXIT_FOUND;
		goto out;
	}
	if (lease_start(&r) < 0) {
		ret = EXIT_FATAL;
		goto out;
	}
	do {
		int64_t next;

		ret = pass(&r);
		for (next = monotonic_ms() + r.interval_ms; watch && !stopping && monotonic_ms() < next;) {
			int64_t left = next - monotonic_ms();
			poll(NULL, 0, (int)(left < 250 ? left : 250));
			tick(&r);
		}
	} while (watch && !stopping);
	lease_stop(&r);
	/* Nobody holds it now: it says so to the next one. */
	if (ftruncate(r.lock_fd, 0) < 0)
		error_errno("cannot clear %s", r.lock_path);
	close(r.lock_fd);
	if (watch)
		ret = 0;
	else
		ret = ret ? EXIT_FOUND : 0;
out:
	strvec_clear(&r.said);
	strvec_clear(&r.saying);
	free(r.lock_path);
	free(r.store_path);
	return ret;
}
