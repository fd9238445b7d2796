"""The connector's health on the settings screen, the Koppelingen tile and `status`: the last
contact with DigitaleFactuur (test or run), the last and next run, and the relations whose last
sync failed — not an old test result that every run since has contradicted."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone

from integration.digitalefactuur.models import DigitaleFactuurSettings
from tests.factories import OrganisationFactory, SyncEventFactory, SyncRunFactory

from .conftest import SETTINGS_URL


def failed_test_an_hour_ago(df: DigitaleFactuurSettings) -> None:
    df.record_test(False, "DigitaleFactuur is niet bereikbaar.",
                   timezone.now() - timedelta(hours=1))
    df.save()


@pytest.mark.django_db
def test_a_successful_run_after_a_failed_test_is_the_last_contact(df_client, tested_settings):
    # given a test that failed an hour ago, and a run that succeeded since
    failed_test_an_hour_ago(tested_settings)
    run = SyncRunFactory(status="geslaagd", started_at=timezone.now() - timedelta(minutes=5))

    # when the administrator opens the screen and asks the command line
    html = df_client.get(SETTINGS_URL).content.decode()
    out = io.StringIO()
    call_command("digitalefactuur", "status", stdout=out)

    # then both show the run as the last contact, succeeded, and no stale "mislukt"
    contact = html[html.index('id="df-last-contact"'):html.index('id="df-health-last-run"')]
    assert "geslaagd" in contact and "(run)" in contact and "mislukt" not in contact
    assert f"/logboek/{run.pk}/" in contact
    assert 'data-health="ok"' in html
    assert "Laatste test" not in html
    status = out.getvalue()
    assert "Laatste contact met DigitaleFactuur:" in status
    contact_line = next(line for line in status.splitlines()
                        if line.startswith("Laatste contact"))
    assert "(run), geslaagd" in contact_line
    assert "Volgende geplande run:" in status


@pytest.mark.django_db
def test_a_failed_run_after_a_good_test_shows_as_failed(df_client, tested_settings):
    # given a good test, then a scheduled run that failed
    SyncRunFactory(status="mislukt", message="DigitaleFactuur is niet bereikbaar.",
                   started_at=timezone.now() + timedelta(seconds=1))

    # when the screen is opened
    html = df_client.get(SETTINGS_URL).content.decode()

    # then the health is "failed", with the run's message
    assert 'data-health="failed"' in html
    contact = html[html.index('id="df-last-contact"'):html.index('id="df-health-last-run"')]
    assert "mislukt" in contact and "niet bereikbaar" in contact


@pytest.mark.django_db
def test_relations_whose_last_sync_failed_are_counted_and_listed(df_client, df_admin,
                                                                 tested_settings):
    """Only the relations whose newest event is a failure; one that recovered is not."""
    df_admin.groups.get().permissions.add(Permission.objects.get(codename="view_relation"))
    # given a relation that failed and then succeeded, and one whose last sync failed
    recovered = OrganisationFactory(organisation_name="Hersteld BV", debtor_number="1001")
    failing = OrganisationFactory(organisation_name="Foutief BV", debtor_number="1002")
    earlier = SyncRunFactory(status="met_fouten",
                             started_at=timezone.now() - timedelta(hours=2))
    later = SyncRunFactory(status="met_fouten", started_at=timezone.now() - timedelta(hours=1))
    SyncEventFactory(run=earlier, relation=recovered, action="fout", message="422")
    SyncEventFactory(run=later, relation=recovered, action="bijgewerkt")
    SyncEventFactory(run=later, relation=failing, action="fout", message="422 iban")

    # when the screen and the tile are opened
    html = df_client.get(SETTINGS_URL).content.decode()
    tiles = df_client.get("/admin/koppelingen/").content.decode()

    # then one relation is counted, linked to the filtered relation list
    failed = html[html.index('id="df-failed-relations"'):]
    assert ">1</a>" in failed[:300]
    assert 'data-health="warning"' in html
    listed = df_client.get("/admin/crm/relation/?df_sync=mislukt").content.decode()
    assert "Foutief BV" in listed and "Hersteld BV" not in listed
    # and the tile says the same in one line, in the warning colour
    tile = tiles[tiles.index('id="koppeling-digitalefactuur"'):]
    assert 'data-health="warning"' in tile[:2000]
    assert "1 relatie waarvan de laatste synchronisatie mislukte" in tile[:2000]
