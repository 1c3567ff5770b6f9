/*
 * kube-lease.h: leader election on a Kubernetes Lease
 * (coordination.k8s.io/v1), as client-go's leaderelection package does
 * it, so that of several `sre run` replicas only one acts.
 *
 * The configuration (see lib/config.c's table):
 *
 *   run.lease                 none (default) or kubernetes
 *   run.lease-name            the Lease, default "sre"
 *   run.lease-namespace       default kubernetes.namespace, else the
 *                             kubeconfig's namespace (its context's, or in
 *                             a pod its own), else "default"
 *   run.lease-duration        15s: leaseDurationSeconds, whole seconds
 *   run.lease-renew-deadline  10s: below the duration
 *   run.lease-retry-period    2s: below the renew deadline (client-go's
 *                             rule: the deadline above 1.2 retry periods)
 *
 * The caller's loop, once a retry period:
 *
 *   struct kube_lease l;
 *   struct strbuf holder = STRBUF_INIT;
 *
 *   if (kube_lease_init(&l, cfg, identity) < 0)
 *       ... error said ...
 *   for (;;) {
 *       int r = kube_lease_try(&l, &holder);   (1 ours, 0 another's, -1 l.why)
 *       ...
 *       if (kube_lease_valid(&l))              (before each action)
 *           act;
 *       sleep l.retry_period_ms
 *   }
 *   kube_lease_release(&l);                    (on a clean stop)
 *   kube_lease_clear(&l);
 *
 * or, so that a long pass does not outlast the renew deadline, with the
 * tries made by a thread of the lease's own (client-go's renew loop):
 *
 *   kube_lease_start(&l);                      (a try now, then one a retry period)
 *   for (;;) {
 *       kube_lease_status(&l, &holder, &why);  (what the last try found, to report)
 *       if (kube_lease_valid(&l))              (before each action)
 *           act;
 *   }
 *   kube_lease_stop(&l);                       (then release and clear as above)
 *
 * A candidate takes the Lease only when the holder's record has not
 * changed for leaseDurationSeconds by its own monotonic clock (client-go's
 * observedTime): the remote renewTime is never compared with a local
 * clock. A holder may act only while its last successful renewal was
 * sent within the renew deadline, which is shorter than the duration, so
 * a holder cut off from the API server stops acting before anyone else
 * could take the Lease.
 *
 * Nothing the API server returns is believed without a check: a Lease
 * whose holderIdentity is long (over KUBE_LEASE_IDENTITY_MAX bytes) or
 * holds control characters, whose numbers are out of range or of the
 * wrong type, or whose times are not times, is an error, and sre does
 * not act on it.
 */
#ifndef SRE_KUBE_LEASE_H
#define SRE_KUBE_LEASE_H

#include <stdint.h>

#include "config.h"
#include "http.h"
#include "kubeconfig.h"
#include "strbuf.h"

#define KUBE_LEASE_IDENTITY_MAX 256 /* bytes of a holderIdentity, ours or another's */

/* What a Lease's spec says: client-go's LeaderElectionRecord. */
struct kube_lease_record {
	char *holder;             /* holderIdentity, checked; "" when none */
	long long duration_s;     /* leaseDurationSeconds; 0 when unset */
	char *acquire_time;       /* MicroTimes as the server wrote them, checked; or NULL */
	char *renew_time;
	long long transitions;    /* leaseTransitions */
};

struct kube_lease {
	char *name, *ns;          /* the Lease's name and namespace */
	char *identity;           /* ours, as holderIdentity */
	int64_t duration_ms, renew_deadline_ms, retry_period_ms;

	/* Why the last call that returned -1 failed: one line, secrets redacted. */
	struct strbuf why;

	/* What was last seen of the Lease, and when (monotonic ms): client-go's observed*. */
	struct kube_lease_record observed;
	int have_observed;
	int64_t observed_ms;
	char *resource_version;   /* of the Lease last read or written */

	int held;                 /* our last write took it, and no one has taken it since */
	int64_t renewed_ms;       /* when our last successful write was sent (monotonic) */
	int transitioned;         /* the last kube_lease_try() took it from another holder */

	/* Private. */
	struct kube_lease_renewer *renewer; /* while kube_lease_start()ed */
	struct kubeconfig kc;
	struct http_client http;
	char *url, *collection_url;
	struct cJSON *object;     /* the Lease last read or written, whole */
};

/*
 * Is run.lease kubernetes? 1 yes, 0 none or unset, -1 after an error
 * naming a bad value.
 */
int kube_lease_wanted(const struct config *cfg);

/*
 * Read the run.lease-* keys and the kubeconfig, and check identity (what
 * goes in holderIdentity: the pod's name, or host-pid; 1 to
 * KUBE_LEASE_IDENTITY_MAX bytes, no control characters). 0; or -1 after
 * an error saying what does not hold. Nothing is sent yet. Clear l with
 * kube_lease_clear() either way.
 */
int kube_lease_init(struct kube_lease *l, const struct config *cfg, const char *identity);

/*
 * One attempt to take or renew the Lease (client-go's tryAcquireOrRenew):
 * read it; create it when it is not there; take it over when it is free
 * or its record has not changed for its leaseDurationSeconds as our clock
 * counts; renew it when ours. Every write carries the resourceVersion
 * read, so of two writers exactly one wins. Bounded by the renew deadline.
 *
 * 1: ours (l->held, l->renewed_ms now). 0: another's, its holderIdentity
 * (checked) in holder (reset first; "" when a writer beat us and cannot
 * be named); l->held is then 0. -1: the API could not be reached or
 * refused, or the Lease is malformed; the reason in l->why, nothing
 * printed (a loop says it once, not every retry period). l->held is left
 * as it was: kube_lease_valid() lapses by itself at the renew deadline.
 */
int kube_lease_try(struct kube_lease *l, struct strbuf *holder);

/*
 * May we act now: we hold the Lease, and our last successful renewal was
 * sent less than the renew deadline ago (monotonic clock). Asks nothing of
 * the API server; safe while kube_lease_start()ed.
 */
int kube_lease_valid(const struct kube_lease *l);

/*
 * On a clean stop, give the Lease up as client-go's ReleaseOnCancel does:
 * holderIdentity "", leaseDurationSeconds 1, leaseTransitions kept, so
 * another replica takes it at its next try. The renewer thread, if
 * started, is stopped first. 0 (also when it was not ours to give); -1
 * with the reason in l->why. l->held is 0 afterwards.
 */
int kube_lease_release(struct kube_lease *l);

/*
 * Renew in the background: a thread makes kube_lease_try() at once and
 * then every retry period, until kube_lease_stop(). Meanwhile the lease
 * is the thread's: the caller does not call kube_lease_try() nor read
 * l's fields, only kube_lease_valid() and kube_lease_status(). The thread
 * blocks every signal (they are the caller's). 0, or -1 after an error
 * (the thread could not start; try by hand then).
 */
int kube_lease_start(struct kube_lease *l);

/*
 * What the last try found: its return (1, 0 or -1; 0 also before the
 * first try has ended), the holder it named into holder and its reason
 * into why (each reset first; either may be NULL). Safe while started,
 * and after kube_lease_try() by hand.
 */
int kube_lease_status(struct kube_lease *l, struct strbuf *holder, struct strbuf *why);

/* Stop the thread of kube_lease_start(), waiting for a try under way to end. */
void kube_lease_stop(struct kube_lease *l);

/* Free what l holds (the kubeconfig's secrets wiped, the thread stopped); l is then all zero. */
void kube_lease_clear(struct kube_lease *l);

/*
 * Is s fit for a holderIdentity: 1 to KUBE_LEASE_IDENTITY_MAX bytes of
 * UTF-8 without control characters (C0, DEL, C1)? 0 yes; -1 with the
 * reason in why (which never quotes s).
 */
int kube_lease_check_identity(const char *s, size_t len, struct strbuf *why);

#endif
