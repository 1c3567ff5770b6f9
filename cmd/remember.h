/*
 * remember.h: the subcommands of `sre remember`, one file each part:
 * cmd/remember.c (index, search, similar, known, chronic and the
 * dispatcher), cmd/remember-templates.c, cmd/remember-postmortem.c,
 * cmd/remember-share.c (push and pull).
 */
#ifndef SRE_CMD_REMEMBER_H
#define SRE_CMD_REMEMBER_H

extern const char *const remember_templates_usage[];
int remember_templates(int argc, const char **argv);

extern const char *const remember_postmortem_usage[];
int remember_postmortem(int argc, const char **argv);

extern const char *const remember_push_usage[];
int remember_push(int argc, const char **argv);
extern const char *const remember_pull_usage[];
int remember_pull(int argc, const char **argv);

#endif
