/*
 * tracker.c: choosing the tracker (tracker_open() hands it to the backend
 * that tracker.kind names) and asking, once, which account it acts as.
 * What the backends share lives below them, in tracker-common.c
 * (tracker-internal.h), so that no backend calls back into this file.
 */
#include "tracker-internal.h"

int tracker_open(struct tracker **out, const struct config *cfg)
{
	const char *kind = config_get_string(cfg, "tracker.kind");
	struct tracker *t;
	int ret;

	*out = NULL;
	if (!kind || !*kind || !strcmp(kind, "local"))
		return 0;
	if (strcmp(kind, "github") && strcmp(kind, "jira"))
		return error("tracker.kind is '%s'; it takes local, github or jira", kind);
	t = xcalloc(1, sizeof(*t));
	strbuf_init(&t->error, 0);
	t->cfg = cfg;
	if (http_client_init(&t->http, cfg) < 0) {
		free(t);
		return -1;
	}
	ret = !strcmp(kind, "github") ? github_open(t) : jira_open(t);
	if (ret < 0) {
		tracker_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void tracker_free(struct tracker *t)
{
	if (!t)
		return;
	if (t->ops && t->ops->free)
		t->ops->free(t);
	http_client_release(&t->http);
	strbuf_release(&t->error);
	free(t->self);
	free(t);
}

int tracker_self(struct tracker *t, const char **out)
{
	int r;

	if (!t->self) {
		r = t->ops->whoami(t, &t->self);
		if (r != TRACKER_OK)
			return r;
		if (!t->self || !*t->self) {
			free(t->self);
			t->self = NULL;
			strbuf_reset(&t->error);
			strbuf_addf(&t->error, "%s: the tracker did not say which account sre signs in as",
				    t->ops->name);
			return TRACKER_FAIL;
		}
	}
	*out = t->self;
	return TRACKER_OK;
}
