/*
 * test-doctor.c: unit tests of sre doctor's engine (lib/doctor.c) and its
 * printer (lib/format.c), without a server: what is not configured, a
 * check whose URL refuses, a check without anything to ask, the store,
 * the deadline, and that the report's text and JSON say the same.
 * The sources against their fakes are tests/t3950-doctor.sh.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cJSON.h>

#include "../../lib/config.h"
#include "../../lib/doctor.h"
#include "../../lib/format.h"
#include "../../lib/http.h"
#include "../../lib/store.h"
#include "test-lib.h"

static const struct doctor_row *row(const struct doctor_report *r, const char *name)
{
	for (size_t i = 0; i < r->nr; i++)
		if (!strcmp(r->rows[i].name, name))
			return &r->rows[i];
	return NULL;
}

static char *printed(const struct doctor_report *r, int json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	doctor_report_print(fp, r, json, 0);
	fclose(fp);
	return buf;
}

/* A port on 127.0.0.1 that nothing listens on (bound, then closed). */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t n = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &n))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void test_nothing_configured(void)
{
	struct config cfg = CONFIG_INIT;
	struct doctor_report r = DOCTOR_REPORT_INIT;
	const char *names[] = { "tracker", "slack", "prometheus", "alertmanager", "jaeger",
				"kubernetes", "docker", "core.repo", "checks" };
	int all = 1;
	char *text;

	is_int(doctor_run(&r, &cfg, NULL, "/nowhere/sre.db", 0), 0, "nothing configured: run");
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const struct doctor_row *w = row(&r, names[i]);
		all &= w && w->status == DOCTOR_NOT_CONFIGURED && w->config && *w->config &&
		       w->latency_ms == -1;
	}
	ok(all, "nothing configured: every source says so, with its lines");
	ok(row(&r, "store") && row(&r, "store")->status == DOCTOR_OK, "a store not made yet is ok");
	like(row(&r, "store")->detail, "/nowhere/sre.db: not created yet", "and says where it will be");
	is_int((int)doctor_broken(&r), 0, "nothing broken");
	is_str(row(&r, "jaeger")->config, "[jaeger]\n\turl = http://localhost:16686", "jaeger's lines");
	text = printed(&r, 0);
	like(text, "\n  [jaeger]\n  \turl = http://localhost:16686\n", "the text shows the lines");
	like(text, "SOURCE", "under a heading");
	free(text);
	doctor_report_release(&r);
	config_clear(&cfg);
}

static void test_checks(void)
{
	struct config cfg = CONFIG_INIT;
	struct doctor_report r = DOCTOR_REPORT_INIT;
	char *url = xstrfmt("check.web.url=http://127.0.0.1:%d/health", closed_port());
	const struct doctor_row *w;
	char *text;
	cJSON *j;

	if (config_add_override(&cfg, url) < 0 ||
	    config_add_override(&cfg, "check.odd.severity=high") < 0 ||
	    config_add_override(&cfg, "check.errors.prometheus=up") < 0) {
		ok(0, "the configuration");
		free(url);
		return;
	}
	is_int(doctor_run(&r, &cfg, NULL, NULL, 2000), 0, "checks: run");
	w = row(&r, "check web");
	ok(w && w->status == DOCTOR_BROKEN, "a check whose URL refuses is broken");
	like(w->detail, "connect", "and says the connection failed");
	ok(w->latency_ms >= 0, "with the time it took");
	w = row(&r, "check odd");
	ok(w && w->status == DOCTOR_BROKEN, "a check with nothing to ask is broken");
	like(w->detail, "no url, metrics or prometheus key", "and says why");
	w = row(&r, "check errors");
	ok(w && w->status == DOCTOR_BROKEN, "a Prometheus check without prometheus.url is broken");
	like(w->detail, "prometheus.url is not set", "and says why");
	is_int((int)doctor_broken(&r), 3, "three broken");
	is_int((int)r.timeout_ms, 2000, "under the deadline given");
	text = printed(&r, 1);
	j = cJSON_Parse(text);
	ok(j != NULL, "the JSON parses");
	is_int((int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "broken")), 3, "the JSON counts them");
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(j, "sources")), (int)r.nr, "a row each");
	cJSON_Delete(j);
	free(text);
	doctor_report_release(&r);
	config_clear(&cfg);
	free(url);
}

static void test_store(struct store *st)
{
	struct config cfg = CONFIG_INIT;
	struct doctor_report r = DOCTOR_REPORT_INIT;
	struct incident_new in = { .service = "web", .title = "web is down", .fingerprint = "t/web/down",
				   .source = "manual", .severity = SEVERITY_HIGH, .actor = "test" };
	long long id;
	int created;

	is_int(store_incident_open(st, &in, &id, &created), 0, "an incident in the store");
	is_int(doctor_run(&r, &cfg, st, NULL, 0), 0, "a store: run");
	ok(row(&r, "store")->status == DOCTOR_OK, "the store is ok");
	like(row(&r, "store")->detail, "1 open incident, 0 writes queued", "and says what it holds");
	doctor_report_release(&r);
	config_clear(&cfg);
}

int main(void)
{
	struct store *st = NULL;
	char *db;

	if (test_begin("doctor") < 0)
		return 1;
	test_nothing_configured();
	test_checks();
	db = tmp_path("sre.db");
	if (store_open(&st, db, 5000) < 0)
		ok(0, "the store");
	else
		test_store(st);
	store_free(st);
	free(db);
	return test_end();
}
