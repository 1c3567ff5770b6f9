/*
 * diagnose.c: the engine of `sre diagnose` (lib/diagnose.h): collect,
 * judge, and on a live incident record, comment and move.
 *
 * The record and the tracker's comment go in one transaction, so a crash
 * leaves both or neither; the move comes after, through lib/mirror.c, so
 * the tracker may refuse it (another host on it), which is said and not
 * an error.
 */
#include <ctype.h>

#include "diagnose.h"
#include "format.h"
#include "mirror.h"
#include "scout.h"
#include "timeutil.h"
#include "tracker.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

void diagnose_result_release(struct diagnose_result *r)
{
	diagnosis_release(&r->d);
	evidence_release(&r->ev);
	log_patterns_release(&r->templates);
	for (size_t i = 0; i < r->missing_nr; i++)
		free(r->missing[i].config);
	free(r->missing);
	r->missing = NULL;
	r->missing_nr = r->missing_alloc = 0;
	if (r->known)
		known_errors_free(r->known, 1);
	r->known = NULL;
	memory_hits_free(r->similar, r->similar_nr);
	r->similar = NULL;
	r->similar_nr = 0;
	free(r->memory_note);
	r->memory_note = NULL;
	adviser_result_release(&r->adviser);
	free(r->adviser_provider);
	free(r->adviser_model);
	r->adviser_provider = r->adviser_model = NULL;
	adviser_session_free(r->session);
	r->session = NULL;
	if (r->llm)
		llm_client_release(r->llm);
	free(r->llm);
	r->llm = NULL;
	free(r->live_service);
	free(r->live_check);
	r->live_service = r->live_check = NULL;
}

static void add_missing(struct diagnose_result *out, const char *source, const char *gives,
			struct strbuf *config)
{
	struct diagnose_missing *m;

	ALLOC_GROW(out->missing, out->missing_nr + 1, out->missing_alloc);
	m = &out->missing[out->missing_nr++];
	m->source = source;
	m->gives = gives;
	m->config = strbuf_detach(config, NULL);
}

/*
 * The service's name as a snippet can hold it: a plain word, else
 * "<service>" (a name from an alert label may hold quotes or newlines
 * that would turn the snippet into other configuration).
 */
static const char *snippet_name(const char *service)
{
	if (!*service || strlen(service) > 100)
		return "<service>";
	for (const char *p = service; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return "<service>";
	return service;
}

void diagnose_missing_sources(struct diagnose_result *out, const struct config *cfg,
			      const char *service)
{
	struct collect_options co = { .service = service };
	struct strbuf key = STRBUF_INIT, sb = STRBUF_INIT;
	const char *runtime = config_get_string(cfg, config_key_of(&key, "service", service, "runtime"));
	const char *name = snippet_name(service);
	int any = !runtime || !*runtime;

	if ((any || !strcmp(runtime, "kubernetes")) && !collect_kubernetes_configured(cfg, &co)) {
		strbuf_addstr(&sb, "[kubernetes]\n\tnamespace = default");
		add_missing(out, "kubernetes", "pods, events, rollouts and their logs", &sb);
	}
	if ((any || !strcmp(runtime, "docker")) && !collect_docker_configured(cfg, &co)) {
		strbuf_addstr(&sb, "[docker]\n\thost = unix:///var/run/docker.sock");
		add_missing(out, "docker", "the container's state, exit code and log", &sb);
	}
	if ((any || !strcmp(runtime, "process")) && !collect_host_configured(cfg, &co)) {
		strbuf_addf(&sb, "[service \"%s\"]\n\truntime = process\n\tpidfile = /run/%s.pid\n"
			    "\tlog = /var/log/%s.log", name, name, name);
		add_missing(out, "host", "the process, its log and the kernel's OOM kills", &sb);
	}
	if (!collect_jaeger_configured(cfg, &co)) {
		strbuf_addstr(&sb, "[jaeger]\n\turl = http://localhost:16686");
		add_missing(out, "jaeger", "traces: where errors start, the critical path", &sb);
	}
	if (!collect_prometheus_configured(cfg, &co)) {
		const char *url = config_get_string(cfg, "prometheus.url");
		if (!url || !*url)
			strbuf_addstr(&sb, "[prometheus]\n\turl = http://localhost:9090\n");
		/* Single quotes in PromQL: git-config would eat double ones. */
		strbuf_addf(&sb, "[check \"%s-errors\"]\n\tservice = %s\n\tprometheus = "
			    "sum(rate(http_requests_total{job='%s',code=~'5..'}[5m]))\n\tabove = 0.1",
			    name, name, name);
		add_missing(out, "prometheus", "the service's metrics over diagnose.lookback", &sb);
	}
	if (!collect_git_configured(cfg, &co)) {
		const char *repo = config_get_string(cfg, "core.repo");
		if (!repo || !*repo)
			strbuf_addstr(&sb, "[core]\n\trepo = /srv/infrastructure\n");
		strbuf_addf(&sb, "[service \"%s\"]\n\tpaths = services/%s", name, name);
		add_missing(out, "git", "recent commits to the service's files", &sb);
	}
	strbuf_release(&key);
	strbuf_release(&sb);
}

/* Did the bundle give anything at all? */
static int evidence_empty(const struct evidence *ev)
{
	return !ev->incident && !ev->pods && !ev->events && !ev->deployments && !ev->replicasets &&
	       !ev->docker && !ev->traces && !ev->commits && !ev->host && !ev->past &&
	       !ev->prometheus_nr && !ev->logs_nr && !ev->sources_nr;
}

/*
 * The templates of the service's logs, and the new ones as evidence.
 * With st (a live incident, since its opening), the miner starts from the
 * service's stored templates, so a line that fits one is not new, and
 * what it found is recorded. Without st nothing is new. Only a service
 * with templates recorded before since has new ones: a first-ever
 * diagnosis has no baseline, and every template would look new.
 */
static int mine_logs(struct diagnose_result *out, const struct config *cfg, struct store *st,
		     time_t since)
{
	struct logtemplate_options lo;
	struct logtemplate_miner *m;
	struct diagnosis_finding *a = &out->d.answer;
	size_t shown = 0;
	int r = 0;

	if (!out->ev.logs_nr)
		return 0;
	logtemplate_options_init(&lo);
	if (cfg && logtemplate_options_read(&lo, cfg) < 0)
		return -1;
	m = logtemplate_new(&lo);
	if (st)
		r = log_patterns_seed(st, out->ev.service, m);
	for (size_t i = 0; i < out->ev.logs_nr && !r; i++)
		if (out->ev.logs[i].text && !out->ev.logs[i].service)
			logtemplate_add_text(m, out->ev.logs[i].text, strlen(out->ev.logs[i].text));
	if (!r && st)
		r = log_patterns_record(st, out->ev.service, m, out->ev.now ? out->ev.now : sre_now(),
					since, &out->templates);
	else if (!r)
		log_patterns_from_miner(m, &out->templates);
	logtemplate_free(m);
	for (size_t i = 0; !r && i < out->templates.nr && shown < DIAGNOSE_NEW_PATTERNS_MAX; i++) {
		struct diagnosis_evidence *e;
		char *line;

		if (!out->templates.v[i].is_new)
			continue;
		line = xstrfmt("new log pattern: %s", out->templates.v[i].template);
		ALLOC_GROW(a->evidence, a->evidence_nr + 1, a->evidence_alloc);
		e = &a->evidence[a->evidence_nr++];
		e->source = xstrdup("logs");
		e->summary = scout_one_line(line, 200);
		free(line);
		shown++;
	}
	return r;
}

static int chat(void *data, const struct llm_conversation *conv, const struct llm_tool *tools,
		size_t tools_nr, struct llm_reply *r, struct strbuf *why)
{
	return llm_chat(data, conv, tools, tools_nr, r, why);
}

/* The live tool's reading: the incident's service, one source, now. */
static int refresh(void *data, const char *source, const char *name, struct evidence *fresh,
		   struct strbuf *why)
{
	const struct diagnose_result *out = data;
	struct collect_options co = { .service = out->live_service, .incident_id = out->incident,
				      .check = out->live_check };
	struct strbuf key = STRBUF_INIT;
	const char *query, *service;

	/* A check of the service's own configuration, or nothing is read (nor asked for). */
	query = config_get_string(out->live_cfg, config_key_of(&key, "check", name, "prometheus"));
	service = config_get_string(out->live_cfg, config_key_of(&key, "check", name, "service"));
	strbuf_release(&key);
	if (!query || !*query || strcmp(service && *service ? service : name, out->live_service)) {
		strbuf_addstr(why, "no such check of the service; list_sources names them");
		return -1;
	}
	return evidence_refresh(fresh, out->live_cfg, &co, source, out->cancel, why);
}

/*
 * Ask the LLM adviser after the rules, when o or diagnose.adviser says
 * so, and keep its session for questions with o->keep_session. Its
 * trouble is never the diagnosis's: the rules' answer stands, and
 * out->adviser.reason says why.
 */
static void advise(struct diagnose_result *out, const struct config *cfg, struct store *st,
		   const struct diagnose_options *o)
{
	struct adviser_options ao;
	struct llm_client *c;
	char digest[65];
	cJSON *cached = NULL;
	const char *want = cfg ? config_get_string(cfg, "diagnose.adviser") : NULL;
	int r, ask = o->llm > 0 || (!o->llm && want && !strcmp(want, "llm"));

	if (o->llm < 0 || (!ask && !o->keep_session))
		return;
	out->adviser_asked = ask;
	out->cancel = o->cancel;
	adviser_options_init(&ao);
	c = xcalloc(1, sizeof(*c));
	r = cfg ? llm_client_init(c, cfg) : 1;
	if (r > 0) {
		out->adviser.reason = xstrdup("no LLM is configured ([llm] provider and model)");
		free(c);
		return;
	}
	if (r < 0 || adviser_options_read(&ao, cfg, c->s.model) < 0) {
		out->adviser.reason = xstrdup("the [llm] configuration is not valid (see the error above)");
		if (!r)
			llm_client_release(c);
		free(c);
		return;
	}
	c->http.cancel = o->cancel;
	out->llm = c;
	out->adviser_provider = xstrdup(c->ops->name);
	out->adviser_model = xstrdup(c->s.model);
	ao.event = o->stream;
	ao.event_data = o->stream_data;
	if (out->live_service && out->live_cfg) {
		ao.refresh = refresh;
		ao.refresh_data = out;
	}
	if (o->keep_session)
		out->session = adviser_session_new(&ao, &out->ev, &out->d, chat, c);
	if (!ask)
		return;
	/* The same question of the same model about the same evidence: its answer, checked again. */
	if (st && !o->no_cache) {
		adviser_digest(digest, c->ops->name, c->s.model, &ao, &out->ev);
		if (!adviser_cache_get(st, digest, &cached) &&
		    adviser_use_answer(&out->adviser, &out->ev, &out->d, cached) < 0)
			adviser_result_release(&out->adviser);
		cJSON_Delete(cached);
	}
	if (!out->adviser.cached) {
		if (out->session)
			adviser_session_diagnose(out->session, &out->adviser);
		else
			adviser_run(&out->adviser, &ao, &out->ev, &out->d, chat, c);
		if (st && !o->no_cache && out->adviser.used &&
		    adviser_cache_put(st, digest, &out->adviser.answer) < 0)
			warning("the adviser's answer could not be cached");
	}
	if (!out->session) {
		llm_client_release(c);
		free(c);
		out->llm = NULL;
	}
	if (out->adviser.used && !out->adviser.agreed) {
		struct diagnosis_finding *a = &out->d.answer;
		const struct diagnosis_finding *m = &out->adviser.answer;
		struct diagnosis_evidence *e;

		if (m->confidence < a->confidence)
			a->confidence = m->confidence;
		ALLOC_GROW(a->evidence, a->evidence_nr + 1, a->evidence_alloc);
		e = &a->evidence[a->evidence_nr++];
		e->source = xstrdup("llm");
		e->summary = xstrfmt("the adviser disagrees: %s, %s %s", diagnosis_category_name(m->category),
				     mitigation_action_name(m->action), m->target ? m->target : "-");
	}
}

/* --stream: what was read, and what each rule found. */
static void stream_judged(const struct diagnose_result *out, const struct diagnose_options *o)
{
	cJSON *sources = evidence_sources_json(&out->ev), *it;

	cJSON_ArrayForEach(it, sources)
		o->stream(o->stream_data, "source_read", it);
	cJSON_Delete(sources);
	for (size_t i = 0; i < out->d.findings_nr; i++) {
		const struct diagnosis_finding *f = &out->d.findings[i];
		cJSON *ev = cJSON_CreateObject();
		cJSON_AddStringToObject(ev, "rule", f->rule ? f->rule : "none");
		cJSON_AddStringToObject(ev, "category", diagnosis_category_name(f->category));
		cJSON_AddNumberToObject(ev, "confidence", f->confidence);
		cJSON_AddStringToObject(ev, "action", mitigation_action_name(f->action));
		json_add_string_or_null(ev, "target", f->target);
		o->stream(o->stream_data, "finding", ev);
		cJSON_Delete(ev);
	}
}

static int judge(struct diagnose_result *out, const struct diagnose_options *o)
{
	if (o->save && evidence_save(&out->ev, o->save) < 0)
		return -1;
	if (rules_diagnose(&out->d, &out->ev, o->problem) < 0)
		return -1;
	if (o->stream)
		stream_judged(out, o);
	return 0;
}

int diagnose_bundle(const struct diagnose_options *o, const char *dir,
		    struct diagnose_result *out)
{
	out->bundle = dir;
	out->problem = o->problem;
	if (evidence_load(&out->ev, dir))
		return -1;
	/* An empty directory is a mistake (a wrong path, a save that failed), not a healthy service. */
	if (evidence_empty(&out->ev))
		return error("%s holds no evidence: none of a bundle's files (incident.json, "
			     "host.json, sources.json, ...) is there; sre diagnose --save-evidence "
			     "writes one", dir);
	if (!out->ev.service)
		out->ev.service = xstrdup("unknown");
	if (judge(out, o) < 0 || mine_logs(out, NULL, NULL, 0) < 0)
		return -1;
	advise(out, o->cfg, NULL, o);
	return 0;
}

char *diagnose_problem_service(const struct config *cfg, const char *problem)
{
	const char *sections[] = { "service", "check" };
	struct strbuf key = STRBUF_INIT;
	char *found = NULL;

	for (size_t s = 0; s < ARRAY_SIZE(sections) && !found; s++) {
		struct strvec names = STRVEC_INIT;
		config_subsections(cfg, sections[s], &names);
		for (size_t i = 0; i < names.nr && !found; i++) {
			const char *service;
			if (!strstr(problem, names.v[i]))
				continue;
			service = s ? config_get_string(cfg, config_key_of(&key, "check", names.v[i],
								       "service")) : NULL;
			found = xstrdup(service ? service : names.v[i]);
		}
		strvec_clear(&names);
	}
	strbuf_release(&key);
	return found;
}

int diagnose_problem(const struct engine_context *ctx, const struct diagnose_options *o,
		     const char *service, struct diagnose_result *out)
{
	struct collect_options co = { 0 };

	out->problem = o->problem;
	co.service = service;
	co.timeout_ms = o->timeout_ms;
	if (evidence_collect(&out->ev, ctx->cfg, ctx->store, &co) < 0)
		return -1;
	diagnose_missing_sources(out, ctx->cfg, service);
	if (judge(out, o) < 0 || mine_logs(out, ctx->cfg, NULL, 0) < 0)
		return -1;
	/* A question has no fingerprint: memory recalls by its words, and only shows. */
	if (ctx->store && o->problem) {
		struct memory_recall mr = { .max = 3 };
		long long n = 3;
		size_t indexed;
		char *text = xstrfmt("%s %s", service ? service : "", o->problem);

		if (!config_get_int(ctx->cfg, "remember.similar", &n) && n >= 0 && n <= 100)
			mr.max = (int)n;
		if (mr.max && memory_index(ctx->store, ctx->cfg, 0, &indexed) == 0 &&
		    memory_search(ctx->store, text, &mr, &out->similar, &out->similar_nr) < 0)
			warning("the memory of past incidents could not be searched");
		free(text);
	}
	out->live_service = service ? xstrdup(service) : NULL;
	out->live_cfg = ctx->cfg;
	advise(out, ctx->cfg, ctx->store, o);
	return 0;
}

/* The check of an incident, from its fingerprint "source/service/signal[/check]". */
static char *incident_check(const struct incident *inc)
{
	const char *p = inc->fingerprint;

	for (int i = 0; i < 3 && p; i++) {
		p = strchr(p, '/');
		if (p)
			p++;
	}
	if (p && *p)
		return xstrdup(p);
	if (strcmp(inc->source, "manual"))
		return xstrdup(inc->service);
	return NULL;
}

/* Move the incident, saying so when the tracker or the graph had other ideas. */
static int move(const struct engine_context *ctx, long long id, enum incident_state from,
		enum incident_state to, const char *reason)
{
	enum incident_state remote = from;
	int r = mirror_incident_transition(ctx->store, ctx->tracker, ctx->cfg, id, (int)from, to,
					   ctx->actor, reason, &remote);

	if (r == MIRROR_FOLLOWED)
		warning("incident %lld is %s on the tracker; it was left there", id,
			incident_state_name(remote));
	return r < 0 && r != STORE_REFUSED ? -1 : 0;
}

/* The diagnosis row and the tracker's comment, in one transaction. */
/* The most of a transcript kept with a diagnosis. */
#define TRANSCRIPT_MAX (1 << 20)

int diagnose_transcript(struct store *st, long long id, struct strbuf *out)
{
	char *json = NULL;
	cJSON *j;
	const char *t;
	int r = store_diagnosis_latest(st, id, &json);

	if (r)
		return r;
	j = cJSON_Parse(json);
	free(json);
	t = json_path_string(j, "adviser.transcript");
	if (t)
		strbuf_addstr(out, t);
	cJSON_Delete(j);
	return t ? 0 : 1;
}

static int record(const struct engine_context *ctx, const struct diagnose_result *res)
{
	const struct diagnosis *d = &res->d;
	struct store *st = ctx->store;
	struct tracker *t = ctx->tracker;
	cJSON *j = diagnose_result_json(res);
	char *json;
	struct diagnosis_row row;
	struct strbuf comment = STRBUF_INIT;
	char key[37];
	int r;

	diagnose_memory_add_json(j, res);
	/* The adviser's transcript is kept with the diagnosis (sre diagnose --transcript). */
	if (res->adviser_asked && res->adviser.transcript.len) {
		cJSON *adv = cJSON_GetObjectItemCaseSensitive(j, "adviser");
		const struct strbuf *said = &res->adviser.transcript;
		char *kept = xstrndup(said->buf, said->len > TRANSCRIPT_MAX ? TRANSCRIPT_MAX : said->len);
		if (cJSON_IsObject(adv))
			cJSON_AddStringToObject(adv, "transcript", kept);
		free(kept);
	}
	json = cJSON_PrintUnformatted(j);
	row = (struct diagnosis_row){
		diagnosis_category_name(d->answer.category), d->answer.root_cause,
		d->answer.confidence, mitigation_action_name(d->answer.action), d->answer.target, json,
	};

	diagnosis_comment(&comment, d);
	mirror_new_key(key);
	r = store_begin(st);
	if (!r)
		r = store_diagnosis_add(st, res->incident, &row, ctx->actor);
	if (!r && t)
		r = mirror_queue_comment(st, t->ops->name, res->incident, key, ctx->actor, comment.buf);
	if (!r)
		r = store_commit(st);
	else
		store_rollback(st);
	strbuf_release(&comment);
	cJSON_free(json);
	cJSON_Delete(j);
	return r ? -1 : 0;
}

/*
 * What memory says (lib/memory.h). A known error of this host comes
 * first: it confirms the rules' action, or, when the rules found nothing
 * and its fix is a restart (an action that needs no parameter the rules
 * would have computed), it gives the answer. A rule that hands the
 * incident to a person (a chronic failure) is never overruled. Then this host's past fixes
 * of the same fingerprint with the same log templates move the
 * confidence of the same mitigation: up when they held, down when they
 * failed. Incidents pulled from other hosts are shown, never counted:
 * they are data from elsewhere. Memory failing never fails a diagnosis.
 */
#define KNOWN_CONFIDENCE 0.7

static void recall(const struct engine_context *ctx, long long id, struct diagnose_result *out)
{
	struct diagnosis_finding *a = &out->d.answer;
	struct memory_recall mr = { .max = 3 };
	struct known_error k;
	struct strbuf note = STRBUF_INIT, mined = STRBUF_INIT;
	const char *action = mitigation_action_name(a->action);
	long long n = 3;
	int worked = 0, failed = 0;
	long long last_worked = 0, last_failed = 0;

	size_t indexed;

	if (config_get_int(ctx->cfg, "remember.similar", &n) < 0 || n < 0 || n > 100)
		n = 3;
	mr.max = (int)n;
	/* What was resolved since the last look counts now, not after cron's next `sre remember`. */
	if (memory_index(ctx->store, ctx->cfg, 0, &indexed) < 0)
		warning("the memory of past incidents could not be brought up to date");
	if (memory_known_match(ctx->store, ctx->cfg, id, &k) == 0) {
		out->known = xcalloc(1, sizeof(*out->known));
		*out->known = k;
		if (!strcmp(k.action, action)) {
			a->confidence = MIN(0.99, a->confidence + 0.1);
			strbuf_addf(&note, "known error %lld: %s fixed it before", k.id, k.action);
		} else if (a->category == CATEGORY_unknown && !strcmp(k.action, "restart") && k.target) {
			free(a->root_cause);
			a->root_cause = xstrfmt("known error %lld: the same problem as incident %lld, "
						"which a restart of %s fixed%s%s", k.id, k.incident_id,
						k.target, k.runbook ? "; runbook: " : "",
						k.runbook ? k.runbook : "");
			a->action = ACTION_restart;
			free(a->target);
			a->target = xstrdup(k.target);
			a->confidence = KNOWN_CONFIDENCE;
			a->rule = "known-error";
			strbuf_addf(&note, "known error %lld gave the answer", k.id);
		}
	}
	for (size_t i = 0; i < out->templates.nr; i++)
		strbuf_addf(&mined, "%s%s", i ? "\n" : "", out->templates.v[i].template);
	mr.templates = out->templates.nr ? mined.buf : NULL;
	if (n > 0 && !memory_similar(ctx->store, ctx->cfg, id, &mr, &out->similar, &out->similar_nr)) {
		for (size_t i = 0; i < out->similar_nr; i++) {
			const struct memory_hit *h = &out->similar[i];
			if (strcmp(h->origin, "local") || !h->same_fingerprint ||
			    h->template_overlap < 0.5 || !h->action || strcmp(h->action, action))
				continue;
			if (h->worked == 1 && !worked++)
				last_worked = h->id;
			if (h->worked == 0 && !failed++)
				last_failed = h->id;
		}
	}
	if (failed > worked) {
		a->confidence = MAX(0.05, a->confidence - 0.2);
		strbuf_addf(&note, "%s%s did not fix the same problem before (incident %lld)",
			    note.len ? "; " : "", action, last_failed);
	} else if (worked) {
		a->confidence = MIN(0.99, a->confidence + 0.1);
		strbuf_addf(&note, "%s%s fixed the same problem before (incident %lld)",
			    note.len ? "; " : "", action, last_worked);
	}
	if (note.len)
		out->memory_note = strbuf_detach(&note, NULL);
	strbuf_release(&note);
	strbuf_release(&mined);
}

/* Is d's answer the one the incident's latest diagnosis gave? */
static int same_as_latest(struct store *st, long long id, const struct diagnosis *d)
{
	char *json = NULL;
	cJSON *last, *m;
	const char *target;
	int same = 0;

	if (store_diagnosis_latest(st, id, &json) || !(last = cJSON_Parse(json))) {
		free(json);
		return 0;
	}
	m = cJSON_GetObjectItemCaseSensitive(last, "mitigation");
	target = json_string(m, "target");
	same = !strcmp(json_string_or(last, "category", ""),
		       diagnosis_category_name(d->answer.category)) &&
	       !strcmp(json_string_or(m, "action", ""),
		       mitigation_action_name(d->answer.action)) &&
	       !strcmp(target ? target : "", d->answer.target ? d->answer.target : "");
	cJSON_Delete(last);
	free(json);
	return same;
}

int diagnose_incident(const struct engine_context *ctx, const struct diagnose_options *o,
		      long long id, struct diagnose_result *out)
{
	struct store *st = ctx->store;
	struct collect_options co = { 0 };
	struct incident inc;
	struct event *events = NULL;
	size_t nr = 0;
	enum incident_state state;
	char *check = NULL;
	int r, ret = -1, human;

	out->incident = id;
	out->problem = o->problem;
	if ((r = store_incident_get(st, id, &inc)) > 0) {
		error("no incident %lld", id);
		return 1;
	}
	if (r < 0)
		return -1;
	/* Its writes wait for a fix or another diagnosis of the same incident. */
	incident_release(&inc);
	r = engine_lease_take(ctx, id, "sre diagnose");
	if (r)
		return r;
	if (store_incident_get(st, id, &inc))
		return -1;
	state = inc.state;
	if (state == STATE_INCIDENT_DETECTED) {
		if (move(ctx, id, state, STATE_ANALYSIS_IN_PROGRESS, "diagnosis started") < 0)
			goto out;
		incident_release(&inc);
		if (store_incident_get(st, id, &inc))
			goto out_noinc;
		state = inc.state;
	}
	check = incident_check(&inc);
	co.service = inc.service;
	co.incident_id = id;
	co.fingerprint = inc.fingerprint;
	co.check = check;
	co.since = inc.opened_at;
	co.timeout_ms = o->timeout_ms;
	if (evidence_collect(&out->ev, ctx->cfg, st, &co) < 0)
		goto out;
	diagnose_missing_sources(out, ctx->cfg, inc.service);
	if (store_event_list(st, id, &events, &nr) < 0)
		goto out;
	out->ev.incident = incident_to_json(&inc);
	incident_add_events_json(out->ev.incident, events, nr);
	if (judge(out, o) < 0 || mine_logs(out, ctx->cfg, st, inc.opened_at) < 0)
		goto out;
	recall(ctx, id, out);
	out->live_service = xstrdup(inc.service);
	out->live_check = check ? xstrdup(check) : NULL;
	out->live_cfg = ctx->cfg;
	advise(out, ctx->cfg, st, o);
	human = out->d.answer.category == CATEGORY_unknown || out->d.answer.action == ACTION_escalate;
	if (state != STATE_ANALYSIS_IN_PROGRESS && same_as_latest(st, id, &out->d)) {
		engine_note(ctx, "incident %lld: the diagnosis is unchanged since the last one", id);
	} else {
		struct strbuf reason = STRBUF_INIT;

		if (record(ctx, out) < 0)
			goto out;
		strbuf_addf(&reason, "%s: %s", diagnosis_category_name(out->d.answer.category),
			    out->d.answer.root_cause);
		r = 0;
		if (state == STATE_ANALYSIS_IN_PROGRESS)
			r = move(ctx, id, state, human ? STATE_INCIDENT_REQUIRES_HUMAN :
						      STATE_ANALYSIS_COMPLETE, reason.buf);
		else if (state == STATE_ANALYSIS_COMPLETE && human)
			r = move(ctx, id, state, STATE_INCIDENT_REQUIRES_HUMAN, reason.buf);
		else if (state != STATE_ANALYSIS_COMPLETE)
			engine_note(ctx, "incident %lld is %s: the diagnosis was recorded; "
				    "its state is unchanged", id, incident_state_name(state));
		strbuf_release(&reason);
		if (r < 0)
			goto out;
	}
	out->deliver = 1;
	ret = 0;
out:
	incident_release(&inc);
out_noinc:
	event_list_free(events, nr);
	free(check);
	return ret;
}
