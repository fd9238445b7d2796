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
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .models import RunLock


class LockLost(Exception):
    """Our lock expired and another run took it: stop writing at once."""


def ttl_seconds() -> float:
    return float(getattr(settings, "SYNC_LOCK_TTL", 300))


@dataclass
class HeldLock:
    name: str
    token: str
    ttl: float
    #: True when the lock was taken over from a holder whose lock had expired (it died).
    took_over: bool = False
    _last_beat: datetime = field(default_factory=timezone.now)

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


def acquire(name: str, *, ttl: float | None = None) -> HeldLock | None:
    """Take the lock `name`, or None when a living holder has it."""
    ttl = ttl_seconds() if ttl is None else float(ttl)
    token = uuid.uuid4().hex
    now = timezone.now()
    expires = now + timedelta(seconds=ttl)
    # Whether the row held a (dead) holder before: read first, then swap only if it is still
    # the row we read, so that "took over" is exact even when two takers race.
    current = RunLock.objects.filter(name=name).values("holder", "expires_at").first()
    if current is None:
        try:
            with transaction.atomic():
                RunLock.objects.create(name=name, holder=token, acquired_at=now,
                                       expires_at=expires)
        except IntegrityError:
            return None  # another process created it first: it holds the lock
        return HeldLock(name, token, ttl)
    if current["holder"] and current["expires_at"] and current["expires_at"] >= now:
        return None
    free = Q(holder="") | Q(expires_at__lt=now) | Q(expires_at__isnull=True)
    swapped = RunLock.objects.filter(free, name=name, holder=current["holder"]).update(
        holder=token, acquired_at=now, expires_at=expires)
    if not swapped:
        return None
    return HeldLock(name, token, ttl, took_over=bool(current["holder"]))


def is_held(name: str) -> bool:
    """True while a living holder has the lock (an expired one counts as free)."""
    return RunLock.objects.filter(name=name, expires_at__gte=timezone.now()).exclude(
        holder="").exists()
