#!/usr/bin/env python3
"""
make-graph-bundle.py: write an evidence bundle in the shape the benchmark
importer (bench/rca/nezha-import.py) gives a published microservice
benchmark, for t5300: spans without tags (no status, no kind, no peer), a
client span in the caller around each call, logs of every service whose
lines carry the trace and span ids, per-minute pod series, and a
baseline window. The data are made up here, not copied.

    make-graph-bundle.py <dir> <fault> <service> [--no-baseline] [--commit] [--rollout[=AGE]]

--rollout: the service's Deployment rolled out from revision 4 to 5, AGE
seconds before the incident (default 7200), in the graph's ReplicaSets.

fault: delay (a second on the link into service), defect (service throws:
an ERROR line with an exception, and the statements after it stop), cpu
(service's pod at its CPU limit, its own spans slower), none.

The shop: storefront (the entry) -> cart -> {inventory, pricing};
storefront -> catalog -> pricing.
"""
import json
import os
import random
import sys

T0 = 1801000000          # the incident opens here (s)
CALLS = {"storefront": ["cart", "catalog"], "cart": ["inventory", "pricing"],
         "catalog": ["pricing"], "inventory": [], "pricing": []}
POD = {s: "%s-5f7d8c9b4-%s" % (s, s[:2] + "x9q2") for s in CALLS}


class Window:
    def __init__(self):
        self.traces, self.logs = [], {s: [] for s in CALLS}


def hexid(rnd, n):
    return "".join(rnd.choice("0123456789abcdef") for _ in range(n))


def call(w, rnd, trace, spans, pid, service, parent, start, fault, target):
    """The server span of service and its calls; returns its duration (µs)."""
    sid = hexid(rnd, 16)
    own = 2000 + rnd.randint(0, 500)
    if fault == "cpu" and service == target:
        own *= 40
    t = start + own // 2
    lines = ["[handle][begin]", "[handle][priced][total: %d]" % rnd.randint(1, 99),
             "[handle][done]"]
    if fault == "defect" and service == target:
        lines = ["[handle][begin]", "[handle][failed][java.lang.IllegalStateException: stock]"]
    for callee in CALLS[service]:
        cid = hexid(rnd, 16)
        gap = 1500 + rnd.randint(0, 400)
        if fault == "delay" and callee == target:
            gap += 1000000
        d = call(w, rnd, trace, spans, pid, callee, cid, t + gap // 2, fault, target)
        spans.append(span(trace, cid, sid, pid[service], "HTTP GET", t, d + gap))
        t += d + gap
    dur = t - start + own // 2
    spans.append(span(trace, sid, parent, pid[service], "/%s/api" % service, start, dur))
    clock = (start // 1000000 + 8 * 3600) % 86400
    for text in lines:
        level = "ERROR" if "Exception" in text else "INFO "
        w.logs[service].append((start, "%02d:%02d:%02d.%03d %s c.e.%sService#42 TraceID: %s "
                                "SpanID: %s %s" % (clock // 3600, clock // 60 % 60, clock % 60,
                                                   start // 1000 % 1000, level,
                                                   service.capitalize(), trace, sid, text)))
    return dur


def span(trace, sid, parent, pid, op, start, dur):
    refs = [{"refType": "CHILD_OF", "traceID": trace, "spanID": parent}] if parent else []
    return {"traceID": trace, "spanID": sid, "operationName": op, "references": refs,
            "startTime": start, "duration": dur, "tags": [], "logs": [], "processID": pid,
            "warnings": None}


def window(rnd, start, n, fault, target):
    w = Window()
    pid = {s: "p%d" % (i + 1) for i, s in enumerate(CALLS)}
    procs = {pid[s]: {"serviceName": s, "tags": [{"key": "k8s.pod.name", "type": "string",
                                                  "value": POD[s]}]} for s in CALLS}
    for i in range(n):
        trace, spans = hexid(rnd, 32), []
        t = (start + i * 3) * 1000000
        rid, cid = hexid(rnd, 16), hexid(rnd, 16)
        # the entry: its server span, and a client span around the call to cart
        d = 0
        for callee in CALLS["storefront"]:
            gap = 1500
            if fault == "delay" and callee == target:
                gap += 1000000
            sub = hexid(rnd, 16)
            dd = call(w, rnd, trace, spans, pid, callee, sub, t + 1000 + d + gap // 2, fault, target)
            spans.append(span(trace, sub, rid, pid["storefront"], "HTTP GET", t + 1000 + d, dd + gap))
            d += dd + gap
        spans.append(span(trace, rid, None, pid["storefront"], "/", t, d + 2000))
        w.traces.append({"traceID": trace, "spans": spans, "processes": procs, "warnings": None})
    return w


def save(d, w):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "jaeger-traces.json"), "w") as f:
        json.dump({"data": w.traces, "total": 0, "limit": 0, "offset": 0, "errors": None}, f)
    for s, lines in w.logs.items():
        if s == "storefront" or not lines:
            continue
        os.makedirs(os.path.join(d, "logs", s), exist_ok=True)
        with open(os.path.join(d, "logs", s, POD[s] + ".log"), "w") as f:
            f.write("".join(text + "\n" for _, text in sorted(lines)))


def matrix(values_of):
    return {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"namespace": "shop", "pod": POD[s]}, "values": v} for s, v in values_of.items()]}}


def main():
    out, fault, target = sys.argv[1], sys.argv[2], sys.argv[3]
    rnd = random.Random(7)
    inc = window(rnd, T0, 40, fault, target)
    save(out, inc)
    if "--no-baseline" not in sys.argv:
        save(os.path.join(out, "baseline"), window(rnd, T0 - 600, 40, "none", target))
    minutes = range(T0 - 1800, T0 + 180, 60)
    cpu = {s: [[t, "%.4f" % (0.49 if fault == "cpu" and s == target and t >= T0 else 0.02)]
               for t in minutes] for s in CALLS}
    with open(os.path.join(out, "prometheus-pod-cpu.json"), "w") as f:
        json.dump(matrix(cpu), f)
    with open(os.path.join(out, "prometheus-pod-cpu-limit.json"), "w") as f:
        json.dump(matrix({s: [[t, "0.5"] for t in minutes] for s in CALLS}), f)
    when = lambda t: __import__("time").strftime("%Y-%m-%dT%H:%M:%SZ", __import__("time").gmtime(t))
    with open(os.path.join(out, "incident.json"), "w") as f:
        json.dump({"id": 7, "fingerprint": "prometheus/storefront/above/latency-p99",
                   "service": "storefront", "title": "storefront p99 latency above its alarm",
                   "severity": "high", "category": None, "state": "INCIDENT_DETECTED",
                   "source": "prometheus", "occurrences": 1, "opened_at": when(T0),
                   "updated_at": when(T0 + 150), "resolved_at": None, "remote_key": None,
                   "remote_url": None, "events": []}, f)
    for arg in sys.argv:
        if arg.startswith("--rollout"):
            age = int(arg.split("=")[1]) if "=" in arg else 7200
            def rs(rev, created):
                return {"metadata": {"name": "%s-%d" % (target, 7000 + rev), "namespace": "shop",
                                     "labels": {"app": target},
                                     "annotations": {"deployment.kubernetes.io/revision": str(rev)},
                                     "ownerReferences": [{"kind": "Deployment", "name": target}],
                                     "creationTimestamp": when(created)},
                        "spec": {"template": {"spec": {"containers": [
                            {"name": target, "image": "shop/%s:1.%d" % (target, rev)}]}}}}
            with open(os.path.join(out, "kubernetes-graph-replicasets.json"), "w") as f:
                json.dump({"kind": "ReplicaSetList", "apiVersion": "apps/v1",
                           "items": [rs(4, T0 - 30 * 86400), rs(5, T0 - age)]}, f)
    if "--commit" in sys.argv:
        with open(os.path.join(out, "git-log.json"), "w") as f:
            json.dump([{"sha": "4f1c2e9a7b", "author": "dev", "time": when(T0 - 3600),
                        "subject": "Tune the stock check", "files": ["services/%s/Stock.java" % target]}], f)


if __name__ == "__main__":
    main()
