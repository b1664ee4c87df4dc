#!/usr/bin/env python3
"""Does a faster guest clock give the same answers as real time?

Runs the same targets with `--clock realtime` and then with the other clock: by default each
arch's profile clock (what `harness run` uses without --clock), or `--against icount` with
`--icount-shift N` for every arch. Compares every target's test ids and statuses, prints one
line per target (tests, differences, the other clock, guest seconds in each) and exits 1 if any
target differs, so a default clock is chosen on evidence. Needs a release build
(swift build -c release) and a warm cache.

    Tests/Benchmarks/clock_equivalence.py --arch all --variant all --debian bookworm trixie sid
"""
import argparse
import sys
import tempfile
from pathlib import Path

import harness_cli


def run(out: Path, clock: list, args) -> dict:
    selection = ["--arch", *args.arch, "--variant", *args.variant, "--debian", *args.debian, *clock]
    return harness_cli.run(args.build, out, selection, script="clock_equivalence")[1]


def clock_name(target) -> str:
    clock = (target or {}).get("clock") or {"mode": "realtime"}
    return clock["mode"] + ("" if clock.get("shift") is None else f" shift {clock['shift']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", nargs="+", default=["all"])
    parser.add_argument("--variant", nargs="+", default=["all"])
    parser.add_argument("--debian", nargs="+", default=["bookworm"])
    parser.add_argument("--against", choices=["default", "icount"], default="default")
    parser.add_argument("--icount-shift", default="0", help="with --against icount")
    parser.add_argument("--build", default=".build/release")
    parser.add_argument("--keep", help="keep both runs' output under this folder (realtime/, icount/)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dh-clock-") as scratch:
        folder = Path(args.keep) if args.keep else Path(scratch)
        real = run(folder / "realtime", ["--clock", "realtime"], args)
        other = [] if args.against == "default" else ["--clock", "icount", "--icount-shift", args.icount_shift]
        counted = run(folder / args.against, other, args)
    by_id = {target["id"]: target for target in counted["targets"]}
    differing = 0
    print(f"{'target':26} {'status':12} {'tests':>5} {'differ':>6} {'other clock':>14} {'realtime s':>10} {'other s':>8}")
    for target in real["targets"]:
        other = by_id.get(target["id"])
        if target["status"] == "unsupported" and not target["suites"]:
            print(f"{target['id']:26} {'unsupported':12}")
            continue
        a, b = harness_cli.test_statuses(target), harness_cli.test_statuses(other or {"suites": []})
        diff = sorted(key for key in a.keys() | b.keys() if a.get(key) != b.get(key))
        differing += bool(diff) or other is None or target["status"] != other["status"]
        seconds = lambda t: (t or {}).get("boot", {}) and t["boot"]["guestSeconds"]
        print(f"{target['id']:26} {target['status'] + ('' if other and other['status'] == target['status'] else '/' + (other or {}).get('status', 'missing')):12} "
              f"{len(a):5} {len(diff):6} {clock_name(other):>14} {seconds(target) or 0:10.1f} {seconds(other) or 0:8.1f}")
        for key in diff[:10]:
            print(f"    {key}: realtime {a.get(key)}, {clock_name(other)} {b.get(key)}")
    print(f"{differing} target(s) differ")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
