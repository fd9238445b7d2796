"""Asking for runs: "Koppeling uitvoeren", "Voorbeeld", "Fouten opnieuw proberen", a change push.

Every task of the connector is queued from here and nowhere else (the schedule's run is fired by
django-q2 from `schedule.py`'s row; the CLI runs the engine in the foreground). The tasks that do
the work are in `tasks.py`, queued as functions (STYLE.md, 14); the engine (`sync.py`) knows of
neither.

- `request_run`, `request_preview`, `request_retry` are one request (`_request`): lock the
  settings row (`select_for_update`: two clicks at the same moment give one run), find the open
  run (a dead one is closed "afgebroken"), else create a queued one and queue its task once the
  transaction commits. A change push under way is not "the same run": a queued full run waits
  for it (`tasks.run_sync` waits for the lock a while). A preview takes no lock and may run
  beside a real run, so previews are found among previews only.
- "Fouten opnieuw proberen" queues a run limited to the relations whose EXPORT failed in a run.
  Import failures need no list: a klant that could not be imported left no link fingerprint
  behind, so the next full run (the schedule, or "Koppeling uitvoeren") reads it again and
  retries it anyway; the run page says so.
- `request_push` records a saved relation (`PendingPush`) and queues the push task, through the
  same queueing, only for a new row: bursts of saves coalesce (listener.py, tasks.py).

Whether an open run is alive is the lock's answer (`locks.run_is_alive`); whether the connector
may run is the settings' (`DigitaleFactuurSettings.refusal`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from integration.connectors import locks
from integration.connectors.models import SyncEvent, SyncRun
from integration.connectors.registry import RunAction
from integration.rights.catalogue import DIGITALE_FACTUUR

from .links import PendingPush
from .models import DigitaleFactuurSettings, Purpose
from .sync import CONNECTOR, LOCK_NAME
from .tasks import (
    failed_export_relation_ids,
    preview_task,
    push_relations,
    retry_note,
    retry_task,
    run_sync,
)

logger = logging.getLogger(__name__)

TASK_GROUP = "digitalefactuur"
#: A pending push whose task was queued longer ago than this is queued again (a lost task).
STALE_QUEUE = timedelta(minutes=2)

Status = SyncRun.Status


# --- the one request -------------------------------------------------------------------------

def _open_runs(*, dry_run: bool):
    runs = SyncRun.objects.filter(connector=CONNECTOR, status__in=SyncRun.OPEN_STATUSES,
                                  dry_run=dry_run)
    if not dry_run:
        # A change push is not "a run of the administrator's"; a queued run waits for it.
        runs = runs.exclude(trigger=SyncRun.Trigger.CHANGE)
    return runs.order_by("-queued_at")


def open_run(*, dry_run: bool = False) -> SyncRun | None:
    """The open run (or preview) that is alive, if any."""
    return next((run for run in _open_runs(dry_run=dry_run)
                 if locks.run_is_alive(run, LOCK_NAME)), None)


def _queue(task: Callable, *args, label: str) -> None:
    """Queue `task` (the function itself) once the transaction commits; ids only."""
    transaction.on_commit(lambda: async_task(task, *args, task_name=f"{CONNECTOR}-{label}",
                                             group=TASK_GROUP))


def _request(settings_id: int, task: Callable, *task_args, label: str, dry_run: bool = False,
             trigger: str = SyncRun.Trigger.MANUAL, user=None,
             message: Callable[[], str | None] = lambda: "") -> tuple[SyncRun | None, bool]:
    """Queue a run of `task` (settings_id, run_id, *task_args), or return the open one:
    (run, created). `message()` gives the new run's message, or None when there is nothing to
    do (then: (None, False))."""
    with transaction.atomic():
        DigitaleFactuurSettings.objects.select_for_update().filter(pk=settings_id).exists()
        for candidate in _open_runs(dry_run=dry_run):
            if locks.run_is_alive(candidate, LOCK_NAME):
                return candidate, False
            candidate.status, candidate.finished_at = Status.ABORTED, timezone.now()
            candidate.started_at = candidate.started_at or candidate.finished_at
            candidate.message = _("Afgebroken: deze run is nooit afgemaakt; het proces is "
                                  "gestopt.")
            candidate.save(update_fields=["status", "started_at", "finished_at", "message"])
        text = message()
        if text is None:
            return None, False
        run = SyncRun.objects.create(connector=CONNECTOR, trigger=trigger, dry_run=dry_run,
                                     status=Status.QUEUED, requested_by=user, message=text)
        _queue(task, settings_id, run.pk, *task_args, label=f"{label}-{run.pk}")
    return run, True


def request_run(settings_id: int, trigger: str = SyncRun.Trigger.MANUAL,
                user=None) -> tuple[SyncRun, bool]:
    """"Koppeling uitvoeren": queue a full run, or return the one open: (run, created)."""
    return _request(settings_id, run_sync, label="run", trigger=trigger, user=user)


def request_preview(df, user) -> tuple[SyncRun, bool]:
    """"Voorbeeld": queue a dry run, or return the preview still open: (run, created)."""
    return _request(df.pk, preview_task, label="preview", dry_run=True, user=user)


def request_retry(df, source: SyncRun, user) -> tuple[SyncRun | None, bool]:
    """Queue a run limited to `source`'s failed exports: (run, created).

    An open run is returned instead (created False), as "Koppeling uitvoeren" does; None when
    there is nothing to retry.
    """
    def note() -> str | None:
        relation_ids = failed_export_relation_ids(source)
        return retry_note(source, len(relation_ids)) if relation_ids else None

    return _request(df.pk, retry_task, source.pk, label="retry", user=user, message=note)


def request_push(settings_id: int, relation_id: int) -> bool:
    """Record that `relation_id` changed; queue a push task unless one is pending. True if queued.
    """
    now = timezone.now()
    queue = False
    try:
        with transaction.atomic():
            # One statement decides whether a task is due: a fresh row, or a stale one.
            stale = PendingPush.objects.filter(relation_id=relation_id,
                                               queued_at__lt=now - STALE_QUEUE)
            if stale.update(requested_at=now, queued_at=now):
                queue = True
            elif not PendingPush.objects.filter(relation_id=relation_id).update(
                    requested_at=now):
                PendingPush.objects.create(relation_id=relation_id, requested_at=now,
                                           queued_at=now)
                queue = True
    except IntegrityError:
        # Another process created the row a moment ago, and queued the task with it.
        PendingPush.objects.filter(relation_id=relation_id).update(requested_at=now)
        return False
    if queue:
        _queue(push_relations, settings_id, label=f"push-{now:%H%M%S%f}")
    return queue


# --- the screens -----------------------------------------------------------------------------

def refusal(df, user, purpose: Purpose = Purpose.RUN) -> str:
    """Why this user cannot start a run now ("" when they can)."""
    if not user.has_perm(DIGITALE_FACTUUR):
        return _("Je hebt het recht Digitale Factuur niet; een beheerder zet het aan onder "
                 "Rechten > applicatie instellingen.")
    return df.refusal(purpose)


def run_panel(df, user) -> dict:
    """What the settings screen's "Koppeling uitvoeren" block shows."""
    last_run = (SyncRun.objects.filter(connector=CONNECTOR, dry_run=False)
                .exclude(status__in=SyncRun.OPEN_STATUSES).order_by("-queued_at").first())
    return {"reason": refusal(df, user), "open_run": open_run(),
            "open_preview": open_run(dry_run=True), "last_run": last_run,
            "log_url": reverse("connectors:log", args=[CONNECTOR])}


def run_url(run: SyncRun) -> str:
    return reverse("connectors:run", args=[run.connector, run.pk])


def refused(request, df, purpose: Purpose = Purpose.RUN):
    """The settings screen with the reason when no run may start now; None when one may."""
    reason = refusal(df, request.user, purpose)
    if reason:
        messages.error(request, _("Er is geen run gestart: %(reason)s") % {"reason": reason})
        return redirect("digitalefactuur:settings")
    return None


def start_run(request, df):
    """Queue a full run (or open the one under way) and go to its page; the reason otherwise."""
    refused_now = refused(request, df)
    if refused_now is not None:
        return refused_now
    run, created = request_run(df.pk, trigger=SyncRun.Trigger.MANUAL, user=request.user)
    if created:
        messages.success(request, _("De synchronisatie staat in de wachtrij en begint zo."))
    else:
        messages.info(request, _("Er loopt al een synchronisatie; er is geen tweede "
                                 "gestart. Hier zie je de voortgang."))
    return redirect(run_url(run))


def start_preview(request, df):
    """Queue a dry run (or open the one under way) and go to its page."""
    refused_now = refused(request, df)
    if refused_now is not None:
        return refused_now
    preview, created = request_preview(df, request.user)
    if not created:
        messages.info(request, _("Er wordt al een voorbeeld gemaakt; hier zie je het."))
    return redirect(run_url(preview))


def failed_count(run: SyncRun, direction: str) -> int:
    return int(((run.counts or {}).get(direction) or {}).get(SyncEvent.Action.ERROR, 0) or 0)


def run_actions(request, run: SyncRun) -> list[RunAction]:
    """The buttons of a finished run's page (see `Connector.run_actions`)."""
    if run.dry_run or run.status not in (Status.WITH_ERRORS, Status.FAILED):
        return []
    df = DigitaleFactuurSettings.load()
    actions = []
    export_failures = failed_count(run, SyncEvent.Direction.EXPORT)
    import_failures = failed_count(run, SyncEvent.Direction.IMPORT)
    if export_failures:
        # A retry only sends: it needs Bijwerken on.
        reason = refusal(df, request.user, Purpose.PUSH)
        actions.append(RunAction(
            "retry", _("Fouten opnieuw proberen"),
            reverse("digitalefactuur:retry", args=[run.pk]), enabled=not reason,
            note=reason or _("Zet een run in de wachtrij die alleen de relaties opnieuw naar "
                             "DigitaleFactuur stuurt waarvan het bijwerken in deze run "
                             "mislukte.")))
    if import_failures or (run.status == Status.FAILED and not export_failures):
        reason = refusal(df, request.user)
        actions.append(RunAction(
            "run", _("Koppeling uitvoeren"), reverse("digitalefactuur:run"),
            enabled=not reason,
            note=reason or _("Klanten die niet in PerfectView konden worden overgenomen, worden "
                             "bij elke volledige run vanzelf opnieuw geprobeerd: de volgende "
                             "geplande run doet dat, of start er nu een.")))
    return actions
