/*
 * test-docker.c: unit tests of the Docker source of `sre scout`
 * (lib/scout-docker.c, over the Engine's client lib/docker.c) against
 * tests/fakes/docker.py, a local Docker Engine that listens on a UNIX
 * socket in the scratch directory, as dockerd does on
 * /var/run/docker.sock, printing TAP.
 *
 * The fake is started with fake.h's fake_start() (--socket and --data as
 * its extra arguments; it writes "ready" where a TCP fake writes its port)
 * and logs every request, so the tests check both the findings and what
 * the Engine was asked: one list, then one inspection of each container
 * the list cannot clear.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include "scout-test.h"

static struct fake docker;
static char *sock;              /* the fake's socket */
static struct config cfg = CONFIG_INIT;
static struct http_client http;
static struct findings fs = FINDINGS_INIT;
static struct strbuf err = STRBUF_INIT;

/*
 * The containers of most tests. Ids are one hex digit repeated, so a test
 * can tell which were inspected from the paths in the fake's log.
 */
#define ID(d) d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d \
	      d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d
#define HOST_DATA "[" \
	"{\"id\": \"" ID("1") "\", \"name\": \"shop-checkout-1\", \"image\": \"shop/checkout:1.4\"," \
	" \"compose\": \"shop/checkout\", \"state\": \"exited\", \"exit_code\": 137, \"oom_killed\": true}," \
	"{\"id\": \"" ID("2") "\", \"name\": \"batch\", \"state\": \"exited\", \"exit_code\": 1}," \
	"{\"id\": \"" ID("3") "\", \"name\": \"shop-web-1\", \"compose\": \"shop/web\"," \
	" \"health\": \"unhealthy\", \"failing_streak\": 4, \"health_output\":" \
	" \"  % Total    % Received\\r  0     0\\ncurl: (7) Failed to connect to localhost port 8080\\n\\n\"}," \
	"{\"id\": \"" ID("4") "\", \"name\": \"worker\", \"state\": \"restarting\", \"exit_code\": 2," \
	" \"restart_count\": 3}," \
	"{\"id\": \"" ID("5") "\", \"name\": \"api\", \"restart_count\": 9}," \
	"{\"id\": \"" ID("6") "\", \"name\": \"cache\", \"health\": \"healthy\", \"restart_count\": 2}," \
	"{\"id\": \"" ID("7") "\", \"name\": \"done\", \"state\": \"exited\", \"exit_code\": 0}," \
	"{\"id\": \"" ID("8") "\", \"name\": \"fresh\", \"state\": \"created\"}," \
	"{\"id\": \"" ID("9") "\", \"name\": \"migrate\", \"state\": \"exited\", \"exit_code\": 1}," \
	"{\"id\": \"" ID("a") "\", \"name\": \"held\", \"state\": \"paused\"}" \
	"]"

/* ---- helpers ---- */

/* Replace the configuration with text (git-config syntax). */
static void set_config(const char *text)
{
	set_config_text(&cfg, text);
}

/* The configuration that points at the fake, with more lines after. */
static void set_config_fake(const char *more)
{
	char *text = xstrfmt("[docker]\n\thost = unix://%s\n%s", sock, more ? more : "");

	set_config(text);
	free(text);
}

/* Run the source afresh: its return, with fs and err holding the rest. */
static int collect(void)
{
	return collect_source(docker_collect, &cfg, &http, &fs, &err);
}

/* A request of the test's own to the fake, over its socket: the status. */
static long docker_call(const char *method, const char *path, const char *json)
{
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	char *url = xstrfmt("http://localhost%s", path);
	long status;

	req.method = method;
	req.url = url;
	req.unix_socket = sock;
	req.no_retry = 1;
	strvec_push(&req.headers, "Content-Type: application/json");
	req.body = json;
	req.body_len = json ? strlen(json) : 0;
	http_do(&http, &req, &res);
	status = res.status;
	http_response_release(&res);
	http_request_release(&req);
	free(url);
	return status;
}

static void set_containers(const char *json)
{
	long status = docker_call("POST", "/_fake/set", json);

	if (status != 200)
		printf("# /_fake/set answered %ld\n", status);
}

static void queue_failure(const char *json)
{
	long status = docker_call("POST", "/_fake/fail", json);

	if (status != 201)
		printf("# /_fake/fail answered %ld\n", status);
}

static struct finding *find(const char *fingerprint)
{
	return lookup_finding(&fs, fingerprint);
}

static void show_findings(void)
{
	for (size_t i = 0; i < fs.nr; i++)
		printf("#   finding: %s: %s\n", fs.v[i].fingerprint,
		       fs.v[i].summary ? fs.v[i].summary : "(no summary)");
	if (err.len)
		printf("#   err: %s\n", err.buf);
}

/* How many inspections of the container whose id is digit repeated. */
static int inspections(int from, const char *digit)
{
	char *rx = xstrfmt("^/v1\\.47/containers/(%s){64}/json$", digit);
	int n = fake_count(&docker, from, "GET", rx);

	free(rx);
	return n;
}

/* ---- tests ---- */

static void test_configured(void)
{
	set_config("");
	is_int(docker_configured(&cfg), 0, "nothing configured: the source does not run");
	set_config("[docker]\n\thost = unix:///run/docker.sock\n");
	is_int(docker_configured(&cfg), 1, "docker.host set: configured");
	set_config("[scout]\n\tdocker = true\n");
	is_int(docker_configured(&cfg), 1, "scout.docker = true: configured");
	set_config("[scout]\n\tdocker\n");
	is_int(docker_configured(&cfg), 1, "a bare scout.docker means true");
	set_config("[scout]\n\tdocker = false\n");
	is_int(docker_configured(&cfg), 0, "scout.docker = false: not configured");
	set_config("[scout]\n\tdocker = maybe\n");
	is_int(docker_configured(&cfg), 1, "a bad scout.docker runs the source...");
	is_int(collect(), -1, "... which fails");
	is_str(err.buf, "docker: bad boolean value 'maybe' for scout.docker", "... saying why");
}

static void test_default_host(void)
{
	/* The default socket is not here (no Docker in the test environment);
	 * what matters is that it is the one tried and named. */
	set_config("[scout]\n\tdocker = true\n");
	if (!access("/var/run/docker.sock", F_OK)) {
		ok(1, "# SKIP /var/run/docker.sock exists here");
		return;
	}
	is_int(collect(), -1, "scout.docker with no Docker running: -1");
	is_str(err.buf, "docker: unix:///var/run/docker.sock: No such file or directory",
	       "the default host is unix:///var/run/docker.sock");
}

static void test_signals(void)
{
	int mark = fake_log_mark(&docker);
	struct finding *f;
	cJSON *list;

	set_containers(HOST_DATA);
	set_config_fake("\tignore = migrate\n");
	is_int(collect(), 0, "collect from the fake: 0");
	if (!is_int(fs.nr, 6, "six findings"))
		show_findings();
	is_str(err.buf, "", "and nothing in err");

	f = find("docker/checkout/exited/container/shop-checkout-1");
	ok(f, "exited: fingerprint docker/<compose service>/exited/container/<name>");
	if (f) {
		is_str(f->source, "docker", "exited: source");
		is_str(f->check, "container/shop-checkout-1", "exited: check is container/<name>");
		is_str(f->service, "checkout", "exited: the service is the compose service");
		is_str(f->signal, "exited", "exited: signal");
		is_int(f->failing, 1, "exited: failing");
		is_int(f->severity, SEVERITY_HIGH, "exited with 137 and OOMKilled: high");
		is_str(f->summary, "container shop-checkout-1 exited with code 137 (OOMKilled)",
		       "exited: summary");
		is_str(evidence_string(f, "id"), ID("1"), "evidence: id");
		is_str(evidence_string(f, "name"), "shop-checkout-1", "evidence: name");
		is_str(evidence_string(f, "image"), "shop/checkout:1.4", "evidence: image");
		is_int(evidence_number(f, "exit_code"), 137, "evidence: exit_code");
		is_int(evidence_number(f, "restart_count"), 0, "evidence: restart_count");
		ok(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(f->evidence, "health")),
		   "evidence: health null without a health check");
		ok(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->evidence, "oom_killed")),
		   "evidence: oom_killed");
	}
	f = find("docker/checkout/oomkilled/container/shop-checkout-1");
	ok(f, "oomkilled: its own fingerprint");
	if (f) {
		is_int(f->severity, SEVERITY_HIGH, "oomkilled: high");
		is_str(f->summary, "container shop-checkout-1 was killed for running out of memory"
		       " (exit code 137)", "oomkilled: summary");
	}
	f = find("docker/batch/exited/container/batch");
	ok(f, "exited without compose: the service is the container name");
	if (f) {
		is_int(f->severity, SEVERITY_MEDIUM, "exited with 1: medium");
		is_str(f->summary, "container batch exited with code 1", "exited 1: summary");
	}
	f = find("docker/web/unhealthy/container/shop-web-1");
	ok(f, "unhealthy: fingerprint");
	if (f) {
		is_int(f->severity, SEVERITY_HIGH, "unhealthy: high");
		is_str(f->summary, "container shop-web-1 is unhealthy: curl: (7) Failed to connect"
		       " to localhost port 8080", "unhealthy: the last line of the last check's output");
		is_str(evidence_string(f, "health"), "unhealthy", "evidence: health");
		is_int(evidence_number(f, "failing_streak"), 4, "evidence: failing_streak");
	}
	f = find("docker/worker/restarting/container/worker");
	ok(f, "restarting (State.Restarting): fingerprint");
	if (f) {
		is_int(f->severity, SEVERITY_MEDIUM, "restarting: medium");
		is_str(f->summary, "container worker is restarting (exit code 2, 3 restarts)",
		       "restarting: summary");
		is_int(evidence_number(f, "restart_count"), 3, "evidence: restart_count 3");
	}
	f = find("docker/api/restarting/container/api");
	ok(f, "RestartCount 9 over the default 5: restarting");
	if (f)
		is_str(f->summary, "container api has restarted 9 times (scout.max-restarts is 5)",
		       "restart count: summary");
	ok(!find("docker/cache/restarting/container/cache"), "a healthy container with 2 restarts: nothing");
	for (size_t i = 0; i < fs.nr; i++)
		if (!strcmp(fs.v[i].service, "migrate") || !strcmp(fs.v[i].service, "done") ||
		    !strcmp(fs.v[i].service, "fresh") || !strcmp(fs.v[i].service, "held") ||
		    !strcmp(fs.v[i].service, "cache"))
			ok(0, "no finding for %s", fs.v[i].fingerprint);

	/* What the Engine was asked. */
	list = fake_requests(&docker, mark, "GET", "^/v1\\.47/containers/json$");
	is_int(cJSON_GetArraySize(list), 1, "one list request");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 0), "query")),
	       "all=true", "with all=true, so stopped containers are listed");
	is_str(fake_header(cJSON_GetArrayItem(list, 0), "accept"), "application/json",
	       "asking for JSON");
	cJSON_Delete(list);
	is_int(fake_count(&docker, mark, "GET", "^/_ping$"), 1,
	       "one GET /_ping, unversioned, agrees on the version");
	is_int(fake_count(&docker, mark, NULL, NULL), 1 + 1 + 6,
	       "one ping, one list and six inspections in all");
	is_int(inspections(mark, "1") + inspections(mark, "2") + inspections(mark, "3") +
	       inspections(mark, "4") + inspections(mark, "5") + inspections(mark, "6"), 6,
	       "each exited, unhealthy, restarting and running container inspected once");
	is_int(inspections(mark, "7"), 0, "exited with code 0: not inspected");
	is_int(inspections(mark, "8"), 0, "created: not inspected");
	is_int(inspections(mark, "9"), 0, "ignored: not inspected");
	is_int(inspections(mark, "a"), 0, "paused: not inspected");
}

static void test_ignore(void)
{
	set_containers(HOST_DATA);
	set_config_fake("");
	collect();
	if (!ok(find("docker/migrate/exited/container/migrate"), "without docker.ignore, migrate exited is found"))
		show_findings();
	set_config_fake("\tignore = done, migrate\n\tignore = shop-checkout-*\n");
	is_int(collect(), 0, "with docker.ignore: 0");
	ok(!find("docker/migrate/exited/container/migrate"), "docker.ignore migrate: skipped");
	ok(!find("docker/checkout/exited/container/shop-checkout-1") &&
	   !find("docker/checkout/oomkilled/container/shop-checkout-1"),
	   "a second docker.ignore line, a pattern: skipped too");
	ok(find("docker/batch/exited/container/batch"), "others still found");
	is_int(fs.nr, 4, "four findings left");
}

static void test_max_restarts(void)
{
	set_containers(HOST_DATA);
	set_config_fake("[scout]\n\tmax-restarts = 9\n");
	is_int(collect(), 0, "scout.max-restarts = 9: 0");
	ok(!find("docker/api/restarting/container/api"), "9 restarts is not above 9");
	ok(find("docker/worker/restarting/container/worker"), "a container restarting now still is");
	set_config_fake("[scout]\n\tmax-restarts = 1\n");
	collect();
	ok(find("docker/cache/restarting/container/cache"), "scout.max-restarts = 1: 2 restarts is above");
	set_config_fake("[scout]\n\tmax-restarts = lots\n");
	is_int(collect(), -1, "a bad scout.max-restarts: -1");
	is_str(err.buf, "docker: bad numeric value 'lots' for scout.max-restarts", "naming it");
	is_int(fs.nr, 0, "and no findings");
}

static void test_healthy(void)
{
	int mark;

	set_containers("[{\"name\": \"web\", \"health\": \"healthy\"}, {\"name\": \"db\"},"
		       " {\"name\": \"warming\", \"health\": \"starting\"},"
		       " {\"name\": \"once\", \"state\": \"exited\", \"exit_code\": 0}]");
	set_config_fake(NULL);
	mark = fake_log_mark(&docker);
	is_int(collect(), 0, "a healthy host: 0");
	if (!is_int(fs.nr, 0, "healthy containers give no finding"))
		show_findings();
	is_int(fake_count(&docker, mark, "GET", "/json$"), 4, "one list, three running inspected");
	set_containers("[]");
	is_int(collect(), 0, "no containers at all: 0");
	is_int(fs.nr, 0, "and nothing found");
}

static void test_severity(void)
{
	struct finding *f;

	/* OOMKilled is set when any process of the container was killed for
	 * memory; the main one exiting 1 is not the OOM kill's 137. */
	set_containers("[{\"name\": \"child-oom\", \"state\": \"exited\", \"exit_code\": 1,"
		       " \"oom_killed\": true},"
		       " {\"name\": \"killed\", \"state\": \"exited\", \"exit_code\": 137},"
		       " {\"name\": \"again\", \"state\": \"running\", \"oom_killed\": true,"
		       "  \"restart_count\": 1}]");
	set_config_fake(NULL);
	is_int(collect(), 0, "exits: 0");
	/* dockerd 20.10 keeps OOMKilled from the last exit while it runs again. */
	ok(!find("docker/again/oomkilled/container/again"),
	   "running again with the last exit's OOMKilled: no oomkilled");
	f = find("docker/child-oom/exited/container/child-oom");
	is_int(f ? (int)f->severity : -1, SEVERITY_MEDIUM, "OOMKilled with exit code 1: exited is medium");
	is_str(f ? f->summary : NULL, "container child-oom exited with code 1 (OOMKilled)",
	       "... its summary says OOMKilled");
	ok(find("docker/child-oom/oomkilled/container/child-oom"), "... and oomkilled is found");
	f = find("docker/killed/exited/container/killed");
	is_int(f ? (int)f->severity : -1, SEVERITY_MEDIUM, "137 without OOMKilled (docker kill): medium");
	ok(!find("docker/killed/oomkilled/container/killed"), "... and no oomkilled");
	is_int(fs.nr, 3, "three findings");
}

static void test_health_output(void)
{
	struct strbuf longer = STRBUF_INIT;
	char *data;
	struct finding *f;

	strbuf_addstr(&longer, "error: ");
	strbuf_addchars(&longer, 'x', 300);
	data = xstrfmt("[{\"name\": \"long\", \"health\": \"unhealthy\", \"health_output\": \"%s\"},"
		       " {\"name\": \"quiet\", \"health\": \"unhealthy\", \"failing_streak\": 7,"
		       " \"health_output\": \" \\n\\t\\n\"}]", longer.buf);
	set_containers(data);
	set_config_fake(NULL);
	is_int(collect(), 0, "unhealthy containers: 0");
	f = find("docker/long/unhealthy/container/long");
	ok(f && f->summary && strlen(f->summary) == strlen("container long is unhealthy: ") + 200 + 3,
	   "a long output is cut at 200 bytes");
	ok(f && f->summary && ends_with(f->summary, "xxx..."), "... and marked with ...");
	f = find("docker/quiet/unhealthy/container/quiet");
	is_str(f ? f->summary : NULL, "container quiet is unhealthy (7 failed checks in a row)",
	       "a blank output: the failing streak instead");
	free(data);
	strbuf_release(&longer);
}

static void test_api_version(void)
{
	int mark = fake_log_mark(&docker);
	char *want;

	set_containers("[{\"name\": \"batch\", \"state\": \"exited\", \"exit_code\": 3}]");
	set_config_fake("\tapi-version = 1.44\n");
	is_int(collect(), 0, "docker.api-version = 1.44: 0");
	is_int(fake_count(&docker, mark, "GET", "^/v1\\.44/containers/json$"), 1,
	       "the list asked under /v1.44");
	is_int(fake_count(&docker, mark, "GET", "^/v1\\.44/containers/[0-9a-f]{64}/json$"), 1,
	       "the inspection too");
	is_int(fs.nr, 1, "and the finding made");
	is_int(fake_count(&docker, mark, "GET", "_ping$"), 0, "a pinned version asks no /_ping");

	set_config_fake("\tapi-version = 1.99\n");
	is_int(collect(), -1, "a version the Engine does not speak: -1");
	want = xstrfmt("docker: unix://%s: HTTP 400: client version 1.99 is too new."
		       " Maximum supported API version is 1.47", sock);
	is_str(err.buf, want, "the Engine's own message");
	free(want);
}

static void test_errors(void)
{
	char *missing = tmp_path("nope.sock"), *refused = tmp_path("refused.sock");
	char *text, *want;
	struct sockaddr_un sa;
	int fd;

	/* A socket file nobody accepts on: bound, never listening. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, refused, strlen(refused) + 1);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		perror("bind");

	text = xstrfmt("[docker]\n\thost = unix://%s\n", missing);
	set_config(text);
	free(text);
	is_int(collect(), -1, "a missing socket: -1");
	want = xstrfmt("docker: unix://%s: No such file or directory", missing);
	is_str(err.buf, want, "one line naming the host and why");
	free(want);
	is_int(fs.nr, 0, "no findings");

	text = xstrfmt("[docker]\n\thost = unix://%s\n", refused);
	set_config(text);
	free(text);
	is_int(collect(), -1, "a socket nobody listens on: -1");
	want = xstrfmt("docker: unix://%s: Connection refused", refused);
	is_str(err.buf, want, "one line: Connection refused");
	free(want);

	set_config("[docker]\n\thost = tcp://127.0.0.1:1\n");
	is_int(collect(), -1, "tcp:// with nothing listening: -1");
	like(err.buf, "docker: tcp://127.0.0.1:1: ", "names the tcp host");
	ok(!strchr(err.buf, '\n'), "in one line");

	set_config("[docker]\n\thost = ssh://me@host\n");
	is_int(collect(), -1, "ssh:// is not spoken: -1");
	is_str(err.buf, "docker: docker.host 'ssh://me@host' is not unix:///path or tcp://host:port",
	       "saying what is");
	set_config("[docker]\n\thost = unix://\n");
	is_int(collect(), -1, "unix:// without a path: -1");
	set_config("[docker]\n\thost = tcp://host:2375/v1\n");
	is_int(collect(), -1, "tcp:// with a path: -1");
	is_str(err.buf, "docker: docker.host 'tcp://host:2375/v1' is not tcp://host:port",
	       "saying what it wants");
	set_config("[docker]\n\thost = tcp:///\n");
	is_int(collect(), -1, "tcp:// without a host: -1");
	set_config("[docker]\n\thost = tcp://127.0.0.1\n");
	is_int(collect(), -1, "tcp:// without a port, nothing listening: -1");
	like(err.buf, "port 2375", "dockerd's port 2375 is the default");
	set_config_fake("\tapi-version = latest\n");
	is_int(collect(), -1, "a bad docker.api-version: -1");
	is_str(err.buf, "docker: bad docker.api-version 'latest': want a version such as 1.47",
	       "naming it");

	close(fd);
	free(missing);
	free(refused);
}

static void test_engine_failures(void)
{
	int mark;
	char *want;

	set_containers(HOST_DATA);
	set_config_fake("\tignore = migrate\n");
	queue_failure("{\"path\": \"/containers/json$\", \"status\": 500,"
		      " \"body\": {\"message\": \"Internal Server Error: database is locked\"}}");
	is_int(collect(), -1, "a 500 from the Engine on the list: -1");
	want = xstrfmt("docker: unix://%s: HTTP 500: Internal Server Error: database is locked", sock);
	is_str(err.buf, want, "one line with the Engine's message");
	free(want);
	is_int(fs.nr, 0, "no findings");

	/* One inspection failing: nothing is appended, lest the containers
	 * left unjudged look healthy. */
	mark = fake_log_mark(&docker);
	queue_failure("{\"path\": \"/containers/2{64}/json$\", \"status\": 500,"
		      " \"body\": {\"message\": \"container batch is being removed\"}}");
	findings_clear(&fs);
	strbuf_reset(&err);
	finding_add(&fs, "http", "web", "web", "status"); /* another source's, already there */
	is_int(docker_collect(&cfg, &http, &fs, &err), -1, "a 500 on one inspection: -1");
	want = xstrfmt("docker: unix://%s: inspecting batch: HTTP 500: container batch is being removed",
		       sock);
	is_str(err.buf, want, "naming the container");
	free(want);
	is_int(fs.nr, 1, "and nothing appended to what was there");
	is_int(fake_count(&docker, mark, "GET", "/containers/[0-9a-f]{64}/json$"), 6,
	       "though every inspection was made, at once");

	/* An inspection that answers something else than a container. */
	queue_failure("{\"path\": \"/containers/4{64}/json$\", \"status\": 200,"
		      " \"body\": {\"message\": \"page not found\"}}");
	findings_clear(&fs);
	strbuf_reset(&err);
	finding_add(&fs, "http", "web", "web", "status");
	is_int(docker_collect(&cfg, &http, &fs, &err), -1, "an inspection that is no container: -1");
	want = xstrfmt("docker: unix://%s: inspecting worker: the answer is not a container", sock);
	is_str(err.buf, want, "naming the container");
	free(want);
	is_int(fs.nr, 1, "and nothing appended, though other containers were judged");

	/* Removed between the list and its inspection: simply gone. */
	queue_failure("{\"path\": \"/containers/2{64}/json$\", \"status\": 404,"
		      " \"body\": {\"message\": \"No such container: " ID("2") "\"}}");
	is_int(collect(), 0, "a 404 on one inspection: 0");
	ok(!find("docker/batch/exited/container/batch"), "that container gives nothing");
	is_int(fs.nr, 5, "the others their findings");

	/* A transient 500 is retried by the HTTP layer. */
	http.retries = 1;
	http.retry_base_ms = 10;
	mark = fake_log_mark(&docker);
	queue_failure("{\"path\": \"/containers/json$\", \"status\": 500,"
		      " \"body\": {\"message\": \"try again\"}}");
	is_int(collect(), 0, "a 500 once, with http.retries 1: 0");
	is_int(fake_count(&docker, mark, "GET", "/containers/json$"), 2, "the list asked twice");
	is_int(fs.nr, 6, "and every finding made");
	http.retries = 0;

	/* The answer is not a list. */
	queue_failure("{\"path\": \"/containers/json$\", \"status\": 200, \"body\": {\"message\": \"?\"}}");
	is_int(collect(), -1, "a 200 that is no list: -1");
	want = xstrfmt("docker: unix://%s: the container list is not a JSON array", sock);
	is_str(err.buf, want, "saying so");
	free(want);
}

static void test_proxy_ignored(void)
{
	/* The socket is local whatever proxy the environment names. */
	set_containers(HOST_DATA);
	set_config_fake("\tignore = migrate\n");
	setenv("http_proxy", "http://127.0.0.1:1", 1);
	setenv("HTTP_PROXY", "http://127.0.0.1:1", 1);
	setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
	unsetenv("no_proxy");
	is_int(collect(), 0, "with http_proxy set: 0");
	is_int(fs.nr, 6, "all findings made over the socket");
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("ALL_PROXY");
}

/* An Engine older than sre (20.10 speaks 1.41): the lower version is used. */
static void test_negotiation(void)
{
	struct fake old;
	char *old_sock = tmp_path("docker/old.sock"), *text;
	int mark;

	/* /_ping failing keeps sre's own version, as the docker CLI does. */
	set_containers("[{\"name\": \"batch\", \"state\": \"exited\", \"exit_code\": 3}]");
	set_config_fake(NULL);
	queue_failure("{\"method\": \"GET\", \"path\": \"^/_ping$\", \"status\": 500,"
		      " \"body\": {\"message\": \"ping failed\"}, \"times\": 1}");
	mark = fake_log_mark(&docker);
	is_int(collect(), 0, "a /_ping that fails: 0");
	is_int(fake_count(&docker, mark, "GET", "^/v1\\.47/containers/json$"), 1,
	       "sre's own version used");
	is_int(fs.nr, 1, "and the finding made");

	if (fake_start(&old, "docker", "docker-1.41", "--socket", old_sock,
		       "--max-api-version", "1.41", NULL) < 0) {
		ok(0, "the fake Engine at API 1.41 starts");
		free(old_sock);
		return;
	}
	text = xstrfmt("[docker]\n\thost = unix://%s\n", old_sock);
	set_config(text);
	mark = fake_log_mark(&old);
	is_int(collect(), 0, "an Engine at API 1.41: 0");
	is_str(err.buf, "", "no error");
	is_int(fake_count(&old, mark, "GET", "^/_ping$"), 1, "asked once, unversioned");
	is_int(fake_count(&old, mark, "GET", "^/v1\\.41/containers/json$"), 1,
	       "the list asked under /v1.41, the Engine's version");
	is_int(fake_count(&old, mark, "GET", "^/v1\\.47/"), 0, "nothing under sre's own");
	fake_stop(&old);
	free(text);
	free(old_sock);
}

int main(void)
{
	char *data;

	if (!fake_begin())
		return 0;
	if (test_begin("docker") < 0)
		return 1;
	http_client_init(&http, NULL);
	http.retries = 0;
	sock = tmp_path("docker/docker.sock");
	data = write_file("data.json", HOST_DATA);

	test_configured();
	test_default_host();
	if (fake_start(&docker, "docker", "docker", "--socket", sock, "--data", data, NULL) < 0) {
		ok(0, "the fake Docker Engine starts");
	} else {
		test_signals();
		test_ignore();
		test_max_restarts();
		test_healthy();
		test_severity();
		test_health_output();
		test_api_version();
		test_negotiation();
		test_engine_failures();
		test_proxy_ignored();
		test_errors();
	}
	fake_stop(&docker);
	findings_clear(&fs);
	strbuf_release(&err);
	config_clear(&cfg);
	http_client_release(&http);
	free(sock);
	free(data);
	return test_end();
}
