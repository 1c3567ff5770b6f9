/*
 * test-kubeconfig.c: unit tests of lib/kubeconfig.c (kubeconfig.h) over
 * YAML files written here, printing TAP: which file is read (the key,
 * $KUBECONFIG, ~/.kube/config, a pod's service account), which context,
 * the credentials it yields (tokens inline and from a file, client
 * certificates by path and as data, basic auth) and how kubeconfig_apply()
 * hands them to a request; and bad files, each refused with one line that
 * names the file and never a secret, without a crash. kubeconfig.c only
 * checks that PEM items look like PEM, so the PEM here is text of that
 * shape, not a real certificate (tests/unit/test-kubernetes.c does TLS).
 */
#include "../../lib/kubeconfig.h"
#include "test-lib.h"

#define TOKEN "kube-token-4f9a2c"
#define PASSWORD "hunter2-pass"
#define CA_PEM "-----BEGIN CERTIFICATE-----\nTUlJQ2FDQQ==\n-----END CERTIFICATE-----\n"
#define CERT_PEM "-----BEGIN CERTIFICATE-----\nY2xpZW50\n-----END CERTIFICATE-----\n"
#define KEY_PEM "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END PRIVATE KEY-----\n"

/* ---- files ---- */

static char *b64(const char *s)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct strbuf sb = STRBUF_INIT;
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		strbuf_addch(&sb, tbl[(v >> 18) & 63]);
		strbuf_addch(&sb, tbl[(v >> 12) & 63]);
		strbuf_addch(&sb, i + 1 < n ? tbl[(v >> 6) & 63] : '=');
		strbuf_addch(&sb, i + 2 < n ? tbl[v & 63] : '=');
	}
	return strbuf_detach(&sb, NULL);
}

/* Write text to name in the scratch directory (subdirectories made); its path. */
static char *write_file(const char *name, const char *text)
{
	char *path = tmp_path(name), *slash;
	FILE *f;

	for (slash = strchr(path + strlen(tmpdir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0700);
		*slash = '/';
	}
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		printf("# cannot write %s\n", path);
		if (f)
			fclose(f);
	}
	return path;
}

/* ---- loading ---- */

struct loaded {
	struct kubeconfig kc;
	struct strbuf err;
	struct http_client http;
	int ret;
};

/* kubeconfig_load() with these config lines (git-config syntax). */
static void load_cfg(struct loaded *l, const char *cfg_text)
{
	struct config cfg = { 0 };

	if (config_read_buffer(&cfg, cfg_text, strlen(cfg_text), "test", CONFIG_SCOPE_COMMAND) < 0)
		printf("# the test's config does not parse: %s\n", cfg_text);
	strbuf_init(&l->err, 0);
	http_client_init(&l->http, NULL);
	capture_start();
	l->ret = kubeconfig_load(&l->kc, &cfg, &l->http, &l->err);
	capture_end();
	config_clear(&cfg);
}

/* kubeconfig_load() of file (a path), with extra config lines. */
static void load(struct loaded *l, const char *file, const char *extra)
{
	char *text = xstrfmt("[kubernetes]\n\tkubeconfig = %s\n%s", file, extra ? extra : "");

	load_cfg(l, text);
	free(text);
}

static void unload(struct loaded *l)
{
	kubeconfig_release(&l->kc);
	strbuf_release(&l->err);
	http_client_release(&l->http);
}

static int has_secret(const struct http_client *h, const char *s)
{
	for (size_t i = 0; i < h->secrets.nr; i++)
		if (!strcmp(h->secrets.v[i], s))
			return 1;
	return 0;
}

/* A kubeconfig with one cluster and one user (its lines given), current-context ctx. */
static char *one(const char *name, const char *cluster_lines, const char *user_lines)
{
	char *text = xstrfmt("apiVersion: v1\nkind: Config\ncurrent-context: ctx\n"
			     "clusters:\n- name: c\n  cluster:\n%s"
			     "contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\n"
			     "users:\n- name: u\n  user:\n%s",
			     cluster_lines, user_lines);
	char *path = write_file(name, text);

	free(text);
	return path;
}

#define SERVER "    server: https://k8s.example:6443/\n"

/* ---- the tests ---- */

static void test_contexts(void)
{
	struct loaded l;
	char *file = write_file("ctx/config",
		"apiVersion: v1\nkind: Config\ncurrent-context: prod\n"
		"clusters:\n"
		"- name: prod\n  cluster:\n    server: https://10.1.2.3:6443//\n"
		"- name: kind\n  cluster:\n    server: http://127.0.0.1:8001\n"
		"contexts:\n"
		"- name: prod\n  context:\n    cluster: prod\n    user: ops\n    namespace: shop\n"
		"- name: proxy\n  context:\n    cluster: kind\n"
		"- name: lost\n  context:\n    cluster: nowhere\n    user: ops\n"
		"- name: nouser\n  context:\n    cluster: prod\n    user: ghost\n"
		"users:\n- name: ops\n  user:\n    token: " TOKEN "\n");

	load(&l, file, NULL);
	is_int(l.ret, 0, "contexts: the current-context loads");
	is_str(l.kc.context, "prod", "contexts: it is named");
	is_str(l.kc.path, file, "contexts: and the file");
	is_str(l.kc.server, "https://10.1.2.3:6443", "contexts: the server, trailing slashes cut");
	is_str(l.kc.token, TOKEN, "contexts: its user's token");
	ok(has_secret(&l.http, TOKEN), "contexts: the token is registered as a secret");
	unload(&l);

	load(&l, file, "\tcontext = proxy\n");
	is_int(l.ret, 0, "contexts: kubernetes.context picks another");
	is_str(l.kc.server, "http://127.0.0.1:8001", "contexts: its cluster (kubectl proxy)");
	ok(!l.kc.token && !l.kc.userpwd && !l.kc.client_key_pem && !l.kc.ca_pem,
	   "contexts: no user, no credentials");
	unload(&l);

	load(&l, file, "\tcontext = lost\n");
	is_int(l.ret, -1, "contexts: a context naming no such cluster is refused");
	like(l.err.buf, "no cluster \"nowhere\" (named by context \"lost\")", "contexts: and says so");
	ok(starts_with(l.err.buf, file), "contexts: the error starts with the file");
	unload(&l);

	load(&l, file, "\tcontext = nouser\n");
	is_int(l.ret, -1, "contexts: a context naming no such user is refused");
	like(l.err.buf, "no user \"ghost\"", "contexts: and says so");
	unload(&l);

	load(&l, file, "\tcontext = missing\n");
	is_int(l.ret, -1, "contexts: a context not in the file is refused");
	like(l.err.buf, "no context \"missing\"", "contexts: and named");
	unload(&l);
	free(file);
}

static void test_credentials(void)
{
	struct loaded l;
	struct http_request req = HTTP_REQUEST_INIT;
	char *ca64 = b64(CA_PEM), *cert64 = b64(CERT_PEM), *key64 = b64(KEY_PEM);
	char *lines, *file;

	/* A tokenFile and the CA by paths relative to the kubeconfig's own directory. */
	free(write_file("rel/secrets/token", "  " TOKEN "\n"));
	free(write_file("rel/ca.crt", CA_PEM));
	file = one("rel/config", SERVER "    certificate-authority: ca.crt\n",
		   "    tokenFile: secrets/token\n");
	load(&l, file, NULL);
	is_int(l.ret, 0, "tokenFile: loads");
	is_str(l.kc.token, TOKEN, "tokenFile: read relative to the kubeconfig, trimmed");
	is_str(l.kc.ca_pem, CA_PEM, "certificate-authority: read relative to the kubeconfig");
	ok(has_secret(&l.http, TOKEN), "tokenFile: a secret");
	kubeconfig_apply(&l.kc, &req);
	is_int(req.headers.nr, 1, "apply: one header");
	is_str(req.headers.nr ? req.headers.v[0] : NULL, "Authorization: Bearer " TOKEN,
	       "apply: the bearer token");
	ok(req.ca_pem == l.kc.ca_pem, "apply: the CA");
	ok(!req.client_cert_pem && !req.client_key_pem && !req.userpwd, "apply: nothing else");
	http_request_release(&req);
	unload(&l);
	free(file);

	/* Client certificate and key as data. */
	lines = xstrfmt("    client-certificate-data: %s\n    client-key-data: %s\n", cert64, key64);
	file = one("data/config", SERVER, lines);
	free(lines);
	load(&l, file, NULL);
	is_int(l.ret, 0, "client cert data: loads");
	is_str(l.kc.client_cert_pem, CERT_PEM, "client cert data: decoded");
	is_str(l.kc.client_key_pem, KEY_PEM, "client key data: decoded");
	ok(has_secret(&l.http, KEY_PEM) && has_secret(&l.http, key64),
	   "client key: a secret, both decoded and as written");
	ok(!has_secret(&l.http, CERT_PEM), "client cert: not a secret");
	req = (struct http_request)HTTP_REQUEST_INIT;
	kubeconfig_apply(&l.kc, &req);
	ok(req.client_cert_pem == l.kc.client_cert_pem && req.client_key_pem == l.kc.client_key_pem,
	   "apply: the client certificate and key");
	is_int(req.headers.nr, 0, "apply: no Authorization header without a token");
	http_request_release(&req);
	unload(&l);
	free(file);

	/* By path, with basic auth beside. */
	free(write_file("paths/pki/client.crt", CERT_PEM));
	free(write_file("paths/pki/client.key", KEY_PEM));
	lines = xstrfmt(SERVER "    certificate-authority-data: %s\n", ca64);
	file = one("paths/config", lines,
		   "    client-certificate: pki/client.crt\n    client-key: pki/client.key\n"
		   "    username: admin\n    password: " PASSWORD "\n");
	free(lines);
	load(&l, file, NULL);
	is_int(l.ret, 0, "client cert paths: loads");
	is_str(l.kc.ca_pem, CA_PEM, "certificate-authority-data: decoded");
	is_str(l.kc.client_cert_pem, CERT_PEM, "client cert path: read");
	is_str(l.kc.client_key_pem, KEY_PEM, "client key path: read");
	is_str(l.kc.userpwd, "admin:" PASSWORD, "username and password");
	ok(has_secret(&l.http, PASSWORD), "the password is a secret");
	req = (struct http_request)HTTP_REQUEST_INIT;
	kubeconfig_apply(&l.kc, &req);
	is_str(req.userpwd, "admin:" PASSWORD, "apply: basic auth");
	http_request_release(&req);
	unload(&l);
	free(file);
	free(ca64);
	free(cert64);
	free(key64);
}

static void test_where(void)
{
	struct loaded l;
	char *home_cfg, *a, *sa, *text;

	a = one("env/a.yaml", "    server: https://a.example\n", "    token: " TOKEN "\n");
	setenv("KUBECONFIG", "::", 1);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	text = xstrfmt(":%s:/nonexistent/b.yaml", a);
	setenv("KUBECONFIG", text, 1);
	free(text);
	load_cfg(&l, "");
	is_int(l.ret, 0, "$KUBECONFIG: its first path is read");
	is_str(l.kc.path, a, "$KUBECONFIG: the first path, leading colons skipped");
	unload(&l);
	unsetenv("KUBECONFIG");

	load_cfg(&l, "");
	is_int(l.ret, -1, "nothing anywhere: an error");
	is_str(l.err.buf, "no kubeconfig (~/.kube/config does not exist, kubernetes.kubeconfig "
	       "and $KUBECONFIG are not set) and not in a pod", "nothing anywhere: says where it looked");
	unload(&l);

	home_cfg = one("home/.kube/config", "    server: https://home.example\n", "    token: x\n");
	load_cfg(&l, "");
	is_int(l.ret, 0, "~/.kube/config: read by default");
	is_str(l.kc.server, "https://home.example", "~/.kube/config: its server");
	unload(&l);

	/* kubernetes.kubeconfig wins over $KUBECONFIG, and takes ~/. */
	setenv("KUBECONFIG", a, 1);
	load_cfg(&l, "[kubernetes]\n\tkubeconfig = ~/.kube/config\n");
	is_int(l.ret, 0, "kubernetes.kubeconfig: read");
	is_str(l.kc.path, home_cfg, "kubernetes.kubeconfig: ~/ is the home directory, over $KUBECONFIG");
	unload(&l);
	unsetenv("KUBECONFIG");
	unlink(home_cfg);

	/* In a pod. */
	sa = tmp_path("sa");
	free(write_file("sa/token", TOKEN "\n"));
	free(write_file("sa/ca.crt", CA_PEM));
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	text = xstrfmt("[kubernetes]\n\tservice-account-dir = %s\n", sa);
	load_cfg(&l, text);
	is_int(l.ret, 0, "in a pod: the service account");
	is_str(l.kc.server, "https://10.96.0.1:443", "in a pod: the server from the environment");
	is_str(l.kc.token, TOKEN, "in a pod: the token, trimmed");
	is_str(l.kc.ca_pem, CA_PEM, "in a pod: the CA");
	ok(!l.kc.path && !l.kc.context, "in a pod: no file, no context");
	ok(has_secret(&l.http, TOKEN), "in a pod: the token is a secret");
	unload(&l);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	load_cfg(&l, text);
	is_str(l.kc.server, "https://[fd00::1]:443", "in a pod: an IPv6 host in brackets");
	unload(&l);
	free(text);
	text = xstrfmt("[kubernetes]\n\tservice-account-dir = %s/none\n", sa);
	load_cfg(&l, text);
	is_int(l.ret, -1, "in a pod without a token: an error");
	like(l.err.buf, "in a pod, but cannot read the service account token", "and says so");
	unload(&l);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	free(text);
	free(sa);
	free(a);
	free(home_cfg);
}

struct bad {
	const char *name;
	const char *text;   /* the file; NULL: the name is made a directory */
	const char *want;   /* in the error */
};

static void test_bad_files(void)
{
	char *key64 = b64("not pem at all"), *good_cert = b64(CERT_PEM);
	char *bad_key = xstrfmt("    client-certificate-data: %s\n    client-key-data: %s\n",
				good_cert, key64);
	char *bad_b64 = xstrfmt("    client-certificate-data: %s\n    client-key-data: "
				PASSWORD "!!\n", good_cert);
	const struct bad cases[] = {
		{ "empty", "", "no current-context" },
		{ "scalar", "just words\n", "not a kubeconfig" },
		{ "list", "- a\n- b\n", "not a kubeconfig" },
		{ "binary", "\x01\x02\xff\xfe garbage", "byte 0: control characters are not allowed" },
		{ "tab", "clusters:\n\t- name: x\n", ":2:" },
		{ "unclosed", "current-context: \"ctx\n", ":2:1: found unexpected end of stream" },
		{ "ctx-list", "current-context: [a, b]\n", "current-context is not a string" },
		{ "contexts-map", "current-context: a\ncontexts: {a: 1}\n", "contexts is not a list" },
		{ "entry-scalar", "current-context: a\ncontexts: [x]\n",
		  "an entry of contexts is not a mapping" },
		{ "no-server", "current-context: a\ncontexts:\n- name: a\n  context: {cluster: c}\n"
		  "clusters:\n- name: c\n  cluster: {}\n", "cluster \"c\" has no server" },
		{ "ftp", "current-context: a\ncontexts:\n- name: a\n  context: {cluster: c}\n"
		  "clusters:\n- name: c\n  cluster: {server: ftp://x}\n", "is not an http(s) URL" },
		{ "insecure", "current-context: a\ncontexts:\n- name: a\n  context: {cluster: c}\n"
		  "clusters:\n- name: c\n  cluster: {server: 'https://x', insecure-skip-tls-verify: true}\n",
		  "sre never turns TLS verification off" },
		{ "aliases", "current-context: &a ctx\nx: &b [*a, *a, *a]\ny: [*b, *b, *b, *b]\n"
		  "contexts: *b\n", ":1: an entry of contexts is not a mapping" },
	};
	struct loaded l;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *name = xstrfmt("bad/%s", cases[i].name);
		char *file = write_file(name, cases[i].text);

		load(&l, file, NULL);
		is_int(l.ret, -1, "%s: refused", cases[i].name);
		like(l.err.buf, cases[i].want, "%s: says why", cases[i].name);
		ok(starts_with(l.err.buf, file) && !strchr(l.err.buf, '\n'),
		   "%s: one line, starting with the file", cases[i].name);
		unload(&l);
		free(file);
		free(name);
	}

	/* Files that are not there, or not files. */
	{
		char *dir = tmp_path("bad"), *gone = tmp_path("bad/gone");

		load(&l, gone, NULL);
		is_int(l.ret, -1, "a missing file: refused");
		like(l.err.buf, "cannot read the kubeconfig", "a missing file: says so");
		like(l.err.buf, gone, "a missing file: names it");
		unload(&l);
		load(&l, dir, NULL);
		is_int(l.ret, -1, "a directory: refused");
		like(l.err.buf, "Is a directory", "a directory: says so");
		unload(&l);
		free(dir);
		free(gone);
	}

	/* Credentials gone wrong: the error names the entry, never what it holds. */
	{
		struct {
			const char *name, *cluster, *user, *want, *secret;
		} creds[] = {
			{ "key-not-pem", SERVER, bad_key, "client-key-data of user \"u\" is not PEM", key64 },
			{ "key-not-b64", SERVER, bad_b64, "client-key-data of user \"u\" is not base64 of PEM text",
			  PASSWORD },
			{ "no-key", SERVER, "    client-certificate: /nonexistent/c.crt\n",
			  "cannot read client-certificate /nonexistent/c.crt", NULL },
			{ "cert-no-key", SERVER, "    client-certificate-data: %CERT%\n",
			  "has a client certificate but no client key", NULL },
			{ "token-file", SERVER, "    tokenFile: missing-token\n",
			  "cannot read the tokenFile", NULL },
			{ "plain-http", "    server: http://k8s.example\n", "    token: " TOKEN "\n",
			  "sends no credentials unencrypted", TOKEN },
			{ "exec", SERVER, "    token: " TOKEN "\n    exec:\n      command: aws\n",
			  "exec plugin (aws)", TOKEN },
			{ "auth-provider", SERVER, "    password: " PASSWORD "\n    auth-provider:\n"
			  "      name: gcp\n", "auth-provider plugin", PASSWORD },
			{ "ca-not-pem", "    server: https://x\n    certificate-authority-data: aGVsbG8=\n",
			  "    token: " TOKEN "\n", "certificate-authority-data of cluster \"c\" is not PEM",
			  TOKEN },
		};
		char *cert64 = b64(CERT_PEM);

		for (size_t i = 0; i < ARRAY_SIZE(creds); i++) {
			char *name = xstrfmt("creds/%s", creds[i].name);
			struct strbuf user = STRBUF_INIT;
			char *file;

			strbuf_addstr(&user, creds[i].user);
			if (strstr(user.buf, "%CERT%")) {
				strbuf_reset(&user);
				strbuf_addf(&user, "    client-certificate-data: %s\n", cert64);
			}
			file = one(name, creds[i].cluster, user.buf);
			load(&l, file, NULL);
			is_int(l.ret, -1, "%s: refused", creds[i].name);
			like(l.err.buf, creds[i].want, "%s: says why", creds[i].name);
			ok(starts_with(l.err.buf, file) && !strchr(l.err.buf, '\n'),
			   "%s: one line, starting with the file", creds[i].name);
			if (creds[i].secret)
				unlike(l.err.buf, creds[i].secret, "%s: no secret in it", creds[i].name);
			unload(&l);
			strbuf_release(&user);
			free(file);
			free(name);
		}
		free(cert64);
	}

	/* Over the size cap: refused before it is parsed. */
	{
		struct strbuf big = STRBUF_INIT;
		char *file;

		strbuf_addstr(&big, "current-context: a\n# ");
		for (int i = 0; i < (5 << 20) / 64; i++)
			strbuf_addstr(&big, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
		strbuf_addch(&big, '\n');
		file = write_file("bad/huge", big.buf);
		load(&l, file, NULL);
		is_int(l.ret, -1, "a 5 MiB file: refused");
		like(l.err.buf, "cannot read the kubeconfig", "a 5 MiB file: as too large to read");
		unload(&l);
		strbuf_release(&big);
		free(file);
	}
	free(bad_key);
	free(bad_b64);
	free(good_cert);
	free(key64);
}

int main(void)
{
	if (test_begin("kubeconfig") < 0)
		return 1;
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	test_contexts();
	test_credentials();
	test_where();
	test_bad_files();
	return test_end();
}
