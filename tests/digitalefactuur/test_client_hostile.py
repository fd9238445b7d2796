"""The client against a server that misbehaves: every answer becomes one of our errors, quickly.

The server is scripted per test (conftest `scripted`): hostile XML, huge and endless bodies,
redirects, dropped connections, broken bytes. Nothing may hang, nothing may escape as a foreign
exception, and the access code may appear nowhere: not in logs, errors or reprs.
"""

import email.utils
import gzip
import threading
import time
import traceback
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integration.digitalefactuur.client import DigitaleFactuurClient, Listing
from integration.digitalefactuur.errors import (
    AccessNotActive,
    AuthenticationFailed,
    Conflict,
    DigitaleFactuurError,
    InvalidField,
    NotFound,
    ProtocolError,
    RateLimited,
    Redirected,
    ServiceUnavailable,
    Timeout,
    UnreadableAnswer,
)
from integration.digitalefactuur.schema import DfKlant
from tests.digitalefactuur.conftest import ACCESS_CODE, ACCOUNT_ID, QUOTED_CODE, answer


def make_client(base_url, **options):
    options = {"connect_timeout": 1, "read_timeout": 1, "max_attempts": 1,
               "sleep": lambda s: None, **options}
    return DigitaleFactuurClient(base_url, ACCOUNT_ID, ACCESS_CODE, **options)


def assert_no_code(*texts):
    for text in texts:
        assert ACCESS_CODE not in text and QUOTED_CODE not in text, text


def fails_quickly(client, expected, seconds=5.0):
    started = time.monotonic()
    with pytest.raises(expected) as caught:
        list(client.iter_klanten())
    assert time.monotonic() - started < seconds
    error = caught.value
    assert_no_code(str(error), repr(error), error.url,
                   "".join(traceback.format_exception(error)))
    return error


HOSTILE_XML = {
    "xxe": b'<?xml version="1.0"?><!DOCTYPE k [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           b"<klanten><klant><naam>&xxe;</naam></klant></klanten>",
    "billion-laughs": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                      + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10
                                                             if i > 1 else b"&lol;" * 10)
                                 for i in range(1, 10))
                      + b"]><klanten>&lol9;</klanten>",
    "dtd": b'<!DOCTYPE klanten SYSTEM "http://127.0.0.1:9/x.dtd"><klanten/>',
    "invalid-utf8": b"<klanten><klant><naam>\xc3\x28\xff</naam></klant></klanten>",
    "malformed": b"<klanten><klant><naam>x</klant>",
    "neither": b"Alles goed!",
    "empty": b"",
}


FORBIDDEN_XML = ("xxe", "billion-laughs", "dtd")


@pytest.mark.parametrize("name", FORBIDDEN_XML)
def test_forbidden_xml_is_a_protocol_error_that_halts_at_once(scripted, name):
    """XXE, billion laughs, a DTD: never expanded, never asked for again, the run halts."""
    # given a server answering the hostile document with HTTP 200
    scripted.respond = lambda handler, seen: answer(handler, HOSTILE_XML[name])
    # when the klanten are listed, with room for retries
    with make_client(scripted.base_url, max_attempts=4) as client:
        error = fails_quickly(client, ProtocolError, seconds=3)
    # then the run halts with a ProtocolError after one request
    assert error.action == "halt" and not isinstance(error, UnreadableAnswer)
    assert len(scripted.seen) == 1
    assert error.url.endswith("/api/10001/***/klanten&page=1")


@pytest.mark.parametrize("name", sorted(set(HOSTILE_XML) - set(FORBIDDEN_XML)))
def test_a_garbled_answer_is_asked_for_again_then_is_an_unreadable_answer(scripted, name):
    """Invalid UTF-8, malformed XML, prose, nothing: likely a passing fault, so retried like a
    timeout; when every attempt is garbled it is an UnreadableAnswer (a ProtocolError)."""
    # given a server that answers garbage every time
    scripted.respond = lambda handler, seen: answer(handler, HOSTILE_XML[name])
    # when the klanten are listed with three attempts
    with make_client(scripted.base_url, max_attempts=3) as client:
        error = fails_quickly(client, UnreadableAnswer, seconds=3)
    # then it was asked three times, and the error says retry
    assert len(scripted.seen) == 3
    assert isinstance(error, ProtocolError) and error.action == "retry"
    assert error.url.endswith("/api/10001/***/klanten&page=1")


def test_a_garbled_answer_once_is_recovered_by_the_retry(scripted):
    # given a server that garbles its first answer only
    scripted.respond = lambda handler, seen: answer(
        handler, HOSTILE_XML["malformed"] if len(scripted.seen) == 1 else b"<klanten/>")
    # when / then the list is read (empty) on the second attempt
    with make_client(scripted.base_url, max_attempts=3) as client:
        assert list(client.iter_klanten()) == []
    assert len(scripted.seen) == 2


def test_a_fifty_megabyte_body_is_refused_without_reading_it_all(scripted):
    """A body past the size limit stops the read: by its Content-Length or while streaming."""
    # given a server that streams 50 MB without announcing the length
    def flood(handler, seen):
        handler.send_response(200)
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(b"<klanten>")
        block = b"<klant><naam>" + b"x" * (1024 * 1024) + b"</naam></klant>"
        for _ in range(50):
            handler.wfile.write(block)
    scripted.respond = flood
    # when the klanten are listed with a 20 MB limit
    with make_client(scripted.base_url, read_timeout=5) as client:
        error = fails_quickly(client, ProtocolError, seconds=10)
    # then the error says the answer was too big
    assert "bytes" in error.detail


def test_a_declared_oversized_body_is_refused_before_reading(scripted):
    """A Content-Length over the limit is refused on the headers alone."""
    # given a server announcing 50 MB and sending a few bytes
    def announce(handler, seen):
        handler.send_response(200)
        handler.send_header("Content-Length", str(50 * 1024 * 1024))
        handler.end_headers()
        handler.wfile.write(b"<klanten>")
    scripted.respond = announce
    # when / then
    with make_client(scripted.base_url) as client:
        fails_quickly(client, ProtocolError, seconds=3)


def test_a_redirect_is_not_followed(scripted):
    """A 302 is a ProtocolError; the target is never asked (it would receive the code)."""
    # given a server redirecting every request to another path
    scripted.respond = lambda handler, seen: answer(
        handler, status=302, headers={"Location": "/elders/gestolen"})
    # when / then
    with make_client(scripted.base_url) as client:
        error = fails_quickly(client, ProtocolError, seconds=3)
    assert error.code == 302
    assert len(scripted.seen) == 1


def test_an_endless_trickle_is_cut_off_by_the_total_deadline(scripted):
    """A byte now and then keeps every read alive; the total deadline still ends the call."""
    # given a server sending one byte every 50 ms, forever
    def trickle(handler, seen):
        handler.send_response(200)
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(b"<klanten>")
        while not scripted.stopping.is_set():
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.05)
    scripted.respond = trickle
    # when the klanten are listed with a 1 s read timeout and a 2 s total deadline
    with make_client(scripted.base_url, total_timeout=2) as client:
        error = fails_quickly(client, Timeout, seconds=4)
    # then it is a Timeout (retry later), not a hang
    assert error.action == "retry"


def test_a_silent_server_is_a_timeout(scripted):
    """No answer within the read timeout is a Timeout."""
    # given a server that waits longer than the read timeout
    def silent(handler, seen):
        scripted.stopping.wait(3)
    scripted.respond = silent
    # when / then
    with make_client(scripted.base_url, read_timeout=0.3) as client:
        fails_quickly(client, Timeout, seconds=2)


def test_a_dropped_connection_is_service_unavailable(scripted):
    """The server closes the connection without answering: ServiceUnavailable (retry)."""
    # given a server that hangs up
    def hang_up(handler, seen):
        handler.close_connection = True
        handler.connection.shutdown(2)
    scripted.respond = hang_up
    # when / then
    with make_client(scripted.base_url) as client:
        fails_quickly(client, ServiceUnavailable, seconds=3)


def test_connection_refused_is_service_unavailable_and_retried(closed_port_url, sleeper):
    """Nobody listening: retried up to max_attempts with backoff, then ServiceUnavailable."""
    # given a port on which nothing listens
    with make_client(closed_port_url, max_attempts=3, sleep=sleeper) as client:
        # when the first page is read / then it fails after three attempts and two sleeps
        error = fails_quickly(client, ServiceUnavailable)
    assert type(error) is ServiceUnavailable
    assert len(sleeper.slept) == 2
    # full jitter: each sleep is between 0 and the exponential ceiling
    assert 0 <= sleeper.slept[0] <= 0.5 and 0 <= sleeper.slept[1] <= 1.0


def test_the_access_code_appears_in_no_log_error_or_repr(scripted, closed_port_url, debug_logs):
    """Logs at DEBUG (urllib3's too), errors, tracebacks and the repr never hold the code."""
    # given a client and a series of failing and succeeding calls
    answers = iter([b"<klanten/>", b"<!DOCTYPE x []><klanten/>"])
    scripted.respond = lambda handler, seen: answer(handler, next(answers, b"500 stuk"))
    texts = []
    for base_url in (scripted.base_url, scripted.base_url, scripted.base_url, closed_port_url):
        with make_client(base_url) as client:
            texts.append(repr(client))
            # when it calls the server
            try:
                client.test_connection()
            except DigitaleFactuurError as error:
                texts += [str(error), repr(error), error.url, error.detail,
                          "".join(traceback.format_exception(error))]
                # then no foreign exception travels with ours
                assert error.__cause__ is None and error.__context__ is None
    # then nothing that was logged or raised names the code
    assert any("urllib3" in record.name for record in debug_logs.records)
    texts += [record.getMessage() for record in debug_logs.records]
    assert_no_code(debug_logs.text, *texts)
    # but the requests really used it
    assert QUOTED_CODE in scripted.seen[0].path


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=400),
                      st.builds(lambda h, t: h + t,
                                st.sampled_from([b"<klanten><klant>", b"404", b"\xef\xbb\xbf<",
                                                 b"<klanten/>", b"429 x"]),
                                st.binary(max_size=100))),
       status=st.sampled_from([200, 200, 200, 201, 204, 400, 401, 404, 429, 500, 503, 302]))
def test_arbitrary_answers_raise_only_our_errors(scripted, body, status):
    """Any bytes with any status through a real server: a value or a DigitaleFactuurError."""
    # given a server answering these bytes
    scripted.respond = lambda handler, seen: answer(handler, body, status=status)
    # when the first page is read
    with make_client(scripted.base_url) as client:
        try:
            pages = client.iter_pages()
            next(pages, None)
        except DigitaleFactuurError:
            pass  # then only our own errors escape


def test_no_thread_is_left_behind(scripted):
    """After a cut-off trickle the client holds no reader thread of its own."""
    # given a client that just timed out on a trickle
    def trickle(handler, seen):
        handler.send_response(200)
        handler.end_headers()
        while not scripted.stopping.is_set():
            handler.wfile.write(b" ")
            time.sleep(0.05)
    scripted.respond = trickle
    before = threading.active_count()
    with make_client(scripted.base_url, total_timeout=0.5) as client:
        fails_quickly(client, Timeout, seconds=3)
    # then the reading happened in the calling thread (only the server's thread may remain)
    assert threading.active_count() <= before + 1


@pytest.mark.parametrize(("status", "body", "expected"), [
    (401, b"", AuthenticationFailed),
    (403, b"Forbidden", AccessNotActive),
    (404, b"<html>Not Found</html>", NotFound),
    (409, b"", Conflict),
    (422, b"", InvalidField),
    (429, b"", RateLimited),
    (500, b"", ServiceUnavailable),
    (502, b"<html>Bad Gateway</html>", ServiceUnavailable),
    (504, b"", ServiceUnavailable),
    (408, b"", Timeout),
    # a code no source lists: its class decides (4xx skips the record, 5xx is retried)
    (418, b"", InvalidField),
    (200, b"451 klant geblokkeerd", InvalidField),
    (200, b"503 onderhoud", ServiceUnavailable),
    (200, b"403 API staat uit", AccessNotActive),
    (500, b"401 onbekend account", AuthenticationFailed),
    (200, b"  422 btw_nummer ongeldig", InvalidField),
    (200, b"999 wat is dit", ProtocolError),
])
def test_http_statuses_and_error_bodies_map_to_the_same_errors(scripted, status, body, expected):
    """An `NNN` body decides whatever the status; without one, the HTTP status decides."""
    # given a server answering this status and body
    scripted.respond = lambda handler, seen: answer(handler, body, status=status)
    # when / then
    with make_client(scripted.base_url) as client:
        error = fails_quickly(client, expected)
    assert type(error) is expected


def test_a_retry_after_date_is_honoured_and_the_field_of_a_422_is_named(scripted, sleeper):
    """Retry-After as an HTTP date counts too; a 422 names the element it refuses."""
    # given a 429 with a date 30 s ahead, then a 422 about btw_nummer
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    answers = iter([(429, {"Retry-After": later}, b"429 rustig aan"),
                    (200, {}, b"422 Veld 'btw_nummer': ongeldig formaat")])
    def respond(handler, seen):
        status, headers, body = next(answers)
        answer(handler, body, status=status, headers=headers)
    scripted.respond = respond
    # when the first page is read with retries
    with make_client(scripted.base_url, max_attempts=3, sleep=sleeper) as client, \
            pytest.raises(InvalidField) as caught:
        list(client.iter_klanten())
    # then it waited about 30 s and the 422 names the field
    assert len(sleeper.slept) == 1 and 25 <= sleeper.slept[0] <= 31
    assert caught.value.field == "btw_nummer" and "'BTW nummer'" in caught.value.message


def test_a_server_that_ignores_the_page_ends_the_list_after_one_page(scripted):
    """The same klanten on page 2 as on page 1 (a service that does not page): the list ends
    there, each klant read once, instead of an endless loop or a failure."""
    # given a server that answers page 1 to every page
    page = b"<klanten><klant><id>1</id><naam>A</naam></klant></klanten>"
    scripted.respond = lambda handler, seen: answer(handler, page)
    # when
    listing = Listing()
    with make_client(scripted.base_url) as client:
        klanten = [k for slice_ in client.iter_pages(listing=listing) for k in slice_]
    # then
    assert [k.id for k in klanten] == ["1"]
    assert listing.ended_by_repeat
    assert len(scripted.seen) == 2


def test_pages_that_keep_repeating_what_was_read_are_refused(scripted):
    """One new klant per page among a hundred read before: the list does not end by itself,
    so the client stops it with a ProtocolError."""
    # given a server whose every page brings one new id and repeats 1..99
    repeats = b"".join(b"<klant><id>%d</id><naam>R</naam></klant>" % n for n in range(1, 100))

    def respond(handler, seen):
        page = int(seen.path.rsplit("page=", 1)[1])
        answer(handler, b"<klanten>" + repeats + b"<klant><id>%d</id><naam>N</naam></klant>"
               % (1000 + page) + b"</klanten>")
    scripted.respond = respond
    # when / then
    with make_client(scripted.base_url) as client:
        fails_quickly(client, ProtocolError)
    assert len(scripted.seen) == 3


def test_a_create_whose_connection_drops_after_sending_is_looked_up(scripted, sleeper):
    """The server stores the klant and hangs up: the lookup finds it; one POST, no duplicate."""
    # given a server that stores a create, then drops the connection without answering
    stored = []
    def respond(handler, seen):
        if seen.method == "POST":
            stored.append(b"<klant><id>77</id><relatienummer>1234</relatienummer>"
                          b"<naam>Eenmalig</naam></klant>")
            handler.connection.shutdown(2)
        else:
            answer(handler, b"<klanten>" + b"".join(stored) + b"</klanten>")
    scripted.respond = respond
    # when the klant is created
    with make_client(scripted.base_url, max_attempts=3, sleep=sleeper) as client:
        result = client.create(DfKlant(relatienummer="1234", naam="Eenmalig"))
    # then the answer is the stored klant, found by its number after one POST
    assert result.recovered and result.klant.id == "77"
    assert scripted.actions() == ["klant_aanmaken", "klanten"]
    assert "relatienummer=1234" in scripted.seen[1].path
    # and the form field `xml` carried a well-formed klant without id
    posted = urllib.parse.parse_qs(scripted.seen[0].body.decode())["xml"][0]
    assert "<relatienummer>1234</relatienummer>" in posted and "<id>" not in posted


def test_a_compression_bomb_counts_its_unpacked_size(scripted):
    """A small gzip body that unpacks past the limit is refused like any oversized body."""
    # given a server that gzips 30 MB of spaces into a few kilobytes, though we asked identity
    packed = gzip.compress(b"<klanten>" + b" " * (30 * 1024 * 1024) + b"</klanten>")
    scripted.respond = lambda handler, seen: answer(
        handler, packed, headers={"Content-Encoding": "gzip"})
    # when / then the unpacked size trips the 20 MB limit
    with make_client(scripted.base_url) as client:
        error = fails_quickly(client, ProtocolError)
    assert len(packed) < 100_000 and "bytes" in error.detail


def test_headers_trickled_byte_by_byte_are_cut_off_too(scripted):
    """The deadline covers the whole exchange: a status line and headers trickled forever."""
    # given a server that answers its headers one byte every 50 ms, endlessly
    def trickle_headers(handler, seen):
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Langzaam: ")
        while not scripted.stopping.is_set():
            handler.wfile.write(b"a")
            handler.wfile.flush()
            time.sleep(0.05)
    scripted.respond = trickle_headers
    # when the first page is read with a 1 s read timeout and a 1.5 s total deadline
    with make_client(scripted.base_url, total_timeout=1.5) as client:
        error = fails_quickly(client, Timeout, seconds=3)
    # then it is a Timeout, well before any read timed out
    assert error.action == "retry"


@pytest.mark.parametrize("location", ["http://[::1/api/10001/{code}/klanten",
                                      "http://\xff\xfe/api/10001/{code}/klanten",
                                      "/elders/{code}/klanten"])
def test_a_redirect_is_classified_without_its_body_and_its_traceback_holds_no_code(
        scripted, location):
    """requests would read a 3xx's body and parse its Location even with redirects off; the
    client does neither, and no traceback (locals included, as Django's DEBUG page shows them)
    of the error it raises holds the code."""
    from django.views.debug import ExceptionReporter

    # given a server redirecting to a Location that carries the code, then streaming 64 MB
    def redirect(handler, seen):
        handler.send_response(302)
        handler.send_header("Location", location.format(code=QUOTED_CODE))
        handler.send_header("Connection", "close")
        handler.end_headers()
        block = b"x" * (1024 * 1024)
        for _ in range(64):
            handler.wfile.write(block)
    scripted.respond = redirect
    # when the klanten are listed
    with make_client(scripted.base_url) as client:
        error = fails_quickly(client, Redirected, seconds=3)
    # then it is the redirect's error, and neither traceback nor DEBUG page shows the code
    assert error.code == 302 and error.action == "halt" and len(scripted.seen) == 1
    assert_no_code("".join(traceback.TracebackException.from_exception(
                       error, capture_locals=True).format()),
                   ExceptionReporter(None, type(error), error,
                                     error.__traceback__).get_traceback_html())
