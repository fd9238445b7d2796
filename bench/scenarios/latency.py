"""Scenario 7: scenarios 1-3 again with the sandbox's latency set (20 ms per request by default).

A realistic internet round trip makes the floor the network's: the ratios of scenarios 1-3 must
hold. The export sends `--latency-export-n` changed relations (default 500 of the N: at 20 ms
a POST, all N would take minutes per variant; the other relations are still scanned by ours).

Bounded concurrency: the engine has no setting for it (sequential: one request at a time). What
it could give is measured on the bare side: the same page GETs and the same POSTs over
`--concurrency` sessions at once, against the sandbox (which serves each request on a thread of
its own). The report gives the sequential floor, the concurrent bare time, and the share of the
wall time that concurrency would take off.
"""

from __future__ import annotations

from bench.report import Row, ScenarioResult
from bench.scenarios import export_changed, import_full, resync_noop


def _concurrency_row(metric: str, sequential: float, concurrent: dict | None) -> list[Row]:
    if not concurrent:
        return []
    saved = 1 - concurrent["seconds"] / sequential
    return [Row(f"{metric}, bare over {concurrent['concurrency']} sessions",
                concurrent["seconds"], "s", sequential,
                note=f"{saved:.0%} below the sequential floor (the baseline column); the engine "
                     "has no concurrency setting to match it")]


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
                                    resync["baseline"].get("concurrent"))

    export = export_changed.measure_median(runner, options.n, options.latency_export_n,
                                           latency, options.concurrency)
    result.rows += export_changed.rows(export, label)[:2]
    result.rows += _concurrency_row(f"{label}POSTs", export["baseline"]["seconds"],
                                    export.get("baseline_concurrent"))

    result.details = {"import": {"ours": ours_import, "baseline": bare_import},
                      "resync": resync, "export": export, "latency_ms": latency}
    floor = (bare_import["requests"]["GET"] + export["baseline"]["requests"]["POST"]) * latency
    result.notes.append(
        f"pure latency in the floor: {bare_import['requests']['GET']} GETs + "
        f"{export['baseline']['requests']['POST']} POSTs x {latency:g} ms = {floor / 1000:.1f} s; "
        f"with c concurrent requests that part shrinks to about 1/c")
    return result
