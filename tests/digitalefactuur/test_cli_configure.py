"""`manage.py digitalefactuur configure / test / status`: the screen's rules, exit status 0 or 1."""

import io

import pytest
from django.core.management import CommandError, call_command
from django_q.models import Schedule

from integration.digitalefactuur.models import DigitaleFactuurSettings


def run(*arguments, stdin: str | None = None, monkeypatch=None):
    """Run the command; (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    try:
        call_command("digitalefactuur", *arguments, stdout=out, stderr=err)
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    return status, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_configure_with_test_and_options_in_one_go(df_sandbox, monkeypatch):
    """An operator script: credentials from stdin, --test, options; exit 0, scheduled."""
    # when
    status, out, err = run(
        "configure", "--account-id", df_sandbox.account_id, "--access-code-stdin", "--activate",
        "--debtors", "person", "--debtor-type", "te beoordelen", "--creditors", "organisation",
        "--push", "--interval", "30", "--test",
        stdin=df_sandbox.access_code + "\n", monkeypatch=monkeypatch)

    # then
    assert status == 0, err
    assert "De koppeling werkt" in out
    assert df_sandbox.access_code not in out + err
    df = DigitaleFactuurSettings.load()
    assert df.active and df.options_unlocked
    assert (df.debtors_enabled, df.debtors_kind, df.debtor_relation_type.name) == (
        True, "person", "Te beoordelen")
    assert df.creditors_enabled and df.push_enabled and df.interval_minutes == 30
    assert Schedule.objects.get().minutes == 30


@pytest.mark.django_db
def test_configure_options_without_a_test_is_refused_and_saves_nothing(df_sandbox):
    """Options while locked: exit 1, the Dutch reason on stderr, nothing saved."""
    status, _out, err = run("configure", "--account-id", "10001", "--access-code", "code",
                           "--debtors", "organisation")
    assert status == 1
    assert "na een geslaagde test" in err
    df = DigitaleFactuurSettings.load()
    assert not df.has_access_code and not df.debtors_enabled


@pytest.mark.django_db
def test_configure_with_a_failing_test_saves_nothing(df_sandbox):
    status, _out, err = run("configure", "--account-id", df_sandbox.account_id,
                            "--access-code", "fout", "--activate", "--test")
    assert status == 1
    assert "Account-id of toegangscode onjuist" in err
    assert not DigitaleFactuurSettings.load().active


@pytest.mark.parametrize(("arguments", "message"), [
    (("configure", "--account-id", "abc"), "bestaat alleen uit cijfers"),
    (("configure", "--debtor-type", "Bestaat niet"), "Onbekend relatietype"),
    (("configure", "--activate"), "heeft een Account-id en een toegangscode nodig"),
])
@pytest.mark.django_db
def test_configure_bad_input_exits_1_with_the_reason(arguments, message):
    """Malformed account id, unknown relation type, activating without credentials."""
    status, _out, err = run(*arguments)
    assert status == 1
    assert message in err
    assert not DigitaleFactuurSettings.load().active


@pytest.mark.django_db
def test_configure_rejects_an_interval_not_on_the_list(db):
    """argparse refuses it (exit 2 from a shell; a CommandError through call_command)."""
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("digitalefactuur", "configure", "--interval", "7",
                     stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.django_db
def test_test_command_exit_status(df_sandbox, tested_settings):
    """`test`: 0 on success; 1 with the Dutch message when DigitaleFactuur refuses."""
    assert run("test")[0] == 0
    df_sandbox.set_account_active(False)
    status, _out, err = run("test")
    assert status == 1
    assert "API-toegang staat niet aan" in err
    assert DigitaleFactuurSettings.load().last_test_ok is False


@pytest.mark.django_db
def test_status_shows_everything_but_the_code(tested_settings, df_sandbox):
    status, out, _err = run("status")
    assert status == 0
    assert "Account-id: 10001" in out
    assert "Toegangscode: opgeslagen" in out
    assert "Opties: beschikbaar" in out
    assert "Planning: elke 60 minuten" in out
    assert df_sandbox.access_code not in out


@pytest.mark.django_db
@pytest.mark.parametrize(("reading", "learned", "shown"), [
    ({}, {"paging": "honoured", "number_filter": "honoured"},
     "pagina's gevolgd: ja; filter op relatienummer gevolgd: ja"),
    ({"listing": "unpaged", "number_filter": "ignored"},
     {"paging": "ignored", "number_filter": "ignored"},
     "pagina's gevolgd: nee; filter op relatienummer gevolgd: nee"),
], ids=["documented", "unpaged-filter-ignored"])
def test_the_test_learns_how_digitalefactuur_answers_and_status_shows_it(
        df_sandbox, monkeypatch, reading, learned, shown):
    """Koppeling testen learns whether the service pages and filters by number; `status`
    shows it next to the address in use. Nothing depends on it."""
    # given an account of 150 klanten, DigitaleFactuur playing the reading
    df_sandbox.set_readings(**reading)
    df_sandbox.seed(150)

    # when
    status, _out, err = run("configure", "--account-id", df_sandbox.account_id,
                            "--access-code-stdin", "--activate", "--test",
                            stdin=df_sandbox.access_code + "\n", monkeypatch=monkeypatch)
    _status, out, _err = run("status")

    # then
    assert status == 0, err
    assert DigitaleFactuurSettings.load().api_reading == learned
    lines = out.splitlines()
    address = next(i for i, line in enumerate(lines) if line.startswith("DigitaleFactuur-adres"))
    assert df_sandbox.base_url in lines[address]
    assert shown in lines[address + 1]


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "message"), [
    ("x" * 100_000, "niet meer dan 200 tekens"),
    ("code\x00nul", "Null-tekens zijn niet toegestaan"),
    # Undecodable bytes in argv reach the command as lone surrogates (surrogateescape).
    (b"code-\xff\xfe".decode("utf-8", "surrogateescape"), "geen geldige UTF-8"),
])
def test_configure_applies_the_screens_rules_to_the_access_code(code, message):
    """The screen takes at most 200 characters, no NUL; the command now the same, and bytes
    that are not text are a Dutch refusal, not a UnicodeEncodeError traceback."""
    # when
    status, out, err = run("configure", "--account-id", "10001", "--access-code", code)
    # then
    assert status == 1 and message in err, err
    assert "Niets opgeslagen" in err and "Traceback" not in err + out
    assert code[:50] not in out + err
    assert not DigitaleFactuurSettings.load().has_access_code


@pytest.mark.django_db
@pytest.mark.parametrize("errors", ["strict", "surrogateescape"])
def test_configure_refuses_undecodable_bytes_on_stdin(monkeypatch, errors):
    # given stdin carrying bytes that are not UTF-8, decoded either way Python may do it
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"code-\xff\xfe\n"),
                                                      encoding="utf-8", errors=errors))
    # when
    status, _out, err = run("configure", "--account-id", "10001", "--access-code-stdin")
    # then
    assert status == 1 and "geen geldige UTF-8" in err
    assert not DigitaleFactuurSettings.load().has_access_code
