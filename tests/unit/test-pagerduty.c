/*
 * test-pagerduty.c: unit tests of lib/pagerduty.c against
 * tests/fakes/pagerduty.py, a local server that checks events as the
 * PagerDuty Events API v2 does, printing TAP.
 *
 * The tests check what pagerduty_flush() reports, what the fake received
 * and what it holds per dedup_key, and that the routing key never reaches
 * a message, the outbox or the SQLite file. Webhook v3 bodies are the
 * fake's own (shaped as recorded ones) and hostile ones written here.
 *
 * Run as `test-pagerduty --webhook FILE`, it reads one webhook body with
 * pagerduty_webhook_read() and prints what it found, one "name=value" a
 * line (or "error: why", exit 1): tests/t3907 reads the recorded payloads
 * of ../shared/fixtures with it.
 */
#include "../../lib/pagerduty.h"
#include "../../lib/store.h"
#include "fake.h"

#define KEY "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY01"  /* 32 characters */
#define KEY2 "C0MMANDKEYC0MMANDKEYC0MMANDKEY02"
#define KEY3 "LEVEL2KEYLEVEL2KEYLEVEL2KEYLVL03"
#define CANARY "CANARY-PW-7f3a"

static struct fake pd;
static char *db_path;
static struct store *st;
static struct config cfg = CONFIG_INIT;
/* Every line pagerduty_flush() reported and everything it printed. */
static struct strbuf seen = STRBUF_INIT;

static const char *jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *jstr0(const cJSON *o, const char *name)
{
	const char *s = jstr(o, name);
	return s ? s : "";
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* ---- the store and the config ---- */

static long long open_incident(const char *service, const char *title,
			       enum incident_severity sev)
{
	struct incident_new in = {
		.service = service, .title = title, .severity = sev, .actor = "alice",
	};
	long long id = -1;
	int created;

	if (store_incident_open(st, &in, &id, &created))
		printf("# store_incident_open(%s) failed\n", title);
	return id;
}

/* Queue an event for inc in a transaction, as cmd/ does. */
static int queue_inc(const struct incident *inc, const char *action,
		     const struct pagerduty_details *d)
{
	int r = -1;

	if (!store_begin(st)) {
		r = pagerduty_queue(st, inc, action, d);
		if (r)
			store_rollback(st);
		else
			r = store_commit(st);
	}
	return r;
}

static int queue(long long id, const char *action, const struct pagerduty_details *d)
{
	struct incident inc;
	int r;

	if (store_incident_get(st, id, &inc))
		return -1;
	r = queue_inc(&inc, action, d);
	incident_release(&inc);
	return r;
}

static void outbox_item_clear(struct outbox_item *it)
{
	free(it->key);
	free(it->target);
	free(it->operation);
	free(it->payload);
	free(it->last_error);
	memset(it, 0, sizeof(*it));
}

/* The last outbox entry (any status) for target "pagerduty". */
static int last_pd(struct outbox_item *out)
{
	struct outbox_item *items;
	size_t nr;
	int found = 0;

	memset(out, 0, sizeof(*out));
	if (store_outbox_list(st, 0, &items, &nr) < 0)
		return 0;
	for (size_t i = nr; i-- > 0 && !found;) {
		if (strcmp(items[i].target, "pagerduty"))
			continue;
		*out = items[i];
		memset(&items[i], 0, sizeof(items[i]));
		found = 1;
	}
	outbox_list_free(items, nr);
	return found;
}

static int pending_pd(void)
{
	struct outbox_item *items;
	size_t nr;
	int n = 0;

	if (store_outbox_list(st, 1, &items, &nr) < 0)
		return -1;
	for (size_t i = 0; i < nr; i++)
		n += !strcmp(items[i].target, "pagerduty");
	outbox_list_free(items, nr);
	return n;
}

static void set_config(const char *text)
{
	config_clear(&cfg);
	if (config_read_buffer(&cfg, text, strlen(text), "test", CONFIG_SCOPE_COMMAND) < 0)
		printf("# the test's config does not parse\n");
}

#define BASE_CONFIG "[http]\n\tretry-base = 10ms\n\tretries = 1\n"

static void base_config(void)
{
	char *text = xstrfmt(BASE_CONFIG "[pagerduty]\n\turl = %s\n", pd.url);

	set_config(text);
	free(text);
}

/* Flush, keeping what it reported and printed in `seen`. */
static int flush(struct mirror_report *rep)
{
	int r;

	mirror_report_release(rep);
	*rep = (struct mirror_report)MIRROR_REPORT_INIT;
	capture_start();
	r = pagerduty_flush(st, &cfg, rep);
	strbuf_addstr(&seen, capture_end());
	strbuf_addstr(&seen, rep->messages.buf);
	return r;
}

/* The fake's alert of dedup key, as GET /_fake/state shows it; the caller deletes it. */
static cJSON *alert_of(const char *dedup)
{
	cJSON *state = NULL, *a;

	fake_call(&pd, "GET", "/_fake/state", NULL, &state);
	a = cJSON_DetachItemFromObjectCaseSensitive(state, dedup);
	cJSON_Delete(state);
	return a;
}

static long long jnum(const cJSON *o, const char *name)
{
	return (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, name));
}

/* ---- the tests ---- */

static void test_dedup_key(void)
{
	struct strbuf k = STRBUF_INIT, again = STRBUF_INIT;
	long long id = 0;
	int plain = 1;

	pagerduty_dedup_key(&k, 42);
	pagerduty_dedup_key(&again, 42);
	ok(starts_with(k.buf, "sre-") && ends_with(k.buf, "-42"), "the dedup_key is sre-<host>-<id> (%s)", k.buf);
	is_str(k.buf, again.buf, "and stable");
	ok(k.len <= 4 + 64 + 1 + 20, "the host part is capped");
	for (const char *p = k.buf; *p; p++)
		plain &= (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.';
	ok(plain, "in a plain charset");
	is_int(pagerduty_dedup_key_id(k.buf, &id), 0, "pagerduty_dedup_key_id() reads it back");
	is_int(id, 42, "as incident 42");
	is_int(pagerduty_dedup_key_id("sre-another-host.example-42", &id), -1, "another host's key is not ours");
	is_int(pagerduty_dedup_key_id("d387d7bd2e0a4294a5307339dfe1669a", &id), -1, "nor another tool's");
	is_int(pagerduty_dedup_key_id("", &id), -1, "nor an empty one");
	strbuf_release(&k);
	strbuf_release(&again);
}

static void test_configured(void)
{
	char *marker = tmp_path("command-ran"), *text;

	unsetenv("PAGERDUTY_ROUTING_KEY");
	set_config(BASE_CONFIG);
	ok(!pagerduty_configured(&cfg), "not configured without the variable, the command or the key");
	setenv("PAGERDUTY_ROUTING_KEY", KEY, 1);
	ok(pagerduty_configured(&cfg), "configured by PAGERDUTY_ROUTING_KEY");
	unsetenv("PAGERDUTY_ROUTING_KEY");
	text = xstrfmt(BASE_CONFIG "[pagerduty]\n\trouting-key-command = touch %s\n", marker);
	set_config(text);
	ok(pagerduty_configured(&cfg), "configured by pagerduty.routing-key-command");
	ok(access(marker, F_OK) < 0, "pagerduty_configured() does not run the command");
	set_config(BASE_CONFIG "[pagerduty]\n\trouting-key = " KEY "\n");
	ok(pagerduty_configured(&cfg), "configured by pagerduty.routing-key");
	ok(config_key_is_secret("pagerduty.routing-key"), "pagerduty.routing-key is a secret");
	ok(config_key_is_secret("escalation.night.level2-routing-key"), "so is a policy level's");
	ok(config_key_is_known("pagerduty.routing-key"), "and a key sre knows");
	free(text);
	free(marker);
	setenv("PAGERDUTY_ROUTING_KEY", KEY, 1);
	base_config();
}

static void test_severities(long long id)
{
	static const struct { enum incident_severity s; const char *want; } map[] = {
		{ SEVERITY_CRITICAL, "critical" }, { SEVERITY_HIGH, "error" },
		{ SEVERITY_MEDIUM, "warning" }, { SEVERITY_LOW, "info" },
	};
	struct incident inc = { 0 };

	inc.id = id;
	inc.service = "web";
	inc.title = "t";
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		struct outbox_item it;
		cJSON *p;

		inc.severity = map[i].s;
		/* Queued and rolled back: only the row's payload is looked at. */
		if (store_begin(st))
			continue;
		is_int(pagerduty_queue(st, &inc, "trigger", NULL), 0, "queued (%s)",
		       incident_severity_name(map[i].s));
		if (ok(last_pd(&it), "  a row")) {
			p = cJSON_Parse(it.payload);
			is_str(jstr(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "event"), "payload"), "severity"),
			       map[i].want, "severity %s is %s", incident_severity_name(map[i].s), map[i].want);
			cJSON_Delete(p);
		}
		outbox_item_clear(&it);
		store_rollback(st);
	}
	is_int(pending_pd(), 0, "rolled back: nothing queued");
}

static void test_trigger(long long id)
{
	struct mirror_report rep = MIRROR_REPORT_INIT;
	const char *evidence[] = { "db-1: disk /var 99% full", "token=" CANARY " in a log line" };
	struct pagerduty_details d = {
		.reason = "diagnosis unknown",
		.diagnosis = "logrotate stopped",
		.evidence = evidence, .evidence_nr = 2,
		.tried = "restart (refused: no permission)",
		.ticket_url = "https://jira.example.com/browse/OPS-7",
		.pr_url = "javascript:alert(1)",
	};
	struct strbuf title = STRBUF_INIT, dedup = STRBUF_INIT;
	struct incident inc;
	struct outbox_item it;
	cJSON *row, *req, *body, *p, *cd, *links, *a;
	const char *summary;
	int before = fake_log_mark(&pd);

	if (store_incident_get(st, id, &inc)) {
		ok(0, "the incident is there");
		return;
	}
	/* A long title with a password in it: the summary is capped and redacted. */
	strbuf_addstr(&title, "Disk full on db-1 password=" CANARY " ");
	while (title.len < 3000)
		strbuf_addstr(&title, "é and more ");
	free(inc.title);
	inc.title = strbuf_detach(&title, NULL);
	is_int(queue_inc(&inc, "trigger", &d), 0, "pagerduty_queue(trigger) in a transaction");
	incident_release(&inc);
	if (!ok(last_pd(&it), "an outbox entry for pagerduty"))
		return;
	is_str(it.operation, "trigger", "its operation is the action");
	is_int(it.status, OUTBOX_PENDING, "it is pending");
	ok(!strstr(it.payload, KEY), "the row does not hold the routing key");
	row = cJSON_Parse(it.payload);
	is_str(jstr(row, "routing_key_name"), "pagerduty.routing-key", "but the config key that names it");
	ok(!cJSON_GetObjectItem(cJSON_GetObjectItem(row, "event"), "routing_key"),
	   "the queued event has no routing_key");
	cJSON_Delete(row);
	outbox_item_clear(&it);

	is_int(flush(&rep), 0, "pagerduty_flush() succeeds");
	is_int(rep.delivered, 1, "one event delivered");
	is_int(rep.pending + rep.failed, 0, "nothing pending or failed");
	is_int(fake_count(&pd, before, "POST", "^/v2/enqueue$"), 1, "PagerDuty received one POST /v2/enqueue");
	req = fake_first(&pd, before, NULL, NULL);
	ok(starts_with(jstr0(cJSON_GetObjectItem(req, "headers"), "content-type"), "application/json"),
	   "as application/json");
	body = fake_body(req);
	pagerduty_dedup_key(&dedup, id);
	is_str(jstr(body, "routing_key"), KEY, "with the routing key from PAGERDUTY_ROUTING_KEY");
	is_str(jstr(body, "event_action"), "trigger", "event_action trigger");
	is_str(jstr(body, "dedup_key"), dedup.buf, "the incident's dedup_key");
	is_str(jstr(body, "client"), "sre", "client sre");
	p = cJSON_GetObjectItem(body, "payload");
	summary = jstr0(p, "summary");
	ok(utf8_chars(summary) <= 1024 && utf8_chars(summary) > 1000,
	   "the summary is capped at 1024 characters (%zu)", utf8_chars(summary));
	like(summary, "Disk full on db-1 password=", "the summary holds the title");
	unlike(summary, CANARY, "redacted");
	is_str(jstr(p, "severity"), "critical", "severity critical");
	is_str(jstr(p, "component"), "checkout", "component: the service");
	ok(jstr(p, "source") && *jstr(p, "source"), "source: the host (%s)", jstr0(p, "source"));
	cd = cJSON_GetObjectItem(p, "custom_details");
	is_str(jstr(cd, "reason"), "diagnosis unknown", "custom_details.reason");
	is_str(jstr(cd, "diagnosis"), "logrotate stopped", "custom_details.diagnosis");
	is_str(jstr(cd, "tried"), "restart (refused: no permission)", "custom_details.tried");
	is_int(jnum(cd, "incident"), id, "custom_details.incident");
	is_str(jstr(cd, "state"), "INCIDENT_DETECTED", "custom_details.state");
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(cd, "evidence")), 2, "custom_details.evidence");
	is_str(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(cd, "evidence"), 0)),
	       "db-1: disk /var 99% full", "with its lines");
	links = cJSON_GetObjectItem(body, "links");
	is_int(cJSON_GetArraySize(links), 1, "one link: a javascript: URL is left out");
	is_str(jstr(cJSON_GetArrayItem(links, 0), "href"), "https://jira.example.com/browse/OPS-7",
	       "the ticket's");
	ok(!strstr(jstr0(req, "body"), CANARY), "the canary reaches PagerDuty nowhere");
	cJSON_Delete(body);
	cJSON_Delete(req);
	a = alert_of(dedup.buf);
	is_str(jstr(a, "status"), "open", "the fake holds an open alert for it");
	cJSON_Delete(a);
	if (last_pd(&it))
		is_int(it.status, OUTBOX_DELIVERED, "the outbox entry is delivered");
	outbox_item_clear(&it);

	before = fake_log_mark(&pd);
	is_int(flush(&rep), 0, "a second flush succeeds");
	is_int(rep.delivered + rep.pending + rep.failed, 0, "and has nothing to do");
	is_int(fake_count(&pd, before, NULL, NULL), 0, "and sends nothing");
	mirror_report_release(&rep);
	strbuf_release(&dedup);
}

static void test_ack_resolve(long long id)
{
	struct mirror_report rep = MIRROR_REPORT_INIT;
	struct strbuf dedup = STRBUF_INIT;
	cJSON *body, *a;
	int before = fake_log_mark(&pd);

	pagerduty_dedup_key(&dedup, id);
	is_int(queue(id, "acknowledge", NULL), 0, "an acknowledge is queued");
	flush(&rep);
	is_int(rep.delivered, 1, "and delivered");
	body = fake_last_body(&pd, before, "POST", "^/v2/enqueue$");
	is_str(jstr(body, "event_action"), "acknowledge", "event_action acknowledge");
	is_str(jstr(body, "dedup_key"), dedup.buf, "the trigger's dedup_key");
	is_str(jstr(body, "routing_key"), KEY, "the trigger's routing key");
	ok(!cJSON_GetObjectItem(body, "payload"), "no payload");
	cJSON_Delete(body);
	a = alert_of(dedup.buf);
	is_str(jstr(a, "status"), "acked", "PagerDuty's alert is acknowledged");
	cJSON_Delete(a);

	is_int(queue(id, "resolve", NULL), 0, "a resolve is queued");
	flush(&rep);
	is_int(rep.delivered, 1, "and delivered");
	body = fake_last_body(&pd, before, "POST", "^/v2/enqueue$");
	is_str(jstr(body, "event_action"), "resolve", "event_action resolve");
	is_str(jstr(body, "dedup_key"), dedup.buf, "the same dedup_key");
	cJSON_Delete(body);
	a = alert_of(dedup.buf);
	is_str(jstr(a, "status"), "resolved", "PagerDuty's alert is resolved");
	is_int(jnum(a, "alerts"), 1, "one alert was ever opened for it");
	cJSON_Delete(a);

	/* 202 proves delivery, not effect: a resolve of nothing open is accepted too. */
	queue(id, "resolve", NULL);
	flush(&rep);
	is_int(rep.delivered, 1, "a resolve of a resolved alert is answered 202, delivered");
	capture_start();
	is_int(queue(id, "page", NULL), -1, "an unknown action is refused");
	like(capture_end(), "error: pagerduty: no such event action 'page'", "saying so");
	mirror_report_release(&rep);
	strbuf_release(&dedup);
}

static void test_refused(long long id)
{
	struct mirror_report rep = MIRROR_REPORT_INIT;
	struct outbox_item it;

	fake_fail(&pd, "{\"path\":\"^/v2/enqueue$\",\"status\":400,\"body\":{\"status\":\"invalid event\","
		       "\"message\":\"Event object is invalid\",\"errors\":[\"'payload.summary' is too long\"]}}");
	queue(id, "trigger", NULL);
	is_int(flush(&rep), 0, "a 400 is no error of the run");
	is_int(rep.failed, 1, "the event is marked failed");
	is_int(rep.delivered + rep.pending, 0, "nothing else");
	like(rep.messages.buf, "pagerduty: trigger of incident", "the message names the event");
	like(rep.messages.buf, "HTTP 400 Event object is invalid: 'payload.summary' is too long",
	     "and gives PagerDuty's message and errors");
	if (last_pd(&it)) {
		is_int(it.status, OUTBOX_FAILED, "the outbox entry is failed for good");
		like(it.last_error ? it.last_error : "", "payload.summary", "with the message kept");
	}
	outbox_item_clear(&it);
	is_int(pending_pd(), 0, "nothing is left queued");
	mirror_report_release(&rep);
}

/* A storm of `status` answers: N of them, with http.retries = 1 (two attempts a run). */
static void test_storm(long long id, int status)
{
	struct mirror_report rep = MIRROR_REPORT_INIT;
	struct strbuf dedup = STRBUF_INIT;
	char *fail = xstrfmt("{\"path\":\"^/v2/enqueue$\",\"status\":%d,\"times\":3,"
			     "\"headers\":{\"Retry-After\":\"0\"},\"body\":{\"status\":\"throttled\","
			     "\"message\":\"Requests for this service are arriving too quickly\"}}", status);
	int before = fake_log_mark(&pd), events;
	cJSON *a;

	pagerduty_dedup_key(&dedup, id);
	a = alert_of(dedup.buf);
	events = a ? (int)jnum(a, "events") : 0;
	cJSON_Delete(a);
	queue(id, "trigger", NULL);
	queue(id, "acknowledge", NULL);
	fake_fail(&pd, fail);
	is_int(flush(&rep), 0, "HTTP %d: the run is no error", status);
	is_int(rep.delivered, 0, "HTTP %d: nothing delivered", status);
	is_int(rep.pending, 2, "HTTP %d: both events stay queued, in order", status);
	is_int(fake_count(&pd, before, "POST", NULL), 2, "after the HTTP layer's retry");
	like(rep.messages.buf, "kept queued", "the message says it is kept queued");
	like(rep.messages.buf, status == 429 ? "HTTP 429" : "HTTP 5", "and why");
	is_int(pending_pd(), 2, "the store still holds both");

	before = fake_log_mark(&pd);
	is_int(flush(&rep), 0, "a later flush");
	is_int(rep.delivered, 2, "delivers both once PagerDuty answers");
	is_int(rep.pending + rep.failed, 0, "and leaves nothing");
	is_int(fake_count(&pd, before, "POST", NULL), 3, "one refused attempt, then one POST each");
	a = alert_of(dedup.buf);
	is_int(jnum(a, "events"), events + 2, "PagerDuty took each event once: no duplicate");
	is_str(jstr(a, "status"), "acked", "in order: trigger, then acknowledge");
	cJSON_Delete(a);
	queue(id, "resolve", NULL);
	flush(&rep);
	mirror_report_release(&rep);
	strbuf_release(&dedup);
	free(fail);
}

static void test_key_sources(long long id)
{
	struct mirror_report rep = MIRROR_REPORT_INIT;
	struct outbox_item it;
	struct pagerduty_details level = { .routing_key = "escalation.night.level2-routing-key" };
	char *text, *marker = tmp_path("key-command-ran");
	cJSON *body;
	int before, r;

	/* Nothing queued: no command runs. */
	unsetenv("PAGERDUTY_ROUTING_KEY");
	text = xstrfmt(BASE_CONFIG "[pagerduty]\n\turl = %s\n\trouting-key-command = touch %s\n",
		       pd.url, marker);
	set_config(text);
	free(text);
	is_int(flush(&rep), 0, "a flush with nothing queued succeeds");
	ok(access(marker, F_OK) < 0, "without resolving the routing key");

	text = xstrfmt(BASE_CONFIG "[pagerduty]\n\turl = %s\n\trouting-key-command = printf %s\n"
		       "[escalation \"night\"]\n\tlevel2-routing-key-command = printf %s\n",
		       pd.url, KEY2, KEY3);
	set_config(text);
	free(text);
	before = fake_log_mark(&pd);
	queue(id, "trigger", NULL);
	queue(id, "trigger", &level);
	setenv("SRE_TRACE", "1", 1);
	is_int(flush(&rep), 0, "the routing keys from -command");
	unsetenv("SRE_TRACE");
	is_int(rep.delivered, 2, "deliver");
	body = fake_first(&pd, before, "POST", NULL);
	{
		cJSON *b = fake_body(body);
		is_str(jstr(b, "routing_key"), KEY2, "pagerduty.routing-key-command's key");
		cJSON_Delete(b);
	}
	cJSON_Delete(body);
	body = fake_last_body(&pd, before, "POST", NULL);
	is_str(jstr(body, "routing_key"), KEY3, "a policy level's key from its own -command");
	cJSON_Delete(body);
	queue(id, "resolve", &level);
	queue(id, "resolve", NULL);
	flush(&rep);

	level.routing_key = "github.token";
	capture_start();
	is_int(queue(id, "trigger", &level), -1, "a key name that is no routing key's is refused");
	like(capture_end(), "'github.token' is not a routing key's config key", "saying so");

	/* No key at all: the flush says how to give one, and keeps the event. */
	set_config(BASE_CONFIG);
	queue(id, "trigger", NULL);
	capture_start();
	r = pagerduty_flush(st, &cfg, &rep);
	strbuf_addstr(&seen, capture_end());
	is_int(r, -1, "without a routing key the flush fails");
	like(captured.buf, "error: pagerduty: no routing key for pagerduty.routing-key: set "
	     "PAGERDUTY_ROUTING_KEY or pagerduty.routing-key-command", "saying how to configure it");
	is_int(rep.pending, 1, "the event counts as pending");
	if (last_pd(&it)) {
		is_int(it.status, OUTBOX_PENDING, "it stays queued");
		is_int(it.attempts, 0, "nothing was attempted");
	}
	outbox_item_clear(&it);

	/* A key of the wrong length is said, without the key. */
	setenv("PAGERDUTY_ROUTING_KEY", "SHORTKEY" CANARY, 1);
	base_config();
	capture_start();
	r = pagerduty_flush(st, &cfg, &rep);
	strbuf_addstr(&seen, capture_end());
	is_int(r, -1, "a routing key of the wrong length fails the flush");
	like(captured.buf, "is 22 characters, not the 32 of an integration key", "saying so");
	unlike(captured.buf, CANARY, "without the key");

	/* http:// to another machine would send the key in clear. */
	setenv("PAGERDUTY_ROUTING_KEY", KEY, 1);
	set_config(BASE_CONFIG "[pagerduty]\n\turl = http://pagerduty.example.com\n");
	before = fake_log_mark(&pd);
	capture_start();
	r = pagerduty_flush(st, &cfg, &rep);
	strbuf_addstr(&seen, capture_end());
	is_int(r, -1, "an http:// pagerduty.url to another machine is refused");
	like(captured.buf, "pagerduty.url must be https://", "saying so");
	base_config();
	is_int(flush(&rep), 0, "with the URL right");
	is_int(rep.delivered, 1, "the event kept is delivered");
	queue(id, "resolve", NULL);
	flush(&rep);
	mirror_report_release(&rep);
	free(marker);
}

/* Does the file at path hold needle anywhere in its bytes? */
static int file_holds(const char *path, const char *needle)
{
	struct strbuf sb = STRBUF_INIT;
	int r = strbuf_read_file(&sb, path, 0) >= 0 &&
		memmem(sb.buf, sb.len, needle, strlen(needle)) != NULL;

	strbuf_release(&sb);
	return r;
}

static void test_secret_kept(void)
{
	static const char *const keys[] = { KEY, KEY2, KEY3 };
	struct outbox_item *items;
	size_t nr, rows = 0, leaks = 0;
	char *wal = xstrfmt("%s-wal", db_path);

	like(seen.buf, "HTTP 400", "the messages checked below are there");
	like(seen.buf, "http: POST", "with a trace");
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
		unlike(seen.buf, keys[k], "routing key %zu appears in no message, error or trace", k + 1);
	unlike(seen.buf, CANARY, "nor does the canary");
	if (!store_outbox_list(st, 0, &items, &nr)) {
		for (size_t i = 0; i < nr; i++) {
			rows++;
			for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
				leaks += strstr(items[i].payload, keys[k]) != NULL;
				leaks += items[i].last_error && strstr(items[i].last_error, keys[k]);
			}
		}
		outbox_list_free(items, nr);
	}
	ok(rows >= 10, "the outbox has rows (%zu)", rows);
	is_int(leaks, 0, "none holds a routing key");
	store_free(st);
	st = NULL;
	ok(file_holds(db_path, "Disk full on db-1"), "the store's bytes hold the incident");
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
		ok(!file_holds(db_path, keys[k]) && !file_holds(wal, keys[k]),
		   "but not routing key %zu", k + 1);
	free(wal);
}

/* ---- webhook v3 ---- */

static int read_hook(const char *body, struct pagerduty_webhook_event *e, struct strbuf *why)
{
	return pagerduty_webhook_read(body, strlen(body), e, why);
}

static void test_webhooks_ours(long long id)
{
	static const char *const types[] = {
		"incident.acknowledged", "incident.resolved", "incident.escalated", "incident.triggered",
	};
	struct strbuf dedup = STRBUF_INIT, why = STRBUF_INIT;
	struct mirror_report rep = MIRROR_REPORT_INIT;

	pagerduty_dedup_key(&dedup, id);
	queue(id, "trigger", NULL);
	flush(&rep);
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		struct pagerduty_webhook_event e;
		char *req = xstrfmt("{\"dedup_key\":\"%s\",\"event_type\":\"%s\",\"by\":\"Alice Ops\"}",
				    dedup.buf, types[i]);
		cJSON *hook = NULL;
		char *text;
		long long got = 0;

		fake_call(&pd, "POST", "/_fake/webhook", req, &hook);
		text = cJSON_PrintUnformatted(hook);
		if (!ok(text && !read_hook(text, &e, &why), "%s: read", types[i])) {
			diag_text("why", why.buf);
		} else {
			is_str(e.type, types[i], "%s: its type", types[i]);
			is_str(e.dedup_key, dedup.buf, "%s: the dedup_key sre sent", types[i]);
			is_str(e.by, "Alice Ops", "%s: who", types[i]);
			is_str(e.at, "2026-12-07T12:00:00.000Z", "%s: when", types[i]);
			ok(e.pd_id && starts_with(e.pd_id, "PFAKE"), "%s: PagerDuty's incident id", types[i]);
			ok(!pagerduty_dedup_key_id(e.dedup_key, &got) && got == id,
			   "%s: the dedup_key names incident %lld", types[i], id);
			pagerduty_webhook_event_release(&e);
		}
		cJSON_free(text);
		cJSON_Delete(hook);
		free(req);
	}
	mirror_report_release(&rep);
	strbuf_release(&dedup);
	strbuf_release(&why);
}

static void test_webhooks_shapes(void)
{
	struct pagerduty_webhook_event e;
	struct strbuf why = STRBUF_INIT;

	/* As PagerDuty's recorded acknowledgements come: no incident_key. */
	if (ok(!read_hook("{\"event\":{\"id\":\"01X\",\"event_type\":\"incident.acknowledged\","
			  "\"resource_type\":\"incident\",\"occurred_at\":\"2021-06-04T13:55:30.394Z\","
			  "\"agent\":{\"id\":\"PJ0\",\"summary\":\"PIG 208\",\"type\":\"user_reference\"},"
			  "\"client\":null,\"data\":{\"id\":\"PQ1K5C8\",\"type\":\"incident\","
			  "\"status\":\"acknowledged\"}}}", &e, &why), "an event without incident_key is read")) {
		ok(!e.dedup_key, "its dedup_key is NULL");
		is_str(e.pd_id, "PQ1K5C8", "its PagerDuty id is there");
		is_str(e.by, "PIG 208", "who, from agent.summary");
		pagerduty_webhook_event_release(&e);
	}
	if (ok(!read_hook("{\"event\":{\"event_type\":\"incident.escalated\",\"agent\":null,"
			  "\"data\":{\"id\":\"Q3\",\"incident_key\":null}}}", &e, &why),
	       "a system's event (agent null, incident_key null) is read")) {
		ok(!e.by && !e.dedup_key && !e.at, "with who, key and time NULL");
		pagerduty_webhook_event_release(&e);
	}
	if (ok(!read_hook("{\"event\":{\"event_type\":\"incident.acknowledged\",\"agent\":"
			  "{\"email\":\"bob@example.com\"},\"data\":{\"id\":\"Q4\"}}}", &e, &why),
	       "an agent with an email only")) {
		is_str(e.by, "bob@example.com", "who, from agent.email");
		pagerduty_webhook_event_release(&e);
	}
	if (ok(!read_hook("{\"event\":{\"event_type\":\"incident.acknowledged\",\"agent\":"
			  "{\"summary\":\"Eve\\u001b[2J\\nroot\"},\"data\":{}}}", &e, &why),
	       "an agent name with control characters")) {
		is_str(e.by, "Eve [2J root", "is read with them blanked");
		pagerduty_webhook_event_release(&e);
	}
	strbuf_release(&why);
}

static void test_webhooks_hostile(void)
{
	static const struct { const char *body, *why; } bad[] = {
		{ "", "empty" },
		{ "not json", "not JSON" },
		{ "[1,2]", "not a JSON object" },
		{ "{\"messages\":[{\"event\":\"incident.acknowledge\"}]}", "not v3" },
		{ "{}", "has no event" },
		{ "{\"event\":\"incident.acknowledged\"}", "event is not an object" },
		{ "{\"event\":{\"event_type\":7,\"data\":{}}}", "event_type is not a string" },
		{ "{\"event\":{\"data\":{}}}", "event_type is missing" },
		{ "{\"event\":{\"event_type\":\"INCIDENT ACK\",\"data\":{}}}", "not a PagerDuty event type" },
		{ "{\"event\":{\"event_type\":\"service.updated\",\"resource_type\":\"service\",\"data\":{}}}",
		  "not about an incident" },
		{ "{\"event\":{\"event_type\":\"incident.acknowledged\"}}", "has no data" },
		{ "{\"event\":{\"event_type\":\"incident.acknowledged\",\"data\":[]}}", "data is not an object" },
		{ "{\"event\":{\"event_type\":\"incident.acknowledged\",\"data\":{\"incident_key\":42}}}",
		  "incident_key is not a string" },
		{ "{\"event\":{\"event_type\":\"incident.acknowledged\",\"data\":{\"incident_key\":\"a\\nb\"}}}",
		  "control character" },
		{ "{\"event\":{\"event_type\":\"incident.acknowledged\",\"agent\":\"bob\",\"data\":{}}}",
		  "agent is not an object" },
		{ "{\"event\":{\"event_type\":\"incident.acknowledged\",\"agent\":{\"summary\":[]},\"data\":{}}}",
		  "summary is not a string" },
		{ "{\"event\":{\"event_type\":\"incident.acknowledged\",\"occurred_at\":1,\"data\":{}}}",
		  "occurred_at is not a string" },
	};
	struct pagerduty_webhook_event e;
	struct strbuf why = STRBUF_INIT, big = STRBUF_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = read_hook(bad[i].body, &e, &why);

		is_int(r, -1, "refused: %.60s", bad[i].body);
		like(why.buf, bad[i].why, "  because %s", bad[i].why);
		ok(!e.type && !e.dedup_key && !e.by && !e.at && !e.pd_id, "  and nothing is left in it");
	}
	/* Huge strings: an incident_key past 255, a name past its cap, a body past 1 MiB. */
	strbuf_addstr(&big, "{\"event\":{\"event_type\":\"incident.acknowledged\",\"data\":{\"incident_key\":\"");
	strbuf_addchars(&big, 'k', 300);
	strbuf_addstr(&big, "\"}}}");
	is_int(read_hook(big.buf, &e, &why), -1, "an incident_key of 300 bytes is refused");
	like(why.buf, "incident_key is 300 bytes long, over 255", "saying so");
	strbuf_reset(&big);
	strbuf_addstr(&big, "{\"event\":{\"event_type\":\"incident.acknowledged\",\"agent\":{\"summary\":\"");
	strbuf_addchars(&big, 'n', 100000);
	strbuf_addstr(&big, "\"},\"data\":{}}}");
	is_int(read_hook(big.buf, &e, &why), -1, "a name of 100 kB is refused");
	strbuf_reset(&big);
	strbuf_addstr(&big, "{\"event\":{\"event_type\":\"incident.acknowledged\",\"data\":{\"title\":\"");
	strbuf_addchars(&big, 't', 2 << 20);
	strbuf_addstr(&big, "\"}}}");
	is_int(read_hook(big.buf, &e, &why), -1, "a body of 2 MiB is refused");
	like(why.buf, "over the", "saying it is too big");
	strbuf_reset(&big);
	strbuf_addstr(&big, "{\"event\":");
	strbuf_addchars(&big, '[', 100000);
	is_int(read_hook(big.buf, &e, &why), -1, "100000 nested arrays: refused, no crash");
	is_int(pagerduty_webhook_read("{\"event\":{}}", 5, &e, &why), -1,
	       "a length cut inside the JSON is read as cut");
	strbuf_release(&big);
	strbuf_release(&why);
}

/* test-pagerduty --webhook FILE: what pagerduty_webhook_read() finds in FILE. */
static int read_webhook_file(const char *path)
{
	struct strbuf body = STRBUF_INIT, why = STRBUF_INIT;
	struct pagerduty_webhook_event e;
	int ret = 1;

	if (strbuf_read_file(&body, path, 4 << 20) < 0) {
		fprintf(stderr, "error: cannot read %s\n", path);
	} else if (pagerduty_webhook_read(body.buf, body.len, &e, &why) < 0) {
		printf("error: %s\n", why.buf);
	} else {
		printf("type=%s\ndedup_key=%s\nby=%s\nat=%s\npd_id=%s\n", e.type,
		       e.dedup_key ? e.dedup_key : "(none)", e.by ? e.by : "(none)",
		       e.at ? e.at : "(none)", e.pd_id ? e.pd_id : "(none)");
		pagerduty_webhook_event_release(&e);
		ret = 0;
	}
	strbuf_release(&body);
	strbuf_release(&why);
	return ret;
}

int main(int argc, char **argv)
{
	long long id, id2, id3;

	if (argc == 3 && !strcmp(argv[1], "--webhook"))
		return read_webhook_file(argv[2]);
	if (!fake_begin())
		return 0;
	if (test_begin("pagerduty") < 0)
		return 1;
	if (fake_start(&pd, "pagerduty", "pagerduty", NULL) < 0) {
		printf("Bail out! the fake PagerDuty did not start\n");
		test_end();
		return 1;
	}
	setenv("PAGERDUTY_ROUTING_KEY", KEY, 1);
	base_config();
	db_path = tmp_path("sre.db");
	if (store_open(&st, db_path, 30000) < 0) {
		printf("Bail out! cannot open the store\n");
		fake_stop(&pd);
		test_end();
		return 1;
	}
	id = open_incident("checkout", "Disk full on db-1", SEVERITY_CRITICAL);
	id2 = open_incident("payments", "Payments 5xx", SEVERITY_HIGH);
	id3 = open_incident("search", "Search slow", SEVERITY_LOW);

	test_dedup_key();
	test_configured();
	test_severities(id);
	test_trigger(id);
	test_ack_resolve(id);
	test_refused(id2);
	test_storm(id2, 429);
	test_storm(id3, 503);
	test_key_sources(id3);
	test_webhooks_ours(id);
	test_webhooks_shapes();
	test_webhooks_hostile();
	test_secret_kept();

	fake_stop(&pd);
	config_clear(&cfg);
	strbuf_release(&seen);
	free(db_path);
	return test_end();
}
