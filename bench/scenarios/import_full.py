"""Scenario 1: a full import of N klanten into an empty CRM.

Ours: `sync.run` with Debiteuren and Crediteuren on, Bijwerken off, timed from call to return
(lock, run record and log included). Baseline: `bare.import_pages`, the same pages read with
one session and inserted with one bulk_create of relations and one of links per page.
Target: <= 1.25x. Queries per page (target <= 5, flat in N) are counted per page of the
import, the statements as executed on SQLite, and as calls (consecutive INSERTs into one table
counted once, as PostgreSQL would send a bulk insert; since `integration.db.sqlite3` lifts
Django's 999-parameter assumption, SQLite no longer splits a page's inserts either).
"""

from __future__ import annotations

from contextlib import nullcontext

from bench.probes import (
    QueryLog,
    RssSampler,
    api_prefix,
    configure_connector,
    control,
    load_engine,
    mark_pages,
    prepare_sandbox,
    profiled,
    stopwatch,
)
from bench.report import Row, ScenarioResult, run_row

MAX_RATIO = 1.25
MAX_QUERIES_PER_PAGE = 5


# --- worker tasks -------------------------------------------------------------------------------

def _run_ours(profile_name: str = "") -> dict:
    from integration.connectors.models import SyncRun
    from integration.digitalefactuur import sync

    df = configure_connector(import_enabled=True, push=False)
    with profiled(profile_name) if profile_name else nullcontext(), stopwatch() as elapsed:
        run = sync.run(df.pk, SyncRun.Trigger.CLI)
    return {"seconds": elapsed(), "status": run.status, "message": run.message,
            "counts": run.counts}


def prepare(n: int) -> dict:
    """The imported state other scenarios start from (untimed)."""
    prepare_sandbox(n)
    result = _run_ours()
    if result["status"] != "geslaagd":
        raise RuntimeError(f"the import to start from did not succeed: {result}")
    return result


def ours(n: int, latency_ms: float = 0.0) -> dict:
    from integration.crm.models import Relation

    load_engine()
    prepare_sandbox(n, latency_ms)
    log = QueryLog()
    with log.capture(), mark_pages(log), RssSampler() as rss:
        result = _run_ours(f"import-{n}-latency-{latency_ms:g}")
    return {**result, "relations": Relation.objects.count(), "queries": log.total(),
            "rss_growth_mb": rss.growth_mb, "rss_before_mb": rss.before / 2**20,
            "pages": log.page_summary(), "requests": control().counters()}


def baseline(n: int, latency_ms: float = 0.0) -> dict:
    from bench import bare
    from integration.crm.models import Relation

    load_engine()
    prepare_sandbox(n, latency_ms)
    prefix = api_prefix()
    log = QueryLog()
    with log.capture(), RssSampler() as rss, stopwatch() as elapsed:
        done = bare.import_pages(prefix)
    # The last page read is the empty one that ends the list; the two relation-type reads
    # before the first page are not a page's.
    filled = max(1, done["pages"] - 1)
    return {"seconds": elapsed(), **done, "relations": Relation.objects.count(),
            "statements_per_page": (log.total() - 2) / filled,
            "rss_growth_mb": rss.growth_mb, "rss_before_mb": rss.before / 2**20,
            "requests": control().counters()}


# --- parent -------------------------------------------------------------------------------------

def measure(runner, n: int, latency_ms: float = 0.0) -> tuple[dict, dict]:
    """(ours, baseline) medians over `--repeats`, each on a fresh database."""
    ours_runs, baseline_runs = [], []
    for _ in range(runner.options.repeats):
        baseline_runs.append(runner.job("import_full.baseline", runner.fresh_db("import-bare"),
                                        n=n, latency_ms=latency_ms))
        database = runner.fresh_db("import-ours")
        ours_runs.append(runner.job("import_full.ours", database, n=n, latency_ms=latency_ms))
        if not latency_ms:
            runner.offer_imported(n, database)
    measured = median_run(ours_runs), median_run(baseline_runs)
    if not latency_ms:
        # Scenario 5 reads the peak memory of these imports when it runs at the same N.
        runner.memo[("import", n)] = measured
    return measured


def median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def rows(ours_result: dict, baseline_result: dict, label: str = "") -> list[Row]:
    pages = ours_result["pages"]
    note = ""
    if ours_result["relations"] != baseline_result["relations"]:
        note = (f"rows differ: ours {ours_result['relations']} relations, baseline "
                f"{baseline_result['relations']}")
    checked = [
        run_row(f"{label}import time", ours_result, baseline_result["seconds"],
                max_ratio=MAX_RATIO),
        Row(f"{label}statements per page (median)", pages.get("statements_median"), "",
            baseline_result.get("statements_per_page"), max_value=MAX_QUERIES_PER_PAGE),
        Row(f"{label}statements per page (max)", pages.get("statements_max"), "",
            max_value=MAX_QUERIES_PER_PAGE),
        Row(f"{label}calls per page (bulk batches as one)", pages.get("calls_max"), "",
            max_value=MAX_QUERIES_PER_PAGE),
        Row(f"{label}statements per page, first vs last tenth", pages.get(
            "statements_last_pages_mean"), "", pages.get("statements_first_pages_mean"),
            max_ratio=1.1, note="flat in N: the last pages cost what the first cost"),
    ]
    if note:
        checked[0].note = "; ".join(filter(None, [checked[0].note, note]))
    return checked


def run(runner, options) -> ScenarioResult:
    result = ScenarioResult(1, f"Full import of {options.n:,} klanten into an empty CRM")
    ours_result, baseline_result = measure(runner, options.n)
    result.rows = rows(ours_result, baseline_result)
    result.details = {"ours": ours_result, "baseline": baseline_result}
    result.notes.append(
        f"status {ours_result['status']}, counts {ours_result['counts']}; "
        f"GETs ours {ours_result['requests']['GET']}, baseline "
        f"{baseline_result['requests']['GET']}; middle page: "
        f"{ours_result['pages'].get('middle_page_breakdown')}")
    return result
