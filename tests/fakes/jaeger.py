#!/usr/bin/env python3
"""jaeger.py: a fake Jaeger query service for sre's tests, standard library only.

    python3 tests/fakes/jaeger.py --port-file F --log F [--lifetime SECONDS]
                                  [--data F]

It answers the JSON API the Jaeger UI reads (jaeger-query's /api, port
16686), with the shapes of ../shared/fixtures/jaeger (jaeger's
otlp2jaeger-out envelope and ui_01 trace, jaeger-ui's trace_statistics):

    GET /api/traces?service=S[&start=<µs>&end=<µs>&limit=N&lookback=...]
        {"data": [trace, ...], "total": 0, "limit": 0, "offset": 0,
         "errors": null}, each trace {"traceID", "spans": [{"traceID",
         "spanID", "operationName", "references": [{"refType", "traceID",
         "spanID"}], "startTime" (µs), "duration" (µs), "tags": [{"key",
         "type", "value"}], "logs", "processID", "warnings"}], "processes":
         {"p1": {"serviceName", "tags"}}, "warnings"}; at most `limit`
        traces (Jaeger's default 100). As jaeger-query does, it reads
        start and end (microseconds) and ignores lookback, which only the
        UI uses; a bad start, end or limit, or no service, is 400 with
        {"data": null, ..., "errors": [{"code": 400, "msg": "..."}]}.
    GET /api/services
        {"data": ["checkout", ...], "total": N, "limit": 0, "offset": 0,
         "errors": null}

The traces are generated from a scenario, a JSON object read from --data
(and replaced with POST /_fake/set), keyed by service:

    {"checkout": {"count": 200,            traces of the service
                  "errors": 24,            of which this many failed
                  "durations_ms": [120, 900],  entry span durations, in turn
                  "handled_errors": 3,     errors on an inner span only
                  "caller": "frontend"}}   every other trace is called by it

or, for traces of a shape of the test's own, a service's traces as
Jaeger would answer them, kept when their first span starts within
[start, end], at most `limit` of them:

    {"checkout": {"traces": [trace, ...]}}

Trace i of a service: its entry span (span.kind server, http.status_code
200) is a root when i is odd or there is no caller; otherwise it is the
child of the caller's span (a longer one, in another process). Under the
entry span sit a database call of the same service and a call into
"payments", another service. A failed trace marks its entry span with, in
turn: error=true (bool), error="true" (string), otel.status_code=ERROR, and
http.status_code=503. A handled error sets error=true on the database
span only, which a caller never saw.

Every request but the /_fake/ ones is appended to --log as one JSON line:
{"method", "path" (as received), "query" (the raw query string),
"headers" (lower-case names), "body" (text)}.

Control endpoints, not logged:
    POST /_fake/set   a scenario, as in --data: replaces the current one
    POST /_fake/fail  {"method": "GET", "path": "<regex>", "status": 503,
                       "headers": {...}, "body": ..., "times": 1}: the next
                       `times` matching requests get that answer
    POST /_fake/delay {"method": "GET", "path": "<regex>", "seconds": 5,
                       "times": 1}: the next `times` matching requests
                       wait that long before their answer
    GET  /_fake/state the current scenario

It exits after --lifetime seconds (default 120) or on SIGTERM.
"""
import hashlib
import json
import sys
import time
from urllib.parse import parse_qs

import fakeserver  # the command line, life and request machinery every fake shares

DEFAULT_LIMIT = 100  # jaeger-query's defaultQueryLimit


def hexid(n, *parts):
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()[:n]


def tag(key, value):
    if isinstance(value, bool):
        kind = "bool"
    elif isinstance(value, int):
        kind = "int64"
    elif isinstance(value, float):
        kind = "float64"
    else:
        kind = "string"
    return {"key": key, "type": kind, "value": value}


def process(service):
    return {"serviceName": service, "tags": [
        tag("telemetry.sdk.language", "go"), tag("telemetry.sdk.name", "opentelemetry"),
        tag("host.name", service + "-7d4b9c-x2x9z")]}


def span(trace_id, span_id, op, parent, start, duration, tags, pid):
    refs = [] if parent is None else [
        {"refType": "CHILD_OF", "traceID": trace_id, "spanID": parent}]
    return {"traceID": trace_id, "spanID": span_id, "operationName": op,
            "references": refs, "startTime": start, "duration": duration,
            "tags": tags, "logs": [], "processID": pid, "warnings": None}


def error_tags(style):
    """The four ways a failed span is marked, in turn."""
    return [[tag("error", True)],
            [tag("error", "true")],
            [tag("otel.status_code", "ERROR"), tag("otel.status_description", "deadline exceeded")],
            [tag("http.status_code", 503)]][style % 4]


def trace(service, spec, i, start_us, end_us):
    count = max(int(spec.get("count", 0)), 1)
    errors = int(spec.get("errors", 0))
    durations = spec.get("durations_ms") or [100]
    caller = spec.get("caller")
    # Failures spread evenly over the traces.
    failed = (i * errors) // count != ((i + 1) * errors) // count
    handled = not failed and i < int(spec.get("handled_errors", 0))
    trace_id = hexid(32, service, i)
    duration = int(float(durations[i % len(durations)]) * 1000)
    start = end_us - (i + 1) * max((end_us - start_us) // (count + 1), 1)
    spans, processes = [], {"p1": process(service)}
    parent = None
    entry_tags = [tag("span.kind", "server"), tag("http.method", "POST"),
                  tag("otel.scope.name", service)]
    if caller and i % 2 == 0:
        parent = hexid(16, service, i, "caller")
        processes["p2"] = process(caller)
        spans.append(span(trace_id, parent, "HTTP POST /" + service, None, start - 2000,
                          3 * duration + 1000000,
                          [tag("span.kind", "client"), tag("http.status_code", 200)], "p2"))
    if failed:
        style = (i * errors) // count
        entry_tags += error_tags(style)
        if style % 4 != 3:
            entry_tags.append(tag("http.status_code", 200))  # only the one mark
    else:
        entry_tags.append(tag("http.status_code", 200))
    entry = hexid(16, service, i, "entry")
    spans.append(span(trace_id, entry, "POST /" + service, parent, start, duration,
                      entry_tags, "p1"))
    db_tags = [tag("span.kind", "client"), tag("db.system", "postgresql")]
    if handled:
        db_tags.append(tag("error", True))
    spans.append(span(trace_id, hexid(16, service, i, "db"), "SELECT " + service,
                      entry, start + 100, duration // 2, db_tags, "p1"))
    processes["p3"] = process("payments")
    spans.append(span(trace_id, hexid(16, service, i, "payments"), "POST /charge",
                      entry, start + 200, duration // 3,
                      [tag("span.kind", "server"), tag("http.status_code", 200)], "p3"))
    return {"traceID": trace_id, "spans": spans, "processes": processes, "warnings": None}


def envelope(data, errors=None, total=0):
    return {"data": data, "total": total, "limit": 0, "offset": 0, "errors": errors}


def bad_request(msg):
    return 400, envelope(None, [{"code": 400, "msg": msg}])


def parse_int(params, name, default):
    v = params.get(name, [""])[0]
    if v == "":
        return default
    try:
        return int(v)
    except ValueError:
        raise ValueError("unable to parse param '%s': strconv.ParseInt: parsing %s: "
                         "invalid syntax" % (name, json.dumps(v)))


def traces_answer(scenario, raw_query):
    params = parse_qs(raw_query, keep_blank_values=True)
    service = params.get("service", [""])[0]
    now_us = int(time.time() * 1e6)
    try:
        start = parse_int(params, "start", now_us - 2 * 86400 * 1000000)
        end = parse_int(params, "end", now_us)
        limit = parse_int(params, "limit", DEFAULT_LIMIT)
    except ValueError as e:
        return bad_request(str(e))
    if not service:
        return bad_request("parameter 'service' is required")
    spec = scenario.get(service)
    if not isinstance(spec, dict):
        return 200, envelope([])
    if isinstance(spec.get("traces"), list):
        def first(t):
            return min((sp.get("startTime", 0) for sp in t.get("spans", [])), default=0)
        kept = [t for t in spec["traces"] if start <= first(t) <= end]
        return 200, envelope(kept[:limit] if limit > 0 else kept)
    n = int(spec.get("count", 0))
    if limit > 0:
        n = min(n, limit)
    return 200, envelope([trace(service, spec, i, start, end) for i in range(n)])


def services_answer(scenario):
    names = set(scenario)
    for spec in scenario.values():
        if isinstance(spec, dict):
            if spec.get("caller"):
                names.add(spec["caller"])
            names.add("payments")
    names = sorted(names)
    return 200, envelope(names, total=len(names))


class Handler(fakeserver.ScenarioHandler):
    def route(self, path, query, body):
        with self.lock:
            scenario = self.scenario  # /_fake/set replaces it, never changes it
        if self.command == "GET" and path == "/api/traces":
            return self.answer(*traces_answer(scenario, query))
        if self.command == "GET" and path == "/api/services":
            return self.answer(*services_answer(scenario))
        self.answer(404, "404 page not found\n")


def main():
    p = fakeserver.arguments("a fake Jaeger query service")
    p.add_argument("--data", help="the scenario: a JSON object keyed by service")
    args = p.parse_args()
    Handler.read_scenario(args.data)
    return fakeserver.serve(Handler, args)


if __name__ == "__main__":
    sys.exit(main())
