"""Unsaved changes are never silently ignored: a run request that carries options different from
the stored ones queues nothing and says why; "Opslaan en uitvoeren" saves, then runs."""

import pytest

from integration.connectors.models import SyncRun
from integration.digitalefactuur.models import DigitaleFactuurSettings

from .conftest import SETTINGS_URL, koppeling_form

RUN_URL = "/admin/koppelingen/digitalefactuur/uitvoeren/"
PREVIEW_URL = "/admin/koppelingen/digitalefactuur/voorbeeld/"


@pytest.fixture
def exporting(tested_settings):
    tested_settings.debtors_enabled = tested_settings.push_enabled = True
    tested_settings.save()
    return tested_settings


@pytest.mark.django_db
@pytest.mark.parametrize("url", [RUN_URL, PREVIEW_URL])
def test_a_run_request_with_changed_options_is_refused_with_the_reason(df_client, exporting,
                                                                       url):
    # given Bijwerken unticked on the screen but not saved
    shown = {**koppeling_form(exporting, push_enabled=False), "options_shown": "1"}

    # when "Koppeling uitvoeren" (or "Voorbeeld") is pressed without JavaScript
    answer = df_client.post(url, shown)

    # then nothing is queued, the reason names the change, and the change is still on screen
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "wijzigingen die nog niet zijn opgeslagen" in html
    assert "DigitaleFactuur bijwerken vanuit PerfectView" in html
    assert 'name="push_enabled" id="id_push_enabled" checked' not in html
    assert "Opslaan en uitvoeren" in html
    assert not SyncRun.objects.exists()
    assert DigitaleFactuurSettings.load().push_enabled is True


@pytest.mark.django_db
def test_a_run_request_with_the_stored_options_runs(df_client, exporting):
    # given the options as stored
    shown = {**koppeling_form(exporting), "options_shown": "1"}
    # when "Koppeling uitvoeren" is pressed
    answer = df_client.post(RUN_URL, shown)
    # then the run is queued and its page opens
    assert answer.status_code == 302 and "/logboek/" in answer["Location"]
    assert SyncRun.objects.filter(status="wachtrij").count() == 1


@pytest.mark.django_db
def test_save_and_run_saves_the_changes_then_queues_the_run(df_client, exporting):
    # given Bijwerken unticked on the screen
    shown = {**koppeling_form(exporting, push_enabled=False), "options_shown": "1",
             "action": "save_run"}
    # when "Opslaan en uitvoeren" is pressed
    answer = df_client.post(SETTINGS_URL, shown)
    # then the change is stored and a run with it is queued
    assert answer.status_code == 302 and "/logboek/" in answer["Location"]
    assert DigitaleFactuurSettings.load().push_enabled is False
    assert SyncRun.objects.filter(status="wachtrij").count() == 1
