/*
 * engine.c: what the engines of the loop share: notes for a person
 * watching, and the lease one run holds on an incident (lib/engine.h).
 */
#include <stdarg.h>

#include "engine.h"
#include "fix.h"
#include "strbuf.h"
#include "timeutil.h"

void engine_note(const struct engine_context *ctx, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (!ctx->note)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ctx->note(ctx->note_data, sb.buf);
	strbuf_release(&sb);
}

int engine_lease_take(const struct engine_context *ctx, long long id, const char *command)
{
	struct verify_options vo;
	struct lease holder = { 0 };
	char since[32];
	int r;

	if (verify_options_read(&vo, ctx->cfg) < 0)
		return -1;
	r = store_lease_take(ctx->store, id, command, (int)(vo.timeout_ms / 1000) + 900, 5000,
			     &holder);
	if (r == 1) {
		format_iso8601(since, sizeof(since), holder.taken_at);
		error("incident %lld is being worked on by another run (%s, pid %lld on %s since %s); "
		      "leaving it to that run", id, holder.command, holder.pid, holder.host, since);
	}
	lease_release(&holder);
	return r;
}
