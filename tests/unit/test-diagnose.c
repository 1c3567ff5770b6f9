/*
 * test-diagnose.c: unit tests of the diagnosis engine (lib/diagnose.c) and
 * its printer (lib/format.c): which service a question is about, a bundle
 * that cannot be read, and a live incident diagnosed twice on a real
 * store (kept once, then said unchanged). Prints TAP.
 */
#include <cJSON.h>

#include "../../lib/config.h"
#include "../../lib/diagnose.h"
#include "../../lib/format.h"
#include "../../lib/store.h"
#include "test-lib.h"

static struct strbuf notes = STRBUF_INIT;

static void note(void *data, const char *line)
{
	strbuf_addf(&notes, "%s\n", line);
}

static void test_problem_service(const struct config *cfg)
{
	char *s;

	s = diagnose_problem_service(cfg, "checkout is slow since noon");
	is_str(s, "checkout", "a configured service the question names");
	free(s);
	s = diagnose_problem_service(cfg, "api-health fails every minute");
	is_str(s, "payments", "the service of a check the question names");
	free(s);
	s = diagnose_problem_service(cfg, "something is off");
	ok(s == NULL, "no service named: NULL, the caller asks for --service");
	free(s);
}

static void test_bundle(void)
{
	struct diagnose_options o = { 0 };
	struct diagnose_result res = DIAGNOSE_RESULT_INIT;
	char *dir = tmp_path("no-such-bundle");
	int r;

	capture_start();
	r = diagnose_bundle(&o, dir, &res);
	capture_end();
	is_int(r, -1, "a bundle that is not there: -1");
	diagnose_result_release(&res);
	free(dir);
}

static long long count(struct store *st, const char *kind, long long id)
{
	struct event *ev;
	size_t nr;
	long long n = 0;

	if (store_event_list(st, id, &ev, &nr) < 0)
		return -1;
	for (size_t i = 0; i < nr; i++)
		n += !strcmp(ev[i].kind, kind);
	event_list_free(ev, nr);
	return n;
}

static void test_incident(struct store *st, const struct config *cfg)
{
	struct engine_context ctx = { .cfg = cfg, .store = st, .actor = "test", .note = note };
	struct diagnose_options o = { .timeout_ms = 2000 };
	struct diagnose_result res = DIAGNOSE_RESULT_INIT;
	struct incident_new in = { "nowhere", "nowhere is down", NULL, NULL, SEVERITY_HIGH, "test" };
	struct incident inc;
	long long id = 0;
	int created, r;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	cJSON *j;

	capture_start();
	r = diagnose_incident(&ctx, &o, 999, &res);
	like(capture_end(), "no incident 999", "no such incident: said");
	is_int(r, 1, "and 1");
	diagnose_result_release(&res);

	ok(!store_incident_open(st, &in, &id, &created), "an incident");
	memset(&res, 0, sizeof(res));
	r = diagnose_incident(&ctx, &o, id, &res);
	is_int(r, 0, "diagnosed: 0");
	ok(res.deliver, "the caller is asked to deliver");
	is_int(count(st, "diagnosed", id), 1, "the diagnosis is kept");
	ok(!store_incident_get(st, id, &inc), "the incident reads back");
	ok(inc.state == STATE_ANALYSIS_COMPLETE || inc.state == STATE_INCIDENT_REQUIRES_HUMAN,
	   "and moved out of analysis");
	incident_release(&inc);

	fp = open_memstream(&buf, &len);
	diagnose_result_print(fp, &res, 1, 0);
	fclose(fp);
	j = cJSON_Parse(buf);
	is_int((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "incident")), id,
	       "the JSON names the incident");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(j, "service")), "nowhere", "and its service");
	cJSON_Delete(j);
	free(buf);
	buf = NULL;
	fp = open_memstream(&buf, &len);
	diagnose_result_print(fp, &res, 0, 0);
	fclose(fp);
	like(buf, "Service     nowhere", "the text names the same service");
	free(buf);
	diagnose_result_release(&res);

	memset(&res, 0, sizeof(res));
	strbuf_reset(&notes);
	r = diagnose_incident(&ctx, &o, id, &res);
	is_int(r, 0, "diagnosed again: 0");
	like(notes.buf, "the diagnosis is unchanged since the last one", "said unchanged");
	is_int(count(st, "diagnosed", id), 1, "and not kept twice");
	diagnose_result_release(&res);
}

int main(void)
{
	struct config cfg = CONFIG_INIT;
	struct store *st = NULL;
	char *db;

	if (test_begin("diagnose") < 0)
		return 1;
	db = tmp_path("sre.db");
	if (store_open(&st, db, 5000) < 0 ||
	    config_add_override(&cfg, "service.checkout.runtime=process") < 0 ||
	    config_add_override(&cfg, "check.api-health.service=payments") < 0) {
		ok(0, "the store and the configuration");
		return test_end();
	}
	test_problem_service(&cfg);
	test_bundle();
	test_incident(st, &cfg);
	store_free(st);
	config_clear(&cfg);
	free(db);
	strbuf_release(&notes);
	return test_end();
}
