"""`python -m integration.demo.supervisor [Procfile]`: the processes of `make run`, kept apart.

honcho stops every process as soon as one ends, so a sandbox that stops (on purpose, to see the
connector report DigitaleFactuur unreachable) took the web server and the worker with it; and on
Ctrl-C the terminal's SIGINT and honcho's SIGTERM reached the worker together, which then had to
be killed, and make reported "Error 130". This supervisor:

- starts each Procfile line in a session of its own, so Ctrl-C reaches the supervisor only;
- prefixes every output line with the process's name, as honcho does;
- lets the others run when one ends, and says so;
- on Ctrl-C (SIGINT) or SIGTERM sends each process one SIGTERM, waits for them (at most
  `STOP_SECONDS`, normally far less) and exits 0, so make ends without an error. Only a process
  still alive after that is killed, with a line saying which.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

STOP_SECONDS = 10.0
LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")


def read_procfile(path: Path) -> list[tuple[str, str]]:
    entries = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and (match := LINE.match(line)):
            entries.append((match[1], match[2]))
    return entries


class Supervisor:
    def __init__(self, entries: list[tuple[str, str]], out=sys.stdout):
        self.entries = entries
        self.out = out
        self.width = max(len(name) for name, _command in entries)
        self.processes: dict[str, subprocess.Popen] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def say(self, name: str, text: str) -> None:
        with self.lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {name:<{self.width}} | {text}\n")
            self.out.flush()

    def start(self) -> None:
        for name, command in self.entries:
            # The Procfile's lines are shell commands by definition (${WEB_PORT:-8000}).
            process = subprocess.Popen(  # noqa: S603
                ["/bin/sh", "-c", f"exec {command}"], stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                text=True, errors="replace", bufsize=1)
            self.processes[name] = process
            self.say(name, f"gestart (pid {process.pid})")
            threading.Thread(target=self._relay, args=(name, process), daemon=True).start()

    def _relay(self, name: str, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.say(name, line.rstrip("\n"))
        code = process.wait()
        if not self.stopping.is_set():
            others = ", ".join(other for other, p in self.processes.items()
                               if p.poll() is None) or "-"
            self.say(name, f"gestopt (code {code}); de andere processen lopen door: {others}")

    def stop(self) -> None:
        self.stopping.set()
        for name, process in self.processes.items():
            if process.poll() is None:
                self.say(name, "stoppen (SIGTERM)")
                # The process itself, not its group: qcluster stops its own children in order,
                # and hangs when they are signalled behind its back.
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for name, process in self.processes.items():
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(name, f"stopte niet binnen {STOP_SECONDS:g} s: SIGKILL")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def run(self) -> int:
        requested = threading.Event()

        def on_signal(signum, frame) -> None:
            requested.set()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        self.start()
        while not requested.is_set():
            if all(process.poll() is not None for process in self.processes.values()):
                break
            requested.wait(0.5)
        self.stop()
        return 0


def main(argv: list[str]) -> int:
    procfile = Path(argv[1] if len(argv) > 1 else "Procfile")
    entries = read_procfile(procfile)
    if not entries:
        sys.stderr.write(f"{procfile}: geen processen gevonden\n")
        return 1
    return Supervisor(entries).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
