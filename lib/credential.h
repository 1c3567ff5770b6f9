/*
 * credential.h: a secret's config value that is only a reference to it
 * ("op://ops/prometheus/token", "pass:team/prom", "env:PROM_TOKEN"),
 * resolved only after a person approves it.
 *
 * A reference lets a configuration name where a credential lives without
 * holding it, so the file can be shared, listed and read by the LLM
 * adviser's tools. What it points to is read only when three things hold:
 * the reference is well formed (checked first, so nobody is asked to
 * approve what could not run), an approver is set (credential_set_approver:
 * `sre diagnose -i` sets one that asks with /approve and /deny), and the
 * approver says yes. Without an approver (cron, scripts, every other
 * command) a reference is refused with an error that says where it can be
 * approved: nothing sre runs unattended reaches a password manager.
 *
 * The schemes, each resolved without a shell:
 *   env:NAME      the environment variable NAME ([A-Za-z_][A-Za-z0-9_]*)
 *   pass:PATH     the first line of `pass show PATH` (the password store);
 *                 PATH is [A-Za-z0-9._/@+-], no leading '-' or '/', no "..",
 *                 at most 256 bytes
 *   op://V/I/F    the output of `op read op://V/I/F` (the 1Password CLI),
 *                 less its trailing newline; printable ASCII without blanks,
 *                 at most 512 bytes, not "op://-..."
 *
 * The secret is registered with the redactor as it is read; it never
 * appears in a message, nor does a program's output. Callers reach this
 * through config_get_secret() (lib/config.c), which sends every value of a
 * secret key that is a reference here.
 *
 * Layering: this file uses run-command, redact, strbuf and util only;
 * lib/config.c calls it, never the other way round.
 */
#ifndef SRE_CREDENTIAL_H
#define SRE_CREDENTIAL_H

#include <stdint.h>

#include "strbuf.h"

/*
 * Is v a credential reference ("op://...", "pass:...", "env:...") rather
 * than a secret? By its prefix alone (case matters), so that a malformed
 * reference is refused by credential_resolve() with a reason, and never
 * mistaken for a secret and sent to a server. NULL is not.
 */
int credential_is_reference(const char *v);

/*
 * Who approves resolving a reference: 1 approved, 0 denied. key is the
 * config key ("prometheus.token"), reference its value. NULL: nobody can
 * approve, so every reference is refused.
 *
 * The approver is called with a lock held, one question at a time even
 * when collectors resolve from threads; it must not call
 * credential_resolve() itself.
 */
typedef int (*credential_approve_fn)(void *data, const char *key, const char *reference);
void credential_set_approver(credential_approve_fn fn, void *data);

/*
 * The secret behind reference ref (the value of key), after the approver
 * said yes: 0 with it in out (registered with redact_add_secret), 1 when
 * denied or when no approver is set (an error() said which and how to
 * approve: "prometheus.token is a credential reference: it is resolved only
 * after a person approves it, in sre diagnose -i (/approve)"), -1 after
 * another error (never with the secret in it): a malformed reference (the
 * approver is not asked), an unset variable, a program missing, failing,
 * cut off after timeout_ms (<= 0: 10 s) or printing nothing.
 *
 * An approval holds for the rest of the process for the same key and
 * reference: the approver is asked once. A denial is not remembered: the
 * next resolve asks again (the approver may remember it itself). On any
 * failure out is wiped and empty.
 */
int credential_resolve(const char *key, const char *ref, int64_t timeout_ms, struct strbuf *out);

/* Forget every approval (tests; the end of a session). */
void credential_forget_approvals(void);

#endif
