"""The change listener: a relation saved in the CRM is pushed to DigitaleFactuur soon after.

The CRM knows nothing of the connector; the connector listens to the CRM's `post_save` (connected
in `DigitaleFactuurConfig.ready`, see `connect()`). On a save that is not the import's own:

1. nothing at all unless the connector is active, tested (options unlocked) and "Bijwerken" is on;
2. after the transaction commits (a rolled-back save pushes nothing), the relation's
   `PendingPush` row is upserted: its `requested_at` moves to now;
3. only when that row is new (or its task was queued so long ago that it must have been lost)
   is a django-q2 task queued, `tasks.push_relations(settings_id)`, with the id as its only
   argument. The task waits until the pending rows have been quiet for `SYNC_PUSH_DEBOUNCE`
   seconds, takes them, and pushes the relations' latest state in one run (trigger
   "wijziging"). Ten saves in a second are therefore one row, one task, one request.

No echo (STYLE.md, 6): the import writes relations inside `importing()`, a context variable this
listener reads; what the import wrote is never pushed back. (The import writes in bulk, which
sends no signals at all; the guard also covers any single save it may do.)

A deleted relation needs nothing here: its links and pending push go with it (CASCADE) and the
connector never deletes anything in DigitaleFactuur.
"""

from __future__ import annotations

import contextvars
import logging
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.signals import post_save
from django.utils import timezone

logger = logging.getLogger(__name__)

_importing: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "digitalefactuur_importing", default=False)

PUSH_TASK = "integration.digitalefactuur.tasks.push_relations"
TASK_GROUP = "digitalefactuur"
#: A pending push whose task was queued longer ago than this is queued again (a lost task).
STALE_QUEUE = timedelta(minutes=2)


@contextmanager
def importing():
    """Writes inside this block are the import's own: the listener ignores them."""
    token = _importing.set(True)
    try:
        yield
    finally:
        _importing.reset(token)


def is_importing() -> bool:
    return _importing.get()


def _push_settings_id() -> int | None:
    """The settings' id when changes are to be pushed now, else None."""
    from .models import DigitaleFactuurSettings

    df = DigitaleFactuurSettings.objects.filter(active=True, push_enabled=True).first()
    if df is None or not df.options_unlocked:
        return None
    return df.pk


def _may_concern_digitalefactuur(relation) -> bool:
    """A relation with a number is a klant; one without may have just lost it (drop the link)."""
    if relation.debtor_number or relation.creditor_number:
        return True
    from .links import DfLink

    return DfLink.objects.filter(relation_id=relation.pk).exists()


def relation_saved(sender, instance, raw=False, **kwargs) -> None:
    if raw or is_importing():
        return
    if not _may_concern_digitalefactuur(instance):
        return
    settings_id = _push_settings_id()
    if settings_id is None:
        return
    relation_id = instance.pk
    # robust: a broker that is down must not turn the CRM's save into an error page; the
    # scheduled run's export sends the change anyway (its fingerprint changed).
    transaction.on_commit(lambda: request_push(settings_id, relation_id), robust=True)


def request_push(settings_id: int, relation_id: int) -> bool:
    """Record that `relation_id` changed; queue a push task unless one is pending. True if queued.
    """
    from .links import PendingPush

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
        enqueue_push(settings_id)
    return queue


def enqueue_push(settings_id: int) -> None:
    from django_q.tasks import async_task

    async_task(PUSH_TASK, settings_id, task_name=f"digitalefactuur-push-{timezone.now():%H%M%S%f}",
               group=TASK_GROUP)


def debounce_seconds() -> float:
    return float(getattr(settings, "SYNC_PUSH_DEBOUNCE", 0.5))


def connect() -> None:
    """Called from the app's ready(): listen to the CRM's relation saves."""
    from integration.crm.models import Relation

    post_save.connect(relation_saved, sender=Relation,
                      dispatch_uid="digitalefactuur.relation_saved")
