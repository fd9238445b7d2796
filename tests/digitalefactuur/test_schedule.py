"""The one django-q2 Schedule: kept single, following the interval, removed when off or locked."""

import pytest
from django_q.models import Schedule

from integration.digitalefactuur import tasks
from integration.digitalefactuur.models import DigitaleFactuurSettings
from integration.digitalefactuur.schedule import SCHEDULE_NAME, TASK_FUNC, ensure_schedule


@pytest.mark.django_db
def test_saving_twice_keeps_one_schedule_with_only_the_id(tested_settings):
    """Save, save again, call the upkeep again: still one Schedule, args = (id,)."""
    # when
    tested_settings.save()
    tested_settings.save()
    ensure_schedule(tested_settings)

    # then
    schedule = Schedule.objects.get()
    assert schedule.name == SCHEDULE_NAME
    assert schedule.func == TASK_FUNC
    assert schedule.args == f"({tested_settings.pk},)"
    assert schedule.kwargs is None
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        Schedule.MINUTES, 60, -1)


@pytest.mark.django_db
def test_a_stray_duplicate_is_removed(tested_settings):
    """Two rows with our name (made by hand, or by an older version): the upkeep keeps one."""
    Schedule.objects.create(name=SCHEDULE_NAME, func=TASK_FUNC, args="(1,)",
                            schedule_type=Schedule.MINUTES, minutes=5)
    ensure_schedule(tested_settings)
    assert Schedule.objects.filter(name=SCHEDULE_NAME).count() == 1


@pytest.mark.django_db
def test_interval_change_updates_the_schedule(tested_settings):
    tested_settings.interval_minutes = 15
    tested_settings.save()
    schedule = Schedule.objects.get()
    assert schedule.minutes == 15


@pytest.mark.django_db
def test_deactivating_removes_the_schedule(tested_settings):
    tested_settings.active = False
    tested_settings.save()
    assert not Schedule.objects.exists()


@pytest.mark.django_db
def test_locking_the_options_removes_the_schedule(tested_settings):
    """A new code locks the options; a locked connector is not scheduled."""
    tested_settings.set_access_code("een-andere-code")
    tested_settings.save()
    assert not Schedule.objects.exists()


@pytest.mark.django_db
def test_never_tested_active_connector_has_no_schedule(db):
    df = DigitaleFactuurSettings.load()
    df.active, df.account_id = True, "10001"
    df.set_access_code("code")
    df.save()
    assert not Schedule.objects.exists()


@pytest.mark.django_db
def test_scheduled_sync_returns_quietly_when_off_or_gone(tested_settings):
    """The task re-reads by id: gone or inactive settings mean no run (no engine needed)."""
    assert tasks.scheduled_sync(tested_settings.pk + 1) is None
    tested_settings.active = False
    tested_settings.save()
    assert tasks.scheduled_sync(tested_settings.pk) is None
