#!/usr/bin/env python3
"""make-bundles.py: writes the evidence bundles of t5100-diagnose-evidence.sh.

    python3 tests/data/diagnose/make-bundles.py     (rewrites every case below)

Each case is a directory of the files `sre diagnose --evidence` reads
(lib/evidence.h: kubernetes-*.json, docker-inspect.json, jaeger-traces.json,
prometheus-<check>.json, git-log.json, host.json, incident.json,
past-incidents.json, sources.json, logs/<name>.log), in the wire shapes
of the real sources: Kubernetes lists as the API server returns them,
Docker's container inspect, Jaeger's /api/traces envelope, Prometheus's
query_range answer, and incidents as `sre incident show --json` and
`sre incident list --json` print them. The objects are modelled field for
field on recorded real ones (../shared/fixtures beside the build, where
tests/lib-fake.sh finds them), with our services.

One story for all of them: the shop runs the Deployment "checkout" in
namespace "shop" (pods checkout-7d9c6b5f4-*, of ReplicaSet
checkout-7d9c6b5f4, revision 3, rolled out 2026-11-20), and the process
services quote-service -> policy-service -> user-service. The trouble
starts around 2026-11-24T02:50Z; every source was read at 03:05:00Z.

The generator is deterministic: the same run writes the same bytes.
The malformed cases (bad-json, wrong-kind, traces-not-jaeger) are written
here too; empty-dir is made by the test (git keeps no empty directory).
"""
import calendar
import hashlib
import json
import os
import shutil
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
DAY = "2026-11-24"
READ_AT = DAY + "T03:05:00Z"

NS = "shop"
REGISTRY = "registry.example.com/shop/checkout"
OLD_RS = "checkout-7d9c6b5f4"        # revision 3, v2.4.0, since 2026-11-20
POD = OLD_RS + "-x2x9p"
NODE_A = "ip-10-0-21-47.eu-west-1.compute.internal"
NODE_B = "ip-10-0-34-12.eu-west-1.compute.internal"
NODE_C = "ip-10-0-47-88.eu-west-1.compute.internal"
NODE_D = "ip-10-0-52-19.eu-west-1.compute.internal"
NODE_IP = {NODE_A: "10.0.21.47", NODE_B: "10.0.34.12", NODE_C: "10.0.47.88",
           NODE_D: "10.0.52.19"}


# ---- small helpers ----

def at(hms, day=DAY):
    """RFC 3339 of a time of day ("02:40:12"), on DAY unless told."""
    return "%sT%sZ" % (day, hms)


def epoch(ts):
    return calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))


def hexid(n, *parts):
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()[:n]


def uid(*parts):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "k8s/" + "/".join(parts)))


_rv = [48213577]


def rv():
    """A resourceVersion, growing like the API server's."""
    _rv[0] += 137
    return str(_rv[0])


def dump(v, indent=0, lead=0, width=120):
    """JSON pretty-printed, with any value that fits its line on one line.
    lead: the columns the key before it takes on the line."""
    one = json.dumps(v, ensure_ascii=False)
    if not isinstance(v, (dict, list)) or not v or 2 * indent + lead + len(one) <= width:
        return one
    pad = "  " * (indent + 1)
    if isinstance(v, dict):
        body = []
        for k, x in v.items():
            key = json.dumps(k, ensure_ascii=False) + ": "
            body.append(pad + key + dump(x, indent + 1, len(key), width))
        return "{\n" + ",\n".join(body) + "\n" + "  " * indent + "}"
    body = [pad + dump(x, indent + 1, 0, width) for x in v]
    return "[\n" + ",\n".join(body) + "\n" + "  " * indent + "]"


class Bundle:
    def __init__(self, name):
        self.dir = os.path.join(HERE, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.sources = []

    def json(self, name, value):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(dump(value) + "\n")

    def text(self, name, text):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def log(self, name, lines):
        self.text("logs/%s.log" % name, "".join(l + "\n" for l in lines))

    def source(self, name, elapsed_ms):
        self.sources.append({"source": name, "status": "ok", "error": None,
                             "read_at": READ_AT, "elapsed_ms": elapsed_ms})

    def done(self):
        self.json("sources.json", self.sources)


# ---- Kubernetes objects, as the API server lists them ----

LABELS = {"app.kubernetes.io/name": "checkout", "app.kubernetes.io/part-of": "shop"}


def container(image, limits=True, env_from=None, volumes=False):
    resources = {"requests": {"cpu": "250m", "memory": "256Mi"}}
    if limits:
        resources["limits"] = {"memory": "256Mi"}
    c = {"name": "checkout", "image": image, "imagePullPolicy": "IfNotPresent",
         "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]}
    if env_from:
        c["envFrom"] = [{"configMapRef": {"name": env_from}}]
    c["resources"] = resources
    c["readinessProbe"] = {"httpGet": {"path": "/healthz/ready", "port": 8080, "scheme": "HTTP"},
                           "initialDelaySeconds": 5, "periodSeconds": 10, "timeoutSeconds": 1,
                           "successThreshold": 1, "failureThreshold": 3}
    c["livenessProbe"] = {"httpGet": {"path": "/healthz/live", "port": 8080, "scheme": "HTTP"},
                          "initialDelaySeconds": 15, "periodSeconds": 20, "timeoutSeconds": 1,
                          "successThreshold": 1, "failureThreshold": 3}
    if volumes:
        c["volumeMounts"] = [{"name": "cache", "mountPath": "/var/lib/checkout/cache"}]
    c["terminationMessagePath"] = "/dev/termination-log"
    c["terminationMessagePolicy"] = "File"
    return c


def pod_spec(image, node, **kw):
    spec = {"containers": [container(image, **kw)]}
    if kw.get("volumes"):
        spec["volumes"] = [{"name": "cache",
                            "persistentVolumeClaim": {"claimName": "checkout-cache"}}]
    spec.update({"restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                 "dnsPolicy": "ClusterFirst", "serviceAccountName": "checkout",
                 "schedulerName": "default-scheduler"})
    if node:
        spec["nodeName"] = node
    return spec


def cond(type_, status, when, reason=None, message=None):
    c = {"type": type_, "status": status, "lastProbeTime": None, "lastTransitionTime": when}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def cid(*parts):
    return "containerd://" + hexid(64, "container", *parts)


def image_id(tag):
    return REGISTRY + "@sha256:" + hexid(64, "image", tag)


def status_of(name, tag, state, last=None, ready=False, restarts=0, started=False, run=0):
    """A containerStatus. A container that never ran (pulling, no config) has no
    containerID and an empty imageID; one waiting to be restarted keeps its last one's."""
    s = {"name": name, "state": state, "lastState": last or {}, "ready": ready,
         "restartCount": restarts, "image": REGISTRY + ":" + tag}
    if "waiting" in state and not last:
        s["imageID"] = ""
    else:
        s["imageID"] = image_id(tag)
        s["containerID"] = (last["terminated"]["containerID"] if "waiting" in state
                            else cid(name, tag, run))
    s["started"] = started
    return s


def pod(name, rs, created, node, phase, conditions, statuses=None, tag="v2.4.0",
        reason=None, message=None, qos="Burstable", start=None, **spec_kw):
    pod_hash = rs.rsplit("-", 1)[1]
    meta = {"name": name, "generateName": rs + "-", "namespace": NS, "uid": uid("pod", name),
            "resourceVersion": rv(), "creationTimestamp": created,
            "labels": dict(LABELS, **{"pod-template-hash": pod_hash}),
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs,
                                 "uid": uid("replicaset", rs), "controller": True,
                                 "blockOwnerDeletion": True}]}
    status = {"phase": phase, "conditions": conditions}
    if reason:
        status["reason"] = reason
        status["message"] = message
    if node:
        ip = NODE_IP[node]
        pod_ip = "10.0.%s.%d" % (ip.split(".")[2], 100 + int(hexid(2, name), 16) % 150)
        status.update({"hostIP": ip, "hostIPs": [{"ip": ip}],
                       "podIP": pod_ip, "podIPs": [{"ip": pod_ip}]})
        status["startTime"] = start or created
    status["qosClass"] = qos
    if statuses is not None:
        status["containerStatuses"] = statuses
    return {"metadata": meta, "spec": pod_spec(REGISTRY + ":" + tag, node, **spec_kw),
            "status": status}


def running_pod(name, created, node, started, tag="v2.4.0", rs=OLD_RS, restarts=0, last=None,
                **kw):
    """A pod that is up and ready since started."""
    ready = at_or(started, 11)
    conds = [cond("PodReadyToStartContainers", "True", at_or(created, 3)),
             cond("Initialized", "True", created),
             cond("Ready", "True", ready), cond("ContainersReady", "True", ready),
             cond("PodScheduled", "True", created)]
    st = status_of("checkout", tag, {"running": {"startedAt": started}}, last=last, ready=True,
                   restarts=restarts, started=True, run=restarts)
    return pod(name, rs, created, node, "Running", conds, [st], tag=tag, **kw)


def at_or(ts, plus):
    """ts plus some seconds, as RFC 3339."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch(ts) + plus))


def pod_list(*pods):
    return {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": rv()},
            "items": list(pods)}


def event(obj_kind, obj_name, type_, reason, message, first, last=None, count=1,
          component="kubelet", host=None, field_path=None, api="v1"):
    """A core/v1 Event, named as the recorder names it: <object>.<first in ns, hex>."""
    name = "%s.%x" % (obj_name, epoch(first) * 10**9 + int(hexid(6, obj_name, reason), 16))
    obj = {"kind": obj_kind, "namespace": NS, "name": obj_name,
           "uid": uid(obj_kind.lower(), obj_name), "apiVersion": api, "resourceVersion": rv()}
    if field_path:
        obj["fieldPath"] = field_path
    src = {"component": component}
    if host:
        src["host"] = host
    return {"metadata": {"name": name, "namespace": NS, "uid": uid("event", name),
                         "resourceVersion": rv(), "creationTimestamp": first},
            "involvedObject": obj, "reason": reason, "message": message, "source": src,
            "firstTimestamp": first, "lastTimestamp": last or first, "count": count,
            "type": type_, "eventTime": None, "reportingComponent": component,
            "reportingInstance": host or ""}


def kubelet_event(pod_name, node, type_, reason, message, first, last=None, count=1):
    return event("Pod", pod_name, type_, reason, message, first, last, count, host=node,
                 field_path="spec.containers{checkout}")


def event_list(*events):
    return {"kind": "EventList", "apiVersion": "v1", "metadata": {"resourceVersion": rv()},
            "items": list(events)}


def template(tag, **kw):
    return {"metadata": {"labels": dict(LABELS)}, "spec": pod_spec(REGISTRY + ":" + tag, None, **kw)}


def deployment(replicas, revision, tag, status, conditions, generation=7, limits=True, **kw):
    meta = {"name": "checkout", "namespace": NS, "uid": uid("deployment", "checkout"),
            "resourceVersion": rv(), "generation": generation,
            "creationTimestamp": "2026-03-02T10:14:55Z", "labels": dict(LABELS),
            "annotations": {"deployment.kubernetes.io/revision": str(revision)}}
    spec = {"replicas": replicas, "selector": {"matchLabels": {"app.kubernetes.io/name": "checkout"}},
            "template": template(tag, limits=limits, **kw),
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600}
    st = {"observedGeneration": generation}
    st.update(status)
    st["conditions"] = conditions
    return {"metadata": meta, "spec": spec, "status": st}


def dcond(type_, status, updated, changed, reason, message):
    return {"type": type_, "status": status, "lastUpdateTime": updated,
            "lastTransitionTime": changed, "reason": reason, "message": message}


RS3_CREATED = "2026-11-20T14:12:08Z"


def healthy_deployment(replicas=1, tag="v2.4.0", **kw):
    return deployment(replicas, 3, tag,
                      {"replicas": replicas, "updatedReplicas": replicas,
                       "readyReplicas": replicas, "availableReplicas": replicas},
                      [dcond("Available", "True", "2026-11-20T14:12:52Z", "2026-11-20T14:12:52Z",
                             "MinimumReplicasAvailable", "Deployment has minimum availability."),
                       dcond("Progressing", "True", "2026-11-20T14:12:52Z", "2026-03-02T10:14:55Z",
                             "NewReplicaSetAvailable",
                             'ReplicaSet "%s" has successfully progressed.' % OLD_RS)], **kw)


def unavailable_deployment(replicas, since, status, **kw):
    return deployment(replicas, 3, "v2.4.0", status,
                      [dcond("Available", "False", since, since, "MinimumReplicasUnavailable",
                             "Deployment does not have minimum availability."),
                       dcond("Progressing", "True", "2026-11-20T14:12:52Z", "2026-03-02T10:14:55Z",
                             "NewReplicaSetAvailable",
                             'ReplicaSet "%s" has successfully progressed.' % OLD_RS)], **kw)


def deployment_list(*deps):
    return {"kind": "DeploymentList", "apiVersion": "apps/v1",
            "metadata": {"resourceVersion": rv()}, "items": list(deps)}


def replicaset(name, revision, created, tag, replicas, ready, desired=1, generation=2):
    pod_hash = name.rsplit("-", 1)[1]
    labels = dict(LABELS, **{"pod-template-hash": pod_hash})
    tpl = template(tag)
    tpl["metadata"]["labels"] = dict(labels)
    meta = {"name": name, "namespace": NS, "uid": uid("replicaset", name),
            "resourceVersion": rv(), "generation": generation, "creationTimestamp": created,
            "labels": labels,
            "annotations": {"deployment.kubernetes.io/desired-replicas": str(desired),
                            "deployment.kubernetes.io/max-replicas": str(desired + 1),
                            "deployment.kubernetes.io/revision": str(revision)},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                 "name": "checkout", "uid": uid("deployment", "checkout"),
                                 "controller": True, "blockOwnerDeletion": True}]}
    status = {"replicas": replicas, "fullyLabeledReplicas": replicas}
    if ready:
        status.update({"readyReplicas": ready, "availableReplicas": ready})
    status["observedGeneration"] = generation
    return {"metadata": meta,
            "spec": {"replicas": replicas,
                     "selector": {"matchLabels": {"app.kubernetes.io/name": "checkout",
                                                  "pod-template-hash": pod_hash}},
                     "template": tpl},
            "status": status}


def replicaset_list(*sets):
    return {"kind": "ReplicaSetList", "apiVersion": "apps/v1",
            "metadata": {"resourceVersion": rv()}, "items": list(sets)}


def backoff_message(pod_name, delay="5m0s"):
    return "back-off %s restarting failed container=checkout pod=%s_%s(%s)" % (
        delay, pod_name, NS, uid("pod", pod_name))


def restart_events(pod_name, node, tag, first, last, count):
    """The Normal events of each (re)start of the container."""
    return [kubelet_event(pod_name, node, "Normal", "Pulled",
                          'Container image "%s:%s" already present on machine' % (REGISTRY, tag),
                          first, last, count),
            kubelet_event(pod_name, node, "Normal", "Created", "Created container checkout",
                          first, last, count),
            kubelet_event(pod_name, node, "Normal", "Started", "Started container checkout",
                          first, last, count)]


# ---- incidents, as `sre incident show --json` prints them ----

def incident(id_, service, fingerprint, source, title, severity, evidence,
             opened=at("03:00:00")):
    opened_body = {"service": service, "title": title, "severity": severity,
                   "fingerprint": fingerprint, "source": source}
    return {"id": id_, "fingerprint": fingerprint, "service": service, "title": title,
            "severity": severity, "category": None, "state": "INCIDENT_DETECTED",
            "source": source, "occurrences": 1, "opened_at": opened, "updated_at": opened,
            "resolved_at": None, "remote_key": None, "remote_url": None,
            "events": [{"at": opened, "kind": "opened", "actor": "sre-scout", "body": opened_body},
                       {"at": opened, "kind": "evidence", "actor": "sre-scout",
                        "body": {"summary": title, "evidence": evidence}}]}


def k8s_incident(id_, signal, pod_name, title, evidence, severity="high"):
    ev = {"namespace": NS, "pod": pod_name}
    ev.update(evidence)
    return incident(id_, "checkout", "kubernetes/checkout/%s/pod/%s/%s" % (signal, NS, pod_name),
                    "kubernetes", title, severity, ev)


# The HTTP check of quote-service. Scout's signals for an HTTP check are
# "down" and "latency" (lib/probe.c); the check is named after the
# service, so the fingerprint is http/<service>/<signal>.
QUOTE_URL = "http://127.0.0.1:8080/healthz"
QUOTE_API = "http://quote-service.internal:8080/quote?product=home&probe=1"


def quote_down_incident(id_):
    err = "Failed to connect to 127.0.0.1 port 8080 after 0 ms: Couldn't connect to server"
    return incident(id_, "quote-service", "http/quote-service/down", "http",
                    "quote-service is unreachable: " + err, "high",
                    {"url": QUOTE_URL, "error": err})


# ---- Jaeger traces, as /api/traces returns them ----

def tag(key, value):
    if isinstance(value, bool):
        kind = "bool"
    elif isinstance(value, int):
        kind = "int64"
    else:
        kind = "string"
    return {"key": key, "type": kind, "value": value}


def span(trace_id, span_id, op, parent, start, duration, tags, pid, logs=None):
    refs = [] if parent is None else [{"refType": "CHILD_OF", "traceID": trace_id,
                                       "spanID": parent}]
    return {"traceID": trace_id, "spanID": span_id, "operationName": op, "references": refs,
            "startTime": start, "duration": duration, "tags": tags, "logs": logs or [],
            "processID": pid, "warnings": None}


def process(service, version):
    return {"serviceName": service, "tags": [tag("service.version", version)]}


VERSIONS = {"quote-service": "1.18.2", "policy-service": "3.4.0", "user-service": "2.9.1",
            "checkout": "v2.4.0"}


def server_tags(method, route, status, error=False, why=None):
    t = [tag("span.kind", "server"), tag("http.method", method), tag("http.route", route),
         tag("http.status_code", status)]
    if error:
        t += [tag("error", True), tag("otel.status_code", "ERROR")]
        if why:
            t.append(tag("otel.status_description", why))
    return t


def client_tags(method, peer, status, error=False):
    t = [tag("span.kind", "client"), tag("http.method", method), tag("peer.service", peer),
         tag("http.status_code", status)]
    if error:
        t += [tag("error", True), tag("otel.status_code", "ERROR")]
    return t


class Trace:
    """One trace, built from the root down; times in microseconds."""

    def __init__(self, seed, start):
        self.id = hexid(32, "trace", *seed)
        self.seed = seed
        self.start = start
        self.spans = []
        self.pids = {}

    def add(self, service, op, parent, offset, duration, tags, logs=None):
        pid = self.pids.setdefault(service, "p%d" % (len(self.pids) + 1))
        sid = hexid(16, "span", *(self.seed + (service, op, len(self.spans))))
        self.spans.append(span(self.id, sid, op, parent, self.start + offset, duration, tags, pid,
                               logs))
        return sid

    def json(self):
        return {"traceID": self.id, "spans": self.spans,
                "processes": {pid: process(s, VERSIONS[s]) for s, pid in self.pids.items()},
                "warnings": None}


def envelope(traces):
    return {"data": [t.json() for t in traces], "total": 0, "limit": 0, "offset": 0,
            "errors": None}


def us(ts):
    return epoch(ts) * 1000000


def spread(n, first, last):
    """n trace start times from first to last (times of day), with some jitter, in µs."""
    a, b = us(at(first)), us(at(last))
    return [a + (b - a) * i // (n - 1) + int(hexid(4, "jitter", i), 16) % 900000
            for i in range(n)]


def jitter(i, lo, hi, *salt):
    return lo + int(hexid(6, "j", i, *salt), 16) % (hi - lo + 1)


def quote_chain(tr, i, user_status=200, slow_db=0, slow_policy=0, db=False, user=True):
    """quote-service GET /quote -> policy-service POST /policy [-> SELECT policies]
    [-> user-service GET /user], from the root down. Returns the root's duration."""
    err = user_status >= 500
    user_d = jitter(i, 9000, 16000, "user") if not err else jitter(i, 1500, 3000, "user")
    db_d = slow_db or jitter(i, 6000, 14000, "db")
    self_policy = slow_policy or jitter(i, 2000, 5000, "policy")
    # Children of POST /policy, one after the other.
    t = 300
    children = []
    if db:
        children.append(("db", t, db_d))
        t += db_d + 150
    if user:
        children.append(("user", t, user_d + 900))
        t += user_d + 900 + 150
    policy_d = t + self_policy
    quote_client_d = policy_d + 1400
    quote_d = quote_client_d + jitter(i, 3000, 7000, "quote")
    p_status = 500 if err else 200

    root = tr.add("quote-service", "GET /quote", None, 0, quote_d,
                  server_tags("GET", "/quote", p_status, err,
                              "policy-service: POST /policy: 500 Internal Server Error"
                              if err else None))
    cl = tr.add("quote-service", "POST /policy", root, 1200, quote_client_d,
                client_tags("POST", "policy-service", p_status, err))
    pol = tr.add("policy-service", "POST /policy", cl, 1900, policy_d,
                 server_tags("POST", "/policy", p_status, err,
                             "user-service: GET /user: 503 Service Unavailable"
                             if err else None))
    for kind, off, d in children:
        if kind == "db":
            tr.add("policy-service", "SELECT policies", pol, 1900 + off, d,
                   [tag("span.kind", "client"), tag("db.system", "postgresql"),
                    tag("db.name", "policies"),
                    tag("db.statement", "SELECT id, product, premium_cents, state FROM policies "
                                        "WHERE user_id = $1 AND state = $2"),
                    tag("net.peer.name", "policies-db.internal"), tag("net.peer.port", 5432)])
        else:
            ucl = tr.add("policy-service", "GET /user", pol, 1900 + off, d,
                         client_tags("GET", "user-service", user_status, err))
            tr.add("user-service", "GET /user", ucl, 1900 + off + 450, user_d,
                   server_tags("GET", "/user", user_status, err,
                               "request queue full (1024 waiting)" if err else None),
                   [{"timestamp": tr.start + 1900 + off + 450 + user_d - 200,
                     "fields": [tag("event", "exception"),
                                tag("exception.type", "*queue.FullError"),
                                tag("exception.message", "request queue full (1024 waiting)")]}]
                   if err else None)
    return quote_d


# ---- Prometheus, as /api/v1/query_range returns it ----

def matrix(metric, first, last, value_at, step=60):
    values = []
    for t in range(epoch(first), epoch(last) + 1, step):
        values.append([t, value_at(t)])
    return {"status": "success",
            "data": {"resultType": "matrix", "result": [{"metric": metric, "values": values}]}}


def noisy(t, base, spread_, salt):
    """base give or take spread_, the same every run, as Prometheus's shortest string."""
    frac = int(hexid(4, salt, t), 16) / 0xffff
    return repr(round(base + (frac - 0.5) * 2 * spread_, 6))


# ---- host ----

def host(running, rss_kb=None, state=None, kernel=()):
    return {"processes": [{"service": "quote-service", "pid": 4242, "running": running,
                           "state": state, "rss_kb": rss_kb, "exit": None}],
            "kernel": list(kernel)}


def zap(ts, level, msg, **fields):
    d = {"level": level, "ts": ts, "msg": msg}
    d.update(fields)
    return json.dumps(d, separators=(",", ":"))


QUOTE_LOG_OK = [
    zap("2026-11-24T02:58:31.118Z", "info", "GET /quote", status=200, duration_ms=43,
        product="home"),
    zap("2026-11-24T02:58:32.604Z", "info", "GET /quote", status=200, duration_ms=38,
        product="car"),
    zap("2026-11-24T02:58:34.902Z", "info", "GET /quote", status=200, duration_ms=51,
        product="home"),
    zap("2026-11-24T02:58:37.215Z", "info", "refreshing rate tables", source="policy-service",
        tables=14),
    zap("2026-11-24T02:58:39.877Z", "info", "GET /quote", status=200, duration_ms=47,
        product="travel"),
]

GO_CRASH = [
    "fatal error: concurrent map writes",
    "",
    "goroutine 8812 [running]:",
    "quote-service/internal/rates.(*Cache).Put(0xc0001b2a80, {0xc00052e1e0, 0x8}, 0xc0003f6c30)",
    "\t/src/quote-service/internal/rates/cache.go:64 +0x95",
    "quote-service/internal/rates.(*Refresher).refresh(0xc0000f4000, {0xc0002d8190, 0x4})",
    "\t/src/quote-service/internal/rates/refresh.go:41 +0x1c8",
    "created by quote-service/internal/rates.(*Refresher).Start in goroutine 1",
    "\t/src/quote-service/internal/rates/refresh.go:27 +0x6e",
]


def ok_pod_log(pod_name, hms_list):
    return [zap(DAY + "T%s.%03dZ" % (h, jitter(i, 0, 999, pod_name)), "info", "POST /checkout",
                status=200, duration_ms=jitter(i, 28, 64, pod_name, "d"),
                cart_items=jitter(i, 1, 6, pod_name, "c"))
            for i, h in enumerate(hms_list)]


# ==== the cases ====

def oom_chronic():
    b = Bundle("oom-chronic")
    p = pod(POD, OLD_RS, "2026-11-20T14:12:30Z", NODE_A, "Running",
            [cond("PodReadyToStartContainers", "True", "2026-11-20T14:12:33Z"),
             cond("Initialized", "True", "2026-11-20T14:12:30Z"),
             cond("Ready", "False", at("03:02:00"), "ContainersNotReady",
                  "containers with unready status: [checkout]"),
             cond("ContainersReady", "False", at("03:02:00"), "ContainersNotReady",
                  "containers with unready status: [checkout]"),
             cond("PodScheduled", "True", "2026-11-20T14:12:30Z")],
            [status_of("checkout", "v2.4.0",
                       {"waiting": {"reason": "CrashLoopBackOff",
                                    "message": backoff_message(POD)}},
                       last={"terminated": {"exitCode": 137, "reason": "OOMKilled",
                                            "startedAt": at("03:00:58"),
                                            "finishedAt": at("03:02:00"),
                                            "containerID": cid("checkout", "v2.4.0", 5)}},
                       restarts=6, run=6)])
    b.json("kubernetes-pods.json", pod_list(p))
    b.json("kubernetes-events.json", event_list(
        *restart_events(POD, NODE_A, "v2.4.0", at("02:21:18"), at("03:00:58"), 6),
        kubelet_event(POD, NODE_A, "Warning", "BackOff",
                      "Back-off restarting failed container checkout in pod %s_%s(%s)"
                      % (POD, NS, uid("pod", POD)), at("02:23:10"), at("03:04:40"), 12)))
    b.json("kubernetes-deployments.json", deployment_list(unavailable_deployment(
        1, at("03:02:00"), {"replicas": 1, "updatedReplicas": 1, "unavailableReplicas": 1})))
    heap = [(9, 96, 118), (19, 131, 150), (29, 164, 182), (39, 197, 214), (49, 226, 238),
            (59, 241, 249)]
    lines = [zap(DAY + "T03:00:58.412Z", "info", "starting checkout",
                 version="v2.4.0", addr=":8080", gomaxprocs=2),
             zap(DAY + "T03:00:58.431Z", "info", "connected to postgres",
                 host="checkout-db.shop.svc.cluster.local", pool_size=20),
             zap(DAY + "T03:00:59.020Z", "info", "warming cart cache",
                 source="redis://cart-cache.shop.svc.cluster.local:6379")]
    for n, (s, alloc, sys_) in enumerate(heap):
        ts = DAY + "T03:01:%02d.000Z" % s if s < 60 else None
        lines.append(zap(ts, "info", "runtime memstats", heap_alloc_mib=alloc,
                         heap_sys_mib=sys_, num_gc=14 + 9 * n, goroutines=187 + 41 * n))
        if s == 19:
            lines.append(zap(DAY + "T03:01:25.337Z", "warn", "cart cache over soft limit",
                             entries=412608, size_mib=150, soft_limit_mib=128))
        if s == 29:
            lines.append(zap(DAY + "T03:01:31.904Z", "info", "POST /checkout", status=200,
                             duration_ms=212, cart_items=3))
        if s == 49:
            lines.append(zap(DAY + "T03:01:52.618Z", "warn", "GC pressure high",
                             gc_cpu_fraction=0.41, heap_goal_mib=251))
    b.log(POD + ".previous", lines)
    b.json("incident.json", k8s_incident(
        31, "oomkilled", POD,
        "pod %s in shop was OOMKilled (container checkout, limit 256Mi)" % POD,
        {"container": "checkout", "reason": "OOMKilled", "restartCount": 5, "exitCode": 137,
         "limit": "256Mi", "finishedAt": at("02:55:48")}))
    b.source("kubernetes", 412)
    b.source("store", 3)
    b.done()


def oom_once():
    b = Bundle("oom-once")
    p = running_pod(POD, "2026-11-20T14:12:30Z", NODE_A, at("02:40:30"), restarts=1,
                    last={"terminated": {"exitCode": 137, "reason": "OOMKilled",
                                         "startedAt": "2026-11-20T14:12:41Z",
                                         "finishedAt": at("02:40:12"),
                                         "containerID": cid("checkout", "v2.4.0", 0)}})
    b.json("kubernetes-pods.json", pod_list(p))
    b.json("kubernetes-events.json", event_list(
        *restart_events(POD, NODE_A, "v2.4.0", at("02:40:30"), at("02:40:30"), 1)))
    b.json("kubernetes-deployments.json", deployment_list(healthy_deployment()))
    b.log(POD + ".previous", [
        zap(DAY + "T02:39:51.207Z", "info", "settlement export started", merchants=3812,
            since="2026-11-23T00:00:00Z"),
        zap(DAY + "T02:40:01.000Z", "info", "runtime memstats", heap_alloc_mib=171,
            heap_sys_mib=190, num_gc=80412, goroutines=204),
        zap(DAY + "T02:40:09.544Z", "warn", "settlement export buffering rows in memory",
            rows=1180000),
        zap(DAY + "T02:40:11.000Z", "info", "runtime memstats", heap_alloc_mib=243,
            heap_sys_mib=259, num_gc=80431, goroutines=211)])
    b.log(POD, ok_pod_log(POD, ["03:04:41", "03:04:47", "03:04:52", "03:04:58"]))
    b.json("incident.json", k8s_incident(
        32, "oomkilled", POD,
        "pod %s in shop was OOMKilled (container checkout, limit 256Mi)" % POD,
        {"container": "checkout", "reason": "OOMKilled", "restartCount": 1, "exitCode": 137,
         "limit": "256Mi", "finishedAt": at("02:40:12")}))
    b.source("kubernetes", 388)
    b.source("store", 2)
    b.done()


def crashloop():
    b = Bundle("crashloop")
    p = pod(POD, OLD_RS, "2026-11-20T14:12:30Z", NODE_A, "Running",
            [cond("PodReadyToStartContainers", "True", "2026-11-20T14:12:33Z"),
             cond("Initialized", "True", "2026-11-20T14:12:30Z"),
             cond("Ready", "False", at("02:41:05"), "ContainersNotReady",
                  "containers with unready status: [checkout]"),
             cond("ContainersReady", "False", at("02:41:05"), "ContainersNotReady",
                  "containers with unready status: [checkout]"),
             cond("PodScheduled", "True", "2026-11-20T14:12:30Z")],
            [status_of("checkout", "v2.4.0",
                       {"waiting": {"reason": "CrashLoopBackOff",
                                    "message": backoff_message(POD)}},
                       last={"terminated": {"exitCode": 2, "reason": "Error",
                                            "startedAt": at("03:03:41"),
                                            "finishedAt": at("03:03:41"),
                                            "containerID": cid("checkout", "v2.4.0", 6)}},
                       restarts=7, run=7)])
    b.json("kubernetes-pods.json", pod_list(p))
    b.json("kubernetes-events.json", event_list(
        *restart_events(POD, NODE_A, "v2.4.0", at("02:41:19"), at("03:03:41"), 7),
        kubelet_event(POD, NODE_A, "Warning", "BackOff",
                      "Back-off restarting failed container checkout in pod %s_%s(%s)"
                      % (POD, NS, uid("pod", POD)), at("02:41:20"), at("03:04:52"), 19)))
    b.json("kubernetes-deployments.json", deployment_list(unavailable_deployment(
        1, at("02:41:05"), {"replicas": 1, "updatedReplicas": 1, "unavailableReplicas": 1})))
    b.json("kubernetes-replicasets.json", replicaset_list(
        replicaset(OLD_RS, 3, RS3_CREATED, "v2.4.0", 1, 0)))
    b.log(POD + ".previous", [
        zap(DAY + "T03:03:41.201Z", "info", "starting checkout", version="v2.4.0", addr=":8080",
            gomaxprocs=2),
        zap(DAY + "T03:03:41.214Z", "info", "connected to postgres",
            host="checkout-db.shop.svc.cluster.local", pool_size=20),
        zap(DAY + "T03:03:41.230Z", "info", "loading payment providers", count=3),
        zap(DAY + "T03:03:41.233Z", "warn", "payment provider has no endpoint",
            provider="klarna"),
        "panic: runtime error: invalid memory address or nil pointer dereference",
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x9c3b7e]",
        "",
        "goroutine 1 [running]:",
        "shop/checkout/payment.(*Registry).Register(0xc0001a6000, {0xc00012e0f0, 0x6}, 0x0)",
        "\t/src/services/checkout/payment/registry.go:47 +0x3e",
        "main.main()",
        "\t/src/services/checkout/main.go:88 +0x4d2"])
    b.json("incident.json", k8s_incident(
        33, "crashloop", POD,
        "pod %s in shop is in CrashLoopBackOff (container checkout, 6 restarts, "
        "last exit code 2: Error)" % POD,
        {"container": "checkout", "reason": "CrashLoopBackOff", "restartCount": 6, "exitCode": 2,
         "lastReason": "Error", "message": backoff_message(POD, "2m40s")}))
    b.source("kubernetes", 431)
    b.source("store", 2)
    b.done()


def image_pull():
    b = Bundle("image-pull")
    new_rs, new_pod, tag = "checkout-6c9f8d4b7", "checkout-6c9f8d4b7-m4tq2", "v2.4.1"
    image = "%s:%s" % (REGISTRY, tag)
    stuck = pod(new_pod, new_rs, at("02:58:10"), NODE_B, "Pending",
                [cond("PodReadyToStartContainers", "True", at("02:58:12")),
                 cond("Initialized", "True", at("02:58:10")),
                 cond("Ready", "False", at("02:58:10"), "ContainersNotReady",
                      "containers with unready status: [checkout]"),
                 cond("ContainersReady", "False", at("02:58:10"), "ContainersNotReady",
                      "containers with unready status: [checkout]"),
                 cond("PodScheduled", "True", at("02:58:10"))],
                [status_of("checkout", tag,
                           {"waiting": {"reason": "ImagePullBackOff",
                                        "message": 'Back-off pulling image "%s"' % image}})], tag=tag)
    old = running_pod(POD, "2026-11-20T14:12:30Z", NODE_A, "2026-11-20T14:12:41Z")
    b.json("kubernetes-pods.json", pod_list(old, stuck))
    not_found = ('Failed to pull image "{0}": rpc error: code = NotFound desc = failed to pull '
                 'and unpack image "{0}": failed to resolve reference "{0}": {0}: not found'
                 ).format(image)
    b.json("kubernetes-events.json", event_list(
        event("Deployment", "checkout", "Normal", "ScalingReplicaSet",
              "Scaled up replica set %s to 1" % new_rs, at("02:58:10"),
              component="deployment-controller", api="apps/v1"),
        kubelet_event(new_pod, NODE_B, "Normal", "Pulling", 'Pulling image "%s"' % image,
                      at("02:58:11"), at("03:03:14"), 6),
        kubelet_event(new_pod, NODE_B, "Warning", "Failed", not_found,
                      at("02:58:12"), at("03:03:15"), 6),
        kubelet_event(new_pod, NODE_B, "Warning", "Failed", "Error: ErrImagePull",
                      at("02:58:12"), at("03:03:15"), 6),
        kubelet_event(new_pod, NODE_B, "Normal", "BackOff", 'Back-off pulling image "%s"' % image,
                      at("02:58:13"), at("03:04:57"), 26),
        kubelet_event(new_pod, NODE_B, "Warning", "Failed", "Error: ImagePullBackOff",
                      at("02:58:13"), at("03:04:57"), 26)))
    b.json("kubernetes-deployments.json", deployment_list(deployment(
        1, 4, tag,
        {"replicas": 2, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
         "unavailableReplicas": 1},
        [dcond("Available", "True", "2026-11-20T14:12:52Z", "2026-11-20T14:12:52Z",
               "MinimumReplicasAvailable", "Deployment has minimum availability."),
         dcond("Progressing", "True", at("02:58:10"), "2026-03-02T10:14:55Z",
               "ReplicaSetUpdated", 'ReplicaSet "%s" is progressing.' % new_rs)],
        generation=8)))
    b.log(POD, ok_pod_log(POD, ["03:04:40", "03:04:46", "03:04:53", "03:04:59"]))
    b.json("incident.json", k8s_incident(
        34, "image-pull", new_pod,
        "pod %s in shop cannot pull image %s (container checkout, ErrImagePull)"
        % (new_pod, image),
        {"container": "checkout", "reason": "ErrImagePull", "restartCount": 0, "image": image,
         "message": not_found}))
    b.source("kubernetes", 397)
    b.source("store", 2)
    b.done()


def config_error():
    b = Bundle("config-error")
    msg = 'configmap "checkout-config" not found'
    p = pod(POD, OLD_RS, at("02:55:20"), NODE_B, "Pending",
            [cond("PodReadyToStartContainers", "True", at("02:55:22")),
             cond("Initialized", "True", at("02:55:20")),
             cond("Ready", "False", at("02:55:20"), "ContainersNotReady",
                  "containers with unready status: [checkout]"),
             cond("ContainersReady", "False", at("02:55:20"), "ContainersNotReady",
                  "containers with unready status: [checkout]"),
             cond("PodScheduled", "True", at("02:55:20"))],
            [status_of("checkout", "v2.4.0",
                       {"waiting": {"reason": "CreateContainerConfigError", "message": msg}})],
            env_from="checkout-config")
    b.json("kubernetes-pods.json", pod_list(p))
    b.json("kubernetes-events.json", event_list(
        event("ReplicaSet", OLD_RS, "Normal", "SuccessfulCreate", "Created pod: " + POD,
              at("02:55:20"), component="replicaset-controller", api="apps/v1"),
        kubelet_event(POD, NODE_B, "Normal", "Pulled",
                      'Container image "%s:v2.4.0" already present on machine' % REGISTRY,
                      at("02:55:22"), at("03:04:58"), 47),
        kubelet_event(POD, NODE_B, "Warning", "Failed", "Error: " + msg,
                      at("02:55:22"), at("03:04:58"), 47)))
    b.json("kubernetes-deployments.json", deployment_list(unavailable_deployment(
        1, at("02:55:20"), {"replicas": 1, "updatedReplicas": 1, "unavailableReplicas": 1},
        env_from="checkout-config")))
    b.json("incident.json", k8s_incident(
        35, "config-error", POD,
        "pod %s in shop cannot start container checkout: %s" % (POD, msg),
        {"container": "checkout", "reason": "CreateContainerConfigError", "restartCount": 0,
         "message": msg}))
    b.source("kubernetes", 365)
    b.source("store", 2)
    b.done()


def evicted():
    b = Bundle("evicted")
    msg = ("The node was low on resource: memory. Threshold quantity: 100Mi, available: 91Mi. "
           "Container checkout was using 1.2Gi, request is 256Mi, has larger consumption of "
           "memory.")
    gone = pod(POD, OLD_RS, "2026-11-20T14:12:30Z", NODE_A, "Failed",
               [cond("DisruptionTarget", "True", at("02:59:47"), "TerminationByKubelet", msg),
                cond("PodReadyToStartContainers", "False", at("02:59:49")),
                cond("Initialized", "True", "2026-11-20T14:12:30Z"),
                cond("Ready", "False", at("02:59:49"), "PodFailed"),
                cond("ContainersReady", "False", at("02:59:49"), "PodFailed"),
                cond("PodScheduled", "True", "2026-11-20T14:12:30Z")],
               [{"name": "checkout",
                 "state": {"terminated": {"exitCode": 137, "reason": "ContainerStatusUnknown",
                                          "message": "The container could not be located when "
                                                     "the pod was terminated",
                                          "startedAt": None, "finishedAt": None}},
                 "lastState": {}, "ready": False, "restartCount": 0,
                 "image": REGISTRY + ":v2.4.0", "imageID": "", "started": False}],
               reason="Evicted", message=msg, limits=False)
    b1 = running_pod(OLD_RS + "-hq4mz", "2026-11-20T14:13:02Z", NODE_B, "2026-11-20T14:13:09Z",
                     limits=False)
    b2 = running_pod(OLD_RS + "-r8d2n", "2026-11-20T14:13:31Z", NODE_C, "2026-11-20T14:13:38Z",
                     limits=False)
    repl = OLD_RS + "-w5vlc"
    new = pod(repl, OLD_RS, at("02:59:48"), NODE_D, "Pending",
              [cond("PodReadyToStartContainers", "True", at("02:59:50")),
               cond("Initialized", "True", at("02:59:48")),
               cond("Ready", "False", at("02:59:48"), "ContainersNotReady",
                    "containers with unready status: [checkout]"),
               cond("ContainersReady", "False", at("02:59:48"), "ContainersNotReady",
                    "containers with unready status: [checkout]"),
               cond("PodScheduled", "True", at("02:59:48"))],
              [status_of("checkout", "v2.4.0", {"waiting": {"reason": "ContainerCreating"}})], limits=False)
    b.json("kubernetes-pods.json", pod_list(gone, b1, b2, new))
    b.json("kubernetes-events.json", event_list(
        event("Pod", POD, "Warning", "Evicted", msg, at("02:59:47"), host=NODE_A),
        kubelet_event(POD, NODE_A, "Normal", "Killing", "Stopping container checkout",
                      at("02:59:47")),
        event("ReplicaSet", OLD_RS, "Normal", "SuccessfulCreate", "Created pod: " + repl,
              at("02:59:48"), component="replicaset-controller", api="apps/v1"),
        kubelet_event(repl, NODE_D, "Normal", "Pulling",
                      'Pulling image "%s:v2.4.0"' % REGISTRY, at("02:59:51"))))
    b.json("kubernetes-deployments.json", deployment_list(deployment(
        3, 3, "v2.4.0",
        {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2,
         "unavailableReplicas": 1},
        [dcond("Available", "False", at("02:59:48"), at("02:59:48"), "MinimumReplicasUnavailable",
               "Deployment does not have minimum availability."),
         dcond("Progressing", "True", "2026-11-20T14:13:52Z", "2026-03-02T10:14:55Z",
               "NewReplicaSetAvailable",
               'ReplicaSet "%s" has successfully progressed.' % OLD_RS)], limits=False)))
    b.json("incident.json", k8s_incident(
        36, "evicted", POD, "pod %s in shop was evicted: %s" % (POD, msg),
        {"reason": "Evicted", "message": msg}, severity="medium"))
    b.source("kubernetes", 446)
    b.source("store", 2)
    b.done()


def unschedulable():
    b = Bundle("unschedulable")
    msg = ("0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are "
           "available: 3 No preemption victims found for incoming pod.")
    pending = pod(POD, OLD_RS, at("02:55:10"), None, "Pending",
                  [cond("PodScheduled", "False", at("02:55:10"), "Unschedulable", msg)])
    b1 = running_pod(OLD_RS + "-hq4mz", "2026-11-20T14:13:02Z", NODE_B, "2026-11-20T14:13:09Z")
    b2 = running_pod(OLD_RS + "-r8d2n", "2026-11-20T14:13:31Z", NODE_C, "2026-11-20T14:13:38Z")
    b.json("kubernetes-pods.json", pod_list(b2, b1, pending))
    b.json("kubernetes-events.json", event_list(
        event("HorizontalPodAutoscaler", "checkout", "Normal", "SuccessfulRescale",
              "New size: 3; reason: cpu resource utilization (percentage of request) above target",
              at("02:55:09"), component="horizontal-pod-autoscaler", api="autoscaling/v2"),
        event("Deployment", "checkout", "Normal", "ScalingReplicaSet",
              "Scaled up replica set %s to 3 from 2" % OLD_RS, at("02:55:10"),
              component="deployment-controller", api="apps/v1"),
        event("Pod", POD, "Warning", "FailedScheduling", msg, at("02:55:10"), at("03:04:11"),
              9, component="default-scheduler"),
        event("Pod", POD, "Normal", "NotTriggerScaleUp",
              "pod didn't trigger scale-up: 1 max node group size reached", at("02:55:21"),
              at("03:04:52"), 58, component="cluster-autoscaler")))
    b.json("kubernetes-deployments.json", deployment_list(deployment(
        3, 3, "v2.4.0",
        {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2,
         "unavailableReplicas": 1},
        [dcond("Available", "False", at("02:55:10"), at("02:55:10"), "MinimumReplicasUnavailable",
               "Deployment does not have minimum availability."),
         dcond("Progressing", "True", "2026-11-20T14:13:52Z", "2026-03-02T10:14:55Z",
               "NewReplicaSetAvailable",
               'ReplicaSet "%s" has successfully progressed.' % OLD_RS)])))
    b.json("incident.json", k8s_incident(
        37, "unschedulable", POD, "pod %s in shop cannot be scheduled: %s" % (POD, msg),
        {"reason": "Unschedulable", "message": msg, "lastTransitionTime": at("02:55:10")},
        severity="medium"))
    b.source("kubernetes", 402)
    b.source("store", 2)
    b.done()


def probe_failure():
    b = Bundle("probe-failure")
    unready = "containers with unready status: [checkout]"
    p = pod(POD, OLD_RS, "2026-11-20T14:12:30Z", NODE_A, "Running",
            [cond("PodReadyToStartContainers", "True", "2026-11-20T14:12:33Z"),
             cond("Initialized", "True", "2026-11-20T14:12:30Z"),
             cond("Ready", "False", at("02:55:22"), "ContainersNotReady", unready),
             cond("ContainersReady", "False", at("02:55:22"), "ContainersNotReady", unready),
             cond("PodScheduled", "True", "2026-11-20T14:12:30Z")],
            [status_of("checkout", "v2.4.0", {"running": {"startedAt": "2026-11-23T22:40:07Z"}},
                       last={"terminated": {"exitCode": 0, "reason": "Completed",
                                            "startedAt": "2026-11-20T14:12:41Z",
                                            "finishedAt": "2026-11-23T22:40:05Z",
                                            "containerID": cid("checkout", "v2.4.0", 0)}},
                       restarts=1, started=True, run=1)])
    b.json("kubernetes-pods.json", pod_list(p))
    b.json("kubernetes-events.json", event_list(
        kubelet_event(POD, NODE_A, "Warning", "Unhealthy",
                      "Readiness probe failed: HTTP probe failed with statuscode: 503",
                      at("02:55:02"), at("03:04:52"), 30)))
    b.json("kubernetes-deployments.json", deployment_list(unavailable_deployment(
        1, at("02:55:22"), {"replicas": 1, "updatedReplicas": 1, "unavailableReplicas": 1})))
    lines = []
    for i, s in enumerate(["03:04:20", "03:04:30", "03:04:40", "03:04:50"]):
        lines.append(zap(DAY + "T%s.%03dZ" % (s, 4 + i), "warn", "readiness check failed",
                         status=503, busy_workers=64, workers=64, queued=1024,
                         oldest_request_s=611 + 10 * i))
        if i == 1:
            lines.append(zap(DAY + "T03:04:33.871Z", "info", "runtime memstats",
                             heap_alloc_mib=88, heap_sys_mib=104, num_gc=61102,
                             goroutines=48211))
    b.log(POD, lines)
    b.json("incident.json", k8s_incident(
        38, "not-ready", POD,
        "pod %s in shop has not been ready for 4m (%s)" % (POD, unready),
        {"reason": "ContainersNotReady", "message": unready,
         "lastTransitionTime": at("02:55:22")}, severity="medium"))
    b.source("kubernetes", 377)
    b.source("store", 2)
    b.done()


def rollout_degraded():
    b = Bundle("rollout-degraded")
    new_rs, tag = "checkout-5f8d7c9b6", "v2.5.0"

    def crashing(name, created, restarts, started, finished):
        unready = "containers with unready status: [checkout]"
        return pod(name, new_rs, created, NODE_B if name.endswith("q7kzm") else NODE_C, "Running",
                   [cond("PodReadyToStartContainers", "True", at_or(created, 2)),
                    cond("Initialized", "True", created),
                    cond("Ready", "False", finished, "ContainersNotReady", unready),
                    cond("ContainersReady", "False", finished, "ContainersNotReady", unready),
                    cond("PodScheduled", "True", created)],
                   [status_of("checkout", tag,
                              {"waiting": {"reason": "CrashLoopBackOff",
                                           "message": backoff_message(name, "1m20s")}},
                              last={"terminated": {"exitCode": 2, "reason": "Error",
                                                   "startedAt": started, "finishedAt": finished,
                                                   "containerID": cid(name, tag, restarts - 1)}},
                              restarts=restarts, run=restarts)], tag=tag)

    a = crashing(new_rs + "-q7kzm", at("02:50:05"), 4, at("03:02:14"), at("03:02:52"))
    c = crashing(new_rs + "-b2n8d", at("02:50:40"), 3, at("03:01:01"), at("03:01:37"))
    old1 = running_pod(POD, "2026-11-20T14:12:30Z", NODE_A, "2026-11-20T14:12:41Z")
    old2 = running_pod(OLD_RS + "-hq4mz", "2026-11-20T14:13:02Z", NODE_B, "2026-11-20T14:13:09Z")
    b.json("kubernetes-pods.json", pod_list(old1, old2, a, c))
    b.json("kubernetes-events.json", event_list(
        event("Deployment", "checkout", "Normal", "ScalingReplicaSet",
              "Scaled up replica set %s to 1" % new_rs, at("02:50:05"),
              component="deployment-controller", api="apps/v1"),
        event("Deployment", "checkout", "Normal", "ScalingReplicaSet",
              "Scaled down replica set %s to 2 from 3" % OLD_RS, at("02:50:40"),
              component="deployment-controller", api="apps/v1"),
        event("Deployment", "checkout", "Normal", "ScalingReplicaSet",
              "Scaled up replica set %s to 2 from 1" % new_rs, at("02:50:40"),
              component="deployment-controller", api="apps/v1"),
        kubelet_event(new_rs + "-q7kzm", NODE_B, "Warning", "BackOff",
                      "Back-off restarting failed container checkout in pod %s-q7kzm_%s(%s)"
                      % (new_rs, NS, uid("pod", new_rs + "-q7kzm")),
                      at("02:51:40"), at("03:04:31"), 11),
        kubelet_event(new_rs + "-b2n8d", NODE_C, "Warning", "BackOff",
                      "Back-off restarting failed container checkout in pod %s-b2n8d_%s(%s)"
                      % (new_rs, NS, uid("pod", new_rs + "-b2n8d")),
                      at("02:52:31"), at("03:04:49"), 8)))
    b.json("kubernetes-deployments.json", deployment_list(deployment(
        3, 4, tag,
        {"replicas": 4, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2,
         "unavailableReplicas": 2},
        [dcond("Available", "False", at("02:51:40"), at("02:51:40"), "MinimumReplicasUnavailable",
               "Deployment does not have minimum availability."),
         dcond("Progressing", "False", at("03:00:41"), at("03:00:41"), "ProgressDeadlineExceeded",
               'ReplicaSet "%s" has timed out progressing.' % new_rs)], generation=9)))
    b.json("kubernetes-replicasets.json", replicaset_list(
        replicaset(new_rs, 4, at("02:50:05"), tag, 2, 0, desired=3, generation=2),
        replicaset(OLD_RS, 3, RS3_CREATED, "v2.4.0", 2, 2, desired=3, generation=5),
        replicaset("checkout-6d4c8b7f5", 2, "2026-11-12T09:30:44Z", "v2.3.2", 0, 0, desired=3,
                   generation=4)))
    b.log(new_rs + "-q7kzm.previous", [
        zap(DAY + "T03:02:14.301Z", "info", "starting checkout", version=tag, addr=":8080",
            gomaxprocs=2),
        zap(DAY + "T03:02:14.322Z", "info", "payment client v2 enabled",
            endpoint="https://payments.internal/v2"),
        zap(DAY + "T03:02:24.118Z", "info", "GET /healthz/ready", status=200, duration_ms=1),
        zap(DAY + "T03:02:51.907Z", "info", "POST /checkout", status=200, duration_ms=52,
            cart_items=2, payment="card"),
        "panic: assignment to entry in nil map",
        "",
        "goroutine 4127 [running]:",
        "shop/checkout/payment.(*ClientV2).Authorize(0xc0002a4100, {0x1b2e4a0, 0xc000512cc0}, "
        "0xc0004f6000)",
        "\t/src/services/checkout/payment/client_v2.go:112 +0x2c4",
        "main.(*server).checkout(0xc0000b6380, {0x1b31f40, 0xc0005440e0}, 0xc00054c000)",
        "\t/src/services/checkout/handler.go:73 +0x1a5"])
    b.json("incident.json", k8s_incident(
        39, "crashloop", new_rs + "-q7kzm",
        "pod %s-q7kzm in shop is in CrashLoopBackOff (container checkout, 3 restarts, "
        "last exit code 2: Error)" % new_rs,
        {"container": "checkout", "reason": "CrashLoopBackOff", "restartCount": 3, "exitCode": 2,
         "lastReason": "Error", "message": backoff_message(new_rs + "-q7kzm", "40s")}))
    b.source("kubernetes", 468)
    b.source("store", 2)
    b.done()


def dependency():
    b = Bundle("dependency")
    traces = []
    for i, start in enumerate(spread(30, "02:51:00", "03:04:20")):
        tr = Trace(("dependency", i), start)
        quote_chain(tr, i, user_status=503 if i % 3 == 1 else 200)
        traces.append(tr)
    b.json("jaeger-traces.json", envelope(traces))
    b.json("incident.json", incident(
        41, "quote-service", "http/quote-service/down", "http",
        "quote-service returned 500, expected 2xx", "high",
        {"url": QUOTE_API, "status": 500, "latency_ms": 24}))
    b.source("jaeger", 236)
    b.source("store", 2)
    b.done()


def latency_db():
    b = Bundle("latency-db")
    traces = []
    for i, start in enumerate(spread(30, "02:50:30", "03:04:40")):
        tr = Trace(("latency-db", i), start)
        slow = start >= us(at("02:56:00")) and i % 3 != 2
        quote_chain(tr, i, db=True, user=False,
                    slow_db=jitter(i, 1380000, 1440000, "slow") if slow else 0)
        traces.append(tr)
    b.json("jaeger-traces.json", envelope(traces))
    b.json("incident.json", incident(
        42, "quote-service", "http/quote-service/latency", "http",
        "quote-service took 1451 ms (limit 800 ms)", "medium",
        {"url": QUOTE_API, "latency_ms": 1451, "limit_ms": 800}))
    b.source("jaeger", 251)
    b.source("store", 2)
    b.done()


def latency_service():
    b = Bundle("latency-service")
    traces = []
    for i, start in enumerate(spread(30, "02:50:30", "03:04:40")):
        tr = Trace(("latency-service", i), start)
        slow = start >= us(at("02:56:00")) and i % 3 != 2
        quote_chain(tr, i, slow_policy=jitter(i, 1180000, 1240000, "slow") if slow else 0)
        traces.append(tr)
    b.json("jaeger-traces.json", envelope(traces))
    b.json("incident.json", incident(
        43, "quote-service", "http/quote-service/latency", "http",
        "quote-service took 1262 ms (limit 800 ms)", "medium",
        {"url": QUOTE_API, "latency_ms": 1262, "limit_ms": 800}))
    b.source("jaeger", 244)
    b.source("store", 2)
    b.done()


COMMIT = "9f4e2c1a7b3d5e8f0a6c2b4d1e3f5a7c9b0d2e4f"


def commit_regression():
    b = Bundle("commit-regression")
    b.json("git-log.json", [
        {"sha": COMMIT, "author": "Dana <dana@example.com>", "time": at("02:50:00"),
         "subject": "checkout: switch payment client to v2",
         "files": ["services/checkout/payment.go"]},
        {"sha": "3b8d0f2e6a1c4e7b9d2f5a8c0e3b6d9f1a4c7e0b", "author": "Lee <lee@example.com>",
         "time": "2026-11-22T02:41:17Z", "subject": "checkout: log the cart size on checkout",
         "files": ["services/checkout/handler.go"]}])
    errors_begin = epoch(at("02:58:00"))
    ramp = {0: 0.041, 60: 0.112, 120: 0.183}

    def ratio(t):
        if t < errors_begin:
            return noisy(t, 0.001, 0.0004, "errors")
        if t - errors_begin in ramp:
            return repr(ramp[t - errors_begin])
        return noisy(t, 0.2, 0.015, "errors")
    b.json("prometheus-checkout-errors.json", matrix({}, at("02:00:00"), at("03:05:00"), ratio))
    b.json("incident.json", incident(
        44, "checkout", "prometheus/checkout/above/checkout-errors", "prometheus",
        "checkout-errors is 0.183, above 0.05", "high",
        {"query": 'sum(rate(http_requests_total{service="checkout",code=~"5.."}[5m])) / '
                  'sum(rate(http_requests_total{service="checkout"}[5m]))',
         "value": 0.183, "threshold": 0.05}))
    b.source("prometheus", 88)
    b.source("git", 31)
    b.source("store", 2)
    b.done()


def business_metric():
    b = Bundle("business-metric")
    drop = epoch(at("02:55:00"))
    ramp = {-60: 0.049, 0: 0.031, 60: 0.012, 120: 0.004}

    def conversion(t):
        if t - drop in ramp:
            return repr(ramp[t - drop])
        if t < drop:
            return noisy(t, 0.05, 0.004, "conv")
        return noisy(t, 0.001, 0.0005, "conv")
    b.json("prometheus-conversion-rate.json",
           matrix({}, at("02:00:00"), at("03:05:00"), conversion))
    b.json("host.json", host(True, rss_kb=186420, state="S"))
    b.log("quote-service", [
        zap("2026-11-24T03:04:41.310Z", "info", "GET /quote", status=200, duration_ms=41,
            product="home"),
        zap("2026-11-24T03:04:44.982Z", "info", "GET /quote", status=200, duration_ms=39,
            product="car"),
        zap("2026-11-24T03:04:49.127Z", "info", "GET /quote", status=200, duration_ms=44,
            product="home")])
    b.json("incident.json", incident(
        45, "quote-service", "prometheus/quote-service/below/conversion-rate", "prometheus",
        "conversion-rate is %s, below 0.02" % conversion(epoch(at("03:00:00"))), "high",
        {"query": "sum(rate(shop_orders_total[10m])) / sum(rate(shop_quotes_total[10m]))",
         "value": float(conversion(epoch(at("03:00:00")))), "threshold": 0.02}))
    b.source("prometheus", 92)
    b.source("host", 4)
    b.source("store", 2)
    b.done()


def disk_full():
    b = Bundle("disk-full")
    p = running_pod(POD, "2026-11-20T14:12:30Z", NODE_A, "2026-11-20T14:12:41Z", volumes=True)
    b.json("kubernetes-pods.json", pod_list(p))
    b.json("kubernetes-deployments.json", deployment_list(healthy_deployment(volumes=True)))
    err = "write /var/lib/checkout/cache/blob: no space left on device"
    b.log(POD, [
        zap(DAY + "T03:04:38.201Z", "info", "POST /checkout", status=200, duration_ms=39,
            cart_items=2),
        zap(DAY + "T03:04:41.562Z", "error", "cache write failed", key="cart:8f3a71c2", error=err),
        zap(DAY + "T03:04:41.563Z", "error", "POST /checkout", status=500, duration_ms=12,
            error="persist cart snapshot: " + err),
        zap(DAY + "T03:04:47.019Z", "error", "cache write failed", key="cart:1d9be044", error=err),
        zap(DAY + "T03:04:47.020Z", "error", "POST /checkout", status=500, duration_ms=9,
            error="persist cart snapshot: " + err),
        zap(DAY + "T03:04:55.774Z", "error", "cache compaction failed", error=err)])
    b.source("kubernetes", 359)
    b.done()


def crash_process(name="crash-process", past=False):
    b = Bundle(name)
    b.json("host.json", host(False))
    b.log("quote-service", QUOTE_LOG_OK + GO_CRASH)
    b.json("incident.json", quote_down_incident(47 if past else 46))
    if past:
        def resolved(id_, opened, resolved_at):
            return {"id": id_, "fingerprint": "http/quote-service/down", "service": "quote-service",
                    "title": "quote-service is unreachable: Failed to connect to 127.0.0.1 port "
                             "8080 after 0 ms: Couldn't connect to server",
                    "severity": "high", "category": "crash", "state": "INCIDENT_RESOLVED",
                    "source": "http", "occurrences": 1, "opened_at": opened,
                    "updated_at": resolved_at, "resolved_at": resolved_at, "remote_key": None,
                    "remote_url": None}
        b.json("past-incidents.json", [
            resolved(19, "2026-11-23T05:12:00Z", "2026-11-23T05:19:05Z"),
            resolved(24, "2026-11-23T11:47:00Z", "2026-11-23T11:52:31Z"),
            resolved(29, "2026-11-23T17:03:00Z", "2026-11-23T17:11:40Z"),
            resolved(40, at("00:31:00"), at("00:38:12"))])
    b.source("host", 3)
    b.source("store", 2)
    b.done()


def docker_oom():
    b = Bundle("docker-oom")
    cid_ = hexid(64, "docker", "checkout")
    b.json("docker-inspect.json", [{
        "Id": cid_, "Created": "2026-11-20T14:20:03.512884915Z",
        "Path": "/usr/local/bin/checkout", "Args": ["--config", "/etc/checkout/config.yaml"],
        "State": {"Status": "restarting", "Running": True, "Paused": False, "Restarting": True,
                  "OOMKilled": True, "Dead": False, "Pid": 0, "ExitCode": 137, "Error": "",
                  "StartedAt": "2026-11-24T03:03:02.118233410Z",
                  "FinishedAt": "2026-11-24T03:04:11.902771533Z"},
        "Image": "sha256:" + hexid(64, "image", "v2.4.0"),
        "ResolvConfPath": "/var/lib/docker/containers/%s/resolv.conf" % cid_,
        "HostnamePath": "/var/lib/docker/containers/%s/hostname" % cid_,
        "HostsPath": "/var/lib/docker/containers/%s/hosts" % cid_,
        "LogPath": "/var/lib/docker/containers/%s/%s-json.log" % (cid_, cid_),
        "Name": "/checkout", "RestartCount": 5, "Driver": "overlay2", "Platform": "linux",
        "HostConfig": {"NetworkMode": "shop_default",
                       "PortBindings": {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]},
                       "RestartPolicy": {"Name": "always", "MaximumRetryCount": 0},
                       "Memory": 268435456, "MemorySwap": 268435456, "MemoryReservation": 0,
                       "NanoCpus": 1000000000, "OomKillDisable": False},
        "Config": {"Hostname": cid_[:12], "User": "65532", "ExposedPorts": {"8080/tcp": {}},
                   "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                           "CHECKOUT_DB=postgres://checkout-db:5432/checkout"],
                   "Cmd": ["--config", "/etc/checkout/config.yaml"],
                   "Image": REGISTRY + ":v2.4.0", "WorkingDir": "/",
                   "Entrypoint": ["/usr/local/bin/checkout"],
                   "Labels": {"com.docker.compose.project": "shop",
                              "com.docker.compose.service": "checkout",
                              "com.docker.compose.container-number": "1",
                              "com.docker.compose.version": "2.29.7"}},
        "NetworkSettings": {"Networks": {"shop_default": {
            "NetworkID": hexid(64, "network", "shop_default"), "EndpointID": "",
            "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "MacAddress": "",
            "Aliases": ["checkout", cid_[:12]]}}},
        "Mounts": []}])
    b.log("checkout", [
        zap(DAY + "T03:03:02.301Z", "info", "starting checkout", version="v2.4.0", addr=":8080",
            gomaxprocs=1),
        zap(DAY + "T03:03:12.000Z", "info", "runtime memstats", heap_alloc_mib=92,
            heap_sys_mib=110, num_gc=12, goroutines=171),
        zap(DAY + "T03:03:42.000Z", "info", "runtime memstats", heap_alloc_mib=171,
            heap_sys_mib=190, num_gc=37, goroutines=262),
        zap(DAY + "T03:03:47.513Z", "warn", "cart cache over soft limit", entries=398114,
            size_mib=146, soft_limit_mib=128),
        zap(DAY + "T03:04:02.000Z", "info", "runtime memstats", heap_alloc_mib=236,
            heap_sys_mib=251, num_gc=58, goroutines=305)])
    b.json("incident.json", incident(
        48, "checkout", "docker/checkout/oomkilled/container/checkout", "docker",
        "container checkout was killed for running out of memory (exit code 137)", "high",
        {"id": cid_, "name": "checkout", "image": REGISTRY + ":v2.4.0", "state": "restarting",
         "exit_code": 137, "oom_killed": True, "restart_count": 4, "health": None}))
    b.source("docker", 19)
    b.source("store", 2)
    b.done()


def host_oom():
    b = Bundle("host-oom")
    b.json("host.json", host(False, kernel=[
        "quote-service invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), "
        "order=0, oom_score_adj=0",
        "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
        "task_memcg=/system.slice/quote-service.service,task=quote-service,pid=4242,uid=998",
        "Out of memory: Killed process 4242 (quote-service) total-vm:1843200kB, "
        "anon-rss:1048576kB, file-rss:1024kB, shmem-rss:0kB, UID:998 pgtables:2464kB "
        "oom_score_adj:0"]))
    # A process the kernel kills says nothing: its log just stops.
    b.log("quote-service", QUOTE_LOG_OK)
    b.json("incident.json", quote_down_incident(49))
    b.source("host", 5)
    b.source("store", 2)
    b.done()


def healthy():
    b = Bundle("healthy")
    p = running_pod(POD, "2026-11-20T14:12:30Z", NODE_A, "2026-11-20T14:12:41Z")
    b.json("kubernetes-pods.json", pod_list(p))
    b.json("kubernetes-deployments.json", deployment_list(healthy_deployment()))
    b.log(POD, ok_pod_log(POD, ["03:04:33", "03:04:39", "03:04:44", "03:04:51", "03:04:58"]))
    traces = []
    for i, start in enumerate(spread(30, "02:50:10", "03:04:50")):
        tr = Trace(("healthy", i), start)
        db = jitter(i, 2500, 6000, "cart")
        quote = jitter(i, 30000, 48000, "quote")
        total = 300 + db + 200 + quote + 1500 + jitter(i, 2000, 5000, "self")
        root = tr.add("checkout", "POST /checkout", None, 0, total,
                      server_tags("POST", "/checkout", 200))
        tr.add("checkout", "SELECT carts", root, 300, db,
               [tag("span.kind", "client"), tag("db.system", "postgresql"),
                tag("db.name", "checkout"),
                tag("db.statement", "SELECT items FROM carts WHERE id = $1"),
                tag("net.peer.name", "checkout-db.shop.svc.cluster.local"),
                tag("net.peer.port", 5432)])
        cl = tr.add("checkout", "GET /quote", root, 300 + db + 200, quote + 1500,
                    client_tags("GET", "quote-service", 200))
        tr.add("quote-service", "GET /quote", cl, 300 + db + 200 + 700, quote,
               server_tags("GET", "/quote", 200))
        traces.append(tr)
    b.json("jaeger-traces.json", envelope(traces))
    b.source("kubernetes", 341)
    b.source("jaeger", 198)
    b.done()


def malformed():
    b = Bundle("bad-json")
    whole = dump(pod_list(running_pod(POD, "2026-11-20T14:12:30Z", NODE_A,
                                      "2026-11-20T14:12:41Z")))
    cut = whole.index('"status"')          # cut off mid-object, as a full disk leaves it
    b.text("kubernetes-pods.json", whole[:cut + 20])
    b.source("kubernetes", 402)
    b.done()

    b = Bundle("wrong-kind")
    b.json("kubernetes-pods.json", {"kind": "PodList", "apiVersion": "v1",
                                    "metadata": {"resourceVersion": rv()}, "items": {}})
    b.source("kubernetes", 402)
    b.done()

    b = Bundle("traces-not-jaeger")
    b.json("jaeger-traces.json", {"data": 5})
    b.source("jaeger", 211)
    b.done()


def main():
    oom_chronic()
    oom_once()
    crashloop()
    image_pull()
    config_error()
    evicted()
    unschedulable()
    probe_failure()
    rollout_degraded()
    dependency()
    latency_db()
    latency_service()
    commit_regression()
    business_metric()
    disk_full()
    crash_process()
    crash_process("crash-chronic", past=True)
    docker_oom()
    host_oom()
    healthy()
    malformed()


if __name__ == "__main__":
    main()
