/*
 * kube-test.h: what the unit tests that talk to tests/fakes/kubernetes.py
 * (test-kubernetes.c, test-collect-kubernetes.c) share, beside
 * scout-test.h: openssl run with its chatter kept off the TAP stream, a
 * throwaway CA and the API server's certificate it signs, so that TLS is
 * really verified, and a kubeconfig for the fake.
 *
 *   if (!have_program("openssl"))
 *       ...skip...
 *   if (make_server_pki() < 0 ||
 *       fake_start(&k8s, "kubernetes", "k8s", "--cert", server_crt,
 *                  "--key", server_key, "--token", TOKEN, NULL) < 0)
 *       ...
 *   server = xstrfmt("https://%s", k8s.url + strlen("http://"));
 *   file = kubeconfig_for("fake.yaml", server, ca_b64, "    token: " TOKEN "\n");
 *   ...
 *   free_server_pki();
 */
#ifndef SRE_KUBE_TEST_H
#define SRE_KUBE_TEST_H

#include "../../lib/run-command.h"
#include "scout-test.h"

/* What make_server_pki() makes: files in the scratch directory, and the CA as base64. */
static char *ca_crt, *ca_b64, *server_crt, *server_key;

/* Is name an executable in a directory of PATH? */
static inline int have_program(const char *name)
{
	const char *path = getenv("PATH");
	int found = 0;

	while (path && *path && !found) {
		const char *end = strchrnul(path, ':');
		char *p = xstrfmt("%.*s/%s", (int)(end - path), path, name);

		found = end > path && !access(p, X_OK);
		free(p);
		path = *end ? end + 1 : end;
	}
	return found;
}

/* Run openssl with its chatter kept off the TAP stream: 0 or -1. */
static inline int openssl(struct strbuf *out, ...)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf ignored = STRBUF_INIT;
	const char *arg;
	va_list ap;
	int rc;

	strvec_push(&argv, "openssl");
	va_start(ap, out);
	while ((arg = va_arg(ap, const char *)))
		strvec_push(&argv, arg);
	va_end(ap);
	capture_start();
	rc = run_command_capture(argv.v, NULL, out ? out : &ignored, 1 << 20, 0);
	capture_end();
	if (rc)
		printf("# openssl %s failed (%d): %s\n", argv.v[1], rc, captured.buf);
	strvec_clear(&argv);
	strbuf_release(&ignored);
	return rc ? -1 : 0;
}

/* A file's contents in base64 on one line, for a kubeconfig's *-data; the caller frees. */
static inline char *base64_of(const char *path)
{
	struct strbuf out = STRBUF_INIT;

	openssl(&out, "base64", "-A", "-in", path, NULL);
	strbuf_trim(&out);
	return strbuf_detach(&out, NULL);
}

/*
 * <name>.key and <name>.crt in the scratch directory: a key pair and a
 * certificate for cn, signed by the CA <ca>.crt (with the extensions ext)
 * or self-signed when ca is NULL. 0 or -1.
 */
static inline int make_cert(const char *name, const char *cn, const char *ca, const char *ext)
{
	char *key = xstrfmt("%s/%s.key", tmpdir, name), *crt = xstrfmt("%s/%s.crt", tmpdir, name);
	char *csr = xstrfmt("%s/%s.csr", tmpdir, name), *subj = xstrfmt("/CN=%s", cn);
	char *extname = xstrfmt("%s.ext", name), *extfile = write_file(extname, ext);
	char *cakey = ca ? xstrfmt("%s/%s.key", tmpdir, ca) : NULL;
	char *cacrt = ca ? xstrfmt("%s/%s.crt", tmpdir, ca) : NULL;
	int rc;

	if (!ca)
		rc = openssl(NULL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
			     "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
			     "-days", "2", "-subj", subj, NULL);
	else
		rc = openssl(NULL, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
			     "-nodes", "-keyout", key, "-out", csr, "-subj", subj, NULL) ||
		     openssl(NULL, "x509", "-req", "-in", csr, "-CA", cacrt, "-CAkey", cakey,
			     "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", extfile, NULL);
	free(key);
	free(crt);
	free(csr);
	free(subj);
	free(extname);
	free(extfile);
	free(cakey);
	free(cacrt);
	return rc ? -1 : 0;
}

/*
 * The CA "ca" (sre-test-ca) and the certificate "server" it signs for
 * the fake API server on 127.0.0.1 (kube-apiserver): ca_crt, ca_b64,
 * server_crt and server_key set. 0 or -1.
 */
static inline int make_server_pki(void)
{
	if (make_cert("ca", "sre-test-ca", NULL, "") < 0 ||
	    make_cert("server", "kube-apiserver", "ca",
		      "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
		      "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
		      "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n") < 0)
		return -1;
	ca_crt = tmp_path("ca.crt");
	server_crt = tmp_path("server.crt");
	server_key = tmp_path("server.key");
	ca_b64 = base64_of(ca_crt);
	return *ca_b64 ? 0 : -1;
}

static inline void free_server_pki(void)
{
	free(ca_crt);
	free(ca_b64);
	free(server_crt);
	free(server_key);
}

/*
 * A kubeconfig for the API server at server, trusting the CA ca (base64),
 * its user entry user (the lines under "user:"); its path, for the caller
 * to free.
 */
static inline char *kubeconfig_for(const char *name, const char *server, const char *ca,
				   const char *user)
{
	char *text = xstrfmt("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n"
			     "    certificate-authority-data: %s\n    server: %s\n  name: fake\n"
			     "contexts:\n- context:\n    cluster: fake\n    user: scout\n  name: fake\n"
			     "current-context: fake\nusers:\n- name: scout\n  user:\n%s",
			     ca, server, user);
	char *file = write_file(name, text);

	free(text);
	return file;
}

#endif
