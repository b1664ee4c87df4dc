#!/usr/bin/env python3
"""The speed figures of issue 10, each a ratio measured side by side in one run of this script.

- P1: warm `harness run --arch A` wall ÷ A's raw floor, per arch. The raw floor is plain TCG with
  the machine's default firmware: the same kernel, initramfs and command line, rebuilt from the
  domain.xml the harness wrote (boot_overhead.raw_qemu_command), without the harness's -icount or
  firmware choice.
- P2: `harness run --arch all --variant all` wall ÷ the sum of its booted targets' raw floors, run
  one after another. Also the share of core time the run kept busy (build and boot seconds over
  wall x cores).
- P4: a cold first `harness run --arch arm`: an empty cache (its own XDG_CACHE_HOME), so the
  libvirt capabilities, the Debian packages, the module, the helper and the initramfs are all made.
- P5: checks per second of guest wall time, over the targets of the P2 run.

Medians of --runs runs where a figure is repeated. Needs a release build (swift build -c release)
and the network for P4; the warm figures warm the default cache first.

    Tests/Benchmarks/speed.py --runs 3
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness_cli
from boot_overhead import raw_qemu_command

GOALS = {"P1": 0.6, "P2": 0.35, "P4": 45.0, "P5": 100.0}


def run_harness(build, out, *args, env=None):
    return harness_cli.run(build, out, list(args), env=env, script="speed")


def raw_floor(domain_xml: Path, target: dict):
    """Seconds of one raw-floor boot of a target (boot_overhead.raw_qemu_command), with the
    kernel image Debian ships."""
    command = raw_qemu_command(domain_xml, (target.get("kernel") or {}).get("image"))
    start = time.monotonic()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - start
    if result.returncode != 0:
        sys.exit(f"speed: raw QEMU failed for {domain_xml}: {result.stderr.strip()[-400:]}")
    return seconds


def phase_seconds(target):
    """(boot, suite) real seconds of a target from its report's boot.timeline: resume to the
    suite's start, and the suite's start to its end; zeros where a milestone was not seen."""
    timeline = target["boot"].get("timeline") or {}
    start, end = timeline.get("suiteStartSeconds"), timeline.get("suiteEndSeconds")
    if start is None or end is None:
        return 0.0, 0.0
    return start, end - start


def split(target):
    """Where a target's guest seconds went: boot, suite, and its slowest suite."""
    boot, suite = phase_seconds(target)
    arrivals = (target["boot"].get("timeline") or {}).get("suites") or []
    if not arrivals:
        return ""
    previous, slowest = boot, ("", 0.0)
    for arrival in arrivals:
        if arrival["seconds"] - previous > slowest[1]:
            slowest = (arrival["name"], arrival["seconds"] - previous)
        previous = arrival["seconds"]
    return f"boot {boot:5.2f} s  suite {suite:5.2f} s  slowest {slowest[0]} {slowest[1]:.2f} s"


def booted(report):
    return [t for t in report["targets"] if t.get("boot")]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", nargs="+", default=["arm", "arm64", "x86_64", "riscv64@trixie"],
                        help="arches for P1, each ARCH or ARCH@LINE for one without a kernel on the default line")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--build", default=".build/release")
    parser.add_argument("--skip-cold", action="store_true", help="leave out P4 (needs the network)")
    args = parser.parse_args()
    cores = os.cpu_count()
    lines = []

    with tempfile.TemporaryDirectory(prefix="dh-speed-") as scratch:
        scratch = Path(scratch)
        # P1, per arch, warm.
        lines.append(f"P1  warm single-arch run / raw floor (median of {args.runs}; goal <= {GOALS['P1']})")
        for spec in args.arch:
            arch, _, line = spec.partition("@")
            selection = ["--arch", arch] + (["--debian", line] if line else [])
            out = scratch / f"p1-{arch}"
            run_harness(args.build, out, *selection)  # warm the cache
            warm, floors = [], []
            for _ in range(args.runs):
                seconds, report = run_harness(args.build, out, *selection)
                warm.append(seconds)
                target = booted(report)[0]
                floors.append(raw_floor(out / target["id"] / "domain.xml", target))
            clock = target.get("clock", {})
            ratio = statistics.median(warm) / statistics.median(floors)
            lines.append(f"    {spec:15} harness {statistics.median(warm):6.2f} s  raw {statistics.median(floors):6.2f} s  "
                         f"ratio {ratio:5.2f}  clock {clock.get('mode', 'realtime')}{'' if clock.get('shift') is None else ' shift ' + str(clock['shift'])}")

        # P2 and P5: the whole default-line matrix.
        out = scratch / "p2"
        run_harness(args.build, out, "--arch", "all", "--variant", "all")
        wall, report = run_harness(args.build, out, "--arch", "all", "--variant", "all")
        targets = booted(report)
        floors = {t["id"]: raw_floor(out / t["id"] / "domain.xml", t) for t in targets}
        busy = sum(s["seconds"] for t in targets for s in t["stages"] if s["stage"] in ("build", "boot"))
        lines.append(f"P2  --arch all --variant all wall / sum of raw floors (goal <= {GOALS['P2']})")
        lines.append(f"    wall {wall:6.2f} s  raw floors {sum(floors.values()):6.2f} s over {len(targets)} targets  "
                     f"ratio {wall / sum(floors.values()):5.2f}  cores busy {busy / (wall * cores):4.0%} of {cores}")
        for t in targets:
            lines.append(f"      {t['id']:22} guest {t['boot']['guestSeconds']:6.2f} s  raw {floors[t['id']]:6.2f} s"
                         f"  {split(t)}")
        checks = sum(t["summary"]["total"] for t in targets)
        guest = sum(t["boot"]["guestSeconds"] for t in targets)
        lines.append(f"P5  checks per guest second (goal >= {GOALS['P5']:.0f})")
        lines.append(f"    {checks} checks in {guest:.2f} guest s: {checks / guest:6.1f} per s")
        phases = [phase_seconds(t) for t in targets]
        boot, suite = sum(p[0] for p in phases), sum(p[1] for p in phases)
        lines.append(f"    of the guest s: boot to the suite's start {boot:.2f} s, the suite {suite:.2f} s,"
                     f" power-off {guest - boot - suite:.2f} s (each target's boot.timeline)")

        # P4: cold, its own empty cache.
        if not args.skip_cold:
            env = dict(os.environ, XDG_CACHE_HOME=str(scratch / "cold-cache"))
            seconds, report = run_harness(args.build, scratch / "p4", "--arch", "arm", env=env)
            stages = {}
            for t in report["targets"]:
                for s in t["stages"]:
                    stages[s["stage"]] = max(stages.get(s["stage"], 0), s["seconds"])
            lines.append(f"P4  cold first --arch arm, empty cache (goal <= {GOALS['P4']:.0f} s)")
            lines.append(f"    {seconds:6.2f} s  (longest stage of any target: "
                         + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()) + ")")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
