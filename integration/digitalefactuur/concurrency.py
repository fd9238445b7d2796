"""Bounded concurrency for the export: a few worker threads, each with a client of its own.

At an internet round trip per request, the export's wall time is the network's; sending a few
requests at once takes most of it off. `DIGITALEFACTUUR_EXPORT_CONCURRENCY` (1..8) says how many;
1, the default, keeps the export sequential until a higher value is proven safe against
DigitaleFactuur's rate limit (README, "Settings"). What this module promises the exporter:

- Workers only speak HTTP. Reading and writing the database stays in the run's own thread:
  Django's connections are per thread, and one thread writing keeps the order of events, the
  progress and the lock's heartbeat exactly as they are without workers.
- One client, so one `requests.Session`, per worker (a Session is not guaranteed thread-safe).
  The clients are built in the run's thread from the same settings and credentials as the run's
  own client: the configuration is shared, the sessions are not.
- A 429 backs the whole export off: when any worker is refused, every worker holds its next
  request until the Retry-After has passed (`RateGate`, the gate every worker's client
  consults), instead of each retrying on its own
  while the others keep knocking. A hold longer than what is left of a call's retry budget fails
  that call as the 429 itself would have, without sending what the server asked us not to send.
  Each client's attempts, budget and deadline still hold as they are.

`send_all(jobs, stop)` sends a chunk's writes and returns their outcomes in the jobs' order
(`ThreadPoolExecutor.map` keeps it): ("ok", result), ("error", the DigitaleFactuurError), or
("unsent", None) for a job never sent because `stop` said so after an earlier outcome (a halt,
DigitaleFactuur down). `InlineRunner` sends them one after the other on the run's own client,
`ExportPool` over its workers, so the sequential export takes the very same path.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.utils import translation
from django.utils.translation import gettext as _

from .client import DigitaleFactuurClient
from .errors import DigitaleFactuurError, RateLimited

logger = logging.getLogger(__name__)

#: How long a 429 without a Retry-After holds the export.
DEFAULT_HOLD_SECONDS = 1.0


class RateGate:
    """The moment the whole export may send again, moved later by every 429 any worker gets."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._open_at = float("-inf")

    def hold(self, seconds: float | None) -> None:
        seconds = DEFAULT_HOLD_SECONDS if seconds is None else max(0.0, seconds)
        with self._lock:
            self._open_at = max(self._open_at, self._clock() + seconds)
        logger.info("digitalefactuur export rate limited: every worker waits %.1f s", seconds)

    def remaining(self) -> float:
        with self._lock:
            return max(0.0, self._open_at - self._clock())

    def wait(self, longest: float) -> float:
        """Sleep until the gate is open; returns 0, or the seconds still closed when that is
        longer than `longest` (then nothing was waited)."""
        while (closed := self.remaining()) > 0:
            if closed > longest:
                return closed
            self._sleep(closed)  # another 429 meanwhile may have moved the gate: look again
            longest -= closed
        return 0.0

    # --- the client's gate (client.Gate): consulted around every attempt of every worker ------

    def admit(self, budget_left: float) -> None:
        closed = self.wait(budget_left)
        if closed:
            raise RateLimited(code=429, retry_after=closed, detail=_(
                "de export wacht op de limiet van DigitaleFactuur: nog %(seconds).0f s") % {
                "seconds": closed})

    def answered(self, failure: DigitaleFactuurError | None) -> None:
        if isinstance(failure, RateLimited):
            self.hold(failure.retry_after)


def _outcome(job, client) -> tuple:
    function, *arguments = job
    try:
        return "ok", function(client, *arguments)
    except DigitaleFactuurError as error:
        return "error", error


class InlineRunner:
    """No workers: `submit` runs the job at once on the run's own client."""

    size = ahead = 1

    def __init__(self, client):
        self._client = client

    def send_all(self, jobs, stop: Callable[[tuple], bool]) -> list[tuple]:
        outcomes, stopped = [], False
        for job in jobs:
            if stopped:
                outcomes.append(("unsent", None))
                continue
            outcome = _outcome(job, self._client)
            outcomes.append(outcome)
            stopped = stop(outcome)
        return outcomes

    def submit(self, job, *args) -> Future:
        future = Future()
        try:
            future.set_result(job(self._client, *args))
        except Exception as error:  # handed over exactly as a worker's would be
            future.set_exception(error)
        return future

    def close(self) -> None:
        pass  # the run's client belongs to the run


class ExportPool:
    """`size` worker threads, each with a client of its own, all behind one `RateGate`."""

    def __init__(self, df_settings, size: int):
        self.size = size
        #: Jobs handed out before the exporter waits for the first: a worker that finishes
        #: finds the next job ready while the exporter waits for a slower one.
        self.ahead = 2 * size
        self.gate = RateGate()
        # Built here, in the run's thread: the credentials are read once per client and never
        # travel as a task argument or a closure.
        self._clients = [DigitaleFactuurClient.from_settings(
            df_settings.account_id, df_settings.access_code, gate=self.gate)
            for _worker in range(size)]
        self._idle: queue.SimpleQueue[DigitaleFactuurClient] = queue.SimpleQueue()
        for client in self._clients:
            self._idle.put(client)
        self._local = threading.local()
        # Translations are per thread: a worker's texts (warnings, error details) speak the
        # language of the run's thread.
        self._language = translation.get_language()
        self._executor = ThreadPoolExecutor(size, thread_name_prefix="digitalefactuur-export",
                                            initializer=self._take_client)

    def _take_client(self) -> None:
        self._local.client = self._idle.get_nowait()

    def _run(self, job, args):
        with translation.override(self._language):
            return job(self._local.client, *args)

    def submit(self, job, *args) -> Future:
        return self._executor.submit(self._run, job, args)

    def send_all(self, jobs, stop: Callable[[tuple], bool]) -> list[tuple]:
        stopped = threading.Event()
        judged = threading.Lock()

        def send(job):
            if stopped.is_set():  # a halt or an outage meanwhile: what waits is not sent
                return "unsent", None
            with translation.override(self._language):
                outcome = _outcome(job, self._local.client)
            with judged:
                if stop(outcome):
                    stopped.set()
            return outcome

        return list(self._executor.map(send, jobs))

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        for client in self._clients:
            client.close()


def open_runner(ctx, size: int):
    """The export's way to send: a pool of `size` workers, or inline on the run's client."""
    if size <= 1:
        return InlineRunner(ctx.client)
    return ExportPool(ctx.settings, size)
