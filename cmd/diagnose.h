/*
 * diagnose.h: the parts of `sre diagnose`: cmd/diagnose.c (the options
 * and the one-shot diagnosis) and cmd/diagnose-interactive.c (the
 * session of -i).
 */
#ifndef SRE_CMD_DIAGNOSE_H
#define SRE_CMD_DIAGNOSE_H

#include <stdio.h>

struct diagnose_options;
struct engine_context;

/*
 * sre diagnose -i: diagnose the bundle evidence, the problem about the
 * service about, or incident id (the first that is given), print it, then
 * take questions and commands at a prompt until Ctrl-D or /quit. The exit
 * code.
 */
int diagnose_interactive(struct diagnose_options *o, struct engine_context *ctx,
			 const char *evidence, const char *about, long long id);

/* Text a model or a remote system wrote, with every control character but \n and \t as '?'. */
void print_clean(FILE *fp, const char *buf, size_t len);

#endif
