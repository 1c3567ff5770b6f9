/*
 * strvec.h: a NULL-terminated vector of owned strings, the argv of a child
 * process or any list of names (after git's strvec).
 */
#ifndef SRE_STRVEC_H
#define SRE_STRVEC_H

#include "util.h"

struct strvec {
	const char **v;
	size_t nr;
	size_t alloc;
};

extern const char *empty_strvec[];
#define STRVEC_INIT { empty_strvec, 0, 0 }

void strvec_init(struct strvec *sv);
void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...) SRE_PRINTF(2, 3);
/* Push each argument until a NULL. */
void strvec_pushl(struct strvec *sv, ...);
void strvec_pushv(struct strvec *sv, const char **argv);
void strvec_clear(struct strvec *sv);
/* Does sv hold s? (A linear search: for short lists, such as pages read.) */
int strvec_has(const struct strvec *sv, const char *s);

/*
 * Split s into words by POSIX shell quoting rules ('single', "double",
 * backslash), without expanding anything: no variables, globs, tildes or
 * command substitution. Used for `*-command` config values, so a command
 * runs from an argv and never through a shell. Returns 0, or -1 with a
 * message in err for an unterminated quote or an empty command.
 */
int split_shell_words(struct strvec *out, const char *s, const char **err);

#endif
