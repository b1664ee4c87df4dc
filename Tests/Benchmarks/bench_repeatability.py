#!/usr/bin/env python3
"""How repeatable are the dma_bench figures, and does `harness compare` stay quiet on identical runs?

Runs the same targets --runs times on one clock (each arch's profile clock by default, or
`--clock realtime`), then for every dma_bench p50 (`alloc_p50_ns`, `free_p50_ns`) prints how far
the runs spread: the largest deviation from the median, in percent. Then compares run 1 with
every later run through `harness compare` at its default noise floor for that clock and counts
timing changes (false alarms: nothing changed but the run). Needs a release build and a warm
cache.

    Tests/Benchmarks/bench_repeatability.py --arch arm64 --runs 10
    Tests/Benchmarks/bench_repeatability.py --arch arm64 --runs 10 --clock realtime
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import harness_cli

KEYS = ("alloc_p50_ns", "free_p50_ns")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", nargs="+", default=["arm64"])
    parser.add_argument("--variant", nargs="+", default=["direct"])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--clock", choices=["default", "realtime"], default="default")
    parser.add_argument("--build", default=".build/release")
    parser.add_argument("--keep", help="keep the runs under this folder")
    args = parser.parse_args()
    harness = str(harness_cli.ROOT / args.build / "harness")
    clock = [] if args.clock == "default" else ["--clock", "realtime"]
    with tempfile.TemporaryDirectory(prefix="dh-repeat-") as scratch:
        folder = Path(args.keep) if args.keep else Path(scratch)
        reports, runs = [], []
        for index in range(args.runs):
            out = folder / f"run{index + 1}"
            runs.append(harness_cli.run(args.build, out, ["--arch", *args.arch, "--variant", *args.variant, *clock],
                                        script="bench_repeatability")[1])
            reports.append(out / "report.json")

        figures = {}  # (target, test, key) -> [value per run]
        clocks = {}
        for report in runs:
            for target in report["targets"]:
                clocks[target["id"]] = target.get("clock")
                for suite in target["suites"]:
                    for test in suite["tests"]:
                        if test["suite"] != "dma_bench":
                            continue
                        for key in KEYS:
                            value = test.get("observed", {}).get(key)
                            if value is not None:
                                figures.setdefault((target["id"], test["id"], key), []).append(float(value))

        print(f"{args.runs} runs, clock {args.clock}: " + ", ".join(f"{t} {c}" for t, c in sorted(clocks.items())))
        worst = 0.0
        identical = 0
        for (target, test, key), values in sorted(figures.items()):
            median = statistics.median(values)
            spread = max(abs(v - median) for v in values) / median * 100 if median else 0.0
            worst = max(worst, spread)
            identical += len(set(values)) == 1
            print(f"  {target:20} {test:44} {key:13} median {median:12.0f} ns  max deviation {spread:6.2f} %")
        print(f"{len(figures)} figures; {identical} identical in every run; largest deviation from the median {worst:.2f} %")

        alarms = 0
        for later in reports[1:]:
            result = subprocess.run([harness, "compare", str(reports[0]), str(later), "--format", "json"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if result.returncode not in (0, 1):
                sys.exit(f"bench_repeatability: compare exited {result.returncode}: {result.stderr.strip()[-300:]}")
            changes = json.loads(result.stdout)["changes"]
            alarms += sum(change["kind"] in ("timing_regression", "timing_improvement") for change in changes)
        print(f"harness compare, run 1 against runs 2-{args.runs} at the default noise floor: {alarms} timing change(s)")


if __name__ == "__main__":
    main()
