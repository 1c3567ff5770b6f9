/*
 * incident.c: state names, the transition graph, fingerprints and field
 * checks; see incident.h.
 */
#include <ctype.h>
#include <strings.h>

#include "incident.h"
#include "strbuf.h"

static const char *const state_names[] = {
#define X(s) #s,
	INCIDENT_STATES(X)
#undef X
};

static const char *const severity_names[] = { "critical", "high", "medium", "low" };

void incident_release(struct incident *inc)
{
	free(inc->fingerprint);
	free(inc->service);
	free(inc->title);
	free(inc->category);
	free(inc->source);
	free(inc->remote_key);
	free(inc->remote_url);
	memset(inc, 0, sizeof(*inc));
}

const char *incident_state_name(enum incident_state s)
{
	return (unsigned)s < STATE__COUNT ? state_names[s] : "UNKNOWN";
}

/*
 * A state as a person types it: case does not matter, '-' stands for '_',
 * and the INCIDENT_ prefix may be left out ("resolved", "detected",
 * "requires-human", "analysis-complete").
 */
static int state_matches(const char *name, const char *state)
{
	for (int pass = 0; pass < 2; pass++) {
		const char *a = name, *b = state;

		if (pass && !skip_prefix(state, "INCIDENT_", &b))
			return 0;
		while (*a && *b && (toupper((unsigned char)*a) == *b || (*a == '-' && *b == '_')))
			a++, b++;
		if (!*a && !*b)
			return 1;
	}
	return 0;
}

int incident_state_parse(const char *name, enum incident_state *out)
{
	for (int i = 0; i < STATE__COUNT; i++)
		if (state_matches(name, state_names[i])) {
			*out = (enum incident_state)i;
			return 0;
		}
	return -1;
}

char *incident_state_short_name(enum incident_state s)
{
	const char *name = incident_state_name(s);
	struct strbuf sb = STRBUF_INIT;

	skip_prefix(name, "INCIDENT_", &name);
	for (; *name; name++)
		strbuf_addch(&sb, *name == '_' ? '-' : tolower((unsigned char)*name));
	return strbuf_detach(&sb, NULL);
}

int incident_state_suggest(const char *name)
{
	size_t best = SIZE_MAX, len = strlen(name);
	int found = -1;

	/* Compared with both spellings, the short one in lower case. */
	for (int i = 0; i < STATE__COUNT; i++) {
		char *short_name = incident_state_short_name((enum incident_state)i);
		struct strbuf lower = STRBUF_INIT;
		size_t d;

		for (const char *c = name; *c; c++)
			strbuf_addch(&lower, *c == '_' ? '-' : tolower((unsigned char)*c));
		/* A beginning of three letters or more is as good as a typo. */
		d = len >= 3 && starts_with(short_name, lower.buf) ? 1 :
		    edit_distance(lower.buf, short_name);
		if (d < best) {
			best = d;
			found = i;
		}
		strbuf_release(&lower);
		free(short_name);
	}
	/* A typo, not another word: as git's "did you mean". */
	return best <= 3 && best < len ? found : -1;
}

const struct incident_shortcut incident_shortcuts[] = {
	{ "ack", STATE_ANALYSIS_IN_PROGRESS, "acknowledged" },
	{ "resolve", STATE_INCIDENT_RESOLVED, "resolved" },
	{ "close", STATE_INCIDENT_RESOLVED, "closed" },
	{ NULL, 0, NULL },
};

int incident_state_is_open(enum incident_state s)
{
	return s != STATE_INCIDENT_RESOLVED;
}

int incident_state_is_working(enum incident_state s)
{
	return s == STATE_FIX_GENERATION_IN_PROGRESS || s == STATE_PR_CREATION_IN_PROGRESS ||
	       s == STATE_DEPLOYMENT_IN_PROGRESS || s == STATE_VERIFICATION_IN_PROGRESS;
}

int incident_transition_allowed(enum incident_state from, enum incident_state to)
{
	if ((unsigned)from >= STATE__COUNT || (unsigned)to >= STATE__COUNT)
		return 0;
	if (from == STATE_INCIDENT_RESOLVED)
		return 0;
	if (to == STATE_INCIDENT_REQUIRES_HUMAN)
		return from != STATE_INCIDENT_REQUIRES_HUMAN;
	if (from == STATE_INCIDENT_REQUIRES_HUMAN)
		return to == STATE_INCIDENT_DETECTED || to == STATE_ANALYSIS_COMPLETE ||
		       to == STATE_INCIDENT_RESOLVED;
	if (from == STATE_FIX_GENERATED && to == STATE_DEPLOYMENT_IN_PROGRESS)
		return 1;
	/* It went away on its own before a fix was started: recovered. */
	if (to == STATE_INCIDENT_RESOLVED && from <= STATE_ANALYSIS_COMPLETE)
		return 1;
	/* The straight line: each state leads to the next one. */
	return to == from + 1 && to <= STATE_INCIDENT_RESOLVED;
}

const char *incident_severity_name(enum incident_severity s)
{
	return (unsigned)s < SEVERITY__COUNT ? severity_names[s] : "unknown";
}

int incident_severity_parse(const char *name, enum incident_severity *out)
{
	for (int i = 0; i < SEVERITY__COUNT; i++)
		if (!strcasecmp(name, severity_names[i])) {
			*out = (enum incident_severity)i;
			return 0;
		}
	return -1;
}

/* FNV-1a, 64 bits: stable across hosts and versions, which is all we need. */
static uint64_t fnv1a(const char *s, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

char *incident_default_fingerprint(const char *source, const char *service,
				   const char *title)
{
	struct strbuf norm = STRBUF_INIT;
	uint64_t h = 0xcbf29ce484222325ULL;
	int blank = 0;
	char *fp;

	for (const char *c = title; *c; c++) {
		if (isspace((unsigned char)*c)) {
			blank = 1;
			continue;
		}
		if (blank && norm.len)
			strbuf_addch(&norm, ' ');
		blank = 0;
		strbuf_addch(&norm, tolower((unsigned char)*c));
	}
	h = fnv1a(norm.buf, norm.len, h);
	fp = xstrfmt("%s/%s/%016llx", source, service, (unsigned long long)h);
	strbuf_release(&norm);
	return fp;
}

int incident_check_text(const char *what, const char *value, size_t max,
			int multiline)
{
	const unsigned char *s = (const unsigned char *)value;
	size_t len = strlen(value);

	if (!len)
		return error("%s is empty", what);
	if (len > max)
		return error("%s is %zu bytes long; the most is %zu", what, len, max);
	while (*s) {
		int extra;

		if ((*s < 0x20 && !(multiline && (*s == '\n' || *s == '\t'))) || *s == 0x7f)
			return error("%s contains a control character (byte %zu)", what,
				     (size_t)(s - (const unsigned char *)value));
		if (*s < 0x80)
			extra = 0;
		else if ((*s & 0xe0) == 0xc0 && *s >= 0xc2)
			extra = 1;
		else if ((*s & 0xf0) == 0xe0)
			extra = 2;
		else if ((*s & 0xf8) == 0xf0 && *s <= 0xf4)
			extra = 3;
		else
			return error("%s is not valid UTF-8", what);
		/*
		 * No overlong forms, no surrogates, nothing past U+10FFFF:
		 * the second byte's range depends on the first.
		 */
		if ((*s == 0xe0 && s[1] < 0xa0) || (*s == 0xed && s[1] > 0x9f) ||
		    (*s == 0xf0 && s[1] < 0x90) || (*s == 0xf4 && s[1] > 0x8f))
			return error("%s is not valid UTF-8", what);
		s++;
		for (int i = 0; i < extra; i++, s++)
			if ((*s & 0xc0) != 0x80)
				return error("%s is not valid UTF-8", what);
	}
	return 0;
}
