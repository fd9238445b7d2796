"""Serving the sandbox over real HTTP: stdlib wsgiref with one daemon thread per request.

Daemon threads matter: a request sleeping on an injected timeout must never keep a test run or
the demo from stopping. The request log masks the access code, which sits in the URL path.
`RunningSandbox` is what the pytest fixture and the command line both use.
"""

from __future__ import annotations

import logging
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .app import Sandbox, redact_path

logger = logging.getLogger("integration.dfsandbox")


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # Benchmarks open many connections at once; the default backlog of 5 would refuse some.
    request_queue_size = 128


class RedactingRequestHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        logger.info("%s %s %s", self.command, redact_path(self.path), code)

    def log_message(self, format, *args):
        # The stdlib version writes the raw request line (with the access code) to stderr.
        logger.debug("request handler: %s", redact_path(format % args))


class RunningSandbox:
    """A sandbox served on `host:port` (port 0: a free one) from a daemon thread."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0):
        self.sandbox = sandbox
        self.httpd = make_server(host, port, sandbox, server_class=ThreadingWSGIServer,
                                 handler_class=RedactingRequestHandler)
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The value for DIGITALEFACTUUR_BASE_URL: no trailing slash."""
        return f"{self.root_url}/api"

    def start(self) -> RunningSandbox:
        self._thread = threading.Thread(target=self.httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name=f"dfsandbox:{self.port}", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        # Wake requests sleeping on an injected timeout before closing the socket.
        self.sandbox.faults.reset()
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
        self.httpd.server_close()
