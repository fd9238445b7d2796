"""The connector's settings: one row, as on the "DigitaleFactuur koppeling" screen.

`DigitaleFactuurSettings.load()` returns the single row (pk 1), creating it with the defaults of
the manual: nothing active, debtors and creditors as organisations, relation types Klant and
Leverancier, every hour.

The Toegangscode is stored as a Fernet token only (`crypto.py`). The options unlock after a
successful "Koppeling testen" and stay unlocked only while the account id and code are the ones
that were tested: the row keeps an HMAC of those credentials (`tested_fingerprint`), so any
change, through the screen, the CLI or the database, locks them again without anybody having to
remember to. Every save keeps the django-q2 schedule in step (`schedule.ensure_schedule`, a
`post_save` receiver in `listener.py`, so that this module imports nothing above it) in the same
transaction.

"Can the connector do this now?" has one answer, `refusal(purpose)`: "" when it can, otherwise
why not, in the words the screens, the CLI and the run log show.
"""

from __future__ import annotations

import enum

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from integration.crm.models import Relation, RelationType
from integration.crm.validation import is_ascii_number

from . import crypto

SINGLETON_PK = 1

#: `DigitaleFactuurSettings.refusal`'s answers (the first three are also a skipped run's message).
NOT_ACTIVE = _("De koppeling met DigitaleFactuur is niet actief.")
UNTESTED = _("De koppeling is nog niet (opnieuw) getest; test eerst de koppeling.")
NOTHING_CHOSEN = _("Er is niets te synchroniseren: zet Debiteuren, Crediteuren of Bijwerken aan.")
PUSH_OFF = _("Bijwerken (PerfectView → DigitaleFactuur) staat uit.")

# The field's validator as migrated. Its `\d` also takes other scripts' digits ("１０００１"),
# so `validate_account_id` (the form through `clean()`, the CLI) adds the ASCII rule.
account_id_validator = RegexValidator(
    r"^\d{1,20}$",
    _("Het Account-id bestaat alleen uit cijfers, bijvoorbeeld 10001. Je vindt het in "
      "DigitaleFactuur onder Bedrijf > Instellingen > API."),
    code="account_id",
)


def validate_account_id(value: str) -> None:
    """An Account-id is 1 to 20 ASCII digits; raises the field's Dutch ValidationError."""
    account_id_validator(value)
    if not is_ascii_number(value):
        raise ValidationError(account_id_validator.message, code=account_id_validator.code)


class Purpose(enum.StrEnum):
    """What the connector is asked to do, for `DigitaleFactuurSettings.refusal`."""

    #: Choose the options (debtors, creditors, Bijwerken): only after a successful test.
    OPTIONS = "options"
    #: Keep a schedule and let it fire: active and tested.
    SCHEDULE = "schedule"
    #: A run (full, scheduled, preview, from the CLI): active, tested, something chosen.
    RUN = "run"
    #: Send relations to DigitaleFactuur (a change push, a retry of failed exports):
    #: active, tested, Bijwerken on.
    PUSH = "push"


INTERVAL_CHOICES = [
    (15, _("elke 15 minuten")),
    (30, _("elke 30 minuten")),
    (60, _("elk uur")),
    (120, _("elke 2 uur")),
    (240, _("elke 4 uur")),
    (480, _("elke 8 uur")),
    (1440, _("elke 24 uur")),
]
DEFAULT_INTERVAL = 60

DEFAULT_DEBTOR_TYPE = "Klant"
DEFAULT_CREDITOR_TYPE = "Leverancier"


def _relation_type_named(name: str):
    return RelationType.objects.filter(name=name).first()


class DigitaleFactuurSettings(models.Model):
    active = models.BooleanField(_("Koppeling activeren"), default=False)
    account_id = models.CharField(_("Account-id"), max_length=20, blank=True,
                                  validators=[account_id_validator])
    # Ciphertext only; `access_code` decrypts it.
    access_code_encrypted = models.TextField(_("toegangscode (versleuteld)"), blank=True,
                                             editable=False)
    # HMAC of account id + code as they were when a test succeeded ("" = never / locked again).
    tested_fingerprint = models.CharField(max_length=64, blank=True, editable=False)

    last_test_at = models.DateTimeField(_("laatste test"), null=True, blank=True)
    last_test_ok = models.BooleanField(_("laatste test geslaagd"), null=True, blank=True)
    last_test_message = models.TextField(_("uitkomst laatste test"), blank=True)
    #: What the last successful "Koppeling testen" learned of the open points of the API
    #: (client.ApiReading): shown to the administrator and support; nothing depends on it.
    api_reading = models.JSONField(_("werkwijze van DigitaleFactuur"), default=dict,
                                   blank=True, editable=False)
    #: The outcome as codes with parameters and its technical cause, for showing it in the
    #: reader's language: {"parts": [{"code", "params"}], "detail": "..."} (connectors.outcomes).
    last_test_outcome = models.JSONField(_("uitkomst laatste test (codes)"), default=dict,
                                         blank=True)

    debtors_enabled = models.BooleanField(_("debiteuren aanmaken en bijwerken in PerfectView"),
                                          default=False)
    debtors_kind = models.CharField(_("debiteuren aanmaken als"), max_length=12,
                                    choices=Relation.Kind.choices,
                                    default=Relation.Kind.ORGANISATION)
    # PROTECT: a relation type in use by the connector cannot vanish from under it unnoticed.
    debtor_relation_type = models.ForeignKey(
        "crm.RelationType", verbose_name=_("relatietype debiteuren"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+")
    creditors_enabled = models.BooleanField(
        _("crediteuren aanmaken en bijwerken in PerfectView"), default=False)
    creditors_kind = models.CharField(_("crediteuren aanmaken als"), max_length=12,
                                      choices=Relation.Kind.choices,
                                      default=Relation.Kind.ORGANISATION)
    creditor_relation_type = models.ForeignKey(
        "crm.RelationType", verbose_name=_("relatietype crediteuren"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+")
    push_enabled = models.BooleanField(_("DigitaleFactuur bijwerken vanuit PerfectView"),
                                       default=False)
    #: Bijwerken's scope: only relations of these types go out (none chosen: every type).
    push_relation_types = models.ManyToManyField(
        "crm.RelationType", verbose_name=_("alleen relaties van deze relatietypen"), blank=True,
        related_name="+")
    interval_minutes = models.PositiveSmallIntegerField(
        _("synchroniseren"), choices=INTERVAL_CHOICES, default=DEFAULT_INTERVAL)

    #: Facturen (invoices.py): every full run reads the open invoices into the CRM.
    show_open_invoices = models.BooleanField(_("openstaande facturen tonen in PerfectView"),
                                             default=False)
    #: The last complete read of the open invoices, and the last failed one (with its reason).
    invoices_read_at = models.DateTimeField(null=True, blank=True, editable=False)
    invoices_failed_at = models.DateTimeField(null=True, blank=True, editable=False)
    invoices_failure = models.CharField(max_length=300, blank=True, editable=False)

    # The alerts' memory (alerts.py): the problem last mailed ("" = none open) and when.
    alert_problem = models.CharField(max_length=80, blank=True, editable=False)
    alert_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    updated_at = models.DateTimeField(_("gewijzigd"), auto_now=True)

    class Meta:
        verbose_name = _("DigitaleFactuur koppeling")
        verbose_name_plural = _("DigitaleFactuur koppeling")
        # Access goes through the Digitale Factuur right, not per-model permissions.
        default_permissions = ()
        constraints = [
            models.CheckConstraint(condition=Q(pk=SINGLETON_PK),
                                   name="digitalefactuur_settings_singleton"),
        ]

    def __str__(self) -> str:
        return str(_("DigitaleFactuur koppeling"))

    def save(self, *args, **kwargs) -> None:
        # One transaction for the row and its schedule (kept by a post_save receiver,
        # listener.settings_saved): they never disagree.
        self.pk = SINGLETON_PK
        with transaction.atomic():
            super().save(*args, **kwargs)

    def clean(self) -> None:
        # Only what the field's validator lets through (other scripts' digits): a value it
        # refuses already has its message, once.
        value = self.account_id
        if value and account_id_validator.regex.search(value) and not is_ascii_number(value):
            raise ValidationError({"account_id": ValidationError(
                account_id_validator.message, code=account_id_validator.code)})

    # --- the one row ---------------------------------------------------------------------------

    @classmethod
    def load(cls) -> DigitaleFactuurSettings:
        """The settings row, created with the manual's defaults on first use."""
        found = cls.objects.filter(pk=SINGLETON_PK).first()
        if found is not None:
            return found
        with transaction.atomic():
            found, _created = cls.objects.get_or_create(
                pk=SINGLETON_PK,
                defaults={
                    "debtor_relation_type": _relation_type_named(DEFAULT_DEBTOR_TYPE),
                    "creditor_relation_type": _relation_type_named(DEFAULT_CREDITOR_TYPE),
                })
        return found

    # --- the access code -----------------------------------------------------------------------

    @property
    def has_access_code(self) -> bool:
        return bool(self.access_code_encrypted)

    @property
    def access_code(self) -> str:
        """The plaintext code ("" when none is stored); raises crypto.DecryptionError."""
        if not self.access_code_encrypted:
            return ""
        return crypto.decrypt(self.access_code_encrypted)

    def set_access_code(self, code: str) -> None:
        """Store `code` (trimmed) encrypted, or remove it when empty; locks the options again."""
        code = (code or "").strip()
        self.access_code_encrypted = crypto.encrypt(code) if code else ""
        self.lock_options()

    def reencrypt(self) -> bool:
        """Encrypt the stored code again with the newest key; True when there was one."""
        if not self.access_code_encrypted:
            return False
        self.access_code_encrypted = crypto.rotate(self.access_code_encrypted)
        return True

    # --- the lock on the options ---------------------------------------------------------------

    def credentials_fingerprint(self) -> str:
        """HMAC (keyed by SECRET_KEY) of the current account id and code; "" when incomplete."""
        try:
            code = self.access_code
        except crypto.DecryptionError:
            return ""
        if not (self.account_id and code):
            return ""
        value = f"{self.account_id}\x00{code}"
        return salted_hmac("integration.digitalefactuur.credentials", value,
                           algorithm="sha256").hexdigest()

    @property
    def options_unlocked(self) -> bool:
        """True only while the account id and code are the ones of the last successful test."""
        if not self.tested_fingerprint:
            return False
        current = self.credentials_fingerprint()
        return bool(current) and constant_time_compare(current, self.tested_fingerprint)

    def lock_options(self) -> None:
        self.tested_fingerprint = ""

    # --- can it? -------------------------------------------------------------------------------

    @classmethod
    def ready(cls, settings_id: int, purpose: Purpose) -> tuple[DigitaleFactuurSettings | None,
                                                                  str]:
        """(the settings row re-read by id, why it cannot serve `purpose` now or "").

        A task takes the id and re-reads (STYLE.md, 9): a row deleted meanwhile is "not active".
        """
        found = cls.objects.filter(pk=settings_id).first()
        if found is None:
            return None, str(NOT_ACTIVE)
        return found, found.refusal(purpose)

    def refusal(self, purpose: Purpose = Purpose.RUN) -> str:
        """Why the connector cannot serve `purpose` now, in Dutch ("" when it can).

        The one rule behind every "may it?": the run, schedule, preview and retry buttons, the
        tasks, the change listener, the CLI, and the options on the settings screen.
        """
        if purpose is Purpose.OPTIONS:
            return self._options_lock_reason()
        if not self.active:
            return str(NOT_ACTIVE)
        if not self.options_unlocked:
            return str(UNTESTED)
        if purpose is Purpose.SCHEDULE:
            return ""
        if purpose is Purpose.PUSH and not self.push_enabled:
            return str(PUSH_OFF)
        if not (self.debtors_enabled or self.creditors_enabled or self.push_enabled):
            return str(NOTHING_CHOSEN)
        return ""

    def _options_lock_reason(self) -> str:
        if self.options_unlocked:
            return ""
        if not (self.account_id and self.has_access_code):
            return str(_("Vul het Account-id en de toegangscode in en test de koppeling; daarna "
                         "kun je deze opties kiezen."))
        if self.last_test_ok is None:
            return str(_("Test eerst de koppeling; na een geslaagde test kun je deze opties "
                         "kiezen."))
        if self.last_test_ok is False:
            return str(_("De laatste test van de koppeling is mislukt. Los het probleem op en "
                         "test de koppeling opnieuw; daarna kun je deze opties kiezen."))
        return str(_("Het Account-id of de toegangscode is gewijzigd sinds de laatste geslaagde "
                     "test. Test de koppeling opnieuw; daarna kun je deze opties weer kiezen."))

    def record_test(self, ok: bool, message: str, at, *, lock: bool = False,
                    parts=(), detail: str = "") -> None:
        """Remember a test's outcome; a success unlocks the options for these credentials.

        `lock=True` makes a failure lock them again. "Koppeling testen" never asks for that
        (connection.py): a failed test leaves a working connector as it was, and the next run
        reports whatever is really wrong.
        """
        self.last_test_at = at
        self.last_test_ok = ok
        self.last_test_message = message
        self.last_test_outcome = {"parts": list(parts), "detail": detail}
        if ok:
            self.tested_fingerprint = self.credentials_fingerprint()
        elif lock:
            self.tested_fingerprint = ""

    @property
    def last_test_shown(self) -> str:
        """The last test's message in the reader's language."""
        from integration.connectors.outcomes import dutch, shown

        parts = (self.last_test_outcome or {}).get("parts") or []
        return shown(dutch(parts) if parts else self.last_test_message, parts)

    @property
    def last_test_detail(self) -> str:
        return (self.last_test_outcome or {}).get("detail") or ""

    # --- the way out ---------------------------------------------------------------------------

    def client(self, **overrides):
        """A DigitaleFactuurClient for these credentials (DIGITALEFACTUUR_* settings apply)."""
        from .client import DigitaleFactuurClient

        return DigitaleFactuurClient.from_settings(self.account_id, self.access_code, **overrides)


from .invoice_models import Invoice  # noqa: E402, F401  (the open invoices, invoices.py)
from .links import DfLink, PendingPush  # noqa: E402, F401  (the sync engine's models)
