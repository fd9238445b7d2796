"""Facturen on the screens: the relation's section, the relation list, the PDF, and who sees them.

The invoices come from the sandbox through a real run; the pages through Django's test client.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from integration.crm.models import Relation
from integration.digitalefactuur import sync
from integration.digitalefactuur.invoice_models import Invoice
from integration.rights.catalogue import DIGITALE_FACTUUR
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db

RELATIONS_URL = "/admin/crm/relation/"


def pdf_url(invoice: Invoice) -> str:
    return f"/admin/koppelingen/digitalefactuur/facturen/{invoice.pk}/pdf/"


def day(offset: int) -> str:
    return (timezone.localdate() + timedelta(days=offset)).isoformat()


def user_with(*, relations: bool, digitale_factuur: bool, name: str):
    role = RoleFactory(rights=[DIGITALE_FACTUUR] if digitale_factuur else [])
    if relations:
        from django.contrib.auth.models import Permission

        role.permissions.add(Permission.objects.get(codename="view_relation"))
    return UserFactory(username=name, groups=[role])


@pytest.fixture
def invoices_read(tested_settings, df_sandbox):
    """Two debtors from DigitaleFactuur: one owing (overdue and not yet due), one up to date."""
    owing = df_sandbox.add_klant(relatienummer="1001", type="debiteur", naam="Bakkerij Korenaar")
    paying = df_sandbox.add_klant(relatienummer="1002", type="debiteur", naam="Slagerij Vos")
    line = [{"aantal": "2", "omschrijving": "Brood", "prijs": "50.00", "btw": "21"}]
    df_sandbox.add_factuur(owing["id"], regels=line, betaalstatus="openstaand",
                           factuurnummer_voorloop="F", factuurnummer="2026001",
                           factuurdatum="01-01-2020", vervaldatum=day(-45),
                           automatische_incasso="1")
    df_sandbox.add_factuur(owing["id"], regels=line, betaalstatus="openstaand",
                           factuurnummer_voorloop="F", factuurnummer="2026002",
                           factuurdatum=day(-3), vervaldatum=day(11))
    df_sandbox.add_factuur(paying["id"], regels=line, betaalstatus="betaald",
                           factuurnummer_voorloop="F", factuurnummer="2026003",
                           factuurdatum=day(-3), vervaldatum=day(11))
    df = tested_settings
    df.debtors_enabled = True
    df.show_open_invoices = True
    df.save()
    run = sync.run(df.pk, "cli")
    assert run.counts["facturen"]["gelezen"] == 2, run.message
    return df


def change_url(number: str) -> str:
    return f"{RELATIONS_URL}{Relation.objects.get(debtor_number=number).pk}/change/"


def test_the_relation_page_shows_open_invoices_total_and_ageing(invoices_read, client):
    # given
    client.force_login(user_with(relations=True, digitale_factuur=True, name="kijker"))

    # when
    page = client.get(change_url("1001")).content.decode()

    # then
    assert 'id="df-invoices"' in page
    assert "F2026001" in page and "F2026002" in page
    assert "€ 242,00" in page  # 2 x 2 x 50.00 x 1.21, computed
    assert "berekend" in page
    assert 'data-bucket="31_60">€ 121,00' in page
    assert 'data-bucket="not_due">€ 121,00' in page
    assert "gelezen op" in page
    assert ">45<" in page  # days overdue


def test_a_relation_without_open_invoices_says_so(invoices_read, client):
    # given
    client.force_login(user_with(relations=True, digitale_factuur=True, name="kijker"))

    # when
    page = client.get(change_url("1002")).content.decode()

    # then
    assert "Geen openstaande facturen." in page


def test_without_the_digitale_factuur_right_the_relation_page_has_no_invoices(invoices_read,
                                                                             client):
    # given
    client.force_login(user_with(relations=True, digitale_factuur=False, name="verkoper"))

    # when
    answer = client.get(change_url("1001"))
    listing = client.get(RELATIONS_URL).content.decode()

    # then
    assert answer.status_code == 200
    assert "df-invoices" not in answer.content.decode()
    assert "achterstallige" not in listing and "Openstaand" not in listing


def test_the_pdf_opens_through_our_server_without_the_access_code(invoices_read, df_sandbox,
                                                                  client):
    # given
    client.force_login(user_with(relations=True, digitale_factuur=True, name="kijker"))
    invoice = Invoice.objects.get(number="F2026001")

    # when
    answer = client.get(pdf_url(invoice))

    # then
    body = b"".join(answer.streaming_content)
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    assert body.startswith(b"%PDF-") and b"F2026001" in body
    assert df_sandbox.access_code not in pdf_url(invoice)
    assert df_sandbox.access_code.encode() not in body


@pytest.mark.parametrize("relations, digitale_factuur", [(False, True), (True, False)])
def test_the_pdf_needs_both_rights(invoices_read, client, relations, digitale_factuur):
    # given
    client.force_login(user_with(relations=relations, digitale_factuur=digitale_factuur,
                                 name="half"))

    # when
    answer = client.get(pdf_url(Invoice.objects.get(number="F2026001")))

    # then
    assert answer.status_code == 403
    assert "Geen toegang" in answer.content.decode()


def test_a_pdf_that_cannot_be_fetched_says_so(invoices_read, df_sandbox, client):
    # given
    client.force_login(user_with(relations=True, digitale_factuur=True, name="kijker"))
    df_sandbox.fail_next("factuur_download", "error", count=10)

    # when
    answer = client.get(pdf_url(Invoice.objects.get(number="F2026001")))

    # then
    assert answer.status_code == 502
    assert "kon niet uit Digitale Factuur worden gehaald" in answer.content.decode()


def test_the_relation_list_shows_the_open_amount_and_filters_the_overdue(invoices_read, client):
    # given
    client.force_login(user_with(relations=True, digitale_factuur=True, name="kijker"))

    # when
    everyone = client.get(RELATIONS_URL).content.decode()
    overdue = client.get(RELATIONS_URL, {"df_facturen": "achterstallig"})

    # then
    assert "Openstaand (berekend)" in everyone and "€ 242,00" in everyone
    assert "met achterstallige facturen" in everyone
    shown = [r.pk for r in overdue.context["cl"].result_list]
    assert shown == [Relation.objects.get(debtor_number="1001").pk]


def test_a_failed_read_shows_not_updated_since(invoices_read, df_sandbox, client):
    # given
    client.force_login(user_with(relations=True, digitale_factuur=True, name="kijker"))
    df_sandbox.fail_next("facturen", "error", count=10)
    sync.run(invoices_read.pk, "cli")

    # when
    page = client.get(change_url("1001")).content.decode()

    # then
    assert "Niet bijgewerkt sinds" in page
    assert "F2026001" in page  # the last good read is still shown


def test_the_log_the_run_and_the_koppelingen_tile_count_the_invoices(invoices_read, client):
    # given
    client.force_login(user_with(relations=True, digitale_factuur=True, name="kijker"))
    from integration.connectors.models import SyncRun

    run = SyncRun.objects.latest("queued_at")

    # when
    log = client.get("/admin/koppelingen/digitalefactuur/logboek/").content.decode()
    run_page = client.get(f"/admin/koppelingen/digitalefactuur/logboek/{run.pk}/")
    tiles = client.get("/admin/koppelingen/").content.decode()

    # then
    assert 'data-counts="facturen"' in log and "2 gelezen" in log and "2 nieuw" in log
    assert 'data-counts="facturen"' in run_page.content.decode()
    assert "Facturen: 2 openstaand gelezen, 2 gewijzigd, 0 betaald" in tiles
