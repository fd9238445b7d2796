"""The Rechten page: the roles x rights matrix, roles and their users, and the audit trail.

Every staff user may look (the page is part of the admin, behind `admin_view`); only a holder of
the Rechten right (`MANAGE_RIGHTS`) gets buttons, and the POST views check that right again, so a
forged form is refused with the explaining 403 page. Each change is a plain form POST that
redirects back (works without JavaScript); `static/rights/rights.js` sends the same forms with
fetch and asks for JSON, so a click recolours the block without a reload.
"""

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.paginator import Paginator
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import changes
from .access import right_required
from .catalogue import MANAGE_RIGHTS
from .matrix import build_matrix
from .models import Right, RightChange, State

AUDIT_PAGE_SIZE = 20
ROLE_PARAM = "rol"


class _NotAnId(Exception):
    """A posted id that is not one: a hand-made request (the page's forms send ids)."""


def _id(value: str | None) -> int | None:
    """An id as the page sends it (ASCII digits), or None.

    Not `str.isdigit()`: it takes "²" for a digit, which `int()` and the database refuse.
    """
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _posted_id(request: HttpRequest, name: str) -> int:
    found = _id(request.POST.get(name))
    if found is None:
        raise _NotAnId(name)
    return found


def _bad_request(request: HttpRequest, name: str) -> HttpResponse:
    message = _("Dit verzoek is niet uitgevoerd: '%(name)s' is geen geldig nummer. Gebruik de "
                "knoppen op de Rechten-pagina.") % {"name": name}
    if _wants_json(request):
        return JsonResponse({"error": message}, status=400)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _selected_role(request: HttpRequest, source) -> Group | None:
    """The role the page is narrowed to, or None for all roles side by side."""
    role_id = _id(source.get(ROLE_PARAM))
    if role_id is None:
        return None
    return Group.objects.filter(pk=role_id).first()


def _matrix_url(role: Group | None, anchor: str = "") -> str:
    query = f"?{urlencode({ROLE_PARAM: role.pk})}" if role else ""
    return reverse("rights:matrix") + query + (f"#{anchor}" if anchor else "")


def _audit_page(request: HttpRequest, role: Group | None):
    trail = RightChange.objects.select_related("right")
    if role is not None:
        trail = trail.filter(role=role)
    return Paginator(trail, AUDIT_PAGE_SIZE).get_page(request.GET.get("pagina"))


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_GET
def matrix(request: HttpRequest) -> HttpResponse:
    role = _selected_role(request, request.GET)
    all_roles = list(Group.objects.order_by("name"))
    shown_roles = [role] if role else all_roles
    user_model = get_user_model()
    context = {
        **admin.site.each_context(request),
        "title": _("Rechten"),
        "role": role,
        "roles": all_roles,
        "shown_roles": shown_roles,
        "categories": build_matrix(shown_roles),
        "can_manage": request.user.has_perm(MANAGE_RIGHTS),
        "audit": _audit_page(request, role),
        "role_param": ROLE_PARAM,
        "states": State,
    }
    if role is not None:
        context["members"] = role.user_set.order_by("username")
        context["candidates"] = (user_model.objects.filter(is_active=True)
                                 .exclude(groups=role).order_by("username"))
    return TemplateResponse(request, "rights/matrix.html", context)


@require_POST
@right_required(MANAGE_RIGHTS)
def toggle(request: HttpRequest) -> HttpResponse:
    try:
        role_id, right_id = _posted_id(request, "role"), _posted_id(request, "right")
    except _NotAnId as refused:
        return _bad_request(request, refused.args[0])
    role = get_object_or_404(Group, pk=role_id)
    right = get_object_or_404(Right.objects.select_related("permission"), pk=right_id)
    shown_role = _selected_role(request, request.POST)
    turn_on = request.POST.get("turn") == "on"
    try:
        state = changes.set_right(role, right, turn_on, by=request.user)
    except changes.LastRightsManagerError:
        message = _("Dit recht blijft aan: anders kan niemand de rechten nog beheren.")
        if _wants_json(request):
            return JsonResponse({"error": message}, status=409)
        messages.error(request, message)
        return HttpResponseRedirect(_matrix_url(shown_role, f"recht-{right.pk}"))
    if _wants_json(request):
        audit = _audit_page(request, shown_role)
        return JsonResponse({
            "state": state.value,
            "state_label": str(state.label),
            "turn": "off" if state == State.ON else "on",
            "audit_html": render_to_string("rights/_audit.html", {"audit": audit},
                                           request=request),
        })
    messages.success(request, _("%(right)s staat nu %(state)s voor %(role)s.") % {
        "right": right.title, "state": state.label, "role": role.name})
    return HttpResponseRedirect(_matrix_url(shown_role, f"recht-{right.pk}"))


@require_POST
@right_required(MANAGE_RIGHTS)
def add_role(request: HttpRequest) -> HttpResponse:
    name = " ".join(request.POST.get("name", "").split())
    max_length = Group._meta.get_field("name").max_length
    if not name:
        messages.error(request, _("Geef de nieuwe rol een naam."))
    elif len(name) > max_length:
        messages.error(request, _("Een rolnaam is hoogstens %(max)d tekens.") % {"max": max_length})
    elif Group.objects.filter(name__iexact=name).exists():
        messages.error(request, _("De rol %(name)s bestaat al.") % {"name": name})
    else:
        role = Group.objects.create(name=name)
        messages.success(request, _("Rol %(name)s toegevoegd; al zijn rechten staan nog wit.")
                         % {"name": name})
        return HttpResponseRedirect(_matrix_url(role))
    return HttpResponseRedirect(_matrix_url(None))


@require_POST
@right_required(MANAGE_RIGHTS)
def add_member(request: HttpRequest, role_id: int) -> HttpResponse:
    role = get_object_or_404(Group, pk=role_id)
    try:
        user = get_object_or_404(get_user_model(), pk=_posted_id(request, "user"))
    except _NotAnId as refused:
        return _bad_request(request, refused.args[0])
    changes.add_member(role, user)
    messages.success(request, _("%(user)s zit nu in de rol %(role)s.")
                     % {"user": user.get_username(), "role": role.name})
    return HttpResponseRedirect(_matrix_url(role, "gebruikers"))


@require_POST
@right_required(MANAGE_RIGHTS)
def remove_member(request: HttpRequest, role_id: int) -> HttpResponse:
    role = get_object_or_404(Group, pk=role_id)
    try:
        user = get_object_or_404(get_user_model(), pk=_posted_id(request, "user"))
    except _NotAnId as refused:
        return _bad_request(request, refused.args[0])
    try:
        changes.remove_member(role, user)
    except changes.LastRightsManagerError:
        messages.error(request, _("%(user)s blijft in deze rol: anders kan niemand de rechten "
                                  "nog beheren.") % {"user": user.get_username()})
    else:
        messages.success(request, _("%(user)s zit niet meer in de rol %(role)s.")
                         % {"user": user.get_username(), "role": role.name})
    return HttpResponseRedirect(_matrix_url(role, "gebruikers"))
