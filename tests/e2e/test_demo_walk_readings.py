"""The demo's first runs in a real browser, with DigitaleFactuur as documented and as hostile.

The most hostile reading of the open API points (README, "What we do not assume"): the list is
not paged, the number filter is ignored, writes answer only an id, an update clears what it is
not sent, a used number is accepted again. Tried as a new user would, the first sync and the
run after it must succeed, create nothing twice and clear nothing in DigitaleFactuur.
"""

from collections import Counter

import pytest
from playwright.sync_api import Page, expect

from integration.connectors.models import SyncRun
from tests.e2e.test_run_and_log import SETTINGS_PATH, configure, grant_digitale_factuur
from tests.sandbox_fixture import sandbox, sandbox_server  # noqa: F401
from tests.worker_fixture import start_worker  # noqa: F401

READINGS = {
    "documented": {},
    "most-hostile": {"listing": "unpaged", "number_filter": "ignored", "write_answer": "id",
                     "update": "clear", "duplicates": "accepted", "documents": "wild"},
}
KEPT = ("email", "telefoonnummer", "mandaat_kenmerk", "contactpersoon")


def run_from_the_screen(page: Page, url: str) -> str:
    page.goto(url)
    page.get_by_role("button", name="Koppeling uitvoeren").click()
    expect(page.locator("#run-counts")).to_be_visible(timeout=90_000)
    return page.locator("#run-status").inner_text()


@pytest.mark.slow
@pytest.mark.parametrize("reading", list(READINGS.values()), ids=list(READINGS))
def test_the_first_runs_of_the_demo_succeed_in_every_reading(
        reading, logged_in_page: Page, live_server, sandbox, settings,  # noqa: F811
        start_worker):  # noqa: F811
    # given the demo, its thirty klanten in DigitaleFactuur (some with data we do not map),
    # DigitaleFactuur playing the reading, the connector tested, and a worker
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    sandbox.set_readings(**reading)
    sandbox.seed(30)
    before = {k["id"]: k for k in sandbox.klanten()}
    grant_digitale_factuur()
    configure(sandbox)
    start_worker(sandbox.base_url)

    # when the administrator clicks "Koppeling uitvoeren", twice
    first = run_from_the_screen(logged_in_page, f"{live_server.url}{SETTINGS_PATH}")
    sandbox.reset_counters()
    second = run_from_the_screen(logged_in_page, f"{live_server.url}{SETTINGS_PATH}")

    # then both succeed, the second sends nothing, nothing is twice or cleared
    succeeded = str(SyncRun.Status.SUCCEEDED.label)
    assert (first, second) == (succeeded, succeeded)
    assert sandbox.counters()["POST"] == 0
    numbers = Counter(k["relatienummer"] for k in sandbox.klanten() if k["relatienummer"])
    assert max(numbers.values()) == 1
    after = {k["id"]: k for k in sandbox.klanten()}
    for klant_id, klant in before.items():
        for element in KEPT:
            assert after[klant_id].get(element) == klant.get(element), (klant_id, element)
    assert len(after) > len(before)  # the demo's relations went out
