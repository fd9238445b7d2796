"""The export phase: PerfectView -> DigitaleFactuur, relations read in chunks by id.

Every relation with a Debiteurnummer is a `debiteur` klant, with a Crediteurnummer a `crediteur`
klant (both: two klanten). Per (relation, kind):

- linked and its export shape unchanged since the last sync: nothing, no call;
- linked and changed: `klant_updaten`; a 404 means the klant vanished from DigitaleFactuur:
  PerfectView leads, so it is created again and the log says so;
- not linked: the number is looked up first; a klant found is linked (and updated when its
  values differ), otherwise it is created (the client never creates twice after a timeout).

Links whose relation no longer carries that number are removed; nothing is ever deleted in
DigitaleFactuur. The links and events of a chunk are written together at the end of the chunk
(and before the run stops for any reason): a crash in between loses nothing that matters, as the
next run finds a created klant by its number and repeats an update harmlessly.
"""

from __future__ import annotations

from dataclasses import replace

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from integration.connectors.models import SyncEvent
from integration.crm.models import Relation

from .errors import DigitaleFactuurError, NotFound
from .links import DfLink, klant_payload
from .mapping import NUMBER_FIELD, fingerprint, klant_diff, raw_klant_hash, raw_relation_hash
from .plan import LinkState, compare_found, export_state

EXPORT = SyncEvent.Direction.EXPORT
Action = SyncEvent.Action
CHUNK_SIZE = 100
#: What an export writes on a link that exists already.
LINK_FIELDS = ["df_id", "number", "sent_fingerprint", "received_fingerprint",
               "received_raw_hash", "relation_raw_hash", "last_payload", "synced_at"]


class ChunkWrites:
    """The links and events of one chunk, written in one transaction."""

    def __init__(self):
        self.new_links: list[DfLink] = []
        self.changed_links: list[DfLink] = []
        self.events: list[SyncEvent] = []

    def flush(self, ctx) -> None:
        if ctx.dry_run:
            ctx.preview.extend(self.events)
        elif self.new_links or self.changed_links or self.events:
            with transaction.atomic():
                if self.changed_links:
                    # An upsert on the primary key: one plain INSERT .. ON CONFLICT, where
                    # bulk_update builds a CASE expression per field and row (SQLite 3.24+,
                    # PostgreSQL).
                    DfLink.objects.bulk_create(
                        self.changed_links, update_conflicts=True, unique_fields=["id"],
                        update_fields=LINK_FIELDS)
                if self.new_links:
                    DfLink.objects.bulk_create(self.new_links)
                if self.events:
                    SyncEvent.objects.bulk_create(self.events)
        self.__init__()


def _state(link: DfLink | None) -> LinkState | None:
    if link is None:
        return None
    return LinkState(relation_id=link.relation_id, kind=link.kind, df_id=link.df_id,
                     sent_fingerprint=link.sent_fingerprint,
                     received_fingerprint=link.received_fingerprint,
                     last_klant=link.last_klant, pk=link.pk,
                     received_raw_hash=link.received_raw_hash,
                     relation_raw_hash=link.relation_raw_hash)


def remove_stale_links(ctx, relation_ids=None) -> int:
    """Drop the links of relations that lost their number (never delete in DigitaleFactuur)."""
    stale = DfLink.objects.none()
    for kind, number_field in NUMBER_FIELD.items():
        stale = stale | DfLink.objects.filter(kind=kind, **{f"relation__{number_field}": ""})
    if relation_ids is not None:
        stale = stale.filter(relation_id__in=relation_ids)
    if ctx.dry_run:
        return stale.count()
    removed, _per_model = stale.delete()
    return removed


def export_one(ctx, writes: ChunkWrites, relation: Relation, kind: str,
               link: DfLink | None) -> None:
    """Send one (relation, kind) when it changed; record what happened in `writes`."""
    state = _state(link)
    export, crm_fingerprint, changed = export_state(relation, kind, state)
    if not changed:
        ctx.count(EXPORT, Action.UNCHANGED)
        return
    number = getattr(relation, NUMBER_FIELD[kind]).strip()
    event = SyncEvent(run=ctx.run, direction=EXPORT, relation=relation, number=number,
                      kind=kind, df_id=link.df_id if link else "")
    notes = list(export.warnings)
    client = ctx.client
    try:
        if link is not None:
            event.diff = {e: [o, n] for e, (o, n) in
                          klant_diff(link.last_klant, export.klant, relation.kind).items()}
            action, answer = Action.UPDATED, None
            if not ctx.dry_run:
                try:
                    answer = client.update(export.klant, fields=export.elements)
                except NotFound:
                    answer = client.create(replace(export.klant, id=""), fields=export.elements)
                    action = Action.CREATED
                    notes.insert(0, _("Opnieuw aangemaakt: de klant was verdwenen uit "
                                      "DigitaleFactuur."))
        else:
            found = client.find_by_relatienummer(number)
            if found is not None and DfLink.objects.filter(df_id=found.id).exists():
                raise _Refused(_("De klant met relatienummer %(number)s in DigitaleFactuur is "
                                 "al gekoppeld aan een andere relatie.") % {"number": number})
            if found is None:
                action, answer = Action.CREATED, None
                event.diff = {e: ["", getattr(export.klant, e)] for e in export.elements
                              if getattr(export.klant, e)}
                if not ctx.dry_run:
                    answer = client.create(export.klant, fields=export.elements)
                    if answer.recovered:
                        notes.append(_("Na een onderbroken verbinding teruggevonden op "
                                       "relatienummer; niet dubbel aangemaakt."))
            else:
                event.df_id = found.id
                event.diff = compare_found(export, found, relation.kind)
                action, answer = Action.UPDATED, None
                if not event.diff:
                    action = Action.UNCHANGED
                    notes.insert(0, _("Gekoppeld aan de bestaande klant met dit nummer."))
                elif not ctx.dry_run:
                    answer = client.update(replace(export.klant, id=found.id),
                                           fields=export.elements)
                if answer is None and not ctx.dry_run:
                    link = DfLink(relation=relation, kind=kind, df_id=found.id)
                    _agree(link, relation, number, crm_fingerprint, found)
                    writes.new_links.append(link)
    except DigitaleFactuurError as error:
        if error.action == "halt":
            raise
        event.action, event.message = Action.ERROR, str(error)
        writes.events.append(event)
        ctx.count(EXPORT, Action.ERROR)
        ctx.failed_record(error)  # may end the run: DigitaleFactuur down three times in a row
        return
    except _Refused as refused:
        event.action, event.message = Action.ERROR, str(refused)
        writes.events.append(event)
        ctx.count(EXPORT, Action.ERROR)
        ctx.errors += 1
        return
    ctx.record_ok()
    if answer is not None:
        notes.extend(answer.warnings)
        klant = answer.klant
        event.df_id = klant.id
        if link is None:
            link = DfLink(relation=relation, kind=kind)
            writes.new_links.append(link)
        else:
            writes.changed_links.append(link)
        link.df_id = klant.id
        _agree(link, relation, number, crm_fingerprint, klant)
    event.action, event.message = action, " ".join(str(n) for n in notes)
    writes.events.append(event)
    ctx.count(EXPORT, action)


class _Refused(Exception):
    """A record this run will not send; the message is for the log."""


def _agree(link: DfLink, relation: Relation, number: str, sent: str, klant) -> None:
    """Both sides agree now: remember what was sent and what DigitaleFactuur answered."""
    link.number = number
    link.sent_fingerprint = sent
    link.relation_raw_hash = raw_relation_hash(relation, link.kind)
    link.received_fingerprint = fingerprint(klant, relation.kind)
    link.received_raw_hash = raw_klant_hash(klant)
    link.last_payload = klant_payload(klant)
    link.synced_at = timezone.now()


def relations_to_push(relation_ids) -> list[int]:
    """Those of `relation_ids` whose export would do anything: a changed shape, no link yet, or
    a link to drop. A save that touched no mapped field then costs no run at all."""
    links = {(link.relation_id, link.kind): link
             for link in DfLink.objects.filter(relation_id__in=relation_ids)}
    wanted = []
    for relation in Relation.objects.filter(pk__in=relation_ids).order_by("pk"):
        for kind, number_field in NUMBER_FIELD.items():
            link = links.get((relation.pk, kind))
            if getattr(relation, number_field).strip():
                changed = export_state(relation, kind, _state(link))[2]
            else:
                changed = link is not None
            if changed:
                wanted.append(relation.pk)
                break
    return wanted


def run_export(ctx) -> None:
    """Every relation with a number (or those of `ctx.relation_ids`), chunk by chunk."""
    remove_stale_links(ctx, ctx.relation_ids)
    with_number = Q(debtor_number__gt="") | Q(creditor_number__gt="")
    relations = Relation.objects.filter(with_number)
    if ctx.relation_ids is not None:
        relations = relations.filter(pk__in=ctx.relation_ids)
    ctx.progress(phase=_("Bijwerken in DigitaleFactuur"), processed=0,
                 total=relations.count())
    last_id, processed = 0, 0
    while True:
        chunk = list(relations.filter(pk__gt=last_id).order_by("pk")[:CHUNK_SIZE])
        if not chunk:
            break
        last_id = chunk[-1].pk
        links = {(link.relation_id, link.kind): link for link in
                 DfLink.objects.filter(relation_id__in=[r.pk for r in chunk])}
        writes = ChunkWrites()
        try:
            for relation in chunk:
                for kind, number_field in NUMBER_FIELD.items():
                    if getattr(relation, number_field).strip():
                        export_one(ctx, writes, relation, kind, links.get((relation.pk, kind)))
        finally:
            # Whatever was sent before a halt is recorded: the links stay true.
            writes.flush(ctx)
        processed += len(chunk)
        ctx.progress(processed=processed)
        ctx.beat()
    ctx.progress(processed=processed, final=True)
