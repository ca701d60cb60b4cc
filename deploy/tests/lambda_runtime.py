"""A local stand-in for AWS Lambda's Runtime API (2018-06-01: next, response, error, init error) on a free loopback
port, so the e2e test can run `orderflow lambda` as Lambda would and hand it events one at a time (moto cannot run a
provided.al2023 function)."""
from __future__ import annotations

import http.server
import json
import queue
import threading
import time
import uuid

PREFIX = "/2018-06-01/runtime"


class RuntimeAPI:
    """`invoke(event)` queues an event for the runtime's next `GET …/invocation/next` and waits for its report."""

    def __init__(self) -> None:
        self._events: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._reports: dict[str, tuple[str, object]] = {}
        self._reported = threading.Condition()
        self.init_error: object | None = None
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # noqa: ARG002 - quiet
                pass

            def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    return self._answer(404)
                request_id, body = api._events.get()  # Lambda's long poll: held until there is an event
                self._answer(200, body, {
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 30_000),
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-west-2:123456789012:function:orderflow-order-processor",
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
                })

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path[len(PREFIX):].strip("/").split("/")
                if parts == ["init", "error"]:
                    api.init_error = json.loads(body or b"null")
                elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                    with api._reported:
                        api._reports[parts[1]] = (parts[2], json.loads(body or b"null"))
                        api._reported.notify_all()
                else:
                    return self._answer(404)
                self._answer(202, b'{"status":"OK"}')

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.address = f"127.0.0.1:{self._server.server_address[1]}"

    def invoke(self, event: dict, timeout: float = 60) -> tuple[str, object]:
        """("response" or "error", the reported document), or ("timeout", None) after `timeout` seconds."""
        request_id = str(uuid.uuid4())
        self._events.put((request_id, json.dumps(event).encode()))
        with self._reported:
            if not self._reported.wait_for(lambda: request_id in self._reports, timeout=timeout):
                return "timeout", None
            return self._reports.pop(request_id)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
