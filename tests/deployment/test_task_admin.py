"""django-q2's own admin pages: a task that failed is visible, to whom, and with what arguments.

The sync log (Koppelingen › log) is the administrator's view of runs; a task that failed outside
a run (a bug, a worker killed by its timeout) is in django-q2's "Failed tasks", which django-q2
registers itself. Its arguments are ids only (tests/services checks the queue for the access
code). It is an operator's page: a superuser sees it, and any role can be given
django-q2's view permissions; the demo administrator has neither (README, "Deployment").
"""

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone
from django_q.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_task():
    now = timezone.now()
    return Task.objects.create(
        id="f" * 32, name="digitalefactuur-run-7",
        func="integration.digitalefactuur.tasks.run_sync", args=(1, 7), started=now,
        stopped=now, success=False, group="digitalefactuur",
        result="TimeoutError: task exceeded 3600 seconds")


def _staff(username: str, *permissions: str, superuser: bool = False) -> User:
    user = User.objects.create_user(username, password="x", is_staff=True,
                                    is_superuser=superuser)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="django_q",
                                                         codename=codename))
    return user


def test_a_superuser_sees_the_failed_task_and_why_it_failed(client, failed_task):
    # given
    client.force_login(_staff("operator", superuser=True))

    # when
    listing = client.get("/admin/django_q/failure/")
    detail = client.get(f"/admin/django_q/failure/{failed_task.pk}/change/")

    # then
    assert listing.status_code == 200 and "digitalefactuur-run-7" in listing.text
    assert detail.status_code == 200 and "TimeoutError" in detail.text


def test_a_role_with_the_view_permission_sees_failed_tasks(client, failed_task):
    # given
    client.force_login(_staff("beheer", "view_failure"))

    # when
    listing = client.get("/admin/django_q/failure/")

    # then
    assert listing.status_code == 200 and "digitalefactuur-run-7" in listing.text


def test_staff_without_it_does_not(client, failed_task):
    # given
    client.force_login(_staff("medewerker"))

    # when
    listing = client.get("/admin/django_q/failure/")

    # then
    assert listing.status_code == 403
