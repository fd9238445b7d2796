"""`{% relation_invoices relation %}`: the "Facturen" section of a relation's page.

The CRM does not know the connector (DESIGN.md): the relation's change form (a project template,
`templates/admin/crm/relation/change_form.html`) asks this tag, which shows the section only to
users holding both the right to see relations and the Digitale Factuur right, and only while
the option "openstaande facturen tonen in PerfectView" is on or invoices were read before.
"""

from django import template

from integration.rights.catalogue import DIGITALE_FACTUUR

from ..invoices import relation_summary

register = template.Library()

#: The CRM's own right to see relations (the admin lets the right to change them see them too).
VIEW_RELATIONS = "crm.view_relation"
CHANGE_RELATIONS = "crm.change_relation"


def may_see_relations(user) -> bool:
    return bool(user and user.is_active
                and (user.has_perm(VIEW_RELATIONS) or user.has_perm(CHANGE_RELATIONS)))


def may_see_invoices(user) -> bool:
    return may_see_relations(user) and user.has_perm(DIGITALE_FACTUUR)


@register.inclusion_tag("digitalefactuur/_relation_invoices.html", takes_context=True)
def relation_invoices(context, relation):
    request = context.get("request")
    user = getattr(request, "user", None)
    if relation is None or getattr(relation, "pk", None) is None or not may_see_invoices(user):
        return {"show": False}
    summary = relation_summary(relation.pk)
    state = summary["state"]
    shown = state.enabled or state.read_at is not None or bool(summary["invoices"])
    return {"show": shown, "relation": relation, **summary}
