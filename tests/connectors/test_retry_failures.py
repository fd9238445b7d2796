"""Fouten opnieuw proberen: from a run with errors, only the records that failed go again.

Export failures are retried by a run limited to their relations; import failures need no list
(the next full run reads every klant again), which the run page explains next to a "Koppeling
uitvoeren" button instead.
"""

import pytest
from django_q.models import OrmQ

from integration.connectors.models import SyncEvent, SyncRun
from integration.digitalefactuur import runs, sync, tasks
from tests.connectors.conftest import retry_url, run_url
from tests.factories import OrganisationFactory, SyncEventFactory, SyncRunFactory

pytestmark = pytest.mark.django_db


def failing_export_run(configure, sandbox):
    """A real run in which the second of three relations could not be created."""
    df = configure(debtors=False, creditors=False, push=True)
    relations = [OrganisationFactory(debtor_number=f"10{n}1") for n in range(3)]
    sandbox.fail_next("klant_aanmaken", "error", 1)
    run = sync.run(df.pk, SyncRun.Trigger.MANUAL)
    return df, run, relations


def test_a_failed_export_is_retried_alone(configure, sandbox, df_client,
                                          django_capture_on_commit_callbacks):
    """The run page offers the retry; it queues one run that sends only the failed relation."""
    # given a run in which one relation failed to go out
    df, failed_run, _relations = failing_export_run(configure, sandbox)
    assert failed_run.status == SyncRun.Status.WITH_ERRORS, failed_run.message
    [failure] = SyncEvent.objects.filter(run=failed_run, action="fout")
    page = df_client.get(run_url(failed_run))
    assert "Fouten opnieuw proberen" in page.content.decode()

    # when the administrator presses "Fouten opnieuw proberen"
    with django_capture_on_commit_callbacks(execute=True):
        response = df_client.post(retry_url(failed_run))

    # then one run is queued, with the ids only, and its page opens
    retry = SyncRun.objects.exclude(pk=failed_run.pk).get()
    assert response.status_code == 302 and response.url == run_url(retry)
    assert retry.status == SyncRun.Status.QUEUED and retry.trigger == SyncRun.Trigger.MANUAL
    [task] = OrmQ.objects.all()
    assert task.task["args"] == (df.pk, retry.pk, failed_run.pk)

    # when the worker runs it
    tasks.retry_task(df.pk, retry.pk, failed_run.pk)

    # then only the failed relation was sent, and the run says what it was
    retry.refresh_from_db()
    assert retry.status == SyncRun.Status.SUCCEEDED, retry.message
    assert retry.counts == {"export": {"aangemaakt": 1}}
    assert list(SyncEvent.objects.filter(run=retry).values_list("relation_id", flat=True)) == [
        failure.relation_id]
    assert f"Fouten van run {failed_run.pk}" in retry.message
    assert len(sandbox.klanten()) == 3


def test_a_retry_while_a_run_is_open_opens_that_run(configure, df_client):
    # given a run with a failed export and another run queued meanwhile
    configure()
    failed_run = SyncRunFactory(status="met_fouten", counts={"export": {"fout": 1}})
    SyncEventFactory(run=failed_run, action="fout", relation=OrganisationFactory())
    queued = SyncRunFactory(status="wachtrij", trigger="gepland", started_at=None,
                            finished_at=None)

    # when
    response = df_client.post(retry_url(failed_run))

    # then nothing new is queued: the open run is shown
    assert response.url == run_url(queued)
    assert SyncRun.objects.count() == 2 and not OrmQ.objects.exists()


def test_import_failures_are_explained_and_left_to_the_next_full_run(configure, df_client):
    """No list of klanten is kept: the run page says the next full run retries them."""
    # given a run in which a klant could not be imported
    configure()
    failed_run = SyncRunFactory(status="met_fouten", counts={"import": {"fout": 2}})
    SyncEventFactory(run=failed_run, direction="import", action="fout", message="dubbel nummer")

    # when
    page = df_client.get(run_url(failed_run)).content.decode()

    # then there is no retry of exports, but a full run with the explanation
    assert "Fouten opnieuw proberen" not in page
    assert 'id="run-action-run"' in page
    assert "bij elke volledige run vanzelf opnieuw geprobeerd" in page
    # and a retry POST anyway queues nothing
    response = df_client.post(retry_url(failed_run))
    assert response.url == run_url(failed_run) and not OrmQ.objects.exists()


def test_the_retry_is_disabled_with_its_reason_when_bijwerken_is_off(configure, df_client):
    # given
    configure(push=False)
    failed_run = SyncRunFactory(status="met_fouten", counts={"export": {"fout": 1}})
    SyncEventFactory(run=failed_run, action="fout", relation=OrganisationFactory())

    # when
    page = df_client.get(run_url(failed_run)).content.decode()

    # then
    assert "Bijwerken (PerfectView → DigitaleFactuur) staat uit." in page
    assert 'disabled aria-describedby="run-action-note-retry"' in page


def test_a_retry_posted_while_bijwerken_is_off_queues_nothing(configure, df_client):
    """A page opened before Bijwerken went off: the POST asks the rule its button asked."""
    # given
    configure(push=False)
    failed_run = SyncRunFactory(status="met_fouten", counts={"export": {"fout": 1}})
    SyncEventFactory(run=failed_run, action="fout", relation=OrganisationFactory())

    # when
    response = df_client.post(retry_url(failed_run), follow=True)

    # then
    assert SyncRun.objects.count() == 1 and not OrmQ.objects.exists()
    assert "Bijwerken (PerfectView → DigitaleFactuur) staat uit." in response.content.decode()


def test_a_retry_finds_nothing_when_the_relations_are_gone(configure):
    # given a queued retry whose failed relation was deleted before it ran
    df = configure()
    relation = OrganisationFactory(debtor_number="1099")
    failed_run = SyncRunFactory(status="met_fouten", counts={"export": {"fout": 1}})
    SyncEventFactory(run=failed_run, action="fout", relation=relation)
    retry, created = runs.request_retry(df, failed_run, None)
    relation.delete()

    # when
    tasks.retry_task(df.pk, retry.pk, failed_run.pk)

    # then
    retry.refresh_from_db()
    assert created and retry.status == SyncRun.Status.SKIPPED
    assert "Niets opnieuw te proberen" in retry.message
