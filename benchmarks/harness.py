"""What the benchmark scripts share: a measurement in a fresh process of the script itself, and that process's own
peak memory.

A child's `ru_maxrss` (from `wait4`) is not its own peak on Linux: a forked child carries the parent's high-water
mark across `exec`, so a parent that has generated data or imported pandas inflates it. The child therefore reports
its own VmHWM (`/proc/self/status`) with its result, and `ru_maxrss` is only the fallback where there is no /proc.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def peak_mb() -> float | None:
    """This process's peak resident memory (VmHWM), in MB; None without /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def child_result(result: dict) -> None:
    """Print a child's result as its last line of output, with its own peak memory."""
    print(json.dumps({**result, "vmhwm_mb": peak_mb()}))


def measure(script: str, args: list[str], what: str) -> dict:
    """Run `script --child ...args` in a fresh process: its result (the last line it prints) and `peak_mb`."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, script, "--child", *args], stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        out.seek(0), err.seek(0)
        text, errors = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{what} failed:\n{(text + errors)[-2000:]}")
    # stdout alone: libraries may write to stderr at exit (DuckDB's nanobind leak report) after the result
    result = json.loads(text.strip().splitlines()[-1])
    fallback = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024) / 2**20
    return {**result, "peak_mb": result.pop("vmhwm_mb", None) or fallback}
