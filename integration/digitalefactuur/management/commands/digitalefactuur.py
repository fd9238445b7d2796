"""`manage.py digitalefactuur`: configure, test and inspect the connector from a shell or script.

Sub-commands (each one small function, registered in `SUBCOMMANDS`):

- `configure`: credentials, activation and options, with the screen's rules: options only while
  unlocked by a successful test, or with `--test` when that test succeeds. All or nothing: when
  anything is refused, nothing is saved.
- `test`: "Koppeling testen" with the stored credentials; the outcome is stored as on the screen.
- `status`: the address of DigitaleFactuur in use (and whether it is the sandbox), the
  connector's health as the screen shows it (last contact, last and next run, relations whose
  last sync failed), the settings without the code.
- `rotate-key`: encrypt the stored code again with the newest FIELD_ENCRYPTION_KEY.
- `sync [--dry-run]`: one run in the foreground with a progress bar and a summary; `--dry-run`
  prints every change it would make, per record and field (old -> new), and writes nothing.

Exit status 0 on success; 1 with the Dutch message on stderr otherwise. The access code is read
from `--access-code-stdin` (one line) by preference, since a command-line argument is visible in
the process list; it is never printed.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandParser
from django.core.validators import ValidationError
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from integration.crm.models import RelationType
from integration.digitalefactuur import crypto
from integration.digitalefactuur.connection import run_connection_test
from integration.digitalefactuur.fields import DIRECTIONS
from integration.digitalefactuur.forms import KoppelingForm
from integration.digitalefactuur.models import (
    INTERVAL_CHOICES,
    DigitaleFactuurSettings,
    validate_account_id,
)
from integration.digitalefactuur.schedule import SCHEDULE_NAME

DIRECTION_CHOICES = ("off", "organisation", "person")


class Failure(Exception):
    """A refusal with its Dutch message: stderr and exit status 1."""


class Command(BaseCommand):
    help = "DigitaleFactuur koppeling instellen, testen en bekijken."

    def add_arguments(self, parser: CommandParser) -> None:
        # Django's CommandParser hands its own parser class to the sub-parsers.
        commands = parser.add_subparsers(dest="subcommand", required=True)
        for name, (add_arguments, _handler, help_text) in SUBCOMMANDS.items():
            add_arguments(commands.add_parser(name, help=help_text))

    def handle(self, *args, subcommand: str, **options) -> None:
        _add, handler, _help = SUBCOMMANDS[subcommand]
        try:
            handler(self, options)
        except Failure as failure:
            self.stderr.write(str(failure))
            sys.exit(1)

    def say(self, text: str = "") -> None:
        self.stdout.write(text)


# --- configure ---------------------------------------------------------------------------------

def _configure_arguments(parser: CommandParser) -> None:
    parser.add_argument("--account-id", help="Account-id (alleen cijfers)")
    code = parser.add_mutually_exclusive_group()
    code.add_argument("--access-code", help="Toegangscode (liever --access-code-stdin: een "
                                            "argument is zichtbaar in de proceslijst)")
    code.add_argument("--access-code-stdin", action="store_true",
                      help="lees de toegangscode als één regel van stdin")
    activation = parser.add_mutually_exclusive_group()
    activation.add_argument("--activate", dest="active", action="store_true", default=None)
    activation.add_argument("--deactivate", dest="active", action="store_false")
    parser.add_argument("--debtors", choices=DIRECTION_CHOICES)
    parser.add_argument("--debtor-type", metavar="NAME", help="relatietype, bijv. Klant")
    parser.add_argument("--creditors", choices=DIRECTION_CHOICES)
    parser.add_argument("--creditor-type", metavar="NAME", help="relatietype, bijv. Leverancier")
    push = parser.add_mutually_exclusive_group()
    push.add_argument("--push", dest="push", action="store_true", default=None,
                      help="DigitaleFactuur bijwerken vanuit PerfectView")
    push.add_argument("--no-push", dest="push", action="store_false")
    parser.add_argument("--interval", type=int, metavar="MINUTES",
                        choices=[minutes for minutes, _label in INTERVAL_CHOICES])
    parser.add_argument("--test", action="store_true",
                        help="test de koppeling voordat er wordt opgeslagen")


def _relation_type(name: str) -> RelationType:
    found = RelationType.objects.filter(name__iexact=name.strip()).first()
    if found is None:
        known = ", ".join(RelationType.objects.values_list("name", flat=True))
        raise Failure(_("Onbekend relatietype '%(name)s'. Kies uit: %(known)s.")
                      % {"name": name, "known": known})
    return found


def _not_text() -> Failure:
    return Failure(_("De toegangscode bevat bytes die geen tekst zijn (geen geldige UTF-8). "
                     "Niets opgeslagen; typ of plak de toegangscode opnieuw."))


def _read_code(command: Command, options: dict) -> str | None:
    if options["access_code_stdin"]:
        try:
            line = sys.stdin.readline()
        except UnicodeDecodeError:
            raise _not_text() from None
        if not line.strip():
            raise Failure(_("Er kwam geen toegangscode binnen op stdin."))
        return _valid_code(line)
    if options["access_code"] is not None:
        return _valid_code(options["access_code"])
    return None


def _valid_code(code: str) -> str:
    """The code by the screen's rules (trimmed, at most 200 characters, no NUL), or Failure."""
    try:
        # Undecodable bytes in argv (or stdin read with surrogateescape) arrive as lone
        # surrogates, which no encoder takes: refused here, not as a traceback at encryption.
        code.encode("utf-8")
    except UnicodeEncodeError:
        raise _not_text() from None
    try:
        # The screen's own field: one limit and one set of rules for both doors.
        return KoppelingForm.base_fields["access_code"].clean(code)
    except ValidationError as exc:
        raise Failure(_("Toegangscode: %(reason)s Niets opgeslagen.")
                      % {"reason": " ".join(exc.messages)}) from None


def _apply_options(df: DigitaleFactuurSettings, options: dict) -> bool:
    """Put the option arguments on `df`; True when any was given."""
    given = False
    for prefix, singular in (("debtors", "debtor"), ("creditors", "creditor")):
        direction = options[prefix]
        if direction is not None:
            given = True
            setattr(df, f"{prefix}_enabled", direction != "off")
            if direction != "off":
                setattr(df, f"{prefix}_kind", direction)
        if options[f"{singular}_type"]:
            given = True
            setattr(df, f"{singular}_relation_type", _relation_type(options[f"{singular}_type"]))
    if options["push"] is not None:
        given, df.push_enabled = True, options["push"]
    if options["interval"] is not None:
        given, df.interval_minutes = True, options["interval"]
    return given


def configure(command: Command, options: dict) -> None:
    df = DigitaleFactuurSettings.load()
    if options["account_id"] is not None:
        account_id = options["account_id"].strip()
        try:
            validate_account_id(account_id)
        except ValidationError as exc:
            raise Failure(" ".join(str(m) for m in exc.messages)) from None
        df.account_id = account_id
    code = _read_code(command, options)
    if code:
        try:
            unchanged = df.access_code == code
        except crypto.DecryptionError:
            unchanged = False
        if not unchanged:
            df.set_access_code(code)
    if options["active"] is not None:
        df.active = options["active"]
    if df.active and not (df.account_id and df.has_access_code):
        raise Failure(_("Niets opgeslagen: een actieve koppeling heeft een Account-id en een "
                        "toegangscode nodig."))

    outcome = run_connection_test(df) if options["test"] else None
    if outcome is not None and not outcome.ok:
        raise Failure(_("Niets opgeslagen: de test is mislukt. %(message)s")
                      % {"message": outcome.message})
    if _apply_options(df, options) and not df.options_unlocked:
        raise Failure(_("Niets opgeslagen: de opties kunnen pas worden ingesteld na een "
                        "geslaagde test van de koppeling. Voeg --test toe, of test eerst met "
                        "'manage.py digitalefactuur test'."))
    df.save()
    if outcome is not None:
        command.say(outcome.message)
    command.say(_("De instellingen van de DigitaleFactuur koppeling zijn opgeslagen."))
    _print_status(command, df)


# --- test --------------------------------------------------------------------------------------

def _no_arguments(parser: CommandParser) -> None:
    pass


def test(command: Command, options: dict) -> None:
    df = DigitaleFactuurSettings.load()
    outcome = run_connection_test(df)
    df.save()
    if not outcome.ok:
        raise Failure(outcome.message)
    command.say(outcome.message)


# --- status ------------------------------------------------------------------------------------

def _yes_no(value: bool) -> str:
    return _("ja") if value else _("nee")


def _direction(df: DigitaleFactuurSettings, prefix: str, singular: str) -> str:
    if not getattr(df, f"{prefix}_enabled"):
        return _("uit")
    kind = getattr(df, f"get_{prefix}_kind_display")()
    relation_type = getattr(df, f"{singular}_relation_type")
    return _("aan, als %(kind)s, relatietype %(type)s") % {
        "kind": kind, "type": relation_type or _("(geen)")}


def _api_reading(reading: dict) -> str:
    """What the last successful test learned of the open points of the API, in words."""
    if not reading:
        return _("nog niet bepaald (test de koppeling)")
    words = {"honoured": _("ja"), "ignored": _("nee"), "unknown": _("onbekend")}
    return _("pagina's gevolgd: %(paging)s; filter op relatienummer gevolgd: %(filter)s "
             "(de koppeling werkt in elk geval)") % {
        "paging": words.get(reading.get("paging"), words["unknown"]),
        "filter": words.get(reading.get("number_filter"), words["unknown"])}


def _print_status(command: Command, df: DigitaleFactuurSettings) -> None:
    from django_q.models import Schedule

    from integration.digitalefactuur import health as connector_health

    try:
        df.access_code  # noqa: B018  (only whether it can be read)
        code_state = _("opgeslagen") if df.has_access_code else _("niet ingesteld")
    except crypto.DecryptionError:
        code_state = _("opgeslagen maar onleesbaar (sleutel gewijzigd)")
    health = connector_health.connector_health(DigitaleFactuurSettings.load())
    contact = health.last_contact
    if contact is None:
        last_contact = _("nog geen")
    else:
        verdict = _("geslaagd") if contact.ok else _("mislukt")
        last_contact = f"{_when(contact.at)} ({contact.source}), {verdict}"
        if not contact.ok and contact.message:
            last_contact += f": {contact.message}"
    last_run = (f"{_when(health.last_run.queued_at)}, {health.last_run.get_status_display()} "
                f"(run {health.last_run.pk})" if health.last_run else _("nog geen"))
    schedule = Schedule.objects.filter(name=SCHEDULE_NAME).first()
    planned = (_("elke %(minutes)s minuten, volgende keer %(next)s") % {
        "minutes": schedule.minutes, "next": _when(schedule.next_run)}
        if schedule else _("geen"))
    url, which = connector_health.address()
    lines = [
        (_("DigitaleFactuur-adres"), f"{url} ({which})"),
        (_("Werkwijze van DigitaleFactuur"), _api_reading(df.api_reading)),
        (_("Toestand"), health.summary),
        (_("Laatste contact met DigitaleFactuur"), last_contact),
        (_("Laatste run"), last_run),
        (_("Volgende geplande run"), _when(health.next_run) if health.next_run else _("geen")),
        (_("Relaties met een mislukte laatste synchronisatie"), str(health.failed_relations)),
        (_("Koppeling actief"), _yes_no(df.active)),
        (_("Account-id"), df.account_id or _("niet ingesteld")),
        (_("Toegangscode"), code_state),
        (_("Opties"), _("beschikbaar") if df.options_unlocked
         else _("vergrendeld: %(reason)s") % {"reason": df.lock_reason()}),
        (_("Debiteuren"), _direction(df, "debtors", "debtor")),
        (_("Crediteuren"), _direction(df, "creditors", "creditor")),
        (_("Bijwerken"), _yes_no(df.push_enabled)),
        (_("Interval"), df.get_interval_minutes_display()),
        (_("Planning"), planned),
    ]
    for label, value in lines:
        command.say(f"{label}: {value}")


def _when(moment) -> str:
    return localtime(moment).isoformat(timespec="seconds") if moment else "-"


def status(command: Command, options: dict) -> None:
    _print_status(command, DigitaleFactuurSettings.load())


# --- rotate-key --------------------------------------------------------------------------------

def rotate_key(command: Command, options: dict) -> None:
    df = DigitaleFactuurSettings.load()
    try:
        had_code = df.reencrypt()
    except crypto.DecryptionError as exc:
        raise Failure(str(exc)) from None
    if not had_code:
        command.say(_("Er is geen toegangscode opgeslagen; niets te doen."))
        return
    df.save(update_fields=["access_code_encrypted", "updated_at"])
    command.say(_("De toegangscode is opnieuw versleuteld met de nieuwste sleutel."))


# --- sync --------------------------------------------------------------------------------------

def _sync_arguments(parser: CommandParser) -> None:
    parser.add_argument("--dry-run", action="store_true",
                        help="toon per relatie en per veld wat er zou veranderen, zonder iets "
                             "te schrijven in PerfectView of DigitaleFactuur")


class _ProgressBar:
    """One line, rewritten in place: "[#####     ] 120/300 Bijwerken in DigitaleFactuur"."""

    WIDTH = 30

    def __init__(self, command: Command):
        self.out = command.stdout
        self.shown = False

    def show(self, run) -> None:
        if run.total:
            filled = self.WIDTH * min(run.processed, run.total) // run.total
            line = (f"[{'#' * filled}{' ' * (self.WIDTH - filled)}] "
                    f"{run.processed}/{run.total} {run.phase}")
        else:
            line = f"{run.processed} {run.phase}"
        self.out.write(f"\r{line:<78}", ending="")
        self.out.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            self.out.write("")


def _print_preview(command: Command, preview) -> None:
    if not preview.events:
        command.say(_("Er zou niets veranderen."))
    for event in preview.events:
        name = event.relation.display_name if event.relation is not None else ""
        command.say(f"[{DIRECTIONS.get(event.direction, event.direction)}] "
                    f"{event.get_action_display()}: "
                    f"{event.number or event.external_id} {name}".rstrip())
        for field, (old, new) in event.diff.items():
            command.say(f"    {field}: {old!r} -> {new!r}")
        if event.message:
            command.say(f"    {event.message}")


def _print_summary(command: Command, run) -> None:
    from integration.connectors.models import SyncEvent, SyncRun

    directions = DIRECTIONS
    actions = dict(SyncEvent.Action.choices)
    for direction, per_action in run.counts.items():
        counted = ", ".join(f"{actions.get(action, action)} {n}"
                            for action, n in sorted(per_action.items()))
        command.say(f"{directions.get(direction, direction)}: {counted}")
    duration = run.duration.total_seconds() if run.duration else 0
    command.say(_("Status: %(status)s (%(seconds).1f s)") % {
        "status": SyncRun.Status(run.status).label, "seconds": duration})
    if run.message:
        command.say(run.message)


def sync_now(command: Command, options: dict) -> None:
    from integration.connectors.models import SyncRun
    from integration.digitalefactuur import sync

    df = DigitaleFactuurSettings.load()
    reason = sync.not_ready_reason(df)
    if reason:
        raise Failure(reason)
    bar = _ProgressBar(command)
    if options["dry_run"]:
        run = sync.preview(df.pk, SyncRun.Trigger.CLI, on_progress=bar.show)
    else:
        run = sync.run(df.pk, SyncRun.Trigger.CLI, on_progress=bar.show)
    bar.done()
    if options["dry_run"]:
        _print_preview(command, run)
    _print_summary(command, run)
    if run.status in (SyncRun.Status.FAILED, SyncRun.Status.SKIPPED, SyncRun.Status.ABORTED):
        raise Failure(run.message)


SUBCOMMANDS = {
    "configure": (_configure_arguments, configure, "instellen"),
    "test": (_no_arguments, test, "koppeling testen"),
    "status": (_no_arguments, status,
               "adres, toestand (laatste contact, runs, fouten), instellingen en planning tonen"),
    "rotate-key": (_no_arguments, rotate_key,
                   "toegangscode opnieuw versleutelen met de nieuwste sleutel"),
    "sync": (_sync_arguments, sync_now,
             "nu synchroniseren, met voortgang; --dry-run toont alleen wat er zou veranderen"),
}
