"""The fields in the administrator's words: the page "Gekoppelde velden" and the log's field rows.

Both are drawn from the declared mapping (`mapping.py`: the tables, each row with its PerfectView
label, and `DF_FIELDS`, DigitaleFactuur's screen), so what the screens say cannot drift from what
the engine does. A diff in the log is keyed by relation fields (what an import wrote) or by klant
elements (what an export sent, and every conflict); `diff_rows` names each by the manual's
section C, on the side it was written, with the other side's name beside it, and shows a
country by its name in the reader's language.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from integration.connectors.models import SyncEvent
from integration.crm.models import Relation

from . import mapping

#: The page's tables, in the manual's order: (relation kind, heading).
SECTIONS = (
    (Relation.Kind.ORGANISATION, _("Veld in PerfectView indien Organisatie")),
    (Relation.Kind.PERSON, _("Veld in PerfectView indien Persoon")),
)

#: The sync log's directions in DigitaleFactuur's words (the connector registers them).
DIRECTIONS = {
    SyncEvent.Direction.IMPORT.value: _("DigitaleFactuur → PerfectView"),
    SyncEvent.Direction.EXPORT.value: _("PerfectView → DigitaleFactuur"),
}

DIRECTION_TEXT = {
    "both": _("beide kanten op"),
    "import": _("alleen van DigitaleFactuur naar PerfectView"),
}


def _df_text(element: str) -> str:
    callout, group, label = mapping.DF_FIELDS[element]
    return f"[{callout}] {group} – {label}" if callout else f"{group} – {label}"


def mapped_fields() -> list[dict]:
    """The manual's section C, table by table, from the declared mapping."""
    sections = []
    for relation_kind, heading in SECTIONS:
        rows = list(mapping.TABLES[relation_kind])
        # The numbers sit after the fax in the manual, as in mapping.md.
        at = next(i for i, row in enumerate(rows) if row.element == "faxnummer") + 1
        rows[at:at] = [mapping.number_row(kind) for kind in mapping.NUMBER_FIELD]
        sections.append({
            "kind": relation_kind, "heading": heading,
            "rows": [{"crm": row.label, "df": _df_text(row.element), "element": row.element,
                      "direction": DIRECTION_TEXT[row.direction],
                      "one_way": row.direction != "both"} for row in rows],
        })
    return sections


#: DigitaleFactuur's `type` values, shown in the reader's language.
TYPE_NAMES = {name: mapping.KIND_LABELS[kind] for kind, name in mapping.KLANT_TYPE.items()}


def _shown(key: str, value: str) -> str:
    if key in mapping.COUNTRY_KEYS:
        return mapping.country_display(value)
    if key == "type":
        return str(TYPE_NAMES.get(value, value))
    return value


def diff_rows(event: SyncEvent) -> list[dict]:
    """The event's field rows, each named as the manual does: {field, other, old, new} for a
    change, {field, other, lost, won} for a conflict (PerfectView wins)."""
    relation_kind = event.relation.kind if event.relation_id and event.relation else ""
    writes_crm = (event.direction == SyncEvent.Direction.IMPORT
                  and event.action != SyncEvent.Action.CONFLICT)
    side = "crm" if writes_crm else "df"

    def named(key: str) -> dict:
        label, other = mapping.field_labels(key, side=side, relation_kind=relation_kind)
        return {"field": label, "other": other, "key": key, "side": side}

    if event.action == SyncEvent.Action.CONFLICT:
        # diff = {field: [DigitaleFactuur's value, PerfectView's value]}; PerfectView wins.
        keys = list(dict.fromkeys([*event.diff, *event.losing_values]))
        rows = []
        for key in keys:
            pair = event.diff.get(key) or ["", ""]
            lost = event.losing_values.get(key, pair[0])
            rows.append({**named(key), "lost": _shown(key, lost), "won": _shown(key, pair[1])})
        return rows
    return [{**named(key), "old": _shown(key, pair[0]), "new": _shown(key, pair[1])}
            for key, pair in event.diff.items()
            if isinstance(pair, list | tuple) and len(pair) == 2]
