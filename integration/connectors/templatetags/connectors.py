"""`{% connector_problems as problems %}`: the connectors whose health is "failed", for the
banner on the admin's home (templates/admin/index.html); only those the user may see."""

from django import template
from django.urls import reverse

from integration.connectors import registry

register = template.Library()


@register.simple_tag(takes_context=True)
def connector_problems(context) -> list[dict]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    problems = []
    for connector in registry.connectors():
        if connector.right and not user.has_perm(connector.right):
            continue
        health = connector.health()
        if health and health[0] == "failed":
            problems.append({"name": connector.name, "line": health[1],
                             "url": reverse(connector.settings_url_name)})
    return problems
