#!/usr/bin/env python3
"""
run.py: the LLM adviser's evaluation runner. It asks the adviser of
`sre diagnose --llm` about evaluation cases, with the model the user has
configured ([llm] in sre's config), and prints what it got right. It is
not run in CI, which has no model.

    bench/llm-eval/run.py <sre> [<holmesgpt cases dir>] [<bundle dir>...]

Two kinds of case:

  - HolmesGPT-shaped cases (a directory with test_case.yaml: user_prompt
    and expected_output points, beside the mocked outputs of the tools
    HolmesGPT would call): each becomes an evidence bundle whose incident
    is the question and whose logs are the mocked outputs, one log each
    (so the adviser reads them with list_sources, grep_log and tail_log).
    A point is met when most of its content words (four letters or more)
    are in the adviser's answer (category, root cause, evidence).
    ../shared/fixtures/llm-evals/holmesgpt holds four.
  - The project's own bundles (tests/data/diagnose/*, or any given): the
    adviser should agree with the rules' answer, whose category the
    bundle's name gives.

Only the standard library; test_case.yaml is read for its two keys by a
small reader, so that no YAML module is needed.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

STOP = {"that", "this", "with", "from", "were", "was", "being", "been", "have", "result",
        "mentions", "should", "there", "their", "about", "which", "into", "because"}


def read_case(path):
    prompt, points, in_points = None, [], False
    for line in open(path, encoding="utf-8", errors="replace"):
        if line.startswith("user_prompt:"):
            v = line.split(":", 1)[1].strip()
            prompt = v[1:-1] if len(v) > 1 and v[0] == v[-1] and v[0] in "'\"" else v
            in_points = False
        elif line.startswith("expected_output:"):
            in_points = True
        elif in_points and re.match(r"\s+- ", line):
            points.append(line.split("- ", 1)[1].strip())
        elif in_points and line.strip() and not line.startswith(" "):
            in_points = False
    return prompt, points


def bundle_of(case_dir, prompt, out):
    os.makedirs(os.path.join(out, "logs"))
    names = []
    for f in sorted(os.listdir(case_dir)):
        if f in ("test_case.yaml", "toolsets.yaml", "manifest.yaml") or f.startswith("."):
            continue
        name = re.sub(r"[^A-Za-z0-9._-]", "_", f)[:190].lstrip(".") or "output"
        with open(os.path.join(case_dir, f), "rb") as src, \
                open(os.path.join(out, "logs", name + ".log"), "wb") as dst:
            dst.write(src.read())
        names.append(name)
    pod = re.search(r"[a-z0-9-]+-[a-z0-9]{8,10}-[a-z0-9]{5}", prompt or "")
    service = pod.group(0).rsplit("-", 2)[0] if pod else "unknown"
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with open(os.path.join(out, "incident.json"), "w") as f:
        json.dump({"id": 1, "fingerprint": "eval/%s/question" % service, "service": service,
                   "title": (prompt or "")[:500], "severity": "medium", "category": None,
                   "state": "INCIDENT_DETECTED", "source": "eval", "occurrences": 1,
                   "opened_at": now, "updated_at": now, "events": []}, f)
    return names


def ask(sre, bundle):
    p = subprocess.run([sre, "diagnose", "--evidence", bundle, "--llm", "--json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
    try:
        return json.loads(p.stdout)
    except ValueError:
        return {"error": p.stderr.decode(errors="replace")[:300]}


def met(point, text):
    words = [w for w in re.findall(r"[a-z0-9]{4,}", point.lower()) if w not in STOP]
    return bool(words) and sum(w in text for w in words) * 2 >= len(words)


def answer_text(adviser):
    a = (adviser or {}).get("answer") or {}
    ev = " ".join(a.get("evidence") and [e.get("summary", "") for e in a["evidence"]] or [])
    return " ".join([a.get("category", ""), a.get("root_cause", ""), ev]).lower()


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: run.py <sre> [<holmesgpt cases dir>] [<bundle dir>...]")
    sre = sys.argv[1]
    cases = sys.argv[2] if len(sys.argv) > 2 else "../shared/fixtures/llm-evals/holmesgpt"
    bundles = sys.argv[3:]
    total = passed = 0
    if os.path.isdir(cases):
        for name in sorted(os.listdir(cases)):
            case = os.path.join(cases, name)
            if not os.path.isfile(os.path.join(case, "test_case.yaml")):
                continue
            prompt, points = read_case(os.path.join(case, "test_case.yaml"))
            with tempfile.TemporaryDirectory() as tmp:
                bundle_of(case, prompt, os.path.join(tmp, "b"))
                d = ask(sre, os.path.join(tmp, "b"))
            adviser = d.get("adviser") or {}
            text = answer_text(adviser)
            got = [met(p, text) for p in points]
            total += len(points)
            passed += sum(got)
            print("%-45s %d/%d points  used=%s steps=%s tokens=%s %s" % (
                name, sum(got), len(points), adviser.get("used"), adviser.get("steps"),
                (adviser.get("input_tokens") or 0) + (adviser.get("output_tokens") or 0),
                adviser.get("reason") or d.get("error") or ""))
    else:
        print("%s: skipped: no HolmesGPT cases there" % cases)
    for b in bundles:
        d = ask(sre, b)
        adviser = d.get("adviser") or {}
        total += 1
        passed += bool(adviser.get("agreed"))
        print("%-45s agreed=%s rules=%s adviser=%s %s" % (
            os.path.basename(b.rstrip("/")), adviser.get("agreed"), d.get("category"),
            ((adviser.get("answer") or {}).get("category")), adviser.get("reason") or ""))
    print("\n%d of %d expected points met" % (passed, total) if total else "\nnothing was asked")


if __name__ == "__main__":
    main()
