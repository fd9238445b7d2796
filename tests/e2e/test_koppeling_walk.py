"""The manual's steps A (second half) and B in a real browser, against the sandbox.

The demo administrator switches the Digitale Factuur right on (Rechten), opens Koppelingen and
DigitaleFactuur, activates the connector, fills in the sandbox's account id and code, presses
"Koppeling testen", sees the options unlock, chooses them and saves.
"""

import re

from playwright.sync_api import Page, expect

from integration.digitalefactuur.models import DigitaleFactuurSettings
from tests.sandbox_fixture import sandbox, sandbox_server  # noqa: F401

DIGITALE_FACTUUR_BLOCK = ("#categorie-application_settings "
                          "tr[data-right='rights.digitalefactuur'] .rights-block")


def switch_digitale_factuur_on(page: Page) -> None:
    """Step A.1-4: Rechten -> Administrators -> applicatie instellingen -> the block green."""
    page.locator("a[href='/admin/rights/right/']").first.click()
    expect(page).to_have_url(re.compile(r"/admin/rechten/"))
    page.get_by_role("link", name="Administrators", exact=True).click()
    page.get_by_role("link", name="applicatie instellingen", exact=True).click()
    block = page.locator(DIGITALE_FACTUUR_BLOCK)
    block.click()
    expect(block).to_have_attribute("data-state", "on")


def test_seed_walk_from_right_to_options(logged_in_page: Page, live_server, sandbox,  # noqa: F811
                                         settings):
    """Right on, Koppelingen, DigitaleFactuur, activate, fill in, test, choose options, save."""
    # given the demo, the connector unconfigured, DigitaleFactuur being the sandbox
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    page = logged_in_page
    switch_digitale_factuur_on(page)

    # when the administrator opens Koppelingen from the admin and then DigitaleFactuur
    page.goto(f"{live_server.url}/admin/")
    page.locator("a[href='/admin/connectors/koppelingen/']").first.click()
    expect(page).to_have_url(re.compile(r"/admin/koppelingen/$"))
    expect(page.locator("li.connector-tile")).to_have_count(8)
    expect(page.locator("#koppeling-digitalefactuur")).to_contain_text("Niet actief")
    page.locator("#koppeling-digitalefactuur").get_by_role("link", name="DigitaleFactuur").click()

    # then the options are visible but disabled, with the reason
    expect(page.locator("h1")).to_contain_text("DigitaleFactuur koppeling")
    expect(page.locator("#id_debtors_enabled")).to_be_disabled()
    expect(page.locator("#df-lock-reason")).to_be_visible()

    # when activating, filling in the credentials and testing
    page.get_by_label("Koppeling activeren").check()
    page.get_by_label("Account-id").fill(sandbox.account_id)
    page.get_by_label("Toegangscode").fill(sandbox.access_code)
    page.get_by_role("button", name="Koppeling testen").click()

    # then the success message, the last test, and the options unlocked
    expect(page.locator("ul.messagelist")).to_contain_text("De koppeling werkt")
    expect(page.locator("#df-last-contact")).to_contain_text("geslaagd")
    expect(page.locator("#df-code-help")).to_contain_text("Er is een toegangscode opgeslagen")
    expect(page.get_by_label("Toegangscode")).to_have_value("")
    expect(page.locator("#id_debtors_enabled")).to_be_enabled()
    assert sandbox.access_code not in page.content()

    # when choosing the options of the seed's screenshot and saving
    page.locator("#id_debtors_enabled").check()
    page.locator("#df-debtors").get_by_label("Persoon").check()
    page.locator("#id_debtor_relation_type").select_option(label="Te beoordelen")
    page.locator("#id_creditors_enabled").check()
    page.locator("#id_push_enabled").check()
    page.locator("#id_interval_minutes").select_option(label="elke 2 uur")
    page.get_by_role("button", name="Opslaan", exact=True).click()

    # then they are saved and the connector shows as active
    expect(page.locator("ul.messagelist")).to_contain_text("zijn opgeslagen")
    df = DigitaleFactuurSettings.load()
    assert df.active and df.options_unlocked
    assert (df.debtors_enabled, df.debtors_kind, df.debtor_relation_type.name) == (
        True, "person", "Te beoordelen")
    assert df.creditors_enabled and df.creditor_relation_type.name == "Leverancier"
    assert df.push_enabled and df.interval_minutes == 120
    page.locator(".breadcrumbs").get_by_role("link", name="Koppelingen").click()
    expect(page.locator("#koppeling-digitalefactuur")).to_contain_text("Actief")
