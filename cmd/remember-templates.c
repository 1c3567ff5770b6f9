/*
 * remember-templates.c: `sre remember templates`, the templates of a log
 * file, most frequent first, each with its count and an example.
 *
 *   sre remember templates [--json] [-n <n>] [--service <name>] (<file> | -)
 *
 * The miner is lib/logtemplate.c (Drain, with the remember.template-*
 * keys); the printer logtemplates_print() of lib/format.c. A file is read
 * as the user named it (a FIFO from a process substitution is fine).
 * With --service the templates are also remembered as that service's
 * (lib/log-patterns.c: seeded from what it has, counts added, redacted):
 * a healthy log read so becomes the baseline against which diagnose
 * calls a template a new log pattern. Without it the store is not opened.
 */
#include <fcntl.h>
#include <unistd.h>

#include "builtin.h"
#include "remember.h"
#include "../lib/format.h"
#include "../lib/log-patterns.h"
#include "../lib/logtemplate.h"
#include "../lib/timeutil.h"

const char *const remember_templates_usage[] = {
	"sre remember templates [--json] [-n <n>] [--service <name>] (<file> | -)",
	NULL,
};

int remember_templates(int argc, const char **argv)
{
	struct logtemplate_options lo;
	struct logtemplate_miner *m;
	long long max = 0;
	size_t lines = 0, shown;
	int json = 0, fd, r;
	const char *path, *service = NULL;
	struct store *st = NULL;
	const struct option opts[] = {
		OPT_BOOL(0, "json", &json, "print an array of {template, count, example}"),
		OPT_INTEGER('n', NULL, &max, "n", "show at most <n> templates (default: all)"),
		OPT_STRING(0, "service", &service, "name",
			   "also remember them as the service's, a baseline for diagnose"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, remember_templates_usage, 0);
	if (argc != 1)
		usage_error(remember_templates_usage, opts,
			    argc ? "one file at a time, or - for standard input" :
				   "which log? name a file, or - for standard input");
	if (max < 0)
		usage_error(remember_templates_usage, opts, "-n takes a number of templates, 0 or more");
	if (service && !*service)
		usage_error(remember_templates_usage, opts, "--service needs a service's name");
	if (logtemplate_options_read(&lo, &the_sre.cfg) < 0)
		return EXIT_FATAL;
	m = logtemplate_new(&lo);
	if (service) {
		st = sre_store();
		if (log_patterns_seed(st, service, m) < 0) {
			logtemplate_free(m);
			return EXIT_FATAL;
		}
	}
	path = argv[0];
	if (!strcmp(path, "-"))
		fd = 0;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		die_errno("cannot open '%s'", path);
	r = logtemplate_add_fd(m, fd, &lines);
	if (r < 0)
		error_errno("cannot read '%s'", !strcmp(path, "-") ? "standard input" : path);
	if (fd)
		close(fd);
	if (!r && st && log_patterns_record(st, service, m, sre_now(), 0, NULL) < 0)
		r = -1;
	if (r < 0) {
		logtemplate_free(m);
		return EXIT_FATAL;
	}
	shown = logtemplates_print(stdout, m, (size_t)max, json);
	if (!json && isatty(2))
		fprintf(stderr, "sre: %zu of %zu template%s from %zu line%s\n", shown,
			logtemplate_count(m), logtemplate_count(m) == 1 ? "" : "s", lines,
			lines == 1 ? "" : "s");
	logtemplate_free(m);
	return 0;
}
