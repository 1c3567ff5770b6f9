#!/usr/bin/env python3
"""
score.py: diagnose every imported case with `sre diagnose --evidence` and
score the ranking against the labels, beside the published table.

    score.py <sre> <bundles dir> [case...]

AS@k is the share of cases whose injected service is among the first k
candidates (the paper's service-level top-k accuracy); the category is
right when the answer's category is the one the fault type maps to. The
time of each diagnosis is the whole `sre diagnose` process, measured here,
beside the time of `sre version` (the process's own start) as its baseline.
Exits 1 when a diagnosis fails (prints no JSON).
"""
import json
import os
import subprocess
import sys
import time

PUBLISHED = [  # Nezha, ESEC/FSE 2023, Table 3: all 45 TrainTicket faults
    ("Nezha", 86.67, 97.78, 97.78), ("MicroRCA", 20.00, 31.11, 44.44),
    ("MicroScope", 17.78, 26.67, 35.56), ("LogFaultFlagger", 17.78, 24.44, 24.44),
    ("MicroRank", 15.56, 24.44, 35.56), ("SBLD", 15.56, 22.22, 24.44),
    ("TraceAnomaly", 13.33, 28.89, 33.33), ("PDiagnose", 8.89, 13.33, 22.22),
]
CATEGORY = {"cpu_contention": "resource-exhaustion", "network_delay": "latency",
            "return": "dependency", "exception": "dependency"}


def run(argv):
    t0 = time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p, time.monotonic() - t0


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: score.py <sre> <bundles dir> [case...]")
    sre, root = sys.argv[1], sys.argv[2]
    with open(os.path.join(root, "labels.json")) as f:
        labels = json.load(f)
    cases = sys.argv[3:] or sorted(labels)
    start = min(run([sre, "version"])[1] for _ in range(5))
    hits = {1: 0, 3: 0, 5: 0}
    per_fault, times, failed = {}, [], 0
    for case in cases:
        truth = labels[case]
        p, took = run([sre, "diagnose", "--evidence", os.path.join(root, case), "--json"])
        times.append(took)
        try:
            d = json.loads(p.stdout)
        except ValueError:
            print("%s: sre diagnose exited %d: %s" % (case, p.returncode,
                                                     p.stderr.decode()[:300]), file=sys.stderr)
            failed += 1
            continue
        ranked = [c.get("service") for c in d.get("candidates") or []]
        rank = ranked.index(truth["service"]) + 1 if truth["service"] in ranked else 0
        for k in hits:
            hits[k] += 1 if 0 < rank <= k else 0
        category = d.get("category")
        pf = per_fault.setdefault(truth["fault"], [0, 0, 0, 0])
        pf[0] += 1
        pf[1] += rank == 1
        pf[2] += 0 < rank <= 3
        pf[3] += category == CATEGORY[truth["fault"]]
        print("%-12s %-15s %-32s rank %-3s got %-32s %-20s %.0f ms" % (
            case, truth["fault"], truth["service"], rank or "-", ranked[0] if ranked else "-",
            category, took * 1000))
    n = len(cases)
    print()
    print("| method | AS@1 | AS@3 | AS@5 |")
    print("| --- | ---: | ---: | ---: |")
    print("| **sre, %d development cases** | **%.2f** | **%.2f** | **%.2f** |" % (
        n, 100 * hits[1] / n, 100 * hits[3] / n, 100 * hits[5] / n))
    for name, a1, a3, a5 in PUBLISHED:
        print("| %s (45 faults, published) | %.2f | %.2f | %.2f |" % (name, a1, a3, a5))
    print()
    print("| fault | cases | service first | in top 3 | category right |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for fault, (c, first, top3, cat) in sorted(per_fault.items()):
        print("| %s | %d | %d | %d | %d |" % (fault, c, first, top3, cat))
    times.sort()
    print()
    print("diagnosis time per case: median %.0f ms, max %.0f ms (budget 1000 ms: %.2fx of it); "
          "sre version alone %.0f ms, so a diagnosis costs %.1fx a bare start" % (
              1000 * times[len(times) // 2], 1000 * times[-1], times[-1], 1000 * start,
              times[len(times) // 2] / start if start else 0))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
