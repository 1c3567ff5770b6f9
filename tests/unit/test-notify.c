/*
 * test-notify.c: unit tests of lib/notify.c against tests/fakes/slack.py,
 * a local server that answers like a Slack incoming webhook, printing TAP.
 *
 * The fake runs as a child process on 127.0.0.1 and logs every request it
 * receives; the tests check both what notify_flush() reports and what the
 * fake saw, and that the webhook URL (whose secret part is "XXXXSECRET")
 * never reaches a message, the outbox or the SQLite file.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../../lib/notify.h"
#include "../../lib/store.h"
#include "fake.h"

#define SECRET "XXXXSECRET"

static struct fake slack;
static char *webhook;       /* the fake's hook, with SECRET in its path */
static char *db_path;
static struct store *st;
static struct config cfg = CONFIG_INIT;
/* Every line notify_flush() reported and everything it printed. */
static struct strbuf seen = STRBUF_INIT;

static const char *jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The same, "" when missing, for checks that search in it. */
static const char *jstr0(const cJSON *o, const char *name)
{
	const char *s = jstr(o, name);
	return s ? s : "";
}

/* ---- the store and the config ---- */

static long long open_incident(const char *service, const char *title)
{
	struct incident_new in = {
		.service = service, .title = title, .severity = SEVERITY_CRITICAL, .actor = "alice",
	};
	long long id = -1;
	int created;

	if (store_incident_open(st, &in, &id, &created))
		printf("# store_incident_open(%s) failed\n", title);
	return id;
}

/* Queue event about incident id in a transaction, as cmd/ does. */
static int queue(long long id, const char *event)
{
	struct incident inc;
	int r = -1;

	if (store_incident_get(st, id, &inc))
		return -1;
	if (!store_begin(st)) {
		r = notify_queue(st, &inc, event);
		if (r)
			store_rollback(st);
		else
			r = store_commit(st);
	}
	incident_release(&inc);
	return r;
}

/* The last outbox entry (any status) for target "slack"; free with outbox_item_clear. */
static int last_slack(struct outbox_item *out)
{
	struct outbox_item *items;
	size_t nr;
	int found = 0;

	memset(out, 0, sizeof(*out));
	if (store_outbox_list(st, 0, &items, &nr) < 0)
		return 0;
	for (size_t i = nr; i-- > 0 && !found;) {
		if (strcmp(items[i].target, "slack"))
			continue;
		*out = items[i];
		memset(&items[i], 0, sizeof(items[i]));
		found = 1;
	}
	outbox_list_free(items, nr);
	return found;
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

static void set_config(const char *text)
{
	config_clear(&cfg);
	if (config_read_buffer(&cfg, text, strlen(text), "test", CONFIG_SCOPE_COMMAND) < 0)
		printf("# the test's config does not parse\n");
}

#define BASE_CONFIG "[http]\n\tretry-base = 10ms\n\tretries = 1\n"

/* Flush, keeping what it reported and printed in `seen`. */
static int flush(struct mirror_report *rep)
{
	int r;

	mirror_report_release(rep);
	*rep = (struct mirror_report)MIRROR_REPORT_INIT;
	capture_start();
	r = notify_flush(st, &cfg, rep);
	strbuf_addstr(&seen, capture_end());
	strbuf_addstr(&seen, rep->messages.buf);
	return r;
}

/* ---- the tests ---- */

static void test_text(void)
{
	struct incident inc = { 0 };
	char *t;

	inc.id = 42;
	inc.service = "checkout";
	inc.title = "Disk <full> & slow <!channel>";
	inc.severity = SEVERITY_HIGH;
	inc.state = STATE_ANALYSIS_COMPLETE;
	t = notify_text(&inc, "diagnosed");
	like(t, "Incident 42 diagnosed", "the text names the event and the incident id");
	like(t, "service checkout", "the text names the service");
	like(t, "severity high", "the text names the severity");
	like(t, "state ANALYSIS_COMPLETE", "the text names the state");
	like(t, "Disk &lt;full&gt; &amp; slow", "the title is there with &, < and > escaped");
	unlike(t, "<!channel>", "a title cannot mention @channel");
	unlike(t, "<http", "no link without a tracker");
	ok(!strchr(t, '\n'), "the text is one line");
	free(t);

	inc.title = "two\nlines";
	inc.remote_url = "https://jira.example.com/browse/OPS-7?a=1&b=2";
	inc.remote_key = "OPS-7";
	t = notify_text(&inc, "escalated");
	ok(!strchr(t, '\n'), "a newline in a title does not break the line");
	like(t, "<https://jira.example.com/browse/OPS-7?a=1&amp;b=2|OPS-7>",
	     "the tracker link is a mrkdwn link labelled with its key");
	free(t);
}

static void test_events(void)
{
	int announced = 0;

	is_str(notify_event(STATE_ANALYSIS_COMPLETE), "diagnosed", "ANALYSIS_COMPLETE is diagnosed");
	is_str(notify_event(STATE_DEPLOYMENT_COMPLETE), "fixed", "DEPLOYMENT_COMPLETE is fixed");
	is_str(notify_event(STATE_INCIDENT_REQUIRES_HUMAN), "escalated",
	       "INCIDENT_REQUIRES_HUMAN is escalated");
	is_str(notify_event(STATE_INCIDENT_RESOLVED), "resolved", "INCIDENT_RESOLVED is resolved");
	for (int s = 0; s < STATE__COUNT; s++)
		announced += notify_event((enum incident_state)s) != NULL;
	is_int(announced, 4, "the steps in between are not announced");
}

static void test_configured(void)
{
	char *marker = tmp_path("command-ran"), *text;

	unsetenv("SLACK_WEBHOOK_URL");
	set_config(BASE_CONFIG);
	ok(!notify_configured(&cfg), "not configured without the variable or the command");
	setenv("SLACK_WEBHOOK_URL", webhook, 1);
	ok(notify_configured(&cfg), "configured by SLACK_WEBHOOK_URL");
	unsetenv("SLACK_WEBHOOK_URL");
	text = xstrfmt(BASE_CONFIG "[slack]\n\twebhook-command = touch %s\n", marker);
	set_config(text);
	ok(notify_configured(&cfg), "configured by slack.webhook-command");
	ok(access(marker, F_OK) < 0, "notify_configured() does not run the command");
	free(text);
	free(marker);
	set_config(BASE_CONFIG);
	setenv("SLACK_WEBHOOK_URL", webhook, 1);
}

static void test_deliver_once(long long id)
{
	struct mirror_report rep = MIRROR_REPORT_INIT;
	struct outbox_item it;
	struct incident inc;
	cJSON *req, *body, *payload;
	const cJSON *blocks;
	char *want = NULL;
	int before = fake_log_mark(&slack);

	is_int(queue(id, "opened"), 0, "notify_queue() in a transaction");
	if (!ok(last_slack(&it), "an outbox entry for slack"))
		return;
	is_str(it.operation, "notify", "its operation is notify");
	is_int(it.status, OUTBOX_PENDING, "it is pending");
	ok(starts_with(it.key, "sre-") && strlen(it.key) == 36, "it has a fresh idempotency key");
	payload = cJSON_Parse(it.payload);
	if (!store_incident_get(st, id, &inc)) {
		want = notify_text(&inc, "opened");
		incident_release(&inc);
	}
	is_str(jstr(payload, "text"), want, "the payload holds the text");
	is_str(jstr(payload, "event"), "opened", "the payload holds the event");
	ok(cJSON_GetNumberValue(cJSON_GetObjectItem(payload, "incident")) == (double)id,
	   "the payload holds the incident id");
	cJSON_Delete(payload);

	is_int(flush(&rep), 0, "notify_flush() succeeds");
	is_int(rep.delivered, 1, "one notification delivered");
	is_int(rep.pending + rep.failed, 0, "nothing pending or failed");
	is_str(rep.messages.buf, "", "no problem reported");
	is_int(fake_count(&slack, before, NULL, NULL), 1, "Slack received one request");
	req = fake_first(&slack, before, NULL, NULL);
	is_str(jstr(req, "method"), "POST", "it is a POST");
	is_str(jstr(req, "path"), "/services/T000/B000/" SECRET, "to the webhook's path");
	ok(starts_with(jstr0(cJSON_GetObjectItem(req, "headers"), "content-type"),
		       "application/json"), "with Content-Type: application/json");
	body = fake_body(req);
	is_str(jstr(body, "text"), want, "the body is JSON with the text");
	blocks = cJSON_GetObjectItem(body, "blocks");
	is_int(cJSON_GetArraySize(blocks), 1, "one block without a tracker link");
	is_str(jstr(cJSON_GetArrayItem(blocks, 0), "type"), "section", "a section block");
	is_str(jstr(cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 0), "text"), "type"), "mrkdwn",
	       "with mrkdwn text");
	cJSON_Delete(body);
	cJSON_Delete(req);
	outbox_item_clear(&it);
	if (last_slack(&it))
		is_int(it.status, OUTBOX_DELIVERED, "the outbox entry is delivered");
	outbox_item_clear(&it);

	before = fake_log_mark(&slack);
	is_int(flush(&rep), 0, "a second flush succeeds");
	is_int(rep.delivered + rep.pending + rep.failed, 0, "and has nothing to do");
	is_int(fake_count(&slack, before, NULL, NULL), 0, "and sends nothing");
	mirror_report_release(&rep);
	free(want);
}

static void test_link(long long id)
{
	struct mirror_report rep = MIRROR_REPORT_INIT;
	int before = fake_log_mark(&slack);
	cJSON *req, *body;
	const cJSON *ctx;

	queue(id, "fixed");
	/* The ticket is created after the notification was queued. */
	store_incident_set_remote(st, id, "OPS-9", "https://jira.example.com/browse/OPS-9");
	flush(&rep);
	is_int(rep.delivered, 1, "a notification with a tracker link is delivered");
	req = fake_first(&slack, before, NULL, NULL);
	body = fake_body(req);
	ctx = cJSON_GetArrayItem(cJSON_GetObjectItem(body, "blocks"), 1);
	is_str(jstr(ctx, "type"), "context", "the link is in a context block");
	like(jstr0(cJSON_GetArrayItem(cJSON_GetObjectItem(ctx, "elements"), 0), "text"),
	     "<https://jira.example.com/browse/OPS-9|OPS-9>",
	     "the context holds the link known at delivery");
	cJSON_Delete(body);
	cJSON_Delete(req);
	mirror_report_release(&rep);
}

static void test_refused(long long id)
{
	struct mirror_report rep = MIRROR_REPORT_INIT;
	struct outbox_item it;
	int before = fake_log_mark(&slack);

	queue(id, "escalated");
	fake_fail(&slack, "{\"method\":\"POST\",\"path\":\"^/services/\",\"status\":404,"
		  "\"body\":\"channel_not_found\",\"times\":1}");
	is_int(flush(&rep), 0, "a refused notification is no error of the flush");
	is_int(rep.failed, 1, "404 channel_not_found: failed");
	is_int(rep.delivered + rep.pending, 0, "nothing delivered or pending");
	is_str(rep.messages.buf, "slack: posting a notification: HTTP 404 channel_not_found\n",
	       "the message carries Slack's plain-text code");
	is_int(fake_count(&slack, before, NULL, NULL), 1, "a 4xx is not retried");
	if (last_slack(&it)) {
		is_int(it.status, OUTBOX_FAILED, "the outbox entry is failed");
		is_str(it.last_error, "slack: posting a notification: HTTP 404 channel_not_found",
		       "with the message as its last error");
	}
	outbox_item_clear(&it);

	/* 410 and an entry with nothing to send, also for good. */
	queue(id, "escalated");
	fake_fail(&slack, "{\"path\":\"^/services/\",\"status\":410,\"body\":\"channel_is_archived\"}");
	flush(&rep);
	like(rep.messages.buf, "HTTP 410 channel_is_archived", "410 channel_is_archived: failed");
	store_outbox_add(st, id, "sre-bad-payload", "slack", "notify", "{}");
	before = fake_log_mark(&slack);
	flush(&rep);
	is_int(rep.failed, 1, "a queued notification without text is failed");
	is_int(fake_count(&slack, before, NULL, NULL), 0, "without a request");
	mirror_report_release(&rep);
}

static void test_outage(long long id)
{
	struct mirror_report rep = MIRROR_REPORT_INIT;
	struct outbox_item it;
	size_t nr;
	int before = fake_log_mark(&slack);
	struct outbox_item *items;
	int first_attempts = -1;
	cJSON *req, *body;
	char *closed;

	queue(id, "diagnosed");
	queue(id, "resolved");
	fake_fail(&slack, "{\"method\":\"POST\",\"path\":\"^/services/\",\"status\":500,"
		  "\"body\":\"rollup_error\",\"times\":2}");
	is_int(flush(&rep), 0, "an outage is no error of the flush");
	is_int(rep.pending, 2, "500 twice: both notifications stay queued");
	is_int(rep.delivered + rep.failed, 0, "none delivered or failed");
	like(rep.messages.buf, "slack: posting a notification: HTTP 500 rollup_error after 2 attempts",
	     "the message says what Slack answered");
	like(rep.messages.buf, "kept queued", "and that it stays queued");
	is_int(fake_count(&slack, before, NULL, NULL), 2, "the first was tried twice, the second waited");
	if (last_slack(&it)) {
		is_int(it.status, OUTBOX_PENDING, "the outbox entry is pending");
		is_int(it.attempts, 0, "the waiting one was not attempted");
	}
	outbox_item_clear(&it);
	if (store_outbox_list(st, 1, &items, &nr) == 0) {
		for (size_t i = 0; i < nr && first_attempts < 0; i++)
			if (!strcmp(items[i].target, "slack"))
				first_attempts = items[i].attempts;
		outbox_list_free(items, nr);
	}
	is_int(first_attempts, 1, "the attempt was counted in the store");

	is_int(flush(&rep), 0, "a later flush succeeds");
	is_int(rep.delivered, 2, "and delivers both");
	is_int(fake_count(&slack, before, NULL, NULL), 4, "once each");
	req = fake_first(&slack, before + 2, NULL, NULL);
	body = fake_body(req);
	like(jstr0(body, "text"), "diagnosed", "in the order they were queued");
	cJSON_Delete(body);
	cJSON_Delete(req);
	flush(&rep);
	is_int(fake_count(&slack, before, NULL, NULL), 4, "and never again");

	/* A 200 that is not Slack's "ok" came from something else. */
	queue(id, "diagnosed");
	fake_fail(&slack, "{\"path\":\"^/services/\",\"status\":200,\"body\":\"<html>proxy</html>\"}");
	flush(&rep);
	is_int(rep.delivered, 0, "a 200 without \"ok\" is not taken for delivery");
	is_int(rep.failed, 1, "it is failed, to be retried by hand");

	/* An answer over http.max-body: a transport failure, kept for later. */
	set_config(BASE_CONFIG "\tmax-body = 64\n");
	queue(id, "diagnosed");
	fake_fail(&slack, "{\"path\":\"^/services/\",\"status\":200,\"body\":\""
		  "0123456789012345678901234567890123456789012345678901234567890123456789\"}");
	flush(&rep);
	set_config(BASE_CONFIG);
	is_int(rep.pending, 1, "an answer over http.max-body: kept queued");
	like(rep.messages.buf, "larger than http.max-body", "the message says why");
	flush(&rep);
	is_int(rep.delivered, 1, "and it is delivered later");

	/* Throttled past the retries, honouring Retry-After. */
	queue(id, "diagnosed");
	before = fake_log_mark(&slack);
	fake_fail(&slack, "{\"path\":\"^/services/\",\"status\":429,\"headers\":{\"Retry-After\":\"0\"},"
		  "\"body\":\"\",\"times\":2}");
	flush(&rep);
	is_int(rep.pending, 1, "429 twice: kept queued");
	like(rep.messages.buf, "HTTP 429 (Retry-After: 0) after 2 attempts", "the message says 429");
	flush(&rep);
	is_int(rep.delivered, 1, "delivered once Slack lets us");
	is_int(fake_count(&slack, before, NULL, NULL), 3, "after three requests in all");

	/* Nothing listens: kept queued, with the address hidden. */
	{
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(a);
		bind(fd, (struct sockaddr *)&a, sizeof(a));
		getsockname(fd, (struct sockaddr *)&a, &len);
		closed = xstrfmt("http://127.0.0.1:%d/services/T000/B000/" SECRET, ntohs(a.sin_port));
		close(fd);
	}
	setenv("SLACK_WEBHOOK_URL", closed, 1);
	queue(id, "resolved");
	is_int(flush(&rep), 0, "an unreachable webhook is no error of the flush");
	is_int(rep.pending, 1, "unreachable: kept queued");
	like(rep.messages.buf, "slack: posting a notification: ", "the message says so");
	like(rep.messages.buf, "kept queued", "and that it stays queued");
	setenv("SLACK_WEBHOOK_URL", webhook, 1);
	is_int(flush(&rep), 0, "once reachable");
	is_int(rep.delivered, 1, "it is delivered");
	free(closed);
	mirror_report_release(&rep);
}

static void test_others(long long id)
{
	struct mirror_report rep = MIRROR_REPORT_INIT;
	struct outbox_item *items;
	size_t nr;
	int before;
	int pending = 0;

	store_outbox_add(st, id, "sre-github-1", "github", "comment", "{\"text\":\"x\"}");
	before = fake_log_mark(&slack);
	flush(&rep);
	is_int(rep.delivered + rep.pending + rep.failed, 0, "a tracker's entries are not Slack's");
	is_int(fake_count(&slack, before, NULL, NULL), 0, "and are not sent there");
	if (!store_outbox_list(st, 1, &items, &nr)) {
		for (size_t i = 0; i < nr; i++)
			pending += !strcmp(items[i].key, "sre-github-1");
		outbox_list_free(items, nr);
	}
	is_int(pending, 1, "they stay pending");
	mirror_report_release(&rep);
}

static void test_webhook_sources(long long id)
{
	struct mirror_report rep = MIRROR_REPORT_INIT;
	struct outbox_item it;
	char *marker = tmp_path("command-ran-2"), *text;
	cJSON *req;
	int r;

	/* Nothing queued: the command is not run. */
	unsetenv("SLACK_WEBHOOK_URL");
	text = xstrfmt(BASE_CONFIG "[slack]\n\twebhook-command = touch %s\n", marker);
	set_config(text);
	free(text);
	is_int(flush(&rep), 0, "a flush with nothing queued succeeds");
	ok(access(marker, F_OK) < 0, "without resolving the webhook");

	text = xstrfmt(BASE_CONFIG "[slack]\n\twebhook-command = printf %s/services/T/B/CMD" SECRET "\n",
		       slack.url);
	set_config(text);
	free(text);
	queue(id, "opened");
	is_int(flush(&rep), 0, "the webhook from slack.webhook-command");
	is_int(rep.delivered, 1, "delivers");
	req = fake_last(&slack, 0, NULL, NULL);
	is_str(jstr(req, "path"), "/services/T/B/CMD" SECRET, "to the URL the command printed");
	cJSON_Delete(req);

	set_config(BASE_CONFIG);
	queue(id, "opened");
	capture_start();
	r = notify_flush(st, &cfg, &rep);
	like(capture_end(), "error: no Slack webhook", "without a webhook the flush says so");
	is_int(r, -1, "and fails");

	setenv("SLACK_WEBHOOK_URL", "ftp://127.0.0.1/services/T/B/" SECRET, 1);
	capture_start();
	r = notify_flush(st, &cfg, &rep);
	strbuf_addstr(&seen, capture_end());
	is_int(r, -1, "an ftp:// webhook is refused");
	like(captured.buf, "error: the Slack webhook is not an http:// or https:// URL",
	     "with a message");
	if (last_slack(&it)) {
		is_int(it.status, OUTBOX_PENDING, "the notification stays queued");
		is_int(it.attempts, 0, "nothing was attempted");
	}
	outbox_item_clear(&it);

	setenv("SLACK_WEBHOOK_URL", webhook, 1);
	fake_fail(&slack, "{\"path\":\"^/services/\",\"status\":403,\"body\":\"action_prohibited\"}");
	setenv("SRE_TRACE", "1", 1);
	flush(&rep);
	unsetenv("SRE_TRACE");
	like(seen.buf, "sre: http: POST <redacted>", "the trace shows the webhook redacted");
	is_int(rep.failed, 1, "403 action_prohibited: failed");
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
	struct outbox_item *items;
	size_t nr, errors = 0, leaks = 0;
	char *wal = xstrfmt("%s-wal", db_path);

	like(seen.buf, "HTTP 404 channel_not_found", "the messages checked below are there");
	unlike(seen.buf, SECRET, "the webhook appears in no message, error or trace");
	if (!store_outbox_list(st, 0, &items, &nr)) {
		for (size_t i = 0; i < nr; i++) {
			if (!items[i].last_error)
				continue;
			errors++;
			leaks += strstr(items[i].last_error, SECRET) != NULL;
			leaks += strstr(items[i].payload, SECRET) != NULL;
		}
		outbox_list_free(items, nr);
	}
	ok(errors >= 4, "several outbox entries have a last error (%zu)", errors);
	is_int(leaks, 0, "none holds the webhook");
	ok(file_holds(db_path, "Disk full on db-1") || file_holds(wal, "Disk full on db-1"),
	   "the store's bytes hold the incident");
	ok(!file_holds(db_path, SECRET) && !file_holds(wal, SECRET), "but not the webhook");
	store_free(st);
	st = NULL;
	ok(file_holds(db_path, "Disk full on db-1"), "the closed store holds the incident");
	ok(!file_holds(db_path, SECRET), "but not the webhook");
	free(wal);
}

int main(void)
{
	long long id;

	if (!fake_begin())
		return 0;
	if (test_begin("notify") < 0)
		return 1;
	if (fake_start(&slack, "slack", "slack", NULL) < 0) {
		printf("Bail out! the fake Slack did not start\n");
		test_end();
		return 1;
	}
	webhook = xstrfmt("%s/services/T000/B000/" SECRET, slack.url);
	setenv("SLACK_WEBHOOK_URL", webhook, 1);
	set_config(BASE_CONFIG);
	db_path = tmp_path("sre.db");
	if (store_open(&st, db_path, 30000) < 0) {
		printf("Bail out! cannot open the store\n");
		fake_stop(&slack);
		test_end();
		return 1;
	}
	id = open_incident("checkout", "Disk full on db-1");

	test_text();
	test_events();
	test_configured();
	test_deliver_once(id);
	test_link(id);
	test_refused(id);
	test_outage(id);
	test_others(id);
	test_webhook_sources(id);
	test_secret_kept();

	fake_stop(&slack);
	config_clear(&cfg);
	strbuf_release(&seen);
	free(webhook);
	free(db_path);
	return test_end();
}
