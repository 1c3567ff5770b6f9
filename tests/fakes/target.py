#!/usr/bin/env python3
"""A service for sre scout's HTTP checks to watch: healthy, failing, slow
and hanging endpoints on 127.0.0.1, each switchable while it runs.

    python3 target.py --port-file F --log F [--lifetime SECONDS]

Every path answers 200 "ok" until told otherwise:
    POST /_fake/set {"path": "/api", "status": 503, "body": "...",
                     "delay_ms": 0}   how that path answers from now on;
                     "bodies": [...] instead of "body" answers each in turn
                     (the last one again once they run out), as a
                     /metrics endpoint whose counters grow
    GET /hang                         never answers (until the lifetime ends)
Each request is logged as one JSON line, like every fake.
"""
import json
import time

import fakeserver

routes = {}


class Handler(fakeserver.FakeHandler):
    methods = ("GET", "POST", "HEAD")
    text_type = "text/plain"

    def control(self, path, raw):
        if path == "/_fake/set" and self.command == "POST":
            r = json.loads(raw)
            with self.lock:
                routes[r["path"]] = r
            return self.answer(200, "set", content_type="application/json")
        return self.serve(path, "", raw)  # no other /_fake/ path is special here

    def serve(self, path, query, raw):
        with self.lock:
            self.log_request_json(path, "", raw)
            route = routes.get(path, {})
            r = dict(route)
            if "bodies" in route:
                n = route.setdefault("served", 0)
                r["body"] = route["bodies"][min(n, len(route["bodies"]) - 1)]
                route["served"] = n + 1
        if path == "/hang":
            time.sleep(3600)
        if r.get("delay_ms"):
            time.sleep(r["delay_ms"] / 1000)
        return self.answer(r.get("status", 200), r.get("body", "ok"))


def main():
    args = fakeserver.arguments("a service for HTTP checks").parse_args()
    return fakeserver.serve(Handler, args)


if __name__ == "__main__":
    raise SystemExit(main())
