/*
 * remember-share.c: `sre remember push` and `sre remember pull` (not built yet).
 */
#include "builtin.h"
#include "remember.h"

const char *const remember_push_usage[] = {
	"sre remember push",
	NULL,
};
const char *const remember_pull_usage[] = {
	"sre remember pull",
	NULL,
};

int remember_push(int argc, const char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "sre: 'remember push' is not built yet.\n");
	return EXIT_FOUND;
}

int remember_pull(int argc, const char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "sre: 'remember pull' is not built yet.\n");
	return EXIT_FOUND;
}
