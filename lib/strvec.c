/*
 * strvec.c: vectors of strings and shell-word splitting. See strvec.h.
 */
#include "strvec.h"
#include "strbuf.h"

const char *empty_strvec[] = { NULL };

void strvec_init(struct strvec *sv)
{
	sv->v = empty_strvec;
	sv->nr = sv->alloc = 0;
}

static void push_owned(struct strvec *sv, char *s)
{
	if (sv->v == empty_strvec)
		sv->v = NULL;
	ALLOC_GROW(sv->v, sv->nr + 2, sv->alloc);
	sv->v[sv->nr++] = s;
	sv->v[sv->nr] = NULL;
}

void strvec_push(struct strvec *sv, const char *s)
{
	push_owned(sv, xstrdup(s));
}

void strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	push_owned(sv, strbuf_detach(&sb, NULL));
}

void strvec_pushl(struct strvec *sv, ...)
{
	va_list ap;
	const char *s;

	va_start(ap, sv);
	while ((s = va_arg(ap, const char *)))
		strvec_push(sv, s);
	va_end(ap);
}

void strvec_pushv(struct strvec *sv, const char **argv)
{
	for (; *argv; argv++)
		strvec_push(sv, *argv);
}

int strvec_has(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->nr; i++)
		if (!strcmp(sv->v[i], s))
			return 1;
	return 0;
}

void strvec_clear(struct strvec *sv)
{
	if (sv->v != empty_strvec) {
		for (size_t i = 0; i < sv->nr; i++)
			free((char *)sv->v[i]);
		free(sv->v);
	}
	strvec_init(sv);
}

int split_shell_words(struct strvec *out, const char *s, const char **err)
{
	struct strbuf word = STRBUF_INIT;
	int in_word = 0;

	for (;;) {
		char c = *s++;

		if (c == '\0' || c == ' ' || c == '\t' || c == '\n') {
			if (in_word) {
				push_owned(out, strbuf_detach(&word, NULL));
				in_word = 0;
			}
			if (!c)
				break;
			continue;
		}
		in_word = 1;
		if (c == '\'') {
			while (*s && *s != '\'')
				strbuf_addch(&word, *s++);
			if (!*s++)
				goto unterminated;
		} else if (c == '"') {
			while (*s && *s != '"') {
				if (*s == '\\' && s[1] && strchr("\\\"$`\n", s[1]))
					s++;
				strbuf_addch(&word, *s++);
			}
			if (!*s++)
				goto unterminated;
		} else if (c == '\\') {
			if (!*s)
				goto unterminated;
			strbuf_addch(&word, *s++);
		} else {
			strbuf_addch(&word, c);
		}
	}
	if (!out->nr) {
		*err = "empty command";
		return -1;
	}
	return 0;

unterminated:
	strbuf_release(&word);
	*err = "unterminated quote or trailing backslash";
	return -1;
}
