#!/usr/bin/env python3
"""pagerduty.py: a fake PagerDuty Events API v2 for sre's tests, standard library only.

    python3 tests/fakes/pagerduty.py --port-file F --log F [--lifetime SECONDS]

It listens on 127.0.0.1 (a free port, written to --port-file once it
listens) and answers POST /v2/enqueue as events.pagerduty.com does,
checking the fields as the service does (our notes on its rules:
../shared/fixtures/pagerduty/EVENTS_V2_NOTES.md):
    routing_key   a string of exactly 32 characters
    event_action  trigger | acknowledge | resolve
    dedup_key     a string of at most 255 characters; required for
                  acknowledge and resolve (a trigger without one gets a
                  fresh one)
    payload       required for trigger: summary (a string, at most 1024
                  characters), source (a non-empty string), severity
                  (critical | error | warning | info)
    links         a list of {href, text} when present
An accepted event gets 202 {"status": "success", "message": "Event
processed", "dedup_key"}; a refused one 400 {"status": "invalid event",
"message": "Event object is invalid", "errors": [...]}; a body that is not
a JSON object 400 with "errors": ["Malformed JSON"]. Any other path 404.

What it holds, per dedup_key (GET /_fake/state): {"status": "open" |
"acked" | "resolved", "routing_key" (its last 4 characters only),
"alerts" (alerts opened under the key), "events" (events taken for it),
"summary", "severity", "by"}. As the service does: a trigger while an
alert is open or acked adds to it; after a resolve it opens a new alert;
an acknowledge or resolve with no open alert, or with another routing
key, is dropped, and still answered 202 (202 proves delivery, not
effect).

Every request but the /_fake/ ones is appended to --log as one JSON line:
{"method", "path", "query", "headers" (lower-case names), "body"}.

Control endpoints, for tests:
    POST /_fake/fail  {"method": "POST", "path": "<regex>", "status": 429,
                       "headers": {"Retry-After": "1"}, "body": {...},
                       "times": 3}
                      the next `times` matching requests get that answer
                      (throttling: 429; an outage: 500, 502, 503)
    GET  /_fake/state the events held, per dedup_key
    POST /_fake/webhook {"dedup_key", "event_type": "incident.acknowledged",
                       "by": "Alice"}
                      a person acts in PagerDuty: the alert of dedup_key
                      moves (acknowledged: acked, resolved: resolved,
                      escalated and triggered: as it is) and the answer is
                      the webhook v3 body PagerDuty would post, shaped as
                      recorded ones, with data.incident_key the dedup_key

It exits after --lifetime seconds (default 120) or on SIGTERM.
"""
import json
import sys
import uuid

import fakeserver  # the command line, life and request machinery every fake shares

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
alerts = {}   # dedup_key -> what the fake holds of it
numbers = [0]  # PagerDuty's incident number, counted


def problems(ev):
    """What is wrong with an event, as the service would say it: a list."""
    errs = []
    key = ev.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        errs.append("'routing_key' must be a string of 32 characters")
    action = ev.get("event_action")
    if action not in ACTIONS:
        errs.append("'event_action' must be one of trigger, acknowledge, resolve")
    dedup = ev.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
        errs.append("'dedup_key' must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not dedup:
        errs.append("'dedup_key' is required for %s" % action)
    if action == "trigger":
        p = ev.get("payload")
        if not isinstance(p, dict):
            errs.append("'payload' is missing or not an object")
        else:
            s = p.get("summary")
            if not isinstance(s, str) or not s:
                errs.append("'payload.summary' is missing or blank")
            elif len(s) > 1024:
                errs.append("'payload.summary' is longer than 1024 characters")
            if not isinstance(p.get("source"), str) or not p.get("source"):
                errs.append("'payload.source' is missing or blank")
            if p.get("severity") not in SEVERITIES:
                errs.append("'payload.severity' must be one of critical, error, warning, info")
    links = ev.get("links")
    if links is not None and (not isinstance(links, list) or not all(
            isinstance(l, dict) and isinstance(l.get("href"), str) for l in links)):
        errs.append("'links' must be a list of objects with an href")
    return errs


def take(ev):
    """Apply an accepted event to what the fake holds; its dedup_key."""
    action, key = ev["event_action"], ev["routing_key"]
    dedup = ev.get("dedup_key") or uuid.uuid4().hex
    a = alerts.get(dedup)
    if action == "trigger":
        p = ev["payload"]
        if a is None or a["status"] == "resolved":
            numbers[0] += 1
            a = alerts[dedup] = {"status": "open", "routing_key": key[-4:],
                                 "alerts": (a or {}).get("alerts", 0) + 1,
                                 "events": 0, "by": None, "number": numbers[0],
                                 "links": ev.get("links") or []}
        a.update(summary=p["summary"], severity=p["severity"], key=key)
        a["events"] += 1
    elif a is not None and a["status"] != "resolved" and a["key"] == key:
        a["status"] = "acked" if action == "acknowledge" else "resolved"
        a["events"] += 1
    # Otherwise dropped: nothing open under that key with that routing key.
    return dedup


def webhook(dedup, event_type, by):
    """The webhook v3 body of event_type on the alert of dedup, shaped as recorded ones."""
    a = alerts.get(dedup) or {}
    if event_type == "incident.acknowledged" and a:
        a["status"], a["by"] = "acked", by
    elif event_type == "incident.resolved" and a:
        a["status"], a["by"] = "resolved", by
    status = {"open": "triggered", "acked": "acknowledged",
              "resolved": "resolved"}.get(a.get("status"), "triggered")
    pid = "PFAKE%04d" % a.get("number", 0)
    user = {"html_url": "https://fake.pagerduty.com/users/PUSER01", "id": "PUSER01",
            "self": "https://api.pagerduty.com/users/PUSER01", "summary": by,
            "type": "user_reference"}
    ref = lambda kind, i, s: {"html_url": "https://fake.pagerduty.com/%s/%s" % (kind, i),
                              "id": i, "self": "https://api.pagerduty.com/%s/%s" % (kind, i),
                              "summary": s, "type": kind[:-1] + "_reference"}
    return {"event": {
        "id": uuid.uuid4().hex[:26].upper(),
        "event_type": event_type,
        "resource_type": "incident",
        "occurred_at": "2026-12-07T12:00:00.000Z",
        "agent": user if by else None,
        "client": None,
        "data": {
            "id": pid, "type": "incident",
            "self": "https://api.pagerduty.com/incidents/" + pid,
            "html_url": "https://fake.pagerduty.com/incidents/" + pid,
            "number": a.get("number", 0), "status": status,
            "incident_key": dedup,
            "created_at": "2026-12-07T11:59:00Z", "reopened_at": None,
            "title": a.get("summary", ""),
            "service": ref("services", "PSERV01", "fake service"),
            "assignees": [user] if by else [],
            "escalation_policy": {
                "html_url": "https://fake.pagerduty.com/escalation_policies/PPOL001",
                "id": "PPOL001", "self": "https://api.pagerduty.com/escalation_policies/PPOL001",
                "summary": "Default", "type": "escalation_policy_reference"},
            "teams": [], "priority": None, "urgency": "high",
            "conference_bridge": None, "resolve_reason": None,
            "incident_type": {"name": "major_default"},
        },
    }}


def public_state():
    return {k: {n: v for n, v in a.items() if n != "key"} for k, a in alerts.items()}


class Handler(fakeserver.FakeHandler):
    serialize = True  # events of one key are taken in order
    not_json = {"status": "invalid event", "message": "Event object is invalid",
                "errors": ["Malformed JSON"]}

    def answer_headers(self, status, content_type):
        self.send_header("Content-Type", content_type)
        self.send_header("Access-Control-Allow-Origin", "*")

    def control(self, path, raw):
        if path == "/_fake/state" and self.command == "GET":
            with self.lock:
                return self.answer(200, public_state())
        if path == "/_fake/webhook" and self.command == "POST":
            b = self.control_json(raw)
            if not isinstance(b, dict) or not isinstance(b.get("dedup_key"), str):
                raise fakeserver.Answer(400, {"error": "want {\"dedup_key\", \"event_type\", \"by\"}"})
            with self.lock:
                return self.answer(200, webhook(b["dedup_key"],
                                                b.get("event_type", "incident.acknowledged"),
                                                b.get("by")))
        return super().control(path, raw)

    def route(self, path, query, body):
        if path != "/v2/enqueue" or self.command != "POST":
            return self.answer(404, {"status": "not found", "message": "Not Found"})
        try:
            ev = json.loads(body)
        except ValueError:
            ev = None
        if not isinstance(ev, dict):
            return self.answer(400, self.not_json)
        errs = problems(ev)
        if errs:
            return self.answer(400, {"status": "invalid event",
                                     "message": "Event object is invalid", "errors": errs})
        return self.answer(202, {"status": "success", "message": "Event processed",
                                 "dedup_key": take(ev)})


def main():
    args = fakeserver.arguments("a fake PagerDuty Events API v2").parse_args()
    return fakeserver.serve(Handler, args)


if __name__ == "__main__":
    sys.exit(main())
