"""Proof: a list must end, and a bad id costs only its own record.

The probe's reproductions (issue "Broken answers, odd data and bad input", items 4 and 5), each
through a whole sync run against a small scripted server: pages that loop (A, B, A, B; the same
klanten reordered on every page; one new klant among a hundred read before), a duplicate id on
one page, klanten without an id, an id of 10,000 characters, and one answer of every klant at
once, which is written in slices rather than in one transaction; and answers inside the size
limit that would hold a lot of memory (deep nesting, millions of elements, one huge page).
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integration.connectors.models import SyncEvent, SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur import sync
from integration.digitalefactuur.client import SLICE_SIZE
from integration.digitalefactuur.links import DfLink
from tests.proofs.conftest import SOAK, send

pytestmark = pytest.mark.django_db


def klant(klant_id: str, number: str, name: str) -> bytes:
    return (f"<klant><id>{klant_id}</id><relatienummer>{number}</relatienummer>"
            f"<type>debiteur</type><naam>{name}</naam></klant>").encode()


def page(*klanten: bytes) -> bytes:
    return b"<klanten>" + b"".join(klanten) + b"</klanten>"


@pytest.fixture
def scripted(settings, scripted_server):
    """A DigitaleFactuur answering `klanten&page=N` with `scripted.pages(N)` (set by the test),
    counting the requests in `scripted.requests`."""
    def respond(handler):
        found = re.search(r"page=(\d+)", handler.path)
        send(handler, server.pages(int(found.group(1)) if found else 1))

    server = scripted_server(respond)
    server.pages = lambda number: page()
    settings.DIGITALEFACTUUR_BASE_URL = server.base_url
    settings.DIGITALEFACTUUR_MAX_ATTEMPTS = 1
    return server


@pytest.fixture
def importing_connector():
    from django.utils import timezone

    from integration.digitalefactuur.models import DigitaleFactuurSettings
    from tests.factories import RelationTypeFactory

    RelationTypeFactory(name="Klant")
    df = DigitaleFactuurSettings.load()
    df.active, df.account_id = True, "10001"
    df.set_access_code("lijst-toegangscode-0001")
    df.record_test(True, "Verbinding geslaagd", timezone.now())
    df.debtors_enabled, df.creditors_enabled, df.push_enabled = True, False, False
    df.save()
    return df


A = page(klant("1", "1001", "Een"), klant("2", "1002", "Twee"))
B = page(klant("3", "1003", "Drie"), klant("4", "1004", "Vier"))


@pytest.mark.parametrize(("name", "pages"), [
    ("A, B, A, B", lambda n: A if n % 2 else B),
    ("the same klanten reordered", lambda n: page(
        klant("1", "1001", "Een"), klant("2", "1002", "Twee"), klant("3", "1003", "Drie"))
        if n % 2 else page(klant("3", "1003", "Drie"), klant("1", "1001", "Een"),
                           klant("2", "1002", "Twee"))),
])
def test_pages_that_loop_end_the_list_each_klant_once(name, pages, scripted,
                                                     importing_connector):
    # given a service whose pages come back round
    scripted.pages = pages

    # when
    run = sync.run(importing_connector.pk, "cli")

    # then: the list ended at the first page that brought nothing new, with a note
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert "geen nieuwe klanten meer" in run.message
    assert scripted.requests <= 4
    assert Relation.objects.count() == len(set(DfLink.objects.values_list("df_id", flat=True)))
    assert Relation.objects.count() in (3, 4)


def test_pages_that_keep_repeating_what_was_read_end_the_run_with_a_message(
        scripted, importing_connector):
    # given every page: one new klant, and ninety-nine read before
    repeats = [klant(str(n), f"1{n:03d}", f"Klant {n}") for n in range(1, 100)]
    scripted.pages = lambda n: page(*repeats, klant(str(1000 + n), f"2{n:03d}", "Nieuw"))

    # when
    run = sync.run(importing_connector.pk, "cli")

    # then: stopped after a few pages, with a message that says so
    assert run.status == SyncRun.Status.FAILED
    assert "de lijst eindigt niet" in run.detail
    assert scripted.requests == 3


def test_a_duplicate_id_on_a_page_is_read_once(scripted, importing_connector):
    # given the same id twice on one page, with different values
    scripted.pages = lambda n: page(klant("7", "1007", "Zeven"), klant("7", "1008", "Acht"),
                                    klant("9", "1009", "Negen")) if n == 1 else page()

    # when
    run = sync.run(importing_connector.pk, "cli")

    # then: the first is imported, the repeat is not, the run goes on
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert sorted(Relation.objects.values_list("debtor_number", flat=True)) == ["1007", "1009"]
    assert sorted(DfLink.objects.values_list("df_id", flat=True)) == ["7", "9"]


def test_klanten_without_an_id_or_with_a_runaway_id_are_skipped_with_the_reason(
        scripted, importing_connector):
    # given two klanten without id, one with an id of 10,000 characters, one good one
    scripted.pages = lambda n: page(
        b"<klant><relatienummer>1001</relatienummer><naam>Geen id</naam></klant>",
        b"<klant><id></id><relatienummer>1002</relatienummer><naam>Leeg id</naam></klant>",
        klant("x" * 10_000, "1003", "Lang id"),
        klant("12", "1004", "Goed")) if n == 1 else page()

    # when
    run = sync.run(importing_connector.pk, "cli")

    # then: three skipped with the reason, the good one imported, nothing linked to a bad id
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    skipped = SyncEvent.objects.filter(run=run, action="overgeslagen")
    assert skipped.count() == 3
    assert all("geen bruikbaar id" in event.message for event in skipped)
    assert list(DfLink.objects.values_list("df_id", flat=True)) == ["12"]
    assert list(Relation.objects.values_list("debtor_number", flat=True)) == ["1004"]


def test_one_answer_of_every_klant_is_written_in_slices(scripted, importing_connector):
    # given a service that does not page: every call answers all 1,200 klanten
    everything = page(*(klant(str(n), f"1{n:05d}", f"Klant {n}") for n in range(1, 1201)))
    scripted.pages = lambda n: everything

    # when
    with CaptureQueriesContext(connection) as queries:
        run = sync.run(importing_connector.pk, "cli")

    # then: all imported, in several transactions of at most a slice each, two requests
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert Relation.objects.count() == 1200
    inserts = [q for q in queries.captured_queries
               if q["sql"].startswith('INSERT INTO "crm_relation"')]
    assert len(inserts) >= 1200 // SLICE_SIZE
    assert scripted.requests == 2


# --- memory inside the size limit (the probe's item 7) ------------------------------------

MB = 1024 * 1024


@pytest.mark.parametrize(("name", "body"), [
    # 2.9 million nested levels took 926 MB: refused at the depth bound, long before
    ("nested levels", b"<klanten><klant><id>1</id>" + b"<a>" * 2_900_000),
    # millions of empty elements took 523 MB: read one by one and let go
    ("empty elements", b"<klanten>" + b"<x/>" * 4_500_000 + b"</klanten>"),
])
def test_a_hostile_answer_inside_the_size_limit_stays_in_bounded_memory(
        name, body, scripted, importing_connector, peak_rss):
    # given a service whose first page is that answer
    scripted.pages = lambda n: body if n == 1 else page()

    # when
    with peak_rss() as memory:
        run = sync.run(importing_connector.pk, "cli")

    # then: the run ends (refused, or a list of nothing), well under 300 MB
    assert run.status in (SyncRun.Status.FAILED, SyncRun.Status.SUCCEEDED), run.message
    assert memory.growth < 300 * MB, (name, memory.growth)
    assert not Relation.objects.exists()


def test_one_page_of_many_klanten_is_imported_in_bounded_memory(scripted, importing_connector,
                                                               peak_rss):
    # given one page of 6,000 klanten (SOAK: 60,000, the probe's 5.6 MB page)
    count = 60_000 if SOAK else 6_000
    everything = page(*(klant(str(n), f"1{n:05d}", f"K{n}") for n in range(1, count + 1)))
    scripted.pages = lambda n: everything

    # when
    with peak_rss() as memory:
        run = sync.run(importing_connector.pk, "cli")

    # then: every klant imported, in slices, under 300 MB
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert Relation.objects.count() == count
    assert memory.growth < 300 * MB, memory.growth
