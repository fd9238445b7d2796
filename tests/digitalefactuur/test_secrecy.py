"""The Toegangscode is never shown back, never in the database as plaintext, never in a log,
never in a task's or schedule's arguments."""

import logging

import pytest
from django.core.management import call_command
from django.db import connection
from django_q.models import Schedule, Task

from integration.digitalefactuur.models import DigitaleFactuurSettings

from .conftest import SETTINGS_URL, koppeling_form


def every_value_in_the_database() -> str:
    """Every cell of every table, as text: what someone with a database dump would see."""
    cells = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 (names from introspection)
            cells.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(cells)


@pytest.mark.django_db
def test_code_appears_nowhere_after_the_whole_walk(df_client, df_sandbox, caplog, capsys):
    """Configure, test, choose options, check status: the code never leaks."""
    # given every log record captured
    caplog.set_level(logging.DEBUG)
    code = df_sandbox.access_code

    # when the administrator walks the screen
    df_client.post(SETTINGS_URL, {**koppeling_form(active=True, account_id=df_sandbox.account_id,
                                                   access_code=code), "action": "test"})
    df_client.post(SETTINGS_URL, koppeling_form(debtors_enabled=True, push_enabled=True))
    page = df_client.get(SETTINGS_URL).content.decode()
    call_command("digitalefactuur", "status")
    call_command("digitalefactuur", "test")

    # then the connector works: active, unlocked, scheduled
    df = DigitaleFactuurSettings.load()
    assert df.options_unlocked and df.access_code == code
    schedule = Schedule.objects.get()
    # and the code is nowhere to be seen
    assert code not in page
    assert "Er is een toegangscode opgeslagen" in page
    assert code not in every_value_in_the_database()
    assert code not in caplog.text
    assert all(code not in str(record.args) for record in caplog.records)
    assert code not in capsys.readouterr().out
    assert schedule.args == f"({df.pk},)" and code not in (schedule.kwargs or "")
    assert all(code not in repr((task.args, task.kwargs)) for task in Task.objects.all())


@pytest.mark.django_db
def test_a_failed_test_leaks_nothing_either(df_client, df_sandbox, caplog):
    """A refused code is not echoed in the message, the page or the logs."""
    caplog.set_level(logging.DEBUG)
    wrong = "verkeerde-geheime-code-42"

    response = df_client.post(SETTINGS_URL, {
        **koppeling_form(active=True, account_id=df_sandbox.account_id, access_code=wrong),
        "action": "test"}, follow=True)

    assert "Account-id of toegangscode onjuist" in response.content.decode()
    assert wrong not in response.content.decode()
    assert wrong not in caplog.text
    assert wrong not in every_value_in_the_database()
