/*
 * chaos-host.h: sre chaos's faults on the host itself, whatever the
 * service's runtime (lib/chaos-host.c: disk-full), in runtime.h's shape.
 */
#ifndef SRE_CHAOS_HOST_H
#define SRE_CHAOS_HOST_H

#include "runtime.h"

extern const struct runtime_ops chaos_host;

#endif
