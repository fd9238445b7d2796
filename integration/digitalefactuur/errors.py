"""What can go wrong when talking to DigitaleFactuur, expressed as what to do about it.

Every failure of the client is a `DigitaleFactuurError` whose class attribute `action` tells the
sync engine what to do:

- ``retry``: the service is busy, down or slow (`RateLimited`, `ServiceUnavailable`, `Timeout`);
  the client has already retried within its budget, the next run may succeed.
- ``halt``: nothing will work until the administrator acts (`AuthenticationFailed`,
  `AccessNotActive`) or the service answers something we cannot trust (`ProtocolError`); the run
  stops and the message is shown on the settings screen.
- ``skip``: this one record is refused (`NotFound`, `Conflict`, `InvalidField`); log it, go on.

`message` is Dutch, for the administrator: what happened and what to do. `detail` carries the
technical part (the server's own message, the kind of network failure). Neither ever holds the
access code: the API puts it in the URL path, so every URL stored here goes through
`redaction.redact_url` first and every server text is scrubbed by the client (`redaction.py`).
"""

from __future__ import annotations

import re
import time
from email.utils import parsedate_to_datetime
from typing import ClassVar, Literal

from django.utils.translation import gettext_lazy as _

from integration.digitalefactuur import redaction
from integration.digitalefactuur.schema import FIELD_NAMES, is_error_body, parse_error

Action = Literal["retry", "halt", "skip"]

class DigitaleFactuurError(Exception):
    """Base of every failure of the DigitaleFactuur client."""

    action: ClassVar[Action] = "halt"
    default_message: ClassVar[str] = _(
        "De koppeling met DigitaleFactuur is mislukt. Probeer het later opnieuw of neem contact "
        "op met de beheerder."
    )

    def __init__(
        self,
        message: str | None = None,
        *,
        code: int | None = None,
        url: str | None = None,
        detail: str = "",
    ):
        self.code = code
        self.url = redaction.redact_url(url)
        self.detail = detail
        self._message = message
        # No args: the default formatting of Exception must have nothing to show but __str__.
        super().__init__()

    def __reduce__(self):
        # Picklable (task results, multiprocessing) without passing through __init__'s arguments.
        return (type(self), (), dict(self.__dict__))

    @property
    def message(self) -> str:
        return str(self.lazy_message)

    @property
    def lazy_message(self):
        """The message not yet translated (a gettext_lazy), for storing it as a code."""
        return self._message if self._message is not None else self.default_message

    def __str__(self) -> str:
        # The administrator's message only; the technical part is `technical_detail`, shown
        # folded on the screens and written to the server log, never inside the message.
        return self.message

    @property
    def technical_detail(self) -> str:
        """For support: the error's kind, its code and the server's (scrubbed) text."""
        parts = [type(self).__name__]
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.detail:
            parts.append(self.detail)
        return " · ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, url={self.url!r})"


class AuthenticationFailed(DigitaleFactuurError):
    action = "halt"
    default_message = _(
        "Account-id of toegangscode onjuist. Controleer beide in DigitaleFactuur "
        "(Instellingen > API) en vul ze opnieuw in bij de koppeling; test daarna de koppeling."
    )


class AccessNotActive(DigitaleFactuurError):
    action = "halt"
    default_message = _(
        "API-toegang staat niet aan voor dit account. Zet de API-toegang aan in DigitaleFactuur "
        "(Instellingen > API) en test daarna de koppeling opnieuw."
    )


class NotFound(DigitaleFactuurError):
    action = "skip"
    default_message = _(
        "DigitaleFactuur kent deze klant (of deze actie) niet. Het record is overgeslagen; "
        "controleer of de klant in DigitaleFactuur is verwijderd."
    )


class Conflict(DigitaleFactuurError):
    action = "skip"
    default_message = _(
        "Dit relatienummer is in DigitaleFactuur al in gebruik. Het record is overgeslagen; "
        "geef de relatie een ander debiteur- of crediteurnummer of koppel de bestaande klant."
    )


class InvalidField(DigitaleFactuurError):
    action = "skip"
    default_message = _(
        "DigitaleFactuur weigert de gegevens van dit record. Het record is overgeslagen; "
        "corrigeer de relatie en synchroniseer opnieuw."
    )
    field_message = _(
        "DigitaleFactuur weigert het veld '%(field)s' van dit record. Het record is "
        "overgeslagen; corrigeer dit veld bij de relatie en synchroniseer opnieuw."
    )

    def __init__(self, message: str | None = None, *, field: str | None = None, **kwargs):
        self.field = field
        if message is None and field:
            from .mapping import DF_FIELDS  # the field as DigitaleFactuur's screen names it

            label = DF_FIELDS[field][2] if field in DF_FIELDS else field
            message = str(self.field_message) % {"field": label}
        super().__init__(message, **kwargs)

    @staticmethod
    def field_from_message(server_message: str, known_fields: tuple[str, ...]) -> str | None:
        """The element the server's message names, if it names one we know (longest first).

        Longest first, so that "contactpersoon_naam" is not taken for "naam".
        """
        for name in sorted(known_fields, key=len, reverse=True):
            if re.search(rf"(?<![a-z_]){re.escape(name)}(?![a-z_])", server_message.lower()):
                return name
        return None


class RateLimited(DigitaleFactuurError):
    action = "retry"
    default_message = _(
        "DigitaleFactuur ontvangt te veel verzoeken. De koppeling probeert het later opnieuw; "
        "je hoeft niets te doen."
    )

    def __init__(self, message: str | None = None, *, retry_after: float | None = None,
                 **kwargs):
        #: Seconds the server asked us to wait (Retry-After), or None when it did not say.
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServiceUnavailable(DigitaleFactuurError):
    action = "retry"
    default_message = _(
        "DigitaleFactuur is niet bereikbaar of heeft een storing. De koppeling probeert het "
        "later opnieuw; blijft dit gebeuren, controleer dan de internetverbinding en het adres "
        "van DigitaleFactuur."
    )


class Timeout(ServiceUnavailable):
    """No (complete) answer in time. For a write it is unknown whether it was applied."""

    action = "retry"
    default_message = _(
        "DigitaleFactuur antwoordde niet op tijd. De koppeling probeert het later opnieuw; "
        "je hoeft niets te doen."
    )


class ProtocolError(DigitaleFactuurError):
    """An answer we cannot trust: not XML, not an error, too big, redirected, forbidden XML."""

    action = "halt"
    default_message = _(
        "DigitaleFactuur gaf een antwoord dat de koppeling niet kan lezen. De synchronisatie is "
        "gestopt; controleer het adres van DigitaleFactuur en neem contact op met de beheerder "
        "als dit blijft gebeuren."
    )


class Redirected(ProtocolError):
    """A 3xx. DigitaleFactuur does not redirect, so the address is most likely wrong; it is
    never followed, because the access code in the path would go wherever it points."""

    default_message = _(
        "DigitaleFactuur stuurde de koppeling door naar een ander adres. DigitaleFactuur doet "
        "dat niet, dus waarschijnlijk is het adres van DigitaleFactuur in de instellingen van "
        "de server onjuist. De doorverwijzing is niet gevolgd en de synchronisatie is gestopt; "
        "geef de technische details hieronder door aan je leverancier."
    )


class UnreadableAnswer(ProtocolError):
    """A garbled answer: truncated or broken XML, an answer to a write without its id.

    Unlike the other protocol errors it is most likely a passing fault (a proxy, a dropped
    connection half way), so it is retried like a timeout, and for a create it is ambiguous: the
    write may have been applied. Only when every attempt is garbled does the run stop. Forbidden
    XML (a DTD, entities) stays a `ProtocolError`: nothing about it is passing.
    """

    action = "retry"


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date); None when absent or odd."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite
        return None
    return max(0.0, seconds)


def error_for_code(code: int, *, url: str | None, detail: str = "",
                   retry_after: str | None = None) -> DigitaleFactuurError:
    """The error for an API code (or an HTTP status: they mean the same to us)."""
    common = {"code": code, "url": url, "detail": detail}
    simple = {401: AuthenticationFailed, 403: AccessNotActive, 404: NotFound, 408: Timeout,
              409: Conflict}
    if code in simple:
        return simple[code](**common)
    if code == 422:
        return InvalidField(field=InvalidField.field_from_message(detail, FIELD_NAMES), **common)
    if code == 429:
        return RateLimited(retry_after=retry_after_seconds(retry_after), **common)
    if 500 <= code < 600:
        return ServiceUnavailable(**common)
    if 400 <= code < 500:
        # A code no source lists: its class says what it means. A refusal of this record
        # (the credential codes are handled above); the server's message is shown.
        return InvalidField(field=InvalidField.field_from_message(detail, FIELD_NAMES), **common)
    # Not an HTTP-like code at all: we cannot know what it means, so we stop.
    return ProtocolError(**common)


def error_for_response(status: int | None, retry_after: str | None, body: bytes, *,
                       url: str | None, scrub=lambda text: text) -> DigitaleFactuurError | None:
    """The error an answer means, or None for a success to be parsed.

    An `NNN message` body decides whatever the HTTP status (the API sends its errors with 200);
    without one, a real HTTP error status means the same code. A redirect is never followed:
    it would send the access code, in the path, to wherever it points. `scrub` removes the access
    code from the server's message before it is kept.
    """
    if status is not None and 300 <= status < 400:
        return Redirected(code=status, url=url, detail=f"doorverwijzing (HTTP {status})")
    if is_error_body(body):
        code, message = parse_error(body)
        return error_for_code(code, url=url, detail=scrub(message), retry_after=retry_after)
    if status is not None and status >= 400:
        return error_for_code(status, url=url, detail=f"HTTP {status}", retry_after=retry_after)
    if status is not None and 200 <= status < 300:
        return None
    return ProtocolError(code=status, url=url, detail=f"HTTP {status}")
