"""Fault injection: the ways a real service misbehaves, on demand and reproducibly.

Each `/api` request passes `FaultInjector.decide` before it is handled:

1. `latency_ms` is slept first, on every request (a 429 too: a refusal costs a round trip).
2. The rate limit (`rate_limit` requests per second, 0 = off) is one token bucket for the whole
   server: every connection, thread and account draws from the same budget, which refills at
   `rate_limit` tokens a second and holds at most `rate_limit_burst` (0: one second's worth).
   A request that finds no token is answered `429 ...` with a `Retry-After` header saying, in
   whole seconds (HTTP's delta-seconds, rounded up), when the bucket holds a token again; a
   refused request takes no token. See `RateBucket`.
3. A fault queued with `fail_next(action, fault, count)` hits the next `count` requests to that
   action (`*` = any action): exact control for tests.
4. Otherwise one draw from a `random.Random(fault_seed)` picks `error` (share `error_rate`),
   `timeout` (`timeout_rate`), `garbled` (`garbled_rate`) or nothing. One draw per request, so a
   given seed and request order give the same faults every run.

What each fault does:
- `error`: `500 ...` as a body with HTTP 200, like every error of the API; nothing is applied.
- `http_error`: a real HTTP 503 with a text body; nothing is applied.
- `rate_limit`: `429 ...` with `Retry-After: retry_after_seconds`; nothing is applied.
- `timeout`: the request is handled (a write is APPLIED), then the answer waits
  `timeout_seconds`: a client that gives up earlier cannot know whether its write happened, the
  "ambiguous failure" the sync engine must survive.
- `garbled`: the request is handled (and applied), then the body is truncated XML or random
  bytes.

A reset wakes every request still sleeping on a timeout, so tests do not wait for each other.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import asdict, dataclass, fields

FAULT_KINDS = ("error", "http_error", "rate_limit", "timeout", "garbled")
API_ACTIONS = ("klanten", "klant_aanmaken", "klant_updaten", "klant_verwijderen", "facturen",
               "factuur_download")


@dataclass
class FaultSettings:
    latency_ms: float = 0.0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    garbled_rate: float = 0.0
    timeout_seconds: float = 30.0
    rate_limit: float = 0.0
    #: Requests the bucket lets through at once after a quiet spell; 0: one second's worth.
    rate_limit_burst: float = 0.0
    retry_after_seconds: int = 1
    fault_seed: int = 0

    def validate(self) -> None:
        rates = (self.error_rate, self.timeout_rate, self.garbled_rate)
        if any(not 0 <= rate <= 1 for rate in rates) or sum(rates) > 1:
            raise ValueError("error_rate, timeout_rate and garbled_rate are shares of 0..1 "
                             "and together at most 1")
        if min(self.latency_ms, self.timeout_seconds, self.rate_limit,
               self.rate_limit_burst) < 0:
            raise ValueError("latency_ms, timeout_seconds, rate_limit and rate_limit_burst "
                             "cannot be negative")
        if self.retry_after_seconds < 1:
            raise ValueError("retry_after_seconds is at least 1")


SETTING_NAMES = tuple(f.name for f in fields(FaultSettings))


class RateBucket:
    """One budget of requests per second for the whole server: a token bucket.

    It refills continuously at `rate` tokens a second up to `burst`; a request takes one token
    or is refused with the seconds until one is there. It starts full. Not thread-safe on its
    own: the fault injector calls it under its lock, which is what makes the budget one for
    every thread.
    """

    def __init__(self, rate: float, burst: float = 0.0, clock=time.monotonic):
        self.rate = rate
        self.burst = burst or max(1.0, rate)
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()

    def take(self) -> float:
        """0 when the request may go ahead (a token taken), else the seconds until a token."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate


class FaultInjector:
    def __init__(self, settings: FaultSettings | None = None):
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._settings = FaultSettings()
        self._random = random.Random(0)
        self._pending: list[dict] = []
        self._bucket: RateBucket | None = None
        self.configure(**asdict(settings or FaultSettings()))

    @property
    def settings(self) -> FaultSettings:
        with self._lock:
            return FaultSettings(**asdict(self._settings))

    def configure(self, **changes) -> dict:
        """Merge `changes` into the settings; the random sequence restarts from fault_seed."""
        unknown = set(changes) - set(SETTING_NAMES)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        with self._lock:
            merged = {**asdict(self._settings), **changes}
            candidate = FaultSettings(**{name: type(getattr(self._settings, name))(value)
                                         for name, value in merged.items()})
            candidate.validate()
            self._settings = candidate
            self._random = random.Random(candidate.fault_seed)
            # A new limit starts with a full bucket; other changes leave the budget as it is.
            if not candidate.rate_limit:
                self._bucket = None
            elif (self._bucket is None or self._bucket.rate != candidate.rate_limit
                  or self._bucket.burst != (candidate.rate_limit_burst
                                            or max(1.0, candidate.rate_limit))):
                self._bucket = RateBucket(candidate.rate_limit, candidate.rate_limit_burst)
        return self.describe()

    def fail_next(self, action: str, fault: str, count: int = 1) -> dict:
        if fault not in FAULT_KINDS:
            raise ValueError(f"fault must be one of {', '.join(FAULT_KINDS)}")
        if action != "*" and action not in API_ACTIONS:
            raise ValueError(f"action must be '*' or one of {', '.join(API_ACTIONS)}")
        if int(count) < 1:
            raise ValueError("count is at least 1")
        with self._lock:
            self._pending.append({"action": action, "fault": fault, "count": int(count)})
        return self.describe()

    def describe(self) -> dict:
        with self._lock:
            return {**asdict(self._settings), "pending": [dict(p) for p in self._pending]}

    def reset(self) -> None:
        with self._lock:
            self._settings = FaultSettings()
            self._random = random.Random(0)
            self._pending = []
            self._bucket = None
            # Wake requests sleeping on an earlier timeout: their clients are long gone.
            sleeping, self._wake = self._wake, threading.Event()
        sleeping.set()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                wake = self._wake
            wake.wait(seconds)

    def decide(self, account_id: str, action: str) -> tuple[str | None, int | None]:
        """The fault for this request (or None) and, for a 429, the Retry-After seconds.

        The rate limit does not look at `account_id`: the budget is the whole server's."""
        settings = self.settings
        self.sleep(settings.latency_ms / 1000)
        with self._lock:
            wait = self._bucket.take() if self._bucket is not None else 0.0
            if wait:
                # HTTP's Retry-After is whole seconds; rounded up, it is never too early.
                return "rate_limit", max(1, math.ceil(wait))
            for queued in self._pending:
                if queued["action"] in ("*", action):
                    queued["count"] -= 1
                    if queued["count"] == 0:
                        self._pending.remove(queued)
                    return queued["fault"], settings.retry_after_seconds
            draw = self._random.random()
        threshold = 0.0
        for fault, rate in (("error", settings.error_rate),
                            ("timeout", settings.timeout_rate),
                            ("garbled", settings.garbled_rate)):
            threshold += rate
            if draw < threshold:
                return fault, settings.retry_after_seconds
        return None, None

    def garble(self, body: bytes) -> bytes:
        """Truncated XML or random bytes, chosen and shaped by the seeded generator."""
        with self._lock:
            if len(body) > 40 and self._random.random() < 0.5:
                # Cut before the closing tag, so the result can never be well formed.
                return body[: self._random.randrange(len(body) // 4, len(body) - 20)]
            length = self._random.randrange(32, 256)
            # A first byte above ASCII: no client may take random bytes for an "NNN" error.
            return bytes([self._random.randrange(128, 256)]) + self._random.randbytes(length)


class Counters:
    """Requests received under /api: total, per method and per action (others as 'other')."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._counts = {"total": 0, "GET": 0, "POST": 0, **dict.fromkeys(API_ACTIONS, 0),
                            "other": 0}
            self._faults = dict.fromkeys(FAULT_KINDS, 0)

    def count_request(self, method: str, action: str) -> None:
        with self._lock:
            self._counts["total"] += 1
            if method in ("GET", "POST"):
                self._counts[method] += 1
            self._counts[action if action in API_ACTIONS else "other"] += 1

    def count_fault(self, fault: str) -> None:
        with self._lock:
            self._faults[fault] += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {**self._counts, "faults": dict(self._faults)}
