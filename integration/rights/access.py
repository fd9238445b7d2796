"""The check every gated page uses: does the logged-in user hold a right?

Public interface (kept stable; the Koppelingen and DigitaleFactuur pages rely on it):

- `RightRequiredMixin`: for class-based views. Set the class attribute `required_right` to an
  "app_label.codename" string, normally a constant from `integration.rights.catalogue`::

      class SettingsView(RightRequiredMixin, TemplateView):
          required_right = DIGITALE_FACTUUR

  Put the mixin first, so it runs before the view's own `dispatch`.
- `right_required(right)`: the same check as a decorator for function views::

      @right_required(DIGITALE_FACTUUR)
      def run_now(request): ...

- In templates: `{% load rights %}{% has_right "rights.digitalefactuur" as allowed %}`
  (see `templatetags/rights.py`).

What a request gets:

- an anonymous user: a redirect to the admin login, with `next` pointing back;
- a logged-in user without the right: HTTP 403 with the page `rights/missing_right.html`, which
  names the missing right, the roles in which it could be switched on (and which of them the user
  is in), and links to the Rechten page;
- a user with the right: the view.

Only the right decides, not `is_staff`: a right is held through a role, and Django's `has_perm`
already answers False for inactive users. A user who is not staff but holds the right sees the
page in the admin's frame without the admin's menu; give everyone who works in PerfectView the
staff status (README, "Rechten"). Superusers hold every right, as everywhere in Django.
"""

import functools
import logging

from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from .catalogue import CATEGORIES, MANAGE_RIGHTS
from .changes import permission_for
from .models import Right

logger = logging.getLogger(__name__)

MISSING_RIGHT_TEMPLATE = "rights/missing_right.html"


def refusal(request: HttpRequest, right: str) -> HttpResponse | None:
    """None when `request.user` holds `right`; otherwise the response to send instead."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if request.user.has_perm(right):
        return None
    return missing_right_response(request, right)


def missing_right_response(request: HttpRequest, right: str) -> TemplateResponse:
    """The 403 page that explains which right is missing and where to switch it on."""
    permission = permission_for(right)
    catalogue_entry = (Right.objects.filter(permission=permission).first()
                       if permission else None)
    if permission is None:
        # A typo in `required_right` would otherwise lock everyone out without a clue.
        logger.warning("Page gated by %r, which is not a known right", right)
    user_roles = set(request.user.groups.values_list("pk", flat=True))
    granting = set(permission.group_set.values_list("pk", flat=True)) if permission else set()
    roles = [
        {"role": role, "is_member": role.pk in user_roles, "grants": role.pk in granting}
        for role in Group.objects.order_by("name")
    ]
    context = {
        **admin.site.each_context(request),
        "title": _("Geen toegang"),
        "right": right,
        "right_title": (catalogue_entry.title if catalogue_entry
                        else permission.name if permission else right),
        "category": CATEGORIES.get(catalogue_entry.category) if catalogue_entry else None,
        "catalogue_entry": catalogue_entry,
        "roles": roles,
        "can_manage_rights": request.user.has_perm(MANAGE_RIGHTS),
        "matrix_url": reverse("rights:matrix"),
    }
    return TemplateResponse(request, MISSING_RIGHT_TEMPLATE, context, status=403)


def right_required(right: str):
    """Decorator for function views: let only users holding `right` in (see module docstring)."""
    if not right:
        raise ImproperlyConfigured("right_required() needs an 'app_label.codename' string")

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            refused = refusal(request, right)
            return refused if refused is not None else view(request, *args, **kwargs)
        return wrapped
    return decorator


class RightRequiredMixin:
    """View mixin: let only users holding `required_right` in (see module docstring)."""

    required_right: str = ""

    def dispatch(self, request, *args, **kwargs):
        if not self.required_right:
            raise ImproperlyConfigured(
                f"{type(self).__name__} needs required_right = 'app_label.codename'")
        refused = refusal(request, self.required_right)
        if refused is not None:
            return refused
        return super().dispatch(request, *args, **kwargs)
