"""The parent process of a benchmark run: databases, the sandbox, and the worker processes.

- One template database is migrated once per run (`manage.py migrate` in a subprocess, on a
  temporary SQLite file); every measurement gets its own copy: a fresh database each time.
- The sandbox runs as a child process on a free loopback port for the whole run; each worker
  resets and seeds it for its own measurement (same seed, same N: the same klanten and ids).
- A measurement is a worker subprocess (`bench.worker`) with its own environment.
- A database in the state "N klanten imported" is needed by several scenarios; it is imported
  once and copied (`imported_db`), which is valid because the sandbox's ids are reproducible.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Only for the throw-away databases of a run; the encrypted access code in them uses it.
BENCH_SECRET_KEY = "bench-only-secret-key-not-used-anywhere-else-0123456789abcdef"


class BenchError(RuntimeError):
    """A worker failed; the message ends with the tail of its stderr."""


class Runner:
    def __init__(self, options, keep: bool = False):
        self.options = options
        self.keep = keep
        self._stack = ExitStack()
        self.workdir = Path(tempfile.mkdtemp(prefix="pv-bench-"))
        self.sandbox = None
        self._template: Path | None = None
        self._imported: dict[int, Path] = {}
        #: Results one scenario leaves for another (scenario 5 reuses scenario 1's imports).
        self.memo: dict = {}
        self._jobs = 0

    def __enter__(self) -> Runner:
        from integration.dfsandbox.control import start_sandbox_process

        self.sandbox = self._stack.enter_context(
            start_sandbox_process("--seed", "0", cwd=ROOT))
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.close()
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # --- environments and databases -------------------------------------------------------

    def env(self, database: Path, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "settings.settings",
            "DATABASE_URL": f"sqlite:///{database}",
            "SECRET_KEY": BENCH_SECRET_KEY,
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "DIGITALEFACTUUR_BASE_URL": self.sandbox.base_url,
            "BENCH_SANDBOX_ROOT": self.sandbox.root_url,
            # The ORM broker unless a scenario asks for Redis ("" wins over a .env file).
            "REDIS_URL": "",
            "PYTHONPATH": str(ROOT),
        }
        profile = getattr(self.options, "profile", None)
        if profile:
            env["BENCH_PROFILE"] = str(Path(profile).resolve())
        env.update(extra)
        return env

    def template(self) -> Path:
        if self._template is None:
            path = self.workdir / "template.sqlite3"
            subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
                           cwd=ROOT, env=self.env(path), check=True, timeout=300)
            self._template = path
        return self._template

    def fresh_db(self, name: str, source: Path | None = None) -> Path:
        self._jobs += 1
        path = self.workdir / f"{self._jobs:03d}-{name}.sqlite3"
        shutil.copyfile(source or self.template(), path)
        return path

    def imported_db(self, n: int) -> Path:
        """A copy of a database into which our import has brought the sandbox's N klanten."""
        if n not in self._imported:
            snapshot = self.fresh_db(f"imported-{n}")
            self.job("import_full.prepare", snapshot, n=n)
            self._imported[n] = snapshot
        return self.fresh_db(f"from-imported-{n}", self._imported[n])

    def offer_imported(self, n: int, database: Path) -> None:
        """A database left by an import at N with no latency is the imported state too."""
        self._imported.setdefault(n, database)

    # --- jobs ---------------------------------------------------------------------------------

    def job(self, task: str, database: Path, *, env: dict | None = None,
            timeout: float = 1800, **params) -> dict:
        stem = database.with_suffix("")
        job_path, result_path = Path(f"{stem}.job.json"), Path(f"{stem}.result.json")
        job_path.write_text(json.dumps({"task": task, "params": params}))
        started = time.monotonic()
        completed = subprocess.run(
            [sys.executable, "-m", "bench.worker", str(job_path), str(result_path)],
            cwd=ROOT, env=self.env(database, **(env or {})), capture_output=True, text=True,
            timeout=timeout)
        if completed.returncode != 0 or not result_path.exists():
            tail = "\n".join(completed.stderr.strip().splitlines()[-25:])
            raise BenchError(f"{task} failed (exit {completed.returncode}):\n{tail}")
        result = json.loads(result_path.read_text())
        result.setdefault("job_seconds", round(time.monotonic() - started, 2))
        return result


def redis_url() -> tuple[str, str]:
    """(url, "") when a Redis answers, else ("", the reason to print)."""
    explicit = os.environ.get("REDIS_URL", "")
    # Without REDIS_URL, a local Redis on the default port is used, in a database of its own
    # (14) so that the benchmark's queue never meets a `make run` on the same Redis.
    url = explicit or "redis://127.0.0.1:6379/14"
    try:
        import redis
    except ImportError:
        return "", "the redis package is not installed (uv sync --all-extras)"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except Exception as error:  # any failure to reach it means: no Redis here
        where = "REDIS_URL" if explicit else "127.0.0.1:6379"
        return "", f"no Redis at {where} ({type(error).__name__})"
    return url, ""
