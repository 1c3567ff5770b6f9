/*
 * kubernetes.c: the client of the Kubernetes API. Every request sre makes
 * to an API server is built here, with the kubeconfig's server and
 * credentials (lib/kubeconfig.c): the scout source
 * (lib/scout-kubernetes.c), the diagnose collector
 * (lib/collect-kubernetes.c) and the runtime of `sre fix`
 * (lib/runtime-kubernetes.c) are its callers. Named for the system it
 * talks to, as lib/docker.c is; what each caller makes of the answers
 * lives in the file named for its role.
 *
 * Besides requests, what every caller reads the same way: the service an
 * object belongs to, and the message of the API's Status object.
 */
#include <cJSON.h>

#include "kubernetes.h"
#include "scout.h"
#include "timeutil.h"

/* See kubernetes.h. */
char *kubernetes_replicaset_deployment(const char *replicaset, const char *hash)
{
	size_t n = strlen(replicaset);
	const char *dash;

	if (hash && *hash && n > strlen(hash) + 1 && ends_with(replicaset, hash) &&
	    replicaset[n - strlen(hash) - 1] == '-')
		return xstrndup(replicaset, n - strlen(hash) - 1);
	dash = strrchr(replicaset, '-');
	return dash && dash > replicaset ? xstrndup(replicaset, (size_t)(dash - replicaset))
					 : xstrdup(replicaset);
}

/* The service an object belongs to: see kubernetes.h. */
char *kubernetes_pod_service(const cJSON *meta)
{
	const cJSON *labels = json_get(meta, "labels"), *owner;
	const char *v;

	if ((v = json_string(labels, "app.kubernetes.io/name")) && *v)
		return xstrdup(v);
	if ((v = json_string(labels, "app")) && *v)
		return xstrdup(v);
	cJSON_ArrayForEach(owner, json_get(meta, "ownerReferences")) {
		const char *kind = json_string(owner, "kind");
		const char *name = json_string(owner, "name");

		if (!kind || !name || !*name || !json_bool(owner, "controller"))
			continue;
		if (!strcmp(kind, "ReplicaSet"))
			return kubernetes_replicaset_deployment(name,
								json_string(labels, "pod-template-hash"));
		if (!strcmp(kind, "StatefulSet") || !strcmp(kind, "DaemonSet"))
			return xstrdup(name);
	}
	return xstrdup(json_string(meta, "name"));
}

char *kubernetes_namespace_url(const struct kubeconfig *kc, const char *group, const char *ns,
			       const char *resource)
{
	struct strbuf url = STRBUF_INIT;

	strbuf_addf(&url, "%s%s/namespaces/", kc->server, group);
	http_urlencode(&url, ns);
	strbuf_addf(&url, "/%s", resource);
	return strbuf_detach(&url, NULL);
}

char *kubernetes_object_url(const struct kubeconfig *kc, const char *group, const char *ns,
			    const char *resource, const char *name)
{
	char *base = kubernetes_namespace_url(kc, group, ns, resource);
	struct strbuf url = STRBUF_INIT;

	strbuf_addf(&url, "%s/", base);
	http_urlencode(&url, name);
	free(base);
	return strbuf_detach(&url, NULL);
}

struct http_request *kubernetes_queue(struct http_batch *rs, const struct kubeconfig *kc,
				      const char *group, const char *ns, const char *resource)
{
	struct http_request *req =
		http_batch_add(rs, kubernetes_namespace_url(kc, group, ns, resource));

	kubeconfig_apply(kc, req);
	return req;
}

/* Queue a GET of a container's log with these parameters after its name. */
static struct http_request *queue_log(struct http_batch *rs, const struct kubeconfig *kc,
				      const char *ns, const char *pod, const char *container,
				      const char *params)
{
	struct strbuf url = STRBUF_INIT;
	struct http_request *req;
	char *base = kubernetes_namespace_url(kc, "/api/v1", ns, "pods/");

	strbuf_addstr(&url, base);
	http_urlencode(&url, pod);
	strbuf_addstr(&url, "/log?container=");
	http_urlencode(&url, container);
	strbuf_addstr(&url, params);
	req = http_batch_add(rs, strbuf_detach(&url, NULL));
	/* A log is text/plain: asking for JSON only would be asking wrong. */
	strvec_clear(&req->headers);
	strvec_push(&req->headers, "Accept: text/plain, */*");
	kubeconfig_apply(kc, req);
	free(base);
	return req;
}

struct http_request *kubernetes_queue_log(struct http_batch *rs, const struct kubeconfig *kc,
					  const char *ns, const char *pod, const char *container,
					  int lines, int previous)
{
	char *params = xstrfmt("&tailLines=%d%s", lines, previous ? "&previous=true" : "");
	struct http_request *req = queue_log(rs, kc, ns, pod, container, params);

	free(params);
	return req;
}

struct http_request *kubernetes_queue_log_since(struct http_batch *rs, const struct kubeconfig *kc,
						const char *ns, const char *pod,
						const char *container, time_t since,
						long long limit_bytes)
{
	struct strbuf params = STRBUF_INIT;
	struct http_request *req;
	char when[32];

	format_iso8601(when, sizeof(when), since);
	strbuf_addstr(&params, "&sinceTime=");
	http_urlencode(&params, when);
	strbuf_addf(&params, "&timestamps=true&limitBytes=%lld", limit_bytes);
	req = queue_log(rs, kc, ns, pod, container, params.buf);
	strbuf_release(&params);
	return req;
}

char *kubernetes_status_message(const struct http_response *res, size_t max)
{
	cJSON *st = cJSON_ParseWithLength(res->body.buf, res->body.len);
	const char *m = json_nonempty(st, "message");
	char *msg = m ? scout_one_line(m, max) : NULL;

	cJSON_Delete(st);
	return msg;
}

int kubernetes_call(struct http_client *http, const struct kubeconfig *kc, const char *method,
		    const char *url, const char *content_type, const char *body, const char *kind,
		    const char *what, cJSON **answer, struct strbuf *why)
{
	struct http_request req = HTTP_REQUEST_INIT;
	struct http_response res = HTTP_RESPONSE_INIT;
	char *msg = NULL, *not_kind;
	int ret = -1;

	*answer = NULL;
	req.method = method;
	req.url = url;
	strvec_push(&req.headers, "Accept: application/json");
	if (body) {
		strvec_pushf(&req.headers, "Content-Type: %s", content_type);
		req.body = body;
		req.body_len = strlen(body);
	}
	kubeconfig_apply(kc, &req);
	http_do(http, &req, &res);
	if (res.outcome == HTTP_OK && res.status / 100 == 2) {
		cJSON *a = cJSON_ParseWithLength(res.body.buf, res.body.len);
		const char *got = json_string(a, "kind");

		if (got && !strcmp(got, kind)) {
			*answer = a;
			ret = 0;
			goto out;
		}
		cJSON_Delete(a);
	} else if (res.status) {
		/* A Status object's message: the API server's reason, on one line. */
		msg = kubernetes_status_message(&res, KUBERNETES_MESSAGE_MAX);
	}
	strbuf_addf(why, "kubernetes: %s: ", what);
	not_kind = xstrfmt("the answer is not a%s %s", strchr("AEIOU", kind[0]) ? "n" : "", kind);
	http_answer_why(why, &res, NULL, not_kind, msg);
	free(not_kind);
out:
	free(msg);
	http_request_release(&req);
	http_response_release(&res);
	return ret;
}
