""""Koppeling uitvoeren": one queued run however often it is asked for, run by its task."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from integration.connectors import locks
from integration.connectors.models import SyncRun
from integration.digitalefactuur import runs, sync, tasks

pytestmark = pytest.mark.django_db


def test_a_second_click_opens_the_queued_run_and_queues_nothing(configure,
                                                               django_capture_on_commit_callbacks):
    # given
    df = configure()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        first, first_created = runs.request_run(df.pk, SyncRun.Trigger.MANUAL)
        second, second_created = runs.request_run(df.pk, SyncRun.Trigger.MANUAL)

    # then
    assert (first_created, second_created) == (True, False)
    assert second == first and first.status == SyncRun.Status.QUEUED
    assert OrmQ.objects.count() == 1  # one task, with ids only


def test_the_task_runs_the_queued_run_itself(configure, df_sandbox):
    # given
    df = configure()
    df_sandbox.add_klant(relatienummer="1001", type="debiteur", naam="Uit DigitaleFactuur")
    queued, _created = runs.request_run(df.pk, SyncRun.Trigger.MANUAL)

    # when
    run_id = tasks.run_sync(df.pk, queued.pk)

    # then
    queued.refresh_from_db()
    assert run_id == queued.pk
    assert queued.status == SyncRun.Status.SUCCEEDED and queued.trigger == SyncRun.Trigger.MANUAL
    assert queued.counts == {"import": {"aangemaakt": 1}}
    assert queued.processed == 1 and queued.phase


def test_a_running_run_whose_worker_died_is_not_opened_again(configure):
    # given
    df = configure()
    dead = SyncRun.objects.create(connector="digitalefactuur", trigger=SyncRun.Trigger.MANUAL,
                                  status="bezig")
    assert not locks.is_held(sync.LOCK_NAME)

    # when
    run, created = runs.request_run(df.pk, SyncRun.Trigger.MANUAL)

    # then
    assert created and run != dead
    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.ABORTED


def test_the_scheduled_task_returns_the_run_id(configure, df_sandbox):
    # given
    df = configure()

    # when
    run_id = tasks.scheduled_sync(df.pk)

    # then
    assert SyncRun.objects.get(pk=run_id).trigger == SyncRun.Trigger.SCHEDULED


def test_a_running_run_is_alive_while_the_lock_holds_its_id(configure):
    """The one rule of liveness: the lock says which run holds it."""
    # given a run "bezig" holding the lock, and another "bezig" that does not
    configure()
    holder = SyncRun.objects.create(connector="digitalefactuur", trigger=SyncRun.Trigger.MANUAL,
                                    status="bezig")
    orphan = SyncRun.objects.create(connector="digitalefactuur",
                                    trigger=SyncRun.Trigger.SCHEDULED, status="bezig")
    held = locks.acquire(sync.LOCK_NAME, run_id=holder.pk)

    # when
    alive = {run.pk: locks.run_is_alive(run, sync.LOCK_NAME) for run in (holder, orphan)}
    opened = runs.open_run()

    # then
    assert alive == {holder.pk: True, orphan.pk: False}
    assert locks.holder_run_id(sync.LOCK_NAME) == holder.pk
    assert opened == holder
    held.release()
    assert not locks.run_is_alive(holder, sync.LOCK_NAME)


def test_a_queued_run_is_alive_until_its_task_is_lost(configure, settings):
    # given a queued run older than django-q2's retry (the task's timeout + 300 s)
    df = configure()
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "retry": 360}
    lost = SyncRun.objects.create(connector="digitalefactuur", trigger=SyncRun.Trigger.MANUAL,
                                  status="wachtrij",
                                  queued_at=timezone.now() - timedelta(seconds=361))

    # when
    run, created = runs.request_run(df.pk, SyncRun.Trigger.MANUAL)

    # then a new run is queued and the lost one is closed
    assert created and run != lost
    lost.refresh_from_db()
    assert lost.status == SyncRun.Status.ABORTED and lost.finished_at is not None


def test_a_run_takes_the_lock_with_its_own_id(configure, df_sandbox):
    # given a queued run, and a lock that remembers who took it while the run is under way
    df = configure()
    queued, _created = runs.request_run(df.pk, SyncRun.Trigger.MANUAL)
    holders = []

    def on_progress(run):
        holders.append(locks.holder_run_id(sync.LOCK_NAME))

    # when
    sync.run(df.pk, SyncRun.Trigger.MANUAL, run_id=queued.pk, on_progress=on_progress)

    # then
    assert holders and set(holders) == {queued.pk}
    assert locks.holder_run_id(sync.LOCK_NAME) is None
