/*
 * redact.h: the one redactor, for everything that leaves the host.
 *
 * Tracker issues and comments, Slack messages, evidence bundles and
 * (later) what the LLM adviser is shown pass through here first. Two
 * kinds of secret are hidden:
 *
 *   the credentials sre itself holds: every token, password or webhook
 *   read through config_get_secret() or given to the HTTP layer is
 *   registered with redact_add_secret() as it is loaded, and each of its
 *   occurrences becomes ‹redacted:credential›;
 *
 *   secrets by their shape, wherever they come from (a log line, a pod's
 *   environment, a commit message):
 *     URL userinfo          https://u:p@host     https://‹redacted:userinfo›@host
 *     Authorization values  Authorization: ...   Authorization: ‹redacted:authorization›
 *     Bearer/Basic tokens   Bearer abc.def       Bearer ‹redacted:bearer›
 *     key=value pairs       password=x, "token": "x", API_KEY: x, ...
 *                                                password=‹redacted:password›
 *       (a key whose name, case and '-'/'_' aside, ends in password,
 *       passwd, secret, token, apikey, accesskey or privatekey; the
 *       separator '=' or ':', the value quoted or up to a blank or , ; &)
 *     JWTs                  eyJ...eyJ...sig      ‹redacted:jwt›
 *     AWS access key ids    AKIA/ASIA + 16       ‹redacted:aws-key›
 *     GitHub tokens         ghp_..., github_pat_...  ‹redacted:github-token›
 *     aws_secret_access_key=...                  ‹redacted:aws-secret›
 *     PEM private keys      -----BEGIN ... PRIVATE KEY----- to its END line
 *                                                ‹redacted:private-key›
 *
 * A mask names what it hid, so a reader knows something was there. The
 * masks are plain text without quotes, backslashes or < > &, so they sit
 * safely in JSON, Markdown and Slack's mrkdwn. A mask is never masked
 * again, so redacting redacted text is safe (it may only mask more).
 *
 * Guarantees, for any bytes at all (it is fuzzed): time linear in the
 * input (times the few registered secrets), no read past len, and no
 * UTF-8 sequence cut: a mask starts and ends at an ASCII byte or at a
 * registered secret's own ends. Text that matches no rule comes out
 * byte for byte.
 *
 * The registry is process-wide and thread-safe (collectors run in
 * threads); its copies are wiped when forgotten.
 */
#ifndef SRE_REDACT_H
#define SRE_REDACT_H

#include <cJSON.h>

#include "strbuf.h"

/*
 * Remember a credential sre holds, so that it is masked wherever it
 * appears. Copied; NULL, and values under 4 bytes (which would mask
 * ordinary words), are ignored; a value already held is not added twice.
 */
void redact_add_secret(const char *secret);

/* Wipe and forget every registered credential (tests; at exit). */
void redact_forget_secrets(void);

/* Append the mask of one kind of secret, ‹redacted:label›, to out. */
void redact_add_mask(struct strbuf *out, const char *label);

/* Append text[0..len) to out, redacted. text need not be NUL-terminated. */
void redact_buf(struct strbuf *out, const char *text, size_t len);

/* Redact sb in place. */
void redact_strbuf(struct strbuf *sb);

/* A redacted copy of s, for the caller to free; NULL for NULL. */
char *redact_str(const char *s);

/*
 * Redact every string in a JSON tree in place. A string whose member
 * name is itself a secret's ("password", "apiKey", "client_secret"...)
 * is masked whole; object member names are left as they are.
 */
void redact_json(cJSON *json);

/*
 * The mask's label when a key (a config key, an environment variable, a
 * JSON member name) names a secret: "password", "token", ..., or NULL.
 */
const char *redact_key_label(const char *key, size_t len);

#endif
