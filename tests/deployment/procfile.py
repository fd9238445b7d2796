"""The processes of Procfile.production, as the tests start them."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def procfile_command(name: str, env: dict) -> str:
    """The Procfile.production line `name`, with its ${VAR:-default}s filled in from env."""
    for line in (ROOT / "Procfile.production").read_text().splitlines():
        if line.startswith(f"{name}:"):
            command = line.split(":", 1)[1].strip()
            return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m[1], m[2]), command)
    raise AssertionError(f"no {name} process in Procfile.production")
