"""Proof, redaction of echoed encodings: a server that echoes the access code back in its error
text, in whatever encoding, never gets it into the run's message, the log, or the client's errors.

Found by an independent probe (issue 15): only the exact code (and its upper-case percent
encoding) was removed; echoed percent-encoded in lower case, form-encoded, HTML- or
JSON-escaped, in another letter case or as latin-1 mojibake, it was stored verbatim.
"""

from __future__ import annotations

import html
import json
import logging
import os
import subprocess
import sys
from urllib.parse import quote, quote_plus, unquote

import pytest

from integration.connectors.models import SyncRun
from integration.digitalefactuur import sync
from integration.digitalefactuur.client import DigitaleFactuurClient
from integration.digitalefactuur.errors import AuthenticationFailed
from integration.digitalefactuur.redaction import redact_url, scrub
from tests.proofs.conftest import send

ACCESS_CODE = "Echo+Code/=x é'&<ÿ"

#: How a server may write back what it received (the code as it arrived, unquoted).
ECHOES = {
    "raw": lambda code: code,
    "percent-encoded": lambda code: quote(code, safe=""),
    "percent-encoded in lower case": lambda code: quote(code, safe="").lower(),
    "percent-encoded twice": lambda code: quote(quote(code, safe=""), safe=""),
    "form-encoded": quote_plus,
    "HTML-escaped": html.escape,
    "HTML numeric references": lambda code: "".join(f"&#{ord(c)};" for c in code),
    "JSON-escaped": lambda code: json.dumps(code)[1:-1],
    "upper case": str.upper,
    "latin-1 mojibake": lambda code: code.encode("utf-8").decode("latin-1"),
    "Windows-1252 mojibake": lambda code: code.encode("utf-8").decode("cp1252", "ignore"),
}


@pytest.fixture
def echoing(scripted_server):
    """echoing(echo) -> a server refusing every request with an API error whose text echoes
    the code from the path (/api/<account>/<code>/<action>, unquoted) as `echo` writes it."""

    def _start(echo):
        def respond(handler):
            received = unquote(handler.path.split("/")[3])
            body = f"401 Onbekende toegangscode '{echo(received)}' voor dit account"
            send(handler, body.encode("utf-8"))

        return scripted_server(respond)

    return _start


def assert_no_echo(where: str, text: str, echoed: str) -> None:
    assert echoed not in text and ACCESS_CODE not in text, f"the code is in {where}: {text!r}"


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", list(ECHOES))
def test_a_code_echoed_in_any_encoding_stays_out_of_the_run_and_the_log(echoing, connector,
                                                                        settings, caplog,
                                                                        encoding):
    # given a DigitaleFactuur that echoes the code in this encoding in its refusal
    caplog.set_level(logging.DEBUG)
    server = echoing(ECHOES[encoding])
    df = connector(push=False, access_code=ACCESS_CODE)
    settings.DIGITALEFACTUUR_BASE_URL = server.base_url
    echoed = ECHOES[encoding](ACCESS_CODE)

    # when a run is refused with that text
    run = sync.run(df.pk, "cli")

    # then the run says the credentials were refused; its technical detail holds the server's
    # text, without the code; neither holds it in any encoding
    assert run.status == SyncRun.Status.FAILED
    assert "Onbekende toegangscode '***'" in run.detail, run.detail
    stored = SyncRun.objects.get(pk=run.pk)
    assert_no_echo("the run's message", stored.message, echoed)
    assert_no_echo("the run's technical detail", stored.detail, echoed)
    for record in caplog.records:
        assert_no_echo(f"log record {record.name}", record.getMessage(), echoed)


@pytest.mark.parametrize("encoding", list(ECHOES))
def test_the_client_error_holds_no_echoed_code(echoing, encoding):
    # given the same server, and the client on its own
    server = echoing(ECHOES[encoding])
    echoed = ECHOES[encoding](ACCESS_CODE)

    # when the connection is tested
    with DigitaleFactuurClient(server.base_url, "10001", ACCESS_CODE, max_attempts=1) as client, \
            pytest.raises(AuthenticationFailed) as refused:
        client.test_connection()

    # then neither the error's text nor its detail holds the code
    error = refused.value
    assert error.detail == "Onbekende toegangscode '***' voor dit account"
    assert_no_echo("the error", f"{error} {error!r} {error.url}", echoed)


def test_scrub_finds_a_code_half_escaped_and_leaves_other_text_alone():
    # given a text with the code partly escaped, next to text that only resembles it
    text = "code=Echo%2BCode/=x%20&eacute;'&amp;&lt;\\u00ff; verder Echo+Code/=y"

    # when / then the code goes, the rest stays
    assert scrub(text, ACCESS_CODE) == "code=***; verder Echo+Code/=y"
    assert redact_url("http://h/api/10001/Echo%2BCode/klanten&page=1") == (
        "http://h/api/10001/***/klanten&page=1")


def test_urllib3s_loggers_are_filtered_once_the_app_is_loaded_not_by_importing_the_client():
    """The filter is the app's doing (`ready()`), in every process that loads Django: a web
    process that never imported the client is covered too."""
    # given a fresh process that loads Django and never imports the client
    probe = ("import django, logging; django.setup(); "
             "import sys; print(sorted({type(f).__name__ for f in "
             "logging.getLogger('urllib3.connectionpool').filters}), "
             "'integration.digitalefactuur.client' in sys.modules)")

    # when it looks at urllib3's logger
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           env={**os.environ, "DJANGO_SETTINGS_MODULE": "settings.settings"},
                           timeout=60)

    # then the redacting filter is on it
    assert shown.stdout.strip() == "['RedactingFilter'] False", shown.stderr[-2000:]
