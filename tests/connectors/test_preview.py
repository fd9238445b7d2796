""""Voorbeeld": the engine's dry run, queued, its outcome kept on a run marked voorbeeld.

Nothing is written in PerfectView (relations, links) or in DigitaleFactuur; the run page shows
per record and field what a run would change.
"""

import pytest
from django_q.models import OrmQ

from integration.connectors.models import SyncEvent, SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur import runs, tasks
from integration.digitalefactuur.links import DfLink
from tests.connectors.conftest import LOG_URL, PREVIEW_URL, run_url
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_a_preview_shows_every_change_and_writes_nothing(configure, sandbox, df_client,
                                                         django_capture_on_commit_callbacks):
    # given a klant to import and a relation to export
    df = configure(push=True)
    sandbox.add_klant(relatienummer="1500", type="debiteur", naam="Nieuw uit DigitaleFactuur",
                      plaats="Delft")
    OrganisationFactory(organisation_name="Naar DigitaleFactuur", debtor_number="1600")
    relations_before = Relation.objects.count()

    # when the administrator asks for a preview and the worker makes it
    with django_capture_on_commit_callbacks(execute=True):
        response = df_client.post(PREVIEW_URL)
    preview = SyncRun.objects.get()
    [task] = OrmQ.objects.all()
    assert task.task["args"] == (df.pk, preview.pk)
    sandbox.reset_counters()
    tasks.preview_task(df.pk, preview.pk)

    # then the preview's page lists both changes with their fields
    preview.refresh_from_db()
    assert response.url == run_url(preview)
    assert preview.dry_run and preview.status == SyncRun.Status.SUCCEEDED, preview.message
    assert preview.counts == {"import": {"aangemaakt": 1}, "export": {"aangemaakt": 1}}
    created_in_pv = SyncEvent.objects.get(run=preview, direction="import")
    assert created_in_pv.relation is None and created_in_pv.number == "1500"
    assert created_in_pv.diff["organisation_name"] == ["", "Nieuw uit DigitaleFactuur"]
    page = df_client.get(run_url(preview)).content.decode()
    assert "Dit is een voorbeeld" in page
    assert "Nieuw uit DigitaleFactuur" in page and "Naar DigitaleFactuur" in page
    # and nothing was written anywhere
    assert Relation.objects.count() == relations_before and not DfLink.objects.exists()
    assert [k["relatienummer"] for k in sandbox.klanten()] == ["1500"]
    counters = sandbox.counters()
    assert not counters.get("klant_aanmaken") and not counters.get("klant_updaten"), counters


def test_a_second_preview_request_opens_the_open_one(configure, df_client,
                                                     django_capture_on_commit_callbacks):
    # given
    configure()
    with django_capture_on_commit_callbacks(execute=True):
        first = df_client.post(PREVIEW_URL)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        second = df_client.post(PREVIEW_URL)

    # then
    assert second.url == first.url and OrmQ.objects.count() == 1


def test_a_preview_does_not_block_koppeling_uitvoeren(configure, df_client):
    # given an open preview
    configure()
    df_client.post(PREVIEW_URL)

    # when
    df_client.post("/admin/koppelingen/digitalefactuur/uitvoeren/")

    # then a real run is queued next to it; the log marks the preview
    assert sorted(SyncRun.objects.values_list("dry_run", flat=True)) == [False, True]
    assert "voorbeeld</span>" in df_client.get(LOG_URL).content.decode()


def test_a_large_preview_keeps_its_counts_and_a_capped_list(configure, sandbox, monkeypatch):
    # given more changes than a preview keeps
    monkeypatch.setattr(tasks, "PREVIEW_EVENT_LIMIT", 3)
    df = configure(push=False)
    sandbox.seed(5)
    preview, _created = runs.request_preview(df, None)

    # when
    tasks.preview_task(df.pk, preview.pk)

    # then
    preview.refresh_from_db()
    assert preview.counts["import"]["aangemaakt"] == 5
    assert SyncEvent.objects.filter(run=preview).count() == 3
    assert "Alleen de eerste 3 van 5 wijzigingen" in preview.message
    assert not Relation.objects.exists()
