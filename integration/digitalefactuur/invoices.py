"""Facturen: the open DigitaleFactuur invoices of each relation, kept in the CRM.

With "openstaande facturen tonen in PerfectView" on, every full run (not a change push, not a
preview: `writers.DatabaseWriter.after_relations`) ends with one read of the open invoices
(`read_after_run`):

1. read `facturen&betaalstatus=openstaand` page by page (`client.iter_invoice_pages`); the
   filter may be ignored, so only invoices whose own `betaalstatus` says `openstaand` count, and
   paging may be ignored, so the list ends at a page that brings nothing new;
2. find each invoice's relation through its klant's link (`DfLink.df_id` = `klant_id`); an
   invoice of a klant without a link is not kept (there is no relation to show it on);
3. compare with the local copy by fingerprint: new -> created, different -> updated, the same
   -> no write; a stored open invoice the read no longer sees open -> marked paid (`betaald`)
   with the moment of that read; one whose klant lost its link -> removed;
4. remember the moment of the read on the settings row.

All writes of a read are one transaction, and only a complete read writes: a read that fails
halfway marks nothing paid. A failed read changes no invoice, keeps the moment of the last good
read (the screens then say "niet bijgewerkt sinds ..."), adds a note to the run's message and
never changes the run's status: the relation sync went as it went.

`relation_summary` gives the relation's page what it shows: the open invoices with their days
overdue, the total, the ageing buckets and the moment of the last read.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from integration.connectors import locks

from .errors import DigitaleFactuurError
from .invoice_schema import DfInvoice, InvoiceListing

logger = logging.getLogger(__name__)

#: The run's counts key and its actions (translated where the log shows them).
COUNTS_KEY = gettext_noop("facturen")
READ = gettext_noop("gelezen")
CREATED = gettext_noop("nieuw")
CHANGED = gettext_noop("gewijzigd")
PAID = gettext_noop("betaald")
NOT_UPDATED = gettext_noop("niet bijgewerkt")
WRITE_BATCH = 500

# (key, label, lowest days overdue, highest) ; None: no bound.
BUCKETS = [
    ("not_due", gettext_lazy("niet vervallen"), None, 0),
    ("1_30", gettext_lazy("1-30 dagen"), 1, 30),
    ("31_60", gettext_lazy("31-60 dagen"), 31, 60),
    ("61_90", gettext_lazy("61-90 dagen"), 61, 90),
    ("over_90", gettext_lazy("meer dan 90 dagen"), 91, None),
]


@dataclass
class ReadOutcome:
    read: int = 0
    created: int = 0
    changed: int = 0
    paid: int = 0
    removed: int = 0
    without_link: int = 0
    not_open: int = 0
    listing: InvoiceListing = field(default_factory=InvoiceListing)


def fingerprint(invoice: DfInvoice, relation_id: int) -> str:
    """What the screens show of an invoice, hashed: equal means no write."""
    shape = [relation_id, invoice.klant_id, invoice.number,
             invoice.invoice_date.isoformat() if invoice.invoice_date else "",
             invoice.due_date.isoformat() if invoice.due_date else "",
             invoice.direct_debit, str(invoice.amount)]
    return hashlib.sha256(json.dumps(shape, separators=(",", ":")).encode()).hexdigest()


# --- the read ------------------------------------------------------------------------------------

def read_after_run(ctx) -> None:
    """The end of a full run: read the open invoices when the option is on (see module doc).

    Never raises for DigitaleFactuur or for this read's own failure: the run's status is the
    relation sync's. A lost lock still ends the run as the engine expects."""
    df = ctx.settings
    if not getattr(df, "show_open_invoices", False) or ctx.relation_ids is not None:
        return
    try:
        outcome = refresh_open_invoices(ctx.client, beat=ctx.beat)
    except locks.LockLost:
        raise
    except DigitaleFactuurError as error:
        _record_failure(df, str(error))
        ctx.run.count(COUNTS_KEY, NOT_UPDATED)
        ctx.note(_("De openstaande facturen zijn niet bijgewerkt (%(error)s); de relaties tonen "
                   "de stand van de vorige lezing."), error=str(error))
        return
    except Exception:
        logger.exception("reading the open DigitaleFactuur invoices failed unexpectedly")
        _record_failure(df, _("onverwachte fout; zie het serverlog"))
        ctx.run.count(COUNTS_KEY, NOT_UPDATED)
        ctx.note(_("De openstaande facturen zijn niet bijgewerkt door een onverwachte fout."))
        return
    ctx.run.counts[COUNTS_KEY] = {READ: outcome.read, CREATED: outcome.created,
                                  CHANGED: outcome.changed, PAID: outcome.paid}
    if outcome.listing.unreadable:
        ctx.note(_("%(count)d factuur/facturen konden niet worden gelezen en zijn "
                   "overgeslagen."), count=outcome.listing.unreadable)


def _record_failure(df, reason: str) -> None:
    from .models import DigitaleFactuurSettings

    # update(), not save(): the settings' save keeps the schedule in step, which this is not.
    DigitaleFactuurSettings.objects.filter(pk=df.pk).update(
        invoices_failed_at=timezone.now(), invoices_failure=reason[:300])


def refresh_open_invoices(client, *, now: datetime | None = None, beat=None) -> ReadOutcome:
    """Read every open invoice and bring the local copy in step (see the module docstring)."""
    from .invoice_models import Invoice
    from .models import SINGLETON_PK, DfLink, DigitaleFactuurSettings

    now = now or timezone.now()
    outcome = ReadOutcome()
    relation_of = dict(DfLink.objects.values_list("df_id", "relation_id"))
    seen: dict[str, tuple[DfInvoice, int]] = {}
    unlinked: set[str] = set()
    for page in client.iter_invoice_pages(listing=outcome.listing):
        if beat is not None:
            beat()
        for invoice in page:
            if not invoice.is_open:  # the filter may have been ignored
                outcome.not_open += 1
                continue
            relation_id = relation_of.get(invoice.klant_id)
            if relation_id is None:
                outcome.without_link += 1
                unlinked.add(invoice.id)
                continue
            seen[invoice.id] = (invoice, relation_id)
    outcome.read = len(seen)

    stored = {df_id: (pk, print_, status) for pk, df_id, print_, status in
              Invoice.objects.values_list("pk", "df_id", "fingerprint", "status")}
    new_rows, changed_rows = [], []
    for df_id, (invoice, relation_id) in seen.items():
        print_ = fingerprint(invoice, relation_id)
        known = stored.get(df_id)
        if known is not None and known[1] == print_ and known[2] == Invoice.Status.OPEN:
            continue
        row = Invoice(df_id=df_id, relation_id=relation_id, klant_id=invoice.klant_id,
                      number=invoice.number[:80], invoice_date=invoice.invoice_date,
                      due_date=invoice.due_date, direct_debit=invoice.direct_debit,
                      amount=invoice.amount, status=Invoice.Status.OPEN, fingerprint=print_,
                      first_seen_at=now, paid_seen_at=None)
        if known is None:
            new_rows.append(row)
        else:
            row.pk = known[0]
            changed_rows.append(row)
    now_paid = [pk for df_id, (pk, _print, status) in stored.items()
                if status == Invoice.Status.OPEN and df_id not in seen and df_id not in unlinked]
    removed = [pk for df_id, (pk, _print, _status) in stored.items() if df_id in unlinked]

    with transaction.atomic():
        if new_rows:
            Invoice.objects.bulk_create(new_rows, batch_size=WRITE_BATCH)
        if changed_rows:
            Invoice.objects.bulk_update(
                changed_rows, ["relation", "klant_id", "number", "invoice_date", "due_date",
                               "direct_debit", "amount", "status", "fingerprint",
                               "paid_seen_at"], batch_size=WRITE_BATCH)
        for start in range(0, len(now_paid), WRITE_BATCH):
            Invoice.objects.filter(pk__in=now_paid[start:start + WRITE_BATCH]).update(
                status=Invoice.Status.PAID, paid_seen_at=now)
        for start in range(0, len(removed), WRITE_BATCH):
            Invoice.objects.filter(pk__in=removed[start:start + WRITE_BATCH]).delete()
        DigitaleFactuurSettings.objects.filter(pk=SINGLETON_PK).update(
            invoices_read_at=now, invoices_failure="")
    outcome.created, outcome.changed = len(new_rows), len(changed_rows)
    outcome.paid, outcome.removed = len(now_paid), len(removed)
    return outcome


# --- what the screens show ---------------------------------------------------------------------

def tile_line(last_run) -> str:
    """The Koppelingen tile's line on invoices: what the last run read, or since when not."""
    state = invoice_state()
    if not state.enabled:
        return ""
    if state.stale:
        if state.read_at is None:
            return _("Facturen: nog niet gelezen (de laatste lezing is mislukt).")
        return _("Facturen: niet bijgewerkt sinds %(when)s.") % {
            "when": timezone.localtime(state.read_at).strftime("%d-%m-%Y %H:%M")}
    counts = ((last_run.counts or {}).get(COUNTS_KEY) if last_run is not None else None) or {}
    if READ not in counts:
        return ""
    return _("Facturen: %(read)d openstaand gelezen, %(changed)d gewijzigd, %(paid)d betaald "
             "(laatste run).") % {"read": counts.get(READ, 0),
                                   "changed": counts.get(CREATED, 0) + counts.get(CHANGED, 0),
                                   "paid": counts.get(PAID, 0)}


def days_overdue(due: date | None, today: date) -> int | None:
    return None if due is None else (today - due).days


def bucket_of(days: int | None) -> str:
    """An invoice without a due date counts as not yet due (nothing says it is late)."""
    if days is None or days <= 0:
        return "not_due"
    for key, _label, low, high in BUCKETS[1:]:
        if days >= low and (high is None or days <= high):
            return key
    return "over_90"


@dataclass
class InvoiceState:
    """The read's state for the screens: when it last succeeded, whether the last one failed."""

    enabled: bool
    read_at: datetime | None
    failed_at: datetime | None
    failure: str

    @property
    def stale(self) -> bool:
        """The last read failed (after the last good one): "niet bijgewerkt sinds ..."."""
        return self.failed_at is not None and (self.read_at is None
                                               or self.failed_at > self.read_at)


def invoice_state() -> InvoiceState:
    from .models import SINGLETON_PK, DigitaleFactuurSettings

    row = (DigitaleFactuurSettings.objects.filter(pk=SINGLETON_PK)
           .values("show_open_invoices", "invoices_read_at", "invoices_failed_at",
                   "invoices_failure").first()) or {}
    return InvoiceState(bool(row.get("show_open_invoices")), row.get("invoices_read_at"),
                        row.get("invoices_failed_at"), row.get("invoices_failure") or "")


def relation_summary(relation_id: int, today: date | None = None) -> dict:
    """The relation's open invoices, total and ageing, for its page."""
    from .invoice_models import Invoice

    today = today or timezone.localdate()
    rows = []
    totals = {key: Decimal("0.00") for key, *_rest in BUCKETS}
    for invoice in (Invoice.objects.filter(relation_id=relation_id, status=Invoice.Status.OPEN)
                    .order_by("due_date", "number", "pk")):
        days = days_overdue(invoice.due_date, today)
        bucket = bucket_of(days)
        totals[bucket] += invoice.amount
        rows.append({"invoice": invoice, "days_overdue": days if days and days > 0 else 0,
                     "overdue": bool(days and days > 0), "bucket": bucket})
    return {
        "invoices": rows,
        "total": sum(totals.values(), Decimal("0.00")),
        "buckets": [{"key": key, "label": label, "amount": totals[key]}
                    for key, label, *_rest in BUCKETS],
        "state": invoice_state(),
    }


def open_total_subquery():
    """The relation's open amount, for annotating the relation list in one query."""
    from .invoice_models import Invoice

    return Subquery(Invoice.objects.filter(relation=OuterRef("pk"), status=Invoice.Status.OPEN)
                    .order_by().values("relation").annotate(total=Sum("amount"))
                    .values("total")[:1])


def relations_with_overdue_invoices(today: date | None = None):
    """Ids of relations with an open invoice past its due date and an amount to pay."""
    from .invoice_models import Invoice

    today = today or timezone.localdate()
    return (Invoice.objects.filter(status=Invoice.Status.OPEN, due_date__lt=today,
                                   amount__gt=0).values("relation_id"))
