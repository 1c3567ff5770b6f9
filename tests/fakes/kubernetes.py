#!/usr/bin/env python3
"""kubernetes.py: a fake Kubernetes API server for sre's tests, standard library only.

    python3 tests/fakes/kubernetes.py --port-file F --log F [--lifetime SECONDS]
                                      --cert F --key F [--client-ca F]
                                      [--token T] [--data F]

It listens on 127.0.0.1 (a free port, written to --port-file once it
listens) and speaks HTTPS with the certificate and key given (the test
makes a throwaway CA and a certificate for 127.0.0.1 with openssl), so the
client really verifies the server with the CA of its kubeconfig. A request
is let in when it carries "Authorization: Bearer <--token>", or, with
--client-ca, a client certificate that CA signed; any other gets the API
server's 401 Status. Plain HTTP on the same port gets Go's answer to it,
400 "Client sent an HTTP request to an HTTPS server.", but for the
/_fake/ endpoints, which answer over either (the tests' own calls are
plain HTTP).

It answers
    GET /api/v1/namespaces/<ns>/pods                a PodList
    GET /api/v1/namespaces/<ns>/events              an EventList
    GET /apis/apps/v1/namespaces/<ns>/deployments   a DeploymentList
    GET /apis/apps/v1/namespaces/<ns>/replicasets   a ReplicaSetList
(fieldSelector honoured: "type=Warning", "reason!=X", ..., as the API
server does; an unknown field gets its 400 "field label not supported")
    GET /apis/apps/v1/namespaces/<ns>/deployments/<name>
                                                    the Deployment, with its kind
    PATCH of the same                               `kubectl rollout restart`
                                                    and `rollout undo`'s change
    GET /apis/apps/v1/namespaces/<ns>/deployments/<name>/scale
                                                    its autoscaling/v1 Scale
    PATCH of the same                               `kubectl scale`'s change
(a Deployment that is not there: 404 'deployments.apps "<name>" not
found'. A PATCH is applied as the API server applies it, by its
Content-Type: application/strategic-merge-patch+json (maps merge, null
deletes, containers, env, volumes... merge by their key, $patch replace
and delete), application/merge-patch+json (RFC 7386) or
application/json-patch+json (RFC 6902: add, remove, replace, test); any
other type gets 415, a body that is not JSON 400, and a result without
containers, with template labels the selector does not match, or with
negative replicas 422. A change of spec (replicas, template) bumps
metadata.generation; any change gives a new resourceVersion, above every
one given out before; only spec.replicas, spec.template and
metadata.annotations are kept, into the data: "replicas", "template",
"annotations", "generation" and "resourceVersion" of the compact form)
    DELETE /api/v1/namespaces/<ns>/pods/<pod>     the pod as it goes; one a ReplicaSet
                                                    owns is replaced by a new one at once
    GET /api/v1/namespaces/<ns>/pods/<pod>/log?container=<c>&tailLines=<n>
                                                    the container's log, text/plain
(tailLines honoured, and sinceTime, timestamps=true and limitBytes as the
kubelet does: the lines written from sinceTime on, each after its time in
RFC 3339 with nanoseconds and a space, cut after limitBytes bytes;
previous=true: the previous container's, "previousLog",
which is also what a container waiting to restart serves. The kubelet's 400
when there is no previousLog, when the container has not started, when
the pod has several containers and none is named, or names one it does
not have; 404 for a pod that is not there)
    GET /apis/coordination.k8s.io/v1/namespaces/<ns>/leases/<name>
                                                    the Lease; 404 'leases.coordination.k8s.io
                                                    "<name>" not found' when absent
    POST /apis/coordination.k8s.io/v1/namespaces/<ns>/leases
                                                    a new Lease: 201; 409 AlreadyExists
                                                    when the name is taken
    PUT /apis/coordination.k8s.io/v1/namespaces/<ns>/leases/<name>
                                                    the Lease replaced: 200; 409 Conflict
                                                    ("the object has been modified; please
                                                    apply your changes to the latest version
                                                    and try again") when its
                                                    metadata.resourceVersion is not the one
                                                    stored, 422 when it has none, 404 when
                                                    the Lease is not there
(Leases are what client-go's leader election takes. The fake keeps them
apart from the compact data, whole, as the API server stores them: each
write gets a new resourceVersion, above every one given out before, and
keeps uid and creationTimestamp; spec is stored as sent, after the API
server's validation: leaseDurationSeconds above 0, leaseTransitions not
negative, acquireTime and renewTime MicroTimes, holderIdentity a string;
a body whose namespace or name is not the URL's gets its 400)
with objects shaped field for field on pods, events and Deployments
captured from real clusters (tests/../fixtures: argo gitops-engine,
flanksource is-healthy, k9s): metadata with uid, resourceVersion, labels,
ownerReferences and creationTimestamp; spec.containers with image and
resources; status with phase, conditions (type, status, lastProbeTime,
lastTransitionTime, reason, message), containerStatuses (state, lastState,
ready, restartCount, image, imageID, containerID, started), startTime,
reason and message. A Deployment has its revision annotation, generation,
spec (replicas, selector, strategy, template) and status (the replica
counts, left out when 0 as the API server does, and the Available and
Progressing conditions with lastUpdateTime). No ReplicaSet is recorded:
one has what `kubectl get rs -o json` shows, the desired-replicas,
max-replicas and revision annotations, the pod-template-hash label, its
Deployment as controller, and the same replica counts. A namespace it
does not know lists as empty, as a real one does.

The data (--data F, or POST /_fake/set) is a compact JSON form the fake
expands:

    {"<namespace>": {
       "pods": [{"name": "checkout-7d9f8b6c5d-x2x4p",
                 "labels": {"app": "checkout"},              (optional)
                 "owner": "ReplicaSet/checkout-7d9f8b6c5d",  (optional: Kind/name)
                 "phase": "Running",                         (default Running)
                 "reason": "Evicted", "message": "...",      (the pod's own, optional)
                 "conditions": {"Ready": {"status": "False", "since": "<RFC 3339>",
                                          "reason": "...", "message": "..."}},
                 "containers": [{"name": "app", "image": "shop/checkout:1.4",
                                 "limits": {"memory": "256Mi"}, "requests": {...},
                                 "state": {"waiting": {"reason": "CrashLoopBackOff",
                                                       "message": "..."}},
                                 "lastState": {"terminated": {"reason": "OOMKilled",
                                               "exitCode": 137, "finishedAt": "..."}},
                                 "ready": false, "restartCount": 7,
                                 "env": [{"name": "A", "value": "b"}],   (optional, as given)
                                 "log": "the lines it wrote\n",          (optional)
                                 "logTimes": ["<RFC 3339>", ...],       (optional: when
                                                 each line of "log" was written, for
                                                 sinceTime and timestamps=true; a
                                                 line without one: now)
                                 "previousLog": "its previous container's\n"}],
                 "initContainers": [...]}],
       "events": [{"object": "Pod/checkout-7d9f8b6c5d-x2x4p", "type": "Warning",
                   "reason": "BackOff", "message": "...", "count": 12,
                   "lastTimestamp": "<RFC 3339>", "component": "kubelet"}],
       "deployments": [{"name": "checkout",
                        "labels": {"app": "checkout"},          (default {"app": name})
                        "selector": {"app": "checkout"},        (default the labels)
                        "replicas": 3, "revision": 4,           (default 1 and 1)
                        "updated": 3, "ready": 2, "available": 2,  (default replicas)
                        "containers": [{"name": "app", "image": "...", "limits": {...}}],
                        "conditions": {"Available": {"status": "False", "since": "...",
                                                     "reason": "...", "message": "..."}},
                        "replicaset": "checkout-7d9f8b6c5d",    (default its newest)
                        "generation": 4,                        (default the revision)
                        "annotations": {...},                   (besides the revision's)
                        "template": {...}}],                    (the whole spec.template,
                                                                 as a PATCH leaves it;
                                                                 default from containers)
       "replicasets": [{"name": "checkout-7d9f8b6c5d",
                        "owner": "Deployment/checkout",          (optional: Kind/name)
                        "revision": 4, "replicas": 3, "ready": 3, "available": 3,
                        "labels": {...}, "containers": [...]}]}} (default the owner's)

Conditions left out are derived from the phase and the containers as the
kubelet sets them (a Pending pod whose PodScheduled is False has only that
condition, and no node, IPs or container statuses, as the scheduler leaves
it).

Every request but the /_fake/ ones is appended to --log as one JSON line:
{"method", "path", "query", "headers" (lower-case names), "body", "tls"
(true or false), "client" (the client certificate's CN, or null)}.

Control endpoints, for tests:
    POST /_fake/set   the data above, replacing what the fake serves
    GET /_fake/state  the data as it stands
    POST /_fake/fail  {"method": "GET", "path": "<regex>", "status": 403,
                       "headers": {...}, "body": "<text or JSON>", "times": 1}
                      the next `times` matching requests get that answer
    POST /_fake/delay {"method": "GET", "path": "<regex>", "seconds": 5, "times": 1}
                      the next `times` matching requests wait that long
                      before their answer (fakeserver.py's)
    GET /_fake/leases {"<ns>/<name>": <the Lease as stored>, ...}
    POST /_fake/lease <a Lease> stored as it is, whatever it holds (a hostile
                      holderIdentity, a malformed spec: what a test needs
                      the client to refuse), with a new resourceVersion
    POST /_fake/lease-fail {"times": 3, "status": 500}
                      the next `times` writes of a Lease (POST or PUT) fail
                      with that status and the API server's Status, and
                      change nothing: a partition between a holder and
                      the API server

It exits after --lifetime seconds (default 120) or on SIGTERM.
"""
import copy
import datetime
import hashlib
import json
import re
import socket
import ssl
import sys
import time
import uuid
from urllib.parse import parse_qsl, unquote

import fakeserver  # the command line, life and request machinery every fake shares

args = None
ctx = None
data = {}              # the compact form, per namespace
START = time.time()
NODE = "worker-1"
LIST = re.compile(r"^/api/v1/namespaces/([^/]+)/(pods|events)$")
APPS = re.compile(r"^/apis/apps/v1/namespaces/([^/]+)/(deployments|replicasets)$")
LOG = re.compile(r"^/api/v1/namespaces/([^/]+)/pods/([^/]+)/log$")
POD = re.compile(r"^/api/v1/namespaces/([^/]+)/pods/([^/]+)$")
DEPLOYMENT = re.compile(r"^/apis/apps/v1/namespaces/([^/]+)/deployments/([^/]+)(/scale)?$")
LEASES = re.compile(r"^/apis/coordination\.k8s\.io/v1/namespaces/([^/]+)/leases(?:/([^/]+))?$")
MICRO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
leases = {}            # "<ns>/<name>": the Lease as stored
lease_fail = {"times": 0, "status": 500}  # POST /_fake/lease-fail


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def uid(*parts):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def hexid(*parts, n=64):
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


written = 0            # the resourceVersion of the last write


def resource_version():
    # Monotonic, as etcd's revision is; the same for a list and its items' era,
    # and never below the last write's.
    return str(max(100000 + int((time.time() - START) * 1000), written))


def next_resource_version():
    """The resourceVersion of a write: above every one given out before."""
    global written
    written = int(resource_version()) + 1
    return str(written)


def status(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": message, "reason": reason}
    if details is not None:
        s["details"] = details
    s["code"] = code
    return s


# ---- expanding the compact form ----

OWNER_API = {"ReplicaSet": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1",
             "Deployment": "apps/v1", "Job": "batch/v1", "CronJob": "batch/v1",
             "Node": "v1"}


def expand_state(st, container_id, started):
    """A compact state ({"waiting"|"running"|"terminated": {...}}) in the API's form."""
    if not st:
        return {}
    if "waiting" in st:
        w = st["waiting"] or {}
        out = {"reason": w.get("reason", "ContainerCreating")}
        if w.get("message"):
            out["message"] = w["message"]
        return {"waiting": out}
    if "running" in st:
        return {"running": {"startedAt": (st["running"] or {}).get("startedAt", started)}}
    t = st.get("terminated") or {}
    out = {"containerID": container_id, "exitCode": t.get("exitCode", 0),
           "finishedAt": t.get("finishedAt", iso(time.time() - 60)),
           "reason": t.get("reason", "Completed"),
           "startedAt": t.get("startedAt", started)}
    if t.get("message"):
        out["message"] = t["message"]
    return {"terminated": out}


def image_id(image):
    """The digest form containerd reports: docker.io/library/ added to a short name."""
    repo = image.rsplit(":", 1)[0] if ":" in image.split("/")[-1] else image
    first = repo.split("/")[0]
    if "/" not in repo:
        repo = "docker.io/library/" + repo
    elif "." not in first and ":" not in first and first != "localhost":
        repo = "docker.io/" + repo
    return repo + "@sha256:" + hexid(image)


def expand_pod(ns, p):
    name = p["name"]
    created = p.get("created", iso(START - 3600))
    phase = p.get("phase", "Running")
    labels = dict(p.get("labels", {}))
    meta = {"creationTimestamp": created}
    owner = p.get("owner")
    if owner:
        kind, _, oname = owner.partition("/")
        meta["generateName"] = oname + "-"
        if kind == "ReplicaSet" and "pod-template-hash" not in labels and "-" in oname:
            labels["pod-template-hash"] = oname.rsplit("-", 1)[1]
    if labels:
        meta["labels"] = labels
    meta.update({"name": name, "namespace": ns})
    if owner:
        meta["ownerReferences"] = [{"apiVersion": OWNER_API.get(kind, "v1"),
                                    "blockOwnerDeletion": True, "controller": True,
                                    "kind": kind, "name": oname,
                                    "uid": uid(ns, kind, oname)}]
    meta["resourceVersion"] = resource_version()
    meta["uid"] = uid(ns, "Pod", name)

    conds_given = p.get("conditions", {})
    sched = conds_given.get("PodScheduled", {})
    unscheduled = phase == "Pending" and sched.get("status") == "False"

    spec_containers = []
    statuses = {"containers": [], "initContainers": []}
    for listname in ("initContainers", "containers"):
        for c in p.get(listname, []):
            resources = {}
            if c.get("limits"):
                resources["limits"] = c["limits"]
            if c.get("requests") or c.get("limits"):
                resources["requests"] = c.get("requests", c.get("limits"))
            spec = {"image": c.get("image", "registry.example/%s:1.0" % c["name"]),
                    "imagePullPolicy": "IfNotPresent", "name": c["name"],
                    "resources": resources,
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "volumeMounts": [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                                      "name": "kube-api-access-" + hexid(ns, name, n=5),
                                      "readOnly": True}]}
            if c.get("env"):
                spec["env"] = c["env"]
            spec_containers.append((listname, spec))
            if unscheduled:
                continue
            cid = "containerd://" + hexid(ns, name, c["name"])
            started_at = iso(START - 3500)
            state = c.get("state", {"running": {}} if phase == "Running" else
                          {"waiting": {"reason": "ContainerCreating"}})
            st = expand_state(state, cid, started_at)
            last = expand_state(c.get("lastState"), cid, started_at)
            never_ran = "waiting" in st and not last
            ready = c.get("ready", "running" in st and phase == "Running")
            s = {"name": c["name"], "state": st, "lastState": last, "ready": ready,
                 "restartCount": c.get("restartCount", 0), "image": spec["image"],
                 "imageID": "" if never_ran else image_id(spec["image"]),
                 "started": "running" in st}
            if not never_ran:
                s["containerID"] = cid
            statuses[listname].append(s)

    spec = {"containers": [s for l, s in spec_containers if l == "containers"],
            "dnsPolicy": "ClusterFirst", "enableServiceLinks": True}
    inits = [s for l, s in spec_containers if l == "initContainers"]
    if inits:
        spec["initContainers"] = inits
    if not unscheduled:
        spec["nodeName"] = NODE
    spec.update({"preemptionPolicy": "PreemptLowerPriority", "priority": 0,
                 "restartPolicy": "Always", "schedulerName": "default-scheduler",
                 "securityContext": {}, "serviceAccount": "default",
                 "serviceAccountName": "default", "terminationGracePeriodSeconds": 30,
                 "tolerations": [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready",
                                  "operator": "Exists", "tolerationSeconds": 300},
                                 {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable",
                                  "operator": "Exists", "tolerationSeconds": 300}],
                 "volumes": [{"name": "kube-api-access-" + hexid(ns, name, n=5),
                              "projected": {"defaultMode": 420, "sources": [
                                  {"serviceAccountToken": {"expirationSeconds": 3607,
                                                           "path": "token"}},
                                  {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}],
                                                 "name": "kube-root-ca.crt"}}]}}]})

    # The conditions the kubelet and scheduler would set, then the test's own.
    all_ready = all(s["ready"] for s in statuses["containers"]) and phase == "Running"
    unready = [s["name"] for s in statuses["containers"] if not s["ready"]]
    derived = []
    if not unscheduled:
        derived.append(("PodReadyToStartContainers", "True" if phase == "Running" else "False",
                        None, None))
        # An init container that has not finished holds the pod back.
        pending_init = [s["name"] for s in statuses["initContainers"]
                        if not (s.get("state", {}).get("terminated", {}).get("exitCode") == 0)]
        if pending_init:
            derived.append(("Initialized", "False", "ContainersNotInitialized",
                            "containers with incomplete status: [%s]" % " ".join(pending_init)))
        else:
            derived.append(("Initialized", "True", None, None))
        for t in ("Ready", "ContainersReady"):
            if all_ready:
                derived.append((t, "True", None, None))
            elif phase == "Failed" or phase == "Succeeded":
                derived.append((t, "False", "PodFailed" if phase == "Failed" else "PodCompleted",
                                None))
            else:
                derived.append((t, "False", "ContainersNotReady",
                                "containers with unready status: [%s]" % " ".join(unready)))
    derived.append(("PodScheduled", "True", None, None))
    conditions = []
    for t, st, reason, message in derived:
        g = conds_given.get(t, {})
        c = {"lastProbeTime": None,
             "lastTransitionTime": g.get("since", created),
             "status": g.get("status", st), "type": t}
        reason = g.get("reason", reason if "status" not in g or g["status"] == st else None)
        message = g.get("message", message if "status" not in g or g["status"] == st else None)
        if message:
            c["message"] = message
        if reason:
            c["reason"] = reason
        conditions.append(c)

    status_ = {"conditions": conditions}
    if statuses["containers"]:
        status_["containerStatuses"] = statuses["containers"]
    if not unscheduled:
        status_["hostIP"] = "10.0.0.11"
        status_["hostIPs"] = [{"ip": "10.0.0.11"}]
    if statuses["initContainers"]:
        status_["initContainerStatuses"] = statuses["initContainers"]
    if p.get("message"):
        status_["message"] = p["message"]
    status_["phase"] = phase
    # A scheduled pod has its address as soon as its sandbox runs, even
    # while it waits for an image or an init container.
    if not unscheduled:
        ip = "10.244.%d.%d" % (int(hexid(ns, name, n=2), 16) % 250, int(hexid(name, n=2), 16) % 250)
        status_["podIP"] = ip
        status_["podIPs"] = [{"ip": ip}]
    status_["qosClass"] = "Burstable" if any(c.get("limits") for c in p.get("containers", [])) \
        else "BestEffort"
    if p.get("reason"):
        status_["reason"] = p["reason"]
    if not unscheduled:
        status_["startTime"] = created
    return {"metadata": meta, "spec": spec, "status": status_}


# Who reports the events of an object of this kind.
CONTROLLER = {"Pod": "kubelet", "Deployment": "deployment-controller",
              "ReplicaSet": "replicaset-controller"}


def pod_template(labels, containers, default_name):
    """A Deployment's or ReplicaSet's spec.template, as the API server defaults it."""
    spec_containers = []
    for c in containers or [{"name": default_name}]:
        resources = {}
        if c.get("limits"):
            resources["limits"] = c["limits"]
        if c.get("requests") or c.get("limits"):
            resources["requests"] = c.get("requests", c.get("limits"))
        spec_containers.append({"image": c.get("image", "registry.example/%s:1.0" % c["name"]),
                                "imagePullPolicy": "IfNotPresent", "name": c["name"],
                                "resources": resources,
                                "terminationMessagePath": "/dev/termination-log",
                                "terminationMessagePolicy": "File"})
        if c.get("env"):
            spec_containers[-1]["env"] = c["env"]
    return {"metadata": {"creationTimestamp": None, "labels": labels},
            "spec": {"containers": spec_containers, "dnsPolicy": "ClusterFirst",
                     "restartPolicy": "Always", "schedulerName": "default-scheduler",
                     "securityContext": {}, "terminationGracePeriodSeconds": 30}}


def replica_counts(d, replicas):
    """The replica counts of a Deployment or ReplicaSet: as given, else all of them."""
    return {"updated": d.get("updated", replicas), "ready": d.get("ready", replicas),
            "available": d.get("available", replicas)}


def expand_deployment(ns, d, spec):
    name = d["name"]
    created = d.get("created", iso(START - 7200))
    labels = dict(d.get("labels", {"app": name}))
    selector = dict(d.get("selector", labels))
    replicas = d.get("replicas", 1)
    revision = d.get("revision", 1)
    generation = d.get("generation", revision)
    counts = replica_counts(d, replicas)
    owned = [r for r in spec.get("replicasets", [])
             if r.get("owner") == "Deployment/" + name]
    newest = d.get("replicaset") or (max(owned, key=lambda r: r.get("revision", 1))["name"]
                                     if owned else name + "-" + hexid(ns, name, n=10))
    complete = counts["updated"] == replicas and counts["available"] == replicas
    max_unavailable = replicas // 4  # 25%, rounded down as the controller does
    derived = {
        "Available": ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        if counts["available"] >= replicas - max_unavailable else
        ("False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."),
        "Progressing": ("True", "NewReplicaSetAvailable",
                        "ReplicaSet \"%s\" has successfully progressed." % newest)
        if complete else
        ("True", "ReplicaSetUpdated", "ReplicaSet \"%s\" is progressing." % newest),
    }
    given = d.get("conditions", {})
    conditions = []
    for t in ["Available", "Progressing"] + [t for t in given if t not in derived]:
        g = given.get(t, {})
        st, reason, message = derived.get(t, ("True", None, None))
        since = g.get("since", created)
        same = "status" not in g or g["status"] == st
        c = {"lastTransitionTime": since, "lastUpdateTime": g.get("updated", since)}
        message = g.get("message", message if same else None)
        reason = g.get("reason", reason if same else None)
        if message:
            c["message"] = message
        if reason:
            c["reason"] = reason
        c.update({"status": g.get("status", st), "type": t})
        conditions.append(c)
    status_ = {}
    if counts["available"]:
        status_["availableReplicas"] = counts["available"]
    status_["conditions"] = conditions
    status_["observedGeneration"] = generation
    if counts["ready"]:
        status_["readyReplicas"] = counts["ready"]
    if replicas:
        status_["replicas"] = replicas
    if replicas - counts["available"] > 0:
        status_["unavailableReplicas"] = replicas - counts["available"]
    if counts["updated"]:
        status_["updatedReplicas"] = counts["updated"]
    annotations = {"deployment.kubernetes.io/revision": str(revision)}
    annotations.update(d.get("annotations", {}))
    return {"metadata": {"annotations": dict(sorted(annotations.items())),
                         "creationTimestamp": created, "generation": generation,
                         "labels": labels, "name": name, "namespace": ns,
                         "resourceVersion": d.get("resourceVersion") or resource_version(),
                         "uid": uid(ns, "Deployment", name)},
            "spec": {"progressDeadlineSeconds": 600, "replicas": replicas,
                     "revisionHistoryLimit": 10, "selector": {"matchLabels": selector},
                     "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                                  "type": "RollingUpdate"},
                     "template": d.get("template") or
                     pod_template(labels, d.get("containers"), name)},
            "status": status_}


def expand_replicaset(ns, r, spec):
    name = r["name"]
    created = r.get("created", iso(START - 3600))
    owner = r.get("owner")
    kind, _, oname = owner.partition("/") if owner else ("", "", "")
    dep = next((d for d in spec.get("deployments", []) if d["name"] == oname), None) \
        if kind == "Deployment" else None
    template_hash = name.rsplit("-", 1)[1] if "-" in name else hexid(ns, name, n=10)
    labels = dict(r.get("labels", dep.get("labels", {"app": oname}) if dep else
                        {"app": oname or name}))
    labels.setdefault("pod-template-hash", template_hash)
    replicas = r.get("replicas", 1)
    counts = replica_counts(r, replicas)
    revision = r.get("revision", 1)
    max_surge = dep.get("replicas", 1) if dep else replicas
    meta = {"annotations": {"deployment.kubernetes.io/desired-replicas":
                            str(dep.get("replicas", 1) if dep else replicas),
                            "deployment.kubernetes.io/max-replicas":
                            str(max_surge + (max_surge + 3) // 4),
                            "deployment.kubernetes.io/revision": str(revision)},
            "creationTimestamp": created, "generation": r.get("generation", 1),
            "labels": labels, "name": name, "namespace": ns}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": OWNER_API.get(kind, "v1"),
                                    "blockOwnerDeletion": True, "controller": True,
                                    "kind": kind, "name": oname,
                                    "uid": uid(ns, kind, oname)}]
    meta["resourceVersion"] = resource_version()
    meta["uid"] = uid(ns, "ReplicaSet", name)
    status_ = {}
    if counts["available"]:
        status_["availableReplicas"] = counts["available"]
    if replicas:
        status_["fullyLabeledReplicas"] = replicas
    status_["observedGeneration"] = meta["generation"]
    if counts["ready"]:
        status_["readyReplicas"] = counts["ready"]
    status_["replicas"] = replicas
    containers = r.get("containers", dep.get("containers") if dep else None)
    return {"metadata": meta,
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": pod_template(labels, containers, oname or name)},
            "status": status_}


def expand_event(ns, e, pods):
    kind, _, name = e["object"].partition("/")
    obj_ns = e.get("namespace", ns)
    now = time.time()
    last = e.get("lastTimestamp", iso(now - 30))
    first = e.get("firstTimestamp", last)
    pod = next((p for p in pods if p["metadata"]["name"] == name), None) \
        if kind == "Pod" else None
    involved = {"apiVersion": OWNER_API.get(kind, "v1")}
    if pod and pod["spec"]["containers"]:
        involved["fieldPath"] = "spec.containers{%s}" % pod["spec"]["containers"][0]["name"]
    involved["kind"] = kind
    involved["name"] = name
    if obj_ns:
        involved["namespace"] = obj_ns
    involved["resourceVersion"] = resource_version()
    involved["uid"] = pod["metadata"]["uid"] if pod else uid(obj_ns, kind, name)
    component = e.get("component", CONTROLLER.get(kind, "controllermanager"))
    ev_name = "%s.%s" % (name, hexid(ns, name, e["reason"], e.get("message", ""), n=16))
    return {"apiVersion": "v1", "count": e.get("count", 1), "eventTime": None,
            "firstTimestamp": first, "involvedObject": involved, "kind": "Event",
            "lastTimestamp": last, "message": e.get("message", ""),
            "metadata": {"creationTimestamp": first, "name": ev_name, "namespace": ns,
                         "resourceVersion": resource_version(),
                         "uid": uid(ns, "Event", ev_name)},
            "reason": e["reason"], "reportingComponent": component,
            "reportingInstance": NODE if component == "kubelet" else "",
            "source": {"component": component, "host": NODE} if component == "kubelet"
            else {"component": component},
            "type": e.get("type", "Warning")}


# ---- field selectors, as the API server applies them ----

EVENT_FIELDS = {
    "type": lambda o: o["type"], "reason": lambda o: o["reason"],
    "source": lambda o: o["source"]["component"],
    "reportingComponent": lambda o: o["reportingComponent"],
    "metadata.name": lambda o: o["metadata"]["name"],
    "metadata.namespace": lambda o: o["metadata"]["namespace"],
    "involvedObject.kind": lambda o: o["involvedObject"].get("kind", ""),
    "involvedObject.name": lambda o: o["involvedObject"].get("name", ""),
    "involvedObject.namespace": lambda o: o["involvedObject"].get("namespace", ""),
    "involvedObject.uid": lambda o: o["involvedObject"].get("uid", ""),
    "involvedObject.apiVersion": lambda o: o["involvedObject"].get("apiVersion", ""),
    "involvedObject.fieldPath": lambda o: o["involvedObject"].get("fieldPath", ""),
}
# Every kind has these two; Deployments and ReplicaSets no other.
OBJECT_FIELDS = {
    "metadata.name": lambda o: o["metadata"]["name"],
    "metadata.namespace": lambda o: o["metadata"]["namespace"],
}
POD_FIELDS = {
    "metadata.name": lambda o: o["metadata"]["name"],
    "metadata.namespace": lambda o: o["metadata"]["namespace"],
    "spec.nodeName": lambda o: o["spec"].get("nodeName", ""),
    "spec.restartPolicy": lambda o: o["spec"]["restartPolicy"],
    "spec.schedulerName": lambda o: o["spec"]["schedulerName"],
    "spec.serviceAccountName": lambda o: o["spec"]["serviceAccountName"],
    "status.phase": lambda o: o["status"]["phase"],
    "status.podIP": lambda o: o["status"].get("podIP", ""),
}


def select(items, selector, fields):
    """Filter items by a fieldSelector; raises ValueError with the API's message."""
    terms = []
    for term in filter(None, selector.split(",")):
        m = re.match(r"^([^=!]+)(==|!=|=)(.*)$", term)
        if not m:
            raise ValueError("invalid field selector: %s" % term)
        key, op, value = m.groups()
        if key not in fields:
            raise ValueError("field label not supported: %s" % key)
        terms.append((fields[key], op, value))
    return [o for o in items
            if all((f(o) == v) == (op != "!=") for f, op, v in terms)]


def parse_time(text):
    """An RFC 3339 time as Unix seconds (fractions dropped), or None."""
    try:
        return int(datetime.datetime.strptime(re.sub(r"\.\d+", "", text).replace("Z", "+0000"),
                                              "%Y-%m-%dT%H:%M:%S%z").timestamp())
    except (TypeError, ValueError):
        return None


# ---- patches, as the API server applies them ----


class PatchError(Exception):
    """A patch the API server refuses: its status, reason and message."""

    def __init__(self, code, reason, message):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


# The lists a strategic merge patch merges by a key (the patchMergeKey of
# k8s.io/api's core/v1 types); every other list is replaced.
MERGE_KEYS = {"containers": "name", "initContainers": "name", "ephemeralContainers": "name",
              "volumes": "name", "env": "name", "volumeMounts": "mountPath",
              "ports": "containerPort", "imagePullSecrets": "name", "hostAliases": "ip"}


def strategic_merge(orig, patch):
    """A strategic merge patch: maps merge, null deletes, the lists of
    MERGE_KEYS merge by their key, "$patch": "replace" or "delete" on a map
    or a list's item. None when the patch deletes the whole."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return strategic_merge({}, {k: v for k, v in patch.items() if k != "$patch"})
    if directive is not None:
        raise PatchError(422, "Invalid", "Unknown patch type: %s" % directive)
    out = copy.deepcopy(orig) if isinstance(orig, dict) else {}
    for k, v in patch.items():
        if k.startswith("$"):  # $retainKeys, $setElementOrder/...: orderings, not data
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, list) and k in MERGE_KEYS and isinstance(out.get(k), list):
            out[k] = merge_list(out[k], v, MERGE_KEYS[k])
        else:
            merged = strategic_merge(out.get(k), v)
            if merged is None:
                out.pop(k, None)
            else:
                out[k] = merged
    return out


def merge_list(orig, patch, key):
    out = copy.deepcopy(orig)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise PatchError(422, "Invalid", "map: %s does not contain declared merge key: %s"
                             % (json.dumps(item), key))
        at = next((i for i, x in enumerate(out)
                   if isinstance(x, dict) and x.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if at is not None:
                del out[at]
        elif at is None:
            out.append(strategic_merge({}, item))
        else:
            out[at] = strategic_merge(out[at], item)
    return out


def merge_patch(orig, patch):
    """RFC 7386: maps merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(orig) if isinstance(orig, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def json_patch(doc, ops):
    """RFC 6902: add, remove, replace and test, on RFC 6901 pointers."""
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str) or \
                op.get("op") not in ("add", "remove", "replace", "test"):
            raise PatchError(422, "Invalid", "unexpected kind of operation: %s" % json.dumps(op))
        kind, path = op["op"], op["path"]
        if kind != "remove" and "value" not in op:
            raise PatchError(422, "Invalid", "jsonpatch %s operation has no value" % kind)
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
        if not parts:
            if kind == "test" and doc != op["value"]:
                raise PatchError(422, "Invalid", "testing value %s failed" % path)
            doc = copy.deepcopy(op["value"]) if kind != "test" else doc
            continue
        parent = doc
        for p in parts[:-1]:
            try:
                parent = parent[int(p)] if isinstance(parent, list) else parent[p]
            except (KeyError, IndexError, ValueError, TypeError):
                raise PatchError(422, "Invalid", "jsonpatch %s operation does not apply: doc is "
                                 "missing path: %s" % (kind, path))
        last = parts[-1]
        try:
            if isinstance(parent, list):
                at = len(parent) if last == "-" and kind == "add" else int(last)
                if kind == "add":
                    if not 0 <= at <= len(parent):
                        raise IndexError
                    parent.insert(at, copy.deepcopy(op["value"]))
                elif kind == "remove":
                    del parent[at]
                elif kind == "replace":
                    parent[at] = copy.deepcopy(op["value"])
                elif parent[at] != op["value"]:
                    raise PatchError(422, "Invalid", "testing value %s failed" % path)
            elif isinstance(parent, dict):
                if kind != "add" and last not in parent:
                    raise KeyError
                if kind in ("add", "replace"):
                    parent[last] = copy.deepcopy(op["value"])
                elif kind == "remove":
                    del parent[last]
                elif parent[last] != op["value"]:
                    raise PatchError(422, "Invalid", "testing value %s failed" % path)
            else:
                raise KeyError
        except (KeyError, IndexError, ValueError):
            raise PatchError(422, "Invalid", "jsonpatch %s operation does not apply: doc is "
                             "missing key: %s" % (kind, path))
    return doc


PATCH_TYPES = {"application/strategic-merge-patch+json": (dict, strategic_merge),
               "application/merge-patch+json": (dict, merge_patch),
               "application/json-patch+json": (list, json_patch)}


def apply_patch(content_type, obj, raw):
    """obj patched with the body raw of this Content-Type, or PatchError."""
    kind = PATCH_TYPES.get(content_type.split(";")[0].strip().lower())
    if kind is None:
        raise PatchError(415, "UnsupportedMediaType", "the body of the request was in an "
                         "unknown format - accepted media types include: "
                         "application/json-patch+json, application/merge-patch+json, "
                         "application/apply-patch+yaml, application/strategic-merge-patch+json")
    try:
        patch = json.loads(raw)
    except ValueError as e:
        raise PatchError(400, "BadRequest", "error decoding patch: %s" % e)
    if not isinstance(patch, kind[0]):
        raise PatchError(400, "BadRequest", "error decoding patch: the patch is not a JSON %s"
                         % ("object" if kind[0] is dict else "array"))
    out = kind[1](obj, patch)
    if not isinstance(out, dict):
        raise PatchError(422, "Invalid", "the patch leaves no object")
    return out


def scale_of(dep):
    """The autoscaling/v1 Scale of an expanded Deployment."""
    meta = dep["metadata"]
    selector = dep["spec"]["selector"]["matchLabels"]
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"],
                         "uid": meta["uid"], "resourceVersion": meta["resourceVersion"],
                         "creationTimestamp": meta["creationTimestamp"]},
            "spec": {"replicas": dep["spec"]["replicas"]},
            "status": {"replicas": dep["status"].get("replicas", 0),
                       "selector": ",".join("%s=%s" % kv for kv in sorted(selector.items()))}}


def with_kind(dep):
    """An expanded Deployment as a GET of it answers: with its kind and apiVersion."""
    return dict({"kind": "Deployment", "apiVersion": "apps/v1"}, **dep)


def invalid(kind, name, field, value, why):
    return PatchError(422, "Invalid", "%s \"%s\" is invalid: %s: Invalid value: %s: %s"
                      % (kind, name, field, value, why))


def patch_deployment(ns, d, spec, scale, content_type, raw):
    """Apply a PATCH to the compact Deployment d (or its scale) in place."""
    name = d["name"]
    before = expand_deployment(ns, d, spec)
    if scale:
        after = apply_patch(content_type, scale_of(before), raw)
        replicas = (after.get("spec") or {}).get("replicas")
        template = before["spec"]["template"]
        annotations = before["metadata"]["annotations"]
        what = "Scale.autoscaling"
    else:
        after = apply_patch(content_type, with_kind(before), raw)
        after_spec = after.get("spec") or {}
        replicas = after_spec.get("replicas", 1)
        template = after_spec.get("template")
        annotations = (after.get("metadata") or {}).get("annotations") or {}
        what = "Deployment.apps"
        containers = ((template or {}).get("spec") or {}).get("containers")
        if not isinstance(containers, list) or not containers or \
                not all(isinstance(c, dict) and c.get("name") and c.get("image")
                        for c in containers):
            raise PatchError(422, "Invalid", "%s \"%s\" is invalid: spec.template.spec."
                             "containers: Required value" % (what, name))
        labels = (template.get("metadata") or {}).get("labels") or {}
        selector = before["spec"]["selector"]["matchLabels"]
        if any(labels.get(k) != v for k, v in selector.items()):
            raise invalid(what, name, "spec.template.metadata.labels",
                          json.dumps(labels), "`selector` does not match template `labels`")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise invalid(what, name, "spec.replicas", json.dumps(replicas),
                      "must be greater than or equal to 0")
    changed_spec = replicas != before["spec"]["replicas"] or \
        template != before["spec"]["template"]
    # The revision annotation is the deployment controller's: kept as it is.
    revision = "deployment.kubernetes.io/revision"
    own = {k: v for k, v in annotations.items() if k != revision}
    changed_meta = own != {k: v for k, v in before["metadata"]["annotations"].items()
                           if k != revision}
    if changed_spec:  # as the API server: a change of spec is a new generation
        d["replicas"] = replicas
        if template != before["spec"]["template"]:
            d["template"] = template
        d["generation"] = before["metadata"]["generation"] + 1
    if changed_meta:
        d["annotations"] = own
    if changed_spec or changed_meta:  # and any change a new resourceVersion
        d["resourceVersion"] = next_resource_version()


# ---- Leases ----

LEASE_GROUP = {"group": "coordination.k8s.io", "kind": "leases"}


def lease_invalid(lease):
    """What the API server's validation says of a Lease's spec, or None."""
    spec = lease.get("spec")
    if spec is None:
        return None
    if not isinstance(spec, dict):
        return "spec: Invalid value: not an object"
    for field in ("leaseDurationSeconds", "leaseTransitions"):
        v = spec.get(field)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or
                              not -2**31 <= v < 2**31):
            return "spec.%s: Invalid value: %s: not an int32" % (field, json.dumps(v))
    if spec.get("leaseDurationSeconds") is not None and spec["leaseDurationSeconds"] <= 0:
        return "spec.leaseDurationSeconds: Invalid value: %d: must be greater than 0" \
            % spec["leaseDurationSeconds"]
    if spec.get("leaseTransitions") is not None and spec["leaseTransitions"] < 0:
        return "spec.leaseTransitions: Invalid value: %d: must be greater than or equal " \
            "to 0" % spec["leaseTransitions"]
    for field in ("acquireTime", "renewTime"):
        v = spec.get(field)
        if v is not None and (not isinstance(v, str) or not MICRO_TIME.match(v)):
            return "spec.%s: Invalid value: %s: not a MicroTime" % (field, json.dumps(v))
    if spec.get("holderIdentity") is not None and not isinstance(spec["holderIdentity"], str):
        return "spec.holderIdentity: Invalid value: not a string"
    return None


def store_lease(ns, name, lease, before=None):
    """Keep lease as the API server would: its own metadata, a new resourceVersion."""
    meta = {"name": name, "namespace": ns,
            "uid": before["metadata"]["uid"] if before else str(uuid.uuid4()),
            "resourceVersion": next_resource_version(),
            "creationTimestamp": before["metadata"]["creationTimestamp"] if before
            else iso(time.time())}
    for k in ("labels", "annotations"):
        if isinstance(lease.get("metadata", {}).get(k), dict):
            meta[k] = lease["metadata"][k]
    stored = {"kind": "Lease", "apiVersion": "coordination.k8s.io/v1", "metadata": meta,
              "spec": lease.get("spec") or {}}
    leases[ns + "/" + name] = stored
    return stored


# ---- HTTP ----

class Handler(fakeserver.FakeHandler):
    tls = False
    client = None
    json_type = text_type = "application/json"
    json_separators = (",", ":")
    not_json = {"error": "the body is not JSON"}
    no_control = {"error": "no such control endpoint"}

    def setup(self):
        # TLS or plain HTTP, told apart by the first byte (a handshake is 0x16).
        self.request.settimeout(10)
        try:
            first = self.request.recv(1, socket.MSG_PEEK)
        except OSError:
            first = b""
        self.handshake_failed = False
        if first == b"\x16":
            try:
                self.request = ctx.wrap_socket(self.request, server_side=True)
                self.tls = True
                cert = self.request.getpeercert()
                if cert:
                    for rdn in cert.get("subject", ()):
                        for k, v in rdn:
                            if k == "commonName":
                                self.client = v
            except (ssl.SSLError, OSError):
                self.handshake_failed = True  # the client refused us, or we it
        super().setup()

    def handle(self):
        if not self.handshake_failed:
            super().handle()

    def send_response(self, code, message=None):
        # The API server sends no Server header.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def answer_headers(self, code, content_type):
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Type", content_type)
        if code != 401:
            self.send_header("X-Kubernetes-Pf-Flowschema-Uid", uid("flowschema", "global-default"))
            self.send_header("X-Kubernetes-Pf-Prioritylevel-Uid", uid("prioritylevel", "global-default"))

    def authorized(self):
        auth = self.headers.get("Authorization", "")
        if args.token and auth == "Bearer " + args.token:
            return True
        return self.client is not None

    def serve(self, path, query, body):
        if not self.tls:
            # What Go's net/http answers, then it hangs up.
            self.close_connection = True
            self.wfile.write(b"HTTP/1.0 400 Bad Request\r\n\r\n"
                             b"Client sent an HTTP request to an HTTPS server.\n")
            return
        super().serve(path, query, body)

    def log_request_json(self, path, query, body, **extra):
        super().log_request_json(path, query, body, tls=self.tls, client=self.client, **extra)

    def route(self, raw_path, raw_query, body):
        with self.lock:
            snapshot = json.loads(json.dumps(data))
        if not self.authorized():
            return self.answer(401, status(401, "Unauthorized", "Unauthorized"))
        m = LEASES.match(raw_path)
        if m:
            return self.lease(unquote(m.group(1)), unquote(m.group(2) or ""), body)
        m = DEPLOYMENT.match(raw_path)
        if m:
            return self.deployment(unquote(m.group(1)), unquote(m.group(2)), bool(m.group(3)),
                                   body)
        m = POD.match(raw_path)
        if m and self.command == "DELETE":
            return self.delete_pod(unquote(m.group(1)), unquote(m.group(2)))
        m = LIST.match(raw_path) or APPS.match(raw_path) or LOG.match(raw_path)
        if not m or self.command != "GET":
            if m:
                return self.answer(405, status(405, "MethodNotAllowed",
                                               "the server does not allow this method on the "
                                               "requested resource", {}))
            return self.answer(404, status(404, "NotFound",
                                           "the server could not find the requested resource",
                                           {}))
        ns = unquote(m.group(1))
        query = dict(parse_qsl(raw_query))
        spec = snapshot.get(ns, {})
        if m.re is LOG:
            return self.log(spec, unquote(m.group(2)), query)
        what, api_version = m.group(2), "apps/v1" if m.re is APPS else "v1"
        pods = [expand_pod(ns, p) for p in spec.get("pods", [])]
        if what == "pods":
            items, kind, fields = pods, "PodList", POD_FIELDS
        elif what == "events":
            items = [expand_event(ns, e, pods) for e in spec.get("events", [])]
            kind, fields = "EventList", EVENT_FIELDS
        elif what == "deployments":
            items = [expand_deployment(ns, d, spec) for d in spec.get("deployments", [])]
            kind, fields = "DeploymentList", OBJECT_FIELDS
        else:
            items = [expand_replicaset(ns, r, spec) for r in spec.get("replicasets", [])]
            kind, fields = "ReplicaSetList", OBJECT_FIELDS
        try:
            items = select(items, query.get("fieldSelector", ""), fields)
        except ValueError as e:
            return self.answer(400, status(400, "BadRequest", str(e)))
        self.answer(200, {"kind": kind, "apiVersion": api_version,
                          "metadata": {"resourceVersion": resource_version()},
                          "items": items})

    def deployment(self, ns, name, scale, body):
        """GET or PATCH a Deployment, or its scale subresource."""
        if self.command not in ("GET", "PATCH"):
            return self.answer(405, status(405, "MethodNotAllowed",
                                           "the server does not allow this method on the "
                                           "requested resource", {}))
        with self.lock:
            spec = data.get(ns, {})
            d = next((d for d in spec.get("deployments", []) if d.get("name") == name), None)
            if d is None:
                return self.answer(404, status(404, "NotFound", "deployments.apps \"%s\" not "
                                               "found" % name, {"name": name, "group": "apps",
                                                                "kind": "deployments"}))
            if self.command == "PATCH":
                try:
                    patch_deployment(ns, d, spec, scale, self.headers.get("Content-Type", ""),
                                     body)
                except PatchError as e:
                    details = {"name": name, "group": "apps", "kind": "deployments"} \
                        if e.code == 422 else None
                    return self.answer(e.code, status(e.code, e.reason, e.message, details))
            dep = expand_deployment(ns, d, spec)
        self.answer(200, scale_of(dep) if scale else with_kind(dep))

    def lease(self, ns, name, body):
        """GET, PUT (with the resourceVersion read) or POST a Lease."""
        allowed = ("GET", "PUT") if name else ("POST",)
        if self.command not in allowed:
            return self.answer(405, status(405, "MethodNotAllowed",
                                           "the server does not allow this method on the "
                                           "requested resource", {}))
        key = ns + "/" + name
        if self.command == "GET":
            with self.lock:
                lease = copy.deepcopy(leases.get(key))
            if lease is None:
                return self.answer(404, status(404, "NotFound", "leases.coordination.k8s.io "
                                               "\"%s\" not found" % name,
                                               dict(LEASE_GROUP, name=name)))
            return self.answer(200, lease)
        try:
            obj = json.loads(body)
            if not isinstance(obj, dict):
                raise ValueError
        except ValueError:
            return self.answer(400, status(400, "BadRequest", "the body of the request was in "
                                           "an unknown format - accepted media types include: "
                                           "application/json, application/yaml, "
                                           "application/vnd.kubernetes.protobuf"))
        if obj.get("kind") != "Lease" or obj.get("apiVersion") != "coordination.k8s.io/v1":
            return self.answer(400, status(400, "BadRequest", "the API version in the data (%s) "
                                           "does not match the expected API version "
                                           "(coordination.k8s.io/v1)" % obj.get("apiVersion")))
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        if meta.get("namespace", ns) != ns:
            return self.answer(400, status(400, "BadRequest", "the namespace of the provided "
                                           "object does not match the namespace sent on the "
                                           "request"))
        if not name:
            name = meta.get("name") if isinstance(meta.get("name"), str) else ""
            if not re.match(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$", name):
                return self.answer(422, status(422, "Invalid", "Lease.coordination.k8s.io "
                                               "\"%s\" is invalid: metadata.name: Invalid "
                                               "value: %s: a lowercase RFC 1123 subdomain "
                                               "must consist of lower case alphanumeric "
                                               "characters, '-' or '.'" % (name,
                                                                          json.dumps(name)),
                                               dict(LEASE_GROUP, name=name)))
            key = ns + "/" + name
        elif meta.get("name", name) != name:
            return self.answer(400, status(400, "BadRequest", "the name of the object (%s) "
                                           "does not match the name on the URL (%s)"
                                           % (meta.get("name"), name)))
        invalid = lease_invalid(obj)
        if invalid:
            return self.answer(422, status(422, "Invalid", "Lease.coordination.k8s.io \"%s\" "
                                           "is invalid: %s" % (name, invalid),
                                           dict(LEASE_GROUP, name=name)))
        with self.lock:
            if lease_fail["times"] > 0:
                lease_fail["times"] -= 1
                code = int(lease_fail.get("status", 500))
                return self.answer(code, status(code, "InternalError", "Internal error "
                                                "occurred: etcdserver: request timed out",
                                                {"causes": [{"message": "etcdserver: request "
                                                             "timed out"}]}))
            before = leases.get(key)
            if self.command == "POST":
                if before is not None:
                    return self.answer(409, status(409, "AlreadyExists",
                                                   "leases.coordination.k8s.io \"%s\" already "
                                                   "exists" % name,
                                                   dict(LEASE_GROUP, name=name)))
                return self.answer(201, copy.deepcopy(store_lease(ns, name, obj)))
            if before is None:
                return self.answer(404, status(404, "NotFound", "leases.coordination.k8s.io "
                                               "\"%s\" not found" % name,
                                               dict(LEASE_GROUP, name=name)))
            rv = meta.get("resourceVersion")
            if not rv:
                return self.answer(422, status(422, "Invalid", "Lease.coordination.k8s.io "
                                               "\"%s\" is invalid: metadata.resourceVersion: "
                                               "Invalid value: 0x0: must be specified for an "
                                               "update" % name, dict(LEASE_GROUP, name=name)))
            if rv != before["metadata"]["resourceVersion"]:
                return self.answer(409, status(409, "Conflict", "Operation cannot be fulfilled "
                                               "on leases.coordination.k8s.io \"%s\": the "
                                               "object has been modified; please apply your "
                                               "changes to the latest version and try again"
                                               % name, dict(LEASE_GROUP, name=name)))
            return self.answer(200, copy.deepcopy(store_lease(ns, name, obj, before)))

    def delete_pod(self, ns, name):
        """DELETE a pod: 200 with the pod as it goes (deletionTimestamp set), as the API server
        answers; a pod a ReplicaSet owns is replaced at once by one of a new name, as its
        controller does (the fake skips the Pending in between)."""
        with self.lock:
            spec = data.get(ns, {})
            pods = spec.get("pods", [])
            p = next((p for p in pods if p.get("name") == name), None)
            if p is None:
                return self.answer(404, status(404, "NotFound", "pods \"%s\" not found" % name,
                                               {"name": name, "kind": "pods"}))
            gone = expand_pod(ns, p)
            pods.remove(p)
            owner = p.get("owner", "")
            if owner.startswith("ReplicaSet/"):
                again = json.loads(json.dumps(p))
                again["name"] = "%s-%s" % (owner.split("/", 1)[1], uuid.uuid4().hex[:5])
                for c in again.get("containers", []):
                    c["restartCount"] = 0
                    c.pop("lastState", None)
                pods.append(again)
        gone["metadata"]["deletionTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        gone["metadata"]["deletionGracePeriodSeconds"] = 30
        self.answer(200, dict({"kind": "Pod", "apiVersion": "v1"}, **gone))

    def log(self, spec, name, query):
        """A container's log as the kubelet gives it, through the API server."""
        pod = next((p for p in spec.get("pods", []) if p["name"] == name), None)
        if pod is None:
            return self.answer(404, status(404, "NotFound", "pods \"%s\" not found" % name,
                                           {"name": name, "kind": "pods"}))
        containers = pod.get("containers", [])
        inits = pod.get("initContainers", [])
        cname = query.get("container")
        if not cname:
            if len(containers) != 1:
                message = "a container name must be specified for pod %s, choose one of: [%s]" \
                    % (name, " ".join(c["name"] for c in containers))
                if inits:
                    message += " or one of the init containers: [%s]" % \
                        " ".join(c["name"] for c in inits)
                return self.answer(400, status(400, "BadRequest", message))
            cname = containers[0]["name"]
        c = next((c for c in containers + inits if c["name"] == cname), None)
        if c is None:
            return self.answer(400, status(400, "BadRequest", "container %s is not valid for "
                                           "pod %s" % (cname, name)))
        try:
            tail = int(query["tailLines"]) if "tailLines" in query else None
            if tail is not None and tail < 0:
                raise ValueError
        except ValueError:
            return self.answer(400, status(400, "BadRequest", "tailLines: Invalid value: "
                                           "%s: must be greater than or equal to 0"
                                           % json.dumps(query["tailLines"])))
        # What the kubelet serves (validateContainerLogStatus): the running or
        # terminated container's log; while it waits to restart, the last one's.
        default = {"running": {}} if pod.get("phase", "Running") == "Running" else \
            {"waiting": {"reason": "ContainerCreating"}}
        state, last = c.get("state") or default, c.get("lastState") or {}
        unscheduled = pod.get("phase") == "Pending" and \
            pod.get("conditions", {}).get("PodScheduled", {}).get("status") == "False"
        if unscheduled:
            return self.answer(400, status(400, "BadRequest", "pod %s does not have a host "
                                           "assigned" % name))
        if query.get("previous") in ("true", "1", "True"):
            if "previousLog" not in c:
                return self.answer(400, status(400, "BadRequest",
                                               "previous terminated container \"%s\" in pod "
                                               "\"%s\" not found" % (cname, name)))
            text = c["previousLog"]
        elif "running" in state or "terminated" in state:
            text = c.get("log", "")
        elif "terminated" in last:
            text = c.get("previousLog", "")
        else:
            reason = (state.get("waiting") or {}).get("reason", "ContainerCreating")
            why = {"ErrImagePull": "image can't be pulled",
                   "ImagePullBackOff": "trying and failing to pull image"}.get(reason, reason)
            return self.answer(400, status(400, "BadRequest", "container \"%s\" in pod \"%s\" "
                                           "is waiting to start: %s" % (cname, name, why)))
        lines = text.splitlines(keepends=True)
        times = c.get("logTimes", []) if text is c.get("log") else []
        stamps = [times[i] if i < len(times) else
                  time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) for i in range(len(lines))]
        if "sinceTime" in query:
            since = parse_time(query["sinceTime"])
            if since is None:
                return self.answer(400, status(400, "BadRequest", "sinceTime: Invalid value: "
                                               "%s" % json.dumps(query["sinceTime"])))
            kept = [i for i in range(len(lines)) if parse_time(stamps[i]) >= since]
            lines, stamps = [lines[i] for i in kept], [stamps[i] for i in kept]
        if tail is not None:
            lines, stamps = (lines[-tail:], stamps[-tail:]) if tail else ([], [])
        if query.get("timestamps") in ("true", "1", "True"):
            lines = [(t if "." in t else t.replace("Z", ".000000000Z", 1)) + " " + line
                     for t, line in zip(stamps, lines)]
        text = "".join(lines)
        if "limitBytes" in query:
            text = text.encode()[:int(query["limitBytes"])].decode(errors="ignore")
        self.answer(200, text, content_type="text/plain")

    def control(self, path, raw):
        global data
        if path == "/_fake/set" and self.command == "POST":
            new = self.control_json(raw)
            with self.lock:
                data = new
            return self.answer(200, {"namespaces": sorted(new)})
        if path == "/_fake/state" and self.command == "GET":
            with self.lock:
                return self.answer(200, data)
        if path == "/_fake/leases" and self.command == "GET":
            with self.lock:
                return self.answer(200, leases)
        if path == "/_fake/lease" and self.command == "POST":
            lease = self.control_json(raw)
            meta = lease.get("metadata", {}) if isinstance(lease, dict) else {}
            ns, name = meta.get("namespace", "default"), meta.get("name")
            if not isinstance(name, str) or not name or not isinstance(ns, str):
                return self.answer(400, {"error": "a Lease needs metadata.name"})
            with self.lock:
                before = leases.get(ns + "/" + name)
                stored = store_lease(ns, name, lease, before)
                stored["spec"] = lease.get("spec")  # as given, valid or not
                if stored["spec"] is None:
                    del stored["spec"]
                return self.answer(200, stored)
        if path == "/_fake/lease-fail" and self.command == "POST":
            f = self.control_json(raw)
            if not isinstance(f, dict):
                return self.answer(400, self.not_json)
            with self.lock:
                lease_fail["times"] = int(f.get("times", 1))
                lease_fail["status"] = int(f.get("status", 500))
            return self.answer(201, {"queued": lease_fail})
        return super().control(path, raw)


def main():
    global args, ctx, data
    p = fakeserver.arguments("a fake Kubernetes API server")
    p.add_argument("--cert", required=True, help="the server certificate (PEM)")
    p.add_argument("--key", required=True, help="its key (PEM)")
    p.add_argument("--client-ca", help="accept client certificates this CA signed")
    p.add_argument("--token", help="the bearer token that is let in")
    p.add_argument("--data", help="the namespaces' pods and events (compact JSON)")
    args = p.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        ctx.load_verify_locations(args.client_ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
    if args.data:
        with open(args.data) as f:
            data = json.load(f)
    return fakeserver.serve(Handler, args)


if __name__ == "__main__":
    sys.exit(main())
