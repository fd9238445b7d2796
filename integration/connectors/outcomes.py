"""Stored outcomes, translated when shown.

A run's final message (and a connector's last test) is kept twice: as the Dutch text the engine
wrote (`message`, for the CLI, for searching the database, and as the fallback), and as parts,
each a code with its parameters: `{"code": msgid, "params": {...}}`. The code is the message's
Dutch msgid, so a part is shown in the reader's language with `gettext(code) % params`, and a
code that a later version no longer knows still shows, in Dutch, with its values. Text another
module added around the engine's message (a retry's note, a preview's cap) is kept as it was.

A text stored before it had parts (an event's message, which the engine writes as Dutch text; a
run's note of an older version) is recognised when shown (`recognise`): it is one or more of our
messages joined by spaces, each a msgid of our catalogue, those with parameters matched as
patterns. What is recognised is shown translated; what is not stays as stored.
"""

from __future__ import annotations

import functools
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, ngettext

#: The language of our msgids, and so of every stored message.
SOURCE_LANGUAGE = "nl"


def part(text, **params) -> dict:
    """A part for `text` (a gettext_lazy or a Dutch msgid) with its parameters."""
    with translation.override(SOURCE_LANGUAGE):
        code = str(text)
    return {"code": code, "params": params}


def _render(parts: list[dict], translate) -> str:
    shown = []
    for item in parts or ():
        code, params = str(item.get("code", "")), item.get("params") or {}
        if item.get("plural"):
            n = params.get(item.get("n", ""), 1)
            text = (ngettext(code, item["plural"], n) if translate is gettext
                    else (code if n == 1 else item["plural"]))
        elif item.get("as_is"):
            text = code
        elif (translate is gettext and code and not params and not item.get("recognised")
              and _reads_translated() and gettext(code) == code):
            # A part stored as a whole text (no code of its own): recognised when shown.
            recognised = recognise(code)
            text = _render(recognised, translate) if recognised else code
        else:
            text = translate(code) if code else ""
        if translate is gettext:
            params = {name: _param_shown(value) for name, value in params.items()}
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
        if not text:
            return ""
        translated = gettext(text)
        if translated != text:
            return translated
        recognised = recognise(text) if _reads_translated() else []
        return _render(recognised, gettext) if recognised else text
    rendered = _render(parts, gettext)
    original = dutch(parts)
    if not text or text == original:
        return rendered
    if original and original in text:
        return text.replace(original, rendered)
    return text


def _reads_translated() -> bool:
    """The reader's language is not the one the messages are stored in (Dutch, the msgids')."""
    return not (translation.get_language() or SOURCE_LANGUAGE).startswith(SOURCE_LANGUAGE)


def _param_shown(value):
    """A parameter in the reader's language when it is one of our words as a whole (a relation
    type, a field's label); a number or a name as stored."""
    return gettext(value) if isinstance(value, str) and value else value


# --- recognising a stored Dutch text -----------------------------------------------------------

#: Only sentences are looked for within a text: a single word ("fout") is too easily a name.
SENTENCE_ENDS = (".", "!", "?")
#: The least text besides its placeholders that a message with parameters must have.
MIN_WORDS_LENGTH = 12
_PLACEHOLDER = re.compile(r"%\((\w+)\)([sdi])|%%")


@dataclass(frozen=True)
class _Pattern:
    code: str
    plural: str
    regex: re.Pattern
    numbers: frozenset[str]


def _our_msgids() -> list[str]:
    """The msgids of our own catalogue (a plural as "singular\\0plural"), read from a compiled
    catalogue of LOCALE_PATHS: every msgid of ours is in each of them."""
    for root in settings.LOCALE_PATHS:
        for mo in sorted(Path(root).glob("*/LC_MESSAGES/django.mo")):
            data = mo.read_bytes()
            order = "<" if data[:4] == b"\xde\x12\x04\x95" else ">"
            count, ids_at = struct.unpack(order + "2I", data[8:16])
            msgids = []
            for index in range(count):
                length, offset = struct.unpack(order + "2I",
                                               data[ids_at + 8 * index:ids_at + 8 * index + 8])
                msgid = data[offset:offset + length].decode("utf-8")
                if msgid and "\x04" not in msgid:
                    msgids.append(msgid)
            return msgids
    return []


def _pattern(code: str, form: str, plural: str = "") -> _Pattern:
    regex, seen, numbers, at = [], set(), set(), 0
    for match in _PLACEHOLDER.finditer(form):
        regex.append(re.escape(form[at:match.start()]))
        at = match.end()
        name, kind = match.groups()
        if name is None:
            regex.append("%")
        elif name in seen:
            regex.append(f"(?P={name})")
        else:
            seen.add(name)
            if kind in "di":
                numbers.add(name)
                regex.append(rf"(?P<{name}>-?\d+)")
            else:
                regex.append(rf"(?P<{name}>.+?)")
    regex.append(re.escape(form[at:]))
    return _Pattern(code, plural, re.compile("".join(regex) + r"(?= |$)", re.DOTALL),
                    frozenset(numbers))


@functools.cache
def _known() -> tuple[frozenset[str], tuple[_Pattern, ...]]:
    """Our msgids without parameters (matched as they are) and with (matched as patterns)."""
    whole, patterns = set(), []
    for msgid in _our_msgids():
        singular, _nul, plural = msgid.partition("\x00")
        for form in filter(None, (singular, plural)):
            if _PLACEHOLDER.search(form):
                # Enough words of its own to be told apart from a name or a value.
                if len(_PLACEHOLDER.sub("", form).strip()) >= MIN_WORDS_LENGTH:
                    patterns.append(_pattern(singular, form, plural))
            elif not plural and form.endswith(SENTENCE_ENDS):
                whole.add(form)
    # The longest first: of two messages that both fit, the one that says more.
    patterns.sort(key=lambda p: -len(p.regex.pattern))
    return frozenset(whole), tuple(patterns)


def _match_at(text: str, at: int) -> tuple[int, dict] | None:
    """Our message that starts at `at` and ends at a space or the end. Of several, the one
    whose values take the least text (a value is short; a message's own words are ours: a
    pattern must not swallow the next sentence into a value), then the longest."""
    whole, patterns = _known()
    best, best_rank = None, None
    end = len(text)
    while end > at:
        if text[at:end] in whole:
            best, best_rank = (end, {"code": text[at:end], "params": {}}), (0, at - end)
            break
        end = text.rfind(" ", at, end)
    for pattern in patterns:
        match = pattern.regex.match(text, at)
        if match is None:
            continue
        rank = (sum(len(value) for value in match.groupdict().values()), at - match.end())
        if best_rank is not None and rank >= best_rank:
            continue
        params = {name: int(value) if name in pattern.numbers else value
                  for name, value in match.groupdict().items()}
        found = {"code": pattern.code, "params": params}
        if pattern.plural:
            found.update(plural=pattern.plural,
                         n=next(iter(sorted(pattern.numbers, key=lambda n: n != "count")), ""))
        best, best_rank = (match.end(), found), rank
    return best


def recognise(text: str) -> list[dict]:
    """`text` (a Dutch message as stored) as parts: each of our messages in it with its
    parameters; a stretch that is none of ours as it is. Empty when nothing is recognised."""
    parts, at, unknown_from, found = [], 0, None, False
    while at < len(text):
        if text[at] == " ":
            at += 1
            continue
        hit = _match_at(text, at)
        if hit is None:
            unknown_from = at if unknown_from is None else unknown_from
            space = text.find(" ", at)
            at = len(text) if space < 0 else space
            continue
        if unknown_from is not None:
            parts.append({"code": text[unknown_from:at].rstrip(), "params": {}, "as_is": True})
            unknown_from = None
        found = True
        parts.append({**hit[1], "recognised": True})
        at = hit[0]
    if unknown_from is not None:
        parts.append({"code": text[unknown_from:].rstrip(), "params": {}, "as_is": True})
    return parts if found else []
