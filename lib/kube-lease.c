/*
 * kube-lease.c: leader election on a Kubernetes Lease, client-go's way;
 * see kube-lease.h.
 *
 * One try is a GET of the Lease, then at most one write: a POST when it is
 * not there, else a PUT carrying the resourceVersion read, which the API
 * server refuses with 409 Conflict when anyone wrote in between, so that
 * of two candidates exactly one wins. The decision to take the Lease over
 * uses only our own monotonic clock: when the record (holder, duration,
 * times, transitions) last changed in our sight, plus its
 * leaseDurationSeconds. Clock skew between replicas therefore does not
 * matter; a skew of rate does, and the renew deadline's margin below the
 * duration absorbs it (client-go's doc.go says the same).
 *
 * kube_lease_start() runs the tries in a thread, as client-go's renew
 * loop runs in a goroutine, so that a pass of the loop longer than the
 * renew deadline does not cost the Lease. The thread alone touches the
 * lease while it runs; what the caller may read (held, renewed, the last
 * result, holder and why) is copied out under a mutex after each try, so
 * kube_lease_valid() never waits on the network.
 *
 * The requests are made here rather than through kubernetes_call(),
 * because the election needs the status (404 creates, 409 loses), and
 * with an http client of our own: no retries (the retry period is the
 * retry) and a deadline on each try, so that a partitioned holder finds
 * out within its renew deadline and not after http's backoff.
 */
#include <ctype.h>
#include <pthread.h>
#include <signal.h>

#include <cJSON.h>

#include "json.h"
#include "kube-lease.h"
#include "kubernetes.h"
#include "timeutil.h"

#define GROUP "/apis/coordination.k8s.io/v1"
#define LEASE_BODY_MAX (256 << 10)   /* a Lease is a few kB: more is not one */
#define RESOURCE_VERSION_MAX 64
#define MICRO_TIME_MAX 64
#define INT32_LIMIT 2147483647LL
#define DURATION_MAX_S 86400         /* a day: far past any sane lease */

/* ---- checks ---- */

int kube_lease_check_identity(const char *s, size_t len, struct strbuf *why)
{
	if (!len) {
		strbuf_addstr(why, "empty");
		return -1;
	}
	if (len > KUBE_LEASE_IDENTITY_MAX) {
		strbuf_addf(why, "%zu bytes, over %d", len, KUBE_LEASE_IDENTITY_MAX);
		return -1;
	}
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		unsigned cp;
		size_t n;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f) {
				strbuf_addf(why, "a control character at byte %zu", i);
				return -1;
			}
			i++;
			continue;
		}
		/* UTF-8, shortest form, no surrogates; C1 controls refused as C0 are. */
		n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
		if (!n || (n == 3 && c >= 0xf0) || i + n > len) {
			strbuf_addf(why, "not UTF-8 at byte %zu", i);
			return -1;
		}
		cp = c & (0xff >> (n + 1));
		for (size_t k = 1; k < n; k++) {
			unsigned char cc = (unsigned char)s[i + k];

			if ((cc & 0xc0) != 0x80) {
				strbuf_addf(why, "not UTF-8 at byte %zu", i);
				return -1;
			}
			cp = cp << 6 | (cc & 0x3f);
		}
		if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
			strbuf_addf(why, "not UTF-8 at byte %zu", i);
			return -1;
		}
		if (cp >= 0x80 && cp < 0xa0) {
			strbuf_addf(why, "a control character at byte %zu", i);
			return -1;
		}
		i += n;
	}
	return 0;
}

/* An RFC 1123 name: lower-case letters, digits and '-' (and '.' when dots), at most max. */
static int dns_name(const char *s, size_t max, int dots)
{
	size_t n = strlen(s);

	if (!n || n > max || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		      s[i] == '-' || (dots && s[i] == '.')))
			return 0;
	return 1;
}

/* ---- the record ---- */

static void record_clear(struct kube_lease_record *r)
{
	free(r->holder);
	free(r->acquire_time);
	free(r->renew_time);
	memset(r, 0, sizeof(*r));
}

static int record_equal(const struct kube_lease_record *a, const struct kube_lease_record *b)
{
	return !strcmp(a->holder, b->holder) && a->duration_s == b->duration_s &&
	       !strcmp(a->acquire_time ? a->acquire_time : "",
		       b->acquire_time ? b->acquire_time : "") &&
	       !strcmp(a->renew_time ? a->renew_time : "", b->renew_time ? b->renew_time : "") &&
	       a->transitions == b->transitions;
}

/* A MicroTime of the spec: absent (NULL), or a short RFC 3339 time. */
static int read_time(const cJSON *spec, const char *key, char **out, struct strbuf *why)
{
	const cJSON *v = json_get(spec, key);
	time_t t;

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || strlen(v->valuestring) > MICRO_TIME_MAX ||
	    parse_rfc3339(v->valuestring, &t) < 0) {
		strbuf_addf(why, "spec.%s is not a time", key);
		return -1;
	}
	*out = xstrdup(v->valuestring);
	return 0;
}

/* An int32 of the spec within [min, max]; absent: 0. */
static int read_int(const cJSON *spec, const char *key, long long min, long long max,
		    long long *out, struct strbuf *why)
{
	const cJSON *v = json_get(spec, key);

	*out = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (json_to_ll(v, min, max, out) < 0) {
		strbuf_addf(why, "spec.%s is not a whole number from %lld to %lld", key, min, max);
		return -1;
	}
	return 0;
}

/*
 * Read and check what a Lease says into r (cleared first) and its
 * resourceVersion into *rv (the caller frees): 0, or -1 with why.
 */
static int read_lease(const struct kube_lease *l, const cJSON *lease,
		      struct kube_lease_record *r, char **rv, struct strbuf *why)
{
	const cJSON *meta = json_get(lease, "metadata"), *spec = json_get(lease, "spec");
	const cJSON *holder = json_get(spec, "holderIdentity");
	const char *name = json_string(meta, "name"), *version = json_string(meta, "resourceVersion");
	struct strbuf bad = STRBUF_INIT;

	record_clear(r);
	*rv = NULL;
	if (!cJSON_IsObject(meta) || !name || strcmp(name, l->name)) {
		strbuf_addstr(why, "its metadata does not name it");
		return -1;
	}
	if (!version || !*version || strlen(version) > RESOURCE_VERSION_MAX ||
	    kube_lease_check_identity(version, strlen(version), &bad) < 0) {
		strbuf_release(&bad);
		strbuf_addstr(why, "it has no usable metadata.resourceVersion");
		return -1;
	}
	if (spec && !cJSON_IsNull(spec) && !cJSON_IsObject(spec)) {
		strbuf_addstr(why, "its spec is not an object");
		return -1;
	}
	if (holder && !cJSON_IsNull(holder)) {
		if (!cJSON_IsString(holder)) {
			strbuf_addstr(why, "spec.holderIdentity is not a string");
			return -1;
		}
		if (*holder->valuestring &&
		    kube_lease_check_identity(holder->valuestring, strlen(holder->valuestring),
					      &bad) < 0) {
			strbuf_addf(why, "spec.holderIdentity refused: %s", bad.buf);
			strbuf_release(&bad);
			return -1;
		}
	}
	r->holder = xstrdup(cJSON_IsString(holder) ? holder->valuestring : "");
	if (read_int(spec, "leaseDurationSeconds", 1, INT32_LIMIT, &r->duration_s, why) < 0 ||
	    read_int(spec, "leaseTransitions", 0, INT32_LIMIT, &r->transitions, why) < 0 ||
	    read_time(spec, "acquireTime", &r->acquire_time, why) < 0 ||
	    read_time(spec, "renewTime", &r->renew_time, why) < 0)
		goto fail;
	/* A holder without a duration would be taken at once; its writer is broken. */
	if (*r->holder && !r->duration_s) {
		strbuf_addstr(why, "it names a holder but no spec.leaseDurationSeconds");
		goto fail;
	}
	*rv = xstrdup(version);
	return 0;
fail:
	record_clear(r);
	return -1;
}

/* ---- requests ---- */

/* Now, as a Kubernetes MicroTime: "2026-12-07T16:00:00.123456Z". */
static void micro_time(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char sec[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!gmtime_r(&ts.tv_sec, &tm) || !strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(sec, sizeof(sec), "1970-01-01T00:00:00");
	snprintf(buf, size, "%.20s.%06dZ", sec, (int)(ts.tv_nsec / 1000 % 1000000));
}

static const char *what_of(struct kube_lease *l, struct strbuf *sb)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "lease %s/%s", l->ns, l->name);
	return sb->buf;
}

/*
 * One request: its status (0: no answer, l->why says why), and a 2xx
 * answer that is a Lease in *answer (the caller's). Any other outcome
 * writes "kubernetes: lease <ns>/<name>: <why>" into l->why (reset first),
 * redacted, with the API server's own message for a status.
 */
static long lease_request(struct kube_lease *l, const char *method, const char *url,
			  const cJSON *body, cJSON **answer)
{
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct strbuf what = STRBUF_INIT;
	char *text = body ? cJSON_PrintUnformatted(body) : NULL, *msg = NULL;
	long status;

	*answer = NULL;
	req.method = method;
	req.url = url;
	req.no_retry = 1;
	strvec_push(&req.headers, "Accept: application/json");
	if (text) {
		strvec_push(&req.headers, "Content-Type: application/json");
		req.body = text;
		req.body_len = strlen(text);
	}
	kubeconfig_apply(&l->kc, &req);
	http_do(&l->http, &req, &res);
	/* A 5xx past its (no) retries is HTTP_TRANSIENT, with its status still. */
	status = res.status;
	strbuf_reset(&l->why);
	if (res.outcome == HTTP_OK && status / 100 == 2) {
		cJSON *a = cJSON_ParseWithLength(res.body.buf, res.body.len);

		if (json_string_is(a, "kind", "Lease")) {
			*answer = a;
			goto out;
		}
		cJSON_Delete(a);
	} else if (status) {
		msg = kubernetes_status_message(&res, KUBERNETES_MESSAGE_MAX);
	}
	strbuf_addf(&l->why, "kubernetes: %s: ", what_of(l, &what));
	http_answer_why(&l->why, &res, NULL, "the answer is not a Lease", msg);
	http_redact(&l->http, &l->why);
	if (status / 100 == 2)
		status = -1; /* answered, but not with a Lease (or cut off) */
out:
	free(msg);
	free(text);
	strbuf_release(&what);
	http_request_release(&req);
	http_response_release(&res);
	return status;
}

/* The Lease to write: the one read (its metadata kept, as a PUT replaces all), with r as spec. */
static cJSON *lease_body(struct kube_lease *l, const struct kube_lease_record *r, int create)
{
	cJSON *obj, *meta, *spec = cJSON_CreateObject();

	if (create || !l->object) {
		obj = cJSON_CreateObject();
		cJSON_AddStringToObject(obj, "apiVersion", "coordination.k8s.io/v1");
		cJSON_AddStringToObject(obj, "kind", "Lease");
		meta = cJSON_AddObjectToObject(obj, "metadata");
		cJSON_AddStringToObject(meta, "name", l->name);
		cJSON_AddStringToObject(meta, "namespace", l->ns);
	} else {
		obj = cJSON_Duplicate(l->object, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(obj, "spec");
		meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
		cJSON_DeleteItemFromObjectCaseSensitive(meta, "resourceVersion");
		cJSON_AddStringToObject(meta, "resourceVersion", l->resource_version);
	}
	cJSON_AddStringToObject(spec, "holderIdentity", r->holder);
	cJSON_AddNumberToObject(spec, "leaseDurationSeconds", (double)r->duration_s);
	if (r->acquire_time)
		cJSON_AddStringToObject(spec, "acquireTime", r->acquire_time);
	if (r->renew_time)
		cJSON_AddStringToObject(spec, "renewTime", r->renew_time);
	cJSON_AddNumberToObject(spec, "leaseTransitions", (double)r->transitions);
	cJSON_AddItemToObject(obj, "spec", spec);
	return obj;
}

/*
 * Take in a Lease the server returned: what it says becomes the observed
 * record, seen now when it changed. 0, or -1 with l->why.
 */
static int observe(struct kube_lease *l, cJSON *lease, int64_t now)
{
	struct kube_lease_record r = { 0 };
	struct strbuf why = STRBUF_INIT, what = STRBUF_INIT;
	char *rv;

	if (read_lease(l, lease, &r, &rv, &why) < 0) {
		strbuf_reset(&l->why);
		strbuf_addf(&l->why, "kubernetes: %s: %s", what_of(l, &what), why.buf);
		strbuf_release(&why);
		strbuf_release(&what);
		cJSON_Delete(lease);
		return -1;
	}
	if (!l->have_observed || !record_equal(&r, &l->observed)) {
		record_clear(&l->observed);
		l->observed = r;
		l->observed_ms = now;
		l->have_observed = 1;
	} else {
		record_clear(&r);
	}
	free(l->resource_version);
	l->resource_version = rv;
	cJSON_Delete(l->object);
	l->object = lease;
	strbuf_release(&why);
	strbuf_release(&what);
	return 0;
}

/* GET the Lease: 1 read (observed), 0 not there, -1 l->why. */
static int lease_get(struct kube_lease *l)
{
	cJSON *lease;
	long status = lease_request(l, "GET", l->url, NULL, &lease);

	if (status == 404)
		return 0;
	if (!lease)
		return -1;
	return observe(l, lease, monotonic_ms()) < 0 ? -1 : 1;
}

/* ---- the election ---- */

int kube_lease_wanted(const struct config *cfg)
{
	const char *v = config_get_string(cfg, "run.lease");

	if (!v || !strcmp(v, "none"))
		return 0;
	if (!strcmp(v, "kubernetes"))
		return 1;
	return error("run.lease is '%s': none or kubernetes", v);
}

static int duration_key(const struct config *cfg, const char *key, int64_t def, int64_t *out)
{
	*out = def;
	if (config_get_duration_ms(cfg, key, out) < 0)
		return -1;
	if (*out <= 0)
		return error("%s must be above 0", key);
	return 0;
}

int kube_lease_init(struct kube_lease *l, const struct config *cfg, const char *identity)
{
	const char *name = config_get_string(cfg, "run.lease-name");
	const char *ns = config_get_string(cfg, "run.lease-namespace");
	struct strbuf why = STRBUF_INIT;

	/* The namespace sre works in, unless the Lease is put elsewhere. */
	if (!ns || !*ns)
		ns = config_get_string(cfg, "kubernetes.namespace");
	if (ns && !*ns)
		ns = NULL;
	memset(l, 0, sizeof(*l));
	strbuf_init(&l->why, 0);
	strvec_init(&l->http.secrets);
	if (!identity || kube_lease_check_identity(identity, strlen(identity), &why) < 0) {
		error("the lease identity is unfit for a holderIdentity: %s",
		      identity ? why.buf : "none");
		strbuf_release(&why);
		return -1;
	}
	l->identity = xstrdup(identity);
	if (duration_key(cfg, "run.lease-duration", 15000, &l->duration_ms) < 0 ||
	    duration_key(cfg, "run.lease-renew-deadline", 10000, &l->renew_deadline_ms) < 0 ||
	    duration_key(cfg, "run.lease-retry-period", 2000, &l->retry_period_ms) < 0)
		return -1;
	if (l->duration_ms % 1000 || l->duration_ms > DURATION_MAX_S * 1000LL)
		return error("run.lease-duration must be whole seconds, a day at most "
			     "(leaseDurationSeconds)");
	if (l->renew_deadline_ms >= l->duration_ms)
		return error("run.lease-renew-deadline must be below run.lease-duration: a "
			     "holder must stop acting before another may take the lease");
	/* client-go's rule: the deadline leaves room for a retry and its jitter. */
	if (l->renew_deadline_ms * 10 <= l->retry_period_ms * 12)
		return error("run.lease-renew-deadline must be above 1.2 times "
			     "run.lease-retry-period");
	if (name && !dns_name(name, 253, 1))
		return error("run.lease-name '%s' is not a Kubernetes name (lower-case letters, "
			     "digits, '-' and '.')", name);
	if (ns && !dns_name(ns, 63, 0))
		return error("run.lease-namespace '%s' is not a Kubernetes namespace (lower-case "
			     "letters, digits and '-', 63 at most)", ns);
	if (http_client_init(&l->http, cfg) < 0)
		return -1;
	l->http.retries = 0;            /* the retry period is the retry */
	l->http.max_body = LEASE_BODY_MAX;
	if (kubeconfig_load(&l->kc, cfg, &l->http, &why) < 0) {
		http_redact(&l->http, &why);
		error("kubernetes: %s", why.buf);
		strbuf_release(&why);
		return -1;
	}
	strbuf_release(&why);
	l->name = xstrdup(name ? name : "sre");
	if (!ns && l->kc.namespace && !dns_name(l->kc.namespace, 63, 0))
		return error("the kubeconfig's namespace is not a Kubernetes namespace; set "
			     "run.lease-namespace");
	l->ns = xstrdup(ns ? ns : l->kc.namespace ? l->kc.namespace : "default");
	l->url = kubernetes_object_url(&l->kc, GROUP, l->ns, "leases", l->name);
	l->collection_url = kubernetes_namespace_url(&l->kc, GROUP, l->ns, "leases");
	return 0;
}

/* After a write that lost: read again to name the winner. */
static int lost(struct kube_lease *l, struct strbuf *holder)
{
	l->held = 0;
	if (lease_get(l) > 0 && strcmp(l->observed.holder, l->identity)) {
		strbuf_addstr(holder, l->observed.holder);
		return 0;
	}
	/* Not there, or ours after all (another write of ours?), or unreadable: try again. */
	if (!l->why.len) {
		struct strbuf what = STRBUF_INIT;

		strbuf_addf(&l->why, "kubernetes: %s: changed under us; trying again",
			    what_of(l, &what));
		strbuf_release(&what);
	}
	return -1;
}

int kube_lease_try(struct kube_lease *l, struct strbuf *holder)
{
	struct kube_lease_record want = { 0 };
	char now_text[48];
	cJSON *body, *answer;
	int64_t now = monotonic_ms(), sent;
	long status;
	int r, create, taking;

	strbuf_reset(holder);
	strbuf_reset(&l->why);
	l->transitioned = 0;
	/* No try outlives the renew deadline: past it, a holder has lost anyway. */
	l->http.deadline_ms = now + l->renew_deadline_ms;
	r = lease_get(l);
	if (r < 0)
		goto out;
	create = !r;
	now = monotonic_ms();
	if (!create && *l->observed.holder && strcmp(l->observed.holder, l->identity) &&
	    now < l->observed_ms + l->observed.duration_s * 1000) {
		/* Another holds it, and its record changed within its duration. */
		l->held = 0;
		strbuf_addstr(holder, l->observed.holder);
		r = 0;
		goto out;
	}

	taking = create || strcmp(l->observed.holder, l->identity);
	micro_time(now_text, sizeof(now_text));
	want.holder = l->identity;
	want.duration_s = l->duration_ms / 1000;
	want.renew_time = now_text;
	if (!taking) {
		/* Ours: a renewal keeps when we took it and the count. */
		want.acquire_time = l->observed.acquire_time;
		want.transitions = l->observed.transitions;
	} else {
		want.acquire_time = now_text;
		want.transitions = create ? 0 : l->observed.transitions < INT32_LIMIT ?
			l->observed.transitions + 1 : INT32_LIMIT;
	}
	body = lease_body(l, &want, create);
	/* The renewal counts from when it was sent: no later than anyone can see it. */
	sent = monotonic_ms();
	status = lease_request(l, create ? "POST" : "PUT", create ? l->collection_url : l->url,
			       body, &answer);
	cJSON_Delete(body);
	if (status == 409) {
		/* AlreadyExists or Conflict: another candidate wrote first. */
		r = lost(l, holder);
		goto out;
	}
	if (!answer || observe(l, answer, monotonic_ms()) < 0) {
		r = -1;
		goto out;
	}
	if (strcmp(l->observed.holder, l->identity)) {
		strbuf_reset(&l->why);
		strbuf_addstr(&l->why, "kubernetes: the written lease does not name us");
		r = -1;
		goto out;
	}
	l->transitioned = taking;
	l->held = 1;
	l->renewed_ms = sent;
	r = 1;
out:
	l->http.deadline_ms = 0;
	return r;
}

/* What the renewer thread shares with the caller; the lock guards all below it. */
struct kube_lease_renewer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;  /* on the monotonic clock */
	int stop;
	int held;
	int64_t renewed_ms;
	int result;
	struct strbuf holder, why;
};

int kube_lease_valid(const struct kube_lease *l)
{
	struct kube_lease_renewer *rn = l->renewer;
	int held;
	int64_t renewed;

	if (!rn)
		return l->held && monotonic_ms() - l->renewed_ms < l->renew_deadline_ms;
	pthread_mutex_lock(&rn->lock);
	held = rn->held;
	renewed = rn->renewed_ms;
	pthread_mutex_unlock(&rn->lock);
	return held && monotonic_ms() - renewed < l->renew_deadline_ms;
}

static void *renew_loop(void *arg)
{
	struct kube_lease *l = arg;
	struct kube_lease_renewer *rn = l->renewer;
	struct strbuf holder = STRBUF_INIT;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		int r = kube_lease_try(l, &holder);
		int64_t next = monotonic_ms() + l->retry_period_ms;
		struct timespec until;

		pthread_mutex_lock(&rn->lock);
		rn->held = l->held;
		rn->renewed_ms = l->renewed_ms;
		rn->result = r;
		strbuf_reset(&rn->holder);
		strbuf_add(&rn->holder, holder.buf, holder.len);
		strbuf_reset(&rn->why);
		strbuf_add(&rn->why, l->why.buf, l->why.len);
		until.tv_sec = (time_t)(next / 1000);
		until.tv_nsec = (long)(next % 1000) * 1000000L;
		while (!rn->stop && monotonic_ms() < next)
			pthread_cond_timedwait(&rn->wake, &rn->lock, &until);
		if (rn->stop) {
			pthread_mutex_unlock(&rn->lock);
			break;
		}
		pthread_mutex_unlock(&rn->lock);
	}
	strbuf_release(&holder);
	return NULL;
}

int kube_lease_start(struct kube_lease *l)
{
	struct kube_lease_renewer *rn;
	pthread_condattr_t attr;

	if (l->renewer)
		return 0;
	rn = xcalloc(1, sizeof(*rn));
	strbuf_init(&rn->holder, 0);
	strbuf_init(&rn->why, 0);
	rn->held = l->held;
	rn->renewed_ms = l->renewed_ms;
	pthread_mutex_init(&rn->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&rn->wake, &attr);
	pthread_condattr_destroy(&attr);
	l->renewer = rn;
	if (pthread_create(&rn->thread, NULL, renew_loop, l)) {
		l->renewer = NULL;
		pthread_cond_destroy(&rn->wake);
		pthread_mutex_destroy(&rn->lock);
		strbuf_release(&rn->holder);
		strbuf_release(&rn->why);
		free(rn);
		return error("cannot start the thread that renews lease %s/%s", l->ns, l->name);
	}
	return 0;
}

int kube_lease_status(struct kube_lease *l, struct strbuf *holder, struct strbuf *why)
{
	struct kube_lease_renewer *rn = l->renewer;
	int r;

	if (holder)
		strbuf_reset(holder);
	if (why)
		strbuf_reset(why);
	if (!rn) {
		if (holder && !l->held && l->have_observed && strcmp(l->observed.holder, l->identity))
			strbuf_addstr(holder, l->observed.holder);
		if (why)
			strbuf_add(why, l->why.buf, l->why.len);
		return l->why.len ? -1 : l->held;
	}
	pthread_mutex_lock(&rn->lock);
	r = rn->result;
	if (holder)
		strbuf_add(holder, rn->holder.buf, rn->holder.len);
	if (why)
		strbuf_add(why, rn->why.buf, rn->why.len);
	pthread_mutex_unlock(&rn->lock);
	return r;
}

void kube_lease_stop(struct kube_lease *l)
{
	struct kube_lease_renewer *rn = l->renewer;

	if (!rn)
		return;
	pthread_mutex_lock(&rn->lock);
	rn->stop = 1;
	pthread_cond_signal(&rn->wake);
	pthread_mutex_unlock(&rn->lock);
	pthread_join(rn->thread, NULL);
	l->renewer = NULL;
	pthread_cond_destroy(&rn->wake);
	pthread_mutex_destroy(&rn->lock);
	strbuf_release(&rn->holder);
	strbuf_release(&rn->why);
	free(rn);
}

int kube_lease_release(struct kube_lease *l)
{
	struct kube_lease_record give = { 0 };
	char now_text[48];
	cJSON *body, *answer = NULL;
	long status = 0;
	int r = 0;

	kube_lease_stop(l); /* no renewal after we gave it up */
	strbuf_reset(&l->why);
	l->held = 0;
	l->http.deadline_ms = monotonic_ms() + l->renew_deadline_ms;
	/* Twice at most: once with what we last saw, once more after a conflict. */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!l->have_observed || !l->object || strcmp(l->observed.holder, l->identity))
			break; /* not ours to give */
		micro_time(now_text, sizeof(now_text));
		give.holder = (char *)"";
		give.duration_s = 1;
		give.acquire_time = give.renew_time = now_text;
		give.transitions = l->observed.transitions;
		body = lease_body(l, &give, 0);
		status = lease_request(l, "PUT", l->url, body, &answer);
		cJSON_Delete(body);
		if (answer) {
			r = observe(l, answer, monotonic_ms());
			break;
		}
		if (status != 409 || lease_get(l) < 0) {
			r = -1;
			break;
		}
		strbuf_reset(&l->why);
	}
	l->http.deadline_ms = 0;
	return r;
}

void kube_lease_clear(struct kube_lease *l)
{
	kube_lease_stop(l);
	free(l->name);
	free(l->ns);
	free(l->identity);
	strbuf_release(&l->why);
	record_clear(&l->observed);
	free(l->resource_version);
	kubeconfig_release(&l->kc);
	http_client_release(&l->http);
	free(l->url);
	free(l->collection_url);
	cJSON_Delete(l->object);
	memset(l, 0, sizeof(*l));
}
