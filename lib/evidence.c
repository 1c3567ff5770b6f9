/*
 * evidence.c: the evidence of `sre diagnose` in memory and its bundle on
 * disk (the layout is in evidence.h). Loading checks each file's shape and
 * names the file and the place where it is wrong; nothing from a bundle
 * becomes a path unless evidence_name_ok() passes it.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence.h"
#include "format.h"
#include "http.h"
#include "json.h"
#include "redact.h"
#include "timeutil.h"
#include "util.h"

#define LOG_MAX (4 << 20)        /* the most of one log kept, from its end */
#define FILE_MAX (256 << 20)     /* the largest bundle file read */

static void item_release(struct evidence_item *it)
{
	free(it->name);
	free(it->source);
	cJSON_Delete(it->json);
	free(it->text);
	free(it->query);
	free(it->service);
}

void evidence_release(struct evidence *ev)
{
	free(ev->service);
	cJSON_Delete(ev->incident);
	cJSON_Delete(ev->pods);
	cJSON_Delete(ev->events);
	cJSON_Delete(ev->deployments);
	cJSON_Delete(ev->replicasets);
	cJSON_Delete(ev->graph_replicasets);
	cJSON_Delete(ev->docker);
	cJSON_Delete(ev->traces);
	cJSON_Delete(ev->commits);
	cJSON_Delete(ev->host);
	cJSON_Delete(ev->past);
	for (size_t i = 0; i < ev->prometheus_nr; i++)
		item_release(&ev->prometheus[i]);
	free(ev->prometheus);
	for (size_t i = 0; i < ev->logs_nr; i++)
		item_release(&ev->logs[i]);
	free(ev->logs);
	for (size_t i = 0; i < ev->sources_nr; i++) {
		free(ev->sources[i].name);
		free(ev->sources[i].error);
	}
	free(ev->sources);
	if (ev->baseline) {
		evidence_release(ev->baseline);
		free(ev->baseline);
	}
	memset(ev, 0, sizeof(*ev));
}

void evidence_add_log(struct evidence *ev, const char *source, const char *name,
		      const char *text, size_t len)
{
	struct evidence_item *it;

	/* The end of a log is what matters: keep its last LOG_MAX bytes. */
	if (len > LOG_MAX) {
		text += len - LOG_MAX;
		len = LOG_MAX;
		/* Start at a character, not inside one (at most 3 bytes on). */
		for (int k = 0; k < 3 && len && ((unsigned char)*text & 0xC0) == 0x80; k++) {
			text++;
			len--;
		}
	}
	ALLOC_GROW(ev->logs, ev->logs_nr + 1, ev->logs_alloc);
	it = &ev->logs[ev->logs_nr++];
	memset(it, 0, sizeof(*it));
	it->name = xstrdup(name);
	it->source = xstrdup(source);
	it->text = xstrndup(text, len);
}

void evidence_add_service_log(struct evidence *ev, const char *service, const char *source,
			      const char *name, const char *text, size_t len)
{
	evidence_add_log(ev, source, name, text, len);
	ev->logs[ev->logs_nr - 1].service = xstrdup(service);
}

void evidence_add_prometheus(struct evidence *ev, const char *check, const char *query,
			     cJSON *answer)
{
	struct evidence_item *it;

	ALLOC_GROW(ev->prometheus, ev->prometheus_nr + 1, ev->prometheus_alloc);
	it = &ev->prometheus[ev->prometheus_nr++];
	memset(it, 0, sizeof(*it));
	it->name = xstrdup(check);
	it->source = xstrdup("prometheus");
	it->query = query ? xstrdup(query) : NULL;
	it->json = answer;
}

void evidence_add_source(struct evidence *ev, const char *name, enum evidence_status status,
			 const char *error, time_t read_at, int64_t elapsed_ms)
{
	struct evidence_source *s;

	ALLOC_GROW(ev->sources, ev->sources_nr + 1, ev->sources_alloc);
	s = &ev->sources[ev->sources_nr++];
	s->name = xstrdup(name);
	s->status = status;
	s->error = error ? xstrdup(error) : NULL;
	s->read_at = read_at;
	s->elapsed_ms = elapsed_ms;
}

int evidence_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > 200 || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (!isalnum(ch) && ch != '.' && ch != '_' && ch != '-')
			return 0;
	}
	return 1;
}

static void take_items(struct evidence_item **to, size_t *to_nr, size_t *to_alloc,
		       struct evidence_item **from, size_t *from_nr)
{
	if (!*from_nr)
		return;
	ALLOC_GROW(*to, *to_nr + *from_nr, *to_alloc);
	memcpy(*to + *to_nr, *from, *from_nr * sizeof(**from));
	*to_nr += *from_nr;
	free(*from);
	*from = NULL;
	*from_nr = 0;
}

/* ---- the bundle ---- */

/* The files that hold one JSON document each, and what each must be. */
enum shape { OBJECT, ARRAY, LIST, TRACES, PROM };

struct bundle_file {
	const char *file;
	size_t offset;        /* of its cJSON * in struct evidence */
	enum shape shape;
	const char *kind;     /* a List's kind */
};

#define MEMBER(m) offsetof(struct evidence, m)
static const struct bundle_file files[] = {
	{ "incident.json", MEMBER(incident), OBJECT, NULL },
	{ "kubernetes-pods.json", MEMBER(pods), LIST, "PodList" },
	{ "kubernetes-events.json", MEMBER(events), LIST, "EventList" },
	{ "kubernetes-deployments.json", MEMBER(deployments), LIST, "DeploymentList" },
	{ "kubernetes-replicasets.json", MEMBER(replicasets), LIST, "ReplicaSetList" },
	{ "kubernetes-graph-replicasets.json", MEMBER(graph_replicasets), LIST, "ReplicaSetList" },
	{ "docker-inspect.json", MEMBER(docker), ARRAY, NULL },
	{ "jaeger-traces.json", MEMBER(traces), TRACES, NULL },
	{ "git-log.json", MEMBER(commits), ARRAY, NULL },
	{ "host.json", MEMBER(host), OBJECT, NULL },
	{ "past-incidents.json", MEMBER(past), ARRAY, NULL },
};

static cJSON **member(struct evidence *ev, const struct bundle_file *f)
{
	return (cJSON **)((char *)ev + f->offset);
}

/* Present while a bundle is being written (evidence_save()). */
#define INCOMPLETE ".incomplete"

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t done = 0;

	if (fd < 0)
		return error_errno("cannot write %s", path);
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return error_errno("cannot write %s", path);
		}
		done += (size_t)n;
	}
	if (close(fd) < 0)
		return error_errno("cannot write %s", path);
	return 0;
}

static int write_json(const char *dir, const char *name, const cJSON *json)
{
	/* A bundle is handed around: what goes to disk is redacted (redact.h). */
	cJSON *clean = cJSON_Duplicate(json, 1);
	char *text, *path = xstrfmt("%s/%s", dir, name);
	int ret;

	redact_json(clean);
	text = cJSON_Print(clean);
	cJSON_Delete(clean);
	if (!text) {
		free(path);
		return error("cannot write %s/%s: out of memory", dir, name);
	}
	ret = write_file(path, text, strlen(text));
	free(text);
	free(path);
	return ret;
}

static int make_dir(const char *dir)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return error_errno("cannot create %s", dir);
	return 0;
}

/* A bundle goes into a new or empty directory, so no stale file mixes in. */
static int make_bundle_dir(const char *dir)
{
	DIR *d;
	struct dirent *de;
	int empty = 1;

	if (!mkdir(dir, 0700))
		return 0;
	if (errno != EEXIST)
		return error_errno("cannot create %s", dir);
	d = opendir(dir);
	if (!d)
		return error_errno("cannot write the evidence into %s", dir);
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	if (!empty)
		return error("%s is not empty; the evidence goes into a new or empty directory", dir);
	return 0;
}

/* dir without its trailing slashes; caller frees. */
static char *clean_dir(const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return xstrndup(dir, n);
}

static const char *status_name(enum evidence_status s)
{
	return s == EVIDENCE_OK ? "ok" : s == EVIDENCE_TIMEOUT ? "timeout" : "failed";
}

cJSON *evidence_sources_json(const struct evidence *ev)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < ev->sources_nr; i++) {
		const struct evidence_source *s = &ev->sources[i];
		cJSON *o = cJSON_CreateObject();
		char when[32];

		format_iso8601(when, sizeof(when), s->read_at);
		cJSON_AddStringToObject(o, "source", s->name);
		cJSON_AddStringToObject(o, "status", status_name(s->status));
		if (s->error)
			cJSON_AddStringToObject(o, "error", s->error);
		else
			cJSON_AddNullToObject(o, "error");
		cJSON_AddStringToObject(o, "read_at", when);
		cJSON_AddNumberToObject(o, "elapsed_ms", (double)s->elapsed_ms);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* Write the files of ev into dir, which exists: the bundle, or its baseline/. */
static int save_files(const struct evidence *ev, const char *dir)
{
	struct evidence *e = (struct evidence *)ev;
	char *logs = xstrfmt("%s/logs", dir);
	int ret = 0;

	for (size_t i = 0; i < ARRAY_SIZE(files) && !ret; i++) {
		cJSON *json = *member(e, &files[i]);
		if (json)
			ret = write_json(dir, files[i].file, json);
	}
	for (size_t i = 0; i < ev->prometheus_nr && !ret; i++) {
		char *name;
		if (!evidence_name_ok(ev->prometheus[i].name))
			continue;
		name = xstrfmt("prometheus-%s.json", ev->prometheus[i].name);
		ret = write_json(dir, name, ev->prometheus[i].json);
		free(name);
	}
	if (!ret)
		test_crash_point("evidence-writing");
	if (!ret && ev->sources_nr) {
		cJSON *s = evidence_sources_json(ev);
		ret = write_json(dir, "sources.json", s);
		cJSON_Delete(s);
	}
	if (!ret && ev->logs_nr)
		ret = make_dir(logs);
	for (size_t i = 0; i < ev->logs_nr && !ret; i++) {
		const struct evidence_item *it = &ev->logs[i];
		struct strbuf text = STRBUF_INIT;
		char *path;
		if (!evidence_name_ok(it->name) || (it->service && !evidence_name_ok(it->service)))
			continue;
		if (it->service) {
			path = xstrfmt("%s/%s", logs, it->service);
			ret = make_dir(path);
			free(path);
			if (ret)
				break;
			path = xstrfmt("%s/%s/%s.log", logs, it->service, it->name);
		} else {
			path = xstrfmt("%s/%s.log", logs, it->name);
		}
		redact_buf(&text, it->text, strlen(it->text));
		ret = write_file(path, text.buf, text.len);
		strbuf_release(&text);
		free(path);
	}
	free(logs);
	return ret;
}

int evidence_save(const struct evidence *ev, const char *where)
{
	char *dir = clean_dir(where), *incomplete;
	int ret;

	if (make_bundle_dir(dir) < 0) {
		free(dir);
		return -1;
	}
	/* Until the last file is written, the bundle says it is incomplete. */
	incomplete = xstrfmt("%s/%s", dir, INCOMPLETE);
	ret = write_file(incomplete, "", 0);
	if (!ret)
		ret = save_files(ev, dir);
	if (!ret && ev->baseline) {
		char *base = xstrfmt("%s/baseline", dir);
		ret = make_dir(base);
		if (!ret)
			ret = save_files(ev->baseline, base);
		free(base);
	}
	if (!ret && unlink(incomplete) < 0)
		ret = error_errno("cannot finish the bundle %s", dir);
	free(incomplete);
	free(dir);
	return ret;
}

/*
 * Read a regular file of the bundle (never through a symbolic link) into
 * sb. 0, 1 when it does not exist, -1 after an error. The open never
 * blocks, so a FIFO in its place is refused rather than waited on.
 */
static int read_bundle_file(struct strbuf *sb, const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	long n;

	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		return error_errno("cannot read %s", path);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return error("%s: not a regular file", path);
	}
	n = strbuf_read_fd(sb, fd, FILE_MAX);
	close(fd);
	if (n < 0)
		return error("%s: cannot read it, or it is larger than %d MiB", path, FILE_MAX >> 20);
	return 0;
}

/* Where parsing stopped, as "line L, column C", or "the end (truncated)". */
static void where_parse_failed(struct strbuf *out, const char *text, size_t len, const char *at)
{
	size_t line = 1, col = 1;

	if (!at || at < text || at > text + len) {
		strbuf_addstr(out, "an unknown place");
		return;
	}
	while (at < text + len && isspace((unsigned char)*at))
		at++;
	if (at >= text + len) {
		strbuf_addstr(out, "the end: the file is truncated");
		return;
	}
	for (const char *p = text; p < at; p++) {
		if (*p == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	strbuf_addf(out, "line %zu, column %zu", line, col);
}

static cJSON *parse_json(const char *path, const struct strbuf *sb)
{
	const char *end = NULL;
	cJSON *json = cJSON_ParseWithLengthOpts(sb->buf, sb->len, &end, 0);

	if (!json) {
		struct strbuf where = STRBUF_INIT;
		where_parse_failed(&where, sb->buf, sb->len, cJSON_GetErrorPtr());
		error("%s: not valid JSON: it breaks at %s", path, where.buf);
		strbuf_release(&where);
		return NULL;
	}
	while (end && end < sb->buf + sb->len && isspace((unsigned char)*end))
		end++;
	if (end && end < sb->buf + sb->len) {
		cJSON_Delete(json);
		error("%s: not valid JSON: text follows the document", path);
		return NULL;
	}
	return json;
}

static int check_shape(const char *path, const cJSON *json, enum shape shape, const char *kind)
{
	const cJSON *v;

	switch (shape) {
	case OBJECT:
		if (!cJSON_IsObject(json))
			return error("%s: expected a JSON object", path);
		return 0;
	case ARRAY:
		if (!cJSON_IsArray(json))
			return error("%s: expected a JSON array", path);
		cJSON_ArrayForEach(v, json)
			if (!cJSON_IsObject(v))
				return error("%s: expected an array of objects", path);
		return 0;
	case LIST:
		if (!cJSON_IsObject(json))
			return error("%s: expected a Kubernetes %s object", path, kind);
		v = json_get(json, "kind");
		if (v && (!cJSON_IsString(v) || strcmp(v->valuestring, kind)))
			return error("%s: expected a %s, not a %s", path, kind,
				     cJSON_IsString(v) ? v->valuestring : "kind that is no string");
		v = json_get(json, "items");
		if (!cJSON_IsArray(v) && !cJSON_IsNull(v) && v)
			return error("%s: \"items\" of a %s must be an array", path, kind);
		return 0;
	case TRACES:
		if (cJSON_IsArray(json))
			v = json;
		else if (cJSON_IsObject(json))
			v = json_get(json, "data");
		else
			return error("%s: expected Jaeger's {\"data\": [traces]} answer", path);
		if (!cJSON_IsArray(v) && !cJSON_IsNull(v))
			return error("%s: expected Jaeger's {\"data\": [traces]} answer: \"data\" is not an array", path);
		if (v) {
			const cJSON *t;
			cJSON_ArrayForEach(t, v)
				if (!cJSON_IsObject(t))
					return error("%s: expected Jaeger's traces: an item of \"data\" is not an object", path);
		}
		return 0;
	case PROM:
		if (!cJSON_IsObject(json))
			return error("%s: expected Prometheus's query_range answer", path);
		v = json_get(json, "status");
		if (!cJSON_IsString(v))
			return error("%s: expected Prometheus's query_range answer: no \"status\"", path);
		v = json_get(json, "data");
		if (!strcmp(json_get(json, "status")->valuestring, "success") &&
		    (!cJSON_IsObject(v) || !cJSON_IsArray(json_get(v, "result"))))
			return error("%s: expected Prometheus's query_range answer: no data.result array", path);
		return 0;
	}
	return 0;
}

/* Read one JSON file of the bundle into *out: 0 (also when absent), -1. */
static int load_json(cJSON **out, const char *dir, const char *name, enum shape shape,
		     const char *kind)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = xstrfmt("%s/%s", dir, name);
	int r = read_bundle_file(&sb, path);
	cJSON *json;

	*out = NULL;
	if (r) {
		strbuf_release(&sb);
		free(path);
		return r > 0 ? 0 : -1;
	}
	json = parse_json(path, &sb);
	strbuf_release(&sb);
	if (!json || check_shape(path, json, shape, kind) < 0) {
		cJSON_Delete(json);
		free(path);
		return -1;
	}
	free(path);
	*out = json;
	return 0;
}

static int parse_status(const char *s, enum evidence_status *out)
{
	if (!strcmp(s, "ok"))
		*out = EVIDENCE_OK;
	else if (!strcmp(s, "failed"))
		*out = EVIDENCE_FAILED;
	else if (!strcmp(s, "timeout"))
		*out = EVIDENCE_TIMEOUT;
	else
		return -1;
	return 0;
}

static int load_sources(struct evidence *ev, const char *dir)
{
	cJSON *arr, *o;
	int ret = 0;

	if (load_json(&arr, dir, "sources.json", ARRAY, NULL) < 0)
		return -1;
	cJSON_ArrayForEach(o, arr) {
		const cJSON *name = json_get(o, "source");
		const cJSON *status = json_get(o, "status");
		const cJSON *err = json_get(o, "error");
		const cJSON *at = json_get(o, "read_at");
		const cJSON *ms = json_get(o, "elapsed_ms");
		long long elapsed = 0;
		enum evidence_status st;
		time_t when;

		if (!cJSON_IsString(name) || !cJSON_IsString(status) ||
		    parse_status(status->valuestring, &st) < 0 ||
		    !cJSON_IsString(at) || parse_rfc3339(at->valuestring, &when) < 0) {
			ret = error("%s/sources.json: each item needs \"source\", \"status\" (ok, failed "
				    "or timeout) and \"read_at\" (an RFC 3339 time)", dir);
			break;
		}
		evidence_add_source(ev, name->valuestring, st,
				    cJSON_IsString(err) ? err->valuestring : NULL, when,
				    json_to_ll(ms, 0, JSON_INT_MAX, &elapsed) < 0 ? 0 : elapsed);
		if (when > ev->now)
			ev->now = when;
	}
	cJSON_Delete(arr);
	return ret;
}

static int compare_items(const void *a, const void *b)
{
	const struct evidence_item *x = a, *y = b;
	int c = strcmp(x->service ? x->service : "", y->service ? y->service : "");

	return c ? c : strcmp(x->name, y->name);
}

/*
 * The <name>.log files of dir, the logs of service (NULL: the incident's
 * own, and each subdirectory holds another service's). An absent dir is
 * no logs; a symbolic link is never followed.
 */
static int load_logs(struct evidence *ev, const char *dir, const char *service)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int ret = 0;

	while (d && !ret && (de = readdir(d))) {
		struct strbuf sb = STRBUF_INIT;
		char *name, *path;
		struct stat st;
		int r;

		if (!service && evidence_name_ok(de->d_name) && !ends_with(de->d_name, ".log")) {
			path = xstrfmt("%s/%s", dir, de->d_name);
			if (!lstat(path, &st) && S_ISDIR(st.st_mode))
				ret = load_logs(ev, path, de->d_name);
			free(path);
			continue;
		}
		if (!ends_with(de->d_name, ".log"))
			continue;
		name = xstrndup(de->d_name, strlen(de->d_name) - 4);
		if (!evidence_name_ok(name)) {
			free(name);
			continue;
		}
		path = xstrfmt("%s/%s", dir, de->d_name);
		r = read_bundle_file(&sb, path);
		if (r < 0)
			ret = -1;
		else if (!r && service)
			evidence_add_service_log(ev, service, "logs", name, sb.buf, sb.len);
		else if (!r)
			evidence_add_log(ev, "logs", name, sb.buf, sb.len);
		strbuf_release(&sb);
		free(path);
		free(name);
	}
	if (d)
		closedir(d);
	return ret;
}

/* The prometheus-<check>.json files and logs/, in name order. */
static int load_named(struct evidence *ev, const char *dir)
{
	char *logs = xstrfmt("%s/logs", dir);
	DIR *d = opendir(dir);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		free(logs);
		return error_errno("cannot read the evidence directory %s", dir);
	}
	while (!ret && (de = readdir(d))) {
		const char *rest;
		cJSON *json;
		char *check;

		if (!skip_prefix(de->d_name, "prometheus-", &rest) || !ends_with(rest, ".json"))
			continue;
		check = xstrndup(rest, strlen(rest) - 5);
		if (evidence_name_ok(check)) {
			ret = load_json(&json, dir, de->d_name, PROM, NULL);
			if (!ret && json)
				evidence_add_prometheus(ev, check, NULL, json);
		}
		free(check);
	}
	closedir(d);
	if (!ret)
		ret = load_logs(ev, logs, NULL);
	free(logs);
	if (!ret && ev->prometheus_nr)
		qsort(ev->prometheus, ev->prometheus_nr, sizeof(*ev->prometheus), compare_items);
	if (!ret && ev->logs_nr)
		qsort(ev->logs, ev->logs_nr, sizeof(*ev->logs), compare_items);
	return ret;
}

static const char *string_at(const cJSON *obj, const char *const *path)
{
	for (; *path && obj; path++)
		obj = cJSON_IsArray(obj) ? cJSON_GetArrayItem(obj, 0) :
					   json_get(obj, *path);
	return cJSON_GetStringValue(obj);
}

/*
 * A bundle without its incident: the service is what the evidence is
 * about, the first pod's name label, container or process. Caller frees;
 * NULL when nothing says.
 */
static char *guess_service(const struct evidence *ev)
{
	static const char *const app_name[] = { "items", "0", "metadata", "labels",
						"app.kubernetes.io/name", NULL };
	static const char *const app[] = { "items", "0", "metadata", "labels", "app", NULL };
	static const char *const container[] = { "0", "Name", NULL };
	static const char *const process[] = { "processes", "0", "service", NULL };
	const char *s = string_at(ev->pods, app_name);

	if (!s)
		s = string_at(ev->pods, app);
	if (!s && (s = string_at(ev->docker, container)) && *s == '/')
		s++;
	if (!s)
		s = string_at(ev->host, process);
	return s ? xstrdup(s) : NULL;
}

static int load_dir(struct evidence *ev, const char *dir)
{
	int ret = 0;

	for (size_t i = 0; i < ARRAY_SIZE(files) && !ret; i++)
		ret = load_json(member(ev, &files[i]), dir, files[i].file, files[i].shape,
				files[i].kind);
	if (!ret)
		ret = load_sources(ev, dir);
	if (!ret)
		ret = load_named(ev, dir);
	return ret;
}

int evidence_load(struct evidence *ev, const char *where)
{
	char *dir = clean_dir(where);
	struct stat st;
	const cJSON *svc;
	int ret = 0;

	if (stat(dir, &st) < 0) {
		ret = error_errno("cannot read the evidence directory %s", dir);
	} else if (!S_ISDIR(st.st_mode)) {
		ret = error("%s is not a directory of evidence", dir);
	} else {
		char *marker = xstrfmt("%s/%s", dir, INCOMPLETE);
		if (!lstat(marker, &st))
			ret = error("%s is an incomplete evidence bundle: the run that wrote it stopped "
				    "before it finished; collect the evidence again", dir);
		free(marker);
	}
	if (!ret)
		ret = load_dir(ev, dir);
	if (!ret) {
		/* The baseline window, when the bundle has one. */
		char *base = xstrfmt("%s/baseline", dir);
		if (!lstat(base, &st) && S_ISDIR(st.st_mode)) {
			ev->baseline = xcalloc(1, sizeof(*ev->baseline));
			ret = load_dir(ev->baseline, base);
		}
		free(base);
	}
	free(dir);
	if (ret)
		return -1;
	svc = json_get(ev->incident, "service");
	if (cJSON_IsString(svc) && !ev->service)
		ev->service = xstrdup(svc->valuestring);
	if (!ev->service)
		ev->service = guess_service(ev);
	if (!ev->now) {
		const cJSON *at = json_get(ev->incident, "updated_at");
		if (!cJSON_IsString(at) || parse_rfc3339(at->valuestring, &ev->now) < 0)
			ev->now = sre_now();
	}
	return 0;
}

void evidence_merge(struct evidence *ev, struct evidence *part)
{
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		cJSON **to = member(ev, &files[i]), **from = member(part, &files[i]);
		if (*from) {
			cJSON_Delete(*to);
			*to = *from;
			*from = NULL;
		}
	}
	take_items(&ev->prometheus, &ev->prometheus_nr, &ev->prometheus_alloc,
		   &part->prometheus, &part->prometheus_nr);
	take_items(&ev->logs, &ev->logs_nr, &ev->logs_alloc, &part->logs, &part->logs_nr);
	if (part->baseline) {
		if (ev->baseline) {
			evidence_merge(ev->baseline, part->baseline);
			evidence_release(part->baseline);
			free(part->baseline);
		} else {
			ev->baseline = part->baseline;
		}
		part->baseline = NULL;
	}
}

void evidence_redact(struct evidence *ev)
{
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		redact_json(*member(ev, &files[i]));
	for (size_t i = 0; i < ev->prometheus_nr; i++)
		redact_json(ev->prometheus[i].json);
	for (size_t i = 0; i < ev->logs_nr; i++) {
		char *clean = redact_str(ev->logs[i].text);
		free(ev->logs[i].text);
		ev->logs[i].text = clean;
	}
	if (ev->baseline)
		evidence_redact(ev->baseline);
}
