""""Can the connector do this now?": one rule on the settings, `refusal(purpose)`, asked by every
caller (runs, schedule, preview, retry, change push, listener, CLI, screens)."""

import pytest

from integration.connectors.models import SyncRun
from integration.digitalefactuur import tasks
from integration.digitalefactuur.models import DigitaleFactuurSettings, Purpose

pytestmark = pytest.mark.django_db

NOT_ACTIVE = "De koppeling met DigitaleFactuur is niet actief."
UNTESTED = "De koppeling is nog niet (opnieuw) getest; test eerst de koppeling."
NOTHING = "Er is niets te synchroniseren: zet Debiteuren, Crediteuren of Bijwerken aan."
PUSH_OFF = "Bijwerken (PerfectView → DigitaleFactuur) staat uit."


@pytest.mark.parametrize(("state", "expected"), [
    ({}, {Purpose.SCHEDULE: "", Purpose.RUN: "", Purpose.PUSH: ""}),
    ({"active": False}, {Purpose.SCHEDULE: NOT_ACTIVE, Purpose.RUN: NOT_ACTIVE,
                         Purpose.PUSH: NOT_ACTIVE}),
    ({"tested_fingerprint": ""}, {Purpose.SCHEDULE: UNTESTED, Purpose.RUN: UNTESTED,
                                  Purpose.PUSH: UNTESTED}),
    ({"push_enabled": False}, {Purpose.SCHEDULE: "", Purpose.RUN: "", Purpose.PUSH: PUSH_OFF}),
    ({"push_enabled": False, "debtors_enabled": False, "creditors_enabled": False},
     {Purpose.SCHEDULE: "", Purpose.RUN: NOTHING, Purpose.PUSH: PUSH_OFF}),
])
def test_one_rule_answers_every_purpose(configure, state, expected):
    # given
    df = configure(push=True)
    DigitaleFactuurSettings.objects.filter(pk=df.pk).update(**state)

    # when
    answers = {purpose: DigitaleFactuurSettings.ready(df.pk, purpose)[1]
               for purpose in expected}

    # then
    assert answers == expected


def test_settings_that_are_gone_are_not_active(configure):
    # given
    df = configure()

    # when
    found, reason = DigitaleFactuurSettings.ready(df.pk + 1, Purpose.RUN)

    # then
    assert found is None and reason == NOT_ACTIVE


def test_the_engine_records_the_rules_answer_as_a_skipped_run(configure):
    # given a connector with nothing chosen, still scheduled (active and tested)
    df = configure(debtors=False, creditors=False, push=False)

    # when the schedule fires
    run = SyncRun.objects.get(pk=tasks.scheduled_sync(df.pk))

    # then
    assert run.trigger == SyncRun.Trigger.SCHEDULED
    assert run.status == SyncRun.Status.SKIPPED and run.message == NOTHING


def test_the_options_refusal_explains_the_lock(configure):
    # given
    df = configure()
    df.lock_options()

    # when
    reason = df.refusal(Purpose.OPTIONS)

    # then
    assert reason.startswith("Het Account-id of de toegangscode is gewijzigd")
