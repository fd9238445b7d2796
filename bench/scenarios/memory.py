"""Scenario 5: peak resident memory growth of a full import (target <= 60 MB at 100,000).

Each variant imports the sandbox's klanten into an empty CRM in a process of its own, with no
query log (which would itself grow), under `RssSampler`: the growth is the peak RSS during the
import minus the RSS just before it, after Django, the models and the client are loaded and
the connector configured. At the default N (10,000) the figure only shows the trend; the
target is for 100,000 klanten (`--memory-n 100000` or `--large`).
"""

from __future__ import annotations

from bench.probes import (
    RssSampler,
    api_prefix,
    configure_connector,
    load_engine,
    prepare_sandbox,
    stopwatch,
)
from bench.report import Row, ScenarioResult

MAX_GROWTH_MB = 60
TARGET_N = 100_000


# --- worker tasks -------------------------------------------------------------------------------

def ours(n: int) -> dict:
    from integration.connectors.models import SyncRun
    from integration.digitalefactuur import sync

    load_engine()
    prepare_sandbox(n)
    df = configure_connector(import_enabled=True, push=False)
    with RssSampler() as rss, stopwatch() as elapsed:
        run = sync.run(df.pk, SyncRun.Trigger.CLI)
    return {"growth_mb": rss.growth_mb, "before_mb": rss.before / 2**20,
            "seconds": elapsed(), "status": run.status}


def baseline(n: int) -> dict:
    from bench import bare

    load_engine()
    prepare_sandbox(n)
    configure_connector(import_enabled=True, push=False)
    prefix = api_prefix()
    with RssSampler() as rss, stopwatch() as elapsed:
        bare.import_pages(prefix)
    return {"growth_mb": rss.growth_mb, "before_mb": rss.before / 2**20,
            "seconds": elapsed()}


# --- parent -------------------------------------------------------------------------------------

def run(runner, options) -> ScenarioResult:
    n = options.memory_n
    result = ScenarioResult(5, f"Peak RSS growth of a full import of {n:,} klanten")
    if ("import", n) in runner.memo:
        # Scenario 1 sampled its imports at this N already: the same figures, no second import.
        ours_import, bare_import = runner.memo[("import", n)]
        measured = {"growth_mb": ours_import["rss_growth_mb"],
                    "before_mb": ours_import["rss_before_mb"], "seconds": ours_import["seconds"]}
        measured_baseline = {"growth_mb": bare_import["rss_growth_mb"],
                             "before_mb": bare_import["rss_before_mb"]}
        result.notes.append("figures of scenario 1's imports (sampled there, query log on)")
    else:
        measured_baseline = runner.job("memory.baseline", runner.fresh_db("memory-bare"), n=n)
        measured = runner.job("memory.ours", runner.fresh_db("memory-ours"), n=n)
    result.details = {"ours": measured, "baseline": measured_baseline, "n": n}
    note = "" if n >= TARGET_N else (f"measured at {n:,}; the target is for {TARGET_N:,} "
                                     "(python -m bench --memory-n 100000)")
    result.rows = [Row("peak RSS growth", measured["growth_mb"], "MB",
                       measured_baseline["growth_mb"], max_value=MAX_GROWTH_MB, note=note)]
    result.notes.append(f"RSS before the import: ours {measured['before_mb']:.0f} MB, baseline "
                        f"{measured_baseline['before_mb']:.0f} MB; import took "
                        f"{measured['seconds']:.1f} s (sampler on)")
    return result
