#!/usr/bin/env python3
"""pager.py: a stand-in for PagerDuty's Events API v2 for `make demo`, standard library only
(and the rules of tests/fakes/pagerduty.py).

    python3 examples/demo/pager.py --port-file F --log F [--lifetime SECONDS]

sre's escalation pages PagerDuty; the demo has no PagerDuty account, so
this answers in its place on 127.0.0.1 (a free port, written to
--port-file once it listens; [pagerduty] url points sre at it). It
answers POST /v2/enqueue as events.pagerduty.com does (the rules are
tests/fakes/pagerduty.py's problems(), which the tests use; not its
control endpoints):
    routing_key   a string of exactly 32 characters
    event_action  trigger | acknowledge | resolve
    dedup_key     at most 255 characters; required for acknowledge and resolve
    payload       for a trigger: summary (1 to 1024 characters), source,
                  severity (critical | error | warning | info)
An accepted event gets 202 {"status": "success", "message": "Event
processed", "dedup_key"}; a refused one 400 {"status": "invalid event",
"message": "Event object is invalid", "errors": [...]}. Anything else 404.

Each accepted event is appended to --log as one line a person can read
(the demo shows them: this is the page a person would get):
    PAGE trigger critical dedup=<key>: <summary>
    PAGE acknowledge dedup=<key>
Nothing of the routing key is written. It exits after --lifetime seconds
(default 600) or on SIGTERM, so the demo can leave nothing running.
"""
import argparse
import json
import os
import signal
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# PagerDuty's rules for an event, as the tests' fake answers them: one copy.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "fakes"))
from pagerduty import problems  # noqa: E402

BODY_MAX = 512 * 1024
lock = threading.Lock()
log_path = None


def clean(s, n=300):
    """A line of text from outside, printable and bounded."""
    return "".join(c if c.isprintable() else "?" for c in str(s))[:n]



class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def do_GET(self):
        self.answer(404, {"status": "not found", "message": "Not Found"})

    def do_POST(self):
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = -1
        if n < 0 or n > BODY_MAX:
            return self.answer(413, {"status": "invalid event", "message": "too large"})
        raw = self.rfile.read(n)
        if self.path.split("?")[0] != "/v2/enqueue":
            return self.answer(404, {"status": "not found", "message": "Not Found"})
        try:
            ev = json.loads(raw)
        except ValueError:
            ev = None
        if not isinstance(ev, dict):
            return self.answer(400, {"status": "invalid event", "message": "Event object is invalid",
                                     "errors": ["Malformed JSON"]})
        errs = problems(ev)
        if errs:
            return self.answer(400, {"status": "invalid event", "message": "Event object is invalid",
                                     "errors": errs})
        dedup = ev.get("dedup_key") or uuid.uuid4().hex
        line = "PAGE %s" % ev["event_action"]
        if ev["event_action"] == "trigger":
            p = ev["payload"]
            line += " %s dedup=%s: %s" % (p["severity"], clean(dedup, 80), clean(p["summary"]))
        else:
            line += " dedup=%s" % clean(dedup, 80)
        with lock:
            with open(log_path, "a") as f:
                f.write(line + "\n")
        self.answer(202, {"status": "success", "message": "Event processed", "dedup_key": dedup})


def main():
    global log_path
    ap = argparse.ArgumentParser(description="a stand-in for PagerDuty's Events API v2")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--lifetime", type=float, default=600)
    a = ap.parse_args()
    log_path = a.log
    open(log_path, "a").close()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    threading.Timer(a.lifetime, srv.shutdown).start()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    srv.serve_forever()
    os._exit(0)  # the lifetime timer's thread is not waited for


if __name__ == "__main__":
    sys.exit(main())
