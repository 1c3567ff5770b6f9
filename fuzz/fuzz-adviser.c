/*
 * fuzz-adviser.c: an LLM's answer (lib/adviser.c), which a model writes
 * and anyone who can steer the model through a log line or a ticket
 * influences. Whatever it is, it must come out as nothing, or as a
 * finding within the closed sets whose target the evidence names and
 * whose params are plain.
 */
#include <ctype.h>

#include "fuzz.h"
#include "../lib/adviser.h"

static struct evidence ev;
static struct diagnosis d;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ev.service = xstrdup("checkout");
	evidence_add_service_log(&ev, "payments", "kubernetes", "payments-1", "ERROR x\n", 8);
	d.answer.rule = "kubernetes-oom";
	d.answer.category = CATEGORY_oom;
	d.answer.action = ACTION_increase_memory;
	d.answer.target = xstrdup("checkout");
	d.answer.root_cause = xstrdup("OOMKilled");
	d.answer.params = cJSON_Parse("{\"memory\": \"384Mi\"}");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct adviser_result r = ADVISER_RESULT_INIT;
	cJSON *answer = cJSON_ParseWithLength((const char *)data, size), *p;

	if (adviser_use_answer(&r, &ev, &d, answer) == 0) {
		const struct diagnosis_finding *f = &r.answer;
		if ((unsigned)f->category >= CATEGORY__COUNT || (unsigned)f->action >= ACTION__COUNT)
			abort();
		if (f->target && strcmp(f->target, "checkout") && strcmp(f->target, "payments"))
			abort(); /* a target the evidence does not name */
		cJSON_ArrayForEach(p, f->params) {
			if (cJSON_IsString(p))
				for (const char *c = p->valuestring; *c; c++)
					if (!isalnum((unsigned char)*c) && !strchr("._:/@+-", *c))
						abort(); /* a param a shell or a URL could take as syntax */
			if (!cJSON_IsString(p) && !cJSON_IsNumber(p))
				abort();
		}
		if (!f->root_cause || f->confidence < 0 || f->confidence > 1)
			abort();
	}
	adviser_result_release(&r);
	cJSON_Delete(answer);
	return 0;
}
