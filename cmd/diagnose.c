/*
 * diagnose.c: `sre diagnose`, why an incident happened.
 *
 *   sre diagnose [--json] [--save-evidence <dir>] [--timeout <duration>] <incident>...
 *   sre diagnose --evidence <dir> [--json] [--save-evidence <dir>]
 *   sre diagnose --problem <text> [--service <name>] [--json] [--save-evidence <dir>] [--timeout <duration>]
 *
 * The evidence is read from every configured source at once
 * (lib/collect.c) or from a bundle (lib/evidence.c), the rules judge it
 * (lib/rules.c), and the answer is printed once, as text or JSON. On a
 * live incident the diagnosis is also kept: a row of the diagnoses table,
 * the incident's category, a "diagnosed" event, a comment on the tracker,
 * and the move ANALYSIS_IN_PROGRESS -> ANALYSIS_COMPLETE, or
 * INCIDENT_REQUIRES_HUMAN when the answer is unknown or escalate.
 *
 * Diagnosing an incident again (cron piping `sre scout --porcelain` into
 * it every minute) records and announces only an answer that changed; an
 * escalated incident keeps its state whatever the answer, since a person
 * hands it back; after a fix began the diagnosis is only recorded.
 */
#include <sys/ioctl.h>
#include <unistd.h>

#include "builtin.h"
#include "../lib/color.h"
#include "../lib/evidence.h"
#include "../lib/format.h"
#include "../lib/mirror.h"
#include "../lib/rules.h"
#include "../lib/scout.h"
#include "../lib/timeutil.h"
#include "../lib/tracker.h"

static const char *const diagnose_usage[] = {
	"sre diagnose [--json] [--save-evidence <dir>] [--timeout <duration>] <incident>...",
	"sre diagnose --evidence <dir> [--json] [--save-evidence <dir>]",
	"sre diagnose --problem <text> [--service <name>] [--json] [--save-evidence <dir>] [--timeout <duration>]",
	NULL,
};

struct diagnose_options {
	int json;
	const char *save;
	const char *evidence;
	const char *problem;
	const char *service;
	const char *timeout;
	int64_t timeout_ms;
};

/* ---- output ---- */

static cJSON *critical_path_json(const struct diagnosis *d)
{
	const struct trace_slow *s;
	cJSON *o, *spans;

	if (!d->have_traces || !d->traces.slow_nr)
		return cJSON_CreateNull();
	s = &d->traces.slow[0];
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "trace_id", s->trace_id ? s->trace_id : "");
	cJSON_AddNumberToObject(o, "duration_us", (double)s->duration_us);
	spans = cJSON_AddArrayToObject(o, "spans");
	for (size_t i = 0; i < s->path_nr; i++) {
		const struct trace_path_span *p = &s->path[i];
		cJSON *sp = cJSON_CreateObject();
		cJSON_AddStringToObject(sp, "service", p->service ? p->service : "");
		cJSON_AddStringToObject(sp, "operation", p->operation ? p->operation : "");
		cJSON_AddNumberToObject(sp, "start_us", (double)p->start_us);
		cJSON_AddNumberToObject(sp, "duration_us", (double)p->duration_us);
		cJSON_AddNumberToObject(sp, "self_us", (double)p->self_us);
		cJSON_AddBoolToObject(sp, "error", p->error);
		cJSON_AddItemToArray(spans, sp);
	}
	return o;
}

static cJSON *diagnosis_json(const struct diagnosis *d, const struct evidence *ev,
			     long long id, const char *problem)
{
	cJSON *o = diagnosis_finding_json(&d->answer), *all = cJSON_CreateArray();
	cJSON *head = cJSON_CreateObject(), *item;

	/* The incident and the service first, then the answer's fields. */
	if (id)
		cJSON_AddNumberToObject(head, "incident", (double)id);
	else
		cJSON_AddNullToObject(head, "incident");
	cJSON_AddStringToObject(head, "service", ev->service ? ev->service : "");
	if (problem)
		cJSON_AddStringToObject(head, "problem", problem);
	else
		cJSON_AddNullToObject(head, "problem");
	while ((item = o->child)) {
		cJSON_DetachItemViaPointer(o, item);
		cJSON_AddItemToObject(head, item->string, item);
	}
	cJSON_Delete(o);
	for (size_t i = 0; i < d->findings_nr; i++)
		cJSON_AddItemToArray(all, diagnosis_finding_json(&d->findings[i]));
	cJSON_AddItemToObject(head, "findings", all);
	cJSON_AddItemToObject(head, "critical_path", critical_path_json(d));
	cJSON_AddItemToObject(head, "past_incidents",
			      ev->past ? cJSON_Duplicate(ev->past, 1) : cJSON_CreateArray());
	cJSON_AddItemToObject(head, "sources", evidence_sources_json(ev));
	return head;
}

static int terminal_width(void)
{
	struct winsize ws;

	if (isatty(1) && !ioctl(1, TIOCGWINSZ, &ws) && ws.ws_col >= 40)
		return ws.ws_col > 160 ? 160 : ws.ws_col;
	return 100;
}

static void print_params(FILE *fp, const cJSON *params)
{
	const cJSON *p;
	int first = 1;

	cJSON_ArrayForEach(p, params) {
		fprintf(fp, "%s%s=", first ? " (" : " ", p->string);
		if (cJSON_IsString(p))
			fputs(p->valuestring, fp);
		else
			fprintf(fp, "%g", p->valuedouble);
		first = 0;
	}
	if (!first)
		fputc(')', fp);
}


/* An incident's id as a bundle gives it: a whole number, or 0 when it is not one. */
static long long bundle_id(const cJSON *o)
{
	long long id = 0;

	if (json_to_ll(cJSON_GetObjectItemCaseSensitive(o, "id"), 0, JSON_INT_MAX, &id) < 0)
		id = 0;
	return id;
}

static void print_text(FILE *fp, const struct diagnosis *d, const struct evidence *ev,
		       long long id, const char *problem, const char *dir, int color)
{
	const struct diagnosis_finding *a = &d->answer;
	const char *bold = color ? COLOR_BOLD : "", *reset = color ? COLOR_RESET : "";
	const char *title = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev->incident, "title"));
	size_t failed = 0;

	if (id)
		fprintf(fp, "%sIncident #%lld%s  %s\n", bold, id, reset, title ? title : "");
	else if (dir && ev->incident)
		fprintf(fp, "%sIncident #%lld%s  %s (from %s)\n", bold, bundle_id(ev->incident),
			reset, title ? title : "", dir);
	else if (problem)
		fprintf(fp, "%sProblem%s  %s\n", bold, reset, problem);
	else
		fprintf(fp, "%sEvidence%s  %s\n", bold, reset, dir);
	fprintf(fp, "Service     %s\n", ev->service ? ev->service : "?");
	fprintf(fp, "Root cause  %s\n", a->root_cause);
	fprintf(fp, "Category    %s (confidence %.2f)\n", diagnosis_category_name(a->category),
		a->confidence);
	fprintf(fp, "Mitigation  %s%s%s", mitigation_action_name(a->action), a->target ? " " : "",
		a->target ? a->target : "");
	print_params(fp, a->params);
	fputc('\n', fp);
	if (a->evidence_nr) {
		fprintf(fp, "\n%sEvidence%s\n", bold, reset);
		for (size_t i = 0; i < a->evidence_nr; i++)
			fprintf(fp, "  [%s] \"%s\"\n", a->evidence[i].source, a->evidence[i].summary);
	}
	if (d->have_traces && d->traces.slow_nr && d->traces.slow[0].path_nr) {
		struct strbuf sb = STRBUF_INIT;
		traces_waterfall(&sb, &d->traces.slow[0], terminal_width() - 2, color);
		fprintf(fp, "\n%sCritical path of the slowest trace%s (%s)\n%s", bold, reset,
			d->traces.slow[0].trace_id ? d->traces.slow[0].trace_id : "?", sb.buf);
		strbuf_release(&sb);
	}
	if (d->findings_nr > 1) {
		fprintf(fp, "\n%sOther findings%s\n", bold, reset);
		for (size_t i = 1; i < d->findings_nr; i++)
			fprintf(fp, "  %.2f %-18s %s\n", d->findings[i].confidence,
				diagnosis_category_name(d->findings[i].category), d->findings[i].root_cause);
	}
	if (cJSON_GetArraySize(ev->past)) {
		const cJSON *p;
		int n = 0;
		fprintf(fp, "\n%sPast incidents%s\n", bold, reset);
		cJSON_ArrayForEach(p, ev->past) {
			if (n++ >= 10)
				break;
			fprintf(fp, "  #%-5lld %s  %-22s %-14s %s\n", bundle_id(p),
				scout_json_string(p, "opened_at") ? scout_json_string(p, "opened_at") : "",
				scout_json_string(p, "state") ? scout_json_string(p, "state") : "",
				scout_json_string(p, "category") ? scout_json_string(p, "category") : "-",
				scout_json_string(p, "title") ? scout_json_string(p, "title") : "");
		}
	}
	for (size_t i = 0; i < ev->sources_nr; i++)
		failed += ev->sources[i].status != EVIDENCE_OK;
	if (failed) {
		fprintf(fp, "\n%sNot read%s\n", bold, reset);
		for (size_t i = 0; i < ev->sources_nr; i++)
			if (ev->sources[i].status != EVIDENCE_OK)
				fprintf(fp, "  %s (%s): %s\n", ev->sources[i].name,
					ev->sources[i].status == EVIDENCE_TIMEOUT ? "timed out" : "failed",
					ev->sources[i].error ? ev->sources[i].error : "");
	}
}

static int report(const struct diagnosis *d, const struct evidence *ev, long long id,
		  const struct diagnose_options *o)
{
	if (o->json) {
		cJSON *j = diagnosis_json(d, ev, id, o->problem);
		json_print(stdout, j);
		cJSON_Delete(j);
	} else {
		print_text(stdout, d, ev, id, o->problem, o->evidence, the_sre.color);
	}
	return 0;
}

/* ---- one diagnosis ---- */

static int judge(struct diagnosis *d, struct evidence *ev, const struct diagnose_options *o)
{
	if (o->save && evidence_save(ev, o->save) < 0)
		return -1;
	return rules_diagnose(d, ev, o->problem);
}

static int from_bundle(const struct diagnose_options *o)
{
	struct evidence ev = EVIDENCE_INIT;
	struct diagnosis d = DIAGNOSIS_INIT;
	int ret = EXIT_FATAL;

	if (evidence_load(&ev, o->evidence) == 0) {
		if (!ev.service)
			ev.service = xstrdup("unknown");
		if (!judge(&d, &ev, o))
			ret = report(&d, &ev, 0, o);
	}
	diagnosis_release(&d);
	evidence_release(&ev);
	return ret;
}

/*
 * The service a question is about: --service, else a configured service
 * the text names, else the service of a check it names.
 */
static char *problem_service(const struct diagnose_options *o, const struct option *opts)
{
	const char *sections[] = { "service", "check" };
	struct strbuf key = STRBUF_INIT;
	char *found = NULL;

	if (o->service)
		return xstrdup(o->service);
	for (size_t s = 0; s < ARRAY_SIZE(sections) && !found; s++) {
		struct strvec names = STRVEC_INIT;
		config_subsections(&the_sre.cfg, sections[s], &names);
		for (size_t i = 0; i < names.nr && !found; i++) {
			const char *service;
			if (!strstr(o->problem, names.v[i]))
				continue;
			service = s ? config_get_string(&the_sre.cfg,
							scout_key(&key, "check", names.v[i], "service")) : NULL;
			found = xstrdup(service ? service : names.v[i]);
		}
		strvec_clear(&names);
	}
	strbuf_release(&key);
	if (!found)
		usage_error(diagnose_usage, opts, "which service is it about? name it with --service");
	return found;
}

static int from_problem(const struct diagnose_options *o, const struct option *opts)
{
	struct evidence ev = EVIDENCE_INIT;
	struct diagnosis d = DIAGNOSIS_INIT;
	struct collect_options co = { 0 };
	char *service = problem_service(o, opts);
	int ret = EXIT_FATAL;

	if (incident_check_text("the problem", o->problem, 2000, 1) < 0) {
		free(service);
		return EXIT_USAGE;
	}
	co.service = service;
	co.timeout_ms = o->timeout_ms;
	if (!evidence_collect(&ev, &the_sre.cfg, sre_store_if_exists(), &co) && !judge(&d, &ev, o))
		ret = report(&d, &ev, 0, o);
	diagnosis_release(&d);
	evidence_release(&ev);
	free(service);
	return ret;
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
static int move(struct store *st, long long id, enum incident_state from,
		enum incident_state to, const char *reason)
{
	enum incident_state remote = from;
	int r = mirror_incident_transition(st, sre_tracker(), &the_sre.cfg, id, (int)from, to,
					   sre_actor(), reason, &remote);

	if (r == MIRROR_FOLLOWED)
		warning("incident %lld is %s on the tracker; it was left there", id,
			incident_state_name(remote));
	return r < 0 && r != STORE_REFUSED ? -1 : 0;
}

static int record(struct store *st, long long id, const struct diagnosis *d,
		  const struct evidence *ev, const struct diagnose_options *o)
{
	struct tracker *t = sre_tracker();
	cJSON *j = diagnosis_json(d, ev, id, o->problem);
	char *json = cJSON_PrintUnformatted(j);
	struct diagnosis_row row = {
		diagnosis_category_name(d->answer.category), d->answer.root_cause,
		d->answer.confidence, mitigation_action_name(d->answer.action), d->answer.target, json,
	};
	struct strbuf comment = STRBUF_INIT;
	char key[37];
	int r;

	diagnosis_comment(&comment, d);
	mirror_new_key(key);
	r = store_begin(st);
	if (!r)
		r = store_diagnosis_add(st, id, &row, sre_actor());
	if (!r && t)
		r = mirror_queue_comment(st, t->ops->name, id, key, sre_actor(), comment.buf);
	if (!r)
		r = store_commit(st);
	else
		store_rollback(st);
	strbuf_release(&comment);
	cJSON_free(json);
	cJSON_Delete(j);
	return r ? -1 : 0;
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
	target = scout_json_string(m, "target");
	same = !strcmp(scout_json_string(last, "category") ? scout_json_string(last, "category") : "",
		       diagnosis_category_name(d->answer.category)) &&
	       !strcmp(scout_json_string(m, "action") ? scout_json_string(m, "action") : "",
		       mitigation_action_name(d->answer.action)) &&
	       !strcmp(target ? target : "", d->answer.target ? d->answer.target : "");
	cJSON_Delete(last);
	free(json);
	return same;
}

static int diagnose_incident(long long id, const struct diagnose_options *o)
{
	struct store *st = sre_store_if_exists();
	struct evidence ev = EVIDENCE_INIT;
	struct diagnosis d = DIAGNOSIS_INIT;
	struct collect_options co = { 0 };
	struct incident inc;
	struct event *events = NULL;
	size_t nr = 0;
	enum incident_state state;
	char *check = NULL;
	int r, ret = EXIT_FATAL, human;

	if (!st || (r = store_incident_get(st, id, &inc)) > 0) {
		error("no incident %lld", id);
		return EXIT_FOUND;
	}
	if (r < 0)
		return EXIT_FATAL;
	st = sre_store();
	/* Its writes wait for a fix or another diagnosis of the same incident. */
	incident_release(&inc);
	r = sre_take_lease(id, "sre diagnose");
	if (r)
		return r < 0 ? EXIT_FATAL : EXIT_FOUND;
	if (store_incident_get(st, id, &inc))
		return EXIT_FATAL;
	state = inc.state;
	if (state == STATE_INCIDENT_DETECTED) {
		if (move(st, id, state, STATE_ANALYSIS_IN_PROGRESS, "diagnosis started") < 0)
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
	if (evidence_collect(&ev, &the_sre.cfg, st, &co) < 0)
		goto out;
	if (store_event_list(st, id, &events, &nr) < 0)
		goto out;
	ev.incident = incident_to_json(&inc);
	incident_add_events_json(ev.incident, events, nr);
	if (judge(&d, &ev, o) < 0)
		goto out;
	human = d.answer.category == CATEGORY_unknown || d.answer.action == ACTION_escalate;
	if (state != STATE_ANALYSIS_IN_PROGRESS && same_as_latest(st, id, &d)) {
		fprintf(stderr, "incident %lld: the diagnosis is unchanged since the last one\n", id);
	} else {
		struct strbuf reason = STRBUF_INIT;

		if (record(st, id, &d, &ev, o) < 0)
			goto out;
		strbuf_addf(&reason, "%s: %s", diagnosis_category_name(d.answer.category),
			    d.answer.root_cause);
		r = 0;
		if (state == STATE_ANALYSIS_IN_PROGRESS)
			r = move(st, id, state, human ? STATE_INCIDENT_REQUIRES_HUMAN :
						     STATE_ANALYSIS_COMPLETE, reason.buf);
		else if (state == STATE_ANALYSIS_COMPLETE && human)
			r = move(st, id, state, STATE_INCIDENT_REQUIRES_HUMAN, reason.buf);
		else if (state != STATE_ANALYSIS_COMPLETE)
			fprintf(stderr, "incident %lld is %s: the diagnosis was recorded; "
				"its state is unchanged\n", id, incident_state_name(state));
		strbuf_release(&reason);
		if (r < 0)
			goto out;
	}
	ret = report(&d, &ev, id, o);
	if (sre_deliver())
		ret = EXIT_FOUND;
out:
	incident_release(&inc);
out_noinc:
	event_list_free(events, nr);
	diagnosis_release(&d);
	evidence_release(&ev);
	free(check);
	return ret;
}

int cmd_diagnose(int argc, const char **argv)
{
	struct diagnose_options o = { 0 };
	int ret = 0;
	const struct option opts[] = {
		OPT_BOOL(0, "json", &o.json, "print one JSON object per diagnosis"),
		OPT_STRING(0, "save-evidence", &o.save, "dir", "write the evidence read into <dir>"),
		OPT_STRING(0, "evidence", &o.evidence, "dir", "diagnose from a saved bundle, offline"),
		OPT_STRING(0, "problem", &o.problem, "text", "diagnose a question, without an incident"),
		OPT_STRING(0, "service", &o.service, "name", "the service --problem is about"),
		OPT_STRING(0, "timeout", &o.timeout, "duration", "the deadline for reading evidence (diagnose.timeout)"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, diagnose_usage, 0);
	if (o.evidence && o.problem)
		usage_error(diagnose_usage, opts, "--evidence and --problem cannot be used together");
	if (o.service && !o.problem)
		usage_error(diagnose_usage, opts, "--service goes with --problem");
	if (o.timeout && o.evidence)
		usage_error(diagnose_usage, opts, "--evidence reads no source: --timeout has no meaning");
	if ((o.evidence || o.problem) && argc)
		usage_error(diagnose_usage, opts, "an incident id cannot go with %s",
			    o.evidence ? "--evidence" : "--problem");
	if (!o.evidence && !o.problem && !argc)
		usage_error(diagnose_usage, opts, "which incident? give its id, --problem or --evidence");
	if (o.timeout && (parse_duration_ms(o.timeout, &o.timeout_ms) < 0 || o.timeout_ms <= 0))
		usage_error(diagnose_usage, opts, "--timeout '%s' is not a duration", o.timeout);
	if (o.save && argc > 1)
		usage_error(diagnose_usage, opts, "--save-evidence takes one incident");
	if (o.evidence)
		return from_bundle(&o);
	if (o.problem)
		return from_problem(&o, opts);
	for (int i = 0; i < argc; i++) {
		long long id;
		int r;
		if (parse_ll(argv[i], &id) < 0 || id <= 0)
			usage_error(diagnose_usage, opts, "'%s' is not an incident id (a positive number)",
				    argv[i]);
		r = diagnose_incident(id, &o);
		if (r > ret)
			ret = r;
	}
	return ret;
}
