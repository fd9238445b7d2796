"""Relations (organisations and persons) with the fields the connectors map.

Field names follow PerfectView's screens: the tab and group each field sits in is in its help
text and in the admin's fieldsets. Addresses are four blocks of the same shape (visiting, postal,
invoice, private); a country is an ISO 3166 code (django-countries).
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from . import validation


class RelationType(models.Model):
    """A value of the pick list "relatietype" (Klant, Leverancier, Prospect, ...)."""

    name = models.CharField(_("naam"), max_length=60, unique=True)
    position = models.PositiveSmallIntegerField(_("volgorde"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("relatietype")
        verbose_name_plural = _("relatietypen")

    def __str__(self) -> str:
        # The default types are translated on display; the ones an administrator adds are
        # shown as typed (a name that happens to be a msgid of ours is one of the defaults).
        from .apps import DEFAULT_RELATION_TYPES

        return gettext(self.name) if self.name in DEFAULT_RELATION_TYPES else self.name


class Relation(models.Model):
    class Kind(models.TextChoices):
        ORGANISATION = "organisation", _("Organisatie")
        PERSON = "person", _("Persoon")

    kind = models.CharField(_("soort"), max_length=12, choices=Kind.choices,
                            default=Kind.ORGANISATION)
    relation_type = models.ForeignKey(
        RelationType, verbose_name=_("relatietype"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="relations",
    )

    # Gegevens
    organisation_name = models.CharField(_("organisatienaam"), max_length=100, blank=True)
    first_name = models.CharField(_("voornaam"), max_length=60, blank=True)
    surname_prefix = models.CharField(_("tussenvoegsel"), max_length=20, blank=True)
    surname = models.CharField(_("achternaam"), max_length=100, blank=True)

    # Communicatie
    email = models.EmailField(_("e-mailadres"), blank=True)
    phone = models.CharField(_("telefoonnummer"), max_length=30, blank=True)
    fax = models.CharField(_("fax"), max_length=30, blank=True)
    visiting_street = models.CharField(_("straat"), max_length=100, blank=True)
    visiting_postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    visiting_city = models.CharField(_("plaats"), max_length=60, blank=True)
    visiting_country = CountryField(_("land"), blank=True)
    postal_street = models.CharField(_("straat"), max_length=100, blank=True)
    postal_postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    postal_city = models.CharField(_("plaats"), max_length=60, blank=True)
    postal_country = CountryField(_("land"), blank=True)

    # Financieel
    invoice_street = models.CharField(_("straat"), max_length=100, blank=True)
    invoice_postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    invoice_city = models.CharField(_("plaats"), max_length=60, blank=True)
    invoice_country = CountryField(_("land"), blank=True)
    debtor_number = models.CharField(_("debiteurnummer"), max_length=20, blank=True,
                                     validators=[validation.validate_number])
    creditor_number = models.CharField(_("crediteurnummer"), max_length=20, blank=True,
                                       validators=[validation.validate_number])
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    vat_number = models.CharField(_("btw-nummer"), max_length=20, blank=True)

    # Privé adres
    private_street = models.CharField(_("straat"), max_length=100, blank=True)
    private_postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    private_city = models.CharField(_("plaats"), max_length=60, blank=True)
    private_country = CountryField(_("land"), blank=True)
    private_fax = models.CharField(_("fax"), max_length=30, blank=True)

    # Overige - Identificatie
    coc_number = models.CharField(_("KvK-nummer"), max_length=20, blank=True,
                                  help_text=_("Overige – Identificatie – Nummer"))

    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)
    updated_at = models.DateTimeField(_("gewijzigd"), auto_now=True, db_index=True)

    class Meta:
        ordering = ["organisation_name", "surname", "id"]
        verbose_name = _("relatie")
        verbose_name_plural = _("relaties")
        constraints = [
            models.UniqueConstraint(
                fields=["debtor_number"], condition=~Q(debtor_number=""),
                name="crm_relation_unique_debtor_number",
                violation_error_message=_("Dit debiteurnummer is al in gebruik bij een andere "
                                          "relatie."),
            ),
            models.UniqueConstraint(
                fields=["creditor_number"], condition=~Q(creditor_number=""),
                name="crm_relation_unique_creditor_number",
                violation_error_message=_("Dit crediteurnummer is al in gebruik bij een andere "
                                          "relatie."),
            ),
        ]

    def __str__(self) -> str:
        # str(): a lazy translation is not a str, and Python refuses it from __str__.
        return self.display_name or str(_("(naamloos)"))

    @property
    def display_name(self) -> str:
        if self.kind == self.Kind.ORGANISATION:
            return self.organisation_name
        return " ".join(p for p in (self.first_name, self.surname_prefix, self.surname) if p)

    def clean(self) -> None:
        """Normalise what a person typed, and refuse what is wrong with a message per field."""
        errors: dict[str, ValidationError] = {}
        for field in self._meta.get_fields():
            # A field with choices (kind, the countries) only takes one of them.
            if isinstance(field, models.CharField | models.TextField) and field.editable \
                    and not field.choices:
                value = getattr(self, field.attname) or ""
                found = validation.control_characters(
                    value, multiline=isinstance(field, models.TextField))
                if found:
                    errors[field.name] = ValidationError(
                        _("Dit veld bevat onzichtbare besturingstekens (%(characters)s); typ "
                          "de waarde opnieuw of plak haar als platte tekst.")
                        % {"characters": ", ".join(found)}, code="control_characters")
        # Not code="required": a ModelForm replaces a message of that code by its field's
        # generic "Dit veld is verplicht.", which does not say that the kind asks for it.
        if self.kind == self.Kind.ORGANISATION and not self.organisation_name.strip():
            errors["organisation_name"] = ValidationError(
                _("Vul de organisatienaam in."), code="name_required")
        if self.kind == self.Kind.PERSON and not self.surname.strip():
            errors["surname"] = ValidationError(_("Vul de achternaam in."),
                                                code="surname_required")

        normalisers = {
            "iban": validation.normalise_iban,
            "bic": validation.normalise_bic,
            "vat_number": validation.normalise_vat,
        }
        for field, normalise in normalisers.items():
            value = getattr(self, field).strip()
            if value and field not in errors:
                try:
                    setattr(self, field, normalise(value))
                except ValidationError as exc:
                    errors[field] = exc
        for block in ("visiting", "postal", "invoice", "private"):
            field = f"{block}_postcode"
            value = getattr(self, field).strip()
            if value and field not in errors:
                try:
                    country = str(getattr(self, f"{block}_country") or "")
                    setattr(self, field, validation.normalise_postcode(value, country))
                except ValidationError as exc:
                    errors[field] = exc
        if errors:
            raise ValidationError(errors)
