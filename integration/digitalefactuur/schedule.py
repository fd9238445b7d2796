"""Upkeep of the one django-q2 `Schedule` that runs the sync at the chosen interval.

`ensure_schedule(settings)` is called by every save of `DigitaleFactuurSettings`, inside the
save's transaction, and makes the schedule table agree with the settings:

- when the settings may keep a schedule (`refusal(Purpose.SCHEDULE)`: active and options
  unlocked): exactly one Schedule named `SCHEDULE_NAME`, type MINUTES, every `interval_minutes`,
  calling `tasks.scheduled_sync` (its dotted path derived from the function: `TASK_FUNC`) with
  the settings' id as its only argument (django-q2 pickles arguments and shows them in its
  admin: never credentials), repeating forever;
- otherwise: none.

`listener.settings_saved`, a `post_save` receiver, calls it for every save; the model itself
imports nothing above it.

django-q2's `Schedule.name` is not unique, so the name alone cannot stop two concurrent saves
from creating two rows; the settings row is locked first (`select_for_update`), which serialises
every upkeep, and any surplus row found is removed.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from integration.connectors.tasks import task_path

from .models import Purpose
from .tasks import scheduled_sync

SCHEDULE_NAME = "digitalefactuur-sync"
TASK_FUNC = task_path(scheduled_sync)


def schedule_args(settings_id: int) -> str:
    # django-q2 evaluates `args` with ast.literal_eval; a one-tuple keeps it a single argument.
    return f"({int(settings_id)},)"


def ensure_schedule(settings) -> Schedule | None:
    """Create, update or remove the sync schedule so that it matches `settings`."""
    with transaction.atomic():
        type(settings).objects.select_for_update().filter(pk=settings.pk).exists()
        existing = list(Schedule.objects.select_for_update()
                        .filter(name=SCHEDULE_NAME).order_by("pk"))
        if settings.refusal(Purpose.SCHEDULE):
            if existing:
                Schedule.objects.filter(pk__in=[row.pk for row in existing]).delete()
            return None

        wanted = {
            "func": TASK_FUNC,
            "args": schedule_args(settings.pk),
            "kwargs": None,
            "schedule_type": Schedule.MINUTES,
            "minutes": settings.interval_minutes,
            "repeats": -1,
        }
        if not existing:
            # The first run comes one interval after switching on; "Koppeling uitvoeren" is
            # there for whoever wants one now.
            return Schedule.objects.create(
                name=SCHEDULE_NAME,
                next_run=timezone.now() + timedelta(minutes=settings.interval_minutes),
                **wanted)

        schedule, surplus = existing[0], existing[1:]
        if surplus:
            Schedule.objects.filter(pk__in=[row.pk for row in surplus]).delete()
        changed = [name for name, value in wanted.items() if getattr(schedule, name) != value]
        if changed:
            interval_changed = "minutes" in changed
            for name in changed:
                setattr(schedule, name, wanted[name])
            if interval_changed:
                # A shorter interval should not wait out the longer one still pending.
                schedule.next_run = min(
                    schedule.next_run or timezone.now(),
                    timezone.now() + timedelta(minutes=settings.interval_minutes))
                changed.append("next_run")
            schedule.save(update_fields=changed)
        return schedule
