/*
 * format.h: how incidents, and what the commands did with them, are
 * written out.
 *
 * One model, two back-ends: incident_to_json() builds the JSON object whose
 * field names are stable (see sre-incident(1)), and the text back-end
 * renders `show` from that very object, so --json and the text can never
 * disagree about what an incident holds. The list table is a view of the
 * same fields.
 */
#ifndef SRE_FORMAT_H
#define SRE_FORMAT_H

#include <cJSON.h>

#include "incident.h"
#include "store.h"

struct diagnose_result;
struct diagnosis;
struct evidence;
struct findings;
struct fix_plan;
struct fix_outcome;
struct scout_report;

/* How a command prints its result: --json, --porcelain, or for a person. */
enum output_format {
	OUTPUT_TEXT,
	OUTPUT_JSON,
	OUTPUT_PORCELAIN,
};

/* The caller owns what these return (cJSON_Delete). */
cJSON *incident_to_json(const struct incident *inc);
/* Adds an "events" array of {at, kind, actor, body} to obj. */
void incident_add_events_json(cJSON *obj, const struct event *ev, size_t nr);

/*
 * The version of the JSON that sre prints. Each object printed (a result,
 * or each object of a list) carries it as its first member, "schema": 1.
 * Adding a member does not change it; renaming or removing one, or
 * changing a member's type or meaning, does, and sre(1) says what changed.
 */
#define SRE_JSON_SCHEMA 1

/*
 * Print a JSON value with a final newline, stamped with "schema" (see
 * above). Indented for a person; one line when json_lines(1) was called.
 * 0 or -1 (printed).
 */
int json_print(FILE *fp, cJSON *value);

/*
 * A command that prints several results (diagnose 1 2, scout --watch)
 * calls json_lines(1) before the first: each result is then one line
 * (JSON Lines), so any JSON reader takes them one at a time, as two
 * indented objects back to back are not.
 */
void json_lines(int on);

/*
 * Adds a "totals" object to an incident object that has its events: the
 * seconds to detect (from when the source says the problem began to
 * opened_at), to diagnose (to the first diagnosis) and to resolve (to
 * resolved_at), each null when not known.
 */
void incident_add_totals_json(cJSON *obj);

/*
 * How the list table is drawn. width: the terminal's columns, the titles
 * cut with an ellipsis to fit (0: whole, as in a pipe). wide (-o wide):
 * also when it was updated, its source, its tracker key and who wrote its
 * last event (actors[i] for list[i], or NULL).
 */
struct incident_list_view {
	int wide;
	int width;
	const char *const *actors;
};

/*
 * The columns a table on fd may fill: 0 when fd is no terminal (a pipe
 * gets whole lines), else COLUMNS when set, else the terminal's width.
 */
int terminal_columns(int fd);

/*
 * Text another party wrote (a model, a log, a remote system) for a
 * terminal: C0 and C1 controls (U+0080..U+009F, which xterm reads as CSI
 * and OSC) as '?'; newlines and tabs kept when lines, else each a space.
 */
void format_put_clean(FILE *fp, const char *s, size_t len, int lines);
/* Who wrote each incident's last event, for -o wide: free each, then the array. */
char **incident_last_actors(struct store *st, const struct incident *list, size_t nr);
/*
 * The last event of incident id as one JSON object, in the shape of
 * show's events (at, kind, actor, body) plus "incident": what transition
 * and comment print for --json. 0, or -1 after an error.
 */
int incident_last_event_print(FILE *fp, struct store *st, long long id);

/*
 * The text back-ends. color: whether to use ANSI colours. `show` prints
 * the last diagnosis first, then every field, then the timeline with
 * offsets from its first event, then the totals (if added).
 */
void incident_print_text(FILE *fp, const cJSON *incident, int color);
void incident_list_print_text(FILE *fp, const struct incident *list, size_t nr,
			      const struct incident_list_view *view, int color, time_t now);

/* One line that says what an event did, for the timeline. Caller frees. */
char *event_summary(const char *kind, const cJSON *body);

/*
 * One printer per result, as notmuch's sprinter: each result struct of an
 * engine is printed by one function, as text or (json set) as JSON, so
 * the two cannot drift apart. Each writes the whole result to fp.
 */

/* A fix's plan (lib/fix-engine.h): `sre fix --dry-run`, and the prompt before approval. */
void fix_plan_print(FILE *fp, const struct fix_plan *p, int json);
/*
 * What fix_incident() did: the plan of a dry run; else, as text, the
 * lines of what was done ("restart of web: done", "incident 4: pull
 * request #7 opened: <url>", "4 PR_CREATED #7 <url>", "incident 4 is
 * resolved: <what the check saw>"), or one JSON object. Nothing when the
 * engine never got to the incident.
 */
void fix_outcome_print(FILE *fp, const struct fix_outcome *o, int json);
/* The JSON of fix_outcome_print() (caller deletes). */
cJSON *fix_outcome_json(const struct fix_outcome *o);

/*
 * A diagnosis (lib/diagnose.h): as text, the answer, its evidence, the
 * critical path of the slowest trace (as wide as the terminal), the other
 * findings, past incidents and the sources not read; as JSON, the object
 * of diagnosis_to_json(). color: ANSI bold for the headings and spans.
 */
void diagnose_result_print(FILE *fp, const struct diagnose_result *res, int json, int color);
/* The memory of a live diagnosis: "known_error", "similar" and "memory" (the note). */
void diagnose_memory_add_json(cJSON *j, const struct diagnose_result *res);

/*
 * `sre doctor`'s report (lib/doctor.h): as text, a table (source, status,
 * latency, version, detail) and then, for each source not configured, the
 * lines that add it; as JSON, {"sources": [{name, status, latency_ms,
 * version, detail, config}], "broken": n}. color: broken in red, ok green.
 */
struct doctor_report;
void doctor_report_print(FILE *fp, const struct doctor_report *r, int json, int color);
/*
 * The JSON of a diagnosis, as printed and as the diagnoses table keeps it:
 * incident (or null), service, problem (or null), the answer's fields,
 * findings, critical_path, past_incidents, sources. Caller deletes.
 */
/*
 * A diagnosis's whole JSON, as --json prints it and the diagnoses table
 * keeps it: diagnosis_to_json() and "log_templates", [{template, count,
 * new}] (the new first, then the most lines; at most DIAGNOSE_TEMPLATES_MAX).
 */
cJSON *diagnose_result_json(const struct diagnose_result *res);
cJSON *diagnosis_to_json(const struct diagnosis *d, const struct evidence *ev,
			 long long id, const char *problem);

/*
 * A pass of `sre scout` (lib/scout.h): as text, one line per incident
 * change ("opened 4 web: ..."; an incident that is no longer reported is
 * read from st for its service and title); as JSON, every finding with its
 * incident and whether it changed (scout_findings_json()); as porcelain,
 * the id of each incident opened or updated, one a line, for `sre
 * diagnose` to read. An update that is no news (scout_change.unchanged)
 * is left out of the text unless verbose.
 */
void scout_report_print(FILE *fp, const struct findings *fs, const struct scout_report *rep,
			struct store *st, enum output_format format, int verbose);
cJSON *scout_findings_json(const struct findings *fs, const struct scout_report *rep);

/*
 * `sre incident list`: the table (incident_list_print_text()), a JSON
 * array of incident_to_json() objects, or the ids one a line.
 */
void incident_list_print(FILE *fp, const struct incident *list, size_t nr,
			 enum output_format format, const struct incident_list_view *view,
			 int color, time_t now);

/*
 * The outbox as `sre sync --status` shows it: one JSON object per write
 * (id, incident, target, operation, status, attempts, error, created_at),
 * printed as a JSON array, or as a table rendered from the same objects.
 * Delivered writes only with all. Returns how many were shown.
 */
struct outbox_item;
size_t outbox_list_print(FILE *fp, const struct outbox_item *items, size_t nr, int all, int json);


/*
 * What sre remember recalls (lib/memory.h). Hits: a JSON array of
 * memory_hit_json() objects, or a paragraph each: the incident, what was
 * done and whether it worked, and why it matched. Known errors and
 * chronic problems: a JSON array, or a line each with what follows.
 */
struct memory_hit;
struct known_error;
struct chronic;
cJSON *memory_hit_json(const struct memory_hit *h);
void memory_hits_print(FILE *fp, const struct memory_hit *hits, size_t nr, int json, int color);
cJSON *known_error_json(const struct known_error *k);
void known_errors_print(FILE *fp, const struct known_error *k, size_t nr, int json);
void chronic_print(FILE *fp, const struct chronic *c, size_t nr, int json);

/*
 * `sre remember templates`: the templates of a miner (lib/logtemplate.h),
 * most lines first, at most max of them (0: all). As text, "count
 * template" aligned, each with "e.g. <example>" under it; as JSON, an
 * array of {template, count, example}. Returns how many were shown.
 */
struct logtemplate_miner;
size_t logtemplates_print(FILE *fp, const struct logtemplate_miner *m, size_t max, int json);

#endif
