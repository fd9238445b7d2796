"""The English catalogue: every Dutch screen string translated, compiled, and with its placeholders.

The msgids in the code are Dutch; `locale/en/LC_MESSAGES/django.po` holds the English. The compiled
`django.mo` is committed next to it (a fresh machine has no gettext tools), so these scenarios
check both files without running msgfmt: the .po is read with a small parser of its own, the .mo
with Python's `gettext.GNUTranslations`, the same reader Django uses.

When a scenario fails after new Dutch strings were added:

    .venv/bin/python manage.py makemessages -l en --ignore=.venv --ignore=.tools --ignore=var \
        --ignore=bench --no-location
    # translate the new (empty or "#, fuzzy") entries in locale/en/LC_MESSAGES/django.po
    .venv/bin/python manage.py compilemessages -l en --ignore=.venv --ignore=.tools
"""

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "en" / "LC_MESSAGES"
PO_FILE = CATALOGUE / "django.po"
MO_FILE = CATALOGUE / "django.mo"

# %(name)s, %(seconds).1f, %s, %d, ... (not %%), and str.format's {name} / {0} / {}.
PERCENT_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0+-]*\d*(?:\.\d+)?[sdifFeEgGxXorc]")
BRACE_PLACEHOLDER = re.compile(r"\{[A-Za-z_0-9]*(?:![rsa])?(?::[^{}]*)?\}")
HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")


@dataclass
class Entry:
    """One msgid/msgstr block of a .po file."""

    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def label(self) -> str:
        return f"line {self.line}: {self.msgid!r}"


def parse_po(path: Path) -> list[Entry]:
    """The live entries of a .po file, header (msgid "") and obsolete `#~` entries left out.

    Understands flags (`#, fuzzy, python-format`), msgctxt, plurals (msgstr[n]) and strings
    continued over several lines.
    """
    entries: list[Entry] = []
    current = Entry()
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal current, target
        if current.msgid or current.msgstr:
            entries.append(current)
        current, target = Entry(), None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#,"):
            current.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            value, keyword = ast.literal_eval(line), None
        else:
            value = ast.literal_eval(rest)
        if keyword is None:
            assert target is not None, f"{path.name} line {number}: continuation without keyword"
            name, index = target
        elif keyword in ("msgid", "msgid_plural", "msgctxt"):
            if keyword == "msgid" and (current.msgid or current.msgstr):
                finish()
            if keyword == "msgid" and not current.line:
                current.line = number
            name, index = keyword, 0
            setattr(current, name, "")
        else:
            match = re.fullmatch(r"msgstr(?:\[(\d+)\])?", keyword)
            assert match, f"{path.name} line {number}: unexpected {keyword!r}"
            name, index = "msgstr", int(match.group(1) or 0)
            current.msgstr[index] = ""
        target = (name, index)
        if name == "msgstr":
            current.msgstr[index] += value
        else:
            setattr(current, name, getattr(current, name) + value)
    finish()
    return [entry for entry in entries if entry.msgid]


def placeholders(text: str) -> list[str]:
    text = text.replace("%%", "")
    return sorted(PERCENT_PLACEHOLDER.findall(text) + BRACE_PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return parse_po(PO_FILE)


def test_every_entry_is_translated_and_none_is_fuzzy(entries):
    """An English user never sees Dutch: every msgid has an English msgstr, none marked fuzzy.

    A fuzzy entry is msgmerge's guess from a similar string (often plainly wrong, e.g. "gepland"
    guessed as "country"); gettext ignores it, so it is as Dutch on screen as an empty one.
    """
    # given the catalogue as makemessages left it and the translator filled it in
    assert len(entries) > 100, "the parser found suspiciously few entries"
    # when we look for gaps
    untranslated = [entry.label for entry in entries
                    if not entry.msgstr or not all(entry.msgstr.values())]
    fuzzy = [entry.label for entry in entries if "fuzzy" in entry.flags]
    # then there are none
    assert untranslated == [], "untranslated entries in django.po:\n" + "\n".join(untranslated)
    assert fuzzy == [], "fuzzy entries in django.po:\n" + "\n".join(fuzzy)


def test_plural_entries_have_both_english_forms(entries):
    """English has two plural forms (Plural-Forms: nplurals=2); each plural entry fills both."""
    # given the plural entries
    plurals = [entry for entry in entries if entry.msgid_plural is not None]
    # then each has msgstr[0] and msgstr[1]
    incomplete = [entry.label for entry in plurals if sorted(entry.msgstr) != [0, 1]]
    assert incomplete == []


def test_committed_mo_matches_the_po(entries):
    """The committed django.mo says exactly what django.po says: nobody forgot compilemessages.

    Django reads only the .mo; a .po edited but not compiled shows the old text on screen.
    """
    # given the compiled catalogue as Django would load it
    with MO_FILE.open("rb") as handle:
        mo = gettext.GNUTranslations(handle)
    # when every entry of the .po is looked up in it
    stale = []
    for entry in entries:
        if entry.msgid_plural is None:
            expected = [entry.msgstr[0]]
            if entry.msgctxt is None:
                found = [mo.gettext(entry.msgid)]
            else:
                found = [mo.pgettext(entry.msgctxt, entry.msgid)]
        else:
            expected = [entry.msgstr[0], entry.msgstr[1]]
            if entry.msgctxt is None:
                found = [mo.ngettext(entry.msgid, entry.msgid_plural, n) for n in (1, 2)]
            else:
                found = [mo.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                         for n in (1, 2)]
        if found != expected:
            stale.append(f"{entry.label}: .mo has {found!r}, .po has {expected!r}")
    # then each maps to its msgstr
    assert stale == [], "django.mo is out of date; run compilemessages:\n" + "\n".join(stale)
    # and the .mo holds nothing the .po no longer has
    po_keys = {(entry.msgctxt + "\x04" if entry.msgctxt is not None else "") + entry.msgid
               for entry in entries}
    mo_keys = {key[0] if isinstance(key, tuple) else key for key in mo._catalog} - {""}
    assert mo_keys - po_keys == set(), "django.mo has entries django.po lacks; recompile"


def test_placeholders_and_markup_survive_translation(entries):
    """A translation keeps every placeholder and HTML tag of its msgid, or the screen breaks.

    A missing or renamed `%(name)s` raises KeyError when the string is formatted; a lost `<b>` or
    `<strong>` changes the page. Plural forms are compared with msgid_plural.
    """
    # given every msgid/msgstr pair, plural forms included
    mismatches = []
    for entry in entries:
        for index, msgstr in entry.msgstr.items():
            source = entry.msgid if index == 0 or entry.msgid_plural is None else entry.msgid_plural
            # when their placeholders and tags are compared
            if placeholders(source) != placeholders(msgstr):
                mismatches.append(f"{entry.label} [{index}]: placeholders "
                                  f"{placeholders(source)} != {placeholders(msgstr)}")
            if sorted(HTML_TAG.findall(source)) != sorted(HTML_TAG.findall(msgstr)):
                mismatches.append(f"{entry.label} [{index}]: HTML tags differ")
    # then they are the same
    assert mismatches == [], "\n".join(mismatches)


#: What belongs in the technical details, never in what an administrator reads (issue 16): a
#: setting's name (DIGITALEFACTUUR_BASE_URL) or an exception class (ConnectionError).
SETTING_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
EXCEPTION_CLASS = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception)\b")


def test_no_message_names_a_setting_or_an_exception(entries):
    """Every text of ours, in both languages, says what to do in the administrator's words;
    the setting or exception behind it goes to the technical details."""
    # given every entry of the catalogue
    # when each text is looked through for a setting's or an exception's name
    found = [f"{entry.label}: {text!r}" for entry in entries
             for text in [entry.msgid, entry.msgid_plural or "", *entry.msgstr.values()]
             if SETTING_NAME.search(text) or EXCEPTION_CLASS.search(text)]
    # then there is none
    assert found == []


def test_the_guard_recognises_a_setting_and_an_exception():
    # given texts as they must not be shown, and as they may
    shown = ["verhoog DIGITALEFACTUUR_MAX_LIST_MB", "(ConnectionError: refused)"]
    allowed = ["DigitaleFactuur is niet bereikbaar", "BTW-nummer NL001234567B01", "KVK"]
    # then only the first are caught
    assert all(SETTING_NAME.search(t) or EXCEPTION_CLASS.search(t) for t in shown)
    assert not any(SETTING_NAME.search(t) or EXCEPTION_CLASS.search(t) for t in allowed)


def test_the_parser_reads_multiline_plural_and_fuzzy_entries(tmp_path):
    """The little .po parser itself: continuation lines, plurals, flags and the header."""
    # given a .po with a header, a multi-line entry, a plural and a fuzzy entry
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        '#, python-format\nmsgid ""\n"Een lange %(x)s "\n"tekst"\nmsgstr ""\n'
        '"A long %(x)s "\n"text"\n\n'
        'msgid "%(n)s run"\nmsgid_plural "%(n)s runs"\nmsgstr[0] "%(n)s run"\n'
        'msgstr[1] "%(n)s runs"\n\n'
        '#, fuzzy\n#| msgid "land"\nmsgid "gepland"\nmsgstr "country"\n\n'
        '#~ msgid "weg"\n#~ msgstr "gone"\n',
        encoding="utf-8")
    # when it is parsed
    parsed = parse_po(po)
    # then the header and the obsolete entry are left out and the rest is read whole
    assert [entry.msgid for entry in parsed] == ["Een lange %(x)s tekst", "%(n)s run", "gepland"]
    assert parsed[0].msgstr == {0: "A long %(x)s text"}
    assert parsed[1].msgid_plural == "%(n)s runs"
    assert parsed[1].msgstr == {0: "%(n)s run", 1: "%(n)s runs"}
    assert "fuzzy" in parsed[2].flags
    assert placeholders("%(a)s en %(b).1f, 100%% {c} %s") == ["%(a)s", "%(b).1f", "%s", "{c}"]
