"""Fixtures of the proofs: sizes and fault rates from the environment, the connector configured
against a sandbox, and helpers that read both sides for "none lost, none twice"; for the proofs
that need a server the sandbox cannot be (hostile, looping, redirecting, echoing), one scripted
HTTP server (`scripted_server`), and `peak_rss` for the memory bounds.

Sizes: `SOAK=1` (`make soak`) chooses the long sizes, otherwise the short ones run in `make test`.
Fault rates and the canary are environment variables, so the same proofs can be tried with other
values from a fresh clone:

    PROOF_ERROR_RATE=0.05 PROOF_TIMEOUT_RATE=0.02 PROOF_GARBLED_RATE=0.01 PROOF_RATE_LIMIT=400
    PROOF_FAULT_SEED=7 PROOF_CANARY=<token>
"""

from __future__ import annotations

import contextlib
import http.server
import os
import secrets
import threading
from collections import Counter
from collections.abc import Callable

import psutil
import pytest
from django.utils import timezone

from integration.crm.models import Relation
from integration.digitalefactuur.models import DigitaleFactuurSettings
from tests.factories import OrganisationFactory, RelationTypeFactory
from tests.proofs.workers import start_worker  # noqa: F401  (fixture)
from tests.sandbox_fixture import sandbox, sandbox_server  # noqa: F401

SOAK = os.environ.get("SOAK", "") not in ("", "0", "false", "no")


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


#: Records in the fault proof: half seeded in the sandbox, half created in the CRM.
FAULT_RECORDS = env_int("PROOF_RECORDS", 10_000 if SOAK else 2_000)
ERROR_RATE = env_float("PROOF_ERROR_RATE", 0.05)
TIMEOUT_RATE = env_float("PROOF_TIMEOUT_RATE", 0.02)
GARBLED_RATE = env_float("PROOF_GARBLED_RATE", 0.01)
#: Requests per second before the sandbox answers 429 with Retry-After.
RATE_LIMIT = env_float("PROOF_RATE_LIMIT", 40)
FAULT_SEED = env_int("PROOF_FAULT_SEED", 7)
#: The access code whose every trace is searched for; a fresh random one unless given.
CANARY = os.environ.get("PROOF_CANARY", "").strip() or f"canary-{secrets.token_hex(12)}"
#: Kills of a real worker in the crash proof.
KILLS = env_int("PROOF_KILLS", 20 if SOAK else 3)


@pytest.fixture
def connector(sandbox, settings):  # noqa: F811
    """connector(push=True, account_id=..., access_code=...) -> the settings row, tested and on.

    The client's timeouts are short (a timeout fault then costs a second, not fifteen).
    """
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    settings.DIGITALEFACTUUR_CONNECT_TIMEOUT = 2.0
    settings.DIGITALEFACTUUR_READ_TIMEOUT = 0.3
    settings.DIGITALEFACTUUR_MAX_ATTEMPTS = 4
    settings.DIGITALEFACTUUR_RETRY_BUDGET = 10.0

    def _configure(*, push: bool = True, account_id: str | None = None,
                   access_code: str | None = None) -> DigitaleFactuurSettings:
        RelationTypeFactory(name="Klant")
        RelationTypeFactory(name="Leverancier")
        df = DigitaleFactuurSettings.load()
        df.active = True
        df.account_id = account_id or sandbox.account_id
        df.set_access_code(access_code or sandbox.access_code)
        df.record_test(True, "Verbinding geslaagd", timezone.now())
        df.debtors_enabled = df.creditors_enabled = True
        df.debtors_kind = df.creditors_kind = "organisation"
        df.push_enabled = push
        df.save()
        return df

    return _configure


def crm_relations(count: int, *, debtor_from: int = 110_001, creditor_from: int = 210_001):
    """`count` organisations in the CRM, four in five debtors, with numbers no seed uses."""
    debtors = count - count // 5
    relations = [OrganisationFactory.build(debtor_number=str(debtor_from + n))
                 for n in range(debtors)]
    relations += [OrganisationFactory.build(creditor_number=str(creditor_from + n))
                  for n in range(count - debtors)]
    relation_type = RelationTypeFactory(name="Klant")
    for relation in relations:
        relation.relation_type = relation_type
    # bulk_create: saving one by one would queue a change push per relation.
    return Relation.objects.bulk_create(relations, batch_size=500)


def crm_numbers() -> Counter:
    """Every (kind, number) the CRM holds, counted: a count above 1 is a duplicate."""
    numbers = Counter()
    for debtor, creditor in Relation.objects.values_list("debtor_number", "creditor_number"):
        if debtor:
            numbers[("debiteur", debtor)] += 1
        if creditor:
            numbers[("crediteur", creditor)] += 1
    return numbers


def sandbox_numbers(control) -> Counter:
    """Every (type, relatienummer) in the sandbox, counted (a klant without type by its digit)."""
    numbers = Counter()
    for klant in control.klanten():
        kind = klant.get("type") or {"1": "debiteur", "2": "crediteur"}.get(
            klant["relatienummer"][:1], "?")
        numbers[(kind, klant["relatienummer"])] += 1
    return numbers


def duplicates(numbers: Counter) -> dict:
    return {key: n for key, n in numbers.items() if n > 1}


def importable(numbers: Counter) -> set:
    """What the import takes from the sandbox: debtors and creditors, not the odd ones."""
    return {key for key in numbers if key[0] in ("debiteur", "crediteur")}


# --- a scripted server and the memory probe --------------------------------------------------


class ScriptedServer:
    """A real HTTP server on a free loopback port: every GET is answered by `respond(handler)`
    (an `http.server.BaseHTTPRequestHandler`; `send` writes a plain answer). Counts requests; a
    client that hangs up mid-answer is no error of the server's."""

    def __init__(self, respond: Callable):
        self.respond = respond
        self.requests = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests += 1
                with contextlib.suppress(OSError):
                    owner.respond(self)

            def log_message(self, format, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/api"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def send(handler, body: bytes, status: int = 200) -> None:
    """A plain answer with its Content-Length."""
    handler.send_response(status)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture
def scripted_server():
    """scripted_server(respond) -> a started `ScriptedServer`; all are stopped after the test."""
    servers: list[ScriptedServer] = []

    def _start(respond: Callable) -> ScriptedServer:
        servers.append(ScriptedServer(respond))
        return servers[-1]

    yield _start
    for server in servers:
        server.stop()


class PeakRss:
    """The largest resident set size of this process seen while the block runs."""

    def __init__(self):
        self.process = psutil.Process()
        self.baseline = self.peak = self.process.memory_info().rss
        self._done = threading.Event()

    def _sample(self):
        while not self._done.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


@pytest.fixture
def peak_rss():
    """`with peak_rss() as memory: ...` then `memory.growth` is the peak RSS growth in bytes."""
    return PeakRss
