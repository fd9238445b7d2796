"""One embedded default everywhere: web, worker and manage.py read the sandbox address from the
settings (the `.env` that `make run` writes), never from the Makefile; production never does.

Each scenario starts a fresh interpreter, as a second shell would, because settings are read
once at start.
"""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from honcho.environ import parse as honcho_parse

from tests.settings.test_environment import ROOT

PROBE = ("import django; from django.conf import settings; django.setup(); "
         "print(settings.DIGITALEFACTUUR_BASE_URL)")


def base_url_in_a_new_shell(env_file: Path | str, **environment) -> str:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DIGITALEFACTUUR", "SANDBOX_PORT", "ENV_FILE"))}
    env.update(environment, ENV_FILE=str(env_file), DJANGO_SETTINGS_MODULE="settings.settings")
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip().splitlines()[-1]


def env_file_written_by_make_run(tmp_path: Path) -> Path:
    """The line `make run` writes into a .env that names no address (Makefile, SANDBOX_DEFAULT)."""
    makefile = (ROOT / "Makefile").read_text()
    assert "DIGITALEFACTUUR_SANDBOX=true" in makefile
    assert "export DIGITALEFACTUUR_BASE_URL" not in makefile
    path = tmp_path / ".env"
    path.write_text("DIGITALEFACTUUR_SANDBOX=true\n")
    return path


def test_a_second_shell_reads_the_sandbox_address_from_the_env_file(tmp_path):
    # given the .env that make run wrote
    env_file = env_file_written_by_make_run(tmp_path)
    # when manage.py starts in another shell, without anything from make in its environment
    url = base_url_in_a_new_shell(env_file)
    # then it talks to the sandbox, like the web and the worker
    assert url == "http://127.0.0.1:8001/api"


def test_the_sandbox_port_and_an_explicit_address_are_honoured(tmp_path):
    # given the .env of make run
    env_file = env_file_written_by_make_run(tmp_path)
    # when the sandbox runs on another port, or an address is set explicitly
    on_other_port = base_url_in_a_new_shell(env_file, SANDBOX_PORT="9101")
    explicit = base_url_in_a_new_shell(env_file,
                                       DIGITALEFACTUUR_BASE_URL="https://df.example/api")
    # then the port follows; an explicit address wins over the sandbox default
    assert on_other_port == "http://127.0.0.1:9101/api"
    assert explicit == "https://df.example/api"


def test_serve_production_never_takes_the_sandbox_default(tmp_path):
    """`make serve-production` sets DIGITALEFACTUUR_SANDBOX=false for its manage.py steps, and
    gives honcho settings/production.env after .env, so its processes get false as well."""
    # given a checkout where make run wrote its .env
    env_file = env_file_written_by_make_run(tmp_path)
    makefile = (ROOT / "Makefile").read_text()
    assert "PRODUCTION := env DIGITALEFACTUUR_SANDBOX=false" in makefile
    assert "-e .env,settings/production.env" in makefile
    # when honcho reads .env and then settings/production.env, as serve-production tells it
    process_env = honcho_parse(env_file.read_text() + "\n"
                               + (ROOT / "settings/production.env").read_text())
    url = base_url_in_a_new_shell(env_file, **process_env)
    # then the production processes talk to the real service
    assert process_env["DIGITALEFACTUUR_SANDBOX"] == "false"
    assert url == "https://administratie.digitalefactuur.nl/api"


@pytest.mark.django_db
def test_status_says_which_address_is_in_use_and_whether_it_is_the_sandbox(settings):
    # given the embedded default's address
    settings.DIGITALEFACTUUR_BASE_URL = settings.DIGITALEFACTUUR_SANDBOX_URL
    # when asking for the status
    out = io.StringIO()
    call_command("digitalefactuur", "status", stdout=out)
    # then the address and "de sandbox" are named
    assert f"DigitaleFactuur-adres: {settings.DIGITALEFACTUUR_SANDBOX_URL} (de sandbox)" \
        in out.getvalue()

    # when the real service is configured
    settings.DIGITALEFACTUUR_BASE_URL = settings.DIGITALEFACTUUR_PRODUCTION_URL
    out = io.StringIO()
    call_command("digitalefactuur", "status", stdout=out)
    # then status says so
    assert "(de echte DigitaleFactuur)" in out.getvalue()
