"""The import phase: DigitaleFactuur -> PerfectView, one page of klanten at a time.

Per page, in this order and nothing more:

1. read: the page's links (by DigitaleFactuur id) and the relations they or the klanten'
   numbers point at, each relation annotated with the df_id of the links it already has: two
   queries, whatever the page holds. A linked klant whose raw hash equals its link's is
   unchanged (plan.py) and needs no relation: those are not read at all;
2. plan: `plan.plan_klant` per klant, in memory (no query);
3. write, only when something changed, in ONE transaction under the import guard: new
   relations (bulk_create), changed relations (bulk_update of the changed fields only), new and
   refreshed links, and the page's events; a few queries, never one per klant;
4. progress on the run record (at most one write per half second, and one at the end), and a
   heartbeat on the lock (throttled).

Memory holds one page: counts go to the run, events of a page are written with that page.
An unchanged page costs the two reads and nothing else.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from integration.connectors.models import SyncEvent
from integration.crm.models import Relation

from .links import DfLink, klant_payload
from .listener import importing
from .mapping import CREDITOR, DEBTOR, NUMBER_FIELD, raw_klant_hash, raw_relation_hash
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


def _link_state(link: DfLink) -> LinkState:
    return LinkState(relation_id=link.relation_id, kind=link.kind, df_id=link.df_id,
                     sent_fingerprint=link.sent_fingerprint,
                     received_fingerprint=link.received_fingerprint,
                     last_klant=link.last_klant, pk=link.pk,
                     received_raw_hash=link.received_raw_hash,
                     relation_raw_hash=link.relation_raw_hash)


def read_snapshot(klanten: list[DfKlant]) -> PageSnapshot:
    """The two reads of a page: its links, then every relation it may touch."""
    df_ids = [klant.id for klant in klanten if klant.id]
    links = {link.df_id: _link_state(link) for link in DfLink.objects.filter(df_id__in=df_ids)}
    unchanged = {klant.id for klant in klanten
                 if klant.id in links and links[klant.id].klant_unchanged(klant)}
    changed = [klant for klant in klanten if klant.id not in unchanged]
    numbers = page_numbers(changed)
    wanted = (Q(pk__in={links[klant.id].relation_id for klant in changed if klant.id in links})
              | Q(debtor_number__in=numbers[DEBTOR])
              | Q(creditor_number__in=numbers[CREDITOR]))
    linked = {kind: Subquery(DfLink.objects.filter(relation=OuterRef("pk"), kind=kind)
                             .values("df_id")[:1]) for kind in NUMBER_FIELD}
    relations = Relation.objects.filter(wanted).annotate(
        linked_debtor=linked[DEBTOR], linked_creditor=linked[CREDITOR])
    snapshot = PageSnapshot(links, {}, {}, {}, unchanged_df_ids=unchanged)
    for relation in relations:
        snapshot.relations_by_id[relation.pk] = relation
        for kind, number_field in NUMBER_FIELD.items():
            number = getattr(relation, number_field)
            if number:
                snapshot.relations_by_number[(kind, number)] = relation
            df_id = getattr(relation, f"linked_{kind}")
            if df_id:
                snapshot.linked_df_ids[(relation.pk, kind)] = df_id
    return snapshot


def _event(ctx, decision: Decision, action: str, message: str | None = None) -> SyncEvent:
    return SyncEvent(run=ctx.run, direction=IMPORT,
                     relation=decision.relation, df_id=decision.klant.id,
                     number=decision.number, kind=decision.kind or "", action=action,
                     message=decision.message if message is None else message,
                     diff=decision.diff, losing_values=decision.losing_values)


def _link_for(decision: Decision, now) -> DfLink:
    klant, relation = decision.klant, decision.relation
    link = DfLink(relation=relation, kind=decision.kind, df_id=klant.id,
                  number=decision.number, sent_fingerprint=decision.sent_fingerprint,
                  received_fingerprint=decision.received_fingerprint,
                  # Each raw hash only with the fingerprint it stands for: a conflict linked
                  # with an empty sent fingerprint has no agreed CRM side yet.
                  received_raw_hash=raw_klant_hash(klant),
                  relation_raw_hash=(raw_relation_hash(relation, decision.kind)
                                     if decision.sent_fingerprint else ""),
                  last_payload=klant_payload(klant), synced_at=now)
    if decision.link is not None:
        link.pk = decision.link.pk
    return link


LINK_FIELDS = ["number", "sent_fingerprint", "received_fingerprint", "received_raw_hash",
               "relation_raw_hash", "last_payload", "synced_at"]


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


def write_page(ctx, decisions: list[Decision]) -> None:
    """Count every decision; write the page's changes in one transaction (nothing in a dry run).
    """
    now = timezone.now()
    events, new_relations, changed_relations = [], [], []
    new_links, refreshed_links, relation_fields = [], [], set()
    updates: dict[int, tuple[Decision, SyncEvent]] = {}
    for decision in decisions:
        action, with_event = OUTCOME_ACTION[decision.outcome]
        ctx.count(IMPORT, action)
        new_link = decision.link is None
        if decision.outcome is Outcome.LINK and new_link:
            events.append(_event(ctx, decision, Action.UNCHANGED))
        elif with_event:
            events.append(_event(ctx, decision, action))
        if decision.outcome is Outcome.CREATE_RELATION:
            new_relations.append(decision.relation)
        elif decision.outcome is Outcome.UPDATE_RELATION:
            changed_relations.append(decision.relation)
            relation_fields.update(decision.diff)
            updates[decision.relation.pk] = (decision, events[-1])
        writes_link = decision.outcome in (Outcome.CREATE_RELATION, Outcome.UPDATE_RELATION,
                                           Outcome.LINK)
        # A conflict with a klant found by number is linked now (empty sent fingerprint), so
        # the export phase updates that very klant instead of looking it up again.
        if writes_link or (decision.outcome is Outcome.CONFLICT and new_link):
            (new_links if new_link else refreshed_links).append(decision)
    if ctx.dry_run:
        ctx.preview.extend(events)
        return
    if not (events or new_links or refreshed_links):
        return
    read_at = {relation.pk: relation.updated_at for relation in changed_relations}
    with transaction.atomic(), importing():
        saved_meanwhile = _saved_meanwhile(read_at)
        if saved_meanwhile:
            for pk in saved_meanwhile:
                _perfectview_wins(ctx, updates[pk][1], updates[pk][0])
            # Neither the relation nor its link is written: the link's base stays as it was,
            # so the export sees the CRM's change and sends it.
            changed_relations = [r for r in changed_relations if r.pk not in saved_meanwhile]
            refreshed_links = [d for d in refreshed_links
                               if d.relation is None or d.relation.pk not in saved_meanwhile]
            new_links = [d for d in new_links
                         if d.relation is None or d.relation.pk not in saved_meanwhile]
        if new_relations:
            Relation.objects.bulk_create(new_relations)
        if changed_relations:
            for relation in changed_relations:
                relation.updated_at = now  # bulk_update does not apply auto_now
            Relation.objects.bulk_update(changed_relations, [*sorted(relation_fields),
                                                             "updated_at"])
        if new_links:
            DfLink.objects.bulk_create([_link_for(d, now) for d in new_links])
        if refreshed_links:
            DfLink.objects.bulk_update([_link_for(d, now) for d in refreshed_links],
                                       LINK_FIELDS)
        if events:
            # The events of new relations get their ids now: bulk_create re-reads the
            # relation objects, which bulk_create above has given primary keys.
            SyncEvent.objects.bulk_create(events)


def run_import(ctx) -> None:
    """Every page of klanten, planned and written page by page."""
    options = import_options(ctx.settings)
    ctx.progress(phase=_("Debiteuren en crediteuren ophalen"), processed=0, total=0)
    processed = 0
    for klanten in ctx.client.iter_pages():
        snapshot = read_snapshot(klanten)
        # Numbers taken on this page; earlier pages are in the database (and the snapshot).
        claimed: dict = {}
        decisions = [plan_klant(klant, snapshot, options, claimed) for klant in klanten]
        write_page(ctx, decisions)
        processed += len(klanten)
        ctx.progress(processed=processed)
        ctx.beat()
    ctx.progress(processed=processed, final=True)
