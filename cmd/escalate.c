/*
 * escalate.c: `sre escalate`, handing an incident to a person.
 *
 *   sre escalate [--reason <text>] [--policy <name>] [--dry-run] <incident>
 *   sre escalate --auto [--policy <name>] [--dry-run]
 *   sre escalate --ack <incident> [--by <who>] [--dry-run]
 *   sre escalate --pagerduty-webhook <file>
 *   sre escalate --status [<incident>] [--json]
 *
 * The engine is lib/escalate.c (policies, levels, the state kept, what is
 * due); this file parses the options, prints what was done, and delivers
 * the outbox (the pages) afterwards, as every command that queues does.
 */
#include <unistd.h>

#include "builtin.h"
#include "../lib/escalate.h"
#include "../lib/timeutil.h"

#define WEBHOOK_MAX (1 << 20)

static const char *const escalate_usage[] = {
	"sre escalate [--reason <text>] [--policy <name>] [--dry-run] <incident>",
	"sre escalate --auto [--policy <name>] [--dry-run]",
	"sre escalate --ack <incident> [--by <who>] [--dry-run]",
	"sre escalate --pagerduty-webhook <file>",
	"sre escalate --status [<incident>] [--json]",
	NULL,
};

static void note(void *data, const char *line)
{
	fprintf(stderr, "%s\n", line);
}

static int show_status(struct engine_context *ctx, long long id, int json)
{
	cJSON *arr = escalate_status_json(ctx, id), *e;
	char *text;

	if (!arr)
		return EXIT_FATAL;
	if (json) {
		text = cJSON_Print(arr);
		puts(text);
		cJSON_free(text);
	} else if (!cJSON_GetArraySize(arr)) {
		printf(id ? "incident %lld was never escalated\n" : "no escalation under way\n", id);
	}
	cJSON_ArrayForEach(e, arr) {
		if (json)
			break;
		const cJSON *by = cJSON_GetObjectItem(e, "acked_by"), *next = cJSON_GetObjectItem(e, "next");
		const cJSON *closed = cJSON_GetObjectItem(e, "closed");
		printf("#%-5.0f %-12s level %.0f, paged %s", cJSON_GetNumberValue(cJSON_GetObjectItem(e, "incident")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(e, "policy")),
		       cJSON_GetNumberValue(cJSON_GetObjectItem(e, "level")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(e, "paged_at")));
		if (cJSON_IsString(by))
			printf(", acknowledged by %s at %s", by->valuestring,
			       cJSON_GetStringValue(cJSON_GetObjectItem(e, "acked_at")));
		else if (cJSON_IsString(closed))
			printf(", %s", closed->valuestring);
		else if (cJSON_IsString(next))
			printf(", %s at %s", next->valuestring,
			       cJSON_GetStringValue(cJSON_GetObjectItem(e, "next_at")));
		printf("\n        %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(e, "reason")));
	}
	cJSON_Delete(arr);
	return 0;
}

int cmd_escalate(int argc, const char **argv)
{
	struct escalate_options o = { 0 };
	struct engine_context ctx = { .cfg = &the_sre.cfg, .note = note };
	struct strbuf report = STRBUF_INIT;
	const char *ack = NULL, *by = NULL, *webhook = NULL;
	long long id = 0;
	int auto_ = 0, status = 0, json = 0, r;
	const struct option opts[] = {
		OPT_STRING(0, "reason", &o.reason, "text", "why a person is needed"),
		OPT_STRING(0, "policy", &o.policy, "name", "the [escalation] policy (escalate.policy)"),
		OPT_BOOL('n', "dry-run", &o.dry_run, "print the pages and the timeline; send and record nothing"),
		OPT_BOOL(0, "auto", &auto_, "page what is due: stale states, climbs, timeouts, resolutions"),
		OPT_STRING(0, "ack", &ack, "incident", "record who took the incident; the climb stops"),
		OPT_STRING(0, "by", &by, "who", "with --ack, who took it"),
		OPT_STRING(0, "pagerduty-webhook", &webhook, "file", "read a PagerDuty webhook v3 event (- for stdin)"),
		OPT_BOOL(0, "status", &status, "show each escalation: level, pages, acknowledgements, what is due"),
		OPT_BOOL(0, "json", &json, "with --status, print JSON"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, escalate_usage, 0);
	if (!!auto_ + !!ack + !!webhook + !!status > 1)
		usage_error(escalate_usage, opts, "--auto, --ack, --pagerduty-webhook and --status "
			    "go one at a time");
	if (json && !status)
		usage_error(escalate_usage, opts, "--json goes with --status");
	if (by && !ack)
		usage_error(escalate_usage, opts, "--by goes with --ack");
	if (o.reason && (auto_ || ack || webhook || status))
		usage_error(escalate_usage, opts, "--reason goes with an incident to escalate");
	if ((auto_ || webhook || ack) && argc)
		usage_error(escalate_usage, opts, "no incident goes with --auto, --ack or --pagerduty-webhook");
	if (!auto_ && !ack && !webhook && !status && argc != 1)
		usage_error(escalate_usage, opts, "which incident? give its id, or --auto");
	if (status && argc > 1)
		usage_error(escalate_usage, opts, "--status takes one incident at most");
	if ((argc && (parse_ll(argv[0], &id) < 0 || id <= 0)) ||
	    (ack && (parse_ll(ack, &id) < 0 || id <= 0)))
		usage_error(escalate_usage, opts, "'%s' is not an incident id (a positive number)",
			    ack ? ack : argv[0]);
	if (o.reason && incident_check_text("the reason", o.reason, 500, 1) < 0)
		return EXIT_USAGE;

	ctx.store = sre_store();
	ctx.tracker = sre_tracker();
	ctx.actor = sre_actor();
	if (status)
		return show_status(&ctx, id, json);
	if (webhook) {
		struct strbuf body = STRBUF_INIT;
		long n = strcmp(webhook, "-") ? strbuf_read_file(&body, webhook, WEBHOOK_MAX) :
			 strbuf_read_fd(&body, 0, WEBHOOK_MAX);
		r = n < 0 ? error_errno("cannot read %s", webhook) :
		    escalate_webhook(&ctx, body.buf, body.len, &report);
		strbuf_release(&body);
	} else if (ack) {
		r = escalate_ack(&ctx, id, by, &o, &report);
	} else if (auto_) {
		r = escalate_auto(&ctx, &o, &report);
		if (r >= 0)
			r = escalate_chronic(&ctx, &o, &report);
	} else {
		r = escalate_incident(&ctx, id, &o, &report);
	}
	fputs(report.buf, stdout);
	strbuf_release(&report);
	if (r < 0)
		return EXIT_FATAL;
	if (!o.dry_run && sre_deliver())
		return EXIT_FOUND;
	return r ? EXIT_FOUND : 0;
}
