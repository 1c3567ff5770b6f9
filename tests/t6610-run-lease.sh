#!/bin/sh
test_description='sre run on a fleet: only the holder of the Kubernetes Lease acts; another takes over when it dies'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"
. "$TEST_DIRECTORY/lib-service.sh"

need_command openssl "for the fake Kubernetes API server's certificate"
if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the fake Kubernetes API"
fi
KUBE_TOKEN=kube-lease-0123456789

echo '{"ops": {"deployments": [], "pods": []}}' >cluster.json
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-keyout server.key -out server.crt -subj /CN=kube-apiserver \
	-addext subjectAltName=IP:127.0.0.1 >openssl.out 2>&1 || { cat openssl.out; exit 1; }
start_fake kubernetes --cert server.crt --key server.key --token "$KUBE_TOKEN" \
	--data cluster.json || { echo "Bail out! the fake Kubernetes did not start"; exit 1; }
KUBE_URL=https${FAKE_URL#http}
write_kubeconfig "$KUBE_URL" "$PWD/server.crt" "$KUBE_TOKEN" >kubeconfig

# The service both runners watch: a process (tests/lib-service.sh).
mkdir -p .sre
make_service api || exit 1
cat >>"$XDG_CONFIG_HOME/sre/config" <<EOT
[kubernetes]
	kubeconfig = $PWD/kubeconfig
	namespace = ops
[fix]
	auto = restart
	verify-interval = 100ms
	verify-timeout = 10s
	min-confidence = 0.5
[remember]
	hold-window = 0
[run]
	lease = kubernetes
	lease-name = sre-ops
	lease-duration = 5s
	lease-renew-deadline = 3s
	lease-retry-period = 500ms
EOT

kill_api() {
	{ service_alive api || bin/start-api; } &&
	kill_service api
}

# The Lease as the fake API holds it: a python expression over it (l).
lease() {
	python3 - "$FAKE_URL" "$1" <<-\EOT
	import json, sys, urllib.request
	leases = json.load(urllib.request.urlopen(sys.argv[1] + "/_fake/leases", timeout=5))
	l = leases["ops/sre-ops"]
	print(eval(sys.argv[2]))
	EOT
}

test_expect_success 'the first runner takes the Lease and acts; the second stands by, naming the holder' '
	bin/start-api &&
	{ sre --db "$PWD/a.db" run --watch --interval 300ms >a.out 2>a.err & } &&
	echo $! >a.pid &&
	wait_for_line a.out "this runner holds the Lease ops/sre-ops and acts" &&
	{ sre --db "$PWD/b.db" run --watch --interval 300ms >b.out 2>b.err & } &&
	echo $! >b.pid &&
	wait_for_line b.out "standby: .*-$(cat a.pid) holds the Lease ops/sre-ops; this runner scouts and reports" &&
	test "$(lease "l[\"spec\"][\"holderIdentity\"]")" = "$(hostname)-$(cat a.pid)" &&
	test "$(lease "l[\"spec\"][\"leaseDurationSeconds\"]")" = 5 &&
	test "$(lease "l[\"spec\"][\"leaseTransitions\"]")" = 0
'

test_expect_success 'a dead service: the holder heals it once; the other does not act' '
	: >run/api.ops &&
	kill_api &&
	wait_for_line a.out "resolved: api is running" &&
	# (The other may see it dead, and say what it would do, or not: the holder is quick.)
	sleep 1 &&
	test "$(starts api)" = 1 &&
	service_alive api &&
	test_grep ! "restart of api" b.out &&
	test_grep ! "opened" b.out &&
	test "$(sre --db "$PWD/b.db" incident list --all --json)" = "[]"
'

test_expect_success 'the holder dies (kill -9): the other takes the Lease after its duration, and acts' '
	kill -9 "$(cat a.pid)" &&
	wait_for_line b.out "this runner holds the Lease ops/sre-ops and acts" &&
	test "$(lease "l[\"spec\"][\"holderIdentity\"]")" = "$(hostname)-$(cat b.pid)" &&
	test "$(lease "l[\"spec\"][\"leaseTransitions\"]")" = 1 &&
	: >run/api.ops &&
	kill_api &&
	wait_for_line b.out "resolved: api is running" &&
	test "$(starts api)" = 1 &&
	service_alive api
'

test_expect_success 'a holder cut off from the API stops acting before the Lease could lapse: it only says what it would do' '
	fake_post() {
		python3 -c "import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), headers={\"Content-Type\": \"application/json\"}, method=\"POST\")
urllib.request.urlopen(req, timeout=5).read()" "$@"
	} &&
	fake_post "$FAKE_URL/_fake/lease-fail" "{\"times\": 1000, \"status\": 500}" &&
	wait_for_line b.out "the Lease ops/sre-ops cannot be taken or renewed" &&
	# Past the renew deadline (3s) since the last renewal: no more acting.
	sleep 3.5 &&
	: >run/api.ops &&
	kill_api &&
	wait_for_line b.out "would open an incident: api is not running" &&
	sleep 1 &&
	test "$(starts api)" = 0 &&
	fake_post "$FAKE_URL/_fake/lease-fail" "{\"times\": 0, \"status\": 500}" &&
	wait_for_count b.out "resolved: api is running" 2 &&
	test "$(starts api)" = 1
'

test_expect_success 'SIGTERM: the holder stops and gives the Lease up' '
	kill -TERM "$(cat b.pid)" &&
	i=0 &&
	while test -e /proc/$(cat b.pid)/stat && ! grep -q "^[0-9]* (.*) Z " /proc/$(cat b.pid)/stat; do
		i=$((i + 1)) && test $i -lt 300 && sleep 0.1 || return 1
	done &&
	test "$(lease "l[\"spec\"][\"holderIdentity\"]")" = "" &&
	test "$(lease "l[\"spec\"][\"leaseDurationSeconds\"]")" = 1
'

kill "$(cat run/api.pid)" 2>/dev/null
kill -9 "$(cat a.pid)" "$(cat b.pid)" 2>/dev/null
stop_fake
test_done
