/*
 * outbox.c: the queueing and the report shared by the outbox's deliverers
 * (mirror.c, notify.c); see outbox.h.
 */
#include <sys/random.h>

#include "http.h"
#include "outbox.h"

void outbox_new_key(char out[37])
{
	unsigned char r[16];
	size_t got = 0;

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
		if (n <= 0)
			abort(); /* the kernel always has randomness for us */
		got += (size_t)n;
	}
	memcpy(out, "sre-", 4);
	for (int i = 0; i < 16; i++)
		snprintf(out + 4 + 2 * i, 3, "%02x", r[i]);
}

int outbox_queue(struct store *st, long long id, const char *key, const char *target,
		 const char *operation, cJSON *payload)
{
	char fresh[37], *text = cJSON_PrintUnformatted(payload);
	int ret;

	if (!key) {
		outbox_new_key(fresh);
		key = fresh;
	}
	ret = text ? store_outbox_add(st, id, key, target, operation, text) :
		     error("cannot encode the %s write of incident %lld as JSON", target, id);
	cJSON_free(text);
	cJSON_Delete(payload);
	return ret < 0 ? -1 : 0;
}

void mirror_report_release(struct mirror_report *rep)
{
	strbuf_release(&rep->messages);
}

int outbox_record(struct store *st, long long id, enum outbox_outcome outcome, const char *msg,
		  struct mirror_report *rep)
{
	int r;

	switch (outcome) {
	case OUTBOX_SENT:
		rep->delivered++;
		return store_outbox_delivered(st, id) < 0 ? -1 : 0;
	case OUTBOX_REFUSED:
		r = store_outbox_error(st, id, msg, 1) < 0 ? -1 : 0;
		strbuf_addf(&rep->messages, "%s\n", msg);
		rep->failed++;
		return r;
	case OUTBOX_LATER:
	default:
		r = store_outbox_error(st, id, msg, 0) < 0 ? -1 : 1;
		strbuf_addf(&rep->messages, "%s\n", msg);
		rep->pending++;
		return r;
	}
}

enum outbox_outcome outbox_later(struct strbuf *msg, const struct http_response *res,
				 void (*add_answer)(struct strbuf *sb, const struct strbuf *body))
{
	const char *wait = http_header(res, "retry-after");

	if (res->status) {
		strbuf_addf(msg, "HTTP %ld", res->status);
		add_answer(msg, &res->body);
		if (res->status == 429 && wait) {
			/* The server's header: shown, never obeyed, and cleaned of controls. */
			strbuf_addstr(msg, " (Retry-After: ");
			for (size_t i = 0; wait[i] && i < 20; i++)
				strbuf_addch(msg, (unsigned char)wait[i] < 0x20 || (unsigned char)wait[i] >= 0x7f ?
					     '?' : wait[i]);
			strbuf_addch(msg, ')');
		}
		strbuf_addf(msg, " after %d attempt%s", res->attempts, res->attempts == 1 ? "" : "s");
	} else {
		strbuf_addstr(msg, res->error.len ? res->error.buf : "no answer");
	}
	strbuf_addstr(msg, "; kept queued");
	return OUTBOX_LATER;
}
