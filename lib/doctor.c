/*
 * doctor.c: `sre doctor`'s engine (lib/doctor.h): every configured source
 * asked at once, under one deadline, through its own client.
 *
 * The shape is lib/collect.c's: what needs the configuration, the
 * environment or a *-command (tokens, kubeconfigs, webhooks) is read in
 * the calling thread, with each job's own HTTP client made there too
 * (http_client_init() is not thread-safe the first time); then each job
 * runs in its own thread and writes only to its own struct job; the rows
 * are filled after every thread is joined.
 */
#include <pthread.h>

#include <git2.h>

#include "doctor.h"
#include "alertmanager.h"
#include "redact.h"
#include "docker.h"
#include "http.h"
#include "jaeger.h"
#include "kubeconfig.h"
#include "kubernetes.h"
#include "notify.h"
#include "prometheus.h"
#include "scout.h"
#include "timeutil.h"
#include "tracker.h"
#include "util.h"

#define DOCTOR_TIMEOUT_MS 10000
#define DETAIL_MAX 200

static const char *const status_names[] = { "ok", "broken", "not configured" };

const char *doctor_status_name(enum doctor_status s)
{
	return (unsigned)s < ARRAY_SIZE(status_names) ? status_names[s] : "broken";
}

void doctor_report_release(struct doctor_report *r)
{
	for (size_t i = 0; i < r->nr; i++) {
		free(r->rows[i].name);
		free(r->rows[i].version);
		free(r->rows[i].detail);
		free(r->rows[i].config);
	}
	free(r->rows);
	memset(r, 0, sizeof(*r));
}

size_t doctor_broken(const struct doctor_report *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nr; i++)
		n += r->rows[i].status == DOCTOR_BROKEN;
	return n;
}

static struct doctor_row *add_row(struct doctor_report *r, const char *name,
				  enum doctor_status status, const char *detail, const char *config)
{
	struct doctor_row *row;

	ALLOC_GROW(r->rows, r->nr + 1, r->alloc);
	row = &r->rows[r->nr++];
	memset(row, 0, sizeof(*row));
	row->name = xstrdup(name);
	row->status = status;
	row->latency_ms = -1;
	row->detail = detail ? scout_one_line(detail, DETAIL_MAX) : xstrdup("");
	row->config = config ? xstrdup(config) : NULL;
	return row;
}

/* ---- the jobs ---- */

struct job;
typedef void (*job_fn)(struct job *j);

/* One source asked in its own thread; it writes only here. */
struct job {
	size_t row;                  /* its row in the report */
	job_fn fn;
	const struct config *cfg;
	const char *name;            /* a check's name; borrowed from names */
	struct http_client http;
	int64_t deadline_ms;
	/* what the calling thread read for it */
	struct tracker *tracker;
	struct prometheus_auth prom;
	struct kubeconfig kc;
	char *ns;
	struct docker_engine docker;
	struct strbuf secret;        /* the Slack webhook, wiped */
	char *path;                  /* core.repo */
	/* what it found */
	enum doctor_status status;
	struct strbuf detail;
	char *version;
	int64_t latency_ms;
	pthread_t thread;
	int started;
};

static void job_done(struct job *j, enum doctor_status status, int64_t started, const char *fmt, ...)
	SRE_PRINTF(4, 5);

static void job_done(struct job *j, enum doctor_status status, int64_t started, const char *fmt, ...)
{
	va_list ap;

	j->status = status;
	j->latency_ms = started ? monotonic_ms() - started : -1;
	strbuf_reset(&j->detail);
	/* Cut off by the deadline, whatever curl called it: say so (as collect.c does). */
	if (status == DOCTOR_BROKEN && monotonic_ms() >= j->deadline_ms - 50)
		strbuf_addstr(&j->detail, "no answer within the deadline: ");
	va_start(ap, fmt);
	strbuf_vaddf(&j->detail, fmt, ap);
	va_end(ap);
	/*
	 * Whatever a server echoed back, no registered secret leaves here;
	 * nor a password written in a configured URL.
	 */
	http_redact(&j->http, &j->detail);
	redact_strbuf(&j->detail);
}

/* Why res is no answer: curl's error, or the status, for a detail line. */
static void why_not(struct strbuf *sb, const struct http_response *res)
{
	if (!res->status)
		strbuf_addstr(sb, res->error.len ? res->error.buf : "no answer");
	else
		strbuf_addf(sb, "HTTP %ld", res->status);
}

static void tracker_job(struct job *j)
{
	struct tracker *t = j->tracker;
	int64_t start = monotonic_ms();
	char *self = NULL;

	t->http.deadline_ms = j->deadline_ms;
	t->http.retries = 0;
	if (t->ops->whoami(t, &self) == 0) {
		job_done(j, DOCTOR_OK, start, "%s at %s: signed in as %s", t->ops->name,
			 t->server ? t->server : "?", self ? self : "?");
		free(self);
	} else {
		job_done(j, DOCTOR_BROKEN, start, "%s", t->error.len ? t->error.buf :
			 "the tracker did not say who the token is");
	}
	/* The tracker's own client knows its token; redact with it too. */
	http_redact(&t->http, &j->detail);
}

static void slack_job(struct job *j)
{
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	int64_t start = monotonic_ms();

	/* An empty message: a live hook says "no_text", and nothing is posted. */
	req.method = "POST";
	req.url = j->secret.buf;
	req.body = "{}";
	req.body_len = 2;
	strvec_push(&req.headers, "Content-Type: application/json");
	http_do(&j->http, &req, &res);
	strbuf_trim(&res.body);
	if (res.status == 400 && (!strcmp(res.body.buf, "no_text") ||
				  !strcmp(res.body.buf, "invalid_payload")))
		job_done(j, DOCTOR_OK, start, "the webhook is live (an empty test message, refused "
			 "as %s: nothing was posted)", res.body.buf);
	else if (res.status >= 200 && res.status < 300)
		job_done(j, DOCTOR_OK, start, "the webhook answers HTTP %ld", res.status);
	else {
		struct strbuf why = STRBUF_INIT;
		why_not(&why, &res);
		if (res.status && res.body.len)
			strbuf_addf(&why, " %.*s", (int)(res.body.len > 60 ? 60 : res.body.len),
				    res.body.buf);
		job_done(j, DOCTOR_BROKEN, start, "the webhook: %s", why.buf);
		strbuf_release(&why);
	}
	http_request_release(&req);
	http_response_release(&res);
}

/* GET url with Prometheus's authentication, into res. */
static void prometheus_get(struct job *j, const char *path, struct http_response *res)
{
	const char *base = config_get_string(j->cfg, "prometheus.url");
	struct http_request req = HTTP_REQUEST_INIT;
	size_t n = strlen(base);
	char *url;

	while (n && base[n - 1] == '/')
		n--;
	url = xstrfmt("%.*s%s", (int)n, base, path);
	req.method = "GET";
	req.url = url;
	strvec_push(&req.headers, "Accept: application/json");
	prometheus_auth_apply(&j->prom, &req);
	http_do(&j->http, &req, res);
	http_request_release(&req);
	free(url);
}

static void prometheus_job(struct job *j)
{
	struct http_response info = HTTP_RESPONSE_INIT, q = HTTP_RESPONSE_INIT;
	struct strbuf why = STRBUF_INIT;
	int64_t start = monotonic_ms();
	cJSON *answer;

	prometheus_get(j, "/api/v1/query?query=vector(1)", &q);
	answer = prometheus_api_answer(&q, &why);
	if (!answer || !prometheus_api_data(answer, &why)) {
		job_done(j, DOCTOR_BROKEN, start, "%s", why.len ? why.buf : "no answer");
	} else {
		int64_t took;
		job_done(j, DOCTOR_OK, start, "queries answered");
		took = j->latency_ms;
		/* The version, where it says it (Prometheus 2.14 and later). */
		prometheus_get(j, "/api/v1/status/buildinfo", &info);
		if (info.status == 200) {
			cJSON *b = cJSON_Parse(info.body.buf);
			const char *v = json_string(json_get(b, "data"), "version");
			if (v)
				j->version = scout_one_line(v, 40);
			cJSON_Delete(b);
		}
		j->latency_ms = took;
	}
	cJSON_Delete(answer);
	http_response_release(&info);
	http_response_release(&q);
	strbuf_release(&why);
}

static void alerts_job(struct job *j)
{
	struct http_response res = HTTP_RESPONSE_INIT;
	struct strbuf why = STRBUF_INIT;
	int64_t start = monotonic_ms();
	cJSON *answer;
	const cJSON *data;

	prometheus_get(j, "/api/v1/alerts", &res);
	answer = prometheus_api_answer(&res, &why);
	data = answer ? prometheus_api_data(answer, &why) : NULL;
	if (!data)
		job_done(j, DOCTOR_BROKEN, start, "Prometheus's alerts: %s", why.buf);
	else
		job_done(j, DOCTOR_OK, start, "read through Prometheus (scout.alerts): %d alerts",
			 cJSON_GetArraySize(json_get(data, "alerts")));
	cJSON_Delete(answer);
	http_response_release(&res);
	strbuf_release(&why);
}

static void jaeger_job(struct job *j)
{
	const char *base = config_get_string(j->cfg, "jaeger.url");
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct strbuf why = STRBUF_INIT;
	int64_t start = monotonic_ms();
	char *url = xstrfmt("%.*s/api/services", (int)(strlen(base) - (ends_with(base, "/") ? 1 : 0)),
			    base);
	cJSON *answer;

	req.method = "GET";
	req.url = url;
	strvec_push(&req.headers, "Accept: application/json");
	http_do(&j->http, &req, &res);
	answer = jaeger_api_answer(&res, &why);
	if (!answer)
		job_done(j, DOCTOR_BROKEN, start, "%s", why.len ? why.buf : "no answer");
	else
		job_done(j, DOCTOR_OK, start, "%d services traced",
			 cJSON_GetArraySize(json_get(answer, "data")));
	cJSON_Delete(answer);
	http_request_release(&req);
	http_response_release(&res);
	strbuf_release(&why);
	free(url);
}

static void alertmanager_job(struct job *j)
{
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct strbuf why = STRBUF_INIT;
	int64_t start = monotonic_ms();
	char *url = alertmanager_alerts_url(config_get_string(j->cfg, "alertmanager.url"));
	cJSON *answer, *alert;
	int paging = 0;

	req.method = "GET";
	req.url = url;
	strvec_push(&req.headers, "Accept: application/json");
	http_do(&j->http, &req, &res);
	answer = alertmanager_api_answer(&res, &why);
	if (!answer) {
		job_done(j, DOCTOR_BROKEN, start, "%s", why.len ? why.buf : "no answer");
	} else {
		cJSON_ArrayForEach(alert, answer)
			paging += alertmanager_alert_pages(alert);
		job_done(j, DOCTOR_OK, start, "the API answers: %d alert%s paging", paging,
			 paging == 1 ? "" : "s");
	}
	cJSON_Delete(answer);
	http_request_release(&req);
	http_response_release(&res);
	strbuf_release(&why);
	free(url);
}

static void kubernetes_job(struct job *j)
{
	struct http_batch b = HTTP_BATCH_INIT;
	int64_t start = monotonic_ms();
	char *message;

	kubeconfig_apply(&j->kc, http_batch_add(&b, kubernetes_namespace_url(&j->kc, "/api/v1", j->ns,
									     "pods?limit=1")));
	kubeconfig_apply(&j->kc, http_batch_add(&b, xstrfmt("%s/version", j->kc.server)));
	http_do_many(&j->http, b.req, b.res, b.nr, 0);
	if (b.res[0].status == 200) {
		cJSON *v = cJSON_Parse(b.res[1].body.buf);
		const char *git = b.res[1].status == 200 ? json_string(v, "gitVersion") : NULL;
		if (git)
			j->version = scout_one_line(git, 40);
		cJSON_Delete(v);
		job_done(j, DOCTOR_OK, start, "%s: may list the pods of %s", j->kc.server, j->ns);
	} else {
		struct strbuf why = STRBUF_INIT;
		why_not(&why, &b.res[0]);
		message = kubernetes_status_message(&b.res[0], KUBERNETES_MESSAGE_MAX);
		job_done(j, DOCTOR_BROKEN, start, "%s: the pods of %s: %s%s%s", j->kc.server, j->ns,
			 why.buf, message ? ": " : "", message ? message : "");
		free(message);
		strbuf_release(&why);
	}
	http_batch_release(&b);
}

static void docker_job(struct job *j)
{
	struct http_batch b = HTTP_BATCH_INIT;
	int64_t start = monotonic_ms();

	docker_engine_get(&b, &j->docker, xstrfmt("%s/_ping", j->docker.root));
	http_do_many(&j->http, b.req, b.res, b.nr, 0);
	if (b.res[0].status == 200) {
		const char *api = http_header(&b.res[0], "api-version");
		const char *server = http_header(&b.res[0], "server");
		if (api) {
			/* The server's word: one short line, no control characters. */
			char *v = scout_one_line(api, 20);
			j->version = xstrfmt("API %s", v);
			free(v);
		}
		job_done(j, DOCTOR_OK, start, "%s answers%s%s", j->docker.host ? j->docker.host :
			 "the local socket", server ? ": " : "", server ? server : "");
	} else {
		struct strbuf why = STRBUF_INIT;
		docker_engine_explain(&why, &j->docker, "_ping", &b.res[0]);
		job_done(j, DOCTOR_BROKEN, start, "%s", why.buf);
		strbuf_release(&why);
	}
	http_batch_release(&b);
}

static void repo_job(struct job *j)
{
	git_repository *repo = NULL;
	int64_t start = monotonic_ms();
	const git_error *e;

	if (git_libgit2_init() < 0 ||
	    git_repository_open_ext(&repo, j->path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		e = git_error_last();
		job_done(j, DOCTOR_BROKEN, start, "%s: %s", j->path,
			 e && e->message ? e->message : "not a git repository");
		return;
	}
	if (git_repository_head_unborn(repo) == 1)
		job_done(j, DOCTOR_BROKEN, start, "%s: a git repository without a commit", j->path);
	else
		job_done(j, DOCTOR_OK, start, "%s: a git repository", j->path);
	git_repository_free(repo);
}

/* A check: its URL, its query or its /metrics, asked as scout would. */
static void check_job(struct job *j)
{
	struct strbuf key = STRBUF_INIT, why = STRBUF_INIT;
	const char *url = config_get_string(j->cfg, config_key_of(&key, "check", j->name, "url"));
	const char *metrics = config_get_string(j->cfg, config_key_of(&key, "check", j->name, "metrics"));
	const char *query = config_get_string(j->cfg, config_key_of(&key, "check", j->name, "prometheus"));
	int64_t start = monotonic_ms();

	if (query && !url && !metrics) {
		struct strbuf path = STRBUF_INIT;
		struct http_response res = HTTP_RESPONSE_INIT;
		cJSON *answer;
		const cJSON *data;

		strbuf_addstr(&path, "/api/v1/query?query=");
		http_urlencode(&path, query);
		prometheus_get(j, path.buf, &res);
		answer = prometheus_api_answer(&res, &why);
		data = answer ? prometheus_api_data(answer, &why) : NULL;
		if (!data)
			job_done(j, DOCTOR_BROKEN, start, "its query: %s", why.buf);
		else
			job_done(j, DOCTOR_OK, start, "its query answers %d series",
				 cJSON_GetArraySize(json_get(data, "result")));
		cJSON_Delete(answer);
		http_response_release(&res);
		strbuf_release(&path);
	} else {
		struct http_request req = HTTP_REQUEST_INIT;
		struct http_response res = HTTP_RESPONSE_INIT;
		const char *method = config_get_string(j->cfg, config_key_of(&key, "check", j->name,
									      "method"));
		int64_t ms;

		req.method = url && method && *method ? method : "GET";
		req.url = url ? url : metrics;
		if (url && config_get_duration_ms(j->cfg, config_key_of(&key, "check", j->name, "timeout"),
						  &ms) == 0)
			req.timeout_ms = ms;
		http_do(&j->http, &req, &res);
		if (res.status)
			/* Whether the answer is healthy is scout's to judge, not doctor's. */
			job_done(j, DOCTOR_OK, start, "%s answers HTTP %ld", req.url, res.status);
		else {
			why_not(&why, &res);
			job_done(j, DOCTOR_BROKEN, start, "%s: %s", req.url, why.buf);
		}
		http_request_release(&req);
		http_response_release(&res);
	}
	strbuf_release(&key);
	strbuf_release(&why);
}

static void *run_job(void *arg)
{
	struct job *j = arg;

	j->fn(j);
	return NULL;
}

/* ---- what is configured, and what is read before the threads ---- */

struct plan {
	struct doctor_report *out;
	struct job **jobs;
	size_t nr, alloc;
	const struct config *cfg;
	int64_t deadline_ms;
	int ret;
};

/* A job for row, with its own client; NULL (the row broken) when the client cannot be made. */
static struct job *new_job(struct plan *p, const char *name, job_fn fn)
{
	struct job *j = xcalloc(1, sizeof(*j));

	add_row(p->out, name, DOCTOR_BROKEN, NULL, NULL);
	j->row = p->out->nr - 1;
	j->fn = fn;
	j->cfg = p->cfg;
	j->deadline_ms = p->deadline_ms;
	j->latency_ms = -1;
	strbuf_init(&j->detail, 0);
	strbuf_init(&j->secret, 0);
	if (http_client_init(&j->http, p->cfg) < 0) {
		http_client_release(&j->http);
		free(j);
		p->ret = -1;
		return NULL;
	}
	j->http.deadline_ms = p->deadline_ms;
	j->http.retries = 0;  /* how things are now: one try each */
	ALLOC_GROW(p->jobs, p->nr + 1, p->alloc);
	p->jobs[p->nr++] = j;
	return j;
}

/* The job could not start: its row says why. */
static void job_refused(struct job *j, const char *why)
{
	j->fn = NULL;
	j->status = DOCTOR_BROKEN;
	strbuf_addstr(&j->detail, why);
	http_redact(&j->http, &j->detail);
}

static void plan_store(struct plan *p, struct store *st, const char *db_path)
{
	struct incident_filter f = { 0, -1, NULL };
	struct incident *list = NULL;
	struct outbox_item *items = NULL;
	size_t n = 0, m = 0, failed = 0;
	struct strbuf sb = STRBUF_INIT;
	int64_t start = monotonic_ms();
	struct doctor_row *row;

	if (!st) {
		char *path = NULL;
		if (db_path)
			path = xstrdup(db_path);
		else if (config_get_path(p->cfg, "core.db", &path))
			path = store_default_path();
		strbuf_addf(&sb, "%s: not created yet; the first incident creates it",
			    path ? path : "core.db");
		free(path);
		add_row(p->out, "store", DOCTOR_OK, sb.buf, NULL);
		strbuf_release(&sb);
		return;
	}
	if (store_incident_list(st, &f, &list, &n) < 0 || store_outbox_list(st, 1, &items, &m) < 0) {
		add_row(p->out, "store", DOCTOR_BROKEN, "cannot be read (said above)", NULL);
		incident_list_free(list, n);
		return;
	}
	outbox_list_free(items, m);
	items = NULL;
	if (store_outbox_list(st, 0, &items, &failed) == 0) {
		size_t k = failed;
		failed = 0;
		for (size_t i = 0; i < k; i++)
			failed += items[i].status == OUTBOX_FAILED;
		outbox_list_free(items, k);
	}
	strbuf_addf(&sb, "%s: %zu open incident%s, %zu write%s queued", store_path(st), n,
		    n == 1 ? "" : "s", m, m == 1 ? "" : "s");
	if (failed)
		strbuf_addf(&sb, ", %zu refused for good (sre sync --status)", failed);
	row = add_row(p->out, "store", DOCTOR_OK, sb.buf, NULL);
	row->latency_ms = monotonic_ms() - start;
	incident_list_free(list, n);
	strbuf_release(&sb);
}

static void plan_tracker(struct plan *p)
{
	const char *kind = config_get_string(p->cfg, "tracker.kind");
	struct tracker *t = NULL;
	struct job *j;

	if (!kind || !*kind || !strcmp(kind, "local")) {
		add_row(p->out, "tracker", DOCTOR_NOT_CONFIGURED,
			"incidents stay in the local store",
			"[tracker]\n\tkind = github\n[github]\n\trepo = <owner>/<name>\n"
			"\ttoken-command = <a command that prints the token>");
		return;
	}
	if (!(j = new_job(p, "tracker", tracker_job)))
		return;
	if (tracker_open(&t, p->cfg) < 0 || !t) {
		job_refused(j, "the tracker cannot be opened (said above)");
		return;
	}
	j->tracker = t;
}

static void plan_slack(struct plan *p)
{
	struct job *j;
	int r;

	if (!notify_configured(p->cfg)) {
		add_row(p->out, "slack", DOCTOR_NOT_CONFIGURED, "nobody is told in a channel",
			"[slack]\n\twebhook-command = <a command that prints the webhook URL>");
		return;
	}
	if (!(j = new_job(p, "slack", slack_job)))
		return;
	r = config_get_secret(p->cfg, "slack.webhook", "SLACK_WEBHOOK_URL", &j->secret);
	if (r != 0) {
		job_refused(j, "the webhook cannot be read (said above)");
		return;
	}
	http_client_add_secret(&j->http, j->secret.buf);
	if (strncasecmp(j->secret.buf, "http://", 7) && strncasecmp(j->secret.buf, "https://", 8)) {
		job_refused(j, "the webhook is not an http:// or https:// URL");
		return;
	}
	{
		const char *path = strchr(strstr(j->secret.buf, "://") + 3, '/');
		if (path)
			http_client_add_secret(&j->http, path);
	}
}

/* A job that asks Prometheus, its authentication read now; NULL when it cannot be. */
static struct job *prometheus_job_new(struct plan *p, const char *name, job_fn fn)
{
	struct strbuf err = STRBUF_INIT;
	struct job *j = new_job(p, name, fn);

	if (!j)
		return NULL;
	if (prometheus_auth_read(p->cfg, &j->http, &j->prom, &err) < 0) {
		job_refused(j, err.len ? err.buf : "Prometheus's credentials cannot be read");
		strbuf_release(&err);
		return NULL;
	}
	strbuf_release(&err);
	return j;
}

static void plan_prometheus(struct plan *p)
{
	const char *url = config_get_string(p->cfg, "prometheus.url"), *am;
	int alerts = 0;

	if (!url || !*url)
		add_row(p->out, "prometheus", DOCTOR_NOT_CONFIGURED, "no metrics are read",
			"[prometheus]\n\turl = http://localhost:9090");
	else
		prometheus_job_new(p, "prometheus", prometheus_job);
	if (config_get_bool(p->cfg, "scout.alerts", &alerts) < 0)
		p->ret = -1;
	am = config_get_string(p->cfg, "alertmanager.url");
	if (am && *am) {
		new_job(p, "alertmanager", alertmanager_job);
		if (alerts && url && *url)
			prometheus_job_new(p, "prometheus alerts", alerts_job);
		return;
	}
	if (!alerts)
		add_row(p->out, "alertmanager", DOCTOR_NOT_CONFIGURED,
			"alerts are read from Alertmanager's API ([alertmanager] url), from "
			"Prometheus with scout.alerts, or from Alertmanager's webhook with "
			"sre scout --alertmanager <file>",
			"[alertmanager]\n\turl = http://localhost:9093");
	else if (!url || !*url)
		add_row(p->out, "alertmanager", DOCTOR_BROKEN, "scout.alerts reads Prometheus's "
			"alerts, and prometheus.url is not set", NULL);
	else
		prometheus_job_new(p, "alertmanager", alerts_job);
}

static void plan_jaeger(struct plan *p)
{
	const char *url = config_get_string(p->cfg, "jaeger.url");

	if (!url || !*url)
		add_row(p->out, "jaeger", DOCTOR_NOT_CONFIGURED, "no traces are read",
			"[jaeger]\n\turl = http://localhost:16686");
	else
		new_job(p, "jaeger", jaeger_job);
}

static void plan_kubernetes(struct plan *p)
{
	const char *ns = config_get_string(p->cfg, "kubernetes.namespace");
	struct strbuf err = STRBUF_INIT;
	struct job *j;

	if (!kubernetes_configured(p->cfg)) {
		add_row(p->out, "kubernetes", DOCTOR_NOT_CONFIGURED, "no pods are watched",
			"[kubernetes]\n\tnamespace = default");
		return;
	}
	if (!(j = new_job(p, "kubernetes", kubernetes_job)))
		return;
	if (kubeconfig_load(&j->kc, p->cfg, &j->http, &err) < 0) {
		job_refused(j, err.buf);
		strbuf_release(&err);
		return;
	}
	strbuf_release(&err);
	/* The first namespace of a list ("prod, staging"). */
	ns = ns && *ns ? ns : "default";
	j->ns = xstrndup(ns, strcspn(ns, ", "));
	if (!*j->ns) {
		free(j->ns);
		j->ns = xstrdup("default");
	}
}

static void plan_docker(struct plan *p)
{
	struct strbuf err = STRBUF_INIT;
	struct job *j;

	if (!docker_configured(p->cfg)) {
		add_row(p->out, "docker", DOCTOR_NOT_CONFIGURED, "no containers are watched",
			"[docker]\n\thost = unix:///var/run/docker.sock");
		return;
	}
	if (!(j = new_job(p, "docker", docker_job)))
		return;
	if (docker_engine_read(p->cfg, &j->docker, &err) < 0)
		job_refused(j, err.buf);
	strbuf_release(&err);
}

static void plan_repo(struct plan *p)
{
	char *path = NULL;
	int r = config_get_path(p->cfg, "core.repo", &path);
	struct job *j;

	if (r < 0) {
		p->ret = -1;
		return;
	}
	if (r > 0) {
		add_row(p->out, "core.repo", DOCTOR_NOT_CONFIGURED,
			"no commits are read, no pull requests opened",
			"[core]\n\trepo = /srv/infrastructure");
		return;
	}
	if (!(j = new_job(p, "core.repo", repo_job))) {
		free(path);
		return;
	}
	j->path = path;
}

static void plan_checks(struct plan *p, struct strvec *names)
{
	struct strbuf key = STRBUF_INIT, row = STRBUF_INIT;

	config_subsections(p->cfg, "check", names);
	for (size_t i = 0; i < names->nr; i++) {
		const char *name = names->v[i];
		int url = !!config_get_string(p->cfg, config_key_of(&key, "check", name, "url"));
		int metrics = !!config_get_string(p->cfg, config_key_of(&key, "check", name, "metrics"));
		int query = !!config_get_string(p->cfg, config_key_of(&key, "check", name, "prometheus"));
		const char *prom = config_get_string(p->cfg, "prometheus.url");
		struct job *j;

		strbuf_reset(&row);
		strbuf_addf(&row, "check %s", name);
		if (!url && !metrics && !query) {
			add_row(p->out, row.buf, DOCTOR_BROKEN, "it has no url, metrics or prometheus "
				"key: nothing to ask", NULL);
			continue;
		}
		if (query && !url && !metrics && (!prom || !*prom)) {
			add_row(p->out, row.buf, DOCTOR_BROKEN, "a Prometheus query, and "
				"prometheus.url is not set", NULL);
			continue;
		}
		j = query && !url && !metrics ? prometheus_job_new(p, row.buf, check_job) :
						 new_job(p, row.buf, check_job);
		if (j)
			j->name = name;
	}
	if (!names->nr)
		add_row(p->out, "checks", DOCTOR_NOT_CONFIGURED, "scout watches no URL",
			"[check \"<service>\"]\n\turl = http://localhost:8080/health");
	strbuf_release(&key);
	strbuf_release(&row);
}

static void job_free(struct job *j)
{
	if (j->tracker)
		tracker_free(j->tracker);
	prometheus_auth_release(&j->prom);
	kubeconfig_release(&j->kc);
	docker_engine_release(&j->docker);
	if (j->secret.alloc)
		memset(j->secret.buf, 0, j->secret.alloc);
	strbuf_release(&j->secret);
	strbuf_release(&j->detail);
	http_client_release(&j->http);
	free(j->ns);
	free(j->path);
	free(j->version);
	free(j);
}

int doctor_run(struct doctor_report *out, const struct config *cfg, struct store *st,
	       const char *db_path, int64_t timeout_ms)
{
	struct plan p = { out, NULL, 0, 0, cfg, 0, 0 };
	struct strvec names = STRVEC_INIT;

	if (!timeout_ms)
		timeout_ms = DOCTOR_TIMEOUT_MS;
	out->timeout_ms = timeout_ms;
	p.deadline_ms = monotonic_ms() + timeout_ms;
	plan_store(&p, st, db_path);
	plan_tracker(&p);
	plan_slack(&p);
	plan_prometheus(&p);
	plan_jaeger(&p);
	plan_kubernetes(&p);
	plan_docker(&p);
	plan_repo(&p);
	plan_checks(&p, &names);

	for (size_t i = 0; i < p.nr; i++) {
		struct job *j = p.jobs[i];
		if (!j->fn)
			continue;
		if (pthread_create(&j->thread, NULL, run_job, j))
			run_job(j); /* no thread to spare: ask it here, still under the deadline */
		else
			j->started = 1;
	}
	for (size_t i = 0; i < p.nr; i++) {
		struct job *j = p.jobs[i];
		struct doctor_row *row = &out->rows[j->row];

		if (j->started)
			pthread_join(j->thread, NULL);
		row->status = j->status;
		row->latency_ms = j->latency_ms;
		free(row->detail);
		row->detail = scout_one_line(j->detail.buf, DETAIL_MAX);
		row->version = j->version;
		j->version = NULL;
		job_free(j);
	}
	free(p.jobs);
	strvec_clear(&names);
	return p.ret;
}
