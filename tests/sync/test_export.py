"""Export scenarios: PerfectView -> DigitaleFactuur, against the sandbox."""

import pytest

from integration.connectors.models import SyncEvent, SyncRun
from integration.digitalefactuur.links import DfLink
from tests.factories import OrganisationFactory, PersonFactory

pytestmark = pytest.mark.django_db


def klant_by_number(sandbox, number):
    found = [k for k in sandbox.klanten() if k["relatienummer"] == number]
    assert len(found) == 1, found
    return found[0]


def test_an_organisation_goes_out_with_only_its_invoice_address(configure, df_sandbox,
                                                                run_sync):
    """mapping.md's organisation rows, PerfectView -> DigitaleFactuur: the invoice address
    only, the country as its Dutch name, the Debiteurnummer as a debiteur klant."""
    # given
    df = configure(debtors=False, creditors=False, push=True)
    OrganisationFactory(
        organisation_name="Smederij Het Aambeeld", debtor_number="1010",
        invoice_street="Kerkstraat 9", invoice_postcode="2311aa", invoice_city="Leiden",
        invoice_country="BE", postal_street="Postbus 12", visiting_street="Bezoekweg 1",
        fax="071-555", iban="NL91 ABNA 0417 1643 00", bic="abnanl2a", coc_number="12345678",
        vat_number="NL123456789B01")

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    klant = klant_by_number(df_sandbox, "1010")
    assert klant["type"] == "debiteur"
    assert klant["naam"] == "Smederij Het Aambeeld"
    assert (klant["adres"], klant["plaats"], klant["land"]) == ("Kerkstraat 9", "Leiden",
                                                                "België")
    assert klant["faxnummer"] == "071-555"
    assert (klant["iban"], klant["bic"]) == ("NL91ABNA0417164300", "ABNANL2A")
    assert (klant["kvk_nummer"], klant["btw_nummer"]) == ("12345678", "NL123456789B01")
    assert run.counts == {"export": {"aangemaakt": 1}}
    [event] = SyncEvent.objects.filter(run=run)
    assert event.direction == "export" and event.external_id == str(klant["id"])
    assert event.diff["naam"] == ["", "Smederij Het Aambeeld"]


def test_a_person_goes_out_with_the_whole_name_private_address_and_no_kvk_or_btw(
        configure, df_sandbox, run_sync):
    # given
    df = configure(debtors=False, creditors=False, push=True)
    PersonFactory(surname="Visser", creditor_number="2020", private_street="Molenweg 3",
                  private_postcode="3511 AX", private_city="Utrecht", private_country="NL",
                  private_fax="030-999", iban="NL91ABNA0417164300", bic="ABNANL2A",
                  coc_number="11111111", vat_number="NL123456789B01",
                  invoice_street="Niet deze straat")

    # when
    run_sync(df)

    # then
    klant = klant_by_number(df_sandbox, "2020")
    assert (klant["type"], klant["naam"], klant["adres"], klant["postcode"], klant["plaats"],
            klant["land"], klant["faxnummer"]) == (
        "crediteur", "Anneke Visser", "Molenweg 3", "3511 AX", "Utrecht", "Nederland",
        "030-999")
    assert (klant["kvk_nummer"], klant["btw_nummer"]) == ("", "")


def test_a_relation_with_both_numbers_is_two_klanten(configure, df_sandbox, run_sync):
    # given
    df = configure(debtors=False, creditors=False, push=True)
    relation = OrganisationFactory(debtor_number="1030", creditor_number="2030")

    # when
    run_sync(df)

    # then
    assert klant_by_number(df_sandbox, "1030")["type"] == "debiteur"
    assert klant_by_number(df_sandbox, "2030")["type"] == "crediteur"
    assert set(DfLink.objects.filter(relation=relation).values_list("kind", flat=True)) == {
        "debtor", "creditor"}


def test_a_klant_with_the_number_is_linked_and_updated_never_duplicated(configure, df_sandbox,
                                                                         run_sync):
    # given
    df = configure(debtors=False, creditors=False, push=True)
    existing = df_sandbox.add_klant(relatienummer="1040", type="debiteur", naam="Oude naam")
    OrganisationFactory(debtor_number="1040", organisation_name="Nieuwe naam")

    # when
    run = run_sync(df)

    # then
    assert len(df_sandbox.klanten()) == 1
    assert klant_by_number(df_sandbox, "1040")["naam"] == "Nieuwe naam"
    assert DfLink.objects.get().df_id == str(existing["id"])
    [event] = SyncEvent.objects.filter(run=run)
    assert event.action == "bijgewerkt" and event.diff["naam"] == ["Oude naam", "Nieuwe naam"]


def test_a_second_run_sends_nothing_and_writes_nothing(configure, df_sandbox, run_sync,
                                                       django_assert_max_num_queries):
    """Both directions on: after a first run, a second costs page reads and the run record."""
    # given
    df = configure(push=True)
    df_sandbox.seed(150)
    for n in range(40):
        OrganisationFactory(debtor_number=f"1{n:03d}9")
    run_sync(df)
    df_sandbox.reset_counters()
    links_before = list(DfLink.objects.values_list("pk", "synced_at"))

    # when
    with django_assert_max_num_queries(40):
        run = run_sync(df)

    # then
    counters = df_sandbox.counters()
    assert counters["POST"] == 0
    assert counters["GET"] == counters["klanten"] == 3  # two pages and the empty third
    assert run.status == SyncRun.Status.SUCCEEDED
    # The one unclassifiable klant of the seed (9001, no type) is told about in every run's
    # log; nothing else writes a row.
    assert list(SyncEvent.objects.filter(run=run).values_list("number", "action")) == [
        ("9001", "overgeslagen")]
    assert list(DfLink.objects.values_list("pk", "synced_at")) == links_before
    assert set(run.counts["export"]) == {"ongewijzigd"}


def test_a_timeout_during_a_create_never_duplicates(configure, df_sandbox, run_sync, settings):
    """The create is applied but its answer never comes: the number is looked up, found."""
    # given
    settings.DIGITALEFACTUUR_READ_TIMEOUT = 0.5
    df = configure(debtors=False, creditors=False, push=True)
    df_sandbox.set_faults(timeout_seconds=3)
    df_sandbox.fail_next("klant_aanmaken", "timeout")
    OrganisationFactory(debtor_number="1050")

    # when
    run = run_sync(df)

    # then
    assert len(df_sandbox.klanten()) == 1
    [event] = SyncEvent.objects.filter(run=run)
    assert event.action == "aangemaakt" and "teruggevonden" in event.message
    assert DfLink.objects.get().df_id == str(df_sandbox.klanten()[0]["id"])


def test_a_refused_record_is_an_error_event_and_the_run_goes_on(configure, df_sandbox,
                                                                 run_sync):
    # given
    df = configure(debtors=False, creditors=False, push=True)
    # Not digits: the CRM's form would refuse it, DigitaleFactuur answers 422.
    bad = OrganisationFactory(debtor_number="10A1")
    OrganisationFactory(debtor_number="1061")

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.WITH_ERRORS
    [error] = SyncEvent.objects.filter(run=run, action="fout")
    # named as DigitaleFactuur's screen names it; the server's own words folded in the detail
    assert error.relation == bad and "'Relatienummer/Klantnummer'" in error.message
    assert "InvalidField" in error.detail and "code 422" in error.detail
    assert "InvalidField" not in error.message and "422" not in error.message
    assert klant_by_number(df_sandbox, "1061")
    assert run.counts["export"] == {"fout": 1, "aangemaakt": 1}


def test_a_vanished_klant_is_created_again_and_the_log_says_so(configure, df_sandbox, run_sync):
    # given
    df = configure(debtors=False, creditors=False, push=True)
    relation = OrganisationFactory(debtor_number="1070", organisation_name="Eerst")
    run_sync(df)
    df_sandbox.reset()  # the klant is gone from DigitaleFactuur
    relation.organisation_name = "Daarna"
    relation.save()

    # when
    run = run_sync(df)

    # then
    assert klant_by_number(df_sandbox, "1070")["naam"] == "Daarna"
    [event] = SyncEvent.objects.filter(run=run)
    assert event.action == "aangemaakt" and "verdwenen" in event.message
    assert DfLink.objects.get().df_id == str(df_sandbox.klanten()[0]["id"])


def test_a_relation_that_lost_its_number_loses_its_link_nothing_is_deleted(configure,
                                                                           df_sandbox,
                                                                           run_sync):
    # given
    df = configure(debtors=False, creditors=False, push=True)
    relation = OrganisationFactory(debtor_number="1080")
    run_sync(df)
    relation.debtor_number = ""
    relation.save()
    df_sandbox.reset_counters()

    # when
    run_sync(df)

    # then
    assert not DfLink.objects.exists()
    assert len(df_sandbox.klanten()) == 1
    assert df_sandbox.counters()["klant_verwijderen"] == 0


def test_a_change_digitalefactuur_already_holds_is_not_sent_again_nor_a_conflict(
        configure, df_sandbox, run_sync):
    """The same change made on both sides (or a write whose link update was lost): the export
    reads the klant first, finds our values there, sends nothing and records no conflict."""
    # given a relation in sync, then renamed in PerfectView and in DigitaleFactuur alike
    df = configure(debtors=False, creditors=False, push=True)
    relation = OrganisationFactory(debtor_number="1501", organisation_name="Oud")
    run_sync(df)
    relation.organisation_name = "Nieuw"
    relation.save()
    df_sandbox.update_klant(klant_by_number(df_sandbox, "1501")["id"], naam="Nieuw")
    df_sandbox.reset_counters()

    # when
    run = run_sync(df)
    again = run_sync(df)

    # then
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert df_sandbox.counters()["POST"] == 0
    assert not SyncEvent.objects.filter(action="conflict").exists()
    assert again.counts == {"export": {"ongewijzigd": 1}}
