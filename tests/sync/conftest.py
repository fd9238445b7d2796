"""Fixtures of the sync engine's scenarios: the sandbox as a real server and the connector
configured against it, tested (options unlocked), with the options each scenario chooses."""


import pytest
from django.utils import timezone

from integration.connectors.models import SyncRun
from integration.digitalefactuur import sync
from integration.digitalefactuur.models import DigitaleFactuurSettings
from tests.sandbox_fixture import sandbox, sandbox_server  # noqa: F401


@pytest.fixture
def df_sandbox(sandbox, settings):  # noqa: F811
    """The sandbox, with the client's retries kept short so failures are quick to see."""
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    settings.DIGITALEFACTUUR_READ_TIMEOUT = 5.0
    settings.DIGITALEFACTUUR_MAX_ATTEMPTS = 2
    settings.DIGITALEFACTUUR_RETRY_BUDGET = 3.0
    return sandbox


@pytest.fixture
def configure(df_sandbox):
    """configure(debtors=..., creditors=..., push=...) -> the settings row, active and tested.

    `debtors`/`creditors` are False (off), "organisation" or "person".
    """

    def _configure(*, debtors="organisation", creditors="organisation", push=False,
                   **fields) -> DigitaleFactuurSettings:
        df = DigitaleFactuurSettings.load()
        df.active = True
        df.account_id = df_sandbox.account_id
        df.set_access_code(df_sandbox.access_code)
        # A successful "Koppeling testen" for these credentials: the options unlock.
        df.record_test(True, "Verbinding geslaagd", timezone.now())
        df.debtors_enabled = bool(debtors)
        df.debtors_kind = debtors or "organisation"
        df.creditors_enabled = bool(creditors)
        df.creditors_kind = creditors or "organisation"
        df.push_enabled = push
        for name, value in fields.items():
            setattr(df, name, value)
        df.save()
        return df

    return _configure


@pytest.fixture
def run_sync():
    """run_sync(df, **options) -> the SyncRun of one foreground run (trigger cli)."""

    def _run(df, **options):
        return sync.run(df.pk, SyncRun.Trigger.CLI, **options)

    return _run

