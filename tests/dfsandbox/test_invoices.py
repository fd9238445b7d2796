"""The sandbox's facturen and factuur_download, read here with the standard library only (the
sandbox shares no code with the client, and neither does this reader)."""

import base64
import re
import xml.etree.ElementTree as ET  # our own sandbox's answers, in a test

import pytest

pytestmark = pytest.mark.usefixtures("sandbox")


def ids(content: bytes) -> list[int]:
    root = ET.fromstring(content)  # noqa: S314 - the sandbox's own answer
    return [int("".join(f.find("id").itertext()).strip()) for f in root.iter("factuur")]


def plant_three(sandbox):
    klant = sandbox.add_klant(relatienummer="1001", type="debiteur", naam="Bakkerij")
    regel = [{"aantal": "1", "omschrijving": "Brood & <banket>", "prijs": "10", "btw": "21"}]
    return [sandbox.add_factuur(klant["id"], regels=regel, betaalstatus=status,
                                factuurnummer=str(n), factuurnummer_voorloop="F",
                                factuurdatum="02-06-2010", vervaldatum="2010-06-16")
            for n, status in enumerate(["openstaand", "betaald", "openstaand"], start=1)]


def test_the_filters_are_honoured_by_default(sandbox, api, http):
    # given
    first, paid, third = plant_three(sandbox)

    # when
    open_ones = http.get(f"{api}/facturen&page=1&betaalstatus=openstaand").content
    by_id = http.get(f"{api}/facturen&facturen_id={paid['id']}").content
    newest_first = http.get(f"{api}/facturen&order_column=factuurnummer&order_type=desc").content

    # then
    assert ids(open_ones) == [first["id"], third["id"]]
    assert ids(by_id) == [paid["id"]]
    assert ids(newest_first) == [third["id"], paid["id"], first["id"]]


def test_with_the_number_filter_ignored_the_facturen_filters_are_ignored_too(sandbox, api, http):
    # given
    invoices = plant_three(sandbox)
    sandbox.set_readings(number_filter="ignored")

    # when
    answer = http.get(f"{api}/facturen&page=1&betaalstatus=openstaand").content

    # then
    assert ids(answer) == [i["id"] for i in invoices]


def test_paging_follows_the_listing_reading(sandbox, api, http):
    # given
    invoices = plant_three(sandbox)
    sandbox.set_readings(page_size=2)

    # when / then: paged, past the end empty
    assert ids(http.get(f"{api}/facturen&page=2").content) == [invoices[2]["id"]]
    assert ids(http.get(f"{api}/facturen&page=3").content) == []
    # repeat_last: past the end the last page again
    sandbox.set_readings(listing="repeat_last")
    assert ids(http.get(f"{api}/facturen&page=9").content) == [invoices[2]["id"]]
    # unpaged: everything, whatever the page
    sandbox.set_readings(listing="unpaged")
    assert len(ids(http.get(f"{api}/facturen&page=2").content)) == 3


def test_wild_documents_wrap_lines_and_use_latin1(sandbox, api, http):
    # given
    plant_three(sandbox)
    sandbox.set_readings(documents="wild")

    # when
    answer = http.get(f"{api}/facturen&page=1")

    # then
    assert answer.content.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    root = ET.fromstring(answer.content)  # noqa: S314
    assert len(list(root.iter("factuurregels"))) == 3
    assert "Brood & <banket>" in "".join(root.find(".//omschrijving").itertext())


def test_factuur_download_answers_a_real_pdf_in_base64_tidy_and_wild(sandbox, api, http):
    # given
    invoice = plant_three(sandbox)[0]

    # when
    tidy = http.get(f"{api}/factuur_download&facturen_id={invoice['id']}&download_type=base64")
    sandbox.set_readings(documents="wild")
    wild = http.get(f"{api}/factuur_download&facturen_id={invoice['id']}&download_type=base64")

    # then
    pdf = base64.b64decode(tidy.content)
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    offset = int(re.search(rb"startxref\n(\d+)", pdf).group(1))
    assert pdf[offset:offset + 4] == b"xref"
    assert b"Factuur F1" in pdf
    folded = ET.fromstring(wild.content).find("pdf").text  # noqa: S314
    assert base64.b64decode("".join(folded.split())) == pdf


def test_an_unknown_invoice_is_a_404_body(sandbox, api, http):
    # when
    answer = http.get(f"{api}/factuur_download&facturen_id=1&download_type=base64")

    # then
    assert answer.text.startswith("404 ")


def test_generated_invoices_are_the_same_for_the_same_klanten(sandbox):
    # given
    sandbox.seed(20, facturen=True)
    first = sandbox.facturen()

    # when
    sandbox.reset()
    sandbox.seed(20)
    sandbox.generate_facturen()

    # then
    assert sandbox.facturen() == first
    assert {f["betaalstatus"] for f in first} == {"openstaand", "betaald"}
    assert any(float(r["prijs"]) < 0 for f in first for r in f["regels"])
    assert {len(f["factuurdatum"].split("-")[0]) for f in first} == {2, 4}
    assert {r["btw"] for f in first for r in f["regels"]} >= {"21", "0.210"}
    assert any(f["automatische_incasso"] == "1" for f in first)


def test_an_invoice_is_marked_paid_through_control(sandbox):
    # given
    invoice = plant_three(sandbox)[0]

    # when
    changed = sandbox.update_factuur(invoice["id"], betaalstatus="betaald")

    # then
    assert changed["betaalstatus"] == "betaald"
    assert changed["regels"] == invoice["regels"]


def test_the_page_lists_the_invoices(sandbox, http):
    # given
    plant_three(sandbox)

    # when
    page = http.get(f"{sandbox.root_url}/").text

    # then
    assert "<h2>Facturen</h2>" in page and "F3" in page and "Brood" not in page
