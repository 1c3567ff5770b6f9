#!/usr/bin/env python3
"""prometheus.py: a fake Prometheus server for sre's tests, standard library only.

    python3 tests/fakes/prometheus.py --port-file F --log F [--lifetime SECONDS]
                                      [--data F] [--basic-auth USER:PASSWORD]
                                      [--bearer-token T]

It answers the endpoints of the HTTP API (docs/querying/api.md of
prometheus/prometheus) that `sre scout` and `sre diagnose` read, with the
envelope and result shapes of ../shared/fixtures/prometheus/prometheus-docs-api:

    GET|POST /api/v1/query?query=<PromQL>[&time=...]
        {"status": "success", "data": {"resultType": "vector"|"scalar",
         "result": ...}}: a vector is [{"metric": {...}, "value": [<unix
        time>, "<number>"]}, ...], a scalar is [<unix time>, "<number>"];
        sample values are strings, as Prometheus writes them ("0.012", "1",
        "NaN", "+Inf").
    GET|POST /api/v1/query_range?query=<PromQL>&start=<t>&end=<t>&step=<d>
        {"status": "success", "data": {"resultType": "matrix", "result":
         [{"metric": {...}, "values": [[<unix time>, "<number>"], ...]}]}}:
        a point every step from start to end; start and end are Unix
        seconds or RFC 3339, step seconds or a duration ("30s", "1m"). As
        Prometheus does, a bad start, end or step, an end before the start,
        a step not above 0, or more than 11,000 points answer 400 with
        errorType "bad_data" and its own error text.
    GET /api/v1/alerts
        {"status": "success", "data": {"alerts": [{"labels", "annotations",
         "state", "activeAt", "value"}, ...]}}

There is no PromQL here: the answers come from a scenario, a JSON object
read from --data (and replaced with POST /_fake/set):

    {"<exact query text>": 0.5,                      a scalar
     "<exact query text>": [{"metric": {"pod": "a"}, "value": 0.012}, ...],
                                                      a vector ("value" a
                                                      number or "NaN")
     "<exact query text>": [{"metric": {...}, "values": [1, 2, "NaN"]}],
                                                      over a range, point
                                                      i has values[i % n]
                                                      (else "value"; a
                                                      scalar is one series
                                                      without labels)
     "alerts": [{"labels": {...}, "annotations": {...}, "state": "firing",
                 "activeAt": "...", "value": "1e+00"}, ...]}

A query the scenario does not name answers an empty vector or matrix (no data). A
query containing "syntax error" answers 400 {"status": "error", "errorType":
"bad_data", "error": "invalid parameter \\"query\\": 1:8: parse error: ..."},
and a missing query 400 as well, as Prometheus does.

With --basic-auth or --bearer-token every API request must carry that
Authorization, or gets 401 "Unauthorized" as text, as Prometheus's
web.config.file authentication answers.

Every request but the /_fake/ ones is appended to --log as one JSON line:
{"method", "path" (as received), "query" (the raw query string),
"headers" (lower-case names), "body" (text)}.

Control endpoints, neither logged nor authenticated:
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
import base64
import datetime
import decimal
import math
import re
import sys
import time
from urllib.parse import parse_qs

import fakeserver  # the command line, life and request machinery every fake shares

args = None


def sample_string(v):
    """A sample value as Prometheus writes it (Go's FormatFloat 'f', -1)."""
    if isinstance(v, str):
        v = float(v)
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    return format(decimal.Decimal(repr(v)), "f")


def now():
    return round(time.time(), 3)


def query_answer(scenario, query):
    """(status, body) for an instant query."""
    if query is None or query.strip() == "":
        return 400, {"status": "error", "errorType": "bad_data",
                     "error": "invalid parameter \"query\": 1:1: parse error: "
                              "no expression found in input"}
    if "syntax error" in query:
        col = query.index("syntax error") + len("syntax ") + 1
        return 400, {"status": "error", "errorType": "bad_data",
                     "error": "invalid parameter \"query\": 1:%d: parse error: "
                              "unexpected identifier \"error\"" % col}
    value = scenario.get(query)
    ts = now()
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return 200, {"status": "success",
                     "data": {"resultType": "scalar", "result": [ts, sample_string(value)]}}
    result = []
    for series in value if isinstance(value, list) else []:
        result.append({"metric": dict(series.get("metric", {})),
                       "value": [ts, sample_string(series.get("value", 0))]})
    return 200, {"status": "success", "data": {"resultType": "vector", "result": result}}


class BadData(Exception):
    """A parameter Prometheus refuses: its error text."""


def parse_time(name, s):
    """Unix seconds or RFC 3339, as Prometheus's parseTime reads them."""
    try:
        return float(s)
    except ValueError:
        pass
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", s)
    if m:
        zone = "+00:00" if m.group(3) == "Z" else m.group(3)
        t = datetime.datetime.fromisoformat(m.group(1) + zone).timestamp()
        return t + float("0" + (m.group(2) or ".0"))
    raise BadData('invalid parameter "%s": cannot parse "%s" to a valid timestamp' % (name, s))


UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def parse_step(s):
    """Seconds or a Prometheus duration ("30s", "1m30s"), as parseDuration reads them."""
    try:
        return float(s)
    except ValueError:
        pass
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w|y)", s)
    if s and "".join(n + u for n, u in parts) == s:
        return sum(int(n) * UNITS[u] for n, u in parts)
    raise BadData('invalid parameter "step": cannot parse "%s" to a valid duration' % s)


def timestamp(t):
    """A sample's time as Prometheus writes it: seconds, milliseconds only when not 0."""
    t = round(t, 3)
    return int(t) if t == int(t) else t


def range_answer(scenario, params):
    """(status, body) for a range query."""
    def param(name):
        return params.get(name, [""])[0]
    try:
        start = parse_time("start", param("start"))
        end = parse_time("end", param("end"))
        if end < start:
            raise BadData('invalid parameter "end": end timestamp must not be before start time')
        step = parse_step(param("step"))
        if step <= 0:
            raise BadData('invalid parameter "step": zero or negative query resolution step '
                          'widths are not accepted. Try a positive integer')
        if (end - start) / step > 11000:
            raise BadData("exceeded maximum resolution of 11,000 points per timeseries. "
                          "Try decreasing the query resolution (?step=XX)")
    except BadData as e:
        return 400, {"status": "error", "errorType": "bad_data", "error": str(e)}
    status, body = query_answer(scenario, params.get("query", [None])[0])
    if status != 200:
        return status, body
    value = scenario.get(params["query"][0])
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        value = [{"metric": {}, "value": value}]
    points = int((end - start) // step) + 1
    result = []
    for series in value if isinstance(value, list) else []:
        values = series.get("values") or [series.get("value", 0)]
        result.append({"metric": dict(series.get("metric", {})),
                       "values": [[timestamp(start + i * step), sample_string(values[i % len(values)])]
                                  for i in range(points)]})
    return 200, {"status": "success", "data": {"resultType": "matrix", "result": result}}


def alerts_answer(scenario):
    alerts = scenario.get("alerts", [])
    out = []
    for a in alerts:
        out.append({
            "labels": dict(a.get("labels", {})),
            "annotations": dict(a.get("annotations", {})),
            "state": a.get("state", "firing"),
            "activeAt": a.get("activeAt", "2018-07-04T20:27:12.60602144+02:00"),
            "value": a.get("value", "1e+00"),
        })
    return 200, {"status": "success", "data": {"alerts": out}}


class Handler(fakeserver.ScenarioHandler):
    def authorized(self):
        given = self.headers.get("Authorization")
        if args.basic_auth:
            want = "Basic " + base64.b64encode(args.basic_auth.encode()).decode()
            return given == want
        if args.bearer_token:
            return given == "Bearer " + args.bearer_token
        return True

    def route(self, path, query, body):
        if not self.authorized():
            return self.answer(401, "Unauthorized\n",
                               {"WWW-Authenticate": "Basic" if args.basic_auth else "Bearer"})
        with self.lock:
            scenario = self.scenario  # /_fake/set replaces it, never changes it
        if path in ("/api/v1/query", "/api/v1/query_range") and \
                self.command in ("GET", "POST"):
            params = parse_qs(query, keep_blank_values=True)
            if self.command == "POST" and "form-urlencoded" in \
                    (self.headers.get("Content-Type") or ""):
                params.update(parse_qs(body, keep_blank_values=True))
            if path == "/api/v1/query_range":
                return self.answer(*range_answer(scenario, params))
            return self.answer(*query_answer(scenario, params.get("query", [None])[0]))
        if path == "/api/v1/alerts" and self.command == "GET":
            return self.answer(*alerts_answer(scenario))
        self.answer(404, "404 page not found\n")


def main():
    global args
    p = fakeserver.arguments("a fake Prometheus HTTP API")
    p.add_argument("--data", help="the scenario: a JSON object")
    p.add_argument("--basic-auth", help="USER:PASSWORD every request must give")
    p.add_argument("--bearer-token", help="a token every request must give")
    args = p.parse_args()
    Handler.read_scenario(args.data)
    return fakeserver.serve(Handler, args)


if __name__ == "__main__":
    sys.exit(main())
