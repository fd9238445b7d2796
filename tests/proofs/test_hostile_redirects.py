"""Proof, hostile redirects: DigitaleFactuur does not redirect, so a 3xx is an answer the
connector classifies on its status line and headers alone. Its body is never read (a 302 with
an endless body does not grow the process), a malformed `Location` is not parsed, and neither a
run nor "Koppeling testen" ever answers 500 or shows the access code, with DEBUG on.

Found by an independent probe (issue 15): requests reads the whole body of a 3xx that carries a
`Location` and parses that `Location` even with `allow_redirects=False`, while working out the
"next" request (`Session.send` -> `resolve_redirects(..., yield_requests=True)`).
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from integration.connectors.models import SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur import sync
from integration.digitalefactuur.models import DigitaleFactuurSettings
from tests.factories import UserFactory

ACCESS_CODE = "redirect-geheim+code/302"
CODE_FORMS = (ACCESS_CODE, quote(ACCESS_CODE, safe=""), quote(ACCESS_CODE))
#: What the hostile server sends after the headers of a 302 when the client keeps reading.
FLOOD_MEGABYTES = 200
BLOCK = b"x" * (1024 * 1024)


def assert_no_code(where: str, text: str) -> None:
    assert not any(form in text for form in CODE_FORMS), f"the access code is in {where}"


@pytest.fixture
def redirecting(settings, scripted_server):
    """redirecting(location, flood) -> a server that answers every request with a 302 to
    `location` ({path} is the request's path, code included), followed by `flood` MB of body
    (no Content-Length: read to the end, it only stops when the client hangs up; counted in
    `sent_megabytes`), DIGITALEFACTUUR_BASE_URL pointing at it."""

    def _start(location: str, flood: int = FLOOD_MEGABYTES):
        def respond(handler):
            handler.send_response(302)
            handler.send_header("Location", location.replace("{path}", handler.path))
            handler.send_header("Connection", "close")
            handler.end_headers()
            for _ in range(flood):
                handler.wfile.write(BLOCK)
                server.sent_megabytes += 1

        server = scripted_server(respond)
        server.sent_megabytes = 0
        settings.DIGITALEFACTUUR_BASE_URL = server.base_url
        settings.DIGITALEFACTUUR_READ_TIMEOUT = 2.0
        settings.DIGITALEFACTUUR_MAX_ATTEMPTS = 2
        return server

    return _start


@pytest.fixture
def redirected_connector(connector, redirecting):
    """redirected_connector(location, flood) -> the settings row, tested and on, of a connector
    whose DigitaleFactuur answers every request with that redirect."""

    def _configure(location: str, flood: int = FLOOD_MEGABYTES) -> DigitaleFactuurSettings:
        df = connector(push=False, access_code=ACCESS_CODE)
        redirecting(location, flood)
        return df

    return _configure


@pytest.fixture
def administrator(db, settings) -> Client:
    settings.DEBUG = True  # Django's technical 500 page, locals included, if anything escapes
    browser = Client(raise_request_exception=False)
    browser.force_login(UserFactory(is_superuser=True))
    return browser


@pytest.mark.django_db
def test_a_redirect_with_an_endless_body_is_refused_without_reading_the_body(
        redirected_connector, peak_rss):
    # given a server answering 302 followed by hundreds of megabytes
    df = redirected_connector("http://127.0.0.1:9/elders{path}")

    # when a run asks it for the klanten
    with peak_rss() as memory:
        run = sync.run(df.pk, "cli")

    # then the run stopped on the redirect, says the address may be wrong, and read no body
    assert run.status == SyncRun.Status.FAILED, run.message
    assert "ander adres" in run.message and "DIGITALEFACTUUR_BASE_URL" not in run.message
    assert "onverwachte fout" not in run.message
    assert memory.growth < 50 * 1024 * 1024, memory.growth
    assert not Relation.objects.exists()
    assert_no_code("the run's message", run.message)


@pytest.mark.django_db
@pytest.mark.parametrize("location", [
    "http://[::1/api{path}",  # an IPv6 literal never closed: urllib.parse raises ValueError
    "http://\xff\xfe/api{path}",  # bytes that are not UTF-8: requests' decoding raises
])
def test_a_malformed_location_ends_the_run_with_its_message_and_no_500(redirected_connector,
                                                                       administrator,
                                                                       location):
    # given a server redirecting to a Location no URL parser accepts, with the code in it
    df = redirected_connector(location, flood=1)

    # when a run meets it, and the administrator opens the run's page and the log
    run = sync.run(df.pk, "cli")
    pages = [reverse("connectors:run", args=["digitalefactuur", run.pk]),
             reverse("connectors:log", args=["digitalefactuur"])]
    answers = [administrator.get(url) for url in pages]

    # then the run ended with the redirect's message, not "onverwachte fout", and no page
    # failed or shows the code
    assert run.status == SyncRun.Status.FAILED
    assert "doorverwijzing" in run.message.lower() and "onverwachte fout" not in run.message
    assert_no_code("the run's message", run.message)
    for url, answer in zip(pages, answers, strict=True):
        assert answer.status_code == 200, url
        assert_no_code(url, answer.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize("location", ["http://[::1/api{path}", "http://127.0.0.1:9{path}"])
def test_koppeling_testen_against_a_redirect_explains_and_never_answers_500(redirecting,
                                                                            administrator,
                                                                            location, peak_rss):
    # given the settings screen, DEBUG on, DigitaleFactuur's address answering 302
    redirecting(location, flood=50)
    form = {"action": "test", "active": "on", "account_id": "10001", "access_code": ACCESS_CODE}

    # when the administrator presses "Koppeling testen"
    with peak_rss() as memory:
        answer = administrator.post(reverse("digitalefactuur:settings"), form, follow=True)

    # then the screen answers with the failed test, and shows no code
    page = answer.content.decode()
    assert answer.status_code == 200, page[:2000]
    assert_no_code("the settings screen", page)
    # (a failed test of typed credentials changes nothing stored: the screen says it)
    assert "ander adres" in page
    assert DigitaleFactuurSettings.load().last_test_ok is not True
    assert memory.growth < 50 * 1024 * 1024, memory.growth
