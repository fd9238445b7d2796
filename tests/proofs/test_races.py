"""Proof 3, races: two real workers and five "Koppeling uitvoeren" clicks at the same moment give
one run at a time; a relation saved in the CRM while a run imports it keeps the CRM's value."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_q.tasks import async_task

from integration.connectors.models import SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur import importer, runs, sync, tasks
from integration.rights.catalogue import DIGITALE_FACTUUR
from tests.factories import RoleFactory, UserFactory
from tests.proofs.conftest import crm_relations


def wait_until_all_closed(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not SyncRun.objects.filter(status__in=SyncRun.OPEN_STATUSES).exists():
            return
        time.sleep(0.1)
    raise AssertionError("runs still open: " + str(list(
        SyncRun.objects.filter(status__in=SyncRun.OPEN_STATUSES).values("pk", "status"))))


@pytest.mark.django_db(transaction=True)
def test_two_workers_and_five_clicks_at_once_give_one_run_at_a_time(sandbox, connector,
                                                                     start_worker):
    """Five administrators click at the same moment while two workers wait; three scheduled
    runs are queued too, so that both workers really have a run to start at once."""
    # given
    sandbox.seed(60)
    crm_relations(60)
    df = connector(push=True)
    sandbox.set_faults(latency_ms=10)
    admin = UserFactory(groups=[RoleFactory(rights=[DIGITALE_FACTUUR])])
    workers = [start_worker(sandbox.base_url, LOG_LEVEL="WARNING") for _ in range(2)]
    start = threading.Barrier(5)
    answers = []

    def click():
        try:
            browser = Client()
            browser.force_login(admin)
            start.wait()
            answers.append(browser.post(reverse("digitalefactuur:run")).status_code)
        finally:
            connection.close()

    # when
    clicks = [threading.Thread(target=click) for _ in range(5)]
    for thread in clicks:
        thread.start()
    for _ in range(3):
        async_task(tasks.scheduled_sync, df.pk, group=runs.TASK_GROUP)
    for thread in clicks:
        thread.join(30)
    wait_until_all_closed(120)
    for worker in workers:
        worker.stop()

    # then: one queued run for five clicks; runs that really ran never overlap
    assert answers == [302] * 5
    assert SyncRun.objects.filter(trigger=SyncRun.Trigger.MANUAL).count() == 1
    ran = list(SyncRun.objects.exclude(status=SyncRun.Status.SKIPPED)
               .order_by("started_at").values_list("started_at", "finished_at", "status"))
    assert len(ran) >= 1 and all(finished for _, finished, _ in ran), ran
    for (_, finished, _), (started, _, _) in itertools.pairwise(ran):
        assert finished <= started, ran
    skipped = SyncRun.objects.filter(status=SyncRun.Status.SKIPPED)
    assert all("loopt al" in run.message for run in skipped)
    assert SyncRun.objects.count() == 4  # the click and the three scheduled ones


#: Evidence and the suggested fix: report of issue 10, docs/guarantees.md.
@pytest.mark.django_db(transaction=True)
def test_a_relation_saved_while_a_run_imports_it_keeps_the_crm_value(sandbox, connector,
                                                                     monkeypatch):
    """The administrator saves the relation after the import has read the page and before it
    writes it: the import must not write DigitaleFactuur's older value over the CRM's."""
    # given: a linked relation, then both sides change it
    sandbox.add_klant(relatienummer="1001", type="debiteur", naam="Bakkerij Oud")
    df = connector(push=True)
    assert sync.run(df.pk, "cli").status == SyncRun.Status.SUCCEEDED
    relation = Relation.objects.get(debtor_number="1001")
    import_reads = importer.read_snapshot
    saved = []

    def read_then_the_administrator_saves(klanten):
        snapshot = import_reads(klanten)
        if not saved:
            in_crm = Relation.objects.get(pk=relation.pk)
            in_crm.organisation_name = "Bakkerij PerfectView"
            in_crm.save()
            saved.append(in_crm)
        return snapshot

    monkeypatch.setattr(importer, "read_snapshot", read_then_the_administrator_saves)
    changed_in_df = _change_in_sandbox(sandbox, "1001", naam="Bakkerij DigitaleFactuur")

    # when
    run = sync.run(df.pk, "cli")

    # then
    relation.refresh_from_db()
    assert saved and changed_in_df
    assert relation.organisation_name == "Bakkerij PerfectView", run.counts
    in_df = next(k for k in sandbox.klanten() if k["relatienummer"] == "1001")
    assert in_df["naam"] == "Bakkerij PerfectView", (run.status, run.counts)


def _change_in_sandbox(sandbox, number: str, **elements) -> bool:
    """A change made in DigitaleFactuur itself, through its own API (klant_updaten)."""
    from integration.digitalefactuur.client import DigitaleFactuurClient
    from integration.digitalefactuur.schema import DfKlant

    with DigitaleFactuurClient(sandbox.base_url, sandbox.account_id, sandbox.access_code) as c:
        current = c.find_by_relatienummer(number)
        c.update(DfKlant(id=current.id, **elements), fields=list(elements))
    return True
