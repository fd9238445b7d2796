"""The JSON control endpoint under `/_control`, outside the API, for tests, benchmarks and demos.

It is how a test or a benchmark in another process steers the sandbox (`control.py` is its
client). It needs no credentials: the sandbox is a local test tool that listens on 127.0.0.1.

| method and path | body (JSON) | answer |
| --- | --- | --- |
| GET /_control | | this list |
| GET /_control/faults | | the fault settings and the queued one-shot faults |
| POST /_control/faults | settings to change (merged) | the new settings |
| POST /_control/fail_next | {"action", "fault", "count"} | the new settings |
| GET /_control/counters | | request counters |
| POST /_control/counters/reset | | zeroed counters |
| GET /_control/readings | | the readings being played (see readings.py) |
| POST /_control/readings | readings to change (merged, validated) | the new readings |
| POST /_control/reset | | empty state, default accounts, no faults, zero counters, start readings |
| GET /_control/klanten?account_id= | | every klant of the account |
| POST /_control/klanten | elements (+ optional account_id) | the stored klant, with id |
| POST /_control/klanten/update | {"id", elements...} (+ optional account_id) | the stored klant |
| POST /_control/klanten/delete | {"id"} (+ optional account_id) | the deleted klant |
| POST /_control/seed | {"n", "seed", "account_id", "facturen"?} | {"added": k} (+ "facturen": m) |
| GET /_control/facturen?account_id= | | every invoice of the account |
| POST /_control/facturen | {"klant_id", elements..., "regels": [...]} | the invoice |
| POST /_control/facturen/update | {"id", elements...} (+ account_id) | the invoice |
| POST /_control/facturen/generate | {"account_id"?} | {"facturen": m} for debtors without any |
| GET /_control/accounts | | accounts (id, active, count) |
| POST /_control/accounts | {"account_id", "access_code"?, "active"?} | the account |

These routes stand for what happens inside DigitaleFactuur without any connector (a klant made
by `factuur_aanmaken`, edited or removed on DigitaleFactuur's own screens), so they skip the
API's validation, duplicate check and readings: a test can plant exactly what the real service
might hold, such as a klant without relatienummer or type, an empty naam, a number already used,
or elements we do not map. Elements are a JSON object: a string (or number) per element; a JSON
object is a nested element (child name to text, one level); `null` on update removes an extra
element (a known one becomes empty). Names beyond the known elements must be lowercase
identifiers, since they become XML element names. Errors answer HTTP 400 or 404 with
{"error": message}.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from .api import Reply
from .documents import ELEMENT_NAME, VALUE_ELEMENTS, ApiError
from .faults import Counters, FaultInjector
from .generator import generate_klanten
from .invoices import InvoiceBook
from .readings import ReadingsSwitch
from .store import Store

JSON_TYPE = "application/json; charset=utf-8"


class ControlError(Exception):
    def __init__(self, message: str, status: str = "400 Bad Request"):
        super().__init__(message)
        self.status = status


def json_reply(payload, status: str = "200 OK") -> Reply:
    return Reply(json.dumps(payload, ensure_ascii=False).encode("utf-8"), JSON_TYPE, status)


class ControlEndpoint:
    def __init__(self, store: Store, faults: FaultInjector, counters: Counters,
                 readings: ReadingsSwitch | None = None, invoices: InvoiceBook | None = None):
        self.store = store
        self.invoices = invoices or InvoiceBook()
        self.faults = faults
        self.counters = counters
        self.readings = readings or ReadingsSwitch()
        self._routes = {
            ("GET", ""): self.index,
            ("GET", "faults"): lambda _q, _b: self.faults.describe(),
            ("POST", "faults"): lambda _q, body: self.faults.configure(**body),
            ("POST", "fail_next"): self.fail_next,
            ("GET", "counters"): lambda _q, _b: self.counters.snapshot(),
            ("POST", "counters/reset"): self.reset_counters,
            ("GET", "readings"): lambda _q, _b: self.readings.describe(),
            ("POST", "readings"): lambda _q, body: self.readings.configure(**body),
            ("POST", "reset"): self.reset,
            ("GET", "klanten"): self.list_klanten,
            ("POST", "klanten"): self.add_klant,
            ("POST", "klanten/update"): self.update_klant,
            ("POST", "klanten/delete"): self.delete_klant,
            ("POST", "seed"): self.seed,
            ("GET", "accounts"): lambda _q, _b: self.store.accounts(),
            ("POST", "accounts"): self.set_account,
            ("GET", "facturen"): self.list_facturen,
            ("POST", "facturen"): self.add_factuur,
            ("POST", "facturen/update"): self.update_factuur,
            ("POST", "facturen/generate"): self.generate_facturen,
        }

    def handle(self, method: str, path: str, query: str, body: bytes) -> Reply:
        route = path[len("/_control"):].strip("/")
        handler = self._routes.get((method, route))
        if handler is None:
            return json_reply({"error": f"no control route {method} /_control/{route}"},
                              "404 Not Found")
        try:
            payload = json.loads(body.decode("utf-8") or "{}") if method == "POST" else {}
            if not isinstance(payload, dict):
                raise ControlError("the body must be a JSON object")
            return json_reply(handler(dict(parse_qsl(query)), payload))
        except ControlError as error:
            return json_reply({"error": str(error)}, error.status)
        except (ValueError, TypeError) as error:
            return json_reply({"error": str(error)}, "400 Bad Request")

    def _account_id(self, query: dict, body: dict) -> str:
        account_id = str(body.pop("account_id", None) or query.get("account_id")
                         or self.store.default_accounts[0][0])
        if account_id not in {a["account_id"] for a in self.store.accounts()}:
            raise ControlError(f"unknown account {account_id}", "404 Not Found")
        return account_id

    def index(self, _query: dict, _body: dict) -> dict:
        return {"routes": sorted(f"{method} /_control/{route}".rstrip("/")
                                 for method, route in self._routes)}

    def fail_next(self, _query: dict, body: dict) -> dict:
        return self.faults.fail_next(str(body.get("action", "")), str(body.get("fault", "")),
                                     int(body.get("count", 1)))

    def reset_counters(self, _query: dict, _body: dict) -> dict:
        self.counters.reset()
        return self.counters.snapshot()

    def reset(self, _query: dict, _body: dict) -> dict:
        self.store.reset()
        self.faults.reset()
        self.counters.reset()
        self.readings.reset()
        self.invoices.reset()
        return {"reset": True}

    def list_klanten(self, query: dict, body: dict) -> list[dict]:
        return self.store.all_klanten(self._account_id(query, body))

    @classmethod
    def _elements(cls, body: dict) -> dict:
        """The body's elements as store values, refusing only what cannot become XML."""
        values: dict = {}
        for name, value in body.items():
            known = name in VALUE_ELEMENTS
            if not known:
                cls._check_name(name)
            if isinstance(value, dict):
                if known:
                    raise ControlError(f"{name} is a known element and holds text only")
                values[name] = {cls._check_name(child, f"{name}."):
                                cls._text(f"{name}.{child}", text)
                                for child, text in value.items()}
            elif value is None:
                values[name] = None
            else:
                values[name] = cls._text(name, value)
        return values

    @staticmethod
    def _check_name(name: str, parent: str = "") -> str:
        if not ELEMENT_NAME.match(name):
            raise ControlError(f"element names are lowercase identifiers: {parent}{name!r}")
        return name

    @staticmethod
    def _text(name: str, value) -> str:
        if isinstance(value, dict | list):
            raise ControlError(f"{name}: only one level of nesting, and no lists")
        return "" if value is None else str(value)

    @staticmethod
    def _klant_id(body: dict) -> int:
        klant_id = body.pop("id", None)
        if klant_id is None or not str(klant_id).isdigit():
            raise ControlError("id: the klant's id, a number, is required")
        return int(klant_id)

    def add_klant(self, query: dict, body: dict) -> dict:
        account_id = self._account_id(query, body)
        if "id" in body:
            raise ControlError("id: the sandbox assigns it; leave it out")
        return self.store.create(account_id, self._elements(body), allow_duplicate=True)

    def update_klant(self, query: dict, body: dict) -> dict:
        account_id = self._account_id(query, body)
        klant_id = self._klant_id(body)
        try:
            return self.store.update(account_id, klant_id, self._elements(body),
                                     allow_duplicate=True)
        except ApiError as missing:
            raise ControlError(missing.message, "404 Not Found") from None

    def delete_klant(self, query: dict, body: dict) -> dict:
        account_id = self._account_id(query, body)
        try:
            return self.store.delete(account_id, self._klant_id(body))
        except ApiError as missing:
            raise ControlError(missing.message, "404 Not Found") from None

    def seed(self, query: dict, body: dict) -> dict:
        account_id = self._account_id(query, body)
        batch = generate_klanten(int(body.get("n", 30)), int(body.get("seed", 0)))
        answer = {"added": self.store.create_many(account_id, batch)}
        if body.get("facturen"):
            answer["facturen"] = self.invoices.generate_for(
                account_id, self.store.all_klanten(account_id))
        return answer

    def set_account(self, _query: dict, body: dict) -> dict:
        account_id = str(body.get("account_id") or self.store.default_accounts[0][0])
        active = body.get("active")
        code = body.get("access_code")
        try:
            return self.store.set_account(account_id, None if code is None else str(code),
                                          None if active is None else bool(active))
        except KeyError:
            raise ControlError(f"unknown account {account_id}: give an access_code to create "
                               "it", "404 Not Found") from None

    # --- facturen (invoices.py): planted and changed as DigitaleFactuur's own screens would ---

    def list_facturen(self, query: dict, body: dict) -> list[dict]:
        return self.invoices.all(self._account_id(query, body))

    @staticmethod
    def _invoice_values(body: dict) -> dict:
        regels = body.get("regels")
        if regels is not None and not (isinstance(regels, list)
                                       and all(isinstance(r, dict) for r in regels)):
            raise ControlError("regels: a list of objects (aantal, omschrijving, prijs, btw)")
        for name, value in body.items():
            if name != "regels" and isinstance(value, dict | list):
                raise ControlError(f"{name}: a plain value")
        return body

    def add_factuur(self, query: dict, body: dict) -> dict:
        account_id = self._account_id(query, body)
        if "id" in body:
            raise ControlError("id: the sandbox assigns it; leave it out")
        if not str(body.get("klant_id", "")).isdigit():
            raise ControlError("klant_id: the klant's id, a number, is required")
        return self.invoices.add(account_id, self._invoice_values(body))

    def update_factuur(self, query: dict, body: dict) -> dict:
        account_id = self._account_id(query, body)
        invoice_id = body.pop("id", None)
        if invoice_id is None or not str(invoice_id).isdigit():
            raise ControlError("id: the invoice's id, a number, is required")
        try:
            return self.invoices.update(account_id, int(invoice_id), self._invoice_values(body))
        except KeyError:
            raise ControlError(f"no invoice with id {invoice_id}", "404 Not Found") from None

    def generate_facturen(self, query: dict, body: dict) -> dict:
        account_id = self._account_id(query, body)
        return {"facturen": self.invoices.generate_for(account_id,
                                                       self.store.all_klanten(account_id))}
