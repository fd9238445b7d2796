"""Scenario 7: scenarios 1-3 again with the sandbox's latency set (20 ms per request by default).

A realistic internet round trip makes the floor the network's: the ratios of scenarios 1-3 must
hold. The export sends `--latency-export-n` changed relations (default 500 of the N: at 20 ms
a POST, all N would take minutes per variant; the other relations are still scanned by ours).

Bounded concurrency (`--concurrency`, default 4): the bare side sends the same page GETs and the
same POSTs over that many sessions at once, against the sandbox (which serves each request on a
thread of its own); our export runs once more with DIGITALEFACTUUR_CONCURRENCY at that
value (capped at the setting's 8), in a worker whose environment sets it, as an administrator
would. The report gives ours over the workers against the bare concurrent loop (the same ratio
target as the sequential export) and how far below the sequential floor, the bare sequential
POSTs, it brings the wall time. The import still reads its pages one at a time: the setting is
the export's.
"""

from __future__ import annotations

from bench.probes import configure_connector, prepare_sandbox, stopwatch
from bench.report import Row, ScenarioResult
from bench.scenarios import export_changed, import_full, resync_noop

#: DIGITALEFACTUUR_CONCURRENCY's ceiling (settings.py refuses more).
MAX_EXPORT_CONCURRENCY = 8


def _concurrency_row(metric: str, sequential: float, concurrent: dict | None,
                     note: str) -> list[Row]:
    if not concurrent:
        return []
    saved = 1 - concurrent["seconds"] / sequential
    return [Row(f"{metric}, bare over {concurrent['concurrency']} sessions",
                concurrent["seconds"], "s", sequential,
                note=f"{saved:.0%} below the sequential floor (the baseline column); {note}")]


# --- worker task --------------------------------------------------------------------------------

def measure_concurrent_export(n: int, changed: int, latency_ms: float) -> dict:
    """Our export of the same `changed` relations as export_changed.measure, with the setting
    DIGITALEFACTUUR_CONCURRENCY this worker's environment gives."""
    from django.conf import settings

    from integration.connectors.models import SyncRun
    from integration.digitalefactuur import sync

    sandbox = prepare_sandbox(n, latency_ms)
    df = configure_connector(import_enabled=False, push=True)
    export_changed._change(changed)
    sandbox.reset_counters()
    with stopwatch() as elapsed:
        run = sync.run(df.pk, SyncRun.Trigger.CLI)
    return {"seconds": elapsed(), "status": run.status, "message": run.message,
            "counts": run.counts, "requests": sandbox.counters(),
            "concurrency": settings.DIGITALEFACTUUR_CONCURRENCY}


# --- parent -------------------------------------------------------------------------------------

def measure_concurrent_export_median(runner, n: int, changed: int, latency_ms: float,
                                     concurrency: int) -> dict:
    runs = [runner.job("latency.measure_concurrent_export", runner.imported_db(n),
                       env={"DIGITALEFACTUUR_CONCURRENCY": str(concurrency)}, n=n,
                       changed=changed, latency_ms=latency_ms)
            for _ in range(runner.options.repeats)]
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def concurrent_export_rows(ours: dict, export: dict, label: str) -> list[Row]:
    """Ours over the workers against the bare concurrent loop, and against the floor."""
    workers = ours["concurrency"]
    metric = f"{label}export time over {workers} workers"
    sequential_floor = export["baseline"]["seconds"]
    bare_concurrent = export.get("baseline_concurrent", {}).get("seconds")
    posts = Row(f"{label}POSTs over {workers} workers", ours["requests"]["POST"], "",
                export["baseline"]["requests"]["POST"], max_ratio=1.0, min_ratio=1.0)
    if ours["status"] != "geslaagd":
        note = f"not measured: the run ended {ours['status']!r}: {ours['message']}"
        return [Row(metric, None, "s", bare_concurrent, note=note), posts]
    saved = 1 - ours["seconds"] / sequential_floor
    return [
        Row(f"{metric} (DIGITALEFACTUUR_CONCURRENCY={workers})", ours["seconds"], "s",
            bare_concurrent, max_ratio=export_changed.MAX_RATIO,
            note=f"baseline: the bare POSTs over {workers} sessions"),
        Row(f"{metric} vs the sequential floor", ours["seconds"], "s", sequential_floor,
            note=f"{saved:.0%} below the sequential floor (the bare sequential POSTs, "
                 f"{sequential_floor:.1f} s); ours sequential took "
                 f"{export['ours']['seconds']:.1f} s"),
        posts,
    ]


def run(runner, options) -> ScenarioResult:
    latency = options.latency_ms
    result = ScenarioResult(7, f"Scenarios 1-3 with {latency:g} ms sandbox latency per request")
    label = f"{latency:g} ms: "

    ours_import, bare_import = import_full.measure(runner, options.n, latency)
    result.rows += import_full.rows(ours_import, bare_import, label)[:1]

    # Bijwerken's extra scan is CPU, not network: scenario 2 shows it; not repeated here.
    resync = resync_noop.measure_median(runner, options.n, latency, options.concurrency,
                                        both_directions=False)
    result.rows += [row for row in resync_noop.rows(resync, label) if row.unit == "s"]
    result.rows += _concurrency_row(f"{label}page GETs", resync["baseline"]["seconds"],
                                    resync["baseline"].get("concurrent"),
                                    "the import reads its pages one at a time")

    export = export_changed.measure_median(runner, options.n, options.latency_export_n,
                                           latency, options.concurrency)
    result.rows += export_changed.rows(export, label)[:2]
    result.rows += _concurrency_row(f"{label}POSTs", export["baseline"]["seconds"],
                                    export.get("baseline_concurrent"),
                                    "our export over as many workers is measured below")
    concurrent = None
    workers = min(options.concurrency, MAX_EXPORT_CONCURRENCY)
    if workers > 1:
        concurrent = measure_concurrent_export_median(runner, options.n,
                                                      options.latency_export_n, latency,
                                                      workers)
        result.rows += concurrent_export_rows(concurrent, export, label)

    result.details = {"import": {"ours": ours_import, "baseline": bare_import},
                      "resync": resync, "export": export, "export_concurrent": concurrent,
                      "latency_ms": latency}
    floor = (bare_import["requests"]["GET"] + export["baseline"]["requests"]["POST"]) * latency
    result.notes.append(
        f"pure latency in the floor: {bare_import['requests']['GET']} GETs + "
        f"{export['baseline']['requests']['POST']} POSTs x {latency:g} ms = {floor / 1000:.1f} s; "
        f"with c concurrent requests that part shrinks to about 1/c")
    return result
