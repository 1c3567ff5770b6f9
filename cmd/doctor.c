/*
 * doctor.c: `sre doctor`, is every configured source reachable, and does
 * it let sre in.
 *
 *   sre doctor [--json] [--timeout <duration>]
 *
 * The engine is lib/doctor.c (every source asked at once under one
 * deadline; its header says what each is asked). This file parses the
 * options, opens the store when there is one, prints the report with
 * doctor_report_print() and turns it into the exit code: 1 when a
 * configured source is broken, else 0.
 */
#include "builtin.h"
#include "../lib/doctor.h"
#include "../lib/format.h"
#include "../lib/timeutil.h"

static const char *const doctor_usage[] = {
	"sre doctor [--json] [--timeout <duration>]",
	NULL,
};

int cmd_doctor(int argc, const char **argv)
{
	struct doctor_report report = DOCTOR_REPORT_INIT;
	const char *timeout = NULL;
	int64_t timeout_ms = 0;
	int json = 0, ret;
	struct store *st;
	const struct option opts[] = {
		OPT_BOOL(0, "json", &json, "print the report as one JSON object"),
		OPT_STRING(0, "timeout", &timeout, "duration", "the deadline for every source together (10s)"),
		OPT_END(),
	};

	argc = parse_options_or_exit(argc, argv, opts, doctor_usage, 0);
	if (argc)
		usage_error(doctor_usage, opts, "sre doctor takes no arguments");
	if (timeout && (parse_duration_ms(timeout, &timeout_ms) < 0 || timeout_ms <= 0))
		usage_error(doctor_usage, opts, "--timeout '%s' is not a duration", timeout);
	st = sre_store_if_exists();
	if (doctor_run(&report, &the_sre.cfg, st, the_sre.db_path, timeout_ms) < 0) {
		doctor_report_release(&report);
		return EXIT_FATAL;
	}
	doctor_report_print(stdout, &report, json, the_sre.color);
	ret = doctor_broken(&report) ? EXIT_FOUND : 0;
	doctor_report_release(&report);
	return ret;
}
