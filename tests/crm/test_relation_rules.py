"""The CRM's rules for a relation: names, unique numbers, and normalised financial identifiers."""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import OrganisationFactory, PersonFactory

pytestmark = pytest.mark.django_db


def test_an_iban_bic_and_btw_typed_loosely_are_stored_in_their_canonical_form():
    """Spaces and lower case as a person types them are normalised, not refused."""
    # given
    relation = OrganisationFactory.build(
        iban="nl91 abna 0417 1643 00", bic="abnanl2a", vat_number="nl 100023757 b01",
        invoice_postcode="2311aa",
    )
    # when
    relation.full_clean()
    # then
    assert relation.iban == "NL91ABNA0417164300"
    assert relation.bic == "ABNANL2A"
    assert relation.vat_number == "NL100023757B01"
    assert relation.invoice_postcode == "2311 AA"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("iban", "NL00ABNA0417164300", "geen geldig IBAN"),
        ("bic", "ABN", "geen geldige BIC"),
        ("vat_number", "NL123B01", "geen geldig btw-nummer"),
        ("invoice_postcode", "23111 A", "geen geldige Nederlandse postcode"),
        ("debtor_number", "10a1", "Alleen cijfers"),
    ],
)
def test_a_wrong_value_is_refused_with_a_dutch_message_on_its_field(field, value, message):
    # given
    relation = OrganisationFactory.build(**{field: value})
    # when
    with pytest.raises(ValidationError) as refused:
        relation.full_clean()
    # then
    assert message in " ".join(refused.value.message_dict[field])


def test_a_foreign_postcode_is_kept_as_typed_but_trimmed():
    """Only Dutch postcodes have a format we know; a Belgian one is four digits."""
    relation = OrganisationFactory.build(invoice_country="BE", invoice_postcode=" 1000 ")
    relation.full_clean()
    assert relation.invoice_postcode == "1000"


def test_an_organisation_needs_its_name_and_a_person_a_surname():
    with pytest.raises(ValidationError) as organisation:
        OrganisationFactory.build(organisation_name=" ").full_clean()
    with pytest.raises(ValidationError) as person:
        PersonFactory.build(surname="").full_clean()
    assert "organisation_name" in organisation.value.message_dict
    assert "surname" in person.value.message_dict


def test_a_debtor_number_belongs_to_one_relation_only():
    # given
    OrganisationFactory(debtor_number="1001")
    # when
    duplicate = PersonFactory.build(debtor_number="1001")
    # then
    with pytest.raises(ValidationError) as refused:
        duplicate.full_clean()
    assert "al in gebruik" in str(refused.value)


def test_empty_numbers_are_not_unique_so_many_relations_can_have_none():
    OrganisationFactory(debtor_number="", creditor_number="")
    OrganisationFactory(debtor_number="", creditor_number="")
    other = OrganisationFactory.build(debtor_number="", creditor_number="")
    other.full_clean()


def test_the_same_number_may_be_a_debtor_number_and_another_relations_creditor_number():
    """Debtors (1xxx) and creditors (2xxx) are separate number ranges in DigitaleFactuur."""
    OrganisationFactory(debtor_number="1001")
    OrganisationFactory.build(creditor_number="1001").full_clean()


def test_a_persons_display_name_joins_first_name_prefix_and_surname():
    person = PersonFactory.build(first_name="Pieter", surname_prefix="van der", surname="Meer")
    assert str(person) == "Pieter van der Meer"


@pytest.mark.django_db(transaction=True)
def test_the_default_relation_types_come_back_after_a_flush():
    """Tests and `manage.py flush` empty every table; the connector's defaults must return."""
    from django.core.management import call_command

    from integration.crm.models import RelationType

    # given
    call_command("flush", "--noinput", verbosity=0)
    # then
    assert set(RelationType.objects.values_list("name", flat=True)) >= {
        "Klant", "Leverancier", "Prospect", "Suspect", "Te beoordelen"}
