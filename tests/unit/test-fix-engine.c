/*
 * test-fix-engine.c: unit tests of the fix engine (lib/fix-engine.c) and
 * its printers (lib/format.c), on a real SQLite store in the scratch
 * directory, without running any action: what the engine is given
 * (context, options, the approval callback) decides what it does, and
 * the outcome says it the same way as text and as JSON. Prints TAP.
 */
#include <cJSON.h>

#include "../../lib/config.h"
#include "../../lib/fix-engine.h"
#include "../../lib/format.h"
#include "../../lib/store.h"
#include "test-lib.h"

static struct strbuf notes = STRBUF_INIT;
static int asked;

static void note(void *data, const char *line)
{
	strbuf_addf(&notes, "%s\n", line);
}

static int ask_no(void *data, const struct fix_plan *p)
{
	asked++;
	return 0;
}

/* An incident of service web in ANALYSIS_COMPLETE with a diagnosis whose mitigation is action. */
static long long diagnosed(struct store *st, const char *title, const char *action)
{
	struct incident_new in = { "web", title, NULL, NULL, SEVERITY_HIGH, "test" };
	char *json = xstrfmt("{\"category\":\"crash\",\"root_cause\":\"web died\",\"confidence\":0.9,"
			     "\"mitigation\":{\"action\":\"%s\",\"target\":\"web\",\"params\":{}}}",
			     action);
	struct diagnosis_row row = { "crash", "web died", 0.9, action, "web", json };
	long long id = 0;
	int created;

	if (store_incident_open(st, &in, &id, &created) ||
	    store_incident_transition(st, id, -1, STATE_ANALYSIS_IN_PROGRESS, "test", "t", NULL) ||
	    store_incident_transition(st, id, -1, STATE_ANALYSIS_COMPLETE, "test", "t", NULL) ||
	    store_diagnosis_add(st, id, &row, "test"))
		id = 0;
	free(json);
	return id;
}

static long long count_events(struct store *st, long long id, const char *kind)
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

/* What a printer wrote, in a string the caller frees. */
static char *printed(const struct fix_outcome *out, int json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	fix_outcome_print(fp, out, json);
	fclose(fp);
	return buf;
}

static void test_engine(struct store *st, const struct config *cfg)
{
	struct fix_policy pol = FIX_POLICY_INIT;
	struct engine_context ctx = { .cfg = cfg, .store = st, .actor = "test", .note = note };
	struct fix_options o = { .policy = &pol, .ask = ask_no };
	struct fix_outcome out;
	long long id = diagnosed(st, "web is down", "restart");
	long long esc = diagnosed(st, "web is odd", "escalate");
	const char *msg;
	char *text;
	cJSON *j;
	int r;

	ok(id && esc, "two diagnosed incidents");
	ok(!fix_policy_read(&pol, cfg), "the policy is read");

	fix_outcome_init(&out);
	capture_start();
	r = fix_incident(&ctx, &o, 999, &out);
	msg = capture_end();
	is_int(r, -1, "no such incident: -1");
	like(msg, "no incident 999", "and it says so");
	ok(!out.settled, "and nothing is printed for it");
	text = printed(&out, 1);
	is_str(text, "", "not even as JSON");
	free(text);
	fix_outcome_release(&out);

	/* A dry run: the plan, one event, no move. */
	o.dry_run = 1;
	fix_outcome_init(&out);
	r = fix_incident(&ctx, &o, id, &out);
	is_int(r, 1, "a plan that waits for a person: 1, as the run that follows");
	ok(out.plan.decided && out.plan.verdict == FIX_VERDICT_WAIT, "the decision: wait");
	ok(out.dry_run && out.planned && out.plan.kind == FIX_PLAN_DIRECT, "a direct plan");
	ok(out.plan.requires_approval, "which policy leaves to a person");
	is_int(count_events(st, id, "dry-run"), 1, "recorded as a dry-run event");
	is_int(asked, 0, "nobody was asked");
	text = printed(&out, 0);
	like(text, "Action      restart web (process)", "the text names the action and runtime");
	like(text, "Approval    restart is not in fix.auto", "and why a person approves");
	like(text, "Decision    would wait: incident 1 waits in FIX_GENERATED for a person",
	     "and what the run would do");
	free(text);
	text = printed(&out, 1);
	j = cJSON_Parse(text);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(j, "action")), "restart",
	       "the JSON says the same action");
	ok(cJSON_IsTrue(cJSON_GetObjectItem(j, "requires_approval")), "and the same approval");
	cJSON_Delete(j);
	free(text);
	fix_outcome_release(&out);

	/* For real, without --yes: the callback is asked; no, so it waits. */
	o.dry_run = 0;
	fix_outcome_init(&out);
	r = fix_incident(&ctx, &o, id, &out);
	is_int(r, 1, "nobody approved: 1");
	is_int(asked, 1, "the approval callback was asked once");
	ok(out.settled && out.state == STATE_FIX_GENERATED, "it waits in FIX_GENERATED");
	ok(out.waiting && strstr(out.waiting, "fix.auto"), "the outcome says why");
	ok(out.deliver, "and asks the caller to deliver the outbox");
	like(notes.buf, "waits in FIX_GENERATED for a person", "a note for the person watching");
	is_int(count_events(st, id, "approval-needed"), 1, "approval-needed recorded");
	text = printed(&out, 0);
	is_str(text, "", "nothing was done: no text on stdout");
	free(text);
	text = printed(&out, 1);
	j = cJSON_Parse(text);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(j, "state")), "FIX_GENERATED",
	       "the JSON says where it waits");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(j, "waiting")), out.waiting, "and why");
	cJSON_Delete(j);
	free(text);
	fix_outcome_release(&out);

	/* Asked again (cron): asked again, said once. */
	fix_outcome_init(&out);
	r = fix_incident(&ctx, &o, id, &out);
	is_int(r, 1, "still waiting: 1");
	is_int(asked, 2, "asked again");
	is_int(count_events(st, id, "approval-needed"), 1, "approval-needed not repeated");
	fix_outcome_release(&out);

	/* No callback at all: nobody approves, nothing runs. */
	o.ask = NULL;
	fix_outcome_init(&out);
	is_int(fix_incident(&ctx, &o, id, &out), 1, "without a callback it waits too");
	fix_outcome_release(&out);

	/* An escalation: to a person, with the reason in the outcome and the note. */
	strbuf_reset(&notes);
	fix_outcome_init(&out);
	r = fix_incident(&ctx, &o, esc, &out);
	is_int(r, 1, "escalate: 1");
	ok(out.state == STATE_INCIDENT_REQUIRES_HUMAN, "the incident is with a person");
	ok(out.escalated && strstr(out.escalated, "web died"), "the outcome says why");
	like(notes.buf, "needs a person: the diagnosis says a person must look", "so does the note");
	text = printed(&out, 1);
	j = cJSON_Parse(text);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(j, "escalated")), out.escalated,
	       "the JSON carries the reason");
	ok(cJSON_IsNull(cJSON_GetObjectItem(j, "action")), "and no action");
	cJSON_Delete(j);
	free(text);
	fix_outcome_release(&out);
	fix_policy_release(&pol);
}

/* The text and the JSON of one outcome hold the same facts. */
static void test_outcome_printer(void)
{
	struct fix_outcome out;
	char *text;
	cJSON *j;

	fix_outcome_init(&out);
	out.incident = 4;
	out.settled = 1;
	out.state = STATE_INCIDENT_RESOLVED;
	out.done = xstrdup("restart of web");
	out.done_output = xstrdup("pid 12 -> 13");
	out.resolved = xstrdup("http 200 twice");
	text = printed(&out, 0);
	is_str(text, "restart of web: done: pid 12 -> 13\nincident 4 is resolved: http 200 twice\n",
	       "the text: what was done, then the verdict");
	free(text);
	text = printed(&out, 1);
	j = cJSON_Parse(text);
	ok(j != NULL, "the JSON parses");
	is_int((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "incident")), 4, "incident");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(j, "state")), "INCIDENT_RESOLVED", "state");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(j, "action")), "restart of web", "action");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(j, "output")), "pid 12 -> 13", "output");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(j, "resolved")), "http 200 twice", "resolved");
	ok(cJSON_IsNull(cJSON_GetObjectItem(j, "pull_request")), "no pull request");
	cJSON_Delete(j);
	free(text);
	fix_outcome_release(&out);

	/* A pull request followed: the row, and its counts in the JSON. */
	out.incident = 5;
	out.settled = 1;
	out.state = STATE_PR_UNDER_REVIEW;
	out.pull_followed = 1;
	out.pull = 7;
	out.pull_url = xstrdup("https://github.example/o/n/pull/7");
	out.reviewers = 2;
	text = printed(&out, 0);
	is_str(text, "5 PR_UNDER_REVIEW #7 https://github.example/o/n/pull/7\n", "the status row");
	free(text);
	text = printed(&out, 1);
	j = cJSON_Parse(text);
	is_int((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "pull_request")), 7, "its number");
	is_int((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "reviewers")), 2, "reviewers");
	ok(cJSON_IsFalse(cJSON_GetObjectItem(j, "pull_request_opened")), "followed, not opened");
	cJSON_Delete(j);
	free(text);
	fix_outcome_release(&out);
}

int main(void)
{
	struct config cfg = CONFIG_INIT;
	struct store *st = NULL;
	char *db, *pidfile;

	if (test_begin("fix-engine") < 0)
		return 1;
	db = tmp_path("sre.db");
	pidfile = tmp_path("web.pid");
	if (store_open(&st, db, 5000) < 0 ||
	    config_add_override(&cfg, "service.web.runtime=process") < 0 ||
	    config_add_override(&cfg, "service.web.start=true") < 0) {
		ok(0, "the store and the configuration");
		return test_end();
	}
	{
		char *kv = xstrfmt("service.web.pidfile=%s", pidfile);
		ok(!config_add_override(&cfg, kv), "a process service");
		free(kv);
	}
	test_engine(st, &cfg);
	test_outcome_printer();
	store_free(st);
	config_clear(&cfg);
	free(db);
	free(pidfile);
	strbuf_release(&notes);
	return test_end();
}
