"""A Call Karo stand-in over real HTTP on loopback that can misbehave on cue.

``callkaro/campaigns/tests/test_reliability.py``'s ``FakeCallKaro`` always answers 200; this one
plays a script of faults first (a status, a Retry-After, a delay past the client's timeout) and
records every request it *received*, including those it then answered badly, so a test can
compare what reached the provider with our call logs.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Fault:
    status: int = 200
    delay: float = 0.0
    retry_after: str | None = None


class FaultyCallKaro:
    def __init__(self) -> None:
        self.received: list[dict] = []  # every /call/outbound body, in arrival order
        self.answered: list[tuple[str, int]] = []  # (to_number, status) for each outbound
        self.script: deque[Fault] = deque()
        self.default = Fault()
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                fault = Fault()
                if self.path.startswith("/call/outbound"):
                    with fake.lock:
                        fake.received.append(body)
                        fault = fake.script.popleft() if fake.script else fake.default
                        fake.answered.append((body.get("to_number", ""), fault.status))
                    answer = {"status": "done", "message": "Call queued successfully", "call_sid": uuid.uuid4().hex}
                else:
                    answer = {"batch_id": uuid.uuid4().hex, "message": "created", "status": "success"}
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.status != 200:
                    answer = {"status": "error", "message": f"simulated {fault.status}"}
                data = json.dumps(answer).encode()
                try:
                    self.send_response(fault.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    if fault.retry_after is not None:
                        self.send_header("Retry-After", fault.retry_after)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def dials(self) -> list[dict]:
        with self.lock:
            return list(self.received)

    def accepted_numbers(self) -> list[str]:
        with self.lock:
            return [number for number, status in self.answered if status == 200]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
