/*
 * scout.c: `sre scout`, one pass (or a loop) over every configured source,
 * turning what is unhealthy into incidents and what recovered into
 * resolutions. Quiet when nothing changed, so cron mails only on news.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "builtin.h"
#include "../lib/format.h"
#include "../lib/progress.h"
#include "../lib/redact.h"
#include "../lib/scout.h"
#include "../lib/strbuf.h"
#include "../lib/timeutil.h"

#define MAX_PAYLOAD (8 << 20)

static const char *const scout_usage[] = {
	"sre scout [--dry-run] [-v] [--json | --porcelain] [--[no-]progress] [--exit-code] [--alerts] [--alertmanager <file>]",
	"sre scout --watch [--interval <duration>] [-v] [--json | --porcelain] [--[no-]progress]",
	NULL,
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct scout_run {
	int json, porcelain, dry_run, exit_code, verbose;
	const char *alertmanager;
	struct scout_options opts;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A source that could not be read: its line, under the status line. */
static void say_error(void *data, const char *line)
{
	(void)data;
	progress_clear();
	fprintf(stderr, "error: %s\n", line);
}

/* Read every configured source, and --alertmanager's payload; 1 when none could be read. */
static int collect(const struct scout_run *run, struct findings *fs, struct strvec *ran,
		   int *configured, int *payload_refused)
{
	int read_any, r = scout_collect(&the_sre.cfg, fs, ran, configured, say_error, NULL);

	if (r < 0)
		die("cannot scout with these http.* settings");
	read_any = r == 0 && *configured;
	if (run->alertmanager) {
		struct strbuf payload = STRBUF_INIT, err = STRBUF_INIT;
		long n;

		(*configured)++;
		if (!strcmp(run->alertmanager, "-"))
			n = strbuf_read_fd(&payload, 0, MAX_PAYLOAD);
		else
			n = strbuf_read_file(&payload, run->alertmanager, MAX_PAYLOAD);
		*payload_refused = 1;
		if (n < 0)
			error_errno("alertmanager: cannot read %s", run->alertmanager);
		else if (alertmanager_parse(payload.buf, payload.len, fs, &err) < 0)
			error("%s", err.buf);
		else
			read_any = 1, *payload_refused = 0;
		strbuf_release(&payload);
		strbuf_release(&err);
	}
	return !read_any;
}

/* One pass. Returns an exit status. */
static int scout_once(const struct scout_run *run)
{
	struct findings fs = FINDINGS_INIT;
	struct strvec ran = STRVEC_INIT;
	struct scout_report rep = SCOUT_REPORT_INIT;
	struct store *st;
	int configured, none_read, payload_refused = 0, ret = 0;

	none_read = collect(run, &fs, &ran, &configured, &payload_refused);
	findings_redact(&fs);
	progress_clear(); /* before any message or result */
	if (!configured) {
		error("nothing to scout: no check, Prometheus, Alertmanager, Kubernetes, Docker, "
		      "Jaeger or process service is configured, and no --alertmanager payload "
		      "(see 'sre help scout')");
		ret = EXIT_FATAL;
		goto out;
	}
	if (none_read) {
		ret = EXIT_FATAL;
		goto out;
	}
	st = sre_store();
	if (scout_decide(st, run->dry_run ? NULL : sre_tracker(), &the_sre.cfg, &fs, &ran,
			 &run->opts, &rep) < 0) {
		ret = EXIT_FATAL;
		goto out;
	}
	scout_report_print(stdout, &fs, &rep, st, run->json ? OUTPUT_JSON :
			   run->porcelain ? OUTPUT_PORCELAIN : OUTPUT_TEXT, run->verbose);
	fflush(stdout);
	for (size_t i = 0; !run->dry_run && i < rep.nr; i++)
		if (!strcmp(rep.v[i].what, "recovered")) {
			if (remember_postmortems() < 0)
				warning("the post-mortem was not written; the next `sre remember` writes it");
			break;
		}
	if (!run->dry_run && sre_deliver())
		ret = EXIT_FOUND;
	if (run->exit_code) {
		struct incident_filter f = { .all = 0, .state = -1 };
		struct incident *list;
		size_t nr;
		if (store_incident_list(st, &f, &list, &nr) < 0) {
			ret = EXIT_FATAL;
			goto out;
		}
		incident_list_free(list, nr);
		if (nr)
			ret = EXIT_FOUND;
	}
	/*
	 * The payload was the caller's own input (a webhook receiver's): what
	 * the other sources found is applied, but the caller must learn that
	 * its payload was refused, to keep it or send it again.
	 */
	if (payload_refused)
		ret = EXIT_FATAL;
out:
	scout_report_release(&rep);
	findings_clear(&fs);
	strvec_clear(&ran);
	return ret;
}

/*
 * One scout at a time per store: a run started by cron while the last one
 * still works skips quietly instead of judging the same minute twice.
 */
static int take_scout_lock(void)
{
	char *path = xstrfmt("%s-scout", store_path(sre_store()));
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	free(path);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return 1;
	}
	return 0; /* held until exit */
}

static int positive_setting(const char *key, int dflt)
{
	long long v;
	int r = config_get_int(&the_sre.cfg, key, &v);

	if (r < 0)
		die("%s is not a number", key);
	if (r > 0)
		return dflt;
	if (v < 1 || v > 1000)
		die("%s is %lld; it takes a number from 1 to 1000", key, v);
	return (int)v;
}

int cmd_scout(int argc, const char **argv)
{
	struct scout_run run = { 0 };
	const char *interval = NULL;
	int watch = 0, alerts = 0, progress = -1, status;
	int64_t interval_ms = 60000;
	const struct option opts[] = {
		OPT_BOOL('n', "dry-run", &run.dry_run, "report what would change, write nothing"),
		OPT_BOOL('v', "verbose", &run.verbose, "also print the incidents updated with no change"),
		OPT_BOOL(0, "json", &run.json, "print every finding as JSON"),
		OPT_BOOL(0, "porcelain", &run.porcelain, "print the ids of incidents opened or updated"),
		OPT_BOOL(0, "exit-code", &run.exit_code, "exit 1 when any incident is open"),
		OPT_BOOL(0, "alerts", &alerts, "also read Prometheus's firing alerts"),
		OPT_BOOL(0, "progress", &progress, "show what is waited on (default: on a terminal)"),
		OPT_STRING(0, "alertmanager", &run.alertmanager, "file",
			   "read an Alertmanager webhook payload (- for stdin)"),
		OPT_BOOL(0, "watch", &watch, "scout again and again, until interrupted"),
		OPT_STRING(0, "interval", &interval, "duration", "with --watch, the time between passes (default 60s)"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, scout_usage, 0);
	if (argc)
		usage_error(scout_usage, opts, "unexpected argument '%s'", argv[0]);
	if (run.json && run.porcelain)
		usage_error(scout_usage, opts, "--json and --porcelain go one at a time");
	if (interval && !watch)
		usage_error(scout_usage, opts, "--interval goes with --watch");
	if (watch && run.alertmanager && !strcmp(run.alertmanager, "-"))
		usage_error(scout_usage, opts, "--watch cannot read a payload from stdin again and again");
	if (interval && (parse_duration_ms(interval, &interval_ms) < 0 || interval_ms < 1000))
		usage_error(scout_usage, opts, "--interval takes a duration of at least 1s, such as 30s or 5m");
	if (alerts && config_add_override(&the_sre.cfg, "scout.alerts=true") < 0)
		die("cannot set scout.alerts");
	run.opts.fail_after = positive_setting("scout.fail-after", 1);
	run.opts.recover_after = positive_setting("scout.recover-after", 2);
	run.opts.dry_run = run.dry_run;
	run.opts.actor = "sre-scout";

	if (!run.dry_run) {
		int r = take_scout_lock();
		if (r < 0)
			die_errno("cannot lock the store for scouting");
		if (r > 0)
			return 0; /* another scout is at work on this store */
	}
	if (progress < 0)
		progress = isatty(2) && getenv("TERM") && strcmp(getenv("TERM"), "dumb") &&
			   !getenv("SRE_TRACE");
	if (progress)
		progress_start(2, 500);
	if (!watch)
		return scout_once(&run);
	json_lines(1);

	{
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	for (;;) {
		int64_t next = mono_ms() + interval_ms;

		status = scout_once(&run);
		if (status == EXIT_FATAL && !run.json)
			warning("this pass failed; trying again in %llds", (long long)(interval_ms / 1000));
		/* A signal finishes the pass it came in, then ends the loop. */
		while (!stop_requested && mono_ms() < next) {
			int64_t d = next - mono_ms();
			struct timespec ts = { d / 1000, (d % 1000) * 1000000 };
			nanosleep(&ts, NULL);
		}
		if (stop_requested)
			return 0;
	}
}
