/*
 * verify.c: did the fix work? The incident's own check is re-run, the
 * scout source that found it judging it as scout does, until it passes
 * scout.recover-after times in a row or fix.verify-timeout runs out.
 */
#include <errno.h>
#include <time.h>

#include "fix.h"
#include "scout.h"
#include "timeutil.h"
#include "util.h"

int verify_once(const struct config *cfg, struct http_client *http, const struct incident *inc,
		struct strbuf *seen)
{
	const struct scout_source *src = NULL;
	struct findings fs = FINDINGS_INIT;
	struct strbuf err = STRBUF_INIT;
	const struct finding *f = NULL;
	int ret;

	for (const struct scout_source *s = scout_sources; s->name; s++)
		if (!strcmp(s->name, inc->source))
			src = s;
	if (!src) {
		strbuf_addf(seen, "incident %lld came from %s, which has no check to re-run", inc->id,
			    inc->source);
		return VERIFY_NO_CHECK;
	}
	/* An alert is re-read only when scout reads alerts: silence would be no verdict. */
	if (!strcmp(inc->source, "prometheus") && strstr(inc->fingerprint, "/alert/")) {
		int alerts = 0;
		if (config_get_bool(cfg, "scout.alerts", &alerts) < 0 || !alerts) {
			strbuf_addstr(seen, "its alert is re-read only with scout.alerts = true");
			return VERIFY_NO_CHECK;
		}
	}
	if (src->collect(cfg, http, &fs, &err) < 0) {
		strbuf_addf(seen, "%s", err.buf);
		strbuf_release(&err);
		findings_clear(&fs);
		return -1;
	}
	for (size_t i = 0; i < fs.nr; i++)
		if (!strcmp(fs.v[i].fingerprint, inc->fingerprint))
			f = &fs.v[i];
	if (f) {
		ret = !f->failing;
		strbuf_addstr(seen, f->summary ? f->summary : (ret ? "passing" : "failing"));
	} else if (scout_silence_is_healthy(inc)) {
		ret = 1;
		strbuf_addf(seen, "%s reports nothing wrong with %s any more", inc->source, inc->service);
	} else {
		ret = -1;
		strbuf_addf(seen, "%s has no verdict on %s this time", inc->source, inc->service);
	}
	strbuf_release(&err);
	findings_clear(&fs);
	return ret;
}

int verify_options_read(struct verify_options *o, const struct config *cfg)
{
	long long n = 2;
	int r;

	o->passes = 2;
	o->timeout_ms = 5 * 60 * 1000;
	o->interval_ms = 10 * 1000;
	r = config_get_int(cfg, "scout.recover-after", &n);
	if (r < 0)
		return -1;
	if (n < 1 || n > 100)
		return error("scout.recover-after is %lld; it takes 1 to 100", n);
	o->passes = (int)n;
	if (config_get_duration_ms(cfg, "fix.verify-timeout", &o->timeout_ms) < 0 ||
	    config_get_duration_ms(cfg, "fix.verify-interval", &o->interval_ms) < 0)
		return -1;
	return 0;
}

int verify_fix(const struct config *cfg, const struct incident *inc,
	       const struct verify_options *o, struct strbuf *seen)
{
	struct http_client http;
	int64_t deadline = monotonic_ms() + o->timeout_ms;
	int in_a_row = 0, judged = 0, ret = 0;

	if (http_client_init(&http, cfg) < 0)
		return -1;
	for (;;) {
		int r;

		strbuf_reset(seen);
		r = verify_once(cfg, &http, inc, seen);
		if (r >= 0)
			judged = 1;
		in_a_row = r == 1 ? in_a_row + 1 : 0;
		if (in_a_row >= o->passes) {
			ret = 1;
			break;
		}
		/* No check to re-run: waiting will not give it one. */
		if (r == VERIFY_NO_CHECK)
			break;
		if (monotonic_ms() + o->interval_ms > deadline) {
			ret = judged ? 0 : -1;
			break;
		}
		sleep_ms(o->interval_ms);
	}
	http_client_release(&http);
	return ret == 0 && !judged ? -1 : ret;
}
