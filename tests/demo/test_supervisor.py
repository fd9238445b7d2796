"""`make run`'s processes under integration.demo.supervisor: the web and the worker keep running
when the sandbox stops, and Ctrl-C (SIGINT) ends them all, without SIGKILL, with exit status 0
(so make reports no error).

The real Procfile on free ports and a database of its own; only bounded waits, no timing.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie waiting for its parent counts as gone.
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


@pytest.mark.slow
def test_the_web_survives_the_sandbox_and_ctrl_c_stops_everything(tmp_path):
    # given make run's processes on free ports, with a migrated database of their own
    web_port, sandbox_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "REDIS_URL", "DIGITALEFACTUUR", "ENV_FILE"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3", REDIS_URL="", ENV_FILE="",
               DIGITALEFACTUUR_SANDBOX="true", WEB_PORT=str(web_port),
               SANDBOX_PORT=str(sandbox_port), Q_WORKERS="1")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                   env=env, check=True, timeout=180)
    # The state file must not be the checkout's var/dfsandbox.json of a running `make run`.
    procfile = tmp_path / "Procfile"
    procfile.write_text((ROOT / "Procfile").read_text().replace(
        "var/dfsandbox.json", str(tmp_path / "dfsandbox.json")))
    log = (tmp_path / "out.txt").open("w")
    supervisor = subprocess.Popen([sys.executable, "-m", "integration.demo.supervisor",
                                   str(procfile)], cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
    output = (tmp_path / "out.txt").read_text
    try:
        web = f"http://127.0.0.1:{web_port}/admin/login/"
        assert wait_until(lambda: answers(web), 60), output()
        assert wait_until(lambda: answers(f"http://127.0.0.1:{sandbox_port}/"), 30), output()
        assert wait_until(lambda: "running." in output(), 60), output()  # the worker
        pids = {name: int(pid) for name, pid in
                re.findall(r"(\w+)\s+\| gestart \(pid (\d+)\)", output())}

        # when the sandbox stops
        os.kill(pids["sandbox"], signal.SIGTERM)
        assert wait_until(lambda: "sandbox | gestopt" in output(), 30), output()

        # then the web still answers and the worker still runs
        assert answers(web)
        assert alive(pids["worker"]) and alive(pids["web"])

        # when Ctrl-C reaches the supervisor
        supervisor.send_signal(signal.SIGINT)

        # then everything ends, without SIGKILL, and the exit status is 0
        assert supervisor.wait(timeout=30) == 0
        assert "SIGKILL" not in output()
        assert not any(alive(pid) for pid in pids.values()), output()
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
        log.close()
