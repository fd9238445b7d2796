"""The sync engine: one run of the connector, from the lock to the final status.

`run(settings_id, trigger)` reads as its steps (STYLE.md, 8):

1. open the run record (a queued one handed over by `runs.request_*`, or a new one);
2. refuse quietly (status "overgeslagen", with the reason) when the connector may not run
   (`DigitaleFactuurSettings.refusal`), or when another run holds the lock
   (`integration.connectors.locks`, taken with this run's id); a run still marked "bezig" while
   we hold the lock belonged to a worker that died: it becomes "afgebroken";
3. one DigitaleFactuur client for the whole run;
4. the import phase (`importer.py`) when Debiteuren and/or Crediteuren are on, page by page;
5. the export phase (`exporter.py`) when Bijwerken is on, in chunks of relations;
6. the outcome: "geslaagd", "met fouten" (some records failed, each an event), or "mislukt"
   (credentials refused, an answer we cannot trust, or DigitaleFactuur unreachable: the page
   could not be read, or three records in a row failed for it).

The phases share a `RunContext`, which holds the run's `AccountView` (account.py): what one
full read of DigitaleFactuur's klanten taught the run (made by the import, or by the export
when it needs it), so that nothing the API leaves open is taken on trust. Notes the run met
that are no failure (a list that does not page, linked klanten missing) end in its message.

A change push is a run limited to some relations (`relation_ids`): export only; it reads the
klanten it pushes first, and the whole account only when the number filter cannot answer.

This module is the engine only: asking for a run is `runs.py`, the tasks are `tasks.py`.

A dry run ("Voorbeeld", `--dry-run`) computes everything and writes nothing anywhere: no POST to
DigitaleFactuur (lookups by number are reads and do happen), no relation, no link, no lock, no run
record. Its `SyncRun` is an unsaved object with `dry_run=True` whose `preview` holds the unsaved
events it would have written, each with its field diff (old -> new).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from integration.connectors import locks, outcomes
from integration.connectors.models import SyncEvent, SyncRun

from . import exporter, importer, mapping
from .account import AccountView
from .errors import DigitaleFactuurError
from .invoices import read_after_run
from .models import DigitaleFactuurSettings, Purpose

logger = logging.getLogger(__name__)

CONNECTOR = "digitalefactuur"
LOCK_NAME = "digitalefactuur-sync"
#: Records failing in a row because DigitaleFactuur is unreachable before the run gives up.
MAX_UNAVAILABLE_IN_A_ROW = 3
#: Seconds between two progress writes within a phase (the progress bar polls about as often).
PROGRESS_INTERVAL = 0.5

Status = SyncRun.Status


class RunFailed(Exception):
    """The run cannot go on; the message is the run's."""


@dataclass
class RunContext:
    """What the phases share: the run, the settings, the client, and the run's bookkeeping."""

    run: SyncRun
    settings: object
    client: object
    lock: locks.HeldLock | None
    dry_run: bool = False
    relation_ids: list[int] | None = None
    on_progress: Callable[[SyncRun], None] | None = None
    errors: int = 0
    unavailable_in_a_row: int = 0
    preview: list[SyncEvent] = field(default_factory=list)
    #: The run's knowledge of the account (account.py): one full read at most.
    account: object = None
    #: The kinds the import phase read and compared this run (their conflicts are logged).
    imported_kinds: set = field(default_factory=set)
    #: Remarks for the run's message: what the run met that is no failure.
    notes: list[str] = field(default_factory=list)
    #: Linked klanten the full read did not see: the export creates them again.
    vanished_ids: set = field(default_factory=set)
    _failed_sends: int = field(default=0, repr=False)
    _progress_written: float = field(default=float("-inf"), repr=False)

    def note(self, text: str) -> None:
        if text and text not in self.notes:
            self.notes.append(text)

    def count(self, direction: str, action: str) -> None:
        self.run.count(str(direction), str(action))

    def progress(self, *, phase: str | None = None, processed: int | None = None,
                 total: int | None = None, final: bool = False) -> None:
        """Update the progress fields; written at a new phase, at `final`, and otherwise at most
        once per PROGRESS_INTERVAL seconds (a page can take milliseconds: a write per page
        would cost more than the page)."""
        if phase is not None:
            self.run.phase = phase
        if processed is not None:
            self.run.processed = processed
        if total is not None:
            self.run.total = total
        now = time.monotonic()
        due = phase is not None or final or now - self._progress_written >= PROGRESS_INTERVAL
        if due and not self.dry_run:
            self.run.save(update_fields=["phase", "processed", "total", "counts"])
            self._progress_written = now
        if self.on_progress is not None:
            self.on_progress(self.run)

    def beat(self) -> None:
        if self.lock is not None:
            self.lock.heartbeat()

    def failed_record(self, error: DigitaleFactuurError) -> None:
        self.errors += 1
        if error.action != "retry":
            self.unavailable_in_a_row = 0
            return
        self.unavailable_in_a_row += 1
        if self.unavailable_in_a_row >= MAX_UNAVAILABLE_IN_A_ROW:
            # The run's message is made by `_phases` (UNREACHABLE_IN_A_ROW).
            raise RunFailed()

    def record_ok(self) -> None:
        self.unavailable_in_a_row = 0

    def stop_sending(self, outcome: tuple) -> bool:
        """After this outcome of a write, send no more of the chunk? A halt, or DigitaleFactuur
        unreachable MAX_UNAVAILABLE_IN_A_ROW times in a row (recording then ends the run)."""
        kind, value = outcome
        if kind != "error" or value.action == "skip":
            self._failed_sends = 0
            return False
        if value.action == "halt":
            return True
        self._failed_sends += 1
        return self._failed_sends >= MAX_UNAVAILABLE_IN_A_ROW


def _finish(run: SyncRun, status: str, message: str = "") -> SyncRun:
    run.status = status
    run.message = message or run.message
    run.finished_at = timezone.now()
    if run.started_at is None:
        run.started_at = run.finished_at
    if not run.dry_run:
        run.save()
    elif run.pk:
        # A preview's record is written by tasks.save_preview, which knows only the old fields.
        SyncRun.objects.filter(pk=run.pk).update(message_parts=run.message_parts,
                                                 detail=run.detail)
    return run


def abandon_dead_runs(lock: locks.HeldLock) -> int:
    """Runs still "bezig" that do not hold the lock (we do): their worker died or lost it.

    The one rule of liveness, `locks.dead_running_runs` (previews take no lock: never these).
    """
    return (locks.dead_running_runs(SyncRun.objects.filter(connector=CONNECTOR), LOCK_NAME,
                                    held=lock)
            .update(
                status=Status.ABORTED, finished_at=timezone.now(),
                message=_("Afgebroken: het proces dat deze run uitvoerde is gestopt voordat de "
                          "run klaar was. Een volgende run heeft het werk overgenomen.")))


def run(settings_id: int, trigger: str, *, run_id: int | None = None, dry_run: bool = False,
        relation_ids: list[int] | None = None, wait_for_lock: float = 0,
        on_progress: Callable[[SyncRun], None] | None = None) -> SyncRun:
    """One sync run; returns its record (unsaved for a dry run). See the module docstring."""
    sync_run = SyncRun.objects.filter(pk=run_id).first() if run_id else None
    # Only a queued run is taken on: a running one belongs to another worker (a task delivered
    # twice must not touch it).
    if sync_run is None or sync_run.status != Status.QUEUED:
        sync_run = SyncRun(connector=CONNECTOR, trigger=trigger, dry_run=dry_run)
    sync_run.preview = []
    df, reason = DigitaleFactuurSettings.ready(settings_id, Purpose.RUN)
    if reason:
        return _finish(sync_run, Status.SKIPPED, reason)
    lock = None
    if not dry_run:
        if sync_run.pk is None:
            sync_run.save()  # the lock holds the run's id
        lock = locks.acquire(LOCK_NAME, run_id=sync_run.pk, wait=wait_for_lock)
        if lock is None:
            return _finish(sync_run, Status.SKIPPED, _(
                "Overgeslagen: er loopt al een synchronisatie. Deze run is niet tegelijk "
                "uitgevoerd; de lopende run of de volgende neemt de wijzigingen mee."))
    sync_run.status, sync_run.started_at = Status.RUNNING, timezone.now()
    sync_run.counts, sync_run.message = {}, ""
    mapping.clear_caches()
    try:
        if not dry_run:
            sync_run.save()
            abandon_dead_runs(lock)
        status, message = _phases(sync_run, df, lock, dry_run, relation_ids, on_progress)
    except locks.LockLost:
        status, message = Status.ABORTED, _("Afgebroken: deze run liep zo lang vast dat een "
                                            "andere run de vergrendeling heeft overgenomen.")
    finally:
        if lock is not None:
            lock.release()
    return _finish(sync_run, status, message)


def _phases(sync_run, df, lock, dry_run, relation_ids, on_progress) -> tuple[str, str]:
    ctx = None
    try:
        with df.client() as client:
            ctx = RunContext(sync_run, df, client, lock, dry_run=dry_run,
                             relation_ids=relation_ids, on_progress=on_progress,
                             account=AccountView(client, dry_run=dry_run))
            ctx.preview = sync_run.preview

            if relation_ids is None and (df.debtors_enabled or df.creditors_enabled):
                importer.run_import(ctx)
            if df.push_enabled:
                exporter.run_export(ctx)
            read_after_run(ctx)  # Facturen: never fails the run
    except RunFailed:
        # Records failed in a row because DigitaleFactuur could not be reached; the last
        # one's technical cause is kept for support (its event holds it too).
        last = (ctx.preview if ctx is not None and dry_run else
                SyncEvent.objects.filter(run=sync_run, action=SyncEvent.Action.ERROR)
                .order_by("-pk")[:1])
        return _outcome(sync_run, Status.FAILED, [outcomes.part(
            UNREACHABLE_IN_A_ROW, count=MAX_UNAVAILABLE_IN_A_ROW)],
            next((e.detail for e in reversed(list(last)) if e.detail), ""))
    except DigitaleFactuurError as error:
        # A halt (credentials refused, an untrustworthy answer), or a page that could not be
        # read even after the client's retries: nothing more can be done in this run.
        logger.warning("DigitaleFactuur sync run %s stopped: %s", sync_run.pk,
                       error.technical_detail)
        return _outcome(sync_run, Status.FAILED, [outcomes.part(error.lazy_message)],
                        error.technical_detail)
    except locks.LockLost:
        raise
    except Exception as failure:
        # Our own bug must still end the run record, or it would stay "bezig" for ever.
        logger.exception("DigitaleFactuur sync run %s failed unexpectedly", sync_run.pk)
        return _outcome(sync_run, Status.FAILED, [outcomes.part(UNEXPECTED)],
                        type(failure).__name__)
    notes = [outcomes.part(note) for note in ctx.notes]
    if ctx.errors:
        return _outcome(sync_run, Status.WITH_ERRORS,
                        [outcomes.part(RECORDS_FAILED, count=ctx.errors), *notes])
    return _outcome(sync_run, Status.SUCCEEDED, notes)


#: The run's final messages (stored as codes with parameters, translated when shown).
UNREACHABLE_IN_A_ROW = gettext_lazy(
    "DigitaleFactuur is niet bereikbaar: %(count)d records achter elkaar zijn mislukt. De "
    "synchronisatie is gestopt; de volgende run probeert het opnieuw. Blijft dit gebeuren, "
    "controleer dan of de server internet heeft en of DigitaleFactuur een storing meldt.")
RECORDS_FAILED = gettext_lazy(
    "%(count)d record(s) konden niet worden gesynchroniseerd; zie de gebeurtenissen voor wat "
    "je per record kunt doen.")
UNEXPECTED = gettext_lazy(
    "De synchronisatie is gestopt door een onverwachte fout. Probeer het later opnieuw; "
    "blijft dit gebeuren, geef de technische details hieronder door aan je leverancier.")


def _outcome(sync_run, status: str, parts: list[dict], detail: str = "") -> tuple[str, str]:
    """(status, the Dutch message) of `_phases`; the parts and the detail go on the run."""
    sync_run.message_parts, sync_run.detail = parts, detail
    return status, outcomes.dutch(parts)
