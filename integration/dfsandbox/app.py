"""The sandbox as one WSGI application: `/api` (the fake service), `/_control`, and `/`.

`Sandbox` wires the store, the readings it plays (`readings.py`), the fault injector and the
counters together. Its WSGI callable reads
the whole request body before anything else (answering with unread data on the socket makes the
kernel reset the connection, which a client would take for a network fault we did not inject),
then for `/api`: counts the request, asks the fault injector, and either answers the fault or
hands the request to `ApiHandler`. A `timeout` or `garbled` fault is applied to the real answer,
after the action has run: that is what makes a timed-out write ambiguous.

Nothing here imports Django or the connector: the sandbox shares no code with the client.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl

from .api import TEXT_TYPE, ApiHandler, Reply, error_reply, split_api_path
from .control_api import ControlEndpoint
from .documents import ApiError, field_error
from .faults import Counters, FaultInjector, FaultSettings
from .invoices import InvoiceBook
from .page import render_overview
from .readings import Readings, ReadingsSwitch
from .store import Store

logger = logging.getLogger("integration.dfsandbox")

DEMO_ACCOUNT_ID = "10001"
# A demo value, printed on the console on purpose; not a secret of any real account.
DEMO_ACCESS_CODE = "demo-toegangscode-0001"
MAX_BODY_BYTES = 4 * 1024 * 1024
_API_SECRET = re.compile(r"^(/api/[^/]*/)[^/&?]*")


def redact_path(path: str) -> str:
    """The request path with the access code (the second segment after /api) masked."""
    return _API_SECRET.sub(r"\1***", path)


class Sandbox:
    def __init__(self, account_id: str = DEMO_ACCOUNT_ID, access_code: str = DEMO_ACCESS_CODE,
                 state_file=None, faults: FaultSettings | None = None,
                 readings: Readings | None = None):
        self.store = Store([(account_id, access_code)], state_file=state_file)
        self.faults = FaultInjector(faults)
        self.counters = Counters()
        # Started with these; a control reset returns to them.
        self.readings = ReadingsSwitch(readings)
        # Invoices live in memory only (invoices.py); generated again for seeded klanten.
        self.invoices = InvoiceBook()
        self.api = ApiHandler(self.store, self.readings, self.invoices)
        self.control = ControlEndpoint(self.store, self.faults, self.counters, self.readings,
                                       self.invoices)

    @property
    def account_id(self) -> str:
        return self.store.default_accounts[0][0]

    @property
    def access_code(self) -> str:
        return self.store.default_accounts[0][1]

    def __call__(self, environ, start_response):
        try:
            reply = self.dispatch(environ)
        except Exception:
            logger.exception("sandbox failed on %s", redact_path(environ.get("PATH_INFO", "")))
            reply = error_reply(ApiError(500, "interne fout in de sandbox"))
        headers = [("Content-Type", reply.content_type),
                   ("Content-Length", str(len(reply.body))), *reply.headers]
        start_response(reply.status, headers)
        return [reply.body]

    def dispatch(self, environ) -> Reply:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        # PEP 3333 hands the path over as latin-1 decoded bytes; the bytes are UTF-8.
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        query = environ.get("QUERY_STRING", "")
        body = self._read_body(environ)
        request = split_api_path(path, query)
        if request is not None:
            return self.answer_api(request, method, environ, body)
        if path == "/_control" or path.startswith("/_control/"):
            return self.control.handle(method, path, query, body)
        if path in ("/", "/index.html") and method in ("GET", "HEAD"):
            params = dict(parse_qsl(query))
            page = params.get("page", "1")
            return Reply(render_overview(self.store, params.get("account"),
                                         int(page) if page.isdigit() else 1,
                                         self.readings.current, self.invoices),
                         "text/html; charset=utf-8")
        return Reply(b"404 Not Found\n", TEXT_TYPE, "404 Not Found")

    @staticmethod
    def _read_body(environ) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= 0:
            return b""
        return environ["wsgi.input"].read(min(length, MAX_BODY_BYTES))

    def answer_api(self, request, method: str, environ, body: bytes) -> Reply:
        request.method = method
        self.counters.count_request(method, request.action)
        fault, retry_after = self.faults.decide(request.account_id, request.action)
        if fault is not None:
            self.counters.count_fault(fault)
        if fault == "rate_limit":
            return error_reply(ApiError(429, "te veel verzoeken; probeer het over "
                                             f"{retry_after} s opnieuw", retry_after))
        if fault == "error":
            return error_reply(ApiError(500, "interne fout (nagebootst door de sandbox)"))
        if fault == "http_error":
            return Reply(b"Service Unavailable", TEXT_TYPE, "503 Service Unavailable")
        if method == "POST":
            try:
                request.form = self._form(environ, body)
            except UnicodeDecodeError:
                return error_reply(field_error("xml", "het formulier is geen geldige UTF-8"))
        reply = self.api.handle(request)
        if fault == "timeout":
            # The action has run (a write is stored); only the answer is late.
            self.faults.sleep(self.faults.settings.timeout_seconds)
        elif fault == "garbled":
            reply.body = self.faults.garble(reply.body)
        return reply

    @staticmethod
    def _form(environ, body: bytes) -> dict[str, str]:
        content_type = environ.get("CONTENT_TYPE", "")
        if content_type and "x-www-form-urlencoded" not in content_type:
            return {}
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                              encoding="utf-8", errors="strict"))
