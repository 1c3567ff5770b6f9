/*
 * test-collect-docker.c: unit tests of lib/collect-docker.c, the Docker
 * collector of `sre diagnose`, against tests/fakes/docker.py on a UNIX
 * socket in the scratch directory, printing TAP.
 *
 * The fake serves the containers below and their logs (Docker's
 * multiplexed stream, or raw for a TTY) and logs every request: the tests
 * check which containers were picked, that their inspect objects are kept
 * as the Engine wrote them, the logs demultiplexed, what the Engine was
 * asked, each failure's line, and that a hanging Engine is left at the
 * deadline.
 */
#include "../../lib/json.h"
#include "collect-test.h"

static struct fake docker;
static char *sock;              /* the fake's socket */
static struct collect_test run;

/* Ids are one hex digit repeated, so that a test can tell them in the log. */
#define ID(d) d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d \
	      d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d
#define HOST_DATA "[" \
	"{\"id\": \"" ID("1") "\", \"name\": \"web\", \"logs\": [\"listening on :8080\"," \
	" {\"stream\": \"stderr\", \"line\": \"warning: cache cold\"}, \"GET / 200\"," \
	" {\"stream\": \"stderr\", \"line\": \"panic: nil map\"}]}," \
	"{\"id\": \"" ID("2") "\", \"name\": \"shop-checkout-1\", \"compose\": \"shop/checkout\"," \
	" \"logs\": [\"one\"]}," \
	"{\"id\": \"" ID("3") "\", \"name\": \"shop-checkout-2\", \"compose\": \"shop/checkout\"," \
	" \"state\": \"exited\", \"exit_code\": 137, \"oom_killed\": true, \"logs\": [\"two\"]}," \
	"{\"id\": \"" ID("4") "\", \"name\": \"db\", \"logs\": [\"not me\"]}," \
	"{\"id\": \"" ID("5") "\", \"name\": \"pg-main\", \"logs\": [\"ready\"]}," \
	"{\"id\": \"" ID("6") "\", \"name\": \"console\", \"tty\": true," \
	" \"logs\": [\"$ start\", {\"stream\": \"stderr\", \"line\": \"oops\"}]}," \
	"{\"id\": \"" ID("7") "\", \"name\": \"cut\", \"logs\": [\"first\", \"second\"]," \
	" \"logs_truncate\": 3}," \
	"{\"id\": \"" ID("8") "\", \"name\": \"cuthead\", \"logs\": [\"first\", \"second\"]," \
	" \"logs_truncate\": 41}," \
	"{\"id\": \"" ID("9") "\", \"name\": \"other\", \"logs\": [\"unrelated\"]}" \
	"]"

/* ---- helpers ---- */

static void set_config(const char *text)
{
	set_config_text(&run.cfg, text);
}

/* The configuration that points at the fake, with more lines after. */
static void set_config_fake(const char *more)
{
	char *text = xstrfmt("[docker]\n\thost = unix://%s\n%s", sock, more ? more : "");

	set_config(text);
	free(text);
}

/* Collect service afresh into run.ev and run.why: the collector's return. */
static int collect(const char *service)
{
	return collect_test_run(&run, collect_docker, service, NULL);
}

/* Does run.cfg configure the collector for run.o? */
static int configured(void)
{
	return collect_docker_configured(&run.cfg, &run.o);
}

/* A request of the test's own to the fake, over its socket: the status; *out its body. */
static long docker_call(const char *method, const char *path, const char *json,
			struct strbuf *out)
{
	struct http_client own; /* not the collector's, nor under its deadline */
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	char *url = xstrfmt("http://localhost%s", path);
	long status;

	http_client_init(&own, NULL);
	own.retries = 0;
	req.method = method;
	req.url = url;
	req.unix_socket = sock;
	req.no_retry = 1;
	strvec_push(&req.headers, "Content-Type: application/json");
	req.body = json;
	req.body_len = json ? strlen(json) : 0;
	http_do(&own, &req, &res);
	status = res.status;
	if (out)
		strbuf_add(out, res.body.buf, res.body.len);
	http_response_release(&res);
	http_request_release(&req);
	http_client_release(&own);
	free(url);
	return status;
}

static void control(const char *path, const char *json)
{
	long status = docker_call("POST", path, json, NULL);

	if (status != 200 && status != 201)
		printf("# %s answered %ld\n", path, status);
}

/* The log named name in run.ev, or NULL. */
static const struct evidence_item *find_log(const char *name)
{
	for (size_t i = 0; i < run.ev.logs_nr; i++)
		if (!strcmp(run.ev.logs[i].name, name))
			return &run.ev.logs[i];
	return NULL;
}

/*
 * A log's lines without Docker's timestamps ("<RFC 3339> <line>"), or
 * "(no log)"; each a time of the fake's, which the caller cannot know.
 * Valid until the next call.
 */
static const char *log_lines(const char *name)
{
	static struct strbuf sb = STRBUF_INIT;
	const struct evidence_item *it = find_log(name);
	const char *p;

	strbuf_reset(&sb);
	if (!it)
		return "(no log)";
	for (p = it->text; *p;) {
		const char *eol = strchrnul(p, '\n'), *space = memchr(p, ' ', (size_t)(eol - p));

		if (!space || space - p != 30 || p[29] != 'Z') {
			strbuf_addstr(&sb, "(no timestamp) ");
			space = p - 1;
		}
		strbuf_add(&sb, space + 1, (size_t)(eol - space - 1));
		if (*eol)
			strbuf_addch(&sb, '\n');
		p = *eol ? eol + 1 : eol;
	}
	return sb.buf;
}

/* The name of the index-th inspect object kept, or NULL. */
static const char *inspected_name(int index)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(run.ev.docker, index), "Name"));
}

/* ---- tests ---- */

static void test_configured(void)
{
	run.o.service = "web";
	set_config("");
	is_int(configured(), 0, "nothing set: not configured");
	set_config("[docker]\n\thost = unix:///run/docker.sock\n");
	is_int(configured(), 1, "docker.host: configured");
	set_config("[scout]\n\tdocker = true\n");
	is_int(configured(), 1, "scout.docker = true: configured");
	set_config("[scout]\n\tdocker = false\n");
	is_int(configured(), 0, "scout.docker = false: not configured");
	set_config("[service \"web\"]\n\tcontainer = web-1\n");
	is_int(configured(), 1, "the service's container: configured");
	set_config("[service \"web\"]\n\truntime = docker\n");
	is_int(configured(), 1, "runtime = docker: configured");
	set_config("[service \"api\"]\n\truntime = docker\n");
	is_int(configured(), 0, "another service's runtime: not configured");
	set_config("[docker]\n\thost = unix:///run/docker.sock\n"
		   "[service \"web\"]\n\truntime = kubernetes\n");
	is_int(configured(), 0,
	       "runtime = kubernetes: not configured, whatever docker.host says");
}

static void test_by_name(void)
{
	int mark = fake_log_mark(&docker);
	struct strbuf direct = STRBUF_INIT;
	cJSON *r, *same;
	char *tail, *all;

	set_config_fake(NULL);
	run.log_lines = 200;
	is_int(collect("web"), 0, "the container named as the service: 0");
	is_str(run.why.buf, "", "nothing in why");
	is_int(cJSON_GetArraySize(run.ev.docker), 1, "one inspect object");
	is_str(inspected_name(0), "/web", "the container web's");

	is_int(run.ev.logs_nr, 1, "one log");
	is_str(run.ev.logs_nr ? run.ev.logs[0].source : NULL, "docker", "its source: docker");
	is_str(log_lines("web"),
	       "listening on :8080\nwarning: cache cold\nGET / 200\npanic: nil map\n",
	       "stdout and stderr demultiplexed, interleaved as written, each with its time");
	ok(!run.ev.prometheus_nr && !run.ev.traces && !run.ev.pods, "nothing else filled");

	is_int(fake_count(&docker, mark, "GET", "^/v1\\.47/containers/json$"), 1, "one list");
	r = fake_first(&docker, mark, "GET", "^/v1\\.47/containers/json$");
	all = request_param(r, "all");
	is_str(all, "1", "of every container, stopped too (all=1)");
	free(all);
	cJSON_Delete(r);
	is_int(fake_count(&docker, mark, "GET", "/containers/(1){64}/json$"), 1, "one inspection");
	is_int(fake_count(&docker, mark, "GET", "/containers/[0-9]{64}/json$"), 1,
	       "of that container alone");
	r = fake_first(&docker, mark, "GET", "^/v1\\.47/containers/(1){64}/logs$");
	ok(r != NULL, "its logs read");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "query")),
	       "stdout=1&stderr=1&timestamps=1&tail=200",
	       "both streams, with timestamps, the last log-lines lines");
	cJSON_Delete(r);
	docker_call("GET", "/v1.47/containers/" ID("1") "/json", NULL, &direct);
	same = cJSON_Parse(direct.buf);
	{
		/* Its environment keeps the names, not the values (they hold credentials). */
		cJSON *env = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(run.ev.docker, 0), "Config"), "Env");
		is_str(cJSON_GetStringValue(cJSON_GetArrayItem(env, 0)), "PATH=\xe2\x80\xb9redacted:env\xe2\x80\xba",
		       "an environment variable's value is dropped, its name kept");
		env = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(same, "Config"), "Env");
		cJSON_SetValuestring(cJSON_GetArrayItem(env, 0), "PATH=\xe2\x80\xb9redacted:env\xe2\x80\xba");
	}
	ok(same && cJSON_Compare(cJSON_GetArrayItem(run.ev.docker, 0), same, 1),
	   "the inspect object kept exactly as the Engine writes it, env values aside");
	cJSON_Delete(same);
	strbuf_release(&direct);

	mark = fake_log_mark(&docker);
	run.log_lines = 2;
	is_int(collect("web"), 0, "with log-lines 2: 0");
	is_str(log_lines("web"), "GET / 200\npanic: nil map\n", "the last two lines only");
	r = fake_first(&docker, mark, "GET", "/logs$");
	tail = request_param(r, "tail");
	is_str(tail, "2", "asked with tail=2");
	free(tail);
	cJSON_Delete(r);
	run.log_lines = 200;
}

static void test_by_compose_label(void)
{
	set_config_fake(NULL);
	is_int(collect("checkout"), 0, "the compose service's containers: 0");
	is_int(cJSON_GetArraySize(run.ev.docker), 2, "both of them");
	is_str(inspected_name(0), "/shop-checkout-1", "the first");
	is_str(inspected_name(1), "/shop-checkout-2", "and the one that was killed");
	ok(json_bool(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(run.ev.docker, 1),
							     "State"), "OOMKilled"),
	   "its State as the Engine gave it (OOMKilled)");
	is_str(log_lines("shop-checkout-1"), "one\n", "the first's log, under its name");
	is_str(log_lines("shop-checkout-2"), "two\n", "the second's log, under its name");
}

static void test_by_config(void)
{
	int mark = fake_log_mark(&docker);

	set_config_fake("[service \"db\"]\n\tcontainer = pg-main\n");
	is_int(collect("db"), 0, "service.db.container names the container: 0");
	is_int(cJSON_GetArraySize(run.ev.docker), 1, "that container only...");
	is_str(inspected_name(0), "/pg-main", "... pg-main");
	ok(!find_log("db"), "not the container that has the service's name");
	is_str(log_lines("pg-main"), "ready\n", "pg-main's log");
	is_int(fake_count(&docker, mark, "GET", "/containers/(4){64}/"), 0,
	       "the container db is not even asked about");

	set_config_fake("[service \"db\"]\n\tcontainer = /pg-main\n");
	is_int(collect("db"), 0, "a name with Docker's leading '/': 0");
	is_str(inspected_name(0), "/pg-main", "the same container");

	set_config_fake(NULL);
	is_int(collect("nothing-here"), 0, "no container of the service: 0");
	ok(cJSON_IsArray(run.ev.docker) && !cJSON_GetArraySize(run.ev.docker),
	   "an empty array: Docker was read and holds none");
	is_int(run.ev.logs_nr, 0, "no log");
}

static void test_tty_and_truncated(void)
{
	const struct evidence_item *it;

	set_config_fake("[service \"console\"]\n\tcontainer = console\n");
	is_int(collect("console"), 0, "a TTY container: 0");
	it = find_log("console");
	ok(it && strstr(it->text, "Z $ start\r\n") && strstr(it->text, "Z oops\r\n"),
	   "its log raw, as the TTY wrote it (CRLF, no frame headers)");
	ok(it && it->text[0] == '2' && !strchr(it->text, '\001'), "starting with the first time");

	set_config_fake(NULL);
	is_int(collect("cut"), 0, "a stream cut in a frame's payload: 0");
	is_str(log_lines("cut"), "first\n", "the whole frame kept, the cut one dropped");
	is_int(collect("cuthead"), 0, "a stream cut in a frame's header: 0");
	is_str(log_lines("cuthead"), "first\n", "the whole frame kept, the cut header dropped");
}

static void test_failures(void)
{
	char *missing = tmp_path("nope.sock"), *text, *want;

	text = xstrfmt("[docker]\n\thost = unix://%s\n", missing);
	set_config(text);
	is_int(collect("web"), -1, "no socket: -1");
	want = xstrfmt("docker: unix://%s: No such file or directory", missing);
	is_str(run.why.buf, want, "one line, as lib/docker.c says it");
	ok(!run.ev.docker, "no evidence");
	free(want);
	free(text);

	set_config("[docker]\n\thost = ftp://x\n");
	is_int(collect("web"), -1, "a bad docker.host: -1");
	is_str(run.why.buf, "docker: docker.host 'ftp://x' is not unix:///path or tcp://host:port",
	       "saying what it should be");

	set_config_fake(NULL);
	control("/_fake/fail", "{\"path\": \"/containers/json$\", \"status\": 500,"
		" \"body\": {\"message\": \"daemon is shutting down\"}}");
	is_int(collect("web"), -1, "the list answers 500: -1");
	want = xstrfmt("docker: unix://%s: HTTP 500: daemon is shutting down", sock);
	is_str(run.why.buf, want, "with the Engine's message");
	free(want);

	control("/_fake/fail", "{\"path\": \"/containers/json$\", \"status\": 200,"
		" \"body\": {\"message\": \"?\"}}");
	is_int(collect("web"), -1, "a list that is no array: -1");
	want = xstrfmt("docker: unix://%s: the container list is not a JSON array", sock);
	is_str(run.why.buf, want, "saying so");
	free(want);

	control("/_fake/fail", "{\"path\": \"/containers/(2){64}/logs$\", \"status\": 500,"
		" \"body\": {\"message\": \"log driver gone\"}}");
	is_int(collect("checkout"), -1, "one container's logs answer 500: -1");
	want = xstrfmt("docker: unix://%s: reading the logs of shop-checkout-1: HTTP 500: "
		       "log driver gone", sock);
	is_str(run.why.buf, want, "naming the container");
	free(want);
	is_int(cJSON_GetArraySize(run.ev.docker), 2, "both inspections still kept");
	ok(!find_log("shop-checkout-1") && find_log("shop-checkout-2"),
	   "and the other container's log");

	control("/_fake/fail", "{\"path\": \"/containers/(2){64}/json$\", \"status\": 404,"
		" \"body\": {\"message\": \"No such container: " ID("2") "\"}}");
	is_int(collect("checkout"), 0, "a container removed since the list: 0");
	is_int(cJSON_GetArraySize(run.ev.docker), 1, "left out");
	is_str(inspected_name(0), "/shop-checkout-2", "the other kept");

	control("/_fake/fail", "{\"path\": \"/containers/(3){64}/json$\", \"status\": 500,"
		" \"body\": {\"message\": \"boom\"}}");
	is_int(collect("checkout"), -1, "an inspection answers 500: -1");
	want = xstrfmt("docker: unix://%s: inspecting shop-checkout-2: HTTP 500: boom", sock);
	is_str(run.why.buf, want, "naming the container");
	free(want);
	is_int(cJSON_GetArraySize(run.ev.docker), 1, "the other container kept");

	/* The Engine hangs: left at the deadline. */
	control("/_fake/delay", "{\"path\": \"/containers/json$\", \"seconds\": 5}");
	want = xstrfmt("docker: unix://%s: timed out", sock);
	expect_cut_at_deadline(&run, collect_docker, "web", "the Engine hangs", want);
	free(want);

	control("/_fake/delay", "{\"path\": \"/logs$\", \"seconds\": 5}");
	want = xstrfmt("docker: unix://%s: reading the logs of web: timed out", sock);
	expect_cut_at_deadline(&run, collect_docker, "web", "the logs hang", want);
	free(want);
	is_int(cJSON_GetArraySize(run.ev.docker), 1, "the inspection read in time is kept");
	free(missing);
}

int main(void)
{
	char *data;

	if (!fake_begin())
		return 0;
	if (test_begin("collect-docker") < 0)
		return 1;
	collect_test_init(&run);
	run.now = 1795496820; /* 2026-11-24T05:07:00Z */
	sock = tmp_path("docker/docker.sock");
	data = write_file("data.json", HOST_DATA);

	test_configured();
	if (fake_start(&docker, "docker", "docker", "--socket", sock, "--data", data, NULL) < 0) {
		ok(0, "the fake Docker Engine starts");
	} else {
		test_by_name();
		test_by_compose_label();
		test_by_config();
		test_tty_and_truncated();
		test_failures();
	}
	fake_stop(&docker);
	collect_test_release(&run);
	free(sock);
	free(data);
	return test_end();
}
