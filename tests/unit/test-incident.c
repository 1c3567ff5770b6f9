/*
 * test-incident.c: unit tests of lib/incident.c, printing TAP.
 *
 * The transition graph is checked against a table written here from the
 * description in incident.h, edge by edge and then over all 16x16 pairs,
 * so a change to either the code or the documented graph shows up.
 * Messages from error() are captured through a temporary file on fd 2.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/incident.h"
#include "../../lib/strbuf.h"
#include "test-lib.h"

static const char *name(enum incident_state s)
{
	return incident_state_name(s);
}

/* The graph, as incident.h describes it. */
static int expected[STATE__COUNT][STATE__COUNT];

static void build_expected(void)
{
	/* The straight line, INCIDENT_DETECTED ... INCIDENT_RESOLVED. */
	for (int s = STATE_INCIDENT_DETECTED; s < STATE_INCIDENT_RESOLVED; s++)
		expected[s][s + 1] = 1;
	/* A direct action needs no pull request. */
	expected[STATE_FIX_GENERATED][STATE_DEPLOYMENT_IN_PROGRESS] = 1;
	/* Escalation from every open state but the escalated one itself. */
	for (int s = 0; s < STATE__COUNT; s++)
		if (s != STATE_INCIDENT_RESOLVED && s != STATE_INCIDENT_REQUIRES_HUMAN)
			expected[s][STATE_INCIDENT_REQUIRES_HUMAN] = 1;
	/* A person hands it back or resolves it. */
	expected[STATE_INCIDENT_REQUIRES_HUMAN][STATE_INCIDENT_DETECTED] = 1;
	expected[STATE_INCIDENT_REQUIRES_HUMAN][STATE_ANALYSIS_COMPLETE] = 1;
	expected[STATE_INCIDENT_REQUIRES_HUMAN][STATE_INCIDENT_RESOLVED] = 1;
	/* A problem that went away before any fix was started. */
	expected[STATE_INCIDENT_DETECTED][STATE_INCIDENT_RESOLVED] = 1;
	expected[STATE_ANALYSIS_IN_PROGRESS][STATE_INCIDENT_RESOLVED] = 1;
	expected[STATE_ANALYSIS_COMPLETE][STATE_INCIDENT_RESOLVED] = 1;
}

static void test_transitions(void)
{
	int nr_allowed = 0, mismatches = 0, any;

	build_expected();
	ok(STATE__COUNT == 16, "there are 16 states");

	for (int from = 0; from < STATE__COUNT; from++)
		for (int to = 0; to < STATE__COUNT; to++)
			if (expected[from][to])
				ok(incident_transition_allowed(from, to),
				   "%s -> %s is allowed", name(from), name(to));

	for (int from = 0; from < STATE__COUNT; from++)
		for (int to = 0; to < STATE__COUNT; to++) {
			int got = !!incident_transition_allowed(from, to);

			nr_allowed += got;
			if (got != expected[from][to]) {
				mismatches++;
				printf("# %s -> %s: allowed %d, expected %d\n",
				       name(from), name(to), got, expected[from][to]);
			}
		}
	is_int(mismatches, 0, "of all 16x16 pairs, exactly the documented edges are allowed");
	is_int(nr_allowed, 14 + 1 + 14 + 3 + 3,
	       "35 pairs are allowed: 14 line edges, 1 direct action, 14 escalations, 3 hand-backs, "
	       "3 recoveries");

	ok(!incident_transition_allowed(STATE_INCIDENT_DETECTED, STATE_PR_MERGED),
	   "INCIDENT_DETECTED -> PR_MERGED is refused (no jumping ahead)");
	ok(!incident_transition_allowed(STATE_INCIDENT_DETECTED, STATE_ANALYSIS_COMPLETE),
	   "INCIDENT_DETECTED -> ANALYSIS_COMPLETE is refused (skipping a state)");
	ok(!incident_transition_allowed(STATE_PR_CREATED, STATE_FIX_GENERATED),
	   "PR_CREATED -> FIX_GENERATED is refused (no going back)");
	ok(!incident_transition_allowed(STATE_FIX_GENERATED, STATE_DEPLOYMENT_COMPLETE),
	   "FIX_GENERATED -> DEPLOYMENT_COMPLETE is refused (the direct action still deploys)");
	ok(!incident_transition_allowed(STATE_ANALYSIS_COMPLETE, STATE_ANALYSIS_COMPLETE),
	   "a state does not lead to itself");
	ok(!incident_transition_allowed(STATE_INCIDENT_REQUIRES_HUMAN, STATE_INCIDENT_REQUIRES_HUMAN),
	   "INCIDENT_REQUIRES_HUMAN -> INCIDENT_REQUIRES_HUMAN is refused");
	ok(!incident_transition_allowed(STATE_INCIDENT_REQUIRES_HUMAN, STATE_PR_MERGED),
	   "INCIDENT_REQUIRES_HUMAN -> PR_MERGED is refused (only hand-back or resolve)");
	any = 0;
	for (int to = 0; to < STATE__COUNT; to++)
		any |= incident_transition_allowed(STATE_INCIDENT_RESOLVED, to);
	ok(!any, "INCIDENT_RESOLVED leads nowhere, not even to INCIDENT_REQUIRES_HUMAN");
	ok(!incident_transition_allowed(STATE__COUNT, STATE_INCIDENT_DETECTED) &&
	   !incident_transition_allowed(STATE_INCIDENT_DETECTED, STATE__COUNT) &&
	   !incident_transition_allowed((enum incident_state)-1, STATE_INCIDENT_DETECTED),
	   "a state number out of range is never allowed");

	any = 0;
	for (int s = 0; s < STATE__COUNT; s++)
		any += incident_state_is_open(s) != (s != STATE_INCIDENT_RESOLVED);
	is_int(any, 0, "every state but INCIDENT_RESOLVED is open");
}

static void test_names(void)
{
	enum incident_state s = STATE_INCIDENT_DETECTED;
	enum incident_severity v = SEVERITY_LOW;
	int bad = 0;

	is_str(incident_state_name(STATE_PR_MERGED), "PR_MERGED", "a state's name is its JSM name");
	is_str(incident_state_name(STATE_INCIDENT_REQUIRES_HUMAN), "INCIDENT_REQUIRES_HUMAN",
	       "the last state has its name");
	is_str(incident_state_name(STATE__COUNT), "UNKNOWN", "a state out of range is named UNKNOWN");

	for (int i = 0; i < STATE__COUNT; i++) {
		enum incident_state got = STATE__COUNT;
		if (incident_state_parse(incident_state_name(i), &got) < 0 || (int)got != i)
			bad++;
	}
	is_int(bad, 0, "every state's name parses back to that state");

	ok(!incident_state_parse("pr_merged", &s) && s == STATE_PR_MERGED,
	   "state names parse in lower case");
	ok(!incident_state_parse("Incident_Resolved", &s) && s == STATE_INCIDENT_RESOLVED,
	   "state names parse in mixed case");
	s = STATE_ANALYSIS_COMPLETE;
	ok(incident_state_parse("PR_MERGE", &s) < 0 && s == STATE_ANALYSIS_COMPLETE,
	   "an unknown state name is rejected and leaves the output alone");
	ok(incident_state_parse("", &s) < 0, "an empty state name is rejected");
	ok(incident_state_parse("PR_MERGED ", &s) < 0, "a state name with a trailing blank is rejected");

	ok(!incident_state_parse("resolved", &s) && s == STATE_INCIDENT_RESOLVED,
	   "a short name without INCIDENT_ parses");
	ok(!incident_state_parse("analysis-complete", &s) && s == STATE_ANALYSIS_COMPLETE,
	   "'-' stands for '_'");
	ok(!incident_state_parse("Requires-Human", &s) && s == STATE_INCIDENT_REQUIRES_HUMAN,
	   "a short name parses in any case");
	ok(incident_state_parse("merged", &s) < 0, "only INCIDENT_ may be left out");
	ok(incident_state_parse("incident-", &s) < 0, "a prefix alone is no state");
	{
		char *n = incident_state_short_name(STATE_ANALYSIS_IN_PROGRESS);
		is_str(n, "analysis-in-progress", "the short name is lower case with '-'");
		free(n);
		n = incident_state_short_name(STATE_INCIDENT_RESOLVED);
		is_str(n, "resolved", "the short name drops INCIDENT_");
		free(n);
	}
	is_int(incident_state_suggest("resovled"), STATE_INCIDENT_RESOLVED, "a typo suggests the state");
	is_int(incident_state_suggest("ANALYSIS_COMPLETED"), STATE_ANALYSIS_COMPLETE,
	       "a typo of the full name suggests the state");
	is_int(incident_state_suggest("verif"), STATE_VERIFICATION_IN_PROGRESS,
	       "a beginning suggests the first state it begins");
	is_int(incident_state_suggest("FIXED"), -1, "a word that is no typo suggests nothing");
	is_int(incident_state_suggest("x"), -1, "one letter suggests nothing");
	{
		const struct incident_shortcut *sc;
		int found = 0;
		for (sc = incident_shortcuts; sc->verb; sc++)
			found += (!strcmp(sc->verb, "ack") && sc->to == STATE_ANALYSIS_IN_PROGRESS) +
				 (!strcmp(sc->verb, "resolve") && sc->to == STATE_INCIDENT_RESOLVED) +
				 (!strcmp(sc->verb, "close") && sc->to == STATE_INCIDENT_RESOLVED);
		is_int(found, 3, "ack, resolve and close move to their states");
	}

	is_str(incident_severity_name(SEVERITY_CRITICAL), "critical", "severity names are lower case");
	is_str(incident_severity_name(SEVERITY__COUNT), "unknown", "a severity out of range is unknown");
	ok(!incident_severity_parse("CRITICAL", &v) && v == SEVERITY_CRITICAL,
	   "severity CRITICAL parses (case-insensitive)");
	ok(!incident_severity_parse("High", &v) && v == SEVERITY_HIGH, "severity High parses");
	ok(!incident_severity_parse("medium", &v) && v == SEVERITY_MEDIUM, "severity medium parses");
	ok(!incident_severity_parse("low", &v) && v == SEVERITY_LOW, "severity low parses");
	ok(incident_severity_parse("urgent", &v) < 0 && v == SEVERITY_LOW,
	   "an unknown severity is rejected");
	ok(incident_severity_parse("", &v) < 0, "an empty severity is rejected");
}

static void test_fingerprint(void)
{
	char *a = incident_default_fingerprint("manual", "api", "Disk full");
	char *b = incident_default_fingerprint("manual", "api", "  disk   FULL\t\n");
	char *c = incident_default_fingerprint("manual", "api", "disk\tfull");
	char *d = incident_default_fingerprint("manual", "db", "Disk full");
	char *e = incident_default_fingerprint("alert", "api", "Disk full");
	char *f = incident_default_fingerprint("manual", "api", "Diskfull");
	char *g = incident_default_fingerprint("manual", "api", "Disk full");

	/* FNV-1a 64 of "disk full": stores written by earlier builds hold it. */
	is_str(a, "manual/api/46ab161881a7d411",
	       "the fingerprint is source/service/FNV-1a of the folded title, stable across builds");
	is_str(g, a, "the same incident gives the same fingerprint twice");
	is_str(b, a, "case and runs of blanks (and blanks at the ends) are folded");
	is_str(c, a, "a tab counts as a blank");
	ok(strcmp(d, a), "a different service gives a different fingerprint");
	ok(strcmp(e, a), "a different source gives a different fingerprint");
	ok(strcmp(f, a), "blanks are folded, not removed: 'Diskfull' is another problem");
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
	free(f);
	free(g);
}

static void test_check_text(void)
{
	const char *msg;

	capture_start();
	is_int(incident_check_text("title", "", 100, 0), -1, "an empty title is rejected");
	msg = capture_end();
	like(msg, "title is empty", "the message names the field");

	capture_start();
	is_int(incident_check_text("title", "abcdef", 5, 0), -1,
	       "a title one byte over the limit is rejected");
	msg = capture_end();
	like(msg, "title is 6 bytes long; the most is 5", "the message names the field, its length and the limit");
	is_int(incident_check_text("title", "abcde", 5, 0), 0, "a title of exactly the limit is accepted");

	capture_start();
	is_int(incident_check_text("title", "a\x01z", 100, 0), -1, "a control character is rejected");
	is_int(incident_check_text("title", "a\x7fz", 100, 0), -1, "DEL is rejected");
	is_int(incident_check_text("title", "line\x1b[31m", 100, 1), -1,
	       "an escape sequence is rejected even in multi-line text");
	is_int(incident_check_text("title", "two\nlines", 100, 0), -1,
	       "a newline is rejected in a one-line field");
	is_int(incident_check_text("title", "a\tb", 100, 0), -1, "a tab is rejected in a one-line field");
	msg = capture_end();
	like(msg, "title contains a control character", "the message names the field and says why");

	is_int(incident_check_text("description", "two\nlines\tand a tab", 100, 1), 0,
	       "newline and tab are accepted in a multi-line field");
	is_int(incident_check_text("title", "caf\xc3\xa9", 100, 0), 0, "valid UTF-8 (caf\\xc3\\xa9) is accepted");
	is_int(incident_check_text("title", "\xe2\x82\xac 5 \xf0\x9f\x94\xa5", 100, 0), 0,
	       "three- and four-byte UTF-8 sequences are accepted");

	capture_start();
	is_int(incident_check_text("title", "\xc3\x28", 100, 0), -1,
	       "invalid UTF-8 (\\xc3\\x28) is rejected");
	is_int(incident_check_text("title", "caf\xc3", 100, 0), -1,
	       "a sequence cut off at the end is rejected");
	is_int(incident_check_text("title", "\x80z", 100, 0), -1, "a lone continuation byte is rejected");
	is_int(incident_check_text("title", "\xc0\xaf", 100, 0), -1, "an overlong two-byte '/' is rejected");
	is_int(incident_check_text("title", "\xf5\x80\x80\x80", 100, 0), -1, "a lead byte above 0xf4 is rejected");
	msg = capture_end();
	like(msg, "title is not valid UTF-8", "the message says the field is not UTF-8");

	capture_start();
	is_int(incident_check_text("title", "\xe0\x80\xaf", 100, 0), -1,
	       "an overlong three-byte '/' is rejected");
	is_int(incident_check_text("title", "\xed\xa0\x80", 100, 0), -1,
	       "a UTF-16 surrogate (U+D800) is rejected");
	is_int(incident_check_text("title", "\xf4\x90\x80\x80", 100, 0), -1,
	       "a code point above U+10FFFF is rejected");
	is_int(incident_check_text("title", "\xf0\x80\x80\xaf", 100, 0), -1,
	       "an overlong four-byte '/' is rejected");
	capture_end();
}

int main(void)
{
	if (test_begin("incident") < 0)
		return 1;
	test_transitions();
	test_names();
	test_fingerprint();
	test_check_text();
	return test_end();
}
