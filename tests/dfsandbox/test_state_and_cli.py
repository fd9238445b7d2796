"""The state file and the command line: the demo keeps its klanten and never duplicates them."""

import json
import subprocess
from pathlib import Path

import pytest
import requests

from integration.dfsandbox.app import Sandbox
from integration.dfsandbox.control import sandbox_command, start_sandbox_process
from integration.dfsandbox.documents import ApiError

from .helpers import post_klant, read_klant, read_klanten

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
