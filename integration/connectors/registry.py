"""The one list of connectors the Koppelingen page shows, in the manual's order.

Each entry names its settings page and its "is it on?" check by dotted path / URL name rather
than by import, so this app depends on no connector; a connector without a settings page is
shown as not available in this version. Adding a connector is adding an entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from integration.rights.catalogue import DIGITALE_FACTUUR


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
    #: URL name of its settings page; None = not available in this version.
    settings_url_name: str | None = None
    #: Dotted path of a function () -> bool telling whether the connector is active.
    active_check: str | None = None
    #: The right its settings page needs ("app_label.codename"); its sync log needs it too.
    right: str | None = None
    #: Dotted path of a function (request, run) -> list of `RunAction` offered on a run's page
    #: of the sync log (re-run the failures, ...): the log pages know no connector's engine.
    run_actions: str | None = None
    #: Dotted path of a function () -> (level, line): the tile's health in one line and a
    #: colour; level is "ok", "off", "warning" or "failed".
    health_check: str | None = None
    #: Dotted path of a function (event) -> list of field rows of a `SyncEvent`'s diff, each
    #: named in the administrator's words ({field, other, old, new} or {field, other, lost,
    #: won}); None: the log shows the diff's keys as they are.
    field_rows: str | None = None
    #: URL name of the page that lists the connector's linked fields (linked from every diff).
    fields_url_name: str | None = None

    @property
    def available(self) -> bool:
        return self.settings_url_name is not None

    def is_active(self) -> bool:
        if self.active_check is None:
            return False
        check: Callable[[], bool] = import_string(self.active_check)
        return bool(check())

    def health(self) -> tuple[str, str] | None:
        if self.health_check is None:
            return None
        return import_string(self.health_check)()


CONNECTORS: tuple[Connector, ...] = (
    Connector("twitter", "Twitter", _(
        "Integratie met Twitter om berichtenoverzichten te creëren en om berichten te versturen"),
        "X"),
    Connector("bitly", "Bit.ly", _("Integratie met Bitly voor het verkorten van URL's"), "b"),
    Connector("digitalefactuur", "DigitaleFactuur", _(
        "Koppeling met Digitale Factuur voor het synchroniseren van debiteuren en crediteuren"),
        "DF", settings_url_name="digitalefactuur:settings",
        active_check="integration.digitalefactuur.state.is_active",
        right=DIGITALE_FACTUUR,
        run_actions="integration.digitalefactuur.runs.run_actions",
        health_check="integration.digitalefactuur.health.tile",
        field_rows="integration.digitalefactuur.fields.diff_rows",
        fields_url_name="digitalefactuur:fields"),
    Connector("visma", "Visma eAccounting", _(
        "Koppeling met Visma eAccounting voor het synchroniseren van relaties, het boeken van "
        "facturen en verwerken van betalingen"), "V"),
    Connector("eboekhouden", "e-Boekhouden", _(
        "Koppeling met e-Boekhouden voor het synchroniseren van relaties, het boeken van "
        "facturen en verwerken van betalingen"), "eB"),
    Connector("exact", "Exact Online", _(
        "Koppeling met Exact Online voor het synchroniseren van relaties, het boeken van "
        "facturen, verwerken van betalingen en ouderdomsanalyse van debiteuren"), "E"),
    Connector("moneybird", "MoneyBird", _(
        "Koppeling met MoneyBird voor het synchroniseren van relaties en het boeken van "
        "facturen"), "MB"),
    Connector("snelstart", "SnelStart", _(
        "Koppeling met SnelStart voor het synchroniseren van relaties, het boeken van facturen "
        "en verwerken van betalingen"), "S"),
)


def connectors() -> tuple[Connector, ...]:
    return CONNECTORS


def connector(key: str) -> Connector | None:
    """The available connector named `key`, or None (unknown, or no pages in this version)."""
    return next((c for c in CONNECTORS if c.key == key and c.available), None)
