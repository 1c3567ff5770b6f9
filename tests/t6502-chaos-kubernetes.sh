#!/bin/sh
test_description='sre chaos on Kubernetes (the fake API): scale to zero, a bad image, a memory limit, each undone from the object as it was'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

need_command openssl "for the fake Kubernetes API server's certificate"
KUBE_TOKEN=kube-chaos-0123456789

cat >cluster.json <<EOT
{"shop": {"deployments": [
   {"name": "cart", "replicas": 3,
    "containers": [{"name": "app", "image": "shop/cart:2.1", "limits": {"memory": "256Mi"}},
                   {"name": "sidecar", "image": "envoy:1.29"}]},
   {"name": "pay", "replicas": 2, "containers": [{"name": "app", "image": "shop/pay:1.0"}]}],
  "pods": [
   {"name": "cart-5d8f7c9b6-a1b2c", "labels": {"app": "cart"}, "owner": "ReplicaSet/cart-5d8f7c9b6",
    "containers": [{"name": "app", "image": "shop/cart:2.1"}]},
   {"name": "pay-6c7d8e9f0-z9y8x", "labels": {"app": "pay"}, "owner": "ReplicaSet/pay-6c7d8e9f0",
    "containers": [{"name": "app", "image": "shop/pay:1.0"}]}]}}
EOT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-keyout server.key -out server.crt -subj /CN=kube-apiserver \
	-addext subjectAltName=IP:127.0.0.1 >openssl.out 2>&1 || { cat openssl.out; exit 1; }
start_fake kubernetes --cert server.crt --key server.key --token "$KUBE_TOKEN" \
	--data cluster.json || { echo "Bail out! the fake Kubernetes did not start"; exit 1; }
KUBE_URL=https${FAKE_URL#http}

# deployment NAME PATH: a value of the Deployment as the fake serves it now (a python expression on d).
deployment() {
	python3 - "$FAKE_URL" "$1" "$2" <<-\EOT
	import json, sys, urllib.request
	state = json.load(urllib.request.urlopen(sys.argv[1] + "/_fake/state", timeout=5))
	d = [x for x in state["shop"]["deployments"] if x["name"] == sys.argv[2]][0]
	c = {x["name"]: x for x in (d.get("template") or {}).get("spec", {}).get("containers") or d["containers"]}
	print(eval(sys.argv[3]))
	EOT
}

test_expect_success 'setup: the cluster, cart inside chaos.allow, pay outside' '
	write_kubeconfig "$KUBE_URL" "$PWD/server.crt" "$KUBE_TOKEN" >kubeconfig &&
	mkdir -p .sre &&
	cat >.sre/config <<-EOT &&
	[kubernetes]
		kubeconfig = $PWD/kubeconfig
		namespace = shop
	[service "cart"]
		runtime = kubernetes
	[service "pay"]
		runtime = kubernetes
	[chaos]
		allow = cart
	EOT
	test "$(deployment cart "d[\"replicas\"]")" = 3 &&
	sre chaos inject --dry-run --target cart kubernetes-scale-zero >out &&
	test_grep "would inject kubernetes-scale-zero into cart" out &&
	test_grep "\"replicas_from\":3" out &&
	test "$(deployment cart "d[\"replicas\"]")" = 3
'

test_expect_success 'outside chaos.allow: refused, and nothing is asked of the API' '
	n=$(wc -l <"$FAKE_LOG") &&
	test_expect_code 1 sre chaos inject --target pay kubernetes-scale-zero 2>err &&
	test_grep "pay is outside chaos.allow" err &&
	test "$(wc -l <"$FAKE_LOG")" = "$n"
'

test_expect_success 'scale to zero, then back to the 3 replicas it had' '
	sre chaos inject --target cart kubernetes-scale-zero >out &&
	test_grep "deployment shop/cart scaled to 0 replicas" out &&
	test "$(deployment cart "d[\"replicas\"]")" = 0 &&
	sre chaos rollback >out &&
	test_grep "deployment shop/cart scaled to 3 replicas" out &&
	test "$(deployment cart "d[\"replicas\"]")" = 3
'

test_expect_success 'a bad image on the first container, its own image put back' '
	sre chaos inject --target cart kubernetes-bad-image >out &&
	test_grep "container app: image shop/cart:sre-chaos-no-such-tag" out &&
	test "$(deployment cart "c[\"app\"][\"image\"]")" = shop/cart:sre-chaos-no-such-tag &&
	test "$(deployment cart "c[\"sidecar\"][\"image\"]")" = envoy:1.29 &&
	sre chaos rollback >out &&
	test "$(deployment cart "c[\"app\"][\"image\"]")" = shop/cart:2.1
'

test_expect_success 'a memory limit on a named container; one it lacked is removed again' '
	sre chaos inject --target cart kubernetes-memory container=sidecar memory=16Mi >out &&
	test_grep "container sidecar: memory limit 16Mi" out &&
	test "$(deployment cart "c[\"sidecar\"][\"resources\"][\"limits\"][\"memory\"]")" = 16Mi &&
	test "$(deployment cart "c[\"app\"][\"resources\"][\"limits\"][\"memory\"]")" = 256Mi &&
	sre chaos rollback >out &&
	test_grep "container sidecar: memory limit removed" out &&
	test "$(deployment cart "c[\"sidecar\"].get(\"resources\", {}).get(\"limits\", {}).get(\"memory\")")" = None
'

# pods: the fake's pod names, one a line.
pods() {
	python3 - "$FAKE_URL" <<-\EOT
	import json, sys, urllib.request
	state = json.load(urllib.request.urlopen(sys.argv[1] + "/_fake/state", timeout=5))
	print("\n".join(sorted(p["name"] for p in state["shop"]["pods"])))
	EOT
}

test_expect_success 'delete a pod of the Deployment; its ReplicaSet makes another, which the rollback checks' '
	sre chaos inject --target cart kubernetes-delete-pod >out &&
	test_grep "pod shop/cart-5d8f7c9b6-a1b2c of deployment shop/cart deleted" out &&
	pods >now &&
	test_grep ! "^cart-5d8f7c9b6-a1b2c$" now &&
	test_grep "^cart-5d8f7c9b6-" now &&
	test_grep "^pay-6c7d8e9f0-z9y8x$" now &&
	sre chaos rollback >out &&
	test_grep "kubernetes-delete-pod on cart undone: deployment shop/cart: its ReplicaSet replaces pod cart-5d8f7c9b6-a1b2c" out
'

test_expect_success 'hostile arguments are refused before any request' '
	n=$(wc -l <"$FAKE_LOG") &&
	test_expect_code 1 sre chaos inject --target cart kubernetes-bad-image "image=x y; rm -rf /" 2>err &&
	test_grep "the image is no image reference" err &&
	test_expect_code 1 sre chaos inject --target cart kubernetes-memory memory=16MB 2>err &&
	test_grep "memory is a quantity" err &&
	test_expect_code 1 sre chaos inject --target cart kubernetes-memory container=ghost memory=16Mi 2>err &&
	test_grep "has no container ghost" err &&
	test "$(deployment cart "c[\"app\"][\"image\"]")" = shop/cart:2.1
'

test_expect_success 'the API down during the undo: kept in place, undone once it answers' '
	sre chaos inject --target cart kubernetes-scale-zero >out &&
	fake_fail "{\"method\": \"PATCH\", \"path\": \"/scale$\", \"status\": 503, \"times\": 1}" &&
	test_expect_code 128 sre -c http.retries=0 chaos rollback >out 2>&1 &&
	test_grep "NOT undone" out &&
	test "$(deployment cart "d[\"replicas\"]")" = 0 &&
	sre chaos rollback >out &&
	test_grep "scaled to 3 replicas" out &&
	test "$(deployment cart "d[\"replicas\"]")" = 3
'

stop_fake
test_done
