"""The ceiling for event delivery: the same delta stream read by a bare loop that only decodes.

    python bench/bare_decode.py events --cli PATH --params '{"n": 100000}'

It spawns the bench fake like an SDK would (``--stdio``), speaks just enough JSON-RPC by hand
(``connect``, ``session.create`` with ``streaming``, ``bench:prepare``), then times
``bench:deltas`` read by a loop that does only Content-Length framing and ``json.loads``,
counting ``assistant.message_delta`` events (and their characters, as the SDK workers' handlers
do). No threads, no dispatch, no event objects: what is left is the cost of the pipe and the
JSON decoding, which no SDK can beat in the same interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from _common import emit, parse_args, report_of

perf = time.perf_counter


def main() -> int:
    args = parse_args()
    n = int(args.params["n"])
    proc = subprocess.Popen(
        [args.cli, "--headless", "--no-auto-update", "--log-level", "info", "--stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        bufsize=0,
    )
    assert proc.stdin is not None and proc.stdout is not None
    out = proc.stdout
    reader = open(out.fileno(), "rb", buffering=1 << 16, closefd=False)
    readline, read, loads = reader.readline, reader.read, json.loads
    ids = iter(range(1, 1 << 30))

    def call(method: str, params: dict[str, Any]) -> int:
        rid = next(ids)
        body = json.dumps(
            {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
        ).encode()
        proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
        return rid

    def frames() -> Any:
        while True:
            length = 0
            while True:
                line = readline()
                if not line:
                    return
                if line == b"\r\n":
                    break
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            yield loads(read(length))

    stream = frames()

    def until_response(rid: int) -> Any:
        for message in stream:
            if message.get("id") == rid and "method" not in message:
                return message.get("result")
        raise RuntimeError("the fake closed the stream")

    def until_idle() -> Any:
        content = None
        for message in stream:
            if message.get("method") == "session.event":
                event = message["params"]["event"]
                if event["type"] == "assistant.message":
                    content = event["data"]["content"]
                elif event["type"] == "session.idle":
                    return content
        raise RuntimeError("the fake closed the stream")

    until_response(call("connect", {}))
    session_id = until_response(call("session.create", {"streaming": True}))["sessionId"]
    until_response(call("session.send", {"sessionId": session_id, "prompt": f"bench:prepare {n}"}))
    report_of(until_idle())

    start = perf()
    call("session.send", {"sessionId": session_id, "prompt": "bench:deltas"})
    count = chars = 0
    for message in stream:
        if message.get("method") == "session.event":
            event = message["params"]["event"]
            if event["type"] == "assistant.message_delta":
                chars += len(event["data"]["deltaContent"])
                count += 1
                if count == n:
                    break
    elapsed = perf() - start
    until_idle()
    proc.stdin.close()
    proc.wait(10)
    emit({"events_per_s": n / elapsed, "elapsed_s": elapsed, "chars": chars})
    return 0


if __name__ == "__main__":
    sys.exit(main())
