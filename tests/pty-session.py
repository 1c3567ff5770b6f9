#!/usr/bin/env python3
"""pty-session.py: drive an interactive program on a pseudo-terminal, as
script(1) would run it, for tests of sre's REPL (standard library only).

    python3 tests/pty-session.py --log F [--timeout S] STEPS -- COMMAND ARGS...

STEPS is one argument, one step a line:

    expect REGEX     wait (at most --timeout seconds, default 10) until the
                     output since the last match holds REGEX; fail if not
    send TEXT        type TEXT and Enter
    type TEXT        type TEXT without Enter
    key NAME         one key: tab, ctrl-c, ctrl-d, enter, up
    sleep S          wait S seconds, reading what comes meanwhile
    eof              wait for the program to end (at most --timeout)

Everything the program wrote goes to --log, with the escapes as they came.
Exit 0 when every step held and the program ended (eof) or was still
running at the end (then it is killed); 1 with the failing step and the
output since the last match on stderr. The program's exit status is
printed on the last line of the log as "[exit N]" after eof.
"""
import argparse
import os
import pty
import re
import select
import signal
import sys
import time

KEYS = {"tab": b"\t", "ctrl-c": b"\x03", "ctrl-d": b"\x04", "enter": b"\r",
        "up": b"\x1b[A"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("steps")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command and a.command[0] == "--" else a.command
    if not cmd:
        ap.error("no command")
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm"
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    log = open(a.log, "wb")
    seen = b""     # output since the last match
    status = None

    def read_some(deadline):
        nonlocal seen
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], min(left, 0.2))
        if not r:
            return True
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False
        if not data:
            return False
        log.write(data)
        log.flush()
        seen += data
        return True

    def fail(step):
        sys.stderr.write("pty-session: step failed: %s\n--- output since the last match:\n%s\n"
                         % (step, seen.decode("utf-8", "replace")))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        sys.exit(1)

    for step in a.steps.splitlines():
        step = step.strip()
        if not step:
            continue
        verb, _, arg = step.partition(" ")
        if verb == "expect":
            pattern = re.compile(arg.encode())
            deadline = time.monotonic() + a.timeout
            while True:
                m = pattern.search(seen)
                if m:
                    seen = seen[m.end():]
                    break
                if not read_some(deadline):
                    fail(step)
        elif verb == "send":
            os.write(fd, arg.encode() + b"\r")
        elif verb == "type":
            os.write(fd, arg.encode())
        elif verb == "key":
            os.write(fd, KEYS[arg])
        elif verb == "sleep":
            deadline = time.monotonic() + float(arg)
            while read_some(deadline):
                pass
        elif verb == "eof":
            deadline = time.monotonic() + a.timeout
            while read_some(deadline):
                pass
            end = time.monotonic() + 2
            while status is None and time.monotonic() < end:
                done, st = os.waitpid(pid, os.WNOHANG)
                if done:
                    status = os.waitstatus_to_exitcode(st)
                else:
                    time.sleep(0.05)
            if status is None:
                fail(step)
            log.write(b"\n[exit %d]\n" % status)
        else:
            ap.error("unknown step: " + step)
    if status is None:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    log.close()


if __name__ == "__main__":
    main()
