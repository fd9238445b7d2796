"""The catalogue's place on screen and the audit trail of the Rechten page.

Whether a role holds a right is stored in one place only: Django's `Group.permissions`. So
`user.has_perm(...)` and everything built on Django's auth keep working unchanged. The two models
here add what Django has no field for:

- `Right`: where a catalogue permission appears (category, sub-heading, position, block label).
  It is also the model whose content type owns those permissions.
- `RightChange`: one row per change of a right for a role: who, when, old -> new. The trail also
  tells a red block from a white one: a right the role lacks is red ("uit") once it has ever been
  set, white ("nooit ingesteld") before.
"""

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .catalogue import CATEGORIES


class State(models.TextChoices):
    """The colour of a block: green, red or white."""

    ON = "on", _("aan")
    OFF = "off", _("uit")
    UNSET = "unset", _("nooit ingesteld")


class Right(models.Model):
    permission = models.OneToOneField(Permission, on_delete=models.CASCADE,
                                      related_name="catalogue_entry",
                                      verbose_name=_("permissie"))
    category = models.CharField(_("categorie"), max_length=40, choices=list(CATEGORIES.items()))
    section = models.CharField(_("onderdeel"), max_length=100, blank=True)
    label = models.CharField(_("naam"), max_length=100)
    position = models.PositiveIntegerField(_("volgorde"))

    class Meta:
        ordering = ["position"]
        verbose_name = _("recht")
        verbose_name_plural = _("rechten")
        # The catalogue's own permissions are the rights; add/change/delete "right" would be
        # rights about the catalogue itself, which only migrations change.
        default_permissions = ()

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        """The full name a user reads: "Koppelingen - Financieel › Digitale Factuur", in the
        reader's language (stored in Dutch, see catalogue.py)."""
        return (f"{gettext(self.section)} › {self.shown_label}" if self.section
                else self.shown_label)

    @property
    def shown_label(self) -> str:
        return gettext(self.label)

    @property
    def perm(self) -> str:
        """The "app_label.codename" string for user.has_perm."""
        return f"{self.permission.content_type.app_label}.{self.permission.codename}"


class RightChange(models.Model):
    """One entry of the audit trail. Never edited; role and user names are kept as text so the
    trail still reads after a role or a user is deleted."""

    role = models.ForeignKey(Group, on_delete=models.SET_NULL, null=True,
                             related_name="right_changes", verbose_name=_("rol"))
    role_name = models.CharField(_("rol"), max_length=150)
    right = models.ForeignKey(Right, on_delete=models.CASCADE, related_name="changes",
                              verbose_name=_("recht"))
    old_state = models.CharField(_("oud"), max_length=5, choices=State.choices)
    new_state = models.CharField(_("nieuw"), max_length=5, choices=State.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("gewijzigd door"))
    changed_by_name = models.CharField(_("gewijzigd door"), max_length=150, blank=True)
    changed_at = models.DateTimeField(_("tijdstip"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("rechtwijziging")
        verbose_name_plural = _("rechtwijzigingen")
        default_permissions = ()
        indexes = [models.Index(fields=["role", "right"])]

    def __str__(self) -> str:
        return f"{self.role_name}: {self.right} {self.old_state} -> {self.new_state}"
