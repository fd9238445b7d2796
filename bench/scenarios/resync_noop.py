"""Scenario 2: a resync of the same N klanten when nothing changed on either side.

Starts from the imported state (`Runner.imported_db`). Baseline: `bare.get_pages`, the page
GETs alone (not even parsed: the issue's floor is the API's cost). Ours: `sync.run` with
Debiteuren and Crediteuren on (scenario 1's options); then once more with Bijwerken on too, so
that the export phase must find nothing to do as well.
Targets: 0 POSTs (sandbox counters), 0 row writes (every INSERT/UPDATE/DELETE outside the run's
own record and lock, which `connectors/models.py` allows a no-op run), <= 1.1x the baseline.
"""

from __future__ import annotations

from bench.probes import (
    QueryLog,
    api_prefix,
    configure_connector,
    control,
    mark_pages,
    prepare_sandbox,
    profiled,
    stopwatch,
)
from bench.report import Row, ScenarioResult, run_row

MAX_RATIO = 1.1


# --- worker task --------------------------------------------------------------------------------

def _resync(df, name: str) -> dict:
    from integration.connectors.models import SyncRun
    from integration.digitalefactuur import sync

    control().reset_counters()
    log = QueryLog()
    with log.capture(), mark_pages(log), profiled(name), stopwatch() as elapsed:
        run = sync.run(df.pk, SyncRun.Trigger.CLI)
    return {"seconds": elapsed(), "status": run.status, "message": run.message,
            "counts": run.counts, "requests": control().counters(),
            "writes_by_table": log.writes_by_table(), "data_writes": log.data_writes(),
            "log_writes": log.log_writes(), "write_statements": log.write_statements(),
            "queries": log.total(), "pages": log.page_summary()}


def measure(n: int, latency_ms: float = 0.0, both_directions: bool = True,
            concurrency: int = 1) -> dict:
    from bench import bare

    sandbox = prepare_sandbox(n, latency_ms)
    df = configure_connector(import_enabled=True, push=False)
    prefix = api_prefix()
    with stopwatch() as elapsed:
        pages = bare.get_pages(prefix)
    baseline = {"seconds": elapsed(), "pages": pages, "requests": sandbox.counters()}
    if concurrency > 1:
        with stopwatch() as elapsed:
            bare.get_pages_concurrently(prefix, pages, concurrency)
        baseline["concurrent"] = {"seconds": elapsed(), "concurrency": concurrency}
    measured = {"baseline": baseline,
                "ours": _resync(df, f"resync-{n}-latency-{latency_ms:g}")}
    if both_directions:
        # The same resync with Bijwerken on as well: the export phase must find nothing too.
        df = configure_connector(import_enabled=True, push=True)
        measured["ours_both"] = _resync(df, f"resync-both-{n}-latency-{latency_ms:g}")
    return measured


# --- parent -------------------------------------------------------------------------------------

def measure_median(runner, n: int, latency_ms: float = 0.0, concurrency: int = 1,
                   both_directions: bool = True) -> dict:
    runs = [runner.job("resync_noop.measure", runner.imported_db(n), n=n,
                       latency_ms=latency_ms, concurrency=concurrency,
                       both_directions=both_directions)
            for _ in range(runner.options.repeats)]
    pick = sorted(runs, key=lambda r: r["ours"]["seconds"])[len(runs) // 2]
    baseline = sorted(r["baseline"]["seconds"] for r in runs)[len(runs) // 2]
    return {**pick, "baseline": {**pick["baseline"], "seconds": baseline}}


def rows(measured: dict, label: str = "") -> list[Row]:
    ours, baseline = measured["ours"], measured["baseline"]
    bookkeeping = {t: c for t, c in ours["writes_by_table"].items()
                   if t in ("connectors_syncrun", "connectors_runlock")}
    both = measured.get("ours_both")
    extra = []
    if both:
        extra = [
            run_row(f"{label}resync time, Bijwerken on too", both, baseline["seconds"],
                    max_ratio=MAX_RATIO),
            Row(f"{label}POSTs, Bijwerken on too", both["requests"]["POST"], "", max_value=0),
            Row(f"{label}row writes (relations, links), Bijwerken on too",
                both["data_writes"], "", max_value=0,
                note=f"writes by table: {both['writes_by_table']}"),
        ]
    return [
        run_row(f"{label}resync time", ours, baseline["seconds"], max_ratio=MAX_RATIO),
        Row(f"{label}POSTs", ours["requests"]["POST"], "", baseline["requests"]["POST"],
            max_value=0),
        Row(f"{label}row writes (relations, links)", ours["data_writes"], "", 0, max_value=0,
            note=f"run record and lock writes, not counted: {bookkeeping}"),
        Row(f"{label}log event inserts", ours["log_writes"], "",
            note="events of records skipped with a reason (the generator's klant 9001 is "
                 "neither debtor nor creditor): logged again by every run, by design"),
        Row(f"{label}statements per page (median)", ours["pages"].get("statements_median"),
            ""),
        *extra,
    ]


def run(runner, options) -> ScenarioResult:
    result = ScenarioResult(2, f"No-op resync of the same {options.n:,} klanten")
    measured = measure_median(runner, options.n)
    result.rows = rows(measured)
    result.details = measured
    ours = measured["ours"]
    result.notes.append(f"status {ours['status']}, counts {ours['counts']}; GETs ours "
                        f"{ours['requests']['GET']}, baseline "
                        f"{measured['baseline']['requests']['GET']}; writes by table "
                        f"{ours['writes_by_table']}")
    return result
