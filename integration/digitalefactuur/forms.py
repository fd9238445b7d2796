"""The form of the "DigitaleFactuur koppeling" screen.

One form, as on the manual's screen: activation, the API credentials, and the options. The
options are disabled (rendered, never taken from the POST) while they are locked, and a POST
that carries them anyway is refused as a whole, so nothing is half saved.

The Toegangscode is a password input that is never filled back (STYLE.md, 11): left empty it
keeps the stored code; filled in, it is trimmed and replaces it, which locks the options when
it differs from the stored one.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from integration.crm.models import RelationType

from . import crypto
from .models import DigitaleFactuurSettings

CREDENTIAL_FIELDS = ("active", "account_id")
OPTION_FIELDS = (
    "debtors_enabled", "debtors_kind", "debtor_relation_type",
    "creditors_enabled", "creditors_kind", "creditor_relation_type",
    "push_enabled", "push_relation_types", "interval_minutes",
    "show_open_invoices",
)

LOCKED_REFUSAL = _(
    "De opties zijn niet opgeslagen: ze kunnen pas worden gewijzigd na een geslaagde test van de "
    "koppeling. Test eerst de koppeling."
)


class KoppelingForm(forms.ModelForm):
    access_code = forms.CharField(
        label=_("Toegangscode"), required=False, strip=True, max_length=200,
        # render_value=False: the stored code never travels back to the browser.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = DigitaleFactuurSettings
        fields = [*CREDENTIAL_FIELDS, *OPTION_FIELDS]
        labels = {
            "active": _("Koppeling activeren"),
            "debtors_enabled": _("aanmaken en bijwerken in PerfectView"),
            "creditors_enabled": _("aanmaken en bijwerken in PerfectView"),
            "push_enabled": _("DigitaleFactuur bijwerken vanuit PerfectView"),
            "push_relation_types": _("alleen relaties van deze relatietypen"),
            "interval_minutes": _("Synchroniseren"),
            "show_open_invoices": _("openstaande facturen tonen in PerfectView"),
        }
        widgets = {
            "account_id": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off",
                                                 "size": 12}),
            "push_relation_types": forms.CheckboxSelectMultiple,
            "debtors_kind": forms.RadioSelect,
            "creditors_kind": forms.RadioSelect,
        }

    def __init__(self, *args, testing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        #: True for "Koppeling testen": the credentials are then required even when inactive.
        self.testing = testing
        self.locked = not self.instance.options_unlocked
        for name in ("debtor_relation_type", "creditor_relation_type"):
            field = self.fields[name]
            field.queryset = RelationType.objects.all()
            field.empty_label = None
        scope = self.fields["push_relation_types"]
        scope.queryset = RelationType.objects.all()
        scope.help_text = _("Geen relatietype aangevinkt: relaties van elk type worden "
                            "bijgewerkt.")
        if self.locked:
            for name in OPTION_FIELDS:
                self.fields[name].disabled = True

    def clean_account_id(self) -> str:
        return (self.cleaned_data.get("account_id") or "").strip()

    def clean(self):
        cleaned = super().clean()
        if self.locked and any(name in self.data for name in OPTION_FIELDS):
            # A browser never sends disabled fields: this is another tab, a stale page or a
            # hand-made request. Refuse it whole rather than save the credentials alone.
            raise forms.ValidationError(LOCKED_REFUSAL, code="options_locked")
        needs_credentials = self.testing or cleaned.get("active")
        if needs_credentials and not cleaned.get("account_id") and "account_id" not in self.errors:
            self.add_error("account_id", forms.ValidationError(
                _("Vul het Account-id in. Je vindt het in DigitaleFactuur onder Bedrijf > "
                  "Instellingen > API."), code="required"))
        if needs_credentials and not cleaned.get("access_code") \
                and not self.instance.has_access_code:
            self.add_error("access_code", forms.ValidationError(
                _("Vul de toegangscode in. Je maakt hem aan in DigitaleFactuur onder Bedrijf > "
                  "Instellingen > API > Keys > Nieuwe API key."), code="required"))
        return cleaned

    def _post_clean(self):
        # construct_instance() copies the fields onto the instance; the code is not a model
        # field, so it is applied here, after validation succeeded and before anyone saves.
        super()._post_clean()
        if not self.errors:
            self._apply_access_code(self.cleaned_data.get("access_code", ""))

    def _apply_access_code(self, code: str) -> None:
        if not code:
            return  # empty keeps the stored code
        try:
            unchanged = self.instance.access_code == code
        except crypto.DecryptionError:
            unchanged = False
        if not unchanged:
            self.instance.set_access_code(code)
