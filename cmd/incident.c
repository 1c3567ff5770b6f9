/*
 * incident.c: `sre incident`, the plumbing over the store: open, list,
 * show, transition and comment. The loop's commands (scout, diagnose, fix)
 * do the same through lib/; this is how a person or a script does it.
 */
#include <errno.h>
#include <limits.h>
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
	"sre incident open --service <service> --title <title> [--severity <severity>] [--fingerprint <fingerprint>] [--source <source>]",
	NULL,
};
static const char *const list_usage[] = {
	"sre incident list [--state <state>] [--service <service>] [--all] [--json | --porcelain]",
	NULL,
};
static const char *const show_usage[] = {
	"sre incident show [--json] <id>",
	NULL,
};
static const char *const transition_usage[] = {
	"sre incident transition [--reason <reason>] [--from <state>] <id> <state>",
	NULL,
};
static const char *const comment_usage[] = {
	"sre incident comment <id> (<text> | -)",
	NULL,
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

	if (incident_state_parse(arg, &s) < 0) {
		fprintf(stderr, "error: '%s' is not an incident state; the states are:\n", arg);
		for (int i = 0; i < STATE__COUNT; i++)
			fprintf(stderr, "\t%s\n", incident_state_name((enum incident_state)i));
		usage_exit(usage, opts);
	}
	return s;
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
	int created, ret;
	const struct option opts[] = {
		OPT_STRING('s', "service", &service, "service", "the service that is failing"),
		OPT_STRING('t', "title", &title, "title", "what is wrong, in one line"),
		OPT_STRING(0, "severity", &severity, "severity", "critical, high, medium (default) or low"),
		OPT_STRING(0, "fingerprint", &fingerprint, "fingerprint",
			   "the identity of the problem (default: from source, service and title)"),
		OPT_STRING(0, "source", &source, "source", "what detected it (default: manual)"),
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
	printf("%lld\n", id);
	fflush(stdout);
	ret = sre_deliver();
	if (created && t) {
		struct incident inc;
		if (store_incident_get(st, id, &inc) == 0 && inc.remote_url)
			fprintf(stderr, "sre: incident %lld is %s %s\n", id, t->ops->name,
				inc.remote_url);
		incident_release(&inc);
	}
	return ret;
}

static int incident_list(int argc, const char **argv)
{
	const char *state = NULL, *service = NULL;
	int all = 0, json = 0, porcelain = 0;
	struct incident_filter f = { 0 };
	struct store *st;
	struct incident *list;
	size_t nr;
	const struct option opts[] = {
		OPT_STRING(0, "state", &state, "state", "only incidents in this state"),
		OPT_STRING(0, "service", &service, "service", "only incidents of this service"),
		OPT_BOOL('a', "all", &all, "include resolved incidents"),
		OPT_BOOL(0, "json", &json, "print a JSON array"),
		OPT_BOOL(0, "porcelain", &porcelain, "print the ids, one per line, for scripts"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, list_usage, 0);
	if (argc)
		usage_error(list_usage, opts, "unexpected argument '%s'", argv[0]);
	if (json && porcelain)
		usage_error(list_usage, opts, "--json and --porcelain go one at a time");
	f.all = all;
	f.state = state ? (int)parse_state(state, list_usage, opts) : -1;
	f.service = service;
	st = sre_store_if_exists();
	if (!st) {
		list = NULL;
		nr = 0;
	} else if (store_incident_list(st, &f, &list, &nr) < 0) {
		return EXIT_FATAL;
	}
	incident_list_print(stdout, list, nr, json ? OUTPUT_JSON : porcelain ? OUTPUT_PORCELAIN :
			    OUTPUT_TEXT, the_sre.color, sre_now());
	if (!json && !porcelain && !nr && isatty(1))
		fprintf(stderr, "No %sincidents.\n", all ? "" : "open ");
	incident_list_free(list, nr);
	return 0;
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
	if (json)
		json_print(stdout, obj);
	else
		incident_print_text(stdout, obj, the_sre.color);
	cJSON_Delete(obj);
	event_list_free(events, nr);
	incident_release(&inc);
	return 0;
}

static int incident_transition(int argc, const char **argv)
{
	const char *reason = NULL, *from = NULL;
	enum incident_state to, from_state, remote = STATE_INCIDENT_DETECTED;
	struct incident inc;
	struct tracker *t;
	struct store *st;
	long long id;
	int expected = -1, r;
	const struct option opts[] = {
		OPT_STRING('r', "reason", &reason, "reason", "why, for the timeline"),
		OPT_STRING(0, "from", &from, "state",
			   "move only if the incident is still in this state"),
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
	return sre_deliver();
}

static int incident_comment(int argc, const char **argv)
{
	const struct option opts[] = { OPT_END() };
	struct strbuf text = STRBUF_INIT;
	struct tracker *t;
	struct store *st;
	char key[37];
	cJSON *body;
	char *json;
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
	json = cJSON_PrintUnformatted(body);
	r = store_begin(st);
	if (!r)
		r = store_event_append(st, id, "comment", sre_actor(), json);
	if (!r && t)
		r = mirror_queue_comment(st, t->ops->name, id, key, sre_actor(), text.buf);
	if (!r)
		r = store_commit(st);
	cJSON_free(json);
	cJSON_Delete(body);
	strbuf_release(&text);
	if (r > 0)
		return no_such_incident(id);
	if (r < 0)
		return EXIT_FATAL;
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

static const struct {
	const char *name;
	int (*fn)(int, const char **);
	const char *const *usage;
} subcommands[] = {
	{ "open", incident_open, open_usage },
	{ "list", incident_list, list_usage },
	{ "show", incident_show, show_usage },
	{ "transition", incident_transition, transition_usage },
	{ "comment", incident_comment, comment_usage },
	{ "pull", incident_pull, pull_usage },
};

static SRE_NORETURN void incident_usage(FILE *fp, int status)
{
	const char *sep = "usage: ";

	for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++) {
		for (const char *const *u = subcommands[i].usage; *u; u++) {
			fprintf(fp, "%s%s\n", sep, *u);
			sep = "   or: ";
		}
	}
	fprintf(fp, "\nSee 'sre incident <subcommand> -h' for each one's options.\n");
	exit(status);
}

int cmd_incident(int argc, const char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "error: 'sre incident' needs a subcommand\n");
		incident_usage(stderr, EXIT_USAGE);
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		incident_usage(stdout, help_fallback ? 0 : EXIT_USAGE);
	if (!strcmp(argv[1], "--completion-helper")) {
		for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
			printf("%s%s", i ? " " : "", subcommands[i].name);
		printf("\n");
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "error: unknown subcommand '%s'\n", argv[1]);
	incident_usage(stderr, EXIT_USAGE);
}
