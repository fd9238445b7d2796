"""The total deadline of one request: a watchdog that cuts a connection answering too slowly.

Timeouts bound each socket read, not the exchange: a server that trickles a byte at a time
(into the headers or the body) would hold us for hours. A watchdog shuts the socket of the
request under way when its deadline passes; the blocked read then returns and the client ends
the attempt as a Timeout. The connection is found through public hooks of urllib3: the pool
classes of the PoolManager, the connection class of a pool, and the connection's `request`.

The watchdog is one long-lived daemon thread per process, sleeping until the earliest armed
deadline (a heap): starting a thread per request cost more than many a request on loopback.
Arming and disarming take one lock; a disarmed watch can never be expired afterwards, so a
connection back in the pool is never cut.

Only `client.py` uses this module: it mounts `WatchedAdapter` on its session, sends each
request with `send` (through the adapter alone: requests' redirect handling reads a 3xx's whole
body and parses its `Location` even with redirects off), wraps it in `watch(seconds)`, reads each
answer with `read_body` (bounded in size and time) or, a list answer, a part at a time with
`BodyStream` (bounded alike, the caller's time between parts not counted), and turns whatever
the wire raised into one of our errors with `failure_for`, the one place that classifies a
transport failure.
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator

import requests
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from integration.digitalefactuur.errors import (
    DigitaleFactuurError,
    ProtocolError,
    ServiceUnavailable,
    Timeout,
    UnreadableAnswer,
)

_watched = threading.local()


class Watch:
    """The deadline of the request under way in this thread; `expired` once it has passed."""

    __slots__ = ("armed", "connection", "expired", "reused")

    def __init__(self):
        self.connection = None
        self.expired = False
        self.armed = True
        self.reused = False  # sent on a kept-alive connection that had served a request

    def expire(self) -> None:
        self.expired = True
        sock = getattr(self.connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed: nothing left to cut
                sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        """Disarm; call before the connection goes back to the pool, never cut a reused one."""
        _watchdog.disarm(self)


class _Watchdog:
    """The process's one watchdog thread and the deadlines it watches."""

    # Disarmed watches stay in the heap until they come up; past this many (and half the heap)
    # the heap is rebuilt, so a long run of quick requests keeps it small.
    _COMPACT_AFTER = 64

    def __init__(self):
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()  # ties never compare two Watch objects
        self._disarmed = 0
        self._thread: threading.Thread | None = None

    def arm(self, current: Watch, seconds: float) -> None:
        deadline = time.monotonic() + max(0.0, seconds)
        with self._condition:
            heapq.heappush(self._heap, (deadline, next(self._order), current))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="digitalefactuur-watchdog")
                self._thread.start()
            elif self._heap[0][2] is current:  # earlier than what the thread sleeps towards
                self._condition.notify()

    def disarm(self, current: Watch) -> None:
        with self._condition:
            if not current.armed:
                return
            current.armed = False
            self._disarmed += 1
            if self._disarmed > self._COMPACT_AFTER and self._disarmed * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if entry[2].armed]
                heapq.heapify(self._heap)
                self._disarmed = 0

    def _run(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                while self._heap and (not self._heap[0][2].armed or self._heap[0][0] <= now):
                    _deadline, _order, due = heapq.heappop(self._heap)
                    if due.armed:
                        # Under the lock: `disarm` returning means this can no longer happen.
                        due.armed = False
                        due.expire()
                    else:
                        self._disarmed = max(0, self._disarmed - 1)
                self._condition.wait(self._heap[0][0] - now if self._heap else None)


_watchdog = _Watchdog()


def _after_fork() -> None:
    # The thread (and maybe a held lock) stay behind in the parent: the child starts afresh.
    global _watchdog
    _watchdog = _Watchdog()


os.register_at_fork(after_in_child=_after_fork)


@contextlib.contextmanager
def watch(seconds: float) -> Iterator[Watch]:
    """Arm the watchdog for the request made in this thread inside the block."""
    current = _watched.current = Watch()
    _watchdog.arm(current, seconds)
    try:
        yield current
    finally:
        current.cancel()
        _watched.current = None


class _WatchedRequest:
    def request(self, *args, **kwargs):
        current = getattr(_watched, "current", None)
        if current is not None:
            current.connection = self
            current.reused = getattr(self, "_served", False)
        self._served = True
        return super().request(*args, **kwargs)


class _HTTPConnection(_WatchedRequest, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_WatchedRequest, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class WatchedAdapter(HTTPAdapter):
    """requests' adapter whose connections make themselves known to the current `Watch`."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


# --- sending a request ------------------------------------------------------------------------


def send(session: requests.Session, method: str, url: str, *, data=None,
         timeout: tuple[float, float]) -> requests.Response:
    """Send one request through `session`'s adapter and return the answer unread (streamed).

    Not `session.request`: with `allow_redirects=False`, `Session.send` still works out the
    request a redirect would make (`resolve_redirects(..., yield_requests=True)`, for
    `Response.next`), and to do so reads the whole body of any 3xx that carries a `Location`
    into memory, without limit, and parses that `Location` (a malformed one raises a bare
    ValueError). DigitaleFactuur does not redirect: a 3xx is classified on its status alone and
    its body is never read. Cookies and hooks, the rest of `Session.send`, the API does not use.
    """
    prepared = session.prepare_request(requests.Request(method, url, data=data))
    # The environment's proxies and CA bundle, as `session.request` would take them.
    options = session.merge_environment_settings(prepared.url, {}, True, None, None)
    return session.get_adapter(prepared.url).send(prepared, timeout=timeout, **options)


# --- reading an answer ------------------------------------------------------------------------

_CHUNK_BYTES = 64 * 1024


class TooLarge(Exception):
    """The answer is (or says it is) larger than the client accepts."""

    def __init__(self, limit: int):
        super().__init__(limit)
        self.limit = limit


class DeadlinePassed(Exception):
    """The total deadline passed while the answer was still arriving."""


def read_body(response, deadline: float, max_bytes: int) -> bytes:
    """The body of a streamed `requests` response, refused past `max_bytes` or the deadline."""
    if too_large(response, max_bytes):
        raise TooLarge(max_bytes)
    chunks, size = [], 0
    while True:
        if time.monotonic() > deadline:
            raise DeadlinePassed("total deadline passed while reading the answer")
        # read1 returns what has arrived instead of waiting for a full chunk, so the deadline
        # is checked at least once per socket read.
        chunk = response.raw.read1(_CHUNK_BYTES, decode_content=True)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(max_bytes)
        chunks.append(chunk)


def read_head(response, deadline: float, max_bytes: int) -> bytes:
    """The first bytes of a body, enough to tell an error (`NNN message`) from a document: up
    to four past any leading whitespace (and byte order mark), or all there is."""
    head = b""
    while len(head.lstrip(b" \t\r\n\x0b\x0c\xef\xbb\xbf")) < 4:
        if time.monotonic() > deadline:
            raise DeadlinePassed("total deadline passed while reading the answer")
        chunk = response.raw.read1(_CHUNK_BYTES, decode_content=True)
        if not chunk:
            break
        head += chunk
        if len(head) > max_bytes:
            raise TooLarge(max_bytes)
    return head


def too_large(response, max_bytes: int) -> bool:
    """Whether the answer says (Content-Length) that it is larger than `max_bytes`."""
    declared = response.headers.get("Content-Length", "")
    # isascii: "²" is a digit to isdigit() and not a number to int().
    return declared.isascii() and declared.isdigit() and int(declared) > max_bytes


class BodyStream:
    """The body of a streamed answer read a part at a time, for a caller that works on each
    part before it asks for the next (a list answer parsed while it arrives).

    Each read is watched like a request: the watchdog cuts the connection when the reads have
    taken `seconds` together. The time the caller spends between reads does not count: then the
    server waits for us, not we for it. Past `max_bytes` in all, TooLarge. `close` lets the
    connection go (back to the pool when the body was read to its end, else closed).
    """

    def __init__(self, response, connection, seconds: float, max_bytes: int,
                 head: bytes = b""):
        self._response, self._connection = response, connection
        self._left = seconds
        self.max_bytes = max_bytes
        self._head = head
        self.size = len(head)

    def read(self) -> bytes:
        """The next part of the body; b"" at its end."""
        if self._head:
            head, self._head = self._head, b""
            return head
        if self._left <= 0:
            raise DeadlinePassed("total deadline passed while reading the answer")
        started = time.monotonic()
        with watch(self._left) as current:
            current.connection = self._connection
            chunk = self._response.raw.read1(_CHUNK_BYTES, decode_content=True)
        self._left -= time.monotonic() - started
        if current.expired:
            raise DeadlinePassed("total deadline passed while reading the answer")
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise TooLarge(self.max_bytes)
        return chunk

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = self._connection = None


# --- classifying a failure --------------------------------------------------------------------

# Before the general families below: these are RequestExceptions (or ValueErrors) too, but say
# that the address or the answer cannot be used, which no retry changes.
_UNUSABLE = (
    requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema, requests.exceptions.InvalidHeader,
    requests.exceptions.ContentDecodingError, urllib3.exceptions.DecodeError,
    urllib3.exceptions.LocationValueError,
)
_TIMEOUTS = (requests.Timeout, urllib3.exceptions.TimeoutError, DeadlinePassed, TimeoutError)
_UNREACHABLE = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)


def failure_for(exc: Exception, *, url: str, detail: str) -> DigitaleFactuurError:
    """The error of ours that a failure of the wire means; every exception has one.

    requests, urllib3, http.client, ssl, socket, urllib.parse and the idna codec each raise from
    their own families (ValueError and UnicodeError among them, for a malformed address or
    header), and one left unclassified would escape the client with the URL, code included, in
    its frames. `url` is the redacted URL; `detail` the exception described without the code.
    """
    if isinstance(exc, _TIMEOUTS):
        return Timeout(url=url, detail=detail)
    if isinstance(exc, TooLarge):
        return ProtocolError(url=url, detail=f"antwoord > {exc.limit} bytes")
    if isinstance(exc, _UNUSABLE):
        return ProtocolError(url=url, detail=detail)
    if isinstance(exc, _UNREACHABLE):
        return ServiceUnavailable(url=url, detail=detail)
    if isinstance(exc, http.client.HTTPException):
        # A status line or header http.client could not read and urllib3 did not wrap: most
        # likely garbled on the way, like an unreadable body.
        return UnreadableAnswer(url=url, detail=detail)
    # ValueError, UnicodeError and whatever else the libraries raise: an answer or address we
    # cannot use. Halting says so; the detail names the exception's type.
    return ProtocolError(url=url, detail=detail)
