"""The `services` tests: the engine on PostgreSQL and django-q2's Redis broker, with real workers.

They run when `DATABASE_URL` points at PostgreSQL and `REDIS_URL` is set (`make test-services`
sets both for this machine's services). Otherwise they are skipped with the reason, except when
the environment variable CI is set: there a missing service is a failure, so that CI can never
pass by skipping them (the same rule as the browser tests, tests/conftest.py).

Isolation from anything else on the same PostgreSQL and Redis: pytest-django creates its own test
database (one per test process, see settings), and the workers of one test session use a cluster
name of their own (`Q_NAME`, the Redis key prefix of django-q2's queue), whose keys are
deleted before and after the session. Nothing else in the Redis database is touched, so a second
test run, or a developer's worker, on the same Redis is left alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

from integration.digitalefactuur.models import DigitaleFactuurSettings
from tests.deployment.procfile import procfile_command
from tests.factories import TestedConnectorFactory
from tests.sandbox_fixture import sandbox, sandbox_server  # noqa: F401
from tests.worker_fixture import test_database_url

ROOT = Path(__file__).resolve().parents[2]
HERE = "tests/services/"


def missing_services() -> str:
    """Why the services tests cannot run here ("" when they can)."""
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        return ("DATABASE_URL wijst niet naar PostgreSQL (make test-services zet het); "
                "in CI is dit een fout")
    if not settings.REDIS_URL:
        return "REDIS_URL is niet gezet (make test-services zet het); in CI is dit een fout"
    return ""


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in item.nodeid.replace(os.sep, "/"):
            item.add_marker(pytest.mark.services)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before any fixture (the database above all): skip, or in CI fail, without the services."""
    if HERE not in item.nodeid.replace(os.sep, "/"):
        return
    reason = missing_services()
    if not reason:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but the services tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def cluster_name():
    """This session's django-q2 cluster name: its own queue in Redis, emptied before and after."""
    import redis
    from django_q.conf import Conf

    name = f"digitalefactuur-test-{os.getpid()}"
    original = Conf.PREFIX
    # What async_task in this process enqueues to and signs with (Conf is read once, at import).
    Conf.PREFIX = Conf.CLUSTER_NAME = name
    Conf.Q_STAT = f"django_q:{name}:cluster"
    client = redis.from_url(settings.REDIS_URL)

    def clean():
        keys = list(client.scan_iter(match=f"django_q:{name}:*"))
        if keys:
            client.delete(*keys)

    clean()
    yield name
    clean()
    Conf.PREFIX = Conf.CLUSTER_NAME = original
    Conf.Q_STAT = f"django_q:{original}:cluster"


class Cluster:
    """One `manage.py qcluster`, in a process group of its own (so it can die as a machine would).
    """

    def __init__(self, process: subprocess.Popen):
        self.process = process

    @property
    def pid(self) -> int:
        return self.process.pid

    def worker_pids(self) -> set[int]:
        import psutil

        try:
            return {child.pid for child in psutil.Process(self.pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            return set()

    def kill(self) -> None:
        """SIGKILL the whole cluster (sentinel, pusher, workers, monitor): no clean-up at all."""
        os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait()
        # a worker still finishing a task must not outlive its cluster
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)


@pytest.fixture
def start_cluster(transactional_db, cluster_name, sandbox):  # noqa: F811
    """start_cluster(**environment) -> a running qcluster on the test database and this session's
    Redis queue, pointed at the sandbox; stopped (its whole process group) when the test ends."""
    clusters: list[Cluster] = []

    def _start(**environment: str) -> Cluster:
        env = {**os.environ, "DATABASE_URL": test_database_url(), "REDIS_URL": settings.REDIS_URL,
               "Q_NAME": cluster_name, "DIGITALEFACTUUR_BASE_URL": sandbox.base_url,
               "DIGITALEFACTUUR_MAX_ATTEMPTS": "2", "DIGITALEFACTUUR_RETRY_BUDGET": "3",
               "Q_WORKERS": "1", "LOG_LEVEL": "WARNING", "CONN_MAX_AGE": "0",
               **environment}
        # the worker exactly as production starts it
        command = procfile_command("worker", env)
        process = subprocess.Popen(["sh", "-c", f"exec {command}"], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        cluster = Cluster(process)
        clusters.append(cluster)
        assert wait_until(lambda: _is_up(process.pid), timeout=30), \
            "qcluster did not start within 30 s"
        return cluster

    yield _start
    for cluster in clusters:
        cluster.stop()


def _is_up(pid: int) -> bool:
    """The cluster started as `pid` reports itself in Redis (django-q2's Stat) with its workers."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.status import Stat

    return any(stat.pid == pid and stat.workers and str(stat.status) != str(Conf.STARTING)
               for stat in Stat.get_all(get_broker()))


@pytest.fixture
def configure(sandbox, settings):  # noqa: F811
    """configure(debtors=..., creditors=..., push=...) -> the settings row, active and tested."""
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url

    def _configure(*, debtors="organisation", creditors="organisation",
                   push=False) -> DigitaleFactuurSettings:
        return TestedConnectorFactory(sandbox=sandbox, debtors=debtors, creditors=creditors,
                                      push_enabled=push)

    return _configure


def wait_until(condition, timeout: float = 30.0, pause: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(pause)
    return False
