"""The sandbox's facturen: invoices per account, their documents, their PDF, and the generator.

Public sources name the resource (`shared/digitalefactuur-api.md`, "Other resources"):
`facturen` (paged with `&page=N`; filters `betaalstatus=openstaand|betaald`, `facturen_id`,
`factuurnummer`, `order_column`, `order_type`), each `<factuur>` with `id`, `klant_id`,
`betaalstatus`, `factuurnummer` (and `factuurnummer_voorloop`), `factuurdatum`, `vervaldatum`,
`automatische_incasso` and repeated `<factuurregel>` (`aantal`, `omschrijving`, `prijs`,
`btw`); and `factuur_download&facturen_id=N&download_type=base64` for the PDF. They also show
that dates come as `02-06-2010` on one endpoint and `2010-06-02` on another, and `btw` as a
fraction (`0.210`) or a percentage (`21`). The sandbox plays all of it, so the connector must
read all of it:

- every invoice keeps its dates as text in the format it was made with (generated invoices
  alternate by id), and its `btw` as text (fraction or percentage, alternating by id);
- the listing follows the same `Readings` as `klanten`: `listing`/`page_size` for paging,
  `number_filter` ignored means the facturen filters are ignored too (the answer is the plain
  listing), `documents` wild shuffles, pads, CDATA-wraps `omschrijving`, wraps the lines in an
  extra `<factuurregels>` and answers ISO-8859-1;
- `factuur_download` answers, tidy, the base64 text alone, and wild, a small XML document
  holding it in `<pdf>` with line breaks every 76 characters: what the real service answers
  is not shown anywhere, so the client must take either.

An invoice is a plain dict: `id` (int, unique in the sandbox), `klant_id` (int), `betaalstatus`,
`factuurnummer_voorloop`, `factuurnummer`, `factuurdatum`, `vervaldatum`,
`automatische_incasso` ("0"/"1") and `regels`, a list of dicts `aantal`, `omschrijving`,
`prijs`, `btw` (all text, as on the wire). Invoices live in memory: a restart of the demo makes
the generated ones again (the same for the same klanten) and forgets planted ones.
"""

from __future__ import annotations

import base64
import hashlib
import random
import threading
from datetime import date, timedelta
from xml.sax.saxutils import escape

from .documents import XML_DECLARATION, ApiError, _draw, _wild_text, field_error

FIRST_FACTUUR_ID = 700100
FACTUUR_ELEMENTS = ("id", "klant_id", "betaalstatus", "factuurnummer_voorloop", "factuurnummer",
                    "factuurdatum", "vervaldatum", "automatische_incasso")
REGEL_ELEMENTS = ("aantal", "omschrijving", "prijs", "btw")
BETAALSTATUSSEN = ("openstaand", "betaald")
ORDER_COLUMNS = ("id", "factuurnummer", "factuurdatum", "vervaldatum", "klant_id")
WILD_ISO = "ISO-8859-1"


class InvoiceBook:
    """Every account's invoices, by id; one lock, callers get copies."""

    def __init__(self):
        self._lock = threading.Lock()
        self._invoices: dict[str, dict[int, dict]] = {}
        self._next_id = FIRST_FACTUUR_ID
        self._generated_for: set[tuple[str, int]] = set()

    def reset(self) -> None:
        with self._lock:
            self._invoices = {}
            self._next_id = FIRST_FACTUUR_ID
            self._generated_for = set()

    def _add(self, account_id: str, values: dict) -> dict:
        invoice = {"id": self._next_id, **_clean(values)}
        self._next_id += 1
        self._invoices.setdefault(account_id, {})[invoice["id"]] = invoice
        return invoice

    def add(self, account_id: str, values: dict) -> dict:
        with self._lock:
            return _copy(self._add(account_id, values))

    def update(self, account_id: str, invoice_id: int, values: dict) -> dict:
        with self._lock:
            invoice = self._invoices.get(account_id, {}).get(invoice_id)
            if invoice is None:
                raise KeyError(invoice_id)
            # Only what is given changes: the rest (the lines too) stays as it was.
            invoice.update(_clean({k: v for k, v in values.items() if k != "id"},
                                  complete=False))
            return _copy(invoice)

    def get(self, account_id: str, invoice_id: int) -> dict | None:
        with self._lock:
            invoice = self._invoices.get(account_id, {}).get(invoice_id)
            return None if invoice is None else _copy(invoice)

    def all(self, account_id: str) -> list[dict]:
        with self._lock:
            return [_copy(invoice) for _id, invoice in
                    sorted(self._invoices.get(account_id, {}).items())]

    def listing(self, account_id: str, params: dict[str, str], *, honour_filters: bool,
                page: int | None, size: int, repeat_last: bool) -> list[dict]:
        """What a `facturen` request answers: filtered (when honoured), ordered, and paged
        (`page` None: unpaged); only the answered invoices are copied."""
        with self._lock:
            invoices = list(self._invoices.get(account_id, {}).values())  # in id order
            chosen = select(invoices, params, honour_filters=honour_filters)
            if page is not None:
                chosen = page_of(chosen, page, size, repeat_last=repeat_last)
            return [_copy(invoice) for invoice in chosen]

    def generate_for(self, account_id: str, klanten: list[dict], today: date | None = None) -> int:
        """Invoices for every debtor among `klanten` not given any before; the same invoices for
        the same klant ids (and day). Returns how many were made."""
        today = today or date.today()
        made = 0
        with self._lock:
            for klant in sorted(klanten, key=lambda k: int(k["id"])):
                key = (account_id, int(klant["id"]))
                if key in self._generated_for or not _is_debtor(klant):
                    continue
                self._generated_for.add(key)
                for values in generate_invoices(klant, today):
                    self._add(account_id, values)
                    made += 1
        return made


def _clean(values: dict, complete: bool = True) -> dict:
    cleaned = {}
    for name, value in values.items():
        if name == "regels":
            cleaned["regels"] = [{k: "" if v is None else str(v) for k, v in regel.items()}
                                 for regel in (value or [])]
        elif name == "klant_id":
            cleaned[name] = int(value)
        else:
            cleaned[name] = "" if value is None else str(value)
    if complete:
        for name in FACTUUR_ELEMENTS[1:]:
            cleaned.setdefault(name, "" if name != "klant_id" else 0)
        cleaned.setdefault("regels", [])
    return cleaned


def _copy(invoice: dict) -> dict:
    return {**invoice, "regels": [dict(regel) for regel in invoice.get("regels", [])]}


def _is_debtor(klant: dict) -> bool:
    kind = klant.get("type", "")
    return kind == "debiteur" or (not kind and str(klant.get("relatienummer", "")).startswith("1"))


# --- the generator ------------------------------------------------------------------------------

PRODUCTS = [("Advieswerkzaamheden (uur)", "95.00"), ("Onderhoudscontract", "249.00"),
            ("Installatie ter plaatse", "180.00"), ("Licentie per maand", "39.95"),
            ("Verzendkosten", "6.95"), ("Boeken & tijdschriften", "24.50"),
            ("Training \"Excel voor gevorderden\"", "375.00"), ("Schoonmaak kantoor <3 uur>",
                                                               "87.33")]
# (days since the invoice date, days until due, status); overdue by various ages.
SHAPES = [(200, 14, "betaald"), (20, 30, "openstaand"), (24, 14, "openstaand"),
          (59, 14, "openstaand"), (89, 14, "openstaand"), (134, 14, "openstaand"),
          (40, 30, "betaald"), (5, 14, "openstaand")]


def _date_text(day: date, invoice_number: int) -> str:
    """Both formats the public sources show, alternating by invoice."""
    return day.strftime("%d-%m-%Y") if invoice_number % 2 else day.isoformat()


def _btw_text(rate: str, invoice_number: int) -> str:
    """A fraction (`0.210`) or a percentage (`21`), alternating by invoice."""
    fraction = {"21": "0.210", "9": "0.090", "0": "0.000"}[rate]
    return fraction if invoice_number % 3 else rate


def generate_invoices(klant: dict, today: date) -> list[dict]:
    """Up to four invoices of one debtor, fixed by its id: paid, open, overdue, a credit note."""
    klant_id = int(klant["id"])
    rng = random.Random(f"facturen-{klant_id}")
    direct_debit = "1" if str(klant.get("automatische_incasso", "")).lower() in ("1", "ja",
                                                                                  "true") else "0"
    invoices = []
    for number in range(rng.randrange(1, 5)):
        shape = SHAPES[(klant_id + 3 * number) % len(SHAPES)]
        serial = klant_id * 10 + number
        issued = today - timedelta(days=shape[0])
        regels = []
        for _line in range(rng.randrange(1, 4)):
            description, price = rng.choice(PRODUCTS)
            rate = rng.choice(["21", "21", "9", "0"])
            regels.append({"aantal": str(rng.choice([1, 1, 2, 3, 0.5, 12])),
                           "omschrijving": description, "prijs": price,
                           "btw": _btw_text(rate, serial)})
        invoices.append({
            "klant_id": klant_id, "betaalstatus": shape[2],
            "factuurnummer_voorloop": "F" if serial % 2 else "VF-",
            "factuurnummer": str(2026000 + serial % 100000),
            "factuurdatum": _date_text(issued, serial),
            "vervaldatum": _date_text(issued + timedelta(days=shape[1]), serial),
            "automatische_incasso": direct_debit, "regels": regels})
    if klant_id % 4 == 0:
        # A credit note: the same lines with a negative price, open until settled.
        issued = today - timedelta(days=12)
        serial = klant_id * 10 + 9
        invoices.append({
            "klant_id": klant_id, "betaalstatus": "openstaand", "factuurnummer_voorloop": "CR",
            "factuurnummer": str(2026000 + serial % 100000),
            "factuurdatum": _date_text(issued, serial),
            "vervaldatum": _date_text(issued + timedelta(days=14), serial),
            "automatische_incasso": "0",
            "regels": [{"aantal": "1", "omschrijving": "Creditering retour", "prijs": "-49.95",
                        "btw": _btw_text("21", serial)}]})
    return invoices


# --- the listing --------------------------------------------------------------------------------

def _sort_key(column: str):
    def key(invoice: dict):
        value = invoice.get(column, "")
        if column in ("factuurdatum", "vervaldatum"):
            text = str(value)
            # Either format, compared as a date.
            if len(text) == 10 and text[2] == "-":
                text = f"{text[6:]}-{text[3:5]}-{text[:2]}"
            return (0, text, invoice["id"])
        if isinstance(value, int) or str(value).isdigit():
            return (0, int(value), invoice["id"])
        return (1, str(value), invoice["id"])
    return key


def select(invoices: list[dict], params: dict[str, str], *, honour_filters: bool) -> list[dict]:
    """The invoices a `facturen` request asks for, before paging."""
    if not honour_filters:
        return invoices
    status = params.get("betaalstatus", "").strip()
    if status:
        if status not in BETAALSTATUSSEN:
            raise field_error("betaalstatus", "moet 'openstaand' of 'betaald' zijn")
        invoices = [i for i in invoices if i["betaalstatus"] == status]
    wanted_id = params.get("facturen_id", "").strip()
    if wanted_id:
        invoices = [i for i in invoices if str(i["id"]) == wanted_id]
    wanted_number = params.get("factuurnummer", "").strip()
    if wanted_number:
        invoices = [i for i in invoices if i["factuurnummer"] == wanted_number
                    or i["factuurnummer_voorloop"] + i["factuurnummer"] == wanted_number]
    column = params.get("order_column", "").strip()
    descending = params.get("order_type", "asc").strip().lower() == "desc"
    if column == "id" and not descending:
        return invoices  # already in id order
    if column:
        if column not in ORDER_COLUMNS:
            raise field_error("order_column", f"onbekende kolom '{column}'")
        invoices = sorted(invoices, key=_sort_key(column), reverse=descending)
    return invoices


def page_of(invoices: list[dict], page: int, size: int, *, repeat_last: bool) -> list[dict]:
    if repeat_last:
        page = min(page, max(1, -(-len(invoices) // size)))
    start = (page - 1) * size
    return invoices[start:start + size]


# --- documents ----------------------------------------------------------------------------------

def _tidy_factuur(invoice: dict, indent: str) -> list[str]:
    lines = [f"{indent}<factuur>"]
    for name in FACTUUR_ELEMENTS:
        value = escape(str(invoice.get(name, "")))
        lines.append(f"{indent}  <{name}>{value}</{name}>" if value
                     else f"{indent}  <{name}></{name}>")
    for regel in invoice.get("regels", []):
        lines.append(f"{indent}  <factuurregel>")
        lines.extend(f"{indent}    <{name}>{escape(str(regel.get(name, '')))}</{name}>"
                     for name in REGEL_ELEMENTS)
        lines.append(f"{indent}  </factuurregel>")
    lines.append(f"{indent}</factuur>")
    return lines


def _wild_value(key: object, name: str, value: str, indent: str) -> str:
    if name == "omschrijving" and value and "]]>" not in value:
        try:
            value.encode("iso-8859-1")
            return f"{indent}<{name}><![CDATA[ {value} ]]></{name}>"
        except UnicodeEncodeError:
            pass
    text = _wild_text(key, name, value)
    return f"{indent}<{name}>{text}</{name}>" if text else f"{indent}<{name}/>"


def _wild_factuur(invoice: dict, indent: str) -> list[str]:
    key = f"factuur-{invoice['id']}"
    parts = [(name, _wild_value(key, name, str(invoice.get(name, "")), indent + "  "))
             for name in FACTUUR_ELEMENTS]
    regels = [f"{indent}  <factuurregels>"]
    for number, regel in enumerate(invoice.get("regels", [])):
        names = sorted(REGEL_ELEMENTS, key=lambda n, k=f"{key}-{number}": _draw(k, n, "order"))
        regels.append(f"{indent}    <factuurregel>")
        regels.extend(_wild_value(f"{key}-{number}", name, str(regel.get(name, "")),
                                  indent + "      ") for name in names)
        regels.append(f"{indent}    </factuurregel>")
    regels.append(f"{indent}  </factuurregels>")
    parts.append(("factuurregels", "\n".join(regels)))
    parts.sort(key=lambda item: _draw(key, item[0], "order"))
    return [f"{indent}<factuur>", *(text for _name, text in parts), f"{indent}</factuur>"]


def facturen_document(invoices: list[dict], *, wild: bool = False) -> bytes:
    """The `<facturen>` list; an empty list is `<facturen/>`."""
    if wild:
        inner = [line for invoice in invoices for line in _wild_factuur(invoice, "  ")]
        body = "\n".join(["<facturen>", *inner, "</facturen>"]) if inner else "<facturen/>"
        return (f'<?xml version="1.0" encoding="{WILD_ISO}"?>\n{body}\n'
                .encode("iso-8859-1", "xmlcharrefreplace"))
    inner = [line for invoice in invoices for line in _tidy_factuur(invoice, "  ")]
    body = "\n".join(["<facturen>", *inner, "</facturen>"]) if inner else "<facturen />"
    return XML_DECLARATION + body.encode("utf-8") + b"\n"


def download_document(invoice: dict, *, wild: bool = False) -> tuple[bytes, bool]:
    """The answer to `factuur_download&download_type=base64`: (body, is_xml)."""
    encoded = base64.b64encode(invoice_pdf(invoice)).decode("ascii")
    if not wild:
        return encoded.encode("ascii"), False
    folded = "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))
    return (f'<?xml version="1.0" encoding="{WILD_ISO}"?>\n<factuur_download>\n'
            f"  <id>{invoice['id']}</id>\n  <pdf>\n{folded}\n  </pdf>\n</factuur_download>\n"
            ).encode("iso-8859-1"), True


def invoice_id_param(params: dict[str, str]) -> int:
    text = params.get("facturen_id", "").strip()
    if not text:
        raise field_error("facturen_id", "verplicht")
    if not (text.isascii() and text.isdigit()):
        raise field_error("facturen_id", "moet een getal zijn")
    return int(text)


def download_type_param(params: dict[str, str]) -> None:
    kind = params.get("download_type", "").strip()
    if kind != "base64":
        raise field_error("download_type", "alleen 'base64' wordt ondersteund")


def missing_invoice(invoice_id: int) -> ApiError:
    return ApiError(404, f"geen factuur met id {invoice_id}")


# --- the PDF ------------------------------------------------------------------------------------

def _pdf_text(text: str) -> str:
    ascii_text = text.encode("ascii", "replace").decode("ascii")
    return ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def invoice_pdf(invoice: dict) -> bytes:
    """A minimal valid one-page PDF (PDF 1.4, Helvetica) naming the invoice, built by hand."""
    number = f"{invoice.get('factuurnummer_voorloop', '')}{invoice.get('factuurnummer', '')}"
    lines = [f"Factuur {number}", f"Factuurdatum {invoice.get('factuurdatum', '')}",
             f"Vervaldatum {invoice.get('vervaldatum', '')}",
             "DigitaleFactuur sandbox"]
    stream = "BT /F1 14 Tf 72 770 Td 18 TL " + " ".join(
        f"({_pdf_text(line)}) Tj T*" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number_, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number_} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode("ascii")
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /ID [<{_pdf_id(invoice)}> "
            f"<{_pdf_id(invoice)}>] >>\nstartxref\n{xref}\n%%EOF\n").encode("ascii")
    return bytes(out)


def _pdf_id(invoice: dict) -> str:
    return hashlib.md5(f"factuur-{invoice.get('id')}".encode(), usedforsecurity=False).hexdigest()
