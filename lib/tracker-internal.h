/*
 * tracker-internal.h: what the tracker backends share, as git's
 * refs-internal.h is for the refs backends. Only lib/tracker.c (the
 * dispatcher), the backends (lib/tracker-github.c, lib/tracker-jira.c)
 * and their tests include it; mirror.c and cmd/ see tracker.h alone.
 *
 * The layering, so that no two files call each other:
 *   tracker.c          tracker_open(), tracker_self(): calls the backends
 *   tracker-<kind>.c   the backends: call tracker-common.c, never tracker.c
 *   tracker-common.c   defines what is declared here (and the remote_*
 *                      releases of tracker.h); calls no tracker file
 * tracker-github.c talks to GitHub through lib/github-api.c, the client
 * it shares with the pull requests of lib/pulls.c.
 */
#ifndef SRE_TRACKER_INTERNAL_H
#define SRE_TRACKER_INTERNAL_H

#include "tracker.h"

/* The backends' constructors, called by tracker_open() only. */
int github_open(struct tracker *t);
int jira_open(struct tracker *t);

/*
 * Shared by the clients: the fenced block that carries a comment's record.
 * record_format() appends "\n\n```json sre-record\n<json>\n```\n" to sb;
 * record_parse() splits a comment's text into prose and record (NULL when
 * it has none; the caller owns both).
 */
void record_format(struct strbuf *sb, const cJSON *record);
int record_parse(const char *text, char **prose, cJSON **record);

/*
 * The record of an incident's issue, written into its description by
 * both backends: {"sre":1, "kind":"incident", id, fingerprint, service,
 * title, severity, source, state, opened_at}, null for what is unknown.
 * It keeps the whole title and fingerprint that a tracker's fields may
 * shorten. Caller deletes it.
 */
cJSON *tracker_incident_record(const struct incident *inc);

/* The short hash of a fingerprint used in labels: 12 hex digits. */
void fingerprint_short(char out[13], const char *fingerprint);

/*
 * Text from outside (an architecture brief built from tickets and logs)
 * made fit for a tracker's field: control characters (C0 but newline and
 * tab, DEL, C1) and bytes that are not UTF-8 become '?', so the request
 * stays valid JSON and no escape sequence reaches the tracker's pages;
 * with one_line, newlines, tabs and carriage returns become blanks and
 * the blanks at either end go (a title). Then cut to max_chars characters as utf8_shorten() cuts.
 * Caller frees.
 */
char *tracker_text_clean(const char *s, size_t max_chars, int one_line);

/*
 * text appended to out with a zero-width space after every '@' that
 * starts a word and is followed by a letter or digit: outside text (a
 * reason a person typed, a log line) quoted in a GitHub comment notifies
 * nobody, and no backslash would stop GitHub's mentions. It reads the same.
 */
void tracker_quiet_mentions(struct strbuf *out, const char *text);

/* Whether s holds 1 to max bytes, each of them in set (a name for a URL or JQL). */
int tracker_name_valid(const char *s, const char *set, size_t max);

/*
 * Turn a finished HTTP exchange with the tracker (JIRA: GitHub's answers
 * are checked by lib/github-api.c) into a TRACKER_* code and, when it is not
 * TRACKER_OK, a one-line message in t->error: "<tracker>: <what>: <status>
 * <the tracker's message>". what names the request ("creating issue").
 * ok_status lists the statuses that mean success, ended by 0.
 */
int tracker_check(struct tracker *t, const char *what, const struct http_response *res,
		  const long *ok_status);

#endif
