"""Models of the connectors app.

`Koppelingen` is not data: it is an unmanaged, table-less model whose only purpose is an entry
"Koppelingen" in the admin's index and side menu (see admin.py), the way the admin lists its
pages, without overriding the admin's shared index template.

The sync log (`SyncRun`, `SyncEvent`) and the one-run-at-a-time lock (`RunLock`) are shared by
every connector: a run is named by its connector's key ("digitalefactuur").
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class _NoRows(models.Manager):
    """Every query of a table-less model is empty, answered without asking the database.

    The admin's "view on site" (`/admin/r/<content type>/<id>/`) and anything else that looks an
    object up by content type use the base manager: through this one they find nothing (404)
    instead of querying a table that does not exist.
    """

    def get_queryset(self):
        return super().get_queryset().none()


class Koppelingen(models.Model):
    objects = _NoRows()

    class Meta:
        managed = False
        base_manager_name = "objects"
        default_permissions = ()
        verbose_name = _("Koppelingen")
        verbose_name_plural = _("Koppelingen")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


# --- the sync log ------------------------------------------------------------------------------
# A run and the records it touched, the way a delivery log keeps deliveries and their attempts.
# An unchanged record is counted in its run's `counts` but gets NO event row: a no-op resync of
# 100,000 records must cost the database nothing beyond the run record itself, and "ongewijzigd"
# rows would drown the records that did change. `SyncEvent.Action.UNCHANGED` is still used for
# the rare unchanged record worth telling about (a relation linked to a klant that already held
# its values), and by dry runs, which write nothing anyway.


class SyncRun(models.Model):
    class Trigger(models.TextChoices):
        SCHEDULED = "gepland", _("gepland")
        MANUAL = "handmatig", _("handmatig")
        CHANGE = "wijziging", _("wijziging")
        CLI = "cli", _("opdrachtregel")

    class Status(models.TextChoices):
        QUEUED = "wachtrij", _("in de wachtrij")
        RUNNING = "bezig", _("bezig")
        SUCCEEDED = "geslaagd", _("geslaagd")
        WITH_ERRORS = "met_fouten", _("met fouten")
        FAILED = "mislukt", _("mislukt")
        SKIPPED = "overgeslagen", _("overgeslagen")
        # Its worker died (or lost the lock) mid-run; found out by the next run that took over.
        ABORTED = "afgebroken", _("afgebroken")

    #: Statuses of a run that has not finished yet.
    OPEN_STATUSES = (Status.QUEUED, Status.RUNNING)

    connector = models.CharField(_("koppeling"), max_length=40)
    trigger = models.CharField(_("aanleiding"), max_length=12, choices=Trigger.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices,
                              default=Status.QUEUED)
    dry_run = models.BooleanField(_("voorbeeld"), default=False)
    queued_at = models.DateTimeField(_("aangevraagd"), default=timezone.now)
    started_at = models.DateTimeField(_("gestart"), null=True, blank=True)
    finished_at = models.DateTimeField(_("klaar"), null=True, blank=True)
    message = models.TextField(_("melding"), blank=True)
    #: The message as codes with parameters, translated when shown (outcomes.py).
    message_parts = models.JSONField(_("melding (codes)"), default=list, blank=True)
    #: The technical cause, for support (redacted: never the access code); shown folded.
    detail = models.TextField(_("technische details"), blank=True)
    # What the progress page shows while the run is under way.
    phase = models.CharField(_("fase"), max_length=100, blank=True)
    processed = models.PositiveIntegerField(_("verwerkt"), default=0)
    # 0 while unknown (DigitaleFactuur does not say how many klanten there are).
    total = models.PositiveIntegerField(_("totaal"), default=0)
    #: Pages read so far by a phase that reads a list without knowing its total (0: none).
    pages = models.PositiveIntegerField(_("pagina's"), default=0)
    #: {direction: {action: n}}, e.g. {"import": {"aangemaakt": 3, "ongewijzigd": 97}}.
    counts = models.JSONField(_("aantallen"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("aangevraagd door"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("synchronisatierun")
        verbose_name_plural = _("synchronisatieruns")
        ordering = ["-queued_at", "-id"]
        indexes = [
            models.Index(fields=["-queued_at", "-id"], name="syncrun_queued_desc"),
            models.Index(fields=["-started_at"], name="syncrun_started_desc"),
            models.Index(fields=["status", "-queued_at"], name="syncrun_status"),
            models.Index(fields=["trigger", "-queued_at"], name="syncrun_trigger"),
            models.Index(fields=["connector", "status"], name="syncrun_connector_status"),
        ]

    def __str__(self) -> str:
        return f"{self.connector} #{self.pk} ({self.get_status_display()})"

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def shown_message(self) -> str:
        """The message in the reader's language (outcomes.py)."""
        from .outcomes import shown

        return shown(self.message, self.message_parts)

    def count(self, direction: str, action: str, n: int = 1) -> None:
        per_direction = self.counts.setdefault(direction, {})
        per_direction[action] = per_direction.get(action, 0) + n


class SyncEvent(models.Model):
    class Direction(models.TextChoices):
        # The log's own words; a connector names the other side itself (`Connector.directions`).
        IMPORT = "import", _("naar PerfectView")
        EXPORT = "export", _("vanuit PerfectView")

    class Action(models.TextChoices):
        CREATED = "aangemaakt", _("aangemaakt")
        UPDATED = "bijgewerkt", _("bijgewerkt")
        UNCHANGED = "ongewijzigd", _("ongewijzigd")
        SKIPPED = "overgeslagen", _("overgeslagen")
        ERROR = "fout", _("fout")
        CONFLICT = "conflict", _("conflict")

    run = models.ForeignKey(SyncRun, verbose_name=_("run"), on_delete=models.CASCADE,
                            related_name="events")
    direction = models.CharField(_("richting"), max_length=6, choices=Direction.choices)
    # SET_NULL: the log outlives a deleted relation.
    relation = models.ForeignKey("crm.Relation", verbose_name=_("relatie"), null=True,
                                 blank=True, on_delete=models.SET_NULL, related_name="+")
    #: The record's id in the connected system (a klant's id in DigitaleFactuur).
    external_id = models.CharField(_("externe id"), max_length=40, blank=True)
    #: The relation's or klant's name when the event was made (the relation may be gone, or
    #: never made: a skipped klant).
    name = models.CharField(_("naam"), max_length=200, blank=True)
    number = models.CharField(_("relatienummer"), max_length=40, blank=True)
    #: The connector's kind of record (a klant's "debtor" or "creditor"); its label comes from
    #: the connector's registration (`Connector.kinds`).
    kind = models.CharField(_("soort"), max_length=40, blank=True)
    action = models.CharField(_("actie"), max_length=12, choices=Action.choices)
    message = models.TextField(_("melding"), blank=True)
    #: The technical cause of a failure, for support (redacted); shown folded.
    detail = models.TextField(_("technische details"), blank=True)
    #: {field: [old, new]}: what the write changed (or would change, in a dry run).
    diff = models.JSONField(_("wijzigingen"), default=dict, blank=True)
    #: For a conflict: {field: value} on the side that lost (PerfectView wins).
    losing_values = models.JSONField(_("verloren waarden"), default=dict, blank=True)
    created_at = models.DateTimeField(_("tijdstip"), default=timezone.now)

    class Meta:
        verbose_name = _("synchronisatiegebeurtenis")
        verbose_name_plural = _("synchronisatiegebeurtenissen")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["run", "action", "id"], name="syncevent_run_action"),
            models.Index(fields=["run", "direction", "id"], name="syncevent_run_direction"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.number or self.external_id}: {self.action}"

    @property
    def shown_message(self) -> str:
        """The message in the reader's language where it is a known message as a whole."""
        from .outcomes import shown

        return shown(self.message)


class RunLock(models.Model):
    """One row per lock name; see locks.py for how it is taken, kept alive and given back."""

    name = models.CharField(_("naam"), max_length=60, unique=True)
    # "" while free; otherwise the random token of the holder (only it may heartbeat/release).
    holder = models.CharField(_("houder"), max_length=64, blank=True)
    acquired_at = models.DateTimeField(_("genomen"), null=True, blank=True)
    expires_at = models.DateTimeField(_("verloopt"), null=True, blank=True)

    class Meta:
        verbose_name = _("vergrendeling")
        verbose_name_plural = _("vergrendelingen")

    def __str__(self) -> str:
        return self.name
