/*
 * kubeconfig.h: where a Kubernetes API server is and how to prove who we
 * are to it, read the way kubectl reads it.
 *
 * The file is kubernetes.kubeconfig, else the first path of $KUBECONFIG,
 * else ~/.kube/config. The context is kubernetes.context, else the file's
 * current-context. From it come the cluster's server and CA
 * (certificate-authority, a path, or certificate-authority-data, base64)
 * and the user's credentials: token or tokenFile, client-certificate(-data)
 * with client-key(-data), or username and password. Relative paths are
 * relative to the kubeconfig's directory, as kubectl has them.
 *
 * With no kubeconfig at all and KUBERNETES_SERVICE_HOST and
 * KUBERNETES_SERVICE_PORT set, sre runs in a pod: the service account's
 * token and ca.crt come from kubernetes.service-account-dir (default
 * /var/run/secrets/kubernetes.io/serviceaccount).
 *
 * Refused, with an error: insecure-skip-tls-verify (sre never turns TLS
 * verification off), exec credential plugins and auth-provider (sre runs
 * no plugin).
 */
#ifndef SRE_KUBECONFIG_H
#define SRE_KUBECONFIG_H

#include "config.h"
#include "http.h"
#include "strbuf.h"

struct kubeconfig {
	char *path;            /* the file read, or NULL in a pod */
	char *context;         /* the context used, or NULL in a pod */
	char *namespace;       /* the context's namespace, or in a pod its own; or NULL */
	char *server;          /* "https://host:port", without a trailing slash */
	char *ca_pem;          /* the cluster's CA (PEM), or NULL: the system's */
	char *token;           /* a bearer token, or NULL */
	char *client_cert_pem; /* a client certificate and its key (PEM), or NULL */
	char *client_key_pem;
	char *userpwd;         /* "username:password" for basic auth, or NULL */
};

#define KUBECONFIG_INIT { 0 }

/*
 * Find and read the kubeconfig (or the service account) as above into
 * out. The secrets it holds (token, client key, password) are registered
 * with http, when given, as soon as they are read. Returns 0; or -1 with
 * one line in err saying why, naming the file and line of a malformed or
 * refused entry, never a secret. Release out with kubeconfig_release()
 * either way.
 */
int kubeconfig_load(struct kubeconfig *out, const struct config *cfg,
		    struct http_client *http, struct strbuf *err);

/*
 * Give req the server's CA and the credentials: the Authorization header
 * (appended to req->headers), the client certificate, basic auth. req
 * borrows from kc, which must outlive it.
 */
void kubeconfig_apply(const struct kubeconfig *kc, struct http_request *req);

/* Free what kc holds, wiping the secrets; kc is then KUBECONFIG_INIT. */
void kubeconfig_release(struct kubeconfig *kc);

#endif
