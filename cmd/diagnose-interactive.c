/*
 * diagnose-interactive.c: `sre diagnose -i [<incident>]`, a session with
 * the adviser about one diagnosis.
 *
 * The diagnosis is made as `sre diagnose` makes it (recorded, delivered),
 * then a prompt takes follow-up questions, which go to the adviser's
 * session (lib/adviser.h: the same conversation, tools, bounds and
 * checks), and commands that read what is already there:
 *
 *   /evidence    the sources read and how each went, and the answer's evidence
 *   /rules       what the rules found, and the call graph's candidates
 *   /tools       the tools the model may call
 *   /transcript  what was sent to the model and received, so far
 *   /diagnosis   the diagnosis again
 *   /approve, /deny   answer a tool's request for a credential reference
 *   /help, /quit
 *
 * A credential that is only a reference (op://..., pass:..., env:...) is
 * resolved when a tool needs it and a person types /approve at the
 * question sre asks then (lib/credential.h); the model never sees it, and
 * it is never printed.
 *
 * Ctrl-C ends the request in flight (the HTTP client's cancel flag), not
 * the session; at the prompt it clears the line. Ctrl-D or /quit ends the
 * session. History is kept in $XDG_STATE_HOME/sre/history (else
 * ~/.local/state/sre/history), 0600, redacted, the last HISTORY_MAX lines;
 * Tab completes commands, service names and tool names. READLINE=edit
 * builds against libedit, whose readline emulation lacks the signal hook:
 * there Ctrl-C at the prompt does nothing, and still cancels a request.
 *
 * What the model writes is data: no control character of it reaches the
 * terminal (print_clean()).
 */
#include <signal.h>
#include <unistd.h>
#include <sys/stat.h>

#ifdef SRE_LIBEDIT
#include <editline/readline.h>
#else
#include <readline/history.h>
#include <readline/readline.h>
#endif

#include "builtin.h"
#include "diagnose.h"
#include "../lib/color.h"
#include "../lib/credential.h"
#include "../lib/diagnose.h"
#include "../lib/format.h"
#include "../lib/progress.h"
#include "../lib/redact.h"

#define HISTORY_MAX 1000
#define QUESTION_MAX 4000

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

#ifndef SRE_LIBEDIT
/* readline was interrupted by a signal, or waits: a Ctrl-C at the prompt clears the line. */
static int on_signal_event(void)
{
	if (interrupted) {
		interrupted = 0;
		rl_replace_line("", 0);
		rl_crlf();
		rl_on_new_line();
		rl_redisplay();
	}
	return 0;
}
#endif

static void put_clean(FILE *fp, const char *buf, size_t len)
{
	format_put_clean(fp, buf, len, 1);
}

void print_clean(FILE *fp, const char *buf, size_t len)
{
	put_clean(fp, buf, len);
	if (len && buf[len - 1] != '\n')
		fputc('\n', fp);
}

/* The model's text as it streams in: shown for this question, the line left open. */
static int streamed, line_open, in_session;

static void end_line(void)
{
	if (line_open)
		putchar('\n');
	line_open = 0;
}

static const char *const commands[] = {
	"/evidence", "/rules", "/tools", "/transcript", "/diagnosis", "/approve", "/deny",
	"/help", "/quit",
};

/* What Tab completes: the commands, the services the evidence names, the tools. */
static struct strvec words = STRVEC_INIT;

static void words_add(const char *w)
{
	if (w && *w && !strvec_has(&words, w))
		strvec_push(&words, w);
}

static void words_collect(const struct diagnose_result *res)
{
	struct strvec names = STRVEC_INIT;
	const struct llm_tool *tools = adviser_tools;
	size_t tools_nr = adviser_tools_nr;

	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		words_add(commands[i]);
	words_add(res->ev.service);
	for (size_t i = 0; i < res->ev.logs_nr; i++)
		words_add(res->ev.logs[i].service);
	for (size_t i = 0; i < res->d.graph.nr; i++)
		words_add(res->d.graph.v[i].service);
	config_subsections(&the_sre.cfg, "service", &names);
	for (size_t i = 0; i < names.nr; i++)
		words_add(names.v[i]);
	strvec_clear(&names);
	if (res->session)
		adviser_session_tools(res->session, &tools, &tools_nr);
	for (size_t i = 0; i < tools_nr; i++)
		words_add(tools[i].name);
}

static char *complete_word(const char *text, int state)
{
	static size_t next;
	size_t len = strlen(text);

	if (!state)
		next = 0;
	while (next < words.nr) {
		const char *w = words.v[next++];
		if (!strncmp(w, text, len))
			return strdup(w); /* readline frees it with free() */
	}
	return NULL;
}

static char **complete(const char *text, int start, int end)
{
	(void)start;
	(void)end;
	rl_attempted_completion_over = 1; /* no file names */
	return rl_completion_matches(text, complete_word);
}

/* The history file: $XDG_STATE_HOME/sre/history, else ~/.local/state/sre/history. */
static char *history_path(void)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *path;

	if (state && *state == '/')
		path = xstrfmt("%s/sre/history", state);
	else if (home && *home == '/')
		path = xstrfmt("%s/.local/state/sre/history", home);
	else
		return NULL;
	if (mkdir_parents(path, 0700) < 0) {
		free(path);
		return NULL;
	}
	return path;
}

static void history_save(const char *path)
{
	if (!path)
		return;
	umask(umask(077) | 077);
	if (write_history(path) || history_truncate_file(path, HISTORY_MAX))
		warning("the history could not be written to %s", path);
	chmod(path, 0600);
}

static void print_diagnosis(const struct diagnose_result *res)
{
	diagnose_result_print(stdout, res, 0, the_sre.color);
	fflush(stdout);
}

/* /evidence, /rules: a tool's reading of what was collected, for a person. */
static void show_tool(const struct diagnose_result *res, const char *tool)
{
	struct strbuf sb = STRBUF_INIT;

	adviser_tool(&sb, &res->ev, &res->d, tool);
	redact_strbuf(&sb);
	print_clean(stdout, sb.buf, sb.len);
	strbuf_release(&sb);
}

static void show_evidence(const struct diagnose_result *res)
{
	const struct diagnosis_finding *a = &res->d.answer;

	show_tool(res, "list_sources");
	if (a->evidence_nr)
		printf("the answer rests on:\n");
	for (size_t i = 0; i < a->evidence_nr; i++) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "  %s: %s", a->evidence[i].source, a->evidence[i].summary);
		redact_strbuf(&sb);
		print_clean(stdout, sb.buf, sb.len);
		strbuf_release(&sb);
	}
}

static void show_tools(const struct diagnose_result *res)
{
	const struct llm_tool *tools = adviser_tools;
	size_t nr = adviser_tools_nr;

	if (res->session)
		adviser_session_tools(res->session, &tools, &nr);
	for (size_t i = 0; i < nr; i++)
		printf("%-20s %s\n", tools[i].name, tools[i].description);
}

static void show_transcript(const struct diagnose_result *res)
{
	const struct strbuf *t = res->session ? adviser_session_transcript(res->session) : NULL;

	if (!t || !t->len) {
		printf("nothing was sent to a model yet\n");
		return;
	}
	print_clean(stdout, t->buf, t->len);
}

static void show_help(void)
{
	printf("Ask a question in words, or:\n"
	       "  /evidence    the sources read, and what the answer rests on\n"
	       "  /rules       what the rules found, and the call graph's candidates\n"
	       "  /tools       the tools the model may call\n"
	       "  /transcript  what was sent to the model and received\n"
	       "  /diagnosis   the diagnosis again\n"
	       "  /approve, /deny   answer a request for a credential\n"
	       "  /quit        end the session (or Ctrl-D)\n"
	       "Ctrl-C stops the request in flight.\n");
}

/* --stream's events, for a person: the tool calls as they happen. */
static void session_event(void *data, const char *kind, const cJSON *event)
{
	const char *c = the_sre.color ? COLOR_DIM : "", *r = the_sre.color ? COLOR_RESET : "";
	const cJSON *tool = cJSON_GetObjectItemCaseSensitive(event, "tool");

	const cJSON *text = cJSON_GetObjectItemCaseSensitive(event, "text");

	(void)data;
	if (!in_session)
		return; /* the first diagnosis prints its answer whole, under the status line */
	if (!strcmp(kind, "llm_delta") && cJSON_IsString(text) && *text->valuestring) {
		size_t n = strlen(text->valuestring);
		put_clean(stdout, text->valuestring, n);
		line_open = text->valuestring[n - 1] != '\n';
		streamed = 1;
		fflush(stdout);
		return;
	}
	if (strcmp(kind, "tool_call") || !cJSON_IsString(tool))
		return;
	end_line();
	/* The name is the model's too: cleaned like its text. */
	printf("%s  \u2192 ", c);
	put_clean(stdout, tool->valuestring, strnlen(tool->valuestring, 64));
	printf("%s\n", r);
	fflush(stdout);
}

/* A question to the adviser, its answer printed. */
static void ask(struct diagnose_result *res, const char *question)
{
	struct adviser_result out = ADVISER_RESULT_INIT;
	struct strbuf answer = STRBUF_INIT;

	if (!res->session) {
		printf("questions need an LLM: %s\n", res->adviser.reason ? res->adviser.reason :
		       "none is configured ([llm] provider and model)");
		return;
	}
	interrupted = 0;
	streamed = line_open = 0;
	adviser_session_ask(res->session, question, &out, &answer);
	end_line();
	if (interrupted)
		printf("cancelled\n");
	else if (answer.len && !streamed)
		print_clean(stdout, answer.buf, answer.len);
	if (out.used) {
		const struct diagnosis_finding *m = &out.answer;
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "the adviser revises the diagnosis: %s, %s %s (confidence %.2f), %s "
			    "the rules' answer; sre diagnose again to record one\n",
			    diagnosis_category_name(m->category), mitigation_action_name(m->action),
			    m->target ? m->target : "-", m->confidence,
			    out.agreed ? "agreeing with" : "not");
		print_clean(stdout, sb.buf, sb.len);
		strbuf_release(&sb);
	} else if (!answer.len && !interrupted) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "no answer: %s", out.reason ? out.reason : "the model said nothing");
		print_clean(stdout, sb.buf, sb.len);
		strbuf_release(&sb);
	}
	printf("%s(%d step%s, %lld tokens)%s\n", the_sre.color ? COLOR_DIM : "", out.steps,
	       out.steps == 1 ? "" : "s", out.input_tokens + out.output_tokens,
	       the_sre.color ? COLOR_RESET : "");
	fflush(stdout);
	adviser_result_release(&out);
	strbuf_release(&answer);
}

/* Trims blanks at both ends in place; the start. */
static char *trim(char *line)
{
	size_t n;

	line += strspn(line, " \t");
	n = strlen(line);
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	return line;
}

static struct sigaction prompt_sa, request_sa;

/* readline() with a Ctrl-C at it handled as at the prompt (see session()). */
static char *read_line(const char *prompt)
{
	char *line;

	sigaction(SIGINT, &prompt_sa, NULL);
	line = readline(prompt);
	sigaction(SIGINT, &request_sa, NULL);
	return line;
}

/*
 * A tool needs a credential that is only a reference (lib/credential.h):
 * the person says /approve or /deny. The reference is shown, so that they
 * know what they approve; the secret behind it never is.
 */
static struct strvec denied = STRVEC_INIT;

static int approve(void *data, const char *key, const char *reference)
{
	struct strbuf q = STRBUF_INIT;
	char *asked = xstrfmt("%s\n%s", key, reference);
	int yes = -1;

	(void)data;
	/*
	 * Before the session, only the model's own key is asked for (the
	 * sources are read from threads, under a deadline); and a reference
	 * denied once is not asked again this session, whoever asks.
	 */
	if ((!in_session && strcmp(key, "llm.api-key")) || strvec_has(&denied, asked)) {
		free(asked);
		return 0;
	}
	strbuf_addf(&q, "A tool needs the credential %s, a reference to %s.", key, reference);
	print_clean(stdout, q.buf, q.len);
	printf("/approve to resolve it for this session (the model never sees it), /deny to refuse.\n");
	fflush(stdout);
	strbuf_release(&q);
	while (yes < 0) {
		char *line = read_line("approve? ");
		const char *t = line ? trim(line) : NULL;

		if (!t || !strcmp(t, "/deny"))
			yes = 0;
		else if (!strcmp(t, "/approve"))
			yes = 1;
		else
			printf("/approve or /deny\n");
		free(line);
	}
	interrupted = 0;
	if (!yes)
		strvec_push(&denied, asked);
	free(asked);
	printf("%s\n", yes ? "approved" : "denied for this session");
	fflush(stdout);
	return yes;
}

/* One line at the prompt: 1 to end the session, else 0. */
static int run_line(struct diagnose_result *res, const char *line)
{
	if (!strcmp(line, "/quit") || !strcmp(line, "/exit"))
		return 1;
	if (!strcmp(line, "/help") || !strcmp(line, "?"))
		show_help();
	else if (!strcmp(line, "/evidence"))
		show_evidence(res);
	else if (!strcmp(line, "/rules"))
		show_tool(res, "rule_findings");
	else if (!strcmp(line, "/tools"))
		show_tools(res);
	else if (!strcmp(line, "/transcript"))
		show_transcript(res);
	else if (!strcmp(line, "/diagnosis"))
		print_diagnosis(res);
	else if (!strcmp(line, "/approve") || !strcmp(line, "/deny"))
		printf("nothing waits for approval\n");
	else if (*line == '/')
		printf("no command %.40s; /help lists them\n", line);
	else if (strlen(line) > QUESTION_MAX)
		printf("the question is longer than %d characters\n", QUESTION_MAX);
	else
		ask(res, line);
	fflush(stdout);
	return 0;
}

static void session(struct diagnose_result *res, const char *prompt, const struct sigaction *sa)
{
	char *hist = history_path(), *line;

	/*
	 * At the prompt, GNU readline's read must see the Ctrl-C (EINTR, no
	 * SA_RESTART) to call on_signal_event(); libedit's would end the
	 * line as if at Ctrl-D, or with its own handlers hang, so there it is
	 * ignored (rl_catch_signals = 0 keeps libedit's handlers out).
	 */
	request_sa = *sa;
	prompt_sa = *sa;
#ifdef SRE_LIBEDIT
	prompt_sa.sa_handler = SIG_IGN;
#else
	prompt_sa.sa_flags &= ~SA_RESTART;
#endif
	in_session = 1;
	/* The SIGINT handler from here: before, Ctrl-C ends sre as it always did. */
	sigaction(SIGINT, sa, NULL);

	words_collect(res);
	rl_attempted_completion_function = complete;
	using_history();
	if (hist)
		read_history(hist);
	printf("Ask about the diagnosis, or /help. Ctrl-D ends the session.\n");
	for (;;) {
		char *trimmed;
		int end;

		interrupted = 0;
		if (!(line = read_line(prompt)))
			break;
		trimmed = trim(line);
		if (!*trimmed) {
			free(line);
			continue;
		}
		{
			/* A pasted secret is not kept in the history file. */
			struct strbuf h = STRBUF_INIT;
			strbuf_addstr(&h, trimmed);
			redact_strbuf(&h);
			add_history(h.buf);
			strbuf_release(&h);
		}
		end = run_line(res, trimmed);
		free(line);
		if (end)
			break;
	}
	if (!line)
		putchar('\n');
	credential_set_approver(NULL, NULL);
	credential_forget_approvals();
	strvec_clear(&denied);
	in_session = 0;
	history_save(hist);
	free(hist);
	strvec_clear(&words);
}

int diagnose_interactive(struct diagnose_options *o, struct engine_context *ctx,
			 const char *evidence, const char *about, long long id)
{
	struct diagnose_result res = DIAGNOSE_RESULT_INIT;
	struct sigaction sa = { .sa_handler = on_sigint }, old;
	char *prompt;
	int r, ret = 0;

	/*
	 * SA_RESTART but at the prompt (session()): a Ctrl-C that falls in a
	 * write must not fail it. The HTTP client's poll() ends early whatever
	 * SA_RESTART says, and it polls the flag every 100 ms anyway. It is
	 * installed when the session starts: until then Ctrl-C ends sre.
	 */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, NULL, &old);
	credential_set_approver(approve, NULL);
	rl_catch_signals = 0;
#ifndef SRE_LIBEDIT
	/*
	 * A Ctrl-C that falls while readline is busy (not in its read) gives
	 * no EINTR: the event hook, called every tenth of a second while it
	 * waits for a key, clears the line then.
	 */
	rl_signal_event_hook = on_signal_event;
	rl_event_hook = on_signal_event;
#endif
	rl_readline_name = "sre";
	o->keep_session = 1;
	o->cancel = &interrupted;
	o->stream = session_event;
	if (evidence) {
		r = diagnose_bundle(o, evidence, &res);
		prompt = xstrdup("sre> ");
	} else if (about) {
		r = diagnose_problem(ctx, o, about, &res);
		prompt = xstrfmt("sre(%s)> ", about);
	} else {
		ctx->store = sre_store();
		ctx->tracker = sre_tracker();
		ctx->actor = sre_actor();
		r = diagnose_incident(ctx, o, id, &res);
		prompt = xstrfmt("sre(#%lld)> ", id);
	}
	if (r) {
		ret = r < 0 ? EXIT_FATAL : EXIT_FOUND;
		goto out;
	}
	progress_stop(); /* no status line over the answers as they stream */
	print_diagnosis(&res);
	if (res.deliver && sre_deliver())
		ret = EXIT_FOUND;
	session(&res, prompt, &sa);
out:
	credential_set_approver(NULL, NULL);
	sigaction(SIGINT, &old, NULL);
	diagnose_result_release(&res);
	free(prompt);
	return ret;
}
