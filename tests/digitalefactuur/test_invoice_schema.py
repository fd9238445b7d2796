"""invoice_schema: the facturen documents as the public sources show them, and worse."""

import base64
from datetime import date
from decimal import Decimal

import pytest

from integration.digitalefactuur.invoice_schema import (
    parse_date,
    parse_decimal,
    parse_facturen,
    parse_invoice_pdf,
    parse_vat,
)
from integration.digitalefactuur.schema import SchemaError


@pytest.mark.parametrize("text, expected", [
    ("02-06-2010", date(2010, 6, 2)), ("2010-06-02", date(2010, 6, 2)),
    (" 2010-06-02 00:00:00 ", date(2010, 6, 2)), ("2-6-2010", date(2010, 6, 2)),
    ("31-02-2010", None), ("06/02/2010", None), ("", None),
])
def test_dates_in_both_formats_and_nothing_guessed(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("0.210", Decimal("0.21")), ("21", Decimal("0.21")), ("9", Decimal("0.09")),
    ("0.09", Decimal("0.09")), ("0", Decimal("0")), ("", Decimal("0")), ("1", Decimal("1")),
])
def test_vat_as_fraction_or_percentage(text, expected):
    assert parse_vat(text) == expected


def test_dutch_decimal_commas_are_read():
    assert parse_decimal("1.234,56") == Decimal("1234.56")
    assert parse_decimal("-49,95") == Decimal("-49.95")
    with pytest.raises(ValueError):
        parse_decimal("NaN")


def test_a_namespaced_shuffled_document_with_wrapped_lines_is_read():
    # given: elements in another order and case, lines in a wrapper holding their own <id>
    body = """<?xml version="1.0" encoding="ISO-8859-1"?>
    <f:facturen xmlns:f="urn:x"><f:factuur>
      <f:factuurregels><f:factuurregel><f:id>9</f:id><f:PRIJS> 0.125 </f:PRIJS>
        <f:aantal>1</f:aantal><f:btw>9</f:btw></f:factuurregel>
        <f:factuurregel><f:aantal>3</f:aantal><f:prijs>9,99</f:prijs><f:btw>0.210</f:btw>
        <f:omschrijving><![CDATA[Boeken & co]]></f:omschrijving></f:factuurregel>
      </f:factuurregels>
      <f:Vervaldatum>16-06-2010</f:Vervaldatum><f:id> 700 </f:id><f:klant_id>133300</f:klant_id>
      <f:betaalstatus>Openstaand</f:betaalstatus><f:factuurnummer>12</f:factuurnummer>
      <f:factuurnummer_voorloop>F</f:factuurnummer_voorloop>
      <f:automatische_incasso>ja</f:automatische_incasso>
    </f:factuur><f:factuur><f:klant_id>1</f:klant_id></f:factuur></f:facturen>""".encode(
        "iso-8859-1")

    # when
    page = parse_facturen(body)

    # then: 0.13625 -> 0.14 and 36.2637 -> 36.26, per line, half up
    [invoice] = page.invoices
    assert page.unreadable == 1  # the one without an id
    assert (invoice.id, invoice.klant_id, invoice.number) == ("700", "133300", "F12")
    assert invoice.is_open and invoice.direct_debit
    assert invoice.due_date == date(2010, 6, 16) and invoice.invoice_date is None
    assert invoice.amount == Decimal("36.40")


def test_a_half_cent_rounds_up_and_a_negative_one_away_from_zero():
    body = b"""<facturen><factuur><id>1</id><betaalstatus>openstaand</betaalstatus>
      <factuurregel><aantal>1</aantal><prijs>0.025</prijs><btw>0</btw></factuurregel>
      <factuurregel><aantal>-1</aantal><prijs>0.005</prijs><btw>0</btw></factuurregel>
    </factuur></facturen>"""
    [invoice] = parse_facturen(body).invoices
    assert [line.amount for line in invoice.lines] == [Decimal("0.03"), Decimal("-0.01")]


def test_hostile_xml_is_refused():
    with pytest.raises(SchemaError) as refused:
        parse_facturen(b'<!DOCTYPE x [<!ENTITY a "b">]><facturen>&a;</facturen>')
    assert refused.value.forbidden


def test_the_pdf_comes_bare_or_wrapped():
    pdf = b"%PDF-1.4\nsomething\n%%EOF\n"
    encoded = base64.b64encode(pdf)
    assert parse_invoice_pdf(encoded) == pdf
    assert parse_invoice_pdf(b"<a><id>7</id><pdf>\n" + encoded + b"\n</pdf></a>") == pdf
    with pytest.raises(SchemaError):
        parse_invoice_pdf(base64.b64encode(b"<html>not a pdf</html>"))


def test_a_large_facturen_list_is_read_whole_through_the_guarded_reader():
    """Above 1 MB the list is read a chunk at a time with the same guard; nothing is lost."""
    # given 8,000 invoices of one line each, some 1.3 MB
    invoice = ("<factuur><id>{n}</id><klant_id>7</klant_id><betaalstatus>openstaand</betaalstatus>"
               "<factuurregel><aantal>1</aantal><prijs>10</prijs><btw>21</btw></factuurregel>"
               "</factuur>")
    body = ("<facturen>" + "".join(invoice.format(n=n) for n in range(1, 8_001))
            + "</facturen>").encode()
    assert len(body) > 1024 * 1024

    # when it is read
    page = parse_facturen(body)

    # then every invoice is there, with its computed amount
    assert len(page.invoices) == 8_000 and page.unreadable == 0
    assert page.invoices[-1].id == "8000" and page.invoices[-1].amount == Decimal("12.10")


@pytest.mark.parametrize("padding", [b"", b"<!--" + b" " * (1024 * 1024) + b"-->"],
                         ids=["small", "large"])
def test_facturen_nested_past_the_depth_bound_are_refused(padding):
    """invoice_schema reads through schema.parse_root, and so has its depth bound too."""
    body = b"<facturen>" + padding + b"<a>" * 40 + b"</a>" * 40 + b"</facturen>"
    with pytest.raises(SchemaError, match="te diep"):
        parse_facturen(body)
