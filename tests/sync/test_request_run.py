""""Koppeling uitvoeren": one queued run however often it is asked for, run by its task."""

import pytest
from django_q.models import OrmQ

from integration.connectors import locks
from integration.connectors.models import SyncRun
from integration.digitalefactuur import sync, tasks

pytestmark = pytest.mark.django_db


def test_a_second_click_opens_the_queued_run_and_queues_nothing(configure,
                                                               django_capture_on_commit_callbacks):
    # given
    df = configure()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        first, first_created = sync.request_run(df.pk, "handmatig")
        second, second_created = sync.request_run(df.pk, "handmatig")

    # then
    assert (first_created, second_created) == (True, False)
    assert second == first and first.status == SyncRun.Status.QUEUED
    assert OrmQ.objects.count() == 1  # one task, with ids only


def test_the_task_runs_the_queued_run_itself(configure, df_sandbox):
    # given
    df = configure()
    df_sandbox.add_klant(relatienummer="1001", type="debiteur", naam="Uit DigitaleFactuur")
    queued, _created = sync.request_run(df.pk, "handmatig")

    # when
    run_id = tasks.run_sync(df.pk, queued.pk)

    # then
    queued.refresh_from_db()
    assert run_id == queued.pk
    assert queued.status == SyncRun.Status.SUCCEEDED and queued.trigger == "handmatig"
    assert queued.counts == {"import": {"aangemaakt": 1}}
    assert queued.processed == 1 and queued.phase


def test_a_running_run_whose_worker_died_is_not_opened_again(configure):
    # given
    df = configure()
    dead = SyncRun.objects.create(connector="digitalefactuur", trigger="handmatig",
                                  status="bezig")
    assert not locks.is_held(sync.LOCK_NAME)

    # when
    run, created = sync.request_run(df.pk, "handmatig")

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
    assert SyncRun.objects.get(pk=run_id).trigger == "gepland"
