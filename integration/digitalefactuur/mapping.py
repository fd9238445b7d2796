"""Relation <-> DfKlant: one declared table per relation kind, held against shared/mapping.md.

Each table row is `Row(relation_field, klant_element, converter, direction)`. "both" rows are the
compared shape: export sends them, import writes them, and the sync engine compares both sides
in that shape. "import" rows travel one way only (the postal address of an organisation, which
DigitaleFactuur's single address fills on import) and are therefore never compared: they can
never make a record look changed.

Values are compared in one canonical form (`canonical_klant`): IBAN, BIC and BTW compacted and
upper-cased, a Dutch postcode as `1234 AB`, a country as its Dutch name. A value that is not
valid is still synchronised as it is, with a warning: the administrator, not the connector,
decides what is right (mapping.md, "Values").

Canonicalising is pure, so it is cached per value (the stdnum checks as (valid, form) pairs, the
Dutch country names) and per klant for a few records (`canonical_klant`); warnings are never
cached, they are translated at each call. `clear_caches` empties them at the start of each run.
`raw_klant_hash` and `raw_relation_hash` digest unmapped values for the link's shortcut (plan.py).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.eu import vat as stdnum_vat

from integration.crm import validation
from integration.crm.models import Relation

from .names import PERSON_NAME_FIELDS, person_name, split_person_name
from .schema import FIELD_NAMES, DfKlant

LinkKind = Literal["debtor", "creditor"]
DEBTOR: LinkKind = "debtor"
CREDITOR: LinkKind = "creditor"

#: DigitaleFactuur's `type` for each kind of link, and the CRM field holding its number.
KLANT_TYPE = {DEBTOR: "debiteur", CREDITOR: "crediteur"}
#: Each kind in the reader's language: the kinds the sync log's events name.
KIND_LABELS = {DEBTOR: gettext_lazy("debiteur"), CREDITOR: gettext_lazy("crediteur")}
NUMBER_FIELD = {DEBTOR: "debtor_number", CREDITOR: "creditor_number"}
#: Without a `type`, the first digit of the relatienummer decides (the seed: 1xxx, 2xxx).
FIRST_DIGIT = {"1": DEBTOR, "2": CREDITOR}
#: Bound of each value-level cache: a value is reused mostly within its own record (both
#: sides, both fingerprints, the diff), so a few hundred entries get nearly every hit. The
#: bound is below a few pages of klanten, so memory stops growing early in a run
#: (tests/sync/test_efficiency.py compares 600 with 1,800 klanten, both past it).
VALUE_CACHE_SIZE = 512
_VALUE_CACHES: list = []  # the per-converter caches, for `clear_caches`


@dataclass(frozen=True)
class Converter:
    """How one value crosses: `canonical` for comparing, `to_crm` for writing the CRM."""

    canonical: Callable[[str, DfKlant], str]
    to_crm: Callable[[str, DfKlant], tuple[str, str | None]]  # (value, warning or None)


def _strip(value: str, klant: DfKlant) -> str:
    # Only the ends: inner spacing is the author's (and must survive a round trip unchanged).
    return value.strip()


def _as_is(value: str, klant: DfKlant) -> tuple[str, str | None]:
    return _strip(value, klant), None


def _checked(compact: Callable[[str], str], normalise: Callable[..., str], label: str,
             *extra: Callable[[DfKlant], str]) -> Converter:
    """A value with a known format: compacted for comparing, validated (but kept) on import."""

    # stdnum's validation is the costliest step of the mapping and each value is checked on
    # both sides and for every fingerprint; the outcome depends on the value (and the country)
    # only. (valid?, form) pairs are cached, never a message: warnings are translated per call.
    @functools.lru_cache(maxsize=VALUE_CACHE_SIZE)
    def check(value: str, *args: str) -> tuple[bool, str]:
        try:
            return True, normalise(value, *args)
        except ValidationError:
            try:
                return False, compact(value)
            except Exception:  # stdnum's compact is total in practice; stay safe on odd input
                return False, value

    _VALUE_CACHES.append(check)

    def canonical(value: str, klant: DfKlant) -> str:
        value = _strip(value, klant)
        if not value:
            return ""
        return check(value, *(get(klant) for get in extra))[1]

    def to_crm(value: str, klant: DfKlant) -> tuple[str, str | None]:
        value = _strip(value, klant)
        if not value:
            return "", None
        valid, form = check(value, *(get(klant) for get in extra))
        if valid:
            return form, None
        warning = _("%(label)s '%(value)s' is niet geldig; overgenomen zoals het is.") % {
            "label": label, "value": value}
        return form, warning

    return Converter(canonical, to_crm)


# django-countries looks a name up by translating every country's name (some 2 ms a call, a
# dozen calls per klant); the answer depends on the value only, and accounts use few countries.
@functools.lru_cache(maxsize=4096)
def _country_code(value: str) -> str:
    """ISO code for a Dutch name, an English name or an ISO code, in any case; '' if unknown."""
    value = value.strip()
    if not value:
        return ""
    return (countries.by_name(value, language="nl") or countries.by_name(value)
            or countries.alpha2(value) or "")


# The language is always Dutch, so the name depends on the code only (a plain str is cached,
# never a lazy translation).
@functools.lru_cache(maxsize=1024)
def dutch_country_name(code: str) -> str:
    if not code:
        return ""
    with translation.override("nl"):
        return str(countries.name(code))


def _country_canonical(value: str, klant: DfKlant) -> str:
    code = _country_code(value)
    return dutch_country_name(code) if code else _strip(value, klant)


def _country_to_crm(value: str, klant: DfKlant) -> tuple[str, str | None]:
    if not value.strip():
        return "", None
    code = _country_code(value)
    if code:
        return code, None
    return "", _("Land '%(value)s' is onbekend; het land is leeg gelaten.") % {"value": value}


def _country_of(klant: DfKlant) -> str:
    return _country_code(klant.land)


TEXT = Converter(_strip, _as_is)
COUNTRY = Converter(_country_canonical, _country_to_crm)
def clear_caches() -> None:
    """Forget every cached value: each run starts cold, so one run's values never outlive it."""
    for cached in _VALUE_CACHES:
        cached.cache_clear()
    canonical_klant.cache_clear()


IBAN = _checked(stdnum_iban.compact, lambda v: validation.normalise_iban(v), "IBAN")
BIC = _checked(stdnum_bic.compact, lambda v: validation.normalise_bic(v), "BIC")
VAT = _checked(stdnum_vat.compact, lambda v: validation.normalise_vat(v), _("Btw-nummer"))
POSTCODE = _checked(lambda v: v.strip().upper(), validation.normalise_postcode, _("Postcode"),
                    _country_of)


#: DigitaleFactuur's screen (the manual's section C, its callouts [1]..[11]): element ->
#: (callout, group, label). The label is what the log and the preview call the field on the
#: DigitaleFactuur side; the page "Gekoppelde velden" shows all three.
DF_FIELDS = {
    "naam": ("1", gettext_lazy("Klantgegevens"), gettext_lazy("Naam / Bedrijf")),
    "adres": ("2", gettext_lazy("Klantgegevens"), gettext_lazy("Adres")),
    "postcode": ("3", gettext_lazy("Klantgegevens"), gettext_lazy("Postcode")),
    "plaats": ("4", gettext_lazy("Klantgegevens"), gettext_lazy("Plaats")),
    "land": ("5", gettext_lazy("Klantgegevens"), gettext_lazy("Land")),
    "faxnummer": ("6", gettext_lazy("Klantgegevens"), gettext_lazy("Faxnummer")),
    "relatienummer": ("7", gettext_lazy("Klantgegevens"),
                      gettext_lazy("Relatienummer/Klantnummer")),
    "iban": ("8", gettext_lazy("Financiële gegevens"), gettext_lazy("IBAN")),
    "bic": ("9", gettext_lazy("Financiële gegevens"), gettext_lazy("BIC")),
    "kvk_nummer": ("10", gettext_lazy("Financiële gegevens"), gettext_lazy("KVK nummer")),
    "btw_nummer": ("11", gettext_lazy("Financiële gegevens"), gettext_lazy("BTW nummer")),
    "type": ("", gettext_lazy("Klantgegevens"), gettext_lazy("Crediteur of debiteur")),
}


# --- a person's name ---------------------------------------------------------------------------
# Joined for the export and split for the import in names.py; here only its converter.

#: A person's "naam": compared as text; `apply_klant` writes it into the three name fields.
PERSON_NAME = Converter(_strip, _as_is)


@dataclass(frozen=True)
class Row:
    relation_field: str
    element: str
    converter: Converter = TEXT
    direction: Literal["both", "import"] = "both"
    #: The PerfectView field as the manual's section C names it (tab – group – field).
    label: object = ""

    @property
    def df_label(self):
        """The DigitaleFactuur field as the manual's section C names it."""
        return DF_FIELDS[self.element][2]

    @property
    def fields(self) -> tuple[str, ...]:
        """The relation fields this row reads and writes (a person's name: three)."""
        return PERSON_NAME_FIELDS if self.converter is PERSON_NAME else (self.relation_field,)


# shared/mapping.md, "Relation is an organisation", row by row; each row with the PerfectView
# field's name in the manual's section C (its DigitaleFactuur name: `DF_FIELDS`).
ORGANISATION_TABLE: tuple[Row, ...] = (
    Row("organisation_name", "naam", label=gettext_lazy("Gegevens – Organisatienaam")),
    Row("invoice_street", "adres", label=gettext_lazy("Financieel – Factuur – Straat")),
    Row("invoice_postcode", "postcode", POSTCODE,
        label=gettext_lazy("Financieel – Factuur – Postcode")),
    Row("invoice_city", "plaats", label=gettext_lazy("Financieel – Factuur – Plaats")),
    Row("invoice_country", "land", COUNTRY, label=gettext_lazy("Financieel – Factuur – Land")),
    Row("postal_street", "adres", TEXT, "import",
        label=gettext_lazy("Communicatie – Post – Straat")),
    Row("postal_postcode", "postcode", POSTCODE, "import",
        label=gettext_lazy("Communicatie – Post – Postcode")),
    Row("postal_city", "plaats", TEXT, "import",
        label=gettext_lazy("Communicatie – Post – Plaats")),
    Row("postal_country", "land", COUNTRY, "import",
        label=gettext_lazy("Communicatie – Post – Land")),
    Row("fax", "faxnummer", label=gettext_lazy("Communicatie – Fax")),
    # Financieel - Administratie - Debiteurnummer / Crediteurnummer: see `number_row`.
    Row("iban", "iban", IBAN, label=gettext_lazy("Financieel – Bank – IBAN")),
    Row("bic", "bic", BIC, label=gettext_lazy("Financieel – Bank – BIC")),
    Row("coc_number", "kvk_nummer", label=gettext_lazy("Overige – Identificatie – Nummer")),
    Row("vat_number", "btw_nummer", VAT,
        label=gettext_lazy("Financieel – Administratie – BTW nummer")),
)

# shared/mapping.md, "Relation is a person" (the seed's table ends after BIC: no KvK, no BTW).
# The manual maps Gegevens – Achternaam to Naam / Bedrijf; we send the whole name as it heads
# a letter (`PERSON_NAME` above; README, "Gekoppelde velden").
PERSON_TABLE: tuple[Row, ...] = (
    Row("surname", "naam", PERSON_NAME,
        label=gettext_lazy("Gegevens – Voornaam, Tussenvoegsel en Achternaam")),
    Row("private_street", "adres", label=gettext_lazy("Privé adres – Straat")),
    Row("private_postcode", "postcode", POSTCODE, label=gettext_lazy("Privé adres – Postcode")),
    Row("private_city", "plaats", label=gettext_lazy("Privé adres – Plaats")),
    Row("private_country", "land", COUNTRY, label=gettext_lazy("Privé adres – Land")),
    Row("private_fax", "faxnummer", label=gettext_lazy("Privé adres – Fax")),
    Row("iban", "iban", IBAN, label=gettext_lazy("Financieel – Bank – IBAN")),
    Row("bic", "bic", BIC, label=gettext_lazy("Financieel – Bank – BIC")),
)

TABLES = {Relation.Kind.ORGANISATION: ORGANISATION_TABLE, Relation.Kind.PERSON: PERSON_TABLE}


NUMBER_LABEL = {
    DEBTOR: gettext_lazy("Financieel – Administratie – Debiteurnummer"),
    CREDITOR: gettext_lazy("Financieel – Administratie – Crediteurnummer"),
}
#: A person's name fields one by one (the import's changes name each field it wrote).
PERSON_NAME_LABELS = {
    "first_name": gettext_lazy("Gegevens – Voornaam"),
    "surname_prefix": gettext_lazy("Gegevens – Tussenvoegsel"),
    "surname": gettext_lazy("Gegevens – Achternaam"),
}


def number_row(kind: LinkKind) -> Row:
    """Debiteurnummer for a debtor, Crediteurnummer for a creditor: both are `relatienummer`."""
    return Row(NUMBER_FIELD[kind], "relatienummer", label=NUMBER_LABEL[kind])


# --- labels: the log, the preview and the conflicts name fields as the manual does -----------

def _label_lookups() -> tuple[dict, dict]:
    """{relation field: (label, element)} and {(relation kind, element): label}, from the
    tables: the one source of the names."""
    by_field: dict = {}
    by_element: dict = {}
    for relation_kind, table in TABLES.items():
        for row in (*table, *(number_row(kind) for kind in NUMBER_FIELD)):
            if row.converter is not PERSON_NAME:
                by_field.setdefault(row.relation_field, (row.label, row.element))
            if row.direction == "both":
                by_element.setdefault((relation_kind, row.element), row.label)
    for name, label in PERSON_NAME_LABELS.items():
        by_field[name] = (label, "naam")
    by_element[(Relation.Kind.ORGANISATION, "relatienummer")] = by_element[
        (Relation.Kind.PERSON, "relatienummer")] = gettext_lazy(
        "Financieel – Administratie – Debiteurnummer of Crediteurnummer")
    return by_field, by_element


_LABELS = _label_lookups()


def field_labels(key: str, *, side: Literal["crm", "df"], relation_kind: str = "") -> tuple:
    """(this side's label, the other side's label) of a diff key, as the manual names them.

    `side` says what the key is: a relation field ("crm": what an import wrote) or a klant
    element ("df": what an export sent, and every conflict). The other side's label is ""
    when it is not known (an element of a relation that no longer exists). An unknown key is
    shown as it is.
    """
    by_field, by_element = _LABELS
    if side == "crm":
        label, element = by_field.get(key, (key, ""))
        return label, (DF_FIELDS[element][2] if element in DF_FIELDS else "")
    own = DF_FIELDS[key][2] if key in DF_FIELDS else key
    return own, by_element.get((relation_kind, key), "")


#: Diff keys that hold a country: an ISO code (relation fields) or a name (the element).
COUNTRY_KEYS = frozenset({"land", "invoice_country", "postal_country", "private_country",
                          "visiting_country"})


def country_display(value: str) -> str:
    """A country (ISO code, Dutch or English name) by its name in the reader's language; an
    unknown value as it is."""
    code = _country_code(value or "")
    return str(countries.name(code)) if code else value


@functools.cache
def compared_elements(relation_kind: str) -> tuple[str, ...]:
    """The elements both sides are compared on: "both" rows plus relatienummer and type."""
    rows = (r for r in TABLES[relation_kind] if r.direction == "both")
    return ("relatienummer", "type", *(r.element for r in rows))


def _lower_type(value: str, klant: DfKlant) -> str:
    return value.strip().lower()


@functools.cache
def _canonical_functions(relation_kind: str) -> tuple[tuple[str, Callable], ...]:
    """(element, canonical function) of the compared shape, looked up once per kind."""
    by_element = {r.element: r.converter.canonical for r in TABLES[relation_kind]
                  if r.direction == "both"}
    by_element["type"] = _lower_type
    return tuple((e, by_element.get(e, _strip)) for e in compared_elements(relation_kind))


def classify(klant: DfKlant) -> tuple[LinkKind | None, str]:
    """Debtor or creditor by `type`, else by the first digit; (None, reason) when neither.

    `crediteur` appears in no public example, so a klant whose type is missing or one we do not
    know is classified by its number (the seed: 1xxx debtors, 2xxx creditors).
    """
    klant_type = klant.type.strip().lower()
    for kind, name in KLANT_TYPE.items():
        if klant_type == name:
            return kind, ""
    number = klant.relatienummer.strip()
    if number[:1] in FIRST_DIGIT:
        return FIRST_DIGIT[number[:1]], ""
    if not number:
        return None, _("Deze klant heeft geen relatienummer; zonder nummer kan hij niet "
                       "als debiteur of crediteur worden bijgehouden.")
    if klant_type:
        return None, _("Onbekend type '%(type)s' en het relatienummer '%(number)s' begint niet "
                       "met 1 (debiteur) of 2 (crediteur); alleen debiteuren en crediteuren "
                       "worden gesynchroniseerd.") % {"type": klant.type, "number": number}
    return None, _("Geen type en het relatienummer '%(number)s' begint niet met 1 (debiteur) "
                   "of 2 (crediteur).") % {"number": number}


# A klant is read once per run but compared several times while its record is decided (its
# fingerprint, the diff of the log): the canonical shape is a pure function of the (frozen)
# klant's values. A cached key keeps the whole klant alive, so the cache spans a few records,
# not a run (memory stays flat in N).
@functools.lru_cache(maxsize=256)
def canonical_klant(klant: DfKlant, relation_kind: str) -> DfKlant:
    """The klant in the compared shape: only compared elements, each in canonical form.

    The shape is a fixed point: the canonical shape of a canonical shape is itself (compacting,
    trimming and naming a country are idempotent), which is what lets `shape_fingerprint`
    digest a shape without canonicalising it again.
    """
    values = {e: canonical(getattr(klant, e), klant)
              for e, canonical in _canonical_functions(relation_kind)}
    return DfKlant(id=klant.id.strip(), **values)


def shape_fingerprint(shape: DfKlant, relation_kind: str) -> str:
    """The digest of a shape that is already canonical (see `canonical_klant`)."""
    text = "\x1f".join(f"{e}={getattr(shape, e)}" for e in compared_elements(relation_kind))
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(klant: DfKlant, relation_kind: str) -> str:
    """A digest of the compared shape; equal fingerprints mean nothing to send or write."""
    return shape_fingerprint(canonical_klant(klant, relation_kind), relation_kind)


#: Part of every raw hash: bump it when a mapping rule changes, so links stored under the old
#: rules fall back to the full comparison instead of trusting a hash of unmapped values.
RAW_HASH_VERSION = "3"


def _raw_digest(values) -> str:
    text = "\x1f".join(values)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def raw_klant_hash(klant: DfKlant) -> str:
    """A cheap digest of the klant exactly as received (every element, nothing canonicalised,
    the ones we do not map included).

    Equal raw values mean an equal fingerprint, so the link's `received_raw_hash` answers
    "did DigitaleFactuur change?" without mapping anything; unequal ones prove nothing (a
    spelling difference), and the full comparison decides.
    """
    # The kept elements too: a change DigitaleFactuur made to a value we do not map (an e-mail,
    # the contact person) must refresh the copy an update passes back.
    return _raw_digest((RAW_HASH_VERSION, *(getattr(klant, name) for name in FIELD_NAMES),
                        repr(klant.elements)))


def stored_value(relation: Relation, field_name: str) -> str:
    """A relation field's value as text, as the instance holds it.

    Read from the instance's own `__dict__`: a country field's descriptor would build a
    `Country` (a lookup through the translated country list) only for us to take its code
    back, and the mapping reads every country field of every record several times. A
    deferred field is not in `__dict__`; the descriptor loads it.
    """
    try:
        value = relation.__dict__[field_name]
    except KeyError:
        value = getattr(relation, field_name)
    return str(value or "")


def raw_relation_hash(relation: Relation, kind: LinkKind) -> str:
    """A cheap digest of every relation field `to_klant` reads for this kind, unmapped."""
    table = TABLES[relation.kind]
    values = (stored_value(relation, name) for row in table if row.direction == "both"
              for name in row.fields)
    return _raw_digest((RAW_HASH_VERSION, str(relation.kind), kind,
                        getattr(relation, NUMBER_FIELD[kind]), *values))


@dataclass
class Export:
    """A relation mapped for DigitaleFactuur: the klant, the elements to send, the warnings."""

    klant: DfKlant
    elements: tuple[str, ...]
    warnings: list[str] = field(default_factory=list)
    #: `fingerprint(klant)`, computed from the shape once.
    fingerprint: str = ""


def _export_klant(relation: Relation, kind: LinkKind, klant_id: str) -> DfKlant:
    """The relation's compared fields as klant elements, before canonicalising."""
    values = {"relatienummer": stored_value(relation, NUMBER_FIELD[kind]).strip(),
              "type": KLANT_TYPE[kind]}
    for row in TABLES[relation.kind]:
        if row.converter is PERSON_NAME:
            values[row.element] = person_name(*(stored_value(relation, name)
                                                for name in PERSON_NAME_FIELDS))
        elif row.direction == "both":
            values[row.element] = stored_value(relation, row.relation_field)
    # The CRM stores an ISO code; DigitaleFactuur shows the Dutch name.
    if "land" in values:
        values["land"] = dutch_country_name(values["land"])
    return DfKlant(id=klant_id, **values)


def export_fingerprint(relation: Relation, kind: LinkKind) -> str:
    """`to_klant(relation, kind).fingerprint` without building the export's warnings."""
    return shape_fingerprint(canonical_klant(_export_klant(relation, kind, ""), relation.kind),
                             relation.kind)


def to_klant(relation: Relation, kind: LinkKind, klant_id: str = "") -> Export:
    """The relation as a `debiteur` or `crediteur` klant: only the invoice (or private) address.

    The elements to send are the compared ones: in an update, elements not sent are left as they
    are in DigitaleFactuur, so a person's KvK and BTW there are never cleared by us.
    """
    table = TABLES[relation.kind]
    raw = _export_klant(relation, kind, klant_id)
    shape = canonical_klant(raw, relation.kind)
    klant = replace(shape, id=klant_id)
    warnings = []
    for row in table:
        if row.direction == "both" and row.converter is not TEXT and row.element != "land":
            _value, warning = row.converter.to_crm(getattr(raw, row.element), raw)
            if warning:
                warnings.append(warning)
    return Export(klant=klant, elements=compared_elements(relation.kind), warnings=warnings,
                  fingerprint=shape_fingerprint(shape, relation.kind))


@dataclass
class Import:
    """What writing a klant into a relation changes: {field: (old, new)} and the warnings."""

    changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@functools.cache
def _max_length(relation_field: str) -> int | None:
    return Relation._meta.get_field(relation_field).max_length


def apply_klant(relation: Relation, klant: DfKlant, kind: LinkKind) -> Import:
    """Write the klant's values into the (unsaved) relation; the caller saves, in bulk.

    A value longer than the CRM's field is an error for this record, never cut silently.
    """
    result = Import()
    rows = (*TABLES[relation.kind], number_row(kind))
    for row in rows:
        if row.converter is PERSON_NAME:
            _apply_person_name(relation, getattr(klant, row.element), result)
            continue
        new, warning = row.converter.to_crm(getattr(klant, row.element), klant)
        if row.element == "relatienummer" and not validation.is_ascii_number(new):
            result.errors.append(
                _("relatienummer '%(number)s' is geen nummer: een debiteur- of crediteurnummer "
                  "is alleen cijfers; pas het aan in DigitaleFactuur.") % {"number": new})
            continue
        if warning and warning not in result.warnings:
            result.warnings.append(warning)
        max_length = _max_length(row.relation_field)
        if max_length and len(new) > max_length:
            error = _("%(element)s is langer dan %(max)s tekens (%(length)s); pas het aan in "
                      "DigitaleFactuur.") % {"element": row.df_label, "max": max_length,
                                              "length": len(new)}
            # One element may fill two fields (the invoice and the postal city): said once.
            if error not in result.errors:
                result.errors.append(error)
            continue
        old = stored_value(relation, row.relation_field)
        if old != new:
            result.changes[row.relation_field] = (old, new)
            setattr(relation, row.relation_field, new)
    return result


def _apply_person_name(relation: Relation, name: str, result: Import) -> None:
    """A person's name into voornaam, tussenvoegsel and achternaam: left as they are when they
    already make up this name (a name that round-trips keeps the parts as typed), otherwise
    split (`split_person_name`)."""
    name = name.strip()
    current = tuple(stored_value(relation, field_name) for field_name in PERSON_NAME_FIELDS)
    if person_name(*current) == name:
        return
    parts = split_person_name(name)
    for field_name, new in zip(PERSON_NAME_FIELDS, parts, strict=True):
        max_length = _max_length(field_name)
        if max_length and len(new) > max_length:
            result.errors.append(
                _("%(element)s is langer dan %(max)s tekens (%(length)s); pas het aan in "
                  "DigitaleFactuur.") % {"element": DF_FIELDS["naam"][2], "max": max_length,
                                          "length": len(new)})
            return
    for field_name, old, new in zip(PERSON_NAME_FIELDS, current, parts, strict=True):
        if old != new:
            result.changes[field_name] = (old, new)
            setattr(relation, field_name, new)


def klant_diff(old: DfKlant, new: DfKlant, relation_kind: str) -> dict[str, tuple[str, str]]:
    """{element: (old, new)} for the compared elements that differ (the log's field diff)."""
    old_c, new_c = canonical_klant(old, relation_kind), canonical_klant(new, relation_kind)
    return {e: (getattr(old_c, e), getattr(new_c, e)) for e in compared_elements(relation_kind)
            if getattr(old_c, e) != getattr(new_c, e)}
