"""Retention: a daily django-q2 Schedule removes runs (and events) past SYNC_LOG_RETENTION_DAYS.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from integration.connectors import retention
from integration.connectors.models import SyncEvent, SyncRun
from tests.factories import SyncEventFactory, SyncRunFactory

pytestmark = pytest.mark.django_db


def test_runs_past_the_retention_go_with_their_events_in_batches(settings, monkeypatch):
    # given runs of 100 and 91 days ago (with events) and of 89 days and today
    settings.SYNC_LOG_RETENTION_DAYS = 90
    monkeypatch.setattr(retention, "RUN_BATCH", 1)
    monkeypatch.setattr(retention, "EVENT_BATCH", 2)
    now = timezone.now()
    old = [SyncRunFactory(started_at=now - timedelta(days=days)) for days in (100, 91)]
    for run in old:
        SyncEventFactory.create_batch(5, run=run)
    kept = [SyncRunFactory(started_at=now - timedelta(days=days)) for days in (89, 0)]
    SyncEventFactory.create_batch(3, run=kept[0])

    # when the daily task runs
    removed = retention.purge_old_runs()

    # then
    assert removed == 2
    assert sorted(SyncRun.objects.values_list("pk", flat=True)) == [run.pk for run in kept]
    assert SyncEvent.objects.count() == 3


def test_zero_days_keeps_the_log(settings):
    settings.SYNC_LOG_RETENTION_DAYS = 0
    SyncRunFactory(started_at=timezone.now() - timedelta(days=4000))
    assert retention.purge_old_runs() == 0 and SyncRun.objects.count() == 1


def test_a_starting_worker_keeps_exactly_one_daily_schedule():
    """Every worker that spawns ensures it; a surplus or an edited row is repaired."""
    # given a duplicate and an edited row
    for _copy in range(2):
        Schedule.objects.create(name=retention.SCHEDULE_NAME, func=retention.TASK_FUNC,
                                schedule_type=Schedule.HOURLY)

    # when two workers spawn
    retention.on_worker_spawn("django_q", proc_name="Process-1")
    retention.on_worker_spawn("django_q", proc_name="Process-2")

    # then
    [schedule] = Schedule.objects.filter(name=retention.SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (
        retention.TASK_FUNC, Schedule.DAILY, -1)
    assert schedule.args is None  # nothing to pickle: the task reads the setting


def test_a_new_schedule_first_runs_at_night():
    # given nothing scheduled
    # when
    schedule = retention.ensure_schedule()

    # then
    local = timezone.localtime(schedule.next_run)
    assert (local.hour, local.minute) == (3, 30)
    assert schedule.next_run > timezone.now()


def test_the_retention_is_in_the_env_example():
    from pathlib import Path

    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    assert "SYNC_LOG_RETENTION_DAYS=" in example
