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

The binder (the second half of this module, after OCA connector's `binder.py`) answers "which
klant is this relation?" for both phases: the one way a link's state is built for the plan
(`link_state`), the one way both sides are recorded as agreeing (`agree`, the fields it writes:
`AGREEMENT_FIELDS`), the links to drop because their relation lost its number (`stale_links`),
and the relations a change push has to send (`relations_to_push`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integration.crm.models import Relation

from .mapping import NUMBER_FIELD, fingerprint, raw_klant_hash, raw_relation_hash
from .plan import NO_KLANT, LinkState, export_state
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


# --- the binder -------------------------------------------------------------------------------

#: The link columns a `LinkState` is built from, in this order (values or a DfLink's attributes).
STATE_COLUMNS = ("id", "kind", "df_id", "sent_fingerprint", "received_fingerprint",
                 "received_raw_hash", "relation_raw_hash", "source_hash")

#: What `agree` writes on a link: an existing link is saved with these fields.
AGREEMENT_FIELDS = ["df_id", "number", "sent_fingerprint", "received_fingerprint",
                    "received_raw_hash", "relation_raw_hash", "last_payload", "synced_at",
                    "source", "source_hash"]

#: What a read that changes no agreement refreshes: the copy an update passes back.
COPY_FIELDS = ["source", "source_hash"]


def link_state(relation_id: int, columns: Sequence, last_klant: DfKlant | None = None
               ) -> LinkState:
    """A link as the plan sees it, from its STATE_COLUMNS values (the one way to build one)."""
    pk, kind, df_id, sent, received, received_raw, relation_raw, source_hash = columns
    return LinkState(relation_id=relation_id, kind=kind, df_id=df_id, sent_fingerprint=sent,
                     received_fingerprint=received, last_klant=last_klant or NO_KLANT, pk=pk,
                     received_raw_hash=received_raw, relation_raw_hash=relation_raw,
                     source_hash=source_hash)


def state_of(link: DfLink | None) -> LinkState | None:
    """A DfLink (or no link) as the plan sees it."""
    if link is None:
        return None
    return link_state(link.relation_id, [getattr(link, column) for column in STATE_COLUMNS],
                      link.last_klant)


def agree(link: DfLink, relation, number: str, klant: DfKlant, *, sent_fingerprint: str,
          received_fingerprint: str | None = None, now=None) -> DfLink:
    """Both sides agree now on `klant`: the link remembers what was sent and what
    DigitaleFactuur holds (AGREEMENT_FIELDS). An empty `sent_fingerprint` (a conflict linked by
    number) has no agreed CRM side, so its raw hash stays empty too."""
    raw = raw_klant_hash(klant)
    link.df_id = klant.id
    link.number = number
    link.sent_fingerprint = sent_fingerprint
    link.relation_raw_hash = (raw_relation_hash(relation, link.kind) if sent_fingerprint
                              else "")
    link.received_fingerprint = (fingerprint(klant, relation.kind)
                                 if received_fingerprint is None else received_fingerprint)
    link.received_raw_hash = raw
    link.last_payload = klant_payload(klant)
    for name, value in source_fields(klant, raw).items():
        setattr(link, name, value)
    link.synced_at = now or timezone.now()
    return link


def links_of(relation_ids: Iterable[int]) -> dict[tuple[int, str], DfLink]:
    """The links of these relations, by (relation id, kind)."""
    return {(link.relation_id, link.kind): link
            for link in DfLink.objects.filter(relation_id__in=relation_ids)}


def stale_links(relation_ids=None) -> QuerySet:
    """The links whose relation no longer carries that kind's number."""
    stale = DfLink.objects.none()
    for kind, number_field in NUMBER_FIELD.items():
        stale = stale | DfLink.objects.filter(kind=kind, **{f"relation__{number_field}": ""})
    if relation_ids is not None:
        stale = stale.filter(relation_id__in=relation_ids)
    return stale


def scope_types(df) -> list:
    """Bijwerken's scope: the relation types chosen (empty: every type)."""
    return list(df.push_relation_types.order_by("position", "name"))


def relations_to_push(relation_ids, df=None) -> list[int]:
    """Those of `relation_ids` whose export would do anything: a changed shape, no link yet, or
    a link to drop. A save that touched no mapped field, or a relation outside Bijwerken's
    scope, then costs no run at all."""
    links = links_of(relation_ids)
    wanted = []
    relations = Relation.objects.filter(pk__in=relation_ids)
    types = scope_types(df) if df is not None else []
    if types:
        relations = relations.filter(relation_type__in=types)
    for relation in relations.order_by("pk"):
        for kind, number_field in NUMBER_FIELD.items():
            link = links.get((relation.pk, kind))
            if getattr(relation, number_field).strip():
                changed = export_state(relation, kind, state_of(link))[2]
            else:
                changed = link is not None
            if changed:
                wanted.append(relation.pk)
                break
    return wanted
