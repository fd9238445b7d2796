"""The DigitaleFactuur XML format: a `DfKlant` value to and from the bytes on the wire.

This module is the one place that knows what a `<klant>` looks like (see
`shared/digitalefactuur-api.md`). It knows neither HTTP nor Django models: the client hands it
bytes and gets values back.

Reading is generous, because much of the format is assumed rather than documented: element order,
unknown elements, empty or missing elements, surrounding whitespace, a missing XML declaration,
another declared encoding and a byte order mark are all accepted. Reading is also defensive: a
document with a DOCTYPE is refused before it is parsed, so no DTD, entity or external reference
is ever read, and a hostile or broken server cannot make us expand entities or fetch files; no
element may nest deeper than MAX_DEPTH. What passes is parsed by ElementTree's C parser (expat),
whole up to 1 MB, a chunk at a time above that (`parse_root`, `_read_children`; `invoice_schema.py`
reads through the same). A list answer can also be read as it arrives (`KlantenReader`, fed by
the client a part of the body at a time): the same guard, its prolog held until the root element
starts, each klant let go once read and bounded in bytes (MAX_KLANT_BYTES). Everything that
cannot be read raises `SchemaError`.

Writing is strict: documents are built with ElementTree (never by formatting strings), always
UTF-8, and characters XML 1.0 forbids are stripped, each stripping reported as a Dutch warning
that names the field but never shows its value.
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from xml.parsers import expat


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


#: One element of a klant as it came: (local name, stripped text), or (local name, its children)
#: for a nested element such as `<contactpersoon>`; children in the same shape.
Element = tuple[str, "str | tuple[Element, ...]"]


@dataclass(frozen=True, slots=True)
class DfKlant:
    """A klant as DigitaleFactuur knows it: every element we know a plain, stripped string.

    `elements` is the whole klant as it came, every child of `<klant>` but the id in document
    order, the ones we do not know and nested ones included: an update passes them back as they
    came (`klant_to_xml(..., base=...)`), so a value we do not map is never cleared, whatever
    `klant_updaten` does with absent elements. It is no part of the klant's identity (not
    compared, not hashed): two reads with the same values are the same klant.
    """

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
    elements: tuple[Element, ...] = field(default=(), compare=False, repr=False)


#: Every element of a `<klant>` we know, in the order we write them.
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in dataclass_fields(DfKlant)
                                     if f.name != "elements")
_FIELD_SET = frozenset(FIELD_NAMES)
#: What a create or an update sends by default: everything but the id, which the server assigns.
WRITABLE_FIELDS: tuple[str, ...] = tuple(name for name in FIELD_NAMES if name != "id")

# XML 1.0 `Char`: tab, LF, CR, then everything from space up, minus the surrogates and the two
# non-characters U+FFFE and U+FFFF. Anything else makes the document unreadable for the server.
_FORBIDDEN_XML_CHARS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_UTF8_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"

#: Answers up to this size are parsed in one go (a page of 100 klanten is some 50 kB); larger
#: ones are read element by element, so the tree of a huge answer is never held whole.
_WHOLE_PARSE_BYTES = 1024 * 1024
#: A large answer is handed to the parser this much at a time. Small: a chunk's events and
#: elements are let go before the next is parsed, which keeps the garbage collector's passes
#: short (10,000 klanten: 4 kB 0.65 s of CPU, 64 kB 1.0 s, 256 kB 1.6 s).
_CHUNK_BYTES = 4 * 1024
#: No klant document nests this deep; a deeper one is refused before it costs memory.
MAX_DEPTH = 32
#: Nested elements are kept this deep inside a klant; below that their text only.
_KEPT_DEPTH = 4
#: Bytes of a list answer that may arrive without completing a klant (KlantenReader): a klant
#: is some 1 kB; a server sending one of megabytes, or a flood between klanten, is refused.
MAX_KLANT_BYTES = 1024 * 1024
#: Elements one klant may hold; a server inventing millions is refused.
MAX_ELEMENTS_PER_KLANT = 2_000
#: An id is DigitaleFactuur's text, kept as text, but not an unbounded one (the link's column).
MAX_ID_LENGTH = 40
_ID_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


class SchemaError(ValueError):
    """The bytes are not a document of the expected shape (or not safe to read)."""

    def __init__(self, reason: str, *, forbidden: bool = False):
        super().__init__(reason)
        self.reason = reason
        #: True when a forbidden construct was refused (a DOCTYPE: DTD, entity, external
        #: reference).
        self.forbidden = forbidden


# --- reading ------------------------------------------------------------------------------------


# A page repeats the same twenty tags a hundred times; the cache is bounded, so a server
# inventing tags cannot make it grow.
@functools.lru_cache(maxsize=256)
def local_name(tag: object) -> str:
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


class _PrologRead(Exception):
    """The root element has started: the prolog, where a DOCTYPE would have to be, is over."""


class _DoctypeFound(Exception):
    """The prolog declares a DOCTYPE."""


def _prolog_ended(*_arguments) -> None:
    raise _PrologRead


def _doctype_found(*_arguments) -> None:
    raise _DoctypeFound


def _refuse_doctype(data: bytes) -> None:
    """Refuse a document whose prolog declares a DOCTYPE, reading no further than the prolog.

    Entities can only be declared in a DTD, and a DTD or an external reference only through a
    DOCTYPE, which XML allows only before the root element. So a document whose prolog has none
    can neither define an entity nor make a parser fetch anything: ElementTree's C parser may
    then read it (an undeclared `&x;` is a plain syntax error there). This pass is expat in C
    with two handlers, one of which ends it at the root's start tag, so it costs next to
    nothing; it stops at a DOCTYPE's first byte, before any of its declarations is read.
    """
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _doctype_found
    parser.StartElementHandler = _prolog_ended
    try:
        with _read_errors():
            parser.Parse(data, True)
    except _PrologRead:
        return
    except _DoctypeFound:
        raise SchemaError("verboden XML-constructie (DTD)", forbidden=True) from None
    # A prolog this pass cannot read is refused here (SchemaError from _read_errors), never
    # handed to a parser on trust; a document without a root element ends here too.
    raise SchemaError("geen geldige XML (geen hoofdelement)")


@contextmanager
def _read_errors():
    """What a parse raises, as SchemaError."""
    try:
        yield
    except SchemaError:
        raise
    except (ET.ParseError, expat.ExpatError) as error:
        raise SchemaError(f"geen geldige XML ({error})") from None
    except (ValueError, LookupError, UnicodeError, RecursionError) as error:
        # Unknown declared encodings and other decoder trouble surface as these.
        raise SchemaError(f"onleesbare XML ({type(error).__name__})") from None


def _too_deep() -> SchemaError:
    return SchemaError(f"te diep geneste XML (meer dan {MAX_DEPTH} niveaus)")


def _checked_data(body: bytes) -> bytes:
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError("body must be bytes")
    data = _prepare(bytes(body))
    if not data:
        raise SchemaError("leeg antwoord")
    _refuse_doctype(data)
    return data


class _ChildReader:
    """A document fed a chunk at a time to ElementTree's C pull parser; `feed` and `close`
    yield ("root", the root) as it starts, ("child", each child of the root) as it ends, and
    ("end", the root).

    The caller decides what it keeps (`_iter_large` and `KlantenReader` clear each child once
    read). The guard holds while reading, before anything costs memory: no element deeper than
    MAX_DEPTH, and no more than MAX_ELEMENTS_PER_KLANT elements in one child of a `list_root`
    root (None: of any root), or in the whole document under any other root. Only the root's
    children are handed over: a Python step per event is the price of the guard, a yield per
    element would double it. The data fed must have passed `_refuse_doctype`.
    """

    def __init__(self, list_root: str | None = "klanten"):
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._list_root = list_root
        self._depth = self._counted = 0
        self._per_child = False

    def feed(self, data: bytes):
        with _read_errors():
            for offset in range(0, len(data), _CHUNK_BYTES):
                self._parser.feed(data[offset:offset + _CHUNK_BYTES])
                yield from self._guarded(self._parser.read_events())

    def close(self):
        with _read_errors():
            self._parser.close()
            yield from self._guarded(self._parser.read_events())

    def _guarded(self, events):
        # Locals in the loop (a Python step per event): the state is kept between parts.
        depth, counted, per_child = self._depth, self._counted, self._per_child
        try:
            for event, element in events:
                if event == "start":
                    depth += 1
                    counted += 1
                    if depth > MAX_DEPTH:
                        raise _too_deep()
                    if counted > MAX_ELEMENTS_PER_KLANT and depth > 1:
                        raise SchemaError("te veel elementen in één klant")
                    if depth == 1:
                        per_child = (self._list_root is None
                                     or local_name(element.tag) == self._list_root)
                        yield "root", element
                    continue
                depth -= 1
                if depth == 1:
                    if per_child:
                        counted = 0
                    yield "child", element
                elif depth == 0:
                    yield "end", element
        finally:
            self._depth, self._counted, self._per_child = depth, counted, per_child


def _read_children(data: bytes, list_root: str | None = "klanten"):
    """A whole document through `_ChildReader`, `_CHUNK_BYTES` at a time."""
    reader = _ChildReader(list_root)
    yield from reader.feed(data)
    yield from reader.close()


def parse_root(body: bytes) -> ET.Element:
    """The root element of a document from DigitaleFactuur, read safely: no DOCTYPE (so no
    DTD, entity or external reference), no nesting deeper than MAX_DEPTH. Raises SchemaError.

    The whole tree is returned. Up to `_WHOLE_PARSE_BYTES` it is built in one C call and its
    depth checked after (1 MB cannot hold a tree that costs memory, and a Python step per
    element while reading would cost more than the parse); a larger document is read through
    `_read_children`, whose guard holds while reading, each child of the root bounded like a
    klant. (The klanten list does better still: `parse_klanten` lets each klant go once read.)
    """
    data = _checked_data(body)
    if len(data) > _WHOLE_PARSE_BYTES:
        root = None
        for kind, element in _read_children(data, list_root=None):
            if kind == "root":
                root = element
        return root
    with _read_errors():
        root = ET.fromstring(data)  # noqa: S314 - no DOCTYPE: _checked_data refused it
    _check_depth(root)
    return root


def _check_depth(root: ET.Element) -> None:
    """MAX_DEPTH for a tree read whole (iteratively): the bound `_read_children` holds while
    reading, with the same refusal."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        stack.extend((child, depth + 1) for child in node if len(child))


def _element_text(element: ET.Element) -> str:
    if not len(element):  # the usual element: its text is all there is (CDATA included)
        return (element.text or "").strip()
    # itertext: a value wrapped in an unexpected child element still counts.
    return "".join(element.itertext()).strip()


def _as_kept(element: ET.Element, depth: int = 1) -> Element:
    """An element as `DfKlant.elements` keeps it: text, or its children when it has any."""
    name = local_name(element.tag)
    if not len(element):
        return name, (element.text or "").strip()
    if depth >= _KEPT_DEPTH:
        return name, _element_text(element)
    return name, tuple(_as_kept(child, depth + 1) for child in element
                       if local_name(child.tag))


def _klant_from_element(element: ET.Element) -> DfKlant:
    values: dict[str, str] = {}
    kept: list[Element] = []
    for child in element:
        name = local_name(child.tag)
        if not name:  # a comment or processing instruction
            continue
        if len(child):
            text, value = _element_text(child), _as_kept(child)[1]
        else:  # the usual element, read once for both uses
            text = value = (child.text or "").strip()
        # A repeated element keeps its first value.
        if name in _FIELD_SET and name not in values:
            values[name] = text
        if name != "id":
            kept.append((name, value))
    return DfKlant(**values, elements=tuple(kept))


def klant_from_elements(klant_id: str, elements) -> DfKlant:
    """A DfKlant from kept elements (as `DfKlant.elements`, or their JSON lists)."""
    kept = tuple(_frozen(element) for element in elements or ())
    values: dict[str, str] = {}
    for name, value in kept:
        if name in _FIELD_SET and name != "id" and name not in values:
            values[name] = value if isinstance(value, str) else _joined_text(value)
    return DfKlant(id=str(klant_id), **values, elements=kept)


def _frozen(element) -> Element:
    name, value = element
    if isinstance(value, str):
        return str(name), value
    return str(name), tuple(_frozen(child) for child in value)


def _joined_text(children) -> str:
    return "".join(value if isinstance(value, str) else _joined_text(value)
                   for _name, value in children).strip()


def elements_json(klant: DfKlant) -> list:
    """`klant.elements` as JSON lists, for a link's stored source."""
    return [[name, value if isinstance(value, str) else elements_json_children(value)]
            for name, value in klant.elements]


def elements_json_children(children) -> list:
    return [[name, value if isinstance(value, str) else elements_json_children(value)]
            for name, value in children]


def valid_id(klant_id: str) -> bool:
    """An id we can keep: present, at most MAX_ID_LENGTH characters, no spaces or controls."""
    return 0 < len(klant_id) <= MAX_ID_LENGTH and not _ID_FORBIDDEN.search(klant_id)


def _klanten_of_root(root: ET.Element) -> list[DfKlant]:
    name = local_name(root.tag)
    if name == "klant":
        return [_klant_from_element(root)]
    if name != "klanten":
        raise SchemaError(f"onverwacht hoofdelement <{name[:40]}>")
    return [_klant_from_element(child) for child in root if local_name(child.tag) == "klant"]


def _iter_large(data: bytes):
    """The klanten of a large answer, element by element: each `<klant>` is read, turned into a
    DfKlant and dropped from the tree, so memory holds the DfKlanten, not the answer's tree."""
    root = root_name = None
    for kind, element in _read_children(data):
        if kind == "root":
            root, root_name = element, local_name(element.tag)
            if root_name not in ("klanten", "klant"):
                raise SchemaError(f"onverwacht hoofdelement <{root_name[:40]}>")
        elif root_name == "klanten":
            if kind == "child":
                if local_name(element.tag) == "klant":
                    yield _klant_from_element(element)
                root.clear()  # what was read is not kept
        elif kind == "end":
            yield _klant_from_element(element)


class KlantTooLarge(SchemaError):
    """More than `limit` bytes of a list answer arrived without completing a klant."""

    def __init__(self, limit: int):
        super().__init__(f"klant > {limit} bytes", forbidden=True)
        self.limit = limit


class KlantenReader:
    """The klanten of a list answer read as it arrives: `feed` each part of the body as it
    comes and get the klanten it completed, `close` at the end for the last ones.

    The same reading as `parse_klanten`, with the same safety: the prolog is held until the
    root element starts and refused if it declares a DOCTYPE (so no DTD, entity or external
    reference is ever read), the depth and element bounds of `_ChildReader` hold, and each
    `<klant>` is let go once read. What it holds is therefore a klant's worth of the answer,
    whatever the answer's size; `max_klant_bytes` bounds that worth: more bytes arriving
    without a klant completing (one huge klant, a flood of whitespace) raise KlantTooLarge.
    """

    def __init__(self, max_klant_bytes: int = MAX_KLANT_BYTES):
        self.max_klant_bytes = max_klant_bytes
        self._start = b""  # the first bytes, until the document's start can be told
        self._prolog: expat.XMLParserType | None = None  # reads until the root starts
        self._held: list[bytes] | None = []  # the prolog's bytes (None once the root started)
        self._children = _ChildReader()
        self._root = self._root_name = None
        self._pending = 0  # bytes fed since the last klant completed

    def feed(self, data: bytes) -> list[DfKlant]:
        if self._held is not None:
            self._count(len(data))
            data = self._through_prolog(bytes(data))
            if data is None:
                return []
            self._pending = 0  # counted again below, a piece at a time
        klanten = []
        # A piece at a time, so the bound holds to a piece whatever the size of `data`.
        for offset in range(0, len(data), _CHUNK_BYTES):
            piece = data[offset:offset + _CHUNK_BYTES]
            self._count(len(piece))
            found = self._klanten(self._children.feed(piece))
            if found:
                self._pending = 0
                klanten += found
        return klanten

    def close(self) -> list[DfKlant]:
        klanten = []
        if self._held is not None:  # the root element never started
            data = b"".join(self._held) if self._prolog is not None else self._start
            if not data:
                raise SchemaError("leeg antwoord")
            _refuse_doctype(data)  # raises, saying what is wrong with the prolog
            klanten = self._klanten(self._children.feed(data))
        return klanten + self._klanten(self._children.close())

    def _through_prolog(self, data: bytes) -> bytes | None:
        """What to hand to the pull parser once the root element has started (the prolog
        included), else None: `_refuse_doctype`'s pass, fed a part at a time."""
        if self._prolog is None:
            # What a generous reader forgives (`_prepare`) is seen whole: a BOM may be split.
            self._start = _prepare(self._start + data)
            if len(self._start) < 4:
                return None
            data, self._start = self._start, b""
            self._prolog = expat.ParserCreate()
            self._prolog.StartDoctypeDeclHandler = _doctype_found
            self._prolog.StartElementHandler = _prolog_ended
        self._held.append(data)
        try:
            with _read_errors():
                self._prolog.Parse(data, False)
        except _PrologRead:
            held, self._held = b"".join(self._held), None
            return held
        except _DoctypeFound:
            raise SchemaError("verboden XML-constructie (DTD)", forbidden=True) from None
        return None

    def _count(self, size: int) -> None:
        self._pending += size
        if self._pending > self.max_klant_bytes:
            raise KlantTooLarge(self.max_klant_bytes)

    def _klanten(self, events) -> list[DfKlant]:
        klanten = []
        for kind, element in events:
            if kind == "root":
                self._root, self._root_name = element, local_name(element.tag)
                if self._root_name not in ("klanten", "klant"):
                    raise SchemaError(f"onverwacht hoofdelement <{self._root_name[:40]}>")
            elif self._root_name == "klanten":
                if kind == "child":
                    if local_name(element.tag) == "klant":
                        klanten.append(_klant_from_element(element))
                    self._root.clear()  # what was read is not kept
            elif kind == "end":
                klanten.append(_klant_from_element(element))
        return klanten


def parse_klanten(body: bytes) -> list[DfKlant]:
    """Read a `<klanten>` list (also accepts a lone `<klant>` as a list of one)."""
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError("body must be bytes")
    if len(body) > _WHOLE_PARSE_BYTES:
        return list(_iter_large(_checked_data(body)))
    return _klanten_of_root(parse_root(body))


def parse_klant(body: bytes) -> DfKlant:
    """Read the single `<klant>` a write answers (also accepts `<klanten>` holding exactly one)."""
    root = parse_root(body)
    name = local_name(root.tag)
    if name == "klant":
        return _klant_from_element(root)
    if name == "klanten":
        klanten = [child for child in root if local_name(child.tag) == "klant"]
        if len(klanten) == 1:
            return _klant_from_element(klanten[0])
        raise SchemaError(f"verwachtte één <klant>, kreeg er {len(klanten)}")
    raise SchemaError(f"onverwacht hoofdelement <{name[:40]}>")


def parse_write_answer(body: bytes) -> tuple[DfKlant | None, str]:
    """What a `klant_aanmaken` / `klant_updaten` success answered: (the klant or None, its id).

    The answer is not documented anywhere, so every plausible one is read: the `<klant>`, a
    `<klanten>` holding it, only `<id>N</id>`, a bare number, a short text such as `OK`, or an
    empty body. What holds no id gives (None, ""): the caller knows what it sent, and learns
    the id by the relatienummer when it needs one. Forbidden XML is still refused.
    """
    data = _prepare(bytes(body)) if isinstance(body, bytes | bytearray | memoryview) else b""
    if not data.strip():
        return None, ""
    if not data.startswith(b"<"):
        text = data[:64].strip()
        return None, text.decode("ascii") if text.isdigit() else ""
    root = parse_root(data)
    name = local_name(root.tag)
    if name == "klant":
        klant = _klant_from_element(root)
        return klant, klant.id
    if name == "klanten":
        klanten = [child for child in root if local_name(child.tag) == "klant"]
        if len(klanten) == 1:
            klant = _klant_from_element(klanten[0])
            return klant, klant.id
        return None, ""
    if name == "id":
        return None, _element_text(root)
    found = next((child for child in root.iter() if local_name(child.tag) == "id"), None)
    return None, _element_text(found) if found is not None else ""


# --- errors -------------------------------------------------------------------------------------


def _error_start(body: bytes) -> bytes:
    if body.startswith(_UTF8_BOM):
        body = body[len(_UTF8_BOM):]
    return body.lstrip(_WHITESPACE + b"\x0b\x0c")


def is_error_body(body: bytes) -> bool:
    """An API error is a plain-text body whose first three characters are (ASCII) digits.

    A fourth digit makes it a number, not a code: a write answered with a bare id ("133400")
    is no error.
    """
    start = _error_start(bytes(body))[:4]
    return (len(start) >= 3 and all(48 <= byte <= 57 for byte in start[:3])
            and not (len(start) == 4 and 48 <= start[3] <= 57))


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
    klant: DfKlant, *, fields: Iterable[str] | None = None, base: DfKlant | None = None
) -> tuple[bytes, list[str]]:
    """Build the `<klant>` document for `klant_aanmaken` or `klant_updaten`.

    `fields` names the elements to send (default: all but `id`); every named element is sent,
    empty ones too, because for an update an empty element clears the stored value. `<id>` is
    written first whenever `klant.id` is set, so an update carries it and a create (built from a
    klant without id) does not.

    With `base` (the klant as last read), the document is the whole klant: every element of
    `base.elements` in its order, passed back as it came (unknown and nested ones included),
    with only the elements in `fields` set from `klant`; those the base lacks follow at the end.
    Whether `klant_updaten` leaves absent elements alone or clears them is not documented, so an
    update never leaves anything out.

    Every value of `fields` is sent as `normalise_value` makes it (forbidden characters stripped,
    LF line ends, no surrounding whitespace), so what is sent is exactly what will be read back.
    Returns the UTF-8 document and the Dutch warnings about stripped characters.
    """
    names = WRITABLE_FIELDS if fields is None else tuple(fields)
    unknown = [name for name in names if name not in FIELD_NAMES]
    if unknown:
        raise ValueError(f"unknown klant fields: {unknown}")
    warnings: list[str] = []
    root = ET.Element("klant")
    if klant.id:
        ET.SubElement(root, "id").text = _clean("id", klant.id, warnings)
    owned = [n for n in names if n != "id"]
    written: set[str] = set()
    for name, value in base.elements if base is not None else ():
        if name == "id" or not _XML_NAME.match(name):
            continue
        if name in owned:
            if name in written:
                continue  # a repeated element we set: once is what we mean
            written.add(name)
            ET.SubElement(root, name).text = _owned_value(klant, name, warnings)
        else:
            _append_kept(root, name, value)
    for name in owned:
        if name not in written:
            ET.SubElement(root, name).text = _owned_value(klant, name, warnings)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True), warnings


#: What may be an element's name when we write it back (local names only).
_XML_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")


def _owned_value(klant: DfKlant, name: str, warnings: list[str]) -> str:
    value = getattr(klant, name)
    if not isinstance(value, str):
        raise TypeError(f"DfKlant.{name} must be a str")
    return _clean(name, value, warnings)


def _append_kept(parent: ET.Element, name: str, value) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, str):
        element.text = _FORBIDDEN_XML_CHARS.sub("", value)
        return
    for child_name, child_value in value:
        if _XML_NAME.match(child_name):
            _append_kept(element, child_name, child_value)
