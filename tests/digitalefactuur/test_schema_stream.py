"""A list answer read as it arrives (`schema.KlantenReader`): the same klanten as a whole read,
the same refusals, however the bytes are cut, and a klant at a time held."""

import pytest

from integration.digitalefactuur.schema import (
    MAX_KLANT_BYTES,
    DfKlant,
    KlantenReader,
    KlantTooLarge,
    SchemaError,
    parse_klanten,
)
from tests.digitalefactuur.test_schema import PAGE


def read_in_parts(body, size):
    reader, klanten = KlantenReader(), []
    for offset in range(0, len(body), size):
        klanten += reader.feed(body[offset:offset + size])
    return klanten + reader.close()


READABLE = {
    "api-page": PAGE,
    "order-unknown-nested": b"<klanten><klant><naam>\n Jansen \n</naam><onbekend>x</onbekend>"
                            b"<id> 7 </id><extra><diep>y</diep></extra></klant></klanten>",
    "bom-whitespace": b"\xef\xbb\xbf \n<?xml version='1.0'?><klanten><klant><id>7</id>"
                      b"<naam>Jansen</naam></klant></klanten>",
    "namespace-case-cdata": b"<k:klanten xmlns:k='urn:x'><k:klant><k:ID>7</k:ID><!-- c -->"
                            b"<NAAM><![CDATA[Jansen]]></NAAM></k:klant></k:klanten>",
    "latin-1": '<?xml version="1.0" encoding="ISO-8859-1"?><klanten><klant><naam>Café</naam>'
               "</klant></klanten>".encode("latin-1"),
    "utf-16": "<klanten><klant><id>1</id><naam>Zoë</naam></klant></klanten>".encode("utf-16"),
    "lone-klant": b"<klant><id>1</id></klant>",
    "empty-list": b"<klanten/>",
}


@pytest.mark.parametrize("size", [1, 7, 4096])
@pytest.mark.parametrize("name", READABLE)
def test_the_klanten_are_those_of_a_whole_read_however_the_bytes_are_cut(name, size):
    # given an answer cut in parts of `size` bytes
    body = READABLE[name]
    # when / then
    assert read_in_parts(body, size) == parse_klanten(body)


FORBIDDEN = {
    "internal-entity": b'<?xml version="1.0"?><!DOCTYPE klanten [<!ENTITY x "boom">]>'
                       b"<klanten>&x;</klanten>",
    "external-dtd": b'<!DOCTYPE klanten SYSTEM "http://evil.example/x.dtd"><klanten/>',
    "xxe": b'<!DOCTYPE k [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><klanten><klant><naam>'
           b"&xxe;</naam></klant></klanten>",
    "after-bom-comment-and-pi": b'\xef\xbb\xbf <!-- opmerking --><?pi x?>'
                                b'<!DOCTYPE klanten SYSTEM "x.dtd"><klanten/>',
    "utf-16": '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE k [<!ENTITY x "y">]>'
              "<klanten>&x;</klanten>".encode("utf-16"),
}


@pytest.mark.parametrize("size", [1, 5, 4096])
@pytest.mark.parametrize("name", FORBIDDEN)
def test_a_doctype_is_refused_however_the_bytes_are_cut(name, size):
    with pytest.raises(SchemaError) as caught:
        read_in_parts(FORBIDDEN[name], size)
    assert caught.value.forbidden


@pytest.mark.parametrize("body", [
    b"", b"   ", b"<klanten>", b"<klanten><klant></klanten>", b"niet eens xml", b"<a",
    b"<klanten><klant><naam>\xff\xfe</naam></klant></klanten>",
    b'<?xml version="1.0" encoding="x-onbekend"?><klanten/>', b"<facturen/>",
    b"<klanten>" + b"<a>" * 40 + b"</a>" * 40 + b"</klanten>",
])
def test_what_cannot_be_read_raises_schema_error(body):
    with pytest.raises(SchemaError) as caught:
        read_in_parts(body, 3)
    assert not caught.value.forbidden


def test_klanten_are_handed_out_as_they_arrive_and_let_go():
    """Each part's klanten come out of that part's feed; the tree keeps none of them."""
    # given a list of 2,000 klanten arriving in parts of 4 kB
    body = b"<klanten>" + b"".join(b"<klant><id>%d</id><naam>K</naam></klant>" % n
                                   for n in range(1, 2001)) + b"</klanten>"
    reader, fed = KlantenReader(), []
    # when
    for offset in range(0, len(body), 4096):
        fed.append(len(reader.feed(body[offset:offset + 4096])))
        # then the root holds nothing read
        assert reader._root is None or len(reader._root) == 0
    fed.append(len(reader.close()))
    # and every part but the last brought klanten, all of them in all
    assert all(fed[:-2]) and sum(fed) == 2000


@pytest.mark.parametrize("body", [
    b"<klanten><klant><id>1</id><naam>" + b"x" * (MAX_KLANT_BYTES + 100_000) + b"</naam></klant>"
    b"</klanten>",
    b"<klanten><klant><id>1</id></klant>" + b" " * (MAX_KLANT_BYTES + 100_000) + b"</klanten>",
    b" " * (MAX_KLANT_BYTES + 100_000) + b"<klanten/>",
], ids=["one-huge-klant", "whitespace-between-klanten", "whitespace-before-the-start"])
def test_more_than_a_klants_worth_without_a_klant_is_refused(body):
    with pytest.raises(KlantTooLarge) as caught:
        read_in_parts(body, 64 * 1024)
    assert caught.value.forbidden and str(MAX_KLANT_BYTES) in caught.value.reason


def test_a_klant_just_under_the_bound_is_read():
    body = (b"<klanten><klant><id>1</id><naam>" + b"x" * (MAX_KLANT_BYTES - 100_000)
            + b"</naam></klant></klanten>")
    assert [k.id for k in read_in_parts(body, 64 * 1024)] == ["1"]
    assert read_in_parts(b"<klanten><klant><id>1</id></klant></klanten>", 2) == [DfKlant(id="1")]
