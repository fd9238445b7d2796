"""The scenarios of issue 8 (and of issues 18 and 19 since), one module each.

Every module has worker tasks (functions run inside `bench.worker`, Django set up, returning a
JSON-able dict) and `run(runner, options) -> ScenarioResult`, which the parent calls to start
those workers and turn their results into rows.
"""

from __future__ import annotations

#: number -> (title, module under bench.scenarios)
SCENARIOS = {
    1: ("Full import of N klanten into an empty CRM", "import_full"),
    2: ("No-op resync of the same N", "resync_noop"),
    3: ("Export of changed relations", "export_changed"),
    4: ("Change -> DigitaleFactuur latency (real qcluster)", "change_push"),
    5: ("Memory: peak RSS growth of the import", "memory"),
    6: ("Log pages with 10,000 runs and 100,000 events", "log_pages"),
    7: ("Scenarios 1-3 with sandbox latency", "latency"),
    8: ("Reading the open invoices (Facturen)", "invoices"),
    9: ("Reading answers: the safe C parser vs defusedxml", "parse"),
    10: ("Speed where users feel it (issue 18)", "felt_speed"),
}
