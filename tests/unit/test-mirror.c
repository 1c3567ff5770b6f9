/*
 * test-mirror.c: unit tests of lib/mirror.c (mirror.h) on real SQLite
 * files, printing TAP, against a stub tracker: a struct tracker_ops over
 * issues held in memory, which counts every call and can be told to fail
 * the next one. No network: what is checked is mirror.c's own decisions,
 * the outbox's delivery exactly once, after a crash and across failures,
 * the tracker winning (but never into a working state), and what an
 * import takes from a ticket's comments.
 */
#include "../../lib/mirror.h"
#include "test-lib.h"

#define SELF "sre-bot"

/* ---- the stub tracker ---- */

struct stub_comment {
	char *author_id;
	char *text;
	cJSON *record;
};

struct stub_issue {
	char key[16];
	char *fingerprint;
	int state;        /* an enum incident_state or -1 */
	int closed;
	struct stub_comment comments[16];
	size_t comments_nr;
	char labels[256];
	char assignee[64];
};

enum stub_op { OP_FIND, OP_CREATE, OP_GET, OP_MOVE, OP_COMMENT, OP_COMMENTS, OP_LABEL,
	       OP_SEARCH, OP_WHOAMI, OP_ASSIGN, OP_OPEN_ISSUE, OP_FIND_LABELLED, OP__COUNT };

static struct {
	struct stub_issue issues[8];
	size_t nr;
	int calls[OP__COUNT];
	int fail_op;     /* the op that fails next, or -1 */
	int fail_code;   /* TRACKER_RETRY or TRACKER_FAIL */
} stub;

static void stub_reset(void)
{
	for (size_t i = 0; i < stub.nr; i++) {
		free(stub.issues[i].fingerprint);
		for (size_t c = 0; c < stub.issues[i].comments_nr; c++) {
			free(stub.issues[i].comments[c].author_id);
			free(stub.issues[i].comments[c].text);
			cJSON_Delete(stub.issues[i].comments[c].record);
		}
	}
	memset(&stub, 0, sizeof(stub));
	stub.fail_op = -1;
}

static struct stub_issue *stub_add(const char *fingerprint, int state, int closed)
{
	struct stub_issue *is;

	if (stub.nr == ARRAY_SIZE(stub.issues)) {
		printf("# the stub holds %zu issues at most\n", stub.nr);
		abort();
	}
	is = &stub.issues[stub.nr];

	snprintf(is->key, sizeof(is->key), "%zu", 40 + stub.nr);
	stub.nr++;
	is->fingerprint = xstrdup(fingerprint);
	is->state = state;
	is->closed = closed;
	return is;
}

static struct stub_issue *stub_issue(const char *key)
{
	for (size_t i = 0; i < stub.nr; i++)
		if (key && !strcmp(stub.issues[i].key, key))
			return &stub.issues[i];
	return NULL;
}

static void stub_comment_add(struct stub_issue *is, const char *author, const char *text,
			     const cJSON *record)
{
	struct stub_comment *c;

	if (is->comments_nr == ARRAY_SIZE(is->comments)) {
		printf("# the stub holds %zu comments an issue at most\n", is->comments_nr);
		abort();
	}
	c = &is->comments[is->comments_nr++];

	c->author_id = xstrdup(author);
	c->text = xstrdup(text);
	c->record = record ? cJSON_Duplicate(record, 1) : NULL;
}

/* Count the call; the queued failure when it is for op. */
static int stub_enter(struct tracker *t, enum stub_op op)
{
	stub.calls[op]++;
	if (stub.fail_op == (int)op) {
		stub.fail_op = -1;
		strbuf_reset(&t->error);
		strbuf_addf(&t->error, "stub: call %d: HTTP %d", (int)op,
			    stub.fail_code == TRACKER_RETRY ? 503 : 422);
		return stub.fail_code;
	}
	return TRACKER_OK;
}

static void fill(const struct stub_issue *is, struct remote_issue *out)
{
	memset(out, 0, sizeof(*out));
	out->key = xstrdup(is->key);
	out->url = xstrfmt("https://tracker.example/issues/%s", is->key);
	out->fingerprint = xstrdup(is->fingerprint);
	out->title = xstrfmt("ticket %s", is->key);
	out->state = is->state;
	out->closed = is->closed;
}

static int stub_find(struct tracker *t, const char *fingerprint, struct remote_issue *out)
{
	int r = stub_enter(t, OP_FIND);

	if (r)
		return r;
	for (size_t i = 0; i < stub.nr; i++)
		if (!stub.issues[i].closed && !strcmp(stub.issues[i].fingerprint, fingerprint)) {
			fill(&stub.issues[i], out);
			return TRACKER_OK;
		}
	return TRACKER_NOT_FOUND;
}

static int stub_create(struct tracker *t, const struct incident *inc, struct remote_issue *out)
{
	int r = stub_enter(t, OP_CREATE);

	if (r)
		return r;
	fill(stub_add(inc->fingerprint, STATE_INCIDENT_DETECTED, 0), out);
	return TRACKER_OK;
}

static int stub_get(struct tracker *t, const char *key, struct remote_issue *out)
{
	int r = stub_enter(t, OP_GET);
	struct stub_issue *is = stub_issue(key);

	if (r)
		return r;
	if (!is)
		return TRACKER_NOT_FOUND;
	fill(is, out);
	return TRACKER_OK;
}

static int stub_move(struct tracker *t, const char *key, enum incident_state to)
{
	int r = stub_enter(t, OP_MOVE);
	struct stub_issue *is = stub_issue(key);

	if (r)
		return r;
	if (!is)
		return TRACKER_NOT_FOUND;
	is->state = (int)to;
	is->closed = to == STATE_INCIDENT_RESOLVED;
	return TRACKER_OK;
}

static int stub_post(struct tracker *t, const char *key, const char *prose, const cJSON *record)
{
	int r = stub_enter(t, OP_COMMENT);
	struct stub_issue *is = stub_issue(key);

	if (r)
		return r;
	if (!is)
		return TRACKER_NOT_FOUND;
	stub_comment_add(is, SELF, prose, record);
	return TRACKER_OK;
}

static int stub_comments(struct tracker *t, const char *key, struct remote_comment **out,
			 size_t *nr)
{
	int r = stub_enter(t, OP_COMMENTS);
	struct stub_issue *is = stub_issue(key);

	*out = NULL;
	*nr = 0;
	if (r)
		return r;
	if (!is)
		return TRACKER_NOT_FOUND;
	*out = xcalloc(is->comments_nr + 1, sizeof(**out));
	for (size_t i = 0; i < is->comments_nr; i++) {
		struct remote_comment *c = &(*out)[i];
		c->id = xstrfmt("c%zu", i);
		c->author = xstrdup(is->comments[i].author_id);
		c->author_id = xstrdup(is->comments[i].author_id);
		c->created = xstrdup("2026-11-24T05:07:00Z");
		c->text = xstrdup(is->comments[i].text);
		c->record = is->comments[i].record ? cJSON_Duplicate(is->comments[i].record, 1)
						   : NULL;
	}
	*nr = is->comments_nr;
	return TRACKER_OK;
}

static int stub_label(struct tracker *t, const char *key, const char *add, const char *remove)
{
	int r = stub_enter(t, OP_LABEL);
	struct stub_issue *is = stub_issue(key);

	if (r)
		return r;
	if (!is)
		return TRACKER_NOT_FOUND;
	if (add) /* kept for a test to read; cut, never overflowed */
		snprintf(is->labels + strlen(is->labels), sizeof(is->labels) - strlen(is->labels),
			 "%s;", add);
	return TRACKER_OK;
}

static int stub_search(struct tracker *t, const struct tracker_query *q,
		       struct remote_issue **out, size_t *nr)
{
	int r = stub_enter(t, OP_SEARCH);

	*out = NULL;
	*nr = 0;
	if (r)
		return r;
	*out = xcalloc(stub.nr + 1, sizeof(**out));
	for (size_t i = 0; i < stub.nr; i++)
		fill(&stub.issues[i], &(*out)[i]);
	*nr = stub.nr;
	return TRACKER_OK;
}

static int stub_whoami(struct tracker *t, char **out)
{
	int r = stub_enter(t, OP_WHOAMI);

	if (r)
		return r;
	*out = xstrdup(SELF);
	return TRACKER_OK;
}

static int stub_assign(struct tracker *t, const char *key, const char *who)
{
	int r = stub_enter(t, OP_ASSIGN);
	struct stub_issue *is = stub_issue(key);

	if (r)
		return r;
	if (!is)
		return TRACKER_NOT_FOUND;
	snprintf(is->assignee, sizeof(is->assignee), "%s", who);
	return TRACKER_OK;
}

static int stub_open_issue(struct tracker *t, const char *title, const char *body,
			   const struct strvec *labels, struct remote_issue *out)
{
	int r = stub_enter(t, OP_OPEN_ISSUE);
	struct stub_issue *is;

	if (r)
		return r;
	is = stub_add(title, -1, 0);
	for (size_t i = 0; i < labels->nr; i++)
		snprintf(is->labels + strlen(is->labels), sizeof(is->labels) - strlen(is->labels),
			 "%s;", labels->v[i]);
	fill(is, out);
	return body ? TRACKER_OK : TRACKER_FAIL;
}

static int stub_find_labelled(struct tracker *t, const char *label, struct remote_issue *out)
{
	int r = stub_enter(t, OP_FIND_LABELLED);
	char *want = xstrfmt("%s;", label);

	for (size_t i = stub.nr; !r && i-- > 0;)
		if (strstr(stub.issues[i].labels, want)) {
			fill(&stub.issues[i], out);
			free(want);
			return TRACKER_OK;
		}
	free(want);
	return r ? r : TRACKER_NOT_FOUND;
}

static const struct tracker_ops stub_ops = {
	.assign = stub_assign,
	.open_issue = stub_open_issue,
	.find_labelled = stub_find_labelled,
	.name = "stub",
	.find = stub_find,
	.create = stub_create,
	.get = stub_get,
	.move = stub_move,
	.comment = stub_post,
	.comments = stub_comments,
	.label = stub_label,
	.search = stub_search,
	.whoami = stub_whoami,
};

/* ---- a fresh store and tracker per test ---- */

struct world {
	struct store *st;
	struct tracker *t;
	struct config cfg;
	char *path;
};

static int world_open(struct world *w, const char *name)
{
	memset(w, 0, sizeof(*w));
	stub_reset();
	w->path = tmp_path(name);
	if (store_open(&w->st, w->path, 5000) < 0) {
		printf("# cannot open the store %s\n", w->path);
		return -1;
	}
	w->t = xcalloc(1, sizeof(*w->t));
	strbuf_init(&w->t->error, 0);
	w->t->ops = &stub_ops;
	w->t->cfg = &w->cfg;
	http_client_init(&w->t->http, &w->cfg);
	return 0;
}

static void world_close(struct world *w)
{
	tracker_free(w->t);
	store_free(w->st);
	config_clear(&w->cfg);
	free(w->path);
	stub_reset();
}

static long long open_incident(struct world *w, const char *fp)
{
	struct incident_new in = {
		.service = "checkout", .title = "checkout returned 503", .fingerprint = fp,
		.source = "http", .severity = SEVERITY_HIGH, .actor = "test",
	};
	long long id = 0;
	int created = 0;

	if (mirror_incident_open(w->st, w->t, NULL, &in, &id, &created) < 0 || !created)
		printf("# cannot open an incident %s\n", fp);
	return id;
}

static int flush(struct world *w, struct mirror_report *rep)
{
	mirror_report_release(rep);
	memset(rep, 0, sizeof(*rep));
	strbuf_init(&rep->messages, 0);
	return mirror_flush(w->st, w->t, rep);
}

static int state_of(struct world *w, long long id)
{
	struct incident inc;
	int s;

	if (store_incident_get(w->st, id, &inc))
		return -1;
	s = (int)inc.state;
	incident_release(&inc);
	return s;
}

static char *remote_key_of(struct world *w, long long id)
{
	struct incident inc;
	char *k;

	if (store_incident_get(w->st, id, &inc))
		return NULL;
	k = inc.remote_key ? xstrdup(inc.remote_key) : NULL;
	incident_release(&inc);
	return k;
}

static int remote_key_of_ok(struct world *w, long long id)
{
	char *k = remote_key_of(w, id);
	int has = k != NULL;

	free(k);
	return has;
}

/* How many events of this kind incident id has; with body containing needle when given. */
static int count_events(struct world *w, long long id, const char *kind, const char *needle)
{
	struct event *ev = NULL;
	size_t nr = 0;
	int n = 0;

	if (store_event_list(w->st, id, &ev, &nr) < 0)
		return -1;
	for (size_t i = 0; i < nr; i++)
		n += !strcmp(ev[i].kind, kind) && (!needle || (ev[i].body && strstr(ev[i].body, needle)));
	event_list_free(ev, nr);
	return n;
}

/* The only pending (or last) outbox entry: status, attempts, error. */
static int outbox_last(struct world *w, struct outbox_item *out)
{
	struct outbox_item *items = NULL;
	size_t nr = 0;

	memset(out, 0, sizeof(*out));
	if (store_outbox_list(w->st, 0, &items, &nr) < 0 || !nr) {
		outbox_list_free(items, nr);
		return -1;
	}
	*out = items[nr - 1];
	memset(&items[nr - 1], 0, sizeof(items[nr - 1]));
	outbox_list_free(items, nr);
	return 0;
}

static void outbox_item_release(struct outbox_item *it)
{
	free(it->key);
	free(it->target);
	free(it->operation);
	free(it->payload);
	free(it->last_error);
}

static int queue_comment(struct world *w, long long id, const char *key, const char *text)
{
	int r;

	if (store_begin(w->st) < 0)
		return -1;
	r = mirror_queue_comment(w->st, "stub", id, key, "test", text);
	if (r < 0) {
		store_rollback(w->st);
		return -1;
	}
	return store_commit(w->st);
}

/* ---- the tests ---- */

static void test_create_once(void)
{
	struct world w;
	struct mirror_report rep = MIRROR_REPORT_INIT;
	char *key;
	long long id;

	if (world_open(&w, "create.db") < 0)
		return;
	id = open_incident(&w, "http/checkout/status");
	is_int(flush(&w, &rep), 0, "create: mirror_flush runs");
	is_int(rep.delivered, 1, "create: one write delivered");
	is_int(stub.calls[OP_FIND], 1, "create: it looked for an issue with the fingerprint first");
	is_int(stub.calls[OP_CREATE], 1, "create: and made one");
	key = remote_key_of(&w, id);
	is_str(key, "40", "create: the incident knows its issue");
	is_int(count_events(&w, id, "remote", "\"adopted\":false"), 1,
	       "create: a remote event says it was made, not adopted");
	free(key);

	is_int(flush(&w, &rep), 0, "create: a second run");
	is_int(rep.delivered + rep.pending + rep.failed, 0, "create: has nothing to do");
	is_int(stub.calls[OP_CREATE], 1, "create: still one issue made");
	mirror_report_release(&rep);
	world_close(&w);
}

static void test_create_adopts(void)
{
	struct world w;
	struct mirror_report rep = MIRROR_REPORT_INIT;
	char *key;
	long long id;

	if (world_open(&w, "adopt.db") < 0)
		return;
	/* Another host (or this one, before a crash) made the issue already. */
	stub_add("http/checkout/status", STATE_INCIDENT_DETECTED, 0);
	id = open_incident(&w, "http/checkout/status");
	flush(&w, &rep);
	is_int(rep.delivered, 1, "adopt: delivered");
	is_int(stub.calls[OP_CREATE], 0, "adopt: no second issue is made");
	key = remote_key_of(&w, id);
	is_str(key, "40", "adopt: the open issue with the fingerprint is adopted");
	is_int(count_events(&w, id, "remote", "\"adopted\":true"), 1, "adopt: and the event says so");
	free(key);
	mirror_report_release(&rep);
	world_close(&w);
}

static void test_comment_exactly_once(void)
{
	struct world w;
	struct mirror_report rep = MIRROR_REPORT_INIT;
	struct outbox_item it;
	cJSON *rec;
	long long id;

	if (world_open(&w, "comment.db") < 0)
		return;
	id = open_incident(&w, "http/checkout/status");
	flush(&w, &rep);
	queue_comment(&w, id, "sre-00000000000000000000000000000001", "first words");
	flush(&w, &rep);
	is_int(rep.delivered, 1, "comment: delivered");
	is_int(stub.issues[0].comments_nr, 1, "comment: one comment on the issue");
	is_int(stub.calls[OP_COMMENTS], 0, "comment: a first attempt does not look first");
	rec = stub.issues[0].comments[0].record;
	is_str(rec ? cJSON_GetStringValue(cJSON_GetObjectItem(rec, "key")) : NULL,
	       "sre-00000000000000000000000000000001", "comment: its record carries the key");
	is_str(stub.issues[0].comments[0].text, "first words", "comment: the prose");

	/*
	 * A crash after the request went out: the attempt was counted, the
	 * comment landed, the entry was never marked delivered.
	 */
	queue_comment(&w, id, "sre-00000000000000000000000000000002", "second words");
	outbox_last(&w, &it);
	store_outbox_attempt(w.st, it.id);
	outbox_item_release(&it);
	rec = cJSON_CreateObject();
	cJSON_AddStringToObject(rec, "key", "sre-00000000000000000000000000000002");
	cJSON_AddStringToObject(rec, "kind", "comment");
	stub_comment_add(&stub.issues[0], SELF, "second words", rec);
	flush(&w, &rep);
	is_int(rep.delivered, 1, "after a crash: delivered");
	ok(stub.calls[OP_COMMENTS] >= 1, "after a crash: attempts > 0 looks for the key first");
	is_int(stub.issues[0].comments_nr, 2, "after a crash: and posts no second copy");

	/* The same key, but written by someone else: it did not land. */
	queue_comment(&w, id, "sre-00000000000000000000000000000003", "third words");
	outbox_last(&w, &it);
	store_outbox_attempt(w.st, it.id);
	outbox_item_release(&it);
	cJSON_ReplaceItemInObject(rec, "key", cJSON_CreateString("sre-00000000000000000000000000000003"));
	stub_comment_add(&stub.issues[0], "mallory", "third words", rec);
	flush(&w, &rep);
	is_int(rep.delivered, 1, "another account's copy of the key: delivered");
	is_int(stub.issues[0].comments_nr, 4, "another account's copy of the key: ours is posted");
	is_str(stub.issues[0].comments[3].author_id, SELF, "another account's copy: by us");
	cJSON_Delete(rec);
	mirror_report_release(&rep);
	world_close(&w);
}

static void test_transient(void)
{
	struct world w;
	struct mirror_report rep = MIRROR_REPORT_INIT;
	struct outbox_item it;
	long long a, b;

	if (world_open(&w, "transient.db") < 0)
		return;
	a = open_incident(&w, "http/a/status");
	b = open_incident(&w, "http/b/status");
	stub.fail_op = OP_FIND;
	stub.fail_code = TRACKER_RETRY;
	is_int(flush(&w, &rep), 0, "transient: mirror_flush is no error");
	is_int(rep.delivered, 0, "transient: nothing delivered");
	is_int(rep.pending, 2, "transient: both writes stay queued");
	is_int(rep.failed, 0, "transient: none failed");
	is_int(stub.calls[OP_FIND], 1, "transient: the run stopped at the first failure");
	like(rep.messages.buf, "stub: call 0: HTTP 503", "transient: the tracker's line is reported");
	outbox_last(&w, &it);
	is_int(it.status, OUTBOX_PENDING, "transient: the entry is pending");
	outbox_item_release(&it);

	flush(&w, &rep);
	is_int(rep.delivered, 2, "transient: the next run delivers both");
	ok(remote_key_of_ok(&w, a) && remote_key_of_ok(&w, b), "transient: both have an issue");
	is_int(stub.calls[OP_CREATE], 2, "transient: one issue each");
	mirror_report_release(&rep);
	world_close(&w);
}

static void test_permanent(void)
{
	struct world w;
	struct mirror_report rep = MIRROR_REPORT_INIT;
	long long id;

	if (world_open(&w, "permanent.db") < 0)
		return;
	id = open_incident(&w, "http/checkout/status");
	flush(&w, &rep);
	queue_comment(&w, id, "sre-00000000000000000000000000000009", "refused words");
	queue_comment(&w, id, "sre-0000000000000000000000000000000a", "later words");
	stub.fail_op = OP_COMMENT;
	stub.fail_code = TRACKER_FAIL;
	flush(&w, &rep);
	is_int(rep.failed, 1, "permanent: marked failed");
	is_int(rep.pending, 1, "permanent: the incident's later write waits");
	is_int(rep.delivered, 0, "permanent: nothing delivered");
	like(rep.messages.buf, "stub: call 4: HTTP 422", "permanent: the tracker's line is reported");
	{
		struct outbox_item *items = NULL;
		size_t nr = 0;
		int failed = 0;

		store_outbox_list(w.st, 0, &items, &nr);
		for (size_t i = 0; i < nr; i++)
			if (items[i].status == OUTBOX_FAILED) {
				failed++;
				is_str(items[i].last_error, "stub: call 4: HTTP 422",
				       "permanent: the store keeps the message");
			}
		is_int(failed, 1, "permanent: one entry failed for good");
		outbox_list_free(items, nr);
	}
	flush(&w, &rep);
	is_int(rep.delivered, 1, "permanent: the next run delivers the later write");
	is_int(stub.calls[OP_COMMENT], 2, "permanent: and never retries the failed one");
	mirror_report_release(&rep);
	world_close(&w);
}

static void test_tracker_wins(void)
{
	struct world w;
	struct mirror_report rep = MIRROR_REPORT_INIT;
	enum incident_state remote = STATE__COUNT;
	long long id;
	int r;

	if (world_open(&w, "wins.db") < 0)
		return;
	id = open_incident(&w, "http/checkout/status");
	flush(&w, &rep);
	/* Another host has moved the issue on. */
	stub.issues[0].state = STATE_ANALYSIS_COMPLETE;
	capture_start();
	r = mirror_incident_transition(w.st, w.t, NULL, id, -1, STATE_ANALYSIS_IN_PROGRESS,
				       "test", "diagnosing", &remote);
	capture_end();
	is_int(r, MIRROR_FOLLOWED, "wins: the move is refused, the tracker followed");
	is_int(remote, STATE_ANALYSIS_COMPLETE, "wins: *remote says where the tracker is");
	is_int(state_of(&w, id), STATE_ANALYSIS_COMPLETE, "wins: the local incident followed");
	is_int(count_events(&w, id, "transition", "\"source\":\"tracker\""), 1,
	       "wins: a transition event says the tracker moved it");
	is_int(stub.calls[OP_MOVE], 0, "wins: nothing was written to the tracker");

	/* Same state: the move goes ahead, queued for the tracker. */
	r = mirror_incident_transition(w.st, w.t, NULL, id, -1, STATE_INCIDENT_REQUIRES_HUMAN,
				       "test", "needs a person", &remote);
	is_int(r, 0, "in step: the move goes ahead");
	flush(&w, &rep);
	is_int(rep.delivered, 1, "in step: and is delivered");
	is_int(stub.issues[0].state, STATE_INCIDENT_REQUIRES_HUMAN, "in step: the tracker moved");
	is_int(count_events(&w, id, "transition", NULL), 2, "in step: two transitions locally");
	mirror_report_release(&rep);
	world_close(&w);
}

static void test_never_follow_working(void)
{
	struct world w;
	struct mirror_report rep = MIRROR_REPORT_INIT;
	enum incident_state remote = STATE__COUNT;
	long long id;

	if (world_open(&w, "working.db") < 0)
		return;
	id = open_incident(&w, "http/checkout/status");
	flush(&w, &rep);
	/* Anyone with access can set a label: it must not start a deployment here. */
	stub.issues[0].state = STATE_DEPLOYMENT_IN_PROGRESS;
	is_int(mirror_check_remote(w.st, w.t, id, STATE_INCIDENT_DETECTED, &remote), 1,
	       "working: the tracker disagrees (the move is refused)");
	is_int(store_incident_follow_remote(w.st, id, STATE_DEPLOYMENT_IN_PROGRESS, "again"),
	       STORE_NOT_FOLLOWED, "working: the store says STORE_NOT_FOLLOWED");
	is_int(state_of(&w, id), STATE_INCIDENT_DETECTED, "working: the local state stays");
	ok(count_events(&w, id, "remote-state", NULL) >= 1,
	   "working: a remote-state event records what the tracker said");
	is_int(count_events(&w, id, "transition", "DEPLOYMENT_IN_PROGRESS"), 0,
	       "working: no transition into it");
	mirror_report_release(&rep);
	world_close(&w);
}

static void test_pull_imports(void)
{
	struct world w;
	struct strvec new_ids = STRVEC_INIT, updated = STRVEC_INIT;
	struct stub_issue *is, *busy;
	cJSON *rec;
	long long id = 0;

	if (world_open(&w, "pull.db") < 0)
		return;
	is = stub_add("prometheus/checkout/HighLatency", STATE_ANALYSIS_COMPLETE, 0);
	rec = cJSON_CreateObject();
	cJSON_AddStringToObject(rec, "kind", "transition");
	cJSON_AddStringToObject(rec, "key", "k-own-transition");
	cJSON_AddStringToObject(rec, "from", "INCIDENT_DETECTED");
	cJSON_AddStringToObject(rec, "to", "ANALYSIS_COMPLETE");
	stub_comment_add(is, SELF, "moved", rec);
	cJSON_ReplaceItemInObject(rec, "kind", cJSON_CreateString("comment"));
	cJSON_ReplaceItemInObject(rec, "key", cJSON_CreateString("k-own-comment"));
	stub_comment_add(is, SELF, "said", rec);
	/* Someone else's record block: never imported. */
	cJSON_ReplaceItemInObject(rec, "key", cJSON_CreateString("k-mallory"));
	stub_comment_add(is, "mallory", "said", rec);
	/* Our own account, but a kind peers do not share: it could make sre act. */
	cJSON_ReplaceItemInObject(rec, "kind", cJSON_CreateString("action-started"));
	cJSON_ReplaceItemInObject(rec, "key", cJSON_CreateString("k-own-action"));
	stub_comment_add(is, SELF, "acting", rec);
	/* No key: not a record sre wrote. */
	cJSON_DeleteItemFromObject(rec, "key");
	cJSON_ReplaceItemInObject(rec, "kind", cJSON_CreateString("comment"));
	stub_comment_add(is, SELF, "keyless", rec);
	stub_comment_add(is, SELF, "plain words", NULL);
	cJSON_Delete(rec);
	busy = stub_add("prometheus/payments/Errors", STATE_DEPLOYMENT_IN_PROGRESS, 0);

	capture_start();
	is_int(mirror_pull(w.st, w.t, &(struct tracker_query){ 0 }, &new_ids, &updated), 0,
	       "pull: runs");
	capture_end();
	is_int(new_ids.nr, 2, "pull: two incidents imported");
	is_int(updated.nr, 0, "pull: none refreshed");
	if (new_ids.nr == 2) {
		id = atoll(new_ids.v[0]);
		is_int(state_of(&w, id), STATE_ANALYSIS_COMPLETE, "pull: the ticket's state");
		is_int(count_events(&w, id, "imported-transition", "k-own-transition"), 1,
		       "pull: our transition record, as imported-transition");
		is_int(count_events(&w, id, "imported-comment", "k-own-comment"), 1,
		       "pull: our comment record, as imported-comment");
		is_int(count_events(&w, id, "imported-comment", "k-mallory"), 0,
		       "pull: another account's record is not imported");
		is_int(count_events(&w, id, "action-started", NULL) +
		       count_events(&w, id, "imported-action-started", NULL), 0,
		       "pull: an action-started record is not imported under any kind");
		is_int(count_events(&w, id, "transition", "k-own-transition") +
		       count_events(&w, id, "comment", "k-own-comment"), 0,
		       "pull: nothing comes in under a local kind");
		is_int(count_events(&w, id, "imported-comment", NULL), 1,
		       "pull: the keyless record is not imported either");
		id = atoll(new_ids.v[1]);
		is_int(state_of(&w, id), STATE_INCIDENT_REQUIRES_HUMAN,
		       "pull: a ticket in a working state comes in as REQUIRES_HUMAN");
		ok(count_events(&w, id, "remote-state", NULL) >= 1,
		   "pull: with a remote-state event");
	}

	/* Each imported ticket is labelled as taken up by sre, through the outbox. */
	{
		struct mirror_report rep = MIRROR_REPORT_INIT;

		flush(&w, &rep);
		is_int(rep.delivered, 2, "pull: the two labels are delivered");
		is_str(stub.issues[0].labels, "sre;", "pull: the ticket is labelled sre");
		is_str(busy->labels, "sre;", "pull: the other too");
		mirror_report_release(&rep);
	}

		/* A second pull refreshes and imports nothing twice. */
	strvec_clear(&new_ids);
	capture_start();
	mirror_pull(w.st, w.t, &(struct tracker_query){ 0 }, &new_ids, &updated);
	capture_end();
	is_int(new_ids.nr, 0, "pull again: nothing new");
	is_int(updated.nr, 2, "pull again: both refreshed");
	if (new_ids.nr == 0 && id)
		is_int(count_events(&w, atoll(updated.v[0]), "imported-comment", NULL), 1,
		       "pull again: no record imported twice");
	strvec_clear(&new_ids);
	strvec_clear(&updated);
	world_close(&w);
}

static int queue_architecture(struct world *w, long long id, const long long *ids, size_t nr)
{
	if (store_begin(w->st) < 0)
		return -1;
	if (mirror_queue_architecture(w->st, "stub", id, "sre-chronic-0123456789ab", "jules-fix",
				      "Chronic: checkout", "the brief, password=brief-canary", ids, nr) < 0) {
		store_rollback(w->st);
		return -1;
	}
	return store_commit(w->st);
}

/* How many comments of the issue hold needle. */
static int comments_with(const char *key, const char *needle)
{
	struct stub_issue *is = stub_issue(key);
	int n = 0;

	for (size_t i = 0; is && i < is->comments_nr; i++)
		n += strstr(is->comments[i].text, needle) != NULL;
	return n;
}

static void test_architecture_once(void)
{
	struct world w;
	struct mirror_report rep = MIRROR_REPORT_INIT;
	long long ids[3];
	char *keys[3] = { NULL };

	if (world_open(&w, "architecture.db") < 0) {
		ok(0, "architecture: a store");
		return;
	}
	ids[0] = open_incident(&w, "fp-a");
	ids[1] = open_incident(&w, "fp-b");
	ids[2] = open_incident(&w, "fp-c");
	flush(&w, &rep);
	for (int i = 0; i < 3; i++)
		keys[i] = remote_key_of(&w, ids[i]);
	ok(keys[0] && keys[1] && keys[2], "architecture: the occurrences have issues");
	ok(!queue_architecture(&w, ids[2], ids, 3), "architecture: queued");
	/* The issue is opened, then the second link fails: the follow-up stays queued. */
	stub.fail_op = OP_COMMENT;
	stub.fail_code = TRACKER_RETRY;
	flush(&w, &rep);
	is_int(stub.calls[OP_OPEN_ISSUE], 1, "architecture: opened once");
	is_int((int)rep.pending, 1, "architecture: a failed link keeps it queued");
	flush(&w, &rep);
	is_int(stub.calls[OP_OPEN_ISSUE], 1, "architecture: the retry adopts it, opens none");
	is_int((int)rep.delivered, 1, "architecture: delivered on the retry");
	for (int i = 0; i < 3 && keys[0]; i++)
		is_int(comments_with(keys[i], "the architecture follow-up is https://tracker.example/issues/43"),
		       1, "architecture: each occurrence linked once");
	ok(stub.nr == 4 && strstr(stub.issues[3].labels, "jules-fix;") &&
	   strstr(stub.issues[3].labels, "sre-chronic-0123456789ab;"),
	   "architecture: labelled for the architects, and with its marker");
	is_int(count_events(&w, ids[2], "architecture", "\"adopted\":false"), 1,
	       "architecture: recorded once, as opened here");
	/* Queued again (another host, or a lost mark): adopted, no second issue, no second link. */
	ok(!queue_architecture(&w, ids[2], ids, 3), "architecture: queued again");
	flush(&w, &rep);
	is_int(stub.calls[OP_OPEN_ISSUE], 1, "architecture: queued again, still one issue");
	is_int(comments_with(keys[0], "architecture follow-up"), 2,
	       "architecture: a second queuing links again (another host's occurrences)");
	/* Assigning waits for the issue, then lands. */
	ok(!store_begin(w.st) && !mirror_queue_assign(w.st, "stub", ids[0], "mona") &&
	   !store_commit(w.st), "assign: queued");
	flush(&w, &rep);
	ok(stub_issue(keys[0]) && !strcmp(stub_issue(keys[0])->assignee, "mona"), "assign: delivered");
	for (int i = 0; i < 3; i++)
		free(keys[i]);
	mirror_report_release(&rep);
	world_close(&w);
}

int main(void)
{
	if (test_begin("mirror") < 0)
		return 1;
	test_create_once();
	test_create_adopts();
	test_comment_exactly_once();
	test_transient();
	test_permanent();
	test_tracker_wins();
	test_never_follow_working();
	test_pull_imports();
	test_architecture_once();
	return test_end();
}
