/*
 * incident.c: `sre incident`, the plumbing over the store: open, list,
 * show, transition and comment, and the shortcuts ack, resolve and close
 * (transitions to one state each, lib/incident.h). The loop's commands
 * (scout, diagnose, fix) do the same through lib/; this is how a person
 * or a script does it. Every command that prints a result has --json (one
 * object); every command given an id that is not in the store exits 1.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "builtin.h"
#include "../lib/format.h"
#include "../lib/mirror.h"
#include "../lib/strbuf.h"
#include "../lib/timeutil.h"

#define MAX_SERVICE 200
#define MAX_TITLE 1000
#define MAX_FINGERPRINT 500
#define MAX_SOURCE 100
#define MAX_REASON 4000
#define MAX_COMMENT (64 << 10)

static const char *const open_usage[] = {
	"sre incident open --service <service> --title <title> [--severity <severity>] [--fingerprint <fingerprint>] [--source <source>] [--json]",
	NULL,
};
static const char *const list_usage[] = {
	"sre incident list [--state <state>]... [--service <service>] [--all] [-o wide] [--json | --porcelain | --watch [-n <seconds>] [--count <n>]]",
	NULL,
};
static const char *const show_usage[] = {
	"sre incident show [--json] <id>",
	NULL,
};
static const char *const transition_usage[] = {
	"sre incident transition [--reason <reason>] [--from <state>] [--json] <id> <state>",
	NULL,
};
static const char *const comment_usage[] = {
	"sre incident comment [--json] <id> (<text> | -)",
	NULL,
};
static const char *const ack_usage[] = {
	"sre incident ack [--reason <reason>] [--json] <id>", NULL,
};
static const char *const resolve_usage[] = {
	"sre incident resolve [--reason <reason>] [--json] <id>", NULL,
};
static const char *const close_usage[] = {
	"sre incident close [--reason <reason>] [--json] <id>", NULL,
};

/* An incident id: a positive whole number, or a usage error. */
static long long parse_id(const char *arg, const char *const *usage,
			  const struct option *opts)
{
	long long id;

	if (parse_ll(arg, &id) < 0 || id <= 0)
		usage_error(usage, opts, "'%s' is not an incident id (a positive number)", arg);
	return id;
}

static enum incident_state parse_state(const char *arg, const char *const *usage,
				       const struct option *opts)
{
	enum incident_state s;
	int near;

	if (!incident_state_parse(arg, &s))
		return s;
	near = incident_state_suggest(arg);
	if (near >= 0) {
		char *short_name = incident_state_short_name((enum incident_state)near);
		error("'%s' is not an incident state; did you mean %s (%s)?", arg, short_name,
		      incident_state_name((enum incident_state)near));
		free(short_name);
		exit(EXIT_USAGE);
	}
	/* The list, one a line after a tab, is what the completion scripts read. */
	fprintf(stderr, "error: '%s' is not an incident state; the states are:\n", arg);
	for (int i = 0; i < STATE__COUNT; i++)
		fprintf(stderr, "\t%s\n", incident_state_name((enum incident_state)i));
	usage_exit(usage, opts);
}

static int no_such_incident(long long id)
{
	error("no incident %lld", id);
	return EXIT_FOUND;
}

static int incident_open(int argc, const char **argv)
{
	const char *service = NULL, *title = NULL, *severity = "medium";
	const char *fingerprint = NULL, *source = NULL;
	struct incident_new in = { 0 };
	struct tracker *t;
	struct store *st;
	long long id;
	int created, ret, json = 0;
	const struct option opts[] = {
		OPT_STRING('s', "service", &service, "service", "the service that is failing"),
		OPT_STRING('t', "title", &title, "title", "what is wrong, in one line"),
		OPT_STRING(0, "severity", &severity, "severity", "critical, high, medium (default) or low"),
		OPT_STRING(0, "fingerprint", &fingerprint, "fingerprint",
			   "the identity of the problem (default: from source, service and title)"),
		OPT_STRING(0, "source", &source, "source", "what detected it (default: manual)"),
		OPT_BOOL(0, "json", &json, "print the incident as a JSON object, not its id"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, open_usage, 0);
	if (argc)
		usage_error(open_usage, opts, "unexpected argument '%s'", argv[0]);
	if (!service || !title)
		usage_error(open_usage, opts, "--service and --title are required");
	if (incident_severity_parse(severity, &in.severity) < 0)
		usage_error(open_usage, opts,
			    "'%s' is not a severity: use critical, high, medium or low", severity);
	if (incident_check_text("the service", service, MAX_SERVICE, 0) < 0 ||
	    incident_check_text("the title", title, MAX_TITLE, 0) < 0 ||
	    (fingerprint && incident_check_text("the fingerprint", fingerprint, MAX_FINGERPRINT, 0) < 0) ||
	    (source && incident_check_text("the source", source, MAX_SOURCE, 0) < 0))
		return EXIT_USAGE;
	in.service = service;
	in.title = title;
	in.fingerprint = fingerprint;
	in.source = source;
	in.actor = sre_actor();
	t = sre_tracker();
	st = sre_store();
	if (mirror_incident_open(st, t, &the_sre.cfg, &in, &id, &created) < 0)
		return EXIT_FATAL;
	if (!created)
		fprintf(stderr, "sre: incident %lld is already open for this problem; "
			"counted one more occurrence\n", id);
	if (!json)
		printf("%lld\n", id);
	fflush(stdout);
	ret = sre_deliver();
	if ((created && t) || json) {
		struct incident inc;
		if (store_incident_get(st, id, &inc) == 0) {
			if (created && t && inc.remote_url)
				fprintf(stderr, "sre: incident %lld is %s %s\n", id, t->ops->name,
					inc.remote_url);
			if (json) {
				/* show's object, after delivery (remote_key is known), and whether it is new. */
				cJSON *obj = incident_to_json(&inc);
				cJSON_AddBoolToObject(obj, "created", created);
				json_print(stdout, obj);
				cJSON_Delete(obj);
			}
		}
		incident_release(&inc);
	}
	return ret;
}

/* One listing of what f and the states (a bit per state, 0: any) select. */
static int list_once(const struct incident_filter *f, unsigned states, enum output_format format,
		     int wide, int all)
{
	struct store *st = sre_store_if_exists();
	struct incident_list_view view = { wide, format == OUTPUT_TEXT ? terminal_columns(1) : 0, NULL };
	struct incident *list = NULL;
	char **actors = NULL;
	size_t nr = 0, kept = 0;

	if (st && store_incident_list(st, f, &list, &nr) < 0)
		return EXIT_FATAL;
	for (size_t i = 0; i < nr; i++) {
		if (states && !(states & (1u << list[i].state))) {
			incident_release(&list[i]);
			continue;
		}
		list[kept++] = list[i];
	}
	if (wide && format == OUTPUT_TEXT)
		view.actors = (const char *const *)(actors = incident_last_actors(st, list, kept));
	incident_list_print(stdout, list, kept, format, &view, the_sre.color, sre_now());
	if (format == OUTPUT_TEXT && !kept && isatty(1))
		fprintf(stderr, "No %sincidents.\n", all || states ? "" : "open ");
	for (size_t i = 0; actors && i < kept; i++)
		free(actors[i]);
	free(actors);
	incident_list_free(list, kept);
	return 0;
}

static int incident_list(int argc, const char **argv)
{
	const char *service = NULL, *output = NULL;
	struct strvec states = STRVEC_INIT;
	int all = 0, json = 0, porcelain = 0, watch = 0, ret;
	long long interval = 2, count = 0;
	struct incident_filter f = { 0 };
	enum output_format format;
	unsigned mask = 0;
	const struct option opts[] = {
		OPT_STRING_LIST(0, "state", &states, "state",
				"only incidents in this state (again: in any of them)"),
		OPT_STRING(0, "service", &service, "service", "only incidents of this service"),
		OPT_BOOL('a', "all", &all, "include resolved incidents"),
		OPT_STRING('o', "output", &output, "format", "wide: also updated, source, tracker, last by"),
		OPT_BOOL(0, "json", &json, "print a JSON array"),
		OPT_BOOL(0, "porcelain", &porcelain, "print the ids, one per line, for scripts"),
		OPT_BOOL('w', "watch", &watch, "redraw the table until Ctrl-C (on a terminal)"),
		OPT_INTEGER('n', "interval", &interval, "seconds", "with --watch: redraw every so often (default 2)"),
		OPT_INTEGER(0, "count", &count, "n", "with --watch: stop after n drawings"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, list_usage, 0);
	if (argc)
		usage_error(list_usage, opts, "unexpected argument '%s'", argv[0]);
	if (json + porcelain + watch > 1)
		usage_error(list_usage, opts, "--json, --porcelain and --watch go one at a time");
	if (output && strcmp(output, "wide"))
		usage_error(list_usage, opts, "-o takes 'wide', not '%s'", output);
	if (watch && !isatty(1))
		usage_error(list_usage, opts, "--watch redraws a terminal; in a pipe, run the list from a loop");
	if (!watch && (interval != 2 || count))
		usage_error(list_usage, opts, "--interval and --count go with --watch");
	if (interval < 1 || interval > 86400 || count < 0)
		usage_error(list_usage, opts, "--interval takes 1 to 86400 seconds, --count a number from 0");
	for (size_t i = 0; i < states.nr; i++)
		mask |= 1u << parse_state(states.v[i], list_usage, opts);
	strvec_clear(&states);
	/* Asking for a state is asking for it, resolved or not. */
	f.all = all || mask;
	f.state = -1;
	f.service = service;
	format = json ? OUTPUT_JSON : porcelain ? OUTPUT_PORCELAIN : OUTPUT_TEXT;
	if (!watch)
		return list_once(&f, mask, format, !!output, all);
	for (long long n = 1;; n++) {
		char now[32];
		format_iso8601(now, sizeof(now), sre_now());
		/* Home, clear: the table drawn afresh where it was. */
		printf("\033[H\033[2JEvery %llds: sre incident list    %s\n\n", interval, now);
		ret = list_once(&f, mask, format, !!output, all);
		fflush(stdout);
		if (ret || (count && n >= count))
			return ret;
		sleep_ms(interval * 1000);
	}
}

static int incident_show(int argc, const char **argv)
{
	int json = 0, r;
	struct store *st;
	struct incident inc;
	struct event *events;
	size_t nr;
	long long id;
	cJSON *obj;
	const struct option opts[] = {
		OPT_BOOL(0, "json", &json, "print a JSON object"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, show_usage, 0);
	if (argc != 1)
		usage_error(show_usage, opts, "'sre incident show' takes one incident id");
	id = parse_id(argv[0], show_usage, opts);
	st = sre_store_if_exists();
	if (!st)
		return no_such_incident(id);
	r = store_incident_get(st, id, &inc);
	if (r < 0)
		return EXIT_FATAL;
	if (r > 0)
		return no_such_incident(id);
	if (store_event_list(st, id, &events, &nr) < 0) {
		incident_release(&inc);
		return EXIT_FATAL;
	}
	obj = incident_to_json(&inc);
	incident_add_events_json(obj, events, nr);
	incident_add_totals_json(obj);
	if (json)
		json_print(stdout, obj);
	else
		incident_print_text(stdout, obj, the_sre.color);
	cJSON_Delete(obj);
	event_list_free(events, nr);
	incident_release(&inc);
	return 0;
}

/* Move incident id to state to, as `transition` and its shortcuts do. */
static int move(long long id, enum incident_state to, int expected, const char *reason, int json)
{
	enum incident_state from_state, remote = STATE_INCIDENT_DETECTED;
	struct incident inc;
	struct tracker *t;
	struct store *st;
	int r;

	if (!sre_store_if_exists())
		return no_such_incident(id);
	st = sre_store();
	r = store_incident_get(st, id, &inc);
	if (r)
		return r > 0 ? no_such_incident(id) : EXIT_FATAL;
	from_state = inc.state;
	incident_release(&inc);
	t = sre_tracker();
	r = mirror_incident_transition(st, t, &the_sre.cfg, id, expected, to, sre_actor(),
				       reason, &remote);
	if (r == MIRROR_FOLLOWED) {
		/* Optimistic: the tracker was read first, and wins. */
		if (incident_state_is_working(remote))
			error("incident %lld is %s on %s, not %s as this host last saw it; "
			      "sre never follows a tracker into a state where a fix runs, so it "
			      "stays %s and was not moved to %s", id, incident_state_name(remote),
			      t->ops->name, incident_state_name(from_state),
			      incident_state_name(from_state), incident_state_name(to));
		else
			error("incident %lld is %s on %s, not %s as this host last saw it; "
			      "it follows the tracker now and was not moved to %s", id,
			      incident_state_name(remote), t->ops->name,
			      incident_state_name(from_state), incident_state_name(to));
		return EXIT_FOUND;
	}
	if (r == STORE_REFUSED)
		return EXIT_FOUND;
	if (r)
		return r > 0 ? no_such_incident(id) : EXIT_FATAL;
	fprintf(stderr, "sre: incident %lld is now %s\n", id, incident_state_name(to));
	if (to == STATE_INCIDENT_RESOLVED && remember_postmortems() < 0)
		warning("the post-mortem was not written; the next `sre remember` writes it");
	if (json && incident_last_event_print(stdout, st, id) < 0)
		return EXIT_FATAL;
	fflush(stdout);
	return sre_deliver();
}

static int incident_transition(int argc, const char **argv)
{
	const char *reason = NULL, *from = NULL;
	enum incident_state to;
	long long id;
	int expected = -1, json = 0;
	const struct option opts[] = {
		OPT_STRING('r', "reason", &reason, "reason", "why, for the timeline"),
		OPT_STRING(0, "from", &from, "state",
			   "move only if the incident is still in this state"),
		OPT_BOOL(0, "json", &json, "print the transition's event as a JSON object"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, transition_usage, 0);
	if (argc != 2)
		usage_error(transition_usage, opts, "'sre incident transition' takes an id and a state");
	id = parse_id(argv[0], transition_usage, opts);
	to = parse_state(argv[1], transition_usage, opts);
	if (from)
		expected = (int)parse_state(from, transition_usage, opts);
	if (reason && incident_check_text("the reason", reason, MAX_REASON, 1) < 0)
		return EXIT_USAGE;
	return move(id, to, expected, reason, json);
}

/* ack, resolve, close: a transition to one state (lib/incident.h), refused as it would be. */
static int incident_shortcut(int argc, const char **argv)
{
	const struct incident_shortcut *sc = incident_shortcuts;
	const char *const *shortcut_usage = !strcmp(argv[0], "ack") ? ack_usage :
		!strcmp(argv[0], "resolve") ? resolve_usage : close_usage;
	const char *reason = NULL;
	struct strbuf why = STRBUF_INIT;
	long long id;
	int json = 0, ret;
	const struct option opts[] = {
		OPT_STRING('r', "reason", &reason, "reason", "why, for the timeline"),
		OPT_BOOL(0, "json", &json, "print the transition's event as a JSON object"),
		OPT_END(),
	};

	while (strcmp(sc->verb, argv[0]))
		sc++;
	argc = parse_options_or_exit(argc, argv, opts, shortcut_usage, 0);
	if (argc != 1)
		usage_error(shortcut_usage, opts, "'sre incident %s' takes one incident id", sc->verb);
	id = parse_id(argv[0], shortcut_usage, opts);
	if (reason && incident_check_text("the reason", reason, MAX_REASON, 1) < 0)
		return EXIT_USAGE;
	if (!reason)
		strbuf_addf(&why, "%s by %s", sc->done, sre_actor());
	ret = move(id, sc->to, -1, reason ? reason : why.buf, json);
	strbuf_release(&why);
	return ret;
}

static int incident_comment(int argc, const char **argv)
{
	int json = 0;
	const struct option opts[] = {
		OPT_BOOL(0, "json", &json, "print the comment's event as a JSON object"),
		OPT_END(),
	};
	struct strbuf text = STRBUF_INIT;
	struct tracker *t;
	struct store *st;
	char key[37];
	cJSON *body;
	char *text_json;
	long long id;
	int r;

	argc = parse_options_or_exit(argc, argv, opts, comment_usage, 0);
	if (argc != 2)
		usage_error(comment_usage, opts, "'sre incident comment' takes an id and a text");
	id = parse_id(argv[0], comment_usage, opts);
	if (!strcmp(argv[1], "-")) {
		if (isatty(0))
			fprintf(stderr, "Type the comment; end it with Ctrl-D.\n");
		if (strbuf_read_fd(&text, 0, MAX_COMMENT) < 0) {
			if (errno != EFBIG)
				die_errno("cannot read the comment from standard input");
			error("the comment is longer than %d bytes", MAX_COMMENT);
			strbuf_release(&text);
			return EXIT_USAGE;
		}
		strbuf_trim(&text);
	} else {
		strbuf_addstr(&text, argv[1]);
	}
	if (incident_check_text("the comment", text.buf, MAX_COMMENT, 1) < 0) {
		strbuf_release(&text);
		return EXIT_USAGE;
	}
	if (!sre_store_if_exists()) {
		strbuf_release(&text);
		return no_such_incident(id);
	}
	t = sre_tracker();
	st = sre_store();
	mirror_new_key(key);
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "text", text.buf);
	if (t)
		cJSON_AddStringToObject(body, "key", key);
	text_json = cJSON_PrintUnformatted(body);
	r = store_begin(st);
	if (!r)
		r = store_event_append(st, id, "comment", sre_actor(), text_json);
	if (!r && t)
		r = mirror_queue_comment(st, t->ops->name, id, key, sre_actor(), text.buf);
	if (!r)
		r = store_commit(st);
	cJSON_free(text_json);
	cJSON_Delete(body);
	strbuf_release(&text);
	if (r > 0)
		return no_such_incident(id);
	if (r < 0)
		return EXIT_FATAL;
	if (json && incident_last_event_print(stdout, st, id) < 0)
		return EXIT_FATAL;
	fflush(stdout);
	return sre_deliver();
}

static const char *const pull_usage[] = {
	"sre incident pull [--assignee <who>] [--priority <p1,p2>] [--status <status>] [--max <n>]",
	NULL,
};

static int incident_pull(int argc, const char **argv)
{
	struct tracker_query q = { 0 };
	struct strvec added = STRVEC_INIT, updated = STRVEC_INIT;
	long long max = 0;
	struct tracker *t;
	int ret;
	const struct option opts[] = {
		OPT_STRING(0, "assignee", &q.assignee, "who", "tickets assigned to them (JIRA: \"me\" for the bot)"),
		OPT_STRING(0, "priority", &q.priorities, "p1,p2", "tickets of these priorities (JIRA)"),
		OPT_STRING(0, "status", &q.status, "status", "tickets in this status (JIRA)"),
		OPT_INTEGER(0, "max", &max, "n", "import at most n tickets"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, pull_usage, 0);
	if (argc)
		usage_error(pull_usage, opts, "unexpected argument '%s'", argv[0]);
	if (max < 0 || max > 100000)
		usage_error(pull_usage, opts, "--max takes a number from 0 to 100000");
	q.max = (int)max;
	t = sre_tracker();
	if (!t)
		die("no tracker to pull from: set tracker.kind to github or jira");
	if (!strcmp(t->ops->name, "github") && (q.priorities || q.status))
		warning("GitHub issues have no priority or status; --priority and --status are ignored");
	/* Our own queued writes go first, so the tracker is current. */
	sre_deliver();
	if (mirror_pull(sre_store(), t, &q, &added, &updated) < 0)
		ret = EXIT_FATAL;
	else
		ret = sre_deliver(); /* the label that marks tickets as taken up */
	for (size_t i = 0; i < added.nr; i++)
		printf("%s\n", added.v[i]);
	if (added.nr || updated.nr)
		fprintf(stderr, "sre: imported %zu new incident%s from %s, refreshed %zu\n",
			added.nr, added.nr == 1 ? "" : "s", t->ops->name, updated.nr);
	strvec_clear(&added);
	strvec_clear(&updated);
	return ret;
}

static const struct subcommand subcommands[] = {
	{ "open", incident_open, open_usage },
	{ "list", incident_list, list_usage },
	{ "show", incident_show, show_usage },
	{ "transition", incident_transition, transition_usage },
	{ "comment", incident_comment, comment_usage },
	{ "pull", incident_pull, pull_usage },
	{ "ack", incident_shortcut, ack_usage },
	{ "resolve", incident_shortcut, resolve_usage },
	{ "close", incident_shortcut, close_usage },
	{ NULL, NULL, NULL },
};

static SRE_NORETURN void incident_usage(FILE *fp, int status)
{
	const char *sep = "usage: ";

	for (const struct subcommand *s = subcommands; s->name; s++) {
		for (const char *const *u = s->usage; u && *u; u++) {
			fprintf(fp, "%s%s\n", sep, *u);
			sep = "   or: ";
		}
	}
	fprintf(fp, "\nSee 'sre incident <subcommand> -h' for each one's options.\n");
	exit(status);
}

/*
 * For completion: the states incident id may move to next, one a line
 * (every state when there is no such incident, or no id).
 */
static int next_states(int argc, const char **argv)
{
	struct store *st = sre_store_if_exists();
	struct incident inc;
	long long id;
	int known = 0;

	if (argc > 2 && st && !parse_ll(argv[2], &id) && id > 0 &&
	    store_incident_get(st, id, &inc) == 0)
		known = 1;
	for (int i = 0; i < STATE__COUNT; i++)
		if (!known || incident_transition_allowed(inc.state, (enum incident_state)i))
			printf("%s\n", incident_state_name((enum incident_state)i));
	if (known)
		incident_release(&inc);
	return 0;
}

int cmd_incident(int argc, const char **argv)
{
	const struct subcommand *s;

	if (argc < 2) {
		fprintf(stderr, "error: 'sre incident' needs a subcommand\n");
		incident_usage(stderr, EXIT_USAGE);
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		incident_usage(stdout, help_fallback ? 0 : EXIT_USAGE);
	if (!strcmp(argv[1], "--completion-helper")) {
		list_subcommands_for_completion(stdout, subcommands);
		return 0;
	}
	if (!strcmp(argv[1], "--next-states"))
		return next_states(argc, argv);
	s = subcommand_find(subcommands, "sre incident", argv[1]);
	if (!s) {
		fputc('\n', stderr);
		incident_usage(stderr, EXIT_USAGE);
	}
	return s->fn(argc - 1, argv + 1);
}
