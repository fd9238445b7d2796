"""Proof 2, crashes: a real worker killed with SIGKILL at random moments of a run, again and again
(3 times in `make test`, 20 in `make soak`); one more run then converges, nothing is doubled on
either side, every killed run is "afgebroken" in the log, and the lock came free by expiry."""

from __future__ import annotations

import random
import time

import pytest
from django.db import connection
from django.utils import timezone

from integration.connectors import locks
from integration.connectors.models import RunLock, SyncRun
from integration.digitalefactuur import runs, sync
from tests.proofs.conftest import (
    FAULT_SEED,
    KILLS,
    SOAK,
    crm_numbers,
    crm_relations,
    duplicates,
    importable,
    sandbox_numbers,
)

LOCK_TTL_SECONDS = 2
RECORDS = 2_000 if SOAK else 600


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"waited {seconds} s for {what}")


def run_status(run_id: int) -> str:
    return SyncRun.objects.filter(pk=run_id).values_list("status", flat=True).first()


def start_and_kill_one(df, sandbox, start_worker, rng: random.Random) -> tuple[int, str]:
    """A worker takes a queued run; it is killed a random moment after the run started.

    Returns the run's id and its status at the moment of the kill."""
    run, created = runs.request_run(df.pk)
    assert created, "the previous killed run was not found dead: " + str(run)
    worker = start_worker(sandbox.base_url, SYNC_LOCK_TTL=str(LOCK_TTL_SECONDS),
                          LOG_LEVEL="WARNING")
    wait_for(lambda: run_status(run.pk) != SyncRun.Status.QUEUED, 60, "the worker to start")
    time.sleep(rng.uniform(0.0, 2.5))
    status_at_kill = run_status(run.pk)
    worker.kill()
    return run.pk, status_at_kill


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_again_and_again_then_one_run_converges_without_duplicates(
        sandbox, connector, start_worker, settings):
    """SIGKILL leaves the run "bezig" and the lock held; expiry frees the lock, the next run
    marks the dead one "afgebroken" and finishes the work: links and lookups by number make
    the half-done creates of the dead runs harmless."""
    # given: work for several runs (every answer a little late), and a short lock expiry
    settings.SYNC_LOCK_TTL = LOCK_TTL_SECONDS
    rng = random.Random(FAULT_SEED)
    sandbox.seed(RECORDS // 2, seed=FAULT_SEED)
    crm_relations(RECORDS - RECORDS // 2)
    expected = importable(sandbox_numbers(sandbox)) | set(crm_numbers())
    df = connector(push=True)
    sandbox.set_faults(latency_ms=8)

    # when: killed KILLS times, each time waiting for the dead worker's lock to expire
    killed = []
    for _ in range(KILLS):
        run_id, status_at_kill = start_and_kill_one(df, sandbox, start_worker, rng)
        killed.append((run_id, status_at_kill))
        if status_at_kill == SyncRun.Status.RUNNING:
            held = RunLock.objects.get(name=sync.LOCK_NAME)
            assert held.holder, "a killed run cannot have released its lock"
            wait_for(lambda: not locks.is_held(sync.LOCK_NAME), LOCK_TTL_SECONDS * 5,
                     "the dead worker's lock to expire")
            # Freed by expiry, not by a release: the dead holder's token is still there.
            assert RunLock.objects.get(name=sync.LOCK_NAME).holder == held.holder
    sandbox.set_faults(latency_ms=0)
    final, created = runs.request_run(df.pk)
    worker = start_worker(sandbox.base_url, SYNC_LOCK_TTL=str(LOCK_TTL_SECONDS),
                          LOG_LEVEL="WARNING")
    wait_for(lambda: run_status(final.pk) not in SyncRun.OPEN_STATUSES, 120, "the last run")
    worker.stop()
    connection.close()

    # then
    final.refresh_from_db()
    assert created and final.status == SyncRun.Status.SUCCEEDED, (final.status, final.message)
    assert sum(1 for _, status in killed if status == SyncRun.Status.RUNNING) >= 1, killed
    for run_id, status_at_kill in killed:
        run = SyncRun.objects.get(pk=run_id)
        if status_at_kill == SyncRun.Status.RUNNING:
            assert run.status == SyncRun.Status.ABORTED, (run_id, run.status)
            assert run.message and run.finished_at is not None
    assert not SyncRun.objects.filter(status__in=SyncRun.OPEN_STATUSES).exists()
    in_crm, in_sandbox = crm_numbers(), sandbox_numbers(sandbox)
    assert duplicates(in_crm) == {} and duplicates(in_sandbox) == {}
    assert set(in_crm) == expected and importable(in_sandbox) == expected
    assert RunLock.objects.get(name=sync.LOCK_NAME).holder == ""
    assert final.started_at <= timezone.now()
