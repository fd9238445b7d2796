"""Each reading of what public sources leave open, played on its own through the control API."""

import re

import pytest
import requests

from integration.dfsandbox.documents import KLANT_ELEMENTS
from integration.dfsandbox.readings import Readings

from .helpers import parse_klant, parse_klanten, post_klant, post_nested

DEFAULTS = {"listing": "paged", "page_size": 100, "number_filter": "honoured",
            "write_answer": "klant", "update": "merge", "duplicates": "refused",
            "documents": "tidy"}


def plant(sandbox, count: int) -> list[dict]:
    return [sandbox.add_klant(relatienummer=str(1001 + n), type="debiteur", naam=f"Klant {n}")
            for n in range(count)]


def ids_of(response) -> list[int]:
    return [int(klant["id"]) for klant in parse_klanten(response.content)]


# --- the readings themselves ------------------------------------------------------------------

def test_the_fixture_plays_the_defaults_the_api_page_assumed(sandbox):
    """Without changes the sandbox plays the ASSUMED readings, field by field."""
    # then
    assert sandbox.readings() == DEFAULTS
    assert vars(Readings()) == DEFAULTS


def test_set_readings_merges_and_answers_all_of_them(sandbox):
    """A change of one reading leaves the others as they were."""
    # when
    answered = sandbox.set_readings(listing="unpaged", page_size=7)

    # then
    assert answered == {**DEFAULTS, "listing": "unpaged", "page_size": 7}
    assert sandbox.readings() == answered


@pytest.mark.parametrize("change", [{"listing": "endless"}, {"page_size": 0},
                                    {"page_size": "many"}, {"page_size": True},
                                    {"write_answer": "xml"}, {"update": "replace"},
                                    {"duplicates": "maybe"}, {"documents": "messy"},
                                    {"number_filter": "sometimes"}, {"no_such_reading": 1}])
def test_a_bad_reading_is_a_400_and_changes_nothing(sandbox, change):
    """Every value is validated; a refused change leaves every reading as it was."""
    # given
    sandbox.set_readings(listing="repeat_last")

    # when
    response = requests.post(f"{sandbox.root_url}/_control/readings", json=change, timeout=5)

    # then
    assert response.status_code == 400 and "error" in response.json()
    assert sandbox.readings() == {**DEFAULTS, "listing": "repeat_last"}


def test_reset_returns_the_fixture_to_the_default_readings(sandbox):
    """A test's readings never leak into the next: reset plays the start readings again."""
    # given
    sandbox.set_readings(listing="unpaged", page_size=3, number_filter="ignored",
                         write_answer="empty", update="clear", duplicates="accepted",
                         documents="wild")

    # when
    sandbox.reset()

    # then
    assert sandbox.readings() == DEFAULTS


# --- listing ----------------------------------------------------------------------------------

def test_paged_serves_page_size_klanten_by_id_then_an_empty_list(sandbox, api, http):
    """`paged`: pages of page_size from page 1, ordered by id; past the end `<klanten/>`."""
    # given
    planted = plant(sandbox, 5)
    sandbox.set_readings(listing="paged", page_size=2)

    # when
    pages = [ids_of(http.get(f"{api}/klanten&page={n}")) for n in (1, 2, 3, 4, 5)]

    # then
    ids = [klant["id"] for klant in planted]
    assert pages == [ids[0:2], ids[2:4], ids[4:5], [], []]


def test_unpaged_answers_every_klant_whatever_page_says(sandbox, api, http):
    """`unpaged`: every call is the whole list, with or without `page`, even a nonsense one."""
    # given
    planted = plant(sandbox, 5)
    sandbox.set_readings(listing="unpaged", page_size=2)

    # when
    answers = [ids_of(http.get(f"{api}/klanten{suffix}"))
               for suffix in ("", "&page=1", "&page=2", "&page=99", "&page=abc")]

    # then
    assert answers == [[klant["id"] for klant in planted]] * 5


def test_repeat_last_repeats_the_last_non_empty_page_past_the_end(sandbox, api, http):
    """`repeat_last`: paged, but every page past the end is the last page again."""
    # given
    planted = plant(sandbox, 5)
    sandbox.set_readings(listing="repeat_last", page_size=2)

    # when
    pages = [ids_of(http.get(f"{api}/klanten&page={n}")) for n in (1, 2, 3, 4, 50)]

    # then
    ids = [klant["id"] for klant in planted]
    assert pages == [ids[0:2], ids[2:4], ids[4:5], ids[4:5], ids[4:5]]


def test_repeat_last_on_an_empty_account_is_an_empty_list(sandbox, api, http):
    """There is no non-empty page to repeat: every page is `<klanten/>`."""
    # given
    sandbox.set_readings(listing="repeat_last")

    # when
    answers = [ids_of(http.get(f"{api}/klanten&page={n}")) for n in (1, 2)]

    # then
    assert answers == [[], []]


def test_the_page_size_can_be_one(sandbox, api, http):
    """The smallest page size works, and the list still ends with an empty page."""
    # given
    planted = plant(sandbox, 2)
    sandbox.set_readings(page_size=1)

    # when
    pages = [ids_of(http.get(f"{api}/klanten&page={n}")) for n in (1, 2, 3)]

    # then
    assert pages == [[planted[0]["id"]], [planted[1]["id"]], []]


# --- number_filter ----------------------------------------------------------------------------

def test_the_honoured_filter_answers_every_holder_of_the_number_unpaged(sandbox, api, http):
    """`honoured`: all klanten with that number, duplicates included, whatever the page size."""
    # given
    first = sandbox.add_klant(relatienummer="1001", naam="Eerste")
    sandbox.add_klant(relatienummer="1002", naam="Ander nummer")
    twin = sandbox.add_klant(relatienummer="1001", naam="Tweeling")
    sandbox.set_readings(number_filter="honoured", page_size=1)

    # when
    found = ids_of(http.get(f"{api}/klanten&relatienummer=1001"))
    missing = ids_of(http.get(f"{api}/klanten&relatienummer=1999"))

    # then
    assert found == [first["id"], twin["id"]]
    assert missing == []


@pytest.mark.parametrize("listing", ["paged", "unpaged", "repeat_last"])
@pytest.mark.parametrize("page", ["", "&page=1", "&page=2", "&page=9"])
def test_the_ignored_filter_answers_exactly_the_unfiltered_request(sandbox, api, http,
                                                                    listing, page):
    """`ignored`: the filter changes nothing; the answer is that page of the listing as it is
    played (page 1 when no page is asked)."""
    # given
    plant(sandbox, 5)
    sandbox.set_readings(number_filter="ignored", listing=listing, page_size=2)

    # when
    filtered = http.get(f"{api}/klanten&relatienummer=1003{page}")
    unfiltered = http.get(f"{api}/klanten{page}")

    # then
    assert filtered.content == unfiltered.content
    assert len(parse_klanten(filtered.content)) == {
        "paged": {"": 2, "&page=1": 2, "&page=2": 2, "&page=9": 0},
        "unpaged": dict.fromkeys(("", "&page=1", "&page=2", "&page=9"), 5),
        "repeat_last": {"": 2, "&page=1": 2, "&page=2": 2, "&page=9": 1},
    }[listing][page]


# --- write_answer -----------------------------------------------------------------------------

def test_the_klant_write_answer_is_the_stored_klant(sandbox, api, http):
    """`klant`: create and update answer the whole stored `<klant>` with its id."""
    # given
    sandbox.set_readings(write_answer="klant")

    # when
    created = post_klant(http, api, "klant_aanmaken", relatienummer="1001", naam="A")
    klant_id = parse_klant(created.content)["id"]
    updated = post_klant(http, api, "klant_updaten", id=klant_id, plaats="Delft")

    # then
    assert tuple(parse_klant(created.content)) == KLANT_ELEMENTS
    assert parse_klant(updated.content)["plaats"] == "Delft"
    assert created.headers["Content-Type"] == "application/xml; charset=utf-8"


def test_the_klanten_write_answer_is_a_list_of_that_one_klant(sandbox, api, http):
    """`klanten`: a `<klanten>` holding exactly the written klant."""
    # given
    sandbox.set_readings(write_answer="klanten")

    # when
    created = post_klant(http, api, "klant_aanmaken", relatienummer="1001", naam="A")
    [klant] = parse_klanten(created.content)
    updated = post_klant(http, api, "klant_updaten", id=klant["id"], naam="B")

    # then
    assert klant["id"] == str(sandbox.klanten()[0]["id"]) and klant["naam"] == "A"
    assert [k["naam"] for k in parse_klanten(updated.content)] == ["B"]


def test_the_id_write_answer_is_only_the_id(sandbox, api, http):
    """`id`: a document that is `<id>N</id>` and nothing else."""
    # given
    sandbox.set_readings(write_answer="id")

    # when
    created = post_klant(http, api, "klant_aanmaken", relatienummer="1001", naam="A")
    stored_id = sandbox.klanten()[0]["id"]
    updated = post_klant(http, api, "klant_updaten", id=str(stored_id), naam="B")

    # then
    for response in (created, updated):
        assert response.content == (b'<?xml version="1.0" encoding="UTF-8"?>\n'
                                    + f"<id>{stored_id}</id>\n".encode())
    assert sandbox.klanten()[0]["naam"] == "B"


@pytest.mark.parametrize(("reading", "body"), [("text", b"OK"), ("empty", b"")])
def test_the_text_and_empty_write_answers_carry_no_klant(sandbox, api, http, reading, body):
    """`text` answers `OK`, `empty` nothing at all; the write is stored all the same."""
    # given
    sandbox.set_readings(write_answer=reading)

    # when
    created = post_klant(http, api, "klant_aanmaken", relatienummer="1001", naam="A")
    stored = sandbox.klanten()[0]
    updated = post_klant(http, api, "klant_updaten", id=str(stored["id"]), naam="B")

    # then
    assert created.status_code == 200 and created.content == body
    assert updated.content == body
    assert sandbox.klanten()[0]["naam"] == "B"


@pytest.mark.parametrize("reading", ["klant", "klanten", "id", "text", "empty"])
def test_errors_stay_code_and_message_in_every_write_answer(sandbox, api, http, reading):
    """A refused write is `NNN message` whatever the success answer looks like."""
    # given
    sandbox.add_klant(relatienummer="1001", naam="Bestaand")
    sandbox.set_readings(write_answer=reading, documents="wild")

    # when
    invalid = post_klant(http, api, "klant_aanmaken", naam="")
    taken = post_klant(http, api, "klant_aanmaken", relatienummer="1001", naam="Nieuw")
    unknown = post_klant(http, api, "klant_updaten", id="999999", naam="Niemand")

    # then
    assert invalid.text.startswith("422 naam")
    assert taken.text.startswith("409 ")
    assert unknown.text.startswith("404 ")


# --- update -----------------------------------------------------------------------------------

def test_merge_leaves_absent_elements_as_they_were(sandbox, api, http):
    """`merge`: only what the document names changes, extras included."""
    # given
    klant = sandbox.add_klant(relatienummer="1001", type="debiteur", naam="Bakkerij",
                              plaats="Leiden", mobiel="06-12345678",
                              contactpersoon={"id": "7", "naam": "Anouk"})
    sandbox.set_readings(update="merge")

    # when
    post_klant(http, api, "klant_updaten", id=str(klant["id"]), plaats="Delft")

    # then
    assert sandbox.klanten() == [{**klant, "plaats": "Delft"}]


def test_clear_makes_the_klant_exactly_what_was_sent(sandbox, api, http):
    """`clear`: absent known elements become empty, absent extras and nested ones vanish."""
    # given
    klant = sandbox.add_klant(relatienummer="1001", type="debiteur", naam="Bakkerij",
                              plaats="Leiden", iban="NL91ABNA0417164300", mobiel="06-1",
                              contactpersoon={"id": "7", "naam": "Anouk"})
    sandbox.set_readings(update="clear")

    # when
    response = post_nested(http, api, "klant_updaten", id=str(klant["id"]), naam="Bakkerij",
                           relatienummer="1001", aanhef="Fam.")

    # then
    [stored] = sandbox.klanten()
    assert stored == {"id": klant["id"], **{name: "" for name in KLANT_ELEMENTS[1:]},
                      "relatienummer": "1001", "naam": "Bakkerij", "aanhef": "Fam."}
    assert parse_klant(response.content)["iban"] == ""


def test_clear_without_a_number_frees_it(sandbox, api, http):
    """A number left out under `clear` is cleared, so another klant may take it."""
    # given
    klant = sandbox.add_klant(relatienummer="1001", naam="Bakkerij")
    sandbox.set_readings(update="clear")
    post_klant(http, api, "klant_updaten", id=str(klant["id"]), naam="Bakkerij")

    # when
    created = post_klant(http, api, "klant_aanmaken", relatienummer="1001", naam="Opvolger")

    # then
    assert parse_klant(created.content)["relatienummer"] == "1001"


# --- duplicates -------------------------------------------------------------------------------

def test_refused_duplicates_are_409_on_create_and_update(sandbox, api, http):
    """`refused`: a number in use can be neither created again nor moved to."""
    # given
    sandbox.add_klant(relatienummer="1001", naam="Eerste")
    other = sandbox.add_klant(relatienummer="1002", naam="Tweede")
    sandbox.set_readings(duplicates="refused")

    # when
    created = post_klant(http, api, "klant_aanmaken", relatienummer="1001", naam="Derde")
    moved = post_klant(http, api, "klant_updaten", id=str(other["id"]), relatienummer="1001")

    # then
    assert created.text.startswith("409 ") and moved.text.startswith("409 ")
    assert sorted(k["relatienummer"] for k in sandbox.klanten()) == ["1001", "1002"]


def test_accepted_duplicates_are_stored_and_both_are_found(sandbox, api, http):
    """`accepted`: two klanten end up sharing a number, and the filter answers both."""
    # given
    first = sandbox.add_klant(relatienummer="1001", naam="Eerste")
    other = sandbox.add_klant(relatienummer="1002", naam="Tweede")
    sandbox.set_readings(duplicates="accepted")

    # when
    created = post_klant(http, api, "klant_aanmaken", relatienummer="1001", naam="Derde")
    moved = post_klant(http, api, "klant_updaten", id=str(other["id"]), relatienummer="1001")

    # then
    third = parse_klant(created.content)
    assert parse_klant(moved.content)["relatienummer"] == "1001"
    found = ids_of(http.get(f"{api}/klanten&relatienummer=1001"))
    assert found == [first["id"], other["id"], int(third["id"])]


# --- documents --------------------------------------------------------------------------------

WILD_NAAM = "Café Ørsted & <Łódź> \"Zonen\""


@pytest.fixture
def wild_klanten(sandbox):
    first = sandbox.add_klant(relatienummer="1001", type="debiteur", naam=WILD_NAAM,
                              adres="Straße 1", plaats="'s-Hertogenbosch", land="België",
                              mobiel="06-12345678",
                              contactpersoon={"id": "7", "naam": "Zoë", "email": ""})
    second = sandbox.add_klant(relatienummer="1002", naam="Tweede", adres="Markt 2")
    sandbox.set_readings(documents="wild")
    return first, second


def test_wild_documents_are_iso_8859_1_with_references_beyond_latin1(sandbox, api, http,
                                                                     wild_klanten):
    """Declared and encoded as ISO-8859-1: é is one byte, Ł a character reference."""
    # when
    response = http.get(f"{api}/klanten&page=1")

    # then
    body = response.content
    assert body.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert response.headers["Content-Type"] == "application/xml; charset=ISO-8859-1"
    assert "Café".encode("iso-8859-1") in body and "Café".encode() not in body
    assert b"&#321;" in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


def test_wild_documents_read_back_the_stored_values(sandbox, api, http, wild_klanten):
    """Whatever the shape, an XML parser gets exactly the stored values (stripped)."""
    # given
    first, second = wild_klanten

    # when
    klanten = parse_klanten(http.get(f"{api}/klanten&page=1").content)

    # then
    for parsed, stored in zip(klanten, (first, second), strict=True):
        expected = {name: str(value) if not isinstance(value, dict) else value
                    for name, value in stored.items()}
        assert parsed == {**expected, "gewijzigd_door": "sandbox"}


def test_wild_documents_shuffle_each_klant_but_the_same_on_every_read(sandbox, api, http,
                                                                       wild_klanten):
    """The order differs from the tidy one and between klanten, and every read is identical."""
    # when
    reads = [http.get(f"{api}/klanten&page=1").content for _ in range(3)]
    single = http.get(f"{api}/klanten&relatienummer=1001").content

    # then
    assert reads[0] == reads[1] == reads[2]
    first, second = parse_klanten(reads[0])
    tidy_order = [*KLANT_ELEMENTS, "mobiel", "contactpersoon", "gewijzigd_door"]
    assert list(first) != tidy_order
    common = [name for name in first if name in second]
    assert common != [name for name in second if name in first]
    assert list(parse_klanten(single)[0]) == list(first)


def test_wild_documents_use_cdata_self_closed_elements_and_whitespace(sandbox, api, http,
                                                                      wild_klanten):
    """naam and adres in CDATA (where latin-1 allows), `<x/>`, and padding around values."""
    # when
    body = http.get(f"{api}/klanten&page=1").content.decode("iso-8859-1")

    # then
    assert "<![CDATA[Straße 1]]>" in body and "<![CDATA[Tweede]]>" in body
    # A name with a character beyond latin-1 cannot be CDATA: its reference would stay text.
    assert "<![CDATA[Café Ørsted" not in body and "&amp; &lt;&#321;" in body
    assert re.search(r"<faxnummer/>", body) and "<faxnummer></faxnummer>" not in body
    assert "<faxnummer />" not in body
    padded = re.findall(r"<(\w+)>([ \t\n]+[^<\s][^<]*?|[^<]*?[^<\s][ \t\n]+)</\1>", body)
    assert padded, body
    assert len(re.findall(r"<gewijzigd_door>\s*sandbox\s*</gewijzigd_door>", body)) == 2


def test_wild_write_answers_and_deletes_are_wild_too(sandbox, api, http, wild_klanten):
    """Every XML answer follows the document reading, not only the list."""
    # given
    first, _second = wild_klanten

    # when
    updated = post_klant(http, api, "klant_updaten", id=str(first["id"]), plaats="Delft")
    sandbox.set_readings(write_answer="id")
    as_id = post_klant(http, api, "klant_updaten", id=str(first["id"]), plaats="Gouda")
    deleted = http.get(f"{api}/klant_verwijderen&klanten_id={first['id']}")

    # then
    for response in (updated, as_id, deleted):
        assert response.content.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert parse_klant(updated.content)["plaats"] == "Delft"
    assert parse_klant(deleted.content)["plaats"] == "Gouda"


def test_the_read_only_element_is_accepted_and_ignored_by_writes(sandbox, api, http,
                                                                  wild_klanten):
    """A client echoing `gewijzigd_door` back is not refused, and nothing stores it."""
    # given
    first, _second = wild_klanten

    # when
    updated = post_klant(http, api, "klant_updaten", id=str(first["id"]), plaats="Delft",
                         gewijzigd_door="iemand anders")
    created = post_klant(http, api, "klant_aanmaken", naam="Nieuw", gewijzigd_door="x")

    # then
    assert parse_klant(updated.content)["gewijzigd_door"] == "sandbox"
    assert parse_klant(created.content)["naam"] == "Nieuw"
    assert all("gewijzigd_door" not in klant for klant in sandbox.klanten())
