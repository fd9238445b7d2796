""""Koppeling testen": one quick call to DigitaleFactuur and a Dutch answer for each outcome.

Shared by the screen and `manage.py digitalefactuur test`, so both say the same thing. The
outcome is recorded on the settings object (not saved: the caller saves it together with
whatever else the same action changes, in one transaction, after the network call).

The messages differ from the sync run's (errors.py) where the run's would mislead here: a run
"tries again later" after a timeout, a test does not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings as django_settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integration.connectors import outcomes

from . import crypto
from .errors import (
    AccessNotActive,
    AuthenticationFailed,
    DigitaleFactuurError,
    ProtocolError,
    Redirected,
    ServiceUnavailable,
    Timeout,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectionOutcome:
    ok: bool
    message: str
    #: The failure's class name, for logs and tests ("" on success).
    kind: str = ""
    #: The message as a code with parameters (outcomes.py), stored and translated when shown.
    parts: tuple = ()
    #: The technical cause, for support (redacted); never part of the message.
    detail: str = ""


def _outcome(ok: bool, text, kind: str = "", detail: str = "", **params) -> ConnectionOutcome:
    part = outcomes.part(text, **params)
    return ConnectionOutcome(ok, outcomes.shown("", [part]), kind, (part,), detail)


def _failure_message(exc: DigitaleFactuurError, seconds: float) -> tuple:
    """(message, parameters) for a failed test. A failed test never locks the options: it
    leaves a working connector as it was (the next run reports what is really wrong)."""
    if isinstance(exc, AuthenticationFailed | AccessNotActive):
        return exc.lazy_message, {}
    if isinstance(exc, Timeout):
        return _(
            "DigitaleFactuur antwoordde niet binnen %(seconds)s seconden. Probeer het over een "
            "paar minuten opnieuw; blijft dit gebeuren, controleer dan of DigitaleFactuur een "
            "storing heeft."
        ), {"seconds": f"{seconds:g}"}
    if isinstance(exc, ServiceUnavailable):
        return _(
            "DigitaleFactuur is niet bereikbaar. Probeer het over een paar minuten opnieuw; "
            "blijft dit gebeuren, controleer dan of de server internet heeft en of "
            "DigitaleFactuur een storing meldt, en geef anders de technische details hieronder "
            "door aan je leverancier."
        ), {}
    if isinstance(exc, Redirected):
        return exc.lazy_message, {}  # it already says which address to check
    if isinstance(exc, ProtocolError):
        return _(
            "DigitaleFactuur gaf een onverwacht antwoord dat de koppeling niet kan lezen. "
            "Probeer het later opnieuw; blijft dit gebeuren, geef dan de technische details "
            "hieronder door aan je leverancier."
        ), {}
    return exc.lazy_message, {}


def run_connection_test(df_settings, timeout: float | None = None) -> ConnectionOutcome:
    """Call DigitaleFactuur with the credentials on `df_settings` and record the outcome on it."""
    seconds = float(timeout or django_settings.DIGITALEFACTUUR_TEST_TIMEOUT)
    try:
        code = df_settings.access_code
    except crypto.DecryptionError as exc:
        outcome = _outcome(False, exc.message, "DecryptionError")
    else:
        if not df_settings.account_id or not code:
            outcome = _outcome(False, _("Vul het Account-id en de toegangscode in om de "
                                        "koppeling te testen."), "Incomplete")
        else:
            outcome = _call(df_settings, seconds)
    df_settings.record_test(outcome.ok, outcome.message, timezone.now(), lock=False,
                            parts=outcome.parts, detail=outcome.detail)
    # The outcome's kind only: the message is safe too, but a log needs no prose.
    logger.info("DigitaleFactuur connection test for account %s: %s",
                df_settings.account_id or "-", outcome.kind or "ok")
    return outcome


def _call(df_settings, seconds: float) -> ConnectionOutcome:
    try:
        with df_settings.client(test_timeout=seconds, max_attempts=1) as client:
            reading = client.test_connection(timeout=seconds)
    except DigitaleFactuurError as exc:
        message, params = _failure_message(exc, seconds)
        logger.warning("DigitaleFactuur connection test failed: %s", exc.technical_detail)
        return _outcome(False, message, type(exc).__name__, exc.technical_detail, **params)
    # What the service showed of the open points (does it page, does it filter by number):
    # for the administrator and support; the engine copes with every reading either way.
    df_settings.api_reading = reading.as_dict()
    return _outcome(True, _(
        "De koppeling werkt: DigitaleFactuur heeft het Account-id en de toegangscode "
        "geaccepteerd. Kies nu hieronder wat er gesynchroniseerd wordt."
    ))
