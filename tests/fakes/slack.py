#!/usr/bin/env python3
"""slack.py: a fake Slack incoming webhook for sre's tests, standard library only.

    python3 tests/fakes/slack.py --port-file F --log F [--lifetime SECONDS]

It listens on 127.0.0.1 (a free port, written to --port-file once it
listens) and answers like hooks.slack.com: POST /services/<T>/<B>/<X> (any
three segments) gets 200 "ok" as text/plain for a JSON object with a
non-empty "text" or "blocks"; a body that is not a JSON object gets 400
"invalid_payload"; one with neither field 400 "no_text"; any other path
404 "no_service" (what Slack says of a revoked hook). Every answer is a
plain-text code, never JSON, as Slack's are.

Every request but the /_fake/ ones is appended to --log as one JSON line:
{"method", "path" (as received), "query" (the raw query string),
"headers" (lower-case names), "body" (text)}.

Control endpoint, for tests:
    POST /_fake/fail  {"method": "POST", "path": "<regex>", "status": 404,
                       "headers": {"Retry-After": "1"}, "body": "channel_not_found",
                       "times": 1}
                      the next `times` matching requests get that answer
                      (Slack's other answers: 410 channel_is_archived,
                      403 action_prohibited, 429 with Retry-After,
                      500 rollup_error)

It exits after --lifetime seconds (default 120) or on SIGTERM.
"""
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler

import fakeserver  # the command line and life every fake shares

args = None
lock = threading.Lock()
failures = []   # queued answers from /_fake/fail
HOOK = re.compile(r"^/services/[^/]+/[^/]+/[^/]+$")


def answer_for(method, path, body):
    """What hooks.slack.com says to this request: (status, text)."""
    if method != "POST" or not HOOK.match(path):
        return 404, "no_service"
    try:
        payload = json.loads(body)
    except ValueError:
        return 400, "invalid_payload"
    if not isinstance(payload, dict):
        return 400, "invalid_payload"
    if not payload.get("text") and not payload.get("blocks"):
        return 400, "no_text"
    return 200, "ok"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def version_string(self):
        return "Apache"

    def log_message(self, fmt, *a):
        pass

    def send(self, status, body, headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        data = (body or "").encode() if isinstance(body, (str, type(None))) else body
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("X-Slack-Backend", "r")
        self.send_header("Vary", "Accept-Encoding")
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_one(self):
        raw_path, _, raw_query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        if raw_path.startswith("/_fake/"):
            return self.control(raw_path, raw_body)
        with lock:
            with open(args.log, "a") as f:
                f.write(json.dumps({
                    "method": self.command, "path": raw_path, "query": raw_query,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": raw_body}) + "\n")
            for f in failures:
                if f["times"] > 0 and f.get("method", self.command) == self.command \
                        and re.search(f.get("path", ""), raw_path):
                    f["times"] -= 1
                    return self.send(f.get("status", 500), f.get("body", ""),
                                     f.get("headers"))
        status, text = answer_for(self.command, raw_path, raw_body)
        self.send(status, text)

    def control(self, path, raw_body):
        if path == "/_fake/fail" and self.command == "POST":
            try:
                f = json.loads(raw_body)
            except ValueError:
                return self.send(400, "the body is not JSON")
            f.setdefault("times", 1)
            with lock:
                failures.append(f)
            return self.send(201, {"queued": f})
        return self.send(404, "no such control endpoint")

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = handle_one


def main():
    global args
    args = fakeserver.arguments("a fake Slack incoming webhook").parse_args()
    return fakeserver.serve(Handler, args)


if __name__ == "__main__":
    sys.exit(main())
