"""The change listener and the push: a relation saved in the CRM reaches DigitaleFactuur soon,
bursts coalesce, and what the import wrote is never pushed back."""

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from integration.connectors import locks
from integration.connectors.models import SyncRun
from integration.connectors.tasks import task_path
from integration.crm.models import Relation
from integration.digitalefactuur import sync, tasks
from integration.digitalefactuur.links import PendingPush
from tests.factories import OrganisationFactory
from tests.worker_fixture import start_worker  # noqa: F401


@pytest.mark.django_db
def test_an_import_does_not_echo_back(configure, df_sandbox, run_sync,
                                      django_capture_on_commit_callbacks):
    # given
    df = configure(push=True)
    df_sandbox.seed(5)

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run = run_sync(df)

    # then: the import writes in bulk, which sends no signals, so the listener hears nothing
    assert run.counts["import"]["aangemaakt"] >= 4
    # (the run's end may have its own callback: the alerts look at a finished run)
    assert [c for c in callbacks if c.__qualname__.startswith("relation_saved")] == []
    assert not PendingPush.objects.exists() and not OrmQ.objects.exists()


@pytest.mark.django_db
def test_ten_saves_are_one_pending_push_and_one_task(configure,
                                                     django_capture_on_commit_callbacks):
    # given
    configure(push=True)
    relation = OrganisationFactory(debtor_number="1001")
    OrmQ.objects.all().delete()
    PendingPush.objects.all().delete()

    # when
    for n in range(10):
        with django_capture_on_commit_callbacks(execute=True):
            relation.organisation_name = f"Naam {n}"
            relation.save()

    # then
    assert PendingPush.objects.get().relation == relation
    assert OrmQ.objects.count() == 1


@pytest.mark.django_db
def test_nothing_is_queued_while_bijwerken_is_off(configure,
                                                  django_capture_on_commit_callbacks):
    # given
    configure(push=False)

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        OrganisationFactory(debtor_number="1001")

    # then
    assert callbacks == [] and not PendingPush.objects.exists()


@pytest.mark.django_db
def test_the_push_task_sends_the_latest_state_once(configure, df_sandbox, run_sync, settings,
                                                   django_capture_on_commit_callbacks):
    # given
    settings.SYNC_PUSH_DEBOUNCE = 0.1
    df = configure(debtors=False, creditors=False, push=True)
    relation = OrganisationFactory(debtor_number="1001", organisation_name="Eerst")
    run_sync(df)
    df_sandbox.reset_counters()
    for n in range(10):
        with django_capture_on_commit_callbacks(execute=True):
            relation.organisation_name = f"Daarna {n}"
            relation.save()

    # when
    run_ids = tasks.push_relations(df.pk)

    # then
    [push] = SyncRun.objects.filter(pk__in=run_ids)
    assert push.trigger == SyncRun.Trigger.CHANGE and push.status == "geslaagd"
    assert df_sandbox.klanten()[0]["naam"] == "Daarna 9"
    assert df_sandbox.counters()["klant_updaten"] == 1
    assert not PendingPush.objects.exists()


def wait_until(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_burst_of_saves_arrives_in_digitalefactuur_as_one_update(configure, df_sandbox,
                                                                   run_sync, start_worker):  # noqa: F811
    """With the worker running: ten saves in a second become one klant_updaten, within seconds.
    """
    # given
    start_worker(df_sandbox.base_url, SYNC_PUSH_DEBOUNCE="0.5")
    configure(debtors=False, creditors=False, push=True)
    relation = Relation.objects.create(kind="organisation", organisation_name="Eerst",
                                       debtor_number="1001")
    assert wait_until(lambda: any(k["naam"] == "Eerst" for k in df_sandbox.klanten()))
    assert wait_until(lambda: not PendingPush.objects.exists())
    time.sleep(0.5)
    df_sandbox.reset_counters()

    # when
    for n in range(10):
        relation.organisation_name = f"Gewijzigd {n}"
        relation.save()
        time.sleep(0.03)

    # then
    assert wait_until(lambda: df_sandbox.klanten()[0]["naam"] == "Gewijzigd 9")
    time.sleep(1.5)  # anything still on its way would arrive now
    counters = df_sandbox.counters()
    assert counters["klant_updaten"] == 1 and counters["klant_aanmaken"] == 0
    assert len(df_sandbox.klanten()) == 1


@pytest.mark.django_db
def test_a_save_that_changes_no_mapped_field_makes_no_run(configure, df_sandbox, run_sync,
                                                         settings,
                                                         django_capture_on_commit_callbacks):
    # given
    settings.SYNC_PUSH_DEBOUNCE = 0.05
    df = configure(debtors=False, creditors=False, push=True)
    relation = OrganisationFactory(debtor_number="1001")
    run_sync(df)
    runs_before = SyncRun.objects.count()
    df_sandbox.reset_counters()
    with django_capture_on_commit_callbacks(execute=True):
        relation.phone = "071-1234567"  # not in mapping.md
        relation.save()

    # when
    run_ids = tasks.push_relations(df.pk)

    # then
    assert run_ids == [] and SyncRun.objects.count() == runs_before
    assert df_sandbox.counters()["total"] == 0


@pytest.mark.django_db
def test_a_relation_without_numbers_is_none_of_the_connectors_business(
        configure, django_capture_on_commit_callbacks):
    # given
    configure(push=True)

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        OrganisationFactory(debtor_number="", creditor_number="")

    # then
    assert callbacks == [] and not PendingPush.objects.exists()


def _a_linked_relation_changed(configure, run_sync, settings, capture_on_commit):
    """Bijwerken on, relation 1001 linked by a first run, then renamed "Daarna" (push pending)."""
    settings.SYNC_PUSH_DEBOUNCE = 0.05
    df = configure(debtors=False, creditors=False, push=True)
    relation = OrganisationFactory(debtor_number="1001", organisation_name="Eerst")
    run_sync(df)
    with capture_on_commit(execute=True):
        relation.organisation_name = "Daarna"
        relation.save()
    return df, relation


@pytest.mark.django_db
def test_a_push_that_meets_a_full_run_is_scheduled_for_later_not_waited_for(
        configure, df_sandbox, run_sync, settings, django_capture_on_commit_callbacks,
        monkeypatch):
    # given a linked relation saved while a full run holds the lock
    df, relation = _a_linked_relation_changed(configure, run_sync, settings,
                                              django_capture_on_commit_callbacks)
    full_run = SyncRun.objects.create(connector="digitalefactuur",
                                      trigger=SyncRun.Trigger.SCHEDULED, status="bezig")
    held = locks.acquire(sync.LOCK_NAME, run_id=full_run.pk)

    # when the push task meets it (every sleep of this thread recorded: no clock is asserted)
    slept, real_sleep, caller = [], time.sleep, threading.current_thread()

    def recording_sleep(seconds):
        if threading.current_thread() is caller:
            slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", recording_sleep)
    run_ids = tasks.push_relations(df.pk)
    monkeypatch.undo()

    # then the worker does not wait for the full run (at most the debounce); the change waits,
    # pending, for a scheduled retry
    assert run_ids == [] and sum(slept) <= settings.SYNC_PUSH_DEBOUNCE
    assert PendingPush.objects.filter(relation=relation).exists()
    later = Schedule.objects.get(name=tasks.PUSH_RETRY_SCHEDULE)
    assert later.func == task_path(tasks.push_relations) and later.args == f"({df.pk}, 1)"
    assert later.schedule_type == Schedule.ONCE
    assert later.next_run >= timezone.now() + timedelta(seconds=tasks.PUSH_RETRY_SECONDS - 5)

    # and when the full run is over, the scheduled retry pushes the change
    held.release()
    [push] = SyncRun.objects.filter(pk__in=tasks.push_relations(df.pk, 1))
    assert push.trigger == SyncRun.Trigger.CHANGE and push.status == SyncRun.Status.SUCCEEDED
    assert df_sandbox.klanten()[0]["naam"] == "Daarna"
    assert not PendingPush.objects.exists()


@pytest.mark.django_db
def test_the_last_attempt_of_a_push_leaves_the_change_to_the_next_run(
        configure, df_sandbox, run_sync, settings, django_capture_on_commit_callbacks):
    # given a change and a full run that still holds the lock at the last attempt
    df, _relation = _a_linked_relation_changed(configure, run_sync, settings,
                                               django_capture_on_commit_callbacks)
    held = locks.acquire(sync.LOCK_NAME)

    # when
    [push] = SyncRun.objects.filter(
        pk__in=tasks.push_relations(df.pk, tasks.PUSH_ATTEMPTS - 1))

    # then one "overgeslagen" push in the log, nothing scheduled, nothing left pending
    assert push.status == SyncRun.Status.SKIPPED and "loopt al" in push.message
    assert not Schedule.objects.filter(name=tasks.PUSH_RETRY_SCHEDULE).exists()
    assert not PendingPush.objects.exists()
    held.release()
