/*
 * scout.c: findings, the table of sources, what the sources share (config
 * keys, JSON members, a batch of requests), and the decision that turns
 * findings into incident changes; see scout.h.
 */
#include "scout.h"
#include "mirror.h"
#include "strbuf.h"

const struct scout_source scout_sources[] = {
	{ "http", http_checks_configured, http_checks_collect },
	{ "prometheus", prometheus_configured, prometheus_collect },
	{ "metrics", metrics_configured, metrics_collect },
	{ "kubernetes", kubernetes_configured, kubernetes_collect },
	{ "docker", docker_configured, docker_collect },
	{ "jaeger", jaeger_configured, jaeger_collect },
	{ "process", process_configured, process_collect },
	{ NULL, NULL, NULL },
};

struct finding *finding_add(struct findings *fs, const char *source, const char *check,
			    const char *service, const char *signal)
{
	struct finding *f;

	ALLOC_GROW(fs->v, fs->nr + 1, fs->alloc);
	f = &fs->v[fs->nr++];
	memset(f, 0, sizeof(*f));
	f->source = xstrdup(source);
	f->check = xstrdup(check);
	f->service = xstrdup(service);
	f->signal = xstrdup(signal);
	f->severity = SEVERITY_MEDIUM;
	if (!strcmp(check, service))
		f->fingerprint = xstrfmt("%s/%s/%s", source, service, signal);
	else
		f->fingerprint = xstrfmt("%s/%s/%s/%s", source, service, signal, check);
	return f;
}

void finding_summary(struct finding *f, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	free(f->summary);
	f->summary = strbuf_detach(&sb, NULL);
}

void findings_clear(struct findings *fs)
{
	for (size_t i = 0; i < fs->nr; i++) {
		struct finding *f = &fs->v[i];
		free(f->source);
		free(f->check);
		free(f->service);
		free(f->signal);
		free(f->summary);
		free(f->fingerprint);
		cJSON_Delete(f->evidence);
	}
	free(fs->v);
	fs->v = NULL;
	fs->nr = fs->alloc = 0;
}

/* ---- shared by the sources ---- */

void config_subsections(const struct config *cfg, const char *section,
			struct strvec *out)
{
	size_t n = strlen(section);

	for (size_t i = 0; i < cfg->nr; i++) {
		const char *key = cfg->entries[i].key, *last;
		int seen = 0;

		if (strncmp(key, section, n) || key[n] != '.')
			continue;
		last = strrchr(key, '.');
		if (last == key + n)
			continue; /* section.name: no subsection */
		for (size_t j = 0; j < out->nr && !seen; j++)
			seen = strlen(out->v[j]) == (size_t)(last - key - n - 1) &&
			       !strncmp(out->v[j], key + n + 1, (size_t)(last - key - n - 1));
		if (!seen) {
			char *name = xstrndup(key + n + 1, (size_t)(last - key - n - 1));
			strvec_push(out, name);
			free(name);
		}
	}
}

const char *scout_key(struct strbuf *sb, const char *section, const char *name,
		      const char *key)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "%s.%s.%s", section, name, key);
	return sb->buf;
}

int scout_any_key(const struct config *cfg, const char *section, const char *key)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;
	int found = 0;

	config_subsections(cfg, section, &names);
	for (size_t i = 0; i < names.nr && !found; i++)
		found = config_get_string(cfg, scout_key(&sb, section, names.v[i], key)) != NULL;
	strvec_clear(&names);
	strbuf_release(&sb);
	return found;
}

void scout_list_key(const struct config *cfg, const char *key, const char *seps,
		    struct strvec *out)
{
	for (size_t i = 0; i < cfg->nr; i++) {
		const char *v = cfg->entries[i].value;

		if (strcmp(cfg->entries[i].key, key) || !v)
			continue;
		while (*v) {
			size_t n = strcspn(v, seps), skip = 0, seen = 0;

			while (skip < n && strchr(" \t", v[skip]))
				skip++;
			while (n > skip && strchr(" \t", v[n - 1]))
				n--;
			for (size_t j = 0; j < out->nr && !seen; j++)
				seen = strlen(out->v[j]) == n - skip &&
				       !strncmp(out->v[j], v + skip, n - skip);
			if (n > skip && !seen) {
				char *item = xstrndup(v + skip, n - skip);
				strvec_push(out, item);
				free(item);
			}
			v += strcspn(v, seps);
			if (*v)
				v++;
		}
	}
}

int scout_severity(const struct config *cfg, const char *source, const char *section,
		   const char *name, enum incident_severity *out, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	const char *v = config_get_string(cfg, scout_key(&sb, section, name, "severity"));
	enum incident_severity s;
	int ret = 0;

	if (v && incident_severity_parse(v, &s) < 0) {
		if (err)
			scout_error_line(err, "%s: %s \"%s\": severity is '%s', not critical, "
					 "high, medium or low", source, section, name, v);
		ret = -1;
	} else if (v) {
		*out = s;
	}
	strbuf_release(&sb);
	return ret;
}

int scout_max_restarts(const struct config *cfg, long long *out)
{
	const char *v = config_get_string(cfg, "scout.max-restarts");
	long long n = 5;

	if (v && (config_parse_int(v, &n) < 0 || n < 0))
		return -1;
	*out = n;
	return 0;
}

void scout_error_line(struct strbuf *err, const char *fmt, ...)
{
	va_list ap;

	if (err->len && err->buf[err->len - 1] != '\n')
		strbuf_addch(err, '\n');
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
}

const char *scout_json_string(const cJSON *obj, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

const char *scout_json_nonempty(const cJSON *obj, const char *key)
{
	const char *v = scout_json_string(obj, key);

	return v && *v ? v : NULL;
}

long long scout_json_int(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	long long n;

	/* A count, a code or a size: anything past 2^53, or not whole, is 0. */
	return json_to_ll(v, -JSON_INT_MAX, JSON_INT_MAX, &n) < 0 ? 0 : n;
}

int scout_json_bool(const cJSON *obj, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

cJSON *scout_json_copy(const cJSON *obj)
{
	return obj ? cJSON_Duplicate(obj, 1) : cJSON_CreateObject();
}

char *scout_one_line(const char *s, size_t max)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = utf8_cut(s, strnlen(s, max + 1), max);

	for (size_t i = 0; i < n; i++)
		strbuf_addch(&sb, (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i]);
	strbuf_trim(&sb);
	return strbuf_detach(&sb, NULL);
}

enum incident_severity scout_alert_severity(const char *label)
{
	if (!label)
		return SEVERITY_MEDIUM;
	if (!strcasecmp(label, "critical") || !strcasecmp(label, "page"))
		return SEVERITY_CRITICAL;
	if (!strcasecmp(label, "error") || !strcasecmp(label, "high"))
		return SEVERITY_HIGH;
	if (!strcasecmp(label, "warning") || !strcasecmp(label, "medium"))
		return SEVERITY_MEDIUM;
	return SEVERITY_LOW;
}

const char *scout_alert_service(const cJSON *labels)
{
	const char *service = scout_json_nonempty(labels, "service");

	if (!service)
		service = scout_json_nonempty(labels, "job");
	return service ? service : "unknown";
}

struct http_request *scout_requests_add(struct scout_requests *rs, char *url)
{
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	size_t alloc = rs->alloc;

	ALLOC_GROW(rs->req, rs->nr + 1, rs->alloc);
	if (rs->alloc != alloc)
		rs->res = xrealloc(rs->res, rs->alloc * sizeof(*rs->res));
	req.method = "GET";
	req.url = url;
	strvec_push(&req.headers, "Accept: application/json");
	rs->req[rs->nr] = req;
	rs->res[rs->nr] = res;
	return &rs->req[rs->nr++];
}

int scout_requests_answer(struct scout_requests *rs, struct http_client *http, size_t parallel,
			  cJSON *(*answer)(const struct http_response *res, struct strbuf *why),
			  struct strbuf *why)
{
	if (!rs->nr)
		return 0;
	http_do_many(http, rs->req, rs->res, rs->nr, parallel);
	rs->answer = xcalloc(rs->nr, sizeof(*rs->answer));
	for (size_t i = 0; i < rs->nr; i++)
		if (!(rs->answer[i] = answer(&rs->res[i], why))) {
			for (size_t j = 0; j < i; j++)
				cJSON_Delete(rs->answer[j]);
			free(rs->answer);
			rs->answer = NULL;
			return -1;
		}
	return 0;
}

void scout_requests_release(struct scout_requests *rs)
{
	for (size_t i = 0; i < rs->nr; i++) {
		free((char *)rs->req[i].url);
		http_request_release(&rs->req[i]);
		http_response_release(&rs->res[i]);
		if (rs->answer)
			cJSON_Delete(rs->answer[i]);
	}
	free(rs->req);
	free(rs->res);
	free(rs->answer);
	rs->req = NULL;
	rs->res = NULL;
	rs->answer = NULL;
	rs->nr = rs->alloc = 0;
}

void scout_answer_why(struct strbuf *why, const struct http_response *res,
		      const char *refused, const char *not_api, const char *msg)
{
	if (!res->status)
		strbuf_addstr(why, res->error.buf);
	else if (refused && (res->status == 401 || res->status == 403))
		strbuf_addf(why, "HTTP %ld: %s", res->status, refused);
	else if (res->status / 100 != 2)
		strbuf_addf(why, "HTTP %ld", res->status);
	else
		strbuf_addstr(why, not_api);
	if (res->status >= 500 && res->attempts > 1)
		strbuf_addf(why, " after %d attempts", res->attempts);
	if (res->status && msg)
		strbuf_addf(why, ": %s", msg);
}

/* ---- deciding ---- */

void scout_report_release(struct scout_report *rep)
{
	free(rep->v);
	free(rep->incident);
	rep->v = NULL;
	rep->incident = NULL;
	rep->nr = rep->alloc = 0;
}

static void change(struct scout_report *rep, const char *what, long long id,
		   const struct finding *f)
{
	ALLOC_GROW(rep->v, rep->nr + 1, rep->alloc);
	rep->v[rep->nr].what = what;
	rep->v[rep->nr].id = id;
	rep->v[rep->nr].finding = f;
	rep->nr++;
}

/* A fix is under way: leave the incident to it, recovered or not. */
static int fix_in_flight(enum incident_state s)
{
	return s >= STATE_FIX_GENERATION_IN_PROGRESS && s <= STATE_VERIFICATION_COMPLETE;
}

/* A title from a finding's summary: one line, no control characters. */
static char *title_of(const struct finding *f)
{
	char *title = scout_one_line(f->summary ? f->summary : f->fingerprint, 900);

	if (!*title) {
		free(title);
		title = xstrdup(f->fingerprint);
	}
	return title;
}

static int open_or_update(struct store *st, struct tracker *t, const struct config *cfg,
			  const struct finding *f, const struct scout_options *o,
			  long long *id, int *created)
{
	struct incident_new in = { 0 };
	char *title = title_of(f);
	int r;

	in.service = f->service;
	in.title = title;
	in.fingerprint = f->fingerprint;
	in.source = f->source;
	in.severity = f->severity;
	in.actor = o->actor;
	r = mirror_incident_open(st, t, cfg, &in, id, created);
	if (!r && *created && f->evidence) {
		/* What the source saw, for diagnose and for the person paged. */
		cJSON *body = cJSON_CreateObject();
		char *text;
		cJSON_AddStringToObject(body, "summary", title);
		cJSON_AddItemToObject(body, "evidence", cJSON_Duplicate(f->evidence, 1));
		text = cJSON_PrintUnformatted(body);
		r = store_event_append(st, *id, "evidence", o->actor, text) < 0 ? -1 : 0;
		cJSON_free(text);
		cJSON_Delete(body);
	}
	free(title);
	return r;
}

/* Resolve a recovered incident, unless a fix is in flight. */
static int recover(struct store *st, struct tracker *t, const struct config *cfg,
		   const struct finding *f, const char *fingerprint, long long id, int passes,
		   const struct scout_options *o, struct scout_report *rep)
{
	struct incident inc;
	enum incident_state remote;
	char *reason;
	int r, expected;

	if (store_incident_get(st, id, &inc))
		return -1;
	/* A fix (or diagnosis) at work on it decides; it is not resolved under it. */
	if (fix_in_flight(inc.state) || store_lease_held(st, id, NULL)) {
		incident_release(&inc);
		return 0;
	}
	expected = (int)inc.state;
	incident_release(&inc);
	if (o->dry_run) {
		change(rep, "would resolve", id, f);
		return 0;
	}
	reason = f && f->summary ?
		 xstrfmt("recovered: %s (healthy for %d run%s)", f->summary, passes, passes > 1 ? "s" : "") :
		 xstrfmt("recovered: %s is no longer reported (for %d run%s)", fingerprint, passes,
			 passes > 1 ? "s" : "");
	r = mirror_incident_transition(st, t, cfg, id, expected, STATE_INCIDENT_RESOLVED, o->actor,
				       reason, &remote);
	free(reason);
	if (r < 0)
		return -1;
	if (r == 0)
		change(rep, "recovered", id, f);
	return 0; /* refused or followed the tracker: nothing to report */
}

/*
 * Is saying nothing about it a healthy verdict? Yes for what a source
 * reports only when it is wrong (a pod, a container, a firing alert); no
 * for a check that was simply not judged this run (no data, too few
 * samples or traces), which must neither fail nor recover.
 */
int scout_silence_is_healthy(const struct incident *inc)
{
	return !strcmp(inc->source, "kubernetes") || !strcmp(inc->source, "docker") ||
	       (!strcmp(inc->source, "prometheus") && strstr(inc->fingerprint, "/alert/"));
}

static int ran(const struct strvec *sources, const char *source)
{
	for (size_t i = 0; i < sources->nr; i++)
		if (!strcmp(sources->v[i], source))
			return 1;
	return 0;
}

int scout_decide(struct store *st, struct tracker *t, const struct config *cfg,
		 struct findings *fs, const struct strvec *sources_ran,
		 const struct scout_options *o, struct scout_report *rep)
{
	struct incident_filter open_only = { .all = 0, .state = -1 };
	struct incident *open = NULL;
	size_t nopen = 0;

	rep->incident = xcalloc(fs->nr ? fs->nr : 1, sizeof(*rep->incident));
	for (size_t i = 0; i < fs->nr; i++) {
		const struct finding *f = &fs->v[i];
		/* Alertmanager already waited for the alert's `for:`. */
		int once = !strcmp(f->source, "alertmanager");
		int fail_after = once ? 1 : o->fail_after, recover_after = once ? 1 : o->recover_after;
		int failures, passes, r, created;
		long long id = 0;

		r = o->dry_run ? store_check_peek(st, f->fingerprint, &failures, &passes)
			       : store_check_record(st, f->fingerprint, f->source, f->failing,
						    f->summary, &failures, &passes);
		if (r < 0)
			return -1;
		if (o->dry_run) {
			failures = f->failing ? failures + 1 : 0;
			passes = f->failing ? 0 : passes + 1;
		}
		r = store_incident_by_fingerprint(st, f->fingerprint, &id);
		if (r < 0)
			return -1;
		if (f->failing) {
			if (!r || failures >= fail_after) {
				if (o->dry_run) {
					change(rep, r ? "would open" : "would update", r ? 0 : id, f);
					rep->incident[i] = r ? 0 : id;
					continue;
				}
				if (open_or_update(st, t, cfg, f, o, &id, &created) < 0)
					return -1;
				change(rep, created ? "opened" : "updated", id, f);
				rep->incident[i] = id;
			}
		} else if (!r) {
			rep->incident[i] = id;
			if (passes >= recover_after) {
				if (recover(st, t, cfg, f, f->fingerprint, id, passes, o, rep) < 0)
					return -1;
				if (rep->nr && rep->v[rep->nr - 1].id == id && !o->dry_run)
					rep->incident[i] = 0;
			}
		}
	}

	/* Open incidents of sources read in full, with nothing said this run. */
	if (store_incident_list(st, &open_only, &open, &nopen) < 0)
		return -1;
	for (size_t j = 0; j < nopen; j++) {
		const struct incident *inc = &open[j];
		int seen = 0, failures, passes;

		if (!ran(sources_ran, inc->source) || !scout_silence_is_healthy(inc))
			continue;
		for (size_t i = 0; i < fs->nr && !seen; i++)
			seen = !strcmp(fs->v[i].fingerprint, inc->fingerprint);
		if (seen)
			continue;
		if ((o->dry_run ? store_check_peek(st, inc->fingerprint, &failures, &passes)
				: store_check_record(st, inc->fingerprint, inc->source, 0, NULL,
						     &failures, &passes)) < 0) {
			incident_list_free(open, nopen);
			return -1;
		}
		if (o->dry_run)
			passes++;
		if (passes >= o->recover_after &&
		    recover(st, t, cfg, NULL, inc->fingerprint, inc->id, passes, o, rep) < 0) {
			incident_list_free(open, nopen);
			return -1;
		}
	}
	incident_list_free(open, nopen);
	return 0;
}
