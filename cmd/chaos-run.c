/*
 * chaos-run.c: `sre chaos run` and `sre chaos gameday`, experiments in
 * Chaos Toolkit's format (the engine is lib/chaos-experiment.c).
 *
 * run reads one experiment, runs it, and writes its journal (0600,
 * atomically; ./journal.json as Chaos Toolkit does). SIGINT and SIGTERM
 * end the run "interrupted"; its rollbacks and the undo of sre's own
 * faults still run. An experiment file is a program the user chose to
 * run: its process activities run programs, from an argv, never a shell.
 *
 * gameday runs several experiments in turn, each written to a journal of
 * its own beside where it ran (journal-<name>.json), and prints a line
 * per fault injected with the loop's columns: detected, diagnosed as
 * expected, action, resolved. They read "-" until the loop is wired in.
 *
 * Exit: 0 every run completed without deviating, 1 a run deviated, failed
 * or was interrupted, 128 fatal (an experiment unreadable or invalid, a
 * journal that cannot be written).
 */
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include "builtin.h"
#include "chaos.h"
#include "../lib/chaos-experiment.h"
#include "../lib/engine.h"
#include "../lib/json.h"
#include "../lib/loop.h"
#include "../lib/timeutil.h"

const char *const chaos_run_usage[] = {
	"sre chaos run [--journal <file>] [--dry-run] [--loop] [--rollback-strategy <strategy>] <experiment.json>",
	NULL,
};

const char *const chaos_gameday_usage[] = {
	"sre chaos gameday [--json] <dir|experiment.json>...",
	NULL,
};

#define EXPERIMENT_MAX (4 << 20)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static void note(void *data, const char *line)
{
	fprintf(stderr, "%s\n", line);
}

static void note_out(void *data, const char *line)
{
	printf("%s\n", line);
}

/* Read and check an experiment: NULL after saying why. */
static struct chaos_experiment *load(const char *path)
{
	struct strbuf text = STRBUF_INIT, why = STRBUF_INIT;
	struct chaos_experiment *e = NULL;

	if (strbuf_read_regular_file(&text, path, EXPERIMENT_MAX) < 0)
		error_errno("cannot read the experiment %s", path);
	else if (chaos_experiment_parse(&e, text.buf, &why) < 0)
		error("%s: %s", path, why.buf);
	strbuf_release(&text);
	strbuf_release(&why);
	return e;
}

/* This run's id: what its faults are recorded under (chaos_options.run). */
static char *run_id(void)
{
	char at[32];

	format_iso8601(at, sizeof(at), time(NULL));
	return xstrfmt("chaos-run-%s-%ld", at, (long)getpid());
}

/* --loop: one pass of sre's loop, said as it goes, and its writes delivered. */
static void heal(void *data)
{
	const struct engine_context *ctx = data;
	struct loop_report rep = LOOP_REPORT_INIT;

	if (loop_pass(ctx, &rep) < 0)
		warning("a pass of the loop could not run");
	for (const char *l = rep.lines.buf; *l;) {
		const char *nl = strchrnul(l, '\n');
		fprintf(stderr, "loop: %.*s\n", (int)(nl - l), l);
		l = *nl ? nl + 1 : nl;
	}
	loop_report_release(&rep);
	if (sre_deliver())
		warning("some writes wait in the outbox: sre sync");
}

static int with_loop;

/* Run e; the journal, or NULL (said). */
static cJSON *run_one(struct chaos_experiment *e, enum chaos_strategy strategy, int dry_run,
		      void (*say)(void *, const char *))
{
	struct engine_context ctx;
	struct chaos_run_options o = { 0 };
	char *id = run_id();
	cJSON *journal;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = &the_sre.cfg;
	/* The store only when a fault of sre's is asked for: an http and process experiment needs none. */
	ctx.store = (with_loop || chaos_experiment_uses_sre(e)) && !dry_run ? sre_store() : NULL;
	if (with_loop && !dry_run) {
		o.heal = heal;
		o.heal_data = &ctx;
		ctx.tracker = sre_tracker();
		o.heal_timeout_ms = 120 * 1000;
		if (config_get_duration_ms(&the_sre.cfg, "chaos.heal-timeout", &o.heal_timeout_ms) < 0)
			die("chaos.heal-timeout is not a duration");
	}
	ctx.actor = sre_actor();
	ctx.note = note;
	o.rollbacks = strategy;
	o.dry_run = dry_run;
	o.ctx = &ctx;
	o.run = id;
	o.stop = &stop;
	o.note = say;
	journal = chaos_experiment_run(e, &o);
	free(id);
	return journal;
}

static int outcome(const cJSON *journal)
{
	return json_string_is(journal, "status", "completed") && !cJSON_IsTrue(json_get(journal, "deviated"))
		? 0 : EXIT_FOUND;
}

int cmd_chaos_run(int argc, const char **argv)
{
	const char *journal_path = "journal.json", *strategy = NULL;
	enum chaos_strategy rs = CHAOS_ROLLBACK_FROM_EXPERIMENT;
	struct chaos_experiment *e;
	int dry_run = 0, r;
	cJSON *journal;
	const struct option opts[] = {
		OPT_STRING(0, "journal", &journal_path, "file", "where the journal goes (journal.json)"),
		OPT_BOOL('n', "dry-run", &dry_run, "print each step; run nothing, not even probes"),
		OPT_STRING(0, "rollback-strategy", &strategy, "strategy",
			   "default, always, never or deviated (the experiment's runtime, else default)"),
		OPT_BOOL(0, "loop", &with_loop, "after the method, run sre's loop until the steady state is back"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, chaos_run_usage, 0);
	if (argc != 1)
		usage_error(chaos_run_usage, opts, argc ? "one experiment at a time" : "which experiment?");
	if (strategy && chaos_strategy_parse(strategy, &rs) < 0)
		usage_error(chaos_run_usage, opts, "--rollback-strategy '%s': default, always, never or deviated",
			    strategy);
	if (!(e = load(argv[0])))
		return EXIT_FATAL;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(dry_run ? stdout : stderr, "%sexperiment: %s\n", dry_run ? "would run " : "",
		chaos_experiment_title(e));
	journal = run_one(e, rs, dry_run, dry_run ? note_out : note);
	chaos_experiment_free(e);
	if (!journal)
		return EXIT_FATAL;
	r = outcome(journal);
	if (dry_run) {
		printf("would write the journal to %s\n", journal_path);
	} else {
		if (chaos_journal_write(journal_path, journal) < 0)
			r = EXIT_FATAL;
		fprintf(stderr, "experiment %s%s; journal: %s\n", json_string(journal, "status"),
			cJSON_IsTrue(json_get(journal, "deviated")) ? ", deviated" : "", journal_path);
	}
	cJSON_Delete(journal);
	return r;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The experiments a gameday argument names: a file, or the *.json of a directory, sorted. */
static void collect(const char *arg, struct strvec *out)
{
	DIR *d = opendir(arg);
	struct dirent *de;
	struct strvec names = STRVEC_INIT;

	if (!d) {
		strvec_push(out, arg);
		return;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && ends_with(de->d_name, ".json") && !starts_with(de->d_name, "journal"))
			strvec_pushf(&names, "%s/%s", arg, de->d_name);
	closedir(d);
	if (names.nr)
		qsort(names.v, names.nr, sizeof(*names.v), by_name);
	for (size_t i = 0; i < names.nr; i++)
		strvec_push(out, names.v[i]);
	strvec_clear(&names);
}

/* A loop column: its text, its seconds, or "-" while the loop has not done it. buf is the caller's. */
static const char *cell(const cJSON *f, const char *key, char *buf, size_t size)
{
	const cJSON *v = json_get(f, key);

	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsNumber(v) && buf) {
		snprintf(buf, size, "%.0fs", v->valuedouble);
		return buf;
	}
	return "-";
}

/* Wait for e's steady state to come back, up to chaos.heal-timeout (2m). 1 healed, 0 not. */
static int healed(struct chaos_experiment *e, int64_t *waited_ms)
{
	struct engine_context ctx;
	struct chaos_run_options o = { 0 };
	int64_t timeout_ms = 120 * 1000;

	if (config_get_duration_ms(&the_sre.cfg, "chaos.heal-timeout", &timeout_ms) < 0)
		die("chaos.heal-timeout is not a duration");
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = &the_sre.cfg;
	ctx.note = note;
	o.ctx = &ctx;
	o.stop = &stop;
	return chaos_experiment_wait_steady(e, &o, timeout_ms, waited_ms) == 1;
}

/* The game day's tally, and the score it prints. */
struct tally {
	int faults, detected, expected, as_expected, resolved, experiments, healed;
};

static void count(struct tally *t, const cJSON *f)
{
	const char *want = json_string(json_get(f, "expect"), "category");

	t->faults++;
	t->detected += cJSON_IsNumber(json_get(f, "mttd_s"));
	t->resolved += cJSON_IsNumber(json_get(f, "mttr_s"));
	if (want) {
		t->expected++;
		t->as_expected += json_string_is(f, "diagnosed_category", want);
	}
}

static cJSON *score_json(const struct tally *t)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "faults", t->faults);
	cJSON_AddNumberToObject(o, "detected", t->detected);
	cJSON_AddNumberToObject(o, "with_expectation", t->expected);
	cJSON_AddNumberToObject(o, "diagnosed_as_expected", t->as_expected);
	cJSON_AddNumberToObject(o, "resolved", t->resolved);
	cJSON_AddNumberToObject(o, "experiments", t->experiments);
	cJSON_AddNumberToObject(o, "healed", t->healed);
	/* The loop's share of the work done, from 0 to 1: each fault seen, explained and closed. */
	cJSON_AddNumberToObject(o, "score", t->faults ? (double)(t->detected + t->as_expected + t->resolved) /
				(double)(2 * t->faults + t->expected) : 0);
	return o;
}

#define ROW "%-22s %-18s %-15s %-9s %-30s %-8s %-9s %s\n"

int cmd_chaos_gameday(int argc, const char **argv)
{
	struct strvec files = STRVEC_INIT;
	struct tally t = { 0 };
	cJSON *all = cJSON_CreateArray(), *score;
	int json = 0, r = 0;
	const struct option opts[] = {
		OPT_BOOL(0, "json", &json, "print JSON"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, chaos_gameday_usage, 0);
	if (argc < 1)
		usage_error(chaos_gameday_usage, opts, "which experiments? (a directory or files)");
	for (int i = 0; i < argc; i++)
		collect(argv[i], &files);
	if (!files.nr)
		die("no experiment (*.json) in %s", argv[0]);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!json)
		printf(ROW, "experiment", "fault", "target", "detected", "diagnosed", "action", "resolved",
		       "healed");
	for (size_t i = 0; i < files.nr && !stop; i++) {
		struct chaos_experiment *e = load(files.v[i]);
		const char *base = strrchr(files.v[i], '/') ? strrchr(files.v[i], '/') + 1 : files.v[i];
		char *jpath, heal[32];
		cJSON *journal, *row;
		const cJSON *f, *faults;
		int64_t waited = 0;
		int ok;

		if (!e) {
			r = EXIT_FATAL;
			continue;
		}
		journal = run_one(e, CHAOS_ROLLBACK_FROM_EXPERIMENT, 0, note);
		if (!journal) {
			chaos_experiment_free(e);
			r = EXIT_FATAL;
			continue;
		}
		/* Each fault healed before the next: the steady state back, or the time up. */
		ok = healed(e, &waited);
		chaos_experiment_free(e);
		t.experiments++;
		t.healed += ok;
		snprintf(heal, sizeof(heal), ok ? "%llds" : "no (%llds)", (long long)(waited / 1000));
		jpath = xstrfmt("journal-%.*s.json", (int)(strlen(base) - 5), base);
		if (chaos_journal_write(jpath, journal) < 0)
			r = EXIT_FATAL;
		if (!r && !ok)
			r = EXIT_FOUND;
		faults = json_get(json_get(journal, "sre"), "faults");
		row = cJSON_CreateObject();
		cJSON_AddStringToObject(row, "experiment", files.v[i]);
		cJSON_AddStringToObject(row, "journal", jpath);
		cJSON_AddStringToObject(row, "status", json_string(journal, "status"));
		cJSON_AddBoolToObject(row, "deviated", cJSON_IsTrue(json_get(journal, "deviated")));
		cJSON_AddBoolToObject(row, "healed", ok);
		cJSON_AddNumberToObject(row, "healed_s", (double)(waited / 1000));
		cJSON_AddItemToObject(row, "faults", cJSON_Duplicate(faults, 1));
		cJSON_AddItemToArray(all, row);
		if (!json && !cJSON_GetArraySize(faults))
			printf(ROW, base, "-", "-", "-", "-", "-", "-", heal);
		cJSON_ArrayForEach(f, faults) {
			char detected[32], resolved[32], diagnosed[96];
			const char *want = json_string(json_get(f, "expect"), "category");
			const char *got = cell(f, "diagnosed_category", NULL, 0);

			count(&t, f);
			if (json)
				continue;
			snprintf(diagnosed, sizeof(diagnosed), "%s%s", got,
				 !want ? "" : !strcmp(got, want) ? " (as expected)" : " (not expected)");
			printf(ROW, base, json_string(f, "fault"), json_string(f, "target"),
			       cell(f, "mttd_s", detected, sizeof(detected)), diagnosed, cell(f, "action", NULL, 0),
			       cell(f, "mttr_s", resolved, sizeof(resolved)), heal);
		}
		free(jpath);
		cJSON_Delete(journal);
	}
	score = score_json(&t);
	if (json) {
		cJSON *o = cJSON_CreateObject();
		char *text;
		cJSON_AddItemToObject(o, "experiments", all);
		cJSON_AddItemToObject(o, "score", score);
		text = cJSON_Print(o);
		puts(text);
		cJSON_free(text);
		cJSON_Delete(o);
	} else {
		printf("\nscore %.2f: %d of %d faults detected, %d of %d diagnosed as expected, %d resolved; "
		       "%d of %d experiments healed\n", cJSON_GetNumberValue(cJSON_GetObjectItem(score, "score")),
		       t.detected, t.faults, t.as_expected, t.expected, t.resolved, t.healed, t.experiments);
		cJSON_Delete(score);
		cJSON_Delete(all);
	}
	strvec_clear(&files);
	return stop ? EXIT_FOUND : r;
}
