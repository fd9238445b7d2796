"""A list answer is read while it arrives (issue 18): one answer holding every klant (a service
that does not page) is imported in bounded memory, its page 2 is let go once it shows the
repeat, and a list answer has its own size bound, which says what to do when it is passed."""

import threading
import tracemalloc

import pytest
import requests

from integration.connectors.models import SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur.client import SLICE_SIZE, DigitaleFactuurClient, Listing
from integration.digitalefactuur.errors import ProtocolError
from tests.digitalefactuur.conftest import ACCESS_CODE, ACCOUNT_ID, answer
from tests.sandbox_fixture import TEST_ACCESS_CODE, TEST_ACCOUNT_ID

pytestmark = pytest.mark.django_db


def seed_unpaged(sandbox, n):
    sandbox.reset()
    sandbox.seed(n, seed=n)
    sandbox.set_readings(listing="unpaged")


def test_an_unpaged_answer_of_thousands_is_imported_whole(configure, df_sandbox, run_sync):
    """Every klant in one answer, whatever the page: the import completes with every klant,
    from page 1 and the page 2 that shows the service does not page."""
    # given
    df = configure()
    seed_unpaged(df_sandbox, 3000)
    df_sandbox.reset_counters()

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert Relation.objects.count() == 3000 - 1  # the seed's unclassifiable 9001
    assert "geen nieuwe klanten meer" in run.message
    assert df_sandbox.counters()["klanten"] == 2


def test_reading_an_unpaged_answer_holds_a_slice_not_the_answer(df_sandbox, scripted):
    """The peak of reading an unpaged answer of 3,000 klanten exceeds that of 1,000 by less
    than half of what the 2,000 extra klanten take whole, or as the bytes of the answer:
    what grows is the set of ids read (as the run keeps them), not the klanten.

    The answers are the sandbox's own (`listing="unpaged"`), replayed for every page by a
    server that holds them already: the sandbox runs in this process, and what it allocates
    to build an answer would count in the figures. What a whole klant and its bytes take is
    measured in the same run (the sizes are this interpreter's and the sandbox's)."""
    # given
    answers = {}
    for n in (200, 1000, 3000):
        seed_unpaged(df_sandbox, n)
        answers[n] = requests.get(f"{df_sandbox.base_url}/{TEST_ACCOUNT_ID}/"
                                  f"{TEST_ACCESS_CODE}/klanten", timeout=30).content
    serving = []
    scripted.respond = lambda handler, seen: answer(handler, answers[serving[-1]])

    def client():
        return DigitaleFactuurClient(scripted.base_url, ACCOUNT_ID, ACCESS_CODE, read_timeout=5)

    def peak_of_reading(n):
        serving.append(n)
        seen, listing = set(), Listing()
        with client() as reader:
            tracemalloc.start()
            try:
                read = sum(len(part) for part in reader.iter_pages(seen, listing))
                return tracemalloc.get_traced_memory()[1], read, listing
            finally:
                tracemalloc.stop()

    def whole_klant_and_its_bytes(n):
        serving.append(n)
        with client() as reader:
            tracemalloc.start()
            try:
                held = [k for part in reader.iter_pages(set(), Listing()) for k in part]
                return (tracemalloc.get_traced_memory()[0] / len(held),
                        len(answers[n]) / len(held))
            finally:
                tracemalloc.stop()

    peak_of_reading(200)  # every lazily imported module loaded before the first figure

    # when
    (small, small_read, _), (large, large_read, listing) = (peak_of_reading(1000),
                                                            peak_of_reading(3000))

    # then every klant was read once, page 2 ending the list
    assert (small_read, large_read) == (1000, 3000)
    assert listing.ended_by_repeat and listing.pages == 2
    # and memory grew with the ids, not with the answer
    per_klant, bytes_per_klant = whole_klant_and_its_bytes(1000)
    assert large - small < 2000 * min(per_klant, bytes_per_klant) / 2, (
        small, large, per_klant, bytes_per_klant)


def test_page_two_of_an_unpaged_service_is_let_go_after_its_first_slice(scripted):
    """Page 2 repeating page 1 is not read to its end: once its first slice holds only
    klanten read before, the connection is closed, and the server never sends the rest."""
    # given a server answering every klant to every page, which holds back the rest of page 2
    # until the client either closes the connection or waits for more
    klanten = [b"<klant><id>%d</id><naam>K</naam></klant>" % n for n in range(1, 1001)]
    first, rest = SLICE_SIZE + 50, b"".join(klanten[SLICE_SIZE + 50:]) + b"</klanten>"
    page_two, answered = {}, threading.Event()

    def respond(handler, seen):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/xml")
        handler.end_headers()
        handler.wfile.write(b"<klanten>" + b"".join(klanten[:first]))
        handler.wfile.flush()
        if "page=2" in seen.path:
            handler.connection.settimeout(3)
            try:
                page_two["closed"] = handler.connection.recv(1) == b""
            except TimeoutError:
                page_two["closed"] = False  # the client waits for more: it reads on
        if not page_two.get("closed"):
            handler.wfile.write(rest)
        if "page=2" in seen.path:
            answered.set()
    scripted.respond = respond

    # when
    listing = Listing()
    with DigitaleFactuurClient(scripted.base_url, ACCOUNT_ID, ACCESS_CODE, read_timeout=5,
                               max_attempts=1) as client:
        read = [k.id for part in client.iter_pages(listing=listing) for k in part]

    # then every klant was read once, and page 2 ended after its first slice
    assert len(read) == len(set(read)) == 1000
    assert listing.ended_by_repeat and len(scripted.seen) == 2
    assert answered.wait(10) and page_two == {"closed": True}


def test_a_list_answer_past_its_bound_stops_the_run_saying_what_to_do(
        configure, df_sandbox, run_sync, settings):
    """A list answer larger than DIGITALEFACTUUR_MAX_LIST_MB is refused while it arrives; the
    run stops with a message saying what to do in the administrator's words; the setting and
    the bound are in its technical details, for whoever runs the server."""
    # given an unpaged account of 3,000 klanten (some 3 MB) and a bound of 1 MB
    df = configure()
    seed_unpaged(df_sandbox, 3000)
    settings.DIGITALEFACTUUR_MAX_LIST_MB = 1

    # when the klanten are listed, and when the account is imported
    with df.client() as client, pytest.raises(ProtocolError) as caught:
        for _part in client.iter_pages():
            pass
    run = run_sync(df)

    # then
    assert caught.value.action == "halt"
    assert "grens voor de klantenlijst te verhogen" in caught.value.message
    assert "DIGITALEFACTUUR" not in caught.value.message  # a setting's name is support's
    assert caught.value.detail == f"klantenlijst > {2**20} bytes (DIGITALEFACTUUR_MAX_LIST_MB)"
    assert run.status == SyncRun.Status.FAILED
    assert "grens voor de klantenlijst" in run.message
    assert "DIGITALEFACTUUR_MAX_LIST_MB" in run.detail


def test_a_single_klant_of_megabytes_in_a_list_is_refused_while_it_arrives(scripted):
    """Each klant of a list answer is bounded (schema.MAX_KLANT_BYTES) whatever the list's
    bound: a klant of 2 MB is refused before the answer is read on."""
    # given a server listing a klant of 2 MB followed by more, with a generous list bound
    sent = threading.Event()

    def respond(handler, seen):
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(b"<klanten><klant><id>1</id><naam>" + b"x" * (2 * 2**20)
                            + b"</naam></klant>")
        for n in range(2, 200):
            handler.wfile.write(b"<klant><id>%d</id><naam>%s</naam></klant>"
                                % (n, b"y" * 2**20))
        sent.set()
    scripted.respond = respond

    # when / then
    with DigitaleFactuurClient(scripted.base_url, ACCOUNT_ID, ACCESS_CODE, max_attempts=1,
                               max_list_bytes=2**30) as client, \
            pytest.raises(ProtocolError) as caught:
        list(client.iter_klanten())
    assert caught.value.detail == f"klant > {2**20} bytes"
    assert not sent.is_set()


def test_an_answer_cut_off_while_it_is_read_is_asked_for_again_and_goes_on(scripted, sleeper):
    """A connection dropped after a slice was handed out: the answer is asked for again, as
    any read is retried, and the klanten already handed out are passed over, not repeated."""
    # given a server whose first answer breaks off after 300 of 600 klanten
    klanten = b"".join(b"<klant><id>%d</id><naam>K</naam></klant>" % n for n in range(1, 601))
    cut = klanten.index(b"<klant><id>301</id>")

    def respond(handler, seen):
        if len(scripted.seen) == 1:
            handler.send_response(200)
            handler.end_headers()
            handler.wfile.write(b"<klanten>" + klanten[:cut])
            handler.wfile.flush()
            handler.connection.shutdown(2)
        else:
            answer(handler, b"<klanten>" + (klanten if "page=1" in seen.path else b"")
                   + b"</klanten>")
    scripted.respond = respond

    # when
    listing = Listing()
    with DigitaleFactuurClient(scripted.base_url, ACCOUNT_ID, ACCESS_CODE, max_attempts=2,
                               sleep=sleeper) as client:
        read = [k.id for part in client.iter_pages(listing=listing) for k in part]

    # then every klant once, in order, and nothing counted as read twice
    assert read == [str(n) for n in range(1, 601)]
    assert listing.repeated == 0 and scripted.actions() == ["klanten"] * 3


def _klanten_xml(ids, number=lambda n: str(1000 + n)) -> bytes:
    return b"<klanten>" + b"".join(
        b"<klant><id>%d</id><relatienummer>%s</relatienummer></klant>"
        % (n, number(n).encode()) for n in ids) + b"</klanten>"


def test_an_unpaged_list_that_grows_while_it_is_read_ends_complete(scripted):
    """A service that answers its whole list to every page, while klanten are created between
    two requests (a run's own creates land meanwhile): page 2 brings the new ones beside every
    klant of page 1 again. That is the whole list, grown; it ends there, read once and
    complete, instead of being taken for a list that never ends."""
    # given a list of 5 that grows by 2 with every request
    served = []

    def respond(handler, seen):
        served.append(seen.path)
        answer(handler, _klanten_xml(range(1, 4 + 2 * len(served))))
    scripted.respond = respond

    # when
    listing = Listing()
    with DigitaleFactuurClient(scripted.base_url, ACCOUNT_ID, ACCESS_CODE, read_timeout=5,
                               max_attempts=1) as client:
        read = [k.id for part in client.iter_pages(listing=listing) for k in part]

    # then the 5 of page 1 and the 2 that came with page 2, each once, in two requests
    assert read == [str(n) for n in range(1, 8)]
    assert listing.ended_by_repeat and len(served) == 2


def test_a_number_lookup_lets_go_of_an_ignored_filters_answer(scripted):
    """`klanten&relatienummer=N` answered with the whole list (the filter ignored): the first
    slice that holds another number shows it, and the rest is not read; the client remembers
    that the filter is ignored."""
    # given a server that ignores the filter and answers a list of 2,000 klanten
    body = _klanten_xml(range(1, 2001))
    scripted.respond = lambda handler, seen: answer(handler, body)

    # when
    with DigitaleFactuurClient(scripted.base_url, ACCOUNT_ID, ACCESS_CODE, read_timeout=5,
                               max_attempts=1) as client:
        found = client.lookup_number("1500")

    # then it is not honoured, and no more than the first slice was kept
    assert not found.honoured and client.filter_honoured is False
    assert 0 < len(found.klanten) <= SLICE_SIZE


def test_an_unpaged_invoice_list_that_grows_while_it_is_read_ends_complete(scripted):
    """The same rule holds for the facturen list: invoices made in DigitaleFactuur between two
    requests of a list answered whole to every page end the list, read once and complete."""
    # given an open-invoice list of 4 that grows by 1 with every request
    served = []

    def respond(handler, seen):
        served.append(seen.path)
        answer(handler, b"<facturen>" + b"".join(
            b"<factuur><id>%d</id><betaalstatus>openstaand</betaalstatus></factuur>" % n
            for n in range(1, 4 + len(served))) + b"</facturen>")
    scripted.respond = respond

    # when
    with DigitaleFactuurClient(scripted.base_url, ACCOUNT_ID, ACCESS_CODE, read_timeout=5,
                               max_attempts=1) as client:
        read = [i.id for page in client.iter_invoice_pages() for i in page]

    # then the 4 of page 1 and the one that came with page 2, each once, in two requests
    assert read == [str(n) for n in range(1, 6)]
    assert len(served) == 2
