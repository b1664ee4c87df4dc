"""What the benchmark scripts share: the built harness run as a user runs it, and its report."""
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# README, "Exit codes": all clean (0), failed checks (1), de-facto findings only (4) are answers
# about the kernel; anything else is the harness failing, which no figure may hide.
RESULT_EXITS = (0, 1, 4)


def run(build: str, out: Path, args: list, env=None, script: str = "benchmark"):
    """`harness run ARGS --out OUT`: its wall seconds and report; exits the script on a harness error."""
    command = [str(ROOT / build / "harness"), "run", *args, "--out", str(out)]
    start = time.monotonic()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    seconds = time.monotonic() - start
    if result.returncode not in RESULT_EXITS:
        sys.exit(f"{script}: {' '.join(command)} exited {result.returncode}: {result.stderr.strip()[-400:]}")
    return seconds, json.loads((Path(out) / "report.json").read_text())


def test_statuses(target: dict) -> dict:
    """Test id -> status, for one target of a report."""
    return {test["id"]: test["status"] for suite in target["suites"] for test in suite["tests"]}
