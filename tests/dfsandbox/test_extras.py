"""Elements we do not map, and klanten made or changed outside any connector.

The real klanten list carries more than the connector maps (`mobiel`, a mandate, a nested
`<contactpersoon>`), and an account can hold klanten no connector made: without a number, with
a number twice, without a type.
"""

import pytest
import requests

from integration.dfsandbox.documents import KLANT_ELEMENTS

from .helpers import parse_klant, parse_klanten, post_klant, post_nested

CONTACT = {"id": "4711", "naam": "Anouk de Vries", "email": "a.devries@korenaar.nl"}
EXTRAS = {"mobiel": "06-12345678", "automatische_incasso": "1",
          "mandaat_kenmerk": "MDT-1001-01", "mandaat_datum": "02-06-2010"}


@pytest.mark.parametrize("documents", ["tidy", "wild"])
def test_extras_and_a_nested_element_round_trip_through_create(sandbox, api, http, documents):
    """Created with extras and a nested contactpersoon, answered and listed with them."""
    # given
    sandbox.set_readings(documents=documents)

    # when
    created = post_nested(http, api, "klant_aanmaken", relatienummer="1001", naam="Korenaar",
                          **EXTRAS, contactpersoon=CONTACT)
    listed = parse_klanten(http.get(f"{api}/klanten&page=1").content)

    # then
    answered = parse_klant(created.content)
    for klant in (answered, listed[0]):
        assert {name: klant[name] for name in EXTRAS} == EXTRAS
        assert klant["contactpersoon"] == CONTACT
    [stored] = sandbox.klanten()
    assert stored["contactpersoon"] == CONTACT and stored["mobiel"] == "06-12345678"


def test_tidy_documents_list_extras_after_the_known_elements_nested_as_elements(sandbox, api,
                                                                               http):
    """The known shape first, then the extras in the order they arrived."""
    # given
    sandbox.add_klant(relatienummer="1001", naam="Korenaar", contactpersoon=CONTACT,
                      mobiel="06-1")

    # when
    body = http.get(f"{api}/klanten&page=1").text

    # then
    [klant] = parse_klanten(body.encode())
    assert list(klant) == [*KLANT_ELEMENTS, "contactpersoon", "mobiel"]
    assert "<contactpersoon>\n      <id>4711</id>\n      <naam>Anouk de Vries</naam>" in body


def test_merge_replaces_present_extras_and_keeps_absent_ones(sandbox, api, http):
    """Under `merge` an extra is just another element: sent replaces, absent stays; a nested
    element is replaced as a whole."""
    # given
    klant = sandbox.add_klant(relatienummer="1001", naam="Korenaar", **EXTRAS,
                              contactpersoon=CONTACT)

    # when
    response = post_nested(http, api, "klant_updaten", id=str(klant["id"]), mobiel="",
                           aanhef="Fam.", contactpersoon={"id": "4711", "naam": "Sanne"})

    # then
    [stored] = sandbox.klanten()
    assert stored == {**klant, "mobiel": "", "aanhef": "Fam.",
                      "contactpersoon": {"id": "4711", "naam": "Sanne"}}
    assert parse_klant(response.content)["contactpersoon"] == {"id": "4711", "naam": "Sanne"}


def test_clear_keeps_only_the_extras_that_were_sent(sandbox, api, http):
    """Under `clear` the klant is exactly the document: extras sent stay, others are gone."""
    # given
    klant = sandbox.add_klant(relatienummer="1001", naam="Korenaar", **EXTRAS,
                              contactpersoon=CONTACT)
    sandbox.set_readings(update="clear")

    # when
    post_nested(http, api, "klant_updaten", id=str(klant["id"]), naam="Korenaar",
                contactpersoon={"naam": "Sanne"}, mandaat_kenmerk="MDT-1001-02")

    # then
    [stored] = sandbox.klanten()
    assert {name: value for name, value in stored.items() if name not in KLANT_ELEMENTS} == {
        "contactpersoon": {"naam": "Sanne"}, "mandaat_kenmerk": "MDT-1001-02"}
    assert stored["relatienummer"] == "" and stored["naam"] == "Korenaar"


@pytest.mark.parametrize(("document", "named"), [
    ("<klant><naam>A</naam><mobiel>1</mobiel><mobiel>2</mobiel></klant>", "422 mobiel"),
    ("<klant><naam>A</naam><naam>B</naam></klant>", "422 naam"),
    ("<klant><naam>A</naam><contactpersoon><adres><straat>x</straat></adres>"
     "</contactpersoon></klant>", "422 contactpersoon"),
    ("<klant><naam>A</naam><contactpersoon><id>1</id><id>2</id></contactpersoon></klant>",
     "422 contactpersoon"),
    ("<klant><naam>A</naam><contactpersoon>los<id>1</id></contactpersoon></klant>",
     "422 contactpersoon"),
    ("<klant><naam><voornaam>A</voornaam></naam></klant>", "422 naam"),
    ("<klant><naam>A</naam><Mobiel>1</Mobiel></klant>", "422 Mobiel"),
    ("<klant><naam>A</naam><contactpersoon><E-mail>x</E-mail></contactpersoon></klant>",
     "422 contactpersoon.E-mail"),
])
def test_what_is_truly_malformed_is_still_a_422_naming_the_element(sandbox, api, http,
                                                                   document, named):
    """Repeats, nesting beyond one level, text beside elements, a known element with children
    and names that are no lowercase identifiers are refused; nothing is stored."""
    # when
    response = http.post(f"{api}/klant_aanmaken", data={"xml": document}, timeout=5)

    # then
    assert response.text.startswith(named + ":"), response.text
    assert sandbox.klanten() == []


def test_the_field_limits_still_apply_beside_extras(sandbox, api, http):
    """Extras do not weaken the validation of the known fields."""
    # when
    response = post_nested(http, api, "klant_aanmaken", naam="A", postcode="1" * 11,
                           contactpersoon=CONTACT)

    # then
    assert response.text.startswith("422 postcode")


# --- klanten made outside a connector ---------------------------------------------------------

def test_the_control_api_plants_what_no_connector_would_make(sandbox, api, http):
    """No number, a number twice, no type, an unknown type, an empty naam, extras and nesting:
    all planted as asked and served by the API."""
    # when
    planted = [
        sandbox.add_klant(naam="Via factuur_aanmaken", email="klant@voorbeeld.nl"),
        sandbox.add_klant(relatienummer="1001", type="debiteur", naam="Eerste"),
        sandbox.add_klant(relatienummer="1001", type="debiteur", naam="Tweede"),
        sandbox.add_klant(relatienummer="1002", naam="Zonder type"),
        sandbox.add_klant(relatienummer="1003", type="leverancier", naam="Vreemd type"),
        sandbox.add_klant(relatienummer="1004", naam="", soort="particulier",
                          contactpersoon={"id": 12, "naam": "Bram"}),
    ]
    listed = parse_klanten(http.get(f"{api}/klanten&page=1").content)

    # then
    assert [klant["naam"] for klant in listed] == [k["naam"] for k in planted]
    assert listed[0]["relatienummer"] == "" and listed[3]["type"] == ""
    assert listed[4]["type"] == "leverancier" and listed[5]["naam"] == ""
    assert listed[5]["contactpersoon"] == {"id": "12", "naam": "Bram"}
    assert planted[5]["contactpersoon"] == {"id": "12", "naam": "Bram"}
    assert len(parse_klanten(http.get(f"{api}/klanten&relatienummer=1001").content)) == 2


@pytest.mark.parametrize("elements", [
    {"naam": "A", "contactpersoon": {"adres": {"straat": "x"}}},
    {"naam": "A", "contactpersoon": {"Naam": "x"}},
    {"naam": "A", "e-mail": "x"},
    {"naam": {"voornaam": "A"}},
    {"naam": "A", "telefoons": ["1", "2"]},
    {"id": 5, "naam": "A"},
])
def test_the_control_api_refuses_what_cannot_become_a_klant_document(sandbox, elements):
    """Planting skips validation, but not the shape: names must be element names, one level."""
    # when
    response = requests.post(f"{sandbox.root_url}/_control/klanten", json=elements, timeout=5)

    # then
    assert response.status_code == 400 and "error" in response.json()
    assert sandbox.klanten() == []


def test_update_klant_changes_a_klant_as_digitalefactuur_itself_would(sandbox, api, http):
    """No validation and no duplicate check; given elements replace, None removes an extra."""
    # given
    sandbox.add_klant(relatienummer="1001", naam="Eerste")
    klant = sandbox.add_klant(relatienummer="1002", naam="Tweede", mobiel="06-1",
                              contactpersoon=CONTACT)

    # when
    changed = sandbox.update_klant(klant["id"], relatienummer="1001", naam="", mobiel=None,
                                   contactpersoon={"id": "4711"}, soort="bedrijf")

    # then
    expected = {**klant, "relatienummer": "1001", "naam": "", "soort": "bedrijf",
                "contactpersoon": {"id": "4711"}}
    del expected["mobiel"]
    assert changed == expected
    assert sandbox.klanten()[1] == expected
    assert len(parse_klanten(http.get(f"{api}/klanten&relatienummer=1001").content)) == 2
    assert sandbox.counters()["total"] == 1


def test_delete_klant_removes_it_and_an_unknown_id_is_404(sandbox, api, http):
    """A klant deleted in DigitaleFactuur is gone from the API; its id cannot be changed."""
    # given
    klant = sandbox.add_klant(relatienummer="1001", naam="Weg")

    # when
    deleted = sandbox.delete_klant(klant["id"])
    again = requests.post(f"{sandbox.root_url}/_control/klanten/delete",
                          json={"id": klant["id"]}, timeout=5)
    changed = requests.post(f"{sandbox.root_url}/_control/klanten/update",
                            json={"id": klant["id"], "naam": "X"}, timeout=5)

    # then
    assert deleted == klant
    assert again.status_code == 404 and changed.status_code == 404
    assert parse_klanten(http.get(f"{api}/klanten&page=1").content) == []
    assert post_klant(http, api, "klant_aanmaken", relatienummer="1001",
                      naam="Opvolger").text.startswith("<?xml")


def test_the_control_index_lists_the_new_routes(sandbox):
    """GET /_control names every route, the readings and klant changes included."""
    # when
    routes = requests.get(f"{sandbox.root_url}/_control", timeout=5).json()["routes"]

    # then
    assert {"GET /_control/readings", "POST /_control/readings",
            "POST /_control/klanten/update", "POST /_control/klanten/delete"} <= set(routes)
