/*
 * test-kubernetes.c: unit tests of lib/kubeconfig.c and of the
 * Kubernetes source of `sre scout` (lib/scout-kubernetes.c, over the API's
 * client lib/kubernetes.c), printing TAP.
 *
 * The kubeconfig parser is fed files of the shapes kubectl writes (token,
 * certificate data, paths, several contexts) and the ones sre refuses
 * (malformed YAML, an exec plugin, insecure-skip-tls-verify). Then
 * kubernetes_collect() runs against tests/fakes/kubernetes.py, a fake API
 * server speaking HTTPS with a throwaway CA made with openssl (kube-test.h),
 * so TLS is really verified against the kubeconfig's CA. Besides the
 * findings, the tests read the fake's request log: the paths, the field
 * selector, the bearer token or client certificate sre presented.
 */
#include "../../lib/config.h"
#include "../../lib/kubeconfig.h"
#include "../../lib/timeutil.h"
#include "kube-test.h"

#define TOKEN "k8s-token-7f3e9a1c5b"
#define WRONG_TOKEN "k8s-wrong-4d2b8e6f0a"

/* Beside kube-test.h's CA and server: another CA, and a client certificate the first signs. */
static char *ca2_crt, *client_crt, *client_key;
static char *ca2_b64, *client_crt_b64, *client_key_b64;

/* ---- files and certificates ---- */

static char *slurp(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	if (strbuf_read_file(&sb, path, 0) < 0)
		printf("# cannot read %s\n", path);
	return strbuf_detach(&sb, NULL);
}

static int make_pki(void)
{
	if (make_server_pki() < 0 ||
	    make_cert("ca2", "another-ca", NULL, "") < 0 ||
	    make_cert("client", "sre-test-user", "ca",
		      "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
		      "extendedKeyUsage=clientAuth\n") < 0)
		return -1;
	ca2_crt = tmp_path("ca2.crt");
	client_crt = tmp_path("client.crt");
	client_key = tmp_path("client.key");
	ca2_b64 = base64_of(ca2_crt);
	client_crt_b64 = base64_of(client_crt);
	client_key_b64 = base64_of(client_key);
	return *ca2_b64 && *client_crt_b64 && *client_key_b64 ? 0 : -1;
}

static void free_pki(void)
{
	free_server_pki();
	free(ca2_crt);
	free(client_crt);
	free(client_key);
	free(ca2_b64);
	free(client_crt_b64);
	free(client_key_b64);
}

/* A configuration from text; the caller clears it. */
static void config_from(struct config *cfg, const char *text)
{
	if (config_read_buffer(cfg, text, strlen(text), "test-kubernetes", CONFIG_SCOPE_LOCAL) < 0)
		printf("# bad test configuration:\n%s\n", text);
}

static int has_secret(const struct http_client *http, const char *s)
{
	for (size_t i = 0; i < http->secrets.nr; i++)
		if (!strcmp(http->secrets.v[i], s))
			return 1;
	return 0;
}

/* ---- the kubeconfig ---- */

struct loaded {
	struct kubeconfig kc;
	struct strbuf err;
	struct http_client http;
	int ret;
};

/* Load a kubeconfig named by kubernetes.kubeconfig, with extra config lines. */
static void load(struct loaded *l, const char *file, const char *extra)
{
	struct config cfg = CONFIG_INIT;
	char *text = file ? xstrfmt("[kubernetes]\n\tkubeconfig = %s\n%s", file, extra ? extra : "")
			  : xstrdup(extra ? extra : "");

	config_from(&cfg, text);
	strbuf_init(&l->err, 0);
	http_client_init(&l->http, NULL);
	l->ret = kubeconfig_load(&l->kc, &cfg, &l->http, &l->err);
	config_clear(&cfg);
	free(text);
}

static void unload(struct loaded *l)
{
	kubeconfig_release(&l->kc);
	strbuf_release(&l->err);
	http_client_release(&l->http);
}

static void test_kubeconfig(void)
{
	struct loaded l;
	char *ca, *cert, *key, *file, *text, *path;

	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	ca = slurp(ca_crt);
	cert = slurp(client_crt);
	key = slurp(client_key);

	/* A token and the CA as data: what `kind` and most clusters write. */
	text = xstrfmt("apiVersion: v1\nkind: Config\npreferences: {}\n"
		       "clusters:\n- cluster:\n    certificate-authority-data: %s\n"
		       "    server: https://10.1.2.3:6443/\n  name: prod\n"
		       "- cluster:\n    server: https://staging.example:6443\n  name: staging\n"
		       "contexts:\n- context:\n    cluster: prod\n    user: scout\n"
		       "    namespace: shop\n  name: prod-scout\n"
		       "- context:\n    cluster: staging\n    user: \"\"\n  name: staging\n"
		       "current-context: prod-scout\n"
		       "users:\n- name: scout\n  user:\n    token: %s\n",
		       ca_b64, TOKEN);
	file = write_file("token.yaml", text);
	load(&l, file, NULL);
	is_int(l.ret, 0, "a kubeconfig with a token loads");
	is_str(l.kc.server, "https://10.1.2.3:6443", "the server, without its trailing slash");
	is_str(l.kc.context, "prod-scout", "the current-context is used");
	is_str(l.kc.path, file, "the file read is named");
	is_str(l.kc.token, TOKEN, "the token");
	is_str(l.kc.ca_pem, ca, "certificate-authority-data is decoded to the CA's PEM");
	ok(!l.kc.client_cert_pem && !l.kc.client_key_pem && !l.kc.userpwd,
	   "no client certificate nor basic auth");
	ok(has_secret(&l.http, TOKEN), "the token is registered as a secret");
	unload(&l);

	/* kubernetes.context chooses another context; one with no user has no credentials. */
	load(&l, file, "\tcontext = staging\n");
	is_int(l.ret, 0, "kubernetes.context picks a context");
	is_str(l.kc.server, "https://staging.example:6443", "that context's cluster");
	ok(!l.kc.token && !l.kc.ca_pem, "no user, no CA: no token, the system's CAs");
	unload(&l);

	load(&l, file, "\tcontext = nope\n");
	is_int(l.ret, -1, "a context that is not there is refused");
	like(l.err.buf, "no context \"nope\"", "the error names the missing context");
	like(l.err.buf, file, "and the file");
	unload(&l);
	free(file);
	free(text);

	/* No current-context at all. */
	file = write_file("nocurrent.yaml", "apiVersion: v1\nkind: Config\nclusters: []\n");
	load(&l, file, NULL);
	is_int(l.ret, -1, "no current-context and no kubernetes.context: an error");
	like(l.err.buf, "no current-context; name one with kubernetes.context",
	     "the error says how to choose one");
	unload(&l);
	free(file);

	/* Paths relative to the kubeconfig's directory, and a tokenFile. */
	mkdir(path = tmp_path("kube"), 0700);
	free(path);
	text = xstrfmt("%s\n", TOKEN);
	free(write_file("kube/token", text));
	free(text);
	text = xstrfmt("apiVersion: v1\nclusters:\n- name: c\n  cluster:\n"
		       "    server: https://127.0.0.1:6443\n    certificate-authority: ../ca.crt\n"
		       "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		       "current-context: x\nusers:\n- name: u\n  user:\n    tokenFile: token\n");
	file = write_file("kube/paths.yaml", text);
	load(&l, file, NULL);
	is_int(l.ret, 0, "certificate-authority and tokenFile as paths");
	is_str(l.kc.ca_pem, ca, "the CA path is read relative to the kubeconfig");
	is_str(l.kc.token, TOKEN, "the tokenFile is read, its newline trimmed");
	ok(has_secret(&l.http, TOKEN), "a token from a file is a secret too");
	unload(&l);
	free(file);
	free(text);

	/* A client certificate and key as data. */
	text = xstrfmt("apiVersion: v1\nclusters:\n- name: c\n  cluster:\n"
		       "    server: https://127.0.0.1:6443\n    certificate-authority-data: %s\n"
		       "contexts:\n- name: x\n  context:\n    cluster: c\n    user: admin\n"
		       "current-context: x\nusers:\n- name: admin\n  user:\n"
		       "    client-certificate-data: %s\n    client-key-data: %s\n",
		       ca_b64, client_crt_b64, client_key_b64);
	file = write_file("certdata.yaml", text);
	load(&l, file, NULL);
	is_int(l.ret, 0, "client-certificate-data and client-key-data");
	is_str(l.kc.client_cert_pem, cert, "the client certificate is decoded");
	is_str(l.kc.client_key_pem, key, "the client key is decoded");
	ok(!l.kc.token, "no token");
	ok(has_secret(&l.http, key) && has_secret(&l.http, client_key_b64),
	   "the key, decoded and as written, is a secret");
	ok(!has_secret(&l.http, cert), "the certificate is not");
	unload(&l);
	free(file);
	free(text);

	/* As paths, with basic auth beside them. */
	text = xstrfmt("apiVersion: v1\nclusters:\n- name: c\n  cluster:\n"
		       "    server: https://127.0.0.1:6443\n"
		       "contexts:\n- name: x\n  context:\n    cluster: c\n    user: admin\n"
		       "current-context: x\nusers:\n- name: admin\n  user:\n"
		       "    client-certificate: %s\n    client-key: %s\n"
		       "    username: admin\n    password: hunter2-pass\n",
		       client_crt, client_key);
	file = write_file("certpath.yaml", text);
	load(&l, file, NULL);
	is_int(l.ret, 0, "client-certificate and client-key as paths");
	is_str(l.kc.client_cert_pem, cert, "the client certificate file is read");
	is_str(l.kc.client_key_pem, key, "the client key file is read");
	is_str(l.kc.userpwd, "admin:hunter2-pass", "username and password for basic auth");
	ok(has_secret(&l.http, "hunter2-pass"), "the password is a secret");
	unload(&l);
	free(file);
	free(text);

	/* A certificate without its key. */
	text = xstrfmt("apiVersion: v1\nclusters:\n- name: c\n  cluster:\n"
		       "    server: https://127.0.0.1:6443\n"
		       "contexts:\n- name: x\n  context:\n    cluster: c\n    user: admin\n"
		       "current-context: x\nusers:\n- name: admin\n  user:\n"
		       "    client-certificate-data: %s\n", client_crt_b64);
	file = write_file("nokey.yaml", text);
	load(&l, file, NULL);
	is_int(l.ret, -1, "a client certificate without a key is refused");
	like(l.err.buf, "user \"admin\" has a client certificate but no client key",
	     "the error says what is missing");
	unload(&l);
	free(file);
	free(text);

	/* Malformed YAML: the file and the line. */
	file = write_file("bad.yaml", "apiVersion: v1\nclusters:\n- name: c\n  cluster:\n"
			  "    server: https://127.0.0.1:6443\n   bad: [1, 2\n"
			  "current-context: x\n");
	load(&l, file, NULL);
	is_int(l.ret, -1, "malformed YAML is refused");
	text = xstrfmt("%s:6:", file);
	ok(starts_with(l.err.buf, text), "the error starts with the file and line 6");
	if (!starts_with(l.err.buf, text))
		diag_text("message", l.err.buf);
	ok(!strchr(l.err.buf, '\n'), "on one line");
	unload(&l);
	free(file);
	free(text);

	file = write_file("tab.yaml", "users:\n\t- name: x\n");
	load(&l, file, NULL);
	is_int(l.ret, -1, "a tab for indentation is refused");
	text = xstrfmt("%s:2:", file);
	like(l.err.buf, text, "at line 2");
	unload(&l);
	free(file);
	free(text);

	/* The wrong shapes. */
	file = write_file("list.yaml", "- a\n- b\n");
	load(&l, file, NULL);
	is_int(l.ret, -1, "a file that is a list is not a kubeconfig");
	like(l.err.buf, "not a kubeconfig", "and says so");
	unload(&l);
	free(file);
	file = write_file("shape.yaml", "current-context: x\ncontexts: {x: y}\n");
	load(&l, file, NULL);
	is_int(l.ret, -1, "contexts that are not a list are refused");
	like(l.err.buf, ":2: contexts is not a list", "with their line");
	unload(&l);
	free(file);

	/* An exec plugin: sre runs none. */
	text = xstrfmt("apiVersion: v1\nclusters:\n- name: eks\n  cluster:\n"
		       "    server: https://abc.eks.amazonaws.com\n"
		       "    certificate-authority-data: %s\n"
		       "contexts:\n- name: x\n  context:\n    cluster: eks\n    user: aws\n"
		       "current-context: x\nusers:\n- name: aws\n  user:\n    exec:\n"
		       "      apiVersion: client.authentication.k8s.io/v1beta1\n"
		       "      command: aws\n      args: [eks, get-token, --cluster-name, prod]\n",
		       ca_b64);
	file = write_file("exec.yaml", text);
	load(&l, file, NULL);
	is_int(l.ret, -1, "an exec credential plugin is refused");
	free(text);
	text = xstrfmt("%s:16: user \"aws\" gets its credentials from an exec plugin (aws)", file);
	ok(starts_with(l.err.buf, text), "the error names the file, the line, the user and the plugin");
	if (!starts_with(l.err.buf, text))
		diag_text("message", l.err.buf);
	unload(&l);
	free(file);
	free(text);

	file = write_file("authprovider.yaml",
			  "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n"
			  "contexts:\n- name: x\n  context: {cluster: c, user: g}\n"
			  "current-context: x\nusers:\n- name: g\n  user:\n"
			  "    auth-provider:\n      name: gcp\n");
	load(&l, file, NULL);
	is_int(l.ret, -1, "an auth-provider plugin is refused");
	like(l.err.buf, "auth-provider", "and named");
	unload(&l);
	free(file);

	/* insecure-skip-tls-verify: refused when true, harmless when false. */
	file = write_file("insecure.yaml",
			  "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n"
			  "    insecure-skip-tls-verify: true\n"
			  "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n");
	load(&l, file, NULL);
	is_int(l.ret, -1, "insecure-skip-tls-verify is refused");
	text = xstrfmt("%s:5: cluster \"c\" sets insecure-skip-tls-verify; sre never turns TLS "
		       "verification off", file);
	like(l.err.buf, text, "the error names the file, the line and the cluster");
	unload(&l);
	free(file);
	free(text);
	file = write_file("secure.yaml",
			  "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n"
			  "    insecure-skip-tls-verify: false\n"
			  "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n");
	load(&l, file, NULL);
	is_int(l.ret, 0, "insecure-skip-tls-verify: false is no matter");
	unload(&l);
	free(file);

	/* Plain HTTP: for kubectl proxy, without credentials only. */
	file = write_file("proxy.yaml",
			  "clusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:8001'}\n"
			  "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n");
	load(&l, file, NULL);
	is_int(l.ret, 0, "plain HTTP without credentials (kubectl proxy) is allowed");
	unload(&l);
	free(file);
	file = write_file("plain.yaml",
			  "clusters:\n- name: c\n  cluster: {server: 'http://10.0.0.1:8080'}\n"
			  "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
			  "current-context: x\nusers:\n- name: u\n  user: {token: " TOKEN "}\n");
	load(&l, file, NULL);
	is_int(l.ret, -1, "a token over plain HTTP is refused");
	like(l.err.buf, "sends no credentials unencrypted", "saying why");
	unlike(l.err.buf, TOKEN, "without the token");
	unload(&l);
	free(file);

	/* Data that is not base64 of PEM; a cluster or user that is not there. */
	file = write_file("badca.yaml",
			  "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n"
			  "    certificate-authority-data: '%%%%not base64'\n"
			  "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n");
	load(&l, file, NULL);
	is_int(l.ret, -1, "certificate-authority-data that is not base64 is refused");
	like(l.err.buf, ":5: certificate-authority-data of cluster \"c\" is not base64",
	     "with its line");
	unload(&l);
	free(file);
	file = write_file("nocluster.yaml",
			  "contexts:\n- name: x\n  context: {cluster: gone, user: u}\n"
			  "current-context: x\n");
	load(&l, file, NULL);
	is_int(l.ret, -1, "a context naming a missing cluster is refused");
	like(l.err.buf, "no cluster \"gone\" (named by context \"x\")", "and says which");
	unload(&l);
	free(file);
	file = write_file("nouser.yaml",
			  "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n"
			  "contexts:\n- name: x\n  context: {cluster: c, user: gone}\n"
			  "current-context: x\n");
	load(&l, file, NULL);
	is_int(l.ret, -1, "a context naming a missing user is refused");
	like(l.err.buf, "no user \"gone\"", "and says which");
	unload(&l);
	free(file);
	file = write_file("tokenfile.yaml",
			  "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n"
			  "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
			  "current-context: x\nusers:\n- name: u\n  user: {tokenFile: /nonexistent/t}\n");
	load(&l, file, NULL);
	is_int(l.ret, -1, "a tokenFile that cannot be read is refused");
	like(l.err.buf, "cannot read the tokenFile /nonexistent/t", "and named");
	unload(&l);
	free(file);

	/* Where the file comes from: $KUBECONFIG's first path, then ~/.kube/config. */
	text = xstrfmt("clusters:\n- name: c\n  cluster: {server: 'https://env.example:6443'}\n"
		       "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n");
	file = write_file("env.yaml", text);
	free(text);
	text = xstrfmt(":%s:/nonexistent/second", file);
	setenv("KUBECONFIG", text, 1);
	load(&l, NULL, NULL);
	is_int(l.ret, 0, "$KUBECONFIG is read");
	is_str(l.kc.path, file, "its first path");
	unload(&l);
	unsetenv("KUBECONFIG");
	free(text);
	free(file);

	load(&l, NULL, NULL);
	is_int(l.ret, -1, "no kubeconfig anywhere and not in a pod: an error");
	like(l.err.buf, "no kubeconfig", "saying so");
	unload(&l);

	path = xstrfmt("%s/home/.kube", tmpdir);
	mkdir(path, 0700);
	free(path);
	free(write_file("home/.kube/config",
			"clusters:\n- name: c\n  cluster: {server: 'https://home.example:6443'}\n"
			"contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n"));
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	load(&l, NULL, NULL);
	is_str(l.kc.server, "https://home.example:6443",
	       "~/.kube/config, before the service account");
	unload(&l);
	path = xstrfmt("%s/home/.kube/config", tmpdir);
	unlink(path);
	free(path);

	/* In a pod: the service account. */
	mkdir(path = tmp_path("sa"), 0700);
	free(path);
	text = xstrfmt("%s\n", TOKEN);
	free(write_file("sa/token", text));
	free(text);
	free(write_file("sa/ca.crt", ca));
	path = xstrfmt("[kubernetes]\n\tservice-account-dir = %s/sa\n", tmpdir);
	load(&l, NULL, path);
	is_int(l.ret, 0, "in a pod, the service account is used");
	is_str(l.kc.server, "https://10.96.0.1:443", "the server from KUBERNETES_SERVICE_HOST/PORT");
	is_str(l.kc.token, TOKEN, "the service account token");
	is_str(l.kc.ca_pem, ca, "the service account CA");
	ok(has_secret(&l.http, TOKEN), "its token is a secret");
	unload(&l);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	load(&l, NULL, path);
	is_str(l.kc.server, "https://[fd00::1]:443", "an IPv6 service host is bracketed");
	unload(&l);
	free(path);
	load(&l, NULL, "[kubernetes]\n\tservice-account-dir = /nonexistent\n");
	is_int(l.ret, -1, "a service account that cannot be read is an error");
	like(l.err.buf, "/nonexistent/token", "naming the token file");
	unload(&l);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");

	free(ca);
	free(cert);
	free(key);
}

/* ---- the source, against the fake API server ---- */

static struct fake k8s;
static char *server; /* https://127.0.0.1:<port> */

struct run {
	struct findings fs;
	struct strbuf err;
	int ret;
	int mark;
};

/* Run the source with this kubeconfig and extra configuration. */
static void collect(struct run *r, const char *kubeconfig, const char *extra)
{
	struct config cfg = CONFIG_INIT;
	char *text = xstrfmt("[http]\n\tretries = 0\n\tconnect-timeout = 2s\n\ttimeout = 10s\n"
			     "[kubernetes]\n\tkubeconfig = %s\n%s",
			     kubeconfig, extra ? extra : "");
	struct findings init = FINDINGS_INIT;

	r->fs = init;
	strbuf_init(&r->err, 0);
	config_from(&cfg, text);
	r->mark = k8s.log ? fake_log_mark(&k8s) : 0;
	r->ret = collect_source(kubernetes_collect, &cfg, NULL, &r->fs, &r->err);
	config_clear(&cfg);
	free(text);
}

static void run_clear(struct run *r)
{
	findings_clear(&r->fs);
	strbuf_release(&r->err);
}

static struct finding *lookup(struct run *r, const char *signal, const char *check)
{
	for (size_t i = 0; i < r->fs.nr; i++)
		if (!strcmp(r->fs.v[i].signal, signal) && !strcmp(r->fs.v[i].check, check))
			return &r->fs.v[i];
	return NULL;
}

/* The finding expected, or NULL after showing what there was instead. */
static struct finding *find(struct run *r, const char *signal, const char *check)
{
	struct finding *f = lookup(r, signal, check);

	if (f)
		return f;
	printf("# no finding %s on %s among %zu:\n", signal, check, r->fs.nr);
	for (size_t i = 0; i < r->fs.nr; i++)
		printf("#   %s %s: %s\n", r->fs.v[i].signal, r->fs.v[i].check,
		       r->fs.v[i].summary ? r->fs.v[i].summary : "(no summary)");
	return NULL;
}

static int count_signal(struct run *r, const char *signal)
{
	int n = 0;

	for (size_t i = 0; i < r->fs.nr; i++)
		n += !strcmp(r->fs.v[i].signal, signal);
	return n;
}

static void set_data(const char *json)
{
	set_fake_data(&k8s, json);
}

/*
 * The cluster of most tests: one pod for each signal in "shop", healthy
 * pods beside them, and "web", a second namespace.
 */
static char *scenario(void)
{
	time_t now = time(NULL);
	char m2[32], m10[32], m1[32], d5[32], e1[32], e2[32];

	format_iso8601(m2, sizeof(m2), now - 120);
	format_iso8601(m10, sizeof(m10), now - 600);
	format_iso8601(m1, sizeof(m1), now - 60);
	format_iso8601(d5, sizeof(d5), now - 5 * 86400);
	format_iso8601(e1, sizeof(e1), now - 300);
	format_iso8601(e2, sizeof(e2), now - 30);
	return xstrfmt(
		"{\"shop\": {\"pods\": ["
		/* OOMKilled as the last state; the label app.kubernetes.io/name wins over app. */
		"{\"name\": \"checkout-7d9f8b6c5d-x2x4p\", \"owner\": \"ReplicaSet/checkout-7d9f8b6c5d\","
		" \"labels\": {\"app.kubernetes.io/name\": \"checkout\", \"app\": \"storefront\"},"
		" \"containers\": [{\"name\": \"app\", \"image\": \"shop/checkout:1.4.2\","
		"   \"limits\": {\"memory\": \"256Mi\"}, \"restartCount\": 2,"
		"   \"lastState\": {\"terminated\": {\"reason\": \"OOMKilled\", \"exitCode\": 137,"
		"     \"finishedAt\": \"%s\"}}}]},"
		/* CrashLoopBackOff with 7 restarts: crashloop and restarts; service from app. */
		"{\"name\": \"cart-5b7c9d8f6-qw2er\", \"labels\": {\"app\": \"cart\"},"
		" \"owner\": \"ReplicaSet/cart-5b7c9d8f6\", \"conditions\": {\"Ready\": {\"since\": \"%s\"}},"
		" \"containers\": [{\"name\": \"main\", \"ready\": false, \"restartCount\": 7,"
		"   \"state\": {\"waiting\": {\"reason\": \"CrashLoopBackOff\","
		"     \"message\": \"back-off 5m0s restarting failed container=main pod=cart-5b7c9d8f6-qw2er_shop\"}},"
		"   \"lastState\": {\"terminated\": {\"reason\": \"Error\", \"exitCode\": 1}}},"
		"  {\"name\": \"sidecar\", \"ready\": false, \"restartCount\": 9,"
		"   \"state\": {\"waiting\": {\"reason\": \"CrashLoopBackOff\"}},"
		"   \"lastState\": {\"terminated\": {\"reason\": \"Error\", \"exitCode\": 2}}}]},"
		/* ImagePullBackOff: service from the Deployment (the ReplicaSet minus its hash). */
		"{\"name\": \"payments-6c9f7d8b5-zx9kq\", \"owner\": \"ReplicaSet/payments-6c9f7d8b5\","
		" \"phase\": \"Pending\", \"containers\": [{\"name\": \"api\", \"image\": \"shop/payments:9.9\","
		"   \"state\": {\"waiting\": {\"reason\": \"ImagePullBackOff\","
		"     \"message\": \"Back-off pulling image \\\"shop/payments:9.9\\\"\"}}}]},"
		"{\"name\": \"search-api-5f6d7c8b9d-lmn3p\", \"owner\": \"ReplicaSet/search-api-5f6d7c8b9d\","
		" \"phase\": \"Pending\", \"containers\": [{\"name\": \"search\", \"image\": \"shop/search:2.0\","
		"   \"state\": {\"waiting\": {\"reason\": \"ErrImagePull\","
		"     \"message\": \"rpc error: code = NotFound desc = failed to pull and unpack image\"}}}]},"
		/* CreateContainerConfigError; no labels, no owner: the pod's own name. */
		"{\"name\": \"migrate\", \"phase\": \"Pending\", \"containers\": [{\"name\": \"migrate\","
		"   \"state\": {\"waiting\": {\"reason\": \"CreateContainerConfigError\","
		"     \"message\": \"secret \\\"db\\\" not found\"}}}]},"
		/* Evicted; a StatefulSet's pod belongs to the StatefulSet. */
		"{\"name\": \"ledger-0\", \"owner\": \"StatefulSet/ledger\", \"phase\": \"Failed\","
		" \"reason\": \"Evicted\", \"message\": \"The node was low on resource: memory.\\n"
		"Threshold quantity: 750Mi, available: 179968Ki. \","
		" \"containers\": [{\"name\": \"ledger\", \"ready\": false,"
		"   \"state\": {\"terminated\": {\"reason\": \"ContainerStatusUnknown\", \"exitCode\": 137}}}]},"
		/* Pending, unschedulable. */
		"{\"name\": \"batch-7f8c6d5b4-r2d2x\", \"owner\": \"ReplicaSet/batch-7f8c6d5b4\","
		" \"phase\": \"Pending\", \"conditions\": {\"PodScheduled\": {\"status\": \"False\","
		"   \"reason\": \"Unschedulable\", \"message\": \"0/3 nodes are available: 3 Insufficient cpu."
		" preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.\"}},"
		" \"containers\": [{\"name\": \"batch\"}]},"
		/* Not ready for 10 minutes, and one for 1 minute only. */
		"{\"name\": \"never-ready\", \"labels\": {\"app\": \"api\"},"
		" \"conditions\": {\"Ready\": {\"since\": \"%s\"}},"
		" \"containers\": [{\"name\": \"main\", \"ready\": false}]},"
		"{\"name\": \"warming-up\", \"labels\": {\"app\": \"api\"},"
		" \"conditions\": {\"Ready\": {\"since\": \"%s\"}},"
		" \"containers\": [{\"name\": \"main\", \"ready\": false}]},"
		/* Healthy ones: plain; 5 restarts (the limit, not above); an OOM five days ago;
		 * a DaemonSet's pod. */
		"{\"name\": \"web-6d4b8f7c9-healthy\", \"owner\": \"ReplicaSet/web-6d4b8f7c9\","
		" \"containers\": [{\"name\": \"web\", \"restartCount\": 0}]},"
		"{\"name\": \"flaky-0\", \"owner\": \"StatefulSet/flaky\","
		" \"containers\": [{\"name\": \"flaky\", \"restartCount\": 5,"
		"   \"lastState\": {\"terminated\": {\"reason\": \"Error\", \"exitCode\": 1}}}]},"
		"{\"name\": \"old-oom-7c9d8f6b5-aaaaa\", \"owner\": \"ReplicaSet/old-oom-7c9d8f6b5\","
		" \"containers\": [{\"name\": \"app\", \"limits\": {\"memory\": \"128Mi\"}, \"restartCount\": 1,"
		"   \"lastState\": {\"terminated\": {\"reason\": \"OOMKilled\", \"exitCode\": 137,"
		"     \"finishedAt\": \"%s\"}}}]},"
		"{\"name\": \"node-agent-x7k2m\", \"owner\": \"DaemonSet/node-agent\","
		" \"containers\": [{\"name\": \"agent\"}]},"
		/* OOMKilled in its current state, with an init container in CrashLoopBackOff. */
		"{\"name\": \"report-7b8c9d6f5-k8s9z\", \"owner\": \"DaemonSet/report\", \"phase\": \"Pending\","
		" \"initContainers\": [{\"name\": \"init-db\", \"ready\": false, \"restartCount\": 3,"
		"   \"state\": {\"waiting\": {\"reason\": \"CrashLoopBackOff\"}},"
		"   \"lastState\": {\"terminated\": {\"reason\": \"OOMKilled\", \"exitCode\": 137,"
		"     \"finishedAt\": \"%s\"}}}],"
		" \"containers\": [{\"name\": \"report\", \"state\": {\"waiting\": {\"reason\": \"PodInitializing\"}}}]}"
		"], \"events\": ["
		"{\"object\": \"Pod/cart-5b7c9d8f6-qw2er\", \"reason\": \"BackOff\","
		" \"message\": \"Back-off restarting failed container main in pod cart-5b7c9d8f6-qw2er_shop\","
		" \"count\": 12, \"lastTimestamp\": \"%s\"},"
		"{\"object\": \"Pod/batch-7f8c6d5b4-r2d2x\", \"reason\": \"FailedScheduling\","
		" \"message\": \"0/3 nodes are available: 3 Insufficient memory.\", \"count\": 3,"
		" \"component\": \"default-scheduler\", \"lastTimestamp\": \"%s\"},"
		"{\"object\": \"Pod/batch-7f8c6d5b4-r2d2x\", \"reason\": \"FailedScheduling\","
		" \"message\": \"0/3 nodes are available: 3 Insufficient cpu.\", \"count\": 2,"
		" \"component\": \"default-scheduler\", \"lastTimestamp\": \"%s\"},"
		"{\"object\": \"ReplicaSet/payments-6c9f7d8b5\", \"reason\": \"FailedCreate\","
		" \"message\": \"Error creating: pods \\\"payments-6c9f7d8b5-\\\" is forbidden: exceeded quota\","
		" \"component\": \"replicaset-controller\"},"
		"{\"object\": \"Pod/web-6d4b8f7c9-healthy\", \"reason\": \"Pulled\", \"type\": \"Normal\","
		" \"message\": \"Successfully pulled image\"},"
		"{\"object\": \"Pod/cart-5b7c9d8f6-qw2er\", \"reason\": \"Unhealthy\","
		" \"message\": \"Readiness probe failed: HTTP probe failed with statuscode: 503\", \"count\": 4}"
		"]},"
		"\"web\": {\"pods\": ["
		"{\"name\": \"frontend-5c6d7e8f9-abcde\", \"owner\": \"ReplicaSet/frontend-5c6d7e8f9\","
		" \"conditions\": {\"Ready\": {\"since\": \"%s\"}},"
		" \"containers\": [{\"name\": \"nginx\", \"limits\": {\"memory\": \"64Mi\"}, \"restartCount\": 1,"
		"   \"state\": {\"terminated\": {\"reason\": \"OOMKilled\", \"exitCode\": 137}}}]},"
		"{\"name\": \"frontend-5c6d7e8f9-fghij\", \"owner\": \"ReplicaSet/frontend-5c6d7e8f9\","
		" \"containers\": [{\"name\": \"nginx\"}]}"
		"], \"events\": []}}",
		m2, m1, m10, m1, d5, m2, e2, e1, e2, m1);
}

static void test_signals(const char *kubeconfig)
{
	struct run r;
	struct finding *f;
	cJSON *req;
	char *data = scenario();

	set_data(data);
	free(data);
	collect(&r, kubeconfig, "\tnamespace = shop, web\n");
	is_int(r.ret, 0, "kubernetes_collect reads two namespaces");
	is_str(r.err.buf, "", "with nothing to complain of");

	/* The requests: both lists of both namespaces, with the token. */
	is_int(fake_count(&k8s, r.mark, "GET", "^/api/v1/namespaces/shop/pods$"), 1,
	       "one GET of shop's pods");
	is_int(fake_count(&k8s, r.mark, "GET", "^/api/v1/namespaces/web/pods$"), 1,
	       "one GET of web's pods");
	is_int(fake_count(&k8s, r.mark, "GET", "^/api/v1/namespaces/(shop|web)/events$"), 2,
	       "one GET of each namespace's events");
	is_int(fake_count(&k8s, r.mark, NULL, NULL), 4, "and nothing else");
	req = fake_first(&k8s, r.mark, "GET", "/events$");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "query")),
	       "fieldSelector=type%3DWarning", "events are asked for Warnings only");
	is_str(fake_header(req, "authorization"), "Bearer " TOKEN, "with the kubeconfig's token");
	is_str(fake_header(req, "accept"), "application/json", "asking for JSON");
	ok(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "tls")), "over TLS");
	cJSON_Delete(req);

	/* oomkilled, from the last state. */
	f = find(&r, "oomkilled", "pod/shop/checkout-7d9f8b6c5d-x2x4p");
	ok(f, "an OOMKilled last state is a finding");
	if (f) {
		is_str(f->summary, "pod checkout-7d9f8b6c5d-x2x4p in shop was OOMKilled "
		       "(container app, limit 256Mi)", "its summary");
		is_str(f->service, "checkout", "the service: app.kubernetes.io/name before app");
		is_str(f->source, "kubernetes", "the source");
		is_int(f->severity, SEVERITY_HIGH, "high");
		is_int(f->failing, 1, "failing");
		is_str(f->fingerprint,
		       "kubernetes/checkout/oomkilled/pod/shop/checkout-7d9f8b6c5d-x2x4p",
		       "the fingerprint: source, service, signal and the pod");
		is_str(evidence_string(f, "namespace"), "shop", "evidence: namespace");
		is_str(evidence_string(f, "pod"), "checkout-7d9f8b6c5d-x2x4p", "evidence: pod");
		is_str(evidence_string(f, "container"), "app", "evidence: container");
		is_str(evidence_string(f, "reason"), "OOMKilled", "evidence: reason");
		is_int(evidence_number(f, "exitCode"), 137, "evidence: exit code");
		is_int(evidence_number(f, "restartCount"), 2, "evidence: restart count");
		is_str(evidence_string(f, "limit"), "256Mi", "evidence: the memory limit");
	}
	ok(!lookup(&r, "restarts", "pod/shop/checkout-7d9f8b6c5d-x2x4p"),
	   "2 restarts are not too many");

	/* oomkilled, from the current state; the init container's crash loop. */
	f = find(&r, "oomkilled", "pod/web/frontend-5c6d7e8f9-abcde");
	ok(f, "an OOMKilled current state is a finding, in the second namespace");
	if (f) {
		is_str(f->summary, "pod frontend-5c6d7e8f9-abcde in web was OOMKilled "
		       "(container nginx, limit 64Mi)", "its summary");
		is_str(f->service, "frontend", "the service: the Deployment of its ReplicaSet");
	}
	f = find(&r, "crashloop", "pod/shop/report-7b8c9d6f5-k8s9z");
	ok(f, "an init container in CrashLoopBackOff is a finding");
	is_str(evidence_string(f, "container"), "init-db", "naming the init container");
	is_str(f ? f->service : NULL, "report", "the service: its DaemonSet");
	f = find(&r, "oomkilled", "pod/shop/report-7b8c9d6f5-k8s9z");
	ok(f, "the init container's recent OOM too");

	/* crashloop and restarts. */
	f = find(&r, "crashloop", "pod/shop/cart-5b7c9d8f6-qw2er");
	ok(f, "CrashLoopBackOff is a finding");
	if (f) {
		is_str(f->summary, "pod cart-5b7c9d8f6-qw2er in shop is in CrashLoopBackOff "
		       "(container main, 7 restarts, last exit code 1: Error)", "its summary");
		is_str(f->service, "cart", "the service from the app label");
		is_int(f->severity, SEVERITY_HIGH, "high");
		is_int(evidence_number(f, "exitCode"), 1, "evidence: the last exit code");
		is_str(evidence_string(f, "message"), "back-off 5m0s restarting failed container=main "
		       "pod=cart-5b7c9d8f6-qw2er_shop", "evidence: the kubelet's message");
	}
	f = find(&r, "restarts", "pod/shop/cart-5b7c9d8f6-qw2er");
	ok(f, "7 restarts, above scout.max-restarts 5, is a finding");
	if (f) {
		is_str(f->summary, "pod cart-5b7c9d8f6-qw2er in shop restarted 7 times "
		       "(container main, more than scout.max-restarts 5)", "its summary");
		is_int(f->severity, SEVERITY_MEDIUM, "medium");
		is_int(evidence_number(f, "restartCount"), 7, "evidence: the restart count");
	}
	ok(!lookup(&r, "restarts", "pod/shop/flaky-0"), "5 restarts, at the limit, are not");

	/* image-pull, both reasons; the Deployment's name from a ReplicaSet's. */
	f = find(&r, "image-pull", "pod/shop/payments-6c9f7d8b5-zx9kq");
	ok(f, "ImagePullBackOff is a finding");
	if (f) {
		is_str(f->summary, "pod payments-6c9f7d8b5-zx9kq in shop cannot pull image "
		       "shop/payments:9.9 (container api, ImagePullBackOff)", "its summary");
		is_str(f->service, "payments", "the service: the ReplicaSet minus its hash");
		is_str(evidence_string(f, "image"), "shop/payments:9.9", "evidence: the image");
	}
	f = find(&r, "image-pull", "pod/shop/search-api-5f6d7c8b9d-lmn3p");
	ok(f, "ErrImagePull is a finding");
	is_str(f ? f->service : NULL, "search-api", "a Deployment name with a dash in it");
	is_str(evidence_string(f, "reason"), "ErrImagePull", "evidence: the reason");

	/* config-error. */
	f = find(&r, "config-error", "pod/shop/migrate");
	ok(f, "CreateContainerConfigError is a finding");
	if (f) {
		is_str(f->summary, "pod migrate in shop cannot start container migrate: "
		       "secret \"db\" not found", "its summary");
		is_str(f->service, "migrate", "no label nor owner: the pod's name");
		is_str(f->fingerprint, "kubernetes/migrate/config-error/pod/shop/migrate",
		       "its fingerprint");
	}

	/* evicted: the message folded onto one line. */
	f = find(&r, "evicted", "pod/shop/ledger-0");
	ok(f, "an evicted pod is a finding");
	if (f) {
		is_str(f->summary, "pod ledger-0 in shop was evicted: The node was low on resource: "
		       "memory. Threshold quantity: 750Mi, available: 179968Ki.", "its summary");
		is_str(f->service, "ledger", "the service: its StatefulSet");
		is_int(f->severity, SEVERITY_MEDIUM, "medium");
	}

	/* unschedulable. */
	f = find(&r, "unschedulable", "pod/shop/batch-7f8c6d5b4-r2d2x");
	ok(f, "an unschedulable pod is a finding");
	if (f)
		is_str(f->summary, "pod batch-7f8c6d5b4-r2d2x in shop cannot be scheduled: 0/3 nodes "
		       "are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No "
		       "preemption victims found for incoming pod.", "its summary");

	/* not-ready, past the grace only. */
	f = find(&r, "not-ready", "pod/shop/never-ready");
	ok(f, "not ready for 10m, past scout.not-ready-grace, is a finding");
	if (f) {
		is_str(f->summary, "pod never-ready in shop has not been ready for 10m "
		       "(containers with unready status: [main])", "its summary");
		is_str(f->service, "api", "its service");
		is_str(evidence_string(f, "reason"), "ContainersNotReady", "evidence: the reason");
	}
	ok(!lookup(&r, "not-ready", "pod/shop/warming-up"), "not ready for 1m is within the grace");

	/* Healthy pods: nothing at all; one finding per signal and pod. */
	for (size_t i = 0; i < r.fs.nr; i++) {
		const char *c = r.fs.v[i].check;

		if (strstr(c, "web-6d4b8f7c9-healthy") || strstr(c, "flaky-0") ||
		    strstr(c, "old-oom-") || strstr(c, "node-agent") || strstr(c, "fghij") ||
		    strstr(c, "warming-up")) {
			ok(0, "a healthy pod gave %s on %s", r.fs.v[i].signal, c);
		}
	}
	ok(!lookup(&r, "oomkilled", "pod/shop/old-oom-7c9d8f6b5-aaaaa"),
	   "an OOM five days ago, past kubernetes.oom-window, is not a finding");
	is_int(count_signal(&r, "crashloop"), 2, "two containers crash-looping in one pod: one finding");
	for (size_t i = 0; i < r.fs.nr; i++)
		if (!r.fs.v[i].failing || !r.fs.v[i].summary || !r.fs.v[i].evidence)
			ok(0, "%s on %s is failing, with a summary and evidence", r.fs.v[i].signal,
			   r.fs.v[i].check);

	/* Warning events. */
	f = find(&r, "event/BackOff", "pod/shop/cart-5b7c9d8f6-qw2er");
	ok(f, "a Warning event is a finding");
	if (f) {
		is_str(f->summary, "Warning BackOff on pod shop/cart-5b7c9d8f6-qw2er: Back-off "
		       "restarting failed container main in pod cart-5b7c9d8f6-qw2er_shop (12 times)",
		       "its summary");
		is_int(f->severity, SEVERITY_LOW, "low");
		is_str(f->service, "cart", "the service of the pod it is about");
		is_str(f->fingerprint, "kubernetes/cart/event/BackOff/pod/shop/cart-5b7c9d8f6-qw2er",
		       "its fingerprint");
		is_int(evidence_number(f, "count"), 12, "evidence: the count");
		is_str(evidence_string(f, "kind"), "Pod", "evidence: the object's kind");
	}
	ok(find(&r, "event/Unhealthy", "pod/shop/cart-5b7c9d8f6-qw2er"),
	   "another reason on the same object is another finding");
	is_int(count_signal(&r, "event/FailedScheduling"), 1,
	       "two events of one object and reason: one finding");
	f = find(&r, "event/FailedScheduling", "pod/shop/batch-7f8c6d5b4-r2d2x");
	if (f) {
		is_int(evidence_number(f, "count"), 5, "their counts added");
		is_str(evidence_string(f, "message"), "0/3 nodes are available: 3 Insufficient cpu.",
		       "the newer message kept");
		is_str(evidence_string(f, "component"), "default-scheduler", "evidence: who reported it");
	}
	f = find(&r, "event/FailedCreate", "replicaset/shop/payments-6c9f7d8b5");
	ok(f, "an event about a ReplicaSet");
	is_str(f ? f->service : NULL, "payments", "belongs to its Deployment");
	ok(!count_signal(&r, "event/Pulled"), "Normal events are no finding");

	is_int(r.fs.nr, 16, "sixteen findings in all, no more");
	run_clear(&r);

	/* The limits are configurable. */
	collect(&r, kubeconfig, "\tnamespace = shop\n[scout]\n\tmax-restarts = 10\n"
		"\tnot-ready-grace = 15m\n[kubernetes]\n\toom-window = 30d\n");
	is_int(r.ret, 0, "with other limits");
	ok(!count_signal(&r, "restarts"), "scout.max-restarts 10: 7 and 9 restarts are fine");
	ok(!count_signal(&r, "not-ready"), "scout.not-ready-grace 15m: 10m not ready is fine");
	ok(find(&r, "oomkilled", "pod/shop/old-oom-7c9d8f6b5-aaaaa"),
	   "kubernetes.oom-window 30d: an OOM five days ago counts");
	is_int(fake_count(&k8s, r.mark, NULL, NULL), 2, "one namespace: two requests");
	run_clear(&r);

	collect(&r, kubeconfig, "\tnamespace = shop\n[scout]\n\tmax-restarts = many\n");
	is_int(r.ret, -1, "a bad scout.max-restarts is an error");
	is_str(r.err.buf, "kubernetes: scout.max-restarts is \"many\", not a count", "saying so");
	is_int(r.fs.nr, 0, "and nothing is found");
	run_clear(&r);

	/* Repeated keys and repeated names. */
	collect(&r, kubeconfig, "\tnamespace = web\n\tnamespace = web,,shop \n");
	is_int(r.ret, 0, "namespaces from repeated keys");
	is_int(fake_count(&k8s, r.mark, "GET", "/pods$"), 2, "each namespace read once");
	run_clear(&r);
}

static void test_healthy(const char *kubeconfig)
{
	struct run r;

	set_data("{\"shop\": {\"pods\": [{\"name\": \"web-6d4b8f7c9-a1b2c\","
		 " \"owner\": \"ReplicaSet/web-6d4b8f7c9\", \"containers\": [{\"name\": \"web\"}]},"
		 "{\"name\": \"web-6d4b8f7c9-d3e4f\", \"owner\": \"ReplicaSet/web-6d4b8f7c9\","
		 " \"containers\": [{\"name\": \"web\", \"restartCount\": 1}]}],"
		 " \"events\": [{\"object\": \"Pod/web-6d4b8f7c9-a1b2c\", \"reason\": \"Started\","
		 " \"type\": \"Normal\"}]}}");
	collect(&r, kubeconfig, "\tnamespace = shop\n\tnamespace = empty\n");
	is_int(r.ret, 0, "a healthy cluster is read");
	is_int(r.fs.nr, 0, "healthy pods, Normal events and an empty namespace: no finding");
	run_clear(&r);
}

static void test_failures(const char *kubeconfig)
{
	struct run r;
	char *file, *user;

	set_data("{\"shop\": {\"pods\": [{\"name\": \"migrate\", \"phase\": \"Pending\","
		 " \"containers\": [{\"name\": \"m\", \"state\": {\"waiting\":"
		 " {\"reason\": \"CreateContainerConfigError\"}}}]}]}}");

	/* A wrong token. */
	file = kubeconfig_for("wrong-token.yaml", server, ca_b64, "    token: " WRONG_TOKEN "\n");
	collect(&r, file, "\tnamespace = shop\n");
	is_int(r.ret, -1, "a token the server refuses: -1");
	like(r.err.buf, "kubernetes: ", "the line names kubernetes");
	like(r.err.buf, "refused the credentials (HTTP 401: Unauthorized)", "and why");
	ok(!strchr(r.err.buf, '\n'), "on one line");
	unlike(r.err.buf, WRONG_TOKEN, "never the token");
	is_int(r.fs.nr, 0, "nothing is found");
	run_clear(&r);
	free(file);

	/* No credentials at all. */
	file = kubeconfig_for("anonymous.yaml", server, ca_b64, "    {}\n");
	collect(&r, file, "\tnamespace = shop\n");
	is_int(r.ret, -1, "no credentials: -1");
	like(r.err.buf, "401", "the server said 401");
	run_clear(&r);
	free(file);

	/* A client certificate instead of a token. */
	user = xstrfmt("    client-certificate-data: %s\n    client-key-data: %s\n",
		       client_crt_b64, client_key_b64);
	file = kubeconfig_for("client-cert.yaml", server, ca_b64, user);
	collect(&r, file, "\tnamespace = shop\n");
	is_int(r.ret, 0, "a client certificate is accepted");
	ok(find(&r, "config-error", "pod/shop/migrate"), "and the pods are read");
	{
		cJSON *req = fake_last(&k8s, r.mark, "GET", "/pods$");

		is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "client")),
		       "sre-test-user", "the fake saw sre's client certificate");
		ok(!fake_header(req, "authorization"), "and no Authorization header");
		cJSON_Delete(req);
	}
	run_clear(&r);
	free(file);
	free(user);

	/* A CA that did not sign the server's certificate. */
	file = kubeconfig_for("wrong-ca.yaml", server, ca2_b64, "    token: " TOKEN "\n");
	collect(&r, file, "\tnamespace = shop\n");
	is_int(r.ret, -1, "a server the kubeconfig's CA did not sign: -1");
	like(r.err.buf, "kubernetes: ", "the line names kubernetes");
	like(r.err.buf, "certificate", "and the certificate problem");
	is_int(fake_count(&k8s, r.mark, NULL, NULL), 0, "no request got through");
	unlike(r.err.buf, TOKEN, "never the token");
	run_clear(&r);

	/* The kubeconfig's CA alone: http.ca-info does not add to it... */
	user = xstrfmt("[http]\n\tca-info = %s\n[kubernetes]\n\tnamespace = shop\n", ca_crt);
	collect(&r, file, user);
	is_int(r.ret, -1, "with its own CA, the kubeconfig trusts no other, not http.ca-info");
	run_clear(&r);
	free(file);
	/* ...but serves when the kubeconfig names none. */
	{
		char *text = xstrfmt("clusters:\n- name: f\n  cluster: {server: '%s'}\n"
				     "contexts:\n- name: f\n  context: {cluster: f, user: u}\n"
				     "current-context: f\nusers:\n- name: u\n  user: {token: %s}\n",
				     server, TOKEN);
		file = write_file("no-ca.yaml", text);
		free(text);
	}
	collect(&r, file, user);
	is_int(r.ret, 0, "with no CA in the kubeconfig, http.ca-info is used");
	run_clear(&r);
	collect(&r, file, "\tnamespace = shop\n");
	is_int(r.ret, -1, "and without either, the system's CAs do not know the fake");
	run_clear(&r);
	free(file);
	free(user);

	/* 403 on the events: nothing at all is reported, though the pods answered. */
	fake_fail(&k8s, "{\"method\": \"GET\", \"path\": \"/events$\", \"status\": 403,"
		  " \"body\": {\"kind\": \"Status\", \"apiVersion\": \"v1\", \"metadata\": {},"
		  " \"status\": \"Failure\", \"message\": \"events is forbidden: User "
		  "\\\"system:serviceaccount:sre:scout\\\" cannot list resource \\\"events\\\" in API "
		  "group \\\"\\\" in the namespace \\\"shop\\\"\", \"reason\": \"Forbidden\","
		  " \"details\": {\"kind\": \"events\"}, \"code\": 403}}");
	collect(&r, kubeconfig, "\tnamespace = shop\n");
	is_int(r.ret, -1, "403: -1");
	like(r.err.buf, "refused to list (HTTP 403: events is forbidden: User "
	     "\"system:serviceaccount:sre:scout\" cannot list", "with the API server's reason");
	is_int(fake_count(&k8s, r.mark, "GET", "/pods$"), 1, "the pods were read");
	is_int(r.fs.nr, 0, "but make no finding: all or nothing");
	run_clear(&r);

	/* A message echoing the token (a proxy that repeats the request) is redacted. */
	fake_fail(&k8s, "{\"method\": \"GET\", \"path\": \"/pods$\", \"status\": 403,"
		  " \"body\": {\"kind\": \"Status\", \"apiVersion\": \"v1\", \"metadata\": {},"
		  " \"status\": \"Failure\", \"message\": \"token " TOKEN " is not allowed here\","
		  " \"reason\": \"Forbidden\", \"code\": 403}}");
	collect(&r, kubeconfig, "\tnamespace = shop\n");
	is_int(r.ret, -1, "a 403 quoting the token: -1");
	unlike(r.err.buf, TOKEN, "the token is not in the line");
	like(r.err.buf, "token <redacted> is not allowed", "it is redacted");
	run_clear(&r);

	/* A server that ignores the field selector: its Normal events are still no finding. */
	fake_fail(&k8s, "{\"method\": \"GET\", \"path\": \"/events$\", \"status\": 200,"
		  " \"body\": {\"kind\": \"EventList\", \"apiVersion\": \"v1\","
		  " \"metadata\": {\"resourceVersion\": \"1\"}, \"items\": ["
		  "{\"kind\": \"Event\", \"type\": \"Normal\", \"reason\": \"Pulled\","
		  " \"message\": \"Successfully pulled image\", \"count\": 1,"
		  " \"involvedObject\": {\"kind\": \"Pod\", \"namespace\": \"shop\", \"name\": \"migrate\"}},"
		  "{\"kind\": \"Event\", \"type\": \"Warning\", \"reason\": \"Failed\","
		  " \"message\": \"Error: secret \\\"db\\\" not found\", \"count\": 2,"
		  " \"involvedObject\": {\"kind\": \"Pod\", \"namespace\": \"shop\", \"name\": \"migrate\"}}]}}");
	collect(&r, kubeconfig, "\tnamespace = shop\n");
	is_int(r.ret, 0, "events unfiltered by the server are read");
	ok(!lookup(&r, "event/Pulled", "pod/shop/migrate"), "a Normal event is no finding");
	ok(lookup(&r, "event/Failed", "pod/shop/migrate"), "a Warning one is");
	is_str(r.fs.nr ? r.fs.v[r.fs.nr - 1].summary : NULL,
	       "Warning Failed on pod shop/migrate: Error: secret \"db\" not found (2 times)",
	       "its summary");
	run_clear(&r);

	/* An answer that is not a list. */
	fake_fail(&k8s, "{\"method\": \"GET\", \"path\": \"/events$\", \"status\": 200,"
		  " \"body\": \"<html>proxy</html>\"}");
	collect(&r, kubeconfig, "\tnamespace = shop\n");
	is_int(r.ret, -1, "an answer that is not an EventList: -1");
	is_str(r.err.buf, "kubernetes: GET /api/v1/namespaces/shop/events?fieldSelector="
	       "type%3DWarning: the answer is not an EventList", "saying so");
	run_clear(&r);

	/* A bad kubeconfig. */
	collect(&r, "/nonexistent/kubeconfig", "\tnamespace = shop\n");
	is_int(r.ret, -1, "a kubeconfig that is not there: -1");
	is_str(r.err.buf, "kubernetes: cannot read the kubeconfig /nonexistent/kubeconfig: "
	       "No such file or directory", "one line naming it");
	run_clear(&r);

	/* Not configured: nothing to do, and no error. */
	{
		struct config cfg = CONFIG_INIT;
		struct http_client http;
		struct findings fs = FINDINGS_INIT;
		struct strbuf err = STRBUF_INIT;

		config_from(&cfg, "[kubernetes]\n\tcontext = x\n");
		http_client_init(&http, &cfg);
		is_int(kubernetes_configured(&cfg), 0, "no kubernetes.namespace: not configured");
		is_int(kubernetes_collect(&cfg, &http, &fs, &err), 0, "and collecting does nothing");
		config_from(&cfg, "[kubernetes]\n\tnamespace = shop\n");
		is_int(kubernetes_configured(&cfg), 1, "a namespace: configured");
		http_client_release(&http);
		config_clear(&cfg);
		strbuf_release(&err);
		findings_clear(&fs);
	}

	/* The API server down. */
	fake_stop(&k8s);
	collect(&r, kubeconfig, "\tnamespace = shop\n");
	is_int(r.ret, -1, "the API server down: -1");
	like(r.err.buf, "kubernetes: https://127.0.0.1:", "the line names kubernetes and the server");
	ok(strstr(r.err.buf, "onnect") != NULL, "and that it could not connect");
	if (!strstr(r.err.buf, "onnect"))
		diag_text("message", r.err.buf);
	run_clear(&r);
}

int main(void)
{
	char *kubeconfig;

	if (!fake_begin())
		return 0;
	if (!have_program("openssl")) {
		printf("1..0 # SKIP no openssl\n");
		return 0;
	}
	if (test_begin("kubernetes") < 0)
		return 1;
	if (make_pki() < 0) {
		ok(0, "cannot make the test certificates with openssl");
		free_pki();
		return test_end();
	}

	test_kubeconfig();

	if (fake_start(&k8s, "kubernetes", "k8s", "--cert", server_crt, "--key", server_key,
		       "--client-ca", ca_crt, "--token", TOKEN, NULL) < 0) {
		ok(0, "the fake API server starts");
		free_pki();
		return test_end();
	}
	server = xstrfmt("https://%s", k8s.url + strlen("http://"));
	kubeconfig = kubeconfig_for("fake.yaml", server, ca_b64, "    token: " TOKEN "\n");
	test_signals(kubeconfig);
	test_healthy(kubeconfig);
	test_failures(kubeconfig);
	fake_stop(&k8s);
	free(kubeconfig);
	free(server);
	free_pki();
	return test_end();
}
