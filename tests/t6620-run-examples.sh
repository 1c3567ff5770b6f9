#!/bin/sh
test_description='the ways to run sre run: the Kubernetes manifests, the systemd units, the Dockerfile, sre-run(1)'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

# Each file is checked for what a user relies on when they deploy it: it
# parses, it carries the fields examples/kubernetes/README.md promises,
# sre reads its config, kubectl and systemd accept it, and the Role allows
# exactly what sre asks of an API server, no less (a pass would fail) and
# no more (a stolen token would do more).

KUBE="$SRE_BUILD_DIR/examples/kubernetes"
UNITS="$SRE_BUILD_DIR/examples/systemd"
DOCKERFILE="$SRE_BUILD_DIR/Dockerfile"
PAGE="$SRE_BUILD_DIR/man/sre-run.1.scd"

need_command python3 "no python3 to read the manifests"

# examples.py: the checks over the manifests, one subcommand each; each
# prints what is wrong and exits 1, or prints what it saw and exits 0.
cat >examples.py <<\EOF
import json, re, sys
import yaml

def docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]

def one(path, kind):
    found = [d for d in docs(path) if d.get("kind") == kind]
    if len(found) != 1:
        sys.exit("%s: %d objects of kind %s, expected 1" % (path, len(found), kind))
    return found[0]

def need(cond, msg):
    if not cond:
        print("wrong: " + msg)
        need.failed = True
need.failed = False

def pod_spec(obj):
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]

def hardened(obj, where):
    spec = pod_spec(obj)
    psc = spec.get("securityContext") or {}
    need(psc.get("runAsNonRoot") is True, where + ": runAsNonRoot is not true")
    need(isinstance(psc.get("runAsUser"), int) and psc["runAsUser"] > 0, where + ": no non-root runAsUser")
    need((psc.get("seccompProfile") or {}).get("type") == "RuntimeDefault", where + ": no RuntimeDefault seccomp")
    need(spec.get("serviceAccountName") == "sre", where + ": not the ServiceAccount sre")
    c = spec["containers"][0]
    sc = c.get("securityContext") or {}
    need(sc.get("readOnlyRootFilesystem") is True, where + ": the root filesystem is writable")
    need(sc.get("allowPrivilegeEscalation") is False, where + ": privilege escalation allowed")
    need((sc.get("capabilities") or {}).get("drop") == ["ALL"], where + ": capabilities not all dropped")
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    need(mounts.get("/etc/sre") and (vols[mounts["/etc/sre"]].get("configMap") or {}).get("name") == "sre-config",
         where + ": the ConfigMap sre-config is not at /etc/sre")
    need(any((e.get("secretRef") or {}).get("name") == "sre-env" for e in c.get("envFrom", [])),
         where + ": the Secret sre-env is not read through env")
    return c, mounts, vols

def cmd_parse(paths):
    for p in paths:
        try:
            ds = docs(p)
        except yaml.YAMLError as e:
            sys.exit("%s does not parse: %s" % (p, e))
        if not ds:
            sys.exit("%s holds no object" % p)
        for d in ds:
            if not isinstance(d, dict) or not d.get("apiVersion") or not d.get("kind") or \
               not (d.get("metadata") or {}).get("name"):
                sys.exit("%s: an object without apiVersion, kind or metadata.name" % p)
            if d["kind"] != "Namespace" and not d["metadata"].get("namespace"):
                sys.exit("%s: %s/%s has no namespace" % (p, d["kind"], d["metadata"]["name"]))
            print("%s %s/%s" % (p.rsplit("/", 1)[-1], d["kind"], d["metadata"]["name"]))

def cmd_cronjob(path):
    cj = one(path, "CronJob")
    s = cj["spec"]
    need(s.get("concurrencyPolicy") == "Forbid", "concurrencyPolicy is not Forbid")
    need(isinstance(s.get("startingDeadlineSeconds"), int) and s["startingDeadlineSeconds"] > 0,
         "no startingDeadlineSeconds")
    c, mounts, vols = hardened(cj, "CronJob")
    need(c.get("args") == ["run", "--once"], "the CronJob does not run sre run --once: %s" % c.get("args"))
    need(pod_spec(cj).get("restartPolicy") == "Never", "restartPolicy is not Never")
    store = vols.get(mounts.get("/var/lib/sre"), {})
    claim = (store.get("persistentVolumeClaim") or {}).get("claimName")
    need(claim and any(d["kind"] == "PersistentVolumeClaim" and d["metadata"]["name"] == claim
                       for d in docs(path)), "the store is not on a claim of this file")

def cmd_deployment(path):
    dp = one(path, "Deployment")
    need(dp["spec"].get("replicas") == 2, "replicas is not 2")
    c, mounts, vols = hardened(dp, "Deployment")
    need(c.get("args") == ["run", "--watch"], "the Deployment does not run sre run --watch: %s" % c.get("args"))
    probe = (c.get("livenessProbe") or {}).get("exec") or {}
    need(probe.get("command") == ["sre", "run", "--status"], "no livenessProbe running sre run --status")
    store = vols.get(mounts.get("/var/lib/sre"), {})
    need("volumeClaimTemplate" in (store.get("ephemeral") or {}) or "persistentVolumeClaim" in store,
         "the store at /var/lib/sre is not on a PersistentVolumeClaim")

def rbac_rules(path):
    """{(namespace, group, resource): {verb: resourceNames or None}}"""
    out = {}
    roles = {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in docs(path) if d["kind"] == "Role"}
    for b in (d for d in docs(path) if d["kind"] == "RoleBinding"):
        ns = b["metadata"]["namespace"]
        if not any(s.get("kind") == "ServiceAccount" and s.get("name") == "sre" and s.get("namespace") == "sre"
                   for s in b.get("subjects", [])):
            continue
        role = roles.get((ns, b["roleRef"]["name"]))
        if b["roleRef"].get("kind") != "Role" or not role:
            sys.exit("RoleBinding %s/%s names no Role of this file" % (ns, b["metadata"]["name"]))
        for r in role.get("rules", []):
            for g in r.get("apiGroups", []):
                for res in r.get("resources", []):
                    for v in r.get("verbs", []):
                        names = r.get("resourceNames")
                        slot = out.setdefault((ns, g, res), {})
                        slot[v] = None if names is None or slot.get(v, 0) is None else \
                            sorted(set(slot.get(v) or []) | set(names))
    return out

def cmd_rbac(path, expected):
    text = json.dumps([d.get("rules") for d in docs(path) if d["kind"] == "Role"])
    need("*" not in text, "a wildcard in a Role's rules")
    sa = one(path, "ServiceAccount")
    need(sa["metadata"]["namespace"] == "sre", "the ServiceAccount is not in the namespace sre")
    got = {}
    for (ns, g, res), verbs in rbac_rules(path).items():
        got.setdefault("%s/%s" % (g or "core", res), set()).update(verbs)
    want = json.load(open(expected))
    for k in sorted(set(got) | set(want)):
        need(sorted(got.get(k, [])) == sorted(want.get(k, [])),
             "%s: the verbs are %s, expected %s" % (k, sorted(got.get(k, [])), sorted(want.get(k, []))))
    for k in sorted(got):
        print(k, " ".join(sorted(got[k])))

# A request to the API server as RBAC sees it: namespace, group, resource
# (with its subresource), name, verb.
def attributes(method, path, query):
    m = re.match(r"^/(?:api/v1|apis/([^/]+)/[^/]+)/namespaces/([^/]+)/([^/]+)(?:/([^/]+)(?:/([^/]+))?)?$", path)
    if not m:
        return None
    group, ns, res, name, sub = m.groups()
    verb = {"GET": "get" if name else "list", "POST": "create", "PUT": "update",
            "PATCH": "patch", "DELETE": "delete" if name else "deletecollection"}[method]
    if method == "GET" and re.search(r"(^|&)watch=(1|true)", query or ""):
        verb = "watch"
    return ns, group or "", res + ("/" + sub if sub else ""), name, verb

def cmd_allows(path, log):
    rules = rbac_rules(path)
    n = bad = 0
    for line in open(log):
        r = json.loads(line)
        a = attributes(r["method"], r["path"], r.get("query"))
        n += 1
        # Non-resource URLs every client may GET: the default ClusterRole
        # system:public-info-viewer (sre doctor asks for /version).
        if r["method"] == "GET" and r["path"] in ("/version", "/healthz", "/livez", "/readyz"):
            continue
        if a is None:
            print("not a namespaced request, which no Role allows: %s %s" % (r["method"], r["path"]))
            bad += 1
            continue
        ns, g, res, name, verb = a
        verbs = rules.get((ns, g, res), {})
        if verb not in verbs or (verbs[verb] is not None and name not in verbs[verb]):
            print("the Role does not allow: %s %s (%s %s in %s)" % (r["method"], r["path"], verb, res, ns))
            bad += 1
    print("%d requests, %d refused" % (n, bad))
    sys.exit(1 if bad or not n else 0)

def cmd_field(path, kind, expr):
    d = one(path, kind)
    v = eval(expr, {"d": d})
    print(v if isinstance(v, str) else json.dumps(v))

cmd = sys.argv[1]
if cmd == "parse":
    cmd_parse(sys.argv[2:])
elif cmd == "cronjob":
    cmd_cronjob(sys.argv[2])
elif cmd == "deployment":
    cmd_deployment(sys.argv[2])
elif cmd == "rbac":
    cmd_rbac(sys.argv[2], sys.argv[3])
elif cmd == "allows":
    cmd_allows(sys.argv[2], sys.argv[3])
elif cmd == "field":
    cmd_field(*sys.argv[2:5])
sys.exit(1 if need.failed else 0)
EOF

# The calls sre makes (rbac.yaml says which code makes each), and nothing else.
cat >expected-verbs.json <<\EOF
{"core/pods": ["list"], "core/pods/log": ["get"], "core/events": ["list"],
 "apps/deployments": ["get", "list", "patch"], "apps/deployments/scale": ["get", "patch"],
 "apps/replicasets": ["list"], "coordination.k8s.io/leases": ["create", "get", "update"]}
EOF

if python3 -c 'import yaml' 2>/dev/null; then
	test_set_prereq YAML
else
	say "# python3 cannot import yaml (Debian: python3-yaml, in make deps): the manifests' checks are skipped"
fi

# Is sre run built yet? Until cmd/run.c lands it answers -h with "Not built yet".
sre run -h >run-usage 2>&1
RUN_BUILT=
grep -q "^Not built yet" run-usage || RUN_BUILT=t

test_expect_success YAML 'every manifest parses, each object named, each namespaced one in its namespace' '
	python3 examples.py parse "$KUBE"/*.yaml >objects &&
	for f in namespace rbac configmap secret cronjob deployment; do
		test_grep "^$f.yaml " objects || return 1
	done &&
	test_grep -x "deployment.yaml Deployment/sre" objects &&
	test_grep -x "cronjob.yaml CronJob/sre" objects &&
	test_grep -x "rbac.yaml ServiceAccount/sre" objects
'

test_expect_success YAML 'the parse check fails on a manifest that does not parse' '
	printf "kind: Namespace\nmetadata:\n  name: [sre\n" >broken.yaml &&
	test_expect_code 1 python3 examples.py parse broken.yaml 2>err &&
	test_grep "broken.yaml does not parse" err
'

test_expect_success YAML 'the CronJob: sre run --once, Forbid, startingDeadlineSeconds, a claim for the store, hardened' '
	python3 examples.py cronjob "$KUBE/cronjob.yaml" >out &&
	! test -s out &&
	sed "s/concurrencyPolicy: Forbid/concurrencyPolicy: Allow/" "$KUBE/cronjob.yaml" >allow.yaml &&
	test_expect_code 1 python3 examples.py cronjob allow.yaml >out &&
	test_grep "concurrencyPolicy is not Forbid" out
'

test_expect_success YAML 'the Deployment: two replicas of sre run --watch, a liveness probe on sre run --status, a claim, hardened' '
	python3 examples.py deployment "$KUBE/deployment.yaml" >out &&
	! test -s out &&
	sed "s/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/" "$KUBE/deployment.yaml" >rw.yaml &&
	test_expect_code 1 python3 examples.py deployment rw.yaml >out &&
	test_grep "root filesystem is writable" out
'

test_expect_success YAML 'the Roles grant exactly the calls sre makes, Lease verbs included, no wildcard' '
	python3 examples.py rbac "$KUBE/rbac.yaml" expected-verbs.json >out &&
	test_grep -x "coordination.k8s.io/leases create get update" out &&
	test_grep -x "apps/deployments/scale get patch" out &&
	sed "s/verbs: \\[\"list\"\\]/verbs: [\"list\", \"watch\"]/" "$KUBE/rbac.yaml" >more.yaml &&
	test_expect_code 1 python3 examples.py rbac more.yaml expected-verbs.json >out &&
	test_grep "core/pods: the verbs are .*watch" out &&
	sed "s/resources: \\[\"events\"\\]/resources: [\"*\"]/" "$KUBE/rbac.yaml" >wild.yaml &&
	test_expect_code 1 python3 examples.py rbac wild.yaml expected-verbs.json >out &&
	test_grep "a wildcard" out
'

test_expect_success YAML 'sre reads the ConfigMap'"'"'s config: every key is one of its own, the store is on the volume' '
	python3 examples.py field "$KUBE/configmap.yaml" ConfigMap "d[\"data\"][\"config\"]" >config &&
	SRE_CONFIG="$PWD/config" sre config list >list 2>err &&
	! test -s err &&
	test_grep -x "run.lease=kubernetes" list &&
	test_grep -x "tracker.kind=github" list &&
	SRE_CONFIG="$PWD/config" sre config get core.db >db &&
	echo /var/lib/sre/sre.db >expect &&
	test_cmp expect db &&
	for k in run.interval run.step-timeout run.lease-duration run.lease-renew-deadline run.lease-retry-period; do
		SRE_CONFIG="$PWD/config" sre config get --type duration $k >ms || return 1
	done &&
	sre config --known-keys | sed "s/ .*//; s/[.]/\\\\./g; s/<[a-z]*>/[^=]*/g; s/^/^/; s/\$/=/" >known &&
	# The keys of sre run are checked against its page until cmd/run.c
	# puts them in the key table.
	if test -z "$RUN_BUILT"; then
		grep -o "\*run\.[a-z-]*\*" "$PAGE" | tr -d "*" | sort -u |
		sed "s/[.]/\\\\./g; s/^/^/; s/\$/=/" >>known
	fi &&
	{ grep -v -f known list >unknown || true; } &&
	! test -s unknown &&
	echo "run.lease-nmae=x" >>list &&
	{ grep -v -f known list >unknown || true; } &&
	test_grep "lease-nmae" unknown
'

test_expect_success YAML 'the Secret is a template of the variables sre reads, read through env' '
	python3 examples.py field "$KUBE/secret.yaml" Secret "\"\\n\".join(\"%s=%s\" % kv for kv in d[\"stringData\"].items())" >env &&
	test_line_count -ge 3 env &&
	while IFS== read -r name value; do
		case "$value" in *REPLACE*) ;; *) echo "$name is no placeholder" >&2; return 1 ;; esac &&
		grep -F "\"$name\"" "$SRE_BUILD_DIR"/lib/*.c >/dev/null ||
		{ echo "sre reads no $name" >&2; return 1; }
	done <env
'

# A stand-in for an API server's discovery, for kubectl's client-side dry
# run: the kinds of the examples, and 404 for every object (none exists).
cat >discovery.py <<\EOF
import http.server, json, os, sys, threading, time
KINDS = {
    "v1": [("namespaces", "Namespace", False), ("serviceaccounts", "ServiceAccount", True),
           ("configmaps", "ConfigMap", True), ("secrets", "Secret", True),
           ("persistentvolumeclaims", "PersistentVolumeClaim", True)],
    "rbac.authorization.k8s.io/v1": [("roles", "Role", True), ("rolebindings", "RoleBinding", True)],
    "apps/v1": [("deployments", "Deployment", True)],
    "batch/v1": [("cronjobs", "CronJob", True)],
}
class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def answer(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/api":
            return self.answer(200, {"kind": "APIVersions", "versions": ["v1"]})
        if path == "/apis":
            return self.answer(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": gv.split("/")[0], "versions": [{"groupVersion": gv, "version": "v1"}],
                 "preferredVersion": {"groupVersion": gv, "version": "v1"}} for gv in KINDS if "/" in gv]})
        gv = path.split("/", 2)[2] if path.count("/") in (2, 3) else None
        if gv in KINDS:
            return self.answer(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                                     "resources": [{"name": n, "singularName": "", "namespaced": ns, "kind": k,
                                                    "verbs": ["create", "get", "list", "patch", "update"]}
                                                   for n, k, ns in KINDS[gv]]})
        self.answer(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                          "reason": "NotFound", "message": "not found", "code": 404})
    def do_POST(self):
        self.answer(405, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 405})
    do_PUT = do_PATCH = do_DELETE = do_POST
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=lambda: (time.sleep(120), os._exit(0)), daemon=True).start()
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % server.server_address[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
EOF

# start_discovery: the stand-in above on a free port (in discovery.port);
# DISCOVERY_PID is its process. It ends by itself after 120 s.
start_discovery() {
	rm -f discovery.port &&
	python3 discovery.py discovery.port >discovery.out 2>&1 &
	DISCOVERY_PID=$!
	i=0
	while ! test -s discovery.port; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! kill -0 $DISCOVERY_PID 2>/dev/null; then
			cat discovery.out >&2
			return 1
		fi
		sleep 0.05
	done
}

stop_discovery() {
	kill "$DISCOVERY_PID" 2>/dev/null
	wait "$DISCOVERY_PID" 2>/dev/null
	return 0
}

if command -v kubectl >/dev/null 2>&1; then
	test_expect_success 'kubectl apply --dry-run=client --validate=false takes every manifest' '
		start_discovery &&
		test_when_finished stop_discovery &&
		cat >kubeconfig.dry <<-EOT &&
		apiVersion: v1
		kind: Config
		clusters: [{name: dry, cluster: {server: "http://127.0.0.1:$(cat discovery.port)"}}]
		users: [{name: dry, user: {token: dry-run}}]
		contexts: [{name: dry, context: {cluster: dry, user: dry}}]
		current-context: dry
		EOT
		KUBECONFIG=$PWD/kubeconfig.dry kubectl apply --dry-run=client --validate=false \
			-f "$KUBE" >applied 2>err &&
		test_grep "^cronjob.batch/sre created (dry run)" applied &&
		test_grep "^deployment.apps/sre created (dry run)" applied &&
		test_grep "^role.rbac.authorization.k8s.io/sre-lease created (dry run)" applied &&
		test "$(grep -c "(dry run)$" applied)" = "$(grep -c "^---\$" "$KUBE"/*.yaml | awk -F: "{ n += \$2 + 1 } END { print n }")" &&
		sed "s/^kind: CronJob/kind: CronJobb/" "$KUBE/cronjob.yaml" >typo.yaml &&
		! KUBECONFIG=$PWD/kubeconfig.dry kubectl apply --dry-run=client --validate=false \
			-f typo.yaml >out 2>err &&
		test_grep "CronJobb" err
	'
else
	test_skip 'kubectl apply --dry-run=client takes every manifest' 'no kubectl on this machine'
fi

# The fake API server, with a pod that was just OOM-killed: a scout opens
# the incident, a diagnosis reads pods, events, Deployments, ReplicaSets and
# logs, and the fix restarts the Deployment and verifies it.
KUBE_TOKEN=kube-examples-0123456789
if command -v openssl >/dev/null 2>&1; then
	test_set_prereq OPENSSL
fi

test_expect_success YAML,OPENSSL 'the Role allows every request of a scout, a diagnosis, a fix and sre doctor' '
	cat >cluster.json <<-\EOT &&
	{"shop": {"deployments": [{"name": "cart", "replicas": 2, "revision": 2,
	   "containers": [{"name": "app", "image": "shop/cart:2.1", "limits": {"memory": "256Mi"}}]}],
	  "replicasets": [{"name": "cart-5d8f7c9b6", "owner": "Deployment/cart", "revision": 2, "replicas": 2}],
	  "pods": [{"name": "cart-5d8f7c9b6-a1b2c", "labels": {"app": "cart"}, "owner": "ReplicaSet/cart-5d8f7c9b6",
	    "containers": [{"name": "app", "image": "shop/cart:2.1", "limits": {"memory": "256Mi"},
	      "state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
	      "ready": false, "restartCount": 1, "log": "allocating\n"}]}]}}
	EOT
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout server.key -out server.crt -subj /CN=kube-apiserver \
		-addext subjectAltName=IP:127.0.0.1 >openssl.out 2>&1 &&
	start_fake kubernetes --cert server.crt --key server.key --token "$KUBE_TOKEN" \
		--data cluster.json &&
	test_when_finished stop_fake &&
	write_kubeconfig "https${FAKE_URL#http}" "$PWD/server.crt" "$KUBE_TOKEN" >kubeconfig &&
	mkdir -p .sre &&
	cat >.sre/config <<-EOT &&
	[kubernetes]
		kubeconfig = $PWD/kubeconfig
		namespace = shop
	[service "cart"]
		runtime = kubernetes
		namespace = shop
	[fix]
		auto = restart
		verify-timeout = 2s
		verify-interval = 1s
	[chaos]
		allow = cart
	EOT
	sre scout >out &&
	test_grep "opened 1 cart: pod cart-5d8f7c9b6-a1b2c in shop was OOMKilled" out &&
	sre diagnose 1 >out &&
	test_grep "^Mitigation  restart cart" out &&
	# restarted, then exit 1 if the verification window (2s) is too short
	# for the fake: either way the calls were made
	{ sre fix 1 >out 2>err; echo $? >rc; } &&
	test_grep -x "[01]" rc &&
	test_grep "deployment shop/cart restarted" out &&
	sre doctor >out 2>err &&
	# the scale subresource, as the fix'"'"'s scale action reads and writes it
	sre chaos inject --target cart kubernetes-scale-zero >out &&
	sre chaos rollback >out &&
	test_grep "scaled to 2 replicas" out &&
	# Once sre run is built: a pass under the Lease of configmap.yaml, whose
	# calls (get, create, update of leases/sre in sre) the Role must allow.
	if test -n "$RUN_BUILT"; then
		{ sre -c run.lease=kubernetes -c run.lease-name=sre -c run.lease-namespace=sre \
			run --once >out 2>err; echo $? >rc; } &&
		test_grep -x "[01]" rc &&
		test "$(fake_count PUT "/leases/sre\$")$(fake_count POST "/leases\$")" != 00
	fi &&
	python3 examples.py allows "$KUBE/rbac.yaml" "$FAKE_LOG" >allowed &&
	test_grep " 0 refused\$" allowed &&
	for call in "GET /api/v1/namespaces/shop/pods/.*/log" "PATCH /apis/apps/v1/namespaces/shop/deployments/cart\$" \
		"PATCH /apis/apps/v1/namespaces/shop/deployments/cart/scale" "GET /apis/apps/v1/namespaces/shop/replicasets"; do
		test "$(fake_count ${call%% *} "${call#* }")" -ge 1 || { echo "no $call" >&2; return 1; }
	done &&
	echo "{\"method\": \"DELETE\", \"path\": \"/api/v1/namespaces/shop/pods/cart-5d8f7c9b6-a1b2c\"}" >>"$FAKE_LOG" &&
	echo "{\"method\": \"GET\", \"path\": \"/api/v1/namespaces/payments/pods\"}" >>"$FAKE_LOG" &&
	test_expect_code 1 python3 examples.py allows "$KUBE/rbac.yaml" "$FAKE_LOG" >allowed &&
	test_grep "does not allow: DELETE .*(delete pods in shop)" allowed &&
	test_grep "does not allow: GET /api/v1/namespaces/payments/pods" allowed
'

# unit_key FILE SECTION KEY: the values of KEY in [SECTION] of a unit file.
unit_key() {
	sed -n "/^\[$2\]/,/^\[/p" "$1" | sed -n "s/^$3=//p"
}

test_expect_success 'sre-run.service: sre run --watch, restarted on failure, its own user and state directory, hardened' '
	u="$UNITS/sre-run.service" &&
	unit_key "$u" Service ExecStart >out &&
	test_grep -x "/usr/local/bin/sre run --watch" out &&
	test "$(unit_key "$u" Service Restart)" = on-failure &&
	test "$(unit_key "$u" Service DynamicUser)" = yes &&
	test "$(unit_key "$u" Service StateDirectory)" = sre &&
	for k in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes ProtectHome=yes \
		RestrictSUIDSGID=yes CapabilityBoundingSet=; do
		test "$(unit_key "$u" Service "${k%%=*}")" = "${k#*=}" ||
		{ echo "sre-run.service lacks $k" >&2; return 1; }
	done
'

test_expect_success 'sre-scout.timer and .service: sre run --once, Persistent=true, RandomizedDelaySec' '
	t="$UNITS/sre-scout.timer" s="$UNITS/sre-scout.service" &&
	test "$(unit_key "$t" Timer Persistent)" = true &&
	test -n "$(unit_key "$t" Timer RandomizedDelaySec)" &&
	test -n "$(unit_key "$t" Timer OnCalendar)$(unit_key "$t" Timer OnUnitActiveSec)" &&
	test "$(unit_key "$t" Timer Unit)" = sre-scout.service &&
	test "$(unit_key "$s" Service ExecStart)" = "/usr/local/bin/sre run --once" &&
	test "$(unit_key "$s" Service Type)" = oneshot &&
	# the same store, and the same user to own it
	test "$(unit_key "$s" Service StateDirectory)" = "$(unit_key "$UNITS/sre-run.service" Service StateDirectory)" &&
	test "$(unit_key "$s" Service User)" = "$(unit_key "$UNITS/sre-run.service" Service User)" &&
	test -n "$(unit_key "$s" Service User)" &&
	test "$(unit_key "$s" Service NoNewPrivileges)" = yes
'

if command -v systemd-analyze >/dev/null 2>&1; then
	test_expect_success 'systemd-analyze verify accepts the units, and catches a misspelt key' '
		mkdir units &&
		for f in sre-run.service sre-scout.service sre-scout.timer; do
			# verify checks that ExecStart exists: this build'"'"'s sre
			sed "s#/usr/local/bin/sre#$SRE_BUILD_DIR/sre#" "$UNITS/$f" >units/$f || return 1
		done &&
		(cd units && systemd-analyze verify --man=no sre-run.service sre-scout.service sre-scout.timer) >out 2>err &&
		! test -s err &&
		sed "s/^NoNewPrivileges=/NoNewPrivilege=/" units/sre-run.service >units/typo.service &&
		{ (cd units && systemd-analyze verify --man=no typo.service) >out 2>err || true; } &&
		test_grep "Unknown key .NoNewPrivilege." err
	'
else
	test_skip 'systemd-analyze verify accepts the units' 'no systemd-analyze on this machine'
fi

# stage_of N: the lines of the Dockerfile's stage N (1, 2), comments dropped,
# continuation lines joined.
stage_of() {
	sed -e "/^#/d" -e "/^ *#/d" "$DOCKERFILE" | sed -e ":a" -e "/\\\\\$/N; s/\\\\\\n//; ta" |
	awk -v n="$1" "/^FROM /{ s++ } s == n"
}

test_expect_success 'Dockerfile: built in debian:12, run from debian:12-slim as a non-root user, sre the entrypoint' '
	stage_of 1 >build &&
	stage_of 2 >runtime &&
	test_grep "^FROM debian:12 AS build\$" build &&
	test_grep -x "FROM debian:12-slim" runtime &&
	test_grep -x "ENTRYPOINT \\[\"sre\"\\]" runtime &&
	sed -n "s/^USER //p" runtime >user &&
	test_line_count = 1 user &&
	test_grep ! -E "^(0|root)(:|\$)" user &&
	test_grep "COPY --from=build" runtime
'

if command -v dpkg >/dev/null 2>&1 && command -v objdump >/dev/null 2>&1; then
	test_set_prereq DPKG
fi

test_expect_success DPKG 'Dockerfile: the runtime stage installs no -dev package, and every library sre links or loads' '
	stage_of 2 | sed -n "s/.*--no-install-recommends\([^&]*\)&&.*/\1/p" | tr " " "\n" |
		grep -v -e "^\$" >packages &&
	test_line_count -ge 5 packages &&
	test_grep ! -e "-dev\$" packages &&
	test_grep -x ca-certificates packages &&
	objdump -p "$SRE_BUILD_DIR/sre" | sed -n "s/^ *NEEDED *//p" >sonames &&
	sre version --build-options | sed -n "s/^[a-z0-9]*: \(lib[^,]*\.so[^,]*\), loaded .*/\1/p" >>sonames &&
	test_grep -x "libcurl.so.4" sonames &&
	while read -r so; do
		# libc6; and ASan and UBSan under make SANITIZE=1, which the
		# Dockerfile does not build with
		case "$so" in libc.so.*|libm.so.*|ld-linux*|libasan.so.*|libubsan.so.*) continue ;; esac
		pkg=$(dpkg -S "*/$so" 2>/dev/null | sed -n "1s/:.*//p") &&
		test -n "$pkg" && test_grep -x "$pkg" packages ||
		{ echo "$so ($pkg) is not installed by the runtime stage" >&2; return 1; }
	done <sonames
'

test_expect_success 'Dockerfile: the build stage installs the -dev packages the Makefile builds with' '
	stage_of 1 >build &&
	sed -n "/^DEBIAN_PACKAGES/,/^\$/p" "$SRE_BUILD_DIR/Makefile" | tr " \\t\\\\" "\n\n\n" |
		grep -e "-dev\$" | grep -v -e "^libedit-dev\$" -e "^libclang-rt" >dev &&
	test_line_count -ge 6 dev &&
	while read -r p; do
		test_grep -w -e "$p" build || return 1
	done <dev
'

# start_health: a web server on 127.0.0.1 answering 200 at /health, for a
# check; HEALTH_PORT and HEALTH_PID. It ends by itself after 120 s.
start_health() {
	mkdir -p www && echo ok >www/health && rm -f health.port || return 1
	python3 -c 'import functools, http.server, os, threading, time
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
    functools.partial(http.server.SimpleHTTPRequestHandler, directory="www"))
threading.Thread(target=lambda: (time.sleep(120), os._exit(0)), daemon=True).start()
open("health.port.tmp", "w").write("%d\n" % s.server_address[1])
os.rename("health.port.tmp", "health.port")
s.serve_forever()' >health.out 2>&1 &
	HEALTH_PID=$!
	i=0
	while ! test -s health.port; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! kill -0 $HEALTH_PID 2>/dev/null; then
			cat health.out >&2
			return 1
		fi
		sleep 0.05
	done
	HEALTH_PORT=$(cat health.port)
}

stop_health() {
	kill "$HEALTH_PID" 2>/dev/null
	wait "$HEALTH_PID" 2>/dev/null
	return 0
}

# The image is built only where docker answers and has the base images:
# this machine cannot pull from Docker Hub.
if docker info >/dev/null 2>&1 &&
   docker image inspect debian:12 >/dev/null 2>&1 &&
   docker image inspect debian:12-slim >/dev/null 2>&1; then
	test_expect_success 'the image builds, and sre version runs in it as uid 10001' '
		tag=sre-t6620:$$ &&
		test_when_finished "docker image rm -f $tag >/dev/null 2>&1 || true" &&
		# --network host: a daemon without a bridge (lib-dockerd.sh'"'"'s) still
		# lets the build stage reach the Debian mirror.
		docker build --network host -q -t $tag "$SRE_BUILD_DIR" >build.out 2>&1 &&
		docker run --rm $tag version >out &&
		test_grep "^sre version " out &&
		docker run --rm --entrypoint id $tag -u >uid &&
		echo 10001 >expect &&
		test_cmp expect uid &&
		# Once sre run is built: a pass in the image, its store on a tmpfs,
		# watching a check this test serves.
		if test -n "$RUN_BUILT"; then
			start_health &&
			test_when_finished stop_health &&
			docker run --rm --network host --read-only --tmpfs /var/lib/sre:uid=10001 --tmpfs /tmp \
				$tag -c check.web.url=http://127.0.0.1:$HEALTH_PORT/health run --once >out 2>err
		fi
	'
else
	test_skip 'the image builds and runs sre version' \
		'no docker daemon here with debian:12 and debian:12-slim (this machine cannot pull from Docker Hub)'
fi

test_expect_success 'sre-run(1): its synopsis is the usage of sre run, and it renders' '
	sed -n "/^# SYNOPSIS\$/,/^# [A-Z]/p" "$PAGE" | grep -v -e "^#" -e "^\`\`\`" -e "^\$" >synopsis &&
	cat >expect <<-\EOT &&
	sre run --once [--json]
	sre run --watch [--interval <duration>] [--json] [--wait]
	sre run --status [--json]
	EOT
	test_cmp expect synopsis &&
	if test -n "$RUN_BUILT"; then
		sed -n -e "s/^usage: //p" -e "s/^   or: //p" run-usage >usage &&
		test_cmp expect usage
	fi &&
	scdoc <"$PAGE" >sre-run.1 &&
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS CONFIGURATION "EXIT STATUS" FILES EXAMPLES "SEE ALSO"; do
		test_grep -x "# $s" "$PAGE" || return 1
	done
'

test_expect_success YAML 'sre-run(1) documents each option and each run.* key the examples set' '
	grep -o -e "--[a-z]*" synopsis | sort -u >options &&
	test_line_count = 6 options &&
	while read -r o; do
		test_grep "^\*$o\*" "$PAGE" || return 1
	done <options &&
	python3 examples.py field "$KUBE/configmap.yaml" ConfigMap "d[\"data\"][\"config\"]" >config &&
	SRE_CONFIG="$PWD/config" sre config list | sed -n "s/^\(run\.[a-z-]*\)=.*/\1/p" >keys &&
	test_line_count -ge 6 keys &&
	while read -r k; do
		test_grep -F "*$k*" "$PAGE" || return 1
	done <keys &&
	test_grep -F "*run.heartbeat-url*" "$PAGE" &&
	test_grep -F "<store>.run.lock" "$PAGE"
'

test_done
