"""The sandbox's own reading and writing of DigitaleFactuur's XML and error bodies.

This module is the sandbox's half of `shared/digitalefactuur-api.md`; the client has the other
half and, by design, no code is shared between them, so a misreading of the page shows up as a
failing test instead of hiding on both sides.

A klant travels as a `<klant>` element whose children are the elements of `KLANT_ELEMENTS`.
The sandbox answers every known element for every klant, empty ones as empty elements, so a
client sees the whole ASSUMED shape. Incoming documents are parsed with defusedxml, which refuses
any DOCTYPE and entity declaration: hostile XML is answered with a 422 and never expanded.

The sandbox is deliberately stricter than the real service may be about what it receives: an
element it does not know, a repeated element or a nested one is a 422 naming the element, so a
client that misspells a name learns it here rather than losing the value silently. Leading and
trailing whitespace of incoming values is stripped before the field limits are applied.

An error is a plain-text body `NNN message` (`ApiError`), sent with HTTP 200 as the page says.
"""

from __future__ import annotations

# ElementTree only builds outgoing XML; incoming XML goes through defusedxml.
import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as safe_fromstring

# The order in which the sandbox writes a klant's elements; the client must not rely on it.
KLANT_ELEMENTS = (
    "id",
    "relatienummer",
    "type",
    "naam",
    "contactpersoon_naam",
    "contactpersoon_afdeling",
    "contactpersoon_email",
    "adres",
    "postcode",
    "plaats",
    "land",
    "faxnummer",
    "iban",
    "bic",
    "kvk_nummer",
    "btw_nummer",
    "email",
    "telefoonnummer",
    "rekeningnummer",
    "tenaamstelling",
)
# Everything a client may write; the id is assigned by the sandbox.
VALUE_ELEMENTS = KLANT_ELEMENTS[1:]
KLANT_TYPES = ("debiteur", "crediteur")

# The limits the API page says the sandbox enforces (characters, after stripping).
MAX_LENGTHS = {"naam": 100, "adres": 100, "postcode": 10, "plaats": 60}
# A guard against a client streaming megabytes into a single form field.
MAX_DOCUMENT_BYTES = 256 * 1024

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


class ApiError(Exception):
    """A refusal the API answers as a plain-text body `NNN message`."""

    def __init__(self, code: int, message: str, retry_after: int | None = None):
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def body(self) -> bytes:
        return f"{self.code} {self.message}".encode()


def field_error(element: str, problem: str) -> ApiError:
    """A 422 whose message begins with the element's name, as the page asks."""
    return ApiError(422, f"{element}: {problem}")


def parse_klant(document: str) -> dict[str, str]:
    """The elements present in a `<klant>` document, as stripped text ('' for an empty one).

    Absent elements are absent from the result: `klant_updaten` leaves those unchanged.
    """
    raw = document.encode("utf-8")
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise field_error("xml", f"document groter dan {MAX_DOCUMENT_BYTES} bytes")
    try:
        root = safe_fromstring(raw, forbid_dtd=True, forbid_entities=True,
                               forbid_external=True)
    except DefusedXmlException as refused:
        raise field_error("xml", f"DOCTYPE en entiteiten zijn niet toegestaan "
                                 f"({type(refused).__name__})") from None
    except ParseError as broken:
        raise field_error("xml", f"niet goed gevormd ({broken})") from None
    if root.tag != "klant":
        raise field_error("xml", f"hoofdelement moet <klant> zijn, niet <{root.tag}>")
    values: dict[str, str] = {}
    for child in root:
        name = child.tag
        if name not in KLANT_ELEMENTS:
            raise field_error(name, "onbekend element")
        if name in values:
            raise field_error(name, "komt meer dan eens voor")
        if len(child):
            raise field_error(name, "mag geen elementen bevatten")
        values[name] = (child.text or "").strip()
    return values


def validate_values(values: dict[str, str], *, creating: bool) -> None:
    """Apply the page's field limits to the elements present; a 422 names the first offender."""
    if creating and not values.get("naam"):
        raise field_error("naam", "verplicht (1 tot 100 tekens)")
    if "naam" in values and not values["naam"]:
        raise field_error("naam", "mag niet leeg zijn (1 tot 100 tekens)")
    for element, limit in MAX_LENGTHS.items():
        if len(values.get(element, "")) > limit:
            raise field_error(element, f"langer dan {limit} tekens")
    number = values.get("relatienummer", "")
    if number and not (number.isascii() and number.isdigit()):
        raise field_error("relatienummer", "alleen cijfers toegestaan")
    kind = values.get("type", "")
    if kind and kind not in KLANT_TYPES:
        raise field_error("type", "moet 'debiteur' of 'crediteur' zijn")


def parse_klant_id(text: str, element: str) -> int:
    if not text:
        raise field_error(element, "verplicht")
    if not (text.isascii() and text.isdigit()):
        raise field_error(element, "moet een getal zijn")
    return int(text)


def _klant_element(klant: dict) -> ET.Element:
    element = ET.Element("klant")
    for name in KLANT_ELEMENTS:
        # An empty element rather than a missing one: clients see the whole assumed shape.
        ET.SubElement(element, name).text = str(klant.get(name, "") or "")
    return element


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    # The declaration is written by hand so it reads exactly as on the page (double quotes,
    # "UTF-8"); ElementTree's own uses single quotes and a lower-case encoding name.
    return XML_DECLARATION + ET.tostring(root, encoding="unicode").encode("utf-8") + b"\n"


def klant_document(klant: dict) -> bytes:
    """One `<klant>`, as answered by klant_aanmaken, klant_updaten and klant_verwijderen."""
    return _serialise(_klant_element(klant))


def klanten_document(klanten: list[dict]) -> bytes:
    """The `<klanten>` list; an empty list is `<klanten />`, which ends a client's paging."""
    root = ET.Element("klanten")
    root.extend(_klant_element(klant) for klant in klanten)
    return _serialise(root)
