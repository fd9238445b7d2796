"""Facturen: every full run reads the open invoices into the CRM, under every reading.

The sandbox is the real server; the run is the engine's (`sync.run`), so the invoice read is
exercised exactly where it hooks in: after the import and the export.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integration.connectors.models import SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur.invoice_models import Invoice
from integration.digitalefactuur.invoices import relation_summary
from integration.digitalefactuur.models import DigitaleFactuurSettings

pytestmark = pytest.mark.django_db

KLANT = {"relatienummer": "1001", "type": "debiteur", "naam": "Bakkerij De Korenaar B.V.",
         "adres": "Haagweg 4", "postcode": "2311 AA", "plaats": "Leiden", "land": "Nederland"}


def days_ago(days: int) -> object:
    return timezone.localdate() - timedelta(days=days)


def dutch(day) -> str:
    return day.strftime("%d-%m-%Y")


def plant(sandbox, klant_id, number, *, status="openstaand", issued=30, due=14,
          iso=True, regels=None, **extra):
    issue_day, due_day = days_ago(issued), days_ago(issued - due)
    fmt = (lambda d: d.isoformat()) if iso else dutch
    extra.setdefault("automatische_incasso", "0")
    return sandbox.add_factuur(
        klant_id, regels=regels or [{"aantal": "1", "omschrijving": "Advies",
                                     "prijs": "100.00", "btw": "0.210"}],
        betaalstatus=status, factuurnummer=number, factuurnummer_voorloop="F",
        factuurdatum=fmt(issue_day), vervaldatum=fmt(due_day), **extra)


@pytest.fixture
def invoices_on(configure, df_sandbox):
    """A klant in the sandbox, the connector importing debtors with Facturen on."""
    klant = df_sandbox.add_klant(**KLANT)
    df = configure(debtors="organisation", creditors=False, show_open_invoices=True)
    return df, klant


def the_relation() -> Relation:
    return Relation.objects.get(debtor_number="1001")


def test_open_invoices_arrive_on_the_relation_with_dates_in_both_formats(invoices_on, df_sandbox,
                                                                         run_sync):
    # given: one invoice with ISO dates, one with Dutch dates, one paid
    df, klant = invoices_on
    plant(df_sandbox, klant["id"], "1", issued=40, due=14, iso=True)
    plant(df_sandbox, klant["id"], "2", issued=10, due=30, iso=False, automatische_incasso="1")
    plant(df_sandbox, klant["id"], "3", status="betaald")

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    stored = {i.number: i for i in Invoice.objects.filter(relation=the_relation())}
    assert set(stored) == {"F1", "F2"}
    assert stored["F1"].invoice_date == days_ago(40)
    assert stored["F1"].due_date == days_ago(26)
    assert stored["F2"].invoice_date == days_ago(10)
    assert stored["F2"].due_date == days_ago(-20)
    assert stored["F2"].direct_debit is True and stored["F1"].direct_debit is False
    assert run.counts["facturen"] == {"gelezen": 2, "nieuw": 2, "gewijzigd": 0, "betaald": 0}


def test_vat_as_fraction_and_as_percentage_give_the_same_amount_rounded_per_line(
        invoices_on, df_sandbox, run_sync):
    # given: 3 x 9.99 at 21 % = 36.2637 -> 36.26; 1 x 0.125 at 9 % = 0.13625 -> 0.14
    df, klant = invoices_on
    lines = lambda vat21, vat9: [  # noqa: E731
        {"aantal": "3", "omschrijving": "Boeken", "prijs": "9.99", "btw": vat21},
        {"aantal": "1", "omschrijving": "Porto", "prijs": "0,125", "btw": vat9}]
    plant(df_sandbox, klant["id"], "10", regels=lines("0.210", "0.090"))
    plant(df_sandbox, klant["id"], "11", regels=lines("21", "9"))

    # when
    run_sync(df)

    # then
    amounts = dict(Invoice.objects.values_list("number", "amount"))
    assert amounts == {"F10": Decimal("36.40"), "F11": Decimal("36.40")}


def test_a_credit_note_lowers_the_open_total(invoices_on, df_sandbox, run_sync):
    # given
    df, klant = invoices_on
    plant(df_sandbox, klant["id"], "20", issued=50, due=14)  # 121.00, 36 days overdue
    plant(df_sandbox, klant["id"], "21", issued=5, due=14, regels=[
        {"aantal": "1", "omschrijving": "Creditering", "prijs": "-49.95", "btw": "21"}])

    # when
    run_sync(df)

    # then
    summary = relation_summary(the_relation().pk)
    assert summary["total"] == Decimal("121.00") + Decimal("-60.44")
    buckets = {b["key"]: b["amount"] for b in summary["buckets"]}
    assert buckets["31_60"] == Decimal("121.00")
    assert buckets["not_due"] == Decimal("-60.44")


def test_an_invoice_paid_between_two_runs_is_marked_paid(invoices_on, df_sandbox, run_sync):
    # given
    df, klant = invoices_on
    paid_later = plant(df_sandbox, klant["id"], "30")
    plant(df_sandbox, klant["id"], "31")
    run_sync(df)

    # when
    df_sandbox.update_factuur(paid_later["id"], betaalstatus="betaald")
    run = run_sync(df)

    # then
    invoice = Invoice.objects.get(df_id=str(paid_later["id"]))
    assert invoice.status == Invoice.Status.PAID and invoice.paid_seen_at is not None
    assert run.counts["facturen"]["betaald"] == 1
    assert [row["invoice"].number for row in relation_summary(the_relation().pk)["invoices"]] \
        == ["F31"]


def test_an_invoice_of_a_klant_without_link_is_ignored(invoices_on, df_sandbox, run_sync):
    # given: a creditor klant, whose import is off: it gets no relation and no link
    df, klant = invoices_on
    stranger = df_sandbox.add_klant(relatienummer="2005", type="crediteur", naam="Ander B.V.")
    plant(df_sandbox, stranger["id"], "40")
    plant(df_sandbox, klant["id"], "41")

    # when
    run = run_sync(df)

    # then
    assert list(Invoice.objects.values_list("number", flat=True)) == ["F41"]
    assert run.status == SyncRun.Status.SUCCEEDED


@pytest.mark.parametrize("readings", [
    {"listing": "unpaged"},
    {"listing": "repeat_last", "page_size": 2},
    {"listing": "paged", "page_size": 1},
    {"number_filter": "ignored", "page_size": 2},
    {"number_filter": "ignored", "listing": "unpaged", "documents": "wild"},
    {"documents": "wild", "page_size": 3},
], ids=lambda r: ",".join(f"{k}={v}" for k, v in r.items()))
def test_every_reading_gives_the_same_open_invoices(invoices_on, df_sandbox, run_sync, readings):
    # given: paging and filters played as this reading says; paid invoices in between
    df, klant = invoices_on
    for number in range(1, 8):
        plant(df_sandbox, klant["id"], str(number), iso=number % 2 == 0,
              status="betaald" if number % 3 == 0 else "openstaand",
              regels=[{"aantal": "2", "omschrijving": "Uren é & <b>", "prijs": "50",
                       "btw": "21" if number % 2 else "0.21"}])
    df_sandbox.set_readings(**readings)

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    stored = dict(Invoice.objects.values_list("number", "amount"))
    assert stored == {f"F{n}": Decimal("121.00") for n in (1, 2, 4, 5, 7)}


def test_a_second_read_of_unchanged_invoices_writes_no_invoice(invoices_on, df_sandbox,
                                                                run_sync):
    # given
    df, klant = invoices_on
    for number in range(5):
        plant(df_sandbox, klant["id"], str(number))
    run_sync(df)

    # when
    with CaptureQueriesContext(connection) as queries:
        run = run_sync(df)

    # then
    invoice_table = Invoice._meta.db_table
    writes = [q["sql"] for q in queries.captured_queries
              if invoice_table in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")]
    assert writes == []
    assert run.counts["facturen"] == {"gelezen": 5, "nieuw": 0, "gewijzigd": 0, "betaald": 0}


def test_a_failed_invoice_read_leaves_the_run_and_the_invoices_alone(invoices_on, df_sandbox,
                                                                     run_sync):
    # given: a first read succeeded
    df, klant = invoices_on
    plant(df_sandbox, klant["id"], "50")
    run_sync(df)
    read_at = DigitaleFactuurSettings.load().invoices_read_at

    # when: the invoice list cannot be read at all
    df_sandbox.update_factuur(int(Invoice.objects.get().df_id), betaalstatus="betaald")
    df_sandbox.fail_next("facturen", "error", count=10)
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.SUCCEEDED
    assert "niet bijgewerkt" in run.message
    assert run.counts["facturen"] == {"niet bijgewerkt": 1}
    assert Invoice.objects.get().status == Invoice.Status.OPEN
    state = relation_summary(the_relation().pk)["state"]
    assert state.stale and state.read_at == read_at


def test_nothing_is_read_while_the_option_is_off(configure, df_sandbox, run_sync):
    # given
    klant = df_sandbox.add_klant(**KLANT)
    plant(df_sandbox, klant["id"], "60")
    df = configure(debtors="organisation", creditors=False)
    df_sandbox.reset_counters()

    # when
    run = run_sync(df)

    # then
    assert "facturen" not in run.counts
    assert not Invoice.objects.exists()
    assert df_sandbox.counters()["facturen"] == 0


def test_generated_demo_invoices_are_read_for_the_seeded_debtors(configure, df_sandbox,
                                                                 run_sync):
    # given: the demo's klanten with their generated invoices
    df_sandbox.seed(12)
    assert df_sandbox.generate_facturen() > 0
    df = configure(debtors="organisation", creditors="organisation", show_open_invoices=True)

    # when
    run = run_sync(df)

    # then
    open_in_sandbox = {str(f["id"]) for f in df_sandbox.facturen()
                       if f["betaalstatus"] == "openstaand"}
    linked = set(Invoice.objects.values_list("df_id", flat=True))
    assert linked and linked <= open_in_sandbox
    assert run.counts["facturen"]["gelezen"] == len(linked)
    assert Invoice.objects.filter(amount__lt=0).exists()  # a credit note
