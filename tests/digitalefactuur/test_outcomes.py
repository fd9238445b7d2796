"""How runs end, who wins a conflict, and the dry run."""

import pytest

from integration.connectors.models import RunLock, SyncEvent, SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur import sync
from integration.digitalefactuur.links import DfLink
from integration.digitalefactuur.schema import DfKlant
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

KLANT = {"relatienummer": "1001", "type": "debiteur", "naam": "Drukkerij Letterzetter",
         "adres": "Haagweg 4", "postcode": "2311 AA", "plaats": "Leiden", "land": "Nederland"}


def changed_on_both_sides(df, df_sandbox, run_sync) -> Relation:
    """A klant imported by a first run, then changed on both sides: the relation's city in the
    CRM becomes Oegstgeest, the klant's plaats in DigitaleFactuur Katwijk."""
    klant = df_sandbox.add_klant(**KLANT)
    run_sync(df)
    relation = Relation.objects.get()
    relation.invoice_city = "Oegstgeest"
    relation.save()
    with df.client() as client:
        client.update(DfKlant(id=str(klant["id"]), plaats="Katwijk"), fields=["plaats"])
    return relation


def test_perfectview_wins_a_conflict_and_the_log_keeps_the_losing_values(configure, df_sandbox,
                                                                         run_sync):
    """Both sides changed the same relation since the last sync: the CRM's values go to
    DigitaleFactuur, DigitaleFactuur's are not imported, and the conflict shows both."""
    # given
    df = configure(push=True)
    relation = changed_on_both_sides(df, df_sandbox, run_sync)

    # when
    run = run_sync(df)

    # then
    relation.refresh_from_db()
    assert relation.invoice_city == "Oegstgeest"
    assert df_sandbox.klanten()[0]["plaats"] == "Oegstgeest"
    conflict = SyncEvent.objects.get(run=run, action="conflict")
    assert conflict.direction == "import" and conflict.relation == relation
    assert conflict.losing_values == {"plaats": "Katwijk"}
    assert conflict.diff == {"plaats": ["Katwijk", "Oegstgeest"]}
    exported = SyncEvent.objects.get(run=run, direction="export")
    assert exported.action == "bijgewerkt"
    assert run.status == SyncRun.Status.SUCCEEDED


def test_with_only_import_on_the_digitalefactuur_side_is_applied(configure, df_sandbox,
                                                                 run_sync):
    # given
    df = configure(push=False)
    relation = changed_on_both_sides(df, df_sandbox, run_sync)

    # when
    run_sync(df)

    # then
    relation.refresh_from_db()
    assert relation.invoice_city == "Katwijk"


def test_refused_credentials_end_the_run_as_mislukt(configure, df_sandbox, run_sync):
    # given
    df = configure(push=True)
    df_sandbox.add_account(df_sandbox.account_id, "een-andere-code")  # changed in DF

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.FAILED
    assert "toegangscode onjuist" in run.message
    assert "een-andere-code" not in run.message
    assert df_sandbox.access_code not in run.message
    assert not RunLock.objects.exclude(holder="").exists()  # the lock was given back


def test_digitalefactuur_down_ends_the_run_with_a_message(configure, run_sync, settings,
                                                          closed_port_url):
    # given
    df = configure(push=True)
    settings.DIGITALEFACTUUR_BASE_URL = closed_port_url

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.FAILED
    assert "niet bereikbaar" in run.message


def test_three_unreachable_records_in_a_row_end_the_export(configure, df_sandbox, run_sync,
                                                           settings):
    # given
    settings.DIGITALEFACTUUR_MAX_ATTEMPTS = 1
    df = configure(debtors=False, creditors=False, push=True)
    for n in range(5):
        OrganisationFactory(debtor_number=f"110{n}")
    # the account's list is read; every create after it meets an outage
    df_sandbox.fail_next("klant_aanmaken", "http_error", count=20)

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.FAILED
    assert "DigitaleFactuur is niet bereikbaar" in run.message
    assert SyncEvent.objects.filter(run=run, action="fout").count() == 3


def test_a_dry_run_writes_nothing_on_either_side_and_tells_every_change(configure, df_sandbox):
    # given
    df = configure(push=True)
    df_sandbox.add_klant(**KLANT)
    OrganisationFactory(debtor_number="1002", organisation_name="Naar DigitaleFactuur")
    df_sandbox.reset_counters()
    runs_before = SyncRun.objects.count()

    # when
    preview = sync.preview(df.pk, "cli")

    # then
    assert preview.run_id is None and preview.status == SyncRun.Status.SUCCEEDED
    assert df_sandbox.counters()["POST"] == 0
    assert Relation.objects.count() == 1
    assert not DfLink.objects.exists() and not SyncEvent.objects.exists()
    assert SyncRun.objects.count() == runs_before
    assert not RunLock.objects.exclude(holder="").exists()
    by_number = {event.number: event for event in preview.events}
    assert by_number["1001"].action == "aangemaakt"
    assert by_number["1001"].diff["organisation_name"] == ["", "Drukkerij Letterzetter"]
    assert by_number["1002"].action == "aangemaakt"
    assert by_number["1002"].diff["naam"] == ["", "Naar DigitaleFactuur"]
