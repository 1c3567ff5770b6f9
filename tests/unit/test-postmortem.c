/*
 * test-postmortem.c: unit tests of lib/postmortem.c, printing TAP.
 *
 * Each incident is made in a real SQLite store through the store's own
 * API (open, events, diagnoses, transitions), with the clock set by
 * SRE_NOW so that offsets are known, then written up and read back as
 * a person would: section by section. Four stories: a restart that
 * verification confirmed; an action that failed, was escalated and was
 * resolved by a person; nothing but an opening and a resolution (every
 * section says what is unknown); and an incident whose title, comments
 * and evidence are hostile (Markdown and HTML injection, secrets,
 * control characters).
 */
#include <time.h>

#include <cJSON.h>

#include "../../lib/config.h"
#include "../../lib/memory.h"
#include "../../lib/postmortem.h"
#include "../../lib/redact.h"
#include "../../lib/store.h"
#include "test-lib.h"

#define T0 "2026-11-24T05:07:00Z"

static struct store *st;
static struct config cfg = CONFIG_INIT;

/* SRE_NOW at T0 plus s seconds: the clock the store stamps events with. */
static void at(int s)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "2026-11-24T%02d:%02d:%02dZ", 5 + (7 * 60 + s) / 3600,
		 (7 * 60 + s) / 60 % 60, s % 60);
	setenv("SRE_NOW", buf, 1);
}

static long long open_incident(const char *service, const char *title, const char *source,
			       enum incident_severity sev)
{
	struct incident_new in = { service, title, NULL, source, sev, "sre-scout" };
	long long id = 0;
	int created = 0;

	at(0);
	if (store_incident_open(st, &in, &id, &created) || !created)
		printf("# cannot open the incident \"%s\"\n", title);
	return id;
}

static void event(long long id, int s, const char *kind, const char *actor, const char *body)
{
	at(s);
	if (store_event_append(st, id, kind, actor, body))
		printf("# cannot append %s: %s\n", kind, body);
}

static void move(long long id, int s, enum incident_state to, const char *actor, const char *reason)
{
	at(s);
	if (store_incident_transition(st, id, -1, to, actor, reason, NULL))
		printf("# cannot move %lld to %s\n", id, incident_state_name(to));
}

static void diagnose(long long id, int s, const char *category, const char *root_cause,
		     double confidence, const char *action, const char *target, const char *json)
{
	struct diagnosis_row d = { category, root_cause, confidence, action, target, json };

	at(s);
	if (store_diagnosis_add(st, id, &d, "root"))
		printf("# cannot add the diagnosis of %lld\n", id);
}

/* The post-mortem of id, or "(error N)". */
static char *postmortem(long long id)
{
	struct strbuf sb = STRBUF_INIT;
	int r = postmortem_write(st, &cfg, id, &sb);

	if (r) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "(error %d)", r);
	}
	return strbuf_detach(&sb, NULL);
}

/* The text of section heading ("## Root cause") up to the next "## ", or "". */
static char *section(const char *doc, const char *heading)
{
	struct strbuf want = STRBUF_INIT;
	const char *p, *end;

	strbuf_addf(&want, "\n%s\n", heading);
	p = strstr(doc, want.buf);
	strbuf_release(&want);
	if (!p)
		return xstrdup("");
	p += strlen(heading) + 2;
	end = strstr(p, "\n## ");
	return xstrndup(p, end ? (size_t)(end - p) : strlen(p));
}

/* like() over a section of the document, showing the section when it fails. */
#define has(doc, heading, needle, ...) \
	do { \
		char *s_ = section((doc), (heading)); \
		if (!ok(strstr(s_, (needle)) != NULL, __VA_ARGS__)) { \
			printf("#   wanted: %s\n", (needle)); \
			diag_text(heading, s_); \
		} \
		free(s_); \
	} while (0)
#define hasnt(doc, heading, needle, ...) \
	do { \
		char *s_ = section((doc), (heading)); \
		if (!ok(strstr(s_, (needle)) == NULL, __VA_ARGS__)) { \
			printf("#   unwanted: %s\n", (needle)); \
			diag_text(heading, s_); \
		} \
		free(s_); \
	} while (0)

static const char *const headings[] = {
	"## Overview", "## What happened", "## Impact", "## Detection", "## Timeline",
	"## Responders", "## Root cause", "## Resolution and verification", "## How did we do",
	"### What went well", "### What did not go well", "## Action items",
	"## Similar past incidents",
};

/*
 * The document's block structure is ours alone: one title, the headings
 * in order and nothing else at a line's start that opens a block of its
 * own (a heading, a fence, raw HTML); every table row has its columns.
 */
/* How many ways doc's structure is not ours alone (each printed); 0 when it is. */
static size_t structure_errors(const char *doc, const char *what)
{
	size_t next = 0, bad = 0, titles = 0;
	const char *line = doc, *eol;
	int in_timeline = 0;

	for (; *line; line = *eol ? eol + 1 : eol) {
		size_t len, pipes = 0;

		eol = strchrnul(line, '\n');
		len = (size_t)(eol - line);
		if (starts_with(line, "# ")) {
			titles++;
			continue;
		}
		if (line[0] == '#') {
			if (next < ARRAY_SIZE(headings) && len == strlen(headings[next]) &&
			    !strncmp(line, headings[next], len)) {
				in_timeline = !strcmp(headings[next], "## Timeline");
				next++;
			} else {
				printf("#   %s: a heading not ours: %.*s\n", what, (int)len, line);
				bad++;
			}
			continue;
		}
		if (starts_with(line, "```") || starts_with(line, "~~~") || line[0] == '<' ||
		    starts_with(line, "    ") || line[0] == '=') {
			printf("#   %s: a block not ours: %.*s\n", what, (int)len, line);
			bad++;
		}
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)line[i];
			size_t slashes = 0;
			int escaped;

			while (slashes < i && line[i - slashes - 1] == '\\')
				slashes++;
			escaped = slashes % 2;
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				printf("#   %s: a control character in: %.*s\n", what, (int)len, line);
				bad++;
			}
			if ((c == '<' || c == '`') && !escaped) {
				printf("#   %s: an unescaped %c in: %.*s\n", what, c, (int)len, line);
				bad++;
			}
			pipes += c == '|' && !escaped;
		}
		if (in_timeline && line[0] == '|' && pipes != 6) {
			printf("#   %s: a timeline row of %zu cells: %.*s\n", what, pipes - 1, (int)len, line);
			bad++;
		}
	}
	if (titles != 1 || next != ARRAY_SIZE(headings)) {
		printf("#   %s: titles %zu, sections %zu of %zu\n", what, titles, next, ARRAY_SIZE(headings));
		bad++;
	}
	return bad;
}

static void well_formed(const char *doc, const char *what)
{
	ok(!structure_errors(doc, what),
	   "%s: one title, every section in order, no block or HTML of the text's own", what);
}

/* (a) Alertmanager saw it, sre diagnosed it, restarted it, and verification held. */
static void test_verified_restart(void)
{
	long long id = open_incident("quote", "quote is down", "alertmanager", SEVERITY_HIGH);
	char *doc;

	event(id, 0, "evidence", "sre-scout",
	      "{\"summary\":\"QuoteDown firing for quote\",\"evidence\":{\"startsAt\":\"2026-11-24T05:05:00Z\"}}");
	move(id, 40, STATE_ANALYSIS_IN_PROGRESS, "root", "diagnosis started");
	diagnose(id, 45, "crash", "quote is not running: its process has exited.", 0.85, "restart", "quote",
		 "{\"incident\":1,\"service\":\"quote\",\"category\":\"crash\","
		 "\"root_cause\":\"quote is not running: its process has exited.\",\"confidence\":0.85,"
		 "\"mitigation\":{\"action\":\"restart\",\"target\":\"quote\",\"params\":{}},"
		 "\"evidence\":[{\"source\":\"host\",\"summary\":\"quote: process 4242 is not running\"},"
		 "{\"source\":\"docker\",\"summary\":\"container quote exited with code 137\"}],"
		 "\"rule\":\"process-crash\","
		 "\"findings\":[{\"category\":\"crash\",\"root_cause\":\"x\",\"confidence\":0.85},"
		 "{\"category\":\"resource-exhaustion\",\"root_cause\":\"memory ran out\",\"confidence\":0.4}],"
		 "\"sources\":[{\"source\":\"host\",\"status\":\"ok\",\"error\":null},"
		 "{\"source\":\"kubernetes\",\"status\":\"timeout\",\"error\":\"no answer in 5s\"}]}");
	move(id, 45, STATE_ANALYSIS_COMPLETE, "root", "crash: quote is not running");
	move(id, 50, STATE_FIX_GENERATION_IN_PROGRESS, "root", "planning the fix");
	event(id, 50, "fix-planned", "root",
	      "{\"action\":\"restart\",\"target\":\"quote\",\"runtime\":\"process\",\"requires_approval\":false,\"refused\":false}");
	move(id, 50, STATE_FIX_GENERATED, "root", "plan: restart quote");
	at(60);
	if (store_begin(st) || store_incident_transition(st, id, -1, STATE_DEPLOYMENT_IN_PROGRESS, "root",
							 "carrying out the fix", NULL) ||
	    store_event_append(st, id, "action-started", "root",
			       "{\"action\":\"restart\",\"target\":\"quote\",\"runtime\":\"process\","
			       "\"approval\":\"policy\",\"params\":{},\"record\":{\"pid\":4242}}") ||
	    store_commit(st))
		printf("# cannot start the action\n");
	event(id, 62, "action-finished", "root", "{\"result\":\"done\",\"output\":\"quote restarted: pid 4300, was 4242\"}");
	move(id, 62, STATE_DEPLOYMENT_COMPLETE, "root", "restart of quote");
	move(id, 63, STATE_VERIFICATION_IN_PROGRESS, "root", "verifying the fix");
	move(id, 192, STATE_VERIFICATION_COMPLETE, "root", "verified: quote is running as process 4300");
	move(id, 192, STATE_INCIDENT_RESOLVED, "root", "verified: quote is running as process 4300");

	doc = postmortem(id);
	well_formed(doc, "a verified restart");
	ok(starts_with(doc, "# Post-mortem: incident 1: quote is down\n"), "the title names the incident");
	ok(strstr(doc, "| Service | quote |\n| Severity | high |\n| Category | crash |\n"
		       "| Opened | 2026-11-24 05:07:00 UTC |\n| Resolved | 2026-11-24 05:10:12 UTC |\n"
		       "| Duration | 3m 12s |\n| Detected by | alertmanager |\n") != NULL,
	   "the summary table: service, severity, category, times, duration, source");
	has(doc, "## Overview", "On 2026-11-24 05:07:00 UTC, an Alertmanager alert read by sre scout "
	    "reported a problem with the service quote (severity high)", "overview: when and how it began");
	has(doc, "## Overview", "It was resolved 3m 12s later, after sre carried out a restart of quote and a "
	    "re-run of the incident's check confirmed it: quote is running as process 4300.",
	    "overview: how it ended");
	has(doc, "## Overview", "The latest diagnosis found crash (confidence 0.85): quote is not running",
	    "overview: the cause");
	has(doc, "## What happened", "What was seen first: \"QuoteDown firing for quote\"", "what happened: first sight");
	has(doc, "## What happened", "sre carried out 1 action: a restart of quote (done).", "what happened: the action");
	has(doc, "## Impact", "- Duration: 3m 12s, from the opening (2026-11-24 05:07:00 UTC) to the resolution "
	    "(2026-11-24 05:10:12 UTC); 5m 12s from when the source says the problem began (2026-11-24 05:05:00 UTC)",
	    "impact: duration, from the opening and from the start the source gave");
	has(doc, "## Impact", "- Severity: high\n", "impact: severity, unchanged");
	has(doc, "## Impact", "- Occurrences: 1 ", "impact: occurrences");
	has(doc, "## Detection", "- How: an Alertmanager alert read by sre scout; the incident was opened by sre-scout",
	    "detection: how");
	has(doc, "## Detection", "- After how long: the source says the problem began at 2026-11-24 05:05:00 UTC; "
	    "the incident was opened 2m 0s later", "detection: after how long");
	has(doc, "## Detection", "- First response: +0:00:40, root moved it to ANALYSIS_IN_PROGRESS (diagnosis started)",
	    "detection: the first response");
	has(doc, "## Timeline", "| +0:00:00 | 2026-11-24 05:07:00 | opened | sre-scout | quote is down |",
	    "timeline: the opening");
	has(doc, "## Timeline", "| +0:01:00 | 2026-11-24 05:08:00 | action-started | root | restart of quote (process), "
	    "approved by policy |", "timeline: the action, with its offset and UTC time");
	has(doc, "## Timeline", "| +0:03:12 | 2026-11-24 05:10:12 | transition | root | VERIFICATION_COMPLETE → "
	    "INCIDENT_RESOLVED: verified: quote is running as process 4300 |", "timeline: the resolution");
	has(doc, "## Responders", "- sre-scout: 2 events (opened, evidence)", "responders");
	has(doc, "## Root cause", "found crash (confidence 0.85): quote is not running: its process has exited. "
	    "Rule: process-crash.", "root cause: the answer and its rule");
	has(doc, "## Root cause", "- host: quote: process 4242 is not running\n- docker: container quote exited with code 137\n",
	    "root cause: the evidence");
	has(doc, "## Root cause", "- resource-exhaustion (confidence 0.40): memory ran out", "root cause: what else was weighed");
	has(doc, "## Root cause", "- kubernetes: timeout: no answer in 5s", "root cause: evidence not read");
	has(doc, "## Resolution and verification", "- +0:01:00: restart of quote (process), approved by policy; "
	    "at +0:01:02: done: quote restarted: pid 4300, was 4242", "resolution: the action and its result");
	has(doc, "## Resolution and verification", "Verification: sre re-ran the incident's check after the fix, "
	    "and it passed: quote is running as process 4300.", "resolution: verification");
	has(doc, "## How did we do", "- Time to detect (from when the source says it began to the opening): 2m 0s\n"
	    "- Time to the first response: 40s\n- Time to the first diagnosis: 45s\n- Time to resolve: 3m 12s\n",
	    "how we did: the times");
	has(doc, "### What went well", "- The restart of quote worked, and verification confirmed it.",
	    "went well: the fix held");
	has(doc, "### What went well", "- Policy allowed the restart of quote without waiting for a person.",
	    "went well: no wait for approval");
	has(doc, "### What did not go well", "- The diagnosis could not read kubernetes (timeout).",
	    "did not go well: evidence not read");
	hasnt(doc, "### What did not go well", "handed it to a person", "did not go well: no escalation invented");
	has(doc, "## Action items", "None found in the record", "action items: none");
	has(doc, "## Similar past incidents", "None found in sre's memory.", "similar: none yet");
	free(doc);
}

/* (b) The restart failed, sre escalated, a person fixed it and said how. */
static void test_failed_and_escalated(void)
{
	long long id = open_incident("cart", "cart health check fails", "http", SEVERITY_CRITICAL);
	char *doc;

	move(id, 10, STATE_ANALYSIS_IN_PROGRESS, "root", "diagnosis started");
	diagnose(id, 12, "crash", "cart exited", 0.7, "restart", "cart",
		 "{\"category\":\"crash\",\"root_cause\":\"cart exited\",\"confidence\":0.7,"
		 "\"mitigation\":{\"action\":\"restart\",\"target\":\"cart\"},\"evidence\":[]}");
	move(id, 12, STATE_ANALYSIS_COMPLETE, "root", "crash: cart exited");
	move(id, 20, STATE_FIX_GENERATION_IN_PROGRESS, "root", "planning the fix");
	move(id, 20, STATE_FIX_GENERATED, "root", "plan: restart cart");
	event(id, 20, "approval-needed", "root", "{\"reason\":\"restart is not in fix.auto\"}");
	move(id, 300, STATE_DEPLOYMENT_IN_PROGRESS, "root", "carrying out the fix");
	event(id, 300, "action-started", "root",
	      "{\"action\":\"restart\",\"target\":\"cart\",\"runtime\":\"process\",\"approval\":\"person\"}");
	event(id, 301, "action-finished", "root",
	      "{\"result\":\"failed\",\"output\":\"cannot bind 0.0.0.0:8080: address in use\"}");
	move(id, 301, STATE_INCIDENT_REQUIRES_HUMAN, "root",
	     "restart of cart failed: cannot bind 0.0.0.0:8080: address in use");
	event(id, 900, "comment", "alice",
	      "{\"text\":\"A stray cart from the last deploy held port 8080.\\nStopped it; started cart by hand.\"}");
	move(id, 960, STATE_INCIDENT_RESOLVED, "alice", "fixed by hand");

	doc = postmortem(id);
	well_formed(doc, "an escalated incident");
	has(doc, "## Overview", "It was resolved 16m 0s later, by alice, after sre had handed it to a person "
	    "(1 escalation).", "overview: resolved by a person after escalation");
	has(doc, "## What happened", "sre carried out 1 action: a restart of cart (failed).", "what happened: the failed action");
	has(doc, "## What happened", "It was handed to a person once.", "what happened: the escalation");
	has(doc, "## Detection", "- How: an HTTP health check run by sre scout", "detection: the http check");
	has(doc, "## Detection", "- After how long: not recorded", "detection: no start given, none invented");
	has(doc, "## Resolution and verification", "at +0:05:01: failed: cannot bind 0.0.0.0:8080: address in use",
	    "resolution: the failed action");
	has(doc, "## Resolution and verification", "Resolution: at +0:16:00, alice moved it from "
	    "INCIDENT_REQUIRES_HUMAN to INCIDENT_RESOLVED: fixed by hand.", "resolution: who and why");
	has(doc, "## Resolution and verification", "Verification: not recorded: a person resolved it",
	    "resolution: no verification invented");
	has(doc, "## Resolution and verification", "- +0:15:00, alice:\n\n  > A stray cart from the last deploy held "
	    "port 8080.\n  > Stopped it; started cart by hand.\n", "resolution: what the person wrote, quoted");
	has(doc, "### What did not go well", "- At +0:00:20 the fix waited for a person's approval (restart is not in fix.auto) for 4m 40s.",
	    "did not go well: the wait for approval");
	has(doc, "### What did not go well", "- At +0:05:01 an action did not succeed: failed: cannot bind",
	    "did not go well: the failed action");
	has(doc, "### What did not go well", "- At +0:05:01 sre handed it to a person: restart of cart failed",
	    "did not go well: the escalation");
	hasnt(doc, "### What went well", "verification confirmed", "went well: no verification invented");
	hasnt(doc, "### What went well", "without handing it to a person", "went well: the escalation not hidden");
	has(doc, "## Action items", "- [ ] Runbook: sre could not finish this incident alone (\"restart of cart failed: "
	    "cannot bind 0.0.0.0:8080: address in use\")", "action items: a runbook");
	hasnt(doc, "## Action items", "Architectural", "action items: nothing chronic invented");
	free(doc);
}

/*
 * (c) Opened by hand and resolved by hand: nothing else is known. In a
 * store of its own, so that memory has nothing to recall either.
 */
static void test_nothing_known(void)
{
	struct store *main_store = st;
	char *path = tmp_path("empty.db");
	long long id;
	char *doc;

	if (store_open(&st, path, 5000))
		printf("# cannot open %s\n", path);
	free(path);
	id = open_incident("search", "search is slow", NULL, SEVERITY_MEDIUM);

	move(id, 600, STATE_INCIDENT_RESOLVED, "bob", "resolved");
	doc = postmortem(id);
	well_formed(doc, "an incident with nothing but its opening and resolution");
	has(doc, "## Overview", "a person, by hand (sre incident open) reported a problem", "overview: by hand");
	has(doc, "## Overview", "No diagnosis was recorded", "overview: no cause invented");
	has(doc, "## What happened", "What was seen first is not recorded beyond the title. It was not diagnosed.",
	    "what happened: what is not known");
	has(doc, "## Impact", "- Users, requests or accounts affected: not recorded", "impact: user impact not invented");
	has(doc, "## Detection", "- What it saw: nothing recorded beyond the title", "detection: no evidence");
	has(doc, "## Detection", "- After how long: not recorded", "detection: no time to detect");
	has(doc, "## Root cause", "Nothing recorded: the incident was never diagnosed", "root cause: unknown");
	has(doc, "## Resolution and verification", "sre carried out no action.", "resolution: no action");
	has(doc, "## Resolution and verification", "Verification: not recorded: it was resolved by hand",
	    "resolution: not verified");
	has(doc, "## How did we do", "- Time to the first diagnosis: not recorded", "how we did: no diagnosis time");
	has(doc, "## How did we do", "- Time to resolve: 10m 0s", "how we did: the time to resolve");
	has(doc, "### What went well", "Nothing recorded.", "went well: nothing recorded");
	has(doc, "### What did not go well", "- It was never diagnosed.", "did not go well: from the record only");
	has(doc, "## Action items", "None found in the record", "action items: none");
	has(doc, "## Similar past incidents", "None found in sre's memory.", "similar: none");
	ok(!strstr(doc, "confidence") && !strstr(doc, "restart") && !strstr(doc, "verified") &&
	   !strstr(doc, "Alertmanager"), "nothing invented: no confidence, action, verification or source");
	free(doc);
	store_free(st);
	st = main_store;
}

/* (d) Outside text that tries to break the document or leak a secret. */
static void test_hostile(void)
{
	const char *title = "disk full\n# Injected heading\n```\n<script>alert(1)</script> "
			    "password=hunter2 \x1b[31mred\x1b[0m \xe2\x80\xae" "evil \xff";
	long long id = open_incident("db", title, "kubernetes", SEVERITY_LOW);
	char *doc;

	event(id, 1, "evidence", "sre-scout",
	      "{\"summary\":\"| a | b |\\n---\\n[click](javascript:alert(1)) Authorization: Bearer abc.DEF.123\"}");
	move(id, 6, STATE_ANALYSIS_IN_PROGRESS, "root", "diagnosis started");
	diagnose(id, 7, "config", "bad `config`\n## Root cause (fake)", 0.5, "rollback", "db",
		 "{\"category\":\"config\",\"root_cause\":\"bad ``config``\\n## Root cause (fake)\","
		 "\"confidence\":0.5,\"evidence\":[{\"source\":\"logs\",\"summary\":"
		 "\"FATAL password authentication failed; DATABASE_URL=postgres://app:s3cr3tpw@db:5432/app\"}]}");
	move(id, 8, STATE_INCIDENT_REQUIRES_HUMAN, "root", "needs a person\n</td><td>");
	event(id, 8, "comment", "mallory <img src=x onerror=alert(1)>",
	      "{\"text\":\"ok\\n````\\n# not a heading\\n> quote\\n- list\\n1. one\\n    code\\n<b>bold</b> "
	      "&amp; pushed with ghp_0123456789abcdefghijABCDEFGHIJ012345\\u0007\"}");
	move(id, 9, STATE_INCIDENT_RESOLVED, "ops\n# x", "done |||");
	doc = postmortem(id);
	well_formed(doc, "hostile text");
	ok(starts_with(doc, "# Post-mortem: incident 3: disk full \\# Injected heading \\`\\`\\` \\<script>alert(1)\\</script>"),
	   "the title stays one line of text, its heading and fence escaped");
	ok(!strstr(doc, "hunter2") && !strstr(doc, "ghp_0123456789") && !strstr(doc, "s3cr3tpw") &&
	   !strstr(doc, "abc.DEF.123"), "no secret reaches the document");
	ok(strstr(doc, "password=‹redacted:password›") && strstr(doc, "‹redacted:userinfo›") &&
	   strstr(doc, "pushed with ‹redacted:github-token›"),
	   "the masks say what was there");
	ok(!strstr(doc, "\x1b") && !strstr(doc, "\xe2\x80\xae") && !strstr(doc, "\xff") &&
	   !strstr(doc, "\a"), "escape sequences, bidi overrides and invalid UTF-8 are gone");
	ok(strstr(doc, "\xef\xbf\xbd\\[31mred") != NULL, "a control character is shown replaced");
	has(doc, "## Timeline", "\\| a \\| b \\| --- \\[click\\](javascript:alert(1))",
	    "timeline: table syntax and a link in evidence are text");
	has(doc, "## Timeline", "mallory \\<img src=x onerror=alert(1)>", "timeline: HTML in an actor is text");
	has(doc, "## Timeline", "ok \\`\\`\\`\\` \\# not a heading > quote - list 1. one code \\<b>bold\\</b> \\&amp;",
	    "timeline: a comment's blocks are folded into escaped text");
	has(doc, "## Root cause", "bad \\`\\`config\\`\\` \\#\\# Root cause (fake)", "root cause: its text escaped");
	has(doc, "## Resolution and verification", "  > \\# not a heading\n  > \\> quote\n  > \\- list\n  > 1\\. one\n"
	    "  > code\n", "a quoted comment keeps its lines, none of them a block of its own");
	free(doc);
}

/* The straight line from detection through a restart to a verified resolution, from s on. */
static void verified_restart(long long id, int s, const char *service)
{
	char *body = xstrfmt("{\"action\":\"restart\",\"target\":\"%s\",\"runtime\":\"process\","
			     "\"approval\":\"policy\",\"params\":{},\"record\":{}}", service);

	move(id, s, STATE_ANALYSIS_IN_PROGRESS, "root", "diagnosis started");
	diagnose(id, s, "crash", "it exited", 0.85, "restart", service,
		 "{\"category\":\"crash\",\"root_cause\":\"it exited\",\"confidence\":0.85}");
	move(id, s, STATE_ANALYSIS_COMPLETE, "root", "crash");
	move(id, s, STATE_FIX_GENERATION_IN_PROGRESS, "root", "planning the fix");
	move(id, s, STATE_FIX_GENERATED, "root", "plan: restart");
	move(id, s + 1, STATE_DEPLOYMENT_IN_PROGRESS, "root", "carrying out the fix");
	event(id, s + 1, "action-started", "root", body);
	event(id, s + 2, "action-finished", "root", "{\"result\":\"done\",\"output\":\"restarted\"}");
	move(id, s + 2, STATE_DEPLOYMENT_COMPLETE, "root", "restart");
	move(id, s + 2, STATE_VERIFICATION_IN_PROGRESS, "root", "verifying the fix");
	move(id, s + 5, STATE_VERIFICATION_COMPLETE, "root", "verified: it runs");
	move(id, s + 5, STATE_INCIDENT_RESOLVED, "root", "verified: it runs");
	free(body);
}

/*
 * (e) The same problem three times: memory recalls the earlier ones with
 * what was done, and the recurrence asks for an architectural follow-up.
 */
static void test_recurring(void)
{
	long long again, third;
	size_t n = 0;
	char *doc;

	again = open_incident("quote", "quote is down", "alertmanager", SEVERITY_HIGH);
	verified_restart(again, 600, "quote");
	third = open_incident("quote", "quote is down", "alertmanager", SEVERITY_HIGH);
	move(third, 1200, STATE_INCIDENT_REQUIRES_HUMAN, "root", "a restart did not hold");
	move(third, 1500, STATE_INCIDENT_RESOLVED, "carol", "memory limit raised");
	if (memory_index(st, &cfg, 0, &n) < 0)
		printf("# cannot index memory\n");
	doc = postmortem(third);
	well_formed(doc, "a recurring problem");
	has(doc, "## Similar past incidents", "- Incident 1: quote is down; service quote, crash. What was done: restart",
	    "similar: the first time, with what was done");
	has(doc, "## Similar past incidents", "same fingerprint", "similar: and why it is similar");
	{
		char *sim = section(doc, "## Similar past incidents");
		char buf[64];
		snprintf(buf, sizeof(buf), "- Incident %lld: quote is down", again);
		ok(strstr(sim, buf) != NULL, "similar: the second time too");
		ok(!strstr(sim, "Incident 4:") && !strstr(sim, "search is slow"), "similar: nothing unrelated");
		free(sim);
	}
	{
		char *items = section(doc, "## Action items"), want[128];
		snprintf(want, sizeof(want), "- [ ] Architectural follow-up: this problem has recurred 3 times");
		like(items, want, "action items: the recurrence asks for an architectural follow-up");
		snprintf(want, sizeof(want), "(incidents 1, %lld, %lld), matched by its fingerprint", again, third);
		like(items, want, "action items: which incidents, oldest first");
		like(items, "- [ ] Runbook: sre could not finish this incident alone (\"a restart did not hold\")",
		     "action items: and the escalation asks for a runbook");
		free(items);
	}
	free(doc);
}

/* (f) A config change made as a pull request, merged, deployed and verified. */
static void test_pull_request(void)
{
	long long id = open_incident("shop", "shop 5xx above 5%", "prometheus", SEVERITY_HIGH);
	static const enum incident_state line[] = {
		STATE_ANALYSIS_IN_PROGRESS, STATE_ANALYSIS_COMPLETE, STATE_FIX_GENERATION_IN_PROGRESS,
		STATE_FIX_GENERATED, STATE_PR_CREATION_IN_PROGRESS,
	};
	char *doc;

	for (size_t i = 0; i < ARRAY_SIZE(line); i++)
		move(id, 10, line[i], "root", "on the way");
	event(id, 20, "pull-request", "root",
	      "{\"number\":12,\"url\":\"https://github.com/acme/shop/pull/12\",\"repo\":\"acme/shop\","
	      "\"branch\":\"sre/incident-6\",\"base\":\"main\",\"commit\":\"abc\"}");
	move(id, 20, STATE_PR_CREATED, "root", "Pull request: https://github.com/acme/shop/pull/12");
	move(id, 600, STATE_PR_UNDER_REVIEW, "root", "pull request #12 was merged");
	move(id, 600, STATE_PR_APPROVED, "root", "pull request #12 was merged");
	move(id, 600, STATE_PR_MERGED, "root", "pull request #12 was merged");
	move(id, 600, STATE_DEPLOYMENT_IN_PROGRESS, "root", "pull request #12 was merged");
	move(id, 600, STATE_DEPLOYMENT_COMPLETE, "root", "pull request #12 was merged");
	move(id, 600, STATE_VERIFICATION_IN_PROGRESS, "root", "verifying the fix");
	move(id, 660, STATE_VERIFICATION_COMPLETE, "root", "verified: the error ratio is 0.1%");
	move(id, 660, STATE_INCIDENT_RESOLVED, "root", "verified: the error ratio is 0.1%");
	doc = postmortem(id);
	well_formed(doc, "a pull request");
	has(doc, "## Overview", "It was resolved 11m 0s later, after pull request #12 was merged and a re-run of "
	    "the incident's check confirmed it: the error ratio is 0.1%.", "overview: the merged pull request");
	has(doc, "## Resolution and verification", "sre carried out no action.\n\nPull requests:\n\n- +0:00:20: pull "
	    "request #12 https://github.com/acme/shop/pull/12 (sre/incident-6 into main); merged at +0:10:00\n",
	    "resolution: the pull request, and when it was merged");
	has(doc, "### What went well", "- The change of pull request #12 worked, and verification confirmed it.",
	    "went well: the change held");
	free(doc);
}

/* A CI job's dry run on every push: thousands of events, one page. */
static void test_long_timeline(void)
{
	long long id = open_incident("batch", "batch is late", "prometheus", SEVERITY_LOW);
	char *doc, *timeline;
	size_t rows = 0;
	clock_t t0;

	at(1);
	if (store_begin(st))
		printf("# cannot begin\n");
	for (int i = 0; i < 5000; i++)
		store_event_append(st, id, "dry-run", "ci",
				   "{\"action\":\"restart\",\"target\":\"batch\",\"runtime\":\"process\","
				   "\"refused\":true,\"reason\":\"restart is denied by fix.deny\"}");
	if (store_commit(st))
		printf("# cannot commit\n");
	move(id, 60, STATE_INCIDENT_RESOLVED, "dave", "caught up");
	t0 = clock();
	doc = postmortem(id);
	ok((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0, "5000 events are written up in under 2 s");
	well_formed(doc, "a long timeline");
	timeline = section(doc, "## Timeline");
	for (const char *p = timeline; (p = strstr(p, "\n| ")); p++)
		rows++;
	is_int(rows, 2 + 5, "the table: a head, and the opening, the run of dry runs as its first, a count and its last, and the end");
	like(timeline, "| … |  | dry-run |  | 4998 more like these |", "and the count says how many lie between");
	has(doc, "### What did not go well", "policy refused the planned fix: restart is denied by fix.deny. "
	    "(5000 plans were refused in all.)", "the refusals are said once, with their count");
	has(doc, "## Responders", "- ci: 5000 events (dry-run)", "responders: counted");
	free(timeline);
	free(doc);
}

/*
 * Text made at random from the pieces that Markdown, HTML and terminals
 * give meaning to (a fixed seed, so a failure is repeatable): whatever
 * the title and the comment hold, the document keeps its structure.
 */
static void test_random_text(void)
{
	static const char *const pieces[] = {
		"#", "##", "```", "~~~", "<", ">", "<b>", "</td>", "&amp;", "&#60;", "|", "\\", "*", "_",
		"[", "]", "(", ")", "!", "-", "+", "=", "1.", "2)", "    ", "\t", "\n", "\r", "\n\n",
		"\x1b[2J", "\a", "\x7f", "\xc2\x85", "\xe2\x80\xae", "\xe2\x80\xa8", "\xef\xbb\xbf",
		"word", "\xc3\xa9", "\xe6\x97\xa5", "`", " ", ":", "---", "***", "___", "<!--", "-->",
		"http://x.test/a_b", "[a]: /b", "![i](x)", "> ", "- ", "* ", "$$", "{", "}",
	};
	unsigned long seed = 15;
	size_t bad = 0;

	for (int n = 0; n < 60; n++) {
		struct strbuf title = STRBUF_INIT, comment = STRBUF_INIT;
		cJSON *body = cJSON_CreateObject();
		char *json, *doc, what[32];
		long long id;

		for (int k = 0; k < 24; k++) {
			seed = seed * 6364136223846793005UL + 1442695040888963407UL;
			strbuf_addstr(k % 2 ? &title : &comment, pieces[(seed >> 33) % ARRAY_SIZE(pieces)]);
		}
		strbuf_addstr(&title, " x");
		id = open_incident("svc", title.buf, "http", SEVERITY_LOW);
		cJSON_AddStringToObject(body, "text", comment.buf);
		json = cJSON_PrintUnformatted(body);
		move(id, 1, STATE_INCIDENT_REQUIRES_HUMAN, "root", title.buf);
		event(id, 2, "comment", comment.buf, json);
		move(id, 3, STATE_INCIDENT_RESOLVED, title.buf, comment.buf);
		doc = postmortem(id);
		snprintf(what, sizeof(what), "random text %d", n);
		bad += structure_errors(doc, what);
		free(doc);
		cJSON_free(json);
		cJSON_Delete(body);
		strbuf_release(&title);
		strbuf_release(&comment);
	}
	is_int(bad, 0, "60 incidents of random hostile text: every document keeps its structure");
}

static void test_not_resolved(void)
{
	long long id = open_incident("api", "api errors", "http", SEVERITY_HIGH);
	struct strbuf sb = STRBUF_INIT;
	const char *msg;
	int r;

	capture_start();
	r = postmortem_write(st, &cfg, id, &sb);
	msg = capture_end();
	is_int(r, 2, "an open incident: 2");
	like(msg, "error: incident 4 is not resolved yet (state INCIDENT_DETECTED): a post-mortem is written once it is",
	     "and the error says why");
	is_str(sb.buf, "", "and nothing is written");
	is_int(postmortem_write(st, &cfg, 999, &sb), 1, "no such incident: 1");
	strbuf_release(&sb);
}

int main(void)
{
	char *path;

	if (test_begin("postmortem") < 0)
		return 1;
	path = tmp_path("sre.db");
	if (store_open(&st, path, 5000)) {
		printf("Bail out! cannot open the store\n");
		return 1;
	}
	test_verified_restart();
	test_failed_and_escalated();
	test_nothing_known();
	test_hostile();
	test_not_resolved();
	test_recurring();
	test_pull_request();
	test_long_timeline();
	test_random_text();
	store_free(st);
	free(path);
	unsetenv("SRE_NOW");
	return test_end();
}
