"""The roles x rights matrix as the Rechten page shows it: categories, sub-headings, blocks.

Built with three queries whatever the number of roles and rights: the catalogue, the role-right
links of Django's `Group.permissions`, and the pairs that were ever set (from the audit trail).
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import Group

from .catalogue import CATEGORIES
from .models import Right, RightChange, State


@dataclass
class Block:
    role: Group
    right: Right
    state: State

    @property
    def turn(self) -> str:
        """What a click asks for: green goes off, red and white go on."""
        return "off" if self.state == State.ON else "on"


@dataclass
class Row:
    right: Right
    blocks: list[Block]


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class Category:
    key: str
    label: str
    sections: list[Section] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"categorie-{self.key}"


def build_matrix(roles: list[Group]) -> list[Category]:
    """The catalogue in order, each right with one block per role in `roles`."""
    role_ids = [role.pk for role in roles]
    granted = set(Group.permissions.through.objects.filter(group_id__in=role_ids)
                  .values_list("group_id", "permission_id"))
    ever_set = set(RightChange.objects.filter(role_id__in=role_ids)
                   .values_list("role_id", "right_id").distinct())
    categories = {key: Category(key, str(label)) for key, label in CATEGORIES.items()}
    for right in Right.objects.select_related("permission__content_type"):
        blocks = [Block(role, right, _state(role.pk, right, granted, ever_set))
                  for role in roles]
        sections = categories[right.category].sections
        if not sections or sections[-1].title != right.section:
            sections.append(Section(right.section))
        sections[-1].rows.append(Row(right, blocks))
    return [category for category in categories.values() if category.sections]


def _state(role_id: int, right: Right, granted: set, ever_set: set) -> State:
    if (role_id, right.permission_id) in granted:
        return State.ON
    if (role_id, right.pk) in ever_set:
        return State.OFF
    return State.UNSET
