/*
 * chaos-proxy.h: the fault proxy of `sre chaos proxy`, in the manner of
 * toxiproxy, and the toxics the chaos engine switches on it.
 *
 * A proxy is configured, never made up at run time:
 *
 *   [proxy "api"]
 *           listen = 127.0.0.1:18080      # loopback unless listen-any
 *           upstream = 127.0.0.1:8080
 *
 * and the service's callers are pointed at its listen address. A toxic is
 * a row of the store's chaos_toxics table (proxy, toxic, params), set and
 * cleared by lib/chaos.c's proxy-* faults through chaos_toxic_set() and
 * chaos_toxic_clear(); the running proxy reads the table at least every
 * 250 ms, so a toxic set by another process takes effect within that.
 *
 * The toxics (params are JSON numbers; unknown keys are refused):
 *   latency    {"latency_ms": 0..60000, "jitter_ms": 0..latency_ms}: every
 *              chunk from the upstream is held latency_ms +/- jitter_ms
 *              from when it arrived, downstream only (the service's
 *              answers), as toxiproxy's default stream is; a request is
 *              slowed once, not once per chunk
 *   errors     {"share": 0..1 (1), "status": 500..599 (503)}: that share of
 *              HTTP requests answered by the proxy itself with that status
 *              and a short text body (Connection: close), the rest passed
 *              on; judged at the start of each request the proxy can frame
 *              (Content-Length bodies; after a chunked body or an Upgrade
 *              the rest of that connection passes)
 *   reset      {}: connections closed with a TCP RST (SO_LINGER 0) at once,
 *              new ones on accept and those open when it is set
 *   timeout    {}: connections accepted and held, nothing forwarded either
 *              way, until the toxic goes (then they go on) or the client
 *              leaves
 *   bandwidth  {"rate_kbps": 1..1000000}: the answers paced to that many
 *              kilobits (1000 bits) a second, downstream only
 */
#ifndef SRE_CHAOS_PROXY_H
#define SRE_CHAOS_PROXY_H

#include <cJSON.h>
#include <signal.h>

#include "config.h"
#include "store.h"
#include "strbuf.h"
#include "strvec.h"

/*
 * Is params (an object, or NULL for {}) right for toxic? 0, or -1 with one
 * line (no newline) saying why appended to why: an unknown toxic or key, a
 * value that is not a number, out of bounds or not whole. Names from the
 * caller are quoted cut short, control bytes as '?'.
 */
int chaos_toxic_check(const char *toxic, const cJSON *params, struct strbuf *why);

/*
 * Put toxic on proxy with params (checked first: -1 and error() when
 * wrong), replacing the one there; fault_id is the chaos_faults row that
 * sets it (0: none). 0 or -1.
 */
int chaos_toxic_set(struct store *st, const char *proxy, const char *toxic,
		    const cJSON *params, long long fault_id);

/* Take toxic off proxy: 0, also when it was not there; -1 after an error. */
int chaos_toxic_clear(struct store *st, const char *proxy, const char *toxic);

/*
 * The toxics in place on proxy (NULL: on every proxy), by proxy and toxic,
 * as a JSON array of {proxy, toxic, params, fault_id (null: none),
 * expires_at (the fault's end, null: none); a running proxy applies no
 * toxic past it}: the
 * caller's to cJSON_Delete. NULL after an error (said).
 */
cJSON *chaos_toxic_list(struct store *st, const char *proxy);

/* Does [proxy "<name>"] have a listen and an upstream? 1 or 0. */
int chaos_proxy_configured(const struct config *cfg, const char *name);

/*
 * Run the proxies named (every configured one when names is empty),
 * reloading their toxics from st at least every 250 ms, until *stop is
 * set (a signal handler's flag). 0 when stopped, -1 when they could not
 * start (said: a name not configured, an address that does not parse or
 * bind, a listen address that is not loopback without listen-any).
 */
int chaos_proxy_run(const struct config *cfg, struct store *st, const struct strvec *names,
		    volatile sig_atomic_t *stop);

/*
 * chaos_proxy_run() in two steps, for a caller that says where each proxy
 * listens before serving (a port of 0 in listen takes any free one):
 * open resolves and binds them all, or none (-1, said); *out is the
 * caller's to chaos_proxy_free(). chaos_proxy_info() gives proxy i's name,
 * its address as bound and its upstream as configured (borrowed).
 * chaos_proxy_serve() then runs them until *stop: 0, or -1 when poll()
 * failed (said). A store that cannot be read keeps the toxics in place
 * (warned once) and is tried again every 5 s.
 */
struct chaos_proxies;
int chaos_proxy_open(struct chaos_proxies **out, const struct config *cfg,
		     const struct strvec *names);
size_t chaos_proxy_count(const struct chaos_proxies *p);
void chaos_proxy_info(const struct chaos_proxies *p, size_t i, const char **name,
		      const char **listen_at, const char **upstream);
int chaos_proxy_serve(struct chaos_proxies *p, struct store *st, volatile sig_atomic_t *stop);
void chaos_proxy_free(struct chaos_proxies *p);

#endif
