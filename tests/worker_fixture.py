"""A real django-q2 worker for tests: `manage.py qcluster` in a child process.

The worker shares the test's database: the SQLite file (settings keep the test database on disk
for exactly this) or the PostgreSQL test database (`make test-services`), and is pointed at the
test's sandbox. Use with `transactional_db` (or
`live_server`), so that what the test writes is committed where the worker can read it:

    def test_something(transactional_db, sandbox, start_worker):
        start_worker(sandbox.base_url, DIGITALEFACTUUR_MAX_ATTEMPTS="1")

Every worker started is terminated (then killed if it hangs) when the test ends, by its own
process id.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    """The database this test runs on, as a `DATABASE_URL` for a child process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    if connection.vendor != "postgresql":
        raise NotImplementedError(f"no worker URL for {connection.vendor}")
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test, whatever its name


@pytest.fixture
def start_worker():
    """start_worker(base_url, **environment) -> the qcluster process (stopped at teardown)."""
    processes: list[subprocess.Popen] = []

    def _start(base_url: str, **environment: str) -> subprocess.Popen:
        env = {**os.environ,
               "DATABASE_URL": test_database_url(),
               "DIGITALEFACTUUR_BASE_URL": base_url, "Q_WORKERS": "1",
               "LOG_LEVEL": "WARNING", **environment}
        process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT,
                                   env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        processes.append(process)
        return process

    yield _start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
