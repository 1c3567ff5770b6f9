/*
 * remember-postmortem.c: `sre remember postmortem` (not built yet).
 */
#include "builtin.h"
#include "remember.h"

const char *const remember_postmortem_usage[] = {
	"sre remember postmortem",
	NULL,
};

int remember_postmortem(int argc, const char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "sre: 'remember postmortem' is not built yet.\n");
	return EXIT_FOUND;
}
