/*
 * deliver.c: sre_deliver(), the outbox delivered to the tracker, Slack and
 * PagerDuty after a command's writes, and what it left undone said: on
 * stderr for a command, or as lines for `sre run`'s sync step, which says
 * a condition once rather than each pass (sre_deliver_into()).
 */
#include "builtin.h"
#include "../lib/mirror.h"
#include "../lib/notify.h"
#include "../lib/pagerduty.h"
#include "../lib/tracker.h"

/* Where a delivery's words go: stderr, or the lines of sre_deliver_into(). */
static struct strbuf *deliver_said;

static void SRE_PRINTF(1, 2) deliver_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (deliver_said) {
		strbuf_vaddf(deliver_said, fmt, ap);
		strbuf_addch(deliver_said, '\n');
	} else {
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

/* Say what a delivery run left undone; 1 when something was refused. */
static int report(const char *who, struct mirror_report *rep)
{
	int ret = 0;

	if (rep->failed) {
		/* Each line already names the system and the request. */
		for (const char *l = rep->messages.buf; *l;) {
			const char *nl = strchrnul(l, '\n');
			if (nl > l)
				deliver_say("error: %.*s", (int)(nl - l), l);
			l = *nl ? nl + 1 : nl;
		}
		deliver_say("hint: 'sre sync --status' lists what was refused");
		ret = 1;
	} else if (rep->pending) {
		const char *nl = strchrnul(rep->messages.buf, '\n');
		deliver_say("sre: %d write%s to %s queued; 'sre sync' delivers %s",
			    rep->pending, rep->pending > 1 ? "s" : "", who,
			    rep->pending > 1 ? "them" : "it");
		if (nl > rep->messages.buf)
			deliver_say("sre: %.*s", (int)(nl - rep->messages.buf), rep->messages.buf);
	}
	if (rep->followed)
		deliver_say("sre: %d incident%s moved to follow %s", rep->followed,
			    rep->followed > 1 ? "s" : "", who);
	return ret;
}

int sre_deliver(void)
{
	struct tracker *t = sre_tracker();
	int notifier = notify_configured(&the_sre.cfg), ret = 0;
	int pager = pagerduty_configured(&the_sre.cfg);

	if ((!t && !notifier && !pager) || !sre_store_if_exists())
		return 0;
	switch (store_delivery_lock(sre_store())) {
	case 0:
		break;
	case 1:
		deliver_say("sre: another sre is still delivering the outbox; "
			    "what is queued waits for 'sre sync'");
		return 0;
	default:
		die("cannot take the outbox for delivery");
	}
	/* The tracker first: a notification then links to its issue. */
	if (t) {
		struct mirror_report rep = MIRROR_REPORT_INIT;
		if (mirror_flush(sre_store(), t, &rep) < 0)
			die("cannot deliver the outbox to %s", t->ops->name);
		ret |= report(t->ops->name, &rep);
		mirror_report_release(&rep);
	}
	if (notifier) {
		struct mirror_report rep = MIRROR_REPORT_INIT;
		if (notify_flush(sre_store(), &the_sre.cfg, &rep) < 0)
			ret = 1;
		else
			ret |= report("slack", &rep);
		mirror_report_release(&rep);
	}
	if (pager) {
		struct mirror_report rep = MIRROR_REPORT_INIT;
		if (pagerduty_flush(sre_store(), &the_sre.cfg, &rep) < 0)
			ret = 1;
		else
			ret |= report("pagerduty", &rep);
		mirror_report_release(&rep);
	}
	store_delivery_unlock(sre_store());
	return ret;
}

int sre_deliver_into(struct strbuf *said)
{
	int ret;

	deliver_said = said;
	ret = sre_deliver();
	deliver_said = NULL;
	return ret;
}

