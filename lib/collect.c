/*
 * collect.c: reading the evidence of `sre diagnose` from every source at
 * once, under one deadline.
 *
 * Each configured collector (lib/collect-<source>.c) runs in its own
 * thread with its own struct evidence and its own HTTP client, whose
 * deadline cuts every request; the runner waits for them all, then moves
 * what each read into the whole and records how each went. Each source is
 * in progress.h's registry while it is read, for a command's status line.
 * Past incidents come from the store in the calling thread meanwhile,
 * since the store's connection is not shared across threads. A second
 * round (lib/collect-graph.c) then reads, under the same deadline, what
 * the first one points at: the other services of the call graph, their
 * pods' metrics, and the window before the incident.
 */
#include <pthread.h>

#include "evidence.h"
#include "format.h"
#include "http.h"
#include "progress.h"
#include "redact.h"
#include "timeutil.h"
#include "util.h"

static const struct collector collectors[] = {
	{ "kubernetes", collect_kubernetes_configured, collect_kubernetes },
	{ "docker", collect_docker_configured, collect_docker },
	{ "jaeger", collect_jaeger_configured, collect_jaeger },
	{ "prometheus", collect_prometheus_configured, collect_prometheus },
	{ "git", collect_git_configured, collect_git },
	{ "host", collect_host_configured, collect_host },
};

struct run {
	const struct collector *collector;
	struct collect_context ctx;
	struct http_client http;
	struct evidence part;
	struct strbuf why;
	int ret;
	int64_t started_ms, ended_ms;
	pthread_t thread;
	int started;
};

static void *run_collector(void *arg)
{
	struct run *r = arg;
	/* For a status line: which source is still read, and until when. */
	int waiting = progress_begin(r->collector->name);

	progress_update(waiting, 0, 0, r->ctx.deadline_ms);
	r->started_ms = monotonic_ms();
	r->ret = r->collector->collect(&r->ctx, &r->part, &r->why);
	r->ended_ms = monotonic_ms();
	progress_end(waiting);
	return NULL;
}

/*
 * The incident's past: same fingerprint or same service, newest first, at
 * most 50. An experiment's incidents are not its history (as remember's
 * recall leaves them out): a game day must not make a real failure look
 * chronic.
 */
static void read_past(struct evidence *ev, struct store *st, const struct collect_options *o)
{
	struct incident_filter f = { 1, -1, NULL };
	struct incident *list = NULL;
	size_t nr = 0;
	int64_t start = monotonic_ms();
	cJSON *past;

	if (store_incident_list(st, &f, &list, &nr) < 0) {
		evidence_add_source(ev, "store", EVIDENCE_FAILED, "cannot list the past incidents",
				    ev->now, monotonic_ms() - start);
		return;
	}
	past = cJSON_CreateArray();
	for (size_t i = nr; i-- > 0 && cJSON_GetArraySize(past) < 50;) {
		const struct incident *inc = &list[i];
		if (inc->id == o->incident_id)
			continue;
		if (strcmp(inc->service, o->service) &&
		    !(o->fingerprint && !strcmp(inc->fingerprint, o->fingerprint)))
			continue;
		if (store_incident_is_chaos(st, inc->id) > 0)
			continue;
		cJSON_AddItemToArray(past, incident_to_json(inc));
	}
	incident_list_free(list, nr);
	cJSON_Delete(ev->past);
	ev->past = past;
	evidence_add_source(ev, "store", EVIDENCE_OK, NULL, ev->now, monotonic_ms() - start);
}

int evidence_collect(struct evidence *ev, const struct config *cfg, struct store *st,
		     const struct collect_options *o)
{
	struct run runs[ARRAY_SIZE(collectors)];
	struct graph_options graph;
	int64_t timeout_ms = o->timeout_ms, deadline;
	long long lines = o->log_lines;
	int ret = 0;

	if (!timeout_ms) {
		timeout_ms = 20000;
		if (config_get_duration_ms(cfg, "diagnose.timeout", &timeout_ms) < 0)
			return -1;
	}
	if (!lines) {
		int r = config_get_int(cfg, "diagnose.log-lines", &lines);
		if (r < 0)
			return -1;
		if (r == 1 || !lines)
			lines = 200;
		if (lines < 1 || lines > 100000)
			return error("diagnose.log-lines is %lld; it takes 1 to 100000", lines);
	}
	if (collect_graph_options(cfg, &graph) < 0)
		return -1;
	graph.log_lines = (int)lines;
	graph.timeout_ms = timeout_ms;
	free(ev->service);
	ev->service = xstrdup(o->service);
	ev->now = sre_now();
	deadline = monotonic_ms() + timeout_ms;

	memset(runs, 0, sizeof(runs));
	for (size_t i = 0; i < ARRAY_SIZE(collectors); i++) {
		struct run *r = &runs[i];

		r->collector = &collectors[i];
		strbuf_init(&r->why, 0);
		if (!collectors[i].configured(cfg, o))
			continue;
		if (http_client_init(&r->http, cfg) < 0) {
			ret = -1;
			break;
		}
		r->http.deadline_ms = deadline;
		r->http.label = collectors[i].name;
		r->ctx.cfg = cfg;
		r->ctx.o = o;
		r->ctx.http = &r->http;
		r->ctx.deadline_ms = deadline;
		r->ctx.log_lines = (int)lines;
		r->ctx.now = ev->now;
		r->part.now = ev->now;
		r->part.service = xstrdup(o->service);
		if (pthread_create(&r->thread, NULL, run_collector, r)) {
			/* No thread to spare: read it here, still under the deadline. */
			run_collector(r);
		} else {
			r->started = 1;
		}
	}
	if (st && !ret)
		read_past(ev, st, o);
	for (size_t i = 0; i < ARRAY_SIZE(collectors); i++) {
		struct run *r = &runs[i];

		if (r->started)
			pthread_join(r->thread, NULL);
		if (r->ctx.cfg && !ret) {
			enum evidence_status status = EVIDENCE_OK;
			const char *why = NULL;

			if (r->ret < 0) {
				status = r->ended_ms >= deadline - 50 ? EVIDENCE_TIMEOUT : EVIDENCE_FAILED;
				if (status == EVIDENCE_TIMEOUT) {
					strbuf_reset(&r->why);
					strbuf_addf(&r->why, "%s: no answer within the deadline "
						    "(diagnose.timeout, %lld ms)", r->collector->name,
						    (long long)timeout_ms);
				}
				if (!r->why.len)
					strbuf_addf(&r->why, "%s: could not be read", r->collector->name);
				/* It may quote a source's URL, whose userinfo is a secret. */
				redact_strbuf(&r->why);
				why = r->why.buf;
			}
			evidence_merge(ev, &r->part);
			evidence_add_source(ev, r->collector->name, status, why, ev->now,
					    r->ended_ms - r->started_ms);
		}
		if (r->ctx.cfg)
			http_client_release(&r->http);
		evidence_release(&r->part);
		strbuf_release(&r->why);
	}
	/* The second round, on what the first read: the call graph and the baseline. */
	if (!ret)
		collect_graph(ev, cfg, o, &graph, deadline);
	evidence_redact(ev);
	return ret;
}

int evidence_refresh(struct evidence *fresh, const struct config *cfg,
		     const struct collect_options *o, const char *source,
		     volatile sig_atomic_t *cancel, struct strbuf *why)
{
	const struct collector *col = NULL;
	struct collect_context ctx = { .cfg = cfg, .o = o };
	struct http_client http;
	int64_t timeout_ms = o->timeout_ms;
	int ret;

	for (size_t i = 0; i < ARRAY_SIZE(collectors); i++)
		if (!strcmp(collectors[i].name, source))
			col = &collectors[i];
	if (!col) {
		strbuf_addf(why, "there is no source %.64s", source);
		return -1;
	}
	if (!col->configured(cfg, o)) {
		strbuf_addf(why, "%s is not configured for %s", col->name, o->service);
		return -1;
	}
	if (!timeout_ms) {
		timeout_ms = 20000;
		if (config_get_duration_ms(cfg, "diagnose.timeout", &timeout_ms) < 0) {
			strbuf_addstr(why, "diagnose.timeout is not a duration");
			return -1;
		}
	}
	if (http_client_init(&http, cfg) < 0) {
		strbuf_addstr(why, "the http.* configuration is not valid");
		return -1;
	}
	http.label = col->name;
	http.cancel = cancel;
	http.deadline_ms = monotonic_ms() + timeout_ms;
	free(fresh->service);
	fresh->service = xstrdup(o->service);
	fresh->now = sre_now();
	ctx.http = &http;
	ctx.deadline_ms = http.deadline_ms;
	ctx.log_lines = o->log_lines ? o->log_lines : 200;
	ctx.now = fresh->now;
	ret = col->collect(&ctx, fresh, why);
	http_client_release(&http);
	return ret;
}
