"""Facturen in a real browser: the administrator finds who owes, opens the relation, the PDF."""

import pytest
from playwright.sync_api import Page, expect

from integration.digitalefactuur import sync
from integration.digitalefactuur.invoice_models import Invoice
from tests.e2e.test_run_and_log import configure, grant_digitale_factuur
from tests.sandbox_fixture import sandbox, sandbox_server  # noqa: F401


@pytest.mark.slow
def test_the_administrator_finds_overdue_relations_and_opens_an_invoice(
        logged_in_page: Page, live_server, sandbox, settings):  # noqa: F811
    # given the demo, DigitaleFactuur's klanten with their invoices, and a run with Facturen on
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    grant_digitale_factuur()
    sandbox.seed(12, facturen=True)
    df = configure(sandbox, push=False)
    df.show_open_invoices = True
    df.save()
    run = sync.run(df.pk, "cli")
    assert run.counts["facturen"]["gelezen"] > 0, run.message
    owing = Invoice.objects.filter(status=Invoice.Status.OPEN, amount__gt=0,
                                   due_date__isnull=False).order_by("due_date").first()
    page = logged_in_page

    # when the administrator filters the relations on overdue invoices
    page.goto(f"{live_server.url}/admin/crm/relation/")
    page.get_by_role("link", name="met achterstallige facturen").click()

    # then only relations that owe are listed, with their open amount
    rows = page.locator("#result_list tbody tr")
    expect(rows.first).to_be_visible()
    names = rows.locator("th a").all_inner_texts()
    assert str(owing.relation) in names
    expect(page.locator("#result_list thead")).to_contain_text("Openstaand (berekend)")

    # when they open that relation
    page.get_by_role("link", name=str(owing.relation), exact=True).first.click()

    # then its Facturen section lists the invoice, overdue, with the total and the ageing
    section = page.locator("#df-invoices")
    expect(section).to_contain_text(owing.number)
    expect(section.locator(f'tr[data-invoice="{owing.number}"]')).to_have_class(
        "df-invoice df-overdue")
    expect(section.locator("#df-invoices-total")).to_contain_text("€")
    expect(section.locator("#df-ageing")).to_contain_text("61-90 dagen")
    expect(section.locator("#df-invoices-read")).to_contain_text("gelezen op")

    # and the PDF opens through the CRM, with the browser's own session
    link = section.locator(f'tr[data-invoice="{owing.number}"] a')
    href = link.get_attribute("href")
    assert sandbox.access_code not in href and href.startswith("/admin/")
    with page.expect_popup() as popup:
        link.click()
    popup.value.close()
    answer = page.context.request.get(f"{live_server.url}{href}")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.body().startswith(b"%PDF-")
