"""Proof 6, hostile input: at the engine level, a run against a hostile server ends "mislukt" with
a Dutch message within its time bound, in bounded memory, without half-written data; generated
bodies never crash a run; the forms refuse what they must with a Dutch message.

The client's own behaviour per hostile answer is proved in tests/digitalefactuur/
test_client_hostile.py; here the same answers go through a whole sync run.
"""

from __future__ import annotations

import contextlib
import time
import tracemalloc

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integration.connectors.models import SyncEvent, SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur import sync
from integration.digitalefactuur.links import DfLink
from integration.digitalefactuur.schema import SchemaError, parse_klant, parse_klanten
from tests.factories import RoleFactory, UserFactory
from tests.proofs.conftest import send

GOOD_PAGE = (b"<klanten><klant><id>1</id><relatienummer>1001</relatienummer>"
             b"<type>debiteur</type><naam>Eerste &amp; Co</naam></klant></klanten>")
ENDLESS = object()
HOSTILE = {
    "external entity": b'<?xml version="1.0"?><!DOCTYPE k [<!ENTITY x SYSTEM '
                       b'"file:///etc/passwd">]><klanten><klant><naam>&x;</naam></klant>'
                       b"</klanten>",
    "entity expansion": b'<?xml version="1.0"?><!DOCTYPE k [<!ENTITY a0 "ha">'
                        + b"".join(b'<!ENTITY a%d "%s">' % (n, b"&a%d;" % (n - 1) * 10)
                                   for n in range(1, 10))
                        + b"]><klanten><klant><naam>&a9;</naam></klant></klanten>",
    "a DTD": b'<?xml version="1.0"?><!DOCTYPE klanten SYSTEM "http://example.invalid/k.dtd">'
             b"<klanten><klant><id>9</id></klant></klanten>",
    "50 MB body": b"<klanten>" + b"<klant><naam>" + b"x" * (50 * 1024 * 1024) + b"</naam></klant>",
    "invalid UTF-8": b"<klanten><klant><id>1</id><naam>\xff\xfe\xc3\x28</naam></klant></klanten>",
    "endless slow response": ENDLESS,
}


@pytest.fixture
def hostile(connector, settings, scripted_server):
    """A DigitaleFactuur answering page 1 with a good page (so a half write would show) and
    page 2 with `server.body`, set by the test; with the connector set up against it."""
    def respond(handler):
        body = GOOD_PAGE if "page=1" in handler.path else server.body
        if body is not ENDLESS:
            send(handler, body)
            return
        handler.send_response(200)
        handler.end_headers()
        for _ in range(600):
            handler.wfile.write(b"<")
            handler.wfile.flush()
            time.sleep(0.1)

    server = scripted_server(respond)
    server.body = b""
    df = connector(push=False)
    settings.DIGITALEFACTUUR_BASE_URL = server.base_url
    settings.DIGITALEFACTUUR_READ_TIMEOUT = 1.0
    settings.DIGITALEFACTUUR_MAX_ATTEMPTS = 1
    return server, df


#: The client's total deadline (connect + 2 x read) plus room for the run's own work.
TIME_BOUND_SECONDS = 2.0 + 2 * 1.0 + 3.0


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_run_against_a_hostile_server_ends_mislukt_in_dutch_in_time_and_writes_no_half_page(
        hostile, kind):
    # given
    server, df = hostile
    server.body = HOSTILE[kind]

    # when
    tracemalloc.start()
    started = time.monotonic()
    run = sync.run(df.pk, "cli")
    seconds = time.monotonic() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # then
    assert run.status == SyncRun.Status.FAILED, (run.status, run.message)
    assert "DigitaleFactuur" in run.message and seconds < TIME_BOUND_SECONDS, (run.message,
                                                                              seconds)
    assert peak < 40 * 1024 * 1024, peak  # the client's 20 MB answer limit, plus the run
    # The good first page was written whole; nothing of the hostile page was.
    assert list(Relation.objects.values_list("debtor_number", flat=True)) == ["1001"]
    assert list(DfLink.objects.values_list("df_id", flat=True)) == ["1"]


klant_xml = st.builds(
    lambda fields: b"<klant>" + b"".join(b"<%s>%s</%s>" % (n, v, n) for n, v in fields)
    + b"</klant>",
    st.lists(st.tuples(st.sampled_from([b"id", b"relatienummer", b"type", b"naam", b"email",
                                        b"land", b"iban", b"onbekend"]),
                       st.binary(max_size=30)), max_size=8))
bodies = st.one_of(
    st.binary(max_size=400),
    st.builds(lambda ks: b"<klanten>" + b"".join(ks) + b"</klanten>",
              st.lists(klant_xml, max_size=4)),
    st.builds(lambda code, text: b"%d %s" % (code, text), st.integers(0, 999),
              st.binary(max_size=40)),
)


@settings(max_examples=2000, deadline=None)
@given(body=bodies)
def test_any_body_parses_to_klanten_or_a_schema_error(body):
    """The parser level, thousands of bodies: a list of klanten, or SchemaError, nothing else."""
    for parse in (parse_klanten, parse_klant):
        with contextlib.suppress(SchemaError):
            parse(body)


@pytest.mark.django_db
@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=bodies)
def test_a_run_always_ends_with_a_status_whatever_the_server_answers(hostile, body):
    """A few hundred generated answers through real runs: never an uncaught exception."""
    # given
    server, df = hostile
    server.body = body

    # when
    run = sync.run(df.pk, "cli")

    # then
    assert run.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.WITH_ERRORS,
                          SyncRun.Status.FAILED), run.status
    assert not SyncRun.objects.filter(status__in=SyncRun.OPEN_STATUSES).exists()
    if run.status == SyncRun.Status.FAILED:
        assert run.message and "onverwachte fout" not in run.message, run.message
    assert all(event.message or event.action != "fout" for event in
               SyncEvent.objects.filter(run=run))


@pytest.fixture
def administrator(db):
    from integration.rights.catalogue import DIGITALE_FACTUUR

    browser = Client()
    browser.force_login(UserFactory(is_superuser=True,
                                    groups=[RoleFactory(rights=[DIGITALE_FACTUUR])]))
    return browser


@pytest.mark.django_db
@pytest.mark.parametrize("account_id, expected", [
    ("12a45", "Account-id"), ("1" * 500, "Account-id"), ("10\x0001", "Account-id"),
    ("10\n01", "Account-id"),
])
def test_the_settings_form_refuses_a_malformed_account_id_in_dutch(administrator, account_id,
                                                                   expected):
    # when
    answer = administrator.post(reverse("digitalefactuur:settings"),
                                {"active": "on", "account_id": account_id,
                                 "access_code": "code-1234"})

    # then
    page = answer.content.decode()
    assert answer.status_code == 200 and "Niet opgeslagen" in page and expected in page
    from integration.digitalefactuur.models import DigitaleFactuurSettings
    assert DigitaleFactuurSettings.load().account_id == ""


@pytest.mark.django_db
def test_the_settings_form_refuses_a_huge_access_code_in_dutch(administrator):
    answer = administrator.post(reverse("digitalefactuur:settings"),
                                {"active": "on", "account_id": "10001",
                                 "access_code": "x" * 5000})
    page = answer.content.decode()
    assert answer.status_code == 200 and "Niet opgeslagen" in page and "x" * 5000 not in page


@pytest.mark.django_db
@pytest.mark.parametrize("field, value", [
    ("iban", "NL00 GEEN 0000 0000 00"), ("email", "geen-adres"), ("organisation_name", "x" * 5000),
    ("debtor_number", "12ab"), ("organisation_name", "Bakkerij\x00\x07"),
    ("organisation_name", "Ctl\x01\x02\x1b[31mRed"), ("invoice_city", "Lei\x85den"),
    ("phone", "071\t5123456"), ("surname_prefix", "van\x7f"), ("coc_number", "1234\x9b5678"),
    ("debtor_number", "١٢٣٤٥"),
])
def test_the_relation_form_refuses_what_it_must_in_dutch(administrator, field, value):
    # given
    data = {"kind": "organisation", "organisation_name": "Bakkerij de Proef", field: value}

    # when
    answer = administrator.post(reverse("admin:crm_relation_add"), data)

    # then
    page = answer.content.decode()
    assert answer.status_code == 200, answer.status_code
    assert "errorlist" in page and "Corrigeer" in page  # the admin's Dutch error note
    if "\x00" not in value and any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
        assert "besturingstekens" in page  # NUL has Django's own message
    assert not Relation.objects.exists()


@pytest.mark.django_db
def test_the_relation_form_saves_the_same_relation_without_the_bad_value(administrator):
    """The refusals above are the bad value's doing, not a form that refuses everything."""
    answer = administrator.post(reverse("admin:crm_relation_add"),
                                {"kind": "organisation", "organisation_name": "Bakkerij"})
    assert answer.status_code == 302 and Relation.objects.count() == 1


@pytest.mark.django_db
def test_a_10_mb_post_is_refused_before_any_form_sees_it(administrator):
    answer = administrator.post(reverse("admin:crm_relation_add"),
                                {"kind": "organisation", "organisation_name": "x" * (10 << 20)})
    assert answer.status_code == 400
    assert not Relation.objects.exists()
