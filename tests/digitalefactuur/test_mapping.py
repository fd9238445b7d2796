"""The declared mapping, row by row against shared/mapping.md, both ways."""

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integration.crm.models import Relation
from integration.digitalefactuur import mapping
from integration.digitalefactuur.schema import DfKlant
from tests.factories import OrganisationFactory, PersonFactory

pytestmark = pytest.mark.django_db

KLANT = DfKlant(
    id="133366", relatienummer="1001", type="debiteur", naam="Bakkerij De Korenaar B.V.",
    adres="Haagweg 4", postcode="2311aa", plaats="Leiden", land="nederland",
    faxnummer="071-5550000", iban="nl91 abna 0417 1643 00", bic="abnanl2a",
    kvk_nummer="12345678", btw_nummer="NL 100023757 B01",
)


def test_an_organisation_exports_only_its_invoice_address_and_every_mapped_field():
    # given an organisation with different visiting, postal and invoice addresses
    relation = OrganisationFactory.build(
        organisation_name="Van den Berg & Zonen", invoice_street="Factuurweg 1",
        invoice_postcode="3511 AX", invoice_city="Utrecht", invoice_country="NL",
        postal_street="Postbus 9", visiting_street="Bezoekstraat 3", fax="030-1",
        debtor_number="1002", creditor_number="2002", iban="NL91ABNA0417164300",
        bic="ABNANL2A", coc_number="30001237", vat_number="NL100023757B01")
    # when
    export = mapping.to_klant(relation, mapping.DEBTOR)
    # then
    klant = export.klant
    assert (klant.naam, klant.adres, klant.postcode, klant.plaats, klant.land) == (
        "Van den Berg & Zonen", "Factuurweg 1", "3511 AX", "Utrecht", "Nederland")
    assert (klant.relatienummer, klant.type, klant.faxnummer) == ("1002", "debiteur", "030-1")
    assert (klant.iban, klant.bic, klant.kvk_nummer, klant.btw_nummer) == (
        "NL91ABNA0417164300", "ABNANL2A", "30001237", "NL100023757B01")
    assert "Postbus" not in repr(klant) and "Bezoekstraat" not in repr(klant)
    assert export.warnings == []


def test_a_relation_with_both_numbers_is_two_klanten():
    relation = OrganisationFactory.build(debtor_number="1003", creditor_number="2003")
    debtor = mapping.to_klant(relation, mapping.DEBTOR).klant
    creditor = mapping.to_klant(relation, mapping.CREDITOR).klant
    assert (debtor.relatienummer, debtor.type) == ("1003", "debiteur")
    assert (creditor.relatienummer, creditor.type) == ("2003", "crediteur")


def test_a_person_exports_the_whole_name_private_address_and_no_kvk_or_btw():
    person = PersonFactory.build(first_name="Jan", surname_prefix="de", surname="Vries",
                                 private_street="Dorpsstraat 1", private_postcode="1234 AB",
                                 private_city="Amstelveen", private_country="BE",
                                 private_fax="020-2", creditor_number="2004",
                                 coc_number="99999999", vat_number="NL100023757B01")
    export = mapping.to_klant(person, mapping.CREDITOR)
    klant = export.klant
    assert (klant.naam, klant.adres, klant.plaats, klant.land, klant.faxnummer) == (
        "Jan de Vries", "Dorpsstraat 1", "Amstelveen", "België", "020-2")
    assert "kvk_nummer" not in export.elements and "btw_nummer" not in export.elements


def test_an_organisation_imports_the_address_into_postal_and_invoice_address():
    # given a new organisation and a klant with loosely written values
    relation = Relation(kind=Relation.Kind.ORGANISATION)
    # when
    result = mapping.apply_klant(relation, KLANT, mapping.DEBTOR)
    # then every mapped field is written in canonical form
    assert result.errors == [] and result.warnings == []
    assert relation.organisation_name == "Bakkerij De Korenaar B.V."
    for block in ("invoice", "postal"):
        assert (getattr(relation, f"{block}_street"), getattr(relation, f"{block}_postcode"),
                getattr(relation, f"{block}_city"), getattr(relation, f"{block}_country")) == (
            "Haagweg 4", "2311 AA", "Leiden", "NL")
    assert relation.visiting_street == ""
    assert (relation.fax, relation.debtor_number, relation.creditor_number) == (
        "071-5550000", "1001", "")
    assert (relation.iban, relation.bic, relation.coc_number, relation.vat_number) == (
        "NL91ABNA0417164300", "ABNANL2A", "12345678", "NL100023757B01")


def test_a_person_imports_the_address_into_the_private_address_only():
    person = Relation(kind=Relation.Kind.PERSON)
    mapping.apply_klant(person, KLANT, mapping.CREDITOR)
    assert person.display_name == "Bakkerij De Korenaar B.V."
    assert (person.private_street, person.private_postcode, person.private_country) == (
        "Haagweg 4", "2311 AA", "NL")
    assert person.postal_street == "" and person.invoice_street == ""
    assert person.creditor_number == "1001" and person.coc_number == ""


@pytest.mark.parametrize("land", ["Nederland", "nederland", "NL", "nl", "Netherlands", "NLD"])
def test_import_accepts_a_country_as_dutch_name_english_name_or_iso_code(land):
    relation = Relation(kind=Relation.Kind.ORGANISATION)
    mapping.apply_klant(relation, DfKlant(naam="X", land=land), mapping.DEBTOR)
    assert relation.invoice_country == "NL"


def test_an_unknown_country_is_a_warning_never_dropped_silently():
    relation = Relation(kind=Relation.Kind.ORGANISATION)
    result = mapping.apply_klant(relation, DfKlant(naam="X", land="Atlantis"), mapping.DEBTOR)
    assert any("Atlantis" in w for w in result.warnings)


def test_an_invalid_iban_is_imported_as_it_is_with_a_warning():
    relation = Relation(kind=Relation.Kind.ORGANISATION)
    result = mapping.apply_klant(relation, DfKlant(naam="X", iban="NL00 FOUT 1234"),
                                 mapping.DEBTOR)
    assert relation.iban == "NL00FOUT1234"
    assert any("IBAN" in w for w in result.warnings)


def test_a_value_longer_than_the_crm_field_fails_the_record_and_is_not_cut():
    relation = Relation(kind=Relation.Kind.ORGANISATION)
    result = mapping.apply_klant(relation, DfKlant(naam="X", faxnummer="9" * 40),
                                 mapping.DEBTOR)
    assert result.errors and relation.fax == ""


@pytest.mark.parametrize(
    ("klant", "expected"),
    [
        (DfKlant(type="debiteur", relatienummer="2001"), "debtor"),
        (DfKlant(type="Crediteur", relatienummer="1001"), "creditor"),
        (DfKlant(relatienummer="1234"), "debtor"),
        (DfKlant(relatienummer="2345"), "creditor"),
        (DfKlant(relatienummer="3456"), None),
        # `crediteur` is in no public example: a type we do not know falls back to the number.
        (DfKlant(type="prospect", relatienummer="1001"), "debtor"),
        (DfKlant(type="prospect", relatienummer="3001"), None),
    ],
)
def test_type_decides_else_the_first_digit_else_the_klant_is_skipped_with_a_reason(klant,
                                                                                    expected):
    kind, reason = mapping.classify(klant)
    assert kind == expected
    assert bool(reason) == (expected is None)


def test_the_fingerprint_ignores_spelling_differences_of_the_same_values():
    spelled = replace(KLANT, iban="NL91ABNA0417164300", land="NL", postcode="2311 AA")
    moved = replace(KLANT, plaats="Den Haag")
    assert mapping.fingerprint(KLANT, "organisation") == mapping.fingerprint(spelled,
                                                                             "organisation")
    assert mapping.fingerprint(KLANT, "organisation") != mapping.fingerprint(moved,
                                                                             "organisation")


def test_one_way_fields_never_change_the_fingerprint():
    """The postal address is written on import only, so it cannot make a record look changed."""
    relation = OrganisationFactory.build(debtor_number="1005")
    before = mapping.fingerprint(mapping.to_klant(relation, "debtor").klant, "organisation")
    relation.postal_street, relation.visiting_city, relation.email = "Elders 1", "X", "a@b.nl"
    after = mapping.fingerprint(mapping.to_klant(relation, "debtor").klant, "organisation")
    assert before == after


text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40).map(str.strip)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["organisation", "person"]),
    link=st.sampled_from(["debtor", "creditor"]),
    name=text.filter(bool),
    street=text, city=text, fax=text.map(lambda s: s[:30]), coc=text.map(lambda s: s[:20]),
    country=st.sampled_from(["", "NL", "BE", "DE", "FR", "GB"]),
    postcode=st.sampled_from(["", "2311 AA", "1000", "75001"]),
    number=st.integers(1, 99_999),
    iban=st.sampled_from(["", "NL91ABNA0417164300", "BE68539007547034"]),
    bic=st.sampled_from(["", "ABNANL2A", "GEBABEBB"]),
    vat=st.sampled_from(["", "NL100023757B01", "BE0403019261"]),
)
def test_export_then_import_gives_back_every_mapped_field(kind, link, name, street, city, fax,
                                                           coc, country, postcode, number,
                                                           iban, bic, vat):
    """For any relation, what is sent to DigitaleFactuur comes back into the same fields."""
    # given a relation with canonical values (as the form stores them)
    prefix = "1" if link == "debtor" else "2"
    block = "invoice" if kind == "organisation" else "private"
    values = {
        "kind": kind, f"{block}_street": street, f"{block}_city": city,
        f"{block}_country": country,
        f"{block}_postcode": postcode if country in ("NL", "") or postcode != "2311 AA" else "",
        mapping.NUMBER_FIELD[link]: f"{prefix}{number}", "iban": iban, "bic": bic,
    }
    if kind == "organisation":
        values.update(organisation_name=name[:100], fax=fax, coc_number=coc, vat_number=vat)
    else:
        values.update(surname=name[:60], private_fax=fax)
    original = Relation(**values)
    # when it goes out and comes back into an empty relation of the same kind
    klant = mapping.to_klant(original, link).klant
    returned = Relation(kind=kind)
    result = mapping.apply_klant(returned, klant, link)
    # then every "both" field, and the number, is unchanged
    assert result.errors == []
    rows = [r for r in mapping.TABLES[kind] if r.direction == "both"] + [mapping.number_row(link)]
    for row in rows:
        if row.converter is mapping.PERSON_NAME:  # split into its parts, the whole kept
            assert returned.display_name == original.display_name
            continue
        assert getattr(returned, row.relation_field) == getattr(original, row.relation_field), (
            row.relation_field)


# --- a person's name: the whole name goes out, its parts come back -------------------------


@pytest.mark.parametrize(("name", "parts"), [
    ("Pieter van der Meer", ("Pieter", "van der", "Meer")),
    ("Karin de Graaf", ("Karin", "de", "Graaf")),
    ("Anna Maria van den Berg", ("Anna Maria", "van den", "Berg")),
    ("Jan ter Horst", ("Jan", "ter", "Horst")),
    ("Youssef el Amrani", ("Youssef", "el", "Amrani")),
    ("van Dijk", ("", "van", "Dijk")),
    ("Els Jansen", ("Els", "", "Jansen")),
    ("J. de Vries-Bakker", ("J.", "de", "Vries-Bakker")),
    # unknown shapes go whole into Achternaam
    ("Madonna", ("", "", "Madonna")),
    ("Jan Willem Bakker", ("", "", "Jan Willem Bakker")),
    ("Vries, Jan de", ("", "", "Vries, Jan de")),
    ("Karin  de Graaf", ("", "", "Karin  de Graaf")),
    ("Pieter van", ("", "", "Pieter van")),
])
def test_an_imported_name_is_split_into_voornaam_tussenvoegsel_and_achternaam(name, parts):
    # given a klant whose Naam / Bedrijf is a person's name
    person = Relation(kind=Relation.Kind.PERSON)
    # when it is imported as a person
    result = mapping.apply_klant(person, DfKlant(naam=name, relatienummer="1001"), mapping.DEBTOR)
    # then the parts are filled, and joining them gives back exactly what was typed
    assert (person.first_name, person.surname_prefix, person.surname) == parts
    assert result.errors == []
    assert mapping.to_klant(person, mapping.DEBTOR).klant.naam == name.strip()


def test_a_person_whose_parts_make_up_the_name_keeps_them_as_typed():
    # given a person typed in PerfectView with a first name of two words and no tussenvoegsel
    person = PersonFactory.build(first_name="Jan Willem", surname_prefix="", surname="Bakker",
                                 debtor_number="1005")
    klant = mapping.to_klant(person, mapping.DEBTOR).klant
    # when the same name comes back from DigitaleFactuur (another field changed there)
    result = mapping.apply_klant(person, replace(klant, plaats="Delft"), mapping.DEBTOR)
    # then the name's parts stay as typed; only the city changed
    assert (person.first_name, person.surname_prefix, person.surname) == (
        "Jan Willem", "", "Bakker")
    assert set(result.changes) == {"private_city"}


def test_the_log_names_fields_as_the_manual_in_both_directions():
    # given the declared tables
    # when diff keys of both sides are named
    # then they read as the manual's section C, with the other side beside them
    assert mapping.field_labels("invoice_street", side="crm") == (
        "Financieel – Factuur – Straat", "Adres")
    assert mapping.field_labels("adres", side="df", relation_kind="person") == (
        "Adres", "Privé adres – Straat")
    assert mapping.field_labels("debtor_number", side="crm") == (
        "Financieel – Administratie – Debiteurnummer", "Relatienummer/Klantnummer")
    assert mapping.field_labels("kvk_nummer", side="df", relation_kind="organisation") == (
        "KVK nummer", "Overige – Identificatie – Nummer")
    assert mapping.field_labels("surname_prefix", side="crm")[0] == "Gegevens – Tussenvoegsel"
    assert mapping.country_display("NL") == "Nederland"
