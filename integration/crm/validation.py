"""Normalising and validating the financial identifiers a person types, with python-stdnum.

Each `normalise_*` returns the value in its canonical form or raises `ValidationError` with a
Dutch message that says what is wrong. The admin form uses them to refuse a wrong value; the
connector uses the same functions but keeps a wrong value as it is, with a warning, because the
administrator, not the connector, decides what is right (mapping.md, "Values").

A number (Debiteurnummer, Crediteurnummer, an Account-id) is ASCII digits only, wherever it
comes from: `is_ascii_number`, `validate_number`. Text fields refuse control characters:
`control_characters`.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import bic, iban
from stdnum.eu import vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.nl import postcode as nl_postcode


def is_ascii_number(value: str) -> bool:
    """True for one or more of the digits 0-9 and nothing else.

    Not `str.isdigit()` or the regex `\\d`: both take other scripts' digits ("١٢٣٤٥", "１０００１")
    and superscripts ("²") for digits, which DigitaleFactuur does not know as a number and
    `int()` cannot always read.
    """
    return bool(value) and value.isascii() and value.isdigit()


def validate_number(value: str) -> None:
    """A model field's validator: a Debiteurnummer or Crediteurnummer is ASCII digits only."""
    if not is_ascii_number(value):
        raise ValidationError(_("Alleen cijfers, bijvoorbeeld 1001."), code="digits")


# C0 controls (but tab and line breaks: a browser sends a textarea's lines with CR LF), DEL and
# the C1 controls: invisible, and able to rewrite a terminal (ESC) or a log line showing them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_OR_LINE_BREAK = re.compile("[\x00-\x1f\x7f-\x9f]")


def control_characters(value: str, *, multiline: bool = False) -> list[str]:
    """The control characters in `value`, as `U+001B`; tab, CR and LF only when `multiline`."""
    pattern = _CONTROL if multiline else _CONTROL_OR_LINE_BREAK
    return sorted({f"U+{ord(found):04X}" for found in pattern.findall(value)})


def normalise_iban(value: str) -> str:
    try:
        return iban.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            _("Dit is geen geldig IBAN (%(value)s). Controleer het nummer, bijvoorbeeld "
              "NL91 ABNA 0417 1643 00.") % {"value": value},
            code="iban",
        ) from exc


def normalise_bic(value: str) -> str:
    try:
        return bic.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            _("Dit is geen geldige BIC (%(value)s): 8 of 11 tekens, bijvoorbeeld ABNANL2A.")
            % {"value": value},
            code="bic",
        ) from exc


def normalise_vat(value: str) -> str:
    try:
        return vat.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            _("Dit is geen geldig btw-nummer (%(value)s). Begin met de landcode, bijvoorbeeld "
              "NL123456789B01.") % {"value": value},
            code="vat",
        ) from exc


def normalise_postcode(value: str, country: str) -> str:
    """A Dutch postcode becomes `1234 AB`; other countries' postcodes are only trimmed."""
    value = " ".join(value.split())
    if country not in ("", "NL"):
        return value
    try:
        return nl_postcode.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            _("Dit is geen geldige Nederlandse postcode (%(value)s): vier cijfers en twee "
              "letters, bijvoorbeeld 2311 AA.") % {"value": value},
            code="postcode",
        ) from exc
