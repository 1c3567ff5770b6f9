#!/usr/bin/env python3
"""slack.py: a fake Slack incoming webhook for sre's tests, standard library only.

    python3 tests/fakes/slack.py --port-file F --log F [--lifetime SECONDS]

It listens on 127.0.0.1 (a free port, written to --port-file once it
listens) and answers like hooks.slack.com: POST /services/<T>/<B>/<X> (any
three segments) gets 200 "ok" as text/plain for a JSON object with a
non-empty "text" or "blocks"; a body that is not a JSON object gets 400
"invalid_payload"; one with neither field 400 "no_text"; any other path
404 "no_service" (what Slack says of a revoked hook). Every answer is a
plain-text code, never JSON, as Slack's are.

Every request but the /_fake/ ones is appended to --log as one JSON line:
{"method", "path" (as received), "query" (the raw query string),
"headers" (lower-case names), "body" (text)}.

Control endpoint, for tests:
    POST /_fake/fail  {"method": "POST", "path": "<regex>", "status": 404,
                       "headers": {"Retry-After": "1"}, "body": "channel_not_found",
                       "times": 1}
                      the next `times` matching requests get that answer
                      (Slack's other answers: 410 channel_is_archived,
                      403 action_prohibited, 429 with Retry-After,
                      500 rollup_error)

It exits after --lifetime seconds (default 120) or on SIGTERM.
"""
import json
import re
import sys

import fakeserver  # the command line, life and request machinery every fake shares

HOOK = re.compile(r"^/services/[^/]+/[^/]+/[^/]+$")


def answer_for(method, path, body):
    """What hooks.slack.com says to this request: (status, text)."""
    if method != "POST" or not HOOK.match(path):
        return 404, "no_service"
    try:
        payload = json.loads(body)
    except ValueError:
        return 400, "invalid_payload"
    if not isinstance(payload, dict):
        return 400, "invalid_payload"
    if not payload.get("text") and not payload.get("blocks"):
        return 400, "no_text"
    return 200, "ok"


class Handler(fakeserver.FakeHandler):
    json_type = fakeserver.FakeHandler.text_type  # Slack's answers are all text
    not_json = "the body is not JSON"

    def version_string(self):
        return "Apache"

    def answer_headers(self, status, content_type):
        self.send_header("Content-Type", content_type)
        self.send_header("X-Slack-Backend", "r")
        self.send_header("Vary", "Accept-Encoding")

    def route(self, path, query, body):
        self.answer(*answer_for(self.command, path, body))


def main():
    args = fakeserver.arguments("a fake Slack incoming webhook").parse_args()
    return fakeserver.serve(Handler, args)


if __name__ == "__main__":
    sys.exit(main())
