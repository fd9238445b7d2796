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

With `DIGITALEFACTUUR_EXPORT_CONCURRENCY` above 1 the requests of a chunk go out over that many
workers (`concurrency.py`); everything else stays in the run's thread: planning, the database
(links read, the check that a found klant is not linked elsewhere, links and events written),
the counts, the progress. The requests are recorded in the order they were planned, (relation
id, kind), whatever order their answers come in, so the outcome is the sequential one. On a halt
the requests already handed to a worker are waited for (those still waiting for one are never
sent): what they wrote is recorded, what they only looked up or failed is dropped, as the
sequential export would not have sent it.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from integration.connectors.models import SyncEvent
from integration.crm.models import Relation

from .client import WriteResult
from .concurrency import open_runner
from .errors import DigitaleFactuurError, NotFound
from .links import DfLink, klant_payload
from .mapping import (
    NUMBER_FIELD,
    Export,
    fingerprint,
    klant_diff,
    raw_klant_hash,
    raw_relation_hash,
)
from .plan import LinkState, compare_found, export_state
from .schema import DfKlant

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


@dataclass
class _Pending:
    """One (relation, kind) to send: planned and recorded in the run's thread, sent by
    `runner` (a worker, or the run's own client); `sent` is the job under way."""

    relation: Relation
    kind: str
    link: DfLink | None
    export: Export
    fingerprint: str
    number: str
    event: SyncEvent
    notes: list
    sent: Future


@dataclass
class _Sent:
    """What a job did: the answer to a write (None: nothing written), or a klant found."""

    action: str = Action.UPDATED
    answer: WriteResult | None = None
    found: DfKlant | None = None
    recreated: bool = False
    #: A create refused after the lookup: raised where it is recorded, with the diff it had.
    failure: DigitaleFactuurError | None = None


# --- the jobs: network only, no database (they may run on a worker thread) ------------------

def _update(client, klant: DfKlant, elements) -> _Sent:
    try:
        return _Sent(Action.UPDATED, client.update(klant, fields=elements))
    except NotFound:
        # Vanished from DigitaleFactuur: PerfectView leads, so it is created again.
        answer = client.create(replace(klant, id=""), fields=elements)
        return _Sent(Action.CREATED, answer, recreated=True)


def _look_up_or_create(client, number: str, klant: DfKlant, elements, dry_run: bool) -> _Sent:
    found = client.find_by_relatienummer(number)
    if found is not None or dry_run:
        return _Sent(Action.CREATED, found=found)
    try:
        return _Sent(Action.CREATED, client.create(klant, fields=elements))
    except DigitaleFactuurError as failure:
        return _Sent(Action.CREATED, failure=failure)


def _update_found(client, klant: DfKlant, found_id: str, elements) -> _Sent:
    return _Sent(Action.UPDATED, client.update(replace(klant, id=found_id), fields=elements))


# --- the run's thread -------------------------------------------------------------------------

def export_one(ctx, relation: Relation, kind: str, link: DfLink | None,
               runner) -> _Pending | None:
    """Plan one (relation, kind) and hand its request to `runner`; None when unchanged
    (nothing to send). `record` finishes it once sent."""
    state = _state(link)
    export, crm_fingerprint, changed = export_state(relation, kind, state)
    if not changed:
        return None
    number = getattr(relation, NUMBER_FIELD[kind]).strip()
    event = SyncEvent(run=ctx.run, direction=EXPORT, relation=relation, number=number,
                      kind=kind, df_id=link.df_id if link else "")
    if link is not None:
        event.diff = {e: [o, n] for e, (o, n) in
                      klant_diff(link.last_klant, export.klant, relation.kind).items()}
        sent = (_done(_Sent(Action.UPDATED)) if ctx.dry_run else
                runner.submit(_update, export.klant, export.elements))
    else:
        sent = runner.submit(_look_up_or_create, number, export.klant, export.elements,
                             ctx.dry_run)
    return _Pending(relation, kind, link, export, crm_fingerprint, number, event,
                    list(export.warnings), sent)


def _done(sent: _Sent) -> Future:
    future = Future()
    future.set_result(sent)
    return future


def record(ctx, writes: ChunkWrites, pending: _Pending, runner) -> None:
    """Wait for `pending`'s request and record what happened in `writes` (the run's thread)."""
    relation, kind, event, notes = pending.relation, pending.kind, pending.event, pending.notes
    link = pending.link
    try:
        sent = pending.sent.result()
        if sent.recreated:
            notes.insert(0, _("Opnieuw aangemaakt: de klant was verdwenen uit "
                              "DigitaleFactuur."))
        if link is None and sent.found is not None:
            sent = _settle_found(ctx, writes, pending, sent.found, runner)
        elif link is None:
            event.diff = {e: ["", getattr(pending.export.klant, e)]
                          for e in pending.export.elements if getattr(pending.export.klant, e)}
            if sent.failure is not None:
                raise sent.failure
            if sent.answer is not None and sent.answer.recovered:
                notes.append(_("Na een onderbroken verbinding teruggevonden op "
                               "relatienummer; niet dubbel aangemaakt."))
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
    answer = sent.answer
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
        _agree(link, relation, pending.number, pending.fingerprint, klant)
    event.action, event.message = sent.action, " ".join(str(n) for n in notes)
    writes.events.append(event)
    ctx.count(EXPORT, sent.action)


def _settle_found(ctx, writes: ChunkWrites, pending: _Pending, found: DfKlant,
                  runner) -> _Sent:
    """A klant with the number exists: link it (and update it when its values differ)."""
    relation, event, number = pending.relation, pending.event, pending.number
    if DfLink.objects.filter(df_id=found.id).exists():
        raise _Refused(_("De klant met relatienummer %(number)s in DigitaleFactuur is "
                         "al gekoppeld aan een andere relatie.") % {"number": number})
    event.df_id = found.id
    event.diff = compare_found(pending.export, found, relation.kind)
    sent = _Sent(Action.UPDATED)
    if not event.diff:
        sent.action = Action.UNCHANGED
        pending.notes.insert(0, _("Gekoppeld aan de bestaande klant met dit nummer."))
    elif not ctx.dry_run:
        sent = runner.submit(_update_found, pending.export.klant, found.id,
                             pending.export.elements).result()
    if sent.answer is None and not ctx.dry_run:
        link = DfLink(relation=relation, kind=pending.kind, df_id=found.id)
        _agree(link, relation, number, pending.fingerprint, found)
        writes.new_links.append(link)
    return sent


def _record_next(ctx, writes: ChunkWrites, under_way: deque, runner) -> int:
    """Record the first of `under_way`; 1 when it was a request under way, else 0."""
    pending = under_way.popleft()
    if pending is None:
        ctx.count(EXPORT, Action.UNCHANGED)
        return 0
    record(ctx, writes, pending, runner)
    return 1


def _salvage(ctx, writes: ChunkWrites, under_way, runner) -> None:
    """After a halt, the requests still under way: what they wrote is recorded (the links stay
    true); what only failed or looked up is dropped, as the sequential export would never have
    sent it."""
    for pending in under_way:
        if pending is not None:
            pending.sent.cancel()  # those still waiting for a worker are never sent
    for pending in under_way:
        if pending is None or pending.sent.cancelled():
            continue
        try:
            sent = pending.sent.result()
        except Exception:  # noqa: S112  (nothing written; the halt says what went wrong)
            continue
        if sent.answer is not None:
            record(ctx, writes, pending, runner)


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
    total = relations.count()
    ctx.progress(phase=_("Bijwerken in DigitaleFactuur"), processed=0, total=total)
    # A change push of one relation needs no workers.
    runner = open_runner(ctx, min(settings.DIGITALEFACTUUR_EXPORT_CONCURRENCY, total))
    try:
        _export_chunks(ctx, relations, runner)
    finally:
        runner.close()


def _export_chunks(ctx, relations, runner) -> None:
    last_id, processed = 0, 0
    while True:
        chunk = list(relations.filter(pk__gt=last_id).order_by("pk")[:CHUNK_SIZE])
        if not chunk:
            break
        last_id = chunk[-1].pk
        links = {(link.relation_id, link.kind): link for link in
                 DfLink.objects.filter(relation_id__in=[r.pk for r in chunk])}
        writes = ChunkWrites()
        # In (relation id, kind) order, None for an unchanged one, recorded in the order they
        # were planned whatever order they come back in (without workers: each one as soon as
        # it is sent, as always). `runner.ahead` are handed out at a time: the workers bound the
        # requests in flight, the rest wait their turn, so a slow answer at the head of the
        # line leaves no worker idle.
        under_way: deque[_Pending | None] = deque()
        in_flight = 0
        try:
            for relation in chunk:
                for kind, number_field in NUMBER_FIELD.items():
                    if not getattr(relation, number_field).strip():
                        continue
                    pending = export_one(ctx, relation, kind, links.get((relation.pk, kind)),
                                         runner)
                    under_way.append(pending)
                    in_flight += pending is not None
                    while under_way and (under_way[0] is None or in_flight >= runner.ahead):
                        in_flight -= _record_next(ctx, writes, under_way, runner)
            while under_way:
                _record_next(ctx, writes, under_way, runner)
        except BaseException:
            _salvage(ctx, writes, under_way, runner)
            raise
        finally:
            # Whatever was sent before a halt is recorded: the links stay true.
            writes.flush(ctx)
        processed += len(chunk)
        ctx.progress(processed=processed)
        ctx.beat()
    ctx.progress(processed=processed, final=True)
