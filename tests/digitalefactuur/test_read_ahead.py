"""The import reads its next pages while it writes this one (issue 18), against the sandbox.

The promise is the one of the adaptive export: concurrency changes the wall time only. The
relations, links, events in their order, counts and the run's message are those of an import
one request at a time; a list that does not page, or repeats its last page, or loops, is read
and judged as it is sequentially.
"""

import logging

import pytest

from integration.connectors.models import SyncEvent, SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur.concurrency import READ_AHEAD
from integration.digitalefactuur.links import DfLink

pytestmark = pytest.mark.django_db


def start_afresh(sandbox):
    SyncEvent.objects.all().delete()
    SyncRun.objects.all().delete()
    DfLink.objects.all().delete()
    Relation.objects.all().delete()
    sandbox.reset()


def outcome(run):
    """What an import leaves behind, relations named by their numbers."""
    relations = sorted((r.debtor_number, r.creditor_number, r.display_name, r.kind)
                       for r in Relation.objects.all())
    links = sorted((link.df_id, link.number, link.kind, link.received_fingerprint)
                   for link in DfLink.objects.all())
    events = [(e.external_id, e.number, e.kind, e.action, e.message)
              for e in SyncEvent.objects.filter(run=run).order_by("pk")]
    return {"run": (run.status, run.message, run.counts, run.pages), "relations": relations,
            "links": links, "events": events}


def import_twice(configure, df_sandbox, run_sync, settings, caplog, *, klanten, **readings):
    """The same account imported one request at a time and with the default settings."""
    caplog.set_level(logging.INFO, logger="integration.digitalefactuur.concurrency")
    default = settings.DIGITALEFACTUUR_CONCURRENCY
    found = {}
    for cap in (1, default):
        # given
        start_afresh(df_sandbox)
        caplog.clear()
        settings.DIGITALEFACTUUR_CONCURRENCY = cap
        df_sandbox.seed(klanten, seed=7)
        if readings:
            df_sandbox.set_readings(**readings)
        df_sandbox.set_faults(latency_ms=5)
        df = configure()
        df_sandbox.reset_counters()

        # when
        run = run_sync(df)

        # then
        found[cap] = outcome(run)
        found[cap]["GETs"] = df_sandbox.counters()["klanten"]
        found[cap]["limits"] = [record.df_concurrency for record in caplog.records
                                if hasattr(record, "df_concurrency")]
    return found[1], found[default]


def test_a_paged_import_with_read_ahead_ends_as_the_sequential_one(configure, df_sandbox,
                                                                   run_sync, settings, caplog):
    """1,050 klanten in pages of 100: the same relations, links, events and counts; a few
    pages past the end may be asked for while the last ones come in, never more than the
    read-ahead."""
    sequential, ahead = import_twice(configure, df_sandbox, run_sync, settings, caplog,
                                     klanten=1050)

    for key in ("run", "relations", "links", "events"):
        assert ahead[key] == sequential[key], key
    assert sequential["run"][0] == SyncRun.Status.SUCCEEDED
    assert len(sequential["relations"]) > 1000
    assert sequential["GETs"] == 12  # 11 pages and the empty one that ends the list
    assert sequential["GETs"] <= ahead["GETs"] <= sequential["GETs"] + READ_AHEAD
    assert sequential["limits"] == []
    assert max(ahead["limits"]) > 1  # pages were read while others were written


@pytest.mark.parametrize("listing", ["unpaged", "repeat_last"])
def test_a_list_that_does_not_page_is_read_as_sequentially(listing, configure, df_sandbox,
                                                          run_sync, settings, caplog):
    """Every klant on every page, or the last page again past the end: page 2 brings nothing
    new, so nothing is read ahead, and the list ends with the same note."""
    sequential, ahead = import_twice(configure, df_sandbox, run_sync, settings, caplog,
                                     klanten=250, listing=listing)

    for key in ("run", "relations", "links", "events"):
        assert ahead[key] == sequential[key], key
    assert "geen nieuwe klanten meer" in sequential["run"][1]
    if listing == "unpaged":
        assert ahead["GETs"] == sequential["GETs"] == 2
    else:
        assert sequential["GETs"] <= ahead["GETs"] <= sequential["GETs"] + READ_AHEAD
