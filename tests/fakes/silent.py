"""A server that accepts connections and never answers: a Prometheus (or
any source) that hangs, for the status line of `sre scout` and `sre
diagnose` (t4300). It reads what a client sends, answers nothing, and logs
one JSON line per connection accepted, with its request line, so a test
can count the tries. It writes its port to --port-file once listening and
exits by itself after --lifetime seconds or on SIGTERM.
"""
import argparse
import json
import os
import signal
import socket
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--lifetime", type=float, default=60)
    args = ap.parse_args()

    # Gone at once on SIGTERM or at the end of its life, held connections and all.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    timer = threading.Timer(args.lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    held = []
    lock = threading.Lock()

    def hold(conn):
        # Read the request line for the log, then say nothing, ever.
        conn.settimeout(5)
        try:
            line = conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
        except OSError:
            line = ""
        with lock, open(args.log, "a") as f:
            f.write(json.dumps({"request": line}) + "\n")
        held.append(conn)

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=hold, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
