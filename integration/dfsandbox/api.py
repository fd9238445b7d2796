"""The four actions of the API page, answered from the store as the current readings say.

A request is `/api/{account_id}/{access_code}/{action}`; the action's parameters follow it after
`&` (`klanten&page=2`), as DigitaleFactuur's own clients send them. A `?` query string is
tolerated too. The credentials are checked first (401/403), then the action (404). Where the
public sources leave the behaviour open, `readings.Readings` decides (the defaults in brackets):

- `klanten`: `page` (from 1) paged as `listing` says [`paged`: `page_size` 100 a page, ordered
  by id, past the end `<klanten />`]; an optional `relatienummer` filter, which `number_filter`
  [`honoured`: every klant with that number, duplicates included] may have ignored.
- `klant_aanmaken` (POST, form field `xml`): a `<klant>`; `naam` is required, `type` may be
  empty or absent, an `<id>` is ignored, extra and one-level nested elements are stored. A
  relatienummer already in use is a 409 unless `duplicates` is `accepted`.
- `klant_updaten` (POST, form field `xml`): `<id>` is required (missing: 422, unknown: 404); an
  element present replaces the stored value, an empty element clears it (except `naam`, which
  cannot be empty: 422); an absent element is left unchanged [`update` = `merge`] or cleared
  (`clear`). Moving to a relatienummer another klant holds is a 409 unless `duplicates` is
  `accepted`.
- Both writes answer, on success, as `write_answer` says [`klant`: the whole stored `<klant>`].
- `klant_verwijderen&klanten_id=N`: deletes; answers the deleted `<klant>` (the page does not
  say what the real service answers; an "NNN" text would be mistaken for an error).
- `facturen` and `factuur_download`: see `invoices.py` (the same readings apply).

Every XML answer is shaped by `documents` [`tidy`]. Every error is `ApiError`, rendered by the
WSGI layer as a `NNN message` body with HTTP 200, in every reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from .documents import (
    XML_TYPE,
    ApiError,
    document_type,
    field_error,
    id_document,
    klant_document,
    klanten_document,
    parse_klant,
    parse_klant_id,
    validate_values,
)
from .invoices import (
    InvoiceBook,
    download_document,
    download_type_param,
    facturen_document,
    invoice_id_param,
    missing_invoice,
)
from .readings import Readings, ReadingsSwitch
from .store import Store

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
    def __init__(self, store: Store, readings: ReadingsSwitch | None = None,
                 invoices: InvoiceBook | None = None):
        self.store = store
        self.readings = readings or ReadingsSwitch()
        self.invoices = invoices or InvoiceBook()
        self._actions = {
            "klanten": self.list_klanten,
            "klant_aanmaken": self.create_klant,
            "klant_updaten": self.update_klant,
            "klant_verwijderen": self.delete_klant,
            "facturen": self.list_facturen,
            "factuur_download": self.download_factuur,
        }

    def handle(self, request: ApiRequest) -> Reply:
        try:
            self.store.authenticate(request.account_id, request.access_code)
            action = self._actions.get(request.action)
            if action is None:
                raise ApiError(404, f"onbekende actie '{request.action}'")
            # One snapshot per request: a reading changed meanwhile never mixes into an answer.
            return action(request, self.readings.current)
        except ApiError as error:
            return error_reply(error)

    @staticmethod
    def _xml(body: bytes, readings: Readings) -> Reply:
        return Reply(body, document_type(readings.documents == "wild"))

    def list_klanten(self, request: ApiRequest, readings: Readings) -> Reply:
        wild = readings.documents == "wild"
        number = request.params.get("relatienummer")
        if number is not None and readings.number_filter == "honoured":
            return self._xml(klanten_document(
                self.store.with_number(request.account_id, number.strip()), wild=wild),
                readings)
        if readings.listing == "unpaged":
            # Whatever `page` says, even something that is no page number at all.
            return self._xml(klanten_document(self.store.all_klanten(request.account_id),
                                              wild=wild), readings)
        page_text = request.params.get("page", "1") or "1"
        if not (page_text.isascii() and page_text.isdigit()) or int(page_text) < 1:
            raise field_error("page", "moet een geheel getal vanaf 1 zijn")
        klanten = self.store.page(request.account_id, int(page_text), readings.page_size,
                                  repeat_last=readings.listing == "repeat_last")
        return self._xml(klanten_document(klanten, wild=wild), readings)

    @staticmethod
    def _posted_klant(request: ApiRequest) -> dict:
        if request.method != "POST" or "xml" not in request.form:
            raise field_error("xml", "ontbreekt: POST een formulierveld 'xml' met een <klant>")
        return parse_klant(request.form["xml"])

    def _write_answer(self, klant: dict, readings: Readings) -> Reply:
        wild = readings.documents == "wild"
        if readings.write_answer == "klanten":
            return self._xml(klanten_document([klant], wild=wild), readings)
        if readings.write_answer == "id":
            return self._xml(id_document(klant["id"], wild=wild), readings)
        if readings.write_answer == "text":
            return Reply(b"OK", TEXT_TYPE)
        if readings.write_answer == "empty":
            return Reply(b"", TEXT_TYPE)
        return self._xml(klant_document(klant, wild=wild), readings)

    def create_klant(self, request: ApiRequest, readings: Readings) -> Reply:
        values = self._posted_klant(request)
        values.pop("id", None)
        validate_values(values, creating=True)
        klant = self.store.create(request.account_id, values,
                                  allow_duplicate=readings.duplicates == "accepted")
        return self._write_answer(klant, readings)

    def update_klant(self, request: ApiRequest, readings: Readings) -> Reply:
        values = self._posted_klant(request)
        klant_id = parse_klant_id(str(values.pop("id", "")), "id")
        validate_values(values, creating=False)
        klant = self.store.update(request.account_id, klant_id, values,
                                  clear=readings.update == "clear",
                                  allow_duplicate=readings.duplicates == "accepted")
        return self._write_answer(klant, readings)

    def delete_klant(self, request: ApiRequest, readings: Readings) -> Reply:
        klant_id = parse_klant_id(request.params.get("klanten_id", "").strip(), "klanten_id")
        return self._xml(klant_document(self.store.delete(request.account_id, klant_id),
                                        wild=readings.documents == "wild"), readings)

    def list_facturen(self, request: ApiRequest, readings: Readings) -> Reply:
        """`facturen&page=N` with its filters; `number_filter` ignored ignores these too."""
        page = None
        if readings.listing != "unpaged":
            page_text = request.params.get("page", "1") or "1"
            if not (page_text.isascii() and page_text.isdigit()) or int(page_text) < 1:
                raise field_error("page", "moet een geheel getal vanaf 1 zijn")
            page = int(page_text)
        invoices = self.invoices.listing(
            request.account_id, request.params,
            honour_filters=readings.number_filter == "honoured", page=page,
            size=readings.page_size, repeat_last=readings.listing == "repeat_last")
        return self._xml(facturen_document(invoices, wild=readings.documents == "wild"),
                         readings)

    def download_factuur(self, request: ApiRequest, readings: Readings) -> Reply:
        invoice_id = invoice_id_param(request.params)
        download_type_param(request.params)
        invoice = self.invoices.get(request.account_id, invoice_id)
        if invoice is None:
            raise missing_invoice(invoice_id)
        body, is_xml = download_document(invoice, wild=readings.documents == "wild")
        if is_xml:
            return self._xml(body, readings)
        return Reply(body, TEXT_TYPE)
