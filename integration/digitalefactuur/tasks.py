"""django-q2 entry points of the connector.

Tasks take ids and re-read (STYLE.md, 9): django-q2 pickles arguments and shows them in its
admin, so no credential or payload is ever an argument, and a task that finds its settings gone
or switched off by the time it runs returns quietly.
"""

from __future__ import annotations

import logging
import time

logger = logging.getLogger(__name__)


def _usable(settings_id: int, *, push: bool = False) -> bool:
    from integration.digitalefactuur.models import DigitaleFactuurSettings

    settings = DigitaleFactuurSettings.objects.filter(pk=settings_id).first()
    usable = settings is not None and settings.active and settings.options_unlocked
    return usable and (settings.push_enabled or not push)


def scheduled_sync(settings_id: int):
    """The schedule's task (see schedule.py): one sync run, if the connector is still on.

    Re-reads `DigitaleFactuurSettings` by `settings_id`; returns None without doing anything
    when the row was deleted, the connector deactivated, or the options locked again since the
    schedule was made. Otherwise one run of the engine (trigger "gepland"); returns its id.
    """
    if not _usable(settings_id):
        logger.info("DigitaleFactuur: scheduled sync skipped, connector not active")
        return None

    from integration.digitalefactuur import sync

    return sync.run(settings_id, trigger="gepland").pk


#: How long a queued "Koppeling uitvoeren" waits for a change push to give the lock back.
MANUAL_LOCK_WAIT_SECONDS = 30


def run_sync(settings_id: int, run_id: int | None = None):
    """"Koppeling uitvoeren": the run `sync.request_run` queued (`run_id`), or a new one.

    The run record is closed (overgeslagen, with the reason) rather than left queued when the
    connector was switched off meanwhile. Returns the run's id.
    """
    from integration.digitalefactuur import sync

    return sync.run(settings_id, trigger="handmatig", run_id=run_id,
                    wait_for_lock=MANUAL_LOCK_WAIT_SECONDS).pk


#: Attempts of a change push while a full run holds the lock, and the first wait between them.
PUSH_ATTEMPTS = 4
PUSH_BACKOFF_SECONDS = 2.0
#: A push keeps waiting for quiet no longer than this: saves that never stop (a user tabbing
#: through relations, a script) still go out within the save -> DigitaleFactuur target of 2 s,
#: in batches of whatever was saved meanwhile. Longer only batches more, and delays everyone.
PUSH_MAX_WAIT_SECONDS = 1.5


def push_relations(settings_id: int):
    """The change push (listener.py): the relations saved lately, once they have been quiet.

    Waits until the newest `PendingPush` is `SYNC_PUSH_DEBOUNCE` seconds old, takes every
    pending row at once (deleting them, so the next save queues a new task), and pushes those
    relations' latest state in one run (trigger "wijziging"); when no mapped field changed (a
    new phone number, say) there is no run at all, so the log holds only pushes that did
    something. While a full run holds the lock it
    tries again a few times with a growing wait; after that it leaves the relations to the next
    scheduled run, whose export sends every relation whose fingerprint changed anyway. Loops
    until no pending row is left. Returns the ids of the runs it made.
    """
    from django.utils import timezone

    from integration.digitalefactuur import exporter, sync
    from integration.digitalefactuur.links import PendingPush
    from integration.digitalefactuur.listener import debounce_seconds

    run_ids = []
    while _usable(settings_id, push=True):
        newest = PendingPush.objects.order_by("-requested_at").values_list(
            "requested_at", flat=True).first()
        if newest is None:
            break
        _wait_for_quiet(newest, debounce_seconds(), PUSH_MAX_WAIT_SECONDS)
        cutoff = timezone.now()
        taken = list(PendingPush.objects.filter(requested_at__lte=cutoff).values_list(
            "relation_id", flat=True))
        if not taken:
            continue
        PendingPush.objects.filter(relation_id__in=taken, requested_at__lte=cutoff).delete()
        from integration.digitalefactuur.models import DigitaleFactuurSettings

        changed = exporter.relations_to_push(
            taken, DigitaleFactuurSettings.objects.filter(pk=settings_id).first())
        if changed:
            run_ids.extend(_push_with_backoff(sync, settings_id, changed))
    return run_ids


def _wait_for_quiet(newest, debounce: float, max_wait: float) -> None:
    from django.utils import timezone

    from integration.digitalefactuur.links import PendingPush

    waited = 0.0
    while waited < max_wait:
        quiet = (timezone.now() - newest).total_seconds()
        if quiet >= debounce:
            return
        pause = debounce - quiet
        time.sleep(pause)
        waited += pause
        newest = PendingPush.objects.order_by("-requested_at").values_list(
            "requested_at", flat=True).first()
        if newest is None:
            return


def _push_with_backoff(sync, settings_id: int, relation_ids: list[int]) -> list[int]:
    # While the lock is held, wait without recording anything; only the last attempt may end
    # as an "overgeslagen" run in the log.
    for attempt in range(PUSH_ATTEMPTS - 1):
        if not sync.locks.is_held(sync.LOCK_NAME):
            break
        time.sleep(PUSH_BACKOFF_SECONDS * 2 ** attempt)
    return [sync.run(settings_id, trigger="wijziging", relation_ids=relation_ids).pk]
