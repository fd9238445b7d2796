"""The export over several workers (DIGITALEFACTUUR_CONCURRENCY > 1), against the sandbox.

The promise is that concurrency changes the wall time only: the klanten in DigitaleFactuur, the
links, the events and their order, the counts and the run's status are those of the sequential
export; a halt still halts and keeps what was sent; a rate limit backs the whole export off and
nothing is created twice.
"""

import json
import logging
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integration.connectors.models import SyncEvent, SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur import sync
from integration.digitalefactuur.links import DfLink
from tests.factories import OrganisationFactory, PersonFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
BOOKKEEPING_TABLES = ("connectors_syncrun", "connectors_runlock")


def organisation(number, name, **fields):
    return OrganisationFactory(debtor_number=number, organisation_name=name,
                               invoice_street=f"Kerkstraat {number}", **fields)


def delete_klant(sandbox, number):
    """Remove a klant in DigitaleFactuur behind the connector's back (it never deletes)."""
    [klant] = [k for k in sandbox.klanten() if k["relatienummer"] == number]
    requests.get(f"{sandbox.base_url}/{sandbox.account_id}/{sandbox.access_code}/"
                 f"klant_verwijderen&klanten_id={klant['id']}", timeout=5).raise_for_status()


def every_kind_of_export(configure, df_sandbox, run_sync, settings):
    """Relations that take each path of the export: a first sequential run links some of them,
    then DigitaleFactuur and the CRM change under them. Explicit names: built twice per test."""
    settings.DIGITALEFACTUUR_CONCURRENCY = 1
    df = configure(debtors=False, creditors=False, push=True)
    changed = organisation("1101", "Eerst")
    vanished = organisation("1102", "Eerst")
    organisation("1103", "Blijft gelijk")
    unlinked_but_equal = organisation("1104", "Al in DigitaleFactuur")
    run_sync(df)
    changed.organisation_name = "Daarna"
    changed.save()
    vanished.organisation_name = "Daarna"
    vanished.save()
    delete_klant(df_sandbox, "1102")
    DfLink.objects.filter(relation=unlinked_but_equal).delete()
    for n in range(12):
        organisation(f"12{n:02d}", f"Nieuw {n}")
    PersonFactory(surname="Visser", debtor_number="1301", creditor_number="2301",
                  private_street="Molenweg 3")
    df_sandbox.add_klant(relatienummer="1401", type="debiteur", naam="Oude naam")
    organisation("1401", "Nieuwe naam")
    organisation("14A1", "Geen geldig nummer")  # DigitaleFactuur answers 422
    for n in range(5):
        organisation(f"15{n:02d}", f"Nieuw daarna {n}")
    df_sandbox.reset_counters()
    return df


def outcome(run, sandbox):
    """Everything an export leaves behind, without the ids DigitaleFactuur hands out in the
    order requests arrive (links and events name their klant by relatienummer instead)."""
    klanten = sandbox.klanten()
    number_of = {str(k["id"]): k["relatienummer"] for k in klanten}
    events = [(e.number, e.kind, e.action, e.message, e.diff,
               number_of.get(e.external_id, e.external_id))
              for e in SyncEvent.objects.filter(run=run).order_by("pk")]
    links = sorted((link.number, link.kind, number_of[link.df_id], link.sent_fingerprint,
                    link.received_fingerprint)
                   for link in DfLink.objects.all())
    counters = sandbox.counters()
    return {
        "run": (run.status, run.message, run.counts),
        "klanten": sorted(json.dumps({k: v for k, v in klant.items() if k != "id"},
                                     sort_keys=True) for klant in klanten),
        "links": links,
        "events": events,
        "requests": {key: counters[key] for key in ("GET", "POST", "klanten", "klant_aanmaken",
                                                    "klant_updaten")},
    }


def start_afresh(sandbox):
    SyncEvent.objects.all().delete()
    SyncRun.objects.all().delete()
    DfLink.objects.all().delete()
    Relation.objects.all().delete()
    sandbox.reset()


def test_four_workers_leave_exactly_what_one_leaves(configure, df_sandbox, run_sync, settings,
                                                    caplog):
    """Created, created twice for both numbers, found and updated, found and linked, updated,
    vanished and created again, refused, unchanged: the same klanten, links, events in the same
    order, counts, requests and database statements as the sequential export."""
    caplog.set_level(logging.DEBUG)
    found = {}
    for workers in (1, WORKERS):
        # given
        start_afresh(df_sandbox)
        df = every_kind_of_export(configure, df_sandbox, run_sync, settings)
        settings.DIGITALEFACTUUR_CONCURRENCY = workers

        # when
        with CaptureQueriesContext(connection) as queries:
            run = run_sync(df)

        # then
        found[workers] = outcome(run, df_sandbox)
        # The run's own record and lock are written by the clock (progress every 0.5 s).
        found[workers]["statements"] = [
            re.sub(r"'[^']*'|\"s\d+_x\d+\"|\b\d+\b", "?", query["sql"])
            for query in queries.captured_queries
            if not any(table in query["sql"] for table in BOOKKEEPING_TABLES)]

    assert found[WORKERS] == found[1]
    sequential = found[1]
    assert sequential["run"][0] == SyncRun.Status.WITH_ERRORS
    assert sequential["run"][2] == {"export": {
        "ongewijzigd": 2, "aangemaakt": 20, "bijgewerkt": 2, "fout": 1}}
    actions = {(number, kind): (action, message)
               for number, kind, action, message, *_rest in sequential["events"]}
    assert actions[("1102", "debtor")][0] == "aangemaakt" and "verdwenen" in actions[
        ("1102", "debtor")][1]
    assert actions[("1104", "debtor")] == ("ongewijzigd",
                                          "Gekoppeld aan de bestaande klant met dit nummer.")
    assert actions[("1401", "debtor")][0] == "bijgewerkt"
    assert actions[("14A1", "debtor")][0] == "fout"
    # the events are in (relation id, kind) order
    assert [event[0] for event in sequential["events"]] == [
        "1101", "1102", "1104", *[f"12{n:02d}" for n in range(12)], "1301", "2301", "1401",
        "14A1", *[f"15{n:02d}" for n in range(5)]]
    assert df_sandbox.access_code not in caplog.text


def test_a_preview_with_workers_tells_what_the_sequential_preview_tells(configure, df_sandbox,
                                                                        run_sync, settings):
    """"Voorbeeld": the workers only look numbers up; the same events, in the same order."""
    previews = {}
    for workers in (1, WORKERS):
        # given
        start_afresh(df_sandbox)
        df = every_kind_of_export(configure, df_sandbox, run_sync, settings)
        settings.DIGITALEFACTUUR_CONCURRENCY = workers
        events_before = SyncEvent.objects.count()

        # when
        preview = sync.preview(df.pk, "cli")

        # then
        assert df_sandbox.counters()["POST"] == 0
        assert SyncEvent.objects.count() == events_before
        previews[workers] = ([(e.number, e.kind, e.action, e.message, e.diff)
                              for e in preview.events], preview.counts,
                             df_sandbox.counters()["GET"])

    assert previews[WORKERS] == previews[1]
    assert [number for number, *_rest in previews[1][0]][:3] == ["1101", "1102", "1104"]


def test_a_wrong_access_code_halts_the_workers_and_sends_nothing(configure, df_sandbox,
                                                                 run_sync, settings, caplog):
    # given
    caplog.set_level(logging.DEBUG)
    settings.DIGITALEFACTUUR_CONCURRENCY = WORKERS
    df = configure(debtors=False, creditors=False, push=True)
    for n in range(20):
        organisation(f"16{n:02d}", f"Bedrijf {n}")
    df_sandbox.add_account(df_sandbox.account_id, "een-andere-code")  # changed in DF

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.FAILED
    assert "toegangscode onjuist" in run.message
    assert df_sandbox.counters()["POST"] == 0
    assert not DfLink.objects.exists() and not SyncEvent.objects.exists()
    # only the lookups handed out before the first answer came (two per worker at most):
    # those still waiting for a worker then were never sent
    assert df_sandbox.counters()["klanten"] <= 2 * WORKERS
    assert df_sandbox.access_code not in caplog.text and "een-andere-code" not in caplog.text
    assert df_sandbox.access_code not in run.message


def test_a_halt_between_chunks_keeps_the_first_chunk_as_the_sequential_export_does(
        configure, df_sandbox, run_sync, settings):
    """API access switched off in DigitaleFactuur while the export runs: the run stops, what
    the first chunk (100 relations) sent is linked and logged, exactly as without workers."""
    found = {}
    for workers in (1, WORKERS):
        # given
        start_afresh(df_sandbox)
        settings.DIGITALEFACTUUR_CONCURRENCY = workers
        df = configure(debtors=False, creditors=False, push=True)
        for n in range(130):
            organisation(f"3{n:03d}", f"Bedrijf {n}")

        def switch_off_after_the_first_chunk(sync_run):
            if sync_run.processed == 100:
                df_sandbox.set_account_active(False)

        # when
        run = run_sync(df, on_progress=switch_off_after_the_first_chunk)

        # then
        found[workers] = outcome(run, df_sandbox)
        del found[workers]["requests"]  # the workers' requests under way at the halt differ

    assert found[WORKERS] == found[1]
    status, message, counts = found[1]["run"]
    assert status == SyncRun.Status.FAILED and "API-toegang staat niet aan" in message
    assert counts == {"export": {"aangemaakt": 100}}
    assert len(found[1]["links"]) == len(found[1]["klanten"]) == 100


def test_a_halt_within_a_chunk_records_every_klant_the_workers_sent(configure, df_sandbox,
                                                                    run_sync, settings):
    """The account is switched off while requests are under way: whatever reached
    DigitaleFactuur before it is linked and logged once, nothing is sent after the halt."""
    # given
    settings.DIGITALEFACTUUR_CONCURRENCY = WORKERS
    df = configure(debtors=False, creditors=False, push=True)
    for n in range(100):
        organisation(f"4{n:03d}", f"Bedrijf {n}")
    df_sandbox.set_faults(latency_ms=10)
    stop = threading.Event()

    def switch_off_after_a_few_creates():
        while not stop.is_set() and df_sandbox.counters()["klant_aanmaken"] < 10:
            stop.wait(0.005)
        df_sandbox.set_account_active(False)

    switcher = threading.Thread(target=switch_off_after_a_few_creates, daemon=True)
    switcher.start()

    # when
    try:
        run = run_sync(df)
    finally:
        stop.set()
        switcher.join(5)

    # then
    assert run.status == SyncRun.Status.FAILED, run.counts
    assert "API-toegang staat niet aan" in run.message
    created = sorted(k["relatienummer"] for k in df_sandbox.klanten())
    assert 0 < len(created) < 100
    assert len(set(created)) == len(created)
    assert sorted(DfLink.objects.values_list("number", flat=True)) == created
    assert sorted(SyncEvent.objects.filter(action="aangemaakt")
                  .values_list("number", flat=True)) == created
    assert not SyncEvent.objects.exclude(action="aangemaakt").exists()
    assert run.counts == {"export": {"aangemaakt": len(created)}}


def test_three_unreachable_records_in_a_row_still_end_the_export(configure, df_sandbox,
                                                                 run_sync, settings):
    """Counted in (relation id, kind) order, not in the order the answers came back."""
    # given
    settings.DIGITALEFACTUUR_MAX_ATTEMPTS = 1
    settings.DIGITALEFACTUUR_CONCURRENCY = WORKERS
    df = configure(debtors=False, creditors=False, push=True)
    for n in range(10):
        organisation(f"110{n}", f"Bedrijf {n}")
    # the account's list is read; then DigitaleFactuur is down for a while
    df_sandbox.fail_next("klant_aanmaken", "http_error", count=20)

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.FAILED
    assert "DigitaleFactuur is niet bereikbaar" in run.message
    assert list(SyncEvent.objects.filter(run=run).values_list("number", "action")) == [
        ("1100", "fout"), ("1101", "fout"), ("1102", "fout")]
    assert not df_sandbox.klanten()


def test_a_timeout_during_a_create_never_duplicates_with_workers(configure, df_sandbox,
                                                                 run_sync, settings):
    """Two creates are applied but their answers never come: each is found by its number."""
    # given
    settings.DIGITALEFACTUUR_READ_TIMEOUT = 0.5
    settings.DIGITALEFACTUUR_CONCURRENCY = WORKERS
    df = configure(debtors=False, creditors=False, push=True)
    for n in range(8):
        organisation(f"120{n}", f"Bedrijf {n}")
    df_sandbox.set_faults(timeout_seconds=3)
    df_sandbox.fail_next("klant_aanmaken", "timeout", count=2)

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    klanten = df_sandbox.klanten()
    assert sorted(k["relatienummer"] for k in klanten) == [f"120{n}" for n in range(8)]
    ids = {k["relatienummer"]: str(k["id"]) for k in klanten}
    assert dict(DfLink.objects.values_list("number", "df_id")) == ids
    messages = SyncEvent.objects.filter(run=run).values_list("message", flat=True)
    assert sum("teruggevonden" in message for message in messages) == 2


def test_a_rate_limit_backs_the_whole_export_off_and_nothing_is_sent_twice(
        configure, df_sandbox, run_sync, settings):
    """DigitaleFactuur allows 8 requests a second: the workers meet the limit, all wait for
    its Retry-After together, and every relation ends up exported once."""
    # given
    settings.DIGITALEFACTUUR_MAX_ATTEMPTS = 6
    settings.DIGITALEFACTUUR_RETRY_BUDGET = 10.0
    settings.DIGITALEFACTUUR_CONCURRENCY = WORKERS
    df = configure(debtors=False, creditors=False, push=True)
    for n in range(12):
        organisation(f"130{n:02d}", f"Bedrijf {n}")
    limit = 8
    df_sandbox.set_faults(rate_limit=limit)

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    numbers = sorted(k["relatienummer"] for k in df_sandbox.klanten())
    assert numbers == [f"130{n:02d}" for n in range(12)]
    assert sorted(DfLink.objects.values_list("number", flat=True)) == numbers
    assert run.counts == {"export": {"aangemaakt": 12}}
    counters = df_sandbox.counters()
    refused = counters["faults"]["rate_limit"]
    assert refused > 0  # the limit was met
    # 13 requests went through (one read of the account, then a create each); each burst of
    # `limit` ends with at most one refusal per worker, as every worker then waits: no storm
    assert counters["total"] - refused == 13
    assert refused <= WORKERS * (13 // limit + 1)


def test_a_retry_after_beyond_the_budget_stops_the_workers_from_sending(configure, df_sandbox,
                                                                        run_sync, settings):
    """DigitaleFactuur asks for 30 s of quiet, more than the retry budget (3 s): the workers do
    not send what it asked not to be sent; the run stops, what was sent is recorded."""
    # given
    settings.DIGITALEFACTUUR_CONCURRENCY = WORKERS
    df = configure(debtors=False, creditors=False, push=True)
    for n in range(20):
        organisation(f"140{n:02d}", f"Bedrijf {n}")
    df_sandbox.set_faults(retry_after_seconds=30)
    df_sandbox.fail_next("*", "rate_limit")

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.FAILED
    assert "te veel verzoeken" in run.message
    counters = df_sandbox.counters()
    # only the requests under way when the 429 came: a lookup and a create per worker at most
    assert counters["total"] <= 2 * WORKERS
    created = sorted(k["relatienummer"] for k in df_sandbox.klanten())
    assert sorted(DfLink.objects.values_list("number", flat=True)) == created


@pytest.mark.parametrize(("name", "value", "accepted"), [
    ("DIGITALEFACTUUR_CONCURRENCY", "4", 4), ("DIGITALEFACTUUR_CONCURRENCY", "1", 1),
    ("DIGITALEFACTUUR_CONCURRENCY", "0", None), ("DIGITALEFACTUUR_CONCURRENCY", "9", None),
    ("DIGITALEFACTUUR_CONCURRENCY", "veel", None), (None, None, 8),
    # the former name is still read
    ("DIGITALEFACTUUR_EXPORT_CONCURRENCY", "4", 4), ("DIGITALEFACTUUR_EXPORT_CONCURRENCY", "9",
                                                     None)])
def test_the_setting_takes_one_to_eight_requests_at_once(name, value, accepted):
    # given
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DIGITALEFACTUUR")}
    environment.update(DJANGO_SETTINGS_MODULE="settings.settings", ENV_FILE="")
    if name is not None:
        environment[name] = value

    # when
    completed = subprocess.run(
        [sys.executable, "-c", "import django; from django.conf import settings; django.setup();"
         " print(settings.DIGITALEFACTUUR_CONCURRENCY)"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)

    # then
    if accepted is not None:
        assert completed.stdout.split()[-1] == str(accepted)
    else:
        assert completed.returncode != 0
        assert f"{name} must be a whole number from 1" in completed.stderr


# --- the adaptive limit (issue 18): on by default, learnt from DigitaleFactuur's answers ------

def limit_changes(caplog) -> list[tuple[int, int, str]]:
    """(was, now, after what) for every change of the requests in flight the run logged."""
    return [(record.df_concurrency_was, record.df_concurrency, record.df_concurrency_after)
            for record in caplog.records if hasattr(record, "df_concurrency")]


def test_a_rate_limited_export_with_the_default_settings_ends_as_the_sequential_one(
        configure, df_sandbox, run_sync, settings, caplog):
    """DigitaleFactuur allows 10 requests a second (20 at once after a quiet spell): the export
    starts with one request at a time, sends more while it is answered, halves at a 429 and
    waits for its Retry-After. The klanten, links, events in their order and counts are those
    of an export one request at a time without any limit, and no record failed for a 429."""
    caplog.set_level(logging.INFO, logger="integration.digitalefactuur.concurrency")
    default = settings.DIGITALEFACTUUR_CONCURRENCY
    assert default == 8
    found = {}
    for variant in ("adaptive, limited", "sequential, no limit"):
        # given
        start_afresh(df_sandbox)
        caplog.clear()
        df = every_kind_of_export(configure, df_sandbox, run_sync, settings)
        for n in range(30):
            organisation(f"17{n:02d}", f"Nog een {n}")
        settings.DIGITALEFACTUUR_RETRY_BUDGET = 10.0  # production: 60 s
        if variant.startswith("adaptive"):
            settings.DIGITALEFACTUUR_CONCURRENCY = default
            df_sandbox.set_faults(rate_limit=10, rate_limit_burst=20)
        else:
            settings.DIGITALEFACTUUR_CONCURRENCY = 1

        # when
        run = run_sync(df)

        # then
        found[variant] = outcome(run, df_sandbox)
        found[variant]["changes"] = limit_changes(caplog)
        found[variant]["refused"] = df_sandbox.counters()["faults"]["rate_limit"]

    adaptive, sequential = found["adaptive, limited"], found["sequential, no limit"]
    for key in ("run", "klanten", "links", "events"):
        assert adaptive[key] == sequential[key], key
    # the same requests went through; the refused ones came on top
    def answered(found):
        return found["requests"]["GET"] + found["requests"]["POST"] - found["refused"]

    assert answered(adaptive) == answered(sequential)
    assert adaptive["refused"] > 0
    assert adaptive["refused"] <= 0.2 * adaptive["requests"]["POST"]
    changes = adaptive["changes"]
    assert any(now > was for was, now, _after in changes), changes  # it grew
    assert any(now < was and after == "RateLimited" for was, now, after in changes), changes
    assert sequential["changes"] == []  # one at a time is one at a time: nothing to learn
    # the only failed record is the one DigitaleFactuur refuses (422), as sequentially
    assert [event[:3] for event in adaptive["events"] if event[2] == "fout"] == [
        ("14A1", "debtor", "fout")]
    assert not any("te veel verzoeken" in event[3] for event in adaptive["events"])


def test_a_timeout_drops_the_export_to_one_request_at_a_time(configure, df_sandbox, run_sync,
                                                             settings, caplog):
    """Once the export sends several at a time, one create's answer never comes: from then on
    one request at a time again (a service that does not answer in time is not helped by more).
    The create was applied: it is found by its number, and nothing is created twice."""
    # given
    caplog.set_level(logging.INFO, logger="integration.digitalefactuur.concurrency")
    settings.DIGITALEFACTUUR_READ_TIMEOUT = 0.5
    df = configure(debtors=False, creditors=False, push=True)
    for n in range(60):
        organisation(f"18{n:02d}", f"Bedrijf {n}")
    df_sandbox.set_faults(timeout_seconds=2)
    stop = threading.Event()

    def time_out_once_several_are_in_flight():
        while not stop.is_set() and df_sandbox.counters()["klant_aanmaken"] < 30:
            stop.wait(0.005)
        df_sandbox.fail_next("klant_aanmaken", "timeout")

    switcher = threading.Thread(target=time_out_once_several_are_in_flight, daemon=True)
    switcher.start()

    # when
    try:
        run = run_sync(df)
    finally:
        stop.set()
        switcher.join(5)

    # then
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    changes = limit_changes(caplog)
    assert any(was > 1 and now == 1 and after == "Timeout" for was, now, after in changes), (
        changes)
    created = sorted(k["relatienummer"] for k in df_sandbox.klanten())
    assert created == [f"18{n:02d}" for n in range(60)]
    assert sorted(DfLink.objects.values_list("number", flat=True)) == created
    assert run.counts == {"export": {"aangemaakt": 60}}
    messages = SyncEvent.objects.filter(run=run).values_list("message", flat=True)
    assert sum("teruggevonden" in message for message in messages) == 1
