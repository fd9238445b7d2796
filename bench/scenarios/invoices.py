"""Scenario 8: reading the open invoices (Facturen) against the bare page GETs.

Starts from the imported state (`Runner.imported_db`: the generator's N klanten, linked); the
sandbox then generates its invoices for every debtor (at the generator's mix some 1.7 open
invoices a klant: N = 10,000 gives well over 10,000 open ones). Baseline: `facturen&betaalstatus=
openstaand` page by page, GETs alone, unparsed. Ours: `invoices.refresh_open_invoices` with the
run's client, first into an empty table (every invoice new), then again with nothing changed.
Targets (issue 19): reading the open invoices costs <= 1.3x the bare page GETs, and the no-op
read writes 0 invoice rows (only the read's moment on the settings row).
"""

from __future__ import annotations

from bench.probes import (
    QueryLog,
    api_prefix,
    configure_connector,
    prepare_sandbox,
    profiled,
    stopwatch,
)
from bench.report import Row, ScenarioResult

INVOICE_TABLE = "digitalefactuur_invoice"
MAX_RATIO = 1.3


def _bare_pages(prefix: str) -> int:
    import requests

    session, page = requests.Session(), 1
    while b"<factuur>" in session.get(f"{prefix}facturen&page={page}&betaalstatus=openstaand",
                                      timeout=60).content:
        page += 1
    session.close()
    return page


def _read(df, name: str) -> dict:
    from integration.digitalefactuur.invoices import refresh_open_invoices

    log = QueryLog()
    with df.client() as client, log.capture(), profiled(f"invoices-{name}"), \
            stopwatch() as elapsed:
        outcome = refresh_open_invoices(client)
    return {"seconds": elapsed(), "read": outcome.read, "created": outcome.created,
            "changed": outcome.changed, "paid": outcome.paid,
            "invoice_writes": log.writes_by_table().get(INVOICE_TABLE, 0),
            "writes_by_table": log.writes_by_table(), "queries": log.total()}


def measure(n: int) -> dict:
    sandbox = prepare_sandbox(n)
    generated = sandbox.generate_facturen()
    df = configure_connector(import_enabled=True, push=False)
    with stopwatch() as elapsed:
        pages = _bare_pages(api_prefix())
    baseline = {"seconds": elapsed(), "pages": pages}
    first = _read(df, "first")
    again = _read(df, "again")
    return {"generated": generated, "baseline": baseline, "first": first, "again": again}


def run(runner, options) -> ScenarioResult:
    result = ScenarioResult(8, f"Reading the open invoices of {options.n:,} klanten")
    measured = runner.job("invoices.measure", runner.imported_db(options.n), n=options.n)
    baseline, first, again = measured["baseline"], measured["first"], measured["again"]
    result.rows = [
        Row("first read (every invoice new)", first["seconds"], "s", baseline["seconds"],
            max_ratio=MAX_RATIO),
        Row("no-op read", again["seconds"], "s", baseline["seconds"], max_ratio=MAX_RATIO),
        Row("invoice rows written by the no-op read", again["invoice_writes"], "", 0,
            max_value=0, note=f"writes by table: {again['writes_by_table']}"),
        Row("queries of the no-op read", again["queries"], ""),
    ]
    result.details = measured
    result.notes.append(f"{first['read']:,} open invoices read of {measured['generated']:,} "
                        f"generated, {baseline['pages']} pages")
    return result
