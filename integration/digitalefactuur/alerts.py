"""Alerts: an e-mail when the connector stops working unattended, and one when it works again.

Called at the end of every run without touching the engine: `apps.py` connects `on_run_saved`
to `post_save` of `SyncRun`, and only a save that gives a real run (not a preview) a final
status counts. The mail goes out after the run's transaction has committed; a mail that cannot
be sent is logged and never breaks the run.

What is a problem (only for runs nobody watches: the schedule and the change push; whoever
clicks "Koppeling uitvoeren" sees the outcome on the screen):

- the run ended "mislukt" (DigitaleFactuur unreachable, credentials refused, ...): one problem,
  whatever the message, so a flapping cause does not mail again;
- records failed that did not fail before: a failed event whose relation (or, for a klant that
  never became a relation, whose number) had no failure as its previous event. The problem is
  that set of records; a record that keeps failing is not news.

The same problem mails at most once per `SYNC_ALERT_QUIET_HOURS` (default 6); another problem
mails at once. Once a problem was mailed, the first run (of any trigger) that shows it is over
mails a recovery, once: a run "geslaagd", or, after "mislukt", a run that reached
DigitaleFactuur again without new failures. The memory of what was mailed is two fields on the
settings row, written under its row lock, so two workers finishing at once mail once.

Who: every active user holding the Digitale Factuur right who has an e-mail address, one
message each. In Dutch: the product stores no language choice per user (each request follows
the browser), so there is no English choice to honour.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from integration.connectors.models import SyncEvent, SyncRun
from integration.rights.catalogue import DIGITALE_FACTUUR

logger = logging.getLogger(__name__)

CONNECTOR = "digitalefactuur"
Status = SyncRun.Status
FINAL_STATUSES = (Status.SUCCEEDED, Status.WITH_ERRORS, Status.FAILED)
#: Runs nobody is watching: only their problems are mailed.
UNATTENDED_TRIGGERS = (SyncRun.Trigger.SCHEDULED, SyncRun.Trigger.CHANGE)
FAILED_RUN_PROBLEM = "mislukt"
#: At most this many failed records are looked at and listed in one mail.
RECORD_LIMIT = 200
LISTED_RECORDS = 20


@dataclass(frozen=True)
class Problem:
    key: str
    subject: str
    summary: str


def on_run_saved(sender, instance: SyncRun, **kwargs) -> None:
    """post_save of SyncRun: look at a finished real run once its transaction has committed."""
    if instance.dry_run or instance.connector != CONNECTOR or instance.status not in \
            FINAL_STATUSES:
        return
    run_id = instance.pk
    transaction.on_commit(lambda: _check_safely(run_id))


def _check_safely(run_id: int) -> None:
    try:
        check_run(run_id)
    except Exception:  # an alert must never break the run that triggered it
        logger.exception("DigitaleFactuur: the alert for run %s could not be sent", run_id)


def check_run(run_id: int) -> int:
    """Mail what run `run_id` means for its watchers; returns the number of mails sent."""
    from .models import SINGLETON_PK, DigitaleFactuurSettings

    run = SyncRun.objects.filter(pk=run_id).first()
    if run is None:
        return 0
    with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
        state = (DigitaleFactuurSettings.objects.select_for_update()
                 .filter(pk=SINGLETON_PK).first())
        if state is None:
            return 0
        problem = problem_of(run)
        now = timezone.now()
        if problem is not None:
            if run.trigger not in UNATTENDED_TRIGGERS or _quiet(state, problem, now):
                return 0
            _remember(state, problem.key, now)
            subject, body = problem.subject, _problem_body(run, problem)
        elif state.alert_problem and _recovered(run, state.alert_problem):
            _remember(state, "", None)
            subject, body = _recovery_mail(run)
        else:
            return 0
    return _send(subject, body)


def _quiet(state, problem: Problem, now) -> bool:
    quiet = timedelta(hours=settings.SYNC_ALERT_QUIET_HOURS)
    return (state.alert_problem == problem.key and state.alert_sent_at is not None
            and now - state.alert_sent_at < quiet)


def _remember(state, key: str, at) -> None:
    # update(), not save(): the settings' save keeps the schedule in step, which this is not.
    type(state).objects.filter(pk=state.pk).update(alert_problem=key, alert_sent_at=at)


def _recovered(run: SyncRun, open_problem: str) -> bool:
    if run.status == Status.SUCCEEDED:
        return True
    return open_problem == FAILED_RUN_PROBLEM and run.status == Status.WITH_ERRORS


# --- what the problem is -----------------------------------------------------------------------

def problem_of(run: SyncRun) -> Problem | None:
    if run.status == Status.FAILED:
        return Problem(FAILED_RUN_PROBLEM,
                       _("DigitaleFactuur koppeling: synchronisatie mislukt"),
                       run.message or _("De synchronisatie is mislukt."))
    new = newly_failed(run)
    if not new:
        return None
    keys = sorted(_record_key(event) for event in new)
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:32]
    lines = [f"- {_record_name(event)}: {event.message}" for event in new[:LISTED_RECORDS]]
    if len(new) > LISTED_RECORDS:
        lines.append(_("- en nog %(count)d") % {"count": len(new) - LISTED_RECORDS})
    subject = ngettext(
        "DigitaleFactuur koppeling: %(count)d record kon niet worden gesynchroniseerd",
        "DigitaleFactuur koppeling: %(count)d records konden niet worden gesynchroniseerd",
        len(new)) % {"count": len(new)}
    return Problem(f"fouten:{digest}", subject, "\n".join(lines))


def newly_failed(run: SyncRun) -> list[SyncEvent]:
    """The failed events of `run` whose record's previous event was not a failure."""
    failed = list(SyncEvent.objects.filter(run=run, action=SyncEvent.Action.ERROR)
                  .select_related("relation").order_by("id")[:RECORD_LIMIT])
    earlier_events = SyncEvent.objects.filter(run__connector=CONNECTOR, run__dry_run=False) \
        .exclude(run=run)
    new = []
    for event in failed:
        same_record = (Q(relation_id=event.relation_id) if event.relation_id
                       else Q(relation__isnull=True, number=event.number, kind=event.kind))
        previous = (earlier_events.filter(same_record, id__lt=event.id).order_by("-id")
                    .values_list("action", flat=True).first())
        if previous != SyncEvent.Action.ERROR:
            new.append(event)
    return new


def _record_key(event: SyncEvent) -> str:
    return f"relation:{event.relation_id}" if event.relation_id else \
        f"klant:{event.kind}:{event.number}"


def _record_name(event: SyncEvent) -> str:
    name = str(event.relation) if event.relation is not None else ""
    return " ".join(part for part in (event.number, name) if part) or event.df_id or "?"


# --- the mails ---------------------------------------------------------------------------------

def run_link(run: SyncRun) -> str:
    return f"{settings.SITE_URL}{reverse('connectors:run', args=[run.connector, run.pk])}"


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "j F Y H:i") if moment else "-"


def _problem_body(run: SyncRun, problem: Problem) -> str:
    return "\n".join([
        _("De DigitaleFactuur koppeling meldt een probleem."),
        "",
        _("Run %(id)s (%(trigger)s), %(when)s: %(status)s.") % {
            "id": run.pk, "trigger": run.get_trigger_display(), "when": _when(run.finished_at),
            "status": run.get_status_display()},
        "",
        problem.summary,
        "",
        _("Bekijk de run: %(url)s") % {"url": run_link(run)},
        "",
        _("Over hetzelfde probleem krijg je hooguit eens per %(hours)s uur een e-mail; als het "
          "weer goed gaat, krijg je één bericht.") % {
            "hours": f"{settings.SYNC_ALERT_QUIET_HOURS:g}"},
    ])


def _recovery_mail(run: SyncRun) -> tuple[str, str]:
    return _("DigitaleFactuur koppeling werkt weer"), "\n".join([
        _("De DigitaleFactuur koppeling werkt weer: run %(id)s (%(trigger)s), %(when)s, is "
          "%(status)s.") % {
            "id": run.pk, "trigger": run.get_trigger_display(), "when": _when(run.finished_at),
            "status": run.get_status_display()},
        "",
        _("Bekijk de run: %(url)s") % {"url": run_link(run)},
    ])


def recipients():
    """Active holders of the Digitale Factuur right with an e-mail address."""
    from django.contrib.auth.models import User

    from integration.rights.changes import permission_for

    permission = permission_for(DIGITALE_FACTUUR)
    holders = Q(is_superuser=True)
    if permission is not None:
        holders |= Q(groups__permissions=permission) | Q(user_permissions=permission)
    return (User.objects.filter(holders, is_active=True).exclude(email="").distinct()
            .order_by("pk"))


def _send(subject: str, body: str) -> int:
    messages = [EmailMessage(subject, body, to=[user.email]) for user in recipients()]
    if not messages:
        logger.info("DigitaleFactuur alert not mailed: no holder of the right has an e-mail "
                    "address")
        return 0
    return get_connection().send_messages(messages) or 0
