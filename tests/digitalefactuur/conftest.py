"""Fixtures of the client tests: the sandbox as a real server, and a scripted hostile server.

The sandbox (tests/sandbox_fixture.py) is DigitaleFactuur as the API page describes it. The
scripted server is ours: a tiny `http.server` in a thread whose every answer a test writes itself,
for what no well-behaved server does (XXE, endless trickles, redirects, dropped connections).
"""

import http.server
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from tests.sandbox_fixture import sandbox, sandbox_server  # noqa: F401

ACCOUNT_ID = "10001"
# Characters that need quoting, so both the raw and the quoted form can be looked for.
ACCESS_CODE = "Geh31m+code/=x"
QUOTED_CODE = "Geh31m%2Bcode%2F%3Dx"


@dataclass
class Seen:
    method: str
    path: str
    body: bytes


@dataclass
class ScriptedServer:
    base_url: str
    seen: list[Seen] = field(default_factory=list)
    # Called with (handler, Seen); writes the answer itself through `handler`.
    respond: Callable = None
    stopping: threading.Event = field(default_factory=threading.Event)

    def actions(self) -> list[str]:
        return [s.path.rsplit("/", 1)[-1].split("&", 1)[0] for s in self.seen]


def answer(handler, body: bytes = b"", status: int = 200, headers: dict | None = None) -> None:
    """Write a complete answer with a Content-Length."""
    handler.send_response(status)
    for name, value in {"Content-Type": "application/xml", **(headers or {})}.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Scripted"

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(self.command, self.path, self.rfile.read(length) if length else b"")
        script: ScriptedServer = self.server.script
        script.seen.append(seen)
        try:
            script.respond(self, seen)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should
        finally:
            self.close_connection = True

    do_GET = do_POST = _handle

    def log_message(self, format, *args):  # keep the test output quiet
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture
def scripted():
    """A scripted server on a free port; set `.respond` in the test."""
    server = _Server(("127.0.0.1", 0), _Handler)
    script = ScriptedServer(base_url=f"http://127.0.0.1:{server.server_address[1]}/api")
    server.script = script
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield script
    script.stopping.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def debug_logs(caplog):
    """Every log record at DEBUG, urllib3's included."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    return caplog


class SleepRecorder:
    """A `sleep` that only records; with `clock` it also moves a fake monotonic clock."""

    def __init__(self):
        self.slept: list[float] = []
        self.now = 1000.0

    def __call__(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def sleeper():
    return SleepRecorder()
