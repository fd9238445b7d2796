"""Normalising and validating the financial identifiers a person types, with python-stdnum.

Each `normalise_*` returns the value in its canonical form or raises `ValidationError` with a
Dutch message that says what is wrong. The admin form uses them to refuse a wrong value; the
connector uses the same functions but keeps a wrong value as it is, with a warning, because the
administrator, not the connector, decides what is right (mapping.md, "Values").
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import bic, iban
from stdnum.eu import vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.nl import postcode as nl_postcode


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
