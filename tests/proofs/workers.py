"""Real django-q2 workers for the proofs: `manage.py qcluster` in its own process group.

Like `tests/worker_fixture.py`, but each worker is the leader of a new session, so that the
crash proof can SIGKILL the cluster and every process it forked (a qcluster is a sentinel, a
monitor, a pusher and its workers: killing only the sentinel would leave a worker running the
sync on its own), and its stdout/stderr go to a file the secrets proof reads.

    def test_x(transactional_db, sandbox, start_worker):
        worker = start_worker(sandbox.base_url, SYNC_LOCK_TTL="3")
        ...
        worker.kill()            # SIGKILL to the whole group
        worker.output()          # what it printed (LOG_LEVEL=DEBUG unless given)

Every worker still alive at the end of the test is stopped by its own process group id.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.worker_fixture import test_database_url

ROOT = Path(__file__).resolve().parents[2]


class Worker:
    def __init__(self, process: subprocess.Popen, log_path: Path):
        self.process = process
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the worker's process group: no handler, no cleanup, like a power cut."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if not self.alive():
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def worker_environment(base_url: str, **environment: str) -> dict[str, str]:
    return {**os.environ,
            "DATABASE_URL": test_database_url(),
            "DIGITALEFACTUUR_BASE_URL": base_url, "Q_WORKERS": "1",
            "LOG_LEVEL": "DEBUG", "PYTHONUNBUFFERED": "1", **environment}


@pytest.fixture
def start_worker():
    """start_worker(base_url, **environment) -> a `Worker` (stopped at teardown)."""
    workers: list[Worker] = []
    folder = Path(tempfile.mkdtemp(prefix="proof-workers-"))

    def _start(base_url: str, **environment: str) -> Worker:
        log_path = folder / f"worker-{len(workers)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"], cwd=ROOT,
                env=worker_environment(base_url, **environment),
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        worker = Worker(process, log_path)
        workers.append(worker)
        return worker

    yield _start
    for worker in workers:
        worker.stop()
