"""Fixtures of the DigitaleFactuur screens, the CLI and the schedule: the sandbox as a real
server, users with and without the Digitale Factuur right, and a connector tested OK."""


import pytest

from integration.digitalefactuur.connection import run_connection_test
from integration.digitalefactuur.models import DigitaleFactuurSettings
from integration.rights.catalogue import DIGITALE_FACTUUR
from integration.rights.changes import permission_for
from tests.factories import GroupFactory, UserFactory
from tests.sandbox_fixture import sandbox, sandbox_server  # noqa: F401

SETTINGS_URL = "/admin/koppelingen/digitalefactuur/"


@pytest.fixture
def df_sandbox(sandbox, settings):  # noqa: F811
    """The sandbox, and the connector pointed at it with a short test timeout."""
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    settings.DIGITALEFACTUUR_TEST_TIMEOUT = 2.0
    return sandbox


@pytest.fixture
def df_admin(db):
    """A staff user whose role holds the Digitale Factuur right."""
    role = GroupFactory(name="Administrators")
    role.permissions.add(permission_for(DIGITALE_FACTUUR))
    return UserFactory(username="beheerder-df", groups=[role])


@pytest.fixture
def staff_without_right(db):
    return UserFactory(username="medewerker", groups=[GroupFactory(name="Users")])


@pytest.fixture
def tested_settings(df_sandbox) -> DigitaleFactuurSettings:
    """The connector active with the sandbox's credentials, tested OK: options unlocked."""
    df = DigitaleFactuurSettings.load()
    df.active = True
    df.account_id = df_sandbox.account_id
    df.set_access_code(df_sandbox.access_code)
    outcome = run_connection_test(df)
    assert outcome.ok, outcome.message
    df.save()
    return df


def koppeling_form(df: DigitaleFactuurSettings | None = None, **changes) -> dict:
    """The POST the screen sends, with every unlocked field as stored, then `changes`.

    Booleans follow the browser: a ticked checkbox sends "on", an unticked one nothing.
    """
    df = df or DigitaleFactuurSettings.load()
    data = {"active": df.active, "account_id": df.account_id, "access_code": ""}
    if df.options_unlocked:
        data.update({
            "debtors_enabled": df.debtors_enabled, "debtors_kind": df.debtors_kind,
            "debtor_relation_type": df.debtor_relation_type_id,
            "creditors_enabled": df.creditors_enabled, "creditors_kind": df.creditors_kind,
            "creditor_relation_type": df.creditor_relation_type_id,
            "push_enabled": df.push_enabled, "interval_minutes": df.interval_minutes,
        })
    data.update(changes)
    return {name: ("on" if value is True else value) for name, value in data.items()
            if value is not False and value is not None}
