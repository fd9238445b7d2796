"""The log pages stay fast with 10,000 runs and 100,000 events: the same few queries per page
whatever the size (`django_assert_max_num_queries`), none of them a COUNT over the events."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integration.connectors.models import SyncEvent, SyncRun
from tests.connectors.conftest import LOG_URL, run_url
from tests.factories import OrganisationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

MAX_QUERIES_PER_PAGE = 12


def grow_log(runs: int, events: int, relations: list) -> SyncRun:
    """`runs` runs over 60 days; `events` events on the newest run; returns that run."""
    now = timezone.now()
    SyncRun.objects.bulk_create(
        [SyncRun(connector="digitalefactuur", trigger="gepland",
                 status="met_fouten" if n % 7 == 0 else "geslaagd",
                 queued_at=now - timedelta(minutes=9 * n),
                 started_at=now - timedelta(minutes=9 * n),
                 finished_at=now - timedelta(minutes=9 * n - 1),
                 counts={"import": {"bijgewerkt": n % 5, "ongewijzigd": 100},
                         "export": {"fout": n % 3}})
         for n in range(1, runs + 1)], batch_size=2000)
    newest = SyncRun.objects.create(connector="digitalefactuur", trigger="handmatig",
                                    status="met_fouten", started_at=now, finished_at=now)
    actions = ["bijgewerkt", "fout", "conflict", "aangemaakt"]
    SyncEvent.objects.bulk_create(
        [SyncEvent(run=newest, direction="export" if n % 2 else "import",
                   relation=relations[n % len(relations)], number=f"1{n:06d}",
                   kind="debtor", action=actions[n % 4], diff={"naam": ["a", "b"]})
         for n in range(events)], batch_size=5000)
    return newest


def page_queries(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_the_pages_cost_the_same_queries_with_10000_runs_and_100000_events(
        configure, df_client, django_assert_max_num_queries):
    # given a small log, measured
    configure()
    relations = OrganisationFactory.create_batch(20)
    small_run = grow_log(20, 200, relations)
    pages = ["", "?status=met_fouten", "?pagina=2"]
    run_pages = ["", "?actie=fout", "?richting=export&actie=conflict", "?na=150"]
    small = [len(page_queries(df_client, LOG_URL + q)) for q in pages]
    small_run_pages = [len(page_queries(df_client, run_url(small_run) + q)) for q in run_pages]

    # when the log grows to 10,000 runs and a run to 100,000 events
    SyncEvent.objects.all().delete()
    SyncRun.objects.all().delete()
    big_run = grow_log(10_000, 100_000, relations)
    deep = SyncEvent.objects.filter(run=big_run).order_by("pk")[90_000].pk

    # then every page makes the same number of queries as before, within the budget
    assert [len(page_queries(df_client, LOG_URL + q)) for q in pages] == small
    assert [len(page_queries(df_client, run_url(big_run) + q))
            for q in run_pages] == small_run_pages
    for url in [LOG_URL, LOG_URL + "?pagina=150", run_url(big_run),
                run_url(big_run) + f"?actie=fout&na={deep}", run_url(big_run) + "voortgang/"]:
        with django_assert_max_num_queries(MAX_QUERIES_PER_PAGE):
            df_client.get(url)
    # and no page counts or skips over the run's events
    run_sql = page_queries(df_client, run_url(big_run) + f"?actie=fout&na={deep}")
    event_sql = [sql for sql in run_sql if "connectors_syncevent" in sql]
    assert event_sql and not any("COUNT(" in sql or "OFFSET" in sql for sql in event_sql)
