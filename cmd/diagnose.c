/*
 * diagnose.c: `sre diagnose`, why an incident happened.
 *
 *   sre diagnose [--json] [--save-evidence <dir>] [--timeout <duration>] <incident>...
 *   sre diagnose --evidence <dir> [--json] [--save-evidence <dir>]
 *   sre diagnose --problem <text> [--service <name>] [--json] [--save-evidence <dir>] [--timeout <duration>]
 *
 * The engine is lib/diagnose.c (collect, judge, record, comment, move; its
 * header is the manual). This file parses the options, opens what the
 * engine is given, prints each answer once with diagnose_result_print()
 * (text or JSON), and delivers the outbox after a live incident's
 * diagnosis was kept.
 */
#include <unistd.h>

#include "builtin.h"
#include "diagnose.h"
#include "../lib/credential.h"
#include "../lib/diagnose.h"
#include "../lib/format.h"
#include "../lib/progress.h"
#include "../lib/timeutil.h"

static const char *const diagnose_usage[] = {
	"sre diagnose [--json | --stream] [--[no-]llm] [--no-cache] [--save-evidence <dir>] [--timeout <duration>] [--[no-]progress] <incident>...",
	"sre diagnose --evidence <dir> [--json] [--[no-]llm] [--save-evidence <dir>]",
	"sre diagnose --problem <text> [--service <name>] [--json] [--[no-]llm] [--save-evidence <dir>] [--timeout <duration>] [--[no-]progress]",
	"sre diagnose --transcript <incident>",
	"sre diagnose -i [--[no-]llm] [--evidence <dir> | --problem <text> [--service <name>] | <incident>]",
	NULL,
};

static void note(void *data, const char *line)
{
	progress_clear();
	fprintf(stderr, "%s\n", line);
}

static int streaming;  /* --stream: NDJSON events on stdout */

/* One event of --stream: {"event", "at", ...its members}, a line, flushed. */
static void stream_event(void *data, const char *kind, const cJSON *event)
{
	cJSON *line = cJSON_CreateObject();
	const cJSON *it;
	char at[32], *text;

	(void)data;
	format_iso8601(at, sizeof(at), sre_now());
	cJSON_AddStringToObject(line, "event", kind);
	cJSON_AddStringToObject(line, "at", at);
	cJSON_ArrayForEach(it, event)
		cJSON_AddItemToObject(line, it->string, cJSON_Duplicate(it, 1));
	text = cJSON_PrintUnformatted(line);
	puts(text);
	fflush(stdout);
	cJSON_free(text);
	cJSON_Delete(line);
}

/*
 * --stream: a source needed a credential that is only a reference
 * (lib/credential.h). Nobody can approve it in a stream: it is said, and
 * denied; sre diagnose -i is where a person approves one.
 */
static int stream_approval(void *data, const char *key, const char *reference)
{
	cJSON *ev = cJSON_CreateObject();

	(void)data;
	cJSON_AddStringToObject(ev, "key", key);
	cJSON_AddStringToObject(ev, "scheme", !strncmp(reference, "op://", 5) ? "op" :
				!strncmp(reference, "pass:", 5) ? "pass" : "env");
	cJSON_AddFalseToObject(ev, "approved");
	stream_event(NULL, "approval_required", ev);
	cJSON_Delete(ev);
	return 0;
}

/* session_start of --stream: what is diagnosed. */
static void stream_start(const char *what, const char *value)
{
	cJSON *ev = cJSON_CreateObject();

	cJSON_AddStringToObject(ev, what, value);
	stream_event(NULL, "session_start", ev);
	cJSON_Delete(ev);
}

/* Print the result when r says there is one; the exit code. */
static int print(int r, const struct diagnose_result *res, int json)
{
	int code = r ? (r < 0 ? EXIT_FATAL : EXIT_FOUND) : 0;

	progress_clear(); /* before the answer, or the error already said */
	if (streaming) {
		cJSON *ev = cJSON_CreateObject();
		if (!r) {
			cJSON *d = diagnose_result_json(res);
			diagnose_memory_add_json(d, res);
			cJSON_AddItemToObject(ev, "diagnosis", d);
			stream_event(NULL, "diagnosis", ev);
			cJSON_Delete(ev);
			ev = cJSON_CreateObject();
		}
		cJSON_AddNumberToObject(ev, "exit", code);
		stream_event(NULL, "done", ev);
		cJSON_Delete(ev);
		return code;
	}
	if (r)
		return code;
	diagnose_result_print(stdout, res, json, the_sre.color);
	return 0;
}

/* sre diagnose --transcript <id>: the adviser's exchange, as it was kept. */
static int show_transcript(int argc, const char **argv, const struct option *opts, int other)
{
	struct strbuf t = STRBUF_INIT;
	long long id;
	int r;

	if (other || argc != 1)
		usage_error(diagnose_usage, opts, "--transcript takes one incident id and nothing else");
	if (parse_ll(argv[0], &id) < 0 || id <= 0)
		usage_error(diagnose_usage, opts, "'%s' is not an incident id (a positive number)", argv[0]);
	if (!sre_store_if_exists())
		return error("no incident %lld", id), EXIT_FOUND;
	r = diagnose_transcript(sre_store(), id, &t);
	if (r < 0)
		return EXIT_FATAL;
	if (r) {
		error("incident %lld has no adviser transcript: its latest diagnosis did not ask the "
		      "adviser (sre diagnose --llm)", id);
		return EXIT_FOUND;
	}
	/* What a model wrote is data: no control character reaches the terminal. */
	print_clean(stdout, t.buf, t.len);
	strbuf_release(&t);
	return 0;
}

/* The service --problem is about (the caller's), or NULL after the error. */
static char *problem_service(const char *problem, const char *service, const struct option *opts)
{
	char *about = service ? xstrdup(service) : diagnose_problem_service(&the_sre.cfg, problem);

	if (!about)
		usage_error(diagnose_usage, opts, "which service is it about? the problem names no "
			    "configured [service] or [check]: name it with --service");
	if (incident_check_text("the problem", problem, 2000, 1) < 0) {
		free(about);
		return NULL;
	}
	return about;
}

/* -i: the incident given, else the newest open one; the problem's service; or the bundle. */
static int interactive_session(struct diagnose_options *o, struct engine_context *ctx,
			       const char *evidence, const char *service, const char *arg,
			       const struct option *opts)
{
	struct incident *list = NULL;
	size_t nr = 0;
	long long id = 0;
	char *about = NULL;
	int ret;

	if (o->problem) {
		if (!(about = problem_service(o->problem, service, opts)))
			return EXIT_USAGE;
		ctx->store = sre_store_if_exists();
	} else if (arg) {
		if (parse_ll(arg, &id) < 0 || id <= 0)
			usage_error(diagnose_usage, opts, "'%s' is not an incident id (a positive number)", arg);
		if (!sre_store_if_exists())
			return error("no incident %lld", id), EXIT_FOUND;
	} else if (!evidence) {
		struct incident_filter f = { .state = -1 };
		if (!sre_store_if_exists() || store_incident_list(sre_store(), &f, &list, &nr) < 0 || !nr) {
			incident_list_free(list, nr);
			return error("no open incident to diagnose: give an incident id, --problem or "
				     "--evidence"), EXIT_FOUND;
		}
		for (size_t i = 0; i < nr; i++)
			if (list[i].id > id)
				id = list[i].id;
		incident_list_free(list, nr);
	}
	ret = diagnose_interactive(o, ctx, evidence, about, id);
	free(about);
	return ret;
}

int cmd_diagnose(int argc, const char **argv)
{
	struct diagnose_options o = { 0 };
	struct engine_context ctx = { .cfg = &the_sre.cfg, .note = note };
	const char *evidence = NULL, *service = NULL, *timeout = NULL;
	int json = 0, ret = 0, progress = -1, llm = -2, transcript = 0, cache = 1, interactive = 0;
	const struct option opts[] = {
		OPT_BOOL(0, "json", &json, "print one JSON object per diagnosis"),
		OPT_STRING(0, "save-evidence", &o.save, "dir", "write the evidence read into <dir>"),
		OPT_STRING(0, "evidence", &evidence, "dir", "diagnose from a saved bundle, offline"),
		OPT_STRING(0, "problem", &o.problem, "text", "diagnose a question, without an incident"),
		OPT_STRING(0, "service", &service, "name", "the service --problem is about"),
		OPT_STRING(0, "timeout", &timeout, "duration", "the deadline for reading evidence (diagnose.timeout)"),
		OPT_BOOL(0, "progress", &progress, "show the sources still read (default: on a terminal)"),
		OPT_BOOL(0, "llm", &llm, "also ask the LLM adviser ([llm]) after the rules"),
		OPT_BOOL(0, "stream", &streaming, "print NDJSON events as they happen, the diagnosis last"),
		OPT_BOOL(0, "cache", &cache, "use the adviser's cached answer to the same question (default)"),
		OPT_BOOL('i', "interactive", &interactive, "then take questions for the adviser at a prompt (/help)"),
		OPT_BOOL(0, "transcript", &transcript, "print what the adviser sent and received, kept with the incident's latest diagnosis"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, diagnose_usage, 0);
	if (transcript)
		return show_transcript(argc, argv, opts, evidence || o.problem || json || o.save);
	if (evidence && o.problem)
		usage_error(diagnose_usage, opts, "--evidence and --problem cannot be used together");
	if (streaming && json)
		usage_error(diagnose_usage, opts, "--stream prints JSON events: --json has no meaning");
	if (streaming) {
		o.stream = stream_event;
		credential_set_approver(stream_approval, NULL);
		progress = 0;
	}
	if (service && !o.problem)
		usage_error(diagnose_usage, opts, "--service goes with --problem");
	if (timeout && evidence)
		usage_error(diagnose_usage, opts, "--evidence reads no source: --timeout has no meaning");
	if ((evidence || o.problem) && argc)
		usage_error(diagnose_usage, opts, "an incident id cannot go with %s",
			    evidence ? "--evidence" : "--problem");
	if (interactive && (json || streaming || o.save || argc > 1))
		usage_error(diagnose_usage, opts, "-i is a session about one diagnosis: it takes no "
			    "--json, --stream or --save-evidence, and one incident at most");
	if (!evidence && !o.problem && !argc && !interactive)
		usage_error(diagnose_usage, opts, "which incident? give its id, --problem or --evidence");
	if (timeout && (parse_duration_ms(timeout, &o.timeout_ms) < 0 || o.timeout_ms <= 0))
		usage_error(diagnose_usage, opts, "--timeout '%s' is not a duration", timeout);
	if (o.save && argc > 1)
		usage_error(diagnose_usage, opts, "--save-evidence takes one incident");

	/* --llm asks the adviser, --no-llm never, neither: diagnose.adviser. */
	o.llm = llm == -2 ? 0 : llm ? 1 : -1;
	o.no_cache = !cache;
	o.cfg = &the_sre.cfg;
	if (progress < 0)
		progress = isatty(2) && getenv("TERM") && strcmp(getenv("TERM"), "dumb") &&
			   !getenv("SRE_TRACE");
	if (progress && !evidence)
		progress_start(2, 500);
	if (interactive)
		return interactive_session(&o, &ctx, evidence, service, argc ? argv[0] : NULL, opts);
	if (evidence) {
		struct diagnose_result res = DIAGNOSE_RESULT_INIT;
		if (streaming)
			stream_start("bundle", evidence);
		ret = print(diagnose_bundle(&o, evidence, &res) ? -1 : 0, &res, json);
		diagnose_result_release(&res);
		return ret;
	}
	if (o.problem) {
		struct diagnose_result res = DIAGNOSE_RESULT_INIT;
		char *about = problem_service(o.problem, service, opts);
		if (!about)
			return EXIT_USAGE;
		ctx.store = sre_store_if_exists();
		if (streaming)
			stream_start("problem", o.problem);
		ret = print(diagnose_problem(&ctx, &o, about, &res) ? -1 : 0, &res, json);
		diagnose_result_release(&res);
		free(about);
		return ret;
	}
	if (argc > 1 && !streaming)
		json_lines(1);
	for (int i = 0; i < argc; i++) {
		struct diagnose_result res = DIAGNOSE_RESULT_INIT;
		long long id;
		int r;
		if (parse_ll(argv[i], &id) < 0 || id <= 0)
			usage_error(diagnose_usage, opts, "'%s' is not an incident id (a positive number)",
				    argv[i]);
		if (!sre_store_if_exists()) {
			error("no incident %lld", id);
			r = EXIT_FOUND;
		} else {
			ctx.store = sre_store();
			ctx.tracker = sre_tracker();
			ctx.actor = sre_actor();
			if (streaming)
				stream_start("incident", argv[i]);
			r = diagnose_incident(&ctx, &o, id, &res);
			r = print(r, &res, json);
			if (!r && res.deliver && sre_deliver())
				r = EXIT_FOUND;
		}
		diagnose_result_release(&res);
		if (r > ret)
			ret = r;
	}
	return ret;
}
