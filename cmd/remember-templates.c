/*
 * remember-templates.c: `sre remember templates` (not built yet).
 */
#include "builtin.h"
#include "remember.h"

const char *const remember_templates_usage[] = {
	"sre remember templates",
	NULL,
};

int remember_templates(int argc, const char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "sre: 'remember templates' is not built yet.\n");
	return EXIT_FOUND;
}
