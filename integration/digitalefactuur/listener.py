"""What the connector listens to: the CRM's relation saves, and its own settings' saves.

The CRM knows nothing of the connector; the connector listens to the CRM's `post_save` (connected
in `DigitaleFactuurConfig.ready`, see `connect()`). On a save of a relation:

1. nothing at all unless the connector may push (`refusal(Purpose.PUSH)`: active, tested,
   "Bijwerken" on) and the relation has a number or a link;
2. after the transaction commits (a rolled-back save pushes nothing), `runs.request_push`
   upserts the relation's `PendingPush` row (its `requested_at` moves to now);
3. only when that row is new (or its task was queued so long ago that it must have been lost)
   is a django-q2 task queued, `tasks.push_relations(settings_id)`, with the id as its only
   argument. The task waits until the pending rows have been quiet for `SYNC_PUSH_DEBOUNCE`
   seconds, takes them, and pushes the relations' latest state in one run (trigger
   "wijziging"). Ten saves in a second are therefore one row, one task, one request.

No echo (STYLE.md, 6): the import writes relations with `bulk_create` / `bulk_update`, which send
no signals, so nothing it writes reaches this listener (`tests/digitalefactuur/test_change_push.py`
`test_an_import_does_not_echo_back`). An import that saved relations one by one would need a
guard here again.

A deleted relation needs nothing here: its links and pending push go with it (CASCADE) and the
connector never deletes anything in DigitaleFactuur.

The settings' own saves keep the django-q2 schedule in step (`schedule.ensure_schedule`),
inside the save's transaction.

This module is loaded by `ready()` in every process (web, worker, command), so it imports the
layers above the models (`runs`, `schedule`, and through them the tasks, the engine and its
client) only when a save needs them: a process that never pushes or saves the settings never
loads the engine (`tests/proofs/test_redaction.py` relies on a web process not importing the
client to prove that the log redaction is the app's doing).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_save

from integration.crm.models import Relation

from .links import DfLink
from .models import SINGLETON_PK, DigitaleFactuurSettings, Purpose

logger = logging.getLogger(__name__)


def _push_settings_id() -> int | None:
    """The settings' id when changes are to be pushed now, else None."""
    df = DigitaleFactuurSettings.objects.filter(pk=SINGLETON_PK).first()
    if df is None or df.refusal(Purpose.PUSH):
        return None
    return df.pk


def _may_concern_digitalefactuur(relation) -> bool:
    """A relation with a number is a klant; one without may have just lost it (drop the link)."""
    if relation.debtor_number or relation.creditor_number:
        return True
    return DfLink.objects.filter(relation_id=relation.pk).exists()


def relation_saved(sender, instance, raw=False, **kwargs) -> None:
    if raw:
        return
    if not _may_concern_digitalefactuur(instance):
        return
    settings_id = _push_settings_id()
    if settings_id is None:
        return
    relation_id = instance.pk
    from . import runs  # the upper floors load on the first push (module docstring)

    # robust: a broker that is down must not turn the CRM's save into an error page; the
    # scheduled run's export sends the change anyway (its fingerprint changed).
    transaction.on_commit(lambda: runs.request_push(settings_id, relation_id), robust=True)


def settings_saved(sender, instance, raw=False, **kwargs) -> None:
    """post_save of DigitaleFactuurSettings: the schedule follows, in the save's transaction."""
    if raw:
        return
    from .schedule import ensure_schedule  # loads the tasks only when needed (docstring)

    ensure_schedule(instance)


def connect() -> None:
    """Called from the app's ready(): listen to the CRM's relation saves and to our settings."""
    post_save.connect(relation_saved, sender=Relation,
                      dispatch_uid="digitalefactuur.relation_saved")
    post_save.connect(settings_saved, sender=DigitaleFactuurSettings,
                      dispatch_uid="digitalefactuur.schedule")
