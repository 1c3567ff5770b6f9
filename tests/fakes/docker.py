#!/usr/bin/env python3
"""docker.py: a fake Docker Engine for sre's tests, standard library only.

    python3 tests/fakes/docker.py --socket PATH --port-file F --log F
                                  [--data F] [--lifetime SECONDS]
                                  [--max-api-version 1.41]

It listens on the UNIX socket PATH, as dockerd does on /var/run/docker.sock
(not on TCP), and writes "ready" to --port-file once it listens. It answers
the calls `sre scout` and `sre diagnose` make, shaped field for field like
the Engine API v1.47 (moby's api/docs/v1.47.yaml):

    GET /containers/json[?all=true]     ContainerSummary list; without
                                        all, only running containers
    GET /containers/<id>/json           the inspect object; <id> is the
                                        full id, a unique prefix or a name;
                                        404 {"message": "No such container:
                                        <id>"} otherwise
    GET /containers/<id>/logs?stdout=1&stderr=1[&timestamps=1][&tail=N]
                             [&since=T][&until=T]
                                        the container's log: the last N
                                        lines (tail "all" or absent: every
                                        one; since and until, Unix seconds,
                                        keep those written from since and
                                        before until, as dockerd does after
                                        the tail) of the streams asked for, each
                                        after its RFC 3339 time with
                                        timestamps. Without a TTY, Docker's
                                        multiplexed stream (Content-Type
                                        application/vnd.docker.multiplexed-
                                        stream from API 1.42): per line an
                                        8-byte header (1 stdout or 2 stderr,
                                        three zero bytes, the length as a
                                        big-endian uint32) then the line;
                                        with one, the bytes as the TTY wrote
                                        them (lines end in CRLF), as
                                        application/vnd.docker.raw-stream.
                                        Neither stream asked: 400 "Bad
                                        parameters: you must choose at least
                                        one stream"

    POST /containers/<id>/update        {"Memory": n, "MemorySwap": n}: the
                                        container's limits from now on (its
                                        "memory" and "memory_swap"); 200
                                        {"Warnings": []}, 404 as below, 400
                                        when Memory is above a MemorySwap
                                        other than -1
    POST /containers/<id>/restart[?t=N]  restarts the container, as `sre
                                        fix` does: 204 with no body; it is
                                        running from now on (State.StartedAt
                                        now, FinishedAt when it stopped, the
                                        exit code, OOMKilled and the error
                                        cleared, a health check starting
                                        over; RestartCount unchanged, as
                                        dockerd counts only the restarts of
                                        its restart policy). 404 {"message":
                                        "No such container: <id>"}; with
                                        "restart_error" set, 500 {"message":
                                        "Cannot restart container <id>:
                                        <error>"} and nothing changes

each also under /v<version>/ (1.24 to 1.47, or to --max-api-version, an
older Engine's, which API-Version then says; a newer version gets 400
"client version 1.48 is too new. Maximum supported API version is 1.47"),
plus GET /_ping. Any other path gets 404 {"message": "page not found"}.

The containers come from --data, a compact JSON list the fake expands:

    [{"name": "shop-checkout-1",          required; Id derived from it
      "image": "shop/checkout:1.4",       default "busybox:latest"
      "state": "exited",                  created|running|paused|restarting|
                                          exited|dead (default running)
      "exit_code": 137, "oom_killed": true, "error": "",
      "memory": 16777216, "memory_swap": 33554432,  HostConfig's (default 0)
      "restart_count": 0,
      "started": 1795496820.5,            State.StartedAt, seconds since the
                                          epoch (default two hours ago; a
                                          restart sets it)
      "restart_error": "...",             POST .../restart fails with it
      "health": "unhealthy",              none (default: no healthcheck)|
                                          starting|healthy|unhealthy
      "health_output": "curl: (7) ...",   the last probe's Output
      "failing_streak": 3,
      "compose": "shop/checkout",         compose project/service labels
      "labels": {"k": "v"},               more labels
      "tty": true,                        Config.Tty: the logs come raw
      "logs": ["listening on :8080",      its log, oldest first: a line of
               {"stream": "stderr",       stdout, or of either stream; the
                "line": "panic: ..."}],   line i of n written n-i seconds ago
                                          (or at its "time", Unix seconds)
      "logs_truncate": 5}]                the logs' answer loses its last
                                          5 bytes (a stream cut short)

Every request but the /_fake/ ones is appended to --log as one JSON line:
{"method", "path" (as received), "query" (raw), "headers" (lower-case
names), "body"}.

Control endpoints, for tests:
    POST /_fake/set   a compact list as above: the containers from now on
    POST /_fake/fail  {"method": "GET", "path": "<regex>", "status": 500,
                       "body": {"message": "..."}, "times": 1}
                      the next `times` matching requests get that answer
    POST /_fake/delay {"method": "GET", "path": "<regex>", "seconds": 5,
                       "times": 1}
                      the next `times` matching requests wait that long
    GET /_fake/state  the compact list

It exits after --lifetime seconds (default 120) or on SIGTERM.
"""
import hashlib
import json
import re
import sys
import time
from urllib.parse import parse_qsl

import fakeserver  # the command line, life and request machinery every fake shares

MIN_VERSION, MAX_VERSION = (1, 24), (1, 47)
NOW = time.time()

containers = []  # the compact list


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%09dZ" % (int(t * 1e9) % 10**9)


def human(seconds):
    """go-units' HumanDuration, which dockerd's Status strings use."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return "%d seconds" % s
    m = s // 60
    if m == 1:
        return "About a minute"
    if m < 60:
        return "%d minutes" % m
    h = round(s / 3600)
    if h == 1:
        return "About an hour"
    if h < 48:
        return "%d hours" % h
    return "%d days" % (h // 24)


def container_id(c):
    return c.get("id") or hashlib.sha256(c["name"].encode()).hexdigest()


def labels(c):
    out = {}
    if c.get("compose"):
        project, _, service = c["compose"].partition("/")
        out.update({
            "com.docker.compose.config-hash":
                hashlib.sha256(c["compose"].encode()).hexdigest(),
            "com.docker.compose.container-number": "1",
            "com.docker.compose.depends_on": "",
            "com.docker.compose.image": "sha256:" + image_id(c)[7:],
            "com.docker.compose.oneoff": "False",
            "com.docker.compose.project": project,
            "com.docker.compose.project.config_files": "/srv/%s/compose.yaml" % project,
            "com.docker.compose.project.working_dir": "/srv/%s" % project,
            "com.docker.compose.service": service,
            "com.docker.compose.version": "2.29.7",
        })
    out.update(c.get("labels") or {})
    return out


def image_id(c):
    return "sha256:" + hashlib.sha256(c.get("image", "busybox:latest").encode()).hexdigest()


def times(c):
    """(created, started, finished) in seconds since the epoch."""
    created = NOW - 86400
    started = NOW - 7200 if c.get("state", "running") != "restarting" else NOW - 40
    finished = NOW - 300 if c.get("state") in ("exited", "dead", "restarting") else 0
    if c.get("state") == "restarting":
        finished = NOW - 3
    return created, c.get("started", started), c.get("finished", finished)


def state_of(c):
    """The inspect State object."""
    st = c.get("state", "running")
    created, started, finished = times(c)
    running = st in ("running", "paused", "restarting")
    state = {
        "Status": st,
        "Running": running,
        "Paused": st == "paused",
        "Restarting": st == "restarting",
        "OOMKilled": bool(c.get("oom_killed")),
        "Dead": st == "dead",
        "Pid": 4242 if st in ("running", "paused") else 0,
        "ExitCode": c.get("exit_code", 0) if st != "running" else 0,
        "Error": c.get("error", ""),
        "StartedAt": rfc3339(started) if st != "created" else "0001-01-01T00:00:00Z",
        "FinishedAt": rfc3339(finished) if finished else "0001-01-01T00:00:00Z",
    }
    health = c.get("health")
    if health and health != "none":
        log = []
        streak = c.get("failing_streak", 3 if health == "unhealthy" else 0)
        for i in range(5 if health != "starting" else 1):
            t = NOW - 30 * (5 - i)
            failed = health == "unhealthy" and i >= 5 - max(streak, 1)
            log.append({
                "Start": rfc3339(t),
                "End": rfc3339(t + 0.1),
                "ExitCode": 1 if failed else 0,
                "Output": c.get("health_output", "") if failed or i == 4 else "",
            })
        state["Health"] = {"Status": health, "FailingStreak": streak, "Log": log}
    return state


def status_text(c):
    """The list's Status, as dockerd's State.String() writes it."""
    st = c.get("state", "running")
    created, started, finished = times(c)
    if st in ("running", "paused", "restarting"):
        if st == "paused":
            return "Up %s (Paused)" % human(NOW - started)
        if st == "restarting":
            return "Restarting (%d) %s ago" % (c.get("exit_code", 0), human(NOW - finished))
        health = c.get("health")
        if health and health != "none":
            word = "health: starting" if health == "starting" else health
            return "Up %s (%s)" % (human(NOW - started), word)
        return "Up %s" % human(NOW - started)
    if st == "dead":
        return "Dead"
    if st == "created":
        return "Created"
    return "Exited (%d) %s ago" % (c.get("exit_code", 0), human(NOW - finished))


def networks(c):
    n = int(container_id(c)[:2], 16) % 250 + 2
    net = {
        "IPAMConfig": None, "Links": None, "Aliases": None,
        "MacAddress": "02:42:ac:11:00:%02x" % n,
        "DriverOpts": None,
        "NetworkID": hashlib.sha256(b"bridge").hexdigest(),
        "EndpointID": hashlib.sha256(container_id(c).encode()).hexdigest()
        if c.get("state", "running") == "running" else "",
        "Gateway": "172.17.0.1", "IPAddress": "172.17.0.%d" % n, "IPPrefixLen": 16,
        "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
        "DNSNames": None,
    }
    return {"bridge": net}


def summary(c):
    """A ContainerSummary, as GET /containers/json lists it."""
    created, _, _ = times(c)
    return {
        "Id": container_id(c),
        "Names": ["/" + c["name"]],
        "Image": c.get("image", "busybox:latest"),
        "ImageID": image_id(c),
        "Command": c.get("command", "/docker-entrypoint.sh"),
        "Created": int(created),
        "Ports": [],
        "Labels": labels(c),
        "State": c.get("state", "running"),
        "Status": status_text(c),
        "HostConfig": {"NetworkMode": "bridge"},
        "NetworkSettings": {"Networks": networks(c)},
        "Mounts": [],
    }


def inspect(c):
    """The ContainerInspectResponse of GET /containers/<id>/json."""
    cid = container_id(c)
    created, _, _ = times(c)
    command = c.get("command", "/docker-entrypoint.sh").split()
    config = {
        "Hostname": cid[:12], "Domainname": "", "User": "",
        "AttachStdin": False, "AttachStdout": True, "AttachStderr": True,
        "Tty": bool(c.get("tty")), "OpenStdin": False, "StdinOnce": False,
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Cmd": command,
        "Image": c.get("image", "busybox:latest"),
        "Volumes": None, "WorkingDir": "", "Entrypoint": None, "OnBuild": None,
        "Labels": labels(c),
        "StopSignal": "SIGTERM",
    }
    if c.get("health") and c["health"] != "none":
        config["Healthcheck"] = {"Test": ["CMD-SHELL", "curl -fsS http://localhost/health"],
                                 "Interval": 30000000000}
    return {
        "Id": cid,
        "Created": rfc3339(created),
        "Path": command[0],
        "Args": command[1:],
        "State": state_of(c),
        "Image": image_id(c),
        "ResolvConfPath": "/var/lib/docker/containers/%s/resolv.conf" % cid,
        "HostnamePath": "/var/lib/docker/containers/%s/hostname" % cid,
        "HostsPath": "/var/lib/docker/containers/%s/hosts" % cid,
        "LogPath": "/var/lib/docker/containers/%s/%s-json.log" % (cid, cid),
        "Name": "/" + c["name"],
        "RestartCount": c.get("restart_count", 0),
        "Driver": "overlay2",
        "Platform": "linux",
        "MountLabel": "", "ProcessLabel": "", "AppArmorProfile": "docker-default",
        "ExecIDs": None,
        "HostConfig": {
            "Binds": None, "ContainerIDFile": "",
            "LogConfig": {"Type": "json-file", "Config": {}},
            "NetworkMode": "bridge", "PortBindings": {},
            "RestartPolicy": {"Name": c.get("restart_policy", "unless-stopped"),
                              "MaximumRetryCount": 0},
            "AutoRemove": False, "VolumeDriver": "", "VolumesFrom": None,
            "Privileged": False, "ReadonlyRootfs": False,
            "Memory": c.get("memory", 0), "MemorySwap": c.get("memory_swap", 0), "MemoryReservation": 0,
            "OomKillDisable": False, "OomScoreAdj": 0, "ShmSize": 67108864,
            "CpuShares": 0, "CpuPeriod": 0, "CpuQuota": 0, "CpuRealtimePeriod": 0,
            "CpuRealtimeRuntime": 0, "CpusetCpus": "", "CpusetMems": "", "CpuPercent": 0,
            "CpuCount": 0, "NanoCpus": 0,
            "BlkioWeight": 0, "BlkioWeightDevice": [], "BlkioDeviceReadBps": [],
            "BlkioDeviceWriteBps": [], "BlkioDeviceReadIOps": [], "BlkioDeviceWriteIOps": [],
            "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
            "Devices": [], "DeviceRequests": None, "DeviceCgroupRules": None,
            "IpcMode": "private", "PidMode": "", "PublishAllPorts": False,
            "Ulimits": [], "Init": None, "PidsLimit": None,
        },
        "GraphDriver": {"Data": None, "Name": "overlay2"},
        "Mounts": [],
        "Config": config,
        "NetworkSettings": {
            "Bridge": "", "SandboxID": "", "SandboxKey": "", "Ports": {},
            "HairpinMode": False, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None,
            "EndpointID": "", "Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
            "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "", "MacAddress": "",
            "Networks": networks(c),
        },
    }


def params_of(query):
    """The parameters of a raw query string, the last of each name."""
    return {k: v for k, v in parse_qsl(query, keep_blank_values=True)}


def logs(c, params, version):
    """(status, body, content type) of GET /containers/<id>/logs."""
    def flag(name):
        return params.get(name, "") in ("1", "true", "True")
    if not flag("stdout") and not flag("stderr"):
        return 400, {"message": "Bad parameters: you must choose at least one stream"}, None
    entries = [e if isinstance(e, dict) else {"line": e} for e in c.get("logs") or []]
    stamped = [(e.get("time", NOW - (len(entries) - i)), e) for i, e in enumerate(entries)]
    try:
        tail = int(params.get("tail", "all"))
    except ValueError:
        tail = -1  # dockerd reads what is not a number as "all"
    if tail >= 0:
        stamped = stamped[len(stamped) - tail:] if tail else []
    try:
        since, until = float(params.get("since") or 0), float(params.get("until") or 0)
    except ValueError:
        return 400, {"message": "invalid value for since or until"}, None
    stamped = [(t, e) for t, e in stamped if t >= since and (not until or t < until)]
    tty = bool(c.get("tty"))
    out = b""
    for t, e in stamped:
        stream = e.get("stream", "stdout")
        if not flag(stream):
            continue
        line = ((rfc3339(t) + " ") if flag("timestamps") else "") + e.get("line", "")
        data = (line + ("\r\n" if tty else "\n")).encode()
        if tty:
            out += data
        else:
            out += bytes([2 if stream == "stderr" else 1, 0, 0, 0]) + \
                len(data).to_bytes(4, "big") + data
    cut = int(c.get("logs_truncate", 0))
    if cut:
        out = out[:max(len(out) - cut, 0)]
    multiplexed = not tty and version >= (1, 42)
    return 200, out, "application/vnd.docker.%s-stream" % (
        "multiplexed" if multiplexed else "raw")


def restart(c):
    """What dockerd's restart leaves: the container stopped, then started now."""
    stopped = time.time()
    _, _, finished = times(c)
    if c.get("state", "running") in ("running", "paused", "restarting"):
        finished = stopped
    if finished:
        c["finished"] = finished
    c["started"] = stopped + 0.001  # starting takes a moment
    c["state"] = "running"
    for key in ("exit_code", "oom_killed", "error"):
        c.pop(key, None)
    if c.get("health") and c["health"] != "none":
        c["health"] = "starting"
        c["failing_streak"] = 0


def find(ref):
    """A container by full id, unique id prefix or name, as dockerd finds one."""
    name = ref[1:] if ref.startswith("/") else ref
    for c in containers:
        if container_id(c) == ref or c["name"] == name:
            return c
    matches = [c for c in containers if container_id(c).startswith(ref)]
    return matches[0] if len(matches) == 1 else None


class Handler(fakeserver.FakeHandler):
    methods = ("GET", "POST", "PUT", "DELETE", "HEAD")
    json_type = text_type = "application/json"  # unless the route says text
    json_end = "\n"
    bare_204 = True  # dockerd's 204 has neither Content-Type nor a body
    not_json = {"message": "the body is not JSON"}
    no_control = {"message": "no such control endpoint"}

    def version_string(self):
        return "Docker/27.5.1 (linux)"

    def answer_headers(self, status, content_type):
        self.send_header("Api-Version", "%d.%d" % MAX_VERSION)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Docker-Experimental", "false")
        self.send_header("Ostype", "linux")

    def route(self, path, query, body):
        with self.lock:
            status, body, content_type = (self.reply(path, query, body) + (None,))[:3]
        if content_type is None:
            content_type = "text/plain; charset=utf-8" if isinstance(body, str) \
                else "application/json"
        self.answer(status, body, content_type=content_type)

    def reply(self, path, query, raw=""):
        """(status, body) or (status, body, content type)."""
        version = MAX_VERSION
        m = re.match(r"^/v(\d+)\.(\d+)(/.*)$", path)
        if m:
            version = (int(m.group(1)), int(m.group(2)))
            if version > MAX_VERSION:
                return 400, {"message": "client version %d.%d is too new. Maximum "
                             "supported API version is %d.%d" % (version + MAX_VERSION)}
            if version < MIN_VERSION:
                return 400, {"message": "client version %d.%d is too old. Minimum "
                             "supported API version is %d.%d, please upgrade your "
                             "client to a newer version" % (version + MIN_VERSION)}
            path = m.group(3)
        if self.command in ("GET", "HEAD") and path == "/_ping":
            return 200, "OK"
        m = re.match(r"^/containers/([^/]+)/update$", path)
        if m and self.command == "POST":
            c = find(m.group(1))
            if not c:
                return 404, {"message": "No such container: %s" % m.group(1)}
            try:
                limits = json.loads(raw or "{}")
            except ValueError:
                return 400, {"message": "invalid JSON"}
            memory = limits.get("Memory", c.get("memory", 0))
            swap = limits.get("MemorySwap", c.get("memory_swap", 0))
            if swap not in (0, -1) and memory > swap:
                return 400, {"message": "Cannot update container %s: Minimum memoryswap "
                             "limit should be larger than memory limit, see usage"
                             % m.group(1)}
            c["memory"], c["memory_swap"] = memory, swap
            return 200, {"Warnings": []}
        m = re.match(r"^/containers/([^/]+)/restart$", path)
        if m and self.command == "POST":
            c = find(m.group(1))
            if not c:
                return 404, {"message": "No such container: %s" % m.group(1)}
            if c.get("restart_error"):
                return 500, {"message": "Cannot restart container %s: %s"
                             % (m.group(1), c["restart_error"])}
            restart(c)
            return 204, None
        if self.command != "GET":
            return 404, {"message": "page not found"}
        if path == "/containers/json":
            every = params_of(query).get("all", "") in ("1", "true", "True")
            return 200, [summary(c) for c in containers
                         if every or c.get("state", "running") in
                         ("running", "paused", "restarting")]
        m = re.match(r"^/containers/([^/]+)/json$", path)
        if m:
            c = find(m.group(1))
            if not c:
                return 404, {"message": "No such container: %s" % m.group(1)}
            return 200, inspect(c)
        m = re.match(r"^/containers/([^/]+)/logs$", path)
        if m:
            c = find(m.group(1))
            if not c:
                return 404, {"message": "No such container: %s" % m.group(1)}
            return logs(c, params_of(query), version)
        return 404, {"message": "page not found"}

    def control(self, path, raw):
        global containers
        if path == "/_fake/state" and self.command == "GET":
            with self.lock:
                return self.answer(200, containers)
        body = self.control_json(raw)  # every other endpoint wants JSON
        if path == "/_fake/set" and self.command == "POST":
            if not isinstance(body, list) or not all(
                    isinstance(c, dict) and "name" in c for c in body):
                return self.answer(400, {"message": "want a list of {\"name\": ...}"})
            with self.lock:
                containers = body
            return self.answer(200, {"containers": len(body)})
        return super().control(path, raw)


def main():
    global containers
    p = fakeserver.arguments("a fake Docker Engine on a UNIX socket")
    p.add_argument("--socket", required=True)
    p.add_argument("--data")
    p.add_argument("--max-api-version", default="1.47")
    args = p.parse_args()
    global MAX_VERSION
    MAX_VERSION = tuple(int(x) for x in args.max_api_version.split("."))
    if args.data:
        with open(args.data) as f:
            containers = json.load(f)
    return fakeserver.serve(Handler, args, unix_socket=args.socket)


if __name__ == "__main__":
    sys.exit(main())
