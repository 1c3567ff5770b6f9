/*
 * collect-test.h: what the unit tests of the collectors of `sre diagnose`
 * (test-collect-<source>.c) share, beside scout-test.h: running a
 * collector as evidence_collect() runs it, on an HTTP client of the
 * test's whose deadline is the run's, and checking that a source hanging
 * past the deadline is left there.
 *
 *   static struct collect_test run;
 *
 *   collect_test_init(&run);              (its HTTP client: no retries, no deadline)
 *   run.log_lines = 200;
 *   set_source_config(&run.cfg, "jaeger", jaeger.url, "");
 *   is_int(collect_test_run(&run, collect_jaeger, "checkout", NULL), 0, "...");
 *   is_str(run.why.buf, "", "...");
 *   ...the test's fake made to hang...
 *   expect_cut_at_deadline(&run, collect_jaeger, "checkout", "Jaeger hangs", want);
 *   collect_test_release(&run);
 *
 * A test whose collector needs a client of its own for each run (the
 * Kubernetes one: the kubeconfig sets it up) calls run_collector() alone.
 */
#ifndef SRE_COLLECT_TEST_H
#define SRE_COLLECT_TEST_H

#include "../../lib/evidence.h"
#include "../../lib/timeutil.h"
#include "scout-test.h"

typedef int (*collector_fn)(const struct collect_context *c, struct evidence *ev,
			    struct strbuf *why);

/*
 * Run collect on c as evidence_collect() does, under the deadline of c's
 * HTTP client (0: none), into ev and why, emptied first: its return, and
 * in *elapsed_ms how long it took.
 */
static inline int run_collector(collector_fn collect, struct collect_context *c,
				struct evidence *ev, struct strbuf *why, int64_t *elapsed_ms)
{
	int64_t start = monotonic_ms();
	int ret;

	evidence_release(ev);
	strbuf_reset(why);
	c->deadline_ms = c->http->deadline_ms;
	ret = collect(c, ev, why);
	*elapsed_ms = monotonic_ms() - start;
	return ret;
}

/* A collector's runs, one after the other, on one configuration and one HTTP client. */
struct collect_test {
	struct config cfg;          /* what the collector reads: the test's to set */
	struct http_client http;    /* the collector's; its deadline_ms is the run's (0: none) */
	struct collect_options o;   /* the last run's service and check */
	int log_lines;              /* the context's log_lines and now: the test's to set */
	time_t now;
	struct evidence ev;         /* what the last run read */
	struct strbuf why;          /* the line it wrote */
	int64_t elapsed_ms;         /* how long it took */
};

static inline void collect_test_init(struct collect_test *t)
{
	struct config cfg = CONFIG_INIT;
	struct evidence ev = EVIDENCE_INIT;

	memset(t, 0, sizeof(*t));
	t->cfg = cfg;
	t->ev = ev;
	strbuf_init(&t->why, 0);
	http_client_init(&t->http, NULL);
	t->http.retries = 0;
}

static inline void collect_test_release(struct collect_test *t)
{
	evidence_release(&t->ev);
	strbuf_release(&t->why);
	config_clear(&t->cfg);
	http_client_release(&t->http);
}

/* Collect about service (the incident's check, or NULL) afresh: the collector's return. */
static inline int collect_test_run(struct collect_test *t, collector_fn collect,
				   const char *service, const char *check)
{
	struct collect_context c = {
		.cfg = &t->cfg, .o = &t->o, .http = &t->http, .log_lines = t->log_lines,
		.now = t->now,
	};

	memset(&t->o, 0, sizeof(t->o));
	t->o.service = service;
	t->o.check = check;
	return run_collector(collect, &c, &t->ev, &t->why, &t->elapsed_ms);
}

/*
 * With the source hanging (the test has made its fake wait longer than a
 * second), a deadline a second away: collecting about service gives -1
 * within two seconds, and why is want. what names the hang in the titles.
 * No deadline afterwards.
 */
static inline void expect_cut_at_deadline(struct collect_test *t, collector_fn collect,
					  const char *service, const char *what, const char *want)
{
	t->http.deadline_ms = monotonic_ms() + 1000;
	is_int(collect_test_run(t, collect, service, NULL), -1, "%s past the deadline: -1", what);
	ok(t->elapsed_ms < 2000, "back within two seconds (%lld ms)", (long long)t->elapsed_ms);
	is_str(t->why.buf, want, "saying it timed out");
	t->http.deadline_ms = 0;
}

#endif
