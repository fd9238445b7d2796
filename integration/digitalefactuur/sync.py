"""The sync engine: one run of the connector, from the lock to the final status.

`run(settings_id, trigger)` reads as its steps (STYLE.md, 8):

1. open the run record (a queued one handed over by `runs.request_*`, or a new one);
2. refuse quietly (status "overgeslagen", with the reason) when the connector may not run
   (`DigitaleFactuurSettings.refusal`), or when another run holds the lock
   (`integration.connectors.locks`, taken with this run's id); a run still marked "bezig" while
   we hold the lock belonged to a worker that died: it becomes "afgebroken";
3. one DigitaleFactuur client for the whole run, and its workers (concurrency.py);
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

A preview ("Voorbeeld", `--dry-run`) is `preview(...)`: the same steps through a
`PreviewWriter` and a `ReadOnlyClient` (writers.py), and no lock. It computes everything and
writes nothing anywhere: no POST to DigitaleFactuur (lookups by number are reads and do happen),
no relation, no link, no lock, no run record. It returns a `Preview`: the run's outcome and the
unsaved events it would have written, each with its field diff (old -> new).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings as django_settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from integration.connectors import locks, outcomes
from integration.connectors.models import SyncEvent, SyncRun

from . import exporter, importer, mapping
from .account import AccountView
from .concurrency import Workers
from .errors import DigitaleFactuurError
from .models import DigitaleFactuurSettings, Purpose
from .writers import DatabaseWriter, PreviewWriter

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
    #: Where the run's outcome goes (writers.py): the database, or a preview.
    writer: DatabaseWriter | PreviewWriter
    relation_ids: list[int] | None = None
    on_progress: Callable[[SyncRun], None] | None = None
    errors: int = 0
    unavailable_in_a_row: int = 0
    #: The run's knowledge of the account (account.py): one full read at most.
    account: object = None
    #: The kinds the import phase read and compared this run (their conflicts are logged).
    imported_kinds: set = field(default_factory=set)
    #: Remarks for the run's message: what the run met that is no failure.
    notes: list[dict] = field(default_factory=list)
    #: Linked klanten the full read did not see: the export creates them again.
    vanished_ids: set = field(default_factory=set)
    #: The run's workers (concurrency.py): the export's writes and the pages read ahead.
    workers: Workers | None = None
    _failed_sends: int = field(default=0, repr=False)
    _progress_written: float = field(default=float("-inf"), repr=False)

    def note(self, text: str, **params) -> None:
        """A remark for the run's message, kept as a code with its parameters (outcomes.py)."""
        note = outcomes.part(text, **params)
        if text and note not in self.notes:
            self.notes.append(note)

    def count(self, direction: str, action: str) -> None:
        self.run.count(str(direction), str(action))

    def progress(self, *, phase: str | None = None, processed: int | None = None,
                 total: int | None = None, pages: int | None = None,
                 final: bool = False) -> None:
        """Update the progress fields; written at a new phase, at `final`, and otherwise at most
        once per PROGRESS_INTERVAL seconds (a page can take milliseconds: a write per page
        would cost more than the page)."""
        if phase is not None:
            self.run.phase = phase
        if processed is not None:
            self.run.processed = processed
        if total is not None:
            self.run.total = total
        if pages is not None or phase is not None:
            self.run.pages = pages or 0
        now = time.monotonic()
        due = phase is not None or final or now - self._progress_written >= PROGRESS_INTERVAL
        if due:
            self.writer.progress(self.run, ["phase", "processed", "total", "pages", "counts"])
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

    def stop_sending(self, answer) -> bool:
        """After this answer to a write (concurrency.Answer), send no more of the chunk? A halt,
        or DigitaleFactuur unreachable MAX_UNAVAILABLE_IN_A_ROW times in a row (recording then
        ends the run)."""
        error = answer.error
        if error is None or error.action == "skip":
            self._failed_sends = 0
            return False
        if error.action == "halt":
            return True
        self._failed_sends += 1
        return self._failed_sends >= MAX_UNAVAILABLE_IN_A_ROW


def _close(run: SyncRun, status: str, message: str = "") -> SyncRun:
    run.status = status
    run.message = message or run.message
    run.finished_at = timezone.now()
    if run.started_at is None:
        run.started_at = run.finished_at
    return run


def _finish(run: SyncRun, status: str, message: str = "") -> SyncRun:
    _close(run, status, message).save()
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


def _record(run_id: int | None, trigger: str, *, preview: bool) -> SyncRun:
    sync_run = SyncRun.objects.filter(pk=run_id).first() if run_id else None
    # Only a queued run is taken on: a running one belongs to another worker (a task delivered
    # twice must not touch it).
    if sync_run is None or sync_run.status != Status.QUEUED:
        sync_run = SyncRun(connector=CONNECTOR, trigger=trigger, dry_run=preview)
    return sync_run


def run(settings_id: int, trigger: str, *, run_id: int | None = None,
        relation_ids: list[int] | None = None, wait_for_lock: float = 0,
        on_progress: Callable[[SyncRun], None] | None = None) -> SyncRun:
    """One sync run; returns its record. See the module docstring."""
    sync_run = _record(run_id, trigger, preview=False)
    df, reason = DigitaleFactuurSettings.ready(settings_id, Purpose.RUN)
    if reason:
        return _finish(sync_run, Status.SKIPPED, reason)
    if sync_run.pk is None:
        sync_run.save()  # the lock holds the run's id
    lock = locks.acquire(LOCK_NAME, run_id=sync_run.pk, wait=wait_for_lock)
    if lock is None:
        return _finish(sync_run, Status.SKIPPED, _(
            "Overgeslagen: er loopt al een synchronisatie. Deze run is niet tegelijk "
            "uitgevoerd; de lopende run of de volgende neemt de wijzigingen mee."))
    try:
        _start(sync_run)
        sync_run.save()
        abandon_dead_runs(lock)
        status, message = _phases(sync_run, df, DatabaseWriter(), lock, relation_ids,
                                  on_progress)
    except locks.LockLost:
        status, message = Status.ABORTED, _("Afgebroken: deze run liep zo lang vast dat een "
                                            "andere run de vergrendeling heeft overgenomen.")
    finally:
        lock.release()
    return _finish(sync_run, status, message)


@dataclass
class Preview:
    """What a preview found: the run it would have been (never saved: `run_id` is the queued
    record it answers, if any) and the events it would have written."""

    run_id: int | None
    status: str
    message: str
    message_parts: list
    detail: str
    counts: dict
    phase: str
    processed: int
    total: int
    started_at: object
    finished_at: object
    events: list[SyncEvent]

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at


def preview(settings_id: int, trigger: str, *, run_id: int | None = None,
            on_progress: Callable[[SyncRun], None] | None = None) -> Preview:
    """A run that writes nothing anywhere and takes no lock ("Voorbeeld"); see the module
    docstring. `on_progress` sees the would-be run as it goes."""
    sync_run = _record(run_id, trigger, preview=True)
    writer = PreviewWriter()
    df, message = DigitaleFactuurSettings.ready(settings_id, Purpose.RUN)
    status = Status.SKIPPED
    if not message:
        _start(sync_run)
        status, message = _phases(sync_run, df, writer, None, None, on_progress)
    _close(sync_run, status, message)
    return Preview(
        run_id=sync_run.pk, status=sync_run.status, message=sync_run.message,
        message_parts=sync_run.message_parts, detail=sync_run.detail, counts=sync_run.counts,
        phase=sync_run.phase, processed=sync_run.processed, total=sync_run.total,
        started_at=sync_run.started_at, finished_at=sync_run.finished_at,
        events=writer.events)


def _start(sync_run: SyncRun) -> None:
    sync_run.status, sync_run.started_at = Status.RUNNING, timezone.now()
    sync_run.counts, sync_run.message = {}, ""
    mapping.clear_caches()


def _phases(sync_run, df, writer, lock, relation_ids, on_progress) -> tuple[str, str]:
    ctx = None
    try:
        workers = Workers(df, django_settings.DIGITALEFACTUUR_CONCURRENCY,
                          wrap=writer.client_for)
        with df.client(gate=workers.gate) as client, closing(workers):
            client = writer.client_for(client)
            ctx = RunContext(sync_run, df, client, lock, writer, relation_ids=relation_ids,
                             on_progress=on_progress, workers=workers,
                             account=AccountView(client, writer, workers))

            if relation_ids is None and (df.debtors_enabled or df.creditors_enabled):
                importer.run_import(ctx)
            if df.push_enabled:
                exporter.run_export(ctx)
            writer.after_relations(ctx)
    except RunFailed:
        # Records failed in a row because DigitaleFactuur could not be reached; the last
        # one's technical cause is kept for support (its event holds it too).
        return _outcome(sync_run, Status.FAILED, [outcomes.part(
            UNREACHABLE_IN_A_ROW, count=MAX_UNAVAILABLE_IN_A_ROW)],
            writer.last_error_detail(sync_run))
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
    notes = list(ctx.notes)
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
