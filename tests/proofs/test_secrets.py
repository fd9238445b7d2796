"""Proof 4, secrets: after full runs under faults with a canary access code (PROOF_CANARY, or a
fresh random token), the canary is nowhere: not in any log line (every logger at DEBUG, the
worker's own output included), not on any admin page, not in the database file, not in the sync
log, not in django-q2's tasks, not in the text of any error raised."""

from __future__ import annotations

import logging
import re
import time
import traceback
from collections import deque
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_q.models import OrmQ, Schedule, Task

from integration.connectors.models import SyncEvent, SyncRun
from integration.crm.models import Relation
from integration.dfsandbox.control import SandboxControl
from integration.digitalefactuur import sync
from integration.digitalefactuur.client import DigitaleFactuurClient
from integration.digitalefactuur.errors import DigitaleFactuurError
from integration.digitalefactuur.runs import request_run
from integration.digitalefactuur.schema import DfKlant
from tests.factories import UserFactory
from tests.proofs.conftest import (
    CANARY,
    ERROR_RATE,
    GARBLED_RATE,
    RATE_LIMIT,
    TIMEOUT_RATE,
    crm_relations,
)

CANARY_ACCOUNT = "20002"
CANARY_FORMS = {CANARY, quote(CANARY, safe=""), quote(quote(CANARY, safe=""), safe="")}
MAX_PAGES = 400
HREF = re.compile(r'href="([^"#]+)"')


def leaks(text: str) -> bool:
    return any(form in text for form in CANARY_FORMS)


def assert_clean(where: str, text: str) -> None:
    assert not leaks(text), f"the canary leaked into {where}"


def crawl(browser: Client, start: str) -> dict[str, str]:
    """Every admin page reachable by links from `start` (GET only, logout and i18n left out)."""
    seen, queue, pages = {start}, deque([start]), {}
    while queue and len(pages) < MAX_PAGES:
        url = queue.popleft()
        response = browser.get(url, follow=True)
        pages[url] = response.content.decode("utf-8", errors="replace")
        for href in HREF.findall(pages[url]):
            target = urljoin(url, href.replace("&amp;", "&"))
            parts = urlsplit(target)
            if parts.netloc or not parts.path.startswith("/admin/") or "logout" in parts.path:
                continue
            # One visit per path: sorting and filter variants render the same rows.
            target = parts.path
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return pages


def errors_from_every_fault(control: SandboxControl) -> list[DigitaleFactuurError]:
    """One of each error the client raises, made by the sandbox answering with that fault."""
    caught = []
    client = DigitaleFactuurClient(control.base_url, control.account_id, control.access_code,
                                   read_timeout=0.3, max_attempts=1, sleep=lambda s: None)
    klant = DfKlant(relatienummer="1990", type="debiteur", naam="Fout & Zoon")
    for action, fault in [("klanten", "error"), ("klanten", "http_error"),
                          ("klanten", "rate_limit"), ("klanten", "timeout"),
                          ("klanten", "garbled"), ("klant_aanmaken", "timeout"),
                          ("klant_updaten", "garbled")]:
        control.fail_next(action, fault)
        try:
            if action == "klanten":
                list(client.iter_pages())
            elif action == "klant_aanmaken":
                client.create(klant)
            else:
                client.update(DfKlant(id="onbekend", naam="x"))
        except DigitaleFactuurError as error:
            caught.append(error)
    wrong = DigitaleFactuurClient(control.base_url, control.account_id, CANARY + "-fout",
                                  max_attempts=1)
    with pytest.raises(DigitaleFactuurError) as refused:
        wrong.test_connection()
    caught.append(refused.value)
    client.close()
    wrong.close()
    return caught


@pytest.mark.django_db(transaction=True)
def test_the_access_code_appears_in_no_log_page_database_row_task_or_error(
        sandbox, connector, start_worker, caplog):
    """Typed in on the settings screen, used by runs in this process and in a real worker,
    under every fault; then every place a secret could end up is searched."""
    # given: the canary as the account's code, typed in and tested on the settings screen
    caplog.set_level(logging.DEBUG)
    for name in list(logging.Logger.manager.loggerDict):
        logging.getLogger(name).setLevel(logging.DEBUG)
    sandbox.add_account(CANARY_ACCOUNT, CANARY)
    control = SandboxControl(sandbox.root_url, CANARY_ACCOUNT, CANARY)
    control.seed(150, seed=3)
    crm_relations(100)
    df = connector(push=True, account_id=CANARY_ACCOUNT, access_code=CANARY)
    administrator = UserFactory(is_superuser=True)
    browser = Client()
    browser.force_login(administrator)
    typed = browser.post(reverse("digitalefactuur:settings"), {
        "action": "test", "active": "on", "account_id": CANARY_ACCOUNT, "access_code": CANARY,
        "debtors_enabled": "on", "debtors_kind": "organisation",
        "debtor_relation_type": df.debtor_relation_type_id, "creditors_enabled": "on",
        "creditors_kind": "organisation", "creditor_relation_type": df.creditor_relation_type_id,
        "push_enabled": "on", "interval_minutes": df.interval_minutes}, follow=True)
    assert typed.status_code == 200
    control.set_faults(error_rate=ERROR_RATE, timeout_rate=TIMEOUT_RATE,
                       garbled_rate=GARBLED_RATE, rate_limit=RATE_LIMIT, timeout_seconds=0.6,
                       fault_seed=11)

    # when: two runs here, one in a worker at DEBUG, a change push, and every kind of error
    runs = [sync.run(df.pk, "cli")]
    worker = start_worker(sandbox.base_url, LOG_LEVEL="DEBUG",
                          DIGITALEFACTUUR_READ_TIMEOUT="0.3")
    queued, _created = request_run(df.pk)
    deadline = time.monotonic() + 120
    while SyncRun.objects.get(pk=queued.pk).is_open and time.monotonic() < deadline:
        time.sleep(0.2)
    relation = Relation.objects.filter(debtor_number__gt="").first()
    relation.organisation_name = "Gewijzigd tijdens de proef"
    relation.save()
    time.sleep(3)  # the change push, by the worker
    worker.stop()
    errors = errors_from_every_fault(control)
    control.set_faults(error_rate=0, timeout_rate=0, garbled_rate=0, rate_limit=0)
    pages = crawl(browser, "/admin/")
    connection.close()

    # then
    assert not SyncRun.objects.get(pk=queued.pk).is_open
    assert {run.status for run in runs} and len(pages) > 15 and len(errors) >= 6
    for record in caplog.records:
        assert_clean(f"log record {record.name}", record.getMessage() + (record.exc_text or ""))
    assert_clean("captured log text", caplog.text)
    assert_clean("the worker's output", worker.output())
    assert "DEBUG" in worker.output()
    for url, html in pages.items():
        assert_clean(f"page {url}", html)
    assert_clean("the settings screen after the test", typed.content.decode())
    database = Path(connection.settings_dict["NAME"])
    for path in (database, Path(f"{database}-wal")):
        if path.exists():
            assert not any(form.encode() in path.read_bytes() for form in CANARY_FORMS), path
    for run in SyncRun.objects.all():
        assert_clean(f"run {run.pk}", f"{run.message} {run.counts} {run.phase}")
    for event in SyncEvent.objects.all():
        assert_clean(f"event {event.pk}", f"{event.message} {event.diff} {event.losing_values}")
    for task in Task.objects.all():
        assert_clean(f"task {task.pk}", f"{task.args!r} {task.kwargs!r} {task.result!r}")
    for queued_task in OrmQ.objects.all():
        assert_clean(f"queued task {queued_task.pk}", repr(queued_task.task))
    for schedule in Schedule.objects.all():
        assert_clean(f"schedule {schedule.pk}", f"{schedule.args} {schedule.kwargs}")
    for error in errors:
        assert_clean(f"error {type(error).__name__}",
                     f"{error} {error!r} {error.url} {error.detail}"
                     + "".join(traceback.format_exception(error))
                     + "".join(traceback.TracebackException.from_exception(
                         error, capture_locals=True).format()))
