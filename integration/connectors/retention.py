"""Retention of the sync log: runs older than SYNC_LOG_RETENTION_DAYS go, with their events.

`purge_old_runs()` is the task of one daily django-q2 `Schedule` (`SCHEDULE_NAME`). It deletes
in batches, events first (a batch of ids, then `DELETE ... WHERE id IN`), so that neither a
huge run nor a long-neglected log holds a write lock for long or loads rows into memory.
0 days keeps the log for ever.

Why the schedule is ensured when a worker process starts (django-q2's `post_spawn` signal) and
not by a migration or a `post_migrate` handler: only a worker runs schedules, so a worker is the
one place where the schedule must exist, and every start of one repairs a deleted or edited row.
A row made at migrate time would also sit in every test database next to the connector's own
schedule. Several workers start at once: a `RunLock` makes the upkeep one-at-a-time, and a
surplus row, however it came, is removed.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from . import locks
from .models import SyncEvent, SyncRun
from .tasks import task_path

logger = logging.getLogger(__name__)

SCHEDULE_NAME = "synchronisatielogboek-opschonen"
UPKEEP_LOCK = "sync-log-retention-schedule"
RUN_BATCH = 200
EVENT_BATCH = 5000
#: Local time of day of the daily purge: a quiet hour.
PURGE_AT = time(3, 30)


def retention_days() -> int:
    return int(getattr(settings, "SYNC_LOG_RETENTION_DAYS", 90))


def purge_old_runs(days: int | None = None) -> int:
    """Delete the runs queued more than `days` ago, and their events; returns the runs removed.
    """
    days = retention_days() if days is None else int(days)
    if days <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=days)
    removed = 0
    while True:
        run_ids = list(SyncRun.objects.filter(queued_at__lt=cutoff).order_by("pk")
                       .values_list("pk", flat=True)[:RUN_BATCH])
        if not run_ids:
            break
        while True:
            event_ids = list(SyncEvent.objects.filter(run_id__in=run_ids)
                             .values_list("pk", flat=True)[:EVENT_BATCH])
            if not event_ids:
                break
            SyncEvent.objects.filter(pk__in=event_ids).delete()
        SyncRun.objects.filter(pk__in=run_ids).delete()
        removed += len(run_ids)
    if removed:
        logger.info("Sync log: %d run(s) older than %d days removed", removed, days)
    return removed


#: The Schedule's `func`, derived from the function (never written by hand).
TASK_FUNC = task_path(purge_old_runs)


def next_purge_time(now: datetime | None = None) -> datetime:
    local_now = timezone.localtime(now or timezone.now())
    at = local_now.replace(hour=PURGE_AT.hour, minute=PURGE_AT.minute, second=0,
                           microsecond=0)
    return at if at > local_now else at + timedelta(days=1)


def ensure_schedule():
    """Exactly one daily purge Schedule; returns it (None when another process is at it)."""
    from django_q.models import Schedule

    lock = locks.acquire(UPKEEP_LOCK, ttl=60)
    if lock is None:
        return None
    try:
        rows = list(Schedule.objects.filter(name=SCHEDULE_NAME).order_by("pk"))
        wanted = {"func": TASK_FUNC, "args": None, "kwargs": None,
                  "schedule_type": Schedule.DAILY, "repeats": -1}
        if not rows:
            return Schedule.objects.create(name=SCHEDULE_NAME, next_run=next_purge_time(),
                                           **wanted)
        schedule, surplus = rows[0], rows[1:]
        if surplus:
            Schedule.objects.filter(pk__in=[row.pk for row in surplus]).delete()
        changed = [name for name, value in wanted.items() if getattr(schedule, name) != value]
        if changed:
            for name in changed:
                setattr(schedule, name, wanted[name])
            schedule.save(update_fields=changed)
        return schedule
    finally:
        lock.release()


def on_worker_spawn(sender, **kwargs) -> None:
    """django-q2's post_spawn: a worker process started; make sure the purge is scheduled."""
    try:
        ensure_schedule()
    except DatabaseError:
        # A worker must start even when the database is briefly away; the next spawn retries.
        logger.exception("Sync log: could not ensure the retention schedule")
