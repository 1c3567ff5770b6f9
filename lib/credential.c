/*
 * credential.c: credential references, checked, approved, then resolved;
 * see credential.h.
 *
 * The order matters: a reference is checked for shape (and its program
 * looked up on PATH) before anyone is asked, so a person approves only what
 * can run, and a crafted value ("pass:--help", "op://-x", "env:A=B") never
 * reaches a program or a prompt. Only after a yes is anything read. The
 * programs run from an argv, never a shell, with no stdin, under a timeout
 * and an output cap; what they print is the secret or nothing: it is wiped
 * on every failure and never quoted in a message.
 */
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "credential.h"
#include "redact.h"
#include "run-command.h"
#include "util.h"

#define MAX_PASS_PATH 256
#define MAX_OP_REF 512
#define MAX_CREDENTIAL_OUTPUT (64 << 10)
#define DEFAULT_TIMEOUT_MS (10 * 1000)

/*
 * One lock over the approver and the approvals: a question at a time, even
 * from the collectors' threads, and no question asked twice.
 */
static pthread_mutex_t approval_lock = PTHREAD_MUTEX_INITIALIZER;
static credential_approve_fn approver;
static void *approver_data;
/* "key\nreference" of each approval; neither holds a newline. */
static char **approved;
static size_t approved_nr, approved_alloc;

int credential_is_reference(const char *v)
{
	return v && (starts_with(v, "op://") || starts_with(v, "pass:") ||
		     starts_with(v, "env:"));
}

void credential_set_approver(credential_approve_fn fn, void *data)
{
	pthread_mutex_lock(&approval_lock);
	approver = fn;
	approver_data = data;
	pthread_mutex_unlock(&approval_lock);
}

void credential_forget_approvals(void)
{
	pthread_mutex_lock(&approval_lock);
	for (size_t i = 0; i < approved_nr; i++)
		free(approved[i]);
	free(approved);
	approved = NULL;
	approved_nr = approved_alloc = 0;
	pthread_mutex_unlock(&approval_lock);
}

static int valid_env_name(const char *name)
{
	if (!((*name >= 'A' && *name <= 'Z') || (*name >= 'a' && *name <= 'z') || *name == '_'))
		return 0;
	for (name++; *name; name++)
		if (!((*name >= 'A' && *name <= 'Z') || (*name >= 'a' && *name <= 'z') ||
		      (*name >= '0' && *name <= '9') || *name == '_'))
			return 0;
	return 1;
}

/*
 * A path in the password store, and nothing pass could read as an option
 * or a way out of the store.
 */
static int valid_pass_path(const char *path)
{
	size_t len = strlen(path);

	if (!len || len > MAX_PASS_PATH || *path == '-' || *path == '/' || strstr(path, ".."))
		return 0;
	for (const char *c = path; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || strchr("._/@+-", *c)))
			return 0;
	return 1;
}

/* op://vault/item/field[?attribute=...]: one printable word, not an option. */
static int valid_op_ref(const char *ref)
{
	const char *rest = ref + strlen("op://");

	if (strlen(ref) > MAX_OP_REF || !*rest || *rest == '-')
		return 0;
	for (const char *c = ref; *c; c++)
		if (*c <= ' ' || *c > '~')
			return 0;
	return 1;
}

/*
 * Is prog an executable file in a directory of $PATH? Asked before anyone
 * approves, so a missing password manager is said as such, with where to
 * get it, rather than as a failure after a yes.
 */
static int on_path(const char *prog)
{
	const char *path = getenv("PATH"), *dir, *end;
	struct strbuf file = STRBUF_INIT;
	int found = 0;

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (dir = path; !found; dir = end + 1) {
		struct stat st;

		end = strchrnul(dir, ':');
		strbuf_reset(&file);
		if (end == dir)
			strbuf_addch(&file, '.');
		else
			strbuf_add(&file, dir, (size_t)(end - dir));
		strbuf_addf(&file, "/%s", prog);
		found = !stat(file.buf, &st) && S_ISREG(st.st_mode) && !access(file.buf, X_OK);
		if (!*end)
			break;
	}
	strbuf_release(&file);
	return found;
}

/*
 * Check ref's shape and that what reads it is there: 0, or -1 after an
 * error naming key and the rule (never the value, which may be a secret
 * the user mistook for a reference).
 */
static int check_reference(const char *key, const char *ref)
{
	const char *rest;

	if (!ref)
		return error("%s is not a credential reference (op://, pass: or env:)", key);
	if (skip_prefix(ref, "env:", &rest)) {
		if (!valid_env_name(rest))
			return error("%s: an env: reference names an environment variable "
				     "(letters, digits and _, not starting with a digit)", key);
		return 0;
	}
	if (skip_prefix(ref, "pass:", &rest)) {
		if (!valid_pass_path(rest))
			return error("%s: a pass: reference is a path in the password store "
				     "(letters, digits and ._/@+-, not starting with - or /, "
				     "without .., at most %d bytes)", key, MAX_PASS_PATH);
		if (!on_path("pass"))
			return error("%s is a pass: reference, but pass is not installed "
				     "(the Debian package \"pass\")", key);
		return 0;
	}
	if (starts_with(ref, "op://")) {
		if (!valid_op_ref(ref))
			return error("%s: an op:// reference is op://vault/item/field, in "
				     "printable ASCII without blanks, at most %d bytes", key,
				     MAX_OP_REF);
		if (!on_path("op"))
			return error("%s is an op:// reference, but op, the 1Password CLI, is "
				     "not installed (https://developer.1password.com/docs/cli/)",
				     key);
		return 0;
	}
	return error("%s is not a credential reference (op://, pass: or env:)", key);
}

/*
 * Ask the approver, once per key and reference: 0 approved, 1 after an
 * error saying it was denied or that nobody can approve.
 */
static int approve(const char *key, const char *ref)
{
	char *id = xstrfmt("%s\n%s", key, ref);
	int yes = 0;

	pthread_mutex_lock(&approval_lock);
	for (size_t i = 0; i < approved_nr && !yes; i++)
		yes = !strcmp(approved[i], id);
	if (!yes && approver) {
		yes = approver(approver_data, key, ref) == 1;
		if (yes) {
			ALLOC_GROW(approved, approved_nr + 1, approved_alloc);
			approved[approved_nr++] = id;
			id = NULL;
		} else {
			error("%s is a credential reference, and resolving it was denied (/deny)", key);
		}
	} else if (!yes) {
		error("%s is a credential reference: it is resolved only after a person "
		      "approves it, in sre diagnose -i (/approve)", key);
	}
	pthread_mutex_unlock(&approval_lock);
	free(id);
	return yes ? 0 : 1;
}

/*
 * Run argv (pass or op) for key's secret into out: 0, or -1 after an error
 * naming the program and the key. The caller wipes out on failure.
 */
static int run_reader(const char *key, const char **argv, int64_t timeout_ms,
		      struct strbuf *out)
{
	const char *what = !strcmp(argv[0], "op") ? "op read" : "pass show";
	int status;

	status = run_command_capture(argv, key, out, MAX_CREDENTIAL_OUTPUT, timeout_ms);
	if (status < 0)
		return -1; /* said: cut off, too much output, no fork */
	if (status == 127)
		return error("%s: %s could not be run", key, what);
	if (status)
		return error("%s: %s failed with exit code %d", key, what, status);
	if (memchr(out->buf, '\0', out->len))
		return error("%s: %s printed a NUL byte, which no secret holds", key, what);
	return 0;
}

int credential_resolve(const char *key, const char *ref, int64_t timeout_ms, struct strbuf *out)
{
	const char *rest;
	int ret;

	strbuf_reset(out);
	if (!key)
		key = "a secret";
	if (check_reference(key, ref) < 0)
		return -1;
	ret = approve(key, ref);
	if (ret)
		return ret;
	if (timeout_ms <= 0)
		timeout_ms = DEFAULT_TIMEOUT_MS;

	if (skip_prefix(ref, "env:", &rest)) {
		const char *v = getenv(rest);

		if (!v)
			return error("%s is env:%s, and %s is not set", key, rest, rest);
		if (!*v)
			return error("%s is env:%s, and %s is empty", key, rest, rest);
		strbuf_addstr(out, v);
	} else if (skip_prefix(ref, "pass:", &rest)) {
		const char *argv[] = { "pass", "show", rest, NULL };

		if (run_reader(key, argv, timeout_ms, out) < 0)
			goto fail;
		/* pass keeps the password on the first line, notes below it. */
		{
			char *eol = memchr(out->buf, '\n', out->len);
			size_t len = eol ? (size_t)(eol - out->buf) : out->len;

			if (len && out->buf[len - 1] == '\r')
				len--;
			memset(out->buf + len, 0, out->len - len);
			strbuf_setlen(out, len);
		}
		if (!out->len) {
			error("%s: pass show printed nothing on its first line", key);
			goto fail;
		}
	} else {
		const char *argv[] = { "op", "read", ref, NULL };

		if (run_reader(key, argv, timeout_ms, out) < 0)
			goto fail;
		/* A trailing newline is not part of the secret; anything else is. */
		while (out->len && (out->buf[out->len - 1] == '\n' ||
				    out->buf[out->len - 1] == '\r'))
			strbuf_setlen(out, out->len - 1);
		if (!out->len) {
			error("%s: op read printed nothing", key);
			goto fail;
		}
	}
	redact_add_secret(out->buf); /* masked wherever it shows up */
	return 0;
fail:
	/* Clear what was captured so no partial secret lingers. */
	if (out->alloc)
		memset(out->buf, 0, out->alloc);
	strbuf_reset(out);
	return -1;
}
