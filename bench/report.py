"""Rows of the benchmark, printed as one table per scenario and written as JSON.

A `Row` is one measured figure: ours, the baseline measured in the same run, their ratio, the
target and whether it holds. Targets are either a ratio to the baseline (`max_ratio`) or an
absolute ceiling on our figure (`max_value`); a row without either is information only.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass
class Row:
    metric: str
    ours: float | None
    unit: str = "s"
    baseline: float | None = None
    max_ratio: float | None = None
    max_value: float | None = None
    #: With max_ratio 1 too: exactly the baseline's figure (the same POSTs, no more, no fewer).
    min_ratio: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.baseline is None:
            return None
        if not self.baseline:
            return 1.0 if not self.ours else None
        return self.ours / self.baseline

    @property
    def target(self) -> str:
        if self.max_ratio is not None and self.min_ratio == self.max_ratio:
            return f"= {self.max_ratio:g}x"
        if self.max_ratio is not None:
            return f"<= {self.max_ratio:g}x"
        if self.max_value is not None:
            return f"<= {self.max_value:g} {self.unit}".strip()
        return ""

    @property
    def passed(self) -> bool | None:
        if self.ours is None:
            return None
        if self.max_ratio is not None:
            low = self.min_ratio if self.min_ratio is not None else float("-inf")
            return self.ratio is not None and low <= self.ratio <= self.max_ratio
        if self.max_value is not None:
            return self.ours <= self.max_value
        return None

    def as_json(self) -> dict:
        return {**asdict(self), "ratio": self.ratio, "target": self.target,
                "passed": self.passed}


def run_row(metric: str, measured: dict, baseline: float | None, **target) -> Row:
    """The time of one of our sync runs; no figure at all when the run did not succeed (a time
    of a run that stopped early would pass any target)."""
    if measured.get("status", "geslaagd") != "geslaagd":
        return Row(metric, None, "s", baseline, **target,
                   note=f"not measured: the run ended {measured['status']!r}: "
                        f"{measured.get('message', '')}")
    return Row(metric, measured["seconds"], "s", baseline, **target)


@dataclass
class ScenarioResult:
    number: int
    title: str
    rows: list[Row] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skipped: str = ""
    seconds: float = 0.0

    def as_json(self) -> dict:
        return {"number": self.number, "title": self.title,
                "rows": [row.as_json() for row in self.rows], "details": self.details,
                "notes": self.notes, "skipped": self.skipped,
                "wall_seconds": round(self.seconds, 1)}


def _figure(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"
    return f"{text} {unit}".strip()


def table(result: ScenarioResult) -> str:
    lines = [f"\n== {result.number}. {result.title}  ({result.seconds:.0f} s wall)"]
    if result.skipped:
        lines.append(f"   skipped: {result.skipped}")
    header = ("metric", "ours", "baseline", "ratio", "target", "")
    cells = [header]
    for row in result.rows:
        verdict = {True: "pass", False: "FAIL", None: ""}[row.passed]
        cells.append((row.metric, _figure(row.ours, row.unit), _figure(row.baseline, row.unit),
                      "-" if row.ratio is None else f"{row.ratio:.2f}x", row.target or "-",
                      verdict))
    if result.rows:
        widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
        for line in cells:
            lines.append("   " + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True))
                         .rstrip())
    for row in result.rows:
        if row.note:
            lines.append(f"   - {row.metric}: {row.note}")
    lines.extend(f"   * {note}" for note in result.notes)
    return "\n".join(lines)


def _git_commit(root: Path) -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def machine() -> dict:
    import psutil

    return {"cpus": os.cpu_count(), "cpu": _cpu_model(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version()}


def write_json(path: Path, results: list[ScenarioResult], options: dict, root: Path,
               wall_seconds: float) -> None:
    document = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "commit": _git_commit(root),
        "machine": machine(),
        "options": options,
        "wall_seconds": round(wall_seconds, 1),
        "scenarios": {str(r.number): r.as_json() for r in results},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
