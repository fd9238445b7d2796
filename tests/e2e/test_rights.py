"""The manual's step A in a real browser: Rechten -> applicatie instellingen -> Digitale Factuur.

An administrator logs in through the login page, turns the block green with one click (no reload
with JavaScript, a plain form POST without), sees it in the audit trail, and only then opens a
page gated by the Digitale Factuur right. A user in the Users role can change nothing.
"""

import re

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import Page, expect

from integration.rights.catalogue import DIGITALE_FACTUUR, MANAGE_RIGHTS
from integration.rights.models import Right
from tests.factories import RoleFactory, UserFactory
from tests.rights.urls import GATED_TEXT

PASSWORD = "geheim-wachtwoord-1"  # UserFactory's
DIGITALE_FACTUUR_BLOCK = ("#categorie-application_settings "
                          "tr[data-right='rights.digitalefactuur'] .rights-block")

pytestmark = [pytest.mark.urls("tests.rights.urls"), pytest.mark.usefixtures("transactional_db")]


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page).to_have_url(re.compile(r"/admin/$"))


def open_rechten_for(page: Page, role_name: str) -> None:
    """The administrator's way: the admin index, Rechten, the role, applicatie instellingen."""
    page.locator("a[href='/admin/rights/right/']").first.click()
    expect(page).to_have_url(re.compile(r"/admin/rechten/"))
    page.get_by_role("link", name=role_name, exact=True).click()
    page.get_by_role("link", name="applicatie instellingen", exact=True).click()


def test_administrator_turns_digitale_factuur_green(page: Page, live_server):
    """One click, no reload: green, still green after a reload, in the trail, and the gate opens."""
    # given
    administrators = RoleFactory(name="Administrators", rights=[MANAGE_RIGHTS])
    administrator = UserFactory(username="beheerder-e2e", groups=[administrators])
    log_in(page, live_server.url, "beheerder-e2e")
    page.goto(f"{live_server.url}/test/gated-class/")
    expect(page.locator("#content-main")).to_contain_text("Digitale Factuur")
    expect(page.get_by_role("link", name="Naar de Rechten-pagina")).to_be_visible()
    page.goto(f"{live_server.url}/admin/")
    open_rechten_for(page, "Administrators")
    block = page.locator(DIGITALE_FACTUUR_BLOCK)
    expect(block).to_have_attribute("data-state", "unset")
    page.evaluate("window.stillTheSamePage = true")
    # when
    block.click()
    # then
    expect(block).to_have_attribute("data-state", "on")
    expect(block).to_have_text("aan")
    assert page.evaluate("window.stillTheSamePage === true"), "the click reloaded the page"
    audit = page.locator("#rights-audit")
    expect(audit).to_contain_text("Koppelingen - Financieel › Digitale Factuur")
    expect(audit).to_contain_text("beheerder-e2e")
    assert User.objects.get(pk=administrator.pk).has_perm(DIGITALE_FACTUUR)
    page.reload()
    expect(page.locator(DIGITALE_FACTUUR_BLOCK)).to_have_attribute("data-state", "on")
    expect(page.locator("#rights-audit .rights-change").first).to_contain_text("nooit ingesteld")
    page.goto(f"{live_server.url}/test/gated-class/")
    expect(page.locator("body")).to_have_text(GATED_TEXT)


def test_the_demo_administrator_walks_step_a_with_all_roles_side_by_side(page: Page, live_server,
                                                                         settings):
    """The demo as `make run` loads it: the first column (Administrators) turns green."""
    # given
    call_command("load_demo", verbosity=0)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/rechten/")
    page.fill("#id_username", settings.DEMO_USERNAME)
    page.fill("#id_password", settings.DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.get_by_role("link", name="applicatie instellingen", exact=True).click()
    blocks = page.locator(DIGITALE_FACTUUR_BLOCK)
    expect(blocks).to_have_count(2)  # Administrators, Users
    expect(blocks.nth(0)).to_have_attribute("data-state", "unset")
    # when
    blocks.nth(0).click()
    # then
    expect(blocks.nth(0)).to_have_attribute("data-state", "on")
    expect(blocks.nth(1)).to_have_attribute("data-state", "unset")
    expect(page.locator("#rights-audit")).to_contain_text(settings.DEMO_USERNAME)
    assert User.objects.get(username=settings.DEMO_USERNAME).has_perm(DIGITALE_FACTUUR)


def test_without_javascript_the_block_is_a_form_that_still_works(browser, live_server):
    """The same click without JavaScript posts the form and comes back to the same spot."""
    # given
    context = browser.new_context(java_script_enabled=False, locale="nl-NL")
    page = context.new_page()
    administrators = RoleFactory(name="Administrators", rights=[MANAGE_RIGHTS])
    UserFactory(username="beheerder-zonder-js", groups=[administrators])
    log_in(page, live_server.url, "beheerder-zonder-js")
    open_rechten_for(page, "Administrators")
    # when
    page.locator(DIGITALE_FACTUUR_BLOCK).click()
    # then
    right = Right.objects.get(permission__codename="digitalefactuur")
    expect(page).to_have_url(re.compile(rf"#recht-{right.pk}$"))
    expect(page.locator(DIGITALE_FACTUUR_BLOCK)).to_have_attribute("data-state", "on")
    expect(page.locator(".messagelist")).to_contain_text("staat nu aan voor Administrators")
    assert administrators.permissions.filter(codename="digitalefactuur").exists()
    context.close()


def test_a_user_in_users_cannot_change_anything(page: Page, live_server):
    """Blocks are labels, not buttons; a POST made by hand from the session gets 403."""
    # given
    users = RoleFactory(name="Users")
    UserFactory(username="medewerker", groups=[users])
    right = Right.objects.get(permission__codename="digitalefactuur")
    log_in(page, live_server.url, "medewerker")
    # when
    open_rechten_for(page, "Users")
    # then
    expect(page.locator("button.rights-block")).to_have_count(0)
    expect(page.locator(DIGITALE_FACTUUR_BLOCK)).to_have_attribute("data-state", "unset")
    expect(page.get_by_label("Nieuwe rol")).to_have_count(0)
    status = page.evaluate(
        """async ([role, right]) => {
            const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const body = new URLSearchParams({role, right, turn: "on",
                                              csrfmiddlewaretoken: token});
            const response = await fetch("/admin/rechten/wissel/", {method: "POST", body});
            return response.status;
        }""",
        [str(users.pk), str(right.pk)],
    )
    assert status == 403
    assert not users.permissions.exists()
