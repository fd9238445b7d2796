"""Bijwerken's scope in a real browser: an administrator keeps Suspects out of DigitaleFactuur."""

import pytest
from playwright.sync_api import Page, expect

from integration.crm.models import Relation
from integration.digitalefactuur.models import DigitaleFactuurSettings
from tests.e2e.test_run_and_log import SETTINGS_PATH, configure, grant_digitale_factuur
from tests.sandbox_fixture import sandbox, sandbox_server  # noqa: F401
from tests.worker_fixture import start_worker  # noqa: F401


@pytest.mark.slow
def test_only_the_chosen_relation_types_reach_digitalefactuur(
        logged_in_page: Page, live_server, sandbox, settings, start_worker):  # noqa: F811
    # given the demo with one of its Suspects given a Debiteurnummer, the connector tested
    # with Bijwerken on, and a worker
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    grant_digitale_factuur()
    configure(sandbox)
    start_worker(sandbox.base_url)
    page = logged_in_page
    suspect = Relation.objects.filter(relation_type__name="Suspect").first()
    Relation.objects.filter(pk=suspect.pk).update(debtor_number="1999")
    suspects = {"1999"}

    # when the administrator ticks every type but Suspect, saves, and runs
    page.goto(f"{live_server.url}{SETTINGS_PATH}")
    scope = page.locator("#df-push-scope")
    for label in scope.locator("label").all():
        if label.locator("input").count() and label.inner_text().strip() != "Suspect":
            label.locator("input").check()
    page.get_by_role("button", name="Opslaan", exact=True).click()
    expect(page.locator("ul.messagelist")).to_contain_text("opgeslagen")
    page.get_by_role("button", name="Koppeling uitvoeren").click()
    expect(page.locator("#run-counts")).to_be_visible(timeout=90_000)

    # then the choice was kept, the Suspects stayed home, and the run says why
    chosen = {t.name for t in DigitaleFactuurSettings.load().push_relation_types.all()}
    assert "Suspect" not in chosen and chosen
    sent = {k["relatienummer"] for k in sandbox.klanten()}
    assert not sent & suspects
    expect(page.locator("body")).to_contain_text("buiten Bijwerken")
