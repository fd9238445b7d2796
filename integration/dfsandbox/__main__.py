"""Command line: `python -m integration.dfsandbox`, the fake DigitaleFactuur of `make run`.

    python -m integration.dfsandbox --port 8001 --host 127.0.0.1 --account 10001 \\
        --access-code demo-toegangscode-0001 --state-file var/dfsandbox.json --seed 30 \\
        --listing paged --page-size 100 --number-filter honoured --write-answer klant \\
        --update merge --duplicates refused --documents tidy

State lives in memory; with --state-file it is loaded at start and written after every change,
so the demo keeps its klanten across restarts. --seed N generates N klanten only when the account
is still empty, so restarting never duplicates them. The fault flags set the same values as
POST /_control/faults. The reading flags choose how the sandbox plays each point the public
sources leave open (`readings.py` describes every value; the defaults are the API page's
assumptions, which `make run` keeps); they set the same values as POST /_control/readings, and
POST /_control/reset returns to them. With --port 0 a free port is chosen; the one line printed
at start says where the sandbox listens, which is how a test that starts it as a subprocess
learns the port.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from .app import DEMO_ACCESS_CODE, DEMO_ACCOUNT_ID, Sandbox
from .faults import FaultSettings
from .generator import generate_klanten
from .readings import CHOICES, Readings
from .server import RunningSandbox


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m integration.dfsandbox",
                                     description="A fake DigitaleFactuur API for demo and tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001, help="0 picks a free port")
    parser.add_argument("--account", default=DEMO_ACCOUNT_ID, help="account id")
    parser.add_argument("--access-code", default=DEMO_ACCESS_CODE, help="toegangscode")
    parser.add_argument("--state-file", help="JSON file to load at start and save on change")
    parser.add_argument("--seed", type=int, default=30, metavar="N",
                        help="generate N klanten when the account is empty (0: none)")
    parser.add_argument("--seed-random", type=int, default=0, metavar="S",
                        help="random seed of the generated klanten")
    faults = parser.add_argument_group("faults (also settable at run time, /_control/faults)")
    faults.add_argument("--latency-ms", type=float, default=0.0)
    faults.add_argument("--error-rate", type=float, default=0.0, help="share of 500 answers")
    faults.add_argument("--timeout-rate", type=float, default=0.0,
                        help="share of answers delayed by --timeout-seconds (writes applied)")
    faults.add_argument("--timeout-seconds", type=float, default=30.0)
    faults.add_argument("--garbled-rate", type=float, default=0.0,
                        help="share of truncated or random bodies")
    faults.add_argument("--rate-limit", type=float, default=0.0,
                        help="requests per second for the whole server, one token bucket "
                             "(0: unlimited); beyond it 429 with Retry-After")
    faults.add_argument("--rate-limit-burst", type=float, default=0.0,
                        help="requests let through at once after a quiet spell "
                             "(0: one second's worth)")
    faults.add_argument("--fault-seed", type=int, default=0)
    readings = parser.add_argument_group(
        "readings of what public sources leave open (also settable at run time, "
        "/_control/readings)")
    defaults = Readings()
    for name in ("listing", "number_filter", "write_answer", "update", "duplicates",
                 "documents"):
        readings.add_argument(f"--{name.replace('_', '-')}", choices=CHOICES[name],
                              default=getattr(defaults, name),
                              help=f"default: {getattr(defaults, name)}")
    readings.add_argument("--page-size", type=int, default=defaults.page_size,
                          help="klanten per page when paged (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    logging.basicConfig(level=logging.WARNING if arguments.quiet else logging.INFO,
                        format="dfsandbox %(levelname)s %(message)s", stream=sys.stderr)
    settings = FaultSettings(
        latency_ms=arguments.latency_ms, error_rate=arguments.error_rate,
        timeout_rate=arguments.timeout_rate, timeout_seconds=arguments.timeout_seconds,
        garbled_rate=arguments.garbled_rate, rate_limit=arguments.rate_limit,
        rate_limit_burst=arguments.rate_limit_burst,
        fault_seed=arguments.fault_seed)
    readings = Readings(
        listing=arguments.listing, page_size=arguments.page_size,
        number_filter=arguments.number_filter, write_answer=arguments.write_answer,
        update=arguments.update, duplicates=arguments.duplicates,
        documents=arguments.documents)
    try:
        settings.validate()
        readings.validate()
    except ValueError as invalid:
        print(f"dfsandbox: {invalid}", file=sys.stderr)
        return 2
    sandbox = Sandbox(arguments.account, arguments.access_code,
                      state_file=arguments.state_file, faults=settings, readings=readings)
    sandbox.store.load()
    if arguments.seed > 0 and sandbox.store.count(arguments.account) == 0:
        sandbox.store.create_many(arguments.account,
                                  generate_klanten(arguments.seed, arguments.seed_random))
    if arguments.seed > 0:
        # Invoices are not kept in the state file: the same ones again for the same klanten.
        sandbox.invoices.generate_for(arguments.account,
                                      sandbox.store.all_klanten(arguments.account))
    server = RunningSandbox(sandbox, arguments.host, arguments.port)
    print(f"DigitaleFactuur sandbox listening on {server.base_url} "
          f"(account {arguments.account}, access code {arguments.access_code}; "
          f"klanten: {server.root_url}/)", flush=True)
    # honcho and test harnesses stop us with SIGTERM: leave through the same door as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
