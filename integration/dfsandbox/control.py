"""A small urllib client for the sandbox's `/_control` endpoint, usable from any process.

The pytest fixture hands tests a `SandboxControl`; benchmarks build one for a sandbox they
started elsewhere (`SandboxControl("http://127.0.0.1:8001")`). It only ever speaks to
`/_control`, never to `/api`: the API belongs to the client under test.

`start_sandbox_process` runs `python -m integration.dfsandbox` as a child process on a free port
and reads the port from the line the sandbox prints when it listens.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

from .app import DEMO_ACCESS_CODE, DEMO_ACCOUNT_ID

_LISTENING = re.compile(r"listening on (http://\S+)/api ")


class SandboxControl:
    # Set by start_sandbox_process: the child process and the line it printed at start.
    process: subprocess.Popen | None = None
    banner: str = ""

    def __init__(self, root_url: str, account_id: str = DEMO_ACCOUNT_ID,
                 access_code: str = DEMO_ACCESS_CODE, timeout: float = 10.0):
        if urlsplit(root_url).scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) URL: {root_url!r}")
        self.root_url = root_url.rstrip("/")
        self.account_id = account_id
        self.access_code = access_code
        self.timeout = timeout

    @property
    def base_url(self) -> str:
        """Exactly the value for the setting DIGITALEFACTUUR_BASE_URL (no trailing slash)."""
        return f"{self.root_url}/api"

    def _call(self, method: str, route: str, payload: dict | None = None, **query):
        url = f"{self.root_url}/_control/{route}"
        if query:
            url += "?" + urlencode(query)
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        # The URL is built from root_url, whose scheme was checked in __init__.
        request = urllib.request.Request(  # noqa: S310
            url, data=data, method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            return json.loads(response.read().decode("utf-8"))

    def reset(self) -> None:
        """Empty state, only the default account (active), faults off, counters zero, and the
        readings the sandbox was started with."""
        self._call("POST", "reset", {})

    def readings(self) -> dict:
        """The readings being played: see readings.Readings for the fields and values."""
        return self._call("GET", "readings")

    def set_readings(self, **changes) -> dict:
        """Change readings (merged into the current ones, validated); returns them all."""
        return self._call("POST", "readings", changes)

    def add_klant(self, **elements) -> dict:
        """Plant a klant directly (no validation, no duplicate check); returns it with its id.

        Any element may be given, known or not; a dict value is a nested element
        (`contactpersoon={"id": "7", "naam": "..."}`)."""
        return self._call("POST", "klanten", {"account_id": self.account_id, **elements})

    def update_klant(self, klant_id: int, **elements) -> dict:
        """Change a klant as DigitaleFactuur's own screens would: the given elements replace,
        others stay; None removes an extra element. No validation, no duplicate check."""
        return self._call("POST", "klanten/update", {"account_id": self.account_id,
                                                     **elements, "id": klant_id})

    def delete_klant(self, klant_id: int) -> dict:
        """Remove a klant as DigitaleFactuur's own screens would; returns the removed klant."""
        return self._call("POST", "klanten/delete", {"account_id": self.account_id,
                                                     "id": klant_id})

    def klanten(self) -> list[dict]:
        return self._call("GET", "klanten", account_id=self.account_id)

    def seed(self, n: int, seed: int = 0, facturen: bool = False) -> int:
        """Add n generated klanten (numbers already in use are skipped); returns how many.
        With `facturen`, every debtor without invoices gets generated ones too."""
        return self._call("POST", "seed", {"n": n, "seed": seed, "facturen": facturen,
                                           "account_id": self.account_id})["added"]

    # --- facturen (integration/dfsandbox/invoices.py) ----------------------------------------

    def facturen(self) -> list[dict]:
        """Every invoice of the account, as stored (dates and btw as text, `regels` a list)."""
        return self._call("GET", "facturen", account_id=self.account_id)

    def add_factuur(self, klant_id: int, regels: list[dict] | None = None, **elements) -> dict:
        """Plant an invoice for a klant: `betaalstatus`, `factuurnummer`,
        `factuurnummer_voorloop`, `factuurdatum`, `vervaldatum` (either date format),
        `automatische_incasso`, and `regels` ({aantal, omschrijving, prijs, btw}, text)."""
        return self._call("POST", "facturen", {"account_id": self.account_id,
                                               "klant_id": klant_id, "regels": regels or [],
                                               **elements})

    def update_factuur(self, invoice_id: int, **elements) -> dict:
        """Change an invoice, e.g. `update_factuur(id, betaalstatus="betaald")`."""
        return self._call("POST", "facturen/update", {"account_id": self.account_id,
                                                      **elements, "id": invoice_id})

    def generate_facturen(self) -> int:
        """Generated invoices for every debtor that has none yet; returns how many."""
        return self._call("POST", "facturen/generate",
                          {"account_id": self.account_id})["facturen"]

    def faults(self) -> dict:
        return self._call("GET", "faults")

    def set_faults(self, **settings) -> dict:
        """Change fault settings (merged into the current ones); see faults.FaultSettings."""
        return self._call("POST", "faults", settings)

    def fail_next(self, action: str, fault: str, count: int = 1) -> dict:
        return self._call("POST", "fail_next", {"action": action, "fault": fault,
                                                "count": count})

    def counters(self) -> dict:
        return self._call("GET", "counters")

    def reset_counters(self) -> dict:
        return self._call("POST", "counters/reset", {})

    def set_account_active(self, active: bool) -> dict:
        return self._call("POST", "accounts", {"account_id": self.account_id,
                                               "active": bool(active)})

    def add_account(self, account_id: str, access_code: str, active: bool = True) -> dict:
        return self._call("POST", "accounts", {"account_id": account_id,
                                               "access_code": access_code, "active": active})


def sandbox_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "integration.dfsandbox", *arguments]


@contextmanager
def start_sandbox_process(*arguments: str, account_id: str = DEMO_ACCOUNT_ID,
                          access_code: str = DEMO_ACCESS_CODE, cwd=None):
    """Run the sandbox in a child process (`--port 0` unless given) and yield its control.

    The working directory must be the project root (or `cwd` given) so that
    `integration.dfsandbox` is importable. The child is terminated on leaving the block.
    """
    arguments = ("--account", account_id, "--access-code", access_code, "--quiet", *arguments)
    if "--port" not in arguments:
        arguments = ("--port", "0", *arguments)
    # Our own interpreter and module; the arguments are the caller's, as on a command line.
    process = subprocess.Popen(sandbox_command(*arguments), cwd=cwd,  # noqa: S603
                               stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        found = _LISTENING.search(line)
        if found is None:
            raise RuntimeError(f"the sandbox did not start (exit {process.poll()}): {line!r}")
        control = SandboxControl(found.group(1), account_id, access_code)
        control.process = process
        control.banner = line.strip()
        yield control
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
