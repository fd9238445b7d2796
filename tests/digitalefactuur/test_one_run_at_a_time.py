"""One run at a time: the database lock, two runs at once, and a lock left by a dead worker."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from integration.connectors import locks
from integration.connectors.models import RunLock, SyncRun
from integration.digitalefactuur import sync


@pytest.mark.django_db
def test_the_lock_has_one_holder_and_only_the_holder_gives_it_back():
    # given
    first = locks.acquire("proef")

    # when
    second = locks.acquire("proef")
    intruder = locks.HeldLock("proef", token="niet-van-mij", ttl=60)

    # then
    assert first is not None and second is None
    assert intruder.release() is False
    assert locks.is_held("proef")
    with pytest.raises(locks.LockLost):
        intruder.heartbeat(force=True)
    assert first.release() is True
    assert locks.acquire("proef") is not None


@pytest.mark.django_db
def test_a_caller_that_may_wait_gets_the_lock_once_its_holder_is_gone():
    # given a holder whose lock runs out in a moment (its worker stopped beating)
    held = locks.acquire("proef", run_id=7, ttl=0.6)

    # when one caller does not wait long enough and another waits longer than the lock lives
    impatient = locks.acquire("proef", run_id=8, wait=0.1)
    patient = locks.acquire("proef", run_id=9, wait=5)

    # then only the patient one holds it, for its own run
    assert held is not None and impatient is None
    assert patient is not None and patient.run_id == 9
    assert locks.holder_run_id("proef") == 9


@pytest.mark.django_db
def test_a_heartbeat_pushes_the_expiry_on():
    # given
    held = locks.acquire("proef", ttl=60)
    RunLock.objects.filter(name="proef").update(expires_at=timezone.now() + timedelta(seconds=1))

    # when
    held.heartbeat(force=True)

    # then
    assert RunLock.objects.get(name="proef").expires_at > timezone.now() + timedelta(seconds=50)


@pytest.mark.django_db
def test_a_stale_lock_expires_and_the_dead_run_becomes_afgebroken(configure, df_sandbox,
                                                                  run_sync):
    """A worker died mid-run: its lock is past its expiry and its run still says "bezig"."""
    # given
    df = configure()
    dead = SyncRun.objects.create(connector="digitalefactuur", trigger="gepland",
                                  status="bezig", started_at=timezone.now())
    RunLock.objects.create(name=sync.LOCK_NAME, holder="dode-werker",
                           acquired_at=timezone.now() - timedelta(minutes=10),
                           expires_at=timezone.now() - timedelta(seconds=1))

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.SUCCEEDED
    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.ABORTED and "gestopt" in dead.message
    assert dead.finished_at is not None


@pytest.mark.django_db
def test_a_living_lock_makes_the_next_run_overgeslagen(configure, run_sync):
    # given
    df = configure()
    held = locks.acquire(sync.LOCK_NAME)

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.SKIPPED and "loopt al" in run.message
    assert run.pk is not None
    held.release()


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_give_one_run_and_one_skipped(configure, df_sandbox):
    """Two threads, each with its own database connection, start a run at the same moment."""
    # given
    df = configure()
    df_sandbox.seed(30)
    df_sandbox.set_faults(latency_ms=150)  # keep the first run busy while the second starts
    start = threading.Barrier(2)
    outcomes = []

    def worker():
        try:
            start.wait()
            outcomes.append(sync.run(df.pk, "gepland").status)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]

    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    # then
    assert sorted(outcomes) == ["geslaagd", "overgeslagen"]
    assert SyncRun.objects.filter(status="overgeslagen").count() == 1
