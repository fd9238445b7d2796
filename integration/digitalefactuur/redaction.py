"""Keeping the access code out of everything we write down: URLs, free text, log records.

The API puts the access code in the URL path (`{base}/{account_id}/{access_code}/{action}`), so
the code travels with every URL, and a server that echoes what it received can send it back in
any encoding: percent-encoded in either letter case, form-encoded (`+`), HTML- or JSON-escaped,
in another letter case, or as UTF-8 read as latin-1 (mojibake). One redaction knows them all.

- `redact_url`: a URL with its code segment replaced by ``***``.
- `scrub(text, code)`: `text` without `code` in any of those encodings.
- The secret registry (`register_secret_holder`): the live clients, each able to scrub its own
  code, so `redact_text` removes every code this process knows, and the code's position in an
  API path for a code it does not know.
- `RedactingFilter` and `install_log_redaction`: the filter on the loggers we do not own
  (urllib3 logs request paths, code included, at DEBUG); installed by the app's `ready()`.
"""

from __future__ import annotations

import functools
import html.entities
import logging
import re
import weakref
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

REDACTED = "***"


def redact_url(url: str | None) -> str:
    """Replace the access code segment of an API URL by ``***``.

    URLs have the shape ``{base}/{account_id}/{access_code}/{action}[&name=value...]``, and the
    client quotes every segment, so the code is always the second-to-last path segment:
    ``https://host/api/10001/s3cret/klanten&page=2`` -> ``https://host/api/10001/***/klanten&page=2``.
    Query strings and fragments are dropped: the API does not use them, and what we do not know we
    do not repeat.
    """
    if not url:
        return ""
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return REDACTED
    segments = parts.path.split("/")
    # ['', 'api', account, code, action]: anything shorter than account/code/action is not one
    # of our URLs, but redacting it anyway costs nothing and can only hide, never leak.
    if len(segments) >= 3:
        segments[-2] = REDACTED
    return urlunsplit((parts.scheme, parts.netloc, "/".join(segments), "", ""))


# --- one code in any encoding ----------------------------------------------------------------

_JSON_SHORT = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f", "\n": "\\n",
               "\r": "\\r", "\t": "\\t"}


def _percent(data: bytes) -> str:
    return "".join(f"%{byte:02X}" for byte in data)


def _json_escape(char: str) -> str:
    """`\\uXXXX` for each UTF-16 unit of `char`, as JSON writes a character outside ASCII."""
    data = char.encode("utf-16-be")
    return "".join(f"\\u{data[i] << 8 | data[i + 1]:04x}" for i in range(0, len(data), 2))


def _encodings(char: str) -> set[str]:
    """Every way an echo may write one character of the code (matched ignoring case)."""
    utf8 = char.encode("utf-8")
    forms = {
        char,
        _percent(utf8),                                  # %2B, and %2b by ignoring case
        _percent(utf8).replace("%", "%25"),              # encoded twice: %252B
        f"&#{ord(char)};", f"&#x{ord(char):x};",         # HTML numeric references
        _json_escape(char),                              # JSON: \u00e9, \ud83d\ude00
        utf8.decode("latin-1"),                          # UTF-8 read as latin-1 (mojibake)
        utf8.decode("cp1252", errors="ignore"),          # ... or as Windows-1252
    }
    if char == " ":
        forms.add("+")                                   # form encoding
    if char in _JSON_SHORT:
        forms.add(_JSON_SHORT[char])
    name = html.entities.codepoint2name.get(ord(char))
    if name:
        forms.add(f"&{name};")
    if char == "'":
        forms.add("&apos;")
    forms.discard("")  # a byte Windows-1252 does not define: an empty form would match anything
    return forms


@functools.lru_cache(maxsize=32)
def _pattern(code: str) -> re.Pattern[str]:
    # Character by character, so a mixed echo (part escaped, part not) is found too; longest
    # form first, so "%2B" is not taken for a literal "%" followed by "2B".
    alternatives = ("(?:" + "|".join(re.escape(form) for form in sorted(
        _encodings(char), key=len, reverse=True)) + ")" for char in code)
    return re.compile("".join(alternatives), re.IGNORECASE)


def scrub(text: str, code: str) -> str:
    """`text` with every occurrence of `code`, in any encoding an echo may use, as ``***``."""
    if not code or not text:
        return text
    return _pattern(code).sub(REDACTED, text)


# --- every code this process knows -------------------------------------------------------------

# A path `/<account>/<code>/<action>` as urllib3 logs it ("GET /api/10001/s3cret/klanten&page=1").
_API_PATH = re.compile(r"(/[^/\s'\"]+/)[^/\s'\"]+(/(?:klanten|klant_[a-z_]+))")


class SecretHolder(Protocol):
    def _scrub(self, text: str) -> str: ...


# The live clients, each able to scrub its own code; weak, so a closed client is forgotten.
_secret_holders: weakref.WeakSet[SecretHolder] = weakref.WeakSet()


def register_secret_holder(holder: SecretHolder) -> None:
    _secret_holders.add(holder)


def redact_text(text: str) -> str:
    """Remove every access code from free text.

    Two nets: the codes of the clients alive in this process, wherever and however encoded they
    appear, and the code's position in any API path, for a code we do not know (another
    process's client).
    """
    for holder in list(_secret_holders):
        text = holder._scrub(text)
    return _API_PATH.sub(rf"\1{REDACTED}\2", text)


# --- log records -------------------------------------------------------------------------------

class RedactingFilter(logging.Filter):
    """Rewrites a record whose message contains an access code or an API path."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's business, not ours
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_REDACTING_FILTER = RedactingFilter()


def install_log_redaction() -> None:
    """Attach the redacting filter to the loggers of urllib3 and requests (idempotent).

    On the loggers, not on a handler: a logger's filters run before any handler sees the record,
    whichever handlers a deployment (or a test's log capture) adds.
    """
    # A filter on a logger applies only to records created by that very logger, not to those of
    # its children, so every urllib3 logger that may name a URL gets it.
    names = {"urllib3", "urllib3.connectionpool", "urllib3.connection", "urllib3.poolmanager",
             "urllib3.response", "urllib3.util.retry", "requests"}
    names.update(name for name in logging.Logger.manager.loggerDict if name.startswith("urllib3"))
    for name in names:
        logging.getLogger(name).addFilter(_REDACTING_FILTER)
