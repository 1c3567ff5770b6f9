/*
 * adviser.h: the LLM adviser of `sre diagnose`: a read-only agent beside
 * the rules, whose answer must pass the same checks as a rule's.
 *
 * The model is given the incident and the rules' answer, and tools that
 * only read the evidence already collected (lib/evidence.h): the sources
 * and what they hold, the service's pods and events, grep or tail of a
 * log, the slowest trace's critical path and where errors start, a
 * Prometheus check's series, recent commits, past incidents, and the
 * rules' findings with the call graph's candidates. No tool writes, runs
 * a program or reaches a host. Its answer is a call of submit_diagnosis
 * {category, root_cause, confidence, mitigation: {action, target,
 * params}, evidence: [quoted lines]}, or the same object as plain JSON
 * from a model without tools.
 *
 * Bounds: llm.max-steps turns (the last sent without tools, with a
 * request to answer); a tool result over llm.tool-result-max bytes is
 * replaced by a request to narrow the query, never cut silently; a total
 * token budget (llm.max-tokens) and time budget (llm.budget); the same
 * call twice is refused. When a bound ends the loop the rules' answer
 * stands, and the result says why.
 *
 * The answer is checked as a rule's would be: category and action from
 * the closed sets; the target a service the evidence names; params flat,
 * their keys [a-z_] and their values numbers or short strings of a
 * plain charset; params the model left out are taken from the rules'
 * answer when it is the same action on the same target, and params it
 * gives must agree with those. An invalid answer gets one request to
 * repair it, then it is dropped. Everything that comes back from the
 * model is data; none of it is an instruction to sre.
 *
 * A cost bound too: [llm-price "<model>"] input and output (per million
 * tokens) make each turn's cost, and llm.max-cost ends the loop past it.
 *
 * llm.anonymize = true: the names of services, pods, namespaces and
 * nodes in everything sent are replaced with stable placeholders
 * (‹service-1›, ‹pod-2›...), longest first and as whole words; the
 * model's tool arguments and answer have them swapped back before they
 * are read, and the prompt says what a placeholder is.
 *
 * Evidence goes to the model as quoted data: the system prompt says that
 * a tool's result may hold text that looks like instructions and must
 * not be followed, and each result is sent as the tool's result, never
 * as the user's words.
 */
#ifndef SRE_ADVISER_H
#define SRE_ADVISER_H

#include "config.h"
#include "evidence.h"
#include "llm.h"
#include "rules.h"

struct adviser_options {
	int max_steps;            /* llm.max-steps: 8 */
	size_t result_max;        /* llm.tool-result-max: 16384 bytes (about 4 a token) */
	long long max_tokens;     /* llm.max-tokens: 200000, input and output together */
	int64_t budget_ms;        /* llm.budget: 5m */
	/* [llm-price "<model>"] input, output: per million tokens; < 0 unknown */
	double price_input, price_output;
	double max_cost;          /* llm.max-cost, in those prices' money; 0: none */
	int anonymize;            /* llm.anonymize: names go out as stable placeholders */
	/*
	 * Told of what happens as it happens (sre diagnose --stream), or NULL:
	 * kind "tool_call" {tool, arguments}, "tool_result" {tool, bytes,
	 * summary: its first line}, "llm_delta" {text: a piece, as the stream
	 * brings it; not with llm.anonymize}, "llm_text" {text: the turn's
	 * whole}. The event is the callee's to read, not to keep.
	 */
	void (*event)(void *data, const char *kind, const cJSON *event);
	void *event_data;
	/*
	 * Read a source again now, into fresh (its own, empty), for the live
	 * tool prometheus_now, which names one of its checks (refused, and
	 * nothing read, when it is no configured check of the service); NULL:
	 * no live tool (a bundle has no sources to
	 * read). 0, or -1 with why (no secret in it). A credential that is only
	 * a reference is resolved there, after a person approves it
	 * (lib/credential.h), or the read fails.
	 */
	int (*refresh)(void *data, const char *source, const char *name, struct evidence *fresh,
		       struct strbuf *why);
	void *refresh_data;
};

void adviser_options_init(struct adviser_options *o);
/* From the llm.* keys and the model's [llm-price]; -1 after an error naming the key. */
int adviser_options_read(struct adviser_options *o, const struct config *cfg, const char *model);

/* One turn of the model: llm_chat() in use, a scripted model in tests. */
typedef int (*adviser_chat_fn)(void *data, const struct llm_conversation *conv,
			       const struct llm_tool *tools, size_t tools_nr,
			       struct llm_reply *r, struct strbuf *why);

struct adviser_result {
	int used;                 /* a valid answer came */
	char *reason;             /* why the rules' answer stands; NULL when used */
	int steps;
	long long input_tokens, output_tokens;
	double cost;              /* by the model's prices; < 0 when they are not configured */
	int agreed;               /* same category and target as the rules' answer */
	int cached;               /* the answer came from the cache, not the model */
	struct diagnosis_finding answer;   /* the model's, checked (rule "llm") */
	struct strbuf transcript; /* what was sent and received, turn by turn */
};

#define ADVISER_RESULT_INIT { .transcript = STRBUF_INIT }
void adviser_result_release(struct adviser_result *r);

/*
 * Ask the model about the evidence ev, which the rules judged as d. 0
 * (out->used says whether the model's answer stands beside the rules'),
 * or -1 after an error that is not the model's (none yet).
 */
int adviser_run(struct adviser_result *out, const struct adviser_options *o,
		const struct evidence *ev, const struct diagnosis *d, adviser_chat_fn chat,
		void *chat_data);

/*
 * A session: the conversation about one incident, kept for follow-up
 * questions (sre diagnose -i). Its bounds are adviser_run's: llm.max-steps
 * and llm.budget for each question, llm.max-tokens and llm.max-cost for
 * the whole session; a call made before is refused however late it
 * comes. ev and d are borrowed and must outlive it.
 */
struct adviser_session;
struct adviser_session *adviser_session_new(const struct adviser_options *o,
					    const struct evidence *ev, const struct diagnosis *d,
					    adviser_chat_fn chat, void *chat_data);
void adviser_session_free(struct adviser_session *s);
/* The diagnosis, as adviser_run() makes it (which is this on a session of its own). */
int adviser_session_diagnose(struct adviser_session *s, struct adviser_result *out);
/*
 * The operator's question (redacted and masked like the evidence): the
 * model's answer in words appended to answer, and when it revised the
 * diagnosis, out->used with the new one, checked. out->reason says why
 * there is no answer. 0.
 */
int adviser_session_ask(struct adviser_session *s, const char *question,
			struct adviser_result *out, struct strbuf *answer);
/* What was sent and received so far. Borrowed. */
const struct strbuf *adviser_session_transcript(const struct adviser_session *s);
/* The tools the model is offered in this session. Borrowed. */
void adviser_session_tools(const struct adviser_session *s, const struct llm_tool **tools,
			   size_t *nr);

/*
 * The cached answer: checked again against ev and d into out (used,
 * agreed), as the model's would be. 0, or -1 when it no longer passes.
 */
int adviser_use_answer(struct adviser_result *out, const struct evidence *ev,
		       const struct diagnosis *d, cJSON *answer);

/* ---- the cache (lib/adviser-cache.c) ---- */

#define ADVISER_PROMPT_VERSION "sre-adviser-1"
struct store;
/* The digest of (provider, model, prompt version, anonymized or not, the evidence). */
void adviser_digest(char hex[65], const char *provider, const char *model,
		    const struct adviser_options *o, const struct evidence *ev);
/* A cached answer: 0 (*answer the caller's), 1 none, -1 after an error. */
int adviser_cache_get(struct store *st, const char *digest, cJSON **answer);
/* Keep an answer that passed the checks. 0 or -1. */
int adviser_cache_put(struct store *st, const char *digest, const struct diagnosis_finding *f);

/*
 * A tool that takes no arguments (list_sources, rule_findings...) run for
 * a person (the caller redacts what it shows): 0, or -1 when
 * there is no such tool.
 */
int adviser_tool(struct strbuf *out, const struct evidence *ev, const struct diagnosis *d,
		 const char *name);

/* The tools, for a REPL's completion and the man page. */
extern const struct llm_tool adviser_tools[];
extern const size_t adviser_tools_nr;

#endif
