"""One run at a time, whatever the number of processes and machines: a lock row in the database.

Every worker shares the database, so the lock lives there, never in a process's memory. A lock is
a `RunLock` row named after the connector. Taking it is a compare-and-swap done by the database:

- a conditional `UPDATE ... WHERE name = ? AND (holder = '' OR expires_at < now)` that sets a
  fresh random holder token; one row updated means the lock is ours. Two workers racing for the
  same row cannot both match: the database serialises the two updates and the second one no
  longer sees a free row.
- on first use there is no row: an `INSERT` races instead, and the unique name lets exactly one
  win (the loser's IntegrityError means "taken").

Both work the same on SQLite and PostgreSQL; no advisory locks, no `SELECT ... FOR UPDATE` held
for the length of a run (a run takes minutes; a transaction that long would block the CRM).

A holder that dies keeps the row, but only until `expires_at`: a living holder calls
`heartbeat()` every page or chunk of records, which pushes the expiry `SYNC_LOCK_TTL` seconds
ahead (and tells it when somebody else has taken over). A heartbeat is a write, so it is
throttled to one per fifth of the TTL: a no-op resync stays (nearly) free. Only the holder can
release it: the token is part of the `WHERE`.

The lock also says whose it is: a run takes it with its `SyncRun` id, kept in the holder token
("<run id>:<random>"), so "is this run alive?" has one answer, `run_is_alive()`:

- a real run that is "bezig" is alive exactly while the living holder of its lock is that run
  (its worker died: the lock expired, or another run took it over);
- a run that holds no lock — one still "in de wachtrij", or a preview, which never takes the
  lock — is alive while its task may still run: for django-q2's `retry` (`SYNC_TASK_TIMEOUT`
  + 300 s) after it was queued. After that no worker will pick it up or finish it.

A queued run that must wait for the lock (a change push holds it for a moment) asks `acquire`
to wait: the lock is tried again every POLL_SECONDS (tenacity, as the client's retries), here,
for every caller.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed

from .models import RunLock, SyncRun

#: Seconds between two tries of a lock that `acquire` was asked to wait for.
POLL_SECONDS = 0.5


class LockLost(Exception):
    """Our lock expired and another run took it: stop writing at once."""


def ttl_seconds() -> float:
    return float(getattr(settings, "SYNC_LOCK_TTL", 300))


@dataclass
class HeldLock:
    name: str
    token: str
    ttl: float
    _last_beat: datetime = field(default_factory=timezone.now)

    @property
    def run_id(self) -> int | None:
        """The run this lock was taken for (None: taken for no run)."""
        return _run_id_of(self.token)

    def heartbeat(self, *, force: bool = False) -> None:
        """Extend the expiry; raise LockLost when another holder has taken the lock."""
        now = timezone.now()
        if not force and (now - self._last_beat).total_seconds() < self.ttl / 5:
            return
        extended = RunLock.objects.filter(name=self.name, holder=self.token).update(
            expires_at=now + timedelta(seconds=self.ttl))
        if not extended:
            raise LockLost(self.name)
        self._last_beat = now

    def release(self) -> bool:
        """Give the lock back; False when it was no longer ours (nothing is changed then)."""
        return bool(RunLock.objects.filter(name=self.name, holder=self.token).update(
            holder="", expires_at=None))


def acquire(name: str, *, run_id: int | None = None, ttl: float | None = None,
            wait: float = 0) -> HeldLock | None:
    """Take the lock `name` for the run `run_id`, or None when a living holder has it.

    With `wait` (seconds), a lock held by somebody else is tried again every POLL_SECONDS
    until then: a queued run waits for a change push to give the lock back.
    """
    tries = Retrying(stop=stop_after_delay(max(0.0, wait)), wait=wait_fixed(POLL_SECONDS),
                     retry=retry_if_result(lambda lock: lock is None),
                     retry_error_callback=lambda state: None)  # still held: no lock
    return tries(_take, name, run_id, ttl_seconds() if ttl is None else float(ttl))


def _take(name: str, run_id: int | None, ttl: float) -> HeldLock | None:
    token = f"{run_id}:{uuid.uuid4().hex}" if run_id is not None else uuid.uuid4().hex
    now = timezone.now()
    expires = now + timedelta(seconds=ttl)
    free = Q(holder="") | Q(expires_at__lt=now) | Q(expires_at__isnull=True)
    if RunLock.objects.filter(free, name=name).update(holder=token, acquired_at=now,
                                                       expires_at=expires):
        return HeldLock(name, token, ttl)
    if RunLock.objects.filter(name=name).exists():
        return None  # a living holder has it
    try:
        with transaction.atomic():
            RunLock.objects.create(name=name, holder=token, acquired_at=now, expires_at=expires)
    except IntegrityError:
        return None  # another process created it first: it holds the lock
    return HeldLock(name, token, ttl)


def is_held(name: str) -> bool:
    """True while a living holder has the lock (an expired one counts as free)."""
    return _living_holder(name) is not None


def holder_run_id(name: str) -> int | None:
    """The id of the run that holds the lock `name` and is alive; None when none does."""
    return _run_id_of(_living_holder(name) or "")


def _run_id_of(holder: str) -> int | None:
    run_id, separator, _random = holder.partition(":")
    return int(run_id) if separator and run_id.isdigit() else None


def _living_holder(name: str) -> str | None:
    return (RunLock.objects.filter(name=name, expires_at__gte=timezone.now())
            .exclude(holder="").values_list("holder", flat=True).first())


def task_lost_after() -> timedelta:
    """How long a task may take to be picked up and finished: django-q2's `retry` (after it, a
    task still unacknowledged is handed out again or, with Redis, forgotten)."""
    return timedelta(seconds=settings.Q_CLUSTER["retry"])


def run_is_alive(run: SyncRun, name: str) -> bool:
    """Will this open run still finish? The rule of the module docstring, for the lock `name`."""
    if run.status not in SyncRun.OPEN_STATUSES:
        return False
    if run.status == SyncRun.Status.RUNNING and not run.dry_run:
        return holder_run_id(name) == run.pk
    return run.queued_at >= timezone.now() - task_lost_after()


def dead_running_runs(runs, name: str, *, held: HeldLock | None = None):
    """Of `runs` (a queryset), the real runs "bezig" that are not the lock's living holder.

    `held`: the lock, held by the caller, who is then its living holder (no need to read it).
    """
    running = runs.filter(status=SyncRun.Status.RUNNING, dry_run=False)
    holder = held.run_id if held is not None else holder_run_id(name)
    return running.exclude(pk=holder) if holder is not None else running
