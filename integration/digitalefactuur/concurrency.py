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

`Senders.send_chunk(writes, stop)` is the one way a chunk's writes go out: each write is a
(function, arguments...) called as function(client, *arguments), and the answers come back in
the writes' order (`ThreadPoolExecutor.map` keeps it; without workers a plain loop on the run's
own client). A write is not sent once `stop` has said so of an earlier answer (a halt,
DigitaleFactuur down): its answer is `stopped`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Answer:
    """What one write of a chunk came to: its result or its error; neither when nothing came
    back (a preview sends nothing: what was planned stands)."""

    result: object = None
    error: DigitaleFactuurError | None = None
    #: Never sent: `stop` said so of an earlier answer.
    stopped: bool = False


class Senders:
    """The export's clients: the run's own (`size` 1), or `size` workers with a client each,
    all behind one `RateGate`."""

    def __init__(self, run_client, df_settings, size: int):
        self.size = max(1, size)
        self._run_client = run_client
        self._clients: list[DigitaleFactuurClient] = []
        self._executor = None
        self._local = threading.local()
        # Translations are per thread: a worker's texts (warnings, error details) speak the
        # language of the run's thread.
        self._language = translation.get_language()
        if self.size == 1:
            return
        self.gate = RateGate()
        # Built here, in the run's thread: the credentials are read once per client and never
        # travel as a task argument or a closure.
        self._clients = [DigitaleFactuurClient.from_settings(
            df_settings.account_id, df_settings.access_code, gate=self.gate)
            for _worker in range(self.size)]
        idle: queue.SimpleQueue[DigitaleFactuurClient] = queue.SimpleQueue()
        for client in self._clients:
            idle.put(client)

        def take_client() -> None:
            self._local.client = idle.get_nowait()

        self._executor = ThreadPoolExecutor(self.size, initializer=take_client,
                                            thread_name_prefix="digitalefactuur-export")

    def send_chunk(self, writes: list[tuple], stop: Callable[[Answer], bool]) -> list[Answer]:
        """Every write of a chunk, at most `size` at a time; the answers in the writes' order."""
        stopped = threading.Event()
        judged = threading.Lock()

        def send(write: tuple) -> Answer:
            if stopped.is_set():  # a halt or an outage meanwhile: what waits is not sent
                return Answer(stopped=True)
            function, *arguments = write
            client = getattr(self._local, "client", self._run_client)
            with translation.override(self._language):
                try:
                    answer = Answer(result=function(client, *arguments))
                except DigitaleFactuurError as error:
                    answer = Answer(error=error)
            with judged:
                if stop(answer):
                    stopped.set()
            return answer

        if self._executor is None:
            return [send(write) for write in writes]
        return list(self._executor.map(send, writes))

    def close(self) -> None:
        """The workers and their clients; the run's client belongs to the run."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        for client in self._clients:
            client.close()
