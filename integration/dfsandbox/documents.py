"""The sandbox's own reading and writing of DigitaleFactuur's XML and error bodies.

This module is the sandbox's half of `shared/digitalefactuur-api.md`; the client has the other
half and, by design, no code is shared between them, so a misreading of the page shows up as a
failing test instead of hiding on both sides.

A klant travels as a `<klant>` element. Its children are the elements of `KLANT_ELEMENTS`, which
the sandbox answers for every klant (empty ones as empty elements, so a client sees the whole
ASSUMED shape), followed by any further elements the klant carries: the real list is wider than
what we map (`mobiel`, `aanhef`, `soort`, `mandaat_kenmerk`, ...), and holds one level of
nesting (`<contactpersoon>` with `<id>`, `<naam>`, `<email>` ...). In a klant dict such an
extra element is a string, a nested one a dict of child name to text, in document order.

Incoming documents are parsed with defusedxml, which refuses any DOCTYPE and entity declaration:
hostile XML is answered with a 422 and never expanded. Writes accept extra elements, nested ones
included, as the real service stores them; what is truly malformed is a 422 naming the element:
a repeated element (at the top or inside a nested one), nesting deeper than one level, text
beside child elements, a known element (`naam`, `iban`, ...) holding elements, and a name that is
not a lowercase identifier (`Naam`, `e-mail`, a namespace), so a client's case slip shows here
rather than vanishing. The read-only `gewijzigd_door` the wild documents carry is accepted and
ignored. Leading and trailing whitespace of incoming values is stripped before the field limits
are applied.

Two document readings (`readings.Readings.documents`) shape every answer: `tidy` (UTF-8, indented,
a fixed order) and `wild` (ISO-8859-1 with character references beyond latin-1, a per-klant
shuffled order that is the same on every read, self-closed empty elements, CDATA around `naam`
and `adres`, whitespace and newlines around values, the extra read-only `gewijzigd_door`).

An error is a plain-text body `NNN message` (`ApiError`), sent with HTTP 200 as the page says.
"""

from __future__ import annotations

import hashlib
import re

# ElementTree only builds outgoing XML; incoming XML goes through defusedxml.
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

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
WILD_DECLARATION = '<?xml version="1.0" encoding="ISO-8859-1"?>'
XML_TYPE = "application/xml; charset=utf-8"
WILD_XML_TYPE = "application/xml; charset=ISO-8859-1"

# Names the real service might use for what we do not map: lowercase identifiers.
ELEMENT_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
# Shown in wild documents only, never stored: writes that echo it back lose nothing.
READ_ONLY_ELEMENT = "gewijzigd_door"
READ_ONLY_VALUE = "sandbox"
# Wild documents wrap these in CDATA (when the value allows it).
CDATA_ELEMENTS = ("naam", "adres")
# What may stand around a value in a wild document: (before, after).
WILD_PADDING = (("", ""), (" ", " "), ("\n      ", "\n    "), ("\t", ""), ("\n", "\n"),
                ("  ", "\n  "))


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


def _checked_name(name: object, where: str = "") -> str:
    if not isinstance(name, str) or not ELEMENT_NAME.match(name):
        shown = f"{where}{name}" if isinstance(name, str) else f"{where}?"
        raise field_error(shown, "geen geldige elementnaam (kleine letters, cijfers en _)")
    return name


def _nested_value(parent: ET.Element) -> dict[str, str]:
    """The children of a nested element as name -> stripped text; one level, no repeats."""
    name = parent.tag
    if (parent.text or "").strip() or any((child.tail or "").strip() for child in parent):
        raise field_error(name, "tekst naast elementen is niet toegestaan")
    children: dict[str, str] = {}
    for child in parent:
        child_name = _checked_name(child.tag, f"{name}.")
        if child_name in children:
            raise field_error(name, f"<{child_name}> komt meer dan eens voor")
        if len(child):
            raise field_error(name, f"<{child_name}> mag geen elementen bevatten "
                                    "(hooguit één niveau)")
        children[child_name] = (child.text or "").strip()
    return children


def parse_klant(document: str) -> dict[str, str | dict[str, str]]:
    """The elements present in a `<klant>` document: stripped text ('' for an empty one), or a
    dict for a nested element.

    Absent elements are absent from the result: `klant_updaten` under the `merge` reading leaves
    those unchanged.
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
    values: dict[str, str | dict[str, str]] = {}
    for child in root:
        name = _checked_name(child.tag)
        if name == READ_ONLY_ELEMENT:
            continue
        if name in values:
            raise field_error(name, "komt meer dan eens voor")
        if len(child):
            if name in KLANT_ELEMENTS:
                raise field_error(name, "mag geen elementen bevatten")
            values[name] = _nested_value(child)
        else:
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


def klant_items(klant: dict) -> list[tuple[str, str | dict[str, str]]]:
    """A klant's elements in the tidy order: every known one, then its extras as stored."""
    items: list[tuple[str, str | dict[str, str]]] = [
        (name, str(klant.get(name, "") or "")) for name in KLANT_ELEMENTS]
    for name, value in klant.items():
        if name not in KLANT_ELEMENTS:
            items.append((name, dict(value) if isinstance(value, dict) else str(value)))
    return items


# --- tidy: UTF-8, indented, a fixed order -----------------------------------------------------

def _klant_element(klant: dict) -> ET.Element:
    element = ET.Element("klant")
    for name, value in klant_items(klant):
        child = ET.SubElement(element, name)
        if isinstance(value, dict):
            for child_name, text in value.items():
                ET.SubElement(child, child_name).text = text
        else:
            # An empty element rather than a missing one: clients see the whole assumed shape.
            child.text = value
    return element


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    # The declaration is written by hand so it reads exactly as on the page (double quotes,
    # "UTF-8"); ElementTree's own uses single quotes and a lower-case encoding name.
    return XML_DECLARATION + ET.tostring(root, encoding="unicode").encode("utf-8") + b"\n"


# --- wild: ISO-8859-1, shuffled, CDATA, self-closed, padded -------------------------------------

def _draw(klant_id: object, name: str, purpose: str) -> int:
    """A number fixed by the klant id and the element: the same document on every read, and an
    element keeps its place when others are added or removed."""
    digest = hashlib.blake2b(f"{klant_id}/{name}/{purpose}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _latin1(text: str) -> bool:
    try:
        text.encode("iso-8859-1")
    except UnicodeEncodeError:
        return False
    return True


def _wild_text(klant_id: object, name: str, text: str) -> str:
    if not text:
        return ""
    before, after = WILD_PADDING[_draw(klant_id, name, "padding") % len(WILD_PADDING)]
    # Character references mean nothing inside CDATA: only latin-1 text can be wrapped.
    if name in CDATA_ELEMENTS and _latin1(text) and "]]>" not in text:
        return f"{before}<![CDATA[{text}]]>{after}"
    return f"{before}{escape(text)}{after}"


def _wild_element(klant_id: object, name: str, value: str | dict[str, str],
                  indent: str) -> str:
    if isinstance(value, dict):
        if not value:
            return f"{indent}<{name}/>"
        children = sorted(value, key=lambda child: _draw(klant_id, f"{name}.{child}", "order"))
        inner = "\n".join(_wild_element(klant_id, child, value[child], indent + "  ")
                          for child in children)
        return f"{indent}<{name}>\n{inner}\n{indent}</{name}>"
    text = _wild_text(klant_id, name, value)
    return f"{indent}<{name}>{text}</{name}>" if text else f"{indent}<{name}/>"


def _wild_klant(klant: dict, indent: str) -> str:
    klant_id = klant.get("id", "")
    items = [*klant_items(klant), (READ_ONLY_ELEMENT, READ_ONLY_VALUE)]
    items.sort(key=lambda item: _draw(klant_id, item[0], "order"))
    inner = "\n".join(_wild_element(klant_id, name, value, indent + "  ")
                      for name, value in items)
    return f"{indent}<klant>\n{inner}\n{indent}</klant>"


def _wild_serialise(root: str) -> bytes:
    document = f"{WILD_DECLARATION}\n{root}\n"
    # Element names are ASCII and CDATA holds only latin-1, so every reference is in a text.
    return document.encode("iso-8859-1", "xmlcharrefreplace")


# --- the documents the API answers --------------------------------------------------------------

def document_type(wild: bool) -> str:
    """The Content-Type of an XML answer: its charset matches the declaration."""
    return WILD_XML_TYPE if wild else XML_TYPE


def klant_document(klant: dict, *, wild: bool = False) -> bytes:
    """One `<klant>`, as klant_aanmaken and klant_updaten answer it (the `klant` write answer)
    and as klant_verwijderen answers it."""
    if wild:
        return _wild_serialise(_wild_klant(klant, ""))
    return _serialise(_klant_element(klant))


def klanten_document(klanten: list[dict], *, wild: bool = False) -> bytes:
    """The `<klanten>` list; an empty list is `<klanten />`, which ends a client's paging."""
    if wild:
        if not klanten:
            return _wild_serialise("<klanten/>")
        inner = "\n".join(_wild_klant(klant, "  ") for klant in klanten)
        return _wild_serialise(f"<klanten>\n{inner}\n</klanten>")
    root = ET.Element("klanten")
    root.extend(_klant_element(klant) for klant in klanten)
    return _serialise(root)


def id_document(klant_id: int, *, wild: bool = False) -> bytes:
    """Only `<id>N</id>`: the `id` write answer."""
    if wild:
        return _wild_serialise(f"<id>{_wild_text(klant_id, 'id', str(klant_id))}</id>")
    return XML_DECLARATION + f"<id>{klant_id}</id>\n".encode()
