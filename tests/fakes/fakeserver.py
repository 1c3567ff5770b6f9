"""What every fake server of sre's tests shares: its command line and its
life. A fake listens on 127.0.0.1 (a free port, written to --port-file once
listening, so the test knows where it is and that it is ready), logs to
--log, and exits by itself after --lifetime seconds or on SIGTERM, so no
test can leave one running."""
import argparse
import os
import signal
import threading
from http.server import ThreadingHTTPServer


def arguments(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--lifetime", type=float, default=120)
    return p


def serve(handler, args):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
