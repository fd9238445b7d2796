"""Scenario 10: speed where users feel it (issue 18), at an internet round trip per request.

Four rows, each against a baseline measured in the same run (or, for the rate limit, the floor
the limit itself sets), with the issue's target beside it:

- import of N at `--felt-latency-ms` (50) a request, paged: <= 0.6x the bare sequential loop
  (page GETs and inserts);
- export of `--felt-export-n` changed at 50 ms, no rate limit: <= 0.25x the bare sequential
  POSTs;
- export of `--felt-limited-n` changed at 50 ms, the sandbox at `--felt-rate-limit` (20)
  requests/s: <= 1.3x the rate floor (changed / 20 s); 429s <= 5 % of requests;
- one unpaged answer of `--unpaged-n` (50,000) klanten: the import completes; peak RSS growth
  <= 80 MB.

The exports run at the issue's sizes, 2,000 and 1,000 changed of the N imported (the bare
sequential POSTs of the first take some 110 s, the rate floor of the second 50 s; `make bench`
stays under 15 minutes on a 2-core machine); the flags shrink them, and a row then says so. The
export with the import off also reads the whole account first (the N klanten's pages, one full
read per run), which the rate floor of its POSTs does not count: a second row sets the floor of
every request it needs.

Below the sequential floor only requests in flight together can go: the connector's adaptive
concurrency (`DIGITALEFACTUUR_CONCURRENCY`, on by default: the export's writes and a read-ahead
of the import's pages) is what these rows measure.
"""

from __future__ import annotations

from bench.probes import (
    RssSampler,
    api_prefix,
    configure_connector,
    control,
    load_engine,
    prepare_sandbox,
    stopwatch,
)
from bench.report import Row, ScenarioResult, run_row
from bench.scenarios import export_changed, import_full

IMPORT_MAX_RATIO = 0.6
EXPORT_MAX_RATIO = 0.25
LIMITED_MAX_RATIO = 1.3
MAX_REFUSED_PERCENT = 5.0
MAX_UNPAGED_GROWTH_MB = 80


# --- worker tasks -------------------------------------------------------------------------------

def measure_limited_export(n: int, changed: int, latency_ms: float, rate_limit: float) -> dict:
    """Our export of `changed` relations against a sandbox limited to `rate_limit` requests a
    second (one budget for the whole server, 429 with Retry-After beyond it)."""
    from integration.digitalefactuur import sync

    sandbox = prepare_sandbox(n, latency_ms)
    sandbox.set_faults(rate_limit=rate_limit)
    df = configure_connector(import_enabled=False, push=True)
    export_changed._change(changed)
    sandbox.reset_counters()
    with stopwatch() as elapsed:
        run = sync.run(df.pk, "cli")
    return {"seconds": elapsed(), "status": run.status, "message": run.message,
            "counts": run.counts, "requests": sandbox.counters()}


def _unpaged_sandbox(n: int):
    sandbox = prepare_sandbox(n)
    sandbox.set_readings(listing="unpaged")
    return sandbox


def unpaged_ours(n: int) -> dict:
    from integration.crm.models import Relation
    from integration.digitalefactuur import sync

    load_engine()
    _unpaged_sandbox(n)
    df = configure_connector(import_enabled=True, push=False)
    with RssSampler() as rss, stopwatch() as elapsed:
        run = sync.run(df.pk, "cli")
    from django.conf import settings

    return {"seconds": elapsed(), "status": run.status, "message": run.message,
            "counts": run.counts, "growth_mb": rss.growth_mb, "before_mb": rss.before / 2**20,
            "relations": Relation.objects.count(), "requests": control().counters(),
            "max_list_bytes": settings.DIGITALEFACTUUR_MAX_LIST_MB * 2**20}


def unpaged_baseline(n: int) -> dict:
    from bench import bare

    load_engine()
    _unpaged_sandbox(n)
    configure_connector(import_enabled=True, push=False)
    prefix = api_prefix()
    with RssSampler() as rss, stopwatch() as elapsed:
        done = bare.import_unpaged(prefix)
    return {"seconds": elapsed(), **done, "growth_mb": rss.growth_mb,
            "before_mb": rss.before / 2**20}


# --- parent -------------------------------------------------------------------------------------

def _import_rows(runner, options, latency: float) -> tuple[list[Row], dict]:
    ours, bare = import_full.measure(runner, options.n, latency)
    row = run_row(f"import of {options.n:,} at {latency:g} ms, paged, vs the bare sequential "
                  "loop", ours, bare["seconds"], max_ratio=IMPORT_MAX_RATIO)
    return [row], {"ours": ours, "baseline": bare}


def _export_rows(runner, options, latency: float) -> tuple[list[Row], dict]:
    changed = options.felt_export_n
    measured = export_changed.measure_median(runner, options.n, changed, latency)
    ours, bare = measured["ours"], measured["baseline"]
    shrunk = "" if changed >= 2_000 else f"N shrunk from the issue's 2,000 to {changed:,}"
    row = run_row(f"export of {measured['changed']:,} changed at {latency:g} ms, no limit, "
                  "vs the bare sequential POSTs", ours, bare["seconds"],
                  max_ratio=EXPORT_MAX_RATIO)
    row.note = "; ".join(filter(None, [row.note, shrunk]))
    posts = Row(f"export at {latency:g} ms: POSTs", ours["requests"]["POST"], "",
                bare["requests"]["POST"], max_ratio=1.0, min_ratio=1.0)
    return [row, posts], measured


def _limited_rows(runner, options, latency: float) -> tuple[list[Row], dict]:
    changed, rate = options.felt_limited_n, options.felt_rate_limit
    measured = runner.job("felt_speed.measure_limited_export", runner.imported_db(options.n),
                          n=options.n, changed=changed, latency_ms=latency, rate_limit=rate)
    floor = changed / rate
    requests = measured["requests"]
    refused = requests["faults"]["rate_limit"]
    shrunk = "" if changed >= 1_000 else f"N shrunk from the issue's 1,000 to {changed:,}; "
    time_row = run_row(f"export of {changed:,} changed at {latency:g} ms, sandbox at "
                       f"{rate:g} requests/s, vs the rate floor ({changed:,} / {rate:g} s)",
                       measured, floor, max_ratio=LIMITED_MAX_RATIO)
    time_row.note = "; ".join(filter(None, [
        time_row.note, f"{shrunk}ours also read the account first: {requests['GET']} GETs "
                       f"under the same limit, which the floor does not count"]))
    # The run must read the account before it writes (one full read per run: numbers and
    # vanished klanten); every request it needs, under the same limit, sets a floor too (the
    # refused ones are not needed: they are the price of finding the limit).
    needed = requests["total"] - refused
    whole = run_row(f"the same vs the floor of all its requests ({needed:,} / {rate:g} s)",
                    measured, needed / rate, max_ratio=LIMITED_MAX_RATIO)
    share = Row(f"limited export: 429s of {requests['total']} requests", 100 * refused
                / max(1, requests["total"]), "%", max_value=MAX_REFUSED_PERCENT,
                note=f"{refused} refused")
    return [time_row, whole, share], measured


def _unpaged_rows(runner, options) -> tuple[list[Row], dict]:
    n = options.unpaged_n
    bare = runner.job("felt_speed.unpaged_baseline", runner.fresh_db("unpaged-bare"), n=n)
    ours = runner.job("felt_speed.unpaged_ours", runner.fresh_db("unpaged-ours"), n=n)
    answer_mb = bare["bytes"] / 2**20
    metric = f"one unpaged answer of {n:,} klanten ({answer_mb:.0f} MB): peak RSS growth"
    if ours["status"] != "geslaagd" or ours["relations"] < bare["inserted"]:
        limit = ours.get("max_list_bytes") or 0
        why = (f"; the answer is larger than the client's limit of {limit / 2**20:.0f} MB "
               "(DIGITALEFACTUUR_MAX_LIST_MB)" if limit and bare["bytes"] > limit else "")
        row = Row(metric, None, "MB", bare["growth_mb"], max_value=MAX_UNPAGED_GROWTH_MB,
                  note=f"not measured: the import did not complete (run {ours['status']!r}, "
                       f"{ours['relations']:,} of {bare['inserted']:,} relations){why}: "
                       f"{ours['message']}")
    else:
        row = Row(metric, ours["growth_mb"], "MB", bare["growth_mb"],
                  max_value=MAX_UNPAGED_GROWTH_MB,
                  note=f"the import completed: {ours['relations']:,} relations in "
                       f"{ours['seconds']:.1f} s (bare {bare['seconds']:.1f} s), "
                       f"{ours['requests'].get('klanten', '?')} list requests")
    return [row], {"ours": ours, "baseline": bare}


def run(runner, options) -> ScenarioResult:
    latency = options.felt_latency_ms
    result = ScenarioResult(10, f"Speed where users feel it (issue 18): {latency:g} ms a "
                                "request, a rate limit, an unpaged list")
    for name, measure in (("import", _import_rows), ("export", _export_rows),
                          ("limited_export", _limited_rows)):
        rows, details = measure(runner, options, latency)
        result.rows += rows
        result.details[name] = details
    rows, result.details["unpaged"] = _unpaged_rows(runner, options)
    result.rows += rows
    result.notes.append("ours with the default settings: adaptive concurrency up to "
                        "DIGITALEFACTUUR_CONCURRENCY (8) requests in flight")
    return result
