/*
 * sync.c: `sre sync`, delivering the outbox to the tracker, and
 * `sre sync --status`, listing what waits or was refused.
 */
#include <unistd.h>

#include "builtin.h"
#include "../lib/format.h"
#include "../lib/mirror.h"
#include "../lib/notify.h"
#include "../lib/pagerduty.h"

static const char *const sync_usage[] = {
	"sre sync",
	"sre sync --status [--all] [--json]",
	"sre sync --retry [<id>]",
	NULL,
};

static int show_status(int all, int json)
{
	struct store *st = sre_store_if_exists();
	struct outbox_item *items = NULL;
	size_t nr = 0;

	if (st && store_outbox_list(st, 0, &items, &nr) < 0)
		return EXIT_FATAL;
	if (!outbox_list_print(stdout, items, nr, all, json) && !json && isatty(1))
		fprintf(stderr, "Nothing is queued.\n");
	outbox_list_free(items, nr);
	return 0;
}

int cmd_sync(int argc, const char **argv)
{
	int status = 0, all = 0, json = 0, retry = 0, pending = 0, undeliverable = 0;
	struct outbox_item *items;
	size_t nr;
	const struct option opts[] = {
		OPT_BOOL(0, "status", &status, "list the queued and refused writes instead"),
		OPT_BOOL('a', "all", &all, "with --status, include the delivered writes"),
		OPT_BOOL(0, "json", &json, "with --status, print a JSON array"),
		OPT_BOOL(0, "retry", &retry, "queue refused writes again (one id, or all)"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, sync_usage, 0);
	if (status) {
		if (argc || retry)
			usage_exit(sync_usage, opts);
		return show_status(all, json);
	}
	if (all || json)
		usage_error(sync_usage, opts, "--all and --json go with --status");
	if (retry) {
		long long id = 0;
		if (argc > 1 || (argc == 1 && (parse_ll(argv[0], &id) < 0 || id <= 0)))
			usage_error(sync_usage, opts, "--retry takes one outbox id, or none for all");
		if (sre_store_if_exists() && store_outbox_retry(sre_store(), id) < 0)
			return EXIT_FATAL;
	} else if (argc) {
		usage_exit(sync_usage, opts);
	}
	if (!sre_store_if_exists())
		return 0;
	if (sre_deliver())
		return EXIT_FOUND;
	if (store_outbox_list(sre_store(), 0, &items, &nr) < 0)
		return EXIT_FATAL;
	for (size_t i = 0; i < nr; i++) {
		const char *target = items[i].target;
		struct tracker *t = sre_tracker();

		if (items[i].status == OUTBOX_DELIVERED)
			continue;
		/* Still queued, or refused earlier and not retried: not done. */
		pending++;
		if (items[i].status == OUTBOX_FAILED)
			continue;
		/* Writes for a system that is no longer configured wait for it. */
		if (!(t && !strcmp(target, t->ops->name)) &&
		    !(!strcmp(target, "slack") && notify_configured(&the_sre.cfg)) &&
		    !(!strcmp(target, "pagerduty") && pagerduty_configured(&the_sre.cfg)))
			undeliverable++;
	}
	outbox_list_free(items, nr);
	if (undeliverable)
		error("%d queued write%s for a tracker or notifier that is not configured now",
		      undeliverable, undeliverable > 1 ? "s wait" : " waits");
	return pending ? EXIT_FOUND : 0;
}
