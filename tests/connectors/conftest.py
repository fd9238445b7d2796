"""Fixtures of the Koppelingen page tests; the sandbox is at hand for connector states."""

from tests.sandbox_fixture import sandbox, sandbox_server  # noqa: F401
