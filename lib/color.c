/*
 * color.c: the colour decision; see color.h.
 */
#include <unistd.h>

#include "color.h"

int color_wanted(const struct config *cfg, int fd)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
	const char *ui = cfg ? config_get_string(cfg, "color.ui") : NULL;

	if (no && *no)
		return 0;
	if (ui && !strcmp(ui, "never"))
		return 0;
	if (ui && !strcmp(ui, "always"))
		return 1;
	return isatty(fd) && (!term || strcmp(term, "dumb"));
}
