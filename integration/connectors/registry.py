"""The Koppelingen catalogue: the connectors the Koppelingen page shows, in the manual's order.

A connector registers itself from its app's `ready()` (`register`), the way a django-allauth
provider module ends with `providers.registry.register(...)`: it hands over its own functions
(is it active, its health, its run page's buttons, its field names) and the kinds of record its
events name. This module imports no connector and names none of their functions. The other
tiles of the manual's page are listed here as not available in this version; a connector that
registers under one of their keys takes that tile's place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class RunAction:
    """A button on a run's page, offered by its connector (see `Connector.run_actions`)."""

    key: str
    label: str
    #: Where the button POSTs; None when there is nothing to post (a note only).
    url: str | None
    enabled: bool = True
    #: Why it is disabled, or what it will (not) do: shown next to it.
    note: str = ""


@dataclass(frozen=True)
class Connector:
    key: str
    name: str  # a product name: not translated
    description: str
    #: Up to three letters for the tile's emblem (no remote logos: the admin stays offline).
    emblem: str
    #: Its place on the Koppelingen page (the manual's order).
    order: int = 0
    #: URL name of its settings page; None = not available in this version.
    settings_url_name: str | None = None
    #: () -> bool: whether the connector is active.
    active_check: Callable[[], bool] | None = None
    #: The right its settings page needs ("app_label.codename"); its sync log needs it too.
    right: str | None = None
    #: (request, run) -> list of `RunAction` offered on a run's page of the sync log (re-run
    #: the failures, ...): the log pages know no connector's engine.
    run_actions: Callable | None = None
    #: () -> (level, line): the tile's health in one line and a colour; level is "ok", "off",
    #: "warning" or "failed".
    health_check: Callable[[], tuple[str, str]] | None = None
    #: (event) -> list of field rows of a `SyncEvent`'s diff, each named in the
    #: administrator's words ({field, other, old, new} or {field, other, lost, won}); None: the
    #: log shows the diff's keys as they are.
    field_rows: Callable | None = None
    #: URL name of the page that lists the connector's linked fields (linked from every diff).
    fields_url_name: str | None = None
    #: The kinds of record its events name (`SyncEvent.kind`) and their labels, e.g. a klant's
    #: {"debtor": "debiteur", "creditor": "crediteur"}.
    kinds: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: Its own words for the log's directions (`SyncEvent.Direction`: "import", "export"),
    #: naming its side ("Exact Online → PerfectView"); a direction it does not name keeps the
    #: log's own word.
    directions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def available(self) -> bool:
        return self.settings_url_name is not None

    def is_active(self) -> bool:
        return bool(self.active_check()) if self.active_check is not None else False

    def health(self) -> tuple[str, str] | None:
        return self.health_check() if self.health_check is not None else None

    def direction_label(self, direction: str) -> str:
        """The direction in the connector's words, in the reader's language."""
        from .models import SyncEvent

        if direction in self.directions:
            return str(self.directions[direction])
        known = {choice.value: choice.label for choice in SyncEvent.Direction}
        return str(known.get(direction, direction))

    def kind_label(self, kind: str) -> str:
        """The label of a kind of record, in the reader's language; an unknown kind as stored."""
        return str(self.kinds.get(kind, kind)) if kind else ""


#: The manual's tiles of connectors this version does not have.
_NOT_AVAILABLE = (
    Connector("twitter", "Twitter", _(
        "Integratie met Twitter om berichtenoverzichten te creëren en om berichten te versturen"),
        "X", order=10),
    Connector("bitly", "Bit.ly", _("Integratie met Bitly voor het verkorten van URL's"), "b",
              order=20),
    Connector("visma", "Visma eAccounting", _(
        "Koppeling met Visma eAccounting voor het synchroniseren van relaties, het boeken van "
        "facturen en verwerken van betalingen"), "V", order=40),
    Connector("eboekhouden", "e-Boekhouden", _(
        "Koppeling met e-Boekhouden voor het synchroniseren van relaties, het boeken van "
        "facturen en verwerken van betalingen"), "eB", order=50),
    Connector("exact", "Exact Online", _(
        "Koppeling met Exact Online voor het synchroniseren van relaties, het boeken van "
        "facturen, verwerken van betalingen en ouderdomsanalyse van debiteuren"), "E", order=60),
    Connector("moneybird", "MoneyBird", _(
        "Koppeling met MoneyBird voor het synchroniseren van relaties en het boeken van "
        "facturen"), "MB", order=70),
    Connector("snelstart", "SnelStart", _(
        "Koppeling met SnelStart voor het synchroniseren van relaties, het boeken van facturen "
        "en verwerken van betalingen"), "S", order=80),
)

_registered: dict[str, Connector] = {c.key: c for c in _NOT_AVAILABLE}


def register(connector: Connector) -> None:
    """Add `connector` to the catalogue, or replace the entry of its key (registering twice,
    as a test's second app start does, changes nothing)."""
    _registered[connector.key] = connector


def connectors() -> tuple[Connector, ...]:
    return tuple(sorted(_registered.values(), key=lambda c: c.order))


def connector(key: str) -> Connector | None:
    """The available connector named `key`, or None (unknown, or no pages in this version)."""
    found = _registered.get(key)
    return found if found is not None and found.available else None
