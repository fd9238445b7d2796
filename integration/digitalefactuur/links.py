"""The binding between a CRM relation and a DigitaleFactuur klant, and the pushes waiting to go.

`DfLink` is one row per (relation, kind): a relation with a Debiteurnummer and a Crediteurnummer
is two klanten, so two links. Both ends are unique: one link per relation and kind, one link per
DigitaleFactuur id (kept as text: it is their identifier, not ours).

The link remembers the last agreement of both sides as TWO fingerprints (mapping.fingerprint),
which is what makes an unchanged record free and a conflict detectable (DESIGN.md, "Deciding
what changed: a three-way comparison"):

- `sent_fingerprint`: the relation as mapped for export (`to_klant`) at the last sync;
  the CRM has changed when its export shape no longer has this fingerprint;
- `received_fingerprint`: DigitaleFactuur's klant as last read or as answered to our write;
  DigitaleFactuur has changed when the klant it lists no longer has this fingerprint.

One shared fingerprint would not do: conversions are lossy (an unknown country is written to the
CRM as empty; a value the CRM cannot hold stays in DigitaleFactuur), so after an import the CRM's
export shape and the klant can differ for good, and one fingerprint would make that record look
changed on one side at every run. Each side compared with its own last state is exact.

Beside each fingerprint the link keeps a raw hash (`mapping.raw_klant_hash`,
`mapping.raw_relation_hash`) of the very values that fingerprint was computed from, unmapped: an
equal raw hash proves an equal fingerprint without canonicalising anything, which is what makes
a resync of unchanged records cheap. An empty raw hash is "unknown" (links from before the field,
a conflict linked without an agreed CRM side): the fingerprints decide.

`last_payload` is the klant as last agreed (customer data, never credentials): the base the log's
field diff and a conflict's losing values are computed from. `source` is the klant as last read,
whole (every element in its order, the ones we do not map and nested ones included), with
`source_hash` its raw hash: an update sends the klant as last read with only our fields changed,
so nothing DigitaleFactuur holds beyond our mapping is ever cleared (see `schema.klant_to_xml`).
Every full read refreshes it where it changed, before the export may use it.

`PendingPush` is the change listener's coalescing row: one per relation saved since the last push.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .schema import FIELD_NAMES, DfKlant, elements_json, klant_from_elements


class DfLink(models.Model):
    class Kind(models.TextChoices):
        DEBTOR = "debtor", _("debiteur")
        CREDITOR = "creditor", _("crediteur")

    relation = models.ForeignKey("crm.Relation", verbose_name=_("relatie"),
                                 on_delete=models.CASCADE, related_name="digitalefactuur_links")
    kind = models.CharField(_("soort"), max_length=8, choices=Kind.choices)
    df_id = models.CharField(_("id in DigitaleFactuur"), max_length=40, unique=True)
    number = models.CharField(_("relatienummer"), max_length=40, blank=True)
    sent_fingerprint = models.CharField(_("vingerafdruk verzonden"), max_length=64, blank=True)
    received_fingerprint = models.CharField(_("vingerafdruk ontvangen"), max_length=64,
                                            blank=True)
    received_raw_hash = models.CharField(_("ruwe vingerafdruk ontvangen"), max_length=32,
                                         blank=True)
    relation_raw_hash = models.CharField(_("ruwe vingerafdruk relatie"), max_length=32,
                                         blank=True)
    last_payload = models.JSONField(_("laatst geziene klant"), default=dict, blank=True)
    source = models.JSONField(_("klant zoals laatst gelezen"), default=list, blank=True)
    source_hash = models.CharField(_("ruwe vingerafdruk gelezen klant"), max_length=32,
                                   blank=True)
    synced_at = models.DateTimeField(_("laatst gesynchroniseerd"), default=timezone.now)

    class Meta:
        verbose_name = _("koppeling met DigitaleFactuur")
        verbose_name_plural = _("koppelingen met DigitaleFactuur")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["relation", "kind"],
                                    name="digitalefactuur_link_relation_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.number} <-> {self.df_id}"

    @property
    def last_klant(self) -> DfKlant:
        """`last_payload` as a DfKlant (unknown keys ignored)."""
        return klant_from_payload(self.last_payload)


    @property
    def source_klant(self) -> DfKlant | None:
        """The klant as last read, whole (None when no source was kept yet)."""
        return source_klant(self.df_id, self.source, self.source_hash)


def source_klant(df_id: str, source, source_hash: str) -> DfKlant | None:
    if not source_hash:
        return None
    return klant_from_elements(df_id, source)


def source_fields(klant: DfKlant, raw_hash: str) -> dict:
    """The link fields that keep `klant` as the copy an update passes back."""
    return {"source": elements_json(klant), "source_hash": raw_hash}


def klant_from_payload(payload: dict | None) -> DfKlant:
    """A `last_payload` as a DfKlant (unknown keys ignored; nothing stored: an empty klant)."""
    payload = payload or {}
    return DfKlant(**{name: str(payload[name]) for name in FIELD_NAMES if name in payload})


def klant_payload(klant: DfKlant) -> dict[str, str]:
    """The klant as JSON for `last_payload`: the non-empty elements only (small rows)."""
    return {name: getattr(klant, name) for name in FIELD_NAMES if getattr(klant, name)}


class PendingPush(models.Model):
    """A relation saved in the CRM and not pushed yet; the row is the debounce.

    Upserted on every save (`requested_at` moves on); a push task is queued only when the row is
    new, or when its task was queued so long ago that it must have been lost (`queued_at`).
    """

    # CASCADE: a relation deleted before its push has nothing left to push.
    relation = models.OneToOneField("crm.Relation", verbose_name=_("relatie"),
                                    on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField(_("laatst gewijzigd"), default=timezone.now)
    queued_at = models.DateTimeField(_("taak aangemaakt"), default=timezone.now)

    class Meta:
        verbose_name = _("wachtende wijziging")
        verbose_name_plural = _("wachtende wijzigingen")
        default_permissions = ()

    def __str__(self) -> str:
        return f"relatie {self.relation_id}"
