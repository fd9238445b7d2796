"""Pytest fixtures for the DigitaleFactuur sandbox: a real HTTP server on a free port.

- `sandbox_server` (session): one sandbox served from a daemon thread on 127.0.0.1, port 0.
- `sandbox` (function): that sandbox reset (empty state, faults off, counters zero, the default
  readings), as a `SandboxControl` handle: `.base_url` is the value for
  DIGITALEFACTUUR_BASE_URL, plus `.account_id`, `.access_code`, `.add_klant(...)`,
  `.update_klant(id, ...)`, `.delete_klant(id)`, `.klanten()`, `.seed(n)`, `.set_faults(...)`,
  `.fail_next(action, fault)`, `.counters()`, `.reset_counters()`, `.set_account_active(...)`,
  `.readings()` and `.set_readings(...)` (how the sandbox plays what public sources leave open;
  see `integration/dfsandbox/readings.py`). Readings set in one test end with its reset.

The handle speaks HTTP to `/_control`, so the same class steers a sandbox in another process:
`integration.dfsandbox.control.start_sandbox_process(...)` starts one as a child process
(`python -m integration.dfsandbox --port 0 --seed 0 ...`) and yields its handle.
"""

from __future__ import annotations

import pytest

from integration.dfsandbox.app import Sandbox
from integration.dfsandbox.control import SandboxControl
from integration.dfsandbox.server import RunningSandbox

TEST_ACCOUNT_ID = "10001"
TEST_ACCESS_CODE = "test-toegangscode-0001"


@pytest.fixture(scope="session")
def sandbox_server():
    server = RunningSandbox(Sandbox(TEST_ACCOUNT_ID, TEST_ACCESS_CODE)).start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server) -> SandboxControl:
    control = SandboxControl(sandbox_server.root_url, TEST_ACCOUNT_ID, TEST_ACCESS_CODE)
    control.reset()
    return control
