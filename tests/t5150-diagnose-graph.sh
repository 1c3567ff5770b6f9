#!/bin/sh
test_description='sre diagnose reads the call graph live: the called services logs, their pods metrics, the baseline window'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the fakes"
fi
need_command openssl "for the fake Kubernetes API server's certificate"

# The story: checkout (the incident's service) calls inventory (fast) and
# pricing (slow) on every request. The incident opened at T0; it is
# diagnosed five minutes later, with diagnose.lookback 10m, so the
# incident's traces are those after T0-5m and the baseline's (the hour
# before T0) those before.
T0=2026-11-20T10:00:00Z
NOW=2026-11-20T10:05:00Z
T0_S=1795168800
KUBE_TOKEN=kube-graph-0123456789
CHECKOUT_POD=checkout-7d9f8b6c5d-x2x4p
INVENTORY_POD=inventory-5c8d7b6a4f-abcde
PRICING_POD=pricing-6f7e8d9c0b-fghij

# traces.json: the Jaeger scenario; $1 a pod name put on pricing's process
# of one incident trace instead of its own (a hostile one).
write_traces() {
	python3 - "$T0_S" "$CHECKOUT_POD" "$INVENTORY_POD" "$PRICING_POD" "${1:-}" <<-\EOT
	import json, sys
	t0, pods, hostile = int(sys.argv[1]), sys.argv[2:5], sys.argv[5]
	def span(tid, sid, op, parent, start, dur, pid, kind):
	    refs = [{"refType": "CHILD_OF", "traceID": tid, "spanID": parent}] if parent else []
	    return {"traceID": tid, "spanID": sid, "operationName": op, "references": refs,
	            "startTime": start, "duration": dur, "processID": pid, "logs": [],
	            "warnings": None,
	            "tags": [{"key": "span.kind", "type": "string", "value": kind}]}
	def proc(service, pod):
	    return {"serviceName": service, "tags": [
	        {"key": "k8s.pod.name", "type": "string", "value": pod}]}
	traces = []
	for window, at in (("i", t0 + 60), ("b", t0 - 1800)):
	    for n in range(6):
	        tid = "%s%031x" % (window, n)
	        start = (at + 10 * n) * 1000000
	        pricing_ms = 900 if window == "i" else 40
	        spans = [
	            span(tid, "a%015x" % n, "POST /checkout", None, start,
	                 (pricing_ms + 60) * 1000, "p1", "server"),
	            span(tid, "b%015x" % n, "GET /stock", "a%015x" % n, start + 1000, 20000,
	                 "p2", "server"),
	            span(tid, "c%015x" % n, "POST /price", "a%015x" % n, start + 30000,
	                 pricing_ms * 1000, "p3", "server"),
	        ]
	        pricing_pod = hostile if hostile and window == "i" and n == 0 else pods[2]
	        traces.append({"traceID": tid, "spans": spans, "warnings": None, "processes": {
	            "p1": proc("checkout", pods[0]), "p2": proc("inventory", pods[1]),
	            "p3": proc("pricing", pricing_pod)}})
	print(json.dumps({"checkout": {"traces": traces}}))
	EOT
}

# cluster.json: the three pods, each a line before T0 and one after.
write_cluster() {
	python3 - "$CHECKOUT_POD" "$INVENTORY_POD" "$PRICING_POD" <<-\EOT
	import json, sys
	pods = []
	for pod in sys.argv[1:]:
	    app = pod.split("-")[0]
	    pods.append({"name": pod, "labels": {"app": app},
	                 "containers": [{"name": "app", "image": "shop/%s:1.0" % app,
	                                 "log": "%s baseline ok\n%s incident line\n" % (app, app),
	                                 "logTimes": ["2026-11-20T09:40:00Z",
	                                              "2026-11-20T10:02:00Z"]}]})
	# pricing's Deployment and its two ReplicaSets: its rollout history.
	deployments = [{"name": "pricing", "revision": 2}]
	replicasets = [{"name": "pricing-5a4b3c2d1e", "owner": "Deployment/pricing", "revision": 1},
	               {"name": "pricing-6f7e8d9c0b", "owner": "Deployment/pricing", "revision": 2}]
	print(json.dumps({"shop": {"pods": pods, "deployments": deployments,
	                           "replicasets": replicasets}}))
	EOT
}

write_traces >traces.json || exit 1
write_cluster >cluster.json || exit 1
start_fake jaeger --data traces.json || { echo "Bail out! the fake Jaeger did not start"; exit 1; }
JAEGER_URL=$FAKE_URL JAEGER_LOG=$FAKE_LOG JAEGER_PID=$FAKE_PID
start_fake prometheus || { echo "Bail out! the fake Prometheus did not start"; exit 1; }
PROM_URL=$FAKE_URL PROM_LOG=$FAKE_LOG PROM_PID=$FAKE_PID
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-keyout server.key -out server.crt -subj /CN=kube-apiserver \
	-addext subjectAltName=IP:127.0.0.1 >openssl.out 2>&1 || { cat openssl.out; exit 1; }
start_fake kubernetes --cert server.crt --key server.key --token "$KUBE_TOKEN" \
	--data cluster.json || { echo "Bail out! the fake Kubernetes did not start"; exit 1; }
KUBE_URL=https${FAKE_URL#http} KUBE_CONTROL=$FAKE_URL KUBE_LOG=$FAKE_LOG KUBE_PID=$FAKE_PID
# pricing also runs a container in Docker, a line before T0 and one after.
SOCK="$TRASH_DIRECTORY/docker.sock"
cat >containers.json <<EOT
[{"name": "shop-pricing-1", "image": "shop/pricing:1.0", "compose": "shop/pricing",
  "logs": [{"line": "pricing docker baseline", "time": $((T0_S - 1200))},
           {"line": "pricing docker incident", "time": $((T0_S + 120))}]}]
EOT
start_fake docker --socket "$SOCK" --data containers.json ||
	{ echo "Bail out! the fake Docker did not start"; exit 1; }
DOCKER_LOG=$FAKE_LOG DOCKER_PID=$FAKE_PID

# The PromQL queries the fake Prometheus received that read $1, one a line.
prom_queries() {
	python3 - "$PROM_LOG" "$1" <<-\EOT
	import json, sys
	from urllib.parse import parse_qs
	for line in open(sys.argv[1]):
	    r = json.loads(line)
	    q = parse_qs(r["query"]).get("query", [""])[0]
	    if sys.argv[2] in q:
	        print(q)
	EOT
}

# fake_count over the request log $1.
fake_count_in() {
	(FAKE_LOG=$1; shift; fake_count "$@")
}

# The status of source $2 in the sources.json (or diagnosis JSON) $1.
source_status() {
	python3 - "$1" "$2" <<-\EOT
	import json, sys
	j = json.load(open(sys.argv[1]))
	s = j["sources"] if isinstance(j, dict) else j
	print(" ".join(x["status"] for x in s if x["source"] == sys.argv[2]) or "none")
	EOT
}

test_expect_success 'setup: Jaeger, Prometheus and Kubernetes configured, an incident at T0' '
	write_kubeconfig "$KUBE_URL" "$PWD/server.crt" "$KUBE_TOKEN" >kubeconfig &&
	mkdir -p .sre &&
	cat >.sre/config <<-EOT &&
	[jaeger]
		url = $JAEGER_URL
	[prometheus]
		url = $PROM_URL
	[kubernetes]
		kubeconfig = $PWD/kubeconfig
		namespace = shop
	[diagnose]
		lookback = 10m
	EOT
	SRE_NOW=$T0 sre incident open --service checkout --title "checkout p99 is high" \
		--source jaeger --fingerprint jaeger/checkout/p99 >id &&
	test "$(cat id)" = 1
'

test_expect_success 'the called services logs are read, each under logs/<service>/' '
	SRE_NOW=$NOW sre diagnose --save-evidence bundle 1 >out &&
	test_grep "pricing incident line" bundle/logs/pricing/$PRICING_POD.log &&
	test_grep "inventory incident line" bundle/logs/inventory/$INVENTORY_POD.log &&
	test_grep "checkout incident line" bundle/logs/$CHECKOUT_POD.log &&
	! test -e bundle/logs/checkout &&
	test "$(source_status bundle/sources.json graph)" = ok
'

test_expect_success 'the rollout history of a called service is kept for the rules' '
	python3 -c "import json
items = json.load(open(\"bundle/kubernetes-graph-replicasets.json\"))[\"items\"]
names = sorted(i[\"metadata\"][\"name\"] for i in items)
assert names == [\"pricing-5a4b3c2d1e\", \"pricing-6f7e8d9c0b\"], names" &&
	{ ! test -e bundle/kubernetes-replicasets.json ||
	  ! grep pricing bundle/kubernetes-replicasets.json; }
'

test_expect_success 'their pods are not the incident service pods' '
	python3 -c "import json, sys
names = [p[\"metadata\"][\"name\"] for p in json.load(open(\"bundle/kubernetes-pods.json\"))[\"items\"]]
assert names == [sys.argv[1]], names" "$CHECKOUT_POD"
'

test_expect_success 'the pods metrics are asked of the three pods only, each under its name' '
	for m in pod-cpu pod-cpu-limit pod-cpu-throttled pod-memory pod-memory-limit pod-restarts; do
		test -f bundle/prometheus-$m.json || return 1
	done &&
	prom_queries container_cpu_usage_seconds_total >q &&
	echo "sum by (pod) (rate(container_cpu_usage_seconds_total{container!=\"\",pod=~\"$CHECKOUT_POD|$INVENTORY_POD|$PRICING_POD\"}[2m]))" >expect &&
	test_cmp expect q &&
	test "$(source_status bundle/sources.json pod-metrics)" = ok
'

test_expect_success 'the baseline: the traces of the hour before T0, and the logs before T0' '
	test -f bundle/baseline/jaeger-traces.json &&
	python3 -c "import json
b = [t[\"traceID\"][0] for t in json.load(open(\"bundle/baseline/jaeger-traces.json\"))[\"data\"]]
i = [t[\"traceID\"][0] for t in json.load(open(\"bundle/jaeger-traces.json\"))[\"data\"]]
assert b and set(b) == {\"b\"}, b
assert i and set(i) == {\"i\"}, i" &&
	echo "checkout baseline ok" >expect &&
	test_cmp expect bundle/baseline/logs/$CHECKOUT_POD.log &&
	echo "pricing baseline ok" >expect &&
	test_cmp expect bundle/baseline/logs/pricing/$PRICING_POD.log &&
	test "$(source_status bundle/sources.json baseline)" = ok &&
	grep "sinceTime=2026-11-20T09%3A00%3A00Z&timestamps=true" "$KUBE_LOG" >since &&
	test $(wc -l <since) = 3
'

test_expect_success 'the bundle replays offline with its baseline and graph logs' '
	sre diagnose --evidence bundle --json >replay.json &&
	python3 -c "import json
j = json.load(open(\"replay.json\"))
c = [x[\"service\"] for x in j[\"candidates\"]]
assert c and c[0] == \"pricing\", c"
'

# pricing answers in 900 ms where it took 40 ms in the hour before: live,
# with what the second round read, it is the first candidate and the
# mitigation's target, not checkout, whose alarm it is.
test_expect_success 'live, the callee that slowed against its baseline is the culprit' '
	SRE_NOW=$NOW sre diagnose --json 1 >live.json &&
	python3 -c "import json
j = json.load(open(\"live.json\"))
assert j[\"candidates\"][0][\"service\"] == \"pricing\", j[\"candidates\"]
assert j[\"candidates\"][0][\"category\"] == \"latency\", j[\"candidates\"]
assert j[\"mitigation\"][\"target\"] == \"pricing\", j[\"mitigation\"]
assert j[\"rule\"] == \"graph\", j[\"rule\"]" &&
	SRE_NOW=$NOW sre diagnose 1 >live.txt &&
	grep "^  1\. pricing " live.txt
'

test_expect_success 'a hostile pod name in a trace never reaches the PromQL' '
	write_traces "x\"}|evil-pod" >hostile.json &&
	curl_set() { python3 -c "import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + \"/_fake/set\",
    data=open(sys.argv[2], \"rb\").read(), method=\"POST\"), timeout=5).read()" "$@"; } &&
	curl_set "$JAEGER_URL" hostile.json &&
	: >"$PROM_LOG" &&
	SRE_NOW=$NOW sre diagnose --json 1 >hostile.out &&
	prom_queries pod= >q &&
	test $(wc -l <q) = 6 &&
	test_grep ! "evil" q &&
	test_grep "$PRICING_POD" q &&
	curl_set "$JAEGER_URL" traces.json
'

test_expect_success 'a graph service whose logs hang is cut at the deadline; diagnose answers' '
	python3 -c "import json, sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + \"/_fake/delay\",
    data=json.dumps({\"method\": \"GET\", \"path\": \"^/api/v1/namespaces/shop/pods/pricing-[^/]*/log\",
                     \"seconds\": 30, \"times\": 2}).encode(), method=\"POST\"), timeout=5).read()" \
		"$KUBE_CONTROL" &&
	start=$(date +%s) &&
	SRE_NOW=$NOW sre -c diagnose.timeout=3s diagnose --json 1 >slow.json &&
	end=$(date +%s) &&
	test $((end - start)) -lt 10 &&
	test "$(source_status slow.json graph)" = timeout &&
	python3 -c "import json
j = json.load(open(\"slow.json\"))
g = [s for s in j[\"sources\"] if s[\"source\"] == \"graph\"][0]
assert \"diagnose.timeout\" in g[\"error\"], g
assert j[\"category\"], j"
'

test_expect_success 'a graph service that cannot be read is one failed line, the rest kept' '
	python3 -c "import json, sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + \"/_fake/fail\",
    data=json.dumps({\"method\": \"GET\", \"path\": \"^/api/v1/namespaces/stock/\",
                     \"status\": 403, \"times\": 10}).encode(), method=\"POST\"), timeout=5).read()" \
		"$KUBE_CONTROL" &&
	SRE_NOW=$NOW sre -c service.inventory.namespace=stock diagnose --save-evidence forbidden 1 >out &&
	python3 -c "import json
s = [x for x in json.load(open(\"forbidden/sources.json\")) if x[\"source\"] == \"graph\"][0]
assert s[\"status\"] == \"failed\", s
assert s[\"error\"].startswith(\"graph: inventory: kubernetes: \"), s
assert \"403\" in s[\"error\"] and \"\\n\" not in s[\"error\"], s" &&
	test_grep "pricing incident line" forbidden/logs/pricing/$PRICING_POD.log &&
	! test -e forbidden/logs/inventory &&
	test_grep ! "$KUBE_TOKEN" forbidden/sources.json out
'

test_expect_success 'diagnose.baseline=0 reads no baseline' '
	traces_before=$(fake_count_in "$JAEGER_LOG" GET "^/api/traces") &&
	SRE_NOW=$NOW sre -c diagnose.baseline=0 diagnose --save-evidence nobase 1 >out &&
	! test -e nobase/baseline &&
	test "$(source_status nobase/sources.json baseline)" = none &&
	test $(fake_count_in "$JAEGER_LOG" GET "^/api/traces") = $((traces_before + 1)) &&
	test -f nobase/logs/pricing/$PRICING_POD.log
'

test_expect_success 'diagnose.graph-services=0 reads no other service' '
	SRE_NOW=$NOW sre -c diagnose.graph-services=0 diagnose --save-evidence nograph 1 >out &&
	! test -e nograph/logs/pricing &&
	test "$(source_status nograph/sources.json graph)" = none &&
	test_must_fail sre -c diagnose.graph-services=-1 diagnose 1 2>err &&
	test_grep "diagnose.graph-services" err &&
	test_must_fail sre -c diagnose.baseline=60d diagnose 1 2>err &&
	test_grep "diagnose.baseline is not within 0 (none) and 30d" err &&
	test_must_fail sre -c diagnose.baseline=soon diagnose 1 2>err &&
	test_grep "diagnose.baseline" err
'

test_expect_success 'Docker: a graph service container logs, and its baseline between since and until' '
	SRE_NOW=$NOW sre -c docker.host="unix://$SOCK" diagnose --save-evidence withdocker 1 >out &&
	test_grep "pricing docker incident" withdocker/logs/pricing/shop-pricing-1.log &&
	test_grep "pricing docker baseline" withdocker/baseline/logs/pricing/shop-pricing-1.log &&
	test_grep ! "pricing docker incident" withdocker/baseline/logs/pricing/shop-pricing-1.log &&
	grep -F "since=$((T0_S - 3600))&until=$T0_S" "$DOCKER_LOG" &&
	test "$(source_status withdocker/sources.json graph)" = ok &&
	test "$(source_status withdocker/sources.json baseline)" = ok
'

kill "$JAEGER_PID" "$PROM_PID" "$KUBE_PID" "$DOCKER_PID" 2>/dev/null
wait "$JAEGER_PID" "$PROM_PID" "$KUBE_PID" "$DOCKER_PID" 2>/dev/null
test_done
