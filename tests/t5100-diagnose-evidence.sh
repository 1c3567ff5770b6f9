#!/bin/sh
test_description='sre diagnose --evidence: the rules over recorded bundles, offline'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

# The bundles: one directory per case, in the sources' own wire shapes
# (see the top of tests/data/diagnose/make-bundles.py for their story).
DATA="$TEST_DIRECTORY/data/diagnose"
CASES="oom-chronic oom-once crashloop image-pull config-error evicted unschedulable
probe-failure rollout-degraded dependency latency-db latency-service commit-regression
business-metric disk-full crash-process crash-chronic docker-oom host-oom healthy"

# diagnosis_of CASE: diagnose the bundle, keep the JSON in CASE.json and
# print "category action target" ("-" for a null target).
diagnosis_of() {
	sre diagnose --evidence "$DATA/$1" --json >"$1.json" &&
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
m = d["mitigation"]
print(d["category"], m["action"], "-" if m["target"] is None else m["target"])
' "$1.json"
}

# expect_diagnosis CASE CATEGORY ACTION TARGET
expect_diagnosis() {
	diagnosis_of "$1" >actual &&
	shift &&
	echo "$*" >expect &&
	test_cmp expect actual
}

# json_value FILE PATH: the value at a dotted path, as JSON ("384Mi" with its
# quotes, 3 without), so a test sees a string from a number.
json_value() {
	python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v))
' "$1" "$2"
}

# ---- one case, one root cause ----

test_expect_success 'oom-chronic: OOMKilled again and again, raise the limit by half' '
	expect_diagnosis oom-chronic oom increase-memory checkout &&
	test "$(json_value oom-chronic.json mitigation.params.container)" = "\"checkout\"" &&
	test "$(json_value oom-chronic.json mitigation.params.memory)" = "\"384Mi\""
'

test_expect_success 'oom-once: one OOMKill, already recovered, needs nothing' '
	expect_diagnosis oom-once oom none checkout
'

test_expect_success 'crashloop: a panic at start with no recent rollout goes to a human' '
	expect_diagnosis crashloop crashloop escalate checkout
'

test_expect_success 'image-pull: the tag is not in the registry, fix the image' '
	expect_diagnosis image-pull image-pull fix-image checkout &&
	test "$(json_value image-pull.json mitigation.params.image)" = \
		"\"registry.example.com/shop/checkout:v2.4.1\"" &&
	test "$(json_value image-pull.json mitigation.params.container)" = "\"checkout\""
'

test_expect_success 'config-error: a missing ConfigMap, patch the config' '
	expect_diagnosis config-error config-error patch-config checkout
'

test_expect_success 'evicted: the node ran out of memory, a human decides' '
	expect_diagnosis evicted eviction escalate checkout
'

test_expect_success 'unschedulable: no node has the memory, a human decides' '
	expect_diagnosis unschedulable unschedulable escalate checkout
'

test_expect_success 'probe-failure: readiness answers 503 for ten minutes, restart' '
	expect_diagnosis probe-failure probe-failure restart checkout
'

test_expect_success 'rollout-degraded: revision 4 crashes and stalls, roll back to 3' '
	expect_diagnosis rollout-degraded deploy-regression rollback checkout &&
	test "$(json_value rollout-degraded.json mitigation.params.revision)" = 3
'

test_expect_success 'dependency: errors surface at quote-service, begin at user-service' '
	expect_diagnosis dependency dependency restart user-service
'

test_expect_success 'latency-db: the time goes into a query of policy-service' '
	expect_diagnosis latency-db latency escalate policy-service &&
	json_value latency-db.json mitigation.params.span >span &&
	test_grep "SELECT policies" span
'

test_expect_success 'latency-service: the time goes into policy-service itself' '
	expect_diagnosis latency-service latency restart policy-service
'

test_expect_success 'commit-regression: errors began minutes after a commit, roll it back' '
	expect_diagnosis commit-regression deploy-regression rollback checkout &&
	test "$(json_value commit-regression.json mitigation.params.commit)" = \
		"\"9f4e2c1a7b3d5e8f0a6c2b4d1e3f5a7c9b0d2e4f\""
'

test_expect_success 'business-metric: conversion fell to nothing, restart quote-service' '
	expect_diagnosis business-metric business-metric restart quote-service
'

test_expect_success 'disk-full: no space left on the cache volume, a human decides' '
	expect_diagnosis disk-full resource-exhaustion escalate checkout
'

test_expect_success 'crash-process: the process died, restart it' '
	expect_diagnosis crash-process crash restart quote-service
'

test_expect_success 'crash-chronic: the fifth crash in a day is not restarted again' '
	expect_diagnosis crash-chronic crash escalate quote-service
'

test_expect_success 'docker-oom: a container OOMKilled five times, more memory' '
	expect_diagnosis docker-oom oom increase-memory checkout
'

test_expect_success 'host-oom: the kernel killed the process once, restart it' '
	expect_diagnosis host-oom oom restart quote-service
'

test_expect_success 'healthy: nothing wrong, no cause invented' '
	expect_diagnosis healthy unknown none - &&
	sre diagnose --evidence "$DATA/healthy" >out &&
	test_grep -i -E "no rule matched|does not guess|no (root )?cause|could not find" out &&
	test_grep ! -i -E "(mitigation|action).*(restart|rollback|increase-memory|scale|patch-config|fix-image|escalate)" out
'

# ---- the shape of the answer ----

test_expect_success 'every --json answer has the stable keys, and no incident' '
	for c in $CASES; do
		test -s "$c.json" || sre diagnose --evidence "$DATA/$c" --json >"$c.json" || return 1
	done &&
	python3 - $CASES <<-\EOT
	import json, sys
	categories = {"oom", "crashloop", "crash", "image-pull", "config-error", "probe-failure",
	              "eviction", "unschedulable", "resource-exhaustion", "dependency", "latency",
	              "deploy-regression", "business-metric", "unknown"}
	actions = {"restart", "rollback", "scale", "increase-memory", "patch-config", "fix-image",
	           "escalate", "none"}
	bad = []
	for case in sys.argv[1:]:
	    d = json.load(open(case + ".json"))
	    def check(ok, what):
	        if not ok:
	            bad.append("%s: %s" % (case, what))
	    for key in ("incident", "category", "root_cause", "confidence", "mitigation",
	                "evidence", "findings"):
	        check(key in d, "no key " + key)
	    if bad:
	        continue
	    check(d["incident"] is None, "incident is not null")
	    check(d["category"] in categories, "category %r" % d["category"])
	    check(isinstance(d["root_cause"], str) and d["root_cause"].strip(), "empty root_cause")
	    c = d["confidence"]
	    check(isinstance(c, (int, float)) and not isinstance(c, bool) and 0 <= c <= 1,
	          "confidence %r" % (c,))
	    m = d["mitigation"]
	    check(isinstance(m, dict) and set(m) >= {"action", "target", "params"},
	          "mitigation %r" % (m,))
	    check(m.get("action") in actions, "action %r" % m.get("action"))
	    check(isinstance(m.get("params"), dict), "params is not an object")
	    check(m.get("target") is None or isinstance(m.get("target"), str), "target")
	    ev = d["evidence"]
	    check(isinstance(ev, list) and all(isinstance(e, dict) and isinstance(e.get("source"), str)
	                                       and e["source"] and isinstance(e.get("summary"), str)
	                                       and e["summary"] for e in ev),
	          "evidence is not [{source, summary}]")
	    check(isinstance(d["findings"], list), "findings is not an array")
	    if d["category"] != "unknown":
	        # A cause rests on what it can quote, and is the best of the findings.
	        check(ev, "a cause with no evidence")
	        check(d["findings"] and d["findings"][0].get("category") == d["category"],
	              "the answer is not the first finding")
	for b in bad:
	    print(b, file=sys.stderr)
	sys.exit(1 if bad else 0)
	EOT
'

test_expect_success 'the text names the cause, the mitigation and quoted evidence (OOM)' '
	sre diagnose --evidence "$DATA/oom-chronic" >out &&
	test_grep -i "root cause" out &&
	test_grep -i "increase-memory" out &&
	test_grep "384Mi" out &&
	test_grep "OOMKilled" out &&
	test_grep "kubernetes" out
'

test_expect_success 'the text names the cause, the mitigation and quoted evidence (traces)' '
	sre diagnose --evidence "$DATA/dependency" >out &&
	test_grep -i "root cause" out &&
	test_grep -i "restart" out &&
	test_grep "user-service" out &&
	test_grep "jaeger" out
'

test_expect_success 'the text names the cause, the mitigation and quoted evidence (commit)' '
	sre diagnose --evidence "$DATA/commit-regression" >out &&
	test_grep -i "root cause" out &&
	test_grep -i "rollback" out &&
	test_grep "9f4e2c1" out &&
	test_grep "switch payment client to v2" out &&
	test_grep "git" out
'

test_expect_success 'the text names the cause, the mitigation and quoted evidence (image)' '
	sre diagnose --evidence "$DATA/image-pull" >out &&
	test_grep -i "root cause" out &&
	test_grep -i "fix-image" out &&
	test_grep "registry.example.com/shop/checkout:v2.4.1" out
'

# ---- bundles that are not what they should be ----

test_expect_success 'a truncated file is an error naming the file' '
	test_expect_code 128 sre diagnose --evidence "$DATA/bad-json" --json >out 2>err &&
	! test -s out &&
	test_grep "kubernetes-pods.json" err &&
	test_grep -i -E "json|pars|truncat|end of" err
'

test_expect_success 'a PodList whose items are not an array is an error naming the file' '
	test_expect_code 128 sre diagnose --evidence "$DATA/wrong-kind" --json >out 2>err &&
	! test -s out &&
	test_grep "kubernetes-pods.json" err &&
	test_grep "items" err
'

test_expect_success 'traces that are not a Jaeger answer are an error naming the file' '
	test_expect_code 128 sre diagnose --evidence "$DATA/traces-not-jaeger" --json >out 2>err &&
	! test -s out &&
	test_grep "jaeger-traces.json" err &&
	test_grep -i -E "data|array|not a jaeger" err
'

test_expect_success 'an empty bundle is an error naming it, not a healthy service' '
	mkdir empty &&
	test_expect_code 128 sre diagnose --evidence empty --json >empty.json 2>err &&
	! test -s empty.json &&
	test_grep "empty holds no evidence" err
'

test_expect_success 'a bundle that does not exist is an error naming it' '
	test_expect_code 128 sre diagnose --evidence does-not-exist --json >out 2>err &&
	! test -s out &&
	test_grep "does-not-exist" err
'

# ---- saving, time, and what --evidence leaves alone ----

test_expect_success '--save-evidence writes what was read; diagnosing it gives the same answer' '
	mkdir saved &&
	for c in $CASES; do
		sre diagnose --evidence "$DATA/$c" --save-evidence "saved/$c" --json >"$c.first" &&
		sre diagnose --evidence "saved/$c" --json >"$c.again" &&
		test_cmp "$c.first" "$c.again" &&
		test_cmp "$c.json" "$c.first" || return 1
	done
'

test_expect_success 'a saved bundle holds the same files with the same content, private' '
	python3 - "$DATA" saved $CASES <<-\EOT
	import json, os, stat, sys
	data, saved, cases = sys.argv[1], sys.argv[2], sys.argv[3:]
	bad = []
	def files(top):
	    return sorted(os.path.relpath(os.path.join(d, f), top)
	                  for d, _, fs in os.walk(top) for f in fs)
	for case in cases:
	    a, b = os.path.join(data, case), os.path.join(saved, case)
	    if files(a) != files(b):
	        bad.append("%s: files %s, saved %s" % (case, files(a), files(b)))
	        continue
	    if stat.S_IMODE(os.stat(b).st_mode) != 0o700:
	        bad.append("%s: the directory is not 0700" % case)
	    for f in files(a):
	        pa, pb = os.path.join(a, f), os.path.join(b, f)
	        if stat.S_IMODE(os.stat(pb).st_mode) != 0o600:
	            bad.append("%s/%s is not 0600" % (case, f))
	        if f.endswith(".json"):
	            same = json.load(open(pa)) == json.load(open(pb))
	        else:
	            same = open(pa, "rb").read() == open(pb, "rb").read()
	        if not same:
	            bad.append("%s/%s differs from what was read" % (case, f))
	for x in bad:
	    print(x, file=sys.stderr)
	sys.exit(1 if bad else 0)
	EOT
'

test_expect_success 'a bundle is judged as of when it was read, not when sre runs' '
	SRE_NOW=2027-06-01T00:00:00Z sre diagnose --evidence "$DATA/oom-chronic" --json >later &&
	test_cmp oom-chronic.json later &&
	SRE_NOW=2027-06-01T00:00:00Z sre diagnose --evidence "$DATA/crash-chronic" --json >later &&
	test_cmp crash-chronic.json later
'

test_expect_success '--evidence asks no source, even when every source is configured' '
	start_fake prometheus &&
	PROM_URL=$FAKE_URL PROM_LOG=$FAKE_LOG PROM_PID=$FAKE_PID &&
	start_fake jaeger &&
	ran=t &&
	for c in oom-chronic dependency commit-regression docker-oom crash-chronic; do
		sre -c prometheus.url="$PROM_URL" -c jaeger.url="$FAKE_URL" \
		    -c docker.host="tcp://${PROM_URL#http://}" \
		    -c check.checkout-errors.prometheus="sum(rate(http_requests_total[5m]))" \
		    -c check.checkout-errors.service=checkout \
		    diagnose --evidence "$DATA/$c" --json >"$c.configured" || ran=
	done &&
	stop_fake &&
	{ kill "$PROM_PID"; wait "$PROM_PID"; true; } 2>/dev/null &&
	test -n "$ran" &&
	for c in oom-chronic dependency commit-regression docker-oom crash-chronic; do
		test_cmp "$c.json" "$c.configured" || return 1
	done &&
	! test -s "$PROM_LOG" &&
	! test -s "$FAKE_LOG"
'

test_expect_success '--evidence writes nothing to the store, wherever it is' '
	! test -e "$SRE_DB" &&
	! test -e "$(dirname "$SRE_DB")" &&
	sre --db other.db diagnose --evidence "$DATA/crash-chronic" --json >out &&
	sre -c core.db="$TRASH_DIRECTORY/core.db" diagnose --evidence "$DATA/oom-chronic" --json >out &&
	! test -e other.db &&
	! test -e core.db &&
	! test -e "$SRE_DB"
'

test_done
