/*
 * config.c: the git-config format, reading every level and editing a file
 * in place; see config.h.
 *
 * One parser serves reading and editing. It reports each section header and
 * each entry with the byte span of the line(s) it came from, so the editor
 * can replace or remove exactly those bytes and leave every comment, blank
 * line and ordering choice of the user untouched.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "credential.h"
#include "redact.h"
#include "run-command.h"
#include "timeutil.h"

#define MAX_INCLUDE_DEPTH 10
#define MAX_CONFIG_FILE (4 << 20)
#define MAX_SECRET_OUTPUT (64 << 10)
#define DEFAULT_COMMAND_TIMEOUT_MS (10 * 1000)

const struct config_key_doc config_known_keys[] = {
	{ "core.db", "path", CONFIG_PROTECTED, "the SQLite store", "$XDG_STATE_HOME/sre/sre.db" },
	{ "core.actor", "string", CONFIG_LOCAL_OK, "who sre says made a change", "the login name" },
	{ "core.busy-timeout", "duration", CONFIG_LOCAL_OK, "how long to wait for another sre writing the store", "30s" },
	{ "core.command-timeout", "duration", CONFIG_PROTECTED, "how long a *-command may run before it is killed", "10s" },
	{ "safe.directory", "path", CONFIG_PROTECTED, "a directory whose own .sre/config is trusted (repeat; * for any); never read from .sre/config", NULL },
	{ "color.ui", "auto|always|never", CONFIG_LOCAL_OK, "colour on a terminal (NO_COLOR always wins)", "auto" },
	{ "include.path", "path", CONFIG_LOCAL_OK, "another config file to read here", NULL },
	{ "tracker.kind", "local|github|jira", CONFIG_PROTECTED, "where incidents are shared (local: the store only)", "local" },
	{ "github.api", "string", CONFIG_PROTECTED, "the GitHub REST API", "https://api.github.com" },
	{ "github.repo", "string", CONFIG_PROTECTED, "owner/name of the repository whose issues mirror incidents", NULL },
	{ "github.label.<state>", "string", CONFIG_PROTECTED, "the GitHub label of an incident state, e.g. github.label.pr-merged", NULL },
	{ "github.token-command", "command", CONFIG_PROTECTED, "prints the GitHub token (else GITHUB_TOKEN)", NULL },
	{ "github.user", "string", CONFIG_PROTECTED, "the login the token acts as", "the answer of GET /user" },
	{ "jira.url", "string", CONFIG_PROTECTED, "the JIRA site, e.g. https://acme.atlassian.net", NULL },
	{ "jira.project", "string", CONFIG_PROTECTED, "the project key of incident tickets", NULL },
	{ "jira.issue-type", "string", CONFIG_LOCAL_OK, "the issue type of incident tickets", "Incident" },
	{ "jira.user", "string", CONFIG_PROTECTED, "the account sre signs in as (an e-mail on Cloud)", NULL },
	{ "jira.token-command", "command", CONFIG_PROTECTED, "prints the JIRA API token (else ATLASSIAN_TOKEN)", NULL },
	{ "jira.status.<state>", "string", CONFIG_PROTECTED, "the JIRA status of an incident state, e.g. jira.status.PR_MERGED", NULL },
	{ "jira.api-version", "2|3", CONFIG_LOCAL_OK, "3 for JIRA Cloud, 2 for Data Center", "3" },
	{ "jira.assignee", "string", CONFIG_PROTECTED, "intake: tickets assigned to this user (\"me\" for the bot)", NULL },
	{ "jira.priorities", "string", CONFIG_PROTECTED, "intake: comma-separated priorities, e.g. P1,P2", NULL },
	{ "jira.status", "string", CONFIG_PROTECTED, "intake: tickets in this status", NULL },
	{ "slack.webhook-command", "command", CONFIG_PROTECTED, "prints the Slack incoming webhook URL (else SLACK_WEBHOOK_URL)", NULL },
	{ "notify.cooldown", "duration", CONFIG_LOCAL_OK, "a problem back this soon after its last resolution goes on the same episode: its Slack messages are held, but an escalation (0: every one sent)", "30m" },
	{ "pagerduty.url", "string", CONFIG_PROTECTED, "the PagerDuty Events API v2 (events go to <url>/v2/enqueue): https, or http to this machine only", "https://events.pagerduty.com" },
	{ "pagerduty.routing-key-command", "command", CONFIG_PROTECTED, "prints the routing key, the 32-character integration key of a service (else PAGERDUTY_ROUTING_KEY)", NULL },
	{ "scout.fail-after", "int", CONFIG_LOCAL_OK, "failing runs in a row before an incident opens", "1" },
	{ "scout.recover-after", "int", CONFIG_LOCAL_OK, "healthy runs in a row before it is resolved", "2" },
	{ "scout.alerts", "bool", CONFIG_PROTECTED, "also read Prometheus's firing alerts (as --alerts)", "false" },
	{ "alertmanager.url", "string", CONFIG_PROTECTED, "Alertmanager, whose alerts that page (neither silenced nor inhibited) scout reads", NULL },
	{ "prometheus.url", "string", CONFIG_PROTECTED, "Prometheus, for checks with a query and for --alerts", NULL },
	{ "prometheus.user", "string", CONFIG_PROTECTED, "basic auth user (password: PROMETHEUS_PASSWORD or prometheus.password-command)", NULL },
	{ "prometheus.password-command", "command", CONFIG_PROTECTED, "prints the Prometheus password (else PROMETHEUS_PASSWORD)", NULL },
	{ "prometheus.token-command", "command", CONFIG_PROTECTED, "prints a bearer token for Prometheus (else PROMETHEUS_TOKEN)", NULL },
	{ "jaeger.url", "string", CONFIG_PROTECTED, "jaeger-query, for max-error-rate and max-p99", NULL },
	{ "jaeger.lookback", "duration", CONFIG_PROTECTED, "how far back traces are read", "15m" },
	{ "jaeger.limit", "int", CONFIG_PROTECTED, "the most traces read per service", "200" },
	{ "jaeger.min-traces", "int", CONFIG_PROTECTED, "fewer traces than this are not judged", "20" },
	{ "check.<name>.prometheus", "promql", CONFIG_PROTECTED, "a Prometheus check: the PromQL query (in a file, write each \" as \\\")", NULL },
	{ "check.<name>.above", "string", CONFIG_PROTECTED, "a value above this fails the check", NULL },
	{ "check.<name>.below", "string", CONFIG_PROTECTED, "a value below this fails the check", NULL },
	{ "check.<name>.samples", "promql", CONFIG_PROTECTED, "PromQL counting the samples behind a ratio (in a file, write each \" as \\\")", NULL },
	{ "check.<name>.min-samples", "string", CONFIG_PROTECTED, "fewer samples than this: not judged", "1" },
	{ "service.<name>.max-error-rate", "string", CONFIG_PROTECTED, "Jaeger: the highest share of failed traces, 0.05 or 5%", NULL },
	{ "service.<name>.max-p99", "duration", CONFIG_PROTECTED, "Jaeger: the highest p99 duration of entry spans", NULL },
	{ "service.<name>.severity", "critical|high|medium|low", CONFIG_PROTECTED, "the severity of its incidents", NULL },
	{ "kubernetes.namespace", "string", CONFIG_PROTECTED, "namespaces whose pods scout watches (repeat, or comma-separated)", NULL },
	{ "kubernetes.kubeconfig", "path", CONFIG_PROTECTED, "the kubeconfig", "$KUBECONFIG, else ~/.kube/config" },
	{ "kubernetes.context", "string", CONFIG_PROTECTED, "the context to use", "the current one" },
	{ "kubernetes.service-account-dir", "path", CONFIG_PROTECTED, "in a cluster: the service account's token and CA", NULL },
	{ "kubernetes.oom-window", "duration", CONFIG_PROTECTED, "an OOMKilled last state counts this long", "1h" },
	{ "run.lease", "none|kubernetes", CONFIG_PROTECTED, "sre run on a fleet: only the holder of a Kubernetes Lease acts", "none" },
	{ "run.lease-name", "string", CONFIG_PROTECTED, "the Lease's name (coordination.k8s.io/v1)", "sre" },
	{ "run.lease-namespace", "string", CONFIG_PROTECTED, "the Lease's namespace", "kubernetes.namespace, else the kubeconfig's, else default" },
	{ "run.lease-duration", "duration", CONFIG_PROTECTED, "how long others wait, after its last renewal seen, before taking the Lease (whole seconds)", "15s" },
	{ "run.lease-renew-deadline", "duration", CONFIG_PROTECTED, "the holder stops acting when it has not renewed for this long (below the duration)", "10s" },
	{ "run.lease-retry-period", "duration", CONFIG_PROTECTED, "how often the Lease is renewed or tried for", "2s" },
	{ "scout.not-ready-grace", "duration", CONFIG_PROTECTED, "how long a pod may be not ready", "5m" },
	{ "scout.max-restarts", "int", CONFIG_PROTECTED, "restarts worth an incident, pods and containers", "5" },
	{ "scout.docker", "bool", CONFIG_PROTECTED, "watch Docker on its default socket", "false" },
	{ "docker.host", "string", CONFIG_PROTECTED, "the Docker Engine: unix:///var/run/docker.sock or tcp://host:port", NULL },
	{ "docker.api-version", "string", CONFIG_LOCAL_OK, "pins the Engine API version, e.g. 1.41, instead of asking the Engine (GET /_ping)", "the lower of the Engine's and 1.47" },
	{ "docker.ignore", "string", CONFIG_LOCAL_OK, "containers to leave alone (names or patterns)", NULL },
	{ "service.<name>.max-memory", "string", CONFIG_PROTECTED, "increase-memory on Docker never sets a memory limit past this (bytes, or 512Mi, 2Gi); without it, a person must", NULL },
	{ "check.<name>.metrics", "string", CONFIG_PROTECTED, "a metrics check: a Prometheus text endpoint (/metrics) read directly", NULL },
	{ "check.<name>.numerator", "promql", CONFIG_PROTECTED, "a metrics check: the sample judged (a gauge), or the numerator of a ratio (in a file, write each \" as \\\")", NULL },
	{ "check.<name>.denominator", "promql", CONFIG_PROTECTED, "a metrics check: the counter whose increase divides the numerator's (in a file, write each \" as \\\")", NULL },
	{ "check.<name>.window", "duration", CONFIG_PROTECTED, "a metrics check: how far apart its two readings are", "5s" },
	{ "check.<name>.url", "string", CONFIG_PROTECTED, "an HTTP check: the URL to ask", NULL },
	{ "check.<name>.method", "string", CONFIG_PROTECTED, "the HTTP method", "GET" },
	{ "check.<name>.expect-status", "string", CONFIG_PROTECTED, "the statuses that pass, e.g. 2xx or 200,204", "2xx" },
	{ "check.<name>.body-match", "string", CONFIG_PROTECTED, "text the body must hold, or /an extended regex/", NULL },
	{ "check.<name>.max-latency", "duration", CONFIG_PROTECTED, "slower than this is a latency incident", NULL },
	{ "check.<name>.timeout", "duration", CONFIG_PROTECTED, "how long the check may take", "10s" },
	{ "check.<name>.service", "string", CONFIG_PROTECTED, "the service the check watches", "its name" },
	{ "check.<name>.severity", "critical|high|medium|low", CONFIG_PROTECTED, "the severity of its incidents", NULL },
	{ "service.<name>.runtime", "docker|kubernetes|process", CONFIG_PROTECTED, "how the service runs", NULL },
	{ "service.<name>.pidfile", "path", CONFIG_PROTECTED, "a process service's pidfile, watched by scout", NULL },
	{ "core.repo", "path", CONFIG_PROTECTED, "the infrastructure repository (git): diagnose reads its recent commits", NULL },
	{ "remember.template-depth", "int", CONFIG_LOCAL_OK, "the log template miner's tree depth (Drain's depth)", "4" },
	{ "remember.template-similarity", "string", CONFIG_LOCAL_OK, "the share of equal tokens for a log line to join a template, 0 to 1", "0.4" },
	{ "remember.template-max-children", "int", CONFIG_LOCAL_OK, "the most children of a node in the template tree", "100" },
	{ "remember.similar", "int", CONFIG_LOCAL_OK, "how many similar past incidents diagnose shows", "3" },
	{ "remember.hold-window", "duration", CONFIG_LOCAL_OK, "a problem back this soon after its fix was verified: the fix did not hold", "1h" },
	{ "remember.known-after", "int", CONFIG_PROTECTED, "verified fixes of one fingerprint by one action that make it a known error (0: never automatically)", "3" },
	{ "remember.chronic-after", "int", CONFIG_LOCAL_OK, "recurrences that make a problem chronic", "3" },
	{ "remember.chronic-window", "duration", CONFIG_LOCAL_OK, "the window the recurrences are counted in", "7d" },
	{ "remember.postmortems", "bool", CONFIG_PROTECTED, "write a post-mortem when an incident is resolved", "false" },
	{ "remember.repo", "path", CONFIG_PROTECTED, "the local git repository of post-mortems and records (made, bare, if missing)", "memory beside the store: $XDG_STATE_HOME/sre/memory" },
	{ "remember.remote", "string", CONFIG_PROTECTED, "the shared repository sre remember push and pull use: https, ssh, file:// or a path; never credentials in the URL", NULL },
	{ "diagnose.timeout", "duration", CONFIG_LOCAL_OK, "the deadline for reading all evidence", "20s" },
	{ "diagnose.adviser", "rules|llm", CONFIG_LOCAL_OK, "llm: also ask the LLM adviser ([llm]) after the rules", "rules" },
	{ "llm.provider", "openai|anthropic|ollama", CONFIG_PROTECTED, "the LLM adviser's wire format (unset: no adviser)", NULL },
	{ "llm.url", "string", CONFIG_PROTECTED, "the API base: openai .../v1, anthropic and ollama the host", "the provider's public API" },
	{ "llm.model", "string", CONFIG_PROTECTED, "the model the adviser asks", NULL },
	{ "llm.api-key-command", "command", CONFIG_PROTECTED, "prints the API key (else OPENAI_API_KEY or ANTHROPIC_API_KEY)", NULL },
	{ "llm.timeout", "duration", CONFIG_LOCAL_OK, "how long one turn of the model may take", "2m" },
	{ "llm.max-output-tokens", "int", CONFIG_LOCAL_OK, "the most tokens of one answer", "1024" },
	{ "llm.temperature", "string", CONFIG_LOCAL_OK, "sampling temperature, 0 to 2", "0" },
	{ "llm.tools", "native|json", CONFIG_LOCAL_OK, "json: tools described in the prompt, for models without native tools", "native" },
	{ "llm.max-steps", "int", CONFIG_LOCAL_OK, "the most turns of the adviser (the last without tools)", "8" },
	{ "llm.tool-result-max", "int", CONFIG_LOCAL_OK, "the most bytes of one tool result; more asks the model to narrow it", "16384" },
	{ "llm.max-tokens", "int", CONFIG_LOCAL_OK, "the adviser's token budget, input and output together", "200000" },
	{ "llm.budget", "duration", CONFIG_LOCAL_OK, "the adviser's time budget", "5m" },
	{ "llm.max-cost", "string", CONFIG_LOCAL_OK, "the adviser's cost budget, in the money of [llm-price] (0: none)", "0" },
	{ "llm.anonymize", "bool", CONFIG_PROTECTED, "send service, pod, namespace and node names as stable placeholders", "false" },
	{ "llm-price.<model>.input", "string", CONFIG_LOCAL_OK, "the price of a million input tokens of <model>", NULL },
	{ "llm-price.<model>.output", "string", CONFIG_LOCAL_OK, "the price of a million output tokens of <model>", NULL },
	{ "diagnose.log-lines", "int", CONFIG_LOCAL_OK, "the last log lines read of each container or service", "200" },
	{ "diagnose.lookback", "duration", CONFIG_LOCAL_OK, "how far back traces and metrics are read", "1h" },
	{ "diagnose.commit-window", "duration", CONFIG_LOCAL_OK, "how far back commits are read", "24h" },
	{ "diagnose.baseline", "duration", CONFIG_LOCAL_OK, "the window before the incident read to compare with (0: none; at most 30d)", "1h" },
	{ "diagnose.graph-services", "int", CONFIG_LOCAL_OK, "the most services of the slow and failing requests' call graph whose logs and pods are read", "20" },
	{ "diagnose.kernel-log", "path", CONFIG_PROTECTED, "where the kernel's OOM-killer lines are read", "/dev/kmsg" },
	{ "service.<name>.paths", "string", CONFIG_PROTECTED, "the service's paths in core.repo (space- or comma-separated)", NULL },
	{ "service.<name>.namespace", "string", CONFIG_PROTECTED, "the service's Kubernetes namespace", NULL },
	{ "service.<name>.deployment", "string", CONFIG_PROTECTED, "the service's Kubernetes Deployment", "its name" },
	{ "service.<name>.container", "string", CONFIG_PROTECTED, "the service's Docker container", "its name" },
	{ "service.<name>.log", "path", CONFIG_PROTECTED, "a process service's log file", NULL },
	{ "escalate.policy", "string", CONFIG_PROTECTED, "the [escalation] policy incidents follow (none: every configured channel at once)", NULL },
	{ "escalate.stale", "string", CONFIG_PROTECTED, "<STATE>:<duration>: a state held longer pages once (repeat)", NULL },
	{ "escalate.daily-cap", "int", CONFIG_PROTECTED, "the most pages of one incident in a UTC day", "10" },
	{ "chaos.page", "bool", CONFIG_PROTECTED, "escalate --auto pages a person for incidents opened under a chaos fault too", "false" },
	{ "chaos.disk-reserve", "int", CONFIG_PROTECTED, "bytes disk-full always leaves free where it fills", "67108864" },
	{ "service.<name>.disk-path", "path", CONFIG_PROTECTED, "a directory of the service's disk that sre chaos disk-full may fill", NULL },
	{ "chaos.hold-max", "duration", CONFIG_PROTECTED, "the longest a fault's holder (cpu, memory, db-pool) lives without a duration", "1h" },
	{ "chaos.heal-timeout", "duration", CONFIG_PROTECTED, "how long a game day waits for an experiment's steady state to come back", "2m" },
	{ "run.interval", "duration", CONFIG_LOCAL_OK, "sre run --watch: the wait between passes", "30s" },
	{ "run.step-timeout", "duration", CONFIG_LOCAL_OK, "sre run: a step still working after this is stopped, and the next pass resumes it", "5m" },
	{ "run.heartbeat-url", "string", CONFIG_PROTECTED, "sre run: a URL fetched (GET) after each pass, with /fail appended after a failed step: a dead man's switch", NULL },
	{ "chaos.allow", "string", CONFIG_PROTECTED, "a service sre chaos may inject faults into; * for every configured one (repeat)", NULL },
	{ "proxy.<name>.listen", "string", CONFIG_PROTECTED, "sre chaos proxy: where it listens, host:port (loopback unless listen-any; port 0: any free one)", NULL },
	{ "proxy.<name>.upstream", "string", CONFIG_PROTECTED, "sre chaos proxy: the service it forwards to, host:port (resolved once, at start)", NULL },
	{ "proxy.<name>.listen-any", "bool", CONFIG_PROTECTED, "let the proxy listen on an address other hosts can reach", "false" },
	{ "proxy.max-connections", "int", CONFIG_LOCAL_OK, "the most connections sre chaos proxy holds at once, 1 to 4096", "256" },
	{ "escalate.chronic-after", "int", CONFIG_PROTECTED, "recurrences that open an architecture follow-up on the tracker (0: never)", "3" },
	{ "escalate.chronic-window", "duration", CONFIG_PROTECTED, "the window those recurrences are counted in", "7d" },
	{ "escalate.architect-label", "string", CONFIG_PROTECTED, "the label of an architecture follow-up, for the architects (or their agent)", "jules-fix" },
	{ "escalation.<name>.level", "string", CONFIG_PROTECTED, "a level's targets (pagerduty, pagerduty:<name>, slack, tracker, assignee:<who>) and \"after <duration>\" (repeat, in order)", NULL },
	{ "escalation.<name>.repeat", "int", CONFIG_PROTECTED, "climb the levels again this many times", "0" },
	{ "escalation.<name>.human-timeout", "duration", CONFIG_PROTECTED, "unacknowledged past it: on-timeout", "24h" },
	{ "escalation.<name>.on-timeout", "repage|abandon", CONFIG_PROTECTED, "what happens past human-timeout", "repage" },
	{ "escalation.<name>.stale", "string", CONFIG_PROTECTED, "the policy's own stale rules, instead of escalate.stale (repeat)", NULL },
	{ "fix.auto", "string", CONFIG_PROTECTED, "actions that may run without a person (comma-separated)", "none" },
	{ "fix.max-per-hour", "int", CONFIG_PROTECTED, "automatic actions per service per hour before escalating", "3" },
	{ "fix.min-confidence", "string", CONFIG_PROTECTED, "below this confidence a person must approve", "0.75" },
	{ "fix.escalate-below", "string", CONFIG_PROTECTED, "below this confidence the incident is escalated", "0.5" },
	{ "fix.memory-step", "string", CONFIG_PROTECTED, "increase-memory multiplies the limit by this", "1.5" },
	{ "fix.review-timeout", "duration", CONFIG_PROTECTED, "a pull request waiting longer is escalated", "24h" },
	{ "fix.verify-timeout", "duration", CONFIG_PROTECTED, "how long a fix has to prove itself", "5m" },
	{ "fix.verify-interval", "duration", CONFIG_PROTECTED, "how often the check is re-run while verifying", "10s" },
	{ "fix.remote", "string", CONFIG_PROTECTED, "the remote of core.repo that pull requests go to", "origin" },
	{ "fix.pull-repo", "string", CONFIG_PROTECTED, "owner/name on GitHub of core.repo", "from the remote's URL" },
	{ "fix.push-timeout", "duration", CONFIG_PROTECTED, "how long a push to fix.remote may take", "2m" },
	{ "fix.push-token-command", "command", CONFIG_PROTECTED, "prints the token for pushing over https (else GITHUB_TOKEN)", NULL },
	{ "service.<name>.allow", "string", CONFIG_PROTECTED, "actions fix.auto may run on this service (narrows it)", NULL },
	{ "service.<name>.deny", "string", CONFIG_PROTECTED, "actions never run on this service without a person", NULL },
	{ "service.<name>.manifest", "path", CONFIG_PROTECTED, "the service's manifest, a path inside core.repo", NULL },
	{ "service.<name>.start", "command", CONFIG_PROTECTED, "a process service's start command (argv, no shell)", NULL },
	{ "service.<name>.stop", "command", CONFIG_PROTECTED, "a process service's stop command (argv, no shell)", NULL },
	{ "service.<name>.timeout", "duration", CONFIG_PROTECTED, "how long start or stop may run before it is killed", "60s" },
	{ "service.<name>.max-replicas", "int", CONFIG_PROTECTED, "scale never goes past this", NULL },
	{ "http.connect-timeout", "duration", CONFIG_LOCAL_OK, "how long to wait for a connection", "10s" },
	{ "http.timeout", "duration", CONFIG_LOCAL_OK, "how long one request may take", "30s" },
	{ "http.retries", "int", CONFIG_LOCAL_OK, "attempts after the first, on failures worth retrying", "3" },
	{ "http.retry-base", "duration", CONFIG_LOCAL_OK, "the first backoff, doubled each retry, with jitter", "500ms" },
	{ "http.max-retry-wait", "duration", CONFIG_LOCAL_OK, "the longest Retry-After sre waits for", "60s" },
	{ "http.max-body", "int", CONFIG_LOCAL_OK, "the largest response accepted", "32m" },
	{ "http.ca-info", "path", CONFIG_PROTECTED, "a CA bundle to trust besides the system's", NULL },
	{ NULL, NULL, 0, NULL, NULL },
};

/* ---- the parser ---- */

enum parse_event {
	EV_SECTION,
	EV_ENTRY,
};

struct parser {
	const char *buf;
	size_t len, pos;
	int line;
	const char *origin;
	struct strbuf section;  /* canonical "section" or "section.sub" */
	int (*cb)(struct parser *p, enum parse_event ev, const char *key,
		  const char *value, size_t begin, size_t end);
	void *data;
	int depth;
	enum config_scope scope;
	/*
	 * What parse_value() saw of quoting, for the warning about a PromQL
	 * value whose quotes the format took as its own: the value as if
	 * every unescaped quote were a character of it, and whether such a
	 * quote stood anywhere but around the whole value.
	 */
	struct strbuf literal;
	int quotes_lost;
};

static int at_end(struct parser *p)
{
	return p->pos >= p->len;
}

static int peek(struct parser *p)
{
	return at_end(p) ? EOF : (unsigned char)p->buf[p->pos];
}

static int next(struct parser *p)
{
	int c = peek(p);
	if (c == EOF)
		return EOF;
	p->pos++;
	if (c == '\n')
		p->line++;
	return c;
}

static int bad(struct parser *p, const char *what)
{
	return error("bad config line %d in %s: %s", p->line, p->origin, what);
}

static int iskeychar(int c)
{
	return isalnum(c) || c == '-';
}

/* The end of a line: a newline, a CRLF, or the end of the file. */
static int at_eol(struct parser *p)
{
	int c = peek(p);

	if (c == '\r' && p->pos + 1 < p->len && p->buf[p->pos + 1] == '\n')
		return 1;
	return c == '\n' || c == EOF;
}

static void skip_to_eol(struct parser *p)
{
	while (!at_end(p) && peek(p) != '\n')
		next(p);
}

static int parse_section(struct parser *p)
{
	struct strbuf *s = &p->section;
	int c;

	strbuf_reset(s);
	next(p); /* '[' */
	while ((c = peek(p)) != EOF && (iskeychar(c) || c == '.'))
		strbuf_addch(s, tolower(next(p)));
	if (!s->len)
		return bad(p, "empty or invalid section name");
	if (c == ' ' || c == '\t') {
		while (peek(p) == ' ' || peek(p) == '\t')
			next(p);
		/* Look before moving, so an error names the line it is on. */
		if (peek(p) != '"')
			return bad(p, "expected a quoted subsection name");
		next(p);
		strbuf_addch(s, '.');
		for (;;) {
			c = peek(p);
			if (c == EOF || c == '\n')
				return bad(p, "unterminated subsection name");
			next(p);
			if (c == '"')
				break;
			if (c == '\\') {
				c = peek(p);
				if (c == EOF || c == '\n')
					return bad(p, "unterminated subsection name");
				next(p);
			}
			strbuf_addch(s, c);
		}
		c = peek(p);
	}
	if (c != ']')
		return bad(p, "invalid section header");
	next(p);
	return 0;
}

/*
 * Parse a value after '='. Handles double quotes, the escapes \n \t \b \\
 * \" and a backslash at the end of a line continuing the value; '#' and ';'
 * outside quotes start a comment; unquoted trailing space is dropped.
 *
 * Beside the value it keeps p->literal, the value as the user most likely
 * meant it when a quote sits inside (code="500" in PromQL), and sets
 * p->quotes_lost when one did: a pair around the whole value is quoting
 * on purpose and loses nothing.
 */
static int parse_value(struct parser *p, struct strbuf *val)
{
	struct strbuf *lit = &p->literal;
	int quoted = 0, nquotes = 0, first_at_start = 0;
	size_t keep = 0; /* length without trailing unquoted blanks */
	size_t lit_keep = 0, lit_after_quote = 0;

	strbuf_reset(lit);
	p->quotes_lost = 0;
	while (peek(p) == ' ' || peek(p) == '\t')
		next(p);
	for (;;) {
		int c = peek(p);

		if (at_eol(p)) {
			if (quoted)
				return bad(p, "unterminated quote in value");
			if (c == '\r')
				next(p);
			break;
		}
		next(p);
		if (!quoted && (c == '#' || c == ';')) {
			skip_to_eol(p);
			break;
		}
		if (c == '"') {
			if (!nquotes++ && !lit->len)
				first_at_start = 1;
			quoted = !quoted;
			keep = val->len;
			strbuf_addch(lit, c);
			lit_keep = lit_after_quote = lit->len;
			continue;
		}
		if (c == '\\') {
			if (peek(p) == '\r' && at_eol(p))
				next(p); /* a continuation in a CRLF file */
			c = next(p);
			switch (c) {
			case '\n':
				continue;
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'b':
				c = '\b';
				break;
			case '\\':
			case '"':
				break;
			case EOF:
				return bad(p, "backslash at end of file");
			default:
				return bad(p, "invalid escape sequence in value");
			}
			strbuf_addch(val, c);
			strbuf_addch(lit, c);
			keep = val->len;
			lit_keep = lit->len;
			continue;
		}
		strbuf_addch(val, c);
		strbuf_addch(lit, c);
		if (quoted || (c != ' ' && c != '\t')) {
			keep = val->len;
			lit_keep = lit->len;
		}
	}
	strbuf_setlen(val, keep);
	strbuf_setlen(lit, lit_keep);
	p->quotes_lost = nquotes &&
		!(nquotes == 2 && first_at_start && lit_after_quote == lit_keep);
	return 0;
}

static int parse_entry(struct parser *p, size_t begin)
{
	struct strbuf key = STRBUF_INIT, val = STRBUF_INIT;
	int has_value = 0, ret = -1, c;

	if (!p->section.len) {
		bad(p, "a key outside any section");
		goto out;
	}
	strbuf_addf(&key, "%s.", p->section.buf);
	if (!isalpha(peek(p))) {
		bad(p, "a key must start with a letter");
		goto out;
	}
	/* '_' reads as '-', so jira.status.PR_MERGED is jira.status.pr-merged. */
	while ((c = peek(p)) != EOF && (iskeychar(c) || c == '_')) {
		next(p);
		strbuf_addch(&key, c == '_' ? '-' : tolower(c));
	}
	while (peek(p) == ' ' || peek(p) == '\t' || (peek(p) == '\r' && at_eol(p)))
		next(p);
	c = peek(p);
	if (c == '=') {
		next(p);
		has_value = 1;
		if (parse_value(p, &val) < 0)
			goto out;
	} else if (c == '#' || c == ';') {
		skip_to_eol(p);
	} else if (c != '\n' && c != EOF) {
		bad(p, "invalid key name");
		goto out;
	}
	if (peek(p) == '\n')
		next(p);
	ret = p->cb(p, EV_ENTRY, key.buf, has_value ? val.buf : NULL, begin, p->pos);
out:
	strbuf_release(&key);
	strbuf_release(&val);
	return ret;
}

static int parse_buffer(struct parser *p)
{
	/* A UTF-8 byte-order mark is allowed at the very start, as in git. */
	if (p->len >= 3 && !memcmp(p->buf, "\xef\xbb\xbf", 3))
		p->pos = 3;
	while (!at_end(p)) {
		size_t begin = p->pos;
		int c;

		while (peek(p) == ' ' || peek(p) == '\t' || peek(p) == '\r')
			next(p);
		c = peek(p);
		if (c == EOF)
			break;
		if (c == '\n') {
			next(p);
			continue;
		}
		if (c == '#' || c == ';') {
			skip_to_eol(p);
			continue;
		}
		if (c == '[') {
			if (parse_section(p) < 0)
				return -1;
			while (peek(p) == ' ' || peek(p) == '\t' || peek(p) == '\r')
				next(p);
			c = peek(p);
			if (c == '#' || c == ';')
				skip_to_eol(p);
			else if (c != '\n' && c != EOF)
				return bad(p, "text after a section header");
			if (peek(p) == '\n')
				next(p);
			if (p->cb(p, EV_SECTION, p->section.buf, NULL, begin, p->pos) < 0)
				return -1;
			continue;
		}
		if (parse_entry(p, begin) < 0)
			return -1;
	}
	return 0;
}

/* ---- reading ---- */

static int read_buffer(struct config *cfg, const char *buf, size_t len,
		       const char *origin, enum config_scope scope, int depth);

static const char *intern_origin(struct config *cfg, const char *origin)
{
	for (size_t i = 0; i < cfg->origins.nr; i++)
		if (!strcmp(cfg->origins.v[i], origin))
			return cfg->origins.v[i];
	strvec_push(&cfg->origins, origin);
	return cfg->origins.v[cfg->origins.nr - 1];
}

static void add_entry(struct config *cfg, const char *key, const char *value,
		      const char *origin, int line, enum config_scope scope)
{
	struct config_entry *e;

	ALLOC_GROW(cfg->entries, cfg->nr + 1, cfg->alloc);
	e = &cfg->entries[cfg->nr++];
	e->key = xstrdup(key);
	e->value = value ? xstrdup(value) : NULL;
	e->origin = intern_origin(cfg, origin);
	e->line = line;
	e->scope = scope;
}

static char *expand_home(const char *path)
{
	const char *home = getenv("HOME"), *rest;

	if (skip_prefix(path, "~/", &rest) && home && *home)
		return xstrfmt("%s/%s", home, rest);
	return xstrdup(path);
}

static int include_file(struct config *cfg, struct parser *p, const char *path)
{
	char *expanded = expand_home(path), *full;
	struct strbuf buf = STRBUF_INIT;
	int ret = 0;

	if (p->depth >= MAX_INCLUDE_DEPTH) {
		free(expanded);
		return bad(p, "include.path nested too deeply (a loop?)");
	}
	if (expanded[0] == '/' || !strcmp(p->origin, "command line")) {
		full = expanded;
	} else {
		char *copy = xstrdup(p->origin);
		full = xstrfmt("%s/%s", dirname(copy), expanded);
		free(copy);
		free(expanded);
	}
	if (strbuf_read_regular_file(&buf, full, MAX_CONFIG_FILE) < 0) {
		if (errno == ENODEV)
			ret = error("cannot read %s (included from %s line %d): not a regular file",
				    full, p->origin, p->line - 1);
		else if (errno != ENOENT) /* a missing include is skipped, as in git */
			ret = error_errno("cannot read %s (included from %s line %d)",
					  full, p->origin, p->line - 1);
	} else {
		ret = read_buffer(cfg, buf.buf, buf.len, full, p->scope, p->depth + 1);
	}
	strbuf_release(&buf);
	free(full);
	return ret;
}

/* s for a message: a control character shows as '?', so a value cannot steer the terminal. */
static void add_printable(struct strbuf *out, const char *s)
{
	for (; *s; s++)
		strbuf_addch(out, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void quote_value(struct strbuf *out, const char *v);

/*
 * A PromQL value whose quotes the git-config format took as its own:
 * code="500" arrives as code=500 and Prometheus answers a parse error
 * nobody connects to the file. Say so where the file is read, with the
 * line to write instead (the escaping config_set_in_file() does).
 */
static void warn_lost_quotes(struct parser *p, const char *key, const char *value, int line)
{
	const struct config_key_doc *k = config_key_doc_of(key);
	struct strbuf got = STRBUF_INIT, want = STRBUF_INIT, fix = STRBUF_INIT;

	if (!k || strcmp(k->type, "promql"))
		return;
	add_printable(&got, value);
	quote_value(&want, p->literal.buf);
	add_printable(&fix, want.buf);
	warning("%s line %d: the double quotes in %s were read as the config file's own "
		"quoting and dropped, so Prometheus would get %s; write each quote as \\\": "
		"%s = %s", p->origin, line, key, got.buf, strrchr(key, '.') + 1, fix.buf);
	strbuf_release(&got);
	strbuf_release(&want);
	strbuf_release(&fix);
}

static int read_cb(struct parser *p, enum parse_event ev, const char *key,
		   const char *value, size_t begin, size_t end)
{
	struct config *cfg = p->data;
	int line = p->line;

	(void)begin;
	if (ev != EV_ENTRY)
		return 0;
	/* p->line already moved past the entry's newline. */
	if (end > 0 && p->buf[end - 1] == '\n')
		line--;
	add_entry(cfg, key, value, p->origin, line, p->scope);
	if (value && p->quotes_lost)
		warn_lost_quotes(p, key, value, line);
	if (!strcmp(key, "include.path")) {
		if (!value || !*value)
			return bad(p, "include.path needs a value");
		return include_file(cfg, p, value);
	}
	return 0;
}

static int read_buffer(struct config *cfg, const char *buf, size_t len,
		       const char *origin, enum config_scope scope, int depth)
{
	struct parser p = {
		.buf = buf, .len = len, .line = 1, .origin = origin,
		.section = STRBUF_INIT, .cb = read_cb, .data = cfg,
		.depth = depth, .scope = scope, .literal = STRBUF_INIT,
	};
	int ret;

	if (memchr(buf, '\0', len)) {
		strbuf_release(&p.section);
		return error("%s is not a config file (it contains a NUL byte)", origin);
	}
	ret = parse_buffer(&p);
	strbuf_release(&p.section);
	strbuf_release(&p.literal);
	return ret;
}

int config_read_buffer(struct config *cfg, const char *buf, size_t len,
		       const char *origin, enum config_scope scope)
{
	return read_buffer(cfg, buf, len, origin, scope, 0);
}

/* Warn about each secret read from a file (or an include) others can read. */
static void warn_readable_secrets(const struct config *cfg, size_t from)
{
	struct strbuf hint = STRBUF_INIT;

	for (size_t i = from; i < cfg->nr; i++) {
		const struct config_entry *e = &cfg->entries[i];
		struct stat st;

		/* A reference (op://, pass:, env:) names a secret without holding it. */
		if (!config_key_is_secret(e->key) || !e->line || credential_is_reference(e->value) ||
		    stat(e->origin, &st) < 0 || !(st.st_mode & (S_IRGRP | S_IROTH)))
			continue;
		strbuf_reset(&hint);
		config_secret_hint(e->key, &hint);
		warning("%s is set in %s, which other users can read; use %s instead",
			e->key, e->origin, hint.buf);
	}
	strbuf_release(&hint);
}

int config_read_file(struct config *cfg, const char *path,
		     enum config_scope scope, int must_exist)
{
	struct strbuf buf = STRBUF_INIT;
	size_t before = cfg->nr;
	int ret;

	/* A FIFO here (an include of one, say) would hang every command. */
	if (strbuf_read_regular_file(&buf, path, MAX_CONFIG_FILE) < 0) {
		int e = errno;
		strbuf_release(&buf);
		if (e == ENOENT && !must_exist)
			return 0;
		errno = e;
		if (e == EFBIG)
			return error("config file %s is larger than 4 MiB", path);
		if (e == ENODEV)
			return error("cannot read config file %s: not a regular file", path);
		return error_errno("cannot read config file %s", path);
	}
	ret = read_buffer(cfg, buf.buf, buf.len, path, scope, 0);
	strbuf_release(&buf);
	if (!ret)
		warn_readable_secrets(cfg, before);
	return ret;
}

int config_key_normalize(const char *key, struct strbuf *out, const char **why)
{
	const char *first = strchr(key, '.'), *last = strrchr(key, '.');

	strbuf_reset(out);
	if (!first) {
		*why = "a key needs a section, as in section.name";
		return -1;
	}
	if (first == key) {
		*why = "the section name is empty";
		return -1;
	}
	if (!last[1]) {
		*why = "the name after the last dot is empty";
		return -1;
	}
	for (const char *c = key; c < first; c++) {
		if (!iskeychar((unsigned char)*c)) {
			*why = "invalid character in the section name";
			return -1;
		}
		strbuf_addch(out, tolower((unsigned char)*c));
	}
	/* The subsection is kept as it is; it may hold any byte but newline. */
	for (const char *c = first; c < last; c++) {
		if (*c == '\n' || *c == '\0') {
			*why = "a subsection may not hold a newline";
			return -1;
		}
		strbuf_addch(out, *c);
	}
	strbuf_addch(out, '.');
	if (!isalpha((unsigned char)last[1])) {
		*why = "a name must start with a letter";
		return -1;
	}
	for (const char *c = last + 1; *c; c++) {
		if (*c == '_') {
			strbuf_addch(out, '-');
			continue;
		}
		if (!iskeychar((unsigned char)*c)) {
			*why = "invalid character in the name";
			return -1;
		}
		strbuf_addch(out, tolower((unsigned char)*c));
	}
	return 0;
}

int config_add_override(struct config *cfg, const char *kv)
{
	const char *eq = strchr(kv, '='), *why;
	struct strbuf raw = STRBUF_INIT, key = STRBUF_INIT;
	int ret = 0;

	strbuf_add(&raw, kv, eq ? (size_t)(eq - kv) : strlen(kv));
	if (config_key_normalize(raw.buf, &key, &why) < 0) {
		/* Only the key: the value may be a secret. */
		ret = error("bad -c option '%s': %s", raw.buf, why);
	} else {
		if (config_key_is_secret(key.buf) && !(eq && credential_is_reference(eq + 1))) {
			struct strbuf hint = STRBUF_INIT;
			config_secret_hint(key.buf, &hint);
			warning("%s given with -c can be seen by other users in the "
				"process list; use %s instead", key.buf, hint.buf);
			strbuf_release(&hint);
		}
		add_entry(cfg, key.buf, eq ? eq + 1 : NULL, "command line", 0,
			  CONFIG_SCOPE_COMMAND);
	}
	strbuf_release(&raw);
	strbuf_release(&key);
	return ret;
}

char *config_path_for_scope(enum config_scope scope)
{
	const char *xdg, *home;

	switch (scope) {
	case CONFIG_SCOPE_SYSTEM:
		return xstrdup("/etc/sre/config");
	case CONFIG_SCOPE_GLOBAL:
		xdg = getenv("XDG_CONFIG_HOME");
		if (xdg && *xdg == '/')
			return xstrfmt("%s/sre/config", xdg);
		home = getenv("HOME");
		if (!home || !*home)
			return NULL;
		return xstrfmt("%s/.config/sre/config", home);
	case CONFIG_SCOPE_LOCAL:
		return xstrdup(".sre/config");
	case CONFIG_SCOPE_ENV: {
		const char *p = getenv("SRE_CONFIG");
		return p && *p ? xstrdup(p) : NULL;
	}
	default:
		return NULL;
	}
}

/* Is dir listed itself, or under it? Both absolute; listed may end in '/'. */
static int path_within(const char *dir, const char *listed)
{
	size_t n = strlen(listed);

	while (n > 1 && listed[n - 1] == '/')
		n--;
	if (listed[0] != '/')
		return 0;
	if (n == 1)
		return 1;
	return !strncmp(dir, listed, n) && (dir[n] == '\0' || dir[n] == '/');
}

int config_directory_is_safe(const struct config *cfg, const char *dir)
{
	int safe = 0;

	for (size_t i = 0; i < cfg->nr; i++) {
		const struct config_entry *e = &cfg->entries[i];
		char *path, *real;

		/* A repository cannot vouch for itself. */
		if (e->scope == CONFIG_SCOPE_LOCAL || strcmp(e->key, "safe.directory"))
			continue;
		if (!e->value || !*e->value) {
			safe = 0; /* an empty value clears the list above it, as in git */
			continue;
		}
		if (!strcmp(e->value, "*")) {
			safe = 1;
			continue;
		}
		path = expand_home(e->value);
		real = realpath(path, NULL);
		if (path_within(dir, real ? real : path))
			safe = 1;
		free(real);
		free(path);
	}
	return safe;
}

/* "~/..." for a path under $HOME, so a hint reads as the user writes it. */
static char *tilde_path(const char *path)
{
	const char *home = getenv("HOME"), *rest;

	if (home && *home && skip_prefix(path, home, &rest) && *rest == '/')
		return xstrfmt("~%s", rest);
	return xstrdup(path);
}

/*
 * Move each protected key the local level set, outside safe.directory, to
 * cfg->ignored, and name each once on stderr with the way to trust it.
 */
static void set_aside_untrusted(struct config *cfg)
{
	struct strvec warned = STRVEC_INIT;
	struct strbuf file = STRBUF_INIT;
	char *cwd = NULL, *dir = NULL, *global = NULL;
	int safe = -1;
	size_t kept = 0;

	for (size_t i = 0; i < cfg->nr; i++) {
		struct config_entry *e = &cfg->entries[i];
		int seen = 0;

		/*
		 * A secret's own value in a clone is only the clone's, but a
		 * reference would fetch one of the user's (pass:, op://, env:).
		 */
		if (e->scope != CONFIG_SCOPE_LOCAL || (!config_key_is_protected(e->key) &&
		    !(config_key_is_secret(e->key) && credential_is_reference(e->value)))) {
			cfg->entries[kept++] = *e;
			continue;
		}
		if (safe < 0) {
			cwd = getcwd(NULL, 0);
			dir = cwd ? realpath(cwd, NULL) : NULL;
			safe = dir && config_directory_is_safe(cfg, dir);
		}
		if (safe && strcmp(e->key, "safe.directory")) {
			cfg->entries[kept++] = *e;
			continue;
		}
		ALLOC_GROW(cfg->ignored, cfg->ignored_nr + 1, cfg->ignored_alloc);
		cfg->ignored[cfg->ignored_nr++] = *e;
		for (size_t j = 0; j < warned.nr && !seen; j++)
			seen = !strcmp(warned.v[j], e->key);
		if (seen)
			continue;
		strvec_push(&warned, e->key);
		if (!global) {
			char *g = config_path_for_scope(CONFIG_SCOPE_GLOBAL);
			global = g ? tilde_path(g) : xstrdup("~/.config/sre/config");
			free(g);
		}
		strbuf_reset(&file);
		if (e->origin[0] != '/' && cwd)
			strbuf_addf(&file, "%s/", cwd);
		strbuf_addstr(&file, e->origin);
		if (!strcmp(e->key, "safe.directory"))
			warning("ignoring safe.directory from %s: a directory cannot trust "
				"itself; list it in %s", file.buf, global);
		else
			warning("ignoring %s from %s: add %s to safe.directory in %s", e->key,
				file.buf, dir ? dir : "the directory", global);
	}
	cfg->nr = kept;
	strbuf_release(&file);
	strvec_clear(&warned);
	free(global);
	free(dir);
	free(cwd);
}

/*
 * Name each key that is no key of sre's but one letter or two away from
 * one, once however often it is set, where it is first set: a misspelt
 * key is otherwise ignored without a word (http.timout leaves the default
 * in force). A key far from every known one is left alone: it may be a
 * setting of an sre-<name> program.
 */
static void warn_misspelt_keys(const struct config *cfg)
{
	struct strvec warned = STRVEC_INIT;
	struct strbuf near = STRBUF_INIT;

	for (size_t i = 0; i < cfg->nr; i++) {
		const struct config_entry *e = &cfg->entries[i];
		int seen = 0;

		for (size_t j = 0; j < warned.nr && !seen; j++)
			seen = !strcmp(warned.v[j], e->key);
		if (seen || !config_key_suggest(e->key, &near))
			continue;
		strvec_push(&warned, e->key);
		if (e->line)
			warning("unknown key %s in %s line %d; did you mean %s?",
				e->key, e->origin, e->line, near.buf);
		else
			warning("unknown key %s on the command line; did you mean %s?",
				e->key, near.buf);
	}
	strvec_clear(&warned);
	strbuf_release(&near);
}

int config_load(struct config *cfg, const struct strvec *overrides)
{
	static const enum config_scope files[] = {
		CONFIG_SCOPE_SYSTEM, CONFIG_SCOPE_GLOBAL, CONFIG_SCOPE_LOCAL,
		CONFIG_SCOPE_ENV,
	};

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char *path;
		int ret;

		if (files[i] == CONFIG_SCOPE_SYSTEM && getenv("SRE_CONFIG_NOSYSTEM"))
			continue;
		path = config_path_for_scope(files[i]);
		if (!path)
			continue;
		/* $SRE_CONFIG names a file on purpose: it must be there. */
		ret = config_read_file(cfg, path, files[i], files[i] == CONFIG_SCOPE_ENV);
		free(path);
		if (ret < 0)
			return -1;
	}
	for (size_t i = 0; overrides && i < overrides->nr; i++)
		if (config_add_override(cfg, overrides->v[i]) < 0)
			return -1;
	warn_misspelt_keys(cfg);
	set_aside_untrusted(cfg);
	return 0;
}

void config_clear(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nr; i++) {
		free(cfg->entries[i].key);
		free(cfg->entries[i].value);
	}
	free(cfg->entries);
	cfg->entries = NULL;
	cfg->nr = cfg->alloc = 0;
	for (size_t i = 0; i < cfg->ignored_nr; i++) {
		free(cfg->ignored[i].key);
		free(cfg->ignored[i].value);
	}
	free(cfg->ignored);
	cfg->ignored = NULL;
	cfg->ignored_nr = cfg->ignored_alloc = 0;
	strvec_clear(&cfg->origins);
}

/* ---- lookups ---- */

const struct config_entry *config_get_entry(const struct config *cfg, const char *key)
{
	struct strbuf canon = STRBUF_INIT;
	const struct config_entry *found = NULL;
	const char *why;

	if (config_key_normalize(key, &canon, &why) < 0) {
		strbuf_release(&canon);
		return NULL;
	}
	for (size_t i = cfg->nr; i-- > 0;)
		if (!strcmp(cfg->entries[i].key, canon.buf)) {
			found = &cfg->entries[i];
			break;
		}
	strbuf_release(&canon);
	return found;
}

void config_get_all(const struct config *cfg, const char *key, struct strvec *out)
{
	for (size_t i = 0; i < cfg->nr; i++)
		if (!strcmp(cfg->entries[i].key, key) && cfg->entries[i].value)
			strvec_push(out, cfg->entries[i].value);
}

const char *config_get_string(const struct config *cfg, const char *key)
{
	const struct config_entry *e = config_get_entry(cfg, key);

	if (!e)
		return NULL;
	return e->value ? e->value : "";
}

static int bad_value(const struct config_entry *e, const char *what)
{
	/* An error message never shows a secret, even a malformed one. */
	const char *v = config_key_is_secret(e->key) ? "<redacted>" :
			e->value ? e->value : "";

	if (e->line)
		return error("bad %s value '%s' for %s in %s line %d", what, v,
			     e->key, e->origin, e->line);
	return error("bad %s value '%s' for %s on the %s", what, v, e->key, e->origin);
}

int config_parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0", "" };

	if (!v) {
		*out = 1;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		if (!strcasecmp(v, yes[i])) {
			*out = 1;
			return 0;
		}
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		if (!strcasecmp(v, no[i])) {
			*out = 0;
			return 0;
		}
	return -1;
}

int config_parse_int(const char *v, long long *out)
{
	char *end;
	long long n, mult = 1;

	if (!v || !*v)
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v)
		return -1;
	if (*end) {
		switch (tolower((unsigned char)*end)) {
		case 'k':
			mult = 1024;
			break;
		case 'm':
			mult = 1024 * 1024;
			break;
		case 'g':
			mult = 1024 * 1024 * 1024;
			break;
		default:
			return -1;
		}
		if (end[1])
			return -1;
	}
	if (n > LLONG_MAX / mult || n < LLONG_MIN / mult)
		return -1;
	*out = n * mult;
	return 0;
}

int config_get_bool(const struct config *cfg, const char *key, int *out)
{
	const struct config_entry *e = config_get_entry(cfg, key);

	if (!e)
		return 1;
	if (config_parse_bool(e->value, out) < 0)
		return bad_value(e, "boolean");
	return 0;
}

int config_get_int(const struct config *cfg, const char *key, long long *out)
{
	const struct config_entry *e = config_get_entry(cfg, key);

	if (!e)
		return 1;
	if (config_parse_int(e->value, out) < 0)
		return bad_value(e, "numeric");
	return 0;
}

int config_get_duration_ms(const struct config *cfg, const char *key, int64_t *out)
{
	const struct config_entry *e = config_get_entry(cfg, key);

	if (!e)
		return 1;
	if (parse_duration_ms(e->value, out) < 0)
		return bad_value(e, "duration");
	return 0;
}

int config_get_path(const struct config *cfg, const char *key, char **out)
{
	const struct config_entry *e = config_get_entry(cfg, key);

	if (!e)
		return 1;
	if (!e->value || !*e->value)
		return bad_value(e, "path");
	*out = expand_home(e->value);
	return 0;
}

int config_key_is_secret(const char *key)
{
	static const char *const words[] = {
		"token", "password", "api-key", "secret", "webhook", "webhook-url",
	};
	const char *name = strrchr(key, '.');

	name = name ? name + 1 : key;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (!strcasecmp(name, words[i]))
			return 1;
	/* PagerDuty's routing key, and a policy level's (level2-routing-key). */
	return ends_with(name, "routing-key");
}

int config_get_secret(const struct config *cfg, const char *key,
		      const char *env, struct strbuf *out)
{
	const char *v = env ? getenv(env) : NULL, *cmd, *why;
	struct strvec argv = STRVEC_INIT;
	int64_t timeout = DEFAULT_COMMAND_TIMEOUT_MS;
	char *cmdkey;
	int status;

	strbuf_reset(out);
	if (v && *v) {
		strbuf_addstr(out, v);
		redact_add_secret(out->buf); /* masked wherever it shows up */
		return 0;
	}
	cmdkey = xstrfmt("%s-command", key);
	cmd = config_get_string(cfg, cmdkey);
	if (!cmd) {
		free(cmdkey);
		v = config_get_string(cfg, key);
		if (!v || !*v)
			return 1;
		/* op://, pass:, env: name the secret: read only once a person approves. */
		if (credential_is_reference(v)) {
			if (config_get_duration_ms(cfg, "core.command-timeout", &timeout) < 0)
				return -1;
			return credential_resolve(key, v, timeout, out) ? -1 : 0;
		}
		strbuf_addstr(out, v);
		redact_add_secret(out->buf);
		return 0;
	}
	if (split_shell_words(&argv, cmd, &why) < 0) {
		error("cannot run %s: %s", cmdkey, why);
		goto fail;
	}
	/* A helper that waits for a prompt nobody sees must not hang sre. */
	if (config_get_duration_ms(cfg, "core.command-timeout", &timeout) < 0)
		goto fail;
	if (timeout <= 0)
		timeout = DEFAULT_COMMAND_TIMEOUT_MS;
	status = run_command_capture(argv.v, cmdkey, out, MAX_SECRET_OUTPUT, timeout);
	if (status < 0)
		goto fail;
	if (status) {
		error("%s (%s) failed with exit code %d", cmdkey, argv.v[0], status);
		goto fail;
	}
	/* A trailing newline is not part of the secret; anything else is. */
	while (out->len && (out->buf[out->len - 1] == '\n' || out->buf[out->len - 1] == '\r'))
		strbuf_setlen(out, out->len - 1);
	if (!out->len) {
		error("%s (%s) printed nothing", cmdkey, argv.v[0]);
		goto fail;
	}
	redact_add_secret(out->buf);
	free(cmdkey);
	strvec_clear(&argv);
	return 0;
fail:
	/* Clear what was captured so no partial secret lingers. */
	if (out->alloc)
		memset(out->buf, 0, out->alloc);
	strbuf_reset(out);
	free(cmdkey);
	strvec_clear(&argv);
	return -1;
}

/*
 * Does key match a documented key, where "<name>" stands for any
 * subsection and a final "<state>" for any last part?
 */
static int key_matches(const char *doc, const char *key)
{
	const char *wild = strstr(doc, ".<name>.");
	const char *last;
	size_t n;

	if (ends_with(doc, ".<state>")) {
		n = strlen(doc) - strlen("<state>");
		return !strncmp(doc, key, n) && key[n] && !strchr(key + n, '.');
	}
	if (!wild)
		return !strcmp(doc, key);
	last = strrchr(key, '.');
	return !strncmp(doc, key, (size_t)(wild - doc) + 1) && last &&
	       last > key + (wild - doc) + 1 && !strcmp(wild + strlen(".<name>"), last);
}

const struct config_key_doc *config_key_doc_of(const char *key)
{
	for (const struct config_key_doc *k = config_known_keys; k->key; k++)
		if (key_matches(k->key, key))
			return k;
	return NULL;
}

int config_key_is_known(const char *key)
{
	struct strbuf cmd = STRBUF_INIT;
	int known;

	if (config_key_doc_of(key))
		return 1;
	if (!config_key_is_secret(key))
		return 0;
	/* github.token: read as the last resort behind its -command. */
	strbuf_addf(&cmd, "%s-command", key);
	known = config_key_doc_of(cmd.buf) != NULL;
	strbuf_release(&cmd);
	return known;
}

/* The length of a key's section: "check" of "check.<name>.url". */
static size_t section_of(const char *key)
{
	const char *dot = strchr(key, '.');

	return dot ? (size_t)(dot - key) : strlen(key);
}

struct nearest {
	const char *key;   /* what the user wrote, canonical */
	size_t best;
	struct strbuf *out;
};

static void consider(struct nearest *n, const char *cand, size_t extra, const char *show)
{
	size_t d = edit_distance(n->key, cand) + extra;

	if (d < n->best) {
		n->best = d;
		strbuf_reset(n->out);
		strbuf_addstr(n->out, show ? show : cand);
	}
}

int config_key_suggest(const char *key, struct strbuf *out)
{
	const char *first = strchr(key, '.'), *last = strrchr(key, '.');
	struct nearest n = { key, SIZE_MAX, out };
	struct strbuf cand = STRBUF_INIT;
	const char *name;

	strbuf_reset(out);
	if (!first || config_key_is_known(key))
		return 0;
	name = last + 1;
	for (const struct config_key_doc *k = config_known_keys; k->key; k++) {
		const char *wild = strstr(k->key, ".<name>.");
		size_t sec = section_of(k->key), same = 0;

		strbuf_reset(&cand);
		if (wild && first != last) {
			/* check.<name>.url with the user's own subsection. */
			strbuf_add(&cand, k->key, (size_t)(wild - k->key) + 1);
			strbuf_add(&cand, first + 1, (size_t)(last - first));
			strbuf_addstr(&cand, wild + strlen(".<name>."));
			consider(&n, cand.buf, 0, NULL);
		} else if (wild) {
			/* [check] url = ...: the subsection forgotten. */
			strbuf_add(&cand, k->key, (size_t)(wild - k->key));
			strbuf_addstr(&cand, wild + strlen(".<name>"));
			consider(&n, cand.buf, 0, k->key);
		} else if (ends_with(k->key, ".<state>")) {
			if (first == last)
				continue;
			strbuf_add(&cand, k->key, strlen(k->key) - strlen("<state>"));
			strbuf_addstr(&cand, name);
			consider(&n, cand.buf, 0, NULL);
		} else {
			consider(&n, k->key, 0, NULL);
			/* github.tokn: the secret read behind github.token-command. */
			if (ends_with(k->key, "-command")) {
				strbuf_add(&cand, k->key, strlen(k->key) - strlen("-command"));
				if (config_key_is_secret(cand.buf))
					consider(&n, cand.buf, 0, NULL);
			}
		}
		/*
		 * core.colour: a name that is the section of a one-key section
		 * (color.ui, tracker.kind) means that key.
		 */
		if (wild || strchr(k->key, '<'))
			continue;
		for (const struct config_key_doc *o = config_known_keys; o->key; o++)
			same += section_of(o->key) == sec && !strncmp(o->key, k->key, sec);
		if (same == 1) {
			char *section = xstrndup(k->key, sec);
			size_t d = edit_distance(name, section) + 1;
			if (d < n.best) {
				n.best = d;
				strbuf_reset(out);
				strbuf_addstr(out, k->key);
			}
			free(section);
		}
	}
	strbuf_release(&cand);
	/* Only what is plausibly a slip: two edits at most, fewer than the name has letters. */
	if (n.best > 2 || n.best >= strlen(name)) {
		strbuf_reset(out);
		return 0;
	}
	return 1;
}

void config_secret_hint(const char *key, struct strbuf *out)
{
	const char *last = strrchr(key, '.'), *name = last ? last + 1 : key, *env;
	const struct config_key_doc *found = NULL;
	struct strbuf cmd = STRBUF_INIT;

	strbuf_addf(&cmd, "%s-command", key);
	found = config_key_doc_of(cmd.buf);
	/* slack.webhook-url: the key sre reads is slack.webhook, behind slack.webhook-command. */
	for (const struct config_key_doc *k = config_known_keys; !found && k->key; k++) {
		const char *kname = strrchr(k->key, '.') + 1;
		size_t stem;

		/* A -command row of the same section (and subsection). */
		if (!last || strncmp(k->key, key, (size_t)(last - key) + 1) ||
		    strchr(k->key + (last - key) + 1, '.') || !ends_with(kname, "-command"))
			continue;
		stem = strlen(kname) - strlen("-command");
		if (!strncmp(kname, name, stem) && (!name[stem] || name[stem] == '-'))
			found = k;
	}
	strbuf_reset(out);
	if (!found) {
		strbuf_addf(out, "%s (a command that prints it) or an environment variable", cmd.buf);
		strbuf_release(&cmd);
		return;
	}
	strbuf_addf(out, "%s (a command that prints it)", found->key);
	env = strstr(found->help, "(else ");
	/* "(else A)" or "(else A or B)": the variables, as the help names them. */
	for (env = env ? env + strlen("(else ") : NULL; env;
	     env = starts_with(env, " or ") && env[4] >= 'A' && env[4] <= 'Z' ? env + 4 : NULL) {
		strbuf_addstr(out, " or ");
		while (*env == '_' || (*env >= 'A' && *env <= 'Z') || (*env >= '0' && *env <= '9'))
			strbuf_addch(out, *env++);
	}
	strbuf_release(&cmd);
}

int config_key_is_protected(const char *key)
{
	static const char *const sections[] = { "fix.", "safe." };
	static const char *const names[] = { ".url", ".api", ".host", ".ca-info" };
	const struct config_key_doc *k = config_key_doc_of(key);
	const char *last = strrchr(key, '.');

	if (k)
		return k->trust != CONFIG_LOCAL_OK;
	/* Unknown: judged by its shape, so that a key used before it got a row is safe. */
	if (ends_with(key, "-command") || !strcmp(key, "core.db") || !strcmp(key, "core.repo"))
		return 1;
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		if (starts_with(key, sections[i]))
			return 1;
	for (size_t i = 0; last && i < ARRAY_SIZE(names); i++)
		if (!strcmp(last, names[i]))
			return 1;
	return starts_with(key, "service.") && last &&
	       (!strcmp(last, ".start") || !strcmp(last, ".stop"));
}

int config_check_value(const char *key, const char *value)
{
	const struct config_key_doc *k = config_key_doc_of(key);

	if (!k)
		return 0;
	if (!strcmp(k->type, "bool")) {
		int b;
		if (config_parse_bool(value, &b) < 0)
			return error("%s takes a boolean (true or false), not '%s'", key, value);
	} else if (!strcmp(k->type, "int")) {
		long long n;
		if (config_parse_int(value, &n) < 0)
			return error("%s takes a number (with an optional k, m or g), not '%s'", key, value);
	} else if (!strcmp(k->type, "duration")) {
		int64_t ms;
		if (parse_duration_ms(value, &ms) < 0)
			return error("%s takes a duration such as 500ms, 30s, 5m, 2h or 7d, not '%s'", key, value);
	} else if (strchr(k->type, '|')) {
		size_t n = strlen(value);
		for (const char *t = k->type; t;) {
			const char *bar = strchr(t, '|');
			size_t len = bar ? (size_t)(bar - t) : strlen(t);
			if (len == n && !strncmp(t, value, n))
				return 0;
			t = bar ? bar + 1 : NULL;
		}
		return error("%s takes one of %s, not '%s'", key, k->type, value);
	} else if (!*value && strcmp(k->type, "string")) {
		return error("%s needs a value", key);
	}
	return 0;
}

/* ---- editing ---- */

struct edit_state {
	const char *key;       /* canonical */
	struct strbuf section; /* the key's section part, canonical */
	size_t last_match_begin, last_match_end;
	int matches;
	size_t section_end;    /* end of the last line in the key's section */
	int section_seen;
	int in_section;
	struct {
		size_t begin, end;
	} *spans;
	size_t spans_nr, spans_alloc;
};

static int edit_cb(struct parser *p, enum parse_event ev, const char *key,
		   const char *value, size_t begin, size_t end)
{
	struct edit_state *st = p->data;

	(void)value;
	if (ev == EV_SECTION) {
		st->in_section = !strcmp(key, st->section.buf);
		if (st->in_section) {
			st->section_seen = 1;
			st->section_end = end;
		}
		return 0;
	}
	if (st->in_section)
		st->section_end = end;
	if (!strcmp(key, st->key)) {
		st->matches++;
		st->last_match_begin = begin;
		st->last_match_end = end;
		ALLOC_GROW(st->spans, st->spans_nr + 1, st->spans_alloc);
		st->spans[st->spans_nr].begin = begin;
		st->spans[st->spans_nr].end = end;
		st->spans_nr++;
	}
	return 0;
}

static void quote_value(struct strbuf *out, const char *v)
{
	size_t n = strlen(v);
	int quote = n && (isspace((unsigned char)v[0]) || isspace((unsigned char)v[n - 1]) ||
			  strpbrk(v, "#;"));

	if (quote)
		strbuf_addch(out, '"');
	for (; *v; v++) {
		switch (*v) {
		case '\n':
			strbuf_addstr(out, "\\n");
			break;
		case '\t':
			strbuf_addstr(out, "\\t");
			break;
		case '\b':
			strbuf_addstr(out, "\\b");
			break;
		case '"':
		case '\\':
			strbuf_addch(out, '\\');
			/* fallthrough */
		default:
			strbuf_addch(out, *v);
		}
	}
	if (quote)
		strbuf_addch(out, '"');
}

static void section_header(struct strbuf *out, const char *canon_key)
{
	const char *first = strchr(canon_key, '.'), *last = strrchr(canon_key, '.');

	strbuf_addch(out, '[');
	strbuf_add(out, canon_key, (size_t)(first - canon_key));
	if (first != last) {
		strbuf_addstr(out, " \"");
		for (const char *c = first + 1; c < last; c++) {
			if (*c == '"' || *c == '\\')
				strbuf_addch(out, '\\');
			strbuf_addch(out, *c);
		}
		strbuf_addch(out, '"');
	}
	strbuf_addstr(out, "]\n");
}

static int write_locked(const char *path, const struct strbuf *content)
{
	char *lock = xstrfmt("%s.lock", path);
	struct stat st;
	mode_t mode = 0600;
	int fd, ret = 0;

	if (!stat(path, &st))
		mode = st.st_mode & 07777;
	fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	/* The umask must not narrow (or widen) who can read the file. */
	if (fd >= 0 && fchmod(fd, mode) < 0) {
		ret = error_errno("cannot set the mode of %s", lock);
		close(fd);
		unlink(lock);
		free(lock);
		return ret;
	}
	if (fd < 0) {
		if (errno == EEXIST)
			ret = error("cannot lock %s: %s exists; another sre may be "
				    "writing it (remove it if not)", path, lock);
		else
			ret = error_errno("cannot create %s", lock);
		free(lock);
		return ret;
	}
	for (size_t off = 0; off < content->len;) {
		ssize_t n = write(fd, content->buf + off, content->len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = error_errno("cannot write %s", lock);
			break;
		}
		off += (size_t)n;
	}
	if (!ret && fsync(fd) < 0)
		ret = error_errno("cannot write %s", lock);
	if (close(fd) < 0 && !ret)
		ret = error_errno("cannot write %s", lock);
	if (!ret && rename(lock, path) < 0)
		ret = error_errno("cannot rename %s to %s", lock, path);
	if (ret)
		unlink(lock);
	free(lock);
	return ret;
}

static int edit_file(const char *path, const char *key, const char *value, int add);

int config_set_in_file(const char *path, const char *key, const char *value)
{
	return edit_file(path, key, value, 0);
}

int config_add_in_file(const char *path, const char *key, const char *value)
{
	return edit_file(path, key, value, 1);
}

static int edit_file(const char *path, const char *key, const char *value, int add)
{
	struct strbuf old = STRBUF_INIT, new = STRBUF_INIT, canon = STRBUF_INIT;
	struct edit_state st = { .section = STRBUF_INIT };
	struct parser p = { .line = 1, .origin = path, .section = STRBUF_INIT,
			    .cb = edit_cb, .data = &st, .literal = STRBUF_INIT };
	const char *why;
	int ret = -1;

	if (config_key_normalize(key, &canon, &why) < 0) {
		error("invalid key '%s': %s", key, why);
		goto out;
	}
	st.key = canon.buf;
	strbuf_add(&st.section, canon.buf, (size_t)(strrchr(canon.buf, '.') - canon.buf));
	if (strbuf_read_file(&old, path, MAX_CONFIG_FILE) < 0 && errno != ENOENT) {
		error_errno("cannot read %s", path);
		goto out;
	}
	p.buf = old.buf;
	p.len = old.len;
	if (parse_buffer(&p) < 0)
		goto out;

	if (!value) {
		size_t at = 0;
		if (!st.matches) {
			ret = 1;
			goto out;
		}
		for (size_t i = 0; i < st.spans_nr; i++) {
			strbuf_add(&new, old.buf + at, st.spans[i].begin - at);
			at = st.spans[i].end;
		}
		strbuf_add(&new, old.buf + at, old.len - at);
	} else {
		struct strbuf line = STRBUF_INIT;
		const char *name = strrchr(canon.buf, '.') + 1;

		strbuf_addf(&line, "\t%s = ", name);
		quote_value(&line, value);
		strbuf_addch(&line, '\n');
		if (st.matches && add) {
			/* After the last value, so the order stays the user's. */
			strbuf_add(&new, old.buf, st.last_match_end);
			if (st.last_match_end && old.buf[st.last_match_end - 1] != '\n')
				strbuf_addch(&new, '\n');
			strbuf_add(&new, line.buf, line.len);
			strbuf_add(&new, old.buf + st.last_match_end,
				   old.len - st.last_match_end);
		} else if (st.matches) {
			strbuf_add(&new, old.buf, st.last_match_begin);
			strbuf_add(&new, line.buf, line.len);
			strbuf_add(&new, old.buf + st.last_match_end,
				   old.len - st.last_match_end);
		} else if (st.section_seen) {
			strbuf_add(&new, old.buf, st.section_end);
			if (st.section_end && old.buf[st.section_end - 1] != '\n')
				strbuf_addch(&new, '\n');
			strbuf_add(&new, line.buf, line.len);
			strbuf_add(&new, old.buf + st.section_end, old.len - st.section_end);
		} else {
			strbuf_add(&new, old.buf, old.len);
			if (new.len && new.buf[new.len - 1] != '\n')
				strbuf_addch(&new, '\n');
			section_header(&new, canon.buf);
			strbuf_add(&new, line.buf, line.len);
		}
		strbuf_release(&line);
	}
	if (mkdir_parents(path, 0700) < 0)
		goto out;
	ret = write_locked(path, &new);
out:
	strbuf_release(&old);
	strbuf_release(&new);
	strbuf_release(&canon);
	strbuf_release(&st.section);
	strbuf_release(&p.section);
	strbuf_release(&p.literal);
	free(st.spans);
	return ret;
}

/* ---- lists and subsections ---- */

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

const char *config_key_of(struct strbuf *sb, const char *section, const char *name,
			  const char *key)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "%s.%s.%s", section, name, key);
	return sb->buf;
}

int config_any_key(const struct config *cfg, const char *section, const char *key)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;
	int found = 0;

	config_subsections(cfg, section, &names);
	for (size_t i = 0; i < names.nr && !found; i++)
		found = config_get_string(cfg, config_key_of(&sb, section, names.v[i], key)) != NULL;
	strvec_clear(&names);
	strbuf_release(&sb);
	return found;
}

void config_list(const struct config *cfg, const char *key, const char *seps,
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
