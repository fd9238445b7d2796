"""The DigitaleFactuur XML format: a `DfKlant` value to and from the bytes on the wire.

This module is the one place that knows what a `<klant>` looks like (see
`shared/digitalefactuur-api.md`). It knows neither HTTP nor Django models: the client hands it
bytes and gets values back.

Reading is generous, because much of the format is assumed rather than documented: element order,
unknown elements, empty or missing elements, surrounding whitespace, a missing XML declaration,
another declared encoding and a byte order mark are all accepted. Reading is also defensive:
defusedxml refuses DTDs, entities and external references, so a hostile or broken server cannot
make us expand entities or fetch files. Everything that cannot be read raises `SchemaError`.

Writing is strict: documents are built with ElementTree (never by formatting strings), always
UTF-8, and characters XML 1.0 forbids are stripped, each stripping reported as a Dutch warning
that names the field but never shows its value.
"""

from __future__ import annotations

import functools
import re

# ElementTree only builds documents here; everything from outside is parsed by defusedxml.
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields

import defusedxml
import defusedxml.ElementTree as SafeET


def _(message: str) -> str:
    """Translate through Django when it is configured; plain Dutch otherwise.

    The schema must stay usable without Django (benchmarks, scripts), yet its warnings are shown
    to the administrator, so they go through gettext whenever Django can provide it.
    """
    try:
        from django.utils.translation import gettext

        return gettext(message)
    except Exception:  # ImproperlyConfigured or no Django at all: Dutch is the source language
        return message


@dataclass(frozen=True, slots=True)
class DfKlant:
    """A klant as DigitaleFactuur knows it: every element a plain, stripped string."""

    id: str = ""
    relatienummer: str = ""
    type: str = ""
    naam: str = ""
    contactpersoon_naam: str = ""
    contactpersoon_afdeling: str = ""
    contactpersoon_email: str = ""
    adres: str = ""
    postcode: str = ""
    plaats: str = ""
    land: str = ""
    faxnummer: str = ""
    iban: str = ""
    bic: str = ""
    kvk_nummer: str = ""
    btw_nummer: str = ""
    email: str = ""
    telefoonnummer: str = ""
    rekeningnummer: str = ""
    tenaamstelling: str = ""


#: Every element of a `<klant>`, in the order we write them.
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in dataclass_fields(DfKlant))
_FIELD_SET = frozenset(FIELD_NAMES)
#: What a create or an update sends by default: everything but the id, which the server assigns.
WRITABLE_FIELDS: tuple[str, ...] = tuple(name for name in FIELD_NAMES if name != "id")

# XML 1.0 `Char`: tab, LF, CR, then everything from space up, minus the surrogates and the two
# non-characters U+FFFE and U+FFFF. Anything else makes the document unreadable for the server.
_FORBIDDEN_XML_CHARS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_UTF8_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"


class SchemaError(ValueError):
    """The bytes are not a document of the expected shape (or not safe to read)."""

    def __init__(self, reason: str, *, forbidden: bool = False):
        super().__init__(reason)
        self.reason = reason
        #: True when defusedxml refused a construct (DTD, entity, external reference).
        self.forbidden = forbidden


# --- reading ------------------------------------------------------------------------------------


# A page repeats the same twenty tags a hundred times; the cache is bounded, so a server
# inventing tags cannot make it grow.
@functools.lru_cache(maxsize=256)
def _local_name(tag: object) -> str:
    """`{namespace}Naam` -> `naam`: a namespace or capitalisation must not hide a field."""
    if not isinstance(tag, str):  # comments and processing instructions
        return ""
    return tag.rsplit("}", 1)[-1].strip().lower()


def _prepare(body: bytes) -> bytes:
    """Remove what a generous reader forgives but expat does not: whitespace before the start.

    A UTF-8 BOM followed by whitespace, or whitespace before `<?xml`, is a fatal error for expat.
    Other BOMs (UTF-16/32) are left alone: expat reads them itself.
    """
    if body.startswith(_UTF8_BOM):
        body = body[len(_UTF8_BOM):]
    return body.lstrip(_WHITESPACE)


def _parse_root(body: bytes) -> ET.Element:
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError("body must be bytes")
    data = _prepare(bytes(body))
    if not data:
        raise SchemaError("leeg antwoord")
    try:
        return SafeET.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException as exc:
        raise SchemaError(f"verboden XML-constructie ({type(exc).__name__})",
                          forbidden=True) from None
    except ET.ParseError as exc:
        raise SchemaError(f"geen geldige XML ({exc})") from None
    except (ValueError, LookupError, UnicodeError, RecursionError) as exc:
        # Unknown declared encodings and other decoder trouble surface as these.
        raise SchemaError(f"onleesbare XML ({type(exc).__name__})") from None


def _element_text(element: ET.Element) -> str:
    if not len(element):  # the usual element: its text is all there is (CDATA included)
        return (element.text or "").strip()
    # itertext: a value wrapped in an unexpected child element still counts.
    return "".join(element.itertext()).strip()


def _klant_from_element(element: ET.Element) -> DfKlant:
    values: dict[str, str] = {}
    for child in element:
        name = _local_name(child.tag)
        # Unknown elements are ignored; a repeated element keeps its first value.
        if name in _FIELD_SET and name not in values:
            values[name] = _element_text(child)
    return DfKlant(**values)


def parse_klanten(body: bytes) -> list[DfKlant]:
    """Read a `<klanten>` list (also accepts a lone `<klant>` as a list of one)."""
    root = _parse_root(body)
    name = _local_name(root.tag)
    if name == "klant":
        return [_klant_from_element(root)]
    if name != "klanten":
        raise SchemaError(f"onverwacht hoofdelement <{name[:40]}>")
    return [_klant_from_element(child) for child in root if _local_name(child.tag) == "klant"]


def parse_klant(body: bytes) -> DfKlant:
    """Read the single `<klant>` a write answers (also accepts `<klanten>` holding exactly one)."""
    root = _parse_root(body)
    name = _local_name(root.tag)
    if name == "klant":
        return _klant_from_element(root)
    if name == "klanten":
        klanten = [child for child in root if _local_name(child.tag) == "klant"]
        if len(klanten) == 1:
            return _klant_from_element(klanten[0])
        raise SchemaError(f"verwachtte één <klant>, kreeg er {len(klanten)}")
    raise SchemaError(f"onverwacht hoofdelement <{name[:40]}>")


# --- errors -------------------------------------------------------------------------------------


def _error_start(body: bytes) -> bytes:
    if body.startswith(_UTF8_BOM):
        body = body[len(_UTF8_BOM):]
    return body.lstrip(_WHITESPACE + b"\x0b\x0c")


def is_error_body(body: bytes) -> bool:
    """An API error is a plain-text body whose first three characters are (ASCII) digits."""
    start = _error_start(bytes(body))[:3]
    return len(start) == 3 and all(48 <= byte <= 57 for byte in start)


def parse_error(body: bytes) -> tuple[int, str]:
    """`b"422 naam is te lang"` -> `(422, "naam is te lang")`; raises SchemaError otherwise."""
    data = _error_start(bytes(body))
    if not is_error_body(data):
        raise SchemaError("geen foutmelding")
    # The message is for a human log: undecodable bytes become U+FFFD, control characters go,
    # and its length is capped so a runaway body cannot flood the sync log.
    text = data[3:3 + 4000].decode("utf-8", errors="replace")
    text = _FORBIDDEN_XML_CHARS.sub("", text)
    message = " ".join(text.split()).lstrip(":-– ").strip()
    return int(data[:3]), message[:500]


# --- writing ------------------------------------------------------------------------------------


def normalise_value(value: str) -> str:
    """The value as the other side will read it back: what a round trip cannot change.

    Forbidden characters are gone, line ends are LF (an XML parser turns CR and CRLF into LF
    anyway) and surrounding whitespace is stripped (our reader strips it). The sync engine compares
    both sides in this form, so that a value never looks changed merely by travelling.
    """
    cleaned = _FORBIDDEN_XML_CHARS.sub("", value)
    return cleaned.replace("\r\n", "\n").replace("\r", "\n").strip()


def normalised(klant: DfKlant) -> DfKlant:
    """`klant` with every field passed through `normalise_value`."""
    return DfKlant(**{name: normalise_value(getattr(klant, name)) for name in FIELD_NAMES})


def _clean(field: str, value: str, warnings: list[str]) -> str:
    removed = len(_FORBIDDEN_XML_CHARS.findall(value))
    if removed:
        # The count and the field, never the value: it may be personal data.
        warnings.append(
            _("Veld '%(field)s': %(count)d teken(s) verwijderd die XML niet toestaat "
              "(stuurtekens).") % {"field": field, "count": removed}
        )
    return normalise_value(value)


def klant_to_xml(
    klant: DfKlant, *, fields: Iterable[str] | None = None
) -> tuple[bytes, list[str]]:
    """Build the `<klant>` document for `klant_aanmaken` or `klant_updaten`.

    `fields` names the elements to send (default: all but `id`); every named element is sent,
    empty ones too, because for an update an empty element clears the stored value and an absent
    one leaves it alone. `<id>` is written first whenever `klant.id` is set, so an update carries
    it and a create (built from a klant without id) does not.

    Every value is sent as `normalise_value` makes it (forbidden characters stripped, LF line
    ends, no surrounding whitespace), so what is sent is exactly what will be read back.
    Returns the UTF-8 document and the Dutch warnings about stripped characters.
    """
    names = WRITABLE_FIELDS if fields is None else tuple(fields)
    unknown = [name for name in names if name not in FIELD_NAMES]
    if unknown:
        raise ValueError(f"unknown klant fields: {unknown}")
    warnings: list[str] = []
    root = ET.Element("klant")
    ordered = (["id"] if klant.id else []) + [n for n in names if n != "id"]
    for name in ordered:
        value = getattr(klant, name)
        if not isinstance(value, str):
            raise TypeError(f"DfKlant.{name} must be a str")
        ET.SubElement(root, name).text = _clean(name, value, warnings)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True), warnings
