"""Browser scenarios run against pytest-django's live server, in Debian's Chromium."""

import pytest
from django.core.management import call_command


@pytest.fixture
def demo(transactional_db):
    """The demo as `make run` loads it: roles, the demo administrator, forty relations."""
    call_command("load_demo", verbosity=0)


@pytest.fixture
def logged_in_page(page, live_server, demo, settings):
    """A browser page logged in as the demo administrator through the real login form."""
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", settings.DEMO_USERNAME)
    page.fill("#id_password", settings.DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page
