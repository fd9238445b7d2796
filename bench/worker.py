"""One measurement in its own process: `python -m bench.worker JOB.json RESULT.json`.

The parent (`runner.py`) gives each worker its own database file through `DATABASE_URL` and
the sandbox through `DIGITALEFACTUUR_BASE_URL` and `BENCH_SANDBOX_ROOT`, so that no state
survives from one measurement to the next: not Django's caches, not a connection pool, not the
memory a previous import left behind. The job names a task `module.function` under
`bench.scenarios`; its keyword arguments are the job's `params`; its return value (a JSON-able
dict) is the result.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path


def _close_database() -> None:
    """Fold SQLite's write-ahead log into the file, so a copy of the file alone is complete."""
    from django.db import connections

    connection = connections["default"]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connections.close_all()


def main(argv: list[str]) -> int:
    job_path, result_path = (Path(arg) for arg in argv)
    job = json.loads(job_path.read_text())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.settings")
    import django

    django.setup()
    module_name, function_name = job["task"].rsplit(".", 1)
    task = getattr(importlib.import_module(f"bench.scenarios.{module_name}"), function_name)
    result = task(**job.get("params", {}))
    _close_database()
    result_path.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
