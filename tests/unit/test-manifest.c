/*
 * test-manifest.c: unit tests of lib/manifest.c, the edits `sre fix`
 * makes to a manifest's text. Prints TAP.
 *
 * Every edit is checked against the whole expected text, byte for byte,
 * so a comment, a blank line or a quote lost anywhere fails the test; the
 * errors are checked as the one line a user would read.
 */
#include "../../lib/fix.h"
#include "test-lib.h"

static void memory_ok(const char *title, const char *text, const char *container, double step,
		      const char *want, const char *want_old, const char *want_new)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char *old = NULL, *new = NULL;
	int ret = manifest_set_memory(&out, text, container, step, &old, &new, &err);

	if (!is_int(ret, 0, "%s: edited", title))
		diag_text("err", err.buf);
	is_str(out.buf, want, "%s: the whole text", title);
	is_str(old, want_old, "%s: the old value", title);
	is_str(new, want_new, "%s: the new value", title);
	free(old);
	free(new);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void memory_fails(const char *title, const char *text, const char *container,
			 double step, const char *want_err)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char *old = NULL, *new = NULL;
	int ret = manifest_set_memory(&out, text, container, step, &old, &new, &err);

	is_int(ret, -1, "%s: refused", title);
	is_str(err.buf, want_err, "%s: the message", title);
	ok(!out.len && !old && !new, "%s: nothing written", title);
	free(old);
	free(new);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void image_ok(const char *title, const char *text, const char *container,
		     const char *image, const char *want, const char *want_old)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char *old = NULL;
	int ret = manifest_set_image(&out, text, container, image, &old, &err);

	if (!is_int(ret, 0, "%s: edited", title))
		diag_text("err", err.buf);
	is_str(out.buf, want, "%s: the whole text", title);
	is_str(old, want_old, "%s: the old image", title);
	free(old);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void image_fails(const char *title, const char *text, const char *container,
			const char *image, const char *want_err)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char *old = NULL;
	int ret = manifest_set_image(&out, text, container, image, &old, &err);

	is_int(ret, -1, "%s: refused", title);
	is_str(err.buf, want_err, "%s: the message", title);
	ok(!out.len && !old, "%s: nothing written", title);
	free(old);
	strbuf_release(&out);
	strbuf_release(&err);
}

/* A Deployment with comments, blank lines, quoting and a request below the limit. */
#define DEPLOYMENT(memory, image) \
	"# checkout: the shop's checkout service\n" \
	"apiVersion: apps/v1\n" \
	"kind: Deployment\n" \
	"metadata:\n" \
	"  name: checkout   # keep in step with the Service\n" \
	"  labels: {app: checkout, tier: \"web\"}\n" \
	"\n" \
	"spec:\n" \
	"  replicas: 3\n" \
	"  template:\n" \
	"    spec:\n" \
	"      initContainers:\n" \
	"        - name: migrate\n" \
	"          image: registry.example.com/checkout-migrate:1.4.2\n" \
	"          resources:\n" \
	"            limits:\n" \
	"              memory: 64Mi\n" \
	"      containers:\n" \
	"        - name: checkout\n" \
	"          image: " image "   # pinned\n" \
	"          resources:\n" \
	"            requests:\n" \
	"              memory: 128Mi\n" \
	"              cpu: '250m'\n" \
	"\n" \
	"            limits:\n" \
	"              # raised after INC-12\n" \
	"              memory: " memory "\n" \
	"              cpu: \"1\"\n"

static void test_deployment(void)
{
	memory_ok("256Mi * 1.5", DEPLOYMENT("256Mi", "registry.example.com/checkout:1.4.2"),
		  "checkout", 1.5,
		  DEPLOYMENT("384Mi", "registry.example.com/checkout:1.4.2"), "256Mi", "384Mi");
	memory_ok("the only container (initContainers are not containers)",
		  DEPLOYMENT("256Mi", "registry.example.com/checkout:1.4.2"), NULL, 1.5,
		  DEPLOYMENT("384Mi", "registry.example.com/checkout:1.4.2"), "256Mi", "384Mi");
	memory_ok("1Gi * 1.5 is written in Mi", DEPLOYMENT("1Gi", "x:1"), NULL, 1.5,
		  DEPLOYMENT("1536Mi", "x:1"), "1Gi", "1536Mi");
	memory_ok("2Gi * 1.5 stays in Gi", DEPLOYMENT("2Gi", "x:1"), NULL, 1.5,
		  DEPLOYMENT("3Gi", "x:1"), "2Gi", "3Gi");
	memory_ok("1.5Gi * 1.5", DEPLOYMENT("1.5Gi", "x:1"), NULL, 1.5,
		  DEPLOYMENT("2304Mi", "x:1"), "1.5Gi", "2304Mi");
	memory_ok("1Ti * 1.5", DEPLOYMENT("1Ti", "x:1"), NULL, 1.5,
		  DEPLOYMENT("1536Gi", "x:1"), "1Ti", "1536Gi");
	memory_ok("Ki that does not come out whole: Mi rounded up", DEPLOYMENT("3Ki", "x:1"), NULL,
		  1.5, DEPLOYMENT("1Mi", "x:1"), "3Ki", "1Mi");
	memory_ok("Ki that does", DEPLOYMENT("1000Ki", "x:1"), NULL, 1.5,
		  DEPLOYMENT("1500Ki", "x:1"), "1000Ki", "1500Ki");
	memory_ok("k", DEPLOYMENT("500k", "x:1"), NULL, 1.5,
		  DEPLOYMENT("750k", "x:1"), "500k", "750k");
	memory_ok("M", DEPLOYMENT("100M", "x:1"), NULL, 1.5,
		  DEPLOYMENT("150M", "x:1"), "100M", "150M");
	memory_ok("G that does not come out whole: in M", DEPLOYMENT("1G", "x:1"), NULL,
		  1.5, DEPLOYMENT("1500M", "x:1"), "1G", "1500M");
	memory_ok("M that does not come out whole anywhere: Mi rounded up",
		  DEPLOYMENT("3M", "x:1"), NULL, 1.1, DEPLOYMENT("4Mi", "x:1"), "3M", "4Mi");
	memory_ok("plain bytes that do not come out whole: Mi rounded up",
		  DEPLOYMENT("1000001", "x:1"), NULL, 1.5, DEPLOYMENT("2Mi", "x:1"), "1000001",
		  "2Mi");
	memory_ok("plain bytes", DEPLOYMENT("268435456", "x:1"), NULL, 1.5,
		  DEPLOYMENT("402653184", "x:1"), "268435456", "402653184");
	memory_ok("a step of 2", DEPLOYMENT("256Mi", "x:1"), NULL, 2,
		  DEPLOYMENT("512Mi", "x:1"), "256Mi", "512Mi");
	memory_ok("a step of 1.1 (no exact double)", DEPLOYMENT("1000Mi", "x:1"), NULL, 1.1,
		  DEPLOYMENT("1100Mi", "x:1"), "1000Mi", "1100Mi");
	memory_ok("double quotes kept", DEPLOYMENT("\"256Mi\"", "x:1"), NULL, 1.5,
		  DEPLOYMENT("\"384Mi\"", "x:1"), "256Mi", "384Mi");
	memory_ok("single quotes kept", DEPLOYMENT("'1Gi'", "x:1"), NULL, 1.5,
		  DEPLOYMENT("'1536Mi'", "x:1"), "1Gi", "1536Mi");
	memory_ok("a comment after the value kept", DEPLOYMENT("256Mi  # was 128Mi", "x:1"), NULL,
		  1.5, DEPLOYMENT("384Mi  # was 128Mi", "x:1"), "256Mi", "384Mi");

	image_ok("image replaced", DEPLOYMENT("256Mi", "registry.example.com/checkout:1.4.2"),
		 "checkout", "registry.example.com/checkout:1.4.1",
		 DEPLOYMENT("256Mi", "registry.example.com/checkout:1.4.1"),
		 "registry.example.com/checkout:1.4.2");
	image_ok("image in double quotes",
		 DEPLOYMENT("256Mi", "\"registry.example.com/checkout:1.4.2\""), NULL,
		 "registry.example.com:5000/checkout@sha256:0123456789abcdef0123456789abcdef",
		 DEPLOYMENT("256Mi", "\"registry.example.com:5000/checkout@sha256:"
			    "0123456789abcdef0123456789abcdef\""),
		 "registry.example.com/checkout:1.4.2");
	image_ok("image in single quotes", DEPLOYMENT("256Mi", "'checkout:2'"), NULL, "checkout:1",
		 DEPLOYMENT("256Mi", "'checkout:1'"), "checkout:2");
}

static const char pod[] =
	"apiVersion: v1\n"
	"kind: Pod\n"
	"metadata: {name: debug}\n"
	"spec:\n"
	"  containers:\n"
	"  - name: shell\n"
	"    image: busybox:1.36\n"
	"    resources: {limits: {memory: 64Mi}, requests: {memory: 32Mi}}\n";

static const char pod_after[] =
	"apiVersion: v1\n"
	"kind: Pod\n"
	"metadata: {name: debug}\n"
	"spec:\n"
	"  containers:\n"
	"  - name: shell\n"
	"    image: busybox:1.36\n"
	"    resources: {limits: {memory: 96Mi}, requests: {memory: 32Mi}}\n";

static const char documents[] =
	"---\n"
	"# the Service first\n"
	"apiVersion: v1\n"
	"kind: Service\n"
	"metadata:\n"
	"  name: checkout\n"
	"spec:\n"
	"  ports: [{port: 80}]\n"
	"---\n"
	"apiVersion: apps/v1\n"
	"kind: Deployment\n"
	"metadata:\n"
	"  name: checkout\n"
	"spec:\n"
	"  template:\n"
	"    spec:\n"
	"      containers:\n"
	"      - name: checkout\n"
	"        image: checkout:7\n"
	"        resources:\n"
	"          limits:\n"
	"            memory: 512Mi\n"
	"      - name: envoy\n"
	"        image: envoyproxy/envoy:v1.29.0\n"
	"        resources:\n"
	"          limits:\n"
	"            memory: \"128Mi\"\n"
	"...\n"
	"---\n"
	"# a CronJob\n"
	"apiVersion: batch/v1\n"
	"kind: CronJob\n"
	"spec:\n"
	"  jobTemplate:\n"
	"    spec:\n"
	"      template:\n"
	"        spec:\n"
	"          containers:\n"
	"          - name: report\n"
	"            image: report:1\n"
	"            resources: {limits: {memory: 1Gi}}\n"
	"---\n";

static const char list[] =
	"apiVersion: v1\n"
	"kind: List\n"
	"items:\n"
	"- apiVersion: apps/v1\n"
	"  kind: Deployment\n"
	"  metadata: {name: api}\n"
	"  spec:\n"
	"    template:\n"
	"      spec:\n"
	"        containers:\n"
	"        - {name: api, image: 'api:3', resources: {limits: {memory: '2Gi'}}}\n"
	"- apiVersion: apps/v1\n"
	"  kind: StatefulSet\n"
	"  metadata: {name: worker}\n"
	"  spec:\n"
	"    template:\n"
	"      spec:\n"
	"        containers:\n"
	"        - name: worker\n"
	"          resources:\n"
	"            limits:\n"
	"              memory: 300Mi\n"
	"          image: worker:3\n";

/* s with the first occurrence of from replaced by to (caller frees). */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);

	if (!at)
		abort();
	return xstrfmt("%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
}

static void test_documents(void)
{
	char *want;

	memory_ok("a Pod, flow style", pod, NULL, 1.5, pod_after, "64Mi", "96Mi");

	want = replace(documents, "memory: \"128Mi\"", "memory: \"192Mi\"");
	memory_ok("the second container of the second document", documents, "envoy", 1.5, want,
		  "128Mi", "192Mi");
	free(want);
	want = replace(documents, "memory: 512Mi", "memory: 768Mi");
	memory_ok("the first container of the second document", documents, "checkout", 1.5,
		  want, "512Mi", "768Mi");
	free(want);
	want = replace(documents, "memory: 1Gi", "memory: 1536Mi");
	memory_ok("a CronJob's container", documents, "report", 1.5, want, "1Gi", "1536Mi");
	free(want);
	want = replace(documents, "image: envoyproxy/envoy:v1.29.0", "image: envoyproxy/envoy:v1.28.1");
	image_ok("an image in several documents", documents, "envoy", "envoyproxy/envoy:v1.28.1",
		 want, "envoyproxy/envoy:v1.29.0");
	free(want);
	memory_fails("several containers and none named", documents, NULL, 1.5,
		     "the manifest has several containers (checkout, envoy, report): name the one "
		     "to edit");
	image_fails("several containers and none named, for an image", documents, NULL, "x:1",
		    "the manifest has several containers (checkout, envoy, report): name the one "
		    "to edit");

	want = replace(list, "memory: 300Mi", "memory: 450Mi");
	memory_ok("a List's second item", list, "worker", 1.5, want, "300Mi", "450Mi");
	free(want);
	want = replace(list, "memory: '2Gi'", "memory: '3Gi'");
	memory_ok("a List's first item, in flow style and quotes", list, "api", 1.5, want, "2Gi",
		  "3Gi");
	free(want);
	want = replace(list, "image: 'api:3'", "image: 'api:2'");
	image_ok("a List item's image in quotes", list, "api", "api:2", want, "api:3");
	free(want);
}

static void test_text(void)
{
	/* libyaml counts characters; the text is edited in bytes. */
	static const char utf8[] =
		"# caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x9a\x80\n"
		"kind: Pod\n"
		"metadata: {name: \"caf\xc3\xa9\"}\n"
		"spec:\n"
		"  containers:\n"
		"  - name: caf\xc3\xa9\n"
		"    image: cafe:1 # \xc3\xa9t\xc3\xa9\n"
		"    resources: {limits: {memory: 100Mi}}\n";
	static const char crlf[] =
		"kind: Pod\r\n"
		"spec:\r\n"
		"  containers:\r\n"
		"  - name: app\r\n"
		"    resources:\r\n"
		"      limits:\r\n"
		"        memory: 256Mi\r\n"
		"\r\n";
	char *text, *want;

	want = replace(utf8, "memory: 100Mi", "memory: 150Mi");
	memory_ok("multibyte characters before the value", utf8, "caf\xc3\xa9", 1.5, want,
		  "100Mi", "150Mi");
	free(want);
	want = replace(utf8, "image: cafe:1", "image: cafe:2");
	image_ok("multibyte characters before the image", utf8, NULL, "cafe:2", want, "cafe:1");
	free(want);

	text = xstrfmt("\xef\xbb\xbf%s", utf8);
	want = replace(text, "memory: 100Mi", "memory: 150Mi");
	memory_ok("a byte order mark", text, NULL, 1.5, want, "100Mi", "150Mi");
	free(want);
	free(text);

	want = replace(crlf, "memory: 256Mi", "memory: 384Mi");
	memory_ok("CRLF line ends kept", crlf, NULL, 1.5, want, "256Mi", "384Mi");
	free(want);
}

#define ONE(resources) \
	"kind: Deployment\n" \
	"spec:\n" \
	"  template:\n" \
	"    spec:\n" \
	"      containers:\n" \
	"      - name: checkout\n" \
	"        image: checkout:1\n" \
	resources

static void test_errors(void)
{
	memory_fails("no limits at all", ONE("        resources:\n          requests:\n"
					     "            memory: 128Mi\n"), "checkout", 1.5,
		     "container checkout has no resources.limits.memory to raise");
	memory_fails("no resources", ONE(""), NULL, 1.5,
		     "container checkout has no resources.limits.memory to raise");
	memory_fails("limits without memory", ONE("        resources:\n          limits:\n"
						  "            cpu: 1\n"), NULL, 1.5,
		     "container checkout has no resources.limits.memory to raise");
	memory_fails("a null memory limit", ONE("        resources:\n          limits:\n"
						"            memory:\n"), NULL, 1.5,
		     "container checkout has no resources.limits.memory to raise");
	memory_fails("no such container", DEPLOYMENT("256Mi", "x:1"), "cart", 1.5,
		     "the manifest has no container named cart (it has: checkout)");
	memory_fails("a quantity that is not one",
		     ONE("        resources: {limits: {memory: lots}}\n"), NULL, 1.5,
		     "container checkout's resources.limits.memory is \"lots\": not a memory "
		     "quantity sre can raise");
	memory_fails("milli-bytes", ONE("        resources: {limits: {memory: 500m}}\n"), NULL,
		     1.5, "container checkout's resources.limits.memory is \"500m\": not a memory "
		     "quantity sre can raise");
	memory_fails("a zero limit", ONE("        resources: {limits: {memory: 0}}\n"), NULL, 1.5,
		     "container checkout's resources.limits.memory is \"0\": not a memory "
		     "quantity sre can raise");
	memory_fails("a step that does not raise", DEPLOYMENT("256Mi", "x:1"), NULL, 1.0,
		     "the memory step is 1: a limit is raised by a step above 1");
	memory_fails("a step below 1", DEPLOYMENT("256Mi", "x:1"), NULL, 0.5,
		     "the memory step is 0.5: a limit is raised by a step above 1");
	memory_fails("not YAML", "kind: Deployment\nspec: [unclosed\n", NULL, 1.5,
		     "the manifest is not YAML sre can read: did not find expected ',' or ']' at "
		     "line 3");
	memory_fails("no containers", "apiVersion: v1\nkind: Service\nspec: {ports: []}\n", NULL,
		     1.5, "the manifest has no containers: sre reads Deployments, StatefulSets, "
		     "DaemonSets, Jobs, Pods and Lists of them");
	memory_fails("an empty file", "", NULL, 1.5,
		     "the manifest has no containers: sre reads Deployments, StatefulSets, "
		     "DaemonSets, Jobs, Pods and Lists of them");
	memory_fails("the same name in two documents",
		     ONE("        resources: {limits: {memory: 1Gi}}\n") "---\n"
		     ONE("        resources: {limits: {memory: 2Gi}}\n"), "checkout", 1.5,
		     "the manifest has 2 containers named checkout: sre cannot tell which to edit");
	memory_fails("a value behind an anchor",
		     ONE("        resources: {limits: {memory: &m 1Gi}, requests: {memory: *m}}\n"),
		     NULL, 1.5,
		     "container checkout's resources.limits.memory is shared with another place "
		     "through a YAML alias: sre will not edit it");
	memory_fails("an anchored value used nowhere else",
		     ONE("        resources: {limits: {memory: &m 1Gi}}\n"), NULL, 1.5,
		     "container checkout's resources.limits.memory (line 8) is not written as one "
		     "plain or quoted word: sre will not rewrite it");
	memory_fails("resources shared with another container",
		     "kind: Pod\nspec:\n  containers:\n"
		     "  - name: a\n    resources: &r {limits: {memory: 1Gi}}\n"
		     "  - name: b\n    resources: *r\n", "a", 1.5,
		     "container a's resources.limits.memory is shared with another place through "
		     "a YAML alias: sre will not edit it");
	memory_fails("a tagged value", ONE("        resources: {limits: {memory: !!str 1Gi}}\n"),
		     NULL, 1.5,
		     "container checkout's resources.limits.memory (line 8) is not written as one "
		     "plain or quoted word: sre will not rewrite it");
	memory_fails("an escape in quotes",
		     ONE("        resources: {limits: {memory: \"1\\x47i\"}}\n"), NULL, 1.5,
		     "container checkout's resources.limits.memory (line 8) is not written as one "
		     "plain or quoted word: sre will not rewrite it");
	memory_fails("a block scalar",
		     ONE("        resources:\n          limits:\n            memory: |\n"
			 "              1Gi\n"), NULL, 1.5,
		     "container checkout's resources.limits.memory (line 10) is not written as one "
		     "plain or quoted word: sre will not rewrite it");

	image_fails("no image", "kind: Pod\nspec: {containers: [{name: a}]}\n", NULL, "a:1",
		    "container a has no image to replace");
	image_fails("an image with a blank", DEPLOYMENT("1Gi", "x:1"), NULL, "x:1 # y",
		    "\"x:1 # y\" is not an image reference sre writes");
	image_fails("an image starting with a YAML indicator", DEPLOYMENT("1Gi", "x:1"), NULL,
		    "*x", "\"*x\" is not an image reference sre writes");
	image_fails("an empty image", DEPLOYMENT("1Gi", "x:1"), NULL, "",
		    "\"\" is not an image reference sre writes");
	image_fails("an image under an alias",
		    "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: &i x:1\n"
		    "  - name: b\n    image: *i\n", "b", "x:2",
		    "container b's image is shared with another place through a YAML alias: sre "
		    "will not edit it");
}

int main(void)
{
	if (test_begin("manifest") < 0)
		return 1;
	test_deployment();
	test_documents();
	test_text();
	test_errors();
	return test_end();
}
