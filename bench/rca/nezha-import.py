#!/usr/bin/env python3
"""
nezha-import.py: turn the Nezha TrainTicket fault cases into sre evidence
bundles, as sre's own collectors would have saved them (lib/evidence.h).

    nezha-import.py <fixture dir> <out dir>

The fixture directory is ../shared/fixtures/rca/nezha-trainticket (its
README says what each file is). For each case in labels.json it writes
<out>/<case>/ and <out>/labels.json (case -> {service, fault}), which
bench/rca/score.py reads. Nothing of the labels goes into a bundle but the
instant of the injection, which becomes the incident's opening: the alarm
an SRE would get is the entry service's p99 latency, and it opens when the
fault begins.

What a bundle holds, and where it comes from:

  incident.json            the entry's p99 latency incident, opened at the
                           onset (inject_time; inject_timestamp instead
                           when the two are within 90 s, since the README
                           says the spans follow it then)
  jaeger-traces.json       the traces of the three minute files whose root
                           starts at or after the onset, in Jaeger's
                           /api/traces shape; each span's process is its
                           service with the pod as the k8s.pod.name and
                           hostname tags; Nezha's spans have no tags
  logs/<service>/<pod>.log the log lines of those traces' window, each the
                           "log" of the container runtime's JSON line, by
                           time, as `kubectl logs` prints them
  baseline/                the same for the fault-free traces: the day's
                           construct_data window and the case's traces that
                           began before the onset
  prometheus-pod-*.json    each pod's CPU and memory (cAdvisor, per
                           minute) and their limits, as query_range answers
                           from the onset less an hour to the last span
  prometheus-latency-p99.json  the entry's p99 latency (the alarm's series)
  kubernetes-pods.json     the entry's pod, as a PodList
  sources.json             jaeger, kubernetes and prometheus read at the end

Only the standard library; the CSVs are read through `xz -dc`.
"""
import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timezone

CPU_LIMIT = 0.5                # cores: CpuUsageRate(%) is of 500m
MEMORY_LIMIT = 2000 * 1048576  # bytes: MemoryUsageRate(%) is of 2000 Mi
ENTRY = None                   # the root service, found in the spans

csv.field_size_limit(1 << 30)


def read_csv(path):
    out = subprocess.run(["xz", "-dc", path], check=True, stdout=subprocess.PIPE).stdout
    return list(csv.DictReader(io.StringIO(out.decode("utf-8", "replace"))))


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(s):
    s = s.rstrip("Z")
    if "." in s:
        s = s.split(".")[0]
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()


def parse_ts(s):
    """A log row's RFC 3339 Timestamp, to the nanosecond, as float seconds."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z", s)
    if not m:
        return None
    return parse_iso(m.group(1) + "Z") + float(m.group(2) or 0)


POD_SUFFIX = re.compile(r"-[a-z0-9]{6,10}-[a-z0-9]{5}$")


def service_of(pod):
    """A Deployment's pod is <deployment>-<replicaset hash>-<pod hash>."""
    return POD_SUFFIX.sub("", pod)


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, separators=(",", ":"))


def minute_files(day_dir, kind, onset):
    """The injection minute's file and the two after (HH_MM names)."""
    t = int(onset) - int(onset) % 60
    names = []
    for k in range(3):
        name = datetime.fromtimestamp(t + 60 * k, timezone.utc).strftime("%H_%M")
        path = os.path.join(day_dir, kind, "%s_%s.csv.xz" % (name, kind))
        if os.path.exists(path):
            names.append(path)
    return names


def load_spans(paths):
    spans = {}
    for p in paths:
        for r in read_csv(p):
            spans[(r["TraceID"], r["SpanID"])] = r
    traces = {}
    for r in spans.values():
        traces.setdefault(r["TraceID"], []).append(r)
    return traces


def load_logs(paths):
    rows = {}
    for p in paths:
        for r in read_csv(p):
            rows[tuple(str(v) for v in r.values())] = r
    out = []
    for r in rows.values():
        t = parse_ts(r["Timestamp"])
        if t is None:
            continue
        try:
            obj, _ = json.JSONDecoder().raw_decode(r["Log"])
            line = obj.get("log", "")
        except ValueError:
            continue
        out.append((t, r["PodName"], r["TraceID"], line if line.endswith("\n") else line + "\n"))
    out.sort()
    return out


def root_of(spans):
    roots = [s for s in spans if s["ParentID"] == "root"]
    return roots[0] if roots else min(spans, key=lambda s: int(s["StartTimeUnixNano"]))


def jaeger(traces):
    data = []
    for tid, spans in sorted(traces.items()):
        procs, pid_of, out = {}, {}, []
        for s in sorted(spans, key=lambda s: int(s["StartTimeUnixNano"])):
            pod = s["PodName"]
            if pod not in pid_of:
                pid_of[pod] = "p%d" % (len(pid_of) + 1)
                procs[pid_of[pod]] = {
                    "serviceName": service_of(pod),
                    "tags": [{"key": "hostname", "type": "string", "value": pod},
                             {"key": "k8s.pod.name", "type": "string", "value": pod}]}
            refs = [] if s["ParentID"] == "root" else [
                {"refType": "CHILD_OF", "traceID": tid, "spanID": s["ParentID"]}]
            out.append({"traceID": tid, "spanID": s["SpanID"], "operationName": s["OperationName"],
                        "references": refs, "startTime": int(s["StartTimeUnixNano"]) // 1000,
                        "duration": int(float(s["Duration"])), "tags": [], "logs": [],
                        "processID": pid_of[pod], "warnings": None})
        data.append({"traceID": tid, "spans": out, "processes": procs, "warnings": None})
    return {"data": data, "total": 0, "limit": 0, "offset": 0, "errors": None}


def write_logs(bundle, logs, entry):
    by_pod = {}
    for t, pod, _, line in logs:
        by_pod.setdefault(pod, []).append(line)
    for pod, lines in by_pod.items():
        svc = service_of(pod)
        name = pod if svc == entry else os.path.join(svc, pod)
        path = os.path.join(bundle, "logs", name + ".log")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("".join(lines))


def matrix(series):
    return {"status": "success", "data": {"resultType": "matrix", "result": series}}


def metric_series(metric_dir, pods, start, end):
    cpu, cpu_limit, mem, mem_limit = [], [], [], []
    for pod in sorted(pods):
        path = os.path.join(metric_dir, pod + "_metric.csv.xz")
        if not os.path.exists(path):
            continue
        rows = [r for r in read_csv(path) if start <= int(r["TimeStamp"]) <= end]
        v_cpu, v_mem, ts = [], [], []
        for r in rows:
            t = int(r["TimeStamp"])
            try:
                c, m = float(r["CpuUsage(m)"]) / 1000, float(r["MemoryUsage(Mi)"]) * 1048576
            except ValueError:
                continue
            if c != c or m != m:
                continue
            v_cpu.append([t, "%.6g" % c])
            v_mem.append([t, "%.0f" % m])
            ts.append(t)
        if not ts:
            continue
        label = {"namespace": "default", "pod": pod}
        cpu.append({"metric": label, "values": v_cpu})
        mem.append({"metric": label, "values": v_mem})
        cpu_limit.append({"metric": label, "values": [[t, "%g" % CPU_LIMIT] for t in ts]})
        mem_limit.append({"metric": label, "values": [[t, "%d" % MEMORY_LIMIT] for t in ts]})
    return {"pod-cpu": matrix(cpu), "pod-cpu-limit": matrix(cpu_limit),
            "pod-memory": matrix(mem), "pod-memory-limit": matrix(mem_limit)}


def entry_latency(metric_dir, entry, start, end):
    path = os.path.join(metric_dir, "front_service.csv.xz")
    values = []
    for r in read_csv(path):
        t = int(r["TimeStamp"])
        if start <= t <= end and r["LatencyP99(s)"] not in ("", "NaN"):
            values.append([t, "%.6g" % float(r["LatencyP99(s)"])])
    return matrix([{"metric": {"service": entry}, "values": values}])


def pod_list(pod, service, created):
    return {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": [{
        "metadata": {"name": pod, "namespace": "default", "labels": {"app": service},
                     "creationTimestamp": iso(created)},
        "spec": {"containers": [{"name": "server", "image": "codewisdom/%s:0.2.0" % service,
                                 "resources": {"limits": {"cpu": "500m", "memory": "2000Mi"},
                                               "requests": {"cpu": "100m", "memory": "200Mi"}}}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                   "containerStatuses": [{"name": "server", "ready": True, "restartCount": 0,
                                          "state": {"running": {"startedAt": iso(created)}}}]}}]}


def import_case(fixtures, case, label, out, number):
    t = parse_iso(label["inject_time"])
    try:
        ts = float(label["inject_timestamp"])
    except ValueError:
        ts = t
    onset = ts if abs(ts - t) <= 90 else t
    day = label["inject_time"][:10]
    day_dir = os.path.join(fixtures, "raw", "rca_data", day)
    base_dir = os.path.join(fixtures, "raw", "construct_data", day)
    traces = load_spans(minute_files(day_dir, "trace", onset))
    logs = load_logs(minute_files(day_dir, "log", onset))
    base_traces = load_spans([os.path.join(base_dir, "trace", f)
                              for f in sorted(os.listdir(os.path.join(base_dir, "trace")))])
    base_logs = load_logs([os.path.join(base_dir, "log", f)
                           for f in sorted(os.listdir(os.path.join(base_dir, "log")))])
    incident, before = {}, {}
    for tid, spans in traces.items():
        root = root_of(spans)
        (incident if int(root["StartTimeUnixNano"]) / 1e9 >= onset else before)[tid] = spans
    base_traces.update(before)
    now = max(int(s["EndTimeUnixNano"]) for spans in incident.values() for s in spans) / 1e9
    entry = service_of(root_of(next(iter(incident.values())))["PodName"])
    before_ids = set(before)
    inc_logs = [l for l in logs if l[2] in incident]
    base_logs = [l for l in base_logs if l[2] in base_traces] + [l for l in logs if l[2] in before_ids]
    base_logs.sort()

    bundle = os.path.join(out, case)
    os.makedirs(bundle)
    write_json(os.path.join(bundle, "jaeger-traces.json"), jaeger(incident))
    write_json(os.path.join(bundle, "baseline", "jaeger-traces.json"), jaeger(base_traces))
    write_logs(bundle, inc_logs, entry)
    write_logs(os.path.join(bundle, "baseline"), base_logs, entry)
    pods = {s["PodName"] for spans in list(incident.values()) + list(base_traces.values())
            for s in spans}
    metric_dir = os.path.join(day_dir, "metric")
    for name, answer in metric_series(metric_dir, pods, int(onset) - 3600, int(now)).items():
        write_json(os.path.join(bundle, "prometheus-%s.json" % name), answer)
    p99 = entry_latency(metric_dir, entry, int(onset) - 3600, int(now))
    write_json(os.path.join(bundle, "prometheus-latency-p99.json"), p99)
    entry_pod = next(s["PodName"] for spans in incident.values() for s in spans
                     if service_of(s["PodName"]) == entry)
    write_json(os.path.join(bundle, "kubernetes-pods.json"), pod_list(entry_pod, entry, onset - 86400))
    last = [float(v) for _, v in p99["data"]["result"][0]["values"]][-1:] or [0]
    title = "%s p99 latency %.2fs above its alarm" % (entry, last[0])
    fingerprint = "prometheus/%s/above/latency-p99" % entry
    write_json(os.path.join(bundle, "incident.json"), {
        "id": number, "fingerprint": fingerprint, "service": entry, "title": title,
        "severity": "high", "category": None, "state": "INCIDENT_DETECTED", "source": "prometheus",
        "occurrences": 1, "opened_at": iso(onset), "updated_at": iso(now), "resolved_at": None,
        "remote_key": None, "remote_url": None,
        "events": [{"at": iso(onset), "kind": "opened", "actor": "sre-scout",
                    "body": {"service": entry, "title": title, "severity": "high",
                             "fingerprint": fingerprint, "source": "prometheus"}}]})
    write_json(os.path.join(bundle, "sources.json"), [
        {"source": s, "status": "ok", "error": None, "read_at": iso(now), "elapsed_ms": 0}
        for s in ("kubernetes", "jaeger", "prometheus")])
    return len(incident), len(base_traces)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: nezha-import.py <fixture dir> <out dir>")
    fixtures, out = sys.argv[1], sys.argv[2]
    with open(os.path.join(fixtures, "labels.json")) as f:
        labels = json.load(f)
    os.makedirs(out, exist_ok=True)
    truth = {}
    for n, case in enumerate(sorted(labels), 1):
        label = labels[case]
        if os.path.exists(os.path.join(out, case)):
            sys.exit("%s: already imported; remove %s first" % (case, out))
        inc, base = import_case(fixtures, case, label, out, n)
        truth[case] = {"service": label["service"], "fault": label["fault"]}
        print("%s: %d traces, %d in the baseline" % (case, inc, base), file=sys.stderr)
    write_json(os.path.join(out, "labels.json"), truth)


if __name__ == "__main__":
    main()
