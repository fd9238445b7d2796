"""The four API actions and their error codes, through real HTTP, as the API page describes."""

import pytest

from integration.dfsandbox.documents import KLANT_ELEMENTS

from .helpers import klant_xml, post_klant, read_klant, read_klanten


def test_an_empty_account_answers_an_empty_list_with_the_declaration(sandbox, api, http):
    """The list ends at the first page without <klant>: an empty account is `<klanten />`."""
    # when
    response = http.get(f"{api}/klanten&page=1")

    # then
    assert response.status_code == 200
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert read_klanten(response.text) == []


def test_paging_250_klanten_gives_100_100_50_then_empty_ordered_by_id(sandbox, api, http):
    """Pages hold 100 klanten ordered by id, and the page after the last one is empty."""
    # given
    assert sandbox.seed(250, seed=3) == 250

    # when
    pages = [read_klanten(http.get(f"{api}/klanten&page={n}").text) for n in (1, 2, 3, 4)]

    # then
    assert [len(page) for page in pages] == [100, 100, 50, 0]
    ids = [int(klant["id"]) for page in pages for klant in page]
    assert ids == sorted(ids) and len(set(ids)) == 250
    assert ids[0] == 133300


def test_every_known_element_is_answered_even_when_empty(sandbox, api, http):
    """Clients see the whole assumed shape: all elements, empty ones as empty elements."""
    # given
    sandbox.add_klant(relatienummer="1001", naam="Alleen een naam")

    # when
    klant = read_klanten(http.get(f"{api}/klanten&page=1").text)[0]

    # then
    assert tuple(klant) == KLANT_ELEMENTS
    assert klant["faxnummer"] == "" and klant["naam"] == "Alleen een naam"


def test_a_question_mark_query_is_tolerated(sandbox, api, http):
    """`?page=2` works as well as `&page=2`."""
    # given
    sandbox.seed(120)

    # when
    second = read_klanten(http.get(f"{api}/klanten?page=2").text)

    # then
    assert len(second) == 20


def test_the_relatienummer_filter_finds_one_or_none(sandbox, api, http):
    """`klanten&relatienummer=N` answers the klant with that number, or an empty list."""
    # given
    sandbox.add_klant(relatienummer="1001", naam="Eerste")
    sandbox.add_klant(relatienummer="1002", naam="Tweede")

    # when
    found = read_klanten(http.get(f"{api}/klanten&relatienummer=1002").text)
    missing = read_klanten(http.get(f"{api}/klanten&relatienummer=1999").text)

    # then
    assert [klant["naam"] for klant in found] == ["Tweede"]
    assert missing == []


def test_create_answers_the_klant_with_its_new_id_and_stores_it(sandbox, api, http):
    """klant_aanmaken stores every element and answers the created klant with its id."""
    # given
    elements = {"relatienummer": "1001", "type": "debiteur",
                "naam": "Café 't Hoekje & Zn. <Den Bosch>", "adres": "Markt 1",
                "postcode": "5211 AB", "plaats": "'s-Hertogenbosch", "land": "Nederland",
                "iban": "NL91ABNA0417164300", "bic": "ABNANL2A", "kvk_nummer": "12345678",
                "btw_nummer": "NL123456782B01", "email": "info@hoekje.nl"}

    # when
    response = post_klant(http, api, "klant_aanmaken", **elements)

    # then
    created = read_klant(response.text)
    assert int(created["id"]) >= 133300
    assert {name: created[name] for name in elements} == elements
    stored = sandbox.klanten()
    assert stored[0]["id"] == int(created["id"]) and stored[0]["naam"] == elements["naam"]


def test_a_duplicate_relatienummer_on_create_is_409(sandbox, api, http):
    """A number already in use is refused, and nothing is stored."""
    # given
    sandbox.add_klant(relatienummer="1001", naam="Bestaand")

    # when
    response = post_klant(http, api, "klant_aanmaken", relatienummer="1001", naam="Nieuw")

    # then
    assert response.status_code == 200
    assert response.text.startswith("409 ")
    assert len(sandbox.klanten()) == 1


@pytest.mark.parametrize(("elements", "field"), [
    ({"relatienummer": "1001"}, "naam"),
    ({"naam": ""}, "naam"),
    ({"naam": "x" * 101}, "naam"),
    ({"naam": "A", "adres": "x" * 101}, "adres"),
    ({"naam": "A", "postcode": "12345678901"}, "postcode"),
    ({"naam": "A", "plaats": "x" * 61}, "plaats"),
    ({"naam": "A", "relatienummer": "10a1"}, "relatienummer"),
    ({"naam": "A", "type": "klant"}, "type"),
    ({"naam": "A", "Plaats": "x"}, "Plaats"),
])
def test_field_limits_answer_422_naming_the_field(sandbox, api, http, elements, field):
    """Each limit of the API page is a 422 whose message names the offending element."""
    # when
    response = post_klant(http, api, "klant_aanmaken", **elements)

    # then
    assert response.text.startswith(f"422 {field}")
    assert sandbox.klanten() == []


def test_limits_are_inclusive_and_type_may_be_absent(sandbox, api, http):
    """Exactly 100/100/10/60 characters pass, and a klant without type is accepted."""
    # when
    response = post_klant(http, api, "klant_aanmaken", naam="n" * 100, adres="a" * 100,
                          postcode="p" * 10, plaats="q" * 60)

    # then
    assert read_klant(response.text)["type"] == ""


@pytest.mark.parametrize("document", ["<klant><naam>A</klant>", "niet eens xml", "",
                                      "<klanten><klant/></klanten>"])
def test_xml_that_is_not_a_well_formed_klant_is_422(sandbox, api, http, document):
    """Broken or wrongly rooted XML is a 422, never a crash."""
    # when
    response = http.post(f"{api}/klant_aanmaken", data={"xml": document})

    # then
    assert response.text.startswith("422 xml")


def test_a_write_without_the_xml_form_field_is_422(sandbox, api, http):
    """POST with another field, or a GET on a write action, is told to send `xml`."""
    # when
    posted = http.post(f"{api}/klant_aanmaken", data={"klant": klant_xml(naam="A")})
    fetched = http.get(f"{api}/klant_aanmaken")

    # then
    assert posted.text.startswith("422 xml") and fetched.text.startswith("422 xml")


@pytest.mark.parametrize("hostile", [
    '<!DOCTYPE klant [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    "<klant><naam>&b;</naam></klant>",
    '<!DOCTYPE klant [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><klant><naam>&xxe;</naam>'
    "</klant>",
    '<!DOCTYPE klant SYSTEM "http://127.0.0.1:9/evil.dtd"><klant><naam>A</naam></klant>',
])
def test_hostile_xml_is_refused_with_422_and_never_expanded(sandbox, api, http, hostile):
    """DOCTYPEs and entities are refused outright: no expansion, no file, no network."""
    # when
    response = http.post(f"{api}/klant_aanmaken", data={"xml": hostile})

    # then
    assert response.text.startswith("422 xml")
    assert "aaaa" not in response.text and "root:" not in response.text
    assert sandbox.klanten() == []


def test_delete_removes_the_klant_and_an_unknown_id_is_404(sandbox, api, http):
    """klant_verwijderen deletes by klanten_id; the same id again is a 404."""
    # given
    klant = sandbox.add_klant(relatienummer="1001", naam="Weg ermee")

    # when
    deleted = http.get(f"{api}/klant_verwijderen&klanten_id={klant['id']}")
    again = http.get(f"{api}/klant_verwijderen&klanten_id={klant['id']}")

    # then
    assert read_klant(deleted.text)["id"] == str(klant["id"])
    assert again.text.startswith("404 ")
    assert sandbox.klanten() == []


def test_a_delete_without_klanten_id_is_422(sandbox, api, http):
    """The parameter is required and must be a number."""
    # when
    missing = http.get(f"{api}/klant_verwijderen")
    wrong = http.get(f"{api}/klant_verwijderen&klanten_id=abc")

    # then
    assert missing.text.startswith("422 klanten_id") and wrong.text.startswith("422 klanten_id")


def test_an_unknown_action_is_404(sandbox, api, http):
    """An action the page does not name is a 404, after the credentials were accepted."""
    # when
    response = http.get(f"{api}/offertes&page=1")

    # then
    assert response.status_code == 200 and response.text.startswith("404 ")


@pytest.mark.parametrize("path", ["{account}/wrong-code/klanten", "99999/{code}/klanten",
                                  "{account}//klanten", "{account}"])
def test_wrong_credentials_are_401_whatever_the_action(sandbox, http, path):
    """A wrong account id or access code is a 401 that does not say which one was wrong."""
    # given
    url = f"{sandbox.base_url}/" + path.format(account=sandbox.account_id,
                                                code=sandbox.access_code)

    # when
    response = http.get(url + "&page=1")

    # then
    assert response.status_code == 200
    assert response.text.startswith("401 ")
    assert sandbox.access_code not in response.text


def test_an_inactive_account_is_403(sandbox, api, http):
    """With API access switched off the right credentials get a 403, until it is on again."""
    # given
    sandbox.set_account_active(False)

    # when
    refused = http.get(f"{api}/klanten&page=1")
    sandbox.set_account_active(True)
    accepted = http.get(f"{api}/klanten&page=1")

    # then
    assert refused.text.startswith("403 ")
    assert accepted.text.startswith("<?xml")


def test_utf8_text_and_escaped_characters_round_trip(sandbox, api, http):
    """Accents, `&`, `<` and quotes arrive escaped and come back exactly."""
    # given
    naam = "Crèmerie \"L'Étoile\" & Zonen <B.V.>"
    post_klant(http, api, "klant_aanmaken", relatienummer="1001", naam=naam,
               plaats="'s-Hertogenbosch", land="België")

    # when
    klant = read_klanten(http.get(f"{api}/klanten&relatienummer=1001").text)[0]

    # then
    assert (klant["naam"], klant["plaats"], klant["land"]) == (naam, "'s-Hertogenbosch",
                                                                "België")
