"""Template helpers: `{% load rights %}{% has_right "rights.digitalefactuur" as allowed %}`.

`has_right` answers the same question as `access.RightRequiredMixin`, for hiding a link or a
button a user could not use anyway. It never replaces the check in the view.
"""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def has_right(context, right: str) -> bool:
    """True when the current user holds `right` ("app_label.codename")."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return bool(user is not None and user.is_authenticated and user.has_perm(right))
