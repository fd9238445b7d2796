"""The four actions of the API page, answered from the store.

A request is `/api/{account_id}/{access_code}/{action}`; the action's parameters follow it after
`&` (`klanten&page=2`), as DigitaleFactuur's own clients send them. A `?` query string is
tolerated too. The credentials are checked first (401/403), then the action (404).

- `klanten`: `page` (from 1, 100 per page, ordered by id; past the end `<klanten />`) and an
  optional `relatienummer` filter (zero or one klant).
- `klant_aanmaken` (POST, form field `xml`): a `<klant>`; `naam` is required, `type` may be
  empty or absent, an `<id>` is ignored. Answers the created `<klant>` with its new `<id>`;
  a relatienummer already in use is a 409.
- `klant_updaten` (POST, form field `xml`), our team's decided semantics: `<id>` is required
  (missing: 422, unknown: 404); an element present replaces the stored value, an empty element
  clears it (except `naam`, which cannot be empty: 422); an absent element is left unchanged.
  Moving to a relatienummer another klant holds is a 409. Answers the whole updated `<klant>`.
- `klant_verwijderen&klanten_id=N`: deletes; answers the deleted `<klant>` (the page does not
  say what the real service answers; an "NNN" text would be mistaken for an error).

Every error is `ApiError`, rendered by the WSGI layer as a `NNN message` body with HTTP 200.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from .documents import (
    ApiError,
    field_error,
    klant_document,
    klanten_document,
    parse_klant,
    parse_klant_id,
    validate_values,
)
from .store import Store

XML_TYPE = "application/xml; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"


@dataclass
class ApiRequest:
    method: str
    account_id: str
    access_code: str
    action: str
    params: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)


@dataclass
class Reply:
    body: bytes
    content_type: str = XML_TYPE
    status: str = "200 OK"
    headers: list[tuple[str, str]] = field(default_factory=list)


def split_api_path(path: str, query: str) -> ApiRequest | None:
    """`/api/ACCOUNT/CODE/action&k=v` (or `?k=v`) into its parts; None when it is not /api."""
    if path != "/api" and not path.startswith("/api/"):
        return None
    segments = path[len("/api/"):].rstrip("/").split("/")
    account_id = segments[0] if segments else ""
    access_code = segments[1] if len(segments) > 1 else ""
    # A deeper path is no action of ours: keep it whole so the answer is a 404.
    action_part = "/".join(segments[2:])
    action, _, inline = action_part.partition("&")
    params = dict(parse_qsl(query, keep_blank_values=True))
    params.update(parse_qsl(inline, keep_blank_values=True))
    return ApiRequest("GET", account_id, access_code, action, params)


def error_reply(error: ApiError) -> Reply:
    headers = [("Retry-After", str(error.retry_after))] if error.retry_after else []
    return Reply(error.body(), TEXT_TYPE, headers=headers)


class ApiHandler:
    def __init__(self, store: Store):
        self.store = store
        self._actions = {
            "klanten": self.list_klanten,
            "klant_aanmaken": self.create_klant,
            "klant_updaten": self.update_klant,
            "klant_verwijderen": self.delete_klant,
        }

    def handle(self, request: ApiRequest) -> Reply:
        try:
            self.store.authenticate(request.account_id, request.access_code)
            action = self._actions.get(request.action)
            if action is None:
                raise ApiError(404, f"onbekende actie '{request.action}'")
            return Reply(action(request))
        except ApiError as error:
            return error_reply(error)

    def list_klanten(self, request: ApiRequest) -> bytes:
        page_text = request.params.get("page", "1") or "1"
        if not (page_text.isascii() and page_text.isdigit()) or int(page_text) < 1:
            raise field_error("page", "moet een geheel getal vanaf 1 zijn")
        number = request.params.get("relatienummer")
        klanten = self.store.page(request.account_id, int(page_text),
                                  relatienummer=number.strip() if number is not None else None)
        return klanten_document(klanten)

    @staticmethod
    def _posted_klant(request: ApiRequest) -> dict[str, str]:
        if request.method != "POST" or "xml" not in request.form:
            raise field_error("xml", "ontbreekt: POST een formulierveld 'xml' met een <klant>")
        return parse_klant(request.form["xml"])

    def create_klant(self, request: ApiRequest) -> bytes:
        values = self._posted_klant(request)
        values.pop("id", None)
        validate_values(values, creating=True)
        return klant_document(self.store.create(request.account_id, values))

    def update_klant(self, request: ApiRequest) -> bytes:
        values = self._posted_klant(request)
        klant_id = parse_klant_id(values.pop("id", ""), "id")
        validate_values(values, creating=False)
        return klant_document(self.store.update(request.account_id, klant_id, values))

    def delete_klant(self, request: ApiRequest) -> bytes:
        klant_id = parse_klant_id(request.params.get("klanten_id", "").strip(), "klanten_id")
        return klant_document(self.store.delete(request.account_id, klant_id))
