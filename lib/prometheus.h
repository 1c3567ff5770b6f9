/*
 * prometheus.h: the Prometheus HTTP API client (lib/prometheus.c), shared
 * by the scout source (scout-prometheus.c) and the evidence collector
 * (collect-prometheus.c).
 */
#ifndef SRE_PROMETHEUS_H
#define SRE_PROMETHEUS_H

#include <cJSON.h>

#include "config.h"
#include "http.h"
#include "strbuf.h"

/* How requests to Prometheus authenticate: prometheus.user and its password, or a token. */
struct prometheus_auth {
	char *userpwd;        /* "user:password" for basic auth, or NULL */
	struct strbuf header; /* "Authorization: Bearer <token>", or empty */
};

#define PROMETHEUS_AUTH_INIT { NULL, STRBUF_INIT }
/* Read it, registering the secret with http: 0, or -1 with a line in err (no secret in it). */
int prometheus_auth_read(const struct config *cfg, struct http_client *http,
			 struct prometheus_auth *auth, struct strbuf *err);
/* Make req carry it; req borrows from auth, which must outlive it. */
void prometheus_auth_apply(const struct prometheus_auth *auth, struct http_request *req);
/* Wipe and free it. */
void prometheus_auth_release(struct prometheus_auth *auth);
/*
 * An answer of Prometheus's API, parsed (the caller's), or NULL with why:
 * unreachable, "HTTP <status>[: ...]", or not Prometheus's JSON. A 400 or
 * 422 carrying Prometheus's error is an answer: see prometheus_api_data().
 */
cJSON *prometheus_api_answer(const struct http_response *res, struct strbuf *why);
/* The data of a successful answer, borrowed; NULL with "<errorType>: <error>" in why. */
const cJSON *prometheus_api_data(const cJSON *answer, struct strbuf *why);

#endif
