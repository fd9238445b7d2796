"""The sandbox fixtures, until tests/conftest.py registers tests.sandbox_fixture for everyone."""

import pytest
import requests

from tests.sandbox_fixture import sandbox, sandbox_server  # noqa: F401


@pytest.fixture
def api(sandbox):  # noqa: F811 - the fixture imported above
    """The account's API root, `BASE/ACCOUNT/CODE`: append `/klanten&page=1` and the like."""
    return f"{sandbox.base_url}/{sandbox.account_id}/{sandbox.access_code}"


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session
