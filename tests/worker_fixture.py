"""A real django-q2 worker for tests: `manage.py qcluster` in a child process.

The worker shares the test's SQLite database file (settings keep the test database on disk for
exactly this) and is pointed at the test's sandbox. Use with `transactional_db` (or
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

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def start_worker():
    """start_worker(base_url, **environment) -> the qcluster process (stopped at teardown)."""
    processes: list[subprocess.Popen] = []

    def _start(base_url: str, **environment: str) -> subprocess.Popen:
        env = {**os.environ,
               "DATABASE_URL": f"sqlite:///{connection.settings_dict['NAME']}",
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
