"""The XML format of a klant: generous in what it reads, strict and safe in what it writes."""

import contextlib

import defusedxml.ElementTree as ET
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integration.digitalefactuur.schema import (
    FIELD_NAMES,
    WRITABLE_FIELDS,
    DfKlant,
    SchemaError,
    is_error_body,
    klant_to_xml,
    normalised,
    parse_error,
    parse_klant,
    parse_klanten,
)

PAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<klanten>
  <klant>
    <id>133366</id>
    <relatienummer>1001</relatienummer>
    <type>debiteur</type>
    <naam>Bakkerij De Korenaar B.V.</naam>
    <adres>Haagweg 4</adres>
    <postcode>2311 AA</postcode>
    <plaats>Leiden</plaats>
    <land>Nederland</land>
    <faxnummer/>
    <iban>NL91ABNA0417164300</iban>
    <bic>ABNANL2A</bic>
    <kvk_nummer>12345678</kvk_nummer>
    <btw_nummer>NL123456789B01</btw_nummer>
  </klant>
</klanten>
"""


def test_the_example_page_of_the_api_description_is_read():
    """The documented example becomes one DfKlant with every element in its field."""
    # given the example answer of `klanten&page=1`
    # when it is parsed
    klanten = parse_klanten(PAGE)
    # then every element is in its field and the absent ones are empty
    assert klanten == [DfKlant(
        id="133366", relatienummer="1001", type="debiteur", naam="Bakkerij De Korenaar B.V.",
        adres="Haagweg 4", postcode="2311 AA", plaats="Leiden", land="Nederland",
        iban="NL91ABNA0417164300", bic="ABNANL2A", kvk_nummer="12345678",
        btw_nummer="NL123456789B01",
    )]


@pytest.mark.parametrize("body", [
    # another order, unknown elements, whitespace, no declaration
    b"<klanten><klant><naam>\n  Jansen  \n</naam><onbekend>x</onbekend><id> 7 </id>"
    b"<relatienummer>1002</relatienummer><extra><diep>y</diep></extra></klant></klanten>",
    # a BOM and whitespace before the declaration
    b"\xef\xbb\xbf \n<?xml version='1.0'?><klanten><klant><id>7</id><naam>Jansen</naam>"
    b"<relatienummer>1002</relatienummer></klant></klanten>",
    # a namespace and capitals, a repeated element (the first counts), CDATA, a comment
    b"<k:klanten xmlns:k='urn:x'><k:klant><k:ID>7</k:ID><!-- c --><NAAM><![CDATA[Jansen]]>"
    b"</NAAM><naam>Tweede</naam><relatienummer>1002</relatienummer></k:klant></k:klanten>",
], ids=["order-unknown-whitespace", "bom-whitespace", "namespace-case-cdata"])
def test_what_the_page_marks_assumed_is_tolerated(body):
    """Order, unknown elements, whitespace, BOM, namespaces and capitals change nothing."""
    # given a list in one of the tolerated variations
    # when it is parsed
    klanten = parse_klanten(body)
    # then the klant is read the same way
    assert klanten == [DfKlant(id="7", relatienummer="1002", naam="Jansen")]


def test_another_declared_encoding_is_honoured():
    """ISO-8859-1 bytes with their declaration are decoded as declared."""
    # given a Latin-1 document
    body = '<?xml version="1.0" encoding="ISO-8859-1"?><klant><naam>Café Zoë</naam></klant>'
    # when it is parsed as a single klant
    klant = parse_klant(body.encode("latin-1"))
    # then the accents survive
    assert klant.naam == "Café Zoë"


def test_an_empty_list_and_single_answers():
    """`<klanten/>` is the end of the list; a write's answer may be `<klant>` or a list of one."""
    # given / when / then
    assert parse_klanten(b"<klanten/>") == []
    assert parse_klanten(b"<klant><id>1</id></klant>") == [DfKlant(id="1")]
    assert parse_klant(b"<klanten><klant><id>1</id></klant></klanten>") == DfKlant(id="1")
    with pytest.raises(SchemaError):
        parse_klant(b"<klanten/>")
    with pytest.raises(SchemaError):
        parse_klanten(b"<facturen/>")


@pytest.mark.parametrize("body", [
    b'<?xml version="1.0"?><!DOCTYPE klanten [<!ENTITY x "boom">]><klanten>&x;</klanten>',
    b'<?xml version="1.0"?><!DOCTYPE klanten SYSTEM "http://evil.example/x.dtd"><klanten/>',
    b'<!DOCTYPE k [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><klanten><klant><naam>&xxe;'
    b"</naam></klant></klanten>",
    b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    b"<klanten>&lol2;</klanten>",
], ids=["internal-entity", "external-dtd", "xxe", "billion-laughs"])
def test_dtds_and_entities_are_refused(body):
    """No DTD, entity or external reference is ever processed."""
    # given a document with a forbidden construct
    # when it is parsed
    with pytest.raises(SchemaError) as caught:
        parse_klanten(body)
    # then it is refused as forbidden, not expanded
    assert caught.value.forbidden


_PADDING = b"<!--" + b" " * (1024 * 1024) + b"-->"


@pytest.mark.parametrize("body", [
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE k [<!ENTITY x "y">]><klanten>&x;'
    "</klanten>".encode("utf-16"),
    b'\xef\xbb\xbf <!-- eerst een opmerking --><?pi x?><!DOCTYPE klanten SYSTEM "x.dtd"><klanten/>',
    b'<!DOCTYPE klanten [<!ENTITY x "boom">]>' + _PADDING + b"<klanten>&x;</klanten>",
], ids=["utf-16", "after-bom-comment-and-pi", "large-answer"])
def test_a_doctype_is_refused_wherever_the_prolog_hides_it(body):
    """The DOCTYPE is found in any encoding, behind whatever the prolog may hold, and in an
    answer large enough to be read a chunk at a time."""
    # when the document is read
    with pytest.raises(SchemaError) as caught:
        parse_klanten(body)
    # then it is refused as forbidden
    assert caught.value.forbidden


def test_a_large_lone_klant_is_bounded_in_its_elements_too():
    """Above 1 MB a lone <klant> is read a chunk at a time; its elements stay bounded."""
    # given one klant of 3,000 elements, padded past the size that is read whole
    body = (b"<klant><id>1</id>" + b"<extra>x</extra>" * 3_000 + _PADDING + b"</klant>")
    # when it is read / then it is refused, not held
    with pytest.raises(SchemaError, match="te veel elementen"):
        parse_klanten(body)


def test_an_undeclared_entity_is_a_plain_syntax_error():
    """Without a DOCTYPE an entity cannot be declared: `&x;` is bad XML, not a forbidden one."""
    with pytest.raises(SchemaError) as caught:
        parse_klanten(b"<klanten><klant><naam>&x;</naam></klant></klanten>")
    assert not caught.value.forbidden


@pytest.mark.parametrize("body", [
    b"", b"   ", b"<klanten>", b"<klanten><klant></klanten>", b"niet eens xml",
    b"<klanten><klant><naam>\xff\xfe</naam></klant></klanten>",
    b'<?xml version="1.0" encoding="x-onbekend"?><klanten/>',
])
def test_what_cannot_be_read_raises_schema_error(body):
    """Malformed XML, invalid UTF-8 and unknown encodings raise SchemaError, nothing else."""
    # given / when / then
    with pytest.raises(SchemaError):
        parse_klanten(body)


@pytest.mark.parametrize(("body", "expected"), [
    (b"401 Account-id of toegangscode onjuist", (401, "Account-id of toegangscode onjuist")),
    (b"\xef\xbb\xbf\n 422: naam   is te lang\n", (422, "naam is te lang")),
    (b"500", (500, "")),
    (b"429 te veel \xff verzoeken", (429, "te veel \ufffd verzoeken")),
])
def test_an_error_body_is_three_digits_and_a_message(body, expected):
    """Three leading digits make an error, whatever follows; the message is tidied."""
    # given / when / then
    assert is_error_body(body)
    assert parse_error(body) == expected


@pytest.mark.parametrize("body", [b"<klanten/>", b"12", b"1a2 x", b"", "١٢٣".encode()])
def test_other_bodies_are_no_error(body):
    """Only three ASCII digits count: XML, short bodies and other digits are no error."""
    # given / when / then
    assert not is_error_body(body)
    with pytest.raises(SchemaError):
        parse_error(body)


def test_a_create_document_omits_the_id_and_an_update_carries_it():
    """`<id>` goes only with a klant that has one; every other field is sent, empty ones too."""
    # given a klant without id and one with
    new = DfKlant(relatienummer="1001", naam="A & B <C> \"D\" 'E'")
    # when both are written
    create_xml, _ = klant_to_xml(new)
    update_xml, _ = klant_to_xml(DfKlant(id="9", naam="X"), fields=["naam", "plaats"])
    # then the create has every writable field and no id, special characters escaped
    root = ET.fromstring(create_xml)
    assert [child.tag for child in root] == list(WRITABLE_FIELDS)
    assert root.find("naam").text == "A & B <C> \"D\" 'E'"
    assert b"A &amp; B &lt;C&gt;" in create_xml
    assert create_xml.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    # and the update carries its id first and only the fields asked for, the empty one too
    assert [(c.tag, c.text or "") for c in ET.fromstring(update_xml)] == [
        ("id", "9"), ("naam", "X"), ("plaats", "")]


def test_an_unknown_field_is_a_programming_error():
    """Asking to send an element the API does not have fails loudly."""
    # given / when / then
    with pytest.raises(ValueError, match="unknown klant fields"):
        klant_to_xml(DfKlant(), fields=["naam", "geboortedatum"])


def test_forbidden_characters_are_stripped_with_a_dutch_warning_naming_the_field():
    """Control characters go; the warning names the field and the count, never the value."""
    # given a klant with control characters in two fields
    klant = DfKlant(naam="Geheim\x00Bedrijf\x07", plaats="Lei\x1bden", adres="Tab\tblijft")
    # when it is written
    body, warnings = klant_to_xml(klant)
    # then the document is well formed and the characters are gone
    root = ET.fromstring(body)
    assert root.find("naam").text == "GeheimBedrijf"
    assert root.find("plaats").text == "Leiden"
    assert root.find("adres").text == "Tab\tblijft"
    # and each field has one Dutch warning, without the value
    assert len(warnings) == 2
    assert "'naam'" in warnings[0] and "2 teken(s) verwijderd" in warnings[0]
    assert "'plaats'" in warnings[1]
    assert not any("Geheim" in w or "Lei" in w for w in warnings)


# Text that includes what XML forbids (controls, surrogates, U+FFFE/FFFF) and what it escapes.
hostile_text = st.text(
    alphabet=st.one_of(
        st.characters(codec=None),
        st.sampled_from(list("&<>\"'\t\r\n \x00\x01\x0b\x1f\x7f\ud800\udfff\ufffe\uffff]]>")),
    ),
    max_size=40,
)
klanten_strategy = st.builds(DfKlant, **{name: hostile_text for name in FIELD_NAMES})


@settings(max_examples=300, deadline=None)
@given(klant=klanten_strategy)
def test_any_klant_survives_a_round_trip(klant):
    """to_xml -> parse changes nothing but what the wire cannot carry.

    That is: forbidden characters stripped, CR/CRLF become LF, surrounding whitespace stripped;
    exactly what `normalised` describes.
    """
    # given any klant
    # when it is written for an update (id included when set) and read back
    body, _ = klant_to_xml(klant, fields=FIELD_NAMES)
    again = parse_klant(body)
    # then it equals the normalised klant
    assert again == normalised(klant)


@settings(max_examples=500, deadline=None)
@given(body=st.one_of(
    st.binary(max_size=300),
    st.builds(lambda head, tail: head + tail,
              st.sampled_from([b"<klanten>", b"<?xml version='1.0'?><klant>", b"<!DOCTYPE a>",
                               b"\xef\xbb\xbf", b"\xff\xfe<\x00", b"123 "]),
              st.binary(max_size=200)),
))
def test_arbitrary_bytes_raise_nothing_but_schema_error(body):
    """Whatever the bytes, the parsers answer a value or SchemaError, never anything else."""
    # given / when / then
    for parse in (parse_klanten, parse_klant):
        with contextlib.suppress(SchemaError):
            parse(body)
    if is_error_body(body):
        assert 0 <= parse_error(body)[0] <= 999
