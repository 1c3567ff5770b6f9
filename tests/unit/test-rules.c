/*
 * test-rules.c: unit tests of the rule engine of `sre diagnose`
 * (rules.h), printing TAP. Each case builds a small piece of evidence in
 * code, in the sources' own wire formats (a PodList, Docker inspect
 * objects, Jaeger's traces, a query_range answer), runs rules_diagnose()
 * and checks the answer: its category, mitigation and target, and that
 * it quotes what it rests on. Beside them: evidence that says nothing
 * falls back to unknown with mitigation none; the same failure for the
 * third time in a day turns a restart into escalate; every confidence
 * lies within [0, 1]; hostile shapes (a string where an object goes)
 * give unknown, never a crash.
 */
#include "../../lib/rules.h"
#include "../../lib/timeutil.h"
#include "test-lib.h"

#define NOW "2026-11-24T06:00:00Z"
#define OPENED "2026-11-24T05:30:00Z"

/* JSON written with single quotes, for legibility; the test says so when it does not parse. */
static cJSON *J(const char *text)
{
	char *s = xstrdup(text);
	cJSON *j;

	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	j = cJSON_Parse(s);
	if (!j)
		printf("# the test's own JSON does not parse: %.300s\n", s);
	free(s);
	return j;
}

static void ev_init(struct evidence *ev, const char *service)
{
	memset(ev, 0, sizeof(*ev));
	ev->service = xstrdup(service);
	parse_iso8601(NOW, &ev->now);
}

/* The incident the evidence is about: fingerprint and source, opened at OPENED. */
static void ev_incident(struct evidence *ev, const char *fingerprint, const char *source,
			const char *title)
{
	cJSON *inc = cJSON_CreateObject();

	cJSON_AddStringToObject(inc, "fingerprint", fingerprint);
	cJSON_AddStringToObject(inc, "source", source);
	cJSON_AddStringToObject(inc, "title", title);
	cJSON_AddStringToObject(inc, "opened_at", OPENED);
	cJSON_Delete(ev->incident);
	ev->incident = inc;
}

/* A PodList of one pod of Deployment web (ReplicaSet web-5d8f7c9b4), with this status. */
static cJSON *pods_of(const char *status, const char *containers)
{
	char *text = xstrfmt(
		"{'kind':'PodList','items':[{'metadata':{'name':'web-5d8f7c9b4-x2x9z','namespace':'shop',"
		"'labels':{'app':'web','pod-template-hash':'5d8f7c9b4'},"
		"'ownerReferences':[{'kind':'ReplicaSet','name':'web-5d8f7c9b4'}]},"
		"'spec':{'containers':%s},'status':%s}]}",
		containers ? containers :
		"[{'name':'web','image':'shop/web:2','resources':{'limits':{'memory':'256Mi'}}}]",
		status);
	cJSON *j = J(text);

	free(text);
	return j;
}

/* Every finding's confidence within [0, 1], its sets closed, and the answer quoting evidence. */
static void check_shape(const struct diagnosis *d, const char *what)
{
	int sane = 1;

	for (size_t i = 0; i < d->findings_nr; i++) {
		const struct diagnosis_finding *f = &d->findings[i];
		sane &= f->confidence >= 0.0 && f->confidence <= 1.0;
		sane &= (unsigned)f->category < CATEGORY__COUNT && (unsigned)f->action < ACTION__COUNT;
		sane &= f->root_cause && *f->root_cause && cJSON_IsObject(f->params);
		if (i)
			sane &= f->confidence <= d->findings[i - 1].confidence;
	}
	ok(sane, "%s: every finding within [0,1], best first, in the closed sets", what);
	ok(d->answer.confidence >= 0.0 && d->answer.confidence <= 1.0,
	   "%s: the answer's confidence within [0,1]", what);
	sane = 1;
	for (size_t i = 0; i < d->answer.evidence_nr; i++)
		sane &= d->answer.evidence[i].source && *d->answer.evidence[i].source &&
			d->answer.evidence[i].summary && *d->answer.evidence[i].summary &&
			!strchr(d->answer.evidence[i].summary, '\n');
	ok(sane, "%s: each quote has a source and one line", what);
}

/* The answer's evidence, one quote a line, to look for words in. */
static char *quotes(const struct diagnosis *d)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < d->answer.evidence_nr; i++)
		strbuf_addf(&sb, "[%s] %s\n", d->answer.evidence[i].source,
			    d->answer.evidence[i].summary);
	return strbuf_detach(&sb, NULL);
}

static const char *param(const struct diagnosis *d, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d->answer.params, key));
}

/*
 * Diagnose ev (released after) and check the answer's category, action,
 * target and that a quote contains needle (NULL: no quote is looked for).
 */
static void expect(struct evidence *ev, const char *problem, enum diagnosis_category cat,
		   enum mitigation_action act, const char *target, const char *needle,
		   const char *what, struct diagnosis *keep)
{
	struct diagnosis d = DIAGNOSIS_INIT;
	char *q;

	is_int(rules_diagnose(&d, ev, problem), 0, "%s: diagnosed", what);
	is_str(diagnosis_category_name(d.answer.category), diagnosis_category_name(cat),
	       "%s: category", what);
	is_str(mitigation_action_name(d.answer.action), mitigation_action_name(act),
	       "%s: mitigation", what);
	is_str(d.answer.target, target, "%s: target", what);
	check_shape(&d, what);
	q = quotes(&d);
	if (needle)
		like(q, needle, "%s: quotes the evidence", what);
	free(q);
	if (keep)
		*keep = d;
	else
		diagnosis_release(&d);
	evidence_release(ev);
}

/* ---- the categories ---- */

static void test_nothing(void)
{
	struct evidence ev;
	struct diagnosis d;

	ev_init(&ev, "web");
	expect(&ev, NULL, CATEGORY_unknown, ACTION_none, NULL, NULL, "no evidence", &d);
	is_int(d.findings_nr, 0, "no evidence: no rule fired");
	ok(d.answer.confidence == 0.0, "no evidence: confidence 0");
	like(d.answer.root_cause, "web", "no evidence: the root cause names the service");
	like(d.answer.root_cause, "does not guess", "and says it does not guess");
	diagnosis_release(&d);

	/* Healthy pods, a source that failed: still unknown, with the signals found. */
	ev_init(&ev, "web");
	ev_incident(&ev, "http/web/status", "http", "web returned 503");
	ev.pods = pods_of("{'phase':'Running','conditions':[{'type':'Ready','status':'True'}],"
			  "'containerStatuses':[{'name':'web','ready':true,'restartCount':2,"
			  "'state':{'running':{}}}]}", NULL);
	evidence_add_source(&ev, "jaeger", EVIDENCE_FAILED, "jaeger: connection refused", ev.now, 3);
	evidence_add_log(&ev, "kubernetes", "web-5d8f7c9b4-x2x9z", "ok\nERROR db timeout\nok\n", 28);
	expect(&ev, NULL, CATEGORY_unknown, ACTION_none, NULL, "2 restarts", "healthy pods", &d);
	{
		char *q = quotes(&d);
		like(q, "[store] incident: web returned 503", "unknown: quotes the incident");
		like(q, "[jaeger] not read: jaeger: connection refused", "unknown: and the source not read");
		like(q, "ERROR db timeout", "unknown: and the last error line of a log");
		free(q);
	}
	diagnosis_release(&d);
}

static void test_kubernetes(void)
{
	struct evidence ev;
	struct diagnosis d;

	ev_init(&ev, "web");
	ev.pods = pods_of("{'phase':'Running','containerStatuses':[{'name':'web','restartCount':4,"
			  "'state':{'waiting':{'reason':'CrashLoopBackOff'}},'lastState':{'terminated':"
			  "{'reason':'OOMKilled','exitCode':137,'finishedAt':'2026-11-24T05:29:00Z'}}}]}",
			  NULL);
	expect(&ev, NULL, CATEGORY_oom, ACTION_increase_memory, "web", "OOMKilled (exit code 137)",
	       "chronic OOM", &d);
	is_str(param(&d, "container"), "web", "chronic OOM: the container");
	ok(d.answer.confidence >= 0.85, "chronic OOM: confident");
	diagnosis_release(&d);

	ev_init(&ev, "web");
	ev.pods = pods_of("{'phase':'Running','containerStatuses':[{'name':'web','restartCount':1,"
			  "'ready':true,'state':{'running':{}},'lastState':{'terminated':"
			  "{'reason':'OOMKilled','exitCode':137}}}]}", NULL);
	expect(&ev, NULL, CATEGORY_oom, ACTION_none, "web", "last terminated OOMKilled",
	       "an OOM blip, running again", NULL);

	ev_init(&ev, "web");
	ev.pods = pods_of("{'phase':'Running','containerStatuses':[{'name':'web','restartCount':7,"
			  "'state':{'waiting':{'reason':'CrashLoopBackOff'}},'lastState':{'terminated':"
			  "{'reason':'Error','exitCode':1}}}]}", NULL);
	evidence_add_log(&ev, "kubernetes", "web-5d8f7c9b4-x2x9z.previous",
			 "starting\npanic: missing DATABASE_URL\n", 37);
	expect(&ev, NULL, CATEGORY_crashloop, ACTION_escalate, "web", "CrashLoopBackOff, 7 restarts",
	       "crashloop", NULL);

	ev_init(&ev, "web");
	ev.pods = pods_of("{'phase':'Pending','containerStatuses':[{'name':'web','restartCount':0,"
			  "'state':{'waiting':{'reason':'ImagePullBackOff','message':"
			  "'Back-off pulling image \\'shop/web:bad\\''}}}]}",
			  "[{'name':'web','image':'shop/web:bad'}]");
	ev.replicasets = J("{'items':[{'metadata':{'name':'web-111','annotations':"
			   "{'deployment.kubernetes.io/revision':'1'},'ownerReferences':"
			   "[{'kind':'Deployment','name':'web'}]},'spec':{'template':{'spec':"
			   "{'containers':[{'name':'web','image':'shop/web:1'}]}}}}]}");
	expect(&ev, NULL, CATEGORY_image_pull, ACTION_fix_image, "web", "ImagePullBackOff",
	       "image pull", &d);
	is_str(param(&d, "image"), "shop/web:bad", "image pull: the image that fails");
	is_str(param(&d, "to"), "shop/web:1", "image pull: the one that ran before");
	diagnosis_release(&d);

	ev_init(&ev, "web");
	ev.pods = pods_of("{'phase':'Pending','containerStatuses':[{'name':'web','restartCount':0,"
			  "'state':{'waiting':{'reason':'CreateContainerConfigError','message':"
			  "'configmap \\'web-config\\' not found'}}}]}", NULL);
	expect(&ev, NULL, CATEGORY_config_error, ACTION_patch_config, "web",
	       "CreateContainerConfigError", "config error", &d);
	is_str(param(&d, "missing"), "configmap/web-config", "config error: what is missing");
	diagnosis_release(&d);

	ev_init(&ev, "web");
	ev.pods = pods_of("{'phase':'Failed','reason':'Evicted','message':"
			  "'The node was low on resource: memory. Container web was using 900Mi.'}",
			  NULL);
	expect(&ev, NULL, CATEGORY_eviction, ACTION_escalate, "web", "reason Evicted", "eviction",
	       &d);
	is_str(param(&d, "resource"), "memory", "eviction: the resource");
	diagnosis_release(&d);

	ev_init(&ev, "web");
	ev.pods = pods_of("{'phase':'Pending','conditions':[{'type':'PodScheduled','status':'False',"
			  "'reason':'Unschedulable','message':'0/3 nodes are available: 3 Insufficient cpu.'}]}",
			  NULL);
	expect(&ev, NULL, CATEGORY_unschedulable, ACTION_escalate, "web", "3 Insufficient cpu",
	       "unschedulable", NULL);

	ev_init(&ev, "web");
	ev.pods = pods_of("{'phase':'Running','conditions':[{'type':'Ready','status':'False'}],"
			  "'containerStatuses':[{'name':'web','restartCount':1,'state':{'running':{}}}]}",
			  NULL);
	ev.events = J("{'items':[{'type':'Warning','count':3,'reason':'Unhealthy','message':'Readiness probe failed: HTTP 500',"
		      "'involvedObject':{'name':'web-5d8f7c9b4-x2x9z'}}]}");
	expect(&ev, NULL, CATEGORY_probe_failure, ACTION_restart, "web",
	       "event Unhealthy on web-5d8f7c9b4-x2x9z: Readiness probe failed: HTTP 500 (3 times)",
	       "probe failure", NULL);

	ev_init(&ev, "web");
	ev.pods = pods_of("{'phase':'Running','containerStatuses':[{'name':'web','restartCount':0,"
			  "'state':{'running':{}}}]}", NULL);
	evidence_add_log(&ev, "kubernetes", "web-5d8f7c9b4-x2x9z",
			 "ok\nwrite /data/x: no space left on device\nok\n", 45);
	expect(&ev, NULL, CATEGORY_resource_exhaustion, ACTION_escalate, "web",
	       "no space left on device", "disk full", NULL);
}

static void test_rollout_and_commit(void)
{
	struct evidence ev;
	struct diagnosis d;

	ev_init(&ev, "web");
	ev_incident(&ev, "http/web/status", "http", "web returned 503");
	ev.deployments = J("{'items':[{'metadata':{'name':'web'},'spec':{'replicas':2},'status':"
			   "{'availableReplicas':0,'conditions':[{'type':'Available','status':'False',"
			   "'reason':'MinimumReplicasUnavailable'}]}}]}");
	ev.replicasets = J("{'items':["
		"{'metadata':{'name':'web-111','creationTimestamp':'2026-11-20T01:00:00Z','annotations':"
		"{'deployment.kubernetes.io/revision':'1'},'ownerReferences':[{'kind':'Deployment','name':'web'}]},"
		"'spec':{'template':{'spec':{'containers':[{'name':'web','image':'shop/web:1'}]}}}},"
		"{'metadata':{'name':'web-222','creationTimestamp':'2026-11-24T05:10:00Z','annotations':"
		"{'deployment.kubernetes.io/revision':'2'},'ownerReferences':[{'kind':'Deployment','name':'web'}]},"
		"'spec':{'template':{'spec':{'containers':[{'name':'web','image':'shop/web:2'}]}}}}]}");
	expect(&ev, NULL, CATEGORY_deploy_regression, ACTION_rollback, "web", "revision 2 created",
	       "a rollout before the trouble", &d);
	ok(cJSON_GetNumberValue(cJSON_GetObjectItem(d.answer.params, "revision")) == 1,
	   "rollout: back to revision 1");
	is_str(param(&d, "image"), "shop/web:1", "rollout: and its image");
	diagnosis_release(&d);

	ev_init(&ev, "web");
	ev_incident(&ev, "http/web/status", "http", "web returned 503");
	ev.commits = J("[{'sha':'0123456789abcdef0123','author':'ann','time':'2026-11-24T05:20:00Z',"
		       "'subject':'cache prices','files':['price.go']},"
		       "{'sha':'fedcba9876543210fedc','author':'bob','time':'2026-11-24T02:00:00Z',"
		       "'subject':'old','files':[]}]");
	expect(&ev, NULL, CATEGORY_deploy_regression, ACTION_rollback, "web", "0123456789ab cache prices",
	       "a commit before the trouble", &d);
	is_str(param(&d, "commit"), "0123456789abcdef0123", "commit: the commit to revert");
	diagnosis_release(&d);

	/* A commit with no incident to explain is no finding. */
	ev_init(&ev, "web");
	ev.commits = J("[{'sha':'0123456789abcdef0123','time':'2026-11-24T05:59:00Z','subject':'x'}]");
	expect(&ev, NULL, CATEGORY_unknown, ACTION_none, NULL, NULL, "a commit and no trouble", NULL);
}

static void test_docker_and_process(void)
{
	struct evidence ev;
	struct diagnosis d;

	ev_init(&ev, "web");
	ev.docker = J("[{'Name':'/web','RestartCount':0,'HostConfig':{'Memory':268435456},'State':"
		      "{'Status':'exited','OOMKilled':true,'ExitCode':137,'Running':false}}]");
	expect(&ev, NULL, CATEGORY_oom, ACTION_restart, "web", "State.OOMKilled true", "docker OOM", &d);
	is_str(param(&d, "container"), "web", "docker OOM: the container, without its slash");
	diagnosis_release(&d);

	ev_init(&ev, "web");
	ev.docker = J("[{'Name':'/web','RestartCount':9,'State':{'Status':'restarting','Restarting':true,"
		      "'ExitCode':1}}]");
	expect(&ev, NULL, CATEGORY_crashloop, ACTION_escalate, "web", "9 restarts", "docker crashloop",
	       NULL);

	ev_init(&ev, "web");
	ev.docker = J("[{'Name':'/web','RestartCount':0,'State':{'Status':'exited','ExitCode':2,"
		      "'FinishedAt':'2026-11-24T05:29:00Z'}}]");
	evidence_add_log(&ev, "docker", "web", "listening\nfatal: bad config line 3\n", 34);
	expect(&ev, NULL, CATEGORY_crash, ACTION_restart, "web", "fatal: bad config line 3",
	       "docker crash", NULL);

	ev_init(&ev, "web");
	ev.host = J("{'processes':[{'service':'web','pid':4242,'running':false}],'kernel':"
		    "['Out of memory: Killed process 4242 (web) total-vm:9000kB']}");
	expect(&ev, NULL, CATEGORY_oom, ACTION_restart, "web", "Killed process 4242", "process OOM",
	       NULL);

	ev_init(&ev, "web");
	ev.host = J("{'processes':[{'service':'web','pid':4242,'running':false}],'kernel':[]}");
	expect(&ev, NULL, CATEGORY_crash, ACTION_restart, "web", "process 4242 is not running",
	       "process crash", NULL);

	ev_init(&ev, "web");
	ev.host = J("{'processes':[{'service':'web','pid':4242,'running':true}]}");
	expect(&ev, NULL, CATEGORY_unknown, ACTION_none, NULL, NULL, "a running process", NULL);

	/* The third time in a day: a restart has been tried, it needs a person. */
	ev_init(&ev, "web");
	ev_incident(&ev, "process/web/down", "process", "web is down");
	ev.host = J("{'processes':[{'service':'web','pid':4242,'running':false}],'kernel':[]}");
	ev.past = J("[{'fingerprint':'process/web/down','opened_at':'2026-11-24T01:00:00Z'},"
		    "{'fingerprint':'process/web/down','opened_at':'2026-11-23T12:00:00Z'},"
		    "{'fingerprint':'process/web/down','opened_at':'2026-11-20T12:00:00Z'},"
		    "{'fingerprint':'http/web/status','opened_at':'2026-11-24T02:00:00Z'}]");
	expect(&ev, NULL, CATEGORY_crash, ACTION_escalate, "web", "2 times in the last day",
	       "the third crash in a day escalates", NULL);

	/* Only one before in the day: still a restart. */
	ev_init(&ev, "web");
	ev_incident(&ev, "process/web/down", "process", "web is down");
	ev.host = J("{'processes':[{'service':'web','pid':4242,'running':false}],'kernel':[]}");
	ev.past = J("[{'fingerprint':'process/web/down','opened_at':'2026-11-24T01:00:00Z'}]");
	expect(&ev, NULL, CATEGORY_crash, ACTION_restart, "web", NULL, "the second crash restarts",
	       NULL);
}

/* ---- traces ---- */

#define PROCESSES "{'p1':{'serviceName':'quote-service','tags':[]}," \
	"'p2':{'serviceName':'policy-service','tags':[]}}"
#define ERR "{'key':'error','type':'bool','value':true}"

/* n traces of the same spans, "TID" in them replaced by each trace's id. */
static cJSON *traces(const char *spans_of_each, int n)
{
	struct strbuf sb = STRBUF_INIT;
	cJSON *j;

	strbuf_addstr(&sb, "{'data':[");
	for (int i = 0; i < n; i++) {
		const char *p = spans_of_each, *tid;

		strbuf_addf(&sb, "%s{'traceID':'t%d','spans':[", i ? "," : "", i);
		while ((tid = strstr(p, "TID"))) {
			strbuf_add(&sb, p, (size_t)(tid - p));
			strbuf_addf(&sb, "t%d", i);
			p = tid + 3;
		}
		strbuf_addf(&sb, "%s],'processes':" PROCESSES "}", p);
	}
	strbuf_addstr(&sb, "]}");
	j = J(sb.buf);
	strbuf_release(&sb);
	return j;
}

static void test_traces(void)
{
	struct evidence ev;

	/* quote-service errs because policy-service, below it, does. */
	ev_init(&ev, "quote-service");
	ev.traces = traces(
		"{'traceID':'TID','spanID':'a','operationName':'GET /quote','references':[],"
		"'startTime':1700000000000000,'duration':50000,'tags':[" ERR "],'processID':'p1'},"
		"{'traceID':'TID','spanID':'b','operationName':'POST /policy','references':"
		"[{'refType':'CHILD_OF','traceID':'TID','spanID':'a'}],'startTime':1700000000001000,"
		"'duration':40000,'tags':[" ERR "],'processID':'p2'}", 4);
	expect(&ev, NULL, CATEGORY_dependency, ACTION_restart, "policy-service",
	       "errors originate in policy-service", "a failing dependency", NULL);

	/* A slow request, most of it in one database call. */
	ev_init(&ev, "quote-service");
	ev_incident(&ev, "jaeger/quote-service/latency", "jaeger", "quote-service is slow");
	ev.traces = traces(
		"{'traceID':'TID','spanID':'a','operationName':'GET /quote','references':[],"
		"'startTime':1700000000000000,'duration':1000000,'tags':[],'processID':'p1'},"
		"{'traceID':'TID','spanID':'b','operationName':'SELECT quotes','references':"
		"[{'refType':'CHILD_OF','traceID':'TID','spanID':'a'}],'startTime':1700000000050000,"
		"'duration':800000,'tags':[{'key':'db.system','type':'string','value':'postgresql'}],"
		"'processID':'p2'}", 1);
	expect(&ev, NULL, CATEGORY_latency, ACTION_escalate, "policy-service", "SELECT quotes",
	       "latency in a database call", NULL);

	/* Traces that are not Jaeger's: an error, not a guess. */
	ev_init(&ev, "quote-service");
	ev.traces = J("{'data':'nope'}");
	{
		struct diagnosis d = DIAGNOSIS_INIT;
		const char *msg;
		int r;

		capture_start();
		r = rules_diagnose(&d, &ev, NULL);
		msg = capture_end();
		is_int(r, -1, "unreadable traces: an error, not a guess");
		like(msg, "the traces cannot be read", "unreadable traces: the error says so");
		diagnosis_release(&d);
		evidence_release(&ev);
	}
}

/* ---- metrics ---- */

static cJSON *range(const char *v1, const char *v2, const char *v3, const char *v4)
{
	char *text = xstrfmt("{'status':'success','data':{'resultType':'matrix','result':[{'metric':{},"
			     "'values':[[1,'%s'],[2,'%s'],[3,'%s'],[4,'%s']]}]}}", v1, v2, v3, v4);
	cJSON *j = J(text);

	free(text);
	return j;
}

static void test_metrics(void)
{
	struct evidence ev;
	struct diagnosis d;

	ev_init(&ev, "web");
	evidence_add_prometheus(&ev, "cpu-throttling", "rate(container_cpu_cfs_throttled_periods_total[5m])",
				range("0.1", "0.2", "0.4", "0.6"));
	expect(&ev, NULL, CATEGORY_resource_exhaustion, ACTION_scale, "web", "cpu-throttling: 0.60",
	       "CPU throttling", NULL);

	ev_init(&ev, "web");
	evidence_add_prometheus(&ev, "cpu-throttling", NULL, range("0.1", "0.1", "0.1", "0.1"));
	expect(&ev, NULL, CATEGORY_unknown, ACTION_none, NULL, NULL, "little throttling", NULL);

	ev_init(&ev, "web");
	ev_incident(&ev, "prometheus/web/below/orders", "prometheus", "orders fell");
	evidence_add_prometheus(&ev, "orders", "sum(rate(orders_total[5m]))",
				range("10", "10", "9", "1"));
	expect(&ev, NULL, CATEGORY_business_metric, ACTION_restart, "web", "orders: 10 on average",
	       "a business metric fell", NULL);

	/* A technical fault explains the drop: it wins, no business finding. */
	ev_init(&ev, "web");
	ev_incident(&ev, "prometheus/web/below/orders", "prometheus", "orders fell");
	evidence_add_prometheus(&ev, "orders", NULL, range("10", "10", "9", "1"));
	ev.docker = J("[{'Name':'/web','RestartCount':0,'State':{'Status':'exited','ExitCode':2}}]");
	expect(&ev, NULL, CATEGORY_crash, ACTION_restart, "web", NULL,
	       "a drop with a crash: the crash", &d);
	is_int(d.findings_nr, 1, "a drop with a crash: no business finding beside it");
	diagnosis_release(&d);

	ev_init(&ev, "web");
	ev_incident(&ev, "metrics/web/below/signups", "metrics", "signups is 0, below 5");
	expect(&ev, NULL, CATEGORY_business_metric, ACTION_restart, "web", "signups is 0, below 5",
	       "a /metrics floor", NULL);

	/* A PromQL floor whose range is too short to show the time before. */
	ev_init(&ev, "web");
	ev_incident(&ev, "prometheus/web/below/signups", "prometheus", "signups is 0, below 5");
	evidence_add_prometheus(&ev, "signups", NULL, range("0", "0", "0", "0"));
	expect(&ev, NULL, CATEGORY_business_metric, ACTION_restart, "web", "signups is 0, below 5",
	       "a PromQL floor with no range before the fall", NULL);

	/* Above a ceiling is no business metric that fell. */
	ev_init(&ev, "web");
	ev_incident(&ev, "prometheus/web/above/queue", "prometheus", "queue is 900, above 100");
	expect(&ev, NULL, CATEGORY_unknown, ACTION_none, NULL, NULL, "a PromQL ceiling", NULL);
}

/* ---- ties, output, names, hostile shapes ---- */

static void test_output(void)
{
	struct evidence ev;
	struct diagnosis d;
	struct strbuf sb = STRBUF_INIT;
	cJSON *j;

	ev_init(&ev, "web");
	ev.pods = pods_of("{'phase':'Running','containerStatuses':[{'name':'web','restartCount':4,"
			  "'state':{'waiting':{'reason':'CrashLoopBackOff'}},'lastState':{'terminated':"
			  "{'reason':'OOMKilled','exitCode':137}}}]}", NULL);
	expect(&ev, NULL, CATEGORY_oom, ACTION_increase_memory, "web", NULL, "output", &d);
	diagnosis_comment(&sb, &d);
	like(sb.buf, "Mitigation: INCREASE_MEMORY web\n", "comment: the mitigation, as an action");
	like(sb.buf, "Category: oom (confidence 0.", "comment: the category and confidence");
	like(sb.buf, "\nEvidence:\n- [kubernetes] pod web-5d8f7c9b4-x2x9z", "comment: the evidence");
	j = diagnosis_finding_json(&d.answer);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(j, "category")), "oom", "json: category");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "mitigation"), "action")),
	       "increase-memory", "json: mitigation.action");
	ok(cJSON_GetArraySize(cJSON_GetObjectItem(j, "evidence")) >= 1, "json: evidence");
	cJSON_Delete(j);
	strbuf_release(&sb);
	diagnosis_release(&d);
}

static void test_names(void)
{
	enum diagnosis_category c;
	enum mitigation_action a;
	int round = 1;

	for (int i = 0; i < CATEGORY__COUNT; i++)
		round &= !diagnosis_category_parse(diagnosis_category_name(i), &c) && (int)c == i;
	ok(round, "every category's name parses back to it");
	for (int i = 0; i < ACTION__COUNT; i++)
		round &= !mitigation_action_parse(mitigation_action_name(i), &a) && (int)a == i;
	ok(round, "every action's name parses back to it");
	ok(diagnosis_category_parse("reboot-the-world", &c) < 0, "an unknown category is refused");
	ok(mitigation_action_parse("rm -rf", &a) < 0, "an unknown action is refused");
	ok(mitigation_action_parse("", &a) < 0, "an empty action is refused");
	is_str(diagnosis_category_name((enum diagnosis_category)999), "unknown",
	       "a category out of range is named unknown");
	is_str(mitigation_action_name((enum mitigation_action)-1), "none",
	       "an action out of range is named none");
}

static void test_hostile(void)
{
	static const char *const shapes[] = {
		"'pods'", "[]", "{'items':'x'}", "{'items':[1,null,'x',[]]}",
		"{'items':[{'metadata':'x','status':{'containerStatuses':'x'}}]}",
		"{'items':[{'metadata':{'name':'p'},'status':{'phase':'Failed','reason':'Evicted',"
		"'containerStatuses':[{'name':7,'restartCount':'many','state':{'waiting':"
		"{'reason':'CrashLoopBackOff'}}},{'name':'c','restartCount':1e300,'lastState':"
		"{'terminated':{'reason':'OOMKilled','exitCode':'x'}}}]}}]}",
	};
	int survived = 0;

	for (size_t i = 0; i < ARRAY_SIZE(shapes); i++) {
		struct evidence ev;
		struct diagnosis d = DIAGNOSIS_INIT;

		ev_init(&ev, "web");
		ev.pods = J(shapes[i]);
		ev.docker = J("{'Name':'/web'}");
		ev.host = J("{'processes':'x','kernel':[1,2]}");
		ev.past = J("{'x':1}");
		ev.commits = J("[{'sha':7,'time':'not a time'}]");
		ev.deployments = J("{'items':[{'metadata':{'name':'web'}}]}");
		ev.replicasets = J("{'items':[{'metadata':{'annotations':"
				   "{'deployment.kubernetes.io/revision':'-1e999'}}}]}");
		ev_incident(&ev, "//", "", "");
		if (rules_diagnose(&d, &ev, "why is \xff\xfe slow?") == 0 &&
		    d.answer.confidence >= 0 && d.answer.confidence <= 1)
			survived++;
		diagnosis_release(&d);
		evidence_release(&ev);
	}
	is_int(survived, ARRAY_SIZE(shapes), "hostile shapes: each diagnosed, no crash");
}

/* ---- what scout saw: an HTTP check alone ---- */

/* An incident of an HTTP check whose evidence event holds evidence (JSON, single quotes). */
static void ev_check(struct evidence *ev, const char *signal, const char *summary,
		     const char *evidence)
{
	char *fp = xstrfmt("http/web/%s", signal);
	char *events = xstrfmt("[{'kind':'transition','body':{}},"
			       "{'kind':'evidence','body':{'summary':'%s','evidence':%s}}]",
			       summary, evidence);

	ev_init(ev, "web");
	ev_incident(ev, fp, "http", summary);
	cJSON_AddItemToObject(ev->incident, "events", J(events));
	free(fp);
	free(events);
}

static void test_check(void)
{
	struct evidence ev;
	struct diagnosis d;

	/* curl 7's words (its 8 says "Couldn't connect to server": the same rule, t5200). */
	ev_check(&ev, "down", "web is unreachable: Failed to connect to 127.0.0.1 port 9: "
		 "Connection refused", "{'url':'http://127.0.0.1:9/health',"
		 "'error':'Failed to connect to 127.0.0.1 port 9: Connection refused'}");
	expect(&ev, NULL, CATEGORY_crash, ACTION_restart, "web", "[check] web is unreachable",
	       "check refused", &d);
	ok(d.answer.confidence > 0.5 && d.answer.confidence < 0.75,
	   "check refused: weak evidence, below fix.min-confidence");
	like(d.answer.root_cause, "web is down", "check refused: the service is down");
	diagnosis_release(&d);

	ev_check(&ev, "down", "web returned 503, expected 2xx",
		 "{'url':'http://web/health','status':503,'latency_ms':4}");
	expect(&ev, NULL, CATEGORY_probe_failure, ACTION_restart, "web", "returned 503",
	       "check 5xx", &d);
	like(d.answer.root_cause, "up but failing: it answers HTTP 503", "check 5xx: failing");
	diagnosis_release(&d);

	ev_check(&ev, "down", "web is unreachable: Operation timed out after 10001 milliseconds",
		 "{'url':'http://web/health','error':'Operation timed out after 10001 milliseconds "
		 "with 0 bytes received'}");
	expect(&ev, NULL, CATEGORY_latency, ACTION_restart, "web", "timed out", "check timeout", &d);
	like(d.answer.root_cause, "slow or hung", "check timeout: slow or hung");
	diagnosis_release(&d);

	ev_check(&ev, "down", "web is unreachable: Could not resolve host: web.internal",
		 "{'url':'http://web.internal/health','error':'Could not resolve host: web.internal'}");
	expect(&ev, NULL, CATEGORY_config_error, ACTION_escalate, "web", "resolve", "check name",
	       NULL);

	ev_check(&ev, "down", "web returned 404, expected 2xx",
		 "{'url':'http://web/health','status':404}");
	expect(&ev, NULL, CATEGORY_probe_failure, ACTION_escalate, "web", "404", "check 4xx", NULL);

	ev_check(&ev, "latency", "web took 900 ms (limit 200 ms)",
		 "{'url':'http://web/health','latency_ms':900,'limit_ms':200}");
	expect(&ev, NULL, CATEGORY_latency, ACTION_escalate, "web", "900 ms", "check slow", NULL);

	/* Refused, and the process is gone: the process rule wins and gains the check's line. */
	ev_check(&ev, "down", "web is unreachable: Connection refused",
		 "{'url':'http://web/health','error':'Connection refused'}");
	ev.host = J("{'processes':[{'service':'web','pid':4242,'running':false}],'kernel':[]}");
	expect(&ev, NULL, CATEGORY_crash, ACTION_restart, "web", "[check] web is unreachable",
	       "check refused, process gone", &d);
	is_str(d.answer.rule, "process-crash", "check refused, process gone: the process rule");
	ok(d.answer.confidence >= 0.85, "check refused, process gone: its confidence");
	diagnosis_release(&d);

	/* Not an HTTP incident, or evidence that is not an object: nothing from the check. */
	ev_check(&ev, "down", "web returned 500", "{'url':'http://web/health','status':500}");
	cJSON_ReplaceItemInObject(ev.incident, "source", cJSON_CreateString("manual"));
	expect(&ev, NULL, CATEGORY_unknown, ACTION_none, NULL, NULL, "a manual incident", NULL);
	ev_check(&ev, "down", "web returned 500", "'not an object'");
	expect(&ev, NULL, CATEGORY_unknown, ACTION_none, NULL, NULL, "evidence not an object", NULL);
	ev_check(&ev, "down", "web is unreachable", "{'error':'something else went wrong'}");
	expect(&ev, NULL, CATEGORY_unknown, ACTION_none, NULL, NULL, "an error it cannot place", NULL);
}

int main(void)
{
	if (test_begin("rules") < 0)
		return 1;
	test_nothing();
	test_kubernetes();
	test_rollout_and_commit();
	test_docker_and_process();
	test_traces();
	test_metrics();
	test_check();
	test_output();
	test_names();
	test_hostile();
	return test_end();
}
