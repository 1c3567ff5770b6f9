#!/usr/bin/env python3
"""A service for sre scout's HTTP checks to watch: healthy, failing, slow
and hanging endpoints on 127.0.0.1, each switchable while it runs.

    python3 target.py --port-file F --log F [--lifetime SECONDS]

Every path answers 200 "ok" until told otherwise:
    POST /_fake/set {"path": "/api", "status": 503, "body": "...",
                     "delay_ms": 0}   how that path answers from now on
    GET /hang                         never answers (until the lifetime ends)
Each request is logged as one JSON line, like every fake.
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler

import fakeserver

lock = threading.Lock()
routes = {}
log_path = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def answer(self, status, body, ctype="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_one(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        path = self.path.split("?")[0]
        if path == "/_fake/set" and self.command == "POST":
            r = json.loads(raw)
            with lock:
                routes[r["path"]] = r
            return self.answer(200, "set", "application/json")
        with lock, open(log_path, "a") as f:
            f.write(json.dumps({"method": self.command, "path": path, "query": "",
                                "headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": raw}) + "\n")
            r = dict(routes.get(path, {}))
        if path == "/hang":
            time.sleep(3600)
        if r.get("delay_ms"):
            time.sleep(r["delay_ms"] / 1000)
        return self.answer(r.get("status", 200), r.get("body", "ok"))

    do_GET = do_POST = do_HEAD = handle_one


def main():
    global log_path
    args = fakeserver.arguments("a service for HTTP checks").parse_args()
    log_path = args.log
    return fakeserver.serve(Handler, args)


if __name__ == "__main__":
    raise SystemExit(main())
