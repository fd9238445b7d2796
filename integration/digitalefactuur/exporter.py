"""The export phase: PerfectView -> DigitaleFactuur, relations read in chunks by id.

Every relation with a Debiteurnummer is a `debiteur` klant, with a Crediteurnummer a `crediteur`
klant (both: two klanten). Per (relation, kind):

- linked and its export shape unchanged since the last sync: nothing, no call;
- linked and changed: `klant_updaten` with the WHOLE klant as this run last read it (the link's
  kept copy, fresh after the run's full read; a change push reads it first), only our fields
  changed: whether the service clears the elements an update leaves out is not documented, so
  we leave nothing out. A klant DigitaleFactuur changed since the last sync is a conflict the
  log records (PerfectView still wins), unless the import phase of this run already did;
- linked, but its klant gone from the account (the full read did not see it, or the update was
  answered 404): created again, "opnieuw aangemaakt" in the log;
- not linked: the number is looked for in the whole account (`AccountView.find`: the filter
  only when its answer shows it honoured). A klant found is linked (the lowest id when there
  are more; the log names the others as duplicates) and updated when its values differ;
  otherwise the klant is created. A number that exists anywhere is never created again.

Each chunk goes in three steps: plan (the run's thread: compare, read what must be read, decide
the write), send (the writes, in order, over a few workers as many at a time as the adaptive
limit allows, at most `DIGITALEFACTUUR_CONCURRENCY`; or on the run's client), record (the
run's thread, in plan order: links, events, counts). While a chunk's writes are under way the
run's thread saves the chunk before and plans the next chunk; none of its writes goes out before
this one is recorded, so a halt still stops the export between chunks. A create answered without
an id (a text, an empty body) is linked after the chunk by its number. Links and events of a
chunk are written together, in chunk order, while the next chunk's writes are out (and at the
end, also when the run stops): a crash in between loses nothing that matters, as the next run
finds a created klant by its number and repeats an update harmlessly. Links whose relation no
longer carries that number are removed; nothing is ever deleted in DigitaleFactuur.

Planning starts from plain values: a chunk's relations are read as the columns the mapping
reads, with their links' raw hashes; a (relation, kind) whose stored values hash to what its
link recorded when both sides last agreed is unchanged, and nothing of it becomes a model
(`_unchanged_by_values`). Only the others are built (from the values already read) and
compared in full (`plan_one`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import SimpleNamespace

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from integration.connectors.models import SyncEvent
from integration.crm.models import Relation

from .account import VANISHED
from .client import WriteResult, id_order
from .concurrency import Answer, Senders
from .errors import NotFound
from .links import (
    AGREEMENT_FIELDS,
    STATE_COLUMNS,
    DfLink,
    agree,
    link_state,
    links_of,
    scope_types,
    stale_links,
)
from .mapping import (
    CREDITOR,
    DEBTOR,
    NUMBER_FIELD,
    TABLES,
    Export,
    classify,
    fingerprint,
    klant_diff,
    raw_relation_hash,
    to_klant,
)
from .plan import compare_found, export_state
from .schema import DfKlant

EXPORT = SyncEvent.Direction.EXPORT
Action = SyncEvent.Action
CHUNK_SIZE = 100


class ChunkWrites:
    """The links and events of one chunk, saved in one transaction (by the run's writer)."""

    def __init__(self):
        self.removed_links: list[int] = []
        self.new_links: list[DfLink] = []
        self.changed_links: list[DfLink] = []
        self.events: list[SyncEvent] = []

    def save(self, ctx) -> None:
        # Imported here: this class is all of exporter.py that writes rows this way.
        from integration.db import rows

        if self.new_links or self.changed_links or self.events or self.removed_links:
            with transaction.atomic():
                if self.removed_links:
                    DfLink.objects.filter(pk__in=self.removed_links).delete()
                # One prepared multi-row statement per table (integration/db/rows.py).
                if self.changed_links:
                    # An upsert on the primary key: one plain INSERT .. ON CONFLICT, where
                    # bulk_update builds a CASE expression per field and row (SQLite 3.24+,
                    # PostgreSQL).
                    rows.upsert(self.changed_links, AGREEMENT_FIELDS)
                if self.new_links:
                    rows.insert(self.new_links)
                if self.events:
                    rows.insert(self.events)


def remove_stale_links(ctx, relation_ids=None) -> int:
    """Drop the links of relations that lost their number (never delete in DigitaleFactuur)."""
    return ctx.writer.remove_links(stale_links(relation_ids))


class _Refused(Exception):
    """A record this run will not send; the message is for the log."""


@dataclass
class _Sent:
    """What a write did (or, when nothing is sent, what the record comes to): as what action,
    the answer, and the klant both sides agree on now."""

    action: str = Action.UPDATED
    answer: WriteResult | None = None
    recreated: bool = False
    #: The klant agreed on when there is no answer: one that already holds our values.
    holding: DfKlant | None = None

    @property
    def agreed(self) -> DfKlant | None:
        return self.answer.klant if self.answer is not None else self.holding


@dataclass
class _Pending:
    """One (relation, kind) planned in the run's thread; `write` is what to send, if anything."""

    relation: Relation
    kind: str
    link: DfLink | None
    export: Export
    fingerprint: str
    number: str
    event: SyncEvent
    notes: list = field(default_factory=list)
    #: (function, arguments...): sent as function(client, *arguments) (concurrency.Senders).
    write: tuple | None = None
    #: What the record comes to when no answer says otherwise (nothing to send: a klant linked
    #: as it is; or nothing sent: a preview).
    planned: _Sent = field(default_factory=_Sent)
    refused: str = ""
    #: Events recorded before this one's (a conflict a change push found).
    before: list = field(default_factory=list)


# --- the writes: network only, no database (they may run on a worker thread) ----------------

def _update(client, klant: DfKlant, elements, base: DfKlant | None) -> _Sent:
    try:
        return _Sent(Action.UPDATED, client.update(klant, fields=elements, base=base))
    except NotFound:
        # Vanished from DigitaleFactuur: PerfectView leads, so it is created again, unless
        # its number is in the account now (merged there): then that klant is the one.
        return _create_unless_numbered(client, replace(klant, id=""), elements, recreated=True)


def _create(client, klant: DfKlant, elements) -> _Sent:
    return _Sent(Action.CREATED, client.create(klant, fields=elements))


def _create_unless_numbered(client, klant: DfKlant, elements, *, recreated: bool) -> _Sent:
    found = client.find_everywhere(klant.relatienummer) if klant.relatienummer else []
    if found:
        answer = client.update(replace(klant, id=found[0].id), fields=elements, base=found[0])
        return _Sent(Action.UPDATED, answer)
    return _Sent(Action.CREATED, client.create(klant, fields=elements), recreated=recreated)


# --- plan: the run's thread ------------------------------------------------------------------

def plan_one(ctx, relation: Relation, kind: str, link: DfLink | None, *,
             raw_hash_differs: bool = False) -> _Pending | None:
    """What to send for one (relation, kind); None when it is unchanged (nothing to send).
    `raw_hash_differs`: the relation's raw hash was compared with the link's already (and
    differed), so the fingerprints decide."""
    gone = link is not None and link.df_id in ctx.vanished_ids
    # The link's fingerprints and raw hashes are all the comparison reads (its last klant
    # is built only when there is something to send: `_plan_update`).
    state = (link_state(link.relation_id, [getattr(link, c) for c in STATE_COLUMNS])
             if link is not None else None)
    if state is not None and raw_hash_differs:
        state = replace(state, relation_raw_hash="")
    export, crm_fingerprint, changed = export_state(relation, kind, state)
    if not (changed or gone):
        return None
    if export is None:
        export = to_klant(relation, kind, link.df_id)
        crm_fingerprint = export.fingerprint
    number = getattr(relation, NUMBER_FIELD[kind]).strip()
    event = SyncEvent(run=ctx.run, direction=EXPORT, relation=relation, number=number,
                      kind=kind, external_id=link.df_id if link else "", name=relation.display_name)
    pending = _Pending(relation, kind, link, export, crm_fingerprint, number, event,
                       list(export.warnings))
    try:
        if link is not None and not gone:
            base = ctx.account.fresh_copy(link)
            if base is VANISHED:
                if not ctx.account.vanished(link.df_id):
                    raise _Refused(ctx.account.vanished_note() or _(
                        "De klant (id %(id)s) is niet gevonden in DigitaleFactuur; er is "
                        "niets verstuurd.") % {"id": link.df_id})
                gone = True
            else:
                _plan_update(ctx, pending, base)
                return pending
        if gone:
            pending.notes.insert(0, _("Opnieuw aangemaakt: de klant was verdwenen uit "
                                      "DigitaleFactuur."))
            pending.export = replace(pending.export, klant=replace(export.klant, id=""))
        _plan_unlinked(ctx, pending)
    except _Refused as refused:
        pending.refused = str(refused)
    return pending


def _plan_update(ctx, pending: _Pending, base: DfKlant | None) -> None:
    link, relation, export = pending.link, pending.relation, pending.export
    last_klant = link.last_klant
    pending.event.diff = {e: [o, n] for e, (o, n) in
                          klant_diff(last_klant, export.klant, relation.kind).items()}
    base_fingerprint = fingerprint(base, relation.kind) if base is not None else None
    if base_fingerprint == export.fingerprint:
        # DigitaleFactuur holds these very values already (a write whose link update was
        # lost, or the same change made there): nothing to send, no conflict; agree again.
        pending.planned = _Sent(Action.UNCHANGED, holding=base)
        pending.notes.insert(0, _("DigitaleFactuur had deze waarden al; niets verstuurd."))
        return
    if (base is not None and pending.kind not in ctx.imported_kinds
            and base_fingerprint != link.received_fingerprint):
        # DigitaleFactuur changed it since the last sync, and no import this run said so.
        losing = klant_diff(last_klant, base, relation.kind)
        if losing:
            pending.before.append(SyncEvent(
                run=ctx.run, direction=EXPORT, relation=relation, number=pending.number,
                kind=pending.kind, external_id=link.df_id, action=Action.CONFLICT,
                diff={e: [o, n] for e, (o, n) in klant_diff(base, export.klant,
                                                            relation.kind).items()},
                losing_values={e: new for e, (_old, new) in losing.items()},
                message=_("Conflict: de klant is in DigitaleFactuur gewijzigd sinds de vorige "
                          "synchronisatie, en de relatie in PerfectView ook. PerfectView gaat "
                          "voor; de waarden uit DigitaleFactuur worden overschreven.")))
    pending.write = (_update, export.klant, export.elements, base)


def _plan_unlinked(ctx, pending: _Pending) -> None:
    """Not linked (or its klant gone): link the klant holding the number, or create one."""
    export, relation, event = pending.export, pending.relation, pending.event
    found = ctx.account.find(pending.number)
    if not found:
        event.diff = {e: ["", getattr(export.klant, e)]
                      for e in export.elements if getattr(export.klant, e)}
        pending.planned = _Sent(Action.CREATED)
        pending.write = (_create, export.klant, export.elements)
        return
    klant = found[0]
    if len(found) > 1:
        pending.notes.append(_(
            "Dubbel in DigitaleFactuur: de klanten %(ids)s hebben allemaal relatienummer "
            "%(number)s; gekoppeld aan klant %(id)s. Voeg ze samen in DigitaleFactuur.") % {
            "ids": ", ".join(k.id for k in found), "number": pending.number, "id": klant.id})
    if not ctx.account.available(klant):
        raise _Refused(_("De klant met relatienummer %(number)s in DigitaleFactuur (id %(id)s) "
                         "is al gekoppeld aan een andere relatie.") % {
            "number": pending.number, "id": klant.id})
    found_kind, _reason = classify(klant)
    if found_kind is not None and found_kind != pending.kind:
        raise _Refused(_("Het relatienummer %(number)s is in DigitaleFactuur al in gebruik "
                         "door een klant van een ander type (id %(id)s); er is niets "
                         "aangemaakt. Geef de relatie een ander nummer.") % {
            "number": pending.number, "id": klant.id})
    ctx.account.take(klant.id)
    event.external_id = klant.id
    event.diff = compare_found(export, klant, relation.kind)
    if not event.diff:
        pending.planned = _Sent(Action.UNCHANGED, holding=klant)
        pending.notes.insert(0, _("Gekoppeld aan de bestaande klant met dit nummer."))
    else:
        pending.write = (_update, replace(export.klant, id=klant.id), export.elements, klant)


# --- record: the run's thread, in plan order --------------------------------------------------

def record(ctx, writes: ChunkWrites, pending: _Pending, answer: Answer | None,
           unresolved: list) -> None:
    """Record what the write's `answer` (None: nothing was sent) did; a halt is raised."""
    event, notes = pending.event, pending.notes
    error = answer.error if answer is not None else None
    if error is not None and error.action == "halt":
        raise error
    for before in pending.before:
        writes.events.append(before)
        ctx.count(EXPORT, before.action)
    if pending.refused:
        _failed(ctx, writes, event, pending.refused)
        ctx.errors += 1
        return
    if error is not None:
        event.detail = error.technical_detail
        _failed(ctx, writes, event, str(error))
        ctx.failed_record(error)  # may end the run: DigitaleFactuur down three times in a row
        return
    ctx.record_ok()
    sent = answer.result if answer is not None and answer.result is not None else pending.planned
    if sent.recreated:
        notes.insert(0, _("Opnieuw aangemaakt: de klant was verdwenen uit DigitaleFactuur."))
    if sent.answer is not None and sent.answer.recovered:
        notes.append(_("Na een onderbroken verbinding teruggevonden op relatienummer; niet "
                       "dubbel aangemaakt."))
    if sent.answer is not None:
        notes.extend(sent.answer.warnings)
    agreed = sent.agreed
    if agreed is not None and not agreed.id:
        unresolved.append(pending)  # answered without an id: linked after the chunk
    elif agreed is not None:
        event.external_id = agreed.id
        _bind(writes, pending, agreed)
    event.action, event.message = sent.action, " ".join(str(n) for n in notes)
    writes.events.append(event)
    ctx.count(EXPORT, sent.action)


def _failed(ctx, writes: ChunkWrites, event: SyncEvent, message: str) -> None:
    event.action, event.message = Action.ERROR, message
    writes.events.append(event)
    ctx.count(EXPORT, Action.ERROR)


def _bind(writes: ChunkWrites, pending: _Pending, klant: DfKlant) -> None:
    """Both sides agree now on `klant`: the link (new, moved or refreshed) remembers it."""
    link = pending.link
    if link is not None and link.df_id != klant.id:
        writes.removed_links.append(link.pk)  # its klant is gone: a new link replaces it
        link = None
    if link is None:
        link = DfLink(relation=pending.relation, kind=pending.kind)
        writes.new_links.append(link)
    else:
        writes.changed_links.append(link)
    agree(link, pending.relation, pending.number, klant, sent_fingerprint=pending.fingerprint)


def _resolve(ctx, writes: ChunkWrites, unresolved: list) -> None:
    """Creates answered without an id: their klant is found by its number and linked. When the
    filter cannot be trusted, one read of the account serves the whole chunk."""
    if not unresolved:
        return
    client = ctx.client
    numbers = {pending.number for pending in unresolved}
    if client.filter_honoured is False:
        by_number: dict[str, list[DfKlant]] = {}
        for klant in client.iter_klanten():
            if klant.relatienummer.strip() in numbers:
                by_number.setdefault(klant.relatienummer.strip(), []).append(klant)
    else:
        by_number = {number: client.find_everywhere(number) for number in numbers}
    for pending in unresolved:
        found = sorted(by_number.get(pending.number, ()), key=id_order)
        if not found:
            pending.event.message = " ".join(filter(None, [pending.event.message, _(
                "DigitaleFactuur bevestigde het aanmaken zonder id, en de klant is niet "
                "teruggevonden op zijn nummer; de volgende run koppelt hem alsnog.")]))
            continue
        pending.event.external_id = found[0].id
        # The klant as read now: what was sent, and whatever else DigitaleFactuur keeps.
        _bind(writes, pending, found[0])


def _in_scope(ctx, relations):
    """The relations Bijwerken may send; those left out are named in the preview and counted
    in the run's message, with the reason. Their links stay; nothing is deleted."""
    types = scope_types(ctx.settings)
    if not types:
        return relations
    in_scope = Q(relation_type__in=types)
    left_out = relations.exclude(in_scope)
    count = left_out.count()
    if count:
        names = ", ".join(str(t) for t in types)
        ctx.note(_("%(count)d relatie(s) met een debiteur- of crediteurnummer vallen buiten "
                   "Bijwerken (alleen relatietypen: %(types)s) en zijn niet verstuurd."),
                 count=count, types=names)
        ctx.writer.explain(lambda: [SyncEvent(
            run=ctx.run, direction=EXPORT, relation=relation, action=Action.SKIPPED,
            number=relation.debtor_number or relation.creditor_number,
            kind=DEBTOR if relation.debtor_number else CREDITOR,
            message=_("Niet verstuurd: relatietype %(type)s valt buiten Bijwerken "
                      "(alleen relatietypen: %(types)s).") % {
                "type": relation.relation_type or "-", "types": names})
            for relation in left_out.select_related("relation_type").order_by("pk")[:500]])
    return relations.filter(in_scope)


def run_export(ctx) -> None:
    """Every relation with a number (or those of `ctx.relation_ids`), chunk by chunk."""
    remove_stale_links(ctx, ctx.relation_ids)
    if ctx.relation_ids is None:
        # A full run reads the account once (the import did, or it happens now): the floor
        # for finding numbers and klanten that vanished.
        if not ctx.account.complete:
            ctx.progress(phase=_("Klanten in DigitaleFactuur lezen"), processed=0, total=0)
            ctx.account.read_all()
        ctx.vanished_ids = {link.df_id for link in ctx.account.vanished_links()}
        ctx.note(ctx.account.vanished_note())
    with_number = Q(debtor_number__gt="") | Q(creditor_number__gt="")
    relations = Relation.objects.filter(with_number)
    if ctx.relation_ids is not None:
        relations = relations.filter(pk__in=ctx.relation_ids)
    relations = _in_scope(ctx, relations)
    total = relations.count()
    ctx.progress(phase=_("Bijwerken in DigitaleFactuur"), processed=0, total=total)
    # A change push of one relation needs no workers.
    senders = ctx.writer.senders(ctx.client, ctx.workers, total)
    try:
        _export_chunks(ctx, relations, senders)
    finally:
        senders.close()


def _export_chunks(ctx, relations, senders: Senders) -> None:
    """Chunk after chunk; while a chunk's writes are under way, the run's thread saves the
    links and events of the chunk before and plans the next one (nothing of the next is sent
    before this one is recorded)."""
    processed = 0
    unsaved: list[ChunkWrites] = []  # recorded, saved while the next chunk's writes are out
    try:
        planned = _plan_chunk(ctx, relations, 0)
        while planned is not None:
            ids, plans = planned
            writes = ChunkWrites()
            try:
                answers = senders.start_chunk(
                    [pending.write for pending in plans if pending is not None and pending.write],
                    ctx.stop_sending)
                try:
                    _save(ctx, unsaved)
                    planned = _plan_chunk(ctx, relations, ids[-1])
                finally:
                    # A planning failure is raised once this chunk's answers are recorded.
                    _record_chunk(ctx, plans, answers(), writes)
            finally:
                # Whatever was sent before a halt is recorded and saved: the links stay true.
                unsaved.append(writes)
            processed += len(ids)
            ctx.progress(processed=processed)
            ctx.beat()
    finally:
        _save(ctx, unsaved)  # the last chunk's, or those recorded before a stop
    ctx.progress(processed=processed, final=True)


def _save(ctx, unsaved: list[ChunkWrites]) -> None:
    """The recorded chunks' links and events, in chunk order."""
    while unsaved:
        ctx.writer.write(ctx, unsaved[0])
        unsaved.pop(0)


#: The relation columns `mapping.raw_relation_hash` and `to_klant` read, whatever the
#: relation's kind (which includes what its display name is made of), in the model's field
#: order, the primary key first: what `Relation.from_db` takes.
_READ = {"id", "kind", *NUMBER_FIELD.values(),
         *(name for table in TABLES.values() for row in table if row.direction == "both"
           for name in row.fields)}
LOADED_COLUMNS = tuple(f.attname for f in Relation._meta.concrete_fields if f.attname in _READ)


def _unchanged_by_values(ctx, relations, last_id: int) -> tuple[list, list, dict]:
    """The next chunk after `last_id`, read as plain values, and which of its (relation, kind)
    pairs its links prove unchanged: (the rows, [(relation id, kind, unchanged?)] in plan
    order, the rows by id of the relations some kind of which may have changed).

    A link whose relation raw hash equals the hash of the relation's stored values, and whose
    klant did not vanish, is what `plan_one` calls unchanged; deciding that from values (no
    relation, no link, no klant built; no JSON column read) is what keeps a no-op resync with
    Bijwerken on close to its page reads.
    """
    rows = list(relations.filter(pk__gt=last_id).order_by("pk")
                .values_list(*LOADED_COLUMNS)[:CHUNK_SIZE])
    if not rows:
        return [], [], {}
    hashes = {(relation_id, kind): (df_id, relation_raw_hash)
              for relation_id, kind, df_id, relation_raw_hash in DfLink.objects
              .filter(relation_id__in=[row[0] for row in rows])
              .values_list("relation_id", "kind", "df_id", "relation_raw_hash")}
    pairs, changed = [], {}
    for row in rows:
        # The mapping reads a relation's stored values from its __dict__ (stored_value).
        stored = SimpleNamespace(**dict(zip(LOADED_COLUMNS, row, strict=True)))
        for kind, number_field in NUMBER_FIELD.items():
            if not getattr(stored, number_field).strip():
                continue
            df_id, relation_raw_hash = hashes.get((stored.id, kind), ("", ""))
            unchanged = (bool(relation_raw_hash) and df_id not in ctx.vanished_ids
                         and raw_relation_hash(stored, kind) == relation_raw_hash)
            pairs.append((stored.id, kind, unchanged))
            if not unchanged:
                changed[stored.id] = row
    return rows, pairs, changed


def _plan_chunk(ctx, relations, last_id: int) -> tuple[list[int], list] | None:
    """The next chunk's ids after `last_id` and what to send for every (relation, kind) of it
    (None where nothing is to be sent). Only the relations that may have changed become
    models, from the values already read: the columns the mapping and the log read (any
    other is deferred, read if ever asked for)."""
    rows, pairs, changed = _unchanged_by_values(ctx, relations, last_id)
    if not rows:
        return None
    models = {pk: Relation.from_db(relations.db, LOADED_COLUMNS, row)
              for pk, row in changed.items()}
    links = links_of(changed) if changed else {}
    plans = [None if unchanged else plan_one(ctx, models[pk], kind, links.get((pk, kind)),
                                             raw_hash_differs=True)
             for pk, kind, unchanged in pairs]
    return [row[0] for row in rows], plans


def _record_chunk(ctx, planned: list, answers: list, writes: ChunkWrites) -> None:
    """Record every planned (relation, kind) of a chunk in plan order, with its answer.

    After a halt (or DigitaleFactuur down, RunFailed) only what was written is still recorded,
    so the links stay true; the stop is raised once the chunk's id-less creates are resolved.
    """
    answers = iter(answers)
    unresolved: list = []
    stop = None
    for pending in planned:
        if pending is None:
            ctx.count(EXPORT, Action.UNCHANGED)
            continue
        answer = next(answers) if pending.write else None
        if answer is not None and answer.stopped:
            continue  # the run is stopping: never sent, the next run sends it
        if stop is not None and (answer is None or answer.error is not None):
            continue
        try:
            record(ctx, writes, pending, answer, unresolved)
        except Exception as failure:  # a halt, or RunFailed: recorded after the writes
            stop = stop or failure
    _resolve(ctx, writes, unresolved)
    if stop is not None:
        raise stop
