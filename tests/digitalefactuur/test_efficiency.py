"""The import's cost stays flat: queries per page do not grow with the klanten, and memory
grows only with their ids and numbers."""

import tracemalloc
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integration.connectors.models import SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur.client import Listing
from integration.digitalefactuur.mapping import VALUE_CACHE_SIZE

pytestmark = pytest.mark.django_db

#: Queries of a run outside its pages: settings, lock, run record, dead runs, the end.
RUN_QUERIES = 10
#: Queries of one page of 100 new klanten: 1 read, savepoint, one INSERT each of relations,
#: links and events (on SQLite too: integration/db/sqlite3 lifts Django's 999-parameter
#: assumption), release. The progress write (at most one per half second) fits in the
#: allowance of the last, empty page. The same for every page: the cost grows with pages,
#: never per klant.
PAGE_QUERIES = 6


@pytest.mark.parametrize("klanten", [100, 300])
def test_a_first_import_costs_a_flat_number_of_queries_per_page(klanten, configure, df_sandbox,
                                                                 run_sync,
                                                                 django_assert_max_num_queries):
    # given
    df = configure()
    df_sandbox.seed(klanten)
    pages = klanten // 100 + 1  # the last, empty page costs no query

    # when
    with django_assert_max_num_queries(RUN_QUERIES + PAGE_QUERIES * pages):
        run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.SUCCEEDED
    assert Relation.objects.count() == klanten - 1  # the seed's unclassifiable 9001


def test_each_table_of_a_page_is_written_in_one_statement(configure, df_sandbox, run_sync):
    """A page of new klanten writes its relations, its links and its events in one multi-row
    statement each (integration/db/rows.py), on SQLite as on PostgreSQL."""
    # given: three pages of 100
    df = configure()
    df_sandbox.seed(300)

    # when
    with CaptureQueriesContext(connection) as queries:
        run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.SUCCEEDED
    inserts = Counter(q["sql"].split()[2].strip('"') for q in queries.captured_queries
                      if q["sql"].startswith("INSERT"))
    assert inserts["crm_relation"] == 3
    assert inserts["digitalefactuur_dflink"] == 3
    assert inserts["connectors_syncevent"] == 3


def test_an_unchanged_page_costs_one_read_and_the_progress(configure, df_sandbox, run_sync):
    # given
    df = configure()
    df_sandbox.seed(300)
    run_sync(df)

    # when
    with CaptureQueriesContext(connection) as queries:
        run_sync(df)

    # then: one read per page (of its relations' numbers and links), none of a full relation
    page_reads = [q["sql"] for q in queries.captured_queries
                  if q["sql"].startswith(('SELECT "crm_relation"',
                                          'SELECT "digitalefactuur_dflink"'))]
    # (and one of the links' ids at the end: which linked klanten the full read missed)
    assert len(page_reads) == 3 + 1
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    touched = {sql.split()[2 if sql.upper().startswith(("INSERT", "DELETE")) else 1]
               .strip('"') for sql in writes}
    # Only the run record, its lock, and the one skipped klant's event.
    assert touched <= {"connectors_syncrun", "connectors_runlock", "connectors_syncevent"}


def test_memory_grows_with_the_ids_not_with_the_klanten(configure, df_sandbox, run_sync):
    """An import keeps of each klant its id and number (vanished klanten, numbers taken: see
    account.py), never the klant itself: the peak of an 1,800-klanten import exceeds that of a
    600-klanten one by less than half of what holding the 1,200 extra klanten whole would take.

    What a whole klant takes is measured in the same run (the sizes are this interpreter's).
    The pages read ahead are a constant (concurrency.READ_AHEAD) that shifts both peaks a
    little with the threads' timing; a klant kept whole would add six times the margin for it.
    Both sizes are past the point where the mapping's bounded caches (mapping.py,
    VALUE_CACHE_SIZE) are full, and a small import first loads every lazily imported module,
    which would otherwise count in the first figure only."""
    # given
    df = configure()
    assert VALUE_CACHE_SIZE < 600

    def peak_of_import(n):
        Relation.objects.all().delete()
        df_sandbox.reset()
        df_sandbox.seed(n, seed=n)
        tracemalloc.start()
        try:
            run_sync(df)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    def whole_klant():
        with df.client() as client:
            tracemalloc.start()
            try:
                held = [k for page in client.iter_pages(set(), Listing(), None) for k in page]
                return tracemalloc.get_traced_memory()[0] / len(held)
            finally:
                tracemalloc.stop()

    peak_of_import(50)

    # when
    small, large = peak_of_import(600), peak_of_import(1800)

    # then
    per_klant = whole_klant()
    assert large - small < 1200 * per_klant / 2, (small, large, per_klant)
