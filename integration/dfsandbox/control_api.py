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
| POST /_control/reset | | empty state, default accounts, faults off, counters zero |
| GET /_control/klanten?account_id= | | every klant of the account |
| POST /_control/klanten | elements (+ optional account_id) | the stored klant, with id |
| POST /_control/seed | {"n", "seed", "account_id"} | {"added": k} |
| GET /_control/accounts | | accounts (id, active, count) |
| POST /_control/accounts | {"account_id", "access_code"?, "active"?} | the account |

A klant planted through POST /_control/klanten skips the API's validation and duplicate check,
so a test can plant exactly what the real service might hold. Errors answer HTTP 400 or 404 with
{"error": message}.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from .api import Reply
from .documents import VALUE_ELEMENTS
from .faults import Counters, FaultInjector
from .generator import generate_klanten
from .store import Store

JSON_TYPE = "application/json; charset=utf-8"


class ControlError(Exception):
    def __init__(self, message: str, status: str = "400 Bad Request"):
        super().__init__(message)
        self.status = status


def json_reply(payload, status: str = "200 OK") -> Reply:
    return Reply(json.dumps(payload, ensure_ascii=False).encode("utf-8"), JSON_TYPE, status)


class ControlEndpoint:
    def __init__(self, store: Store, faults: FaultInjector, counters: Counters):
        self.store = store
        self.faults = faults
        self.counters = counters
        self._routes = {
            ("GET", ""): self.index,
            ("GET", "faults"): lambda _q, _b: self.faults.describe(),
            ("POST", "faults"): lambda _q, body: self.faults.configure(**body),
            ("POST", "fail_next"): self.fail_next,
            ("GET", "counters"): lambda _q, _b: self.counters.snapshot(),
            ("POST", "counters/reset"): self.reset_counters,
            ("POST", "reset"): self.reset,
            ("GET", "klanten"): self.list_klanten,
            ("POST", "klanten"): self.add_klant,
            ("POST", "seed"): self.seed,
            ("GET", "accounts"): lambda _q, _b: self.store.accounts(),
            ("POST", "accounts"): self.set_account,
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
        return {"reset": True}

    def list_klanten(self, query: dict, body: dict) -> list[dict]:
        return self.store.all_klanten(self._account_id(query, body))

    def add_klant(self, query: dict, body: dict) -> dict:
        account_id = self._account_id(query, body)
        unknown = set(body) - set(VALUE_ELEMENTS)
        if unknown:
            raise ControlError(f"unknown klant elements: {', '.join(sorted(unknown))}")
        values = {name: "" if value is None else str(value) for name, value in body.items()}
        return self.store.create(account_id, values, allow_duplicate=True)

    def seed(self, query: dict, body: dict) -> dict:
        account_id = self._account_id(query, body)
        batch = generate_klanten(int(body.get("n", 30)), int(body.get("seed", 0)))
        return {"added": self.store.create_many(account_id, batch)}

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
