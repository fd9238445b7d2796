"""django-q2 entry points of the connector: every task it queues or schedules is here.

- `run_sync`: "Koppeling uitvoeren", the run `runs.request_run` queued;
- `scheduled_sync`: the schedule's run (schedule.py stores `task_path(scheduled_sync)`);
- `preview_task`: "Voorbeeld", the engine's dry run, its outcome kept on the queued record;
- `retry_task`: "Fouten opnieuw proberen", a run limited to the relations whose export failed;
- `push_relations`: the change push (listener.py), queued by `runs.request_push`.

They are queued as functions, never by name (STYLE.md, 14): `runs.py` asks for them, this module
knows nothing of who asks, and `sync.py` below it knows nothing of tasks.

Tasks take ids and re-read (STYLE.md, 9): django-q2 pickles arguments and shows them in its
admin, so no credential or payload is ever an argument, and a task that finds its settings gone
or switched off by the time it runs returns quietly (`DigitaleFactuurSettings.ready`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.models import Schedule
from django_q.tasks import schedule

from integration.connectors import locks
from integration.connectors.models import SyncEvent, SyncRun
from integration.connectors.tasks import task_path

from . import links, sync
from .links import PendingPush
from .models import DigitaleFactuurSettings, Purpose

logger = logging.getLogger(__name__)

Status = SyncRun.Status
Trigger = SyncRun.Trigger

#: How long a queued "Koppeling uitvoeren" waits for a change push to give the lock back.
MANUAL_LOCK_WAIT_SECONDS = 30
#: How long a retry waits for a run that holds the lock before it gives up as "overgeslagen".
RETRY_LOCK_WAIT = 120
#: The events of a preview that are kept to be read; its counts are always complete.
PREVIEW_EVENT_LIMIT = 1000
#: The preview's progress is written at most this often (seconds).
PREVIEW_PROGRESS_EVERY = 0.5
#: Attempts of a change push while a full run holds the lock; between them the push is a
#: django-q2 Schedule (ONCE) PUSH_RETRY_SECONDS later, doubling: no worker waits meanwhile.
#: django-q2's scheduler looks at its schedules every 30 s, so a shorter wait would not be
#: kept anyway; a full run takes minutes.
PUSH_ATTEMPTS = 4
PUSH_RETRY_SECONDS = 30
PUSH_RETRY_SCHEDULE = "digitalefactuur-push-later"
#: A push keeps waiting for quiet no longer than this: saves that never stop (a user tabbing
#: through relations, a script) still go out within the save -> DigitaleFactuur target of 2 s,
#: in batches of whatever was saved meanwhile. Longer only batches more, and delays everyone.
PUSH_MAX_WAIT_SECONDS = 1.5


# --- runs ----------------------------------------------------------------------------------

def run_sync(settings_id: int, run_id: int | None = None):
    """"Koppeling uitvoeren": the run `runs.request_run` queued (`run_id`), or a new one.

    The run record is closed (overgeslagen, with the reason) rather than left queued when the
    connector was switched off meanwhile. Returns the run's id.
    """
    return sync.run(settings_id, trigger=Trigger.MANUAL, run_id=run_id,
                    wait_for_lock=MANUAL_LOCK_WAIT_SECONDS).pk


def scheduled_sync(settings_id: int):
    """The schedule's task (see schedule.py): one sync run, if the connector is still on.

    Re-reads `DigitaleFactuurSettings` by `settings_id`; returns None without doing anything
    when the row was deleted, the connector deactivated, or the options locked again since the
    schedule was made. Otherwise one run of the engine (trigger "gepland"); returns its id.
    """
    _settings, reason = DigitaleFactuurSettings.ready(settings_id, Purpose.SCHEDULE)
    if reason:
        logger.info("DigitaleFactuur: scheduled sync skipped, connector not active")
        return None
    return sync.run(settings_id, trigger=Trigger.SCHEDULED).pk


# --- "Fouten opnieuw proberen" -------------------------------------------------------------

def failed_export_relation_ids(run: SyncRun) -> list[int]:
    """The relations whose export failed in `run` (still existing), by the run's action index."""
    return list(SyncEvent.objects.filter(run=run, action=SyncEvent.Action.ERROR,
                                         direction=SyncEvent.Direction.EXPORT,
                                         relation__isnull=False)
                .order_by().values_list("relation_id", flat=True).distinct())


def retry_note(source: SyncRun, count: int) -> str:
    return _("Fouten van run %(id)s opnieuw geprobeerd: alleen de %(count)d relatie(s) waarvan "
             "het bijwerken in DigitaleFactuur mislukte.") % {"id": source.pk, "count": count}


def retry_task(settings_id: int, run_id: int, source_run_id: int):
    """The retry run. Re-reads the failed relations when it starts, not when queued."""
    source = SyncRun.objects.filter(pk=source_run_id).first()
    relation_ids = failed_export_relation_ids(source) if source is not None else []
    if not relation_ids:
        SyncRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
            status=Status.SKIPPED, started_at=timezone.now(), finished_at=timezone.now(),
            message=_("Niets opnieuw te proberen: de run met de fouten bestaat niet meer of "
                      "de relaties zijn verwijderd."))
        return None
    result = sync.run(settings_id, Trigger.MANUAL, run_id=run_id,
                      relation_ids=relation_ids, wait_for_lock=RETRY_LOCK_WAIT)
    # The engine starts a run with an empty message; say what this run was.
    if result.pk:
        note = retry_note(source, len(relation_ids))
        SyncRun.objects.filter(pk=result.pk).update(message=f"{note} {result.message}".strip())
    return result.status


# --- "Voorbeeld" ---------------------------------------------------------------------------

def preview_task(settings_id: int, run_id: int):
    """The engine's dry run, its outcome kept on the queued preview record."""
    if not SyncRun.objects.filter(pk=run_id, dry_run=True, status=Status.QUEUED).exists():
        return None  # delivered twice, or purged meanwhile
    last_write = [0.0]

    def on_progress(run: SyncRun) -> None:
        if time.monotonic() - last_write[0] < PREVIEW_PROGRESS_EVERY:
            return
        last_write[0] = time.monotonic()
        SyncRun.objects.filter(pk=run_id).update(
            status=Status.RUNNING, started_at=run.started_at, phase=run.phase,
            processed=run.processed, total=run.total, pages=run.pages, counts=run.counts)

    try:
        result = sync.preview(settings_id, Trigger.MANUAL, run_id=run_id,
                              on_progress=on_progress)
    except Exception:
        logger.exception("DigitaleFactuur preview %s failed unexpectedly", run_id)
        SyncRun.objects.filter(pk=run_id).update(
            status=Status.FAILED, finished_at=timezone.now(),
            message=_("Het voorbeeld is gestopt door een onverwachte fout."))
        raise
    save_preview(result)
    return result.status


def save_preview(result: sync.Preview) -> None:
    """Write the preview's record and the events it would have written (capped)."""
    events = result.events
    kept = events[:PREVIEW_EVENT_LIMIT]
    for event in kept:
        event.run_id = result.run_id
        # A relation the import would create exists only in memory: the event names its number.
        if event.relation is not None and event.relation.pk is None:
            event.relation = None
    message = result.message
    if len(events) > len(kept):
        message = " ".join(filter(None, [message, _(
            "Alleen de eerste %(kept)d van %(count)d wijzigingen zijn bewaard; de aantallen "
            "zijn volledig.") % {"kept": len(kept), "count": len(events)}]))
    with transaction.atomic():
        SyncRun.objects.filter(pk=result.run_id).update(
            status=result.status, started_at=result.started_at, finished_at=result.finished_at,
            phase=result.phase, processed=result.processed, total=result.total,
            counts=result.counts, message=message, message_parts=result.message_parts,
            detail=result.detail)
        SyncEvent.objects.bulk_create(kept)


# --- the change push -----------------------------------------------------------------------

def push_relations(settings_id: int, attempt: int = 0):
    """The change push (listener.py): the relations saved lately, once they have been quiet.

    Waits until the newest `PendingPush` is `SYNC_PUSH_DEBOUNCE` seconds old, takes every
    pending row at once (deleting them, so the next save queues a new task), and pushes those
    relations' latest state in one run (trigger "wijziging"); when no mapped field changed (a
    new phone number, say) there is no run at all, so the log holds only pushes that did
    something. While a full run holds the lock the rows stay pending and the push is tried
    again later as a scheduled task (`PUSH_ATTEMPTS`, `PUSH_RETRY_SECONDS`); the last attempt
    runs whatever happens, and when the lock is still held that run is "overgeslagen" and
    leaves the relations to the next scheduled run, whose export sends every relation whose
    fingerprint changed anyway. Loops until no pending row is left. Returns the ids of the runs
    it made.
    """
    run_ids = []
    while True:
        df, reason = DigitaleFactuurSettings.ready(settings_id, Purpose.PUSH)
        newest = None if reason else _newest_pending()
        if newest is None:
            break
        _wait_for_quiet(newest, debounce_seconds(), PUSH_MAX_WAIT_SECONDS)
        cutoff = timezone.now()
        taken = list(PendingPush.objects.filter(requested_at__lte=cutoff).values_list(
            "relation_id", flat=True))
        if not taken:
            continue
        changed = links.relations_to_push(taken, df)
        if changed and attempt < PUSH_ATTEMPTS - 1 and locks.is_held(sync.LOCK_NAME):
            # A full run is under way: nothing is recorded now, the rows stay pending.
            _push_later(settings_id, attempt + 1)
            break
        PendingPush.objects.filter(relation_id__in=taken, requested_at__lte=cutoff).delete()
        if changed:
            run_ids.append(sync.run(settings_id, Trigger.CHANGE, relation_ids=changed).pk)
    return run_ids


def debounce_seconds() -> float:
    return float(getattr(settings, "SYNC_PUSH_DEBOUNCE", 0.5))


def _newest_pending():
    return PendingPush.objects.order_by("-requested_at").values_list(
        "requested_at", flat=True).first()


def _wait_for_quiet(newest, debounce: float, max_wait: float) -> None:
    # The one wait a worker does, and a short one (at most `max_wait`, 1.5 s): a scheduled
    # task cannot debounce, because django-q2's scheduler looks at its schedules only every
    # 30 s, and a task queued again at once would be picked up by polling the ORM broker
    # (0.2 s) over and over. Neither keeps save -> DigitaleFactuur within 2 s (README,
    # Benchmarks, scenario 4).
    waited = 0.0
    while waited < max_wait:
        quiet = (timezone.now() - newest).total_seconds()
        if quiet >= debounce:
            return
        pause = min(debounce - quiet, max_wait - waited)
        time.sleep(pause)
        waited += pause
        newest = _newest_pending()
        if newest is None:
            return


def _push_later(settings_id: int, attempt: int) -> None:
    """Schedule `push_relations` once, PUSH_RETRY_SECONDS (doubling per attempt) from now."""
    if Schedule.objects.filter(name=PUSH_RETRY_SCHEDULE).exists():
        return  # one is pending already; it takes every pending row
    delay = timedelta(seconds=PUSH_RETRY_SECONDS * 2 ** (attempt - 1))
    with contextlib.suppress(IntegrityError):  # another worker scheduled it a moment ago
        schedule(task_path(push_relations), settings_id, attempt, name=PUSH_RETRY_SCHEDULE,
                 schedule_type=Schedule.ONCE, repeats=-1, next_run=timezone.now() + delay)
