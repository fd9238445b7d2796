"""The connector's health: what the settings screen, the Koppelingen tile and `status` show.

Not the last test, but the state an administrator living with the connector needs:

- the last contact with DigitaleFactuur, a test or a run, whichever is newer, and its outcome
  (a run that ended "geslaagd" or "met fouten" reached DigitaleFactuur; "mislukt" did not, or
  was refused); runs that never talked to DigitaleFactuur ("overgeslagen", "afgebroken") and
  previews are not contacts;
- the last run and the next scheduled one;
- the relations whose last sync failed: the newest event of each relation (previews excluded)
  is a "fout". Unchanged records write no event, and a failed record is tried again by every
  run until it succeeds (which writes an event), so the newest event is the record's state.

One function, `connector_health()`, computes it; `tile()` is the Koppelingen page's one-line
version (handed to the Koppelingen catalogue by apps.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from integration.connectors.models import SyncEvent, SyncRun

CONNECTOR = "digitalefactuur"
#: The query parameter of the relation list's filter (admin.py).
FAILED_FILTER_PARAMETER = "df_sync"
FAILED_FILTER_VALUE = "mislukt"

#: Levels, worst last: the tile's and the screen's colour.
OK, OFF, WARNING, FAILED = "ok", "off", "warning", "failed"

#: Statuses of a run that talked to DigitaleFactuur.
CONTACT_STATUSES = (SyncRun.Status.SUCCEEDED, SyncRun.Status.WITH_ERRORS, SyncRun.Status.FAILED)


@dataclass(frozen=True)
class Contact:
    at: datetime
    ok: bool
    #: The outcome's message in the reader's language, and its technical cause (for support).
    message: str
    #: The run, when the contact was a run; None for a test.
    run: SyncRun | None = None
    detail: str = ""

    @property
    def source(self) -> str:
        return _("run") if self.run is not None else _("test")


@dataclass(frozen=True)
class Health:
    level: str
    #: One line: what the tile shows and the screen's heading says.
    summary: str
    active: bool
    last_contact: Contact | None
    last_run: SyncRun | None
    next_run: datetime | None
    failed_relations: int
    failed_relations_url: str


def relations_whose_last_sync_failed():
    """The relations whose newest (non-preview) sync event is a failure."""
    from integration.crm.models import Relation

    events = SyncEvent.objects.filter(run__dry_run=False, run__connector=CONNECTOR)
    newest_action = (events.filter(relation=OuterRef("pk")).order_by("-id")
                     .values("action")[:1])
    ever_failed = (events.filter(action=SyncEvent.Action.ERROR, relation__isnull=False)
                   .values("relation_id"))
    return (Relation.objects.filter(pk__in=ever_failed)
            .annotate(df_last_action=Subquery(newest_action))
            .filter(df_last_action=SyncEvent.Action.ERROR))


def failed_relations_url() -> str:
    return (f"{reverse('admin:crm_relation_changelist')}"
            f"?{FAILED_FILTER_PARAMETER}={FAILED_FILTER_VALUE}")


def last_run() -> SyncRun | None:
    return (SyncRun.objects.filter(connector=CONNECTOR, dry_run=False)
            .exclude(status__in=SyncRun.OPEN_STATUSES).order_by("-queued_at", "-id").first())


def last_contact(df) -> Contact | None:
    run = (SyncRun.objects.filter(connector=CONNECTOR, dry_run=False,
                                  status__in=CONTACT_STATUSES, finished_at__isnull=False)
           .order_by("-finished_at", "-id").first())
    test = (Contact(df.last_test_at, bool(df.last_test_ok), df.last_test_shown,
                    detail=df.last_test_detail)
            if df is not None and df.last_test_at else None)
    by_run = (Contact(run.finished_at, run.status != SyncRun.Status.FAILED, run.shown_message,
                      run, detail=run.detail)
              if run is not None else None)
    candidates = [contact for contact in (test, by_run) if contact is not None]
    return max(candidates, key=lambda contact: contact.at) if candidates else None


def next_scheduled_run() -> datetime | None:
    from django_q.models import Schedule

    from .schedule import SCHEDULE_NAME

    return (Schedule.objects.filter(name=SCHEDULE_NAME).values_list("next_run", flat=True)
            .first())


def when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def connector_health(df=None) -> Health:
    from .models import SINGLETON_PK, DigitaleFactuurSettings

    if df is None:
        df = DigitaleFactuurSettings.objects.filter(pk=SINGLETON_PK).first()
    active = bool(df is not None and df.active)
    contact = last_contact(df)
    failed = relations_whose_last_sync_failed().count()
    level, summary = _verdict(df, active, contact, failed)
    return Health(level=level, summary=summary, active=active, last_contact=contact,
                  last_run=last_run(), next_run=next_scheduled_run() if active else None,
                  failed_relations=failed, failed_relations_url=failed_relations_url())


def _verdict(df, active: bool, contact: Contact | None, failed: int) -> tuple[str, str]:
    if not active:
        return OFF, _("Er wordt niet gesynchroniseerd: de koppeling staat uit.")
    if not df.options_unlocked:
        return WARNING, _("Actief, maar de koppeling is nog niet met succes getest: er wordt "
                          "niet gesynchroniseerd.")
    failed_text = ngettext("%(count)d relatie waarvan de laatste synchronisatie mislukte.",
                           "%(count)d relaties waarvan de laatste synchronisatie mislukte.",
                           failed) % {"count": failed}
    if contact is None:
        return (WARNING if failed else OK), _("Actief; nog geen contact met DigitaleFactuur.")
    if not contact.ok:
        return FAILED, _("Laatste contact met DigitaleFactuur (%(source)s, %(when)s) mislukt.") % {
            "source": contact.source, "when": when(contact.at)}
    reached = _("Laatste contact met DigitaleFactuur (%(source)s, %(when)s) geslaagd.") % {
        "source": contact.source, "when": when(contact.at)}
    if failed:
        return WARNING, f"{reached} {failed_text}"
    return OK, reached


def tile() -> tuple[str, str]:
    """(level, one line) for the Koppelingen tile."""
    health = connector_health()
    from .invoices import tile_line  # Facturen: what the last run read

    return health.level, " ".join(filter(None, [str(health.summary), tile_line(health.last_run)]))


def address() -> tuple[str, str]:
    """(the DigitaleFactuur address in use, which one it is: sandbox, real service or other)."""
    from django.conf import settings

    url = settings.DIGITALEFACTUUR_BASE_URL
    if url == settings.DIGITALEFACTUUR_SANDBOX_URL.rstrip("/"):
        return url, _("de sandbox")
    if url == settings.DIGITALEFACTUUR_PRODUCTION_URL:
        return url, _("de echte DigitaleFactuur")
    return url, _("een ander adres, ingesteld op de server")
