/*
 * run.c: `sre run`, the whole loop: scout, diagnose what is new, fix what
 * policy allows and verify, escalate --auto, remember what was resolved,
 * sync the outbox, and ping the heartbeat. Once (--once: cron, CI), or
 * pass after pass (--watch) until SIGTERM or SIGINT, which finish the pass
 * under way.
 *
 * Each step (cmd/run-steps.c) is a library engine run in a child process
 * of its own (run_function(), lib/run-command.c), with a deadline
 * (run.step-timeout). Why a child: a step stuck past its deadline
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
#include <unistd.h>

#include "builtin.h"
#include "run.h"
#include "../lib/format.h"
#include "../lib/http.h"
#include "../lib/json.h"
#include "../lib/kube-lease.h"
#include "../lib/loop.h"
#include "../lib/run-command.h"
#include "../lib/timeutil.h"

static const char *const run_usage[] = {
	"sre run --once [--json]",
	"sre run --watch [--interval <duration>] [--json] [--wait]",
	"sre run --status [--json]",
	NULL,
};

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
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
	/* the Lease (run.lease = kubernetes) */
	int leased;
	struct kube_lease lease;
	int64_t lease_tried_ms;
	char *lease_said;        /* what was last said of it */
	/* this pass */
	struct run_pass p;
	int needs_person;
	cJSON *counts, *steps;
};

/* ---- the steps, run by the parent ---- */

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
static void take_event(struct runner *r, const struct run_step *s, const char *line)
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

/* Time passes for the lock and the Lease (lease.c): 0, or -1 when the Lease is lost. */
static int tick(struct runner *r);

static void record_step(struct runner *r, const struct run_step *s, const char *how, int64_t ms)
{
	cJSON *st = cJSON_CreateObject();

	cJSON_AddStringToObject(st, "step", s->name);
	cJSON_AddStringToObject(st, "status", how);
	cJSON_AddNumberToObject(st, "duration_ms", (double)ms);
	cJSON_AddItemToArray(r->steps, st);
	if (strcmp(how, "ok"))
		r->p.steps_failed++;
}

/* A step in the child; the runner, in the parent (run_function()). */
struct step_call {
	struct runner *r;
	const struct run_step *s;
};

static int call_step(void *data, int fd)
{
	struct step_call *c = data;

	return run_step_call(c->s, &c->r->p, fd);
}

static void step_line(void *cb, const char *line)
{
	struct step_call *c = cb;

	take_event(c->r, c->s, line);
}

static int step_tick(void *cb)
{
	struct step_call *c = cb;

	return tick(c->r);
}

static void run_step(struct runner *r, const struct run_step *s)
{
	struct step_call c = { r, s };
	struct run_function rf = {
		.fn = call_step, .data = &c, .timeout_ms = r->step_timeout_ms,
		.line = step_line, .tick = step_tick, .cb = &c, .name = s->name,
	};
	int64_t start = monotonic_ms();

	switch (run_function(&rf)) {
	case RUN_FUNCTION_OK:
		record_step(r, s, "ok", monotonic_ms() - start);
		return;
	case RUN_FUNCTION_FAILED:
		error("the %s step failed (said above); the other steps go on", s->name);
		record_step(r, s, "failed", monotonic_ms() - start);
		return;
	case RUN_FUNCTION_OVERRAN:
		/* Killed as kill -9 would kill it: the next pass resumes from the store. */
		error("the %s step ran past run.step-timeout and was stopped; the next pass resumes it",
		      s->name);
		record_step(r, s, "overran", monotonic_ms() - start);
		return;
	case RUN_FUNCTION_STOPPED:
		error("the Lease was lost: the %s step was stopped before another could act", s->name);
		record_step(r, s, "lease-lost", monotonic_ms() - start);
		return;
	}
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
	int wanted = kube_lease_wanted(&the_sre.cfg);

	if (wanted <= 0)
		return wanted;
	r->leased = 1;
	return kube_lease_init(&r->lease, &the_sre.cfg, r->name);
}

/* One try to take or renew the Lease; what it found said when it changes. */
static void lease_try(struct runner *r)
{
	struct strbuf holder = STRBUF_INIT, msg = STRBUF_INIT;
	int t;

	r->lease_tried_ms = monotonic_ms();
	t = kube_lease_try(&r->lease, &holder);
	if (t > 0)
		strbuf_addf(&msg, "this runner holds the Lease %s/%s and acts", r->lease.ns, r->lease.name);
	else if (!t)
		strbuf_addf(&msg, "standby: %s holds the Lease %s/%s; this runner scouts and reports",
			    holder.len ? holder.buf : "another runner", r->lease.ns, r->lease.name);
	else
		strbuf_addf(&msg, "the Lease %s/%s cannot be taken or renewed (%s); this runner "
			    "does not act once its last renewal is run.lease-renew-deadline old",
			    r->lease.ns, r->lease.name, r->lease.why.buf);
	if (!r->lease_said || strcmp(r->lease_said, msg.buf)) {
		print_event(r, "lease", "lease", 0, msg.buf);
		free(r->lease_said);
		r->lease_said = strbuf_detach(&msg, NULL);
	}
	strbuf_release(&msg);
	strbuf_release(&holder);
}

/* Does this runner act this pass (it holds the Lease, or there is none)? */
static int lease_acting(struct runner *r)
{
	if (!r->leased)
		return 1;
	lease_try(r);
	return kube_lease_valid(&r->lease);
}

static int tick(struct runner *r)
{
	touch_lock(r);
	if (!r->leased)
		return 0;
	if (monotonic_ms() - r->lease_tried_ms >= r->lease.retry_period_ms)
		lease_try(r);
	/* Acting without the Lease renewed within its deadline: stop, before another could take it. */
	return r->p.standby || kube_lease_valid(&r->lease) ? 0 : -1;
}

static void lease_stop(struct runner *r)
{
	if (!r->leased)
		return;
	/* As client-go's ReleaseOnCancel: another takes it at its next try. */
	if (kube_lease_release(&r->lease) < 0)
		error("the Lease could not be given up (%s); it lapses by itself", r->lease.why.buf);
	kube_lease_clear(&r->lease);
	free(r->lease_said);
}

/* Keep what this pass did for `sre run --status`. */
static void record_pass(struct runner *r, time_t started, int64_t ms)
{
	cJSON *summary = cJSON_CreateObject();

	cJSON_AddItemReferenceToObject(summary, "events", r->counts);
	cJSON_AddItemReferenceToObject(summary, "steps", r->steps);
	cJSON_AddBoolToObject(summary, "needs_person", r->needs_person);
	if (loop_pass_record(sre_store(), started, ms, r->p.standby ? "standby" : "acting", r->name,
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
	r->needs_person = r->p.steps_failed = 0;
	r->counts = cJSON_CreateObject();
	r->steps = cJSON_CreateArray();
	r->p.standby = !lease_acting(r);
	for (size_t i = 0; i < run_steps_nr; i++)
		if (!r->p.standby || run_steps[i].standby)
			run_step(r, &run_steps[i]);
	/* A condition no longer said this pass is over: said again when it comes back. */
	strvec_clear(&r->said);
	r->said = r->saying;
	strvec_init(&r->saying);
	/* Last, so that it can say whether a step failed; bounded as every step is. */
	run_step(r, &run_heartbeat);
	record_pass(r, started, monotonic_ms() - t0);
	cJSON_Delete(r->counts);
	cJSON_Delete(r->steps);
	return r->needs_person || r->p.steps_failed;
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
		if (r.leased)
			kube_lease_clear(&r.lease);
		ret = EXIT_FATAL;
		goto out;
	}
	do {
		/* From the start of a pass to the start of the next: a long pass is followed at once. */
		int64_t next = monotonic_ms() + r.interval_ms;

		ret = pass(&r);
		while (watch && !stopping && monotonic_ms() < next) {
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
