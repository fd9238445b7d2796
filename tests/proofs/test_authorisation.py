"""Proof 5, authorisation: every URL the project serves, found by walking the URL resolver, is
checked for anonymous users, logged-in staff without the right, and holders of the right; every
state-changing URL refuses GET and refuses a POST without CSRF token.

A page cannot be forgotten: a pattern missing from `ROUTES` fails the test until it is classified.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_q.models import Failure, OrmQ, Schedule, Success

from integration.connectors.models import SyncRun
from integration.crm.models import Relation, RelationType
from integration.digitalefactuur.invoice_models import Invoice
from integration.digitalefactuur.models import DigitaleFactuurSettings
from integration.rights.catalogue import CONNECTORS, DIGITALE_FACTUUR, MANAGE_RIGHTS
from integration.rights.models import Right
from tests.factories import (
    OrganisationFactory,
    RoleFactory,
    SyncEventFactory,
    SyncRunFactory,
    UserFactory,
)


@dataclass(frozen=True)
class Rule:
    """How a route is guarded.

    gate: "public" (anyone), "staff" (the admin's login and staff status), "right" (ours: the
    explaining 403 page), "admin_model" (the admin's own permission model: 403 for staff
    without the model's permission).
    post_only: GET must be refused with 405. csrf: a POST without token must get 403.
    """

    gate: str
    right: str = ""
    post_only: bool = False
    csrf: bool = True


PUBLIC_GET = Rule("public", csrf=False)
INVOICE_PDF = "admin/koppelingen/digitalefactuur/facturen/<int:pk>/pdf/"
STAFF = Rule("staff")
STAFF_GET = Rule("staff", csrf=False)
ADMIN_MODEL = Rule("admin_model")

#: Every URL pattern, as the resolver prints it, with its guard.
ROUTES: dict[str, Rule] = {
    "": PUBLIC_GET,  # a redirect to the admin's index
    "i18n/setlang/": Rule("public"),  # changes only the language cookie; CSRF still applies
    "admin/rechten/": STAFF,  # every staff user may look; changing needs Rechten (below)
    "admin/rechten/wissel/": Rule("right", MANAGE_RIGHTS, post_only=True),
    "admin/rechten/rol/": Rule("right", MANAGE_RIGHTS, post_only=True),
    "admin/rechten/rol/<int:role_id>/gebruikers/toevoegen/":
        Rule("right", MANAGE_RIGHTS, post_only=True),
    "admin/rechten/rol/<int:role_id>/gebruikers/verwijderen/":
        Rule("right", MANAGE_RIGHTS, post_only=True),
    "admin/koppelingen/": Rule("right", CONNECTORS, csrf=False),
    "admin/koppelingen/<slug:connector>/logboek/": Rule("right", DIGITALE_FACTUUR, csrf=False),
    "admin/koppelingen/<slug:connector>/logboek/<int:pk>/":
        Rule("right", DIGITALE_FACTUUR, csrf=False),
    "admin/koppelingen/<slug:connector>/logboek/<int:pk>/voortgang/":
        Rule("right", DIGITALE_FACTUUR, csrf=False),
    "admin/koppelingen/digitalefactuur/": Rule("right", DIGITALE_FACTUUR),
    "admin/koppelingen/digitalefactuur/api-gegevens/": Rule("right", DIGITALE_FACTUUR,
                                                           csrf=False),
    "admin/koppelingen/digitalefactuur/gekoppelde-velden/": Rule("right", DIGITALE_FACTUUR,
                                                                 csrf=False),
    "admin/koppelingen/digitalefactuur/uitvoeren/": Rule("right", DIGITALE_FACTUUR,
                                                        post_only=True),
    "admin/koppelingen/digitalefactuur/voorbeeld/": Rule("right", DIGITALE_FACTUUR,
                                                        post_only=True),
    "admin/koppelingen/digitalefactuur/runs/<int:pk>/fouten-opnieuw/":
        Rule("right", DIGITALE_FACTUUR, post_only=True),
    # An invoice's PDF needs the right to see relations too (tests/digitalefactuur/
    # test_invoices_screens.py proves that half).
    INVOICE_PDF: Rule("right", DIGITALE_FACTUUR, csrf=False),
    "admin/": STAFF_GET,
    "admin/login/": Rule("public"),
    "admin/logout/": Rule("public", post_only=True),  # logging out nobody changes nothing
    "admin/password_change/": STAFF,
    "admin/password_change/done/": STAFF_GET,
    "admin/autocomplete/": Rule("admin_model", csrf=False),  # the admin checks the model
    "admin/jsi18n/": STAFF_GET,
    "admin/r/<path:content_type_id>/<path:object_id>/": STAFF_GET,
    "admin/auth/user/<id>/password/": ADMIN_MODEL,
    "admin/(?P<url>.*)$": STAFF_GET,  # the admin's catch-all: 404 for staff
    # The app index pages of the link-only apps lead straight to their page.
    "admin/connectors/": STAFF_GET,
    "admin/rights/": STAFF_GET,
}
ADMIN_MODELS = ["auth/group", "auth/user", "django_q/schedule", "django_q/success",
                "django_q/failure", "django_q/ormq", "crm/relationtype", "crm/relation"]
for _model in ADMIN_MODELS:
    for _suffix in ("", "add/", "<path:object_id>/history/", "<path:object_id>/delete/",
                    "<path:object_id>/change/", "<path:object_id>/"):
        ROUTES[f"admin/{_model}/{_suffix}"] = ADMIN_MODEL
# Menu entries that are links to our pages (integration/admin_links.py): the list URL only.
for _model in ("rights/right", "connectors/koppelingen"):
    ROUTES[f"admin/{_model}/"] = ADMIN_MODEL

KOPPELINGEN_OBJECT_PAGES = [f"admin/connectors/koppelingen/<path:object_id>/{suffix}"
                            for suffix in ("history/", "delete/", "change/")]
def served_routes() -> list[str]:
    """Every pattern the project serves, as one string per pattern."""
    found = []

    def walk(resolver: URLResolver, prefix: str) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                walk(entry, prefix + str(entry.pattern))
            else:
                assert isinstance(entry, URLPattern)
                found.append(prefix + str(entry.pattern))

    walk(get_resolver(), "")
    return found


def classify(route: str) -> Rule:
    if route.startswith("admin/^(?P<app_label>"):
        return STAFF_GET  # the app index pages, one pattern for every app label
    return ROUTES[route]


@pytest.fixture
def sample_objects(db):
    """One object of every kind a URL can name, so that each sample URL resolves to a page."""
    role = RoleFactory()
    user = UserFactory()
    relation = OrganisationFactory(debtor_number="1001")
    run = SyncRunFactory(status=SyncRun.Status.WITH_ERRORS)
    SyncEventFactory(run=run, relation=relation, action="fout", message="Geweigerd")
    df = DigitaleFactuurSettings.load()
    df.save()
    invoice = Invoice.objects.create(relation=relation, df_id="700100", klant_id="133300",
                                     number="F1", amount=Decimal("121.00"), fingerprint="x")
    schedule = Schedule.objects.create(func="math.sqrt", args="4", name="proef")
    task = {"id": "a" * 32, "name": "proef", "func": "math.sqrt", "started": run.started_at,
            "stopped": run.finished_at}
    success = Success.objects.create(**task, success=True)
    failure = Failure.objects.create(**{**task, "id": "b" * 32}, success=False)
    queued = OrmQ.objects.create(key="proef", payload="x", lock=None)
    return {
        "auth/group": role.pk, "auth/user": user.pk, "django_q/schedule": schedule.pk,
        "django_q/success": success.pk, "django_q/failure": failure.pk,
        "django_q/ormq": queued.pk, "crm/relationtype": RelationType.objects.first().pk,
        "crm/relation": relation.pk, "rights/right": Right.objects.first().pk,
        "connectors/koppelingen": 1,
        "run": run.pk, "role": role.pk, "relation_ct": relation, "invoice": invoice.pk,
    }


def sample_url(route: str, objects: dict) -> str | None:
    """The route with sample arguments, or None when it cannot be given any."""
    from django.contrib.contenttypes.models import ContentType

    if route.startswith("admin/^(?P<app_label>"):
        return "/admin/crm/"
    if route == "admin/(?P<url>.*)$":
        return "/admin/bestaat-niet/"
    url = "/" + route
    model = next((m for m in ADMIN_MODELS if route.startswith(f"admin/{m}/")), None)
    replacements = {
        "<path:object_id>": str(objects.get(model, "")), "<id>": str(objects["auth/user"]),
        "<int:role_id>": str(objects["role"]), "<slug:connector>": "digitalefactuur",
        "<int:pk>": str(objects["run"]),
        "<path:content_type_id>": str(ContentType.objects.get_for_model(Relation).pk),
    }
    if route.startswith("admin/r/"):
        replacements["<path:object_id>"] = str(objects["relation_ct"].pk)
    if route == INVOICE_PDF:
        replacements["<int:pk>"] = str(objects["invoice"])
    for placeholder, value in replacements.items():
        url = url.replace(placeholder, value)
    return url


@pytest.fixture
def people(db):
    without = UserFactory(username="zonder-recht")
    holder_role = RoleFactory(rights=[DIGITALE_FACTUUR, CONNECTORS, MANAGE_RIGHTS])
    holder_role.permissions.add(*Permission.objects.exclude(content_type__app_label="rights"))
    holder = UserFactory(username="met-recht", groups=[holder_role])
    assert not holder.is_superuser and not without.groups.exists()
    return {"without": without, "holder": holder}


def client_for(user=None, *, csrf: bool = False) -> Client:
    browser = Client(enforce_csrf_checks=csrf, raise_request_exception=False)
    if user is not None:
        browser.force_login(user)
    return browser


def test_every_url_pattern_is_classified():
    """A new page fails here until its guard is written into ROUTES."""
    unclassified = [route for route in served_routes()
                    if not route.startswith("admin/^(?P<app_label>") and route not in ROUTES]
    assert unclassified == []
    stale = set(ROUTES) - set(served_routes())
    assert stale == set(), "ROUTES names patterns the project no longer serves"


@pytest.mark.django_db
def test_every_page_refuses_anonymous_and_users_without_the_right_and_opens_for_holders(
        sample_objects, people):
    """Anonymous -> the login; staff without the right -> refused (our pages with the explaining
    page); with the right -> the page (200) or where it sends you (302)."""
    problems = []
    for route in served_routes():
        rule, url = classify(route), sample_url(route, sample_objects)
        method = "post" if rule.post_only else "get"
        # given / when
        anonymous = getattr(client_for(), method)(url)
        without = getattr(client_for(people["without"]), method)(url)
        holder = getattr(client_for(people["holder"]), method)(url)
        # then
        if rule.gate == "public":
            if anonymous.status_code not in (200, 302):
                problems.append((route, "anonymous", anonymous.status_code))
            continue
        if anonymous.status_code != 302 or "/admin/login/" not in anonymous["Location"]:
            problems.append((route, "anonymous", anonymous.status_code))
        if rule.gate == "right":
            if without.status_code != 403 or "Geen toegang" not in without.content.decode():
                problems.append((route, "without the right", without.status_code))
        elif rule.gate == "admin_model" and without.status_code not in (403, 302):
            problems.append((route, "without the permission", without.status_code))
        expected_holder = {200, 302, 403}
        if route == "admin/(?P<url>.*)$" or route.startswith("admin/r/"):
            expected_holder = {404}  # nothing there; a relation has no page outside the admin
        elif rule.post_only:
            expected_holder |= {400, 404}  # let through; an empty POST names no role or right
        elif route == INVOICE_PDF:
            expected_holder |= {502}  # let through; the sample connector is off, the page says so
        if rule.gate != "admin_model":
            expected_holder -= {403}
        if holder.status_code not in expected_holder:
            problems.append((route, "holder", holder.status_code))
    assert problems == [], "\n".join(map(str, problems))


@pytest.mark.django_db
def test_every_state_changing_url_refuses_get_and_refuses_a_post_without_csrf(
        sample_objects, people):
    problems = []
    for route in served_routes():
        rule, url = classify(route), sample_url(route, sample_objects)
        if rule.post_only:
            got = client_for(people["holder"]).get(url)
            if got.status_code != 405:
                problems.append((route, "GET", got.status_code))
        if rule.csrf:
            posted = client_for(people["holder"], csrf=True).post(url, {"name": "x"})
            if posted.status_code != 403:
                problems.append((route, "POST without CSRF", posted.status_code))
    assert problems == [], "\n".join(map(str, problems))


@pytest.mark.django_db
def test_the_table_less_koppelingen_admin_has_no_object_pages(sample_objects, people):
    """Koppelingen is an admin menu entry, not data: its object URLs must not crash (they are
    not served at all; the admin's catch-all answers)."""
    for route in KOPPELINGEN_OBJECT_PAGES:
        # when
        answer = client_for(people["without"]).get(sample_url(route, sample_objects))
        # then
        assert answer.status_code in (302, 403, 404), (route, answer.status_code)


@pytest.mark.django_db
def test_view_on_site_of_the_table_less_koppelingen_entry_is_not_found(people):
    """`/admin/r/<content type>/<id>/` looks the object up: for Koppelingen, which has no table,
    that is nothing there (404), for every staff user, not a query of a missing table."""
    from django.contrib.contenttypes.models import ContentType

    from integration.connectors.models import Koppelingen

    # given the content type of the table-less model
    content_type = ContentType.objects.get_for_model(Koppelingen).pk
    for user in (people["without"], people["holder"], UserFactory(is_superuser=True)):
        for object_id in ("1", "0", "١٢٣"):
            # when a staff user asks for its "view on site"
            answer = client_for(user).get(f"/admin/r/{content_type}/{quote(object_id)}/")
            # then there is nothing there
            assert answer.status_code == 404, (user.username, object_id, answer.status_code)


#: Values a hand-made URL or form may carry where an id or a parameter is expected.
ODD_VALUES = ["0", "-1", "99999999999999999999999", "abc", "١٢٣", "１２", "²", "'--", "x'--",
              "1 OR 1=1", "%", "\u202e"]
#: The parameters our pages read (and a few of the admin's own).
QUERY_PARAMETERS = ["na", "voor", "pagina", "rol", "status", "aanleiding", "actie", "richting",
                    "q", "p", "o", "kind__exact", "relation_type__id__exact", "next"]
FORM_FIELDS = ["role", "right", "user", "turn", "name", "rol", "action"]


def odd_urls(route: str, objects: dict) -> list[str]:
    """The route's sample URL, and the same with each placeholder given each odd value."""
    from django.contrib.contenttypes.models import ContentType

    from integration.connectors.models import Koppelingen

    url = sample_url(route, objects)
    if route.startswith("admin/r/"):
        # the table-less Koppelingen entry too: a content type without a table
        koppelingen = ContentType.objects.get_for_model(Koppelingen).pk
        return [url, f"/admin/r/{koppelingen}/1/",
                *(f"/admin/r/{koppelingen}/{quote(value, safe='')}/" for value in ODD_VALUES),
                *(f"/admin/r/{quote(value, safe='')}/1/" for value in ODD_VALUES)]
    placeholders = [p for p in ("<path:object_id>", "<id>", "<int:role_id>", "<int:pk>",
                                "<path:content_type_id>", "<slug:connector>") if p in route]
    urls = []
    for placeholder in placeholders:
        for value in ODD_VALUES:
            if placeholder.startswith("<int:") and not value.isascii():
                continue  # Django's int converter takes ASCII digits: the resolver says 404
            odd = sample_url(route.replace(placeholder, quote(value, safe="")), objects)
            urls.append(odd)
    return [url, *urls]


@pytest.mark.django_db
def test_no_url_answers_500_to_odd_ids_and_parameters(sample_objects, people):
    """Huge, negative, non-numeric and Unicode ids, `'--`, in every placeholder, query parameter
    and form field of every URL: an administrator never gets a 500."""
    problems = []
    for route in served_routes():
        rule = classify(route)
        if route == "admin/logout/":
            continue  # it logs the holder out, whatever it is sent; it reads nothing
        # given the holder of every right, and a browser that reports a 500 instead of raising
        browser = client_for(people["holder"])
        base, *odd_paths = odd_urls(route, sample_objects)
        # when the URL is asked with each odd value in every parameter or form field, and with
        # each odd value in each of its placeholders
        asked = [(base, value) for value in ODD_VALUES] + [(url, None) for url in odd_paths]
        for url, value in asked:
            if rule.post_only:
                answer = browser.post(url, dict.fromkeys(FORM_FIELDS, value or "1"))
            else:
                answer = browser.get(url, dict.fromkeys(QUERY_PARAMETERS, value) if value else {})
            # then it answers, never with a 500 (nor sends the holder to the login); the one
            # deliberate 5xx is the invoice PDF's 502: DigitaleFactuur did not hand it over (here
            # the sample connector is off), and the page says so
            deliberate = answer.status_code == 502 and "/pdf/" in route
            if (answer.status_code >= 500 and not deliberate) \
                    or "/admin/login/" in answer.get("Location", ""):
                problems.append((route, url, value, answer.status_code))
    assert not problems, "\n".join(map(str, problems))
