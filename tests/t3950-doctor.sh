#!/bin/sh
test_description='sre doctor: every configured source asked at once against the fakes; a broken one says why and exits 1'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the fakes"
fi
need_command openssl "for the fake Kubernetes API server's certificate"

TOKEN=ghp_doctor0123456789secret
PROM_TOKEN=prom-doctor-0123456789
KUBE_TOKEN=kube-doctor-0123456789
HOOK_SECRET=hookdoctor9876543210

start_fake github --token "$TOKEN" || { echo "Bail out! the fake GitHub did not start"; exit 1; }
GITHUB_URL=$FAKE_URL GITHUB_PID=$FAKE_PID
start_fake slack || { echo "Bail out! the fake Slack did not start"; exit 1; }
SLACK_URL=$FAKE_URL SLACK_PID=$FAKE_PID
start_fake prometheus --bearer-token "$PROM_TOKEN" || { echo "Bail out! the fake Prometheus did not start"; exit 1; }
PROM_URL=$FAKE_URL PROM_PID=$FAKE_PID
start_fake jaeger || { echo "Bail out! the fake Jaeger did not start"; exit 1; }
JAEGER_URL=$FAKE_URL JAEGER_PID=$FAKE_PID
JIRA_TOKEN=atl_doctor0123456789secret
start_fake jira --user bot@example.com --token "$JIRA_TOKEN" --project OPS ||
	{ echo "Bail out! the fake JIRA did not start"; exit 1; }
JIRA_URL=$FAKE_URL JIRA_PID=$FAKE_PID
SOCK="$TRASH_DIRECTORY/docker.sock"
echo '[{"name": "cart", "image": "shop/cart:2.0"}]' >containers.json
start_fake docker --socket "$SOCK" --data containers.json || { echo "Bail out! no fake Docker"; exit 1; }
DOCKER_PID=$FAKE_PID
echo '{"shop": {"pods": [], "deployments": []}}' >cluster.json
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-keyout server.key -out server.crt -subj /CN=kube-apiserver \
	-addext subjectAltName=IP:127.0.0.1 >openssl.out 2>&1 || { cat openssl.out; exit 1; }
start_fake kubernetes --cert server.crt --key server.key --token "$KUBE_TOKEN" \
	--data cluster.json || { echo "Bail out! the fake Kubernetes did not start"; exit 1; }
KUBE_URL=https${FAKE_URL#http} KUBE_PID=$FAKE_PID

GITHUB_TOKEN=$TOKEN; export GITHUB_TOKEN
PROMETHEUS_TOKEN=$PROM_TOKEN; export PROMETHEUS_TOKEN
SLACK_WEBHOOK_URL="$SLACK_URL/services/T0001/B0001/$HOOK_SECRET"; export SLACK_WEBHOOK_URL

# The status of source $2 in the JSON report $1.
status_of() {
	python3 -c 'import json, sys
print([s["status"] for s in json.load(open(sys.argv[1]))["sources"] if s["name"] == sys.argv[2]][0])' "$@"
}

# No secret of the test in what doctor printed.
no_secret() {
	for s in "$TOKEN" "$PROM_TOKEN" "$KUBE_TOKEN" "$HOOK_SECRET" "$JIRA_TOKEN"; do
		! grep -F "$s" "$@" || return 1
	done
}

test_expect_success 'nothing configured: every source says so, with the lines that add it; exit 0' '
	sre doctor >out &&
	test_grep "^tracker  *not configured" out &&
	test_grep "^prometheus  *not configured" out &&
	test_grep "^  \[jaeger\]$" out &&
	printf "  \turl = http://localhost:16686\n" >expect &&
	grep -F -x "$(cat expect)" out &&
	test_grep "^store  *ok" out
'

test_expect_success 'setup: every source configured, pointing at the fakes' '
	git init -q repo &&
	git -C repo -c user.name=Dana -c user.email=dana@example.com commit -q --allow-empty -m first &&
	write_kubeconfig "$KUBE_URL" "$PWD/server.crt" "$KUBE_TOKEN" >kubeconfig &&
	mkdir -p .sre &&
	cat >.sre/config <<-EOT
	[tracker]
		kind = github
	[github]
		api = $GITHUB_URL
		repo = acme/shop
	[prometheus]
		url = $PROM_URL
	[scout]
		alerts = true
	[jaeger]
		url = $JAEGER_URL
	[kubernetes]
		kubeconfig = $PWD/kubeconfig
		namespace = shop
	[docker]
		host = unix://$SOCK
	[core]
		repo = $PWD/repo
	[check "web"]
		url = $JAEGER_URL/api/services
	[check "errors"]
		prometheus = rate(errors_total[5m])
		above = 1
	[http]
		retry-base = 10ms
	EOT
'

test_expect_success 'all fine: every row ok, exit 0, no secret shown' '
	sre doctor >out 2>err &&
	for s in store tracker slack prometheus alertmanager jaeger kubernetes docker core.repo "check web" "check errors"; do
		grep "^$s  *ok  " out || { echo "not ok: $s"; cat out; return 1; }
	done &&
	test_grep "signed in as sre-bot" out &&
	test_grep "the webhook is live" out &&
	sre doctor --json >out.json &&
	test "$(field out.json broken)" = 0 &&
	python3 -c "import json
j = json.load(open(\"out.json\"))
for s in j[\"sources\"]:
    assert s[\"status\"] == \"ok\", s
    assert s[\"name\"] == \"store\" or isinstance(s[\"latency_ms\"], (int, float)), s
" &&
	no_secret out out.json err
'

test_expect_success 'a bad token: the tracker row says 401, exit 1' '
	test_expect_code 1 env GITHUB_TOKEN=ghp_wrong0123456789 sre doctor >out 2>err &&
	test_grep "^tracker  *broken .*401" out &&
	test_grep "^jaeger  *ok" out &&
	no_secret out err &&
	! grep -F ghp_wrong0123456789 out err
'

test_expect_success 'JIRA as the tracker: signed in with the right token, 401 with a wrong one' '
	jira="-c tracker.kind=jira -c jira.url=$JIRA_URL -c jira.project=OPS -c jira.user=bot@example.com" &&
	ATLASSIAN_TOKEN=$JIRA_TOKEN sre $jira doctor >out &&
	test_grep "^tracker  *ok .*jira at $JIRA_URL: signed in as" out &&
	test_expect_code 1 env ATLASSIAN_TOKEN=atl_wrong0123456789 sre $jira doctor >out &&
	test_grep "^tracker  *broken .*401" out &&
	no_secret out &&
	! grep -F atl_wrong0123456789 out
'

test_expect_success 'a wrong port: the row says the connection failed, exit 1' '
	port=$(closed_port) &&
	test_expect_code 1 sre -c jaeger.url=http://127.0.0.1:$port doctor --json >out.json &&
	test "$(status_of out.json jaeger)" = broken &&
	test "$(field out.json broken)" = 1 &&
	python3 -c "import json
s = [s for s in json.load(open(\"out.json\"))[\"sources\"] if s[\"name\"] == \"jaeger\"][0]
assert \"connect\" in s[\"detail\"].lower(), s
"
'

test_expect_success 'a revoked Slack webhook and a query Prometheus refuses are broken, and say why' '
	sed -i "s/rate(errors_total\[5m\])/rate(errors_total[5m]) syntax error/" .sre/config &&
	test_expect_code 1 env SLACK_WEBHOOK_URL=$SLACK_URL/revoked/$HOOK_SECRET sre doctor >out &&
	test_grep "^slack  *broken .*404 no_service" out &&
	test_grep "^check errors  *broken .*parse error" out &&
	no_secret out &&
	sed -i "s/ syntax error//" .sre/config
'

test_expect_success 'a bad Prometheus token and a Kubernetes token refused' '
	test_expect_code 1 env PROMETHEUS_TOKEN=wrong sre doctor >out &&
	test_grep "^prometheus  *broken .*401" out &&
	sed -i "s/token: $KUBE_TOKEN/token: not-the-token/" kubeconfig &&
	test_expect_code 1 sre doctor >out &&
	test_grep "^kubernetes  *broken .*401" out &&
	sed -i "s/token: not-the-token/token: $KUBE_TOKEN/" kubeconfig
'

test_expect_success 'a source that hangs is cut at the deadline; the others report' '
	python3 -c "import json, sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + \"/_fake/delay\",
    data=json.dumps({\"method\": \"GET\", \"path\": \"^/api/services\", \"seconds\": 30,
                     \"times\": 5}).encode(), method=\"POST\"), timeout=5).read()" "$JAEGER_URL" &&
	start=$(date +%s) &&
	test_expect_code 1 sre doctor --timeout 2s >out &&
	end=$(date +%s) &&
	test $((end - start)) -lt 10 &&
	test_grep "^jaeger  *broken .*no answer within the deadline" out &&
	test_grep "^docker  *ok" out
'

test_expect_success 'usage mistakes exit 129' '
	test_expect_code 129 sre doctor extra &&
	test_expect_code 129 sre doctor --timeout soon
'

kill "$GITHUB_PID" "$SLACK_PID" "$PROM_PID" "$JAEGER_PID" "$DOCKER_PID" "$KUBE_PID" "$JIRA_PID" 2>/dev/null
wait "$GITHUB_PID" "$SLACK_PID" "$PROM_PID" "$JAEGER_PID" "$DOCKER_PID" "$KUBE_PID" "$JIRA_PID" 2>/dev/null
test_done
