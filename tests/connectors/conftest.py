"""Fixtures of the Koppelingen page and the shared run and sync log (integration/connectors): an
administrator holding the Digitale Factuur right, a colleague without it, and the connector
active and tested against the sandbox for connector states."""

import pytest
from django.test import Client

from integration.digitalefactuur.models import DigitaleFactuurSettings
from integration.rights.catalogue import DIGITALE_FACTUUR
from tests.factories import RoleFactory, TestedConnectorFactory, UserFactory
from tests.sandbox_fixture import sandbox, sandbox_server  # noqa: F401

SETTINGS_URL = "/admin/koppelingen/digitalefactuur/"
LOG_URL = "/admin/koppelingen/digitalefactuur/logboek/"
RUN_NOW_URL = "/admin/koppelingen/digitalefactuur/uitvoeren/"
PREVIEW_URL = "/admin/koppelingen/digitalefactuur/voorbeeld/"


def run_url(run) -> str:
    return f"{LOG_URL}{run.pk}/"


def retry_url(run) -> str:
    return f"/admin/koppelingen/digitalefactuur/runs/{run.pk}/fouten-opnieuw/"


@pytest.fixture
def df_admin(db):
    return UserFactory(username="beheerder-log", groups=[RoleFactory(rights=[DIGITALE_FACTUUR])])


@pytest.fixture
def colleague_client(db) -> Client:
    """Staff, logged in, but in a role without the Digitale Factuur right."""
    client = Client()
    client.force_login(UserFactory(username="collega", groups=[RoleFactory()]))
    return client


@pytest.fixture
def configure(sandbox, settings):  # noqa: F811
    """configure(push=..., **fields) -> the settings row, active and tested OK on the sandbox."""
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    settings.DIGITALEFACTUUR_MAX_ATTEMPTS = 1
    settings.DIGITALEFACTUUR_RETRY_BUDGET = 2.0

    def _configure(*, debtors=True, creditors=True, push=True,
                   **fields) -> DigitaleFactuurSettings:
        return TestedConnectorFactory(sandbox=sandbox, debtors=debtors, creditors=creditors,
                                      push_enabled=push, **fields)

    return _configure
