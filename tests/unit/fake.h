/*
 * fake.h: the unit tests' side of the fake servers in tests/fakes/
 * (github.py, jira.py, slack.py): start one as a child process on
 * 127.0.0.1, send it requests of the test's own, queue failures on it, and
 * read its request log, since what lib/ sent is as much the behaviour as
 * what it read back.
 *
 *   int main(void) {
 *       struct fake gh;
 *       int mark;
 *
 *       if (!fake_begin())                 (before test_begin())
 *           return 0;
 *       if (test_begin("github") < 0)
 *           return 1;
 *       if (fake_start(&gh, "github", "small", "--per-page", "2", NULL) < 0)
 *           ...
 *       mark = fake_log_mark(&gh);
 *       ... lib/ talks to gh.url ...
 *       is_int(fake_count(&gh, mark, "POST", "/issues$"), 1, "one POST");
 *       fake_stop(&gh);
 *       return test_end();
 *   }
 *
 * Every fake takes --port-file, --log and --lifetime (tests/fakes/
 * fakeserver.py): it writes its port to the port file once it listens,
 * appends every request but the /_fake/ ones to the log as one JSON line
 * {"method", "path", "query", "headers" (names lower-cased), "body"}, and
 * answers POST /_fake/fail (an answer queued for the next matching
 * requests) and GET /_fake/state.
 */
#ifndef SRE_FAKE_H
#define SRE_FAKE_H

#include <cJSON.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "../../lib/http.h"
#include "test-lib.h"

struct fake {
	pid_t pid;         /* 0 once stopped */
	char *url;         /* http://127.0.0.1:<port> */
	char *log;         /* the request log, one JSON object a line */
	char *name;        /* its scratch subdirectory, under tmpdir */
	const char *auth;  /* the Authorization header fake_call() sends, or NULL: the test's to set */
};

static char *fake_dir; /* where the fakes are, absolute: fake_begin() finds it */

static inline void fake_dir_free(void)
{
	free(fake_dir);
	fake_dir = NULL;
}

/* Is python3 on PATH (an empty entry being the current directory)? */
static inline int fake_have_python3(void)
{
	const char *path = getenv("PATH");
	int found = 0;

	while (path && *path && !found) {
		const char *end = strchrnul(path, ':');
		char *p = end > path ? xstrfmt("%.*s/python3", (int)(end - path), path)
				     : xstrdup("./python3");

		found = !access(p, X_OK);
		free(p);
		path = *end ? end + 1 : end;
	}
	return found;
}

/*
 * Call before test_begin(), which unsets SRE_TEST_DIR: find the fakes
 * ($SRE_TEST_DIR/fakes when set, else tests/fakes, made absolute from the
 * current directory). 1 when they can run; 0 after printing the plan that
 * skips the whole test, when there is no python3.
 */
static inline int fake_begin(void)
{
	const char *dir = getenv("SRE_TEST_DIR");
	char *cwd;

	if (!fake_have_python3()) {
		printf("1..0 # SKIP no python3\n");
		return 0;
	}
	fake_dir_free();
	fake_dir = dir ? xstrfmt("%s/fakes", dir) : xstrdup("tests/fakes");
	if (fake_dir[0] != '/' && (cwd = getcwd(NULL, 0))) {
		char *abs = xstrfmt("%s/%s", cwd, fake_dir);

		free(fake_dir);
		free(cwd);
		fake_dir = abs;
	}
	atexit(fake_dir_free);
	return 1;
}

/* Stop the fake if it runs and free what f holds; f is then all zero. */
static inline void fake_stop(struct fake *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		waitpid(f->pid, NULL, 0);
	}
	free(f->url);
	free(f->log);
	free(f->name);
	memset(f, 0, sizeof(*f));
}

/*
 * Start tests/fakes/<kind>.py with its files in the scratch subdirectory
 * name and the extra arguments that follow (NULL-terminated), and wait
 * (ten seconds at the most) until it listens. 0; or -1, with the fake's
 * own output shown and f stopped. The fake dies with this process, even
 * when a sanitizer aborts it, and after two minutes in any case.
 */
static inline int fake_start(struct fake *f, const char *kind, const char *name, ...)
{
	char *dir = tmp_path(name), *port_file = xstrfmt("%s/port", dir);
	char *out = xstrfmt("%s/server.out", dir);
	char *script = xstrfmt("%s/%s.py", fake_dir ? fake_dir : "(fake_begin() not called)", kind);
	struct strvec argv = STRVEC_INIT;
	struct strbuf port = STRBUF_INIT;
	pid_t parent = getpid();
	const char *arg;
	va_list ap;
	int ret = -1;

	memset(f, 0, sizeof(*f));
	f->name = xstrdup(name);
	f->log = xstrfmt("%s/requests.log", dir);
	mkdir(dir, 0700);
	/* The fake is reached directly, whatever proxy the environment names. */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("ALL_PROXY");
	unsetenv("all_proxy");
	setenv("no_proxy", "127.0.0.1", 1);
	strvec_pushl(&argv, "python3", script, "--port-file", port_file, "--log", f->log,
		     "--lifetime", "120", NULL);
	va_start(ap, name);
	while ((arg = va_arg(ap, const char *)))
		strvec_push(&argv, arg);
	va_end(ap);

	fflush(NULL);
	f->pid = fork();
	if (f->pid < 0)
		perror("fork");
	if (f->pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execvp("python3", (char *const *)argv.v);
		_exit(127);
	}
	/* The fake renames the port file into place: whatever is there is whole. */
	for (int i = 0; i < 400 && f->pid > 0; i++) {
		struct timespec ts = { 0, 25 * 1000 * 1000 };

		strbuf_reset(&port);
		if (strbuf_read_file(&port, port_file, 64) > 0 && strchr(port.buf, '\n')) {
			strbuf_trim(&port);
			f->url = xstrfmt("http://127.0.0.1:%s", port.buf);
			ret = 0;
			break;
		}
		if (waitpid(f->pid, NULL, WNOHANG) == f->pid)
			f->pid = 0;
		else
			nanosleep(&ts, NULL);
	}
	if (ret < 0) {
		printf("# the fake %s (%s) did not start\n", name, script);
		strbuf_reset(&port);
		if (strbuf_read_file(&port, out, 1 << 16) > 0)
			diag_text("fake", port.buf);
		fake_stop(f);
	}
	strbuf_release(&port);
	strvec_clear(&argv);
	free(script);
	free(out);
	free(port_file);
	free(dir);
	return ret;
}

/*
 * A request of the test's own to the fake: a control endpoint, or a change
 * made behind the client's back. Sent once, with f->auth if set, and
 * json_body (NULL: none) as application/json. Returns the status (0 when
 * no answer came); *out, if out is given, gets the answer parsed as JSON
 * or NULL, for the caller to delete.
 */
static inline long fake_call(const struct fake *f, const char *method, const char *path,
			     const char *json_body, cJSON **out)
{
	struct http_client client;
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	char *url = xstrfmt("%s%s", f->url, path);
	long status;

	http_client_init(&client, NULL);
	client.retries = 0;
	req.method = method;
	req.url = url;
	req.no_retry = 1;
	if (f->auth)
		strvec_pushf(&req.headers, "Authorization: %s", f->auth);
	if (json_body) {
		strvec_push(&req.headers, "Content-Type: application/json");
		req.body = json_body;
		req.body_len = strlen(json_body);
	}
	http_do(&client, &req, &res);
	status = res.status;
	if (out)
		*out = cJSON_ParseWithLength(res.body.buf, res.body.len);
	http_response_release(&res);
	http_request_release(&req);
	http_client_release(&client);
	free(url);
	return status;
}

/* Queue an answer for the next matching request(s): POST /_fake/fail. */
static inline void fake_fail(const struct fake *f, const char *json)
{
	long status = fake_call(f, "POST", "/_fake/fail", json, NULL);

	if (status < 200 || status > 299)
		printf("# /_fake/fail answered %ld to %s\n", status, json);
}

/* How many requests the fake has logged: a mark to read the log from. */
static inline int fake_log_mark(const struct fake *f)
{
	struct strbuf log = STRBUF_INIT;
	int n = 0;

	if (strbuf_read_file(&log, f->log, 0) >= 0)
		for (const char *p = log.buf; (p = strchr(p, '\n')); p++)
			n++;
	strbuf_release(&log);
	return n;
}

/*
 * The requests logged from the from-th on (0: all, or a fake_log_mark())
 * with this method (NULL: any) and a path that path_regex (extended; NULL:
 * any) matches, oldest first: a JSON array for the caller to delete.
 */
static inline cJSON *fake_requests(const struct fake *f, int from, const char *method,
				   const char *path_regex)
{
	struct strbuf log = STRBUF_INIT;
	cJSON *list = cJSON_CreateArray();
	const char *line, *eol;
	regex_t rx;
	int n = 0;

	if (path_regex && regcomp(&rx, path_regex, REG_EXTENDED | REG_NOSUB)) {
		printf("# bad regex %s\n", path_regex);
		return list;
	}
	if (strbuf_read_file(&log, f->log, 0) < 0)
		strbuf_reset(&log);
	for (line = log.buf; (eol = strchr(line, '\n')); line = eol + 1) {
		cJSON *r;
		const char *m, *path;

		if (n++ < from)
			continue;
		r = cJSON_ParseWithLength(line, (size_t)(eol - line));
		m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "method"));
		path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "path"));
		if (m && path && (!method || !strcmp(m, method)) &&
		    (!path_regex || !regexec(&rx, path, 0, NULL, 0)))
			cJSON_AddItemToArray(list, r);
		else
			cJSON_Delete(r);
	}
	if (path_regex)
		regfree(&rx);
	strbuf_release(&log);
	return list;
}

/* How many such requests (as fake_requests()) were logged. */
static inline int fake_count(const struct fake *f, int from, const char *method,
			     const char *path_regex)
{
	cJSON *list = fake_requests(f, from, method, path_regex);
	int n = cJSON_GetArraySize(list);

	cJSON_Delete(list);
	return n;
}

/* The first such request, or NULL; the caller deletes it. */
static inline cJSON *fake_first(const struct fake *f, int from, const char *method,
				const char *path_regex)
{
	cJSON *list = fake_requests(f, from, method, path_regex);
	cJSON *r = cJSON_DetachItemFromArray(list, 0);

	cJSON_Delete(list);
	return r;
}

/* The last such request, or NULL; the caller deletes it. */
static inline cJSON *fake_last(const struct fake *f, int from, const char *method,
			       const char *path_regex)
{
	cJSON *list = fake_requests(f, from, method, path_regex);
	cJSON *r = cJSON_DetachItemFromArray(list, cJSON_GetArraySize(list) - 1);

	cJSON_Delete(list);
	return r;
}

/* A logged request's header (name lower-case), or NULL. Borrowed from request. */
static inline const char *fake_header(const cJSON *request, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(request, "headers"), name));
}

/* A logged request's body parsed as JSON, or NULL; the caller deletes it. */
static inline cJSON *fake_body(const cJSON *request)
{
	const char *body = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(request, "body"));

	return body ? cJSON_Parse(body) : NULL;
}

/* The body of the last such request, parsed, or NULL; the caller deletes it. */
static inline cJSON *fake_last_body(const struct fake *f, int from, const char *method,
				    const char *path_regex)
{
	cJSON *r = fake_last(f, from, method, path_regex);
	cJSON *body = fake_body(r);

	cJSON_Delete(r);
	return body;
}

#endif
