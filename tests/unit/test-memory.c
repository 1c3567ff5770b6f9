/*
 * test-memory.c: unit tests of lib/memory.c on a real SQLite store:
 * ranking (the right past incident first for a new one worded
 * differently, by text and by log templates), what a timeline says was
 * done and whether it held, known errors matched by templates, chronic
 * templates across fingerprints, and records from other hosts, which are
 * checked field by field and trusted no further.
 */
#include <cJSON.h>

#include "../../lib/memory.h"
#include "../../lib/store.h"
#include "test-lib.h"

static struct store *st;
static int day;

/* Each incident a day after the last (SRE_NOW), so no fix looks undone by the next. */
static void next_day(void)
{
	char now[32];

	snprintf(now, sizeof(now), "2026-11-%02dT10:00:00Z", ++day);
	setenv("SRE_NOW", now, 1);
}

/* Open an incident, give it a diagnosis (with log templates), and resolve it. */
static long long past(const char *service, const char *title, const char *fingerprint,
		      const char *category, const char *root_cause, const char *templates_json,
		      const char *action, int verified)
{
	struct incident_new in = { .service = service, .title = title,
				   .fingerprint = fingerprint, .severity = SEVERITY_HIGH,
				   .actor = "test" };
	struct diagnosis_row d = { .category = category, .root_cause = root_cause,
				   .confidence = 0.8, .action = action ? action : "none" };
	long long id;
	int created;
	char *body;

	next_day();
	if (store_incident_open(st, &in, &id, &created) < 0)
		return -1;
	body = xstrfmt("{\"category\":\"%s\",\"log_templates\":%s}", category,
		       templates_json ? templates_json : "[]");
	d.json = body;
	if (store_diagnosis_add(st, id, &d, "test") < 0)
		id = -1;
	free(body);
	if (id < 0)
		return -1;
	if (action) {
		char *ev = xstrfmt("{\"action\":\"%s\",\"target\":\"%s\"}", action, service);
		store_event_append(st, id, "action-started", "test", ev);
		free(ev);
		store_event_append(st, id, "action-finished", "test",
				   verified ? "{\"result\":\"done\"}" : "{\"result\":\"failed\"}");
	}
	if (store_incident_transition(st, id, -1, STATE_INCIDENT_RESOLVED, "test",
				      verified ? "verified: the check passes" : "resolved by hand", NULL))
		return -1;
	return id;
}

static long long open_new(const char *service, const char *title, const char *fingerprint,
			  const char *templates_json)
{
	struct incident_new in = { .service = service, .title = title,
				   .fingerprint = fingerprint, .severity = SEVERITY_HIGH,
				   .actor = "test" };
	struct diagnosis_row d = { .category = "unknown", .root_cause = "not known yet",
				   .confidence = 0.1, .action = "escalate" };
	long long id;
	int created;
	char *body;

	next_day();
	if (store_incident_open(st, &in, &id, &created) < 0)
		return -1;
	body = xstrfmt("{\"log_templates\":%s}", templates_json ? templates_json : "[]");
	d.json = body;
	store_diagnosis_add(st, id, &d, "test");
	free(body);
	return id;
}

#define TMPL(t) "{\"template\":\"" t "\",\"count\":3,\"new\":false}"

static long long tls, disk, oom, pool, pool_fail;

static void setup(void)
{
	char *path = xstrfmt("%s/sre.db", tmpdir);
	size_t n;

	ok(store_open(&st, path, 30000) == 0, "the store opens");
	free(path);
	tls = past("gateway", "gateway TLS certificate expired, clients refused", "probe/gateway/tls",
		   "config", "the certificate of gateway expired on Sunday", NULL, NULL, 0);
	disk = past("orders-db", "orders database disk full", "probe/orders-db/disk", "resource",
		    "the volume of orders-db is full", NULL, NULL, 0);
	oom = past("checkout", "checkout pods OOMKilled after the deploy", "kubernetes/checkout/oom",
		   "oom", "checkout exceeded its memory limit", NULL, "increase-memory", 1);
	pool = past("payments", "payments slow", "jaeger/payments/p99", "latency",
		    "payments waits on its database",
		    "[" TMPL("HikariPool-<*> - Connection is not available, request timed out after <NUM>ms.")
		    "," TMPL("GET /api/pay <NUM> <NUM>ms") "]", "restart", 1);
	pool_fail = past("payments", "payments slow again", "jaeger/payments/p99", "latency",
			 "payments waits on its database",
			 "[" TMPL("HikariPool-<*> - Connection is not available, request timed out after <NUM>ms.") "]",
			 "restart", 0);
	ok(tls > 0 && disk > 0 && oom > 0 && pool > 0 && pool_fail > 0, "past incidents are made");
	n = 0;
	capture_start();
	is_int(memory_index(st, NULL, 0, &n), 0, "the index is built");
	is_str(capture_end(), "", "with nothing to say");
	is_int((long long)n, 5, "five incidents are indexed");
	ok(memory_index(st, NULL, 0, &n) == 0 && n == 0, "indexing again changes nothing");
}

static void test_search(void)
{
	struct memory_recall r = { .max = 10 };
	struct memory_hit *h;
	size_t nr;

	ok(memory_search(st, "Certificates expiring at the gateway", &r, &h, &nr) == 0 && nr >= 1,
	   "search finds text worded differently");
	ok(nr && h[0].id == tls, "the certificate incident comes first");
	ok(nr && h[0].why && strstr(h[0].why, "text: title"), "why names the title (%s)",
	   nr ? h[0].why : "");
	ok(nr && h[0].snippet && strstr(h[0].snippet, "[certificate]"), "the snippet marks the match");
	memory_hits_free(h, nr);

	ok(memory_search(st, "connection is not available", &r, &h, &nr) == 0 && nr >= 1,
	   "search reads the log templates");
	ok(nr && h[0].why && strstr(h[0].why, "template: HikariPool"), "why names the template (%s)",
	   nr ? h[0].why : "");
	memory_hits_free(h, nr);

	capture_start();
	is_int(memory_search(st, "<*> ... of the", &r, &h, &nr), 2, "no words: 2");
	ok(strstr(capture_end(), "nothing to search for"), "and it says so");
	ok(memory_search(st, "NEAR(gateway tls) OR title:* \"", &r, &h, &nr) == 0,
	   "FTS5 syntax in the text is only words");
	memory_hits_free(h, nr);
}

static void test_similar(void)
{
	struct memory_recall r = { .max = 5 };
	struct memory_hit *h;
	size_t nr;
	long long id;

	/* The same log templates, another fingerprint and other words. */
	id = open_new("payments", "checkout calls to payments fail", "probe/payments/http",
		      "[" TMPL("HikariPool-<*> - Connection is not available, request timed out after <NUM>ms.") "]");
	ok(memory_similar(st, NULL, id, &r, &h, &nr) == 0 && nr >= 2, "similar finds the pool incidents");
	ok(nr && (h[0].id == pool || h[0].id == pool_fail), "a pool incident comes first");
	ok(nr && strstr(h[0].why, "log template") != NULL, "because of the template (%s)",
	   nr ? h[0].why : "");
	for (size_t i = 0; i < nr; i++)
		ok(h[i].id != id, "never itself");
	memory_hits_free(h, nr);
	store_incident_transition(st, id, -1, STATE_INCIDENT_RESOLVED, "test", "done", NULL);

	/* The same fingerprint as an OOM, worded another way. */
	id = open_new("checkout", "memory of checkout at its limit", "kubernetes/checkout/oom", NULL);
	ok(memory_similar(st, NULL, id, &r, &h, &nr) == 0 && nr >= 1 && h[0].id == oom,
	   "the same fingerprint comes first");
	ok(nr && h[0].same_fingerprint && h[0].worked == 1 && !strcmp(h[0].action, "increase-memory"),
	   "with the action that worked");
	memory_hits_free(h, nr);
	store_incident_transition(st, id, -1, STATE_INCIDENT_RESOLVED, "test", "done", NULL);

	/* One common word with another incident is no likeness. */
	id = open_new("ledger", "ledger slow to answer", "probe/ledger/latency", NULL);
	ok(memory_similar(st, NULL, id, &r, &h, &nr) == 0, "similar of an incident like no other");
	is_int((long long)nr, 0, "a shared common word alone is not similar (%s)", nr ? h[0].title : "");
	memory_hits_free(h, nr);
	store_incident_transition(st, id, -1, STATE_INCIDENT_RESOLVED, "test", "done", NULL);

	is_int(memory_similar(st, NULL, 99999, &r, &h, &nr), 1, "no such incident: 1");
}

static void test_outcomes(void)
{
	struct memory_recall r = { .max = 5 };
	struct memory_hit *h;
	size_t nr;
	long long id = open_new("payments", "payments slow once more", "jaeger/payments/p99", NULL);
	int seen_ok = 0, seen_failed = 0;

	ok(memory_similar(st, NULL, id, &r, &h, &nr) == 0, "similar of a third pool incident");
	for (size_t i = 0; i < nr; i++) {
		if (h[i].id == pool)
			seen_ok = h[i].worked == 1;
		if (h[i].id == pool_fail)
			seen_failed = h[i].worked == 0;
	}
	ok(seen_ok, "a verified restart is remembered as one that worked");
	ok(seen_failed, "a failed restart is remembered as one that failed");
	memory_hits_free(h, nr);
	store_incident_transition(st, id, -1, STATE_INCIDENT_RESOLVED, "test", "done", NULL);
}

static void test_known(void)
{
	struct known_error k;
	long long id;

	capture_start();
	is_int(memory_known_add(st, NULL, pool_fail, NULL, "dana"), 2, "a failed fix is no known error");
	ok(strstr(capture_end(), "did not work"), "and it says why");
	capture_start();
	is_int(memory_known_add(st, NULL, tls, NULL, "dana"), 2, "nor an incident with no action");
	capture_end();
	is_int(memory_known_add(st, NULL, pool, "raise the pool size", "dana"), 0, "a verified fix is");

	id = open_new("payments", "payments slow, pool", "jaeger/payments/p99",
		      "[" TMPL("GET /api/pay <NUM> <NUM>ms") "," TMPL("something else <*>") "]");
	ok(memory_known_match(st, NULL, id, &k) == 0, "half the templates match");
	is_str(k.runbook, "raise the pool size", "with its runbook");
	known_error_release(&k);
	store_incident_transition(st, id, -1, STATE_INCIDENT_RESOLVED, "test", "done", NULL);

	id = open_new("payments", "payments slow, other logs", "jaeger/payments/p99",
		      "[" TMPL("a <*>") "," TMPL("b <*>") "," TMPL("c <*>") "]");
	is_int(memory_known_match(st, NULL, id, &k), 1, "other templates: no match");
	store_incident_transition(st, id, -1, STATE_INCIDENT_RESOLVED, "test", "done", NULL);
}

static void test_chronic(void)
{
	struct chronic *c;
	size_t nr, i;
	int fp = 0, tmpl = 0;

	ok(memory_chronic(st, NULL, &c, &nr) == 0, "chronic reads");
	for (i = 0; i < nr; i++) {
		if (!strcmp(c[i].kind, "fingerprint") && !strcmp(c[i].key, "jaeger/payments/p99"))
			fp = (int)c[i].occurrences;
		if (!strcmp(c[i].kind, "template") && strstr(c[i].key, "HikariPool"))
			tmpl = (int)c[i].occurrences;
	}
	ok(fp >= 3, "the pool fingerprint is chronic (%d)", fp);
	ok(tmpl >= 3, "its template is chronic across fingerprints (%d)", tmpl);
	chronic_free(c, nr);
}

static void test_records(void)
{
	cJSON *rec, *bad;
	struct memory_recall r = { .max = 10 };
	struct memory_hit *h;
	size_t nr;
	char *text, *mine = memory_origin(st);
	const char *p;
	int found = 0;

	ok(mine && strlen(mine) > 9, "the store has an origin (%s)", mine ? mine : "");
	for (p = mine; p && *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			break;
	ok(p && !*p, "made of [a-z0-9-]");
	store_event_append(st, pool, "comment", "dana", "{\"text\":\"the db password=s3cr3tpassw0rd leaked\"}");
	ok(memory_record(st, pool, &rec) == 0, "a record of a resolved incident");
	text = cJSON_PrintUnformatted(rec);
	ok(text && !strstr(text, "s3cr3tpassw0rd"), "with no secret in it");
	ok(text && strstr(text, "\"worked\":true") && strstr(text, "\"action\":\"restart\""),
	   "with the action and that it worked");
	cJSON_free(text);
	is_int(memory_record(st, 99999, &bad), 1, "no such incident: 1");

	capture_start();
	is_int(memory_import(st, mine, rec), -1, "a record claiming this store is refused");
	ok(strstr(capture_end(), "from this store"), "and it says so");
	capture_start();
	is_int(memory_import(st, "../etc", rec), -1, "an origin that is no name is refused");
	is_int(memory_import(st, "other-host-1", rec), -1, "a record whose origin is another is refused");
	capture_end();

	cJSON_ReplaceItemInObject(rec, "origin", cJSON_CreateString("other-host-1"));
	cJSON_ReplaceItemInObject(rec, "title", cJSON_CreateString("billing queue stuck on host two"));
	cJSON_ReplaceItemInObject(rec, "id", cJSON_CreateNumber(7));
	is_int(memory_import(st, "other-host-1", rec), 0, "a record from another host is indexed");
	is_int(memory_import(st, "other-host-1", rec), 1, "again: unchanged");
	ok(memory_search(st, "billing queue", &r, &h, &nr) == 0, "search reads it");
	for (size_t i = 0; i < nr; i++)
		found |= h[i].id == 7 && !strcmp(h[i].origin, "other-host-1");
	ok(found, "and names where it came from");
	memory_hits_free(h, nr);

	bad = cJSON_Duplicate(rec, 1);
	cJSON_ReplaceItemInObject(bad, "title", cJSON_CreateString("evil\033[2Jtitle"));
	capture_start();
	is_int(memory_import(st, "other-host-1", bad), -1, "a control character is refused");
	cJSON_ReplaceItemInObject(bad, "title", cJSON_CreateString("ok"));
	cJSON_ReplaceItemInObject(bad, "severity", cJSON_CreateString("apocalyptic"));
	is_int(memory_import(st, "other-host-1", bad), -1, "an unknown severity is refused");
	cJSON_ReplaceItemInObject(bad, "severity", cJSON_CreateString("high"));
	cJSON_ReplaceItemInObject(bad, "sre_record", cJSON_CreateNumber(99));
	is_int(memory_import(st, "other-host-1", bad), -1, "a newer record format is refused");
	cJSON_ReplaceItemInObject(bad, "sre_record", cJSON_CreateNumber(1));
	cJSON_ReplaceItemInObject(bad, "templates", cJSON_CreateString("not a list"));
	is_int(memory_import(st, "other-host-1", bad), -1, "templates that are no list are refused");
	cJSON_ReplaceItemInObject(bad, "templates", cJSON_CreateArray());
	cJSON_ReplaceItemInObject(bad, "opened_at", cJSON_CreateString("yesterday"));
	is_int(memory_import(st, "other-host-1", bad), -1, "a time that is no time is refused");
	capture_end();
	cJSON_Delete(bad);
	cJSON_Delete(rec);
	free(mine);
}

/*
 * An old incident whose words are common: ranking leaves its own row out
 * of the newest matches, and a match of one common word must still not
 * count as likeness.
 */
static void test_old_incident(void)
{
	struct memory_recall r = { .max = 5 };
	struct memory_hit *h;
	size_t nr;
	long long old;
	char title[64], svc[32];
	size_t n = 0;

	/* Its words: one in 150 older rows (not rare), one in 1,100 newer ones. */
	store_begin(st);
	for (int i = 0; i < 150; i++) {
		struct incident_new in = { .service = svc, .title = title, .severity = SEVERITY_LOW,
					   .actor = "test" };
		long long id;
		int created;
		snprintf(svc, sizeof(svc), "shop-%d", i);
		snprintf(title, sizeof(title), "maintenance window %d missed", i);
		store_incident_open(st, &in, &id, &created);
	}
	store_commit(st);
	{
		/* No diagnosis: a category would be a rare word of its own. */
		struct incident_new in = { .service = "vault", .title = "upgrade window",
					   .severity = SEVERITY_LOW, .actor = "test" };
		int created;
		store_incident_open(st, &in, &old, &created);
	}
	store_begin(st);
	for (int i = 0; i < 1100; i++) {
		struct incident_new in = { .service = svc, .title = title, .severity = SEVERITY_LOW,
					   .actor = "test" };
		long long id;
		int created;
		snprintf(svc, sizeof(svc), "batch-%d", i);
		snprintf(title, sizeof(title), "upgrade of batch-%d done late", i);
		store_incident_open(st, &in, &id, &created);
	}
	store_commit(st);
	ok(memory_index(st, NULL, 0, &n) == 0 && n >= 1250, "they are indexed");
	ok(memory_similar(st, NULL, old, &r, &h, &nr) == 0, "similar of an old incident");
	is_int((long long)nr, 0, "1,100 newer incidents sharing one common word are not like it (%s)",
	       nr ? h[0].title : "");
	memory_hits_free(h, nr);
}

int main(void)
{
	if (test_begin("memory") < 0)
		return 1;
	setup();
	test_search();
	test_similar();
	test_outcomes();
	test_known();
	test_chronic();
	test_records();
	test_old_incident();
	store_free(st);
	return test_end();
}
