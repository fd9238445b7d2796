"""The DigitaleFactuur client: the only code in the product that speaks HTTP to DigitaleFactuur.

One `DigitaleFactuurClient` per sync run (or per "Koppeling testen"): one keep-alive
`requests.Session`, a timeout and `allow_redirects=False` on every call, a total deadline and a
size limit on every answer, and one door (`_attempt`) every request passes through.

What it guarantees to the sync engine:

- Every failure is a `DigitaleFactuurError` whose `action` says retry, halt or skip
  (see `errors.py`). Reads and updates are retried here already (tenacity, `_retrying`), with
  exponential backoff and full jitter, bounded by `max_attempts` and by `retry_budget` seconds;
  a Retry-After is honoured but never slept past the budget, and a 429 with a Retry-After is
  not counted as an attempt (the budget bounds it: under a rate limit a record waits, it does
  not fail).
  The errors are classified from the answer, body included (DigitaleFactuur often reports them
  in an HTTP 200), before tenacity decides on them.
- A `gate` (optional, shared by clients sending at once: `concurrency.RateGate`) is a policy the
  client consults: it is asked to admit every attempt of a call (within what is left of the
  call's retry budget) and told of every answer (a 429 closes it for everyone).
- A GET that meets a kept-alive connection the server closed just then is sent once more at
  once, on a fresh connection (it never reached the server; not counted as an attempt).
- A list answer is read while it arrives (`_klanten_parts`, `schema.KlantenReader`): its
  klanten are handed out a slice at a time, so memory holds a slice and the ids, whatever the
  answer's size. It has its own size bound (`max_list_bytes`: DIGITALEFACTUUR_MAX_LIST_MB, and
  schema.MAX_KLANT_BYTES a klant); every other answer stays under MAX_BODY_BYTES.
- A create is never repeated blindly: after an ambiguous failure (a timeout, a dropped
  connection, a 5xx) the relatienummer is looked up first, and only created again when absent.
- The access code, which the API puts in the URL path, never reaches a log record, an exception
  or a repr: every URL goes through `redact_url`, every server text is scrubbed, requests'
  own exceptions are never chained, and urllib3's debug log gets a redacting filter.

What it does not assume about DigitaleFactuur (README, "What we do not assume"):

- that `&page` is honoured: a list ends at an empty page, or at a page that brings no klant not
  read before (a service that answers every klant whatever the page, or repeats its last page);
  an id read twice is read once, and a list whose pages keep repeating what was read is refused;
- that `&relatienummer=N` filters: `lookup_number` says whether the answer shows the filter
  honoured (every klant in it has that number), and `find_everywhere` falls back to reading the
  whole account when it does not;
- what a write answers: the klant, `<klanten>` holding it, only `<id>`, a short text, nothing.
  `WriteResult.klant` is the klant answered, or else the klant as sent (with the id when the
  answer held one): an id-less result is for the caller to resolve by the number;
- what `klant_updaten` does with absent elements: `update(..., base=...)` sends the whole klant
  as last read, with only our fields changed.

Writes return a `WriteResult`: the klant as the server answered it (or as sent), the Dutch
warnings of the schema (characters stripped before sending), and whether a create was recovered
by a lookup.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol
from urllib.parse import quote

import requests
from django.utils.translation import gettext_lazy
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_random_exponential

from integration.digitalefactuur import redaction, transport
from integration.digitalefactuur.errors import (
    Conflict,
    DigitaleFactuurError,
    ProtocolError,
    RateLimited,
    ServiceUnavailable,
    Timeout,
    UnreadableAnswer,
    error_for_response,
)
from integration.digitalefactuur.redaction import redact_text, redact_url, register_secret_holder
from integration.digitalefactuur.schema import (
    DfKlant,
    KlantenReader,
    KlantTooLarge,
    SchemaError,
    is_error_body,
    klant_to_xml,
    normalise_value,
    parse_klant,
    parse_write_answer,
    valid_id,
)

__all__ = ["MAX_BODY_BYTES", "ApiReading", "DigitaleFactuurClient", "Listing", "NumberAnswer",
           "ReadOnlyClient", "WriteRefused", "WriteResult"]

logger = logging.getLogger(__name__)

#: An answer larger than this is refused: a page of 100 klanten is some 50 kB. A list answer
#: has its own bound (`max_list_bytes`, DIGITALEFACTUUR_MAX_LIST_MB), as it is read while it
#: arrives, a klant at a time (`schema.KlantenReader`, each klant at most MAX_KLANT_BYTES).
MAX_BODY_BYTES = 20 * 1024 * 1024
#: 429s with a Retry-After one call waits for besides its attempts (the budget bounds them too).
MAX_REFUSALS = 20
#: Exponential backoff with full jitter: a random wait below 0.5 s, 1 s, 2 s, ... at most 30 s.
_BACKOFF = wait_random_exponential(multiplier=0.5, max=30.0)
#: What a request that may be repeated is sent again for: nothing happened, or repeating is
#: harmless (a garbled answer is asked for again like a timeout).
RETRYABLE = (Timeout, ServiceUnavailable, RateLimited, UnreadableAnswer)
#: Klanten handed to the caller at a time: a page of 20,000 (a service that ignores paging) is
#: planned and written in slices, never in one transaction.
SLICE_SIZE = 250
#: What the administrator reads when a list answer is larger than DIGITALEFACTUUR_MAX_LIST_MB
#: (the setting and the bound are in the technical details, for whoever runs the server).
_LIST_TOO_LARGE = gettext_lazy(
    "De klantenlijst van DigitaleFactuur is groter dan de koppeling accepteert; de "
    "synchronisatie is gestopt. Heeft het account werkelijk zoveel klanten, vraag dan wie de "
    "server beheert de grens voor de klantenlijst te verhogen (de technische details noemen "
    "de instelling); zo niet, neem dan contact op met DigitaleFactuur.")
#: A number no klant carries, to see whether the number filter is honoured at all.
_UNUSED_NUMBER = "0"

# --- results --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The answer to a create or an update."""

    #: The klant as DigitaleFactuur answered it (with its id).
    klant: DfKlant
    #: Dutch warnings of the schema: characters stripped before sending, per field.
    warnings: tuple[str, ...] = ()
    #: True when a create failed ambiguously and the klant was then found by its relatienummer.
    recovered: bool = False
    #: True when the answer held the klant; False when `klant` is what was sent (the answer was
    #: only an id, a text or nothing). Its id is "" when the answer did not say it.
    answered: bool = True


@dataclass
class Listing:
    """How one read of the klanten list went: what the engine logs and Koppeling testen learns."""

    pages: int = 0
    #: Klanten handed out (each id once).
    read: int = 0
    #: Klanten dropped because their id was read before in this list.
    repeated: int = 0
    #: The list ended at a page that brought nothing new, not at an empty page: the service
    #: answers every klant whatever the page, or repeats its last page past the end.
    ended_by_repeat: bool = False
    #: Klanten on page 1 (`_repeats_whole_first_page`).
    first_size: int = 0


@dataclass(frozen=True)
class NumberAnswer:
    """The answer to `klanten&relatienummer=N`: every klant it held, and whether it shows the
    filter honoured (none of them carries another number)."""

    number: str
    klanten: list[DfKlant]
    honoured: bool

    def with_number(self) -> list[DfKlant]:
        return [k for k in self.klanten if normalise_value(k.relatienummer) == self.number]


@dataclass
class ApiReading:
    """What "Koppeling testen" learned of the open points: "honoured", "ignored" or "unknown"."""

    paging: str = "unknown"
    number_filter: str = "unknown"
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, str]:
        return {"paging": self.paging, "number_filter": self.number_filter}


# --- the client -------------------------------------------------------------------------------


class Gate(Protocol):
    """A policy the client consults around every attempt of a call (see the module docstring)."""

    def admit(self, budget_left: float) -> None:
        """Return when the attempt may go; raise (RateLimited) when that is past `budget_left`."""

    def answered(self, failure: DigitaleFactuurError | None) -> None:
        """One attempt's outcome: None for a success, else the error it raised."""


class DigitaleFactuurClient:
    """A connection to one DigitaleFactuur account. Use as a context manager, or `close()` it."""

    def __init__(
        self,
        base_url: str,
        account_id: str,
        access_code: str,
        *,
        connect_timeout: float = 5,
        read_timeout: float = 15,
        max_attempts: int = 4,
        retry_budget: float = 60,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        test_timeout: float = 5,
        total_timeout: float | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_list_bytes: int | None = None,
        gate: Gate | None = None,
    ):
        account_id, access_code = str(account_id).strip(), str(access_code).strip()
        if not str(base_url).startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL")
        if not account_id or not access_code:
            raise ValueError("account_id and access_code are required")
        self.base_url = str(base_url).rstrip("/")
        self.account_id = account_id
        self.__access_code = access_code
        self.connect_timeout = float(connect_timeout)
        self.read_timeout = float(read_timeout)
        self.test_timeout = float(test_timeout)
        # Per-read timeouts do not stop a server that trickles a byte now and then: the whole
        # answer must also arrive within this many seconds.
        self.total_timeout = float(total_timeout or self.connect_timeout + 2 * self.read_timeout)
        self.max_attempts = max(1, int(max_attempts))
        self.retry_budget = float(retry_budget)
        self.max_body_bytes = int(max_body_bytes)
        # A list answer is never held whole (`_klanten_parts`), so it may be larger than any
        # other; the product's bound comes from the settings (`from_settings`).
        self.max_list_bytes = int(max_list_bytes or max_body_bytes)
        self._sleep = sleep
        self._clock = clock
        self.gate = gate
        self._prefix = "/".join(
            (self.base_url, quote(account_id, safe=""), quote(access_code, safe=""), "")
        )
        self._session = requests.Session()
        for scheme in ("http://", "https://"):
            self._session.mount(scheme, transport.WatchedAdapter())
        self._session.headers.update({
            "User-Agent": "PerfectView-DigitaleFactuur-koppeling/1.0",
            "Accept": "application/xml, text/xml;q=0.9, text/plain;q=0.5",
            # Uncompressed: the size limit then bounds what the server can make us hold.
            "Accept-Encoding": "identity",
        })
        #: What the answers to `klanten&relatienummer=N` showed so far: None (nothing yet),
        #: True (honoured), False (ignored at least once: not trusted for the rest of the run).
        self.filter_honoured: bool | None = None
        register_secret_holder(self)

    @classmethod
    def from_settings(cls, account_id: str, access_code: str, **overrides) -> DigitaleFactuurClient:
        """A client configured from the DIGITALEFACTUUR_* settings; keyword arguments win."""
        from django.conf import settings

        options = {
            "base_url": settings.DIGITALEFACTUUR_BASE_URL,
            "connect_timeout": settings.DIGITALEFACTUUR_CONNECT_TIMEOUT,
            "read_timeout": settings.DIGITALEFACTUUR_READ_TIMEOUT,
            "test_timeout": settings.DIGITALEFACTUUR_TEST_TIMEOUT,
            "max_attempts": settings.DIGITALEFACTUUR_MAX_ATTEMPTS,
            "retry_budget": settings.DIGITALEFACTUUR_RETRY_BUDGET,
            "max_list_bytes": int(settings.DIGITALEFACTUUR_MAX_LIST_MB * 2**20),
            **overrides,
        }
        base_url = options.pop("base_url")
        return cls(base_url, account_id, access_code, **options)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(base_url={self.base_url!r}, "
                f"account_id={self.account_id!r}, access_code='***')")

    def __enter__(self) -> DigitaleFactuurClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    # --- operations -------------------------------------------------------------------------

    def iter_pages(self, seen: set[str] | None = None, listing: Listing | None = None,
                   read_ahead: ReadAhead | None = None) -> Iterator[list[DfKlant]]:
        """Every klant of the account, in slices of at most SLICE_SIZE, each id once.

        Pages are fetched from 1. The list ends at a page without klant, at a page whose
        first slice brings no id not read before, or after a page that repeats at least as
        many klanten as page 1 held (the whole list again, grown by klanten created meanwhile;
        `listing.ended_by_repeat`): whether the service pages at all is not documented. Ids
        read before are dropped (`seen` collects them; pass a set to keep them); klanten
        without an id pass, for the caller to skip with the reason. When pages keep bringing
        more repeats than news, the service loops: ProtocolError.

        A page is handed out a slice at a time while it is still arriving (`_klanten_parts`):
        a service that answers every klant at once costs a slice of memory, not the answer.
        Its page 2 (every klant again) is let go as soon as its first slice shows the repeat.

        With `read_ahead` (the run's workers' `pages`), once page 2 has shown that the service
        pages (it brought new klanten, as many as page 1), the next pages are read while the
        caller works on this one; they are still judged one by one in order, as above. Pages
        1 and 2 are read on this client: a service that answers every klant on every page is
        never asked for them more than once at a time.
        """
        seen = set() if seen is None else seen
        listing = Listing() if listing is None else listing
        page, ahead = 1, None
        try:
            while True:
                url = redact_url(self._url("klanten", {"page": page}))
                if ahead is not None:
                    klanten, url = next(ahead)
                    parts = (klanten[start:start + SLICE_SIZE]
                             for start in range(0, len(klanten), SLICE_SIZE))
                else:
                    parts = self._klanten_parts({"page": page})
                judged = yield from _fresh_slices(parts, seen, listing, page, url)
                if judged is None:
                    return
                size, fresh = judged
                if _repeats_whole_first_page(listing, page, size, fresh):
                    return
                full = listing.first_size
                if page == 2 and read_ahead is not None and fresh == size >= full:
                    ahead = read_ahead(_read_from(page + 1), lambda answer, full=full:
                                       len(answer[0]) >= full)
                page += 1
        finally:
            if ahead is not None:
                ahead.close()

    def read_page(self, page: int) -> tuple[list[DfKlant], str]:
        """Page `page` of the klanten list as answered (with its redacted URL), retried."""
        params = {"page": page}
        klanten = [klant for part in self._klanten_parts(params) for klant in part]
        return klanten, redact_url(self._url("klanten", params))

    def iter_klanten(self) -> Iterator[DfKlant]:
        """Every klant of the account, each id once."""
        for page in self.iter_pages():
            yield from page

    def lookup_number(self, number: str | int) -> NumberAnswer:
        """`klanten&relatienummer=N`, with whether the answer shows the filter honoured.

        Remembers what it saw (`filter_honoured`): an answer holding another number shows the
        filter ignored, and from then on `find_everywhere` reads the whole account instead.

        The answer is read as a list is, while it arrives, and let go at the first part that
        holds another number: an ignored filter answers the list (or its first page), which
        may be the whole account, and one part is enough to know. `klanten` then holds the
        parts read so far (a klant among them is a fresh copy all the same).
        """
        wanted = self._number(number)
        klanten, honoured = [], True
        parts = self._klanten_parts({"relatienummer": wanted})
        try:
            for part in parts:
                klanten += part
                if any(normalise_value(k.relatienummer) != wanted for k in part):
                    honoured = False
                    break
        finally:
            parts.close()  # an answer not read to its end is let go (its connection closed)
        if not honoured:
            self.filter_honoured = False
        elif klanten and self.filter_honoured is None:
            self.filter_honoured = True
        return NumberAnswer(wanted, klanten, honoured)

    def find_everywhere(self, number: str | int) -> list[DfKlant]:
        """Every klant with this relatienummer, read now, lowest id first: by the filter when
        the answer shows it honoured, else from one read of the whole account."""
        wanted = self._number(number)
        if self.filter_honoured is not False:
            answer = self.lookup_number(wanted)
            if answer.honoured:
                return sorted(answer.with_number(), key=id_order)
        return sorted((k for k in self.iter_klanten()
                       if normalise_value(k.relatienummer) == wanted), key=id_order)

    def find_by_relatienummer(self, number: str | int) -> DfKlant | None:
        """The klant with this relatienummer (the lowest id if there are more), or None."""
        found = self.find_everywhere(number)
        return found[0] if found else None

    def create(self, klant: DfKlant, *, fields: Iterable[str] | None = None) -> WriteResult:
        """Create `klant` (its id is ignored); never creates it twice.

        After an ambiguous failure the relatienummer is looked up (`find_everywhere`: the whole
        account when the filter cannot be trusted) before trying again; a klant found then is
        returned with `recovered=True`. Without a relatienummer there is nothing to look up, so
        an ambiguous failure is raised rather than risk a duplicate.
        """
        xml, warnings = klant_to_xml(replace(klant, id=""), fields=fields)
        number = normalise_value(klant.relatienummer)
        attempts = itertools.count(1)
        # uncertain: the last attempt may have been applied; ambiguous: some attempt may have.
        uncertain = ambiguous = False

        def attempt() -> WriteResult:
            nonlocal uncertain, ambiguous
            try:
                if uncertain:
                    found = self.find_everywhere(number)
                    if found:
                        return WriteResult(found[0], tuple(warnings), recovered=True)
                    uncertain = False
                body, url = self._attempt("POST", "klant_aanmaken", None, xml, next(attempts))
                return self._write_result(body, url, xml, warnings)
            except (Conflict, *RETRYABLE) as exc:
                failure = exc
            if isinstance(failure, Conflict):
                if not ambiguous:
                    raise failure
                # A 409 after an ambiguous attempt is most likely our own earlier create.
                found = self.find_everywhere(number)
                if not found:
                    raise failure
                return WriteResult(found[0], tuple(warnings), recovered=True)
            if not isinstance(failure, RateLimited) and number:  # a 429: nothing happened
                uncertain = ambiguous = True
            raise failure

        # Without a relatienummer there is nothing to look up: better an error than a duplicate.
        return self._retrying(lambda failure: isinstance(failure, RETRYABLE) and (
            bool(number) or isinstance(failure, RateLimited)))(attempt)

    def update(self, klant: DfKlant, *, fields: Iterable[str] | None = None,
               base: DfKlant | None = None) -> WriteResult:
        """Update the klant with `klant.id`: every field in `fields` is set (empty clears it).

        With `base` (the klant as last read) every other element is sent as it came, so the
        update clears nothing under either reading of `klant_updaten` (schema.klant_to_xml).
        """
        if not normalise_value(klant.id):
            raise ValueError("update needs the klant's id")
        xml, warnings = klant_to_xml(klant, fields=fields, base=base)
        # Sending the same full values twice gives the same result: retrying is safe.
        result, _url = self._call("POST", "klant_updaten", None, xml,
                                  lambda body, url: self._write_result(body, url, xml, warnings))
        if not result.klant.id:
            result = replace(result, klant=replace(result.klant, id=klant.id))
        return result

    def test_connection(self, timeout: float | None = None) -> ApiReading:
        """One quick read of the first page, no retries; raises the error the screen should show.

        On success a few more quick reads learn how the service answers the open points (does
        it page? does it filter by number?): nothing depends on it, it is shown to the
        administrator and support. A failure of those reads leaves the point "unknown".
        """
        seconds = float(timeout or self.test_timeout)
        quick = {"timeouts": (seconds, seconds), "total": 2 * seconds}
        first = self._first_slice({"page": 1}, quick)
        reading = ApiReading()
        try:
            if first:
                second = self._first_slice({"page": 2}, quick)
                # Page 2 starting with page 1's klanten only: every klant at once, or the last
                # page repeated (the two cannot be told apart with one page of klanten).
                same = {k.id for k in second} <= {k.id for k in first}
                reading.paging = "ignored" if second and same else "honoured"
            filtered = self._first_slice({"relatienummer": _UNUSED_NUMBER}, quick)
            if filtered:
                reading.number_filter = "ignored"
            elif first:
                reading.number_filter = "honoured"
        except DigitaleFactuurError as error:
            logger.info("digitalefactuur test: reading the open points stopped: %s",
                        type(error).__name__)
        return reading

    def _first_slice(self, params: Mapping[str, object], quick: dict) -> list[DfKlant]:
        """The first slice of a list answer, one attempt: the rest is not read (an account
        that does not page would answer every klant to each question of the test)."""
        answer, url = self._attempt("GET", "klanten", params, None, 1, stream=True, **quick)
        parts = self._read_klanten(answer, url)
        try:
            return next(parts, [])
        finally:
            parts.close()
            answer.close()

    # --- the one door -------------------------------------------------------------------------

    def _call(self, method: str, action: str, params: Mapping[str, object] | None,
              xml: bytes | None, read: Callable[[bytes, str], object]) -> tuple[object, str]:
        """`_attempt` and `read` (body, url -> value) with retries, for requests that may be
        repeated (reads and updates): a garbled answer is asked for again like a timeout."""
        attempts = itertools.count(1)

        def attempt() -> tuple[object, str]:
            body, url = self._attempt(method, action, params, xml, next(attempts))
            return read(body, url), url

        return self._retrying()(attempt)

    def _retrying(self, retryable: Callable[[BaseException], bool] | None = None) -> Retrying:
        """One call's retries: up to `max_attempts`, within `retry_budget` seconds from now.

        The wait is the answer's Retry-After, else exponential backoff with full jitter never
        past the budget; a Retry-After beyond what is left of the budget is not waited for (the
        failure is raised: the run decides). The gate, if any, admits every attempt.
        """
        started = self._clock()
        refused = 0

        def left() -> float:
            return self.retry_budget - (self._clock() - started)

        def stop(state: RetryCallState) -> bool:
            nonlocal refused
            failure = state.outcome.exception()
            retry_after = getattr(failure, "retry_after", None)
            # A 429 that says when to come back is no failed attempt (nothing happened): the
            # budget bounds how often it is waited for (and MAX_REFUSALS, against a server
            # that asks for no wait at all).
            if (isinstance(failure, RateLimited) and retry_after is not None
                    and refused < MAX_REFUSALS):
                refused += 1
            remaining = left()
            return (state.attempt_number - refused >= self.max_attempts or remaining <= 0
                    or (retry_after is not None and retry_after > remaining))

        def wait(state: RetryCallState) -> float:
            retry_after = getattr(state.outcome.exception(), "retry_after", None)
            if retry_after is not None:
                return retry_after
            return max(0.0, min(_BACKOFF(state), left()))

        def before_sleep(state: RetryCallState) -> None:
            logger.info("digitalefactuur retry after %s: waiting %.2f s before attempt %d",
                        type(state.outcome.exception()).__name__, state.upcoming_sleep,
                        state.attempt_number + 1)

        def admit(_state: RetryCallState) -> None:
            if self.gate is not None:
                self.gate.admit(max(0.0, left()))

        return Retrying(
            retry=retry_if_exception(retryable or (lambda failure: isinstance(failure,
                                                                              RETRYABLE))),
            stop=stop, wait=wait, sleep=self._sleep, before=admit, before_sleep=before_sleep,
            reraise=True)

    def _attempt(self, method: str, action: str, params: Mapping[str, object] | None,
                 xml: bytes | None, attempt: int, *, timeouts: tuple[float, float] | None = None,
                 total: float | None = None, stream: bool = False) -> tuple[bytes, str]:
        """One request, one answer: the body of a success, or the matching error raised.

        Returns the body and the redacted URL. The full URL is never kept in a local variable:
        error reporters that capture a traceback's locals must find only the redacted one.

        With `stream` (a list answer), a success is returned unread, as a `transport.BodyStream`
        bounded by `max_list_bytes` and by what is left of the deadline, for the caller to read
        and close; an error (`NNN message`, whatever the status) is read whole as always.
        """
        url = redact_url(self._url(action, params))
        timeouts = timeouts or (self.connect_timeout, self.read_timeout)
        started = time.monotonic()
        deadline = started + (total or self.total_timeout)
        status, retry_after, body, failure, answer = None, None, b"", None, None
        with transport.watch(deadline - time.monotonic()) as watch:
            try:
                try:
                    response = self._send(method, action, params, xml, timeouts)
                except requests.ConnectionError:
                    # A server may close a kept-alive connection just as we reuse it; the
                    # request then never reached it, and a GET is safe to send once more (a
                    # fresh connection: the pool dropped the dead one).
                    if method != "GET" or not watch.reused or watch.expired:
                        raise
                    response = self._send(method, action, params, xml, timeouts)
                try:
                    status = response.status_code
                    retry_after = response.headers.get("Retry-After")
                    # A 3xx is classified on its status alone: its body is never read.
                    if stream and 200 <= status < 300:
                        answer, body = self._open_stream(response, watch, deadline)
                    elif not 300 <= status < 400:
                        body = transport.read_body(response, deadline, self.max_body_bytes)
                finally:
                    # Disarmed before the connection goes back to the pool (a stream watches
                    # each of its reads itself).
                    watch.cancel()
                    if answer is None:
                        response.close()
                    del response  # it holds the full URL: no traceback's locals may hold it
            # Every failure of the wire, whatever family it comes from, is classified in one
            # place. Foreign exceptions name the URL, code included: they are translated here
            # and never chained (the new error is raised outside this block, without context).
            except Exception as exc:  # every family: transport.failure_for says why
                failure = self._failure(exc, url, stream)
        if watch.expired:  # whatever the cut socket made of the answer, it came too late
            failure = Timeout(url=url, detail="totale wachttijd verstreken")
        if failure is None:
            failure = error_for_response(status, retry_after, body, url=url, scrub=self._scrub)
        self._log(action, status, started, attempt, failure)
        if self.gate is not None:
            self.gate.answered(failure)
        if failure is not None:
            if answer is not None:
                answer.close()
            raise failure
        return (answer if answer is not None else body), url

    def _open_stream(self, response, watch, deadline: float):
        """A success to a list request: (an unread BodyStream, b""), or (None, the whole body)
        when it starts like an error (`NNN message`), which is read as any other answer."""
        if transport.too_large(response, self.max_list_bytes):
            raise transport.TooLarge(self.max_list_bytes)
        head = transport.read_head(response, deadline, self.max_body_bytes)
        if is_error_body(head):
            return None, head + transport.read_body(response, deadline,
                                                    self.max_body_bytes - len(head))
        return transport.BodyStream(response, watch.connection, deadline - time.monotonic(),
                                    self.max_list_bytes, head), b""

    def _failure(self, exc: Exception, url: str, listing: bool) -> DigitaleFactuurError:
        """`transport.failure_for`, with a list answer past its bound saying what to do."""
        if listing and isinstance(exc, transport.TooLarge):
            return ProtocolError(_LIST_TOO_LARGE, url=url,
                                 detail=f"klantenlijst > {exc.limit} bytes "
                                        "(DIGITALEFACTUUR_MAX_LIST_MB)")
        return transport.failure_for(exc, url=url, detail=self._describe(exc))

    def _klanten_parts(self, params: Mapping[str, object]) -> Iterator[list[DfKlant]]:
        """One answer of the klanten list, its klanten in parts of at most SLICE_SIZE as they
        arrive, retried like any read (`_retrying`).

        Memory holds a part and a klant's worth of the answer, never the answer. A failure
        while reading, after parts were handed out, is retried too: the answer is asked for
        again and the klanten already handed out are passed over (by their count: the order
        of one list is taken as stable, as paging itself takes it; `iter_pages` drops an id
        read twice anyway). The retry budget counts from the first attempt, the caller's time
        with the parts included: a long answer that fails late is not asked for again.
        """
        attempts, handed = itertools.count(1), 0
        for attempt in self._retrying():
            with attempt:
                answer, url = self._attempt("GET", "klanten", params, None, next(attempts),
                                            stream=True)
            if attempt.retry_state.outcome.failed:
                continue  # the retry policy decides (tenacity raises when it stops)
            skip = handed
            try:
                for part in self._read_klanten(answer, url):
                    part, skip = part[skip:], max(0, skip - len(part))
                    if part:
                        handed += len(part)
                        yield part
            except DigitaleFactuurError as failure:
                # This attempt failed after all: the policy decides as for any other.
                attempt.retry_state.set_exception((type(failure), failure, None))
            finally:
                answer.close()

    def _read_klanten(self, answer: transport.BodyStream, url: str) -> Iterator[list[DfKlant]]:
        """The klanten of a streamed list answer in parts of at most SLICE_SIZE."""
        reader, part = KlantenReader(), []
        while True:
            failure = None
            try:
                chunk = answer.read()
                part += reader.feed(chunk) if chunk else reader.close()
            except KlantTooLarge as exc:
                failure = ProtocolError(url=url, detail=exc.reason)
            except SchemaError as exc:
                # Forbidden XML is no accident; anything else unreadable may be one (retried).
                error = ProtocolError if exc.forbidden else UnreadableAnswer
                failure = error(url=url, detail=self._scrub(exc.reason))
            except Exception as exc:  # every family of the wire: as in `_attempt`
                failure = self._failure(exc, url, True)
            if failure is not None:
                # The reason only, never the body: it holds client data.
                logger.warning("digitalefactuur klanten: %s after %d bytes of the answer: %s",
                               type(failure).__name__, answer.size, failure.detail)
                raise failure
            while len(part) >= SLICE_SIZE:
                yield part[:SLICE_SIZE]
                del part[:SLICE_SIZE]
            if not chunk:
                break
        if part:
            yield part

    def _send(self, method, action, params, xml, timeouts) -> requests.Response:
        # Through the adapter alone: requests' redirect handling reads a 3xx's body.
        return transport.send(self._session, method, self._url(action, params),
                              data={"xml": xml} if xml is not None else None, timeout=timeouts)

    # --- helpers ------------------------------------------------------------------------------

    def _url(self, action: str, params: Mapping[str, object] | None) -> str:
        # The API takes parameters after `&`, not `?`; every value is quoted completely.
        query = "".join(f"&{quote(str(name), safe='')}={quote(str(value), safe='')}"
                        for name, value in (params or {}).items())
        return f"{self._prefix}{action}{query}"

    def _scrub(self, text: str) -> str:
        # Raw, percent-, form-, HTML- or JSON-encoded, any letter case, mojibake: redaction.py.
        return redaction.scrub(text, self.__access_code)

    def _describe(self, exc: BaseException) -> str:
        # The kind of failure, for the technical detail; the text is scrubbed and shortened.
        return redact_text(self._scrub(f"{type(exc).__name__}: {exc}"))[:300]

    def _parse(self, parser: Callable[[bytes], object], body: bytes, url: str):
        try:
            return parser(body)
        except SchemaError as exc:
            # Forbidden XML is no accident; anything else unreadable may be one (retried).
            error = ProtocolError if exc.forbidden else UnreadableAnswer
            failure = error(url=url, detail=self._scrub(exc.reason))
        # The reason only (a parser message, a length), never the body: it holds client data.
        logger.warning("digitalefactuur answer unreadable (%d bytes): %s", len(body),
                       failure.detail)
        raise failure

    def _write_result(self, body: bytes, url: str, xml: bytes,
                      warnings: list[str]) -> WriteResult:
        try:
            answered, answered_id = parse_write_answer(body)
        except SchemaError as exc:
            error = ProtocolError if exc.forbidden else UnreadableAnswer
            failure = error(url=url, detail=self._scrub(exc.reason))
            logger.warning("digitalefactuur write answer unreadable (%d bytes): %s", len(body),
                           failure.detail)
            raise failure from None
        if answered is not None and valid_id(answered.id):
            return WriteResult(answered, tuple(warnings))
        # Not the klant: what was sent is what DigitaleFactuur now holds, as far as we know.
        sent = parse_klant(xml)
        klant_id = answered_id if valid_id(answered_id) else ""
        return WriteResult(replace(sent, id=klant_id or sent.id), tuple(warnings),
                           answered=False)

    @staticmethod
    def _number(number: str | int) -> str:
        value = normalise_value(str(number))
        if not value:
            raise ValueError("a relatienummer is required")
        return value

    def _log(self, action: str, status: int | None, started: float, attempt: int,
             failure: DigitaleFactuurError | None) -> None:
        duration_ms = round((time.monotonic() - started) * 1000)
        extra = {"df_action": action, "status": status, "duration_ms": duration_ms,
                 "attempt": attempt}
        if failure is None:
            logger.debug("digitalefactuur %s: HTTP %s in %d ms (attempt %d)",
                         action, status, duration_ms, attempt, extra=extra)
        else:
            logger.warning("digitalefactuur %s: %s (code %s, HTTP %s) in %d ms (attempt %d)",
                           action, type(failure).__name__, failure.code, status, duration_ms,
                           attempt, extra={**extra, "error": type(failure).__name__})

    # --- facturen (added for invoices.py; the same door, the same rules) ----------------------

    def iter_invoice_pages(self, status: str = "openstaand",
                           listing=None) -> Iterator[list]:
        """Every invoice `facturen&betaalstatus=status` answers, page by page, each id once.

        As for klanten nothing open is assumed: the list ends at an empty page or at a page
        that brings no id not read before (paging ignored), and the filter may be ignored, so
        the caller filters what it gets (`DfInvoice.status`). Pages that keep repeating more
        than they bring are refused. `order_column=id` asks for a stable order while paging.
        """
        from .invoice_schema import InvoiceListing, parse_facturen

        listing = InvoiceListing() if listing is None else listing
        seen: set[str] = set()
        page = 1
        while True:
            params = {"page": page, "betaalstatus": status, "order_column": "id",
                      "order_type": "asc"}
            answer, url = self._call("GET", "facturen", params, None,
                                     lambda body, url: self._parse(parse_facturen, body, url))
            listing.unreadable += answer.unreadable
            fresh = _news(answer.invoices, seen, listing, page, url, "een factuur")
            if fresh is None:
                return
            yield fresh
            if _repeats_whole_first_page(listing, page, len(answer.invoices), len(fresh)):
                return
            page += 1

    def download_invoice_pdf(self, invoice_id: str) -> bytes:
        """The PDF of one invoice (`factuur_download&download_type=base64`), decoded."""
        from .invoice_schema import parse_invoice_pdf

        wanted = normalise_value(str(invoice_id))
        if not wanted:
            raise ValueError("an invoice id is required")
        pdf, _url = self._call("GET", "factuur_download",
                               {"facturen_id": wanted, "download_type": "base64"}, None,
                               lambda body, url: self._parse(parse_invoice_pdf, body, url))
        return pdf


class WriteRefused(RuntimeError):
    """A write asked of a client that only reads (a preview): a bug, never a request."""


class ReadOnlyClient:
    """A client that reads and refuses every write: what a preview talks to DigitaleFactuur
    through, so that nothing it does can create or change a klant."""

    def __init__(self, client: DigitaleFactuurClient):
        self._client = client

    def __getattr__(self, name: str):
        return getattr(self._client, name)

    def create(self, klant: DfKlant, **_options) -> WriteResult:
        raise WriteRefused("a preview does not create klanten")

    def update(self, klant: DfKlant, **_options) -> WriteResult:
        raise WriteRefused("a preview does not update klanten")


#: A read-ahead (concurrency.Workers.pages): read(client, 1), read(client, 2), ... in order,
#: reading ahead while `more(answer)` says the list likely goes on.
ReadAhead = Callable[[Callable, Callable[[object], bool]], Iterator]


def _read_from(first: int) -> Callable:
    """A page reader for a read-ahead that counts from 1: its page 1 is the list's `first`."""
    return lambda client, page: client.read_page(first + page - 1)


def _news(items: list, seen: set[str], listing, page: int, url: str, noun: str) -> list | None:
    """What page `page` of a list (klanten, facturen) brings that was not read before; None
    where the list ends: at an empty page, or at a page with no id not read before.

    Ids read before are dropped and counted (`listing`); items without an id pass (the caller
    skips them with the reason). Pages that keep repeating more than they bring: the service
    loops, ProtocolError.
    """
    listing.pages += 1
    if not items:
        return None
    fresh, new_ids = _sift(items, seen, listing)
    if not new_ids:
        listing.ended_by_repeat = page > 1
        return None
    _count_read(fresh, listing, url, noun)
    return fresh


def _repeats_whole_first_page(listing, page: int, size: int, fresh: int) -> bool:
    """After page `page` (`size` items on it, `fresh` of them new): does it end the list by
    holding every item of page 1 again beside news? That is a list answered whole to every
    page, grown by items created since the last page (a run's own creates land meanwhile).
    Paging never repeats a whole page beside news, so the list is complete, and reading on
    would only repeat it (and be taken for a loop)."""
    listing.first_size = listing.first_size or size
    if page > 1 and size - fresh >= listing.first_size:
        listing.ended_by_repeat = True
        return True
    return False


def _fresh_slices(parts: Iterable[list[DfKlant]], seen: set[str], listing: Listing, page: int,
                  url: str) -> Generator[list[DfKlant], None, tuple[int, int] | None]:
    """`_news` for a page of klanten that arrives in parts: yields what each part brings that
    was not read before, and returns (klanten on the page, klanten handed out), or None where
    the list ends: at an empty page, or at a page whose first part brings no id not read
    before. Then the rest of the page is not read (`parts` is closed): a service that answers
    every klant on every page would otherwise send its whole list once more for nothing.
    """
    listing.pages += 1
    size = handed = 0
    try:
        for part in parts:
            fresh, new_ids = _sift(part, seen, listing)
            if not size and not new_ids:
                listing.ended_by_repeat = page > 1
                return None
            size += len(part)
            if fresh:
                _count_read(fresh, listing, url, "een klant")
                handed += len(fresh)
                yield fresh
    finally:
        close = getattr(parts, "close", None)
        if close is not None:
            close()
    return (size, handed) if size else None


def _sift(items: list, seen: set[str], listing) -> tuple[list, int]:
    """The items whose id was not read before (and those without id), and how many new ids."""
    fresh, new_ids = [], 0
    for item in items:
        if item.id:
            if item.id in seen:
                listing.repeated += 1
                continue
            seen.add(item.id)
            new_ids += 1
        fresh.append(item)
    return fresh, new_ids


def _count_read(fresh: list, listing, url: str, noun: str) -> None:
    listing.read += len(fresh)
    if listing.pages >= 3 and listing.repeated > listing.read:
        raise ProtocolError(url=url, detail=(
            f"de lijst eindigt niet: {listing.pages} pagina's brachten "
            f"{listing.repeated} keer {noun} die al gelezen was"))


def id_order(klant: DfKlant) -> tuple[int, int, str]:
    """Sort key: numeric ids by their value, then any other id as text ("lowest id first")."""
    text = klant.id
    if text.isascii() and text.isdigit():
        return 0, int(text), ""
    return 1, 0, text
