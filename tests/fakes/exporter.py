#!/usr/bin/env python3
"""A small service for a real Prometheus to scrape: its /metrics holds two
counters that grow with the clock, at rates the test sets while it runs.

    python3 exporter.py --port-file F --log F [--lifetime SECONDS]

GET /metrics answers the text exposition format:
    http_requests_total{code="200"} and http_requests_total{code="500"},
    each advanced by (its rate per second) x (the seconds since the last
    answer), so rate() over them is the rate set, whatever the scrape times.
POST /_fake/set {"ok": 100, "errors": 50}  the rates per second from now on
    (either may be left out; both start at 100 and 0).
Requests are logged as one JSON line each, like every fake's.
"""
import json
import time

import fakeserver

rates = {"200": 100.0, "500": 0.0}
totals = {"200": 0.0, "500": 0.0}
last = [time.monotonic()]


def advance():
    now = time.monotonic()
    for code in totals:
        totals[code] += rates[code] * (now - last[0])
    last[0] = now


class Handler(fakeserver.FakeHandler):
    methods = ("GET", "POST", "HEAD")
    text_type = "text/plain; version=0.0.4; charset=utf-8"

    def control(self, path, raw):
        if path == "/_fake/set" and self.command == "POST":
            r = self.control_json(raw)
            with self.lock:
                advance()
                if "ok" in r:
                    rates["200"] = float(r["ok"])
                if "errors" in r:
                    rates["500"] = float(r["errors"])
            return self.answer(200, {"rates": rates})
        return super().control(path, raw)

    def route(self, path, query, body):
        if path != "/metrics":
            return self.answer(404, "not found\n")
        with self.lock:
            advance()
            text = ("# HELP http_requests_total Requests answered, by status code.\n"
                    "# TYPE http_requests_total counter\n")
            for code in sorted(totals):
                text += 'http_requests_total{code="%s"} %d\n' % (code, int(totals[code]))
        return self.answer(200, text)


def main():
    args = fakeserver.arguments("an exporter whose error rate the test sets").parse_args()
    return fakeserver.serve(Handler, args)


if __name__ == "__main__":
    raise SystemExit(main())
