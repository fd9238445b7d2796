"""Stored outcomes, translated when shown.

A run's final message (and a connector's last test) is kept twice: as the Dutch text the engine
wrote (`message`, for the CLI, for searching the database, and as the fallback), and as parts,
each a code with its parameters: `{"code": msgid, "params": {...}}`. The code is the message's
Dutch msgid, so a part is shown in the reader's language with `gettext(code) % params`, and a
code that a later version no longer knows still shows, in Dutch, with its values. Text another
module added around the engine's message (a retry's note, a preview's cap) is kept as it was.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext


def part(text, **params) -> dict:
    """A part for `text` (a gettext_lazy or a Dutch msgid) with its parameters."""
    with translation.override("nl"):
        code = str(text)
    return {"code": code, "params": params}


def _render(parts: list[dict], translate) -> str:
    shown = []
    for item in parts or ():
        code, params = str(item.get("code", "")), item.get("params") or {}
        text = translate(code) if code else ""
        if params:
            try:
                text = text % params
            except (KeyError, TypeError, ValueError):
                text = code % params if "%" in code else code
        shown.append(text)
    return " ".join(filter(None, shown))


def dutch(parts: list[dict]) -> str:
    """The parts as the engine stored them (Dutch: the codes are Dutch msgids)."""
    return _render(parts, lambda code: code)


def shown(text: str, parts: list[dict] | None = None) -> str:
    """`text` (a stored message) in the reader's language, as far as it is known.

    With parts: their translation, in the place of their Dutch text within `text`. Without:
    the translation of `text` when it is a msgid as a whole (a message without parameters),
    otherwise `text` as stored.
    """
    if not parts:
        return gettext(text) if text else ""
    rendered = _render(parts, gettext)
    original = dutch(parts)
    if not text or text == original:
        return rendered
    if original and original in text:
        return text.replace(original, rendered)
    return text
