"""A hostile server on 127.0.0.1, for tests/t8030-trust-remote.sh: it
answers the way a broken or malicious remote would, one way per --mode.

  hang          accepts each connection, reads nothing, answers nothing
  gzip-bomb     every answer is Content-Encoding: gzip, a small body that
                inflates to --size bytes of "0" (inside a JSON string)
  link-cycle    a GitHub list answer ([] items) whose Link rel="next"
                cycles through --pages pages (1: a page naming itself);
                under --path, any other path is a 404
  token-cycle   a JIRA /search/jql answer: one issue and a nextPageToken
                cycling through --pages tokens, never isLast
  status        every answer is --status with --header lines and the
                body of --body-file (an exact byte copy, read anew for each
                request), or of the first --route REGEX=FILE whose regex
                matches the path (Docker's list and inspect, say)

Like the fakes (fakeserver.py), it writes its port to --port-file once
listening, logs each request as a JSON line {"method", "path"} to --log,
and exits by itself after --lifetime seconds or on SIGTERM.
"""
import argparse
import json
import os
import re
import signal
import socket
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

opts = None
log_lock = threading.Lock()
bomb = b""


def log(method, path):
    with log_lock, open(opts.log, "a") as f:
        f.write(json.dumps({"method": method, "path": path}) + "\n")


def make_bomb(size):
    """{"data":"000...0"} of size bytes, gzipped a chunk at a time."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip wrapper
    out = [z.compress(b'{"data":"')]
    chunk = b"0" * (1 << 20)
    left = size
    while left > 0:
        n = min(left, len(chunk))
        out.append(z.compress(chunk[:n]))
        left -= n
    out.append(z.compress(b'"}'))
    out.append(z.flush())
    return b"".join(out)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, headers=()):
        self.send_response(status)
        for h in headers:
            name, _, value = h.partition(":")
            self.send_header(name.strip(), value.strip())
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        path, _, query = self.path.partition("?")
        log(self.command, self.path)
        mode = opts.mode
        if mode == "gzip-bomb":
            self.send(200, bomb, ["Content-Type: application/json",
                                  "Content-Encoding: gzip"])
        elif mode == "link-cycle":
            if opts.path and path != opts.path:
                self.send(404, b'{"message":"Not Found"}', ["Content-Type: application/json"])
                return
            page = 1
            for kv in query.split("&"):
                if kv.startswith("page="):
                    page = int(kv[5:]) if kv[5:].isdigit() else 1
            nxt = page % opts.pages + 1
            base = "http://127.0.0.1:%d%s" % (self.server.server_address[1], path)
            link = '<%s?per_page=100&page=%d>; rel="next"' % (base, nxt)
            self.send(200, b"[]", ["Content-Type: application/json", "Link: " + link])
        elif mode == "token-cycle":
            try:
                token = json.loads(body or b"{}").get("nextPageToken", "t0")
            except ValueError:
                token = "t0"
            i = int(token[1:]) if token[1:].isdigit() else 0
            nxt = "t%d" % ((i + 1) % opts.pages)
            issue = {"id": "10001", "key": "OPS-1",
                     "fields": {"summary": "x", "labels": [], "status": {"name": "Open"}}}
            page = json.dumps({"issues": [issue], "nextPageToken": nxt, "isLast": False})
            self.send(200, page.encode(), ["Content-Type: application/json"])
        else:
            body_file = opts.body_file
            for route in opts.route or []:
                regex, _, file = route.partition("=")
                if re.search(regex, path):
                    body_file = file
                    break
            with open(body_file, "rb") as f:
                self.send(opts.status, f.read(), opts.header or [])

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def serve_hang(sock):
    """Accept, then hold every connection open without a byte in answer."""
    held = []
    while True:
        conn, _ = sock.accept()
        log("CONNECT", "")
        held.append(conn)


def main():
    global opts, bomb
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--lifetime", type=float, default=120)
    p.add_argument("--mode", required=True,
                   choices=["hang", "gzip-bomb", "link-cycle", "token-cycle", "status"])
    p.add_argument("--size", type=int, default=64 << 20)
    p.add_argument("--pages", type=int, default=2)
    p.add_argument("--path", default=None)
    p.add_argument("--status", type=int, default=200)
    p.add_argument("--header", action="append")
    p.add_argument("--body-file", default=os.devnull)
    p.add_argument("--route", action="append")
    opts = p.parse_args()
    open(opts.log, "a").close()

    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    threading.Timer(opts.lifetime, lambda: os._exit(0)).start()
    if opts.mode == "hang":
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        port = sock.getsockname()[1]
        serve = lambda: serve_hang(sock)
    else:
        if opts.mode == "gzip-bomb":
            bomb = make_bomb(opts.size)
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        # sre hanging up on a bomb or a slow answer is the point, not news.
        server.handle_error = lambda *a: None
        port = server.server_address[1]
        serve = server.serve_forever
    tmp = opts.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, opts.port_file)
    serve()


if __name__ == "__main__":
    main()
