"""The state file and the command line: the demo keeps its klanten and never duplicates them."""

import json
import subprocess
from pathlib import Path

import pytest
import requests

from integration.dfsandbox.app import Sandbox
from integration.dfsandbox.control import sandbox_command, start_sandbox_process
from integration.dfsandbox.documents import ApiError

from .helpers import parse_klanten, post_klant, read_klant, read_klanten

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_the_state_file_round_trips_and_ids_keep_counting(tmp_path):
    """A new sandbox on the same file has the same accounts and klanten; ids are never reused."""
    # given
    state = tmp_path / "state" / "dfsandbox.json"
    first = Sandbox("10001", "code", state_file=state)
    kept = first.store.create("10001", {"relatienummer": "1001", "naam": "Blijft"})
    gone = first.store.create("10001", {"relatienummer": "1002", "naam": "Verdwijnt"})
    first.store.delete("10001", gone["id"])
    first.store.set_account("10001", active=False)

    # when
    second = Sandbox("10001", "code", state_file=state)
    assert second.store.load()
    newer = second.store.create("10001", {"relatienummer": "1003", "naam": "Nieuw"})

    # then
    assert second.store.all_klanten("10001")[0] == kept
    assert newer["id"] > gone["id"]
    assert second.store.accounts()[0]["active"] is False
    assert sorted(p.name for p in state.parent.iterdir()) == ["dfsandbox.json"]


def test_the_command_line_access_code_wins_over_the_stored_one(tmp_path):
    """Restarting with another --access-code changes the code, not the klanten."""
    # given
    state = tmp_path / "dfsandbox.json"
    Sandbox("10001", "oud", state_file=state).store.create("10001", {"naam": "A"})

    # when
    restarted = Sandbox("10001", "nieuw", state_file=state)
    restarted.store.load()

    # then
    restarted.store.authenticate("10001", "nieuw")
    with pytest.raises(ApiError):
        restarted.store.authenticate("10001", "oud")
    assert restarted.store.count("10001") == 1


def test_a_corrupt_state_file_is_an_error_and_is_left_alone(tmp_path):
    """The demo's data is never silently wiped by a file it cannot read."""
    # given
    state = tmp_path / "dfsandbox.json"
    state.write_text("{ half a json", encoding="utf-8")

    # when / then
    with pytest.raises(json.JSONDecodeError):
        Sandbox(state_file=state).store.load()
    assert state.read_text(encoding="utf-8") == "{ half a json"


def test_the_cli_seeds_once_and_a_restart_duplicates_nothing(tmp_path):
    """--seed fills an empty state; after a restart the same file gives the same klanten plus
    what was created through the API, and nothing twice."""
    # given
    state = str(tmp_path / "dfsandbox.json")
    arguments = ("--seed", "12", "--state-file", state)
    with start_sandbox_process(*arguments, cwd=PROJECT_ROOT) as first:
        api = f"{first.base_url}/{first.account_id}/{first.access_code}"
        created = read_klant(post_klant(requests, api, "klant_aanmaken", relatienummer="1500",
                                        naam="Via de API").text)
        before = first.klanten()

    # when
    with start_sandbox_process(*arguments, cwd=PROJECT_ROOT) as second:
        after = second.klanten()
        listed = read_klanten(requests.get(
            f"{second.base_url}/{second.account_id}/{second.access_code}/klanten&page=1",
            timeout=5).text)

    # then
    assert len(before) == 13 and after == before
    assert int(created["id"]) in {klant["id"] for klant in after}
    assert len({klant["relatienummer"] for klant in after}) == 13
    assert len(listed) == 13


def test_the_cli_prints_where_it_listens_and_honours_fault_flags(tmp_path):
    """One line with the URL, account and access code; --error-rate 1 makes every call a 500."""
    # when
    with start_sandbox_process("--seed", "0", "--error-rate", "1", cwd=PROJECT_ROOT,
                               access_code="cli-code") as sandbox:
        banner = sandbox.banner
        answer = requests.get(f"{sandbox.base_url}/10001/cli-code/klanten&page=1", timeout=5)

    # then
    assert f"listening on {sandbox.base_url} " in banner
    assert "account 10001" in banner and "access code cli-code" in banner
    assert answer.text.startswith("500 ")


def test_the_cli_refuses_impossible_fault_shares():
    """Shares above 1 are a usage error, reported before anything listens."""
    # when
    finished = subprocess.run(sandbox_command("--port", "0", "--error-rate", "2"),
                              cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=30)

    # then
    assert finished.returncode == 2
    assert "error_rate" in finished.stderr


def test_extra_and_nested_elements_survive_the_state_file(tmp_path):
    """Version 2 keeps what we do not map, nesting and order included."""
    # given
    state = tmp_path / "dfsandbox.json"
    first = Sandbox("10001", "code", state_file=state)
    kept = first.store.create("10001", {
        "relatienummer": "1001", "naam": "Korenaar", "mobiel": "06-1",
        "contactpersoon": {"id": "4711", "naam": "Anouk", "email": ""}})

    # when
    second = Sandbox("10001", "code", state_file=state)
    second.store.load()

    # then
    assert json.loads(state.read_text(encoding="utf-8"))["version"] == 2
    [restored] = second.store.all_klanten("10001")
    assert restored == kept
    assert list(restored["contactpersoon"]) == ["id", "naam", "email"]


def test_a_version_1_state_file_still_loads(tmp_path):
    """A demo's state from before extras existed keeps its klanten and ids."""
    # given
    state = tmp_path / "dfsandbox.json"
    state.write_text(json.dumps({
        "version": 1, "next_id": 133305,
        "accounts": [{"account_id": "10001", "access_code": "code", "active": True,
                      "klanten": [{"id": 133302, "relatienummer": "1001", "type": "debiteur",
                                   "naam": "Oud", "plaats": "Leiden"}]}],
    }), encoding="utf-8")

    # when
    sandbox = Sandbox("10001", "code", state_file=state)
    sandbox.store.load()
    newer = sandbox.store.create("10001", {"naam": "Nieuw"})

    # then
    [old, _new] = sandbox.store.all_klanten("10001")
    assert (old["id"], old["naam"], old["plaats"], old["faxnummer"]) == (133302, "Oud",
                                                                          "Leiden", "")
    assert newer["id"] == 133305


READING_FLAGS = ("--listing", "repeat_last", "--page-size", "2", "--number-filter", "ignored",
                 "--write-answer", "id", "--update", "clear", "--duplicates", "accepted",
                 "--documents", "wild")


def test_the_cli_reading_flags_are_played_and_reset_returns_to_them():
    """Every reading flag sets its reading; a control reset restores the flags' readings, not
    the defaults."""
    # given
    with start_sandbox_process("--seed", "0", *READING_FLAGS, cwd=PROJECT_ROOT) as sandbox:
        api = f"{sandbox.base_url}/{sandbox.account_id}/{sandbox.access_code}"
        started = sandbox.readings()
        for number in ("1001", "1001", "1002"):
            sandbox.add_klant(relatienummer=number, naam=f"Klant {number}")
        created = requests.post(f"{api}/klant_aanmaken", timeout=5, data={
            "xml": "<klant><relatienummer>1002</relatienummer><naam>Dubbel</naam></klant>"})
        past_the_end = requests.get(f"{api}/klanten&page=7", timeout=5).content
        filtered = requests.get(f"{api}/klanten&relatienummer=1001", timeout=5).content
        unfiltered = requests.get(f"{api}/klanten", timeout=5).content
        sandbox.set_readings(listing="paged", documents="tidy")

        # when
        sandbox.reset()
        after_reset = sandbox.readings()

    # then
    assert started == after_reset == {
        "listing": "repeat_last", "page_size": 2, "number_filter": "ignored",
        "write_answer": "id", "update": "clear", "duplicates": "accepted",
        "documents": "wild"}
    assert created.content.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<id>')
    assert [k["naam"] for k in parse_klanten(past_the_end)] == [
        "Klant 1002", "Dubbel"]
    assert filtered == unfiltered


def test_the_cli_defaults_are_the_documented_readings():
    """Without reading flags (as `make run` starts it) the sandbox plays the defaults."""
    # when
    with start_sandbox_process("--seed", "0", cwd=PROJECT_ROOT) as sandbox:
        readings = sandbox.readings()

    # then
    assert readings == {"listing": "paged", "page_size": 100, "number_filter": "honoured",
                        "write_answer": "klant", "update": "merge", "duplicates": "refused",
                        "documents": "tidy"}


@pytest.mark.parametrize(("flags", "named"), [(("--listing", "endless"), "--listing"),
                                              (("--page-size", "0"), "page_size")])
def test_the_cli_refuses_an_unknown_reading(flags, named):
    """A reading value that does not exist is a usage error, before anything listens."""
    # when
    finished = subprocess.run(sandbox_command("--port", "0", *flags), cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=30)

    # then
    assert finished.returncode == 2
    assert named in finished.stderr
