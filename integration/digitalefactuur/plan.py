"""Plan: what a sync would do with each record, decided without a database or a network.

The engine reads a page of klanten and the links and relations they may belong to (one snapshot
per page), hands them here, and gets back one `Decision` per klant; `importer.py` then writes the
decisions in bulk. For the export, `export_state` says whether a relation must be sent at all
and `compare_found` what to do with a klant found by its number. Nothing here reads or writes
anything but the values it is given, so every rule of DESIGN.md ("Sync rules", "Deciding what
changed") can be tested as plain functions.

The three-way comparison for a linked pair (both sides in DigitaleFactuur's shape):

    crm_changed = to_klant(relation).fingerprint != link.sent_fingerprint
    df_changed  = fingerprint(klant)              != link.received_fingerprint

    df_changed is False            -> nothing (the export phase handles crm_changed)
    df_changed, not crm_changed    -> import
    df_changed, crm_changed        -> push on: conflict, PerfectView wins (no import; the export
                                      writes the CRM's values); push off: import

Before any of that, the raw hashes the link keeps (links.py) answer the common case for free:
a klant whose raw values equal those its `received_fingerprint` was computed from has not
changed in DigitaleFactuur (df_changed is False, whatever the CRM did), and a relation whose raw
source fields equal those its `sent_fingerprint` was computed from has not changed in the CRM.
An empty stored hash is unknown: the fingerprints decide, as above.

A klant not linked yet but found by its number has no base to compare with: equal values are
simply linked; different values are imported, except with push on, where PerfectView wins as
for any conflict (the link is made with an empty sent fingerprint, so the export sends it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from integration.crm.models import Relation

from .mapping import (
    NUMBER_FIELD,
    Export,
    LinkKind,
    apply_klant,
    classify,
    export_fingerprint,
    fingerprint,
    klant_diff,
    raw_klant_hash,
    raw_relation_hash,
    to_klant,
)
from .schema import DfKlant, valid_id


class Outcome(enum.Enum):
    CREATE_RELATION = "create_relation"  # a new relation and its link
    UPDATE_RELATION = "update_relation"  # write the relation, then the link
    LINK = "link"                        # values agree: make or refresh the link only
    CONFLICT = "conflict"                # PerfectView wins: nothing imported
    UNCHANGED = "unchanged"              # nothing at all: counted, no event, no write
    SKIP = "skip"                        # not synchronised, the event says why
    SKIP_SILENT = "skip_silent"          # a kind whose import is off: counted only
    ERROR = "error"                      # this record cannot be imported (event "fout")


#: The base of a link that stored none: DfKlant is immutable, so one instance serves every link
#: (building a 20-field klant per link read was a measurable part of a no-op page).
NO_KLANT = DfKlant()


@dataclass(frozen=True)
class LinkState:
    """A DfLink as the plan sees it."""

    relation_id: int
    kind: LinkKind
    df_id: str
    sent_fingerprint: str = ""
    received_fingerprint: str = ""
    last_klant: DfKlant = NO_KLANT
    pk: int | None = None
    received_raw_hash: str = ""
    relation_raw_hash: str = ""
    #: The raw hash of the klant as last read (`DfLink.source`), the copy an update passes back.
    source_hash: str = ""

    def klant_unchanged(self, klant: DfKlant) -> bool:
        """Known unchanged in DigitaleFactuur by the raw hash alone (False: unknown): equal to
        what was agreed, and to the copy kept for updates."""
        if not self.received_raw_hash:
            return False
        raw = raw_klant_hash(klant)
        return raw == self.received_raw_hash and raw == self.source_hash

    def relation_unchanged(self, relation: Relation) -> bool:
        """Known unchanged in the CRM by the raw hash alone (False: unknown)."""
        return (bool(self.relation_raw_hash)
                and raw_relation_hash(relation, self.kind) == self.relation_raw_hash)


@dataclass(frozen=True)
class KindOption:
    """How klanten of one kind are imported (only enabled kinds have one)."""

    relation_kind: str
    relation_type_id: int | None


@dataclass(frozen=True)
class ImportOptions:
    kinds: dict[LinkKind, KindOption]
    push_enabled: bool


@dataclass
class PageSnapshot:
    """What the database knows about one page's klanten, read in bulk before planning."""

    links_by_df_id: dict[str, LinkState]
    relations_by_id: dict[int, Relation]
    #: (kind, number) -> relation holding that Debiteur- or Crediteurnummer.
    relations_by_number: dict[tuple[LinkKind, str], Relation]
    #: (relation id, kind) -> df_id of the link that relation already has.
    linked_df_ids: dict[tuple[int, LinkKind], str]
    #: df_ids of the linked klanten the raw hash proves unchanged (None: not worked out yet).
    unchanged_df_ids: set[str] | None = None

    def klant_unchanged(self, klant: DfKlant, link: LinkState) -> bool:
        if self.unchanged_df_ids is not None:
            return klant.id in self.unchanged_df_ids
        return link.klant_unchanged(klant)


@dataclass
class Decision:
    outcome: Outcome
    klant: DfKlant
    kind: LinkKind | None = None
    relation: Relation | None = None
    link: LinkState | None = None
    message: str = ""
    #: {field: [old, new]} of the write (relation fields), or of the conflict (elements).
    diff: dict[str, list[str]] = field(default_factory=dict)
    losing_values: dict[str, str] = field(default_factory=dict)
    #: The link's fingerprints after this decision is applied.
    sent_fingerprint: str = ""
    received_fingerprint: str = ""

    @property
    def number(self) -> str:
        return self.klant.relatienummer.strip()


def export_state(relation: Relation, kind: LinkKind,
                 link: LinkState | None) -> tuple[Export | None, str, bool]:
    """(export, its fingerprint, must it be sent?): unchanged since the last sync costs nothing.

    The export is None when the raw hash alone proves the relation unchanged (nothing mapped).
    """
    if link is not None and link.relation_unchanged(relation):
        return None, link.sent_fingerprint, False
    export = to_klant(relation, kind, link.df_id if link else "")
    changed = link is None or export.fingerprint != link.sent_fingerprint
    return export, export.fingerprint, changed


def compare_found(export: Export, found: DfKlant, relation_kind: str) -> dict[str, list[str]]:
    """{element: [DigitaleFactuur's value, ours]} between a klant found by number and ours."""
    return {element: [old, new]
            for element, (old, new) in klant_diff(found, export.klant, relation_kind).items()}


def _conflict(decision: Decision, export: Export, klant: DfKlant, base: DfKlant | None,
              relation_kind: str) -> Decision:
    """PerfectView wins: record what DigitaleFactuur had (lost) and what the CRM has (won)."""
    against_crm = klant_diff(klant, export.klant, relation_kind)
    # DigitaleFactuur's own changes since the base are what is lost; without a base (first
    # match by number) every differing value of DigitaleFactuur is.
    changed_in_df = klant_diff(base, klant, relation_kind) if base is not None else against_crm
    decision.outcome = Outcome.CONFLICT
    decision.diff = {e: [old, new] for e, (old, new) in against_crm.items()}
    decision.losing_values = {e: getattr(klant, e) for e in changed_in_df}
    decision.message = _("Conflict: de relatie is in PerfectView gewijzigd sinds de vorige "
                         "synchronisatie. PerfectView gaat voor; de waarden uit DigitaleFactuur "
                         "zijn niet overgenomen en worden overschreven.")
    return decision


def _import_into(decision: Decision, relation: Relation, kind: LinkKind,
                 snapshot: PageSnapshot, claimed: dict[tuple[LinkKind, str], str]
                 ) -> Decision:
    """Write the klant into `relation` (in memory) and fill the decision with what changed."""
    klant = decision.klant
    number = decision.number
    holder = snapshot.relations_by_number.get((kind, number))
    if holder is not None and holder.pk != relation.pk:
        decision.outcome = Outcome.ERROR
        decision.message = _("Het relatienummer %(number)s is in PerfectView al in gebruik bij "
                             "een andere relatie (%(name)s).") % {
            "number": number, "name": holder.display_name}
        return decision
    result = apply_klant(relation, klant, kind)
    if result.errors:
        decision.outcome = Outcome.ERROR
        decision.message = " ".join(result.errors + result.warnings)
        return decision
    claimed[(kind, number)] = klant.id
    decision.relation = relation
    decision.diff = {name: [old, new] for name, (old, new) in result.changes.items()}
    decision.message = " ".join(result.warnings)
    decision.sent_fingerprint = export_fingerprint(relation, kind)
    decision.received_fingerprint = fingerprint(klant, relation.kind)
    if relation.pk is None:
        decision.outcome = Outcome.CREATE_RELATION
    elif result.changes:
        decision.outcome = Outcome.UPDATE_RELATION
    else:
        decision.outcome = Outcome.LINK
    return decision


def plan_klant(klant: DfKlant, snapshot: PageSnapshot, options: ImportOptions,
               claimed: dict[tuple[LinkKind, str], str]) -> Decision:
    """The import decision for one klant. `claimed` remembers the numbers this run took: (kind,
    number) -> the id of the klant linked for it."""
    if not valid_id(klant.id):
        return Decision(Outcome.SKIP, klant, message=_(
            "Deze klant heeft geen bruikbaar id in DigitaleFactuur (leeg, te lang of met "
            "spaties); hij is overgeslagen."))
    kind, reason = classify(klant)
    decision = Decision(Outcome.SKIP, klant, kind=kind, message=reason)
    if kind is None:
        return decision
    option = options.kinds.get(kind)
    if option is None:
        decision.outcome = Outcome.SKIP_SILENT
        return decision
    number = decision.number
    link = snapshot.links_by_df_id.get(klant.id)
    decision.link = link
    if link is not None and link.kind == kind and snapshot.klant_unchanged(klant, link):
        decision.outcome = Outcome.UNCHANGED  # df_changed is False: the CRM side is moot
        return decision
    if link is not None:
        if link.kind != kind:
            decision.message = _("Het type van deze klant is in DigitaleFactuur gewijzigd; de "
                                 "koppeling met de relatie blijft zoals ze was.")
            return decision
        relation = snapshot.relations_by_id.get(link.relation_id)
        if relation is None:  # deleted in the CRM between the two reads of this page
            decision.message = _("De gekoppelde relatie is zojuist verwijderd.")
            return decision
        decision.relation = relation
        export = to_klant(relation, kind, link.df_id)
        crm_changed = export.fingerprint != link.sent_fingerprint
        df_changed = fingerprint(klant, relation.kind) != link.received_fingerprint
        if not df_changed:
            decision.outcome = Outcome.UNCHANGED
            return decision
        if crm_changed and fingerprint(klant, relation.kind) == export.fingerprint:
            # Both changed, to the same values (a write whose link update was lost): they
            # agree, there is nothing to import and no conflict.
            decision.outcome = Outcome.LINK
            decision.sent_fingerprint = export.fingerprint
            decision.received_fingerprint = fingerprint(klant, relation.kind)
            return decision
        if crm_changed and options.push_enabled:
            return _conflict(decision, export, klant, link.last_klant, relation.kind)
        return _import_into(decision, relation, kind, snapshot, claimed)

    if not number:
        decision.message = _("Deze klant heeft geen relatienummer; zonder nummer kan hij niet "
                             "als debiteur of crediteur worden bijgehouden.")
        return decision
    if (kind, number) in claimed:
        return _duplicate(decision, number, claimed[(kind, number)])
    relation = snapshot.relations_by_number.get((kind, number))
    if relation is None:
        relation = Relation(kind=option.relation_kind, relation_type_id=option.relation_type_id)
        return _import_into(decision, relation, kind, snapshot, claimed)

    decision.relation = relation
    other = snapshot.linked_df_ids.get((relation.pk, kind))
    if other is not None:
        return _duplicate(decision, number, other)
    export = to_klant(relation, kind, klant.id)
    crm_fingerprint = export.fingerprint
    df_fingerprint = fingerprint(klant, relation.kind)
    if crm_fingerprint == df_fingerprint:
        claimed[(kind, number)] = klant.id
        decision.outcome = Outcome.LINK
        decision.message = _("Gekoppeld aan de bestaande relatie met dit nummer.")
        decision.sent_fingerprint = crm_fingerprint
        decision.received_fingerprint = df_fingerprint
        return decision
    if options.push_enabled:
        claimed[(kind, number)] = klant.id
        _conflict(decision, export, klant, None, relation.kind)
        # An empty sent fingerprint makes the export phase send the CRM's values.
        decision.received_fingerprint = df_fingerprint
        return decision
    return _import_into(decision, relation, kind, snapshot, claimed)


def _duplicate(decision: Decision, number: str, linked_id: str) -> Decision:
    """A second klant with a number whose relation is linked to another: skipped, both named."""
    decision.outcome = Outcome.SKIP
    decision.relation = None
    decision.message = _(
        "Dubbel in DigitaleFactuur: klant %(id)s heeft hetzelfde relatienummer %(number)s als "
        "klant %(other)s, die aan de relatie in PerfectView gekoppeld is. Voeg de twee samen in "
        "DigitaleFactuur; tot dan wordt klant %(id)s overgeslagen.") % {
        "id": decision.klant.id, "number": number, "other": linked_id}
    return decision


def page_numbers(klanten: list[DfKlant]) -> dict[LinkKind, set[str]]:
    """The numbers per kind a page's klanten carry: what to look relations up by."""
    numbers: dict[LinkKind, set[str]] = {kind: set() for kind in NUMBER_FIELD}
    for klant in klanten:
        kind, _reason = classify(klant)
        if kind is not None and klant.relatienummer.strip():
            numbers[kind].add(klant.relatienummer.strip())
    return numbers
