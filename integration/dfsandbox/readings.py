"""Readings: the ways the real service may behave where public sources leave it open.

`shared/digitalefactuur-api.md` ("What public sources confirm, refute or leave open") lists the
points no public example settles. The connector must be correct under every plausible reading of
each, so the sandbox plays each reading on demand, one field per open point, independently of
the others. The defaults are the readings the API page ASSUMED, so a sandbox started without
flags behaves as before.

- `listing`, how `GET klanten&page=N` pages:
  - `paged` (default): `page` from 1, `page_size` klanten a page ordered by id; a page past the
    end is an empty `<klanten/>`.
  - `unpaged`: every call answers every klant, whatever `page` says (the public examples read
    `klanten` without any `page`).
  - `repeat_last`: paged, but a page past the end repeats the last non-empty page (a service
    that clamps the page number); a client stopping only at an empty page would never stop.
- `page_size`: klanten per page in `paged` and `repeat_last` (default 100, at least 1).
- `number_filter`, how `klanten&relatienummer=N` is treated (no public source documents it):
  - `honoured` (default): the answer holds every klant with that number, duplicates included,
    ordered by id and never paged.
  - `ignored`: the answer is exactly what the same request without the filter would be: page
    `page` (or 1) of the listing as `listing` plays it.
- `write_answer`, what `klant_aanmaken` and `klant_updaten` answer on success (not shown
  anywhere): `klant` (default, the `<klant>`), `klanten` (a `<klanten>` holding that one klant),
  `id` (a document that is only `<id>N</id>`), `text` (the plain text `OK`), `empty` (an empty
  body). Errors are `NNN message` bodies in every reading.
- `update`, what `klant_updaten` does with elements the document leaves out (undocumented):
  - `merge` (default): an absent element is left as it was.
  - `clear`: the stored klant becomes exactly what was sent; every absent element, known or
    extra, is cleared (known ones become empty, extra and nested ones are removed).
- `duplicates`, a relatienummer already in use on create or update:
  - `refused` (default): a 409.
  - `accepted`: stored anyway, so two klanten share a number (klanten made by
    `factuur_aanmaken` inline show an account can hold such pairs).
- `documents`, the shape of every XML answer:
  - `tidy` (default): UTF-8, indented, every klant's elements in one fixed order.
  - `wild`: declared and encoded as ISO-8859-1 (characters outside latin-1 as character
    references), each klant's elements in an order shuffled per klant id (the same on every
    read), empty elements self-closed, `naam` and `adres` wrapped in CDATA, whitespace and
    newlines around values, and one read-only element per klant (`gewijzigd_door`) that writes
    accept and ignore.

`ReadingsSwitch` holds the readings a running sandbox plays, remembers the ones it was started
with (a control reset returns to those) and is safe to change while requests are answered.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields

LISTINGS = ("paged", "unpaged", "repeat_last")
NUMBER_FILTERS = ("honoured", "ignored")
WRITE_ANSWERS = ("klant", "klanten", "id", "text", "empty")
UPDATES = ("merge", "clear")
DUPLICATES = ("refused", "accepted")
DOCUMENTS = ("tidy", "wild")

# The allowed values of every reading that is a choice; page_size is the only number.
CHOICES = {
    "listing": LISTINGS,
    "number_filter": NUMBER_FILTERS,
    "write_answer": WRITE_ANSWERS,
    "update": UPDATES,
    "duplicates": DUPLICATES,
    "documents": DOCUMENTS,
}


@dataclass(frozen=True)
class Readings:
    listing: str = "paged"
    page_size: int = 100
    number_filter: str = "honoured"
    write_answer: str = "klant"
    update: str = "merge"
    duplicates: str = "refused"
    documents: str = "tidy"

    def validate(self) -> None:
        for name, allowed in CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        # bool is an int to Python; a page size of True is a mistake, not 1.
        if (not isinstance(self.page_size, int) or isinstance(self.page_size, bool)
                or self.page_size < 1):
            raise ValueError(f"page_size must be a whole number of at least 1, not "
                             f"{self.page_size!r}")


READING_NAMES = tuple(f.name for f in fields(Readings))


def _coerced(name: str, value) -> object:
    """A JSON or command-line value as the field's type; what cannot be converted stays as is
    so that `validate` names it."""
    if name == "page_size" and isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


class ReadingsSwitch:
    """The readings being played, changeable at run time, resettable to the start readings."""

    def __init__(self, start: Readings | None = None):
        start = start or Readings()
        start.validate()
        self.start = start
        self._lock = threading.Lock()
        self._current = start

    @property
    def current(self) -> Readings:
        with self._lock:
            return self._current

    def configure(self, **changes) -> dict:
        """Merge `changes` into the current readings; invalid values change nothing."""
        unknown = set(changes) - set(READING_NAMES)
        if unknown:
            raise ValueError(f"unknown readings: {', '.join(sorted(unknown))}")
        with self._lock:
            candidate = Readings(**{**asdict(self._current),
                                    **{name: _coerced(name, value)
                                       for name, value in changes.items()}})
            candidate.validate()
            self._current = candidate
        return self.describe()

    def describe(self) -> dict:
        return asdict(self.current)

    def reset(self) -> None:
        with self._lock:
            self._current = self.start
