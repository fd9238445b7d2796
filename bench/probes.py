"""Instruments used inside a worker process (Django is set up): queries, memory, set-up.

- `QueryLog` counts every SQL statement through `connection.execute_wrapper`, by verb and
  table, and by page of the import when `mark_pages` tells it where pages begin;
- `RssSampler` follows the process's resident memory in a thread, for peak growth;
- `prepare_sandbox` and `configure_connector` put the sandbox and the connector in the state a
  scenario starts from, the way the sync tests do (a successful test recorded, options set).
"""

from __future__ import annotations

import os
import re
import resource
import threading
import time
from collections import Counter
from contextlib import contextmanager

#: The generator's seed: the same seed and N give the same klanten with the same ids, so a
#: database imported once is valid again after the sandbox is reset and seeded anew.
SANDBOX_SEED = 8

_VERB = re.compile(r"^\s*(\w+)")
_TABLE = {
    "INSERT": re.compile(r'INSERT\s+INTO\s+"?(\w+)', re.I),
    "UPDATE": re.compile(r'UPDATE\s+"?(\w+)', re.I),
    "DELETE": re.compile(r'DELETE\s+FROM\s+"?(\w+)', re.I),
}
_FROM = re.compile(r'\bFROM\s+"?(\w+)', re.I)
WRITE_VERBS = ("INSERT", "UPDATE", "DELETE")
TRANSACTION_VERBS = ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK")
#: What a sync run writes about itself, and its log of records; anything else is a data write.
RUN_BOOKKEEPING_TABLES = {"connectors_syncrun", "connectors_runlock"}
LOG_TABLES = {"connectors_syncevent"}


def _outer_from(sql: str) -> str:
    """The table of a SELECT's own FROM, not of a subquery in its column list."""
    depth = 0
    for position, character in enumerate(sql):
        if character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        elif depth == 0 and character in "Ff":
            found = _FROM.match(sql, position)
            if found and (position == 0 or not sql[position - 1].isalnum()):
                return found.group(1)
    return ""


def classify(sql: str) -> tuple[str, str]:
    verb_match = _VERB.match(sql)
    verb = verb_match.group(1).upper() if verb_match else "?"
    if verb == "SELECT":
        return verb, _outer_from(sql)
    pattern = _TABLE.get(verb)
    found = pattern.search(sql) if pattern else None
    return verb, found.group(1) if found else ""


class QueryLog:
    """Every statement of the block: (page, verb, table). Page 0 is before the first page."""

    def __init__(self):
        self.statements: list[tuple[object, str, str]] = []
        #: Rows changed per table (a statement that matches nothing writes no row).
        self.rows_written: Counter = Counter()
        self.page: object = "before"

    def __call__(self, execute, sql, params, many, context):
        verb, table = classify(sql)
        self.statements.append((self.page, verb, table))
        result = execute(sql, params, many, context)
        if verb in WRITE_VERBS:
            rows = context["cursor"].rowcount
            if verb == "INSERT":
                # sqlite3's rowcount is not yet set for INSERT ... RETURNING: count VALUES rows.
                rows = len(params) if many else sql.count("), (") + 1
            self.rows_written[table] += max(0, rows)
        return result

    @contextmanager
    def capture(self):
        from django.db import connection

        with connection.execute_wrapper(self):
            yield self

    # --- what a scenario reports -------------------------------------------------------------

    def total(self) -> int:
        return len(self.statements)

    def writes_by_table(self) -> dict[str, int]:
        """Rows written per table (not statements)."""
        return dict(sorted((t, n) for t, n in self.rows_written.items() if n))

    def write_statements(self) -> dict[str, int]:
        counts = Counter(table for _page, verb, table in self.statements if verb in WRITE_VERBS)
        return dict(sorted(counts.items()))

    def data_writes(self) -> int:
        return sum(n for table, n in self.rows_written.items()
                   if table not in RUN_BOOKKEEPING_TABLES | LOG_TABLES)

    def log_writes(self) -> int:
        return sum(n for table, n in self.rows_written.items() if table in LOG_TABLES)

    def per_page(self) -> list[list[tuple[str, str]]]:
        pages: dict[int, list] = {}
        for page, verb, table in self.statements:
            if isinstance(page, int):
                pages.setdefault(page, []).append((verb, table))
        return [pages[k] for k in sorted(pages)]

    def page_summary(self) -> dict:
        """Statements per page, and the same with consecutive INSERTs into one table counted
        once (SQLite splits a bulk_create at 999 parameters; PostgreSQL sends one)."""
        pages = self.per_page()
        if not pages:
            return {"pages": 0}
        executed = [len(page) for page in pages]
        calls = [_collapse_batches(page) for page in pages]
        kinds = Counter()
        for verb, table in pages[len(pages) // 2]:
            kinds[f"{verb} {table}".strip()] += 1
        half = max(1, len(pages) // 10)
        return {
            "pages": len(pages),
            "statements_median": sorted(executed)[len(executed) // 2],
            "statements_max": max(executed),
            "statements_first_pages_mean": sum(executed[:half]) / half,
            "statements_last_pages_mean": sum(executed[-half:]) / half,
            "calls_median": sorted(calls)[len(calls) // 2],
            "calls_max": max(calls),
            "middle_page_breakdown": dict(kinds),
            "outside_pages": sum(1 for page, *_ in self.statements if not isinstance(page, int)),
        }


def _collapse_batches(page: list[tuple[str, str]]) -> int:
    count, previous = 0, None
    for statement in page:
        if not (statement[0] == "INSERT" and statement == previous):
            count += 1
        previous = statement
    return count


@contextmanager
def mark_pages(query_log: QueryLog):
    """Tell `query_log` where each page of the import begins, without touching the engine:
    the client's page iterator is wrapped for the block, and yields the very same pages."""
    from integration.digitalefactuur.client import DigitaleFactuurClient

    original = DigitaleFactuurClient.iter_pages

    def iter_pages(client, *args, **kwargs):
        for number, klanten in enumerate(original(client, *args, **kwargs), start=1):
            query_log.page = number
            yield klanten
        query_log.page = "after"

    DigitaleFactuurClient.iter_pages = iter_pages
    try:
        yield
    finally:
        DigitaleFactuurClient.iter_pages = original


class RssSampler:
    """Peak resident memory of this process while the block runs, as growth over its start.

    A thread samples every `interval` seconds; `ru_maxrss` (the kernel's own peak) catches a
    spike between samples when it rose during the block.
    """

    def __init__(self, interval: float = 0.01):
        import psutil

        self._process = psutil.Process()
        self.interval = interval
        self.before = self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> RssSampler:
        self._maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self.before = self.peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        if maxrss > self._maxrss_before:
            self.peak = max(self.peak, maxrss)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.before) / 2**20


# --- the sandbox and the connector ------------------------------------------------------------

def load_engine() -> None:
    """Import the engine's modules now, so that a memory sample taken next is the import's
    growth, not the code's."""
    import integration.digitalefactuur.client
    import integration.digitalefactuur.exporter
    import integration.digitalefactuur.importer
    import integration.digitalefactuur.sync  # noqa: F401


def control():
    from integration.dfsandbox.control import SandboxControl

    return SandboxControl(os.environ["BENCH_SANDBOX_ROOT"])


def prepare_sandbox(n: int, latency_ms: float = 0.0):
    """The sandbox with exactly the generator's N klanten, no faults but the latency asked."""
    sandbox = control()
    sandbox.reset()
    if n:
        sandbox.seed(n, seed=SANDBOX_SEED)
    if latency_ms:
        sandbox.set_faults(latency_ms=latency_ms)
    sandbox.reset_counters()
    return sandbox


def configure_connector(*, import_enabled: bool = True, push: bool = False):
    """The connector active and tested against the sandbox, with the directions asked."""
    from django.utils import timezone

    from integration.digitalefactuur.models import DigitaleFactuurSettings

    sandbox = control()
    df = DigitaleFactuurSettings.load()
    df.active = True
    df.account_id = sandbox.account_id
    df.set_access_code(sandbox.access_code)
    df.record_test(True, "Verbinding geslaagd (benchmark)", timezone.now())
    df.debtors_enabled = df.creditors_enabled = import_enabled
    df.push_enabled = push
    df.save()
    return df


def api_prefix() -> str:
    """The API URL up to the action, as the bare baselines use it (credentials in the path)."""
    from django.conf import settings

    sandbox = control()
    return f"{settings.DIGITALEFACTUUR_BASE_URL}/{sandbox.account_id}/{sandbox.access_code}/"


@contextmanager
def stopwatch():
    """`with stopwatch() as elapsed: ...` then `elapsed()` is the block's seconds."""
    started = time.perf_counter()
    finished: list[float] = []
    yield lambda: (finished[0] if finished else time.perf_counter()) - started
    finished.append(time.perf_counter())


@contextmanager
def profiled(name: str):
    """With BENCH_PROFILE set (`--profile DIR`), a pyinstrument profile of the block there."""
    directory = os.environ.get("BENCH_PROFILE", "")
    if not directory:
        yield
        return
    from pathlib import Path

    from pyinstrument import Profiler

    profiler = Profiler(interval=0.002)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{name}.txt").write_text(profiler.output_text(unicode=False, color=False))
        (target / f"{name}.html").write_text(profiler.output_html())
