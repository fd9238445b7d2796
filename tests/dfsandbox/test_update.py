"""klant_updaten as our team decided it: present replaces, empty clears, absent stays."""

import pytest

from .helpers import post_klant, read_klant


@pytest.fixture
def bakkerij(sandbox):
    return sandbox.add_klant(relatienummer="1001", type="debiteur", naam="Bakkerij De Korenaar",
                             adres="Haagweg 4", postcode="2311 AA", plaats="Leiden",
                             faxnummer="071-5123459", iban="NL91ABNA0417164300")


def test_present_elements_replace_empty_ones_clear_absent_ones_stay(sandbox, api, http,
                                                                    bakkerij):
    """Only what the document names changes; `<faxnummer/>` clears, unnamed ones are kept."""
    # when
    response = post_klant(http, api, "klant_updaten", id=str(bakkerij["id"]),
                          adres="Breestraat 1", faxnummer="")

    # then
    answered = read_klant(response.text)
    assert answered["adres"] == "Breestraat 1"
    assert answered["faxnummer"] == ""
    assert answered["naam"] == "Bakkerij De Korenaar" and answered["iban"] == bakkerij["iban"]
    assert sandbox.klanten()[0] == {**bakkerij, "adres": "Breestraat 1", "faxnummer": ""}


def test_an_update_without_id_is_422_and_an_unknown_id_is_404(sandbox, api, http, bakkerij):
    """The id is required; an id nobody has is a 404; nothing changes either way."""
    # when
    without = post_klant(http, api, "klant_updaten", naam="Zonder id")
    unknown = post_klant(http, api, "klant_updaten", id="999999", naam="Onbekend")
    empty = post_klant(http, api, "klant_updaten", id="", naam="Leeg id")

    # then
    assert without.text.startswith("422 id")
    assert empty.text.startswith("422 id")
    assert unknown.text.startswith("404 ")
    assert sandbox.klanten() == [bakkerij]


def test_moving_to_a_number_another_klant_holds_is_409(sandbox, api, http, bakkerij):
    """An update may keep its own number but not take another klant's."""
    # given
    sandbox.add_klant(relatienummer="1002", naam="Buurman")

    # when
    own = post_klant(http, api, "klant_updaten", id=str(bakkerij["id"]), relatienummer="1001")
    taken = post_klant(http, api, "klant_updaten", id=str(bakkerij["id"]), relatienummer="1002")

    # then
    assert read_klant(own.text)["relatienummer"] == "1001"
    assert taken.text.startswith("409 ")


def test_a_freed_number_can_be_taken(sandbox, api, http, bakkerij):
    """After the holder moved to another number, its old number is free again."""
    # given
    post_klant(http, api, "klant_updaten", id=str(bakkerij["id"]), relatienummer="1500")

    # when
    response = post_klant(http, api, "klant_aanmaken", relatienummer="1001", naam="Opvolger")

    # then
    assert read_klant(response.text)["relatienummer"] == "1001"


@pytest.mark.parametrize(("elements", "field"), [
    ({"naam": ""}, "naam"), ({"type": "leverancier"}, "type"), ({"postcode": "1" * 11},
                                                                "postcode"),
])
def test_update_applies_the_same_field_limits(sandbox, api, http, bakkerij, elements, field):
    """An invalid value is a 422 naming the field and the klant stays as it was."""
    # when
    response = post_klant(http, api, "klant_updaten", id=str(bakkerij["id"]), **elements)

    # then
    assert response.text.startswith(f"422 {field}")
    assert sandbox.klanten() == [bakkerij]


def test_an_empty_type_clears_the_type(sandbox, api, http, bakkerij):
    """Type is optional: an empty <type/> leaves the klant without one."""
    # when
    response = post_klant(http, api, "klant_updaten", id=str(bakkerij["id"]), type="")

    # then
    assert read_klant(response.text)["type"] == ""
