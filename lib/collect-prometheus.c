/*
 * collect-prometheus.c: the Prometheus evidence of `sre diagnose`: how
 * the service's checks moved over diagnose.lookback (default 1h).
 *
 * The checks read are the [check "<name>"] with a `prometheus` query
 * whose service (check.<name>.service, default the check's name) is the
 * service, and the incident's own check. Each is asked as a range query
 * (GET /api/v1/query_range, start and end in Unix seconds, a step of a
 * 120th of the window but at least 15s, or a tenth of a window shorter
 * than 150s, in whole seconds), all at once, with lib/
 * prometheus.c's authentication; each answer is kept whole, as
 * Prometheus wrote it, under the check's name. A check whose name cannot
 * be a file name (prometheus-<check>.json) is not read.
 *
 * Failures are told as lib/prometheus.c tells them: "prometheus: <url>:
 * <why>" when Prometheus cannot be read, with the check named when
 * Prometheus answers its query with an error. The checks that were read
 * are kept when another failed.
 */
#include "evidence.h"
#include "prometheus.h"
#include "scout.h"
#include "timeutil.h"

/* Queries in flight at once. */
#define PROMETHEUS_COLLECT_PARALLEL 8
/* The points of a range query: the window over this many steps... */
#define RANGE_STEPS 120
/*
 * ... and no step shorter than a usual scrape interval, unless the window
 * is so short (diagnose.lookback under 150s, as where Prometheus scrapes
 * every second) that it would hold fewer than MIN_POINTS: a range of one
 * point shows no fall.
 */
#define MIN_STEP_MS (15 * 1000)
#define MIN_POINTS 10

/* The query of [check "<name>"] when it is one of the service's, or NULL. Borrowed. */
static const char *wanted_query(const struct config *cfg, const char *name,
				const struct collect_options *o)
{
	struct strbuf key = STRBUF_INIT;
	const char *query = config_get_string(cfg, config_key_of(&key, "check", name, "prometheus"));
	const char *service = config_get_string(cfg, config_key_of(&key, "check", name, "service"));

	strbuf_release(&key);
	if (!query || !*query || !evidence_name_ok(name))
		return NULL;
	if (!service || !*service)
		service = name;
	if (!strcmp(service, o->service) || (o->check && !strcmp(o->check, name)))
		return query;
	return NULL;
}

int collect_prometheus_configured(const struct config *cfg, const struct collect_options *o)
{
	const char *url = config_get_string(cfg, "prometheus.url");
	struct strvec names = STRVEC_INIT;
	int found = 0;

	if (!url || !*url)
		return 0;
	config_subsections(cfg, "check", &names);
	for (size_t i = 0; i < names.nr && !found; i++)
		found = wanted_query(cfg, names.v[i], o) != NULL;
	strvec_clear(&names);
	return found;
}

/* A time in ms since the epoch as the API takes it: Unix seconds, with the milliseconds if any. */
static void add_unix_time(struct strbuf *sb, int64_t ms)
{
	if (ms % 1000)
		strbuf_addf(sb, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
	else
		strbuf_addf(sb, "%lld", (long long)(ms / 1000));
}

/* Is a successful answer's data a range query's matrix? */
static int is_matrix(const cJSON *data)
{
	const char *type = json_string(data, "resultType");

	return type && !strcmp(type, "matrix") &&
	       cJSON_IsArray(json_get(data, "result"));
}

int collect_prometheus(const struct collect_context *c, struct evidence *ev, struct strbuf *why)
{
	const char *url = config_get_string(c->cfg, "prometheus.url");
	const char *lookback = config_get_string(c->cfg, "diagnose.lookback");
	struct prometheus_auth auth = PROMETHEUS_AUTH_INIT;
	struct http_batch rs = HTTP_BATCH_INIT;
	struct strvec names = STRVEC_INIT;
	struct strbuf base = STRBUF_INIT, msg = STRBUF_INIT;
	const char **checks = NULL, **queries = NULL;
	size_t n = 0, alloc = 0, qalloc = 0;
	int64_t lookback_ms = 3600 * 1000, end_ms = (int64_t)c->now * 1000, step_ms;
	int ret = -1;

	if (!url || !*url) {
		strbuf_addstr(why, "prometheus: prometheus.url is not set");
		return -1;
	}
	if (lookback && (parse_duration_ms(lookback, &lookback_ms) < 0 || lookback_ms <= 0)) {
		strbuf_addf(why, "prometheus: diagnose.lookback is '%s', not a duration (1h)",
			    lookback);
		return -1;
	}
	/* A step of whole seconds, so that every point falls on one. */
	step_ms = (lookback_ms / RANGE_STEPS + 999) / 1000 * 1000;
	if (step_ms < MIN_STEP_MS)
		step_ms = lookback_ms / MIN_POINTS < MIN_STEP_MS ?
			  (lookback_ms / MIN_POINTS + 999) / 1000 * 1000 : MIN_STEP_MS;
	strbuf_addstr(&base, url);
	while (base.len && base.buf[base.len - 1] == '/')
		strbuf_setlen(&base, base.len - 1);
	if (prometheus_auth_read(c->cfg, c->http, &auth, why) < 0)
		goto out;

	config_subsections(c->cfg, "check", &names);
	for (size_t i = 0; i < names.nr; i++) {
		const char *query = wanted_query(c->cfg, names.v[i], c->o);
		struct strbuf u = STRBUF_INIT;

		if (!query)
			continue;
		ALLOC_GROW(checks, n + 1, alloc);
		ALLOC_GROW(queries, n + 1, qalloc);
		checks[n] = names.v[i];
		queries[n] = query;
		n++;
		strbuf_addf(&u, "%s/api/v1/query_range?query=", base.buf);
		http_urlencode(&u, query);
		strbuf_addstr(&u, "&start=");
		add_unix_time(&u, end_ms - lookback_ms);
		strbuf_addstr(&u, "&end=");
		add_unix_time(&u, end_ms);
		strbuf_addf(&u, "&step=%lld", (long long)(step_ms / 1000));
		prometheus_auth_apply(&auth, http_batch_add(&rs, strbuf_detach(&u, NULL)));
	}
	if (n)
		http_do_many(c->http, rs.req, rs.res, n, PROMETHEUS_COLLECT_PARALLEL);

	/* Each check on its own: one that failed leaves the others' answers in. */
	ret = 0;
	for (size_t i = 0; i < n; i++) {
		const struct http_response *res = &rs.res[i];
		cJSON *answer;
		const cJSON *data;
		int first = !ret;

		strbuf_reset(&msg);
		answer = prometheus_api_answer(res, &msg);
		if (!answer) {
			ret = -1;
			if (first && http_deadline_passed(c->http, res))
				strbuf_addf(why, "prometheus: %s: timed out", base.buf);
			else if (first)
				strbuf_addf(why, "prometheus: %s: %s", base.buf, msg.buf);
			continue;
		}
		data = prometheus_api_data(answer, &msg);
		if (data && is_matrix(data)) {
			evidence_add_prometheus(ev, checks[i], queries[i], answer);
			continue;
		}
		ret = -1;
		if (first)
			strbuf_addf(why, "prometheus: %s: check \"%s\": %s", base.buf, checks[i],
				    data ? "the answer is not a range query's matrix" : msg.buf);
		cJSON_Delete(answer);
	}
out:
	http_batch_release(&rs);
	prometheus_auth_release(&auth);
	strvec_clear(&names);
	free(checks);
	free(queries);
	strbuf_release(&base);
	strbuf_release(&msg);
	return ret;
}
