/*
 * test-llm-conformance.c: the OpenAI and Ollama parsers against recorded
 * traffic and the vendors' own examples, in ../shared/fixtures beside
 * the source tree (SOURCES.md there says what each file is). Each is fed
 * whole and byte by byte, and the reply must be what the recording says:
 * the text assembled, each call's id, name and arguments, why it
 * finished, the tokens.
 *
 *   openai/openapi/chat_completions_examples/streaming.response.txt
 *       OpenAI's spec example: chunks without the "data: " of the wire
 *       and an elided middle ("....") that is dropped here;
 *   openai/pydantic-ai-cassettes/openai_streaming_sse.yaml,
 *   openai-compatible/pydantic-ai-cassettes/ (the two streams),
 *       VCR cassettes of real streams (OpenAI, a vLLM server): the SSE
 *       body is the string at interactions[n].response.body.string;
 *   openai-compatible/ollama-docs/api.md
 *       the /api/chat examples: the JSON objects under each "Response",
 *       pretty-printed in the docs, one NDJSON line each here.
 *
 * The recordings are not part of this repository: when they are absent,
 * each check says it skipped and why, as TAP allows.
 */
#include <limits.h>
#include <yaml.h>

#include "../../lib/json.h"
#include "llm-test.h"
#include "test-lib.h"

static char *fixtures;   /* the directory, or NULL when absent */

static void skip(const char *what, const char *why)
{
	printf("ok %d # skip %s: %s\n", ++tap_count, what, why);
}

/* Read fixtures/rel whole into sb; -1 (after a skip line) when it cannot be. */
static int read_fixture(struct strbuf *sb, const char *rel)
{
	char *path;
	long n;

	if (!fixtures) {
		skip(rel, "no ../shared/fixtures beside the source tree");
		return -1;
	}
	path = xstrfmt("%s/%s", fixtures, rel);
	n = strbuf_read_file(sb, path, 64 << 20);
	free(path);
	if (n < 0) {
		skip(rel, "not in ../shared/fixtures");
		return -1;
	}
	return 0;
}

/* ---- OpenAI's spec example ---- */

static void spec_example(void)
{
	struct strbuf file = STRBUF_INIT, sse = STRBUF_INIT;
	const char *p, *end;

	if (read_fixture(&file, "openai/openapi/chat_completions_examples/streaming.response.txt") < 0)
		return;
	/* Blocks apart by blank lines; a JSON one is a chunk, "...." the elision. */
	for (p = file.buf, end = file.buf + file.len; p < end;) {
		const char *stop = strstr(p, "\n\n");
		size_t n = stop ? (size_t)(stop - p) : (size_t)(end - p);

		while (n && (*p == '\n' || *p == ' ')) {
			p++;
			n--;
		}
		if (n && *p == '{')
			strbuf_addf(&sse, "data: %.*s\n\n", (int)n, p);
		p += n + (stop ? 2 : 0);
		if (!stop)
			break;
	}
	llm_test_stream(&llm_openai, "OpenAI's spec example of a stream", sse.buf,
			"rc=0|text=Hello|finish=stop");
	strbuf_release(&file);
	strbuf_release(&sse);
}

/* ---- VCR cassettes ---- */

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
	     pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(doc, pr->key);

		if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == strlen(key) &&
		    !memcmp(k->data.scalar.value, key, k->data.scalar.length))
			return yaml_document_get_node(doc, pr->value);
	}
	return NULL;
}

/* The SSE body of each interaction of a cassette, in order, into bodies. */
static int cassette_bodies(const char *rel, struct strvec *bodies)
{
	struct strbuf file = STRBUF_INIT;
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *list;
	int rc = -1;

	if (read_fixture(&file, rel) < 0)
		return -1;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)file.buf, file.len);
	if (!yaml_parser_load(&parser, &doc)) {
		ok(0, "%s is YAML", rel);
		yaml_parser_delete(&parser);
		strbuf_release(&file);
		return -1;
	}
	list = map_get(&doc, yaml_document_get_root_node(&doc), "interactions");
	if (list && list->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = list->data.sequence.items.start;
		     it < list->data.sequence.items.top; it++) {
			yaml_node_t *s = map_get(&doc, map_get(&doc, map_get(&doc,
				yaml_document_get_node(&doc, *it), "response"), "body"), "string");

			char *body = s && s->type == YAML_SCALAR_NODE ?
				xstrndup((const char *)s->data.scalar.value, s->data.scalar.length) :
				xstrdup("");

			strvec_push(bodies, body);
			free(body);
		}
		rc = 0;
	}
	ok(rc == 0, "%s holds interactions", rel);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	strbuf_release(&file);
	return rc;
}

static void cassette(const char *rel, const char *const *want, size_t want_nr)
{
	struct strvec bodies = STRVEC_INIT;

	if (cassette_bodies(rel, &bodies) < 0)
		return;
	is_int(bodies.nr, want_nr, "%s: %zu interactions", rel, want_nr);
	for (size_t i = 0; i < bodies.nr && i < want_nr; i++) {
		char *title = xstrfmt("%s, stream %zu", rel, i);

		llm_test_stream(&llm_openai, title, bodies.v[i], want[i]);
		free(title);
	}
	strvec_clear(&bodies);
}

static void cassettes(void)
{
	static const char *const openai_sse[] = {
		"rc=0|call call_ZR5UUuTt3pf61kjwAJIYdVMj get_capital {\"country\":\"UK\"}"
		"|finish=tool_calls|tokens=53/15",
		"rc=0|text=The capital of the UK is London.|finish=stop|tokens=78/9",
	};
	static const char *const parallel[] = {
		"rc=0|call call_3rqTYrA6H21AYUaRGP4F66oq get_country {}"
		"|call call_Xw9XMKBJU48kAAd78WgIswDx get_product_name {}"
		"|finish=tool_calls|tokens=364/40",
		"rc=0|call call_Vz0Sie91Ap56nH0ThKGrZXT7 get_weather {\"city\":\"Mexico City\"}"
		"|finish=tool_calls|tokens=423/15",
		"rc=0|call call_4kc6691zCzjPnOuEtbEGUvz2 final_result {\"answers\":[{\"label\":"
		"\"Capital of the country\",\"answer\":\"Mexico City\"},{\"label\":\"Weather in the "
		"capital\",\"answer\":\"Sunny\"},{\"label\":\"Product Name\",\"answer\":\"Pydantic AI\"}]}"
		"|finish=tool_calls|tokens=448/49",
	};
	static const char *const crusoe[] = {
		"rc=0|text=1, 2, 3, 4, 5|finish=stop|tokens=46/14",
	};

	cassette("openai/pydantic-ai-cassettes/openai_streaming_sse.yaml", openai_sse,
		 ARRAY_SIZE(openai_sse));
	cassette("openai-compatible/pydantic-ai-cassettes/openai_stream_parallel_tool_calls.yaml",
		 parallel, ARRAY_SIZE(parallel));
	cassette("openai-compatible/pydantic-ai-cassettes/vllm_style_stream_crusoe.yaml", crusoe,
		 ARRAY_SIZE(crusoe));
}

/* ---- Ollama's docs ---- */

/*
 * The NDJSON a "#### Chat request (<title>)" section of api.md shows:
 * each ```json block under its "##### Response", one line each.
 */
static int ollama_example(const char *md, const char *title, struct strbuf *out)
{
	char *heading = xstrfmt("#### Chat request (%s)\n", title);
	const char *p = strstr(md, heading), *next, *resp;

	free(heading);
	if (!p)
		return -1;
	p = strchr(p, '\n') + 1;
	next = strstr(p, "\n#### ");
	if (!next)
		next = p + strlen(p);
	resp = strstr(p, "##### Response");
	if (!resp || resp > next)
		return -1;
	for (p = resp; (p = strstr(p, "```json\n")) && p < next;) {
		const char *end = strstr(p + 8, "\n```");
		cJSON *j;
		char *line;

		if (!end || end > next)
			break;
		j = cJSON_ParseWithLength(p + 8, (size_t)(end - p - 8));
		line = j ? cJSON_PrintUnformatted(j) : NULL;
		if (!line) {
			cJSON_Delete(j);
			return -1;
		}
		strbuf_addf(out, "%s\n", line);
		free(line);
		cJSON_Delete(j);
		p = end + 4;
	}
	return out->len ? 0 : -1;
}

static void ollama_docs(void)
{
	static const struct { const char *title, *want; } examples[] = {
		{ "Streaming", "rc=0|text=The|tokens=26/282" },
		{ "Streaming with tools",
		  "rc=0|call call_1 get_weather {\"city\":\"Tokyo\"}|finish=stop|tokens=169/15" },
		{ "No streaming", "rc=0|text=Hello! How are you today?|tokens=26/298" },
		{ "No streaming, with tools",
		  "rc=0|call call_1 get_weather {\"city\":\"Tokyo\"}|finish=stop|tokens=169/18" },
		{ "Structured outputs",
		  "rc=0|text={\"age\": 22, \"available\": false}|finish=stop|tokens=34/12" },
		{ "With History", "rc=0|text=The|tokens=61/468" },
		{ "With history, with tools",
		  "rc=0|text=The current temperature in Toronto is 11\xc2\xb0" "C.|finish=stop"
		  "|tokens=94/11" },
	};
	struct strbuf md = STRBUF_INIT, nd = STRBUF_INIT;

	if (read_fixture(&md, "openai-compatible/ollama-docs/api.md") < 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(examples); i++) {
		char *title = xstrfmt("Ollama's docs: Chat request (%s)", examples[i].title);

		strbuf_reset(&nd);
		if (ok(!ollama_example(md.buf, examples[i].title, &nd), "%s is in api.md", title))
			llm_test_stream(&llm_ollama, title, nd.buf, examples[i].want);
		free(title);
	}
	strbuf_release(&md);
	strbuf_release(&nd);
}

int main(void)
{
	const char *root = getenv("SRE_BUILD_DIR");
	char *dir = xstrfmt("%s/../shared/fixtures", root && *root ? root : ".");
	char real[PATH_MAX];

	/* Before test_begin(), which unsets every SRE_* variable. */
	fixtures = realpath(dir, real) ? xstrdup(real) : NULL;
	free(dir);
	if (test_begin("llm-conformance") < 0)
		return 1;
	spec_example();
	cassettes();
	ollama_docs();
	free(fixtures);
	return test_end();
}
