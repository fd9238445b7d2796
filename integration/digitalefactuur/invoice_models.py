"""The local copy of a relation's open DigitaleFactuur invoices (invoices.py keeps it).

One row per invoice DigitaleFactuur showed open for a klant linked to a relation (`DfLink`):
its id in DigitaleFactuur (text, unique), the relation, the number as shown (voorloop included),
the dates, direct debit, the amount computed from its lines (`invoice_schema`, "berekend"), and a
fingerprint of all of that, so an invoice read again unchanged costs no write. An invoice the
read no longer sees open stays, marked paid (`betaald`) with the moment of that read.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Invoice(models.Model):
    class Status(models.TextChoices):
        OPEN = "openstaand", _("openstaand")
        PAID = "betaald", _("betaald")

    relation = models.ForeignKey("crm.Relation", verbose_name=_("relatie"),
                                 on_delete=models.CASCADE,
                                 related_name="digitalefactuur_invoices")
    df_id = models.CharField(_("id in DigitaleFactuur"), max_length=40, unique=True)
    klant_id = models.CharField(_("klant-id in DigitaleFactuur"), max_length=40)
    number = models.CharField(_("factuurnummer"), max_length=80, blank=True)
    invoice_date = models.DateField(_("factuurdatum"), null=True, blank=True)
    due_date = models.DateField(_("vervaldatum"), null=True, blank=True)
    direct_debit = models.BooleanField(_("automatische incasso"), default=False)
    #: Computed from the lines (quantity x price x (1 + VAT), cents half up), never read.
    amount = models.DecimalField(_("bedrag incl. btw (berekend)"), max_digits=14,
                                 decimal_places=2)
    status = models.CharField(_("betaalstatus"), max_length=12, choices=Status.choices,
                              default=Status.OPEN)
    fingerprint = models.CharField(_("vingerafdruk"), max_length=64)
    first_seen_at = models.DateTimeField(_("eerst gelezen"), default=timezone.now)
    #: The read that no longer saw it open.
    paid_seen_at = models.DateTimeField(_("betaald gezien"), null=True, blank=True)

    class Meta:
        verbose_name = _("factuur")
        verbose_name_plural = _("facturen")
        # Shown through the relation's page and the Digitale Factuur right, not model rights.
        default_permissions = ()
        indexes = [models.Index(fields=["relation", "status"], name="df_invoice_relation_status"),
                   models.Index(fields=["status", "due_date"], name="df_invoice_status_due")]

    def __str__(self) -> str:
        return self.number or self.df_id
