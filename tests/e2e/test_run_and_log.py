"""The administrator's steps 5 and 6 in a real browser, with a real worker and the sandbox.

"Koppeling uitvoeren" queues a run, its page shows the progress until the end, the log lists it
with its chart, filters lead to the failures, a failure links to its relation, and "Fouten
opnieuw proberen" sends only what failed. Every request the browser makes goes to the live
server: the chart and the progress need nothing from outside.
"""

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from integration.connectors.models import SyncEvent, SyncRun
from integration.digitalefactuur.models import DigitaleFactuurSettings
from integration.rights.catalogue import DIGITALE_FACTUUR
from integration.rights.changes import permission_for
from tests.factories import TestedConnectorFactory
from tests.sandbox_fixture import sandbox, sandbox_server  # noqa: F401
from tests.worker_fixture import start_worker  # noqa: F401

SETTINGS_PATH = "/admin/koppelingen/digitalefactuur/"
LOG_PATH = "/admin/koppelingen/digitalefactuur/logboek/"
RUN_PAGE = re.compile(r"/admin/koppelingen/digitalefactuur/logboek/(\d+)/")


def grant_digitale_factuur() -> None:
    """Step A, as the demo leaves it to the administrator: the right for Administrators."""
    Group.objects.get(name="Administrators").permissions.add(permission_for(DIGITALE_FACTUUR))


def configure(sandbox, *, push=True) -> DigitaleFactuurSettings:  # noqa: F811
    return TestedConnectorFactory(sandbox=sandbox, debtors=True, creditors=True,
                                  push_enabled=push)


def record_requests(page: Page) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def run_id_of(page: Page) -> int:
    return int(RUN_PAGE.search(page.url).group(1))


@pytest.mark.slow
def test_run_watch_read_the_log_follow_a_failure_and_retry_it(
        logged_in_page: Page, live_server, sandbox, settings, start_worker):  # noqa: F811
    # given the demo with the right on, the connector tested, klanten waiting in
    # DigitaleFactuur, a slow service, one create that will fail, and a worker
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    grant_digitale_factuur()
    configure(sandbox)
    sandbox.seed(10)
    sandbox.set_faults(latency_ms=25)
    sandbox.fail_next("klant_aanmaken", "error", 1)
    start_worker(sandbox.base_url, DIGITALEFACTUUR_MAX_ATTEMPTS="1")
    page = logged_in_page
    requests = record_requests(page)

    # when the administrator clicks "Koppeling uitvoeren"
    page.goto(f"{live_server.url}{SETTINGS_PATH}")
    page.get_by_role("button", name="Koppeling uitvoeren").click()

    # then the run's page shows its progress, then its outcome, without a click
    expect(page).to_have_url(RUN_PAGE)
    run_id = run_id_of(page)
    expect(page.locator("#run-progress")).to_be_visible()
    expect(page.locator("#run-counts")).to_be_visible(timeout=60_000)
    expect(page.locator("#run-status")).to_have_text("met fouten")
    expect(page.locator("#run-counts tr[data-direction='import']")).to_be_visible()

    # when opening the log and filtering to the runs with failures
    page.get_by_role("link", name="Synchronisatielogboek").click()
    expect(page.locator("#run-chart svg .chart-mark")).to_have_count(1)
    page.locator("#filter-status").select_option(label="met fouten")
    page.get_by_role("button", name="Filteren").click()
    expect(page.locator("tr.log-run")).to_have_count(1)

    # and opening the run, filtering to its failures, following the relation
    page.locator(f"tr.log-run[data-run='{run_id}'] a").first.click()
    page.locator("#filter-action").select_option(label="fout")
    page.locator("#event-filters").get_by_role("button", name="Filteren").click()
    expect(page.locator("tr.run-event")).to_have_count(1)
    failure = SyncEvent.objects.get(run_id=run_id, action="fout")
    page.locator("tr.run-event a.event-relation").click()

    # then the relation's own page opens
    expect(page).to_have_url(re.compile(rf"/admin/crm/relation/{failure.relation_id}/change/"))

    # when going back and retrying the failures
    page.go_back()
    page.get_by_role("button", name="Fouten opnieuw proberen").click()

    # then a run limited to that relation is queued, runs and succeeds
    expect(page).to_have_url(RUN_PAGE)
    retry_id = run_id_of(page)
    assert retry_id != run_id
    expect(page.locator("#run-status")).to_have_text("geslaagd", timeout=60_000)
    retry = SyncRun.objects.get(pk=retry_id)
    # (a relation with both numbers is two klanten: the one that went out stays unchanged)
    assert retry.counts["export"]["aangemaakt"] == 1 and "import" not in retry.counts
    assert list(SyncEvent.objects.filter(run=retry).values_list("relation_id", flat=True)) == [
        failure.relation_id]
    # and nothing the browser asked for left the live server
    assert requests and all(url.startswith(live_server.url) for url in requests), [
        url for url in requests if not url.startswith(live_server.url)]


def test_a_double_click_queues_one_run(logged_in_page: Page, live_server, sandbox,  # noqa: F811
                                       settings):
    # given
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    grant_digitale_factuur()
    configure(sandbox)
    page = logged_in_page
    page.goto(f"{live_server.url}{SETTINGS_PATH}")

    # when
    page.locator("#df-run-button").dblclick()

    # then one run, and its page
    expect(page).to_have_url(RUN_PAGE)
    assert SyncRun.objects.filter(dry_run=False).count() == 1
    page.goto(f"{live_server.url}{SETTINGS_PATH}")
    expect(page.locator("#df-run-open")).to_contain_text("start geen tweede run")
    page.locator("#df-run-button").click()
    expect(page.locator("ul.messagelist")).to_contain_text("er is geen tweede gestart")
    assert SyncRun.objects.filter(dry_run=False).count() == 1


def test_the_disabled_states_explain_themselves(logged_in_page: Page, live_server,
                                                settings):
    # given the right on, but the connector not activated yet
    grant_digitale_factuur()
    page = logged_in_page

    # when
    page.goto(f"{live_server.url}{SETTINGS_PATH}")

    # then both buttons are disabled and say why
    expect(page.locator("#df-run-button")).to_be_disabled()
    expect(page.locator("#df-preview-button")).to_be_disabled()
    expect(page.locator("#df-run-reason")).to_have_text(
        "De koppeling met DigitaleFactuur is niet actief.")


def test_without_the_right_every_page_names_it(logged_in_page: Page, live_server):
    # given the demo: Digitale Factuur is still white for Administrators
    run = SyncRun.objects.create(connector="digitalefactuur", trigger="gepland",
                                 status="geslaagd")
    page = logged_in_page

    for path in (SETTINGS_PATH, LOG_PATH, f"{LOG_PATH}{run.pk}/"):
        # when
        response = page.goto(f"{live_server.url}{path}")

        # then
        assert response.status == 403
        expect(page.locator("#content")).to_contain_text("Digitale Factuur")
