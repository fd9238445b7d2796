"""The import phase: DigitaleFactuur -> PerfectView, one page of klanten at a time.

Per page, in this order and nothing more:

1. read (`read_snapshot`): the relations linked to the page's klanten or holding their
   numbers, as plain values: their numbers and both links' fingerprints and raw hashes, in one
   query. A linked klant whose raw hash equals its link's is unchanged (plan.py) and needs no
   relation; only when some klant is not, a second query reads those relations in full;
2. plan: `plan.plan_klant` per klant, in memory (no query);
3. write, only when something changed, in ONE transaction (bulk writes: no signals, so no
   echo through the change listener): new
   relations, changed relations (the changed fields only), new and refreshed links, and the
   page's events, each table in one prepared multi-row statement (`integration.db.rows`: what
   bulk_create / bulk_update write, without the ORM compiling every value); a few queries,
   never one per klant;
4. progress on the run record (at most one write per half second, and one at the end), and a
   heartbeat on the lock (throttled).

Memory holds one slice (the client hands a page out in slices, so a service that answers every
klant at once is written a slice at a time), and the few pages read ahead meanwhile (when the
service pages: concurrency.READ_AHEAD): counts go to the run, events with their slice.
An unchanged page costs one read and nothing else; a page of new klanten one read and the
transaction's three INSERTs.

Beside its decisions, each slice refreshes the copy an update passes back (`DfLink.source`) of
every linked klant whose raw hash changed, also where nothing is imported (a kind whose import
is off, a conflict, a value we do not map), and tells the run's `AccountView` what it read: the
ids, the numbers, the klanten no link holds. After the last page, with Bijwerken off, links
whose klant was not seen are removed (with Bijwerken on the export creates them again).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db import transaction
from django.db.models import F, FilteredRelation, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from integration.connectors.models import SyncEvent
from integration.crm.models import Relation
from integration.db import rows

from .client import id_order
from .links import (
    AGREEMENT_FIELDS,
    COPY_FIELDS,
    STATE_COLUMNS,
    DfLink,
    agree,
    klant_from_payload,
    klant_payload,
    link_state,
    source_fields,
)
from .mapping import CREDITOR, DEBTOR, NUMBER_FIELD, raw_klant_hash
from .plan import (
    Decision,
    ImportOptions,
    KindOption,
    LinkState,
    Outcome,
    PageSnapshot,
    page_numbers,
    plan_klant,
)
from .schema import DfKlant

IMPORT = SyncEvent.Direction.IMPORT
Action = SyncEvent.Action

#: What each outcome counts as in the run's counts, and whether it gets an event row.
OUTCOME_ACTION = {
    Outcome.CREATE_RELATION: (Action.CREATED, True),
    Outcome.UPDATE_RELATION: (Action.UPDATED, True),
    Outcome.LINK: (Action.UNCHANGED, False),  # an event only when a new link was made
    Outcome.CONFLICT: (Action.CONFLICT, True),
    Outcome.UNCHANGED: (Action.UNCHANGED, False),
    Outcome.SKIP: (Action.SKIPPED, True),
    Outcome.SKIP_SILENT: (Action.SKIPPED, False),
    Outcome.ERROR: (Action.ERROR, True),
}


def import_options(df) -> ImportOptions:
    kinds = {}
    if df.debtors_enabled:
        kinds[DEBTOR] = KindOption(df.debtors_kind, df.debtor_relation_type_id)
    if df.creditors_enabled:
        kinds[CREDITOR] = KindOption(df.creditors_kind, df.creditor_relation_type_id)
    return ImportOptions(kinds=kinds, push_enabled=df.push_enabled)


def _joined_links() -> dict[str, FilteredRelation]:
    """A relation's link of each kind, as a LEFT JOIN (one link per relation and kind)."""
    return {f"{kind}_link": FilteredRelation("digitalefactuur_links",
                                             condition=Q(digitalefactuur_links__kind=kind))
            for kind in NUMBER_FIELD}


def _holding(numbers: dict[str, set[str]]) -> list[Q]:
    """Relations holding one of these numbers; the `<> ''` term lets SQLite use the partial
    unique indexes on the numbers instead of scanning every relation."""
    return [Q(**{f"{number_field}__in": numbers[kind]}) & ~Q(**{number_field: ""})
            for kind, number_field in NUMBER_FIELD.items() if numbers[kind]]


def read_snapshot(klanten: list[DfKlant]) -> PageSnapshot:
    """What the database knows about a page: one read, and a second only for changed klanten.

    The first read takes, for every relation linked to a klant of the page or holding one of
    its numbers, the numbers and both links' ids, fingerprints and raw hashes (plain values, no
    model). A linked klant whose raw hash equals its link's is unchanged and needs nothing
    more; for the others the second read takes the full relations (and the payload their
    links last saw, the base of a conflict). A first import or a resync without changes is one
    read.
    """
    df_ids = {klant.id for klant in klanten if klant.id}
    numbers = page_numbers(klanten)
    snapshot = PageSnapshot({}, {}, {}, {}, unchanged_df_ids=set())
    if not (df_ids or any(numbers.values())):
        return snapshot
    wanted = Q(pk__in=DfLink.objects.filter(df_id__in=df_ids).values("relation_id"))
    for holding in _holding(numbers):
        wanted |= holding
    # One row per relation and link (a relation without links: one row of NULLs for them).
    # The link columns a LinkState is built from (`last_payload` only when needed).
    columns = [f"digitalefactuur_links__{column}" for column in STATE_COLUMNS]
    rows = (Relation.objects.filter(wanted).order_by()
            .values_list("pk", *NUMBER_FIELD.values(), *columns))
    links, numbers_of = snapshot.links_by_df_id, {}
    for pk, debtor_number, creditor_number, *link_columns in rows:
        numbers_of[pk] = {DEBTOR: debtor_number, CREDITOR: creditor_number}
        link_pk, kind, df_id = link_columns[:3]
        if link_pk is None:
            continue
        snapshot.linked_df_ids[(pk, kind)] = df_id
        if df_id in df_ids:
            links[df_id] = link_state(pk, link_columns)
    snapshot.unchanged_df_ids = {klant.id for klant in klanten
                                 if klant.id in links and links[klant.id].klant_unchanged(klant)}
    changed = [klant for klant in klanten if klant.id not in snapshot.unchanged_df_ids]
    changed_numbers = page_numbers(changed)
    wanted = {links[klant.id].relation_id for klant in changed if klant.id in links}
    wanted.update(pk for pk, held in numbers_of.items()
                  if any(held[kind] and held[kind] in changed_numbers[kind]
                         for kind in NUMBER_FIELD))
    if not wanted:
        return snapshot
    payloads = {f"{kind}_payload": F(f"{kind}_link__last_payload") for kind in NUMBER_FIELD}
    relations = (Relation.objects.annotate(**_joined_links()).annotate(**payloads)
                 .filter(pk__in=wanted).order_by())
    last_payload = {}
    for relation in relations:
        snapshot.relations_by_id[relation.pk] = relation
        for kind, number_field in NUMBER_FIELD.items():
            number = getattr(relation, number_field)
            if number:
                snapshot.relations_by_number[(kind, number)] = relation
            last_payload[(relation.pk, kind)] = getattr(relation, f"{kind}_payload")
    for klant in changed:
        link = links.get(klant.id)
        if link is not None:
            # The base a conflict's losing values are computed from.
            links[klant.id] = replace(link, last_klant=klant_from_payload(
                last_payload.get((link.relation_id, link.kind))))
    return snapshot


def _event(ctx, decision: Decision, action: str, message: str | None = None) -> SyncEvent:
    return SyncEvent(run=ctx.run, direction=IMPORT,
                     relation=decision.relation, external_id=decision.klant.id,
                     number=decision.number, kind=decision.kind or "", action=action,
                     name=decision.klant.naam.strip()[:200],
                     message=decision.message if message is None else message,
                     diff=decision.diff, losing_values=decision.losing_values)


def _link_for(decision: Decision, now) -> DfLink:
    link = DfLink(relation=decision.relation, kind=decision.kind)
    if decision.link is not None:
        link.pk = decision.link.pk
    return agree(link, decision.relation, decision.number, decision.klant,
                 sent_fingerprint=decision.sent_fingerprint,
                 received_fingerprint=decision.received_fingerprint, now=now)


def _saved_meanwhile(read_at: dict[int, object]) -> set[int]:
    """The relations saved in the CRM since this page read them (call inside the transaction).

    The rows are locked until the page's transaction ends (PostgreSQL; SQLite's IMMEDIATE
    transaction already holds the database's write lock), so no save can slip in between this
    check and the write.
    """
    if not read_at:
        return set()
    now_at = dict(Relation.objects.select_for_update().filter(pk__in=read_at)
                  .values_list("pk", "updated_at"))
    return {pk for pk, updated_at in read_at.items() if now_at.get(pk) != updated_at}


def _perfectview_wins(ctx, event: SyncEvent, decision: Decision) -> None:
    """A relation saved in the CRM while its page was being imported keeps the CRM's values."""
    ctx.run.count(IMPORT, Action.UPDATED, -1)
    ctx.count(IMPORT, Action.CONFLICT)
    event.action = Action.CONFLICT
    event.losing_values = {field: new for field, (_old, new) in decision.diff.items()}
    event.message = _("Conflict: de relatie is in PerfectView gewijzigd terwijl de "
                      "synchronisatie haar bijwerkte. PerfectView gaat voor; de waarden uit "
                      "DigitaleFactuur zijn niet overgenomen.")


@dataclass
class PageWrites:
    """One page's changes and events, saved in one transaction under the import guard (by the
    run's writer, writers.py)."""

    now: datetime
    events: list[SyncEvent] = field(default_factory=list)
    new_relations: list[Relation] = field(default_factory=list)
    changed_relations: list[Relation] = field(default_factory=list)
    relation_fields: set[str] = field(default_factory=set)
    #: relation id -> its update's decision and event (a save meanwhile turns it into a conflict)
    updates: dict[int, tuple[Decision, SyncEvent]] = field(default_factory=dict)
    new_links: list[Decision] = field(default_factory=list)
    refreshed_links: list[Decision] = field(default_factory=list)
    #: Links whose kept copy (and agreement) move on to what was read.
    copies: list[DfLink] = field(default_factory=list)
    agreed: list[DfLink] = field(default_factory=list)

    def save(self, ctx) -> None:
        if not (self.events or self.new_links or self.refreshed_links or self.copies
                or self.agreed):
            return
        now, changed_relations = self.now, self.changed_relations
        new_links, refreshed_links = self.new_links, self.refreshed_links
        read_at = {relation.pk: relation.updated_at for relation in changed_relations}
        with transaction.atomic():
            saved_meanwhile = _saved_meanwhile(read_at)
            if saved_meanwhile:
                for pk in saved_meanwhile:
                    _perfectview_wins(ctx, self.updates[pk][1], self.updates[pk][0])
                # Neither the relation nor its link is written: the link's base stays as it
                # was, so the export sees the CRM's change and sends it.
                changed_relations = [r for r in changed_relations
                                     if r.pk not in saved_meanwhile]
                refreshed_links = [d for d in refreshed_links
                                   if d.relation is None or d.relation.pk not in saved_meanwhile]
                new_links = [d for d in new_links
                             if d.relation is None or d.relation.pk not in saved_meanwhile]
            # One prepared multi-row statement per table (integration/db/rows.py), what
            # bulk_create / bulk_update would write, without compiling every value.
            if self.new_relations:
                rows.insert(self.new_relations)
            if changed_relations:
                for relation in changed_relations:
                    relation.updated_at = now  # an update does not apply auto_now
                rows.update(changed_relations, [*sorted(self.relation_fields), "updated_at"])
            if new_links:
                rows.insert([_link_for(d, now) for d in new_links])
            if refreshed_links:
                rows.update([_link_for(d, now) for d in refreshed_links], AGREEMENT_FIELDS)
            if self.copies:
                rows.update(self.copies, COPY_FIELDS)
            if self.agreed:
                rows.update(self.agreed, [*COPY_FIELDS, "received_raw_hash", "last_payload"])
            if self.events:
                # The events of new relations get their ids now: the insert reads the
                # relation objects, which the insert above has given primary keys.
                rows.insert(self.events)


def write_page(ctx, decisions: list[Decision], snapshot: PageSnapshot | None = None) -> None:
    """Count every decision; hand the page's changes to the run's writer."""
    page = PageWrites(now=timezone.now())
    events = page.events
    for decision in decisions:
        action, with_event = OUTCOME_ACTION[decision.outcome]
        ctx.count(IMPORT, action)
        if decision.outcome is Outcome.ERROR:
            ctx.errors += 1
        new_link = decision.link is None
        if decision.outcome is Outcome.LINK and new_link:
            events.append(_event(ctx, decision, Action.UNCHANGED))
        elif with_event:
            events.append(_event(ctx, decision, action))
        if decision.outcome is Outcome.CREATE_RELATION:
            page.new_relations.append(decision.relation)
        elif decision.outcome is Outcome.UPDATE_RELATION:
            page.changed_relations.append(decision.relation)
            page.relation_fields.update(decision.diff)
            page.updates[decision.relation.pk] = (decision, events[-1])
        writes_link = decision.outcome in (Outcome.CREATE_RELATION, Outcome.UPDATE_RELATION,
                                           Outcome.LINK)
        # A conflict with a klant found by number is linked now (empty sent fingerprint), so
        # the export phase updates that very klant instead of looking it up again.
        if writes_link or (decision.outcome is Outcome.CONFLICT and new_link):
            (page.new_links if new_link else page.refreshed_links).append(decision)
        elif (snapshot is not None and decision.klant.id in snapshot.links_by_df_id
              and decision.klant.id not in (snapshot.unchanged_df_ids or ())):
            # A klant unchanged by its raw hash has a fresh copy and agrees already: its hash
            # equals both the link's, so there is nothing to refresh (nor to hash again).
            _source_refresh(decision, snapshot.links_by_df_id[decision.klant.id], page.copies,
                            page.agreed)
    ctx.writer.write(ctx, page)


def _source_refresh(decision: Decision, link: LinkState, copies: list, agreed: list) -> None:
    """A linked klant whose link is not rewritten: keep the copy an update passes back fresh.

    Where the klant agrees with its link (an unchanged fingerprint, the same kind) the raw hash
    and the base move on too, so the next run finds it unchanged for free; otherwise (a
    conflict, a changed type, a kind whose import is off) only the copy does, and the
    agreement stays as it was.
    """
    klant = decision.klant
    raw = raw_klant_hash(klant)
    if decision.outcome is Outcome.UNCHANGED and link.kind == decision.kind:
        if raw != link.source_hash or raw != link.received_raw_hash:
            agreed.append(DfLink(pk=link.pk, **source_fields(klant, raw),
                                 received_raw_hash=raw, last_payload=klant_payload(klant)))
    elif raw != link.source_hash:
        copies.append(DfLink(pk=link.pk, **source_fields(klant, raw)))


def run_import(ctx) -> None:
    """Every klant of the account, planned and written a slice at a time; the run's
    AccountView learns what was read."""
    options = import_options(ctx.settings)
    account = ctx.account
    ctx.progress(phase=_("Debiteuren en crediteuren ophalen"), processed=0, total=0)
    processed = 0
    # The next pages are read while this one is written (client.iter_pages, read_ahead).
    for klanten in ctx.client.iter_pages(account.seen, account.listing, account.read_ahead):
        # Lowest id first: of two klanten with the same number, the lower id is linked.
        klanten = sorted(klanten, key=id_order)
        snapshot = read_snapshot(klanten)
        # Numbers taken in this slice; earlier slices are in the database (and the snapshot).
        claimed: dict = {}
        decisions = [plan_klant(klant, snapshot, options, claimed) for klant in klanten]
        write_page(ctx, decisions, snapshot)
        account.note(klanten, {d.klant.id for d in decisions
                               if d.klant.id in snapshot.links_by_df_id or _links_now(d)})
        processed += len(klanten)
        ctx.progress(processed=processed, pages=account.listing.pages)
        ctx.beat()
    account.finish()
    ctx.imported_kinds = set(options.kinds)
    if account.listing.ended_by_repeat:
        ctx.note(_("DigitaleFactuur gaf na pagina %(page)d geen nieuwe klanten meer (het "
                   "account antwoordt alle klanten in één keer, of herhaalt de laatste "
                   "pagina); de lijst is als volledig gelezen beschouwd."),
                 page=account.listing.pages - 1)
    if not ctx.settings.push_enabled:
        unlink_vanished(ctx)
    ctx.progress(processed=processed, pages=account.listing.pages, final=True)


def _links_now(decision: Decision) -> bool:
    """The decision makes a link (the klant is no longer free for the export to adopt)."""
    return decision.outcome in (Outcome.CREATE_RELATION, Outcome.UPDATE_RELATION, Outcome.LINK,
                                Outcome.CONFLICT) and decision.relation is not None


def unlink_vanished(ctx) -> None:
    """Bijwerken off: links whose klant the full read did not see are removed, each logged."""
    vanished = ctx.account.vanished_links()
    if not vanished:
        return
    events = [SyncEvent(run=ctx.run, direction=IMPORT, relation_id=link.relation_id,
                        external_id=link.df_id, number=link.number, kind=link.kind,
                        action=Action.SKIPPED,
                        message=_("De klant (id %(id)s) staat niet meer in DigitaleFactuur; de "
                                  "koppeling is verwijderd. Zet Bijwerken aan om hem opnieuw "
                                  "aan te maken.") % {"id": link.df_id})
              for link in vanished]
    for _event_row in events:
        ctx.count(IMPORT, Action.SKIPPED)
    ctx.writer.write(ctx, VanishedLinks([link.pk for link in vanished], events))


@dataclass
class VanishedLinks:
    """The links of klanten gone from DigitaleFactuur, removed with their events."""

    link_pks: list[int]
    events: list[SyncEvent]

    def save(self, ctx) -> None:
        with transaction.atomic():
            DfLink.objects.filter(pk__in=self.link_pks).delete()
            rows.insert(self.events)
