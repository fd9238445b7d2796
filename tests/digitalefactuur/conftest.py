"""Fixtures of the connector's tests (integration/digitalefactuur): its client, sync engine,
screens, CLI and schedule.

- the sandbox as a real server (`df_sandbox`: the connector pointed at it, with short timeouts),
  and a scripted hostile server (`scripted`);
- the connector configured against the sandbox (`configure`, `tested_settings`) and one
  foreground run (`run_sync`);
- users with and without the Digitale Factuur right (`df_admin`, `staff_without_right`) and the
  POST the settings screen sends (`koppeling_form`).

The sandbox (tests/sandbox_fixture.py) is DigitaleFactuur as the API page describes it. The
scripted server is ours: a tiny `http.server` in a thread whose every answer a test writes itself,
for what no well-behaved server does (XXE, endless trickles, redirects, dropped connections).
"""

import http.server
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from integration.connectors.models import SyncRun
from integration.digitalefactuur import sync
from integration.digitalefactuur.models import DigitaleFactuurSettings
from integration.rights.catalogue import DIGITALE_FACTUUR
from integration.rights.changes import permission_for
from tests.factories import GroupFactory, TestedConnectorFactory, UserFactory
from tests.sandbox_fixture import sandbox, sandbox_server  # noqa: F401

SETTINGS_URL = "/admin/koppelingen/digitalefactuur/"

ACCOUNT_ID = "10001"
# Characters that need quoting, so both the raw and the quoted form can be looked for.
ACCESS_CODE = "Geh31m+code/=x"
QUOTED_CODE = "Geh31m%2Bcode%2F%3Dx"


@dataclass
class Seen:
    method: str
    path: str
    body: bytes


@dataclass
class ScriptedServer:
    base_url: str
    seen: list[Seen] = field(default_factory=list)
    # Called with (handler, Seen); writes the answer itself through `handler`.
    respond: Callable = None
    stopping: threading.Event = field(default_factory=threading.Event)

    def actions(self) -> list[str]:
        return [s.path.rsplit("/", 1)[-1].split("&", 1)[0] for s in self.seen]


def answer(handler, body: bytes = b"", status: int = 200, headers: dict | None = None) -> None:
    """Write a complete answer with a Content-Length."""
    handler.send_response(status)
    for name, value in {"Content-Type": "application/xml", **(headers or {})}.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Scripted"

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(self.command, self.path, self.rfile.read(length) if length else b"")
        script: ScriptedServer = self.server.script
        script.seen.append(seen)
        try:
            script.respond(self, seen)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should
        finally:
            self.close_connection = True

    do_GET = do_POST = _handle

    def log_message(self, format, *args):  # keep the test output quiet
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture
def scripted():
    """A scripted server on a free port; set `.respond` in the test."""
    server = _Server(("127.0.0.1", 0), _Handler)
    script = ScriptedServer(base_url=f"http://127.0.0.1:{server.server_address[1]}/api")
    server.script = script
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield script
    script.stopping.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def debug_logs(caplog):
    """Every log record at DEBUG, urllib3's included."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    return caplog


class SleepRecorder:
    """A `sleep` that only records; with `clock` it also moves a fake monotonic clock."""

    def __init__(self):
        self.slept: list[float] = []
        self.now = 1000.0

    def __call__(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def sleeper():
    return SleepRecorder()


# --- the connector against the sandbox ------------------------------------------------------


@pytest.fixture
def df_sandbox(sandbox, settings):  # noqa: F811
    """The sandbox, and the connector pointed at it with short timeouts and few retries, so
    failures are quick to see (a scenario that needs other values sets them itself)."""
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    settings.DIGITALEFACTUUR_TEST_TIMEOUT = 2.0
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
        return TestedConnectorFactory(sandbox=df_sandbox, debtors=debtors, creditors=creditors,
                                      push_enabled=push, **fields)

    return _configure


@pytest.fixture
def tested_settings(df_sandbox) -> DigitaleFactuurSettings:
    """The connector active with the sandbox's credentials, tested OK by a real "Koppeling
    testen": options unlocked, none chosen yet."""
    return TestedConnectorFactory(sandbox=df_sandbox, connection_test="run", debtors=False,
                                  creditors=False, push_enabled=False)


@pytest.fixture
def run_sync():
    """run_sync(df, **options) -> the SyncRun of one foreground run (trigger cli)."""

    def _run(df, **options):
        return sync.run(df.pk, SyncRun.Trigger.CLI, **options)

    return _run


# --- the people and the screen ---------------------------------------------------------------


@pytest.fixture
def df_admin(db):
    """A staff user whose role holds the Digitale Factuur right."""
    role = GroupFactory(name="Administrators")
    role.permissions.add(permission_for(DIGITALE_FACTUUR))
    return UserFactory(username="beheerder-df", groups=[role])


@pytest.fixture
def staff_without_right(db):
    return UserFactory(username="medewerker", groups=[GroupFactory(name="Users")])


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
