"""DigitaleFactuur's facturen: the bytes of `facturen` and `factuur_download` to values.

The invoice counterpart of `schema.py`, and like it without HTTP or Django models. Public sources
name the elements (`shared/digitalefactuur-api.md`, "Other resources") but not the document, so
reading is generous: elements by local name (namespace and case ignored), in any order, with
whitespace and CDATA, `<factuurregel>` anywhere inside a `<factuur>` (directly or wrapped in
`<factuurregels>`), a missing XML declaration, a declared ISO-8859-1. It is also defensive, by
reading through `schema.parse_root` like every answer: no DTD, entity or external reference, no
nesting past the depth bound; anything unreadable raises `schema.SchemaError`, which the client
turns into its own errors.

Values as the public sources show them in more than one form:

- dates as `02-06-2010` (day first) or `2010-06-02` (ISO), a time after them ignored; anything
  else is no date (None), never a guess;
- `btw` as a fraction (`0.210`) or a percentage (`21`): a value above 1 is a percentage;
- numbers with a decimal point or a Dutch decimal comma (`12,50`, `1.234,56`).

An invoice's amount is computed here, never read: per line quantity x price x (1 + VAT), rounded
to cents (ROUND_HALF_UP), then summed; the screens mark it "berekend". Prices are taken to be
excluding VAT (the public examples send `prijs` beside `btw`). A credit note simply has negative
lines. An invoice whose lines cannot be read is not returned but counted (`unreadable`): a wrong
amount on the screen is worse than none.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .schema import SchemaError, local_name, parse_root

CENT = Decimal("0.01")
OPEN = "openstaand"
PAID = "betaald"
_TRUE_WORDS = frozenset({"1", "ja", "j", "true", "yes", "y", "on", "waar"})
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DUTCH_DATE = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})")
_PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True, slots=True)
class DfInvoiceLine:
    quantity: Decimal
    description: str
    price: Decimal
    #: VAT as a fraction (0.21), whichever way it came.
    vat: Decimal

    @property
    def amount(self) -> Decimal:
        """quantity x price x (1 + VAT), rounded to cents, half up."""
        return (self.quantity * self.price * (1 + self.vat)).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class DfInvoice:
    id: str
    klant_id: str
    status: str
    number: str
    invoice_date: date | None
    due_date: date | None
    direct_debit: bool
    lines: tuple[DfInvoiceLine, ...] = ()

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


@dataclass
class InvoicePage:
    invoices: list[DfInvoice] = field(default_factory=list)
    #: `<factuur>` elements that could not be read (no id, unreadable lines).
    unreadable: int = 0


@dataclass
class InvoiceListing:
    """How one read of the facturen list went."""

    pages: int = 0
    read: int = 0
    repeated: int = 0
    unreadable: int = 0
    ended_by_repeat: bool = False
    first_size: int = 0


# --- values -------------------------------------------------------------------------------------


def parse_date(text: str) -> date | None:
    """`02-06-2010` or `2010-06-02` (a time after it ignored); None for anything else."""
    text = (text or "").strip()
    try:
        if found := _ISO_DATE.match(text):
            year, month, day = found.groups()
            return date(int(year), int(month), int(day))
        if found := _DUTCH_DATE.match(text):
            day, month, year = found.groups()
            return date(int(year), int(month), int(day))
    except ValueError:
        return None
    return None


def parse_decimal(text: str) -> Decimal:
    """`12.50`, `12,50`, `1.234,56`, `-49.95` -> Decimal; ValueError when it is no number."""
    value = (text or "").strip().replace(" ", "").replace("\u00a0", "")
    if "," in value:
        value = value.replace(".", "").replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError("geen getal") from None
    if not number.is_finite():
        raise ValueError("geen eindig getal")
    return number


def parse_vat(text: str) -> Decimal:
    """A fraction (`0.210`) or a percentage (`21`) as a fraction: above 1 is a percentage."""
    if not (text or "").strip():
        return Decimal("0")
    rate = parse_decimal(text)
    return rate / 100 if rate > 1 else rate


def parse_flag(text: str) -> bool:
    return (text or "").strip().lower() in _TRUE_WORDS


# --- documents ----------------------------------------------------------------------------------


def _text(element) -> str:
    if not len(element):  # the usual leaf: its text is all there is (CDATA included)
        return (element.text or "").strip()
    # A value wrapped in an unexpected child element still counts.
    return "".join(element.itertext()).strip()


def _line(element) -> DfInvoiceLine:
    values = {local_name(child.tag): _text(child) for child in element}
    return DfInvoiceLine(quantity=parse_decimal(values.get("aantal", "") or "1"),
                         description=values.get("omschrijving", ""),
                         price=parse_decimal(values.get("prijs", "")),
                         vat=parse_vat(values.get("btw", "")))


def invoice_from_element(element) -> DfInvoice:
    """One `<factuur>`; ValueError when it has no id or a line cannot be read."""
    values: dict[str, str] = {}
    lines = []
    for child in element:
        name = local_name(child.tag)
        if name == "factuurregel":
            lines.append(_line(child))
        elif len(child):
            # A wrapper (`<factuurregels>`) or something we do not know: only its lines count,
            # so an `<id>` inside a line is never taken for the invoice's.
            lines.extend(_line(inner) for inner in child.iter()
                         if inner is not child and local_name(inner.tag) == "factuurregel")
        elif name not in values:
            values[name] = _text(child)
    invoice_id = values.get("id", "")
    if not invoice_id or len(invoice_id) > 40:
        raise ValueError("factuur zonder id")
    return DfInvoice(
        id=invoice_id,
        klant_id=values.get("klant_id", ""),
        status=values.get("betaalstatus", "").lower(),
        number=values.get("factuurnummer_voorloop", "") + values.get("factuurnummer", ""),
        invoice_date=parse_date(values.get("factuurdatum", "")),
        due_date=parse_date(values.get("vervaldatum", "")),
        direct_debit=parse_flag(values.get("automatische_incasso", "")),
        lines=tuple(lines),
    )


def parse_facturen(body: bytes) -> InvoicePage:
    """A `<facturen>` list (or a lone `<factuur>`); invoices that cannot be read are counted."""
    root = parse_root(body)
    name = local_name(root.tag)
    if name == "factuur":
        elements = [root]
    elif name == "facturen":
        elements = [child for child in root if local_name(child.tag) == "factuur"]
    else:
        raise SchemaError(f"onverwacht hoofdelement <{name[:40]}>")
    page = InvoicePage()
    for element in elements:
        try:
            page.invoices.append(invoice_from_element(element))
        except ValueError:
            page.unreadable += 1
    return page


def parse_invoice_pdf(body: bytes) -> bytes:
    """The PDF in a `factuur_download&download_type=base64` answer: the base64 text alone, or
    an XML document holding it in some element (the longest text that decodes to a PDF)."""
    data = bytes(body).lstrip(b"\xef\xbb\xbf \t\r\n")
    candidates: list[str]
    if data.startswith(b"<"):
        root = parse_root(data)
        candidates = sorted((_text(element) for element in root.iter() if not len(element)),
                            key=len, reverse=True)
    else:
        candidates = [data.decode("ascii", errors="replace")]
    for text in candidates:
        try:
            pdf = base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            continue
        if pdf.startswith(_PDF_MAGIC):
            return pdf
    raise SchemaError("het antwoord bevat geen PDF")
