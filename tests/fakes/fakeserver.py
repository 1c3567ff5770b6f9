"""What every fake server of sre's tests shares: its command line, its life
and its request machinery.

A fake listens on 127.0.0.1 (a free port, written to --port-file once
listening, so the test knows where it is and that it is ready) or on a UNIX
socket (docker.py; "ready" goes to --port-file), logs to --log, and exits by
itself after --lifetime seconds or on SIGTERM, so no test can leave one
running.

Its handler subclasses FakeHandler, which for every request
    reads the body (text) and splits the path from the query (split_target),
    sends /_fake/... to control(): POST /_fake/fail queues a failure, POST
        /_fake/delay a delay, and a fake adds its own endpoints by
        overriding control() and calling super().control() for the rest
        (an unknown one gets 404 no_control);
    sends everything else to serve(): under the lock, log_request_json()
        appends {"method", "path", "query", "headers" (lower-case names),
        "body"} to --log as one JSON line; take_delay() counts down the
        first queued delay that matches (method, path regex, "times") and
        the request waits its "seconds", outside the lock, before going on;
        take_failure() counts down the first queued failure that matches
        and its answer goes back instead; otherwise route(path, query,
        body), the fake's own, answers. A client that gave up meanwhile
        (its timeout) is no error of the fake's.
answer(status, body, headers) sends a dict or list as JSON, text as text,
with Content-Type and Content-Length; a fake sets its content types and
adds its own headers in answer_headers(). Raising Answer anywhere in
control() or serve() sends that answer at once. ScenarioHandler adds
POST /_fake/set and GET /_fake/state for a fake whose answers come from a
JSON scenario (prometheus.py, jaeger.py).
"""
import argparse
import json
import os
import re
import signal
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.RLock()  # a fake's failures and, by default, its own state
failures = []             # answers queued by POST /_fake/fail
delays = []               # waits queued by POST /_fake/delay


class Answer(Exception):
    """Raised in a handler to send an answer at once."""

    def __init__(self, status, body=None, headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    methods = ("GET", "POST", "PATCH", "PUT", "DELETE", "HEAD")  # the rest get 501
    lock = lock
    log_lock = lock        # a fake may log under a lock of its own
    failures = failures
    delays = delays
    log_path = None        # --log, set by serve()
    serialize = False      # route() too under the lock, not just the log and the failures
    json_type = "application/json"           # the Content-Type of a dict or list
    text_type = "text/plain; charset=utf-8"  # and of anything else
    json_separators = None
    json_end = ""
    bare_204 = False       # a 204 without Content-Type and Content-Length
    fail_status = 201      # what POST /_fake/fail answers
    not_json = None        # the 400 answer to a control body that is not JSON (None: raise)
    no_control = "no such control endpoint"  # the 404 answer to an unknown /_fake/ endpoint

    def __getattr__(self, name):
        # do_GET, do_POST, ...: every method in `methods` is handle_one.
        if name.startswith("do_") and name[3:] in self.methods:
            return self.handle_one
        raise AttributeError(name)

    def log_message(self, fmt, *a):
        pass

    def address_string(self):
        # A UNIX socket's client has no address.
        a = self.client_address
        return a[0] if isinstance(a, tuple) and a else "unix"

    # ---- a request ----

    def split_target(self):
        """(path, query), both raw, still percent-encoded."""
        path, _, query = self.path.partition("?")
        return path, query

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode("utf-8", "replace") if length else ""

    def handle_one(self):
        path, query = self.split_target()
        body = self.read_body()
        try:
            if path.startswith("/_fake/"):
                return self.control(path, body)
            return self.serve(path, query, body)
        except Answer as a:
            return self.answer(a.status, a.body, a.headers)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its timeout, during a delay): nothing to answer.
            self.close_connection = True

    def serve(self, path, query, body):
        """Log the request, wait a queued delay, answer a queued failure or route it."""
        with self.lock:
            self.log_request_json(path, query, body)
            seconds = self.take_delay(path)
            if not seconds and self.answer_queued(path, query, body):
                return
        if seconds:
            time.sleep(seconds)  # outside the lock: other requests go on meanwhile
            with self.lock:
                if self.answer_queued(path, query, body):
                    return
        return self.route(path, query, body)

    def answer_queued(self, path, query, body):
        """Under the lock: answer a queued failure, or route() when the fake
        serializes its routes; whether it answered."""
        failure = self.take_failure(path)
        if failure is not None:
            self.answer_failure(failure)
            return True
        if self.serialize:
            self.route(path, query, body)
            return True
        return False

    def route(self, path, query, body):
        """The fake's own answer to a request that no failure took."""
        raise NotImplementedError

    def log_request_json(self, path, query, body, **extra):
        """Append the request to --log as one JSON line, with extra fields after."""
        entry = {"method": self.command, "path": path, "query": query,
                 "headers": {k.lower(): v for k, v in self.headers.items()},
                 "body": body}
        entry.update(extra)
        with self.log_lock, open(self.log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")

    # ---- failures ----

    def take_failure(self, path):
        """The first queued failure this request matches, counted down, or None."""
        with self.lock:
            for f in self.failures:
                if f["times"] > 0 and f.get("method", self.command) == self.command \
                        and re.search(f.get("path", ""), path):
                    f["times"] -= 1
                    return f
        return None

    def take_delay(self, path):
        """The seconds of the first queued delay this request matches,
        counted down, or 0."""
        with self.lock:
            for d in self.delays:
                if d["times"] > 0 and d.get("method", self.command) == self.command \
                        and re.search(d.get("path", ""), path):
                    d["times"] -= 1
                    return float(d.get("seconds", 0))
        return 0

    def queue_delay(self, d):
        """POST /_fake/delay {"method", "path" (a regex), "seconds", "times"
        (default 1)}: the next matching requests wait that long, then go on
        (to a queued failure, or the fake's own answer)."""
        if not isinstance(d, dict):
            raise Answer(400, self.not_json or "want a JSON object")
        d.setdefault("times", 1)
        with self.lock:
            self.delays.append(d)
        return self.answer(self.fail_status, {"queued": d})

    def answer_failure(self, f, status=500):
        return self.answer(int(f.get("status", status)), f.get("body"), f.get("headers"))

    def queue_failure(self, f):
        """POST /_fake/fail {"method", "path" (a regex), "status", "headers",
        "body", "times" (default 1)}."""
        f.setdefault("times", 1)
        with self.lock:
            self.failures.append(f)
        return self.answer(self.fail_status, {"queued": f})

    # ---- control endpoints ----

    def control_json(self, raw):
        try:
            return json.loads(raw)
        except ValueError:
            if self.not_json is None:
                raise
            raise Answer(400, self.not_json)

    def control(self, path, raw):
        if path == "/_fake/fail" and self.command == "POST":
            return self.queue_failure(self.control_json(raw))
        if path == "/_fake/delay" and self.command == "POST":
            return self.queue_delay(self.control_json(raw))
        raise Answer(404, self.no_control)

    # ---- answers ----

    def encode(self, body):
        if body is None:
            return b""
        if isinstance(body, bytes):
            return body
        if isinstance(body, str):
            return body.encode()
        return (json.dumps(body, separators=self.json_separators) + self.json_end).encode()

    def content_type_for(self, body):
        return self.json_type if isinstance(body, (dict, list)) else self.text_type

    def answer_headers(self, status, content_type):
        """The headers before the caller's: a fake adds its own here."""
        if content_type:
            self.send_header("Content-Type", content_type)

    def answer(self, status, body=None, headers=None, content_type=None):
        """Answer: a dict or list as JSON, text (or bytes) as it is."""
        data = self.encode(body)
        bare = status == 204 and self.bare_204
        if content_type is None and not bare:
            content_type = self.content_type_for(body)
        self.send_response(status)
        self.answer_headers(status, None if bare else content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        if not bare:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and not bare:
            self.wfile.write(data)


class ScenarioHandler(FakeHandler):
    """A fake whose answers come from a scenario, a JSON object read from
    --data (read_scenario) and replaced with POST /_fake/set; GET
    /_fake/state shows it (prometheus.py, jaeger.py). A control body that is
    empty or not a JSON object gets 404."""
    scenario = {}
    not_json = {"error": "the body is not JSON"}
    no_control = {"error": "no such control endpoint"}

    @classmethod
    def read_scenario(cls, path):
        if path:
            with open(path) as f:
                cls.scenario = json.load(f)

    def control(self, path, raw):
        if path == "/_fake/state" and self.command == "GET":
            with self.lock:
                return self.answer(200, self.scenario)
        body = self.control_json(raw) if raw else None
        if not isinstance(body, dict):
            raise Answer(404, self.no_control)
        if path == "/_fake/set" and self.command == "POST":
            with self.lock:
                type(self).scenario = body
            return self.answer(200, body)
        return super().control(path, raw)


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    # dockerd listens with the kernel's somaxconn; socketserver's 5 would
    # refuse (EAGAIN) a client that makes many requests at once.
    request_queue_size = 128


class TCPServer(ThreadingHTTPServer):
    daemon_threads = True
    # The same on TCP: with a backlog of 5, a client opening many connections
    # at once (diagnose reading several services' lists together) has SYNs
    # dropped, and the kernel retries them only a second later.
    request_queue_size = 128


def arguments(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--lifetime", type=float, default=120)
    return p


def serve(handler, args, unix_socket=None):
    """Serve until the lifetime ends: on 127.0.0.1 at a free port, or on
    the UNIX socket unix_socket."""
    handler.log_path = args.log
    if unix_socket:
        if os.path.exists(unix_socket):
            os.unlink(unix_socket)
        server = UnixServer(unix_socket, handler)
        ready = "ready\n"
    else:
        server = TCPServer(("127.0.0.1", 0), handler)
        ready = "%d\n" % server.server_address[1]
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(ready)
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
