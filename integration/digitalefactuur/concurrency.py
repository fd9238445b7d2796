"""Adaptive concurrency: a few worker threads, each with a client of its own, and a limit on
how many of them send at once that the answers move.

At an internet round trip per request, a run's wall time is the network's; having a few
requests in flight at once takes most of it off: the export's writes (`Senders`), and the pages
of the full read, read ahead while the run writes the one before (`Workers.pages`, used by
`client.iter_pages`). How many DigitaleFactuur accepts is not published (we assume a 429 with
Retry-After), so the number is learnt while the run goes (`AdaptiveLimit`): one request at a
time to begin with, one more after every answer until the first 429 or timeout (a slow start:
the limit doubles every round trip, so a run that meets no limit reaches the cap within a few
round trips instead of dozens), and from then on one more after a run of answers without a
429, up to the cap `DIGITALEFACTUUR_CONCURRENCY` (1..8, default 8; 1 keeps the run strictly
sequential, on its own client); half as many after a 429, and one again after a timeout (a
service that does not answer in time is not helped by more requests). After every 429 the run
it takes to grow doubles, so a run that met the limit stays just below it instead of knocking
on it. What this module promises the engine:

- Workers only speak HTTP. Reading and writing the database stays in the run's own thread:
  Django's connections are per thread, and one thread writing keeps the order of events, the
  progress and the lock's heartbeat exactly as they are without workers.
- One client, so one `requests.Session`, per worker (a Session is not guaranteed thread-safe).
  The clients are built in the run's thread from the same settings and credentials as the run's
  own client: the configuration is shared, the sessions are not.
- A 429 backs the whole run off: when any client is refused, every client (the run's own too)
  holds its next request until the Retry-After has passed (`RateGate`, the gate every client
  consults), instead of each retrying on its own while the others keep knocking. A hold longer
  than what is left of a call's retry budget fails that call as the 429 itself would have,
  without sending what the server asked us not to send. Each client's attempts, budget and
  deadline still hold as they are; a 429 is not counted as an attempt, so under a rate limit a
  record waits instead of failing.
- Work starts in order: the run's thread hands a write or a page to a worker only when the
  limit has room, so a smaller limit holds back what is not sent yet, never what is under way.

`Senders.send_chunk(writes, stop)` is the one way a chunk's writes go out: each write is a
(function, arguments...) called as function(client, *arguments), and the answers come back in
the writes' order (without workers a plain loop on the run's own client). A write is not sent
once `stop` has said so of an earlier answer (a halt, DigitaleFactuur down): its answer is
`stopped`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _

from .client import DigitaleFactuurClient
from .errors import DigitaleFactuurError, RateLimited, Timeout

logger = logging.getLogger(__name__)

#: How long a 429 without a Retry-After holds the export.
DEFAULT_HOLD_SECONDS = 1.0
#: Answers without a 429 in a row before one more request may be in flight (doubled after
#: every 429, up to MAX_PATIENCE times).
GROW_AFTER = 8
MAX_PATIENCE = 32
#: Pages read ahead at most, besides the one the caller works on (the import, which writes
#: each page for longer than a page takes to come).
READ_AHEAD = 2
#: The same for the account's full read before an export, which does little per page (its
#: time is the pages' round trips); a page of 100 klanten is some 320 kB.
ACCOUNT_READ_AHEAD = 6


class AdaptiveLimit:
    """How many requests may be in flight at once, learnt from the answers (a slow start, then
    additive increase, multiplicative decrease): 1 to begin with; one more after every answer
    until the first 429 or timeout; from then on one more after a run of answers without a
    429, up to `cap`; half as many after a 429; 1 after a timeout. The run it takes to grow is
    GROW_AFTER answers, twice as long after each 429.

    `acquire` (the run's thread, before handing a request out) waits until fewer than the
    limit are in flight; `release` (the worker, when its request is done) makes room;
    `answered` (every attempt of every client, through the gate) moves the limit.
    """

    def __init__(self, cap: int):
        self.cap = max(1, cap)
        self.limit = 1
        #: The largest limit reached, and how often it grew and shrank (for the log).
        self.peak = 1
        self.grown = self.shrunk = 0
        self._in_flight = 0
        self._streak = 0
        self._patience = 1
        #: Until the first 429 or timeout every answer grows the limit (the slow start).
        self._starting = True
        self._changed = threading.Condition()

    def acquire(self) -> None:
        with self._changed:
            while self._in_flight >= self.limit:
                self._changed.wait()
            self._in_flight += 1

    def try_acquire(self) -> bool:
        with self._changed:
            if self._in_flight >= self.limit:
                return False
            self._in_flight += 1
            return True

    def release(self) -> None:
        with self._changed:
            self._in_flight -= 1
            self._changed.notify_all()

    def answered(self, failure: DigitaleFactuurError | None) -> None:
        with self._changed:
            before = self.limit
            if isinstance(failure, RateLimited):
                self.limit = max(1, self.limit // 2)
                self._patience = min(MAX_PATIENCE, self._patience * 2)
                self._streak, self._starting = 0, False
            elif isinstance(failure, Timeout):
                self.limit, self._streak, self._starting = 1, 0, False
            elif failure is None:
                self._streak += 1
                patient = self._starting or self._streak >= GROW_AFTER * self._patience
                if patient and self.limit < self.cap:
                    self.limit, self._streak = self.limit + 1, 0
            if self.limit == before:
                return
            if self.limit > before:
                self.grown += 1
                self.peak = max(self.peak, self.limit)
            else:
                self.shrunk += 1
            self._changed.notify_all()
        cause = type(failure).__name__ if failure else "success"
        logger.info("digitalefactuur requests in flight at once: %d (was %d, after %s)",
                    self.limit, before, cause, extra={
                        "df_concurrency": self.limit, "df_concurrency_was": before,
                        "df_concurrency_after": cause})


class RateGate:
    """The moment the run may send again, moved later by every 429 any of its clients gets;
    it tells `limit` (an AdaptiveLimit) of every answer."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 limit: AdaptiveLimit | None = None):
        self.limit = limit
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._open_at = float("-inf")

    def hold(self, seconds: float | None) -> None:
        seconds = DEFAULT_HOLD_SECONDS if seconds is None else max(0.0, seconds)
        with self._lock:
            self._open_at = max(self._open_at, self._clock() + seconds)
        logger.info("digitalefactuur rate limited: every request waits %.1f s", seconds)

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
                "de koppeling wacht op de limiet van DigitaleFactuur: nog %(seconds).0f s") % {
                "seconds": closed})

    def answered(self, failure: DigitaleFactuurError | None) -> None:
        if isinstance(failure, RateLimited):
            self.hold(failure.retry_after)
        if self.limit is not None:
            self.limit.answered(failure)


@dataclass(frozen=True)
class Answer:
    """What one write of a chunk came to: its result or its error; neither when nothing came
    back (a preview sends nothing: what was planned stands)."""

    result: object = None
    error: DigitaleFactuurError | None = None
    #: Never sent: `stop` said so of an earlier answer.
    stopped: bool = False


class Workers:
    """The run's workers: up to `cap` threads with a client each, all behind one `RateGate` and
    as many at once as their `AdaptiveLimit` says. With `cap` 1 there are none (`gate` is None,
    and everything is sent on the run's own client, one request at a time).

    The threads and their clients are made the first time work is handed out (a run that sends
    nothing and reads one page makes none), in the run's thread: the credentials are read once
    per client and never travel as a task argument or a closure. `wrap` (the writer's
    `client_for`) makes them what the run's client is: read-only in a preview.
    """

    def __init__(self, df_settings, cap: int, wrap: Callable = lambda client: client):
        self.cap = max(1, cap)
        self.limit = AdaptiveLimit(self.cap) if self.cap > 1 else None
        #: The gate every client of the run consults, the run's own too (`df.client(gate=...)`).
        self.gate = RateGate(limit=self.limit) if self.cap > 1 else None
        self._df_settings = df_settings
        self._wrap = wrap
        self._clients: list[DigitaleFactuurClient] = []
        self._executor: ThreadPoolExecutor | None = None
        self._local = threading.local()
        # Translations are per thread: a worker's texts (warnings, error details) speak the
        # language of the run's thread.
        self._language = translation.get_language()

    def _start(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._clients = [DigitaleFactuurClient.from_settings(
                self._df_settings.account_id, self._df_settings.access_code, gate=self.gate)
                for _worker in range(self.cap)]
            idle: queue.SimpleQueue = queue.SimpleQueue()
            for client in self._clients:
                idle.put(self._wrap(client))

            def take_client() -> None:
                self._local.client = idle.get_nowait()

            self._executor = ThreadPoolExecutor(self.cap, initializer=take_client,
                                                thread_name_prefix="digitalefactuur")
        return self._executor

    def submit(self, function: Callable, *arguments, wait: bool = True) -> Future | None:
        """function(client, *arguments) on a worker, once the limit has room (the run's thread
        waits for it; with `wait` False, None when there is none now)."""
        if wait:
            self.limit.acquire()
        elif not self.limit.try_acquire():
            return None
        try:
            return self._start().submit(self._run, function, arguments)
        except BaseException:
            self.limit.release()
            raise

    def _run(self, function: Callable, arguments: tuple):
        try:
            with translation.override(self._language):
                return function(self._local.client, *arguments)
        finally:
            self.limit.release()

    def pages(self, read: Callable, more: Callable[[object], bool],
              ahead: int = READ_AHEAD) -> Iterator:
        """read(client, 1), read(client, 2), ... in order, the next pages read while the
        caller works on this one: a read-ahead of as many pages as the limit has room for, at
        most `ahead` (memory holds at most that many pages besides the caller's; writing a
        page takes longer than reading one at an internet round trip, so a few hide it).
        The read-ahead deepens by one page with every page the caller takes: the first page
        comes alone, so a list that ends right there is not read past its end (a read-ahead
        is a guess that the list goes on; each page that did makes the next guess bolder).
        After a page for which `more(page)` is false (a short page: likely the last), no page
        is read ahead until one is asked for. An error is raised where its page comes.
        Closing the iterator stops the reading; pages already under way are read and
        dropped."""
        under_way: deque[Future] = deque()
        page, more_ahead, taken = 1, True, 0
        try:
            while True:
                if not under_way:
                    under_way.append(self.submit(read, page))
                    page += 1
                while more_ahead and len(under_way) < min(self.cap, ahead, taken + 1):
                    future = self.submit(read, page, wait=False)
                    if future is None:
                        break
                    under_way.append(future)
                    page += 1
                answer = under_way.popleft().result()
                more_ahead = more(answer)
                taken += 1
                yield answer
        finally:
            for future in under_way:
                if future.cancel():  # never started: its room in the limit is given back
                    self.limit.release()

    def close(self) -> None:
        """The workers and their clients; the run's client belongs to the run."""
        if self.limit is not None and self.limit.peak > 1:
            logger.info("digitalefactuur run: at most %d requests in flight (cap %d), grown %d "
                        "and shrunk %d times", self.limit.peak, self.cap, self.limit.grown,
                        self.limit.shrunk)
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        for client in self._clients:
            client.close()


class Senders:
    """The export's writes: on the run's own client one at a time (`size` 1: a change push of
    one relation, or a cap of 1), or handed to the run's workers."""

    def __init__(self, run_client, workers: Workers, size: int):
        self.size = max(1, min(size, workers.cap))
        self._run_client = run_client
        self._workers = workers
        #: One thread that hands a chunk's writes out while the run's thread plans the next.
        self._hands: ThreadPoolExecutor | None = None

    def send_chunk(self, writes: list[tuple], stop: Callable[[Answer], bool]) -> list[Answer]:
        """Every write of a chunk, as many at a time as the limit says; the answers in the
        writes' order."""
        return self.start_chunk(writes, stop)()

    def start_chunk(self, writes: list[tuple],
                    stop: Callable[[Answer], bool]) -> Callable[[], list[Answer]]:
        """`send_chunk` begun: the writes are handed to the workers (in order, as the limit
        has room) while the caller goes on; the function returned waits for the answers, in
        the writes' order. On the run's own client (`size` 1) nothing is sent before that
        function is called."""
        stopped = threading.Event()
        judged = threading.Lock()

        def send(client, write: tuple) -> Answer:
            if stopped.is_set():  # a halt or an outage meanwhile: what waits is not sent
                return Answer(stopped=True)
            function, *arguments = write
            try:
                answer = Answer(result=function(client, *arguments))
            except DigitaleFactuurError as error:
                answer = Answer(error=error)
            with judged:
                if stop(answer):
                    stopped.set()
            return answer

        if self.size == 1:
            return lambda: [send(self._run_client, write) for write in writes]

        def hand_out() -> list[Future | Answer]:
            handed_out: list[Future | Answer] = []
            for write in writes:
                # Handed out in order, only when the limit has room: what a 429 or a timeout
                # holds back is what was not sent yet.
                if stopped.is_set():
                    handed_out.append(Answer(stopped=True))
                    continue
                handed_out.append(self._workers.submit(send, write))
            return handed_out

        if not writes:
            return list
        if self._hands is None:
            self._hands = ThreadPoolExecutor(1, thread_name_prefix="digitalefactuur-hand")
        handing = self._hands.submit(hand_out)
        return lambda: [answer if isinstance(answer, Answer) else answer.result()
                        for answer in handing.result()]

    def close(self) -> None:
        """The thread that hands writes out; the workers are the run's (sync.py closes them)."""
        if self._hands is not None:
            self._hands.shutdown(wait=True)
