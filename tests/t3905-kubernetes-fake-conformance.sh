#!/bin/sh
test_description='the fake Kubernetes API server answers with every key of the recorded objects'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

# Pods and an event dumped from real clusters with kubectl (argo's
# gitops-engine, flanksource's is-healthy, k9s; see SOURCES.md there); the
# k8s-api-roundtrip objects, every field filled with placeholders, are left
# out. No list and no Status is recorded: the envelope of a list and the
# 401 are held to the keys the API server writes (metav1.ListMeta, Status).
need_fixtures kubernetes
need_command openssl "no openssl for the fake's certificate"

# conform RECORDED PATH [TOKEN]: every key of each recorded object (nested
# objects too, and the first item of lists: a pod in the same state, a
# condition of the same type) is in the fake's answer to GET PATH over
# HTTPS, left in answer.json; RECORDED is "globs:python expression on the
# loaded JSON d" (None: not this one). A key in EXCUSED is reported, but
# may be missing.
conform() {
	python3 - "$FIXTURES" "$FAKE_URL" "$@" <<-\EOT
	import glob, json, os, ssl, sys, urllib.error, urllib.request
	sys.path.insert(0, os.environ["FAKES_DIR"])
	from conform import missing
	fixtures, url, recorded, path = sys.argv[1:5]
	token = sys.argv[5] if len(sys.argv) > 5 else "conformance-token"
	EXCUSED = {
	    r"^\.items\[\]\.(kind|apiVersion)$": "a list's items carry none; kubectl adds them",
	    r"\.selfLink$": "the API server stopped setting it in Kubernetes 1.20",
	    r"\.(labels|annotations)\.|\.metadata\.annotations$": "the pod's own; flanksource's "
	    "annotations are its test oracles",
	    r"\.spec\.(.*\.)?(command|args|env|ports|\w*Probe|securityContext|affinity|"
	    r"priorityClassName|topologySpreadConstraints|volumes)(\.|\[|$)": "from the pod's manifest",
	}
	req = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + token})
	try:
	    got = json.load(urllib.request.urlopen(req, timeout=10,
	                    context=ssl.create_default_context(cafile="server.crt")))
	except urllib.error.HTTPError as e:
	    got = json.load(e)
	json.dump(got, open("answer.json", "w"))
	def like(where, x):
	    if where.endswith(".conditions"):
	        return x.get("type")
	    if where == ".items" and "spec" in x:
	        st = x["status"]
	        cs = (st.get("containerStatuses") or [{}])[0]
	        return (st["phase"], st.get("reason")) if st.get("reason") else \
	            (st["phase"], sorted(cs.get("state") or {}), sorted(cs.get("lastState") or {}),
	             "initContainerStatuses" in st)
	globs, expr = recorded.split(":", 1)
	failed = 0
	for file in sorted(sum((glob.glob(fixtures + "/" + p) for p in globs.split()), [])) or [None]:
	    want = eval(expr, {"d": json.load(open(file)) if file else None})
	    failed |= bool(missing(want, got, EXCUSED, name=file and file[len(fixtures) + 1:],
	                           each="[]", like=like))
	sys.exit(failed)
	EOT
}

# A pod in each state the recorded ones are in.
cat >cluster.json <<-\EOT
{"shop": {"pods": [
  {"name": "checkout-7d9f8b6c5d-x2x4p", "labels": {"app": "checkout"}, "owner": "ReplicaSet/checkout-7d9f8b6c5d",
   "containers": [{"name": "app", "image": "shop/checkout:1.4", "limits": {"memory": "256Mi"},
                   "requests": {"cpu": "100m", "memory": "128Mi"}, "ready": false, "restartCount": 7,
                   "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container=app"}},
                   "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137, "message": "out of memory"}}}]},
  {"name": "cart-0", "labels": {"app": "cart"}, "owner": "StatefulSet/cart",
   "containers": [{"name": "cart", "requests": {"cpu": "100m", "memory": "128Mi"}, "restartCount": 2,
                   "state": {"terminated": {"reason": "Error", "exitCode": 1, "message": "boom"}},
                   "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]},
  {"name": "migrate-x7k2p", "labels": {"job-name": "migrate"}, "phase": "Failed", "owner": "Job/migrate",
   "containers": [{"name": "migrate", "requests": {"cpu": "100m", "memory": "64Mi"},
                   "state": {"terminated": {"reason": "Error", "exitCode": 2, "message": "no such table: orders"}}}]},
  {"name": "web-5c8d7f9b4-q8z7r", "labels": {"app": "web"}, "phase": "Pending", "owner": "ReplicaSet/web-5c8d7f9b4",
   "containers": [{"name": "web", "image": "shop/web:nope", "requests": {"cpu": "100m", "memory": "64Mi"},
                   "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"shop/web:nope\""}}}]},
  {"name": "api-6b7c8d9f5-k2m4n", "labels": {"app": "api"}, "owner": "ReplicaSet/api-6b7c8d9f5",
   "containers": [{"name": "api", "limits": {"memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}}]},
  {"name": "api-6b7c8d9f5-p5r6s", "labels": {"app": "api"}, "owner": "ReplicaSet/api-6b7c8d9f5",
   "containers": [{"name": "api", "limits": {"memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"},
                   "ready": false, "restartCount": 1,
                   "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137, "message": "out of memory"}}}]},
  {"name": "report-28935120-vx9kd", "labels": {"job-name": "report-28935120"}, "phase": "Failed",
   "owner": "Job/report-28935120", "reason": "Evicted", "message": "The node was low on resource: memory.",
   "containers": [{"name": "report", "requests": {"cpu": "100m", "memory": "1Gi"}}],
   "conditions": {"Ready": {"status": "False", "reason": "PodFailed", "message": "The pod was evicted."}}},
  {"name": "worker-7f6d5c4b3-h8j9k", "labels": {"app": "worker"}, "phase": "Pending", "owner": "ReplicaSet/worker-7f6d5c4b3",
   "initContainers": [{"name": "wait-db", "state": {"terminated": {"reason": "Error", "exitCode": 1}},
                       "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}, "restartCount": 3}],
   "containers": [{"name": "worker", "requests": {"cpu": "100m", "memory": "64Mi"},
                   "state": {"waiting": {"reason": "PodInitializing"}}}]}],
 "events": [{"object": "Pod/checkout-7d9f8b6c5d-x2x4p", "reason": "BackOff", "count": 12,
             "message": "Back-off restarting failed container app in pod checkout-7d9f8b6c5d-x2x4p_shop"}]}}
EOT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-keyout server.key -out server.crt -subj /CN=kube-apiserver \
	-addext subjectAltName=IP:127.0.0.1 >openssl.out 2>&1 || { cat openssl.out; exit 1; }
start_fake kubernetes --cert server.crt --key server.key --token conformance-token \
	--data cluster.json || exit 1
FAKE_URL=https${FAKE_URL#http}

PODS="argo-gitops-engine/pod-*.json flanksource-is-healthy/pod/*.json k9s/pod_running.json"
LIST='{"kind": 0, "apiVersion": 0, "metadata": {"resourceVersion": 0}, "items": [d]}'

test_expect_success 'a PodList of started pods has the keys of the recorded pods' '
	conform "$PODS:$LIST if d[\"status\"][\"phase\"] != \"Pending\" else None" /api/v1/namespaces/shop/pods &&
	test_grep -q "\"kind\": \"PodList\"" answer.json
'

test_expect_success 'a Pending pod has the keys of the recorded ones' '
	conform "$PODS:$LIST if d[\"status\"][\"phase\"] == \"Pending\" else None" /api/v1/namespaces/shop/pods
'

test_expect_success 'an EventList has the keys of a recorded event' '
	conform "k9s/event.json:$LIST" /api/v1/namespaces/shop/events &&
	test_grep -q "\"kind\": \"EventList\"" answer.json
'

test_expect_success 'a wrong token gets the Status of a 401 (none is recorded)' '
	conform ":{\"kind\": 0, \"apiVersion\": 0, \"metadata\": {}, \"status\": 0, \"message\": 0, \"reason\": 0, \"code\": 0}" \
		/api/v1/namespaces/shop/pods wrong-token &&
	test_grep -q "\"reason\": \"Unauthorized\", \"code\": 401" answer.json
'

stop_fake
test_done
