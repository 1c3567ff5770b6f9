#!/bin/sh
test_description='secrets stay home: planted secrets and sre'"'"'s own tokens reach neither
the tracker, Slack nor an evidence bundle; credentials only over https or to
loopback; no core dump of sre; a closed pipe is a write error'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the fakes"
fi
need_command openssl "no openssl for the fake Kubernetes's certificate"

# The credentials sre holds, and the secrets planted where it reads.
TOKEN=ghp_secrets0123456789tokenXY
KUBE_TOKEN=kube-secrets-0123456789
HOOK_SECRET=hooksecret9876543210
GITHUB_TOKEN=$TOKEN; export GITHUB_TOKEN
LOG_PASSWORD=LogPassw0rdPlanted
LOG_JWT=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2lnbmF0dXJlcGxhbnRlZA
LOG_AWS=AKIAPLANTED012345678
POD_SECRET=PodEnvSecretPlanted42
CONTAINER_SECRET=ContainerEnvSecret77
COMMIT_SECRET=CommitApiKeyPlanted11
TITLE_SECRET=TitleUserinfoPlanted5

start_fake github --token "$TOKEN" || { echo "Bail out! the fake GitHub did not start"; exit 1; }
GITHUB_URL=$FAKE_URL GITHUB_LOG=$FAKE_LOG GITHUB_PID=$FAKE_PID
start_fake slack || { echo "Bail out! the fake Slack did not start"; exit 1; }
SLACK_URL=$FAKE_URL SLACK_LOG=$FAKE_LOG SLACK_PID=$FAKE_PID
SLACK_WEBHOOK_URL="$SLACK_URL/services/T0001/B0001/$HOOK_SECRET"; export SLACK_WEBHOOK_URL

cat >cluster.json <<EOT
{"shop": {
 "pods": [{"name": "checkout-7d9f8b6c5d-x2x4p", "labels": {"app": "checkout"},
   "owner": "ReplicaSet/checkout-7d9f8b6c5d",
   "containers": [{"name": "app", "image": "shop/checkout:1.4",
     "env": [{"name": "DB_PASSWORD", "value": "$POD_SECRET"},
             {"name": "PLAIN", "value": "$CONTAINER_SECRET"},
             {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}],
     "log": "started\\npassword=$LOG_PASSWORD\\n"}]}],
 "deployments": [{"name": "checkout", "replicas": 1,
   "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\\"env\\": \\"$POD_SECRET\\"}"},
   "containers": [{"name": "app", "image": "shop/checkout:1.4",
     "env": [{"name": "DB_PASSWORD", "value": "$POD_SECRET"}]}]}]}}
EOT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-keyout server.key -out server.crt -subj /CN=kube-apiserver \
	-addext subjectAltName=IP:127.0.0.1 >openssl.out 2>&1 || { cat openssl.out; exit 1; }
start_fake kubernetes --cert server.crt --key server.key --token "$KUBE_TOKEN" \
	--data cluster.json || { echo "Bail out! the fake Kubernetes did not start"; exit 1; }
KUBE_URL=https${FAKE_URL#http} KUBE_PID=$FAKE_PID

# The bodies sent to a fake (its request log holds the headers too, where
# the token rightly is), one a line.
bodies() {
	python3 -c 'import json, sys
for line in open(sys.argv[1]):
    print(json.loads(line).get("body") or "")' "$1"
}

# What left the host or went to disk: the bodies sent, the bundle.
outgoing() {
	bodies "$GITHUB_LOG" >sent-github &&
	bodies "$SLACK_LOG" >sent-slack &&
	cat sent-github sent-slack &&
	find bundle -type f -exec cat {} +
}

test_expect_success 'setup: a service with a log, pods, a repository, a tracker and Slack' '
	mkdir -p run "$XDG_CONFIG_HOME/sre" &&
	printf "%s\n" "listening on :8080" \
		"connecting to db with password=$LOG_PASSWORD" \
		"upstream call Authorization: Bearer $LOG_JWT" \
		"using key $LOG_AWS" \
		"leaked the tracker token $TOKEN by mistake" \
		"fatal: cannot open /var/lib/checkout/cart.db" >run/checkout.log &&
	git init -q repo &&
	mkdir -p repo/services/checkout &&
	echo "rates: 1" >repo/services/checkout/config.yaml &&
	git -C repo add . &&
	git -C repo -c user.name=Dana -c user.email=dana@example.com \
		commit -q -m "checkout: set api_key=$COMMIT_SECRET for the rates service" &&
	write_kubeconfig "$KUBE_URL" "$PWD/server.crt" "$KUBE_TOKEN" >kubeconfig &&
	cat >"$XDG_CONFIG_HOME/sre/config" <<-EOT
	[service "checkout"]
		log = $PWD/run/checkout.log
		namespace = shop
		paths = services/checkout
	[kubernetes]
		kubeconfig = $PWD/kubeconfig
		namespace = shop
	[core]
		repo = $PWD/repo
	[tracker]
		kind = github
	[github]
		api = $GITHUB_URL
		repo = acme/shop
	[http]
		retry-base = 10ms
		retries = 1
	EOT
'

test_expect_success 'an incident whose title carries a password: the ticket and Slack get it masked' '
	sre incident open -s checkout --severity high \
		-t "checkout cannot reach https://admin:$TITLE_SECRET@db.internal/cart" >id &&
	bodies "$GITHUB_LOG" >sent-github &&
	test_grep "https://‹redacted:userinfo›@db.internal/cart" sent-github &&
	test_grep ! "$TITLE_SECRET" sent-github &&
	bodies "$SLACK_LOG" >sent-slack &&
	test_grep "Incident 1 opened" sent-slack &&
	test_grep "redacted:userinfo" sent-slack &&
	test_grep ! "$TITLE_SECRET" sent-slack
'

test_expect_success 'diagnosing reads the planted secrets: the bundle has none of them' '
	sre diagnose --save-evidence bundle "$(cat id)" >out 2>err &&
	test -f bundle/logs/checkout.log &&
	test -f bundle/kubernetes-pods.json &&
	test -f bundle/kubernetes-deployments.json &&
	test -f bundle/git-log.json &&
	test_grep "password=‹redacted:password›" bundle/logs/checkout.log &&
	test_grep "Authorization: ‹redacted:authorization›" bundle/logs/checkout.log &&
	test_grep "‹redacted:aws-key›" bundle/logs/checkout.log &&
	test_grep "the tracker token ‹redacted:credential› by mistake" bundle/logs/checkout.log &&
	test_grep "fatal: cannot open /var/lib/checkout/cart.db" bundle/logs/checkout.log &&
	test_grep "api_key=‹redacted:api-key› for the rates service" bundle/git-log.json &&
	test_grep "\"DB_PASSWORD\"" bundle/kubernetes-pods.json &&
	test_grep "\"value\":[[:space:]]*\"‹redacted:env›\"" bundle/kubernetes-pods.json &&
	test_grep "secretKeyRef" bundle/kubernetes-pods.json &&
	test_grep "‹redacted:env›" bundle/kubernetes-deployments.json &&
	for s in "$LOG_PASSWORD" "$LOG_JWT" "$LOG_AWS" "$POD_SECRET" "$CONTAINER_SECRET" \
		 "$COMMIT_SECRET" "$TITLE_SECRET" "$TOKEN" "$KUBE_TOKEN" "$HOOK_SECRET"
	do
		test_grep ! -r -- "$s" bundle || return 1
	done
'

test_expect_success 'the evidence read live was redacted too: the pod log and the diagnosis' '
	ls bundle/logs >logs &&
	test_grep "checkout-7d9f8b6c5d-x2x4p" logs &&
	cat bundle/logs/checkout-7d9f8b6c5d-x2x4p*.log >podlog &&
	test_grep "password=‹redacted:password›" podlog &&
	test_grep ! -- "$LOG_PASSWORD" out err
'

test_expect_success 'nothing planted and no credential of sre reached the tracker, Slack or the bundle' '
	sre sync &&
	outgoing >all &&
	test -s sent-github &&
	test -s sent-slack &&
	for s in "$LOG_PASSWORD" "$LOG_JWT" "$LOG_AWS" "$POD_SECRET" "$CONTAINER_SECRET" \
		 "$COMMIT_SECRET" "$TITLE_SECRET" "$TOKEN" "$KUBE_TOKEN" "$HOOK_SECRET"
	do
		test_grep ! -- "$s" all || return 1
	done
'

test_expect_success 'a comment that quotes a secret goes out masked' '
	sre incident comment "$(cat id)" "tried curl -H \"Authorization: Bearer $LOG_JWT\" and password: $LOG_PASSWORD" &&
	bodies "$GITHUB_LOG" >sent-github &&
	test_grep "tried curl" sent-github &&
	test_grep ! -- "$LOG_JWT" sent-github &&
	test_grep ! -- "$LOG_PASSWORD" sent-github
'

test_expect_success 'a credential to a plain http URL off this host is refused before connecting' '
	start=$(date +%s) &&
	test_must_fail sre -c github.api=http://192.0.2.1:9 -c http.connect-timeout=30s \
		-c http.retries=0 incident comment "$(cat id)" "over plain http" 2>err &&
	end=$(date +%s) &&
	test_grep "refusing to send a credential to http://192.0.2.1 without TLS: https is required" err &&
	test $((end - start)) -lt 10 &&
	test_grep ! -- "$TOKEN" err
'

test_expect_success 'so is a Slack webhook, whose URL is the credential (kept queued)' '
	start=$(date +%s) &&
	SLACK_WEBHOOK_URL="http://192.0.2.1:9/services/T/B/$HOOK_SECRET" \
		sre -c http.connect-timeout=30s -c http.retries=0 -c tracker.kind=local \
		incident open -s api -t "api down" 2>err &&
	end=$(date +%s) &&
	test_grep "slack: posting a notification: refusing to send a credential to http://192.0.2.1 without TLS: https is required" err &&
	test_grep "kept queued" err &&
	test $((end - start)) -lt 10 &&
	test_grep ! -- "$HOOK_SECRET" err
'

test_expect_success 'plain http to loopback is fine (every fake here), by name too' '
	sre -c "github.api=http://localhost:${GITHUB_URL##*:}" incident comment "$(cat id)" "over loopback" &&
	bodies "$GITHUB_LOG" | test_grep "over loopback"
'

test_expect_success 'no core file while sre holds a token; its children get their limit back' '
	{ ulimit -c 4096 2>/dev/null || :; } &&
	sh -c "grep \"Max core file size\" /proc/self/limits" >shell-core &&
	cat >token-command.sh <<-\EOT &&
	#!/bin/sh
	grep "Max core file size" /proc/$PPID/limits >parent-core
	grep "Max core file size" /proc/self/limits >child-core
	echo "$TOKEN_FOR_TEST"
	EOT
	chmod +x token-command.sh &&
	# (ASan sets the core limit to 0 itself unless told not to.)
	TOKEN_FOR_TEST=$TOKEN ASAN_OPTIONS="$ASAN_OPTIONS:disable_coredump=0" env -u GITHUB_TOKEN \
		sre -c github.token-command="$PWD/token-command.sh" incident comment "$(cat id)" "x" &&
	awk "{ exit !(\$5 == 0) }" parent-core &&
	test_cmp shell-core child-core
'

test_expect_success 'a reader that went away is a write error, not a death by SIGPIPE' '
	python3 -c "
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run([\"sre\", \"incident\", \"list\"], stdout=w, stderr=subprocess.PIPE)
sys.stderr.write(p.stderr.decode())
sys.exit(0 if p.returncode == 128 else 1)
" 2>err &&
	test_grep "write failure on standard output: Broken pipe" err &&
	sre incident list | head -n 1 >first &&
	test -s first
'

# A password written into a URL of the configuration: scout's finding
# quotes the check's URL, diagnose's sources their errors, doctor its rows.
test_expect_success 'a password in a configured URL reaches no output, error, store or evidence' '
	cat >userinfo.config <<-\EOT &&
	[check "web"]
		url = http://bob:hunter2@127.0.0.1:9/health
	[prometheus]
		url = http://bob:hunter2@127.0.0.1:9/
	[jaeger]
		url = http://bob:hunter2@127.0.0.1:9/
	[alertmanager]
		url = http://bob:hunter2@127.0.0.1:9/
	EOT
	mkdir -p userinfo &&
	db="$PWD/userinfo.db" &&
	mkdir -p uhome &&
	# A HOME of its own: the global config of the tests above names a tracker.
	run_userinfo() {
		env HOME="$PWD/uhome" XDG_CONFIG_HOME="$PWD/uhome/.config" \
			SRE_CONFIG="$PWD/userinfo.config" \
			sre -C userinfo --db "$db" "$@" >>uout 2>>uerr
	} &&
	run_userinfo scout &&
	run_userinfo scout --json &&
	test_grep "‹redacted:userinfo›" uout &&
	{ run_userinfo diagnose --json --save-evidence "$PWD/ubundle" 1; test $? -le 1; } &&
	{ run_userinfo doctor; test $? = 1; } &&
	run_userinfo incident show 1 &&
	test_grep "‹redacted:userinfo›" uerr &&
	test_grep ! hunter2 uout uerr &&
	test -d ubundle &&
	test_must_fail grep -r hunter2 ubundle &&
	sqlite3 "$db" "SELECT count(*) FROM events WHERE body LIKE '\''%hunter2%'\''" >count &&
	echo 0 >expect &&
	test_cmp expect count
'

kill "$KUBE_PID" "$SLACK_PID" "$GITHUB_PID" 2>/dev/null
wait "$KUBE_PID" "$SLACK_PID" "$GITHUB_PID" 2>/dev/null
test_done
