"""Scenario 3: export of changed relations (PerfectView -> DigitaleFactuur).

Starts from the imported state; `changed` linked relations get a new name (a queryset update:
no signal, so no change push interferes), Bijwerken is switched on and the import off, so the
run is the export phase alone. Baseline first: `bare.update_documents` + `bare.post_updates`,
the same klant_updaten POSTs with one session, reading the same rows in one query; it records
nothing, so the relations are still "changed" for ours, which then sends the same POSTs.
Target: <= 1.2x. With `concurrency` > 1, the bare POSTs are also timed over that many sessions:
what bounded concurrency could give at best; scenario 7 (latency.py) times ours with
DIGITALEFACTUUR_CONCURRENCY set to the same number against it.
"""

from __future__ import annotations

from bench.probes import (
    QueryLog,
    api_prefix,
    configure_connector,
    control,
    prepare_sandbox,
    profiled,
    stopwatch,
)
from bench.report import Row, ScenarioResult, run_row

MAX_RATIO = 1.2


# --- worker task --------------------------------------------------------------------------------

def _change(changed: int) -> list[int]:
    """Rename the first `changed` linked relations; returns their ids."""
    from django.db.models import Value
    from django.db.models.functions import Concat

    from integration.crm.models import Relation
    from integration.digitalefactuur.links import DfLink

    ids = list(DfLink.objects.order_by("relation_id").values_list("relation_id", flat=True)
               .distinct()[:changed])
    chosen = Relation.objects.filter(pk__in=ids)
    chosen.filter(kind=Relation.Kind.ORGANISATION).update(
        organisation_name=Concat("organisation_name", Value(" (gewijzigd)")))
    chosen.filter(kind=Relation.Kind.PERSON).update(
        surname=Concat("surname", Value(" (gewijzigd)")))
    return ids


def measure(n: int, changed: int, latency_ms: float = 0.0, concurrency: int = 1) -> dict:
    from bench import bare
    from integration.connectors.models import SyncRun
    from integration.digitalefactuur import sync

    sandbox = prepare_sandbox(n, latency_ms)
    df = configure_connector(import_enabled=False, push=True)
    ids = _change(changed)
    prefix = api_prefix()

    # Ours first: the engine reads each klant before it updates it, and a DigitaleFactuur
    # that the baseline had already given the new values would (rightly) be sent nothing.
    # The baseline's POSTs then write the same values again: the same work for the service.
    sandbox.reset_counters()
    log = QueryLog()
    with log.capture(), profiled(f"export-{changed}-of-{n}-latency-{latency_ms:g}"), \
            stopwatch() as elapsed:
        run = sync.run(df.pk, SyncRun.Trigger.CLI)
    ours = {"seconds": elapsed(), "status": run.status, "message": run.message,
            "counts": run.counts, "requests": control().counters(),
            "queries": log.total(), "writes_by_table": log.writes_by_table()}

    sandbox.reset_counters()
    with stopwatch() as elapsed:
        posted = bare.post_updates(prefix, bare.update_documents(ids))
    baseline = {"seconds": elapsed(), "posts": posted, "requests": sandbox.counters()}
    measured = {"baseline": baseline, "changed": len(ids), "ours": ours}
    if concurrency > 1:
        documents = bare.update_documents(ids)
        sandbox.reset_counters()
        with stopwatch() as elapsed:
            bare.post_updates(prefix, documents, concurrency)
        measured["baseline_concurrent"] = {"seconds": elapsed(), "concurrency": concurrency,
                                           "requests": sandbox.counters()}
    return measured


# --- parent -------------------------------------------------------------------------------------

def measure_median(runner, n: int, changed: int, latency_ms: float = 0.0,
                   concurrency: int = 1) -> dict:
    runs = [runner.job("export_changed.measure", runner.imported_db(n), n=n, changed=changed,
                       latency_ms=latency_ms, concurrency=concurrency)
            for _ in range(runner.options.repeats)]
    pick = sorted(runs, key=lambda r: r["ours"]["seconds"])[len(runs) // 2]
    baseline = sorted(r["baseline"]["seconds"] for r in runs)[len(runs) // 2]
    return {**pick, "baseline": {**pick["baseline"], "seconds": baseline}}


def rows(measured: dict, label: str = "") -> list[Row]:
    ours, baseline = measured["ours"], measured["baseline"]
    posts = ours["requests"]["POST"]
    return [
        run_row(f"{label}export time ({measured['changed']:,} changed)", ours,
                baseline["seconds"], max_ratio=MAX_RATIO),
        Row(f"{label}POSTs", posts, "", baseline["requests"]["POST"], max_ratio=1.0,
            min_ratio=1.0),
        Row(f"{label}statements per changed relation", ours["queries"] / max(1, posts), ""),
    ]


def run(runner, options) -> ScenarioResult:
    result = ScenarioResult(3, f"Export of {options.n:,} changed relations")
    measured = measure_median(runner, options.n, options.n)
    result.rows = rows(measured)
    result.details = measured
    ours = measured["ours"]
    result.notes.append(f"status {ours['status']}, counts {ours['counts']}; requests ours "
                        f"{ {k: ours['requests'][k] for k in ('GET', 'POST')} }; writes by "
                        f"table {ours['writes_by_table']}")
    return result
