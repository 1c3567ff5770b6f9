/*
 * kubeconfig.c: read a kubeconfig (or a pod's service account) into the
 * server, CA and credentials lib/kubernetes.c needs; see kubeconfig.h.
 *
 * The file is loaded whole with libyaml's document API, so anchors and
 * aliases resolve as YAML has them, and every value keeps its mark: an
 * entry sre refuses is reported at its own line. Only the entries named
 * by the chosen context are read; the rest of the file may hold anything.
 */
#include <errno.h>
#include <unistd.h>
#include <yaml.h>

#include "kubeconfig.h"

#define KUBECONFIG_MAX (4 << 20) /* a kubeconfig larger than this is not one */
#define PEM_MAX (1 << 20)
#define DEFAULT_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* A loaded file, and where its messages go. */
struct doc {
	yaml_document_t yaml;
	const char *path;
	struct strbuf *err;
};

SRE_PRINTF(3, 4)
static int fail_at(struct doc *d, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	if (n)
		strbuf_addf(d->err, "%s:%zu: ", d->path, n->start_mark.line + 1);
	else
		strbuf_addf(d->err, "%s: ", d->path);
	va_start(ap, fmt);
	strbuf_vaddf(d->err, fmt, ap);
	va_end(ap);
	return -1;
}

static int is_null(const yaml_node_t *n)
{
	const char *v;

	if (!n)
		return 1;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

/*
 * A mapping's value for key, or NULL when absent or null; *key_node, when
 * asked for, gets the key itself (whose line a message about it names).
 */
static yaml_node_t *map_entry(struct doc *d, const yaml_node_t *map, const char *key,
			      yaml_node_t **key_node)
{
	size_t n = strlen(key);

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&d->yaml, p->key);
		yaml_node_t *v = yaml_document_get_node(&d->yaml, p->value);

		if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == n &&
		    !memcmp(k->data.scalar.value, key, n)) {
			if (key_node)
				*key_node = k;
			return is_null(v) ? NULL : v;
		}
	}
	return NULL;
}

static yaml_node_t *map_get(struct doc *d, const yaml_node_t *map, const char *key)
{
	return map_entry(d, map, key, NULL);
}

/*
 * A string value: 0 with *out set (NULL when absent), or -1 when the value
 * is not a string. The text is borrowed from the document.
 */
static int get_string(struct doc *d, const yaml_node_t *map, const char *key,
		      const char **out, yaml_node_t **node)
{
	yaml_node_t *v = map_get(d, map, key);

	*out = NULL;
	if (node)
		*node = v;
	if (!v)
		return 0;
	if (v->type != YAML_SCALAR_NODE)
		return fail_at(d, v, "%s is not a string", key);
	if (strlen((const char *)v->data.scalar.value) != v->data.scalar.length)
		return fail_at(d, v, "%s holds a NUL byte", key);
	*out = (const char *)v->data.scalar.value;
	return 0;
}

/*
 * Find the entry called name in the list root[list] (clusters, contexts,
 * users) and return its inner mapping (cluster, context, user). 0 found,
 * 1 not there, -1 after a message when the file has the wrong shape.
 */
static int find_named(struct doc *d, const yaml_node_t *root, const char *list,
		      const char *inner, const char *name, yaml_node_t **out)
{
	yaml_node_t *seq = map_get(d, root, list);

	*out = NULL;
	if (!seq)
		return 1;
	if (seq->type != YAML_SEQUENCE_NODE)
		return fail_at(d, seq, "%s is not a list", list);
	for (yaml_node_item_t *i = seq->data.sequence.items.start;
	     i < seq->data.sequence.items.top; i++) {
		yaml_node_t *entry = yaml_document_get_node(&d->yaml, *i);
		const char *n;

		if (!entry || entry->type != YAML_MAPPING_NODE)
			return fail_at(d, entry, "an entry of %s is not a mapping", list);
		if (get_string(d, entry, "name", &n, NULL) < 0)
			return -1;
		if (!n || strcmp(n, name))
			continue;
		*out = map_get(d, entry, inner);
		if (*out && (*out)->type != YAML_MAPPING_NODE)
			return fail_at(d, *out, "%s \"%s\" is not a mapping", inner, name);
		if (!*out)
			return fail_at(d, entry, "%s \"%s\" has no %s", inner, name, inner);
		return 0;
	}
	return 1;
}

/* YAML 1.1 booleans, as Go's YAML (and so kubectl) reads them. */
static int is_true(const char *v)
{
	static const char *const yes[] = { "true", "yes", "on", "y" };

	for (size_t i = 0; v && i < ARRAY_SIZE(yes); i++)
		if (!strcasecmp(v, yes[i]))
			return 1;
	return 0;
}

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode standard base64 (blanks ignored, padding optional): 0 or -1. */
static int base64_decode(const char *s, struct strbuf *out)
{
	unsigned int acc = 0;
	int bits = 0, pad = 0;

	for (; *s; s++) {
		int v;

		if (strchr(" \t\r\n", *s))
			continue;
		if (*s == '=') {
			pad++;
			continue;
		}
		v = b64_value((unsigned char)*s);
		if (v < 0 || pad)
			return -1;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			strbuf_addch(out, (int)((acc >> bits) & 0xff));
		}
	}
	return pad > 2 ? -1 : 0;
}

/* A path in the kubeconfig, relative to the file's own directory. Caller frees. */
static char *resolve(const char *kubeconfig, const char *path)
{
	const char *slash = strrchr(kubeconfig, '/');

	if (path[0] == '/' || !slash)
		return xstrdup(path);
	return xstrfmt("%.*s/%s", (int)(slash - kubeconfig), kubeconfig, path);
}

/* Read a PEM file or a secret file whole: 0, or -1 with errno set. */
static int read_small(const char *path, struct strbuf *out)
{
	strbuf_reset(out);
	if (strbuf_read_regular_file(out, path, PEM_MAX) < 0)
		return -1;
	if (strlen(out->buf) != out->len) {
		errno = EINVAL; /* a NUL byte: DER, not PEM */
		return -1;
	}
	return 0;
}

/*
 * Read one PEM item of a cluster or user: "<key>-data" (base64) or
 * "<key>" (a path). *out is NULL when neither is set. 0 or -1 (message).
 */
static int get_pem(struct doc *d, const yaml_node_t *map, const char *key,
		   const char *owner, char **out, struct http_client *http, int secret)
{
	struct strbuf sb = STRBUF_INIT;
	char *data_key = xstrfmt("%s-data", key);
	const char *data, *path;
	yaml_node_t *data_node, *path_node;
	int ret = -1;

	*out = NULL;
	if (get_string(d, map, data_key, &data, &data_node) < 0 ||
	    get_string(d, map, key, &path, &path_node) < 0)
		goto done;
	if (data && *data) {
		if (secret && http)
			http_client_add_secret(http, data);
		if (base64_decode(data, &sb) < 0 || strlen(sb.buf) != sb.len) {
			fail_at(d, data_node, "%s of %s is not base64 of PEM text", data_key, owner);
			goto done;
		}
	} else if (path && *path) {
		char *file = resolve(d->path, path);

		if (read_small(file, &sb) < 0) {
			fail_at(d, path_node, "cannot read %s %s of %s: %s", key, file, owner,
				strerror(errno));
			free(file);
			goto done;
		}
		free(file);
	} else {
		ret = 0;
		goto done;
	}
	if (!strstr(sb.buf, "-----BEGIN ")) {
		fail_at(d, data ? data_node : path_node, "%s of %s is not PEM", data ? data_key : key,
			owner);
		goto done;
	}
	if (secret && http)
		http_client_add_secret(http, sb.buf);
	*out = strbuf_detach(&sb, NULL);
	ret = 0;
done:
	if (sb.len)
		memset(sb.buf, 0, sb.len);
	strbuf_release(&sb);
	free(data_key);
	return ret;
}

static int read_cluster(struct doc *d, const yaml_node_t *cluster, const char *name,
			struct kubeconfig *out)
{
	const char *server, *insecure;
	yaml_node_t *node;
	char *owner = xstrfmt("cluster \"%s\"", name);
	int ret = -1;
	size_t len;

	if (get_string(d, cluster, "insecure-skip-tls-verify", &insecure, &node) < 0)
		goto done;
	if (is_true(insecure)) {
		fail_at(d, node, "%s sets insecure-skip-tls-verify; sre never turns TLS "
			"verification off: give it certificate-authority-data instead", owner);
		goto done;
	}
	if (get_string(d, cluster, "server", &server, &node) < 0)
		goto done;
	if (!server || !*server) {
		fail_at(d, cluster, "%s has no server", owner);
		goto done;
	}
	if (!starts_with(server, "https://") && !starts_with(server, "http://")) {
		fail_at(d, node, "the server of %s is not an http(s) URL", owner);
		goto done;
	}
	len = strlen(server);
	while (len && server[len - 1] == '/')
		len--;
	out->server = xstrndup(server, len);
	ret = get_pem(d, cluster, "certificate-authority", owner, &out->ca_pem, NULL, 0);
done:
	free(owner);
	return ret;
}

static int read_user(struct doc *d, const yaml_node_t *user, const char *name,
		     struct kubeconfig *out, struct http_client *http)
{
	const char *token, *token_file, *username, *password;
	yaml_node_t *node, *key = NULL;
	char *owner = xstrfmt("user \"%s\"", name);
	int ret = -1;

	if ((node = map_entry(d, user, "exec", &key))) {
		yaml_node_t *cmd = map_get(d, node, "command");
		const char *command = cmd && cmd->type == YAML_SCALAR_NODE ?
				      (const char *)cmd->data.scalar.value : NULL;

		fail_at(d, key, "%s gets its credentials from an exec plugin%s%s%s, which sre "
			"does not run: give it a token or a client certificate", owner,
			command ? " (" : "", command ? command : "", command ? ")" : "");
		goto done;
	}
	if (map_entry(d, user, "auth-provider", &key)) {
		fail_at(d, key, "%s gets its credentials from an auth-provider plugin, which sre "
			"does not run: give it a token or a client certificate", owner);
		goto done;
	}
	if (get_string(d, user, "token", &token, NULL) < 0 ||
	    get_string(d, user, "tokenFile", &token_file, &node) < 0 ||
	    get_string(d, user, "username", &username, NULL) < 0 ||
	    get_string(d, user, "password", &password, NULL) < 0)
		goto done;
	if (token && *token) {
		out->token = xstrdup(token);
	} else if (token_file && *token_file) {
		struct strbuf sb = STRBUF_INIT;
		char *file = resolve(d->path, token_file);

		if (read_small(file, &sb) < 0) {
			fail_at(d, node, "cannot read the tokenFile %s of %s: %s", file, owner,
				strerror(errno));
			free(file);
			strbuf_release(&sb);
			goto done;
		}
		free(file);
		strbuf_trim(&sb);
		out->token = strbuf_detach(&sb, NULL);
	}
	if (out->token && http)
		http_client_add_secret(http, out->token);
	if (username && *username) {
		out->userpwd = xstrfmt("%s:%s", username, password ? password : "");
		if (http) {
			http_client_add_secret(http, password);
			http_client_add_secret(http, out->userpwd);
		}
	}
	if (get_pem(d, user, "client-certificate", owner, &out->client_cert_pem, NULL, 0) < 0 ||
	    get_pem(d, user, "client-key", owner, &out->client_key_pem, http, 1) < 0)
		goto done;
	if (!out->client_cert_pem != !out->client_key_pem) {
		fail_at(d, user, "%s has a client %s but no client %s", owner,
			out->client_cert_pem ? "certificate" : "key",
			out->client_cert_pem ? "key" : "certificate");
		goto done;
	}
	ret = 0;
done:
	free(owner);
	return ret;
}

/* Read the context named by kubernetes.context or current-context. */
static int read_document(struct doc *d, const struct config *cfg, struct kubeconfig *out,
			 struct http_client *http)
{
	yaml_node_t *root = yaml_document_get_root_node(&d->yaml), *ctx, *cluster, *user;
	const char *name = config_get_string(cfg, "kubernetes.context");
	const char *cluster_name, *user_name, *ns;
	int r;

	if (root && root->type != YAML_MAPPING_NODE)
		return fail_at(d, root, "not a kubeconfig: the file is not a mapping");
	if (!name || !*name) {
		if (get_string(d, root, "current-context", &name, NULL) < 0)
			return -1;
		if (!name || !*name)
			return fail_at(d, NULL, "no current-context; name one with kubernetes.context");
	}
	out->context = xstrdup(name);
	r = find_named(d, root, "contexts", "context", name, &ctx);
	if (r)
		return r < 0 ? -1 : fail_at(d, NULL, "no context \"%s\"", name);
	if (get_string(d, ctx, "cluster", &cluster_name, NULL) < 0 ||
	    get_string(d, ctx, "user", &user_name, NULL) < 0 ||
	    get_string(d, ctx, "namespace", &ns, NULL) < 0)
		return -1;
	if (ns && *ns)
		out->namespace = xstrdup(ns);
	if (!cluster_name || !*cluster_name)
		return fail_at(d, ctx, "context \"%s\" names no cluster", name);
	r = find_named(d, root, "clusters", "cluster", cluster_name, &cluster);
	if (r)
		return r < 0 ? -1 : fail_at(d, ctx, "no cluster \"%s\" (named by context \"%s\")",
					    cluster_name, name);
	if (read_cluster(d, cluster, cluster_name, out) < 0)
		return -1;
	if (!user_name || !*user_name)
		return 0; /* a context may name no user: no credentials */
	r = find_named(d, root, "users", "user", user_name, &user);
	if (r)
		return r < 0 ? -1 : fail_at(d, ctx, "no user \"%s\" (named by context \"%s\")",
					    user_name, name);
	if (read_user(d, user, user_name, out, http) < 0)
		return -1;
	/* Plain HTTP is for `kubectl proxy`, which needs no credentials. */
	if (starts_with(out->server, "http://") &&
	    (out->token || out->client_key_pem || out->userpwd))
		return fail_at(d, cluster, "cluster \"%s\" is reached over plain HTTP, and sre "
			       "sends no credentials unencrypted: use https", cluster_name);
	return 0;
}

static int load_file(struct kubeconfig *out, const char *path, const struct config *cfg,
		     struct http_client *http, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	yaml_parser_t parser;
	struct doc d = { .path = path, .err = err };
	int ret = -1;

	out->path = xstrdup(path);
	if (strbuf_read_regular_file(&text, path, KUBECONFIG_MAX) < 0) {
		strbuf_addf(err, "cannot read the kubeconfig %s: %s", path,
			    errno == EFBIG ? "larger than 4 MiB" :
			    errno == ENODEV ? "not a regular file" : strerror(errno));
		strbuf_release(&text);
		return -1;
	}
	if (!yaml_parser_initialize(&parser)) {
		strbuf_addstr(err, "cannot start the YAML parser");
		strbuf_release(&text);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text.buf, text.len);
	if (!yaml_parser_load(&parser, &d.yaml)) {
		const char *problem = parser.problem ? parser.problem : "malformed YAML";

		if (parser.error == YAML_READER_ERROR)
			strbuf_addf(err, "%s: byte %zu: %s", path, parser.problem_offset, problem);
		else
			strbuf_addf(err, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
				    parser.problem_mark.column + 1, problem);
		if (parser.context && parser.error != YAML_READER_ERROR)
			strbuf_addf(err, " (%s at line %zu)", parser.context,
				    parser.context_mark.line + 1);
	} else {
		ret = read_document(&d, cfg, out, http);
		yaml_document_delete(&d.yaml);
	}
	yaml_parser_delete(&parser);
	/* The text held the secrets too. */
	memset(text.buf, 0, text.len);
	strbuf_release(&text);
	return ret;
}

/* In a pod: the service account's token and CA, the API server from the environment. */
static int load_service_account(struct kubeconfig *out, const struct config *cfg,
				struct http_client *http, struct strbuf *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = config_get_string(cfg, "kubernetes.service-account-dir");
	struct strbuf sb = STRBUF_INIT;
	char *path;

	if (!dir || !*dir)
		dir = DEFAULT_SA_DIR;
	path = xstrfmt("%s/token", dir);
	if (read_small(path, &sb) < 0) {
		strbuf_addf(err, "in a pod, but cannot read the service account token %s: %s",
			    path, strerror(errno));
		goto fail;
	}
	strbuf_trim(&sb);
	out->token = strbuf_detach(&sb, NULL);
	if (http)
		http_client_add_secret(http, out->token);
	free(path);
	path = xstrfmt("%s/ca.crt", dir);
	if (read_small(path, &sb) < 0) {
		strbuf_addf(err, "in a pod, but cannot read the service account CA %s: %s",
			    path, strerror(errno));
		goto fail;
	}
	out->ca_pem = strbuf_detach(&sb, NULL);
	/* The pod's own namespace, when the service account says it (it may not). */
	free(path);
	path = xstrfmt("%s/namespace", dir);
	if (!read_small(path, &sb)) {
		strbuf_trim(&sb);
		if (sb.len)
			out->namespace = strbuf_detach(&sb, NULL);
	}
	strbuf_release(&sb);
	out->server = strchr(host, ':') ? xstrfmt("https://[%s]:%s", host, port)
					: xstrfmt("https://%s:%s", host, port);
	free(path);
	return 0;
fail:
	strbuf_release(&sb);
	free(path);
	return -1;
}

int kubeconfig_load(struct kubeconfig *out, const struct config *cfg,
		    struct http_client *http, struct strbuf *err)
{
	const char *set = config_get_string(cfg, "kubernetes.kubeconfig");
	const char *env = getenv("KUBECONFIG");
	const char *home = getenv("HOME");
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char *path = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	if (set && *set) {
		const char *rest;

		path = home && skip_prefix(set, "~/", &rest) ? xstrfmt("%s/%s", home, rest)
							     : xstrdup(set);
	} else if (env && *env) {
		/* The first path of the list: sre reads one file, not kubectl's merge. */
		while (*env == ':')
			env++;
		if (*env)
			path = xstrndup(env, strcspn(env, ":"));
	}
	if (!path) {
		char *def = home ? xstrfmt("%s/.kube/config", home) : NULL;

		if (def && !access(def, F_OK)) {
			path = def;
		} else {
			free(def);
			if (host && *host && port && *port)
				return load_service_account(out, cfg, http, err);
			strbuf_addstr(err, "no kubeconfig (~/.kube/config does not exist, "
				      "kubernetes.kubeconfig and $KUBECONFIG are not set) "
				      "and not in a pod");
			return -1;
		}
	}
	ret = load_file(out, path, cfg, http, err);
	free(path);
	return ret;
}

void kubeconfig_apply(const struct kubeconfig *kc, struct http_request *req)
{
	req->ca_pem = kc->ca_pem;
	req->client_cert_pem = kc->client_cert_pem;
	req->client_key_pem = kc->client_key_pem;
	if (kc->token)
		strvec_pushf(&req->headers, "Authorization: Bearer %s", kc->token);
	if (kc->userpwd)
		req->userpwd = kc->userpwd;
}

static void wipe(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

void kubeconfig_release(struct kubeconfig *kc)
{
	free(kc->path);
	free(kc->context);
	free(kc->namespace);
	free(kc->server);
	free(kc->ca_pem);
	free(kc->client_cert_pem);
	wipe(kc->token);
	wipe(kc->client_key_pem);
	wipe(kc->userpwd);
	memset(kc, 0, sizeof(*kc));
}
