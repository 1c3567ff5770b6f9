#!/bin/sh
test_description='hostile servers: no answer, gzip bombs, page loops, huge Retry-After, wrong-type JSON'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

# A remote server is not trusted to answer, to answer little, to end its
# pages, to ask for a sane wait, or to answer JSON of the expected shape.
# Each test points sre at tests/fakes/hostile.py, which misbehaves in one
# way, and checks that sre stops with a clear error, in bounded time and
# memory, after a bounded number of requests: never a hang, a crash or a
# sanitizer report (exit 86 under SANITIZE=1).

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the hostile server"
fi

GITHUB_TOKEN=ghp_test0123456789secret; export GITHUB_TOKEN
ATLASSIAN_TOKEN=atl_test0123456789secret; export ATLASSIAN_TOKEN

# The user's own config (a directory's .sre/config may not choose servers).
CONFIG="$XDG_CONFIG_HOME/sre/config"
mkdir -p "$XDG_CONFIG_HOME/sre"

# hostile MODE ARGS...: (re)start the hostile server, a fresh request log.
# Called between tests, not in one: a test runs in a subshell, and
# stop_fake needs the server's pid.
hostile() {
	stop_fake
	rm -rf "$TRASH_DIRECTORY/fake-hostile"
	start_fake hostile --mode "$@" || { echo "Bail out! the hostile server did not start"; exit 1; }
}

github_config() {
	cat >"$CONFIG" <<-EOT
	[tracker]
		kind = github
	[github]
		api = $FAKE_URL
		repo = acme/shop
	[http]
		timeout = 1s
		connect-timeout = 1s
		retries = 1
		retry-base = 10ms
		max-retry-wait = 5s
	EOT
}

jira_config() {
	cat >"$CONFIG" <<-EOT
	[tracker]
		kind = jira
	[jira]
		url = $FAKE_URL
		project = OPS
		user = bot@example.com
	[http]
		timeout = 1s
		retries = 1
		retry-base = 10ms
	EOT
}

# run_bounded SECONDS CMD...: CMD's status in $rc; never a timeout (124),
# a signal (>128) or a sanitizer report (86).
run_bounded() {
	limit=$1
	shift
	rc=0
	timeout "$limit" "$@" >out 2>err || rc=$?
	if [ "$rc" = 124 ] || [ "$rc" = 86 ] || [ "$rc" -gt 128 ]; then
		echo "'$*' ended with $rc:" >&2
		cat err >&2
		return 1
	fi
	return 0
}

# ---- no answer ----

hostile hang
test_expect_success 'a server that accepts and never answers: cut off at http.timeout, named' '
	github_config &&
	start=$(date +%s) &&
	run_bounded 20 sre incident pull &&
	end=$(date +%s) &&
	test "$rc" = 128 &&
	test_grep "^error: github: searching issues: $FAKE_URL: .*[Tt]imed out" err &&
	test $((end - start)) -lt 10 &&
	test "$(grep -c CONNECT "$FAKE_LOG")" = 2
'

# ---- a gzip bomb ----

hostile gzip-bomb --size $((256 << 20))
test_expect_success 'a gzip bomb: the body is capped after decoding, memory stays bounded' '
	github_config &&
	printf "\tmax-body = 1m\n" >>"$CONFIG" &&
	run_bounded 20 sre incident pull &&
	test "$rc" = 128 &&
	test_grep "larger than http.max-body (1048576 bytes)" err &&
	test "$(fake_count GET /repos/acme/shop/issues)" = 1
'

test_expect_success 'with the default cap, decoding 256 MiB keeps sre well under it' '
	github_config &&
	python3 -c "import resource, subprocess, sys
r = subprocess.run([\"sre\", \"incident\", \"pull\"], capture_output=True, timeout=30)
assert r.returncode == 128, r
assert b\"larger than http.max-body (33554432 bytes)\" in r.stderr, r.stderr
kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(kb, \"KiB at most\")
# 32 MiB of body and what a strbuf doubles to, not 256 MiB.
assert kb < 200 * 1024, kb
"
'

# ---- endless pages ----

hostile link-cycle --pages 3 --path /repos/acme/shop/issues
test_expect_success 'a GitHub Link header that loops: an error, each page read once' '
	github_config &&
	run_bounded 20 sre incident pull &&
	test "$rc" = 128 &&
	test_grep "^error: github: searching issues: the next-page links loop back to a page already read" err &&
	# the first URL, then page 2, 3 and 1, whose next (2) was read
	test "$(fake_count GET /repos/acme/shop/issues)" = 4
'

hostile link-cycle --pages 1 --path /repos/acme/shop/issues
test_expect_success 'a Link header that names itself is the last page, not a loop' '
	github_config &&
	run_bounded 20 sre incident pull &&
	test "$rc" = 0 &&
	test "$(fake_count GET /repos/acme/shop/issues)" = 2
'

hostile token-cycle --pages 3
test_expect_success 'a JIRA nextPageToken that cycles: an error, each token sent once' '
	jira_config &&
	run_bounded 20 sre incident pull &&
	test "$rc" = 128 &&
	test_grep "^error: jira: searching issues: the next-page tokens loop back to a page already read" err &&
	# no token, then t1, t2 and t0, whose next (t1) was sent
	test "$(fake_count POST /rest/api/3/search/jql)" = 4
'

# ---- Retry-After ----

echo '{"message":"slow down"}' >"$TRASH_DIRECTORY/slow.json"

hostile status --status 429 --header "Retry-After: 99999999999999999999" \
	--header "Content-Type: application/json" --body-file "$TRASH_DIRECTORY/slow.json"
test_expect_success 'a 429 asking for 99999999999999999999 s: no sleep, no overflow, one request' '
	github_config &&
	run_bounded 10 sre incident pull &&
	test "$rc" = 128 &&
	test_grep "asks to wait a day or more, longer than http.max-retry-wait" err &&
	test "$(fake_count GET /repos/acme/shop/issues)" = 1
'

hostile status --status 503 --header "Retry-After: Fri, 31 Dec 9999 23:59:59 GMT" \
	--header "Content-Type: application/json" --body-file "$TRASH_DIRECTORY/slow.json"
test_expect_success 'a 503 with a Retry-After date in the year 9999: no sleep, one request' '
	github_config &&
	run_bounded 10 sre incident pull &&
	test "$rc" = 128 &&
	test_grep "asks to wait a day or more" err &&
	test "$(fake_count GET /repos/acme/shop/issues)" = 1
'

hostile status --status 503 --header "Retry-After: -99999999999999999999" \
	--header "Content-Type: application/json" --body-file "$TRASH_DIRECTORY/slow.json"
test_expect_success 'a negative Retry-After is ignored: the usual backoff, then give up' '
	github_config &&
	run_bounded 10 sre incident pull &&
	test "$rc" = 128 &&
	test_grep "HTTP 503 from .* after 2 attempts" err &&
	test "$(fake_count GET /repos/acme/shop/issues)" = 2
'

hostile status --status 403 --header "X-RateLimit-Remaining: 0" \
	--header "X-RateLimit-Reset: 9223372036854775807" \
	--header "Content-Type: application/json" --body-file "$TRASH_DIRECTORY/slow.json"
test_expect_success 'a rate-limit reset at the end of time: no sleep, one request' '
	github_config &&
	run_bounded 10 sre incident pull &&
	test "$rc" = 128 &&
	test_grep "asks to wait a day or more" err &&
	test "$(fake_count GET /repos/acme/shop/issues)" = 1
'

# ---- answers of the wrong shape ----

# Every answer below comes from one server: Docker's container list and
# Kubernetes' events from their own files, everything else from body.json.
B="$TRASH_DIRECTORY"
echo '[{"Id":"abc","Names":["/web"],"State":"running","Labels":{}}]' >"$B/containers.json"
echo '{"kind":"EventList","apiVersion":"v1","items":[]}' >"$B/events.json"
echo '{}' >"$B/body.json"
hostile status --header "Content-Type: application/json" --body-file "$B/body.json" \
	--route "/containers/json\$=$B/containers.json" --route "/events\$=$B/events.json"

# scout_config SOURCE: the user's config reads that one source from the server.
scout_config() {
	case "$1" in
	prometheus)
		printf "[prometheus]\n\turl = %s\n[scout]\n\talerts = true\n" "$FAKE_URL"
		printf "[check \"up\"]\n\tprometheus = up\n\tbelow = 1\n"
		printf "[check \"ratio\"]\n\tprometheus = ratio\n\tabove = 1\n\tsamples = n\n" ;;
	jaeger)
		printf "[jaeger]\n\turl = %s\n" "$FAKE_URL"
		printf "[service \"checkout\"]\n\tmax-p99 = 1s\n\tmax-error-rate = 5%%\n" ;;
	docker)
		printf "[docker]\n\thost = tcp://%s\n" "${FAKE_URL#http://}" ;;
	kubernetes)
		cat >kubeconfig <<-EOT
		apiVersion: v1
		kind: Config
		clusters:
		- cluster:
		    server: $FAKE_URL
		  name: f
		contexts:
		- context:
		    cluster: f
		    user: u
		  name: f
		current-context: f
		users:
		- name: u
		  user: {}
		EOT
		printf "[kubernetes]\n\tkubeconfig = %s/kubeconfig\n\tnamespace = shop\n" "$PWD" ;;
	esac >"$CONFIG" &&
	printf "[http]\n\tretries = 0\n\ttimeout = 5s\n" >>"$CONFIG"
}

# each_answer FILE: sre scout once per line of stdin, that line the answer
# in FILE; none may crash, hang or upset a sanitizer.
each_answer() {
	while IFS= read -r answer; do
		printf "%s\n" "$answer" >"$1" &&
		run_bounded 30 sre scout || { echo "on the answer: $answer" >&2; return 1; }
	done
}

test_expect_success 'Prometheus: a label named twice, the first not a string (once a segfault)' '
	scout_config prometheus &&
	echo "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"job\":1,\"job\":\"api\"},\"value\":[1700000000,\"0\"]}]}}" >"$B/body.json" &&
	run_bounded 30 sre scout &&
	test_grep "^opened 1 up: up is 0, below 1" out
'

test_expect_success 'Prometheus: answers of the wrong shape are errors, never a crash' '
	scout_config prometheus &&
	each_answer "$B/body.json" <<-\EOT &&
	[]
	1e999
	{"status":1}
	{"status":"success","data":"x"}
	{"status":"success","data":{"resultType":"vector","result":{}}}
	{"status":"success","data":{"resultType":1,"result":[]}}
	{"status":"success","data":{"resultType":"vector","result":[1,"a",null,[],{}]}}
	{"status":"success","data":{"resultType":"vector","result":[{"metric":"x","value":[1,"1"]}]}}
	{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"x","a":"y"},"value":[1,"0"]},{"metric":{"a":"y","a":"x"},"value":[1,"5"]}]}}
	{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":null},"value":[1,"1e999"]}]}}
	{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,1]}]}}
	{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"-Inf"]}]}}
	{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"99999999999999999999999"]}]}}
	{"status":"success","data":{"resultType":"scalar","result":{}}}
	{"status":"success","data":{"alerts":[1,null,"x",{"state":1},{"state":"firing","labels":"x","annotations":1}]}}
	{"status":"success","data":{"alerts":[{"state":"firing","labels":{"alertname":1,"alertname":"A","service":{}},"activeAt":1,"value":{}}]}}
	{"status":"error","errorType":1,"error":{}}
	EOT
	echo "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":\"1\"}]}}" >"$B/body.json" &&
	run_bounded 30 sre scout &&
	test_grep "prometheus: check \"up\": a sample.s value is not a number" err
'

test_expect_success 'Jaeger: wrong types, durations past any integer, duplicate keys' '
	scout_config jaeger &&
	each_answer "$B/body.json" <<-\EOT &&
	{"data":[1,"x",null,[],{}]}
	{"data":[{"traceID":1,"spans":{},"processes":[]}]}
	{"data":[{"traceID":"t","spans":[1,null,"x",{}],"processes":{"p1":1}}]}
	{"data":[{"traceID":"t","spans":[{"spanID":1,"processID":{},"duration":"x","startTime":"y","references":"z","tags":{}}],"processes":{"p1":{"serviceName":1}}}]}
	{"data":[{"traceID":"t","spans":[{"spanID":"a","processID":"p1","duration":1e300,"startTime":-1e300,"references":[],"tags":[{"key":"error","value":true}]}],"processes":{"p1":{"serviceName":"checkout"}}}]}
	{"data":[{"traceID":"t","spans":[{"spanID":"a","processID":"p1","duration":-5,"startTime":1e999,"references":[],"tags":[{"key":"http.status_code","value":1e300}]}],"processes":{"p1":{"serviceName":"checkout"}}}]}
	{"data":[{"traceID":"t","spans":[{"spanID":"a","processID":"p1","duration":99999999999999999999,"startTime":1,"references":[{"refType":"CHILD_OF","spanID":"a"}]}],"processes":{"p1":{"serviceName":"checkout"}}}]}
	{"data":[{"traceID":"t","spans":[{"spanID":"a","spanID":1,"processID":"p1","processID":2,"duration":1.5,"startTime":1}],"processes":{"p1":{"serviceName":"checkout","serviceName":1}}}]}
	{"data":null,"errors":"x"}
	EOT
	echo "{\"data\":{}}" >"$B/body.json" &&
	run_bounded 30 sre scout &&
	test "$rc" = 128 &&
	test_grep "jaeger: $FAKE_URL: the answer is not the JSON of Jaeger" err
'

test_expect_success 'Docker: an inspect answer of nonsense numbers and wrong types' '
	scout_config docker &&
	each_answer "$B/body.json" <<-\EOT &&
	[]
	{"Id":1,"Name":[],"State":"x","Config":1,"HostConfig":[]}
	{"Id":"abc","Name":"/web","State":{"Status":"exited","ExitCode":1e300,"OOMKilled":"yes","FinishedAt":1},"RestartCount":1e300,"HostConfig":{"Memory":1e300}}
	{"Id":"abc","Name":"/web","State":{"Status":"restarting","Status":1,"ExitCode":-99999999999999999999},"RestartCount":99999999999999999999}
	{"Id":"abc","Name":"/web","State":{"Status":"running","Health":{"Status":"unhealthy","FailingStreak":1e300,"Log":[1,{"Output":1}]}},"RestartCount":"many"}
	{"Id":"abc","Name":"/web","State":{"Status":"running","Health":{"Status":"unhealthy","FailingStreak":3,"Log":"x"}}}
	EOT
	echo "null" >"$B/body.json" &&
	run_bounded 30 sre scout &&
	test "$rc" = 128 &&
	test_grep "inspecting web: the answer is not a container" err
'

test_expect_success 'Kubernetes: pods and events of the wrong shape, counts past any integer' '
	scout_config kubernetes &&
	each_answer "$B/body.json" <<-\EOT &&
	{"kind":"PodList","items":[1,"x",null,[],{}]}
	{"kind":"PodList","items":[{"metadata":1,"spec":[],"status":"x"}]}
	{"kind":"PodList","items":[{"metadata":{"name":1,"namespace":{}},"status":{"phase":1,"containerStatuses":{"a":1}}}]}
	{"kind":"PodList","items":[{"metadata":{"name":"p","namespace":"shop","labels":{"app":1,"app":"web"}},"status":{"phase":"Running","conditions":[{"type":"Ready","status":"False","lastTransitionTime":1}],"containerStatuses":[{"name":"c","restartCount":1e300,"state":{"waiting":{"reason":"CrashLoopBackOff","message":1}},"lastState":{"terminated":{"reason":"OOMKilled","exitCode":1e300,"finishedAt":"9999-12-31T23:59:59Z"}}}]}}]}
	{"kind":"PodList","items":[{"metadata":{"name":"p","namespace":"shop"},"status":{"phase":"Running","containerStatuses":[{"name":"c","restartCount":-99999999999999999999,"state":{"terminated":{"reason":"OOMKilled","exitCode":-1e300}}}]}}]}
	EOT
	echo "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[]}" >"$B/body.json" &&
	each_answer "$B/events.json" <<-\EOT &&
	{"kind":"EventList","items":[1,null,{"type":"Warning"}]}
	{"kind":"EventList","items":[{"type":"Warning","reason":"BackOff","involvedObject":{"kind":"Pod","name":"p","namespace":"shop"},"count":1e300},{"type":"Warning","reason":"BackOff","involvedObject":{"kind":"Pod","name":"p","namespace":"shop"},"count":-99999999999999999999,"series":{"count":1e300}}]}
	{"kind":"EventList","items":[{"type":"Warning","reason":1,"involvedObject":"x","count":"3"}]}
	EOT
	echo "{\"kind\":\"EventList\",\"items\":{}}" >"$B/events.json" &&
	run_bounded 30 sre scout &&
	test "$rc" = 128 &&
	test_grep "the answer is not an EventList" err
'

test_expect_success 'GitHub: an issue "number" that is a path is no issue; wrong types are skipped' '
	github_config &&
	cat >"$B/body.json" <<-\EOT &&
	[1, "x", null, {"number": "7/../../../user", "title": "t", "labels": [{"name": "sre"}], "state": "open"},
	 {"number": 1e300, "title": 1, "labels": {}, "state": []},
	 {"number": "8?x=1", "title": "t", "labels": [{"name": "sre"}], "state": "open"}]
	EOT
	run_bounded 30 sre incident pull &&
	test "$rc" = 0 &&
	! test -s out &&
	test_grep ! -e "\.\." -e "/user" -e "x=1" "$FAKE_LOG"
'

test_expect_success 'JIRA: a search or comment answer without its list is an error' '
	jira_config &&
	echo "{\"issues\": {\"key\": \"OPS-1\"}, \"isLast\": true}" >"$B/body.json" &&
	run_bounded 30 sre incident pull &&
	test "$rc" = 128 &&
	test_grep "^error: jira: searching issues: the answer holds no list of issues" err
'

# ---- lines cut for a title or a ticket ----

test_expect_success 'a long alert summary makes a title cut on a character boundary' '
	scout_config prometheus &&
	# "a" first: byte 900, where the title is cut, is inside an "é"
	summary=$(python3 -c "print(\"a\" + \"\\u00e9\" * 600)") &&
	printf "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[],\"alerts\":[{\"state\":\"firing\",\"labels\":{\"alertname\":\"Long\",\"service\":\"utf\"},\"annotations\":{\"summary\":\"%s\"}}]}}\n" "$summary" >"$B/body.json" &&
	run_bounded 30 sre scout &&
	id=$(sed -n "s/^opened \([0-9]*\) utf:.*/\1/p" out) &&
	test -n "$id" &&
	sre incident show --json "$id" >show.json &&
	python3 -c "import json
title = json.load(open(\"show.json\", encoding=\"utf-8\"))[\"title\"]
assert title == \"a\" + \"\\u00e9\" * 449, (len(title), title[-3:])
"
'

stop_fake
start_fake github --token "$GITHUB_TOKEN" || { echo "Bail out! the fake GitHub did not start"; exit 1; }

test_expect_success 'a GitHub title past 256 characters is shortened whole characters at a time' '
	github_config &&
	title=$(python3 -c "print(\"\\u20ac\" * 300)") &&
	run_bounded 30 sre incident open -s shop -t "$title" &&
	python3 -c "import json, sys, urllib.request
state = json.load(urllib.request.urlopen(sys.argv[1] + \"/_fake/state\", timeout=5))
issue = state[\"acme/shop\"][\"issues\"][-1]
assert issue[\"title\"] == \"\\u20ac\" * 255 + \"\\u2026\", issue[\"title\"]
assert \"\\u20ac\" * 300 in issue[\"body\"], \"the record keeps the whole title\"
" "$FAKE_URL"
'

stop_fake
start_fake jira --user bot@example.com --token "$ATLASSIAN_TOKEN" --project OPS ||
	{ echo "Bail out! the fake JIRA did not start"; exit 1; }

test_expect_success 'a JIRA summary past 255 characters is shortened the same way' '
	jira_config &&
	title=$(python3 -c "print(\"\\u00e9\" * 300)") &&
	run_bounded 30 sre incident open -s shop -t "$title" &&
	python3 -c "import json, sys, urllib.request
state = json.load(urllib.request.urlopen(sys.argv[1] + \"/_fake/state\", timeout=5))
summary = state[\"issues\"][-1][\"summary\"]
assert summary == \"\\u00e9\" * 254 + \"\\u2026\", summary
" "$FAKE_URL"
'

stop_fake
test_done
