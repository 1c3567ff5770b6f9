/*
 * alertmanager.h: the Alertmanager API v2 client (lib/alertmanager.c),
 * read by the Alertmanager source of `sre scout` (scout-alertmanager.c).
 */
#ifndef SRE_ALERTMANAGER_H
#define SRE_ALERTMANAGER_H

#include <cJSON.h>

#include "http.h"
#include "strbuf.h"

/*
 * The URL of the alerts that page: GET /api/v2/alerts of base (a trailing
 * '/' is dropped), active, neither silenced nor inhibited. The caller's.
 */
char *alertmanager_alerts_url(const char *base);
/*
 * An answer of Alertmanager's API, parsed (the caller's): a JSON array of
 * alerts; or NULL with why: unreachable, "HTTP <status>[: ...]", or not
 * Alertmanager's JSON.
 */
cJSON *alertmanager_api_answer(const struct http_response *res, struct strbuf *why);
/*
 * Is this alert of /api/v2/alerts one that pages: active, and silenced or
 * inhibited by nothing? Asked again of every alert, since a proxy or an
 * old Alertmanager may ignore the URL's filters.
 */
int alertmanager_alert_pages(const cJSON *alert);

#endif
