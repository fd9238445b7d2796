"""Import scenarios: DigitaleFactuur -> PerfectView, against the sandbox, row by row of mapping.md.
"""

import pytest

from integration.connectors.models import SyncEvent, SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur.links import DfLink
from integration.digitalefactuur.schema import DfKlant

pytestmark = pytest.mark.django_db

ORGANISATION_KLANT = {
    "relatienummer": "1001", "type": "debiteur", "naam": "Bakkerij De Korenaar B.V.",
    "adres": "Haagweg 4", "postcode": "2311 AA", "plaats": "Leiden", "land": "Nederland",
    "faxnummer": "071-5123456", "iban": "NL91ABNA0417164300", "bic": "ABNANL2A",
    "kvk_nummer": "12345678", "btw_nummer": "NL123456789B01",
}
PERSON_KLANT = {
    "relatienummer": "2001", "type": "crediteur", "naam": "Jansen", "adres": "Dorpsstraat 1",
    "postcode": "3511 AX", "plaats": "Utrecht", "land": "België", "faxnummer": "030-1234567",
    "iban": "NL91ABNA0417164300", "bic": "ABNANL2A", "kvk_nummer": "87654321",
    "btw_nummer": "NL123456789B01",
}


def events(run, **filters):
    return list(SyncEvent.objects.filter(run=run, **filters))


def test_an_organisation_debtor_arrives_with_every_mapped_field(configure, df_sandbox,
                                                                run_sync):
    """Every row of mapping.md's organisation table, DigitaleFactuur -> PerfectView; the one
    address goes to both the postal and the invoice address."""
    # given
    df = configure(debtors="organisation")
    df_sandbox.add_klant(**ORGANISATION_KLANT)

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    relation = Relation.objects.get()
    assert relation.kind == Relation.Kind.ORGANISATION
    assert relation.relation_type.name == "Klant"
    assert relation.organisation_name == "Bakkerij De Korenaar B.V."
    for block in ("invoice", "postal"):
        assert getattr(relation, f"{block}_street") == "Haagweg 4"
        assert getattr(relation, f"{block}_postcode") == "2311 AA"
        assert getattr(relation, f"{block}_city") == "Leiden"
        assert getattr(relation, f"{block}_country") == "NL"
    assert relation.visiting_street == ""
    assert relation.fax == "071-5123456"
    assert relation.debtor_number == "1001" and relation.creditor_number == ""
    assert (relation.iban, relation.bic) == ("NL91ABNA0417164300", "ABNANL2A")
    assert relation.coc_number == "12345678"
    assert relation.vat_number == "NL123456789B01"
    [event] = events(run)
    assert (event.direction, event.action, event.relation) == ("import", "aangemaakt", relation)
    assert event.diff["organisation_name"] == ["", "Bakkerij De Korenaar B.V."]
    assert run.counts == {"import": {"aangemaakt": 1}}
    link = DfLink.objects.get()
    assert (link.relation, link.kind, link.number) == (relation, "debtor", "1001")


def test_a_person_creditor_arrives_with_the_private_address(configure, df_sandbox, run_sync):
    """mapping.md's person table: surname, private address and fax, bank; no KvK or BTW."""
    # given
    df = configure(debtors=False, creditors="person")
    df_sandbox.add_klant(**PERSON_KLANT)

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    relation = Relation.objects.get()
    assert relation.kind == Relation.Kind.PERSON
    assert relation.relation_type.name == "Leverancier"
    assert relation.surname == "Jansen"
    assert (relation.private_street, relation.private_postcode, relation.private_city,
            relation.private_country) == ("Dorpsstraat 1", "3511 AX", "Utrecht", "BE")
    assert relation.private_fax == "030-1234567"
    assert relation.creditor_number == "2001" and relation.debtor_number == ""
    assert (relation.iban, relation.bic) == ("NL91ABNA0417164300", "ABNANL2A")
    assert relation.coc_number == "" and relation.vat_number == ""
    assert relation.invoice_street == "" and relation.postal_street == ""


def test_type_or_first_digit_decides_and_the_rest_is_skipped_with_a_reason(configure,
                                                                           df_sandbox,
                                                                           run_sync):
    """1xxx without a type (or with one we do not know) is a debtor, 2xxx a creditor; 9001
    without type and an unknown type on a number that says nothing are skipped, and the log
    says why."""
    # given
    df = configure()
    df_sandbox.add_klant(relatienummer="1002", naam="Zonder type debiteur")
    df_sandbox.add_klant(relatienummer="2002", naam="Zonder type crediteur")
    df_sandbox.add_klant(relatienummer="9001", naam="Vreemd nummer")
    df_sandbox.add_klant(relatienummer="1003", type="prospect", naam="Vreemd type, debiteur")
    df_sandbox.add_klant(relatienummer="7003", type="prospect", naam="Vreemd type")

    # when
    run = run_sync(df)

    # then
    assert Relation.objects.get(debtor_number="1002").organisation_name == "Zonder type debiteur"
    assert Relation.objects.get(creditor_number="2002").organisation_name == (
        "Zonder type crediteur")
    assert Relation.objects.get(debtor_number="1003").organisation_name == (
        "Vreemd type, debiteur")
    assert Relation.objects.count() == 3
    skipped = {e.number: e.message for e in events(run, action="overgeslagen")}
    assert "begint niet met 1" in skipped["9001"]
    assert "prospect" in skipped["7003"]
    assert run.counts["import"] == {"aangemaakt": 3, "overgeslagen": 2}


def test_a_kind_whose_import_is_off_is_counted_skipped_without_an_event(configure,
                                                                        df_sandbox, run_sync):
    # given
    df = configure(debtors="organisation", creditors=False)
    df_sandbox.add_klant(**PERSON_KLANT)

    # when
    run = run_sync(df)

    # then
    assert not Relation.objects.exists()
    assert events(run) == []
    assert run.counts == {"import": {"overgeslagen": 1}}


def test_an_existing_relation_is_found_by_its_number_never_duplicated(configure, df_sandbox,
                                                                      run_sync):
    """Without a link, the Debiteurnummer finds the relation: it is updated and linked."""
    # given
    from tests.factories import OrganisationFactory

    existing = OrganisationFactory(debtor_number="1001", organisation_name="Oude naam")
    df = configure()
    df_sandbox.add_klant(**ORGANISATION_KLANT)

    # when
    run = run_sync(df)

    # then
    assert Relation.objects.count() == 1
    existing.refresh_from_db()
    assert existing.organisation_name == "Bakkerij De Korenaar B.V."
    [event] = events(run)
    assert event.action == "bijgewerkt"
    assert event.diff["organisation_name"] == ["Oude naam", "Bakkerij De Korenaar B.V."]
    assert DfLink.objects.get().relation == existing


def test_a_change_in_digitalefactuur_reaches_the_linked_relation(configure, df_sandbox,
                                                                  run_sync):
    # given
    df = configure()
    klant = df_sandbox.add_klant(**ORGANISATION_KLANT)
    run_sync(df)
    with df.client() as client:  # somebody edits the klant in DigitaleFactuur
        client.update(DfKlant(id=str(klant["id"]), plaats="Katwijk"), fields=["plaats"])

    # when
    run = run_sync(df)

    # then
    relation = Relation.objects.get()
    assert relation.invoice_city == relation.postal_city == "Katwijk"
    [event] = events(run)
    assert event.action == "bijgewerkt"
    assert event.diff == {"invoice_city": ["Leiden", "Katwijk"],
                          "postal_city": ["Leiden", "Katwijk"]}


def test_an_unknown_country_and_an_invalid_iban_are_warnings_and_stay_quiet_afterwards(
        configure, df_sandbox, run_sync):
    """A record with warnings is still created; the lossy country does not make it look
    changed at the next run (two fingerprints)."""
    # given
    df = configure()
    df_sandbox.add_klant(**{**ORGANISATION_KLANT, "land": "Atlantis",
                            "iban": "NL00 FOUT 0000 0000 00"})

    # when
    first = run_sync(df)
    second = run_sync(df)

    # then
    [event] = events(first)
    assert event.action == "aangemaakt"
    assert "Atlantis" in event.message and "IBAN" in event.message
    relation = Relation.objects.get()
    assert relation.invoice_country == ""
    assert relation.iban == "NL00FOUT0000000000"  # compacted, kept although invalid
    assert events(second) == []
    assert second.counts == {"import": {"ongewijzigd": 1}}


def test_a_value_too_long_for_the_crm_is_one_error_said_once_and_the_run_has_errors(
        configure, df_sandbox, run_sync):
    """The klant's plaats fills the invoice and the postal city: too long, it is refused for
    this record, named once, and the run ends "met fouten" (not "geslaagd")."""
    # given a klant whose plaats is longer than the CRM's city field, and a good one
    df = configure()
    df_sandbox.add_klant(relatienummer="1001", type="debiteur", naam="Te lang",
                         plaats="Plaats" * 20)
    df_sandbox.add_klant(relatienummer="1002", type="debiteur", naam="Goed", plaats="Leiden")

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.WITH_ERRORS, run.message
    error = SyncEvent.objects.get(run=run, action="fout")
    assert error.message.count("langer dan") == 1
    assert list(Relation.objects.values_list("debtor_number", flat=True)) == ["1002"]
