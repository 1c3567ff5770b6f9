/*
 * kubernetes.h: the client of the Kubernetes API (lib/kubernetes.c).
 * Every request to an API server goes through it: the scout source
 * (lib/scout-kubernetes.c), the diagnose collector
 * (lib/collect-kubernetes.c) and the runtime of `sre fix`
 * (lib/runtime-kubernetes.c) are its callers. Where the server is and
 * who we are to it is lib/kubeconfig.h's.
 *
 * Lines of why are not redacted here: the caller redacts once with its
 * http client, which knows every secret (the kubeconfig registers them).
 */
#ifndef SRE_KUBERNETES_H
#define SRE_KUBERNETES_H

#include <time.h>

#include <cJSON.h>

#include "http.h"
#include "kubeconfig.h"
#include "scout.h"
#include "strbuf.h"

#define KUBERNETES_MESSAGE_MAX 300  /* the longest API message quoted in an error */

/*
 * "<server><group>/namespaces/<ns>/<resource>", group "/api/v1" or
 * "/apis/apps/v1", resource "pods", "events?fieldSelector=..." or the
 * start of a path under it ("pods/"); the caller frees it.
 */
char *kubernetes_namespace_url(const struct kubeconfig *kc, const char *group, const char *ns,
			       const char *resource);
/* "<server><group>/namespaces/<ns>/<resource>/<name>"; the caller frees it. */
char *kubernetes_object_url(const struct kubeconfig *kc, const char *group, const char *ns,
			    const char *resource, const char *name);

/*
 * Queue, in a batch to make with http_do_many(), a GET (JSON) of a
 * namespace's resource as kubernetes_namespace_url() names it, with the
 * kubeconfig's credentials; the request, to add to. kc must outlive it.
 */
struct http_request *kubernetes_queue(struct http_batch *rs, const struct kubeconfig *kc,
				      const char *group, const char *ns, const char *resource);
/* The same for the last lines of a container's log (text), or of its previous one. */
struct http_request *kubernetes_queue_log(struct http_batch *rs, const struct kubeconfig *kc,
					  const char *ns, const char *pod, const char *container,
					  int lines, int previous);
/*
 * The same for a container's log from since on, each line prefixed by its
 * RFC 3339 time (timestamps=true), at most limit_bytes of it: a window's
 * lines, where tailLines can only give the last ones.
 */
struct http_request *kubernetes_queue_log_since(struct http_batch *rs, const struct kubeconfig *kc,
						const char *ns, const char *pod,
						const char *container, time_t since,
						long long limit_bytes);

/*
 * One request now: method url with body (NULL: none) of content_type. 0
 * and the answer (the caller's), which must be an object of this kind; or
 * -1 with "kubernetes: <what>: <why>" in why, why being curl's error, or
 * the status and the API server's own message.
 */
int kubernetes_call(struct http_client *http, const struct kubeconfig *kc, const char *method,
		    const char *url, const char *content_type, const char *body, const char *kind,
		    const char *what, cJSON **answer, struct strbuf *why);

/* The message of the Status object an answer carries, on one line, or NULL; caller frees. */
char *kubernetes_status_message(const struct http_response *res, size_t max);

/*
 * The service an object belongs to, from its metadata (shared by `sre
 * scout`, `sre diagnose` and `sre fix`): its app.kubernetes.io/name or
 * app label, else its controller's workload (the Deployment of a
 * ReplicaSet, by the ReplicaSet's name less its pod-template-hash; a
 * StatefulSet; a DaemonSet), else its own name, which metadata must have.
 * The caller frees it.
 */
char *kubernetes_pod_service(const cJSON *metadata);
/*
 * The Deployment's name in a ReplicaSet's, "<deployment>-<hash>": less the
 * pod-template-hash when given (NULL: less the last "-..."); caller frees.
 */
char *kubernetes_replicaset_deployment(const char *replicaset, const char *hash);

#endif
