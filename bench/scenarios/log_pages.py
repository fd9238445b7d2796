"""Scenario 6: the sync log's pages with 10,000 runs and 100,000 events.

The pages are those of issue 7 (`connectors:log`, `connectors:run`), requested through Django's
test `Client` inside the worker by a logged-in superuser: server time is the whole request
(middleware, view, template), the median of five after one warm-up; queries are counted with
`CaptureQueriesContext`. The baseline is the same page with a log of one run and one event,
measured first on the same database: what the page costs before the data grows.

The log is made the way a year of use would leave it, inside the retention window: runs spread
over the last `SYNC_LOG_RETENTION_DAYS` days (hourly ones and change pushes), nine events on
most runs, and the newest run a first import with the rest (some 10,000 events), so that a
run's events page is measured on the largest run. Targets: <= 10 queries, < 300 ms.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from bench.report import Row, ScenarioResult

MAX_QUERIES = 10
MAX_MS = 300
TIMED_REQUESTS = 5
CONNECTOR = "digitalefactuur"


# --- worker task --------------------------------------------------------------------------------

def _request(client, url: str) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    warm = client.get(url)
    if warm.status_code != 200:
        raise RuntimeError(f"{url} answered {warm.status_code}")
    durations = []
    for _ in range(TIMED_REQUESTS):
        started = time.perf_counter()
        client.get(url)
        durations.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return {"ms": statistics.median(durations), "queries": len(queries.captured_queries),
            "bytes": len(warm.content)}


def _pages(client, big_run, middle_event_id: int | None) -> dict:
    from django.urls import reverse

    run_url = reverse("connectors:run", args=[CONNECTOR, big_run.pk])
    pages = {"runs list": reverse("connectors:log", args=[CONNECTOR]),
             "runs list, page 100": reverse("connectors:log", args=[CONNECTOR]) + "?pagina=100",
             "run's events": run_url,
             "run's events, errors only": run_url + "?actie=fout"}
    if middle_event_id:
        pages["run's events, halfway"] = f"{run_url}?na={middle_event_id}"
    return {name: _request(client, url) for name, url in pages.items()}


def _fill(big_run, runs: int, events: int, retention_days: int) -> int | None:
    """Add runs and events until the log holds `runs` and `events`; returns a middle event id of
    the big run (for its keyset page halfway)."""
    from django.utils import timezone

    from integration.connectors.models import SyncEvent, SyncRun
    from integration.crm.models import Relation

    relations = Relation.objects.bulk_create(
        [Relation(organisation_name=f"Logboek B.V. {i}", debtor_number=str(100000 + i))
         for i in range(1000)], batch_size=500)
    now = timezone.now()
    step = timedelta(days=retention_days) / max(1, runs)
    others = []
    for i in range(1, runs):
        started = now - step * i
        trigger = SyncRun.Trigger.SCHEDULED if i % 3 == 0 else SyncRun.Trigger.CHANGE
        status = SyncRun.Status.WITH_ERRORS if i % 17 == 0 else SyncRun.Status.SUCCEEDED
        others.append(SyncRun(connector=CONNECTOR, trigger=trigger, status=status,
                              queued_at=started, started_at=started,
                              finished_at=started + timedelta(seconds=4),
                              counts={"import": {"ongewijzigd": 9990, "bijgewerkt": 9},
                                      "export": {"bijgewerkt": 1}}))
    others = SyncRun.objects.bulk_create(others, batch_size=500)
    per_other = (events - 1) // max(1, runs) if runs > 1 else 0
    big_count = events - 1 - per_other * len(others)
    actions = [SyncEvent.Action.UPDATED] * 7 + [SyncEvent.Action.CREATED,
                                                 SyncEvent.Action.ERROR]

    def event(run, i: int) -> SyncEvent:
        action = actions[i % len(actions)]
        relation = relations[i % len(relations)]
        return SyncEvent(run=run, direction=SyncEvent.Direction.IMPORT, relation=relation,
                         external_id=str(133300 + i), number=relation.debtor_number, kind="debtor",
                         action=action, message="422 naam is te lang" if action == "fout"
                         else "", diff={"adres": ["Kerkstraat 1", f"Kerkstraat {i}"]})

    batch: list = []
    for i in range(big_count):
        batch.append(event(big_run, i))
    for run in others:
        batch.extend(event(run, i) for i in range(per_other))
        if len(batch) >= 5000:
            SyncEvent.objects.bulk_create(batch, batch_size=500)
            batch = []
    SyncEvent.objects.bulk_create(batch, batch_size=500)
    ids = list(SyncEvent.objects.filter(run=big_run).order_by("pk").values_list("pk", flat=True)
               [big_count // 2:big_count // 2 + 1])
    return ids[0] if ids else None


def measure(runs: int, events: int) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from bench.probes import configure_connector
    from integration.connectors.models import SyncEvent, SyncRun

    configure_connector()
    user = get_user_model().objects.create_superuser("bench", "bench@example.invalid",
                                                    "bench-only-password")
    # A host the settings allow (the test client's own "testserver" is not one of them).
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    now = timezone.now()
    big_run = SyncRun.objects.create(
        connector=CONNECTOR, trigger=SyncRun.Trigger.MANUAL, status=SyncRun.Status.SUCCEEDED,
        queued_at=now, started_at=now, finished_at=now + timedelta(seconds=25),
        counts={"import": {"aangemaakt": events // 10}})
    SyncEvent.objects.create(run=big_run, direction=SyncEvent.Direction.IMPORT,
                             action=SyncEvent.Action.CREATED, number="1001", kind="debtor")
    baseline = _pages(client, big_run, None)
    started = time.perf_counter()
    middle = _fill(big_run, runs, events, settings.SYNC_LOG_RETENTION_DAYS)
    filled_seconds = time.perf_counter() - started
    ours = _pages(client, big_run, middle)
    return {"ours": ours, "baseline": baseline, "runs": SyncRun.objects.count(),
            "events": SyncEvent.objects.count(),
            "big_run_events": SyncEvent.objects.filter(run=big_run).count(),
            "fill_seconds": round(filled_seconds, 1)}


# --- parent -------------------------------------------------------------------------------------

def run(runner, options) -> ScenarioResult:
    result = ScenarioResult(6, f"Log pages with {options.log_runs:,} runs and "
                               f"{options.log_events:,} events")
    measured = runner.job("log_pages.measure", runner.fresh_db("log-pages"),
                          runs=options.log_runs, events=options.log_events)
    result.details = measured
    for page, figures in measured["ours"].items():
        empty = measured["baseline"].get(page, {})
        result.rows += [
            Row(f"{page}: server time", figures["ms"], "ms", empty.get("ms"), max_value=MAX_MS),
            Row(f"{page}: queries", figures["queries"], "", empty.get("queries"),
                max_value=MAX_QUERIES),
        ]
    result.notes.append(
        f"{measured['runs']:,} runs, {measured['events']:,} events, the run measured holds "
        f"{measured['big_run_events']:,}; baseline = the same page with 1 run and 1 event; "
        "Django test Client in-process, median of 5")
    return result
