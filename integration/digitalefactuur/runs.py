"""Runs asked for on the screens: "Koppeling uitvoeren", "Voorbeeld", "Fouten opnieuw proberen".

The engine (`sync.py`) does the work; this module decides what may be asked and queues it:

- "Koppeling uitvoeren" is `sync.request_run` (one open run at a time, double-click safe);
- "Fouten opnieuw proberen" queues a run limited to the relations whose EXPORT failed in a run
  (`sync.run(relation_ids=...)`: export only). Import failures need no list: a klant that could
  not be imported left no link fingerprint behind, so the next full run (the schedule, or
  "Koppeling uitvoeren") reads it again and retries it anyway; the screen says so;
- "Voorbeeld" queues the engine's dry run. The engine writes nothing; this module keeps its
  outcome as a run record marked `dry_run` with the events it would have written (at most
  `PREVIEW_EVENT_LIMIT`), so the preview is read on the same run page as a real run, with its
  progress while DigitaleFactuur is paged through. It never touches a relation, a link or
  DigitaleFactuur (reads only), and takes no lock: it may run beside a real run.

The two tasks below take ids only and re-read (STYLE.md, 9). They live here rather than in
`tasks.py` only because that module belongs to the engine's ongoing work.
"""

from __future__ import annotations

import logging
import time

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from integration.connectors.models import SyncEvent, SyncRun
from integration.connectors.registry import RunAction
from integration.rights.catalogue import DIGITALE_FACTUUR

from . import sync

logger = logging.getLogger(__name__)

PREVIEW_TASK = "integration.digitalefactuur.runs.preview_task"
RETRY_TASK = "integration.digitalefactuur.runs.retry_task"
#: The events of a preview that are kept to be read; its counts are always complete.
PREVIEW_EVENT_LIMIT = 1000
#: How long a retry waits for a run that holds the lock before it gives up as "overgeslagen".
RETRY_LOCK_WAIT = 120
#: The preview's progress is written at most this often (seconds).
PREVIEW_PROGRESS_EVERY = 0.5

Status = SyncRun.Status


def _open_runs(*, dry_run: bool):
    runs = SyncRun.objects.filter(connector=sync.CONNECTOR, status__in=SyncRun.OPEN_STATUSES,
                                  dry_run=dry_run)
    if not dry_run:
        # A change push is not "a run of the administrator's"; a queued run waits for it.
        runs = runs.exclude(trigger=SyncRun.Trigger.CHANGE)
    return runs.order_by("-queued_at")


def open_run(*, dry_run: bool = False) -> SyncRun | None:
    return next((run for run in _open_runs(dry_run=dry_run) if not sync.is_dead(run)), None)


def refusal(df, user) -> str:
    """Why this user cannot start a run now ("" when they can)."""
    if not user.has_perm(DIGITALE_FACTUUR):
        return _("Je hebt het recht Digitale Factuur niet; een beheerder zet het aan onder "
                 "Rechten > applicatie instellingen.")
    return sync.not_ready_reason(df)


def run_panel(df, user) -> dict:
    """What the settings screen's "Koppeling uitvoeren" block shows."""
    last_run = (SyncRun.objects.filter(connector=sync.CONNECTOR, dry_run=False)
                .exclude(status__in=SyncRun.OPEN_STATUSES).order_by("-queued_at").first())
    return {"reason": refusal(df, user), "open_run": open_run(),
            "open_preview": open_run(dry_run=True), "last_run": last_run,
            "log_url": reverse("connectors:log", args=[sync.CONNECTOR])}


def run_url(run: SyncRun) -> str:
    return reverse("connectors:run", args=[run.connector, run.pk])


# --- "Fouten opnieuw proberen" -----------------------------------------------------------------

def failed_export_relation_ids(run: SyncRun) -> list[int]:
    """The relations whose export failed in `run` (still existing), by the run's action index."""
    return list(SyncEvent.objects.filter(run=run, action=SyncEvent.Action.ERROR,
                                         direction=SyncEvent.Direction.EXPORT,
                                         relation__isnull=False)
                .order_by().values_list("relation_id", flat=True).distinct())


def failed_count(run: SyncRun, direction: str) -> int:
    return int(((run.counts or {}).get(direction) or {}).get(SyncEvent.Action.ERROR, 0) or 0)


def _queue(run: SyncRun, task: str, *args) -> None:
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task(
        task, *args, task_name=f"digitalefactuur-{task.rsplit('.', 1)[-1]}-{run.pk}",
        group=sync.TASK_GROUP))


def request_retry(df, source: SyncRun, user) -> tuple[SyncRun | None, bool]:
    """Queue a run limited to `source`'s failed exports: (run, created).

    An open run is returned instead (created False), as "Koppeling uitvoeren" does; None when
    there is nothing to retry. Serialised on the settings row like `sync.request_run`.
    """
    with transaction.atomic():
        type(df).objects.select_for_update().filter(pk=df.pk).exists()
        running = open_run()
        if running is not None:
            return running, False
        relation_ids = failed_export_relation_ids(source)
        if not relation_ids:
            return None, False
        retry = SyncRun.objects.create(
            connector=sync.CONNECTOR, trigger=SyncRun.Trigger.MANUAL, status=Status.QUEUED,
            requested_by=user, message=retry_note(source, len(relation_ids)))
        _queue(retry, RETRY_TASK, df.pk, retry.pk, source.pk)
    return retry, True


def retry_note(source: SyncRun, count: int) -> str:
    return _("Fouten van run %(id)s opnieuw geprobeerd: alleen de %(count)d relatie(s) waarvan "
             "het bijwerken in DigitaleFactuur mislukte.") % {"id": source.pk, "count": count}


def retry_task(settings_id: int, run_id: int, source_run_id: int):
    """django-q2: the retry run. Re-reads the failed relations when it starts, not when queued.
    """
    source = SyncRun.objects.filter(pk=source_run_id).first()
    relation_ids = failed_export_relation_ids(source) if source is not None else []
    if not relation_ids:
        SyncRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
            status=Status.SKIPPED, started_at=timezone.now(), finished_at=timezone.now(),
            message=_("Niets opnieuw te proberen: de run met de fouten bestaat niet meer of "
                      "de relaties zijn verwijderd."))
        return None
    result = sync.run(settings_id, SyncRun.Trigger.MANUAL, run_id=run_id,
                      relation_ids=relation_ids, wait_for_lock=RETRY_LOCK_WAIT)
    # The engine starts a run with an empty message; say what this run was.
    if result.pk:
        note = retry_note(source, len(relation_ids))
        SyncRun.objects.filter(pk=result.pk).update(message=f"{note} {result.message}".strip())
    return result.status


def run_actions(request, run: SyncRun) -> list[RunAction]:
    """The buttons of a finished run's page (see `Connector.run_actions`)."""
    if run.dry_run or run.status not in (Status.WITH_ERRORS, Status.FAILED):
        return []
    from .models import DigitaleFactuurSettings

    df = DigitaleFactuurSettings.load()
    reason = refusal(df, request.user)
    actions = []
    export_failures = failed_count(run, SyncEvent.Direction.EXPORT)
    import_failures = failed_count(run, SyncEvent.Direction.IMPORT)
    if export_failures:
        if not reason and not df.push_enabled:
            reason = _("Bijwerken (PerfectView → DigitaleFactuur) staat uit.")
        actions.append(RunAction(
            "retry", _("Fouten opnieuw proberen"),
            reverse("digitalefactuur:retry", args=[run.pk]), enabled=not reason,
            note=reason or _("Zet een run in de wachtrij die alleen de relaties opnieuw naar "
                             "DigitaleFactuur stuurt waarvan het bijwerken in deze run "
                             "mislukte.")))
    if import_failures or (run.status == Status.FAILED and not export_failures):
        actions.append(RunAction(
            "run", _("Koppeling uitvoeren"), reverse("digitalefactuur:run"),
            enabled=not reason,
            note=reason or _("Klanten die niet in PerfectView konden worden overgenomen, worden "
                             "bij elke volledige run vanzelf opnieuw geprobeerd: de volgende "
                             "geplande run doet dat, of start er nu een.")))
    return actions


# --- "Voorbeeld" -------------------------------------------------------------------------------

def request_preview(df, user) -> tuple[SyncRun, bool]:
    """Queue a dry run, or return the preview still open: (run, created)."""
    with transaction.atomic():
        type(df).objects.select_for_update().filter(pk=df.pk).exists()
        running = open_run(dry_run=True)
        if running is not None:
            return running, False
        preview = SyncRun.objects.create(connector=sync.CONNECTOR, dry_run=True,
                                         trigger=SyncRun.Trigger.MANUAL, status=Status.QUEUED,
                                         requested_by=user)
        _queue(preview, PREVIEW_TASK, df.pk, preview.pk)
    return preview, True


def preview_task(settings_id: int, run_id: int):
    """django-q2: the engine's dry run, its outcome kept on the queued preview record."""
    if not SyncRun.objects.filter(pk=run_id, dry_run=True, status=Status.QUEUED).exists():
        return None  # delivered twice, or purged meanwhile
    last_write = [0.0]

    def on_progress(run: SyncRun) -> None:
        if time.monotonic() - last_write[0] < PREVIEW_PROGRESS_EVERY:
            return
        last_write[0] = time.monotonic()
        SyncRun.objects.filter(pk=run_id).update(
            status=Status.RUNNING, started_at=run.started_at, phase=run.phase,
            processed=run.processed, total=run.total, counts=run.counts)

    try:
        result = sync.preview(settings_id, SyncRun.Trigger.MANUAL, run_id=run_id,
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
