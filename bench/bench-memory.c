/*
 * bench-memory.c: what recall costs `sre remember search` and `sre
 * diagnose` over a large memory. The target (issue 15): search over
 * 100,000 incidents answers in under 10 ms at p99.
 *
 * Builds a store of N incidents (default 100,000) through the store's own
 * calls, as scout, diagnose and fix write them: an incident of one of 25
 * failure scenarios (OOMKilled, connection refused, timeouts, 5xx, disk
 * full, expired certificates, crash loops, image pull back-off,
 * deadlocks, replication lag, ...) on one of 42 services, both drawn with
 * Zipf-like frequencies; a diagnosis whose body carries the log templates
 * of its scenario and of ordinary noise; comments by people in SRE words
 * (again Zipf, with a long tail of ticket numbers, pod names and
 * versions); and an ending: a fix carried out and verified (events as
 * lib/fix-engine.c writes them), one that failed or did not fix it and
 * was escalated to a person, a recovery on its own, a person closing it,
 * or still open. The clock (SRE_NOW) moves five minutes an incident, so
 * a year of incidents, and a fix that the same problem undoes within the
 * hour is remembered as one that did not hold.
 *
 * Then memory_index() once (timed), Q queries (default 1,000: one, three
 * and eight words, common and rare words, log lines pasted whole, and
 * some that match nothing) through memory_search() with -n 10, and the
 * baseline on the same file in the same run: the same words as a plain
 * `LIKE '%word%'` scan (OR of the words over title, root_cause, comments,
 * resolution and templates) LIMIT 10 through sqlite3 itself. The LIKE
 * scan does not rank: it stops at the first 10 rows that hold a common
 * word, and reads the whole table for a rare one. Prints p50, p90, p99
 * and max of each and the ratio of the p99s, the same of each search's
 * CPU time (on a shared machine the clock also counts waiting for a
 * core), and p50 and p99 of each shape of query; then memory_similar()
 * (which diagnose calls) for 200 incidents. No network; no timed
 * assertions. The run is bounded by a 30-minute alarm.
 *
 * On this 2-core machine the full 100,000 takes about 7 minutes, most of
 * it memory_index() (came_back() reads every later incident for each
 * verified fix: there is no index on incidents(fingerprint)); `make
 * bench` runs 20,000, about a minute.
 *
 *   bench-memory [N [Q [S]]]   (S: how many memory_similar() calls, default 200)
 *
 * BENCH_MEMORY_KEEP=1 keeps the store (and the queries, one a line, in
 * <store>.queries) and prints where it is, to look at a query plan
 * afterwards; BENCH_MEMORY_STORE=<store> searches a kept store again
 * instead of building one (same queries), to compare two builds of
 * lib/memory.c on the same data.
 */
#include <ctype.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/memory.h"
#include "../lib/store.h"
#include "../lib/strbuf.h"
#include "../lib/timeutil.h"
#include "bench.h"

#define LIMIT_S 1800
#define BATCH 1000
#define MAX_WORDS 32

static int chance(int percent)
{
	return rnd(100) < percent;
}

/*
 * Zipf-like: item k of n with weight 1/(k+1)^s. The cumulative weights
 * are computed once per table.
 */
struct zipf {
	double *cdf;
	int n;
};

static void zipf_init(struct zipf *z, int n, double s)
{
	double sum = 0;

	z->n = n;
	z->cdf = xcalloc((size_t)n, sizeof(*z->cdf));
	for (int k = 0; k < n; k++)
		z->cdf[k] = sum += 1.0 / pow(k + 1, s);
	for (int k = 0; k < n; k++)
		z->cdf[k] /= sum;
}

static int zipf_pick(const struct zipf *z)
{
	double u = (double)rnd(1 << 30) / (1 << 30);
	int lo = 0, hi = z->n - 1;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (z->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- what the incidents are made of ---- */

/*
 * A failure scenario. Texts hold placeholders: {s} the service, {d} a
 * dependency, {p} a pod, {n} a node, {v} a version, {k} a number, {t} a
 * ticket. Log templates are masked as the template miner prints them.
 */
struct scenario {
	const char *signal;      /* the fingerprint's last part */
	const char *category;
	const char *action;      /* what the rules choose; "escalate": no action */
	const char *titles[3];
	const char *causes[2];
	const char *logs[3];
	const char *by_hand;     /* what a person did when the action did not do it */
};

/* In order of how often they happen. */
static const struct scenario scenarios[] = {
	{ "http-5xx", "deploy-regression", "rollback",
	  { "{s} 5xx error rate {k}%", "{s}: HTTP 503 Service Unavailable", "502 Bad Gateway from {s} after deploy {v}" },
	  { "deploy {v} of {s} introduced a NullPointerException in the request path; 5xx rose from 0.1% to {k}%",
	    "bad release {v}: {s} returns 500 on every POST to {d}" },
	  { "POST <*> HTTP/1.1 500 <NUM>", "java.lang.NullPointerException at <*>", "GET <*> HTTP/1.1 503 <NUM>" },
	  "rolled back to the previous release by hand and pinned it" },
	{ "timeout", "latency", "scale",
	  { "{s} p99 latency above 2s", "{s}: requests to {d} timing out", "timeouts calling {d} from {s}" },
	  { "{d} answers slowly under load; {s} calls time out after 5s (context deadline exceeded)",
	    "thread pool of {s} saturated: requests queue and time out" },
	  { "context deadline exceeded (Client.Timeout exceeded while awaiting headers)", "upstream request timeout",
	    "request to <*> timed out after <NUM>ms" },
	  "raised the client timeout and added a replica of {d}" },
	{ "oom", "oom", "increase-memory",
	  { "{s} OOMKilled", "{s}: container killed, out of memory (exit 137)", "pod {p} OOMKilled on {n}" },
	  { "the {s} container used more than its 512Mi memory limit and was OOMKilled (exit code 137)",
	    "memory leak in {s} {v}: resident memory climbs until the kernel OOM killer ends it" },
	  { "java.lang.OutOfMemoryError: Java heap space", "Killed process <NUM> (<*>) total-vm:<NUM>kB, anon-rss:<NUM>kB",
	    "Memory cgroup out of memory: Killed process <NUM>" },
	  "raised the memory limit to 1Gi and restarted with a heap dump enabled" },
	{ "connection-refused", "dependency", "restart",
	  { "{s}: connection refused to {d}", "{s} cannot reach {d}: connect: connection refused",
	    "{s} 5xx: upstream {d} refusing connections" },
	  { "{d} is down; {s} gets connection refused on every call to it",
	    "{d} listener crashed after a config reload; port closed, connection refused" },
	  { "dial tcp <IP>:<NUM>: connect: connection refused",
	    "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
	    "could not connect to server: Connection refused Is the server running on host <*>" },
	  "restarted {d} by hand after its config reload left the port closed" },
	{ "crashloop", "crashloop", "restart",
	  { "{s} in CrashLoopBackOff", "{p} crash loop: back-off restarting failed container",
	    "{s} crash looping after deploy {v}" },
	  { "{s} exits at start-up: it cannot read its config map and the kubelet backs off restarting it",
	    "crash loop: {s} panics on start-up with a nil pointer dereference" },
	  { "Back-off restarting failed container <*> in pod <*>",
	    "panic: runtime error: invalid memory address or nil pointer dereference", "goroutine <NUM> [running]:" },
	  "restored the config map from git and rolled the deployment" },
	{ "probe", "probe-failure", "restart",
	  { "{s}: readiness probe failed", "liveness probe failing for {p}", "{s} unhealthy: probe returns 500" },
	  { "the readiness probe of {s} checks {d}; when {d} is slow the probe fails and the pod leaves the service",
	    "liveness probe timeout of 1s too short for {s} under GC" },
	  { "Readiness probe failed: HTTP probe failed with statuscode: <NUM>",
	    "Liveness probe failed: Get <*>: context deadline exceeded",
	    "Container <*> failed liveness probe, will be restarted" },
	  "made the readiness probe local and raised its timeout to 3s" },
	{ "pool-exhausted", "resource-exhaustion", "restart",
	  { "{s}: connection pool exhausted", "{s} cannot get a database connection from the pool",
	    "Hikari pool timeouts on {s}" },
	  { "a connection leak in {s} {v}: connections not returned on the error path; pool of 20 exhausted",
	    "{d} max_connections reached; {s} pool waits and times out" },
	  { "HikariPool-<NUM> - Connection is not available, request timed out after <NUM>ms.",
	    "FATAL: sorry, too many clients already", "FATAL: remaining connection slots are reserved" },
	  "killed idle sessions on {d} and rolled back {s} to fix the leak" },
	{ "disk-full", "resource-exhaustion", "escalate",
	  { "{s}: disk full on {n}", "No space left on device on {s}", "{d} volume {k}% full" },
	  { "log rotation stopped on {n}; /var/log filled the disk and {s} could not write",
	    "{d} WAL archive filled the data volume: no space left on device" },
	  { "write <*>: no space left on device", "could not write to file <*>: No space left on device",
	    "disk usage <NUM>% on <*>" },
	  "deleted old WAL archives, grew the volume to 500Gi and fixed logrotate" },
	{ "image-pull", "image-pull", "fix-image",
	  { "{s}: ImagePullBackOff", "{p} ErrImagePull: manifest unknown", "image pull backoff for {s}:{v}" },
	  { "the image tag {v} of {s} was never pushed to the registry: manifest unknown",
	    "registry credentials expired, image pull fails with 401 unauthorized" },
	  { "Failed to pull image <*>: rpc error: code = NotFound desc = manifest unknown", "Error: ImagePullBackOff",
	    "Back-off pulling image <*>" },
	  "pushed the missing tag from CI and rotated the registry pull secret" },
	{ "deadlock", "dependency", "restart",
	  { "{d}: deadlock detected", "{s} requests stuck: database deadlock on {d}",
	    "deadlocks in {d} from {s} batch job" },
	  { "two {s} workers update orders and payments rows in opposite order; {d} reports deadlock detected",
	    "lock wait timeout in {d}: a long migration held a table lock" },
	  { "ERROR: deadlock detected", "DETAIL: Process <NUM> waits for ShareLock on transaction <NUM>; blocked by process <NUM>.",
	    "Lock wait timeout exceeded; try restarting transaction" },
	  "cancelled the migration and paused the batch job" },
	{ "cert-expired", "config-error", "escalate",
	  { "{s}: certificate expired", "TLS handshake to {d} fails: x509 certificate has expired",
	    "{s} cert expired on {d}" },
	  { "the TLS certificate of {d} expired; cert-manager renewal failed on a DNS01 challenge",
	    "client certificate of {s} expired; mutual TLS to {d} refused" },
	  { "x509: certificate has expired or is not yet valid: current time <*> is after <*>",
	    "tls: handshake failure", "remote error: tls: bad certificate" },
	  "renewed the certificate by hand and fixed the cert-manager DNS01 credentials" },
	{ "replication-lag", "dependency", "escalate",
	  { "{d} replication lag {k}0s", "replica {d} behind primary", "{s} reads stale data: replication lag on {d}" },
	  { "a bulk backfill on the primary outran the replica's apply; replication lag reached {k}0s",
	    "replica {d} IO throttled by the cloud disk; WAL replay behind" },
	  { "replication lag <NUM>s exceeds threshold", "Seconds_Behind_Master: <NUM>",
	    "standby is <NUM> bytes behind primary" },
	  "throttled the backfill and moved the replica to a faster disk" },
	{ "dns", "dependency", "restart",
	  { "{s}: DNS resolution failing for {d}", "no such host {d} from {s}", "coredns SERVFAIL spike hits {s}" },
	  { "coredns pods OOMKilled under a query storm; lookups of {d} fail with no such host",
	    "ndots:5 search path multiplies lookups; coredns saturated, SERVFAIL" },
	  { "dial tcp: lookup <*> on <IP>:53: no such host",
	    "[ERROR] plugin/errors: <NUM> <*> A: read udp <IP>:<NUM>-><IP>:53: i/o timeout", "SERVFAIL" },
	  "scaled coredns to 6 replicas and set ndots:2 on {s}" },
	{ "eviction", "eviction", "scale",
	  { "{p} evicted from {n}", "{s} pods evicted: node low on memory", "eviction storm on {n}" },
	  { "node {n} ran low on memory; the kubelet evicted {s} pods (BestEffort QoS)",
	    "ephemeral storage of {n} exhausted by {s} temp files; pods evicted" },
	  { "The node was low on resource: memory. Container <*> was using <*>, which exceeds its request of <*>.",
	    "Evicted pod <*>", "eviction manager: must evict pod(s) to reclaim memory" },
	  "set memory requests on {s} and cordoned {n}" },
	{ "config", "config-error", "rollback",
	  { "{s} fails to start: invalid configuration", "{s}: missing DATABASE_URL after config change",
	    "bad config push to {s}" },
	  { "config change {v} removed DATABASE_URL; {s} refuses to start",
	    "YAML indentation error in the {s} config map" },
	  { "invalid configuration: missing key <*>", "yaml: line <NUM>: mapping values are not allowed in this context",
	    "failed to load config from <*>" },
	  "reverted the config change and added a schema check to CI" },
	{ "gc-pause", "latency", "increase-memory",
	  { "{s} latency spikes: long GC pauses", "{s} stop-the-world GC {k}s", "{s} p99 up: heap near limit" },
	  { "heap of {s} near its limit; full GC every minute pauses for 2 to 4 seconds",
	    "G1 humongous allocations in {s} {v} trigger full GCs" },
	  { "GC pause (G1 Evacuation Pause) <NUM>M-><NUM>M(<NUM>M), <NUM> secs",
	    "Pause Full (Allocation Failure) <NUM>M-><NUM>M", "gc <NUM> @<*>: <NUM>% CPU" },
	  "raised the heap and region size of {s}" },
	{ "consumer-lag", "latency", "scale",
	  { "{s} consumer lag {k}k messages", "kafka consumer group {s} falling behind",
	    "{s}: events delayed, consumer lag growing" },
	  { "{s} consumers rebalance in a loop (max.poll.interval.ms exceeded); lag grows on every partition",
	    "one slow partition: a poison message makes {s} retry forever" },
	  { "consumer group <*> lag <NUM> on topic <*>",
	    "Member <*> sending LeaveGroup request to coordinator due to consumer poll timeout has expired",
	    "Revoking previously assigned partitions" },
	  "skipped the poison message to the dead letter topic" },
	{ "cpu-throttle", "resource-exhaustion", "scale",
	  { "{s} CPU throttled", "{s} at 100% CPU", "{p} throttling {k}% of periods" },
	  { "CPU limit of 500m on {s} throttles it during traffic peaks",
	    "a regex in {s} {v} backtracks catastrophically on long inputs: CPU 100%" },
	  { "cpu throttling <NUM>% of periods for container <*>", "load average: <NUM> <NUM> <NUM>",
	    "worker <NUM> busy for <NUM>ms" },
	  "removed the CPU limit of {s} and fixed the regex" },
	{ "fd-exhausted", "resource-exhaustion", "restart",
	  { "{s}: too many open files", "{s} file descriptor exhaustion", "{s} accept failing: EMFILE" },
	  { "{s} leaks sockets to {d} on timeouts; hits the 1024 open files limit",
	    "ulimit -n of 1024 on {n} too low for {s}" },
	  { "accept tcp <*>: accept4: too many open files", "socket: too many open files",
	    "EMFILE: too many open files, open <*>" },
	  "raised nofile to 65536 and fixed the socket leak" },
	{ "redis-readonly", "dependency", "restart",
	  { "{s}: READONLY errors from redis", "{d} failover: writes rejected", "{s} cache writes failing" },
	  { "redis sentinel failed over {d}; {s} still writes to the old primary, now a read only replica",
	    "{d} hit maxmemory with noeviction; writes rejected with OOM" },
	  { "READONLY You can't write against a read only replica.",
	    "OOM command not allowed when used memory > maxmemory", "MISCONF Redis is configured to save RDB snapshots" },
	  "pointed {s} at the sentinel address instead of the old primary" },
	{ "segfault", "crash", "rollback",
	  { "{s} crashed: segmentation fault", "{s} SIGSEGV in {v}", "{p} exited with code 139" },
	  { "{s} {v} crashes with SIGSEGV in the image decoder on malformed PNGs",
	    "use after free in the {s} cache eviction path" },
	  { "Segmentation fault (core dumped)", "signal SIGSEGV: segmentation violation code=<*> addr=<*> pc=<*>",
	    "Container <*> exited with code 139" },
	  "rolled back and fuzzed the decoder" },
	{ "unschedulable", "unschedulable", "escalate",
	  { "{s} pods pending: unschedulable", "0/12 nodes available for {s}", "{s} scale-up stuck: insufficient cpu" },
	  { "cluster autoscaler at its max of 12 nodes; {s} pods request 2 CPUs and stay Pending",
	    "node affinity of {s} matches no node after the node pool upgrade" },
	  { "<NUM>/<NUM> nodes are available: <NUM> Insufficient cpu.",
	    "pod didn't trigger scale-up: <NUM> max node group size reached", "FailedScheduling" },
	  "raised the node group maximum to 20" },
	{ "rate-limited", "dependency", "escalate",
	  { "{s}: 429 Too Many Requests from {d}", "{s} rate limited by payment provider", "throttling from {d} API" },
	  { "{s} retries without backoff and hits the rate limit of {d} of 100 requests per second",
	    "a batch job shares the API key of {s}; quota exhausted" },
	  { "HTTP 429 Too Many Requests: rate limit exceeded, retry after <NUM>s", "Throttling: Rate exceeded",
	    "quota exceeded for key <*>" },
	  "gave the batch job its own API key and added jittered backoff" },
	{ "healthcheck", "unknown", "restart",
	  { "{s} health check failing", "{s} down", "{s} not responding on /healthz" },
	  { "{s} stopped answering /healthz; no evidence pointed at a cause",
	    "{s} hung; threads blocked on {d}" },
	  { "health check <*> failed: <*>", "GET /healthz HTTP/1.1 503 <NUM>", "shutting down: received SIGTERM" },
	  "took a thread dump and restarted {s}" },
	{ "business-metric", "business-metric", "escalate",
	  { "checkout conversion dropped {k}%", "{s}: orders per minute below baseline", "{s} signups down {k}%" },
	  { "a feature flag hid the pay button for Safari users; orders dropped {k}%",
	    "{d} declines cards after a vendor change" },
	  { "orders_per_minute=<NUM> below baseline <NUM>", "payment declined: code <*>",
	    "feature flag <*> evaluated to <*>" },
	  "turned the feature flag off and called the vendor" },
};

static const char *const services[] = {
	"checkout", "api-gateway", "payments", "cart", "auth", "user-service", "search",
	"frontend", "order-service", "inventory", "quote-service", "policy-service",
	"recommendations", "notifications", "ingress-nginx", "postgres-primary",
	"redis-cache", "kafka-broker", "shipping", "billing", "ledger", "fraud-detection",
	"image-resizer", "email-sender", "graphql-gateway", "mobile-bff", "session-store",
	"rate-limiter", "config-server", "feature-flags", "elasticsearch", "logstash",
	"reporting", "analytics-etl", "spark-jobs", "thumbnailer", "coredns", "vault",
	"cert-manager", "postgres-replica", "memcached", "pricing",
};

/* What services call; dependencies are drawn Zipf too. */
static const char *const dependencies[] = {
	"postgres-primary", "redis-cache", "payments", "auth", "kafka-broker", "postgres-replica",
	"elasticsearch", "user-service", "stripe-api", "inventory", "vault", "memcached",
	"s3", "coredns", "pricing",
};

static const char *const people[] = {
	"alice", "bob", "carol", "dmitri", "emeka", "fatima", "gwen", "hiro", "ines", "jamal",
};

/* The words of people's comments, most common first: a Zipf draw gives the long tail. */
static const char *const words[] = {
	"again", "looks", "traffic", "deploy", "spike", "customers", "dashboard", "latency",
	"errors", "rollback", "upstream", "alert", "paged", "runbook", "canary", "retry",
	"queue", "node", "cluster", "region", "mitigated", "noisy", "flapping", "backlog",
	"vendor", "maintenance", "window", "migration", "release", "hotfix", "regression",
	"capacity", "autoscaler", "limits", "requests", "heap", "threads", "sockets",
	"replica", "primary", "failover", "cache", "eviction", "throughput", "p99", "p50",
	"weekend", "nightly", "batch", "cron", "backfill", "index", "vacuum", "checkpoint",
	"kernel", "patch", "upgrade", "helm", "chart", "terraform", "ansible", "istio",
	"envoy", "sidecar", "mesh", "grpc", "http2", "keepalive", "handshake", "ciphers",
	"quota", "billing", "invoice", "tenant", "shard", "partition", "rebalance",
	"offset", "compaction", "tombstone", "snapshot", "restore", "backup", "rto", "rpo",
	"pager", "escalation", "postmortem", "blameless", "followup", "action", "item",
	"owner", "sla", "slo", "budget", "burn", "rate", "saturation", "utilisation",
	"jitter", "backoff", "thundering", "herd", "stampede", "warmup", "coldstart",
	"lambda", "fargate", "ec2", "gke", "aks", "eks", "azure", "gcp", "aws",
	"us-east-1", "eu-west-1", "ap-south-1", "zone", "az", "loadbalancer", "nlb",
	"alb", "cloudfront", "cdn", "waf", "ddos", "bot", "scraper", "crawler",
	"unicode", "encoding", "locale", "timezone", "dst", "leap", "second", "ntp",
	"clock", "skew", "drift", "entropy", "fork", "zombie", "orphan", "cgroup",
	"namespace", "seccomp", "apparmor", "selinux", "iptables", "conntrack",
	"nat", "mtu", "fragmentation", "retransmits", "bufferbloat", "nagle",
	"hugepages", "numa", "swap", "thrashing", "iowait", "fsync", "journal",
	"ext4", "xfs", "inode", "lvm", "raid", "nvme", "ebs", "iops", "burst",
	"credits", "throttling", "noisyneighbour", "steal", "hypervisor", "firmware",
	"bios", "microcode", "spectre", "meltdown", "heartbleed", "log4shell",
	"zeroday", "cve", "pentest", "audit", "compliance", "gdpr", "pci", "soc2",
};

static const char *const comment_shapes[] = {
	"paged {who}, looking",
	"same as last week, {w} {w} again",
	"{who}: {w} on {d} {w}, checking the dashboard",
	"customers report {w} {w} on {s}",
	"rolled {s} back to {v}; watching",
	"opened {t} with the vendor",
	"{w} {w} {w}, see {t}",
	"this is the {w} {w} from {t}",
	"mitigated; follow-up {t} for the {w}",
	"grafana shows {w} {w} since the {v} deploy",
	"{p} on {n} was the first to go",
	"not the {w}: {d} looks fine",
	"{who} thinks it is {w} {w}",
};

/* Lines of ordinary noise that every service logs, as templates. */
static const char *const noise_logs[] = {
	"GET <*> HTTP/1.1 200 <NUM>", "health check ok in <NUM>ms", "starting <*> version <*>",
	"connected to <*> in <NUM>ms", "cache hit ratio <NUM>%", "flushed <NUM> metrics to <*>",
	"request id <*> completed in <NUM>ms", "leader elected: <*>",
};

/* What an incident's texts are filled in with. */
struct vars {
	const char *service, *dep;
	char pod[64], node[40], version[24], ticket[24], number[16];
};

static struct zipf z_scenario, z_service, z_dep, z_word;

static void vars_draw(struct vars *v, int service)
{
	static const char alnum[] = "bcdfghjklmnpqrstvwxz2456789";
	char hash[6];

	v->service = services[service];
	v->dep = dependencies[zipf_pick(&z_dep)];
	if (!strcmp(v->dep, v->service))
		v->dep = "postgres-primary";
	for (int i = 0; i < 5; i++)
		hash[i] = alnum[rnd(sizeof(alnum) - 1)];
	hash[5] = '\0';
	snprintf(v->pod, sizeof(v->pod), "%s-%llx-%s", v->service, 0x5a000000LL + rnd(1 << 24), hash);
	snprintf(v->node, sizeof(v->node), "ip-10-0-%lld-%lld", rnd(16), rnd(250) + 2);
	snprintf(v->version, sizeof(v->version), "v%lld.%lld.%lld", rnd(4) + 1, rnd(30), rnd(12));
	snprintf(v->ticket, sizeof(v->ticket), "%s-%lld", chance(50) ? "INC" : "OPS", rnd(90000) + 1000);
	snprintf(v->number, sizeof(v->number), "%lld", rnd(90) + 5);
}

/* A text from a shape and the incident's vars. */
static void fill(struct strbuf *out, const char *shape, const struct vars *v)
{
	for (const char *p = shape; *p; p++) {
		if (*p != '{') {
			strbuf_addch(out, *p);
			continue;
		}
		if (!strncmp(p, "{s}", 3))
			strbuf_addstr(out, v->service);
		else if (!strncmp(p, "{d}", 3))
			strbuf_addstr(out, v->dep);
		else if (!strncmp(p, "{p}", 3))
			strbuf_addstr(out, v->pod);
		else if (!strncmp(p, "{n}", 3))
			strbuf_addstr(out, v->node);
		else if (!strncmp(p, "{v}", 3))
			strbuf_addstr(out, v->version);
		else if (!strncmp(p, "{k}", 3))
			strbuf_addstr(out, v->number);
		else if (!strncmp(p, "{t}", 3))
			strbuf_addstr(out, v->ticket);
		else if (!strncmp(p, "{w}", 3))
			strbuf_addstr(out, words[zipf_pick(&z_word)]);
		else if (!strncmp(p, "{who}", 5)) {
			strbuf_addstr(out, people[rnd(ARRAY_LEN(people))]);
			p += 2;
		} else {
			strbuf_addch(out, *p);
			continue;
		}
		p += 2;
	}
}

/* The texts hold no quote or backslash, so they go into JSON as they are. */
static void json_str(struct strbuf *out, const char *key, const char *value, int comma)
{
	strbuf_addf(out, "%s\"%s\":\"%s\"", comma ? "," : "", key, value);
}

static void set_clock(time_t t)
{
	char at[32];

	format_iso8601(at, sizeof(at), t);
	setenv("SRE_NOW", at, 1);
}

static int move(struct store *st, long long id, enum incident_state to, const char *actor,
		const char *reason)
{
	return store_incident_transition(st, id, -1, to, actor, reason, NULL) ? -1 : 0;
}

/* One incident, from its opening to its ending, at time t. */
static int incident_make(struct store *st, long long i, time_t t)
{
	const struct scenario *sc = &scenarios[zipf_pick(&z_scenario)];
	int service = zipf_pick(&z_service), outcome = (int)rnd(100), nlogs;
	struct vars v;
	struct strbuf title = STRBUF_INIT, fp = STRBUF_INIT, cause = STRBUF_INIT,
		      body = STRBUF_INIT, text = STRBUF_INIT, reason = STRBUF_INIT;
	struct diagnosis_row d;
	long long id;
	int created, ret = -1;
	int has_action = strcmp(sc->action, "escalate") != 0;

	vars_draw(&v, service);
	fill(&title, sc->titles[rnd(3)], &v);
	/* Still open: its own fingerprint, so it never holds back the next one. */
	strbuf_addf(&fp, "scout/%s/%s", v.service, sc->signal);
	if (outcome >= 92)
		strbuf_addf(&fp, "/%lld", i);
	set_clock(t);
	{
		struct incident_new in = { .service = v.service, .title = title.buf, .fingerprint = fp.buf,
					   .source = "http", .severity = (enum incident_severity)rnd(4),
					   .actor = "sre scout" };
		if (store_incident_open(st, &in, &id, &created) < 0 || !created)
			goto out;
	}
	if (outcome >= 97)
		goto done; /* detected, nobody looked yet */
	set_clock(t + 60);
	if (move(st, id, STATE_ANALYSIS_IN_PROGRESS, "sre diagnose", "diagnosing") < 0)
		goto out;
	fill(&cause, sc->causes[rnd(2)], &v);
	strbuf_addstr(&body, "{");
	json_str(&body, "category", sc->category, 0);
	json_str(&body, "root_cause", cause.buf, 1);
	strbuf_addf(&body, ",\"confidence\":0.%lld", rnd(60) + 30);
	json_str(&body, "action", sc->action, 1);
	json_str(&body, "target", v.service, 1);
	strbuf_addstr(&body, ",\"log_templates\":[");
	nlogs = 1 + (int)rnd(3);
	for (int k = 0; k < nlogs; k++)
		strbuf_addf(&body, "%s{\"template\":\"%s\",\"count\":%lld,\"new\":%s}", k ? "," : "",
			    sc->logs[(k + rnd(3)) % 3], rnd(500) + 1, chance(10) ? "true" : "false");
	for (int k = (int)rnd(3); k > 0; k--)
		strbuf_addf(&body, ",{\"template\":\"%s\",\"count\":%lld,\"new\":false}",
			    noise_logs[rnd(ARRAY_LEN(noise_logs))], rnd(100000) + 1);
	strbuf_addstr(&body, "]}");
	d = (struct diagnosis_row){ .category = sc->category, .root_cause = cause.buf,
				    .confidence = 0.3 + rnd(60) / 100.0, .action = sc->action,
				    .target = v.service, .json = body.buf };
	set_clock(t + 90);
	if (store_diagnosis_add(st, id, &d, "sre diagnose") ||
	    move(st, id, STATE_ANALYSIS_COMPLETE, "sre diagnose", "diagnosed") < 0)
		goto out;
	for (int k = (int)rnd(4) - 1; k > 0; k--) {
		strbuf_reset(&text);
		strbuf_reset(&body);
		fill(&text, comment_shapes[rnd(ARRAY_LEN(comment_shapes))], &v);
		strbuf_addch(&body, '{');
		json_str(&body, "text", text.buf, 0);
		strbuf_addch(&body, '}');
		if (store_event_append(st, id, "comment", people[rnd(ARRAY_LEN(people))], body.buf))
			goto out;
	}
	if (outcome >= 92)
		goto done; /* diagnosed, still open */
	set_clock(t + 600 + rnd(3000));
	if (outcome < 25) {
		strbuf_addf(&reason, "recovered: the http check of %s passed 3 times", v.service);
		if (move(st, id, STATE_INCIDENT_RESOLVED, "sre scout", reason.buf) < 0)
			goto out;
		goto done;
	}
	if (!has_action || outcome < 32) {
		/* A person took it, and closed it when done. */
		const char *who = people[rnd(ARRAY_LEN(people))];
		strbuf_reset(&text);
		fill(&text, sc->by_hand, &v);
		if (has_action && move(st, id, STATE_INCIDENT_REQUIRES_HUMAN, "sre fix",
				       "the policy asks a person for this service") < 0)
			goto out;
		if (!has_action && move(st, id, STATE_INCIDENT_REQUIRES_HUMAN, "sre diagnose",
					"no automatic mitigation for this") < 0)
			goto out;
		strbuf_addf(&reason, "fixed by hand: %s", text.buf);
		if (move(st, id, STATE_INCIDENT_RESOLVED, who, reason.buf) < 0)
			goto out;
		goto done;
	}
	/* A fix carried out as lib/fix-engine.c records it. */
	if (move(st, id, STATE_FIX_GENERATION_IN_PROGRESS, "sre fix", "planning the fix") < 0 ||
	    move(st, id, STATE_FIX_GENERATED, "sre fix", "planned") < 0 ||
	    move(st, id, STATE_DEPLOYMENT_IN_PROGRESS, "sre fix", "carrying out the fix") < 0)
		goto out;
	strbuf_reset(&body);
	strbuf_addstr(&body, "{");
	json_str(&body, "action", sc->action, 0);
	json_str(&body, "target", v.service, 1);
	json_str(&body, "runtime", "kubernetes", 1);
	json_str(&body, "approval", "policy", 1);
	strbuf_addstr(&body, ",\"params\":{},\"record\":{}}");
	if (store_event_append(st, id, "action-started", "sre fix", body.buf))
		goto out;
	strbuf_reset(&body);
	if (outcome < 36) {
		strbuf_addf(&body, "{\"result\":\"failed\",\"output\":\"deployments.apps %s: forbidden\"}",
			    v.service);
		strbuf_addf(&reason, "%s of %s failed: forbidden", sc->action, v.service);
	} else {
		strbuf_addf(&body, "{\"result\":\"done\",\"output\":\"%s of %s done\"}", sc->action,
			    v.service);
	}
	if (store_event_append(st, id, "action-finished", "sre fix", body.buf))
		goto out;
	if (outcome >= 36 && (move(st, id, STATE_DEPLOYMENT_COMPLETE, "sre fix", "done") < 0 ||
			      move(st, id, STATE_VERIFICATION_IN_PROGRESS, "sre fix", "verifying the fix") < 0))
		goto out;
	if (outcome >= 36 && outcome < 46)
		strbuf_addf(&reason, "%s of %s did not fix it: the http check still fails (503)",
			    sc->action, v.service);
	if (reason.len) {
		const char *who = people[rnd(ARRAY_LEN(people))];
		if (move(st, id, STATE_INCIDENT_REQUIRES_HUMAN, "sre fix", reason.buf) < 0)
			goto out;
		strbuf_reset(&reason);
		strbuf_reset(&text);
		fill(&text, sc->by_hand, &v);
		strbuf_addf(&reason, "fixed by hand: %s", text.buf);
		set_clock(t + 4000 + rnd(3000));
		if (move(st, id, STATE_INCIDENT_RESOLVED, who, reason.buf) < 0)
			goto out;
		goto done;
	}
	strbuf_addf(&reason, "verified: the http check of %s passed 3 times in %llds", v.service,
		    rnd(60) + 15);
	if (move(st, id, STATE_VERIFICATION_COMPLETE, "sre fix", reason.buf) < 0 ||
	    move(st, id, STATE_INCIDENT_RESOLVED, "sre fix", reason.buf) < 0)
		goto out;
done:
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "bench-memory: cannot write incident %lld\n", i);
	strbuf_release(&title);
	strbuf_release(&fp);
	strbuf_release(&cause);
	strbuf_release(&body);
	strbuf_release(&text);
	strbuf_release(&reason);
	return ret;
}

/* ---- queries ---- */

/* The words of text as fts_query() in lib/memory.c cuts them: what both sides search for. */
static int cut_words(const char *text, char out[MAX_WORDS][65])
{
	int n = 0;
	size_t len = 0;
	char w[65];

	for (const unsigned char *p = (const unsigned char *)text;; p++) {
		if (*p && (isalnum(*p) || *p >= 0x80)) {
			if (len < 64)
				w[len++] = (char)tolower(*p);
			continue;
		}
		w[len] = '\0';
		if (len > 1 || (len == 1 && isdigit((unsigned char)w[0]))) {
			int seen = 0;
			for (int k = 0; k < n && !seen; k++)
				seen = !strcmp(out[k], w);
			if (!seen && n < MAX_WORDS)
				memcpy(out[n++], w, len + 1);
		}
		len = 0;
		if (!*p)
			break;
	}
	return n;
}

static int function_word(const char *w)
{
	static const char *const fw[] = {
		"the", "and", "for", "from", "after", "with", "into", "that", "this", "than",
		"then", "when", "while", "which", "its", "are", "was", "not",
	};
	for (int i = 0; i < ARRAY_LEN(fw); i++)
		if (!strcmp(w, fw[i]))
			return 1;
	return 0;
}

/* A word an SRE would type about a scenario: from its title, cause or logs. */
static void scenario_word(struct strbuf *q, const struct scenario *sc)
{
	char w[MAX_WORDS][65];
	struct strbuf text = STRBUF_INIT;
	int n;

	switch (rnd(3)) {
	case 0: strbuf_addstr(&text, sc->titles[rnd(3)]); break;
	case 1: strbuf_addstr(&text, sc->causes[rnd(2)]); break;
	default: strbuf_addstr(&text, sc->logs[rnd(3)]); break;
	}
	/* Placeholders are no words anyone types. */
	for (char *p = text.buf; *p; p++) {
		char *end = *p == '{' ? strchr(p, '}') : *p == '<' ? strchr(p, '>') : NULL;
		if (end)
			memset(p, ' ', (size_t)(end - p + 1));
	}
	n = cut_words(text.buf, w);
	/* Nobody searches for "of": a word of three letters or more, or a number. */
	for (int tries = 0; n && tries < 8; tries++) {
		const char *pick = w[rnd(n)];
		if ((strlen(pick) < 3 && !isdigit((unsigned char)pick[0])) || function_word(pick))
			continue;
		strbuf_addf(q, "%s%s", q->len ? " " : "", pick);
		break;
	}
	strbuf_release(&text);
}

/*
 * Rare words, for queries that hit one to three incidents: pod hashes,
 * tickets, versions, as the index holds them (fts5vocab), every 7th.
 */
#define RARE_KEEP 512
static char rare[RARE_KEEP][65];
static int nrare;

static int rare_read(sqlite3 *db)
{
	sqlite3_stmt *stmt;
	int rc, k = 0;

	if (sqlite3_exec(db, "CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, memory_fts, 'row')",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT term FROM temp.vocab WHERE doc <= 3 AND length(term) > 3",
			       -1, &stmt, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench-memory: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && nrare < RARE_KEEP)
		if (k++ % 7 == 0)
			snprintf(rare[nrare++], sizeof(rare[0]), "%.64s",
				 (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	return 0;
}

static const char *const nowhere[] = {
	"xylophone", "quokka", "marzipan", "zeppelin", "origami", "tuba", "narwhal", "fjord",
};

/* The shapes of queries, in the order query_make() draws them. */
static const char *const kind_names[] = {
	"absent words", "a rare word", "a common word", "a service", "service + 2 words",
	"3 words", "a title + 3 words", "a log line",
};

/* A query text: a mix of shapes, the same every run. Returns its shape. */
static int query_make(struct strbuf *q)
{
	int kind = (int)rnd(100);
	const struct scenario *sc = &scenarios[zipf_pick(&z_scenario)];
	struct vars v;

	strbuf_reset(q);
	if (kind < 5) {
		strbuf_addf(q, "%s %s", nowhere[rnd(ARRAY_LEN(nowhere))], nowhere[rnd(ARRAY_LEN(nowhere))]);
		return 0;
	}
	if (kind < 15 && nrare) {
		strbuf_addstr(q, rare[rnd(nrare)]);
		return 1;
	}
	if (kind < 30) {
		scenario_word(q, sc);
		return 2;
	}
	if (kind < 40) {
		strbuf_addstr(q, services[zipf_pick(&z_service)]);
		return 3;
	}
	if (kind < 60) {
		strbuf_addstr(q, services[zipf_pick(&z_service)]);
		scenario_word(q, sc);
		scenario_word(q, sc);
		return 4;
	}
	if (kind < 75) {
		scenario_word(q, sc);
		scenario_word(q, sc);
		strbuf_addf(q, " %s", words[zipf_pick(&z_word)]);
		return 5;
	}
	vars_draw(&v, zipf_pick(&z_service));
	if (kind < 90) {
		/* Eight words or so. */
		fill(q, sc->titles[rnd(3)], &v);
		strbuf_addf(q, " %s %s %s", words[zipf_pick(&z_word)], words[zipf_pick(&z_word)], v.dep);
		return 6;
	}
	/* Pasted whole, with its numbers. */
	strbuf_addf(q, "%s %s: ", v.service, v.pod);
	for (const char *p = sc->logs[rnd(3)]; *p; p++) {
		if (*p == '<' && strchr(p, '>')) {
			strbuf_addf(q, "%lld", rnd(100000));
			p = strchr(p, '>');
		} else {
			strbuf_addch(q, *p);
		}
	}
	return 7;
}

/* The plain scan: each word against each text column, LIKE '%word%', first 10 rows. */
static sqlite3_stmt *like_cache[MAX_WORDS + 1];

static sqlite3_stmt *like_stmt(sqlite3 *db, int n)
{
	sqlite3_stmt **cache = like_cache;
	struct strbuf sql = STRBUF_INIT;

	if (cache[n])
		return cache[n];
	strbuf_addstr(&sql, "SELECT id FROM memory WHERE chaos = 0 AND (");
	for (int k = 1; k <= n; k++)
		strbuf_addf(&sql, "%stitle LIKE ?%d OR root_cause LIKE ?%d OR comments LIKE ?%d"
			    " OR resolution LIKE ?%d OR templates LIKE ?%d", k > 1 ? " OR " : "",
			    k, k, k, k, k);
	strbuf_addstr(&sql, ") LIMIT 10");
	if (sqlite3_prepare_v2(db, sql.buf, -1, &cache[n], NULL) != SQLITE_OK) {
		fprintf(stderr, "bench-memory: %s\n", sqlite3_errmsg(db));
		cache[n] = NULL;
	}
	strbuf_release(&sql);
	return cache[n];
}

struct dist {
	double p50, p90, p99, max;
};

static struct dist dist_of(double *v, size_t n)
{
	struct dist d = { 0 };

	if (!n)
		return d;
	qsort(v, n, sizeof(*v), cmp_double);
	d.p50 = v[(size_t)ceil(0.50 * n) - 1] * 1000;
	d.p90 = v[(size_t)ceil(0.90 * n) - 1] * 1000;
	d.p99 = v[(size_t)ceil(0.99 * n) - 1] * 1000;
	d.max = v[n - 1] * 1000;
	return d;
}

/* Where the time goes: p50 and p99 of each shape, and the slowest query. */
static void by_kind(const double *lat, const int *kinds, char **queries, int nq)
{
	double *v = xcalloc((size_t)nq, sizeof(*v));
	int slow = 0;

	for (int k = 0; k < ARRAY_LEN(kind_names); k++) {
		size_t n = 0;
		struct dist d;
		for (int i = 0; i < nq; i++)
			if (kinds[i] == k)
				v[n++] = lat[i];
		if (!n)
			continue;
		d = dist_of(v, n);
		printf("  %-18s %4zu queries: p50 %6.2f ms, p99 %6.2f ms\n", kind_names[k], n, d.p50, d.p99);
	}
	for (int i = 1; i < nq; i++)
		if (lat[i] > lat[slow])
			slow = i;
	printf("  slowest: %.2f ms: %s\n", lat[slow] * 1000, queries[slow]);
	free(v);
}

static void on_alarm(int sig)
{
	static const char msg[] = "bench-memory: stopped after the time limit\n";
	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(2);
}

static void remove_store(const char *dir, const char *path)
{
	struct strbuf f = STRBUF_INIT;

	unlink(path);
	strbuf_addf(&f, "%s-wal", path);
	unlink(f.buf);
	strbuf_reset(&f);
	strbuf_addf(&f, "%s-shm", path);
	unlink(f.buf);
	strbuf_release(&f);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	long long n = argc > 1 ? atoll(argv[1]) : 100000;
	int nq = argc > 2 ? atoi(argv[2]) : 1000;
	int nsimilar = argc > 3 ? atoi(argv[3]) : 200;
	char dir[] = "/tmp/sre-bench-memory.XXXXXX";
	struct strbuf path = STRBUF_INIT, q = STRBUF_INIT;
	struct store *st;
	sqlite3 *db;
	double t, t_build, t_index, *fts, *fts_cpu, *like, *sim;
	size_t indexed = 0, fts_hits = 0, like_hits = 0, nsim = 0, sim_hits = 0;
	time_t t0;
	struct memory_recall recall = { .max = 10 };
	struct dist df, dc, dl, ds;
	struct stat sb;
	int keep = getenv("BENCH_MEMORY_KEEP") != NULL, *kinds;
	const char *reuse = getenv("BENCH_MEMORY_STORE");
	char **queries;

	if (n <= 0 || nq <= 0 || nsimilar < 0 || (!reuse && !mkdtemp(dir)))
		return 1;
	signal(SIGALRM, on_alarm);
	alarm(LIMIT_S);
	zipf_init(&z_scenario, ARRAY_LEN(scenarios), 1.0);
	zipf_init(&z_service, ARRAY_LEN(services), 1.1);
	zipf_init(&z_dep, ARRAY_LEN(dependencies), 1.0);
	zipf_init(&z_word, ARRAY_LEN(words), 1.0);
	if (reuse)
		strbuf_addstr(&path, reuse);
	else
		strbuf_addf(&path, "%s/sre.db", dir);
	if (store_open(&st, path.buf, 30000) < 0)
		return 1;

	if (reuse) {
		struct incident_filter all = { .all = 1, .state = -1 };
		struct incident *list;
		size_t nr;
		if (store_incident_list(st, &all, &list, &nr) < 0)
			return 1;
		incident_list_free(list, nr);
		n = (long long)nr;
		printf("store:    %s, %lld incidents, indexed before\n", reuse, n);
		goto queries;
	}
	/* A year of incidents, five minutes apart. */
	t0 = 1735689600; /* 2025-01-01T00:00:00Z */
	t = now_s();
	for (long long i = 0; i < n; i += BATCH) {
		if (store_begin(st) < 0)
			return 1;
		for (long long k = i; k < n && k < i + BATCH; k++)
			if (incident_make(st, k, t0 + (time_t)(k * 300 + rnd(240))) < 0) {
				store_rollback(st);
				return 1;
			}
		if (store_commit(st) < 0)
			return 1;
	}
	t_build = now_s() - t;
	set_clock(t0 + (time_t)(n * 300 + 3600));
	printf("store:    %lld incidents with their timelines written in %.1f s: %.0f/s\n", n,
	       t_build, n / t_build);
	fflush(stdout);

	t = now_s();
	if (memory_index(st, NULL, 0, &indexed) < 0)
		return 1;
	t_index = now_s() - t;
	stat(path.buf, &sb);
	printf("index:    memory_index() of %lld incidents (%zu rows written, fixes that did not "
	       "hold written again) in %.1f s: %.0f incidents/s; store %.0f MB\n", n, indexed,
	       t_index, n / t_index, sb.st_size / 1e6);
	fflush(stdout);

queries:
	/* The queries, the same for a store of the same size, searched once first to warm the caches. */
	if (sqlite3_open_v2(path.buf, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK || rare_read(db) < 0)
		return 1;
	bench_rng = 88172645u;
	queries = xcalloc((size_t)nq, sizeof(*queries));
	kinds = xcalloc((size_t)nq, sizeof(*kinds));
	for (int i = 0; i < nq; i++) {
		kinds[i] = query_make(&q);
		queries[i] = xstrdup(q.buf);
	}
	fts = xcalloc((size_t)nq, sizeof(*fts));
	fts_cpu = xcalloc((size_t)nq, sizeof(*fts_cpu));
	like = xcalloc((size_t)nq, sizeof(*like));
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < nq; i++) {
			struct memory_hit *hits;
			size_t nr;
			double c = cpu_s();
			t = now_s();
			if (memory_search(st, queries[i], &recall, &hits, &nr) < 0)
				return 1;
			fts[i] = now_s() - t;
			fts_cpu[i] = cpu_s() - c;
			if (pass)
				fts_hits += nr > 0;
			memory_hits_free(hits, nr);
			if (!pass && i == 49)
				break;
		}
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < nq; i++) {
			char w[MAX_WORDS][65];
			int nw = cut_words(queries[i], w), rc, rows = 0;
			sqlite3_stmt *stmt = like_stmt(db, nw);
			if (!stmt)
				return 1;
			t = now_s();
			for (int k = 0; k < nw; k++) {
				strbuf_reset(&q);
				strbuf_addf(&q, "%%%s%%", w[k]);
				sqlite3_bind_text(stmt, k + 1, q.buf, -1, SQLITE_TRANSIENT);
			}
			while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
				rows++;
			sqlite3_reset(stmt);
			like[i] = now_s() - t;
			if (rc != SQLITE_DONE) {
				fprintf(stderr, "bench-memory: %s\n", sqlite3_errmsg(db));
				return 1;
			}
			if (pass)
				like_hits += rows > 0;
			if (!pass && i == 49)
				break;
		}

	{
		double *copy = xcalloc((size_t)nq, sizeof(*copy));
		memcpy(copy, fts, (size_t)nq * sizeof(*copy));
		df = dist_of(copy, (size_t)nq);
		free(copy);
	}
	dl = dist_of(like, (size_t)nq);
	printf("search:   %d queries (1, 3 and 8 words, log lines, rare and absent words), -n 10; "
	       "%zu found something\n", nq, fts_hits);
	printf("search:   memory_search() p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
	       df.p50, df.p90, df.p99, df.max);
	dc = dist_of(fts_cpu, (size_t)nq);
	printf("search:   its CPU time alone (the machine may be shared): p50 %.2f ms, p90 %.2f ms, "
	       "p99 %.2f ms, max %.2f ms\n", dc.p50, dc.p90, dc.p99, dc.max);
	by_kind(fts, kinds, queries, nq);
	printf("baseline: LIKE '%%word%%' scan, first 10 rows, unranked: p50 %.2f ms, p90 %.2f ms, "
	       "p99 %.2f ms, max %.2f ms; %zu found something\n", dl.p50, dl.p90, dl.p99, dl.max,
	       like_hits);
	printf("ratio LIKE/search at p99: %.1f (at p50: %.1f)\n", dl.p99 / df.p99, dl.p50 / df.p50);
	printf("target:   p99 under 10 ms at 100,000 incidents: %s on the clock, %s in CPU time, "
	       "at %lld\n", df.p99 < 10 ? "met" : "NOT met", dc.p99 < 10 ? "met" : "NOT met", n);
	fflush(stdout);

	/* What diagnose asks: the incidents most like a given one. */
	sim = xcalloc((size_t)nsimilar + 1, sizeof(*sim));
	for (int i = 0; i < nsimilar; i++) {
		struct memory_hit *hits;
		size_t nr;
		long long id = rnd(n) + 1;
		struct memory_recall r = { .max = 5 };
		int rc;
		t = now_s();
		rc = memory_similar(st, NULL, id, &r, &hits, &nr);
		if (rc < 0)
			return 1;
		sim[nsim++] = now_s() - t;
		if (!rc) {
			sim_hits += nr > 0;
			memory_hits_free(hits, nr);
		}
	}
	ds = dist_of(sim, nsim);
	if (nsim)
		printf("similar:  memory_similar() of %zu incidents (%zu with a similar one): p50 %.2f ms, "
		       "p99 %.2f ms, max %.2f ms\n", nsim, sim_hits, ds.p50, ds.p99, ds.max);

	for (int k = 0; k <= MAX_WORDS; k++)
		sqlite3_finalize(like_cache[k]);
	sqlite3_close_v2(db);
	store_free(st);
	if (keep && !reuse) {
		/* The queries beside it, one a line, to replay them. */
		FILE *f;
		strbuf_addstr(&path, ".queries");
		if ((f = fopen(path.buf, "w"))) {
			for (int i = 0; i < nq; i++)
				fprintf(f, "%s\n", queries[i]);
			fclose(f);
		}
		strbuf_setlen(&path, path.len - strlen(".queries"));
		printf("kept:     %s (and its queries in %s.queries)\n", path.buf, path.buf);
	} else if (!reuse) {
		remove_store(dir, path.buf);
	}
	for (int i = 0; i < nq; i++)
		free(queries[i]);
	free(queries);
	free(kinds);
	free(fts);
	free(fts_cpu);
	free(like);
	free(sim);
	strbuf_release(&q);
	strbuf_release(&path);
	return 0;
}
