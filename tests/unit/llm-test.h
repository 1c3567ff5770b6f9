/*
 * llm-test.h: what the unit tests of the LLM wire formats share: a
 * stream fed to a provider's parser through the common framing, in one
 * piece or byte by byte (a parser must not care where the network cut
 * it), and a reply written as one line, so that a test states the whole
 * reply it expects in one string.
 */
#ifndef SRE_LLM_TEST_H
#define SRE_LLM_TEST_H

#include "../../lib/llm.h"
#include "tap.h"

/* Feed s to a new stream of ops in pieces of step bytes (0: whole). 0 or -1. */
static inline int llm_test_feed(const struct llm_provider_ops *ops, const char *s, size_t len,
				size_t step, struct llm_reply *r)
{
	struct llm_stream *st = llm_stream_new(ops, r);
	int rc = 0;

	if (!step)
		step = len ? len : 1;
	for (size_t i = 0; i < len && !rc; i += step)
		rc = llm_stream_feed(st, s + i, len - i < step ? len - i : step);
	if (!rc)
		rc = llm_stream_finish(st);
	llm_stream_free(st);
	return rc;
}

/*
 * The reply in one line: text=...|call id name args|...|finish=...|
 * tokens=in/out, and error=... when it failed.
 */
static inline void llm_test_summary(struct strbuf *sb, int rc, const struct llm_reply *r)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "rc=%d", rc);
	if (r->text)
		strbuf_addf(sb, "|text=%s", r->text);
	for (size_t i = 0; i < r->calls_nr; i++)
		strbuf_addf(sb, "|call %s %s %s", r->calls[i].id ? r->calls[i].id : "(null)",
			    r->calls[i].name ? r->calls[i].name : "(null)",
			    r->calls[i].arguments ? r->calls[i].arguments : "(null)");
	if (r->finish)
		strbuf_addf(sb, "|finish=%s", r->finish);
	if (r->input_tokens || r->output_tokens)
		strbuf_addf(sb, "|tokens=%lld/%lld", r->input_tokens, r->output_tokens);
	if (r->error.len)
		strbuf_addf(sb, "|error=%s", r->error.buf);
}

/* Parse s whole and byte by byte: both must give want. */
static inline void llm_test_stream(const struct llm_provider_ops *ops, const char *title,
				   const char *s, const char *want)
{
	static const size_t steps[] = { 0, 1, 7 };
	struct strbuf got = STRBUF_INIT;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct llm_reply r = LLM_REPLY_INIT;
		int rc = llm_test_feed(ops, s, strlen(s), steps[i], &r);

		llm_test_summary(&got, rc, &r);
		is_str(got.buf, want, "%s (%s)", title,
		       !steps[i] ? "whole" : steps[i] == 1 ? "byte by byte" : "7 bytes at a time");
		llm_reply_release(&r);
	}
	strbuf_release(&got);
}

#endif
