#!/bin/sh
test_description='sre diagnose across the call graph: the culprit service, not the one that alarms'
. "$(dirname "$0")/test-lib.sh"

# Bundles in the shape the benchmark importer writes (bench/rca/): spans
# without tags, every service's logs with trace ids, per-minute pod series
# and a baseline window; made up by tests/data/graph/make-graph-bundle.py.
MAKE="$TEST_DIRECTORY/data/graph/make-graph-bundle.py"

# verdict DIR: "category action target first-candidate" of the JSON diagnosis.
verdict() {
	sre diagnose --evidence "$1" --json >"$1.json" &&
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = d["candidates"]
print(d["category"], d["mitigation"]["action"], d["mitigation"]["target"],
      c[0]["service"] if c else "-")
' "$1.json"
}

test_expect_success 'a delay on the link into a callee blames the callee, not its caller' '
	python3 "$MAKE" delay delay inventory &&
	verdict delay >actual &&
	echo "latency restart inventory inventory" >expect &&
	test_cmp expect actual &&
	grep "calls from cart to inventory spend 1.00s (p50)" delay.json
'

test_expect_success 'the text report shows the candidates, best first, with why' '
	sre diagnose --evidence delay >out &&
	grep "^Root cause  storefront is slow because inventory, which it calls, is" out &&
	grep "^Candidates (1 ranked against 40 traces before)" out &&
	grep "^  1\. inventory  *1\.00  latency" out &&
	grep "calls from cart to inventory" out
'

test_expect_success 'a code defect in a downstream service: its new error and its silence' '
	python3 "$MAKE" defect defect pricing &&
	verdict defect >actual &&
	echo "dependency escalate pricing pricing" >expect &&
	test_cmp expect actual &&
	grep "new error in the logs, 80 lines, none before: .*ERROR .*IllegalStateException" defect.json &&
	grep "pricing logs 2.00 lines per call, 3.00 before" defect.json
'

test_expect_success 'a code defect with a commit of that service in the day before: roll it back' '
	python3 "$MAKE" defect-commit defect pricing --commit &&
	verdict defect-commit >actual &&
	echo "dependency rollback pricing pricing" >expect &&
	test_cmp expect actual &&
	grep "\"commit\":.*\"4f1c2e9a7b\"" defect-commit.json
'

test_expect_success 'a code defect in a service rolled out two hours before: roll it back' '
	python3 "$MAKE" defect-rollout defect pricing --rollout &&
	verdict defect-rollout >actual &&
	echo "dependency rollback pricing pricing" >expect &&
	test_cmp expect actual &&
	grep "\"revision\":.*4" defect-rollout.json &&
	grep "replicaset pricing-7005: revision 5 created" defect-rollout.json
'

test_expect_success 'a rollout three days old is no reason to roll back: a person decides' '
	python3 "$MAKE" defect-old defect pricing --rollout=259200 &&
	verdict defect-old >actual &&
	echo "dependency escalate pricing pricing" >expect &&
	test_cmp expect actual
'

test_expect_success 'CPU contention: the starved pod, as resource exhaustion' '
	python3 "$MAKE" cpu cpu cart &&
	verdict cpu >actual &&
	echo "resource-exhaustion scale cart cart" >expect &&
	test_cmp expect actual &&
	grep "pod cart-5f7d8c9b4-cax9q2 uses 98% of its CPU limit" cpu.json
'

test_expect_success 'nothing changed against the baseline: no candidate, no guess' '
	python3 "$MAKE" calm none cart &&
	verdict calm >actual &&
	echo "unknown none None -" >expect &&
	test_cmp expect actual
'

# Without a baseline there is nothing to compare: the trace rule reads the
# gap as the caller's own time, as it always did, and no candidate is ranked.
test_expect_success 'without a baseline the rules answer as before, and candidates is empty' '
	python3 "$MAKE" alone delay inventory --no-baseline &&
	verdict alone >actual &&
	echo "latency restart cart -" >expect &&
	test_cmp expect actual
'

test_expect_success 'a log directory that is no service name, or a link, is not read' '
	python3 "$MAKE" hostile defect pricing &&
	mkdir "hostile/logs/bad name" &&
	printf "ERROR x Exception\n" >"hostile/logs/bad name/p.log" &&
	ln -s /etc "hostile/logs/etc" &&
	verdict hostile >actual &&
	echo "dependency escalate pricing pricing" >expect &&
	test_cmp expect actual &&
	! grep "bad name" hostile.json
'

test_expect_success 'a service name with a terminal escape in a trace reaches the report as ?' '
	python3 "$MAKE" escape delay inventory &&
	python3 -c "import json
p = \"escape/jaeger-traces.json\"
d = json.load(open(p))
for t in d[\"data\"]:
    for proc in t[\"processes\"].values():
        if proc[\"serviceName\"] == \"inventory\":
            proc[\"serviceName\"] = \"inv\\x1b]0;owned\\x07entory\"
json.dump(d, open(p, \"w\"))" &&
	grep "u001b" escape/jaeger-traces.json >/dev/null &&
	sre diagnose --evidence escape >out &&
	grep "^  1\. inv?\]0;owned?entory " out &&
	! grep "$(printf "\033")" out
'

test_expect_success 'a broken baseline is an error naming the file, not a crash' '
	python3 "$MAKE" broken delay inventory &&
	printf "{\"data\": [" >broken/baseline/jaeger-traces.json &&
	test_expect_code 128 sre diagnose --evidence broken 2>err &&
	grep "broken/baseline/jaeger-traces.json: not valid JSON" err
'

test_done
