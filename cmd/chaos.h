/*
 * chaos.h: the subcommands of `sre chaos` that live in files of their own
 * (cmd/chaos.c dispatches, and holds inject, status and rollback).
 */
#ifndef SRE_CMD_CHAOS_H
#define SRE_CMD_CHAOS_H

/* cmd/chaos-run.c: experiments in Chaos Toolkit's format, and game days of them. */
extern const char *const chaos_run_usage[];
extern const char *const chaos_gameday_usage[];
int cmd_chaos_run(int argc, const char **argv);
int cmd_chaos_gameday(int argc, const char **argv);

/* cmd/chaos-proxy.c: the fault proxy of [proxy "<name>"]. */
extern const char *const chaos_proxy_usage[];
int cmd_chaos_proxy(int argc, const char **argv);

#endif
