"""`manage.py digitalefactuur sync [--dry-run]`: a foreground run with progress and a summary.
"""

from io import StringIO

import pytest
from django.core.management import call_command

from integration.connectors.models import SyncRun
from integration.crm.models import Relation
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_sync_runs_in_the_foreground_with_progress_and_summary(configure, df_sandbox):
    # given
    configure(push=True)
    df_sandbox.add_klant(relatienummer="1001", type="debiteur", naam="Uit DigitaleFactuur")
    OrganisationFactory(debtor_number="1002")
    out = StringIO()

    # when
    call_command("digitalefactuur", "sync", stdout=out)

    # then
    text = out.getvalue()
    # The imported relation and the CRM's own: two to export.
    assert "\r[" + "#" * 30 + "] 2/2 Bijwerken in DigitaleFactuur" in text
    assert "DigitaleFactuur → PerfectView: aangemaakt 1" in text
    assert "PerfectView → DigitaleFactuur: aangemaakt 1" in text
    assert "Status: geslaagd" in text
    assert SyncRun.objects.get().trigger == "cli"


def test_dry_run_prints_every_change_per_field_and_writes_nothing(configure, df_sandbox):
    # given
    configure(push=True)
    df_sandbox.add_klant(relatienummer="1001", type="debiteur", naam="Uit DigitaleFactuur",
                         plaats="Leiden")
    out = StringIO()

    # when
    call_command("digitalefactuur", "sync", "--dry-run", stdout=out)

    # then
    text = out.getvalue()
    assert "aangemaakt: 1001" in text
    assert "organisation_name: '' -> 'Uit DigitaleFactuur'" in text
    assert "invoice_city: '' -> 'Leiden'" in text
    assert not Relation.objects.exists() and not SyncRun.objects.exists()
    assert df_sandbox.counters()["POST"] == 0


def test_sync_refuses_while_the_connector_is_not_active(db, df_sandbox):
    # given
    err = StringIO()

    # when
    with pytest.raises(SystemExit) as exit_status:
        call_command("digitalefactuur", "sync", stderr=err)

    # then
    assert exit_status.value.code == 1
    assert "niet actief" in err.getvalue()
