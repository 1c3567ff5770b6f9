#!/usr/bin/env python3
"""llm.py: a scripted fake model server for sre's tests, standard library only.

    python3 tests/fakes/llm.py --port-file F --log F [--lifetime SECONDS]
                               [--data F]

It speaks the OpenAI Chat Completions stream (POST /v1/chat/completions
with stream: true), in the shape of the recorded traffic in
../shared/fixtures/openai (chat.completion.chunk objects as SSE data
lines, a role delta first, tool-call deltas whose arguments come in
fragments, finish_reason, a usage chunk with choices [], data: [DONE]).

The script is a JSON object read from --data (and replaced with POST
/_fake/set): {"turns": [turn, ...]}, one turn per request, in order (the
last repeats when they run out). A turn is

    {"text": "...",                          the assistant's text, or absent
     "calls": [{"name": "grep_log",          tool calls, each streamed in
                "arguments": {...}}],        two fragments
     "prompt_tokens": 100, "completion_tokens": 20,
     "pause": 5,                             seconds to wait, the stream
                                             open, after the first half
                                             of the text (a slow model)
     "status": 200, "error": {...}}          another status answers
                                             {"error": error} instead

Every request is appended to --log as one JSON line {"method", "path",
"query", "headers", "body"}, so a test can check what left the host.
Control endpoints (not logged): POST /_fake/set (the script, from its
first turn), POST /_fake/fail,
POST /_fake/delay, GET /_fake/state, as every fake's.
"""
import json
import sys
import threading
import time

import fakeserver

turn_lock = threading.Lock()
served = [0]


def chunk(delta, finish=None, usage=None, choices=True):
    c = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1767225600,
         "model": "fake-1", "system_fingerprint": "fp_fake",
         "choices": [{"index": 0, "delta": delta, "logprobs": None,
                      "finish_reason": finish}] if choices else []}
    if usage:
        c["usage"] = usage
    return "data: " + json.dumps(c) + "\n\n"


PAUSE = "\0pause\0"   # where stream() puts a turn's pause, in place of a chunk


def stream(turn):
    out = [chunk({"role": "assistant", "content": "", "refusal": None})]
    if turn.get("text"):
        text = turn["text"]
        half = len(text) // 2
        out.append(chunk({"content": text[:half]}))
        if turn.get("pause"):
            out.append(PAUSE)
        out.append(chunk({"content": text[half:]}))
    for i, call in enumerate(turn.get("calls") or []):
        args = json.dumps(call.get("arguments", {}))
        half = len(args) // 2
        out.append(chunk({"tool_calls": [{"index": i, "id": "call_fake_%d" % i, "type": "function",
                                          "function": {"name": call["name"], "arguments": ""}}]}))
        out.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": args[:half]}}]}))
        out.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": args[half:]}}]}))
    out.append(chunk({}, finish="tool_calls" if turn.get("calls") else "stop"))
    out.append(chunk(None, usage={"prompt_tokens": turn.get("prompt_tokens", 100),
                                  "completion_tokens": turn.get("completion_tokens", 20),
                                  "total_tokens": 0}, choices=False))
    out.append("data: [DONE]\n\n")
    return out


class Handler(fakeserver.ScenarioHandler):
    text_type = "text/event-stream"

    def control(self, path, raw):
        # A new script starts from its first turn.
        if path == "/_fake/set":
            with turn_lock:
                served[0] = 0
        return super().control(path, raw)

    def route(self, path, query, body):
        if self.command != "POST" or path != "/v1/chat/completions":
            return self.answer(404, {"error": {"message": "no such route", "type": "invalid_request_error"}})
        with self.lock:
            turns = (self.scenario or {}).get("turns") or [{"text": "no script"}]
        with turn_lock:
            turn = turns[min(served[0], len(turns) - 1)]
            served[0] += 1
        status = int(turn.get("status", 200))
        if status != 200:
            return self.answer(status, {"error": turn.get("error") or {"message": "scripted"}})
        parts = stream(turn)
        if PAUSE not in parts:
            return self.answer(200, "".join(parts))
        # A slow model: what came before the pause is sent and flushed, then
        # the stream stays open; a client that gave up is no error here.
        self.send_response(200)
        self.answer_headers(200, self.text_type)
        self.end_headers()
        try:
            for part in parts:
                if part is PAUSE:
                    self.wfile.flush()
                    time.sleep(float(turn["pause"]))
                else:
                    self.wfile.write(part.encode())
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True
        return None


def main():
    p = fakeserver.arguments("a scripted fake model server (OpenAI's stream)")
    p.add_argument("--data", help="the script: {\"turns\": [...]}")
    args = p.parse_args()
    Handler.read_scenario(args.data)
    return fakeserver.serve(Handler, args)


if __name__ == "__main__":
    sys.exit(main())
