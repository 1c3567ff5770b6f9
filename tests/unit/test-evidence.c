/*
 * test-evidence.c: unit tests of lib/evidence.c, the evidence of `sre
 * diagnose` in memory and as a bundle on disk, and of parse_rfc3339.
 * Prints TAP.
 *
 * A bundle is written, read back and compared; then the files a person
 * or a crash could leave behind (truncated JSON, the wrong kind of list,
 * a symbolic link, a log named to climb out of the directory) are read,
 * and the error the user would see is checked.
 */
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/evidence.h"
#include "../../lib/timeutil.h"
#include "test-lib.h"

static void put(const char *dir, const char *name, const char *text)
{
	char *path = xstrfmt("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror(path);
		abort();
	}
	close(fd);
	free(path);
}

static char *fresh_dir(const char *name)
{
	char *dir = tmp_path(name);

	if (mkdir(dir, 0700) < 0) {
		perror(dir);
		abort();
	}
	return dir;
}

/* Load dir, expecting failure; returns the captured message (valid until the next). */
static const char *load_fails(const char *dir, int *ret)
{
	struct evidence ev = EVIDENCE_INIT;

	capture_start();
	*ret = evidence_load(&ev, dir);
	evidence_release(&ev);
	return capture_end();
}

static void test_names(void)
{
	ok(evidence_name_ok("checkout-7d9c6b5f4-x2x9p.previous"), "a pod's previous log is a name");
	ok(evidence_name_ok("conversion_rate"), "underscores are fine");
	ok(!evidence_name_ok(""), "the empty name is not");
	ok(!evidence_name_ok("."), "'.' is not");
	ok(!evidence_name_ok(".."), "'..' is not");
	ok(!evidence_name_ok(".hidden"), "a hidden name is not");
	ok(!evidence_name_ok("../etc/passwd"), "a path climbing out is not");
	ok(!evidence_name_ok("a/b"), "a slash is not");
	ok(!evidence_name_ok("a b"), "a blank is not");
	ok(!evidence_name_ok("caf\xc3\xa9"), "non-ASCII is not");
	{
		char long_name[202];
		memset(long_name, 'a', 201);
		long_name[201] = '\0';
		ok(!evidence_name_ok(long_name), "201 bytes is too long");
		long_name[200] = '\0';
		ok(evidence_name_ok(long_name), "200 bytes is not");
	}
}

static void test_rfc3339(void)
{
	time_t t;

	ok(!parse_rfc3339("2026-11-24T03:00:00Z", &t) && t == 1795489200, "Z");
	ok(!parse_rfc3339("2026-11-24T03:00:00.123456789Z", &t) && t == 1795489200,
	   "fractional seconds");
	ok(!parse_rfc3339("2026-11-24T04:30:00+01:30", &t) && t == 1795489200, "an offset east");
	ok(!parse_rfc3339("2026-11-23T22:00:00-05:00", &t) && t == 1795489200, "an offset west");
	ok(parse_rfc3339("2026-11-24T03:00:00", &t) < 0, "no zone is refused");
	ok(parse_rfc3339("2026-11-24T03:00:00.Z", &t) < 0, "a dot without digits is refused");
	ok(parse_rfc3339("2026-11-24T03:00:00Zjunk", &t) < 0, "trailing text is refused");
	ok(parse_rfc3339("yesterday", &t) < 0, "words are refused");
}

static void test_round_trip(void)
{
	struct evidence ev = EVIDENCE_INIT, back = EVIDENCE_INIT;
	char *dir = tmp_path("saved"), *text;
	struct stat st;
	int r;

	ev.service = xstrdup("checkout");
	ev.now = 1795489500;
	ev.pods = cJSON_Parse("{\"kind\": \"PodList\", \"items\": [{\"metadata\": "
			      "{\"name\": \"checkout-1\", \"labels\": {\"app\": \"checkout\"}}}]}");
	ev.traces = cJSON_Parse("{\"data\": []}");
	ev.commits = cJSON_Parse("[{\"sha\": \"abc\", \"time\": \"2026-11-24T02:50:00Z\"}]");
	evidence_add_log(&ev, "kubernetes", "checkout-1.previous", "panic: x\n", 9);
	evidence_add_log(&ev, "kubernetes", "../escape", "never written\n", 14);
	evidence_add_prometheus(&ev, "error-rate", "sum(rate(x[5m]))",
				cJSON_Parse("{\"status\": \"success\", \"data\": {\"resultType\": "
					    "\"matrix\", \"result\": []}}"));
	evidence_add_source(&ev, "kubernetes", EVIDENCE_OK, NULL, 1795489500, 12);
	evidence_add_source(&ev, "jaeger", EVIDENCE_TIMEOUT, "jaeger: no answer", 1795489500, 2000);

	is_int(evidence_save(&ev, dir), 0, "a bundle is saved");
	ok(!stat(dir, &st) && (st.st_mode & 0777) == 0700, "its directory is 0700");
	text = xstrfmt("%s/kubernetes-pods.json", dir);
	ok(!stat(text, &st) && (st.st_mode & 0777) == 0600, "its files are 0600");
	free(text);
	text = xstrfmt("%s/logs/escape.log", dir);
	ok(access(text, F_OK) < 0, "a log whose name is no file name is not written");
	free(text);

	/* A trailing slash names the same directory. */
	text = xstrfmt("%s//", dir);
	is_int(evidence_load(&back, text), 0, "the bundle is read back");
	free(text);
	is_str(back.service, "checkout", "without incident.json, the service is the pods' app label");
	ok(back.now == 1795489500, "now is the latest read_at of sources.json");
	ok(back.pods && cJSON_GetArraySize(cJSON_GetObjectItem(back.pods, "items")) == 1,
	   "the PodList comes back");
	ok(back.traces != NULL && back.commits != NULL, "traces and commits come back");
	ok(back.events == NULL && back.docker == NULL, "absent files are no evidence");
	is_int(back.logs_nr, 1, "one log comes back");
	if (back.logs_nr)
		is_str(back.logs[0].text, "panic: x\n", "with its text");
	is_int(back.prometheus_nr, 1, "one Prometheus answer comes back");
	if (back.prometheus_nr)
		is_str(back.prometheus[0].name, "error-rate", "named by its check");
	is_int(back.sources_nr, 2, "both sources come back");
	if (back.sources_nr == 2)
		ok(back.sources[1].status == EVIDENCE_TIMEOUT &&
		   !strcmp(back.sources[1].error, "jaeger: no answer"), "with their status and error");

	capture_start();
	r = evidence_save(&ev, dir);
	like(capture_end(), "is not empty", "saving into a bundle already there is refused");
	is_int(r, -1, "and fails");

	evidence_release(&back);
	evidence_release(&ev);
	free(dir);
}

static void test_malformed(void)
{
	char *dir;
	const char *msg;
	int r;

	dir = fresh_dir("truncated");
	put(dir, "kubernetes-pods.json", "{\"kind\": \"PodList\", \"items\": [{\"metadata\": {");
	msg = load_fails(dir, &r);
	is_int(r, -1, "a truncated file is an error");
	like(msg, "kubernetes-pods.json: not valid JSON", "naming the file");
	like(msg, "truncated", "and saying it is truncated");
	free(dir);

	dir = fresh_dir("broken");
	put(dir, "host.json", "{\n  \"processes\": [\n    {\"pid\": 12,,}\n  ]\n}\n");
	msg = load_fails(dir, &r);
	like(msg, "host.json: not valid JSON: it breaks at line 3, column", "the place it breaks");
	free(dir);

	dir = fresh_dir("trailing");
	put(dir, "git-log.json", "[] []");
	msg = load_fails(dir, &r);
	like(msg, "text follows the document", "two documents in one file are an error");
	free(dir);

	dir = fresh_dir("kind");
	put(dir, "kubernetes-events.json", "{\"kind\": \"PodList\", \"items\": []}");
	msg = load_fails(dir, &r);
	like(msg, "kubernetes-events.json: expected a EventList, not a PodList", "the wrong kind of list");
	free(dir);

	dir = fresh_dir("items");
	put(dir, "kubernetes-deployments.json", "{\"kind\": \"DeploymentList\", \"items\": 3}");
	msg = load_fails(dir, &r);
	like(msg, "\"items\" of a DeploymentList must be an array", "items that are no array");
	free(dir);

	dir = fresh_dir("docker");
	put(dir, "docker-inspect.json", "[{\"Id\": \"a\"}, 7]");
	msg = load_fails(dir, &r);
	like(msg, "docker-inspect.json: expected an array of objects", "an inspect array of numbers");
	free(dir);

	dir = fresh_dir("prom");
	put(dir, "prometheus-errors.json", "{\"status\": \"success\", \"data\": {}}");
	msg = load_fails(dir, &r);
	like(msg, "prometheus-errors.json: expected Prometheus's query_range answer: no data.result",
	     "a success without a result");
	free(dir);

	dir = fresh_dir("sources");
	put(dir, "sources.json", "[{\"source\": \"git\", \"status\": \"fine\", \"read_at\": \"now\"}]");
	msg = load_fails(dir, &r);
	like(msg, "sources.json: each item needs", "a sources.json of the wrong shape");
	free(dir);

	dir = fresh_dir("link");
	put(dir, "real.json", "{\"kind\": \"PodList\", \"items\": []}");
	{
		char *link = xstrfmt("%s/kubernetes-pods.json", dir);
		if (symlink("real.json", link) < 0)
			perror(link);
		free(link);
	}
	msg = load_fails(dir, &r);
	is_int(r, -1, "a symbolic link in a bundle is not followed");
	like(msg, "kubernetes-pods.json", "and the error names it");
	free(dir);

	msg = load_fails("/nonexistent/bundle", &r);
	like(msg, "cannot read the evidence directory /nonexistent/bundle", "a missing directory");

	dir = fresh_dir("empty");
	{
		struct evidence ev = EVIDENCE_INIT;
		is_int(evidence_load(&ev, dir), 0, "an empty directory is no evidence, not an error");
		ok(ev.service == NULL && ev.pods == NULL && ev.logs_nr == 0, "and holds nothing");
		evidence_release(&ev);
	}
	free(dir);
}

static void test_merge(void)
{
	struct evidence ev = EVIDENCE_INIT, part = EVIDENCE_INIT;

	ev.pods = cJSON_Parse("{\"items\": []}");
	evidence_add_log(&ev, "docker", "a", "1", 1);
	part.docker = cJSON_Parse("[]");
	evidence_add_log(&part, "docker", "b", "2", 1);
	evidence_add_log(&part, "docker", "c", "3", 1);
	evidence_merge(&ev, &part);
	ok(ev.pods && ev.docker, "a part's evidence joins the whole's");
	is_int(ev.logs_nr, 3, "its logs are added after the whole's");
	ok(part.docker == NULL && part.logs_nr == 0, "and the part is left empty");
	evidence_merge(&ev, &part);
	is_int(ev.logs_nr, 3, "merging an empty part changes nothing");
	evidence_release(&part);
	evidence_release(&ev);
}

/* A log past 4 MiB keeps its end, starting at a whole character. */
static void test_long_log(void)
{
	struct evidence ev = EVIDENCE_INIT;
	size_t len = (4 << 20) + 2;
	char *text = xmalloc(len);

	/* 'x', "é" (C3 A9) throughout, 'z': the cut 4 MiB from the end falls inside an é. */
	text[0] = 'x';
	for (size_t i = 1; i + 1 < len; i += 2) {
		text[i] = (char)0xC3;
		text[i + 1] = (char)0xA9;
	}
	text[len - 1] = 'z';
	evidence_add_log(&ev, "host", "big", text, len);
	ok(ev.logs_nr == 1 && (unsigned char)ev.logs[0].text[0] == 0xC3,
	   "a long log is kept from a character's first byte");
	is_int((int)strlen(ev.logs[0].text), (4 << 20) - 1, "and it keeps its last whole characters");
	evidence_release(&ev);
	free(text);
}

/* The logs of other services on the call graph, and the baseline window, round-trip. */
static void test_graph(void)
{
	struct evidence ev = EVIDENCE_INIT, back = EVIDENCE_INIT;
	char *dir = tmp_path("graph"), *path;
	int r;

	ev.service = xstrdup("gateway");
	ev.traces = cJSON_Parse("{\"data\": []}");
	evidence_add_log(&ev, "kubernetes", "gateway-1", "own\n", 4);
	evidence_add_service_log(&ev, "orders", "kubernetes", "orders-7f-x1", "ERROR boom\n", 11);
	evidence_add_service_log(&ev, "..", "kubernetes", "orders-7f-x1", "climb\n", 6);
	ev.baseline = xcalloc(1, sizeof(*ev.baseline));
	ev.baseline->traces = cJSON_Parse("{\"data\": []}");
	evidence_add_service_log(ev.baseline, "orders", "kubernetes", "orders-7f-x1", "INFO ok\n", 8);

	is_int(evidence_save(&ev, dir), 0, "a bundle with a call graph and a baseline is saved");
	path = xstrfmt("%s/logs/orders/orders-7f-x1.log", dir);
	ok(!access(path, F_OK), "another service's log goes under logs/<service>/");
	free(path);
	path = xstrfmt("%s/baseline/logs/orders/orders-7f-x1.log", dir);
	ok(!access(path, F_OK), "the baseline's under baseline/");
	free(path);
	path = xstrfmt("%s/logs/climb.log", dir);
	ok(access(path, F_OK) < 0, "a service that is no file name writes nothing");
	free(path);

	is_int(evidence_load(&back, dir), 0, "it is read back");
	is_int(back.logs_nr, 2, "both logs of the incident window come back");
	if (back.logs_nr == 2) {
		ok(!back.logs[0].service && !strcmp(back.logs[0].text, "own\n"),
		   "the incident service's own log has no service");
		is_str(back.logs[1].service, "orders", "the other's names its service");
	}
	ok(back.baseline && back.baseline->traces, "the baseline's traces come back");
	ok(back.baseline && back.baseline->logs_nr == 1 &&
	   !strcmp(back.baseline->logs[0].text, "INFO ok\n"), "and its logs");
	ok(back.baseline && !back.baseline->baseline, "a baseline has no baseline");
	evidence_release(&back);

	/* A symbolic link under logs/ is not followed into another directory. */
	path = xstrfmt("%s/logs/elsewhere", dir);
	r = symlink("/etc", path);
	ok(!r, "a link is planted under logs/");
	free(path);
	is_int(evidence_load(&back, dir), 0, "the bundle still reads");
	is_int(back.logs_nr, 2, "and nothing through the link");
	evidence_release(&back);
	evidence_release(&ev);
	free(dir);
}

int main(void)
{
	if (test_begin("evidence") < 0)
		return 1;
	test_names();
	test_rfc3339();
	test_round_trip();
	test_malformed();
	test_merge();
	test_long_log();
	test_graph();
	return test_end();
}
