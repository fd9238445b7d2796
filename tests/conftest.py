"""Fixtures shared by every test: the browser, the rule that CI never skips silently, a closed
port, and a logged-in client for the `df_admin` a folder defines.

Browser tests drive Debian's Chromium (never a downloaded browser) through Playwright. Without a
Chromium they are skipped with the reason, except when the environment variable CI is set: there
a missing browser is a failure, so a CI run can never pass by skipping them.
"""

import os
import shutil
import socket

import pytest
from django.test import Client

# The fake DigitaleFactuur as a real HTTP server: fixtures `sandbox_server` and `sandbox`.
pytest_plugins = ["tests.sandbox_fixture"]

CHROMIUM_CANDIDATES = [os.environ.get("CHROMIUM_PATH", ""), "/usr/bin/chromium",
                       "/usr/bin/chromium-browser"]


def chromium_path() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if candidate and shutil.which(candidate):
            return candidate
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in item.nodeid.replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
    if chromium_path() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason="geen Chromium gevonden (apt-get install chromium); "
                                   "in CI is dit een fout")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _dutch_by_default(settings):
    """Each test starts in the product's language, whatever an earlier request switched to."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def closed_port_url():
    """A base URL on which nothing listens: connection refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api"


@pytest.fixture
def df_client(df_admin) -> Client:
    """A test Client logged in as the folder's `df_admin` (each folder says who that is)."""
    client = Client()
    client.force_login(df_admin)
    return client


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    path = chromium_path()
    if path is None:
        pytest.fail("CI is set but no Chromium was found: .ci/run must install Debian's chromium")
    # Playwright's event loop runs in the test's thread; the live server's ORM calls are made
    # from the test too (factories), which Django would otherwise refuse as "async unsafe".
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    return {
        **browser_type_launch_args,
        "executable_path": path,
        # Without these Chromium reaches for Google's services at start; this network refuses.
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"],
    }


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "nl-NL", "timezone_id": "Europe/Amsterdam"}
