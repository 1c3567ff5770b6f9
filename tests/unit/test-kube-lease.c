/*
 * test-kube-lease.c: unit tests of lib/kube-lease.c, leader election on a
 * Kubernetes Lease, against tests/fakes/kubernetes.py over verified TLS
 * (kube-test.h), printing TAP.
 *
 * Two or three candidates (struct kube_lease, one identity each) take
 * turns on the same Lease with short durations (1s, 600ms, 200ms), so the
 * times are real but brief: creation on an empty API, renewal, a holder
 * named to the others, takeover only once the holder's record has stood
 * still for its duration by the candidate's own clock (never by the remote
 * renewTime), two writers racing (two processes, their reads held back by
 * the fake so they write on the same resourceVersion) of whom exactly one
 * wins, a partitioned holder that stops acting before the Lease could
 * expire, a try that cannot hang, Leases no one should believe, a
 * release the next candidate takes at once, and the renewer thread
 * keeping the lease through a caller that does nothing for twice its
 * duration. What is checked is what the
 * fake stored and the requests it received, besides the returns.
 */
#include <sys/wait.h>

#include "../../lib/config.h"
#include "../../lib/kube-lease.h"
#include "../../lib/timeutil.h"
#include "kube-test.h"

#define TOKEN "k8s-token-lease-5c1d9e"
#define MICRO_TIME_RE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$"

static struct fake k8s;
static char *kubeconfig;

/* A configuration for the Lease called name, with the test's durations and extra lines. */
static void lease_config(struct config *cfg, const char *name, const char *extra)
{
	char *text = xstrfmt("[http]\n\tretries = 0\n[kubernetes]\n\tkubeconfig = %s\n"
			     "[run]\n\tlease = kubernetes\n\tlease-name = %s\n"
			     "\tlease-duration = 1s\n\tlease-renew-deadline = 600ms\n"
			     "\tlease-retry-period = 200ms\n%s",
			     kubeconfig, name, extra ? extra : "");

	*cfg = (struct config)CONFIG_INIT;
	set_config_text(cfg, text);
	free(text);
}

/* A candidate for the Lease name, as identity, with extra run.* lines; 0 or -1 (said). */
static int candidate_with(struct kube_lease *l, const char *name, const char *identity,
			  const char *extra)
{
	struct config cfg;
	char *lines = xstrfmt("\tlease-namespace = shop\n%s", extra);
	int r;

	lease_config(&cfg, name, lines);
	free(lines);
	r = kube_lease_init(l, &cfg, identity);
	config_clear(&cfg);
	if (r < 0)
		printf("# kube_lease_init(%s, %s) failed\n", name, identity);
	return r;
}

static int candidate(struct kube_lease *l, const char *name, const char *identity)
{
	return candidate_with(l, name, identity, "");
}

/* The Lease shop/name as the fake stores it, or NULL; the caller deletes it. */
static cJSON *stored(const char *name)
{
	cJSON *all = NULL, *lease;
	char *key = xstrfmt("shop/%s", name);

	fake_call(&k8s, "GET", "/_fake/leases", NULL, &all);
	lease = cJSON_DetachItemFromObjectCaseSensitive(all, key);
	cJSON_Delete(all);
	free(key);
	return lease;
}

static const char *spec_string(const cJSON *lease, const char *key)
{
	return json_string(json_get(lease, "spec"), key);
}

static long long spec_int(const cJSON *lease, const char *key)
{
	return json_int(json_get(lease, "spec"), key);
}

static int matches(const char *s, const char *re)
{
	regex_t rx;
	int m;

	if (!s || regcomp(&rx, re, REG_EXTENDED | REG_NOSUB))
		return 0;
	m = !regexec(&rx, s, 0, NULL, 0);
	regfree(&rx);
	return m;
}

/* Put a Lease in the fake as it is (POST /_fake/lease): spec is JSON text. */
static void put_lease(const char *name, const char *spec)
{
	char *body = xstrfmt("{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
			     "\"metadata\":{\"name\":\"%s\",\"namespace\":\"shop\"},\"spec\":%s}",
			     name, spec);
	long status = fake_call(&k8s, "POST", "/_fake/lease", body, NULL);

	if (status != 200)
		printf("# /_fake/lease answered %ld\n", status);
	free(body);
}

/* The path regex of a Lease's own URL. */
static char *lease_path(const char *name)
{
	return xstrfmt("/apis/coordination\\.k8s\\.io/v1/namespaces/shop/leases/%s$", name);
}

/* ---- configuration ---- */

/* kube_lease_init() with these run.* lines: its return, and what it said in msg. */
static int init_with(const char *lines, const char *identity, struct strbuf *msg)
{
	struct config cfg;
	struct kube_lease l;
	int r;

	lease_config(&cfg, "cfg", lines);
	capture_start();
	r = kube_lease_init(&l, &cfg, identity);
	strbuf_reset(msg);
	strbuf_addstr(msg, capture_end());
	kube_lease_clear(&l);
	config_clear(&cfg);
	return r;
}

static void test_config(void)
{
	struct strbuf msg = STRBUF_INIT;
	struct config cfg = CONFIG_INIT;
	struct kube_lease l;
	char *long_id = xcalloc(1, 301), *ns_kubeconfig, *text;

	memset(long_id, 'a', 300);
	is_int(init_with("", "sre-a", &msg), 0, "the test's durations hold");
	is_int(init_with("\tlease-renew-deadline = 1s\n", "sre-a", &msg), -1,
	       "a renew deadline not below the duration is refused");
	like(msg.buf, "run.lease-renew-deadline must be below run.lease-duration", "and said");
	is_int(init_with("\tlease-retry-period = 500ms\n", "sre-a", &msg), -1,
	       "a retry period whose 1.2 times reach the renew deadline is refused");
	like(msg.buf, "1.2 times run.lease-retry-period", "and said");
	is_int(init_with("\tlease-duration = 1500ms\n", "sre-a", &msg), -1,
	       "a duration that is not whole seconds is refused");
	like(msg.buf, "whole seconds", "and said");
	is_int(init_with("\tlease-duration = soon\n", "sre-a", &msg), -1,
	       "a duration that is none is refused");
	is_int(init_with("\tlease-name = Not_A_Name\n", "sre-a", &msg), -1,
	       "a lease name Kubernetes would refuse is refused first");
	like(msg.buf, "run.lease-name 'Not_A_Name' is not a Kubernetes name", "and said");
	is_int(init_with("\tlease-namespace = a.b\n", "sre-a", &msg), -1,
	       "a namespace with a dot is refused");
	is_int(init_with("", "sre\n-a", &msg), -1, "an identity with a newline is refused");
	like(msg.buf, "a control character at byte 3", "and said, without quoting it");
	is_int(init_with("", long_id, &msg), -1, "an identity of 300 bytes is refused");
	like(msg.buf, "300 bytes, over 256", "and said");
	is_int(init_with("", "", &msg), -1, "an empty identity is refused");
	is_int(init_with("", NULL, &msg), -1, "no identity is refused");

	/* The defaults: client-go's durations, the lease "sre", the namespace "default". */
	text = xstrfmt("[kubernetes]\n\tkubeconfig = %s\n", kubeconfig);
	set_config_text(&cfg, text);
	free(text);
	is_int(kube_lease_init(&l, &cfg, "sre-a"), 0, "with no run.lease-* keys");
	ok(l.duration_ms == 15000 && l.renew_deadline_ms == 10000 && l.retry_period_ms == 2000,
	   "the durations are client-go's 15s, 10s and 2s");
	is_str(l.name, "sre", "the lease is called sre");
	is_str(l.ns, "default", "in the namespace default when the kubeconfig names none");
	kube_lease_clear(&l);

	/* The kubeconfig's context names a namespace: the lease goes there. */
	text = xstrfmt("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n"
		       "    certificate-authority-data: %s\n    server: https://%s\n  name: fake\n"
		       "contexts:\n- context:\n    cluster: fake\n    user: u\n"
		       "    namespace: ops\n  name: fake\n"
		       "current-context: fake\nusers:\n- name: u\n  user:\n    token: " TOKEN "\n",
		       ca_b64, k8s.url + strlen("http://"));
	ns_kubeconfig = write_file("ns.yaml", text);
	free(text);
	text = xstrfmt("[kubernetes]\n\tkubeconfig = %s\n", ns_kubeconfig);
	set_config_text(&cfg, text);
	free(text);
	is_int(kube_lease_init(&l, &cfg, "sre-a"), 0, "with a kubeconfig naming a namespace");
	is_str(l.ns, "ops", "the lease is in the kubeconfig's namespace");
	kube_lease_clear(&l);

	/* In a pod: the service account's namespace file. */
	{
		char *dir = tmp_path("sa");

		mkdir(dir, 0700);
		free(write_file("sa/token", TOKEN "\n"));
		free(write_file("sa/ca.crt", "not read here\n"));
		free(write_file("sa/namespace", "payments\n"));
		setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
		setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
		text = xstrfmt("[kubernetes]\n\tservice-account-dir = %s\n", dir);
		set_config_text(&cfg, text);
		free(text);
		is_int(kube_lease_init(&l, &cfg, "sre-a"), 0, "in a pod");
		is_str(l.ns, "payments", "the lease is in the pod's own namespace");
		kube_lease_clear(&l);
		unsetenv("KUBERNETES_SERVICE_HOST");
		unsetenv("KUBERNETES_SERVICE_PORT");
		free(dir);
	}

	/* run.lease. */
	set_config_text(&cfg, "[run]\n\tlease = kubernetes\n");
	is_int(kube_lease_wanted(&cfg), 1, "run.lease = kubernetes is wanted");
	set_config_text(&cfg, "[run]\n\tlease = none\n");
	is_int(kube_lease_wanted(&cfg), 0, "run.lease = none is not");
	set_config_text(&cfg, "");
	is_int(kube_lease_wanted(&cfg), 0, "nor is an unset run.lease");
	set_config_text(&cfg, "[run]\n\tlease = etcd\n");
	capture_start();
	is_int(kube_lease_wanted(&cfg), -1, "run.lease = etcd is refused");
	like(capture_end(), "run.lease is 'etcd': none or kubernetes", "and said");
	config_clear(&cfg);
	free(ns_kubeconfig);
	free(long_id);
	strbuf_release(&msg);
}

/* ---- taking, renewing, seeing it held ---- */

static void test_acquire_and_renew(void)
{
	struct kube_lease a, b;
	struct strbuf holder = STRBUF_INIT;
	cJSON *lease, *body, *again;
	char *path = lease_path("one");
	int mark = fake_log_mark(&k8s);
	char *acquired;

	if (candidate(&a, "one", "sre-a") < 0 || candidate(&b, "one", "sre-b") < 0) {
		ok(0, "the candidates are set up");
		goto out;
	}
	is_int(kube_lease_try(&a, &holder), 1, "on an empty API the first candidate takes the lease");
	ok(a.held && kube_lease_valid(&a), "and may act");
	ok(a.transitioned, "a new holder");
	is_int(fake_count(&k8s, mark, "GET", path), 1, "it read the lease first");
	is_int(fake_count(&k8s, mark, "POST", "/namespaces/shop/leases$"), 1,
	       "and created it with one POST");
	lease = stored("one");
	is_str(spec_string(lease, "holderIdentity"), "sre-a", "holderIdentity is ours");
	is_int(spec_int(lease, "leaseDurationSeconds"), 1, "leaseDurationSeconds is run.lease-duration");
	is_int(spec_int(lease, "leaseTransitions"), 0, "leaseTransitions starts at 0");
	ok(matches(spec_string(lease, "acquireTime"), MICRO_TIME_RE),
	   "acquireTime is a MicroTime (%s)", spec_string(lease, "acquireTime"));
	ok(matches(spec_string(lease, "renewTime"), MICRO_TIME_RE), "renewTime too");
	acquired = xstrdup(spec_string(lease, "acquireTime"));

	mark = fake_log_mark(&k8s);
	sleep_ms(5);
	is_int(kube_lease_try(&a, &holder), 1, "the holder renews");
	ok(!a.transitioned, "without a transition");
	body = fake_last_body(&k8s, mark, "PUT", path);
	is_str(json_path_string(body, "metadata.resourceVersion"),
	       json_path_string(lease, "metadata.resourceVersion"),
	       "its PUT carries the resourceVersion it read");
	again = stored("one");
	ok(strcmp(json_path_string(again, "metadata.resourceVersion"),
		  json_path_string(lease, "metadata.resourceVersion")),
	   "the write gave the lease a new resourceVersion");
	is_str(spec_string(again, "acquireTime"), acquired, "acquireTime is kept on renewal");
	ok(strcmp(spec_string(again, "renewTime"), spec_string(lease, "renewTime")),
	   "renewTime moves on");
	is_int(spec_int(again, "leaseTransitions"), 0, "leaseTransitions stays 0");
	cJSON_Delete(body);
	cJSON_Delete(lease);
	cJSON_Delete(again);
	free(acquired);

	mark = fake_log_mark(&k8s);
	is_int(kube_lease_try(&b, &holder), 0, "a second candidate finds it held");
	is_str(holder.buf, "sre-a", "and names the holder");
	ok(!kube_lease_valid(&b), "it may not act");
	is_int(fake_count(&k8s, mark, "PUT", path) + fake_count(&k8s, mark, "POST", NULL), 0,
	       "and writes nothing");
out:
	kube_lease_clear(&a);
	kube_lease_clear(&b);
	strbuf_release(&holder);
	free(path);
}

/* ---- takeover ---- */

static void test_takeover(void)
{
	struct kube_lease a, b;
	struct strbuf holder = STRBUF_INIT;
	cJSON *before, *after;
	int64_t start, seen, took = 0;
	int early = 0;

	if (candidate(&a, "two", "sre-a") < 0 || candidate(&b, "two", "sre-b") < 0) {
		ok(0, "the candidates are set up");
		goto out;
	}
	kube_lease_try(&a, &holder);
	/* While the holder renews every 200 ms, 1.4 s of tries never take it. */
	start = monotonic_ms();
	while (monotonic_ms() - start < 1400) {
		if (kube_lease_try(&a, &holder) != 1 || kube_lease_try(&b, &holder) != 0)
			early++;
		sleep_ms(200);
	}
	is_int(early, 0, "a lease renewed in time is never taken, past its duration of 1s");
	before = stored("two");

	/*
	 * The holder stops renewing: the other waits the duration from when it
	 * last saw the record change, its last try just after the last renewal.
	 */
	seen = b.observed_ms;
	while (monotonic_ms() - seen < 3000) {
		int r = kube_lease_try(&b, &holder);

		if (r == 1) {
			took = monotonic_ms() - seen;
			break;
		}
		sleep_ms(100);
	}
	ok(took >= 1000 && took < 2000,
	   "the candidate takes it once the duration has passed since it saw the last renewal "
	   "(%lld ms)", (long long)took);
	ok(b.transitioned && kube_lease_valid(&b), "it is the new holder and may act");
	after = stored("two");
	is_str(spec_string(after, "holderIdentity"), "sre-b", "holderIdentity is the new holder");
	is_int(spec_int(after, "leaseTransitions"), 1, "leaseTransitions becomes 1");
	ok(strcmp(spec_string(after, "acquireTime"), spec_string(before, "acquireTime")),
	   "acquireTime is set anew");

	is_int(kube_lease_try(&a, &holder), 0, "the old holder finds it taken");
	is_str(holder.buf, "sre-b", "by the new one");
	ok(!a.held && !kube_lease_valid(&a), "and may not act");
	cJSON_Delete(before);
	cJSON_Delete(after);
out:
	kube_lease_clear(&a);
	kube_lease_clear(&b);
	strbuf_release(&holder);
}

/* The remote renewTime is never compared with our clock: an ancient one still waits. */
static void test_own_clock(void)
{
	struct kube_lease b;
	struct strbuf holder = STRBUF_INIT;
	int64_t start;
	int r;

	put_lease("three", "{\"holderIdentity\":\"ghost\",\"leaseDurationSeconds\":1,"
		  "\"acquireTime\":\"2000-01-01T00:00:00.000000Z\","
		  "\"renewTime\":\"2000-01-01T00:00:00.000000Z\",\"leaseTransitions\":4}");
	if (candidate(&b, "three", "sre-b") < 0) {
		ok(0, "the candidate is set up");
		goto out;
	}
	start = monotonic_ms();
	is_int(kube_lease_try(&b, &holder), 0,
	       "a lease renewed (by its renewTime) 26 years ago is not taken at first sight");
	is_str(holder.buf, "ghost", "its holder is named");
	sleep_ms(500);
	is_int(kube_lease_try(&b, &holder), 0, "nor half its duration later");
	while ((r = kube_lease_try(&b, &holder)) == 0 && monotonic_ms() - start < 3000)
		sleep_ms(100);
	is_int(r, 1, "it is taken once it stood still for its duration by our clock");
	ok(monotonic_ms() - start >= 1000, "not before");
	{
		cJSON *lease = stored("three");

		is_int(spec_int(lease, "leaseTransitions"), 5, "leaseTransitions counts on from 4");
		cJSON_Delete(lease);
	}
out:
	kube_lease_clear(&b);
	strbuf_release(&holder);
}

/* ---- two writers ---- */

/*
 * Two candidates try at once, in two processes, their GETs held back
 * together by the fake so both write on what they read: the child's
 * result comes back as its exit status (1 held, 0 another's, 2 error).
 * *mine gets the parent's result and holder the name it was given.
 */
static int race(struct kube_lease *child, struct kube_lease *parent, const char *name,
		int *mine, struct strbuf *holder)
{
	char *delay = xstrfmt("{\"method\":\"GET\",\"path\":\"/leases/%s$\",\"seconds\":1,"
			      "\"times\":2}", name);
	long status = fake_call(&k8s, "POST", "/_fake/delay", delay, NULL);
	int st = 0;
	pid_t pid;

	free(delay);
	if (status != 201)
		printf("# /_fake/delay answered %ld\n", status);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct strbuf h = STRBUF_INIT;
		int r = kube_lease_try(child, &h);

		_exit(r < 0 ? 2 : r);
	}
	*mine = kube_lease_try(parent, holder);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

#define SLOW "\tlease-duration = 5s\n\tlease-renew-deadline = 4s\n"

static void test_conflict(void)
{
	struct kube_lease a, b;
	struct strbuf holder = STRBUF_INIT, again = STRBUF_INIT;
	cJSON *lease;
	int theirs, mine, mark;
	const char *winner;

	/* A renew deadline (which bounds a try) past the fake's hold on the reads. */
	if (candidate_with(&a, "four", "sre-a", SLOW) < 0 ||
	    candidate_with(&b, "four", "sre-b", SLOW) < 0) {
		ok(0, "the candidates are set up");
		goto out;
	}
	/* Both find no lease and POST it: one 201, one 409 AlreadyExists. */
	mark = fake_log_mark(&k8s);
	theirs = race(&a, &b, "four", &mine, &holder);
	ok((theirs == 1 && mine == 0) || (theirs == 0 && mine == 1),
	   "of two creating the lease at once, exactly one wins (child %d, parent %d)", theirs,
	   mine);
	is_int(fake_count(&k8s, mark, "POST", "/leases$"), 2, "both wrote");
	lease = stored("four");
	winner = theirs == 1 ? "sre-a" : "sre-b";
	is_str(spec_string(lease, "holderIdentity"), winner, "the lease names the winner");
	if (mine == 0)
		is_str(holder.buf, "sre-a", "and the loser names it");
	else
		ok(1, "(the parent won: its holder is itself)");
	cJSON_Delete(lease);

	/* Both see the holder stop, wait out the duration, and PUT on the same resourceVersion. */
	put_lease("four", "{\"holderIdentity\":\"ghost\",\"leaseDurationSeconds\":1,"
		  "\"leaseTransitions\":7}");
	kube_lease_try(&a, &again);
	kube_lease_try(&b, &again);
	sleep_ms(1100);
	mark = fake_log_mark(&k8s);
	theirs = race(&a, &b, "four", &mine, &holder);
	ok((theirs == 1 && mine == 0) || (theirs == 0 && mine == 1),
	   "of two taking over an expired lease at once, exactly one wins (child %d, parent %d)",
	   theirs, mine);
	is_int(fake_count(&k8s, mark, "PUT", "/leases/four$"), 2, "both wrote");
	lease = stored("four");
	is_int(spec_int(lease, "leaseTransitions"), 8, "leaseTransitions counts one transition");
	is_str(spec_string(lease, "holderIdentity"), theirs == 1 ? "sre-a" : "sre-b",
	       "the lease names the winner");
	if (mine == 0) {
		is_str(holder.buf, "sre-a", "the loser names the winner");
		ok(!kube_lease_valid(&b), "and may not act");
	} else {
		ok(1, "(the parent won)");
		ok(kube_lease_valid(&b), "(and may act)");
	}
	cJSON_Delete(lease);
out:
	kube_lease_clear(&a);
	kube_lease_clear(&b);
	strbuf_release(&holder);
	strbuf_release(&again);
}

/* ---- a partitioned holder ---- */

static void test_partition(void)
{
	struct kube_lease a, b;
	struct strbuf holder = STRBUF_INIT;
	int64_t last_ok, seen_by_b, stopped = 0, last_valid = 0, start;
	int failed = 0, r;
	char *path = lease_path("five"), *delay;

	if (candidate(&a, "five", "sre-a") < 0 || candidate(&b, "five", "sre-b") < 0) {
		ok(0, "the candidates are set up");
		goto out;
	}
	kube_lease_try(&a, &holder);
	is_int(kube_lease_try(&a, &holder), 1, "the holder renews");
	last_ok = a.renewed_ms;
	kube_lease_try(&b, &holder);
	seen_by_b = b.observed_ms;

	/* Every write fails from now on: the holder keeps trying every 100 ms. */
	if (fake_call(&k8s, "POST", "/_fake/lease-fail", "{\"times\":1000,\"status\":500}", NULL) !=
	    201)
		printf("# /_fake/lease-fail was refused\n");
	while (monotonic_ms() - last_ok < 2000) {
		if (kube_lease_try(&a, &holder) < 0)
			failed++;
		if (!kube_lease_valid(&a)) {
			stopped = monotonic_ms();
			break;
		}
		last_valid = monotonic_ms();
		sleep_ms(50);
	}
	ok(failed > 0, "its renewals fail (%d)", failed);
	like(a.why.buf, "etcdserver: request timed out", "with the API server's reason");
	like(a.why.buf, "kubernetes: lease shop/five", "naming the lease");
	ok(last_valid > last_ok, "it goes on acting a while (%lld ms)",
	   (long long)(last_valid - last_ok));
	ok(stopped && stopped - last_ok >= 600,
	   "then stops at its renew deadline (%lld ms after its last renewal)",
	   (long long)(stopped - last_ok));
	ok(last_valid - last_ok < 600, "never acting past it");
	ok(stopped && last_valid < seen_by_b + 1000,
	   "so it stopped before the other could take the lease (%lld ms before)",
	   (long long)(seen_by_b + 1000 - last_valid));
	fake_call(&k8s, "POST", "/_fake/lease-fail", "{\"times\":0}", NULL);

	/* A write that hangs is given up at the renew deadline. */
	delay = xstrfmt("{\"method\":\"PUT\",\"path\":\"/leases/five$\",\"seconds\":2,\"times\":1}");
	fake_call(&k8s, "POST", "/_fake/delay", delay, NULL);
	free(delay);
	start = monotonic_ms();
	r = kube_lease_try(&a, &holder);
	is_int(r, -1, "a renewal the API server holds back fails");
	ok(monotonic_ms() - start < 1200, "within the renew deadline (%lld ms)",
	   (long long)(monotonic_ms() - start));
	ok(!kube_lease_valid(&a), "and the holder still may not act");
out:
	kube_lease_clear(&a);
	kube_lease_clear(&b);
	strbuf_release(&holder);
	free(path);
}

/* ---- leases no one should believe ---- */

static void hostile(const char *name, const char *spec, const char *why, const char *title)
{
	struct kube_lease l;
	struct strbuf holder = STRBUF_INIT;
	char *path = lease_path(name);
	int mark;

	put_lease(name, spec);
	if (candidate(&l, name, "sre-a") < 0) {
		ok(0, "the candidate is set up");
		goto out;
	}
	mark = fake_log_mark(&k8s);
	is_int(kube_lease_try(&l, &holder), -1, "%s: refused", title);
	like(l.why.buf, why, "%s: said", title);
	ok(!strpbrk(l.why.buf, "\x1b\n\r") && l.why.len < 400, "%s: the reason is one clean line",
	   title);
	is_str(holder.buf, "", "%s: no holder named", title);
	is_int(fake_count(&k8s, mark, "PUT", path), 0, "%s: nothing written", title);
	ok(!kube_lease_valid(&l), "%s: and no acting", title);
out:
	kube_lease_clear(&l);
	strbuf_release(&holder);
	free(path);
}

static void test_hostile(void)
{
	struct strbuf big = STRBUF_INIT;
	struct kube_lease l;
	struct strbuf holder = STRBUF_INIT;
	char *spec;

	hostile("h1", "{\"holderIdentity\":\"evil\\u001b[31mred\\nline\",\"leaseDurationSeconds\":15}",
		"spec.holderIdentity refused: a control character at byte 4",
		"a holderIdentity with an escape and a newline");
	strbuf_addstr(&big, "{\"holderIdentity\":\"");
	for (int i = 0; i < 10240; i++)
		strbuf_addch(&big, 'x');
	strbuf_addstr(&big, "\",\"leaseDurationSeconds\":15}");
	hostile("h2", big.buf, "spec.holderIdentity refused: 10240 bytes, over 256",
		"a holderIdentity of 10 KB");
	hostile("h3", "{\"holderIdentity\":\"a\\u0085b\",\"leaseDurationSeconds\":15}",
		"a control character at byte 1", "a C1 control in holderIdentity");
	hostile("h4", "{\"holderIdentity\":7,\"leaseDurationSeconds\":15}",
		"spec.holderIdentity is not a string", "a holderIdentity that is a number");
	hostile("h5", "{\"holderIdentity\":\"x\",\"leaseDurationSeconds\":\"15\"}",
		"spec.leaseDurationSeconds is not a whole number", "a duration that is a string");
	hostile("h6", "{\"holderIdentity\":\"x\",\"leaseDurationSeconds\":1e300}",
		"spec.leaseDurationSeconds is not a whole number", "a duration of 1e300");
	hostile("h7", "{\"holderIdentity\":\"x\",\"leaseDurationSeconds\":15,"
		"\"leaseTransitions\":-1}", "spec.leaseTransitions is not a whole number",
		"negative transitions");
	hostile("h8", "{\"holderIdentity\":\"x\",\"leaseDurationSeconds\":15,"
		"\"renewTime\":\"yesterday\"}", "spec.renewTime is not a time",
		"a renewTime that is no time");
	hostile("h9", "\"a string\"", "its spec is not an object", "a spec that is a string");
	hostile("h10", "{\"holderIdentity\":\"x\"}", "names a holder but no spec.leaseDurationSeconds",
		"a holder without a duration");

	/* An answer that is not a Lease at all. */
	put_lease("h11", "{}");
	spec = xstrfmt("{\"method\":\"GET\",\"path\":\"/leases/h11$\",\"status\":200,"
		       "\"body\":\"<html>proxy</html>\",\"times\":1}");
	fake_fail(&k8s, spec);
	free(spec);
	if (!candidate(&l, "h11", "sre-a")) {
		is_int(kube_lease_try(&l, &holder), -1, "an answer that is not JSON is refused");
		like(l.why.buf, "not a Lease", "and said");
	}
	kube_lease_clear(&l);

	/* UTF-8 that is not control is a name like another. */
	put_lease("h12", "{\"holderIdentity\":\"z\\u00fcrich-1\",\"leaseDurationSeconds\":15}");
	if (!candidate(&l, "h12", "sre-a")) {
		is_int(kube_lease_try(&l, &holder), 0, "a holder named in UTF-8 holds it");
		is_str(holder.buf, "z\xc3\xbcrich-1", "and is named");
	}
	kube_lease_clear(&l);

	/* A spec left empty (a lease created by hand) is free to take. */
	put_lease("h13", "{}");
	if (!candidate(&l, "h13", "sre-a"))
		is_int(kube_lease_try(&l, &holder), 1, "a lease with an empty spec is taken");
	kube_lease_clear(&l);
	strbuf_release(&holder);
	strbuf_release(&big);
}

/* ---- release ---- */

static void test_release(void)
{
	struct kube_lease a, b;
	struct strbuf holder = STRBUF_INIT;
	cJSON *lease;
	int mark;

	if (candidate(&a, "six", "sre-a") < 0 || candidate(&b, "six", "sre-b") < 0) {
		ok(0, "the candidates are set up");
		goto out;
	}
	kube_lease_try(&a, &holder);
	is_int(kube_lease_try(&b, &holder), 0, "the other candidate finds it held");
	mark = fake_log_mark(&k8s);
	is_int(kube_lease_release(&b), 0, "releasing a lease one does not hold is no error");
	is_int(fake_count(&k8s, mark, "PUT", NULL), 0, "and writes nothing");

	is_int(kube_lease_release(&a), 0, "the holder releases it");
	ok(!a.held && !kube_lease_valid(&a), "and may no longer act");
	lease = stored("six");
	is_str(spec_string(lease, "holderIdentity"), "", "holderIdentity is empty");
	is_int(spec_int(lease, "leaseDurationSeconds"), 1, "leaseDurationSeconds is 1");
	is_int(spec_int(lease, "leaseTransitions"), 0, "leaseTransitions is kept");
	cJSON_Delete(lease);
	is_int(kube_lease_try(&b, &holder), 1, "the other takes it at once");
	lease = stored("six");
	is_int(spec_int(lease, "leaseTransitions"), 1, "a transition");
	cJSON_Delete(lease);
out:
	kube_lease_clear(&a);
	kube_lease_clear(&b);
	strbuf_release(&holder);
}

/* ---- renewing in the background ---- */

static void test_renewer(void)
{
	struct kube_lease a, b;
	struct strbuf holder = STRBUF_INIT, why = STRBUF_INIT;
	int64_t start, stopped, took = 0;
	int taken = 0, lapsed = 0, r;

	if (candidate(&a, "eight", "sre-a") < 0 || candidate(&b, "eight", "sre-b") < 0) {
		ok(0, "the candidates are set up");
		goto out;
	}
	is_int(kube_lease_start(&a), 0, "the holder's renewer starts");
	start = monotonic_ms();
	while (!kube_lease_valid(&a) && monotonic_ms() - start < 2000)
		sleep_ms(20);
	ok(kube_lease_valid(&a), "it takes the lease by itself");
	is_int(kube_lease_status(&a, &holder, &why), 1, "and says so");

	/* The caller does nothing with the lease for 2 s, twice the duration: it stays ours. */
	start = monotonic_ms();
	while (monotonic_ms() - start < 2000) {
		if (kube_lease_try(&b, &holder) != 0)
			taken++;
		if (!kube_lease_valid(&a))
			lapsed++;
		sleep_ms(150);
	}
	is_int(taken, 0, "the other never takes it");
	is_int(lapsed, 0, "the holder may act all along");
	is_str(holder.buf, "sre-a", "the other names it");

	/* The other's renewer, started while the lease is held, finds it held. */
	is_int(kube_lease_start(&b), 0, "the other's renewer starts");
	sleep_ms(300);
	r = kube_lease_status(&b, &holder, &why);
	ok(r == 0 && !strcmp(holder.buf, "sre-a") && !kube_lease_valid(&b),
	   "and finds it held by sre-a (%d, %s)", r, holder.buf);

	/* The holder's renewer stops (the process hangs, say): the other's takes over. */
	kube_lease_stop(&a);
	stopped = monotonic_ms();
	while (monotonic_ms() - stopped < 4000) {
		if (kube_lease_valid(&b)) {
			took = monotonic_ms() - stopped;
			break;
		}
		sleep_ms(20);
	}
	ok(took >= 1000 && took < 3000, "the other's renewer takes it after the duration (%lld ms)",
	   (long long)took);
	ok(!kube_lease_valid(&a), "the stopped holder may no longer act");
	is_int(kube_lease_status(&b, &holder, &why), 1, "the new holder's status says it holds it");
	is_int(kube_lease_release(&b), 0, "it releases the lease, its renewer stopped first");
	ok(!b.renewer, "(stopped)");
	{
		cJSON *lease = stored("eight");

		is_str(spec_string(lease, "holderIdentity"), "", "which is free");
		cJSON_Delete(lease);
	}
out:
	kube_lease_clear(&a);
	kube_lease_clear(&b);
	strbuf_release(&holder);
	strbuf_release(&why);
}

/* ---- the API server down or refusing ---- */

static void test_refused(void)
{
	struct kube_lease l;
	struct strbuf holder = STRBUF_INIT;

	fake_fail(&k8s, "{\"method\":\"GET\",\"path\":\"/leases/seven$\",\"status\":403,"
		  "\"body\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
		  "\"message\":\"leases.coordination.k8s.io \\\"seven\\\" is forbidden: User "
		  "\\\"system:serviceaccount:shop:sre\\\" cannot get resource \\\"leases\\\"\","
		  "\"reason\":\"Forbidden\",\"code\":403}}");
	if (candidate(&l, "seven", "sre-a") < 0) {
		ok(0, "the candidate is set up");
		goto out;
	}
	is_int(kube_lease_try(&l, &holder), -1, "a lease RBAC forbids is an error");
	like(l.why.buf, "cannot get resource \"leases\"", "with the API server's words");
	unlike(l.why.buf, TOKEN, "and never the token");
out:
	kube_lease_clear(&l);
	strbuf_release(&holder);
}

int main(void)
{
	char *server = NULL;

	if (!fake_begin())
		return 0;
	if (!have_program("openssl")) {
		printf("1..0 # SKIP no openssl\n");
		return 0;
	}
	if (test_begin("kube-lease") < 0)
		return 1;
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	if (make_server_pki() < 0 ||
	    fake_start(&k8s, "kubernetes", "k8s", "--cert", server_crt, "--key", server_key,
		       "--token", TOKEN, NULL) < 0) {
		ok(0, "the fake API server starts, with its certificate");
		goto out;
	}
	server = xstrfmt("https://%s", k8s.url + strlen("http://"));
	kubeconfig = kubeconfig_for("fake.yaml", server, ca_b64, "    token: " TOKEN "\n");

	test_config();
	test_acquire_and_renew();
	test_takeover();
	test_own_clock();
	test_conflict();
	test_partition();
	test_hostile();
	test_release();
	test_renewer();
	test_refused();
out:
	fake_stop(&k8s);
	free(kubeconfig);
	free(server);
	free_server_pki();
	return test_end();
}
