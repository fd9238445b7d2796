"""Living with the connector after the first run, in a real browser (issue 17).

A typo while testing does not switch a working connector off; the screen and the tile show the
connector's health rather than an old test; navigation names each page once and the API help
opens beside the form.
"""

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from integration.digitalefactuur.models import DigitaleFactuurSettings
from tests.e2e.test_run_and_log import configure, grant_digitale_factuur
from tests.factories import SyncRunFactory
from tests.sandbox_fixture import sandbox, sandbox_server  # noqa: F401

SETTINGS_PATH = "/admin/koppelingen/digitalefactuur/"


def test_a_typo_while_testing_keeps_the_working_connector(logged_in_page: Page, live_server,
                                                          sandbox, settings):  # noqa: F811
    # given a working connector, tested, with its options and schedule
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    grant_digitale_factuur()
    configure(sandbox)
    page = logged_in_page
    page.goto(f"{live_server.url}{SETTINGS_PATH}")

    # when the administrator mistypes the account id and the code, then tests
    page.get_by_label("Account-id").fill("10009")
    page.get_by_label("Toegangscode").fill("typfout")
    page.get_by_role("button", name="Koppeling testen").click()

    # then the failure is explained, with the promise that nothing changed
    expect(page.locator("ul.messagelist")).to_contain_text("Account-id of toegangscode onjuist")
    expect(page.locator("ul.messagelist")).to_contain_text("Er is niets gewijzigd")
    # and the typed account id is still in the form, the options and the run stay available
    expect(page.get_by_label("Account-id")).to_have_value("10009")
    expect(page.locator("#id_debtors_enabled")).to_be_enabled()
    expect(page.locator("#df-run-button")).to_be_enabled()
    expect(page.locator("#df-run")).not_to_contain_text("nog niet (opnieuw) getest")
    df = DigitaleFactuurSettings.load()
    assert (df.account_id, df.access_code) == (sandbox.account_id, sandbox.access_code)
    assert df.options_unlocked


def test_the_screen_and_the_tile_show_health_not_an_old_test(logged_in_page: Page, live_server,
                                                            sandbox, settings):  # noqa: F811
    # given a test that failed yesterday and a scheduled run that succeeded since
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    grant_digitale_factuur()
    df = configure(sandbox)
    df.record_test(False, "DigitaleFactuur is niet bereikbaar.",
                   timezone.now() - timedelta(days=1))
    df.save()
    SyncRunFactory(status="geslaagd", started_at=timezone.now() - timedelta(minutes=10))
    page = logged_in_page

    # when the administrator opens Koppelingen
    page.goto(f"{live_server.url}/admin/koppelingen/")

    # then the tile shows the last contact succeeded, in the "ok" colour
    tile = page.locator("#koppeling-digitalefactuur .connector-health")
    expect(tile).to_have_attribute("data-health", "ok")
    expect(tile).to_contain_text("geslaagd")

    # when opening the settings screen
    page.locator("#koppeling-digitalefactuur").get_by_role("link",
                                                           name="DigitaleFactuur").click()

    # then the last contact is the run, the next run is planned, no stale "mislukt"
    expect(page.locator("#df-last-contact")).to_contain_text("geslaagd")
    expect(page.locator("#df-last-contact")).not_to_contain_text("mislukt")
    expect(page.locator("#df-next-run")).not_to_contain_text("geen")
    expect(page.locator("#df-failed-relations")).to_have_text("0")


def test_navigation_names_each_page_once(logged_in_page: Page, live_server, sandbox,  # noqa: F811
                                         settings):
    # given the demo administrator with the Digitale Factuur right
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    grant_digitale_factuur()
    page = logged_in_page

    # when the administrator opens the admin's home
    page.goto(f"{live_server.url}/admin/")

    # then it has one Koppelingen entry and no separate DigitaleFactuur one
    content = page.locator("#content-main")
    expect(content.locator("a[href='/admin/digitalefactuur/digitalefactuursettings/']")) \
        .to_have_count(0)
    expect(content.get_by_role("link", name="Koppelingen", exact=True)).to_have_count(2)

    # when clicking the KOPPELINGEN heading
    content.locator("a[href='/admin/connectors/']").click()
    # then the tiles open, not a page with one link
    expect(page).to_have_url(re.compile(r"/admin/koppelingen/$"))
    expect(page.locator("li.connector-tile")).to_have_count(8)

    # when opening a relation
    page.goto(f"{live_server.url}/admin/crm/relation/")
    page.locator("#result_list tbody tr th a").first.click()
    # then its breadcrumb names each page once
    crumbs = page.locator(".breadcrumbs").inner_text()
    assert crumbs.count("Relaties") == 1, crumbs


def test_the_api_help_folds_open_beside_the_form_and_keeps_what_was_typed(
        logged_in_page: Page, live_server, sandbox, settings):  # noqa: F811
    # given the settings screen with an account id typed
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    grant_digitale_factuur()
    page = logged_in_page
    page.goto(f"{live_server.url}{SETTINGS_PATH}")
    page.get_by_label("Account-id").fill("10001")

    # when the administrator clicks "Waar kan ik mijn API-gegevens vinden?"
    page.get_by_text("Waar kan ik mijn API-gegevens vinden?").click()

    # then the four steps fold open beside the form, which still holds the typed value
    expect(page.locator("#df-api-help ol.df-steps li")).to_have_count(4)
    expect(page.locator("#df-api-help ol.df-steps")).to_be_visible()
    expect(page.get_by_label("Account-id")).to_have_value("10001")
    # and the full page is offered in a tab of its own, without access to this one
    full = page.get_by_role("link", name="Uitleg in een nieuw tabblad openen")
    assert full.get_attribute("target") == "_blank"
    assert "noopener" in full.get_attribute("rel")


def test_the_demo_administrator_manages_users(logged_in_page: Page, live_server):
    """Gebruikers: add a user in a role, change them, deactivate them; a member of Users
    cannot open the page and is told which right is missing."""
    from django.contrib.auth.models import User

    page = logged_in_page

    # when the demo administrator opens Gebruikers from the admin's home
    page.locator("#content-main a[href='/admin/auth/user/']").first.click()
    expect(page).to_have_url(re.compile(r"/admin/auth/user/$"))

    # and adds a user in the role Users
    page.locator("a[href='/admin/auth/user/add/']").first.click()
    page.get_by_label("Gebruikersnaam").fill("anneke")
    page.locator("#id_password1").fill("Zomer-wandeling-42")
    page.locator("#id_password2").fill("Zomer-wandeling-42")
    page.locator("#id_email").fill("anneke@example.nl")
    page.locator("#id_groups_from").select_option(label="Users")
    page.locator("#id_groups_add").click()
    page.locator("input[name='_save']").click()

    # then she exists, in Users
    expect(page.locator("ul.messagelist")).to_contain_text("anneke")
    anneke = User.objects.get(username="anneke")
    assert [role.name for role in anneke.groups.all()] == ["Users"] and anneke.is_staff

    # when the administrator deactivates her
    page.goto(f"{live_server.url}/admin/auth/user/{anneke.pk}/change/")
    page.get_by_label("Actief").uncheck()
    page.locator("input[name='_save']").click()
    expect(page.locator("ul.messagelist")).to_be_visible()
    anneke.refresh_from_db()
    assert not anneke.is_active

    # given a member of Users who is active
    User.objects.filter(pk=anneke.pk).update(is_active=True)
    page.get_by_role("button", name=re.compile("Afmelden|Uitloggen")).click()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "anneke")
    page.fill("#id_password", "Zomer-wandeling-42")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    # then Gebruikers is not offered, and the page explains the missing right
    expect(page.locator("#content-main a[href='/admin/auth/user/']")).to_have_count(0)
    page.goto(f"{live_server.url}/admin/auth/user/add/")
    expect(page.locator("#content")).to_contain_text("Geen toegang")
    expect(page.locator("#content")).to_contain_text("Gebruikers")


def test_unsaved_options_are_offered_to_be_saved_before_the_run(logged_in_page: Page,
                                                                live_server, sandbox,  # noqa: F811
                                                                settings):
    # given a working connector that exports (Bijwerken on)
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    grant_digitale_factuur()
    configure(sandbox)
    page = logged_in_page
    page.goto(f"{live_server.url}{SETTINGS_PATH}")
    expect(page.locator("#df-run-button")).to_be_visible()

    # when the administrator unticks Bijwerken without saving
    page.locator("#id_push_enabled").uncheck()

    # then "Koppeling uitvoeren" gives way to "Opslaan en uitvoeren"
    expect(page.locator("#df-run-button")).to_be_hidden()
    expect(page.locator("#df-unsaved")).to_contain_text("nog niet zijn opgeslagen")

    # when clicking "Opslaan en uitvoeren"
    page.get_by_role("button", name="Opslaan en uitvoeren").click()

    # then the change is saved and the run's page opens
    expect(page).to_have_url(re.compile(r"/logboek/\d+/"))
    assert DigitaleFactuurSettings.load().push_enabled is False


def test_without_javascript_the_server_refuses_a_run_with_unsaved_options(
        browser, live_server, demo, sandbox, settings):  # noqa: F811
    from integration.connectors.models import SyncRun

    # given a working connector that exports, and a browser without JavaScript
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    grant_digitale_factuur()
    configure(sandbox)
    context = browser.new_context(java_script_enabled=False, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/admin/login/?next={SETTINGS_PATH}")
    page.fill("#id_username", settings.DEMO_USERNAME)
    page.fill("#id_password", settings.DEMO_PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#df-run-button")).to_be_visible()

    # when unticking Bijwerken and clicking "Koppeling uitvoeren" without saving
    page.locator("#id_push_enabled").uncheck()
    page.locator("#df-run-button").click()

    # then no run starts; the page says why, keeps the change and offers to save and run
    expect(page.locator("ul.messagelist")).to_contain_text("nog niet zijn opgeslagen")
    expect(page.locator("#id_push_enabled")).not_to_be_checked()
    expect(page.get_by_role("button", name="Opslaan en uitvoeren")).to_be_visible()
    assert not SyncRun.objects.exists()
    assert DigitaleFactuurSettings.load().push_enabled is True
    context.close()
