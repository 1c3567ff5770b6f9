/*
 * test-scout.c: unit tests of scout_decide() and scout_silence_is_healthy()
 * (scout.h) on real SQLite files, printing TAP: findings built here, run
 * after run, against the memory the store keeps between runs. What is
 * checked is the decision: open after scout.fail-after failing runs,
 * update (never a second incident) while it keeps failing, resolve after
 * scout.recover-after healthy runs, a silent source counted healthy only
 * when it reports only what is wrong, and no resolution under a fix in
 * flight or while another run holds the incident's lease.
 */
#include <signal.h>
#include <sys/wait.h>

#include "../../lib/mirror.h"
#include "../../lib/scout.h"
#include "test-lib.h"

struct world {
	struct store *st;
	struct config cfg;
	char *path;
	struct scout_options o;
	struct strvec ran;
};

static int world_open(struct world *w, const char *name, int fail_after, int recover_after)
{
	memset(w, 0, sizeof(*w));
	strvec_init(&w->ran);
	w->path = tmp_path(name);
	w->o.fail_after = fail_after;
	w->o.recover_after = recover_after;
	w->o.actor = "scout";
	if (store_open(&w->st, w->path, 5000) < 0) {
		printf("# cannot open the store %s\n", w->path);
		return -1;
	}
	return 0;
}

static void world_close(struct world *w)
{
	store_free(w->st);
	config_clear(&w->cfg);
	strvec_clear(&w->ran);
	free(w->path);
}

/* One run: these findings ("source/service/signal" and failing), then decide. */
struct seen {
	const char *source, *service, *signal;
	int failing;
};

/*
 * Run scout_decide() once over the findings given and return the changes
 * as "what id; what id" (empty when none): e.g. "opened 1".
 */
static char *run(struct world *w, const struct seen *seen, size_t n)
{
	struct findings fs = FINDINGS_INIT;
	struct scout_report rep = SCOUT_REPORT_INIT;
	struct strbuf out = STRBUF_INIT;

	for (size_t i = 0; i < n; i++) {
		struct finding *f = finding_add(&fs, seen[i].source, seen[i].service,
						seen[i].service, seen[i].signal);
		finding_summary(f, "%s %s is %s", seen[i].service, seen[i].signal,
				seen[i].failing ? "bad" : "fine");
		f->failing = seen[i].failing;
		f->severity = SEVERITY_HIGH;
		f->evidence = cJSON_CreateObject();
		cJSON_AddNumberToObject(f->evidence, "value", 42);
	}
	if (scout_decide(w->st, NULL, &w->cfg, &fs, &w->ran, &w->o, &rep) < 0)
		strbuf_addstr(&out, "(error)");
	for (size_t i = 0; i < rep.nr; i++)
		strbuf_addf(&out, "%s%s %lld", out.len ? "; " : "", rep.v[i].what, rep.v[i].id);
	scout_report_release(&rep);
	findings_clear(&fs);
	return strbuf_detach(&out, NULL);
}

/* run() and compare its changes with want. */
#define decide(w, want, msg, ...) \
	do { \
		static const struct seen s_[] = { __VA_ARGS__ }; \
		char *got_ = run((w), s_, ARRAY_SIZE(s_)); \
		is_str(got_, (want), "%s", (msg)); \
		free(got_); \
	} while (0)

static char *run_none(struct world *w)
{
	return run(w, NULL, 0);
}

static int state_of(struct world *w, long long id)
{
	struct incident inc;
	int s;

	if (store_incident_get(w->st, id, &inc))
		return -1;
	s = (int)inc.state;
	incident_release(&inc);
	return s;
}

static long long occurrences_of(struct world *w, long long id)
{
	struct incident inc;
	long long n;

	if (store_incident_get(w->st, id, &inc))
		return -1;
	n = inc.occurrences;
	incident_release(&inc);
	return n;
}

static int count_incidents(struct world *w, int all)
{
	struct incident_filter f = { .all = all, .state = -1 };
	struct incident *list = NULL;
	size_t nr = 0;

	if (store_incident_list(w->st, &f, &list, &nr) < 0)
		return -1;
	incident_list_free(list, nr);
	return (int)nr;
}

#define WEB_BAD { "http", "web", "status", 1 }
#define WEB_OK { "http", "web", "status", 0 }
#define API_BAD { "http", "api", "status", 1 }

/* ---- the tests ---- */

static void test_fail_after(void)
{
	struct world w;

	if (world_open(&w, "fail-after.db", 3, 2) < 0)
		return;
	decide(&w, "", "fail-after 3: the first failing run opens nothing", WEB_BAD);
	decide(&w, "", "fail-after 3: nor the second", WEB_BAD);
	is_int(count_incidents(&w, 1), 0, "fail-after 3: no incident yet");
	decide(&w, "opened 1", "fail-after 3: the third opens it", WEB_BAD);
	is_int(state_of(&w, 1), STATE_INCIDENT_DETECTED, "fail-after 3: detected");

	/* A pass in between starts the count again. */
	decide(&w, "", "another check, failing once", API_BAD);
	decide(&w, "", "fine once", { "http", "api", "status", 0 });
	decide(&w, "", "failing again: the count started over", API_BAD);
	decide(&w, "", "a second failing run", API_BAD);
	decide(&w, "opened 2", "the third in a row opens it", API_BAD);
	world_close(&w);
}

static void test_dedup(void)
{
	struct world w;

	if (world_open(&w, "dedup.db", 1, 2) < 0)
		return;
	decide(&w, "opened 1", "dedup: the first failing run opens", WEB_BAD);
	decide(&w, "updated 1", "dedup: the next one updates the same incident", WEB_BAD);
	decide(&w, "updated 1", "dedup: and the next", WEB_BAD);
	is_int(count_incidents(&w, 1), 1, "dedup: one incident");
	is_int(occurrences_of(&w, 1), 3, "dedup: counted three times");
	decide(&w, "updated 1; opened 2", "dedup: another fingerprint is another incident",
	       WEB_BAD, API_BAD);
	is_int(count_incidents(&w, 1), 2, "dedup: two incidents");
	world_close(&w);
}

static void test_recover_after(void)
{
	struct world w;
	char *got;

	if (world_open(&w, "recover.db", 1, 2) < 0)
		return;
	decide(&w, "opened 1", "recover-after 2: opened", WEB_BAD);
	decide(&w, "", "recover-after 2: one healthy run resolves nothing", WEB_OK);
	is_int(state_of(&w, 1), STATE_INCIDENT_DETECTED, "recover-after 2: still open");
	decide(&w, "recovered 1", "recover-after 2: the second resolves it", WEB_OK);
	is_int(state_of(&w, 1), STATE_INCIDENT_RESOLVED, "recover-after 2: resolved");
	decide(&w, "", "a healthy check with nothing open: nothing to do", WEB_OK);

	/* Flapping: never two healthy runs in a row, never resolved. */
	decide(&w, "opened 2", "flapping: a new incident after the resolved one", WEB_BAD);
	for (int i = 0; i < 3; i++) {
		decide(&w, "", "flapping: healthy once", WEB_OK);
		decide(&w, "updated 2", "flapping: failing again", WEB_BAD);
	}
	is_int(state_of(&w, 2), STATE_INCIDENT_DETECTED, "flapping: the incident stays open");

	/* An http check with nothing said: not judged, neither way. */
	strvec_push(&w.ran, "http");
	for (int i = 0; i < 3; i++) {
		got = run_none(&w);
		is_str(got, "", "http check not judged this run: no change");
		free(got);
	}
	is_int(state_of(&w, 2), STATE_INCIDENT_DETECTED, "silence from an http check is not health");
	world_close(&w);
}

static void test_silence(void)
{
	struct world w;
	struct incident inc = { 0 };
	char *got;

	inc.source = (char *)"kubernetes";
	inc.fingerprint = (char *)"kubernetes/web/crashloop/pod/shop/web-1";
	ok(scout_silence_is_healthy(&inc), "silence: kubernetes reports only what is wrong");
	inc.source = (char *)"docker";
	ok(scout_silence_is_healthy(&inc), "silence: docker too");
	inc.source = (char *)"prometheus";
	inc.fingerprint = (char *)"prometheus/web/alert/HighLatency";
	ok(scout_silence_is_healthy(&inc), "silence: a Prometheus alert too");
	inc.fingerprint = (char *)"prometheus/web/above/latency";
	ok(!scout_silence_is_healthy(&inc), "silence: not a Prometheus query (no data)");
	inc.source = (char *)"http";
	inc.fingerprint = (char *)"http/web/status";
	ok(!scout_silence_is_healthy(&inc), "silence: not an http check");
	inc.source = (char *)"jaeger";
	inc.fingerprint = (char *)"jaeger/web/error-rate";
	ok(!scout_silence_is_healthy(&inc), "silence: not jaeger (too few traces)");

	if (world_open(&w, "silence.db", 1, 2) < 0)
		return;
	decide(&w, "opened 1", "silence: a crashlooping pod opens",
	       { "kubernetes", "web", "crashloop", 1 });
	got = run_none(&w);
	is_str(got, "", "silence: kubernetes did not run: nothing counts");
	free(got);
	got = run_none(&w);
	free(got);
	is_int(state_of(&w, 1), STATE_INCIDENT_DETECTED, "silence: still open without a run");
	strvec_push(&w.ran, "kubernetes");
	got = run_none(&w);
	is_str(got, "", "silence: one silent kubernetes run is one healthy run");
	free(got);
	got = run_none(&w);
	is_str(got, "recovered 1", "silence: the second resolves it");
	free(got);
	is_int(state_of(&w, 1), STATE_INCIDENT_RESOLVED, "silence: resolved");
	world_close(&w);
}

/* Move incident id along the graph to to, through the states listed. */
static int walk(struct world *w, long long id, const enum incident_state *path, size_t n)
{
	enum incident_state remote;

	for (size_t i = 0; i < n; i++)
		if (mirror_incident_transition(w->st, NULL, &w->cfg, id, -1, path[i], "test",
					       "test", &remote) != 0)
			return -1;
	return 0;
}

static void test_fix_in_flight(void)
{
	static const enum incident_state to_fix[] = {
		STATE_ANALYSIS_IN_PROGRESS, STATE_ANALYSIS_COMPLETE,
		STATE_FIX_GENERATION_IN_PROGRESS,
	};
	struct world w;

	if (world_open(&w, "in-flight.db", 1, 1) < 0)
		return;
	decide(&w, "opened 1", "in flight: opened", WEB_BAD);
	ok(!walk(&w, 1, to_fix, ARRAY_SIZE(to_fix)), "in flight: a fix is being generated");
	decide(&w, "", "in flight: healthy, but not resolved under the fix", WEB_OK);
	decide(&w, "", "in flight: nor the next run", WEB_OK);
	is_int(state_of(&w, 1), STATE_FIX_GENERATION_IN_PROGRESS, "in flight: the fix's state stays");
	decide(&w, "updated 1", "in flight: failing again only updates it", WEB_BAD);

	/* Once a person has it (not a fix in flight), recovery resolves it. */
	{
		static const enum incident_state human[] = { STATE_INCIDENT_REQUIRES_HUMAN };
		ok(!walk(&w, 1, human, 1), "needs a human");
	}
	decide(&w, "recovered 1", "needs a human: a healthy run resolves it", WEB_OK);
	world_close(&w);
}

static void test_lease(void)
{
	struct world w;
	int up[2], down[2];
	pid_t pid;
	char c;

	if (world_open(&w, "lease.db", 1, 1) < 0)
		return;
	decide(&w, "opened 1", "lease: opened", WEB_BAD);
	if (pipe(up) < 0 || pipe(down) < 0) {
		ok(0, "lease: pipe");
		world_close(&w);
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* Another run, `sre diagnose` say, holds the incident. */
		struct store *st = NULL;
		int r = store_open(&st, w.path, 5000) < 0 ? -1 :
			store_lease_take(st, 1, "sre diagnose", 600, 0, NULL);
		c = r == 0 ? 'y' : 'n';
		if (write(up[1], &c, 1) != 1 || read(down[0], &c, 1) < 0)
			_exit(2);
		store_free(st);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	c = 0;
	is_int(read(up[0], &c, 1), 1, "lease: the other run answers");
	is_int(c, 'y', "lease: and holds the lease");
	is_int(store_lease_held(w.st, 1, NULL), 1, "lease: held by another live run");
	decide(&w, "", "lease: healthy, but not resolved under the lease", WEB_OK);
	decide(&w, "", "lease: nor the next run", WEB_OK);
	is_int(state_of(&w, 1), STATE_INCIDENT_DETECTED, "lease: the incident stays open");
	if (write(down[1], "x", 1) != 1)
		printf("# cannot tell the child to end\n");
	waitpid(pid, NULL, 0);
	close(up[0]);
	close(down[1]);
	decide(&w, "recovered 1", "lease released: the next healthy run resolves it", WEB_OK);
	world_close(&w);
}

static void test_dry_run(void)
{
	struct world w;

	if (world_open(&w, "dry.db", 2, 1) < 0)
		return;
	w.o.dry_run = 1;
	decide(&w, "", "dry run, fail-after 2: the first run would open nothing", WEB_BAD);
	decide(&w, "", "dry run: and it wrote nothing, so the next run is still the first",
	       WEB_BAD);
	w.o.fail_after = 1;
	decide(&w, "would open 0", "dry run, fail-after 1: would open", WEB_BAD);
	is_int(count_incidents(&w, 1), 0, "dry run: no incident was written");
	w.o.dry_run = 0;
	decide(&w, "opened 1", "for real: opened", WEB_BAD);
	w.o.dry_run = 1;
	decide(&w, "would resolve 1", "dry run: would resolve", WEB_OK);
	is_int(state_of(&w, 1), STATE_INCIDENT_DETECTED, "dry run: still open");
	world_close(&w);
}

static void test_alertmanager_once(void)
{
	struct world w;

	if (world_open(&w, "alertmanager.db", 3, 3) < 0)
		return;
	decide(&w, "opened 1", "alertmanager: Alertmanager waited already: opens at once",
	       { "alertmanager", "web", "HighLatency", 1 });
	decide(&w, "recovered 1", "alertmanager: and resolves at once",
	       { "alertmanager", "web", "HighLatency", 0 });
	world_close(&w);
}

int main(void)
{
	if (test_begin("scout") < 0)
		return 1;
	test_fail_after();
	test_dedup();
	test_recover_after();
	test_silence();
	test_fix_in_flight();
	test_lease();
	test_dry_run();
	test_alertmanager_once();
	return test_end();
}
