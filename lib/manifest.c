/*
 * manifest.c: edits of a Kubernetes manifest's text for `sre fix` (see
 * fix.h): raise a container's memory limit, or replace its image.
 *
 * The file is not rewritten from a parsed tree, which would lose its
 * comments, its order and its quoting. libyaml's document API only finds
 * the one scalar to change and its place in the text (its marks); the new
 * value is spliced into the original bytes there, in the quotes the old
 * one had. Everything else stays byte for byte.
 *
 * Where the containers are looked for: in each document of the stream, a
 * workload's spec.template.spec.containers (Deployment, StatefulSet,
 * DaemonSet, ReplicaSet, Job), a CronJob's spec.jobTemplate.spec.template.
 * spec.containers and a Pod's spec.containers; in a List (kind: List, or
 * any kind ending in "List"), in each of its items. initContainers are not
 * looked at: the service runs in its containers.
 *
 * A value is only rewritten when it is written as one word, plain or in
 * quotes, and is not shared through an anchor: anything cleverer (a block
 * scalar, an escape, a tag, an alias) is refused rather than guessed at.
 */
#include <math.h>
#include <yaml.h>

#include "fix.h"
#include "util.h"

#define MAX_LIST_DEPTH 4         /* a List of Lists of ...: deeper is not a manifest */

struct container {
	size_t doc;                  /* which document of the stream */
	yaml_node_t *node;           /* its mapping */
	const char *name;            /* its name, "" when it has none; borrowed from the node */
};

struct manifest {
	const char *text;
	size_t len;
	yaml_document_t *docs;
	size_t nr, alloc;
	struct container *c;
	size_t c_nr, c_alloc;
};

static void manifest_release(struct manifest *m)
{
	for (size_t i = 0; i < m->nr; i++)
		yaml_document_delete(&m->docs[i]);
	free(m->docs);
	free(m->c);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* "key:", "key: ~", "key: null": there is no value. */
static int is_null(const yaml_node_t *n)
{
	const char *v = scalar(n);

	if (!n)
		return 1;
	if (!v || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

/* The value of key in map, or NULL (also when map is no mapping). */
static yaml_node_t *map_get(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(doc, p->key));

		if (k && !strcmp(k, key))
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

/* Follow a path of keys ("spec", "template", ...) from n; NULL when one is missing. */
static yaml_node_t *map_path(yaml_document_t *doc, yaml_node_t *n, const char *const *keys)
{
	for (; n && *keys; keys++)
		n = map_get(doc, n, *keys);
	return n;
}

static void add_containers(struct manifest *m, size_t d, yaml_node_t *seq)
{
	yaml_document_t *doc = &m->docs[d];

	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return;
	for (yaml_node_item_t *i = seq->data.sequence.items.start;
	     i < seq->data.sequence.items.top; i++) {
		yaml_node_t *c = yaml_document_get_node(doc, *i);
		const char *name;

		if (!c || c->type != YAML_MAPPING_NODE)
			continue;
		name = scalar(map_get(doc, c, "name"));
		ALLOC_GROW(m->c, m->c_nr + 1, m->c_alloc);
		m->c[m->c_nr].doc = d;
		m->c[m->c_nr].node = c;
		m->c[m->c_nr].name = name ? name : "";
		m->c_nr++;
	}
}

static void find_containers(struct manifest *m, size_t d, yaml_node_t *obj, int depth)
{
	static const char *const template[] = { "spec", "template", "spec", NULL };
	static const char *const cronjob[] = { "spec", "jobTemplate", "spec", "template", "spec", NULL };
	static const char *const pod[] = { "spec", NULL };
	static const char *const *const pod_specs[] = { template, cronjob, pod };
	yaml_document_t *doc = &m->docs[d];
	const char *kind = scalar(map_get(doc, obj, "kind"));

	if (!obj || obj->type != YAML_MAPPING_NODE)
		return;
	if (kind && ends_with(kind, "List")) {
		yaml_node_t *items = map_get(doc, obj, "items");

		if (!items || items->type != YAML_SEQUENCE_NODE || depth >= MAX_LIST_DEPTH)
			return;
		for (yaml_node_item_t *i = items->data.sequence.items.start;
		     i < items->data.sequence.items.top; i++)
			find_containers(m, d, yaml_document_get_node(doc, *i), depth + 1);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(pod_specs); i++) {
		yaml_node_t *containers = map_get(doc, map_path(doc, obj, pod_specs[i]), "containers");

		if (containers) {
			add_containers(m, d, containers);
			return;
		}
	}
}

/* Parse every document of text and list their containers: 0, or -1 with why in err. */
static int manifest_load(struct manifest *m, const char *text, struct strbuf *err)
{
	yaml_parser_t parser;
	int ret = 0;

	memset(m, 0, sizeof(*m));
	m->text = text;
	m->len = strlen(text);
	yaml_parser_initialize(&parser);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, m->len);
	for (;;) {
		yaml_document_t doc;

		if (!yaml_parser_load(&parser, &doc)) {
			strbuf_addf(err, "the manifest is not YAML sre can read: %s at line %zu",
				    parser.problem ? parser.problem : "a syntax error",
				    parser.problem_mark.line + 1);
			ret = -1;
			break;
		}
		if (!yaml_document_get_root_node(&doc)) {
			yaml_document_delete(&doc);
			break;
		}
		ALLOC_GROW(m->docs, m->nr + 1, m->alloc);
		m->docs[m->nr++] = doc;
	}
	yaml_parser_delete(&parser);
	if (ret)
		return ret;
	for (size_t d = 0; d < m->nr; d++)
		find_containers(m, d, yaml_document_get_root_node(&m->docs[d]), 0);
	return 0;
}

static void list_names(struct strbuf *sb, const struct manifest *m)
{
	for (size_t i = 0; i < m->c_nr; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", *m->c[i].name ? m->c[i].name : "(unnamed)");
}

/* The container to edit: named, or the only one. NULL with why in err. */
static const struct container *pick(const struct manifest *m, const char *name, struct strbuf *err)
{
	const struct container *found = NULL;
	size_t n = 0;

	if (!m->c_nr) {
		strbuf_addstr(err, "the manifest has no containers: sre reads Deployments, "
			      "StatefulSets, DaemonSets, Jobs, Pods and Lists of them");
		return NULL;
	}
	if (!name) {
		if (m->c_nr == 1)
			return &m->c[0];
		strbuf_addstr(err, "the manifest has several containers (");
		list_names(err, m);
		strbuf_addstr(err, "): name the one to edit");
		return NULL;
	}
	for (size_t i = 0; i < m->c_nr; i++) {
		if (!strcmp(m->c[i].name, name)) {
			found = &m->c[i];
			n++;
		}
	}
	if (n > 1) {
		strbuf_addf(err, "the manifest has %zu containers named %s: sre cannot tell which "
			    "to edit", n, name);
		return NULL;
	}
	if (!found) {
		strbuf_addf(err, "the manifest has no container named %s (it has: ", name);
		list_names(err, m);
		strbuf_addch(err, ')');
	}
	return found;
}

/* How many times the document refers to node n: more than once means an alias shares it. */
static int references(yaml_document_t *doc, const yaml_node_t *n)
{
	int id = (int)(n - doc->nodes.start) + 1, count = 0;

	for (yaml_node_t *p = doc->nodes.start; p < doc->nodes.top; p++) {
		if (p->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *i = p->data.sequence.items.start;
			     i < p->data.sequence.items.top; i++)
				count += *i == id;
		} else if (p->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *q = p->data.mapping.pairs.start;
			     q < p->data.mapping.pairs.top; q++)
				count += (q->key == id) + (q->value == id);
		}
	}
	return count;
}

/*
 * libyaml's marks count characters (a byte order mark too, as the
 * encoding is set), the text is edited in bytes; it is UTF-8, as it parsed.
 */
static size_t byte_offset(const struct manifest *m, size_t chars)
{
	size_t i = 0;

	while (chars-- && i < m->len) {
		i++;
		while (i < m->len && ((unsigned char)m->text[i] & 0xc0) == 0x80)
			i++;
	}
	return i;
}

/* Where a value sits in the text: bytes [start, end), in quote (or none). */
struct place {
	size_t start, end;
	char quote;
	const char *value;           /* borrowed from the document */
};

/*
 * Find the scalar at the end of path, from the container c, and check
 * that it can be replaced in place. what names it in messages
 * ("resources.limits.memory"). 0, 1 when it is not there, -1 with why in
 * err.
 */
static int locate(struct place *out, const struct manifest *m, const struct container *c,
		  const char *const *path, const char *what, struct strbuf *err)
{
	yaml_document_t *doc = &m->docs[c->doc];
	const char *cname = *c->name ? c->name : "(unnamed)";
	yaml_node_t *n = c->node;
	const char *v, *raw;
	size_t vlen;
	char quote = 0;

	for (const char *const *k = path;; k++) {
		if (references(doc, n) > 1) {
			strbuf_addf(err, "container %s's %s is shared with another place through a "
				    "YAML alias: sre will not edit it", cname, what);
			return -1;
		}
		if (!*k)
			break;
		n = map_get(doc, n, *k);
		if (!n)
			return 1;
	}
	if (is_null(n))
		return 1;
	v = scalar(n);
	if (!v)
		goto cannot;
	switch (n->data.scalar.style) {
	case YAML_PLAIN_SCALAR_STYLE:
		break;
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		quote = '\'';
		break;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		quote = '"';
		break;
	default:
		goto cannot;
	}
	/*
	 * The marks may take in an anchor or a tag, and a quoted value may
	 * hold escapes: splice only when the text there is the value itself
	 * in its quotes.
	 */
	out->start = byte_offset(m, n->start_mark.index);
	out->end = byte_offset(m, n->end_mark.index);
	out->quote = quote;
	out->value = v;
	raw = m->text + out->start;
	vlen = strlen(v);
	if (out->end < out->start || out->end - out->start != vlen + (quote ? 2 : 0) ||
	    (quote && (raw[0] != quote || raw[vlen + 1] != quote)) ||
	    memcmp(raw + (quote ? 1 : 0), v, vlen) || strpbrk(v, "\r\n") ||
	    (quote && strchr(v, quote)) || (quote == '"' && strchr(v, '\\')))
		goto cannot;
	return 0;
cannot:
	strbuf_addf(err, "container %s's %s (line %zu) is not written as one plain or quoted "
		    "word: sre will not rewrite it", cname, what, n->start_mark.line + 1);
	return -1;
}

/* The text with value at p, in p's quotes. */
static void splice(struct strbuf *out, const struct manifest *m, const struct place *p,
		   const char *value)
{
	strbuf_add(out, m->text, p->start);
	if (p->quote)
		strbuf_addch(out, p->quote);
	strbuf_addstr(out, value);
	if (p->quote)
		strbuf_addch(out, p->quote);
	strbuf_add(out, m->text + p->end, m->len - p->end);
}

/* ---- memory quantities ---- */

static const struct unit {
	const char *suffix;
	double bytes;
	int family;                  /* the units a value may be rewritten in, smallest Mi or M */
} units[] = {
	{ "Pi", 1125899906842624.0, 1 }, { "Ti", 1099511627776.0, 1 },
	{ "Gi", 1073741824.0, 1 }, { "Mi", 1048576.0, 1 }, { "Ki", 1024.0, 0 },
	{ "P", 1e15, 2 }, { "T", 1e12, 2 }, { "G", 1e9, 2 }, { "M", 1e6, 2 }, { "k", 1e3, 0 },
	{ "", 1.0, 0 },
};

#define MAX_BYTES 9007199254740992.0    /* 2^53: past it a double is not exact */

/*
 * "256Mi", "1.5Gi", "512M", "268435456": the number and its unit, or -1.
 * The digits are read by hand, not by strtod(), which follows the locale.
 */
static int parse_memory(const char *s, double *num, const struct unit **unit)
{
	double n = 0, scale = 1;
	int digits = 0, seen_dot = 0;

	for (; (*s >= '0' && *s <= '9') || (*s == '.' && !seen_dot); s++) {
		if (*s == '.') {
			if (!digits)
				return -1;
			seen_dot = 1;
			if (s[1] < '0' || s[1] > '9')
				return -1;
			continue;
		}
		if (++digits > 15)
			return -1;
		n = n * 10 + (*s - '0');
		if (seen_dot)
			scale *= 10;
	}
	if (!digits)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (!strcmp(s, units[i].suffix)) {
			*num = n / scale;
			*unit = &units[i];
			return 0;
		}
	}
	return -1;
}

static int whole(double q)
{
	return fabs(q - round(q)) <= fmax(1e-6, q * 1e-12);
}

/*
 * old * step, in old's unit when it comes out whole there ("256Mi" ->
 * "384Mi"), else in the first smaller unit of its kind, down to Mi or M,
 * where it does ("1Gi" -> "1536Mi", "1Ti" -> "1536Gi", "1G" -> "1500M"),
 * else in Mi rounded up (a limit is never raised by less than asked).
 */
static int multiply_memory(char **out, const char *old, double step)
{
	const struct unit *u;
	double num, bytes;

	if (parse_memory(old, &num, &u) < 0 || num <= 0)
		return -1;
	bytes = num * step * u->bytes;
	if (bytes > MAX_BYTES)
		return -1;
	if (whole(num * step)) {
		*out = xstrfmt("%lld%s", (long long)llround(num * step), u->suffix);
		return 0;
	}
	for (const struct unit *v = u + 1; u->family && v < units + ARRAY_SIZE(units) &&
	     v->family == u->family; v++) {
		double q = bytes / v->bytes;

		if (whole(q)) {
			*out = xstrfmt("%lld%s", (long long)llround(q), v->suffix);
			return 0;
		}
	}
	*out = xstrfmt("%lldMi", (long long)ceil(bytes / 1048576.0 - 1e-9));
	return 0;
}

int manifest_set_memory(struct strbuf *out, const char *text, const char *container,
			double step, char **old, char **new, struct strbuf *err)
{
	static const char *const limit[] = { "resources", "limits", "memory", NULL };
	struct manifest m;
	const struct container *c;
	struct place p;
	char *value = NULL;
	int ret = -1;

	*old = *new = NULL;
	if (!isfinite(step) || step <= 1) {
		strbuf_addf(err, "the memory step is %g: a limit is raised by a step above 1", step);
		return -1;
	}
	if (manifest_load(&m, text, err) < 0 || !(c = pick(&m, container, err)))
		goto out;
	switch (locate(&p, &m, c, limit, "resources.limits.memory", err)) {
	case 1:
		strbuf_addf(err, "container %s has no resources.limits.memory to raise",
			    *c->name ? c->name : "(unnamed)");
		/* fallthrough */
	case -1:
		goto out;
	}
	if (multiply_memory(&value, p.value, step) < 0) {
		strbuf_addf(err, "container %s's resources.limits.memory is \"%s\": not a memory "
			    "quantity sre can raise", *c->name ? c->name : "(unnamed)", p.value);
		goto out;
	}
	/*
	 * resources.requests.memory is left alone: it may not exceed the
	 * limit (Kubernetes refuses such a manifest), and the limit only
	 * goes up, so it cannot come to exceed the new one.
	 */
	splice(out, &m, &p, value);
	*old = xstrdup(p.value);
	*new = value;
	value = NULL;
	ret = 0;
out:
	free(value);
	manifest_release(&m);
	return ret;
}

/* Is image a reference sre may write anywhere in YAML, quoted or not? */
static int image_ok(const char *image)
{
	if (!image || !((*image >= 'a' && *image <= 'z') || (*image >= 'A' && *image <= 'Z') ||
			(*image >= '0' && *image <= '9')))
		return 0;
	for (const char *p = image; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/@+-",
			    *p))
			return 0;
	return strlen(image) <= 512;
}

int manifest_set_image(struct strbuf *out, const char *text, const char *container,
		       const char *image, char **old, struct strbuf *err)
{
	static const char *const path[] = { "image", NULL };
	struct manifest m;
	const struct container *c;
	struct place p;
	int ret = -1;

	*old = NULL;
	if (!image_ok(image)) {
		strbuf_addf(err, "\"%s\" is not an image reference sre writes", image ? image : "");
		return -1;
	}
	if (manifest_load(&m, text, err) < 0 || !(c = pick(&m, container, err)))
		goto out;
	switch (locate(&p, &m, c, path, "image", err)) {
	case 1:
		strbuf_addf(err, "container %s has no image to replace",
			    *c->name ? c->name : "(unnamed)");
		/* fallthrough */
	case -1:
		goto out;
	}
	splice(out, &m, &p, image);
	*old = xstrdup(p.value);
	ret = 0;
out:
	manifest_release(&m);
	return ret;
}
