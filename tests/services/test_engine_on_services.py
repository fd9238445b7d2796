"""The engine's core scenarios on PostgreSQL and Redis, carried out by real `qcluster` processes:
import, a resync that changes nothing, export, the change push, one run at a time with two
clusters, a cluster killed mid-run whose work the next run finishes, and no secret in the queue.

Every run here is queued as in production (django-q2's Redis broker) and executed by a worker
process on the shared PostgreSQL test database; the test process only queues and looks.
"""

from __future__ import annotations

import itertools
import time

import pytest
from django.conf import settings
from django_q.models import OrmQ, Schedule, Task
from django_q.signing import SignedPackage
from django_q.tasks import async_task

from integration.connectors import locks
from integration.connectors.models import RunLock, SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur import runs, sync
from integration.digitalefactuur.links import PendingPush
from tests.factories import OrganisationFactory, PersonFactory
from tests.services.conftest import wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

WRITES = ("klant_aanmaken", "klant_updaten", "klant_verwijderen")
REPORTING_TASK = "tests.services.tasks.scheduled_sync_in"


def run_by_worker(df, timeout: float = 60.0) -> SyncRun:
    """"Koppeling uitvoeren": queue a run and wait until a worker has finished it."""
    run, created = runs.request_run(df.pk)
    assert created
    assert wait_until(lambda: not SyncRun.objects.get(pk=run.pk).is_open, timeout), \
        f"run {run.pk} not finished within {timeout} s: {SyncRun.objects.get(pk=run.pk).status}"
    return SyncRun.objects.get(pk=run.pk)


def writes(counters: dict) -> int:
    return sum(counters.get(action, 0) for action in WRITES)


def test_the_workers_use_postgresql_and_redis():
    # then: what the services run is meant to prove is what it runs on
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.Q_CLUSTER["redis"] == settings.REDIS_URL and "orm" not in settings.Q_CLUSTER


def test_import_then_a_resync_that_changes_nothing(configure, sandbox, start_cluster):
    # given
    df = configure()
    sandbox.seed(30)  # a few of them odd: skipped with a reason, never an error
    start_cluster()

    # when
    first = run_by_worker(df)
    sandbox.reset_counters()
    second = run_by_worker(df)

    # then
    assert first.status == "geslaagd", first.message
    created = first.counts["import"]["aangemaakt"]
    assert created >= 25 and set(first.counts["import"]) <= {"aangemaakt", "overgeslagen"}
    assert Relation.objects.count() == created
    assert second.status == "geslaagd", second.message
    assert second.counts["import"]["ongewijzigd"] == created
    assert set(second.counts["import"]) <= {"ongewijzigd", "overgeslagen"}
    assert writes(sandbox.counters()) == 0 and Relation.objects.count() == created


def test_export(configure, sandbox, start_cluster):
    # given
    OrganisationFactory(debtor_number="1001", organisation_name="Bakkerij Één & Zn")
    PersonFactory(creditor_number="2001", surname="Ruiter")
    df = configure(debtors=False, creditors=False, push=True)
    start_cluster()

    # when
    run = run_by_worker(df)

    # then
    assert run.status == "geslaagd", run.message
    assert run.counts["export"] == {"aangemaakt": 2}
    names = sorted(klant["naam"] for klant in sandbox.klanten())
    assert len(names) == 2 and "Bakkerij Één & Zn" in names


def test_a_change_in_the_crm_is_pushed_by_the_worker(configure, sandbox, start_cluster):
    # given
    relation = OrganisationFactory(debtor_number="1001", organisation_name="Eerst")
    df = configure(debtors=False, creditors=False, push=True)
    start_cluster(SYNC_PUSH_DEBOUNCE="0.5")
    assert run_by_worker(df).status == "geslaagd"
    sandbox.reset_counters()

    # when: a burst of saves, as an administrator typing
    for n in range(5):
        relation.organisation_name = f"Gewijzigd {n}"
        relation.save()

    # then: the last state arrives, in one update
    assert wait_until(lambda: sandbox.klanten()[0]["naam"] == "Gewijzigd 4")
    assert wait_until(lambda: not PendingPush.objects.exists())
    time.sleep(1.0)  # anything still on its way would arrive now
    counters = sandbox.counters()
    assert counters.get("klant_updaten") == 1 and counters.get("klant_aanmaken", 0) == 0
    push = SyncRun.objects.get(trigger="wijziging")
    assert push.status == "geslaagd"


def test_two_clusters_never_run_two_syncs_at_once(configure, sandbox, start_cluster):
    """Two qcluster processes (two machines) on one queue: runs that meet are one run and the
    others "overgeslagen"; the runs that did run never overlap."""
    # given: two clusters with one worker each, and a slow DigitaleFactuur
    df = configure()
    sandbox.seed(30)
    first_cluster, second_cluster = start_cluster(), start_cluster()
    sandbox.set_faults(latency_ms=1500)

    # when: a run starts, and three more are queued while it is busy
    queued = [async_task(REPORTING_TASK, df.pk, group="services-test")]
    assert wait_until(lambda: SyncRun.objects.filter(status="bezig").exists())
    queued += [async_task(REPORTING_TASK, df.pk, group="services-test") for _ in range(3)]
    assert wait_until(lambda: Task.objects.filter(id__in=queued).count() == 4, timeout=90)

    # then: both clusters worked, one run at a time
    tasks = Task.objects.filter(id__in=queued)
    assert all(task.success for task in tasks), [task.result for task in tasks]
    pids = {task.result[0] for task in tasks}
    assert pids & first_cluster.worker_pids() and pids & second_cluster.worker_pids(), \
        "each cluster ran at least one of the tasks"
    runs = list(SyncRun.objects.filter(pk__in=[task.result[1] for task in tasks]))
    statuses = sorted(run.status for run in runs)
    assert "geslaagd" in statuses and "overgeslagen" in statuses, statuses
    assert set(statuses) <= {"geslaagd", "overgeslagen"}, statuses
    ran = sorted((run for run in runs if run.status == "geslaagd"), key=lambda r: r.started_at)
    for before, after in itertools.pairwise(ran):
        assert before.finished_at <= after.started_at, "two runs overlapped"
    created = sum(run.counts.get("import", {}).get("aangemaakt", 0) for run in ran)
    assert created >= 25 and Relation.objects.count() == created
    assert not locks.is_held(sync.LOCK_NAME)


def test_a_killed_cluster_s_lock_expires_and_the_next_run_finishes_its_work(
        configure, sandbox, start_cluster):
    """A machine dies mid-run (SIGKILL of its whole qcluster): its lock outlives it only until
    SYNC_LOCK_TTL; the next run takes over, imports the rest and marks the dead run afgebroken."""
    # given: 250 klanten (three pages), each page slow, and a short lock TTL
    df = configure()
    sandbox.seed(250)
    sandbox.set_faults(latency_ms=1000)
    # Long enough that the early run below surely starts before the dead holder's lock expires,
    # even on a loaded machine where starting the second cluster takes seconds.
    ttl = "12"
    doomed = start_cluster(SYNC_LOCK_TTL=ttl)
    run, _ = runs.request_run(df.pk)
    assert wait_until(lambda: SyncRun.objects.get(pk=run.pk).processed >= 100, timeout=60)

    # when: its machine dies after the first page, and another machine takes over
    doomed.kill()
    survivor = start_cluster(SYNC_LOCK_TTL=ttl)
    assert survivor.worker_pids()
    sandbox.set_faults(latency_ms=0)
    # a run arriving while the dead holder's lock is still valid is refused: the lock is in the
    # database, not in the dead process
    early = async_task(REPORTING_TASK, df.pk)
    assert wait_until(lambda: Task.objects.filter(id=early).exists())
    early_run = SyncRun.objects.get(pk=Task.objects.get(id=early).result[1])
    assert wait_until(lambda: not locks.is_held(sync.LOCK_NAME), timeout=int(ttl) + 5)
    late = async_task(REPORTING_TASK, df.pk)
    assert wait_until(lambda: Task.objects.filter(id=late).exists(), timeout=60)
    late_run = SyncRun.objects.get(pk=Task.objects.get(id=late).result[1])

    # then
    assert early_run.status == "overgeslagen", early_run.message
    dead = SyncRun.objects.get(pk=run.pk)
    assert dead.status == "afgebroken" and "gestopt" in dead.message and dead.finished_at
    assert late_run.status == "geslaagd", late_run.message
    imported = late_run.counts["import"]
    assert imported.get("ongewijzigd", 0) >= 90, "the dead run's first page is kept"
    assert imported.get("aangemaakt", 0) >= 90, "and the rest is imported now"
    assert Relation.objects.count() == imported["ongewijzigd"] + imported["aangemaakt"]
    assert RunLock.objects.get(name=sync.LOCK_NAME).holder == ""


def test_no_task_or_schedule_holds_the_access_code(configure, sandbox, start_cluster,
                                                   cluster_name):
    """django-q2 pickles task arguments into Redis and shows them in its admin: after a schedule,
    a manual run and a change push, the access code is nowhere in the queue or the task tables.
    """
    import redis

    # given: a push and a manual run queued while no worker runs, so they wait in Redis
    relation = OrganisationFactory(debtor_number="1001")
    df = configure(push=True)
    relation.organisation_name = "Gewijzigd"
    relation.save()
    runs.request_run(df.pk)
    queue = redis.from_url(settings.REDIS_URL).lrange(f"django_q:{cluster_name}:q", 0, -1)
    assert len(queue) == 2
    in_redis = [repr(SignedPackage.loads(raw)) for raw in queue] + [repr(queue)]

    # when the worker has run them
    start_cluster()
    assert wait_until(lambda: Task.objects.count() == 2 and not SyncRun.objects.filter(
        status__in=SyncRun.OPEN_STATUSES).exists())

    # then
    code = sandbox.access_code
    assert Schedule.objects.filter(name="digitalefactuur-sync").exists()
    rows = [*in_redis,
            *(repr((t.name, t.func, t.args, t.kwargs, t.result)) for t in Task.objects.all()),
            *(repr((s.name, s.func, s.args, s.kwargs, s.hook)) for s in Schedule.objects.all()),
            *(repr(o.task()) for o in OrmQ.objects.all())]
    assert rows and not [row for row in rows if code in row]
    assert all(task.args and set(map(type, task.args)) == {int} for task in Task.objects.all())
