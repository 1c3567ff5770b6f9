/*
 * run-steps.c: the steps of a pass of `sre run` (cmd/run.c runs each in
 * a child process with a deadline). Each calls the library engines, as
 * the command of its name would, and hands what it did to the runner as
 * JSON event lines; errors go to stderr as usual. A step never prints
 * what the runner did not ask for: the engines' progress notes are
 * dropped, so that sre run says changes only.
 */
#include "builtin.h"
#include "run.h"
#include "../lib/chaos.h"
#include "../lib/escalate.h"
#include "../lib/http.h"
#include "../lib/knowledge.h"
#include "../lib/loop.h"
#include "../lib/memory.h"
#include "../lib/run-command.h"

/* Where this child's events go (run_step.fn's fd). */
static int event_fd = -1;

/* One event to the parent: a JSON line. */
static void emit(const char *event, long long id, const char *message)
{
	cJSON *e = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(e, "event", event);
	if (id > 0)
		cJSON_AddNumberToObject(e, "incident", (double)id);
	cJSON_AddStringToObject(e, "message", message);
	text = cJSON_PrintUnformatted(e);
	cJSON_Delete(e);
	if (text && strlen(text) < RUN_FUNCTION_LINE_MAX) {
		struct strbuf line = STRBUF_INIT;
		strbuf_addf(&line, "%s\n", text);
		if (write_in_full(event_fd, line.buf, line.len) < 0)
			error_errno("cannot hand an event to sre run");
		strbuf_release(&line);
	}
	free(text);
}

static void on_loop_event(void *data, enum loop_event what, long long id, const char *line)
{
	(void)data;
	emit(loop_event_name(what), id, line);
}

/* Each line of a report as an event. */
static void emit_lines(const char *event, const char *text)
{
	for (const char *l = text; *l;) {
		const char *nl = strchrnul(l, '\n');
		if (nl > l) {
			char *one = xstrndup(l, (size_t)(nl - l));
			emit(event, 0, one);
			free(one);
		}
		l = *nl ? nl + 1 : nl;
	}
}

static void engine_init(struct engine_context *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->cfg = &the_sre.cfg;
	ctx->store = sre_store();
	ctx->tracker = sre_tracker();
	ctx->actor = sre_actor();
	/* Quiet: what a step did reaches the parent as events; errors still go to stderr. */
	ctx->note = NULL;
}

static int step_scout(const struct run_pass *p)
{
	struct engine_context ctx;
	struct loop_report rep = LOOP_REPORT_INIT;
	struct strbuf undone = STRBUF_INIT;
	int ret;

	engine_init(&ctx);
	rep.event = on_loop_event;
	/* A fault whose injector died is undone once its time is up (sre-chaos(1)). */
	if (!p->standby && chaos_rollback_expired(&ctx, &undone) == 0)
		emit_lines("chaos", undone.buf);
	strbuf_release(&undone);
	ret = loop_scout(&ctx, p->standby, &rep);
	loop_report_release(&rep);
	return ret;
}

/* A step of lib/loop.c on what the store holds: -1 when it, or an engine in it, failed. */
static int loop_step(int (*fn)(const struct engine_context *, struct loop_report *))
{
	struct engine_context ctx;
	struct loop_report rep = LOOP_REPORT_INIT;
	int ret;

	engine_init(&ctx);
	rep.event = on_loop_event;
	ret = fn(&ctx, &rep);
	loop_report_release(&rep);
	return ret < 0 || rep.failed ? -1 : 0;
}

static int step_diagnose(const struct run_pass *p)
{
	(void)p;
	return loop_step(loop_diagnose);
}

static int step_fix(const struct run_pass *p)
{
	(void)p;
	return loop_step(loop_fix);
}

static int step_escalate(const struct run_pass *p)
{
	struct engine_context ctx;
	struct escalate_options o = { 0 };
	struct incident_filter f = { .state = STATE_INCIDENT_REQUIRES_HUMAN };
	struct strbuf report = STRBUF_INIT;
	struct incident *list = NULL;
	size_t nr = 0;
	int ret;

	(void)p;
	engine_init(&ctx);
	ret = escalate_auto(&ctx, &o, &report);
	if (ret >= 0)
		ret = escalate_chronic(&ctx, &o, &report);
	emit_lines("escalated", report.buf);
	strbuf_release(&report);
	/* What waits for a person, each said once while it waits. */
	if (store_incident_list(ctx.store, &f, &list, &nr) < 0)
		return -1;
	for (size_t i = 0; i < nr; i++) {
		char *line = xstrfmt("incident %lld waits for a person: %s", list[i].id, list[i].title);
		emit("waiting", list[i].id, line);
		free(line);
	}
	incident_list_free(list, nr);
	return ret < 0 ? -1 : 0;
}

static int step_remember(const struct run_pass *p)
{
	struct knowledge_push kp = KNOWLEDGE_PUSH_INIT;
	const char *remote = config_get_string(&the_sre.cfg, "remember.remote");
	size_t n = 0;
	int ret = 0;

	(void)p;
	if (memory_index(sre_store(), &the_sre.cfg, 0, &n) < 0)
		return -1;
	if (n) {
		char *line = xstrfmt("remembered %zu incident%s", n, n == 1 ? "" : "s");
		emit("remembered", 0, line);
		free(line);
	}
	if (!remote || !*remote)
		return remember_postmortems() < 0 ? -1 : 0;
	/* Shared: the records and post-mortems committed and pushed, as `sre remember push`. */
	kp.author = sre_actor();
	if (knowledge_push(sre_store(), &the_sre.cfg, &kp) < 0) {
		ret = -1;
	} else if (kp.marked) {
		char *line = xstrfmt("pushed %zu incident%s to remember.remote", kp.marked,
				     kp.marked == 1 ? "" : "s");
		emit("remembered", 0, line);
		free(line);
	}
	knowledge_push_release(&kp);
	return ret;
}

static int step_sync(const struct run_pass *p)
{
	struct strbuf said = STRBUF_INIT;
	int ret;

	(void)p;
	/* What waits or was refused: conditions, said once while they hold, not each pass. */
	ret = sre_deliver_into(&said);
	emit_lines("sync", said.buf);
	strbuf_release(&said);
	return ret ? -1 : 0;
}

/* The heartbeat (run.heartbeat-url): a GET after each pass, /fail appended after a failed step. */
static int step_heartbeat(const struct run_pass *p)
{
	struct http_client http;
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	const char *url = config_get_string(&the_sre.cfg, "run.heartbeat-url");
	char *full;
	int ret = 0;

	if (!url || !*url)
		return 0;
	/* Its path is often the check's secret (healthchecks.io's uuid). */
	if (http_url_keeps_secrets(url) != 1) {
		warning("run.heartbeat-url must be https://, or http:// to this machine only: not pinged");
		return 0;
	}
	if (http_client_init(&http, &the_sre.cfg) < 0)
		return -1;
	full = p->steps_failed ? xstrfmt("%s/fail", url) : xstrdup(url);
	http_client_add_secret(&http, url);
	req.method = "GET";
	req.url = full;
	req.timeout_ms = 10000;
	/* Once: the next pass pings again, and a late ping is worth nothing. */
	req.no_retry = 1;
	req.label = "heartbeat";
	if (http_do(&http, &req, &res) < 0 || res.status < 200 || res.status > 299) {
		error("the heartbeat (run.heartbeat-url) was not taken: %s",
		      res.status ? "it answered an HTTP error" : res.error.buf);
		ret = -1;
	}
	http_response_release(&res);
	http_request_release(&req);
	http_client_release(&http);
	free(full);
	return ret;
}

const struct run_step run_steps[] = {
	{ "scout", step_scout, 1 },
	{ "diagnose", step_diagnose, 0 },
	{ "fix", step_fix, 0 },
	{ "escalate", step_escalate, 0 },
	{ "remember", step_remember, 0 },
	{ "sync", step_sync, 0 },
};
const size_t run_steps_nr = ARRAY_SIZE(run_steps);

int run_step_call(const struct run_step *s, const struct run_pass *p, int fd)
{
	event_fd = fd;
	test_crash_point(s->name);
	return s->fn(p);
}

const struct run_step run_heartbeat = { "heartbeat", step_heartbeat, 1 };

