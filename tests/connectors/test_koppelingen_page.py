"""Scenarios of the Koppelingen page: eight tiles, their state, who may see them."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from integration.connectors import registry
from integration.connectors.registry import connectors
from integration.digitalefactuur.models import DigitaleFactuurSettings
from integration.rights.catalogue import CONNECTORS, DIGITALE_FACTUUR
from integration.rights.changes import permission_for
from tests.factories import GroupFactory, UserFactory

URL = "/admin/koppelingen/"
TILES = ["Twitter", "Bit.ly", "DigitaleFactuur", "Visma eAccounting", "e-Boekhouden",
         "Exact Online", "MoneyBird", "SnelStart"]


def client_with(*rights) -> Client:
    role = GroupFactory(name="Rol " + "-".join(rights) if rights else "Zonder")
    role.permissions.add(*(permission_for(right) for right in rights))
    client = Client()
    client.force_login(UserFactory(groups=[role]))
    return client


@pytest.mark.django_db
def test_eight_tiles_in_the_manuals_order_only_digitalefactuur_links():
    """The seed's eight connectors with their descriptions; only DigitaleFactuur is available."""
    # given
    client = client_with(DIGITALE_FACTUUR)

    # when
    html = client.get(URL).content.decode()

    # then
    names = re.findall(r'<h2 class="connector-name">\s*(?:<a href="[^"]*">)?([^<]+)', html)
    assert [name.strip() for name in names] == TILES
    assert [c.name for c in connectors()] == TILES
    assert html.count('<li class="connector-tile') == 8
    assert html.count("Niet beschikbaar in deze versie.") == 7
    assert 'href="/admin/koppelingen/digitalefactuur/"' in html
    assert "synchroniseren van debiteuren en crediteuren" in html
    assert html.count("Niet actief") == 8


@pytest.mark.django_db
def test_digitalefactuur_tile_shows_actief_once_activated():
    # given an activated connector
    df = DigitaleFactuurSettings.load()
    df.active = True
    df.save()

    # when
    html = client_with(CONNECTORS).get(URL).content.decode()

    # then
    tile = re.search(r'id="koppeling-digitalefactuur".*?</li>', html, re.S).group(0)
    assert "Actief" in tile and "Niet actief" not in tile
    # a user with Koppelingen but not Digitale Factuur is told the tile needs another right
    assert "Je hebt het recht voor deze koppeling nog niet" in tile


@pytest.mark.django_db
def test_without_any_connector_right_the_page_explains():
    response = client_with().get(URL)
    assert response.status_code == 403
    assert "Koppelingen" in response.content.decode()


@pytest.mark.django_db
def test_anonymous_goes_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_catalogue_learns_of_digitalefactuur_from_the_connector_itself():
    """The host's catalogue names no plug-in: DigitaleFactuur registers from its app's ready()."""
    # given the catalogue's own source
    source = Path(registry.__file__).read_text(encoding="utf-8")

    # then it imports nothing of the connector and names none of its functions
    assert "digitalefactuur" not in source.lower() and "import_string" not in source
    # and yet the connector is in it, in the manual's place, with its own functions and kinds
    assert [c.key for c in connectors()][:3] == ["twitter", "bitly", "digitalefactuur"]
    df = registry.connector("digitalefactuur")
    assert callable(df.active_check) and callable(df.field_rows) and callable(df.run_actions)
    assert df.kind_label("debtor") == "debiteur"
    assert df.direction_label("import") == "DigitaleFactuur → PerfectView"
    twitter = next(c for c in connectors() if c.key == "twitter")
    assert twitter.direction_label("export") == "vanuit PerfectView"  # the log's own word
    with translation.override("en"):
        assert df.kind_label("creditor") == "creditor"
    # and registering again (a second app start) keeps one tile
    registry.register(df)
    assert [c.key for c in connectors()].count("digitalefactuur") == 1
